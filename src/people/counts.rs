//! 人次 and 人数 by dimension, for the district or one organisation, as `domain::people` defines them:
//! participations are counted and their distinct `person_id`s (which de-duplicates an identified person
//! across activities, contracts and organisations), and the activities' anonymous heads are added to 人次.
//! When only the scope, one organisation and the months are asked (the overview a director opens), the
//! figures come from the running tallies of [`super::reach`], a few hundred rows. Otherwise they are
//! computed in the database over one covering index of `participations` (the filters are validated values
//! written into the statement: integers, and codes checked against the configuration), one index scan
//! per breakdown. Both give the same figures; a test compares them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::{Deserialize, Serialize};

use super::Ctx;
use super::reach::Summary;
use crate::db::DbConn;
use crate::db::schema::{communities as cm, contracts as ct, organisations as og, streets as st};
use crate::domain::people::{Count, Dimension, month_key, month_label};
use crate::error::{AppError, Checks};

/// Whose activities are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every organisation's (the bureau, finance, administrators; the public sees totals only).
    District,
    /// One organisation's own.
    Organisation(i64),
}

/// Filters of a count.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CountFilter {
    /// From this month (YYYY-MM), inclusive.
    pub from: Option<String>,
    /// To this month (YYYY-MM), inclusive.
    pub to: Option<String>,
    /// Calendar year (instead of from/to).
    pub year: Option<i32>,
    pub street: Option<i64>,
    /// A service field code.
    pub field: Option<String>,
    pub organisation: Option<i64>,
    pub contract: Option<i64>,
    /// Breakdowns only: `contract`, `organisation`, `community`, `street`, `field`, `group` or `month`.
    pub by: Option<String>,
}

/// One line of a breakdown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Line {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub count: Count,
}

/// The overview a bureau director opens first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// The filters as applied, in words.
    pub filters: String,
    pub total: Count,
    pub by_field: Vec<Line>,
    pub by_street: Vec<Line>,
    pub by_month: Vec<Line>,
    pub by_group: Vec<Line>,
    pub activities: i64,
    pub volunteers: i64,
    pub volunteer_hours: i64,
    /// Purchased projects (contracts signed) and their amounts, in fen, of the period's contracts.
    pub projects: i64,
    pub funds_fen: i64,
    /// Organisations in the registry and certified social workers still employed (district scope).
    pub organisations: i64,
    pub social_workers: i64,
}

/// The district's totals the public sees: no breakdown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublicTotals {
    pub total: Count,
    pub activities: i64,
    pub projects: i64,
    pub funds_fen: i64,
    pub organisations: i64,
}

/// The checked filters as SQL conditions on `participations` and on `activities`.
struct Where {
    participations: String,
    activities: String,
    words: Vec<String>,
    /// The tallies' scope and months, when they can answer.
    reach: Option<(i64, Option<i32>, Option<i32>)>,
}

fn conditions(scope: Scope, f: &CountFilter) -> Result<Where, AppError> {
    let mut c = Checks::new();
    let mut from = c.month("from", f.from.as_deref()).map(month_key);
    let mut to = c.month("to", f.to.as_deref()).map(month_key);
    if let Some(y) = f.year {
        if !(2000..=2100).contains(&y) {
            c.add("year", "range", "年份无效。", "Not a valid year.");
        } else {
            from = Some(y * 100 + 1);
            to = Some(y * 100 + 12);
        }
    }
    if let Some(code) = f.field.as_deref().filter(|s| !s.is_empty())
        && !crate::registry::orgs::FIELDS
            .iter()
            .any(|(k, _, _)| *k == code)
    {
        c.add(
            "field",
            "one_of",
            "没有这个服务领域。",
            "There is no such service field.",
        );
    }
    c.finish()?;
    let field = f.field.as_deref().filter(|s| !s.is_empty());
    let tallied = f.contract.is_none() && f.street.is_none() && field.is_none();
    let reach_scope = match (scope, f.organisation) {
        _ if !tallied => None,
        (Scope::District, None) => Some(super::reach::DISTRICT),
        (Scope::District, Some(o)) | (Scope::Organisation(o), None) => Some(o),
        (Scope::Organisation(o), Some(x)) if x == o => Some(o),
        _ => None,
    }
    // Organisation ids start at 1: any other names nobody (scope 0 is the district's).
    .filter(|s| f.organisation.is_none_or(|_| *s > 0));
    let mut p = vec!["1 = 1".to_string()];
    let mut a = vec!["1 = 1".to_string()];
    let mut words = Vec::new();
    let mut both = |col: &str, v: String| {
        p.push(format!("{col} = {v}"));
        a.push(format!("{col} = {v}"));
    };
    if let Scope::Organisation(o) = scope {
        both("organisation_id", o.to_string());
    }
    if let Some(o) = f.organisation {
        both("organisation_id", o.to_string());
        words.push(format!("organisation={o}"));
    }
    if let Some(x) = f.contract {
        both("contract_id", x.to_string());
        words.push(format!("contract={x}"));
    }
    if let Some(s) = f.street {
        both("street_id", s.to_string());
        words.push(format!("street={s}"));
    }
    if let Some(code) = field {
        // Checked against the field list above: a plain code.
        both("field", format!("'{code}'"));
        words.push(format!("field={code}"));
    }
    if let Some(m) = from {
        p.push(format!("month >= {m}"));
        a.push(format!("held_on >= '{}-01'", month_label(m)));
        words.push(format!("from={}", month_label(m)));
    }
    if let Some(m) = to {
        p.push(format!("month <= {m}"));
        let next = if m % 100 == 12 { m + 89 } else { m + 1 };
        a.push(format!("held_on < '{}-01'", month_label(next)));
        words.push(format!("to={}", month_label(m)));
    }
    Ok(Where {
        participations: p.join(" AND "),
        activities: a.join(" AND "),
        words,
        reach: reach_scope.map(|s| (s, from, to)),
    })
}

