//! Tender pages: the public notices with their timeline, enquiries, result notice and commitments; the
//! bureau's tender form and the action panels of a tender (publish, cancel, answer, panel, award, result,
//! challenges, contract); an organisation's sealed bid with its receipt, its enquiries, withdrawal and
//! challenges; an evaluator's declaration and scoring sheet; and the evaluation report.
//!
//! Sealing holds here as in the service: before the opening no page shows a bid's content, count or bidder,
//! except an organisation's own bid to that organisation.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::DbConn;
use crate::domain::tender::{
    BUDGET_LINES, Category, Criteria, Criterion, Eligibility, Instalment, Method, State, Targets,
};
use crate::error::{AppError, FieldError, Msg};
use crate::http::caller::{
    AnyRole, BureauOrAdmin, CurrentUser, EvaluatorOnly, OrgOnly, Page, Role, RoleSet,
};
use crate::http::page::{PageCtx, PageError, Pager, page_err, redirect, render};
use crate::i18n::Lang;
use crate::tenders::bids::{self, BidInput, OwnBid, Receipt};
use crate::tenders::evaluation::{self, ChallengeView, EvaluationReport, MemberView, ScoringSheet};
use crate::tenders::{self, EnquiryView, TenderInput, TenderRow, TenderSummary, TenderView};

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them with
/// `/tenders/1` an opened tender. (The report is also open to the evaluators of the tender's panel once the
/// evaluation is locked — any other evaluator gets the 403 page; the edit and scoring pages need a draft
/// and a seated evaluator, so they are tested with the tenders.)
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/tenders/new", &[Role::Bureau, Role::Admin]),
    ("GET", "/tenders/1/bid", &[Role::Org]),
    ("GET", "/tenders/1/report", &[Role::Bureau, Role::Admin]),
    ("GET", "/my/bids", &[Role::Org]),
    ("GET", "/evaluations", &[Role::Evaluator]),
    ("GET", "/evaluators", &[Role::Bureau, Role::Admin]),
];

/// Who may open an evaluation report: the bureau and administrators; evaluators of its panel once locked.
#[derive(Debug)]
pub struct ReportReaders;
impl RoleSet for ReportReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Admin, Role::Evaluator];
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tenders", web::get().to(list_page))
        .route("/tenders/new", web::get().to(new_page))
        .route("/tenders/new", web::post().to(new_submit))
        .route("/tenders/{id}", web::get().to(detail_page))
        .route("/tenders/{id}/edit", web::get().to(edit_page))
        .route("/tenders/{id}/edit", web::post().to(edit_submit))
        .route("/tenders/{id}/commitments", web::get().to(commitments_page))
        .route("/tenders/{id}/publish", web::post().to(publish_submit))
        .route("/tenders/{id}/cancel", web::post().to(cancel_submit))
        .route(
            "/tenders/{id}/contracted",
            web::post().to(contracted_submit),
        )
        .route("/tenders/{id}/enquiries", web::post().to(ask_submit))
        .route(
            "/tenders/{id}/enquiries/{eid}/answer",
            web::post().to(answer_submit),
        )
        .route("/tenders/{id}/panel", web::post().to(panel_submit))
        .route("/tenders/{id}/confirm", web::post().to(confirm_submit))
        .route(
            "/tenders/{id}/publish-result",
            web::post().to(publish_result_submit),
        )
        .route(
            "/tenders/{id}/disqualify",
            web::post().to(disqualify_submit),
        )
        .route("/tenders/{id}/withdraw", web::post().to(withdraw_submit))
        .route("/tenders/{id}/challenges", web::post().to(challenge_submit))
        .route(
            "/tenders/{id}/challenges/{cid}/answer",
            web::post().to(challenge_answer_submit),
        )
        .route("/tenders/{id}/bid", web::get().to(bid_page))
        .route("/tenders/{id}/bid", web::post().to(bid_submit))
        .route(
            "/tenders/{id}/bids/{seq}/attachments/{n}",
            web::get().to(attachment_download),
        )
        .route("/tenders/{id}/score", web::get().to(score_page))
        .route("/tenders/{id}/score", web::post().to(score_submit))
        .route("/tenders/{id}/declare", web::post().to(declare_submit))
        .route("/tenders/{id}/report", web::get().to(report_page))
        .route("/my/bids", web::get().to(my_bids_page))
        .route("/evaluations", web::get().to(evaluations_page))
        .route("/evaluators", web::get().to(evaluators_page))
        .route("/evaluators/links", web::post().to(evaluator_link_submit));
}

fn pick_msg(lang: Lang, m: &Msg) -> String {
    lang.pick(&m.zh, &m.en).to_string()
}

fn messages(lang: Lang, errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| pick_msg(lang, &e.message)).collect()
}

/// States between the opening and the final award (bids may be withdrawn with a reason, or disqualified).
fn after_opening(s: State) -> bool {
    matches!(
        s,
        State::Opened
            | State::Evaluating
            | State::Evaluated
            | State::AwardProposed
            | State::Publicity
            | State::Challenge
    )
}

// ---------------------------------------------------------------------------------------------------------
// Forms with repeated fields

/// Largest form body of these pages: a bid carries up to five attachments of 128 KiB as base64.
const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A urlencoded form read as its (name, value) pairs, so repeated names (checkboxes, multi-selects,
/// attachments) keep every value; its `csrf` field is checked against the cookie as `SafeForm` does.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn ids(&self, k: &str) -> Vec<i64> {
        self.all(k)
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    }
    /// First value of each field, except the token (and the attachments' bodies), to show a form again.
    fn values(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in &self.0 {
            if k != "csrf" && k != "attachment_b64" {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        m
    }
}

impl FromRequest for FormFields {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let lang = Lang::from_request(&req);
            let bad = |zh: String, en: String| {
                PageError::App(AppError::bad_request("invalid_form", zh, en), lang)
            };
            if !req
                .content_type()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            {
                return Err(bad(
                    "表单须为 application/x-www-form-urlencoded 编码。".into(),
                    "The form must be application/x-www-form-urlencoded.".into(),
                ));
            }
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    bad(
                        format!("表单无法读取：{e}"),
                        format!("The form could not be read: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > FORM_BODY_LIMIT {
                    return Err(PageError::App(
                        AppError::BadRequest {
                            code: "payload_too_large",
                            msg: Msg::new(
                                "提交的内容过大（上限 2 MiB）。",
                                "The form is too large (limit 2 MiB).",
                            ),
                            status: StatusCode::PAYLOAD_TOO_LARGE,
                        },
                        lang,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            let token = pairs
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            crate::http::csrf::check(&req, token).map_err(|e| PageError::App(e, lang))?;
            Ok(FormFields(pairs))
        })
    }
}

/// Field errors of a form in the page's language, every message of a field (a budget can break several
/// rules at once).
#[derive(Clone, Debug, Default)]
struct Errs(HashMap<String, String>);

impl Errs {
    fn new(lang: Lang, errs: &[FieldError]) -> Errs {
        let mut m: HashMap<String, String> = HashMap::new();
        for e in errs {
            let text = pick_msg(lang, &e.message);
            m.entry(e.field.clone())
                .and_modify(|v| {
                    if !v.contains(&text) {
                        v.push(' ');
                        v.push_str(&text);
                    }
                })
                .or_insert(text);
        }
        Errs(m)
    }
    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------------------
// Labels for templates

/// Helpers the templates call.
#[derive(Clone, Debug)]
pub struct Lx {
    pub lang: Lang,
}

impl Lx {
    fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }
    pub fn state(&self, s: &str) -> &'static str {
        State::parse(s).map(|s| s.label(self.zh())).unwrap_or("?")
    }
    pub fn state_class(&self, s: &str) -> &'static str {
        match s {
            "published" => "ok",
            "awarded" | "contracted" => "ok",
            "cancelled" | "failed" => "bad",
            "draft" => "muted",
            _ => "",
        }
    }
    pub fn method(&self, m: &str) -> &'static str {
        Method::parse(m).map(|m| m.label(self.zh())).unwrap_or("?")
    }
    pub fn field(&self, f: &str) -> String {
        crate::registry::orgs::label(crate::registry::orgs::FIELDS, f, self.zh())
    }
    pub fn money(&self, fen: &i64) -> String {
        crate::money::yuan_grouped(*fen)
    }
    pub fn time(&self, t: &NaiveDateTime) -> String {
        crate::clock::display(*t)
    }
    pub fn otime(&self, t: &Option<NaiveDateTime>) -> String {
        t.map(crate::clock::display)
            .unwrap_or_else(|| "—".to_string())
    }
    pub fn odate(&self, d: &Option<NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_else(|| "—".to_string())
    }
    pub fn opt(&self, s: &Option<String>) -> String {
        s.clone().unwrap_or_default()
    }
    pub fn dec(&self, d: &Decimal) -> String {
        d.normalize().to_string()
    }
    pub fn category(&self, c: &Category) -> &'static str {
        self.lang.t(match c {
            Category::Technical => "tenders.cat_technical",
            Category::Commercial => "tenders.cat_commercial",
        })
    }
    pub fn level(&self, l: &str) -> String {
        crate::registry::orgs::label(crate::registry::workers::LEVELS, l, self.zh())
    }
    pub fn line(&self, k: &str) -> &'static str {
        BUDGET_LINES
            .iter()
            .find(|(key, _, _)| *key == k)
            .map(|(_, z, e)| self.lang.pick(z, e))
            .unwrap_or("?")
    }
    pub fn bid_status(&self, s: &str) -> &'static str {
        self.lang.t(match s {
            "active" => "bid.status_active",
            "replaced" => "bid.status_replaced",
            "withdrawn" => "bid.status_withdrawn",
            _ => "bid.status_disqualified",
        })
    }
    pub fn bid_class(&self, s: &str) -> &'static str {
        match s {
            "active" => "ok",
            "disqualified" => "bad",
            _ => "muted",
        }
    }
    pub fn challenge_status(&self, s: &str) -> &'static str {
        self.lang.t(match s {
            "open" => "tenders.ch_open",
            "upheld" => "tenders.ch_upheld",
            _ => "tenders.ch_rejected",
        })
    }
    pub fn decl(&self, d: &Option<String>) -> &'static str {
        self.lang.t(match d.as_deref() {
            None => "eval.decl_pending",
            Some("none") => "eval.decl_none",
            _ => "eval.decl_conflict",
        })
    }
    pub fn msg(&self, m: &Msg) -> String {
        pick_msg(self.lang, m)
    }
    pub fn short(&self, hash: &str) -> String {
        hash.chars().take(16).collect::<String>() + "…"
    }
}

