//! `sanshe bench-people` (hidden; driven by scripts/bench-people): on an empty database, seed the demo
//! without its people served, take its 100 most recent signed contracts, and generate 60,000 people and
//! 1,000,000 participations under them ([`crate::people::synthetic`], plain multi-row INSERTs: the set-up,
//! not a figure). Then time, through the services:
//! - the district overview ([`crate::people::counts::overview`]: 人次 and de-duplicated 人数 by field,
//!   street, month and group, and the totals), min, median and p99 of `--overview-runs` after one warm-up;
//! - an organisation's activity save ([`crate::people::activities::record`], 10 registered participants)
//!   on a running contract, `--saves` times one after another (each a durable write transaction);
//! - an attendance CSV import ([`crate::people::activities::import_csv`]) of `--import-rows` rows,
//!   20 participants an activity.
//!
//! Prints one `name value` line per figure; the script makes the table and checks the targets.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::DbConn;
use crate::db::schema::{beneficiaries as be, communities as cm, contracts as ct, users};
use crate::people::activities::{self, NewActivity};
use crate::people::counts::{self, CountFilter, Scope};
use crate::people::synthetic;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub contracts: usize,
    pub people: u64,
    pub participations: u64,
    pub overview_runs: usize,
    pub saves: usize,
    pub import_rows: usize,
    pub seed: u64,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn ms(d: Duration) -> String {
    format!("{}.{:03}", d.as_millis(), d.subsec_micros() % 1000)
}

fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

fn line(out: &mut dyn Write, name: &str, v: impl std::fmt::Display) -> Result<(), String> {
    writeln!(out, "{name} {v}").map_err(err)?;
    out.flush().map_err(err)
}

/// The nearest-rank percentile of sorted times.
fn pct(sorted: &[Duration], p: usize) -> Duration {
    let n = sorted.len();
    sorted[((n * p).div_ceil(100)).clamp(1, n) - 1]
}

/// min, median and p99 lines of `times` under `name`.
fn spread(out: &mut dyn Write, name: &str, mut times: Vec<Duration>) -> Result<(), String> {
    times.sort();
    line(out, &format!("{name}_min_ms"), ms(times[0]))?;
    line(out, &format!("{name}_median_ms"), ms(pct(&times, 50)))?;
    line(out, &format!("{name}_p99_ms"), ms(pct(&times, 99)))?;
    line(out, &format!("{name}_runs"), times.len())
}

/// An organisation's first `org` user, as the actor of its saves and imports.
fn org_actor(c: &mut DbConn, org: i64) -> Result<Option<Actor>, String> {
    let u: Option<(i64, String)> = users::table
        .filter(users::org_id.eq(org))
        .filter(users::role.eq("org"))
        .order(users::id)
        .select((users::id, users::username))
        .first(c)
        .optional()
        .map_err(err)?;
    Ok(u.map(|(id, name)| Actor {
        id: Some(id),
        name,
        request_id: None,
    }))
}

