//! The evaluation panel, conflict declarations, scoring, the ranking and its report; the award with its
//! publicity period and challenge window; challenges; and the fall-back to the next-ranked bid.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::bids::{self, BidContent};
use super::{Ctx, ResultNotice, ScoreLine, TenderRow, find_row, move_state, today, wrong_state};
use crate::audit::{self, Actor};
use crate::db::schema::{
    bid_scores, bids as bt, challenges, evaluator_links, organisations, panel_members, tenders,
    users,
};
use crate::db::{DbConn, write_tx};
use crate::domain::tender::{self as rules, Category, RankInput, Ranked, State};
use crate::error::{AppError, Checks};
use crate::mail::templates as mails;

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub name: String,
    /// `null` until declared; `none` (no conflict) or `conflict` (recused).
    pub declaration: Option<String>,
    pub declaration_note: Option<String>,
    #[schema(value_type = Option<String>)]
    pub declared_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub submitted_at: Option<NaiveDateTime>,
}

pub fn panel(conn: &mut DbConn, tender_id: i64) -> QueryResult<Vec<MemberView>> {
    Ok(panel_members::table
        .inner_join(users::table)
        .filter(panel_members::tender_id.eq(tender_id))
        .order(panel_members::added_at)
        .then_order_by(panel_members::user_id)
        .select((
            panel_members::user_id,
            users::display_name,
            panel_members::declaration,
            panel_members::declaration_note,
            panel_members::declared_at,
            panel_members::submitted_at,
        ))
        .load::<(
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(
            |(user_id, name, declaration, declaration_note, declared_at, submitted_at)| {
                MemberView {
                    user_id,
                    name,
                    declaration,
                    declaration_note,
                    declared_at,
                    submitted_at,
                }
            },
        )
        .collect())
}

/// Organisations whose bids were opened on the tender.
fn bidder_orgs(conn: &mut DbConn, tender_id: i64) -> QueryResult<HashSet<i64>> {
    Ok(bt::table
        .filter(bt::tender_id.eq(tender_id))
        .filter(bt::opened_json.is_not_null())
        .select(bt::organisation_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect())
}

/// Organisations the registry links an evaluator to.
fn linked_to(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
    evaluator_links::table
        .filter(evaluator_links::user_id.eq(user_id))
        .select(evaluator_links::organisation_id)
        .load(conn)
}

pub const RELATIONS: &[(&str, &str, &str)] = &[
    ("employee", "任职", "Employee"),
    ("board", "理事/监事", "Board member"),
    ("volunteer", "志愿者/顾问", "Volunteer or adviser"),
    ("relative", "近亲属任职", "Relative works there"),
    ("other", "其他关联", "Other link"),
];

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct LinkInput {
    pub organisation_id: i64,
    /// `employee`, `board`, `volunteer`, `relative` or `other`.
    pub relation: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct LinkView {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub relation: String,
}

pub fn links_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<LinkView>> {
    Ok(evaluator_links::table
        .inner_join(organisations::table)
        .filter(evaluator_links::user_id.eq(user_id))
        .order(evaluator_links::organisation_id)
        .select((
            evaluator_links::organisation_id,
            organisations::name,
            evaluator_links::relation,
        ))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(organisation_id, organisation_name, relation)| LinkView {
            organisation_id,
            organisation_name,
            relation,
        })
        .collect())
}

/// Record what links an evaluator to an organisation (bureau, administrators); the panel check reads it.
pub fn link(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    user_id: i64,
    input: &LinkInput,
) -> Result<Vec<LinkView>, AppError> {
    write_tx(conn, |conn| -> Result<(), AppError> {
        let role: String = users::table
            .find(user_id)
            .select(users::role)
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound)?;
        let mut c = Checks::new();
        if role != "evaluator" {
            c.add(
                "user_id",
                "evaluator_role",
                "只能为评审专家登记关联。",
                "Links are recorded for evaluators only.",
            );
        }
        let org: Option<i64> = organisations::table
            .find(input.organisation_id)
            .select(organisations::id)
            .first(conn)
            .optional()?;
        if org.is_none() {
            c.add(
                "organisation_id",
                "exists",
                "没有这个组织。",
                "No such organisation.",
            );
        }
        if RELATIONS.iter().all(|(k, _, _)| *k != input.relation) {
            c.add(
                "relation",
                "one_of",
                "关联类型须为 employee、board、volunteer、relative 或 other。",
                "The relation is employee, board, volunteer, relative or other.",
            );
        }
        c.finish()?;
        diesel::delete(
            evaluator_links::table
                .filter(evaluator_links::user_id.eq(user_id))
                .filter(evaluator_links::organisation_id.eq(input.organisation_id)),
        )
        .execute(conn)?;
        diesel::insert_into(evaluator_links::table)
            .values((
                evaluator_links::user_id.eq(user_id),
                evaluator_links::organisation_id.eq(input.organisation_id),
                evaluator_links::relation.eq(&input.relation),
                evaluator_links::created_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "evaluator.link",
            "user",
            Some(user_id.to_string()),
            None,
            Some(
                serde_json::json!({ "organisation_id": input.organisation_id, "relation": input.relation }),
            ),
        )?;
        Ok(())
    })?;
    Ok(links_of(conn, user_id)?)
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct PanelInput {
    /// Evaluator user ids to seat (added to any already seated).
    pub evaluator_ids: Vec<i64>,
}

/// Seat evaluators (bureau), after opening. An evaluator the registry links to a bidding organisation is
/// refused; the seated panel (without recused members) must have the size and oddness the method needs.
pub fn form_panel(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &PanelInput,
) -> Result<Vec<MemberView>, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if !matches!(t.state(), State::Opened | State::Evaluating) {
            return Err(wrong_state(
                t.state(),
                "只有开标后、评审完成前可以组建评审委员会。",
                "the panel is formed after opening and before the evaluation ends.",
            ));
        }
        let existing = panel(conn, tender_id)?;
        let bidders = bidder_orgs(conn, tender_id)?;
        let mut c = Checks::new();
        let mut ids = input.evaluator_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            c.add(
                "evaluator_ids",
                "required",
                "请选择评审专家。",
                "Choose the evaluators.",
            );
        }
        for id in &ids {
            let u: Option<(String, String, bool)> = users::table
                .find(id)
                .select((users::display_name, users::role, users::active))
                .first(conn)
                .optional()?;
            match u {
                None => c.add(
                    "evaluator_ids",
                    "exists",
                    format!("用户 {id} 不存在。"),
                    format!("User {id} does not exist."),
                ),
                Some((name, role, active)) => {
                    if role != "evaluator" || !active {
                        c.add(
                            "evaluator_ids",
                            "evaluator_role",
                            format!("{name} 不是在用的评审专家账户（采购人工作人员不得作为评审专家）。"),
                            format!("{name} is not an active evaluator account (the buyer's staff may not sit as experts)."),
                        );
                    } else if existing.iter().any(|m| m.user_id == *id) {
                        c.add(
                            "evaluator_ids",
                            "duplicate",
                            format!("{name} 已在评审委员会中。"),
                            format!("{name} is already on the panel."),
                        );
                    } else if linked_to(conn, *id)?.iter().any(|o| bidders.contains(o)) {
                        c.add(
                            "evaluator_ids",
                            "conflict_of_interest",
                            format!("{name} 与投标组织存在关联（登记信息），应当回避。"),
                            format!("{name} is linked in the registry to a bidding organisation and must stand aside."),
                        );
                    }
                }
            }
        }
        let seated = existing
            .iter()
            .filter(|m| m.declaration.as_deref() != Some("conflict"))
            .count()
            + ids.len();
        if !rules::panel_ok(t.method(), t.budget_fen, seated) {
            let min = rules::min_panel(t.method(), t.budget_fen);
            c.add(
                "evaluator_ids",
                "panel_size",
                format!(
                    "{}的评审委员会至少 {min} 人且为单数（现为 {seated} 人）。",
                    t.method().label(true)
                ),
                format!(
                    "A panel for {} has at least {min} members, an odd number (now {seated}).",
                    t.method().label(false).to_lowercase()
                ),
            );
        }
        c.finish()?;
        let ts = crate::db::now_micros(now);
        for id in &ids {
            diesel::insert_into(panel_members::table)
                .values((
                    panel_members::tender_id.eq(tender_id),
                    panel_members::user_id.eq(id),
                    panel_members::added_at.eq(ts),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            actor,
            now,
            "tender.panel",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({ "added": ids })),
        )?;
        if t.state() == State::Opened {
            move_state(
                conn,
                actor,
                now,
                tender_id,
                State::Opened,
                State::Evaluating,
                Some(format!("评审委员会 {seated} 人 / panel of {seated}")),
            )?;
        }
        Ok(())
    })?;
    Ok(panel(conn, tender_id)?)
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct Declaration {
    /// True to declare a conflict of interest (and stand aside).
    pub conflict: bool,
    /// Required with a conflict: what links the evaluator to a bidder.
    pub note: Option<String>,
}

fn member(conn: &mut DbConn, tender_id: i64, user_id: i64) -> Result<MemberView, AppError> {
    panel(conn, tender_id)?
        .into_iter()
        .find(|m| m.user_id == user_id)
        // Not on this panel: as far as this evaluator is concerned, there is no such seat.
        .ok_or(AppError::NotFound)
}

/// An evaluator declares, before seeing any bid. A "no conflict" declaration by an evaluator the registry
/// links to a bidder is refused.
pub fn declare(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    d: &Declaration,
) -> Result<MemberView, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let m = member(conn, tender_id, user_id)?;
        if t.state() != State::Evaluating {
            return Err(wrong_state(
                t.state(),
                "现在不能申报。",
                "declarations are made during the evaluation.",
            ));
        }
        if m.declaration.is_some() {
            return Err(AppError::conflict(
                "already_declared",
                "已申报，不能更改。",
                "Already declared; a declaration cannot be changed.",
            ));
        }
        let note = d.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if d.conflict && note.is_none() {
            return Err(AppError::field(
                "note",
                "required",
                "申报利益冲突时请说明关系。",
                "Say what links you to a bidder.",
            ));
        }
        let bidders = bidder_orgs(conn, tender_id)?;
        if !d.conflict
            && linked_to(conn, user_id)?
                .iter()
                .any(|o| bidders.contains(o))
        {
            return Err(AppError::conflict(
                "conflict_of_interest",
                "登记信息显示您与投标组织存在关联，须回避。",
                "The registry links you to a bidding organisation: you must stand aside.",
            ));
        }
        diesel::update(
            panel_members::table
                .filter(panel_members::tender_id.eq(tender_id))
                .filter(panel_members::user_id.eq(user_id)),
        )
        .set((
            panel_members::declaration.eq(if d.conflict { "conflict" } else { "none" }),
            panel_members::declaration_note.eq(note),
            panel_members::declared_at.eq(crate::db::now_micros(now)),
        ))
        .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "panel.declare",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({ "user_id": user_id, "conflict": d.conflict, "note": note })),
        )?;
        Ok(())
    })?;
    member(conn, tender_id, user_id)
}

