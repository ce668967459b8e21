//! Synthetic people served, for the demo (`seed::people`) and the benchmark (`sanshe bench-people`,
//! scripts/bench-people): people, each organisation's beneficiaries, activities under given contracts and
//! their participations, deterministic for a seed, written with multi-row INSERTs of literal values (our
//! own numbers and fixed words, no input) inside one write transaction.
//!
//! Every invariant the schema states holds (migration 2026-12-07-000001_people_served):
//! - a participation copies its activity's contract, organisation, community, street, field and month
//!   (yyyymm of `held_on`, `domain::people::month_key`) and its beneficiary's person and group;
//! - `activities.registered` is the number of its participations; an activity's street is its community's,
//!   its field the contract's tender field;
//! - activities are held within the contract's term (and before it ended), never after today, in a
//!   community of the contract's area (the tender's communities, else those of its streets);
//! - an identified person is the keyed hash (`domain::identity::id_hash`) of a valid synthetic 18-character
//!   identity number (GB 11643-1999 check character), which is dropped at once; about
//!   `pseudonymous_percent` % declined and are known by one organisation's pseudonym only (`id_hash` NULL);
//! - pseudonyms are `B` + six digits, unique per organisation; no names are generated.
//!
//! Each person has one home contract, chosen in proportion to the contracts' active days, in whose field
//! their group and age lie. A share (`duplicates_permille`) of identified people is also registered by a
//! second organisation of the same field and attends one of its activities in the same quarter as one of
//! their own: the "served by several providers" case of issue 12.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::identity::{id_check_char, id_hash};
use crate::domain::people::{month_key, quarter};
use crate::error::AppError;

/// A contract activities are generated for.
#[derive(Clone, Debug)]
pub struct Contract {
    pub id: i64,
    pub organisation_id: i64,
    /// The tender's field.
    pub field: String,
    /// First and last day an activity may be held (the term, cut at its end and today).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The contract's area: (community, its street).
    pub communities: Vec<(i64, i64)>,
}

/// How much to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    /// Distinct people.
    pub people: u64,
    /// Registered participations (人次 of registered people), about; at least one per person.
    pub participations: u64,
    /// Identified people, per thousand, also served by a second organisation in the same field and quarter.
    pub duplicates_permille: u64,
    /// People, per hundred, who declined to give an identity number (pseudonym only).
    pub pseudonymous_percent: u64,
    /// Rows per INSERT statement.
    pub rows_per_insert: usize,
}

