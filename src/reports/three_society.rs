//! The district's 三社联动 report (DOMAIN.md, The 三社联动 report): communities, social organisations and
//! social workers over a period (a year, a quarter or a span of months), optionally one street. Every
//! figure comes from the services that show it elsewhere (people served from `people::counts`, funds from
//! `ledger::execution`), so the report and the API agree; the rest are plain counts of the registry.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::db::schema::{
    bases as bs, communities as cm, contract_instalments as ci, contracts as ct,
    incubations as inc, organisations as og, satisfaction_surveys as sv, social_workers as sw,
    streets as st, tender_streets as ts, tenders as tn,
};
use crate::domain::people::{Count, Satisfaction, month_key};
use crate::domain::vocab::{CERTIFICATE_LEVELS, label};
use crate::error::{AppError, Checks};
use crate::ledger::Digest;
use crate::people::counts::{CountFilter, Line, Scope};
use crate::registry::orgs::{FIELDS, REGISTRATIONS};

/// The period and place of a report.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportFilter {
    /// Calendar year.
    pub year: Option<i32>,
    /// Quarter 1–4 of `year`.
    pub quarter: Option<u32>,
    /// From this month (YYYY-MM), with `to`, instead of a year.
    pub from: Option<String>,
    /// To this month (YYYY-MM), inclusive.
    pub to: Option<String>,
    /// One street only.
    pub street: Option<i64>,
}

/// A checked period: its first and last day, and its name.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Period {
    #[schema(value_type = String)]
    pub from: NaiveDate,
    #[schema(value_type = String)]
    pub to: NaiveDate,
    /// 2021年, 2021年第二季度, 2021年3月至2021年8月.
    pub name: String,
    /// The budget year whose funds are reported (the year the period starts in).
    pub budget_year: i32,
}

fn month_end(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(first)
}

impl ReportFilter {
    /// The period asked for: a year, a quarter of it, or months from–to; nothing else, and one of them.
    pub fn period(&self) -> Result<Period, AppError> {
        let mut c = Checks::new();
        let months = (self.from.as_deref(), self.to.as_deref());
        let p = match (self.year, months) {
            (Some(y), (None, None)) if (2000..=2100).contains(&y) => match self.quarter {
                None => Some((
                    NaiveDate::from_ymd_opt(y, 1, 1),
                    NaiveDate::from_ymd_opt(y, 12, 31),
                    format!("{y}年"),
                )),
                Some(q @ 1..=4) => {
                    let first = NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1);
                    let names = ["一", "二", "三", "四"];
                    Some((
                        first,
                        first.map(|f| month_end(f.with_month(q * 3).unwrap_or(f))),
                        format!("{y}年第{}季度", names[q as usize - 1]),
                    ))
                }
                Some(_) => {
                    c.add(
                        "quarter",
                        "range",
                        "季度为 1 至 4。",
                        "A quarter is 1 to 4.",
                    );
                    None
                }
            },
            (Some(_), (None, None)) => {
                c.add("year", "range", "年份无效。", "Not a valid year.");
                None
            }
            (None, (Some(f), Some(t))) if self.quarter.is_none() => {
                let a = c.month("from", Some(f));
                let b = c.month("to", Some(t)).map(month_end);
                match (a, b) {
                    (Some(a), Some(b)) if a > b => {
                        c.add(
                            "to",
                            "after_from",
                            "截止月份不能早于起始月份。",
                            "The last month cannot come before the first.",
                        );
                        None
                    }
                    (Some(a), Some(b)) => Some((
                        Some(a),
                        Some(b),
                        format!(
                            "{}年{}月至{}年{}月",
                            a.year(),
                            a.month(),
                            b.year(),
                            b.month()
                        ),
                    )),
                    _ => None,
                }
            }
            _ => {
                c.add(
                    "year",
                    "period",
                    "请给出年份（可加季度），或起止月份 from 与 to，二者取一。",
                    "Give a year (and optionally a quarter), or the months from and to; one of the two.",
                );
                None
            }
        };
        c.finish()?;
        match p {
            Some((Some(from), Some(to), name)) => Ok(Period {
                budget_year: from.year(),
                from,
                to,
                name,
            }),
            _ => Err(AppError::field(
                "year",
                "period",
                "报告期无效。",
                "Not a valid period.",
            )),
        }
    }
}

