//! Service activities under a contract: recorded one at a time (a phone form, the API) or imported from an
//! attendance CSV, all or nothing. Refused: a contract that is not the organisation's (404) or not live
//! (409), a date outside its term or after today, a community outside its area, a participant who is not
//! the organisation's. Participants may be named by an identity number, which registers the person when
//! the organisation has not yet (group by age, gender and birth year from the number, the activity's
//! community).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::beneficiaries::{self, NewBeneficiary, checked_id_number};
use super::{Achieved, Ctx};
use crate::audit::{self, Actor};
use crate::contracts::{ContractRow, Reader};
use crate::db::schema::{
    activities as ac, beneficiaries as be, communities as cm, participations as pa, streets as st,
    tender_streets as ts, tenders,
};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::people::{self as rules, month_key};
use crate::domain::vocab::term_label;
use crate::error::{AppError, Checks, FieldError};

/// At most this many registered participants at one activity.
pub const MAX_PARTICIPANTS: usize = 2000;
/// At most this many rows in one attendance file.
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// One activity as recorded (JSON body or a form).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    /// YYYY-MM-DD, within the contract term and not after today.
    pub held_on: String,
    /// A configured activity type (`case`, `group`, `event`, `visit`, `training`).
    pub kind: String,
    /// A community in the contract's area.
    pub community_id: i64,
    /// Duration in minutes (1–1440).
    pub minutes: i32,
    pub title: String,
    /// The organisation's beneficiaries who took part (ids).
    #[serde(default)]
    pub participants: Vec<i64>,
    /// The organisation's pseudonyms of people who took part (another way to name them).
    #[serde(default)]
    pub pseudonyms: Vec<String>,
    /// Identity numbers of people who took part: the organisation's beneficiary with that number, or a new
    /// one registered from it. Never stored.
    #[serde(default)]
    pub id_numbers: Vec<String>,
    /// Anonymous head count of a large event: 人次 only.
    #[serde(default)]
    pub anonymous: i32,
    #[serde(default)]
    pub volunteers: i32,
    /// Volunteer hours, at most one decimal.
    pub volunteer_hours: Option<String>,
    /// SHA-256 of the sign-in sheet file.
    pub evidence_sha256: Option<String>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = ac)]
pub struct ActivityRow {
    pub id: i64,
    pub contract_id: i64,
    pub organisation_id: i64,
    pub held_on: NaiveDate,
    pub kind: String,
    pub community_id: i64,
    pub street_id: i64,
    pub field: String,
    pub minutes: i32,
    pub title: String,
    pub registered: i32,
    pub anonymous: i32,
    pub volunteers: i32,
    pub volunteer_minutes: i32,
    pub evidence_sha256: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

/// An activity as shown. `participants` (pseudonyms) only to the organisation that serves them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    pub id: i64,
    pub contract_id: i64,
    #[schema(value_type = String)]
    pub held_on: NaiveDate,
    pub kind: String,
    pub kind_label: String,
    pub community_id: i64,
    pub community: String,
    pub street: String,
    pub minutes: i32,
    pub title: String,
    /// Registered participants (人次 and 人数 both).
    pub registered: i32,
    /// Anonymous head count (人次 only).
    pub anonymous: i32,
    /// 人次 of this activity: registered plus anonymous.
    pub visits: i32,
    pub volunteers: i32,
    #[schema(value_type = String)]
    pub volunteer_hours: Decimal,
    pub evidence_sha256: Option<String>,
    pub participants: Option<Vec<String>>,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

/// What a save returns: the activity and the contract's delivery with it, so the counts move at once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub activity: ActivityView,
    pub delivered: Achieved,
}

/// Filters of a contract's activity list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityFilter {
    pub kind: Option<String>,
    /// From this date (YYYY-MM-DD).
    pub from: Option<String>,
    /// To this date (YYYY-MM-DD).
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A checked activity ready to store, its participants resolved.
struct Prepared {
    held_on: NaiveDate,
    kind: String,
    community_id: i64,
    street_id: i64,
    minutes: i32,
    title: String,
    anonymous: i32,
    volunteers: i32,
    volunteer_minutes: i32,
    evidence: Option<String>,
    /// (beneficiary, person, group)
    participants: Vec<(i64, i64, String)>,
}

