//! Tender pages: the public notices with their timeline, enquiries, result notice and commitments; the
//! bureau's tender form and the action panels of a tender (publish, cancel, answer, panel, award, result,
//! challenges, contract); an organisation's sealed bid with its receipt, its enquiries, withdrawal and
//! challenges; an evaluator's declaration and scoring sheet; and the evaluation report.
//!
//! Sealing holds here as in the service: before the opening no page shows a bid's content, count or bidder,
//! except an organisation's own bid to that organisation.
//!
//! By action: `notices` (the list, the tender page, commitments), `form` (the draft form), `actions` (the
//! action forms: publish, cancel, create the contract, enquiries), `bidding` (a bid and its receipt, attachments, my
//! bids, withdrawal), `evaluating` (panel, declaration, scoring, 竞争性谈判's compliance and rounds, report,
//! award, result, disqualification, challenges, evaluator links), `single_source` (单一来源: the 公示 and its
//! objections, answers, the negotiation record). Here: the routes, the
//! protected pages and the template helpers.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::DbConn;
use crate::domain::tender::{
    BUDGET_LINES, Category, Criteria, Criterion, Eligibility, Instalment, Method, State, Targets,
    TieBreak, TieRule, Withdrawal,
};
use crate::error::{AppError, FieldError, Msg};
use crate::http::caller::{
    AttachmentReaders, BureauOrAdmin, CurrentUser, EvaluatorOnly, OrgOnly, Page, Role, RoleSet,
};
use crate::http::page::{
    ActionErrors, Form, FormErrors, PageCtx, PageError, Pager, checked, messages, page_err,
    parse_decimal, parse_int, parse_opt_decimal, parse_opt_int, pick_msg, redirect, render,
    with_caller,
};
use crate::i18n::Lang;
use crate::tenders::bids::{self, BidInput, OwnBid, Receipt};
use crate::tenders::evaluation::negotiation::{self, NegotiationView};
use crate::tenders::evaluation::{self, ChallengeView, EvaluationReport, MemberView, ScoringSheet};
use crate::tenders::{self, EnquiryView, TenderInput, TenderRow, TenderSummary, TenderView};

mod actions;
mod bidding;
mod evaluating;
mod form;
mod notices;
mod single_source;

use actions::*;
use bidding::*;
use evaluating::*;
use form::*;
use notices::*;
use single_source::*;

/// Protected pages of this module: (method, example path, roles allowed). The refusal tests walk them with
/// `/tenders/1` an opened tender. (The report is also open to the evaluators of the tender's panel once the
/// evaluation is locked — any other evaluator gets the 403 page; the edit and scoring pages need a draft
/// and a seated evaluator, so they are tested with the tenders.)
pub const PROTECTED: &[(&str, &str, &[Role])] = &[
    ("GET", "/tenders/new", &[Role::Bureau, Role::Admin]),
    ("GET", "/tenders/1/bid", &[Role::Org]),
    (
        "GET",
        "/tenders/1/report",
        &[Role::Bureau, Role::Admin, Role::Finance],
    ),
    ("GET", "/my/bids", &[Role::Org]),
    ("GET", "/evaluations", &[Role::Evaluator]),
    ("GET", "/evaluators", &[Role::Bureau, Role::Admin]),
];

