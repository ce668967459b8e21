//! Evaluation pages: panel, declaration, scoring, report, award, result, challenges, evaluator links.

use super::*;

pub(super) async fn panel_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let mut errs = Vec::new();
    let input = Some(evaluation::PanelInput {
        draw_experts: form.opt_int("draw_experts", &mut errs).unwrap_or(0),
        buyer_rep_ids: form.ids("buyer_rep_ids"),
    });
    run_action(
        &state,
        ctx,
        id,
        "panel".into(),
        form.values(),
        "tenders.panel_ok",
        move |c| evaluation::form_panel(c, &tctx, &actor, now, id, &checked(input, errs)?),
    )
    .await
}

pub(super) async fn confirm_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let mut errs = Vec::new();
    let input = form
        .int("bid_seq", &mut errs)
        .map(|bid_seq| evaluation::ConfirmInput { bid_seq });
    run_action(
        &state,
        ctx,
        id,
        "confirm".into(),
        form.values(),
        "tenders.confirmed_ok",
        move |c| evaluation::confirm(c, &tctx, &actor, now, id, &checked(input, errs)?),
    )
    .await
}

pub(super) async fn publish_result_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
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

pub(super) async fn disqualify_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    // Each bid has its own form on the page, named by the sequence number as typed.
    let action = format!("disqualify-{}", form.get("bid_seq").trim());
    let mut errs = Vec::new();
    let input = form
        .int("bid_seq", &mut errs)
        .map(|bid_seq| evaluation::DisqualifyInput {
            bid_seq,
            reason: form.get("reason"),
        });
    run_action(
        &state,
        ctx,
        id,
        action,
        form.values(),
        "tenders.disqualified_ok",
        move |c| evaluation::disqualify(c, &tctx, &actor, now, id, &checked(input, errs)?),
    )
    .await
}

pub(super) async fn refusal_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::RefusalInput {
        reason: form.get("reason"),
    };
    run_action(
        &state,
        ctx,
        id,
        "award-refusal".into(),
        form.values(),
        "tenders.refusal_ok",
        move |c| evaluation::record_refusal(c, &tctx, &actor, now, id, &input),
    )
    .await
}

pub(super) async fn challenge_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<OrgOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let org = page.user.own_org_id().map_err(page_err(ctx.lang))?;
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let subject = form.get("subject");
    let input = evaluation::NewChallenge {
        subject: (!subject.is_empty()).then_some(subject),
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

pub(super) async fn challenge_answer_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, cid) = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    // No answer is chosen for the clerk: upheld or rejected must be picked (issue 14).
    let upheld = match form.get("upheld").as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    };
    let input = evaluation::ChallengeAnswer {
        upheld: upheld.unwrap_or(false),
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
            if upheld.is_none() {
                return Err(AppError::field(
                    "upheld",
                    "required",
                    "请选择质疑成立或不成立。",
                    "Choose whether the challenge is upheld or rejected.",
                ));
            }
            evaluation::answer_challenge(c, &tctx, &actor, uid, now, cid, &input)
        },
    )
    .await
}

pub(super) async fn challenge_assess_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<(i64, i64)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let (id, cid) = path.into_inner();
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = evaluation::ChallengeAssessment {
        affects_result: form.get("affects_result") != "0",
        reason: form.get("reason"),
    };
    run_action(
        &state,
        ctx,
        id,
        format!("assess-{cid}"),
        form.values(),
        "tenders.challenge_assessed_ok",
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
            evaluation::assess_challenge(c, &tctx, &actor, now, cid, &input)
        },
    )
    .await
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
    pager: Pager,
}

#[derive(Deserialize)]
pub(super) struct EvaluationsQuery {
    page: Option<String>,
}