#[derive(QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Nullable<Text>)]
    k: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    p: i64,
}

#[derive(QueryableByName)]
struct Summed {
    #[diesel(sql_type = Nullable<Text>)]
    k: Option<String>,
    #[diesel(sql_type = BigInt)]
    a: i64,
}

fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::Contract => "contract_id",
        Dimension::Organisation => "organisation_id",
        Dimension::Community => "community_id",
        Dimension::Street => "street_id",
        Dimension::Field => "field",
        Dimension::Group => "grp",
        Dimension::Month => "month",
    }
}

/// The tallies for `w`, when they can answer it.
fn tallies(conn: &mut DbConn, w: &Where) -> Result<Option<Summary>, AppError> {
    match w.reach {
        Some((scope, from, to)) => Ok(Some(super::reach::read(conn, scope, from, to)?)),
        None => Ok(None),
    }
}

/// Registered participations, distinct people and anonymous heads per key of a dimension.
fn grouped(
    conn: &mut DbConn,
    d: Dimension,
    w: &Where,
    t: Option<&Summary>,
) -> Result<BTreeMap<String, Count>, AppError> {
    if let Some(t) = t
        && super::reach::keeps(d)
    {
        return Ok(t.grouped(d));
    }
    let col = column(d);
    // One pass over the covering index (col, person_id, …): the inner grouping streams in index order and
    // yields each (key, person) once with its participations; the outer one counts and sums them. (SQLite's
    // COUNT(DISTINCT) would build a temporary b-tree per group instead.)
    let rows: Vec<Grouped> = diesel::sql_query(format!(
        "SELECT CAST(k AS TEXT) AS k, CAST(SUM(n) AS BIGINT) AS n, COUNT(*) AS p FROM \
         (SELECT {col} AS k, person_id, COUNT(*) AS n FROM participations WHERE {} \
          GROUP BY {col}, person_id) AS d GROUP BY k",
        w.participations
    ))
    .load(conn)?;
    let mut out: BTreeMap<String, Count> = BTreeMap::new();
    for r in rows {
        out.insert(r.k.unwrap_or_default(), Count::new(r.n, 0, r.p));
    }
    // Anonymous heads have no person and so no group: they stay out of the group breakdown (its total
    // says so) and are added wherever an activity has the key.
    if d != Dimension::Group {
        let key = if d == Dimension::Month {
            "CAST(held_on AS TEXT)"
        } else {
            col
        };
        let sums: Vec<Summed> = diesel::sql_query(format!(
            "SELECT CAST({key} AS TEXT) AS k, CAST(SUM(anonymous) AS BIGINT) AS a FROM activities \
             WHERE anonymous > 0 AND {} GROUP BY {key}",
            w.activities
        ))
        .load(conn)?;
        for s in sums {
            let mut k = s.k.unwrap_or_default();
            if d == Dimension::Month {
                k = NaiveDate::parse_from_str(k.get(..10).unwrap_or(""), "%Y-%m-%d")
                    .map(|d| month_key(d).to_string())
                    .unwrap_or(k);
            }
            let e = out.entry(k).or_default();
            *e = Count::new(e.registered, e.anonymous + s.a, e.people);
        }
    }
    Ok(out)
}