/// The communities of a contract's area with their streets: the tender's communities when it names
/// some, otherwise every community of its streets.
pub fn area(conn: &mut DbConn, tender: i64) -> Result<HashMap<i64, i64>, AppError> {
    let listed: String = tenders::table
        .find(tender)
        .select(tenders::communities)
        .first(conn)?;
    let listed: Vec<i64> = serde_json::from_str(&listed).unwrap_or_default();
    let rows: Vec<(i64, i64)> = if listed.is_empty() {
        let streets: Vec<i64> = ts::table
            .filter(ts::tender_id.eq(tender))
            .select(ts::street_id)
            .load(conn)?;
        cm::table
            .filter(cm::street_id.eq_any(streets))
            .select((cm::id, cm::street_id))
            .load(conn)?
    } else {
        cm::table
            .filter(cm::id.eq_any(listed))
            .select((cm::id, cm::street_id))
            .load(conn)?
    };
    Ok(rows.into_iter().collect())
}

/// The organisation's own contract, open for recording: 404 for another's, 409 `contract_state` unless
/// signed and neither closed nor terminated.
fn own_live(conn: &mut DbConn, org: i64, contract: i64) -> Result<ContractRow, AppError> {
    let row = crate::contracts::spending::readable(conn, Reader::Org(org), contract)?;
    if !row.state().is_live() {
        return Err(AppError::conflict(
            "contract_state",
            format!(
                "合同当前为“{}”，不能登记服务活动（须已签订、未结项或终止）。",
                row.state().label(true)
            ),
            format!(
                "The contract is {}: activities are recorded on a signed contract that is not closed or terminated.",
                row.state().label(false)
            ),
        ));
    }
    Ok(row)
}

/// The tender field of a contract.
fn field_of(conn: &mut DbConn, row: &ContractRow) -> Result<String, AppError> {
    Ok(tenders::table
        .find(row.tender_id)
        .select(tenders::field)
        .first(conn)?)
}

/// The fields of an activity apart from its participants, checked into `c` (`prefix` names them).
#[allow(
    clippy::too_many_arguments,
    reason = "the activity's columns, checked one by one"
)]
fn check_head(
    c: &mut Checks,
    ctx: &Ctx,
    prefix: &str,
    row: &ContractRow,
    area: &HashMap<i64, i64>,
    today: NaiveDate,
    n: &NewActivity,
) -> Option<Prepared> {
    let f = |k: &str| format!("{prefix}{k}");
    let before = c.errors().len();
    let held_on = c.required_date(&f("held_on"), &n.held_on);
    if let Some(d) = held_on
        && let Some((rule, zh, en)) = rules::date_refusal(d, (row.term_start, row.term_end), today)
    {
        c.add(&f("held_on"), rule, zh, en);
    }
    let kind = n.kind.trim().to_string();
    if !ctx.settings.kinds.iter().any(|t| t.code == kind) {
        let codes: Vec<&str> = ctx.settings.kinds.iter().map(|t| t.code.as_str()).collect();
        c.add(
            &f("kind"),
            "one_of",
            format!("活动类型须为：{}。", codes.join("、")),
            format!("The activity type is one of: {}.", codes.join(", ")),
        );
    }
    let street_id = area.get(&n.community_id).copied();
    if street_id.is_none() {
        c.add(
            &f("community_id"),
            "in_area",
            "该社区不在合同的服务区域内。",
            "The community is outside the contract's service area.",
        );
    }
    if !(1..=1440).contains(&n.minutes) {
        c.add(
            &f("minutes"),
            "range",
            "时长为 1–1440 分钟。",
            "The duration is 1–1440 minutes.",
        );
    }
    let title = c.text(&f("title"), &n.title, 100);
    if !(0..=100_000).contains(&n.anonymous) {
        c.add(
            &f("anonymous"),
            "range",
            "匿名人次为 0–100000。",
            "The anonymous head count is 0–100,000.",
        );
    }
    if !(0..=10_000).contains(&n.volunteers) {
        c.add(
            &f("volunteers"),
            "range",
            "志愿者人数为 0–10000。",
            "Volunteers are 0–10,000.",
        );
    }
    let volunteer_minutes = match n
        .volunteer_hours
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some(0),
        Some(h) => match h.parse::<Decimal>() {
            Ok(d)
                if d >= Decimal::ZERO
                    && d <= Decimal::from(100_000)
                    && d.normalize().scale() <= 1 =>
            {
                i32::try_from((d * Decimal::from(60)).trunc().mantissa()).ok()
            }
            _ => None,
        },
    };
    if volunteer_minutes.is_none() {
        c.add(
            &f("volunteer_hours"),
            "hours",
            "志愿服务时长为 0–100000 小时，至多一位小数。",
            "Volunteer hours are 0–100,000 with at most one decimal.",
        );
    }
    let evidence = n
        .evidence_sha256
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(e) = &evidence
        && !crate::domain::text::is_sha256_hex(e)
    {
        c.add(
            &f("evidence_sha256"),
            "sha256",
            "签到表文件的 SHA-256 为 64 位十六进制。",
            "The sign-in sheet's SHA-256 is 64 hexadecimal digits.",
        );
    }
    if c.errors().len() > before {
        return None;
    }
    Some(Prepared {
        held_on: held_on?,
        kind,
        community_id: n.community_id,
        street_id: street_id?,
        minutes: n.minutes,
        title,
        anonymous: n.anonymous,
        volunteers: n.volunteers,
        volunteer_minutes: volunteer_minutes?,
        evidence,
        participants: Vec::new(),
    })
}

