//! Flags on the service records of contracts (docs/PEOPLE.md), each decided by its rule in
//! `domain::flags` and listed with the money flags by `crate::contracts::flags`: the same person served by
//! several providers in one field and quarter (the bureau's only: it tells one organisation about
//! another's service), activities outside the term or the area, 人次 per person far above the contract's
//! norm, activities logged after the contract ended. Computed when read, never stored. Person references
//! are `P` and the internal person number: never an identity number, its hash or a name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::contracts::ContractRow;
use crate::db::DbConn;
use crate::db::schema::{
    activities as ac, communities as cm, contract_instalments as ci, contracts as ct,
    organisations as og, streets as st,
};
use crate::domain::contract::State;
use crate::domain::flags::{self as rules, Evidence, Overlap, Rule};
use crate::domain::people::{Settings, quarter};
use crate::error::AppError;

/// One raised flag of a contract.
pub struct Raised {
    pub contract_id: i64,
    pub rule: Rule,
    pub activity_id: Option<i64>,
    pub evidence: Evidence,
}

/// The last day a contract's service counts: the term's end, or earlier its termination or its final
/// acceptance.
fn ended(conn: &mut DbConn, c: &ContractRow) -> Result<NaiveDate, AppError> {
    let mut end = c.term_end;
    if let Some(e) = c.ended_on {
        end = end.min(e);
    }
    if matches!(c.state(), State::FinalAccepted | State::Closed) {
        let last: Option<NaiveDate> = ci::table
            .filter(ci::contract_id.eq(c.id))
            .select(diesel::dsl::max(ci::accepted_on))
            .first(conn)?;
        if let Some(l) = last {
            end = end.min(l);
        }
    }
    Ok(end)
}

#[derive(QueryableByName)]
struct Shared {
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = Text)]
    field: String,
    #[diesel(sql_type = Integer)]
    month: i32,
    #[diesel(sql_type = BigInt)]
    organisation_id: i64,
    #[diesel(sql_type = BigInt)]
    contract_id: i64,
}