fn lx(ctx: &PageCtx) -> Lx {
    Lx { lang: ctx.lang }
}

/// The eligibility rules in words.
fn eligibility_lines(lang: Lang, e: &Eligibility) -> Vec<String> {
    let l = Lx { lang };
    let mut out = Vec::new();
    let with = |key: &str, v: String| lang.t(key).replace("{}", &v);
    if let Some(r) = e.min_rating {
        out.push(with("tenders.elig_rating", r.to_string()));
    }
    if let Some(n) = e.min_staff {
        out.push(with("tenders.elig_staff", n.to_string()));
    }
    if let Some(n) = e.min_certified {
        out.push(with("tenders.elig_certified", n.to_string()));
    }
    if let Some(p) = e.min_certified_share_pct {
        out.push(with("tenders.elig_share", l.dec(&p)));
    }
    if e.supervisor_required {
        out.push(lang.t("tenders.elig_supervisor").to_string());
    }
    if let Some(lv) = &e.min_certificate_level {
        out.push(with("tenders.elig_level", l.level(lv)));
    }
    if out.is_empty() {
        out.push(lang.t("tenders.elig_none").to_string());
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Public list

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    field: Option<String>,
    street: Option<String>,
    state: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/tenders/list.html")]
struct ListPage {
    ctx: PageCtx,
    l: Lx,
    rows: Vec<TenderSummary>,
    q: String,
    field: String,
    street: String,
    state: String,
    fields: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    states: Vec<(String, String)>,
    pager: Pager,
    staff: bool,
    error: Option<String>,
}

async fn with_caller(req: &HttpRequest, ctx: PageCtx) -> PageCtx {
    let user = crate::http::caller::caller(req).await.user().cloned();
    PageCtx { user, ..ctx }
}

async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let staff = ctx.user.as_ref().is_some_and(CurrentUser::is_staff);
    let q = q.into_inner();
    let g = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut f = tenders::TenderFilter {
        q: q.q.clone(),
        field: q.field.clone().filter(|s| !s.is_empty()),
        street_id: q.street.as_deref().and_then(|s| s.parse().ok()),
        state: q.state.clone().filter(|s| !s.is_empty()),
        page: q.page.as_deref().and_then(|p| p.parse().ok()),
        per_page: Some(20),
    };
    let mut error = None;
    let mut status = StatusCode::OK;
    if let Err(AppError::Validation(errs)) = tenders::check_filter(&f) {
        error = Some(messages(ctx.lang, &errs).join(" "));
        status = StatusCode::BAD_REQUEST;
        f.state = None;
        f.field = None;
    }
    let (p, per) = crate::db::paging(f.page, f.per_page);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let ((rows, total), streets) = state
        .run(move |c| {
            Ok((
                tenders::list(c, &tctx, now, &f, staff)?,
                crate::registry::orgs::streets(c)?,
            ))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let params = [
        ("q", g(&q.q)),
        ("field", g(&q.field)),
        ("street", g(&q.street)),
        ("state", g(&q.state)),
    ];
    let pager = Pager::new("/tenders", &params, p, per, total);
    let zh = ctx.lang == Lang::Zh;
    let mut states = vec![("open".to_string(), ctx.t("tenders.state_open").to_string())];
    for s in State::ALL {
        if s != State::Draft || staff {
            states.push((s.as_str().to_string(), s.label(zh).to_string()));
        }
    }
    let page = ListPage {
        l: lx(&ctx),
        fields: super::orgs::options(ctx.lang, crate::registry::orgs::FIELDS),
        streets: streets
            .into_iter()
            .map(|(id, _, name)| (id.to_string(), name))
            .collect(),
        states,
        ctx: ctx.clone(),
        rows,
        q: g(&q.q),
        field: g(&q.field),
        street: g(&q.street),
        state: g(&q.state),
        pager,
        staff,
        error,
    };
    Ok(render(&ctx, status, &page))
}

// ---------------------------------------------------------------------------------------------------------
// The tender page

/// The errors of a failed action form on the tender page, with what was typed.
#[derive(Clone, Debug, Default)]
struct ActionErrors {
    action: String,
    messages: Vec<String>,
    values: HashMap<String, String>,
}

impl ActionErrors {
    fn on(&self, action: &str) -> bool {
        self.action == action
    }
    fn on_id(&self, action: &str, id: &i64) -> bool {
        self.action == format!("{action}-{id}")
    }
    fn val(&self, action: &str, k: &str) -> &str {
        if self.action == action {
            self.values.get(k).map(String::as_str).unwrap_or("")
        } else {
            ""
        }
    }
}

/// What an organisation sees and may do on a tender.
struct OrgPanel {
    can_ask: bool,
    can_bid: bool,
    can_withdraw: bool,
    withdraw_needs_reason: bool,
    can_challenge: bool,
    own: Option<OwnBid>,
    refusals: Vec<String>,
    challenges: Vec<ChallengeView>,
}

/// One line of the ranking, for the award form.
struct RankLine {
    seq: i64,
    rank: u32,
    organisation_name: String,
    total: String,
}

/// What the bureau and administrators see and may do on a tender.
struct BureauPanel {
    can_edit: bool,
    can_cancel: bool,
    can_answer: bool,
    /// None while sealed: nothing about bids is shown before the opening.
    opened: Option<Vec<bids::OpenedBid>>,
    can_disqualify: bool,
    panel: Vec<MemberView>,
    can_form_panel: bool,
    /// Active evaluators not yet seated: (user id, name).
    evaluators: Vec<(i64, String)>,
    ranking: Vec<RankLine>,
    can_confirm: bool,
    can_publish_result: bool,
    award_seq: Option<i64>,
    award_reason: Option<String>,
    challenges: Vec<ChallengeView>,
    can_contract: bool,
    today: String,
}

struct EvalPanel {
    member: MemberView,
    locked: bool,
}

#[derive(Template)]
#[template(path = "pages/tenders/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    eligibility: Vec<String>,
    enquiries: Vec<EnquiryView>,
    org: Option<OrgPanel>,
    bureau: Option<BureauPanel>,
    eval: Option<EvalPanel>,
    act: ActionErrors,
    sealed: bool,
}

impl DetailPage {
    fn criteria_sum(&self) -> String {
        let s: Decimal = self.t.criteria.price_weight_pct
            + self
                .t
                .criteria
                .items
                .iter()
                .map(|i| i.max_points)
                .sum::<Decimal>();
        s.normalize().to_string()
    }
    fn timeline_label(&self, e: &tenders::TimelineEntry) -> String {
        self.l.pick(&e.to_label_zh, &e.to_label_en).to_string()
    }
}

/// Active evaluator accounts (user id, name), by user name.
fn evaluator_accounts(c: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    use crate::db::schema::users::dsl as u;
    u::users
        .filter(u::role.eq("evaluator"))
        .filter(u::active.eq(true))
        .order(u::username)
        .select((u::id, u::display_name))
        .load(c)
}

fn load_org_panel(
    c: &mut DbConn,
    tctx: &tenders::Ctx,
    now: DateTime<Utc>,
    lang: Lang,
    row: &TenderRow,
    org: i64,
) -> Result<OrgPanel, AppError> {
    let st = row.state();
    let ts = crate::db::now_micros(now);
    let own = bids::own_bid(c, tctx, org, row.id)?;
    let can_bid = row.bidding_open(now);
    let refusals = if can_bid {
        messages(
            lang,
            &bids::refusals(c, tctx, row, org, tenders::today(now))?,
        )
    } else {
        Vec::new()
    };
    let active = own.as_ref().is_some_and(|b| b.receipt.status == "active");
    let opened_own = own.as_ref().is_some_and(|b| b.receipt.status != "replaced");
    Ok(OrgPanel {
        can_ask: st == State::Published && ts < row.enquiry_deadline,
        can_bid,
        can_withdraw: active
            && ((st == State::Published && ts < row.bid_deadline) || after_opening(st)),
        withdraw_needs_reason: after_opening(st),
        can_challenge: matches!(st, State::Publicity | State::Challenge)
            && row.challenge_ends.is_none_or(|e| ts < e)
            && opened_own,
        refusals,
        challenges: evaluation::challenges_of(c, now, row.id, Some(org))?,
        own,
    })
}

fn load_bureau_panel(
    c: &mut DbConn,
    now: DateTime<Utc>,
    row: &TenderRow,
) -> Result<BureauPanel, AppError> {
    let st = row.state();
    let sealed = st.sealed();
    let opened = if sealed {
        None
    } else {
        Some(bids::opened_bids(c, row)?)
    };
    let panel = evaluation::panel(c, row.id)?;
    let can_form_panel = matches!(st, State::Opened | State::Evaluating);
    let evaluators = if can_form_panel {
        evaluator_accounts(c)?
            .into_iter()
            .filter(|(id, _)| panel.iter().all(|m| m.user_id != *id))
            .collect()
    } else {
        Vec::new()
    };
    let ranking = if st == State::Evaluated {
        evaluation::ranking(c, row)?
            .into_iter()
            .map(|r| RankLine {
                seq: r.ranked.bid_id,
                rank: r.ranked.rank,
                organisation_name: r.organisation_name,
                total: crate::domain::tender::show(r.ranked.total),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(BureauPanel {
        can_edit: st == State::Draft,
        can_cancel: st.cancellable(),
        can_answer: st == State::Published,
        opened,
        can_disqualify: after_opening(st),
        panel,
        can_form_panel,
        evaluators,
        ranking,
        can_confirm: st == State::Evaluated,
        can_publish_result: st == State::AwardProposed,
        award_seq: row.award_bid_id,
        award_reason: row.award_reason.clone(),
        challenges: evaluation::challenges_of(c, now, row.id, None)?,
        can_contract: st == State::Awarded,
        today: tenders::today(now).to_string(),
    })
}

/// Render the tender page for the signed-in user (if any), with the errors of a failed action.
async fn detail(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    act: ActionErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let user = ctx.user.clone();
    let staff = user.as_ref().is_some_and(CurrentUser::is_staff);
    let lang = ctx.lang;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (t, enquiries, org, bureau, eval) = state
        .run(move |c| {
            let t = tenders::get(c, &tctx, now, id, staff)?;
            let row = tenders::find_row(c, id)?;
            let own_org = user
                .as_ref()
                .filter(|u| u.role == Role::Org)
                .and_then(|u| u.org_id);
            let enquiries = tenders::enquiries_of(c, id, staff, own_org)?;
            let org = match own_org {
                Some(o) => Some(load_org_panel(c, &tctx, now, lang, &row, o)?),
                None => None,
            };
            let bureau = if staff {
                Some(load_bureau_panel(c, now, &row)?)
            } else {
                None
            };
            let eval = match user.as_ref().filter(|u| u.role == Role::Evaluator) {
                Some(u) => evaluation::panel(c, id)?
                    .into_iter()
                    .find(|m| m.user_id == u.id)
                    .map(|member| EvalPanel {
                        member,
                        locked: row.evaluated_at.is_some(),
                    }),
                None => None,
            };
            Ok((t, enquiries, org, bureau, eval))
        })
        .await
        .map_err(page_err(lang))?;
    let page = DetailPage {
        l: lx(&ctx),
        eligibility: eligibility_lines(lang, &t.eligibility),
        sealed: t.state.sealed(),
        ctx: ctx.clone(),
        t,
        enquiries,
        org,
        bureau,
        eval,
        act,
    };
    Ok(render(&ctx, status, &page))
}

async fn detail_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    detail(
        &state,
        ctx,
        path.into_inner(),
        ActionErrors::default(),
        StatusCode::OK,
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Actions on the tender page

/// Run one action; success goes back to the tender page with a flash, field errors show the page again
/// with the errors at the action's form, a refused state goes back with the reason as an error flash.
async fn run_action<T: Send + 'static>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    action: String,
    values: HashMap<String, String>,
    ok_key: &'static str,
    op: impl FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<HttpResponse, PageError> {
    let back = format!("/tenders/{id}");
    match state.run(op).await {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t(ok_key))))),
        Err(AppError::Validation(errs)) => {
            let act = ActionErrors {
                action,
                messages: messages(ctx.lang, &errs),
                values,
            };
            detail(state, ctx, id, act, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ (AppError::Conflict { .. } | AppError::BadRequest { .. })) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&back, Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn publish_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    run_action(
        &state,
        ctx,
        id,
        "publish".into(),
        form.values(),
        "tenders.published_ok",
        move |c| tenders::publish(c, &tctx, &actor, now, id),
    )
    .await
}

async fn cancel_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let reason = form.get("reason");
    run_action(
        &state,
        ctx,
        id,
        "cancel".into(),
        form.values(),
        "tenders.cancelled_ok",
        move |c| tenders::cancel(c, &tctx, &actor, now, id, &reason),
    )
    .await
}

async fn contracted_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let signed_on = form.get("signed_on");
    run_action(
        &state,
        ctx,
        id,
        "contracted".into(),
        form.values(),
        "tenders.contracted_ok",
        move |c| tenders::contracted(c, &tctx, &actor, now, id, &signed_on),
    )
    .await
}

async fn ask_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let q = tenders::NewEnquiry {
        question: form.get("question"),
    };
    run_action(
        &state,
        ctx,
        id,
        "ask".into(),
        form.values(),
        "tenders.asked_ok",
        move |c| tenders::ask(c, &tctx, &actor, uid, org, now, id, &q),
    )
    .await
}

async fn answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, eid) = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let a = tenders::EnquiryAnswer {
        answer: form.get("answer"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("answer-{eid}"),
        form.values(),
        "tenders.answered_ok",
        move |c| {
            let belongs: i64 = crate::db::schema::enquiries::table
                .filter(crate::db::schema::enquiries::id.eq(eid))
                .filter(crate::db::schema::enquiries::tender_id.eq(id))
                .count()
                .get_result(c)?;
            if belongs == 0 {
                return Err(AppError::NotFound);
            }
            tenders::answer(c, &tctx, &actor, uid, now, eid, &a)
        },
    )
    .await
}

