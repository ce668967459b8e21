//! User accounts: creation, changes, password changes and deactivation, each audited in its transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::{Role, password};
use crate::db::schema::users;
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Checks};
use crate::mail;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub org_id: Option<i64>,
    pub password_hash: String,
    pub active: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A user as shown through the API (never the hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub org_id: Option<i64>,
    pub active: bool,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role.clone(),
            org_id: u.org_id,
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl UserView {
    fn audit_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// admin, bureau, evaluator, finance or org
    pub role: String,
    /// Required for role `org`, forbidden otherwise.
    #[serde(default)]
    pub org_id: Option<i64>,
    pub password: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    /// Empty string clears the address.
    pub email: Option<String>,
    pub role: Option<String>,
    pub org_id: Option<i64>,
    /// false deactivates the account and ends its live sessions.
    pub active: Option<bool>,
    /// A new password set by an administrator; ends live sessions.
    pub password: Option<String>,
}

fn valid_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn check_email(checks: &mut Checks, field: &str, email: &str) {
    if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
        checks.add(
            field,
            "email",
            "电子邮箱格式不正确。",
            "Not a valid e-mail address.",
        );
    }
}

fn check_role_org(checks: &mut Checks, role: &str, org_id: Option<i64>) -> Option<Role> {
    let Some(r) = Role::parse(role) else {
        checks.add(
            "role",
            "one_of",
            "角色须为 admin、bureau、evaluator、finance 或 org。",
            "Role must be admin, bureau, evaluator, finance or org.",
        );
        return None;
    };
    match (r, org_id) {
        (Role::Org, None) => checks.add(
            "org_id",
            "required",
            "组织用户须绑定一个组织。",
            "An org user must belong to one organisation.",
        ),
        (Role::Org, Some(id)) if id <= 0 => checks.add(
            "org_id",
            "positive",
            "组织编号须为正整数。",
            "The organisation id must be a positive integer.",
        ),
        (r, Some(_)) if r != Role::Org => checks.add(
            "org_id",
            "forbidden",
            "只有组织用户可绑定组织。",
            "Only org users belong to an organisation.",
        ),
        _ => {}
    }
    Some(r)
}

/// An `org` user must belong to an organisation that exists (`users.org_id` has no foreign key: SQLite cannot
/// add one to the existing table without rebuilding it).
fn check_org_exists(
    conn: &mut DbConn,
    checks: &mut Checks,
    org_id: Option<i64>,
) -> Result<(), AppError> {
    use crate::db::schema::organisations;
    if let Some(id) = org_id.filter(|id| *id > 0) {
        let found: Option<i64> = organisations::table
            .find(id)
            .select(organisations::id)
            .first(conn)
            .optional()?;
        if found.is_none() {
            checks.add(
                "org_id",
                "exists",
                "该组织不存在。",
                "No organisation has this id.",
            );
        }
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<UserRow, AppError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)?)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Validate and create a user; writes the audit event and, when an address is given, a welcome e-mail.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    mailer: &mail::Settings,
    new: &NewUser,
) -> Result<UserRow, AppError> {
    let mut checks = Checks::new();
    let username = new.username.trim();
    if checks.required("username", username) && !valid_username(username) {
        checks.add(
            "username",
            "format",
            "用户名为 3–64 个字母、数字、下划线、连字符或点，以字母或数字开头。",
            "A username has 3–64 letters, digits, _ - or ., starting with a letter or digit.",
        );
    }
    checks.required("display_name", &new.display_name);
    let email = new.email.as_deref().map(str::trim).unwrap_or("");
    check_email(&mut checks, "email", email);
    let role = check_role_org(&mut checks, &new.role, new.org_id);
    if role == Some(Role::Org) {
        check_org_exists(conn, &mut checks, new.org_id)?;
    }
    if let Err(m) = password::check_policy(&new.password) {
        checks.add("password", "min_length", m.zh, m.en);
    }
    let existing = if username.is_empty() {
        None
    } else {
        find_by_username(conn, username)?
    };
    if existing.is_some() {
        checks.add(
            "username",
            "unique",
            "用户名已被使用。",
            "This username is taken.",
        );
    }
    checks.finish()?;
    let role = role.expect("checked");
    let hash = password::hash(&new.password).map_err(AppError::internal)?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::display_name.eq(new.display_name.trim()),
                users::email.eq(Some(email).filter(|e| !e.is_empty())),
                users::role.eq(role.as_str()),
                users::org_id.eq(new.org_id),
                users::password_hash.eq(&hash),
                users::active.eq(true),
                users::token_version.eq(0i64),
                users::created_at.eq(ts),
                users::updated_at.eq(ts),
            ))
            .returning(users::id)
            .get_result(conn)?;
        let row = find(conn, id)?;
        let view = UserView::from(&row);
        audit::record(
            conn,
            actor,
            now,
            "user.create",
            "user",
            Some(id.to_string()),
            None,
            Some(view.audit_json()),
        )?;
        if let Some(to) = &row.email {
            let m = mail::templates::Welcome {
                display_name: row.display_name.clone(),
                username: row.username.clone(),
                role_zh: role.label_zh().into(),
                role_en: role.label_en().into(),
                login_url: format!("{}/login", mailer.public_url),
            };
            mail::enqueue(conn, now, to, &m)?;
        }
        Ok(row)
    })
}

