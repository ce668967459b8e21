//! The 三社联动 report as a web page (`/reports/three-society`, the bureau, finance and administrators):
//! the same sections, tables and charts as the PDF, from the same figures (`reports::three_society`) and
//! the same sentences (`reports::prose`); the bureau writes sections 4 and 5 here; the generate button
//! fetches the PDF from the API with progress shown, then offers it as a download.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::error::{AppError, FieldError};
use crate::http::caller::{BureauOnly, Page, ReportReaders};
use crate::http::page::{
    FormErrors, PageCtx, PageError, SafeForm, bar_class, page_err, redirect, render,
};
use crate::people::counts::Line;
use crate::reports::prose;
use crate::reports::texts::{self, Texts};
use crate::reports::three_society::{Purchased, ReportFilter, Tally, ThreeSociety};

/// Protected pages of this module: (method, example path, roles allowed).
pub const PROTECTED: &[(&str, &str, &[Role])] = &[(
    "GET",
    "/reports/three-society",
    &[Role::Bureau, Role::Finance, Role::Admin],
)];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports/three-society", web::get().to(report_page))
        .route("/reports/three-society/texts", web::post().to(texts_submit));
}

/// The period as a form sends it: every field a string, empty when not given.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    quarter: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    street: String,
}

impl PeriodQuery {
    /// The filter, or the field errors of what is not a number.
    fn filter(&self) -> Result<ReportFilter, AppError> {
        let mut errs = Vec::new();
        let mut num = |field: &str, v: &str| -> Option<i64> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            v.parse().ok().or_else(|| {
                errs.push(FieldError::new(
                    field,
                    "integer",
                    "须为整数。",
                    "Must be a whole number.",
                ));
                None
            })
        };
        let year = num("year", &self.year);
        let quarter = num("quarter", &self.quarter);
        let street = num("street", &self.street);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        Ok(ReportFilter {
            year: year.map(|y| y.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
            quarter: quarter.map(|q| q.clamp(0, u32::MAX as i64) as u32),
            from: text(&self.from),
            to: text(&self.to),
            street,
        })
    }

    /// No period given (the page opened from the menu): this year's report, said in the form, the PDF
    /// link and the texts form.
    fn or_year(self, year: i32) -> PeriodQuery {
        if [&self.year, &self.quarter, &self.from, &self.to]
            .iter()
            .all(|v| v.trim().is_empty())
        {
            PeriodQuery {
                year: year.to_string(),
                ..self
            }
        } else {
            self
        }
    }

    /// The filters as a query string (for the PDF link and the redirect after saving).
    fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("year", &self.year),
            ("quarter", &self.quarter),
            ("from", &self.from),
            ("to", &self.to),
            ("street", &self.street),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }
}

struct Opt {
    code: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/reports/three_society.html")]
struct ReportPage {
    ctx: PageCtx,
    q: PeriodQuery,
    streets: Vec<Opt>,
    /// The report, unless the period was refused.
    r: Option<ThreeSociety>,
    /// Why the period was refused.
    error: Option<String>,
    /// The texts in the bureau's form (what was sent, after a refusal).
    texts: Texts,
    errors: FormErrors,
    can_write: bool,
    /// The API path of the PDF for these filters.
    pdf: String,
}

impl ReportPage {
    fn yuan(&self, fen: &i64) -> String {
        crate::reports::yuan(*fen)
    }
    fn tally_bar(&self, all: &[Tally], n: &i64) -> String {
        bar_class(*n, all.iter().map(|t| t.count).max().unwrap_or(0))
    }
    fn funds_bar(&self, all: &[Purchased], n: &i64) -> String {
        bar_class(*n, all.iter().map(|p| p.funds_fen).max().unwrap_or(0))
    }
    fn visits_bar(&self, all: &[Line], n: &i64) -> String {
        bar_class(*n, all.iter().map(|l| l.count.visits).max().unwrap_or(0))
    }
    fn title(&self, r: &ThreeSociety) -> String {
        prose::title(r)
    }
    fn overview(&self, r: &ThreeSociety) -> String {
        prose::overview(r)
    }
    fn purchased(&self, r: &ThreeSociety) -> String {
        prose::purchased(r)
    }
    fn funds(&self, r: &ThreeSociety) -> String {
        prose::funds(r)
    }
    fn people(&self, r: &ThreeSociety) -> String {
        prose::people(r)
    }
    fn satisfaction(&self, r: &ThreeSociety) -> String {
        prose::satisfaction(r)
    }
    fn written<'a>(&self, text: &'a str) -> &'a str {
        prose::written(text)
    }
    fn is_quarter(&self, n: &str) -> bool {
        self.q.quarter.trim() == n
    }
    /// The hidden fields of the texts form: the period shown.
    fn hidden(&self) -> Vec<(&'static str, &str)> {
        [
            ("year", self.q.year.as_str()),
            ("quarter", self.q.quarter.as_str()),
            ("from", self.q.from.as_str()),
            ("to", self.q.to.as_str()),
            ("street", self.q.street.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
    }
    /// Tables 7–9: (caption, key column, element id, lines).
    fn people_tables<'a>(
        &self,
        r: &'a ThreeSociety,
    ) -> [(&'static str, &'static str, &'static str, &'a [Line]); 3] {
        [
            (
                "表7 服务人次与人数按领域",
                "服务领域",
                "t-people-field",
                &r.people_by_field,
            ),
            (
                "表8 服务人次与人数按街道",
                "街道",
                "t-people-street",
                &r.people_by_street,
            ),
            (
                "表9 服务人次与人数按月份",
                "月份",
                "t-people-month",
                &r.people_by_month,
            ),
        ]
    }
    fn month(&self, label: &str) -> String {
        label.get(5..).unwrap_or(label).to_string() + "月"
    }
}

