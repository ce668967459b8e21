//! Demo tenders for the seed district (DOMAIN.md, "The seed district"): the district's purchase history of
//! 97 awarded service projects worth ¥14.5 million over 2021–2026, and one or more current tenders in every
//! state of the life cycle, so the demo's lists, timelines, reports and later the ledger have something real
//! to show.
//!
//! Rows are written directly rather than through the request handlers (which read the clock, audit every
//! step and send e-mail), but as the handlers would have left them: every bid is really sealed under the
//! server's seal key with a real commitment, so the public commitment check and `verify` hold; the panel's
//! scores rank each winner first; the timeline follows the life cycle; and no current tender is due for a
//! clock transition, so the scheduler leaves each where it was put. Titles, amounts, bidders and scores are
//! deterministic; only ids, times relative to `now`, nonces and ciphertexts vary between runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bids::{BidContent, StaffEntry};
use super::{Ctx, seal};
use crate::audit::{self, Actor};
use crate::db::schema::{
    bid_scores, bids, challenges, communities, enquiries, organisation_fields, organisations,
    panel_members, social_workers, streets, tender_events, tender_streets, tenders, users,
};
use crate::db::{DbConn, write_tx};
use crate::domain::standing::Status;
use crate::domain::tender::{
    self as rules, BudgetLine, Category, Criteria, Criterion, Eligibility, Instalment, Method,
    RankInput, State, Targets,
};
use crate::error::AppError;

/// The purchase history of DOMAIN.md: 97 projects…
pub const HISTORY_PROJECTS: usize = 97;
/// …worth exactly ¥14,500,000.00 together (the contract amounts are scaled to land on it).
pub const HISTORY_TOTAL_FEN: i64 = 1_450_000_000;
/// Bounds of one history contract, in yuan.
const MIN_YUAN: i64 = 60_000;
const MAX_YUAN: i64 = 380_000;
/// The history's most recent projects are awarded but not yet signed.
const UNSIGNED_RECENT: usize = 4;

/// The four fields of the history, weighted as the district buys: elderly services most.
const FIELD_CYCLE: [&str; 9] = [
    "elderly",
    "youth",
    "disability",
    "elderly",
    "relief",
    "youth",
    "elderly",
    "disability",
    "relief",
];

// ---------------------------------------------------------------------------------------------------------
// Deterministic variety.

/// SplitMix64: a well-mixed hash of a counter, so "random" choices repeat on every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `lo..=hi` chosen by `seed`.
fn roll(seed: u64, lo: i64, hi: i64) -> i64 {
    lo + (mix(seed) % (hi - lo + 1) as u64) as i64
}