async fn panel_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::PanelInput {
        evaluator_ids: form.ids("evaluator_ids"),
    };
    run_action(
        &state,
        ctx,
        id,
        "panel".into(),
        form.values(),
        "tenders.panel_ok",
        move |c| evaluation::form_panel(c, &tctx, &actor, now, id, &input),
    )
    .await
}

async fn confirm_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::ConfirmInput {
        bid_seq: form.get("bid_seq").trim().parse().unwrap_or(0),
        reason: Some(form.get("reason")),
    };
    run_action(
        &state,
        ctx,
        id,
        "confirm".into(),
        form.values(),
        "tenders.confirmed_ok",
        move |c| evaluation::confirm(c, &tctx, &actor, now, id, &input),
    )
    .await
}

async fn publish_result_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    run_action(
        &state,
        ctx,
        id,
        "publish-result".into(),
        form.values(),
        "tenders.result_ok",
        move |c| evaluation::publish_result(c, &tctx, &actor, now, id),
    )
    .await
}

async fn disqualify_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let seq: i64 = form.get("bid_seq").trim().parse().unwrap_or(0);
    let input = evaluation::DisqualifyInput {
        bid_seq: seq,
        reason: form.get("reason"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("disqualify-{seq}"),
        form.values(),
        "tenders.disqualified_ok",
        move |c| evaluation::disqualify(c, &tctx, &actor, now, id, &input),
    )
    .await
}