/// What an evaluator scores: the criteria, the valid bids, and their own scores so far.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ScoringSheet {
    pub tender_id: i64,
    pub criteria: rules::Criteria,
    pub bids: Vec<bids::OpenedBid>,
    pub submitted: bool,
    /// Own scores: bid seq → criterion → points.
    pub mine: BTreeMap<i64, BTreeMap<String, String>>,
}

fn valid_opened(conn: &mut DbConn, t: &TenderRow) -> Result<Vec<bids::OpenedBid>, AppError> {
    Ok(bids::opened_bids(conn, t)?
        .into_iter()
        .filter(|b| b.status == "active")
        .collect())
}

/// The sheet for an evaluator who has declared no conflict (403 otherwise: bids stay hidden until then).
pub fn sheet(
    conn: &mut DbConn,
    ctx: &Ctx,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<ScoringSheet, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    let t = find_row(conn, tender_id)?;
    let m = member(conn, tender_id, user_id)?;
    if m.declaration.as_deref() != Some("none") {
        return Err(AppError::conflict(
            "declare_first",
            "请先申报有无利益冲突，之后才能查看投标文件。",
            "Declare any conflict of interest before seeing the bids.",
        ));
    }
    let mut mine: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for (bid, crit, p) in bid_scores::table
        .inner_join(bt::table)
        .filter(bt::tender_id.eq(tender_id))
        .filter(bid_scores::evaluator_id.eq(user_id))
        .select((
            bid_scores::bid_id,
            bid_scores::criterion,
            bid_scores::points_centi,
        ))
        .load::<(i64, String, i64)>(conn)?
    {
        mine.entry(bid)
            .or_default()
            .insert(crit, rules::show(Decimal::new(p, 2)));
    }
    Ok(ScoringSheet {
        tender_id,
        criteria: t.criteria(),
        bids: valid_opened(conn, &t)?,
        submitted: m.submitted_at.is_some(),
        mine,
    })
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ScoreEntry {
    pub bid_seq: i64,
    pub criterion: String,
    /// Points, at most two decimals, 0 to the criterion's maximum.
    pub points: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ScoreInput {
    pub scores: Vec<ScoreEntry>,
}

/// An evaluator submits every score at once (every valid bid × every criterion); submitted scores are
/// final. When the last seated member submits, the evaluation is complete and its report locked.
pub fn submit_scores(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &ScoreInput,
) -> Result<ScoringSheet, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let m = member(conn, tender_id, user_id)?;
        if m.declaration.as_deref() != Some("none") {
            return Err(AppError::conflict(
                "declare_first",
                "请先申报有无利益冲突。",
                "Declare any conflict of interest first.",
            ));
        }
        if m.submitted_at.is_some() {
            return Err(AppError::conflict(
                "scores_locked",
                "评分已提交，不能修改。",
                "Scores are already submitted and cannot change.",
            ));
        }
        if t.state() != State::Evaluating {
            return Err(wrong_state(
                t.state(),
                "现在不能评分。",
                "scores are given during the evaluation.",
            ));
        }
        let criteria = t.criteria();
        let valid: Vec<i64> = valid_opened(conn, &t)?.iter().map(|b| b.seq).collect();
        let mut c = Checks::new();
        let mut got: HashMap<(i64, String), i64> = HashMap::new();
        for (i, s) in input.scores.iter().enumerate() {
            let f = format!("scores[{i}].points");
            let Some(crit) = criteria.items.iter().find(|k| k.key == s.criterion) else {
                c.add(
                    &format!("scores[{i}].criterion"),
                    "one_of",
                    "没有这个评分项。",
                    "No such criterion.",
                );
                continue;
            };
            if !valid.contains(&s.bid_seq) {
                c.add(
                    &format!("scores[{i}].bid_seq"),
                    "valid_bid",
                    "没有这份有效投标。",
                    "No such valid bid.",
                );
                continue;
            }
            match s.points.trim().parse::<Decimal>() {
                Ok(p)
                    if p.normalize().scale() <= 2 && p >= Decimal::ZERO && p <= crit.max_points =>
                {
                    let centi: i64 = (p * Decimal::from(100)).trunc().try_into().unwrap_or(0);
                    if got
                        .insert((s.bid_seq, s.criterion.clone()), centi)
                        .is_some()
                    {
                        c.add(&f, "duplicate", "同一项重复评分。", "Scored twice.");
                    }
                }
                _ => c.add(
                    &f,
                    "range",
                    format!(
                        "“{}”的得分须在 0–{} 之间，最多两位小数。",
                        crit.name, crit.max_points
                    ),
                    format!(
                        "Points for “{}” are 0 to {}, at most two decimals.",
                        crit.name, crit.max_points
                    ),
                ),
            }
        }
        if c.is_empty() {
            for b in &valid {
                for k in &criteria.items {
                    if !got.contains_key(&(*b, k.key.clone())) {
                        c.add(
                            "scores",
                            "complete",
                            format!("投标 #{b} 的“{}”未评分。", k.name),
                            format!("Bid #{b} has no score for “{}”.", k.name),
                        );
                    }
                }
            }
        }
        c.finish()?;
        for ((bid, crit), centi) in &got {
            diesel::insert_into(bid_scores::table)
                .values((
                    bid_scores::bid_id.eq(bid),
                    bid_scores::evaluator_id.eq(user_id),
                    bid_scores::criterion.eq(crit),
                    bid_scores::points_centi.eq(centi),
                ))
                .execute(conn)?;
        }
        diesel::update(
            panel_members::table
                .filter(panel_members::tender_id.eq(tender_id))
                .filter(panel_members::user_id.eq(user_id)),
        )
        .set(panel_members::submitted_at.eq(crate::db::now_micros(now)))
        .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "panel.scores",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({ "user_id": user_id, "scores": got.len() })),
        )?;
        let members = panel(conn, tender_id)?;
        let seated: Vec<_> = members
            .iter()
            .filter(|m| m.declaration.as_deref() != Some("conflict"))
            .collect();
        let complete = seated.iter().all(|m| m.submitted_at.is_some())
            && rules::panel_ok(t.method(), t.budget_fen, seated.len());
        if complete {
            diesel::update(tenders::table.find(tender_id))
                .set(tenders::evaluated_at.eq(crate::db::now_micros(now)))
                .execute(conn)?;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                State::Evaluating,
                State::Evaluated,
                Some("全部评审专家已提交评分，评审报告锁定 / all scores in, report locked".into()),
            )?;
        }
        Ok(())
    })?;
    sheet(conn, ctx, user_id, now, tender_id)
}