/// Run the benchmark on `c`. `seed_demo` loads the demo without people served into the empty database.
pub fn run(
    c: &mut DbConn,
    ctx: &crate::people::Ctx,
    now: chrono::DateTime<chrono::Utc>,
    seed_demo: impl FnOnce(&mut DbConn) -> Result<(), String>,
    o: &Options,
    out: &mut dyn Write,
) -> Result<(), String> {
    let users_before: i64 = users::table.count().get_result(c).map_err(err)?;
    if users_before > 0 {
        return Err("bench-people needs an empty database (it seeds the demo data)".into());
    }
    let t = Instant::now();
    seed_demo(c)?;
    line(out, "seed_seconds", secs(t.elapsed()))?;
    let today = crate::clock::beijing_date(now);
    let mut contracts = synthetic::signed_contracts(c, today).map_err(err)?;
    // The most recent: the running ones among them, for the saves and the import.
    contracts.sort_by_key(|x| std::cmp::Reverse((x.from, x.id)));
    contracts.truncate(o.contracts);
    if contracts.len() < o.contracts {
        return Err(format!(
            "the demo has {} signed contracts, not {}",
            contracts.len(),
            o.contracts
        ));
    }
    let bureau: i64 = users::table
        .filter(users::username.eq("bureau"))
        .select(users::id)
        .first(c)
        .map_err(err)?;
    let t = Instant::now();
    let s = synthetic::generate(
        c,
        ctx.secret.expose(),
        &contracts,
        &synthetic::Options {
            seed: o.seed,
            people: o.people,
            participations: o.participations,
            duplicates_permille: 10,
            pseudonymous_percent: 5,
            rows_per_insert: 1000,
        },
        now,
        bureau,
    )
    .map_err(err)?;
    line(out, "generate_seconds", secs(t.elapsed()))?;
    line(out, "contracts", contracts.len())?;
    line(out, "people", s.people)?;
    line(out, "participations", s.participations)?;
    line(out, "activities", s.activities)?;
    line(out, "anonymous", s.anonymous)?;
    line(out, "duplicates", s.duplicates)?;
    if let DbConn::Pg(_) = c {
        // Fresh statistics, as autovacuum would give them after a bulk load.
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").map_err(err)?;
    }

    // The district overview.
    let f = CountFilter::default();
    let first = counts::overview(c, ctx, Scope::District, &f, true).map_err(err)?;
    line(out, "overview_visits", first.total.visits)?;
    line(out, "overview_people", first.total.people)?;
    let mut times = Vec::new();
    for _ in 0..o.overview_runs.max(1) {
        let t = Instant::now();
        let v = counts::overview(c, ctx, Scope::District, &f, true).map_err(err)?;
        times.push(t.elapsed());
        if v.total != first.total {
            return Err("the overview changed between runs".into());
        }
    }
    spread(out, "overview", times)?;

    // Saves on the running contracts, round robin, 10 of the organisation's people each.
    let live: Vec<i64> = ct::table
        .filter(ct::id.eq_any(contracts.iter().map(|x| x.id).collect::<Vec<_>>()))
        .filter(ct::state.eq_any([
            "signed",
            "in_progress",
            "midterm_accepted",
            "final_accepted",
        ]))
        .select(ct::id)
        .load(c)
        .map_err(err)?;
    let mut targets = Vec::new();
    for x in contracts.iter().filter(|x| live.contains(&x.id)) {
        let Some(actor) = org_actor(c, x.organisation_id)? else {
            continue;
        };
        let people: Vec<(i64, String)> = be::table
            .filter(be::organisation_id.eq(x.organisation_id))
            .order(be::id)
            .select((be::id, be::pseudonym))
            .limit(2000)
            .load(c)
            .map_err(err)?;
        if people.len() >= 20 {
            targets.push((x.clone(), actor, people));
        }
    }
    if targets.is_empty() {
        return Err("no running contract with an organisation user and 20 people".into());
    }
    line(out, "save_contracts", targets.len())?;
    let mut times = Vec::new();
    for k in 0..o.saves {
        let (x, actor, people) = &targets[k % targets.len()];
        let from = (k / targets.len() * 10) % (people.len() - 10);
        let n = NewActivity {
            held_on: x.to.to_string(),
            kind: "group".into(),
            community_id: x.communities[k % x.communities.len()].0,
            minutes: 90,
            title: format!("基准测试小组 第 {} 节", k + 1),
            participants: people[from..from + 10].iter().map(|p| p.0).collect(),
            pseudonyms: Vec::new(),
            id_numbers: Vec::new(),
            anonymous: 0,
            volunteers: 1,
            volunteer_hours: Some("1.5".into()),
            evidence_sha256: None,
        };
        let t = Instant::now();
        activities::record(c, ctx, actor, now, x.organisation_id, x.id, &n).map_err(err)?;
        times.push(t.elapsed());
    }
    spread(out, "save", times)?;

    // The attendance import: one running contract, 20 participants an activity.
    let (x, actor, people) = &targets[0];
    let codes: Vec<String> = cm::table
        .filter(cm::id.eq_any(x.communities.iter().map(|c| c.0).collect::<Vec<_>>()))
        .order(cm::id)
        .select(cm::code)
        .load(c)
        .map_err(err)?;
    let days = (x.to - x.from).num_days().max(0) + 1;
    let mut csv = String::from("date,kind,community,title,minutes,participant\n");
    for r in 0..o.import_rows {
        let a = r / 20;
        let date = x.from + chrono::Duration::days((a as i64 * 7) % days);
        let p = &people[(a * 3 + r % 20) % people.len()].1;
        let _ = writeln!(
            csv,
            "{date},group,{},导入小组 {},90,{p}",
            codes[a % codes.len()],
            a + 1
        );
    }
    let t = Instant::now();
    let r =
        activities::import_csv(c, ctx, actor, now, x.organisation_id, x.id, &csv).map_err(|e| {
            match e {
                crate::error::AppError::Validation(v) => format!(
                    "import refused: {}",
                    v.iter()
                        .take(5)
                        .map(|f| format!("{} {} ({})", f.field, f.rule, f.message.en))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                other => format!("import: {other}"),
            }
        })?;
    line(out, "import_seconds", secs(t.elapsed()))?;
    line(out, "import_rows", o.import_rows)?;
    line(out, "import_activities", r.activities)?;
    line(out, "import_participations", r.participations)?;
    Ok(())
}
