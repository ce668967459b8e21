//! Social workers: certificate level, employment, streets served. The identity number is accepted on input,
//! checked (ISO 7064 MOD 11-2) and kept only as a keyed hash (HMAC-SHA-256 with the beneficiary secret); it
//! is never returned. Phone numbers are masked for everyone but the bureau, administrators and the worker's
//! own organisation.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::{CurrentUser, Role};
use crate::clock::beijing_date;
use crate::db::schema::{
    organisations as o, social_worker_streets as sws, social_workers as sw, streets as st,
};
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Checks};
use crate::registry::orgs::check_phone;

pub use crate::domain::vocab::CERTIFICATE_LEVELS as LEVELS;

pub const EMPLOYMENTS: &[(&str, &str, &str)] = &[
    ("full_time", "全职", "Full time"),
    ("part_time", "兼职", "Part time"),
    ("left", "已离职", "Left"),
];

pub use crate::domain::identity::{
    check_id_number, id_check_char, id_hash, identity_hashes, normalise_id,
};

/// 13800138000 → 138****8000; shorter numbers keep less.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "****".into()
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = sw)]
pub struct WorkerRow {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub id_hash: Option<String>,
    pub phone: Option<String>,
    pub certificate_level: String,
    pub certificate_number: Option<String>,
    pub certified_on: Option<NaiveDate>,
    pub employment: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub person_hash: Option<String>,
    /// When the bureau verified the certificate facts; None while they wait (`domain::facts`).
    pub verified_at: Option<NaiveDateTime>,
}

impl WorkerRow {
    fn facts(&self) -> crate::domain::facts::WorkerFacts<'_> {
        crate::domain::facts::WorkerFacts {
            organisation_id: self.organisation_id,
            certificate_level: &self.certificate_level,
            certificate_number: self.certificate_number.as_deref(),
            certified_on: self.certified_on,
            employment: &self.employment,
        }
    }
}

impl CleanWorker {
    fn facts(&self) -> crate::domain::facts::WorkerFacts<'_> {
        crate::domain::facts::WorkerFacts {
            organisation_id: self.organisation_id,
            certificate_level: &self.certificate_level,
            certificate_number: self.certificate_number.as_deref(),
            certified_on: self.certified_on,
            employment: &self.employment,
        }
    }
}

/// A social worker as shown: never the identity number; the phone masked unless the viewer may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerView {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub name: String,
    /// True when an identity number is on file (only its keyed hash is kept).
    pub has_id_number: bool,
    /// Masked (138****8000) unless the viewer is the bureau, an administrator or the worker's organisation.
    pub phone: Option<String>,
    pub phone_masked: bool,
    /// none, assistant, social_worker or senior
    pub certificate_level: String,
    pub certificate_number: Option<String>,
    #[schema(value_type = Option<String>)]
    pub certified_on: Option<NaiveDate>,
    /// full_time, part_time or left
    pub employment: String,
    /// False while an organisation's entry or change of the certificate waits for the bureau; until then
    /// the worker counts for no eligibility rule and cannot be proposed in a bid.
    pub verified: bool,
    pub street_ids: Vec<i64>,
    pub street_names: Vec<String>,
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
    /// For the bureau and administrators only (false for anyone else): another organisation's worker has the
    /// same identity number, a record to look into (two employers, or a mistake).
    pub shares_identity: bool,
}

/// May this viewer see the worker's phone in clear?
pub fn sees_phone(by: &CurrentUser, org_id: i64) -> bool {
    by.is_staff() || (by.role == Role::Org && by.org_id == Some(org_id))
}

/// Who may read workers of an organisation: the bureau, administrators and finance (phones masked for
/// finance), an `org` user its own; not evaluators.
pub fn may_read(by: &CurrentUser, org_id: i64) -> bool {
    match by.role {
        Role::Evaluator => false,
        Role::Org => by.org_id == Some(org_id),
        Role::Bureau | Role::Admin | Role::Finance => true,
    }
}

