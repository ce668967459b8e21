//! The evaluation panel: evaluator links to organisations, the panel formed, each member's declaration.

use super::*;
use crate::domain::tender::Note;

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub name: String,
    /// An expert drawn from the pool, or the buyer's representative (87号令 Art 47).
    pub seat: rules::Seat,
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
            panel_members::seat,
        ))
        .load::<(
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
            String,
        )>(conn)?
        .into_iter()
        .map(
            |(user_id, name, declaration, declaration_note, declared_at, submitted_at, seat)| {
                MemberView {
                    user_id,
                    name,
                    seat: rules::Seat::parse(&seat).unwrap_or(rules::Seat::Expert),
                    declaration,
                    declaration_note,
                    declared_at,
                    submitted_at,
                }
            },
        )
        .collect())
}

/// The seated members of a tender's panel (all but those who declared a conflict) and whether they make
/// a panel the method allows: size, odd number, buyer's representatives at most a third (87号令 Art 47;
/// 实施条例 Art 39).
pub(super) fn seated_panel(
    conn: &mut DbConn,
    t: &TenderRow,
) -> QueryResult<(Vec<MemberView>, bool)> {
    let seated: Vec<MemberView> = panel(conn, t.id)?
        .into_iter()
        .filter(|m| m.declaration.as_deref() != Some("conflict"))
        .collect();
    let reps = seated
        .iter()
        .filter(|m| m.seat == rules::Seat::BuyerRep)
        .count();
    let allowed =
        rules::check_panel(t.method(), t.budget_fen, seated.len() - reps, reps).is_empty();
    Ok((seated, allowed))
}

/// Organisations whose bids were opened on the tender.
pub(super) fn bidder_orgs(conn: &mut DbConn, tender_id: i64) -> QueryResult<HashSet<i64>> {
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

#[derive(Deserialize, Serialize, Debug, Clone, Default, utoipa::ToSchema)]
pub struct PanelInput {
    /// How many experts to draw at random from the pool of active evaluators who are neither seated nor
    /// linked to a bidder (实施条例 Art 39; 87号令 Art 48). The draw is recorded.
    #[serde(default)]
    pub draw_experts: u32,
    /// Evaluator accounts seated as the buyer's representatives (采购人代表), at most a third of the panel
    /// (87号令 Art 47).
    #[serde(default)]
    pub buyer_rep_ids: Vec<i64>,
}

/// A recorded draw of experts, with who was drawn by name.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct DrawView {
    #[serde(flatten)]
    pub draw: rules::PanelDraw,
    #[schema(value_type = String)]
    pub drawn_at: NaiveDateTime,
    /// Who made the draw.
    pub actor_name: String,
    /// The names of `drawn`, in its order.
    pub drawn_names: Vec<String>,
}