/// What an administrator edits of a user: the state its version (`crate::version`) is taken of.
fn editable(r: &UserRow) -> serde_json::Value {
    serde_json::json!({
        "display_name": r.display_name,
        "email": r.email,
        "role": r.role,
        "org_id": r.org_id,
        "active": r.active,
    })
}

/// A user's version (`crate::version`).
pub fn version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(crate::version::of(&editable(&find(conn, id)?)))
}

/// Apply an administrator's change. Deactivation, a role change and a password reset end live sessions.
/// The user is read under the row lock in the write transaction; `expect` refuses the change with 412 when
/// the user changed since that version was read.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    upd: &UserUpdate,
    expect: Option<&str>,
) -> Result<UserRow, AppError> {
    let policy = upd.password.as_deref().map(password::check_policy);
    // Hashing is slow: done before the write lock is taken (and only for a password the policy accepts).
    let new_hash = match (&policy, upd.password.as_deref()) {
        (Some(Ok(())), Some(p)) => Some(password::hash(p).map_err(AppError::internal)?),
        _ => None,
    };
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "users", id)?;
        let before = find(conn, id)?;
        crate::version::check(expect, &editable(&before))?;
        let mut checks = Checks::new();
        if let Some(n) = &upd.display_name {
            checks.required("display_name", n);
        }
        if let Some(e) = &upd.email {
            check_email(&mut checks, "email", e.trim());
        }
        let role_s = upd.role.clone().unwrap_or_else(|| before.role.clone());
        let org_id = if upd.role.is_some() || upd.org_id.is_some() {
            upd.org_id.or(before.org_id)
        } else {
            before.org_id
        };
        let org_id = if role_s == Role::Org.as_str() {
            org_id
        } else if upd.org_id.is_some() {
            upd.org_id
        } else {
            None
        };
        if check_role_org(&mut checks, &role_s, org_id) == Some(Role::Org)
            && org_id != before.org_id
        {
            check_org_exists(conn, &mut checks, org_id)?;
        }
        if let Some(Err(m)) = &policy {
            checks.add("password", "min_length", m.zh.clone(), m.en.clone());
        }
        if actor.id == Some(id)
            && (upd.active == Some(false) || upd.role.as_deref().is_some_and(|r| r != before.role))
        {
            checks.add(
                "active",
                "self",
                "不能停用自己的账户或更改自己的角色。",
                "You cannot deactivate your own account or change your own role.",
            );
        }
        checks.finish()?;
        let active = upd.active.unwrap_or(before.active);
        let revoke = !active && before.active || role_s != before.role || new_hash.is_some();
        diesel::update(users::table.find(id))
            .set((
                users::display_name.eq(upd
                    .display_name
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or(&before.display_name)),
                users::email.eq(match &upd.email {
                    Some(e) if e.trim().is_empty() => None,
                    Some(e) => Some(e.trim().to_string()),
                    None => before.email.clone(),
                }),
                users::role.eq(&role_s),
                users::org_id.eq(org_id),
                users::active.eq(active),
                users::password_hash.eq(new_hash.as_deref().unwrap_or(&before.password_hash)),
                users::token_version.eq(before.token_version + i64::from(revoke)),
                users::updated_at.eq(ts),
            ))
            .execute(conn)?;
        let after = find(conn, id)?;
        let mut after_json = UserView::from(&after).audit_json();
        if new_hash.is_some() {
            after_json["password"] = "reset".into();
        }
        let action = if before.active && !after.active {
            "user.deactivate"
        } else if !before.active && after.active {
            "user.activate"
        } else {
            "user.update"
        };
        audit::record(
            conn,
            actor,
            now,
            action,
            "user",
            Some(id.to_string()),
            Some(UserView::from(&before).audit_json()),
            Some(after_json),
        )?;
        if let Some(to) = &after.email {
            if before.active && !after.active {
                let m = mail::templates::AccountDeactivated {
                    display_name: after.display_name.clone(),
                    username: after.username.clone(),
                };
                mail::enqueue(conn, now, to, &m)?;
            } else if new_hash.is_some() {
                let m = mail::templates::PasswordChanged {
                    display_name: after.display_name.clone(),
                    username: after.username.clone(),
                    by_admin: true,
                };
                mail::enqueue(conn, now, to, &m)?;
            }
        }
        Ok(after)
    })
}