/// Who may change workers of an organisation.
pub fn may_write(by: &CurrentUser, org_id: i64) -> bool {
    by.is_staff() || (by.role == Role::Org && by.org_id == Some(org_id))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct WorkerInput {
    #[serde(default)]
    pub organisation_id: i64,
    #[serde(default)]
    pub name: String,
    /// 18-character PRC identity number; checked, then kept only as a keyed hash. On update, omit to keep
    /// the one on file.
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// none, assistant (助理社会工作师), social_worker (社会工作师) or senior (高级社会工作师)
    #[serde(default)]
    pub certificate_level: String,
    #[serde(default)]
    pub certificate_number: Option<String>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub certified_on: Option<String>,
    /// full_time, part_time or left
    #[serde(default)]
    pub employment: String,
    #[serde(default)]
    pub street_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct CleanWorker {
    pub organisation_id: i64,
    pub name: String,
    /// None: keep (update) or none (create). Per organisation (`identity_hashes`).
    pub id_hash: Option<String>,
    /// The person's hash, set with `id_hash`.
    pub person_hash: Option<String>,
    pub phone: Option<String>,
    pub certificate_level: String,
    pub certificate_number: Option<String>,
    pub certified_on: Option<NaiveDate>,
    pub employment: String,
    pub street_ids: Vec<i64>,
}

/// The same person twice in one organisation is refused (it is the organisation's own data); a person that
/// another organisation has registered is accepted, and the bureau sees it (`WorkerView::shares_identity`).
fn check_own_duplicate(
    conn: &mut DbConn,
    checks: &mut Checks,
    field: &str,
    org_id: i64,
    person: &str,
    self_id: Option<i64>,
) -> QueryResult<()> {
    let taken: Option<i64> = sw::table
        .filter(sw::person_hash.eq(person))
        .filter(sw::organisation_id.eq(org_id))
        .filter(sw::id.ne(self_id.unwrap_or(0)))
        .select(sw::id)
        .first(conn)
        .optional()?;
    if taken.is_some() {
        checks.add(
            field,
            "unique",
            "本组织已登记了持该身份证号的社工。",
            "Your organisation has already registered a social worker with this identity number.",
        );
    }
    Ok(())
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Check every rule; `f` names a field (the CSV import prefixes the line).
pub fn validate(
    conn: &mut DbConn,
    secret: &str,
    w: &WorkerInput,
    self_id: Option<i64>,
    today: NaiveDate,
    checks: &mut Checks,
    f: &dyn Fn(&str) -> String,
) -> Result<Option<CleanWorker>, AppError> {
    let n0 = checks.errors().len();
    let org: Option<i64> = o::table
        .find(w.organisation_id)
        .select(o::id)
        .first(conn)
        .optional()?;
    if org.is_none() {
        checks.add(
            &f("organisation_id"),
            "exists",
            "组织不存在。",
            "No such organisation.",
        );
    }
    let name = w.name.trim().to_string();
    if checks.required(&f("name"), &name) && name.chars().count() > 50 {
        checks.add(
            &f("name"),
            "max_length",
            "最多 50 个字符。",
            "At most 50 characters.",
        );
    }
    let mut hash = None;
    if let Some(id) = opt(&w.id_number) {
        let id = normalise_id(&id);
        match check_id_number(&id) {
            Err((rule, zh, en)) => checks.add(&f("id_number"), rule, zh, en),
            Ok(()) => {
                let (h, person) = identity_hashes(secret, w.organisation_id, &id);
                check_own_duplicate(
                    conn,
                    checks,
                    &f("id_number"),
                    w.organisation_id,
                    &person,
                    self_id,
                )?;
                hash = Some((h, person));
            }
        }
    }
    let phone = check_phone(checks, &f("phone"), &w.phone);
    let level = w.certificate_level.trim().to_string();
    let level_ok = checks.required(&f("certificate_level"), &level)
        && if LEVELS.iter().any(|(k, _, _)| *k == level) {
            true
        } else {
            checks.add(
                &f("certificate_level"),
                "one_of",
                "证书等级须为 none、assistant、social_worker 或 senior。",
                "The certificate level is none, assistant, social_worker or senior.",
            );
            false
        };
    let number = opt(&w.certificate_number);
    if level_ok && level != "none" && number.is_none() {
        checks.add(
            &f("certificate_number"),
            "required",
            "持证社工须填写证书编号。",
            "A certified social worker needs the certificate number.",
        );
    }
    if level == "none" && number.is_some() {
        checks.add(
            &f("certificate_number"),
            "forbidden",
            "无证书时不填证书编号。",
            "No certificate number without a certificate.",
        );
    }
    if let Some(n) = &number {
        if n.chars().count() > 40 {
            checks.add(
                &f("certificate_number"),
                "max_length",
                "最多 40 个字符。",
                "At most 40 characters.",
            );
        }
        let taken: Option<i64> = sw::table
            .filter(sw::certificate_number.eq(n))
            .filter(sw::id.ne(self_id.unwrap_or(0)))
            .select(sw::id)
            .first(conn)
            .optional()?;
        if taken.is_some() {
            checks.add(
                &f("certificate_number"),
                "unique",
                "该证书编号已被使用。",
                "This certificate number is already on file.",
            );
        }
    }
    let certified_on = checks.date(&f("certified_on"), w.certified_on.as_deref());
    if certified_on.is_some_and(|d| d > today) {
        checks.add(
            &f("certified_on"),
            "not_future",
            "取证日期不能晚于今天。",
            "The certification date cannot be in the future.",
        );
    }
    let employment = w.employment.trim().to_string();
    if checks.required(&f("employment"), &employment)
        && !EMPLOYMENTS.iter().any(|(k, _, _)| *k == employment)
    {
        checks.add(
            &f("employment"),
            "one_of",
            "用工形式须为 full_time、part_time 或 left。",
            "Employment is full_time, part_time or left.",
        );
    }
    let mut streets = w.street_ids.clone();
    streets.sort();
    streets.dedup();
    if !streets.is_empty() {
        let known: Vec<i64> = st::table
            .filter(st::id.eq_any(&streets))
            .select(st::id)
            .load(conn)?;
        if streets.iter().any(|s| !known.contains(s)) {
            checks.add(
                &f("street_ids"),
                "exists",
                "服务街道中有不存在的街道。",
                "A street served does not exist.",
            );
        }
    }
    if checks.errors().len() > n0 {
        return Ok(None);
    }
    Ok(Some(CleanWorker {
        organisation_id: w.organisation_id,
        name,
        person_hash: hash.as_ref().map(|(_, p)| p.clone()),
        id_hash: hash.map(|(h, _)| h),
        phone,
        certificate_level: level,
        certificate_number: number,
        certified_on,
        employment,
        street_ids: streets,
    }))
}

fn audit_json(c: &CleanWorker, verified: bool) -> serde_json::Value {
    // Never the hash or the phone in clear in the audit trail beyond what the bureau sees: the phone is
    // masked, the identity number is noted as present.
    serde_json::json!({
        "organisation_id": c.organisation_id, "name": c.name, "id_number": c.id_hash.as_ref().map(|_| "hashed"),
        "phone": c.phone.as_deref().map(mask_phone), "certificate_level": c.certificate_level,
        "certificate_number": c.certificate_number, "certified_on": c.certified_on,
        "employment": c.employment, "street_ids": c.street_ids, "verified": verified,
    })
}

fn write_streets(conn: &mut DbConn, id: i64, streets: &[i64]) -> QueryResult<()> {
    diesel::delete(sws::table.filter(sws::social_worker_id.eq(id))).execute(conn)?;
    for s in streets {
        diesel::insert_into(sws::table)
            .values((sws::social_worker_id.eq(id), sws::street_id.eq(s)))
            .execute(conn)?;
    }
    Ok(())
}

/// Insert a validated worker (inside a write transaction); callers audit. `verified` when the bureau (or an
/// administrator) enters it; an organisation's own entry waits for the bureau.
pub fn insert_clean(
    conn: &mut DbConn,
    ts: NaiveDateTime,
    c: &CleanWorker,
    verified: bool,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(sw::table)
        .values((
            sw::organisation_id.eq(c.organisation_id),
            sw::name.eq(&c.name),
            sw::id_hash.eq(&c.id_hash),
            sw::person_hash.eq(&c.person_hash),
            sw::phone.eq(&c.phone),
            sw::certificate_level.eq(&c.certificate_level),
            sw::certificate_number.eq(&c.certificate_number),
            sw::certified_on.eq(c.certified_on),
            sw::employment.eq(&c.employment),
            sw::created_at.eq(ts),
            sw::updated_at.eq(ts),
            sw::verified_at.eq(verified.then_some(ts)),
        ))
        .returning(sw::id)
        .get_result(conn)?;
    write_streets(conn, id, &c.street_ids)?;
    Ok(id)
}

/// The workers an organisation may propose in a bid: current, with the certificate verified (`domain::facts`).
/// (id, name, certificate level), by name.
pub fn proposable(conn: &mut DbConn, org_id: i64) -> QueryResult<Vec<(i64, String, String)>> {
    sw::table
        .filter(sw::organisation_id.eq(org_id))
        .filter(sw::employment.ne("left"))
        .filter(sw::verified_at.is_not_null())
        .order((sw::name, sw::id))
        .select((sw::id, sw::name, sw::certificate_level))
        .load(conn)
}

/// An organisation's workers whose certificate waits for the bureau: (id, name), by name.
pub fn unverified_of(conn: &mut DbConn, org_id: i64) -> QueryResult<Vec<(i64, String)>> {
    sw::table
        .filter(sw::organisation_id.eq(org_id))
        .filter(sw::verified_at.is_null())
        .order((sw::name, sw::id))
        .select((sw::id, sw::name))
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<WorkerRow, AppError> {
    Ok(sw::table
        .find(id)
        .select(WorkerRow::as_select())
        .first(conn)?)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    secret: &str,
    by: &CurrentUser,
    w: &WorkerInput,
) -> Result<WorkerRow, AppError> {
    if !may_write(by, w.organisation_id) {
        return Err(if by.role == Role::Org {
            AppError::field(
                "organisation_id",
                "own_organisation",
                "只能为本组织登记社工。",
                "You can add social workers only to your own organisation.",
            )
        } else {
            AppError::Forbidden
        });
    }
    let mut checks = Checks::new();
    let c = validate(
        conn,
        secret,
        w,
        None,
        beijing_date(now),
        &mut checks,
        &|s| s.to_string(),
    )?;
    checks.finish()?;
    let c = c.expect("validated");
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id = insert_clean(conn, ts, &c, by.is_staff())?;
        audit::record(
            conn,
            actor,
            now,
            "social_worker.create",
            "social_worker",
            Some(id.to_string()),
            None,
            Some(audit_json(&c, by.is_staff())),
        )?;
        find(conn, id)
    })
}

/// Change a worker. `w` is the full new state (the page and API send every field); an absent identity
/// number keeps the one on file. Read under the row lock in the write transaction; `expect` refuses the
/// change with 412 when the worker changed since that version was read.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the change"
)]
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    secret: &str,
    by: &CurrentUser,
    id: i64,
    w: &WorkerInput,
    expect: Option<&str>,
) -> Result<WorkerRow, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "social_workers", id)?;
        let before = find(conn, id)?;
        if !may_write(by, before.organisation_id) {
            return Err(if by.role == Role::Org {
                AppError::NotFound
            } else {
                AppError::Forbidden
            });
        }
        let before_input = input_of(conn, &before)?;
        crate::version::check(expect, &before_input)?;
        if by.role == Role::Org && w.organisation_id != before.organisation_id {
            return Err(AppError::field(
                "organisation_id",
                "own_organisation",
                "组织用户不能把社工转到其他组织。",
                "An organisation cannot move a social worker to another organisation.",
            ));
        }
        let mut checks = Checks::new();
        let c = validate(
            conn,
            secret,
            w,
            Some(id),
            beijing_date(now),
            &mut checks,
            &|s| s.to_string(),
        )?;
        checks.finish()?;
        let mut c = c.expect("validated");
        if c.id_hash.is_none() {
            c.id_hash = before.id_hash.clone();
            c.person_hash = before.person_hash.clone();
            // Moved to another organisation with the number on file: still one person per organisation.
            if let Some(person) = before
                .person_hash
                .as_deref()
                .filter(|_| c.organisation_id != before.organisation_id)
            {
                let mut checks = Checks::new();
                check_own_duplicate(
                    conn,
                    &mut checks,
                    "id_number",
                    c.organisation_id,
                    person,
                    Some(id),
                )?;
                checks.finish()?;
            }
        }
        let before_json = audit_json(
            &CleanWorker {
                organisation_id: before.organisation_id,
                name: before.name.clone(),
                id_hash: before.id_hash.clone(),
                person_hash: before.person_hash.clone(),
                phone: before.phone.clone(),
                certificate_level: before.certificate_level.clone(),
                certificate_number: before.certificate_number.clone(),
                certified_on: before.certified_on,
                employment: before.employment.clone(),
                street_ids: before_input.street_ids.clone(),
            },
            before.verified_at.is_some(),
        );
        // The bureau's own change is its verification; an organisation's keeps it only when it claims
        // nothing new (`domain::facts::stays_verified`).
        let verified_at = if by.is_staff() {
            Some(ts)
        } else if crate::domain::facts::stays_verified(&before.facts(), &c.facts()) {
            before.verified_at
        } else {
            None
        };
        diesel::update(sw::table.find(id))
            .set((
                sw::verified_at.eq(verified_at),
                sw::organisation_id.eq(c.organisation_id),
                sw::name.eq(&c.name),
                sw::id_hash.eq(&c.id_hash),
                sw::person_hash.eq(&c.person_hash),
                sw::phone.eq(&c.phone),
                sw::certificate_level.eq(&c.certificate_level),
                sw::certificate_number.eq(&c.certificate_number),
                sw::certified_on.eq(c.certified_on),
                sw::employment.eq(&c.employment),
                sw::updated_at.eq(ts),
            ))
            .execute(conn)?;
        write_streets(conn, id, &c.street_ids)?;
        audit::record(
            conn,
            actor,
            now,
            "social_worker.update",
            "social_worker",
            Some(id.to_string()),
            Some(before_json),
            Some(audit_json(&c, verified_at.is_some())),
        )?;
        find(conn, id)
    })
}