/// Who may open an evaluation report's page (`evaluation::report_for` says when): the bureau and
/// administrators; evaluators of its panel and finance once locked.
#[derive(Debug)]
pub struct ReportReaders;
impl RoleSet for ReportReaders {
    const ROLES: &'static [Role] = &[Role::Bureau, Role::Admin, Role::Evaluator, Role::Finance];
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
        .route("/tenders/{id}/documents", web::post().to(document_submit))
        .route("/tenders/{id}/amendments", web::post().to(amendment_submit))
        .route("/files/{id}", web::get().to(file_download))
        .route("/tenders/{id}/cancel", web::post().to(cancel_submit))
        .route("/tenders/{id}/contract", web::post().to(contract_submit))
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
        .route(
            "/tenders/{id}/award-refusal",
            web::post().to(refusal_submit),
        )
        .route("/tenders/{id}/withdraw", web::post().to(withdraw_submit))
        .route("/tenders/{id}/challenges", web::post().to(challenge_submit))
        .route(
            "/tenders/{id}/challenges/{cid}/answer",
            web::post().to(challenge_answer_submit),
        )
        .route(
            "/tenders/{id}/challenges/{cid}/assessment",
            web::post().to(challenge_assess_submit),
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
        .route(
            "/tenders/{id}/compliance",
            web::post().to(compliance_submit),
        )
        .route("/tenders/{id}/rounds", web::post().to(round_submit))
        .route(
            "/tenders/{id}/negotiation-origin",
            web::post().to(origin_submit),
        )
        .route("/tenders/{id}/objections", web::post().to(objection_submit))
        .route(
            "/tenders/{id}/objections/{n}/answer",
            web::post().to(objection_answer_submit),
        )
        .route(
            "/tenders/{id}/single-source-record",
            web::post().to(ss_record_submit),
        )
        .route("/tenders/{id}/report", web::get().to(report_page))
        .route("/my/bids", web::get().to(my_bids_page))
        .route("/evaluations", web::get().to(evaluations_page))
        .route("/evaluators", web::get().to(evaluators_page))
        .route("/evaluators/links", web::post().to(evaluator_link_submit));
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
    /// A reason given in both languages as "中文 / English" (a tender's end or award reason, a bid's status
    /// reason), in the page's language; a person's own words as written.
    pub fn half(&self, text: &str) -> String {
        crate::domain::tender::Note::read(text)
            .text(self.zh())
            .to_string()
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
    /// A file's size as people read it: KB below a megabyte, else MB to one decimal (integer arithmetic).
    pub fn file_size(&self, bytes: &i64) -> String {
        const MB: i64 = 1024 * 1024;
        if *bytes < MB {
            format!("{} KB", (bytes + 1023) / 1024)
        } else {
            let tenths = (bytes * 10 + MB / 2) / MB;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
    /// [`Lx::file_size`] of a committed attachment's size.
    pub fn bytes(&self, n: &usize) -> String {
        self.file_size(&(*n as i64))
    }
    pub fn money(&self, fen: &i64) -> String {
        crate::money::yuan_grouped(*fen)
    }
    /// An interface string with its number filled in (`{}`).
    pub fn with_n(&self, s: &str, n: &u32) -> String {
        s.replace("{}", &n.to_string())
    }
    /// Whether the tender's result is out (publicity onwards), so a bidder sees its own outcome.
    pub fn result_out(&self, s: &str) -> bool {
        State::parse(s).is_some_and(|s| {
            matches!(
                s,
                State::Publicity | State::Challenge | State::Awarded | State::Contracted
            )
        })
    }
    /// Who took a step of the timeline: the bureau as the site's sponsor, the rest by role.
    pub fn actor(&self, a: &crate::tenders::PublicActor, sponsor: &str) -> String {
        use crate::tenders::PublicActor as A;
        match a {
            A::Bureau => sponsor.to_string(),
            A::Panel => self.pick("评审委员会", "Evaluation panel").into(),
            A::Supplier => self.pick("供应商", "A supplier").into(),
            A::System => self.pick("系统", "System").into(),
        }
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
    pub fn tie_break(&self, t: &TieBreak) -> &'static str {
        t.label(self.zh())
    }
    pub fn tie_rule(&self, r: &TieRule) -> &'static str {
        r.label(self.zh())
    }
    pub fn level(&self, l: &str) -> String {
        crate::registry::orgs::label(crate::registry::workers::LEVELS, l, self.zh())
    }
    pub fn line(&self, k: &str) -> String {
        crate::domain::vocab::label(BUDGET_LINES, k, self.zh())
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
    pub fn subject(&self, s: &crate::domain::tender::Subject) -> &'static str {
        s.label(self.zh())
    }
    pub fn seat(&self, s: &crate::domain::tender::Seat) -> &'static str {
        s.label(self.zh())
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