/// The rules of changing one's own password, given whether the current password was right (verified by the
/// caller off any database connection, `auth::password::Hasher`).
pub fn check_own_password_change(
    current_ok: bool,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let mut checks = Checks::new();
    if !current_ok {
        checks.add(
            "current_password",
            "matches",
            "当前密码不正确。",
            "The current password is wrong.",
        );
    }
    if let Err(m) = password::check_policy(new) {
        checks.add("new_password", "min_length", m.zh, m.en);
    } else if current == new {
        checks.add(
            "new_password",
            "different",
            "新密码须与当前密码不同。",
            "The new password must differ from the current one.",
        );
    }
    checks.finish()
}

/// A user changes their own password to `hash` (made by the caller, after [`check_own_password_change`]);
/// every other session ends (token version bump). `verified_hash` is the hash the current password was
/// checked against: if it changed meanwhile (another change won the race), nothing is written and the
/// answer is a 409 asking to retry.
pub fn set_own_password(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    verified_hash: &str,
    hash: &str,
) -> Result<UserRow, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let before = find(conn, id)?;
        if before.password_hash != verified_hash {
            return Err(AppError::conflict(
                "retry",
                "密码刚被修改，请重试。",
                "The password was changed just now; please try again.",
            ));
        }
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::token_version.eq(before.token_version + 1),
                users::updated_at.eq(ts),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "user.password_change",
            "user",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({"password": "changed"})),
        )?;
        if let Some(to) = &before.email {
            let m = mail::templates::PasswordChanged {
                display_name: before.display_name.clone(),
                username: before.username.clone(),
                by_admin: false,
            };
            mail::enqueue(conn, now, to, &m)?;
        }
        find(conn, id)
    })
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// Part of the username or name.
    pub q: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

pub fn list(conn: &mut DbConn, f: &UserFilter) -> Result<crate::db::Paged<UserRow>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let build = || {
        let mut q = users::table.into_boxed();
        if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pat = crate::db::like_pattern(s);
            q = q.filter(
                crate::db::lower(users::username)
                    .like(pat.clone())
                    .escape('\\')
                    .or(crate::db::lower(users::display_name).like(pat).escape('\\')),
            );
        }
        if let Some(r) = f.role.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(users::role.eq(r.to_string()));
        }
        if let Some(a) = f.active {
            q = q.filter(users::active.eq(a));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(users::username.asc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(paging.of(rows, total))
}

/// Counts of active users per role, for dashboards.
pub fn count_by_role(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    users::table
        .filter(users::active.eq(true))
        .group_by(users::role)
        .select((users::role, diesel::dsl::count_star()))
        .order(users::role.asc())
        .load(conn)
}

pub fn any_exist(conn: &mut DbConn) -> QueryResult<bool> {
    users::table
        .select(users::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}