/// The bureau verifies a worker's certificate facts as they now stand (against the certificate itself);
/// from then on the worker counts for eligibility and may be proposed in a bid. `expect` (the version the
/// officer looked at) refuses with 412 when the organisation changed the worker since.
pub fn verify(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    by: &CurrentUser,
    id: i64,
    expect: Option<&str>,
) -> Result<WorkerRow, AppError> {
    if !by.is_staff() {
        return Err(AppError::Forbidden);
    }
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "social_workers", id)?;
        let before = find(conn, id)?;
        crate::version::check(expect, &input_of(conn, &before)?)?;
        if before.verified_at.is_some() {
            return Err(AppError::conflict(
                "already_verified",
                "该社工的证书信息已核实。",
                "This social worker's certificate has already been verified.",
            ));
        }
        diesel::update(sw::table.find(id))
            .set(sw::verified_at.eq(Some(ts)))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "social_worker.verify",
            "social_worker",
            Some(id.to_string()),
            Some(serde_json::json!({"verified": false})),
            Some(serde_json::json!({
                "verified": true, "certificate_level": before.certificate_level,
                "certificate_number": before.certificate_number, "certified_on": before.certified_on,
            })),
        )?;
        find(conn, id)
    })
}

/// A worker's version (`crate::version`): of the input that reproduces it.
pub fn version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    let r = find(conn, id)?;
    Ok(crate::version::of(&input_of(conn, &r)?))
}

