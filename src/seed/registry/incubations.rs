//! The demo incubation records, in every state.

use diesel::prelude::*;

use crate::audit::{self, Actor};
use crate::clock::beijing_date as today;
use crate::db::schema::{bases, incubations, organisations};
use crate::db::{DbConn, write_tx};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::incubation::{self as rules, CHECKLIST, Stage, State};
use crate::error::AppError;
use crate::registry::incubations::ChecklistItem;

/// Demo incubation records in every state, spread over the bases, dated around today. Organisations are
/// used when they exist (one open record per organisation and base), otherwise group names. Nothing happens
/// when records exist already or there are no bases.
pub fn seed_incubations(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    calendar: &BusinessCalendar,
) -> Result<(), AppError> {
    let any: Option<i64> = incubations::table
        .select(incubations::id)
        .first(conn)
        .optional()?;
    let base_ids: Vec<i64> = bases::table
        .order(bases::id.asc())
        .select(bases::id)
        .load(conn)?;
    if any.is_some() || base_ids.is_empty() {
        return Ok(());
    }
    let orgs: Vec<i64> = organisations::table
        .order(organisations::id.asc())
        .select(organisations::id)
        .load(conn)?;
    const GROUPS: &[&str] = &[
        "关上邻里互助队",
        "太和银龄志愿团",
        "吴井青少年读书会",
        "官渡非遗传习小组",
        "矣六环保行动队",
        "小板桥调解小组",
        "六甲助残服务队",
        "金马社区舞蹈队",
        "螺蛳湾家长互助会",
        "宝象河巡河护河队",
        "世纪城社区厨房",
        "双桥四点半课堂",
    ];
    let today = today(now);
    let ts = crate::db::now_micros(now);
    let days = chrono::Duration::days;
    let all = CHECKLIST
        .iter()
        .map(|(k, _, _)| ChecklistItem {
            key: k.to_string(),
            done: true,
        })
        .collect::<Vec<_>>();
    let actor = Actor::system("seed");
    // (state, days ago applied): two of each open state, with one overdue application.
    let plan: &[(State, i64)] = &[
        (State::Applied, 1),
        (State::Applied, 30),
        (State::Applied, 2),
        (State::Admitted, 20),
        (State::Admitted, 12),
        (State::Rejected, 40),
        (State::Rejected, 90),
        (State::Incubating, 200),
        (State::Incubating, 120),
        (State::Incubating, 400),
        (State::Incubating, 60),
        (State::Renewed, 800),
        (State::Renewed, 760),
        (State::Graduated, 900),
        (State::Graduated, 820),
        (State::Graduated, 1000),
        (State::Exited, 500),
        (State::Exited, 300),
    ];
    write_tx(conn, |conn| {
        let mut n = 0usize;
        for round in 0..2 {
            for (i, (state, ago)) in plan.iter().enumerate() {
                let k = round * plan.len() + i;
                let base_id = base_ids[(k * 5 + round) % base_ids.len()];
                let applied_on = today - days(*ago + round as i64 * 3);
                let (due, _) = rules::decision_due(calendar, applied_on);
                let decided = (*state != State::Applied).then(|| (applied_on + days(3)).min(due));
                let start = matches!(
                    state,
                    State::Incubating | State::Renewed | State::Graduated | State::Exited
                )
                .then(|| decided.unwrap_or(applied_on) + days(7));
                let planned = start.map(|s| rules::planned_end(s, 2));
                let planned = if *state == State::Renewed {
                    planned.map(|p| rules::planned_end(p, 1))
                } else {
                    planned
                };
                let graduated_on = (*state == State::Graduated)
                    .then(|| start.map(|s| s + days(700)))
                    .flatten();
                let exited_on = (*state == State::Exited)
                    .then(|| start.map(|s| s + days(150)))
                    .flatten();
                let (org, group) = if !orgs.is_empty() && k % 3 != 2 {
                    (Some(orgs[k % orgs.len()]), None)
                } else {
                    (None, Some(GROUPS[k % GROUPS.len()].to_string()))
                };
                let id: i64 = diesel::insert_into(incubations::table)
                    .values((
                        incubations::base_id.eq(base_id),
                        incubations::organisation_id.eq(org),
                        incubations::group_name.eq(&group),
                        incubations::state.eq(state.as_str()),
                        incubations::mode.eq((*state != State::Applied
                            && *state != State::Rejected)
                            .then_some(if k.is_multiple_of(4) {
                                "virtual"
                            } else {
                                "onsite"
                            })),
                        incubations::stage
                            .eq((*state != State::Applied && *state != State::Rejected)
                                .then(|| Stage::ALL[k % 3].as_str())),
                        incubations::applied_on.eq(applied_on),
                        incubations::decision_due.eq(due),
                        incubations::decided_on.eq(decided),
                        incubations::reject_reason
                            .eq((*state == State::Rejected)
                                .then_some("申请材料不全，章程尚未制定。")),
                        incubations::start_on.eq(start),
                        incubations::planned_end.eq(planned),
                        incubations::graduated_on.eq(graduated_on),
                        incubations::checklist.eq((*state == State::Graduated)
                            .then(|| serde_json::to_string(&all).unwrap_or_default())),
                        incubations::exited_on.eq(exited_on),
                        incubations::exit_reason
                            .eq((*state == State::Exited).then_some("团队成员变动，暂停活动。")),
                        incubations::space_return_due
                            .eq(exited_on.map(|e| rules::space_return_due(calendar, e).0)),
                        incubations::created_at.eq(ts),
                        incubations::updated_at.eq(ts),
                    ))
                    .returning(incubations::id)
                    .get_result(conn)?;
                let _ = id;
                n += 1;
            }
        }
        audit::record(
            conn,
            &actor,
            now,
            "incubation.seed",
            "incubation",
            None,
            None,
            Some(serde_json::json!({"records": n})),
        )?;
        Ok::<_, AppError>(())
    })
}