/// Labels of a dimension's keys.
fn labels(
    conn: &mut DbConn,
    ctx: &Ctx,
    d: Dimension,
    keys: &[String],
    zh: bool,
) -> Result<BTreeMap<String, String>, AppError> {
    let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
    let pairs: Vec<(i64, String)> = match d {
        Dimension::Contract => ct::table
            .filter(ct::id.eq_any(&ids))
            .select((ct::id, ct::contract_no))
            .load(conn)?,
        Dimension::Organisation => og::table
            .filter(og::id.eq_any(&ids))
            .select((og::id, og::name))
            .load(conn)?,
        Dimension::Community => cm::table
            .filter(cm::id.eq_any(&ids))
            .select((cm::id, cm::name))
            .load(conn)?,
        Dimension::Street => st::table
            .filter(st::id.eq_any(&ids))
            .select((st::id, st::name))
            .load(conn)?,
        Dimension::Field => {
            return Ok(keys
                .iter()
                .map(|k| {
                    (
                        k.clone(),
                        crate::registry::orgs::label(crate::registry::orgs::FIELDS, k, zh),
                    )
                })
                .collect());
        }
        Dimension::Group => {
            return Ok(keys
                .iter()
                .map(|k| {
                    (
                        k.clone(),
                        crate::domain::vocab::term_label(&ctx.settings.groups, k, zh).to_string(),
                    )
                })
                .collect());
        }
        Dimension::Month => {
            return Ok(keys
                .iter()
                .map(|k| (k.clone(), k.parse().map(month_label).unwrap_or(k.clone())))
                .collect());
        }
    };
    Ok(pairs.into_iter().map(|(i, l)| (i.to_string(), l)).collect())
}

/// A breakdown by one dimension: one line per key, months in order, others by 人次 (most first).
pub fn breakdown(
    conn: &mut DbConn,
    ctx: &Ctx,
    scope: Scope,
    d: Dimension,
    f: &CountFilter,
    zh: bool,
) -> Result<Vec<Line>, AppError> {
    let w = conditions(scope, f)?;
    let t = if super::reach::keeps(d) {
        tallies(conn, &w)?
    } else {
        None
    };
    lines(conn, ctx, d, &w, t.as_ref(), zh)
}

fn lines(
    conn: &mut DbConn,
    ctx: &Ctx,
    d: Dimension,
    w: &Where,
    t: Option<&Summary>,
    zh: bool,
) -> Result<Vec<Line>, AppError> {
    let g = grouped(conn, d, w, t)?;
    let keys: Vec<String> = g.keys().cloned().collect();
    let labels = labels(conn, ctx, d, &keys, zh)?;
    let mut out: Vec<Line> = g
        .into_iter()
        .map(|(key, count)| Line {
            label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
            key,
            count,
        })
        .collect();
    if d != Dimension::Month {
        out.sort_by(|a, b| b.count.visits.cmp(&a.count.visits).then(a.key.cmp(&b.key)));
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    p: i64,
}

#[derive(QueryableByName)]
struct ActivityTotals {
    #[diesel(sql_type = BigInt)]
    activities: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    anonymous: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    volunteers: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    volunteer_minutes: Option<i64>,
}

fn totals(
    conn: &mut DbConn,
    w: &Where,
    t: Option<&Summary>,
) -> Result<(Count, ActivityTotals), AppError> {
    if let Some(t) = t {
        let (count, c) = t.total();
        return Ok((
            count,
            ActivityTotals {
                activities: c.activities,
                anonymous: Some(c.anonymous),
                volunteers: Some(c.volunteers),
                volunteer_minutes: Some(c.volunteer_minutes),
            },
        ));
    }
    let t: Totals = diesel::sql_query(format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n, COUNT(*) AS p FROM \
         (SELECT person_id, COUNT(*) AS n FROM participations WHERE {} GROUP BY person_id) AS d",
        w.participations
    ))
    .get_result(conn)?;
    let a: ActivityTotals = diesel::sql_query(format!(
        "SELECT COUNT(*) AS activities, CAST(SUM(anonymous) AS BIGINT) AS anonymous, \
         CAST(SUM(volunteers) AS BIGINT) AS volunteers, \
         CAST(SUM(volunteer_minutes) AS BIGINT) AS volunteer_minutes FROM activities WHERE {}",
        w.activities
    ))
    .get_result(conn)?;
    Ok((Count::new(t.n, a.anonymous.unwrap_or(0), t.p), a))
}