fn first_message(ctx: &PageCtx, e: &AppError) -> Option<String> {
    match e {
        AppError::Validation(errs) => errs.first().map(|e| {
            let field = match e.field.as_str() {
                "quarter" => "reports.quarter",
                "from" => "reports.from",
                "to" => "reports.to",
                "street" => "reports.street",
                _ => "reports.year",
            };
            let colon = ctx.lang.pick("：", ": ");
            format!(
                "{}{colon}{}",
                ctx.t(field),
                ctx.lang.pick(&e.message.zh, &e.message.en)
            )
        }),
        _ => None,
    }
}

/// Gather the report for `q` and render the page; `sent` is the bureau's refused form, shown again.
async fn show(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    q: PeriodQuery,
    sent: Option<(Texts, FormErrors)>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let this_year = state
        .clock
        .now()
        .with_timezone(&crate::clock::shanghai())
        .year();
    let can_write = ctx.user.as_ref().is_some_and(|u| u.role == Role::Bureau);
    let q = q.or_year(this_year);
    let filter = q.filter();
    let (people, ledger) = (
        crate::people::Ctx::from_config(&state.config),
        state.config.ledger.clone(),
    );
    let (streets, report) = state
        .run(move |c| {
            let streets = crate::registry::areas::list_streets(c)?;
            let report =
                filter.and_then(|f| crate::reports::three_society::gather(c, &people, &ledger, &f));
            Ok((streets, report))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let (r, error) = match report {
        Ok(r) => (Some(r), None),
        Err(e @ AppError::Validation(_)) => (None, first_message(&ctx, &e)),
        Err(e) => return Err(PageError::App(e, ctx.lang)),
    };
    let (texts, errors) = match sent {
        Some(s) => s,
        None => (
            r.as_ref()
                .map(|r| Texts {
                    problems: r.problems.clone(),
                    next_steps: r.next_steps.clone(),
                })
                .unwrap_or_default(),
            FormErrors::default(),
        ),
    };
    let p = ReportPage {
        streets: streets
            .into_iter()
            .map(|s| Opt {
                code: s.id.to_string(),
                label: s.name,
            })
            .collect(),
        pdf: format!("/api/v1/reports/three-society/pdf?{}", q.query()),
        q,
        r,
        error,
        texts,
        errors,
        can_write,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, status, &p))
}

async fn report_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<ReportReaders>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    show(&state, ctx, q.into_inner(), None, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextsForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    quarter: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    problems: String,
    #[serde(default)]
    next_steps: String,
}

/// The bureau saves sections 4 and 5 of a period's report, then sees the report again (a redirect, so a
/// reload does not send the form twice).
async fn texts_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOnly>,
    form: SafeForm<TextsForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let f = form.0;
    let q = PeriodQuery {
        year: f.year,
        quarter: f.quarter,
        from: f.from,
        to: f.to,
        street: f.street,
    };
    let t = Texts {
        problems: f.problems,
        next_steps: f.next_steps,
    };
    let (actor, now) = (crate::http::actor(&req, &page.user), state.clock.now());
    // A form without a period saves nothing (the page always sends the one it shows).
    let key = q
        .filter()
        .and_then(|filter| Ok(texts::key(&filter.period()?, filter.street)));
    let t2 = t.clone();
    let result = match key {
        Ok(key) => {
            state
                .run(move |c| texts::save(c, &actor, now, &key, &t2))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(redirect(
            &format!("/reports/three-society?{}#texts", q.query()),
            Some(("ok", ctx.t("reports.texts_saved"))),
        )),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            show(
                &state,
                ctx,
                q,
                Some((t, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}
