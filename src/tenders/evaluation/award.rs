//! The award: confirm, publish the result, disqualify, a winner's refusal to sign, pass the award on,
//! finalise, the result notice.

use super::*;
use crate::domain::tender::Note;

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct ConfirmInput {
    /// The receipt number of the bid to award: the first-ranked of the valid bids.
    pub bid_seq: i64,
}

/// The bureau names the winner in rank order (实施条例 Art 43; 87号令 Art 68): the first-ranked of the
/// valid bids. A lower-ranked bid moves up only when every one above it has left the ranking with its
/// reason recorded (withdrawn or disqualified); a reason typed here does not make it. Standing and
/// eligibility are checked again: a first-ranked bid that fails them is disqualified first, with its reason.
pub fn confirm(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &ConfirmInput,
) -> Result<(), AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if t.state() != State::Evaluated {
            return Err(crate::tenders::illegal(t.state(), State::AwardProposed));
        }
        refuse_if_suspended(conn, tender_id, rules::Suspendable::Award)?;
        let r = ranking(conn, &t)?;
        let Some(pick) = r.iter().find(|x| x.ranked.bid_id == input.bid_seq) else {
            return Err(AppError::field(
                "bid_seq",
                "valid_bid",
                "请选择一份有效投标。",
                "Choose a valid bid.",
            ));
        };
        if let Some(first) = r.first().filter(|f| f.ranked.bid_id != pick.ranked.bid_id) {
            return Err(AppError::field(
                "bid_seq",
                "rank_order",
                format!(
                    "须按排名顺序确定中标人（政府采购法实施条例第四十三条）：排名第一的是 #{}（{}）；它撤回或被取消资格（须记录理由）后才能确定排名其后的投标人。",
                    first.ranked.bid_id, first.organisation_name
                ),
                format!(
                    "The winner is named in rank order (Implementing Regulations Art 43): #{} ({}) ranks first; a lower-ranked bid only once it has withdrawn or been disqualified, with the reason recorded.",
                    first.ranked.bid_id, first.organisation_name
                ),
            ));
        }
        let refused = bids::refusals(conn, ctx, &t, pick.organisation_id, today(now))?;
        if !refused.is_empty() {
            return Err(AppError::Validation(refused));
        }
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::award_bid_id.eq(pick.ranked.bid_id),
                tenders::award_reason.eq(None::<String>),
            ))
            .execute(conn)?;
        // Late is recorded, not refused: the procurement must still go on (实施条例 Art 43).
        let due = t
            .evaluated_at
            .map(|e| rules::award_due(&ctx.cal, crate::clock::beijing_date(e.and_utc())));
        let late = late(due, today(now));
        move_state(
            conn,
            actor,
            now,
            tender_id,
            State::Evaluated,
            State::AwardProposed,
            Some(Note::WinnerNamed {
                org: pick.organisation_name.clone(),
                rank: pick.ranked.rank.into(),
                late,
            }),
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
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if t.state() != State::AwardProposed {
            return Err(crate::tenders::illegal(t.state(), State::Publicity));
        }
        refuse_if_suspended(conn, tender_id, rules::Suspendable::Award)?;
        let publicity_ends =
            crate::tenders::working_days_end(&ctx.cal, now, ctx.rules.publicity_working_days);
        // The challenge window is counted in working days from the last day of the publicity.
        let last_day = publicity_ends.and_utc() - chrono::Duration::hours(1);
        let challenge_ends =
            crate::tenders::working_days_end(&ctx.cal, last_day, ctx.rules.challenge_working_days);
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::publicity_ends.eq(publicity_ends),
                tenders::challenge_ends.eq(challenge_ends),
                tenders::result_published_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        let due = crate::tenders::named_at(conn, tender_id)?
            .map(|e| rules::result_due(&ctx.cal, crate::clock::beijing_date(e.and_utc())));
        let late = late(due, today(now));
        move_state(
            conn,
            actor,
            now,
            tender_id,
            State::AwardProposed,
            State::Publicity,
            Some(Note::ResultPublished {
                method: t.method(),
                late,
            }),
        )?;
        let t = find_row(conn, tender_id)?;
        let notice = result_notice(conn, ctx, &t)?.ok_or_else(|| AppError::internal("no award"))?;
        let bidders: Vec<i64> = bidder_orgs(conn, tender_id)?.into_iter().collect();
        for (org, name, email) in crate::tenders::contacts_of(conn, &bidders)? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::TenderResult {
                    letter: notice
                        .letter
                        .as_ref()
                        .filter(|_| org == notice.winner_id)
                        .map(|l| mails::LetterLine {
                            title_zh: l.title_zh.clone(),
                            title_en: l.title_en.clone(),
                            no: l.no.clone(),
                            sign_by: l.sign_by.to_string(),
                        }),
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    winner: notice.winner_name.clone(),
                    price: crate::money::yuan_grouped(notice.price_fen),
                    challenge_ends: crate::clock::display(challenge_ends),
                    url: crate::tenders::tender_url(ctx, tender_id),
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
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        if !t.state().opened_not_final() {
            return Err(wrong_state(
                t.state(),
                "现在不能取消投标资格。",
                "bids are disqualified between opening and the final award.",
            ));
        }
        let reason = crate::error::reason("reason", &input.reason, 500)?;
        let b = bids::find_bid(conn, input.bid_seq)?;
        if b.tender_id != tender_id || b.status != "active" || b.opened_json.is_none() {
            return Err(AppError::field(
                "bid_seq",
                "valid_bid",
                "没有这份有效投标。",
                "No such valid bid.",
            ));
        }
        bids::set_status(
            conn,
            actor,
            now,
            &t,
            b.id,
            "disqualified",
            Note::said(reason),
        )?;
        after_bid_lost(conn, ctx, actor, now, &t, b.id)
    })
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct RefusalInput {
    /// Why the winner did not sign: its refusal, or the 30 days of 政府采购法 Art 46 run out (≤ 500 characters).
    pub reason: String,
}