/// An evaluator's panels, those still waiting for its scores first, then the newest; 20 a page.
pub(super) async fn evaluations_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    q: web::Query<EvaluationsQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let uid = page.user.id;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let paging = crate::db::Paging::new(q.page.as_deref().and_then(|p| p.parse().ok()), Some(20));
    let list = state
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
            let total: i64 = pm::table
                .filter(pm::user_id.eq(uid))
                .count()
                .get_result(c)?;
            let rows: Vec<Line> = pm::table
                .inner_join(t::table)
                .filter(pm::user_id.eq(uid))
                // Not yet submitted (false) sorts first.
                .order((pm::submitted_at.is_not_null(), t::id.desc()))
                .offset(paging.offset())
                .limit(paging.limit())
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
            let rows = rows
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
                .collect::<Vec<_>>();
            Ok(paging.of(rows, total))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let pager = Pager::new("/evaluations", &[], &list);
    let page = EvaluationsPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        rows: list.items,
        pager,
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
    /// Errors by input name (`s_{seq}_{criterion}`, `note`; in a negotiation `c_{seq}_reason`,
    /// `q_{seq}_price`, `q_{seq}_note`).
    errors: HashMap<String, String>,
    other_errors: Vec<String>,
    /// 竞争性谈判: the record, for a member who declared no conflict.
    neg: Option<NegotiationView>,
    /// The member may decide compliance and record rounds now.
    can_negotiate: bool,
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
    /// The error at a negotiation input `{prefix}_{seq}_{what}`.
    fn err_at(&self, prefix: &str, seq: &i64, what: &str) -> Option<&str> {
        self.errors
            .get(&format!("{prefix}_{seq}_{what}"))
            .map(String::as_str)
    }
    /// What was typed at a negotiation input `{prefix}_{seq}_{what}` (after a refused submission).
    fn typed_at(&self, prefix: &str, seq: &i64, what: &str) -> &str {
        self.values
            .get(&format!("{prefix}_{seq}_{what}"))
            .map(String::as_str)
            .unwrap_or("")
    }
    /// Every response is decided: rounds may be recorded.
    fn all_decided(&self) -> bool {
        self.neg
            .as_ref()
            .is_some_and(|n| n.compliance.iter().all(|c| c.compliant.is_some()))
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
    let (t, member, sheet, locked, neg) = state
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
            let neg = if sheet.is_some() && row.method() == Method::Negotiation {
                Some(negotiation::view(c, &tctx, now, id)?)
            } else {
                None
            };
            Ok((t, member, sheet, row.evaluated_at.is_some(), neg))
        })
        .await
        .map_err(page_err(ctx.lang))?;
    let evaluating = t.state == State::Evaluating;
    let page = ScorePage {
        l: lx(&ctx),
        can_declare: evaluating && member.declaration.is_none(),
        can_score: evaluating && neg.is_none() && sheet.as_ref().is_some_and(|s| !s.submitted),
        can_negotiate: evaluating && neg.is_some(),
        neg,
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

pub(super) async fn score_page(
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

pub(super) async fn declare_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: Form,
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

pub(super) async fn score_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: Form,
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
    for (k, v) in form.pairs() {
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

/// The answer to a negotiation form: back to the page with a flash, or the page again with the errors at
/// their inputs (`names[i]` is the input of the service's `…[i]` entry; `field_input` the input of a named
/// field), or a refused state as an error flash.
async fn negotiation_answer<T: Send + 'static>(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    values: HashMap<String, String>,
    input_of: impl Fn(&str) -> Option<String>,
    ok_key: &'static str,
    op: impl FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<HttpResponse, PageError> {
    let back = format!("/tenders/{id}/score");
    match state.run(op).await {
        Ok(_) => Ok(redirect(&back, Some(("ok", ctx.t(ok_key))))),
        Err(AppError::Validation(errs)) => {
            let mut errors = HashMap::new();
            let mut other = Vec::new();
            for e in &errs {
                match input_of(&e.field) {
                    Some(name) => {
                        errors
                            .entry(name)
                            .or_insert_with(|| pick_msg(ctx.lang, &e.message));
                    }
                    None => other.push(pick_msg(ctx.lang, &e.message)),
                }
            }
            score_render(
                state,
                ctx,
                id,
                values,
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

/// 竞争性谈判: a panel member records the panel's compliance decision on one response.
pub(super) async fn compliance_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let mut errs = Vec::new();
    let seq: Option<i64> = form.int("bid_seq", &mut errs);
    let input = seq.map(|bid_seq| negotiation::ComplianceInput {
        bid_seq,
        compliant: form.get("compliant") == "1",
        reason: form.get("reason"),
    });
    // The inputs are per response: `c_{seq}_reason` shows the error at its row.
    let mut values = form.values();
    if let Some(s) = seq {
        values.insert(format!("c_{s}_reason"), form.get("reason"));
        values.insert(format!("c_{s}_compliant"), form.get("compliant"));
    }
    negotiation_answer(
        &state,
        ctx,
        id,
        values,
        move |f| {
            seq.filter(|_| f == "reason")
                .map(|s| format!("c_{s}_reason"))
        },
        "neg.compliance_ok",
        move |c| {
            negotiation::decide_compliance(c, &tctx, &actor, uid, now, id, &checked(input, errs)?)
        },
    )
    .await
}

/// 竞争性谈判: a panel member records a round: inputs `q_{seq}_price` (empty: declines) and `q_{seq}_note`
/// for each compliant supplier, `final=1` for the final round.
pub(super) async fn round_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<EvaluatorOnly>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let uid = page.user.id;
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let mut seqs: Vec<i64> = form
        .pairs()
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("q_")?.strip_suffix("_price")?.parse().ok())
        .collect();
    seqs.dedup();
    let quotes = seqs
        .iter()
        .map(|s| negotiation::QuoteEntry {
            bid_seq: *s,
            price: Some(form.get(&format!("q_{s}_price"))),
            note: form.get(&format!("q_{s}_note")),
        })
        .collect();
    let input = negotiation::RoundInput {
        quotes,
        is_final: form.get("final") == "1",
    };
    let input_of = move |f: &str| -> Option<String> {
        let (i, rest) = f.strip_prefix("quotes[")?.split_once(']')?;
        let seq = seqs.get(i.parse::<usize>().ok()?)?;
        match rest {
            ".note" => Some(format!("q_{seq}_note")),
            _ => Some(format!("q_{seq}_price")),
        }
    };
    negotiation_answer(
        &state,
        ctx,
        id,
        form.values(),
        input_of,
        "neg.round_ok",
        move |c| negotiation::record_round(c, &tctx, &actor, uid, now, id, &input),
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------
// The evaluation report

#[derive(Template)]
#[template(path = "pages/tenders/report.html")]
struct ReportPage {
    ctx: PageCtx,
    l: Lx,
    t: TenderView,
    /// None while the bids are sealed, or while the reader waits for the lock.
    r: Option<EvaluationReport>,
    /// The report exists but this reader sees it only once locked.
    waiting: bool,
}

impl ReportPage {
    /// The CSS width class of a total out of 100.
    fn bar(&self, total: &Option<String>) -> String {
        let v: i64 = total
            .as_deref()
            .and_then(|s| s.parse::<Decimal>().ok())
            .and_then(|d| d.round().try_into().ok())
            .unwrap_or(0);
        crate::http::page::bar_class(v, 100)
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

pub(super) async fn report_page(
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
            if tenders::find_row(c, id)?.state().sealed() {
                return Ok((t, None));
            }
            // Who may read it, and when: one rule with the API and the PDF.
            match evaluation::report_for(c, &tctx, now, id, &user) {
                Ok(r) => Ok((t, Some(Ok(r)))),
                Err(e) if e.code() == "report_not_locked" => Ok((t, Some(Err(())))),
                // An evaluator of another panel: the tender is public, so the page says the role may not
                // open its report (the API answers 404, as for any record not the caller's).
                Err(AppError::NotFound) => Err(AppError::Forbidden),
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(page_err(ctx.lang))?;
    // A reader who must wait for the lock is told so on the page (not an error page).
    let (r, waiting) = match r {
        Some(Ok(r)) => (Some(r), false),
        Some(Err(())) => (None, true),
        None => (None, false),
    };
    let page = ReportPage {
        l: lx(&ctx),
        ctx: ctx.clone(),
        t,
        r,
        waiting,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
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

pub(super) async fn evaluators_page(
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

pub(super) async fn evaluator_link_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let actor = crate::http::actor(&req, &page.user);
    let now = state.clock.now();
    let mut errs = Vec::new();
    let user = form.int::<i64>("user_id", &mut errs);
    let org = form.int("organisation_id", &mut errs);
    let r = match checked(user.zip(org), errs) {
        Ok((user, organisation_id)) => {
            let input = crate::tenders::evaluation::LinkInput {
                organisation_id,
                relation: form.get("relation"),
            };
            state
                .run(move |c| crate::tenders::evaluation::link(c, &actor, now, user, &input))
                .await
        }
        Err(e) => Err(e),
    };
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
