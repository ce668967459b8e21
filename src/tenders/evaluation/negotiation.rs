//! 竞争性谈判 (财政部令第74号): the record that a negotiation was moved here after a failed open tender
//! (two responses then suffice, Art 27), the panel's compliance decision on each response (实质性响应),
//! the rounds of negotiation with each compliant supplier's quote (the last is its final quote, Art 33),
//! and the final quotes the ranking reads (lowest first, 政府采购法 Art 38(5); Art 36). Rules in
//! `domain::tender::negotiation`; the award, result and contract flow is the one every method uses, and the
//! price it carries is [`award_price`].

use super::*;
use crate::db::schema::{
    bid_compliance, negotiation_origins, negotiation_quotes, negotiation_rounds,
};
use crate::domain::money::Fen;
use crate::domain::tender::Note;

/// Where a negotiation came from (74号令 Art 27), recorded while it is a draft.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OriginInput {
    /// The open tender that failed (流标) and whose project moves to this negotiation.
    pub failed_tender_id: i64,
}

/// The panel's decision on one response.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceInput {
    pub bid_seq: i64,
    /// True: the response is substantially compliant (实质性响应).
    pub compliant: bool,
    /// Why (required, at most 500 characters).
    pub reason: String,
}

/// One supplier's quote in a round.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteEntry {
    pub bid_seq: i64,
    /// Yuan as text, at most two decimals; empty or absent: the supplier declines to quote again and
    /// keeps its last quote.
    #[serde(default)]
    pub price: Option<String>,
    /// What was negotiated with it in this round (at most 500 characters).
    #[serde(default)]
    pub note: String,
}