#[derive(QueryableByName)]
struct PersonVisits {
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The flags of these contracts; `staff` adds the flags about other providers.
pub fn for_contracts(
    conn: &mut DbConn,
    settings: &Settings,
    contracts: &[ContractRow],
    staff: bool,
) -> Result<Vec<Raised>, AppError> {
    let mut out = Vec::new();
    for c in contracts {
        if c.state() == State::Draft {
            continue;
        }
        let end = ended(conn, c)?;
        let term_end = c.ended_on.map_or(c.term_end, |e| e.min(c.term_end));
        // Dated outside the term.
        let outside: Vec<(i64, NaiveDate)> = ac::table
            .filter(ac::contract_id.eq(c.id))
            .filter(ac::held_on.lt(c.term_start).or(ac::held_on.gt(term_end)))
            .select((ac::id, ac::held_on))
            .order(ac::id)
            .load(conn)?;
        for (id, held_on) in outside {
            if let Some(e) = rules::activity_outside_term(held_on, c.term_start, term_end) {
                out.push(Raised {
                    contract_id: c.id,
                    rule: Rule::ActivityOutsideTerm,
                    activity_id: Some(id),
                    evidence: e,
                });
            }
        }
        // In a community outside the area as it stands now.
        let area: Vec<i64> = super::activities::area(conn, c.tender_id)?
            .into_keys()
            .collect();
        let away: Vec<(i64, String, String)> = ac::table
            .inner_join(cm::table.inner_join(st::table))
            .filter(ac::contract_id.eq(c.id))
            .filter(ac::community_id.ne_all(&area))
            .select((ac::id, cm::name, st::name))
            .order(ac::id)
            .load(conn)?;
        for (id, community, street) in away {
            if let Some(e) = rules::activity_outside_area(false, &community, &street) {
                out.push(Raised {
                    contract_id: c.id,
                    rule: Rule::ActivityOutsideArea,
                    activity_id: Some(id),
                    evidence: e,
                });
            }
        }
        // Logged after the end: created after the end's Beijing day, i.e. from 16:00 UTC of that day.
        let after = (end + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            - Duration::hours(8);
        let late: Vec<(i64, NaiveDate, chrono::NaiveDateTime)> = ac::table
            .filter(ac::contract_id.eq(c.id))
            .filter(ac::created_at.ge(after))
            .select((ac::id, ac::held_on, ac::created_at))
            .order(ac::id)
            .load(conn)?;
        for (id, held_on, created) in late {
            let logged_on = (created + Duration::hours(8)).date();
            if let Some(e) = rules::logged_late(held_on, logged_on, end) {
                out.push(Raised {
                    contract_id: c.id,
                    rule: Rule::LoggedLate,
                    activity_id: Some(id),
                    evidence: e,
                });
            }
        }
        // 人次 per person far above the norm.
        if let Some(norm) = c
            .targets()
            .and_then(|t| rules::visits_norm(t.visits, t.people))
        {
            let limit = (norm * settings.norm_factor).max(settings.norm_floor);
            let rows: Vec<PersonVisits> = diesel::sql_query(format!(
                "SELECT person_id, COUNT(*) AS n FROM participations WHERE contract_id = {} \
                 GROUP BY person_id HAVING COUNT(*) > {limit}",
                c.id
            ))
            .load(conn)?;
            let visits: Vec<(i64, i64)> = rows.iter().map(|r| (r.person_id, r.n)).collect();
            if let Some(e) =
                rules::visits_above_norm(&visits, norm, settings.norm_factor, settings.norm_floor)
            {
                out.push(Raised {
                    contract_id: c.id,
                    rule: Rule::VisitsAboveNorm,
                    activity_id: None,
                    evidence: e,
                });
            }
        }
    }
    if staff {
        served_by_many(conn, contracts, &mut out)?;
    }
    Ok(out)
}

/// People of these contracts served by another organisation too, in the same field and quarter.
fn served_by_many(
    conn: &mut DbConn,
    contracts: &[ContractRow],
    out: &mut Vec<Raised>,
) -> Result<(), AppError> {
    let ids: BTreeSet<i64> = contracts.iter().map(|c| c.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    // Only people two organisations share can be served twice; pseudonymous people never are.
    let rows: Vec<Shared> = diesel::sql_query(
        "SELECT person_id, field, month, organisation_id, contract_id FROM participations \
         WHERE person_id IN (SELECT person_id FROM participations GROUP BY person_id \
                             HAVING COUNT(DISTINCT organisation_id) > 1) \
         GROUP BY person_id, field, month, organisation_id, contract_id",
    )
    .load(conn)?;
    // (person, field, quarter) → {(organisation, contract)}
    let mut served: BTreeMap<(i64, String, (i32, u32)), BTreeSet<(i64, i64)>> = BTreeMap::new();
    for r in rows {
        let d = NaiveDate::from_ymd_opt(r.month / 100, (r.month % 100) as u32, 1)
            .ok_or_else(|| AppError::internal("a participation month out of range"))?;
        served
            .entry((r.person_id, r.field, quarter(d)))
            .or_default()
            .insert((r.organisation_id, r.contract_id));
    }
    // (contract, field, quarter) → (people, other contract → people)
    type Overlaps = (Vec<i64>, BTreeMap<i64, usize>);
    let mut per: BTreeMap<(i64, String, (i32, u32)), Overlaps> = BTreeMap::new();
    for ((person, field, q), who) in served {
        let orgs: BTreeSet<i64> = who.iter().map(|(o, _)| *o).collect();
        if orgs.len() < 2 {
            continue;
        }
        for (org, contract) in &who {
            if !ids.contains(contract) {
                continue;
            }
            let e = per.entry((*contract, field.clone(), q)).or_default();
            e.0.push(person);
            for (o2, c2) in &who {
                if o2 != org {
                    *e.1.entry(*c2).or_default() += 1;
                }
            }
        }
    }
    let others: BTreeSet<i64> = per.values().flat_map(|v| v.1.keys().copied()).collect();
    let names: HashMap<i64, (String, String)> = ct::table
        .inner_join(og::table)
        .filter(ct::id.eq_any(others.into_iter().collect::<Vec<_>>()))
        .select((ct::id, og::name, ct::contract_no))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(i, o, n)| (i, (o, n)))
        .collect();
    for ((contract, field, q), (people, other)) in per {
        let overlaps: Vec<Overlap> = other
            .into_iter()
            .map(|(c2, n)| {
                let (organisation, contract_no) = names.get(&c2).cloned().unwrap_or_default();
                Overlap {
                    organisation,
                    contract_no,
                    people: n,
                }
            })
            .collect();
        let zh = crate::registry::orgs::label(crate::registry::orgs::FIELDS, &field, true);
        let en = crate::registry::orgs::label(crate::registry::orgs::FIELDS, &field, false);
        if let Some(e) = rules::served_by_many((&zh, &en), q, &people, &overlaps) {
            out.push(Raised {
                contract_id: contract,
                rule: Rule::ServedByMany,
                activity_id: None,
                evidence: e,
            });
        }
    }
    Ok(())
}