/// Contracts signed (publicly known) in scope, and their amounts; a year filter takes the year's
/// signings.
fn projects(conn: &mut DbConn, scope: Scope, f: &CountFilter) -> Result<(i64, i64), AppError> {
    let mut q = ct::table
        .filter(ct::state.ne(crate::domain::contract::State::Draft.as_str()))
        .into_boxed();
    if let Scope::Organisation(o) = scope {
        q = q.filter(ct::organisation_id.eq(o));
    }
    if let Some(o) = f.organisation {
        q = q.filter(ct::organisation_id.eq(o));
    }
    if let Some(c) = f.contract {
        q = q.filter(ct::id.eq(c));
    }
    if let Some(y) = f.year
        && let (Some(a), Some(b)) = (
            NaiveDate::from_ymd_opt(y, 1, 1),
            NaiveDate::from_ymd_opt(y, 12, 31),
        )
    {
        q = q.filter(ct::signed_on.between(a, b));
    }
    let amounts: Vec<i64> = q.select(ct::amount_fen).load(conn)?;
    Ok((amounts.len() as i64, amounts.iter().sum()))
}

/// The overview: totals, 人次 and 人数 by field, street, month and group, the projects and funds, the
/// registry's organisations and certified social workers.
pub fn overview(
    conn: &mut DbConn,
    ctx: &Ctx,
    scope: Scope,
    f: &CountFilter,
    zh: bool,
) -> Result<Overview, AppError> {
    use crate::db::schema::social_workers as sw;
    let w = conditions(scope, f)?;
    let t = tallies(conn, &w)?;
    let t = t.as_ref();
    let (total, a) = totals(conn, &w, t)?;
    let (projects, funds_fen) = projects(conn, scope, f)?;
    let (organisations, social_workers) = match scope {
        Scope::District => (
            og::table.count().get_result(conn)?,
            sw::table
                .filter(sw::certificate_level.ne("none"))
                .filter(sw::employment.ne("left"))
                .count()
                .get_result(conn)?,
        ),
        Scope::Organisation(o) => (
            1,
            sw::table
                .filter(sw::organisation_id.eq(o))
                .filter(sw::certificate_level.ne("none"))
                .filter(sw::employment.ne("left"))
                .count()
                .get_result(conn)?,
        ),
    };
    Ok(Overview {
        filters: w.words.join(", "),
        total,
        by_field: lines(conn, ctx, Dimension::Field, &w, t, zh)?,
        by_street: lines(conn, ctx, Dimension::Street, &w, t, zh)?,
        by_month: lines(conn, ctx, Dimension::Month, &w, t, zh)?,
        by_group: lines(conn, ctx, Dimension::Group, &w, t, zh)?,
        activities: a.activities,
        volunteers: a.volunteers.unwrap_or(0),
        volunteer_hours: a.volunteer_minutes.unwrap_or(0) / 60,
        projects,
        funds_fen,
        organisations,
        social_workers,
    })
}

/// The district's totals for everyone: no breakdown, nothing per organisation or person.
pub fn public_totals(conn: &mut DbConn, f: &CountFilter) -> Result<PublicTotals, AppError> {
    let f = CountFilter {
        year: f.year,
        ..Default::default()
    };
    let w = conditions(Scope::District, &f)?;
    let t = tallies(conn, &w)?;
    let (total, a) = totals(conn, &w, t.as_ref())?;
    let (projects, funds_fen) = projects(conn, Scope::District, &f)?;
    Ok(PublicTotals {
        total,
        activities: a.activities,
        projects,
        funds_fen,
        organisations: og::table.count().get_result(conn)?,
    })
}

/// The header of a breakdown's CSV.
pub const CSV_HEADER: &[&str] = &[
    "键 Key",
    "名称 Name",
    "人次 Visits",
    "其中匿名人次 Anonymous visits",
    "人数 People",
];

/// A breakdown as CSV (UTF-8 with BOM): counts only, no personal data.
pub fn export_csv(lines: &[Line]) -> String {
    crate::registry::import::csv_document(
        CSV_HEADER,
        lines.iter().map(|l| {
            vec![
                l.key.clone(),
                l.label.clone(),
                l.count.visits.to_string(),
                l.count.anonymous.to_string(),
                l.count.people.to_string(),
            ]
        }),
    )
}