impl Options {
    /// The demo district's: about 50,000 people (DOMAIN.md, The seed district: "serving over 50,000
    /// people"), 4.2 visits each, a few dozen served by two providers, one in twenty pseudonymous.
    pub fn demo() -> Options {
        Options {
            seed: 530_111,
            people: 50_000,
            participations: 210_000,
            duplicates_permille: 1,
            pseudonymous_percent: 5,
            rows_per_insert: 1000,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub people: u64,
    pub pseudonymous: u64,
    pub beneficiaries: u64,
    pub activities: u64,
    pub participations: u64,
    pub anonymous: u64,
    /// Identified people registered by two organisations of one field, served by both in one quarter.
    pub duplicates: u64,
}

/// The signed contracts (every state but draft) whose term has begun by `today`, with their field and area,
/// activities allowed from the term's start to the day before the contract ended (if it did), its term's
/// end, or today, whichever is first.
pub fn signed_contracts(conn: &mut DbConn, today: NaiveDate) -> Result<Vec<Contract>, AppError> {
    use crate::db::schema::{
        communities as cm, contracts as ct, tender_streets as ts, tenders as t,
    };
    type Row = (
        i64,
        i64,
        i64,
        NaiveDate,
        NaiveDate,
        Option<NaiveDate>,
        String,
        String,
    );
    let rows: Vec<Row> = ct::table
        .inner_join(t::table.on(t::id.eq(ct::tender_id)))
        .filter(ct::state.ne("draft"))
        .filter(ct::term_start.le(today))
        .order(ct::id)
        .select((
            ct::id,
            ct::tender_id,
            ct::organisation_id,
            ct::term_start,
            ct::term_end,
            ct::ended_on,
            t::field,
            t::communities,
        ))
        .load(conn)?;
    let all: Vec<(i64, i64)> = cm::table
        .order(cm::id)
        .select((cm::id, cm::street_id))
        .load(conn)?;
    let street_of: HashMap<i64, i64> = all.iter().copied().collect();
    let streets: Vec<(i64, i64)> = ts::table
        .select((ts::tender_id, ts::street_id))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, tender, org, start, end, ended, field, comms) in rows {
        let listed: Vec<i64> = serde_json::from_str(&comms).unwrap_or_default();
        let area: Vec<(i64, i64)> = if !listed.is_empty() {
            listed
                .iter()
                .filter_map(|c| street_of.get(c).map(|s| (*c, *s)))
                .collect()
        } else {
            let mine: HashSet<i64> = streets
                .iter()
                .filter(|(t, _)| *t == tender)
                .map(|(_, s)| *s)
                .collect();
            all.iter()
                .filter(|(_, s)| mine.contains(s))
                .copied()
                .collect()
        };
        let mut to = end.min(today);
        if let Some(e) = ended {
            to = to.min(e - Duration::days(1));
        }
        if area.is_empty() || to < start {
            continue;
        }
        out.push(Contract {
            id,
            organisation_id: org,
            field,
            from: start,
            to,
            communities: area,
        });
    }
    Ok(out)
}

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ x < n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// lo ≤ x ≤ hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// One of `items` by integer weight.
    fn pick<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|i| i.1).sum();
        let mut r = self.below(total);
        for (t, w) in items {
            if r < *w {
                return *t;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }
}

/// The groups served in a field, by weight (codes of `domain::people::DEFAULT_GROUPS`).
fn groups(field: &str) -> &'static [(&'static str, u64)] {
    match field {
        "elderly" => &[
            ("elderly", 85),
            ("disabled", 5),
            ("assistance", 5),
            ("other", 5),
        ],
        "youth" => &[
            ("youth", 85),
            ("disabled", 5),
            ("assistance", 5),
            ("other", 5),
        ],
        "disability" => &[("disabled", 80), ("elderly", 10), ("other", 10)],
        "relief" => &[("assistance", 75), ("elderly", 15), ("other", 10)],
        _ => &[("other", 100)],
    }
}

/// Ages of a group: the elderly are 60 or older (domain::people::ELDERLY_AGE), youth 7 to 22.
fn ages(group: &str) -> (i64, i64) {
    match group {
        "elderly" => (i64::from(crate::domain::people::ELDERLY_AGE), 95),
        "youth" => (7, 22),
        _ => (18, 80),
    }
}

/// Activity types of a field by weight (codes of `domain::people::DEFAULT_KINDS`).
fn kinds(field: &str) -> &'static [(&'static str, u64)] {
    match field {
        "elderly" => &[
            ("case", 20),
            ("visit", 30),
            ("group", 25),
            ("training", 10),
            ("event", 15),
        ],
        "youth" => &[
            ("case", 15),
            ("visit", 5),
            ("group", 40),
            ("training", 20),
            ("event", 20),
        ],
        "disability" => &[
            ("case", 25),
            ("visit", 30),
            ("group", 20),
            ("training", 15),
            ("event", 10),
        ],
        _ => &[
            ("case", 35),
            ("visit", 35),
            ("group", 10),
            ("training", 10),
            ("event", 10),
        ],
    }
}

/// Registered participants, minutes, and (events) anonymous heads of an activity type.
fn shape(kind: &str, rng: &mut Rng) -> (i64, i64, i64) {
    match kind {
        "case" => (rng.range(1, 2), 60, 0),
        "visit" => (rng.range(1, 3), 45, 0),
        "group" => (rng.range(6, 12), 90, 0),
        "training" => (rng.range(10, 25), 120, 0),
        _ => (rng.range(15, 40), 150, rng.range(30, 200)),
    }
}