/// One bid in the ranking, with its organisation.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct RankedBid {
    #[serde(flatten)]
    pub ranked: Ranked,
    pub organisation_id: i64,
    pub organisation_name: String,
}

/// Rank the tender's valid opened bids from the submitted scores of the seated panel. A criterion's score
/// for a bid is the mean over those evaluators; the price score is computed.
pub fn ranking(conn: &mut DbConn, t: &TenderRow) -> Result<Vec<RankedBid>, AppError> {
    let valid = valid_opened(conn, t)?;
    let criteria = t.criteria();
    let category: HashMap<String, Category> = criteria
        .items
        .iter()
        .map(|k| (k.key.clone(), k.category))
        .collect();
    let scorers: Vec<i64> = panel(conn, t.id)?
        .into_iter()
        .filter(|m| m.declaration.as_deref() == Some("none") && m.submitted_at.is_some())
        .map(|m| m.user_id)
        .collect();
    let n = Decimal::from(scorers.len().max(1) as i64);
    let rows: Vec<(i64, String, i64)> = bid_scores::table
        .filter(bid_scores::bid_id.eq_any(valid.iter().map(|b| b.seq).collect::<Vec<_>>()))
        .filter(bid_scores::evaluator_id.eq_any(&scorers))
        .select((
            bid_scores::bid_id,
            bid_scores::criterion,
            bid_scores::points_centi,
        ))
        .load(conn)?;
    let mut sums: HashMap<i64, (i64, i64)> = HashMap::new();
    for (bid, crit, p) in rows {
        let e = sums.entry(bid).or_default();
        match category.get(&crit) {
            Some(Category::Technical) => e.0 += p,
            Some(Category::Commercial) => e.1 += p,
            None => {}
        }
    }
    let inputs: Vec<RankInput> = valid
        .iter()
        .map(|b| {
            let (tech, comm) = sums.get(&b.seq).copied().unwrap_or_default();
            RankInput {
                bid_id: b.seq,
                price_fen: b.content.price_fen,
                seq: b.seq,
                technical: Decimal::new(tech, 2) / n,
                commercial: Decimal::new(comm, 2) / n,
            }
        })
        .collect();
    let names: HashMap<i64, (i64, String)> = valid
        .iter()
        .map(|b| (b.seq, (b.organisation_id, b.organisation_name.clone())))
        .collect();
    Ok(rules::rank(&inputs, criteria.price_weight_pct)
        .into_iter()
        .map(|r| {
            let (oid, name) = names.get(&r.bid_id).cloned().unwrap_or_default();
            RankedBid {
                ranked: r,
                organisation_id: oid,
                organisation_name: name,
            }
        })
        .collect())
}