/// A sub-seed, so that different choices about the same item do not move together.
fn sub(seed: u64, salt: u64) -> u64 {
    mix(seed ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Round yuan to the nearest hundred, as bids are priced.
fn round_hundred(yuan: i64) -> i64 {
    (yuan + 50) / 100 * 100
}

/// The contract amounts of the history, fen, in publication order: between ¥60,000 and ¥380,000, most
/// near ¥100,000–¥200,000 with a long tail, summing to exactly [`HISTORY_TOTAL_FEN`].
pub fn history_amounts() -> Vec<i64> {
    let n = HISTORY_PROJECTS;
    // The part above the floor follows u²(1+u) for u uniform in [0, 1): skewed towards small projects.
    let raw: Vec<i128> = (0..n)
        .map(|i| {
            let u = (mix(0x5EED_0000 + i as u64) % 1000) as i128;
            u * u * (1000 + u)
        })
        .collect();
    let raw_sum: i128 = raw.iter().sum::<i128>().max(1);
    let total_yuan = HISTORY_TOTAL_FEN / 100;
    let extra_total = (total_yuan - n as i64 * MIN_YUAN) as i128;
    let mut yuan: Vec<i64> = raw
        .iter()
        .map(|r| {
            let extra = (r * extra_total / raw_sum) as i64;
            round_hundred(MIN_YUAN + extra).clamp(MIN_YUAN, MAX_YUAN)
        })
        .collect();
    // Rounding and clamping leave a remainder of whole hundreds: spread it in ¥100 steps over the projects
    // that have room, so the total is exact.
    let mut diff = total_yuan - yuan.iter().sum::<i64>();
    let mut i = 0;
    while diff != 0 {
        let step = if diff > 0 { 100 } else { -100 };
        let v = yuan[i % n] + step;
        if (MIN_YUAN..=MAX_YUAN).contains(&v) {
            yuan[i % n] = v;
            diff -= step;
        }
        i += 1;
    }
    yuan.into_iter().map(|y| y * 100).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Times.

/// A Beijing wall-clock time as stored (naive UTC).
fn bj(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    crate::clock::shanghai()
        .from_local_datetime(&d.and_hms_opt(h, m, 0).expect("valid time"))
        .single()
        .expect("fixed offset")
        .naive_utc()
}

fn day_of(t: NaiveDateTime) -> NaiveDate {
    super::today(t.and_utc())
}

fn next_working(ctx: &Ctx, mut d: NaiveDate) -> NaiveDate {
    while !ctx.cal.is_working_day(d) {
        d += Duration::days(1);
    }
    d
}

/// When each step of a tender happens, from its publication on.
#[derive(Clone, Debug)]
struct Times {
    created: NaiveDateTime,
    published: NaiveDateTime,
    enquiry_deadline: NaiveDateTime,
    bid_deadline: NaiveDateTime,
    opening: NaiveDateTime,
    /// The panel is seated.
    evaluating: NaiveDateTime,
    /// The last evaluator submits.
    evaluated: NaiveDateTime,
    award_proposed: NaiveDateTime,
    publicity_start: NaiveDateTime,
    publicity_ends: NaiveDateTime,
    challenge_ends: NaiveDateTime,
    signed_on: NaiveDate,
    contracted: NaiveDateTime,
}

/// The usual course of a tender published on (or after) `published_on`: the method's response time to the
/// bid deadline, opening half an hour later, the evaluation that afternoon, the award proposal and the
/// result notice on the following working days, then publicity and the challenge window counted exactly as
/// `evaluation::publish_result` counts them, and the contract one to two weeks after the award.
fn schedule(ctx: &Ctx, published_on: NaiveDate, method: Method, seed: u64) -> Times {
    let p = next_working(ctx, published_on);
    let response = match method {
        Method::Open | Method::Invited => roll(sub(seed, 1), 21, 25),
        _ => roll(sub(seed, 1), 12, 16),
    };
    let bid_day = next_working(ctx, p + Duration::days(response));
    let bid_deadline = bj(bid_day, 9, 30);
    let opening = bid_deadline + Duration::minutes(30);
    let award_day = next_working(ctx, bid_day + Duration::days(1));
    let publicity_day = next_working(ctx, award_day + Duration::days(1));
    let publicity_start = bj(publicity_day, 9, 0);
    let publicity_ends = super::working_days_end(
        &ctx.cal,
        publicity_start.and_utc(),
        ctx.rules.publicity_working_days,
    );
    let challenge_ends = super::working_days_end(
        &ctx.cal,
        publicity_ends.and_utc() - Duration::hours(1),
        ctx.rules.challenge_working_days,
    );
    let signed_on = next_working(
        ctx,
        day_of(challenge_ends) + Duration::days(roll(sub(seed, 2), 3, 12)),
    );
    Times {
        created: bj(p - Duration::days(roll(sub(seed, 3), 2, 6)), 15, 0),
        published: bj(p, 9, 30),
        enquiry_deadline: bj(bid_day - Duration::days(5), 17, 0),
        bid_deadline,
        opening,
        evaluating: opening + Duration::hours(1),
        evaluated: opening + Duration::hours(4),
        award_proposed: bj(award_day, 10, 0),
        publicity_start,
        publicity_ends,
        challenge_ends,
        signed_on,
        contracted: bj(signed_on, 10, 0),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Tender terms.

fn criteria(ctx: &Ctx, seed: u64) -> Criteria {
    // Price weight 30 or 20, kept inside the configured range; the service plan takes what is left.
    let want = Decimal::from(if seed.is_multiple_of(3) { 20 } else { 30 });
    let w = want.clamp(ctx.rules.price_weight_min, ctx.rules.price_weight_max);
    let item = |key: &str, name: &str, category, points: Decimal| Criterion {
        key: key.into(),
        name: name.into(),
        category,
        max_points: points,
    };
    let fixed = Decimal::from(15 + 10 + 10 + 5);
    Criteria {
        price_weight_pct: w,
        items: vec![
            item(
                "plan",
                "服务方案",
                Category::Technical,
                Decimal::from(100) - w - fixed,
            ),
            item(
                "team",
                "团队配置与专业能力",
                Category::Technical,
                Decimal::from(15),
            ),
            item(
                "quality",
                "质量控制与绩效管理",
                Category::Technical,
                Decimal::from(10),
            ),
            item(
                "experience",
                "同类项目业绩",
                Category::Commercial,
                Decimal::from(10),
            ),
            item(
                "credit",
                "信用记录与评估等级",
                Category::Commercial,
                Decimal::from(5),
            ),
        ],
    }
}

fn instalments() -> Vec<Instalment> {
    [("签约", 30), ("中期评估", 40), ("末期验收", 30)]
        .into_iter()
        .map(|(m, p)| Instalment {
            milestone: m.into(),
            pct: Decimal::from(p),
        })
        .collect()
}

/// Targets in proportion to the budget: about one visit per ¥25, a fifth as many people, a session per
/// ¥2,500, 90 % satisfaction.
fn targets(budget_fen: i64) -> Targets {
    let yuan = budget_fen / 100;
    let visits = (yuan / 25).max(100);
    Targets {
        visits,
        people: visits / 5,
        sessions: (yuan / 2500).max(10),
        satisfaction_pct: Decimal::from(90),
    }
}

/// What a bidder offers: at least the tender's targets.
fn offer(t: &Targets, seed: u64) -> Targets {
    let visits = t.visits * roll(sub(seed, 1), 100, 115) / 100;
    Targets {
        visits,
        people: (t.people * roll(sub(seed, 2), 100, 110) / 100).min(visits),
        sessions: t.sessions + roll(sub(seed, 3), 0, 10),
        satisfaction_pct: Decimal::from(roll(sub(seed, 4), 90, 95)),
    }
}

/// Eligibility templates, strictest first; open tenders ask more.
fn eligibility_for(method: Method, seed: u64) -> Eligibility {
    match (method, seed % 3) {
        (Method::Open, _) => Eligibility {
            min_staff: Some(10),
            min_certified: Some(2),
            supervisor_required: true,
            ..Default::default()
        },
        (_, 0) => Eligibility {
            min_staff: Some(8),
            min_certified: Some(2),
            supervisor_required: true,
            ..Default::default()
        },
        _ => Eligibility {
            min_staff: Some(5),
            min_certified: Some(1),
            ..Default::default()
        },
    }
}

fn light_eligibility() -> Eligibility {
    Eligibility {
        min_staff: Some(3),
        ..Default::default()
    }
}

fn field_zh(field: &str) -> &'static str {
    crate::registry::orgs::FIELDS
        .iter()
        .find(|(k, _, _)| *k == field)
        .map(|(_, zh, _)| *zh)
        .unwrap_or("社会服务")
}

fn title_suffixes(field: &str) -> &'static [&'static str] {
    match field {
        "elderly" => &[
            "居家养老上门服务项目",
            "社区老年人助餐服务项目",
            "失能半失能老人照护服务项目",
            "社区日间照料中心运营服务项目",
            "高龄独居老人关爱服务项目",
        ],
        "youth" => &[
            "青少年成长护航社工服务项目",
            "困境青少年帮扶服务项目",
            "青少年心理健康服务项目",
            "“四点半课堂”课后托管服务项目",
        ],
        "disability" => &[
            "残疾人康复助残服务项目",
            "残疾人居家托养服务项目",
            "残疾人辅助性就业支持项目",
            "精神障碍社区康复服务项目",
        ],
        _ => &[
            "困难群众社会救助帮扶项目",
            "低保边缘家庭救助服务项目",
            "临时救助对象跟踪帮扶项目",
            "“物质+服务”社会救助试点项目",
        ],
    }
}

fn service_text(field: &str) -> &'static str {
    match field {
        "elderly" => {
            "为辖区 60 周岁以上居家老年人，特别是高龄、独居、失能半失能和经济困难老人，提供生活照料、助餐助洁、健康管理、精神慰藉和紧急援助等服务，建立老人服务档案，链接社区志愿者定期探访。"
        }
        "youth" => {
            "面向辖区青少年及其家庭，开展成长辅导、心理支持、学业帮扶、安全教育和亲子活动，对困境、留守及有不良行为的青少年进行个案跟进，联动学校、社区和家庭织密保护网络。"
        }
        "disability" => {
            "面向辖区持证残疾人及其家庭，开展康复训练指导、居家探访、辅具适配咨询、社会融入小组和就业能力培训，为重度残疾人提供照护支持并为照护者提供喘息服务。"
        }
        _ => {
            "面向辖区低保、特困、低保边缘及临时救助对象，开展需求评估、个案帮扶、资源链接、能力提升和心理疏导，推动“物质+服务”救助，协助街道做好动态监测和主动发现。"
        }
    }
}

/// Lines summing to the price: staff at most the staff cap, management at most the fee cap (integer
/// division rounds down, so a share never tops its cap), activities taking the rest.
fn budget_lines(ctx: &Ctx, price: i64, seed: u64) -> Vec<BudgetLine> {
    let cap = |d: Decimal| i64::try_from(d.floor()).unwrap_or(0);
    let staff_pct = roll(sub(seed, 1), 40, 50).min(cap(ctx.rules.staff_cost_cap_pct));
    let mgmt_pct = roll(sub(seed, 2), 5, 10).min(cap(ctx.rules.management_fee_cap_pct));
    let mut lines: Vec<(&str, i64)> = vec![
        ("staff", price * staff_pct / 100),
        ("activities", 0),
        ("supervision", price * roll(sub(seed, 3), 4, 8) / 100),
        ("publicity", price * 2 / 100),
        ("office", price * 3 / 100),
        ("management", price * mgmt_pct / 100),
        ("taxes", price * 6 / 100),
    ];
    let rest = price - lines.iter().map(|l| l.1).sum::<i64>();
    lines[1].1 = rest;
    lines
        .into_iter()
        .filter(|(_, a)| *a > 0)
        .map(|(line, amount_fen)| BudgetLine {
            line: line.into(),
            amount_fen,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// What the registry seed left: organisations with their accounts, staff, streets.

#[derive(Clone, Debug)]
struct Org {
    id: i64,
    name: String,
    user_id: i64,
    username: String,
    fields: Vec<String>,
    barred: bool,
    facts: rules::OrgFacts,
    /// Current social workers (not departed), by id, as a bid lists them.
    staff: Vec<StaffEntry>,
}

#[derive(Clone, Debug)]
struct Person {
    id: i64,
    username: String,
}

struct World {
    bureau: Person,
    evaluators: Vec<Person>,
    orgs: Vec<Org>,
    /// (id, name), by code.
    streets: Vec<(i64, String)>,
    communities: HashMap<i64, Vec<i64>>,
}

impl World {
    /// `None` when there is nothing to build tenders on (no streets or no registered organisation with an
    /// account): the tender demo needs the registry demo first.
    fn load(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<Option<World>, AppError> {
        let street_rows: Vec<(i64, String)> = streets::table
            .order(streets::code)
            .select((streets::id, streets::name))
            .load(conn)?;
        let orgs = load_orgs(conn, ctx, now)?;
        if street_rows.is_empty() || orgs.is_empty() {
            return Ok(None);
        }
        let mut comms: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, street) in communities::table
            .order(communities::code)
            .select((communities::id, communities::street_id))
            .load::<(i64, i64)>(conn)?
        {
            comms.entry(street).or_default().push(id);
        }
        let bureau_rows: Vec<(i64, String, String)> = users::table
            .filter(users::role.eq("bureau"))
            .filter(users::active.eq(true))
            .order(users::id)
            .select((users::id, users::username, users::password_hash))
            .load(conn)?;
        let Some((bid, bname, bhash)) = bureau_rows
            .iter()
            .find(|b| b.1 == "bureau")
            .or(bureau_rows.first())
            .cloned()
        else {
            return Err(AppError::internal(
                "the tender demo needs a bureau account (seed the staff first)",
            ));
        };
        let evaluators = ensure_evaluators(conn, now, &bhash)?;
        Ok(Some(World {
            bureau: Person {
                id: bid,
                username: bname,
            },
            evaluators,
            orgs,
            streets: street_rows,
            communities: comms,
        }))
    }
}

fn load_orgs(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<Vec<Org>, AppError> {
    let today = super::today(now);
    let rows: Vec<(i64, String)> = organisations::table
        .filter(organisations::registration.eq("registered"))
        .order(organisations::id)
        .select((organisations::id, organisations::name))
        .load(conn)?;
    let mut account: HashMap<i64, (i64, String)> = HashMap::new();
    for (org, uid, uname) in users::table
        .filter(users::role.eq("org"))
        .filter(users::active.eq(true))
        .order(users::id)
        .select((users::org_id, users::id, users::username))
        .load::<(Option<i64>, i64, String)>(conn)?
    {
        if let Some(o) = org {
            account.entry(o).or_insert((uid, uname));
        }
    }
    let mut fields: HashMap<i64, Vec<String>> = HashMap::new();
    for (o, f) in organisation_fields::table
        .select((
            organisation_fields::organisation_id,
            organisation_fields::field,
        ))
        .load::<(i64, String)>(conn)?
    {
        fields.entry(o).or_default().push(f);
    }
    let mut staff: HashMap<i64, Vec<StaffEntry>> = HashMap::new();
    for (o, worker_id, name, level) in social_workers::table
        .filter(social_workers::employment.ne("left"))
        .order(social_workers::id)
        .select((
            social_workers::organisation_id,
            social_workers::id,
            social_workers::name,
            social_workers::certificate_level,
        ))
        .load::<(i64, i64, String, String)>(conn)?
    {
        staff.entry(o).or_default().push(StaffEntry {
            worker_id,
            name,
            level,
        });
    }
    let mut out = Vec::new();
    for (id, name) in rows {
        // Bids are submitted by an organisation's own account; one without an account cannot bid.
        let Some((user_id, username)) = account.get(&id).cloned() else {
            continue;
        };
        let standing = crate::registry::orgs::standing_of(conn, id, today, ctx.standing)?;
        out.push(Org {
            id,
            name,
            user_id,
            username,
            fields: fields.remove(&id).unwrap_or_default(),
            barred: standing.status == Status::Barred,
            facts: super::bids::org_facts(conn, id, today)?,
            staff: staff.remove(&id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The five evaluator accounts panels are drawn from. The staff seed makes evaluator1–5; when fewer
/// evaluators exist (a database seeded otherwise), the missing `evaluatorN` accounts are made with the
/// bureau account's password hash, so they share the demo password.
fn ensure_evaluators(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    password_hash: &str,
) -> Result<Vec<Person>, AppError> {
    let load = |conn: &mut DbConn| -> QueryResult<Vec<Person>> {
        Ok(users::table
            .filter(users::role.eq("evaluator"))
            .filter(users::active.eq(true))
            .order(users::id)
            .select((users::id, users::username))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, username)| Person { id, username })
            .collect())
    };
    let mut have = load(conn)?;
    let ts = crate::db::now_micros(now);
    let mut n = 1;
    while have.len() < 5 && n < 100 {
        let username = format!("evaluator{n}");
        n += 1;
        let taken: i64 = users::table
            .filter(users::username.eq(&username))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            continue;
        }
        diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::display_name.eq(format!("评审专家 {}号", n - 1)),
                users::email.eq(Some(format!("{username}@demo.sanshe.local"))),
                users::role.eq("evaluator"),
                users::org_id.eq(None::<i64>),
                users::password_hash.eq(password_hash),
                users::active.eq(true),
                users::token_version.eq(0i64),
                users::created_at.eq(ts),
                users::updated_at.eq(ts),
            ))
            .execute(conn)?;
        have = load(conn)?;
    }
    Ok(have)
}

// ---------------------------------------------------------------------------------------------------------
// Rows.

#[derive(Insertable)]
#[diesel(table_name = tenders, treat_none_as_default_value = false)]
struct NewTender {
    code: String,
    title: String,
    description: String,
    field: String,
    communities: String,
    budget_fen: i64,
    method: String,
    term_months: i32,
    term_reason: Option<String>,
    eligibility: String,
    criteria: String,
    targets: String,
    instalments: String,
    invited: String,
    state: String,
    published_at: Option<NaiveDateTime>,
    enquiry_deadline: NaiveDateTime,
    bid_deadline: NaiveDateTime,
    opening_at: NaiveDateTime,
    evaluated_at: Option<NaiveDateTime>,
    publicity_ends: Option<NaiveDateTime>,
    challenge_ends: Option<NaiveDateTime>,
    awarded_at: Option<NaiveDateTime>,
    contract_signed_on: Option<NaiveDate>,
    end_reason: Option<String>,
    created_by: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = bids, treat_none_as_default_value = false)]
struct NewBid {
    tender_id: i64,
    organisation_id: i64,
    submitted_by: i64,
    status: String,
    submitted_at: NaiveDateTime,
    idem_key: String,
    request_hash: String,
    sealed: Vec<u8>,
    seal_nonce: Vec<u8>,
    commitment: String,
    opened_json: Option<String>,
    commit_nonce: Option<String>,
    price_fen: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = tender_events, treat_none_as_default_value = false)]
struct NewEvent {
    tender_id: i64,
    at: NaiveDateTime,
    from_state: Option<String>,
    to_state: String,
    note: Option<String>,
    actor_name: String,
}

#[derive(Insertable)]
#[diesel(table_name = panel_members, treat_none_as_default_value = false)]
struct NewMember {
    tender_id: i64,
    user_id: i64,
    added_at: NaiveDateTime,
    declaration: Option<String>,
    declaration_note: Option<String>,
    declared_at: Option<NaiveDateTime>,
    submitted_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = bid_scores)]
struct NewScore {
    bid_id: i64,
    evaluator_id: i64,
    criterion: String,
    points_centi: i64,
}

#[derive(Insertable)]
#[diesel(table_name = tender_streets)]
struct NewArea {
    tender_id: i64,
    street_id: i64,
}

/// What is sealed with a bid: the same JSON shape as `bids::Payload` (content, nonce, attachment bodies),
/// so `bids::open_all` and the commitment check read these bids like any submitted one.
#[derive(Serialize)]
struct SealedPayload<'a> {
    content: &'a str,
    nonce: &'a str,
    files: &'a [String],
}

/// A tender as drafted.
#[derive(Clone, Debug)]
struct Plan {
    field: &'static str,
    title: String,
    description: String,
    street_ids: Vec<i64>,
    community_ids: Vec<i64>,
    budget_fen: i64,
    method: Method,
    term_months: i32,
    term_reason: Option<String>,
    eligibility: Eligibility,
    criteria: Criteria,
    targets: Targets,
    invited: Vec<i64>,
}

/// Where a tender has got to, with the bids and panel that took it there.
struct Run {
    plan: Plan,
    times: Times,
    target: State,
    /// Indices into `World::orgs`, in order of submission.
    bidders: Vec<usize>,
    prices: Vec<i64>,
    /// Index into `bidders` of the bid the panel ranks first.
    winner: usize,
    panel: usize,
    seed: u64,
}

/// A multi-row INSERT. The `MultiConnection` backend does not offer batch inserts, but each concrete
/// connection does (none of these rows needs a DEFAULT), so the statement is built for the one in use: some
/// thousand timeline rows and scores then cost a few dozen statements instead of one each.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c)?,
        }
    };
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("plain values serialise")
}