/// Insert checked activities and their participations (inside the caller's transaction).
fn store(
    conn: &mut DbConn,
    row: &ContractRow,
    field: &str,
    user: i64,
    now: DateTime<Utc>,
    items: &[Prepared],
) -> Result<Vec<i64>, AppError> {
    let created = crate::db::now_micros(now);
    let mut ids = Vec::with_capacity(items.len());
    let mut rows = Vec::new();
    for p in items {
        let id: i64 = diesel::insert_into(ac::table)
            .values((
                ac::contract_id.eq(row.id),
                ac::organisation_id.eq(row.organisation_id),
                ac::held_on.eq(p.held_on),
                ac::kind.eq(&p.kind),
                ac::community_id.eq(p.community_id),
                ac::street_id.eq(p.street_id),
                ac::field.eq(field),
                ac::minutes.eq(p.minutes),
                ac::title.eq(&p.title),
                ac::registered.eq(p.participants.len() as i32),
                ac::anonymous.eq(p.anonymous),
                ac::volunteers.eq(p.volunteers),
                ac::volunteer_minutes.eq(p.volunteer_minutes),
                ac::evidence_sha256.eq(&p.evidence),
                ac::created_by.eq(user),
                ac::created_at.eq(created),
            ))
            .returning(ac::id)
            .get_result(conn)?;
        ids.push(id);
        for (b, person, grp) in &p.participants {
            rows.push((
                pa::activity_id.eq(id),
                pa::beneficiary_id.eq(*b),
                pa::person_id.eq(*person),
                pa::contract_id.eq(row.id),
                pa::organisation_id.eq(row.organisation_id),
                pa::community_id.eq(p.community_id),
                pa::street_id.eq(p.street_id),
                pa::field.eq(field),
                pa::grp.eq(grp.clone()),
                pa::month.eq(month_key(p.held_on)),
            ));
        }
    }
    // Ten columns a row: 3,000 rows stay under SQLite's 32,766 bound parameters.
    for chunk in rows.chunks(3000) {
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(pa::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(pa::table).values(chunk).execute(c)?,
        };
    }
    let mut tally = super::reach::Tally::default();
    for p in items {
        let people: Vec<(i64, &str)> = p
            .participants
            .iter()
            .map(|(_, person, grp)| (*person, grp.as_str()))
            .collect();
        tally.activity(
            &super::reach::Activity {
                organisation_id: row.organisation_id,
                field,
                street_id: p.street_id,
                month: month_key(p.held_on),
                anonymous: p.anonymous.into(),
                volunteers: p.volunteers.into(),
                volunteer_minutes: p.volunteer_minutes.into(),
            },
            &people,
        );
    }
    super::reach::apply(conn, tally)?;
    Ok(ids)
}

fn author(actor: &Actor) -> Result<i64, AppError> {
    actor
        .id
        .ok_or_else(|| AppError::internal("an activity without a signed-in user"))
}

