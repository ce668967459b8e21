//! The e-mails Sanshe sends. Each is a struct whose fields the three files of its template read.

use askama::Template;

use super::{Email, Rendered};

macro_rules! email {
    ($ty:ident, $name:literal, $subject:literal, $text:literal, $html:literal) => {
        impl Email for $ty {
            const NAME: &'static str = $name;
            fn render(&self) -> Result<Rendered, askama::Error> {
                #[derive(Template)]
                #[template(path = $subject)]
                struct Subject<'a> {
                    m: &'a $ty,
                }
                #[derive(Template)]
                #[template(path = $text)]
                struct Text<'a> {
                    m: &'a $ty,
                }
                #[derive(Template)]
                #[template(path = $html)]
                struct Html<'a> {
                    m: &'a $ty,
                }
                Ok(Rendered {
                    subject: Subject { m: self }.render()?.trim().to_string(),
                    text: Text { m: self }.render()?,
                    html: Html { m: self }.render()?,
                })
            }
        }
    };
}

/// To a new user: their username and role, and where to sign in (never the password).
pub struct Welcome {
    pub display_name: String,
    pub username: String,
    pub role_zh: String,
    pub role_en: String,
    pub login_url: String,
}
email!(
    Welcome,
    "welcome",
    "email/welcome/subject.txt",
    "email/welcome/body.txt",
    "email/welcome/body.html"
);

pub struct PasswordChanged {
    pub display_name: String,
    pub username: String,
    pub by_admin: bool,
}
email!(
    PasswordChanged,
    "password_changed",
    "email/password_changed/subject.txt",
    "email/password_changed/body.txt",
    "email/password_changed/body.html"
);

pub struct AccountDeactivated {
    pub display_name: String,
    pub username: String,
}
email!(
    AccountDeactivated,
    "account_deactivated",
    "email/account_deactivated/subject.txt",
    "email/account_deactivated/body.txt",
    "email/account_deactivated/body.html"
);