/// The input that reproduces a worker (for edit forms); the identity number is never filled in.
pub fn input_of(conn: &mut DbConn, r: &WorkerRow) -> QueryResult<WorkerInput> {
    let streets = sws::table
        .filter(sws::social_worker_id.eq(r.id))
        .order(sws::street_id)
        .select(sws::street_id)
        .load(conn)?;
    Ok(WorkerInput {
        organisation_id: r.organisation_id,
        name: r.name.clone(),
        id_number: None,
        phone: r.phone.clone(),
        certificate_level: r.certificate_level.clone(),
        certificate_number: r.certificate_number.clone(),
        certified_on: r.certified_on.map(|d| d.to_string()),
        employment: r.employment.clone(),
        street_ids: streets,
    })
}

pub fn views(
    conn: &mut DbConn,
    by: &CurrentUser,
    rows: Vec<WorkerRow>,
) -> Result<Vec<WorkerView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let org_names = crate::registry::orgs::names(conn)?;
    let street_names: HashMap<i64, String> = st::table
        .select((st::id, st::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    // People registered more than once, among these rows' people: only the bureau is told.
    let mut shared: std::collections::HashSet<String> = std::collections::HashSet::new();
    if by.is_staff() {
        let people: Vec<String> = rows.iter().filter_map(|r| r.person_hash.clone()).collect();
        for chunk in people.chunks(500) {
            shared.extend(
                sw::table
                    .filter(sw::person_hash.eq_any(chunk))
                    .group_by(sw::person_hash)
                    .having(diesel::dsl::count_star().gt(1))
                    .select(sw::person_hash.assume_not_null())
                    .load::<String>(conn)?,
            );
        }
    }
    let mut streets: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for (w, s) in sws::table
            .filter(sws::social_worker_id.eq_any(chunk))
            .order((sws::social_worker_id, sws::street_id))
            .select((sws::social_worker_id, sws::street_id))
            .load::<(i64, i64)>(conn)?
        {
            streets.entry(w).or_default().push(s);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let clear = sees_phone(by, r.organisation_id);
            let sids = streets.remove(&r.id).unwrap_or_default();
            WorkerView {
                organisation_name: org_names
                    .get(&r.organisation_id)
                    .cloned()
                    .unwrap_or_default(),
                has_id_number: r.id_hash.is_some(),
                shares_identity: r.person_hash.as_ref().is_some_and(|p| shared.contains(p)),
                phone: r
                    .phone
                    .as_deref()
                    .map(|p| if clear { p.to_string() } else { mask_phone(p) }),
                phone_masked: !clear && r.phone.is_some(),
                street_names: sids
                    .iter()
                    .filter_map(|s| street_names.get(s).cloned())
                    .collect(),
                street_ids: sids,
                id: r.id,
                organisation_id: r.organisation_id,
                name: r.name,
                certificate_level: r.certificate_level,
                certificate_number: r.certificate_number,
                certified_on: r.certified_on,
                employment: r.employment,
                verified: r.verified_at.is_some(),
                updated_at: r.updated_at,
            }
        })
        .collect())
}