/// A round of negotiation: a quote (or a declination) from every compliant supplier.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    pub quotes: Vec<QuoteEntry>,
    /// The final round (最后报价, 74号令 Art 33): its quotes are final, the panel's report is locked and
    /// the ranking by final quote follows.
    #[serde(default, rename = "final")]
    pub is_final: bool,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ComplianceView {
    pub bid_seq: i64,
    pub organisation_name: String,
    /// `null` until the panel decided.
    pub compliant: Option<bool>,
    pub reason: Option<String>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct QuoteView {
    pub bid_seq: i64,
    pub organisation_name: String,
    /// Yuan, two decimals; `null` when the supplier declined to quote again.
    pub price: Option<String>,
    pub note: String,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct RoundView {
    pub round: i32,
    #[serde(rename = "final")]
    pub is_final: bool,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
    pub quotes: Vec<QuoteView>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct FinalQuoteView {
    pub bid_seq: i64,
    pub organisation_name: String,
    /// The supplier's last quote (yuan, two decimals).
    pub price: String,
    pub price_fen: i64,
    /// Rank by final quote, lowest first, once the final round is recorded.
    pub rank: Option<u32>,
}

/// The negotiation record of a tender: for the bureau, administrators and the panel.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct NegotiationView {
    pub tender_id: i64,
    /// The failed open tender this negotiation was moved from (74号令 Art 27), if any.
    pub moved_from: Option<i64>,
    /// The fewest compliant suppliers the negotiation goes on with: 3, or 2 when moved.
    pub min_suppliers: u32,
    pub compliance: Vec<ComplianceView>,
    pub rounds: Vec<RoundView>,
    pub final_quotes: Vec<FinalQuoteView>,
    /// The final round is recorded and the report locked.
    pub closed: bool,
}

/// The failed open tender a negotiation was moved from.
pub fn moved_from(conn: &mut DbConn, tender_id: i64) -> QueryResult<Option<i64>> {
    negotiation_origins::table
        .find(tender_id)
        .select(negotiation_origins::failed_tender_id)
        .first(conn)
        .optional()
}

/// The fewest valid responses this tender goes on with ([`rules::min_bids_for`]).
pub fn min_bids(conn: &mut DbConn, ctx: &Ctx, t: &TenderRow) -> QueryResult<u32> {
    let moved = t.method() == rules::Method::Negotiation && moved_from(conn, t.id)?.is_some();
    Ok(rules::min_bids_for(&ctx.rules, t.method(), moved))
}

/// The price the award carries: a single source's agreed price from its negotiation record (74号令 Art 42),
/// the winning supplier's final quote in a negotiation (its last quote over the rounds), else the bid's
/// price as opened. The one reading of the winning price for the result notice, the award letter's mail,
/// the budget released at the award and the contract's amount.
pub fn award_price(conn: &mut DbConn, bid_id: i64) -> Result<Fen, AppError> {
    let tender: i64 = bt::table.find(bid_id).select(bt::tender_id).first(conn)?;
    if let Some(p) = crate::tenders::single_source::agreed_price(conn, tender)? {
        return Ok(p);
    }
    let last: Option<i64> = negotiation_quotes::table
        .filter(negotiation_quotes::bid_id.eq(bid_id))
        .filter(negotiation_quotes::price_fen.is_not_null())
        .order(negotiation_quotes::round.desc())
        .select(negotiation_quotes::price_fen)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    if let Some(p) = last {
        return Ok(Fen::new(p));
    }
    let opened: Option<i64> = bt::table.find(bid_id).select(bt::price_fen).first(conn)?;
    opened
        .map(Fen::new)
        .ok_or_else(|| AppError::internal("the winning bid was not opened"))
}

fn not_negotiation() -> AppError {
    AppError::conflict(
        "not_negotiation",
        "只有竞争性谈判项目有谈判记录。",
        "Only a competitive negotiation has a negotiation record.",
    )
}

/// Record that a draft negotiation was moved here after a failed open tender (bureau). The failed tender
/// must be an open tender in state failed, moved at most once (409 `already_exists` on a race).
pub fn record_origin(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &OriginInput,
) -> Result<NegotiationView, AppError> {
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        if t.state() != State::Draft {
            return Err(wrong_state(
                t.state(),
                "只能在草稿阶段记录项目由公开招标失败转来。",
                "the origin is recorded while the tender is a draft.",
            ));
        }
        if moved_from(conn, tender_id)?.is_some() {
            return Err(AppError::conflict(
                "origin_recorded",
                "已记录该项目的来源，不能更改。",
                "The origin is already recorded and cannot change.",
            ));
        }
        let from: Option<(String, String, String)> = tenders::table
            .find(input.failed_tender_id)
            .filter(tenders::id.ne(tender_id))
            .select((tenders::method, tenders::state, tenders::code))
            .first(conn)
            .optional()?;
        let parsed = from
            .as_ref()
            .and_then(|(m, s, _)| Some((rules::Method::parse(m)?, State::parse(s)?)));
        let broken = rules::check_moved_from(t.method(), parsed);
        if !broken.is_empty() {
            return Err(AppError::Validation(crate::tenders::broken_errors(broken)));
        }
        let taken: bool = negotiation_origins::table
            .filter(negotiation_origins::failed_tender_id.eq(input.failed_tender_id))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if taken {
            return Err(AppError::field(
                "failed_tender_id",
                "unique",
                "该流标项目已转为另一个竞争性谈判项目。",
                "That failed tender was already moved to another negotiation.",
            ));
        }
        diesel::insert_into(negotiation_origins::table)
            .values((
                negotiation_origins::tender_id.eq(tender_id),
                negotiation_origins::failed_tender_id.eq(input.failed_tender_id),
                negotiation_origins::recorded_at.eq(crate::db::now_micros(now)),
                negotiation_origins::actor_name.eq(&actor.name),
            ))
            .execute(conn)?;
        let code = from.map(|f| f.2).unwrap_or_default();
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(State::Draft),
            State::Draft,
            "tender.negotiation_origin",
            Some(Note::NegotiationOrigin { from: code }),
        )?;
        Ok(())
    })?;
    view(conn, ctx, now, tender_id)
}