/// One evaluator's points for one bid.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct EvaluatorScores {
    pub evaluator: String,
    /// Points per criterion, in the criteria's order (two decimals).
    pub points: Vec<String>,
    pub sum: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ReportBid {
    pub seq: i64,
    pub organisation_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub price: String,
    pub rank: Option<u32>,
    pub price_score: Option<String>,
    pub technical: Option<String>,
    pub commercial: Option<String>,
    pub total: Option<String>,
    pub by_evaluator: Vec<EvaluatorScores>,
}

/// The evaluation report: every evaluator's scores and the computed ranking. Scores appear only once the
/// report is locked (every seated member submitted); before that, only who has submitted.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct EvaluationReport {
    pub tender_id: i64,
    pub locked: bool,
    pub criteria: rules::Criteria,
    pub panel: Vec<MemberView>,
    pub bids: Vec<ReportBid>,
    pub award_seq: Option<i64>,
    pub award_reason: Option<String>,
}

pub fn report(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<EvaluationReport, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    let t = find_row(conn, tender_id)?;
    let opened = bids::opened_bids(conn, &t)?;
    let members = panel(conn, tender_id)?;
    let locked = t.evaluated_at.is_some();
    let criteria = t.criteria();
    let ranked: HashMap<i64, Ranked> = if locked {
        ranking(conn, &t)?
            .into_iter()
            .map(|r| (r.ranked.bid_id, r.ranked))
            .collect()
    } else {
        HashMap::new()
    };
    let mut points: HashMap<(i64, i64, String), i64> = HashMap::new();
    if locked {
        for (b, e, c, p) in bid_scores::table
            .filter(bid_scores::bid_id.eq_any(opened.iter().map(|b| b.seq).collect::<Vec<_>>()))
            .select((
                bid_scores::bid_id,
                bid_scores::evaluator_id,
                bid_scores::criterion,
                bid_scores::points_centi,
            ))
            .load::<(i64, i64, String, i64)>(conn)?
        {
            points.insert((b, e, c), p);
        }
    }
    let mut out: Vec<ReportBid> = opened
        .iter()
        .map(|b| {
            let r = ranked.get(&b.seq);
            ReportBid {
                seq: b.seq,
                organisation_name: b.organisation_name.clone(),
                status: b.status.clone(),
                status_reason: b.status_reason.clone(),
                price: b.price.clone(),
                rank: r.map(|r| r.rank),
                price_score: r.map(|r| rules::show(r.price_score)),
                technical: r.map(|r| rules::show(r.technical)),
                commercial: r.map(|r| rules::show(r.commercial)),
                total: r.map(|r| rules::show(r.total)),
                by_evaluator: if locked {
                    members
                        .iter()
                        .filter(|m| m.submitted_at.is_some())
                        .map(|m| {
                            let ps: Vec<i64> = criteria
                                .items
                                .iter()
                                .map(|k| {
                                    *points.get(&(b.seq, m.user_id, k.key.clone())).unwrap_or(&0)
                                })
                                .collect();
                            EvaluatorScores {
                                evaluator: m.name.clone(),
                                sum: rules::show(Decimal::new(ps.iter().sum(), 2)),
                                points: ps
                                    .into_iter()
                                    .map(|p| rules::show(Decimal::new(p, 2)))
                                    .collect(),
                            }
                        })
                        .collect()
                } else {
                    vec![]
                },
            }
        })
        .collect();
    out.sort_by_key(|b| (b.rank.unwrap_or(u32::MAX), b.seq));
    Ok(EvaluationReport {
        tender_id,
        locked,
        criteria,
        panel: members,
        bids: out,
        award_seq: t.award_bid_id,
        award_reason: t.award_reason.clone(),
    })
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ConfirmInput {
    /// The receipt number of the bid to award (normally the first-ranked).
    pub bid_seq: i64,
    /// Required when it is not the first-ranked bid: why.
    pub reason: Option<String>,
}

/// The bureau confirms the winner (normally the first-ranked bid; another one only with a reason).
/// Standing and eligibility are checked again.
pub fn confirm(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &ConfirmInput,
) -> Result<(), AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if t.state() != State::Evaluated {
            return Err(super::illegal(t.state(), State::AwardProposed));
        }
        let r = ranking(conn, &t)?;
        let Some(pick) = r.iter().find(|x| x.ranked.bid_id == input.bid_seq) else {
            return Err(AppError::field(
                "bid_seq",
                "valid_bid",
                "请选择一份有效投标。",
                "Choose a valid bid.",
            ));
        };
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if pick.ranked.rank != 1 && reason.is_none() {
            return Err(AppError::field(
                "reason",
                "required_not_first",
                "确定非排名第一的投标人须说明理由。",
                "Choosing a bid that is not ranked first needs a reason.",
            ));
        }
        let refused = bids::refusals(conn, ctx, &t, pick.organisation_id, today(now))?;
        if !refused.is_empty() {
            return Err(AppError::Validation(refused));
        }
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::award_bid_id.eq(pick.ranked.bid_id),
                tenders::award_reason.eq(reason),
            ))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            tender_id,
            State::Evaluated,
            State::AwardProposed,
            Some(format!(
                "拟中标：{}（第 {} 名）/ proposed: rank {}{}",
                pick.organisation_name,
                pick.ranked.rank,
                pick.ranked.rank,
                reason.map(|r| format!("；{r}")).unwrap_or_default()
            )),
        )
    })
}