/// Record one activity on the organisation's own live contract: its view and the contract's delivery.
pub fn record(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    contract: i64,
    n: &NewActivity,
) -> Result<Recorded, AppError> {
    let user = author(actor)?;
    let today = crate::clock::beijing_date(now);
    let id = crate::db::write_tx(conn, |conn| -> Result<i64, AppError> {
        let row = own_live(conn, org, contract)?;
        let area = area(conn, row.tender_id)?;
        let mut c = Checks::new();
        let mut p = check_head(&mut c, ctx, "", &row, &area, today, n);
        if n.participants.len() + n.pseudonyms.len() + n.id_numbers.len() > MAX_PARTICIPANTS {
            c.add(
                "participants",
                "max_items",
                format!("一次活动至多登记 {MAX_PARTICIPANTS} 名参与者；更多请用匿名人次。"),
                format!(
                    "At most {MAX_PARTICIPANTS} registered participants an activity; count more as anonymous heads."
                ),
            );
        }
        // Participants by id: the organisation's own, each once.
        let own: Vec<(i64, i64, String)> = be::table
            .filter(be::organisation_id.eq(org))
            .filter(be::id.eq_any(&n.participants))
            .select((be::id, be::person_id, be::grp))
            .load(conn)?;
        let mut seen = HashSet::new();
        let mut chosen = Vec::new();
        for (i, b) in n.participants.iter().enumerate() {
            match own.iter().find(|o| o.0 == *b) {
                None => c.add(
                    &format!("participants[{i}]"),
                    "own_beneficiary",
                    "不是本机构登记的服务对象。",
                    "Not a person your organisation has registered.",
                ),
                Some(o) if !seen.insert(o.1) => c.add(
                    &format!("participants[{i}]"),
                    "unique",
                    "同一人重复列出。",
                    "The same person is listed twice.",
                ),
                Some(o) => chosen.push(o.clone()),
            }
        }
        // Participants by pseudonym: the organisation's own, each once.
        let named: Vec<(String, i64, i64, String)> = be::table
            .filter(be::organisation_id.eq(org))
            .filter(be::pseudonym.eq_any(n.pseudonyms.iter().map(|p| p.trim())))
            .select((be::pseudonym, be::id, be::person_id, be::grp))
            .load(conn)?;
        for (i, p) in n.pseudonyms.iter().enumerate() {
            match named.iter().find(|o| o.0 == p.trim()) {
                None => c.add(
                    &format!("pseudonyms[{i}]"),
                    "own_beneficiary",
                    format!("本机构没有代号为“{}”的服务对象。", p.trim()),
                    format!(
                        "Your organisation has no person with the pseudonym {:?}.",
                        p.trim()
                    ),
                ),
                Some(o) if !seen.insert(o.2) => c.add(
                    &format!("pseudonyms[{i}]"),
                    "unique",
                    "同一人重复列出。",
                    "The same person is listed twice.",
                ),
                Some(o) => chosen.push((o.1, o.2, o.3.clone())),
            }
        }
        // Participants by identity number: found, or registered from the number.
        let year = today.year();
        let mut registered = 0;
        for (i, raw) in n.id_numbers.iter().enumerate() {
            let field = format!("id_numbers[{i}]");
            let number = match checked_id_number(&field, raw) {
                Ok(x) => x,
                Err(e) => {
                    c.push(e);
                    continue;
                }
            };
            let b = match beneficiaries::own_by_number(conn, ctx, org, &number)? {
                Some(b) => (b.id, b.person_id, b.grp),
                None if c.is_empty() && p.is_some() => {
                    let mut k = Checks::new();
                    let new = NewBeneficiary {
                        id_number: Some(number),
                        community_id: n.community_id,
                        ..Default::default()
                    };
                    let k = beneficiaries::check(conn, ctx, &mut k, "", year, &new)?
                        .ok_or_else(|| AppError::internal("a checked number refused"))?;
                    let id = beneficiaries::insert(conn, ctx, org, user, now, &k)?;
                    registered += 1;
                    let person: i64 = be::table.find(id).select(be::person_id).first(conn)?;
                    (id, person, k.group)
                }
                // Other errors already refuse the activity: register nobody.
                None => continue,
            };
            if !seen.insert(b.1) {
                c.add(
                    &field,
                    "unique",
                    "同一人重复列出。",
                    "The same person is listed twice.",
                );
            } else {
                chosen.push(b);
            }
        }
        if chosen.is_empty() && n.anonymous <= 0 && c.is_empty() {
            c.add(
                "participants",
                "someone",
                "请登记参与者或匿名人次。",
                "Record the participants or an anonymous head count.",
            );
        }
        c.finish()?;
        let mut p = p.take().expect("checked");
        p.participants = chosen;
        let field = field_of(conn, &row)?;
        let id = store(conn, &row, &field, user, now, std::slice::from_ref(&p))?[0];
        audit::record(
            conn,
            actor,
            now,
            "activity.record",
            "activity",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({
                "contract_id": contract, "held_on": p.held_on.to_string(), "kind": p.kind,
                "registered": p.participants.len(), "anonymous": p.anonymous,
                "new_beneficiaries": registered,
            })),
        )?;
        Ok(id)
    })?;
    let row: ActivityRow = ac::table
        .find(id)
        .select(ActivityRow::as_select())
        .first(conn)?;
    let activity = views(conn, ctx, Reader::Org(org), vec![row])?.remove(0);
    Ok(Recorded {
        activity,
        delivered: super::achieved(conn, contract, today)?,
    })
}