/// A panel member may act for the panel: seated, declared no conflict, on a panel every seated member of
/// which has declared and whose size the method allows.
fn acting_member(conn: &mut DbConn, t: &TenderRow, user_id: i64) -> Result<(), AppError> {
    let m = member(conn, t.id, user_id)?;
    if m.declaration.as_deref() != Some("none") {
        return Err(AppError::conflict(
            "declare_first",
            "请先申报有无利益冲突。",
            "Declare any conflict of interest first.",
        ));
    }
    let (seated, allowed) = super::panel::seated_panel(conn, t)?;
    if seated.iter().any(|m| m.declaration.is_none()) || !allowed {
        return Err(AppError::conflict(
            "panel_not_ready",
            "谈判小组成员须全部申报且人数符合要求（3 人以上单数）后才能进行。",
            "Every seated member must have declared and the panel must have its size (3 or more, odd) first.",
        ));
    }
    Ok(())
}

fn check_open_negotiation(t: &TenderRow) -> Result<(), AppError> {
    if t.method() != rules::Method::Negotiation {
        return Err(not_negotiation());
    }
    if t.state() != State::Evaluating {
        return Err(wrong_state(
            t.state(),
            "谈判在开标后、最后报价前进行；最后一轮报价后评审报告已锁定。",
            "negotiation happens after opening and before the final round; after it the report is locked.",
        ));
    }
    Ok(())
}

/// The compliance decisions: bid seq → compliant.
fn decisions(conn: &mut DbConn, tender_id: i64) -> QueryResult<HashMap<i64, (bool, String)>> {
    Ok(bid_compliance::table
        .filter(bid_compliance::tender_id.eq(tender_id))
        .select((
            bid_compliance::bid_id,
            bid_compliance::compliant,
            bid_compliance::reason,
        ))
        .load::<(i64, bool, String)>(conn)?
        .into_iter()
        .map(|(b, c, r)| (b, (c, r)))
        .collect())
}

/// The compliant responses still in the negotiation: active opened bids the panel found compliant.
pub fn compliant_bids(
    conn: &mut DbConn,
    t: &TenderRow,
    opened: &[bids::OpenedBid],
) -> QueryResult<Vec<i64>> {
    let d = decisions(conn, t.id)?;
    Ok(opened
        .iter()
        .filter(|b| b.status == "active" && d.get(&b.seq).is_some_and(|x| x.0))
        .map(|b| b.seq)
        .collect())
}

/// The panel decides whether one response is substantially compliant (a seated member who declared no
/// conflict records it for the panel, with the reason; final). When every valid response is decided and
/// fewer compliant suppliers remain than the negotiation needs, it ends as failed (74号令 Art 37(3)).
pub fn decide_compliance(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &ComplianceInput,
) -> Result<NegotiationView, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        member(conn, tender_id, user_id)?;
        check_open_negotiation(&t)?;
        acting_member(conn, &t, user_id)?;
        let opened = bids::opened_bids(conn, &t)?;
        let Some(b) = opened
            .iter()
            .find(|b| b.seq == input.bid_seq && b.status == "active")
        else {
            return Err(AppError::field(
                "bid_seq",
                "valid_bid",
                "没有这份有效响应文件。",
                "No such valid response.",
            ));
        };
        let reason = crate::error::required_text(
            "reason",
            &input.reason,
            500,
            "请说明理由（最多 500 字）。",
            "Give the reason (at most 500 characters).",
        )?;
        if decisions(conn, tender_id)?.contains_key(&b.seq) {
            return Err(AppError::conflict(
                "compliance_decided",
                "已判定该响应文件是否实质性响应，不能更改。",
                "The panel has already decided on this response.",
            ));
        }
        diesel::insert_into(bid_compliance::table)
            .values((
                bid_compliance::bid_id.eq(b.seq),
                bid_compliance::tender_id.eq(tender_id),
                bid_compliance::compliant.eq(input.compliant),
                bid_compliance::reason.eq(reason),
                bid_compliance::decided_by.eq(user_id),
                bid_compliance::decided_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        // The decision, its reason and the supplier go to the audit trail (staff) only.
        audit::record(
            conn,
            actor,
            now,
            "tender.compliance",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({
                "bid_seq": b.seq, "organisation_id": b.organisation_id,
                "compliant": input.compliant, "reason": reason,
            })),
        )?;
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(State::Evaluating),
            State::Evaluating,
            "tender.compliance_logged",
            // The timeline is public: which response was found wanting stays with the panel and the
            // audit trail (nothing about other suppliers is disclosed in a negotiation, 政府采购法
            // Art 38(3)).
            Some(Note::ComplianceLogged),
        )?;
        let d = decisions(conn, tender_id)?;
        let active: Vec<i64> = opened
            .iter()
            .filter(|b| b.status == "active")
            .map(|b| b.seq)
            .collect();
        if active.iter().all(|s| d.contains_key(s)) {
            let compliant = active.iter().filter(|s| d[*s].0).count();
            let min = min_bids(conn, ctx, &t)?;
            if compliant < min as usize {
                let reason = Note::TooFewCompliant {
                    compliant: compliant as u32,
                    min,
                };
                diesel::update(tenders::table.find(tender_id))
                    .set(tenders::end_reason.eq(reason.stored()))
                    .execute(conn)?;
                move_state(
                    conn,
                    actor,
                    now,
                    tender_id,
                    State::Evaluating,
                    State::Failed,
                    Some(reason),
                )?;
            }
        }
        Ok(())
    })?;
    view(conn, ctx, now, tender_id)
}