pub fn get(conn: &mut DbConn, by: &CurrentUser, id: i64) -> Result<WorkerView, AppError> {
    let r = find(conn, id)?;
    if !may_read(by, r.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(views(conn, by, vec![r])?.remove(0))
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct WorkerFilter {
    /// Part of the name or certificate number.
    pub q: Option<String>,
    pub organisation_id: Option<i64>,
    /// none, assistant, social_worker or senior
    pub level: Option<String>,
    /// full_time, part_time or left
    pub employment: Option<String>,
    /// A street served (id).
    pub street: Option<i64>,
    /// false: only workers whose certificate waits for the bureau; true: only verified ones.
    pub verified: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The filter as SQL; `scope` is the caller's [`CurrentUser::org_scope`].
fn filtered<'a>(
    scope: Option<i64>,
    f: &'a WorkerFilter,
) -> sw::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut q = sw::table.into_boxed();
    if let Some(own) = scope {
        q = q.filter(sw::organisation_id.eq(own));
    }
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pat = crate::db::like_pattern(s);
        q = q.filter(
            crate::db::lower(sw::name)
                .like(pat.clone())
                .escape('\\')
                .or(crate::db::lower(sw::certificate_number.assume_not_null())
                    .like(pat)
                    .escape('\\')),
        );
    }
    if let Some(id) = f.organisation_id.filter(|i| *i > 0) {
        q = q.filter(sw::organisation_id.eq(id));
    }
    if let Some(l) = f.level.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(sw::certificate_level.eq(l));
    }
    if let Some(e) = f.employment.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(sw::employment.eq(e));
    }
    match f.verified {
        Some(true) => q = q.filter(sw::verified_at.is_not_null()),
        Some(false) => q = q.filter(sw::verified_at.is_null()),
        None => {}
    }
    if let Some(s) = f.street.filter(|s| *s > 0) {
        q = q.filter(
            sw::id.eq_any(
                sws::table
                    .filter(sws::street_id.eq(s))
                    .select(sws::social_worker_id),
            ),
        );
    }
    q
}