/// A contract's activities, newest first, filtered and paged: staff read every contract's, the
/// organisation its own (404 otherwise); only the organisation sees who took part.
pub fn list(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    contract: i64,
    f: &ActivityFilter,
) -> Result<Paged<ActivityView>, AppError> {
    crate::contracts::spending::readable(conn, reader, contract)?;
    let mut c = Checks::new();
    let from = c.date("from", f.from.as_deref());
    let to = c.date("to", f.to.as_deref());
    c.finish()?;
    let paging = Paging::new(f.page, f.per_page);
    let filtered = || {
        let mut q = ac::table.filter(ac::contract_id.eq(contract)).into_boxed();
        if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(ac::kind.eq(k.to_string()));
        }
        if let Some(d) = from {
            q = q.filter(ac::held_on.ge(d));
        }
        if let Some(d) = to {
            q = q.filter(ac::held_on.le(d));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<ActivityRow> = filtered()
        .order((ac::held_on.desc(), ac::id.desc()))
        .offset(paging.offset())
        .limit(paging.limit())
        .select(ActivityRow::as_select())
        .load(conn)?;
    Ok(paging.of(views(conn, ctx, reader, rows)?, total))
}

fn views(
    conn: &mut DbConn,
    ctx: &Ctx,
    reader: Reader,
    rows: Vec<ActivityRow>,
) -> Result<Vec<ActivityView>, AppError> {
    let places: HashMap<i64, (String, String)> = cm::table
        .inner_join(st::table)
        .filter(cm::id.eq_any(rows.iter().map(|r| r.community_id).collect::<Vec<_>>()))
        .select((cm::id, cm::name, st::name))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(i, c, s)| (i, (c, s)))
        .collect();
    let mut who: HashMap<i64, Vec<String>> = HashMap::new();
    if let Reader::Org(org) = reader {
        let ids: Vec<i64> = rows
            .iter()
            .filter(|r| r.organisation_id == org)
            .map(|r| r.id)
            .collect();
        let names: Vec<(i64, String)> = pa::table
            .inner_join(be::table)
            .filter(pa::activity_id.eq_any(ids))
            .order(be::pseudonym)
            .select((pa::activity_id, be::pseudonym))
            .load(conn)?;
        for (a, p) in names {
            who.entry(a).or_default().push(p);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (community, street) = places.get(&r.community_id).cloned().unwrap_or_default();
            let own = matches!(reader, Reader::Org(o) if o == r.organisation_id);
            ActivityView {
                id: r.id,
                contract_id: r.contract_id,
                held_on: r.held_on,
                kind_label: term_label(&ctx.settings.kinds, &r.kind, true).to_string(),
                kind: r.kind,
                community_id: r.community_id,
                community,
                street,
                minutes: r.minutes,
                title: r.title,
                registered: r.registered,
                anonymous: r.anonymous,
                visits: r.registered + r.anonymous,
                volunteers: r.volunteers,
                volunteer_hours: Decimal::from(r.volunteer_minutes) / Decimal::from(60),
                evidence_sha256: r.evidence_sha256,
                participants: own.then(|| who.remove(&r.id).unwrap_or_default()),
                created_at: r.created_at,
            }
        })
        .collect())
}