/// The panel records a round of negotiation: every compliant supplier's new quote (yuan, within the
/// budget) or its declination (it keeps its last), with a note. Only compliant suppliers quote; every
/// response must be decided first. The final round (`final`) locks the report: the tender moves to
/// evaluated and is ranked by final quote, ties drawn and recorded.
pub fn record_round(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &RoundInput,
) -> Result<NegotiationView, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_row(conn, "tenders", tender_id)?;
        let t = find_row(conn, tender_id)?;
        member(conn, tender_id, user_id)?;
        check_open_negotiation(&t)?;
        acting_member(conn, &t, user_id)?;
        let opened = bids::opened_bids(conn, &t)?;
        let d = decisions(conn, tender_id)?;
        if opened
            .iter()
            .any(|b| b.status == "active" && !d.contains_key(&b.seq))
        {
            return Err(AppError::conflict(
                "compliance_first",
                "请先判定每份有效响应文件是否实质性响应。",
                "Decide on every valid response's compliance first.",
            ));
        }
        let compliant = compliant_bids(conn, &t, &opened)?;
        let budget = Fen::new(t.budget_fen);
        let mut c = Checks::new();
        let mut got: BTreeMap<i64, (Option<Fen>, String)> = BTreeMap::new();
        for (i, q) in input.quotes.iter().enumerate() {
            if !compliant.contains(&q.bid_seq) {
                c.add(
                    &format!("quotes[{i}].bid_seq"),
                    "compliant_bid",
                    "只有实质性响应的供应商可以报价（财政部令第74号第三十二条）。",
                    "Only a supplier whose response is compliant may quote (MOF Order 74 Art 32).",
                );
                continue;
            }
            let f = format!("quotes[{i}].price");
            let price = match q.price.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(p) => {
                    let p = crate::money::check_amount(&mut c, &f, p, true);
                    if let Some(b) = p.and_then(|p| rules::check_quote(&f, p, budget)) {
                        c.add(&b.field, b.rule, b.zh, b.en);
                    }
                    p
                }
            };
            let note = q.note.trim();
            if note.chars().count() > 500 {
                c.add(
                    &format!("quotes[{i}].note"),
                    "max_length",
                    "说明最多 500 字。",
                    "The note is at most 500 characters.",
                );
            }
            if got.insert(q.bid_seq, (price, note.to_string())).is_some() {
                c.add(
                    &format!("quotes[{i}].bid_seq"),
                    "duplicate",
                    "同一供应商在一轮中只能报价一次。",
                    "One quote per supplier in a round.",
                );
            }
        }
        if c.is_empty() {
            for b in &compliant {
                if !got.contains_key(b) {
                    c.add(
                        "quotes",
                        "complete",
                        format!("实质性响应的供应商 #{b} 本轮没有报价或放弃报价的记录。"),
                        format!(
                            "Compliant supplier #{b} has no quote or declination in this round."
                        ),
                    );
                }
            }
        }
        c.finish()?;
        let round: i32 = negotiation_rounds::table
            .filter(negotiation_rounds::tender_id.eq(tender_id))
            .select(diesel::dsl::max(negotiation_rounds::round))
            .first::<Option<i32>>(conn)?
            .unwrap_or(0)
            + 1;
        let ts = crate::db::now_micros(now);
        diesel::insert_into(negotiation_rounds::table)
            .values((
                negotiation_rounds::tender_id.eq(tender_id),
                negotiation_rounds::round.eq(round),
                negotiation_rounds::is_final.eq(input.is_final),
                negotiation_rounds::recorded_by.eq(user_id),
                negotiation_rounds::recorded_at.eq(ts),
            ))
            .execute(conn)?;
        for (bid, (price, note)) in &got {
            diesel::insert_into(negotiation_quotes::table)
                .values((
                    negotiation_quotes::bid_id.eq(bid),
                    negotiation_quotes::round.eq(round),
                    negotiation_quotes::tender_id.eq(tender_id),
                    negotiation_quotes::price_fen.eq(price.map(Fen::get)),
                    negotiation_quotes::note.eq(note),
                ))
                .execute(conn)?;
        }
        // The quotes go to the audit trail (staff only); the public timeline says only that a round was held.
        audit::record(
            conn,
            actor,
            now,
            "tender.negotiation_round",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({
                "round": round,
                "final": input.is_final,
                "quotes": got.iter().map(|(b, (p, n))| serde_json::json!({
                    "bid_seq": b, "price_fen": p.map(Fen::get), "note": n,
                })).collect::<Vec<_>>(),
            })),
        )?;
        let quoted = got.values().filter(|q| q.0.is_some()).count();
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(State::Evaluating),
            State::Evaluating,
            "tender.negotiation_round_logged",
            Some(Note::NegotiationRound {
                round: round as u32,
                last: input.is_final,
                quoted: quoted as u32,
                kept: (got.len() - quoted) as u32,
            }),
        )?;
        if input.is_final {
            diesel::update(tenders::table.find(tender_id))
                .set(tenders::evaluated_at.eq(ts))
                .execute(conn)?;
            // The seated members sign the report (they are named in the result notice, 87号令 Art 69).
            diesel::update(
                panel_members::table
                    .filter(panel_members::tender_id.eq(tender_id))
                    .filter(panel_members::declaration.eq("none")),
            )
            .set(panel_members::submitted_at.eq(ts))
            .execute(conn)?;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                State::Evaluating,
                State::Evaluated,
                Some(Note::FinalQuotes {
                    round: round as u32,
                }),
            )?;
            let t = find_row(conn, tender_id)?;
            record_draws(conn, actor, now, &t)?;
        }
        Ok(())
    })?;
    view(conn, ctx, now, tender_id)
}