async fn withdraw_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let reason = form.get("reason");
    run_action(
        &state,
        ctx,
        id,
        "withdraw".into(),
        form.values(),
        "tenders.withdrawn_ok",
        move |c| bids::withdraw(c, &tctx, &actor, org, now, id, Some(reason.as_str())),
    )
    .await
}

async fn challenge_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::NewChallenge {
        grounds: form.get("grounds"),
    };
    run_action(
        &state,
        ctx,
        id,
        "challenge".into(),
        form.values(),
        "tenders.challenge_ok",
        move |c| evaluation::file_challenge(c, &tctx, &actor, uid, org, now, id, &input),
    )
    .await
}

async fn challenge_answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, cid) = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::ChallengeAnswer {
        upheld: form.get("upheld") == "1",
        answer: form.get("answer"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("challenge-{cid}"),
        form.values(),
        "tenders.challenge_answered_ok",
        move |c| {
            use crate::db::schema::challenges as ch;
            let belongs: i64 = ch::table
                .filter(ch::id.eq(cid))
                .filter(ch::tender_id.eq(id))
                .count()
                .get_result(c)?;
            if belongs == 0 {
                return Err(AppError::NotFound);
            }
            evaluation::answer_challenge(c, &tctx, &actor, uid, now, cid, &input)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// Commitments

#[derive(Template)]
#[template(path = "pages/tenders/commitments.html")]
struct CommitmentsPage {
    ctx: PageCtx,
    l: Lx,
    id: i64,
    code: String,
    title: String,
    opening_at: NaiveDateTime,
    /// None while sealed.
    rows: Option<Vec<bids::CommitmentCheck>>,
}

async fn commitments_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let staff = ctx.user.as_ref().is_some_and(CurrentUser::is_staff);
    let id = path.into_inner();
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (row, rows) = state
        .run(move |c| {
            tenders::advance(c, &tctx, now, id)?;
            let row = tenders::visible_row(c, id, staff)?;
            let rows = match bids::commitments(c, &tctx, &row) {
                Ok(v) => Some(v),
                Err(AppError::Conflict { code: "sealed", .. }) => None,
                Err(e) => return Err(e),
            };
            Ok((row, rows))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = CommitmentsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        id,
        code: row.code,
        title: row.title,
        opening_at: row.opening_at,
        rows,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------------------
// The tender form

const CRITERIA_ROWS: usize = 6;
const INSTALMENT_ROWS: usize = 4;

#[derive(Clone, Debug, Default)]
struct CritRow {
    key: String,
    name: String,
    category: String,
    max_points: String,
}

#[derive(Clone, Debug, Default)]
struct InstRow {
    milestone: String,
    pct: String,
}

/// The tender form as typed (strings, so a bad number is shown back as typed).
#[derive(Clone, Debug, Default)]
struct TenderForm {
    code: String,
    title: String,
    description: String,
    field: String,
    street_ids: Vec<i64>,
    community_ids: Vec<i64>,
    budget: String,
    method: String,
    term_months: String,
    term_reason: String,
    min_rating: String,
    min_staff: String,
    min_certified: String,
    min_certified_share_pct: String,
    supervisor_required: bool,
    min_certificate_level: String,
    price_weight_pct: String,
    criteria: Vec<CritRow>,
    visits: String,
    people: String,
    sessions: String,
    satisfaction_pct: String,
    instalments: Vec<InstRow>,
    invited: Vec<i64>,
    enquiry_deadline: String,
    bid_deadline: String,
    opening_at: String,
}

fn opt_num<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

impl TenderForm {
    /// A new tender: an example scoring template and schedule that already sum to 100.
    fn blank() -> TenderForm {
        let crit = |key: &str, name: &str, category: &str, max: &str| CritRow {
            key: key.into(),
            name: name.into(),
            category: category.into(),
            max_points: max.into(),
        };
        let inst = |m: &str, p: &str| InstRow {
            milestone: m.into(),
            pct: p.into(),
        };
        TenderForm {
            method: "open".into(),
            term_months: "12".into(),
            price_weight_pct: "30".into(),
            criteria: vec![
                crit("plan", "服务方案", "technical", "40"),
                crit("team", "团队与督导", "technical", "20"),
                crit("record", "业绩与信誉", "commercial", "10"),
            ],
            visits: "0".into(),
            people: "0".into(),
            sessions: "0".into(),
            satisfaction_pct: "90".into(),
            instalments: vec![
                inst("合同签订", "30"),
                inst("中期评估", "40"),
                inst("末期验收", "30"),
            ],
            ..Default::default()
        }
    }

    fn from_input(i: &TenderInput) -> TenderForm {
        let e = &i.eligibility;
        TenderForm {
            code: i.code.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            field: i.field.clone(),
            street_ids: i.street_ids.clone(),
            community_ids: i.community_ids.clone(),
            budget: i.budget.clone(),
            method: i.method.clone(),
            term_months: i.term_months.to_string(),
            term_reason: i.term_reason.clone().unwrap_or_default(),
            min_rating: opt_num(&e.min_rating),
            min_staff: opt_num(&e.min_staff),
            min_certified: opt_num(&e.min_certified),
            min_certified_share_pct: e
                .min_certified_share_pct
                .map(|d| d.normalize().to_string())
                .unwrap_or_default(),
            supervisor_required: e.supervisor_required,
            min_certificate_level: e.min_certificate_level.clone().unwrap_or_default(),
            price_weight_pct: i.criteria.price_weight_pct.normalize().to_string(),
            criteria: i
                .criteria
                .items
                .iter()
                .map(|k| CritRow {
                    key: k.key.clone(),
                    name: k.name.clone(),
                    category: match k.category {
                        Category::Technical => "technical".into(),
                        Category::Commercial => "commercial".into(),
                    },
                    max_points: k.max_points.normalize().to_string(),
                })
                .collect(),
            visits: i.targets.visits.to_string(),
            people: i.targets.people.to_string(),
            sessions: i.targets.sessions.to_string(),
            satisfaction_pct: i.targets.satisfaction_pct.normalize().to_string(),
            instalments: i
                .instalments
                .iter()
                .map(|x| InstRow {
                    milestone: x.milestone.clone(),
                    pct: x.pct.normalize().to_string(),
                })
                .collect(),
            invited: i.invited.clone(),
            enquiry_deadline: i.enquiry_deadline.clone(),
            bid_deadline: i.bid_deadline.clone(),
            opening_at: i.opening_at.clone(),
        }
    }

    /// Read the posted form. Blank criterion and instalment rows are dropped, so the rows shown again and
    /// the service's `criteria.items[i]` / `instalments[i]` errors count the same way.
    fn from_fields(f: &FormFields) -> TenderForm {
        let criteria = (0..CRITERIA_ROWS)
            .map(|i| CritRow {
                key: f.get(&format!("crit_key_{i}")).trim().to_string(),
                name: f.get(&format!("crit_name_{i}")).trim().to_string(),
                category: f.get(&format!("crit_cat_{i}")),
                max_points: f.get(&format!("crit_max_{i}")).trim().to_string(),
            })
            .filter(|r| !(r.key.is_empty() && r.name.is_empty() && r.max_points.is_empty()))
            .collect();
        let instalments = (0..INSTALMENT_ROWS)
            .map(|i| InstRow {
                milestone: f.get(&format!("inst_milestone_{i}")).trim().to_string(),
                pct: f.get(&format!("inst_pct_{i}")).trim().to_string(),
            })
            .filter(|r| !(r.milestone.is_empty() && r.pct.is_empty()))
            .collect();
        TenderForm {
            code: f.get("code"),
            title: f.get("title"),
            description: f.get("description"),
            field: f.get("field"),
            street_ids: f.ids("street_ids"),
            community_ids: f.ids("community_ids"),
            budget: f.get("budget"),
            method: f.get("method"),
            term_months: f.get("term_months"),
            term_reason: f.get("term_reason"),
            min_rating: f.get("min_rating"),
            min_staff: f.get("min_staff"),
            min_certified: f.get("min_certified"),
            min_certified_share_pct: f.get("min_certified_share_pct"),
            supervisor_required: !f.get("supervisor_required").is_empty(),
            min_certificate_level: f.get("min_certificate_level"),
            price_weight_pct: f.get("price_weight_pct"),
            criteria,
            visits: f.get("visits"),
            people: f.get("people"),
            sessions: f.get("sessions"),
            satisfaction_pct: f.get("satisfaction_pct"),
            instalments,
            invited: f.ids("invited"),
            enquiry_deadline: f.get("enquiry_deadline"),
            bid_deadline: f.get("bid_deadline"),
            opening_at: f.get("opening_at"),
        }
    }

    /// The service input. A number that does not parse becomes a value the service's rules refuse (with
    /// their message at the right field).
    fn input(&self) -> TenderInput {
        let dec = |s: &str, bad: i64| s.trim().parse::<Decimal>().unwrap_or(Decimal::from(bad));
        let int = |s: &str| -> i64 {
            let s = s.trim();
            if s.is_empty() {
                0
            } else {
                s.parse().unwrap_or(-1)
            }
        };
        let opt_int = |s: &str, bad: i32| -> Option<i32> {
            let s = s.trim();
            (!s.is_empty()).then(|| s.parse().unwrap_or(bad))
        };
        let opt_text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        TenderInput {
            code: self.code.trim().to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            field: self.field.clone(),
            street_ids: self.street_ids.clone(),
            community_ids: self.community_ids.clone(),
            budget: self.budget.clone(),
            method: self.method.clone(),
            term_months: self.term_months.trim().parse().unwrap_or(0),
            term_reason: opt_text(&self.term_reason),
            eligibility: Eligibility {
                min_rating: opt_int(&self.min_rating, 0),
                min_staff: opt_int(&self.min_staff, -1),
                min_certified: opt_int(&self.min_certified, -1),
                min_certified_share_pct: opt_text(&self.min_certified_share_pct)
                    .map(|s| dec(&s, -1)),
                supervisor_required: self.supervisor_required,
                min_certificate_level: opt_text(&self.min_certificate_level),
            },
            criteria: Criteria {
                price_weight_pct: dec(&self.price_weight_pct, -1),
                items: self
                    .criteria
                    .iter()
                    .map(|r| Criterion {
                        key: r.key.clone(),
                        name: r.name.clone(),
                        category: if r.category == "commercial" {
                            Category::Commercial
                        } else {
                            Category::Technical
                        },
                        max_points: dec(&r.max_points, 0),
                    })
                    .collect(),
            },
            targets: Targets {
                visits: int(&self.visits),
                people: int(&self.people),
                sessions: int(&self.sessions),
                satisfaction_pct: if self.satisfaction_pct.trim().is_empty() {
                    Decimal::ZERO
                } else {
                    dec(&self.satisfaction_pct, -1)
                },
            },
            instalments: self
                .instalments
                .iter()
                .map(|r| Instalment {
                    milestone: r.milestone.clone(),
                    pct: dec(&r.pct, 0),
                })
                .collect(),
            invited: self.invited.clone(),
            enquiry_deadline: self.enquiry_deadline.clone(),
            bid_deadline: self.bid_deadline.clone(),
            opening_at: self.opening_at.clone(),
        }
    }
}

/// Fields the tender form shows errors at; anything else is listed above the form.
fn shown_on_form(field: &str) -> bool {
    const PLAIN: &[&str] = &[
        "code",
        "title",
        "description",
        "field",
        "street_ids",
        "community_ids",
        "budget",
        "method",
        "term_months",
        "term_reason",
        "criteria",
        "criteria.items",
        "criteria.price_weight_pct",
        "instalments",
        "invited",
        "enquiry_deadline",
        "bid_deadline",
        "opening_at",
    ];
    PLAIN.contains(&field)
        || field.starts_with("eligibility.")
        || field.starts_with("targets.")
        || field.starts_with("criteria.items[")
        || field.starts_with("instalments[")
}

#[derive(Template)]
#[template(path = "pages/tenders/form.html")]
struct FormPage {
    ctx: PageCtx,
    id: Option<i64>,
    v: TenderForm,
    errors: Errs,
    other_errors: Vec<String>,
    fields: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    streets: Vec<(i64, String)>,
    /// (street name, [(community id, name)])
    communities: Vec<(String, Vec<(i64, String)>)>,
    orgs: Vec<(i64, String)>,
}

impl FormPage {
    fn action(&self) -> String {
        match self.id {
            Some(i) => format!("/tenders/{i}/edit"),
            None => "/tenders/new".into(),
        }
    }
    fn crit_rows(&self) -> Vec<(usize, CritRow)> {
        (0..CRITERIA_ROWS.max(self.v.criteria.len()))
            .map(|i| (i, self.v.criteria.get(i).cloned().unwrap_or_default()))
            .collect()
    }
    fn inst_rows(&self) -> Vec<(usize, InstRow)> {
        (0..INSTALMENT_ROWS.max(self.v.instalments.len()))
            .map(|i| (i, self.v.instalments.get(i).cloned().unwrap_or_default()))
            .collect()
    }
    fn e(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
    fn crit_err(&self, i: &usize, part: &str) -> Option<&str> {
        self.errors.get(&format!("criteria.items[{i}].{part}"))
    }
    fn inst_err(&self, i: &usize, part: &str) -> Option<&str> {
        self.errors.get(&format!("instalments[{i}].{part}"))
    }
    fn has_street(&self, id: &i64) -> bool {
        self.v.street_ids.contains(id)
    }
    fn has_community(&self, id: &i64) -> bool {
        self.v.community_ids.contains(id)
    }
    fn has_invited(&self, id: &i64) -> bool {
        self.v.invited.contains(id)
    }
}

struct FormLists {
    streets: Vec<(i64, String)>,
    communities: Vec<(String, Vec<(i64, String)>)>,
    orgs: Vec<(i64, String)>,
}

async fn form_lists(state: &AppState, lang: Lang) -> Result<FormLists, PageError> {
    state
        .run(|c| {
            use crate::db::schema::{communities as cm, organisations as o, streets as st};
            let streets: Vec<(i64, String)> = st::table
                .order(st::code)
                .select((st::id, st::name))
                .load(c)?;
            let comms: Vec<(i64, i64, String)> = cm::table
                .order(cm::code)
                .select((cm::id, cm::street_id, cm::name))
                .load(c)?;
            let communities = streets
                .iter()
                .map(|(sid, sname)| {
                    (
                        sname.clone(),
                        comms
                            .iter()
                            .filter(|(_, s, _)| s == sid)
                            .map(|(id, _, n)| (*id, n.clone()))
                            .collect::<Vec<_>>(),
                    )
                })
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let orgs = o::table
                .filter(o::registration.eq("registered"))
                .order(o::name)
                .select((o::id, o::name))
                .load(c)?;
            Ok(FormLists {
                streets,
                communities,
                orgs,
            })
        })
        .await
        .map_err(page_err(lang))
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    id: Option<i64>,
    v: TenderForm,
    errs: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let lists = form_lists(state, ctx.lang).await?;
    let zh = ctx.lang == Lang::Zh;
    let other: Vec<FieldError> = errs
        .iter()
        .filter(|e| !shown_on_form(&e.field))
        .cloned()
        .collect();
    let page = FormPage {
        id,
        v,
        errors: Errs::new(ctx.lang, errs),
        other_errors: messages(ctx.lang, &other),
        fields: super::orgs::options(ctx.lang, crate::registry::orgs::FIELDS),
        methods: Method::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), m.label(zh).to_string()))
            .collect(),
        levels: super::orgs::options(ctx.lang, &crate::registry::workers::LEVELS[1..]),
        streets: lists.streets,
        communities: lists.communities,
        orgs: lists.orgs,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, status, &page))
}

async fn new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    form_page(&state, ctx, None, TenderForm::blank(), &[], StatusCode::OK).await
}

async fn new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let v = TenderForm::from_fields(&form);
    let input = v.input();
    let actor = crate::http::actor(&req, &page.user);
    let uid = page.user.id;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    match state
        .run(move |c| tenders::create(c, &tctx, &actor, uid, now, &input))
        .await
    {
        Ok(t) => Ok(redirect(
            &format!("/tenders/{}", t.id),
            Some(("ok", ctx.t("tenders.created_ok"))),
        )),
        Err(AppError::Validation(errs)) => {
            form_page(
                &state,
                ctx,
                None,
                v,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = state
        .run(move |c| {
            tenders::advance(c, &tctx, now, id)?;
            let row = tenders::find_row(c, id)?;
            if row.state() != State::Draft {
                return Err(tenders::wrong_state(
                    row.state(),
                    "只有草稿可以修改。",
                    "only drafts can be edited.",
                ));
            }
            tenders::input_of(c, &row)
        })
        .await;
    match input {
        Ok(i) => {
            form_page(
                &state,
                ctx,
                Some(id),
                TenderForm::from_input(&i),
                &[],
                StatusCode::OK,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let v = TenderForm::from_fields(&form);
    let input = v.input();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    match state
        .run(move |c| tenders::update(c, &tctx, &actor, now, id, &input))
        .await
    {
        Ok(_) => Ok(redirect(
            &format!("/tenders/{id}"),
            Some(("ok", ctx.t("tenders.saved_ok"))),
        )),
        Err(AppError::Validation(errs)) => {
            form_page(
                &state,
                ctx,
                Some(id),
                v,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

// ---------------------------------------------------------------------------------------------------------
// The bid form and its receipt

/// The bid form as typed.
#[derive(Clone, Debug, Default)]
struct BidForm {
    price: String,
    plan: String,
    /// (budget line key, amount typed), every line of `BUDGET_LINES`.
    lines: Vec<(String, String)>,
    staff: Vec<i64>,
    visits: String,
    people: String,
    sessions: String,
    satisfaction_pct: String,
    /// (file name, base64) kept from the last attempt.
    attachments: Vec<(String, String)>,
    idempotency_key: String,
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl BidForm {
    fn blank(t: &Targets) -> BidForm {
        BidForm {
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| (k.to_string(), String::new()))
                .collect(),
            visits: t.visits.to_string(),
            people: t.people.to_string(),
            sessions: t.sessions.to_string(),
            satisfaction_pct: t.satisfaction_pct.normalize().to_string(),
            idempotency_key: new_key(),
            ..Default::default()
        }
    }

    /// Prefilled from the organisation's current bid, to replace it.
    fn from_own(c: &bids::BidContent) -> BidForm {
        BidForm {
            price: crate::money::yuan(c.price_fen),
            plan: c.plan.clone(),
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| {
                    let amount = c
                        .budget
                        .iter()
                        .find(|l| l.line == *k)
                        .map(|l| crate::money::yuan(l.amount_fen))
                        .unwrap_or_default();
                    (k.to_string(), amount)
                })
                .collect(),
            staff: c.staff.iter().map(|s| s.worker_id).collect(),
            visits: c.targets.visits.to_string(),
            people: c.targets.people.to_string(),
            sessions: c.targets.sessions.to_string(),
            satisfaction_pct: c.targets.satisfaction_pct.normalize().to_string(),
            attachments: Vec::new(),
            idempotency_key: new_key(),
        }
    }

    fn from_fields(f: &FormFields) -> BidForm {
        let names = f.all("attachment_name");
        let bodies = f.all("attachment_b64");
        BidForm {
            price: f.get("price"),
            plan: f.get("plan"),
            lines: BUDGET_LINES
                .iter()
                .map(|(k, _, _)| (k.to_string(), f.get(&format!("budget_{k}"))))
                .collect(),
            staff: f.ids("staff"),
            visits: f.get("visits"),
            people: f.get("people"),
            sessions: f.get("sessions"),
            satisfaction_pct: f.get("satisfaction_pct"),
            attachments: names.into_iter().zip(bodies).collect(),
            idempotency_key: f.get("idempotency_key"),
        }
    }

    /// The service input, and the budget line of each `budget[i]` it sends.
    fn input(&self) -> (BidInput, Vec<String>) {
        let int = |s: &str| -> i64 { s.trim().parse().unwrap_or(-1) };
        let used: Vec<&(String, String)> = self
            .lines
            .iter()
            .filter(|(_, a)| !a.trim().is_empty())
            .collect();
        let input = BidInput {
            idempotency_key: self.idempotency_key.clone(),
            price: self.price.clone(),
            plan: self.plan.clone(),
            budget: used
                .iter()
                .map(|(k, a)| bids::BudgetLineInput {
                    line: k.clone(),
                    amount: a.clone(),
                })
                .collect(),
            staff: self.staff.clone(),
            targets: Targets {
                visits: int(&self.visits),
                people: int(&self.people),
                sessions: int(&self.sessions),
                satisfaction_pct: self
                    .satisfaction_pct
                    .trim()
                    .parse()
                    .unwrap_or(Decimal::from(-1)),
            },
            attachments: self
                .attachments
                .iter()
                .map(|(name, b64)| bids::AttachmentInput {
                    name: name.clone(),
                    content_base64: b64.clone(),
                })
                .collect(),
        };
        (input, used.iter().map(|(k, _)| k.clone()).collect())
    }
}

#[derive(Template)]
#[template(path = "pages/tenders/bid.html")]
struct BidPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    /// Whether bids are accepted now (otherwise the page says so and shows no form).
    open: bool,
    v: BidForm,
    /// The organisation's current workers: (id, name, certificate level).
    workers: Vec<(i64, String, String)>,
    refusals: Vec<String>,
    replacing: Option<Receipt>,
    errors: Errs,
    other_errors: Vec<String>,
    attachment_errors: Vec<String>,
    max_kib: usize,
    max_files: usize,
}

impl BidPage {
    fn attach_hint(&self) -> String {
        self.ctx
            .t("bid.attachments_hint")
            .replace("{n}", &self.max_files.to_string())
            .replace("{kib}", &self.max_kib.to_string())
    }
    fn replacing_text(&self, seq: &i64) -> String {
        self.ctx.t("bid.replacing").replace("{}", &seq.to_string())
    }
    fn e(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
    fn line_err(&self, key: &str) -> Option<&str> {
        self.errors.get(&format!("budget.{key}"))
    }
    fn has_worker(&self, id: &i64) -> bool {
        self.v.staff.contains(id)
    }
}

/// Fields the bid form shows errors at.
fn shown_on_bid(field: &str) -> bool {
    matches!(
        field,
        "price" | "plan" | "budget" | "staff" | "targets" | "attachments"
    ) || field.starts_with("budget.")
        || field.starts_with("targets.")
        || field.starts_with("attachments[")
}

struct BidData {
    /// The files of the organisation's current bid: (name, base64).
    own_files: Vec<(String, String)>,
    t: TenderView,
    open: bool,
    workers: Vec<(i64, String, String)>,
    refusals: Vec<String>,
    own: Option<OwnBid>,
}

async fn bid_data(state: &AppState, lang: Lang, id: i64, org: i64) -> Result<BidData, PageError> {
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    state
        .run(move |c| {
            use crate::db::schema::social_workers as sw;
            let t = tenders::get(c, &tctx, now, id, false)?;
            let row = tenders::find_row(c, id)?;
            let open = row.bidding_open(now);
            let workers = sw::table
                .filter(sw::organisation_id.eq(org))
                .filter(sw::employment.ne("left"))
                .order((sw::name, sw::id))
                .select((sw::id, sw::name, sw::certificate_level))
                .load(c)?;
            let refusals = if open {
                messages(
                    lang,
                    &bids::refusals(c, &tctx, &row, org, tenders::today(now))?,
                )
            } else {
                Vec::new()
            };
            let own = bids::own_bid(c, &tctx, org, id)?;
            // The current bid's files, so a replacement keeps them unless others are chosen.
            let mut own_files = Vec::new();
            if let Some(o) = own
                .as_ref()
                .filter(|o| open && o.receipt.status == "active")
                && let Some(content) = &o.content
            {
                let row = bids::find_bid(c, o.receipt.seq)?;
                for i in 0..content.attachments.len() {
                    let (name, body) = bids::attachment(&tctx, &row, i)?;
                    own_files.push((name, base64::engine::general_purpose::STANDARD.encode(body)));
                }
            }
            Ok(BidData {
                own_files,
                t,
                open,
                workers,
                refusals,
                own,
            })
        })
        .await
        .map_err(page_err(lang))
}

fn bid_form_page(
    ctx: &PageCtx,
    d: BidData,
    v: BidForm,
    errs: &[FieldError],
    problem: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let mut other: Vec<String> = problem.into_iter().collect();
    other.extend(messages(
        ctx.lang,
        &errs
            .iter()
            .filter(|e| !shown_on_bid(&e.field))
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let open = d.open;
    let replacing = d
        .own
        .map(|o| o.receipt)
        .filter(|r| open && r.status == "active");
    let page = BidPage {
        l: lx(ctx),
        ctx: ctx.clone(),
        t: d.t,
        open: d.open,
        v,
        workers: d.workers,
        refusals: d.refusals,
        replacing,
        errors: Errs::new(ctx.lang, errs),
        other_errors: other,
        attachment_errors: messages(
            ctx.lang,
            &errs
                .iter()
                .filter(|e| e.field.starts_with("attachments["))
                .cloned()
                .collect::<Vec<_>>(),
        ),
        max_kib: bids::MAX_ATTACHMENT / 1024,
        max_files: bids::MAX_ATTACHMENTS,
    };
    render(ctx, status, &page)
}

async fn bid_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let d = bid_data(&state, ctx.lang, id, org).await?;
    let v = match d.own.as_ref().filter(|o| o.receipt.status == "active") {
        Some(OwnBid {
            content: Some(c), ..
        }) => BidForm {
            attachments: d.own_files.clone(),
            ..BidForm::from_own(c)
        },
        _ => BidForm::blank(&d.t.targets),
    };
    Ok(bid_form_page(&ctx, d, v, &[], None, StatusCode::OK))
}

#[derive(Template)]
#[template(path = "pages/tenders/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    r: Receipt,
}

async fn bid_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let v = BidForm::from_fields(&form);
    let (input, used_lines) = v.input();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, clock) = (state.tenders.clone(), state.clock.clone());
    let result = state
        .run(move |c| bids::submit(c, &tctx, &actor, uid, org, clock.as_ref(), id, &input))
        .await;
    match result {
        Ok(r) => {
            let (tctx, now) = (state.tenders.clone(), state.clock.now());
            let t = state
                .run(move |c| tenders::get(c, &tctx, now, id, false))
                .await
                .map_err(page_err(ctx.lang))?;
            let page = ReceiptPage {
                l: lx(&ctx),
                ctx: ctx.clone(),
                t,
                r,
            };
            Ok(render(&ctx, StatusCode::OK, &page))
        }
        Err(AppError::Validation(errs)) => {
            // `budget[i].amount` names the i-th line sent; the form shows it at that line's input.
            let errs: Vec<FieldError> = errs
                .into_iter()
                .map(|mut e| {
                    if let Some(rest) = e.field.strip_prefix("budget[")
                        && let Some((i, _)) = rest.split_once(']')
                        && let Some(k) = i.parse::<usize>().ok().and_then(|i| used_lines.get(i))
                    {
                        e.field = format!("budget.{k}");
                    }
                    e
                })
                .collect();
            let d = bid_data(&state, ctx.lang, id, org).await?;
            Ok(bid_form_page(
                &ctx,
                d,
                v,
                &errs,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            let d = bid_data(&state, ctx.lang, id, org).await?;
            if !d.open {
                return Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))));
            }
            // A fresh key: the old one belongs to other content.
            let v = BidForm {
                idempotency_key: new_key(),
                ..v
            };
            Ok(bid_form_page(
                &ctx,
                d,
                v,
                &[],
                Some(m),
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

/// An attachment of a bid: to its own organisation at any time; after the opening to the bureau and
/// administrators, and to evaluators of the panel who declared no conflict.
async fn attachment_download(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<AnyRole>,
    path: web::Path<(i64, i64, usize)>,
) -> Result<HttpResponse, PageError> {
    let (id, seq, n) = path.into_inner();
    let user = page.user.clone();
    let tctx = state.tenders.clone();
    let (name, body) = state
        .run(move |c| {
            let b = bids::find_bid(c, seq)?;
            if b.tender_id != id {
                return Err(AppError::NotFound);
            }
            let row = tenders::find_row(c, id)?;
            let own = user.role == Role::Org && user.org_id == Some(b.organisation_id);
            let opened = !row.state().sealed() && b.opened_json.is_some();
            let allowed = own
                || (opened && BureauOrAdmin::ROLES.contains(&user.role))
                || (opened
                    && user.role == Role::Evaluator
                    && evaluation::panel(c, id)?
                        .iter()
                        .any(|m| m.user_id == user.id && m.declaration.as_deref() == Some("none")));
            if !allowed {
                return Err(AppError::Forbidden);
            }
            bids::attachment(&tctx, &b, n)
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"attachment-{n}\"; filename*=UTF-8''{}",
                encoded.replace('+', "%20")
            ),
        ))
        .body(body))
}

// ---------------------------------------------------------------------------------------------------------
// An organisation's bids

#[derive(Template)]
#[template(path = "pages/tenders/my_bids.html")]
struct MyBidsPage {
    ctx: PageCtx,
    l: Lx,
    rows: Vec<bids::MyBidLine>,
}

async fn my_bids_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let rows = state
        .run(move |c| Ok(bids::my_bids(c, org)?))
        .await
        .map_err(page_err(ctx.lang))?;
    let page = MyBidsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        rows,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------------------
// Evaluators: their tenders, the declaration and the scoring sheet

struct EvaluationLine {
    tender_id: i64,
    code: String,
    title: String,
    state: String,
    declaration: Option<String>,
    submitted_at: Option<NaiveDateTime>,
    locked: bool,
}

#[derive(Template)]
#[template(path = "pages/tenders/evaluations.html")]
struct EvaluationsPage {
    ctx: PageCtx,
    l: Lx,
    rows: Vec<EvaluationLine>,
}

async fn evaluations_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let uid = page.user.id;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let rows = state
        .run(move |c| {
            use crate::db::schema::{panel_members as pm, tenders as t};
            tenders::advance_due(c, &tctx, now)?;
            type Line = (
                i64,
                String,
                String,
                String,
                Option<String>,
                Option<NaiveDateTime>,
                Option<NaiveDateTime>,
            );
            let rows: Vec<Line> = pm::table
                .inner_join(t::table)
                .filter(pm::user_id.eq(uid))
                .order(t::id.desc())
                .select((
                    t::id,
                    t::code,
                    t::title,
                    t::state,
                    pm::declaration,
                    pm::submitted_at,
                    t::evaluated_at,
                ))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(
                    |(tender_id, code, title, state, declaration, submitted_at, evaluated)| {
                        EvaluationLine {
                            tender_id,
                            code,
                            title,
                            state,
                            declaration,
                            submitted_at,
                            locked: evaluated.is_some(),
                        }
                    },
                )
                .collect::<Vec<_>>())
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = EvaluationsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        rows,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "pages/tenders/score.html")]
struct ScorePage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    member: MemberView,
    sheet: Option<ScoringSheet>,
    can_declare: bool,
    can_score: bool,
    locked: bool,
    /// Scores as typed, by input name (after a refused submission).
    values: HashMap<String, String>,
    /// Errors by input name (`s_{seq}_{criterion}`, `note`).
    errors: HashMap<String, String>,
    other_errors: Vec<String>,
}

impl ScorePage {
    fn score_val(&self, seq: &i64, key: &str) -> String {
        let name = format!("s_{seq}_{key}");
        if let Some(v) = self.values.get(&name) {
            return v.clone();
        }
        self.sheet
            .as_ref()
            .and_then(|s| s.mine.get(seq))
            .and_then(|m| m.get(key))
            .cloned()
            .unwrap_or_default()
    }
    fn score_err(&self, seq: &i64, key: &str) -> Option<&str> {
        self.errors
            .get(&format!("s_{seq}_{key}"))
            .map(String::as_str)
    }
    fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    fn lines(&self, c: &bids::BidContent) -> Vec<(String, String)> {
        evaluation::content_lines(c, self.l.zh())
    }
}

async fn score_render(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    other_errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let uid = ctx.user.as_ref().map(|u| u.id).unwrap_or(0);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (t, member, sheet, locked) = state
        .run(move |c| {
            let t = tenders::get(c, &tctx, now, id, false)?;
            let row = tenders::find_row(c, id)?;
            let member = evaluation::panel(c, id)?
                .into_iter()
                .find(|m| m.user_id == uid)
                .ok_or(AppError::Forbidden)?;
            let sheet = if member.declaration.as_deref() == Some("none") && !row.state().sealed() {
                Some(evaluation::sheet(c, &tctx, uid, now, id)?)
            } else {
                None
            };
            Ok((t, member, sheet, row.evaluated_at.is_some()))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let evaluating = t.state == State::Evaluating;
    let page = ScorePage {
        l: lx(&ctx),
        can_declare: evaluating && member.declaration.is_none(),
        can_score: evaluating && sheet.as_ref().is_some_and(|s| !s.submitted),
        ctx: ctx.clone(),
        t,
        member,
        sheet,
        locked,
        values,
        errors,
        other_errors,
    };
    Ok(render(&ctx, status, &page))
}

async fn score_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    score_render(
        &state,
        ctx,
        path.into_inner(),
        HashMap::new(),
        HashMap::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn declare_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let back = format!("/tenders/{id}/score");
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let d = evaluation::Declaration {
        conflict: form.get("conflict") == "1",
        note: Some(form.get("note")),
    };
    match state
        .run(move |c| evaluation::declare(c, &tctx, &actor, uid, now, id, &d))
        .await
    {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t("eval.declared_ok"))))),
        Err(AppError::Validation(errs)) => {
            let errors = errs
                .iter()
                .map(|e| (e.field.clone(), pick_msg(ctx.lang, &e.message)))
                .collect();
            score_render(
                &state,
                ctx,
                id,
                form.values(),
                errors,
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&back, Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

async fn score_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let back = format!("/tenders/{id}/score");
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    // Inputs are named `s_{seq}_{criterion}`; an empty one is left out (the service says what is missing).
    let mut names = Vec::new();
    let mut scores = Vec::new();
    for (k, v) in &form.0 {
        let Some((seq, crit)) = k.strip_prefix("s_").and_then(|r| r.split_once('_')) else {
            continue;
        };
        let Ok(seq) = seq.parse::<i64>() else {
            continue;
        };
        if v.trim().is_empty() {
            continue;
        }
        names.push(k.clone());
        scores.push(evaluation::ScoreEntry {
            bid_seq: seq,
            criterion: crit.to_string(),
            points: v.trim().to_string(),
        });
    }
    let input = evaluation::ScoreInput { scores };
    match state
        .run(move |c| evaluation::submit_scores(c, &tctx, &actor, uid, now, id, &input))
        .await
    {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t("eval.scored_ok"))))),
        Err(AppError::Validation(errs)) => {
            let mut errors = HashMap::new();
            let mut other = Vec::new();
            for e in &errs {
                let at = e
                    .field
                    .strip_prefix("scores[")
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(i, _)| i.parse::<usize>().ok())
                    .and_then(|i| names.get(i));
                match at {
                    Some(name) => {
                        errors
                            .entry(name.clone())
                            .or_insert_with(|| pick_msg(ctx.lang, &e.message));
                    }
                    None => other.push(pick_msg(ctx.lang, &e.message)),
                }
            }
            score_render(
                &state,
                ctx,
                id,
                form.values(),
                errors,
                other,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&back, Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

// ---------------------------------------------------------------------------------------------------------
// The evaluation report

#[derive(Template)]
#[template(path = "pages/tenders/report.html")]
struct ReportPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    /// None while the bids are sealed.
    r: Option<EvaluationReport>,
}

impl ReportPage {
    /// The CSS width class of a total out of 100.
    fn bar(&self, total: &Option<String>) -> String {
        let v = total
            .as_deref()
            .and_then(|s| s.parse::<Decimal>().ok())
            .unwrap_or(Decimal::ZERO);
        let steps: i64 = (v / Decimal::from(5)).round().try_into().unwrap_or(0);
        format!("w-{}", steps.clamp(0, 20) * 5)
    }
    fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "—".into())
    }
    fn is_award(&self, award: &Option<i64>, seq: &i64) -> bool {
        *award == Some(*seq)
    }
    fn rank(&self, r: &Option<u32>) -> String {
        r.map(|r| r.to_string()).unwrap_or_else(|| "—".into())
    }
}

async fn report_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<ReportReaders>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let user = page.user.clone();
    let staff = BureauOrAdmin::ROLES.contains(&user.role);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let (t, r) = state
        .run(move |c| {
            let t = tenders::get(c, &tctx, now, id, staff)?;
            let row = tenders::find_row(c, id)?;
            if !staff {
                let on_panel = evaluation::panel(c, id)?
                    .iter()
                    .any(|m| m.user_id == user.id);
                if !on_panel || row.evaluated_at.is_none() {
                    return Err(AppError::Forbidden);
                }
            }
            let r = if row.state().sealed() {
                None
            } else {
                Some(evaluation::report(c, &tctx, now, id)?)
            };
            Ok((t, r))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = ReportPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        t,
        r,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------------------
// Dashboard figures

/// Tender counts by state in life-cycle order, for the bureau's dashboard: (state, label, count).
pub fn counts_by_state(
    conn: &mut DbConn,
    lang: Lang,
) -> Result<Vec<(String, &'static str, i64)>, AppError> {
    let counts = tenders::counts_by_state(conn)?;
    Ok(State::ALL
        .iter()
        .filter_map(|s| {
            counts
                .iter()
                .find(|(k, _)| k == s.as_str())
                .map(|(_, n)| (s.as_str().to_string(), s.label(lang == Lang::Zh), *n))
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------
// Evaluator links: what ties an evaluator to an organisation, read by the panel's conflict check.

struct EvaluatorLine {
    id: i64,
    name: String,
    username: String,
    /// (organisation, relation label)
    links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "pages/tenders/evaluators.html")]
struct EvaluatorsPage {
    ctx: PageCtx,
    rows: Vec<EvaluatorLine>,
    orgs: Vec<(i64, String)>,
    relations: Vec<(&'static str, &'static str)>,
    /// Why the last link was refused, each rule in the page's language.
    errors: Vec<String>,
}

async fn evaluators_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    show_evaluators(&state, ctx, StatusCode::OK, vec![]).await
}

async fn show_evaluators(
    state: &AppState,
    ctx: PageCtx,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let zh = ctx.lang == Lang::Zh;
    let (rows, orgs) = state
        .run(move |c| {
            use crate::db::schema::users as u;
            let people: Vec<(i64, String, String)> = u::table
                .filter(u::role.eq("evaluator"))
                .filter(u::active.eq(true))
                .order(u::username)
                .select((u::id, u::display_name, u::username))
                .load(c)?;
            let mut rows = Vec::new();
            for (id, name, username) in people {
                rows.push(EvaluatorLine {
                    id,
                    name,
                    username,
                    links: crate::tenders::evaluation::links_of(c, id)?
                        .into_iter()
                        .map(|k| {
                            let rel = crate::registry::orgs::label(
                                crate::tenders::evaluation::RELATIONS,
                                &k.relation,
                                zh,
                            );
                            (k.organisation_name, rel)
                        })
                        .collect(),
                });
            }
            let orgs = crate::registry::orgs::names(c)?.into_iter().collect();
            Ok((rows, orgs))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let page = EvaluatorsPage {
        relations: crate::tenders::evaluation::RELATIONS
            .iter()
            .map(|(k, z, e)| (*k, if zh { *z } else { *e }))
            .collect(),
        ctx: ctx.clone(),
        rows,
        orgs,
        errors,
    };
    Ok(render(&ctx, status, &page))
}

async fn evaluator_link_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let user: i64 = form.get("user_id").trim().parse().unwrap_or(0);
    let input = crate::tenders::evaluation::LinkInput {
        organisation_id: form.get("organisation_id").trim().parse().unwrap_or(0),
        relation: form.get("relation"),
    };
    let r = state
        .run(move |c| crate::tenders::evaluation::link(c, &actor, now, user, &input))
        .await;
    match r {
        Ok(_) => Ok(redirect(
            "/evaluators",
            Some(("ok", ctx.t("evaluators.linked"))),
        )),
        Err(AppError::Validation(errs)) => {
            let m = messages(ctx.lang, &errs);
            show_evaluators(&state, ctx, StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(AppError::NotFound) => {
            let m = vec![ctx.t("evaluators.no_such").to_string()];
            show_evaluators(&state, ctx, StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}