/// One row of a small table: a label and a count.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// Purchased services of one field or street: projects (contracts signed in the period) and their amounts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Purchased {
    pub key: String,
    pub label: String,
    pub projects: i64,
    pub funds_fen: i64,
}

/// One project of the appendix.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub contract_id: i64,
    pub contract_no: String,
    pub title: String,
    pub field: String,
    pub provider: String,
    pub credit_code: Option<String>,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub count: Count,
    /// The grade of its latest accepted milestone.
    pub grade: Option<String>,
}

/// Certified social workers of one organisation, by level.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WorkersOf {
    pub organisation: String,
    /// assistant, social_worker, senior
    pub levels: [i64; 3],
}

/// One incubation base.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Base {
    pub name: String,
    pub level: String,
    pub place: String,
    pub seats: i32,
    pub incubating: i64,
}

/// The report's figures.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ThreeSociety {
    pub period: Period,
    /// The street reported on, if one.
    pub street: Option<String>,
    /// The filters in words, for the footer.
    pub filters: String,
    // 1. Overview.
    pub communities: i64,
    /// Communities where an activity was held in the period.
    pub communities_covered: i64,
    /// Organisations by registration (registered, filed, in incubation).
    pub organisations: Vec<Tally>,
    pub bases_by_level: Vec<Tally>,
    /// Communities with a community-level base.
    pub communities_with_base: i64,
    /// Certified social workers still employed, by level.
    pub workers_by_level: Vec<Tally>,
    pub volunteers: i64,
    pub volunteer_hours: i64,
    // 2. Measures.
    /// Incubation: entered (admitted in the period), incubating at its end, graduated and exited in it.
    pub funnel: Vec<Tally>,
    pub purchased_by_field: Vec<Purchased>,
    pub purchased_by_street: Vec<Purchased>,
    // 3. Results.
    /// The budget year's funds: appropriated, committed, paid, execution rate.
    pub funds: crate::ledger::execution::Figures,
    pub people: Count,
    pub activities: i64,
    pub people_by_field: Vec<Line>,
    pub people_by_street: Vec<Line>,
    pub people_by_month: Vec<Line>,
    pub grades: Vec<Tally>,
    pub satisfaction: Satisfaction,
    // 4, 5. The bureau's text.
    pub problems: String,
    pub next_steps: String,
    // Appendices.
    pub projects: Vec<Project>,
    pub workers: Vec<WorkersOf>,
    pub bases: Vec<Base>,
    /// The ledger's head when the figures were read.
    pub digest: Digest,
}