/// The negotiation record (bureau, administrators, the panel; the API and pages check who).
pub fn view(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<NegotiationView, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    let t = find_row(conn, tender_id)?;
    if t.method() != rules::Method::Negotiation {
        return Err(not_negotiation());
    }
    let moved = moved_from(conn, tender_id)?;
    let min_suppliers = min_bids(conn, ctx, &t)?;
    let opened = if t.state().sealed() {
        Vec::new()
    } else {
        bids::opened_bids(conn, &t)?
    };
    let names: HashMap<i64, String> = opened
        .iter()
        .map(|b| (b.seq, b.organisation_name.clone()))
        .collect();
    let d = decisions(conn, tender_id)?;
    let compliance = opened
        .iter()
        .filter(|b| b.status == "active" || d.contains_key(&b.seq))
        .map(|b| ComplianceView {
            bid_seq: b.seq,
            organisation_name: b.organisation_name.clone(),
            compliant: d.get(&b.seq).map(|x| x.0),
            reason: d.get(&b.seq).map(|x| x.1.clone()),
        })
        .collect();
    let round_rows: Vec<(i32, bool, NaiveDateTime)> = negotiation_rounds::table
        .filter(negotiation_rounds::tender_id.eq(tender_id))
        .order(negotiation_rounds::round)
        .select((
            negotiation_rounds::round,
            negotiation_rounds::is_final,
            negotiation_rounds::recorded_at,
        ))
        .load(conn)?;
    let quotes: Vec<(i32, i64, Option<i64>, String)> = negotiation_quotes::table
        .filter(negotiation_quotes::tender_id.eq(tender_id))
        .order((negotiation_quotes::round, negotiation_quotes::bid_id))
        .select((
            negotiation_quotes::round,
            negotiation_quotes::bid_id,
            negotiation_quotes::price_fen,
            negotiation_quotes::note,
        ))
        .load(conn)?;
    let closed = round_rows.iter().any(|r| r.1);
    let rounds = round_rows
        .iter()
        .map(|(n, f, at)| RoundView {
            round: *n,
            is_final: *f,
            recorded_at: *at,
            quotes: quotes
                .iter()
                .filter(|q| q.0 == *n)
                .map(|q| QuoteView {
                    bid_seq: q.1,
                    organisation_name: names.get(&q.1).cloned().unwrap_or_default(),
                    price: q.2.map(crate::money::yuan),
                    note: q.3.clone(),
                })
                .collect(),
        })
        .collect();
    let compliant = compliant_bids(conn, &t, &opened)?;
    let ranks: HashMap<i64, u32> = if closed {
        rank_tender(conn, &t)?
            .0
            .into_iter()
            .map(|r| (r.ranked.bid_id, r.ranked.rank))
            .collect()
    } else {
        HashMap::new()
    };
    let finals = final_of(&opened, &compliant, &quotes);
    let mut final_quotes: Vec<FinalQuoteView> = finals
        .iter()
        .map(|(b, p)| FinalQuoteView {
            bid_seq: *b,
            organisation_name: names.get(b).cloned().unwrap_or_default(),
            price: p.yuan(),
            price_fen: p.get(),
            rank: ranks.get(b).copied(),
        })
        .collect();
    final_quotes.sort_by_key(|f| (f.rank.unwrap_or(u32::MAX), f.price_fen, f.bid_seq));
    Ok(NegotiationView {
        tender_id,
        moved_from: moved,
        min_suppliers,
        compliance,
        rounds,
        final_quotes,
        closed,
    })
}

