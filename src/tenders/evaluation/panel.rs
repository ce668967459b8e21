//! The evaluation panel: evaluator links to organisations, the panel formed, each member's declaration.

use super::*;

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
    crate::tenders::advance(conn, ctx, now, tender_id)?;
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
