//! Scoring: an evaluator's sheet and scores, the ranking, and the evaluation report.

use super::*;
use crate::domain::tender::Note;

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
    Ok(valid_of(bids::opened_bids(conn, t)?))
}

/// The opened bids still in the evaluation (neither withdrawn nor disqualified since the opening).
fn valid_of(opened: Vec<bids::OpenedBid>) -> Vec<bids::OpenedBid> {
    opened
        .into_iter()
        .filter(|b| b.status == "active")
        .collect()
}

/// The sheet for an evaluator who has declared no conflict (403 otherwise: bids stay hidden until then).
pub fn sheet(
    conn: &mut DbConn,
    ctx: &Ctx,
    user_id: i64,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<ScoringSheet, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    let t = find_row(conn, tender_id)?;
    super::panel::refuse_single_source(&t)?;
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
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        super::panel::refuse_single_source(&t)?;
        let m = member(conn, tender_id, user_id)?;
        if m.declaration.as_deref() != Some("none") {
            return Err(AppError::conflict(
                "declare_first",
                "请先申报有无利益冲突。",
                "Declare any conflict of interest first.",
            ));
        }
        if t.method() == rules::Method::Negotiation {
            return Err(AppError::conflict(
                "not_scored",
                "竞争性谈判不评分：谈判小组判定实质性响应并记录各轮报价（财政部令第74号第三十五、三十六条）。",
                "A competitive negotiation is not scored: the panel decides compliance and records the rounds of quotes (MOF Order 74 Art 35–36).",
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
        let (seated, allowed) = super::panel::seated_panel(conn, &t)?;
        let complete = seated.iter().all(|m| m.submitted_at.is_some()) && allowed;
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
                Some(Note::ReportLocked),
            )?;
            let t = find_row(conn, tender_id)?;
            record_draws(conn, actor, now, &t)?;
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
    Ok(rank_tender(conn, t)?.0)
}

/// [`rank_opened`] of the tender's opened bids.
pub fn rank_tender(
    conn: &mut DbConn,
    t: &TenderRow,
) -> Result<(Vec<RankedBid>, Vec<rules::Draw>), AppError> {
    let opened = bids::opened_bids(conn, t)?;
    rank_opened(conn, t, opened)
}

/// The ranking with the draws that decided full ties (87号令 Art 57, 68). The draw's seed covers the tender's
/// code and the commitments of every bid opened ([`rules::draw_seed`]), so it is fixed at opening and the
/// same draw comes out of every later call; a bid disqualified later leaves the others' order as drawn.
/// `opened` are the tender's opened bids ([`bids::opened_bids`]).
fn rank_opened(
    conn: &mut DbConn,
    t: &TenderRow,
    opened: Vec<bids::OpenedBid>,
) -> Result<(Vec<RankedBid>, Vec<rules::Draw>), AppError> {
    let seed = rules::draw_seed(
        &t.code,
        &opened
            .iter()
            .map(|b| b.commitment.as_str())
            .collect::<Vec<_>>(),
    );
    let unscored = match t.method() {
        rules::Method::Negotiation => Some(negotiation::rank_negotiation(conn, t, &opened, &seed)?),
        // A single source ranks its one valid response at the agreed price once recorded (74号令 Art 42).
        rules::Method::SingleSource => {
            let agreed = crate::tenders::single_source::agreed_price(conn, t.id)?;
            let offers: Vec<(i64, crate::domain::money::Fen)> = valid_of(opened.clone())
                .iter()
                .map(|b| (b.seq, agreed.unwrap_or(b.content.price_amount())))
                .collect();
            Some(rules::rank_final_quotes(&offers, &seed))
        }
        _ => None,
    };
    if let Some(ranking) = unscored {
        let names: HashMap<i64, (i64, String)> = opened
            .iter()
            .map(|b| (b.seq, (b.organisation_id, b.organisation_name.clone())))
            .collect();
        let bids = ranking
            .bids
            .into_iter()
            .map(|r| {
                let (oid, name) = names.get(&r.bid_id).cloned().unwrap_or_default();
                RankedBid {
                    ranked: r,
                    organisation_id: oid,
                    organisation_name: name,
                }
            })
            .collect();
        return Ok((bids, ranking.draws));
    }
    let valid = valid_of(opened);
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
                technical: Decimal::new(tech, 2) / n,
                commercial: Decimal::new(comm, 2) / n,
            }
        })
        .collect();
    let names: HashMap<i64, (i64, String)> = valid
        .iter()
        .map(|b| (b.seq, (b.organisation_id, b.organisation_name.clone())))
        .collect();
    let ranking = rules::rank(
        &inputs,
        criteria.price_weight_pct,
        t.method(),
        criteria.tie_break,
        &seed,
    );
    let bids = ranking
        .bids
        .into_iter()
        .map(|r| {
            let (oid, name) = names.get(&r.bid_id).cloned().unwrap_or_default();
            RankedBid {
                ranked: r,
                organisation_id: oid,
                organisation_name: name,
            }
        })
        .collect();
    Ok((bids, ranking.draws))
}