/// The bureau records that the current winner refused to sign the contract, or did not sign within the
/// 30 days after the award letter (政府采购法 Art 46). The award passes to the next-ranked valid bid in rank
/// order, back to "award proposed" with its result to be published again, or the tender fails when none
/// is left (实施条例 Art 43; 87号令 Art 68). Only once the result is out and while no contract is recorded.
/// The bid is set to `withdrawn` and the refusal kept as its own row (`award_refusals`).
pub fn record_refusal(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &RefusalInput,
) -> Result<(), AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        let Some(bid) = t.award_bid_id.filter(|_| t.state().award_refusable()) else {
            return Err(wrong_state(
                t.state(),
                "只有结果公告后、签订合同前才能记录中标人拒绝签订合同。",
                "a refusal to sign is recorded after the result is published and before the contract.",
            ));
        };
        if crate::contracts::of_tender(conn, tender_id)?.is_some() {
            return Err(AppError::conflict(
                "contract_exists",
                "本项目已登记合同，不能再记录拒绝签订合同。",
                "The tender's contract is recorded: a refusal to sign can no longer be recorded.",
            ));
        }
        refuse_if_suspended(conn, tender_id, rules::Suspendable::Award)?;
        let reason = crate::error::reason("reason", &input.reason, 500)?;
        let recorded_by = actor
            .id
            .ok_or_else(|| AppError::internal("a refusal is recorded by a user"))?;
        let (org, org_name): (i64, String) = bt::table
            .inner_join(organisations::table)
            .filter(bt::id.eq(bid))
            .select((organisations::id, organisations::name))
            .first(conn)?;
        diesel::insert_into(award_refusals::table)
            .values((
                award_refusals::tender_id.eq(tender_id),
                award_refusals::bid_id.eq(bid),
                award_refusals::reason.eq(reason),
                award_refusals::recorded_by.eq(recorded_by),
                award_refusals::recorded_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        bids::set_status(
            conn,
            actor,
            now,
            &t,
            bid,
            "withdrawn",
            Note::RefusedToSign {
                reason: reason.to_string(),
            },
        )?;
        crate::tenders::log_event(
            conn,
            actor,
            now,
            tender_id,
            Some(t.state()),
            t.state(),
            "tender.award_refused",
            Some(Note::AwardRefused {
                org: org_name.clone(),
                bid,
            }),
        )?;
        // After the final award its release of the ceiling is taken back for the next winner.
        if t.state() == State::Awarded {
            crate::ledger::tenders::on_award_refused(conn, actor, now, tender_id, bid)?;
        }
        for (_, name, email) in crate::tenders::contacts_of(conn, &[org])? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::AwardRefused {
                    recipient: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    reason: reason.to_string(),
                    url: crate::tenders::tender_url(ctx, tender_id),
                },
            )?;
        }
        pass_award(conn, ctx, actor, now, &t)
    })
}