/// Titles, by field and activity type: what a social worker writes, never a person.
fn title(field: &str, kind: &str, n: u64) -> &'static str {
    let t: &[&str] = match (field, kind) {
        ("elderly", "case") => &["独居长者个案跟进", "失能长者照护个案"],
        ("elderly", "visit") => &["高龄长者入户探访", "空巢老人关爱探访"],
        ("elderly", "group") => &["长者防跌倒小组", "认知症预防小组", "长者手机课堂小组"],
        ("elderly", "training") => &["家庭照护者培训", "助老志愿者培训"],
        ("elderly", _) => &["重阳敬老文艺汇演", "长者健康义诊", "社区长者生日会"],
        ("youth", "case") => &["困境儿童个案辅导", "青少年学业适应个案"],
        ("youth", "visit") => &["留守儿童家访", "困境青少年家访"],
        ("youth", "group") => &["青少年情绪管理小组", "四点半课堂", "亲子沟通小组"],
        ("youth", "training") => &["青少年防溺水安全培训", "朋辈辅导员培训"],
        ("youth", _) => &["暑期社区嘉年华", "禁毒宣传进社区", "六一亲子游园会"],
        ("disability", "case") => &["残疾人康复个案", "残疾人就业支持个案"],
        ("disability", "visit") => &["重度残疾人入户探访", "辅具适配回访"],
        ("disability", "group") => &["康复互助小组", "手工技能小组"],
        ("disability", "training") => &["残疾人就业技能培训", "康复护理培训"],
        ("disability", _) => &["全国助残日活动", "无障碍环境体验日"],
        (_, "case") => &["低保家庭个案帮扶", "特困人员个案管理"],
        (_, "visit") => &["困难家庭走访", "临时救助回访"],
        (_, "group") => &["困难家庭互助小组", "家庭理财能力小组"],
        (_, "training") => &["就业技能培训", "救助政策宣讲培训"],
        _ => &["社会救助政策宣传日", "爱心物资发放"],
    };
    t[(n % t.len() as u64) as usize]
}

/// Kunming's districts (GB/T 2260), Guandu (530111) first: where the synthetic numbers were issued.
const REGIONS: &[(&str, u64)] = &[
    ("530111", 70),
    ("530102", 8),
    ("530103", 8),
    ("530112", 6),
    ("530113", 3),
    ("530114", 3),
    ("530181", 2),
];

struct Person {
    /// The keyed hash of the number (identified), or none (pseudonymous).
    hash: Option<String>,
    group: &'static str,
    gender: &'static str,
    birth_year: Option<i32>,
    /// The home community.
    community: i64,
}

struct Beneficiary {
    person: usize,
    org: i64,
    pseudonym: u64,
    community: i64,
    /// Earliest activity, for the registration time.
    first: NaiveDate,
}

struct Activity {
    contract: usize,
    held_on: NaiveDate,
    kind: &'static str,
    community: i64,
    street: i64,
    minutes: i64,
    anonymous: i64,
    volunteers: i64,
    title: &'static str,
    evidence: Option<u64>,
    /// Beneficiary indexes.
    people: Vec<u32>,
}

/// A valid synthetic identity number for a person of `age` at `today`, unique among `used`: (number,
/// gender, birth year). The number is returned only to be hashed.
fn id_number(rng: &mut Rng, today: NaiveDate, age: i64, used: &mut HashSet<String>) -> String {
    loop {
        let region = rng.pick(REGIONS);
        let year = today.year() - age as i32;
        let born = NaiveDate::from_yo_opt(year, 1).expect("a year")
            + Duration::days(rng.below(365) as i64);
        let born = born.min(today);
        let seq = rng.below(1000);
        let first17 = format!("{region}{}{seq:03}", born.format("%Y%m%d"));
        let check = id_check_char(&first17).expect("17 digits");
        let n = format!("{first17}{check}");
        if used.insert(n.clone()) {
            return n;
        }
    }
}