/// The attendance CSV's columns, the required first.
pub const CSV_COLUMNS: &[&str] = &[
    "date",
    "kind",
    "community",
    "title",
    "minutes",
    "participant",
    "anonymous",
    "volunteers",
    "volunteer_hours",
    "evidence_sha256",
];

/// What an import stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportedActivities {
    pub activities: usize,
    pub participations: usize,
    pub new_beneficiaries: usize,
    pub delivered: Achieved,
}

/// Import attendance from CSV (UTF-8, a BOM is fine): one row per participant, header
/// `date,kind,community,title,minutes,participant[,anonymous,volunteers,volunteer_hours,evidence_sha256]`.
/// Rows with the same date, type, community, title and duration are one activity; `community` is a
/// community's code or name; `participant` a pseudonym of the organisation's or an identity number (an
/// unknown number registers the person), or empty on a row that only carries an anonymous head count;
/// `anonymous`, `volunteers` and `volunteer_hours` add up over an activity's rows. All or nothing: any bad
/// row refuses the file with every error as `rows[LINE].COLUMN` (the header is line 1) and its rule.
pub fn import_csv(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    contract: i64,
    csv: &str,
) -> Result<ImportedActivities, AppError> {
    let user = author(actor)?;
    let today = crate::clock::beijing_date(now);
    let t = crate::registry::import::read_table(csv, CSV_COLUMNS, 5, MAX_IMPORT_ROWS)?;
    let (count, participations, new) = crate::db::write_tx(
        conn,
        |conn| -> Result<(usize, usize, usize), AppError> {
            let row = own_live(conn, org, contract)?;
            let area = area(conn, row.tender_id)?;
            let communities: Vec<(i64, String, String)> = cm::table
                .filter(cm::id.eq_any(area.keys().copied().collect::<Vec<_>>()))
                .select((cm::id, cm::code, cm::name))
                .load(conn)?;
            let own: HashMap<String, (i64, i64, String)> = be::table
                .filter(be::organisation_id.eq(org))
                .select((be::pseudonym, be::id, be::person_id, be::grp))
                .load::<(String, i64, i64, String)>(conn)?
                .into_iter()
                .map(|(p, b, person, g)| (p, (b, person, g)))
                .collect();
            let mut c = Checks::new();
            let mut slots: HashMap<(String, String, String, String, String), usize> =
                HashMap::new();
            let mut items: Vec<Prepared> = Vec::new();
            let mut seen: HashSet<(usize, i64)> = HashSet::new();
            let mut numbers: Vec<(usize, String, usize)> = Vec::new();
            let year = today.year();
            for r in &t.rows {
                let prefix = format!("rows[{}].", r.line);
                let cell = |k: &str| t.cell(r, k);
                let community = cell("community");
                let community_id = communities
                    .iter()
                    .find(|(_, code, name)| *code == community || *name == community)
                    .map(|x| x.0);
                let num = |k: &str, c: &mut Checks| -> i32 {
                    let v = cell(k);
                    if v.is_empty() {
                        return 0;
                    }
                    v.parse::<i32>().unwrap_or_else(|_| {
                        c.add(
                            &format!("{prefix}{k}"),
                            "integer",
                            "须为整数。",
                            "Must be a whole number.",
                        );
                        0
                    })
                };
                let minutes = num("minutes", &mut c);
                let anonymous = num("anonymous", &mut c);
                let volunteers = num("volunteers", &mut c);
                let n = NewActivity {
                    held_on: cell("date"),
                    kind: cell("kind"),
                    community_id: community_id.unwrap_or(-1),
                    minutes,
                    title: cell("title"),
                    anonymous,
                    volunteers,
                    volunteer_hours: Some(cell("volunteer_hours")),
                    evidence_sha256: Some(cell("evidence_sha256")),
                    ..Default::default()
                };
                let key = (
                    n.held_on.clone(),
                    n.kind.clone(),
                    community,
                    n.title.clone(),
                    minutes.to_string(),
                );
                let Some(p) = check_head(&mut c, ctx, &prefix, &row, &area, today, &n) else {
                    continue;
                };
                let slot = match slots.get(&key) {
                    Some(&i) => {
                        let g = &mut items[i];
                        // Saturating: the sums are checked against their ranges below.
                        g.anonymous = g.anonymous.saturating_add(p.anonymous);
                        g.volunteers = g.volunteers.saturating_add(p.volunteers);
                        g.volunteer_minutes =
                            g.volunteer_minutes.saturating_add(p.volunteer_minutes);
                        if g.evidence.is_none() {
                            g.evidence = p.evidence;
                        }
                        i
                    }
                    None => {
                        items.push(p);
                        slots.insert(key, items.len() - 1);
                        items.len() - 1
                    }
                };
                let who = cell("participant");
                if who.is_empty() {
                    if anonymous <= 0 {
                        c.add(
                            &format!("{prefix}participant"),
                            "required",
                            "请填写参与者（代号或身份证号），或在匿名人次列填写人数。",
                            "Give the participant (pseudonym or identity number), or a head count under anonymous.",
                        );
                    }
                    continue;
                }
                let g = &mut items[slot];
                if let Some(b) = own.get(&who) {
                    if seen.insert((slot, b.1)) {
                        g.participants.push(b.clone());
                    } else {
                        c.add(
                            &format!("{prefix}participant"),
                            "unique",
                            "同一活动中此人重复列出。",
                            "The same person is listed twice at this activity.",
                        );
                    }
                } else if who.chars().filter(char::is_ascii_digit).count() >= 15 {
                    match checked_id_number(&format!("{prefix}participant"), &who) {
                        Ok(n) => numbers.push((slot, n, r.line)),
                        Err(e) => c.push(e),
                    }
                } else {
                    c.add(
                        &format!("{prefix}participant"),
                        "own_beneficiary",
                        format!("本机构没有代号为“{who}”的服务对象。"),
                        format!("Your organisation has no person with the pseudonym {who:?}."),
                    );
                }
            }
            if items.iter().any(|g| {
                g.anonymous > 100_000 || g.volunteers > 10_000 || g.volunteer_minutes > 6_000_000
            }) {
                c.add(
                    "file",
                    "activity_totals",
                    "同一活动各行的匿名人次、志愿者人数或志愿服务时长合计超出上限（100000 人次、10000 人、100000 小时）。",
                    "An activity's rows add up to more than 100,000 anonymous heads, 10,000 volunteers or 100,000 volunteer hours.",
                );
            }
            c.finish()?;
            // Identity numbers: the organisation's own, or registered now, each once per activity.
            let mut new = 0;
            let mut known: HashMap<String, (i64, i64, String)> = HashMap::new();
            for (slot, number, line) in numbers {
                let b = match known.get(&number) {
                    Some(b) => b.clone(),
                    None => {
                        let b = match beneficiaries::own_by_number(conn, ctx, org, &number)? {
                            Some(b) => (b.id, b.person_id, b.grp),
                            None => {
                                let community_id = items[slot].community_id;
                                let new_b = NewBeneficiary {
                                    id_number: Some(number.clone()),
                                    community_id,
                                    ..Default::default()
                                };
                                let mut k = Checks::new();
                                let k = beneficiaries::check(conn, ctx, &mut k, "", year, &new_b)?
                                    .ok_or_else(|| {
                                        AppError::internal("a checked number refused")
                                    })?;
                                let id = beneficiaries::insert(conn, ctx, org, user, now, &k)?;
                                new += 1;
                                let person: i64 =
                                    be::table.find(id).select(be::person_id).first(conn)?;
                                (id, person, k.group)
                            }
                        };
                        known.insert(number, b.clone());
                        b
                    }
                };
                if !seen.insert((slot, b.1)) {
                    return Err(AppError::Validation(vec![FieldError::new(
                        &format!("rows[{line}].participant"),
                        "unique",
                        "同一活动中此人重复列出。",
                        "The same person is listed twice at this activity.",
                    )]));
                }
                items[slot].participants.push(b);
            }
            let participations = items.iter().map(|p| p.participants.len()).sum();
            let field = field_of(conn, &row)?;
            let ids = store(conn, &row, &field, user, now, &items)?;
            audit::record(
                conn,
                actor,
                now,
                "activity.import",
                "contract",
                Some(contract.to_string()),
                None,
                Some(serde_json::json!({
                    "activities": ids.len(), "participations": participations,
                    "new_beneficiaries": new,
                })),
            )?;
            Ok((ids.len(), participations, new))
        },
    )?;
    Ok(ImportedActivities {
        activities: count,
        participations,
        new_beneficiaries: new,
        delivered: super::achieved(conn, contract, today)?,
    })
}