/// Publish the result notice: publicity for the configured working days, then the challenge window.
/// Every bidder is told.
pub fn publish_result(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<(), AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if t.state() != State::AwardProposed {
            return Err(super::illegal(t.state(), State::Publicity));
        }
        let publicity_ends =
            super::working_days_end(&ctx.cal, now, ctx.rules.publicity_working_days);
        // The challenge window is counted in working days from the last day of the publicity.
        let last_day = publicity_ends.and_utc() - chrono::Duration::hours(1);
        let challenge_ends =
            super::working_days_end(&ctx.cal, last_day, ctx.rules.challenge_working_days);
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::publicity_ends.eq(publicity_ends),
                tenders::challenge_ends.eq(challenge_ends),
            ))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            tender_id,
            State::AwardProposed,
            State::Publicity,
            None,
        )?;
        let t = find_row(conn, tender_id)?;
        let notice = result_notice(conn, ctx, &t)?.ok_or_else(|| AppError::internal("no award"))?;
        let bidders: Vec<i64> = bidder_orgs(conn, tender_id)?.into_iter().collect();
        for (name, email) in super::contacts(conn, &bidders)? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::TenderResult {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    winner: notice.winner_name.clone(),
                    price: crate::money::yuan_grouped(notice.price_fen),
                    challenge_ends: crate::clock::display(challenge_ends),
                    url: super::tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct DisqualifyInput {
    pub bid_seq: i64,
    pub reason: String,
}

/// The bureau disqualifies an opened bid (with a reason); a disqualified winner passes the award on.
pub fn disqualify(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &DisqualifyInput,
) -> Result<(), AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if !matches!(
            t.state(),
            State::Opened
                | State::Evaluating
                | State::Evaluated
                | State::AwardProposed
                | State::Publicity
                | State::Challenge
        ) {
            return Err(wrong_state(
                t.state(),
                "现在不能取消投标资格。",
                "bids are disqualified between opening and the final award.",
            ));
        }
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::field(
                "reason",
                "required",
                "请说明理由（最多 500 字）。",
                "Give a reason (at most 500 characters).",
            ));
        }
        let b = bids::find_bid(conn, input.bid_seq)?;
        if b.tender_id != tender_id || b.status != "active" || b.opened_json.is_none() {
            return Err(AppError::field(
                "bid_seq",
                "valid_bid",
                "没有这份有效投标。",
                "No such valid bid.",
            ));
        }
        bids::set_status(conn, actor, now, &t, b.id, "disqualified", reason)?;
        after_bid_lost(conn, ctx, actor, now, &t, b.id)
    })
}