/// Split `total` over `weights` in proportion, largest remainders first; the sum is exactly `total`.
fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum::<u128>().max(1);
    let exact: Vec<(u64, u128)> = weights
        .iter()
        .map(|w| {
            let p = u128::from(total) * u128::from(*w);
            ((p / sum) as u64, p % sum)
        })
        .collect();
    let mut out: Vec<u64> = exact.iter().map(|e| e.0).collect();
    let mut left = total - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

type FieldQuarter<'a> = (&'a str, (i32, u32));

/// The plan: everything to write, before any id is known.
struct Plan {
    people: Vec<Person>,
    beneficiaries: Vec<Beneficiary>,
    activities: Vec<Activity>,
    duplicates: u64,
}

fn plan(secret: &str, contracts: &[Contract], o: &Options, today: NaiveDate) -> Plan {
    let mut rng = Rng(o.seed);
    let weights: Vec<u64> = contracts
        .iter()
        .map(|c| (c.to - c.from).num_days() as u64 + 1)
        .collect();
    let quota = apportion(o.people, &weights);
    let mut used = HashSet::new();
    let mut people = Vec::with_capacity(o.people as usize);
    // Beneficiaries of each contract's organisation, registered for that contract.
    let mut served: Vec<Vec<u32>> = vec![Vec::new(); contracts.len()];
    let mut beneficiaries = Vec::with_capacity(o.people as usize + 64);
    let mut next_pseudonym: HashMap<i64, u64> = HashMap::new();
    // (person, org) → beneficiary
    let mut registered: HashMap<(usize, i64), u32> = HashMap::new();
    fn register(
        registered: &mut HashMap<(usize, i64), u32>,
        beneficiaries: &mut Vec<Beneficiary>,
        next: &mut HashMap<i64, u64>,
        p: usize,
        org: i64,
        community: i64,
    ) -> u32 {
        *registered.entry((p, org)).or_insert_with(|| {
            let n = next.entry(org).or_insert(0);
            *n += 1;
            beneficiaries.push(Beneficiary {
                person: p,
                org,
                pseudonym: *n,
                community,
                first: NaiveDate::MAX,
            });
            (beneficiaries.len() - 1) as u32
        })
    }
    for (ci, c) in contracts.iter().enumerate() {
        for _ in 0..quota[ci] {
            let group = rng.pick(groups(&c.field));
            let (lo, hi) = ages(group);
            let age = rng.range(lo, hi);
            let community = c.communities[rng.below(c.communities.len() as u64) as usize].0;
            let pseudonymous = rng.below(100) < o.pseudonymous_percent;
            let person = if pseudonymous {
                Person {
                    hash: None,
                    group,
                    gender: ["female", "male", "unstated"][rng.below(3) as usize],
                    birth_year: (rng.below(4) != 0).then(|| today.year() - age as i32),
                    community,
                }
            } else {
                let n = id_number(&mut rng, today, age, &mut used);
                Person {
                    hash: Some(id_hash(secret, &n)),
                    group,
                    gender: crate::domain::identity::gender(&n).expect("a valid number"),
                    birth_year: crate::domain::identity::birth_year(&n),
                    community,
                }
            };
            people.push(person);
            let p = people.len() - 1;
            let b = register(
                &mut registered,
                &mut beneficiaries,
                &mut next_pseudonym,
                p,
                c.organisation_id,
                community,
            );
            served[ci].push(b);
        }
    }
    drop(used);

    // Activities, contract by contract: every registered person at least once, then at random.
    let mut activities: Vec<Activity> = Vec::new();
    let mut evidence = 0u64;
    for (ci, c) in contracts.iter().enumerate() {
        let mine = &mut served[ci];
        if mine.is_empty() {
            continue;
        }
        // Shuffled, so the first-time visitors spread over the term.
        for i in (1..mine.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            mine.swap(i, j);
        }
        let target = (quota[ci] * o.participations / o.people.max(1)).max(mine.len() as u64);
        let days = (c.to - c.from).num_days() as u64 + 1;
        let mut done = 0u64;
        let mut cursor = 0usize;
        while done < target {
            let kind = rng.pick(kinds(&c.field));
            let (size, minutes, anonymous) = shape(kind, &mut rng);
            let size = (size as u64).min(target - done).min(mine.len() as u64) as usize;
            let mut chosen: Vec<u32> = Vec::with_capacity(size);
            while chosen.len() < size {
                let b = if cursor < mine.len() {
                    cursor += 1;
                    mine[cursor - 1]
                } else {
                    mine[rng.below(mine.len() as u64) as usize]
                };
                if !chosen.contains(&b) {
                    chosen.push(b);
                }
            }
            let (community, street) = c.communities[rng.below(c.communities.len() as u64) as usize];
            let volunteers = if kind == "event" {
                rng.range(5, 15)
            } else {
                rng.range(0, 2)
            };
            evidence += 1;
            activities.push(Activity {
                contract: ci,
                held_on: c.from + Duration::days(rng.below(days) as i64),
                kind,
                community,
                street,
                minutes,
                anonymous,
                volunteers,
                title: title(&c.field, kind, rng.next()),
                // Most sign-in sheets are scanned.
                evidence: (rng.below(10) < 7).then_some(evidence),
                people: chosen,
            });
            done += size as u64;
        }
    }

    // Served by two providers: an identified person also attends an activity of another organisation's
    // contract in the same field and quarter, registered there as that organisation's beneficiary.
    // (field, (year, quarter)) → activities.
    let mut by_quarter: HashMap<FieldQuarter, Vec<u32>> = HashMap::new();
    for (ai, a) in activities.iter().enumerate() {
        by_quarter
            .entry((contracts[a.contract].field.as_str(), quarter(a.held_on)))
            .or_default()
            .push(ai as u32);
    }
    let identified: u64 = people.iter().filter(|p| p.hash.is_some()).count() as u64;
    let wanted = identified * o.duplicates_permille / 1000;
    // Where each home beneficiary attends (first activity only is enough to find a quarter).
    let mut first_activity: HashMap<u32, u32> = HashMap::new();
    for (ai, a) in activities.iter().enumerate() {
        for b in &a.people {
            first_activity.entry(*b).or_insert(ai as u32);
        }
    }
    let mut duplicates = 0u64;
    let mut twice: HashSet<usize> = HashSet::new();
    let mut tries = 0u64;
    while duplicates < wanted && tries < wanted * 20 + 100 && !beneficiaries.is_empty() {
        tries += 1;
        let home = rng.below(beneficiaries.len() as u64) as u32;
        let (p, org) = (
            beneficiaries[home as usize].person,
            beneficiaries[home as usize].org,
        );
        if people[p].hash.is_none() || twice.contains(&p) {
            continue;
        }
        let Some(&ai) = first_activity.get(&home) else {
            continue;
        };
        let a = &activities[ai as usize];
        let key = (contracts[a.contract].field.as_str(), quarter(a.held_on));
        let others: Vec<u32> = by_quarter[&key]
            .iter()
            .copied()
            .filter(|x| contracts[activities[*x as usize].contract].organisation_id != org)
            .collect();
        if others.is_empty() {
            continue;
        }
        let other = others[rng.below(others.len() as u64) as usize] as usize;
        let oc = &contracts[activities[other].contract];
        let community = if oc.communities.iter().any(|c| c.0 == people[p].community) {
            people[p].community
        } else {
            oc.communities[0].0
        };
        let b = register(
            &mut registered,
            &mut beneficiaries,
            &mut next_pseudonym,
            p,
            oc.organisation_id,
            community,
        );
        twice.insert(p);
        activities[other].people.push(b);
        duplicates += 1;
    }

    for a in &activities {
        for b in &a.people {
            let f = &mut beneficiaries[*b as usize].first;
            *f = (*f).min(a.held_on);
        }
    }
    Plan {
        people,
        beneficiaries,
        activities,
        duplicates,
    }
}