/// The panel's recorded draws, oldest first; each recomputes from its seed ([`rules::draw_experts`]).
pub fn draws(conn: &mut DbConn, tender_id: i64) -> Result<Vec<DrawView>, AppError> {
    let rows: Vec<(NaiveDateTime, String, String, String, String)> = panel_draws::table
        .filter(panel_draws::tender_id.eq(tender_id))
        .order(panel_draws::id)
        .select((
            panel_draws::drawn_at,
            panel_draws::seed,
            panel_draws::candidates,
            panel_draws::drawn,
            panel_draws::actor_name,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (drawn_at, seed, candidates, drawn, actor_name) in rows {
        let candidates: Vec<i64> = serde_json::from_str(&candidates)
            .map_err(|e| AppError::internal(format!("panel_draws.candidates: {e}")))?;
        let drawn: Vec<i64> = serde_json::from_str(&drawn)
            .map_err(|e| AppError::internal(format!("panel_draws.drawn: {e}")))?;
        let names: HashMap<i64, String> = users::table
            .filter(users::id.eq_any(&drawn))
            .select((users::id, users::display_name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        out.push(DrawView {
            drawn_names: drawn
                .iter()
                .map(|d| names.get(d).cloned().unwrap_or_default())
                .collect(),
            draw: rules::PanelDraw {
                keys: candidates
                    .iter()
                    .map(|c| rules::panel_draw_key(&seed, *c))
                    .collect(),
                seed,
                candidates,
                drawn,
            },
            drawn_at,
            actor_name,
        });
    }
    Ok(out)
}

/// Active evaluator accounts, by id.
fn active_evaluators(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::role.eq("evaluator"))
        .filter(users::active.eq(true))
        .order(users::id)
        .select((users::id, users::display_name))
        .load(conn)
}

/// A single source has no panel: the procurement staff negotiate and write the record instead (74号令
/// Art 42), so every panel step refuses it (409 `no_panel`).
pub(super) fn refuse_single_source(t: &TenderRow) -> Result<(), AppError> {
    if t.method() == rules::Method::SingleSource {
        return Err(AppError::conflict(
            "no_panel",
            "单一来源不组建评审小组、不评分：由采购人员与供应商协商并填写协商情况记录（财政部令第74号第四十二条）。",
            "Single source has no panel and no scoring: the procurement staff negotiate with the supplier and write the record (MOF Order 74 Art 42).",
        ));
    }
    Ok(())
}

/// Form or complete the panel (bureau), after opening: seat the named buyer's representatives and draw
/// `draw_experts` experts at random from the pool (active evaluators not yet seated, not named here, and
/// not linked in the registry to a bidding organisation), recording the draw (seed, candidates, who was
/// drawn, time) in `panel_draws` and the tender's history. A representative the registry links to a
/// bidder is refused; the seated panel (without recused members) must have the size, oddness and share of
/// representatives the method needs ([`rules::check_panel`]). Nothing is stored on a refusal.
pub fn form_panel(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    tender_id: i64,
    input: &PanelInput,
) -> Result<Vec<MemberView>, AppError> {
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    // Taken before the transaction: the random part of the seed, so no one can time a draw.
    let mut nonce = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let nonce = hex::encode(nonce);
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        refuse_single_source(&t)?;
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
        let mut reps = input.buyer_rep_ids.clone();
        reps.sort_unstable();
        reps.dedup();
        let n_draw = input.draw_experts as usize;
        if reps.is_empty() && n_draw == 0 {
            c.add(
                "draw_experts",
                "required",
                "请填写抽取的评审专家人数或选择采购人代表。",
                "Give the number of experts to draw or choose the buyer's representatives.",
            );
        }
        for id in &reps {
            let u: Option<(String, String, bool)> = users::table
                .find(id)
                .select((users::display_name, users::role, users::active))
                .first(conn)
                .optional()?;
            match u {
                None => c.add(
                    "buyer_rep_ids",
                    "exists",
                    format!("用户 {id} 不存在。"),
                    format!("User {id} does not exist."),
                ),
                Some((name, role, active)) => {
                    if role != "evaluator" || !active {
                        c.add(
                            "buyer_rep_ids",
                            "evaluator_role",
                            format!("{name} 不是在用的评审账户（采购人代表以评审账户评分）。"),
                            format!("{name} is not an active evaluator account (a buyer's representative scores with one)."),
                        );
                    } else if existing.iter().any(|m| m.user_id == *id) {
                        c.add(
                            "buyer_rep_ids",
                            "duplicate",
                            format!("{name} 已在评审委员会中。"),
                            format!("{name} is already on the panel."),
                        );
                    } else if linked_to(conn, *id)?.iter().any(|o| bidders.contains(o)) {
                        c.add(
                            "buyer_rep_ids",
                            "conflict_of_interest",
                            format!("{name} 与投标组织存在关联（登记信息），应当回避。"),
                            format!("{name} is linked in the registry to a bidding organisation and must stand aside."),
                        );
                    }
                }
            }
        }
        // The pool: active evaluators neither seated (recused included) nor named here, linked to no bidder.
        let mut pool = Vec::new();
        for (id, _) in active_evaluators(conn)? {
            if existing.iter().any(|m| m.user_id == id) || reps.contains(&id) {
                continue;
            }
            if linked_to(conn, id)?.iter().any(|o| bidders.contains(o)) {
                continue;
            }
            pool.push(id);
        }
        let seed = rules::panel_draw_seed(&t.code, &nonce);
        let draw = if n_draw == 0 {
            None
        } else {
            let d = rules::draw_experts(&seed, &pool, n_draw);
            if d.is_none() {
                c.add(
                    "draw_experts",
                    "pool_too_small",
                    format!(
                        "可抽取的评审专家只有 {} 人（已排除已入席及与投标组织有关联者），不足 {n_draw} 人。",
                        pool.len()
                    ),
                    format!(
                        "The pool holds only {} evaluators (seated ones and those linked to a bidder left out), fewer than {n_draw}.",
                        pool.len()
                    ),
                );
            }
            d
        };
        let sitting = |s: rules::Seat| {
            existing
                .iter()
                .filter(|m| m.seat == s && m.declaration.as_deref() != Some("conflict"))
                .count()
        };
        let experts = sitting(rules::Seat::Expert) + n_draw;
        let rep_count = sitting(rules::Seat::BuyerRep) + reps.len();
        for b in rules::check_panel(t.method(), t.budget_fen, experts, rep_count) {
            c.add(&b.field, b.rule, b.zh, b.en);
        }
        c.finish()?;
        let ts = crate::db::now_micros(now);
        let seats = reps.iter().map(|id| (*id, rules::Seat::BuyerRep)).chain(
            draw.iter()
                .flat_map(|d| d.drawn.iter().map(|id| (*id, rules::Seat::Expert))),
        );
        for (id, seat) in seats {
            diesel::insert_into(panel_members::table)
                .values((
                    panel_members::tender_id.eq(tender_id),
                    panel_members::user_id.eq(id),
                    panel_members::added_at.eq(ts),
                    panel_members::seat.eq(seat.as_str()),
                ))
                .execute(conn)?;
        }
        if let Some(d) = &draw {
            diesel::insert_into(panel_draws::table)
                .values((
                    panel_draws::tender_id.eq(tender_id),
                    panel_draws::drawn_at.eq(ts),
                    panel_draws::seed.eq(&d.seed),
                    panel_draws::candidates.eq(serde_json::to_string(&d.candidates)
                        .map_err(|e| AppError::internal(e.to_string()))?),
                    panel_draws::drawn.eq(serde_json::to_string(&d.drawn)
                        .map_err(|e| AppError::internal(e.to_string()))?),
                    panel_draws::actor_name.eq(&actor.name),
                ))
                .execute(conn)?;
            crate::tenders::log_event(
                conn,
                actor,
                now,
                tender_id,
                Some(t.state()),
                t.state(),
                "tender.panel_draw",
                Some(Note::ExpertsDrawn {
                    drawn: d.drawn.clone(),
                    candidates: d.candidates.len() as u32,
                    seed: d.seed.clone(),
                }),
            )?;
        }
        audit::record(
            conn,
            actor,
            now,
            "tender.panel",
            "tender",
            Some(tender_id.to_string()),
            None,
            Some(serde_json::json!({
                "buyer_reps": reps,
                "drawn": draw.as_ref().map(|d| &d.drawn),
                "seed": draw.as_ref().map(|d| &d.seed),
                "candidates": draw.as_ref().map(|d| &d.candidates),
            })),
        )?;
        if t.state() == State::Opened {
            let seated = experts + rep_count;
            move_state(
                conn,
                actor,
                now,
                tender_id,
                State::Opened,
                State::Evaluating,
                Some(Note::PanelFormed {
                    seated: seated as u32,
                }),
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

pub(super) fn member(
    conn: &mut DbConn,
    tender_id: i64,
    user_id: i64,
) -> Result<MemberView, AppError> {
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
    crate::tenders::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        let t = find_row(conn, tender_id)?;
        refuse_single_source(&t)?;
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