pub fn list(
    conn: &mut DbConn,
    by: &CurrentUser,
    f: &WorkerFilter,
    paged: bool,
) -> Result<crate::db::Paged<WorkerView>, AppError> {
    if by.role == Role::Evaluator {
        return Err(AppError::Forbidden);
    }
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let scope = by.org_scope()?;
    let total: i64 = filtered(scope, f).count().get_result(conn)?;
    let mut q = filtered(scope, f).order((sw::name.asc(), sw::id.asc()));
    if paged {
        q = q.offset(paging.offset()).limit(paging.limit());
    }
    let rows = q.select(WorkerRow::as_select()).load(conn)?;
    Ok(paging.of(views(conn, by, rows)?, total))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountRow {
    /// A level key, an organisation id or a street id.
    pub key: String,
    pub label: String,
    /// Workers still employed (not `left`).
    pub workers: i64,
    /// Of which certified (any level but none).
    pub certified: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub by_level: Vec<CountRow>,
    pub by_organisation: Vec<CountRow>,
    pub by_street: Vec<CountRow>,
}

/// Counts of workers still employed, by level, by organisation and by street served (an `org` user: its
/// own only).
pub fn counts(conn: &mut DbConn, by: &CurrentUser, zh: bool) -> Result<Counts, AppError> {
    let mut q = sw::table
        .filter(sw::employment.ne("left"))
        .select((sw::id, sw::organisation_id, sw::certificate_level))
        .into_boxed();
    if let Some(own) = by.org_scope()? {
        q = q.filter(sw::organisation_id.eq(own));
    }
    let rows: Vec<(i64, i64, String)> = q.load(conn)?;
    let level_of: HashMap<i64, bool> = rows.iter().map(|(i, _, l)| (*i, l != "none")).collect();
    let by_level = LEVELS
        .iter()
        .map(|(k, z, e)| {
            let n = rows.iter().filter(|(_, _, l)| l == k).count() as i64;
            CountRow {
                key: k.to_string(),
                label: if zh { z } else { e }.to_string(),
                workers: n,
                certified: if *k == "none" { 0 } else { n },
            }
        })
        .collect();
    let mut per_org: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (_, org, l) in &rows {
        let e = per_org.entry(*org).or_default();
        e.0 += 1;
        e.1 += i64::from(l != "none");
    }
    // Names of the organisations that have workers only, not of the whole registry.
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let ids: Vec<i64> = per_org.keys().copied().collect();
    for chunk in ids.chunks(500) {
        names.extend(
            o::table
                .filter(o::id.eq_any(chunk))
                .select((o::id, o::name))
                .load::<(i64, String)>(conn)?,
        );
    }
    let mut by_organisation: Vec<CountRow> = per_org
        .into_iter()
        .map(|(id, (w, c))| CountRow {
            key: id.to_string(),
            label: names.get(&id).cloned().unwrap_or_default(),
            workers: w,
            certified: c,
        })
        .collect();
    by_organisation.sort_by(|a, b| b.workers.cmp(&a.workers).then(a.label.cmp(&b.label)));
    let links: Vec<(i64, i64)> = sws::table
        .select((sws::social_worker_id, sws::street_id))
        .load(conn)?;
    let streets: Vec<(i64, String, String)> = crate::registry::orgs::streets(conn)?;
    let by_street = streets
        .into_iter()
        .map(|(sid, _, name)| {
            let ws: Vec<bool> = links
                .iter()
                .filter(|(_, s)| *s == sid)
                .filter_map(|(w, _)| level_of.get(w).copied())
                .collect();
            CountRow {
                key: sid.to_string(),
                label: name,
                workers: ws.len() as i64,
                certified: ws.iter().filter(|c| **c).count() as i64,
            }
        })
        .collect();
    Ok(Counts {
        by_level,
        by_organisation,
        by_street,
    })
}