/// 09:00 (registration) or 18:00 (an activity's record) in Beijing on `d`, as the stored UTC time, but
/// never after `now`.
fn stamp(d: NaiveDate, beijing_hour: u32, now: NaiveDateTime) -> String {
    let t = d.and_hms_opt(beijing_hour, 0, 0).expect("a valid time") - Duration::hours(8);
    t.min(now).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Generate and write people served for `contracts`, inside one write transaction. `created_by` records
/// an organisation's rows as its first `org` user, or `fallback_user` where it has none. `now` is the
/// clock; activities are held on or before its Beijing date.
pub fn generate(
    conn: &mut DbConn,
    secret: &str,
    contracts: &[Contract],
    o: &Options,
    now: chrono::DateTime<chrono::Utc>,
    fallback_user: i64,
) -> Result<Summary, AppError> {
    let today = crate::clock::beijing_date(now);
    let now_naive = now.naive_utc();
    let contracts: Vec<Contract> = contracts
        .iter()
        .filter(|c| !c.communities.is_empty())
        .map(|c| Contract {
            to: c.to.min(today),
            ..c.clone()
        })
        .filter(|c| c.from <= c.to)
        .collect();
    if contracts.is_empty() || o.people == 0 {
        return Ok(Summary::default());
    }
    let t = std::time::Instant::now();
    let plan = plan(secret, &contracts, o, today);
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "people served planned");
    let t = std::time::Instant::now();
    let out = crate::db::write_tx(conn, |conn| {
        write(conn, &contracts, &plan, o, now_naive, fallback_user)
    });
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "people served written");
    out
}