/// Each compliant supplier's last quote ([`rules::final_quotes`]) from the opened prices and the rounds.
fn final_of(
    opened: &[bids::OpenedBid],
    compliant: &[i64],
    quotes: &[(i32, i64, Option<i64>, String)],
) -> BTreeMap<i64, Fen> {
    let first: Vec<(i64, Fen)> = opened
        .iter()
        .filter(|b| compliant.contains(&b.seq))
        .map(|b| (b.seq, b.content.price_amount()))
        .collect();
    let mut rounds: Vec<BTreeMap<i64, Option<Fen>>> = Vec::new();
    for (n, bid, p, _) in quotes {
        let i = (*n).max(1) as usize - 1;
        if rounds.len() <= i {
            rounds.resize(i + 1, BTreeMap::new());
        }
        rounds[i].insert(*bid, p.map(Fen::new));
    }
    rules::final_quotes(&first, &rounds)
}

/// The ranking of a negotiation: the compliant responses by final quote, lowest first, ties drawn from the
/// tender's seed ([`rules::rank_final_quotes`]).
pub(super) fn rank_negotiation(
    conn: &mut DbConn,
    t: &TenderRow,
    opened: &[bids::OpenedBid],
    seed: &str,
) -> Result<rules::Ranking, AppError> {
    let compliant = compliant_bids(conn, t, opened)?;
    let quotes: Vec<(i32, i64, Option<i64>, String)> = negotiation_quotes::table
        .filter(negotiation_quotes::tender_id.eq(t.id))
        .order((negotiation_quotes::round, negotiation_quotes::bid_id))
        .select((
            negotiation_quotes::round,
            negotiation_quotes::bid_id,
            negotiation_quotes::price_fen,
            negotiation_quotes::note,
        ))
        .load(conn)?;
    let finals: Vec<(i64, Fen)> = final_of(opened, &compliant, &quotes).into_iter().collect();
    Ok(rules::rank_final_quotes(&finals, seed))
}