/// After a bid is withdrawn or disqualified post-opening: pass the award on if it was the winner, or fail
/// the tender when too few valid bids remain before the award.
pub fn after_bid_lost(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
    bid: i64,
) -> Result<(), AppError> {
    let t = find_row(conn, t.id)?;
    if t.award_bid_id == Some(bid) {
        pass_award(conn, ctx, actor, now, &t)
    } else if matches!(
        t.state(),
        State::Opened | State::Evaluating | State::Evaluated
    ) {
        fail_if_too_few(conn, ctx, actor, now, t.id)
    } else {
        Ok(())
    }
}

/// Give the award to the best-ranked remaining valid bid that may still be awarded, back to "award
/// proposed" (its result must be published again); none left → failed.
pub fn pass_award(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<(), AppError> {
    let from = t.state();
    for r in ranking(conn, t)? {
        if bids::refusals(conn, ctx, t, r.organisation_id, today(now))?.is_empty() {
            diesel::update(tenders::table.find(t.id))
                .set((
                    tenders::award_bid_id.eq(r.ranked.bid_id),
                    tenders::award_reason.eq("原中标人撤回或被取消资格，由排名其后的有效投标人递补 / passed to the next-ranked valid bid"),
                    tenders::publicity_ends.eq(None::<NaiveDateTime>),
                    tenders::challenge_ends.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            let note = Some(format!(
                "递补：{}（第 {} 名）/ passed on to rank {}",
                r.organisation_name, r.ranked.rank, r.ranked.rank
            ));
            if from == State::AwardProposed {
                super::log_event(
                    conn,
                    actor,
                    now,
                    t.id,
                    Some(from),
                    from,
                    "tender.award_passed",
                    note,
                )?;
            } else {
                move_state(conn, actor, now, t.id, from, State::AwardProposed, note)?;
            }
            return Ok(());
        }
    }
    diesel::update(tenders::table.find(t.id))
        .set((
            tenders::award_bid_id.eq(None::<i64>),
            tenders::end_reason.eq("没有可递补的有效投标 / no valid bid left to award"),
        ))
        .execute(conn)?;
    move_state(
        conn,
        actor,
        now,
        t.id,
        from,
        State::Failed,
        Some("没有可递补的有效投标 / no valid bid left".into()),
    )
}

/// Fail the tender (流标) when fewer valid bids remain than its method needs.
pub fn fail_if_too_few(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<(), AppError> {
    let t = find_row(conn, tender_id)?;
    let valid: i64 = bt::table
        .filter(bt::tender_id.eq(tender_id))
        .filter(bt::status.eq("active"))
        .filter(bt::opened_json.is_not_null())
        .count()
        .get_result(conn)?;
    let min = ctx.rules.min_bids(t.method());
    if valid < i64::from(min) {
        let reason = format!(
            "有效投标 {valid} 家，少于{}要求的 {min} 家 / {valid} valid bids, fewer than the {min} required",
            t.method().label(true)
        );
        diesel::update(tenders::table.find(tender_id))
            .set(tenders::end_reason.eq(&reason))
            .execute(conn)?;
        move_state(
            conn,
            actor,
            now,
            tender_id,
            t.state(),
            State::Failed,
            Some(reason),
        )?;
    }
    Ok(())
}

/// At the end of the challenge window: with no open challenge, check the winner once more and make the
/// award final (or pass it on). Returns whether anything changed.
pub fn finalise(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<bool, AppError> {
    let open: i64 = challenges::table
        .filter(challenges::tender_id.eq(t.id))
        .filter(challenges::status.eq("open"))
        .count()
        .get_result(conn)?;
    if open > 0 {
        return Ok(false);
    }
    let Some(bid) = t.award_bid_id else {
        return Ok(false);
    };
    let b = bids::find_bid(conn, bid)?;
    let refused = bids::refusals(conn, ctx, t, b.organisation_id, today(now))?;
    if !refused.is_empty() {
        let why = refused
            .iter()
            .map(|e| e.message.zh.clone())
            .collect::<Vec<_>>()
            .join("；");
        bids::set_status(
            conn,
            actor,
            now,
            t,
            bid,
            "disqualified",
            &format!("授予前复核不合格：{why}"),
        )?;
        pass_award(conn, ctx, actor, now, t)?;
        return Ok(true);
    }
    diesel::update(tenders::table.find(t.id))
        .set(tenders::awarded_at.eq(crate::db::now_micros(now)))
        .execute(conn)?;
    move_state(
        conn,
        actor,
        now,
        t.id,
        State::Challenge,
        State::Awarded,
        None,
    )?;
    Ok(true)
}

/// The public result notice, once there is a winner.
pub fn result_notice(
    conn: &mut DbConn,
    _ctx: &Ctx,
    t: &TenderRow,
) -> Result<Option<ResultNotice>, AppError> {
    let Some(bid) = t.award_bid_id else {
        return Ok(None);
    };
    let (org, price): (i64, Option<i64>) = bt::table
        .find(bid)
        .select((bt::organisation_id, bt::price_fen))
        .first(conn)?;
    let (name, code): (String, Option<String>) = organisations::table
        .find(org)
        .select((organisations::name, organisations::credit_code))
        .first(conn)?;
    let panel_size = panel(conn, t.id)?
        .iter()
        .filter(|m| m.declaration.as_deref() == Some("none") && m.submitted_at.is_some())
        .count() as i64;
    let scores = ranking(conn, t)?
        .into_iter()
        .map(|r| ScoreLine {
            rank: r.ranked.rank,
            organisation_name: r.organisation_name,
            total: rules::show(r.ranked.total),
        })
        .collect();
    let price_fen = price.unwrap_or(0);
    Ok(Some(ResultNotice {
        winner_id: org,
        winner_name: name,
        winner_credit_code: code,
        price: crate::money::yuan(price_fen),
        price_fen,
        panel_size,
        scores,
        publicity_ends: t.publicity_ends,
        challenge_ends: t.challenge_ends,
    }))
}

// ---------------------------------------------------------------------------------------------------------
// Challenges (质疑).

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct NewChallenge {
    pub grounds: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ChallengeAnswer {
    /// True when the challenge is upheld.
    pub upheld: bool,
    pub answer: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ChallengeView {
    pub id: i64,
    pub tender_id: i64,
    pub organisation_name: String,
    pub grounds: String,
    #[schema(value_type = String)]
    pub filed_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub answer_due: chrono::NaiveDate,
    pub status: String,
    pub answer: Option<String>,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<NaiveDateTime>,
    pub overdue: bool,
}

/// Challenges of a tender: all for the bureau and administrators, its own for an organisation.
pub fn challenges_of(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    tender_id: i64,
    only_org: Option<i64>,
) -> QueryResult<Vec<ChallengeView>> {
    let mut q = challenges::table
        .inner_join(organisations::table)
        .filter(challenges::tender_id.eq(tender_id))
        .into_boxed();
    if let Some(o) = only_org {
        q = q.filter(challenges::organisation_id.eq(o));
    }
    let today = today(now);
    Ok(q.order(challenges::id)
        .select((
            challenges::id,
            organisations::name,
            challenges::grounds,
            challenges::filed_at,
            challenges::answer_due,
            challenges::status,
            challenges::answer,
            challenges::answered_at,
        ))
        .load::<(
            i64,
            String,
            String,
            NaiveDateTime,
            chrono::NaiveDate,
            String,
            Option<String>,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(
            |(
                id,
                organisation_name,
                grounds,
                filed_at,
                answer_due,
                status,
                answer,
                answered_at,
            )| ChallengeView {
                id,
                tender_id,
                organisation_name,
                grounds,
                filed_at,
                overdue: status == "open" && today > answer_due,
                answer_due,
                status,
                answer,
                answered_at,
            },
        )
        .collect())
}

/// A bidder files a challenge during the publicity period or the challenge window; it blocks the award
/// from becoming final until answered.
#[allow(clippy::too_many_arguments)]
pub fn file_challenge(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    org_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &NewChallenge,
) -> Result<ChallengeView, AppError> {
    super::advance(conn, ctx, now, tender_id)?;
    let id = write_tx(conn, |conn| -> Result<i64, AppError> {
        let t = super::visible_row(conn, tender_id, false)?;
        let ts = crate::db::now_micros(now);
        if !matches!(t.state(), State::Publicity | State::Challenge)
            || t.challenge_ends.is_some_and(|e| ts >= e)
        {
            return Err(wrong_state(
                t.state(),
                "只能在结果公示期和质疑期内提出质疑。",
                "challenges are filed during the publicity period and the challenge window.",
            ));
        }
        if !bidder_orgs(conn, tender_id)?.contains(&org_id) {
            return Err(AppError::conflict(
                "not_a_bidder",
                "只有参加本项目投标的组织可以质疑。",
                "Only organisations that bid on this tender may challenge it.",
            ));
        }
        let grounds = input.grounds.trim();
        if grounds.is_empty() || grounds.chars().count() > 5000 {
            return Err(AppError::field(
                "grounds",
                "required",
                "请写明质疑事项和理由（最多 5000 字）。",
                "State the grounds (at most 5000 characters).",
            ));
        }
        let (due, _) = ctx
            .cal
            .add_working_days(today(now), ctx.rules.answer_working_days);
        let id: i64 = diesel::insert_into(challenges::table)
            .values((
                challenges::tender_id.eq(tender_id),
                challenges::organisation_id.eq(org_id),
                challenges::filed_by.eq(user_id),
                challenges::grounds.eq(grounds),
                challenges::filed_at.eq(ts),
                challenges::answer_due.eq(due),
                challenges::status.eq("open"),
            ))
            .returning(challenges::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "challenge.file",
            "challenge",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({ "tender_id": tender_id, "grounds": grounds })),
        )?;
        super::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenged",
            Some(format!(
                "收到质疑 #{id}，答复期限 {due} / challenge #{id} filed, answer due {due}"
            )),
        )?;
        let mut to = super::contacts(conn, &[org_id])?;
        if let Some(e) = super::officer_email(conn, &t)? {
            to.push(("采购人 / Buyer".into(), e));
        }
        for (name, email) in to {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ChallengeFiled {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    id,
                    grounds: grounds.to_string(),
                    answer_due: due.to_string(),
                    url: super::tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(id)
    })?;
    Ok(challenges_of(conn, now, tender_id, Some(org_id))?
        .into_iter()
        .find(|c| c.id == id)
        .expect("just filed"))
}

/// The bureau answers a challenge (upheld or rejected, with reasons); both sides are told.
pub fn answer_challenge(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    challenge_id: i64,
    input: &ChallengeAnswer,
) -> Result<ChallengeView, AppError> {
    let (tender_id, org_id): (i64, i64) = challenges::table
        .find(challenge_id)
        .select((challenges::tender_id, challenges::organisation_id))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let status: String = challenges::table
            .find(challenge_id)
            .select(challenges::status)
            .first(conn)?;
        if status != "open" {
            return Err(AppError::conflict(
                "already_answered",
                "该质疑已答复。",
                "This challenge is already answered.",
            ));
        }
        let answer = input.answer.trim();
        if answer.is_empty() || answer.chars().count() > 5000 {
            return Err(AppError::field(
                "answer",
                "required",
                "请写明答复和理由（最多 5000 字）。",
                "Give the answer and its reasons (at most 5000 characters).",
            ));
        }
        let outcome = if input.upheld { "upheld" } else { "rejected" };
        diesel::update(challenges::table.find(challenge_id))
            .set((
                challenges::status.eq(outcome),
                challenges::answer.eq(answer),
                challenges::answered_at.eq(crate::db::now_micros(now)),
                challenges::answered_by.eq(user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "challenge.answer",
            "challenge",
            Some(challenge_id.to_string()),
            Some(serde_json::json!({ "status": "open" })),
            Some(serde_json::json!({ "status": outcome, "answer": answer })),
        )?;
        super::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.challenge_answered",
            Some(format!(
                "质疑 #{challenge_id} {} / challenge #{challenge_id} {outcome}",
                if input.upheld { "成立" } else { "不成立" }
            )),
        )?;
        let mut to = super::contacts(conn, &[org_id])?;
        if let Some(e) = super::officer_email(conn, &t)? {
            to.push(("采购人 / Buyer".into(), e));
        }
        for (name, email) in to {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::ChallengeAnswered {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    id: challenge_id,
                    upheld: input.upheld,
                    answer: answer.to_string(),
                    url: super::tender_url(ctx, tender_id),
                },
            )?;
        }
        // An upheld challenge sets the published result aside: the bureau decides again (another bid with
        // a reason, a disqualification, or a cancellation) and publishes a new result.
        if input.upheld && matches!(t.state(), State::Publicity | State::Challenge) {
            diesel::update(tenders::table.find(tender_id))
                .set((
                    tenders::award_bid_id.eq(None::<i64>),
                    tenders::publicity_ends.eq(None::<NaiveDateTime>),
                    tenders::challenge_ends.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                t.state(),
                State::Evaluated,
                Some("质疑成立，中标结果撤销，须重新确定 / challenge upheld: the result is set aside".into()),
            )?;
        }
        Ok(())
    })?;
    super::advance(conn, ctx, now, tender_id)?;
    Ok(challenges_of(conn, now, tender_id, None)?
        .into_iter()
        .find(|c| c.id == challenge_id)
        .expect("exists"))
}

/// The content of a bid, for templates.
pub fn content_lines(c: &BidContent, zh: bool) -> Vec<(String, String)> {
    c.budget
        .iter()
        .map(|l| {
            (
                c.line_label(&l.line, zh).to_string(),
                crate::money::yuan_grouped(l.amount_fen),
            )
        })
        .collect()
}