#[derive(QueryableByName)]
struct Max {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn next_id(conn: &mut DbConn, table: &str) -> Result<i64, AppError> {
    // `table` is one of ours, never input.
    let m: Max = diesel::sql_query(format!("SELECT COALESCE(MAX(id), 0) AS n FROM {table}"))
        .get_result(conn)?;
    Ok(m.n + 1)
}

/// Run `rows` as multi-row INSERTs of `per` rows each, a few statements per round trip.
fn insert_rows(
    conn: &mut DbConn,
    head: &str,
    rows: impl Iterator<Item = String>,
    per: usize,
) -> Result<(), AppError> {
    let mut sql = String::with_capacity(1 << 20);
    let mut n = 0usize;

    for row in rows {
        if n == 0 {
            sql.push_str(head);
            sql.push_str(" VALUES ");
        } else {
            sql.push(',');
        }
        sql.push_str(&row);
        n += 1;
        if n == per.max(1) {
            sql.push_str(";\n");
            n = 0;
            if sql.len() > 1 << 20 {
                conn.batch_execute(&sql)?;
                sql.clear();
            }
        }
    }
    if n > 0 {
        sql.push_str(";\n");
    }
    if !sql.is_empty() {
        conn.batch_execute(&sql)?;
    }
    Ok(())
}

fn write(
    conn: &mut DbConn,
    contracts: &[Contract],
    plan: &Plan,
    o: &Options,
    now: NaiveDateTime,
    fallback_user: i64,
) -> Result<Summary, AppError> {
    use crate::db::schema::users;
    let org_users: Vec<(Option<i64>, i64)> = users::table
        .filter(users::role.eq("org"))
        .filter(users::org_id.is_not_null())
        .order(users::id.desc())
        .select((users::org_id, users::id))
        .load(conn)?;
    // The lowest id wins (rows come highest first).
    let by_org: HashMap<i64, i64> = org_users
        .into_iter()
        .filter_map(|(o, u)| o.map(|o| (o, u)))
        .collect();
    let user_of = |org: i64| by_org.get(&org).copied().unwrap_or(fallback_user);
    // Pseudonyms continue after those an organisation already has.
    use crate::db::schema::beneficiaries as bn;
    let existing: Vec<(i64, i64)> = bn::table
        .group_by(bn::organisation_id)
        .select((bn::organisation_id, diesel::dsl::count_star()))
        .load(conn)?;
    let offset: HashMap<i64, i64> = existing.into_iter().collect();

    let person0 = next_id(conn, "people")?;
    let ben0 = next_id(conn, "beneficiaries")?;
    let act0 = next_id(conn, "activities")?;
    let per = o.rows_per_insert;

    insert_rows(
        conn,
        "INSERT INTO people (id, id_hash)",
        plan.people.iter().enumerate().map(|(i, p)| match &p.hash {
            Some(h) => format!("({},'{h}')", person0 + i as i64),
            None => format!("({},NULL)", person0 + i as i64),
        }),
        per,
    )?;
    insert_rows(
        conn,
        "INSERT INTO beneficiaries (id, organisation_id, person_id, pseudonym, identified, grp, gender, birth_year, community_id, name, created_by, created_at)",
        plan.beneficiaries.iter().enumerate().map(|(i, b)| {
            let p = &plan.people[b.person];
            let first = if b.first == NaiveDate::MAX {
                now.date()
            } else {
                b.first
            };
            format!(
                "({},{},{},'B{:06}',{},'{}','{}',{},{},NULL,{},'{}')",
                ben0 + i as i64,
                b.org,
                person0 + b.person as i64,
                b.pseudonym as i64 + offset.get(&b.org).copied().unwrap_or(0),
                if p.hash.is_some() { "TRUE" } else { "FALSE" },
                p.group,
                p.gender,
                p.birth_year.map_or("NULL".to_string(), |y| y.to_string()),
                b.community,
                user_of(b.org),
                stamp(first, 9, now),
            )
        }),
        per,
    )?;
    insert_rows(
        conn,
        "INSERT INTO activities (id, contract_id, organisation_id, held_on, kind, community_id, street_id, field, minutes, title, registered, anonymous, volunteers, volunteer_minutes, evidence_sha256, created_by, created_at)",
        plan.activities.iter().enumerate().map(|(i, a)| {
            let c = &contracts[a.contract];
            let mut s = String::with_capacity(200);
            let _ = write!(
                s,
                "({},{},{},'{}','{}',{},{},'{}',{},'{}',{},{},{},{},",
                act0 + i as i64,
                c.id,
                c.organisation_id,
                a.held_on.format("%Y-%m-%d"),
                a.kind,
                a.community,
                a.street,
                c.field,
                a.minutes,
                a.title,
                a.people.len(),
                a.anonymous,
                a.volunteers,
                a.volunteers * a.minutes,
            );
            match a.evidence {
                Some(e) => {
                    let _ = write!(s, "'{}'", evidence_hash(o.seed, e));
                }
                None => s.push_str("NULL"),
            }
            let _ = write!(
                s,
                ",{},'{}')",
                user_of(c.organisation_id),
                stamp(a.held_on, 18, now)
            );
            s
        }),
        per,
    )?;
    insert_rows(
        conn,
        "INSERT INTO participations (activity_id, beneficiary_id, person_id, contract_id, organisation_id, community_id, street_id, field, grp, month)",
        plan.activities.iter().enumerate().flat_map(|(i, a)| {
            let c = &contracts[a.contract];
            let month = month_key(a.held_on);
            a.people.iter().map(move |b| {
                let ben = &plan.beneficiaries[*b as usize];
                let p = &plan.people[ben.person];
                format!(
                    "({},{},{},{},{},{},{},'{}','{}',{})",
                    act0 + i as i64,
                    ben0 + i64::from(*b),
                    person0 + ben.person as i64,
                    c.id,
                    c.organisation_id,
                    a.community,
                    a.street,
                    c.field,
                    p.group,
                    month
                )
            })
        }),
        per,
    )?;
    // The running tallies, as the services keep them (people::reach).
    let mut tally = super::reach::Tally::default();
    for a in &plan.activities {
        let c = &contracts[a.contract];
        let people: Vec<(i64, &str)> = a
            .people
            .iter()
            .map(|b| {
                let ben = &plan.beneficiaries[*b as usize];
                (person0 + ben.person as i64, plan.people[ben.person].group)
            })
            .collect();
        tally.activity(
            &super::reach::Activity {
                organisation_id: c.organisation_id,
                field: &c.field,
                street_id: a.street,
                month: month_key(a.held_on),
                anonymous: a.anonymous,
                volunteers: a.volunteers,
                volunteer_minutes: a.volunteers * a.minutes,
            },
            &people,
        );
    }
    super::reach::apply(conn, tally)?;
    if let DbConn::Pg(_) = conn {
        // Explicit ids leave the sequences behind; the services' next inserts continue after ours.
        conn.batch_execute(
            "SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT MAX(id) FROM people));
             SELECT setval(pg_get_serial_sequence('beneficiaries', 'id'), (SELECT MAX(id) FROM beneficiaries));
             SELECT setval(pg_get_serial_sequence('activities', 'id'), (SELECT MAX(id) FROM activities));",
        )?;
    }
    Ok(Summary {
        people: plan.people.len() as u64,
        pseudonymous: plan.people.iter().filter(|p| p.hash.is_none()).count() as u64,
        beneficiaries: plan.beneficiaries.len() as u64,
        activities: plan.activities.len() as u64,
        participations: plan.activities.iter().map(|a| a.people.len() as u64).sum(),
        anonymous: plan.activities.iter().map(|a| a.anonymous as u64).sum(),
        duplicates: plan.duplicates,
    })
}

/// A made-up SHA-256 of a sign-in sheet (64 hex characters).
fn evidence_hash(seed: u64, n: u64) -> String {
    let mut r = Rng(seed ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D));
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        r.next(),
        r.next(),
        r.next(),
        r.next()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(id: i64, org: i64, field: &str, streets: &[(i64, i64)]) -> Contract {
        Contract {
            id,
            organisation_id: org,
            field: field.into(),
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            communities: streets.to_vec(),
        }
    }