/// An incubation: base, state, started, graduated, exited, decided.
type IncubationRow = (
    i64,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

fn tallies(rows: Vec<(String, i64)>, vocab: &[(&str, &str, &str)]) -> Vec<Tally> {
    let mut m: BTreeMap<String, i64> = BTreeMap::new();
    for (k, n) in rows {
        *m.entry(k).or_default() += n;
    }
    vocab
        .iter()
        .map(|(k, zh, _)| Tally {
            key: k.to_string(),
            label: zh.to_string(),
            count: m.get(*k).copied().unwrap_or(0),
        })
        .collect()
}

/// Gather the report's figures, in one read transaction so they belong to one state of the database.
pub fn gather(
    conn: &mut DbConn,
    people: &crate::people::Ctx,
    ledger: &crate::ledger::Settings,
    f: &ReportFilter,
) -> Result<ThreeSociety, AppError> {
    let period = f.period()?;
    conn.transaction(|c| gather_in(c, people, ledger, f, period))
}

fn gather_in(
    c: &mut DbConn,
    people: &crate::people::Ctx,
    ledger: &crate::ledger::Settings,
    f: &ReportFilter,
    period: Period,
) -> Result<ThreeSociety, AppError> {
    let street = match f.street {
        Some(s) => Some(
            st::table
                .find(s)
                .select(st::name)
                .first::<String>(c)
                .optional()?
                .ok_or_else(|| {
                    AppError::field(
                        "street",
                        "exists",
                        "没有这个街道。",
                        "There is no such street.",
                    )
                })?,
        ),
        None => None,
    };
    let digest = crate::ledger::digest(c)?;
    let (from, to) = (period.from, period.to);
    let counts = CountFilter {
        from: Some(crate::domain::people::month_label(month_key(from))),
        to: Some(crate::domain::people::month_label(month_key(to))),
        street: f.street,
        ..Default::default()
    };
    let o = crate::people::counts::overview(c, people, Scope::District, &counts, true)?;

    // 1. Overview.
    let mut communities_q = cm::table.into_boxed();
    if let Some(s) = f.street {
        communities_q = communities_q.filter(cm::street_id.eq(s));
    }
    let communities: i64 = communities_q.count().get_result(c)?;
    let covered: i64 = {
        use crate::db::schema::activities as ac;
        let mut q = ac::table
            .filter(ac::held_on.between(from, to))
            .select(ac::community_id)
            .distinct()
            .into_boxed();
        if let Some(s) = f.street {
            q = q.filter(ac::street_id.eq(s));
        }
        q.load::<i64>(c)?.len() as i64
    };
    let mut orgs_q = og::table
        .group_by(og::registration)
        .select((og::registration, count_star()))
        .into_boxed();
    if let Some(s) = f.street {
        orgs_q = orgs_q.filter(og::street_id.eq(s));
    }
    let organisations = tallies(orgs_q.load(c)?, REGISTRATIONS);
    let mut bases_q = bs::table.into_boxed();
    if let Some(s) = f.street {
        bases_q = bases_q.filter(bs::street_id.eq(s));
    }
    type BaseRow = (i64, String, String, Option<i64>, Option<i64>, i32);
    let base_rows: Vec<BaseRow> = bases_q
        .select((
            bs::id,
            bs::name,
            bs::level,
            bs::street_id,
            bs::community_id,
            bs::seats,
        ))
        .order((bs::level, bs::id))
        .load(c)?;
    let levels = crate::registry::bases::Level::ALL;
    let level_vocab: Vec<(&str, &str, &str)> = levels
        .iter()
        .map(|l| (l.as_str(), l.label_zh(), l.label_zh()))
        .collect();
    let bases_by_level = tallies(
        base_rows.iter().map(|b| (b.2.clone(), 1)).collect(),
        &level_vocab,
    );
    let communities_with_base = {
        let mut s: Vec<i64> = base_rows.iter().filter_map(|b| b.4).collect();
        s.sort_unstable();
        s.dedup();
        s.len() as i64
    };
    let mut workers_q = sw::table
        .inner_join(og::table)
        .filter(sw::employment.ne("left"))
        .filter(sw::certificate_level.ne("none"))
        .select((og::name, sw::certificate_level))
        .into_boxed();
    if let Some(s) = f.street {
        workers_q = workers_q.filter(og::street_id.eq(s));
    }
    let worker_rows: Vec<(String, String)> = workers_q.load(c)?;
    let certified: Vec<(&str, &str, &str)> = CERTIFICATE_LEVELS
        .iter()
        .filter(|(k, _, _)| *k != "none")
        .copied()
        .collect();
    let workers_by_level = tallies(
        worker_rows.iter().map(|(_, l)| (l.clone(), 1)).collect(),
        &certified,
    );
    let mut by_org: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for (org, level) in &worker_rows {
        if let Some(i) = certified.iter().position(|(k, _, _)| k == level) {
            by_org.entry(org.clone()).or_default()[i] += 1;
        }
    }
    let workers = by_org
        .into_iter()
        .map(|(organisation, levels)| WorkersOf {
            organisation,
            levels,
        })
        .collect();

    // 2. Measures: the incubation funnel in the period.
    let inc_rows: Vec<IncubationRow> = {
        let mut q = inc::table
            .inner_join(bs::table)
            .select((
                inc::base_id,
                inc::state,
                inc::start_on,
                inc::graduated_on,
                inc::exited_on,
                inc::decided_on,
            ))
            .into_boxed();
        if let Some(s) = f.street {
            q = q.filter(bs::street_id.eq(s));
        }
        q.load(c)?
    };
    let within = |d: &Option<NaiveDate>| d.is_some_and(|d| d >= from && d <= to);
    let entered = inc_rows.iter().filter(|r| within(&r.2)).count() as i64;
    let incubating_at_end = |r: &IncubationRow| {
        r.2.is_some_and(|s| s <= to) && r.3.is_none_or(|g| g > to) && r.4.is_none_or(|e| e > to)
    };
    let incubating = inc_rows.iter().filter(|r| incubating_at_end(r)).count() as i64;
    let graduated = inc_rows.iter().filter(|r| within(&r.3)).count() as i64;
    let exited = inc_rows.iter().filter(|r| within(&r.4)).count() as i64;
    let funnel = vec![
        Tally {
            key: "entered".into(),
            label: "入驻".into(),
            count: entered,
        },
        Tally {
            key: "incubating".into(),
            label: "在孵（期末）".into(),
            count: incubating,
        },
        Tally {
            key: "graduated".into(),
            label: "出壳".into(),
            count: graduated,
        },
        Tally {
            key: "exited".into(),
            label: "退出".into(),
            count: exited,
        },
    ];
    let mut incubating_at: BTreeMap<i64, i64> = BTreeMap::new();
    for r in inc_rows.iter().filter(|r| incubating_at_end(r)) {
        *incubating_at.entry(r.0).or_default() += 1;
    }
    let street_names: BTreeMap<i64, String> = st::table
        .select((st::id, st::name))
        .load(c)?
        .into_iter()
        .collect();
    let community_names: BTreeMap<i64, String> = cm::table
        .select((cm::id, cm::name))
        .load(c)?
        .into_iter()
        .collect();
    let bases = base_rows
        .iter()
        .map(|(id, name, level, street, community, seats)| Base {
            name: name.clone(),
            level: crate::registry::bases::Level::parse(level)
                .map_or(level.clone(), |l| l.label_zh().to_string()),
            place: [
                street.and_then(|s| street_names.get(&s).cloned()),
                community.and_then(|x| community_names.get(&x).cloned()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
            seats: *seats,
            incubating: incubating_at.get(id).copied().unwrap_or(0),
        })
        .collect();

    // Purchased services: contracts signed in the period (of the street's tenders, or district-wide ones).
    let mut contracts_q = ct::table
        .inner_join(tn::table)
        .inner_join(og::table)
        .filter(ct::signed_on.between(from, to))
        .filter(ct::state.ne(crate::domain::contract::State::Draft.as_str()))
        .select((
            ct::id,
            ct::contract_no,
            ct::title,
            tn::field,
            og::name,
            og::credit_code,
            ct::amount_fen,
            ct::tender_id,
        ))
        .order(ct::id)
        .into_boxed();
    if let Some(s) = f.street {
        let tenders: Vec<i64> = ts::table
            .filter(ts::street_id.eq(s))
            .select(ts::tender_id)
            .load(c)?;
        contracts_q = contracts_q.filter(ct::tender_id.eq_any(tenders));
    }
    type ContractRow = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        i64,
        i64,
    );
    let contracts: Vec<ContractRow> = contracts_q.load(c)?;
    let ids: Vec<i64> = contracts.iter().map(|r| r.0).collect();
    let paid: BTreeMap<i64, i64> = {
        use crate::db::schema::payments as pm;
        let rows: Vec<(i64, i64)> = pm::table
            .filter(pm::contract_id.eq_any(&ids))
            .select((pm::contract_id, pm::amount_fen))
            .load(c)?;
        let mut m = BTreeMap::new();
        for (k, a) in rows {
            *m.entry(k).or_default() += a;
        }
        m
    };
    let grade_rows: Vec<(i64, i32, Option<String>)> = ci::table
        .filter(ci::contract_id.eq_any(&ids))
        .filter(ci::grade.is_not_null())
        .select((ci::contract_id, ci::no, ci::grade))
        .order((ci::contract_id, ci::no))
        .load(c)?;
    let grade_of: BTreeMap<i64, String> = grade_rows
        .into_iter()
        .filter_map(|(k, _, g)| g.map(|g| (k, g)))
        .collect();
    let served = crate::people::counts::breakdown(
        c,
        people,
        Scope::District,
        crate::domain::people::Dimension::Contract,
        &counts,
        true,
    )?;
    let served: BTreeMap<String, Count> = served.into_iter().map(|l| (l.key, l.count)).collect();
    let mut tender_street: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (t, s) in ts::table
        .filter(ts::tender_id.eq_any(contracts.iter().map(|r| r.7).collect::<Vec<_>>()))
        .select((ts::tender_id, ts::street_id))
        .load::<(i64, i64)>(c)?
    {
        tender_street.entry(t).or_default().push(s);
    }
    let mut by_field: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut by_street: BTreeMap<Option<i64>, (i64, i64)> = BTreeMap::new();
    let mut projects = Vec::new();
    for (id, no, title, field, provider, credit_code, amount, tender) in contracts {
        let e = by_field.entry(field.clone()).or_default();
        e.0 += 1;
        e.1 += amount;
        let streets = tender_street.get(&tender).cloned().unwrap_or_default();
        if streets.is_empty() {
            let e = by_street.entry(None).or_default();
            e.0 += 1;
            e.1 += amount;
        }
        for s in streets {
            // A tender of several streets counts once under each (their sum exceeds the total).
            let e = by_street.entry(Some(s)).or_default();
            e.0 += 1;
            e.1 += amount;
        }
        projects.push(Project {
            contract_id: id,
            contract_no: no,
            title,
            field: label(FIELDS, &field, true),
            provider,
            credit_code,
            amount_fen: amount,
            paid_fen: paid.get(&id).copied().unwrap_or(0),
            count: served.get(&id.to_string()).copied().unwrap_or_default(),
            grade: grade_of.get(&id).cloned(),
        });
    }
    let purchased_by_field = by_field
        .into_iter()
        .map(|(k, (projects, funds_fen))| Purchased {
            label: label(FIELDS, &k, true),
            key: k,
            projects,
            funds_fen,
        })
        .collect();
    let purchased_by_street = by_street
        .into_iter()
        .map(|(k, (projects, funds_fen))| Purchased {
            key: k.map_or("district".into(), |s| s.to_string()),
            label: k.map_or("全区".into(), |s| {
                street_names.get(&s).cloned().unwrap_or_default()
            }),
            projects,
            funds_fen,
        })
        .collect();

    // 3. Results.
    let exec = crate::ledger::execution::execution(
        c,
        ledger,
        &crate::ledger::execution::ExecutionFilter {
            year: Some(period.budget_year),
            ..Default::default()
        },
    )?;
    let grades = {
        let mut m: BTreeMap<String, i64> = BTreeMap::new();
        for p in &projects {
            if let Some(g) = &p.grade {
                *m.entry(g.clone()).or_default() += 1;
            }
        }
        ["优", "良", "中", "差"]
            .iter()
            .map(|g| Tally {
                key: g.to_string(),
                label: g.to_string(),
                count: m.get(*g).copied().unwrap_or(0),
            })
            .collect()
    };
    let answers: Vec<(i32, i32, i32, i32, i32)> = sv::table
        .filter(sv::surveyed_on.between(from, to))
        .filter(sv::contract_id.eq_any(&ids))
        .select((sv::n1, sv::n2, sv::n3, sv::n4, sv::n5))
        .load(c)?;
    let mut sum = [0i64; 5];
    for a in answers {
        for (i, n) in [a.0, a.1, a.2, a.3, a.4].into_iter().enumerate() {
            sum[i] += i64::from(n);
        }
    }
    let texts = super::texts::get(c, &super::texts::key(&period, f.street))?;
    let mut filters = vec![format!("报告期 {}", period.name)];
    if let Some(s) = &street {
        filters.push(format!("街道 {s}"));
    }
    Ok(ThreeSociety {
        filters: filters.join("，"),
        street,
        communities,
        communities_covered: covered,
        organisations,
        bases_by_level,
        communities_with_base,
        workers_by_level,
        volunteers: o.volunteers,
        volunteer_hours: o.volunteer_hours,
        funnel,
        purchased_by_field,
        purchased_by_street,
        funds: exec.total,
        people: o.total,
        activities: o.activities,
        people_by_field: o.by_field,
        people_by_street: o.by_street,
        people_by_month: o.by_month,
        grades,
        satisfaction: Satisfaction::of(sum),
        problems: texts.problems,
        next_steps: texts.next_steps,
        projects,
        workers,
        bases,
        digest,
        period,
    })
}