/// The refusals to sign recorded on a tender, oldest first.
pub fn refusals_of(
    conn: &mut DbConn,
    tender_id: i64,
) -> Result<Vec<crate::tenders::AwardRefusal>, AppError> {
    Ok(award_refusals::table
        .inner_join(bt::table.inner_join(organisations::table))
        .filter(award_refusals::tender_id.eq(tender_id))
        .order(award_refusals::recorded_at)
        .select((
            award_refusals::bid_id,
            organisations::name,
            award_refusals::reason,
            award_refusals::recorded_at,
        ))
        .load::<(i64, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(
            |(bid_seq, organisation_name, reason, recorded_at)| crate::tenders::AwardRefusal {
                bid_seq,
                organisation_name,
                reason,
                recorded_at,
            },
        )
        .collect())
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

/// Give the award to the best-ranked remaining valid bid, back to "award proposed" (its result must be
/// published again); none left → failed. In rank order (实施条例 Art 43): a bid above it that no longer
/// meets the standing or eligibility rules is disqualified on the way, its reasons recorded.
pub fn pass_award(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<(), AppError> {
    let from = t.state();
    for r in ranking(conn, t)? {
        let refused = bids::refusals(conn, ctx, t, r.organisation_id, today(now))?;
        if !refused.is_empty() {
            bids::set_status(
                conn,
                actor,
                now,
                t,
                r.ranked.bid_id,
                "disqualified",
                recheck(false, &refused),
            )?;
            continue;
        }
        diesel::update(tenders::table.find(t.id))
            .set((
                tenders::award_bid_id.eq(r.ranked.bid_id),
                tenders::award_reason.eq(Note::AwardPassedOn.stored()),
                tenders::awarded_at.eq(None::<NaiveDateTime>),
                tenders::publicity_ends.eq(None::<NaiveDateTime>),
                tenders::challenge_ends.eq(None::<NaiveDateTime>),
                tenders::result_published_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        let note = Some(Note::AwardPassed {
            org: r.organisation_name.clone(),
            rank: r.ranked.rank.into(),
        });
        if from == State::AwardProposed {
            crate::tenders::log_event(
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
    diesel::update(tenders::table.find(t.id))
        .set((
            tenders::award_bid_id.eq(None::<i64>),
            tenders::end_reason.eq(Note::NoValidBidLeft.stored()),
        ))
        .execute(conn)?;
    move_state(
        conn,
        actor,
        now,
        t.id,
        from,
        State::Failed,
        Some(Note::NoValidBidLeft),
    )
}

/// The last day `due` of a step taken after it, else nothing.
fn late(due: Option<chrono::NaiveDate>, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    due.filter(|d| today > *d)
}

/// The reasons a bid is refused when checked again before the award (`award`) or before it is passed on.
fn recheck(award: bool, refused: &[crate::error::FieldError]) -> Note {
    Note::Recheck {
        award,
        zh: refused.iter().map(|e| e.message.zh.clone()).collect(),
        en: refused.iter().map(|e| e.message.en.clone()).collect(),
    }
}

/// Fail the tender (流标) when fewer valid bids remain than its method needs (a negotiation moved from a
/// failed open tender: two, [`negotiation::min_bids`]).
pub fn fail_if_too_few(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<(), AppError> {
    let t = find_row(conn, tender_id)?;
    // In a negotiation a response the panel found not compliant no longer counts (74号令 Art 37(3)).
    let valid: i64 = bt::table
        .filter(bt::tender_id.eq(tender_id))
        .filter(bt::status.eq("active"))
        .filter(bt::opened_json.is_not_null())
        .filter(diesel::dsl::not(
            bt::id.eq_any(
                crate::db::schema::bid_compliance::table
                    .filter(crate::db::schema::bid_compliance::tender_id.eq(tender_id))
                    .filter(crate::db::schema::bid_compliance::compliant.eq(false))
                    .select(crate::db::schema::bid_compliance::bid_id),
            ),
        ))
        .count()
        .get_result(conn)?;
    let min = negotiation::min_bids(conn, ctx, &t)?;
    if valid < i64::from(min) {
        let reason = Note::TooFewBids {
            valid: valid as u32,
            min,
            method: t.method(),
        };
        diesel::update(tenders::table.find(tender_id))
            .set(tenders::end_reason.eq(reason.stored()))
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

/// At the end of the challenge window: with no open challenge that may affect the result, whatever its
/// subject (实施条例 Art 54), check the winner once more and make the award final (or pass it on). Returns
/// whether anything changed.
pub fn finalise(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<bool, AppError> {
    if suspension(conn, t.id, rules::Suspendable::Award)?.is_some() {
        return Ok(false);
    }
    let Some(bid) = t.award_bid_id else {
        return Ok(false);
    };
    let b = bids::find_bid(conn, bid)?;
    let refused = bids::refusals(conn, ctx, t, b.organisation_id, today(now))?;
    if !refused.is_empty() {
        bids::set_status(
            conn,
            actor,
            now,
            t,
            bid,
            "disqualified",
            recheck(true, &refused),
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
    let org: i64 = bt::table
        .find(bid)
        .select(bt::organisation_id)
        .first(conn)?;
    // A negotiation's winner is awarded at its final quote (74号令 Art 33, 36).
    let price_fen = negotiation::award_price(conn, bid)?.get();
    let (name, code): (String, Option<String>) = organisations::table
        .find(org)
        .select((organisations::name, organisations::credit_code))
        .first(conn)?;
    let single_source = t.method() == rules::Method::SingleSource;
    // A single source has no evaluators: its notice names the staff who negotiated (74号令 Art 42).
    let negotiators = if single_source {
        crate::tenders::single_source::staff_of(conn, t.id)?
    } else {
        Vec::new()
    };
    let evaluators: Vec<String> = panel(conn, t.id)?
        .into_iter()
        .filter(|m| m.declaration.as_deref() == Some("none") && m.submitted_at.is_some())
        .map(|m| m.name)
        .collect();
    let letter = t.result_published_at.map(|at| AwardLetter {
        no: format!("{}-{bid}", t.code),
        title_zh: t.method().award_letter(true).into(),
        title_en: t.method().award_letter(false).into(),
        issued_at: at,
        sign_by: rules::sign_due(crate::clock::beijing_date(at.and_utc())),
    });
    // A negotiation or a single source is not scored: the notice names the winner and its price only.
    let scores = if matches!(
        t.method(),
        rules::Method::Negotiation | rules::Method::SingleSource
    ) {
        Vec::new()
    } else {
        ranking(conn, t)?
    };
    let scores = scores
        .into_iter()
        .map(|r| ScoreLine {
            rank: r.ranked.rank,
            organisation_name: r.organisation_name,
            total: rules::show(r.ranked.total),
        })
        .collect();
    Ok(Some(ResultNotice {
        winner_id: org,
        winner_name: name,
        winner_credit_code: code,
        price: crate::money::yuan(price_fen),
        price_fen,
        panel_size: evaluators.len() as i64,
        evaluators,
        negotiators,
        scores,
        letter,
        publicity_ends: t.publicity_ends,
        challenge_ends: t.challenge_ends,
    }))
}