    fn small() -> Options {
        Options {
            seed: 7,
            people: 2_000,
            participations: 9_000,
            duplicates_permille: 20,
            pseudonymous_percent: 5,
            rows_per_insert: 100,
        }
    }

    #[test]
    fn apportion_sums_exactly() {
        assert_eq!(apportion(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0, 5]), vec![0, 7]);
        assert_eq!(apportion(1000, &[3, 7, 11]).iter().sum::<u64>(), 1000);
    }

    #[test]
    fn synthetic_numbers_are_valid_gb11643_and_plan_is_deterministic() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut used = HashSet::new();
        let mut rng = Rng(1);
        for age in [7, 30, 60, 95] {
            let n = id_number(&mut rng, today, age, &mut used);
            assert_eq!(crate::domain::identity::check_id_number(&n), Ok(()), "{n}");
        }
        let cs = [
            contract(1, 10, "elderly", &[(1, 1), (2, 1)]),
            contract(2, 11, "elderly", &[(2, 1), (3, 2)]),
            contract(3, 12, "youth", &[(4, 2)]),
        ];
        let a = plan("s", &cs, &small(), today);
        let b = plan("s", &cs, &small(), today);
        assert_eq!(a.people.len(), 2_000);
        assert_eq!(
            a.people.iter().map(|p| p.hash.clone()).collect::<Vec<_>>(),
            b.people.iter().map(|p| p.hash.clone()).collect::<Vec<_>>()
        );
        let visits: usize = a.activities.iter().map(|x| x.people.len()).sum();
        assert!((9_000..9_200).contains(&visits), "{visits}");
        // Served by two elderly providers; the youth contract has no partner.
        assert!(a.duplicates > 0);
        // Every person attends, within the term and the contract's area, nobody twice at one activity.
        let mut seen = HashSet::new();
        for x in &a.activities {
            let c = &cs[x.contract];
            assert!(c.from <= x.held_on && x.held_on <= c.to);
            assert!(c.communities.contains(&(x.community, x.street)));
            let mut here = HashSet::new();
            for p in &x.people {
                assert!(here.insert(*p));
                seen.insert(a.beneficiaries[*p as usize].person);
            }
        }
        assert_eq!(seen.len(), 2_000);
        let pseudonymous = a.people.iter().filter(|p| p.hash.is_none()).count();
        assert!((50..=150).contains(&pseudonymous), "{pseudonymous}");
    }
}