/// Whether a tender heading for `target` passed through `s` (failed tenders stop after opening).
fn reached(target: State, s: State) -> bool {
    match target {
        State::Failed => matches!(
            s,
            State::Draft | State::Published | State::Closed | State::Opened
        ),
        State::Cancelled => matches!(s, State::Draft | State::Published),
        _ => s <= target,
    }
}

/// When a tender in `state` on schedule `t` last changed (its `updated_at`): its last step, or the first
/// score while evaluating. A cancellation's time is not on the schedule; it is set where it happens.
fn last_change(state: State, t: &Times) -> NaiveDateTime {
    match state {
        State::Draft | State::Cancelled => t.created,
        State::Published => t.published,
        State::Closed => t.bid_deadline,
        State::Opened | State::Failed => t.opening,
        State::Evaluating => t.evaluating + FIRST_SCORE,
        State::Evaluated => t.evaluated,
        State::AwardProposed => t.award_proposed,
        State::Publicity => t.publicity_start,
        State::Challenge => t.publicity_ends,
        State::Awarded => t.challenge_ends,
        State::Contracted => t.contracted,
    }
}

/// While a panel evaluates, its first member submits this long after being seated.
const FIRST_SCORE: Duration = Duration::minutes(50);

// ---------------------------------------------------------------------------------------------------------
// The seeder.