/// Record the draws of a tender whose report was just locked: each as a note in the tender's history,
/// which the audit chain holds (seed and result; the keys follow from them).
pub(super) fn record_draws(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<(), AppError> {
    for d in rank_tender(conn, t)?.1 {
        crate::tenders::log_event(
            conn,
            actor,
            now,
            t.id,
            Some(State::Evaluated),
            State::Evaluated,
            "tender.tie_draw",
            Some(Note::TieDraw {
                order: d.order.clone(),
                seed: d.seed.clone(),
            }),
        )?;
    }
    Ok(())
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
    /// When another bid has the same total: the rule that decided this bid's place.
    pub tie: Option<rules::TieRule>,
    /// 竞争性谈判: the final quote the bid ranks by (yuan, two decimals); no scores then.
    pub final_price: Option<String>,
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
    /// The recorded draws of the panel's experts (实施条例 Art 39; 87号令 Art 48).
    pub panel_draws: Vec<DrawView>,
    pub bids: Vec<ReportBid>,
    /// The draws that decided full ties (87号令 Art 57, 68), once the report is locked.
    pub draws: Vec<rules::Draw>,
    pub award_seq: Option<i64>,
    pub award_reason: Option<String>,
}

/// The evaluation report for a signed-in reader (`GET /tenders/{id}/report`, its PDF and its page): the
/// bureau and administrators at any time; an evaluator only of this panel (404 for another's) and finance
/// (who audit the award, read-only), both only once the report is locked (409 `report_not_locked`);
/// never an organisation.
pub fn report_for(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    tender_id: i64,
    user: &crate::auth::CurrentUser,
) -> Result<EvaluationReport, AppError> {
    use crate::auth::Role;
    let r = report(conn, ctx, now, tender_id)?;
    match user.role {
        Role::Bureau | Role::Admin => {}
        Role::Evaluator if !r.panel.iter().any(|m| m.user_id == user.id) => {
            return Err(AppError::NotFound);
        }
        Role::Evaluator | Role::Finance if !r.locked => return Err(not_locked()),
        Role::Evaluator | Role::Finance => {}
        Role::Org => return Err(AppError::Forbidden),
    }
    Ok(r)
}

/// 409 `report_not_locked`: the scores are not all in.
pub fn not_locked() -> AppError {
    AppError::conflict(
        "report_not_locked",
        "全部评审专家提交评分后才能查看评审报告。",
        "The report opens to the panel once every member has submitted.",
    )
}

pub fn report(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    tender_id: i64,
) -> Result<EvaluationReport, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    let t = find_row(conn, tender_id)?;
    let opened = bids::opened_bids(conn, &t)?;
    let members = panel(conn, tender_id)?;
    let panel_draws = super::draws(conn, tender_id)?;
    let locked = t.evaluated_at.is_some();
    let criteria = t.criteria();
    // Neither a negotiation nor a single source is scored: the report shows the price each ranks by.
    let negotiation = matches!(
        t.method(),
        rules::Method::Negotiation | rules::Method::SingleSource
    );
    let (ranked, draws): (HashMap<i64, Ranked>, Vec<rules::Draw>) = if locked {
        let (bids, draws) = rank_opened(conn, &t, opened.clone())?;
        (
            bids.into_iter()
                .map(|r| (r.ranked.bid_id, r.ranked))
                .collect(),
            draws,
        )
    } else {
        (HashMap::new(), Vec::new())
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
                // A fixed-price tender does not score price (87号令 Art 55); a negotiation scores nothing.
                price_score: r
                    .filter(|_| criteria.fixed_price_fen.is_none() && !negotiation)
                    .map(|r| rules::show(r.price_score)),
                technical: r.filter(|_| !negotiation).map(|r| rules::show(r.technical)),
                commercial: r
                    .filter(|_| !negotiation)
                    .map(|r| rules::show(r.commercial)),
                total: r.filter(|_| !negotiation).map(|r| rules::show(r.total)),
                tie: r.and_then(|r| r.tie),
                final_price: r
                    .filter(|_| negotiation)
                    .map(|r| crate::money::yuan(r.price_fen)),
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
        panel_draws,
        bids: out,
        draws,
        award_seq: t.award_bid_id,
        award_reason: t
            .award_reason
            .as_deref()
            .map(|s| crate::domain::tender::Note::read(s).both()),
    })
}