struct Seeder<'a> {
    ctx: &'a Ctx,
    now: DateTime<Utc>,
    w: World,
    /// Next code number per year.
    codes: BTreeMap<i32, u32>,
    events: Vec<NewEvent>,
    members: Vec<NewMember>,
    scores: Vec<NewScore>,
    areas: Vec<NewArea>,
    bids: usize,
    by_state: BTreeMap<&'static str, usize>,
    titles: HashSet<String>,
}

/// Seed the demo tenders: the purchase history and the current tenders, in one transaction, with one
/// audit event. Does nothing when any tender exists, or when the registry demo (streets, organisations
/// with accounts) is missing.
pub fn seed_demo(conn: &mut DbConn, ctx: &Ctx, now: DateTime<Utc>) -> Result<(), AppError> {
    write_tx(conn, |conn| {
        let any: i64 = tenders::table.count().get_result(conn)?;
        if any > 0 {
            return Ok(());
        }
        let Some(w) = World::load(conn, ctx, now)? else {
            tracing::info!("no registry demo to build tenders on; demo tenders skipped");
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut s = Seeder {
            ctx,
            now,
            w,
            codes: BTreeMap::new(),
            events: Vec::new(),
            members: Vec::new(),
            scores: Vec::new(),
            areas: Vec::new(),
            bids: 0,
            by_state: BTreeMap::new(),
            titles: HashSet::new(),
        };
        let total = s.history(conn)?;
        s.current(conn)?;
        s.flush(conn)?;
        audit::record(
            conn,
            &Actor::system("seed"),
            now,
            "tender.seed_demo",
            "tender",
            None,
            None,
            Some(serde_json::json!({
                "tenders": s.by_state.values().sum::<usize>(),
                "by_state": s.by_state,
                "history_projects": HISTORY_PROJECTS,
                "history_total_fen": total,
                "bids": s.bids,
            })),
        )?;
        tracing::info!(
            tenders = s.by_state.values().sum::<usize>(),
            bids = s.bids,
            history_total_fen = total,
            ms = started.elapsed().as_millis() as u64,
            "seeded the demo tenders"
        );
        Ok(())
    })
}

impl Seeder<'_> {
    fn ts(&self, d: Duration) -> NaiveDateTime {
        crate::db::now_micros(self.now + d)
    }

    fn today(&self) -> NaiveDate {
        super::today(self.now)
    }

    /// The year current tenders buy service for: from October on, the bureau procures next year's.
    fn service_year(&self) -> i32 {
        let d = self.today();
        if d.month() >= 10 {
            d.year() + 1
        } else {
            d.year()
        }
    }

    fn next_code(&mut self, at: NaiveDateTime) -> String {
        let year = day_of(at).year();
        let n = self.codes.entry(year).or_insert(0);
        *n += 1;
        format!("GDMZ-{year}-{:03}", *n)
    }

    /// Bidders for a tender: distinct, not barred, serving the field and meeting the eligibility when
    /// enough do. Tries the given eligibility, then a light one; the last resort is any organisation not
    /// barred. Returns the eligibility actually used.
    fn choose(
        &self,
        field: &str,
        e: Eligibility,
        n: usize,
        seed: u64,
    ) -> (Eligibility, Vec<usize>) {
        let ok = |o: &Org, e: &Eligibility, any_field: bool| {
            !o.barred
                && (any_field || o.fields.iter().any(|f| f == field))
                && rules::unmet(e, &o.facts).is_empty()
        };
        let attempts = [
            (e, false),
            (light_eligibility(), false),
            (Eligibility::default(), true),
        ];
        let last = attempts.len() - 1;
        for (i, (e, any_field)) in attempts.into_iter().enumerate() {
            let mut c: Vec<usize> = (0..self.w.orgs.len())
                .filter(|&k| ok(&self.w.orgs[k], &e, any_field))
                .collect();
            if c.len() >= n || i == last {
                c.sort_by_key(|&k| mix(seed ^ (self.w.orgs[k].id as u64).wrapping_mul(0x9E37)));
                c.truncate(n);
                return (e, c);
            }
        }
        unreachable!("the last attempt returns")
    }

    /// One street (by index), or the whole district.
    fn area(&self, street: Option<usize>, seed: u64) -> (String, Vec<i64>, Vec<i64>) {
        match street {
            Some(k) => {
                let (id, name) = self.w.streets[k % self.w.streets.len()].clone();
                let mut comms = Vec::new();
                if seed.is_multiple_of(3)
                    && let Some(cs) = self.w.communities.get(&id).filter(|cs| !cs.is_empty())
                {
                    let a = (mix(seed) % cs.len() as u64) as usize;
                    comms.push(cs[a]);
                    comms.push(cs[(a + 1) % cs.len()]);
                    comms.sort_unstable();
                    comms.dedup();
                }
                (name, vec![id], comms)
            }
            None => (
                String::new(),
                self.w.streets.iter().map(|s| s.0).collect(),
                vec![],
            ),
        }
    }

    /// A title not used yet: the first free project name for the field, from a seeded start; a repeated
    /// one becomes the project's second phase.
    fn title(&self, field: &str, street_name: &str, year: i32, seed: u64) -> String {
        let suffixes = title_suffixes(field);
        let start = (mix(sub(seed, 11)) % suffixes.len() as u64) as usize;
        let names: Vec<String> = (0..suffixes.len())
            .map(|k| {
                format!(
                    "{year}年关渡区{street_name}{}",
                    suffixes[(start + k) % suffixes.len()]
                )
            })
            .collect();
        names
            .iter()
            .find(|n| !self.titles.contains(*n))
            .cloned()
            .unwrap_or_else(|| format!("{}（二期）", names[0]))
    }

    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        field: &'static str,
        street: Option<usize>,
        method: Method,
        budget_fen: i64,
        year: i32,
        term_months: i32,
        seed: u64,
    ) -> Plan {
        let (street_name, street_ids, community_ids) = self.area(street, seed);
        let title = self.title(field, &street_name, year, seed);
        let targets = targets(budget_fen);
        let scope = if street_name.is_empty() {
            "服务范围覆盖关渡区 8 个街道。".to_string()
        } else {
            format!("服务范围为{street_name}辖区。")
        };
        let description = format!(
            "为落实关渡区{}工作部署，区民政局以{}方式向社会组织购买本项目服务。{scope}{}服务期 {term_months} 个月。绩效目标：服务 {} 人、{} 人次，开展活动或小组 {} 节，服务对象满意度不低于 {}%。预算上限 {} 元，按签约、中期评估、末期验收 30%/40%/30% 分期支付。",
            field_zh(field),
            method.label(true),
            service_text(field),
            targets.people,
            targets.visits,
            targets.sessions,
            targets.satisfaction_pct,
            crate::money::yuan_grouped(budget_fen),
        );
        Plan {
            field,
            title,
            description,
            street_ids,
            community_ids,
            budget_fen,
            method,
            term_months,
            term_reason: (term_months > 12).then(|| {
                "项目预算已纳入区级中期财政规划，服务对象需要稳定连续的服务关系。".to_string()
            }),
            eligibility: eligibility_for(method, seed),
            criteria: criteria(self.ctx, seed),
            targets,
            invited: vec![],
        }
    }

    fn insert_tender(
        &mut self,
        conn: &mut DbConn,
        p: &Plan,
        state: State,
        t: &Times,
        published: bool,
        end_reason: Option<String>,
    ) -> Result<i64, AppError> {
        let check = |b: Vec<rules::Broken>, what: &str| -> Result<(), AppError> {
            match b.first() {
                None => Ok(()),
                Some(x) => Err(AppError::internal(format!(
                    "demo tender {what} breaks {}: {}",
                    x.field, x.en
                ))),
            }
        };
        check(
            rules::check_criteria(&p.criteria, &self.ctx.rules),
            "criteria",
        )?;
        check(rules::check_instalments(&instalments()), "instalments")?;
        check(rules::check_targets("targets", &p.targets), "targets")?;
        check(
            rules::check_eligibility_template(&p.eligibility),
            "eligibility",
        )?;
        check(
            rules::check_term(p.term_months, p.term_reason.as_deref()),
            "term",
        )?;
        let at = |s: State| reached(state, s).then_some(());
        self.titles.insert(p.title.clone());
        let row = NewTender {
            code: self.next_code(if published { t.published } else { t.created }),
            title: p.title.clone(),
            description: p.description.clone(),
            field: p.field.into(),
            communities: json(&p.community_ids),
            budget_fen: p.budget_fen,
            method: p.method.as_str().into(),
            term_months: p.term_months,
            term_reason: p.term_reason.clone(),
            eligibility: json(&p.eligibility),
            criteria: json(&p.criteria),
            targets: json(&p.targets),
            instalments: json(&instalments()),
            invited: json(&p.invited),
            state: state.as_str().into(),
            published_at: published.then_some(t.published),
            enquiry_deadline: t.enquiry_deadline,
            bid_deadline: t.bid_deadline,
            opening_at: t.opening,
            evaluated_at: at(State::Evaluated).map(|_| t.evaluated),
            publicity_ends: at(State::Publicity).map(|_| t.publicity_ends),
            challenge_ends: at(State::Publicity).map(|_| t.challenge_ends),
            awarded_at: at(State::Awarded).map(|_| t.challenge_ends),
            contract_signed_on: at(State::Contracted).map(|_| t.signed_on),
            end_reason,
            created_by: self.w.bureau.id,
            created_at: t.created,
            updated_at: last_change(state, t),
        };
        let id: i64 = diesel::insert_into(tenders::table)
            .values(&row)
            .returning(tenders::id)
            .get_result(conn)?;
        for s in &p.street_ids {
            self.areas.push(NewArea {
                tender_id: id,
                street_id: *s,
            });
        }
        *self.by_state.entry(state.as_str()).or_default() += 1;
        Ok(id)
    }

    /// Seal one bid as `bids::submit` does; when `open`, also store what opening reveals.
    #[allow(clippy::too_many_arguments)]
    fn bid(
        &mut self,
        conn: &mut DbConn,
        tender_id: i64,
        p: &Plan,
        org: usize,
        price_fen: i64,
        at: NaiveDateTime,
        open: bool,
        seed: u64,
    ) -> Result<i64, AppError> {
        let o = &self.w.orgs[org];
        let staff: Vec<StaffEntry> = o.staff.iter().take(4).cloned().collect();
        let targets = offer(&p.targets, seed);
        let names: Vec<&str> = staff.iter().map(|s| s.name.as_str()).collect();
        let plan = format!(
            "{}服务方案：设项目负责人 1 名，拟派 {} 名社工{}组成项目团队，在服务区域设立服务站点。前期开展需求调研并为服务对象建档；中期以个案、小组和社区活动相结合推进服务，每月督导一次；末期开展成效评估并形成服务报告。承诺服务 {} 人、{} 人次，开展活动 {} 节，满意度不低于 {}%。",
            o.name,
            staff.len(),
            if names.is_empty() {
                String::new()
            } else {
                format!("（{}）", names.join("、"))
            },
            targets.people,
            targets.visits,
            targets.sessions,
            targets.satisfaction_pct,
        );
        let budget = budget_lines(self.ctx, price_fen, seed);
        if let Some(b) = rules::check_budget(&budget, price_fen, &self.ctx.rules).first() {
            return Err(AppError::internal(format!(
                "demo bid budget breaks {}",
                b.rule
            )));
        }
        let content = BidContent {
            tender_id,
            organisation_id: o.id,
            price_fen,
            plan,
            budget,
            staff,
            targets,
            attachments: vec![],
        };
        let canonical = json(&content);
        let nonce = self.ctx.sealer.commitment_nonce();
        let commitment =
            seal::commitment(canonical.as_bytes(), &nonce).expect("nonce is hex by construction");
        let payload = serde_json::to_vec(&SealedPayload {
            content: &canonical,
            nonce: &nonce,
            files: &[],
        })
        .expect("plain values serialise");
        let (sealed, seal_nonce) = self.ctx.sealer.seal(&seal::aad(tender_id, o.id), &payload);
        let row = NewBid {
            tender_id,
            organisation_id: o.id,
            submitted_by: o.user_id,
            status: "active".into(),
            submitted_at: at,
            idem_key: format!("seed-{tender_id}-{}", o.id),
            // Any hex will do: seeded bids are never retried.
            request_hash: hex::encode(Sha256::digest(canonical.as_bytes())),
            sealed,
            seal_nonce,
            commitment,
            opened_json: open.then(|| canonical.clone()),
            commit_nonce: open.then(|| nonce.clone()),
            price_fen: open.then_some(price_fen),
        };
        let id: i64 = diesel::insert_into(bids::table)
            .values(&row)
            .returning(bids::id)
            .get_result(conn)?;
        self.bids += 1;
        Ok(id)
    }

    fn event(
        &mut self,
        tender_id: i64,
        at: NaiveDateTime,
        from: Option<State>,
        to: State,
        actor: &str,
        note: Option<String>,
    ) {
        self.events.push(NewEvent {
            tender_id,
            at,
            from_state: from.map(|s| s.as_str().to_string()),
            to_state: to.as_str().into(),
            note,
            actor_name: actor.into(),
        });
    }

    /// Timeline rows for a path of (state, time, actor, note), each from the state before it.
    fn timeline(
        &mut self,
        tender_id: i64,
        path: Vec<(State, NaiveDateTime, String, Option<String>)>,
    ) {
        let mut from = None;
        for (s, at, actor, note) in path {
            self.event(tender_id, at, from, s, &actor, note);
            from = Some(s);
        }
    }

    /// Scores of one evaluator: the designated winner high on every criterion, the others clearly lower,
    /// so the winner ranks first even against a cheaper bid (see `check_winner_first`).
    fn score_rows(
        criteria: &Criteria,
        bids: &[(i64, bool)],
        evaluator: i64,
        seed: u64,
    ) -> Vec<NewScore> {
        let mut out = Vec::new();
        for (j, (bid, winner)) in bids.iter().enumerate() {
            for (k, c) in criteria.items.iter().enumerate() {
                let s = sub(seed, (j * 16 + k) as u64);
                let pct = if *winner {
                    roll(s, 86, 96)
                } else {
                    roll(s, 58, 78)
                };
                let max_centi =
                    i64::try_from((c.max_points * Decimal::from(100)).trunc()).unwrap_or(0);
                out.push(NewScore {
                    bid_id: *bid,
                    evaluator_id: evaluator,
                    criterion: c.key.clone(),
                    points_centi: max_centi * pct / 100,
                });
            }
        }
        out
    }

    /// Rank as `evaluation::ranking` does (mean criterion scores over the scorers, computed price score)
    /// and make sure the designated winner is first.
    fn check_winner_first(
        criteria: &Criteria,
        priced: &[(i64, i64)],
        scores: &[NewScore],
        scorers: usize,
        winner: i64,
    ) -> Result<(), AppError> {
        let n = Decimal::from(scorers.max(1) as i64);
        let cat: HashMap<&str, Category> = criteria
            .items
            .iter()
            .map(|c| (c.key.as_str(), c.category))
            .collect();
        let inputs: Vec<RankInput> = priced
            .iter()
            .map(|(bid, price)| {
                let (mut tech, mut comm) = (0i64, 0i64);
                for s in scores.iter().filter(|s| s.bid_id == *bid) {
                    match cat.get(s.criterion.as_str()) {
                        Some(Category::Technical) => tech += s.points_centi,
                        Some(Category::Commercial) => comm += s.points_centi,
                        None => {}
                    }
                }
                RankInput {
                    bid_id: *bid,
                    price_fen: *price,
                    seq: *bid,
                    technical: Decimal::new(tech, 2) / n,
                    commercial: Decimal::new(comm, 2) / n,
                }
            })
            .collect();
        match rules::rank(&inputs, criteria.price_weight_pct).first() {
            Some(r) if r.bid_id == winner => Ok(()),
            _ => Err(AppError::internal(
                "a demo tender's scores do not rank its winner first",
            )),
        }
    }

    /// Submission times spread over the bidding period, in office hours, before the deadline.
    fn bid_times(t: &Times, n: usize, seed: u64) -> Vec<NaiveDateTime> {
        let first = day_of(t.published) + Duration::days(1);
        let last = day_of(t.bid_deadline) - Duration::days(1);
        let span = (last - first).num_days().max(0);
        let mut out: Vec<NaiveDateTime> = (0..n)
            .map(|j| {
                let s = sub(seed, 100 + j as u64);
                let d = first + Duration::days(roll(s, 0, span));
                bj(d, 9, 0) + Duration::minutes(roll(sub(s, 1), 0, 8 * 60))
            })
            .collect();
        out.sort();
        out
    }

    /// Create a tender that went through the life cycle up to `r.target` (opened or later, or failed at
    /// opening): its bids opened, its panel and scores as far as they got, its award and timeline.
    fn run(&mut self, conn: &mut DbConn, r: &Run) -> Result<i64, AppError> {
        let t = &r.times;
        let target = r.target;
        let end_reason = (target == State::Failed).then(|| {
            let min = self.ctx.rules.min_bids(r.plan.method);
            let valid = r.bidders.len();
            format!(
                "有效投标 {valid} 家，少于{}要求的 {min} 家 / {valid} valid bids, fewer than the {min} required",
                r.plan.method.label(true)
            )
        });
        let id = self.insert_tender(conn, &r.plan, target, t, true, end_reason.clone())?;
        let times = Self::bid_times(t, r.bidders.len(), r.seed);
        let mut bid_ids = Vec::new();
        for (j, org) in r.bidders.iter().enumerate() {
            let b = self.bid(
                conn,
                id,
                &r.plan,
                *org,
                r.prices[j],
                times[j],
                true,
                sub(r.seed, 200 + j as u64),
            )?;
            bid_ids.push(b);
        }
        let bureau = self.w.bureau.username.clone();
        let sched = "scheduler".to_string();
        let mut path = vec![
            (State::Draft, t.created, bureau.clone(), None),
            (State::Published, t.published, bureau.clone(), None),
            (State::Closed, t.bid_deadline, sched.clone(), None),
            (
                State::Opened,
                t.opening,
                sched.clone(),
                Some(format!(
                    "开标：{0} 份有效投标 / {0} valid bids opened",
                    bid_ids.len()
                )),
            ),
        ];
        if target == State::Failed {
            path.push((State::Failed, t.opening, sched, end_reason));
            self.timeline(id, path);
            return Ok(id);
        }
        if reached(target, State::Evaluating) {
            let last_submitter = self.seat_panel(id, r, &bid_ids)?;
            path.push((
                State::Evaluating,
                t.evaluating,
                bureau.clone(),
                Some(format!("评审委员会 {0} 人 / panel of {0}", r.panel)),
            ));
            if reached(target, State::Evaluated) {
                path.push((
                    State::Evaluated,
                    t.evaluated,
                    last_submitter,
                    Some(
                        "全部评审专家已提交评分，评审报告锁定 / all scores in, report locked"
                            .into(),
                    ),
                ));
            }
        }
        if reached(target, State::AwardProposed) {
            diesel::update(tenders::table.find(id))
                .set(tenders::award_bid_id.eq(bid_ids[r.winner]))
                .execute(conn)?;
            let name = self.w.orgs[r.bidders[r.winner]].name.clone();
            path.push((
                State::AwardProposed,
                t.award_proposed,
                bureau.clone(),
                Some(format!("拟中标：{name}（第 1 名）/ proposed: rank 1")),
            ));
        }
        let later = [
            (State::Publicity, t.publicity_start, bureau.clone()),
            (State::Challenge, t.publicity_ends, sched.clone()),
            (State::Awarded, t.challenge_ends, sched),
            (State::Contracted, t.contracted, bureau),
        ];
        for (s, at, actor) in later {
            if reached(target, s) {
                path.push((s, at, actor, None));
            }
        }
        self.timeline(id, path);
        Ok(id)
    }

    /// Seat the panel of a tender being evaluated or evaluated, with its declarations and scores. While
    /// evaluating, two members have declared and the first has also scored; the rest has not started. Once
    /// evaluated, everyone has declared no conflict and scored, and the ranking is checked. Returns the
    /// username of the member who submitted last.
    fn seat_panel(&mut self, tender_id: i64, r: &Run, bid_ids: &[i64]) -> Result<String, AppError> {
        let t = &r.times;
        let seated: Vec<Person> = (0..r.panel)
            .map(|k| self.w.evaluators[(r.seed as usize + k) % self.w.evaluators.len()].clone())
            .collect();
        let all_in = reached(r.target, State::Evaluated);
        let winner_bid = bid_ids[r.winner];
        let flagged: Vec<(i64, bool)> = bid_ids.iter().map(|b| (*b, *b == winner_bid)).collect();
        let mut scores = Vec::new();
        let mut last_submitter = seated[0].username.clone();
        for (k, e) in seated.iter().enumerate() {
            let declared =
                (all_in || k < 2).then(|| t.evaluating + Duration::minutes(5 * (k as i64 + 1)));
            // Submissions 25 minutes apart, the last one closing the evaluation.
            let submitted = if all_in {
                Some(t.evaluated - Duration::minutes(25 * (r.panel - 1 - k) as i64))
            } else {
                (k == 0).then(|| t.evaluating + FIRST_SCORE)
            };
            if submitted.is_some() {
                let seed = sub(r.seed, 300 + k as u64);
                scores.extend(Self::score_rows(&r.plan.criteria, &flagged, e.id, seed));
                last_submitter = e.username.clone();
            }
            self.members.push(NewMember {
                tender_id,
                user_id: e.id,
                added_at: t.evaluating,
                declaration: declared.map(|_| "none".to_string()),
                declaration_note: None,
                declared_at: declared,
                submitted_at: submitted,
            });
        }
        if all_in {
            let priced: Vec<(i64, i64)> = bid_ids
                .iter()
                .copied()
                .zip(r.prices.iter().copied())
                .collect();
            Self::check_winner_first(&r.plan.criteria, &priced, &scores, r.panel, winner_bid)?;
        }
        self.scores.extend(scores);
        Ok(last_submitter)
    }

    fn touch(&mut self, conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
        diesel::update(tenders::table.find(id))
            .set(tenders::updated_at.eq(at))
            .execute(conn)
            .map(|_| ())
    }

    /// Prices around the contract amount: the winner's is the amount; the others within −8 %…+12 % of it
    /// (never above the ceiling), so the winner is neither always the cheapest nor beaten on price by more
    /// than its quality lead.
    fn prices(n: usize, winner: usize, amount: i64, budget: i64, seed: u64) -> Vec<i64> {
        (0..n)
            .map(|j| {
                if j == winner {
                    amount
                } else {
                    let yuan = amount / 100 * roll(sub(seed, 400 + j as u64), 92, 112) / 100;
                    (round_hundred(yuan) * 100).min(budget)
                }
            })
            .collect()
    }

    /// The ceiling above a contract amount: 8–18 % more, rounded up to ¥10,000.
    fn ceiling(amount: i64, seed: u64) -> i64 {
        let yuan = amount / 100 * roll(sub(seed, 5), 108, 118) / 100;
        (yuan + 9_999) / 10_000 * 10_000 * 100
    }

    // -----------------------------------------------------------------------------------------------------
    // The purchase history.

    /// 97 awarded projects, published from March 2021 up to a little over two months ago; all signed but
    /// the most recent few. Returns the total of the winning prices.
    fn history(&mut self, conn: &mut DbConn) -> Result<i64, AppError> {
        let amounts = history_amounts();
        let today = self.today();
        let end = today - Duration::days(75);
        let mut start = NaiveDate::from_ymd_opt(2021, 3, 1).expect("valid date");
        if end < start + Duration::days(365) {
            start = end - Duration::days(5 * 365);
        }
        let span = (end - start).num_days();
        let n = amounts.len();
        let mut total = 0;
        for (i, amount) in amounts.iter().copied().enumerate() {
            let seed = mix(0x4157_0000 + i as u64);
            let field = FIELD_CYCLE[i % FIELD_CYCLE.len()];
            let method = if i % 6 == 5 {
                Method::Open
            } else {
                Method::Consultation
            };
            let day = start + Duration::days(span * i as i64 / (n as i64 - 1).max(1));
            let times = schedule(self.ctx, day, method, seed);
            let budget = Self::ceiling(amount, seed);
            // Every tenth project covers the whole district; the others one street, in turn.
            let street = (i % 10 != 9).then_some((i * 3 + i / 8) % self.w.streets.len());
            let term = if i % 11 == 4 { 24 } else { 12 };
            let mut plan = self.plan(
                field,
                street,
                method,
                budget,
                day_of(times.published).year(),
                term,
                seed,
            );
            let min = self.ctx.rules.min_bids(method) as i64;
            let want = (roll(sub(seed, 6), min.max(2), 4)) as usize;
            let (elig, bidders) = self.choose(field, plan.eligibility.clone(), want, seed);
            if (bidders.len() as i64) < min {
                return Err(AppError::internal(
                    "too few demo organisations to bid on the history",
                ));
            }
            plan.eligibility = elig;
            let winner = (mix(sub(seed, 7)) % bidders.len() as u64) as usize;
            let panel = if method == Method::Open || amount > 25_000_000 {
                5
            } else {
                3
            };
            let panel = panel
                .max(rules::min_panel(method, budget))
                .min(self.w.evaluators.len());
            if !rules::panel_ok(method, budget, panel) {
                return Err(AppError::internal("too few evaluators for a demo panel"));
            }
            let unsigned =
                i + UNSIGNED_RECENT >= n || times.contracted > crate::db::now_micros(self.now);
            let target = if unsigned {
                State::Awarded
            } else {
                State::Contracted
            };
            let run = Run {
                prices: Self::prices(bidders.len(), winner, amount, budget, seed),
                plan,
                times,
                target,
                bidders,
                winner,
                panel,
                seed,
            };
            self.run(conn, &run)?;
            total += amount;
        }
        Ok(total)
    }

    // -----------------------------------------------------------------------------------------------------
    // Current tenders, one or more in every state.

    fn current(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        self.draft(conn)?;
        self.published(conn)?;
        self.closed(conn)?;
        let runs = [
            (State::Opened, "youth", Method::Consultation, 3),
            (State::Evaluating, "disability", Method::Consultation, 3),
            (State::Evaluated, "relief", Method::Consultation, 3),
            (State::AwardProposed, "elderly", Method::Open, 3),
            (State::Publicity, "youth", Method::Consultation, 2),
            (State::Challenge, "disability", Method::Consultation, 3),
            (State::Failed, "elderly", Method::Consultation, 1),
        ];
        for (i, (target, field, method, n)) in runs.into_iter().enumerate() {
            self.current_run(conn, target, field, method, n, 0x00C0_0000 + i as u64)?;
        }
        self.cancelled(conn)?;
        Ok(())
    }

    /// A budget for a current tender (¥100,000–¥300,000) and a winning price a little under it.
    fn current_money(seed: u64) -> (i64, i64) {
        let budget = roll(sub(seed, 20), 10, 30) * 10_000 * 100;
        let price = round_hundred(budget / 100 * roll(sub(seed, 21), 88, 97) / 100) * 100;
        (budget, price)
    }

    /// Whether a tender on schedule `t` is, at `now`, exactly in `target` and not yet due to move on.
    fn fits(&self, target: State, t: &Times) -> bool {
        let now = crate::db::now_micros(self.now);
        let h = Duration::hours(1);
        match target {
            State::Opened | State::Failed => t.opening + h <= now,
            State::Evaluating => t.evaluating + h <= now,
            State::Evaluated => t.evaluated + h <= now,
            State::AwardProposed => t.award_proposed + h <= now,
            State::Publicity => t.publicity_start + h <= now && now + h < t.publicity_ends,
            State::Challenge => t.publicity_ends + h * 3 <= now && now + h * 12 < t.challenge_ends,
            _ => false,
        }
    }

    fn current_run(
        &mut self,
        conn: &mut DbConn,
        target: State,
        field: &'static str,
        method: Method,
        n: usize,
        seed: u64,
    ) -> Result<(), AppError> {
        // The latest publication date whose schedule puts the tender in `target` now.
        let today = self.today();
        let Some(times) = (3..120)
            .map(|k| schedule(self.ctx, today - Duration::days(k), method, seed))
            .find(|t| self.fits(target, t))
        else {
            return Err(AppError::internal(format!(
                "no schedule fits a demo tender in {}",
                target.as_str()
            )));
        };
        let (budget, amount) = Self::current_money(seed);
        let street = Some((seed % 8) as usize);
        let plan = self.plan(field, street, method, budget, self.service_year(), 12, seed);
        let (elig, bidders) = self.choose(field, plan.eligibility.clone(), n, seed);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let winner = 0;
        let run = Run {
            prices: Self::prices(bidders.len(), winner, amount, budget, seed),
            plan,
            times: times.clone(),
            target,
            bidders,
            winner,
            panel: rules::min_panel(method, budget).min(self.w.evaluators.len()),
            seed,
        };
        let id = self.run(conn, &run)?;
        if target == State::Challenge && run.bidders.len() > 1 {
            self.challenge(conn, id, &run)?;
        }
        Ok(())
    }

    /// An open challenge from the runner-up, filed two hours into the challenge window.
    fn challenge(&mut self, conn: &mut DbConn, tender_id: i64, r: &Run) -> Result<(), AppError> {
        let o = self.w.orgs[r.bidders[(r.winner + 1) % r.bidders.len()]].clone();
        let filed = r.times.publicity_ends + Duration::hours(2);
        let (due, _) = self
            .ctx
            .cal
            .add_working_days(day_of(filed), self.ctx.rules.answer_working_days);
        let id: i64 = diesel::insert_into(challenges::table)
            .values((
                challenges::tender_id.eq(tender_id),
                challenges::organisation_id.eq(o.id),
                challenges::filed_by.eq(o.user_id),
                challenges::grounds.eq("我方认为中标人拟派项目负责人同时在本区其他购买服务项目任职，“团队配置与专业能力”一项评分依据不足；另中标人承诺的服务人次明显高于其现有人员的服务能力。请求复核评分并说明理由。"),
                challenges::filed_at.eq(filed),
                challenges::answer_due.eq(due),
                challenges::status.eq("open"),
            ))
            .returning(challenges::id)
            .get_result(conn)?;
        self.event(
            tender_id,
            filed,
            Some(State::Challenge),
            State::Challenge,
            &o.username,
            Some(format!(
                "收到质疑 #{id}，答复期限 {due} / challenge #{id} filed, answer due {due}"
            )),
        );
        Ok(())
    }

    /// Times for a tender still before its deadline: all relative to today.
    fn ahead(&self, created: i64, published: i64, enquiry: i64, deadline: i64) -> Times {
        let d = |n: i64| self.today() + Duration::days(n);
        let bid_deadline = bj(d(deadline), 9, 30);
        let opening = bid_deadline + Duration::minutes(30);
        let far = bj(d(deadline + 30), 9, 0);
        Times {
            created: bj(d(created), 15, 0),
            published: bj(d(published), 9, 30),
            enquiry_deadline: bj(d(enquiry), 17, 0),
            bid_deadline,
            opening,
            evaluating: far,
            evaluated: far,
            award_proposed: far,
            publicity_start: far,
            publicity_ends: far,
            challenge_ends: far,
            signed_on: d(deadline + 30),
            contracted: far,
        }
    }

    fn draft(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00D0_0001;
        let t = self.ahead(-1, 0, 15, 20);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "elderly",
            Some(5),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let id = self.insert_tender(conn, &plan, State::Draft, &t, false, None)?;
        let bureau = self.w.bureau.username.clone();
        self.timeline(id, vec![(State::Draft, t.created, bureau, None)]);
        Ok(())
    }

    /// A tender open for bids, with sealed bids from `orgs` submitted `k` days ago.
    fn open_for_bids(
        &mut self,
        conn: &mut DbConn,
        plan: &Plan,
        t: &Times,
        orgs: &[usize],
        seed: u64,
    ) -> Result<i64, AppError> {
        let id = self.insert_tender(conn, plan, State::Published, t, true, None)?;
        for (j, org) in orgs.iter().enumerate() {
            let at = bj(self.today() - Duration::days(1), 10 + j as u32, 15);
            let price =
                round_hundred(plan.budget_fen / 100 * roll(sub(seed, 30 + j as u64), 88, 99) / 100)
                    * 100;
            self.bid(
                conn,
                id,
                plan,
                *org,
                price,
                at,
                false,
                sub(seed, 40 + j as u64),
            )?;
        }
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau, None),
            ],
        );
        Ok(id)
    }

    /// Three tenders open for bids: a consultation with an answered enquiry, an open tender with an
    /// unanswered one, and an invited tender with three invited organisations.
    fn published(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let year = self.service_year();
        // Consultation, 18 days' response: an enquiry asked and answered well before the deadline (so the
        // answer does not move it).
        let seed = 0x00B0_0001;
        let t = self.ahead(-8, -6, 5, 12);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "youth",
            Some(2),
            Method::Consultation,
            budget,
            year,
            12,
            seed,
        );
        let (elig, orgs) = self.choose("youth", plan.eligibility.clone(), 2, seed);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.open_for_bids(conn, &plan, &t, &orgs[..1], seed)?;
        let asker = self.w.orgs[orgs[1 % orgs.len()]].clone();
        self.enquiry(
            conn,
            id,
            &asker,
            bj(self.today() - Duration::days(4), 10, 20),
            "招标文件要求的“服务人次”是否包含线上咨询服务？团队中的兼职社工能否计入拟派人员？",
            Some((
                bj(self.today() - Duration::days(3), 15, 0),
                "线上咨询服务可计入服务人次，但须有服务记录可查，且不超过总人次的 20%。拟派人员须为本组织在职社工，兼职社工可以计入，请在投标文件中注明工作时间安排。",
            )),
        )?;
        // Open tender, 23 days' response, with a question still waiting for its answer.
        let seed = 0x00B0_0002;
        let t = self.ahead(-7, -5, 8, 18);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan("disability", None, Method::Open, budget, year, 24, seed);
        let (elig, orgs) = self.choose("disability", plan.eligibility.clone(), 3, seed);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.open_for_bids(conn, &plan, &t, &orgs[..2.min(orgs.len())], seed)?;
        let asker = self.w.orgs[orgs[orgs.len() - 1]].clone();
        self.enquiry(
            conn,
            id,
            &asker,
            bj(self.today() - Duration::days(1), 16, 40),
            "项目覆盖全区 8 个街道，是否要求在每个街道设立固定服务站点？康复训练场地能否使用社区提供的公共用房？",
            None,
        )?;
        // Invited tender to three organisations, 24 days' response; one has already bid.
        let seed = 0x00B0_0003;
        let t = self.ahead(-4, -2, 10, 22);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan("relief", Some(6), Method::Invited, budget, year, 12, seed);
        let (elig, orgs) = self.choose("relief", plan.eligibility.clone(), 3, seed);
        let mut invited: Vec<i64> = orgs.iter().map(|k| self.w.orgs[*k].id).collect();
        invited.sort_unstable();
        let plan = Plan {
            eligibility: elig,
            invited,
            ..plan
        };
        self.open_for_bids(conn, &plan, &t, &orgs[..1], seed)?;
        Ok(())
    }

    fn enquiry(
        &mut self,
        conn: &mut DbConn,
        tender_id: i64,
        asker: &Org,
        asked_at: NaiveDateTime,
        question: &str,
        answer: Option<(NaiveDateTime, &str)>,
    ) -> QueryResult<()> {
        diesel::insert_into(enquiries::table)
            .values((
                enquiries::tender_id.eq(tender_id),
                enquiries::organisation_id.eq(asker.id),
                enquiries::asked_by.eq(asker.user_id),
                enquiries::question.eq(question),
                enquiries::asked_at.eq(asked_at),
                enquiries::answer.eq(answer.map(|a| a.1)),
                enquiries::answered_at.eq(answer.map(|a| a.0)),
                enquiries::answered_by.eq(answer.map(|_| self.w.bureau.id)),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Bidding closed yesterday; the opening is set for tomorrow morning, so the three bids stay sealed.
    fn closed(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00B0_0004;
        let mut t = self.ahead(-18, -16, -6, -1);
        t.bid_deadline = bj(self.today() - Duration::days(1), 17, 0);
        t.opening = bj(self.today() + Duration::days(1), 9, 30);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "elderly",
            Some(3),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let (elig, orgs) = self.choose("elderly", plan.eligibility.clone(), 3, seed);
        let plan = Plan {
            eligibility: elig,
            ..plan
        };
        let id = self.insert_tender(conn, &plan, State::Closed, &t, true, None)?;
        let times = Self::bid_times(&t, orgs.len(), seed);
        for (j, org) in orgs.iter().enumerate() {
            let price =
                round_hundred(budget / 100 * roll(sub(seed, 30 + j as u64), 88, 99) / 100) * 100;
            self.bid(
                conn,
                id,
                &plan,
                *org,
                price,
                times[j],
                false,
                sub(seed, 40 + j as u64),
            )?;
        }
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau, None),
                (State::Closed, t.bid_deadline, "scheduler".into(), None),
            ],
        );
        Ok(())
    }

    fn cancelled(&mut self, conn: &mut DbConn) -> Result<(), AppError> {
        let seed = 0x00B0_0005;
        let t = self.ahead(-12, -10, 2, 8);
        let (budget, _) = Self::current_money(seed);
        let plan = self.plan(
            "relief",
            Some(0),
            Method::Consultation,
            budget,
            self.service_year(),
            12,
            seed,
        );
        let reason =
            "因区级财政预算调整，本项目暂停采购，待资金落实后重新发布采购公告。".to_string();
        let id = self.insert_tender(
            conn,
            &plan,
            State::Cancelled,
            &t,
            true,
            Some(reason.clone()),
        )?;
        let cancelled_at = self.ts(-Duration::days(2));
        let bureau = self.w.bureau.username.clone();
        self.timeline(
            id,
            vec![
                (State::Draft, t.created, bureau.clone(), None),
                (State::Published, t.published, bureau.clone(), None),
                (State::Cancelled, cancelled_at, bureau, Some(reason)),
            ],
        );
        self.touch(conn, id, cancelled_at)?;
        Ok(())
    }

    /// Write the rows gathered in memory, in chunks small enough for any SQLite's bound-parameter limit.
    fn flush(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        for c in self.areas.chunks(200) {
            insert_batch!(conn, tender_streets::table, c);
        }
        for c in self.events.chunks(120) {
            insert_batch!(conn, tender_events::table, c);
        }
        for c in self.members.chunks(100) {
            insert_batch!(conn, panel_members::table, c);
        }
        for c in self.scores.chunks(200) {
            insert_batch!(conn, bid_scores::table, c);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_amounts_total_exactly_and_stay_in_range() {
        let a = history_amounts();
        assert_eq!(a.len(), 97);
        // ¥14,500,000.00 exactly: 1,450,000,000 fen.
        assert_eq!(a.iter().sum::<i64>(), HISTORY_TOTAL_FEN);
        assert!(
            a.iter()
                .all(|x| (6_000_000..=38_000_000).contains(x) && x % 10_000 == 0)
        );
        assert_eq!(a, history_amounts(), "deterministic");
    }

    #[test]
    fn bid_budgets_respect_the_caps() {
        let ctx = Ctx {
            rules: rules::TenderRules::default(),
            cal: std::sync::Arc::new(crate::domain::calendar::BusinessCalendar::builtin()),
            sealer: seal::Sealer::new("a-test-secret-of-some-length-000000"),
            standing: Default::default(),
            public_url: String::new(),
        };
        for (i, price) in [6_000_000i64, 14_873_300, 38_000_000, 12_345_678]
            .into_iter()
            .enumerate()
        {
            let lines = budget_lines(&ctx, price, i as u64);
            assert!(rules::check_budget(&lines, price, &ctx.rules).is_empty());
        }
        for seed in 0..6 {
            assert!(rules::check_criteria(&criteria(&ctx, seed), &ctx.rules).is_empty());
        }
    }
}
