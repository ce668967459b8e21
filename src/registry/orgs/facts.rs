//! The standing facts of an organisation: ratings, inspections and credit listings.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Ratings, inspections, credit listings

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewRating {
    #[serde(default)]
    pub organisation_id: i64,
    /// 1–5 (1A–5A); absent (0) for a revocation.
    #[serde(default)]
    pub grade: i64,
    /// YYYY-MM-DD, the decision's date; an awarded rating expires five years later.
    #[serde(default)]
    pub awarded_on: String,
    /// `award` (the default) or `revocation` (撤销等级, 民政部令第39号 Art 30): from its date the organisation
    /// has no rating in force.
    #[serde(default)]
    pub decision: String,
    /// Why the decision was taken; required for a revocation.
    #[serde(default)]
    pub reason: Option<String>,
}

pub fn add_rating(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    r: &NewRating,
) -> Result<RatingRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let mut checks = Checks::new();
    let revocation = match r.decision.as_str() {
        "" | "award" => false,
        "revocation" => true,
        _ => {
            checks.add(
                "decision",
                "one_of",
                "评估决定须为 award（评定等级）或 revocation（撤销等级）。",
                "The decision is award or revocation.",
            );
            false
        }
    };
    let reason = r.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if reason.is_some_and(|s| s.chars().count() > 500) {
        checks.add(
            "reason",
            "max_length",
            "理由最多 500 字。",
            "At most 500 characters.",
        );
    }
    if revocation {
        if r.grade != 0 {
            checks.add(
                "grade",
                "revocation_no_grade",
                "撤销等级不评定新的等级。",
                "A revocation awards no grade.",
            );
        }
    } else if !(1..=5).contains(&r.grade) {
        checks.add(
            "grade",
            "range",
            "等级须为 1 至 5（1A–5A）。",
            "The grade is 1 to 5 (1A–5A).",
        );
    }
    let awarded = if checks.required("awarded_on", &r.awarded_on) {
        checks.date("awarded_on", Some(&r.awarded_on))
    } else {
        None
    };
    if awarded.is_some_and(|d| d > beijing_date(now)) {
        checks.add(
            "awarded_on",
            "not_future",
            "评定日期不能晚于今天。",
            "The award date cannot be in the future.",
        );
    }
    if org.registration != "registered" {
        checks.add(
            "organisation_id",
            "registered",
            "只有已登记的组织可参加等级评估。",
            "Only registered organisations are rated.",
        );
    }
    if revocation && let Some(day) = awarded {
        // The rating in force on the revocation's day, from the decisions recorded so far.
        let rows: Vec<RatingRow> = ora::table
            .filter(ora::organisation_id.eq(org.id))
            .order((ora::awarded_on.desc(), ora::id.desc()))
            .select(RatingRow::as_select())
            .load(conn)?;
        let in_force = standing::current_rating(&super::views::rating_facts(&rows), day);
        for (field, rule, zh, en) in standing::check_revocation(reason.unwrap_or(""), in_force) {
            checks.add(field, rule, zh, en);
        }
    }
    checks.finish()?;
    let awarded = awarded.expect("checked");
    // A revocation has no period of validity: it counts from its day until a later decision.
    let (grade, expires, decision) = if revocation {
        (None, awarded, "revocation")
    } else {
        (
            Some(r.grade as i32),
            standing::rating_expiry(awarded),
            "award",
        )
    };
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(ora::table)
            .values((
                ora::organisation_id.eq(org.id),
                ora::grade.eq(grade),
                ora::awarded_on.eq(awarded),
                ora::expires_on.eq(expires),
                ora::created_at.eq(ts),
                ora::decision.eq(decision),
                ora::reason.eq(reason),
            ))
            .returning(ora::id)
            .get_result(conn)?;
        let row: RatingRow = ora::table
            .find(id)
            .select(RatingRow::as_select())
            .first(conn)?;
        fact_changed(conn, actor, now, rules, org.id, "rating_add", None, &row)?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewInspection {
    #[serde(default)]
    pub organisation_id: i64,
    #[serde(default)]
    pub year: i64,
    /// inspection (年检) or annual_report (年报)
    #[serde(default)]
    pub kind: String,
    /// pass (合格), basic_pass (基本合格) or fail (不合格)
    #[serde(default)]
    pub conclusion: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub decided_on: String,
}

pub fn add_inspection(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    r: &NewInspection,
) -> Result<InspectionRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let today = beijing_date(now);
    let mut checks = Checks::new();
    if !(1990..=i64::from(today.year())).contains(&r.year) {
        checks.add(
            "year",
            "range",
            format!("年度须在 1990 至 {} 之间。", today.year()),
            format!("The year is between 1990 and {}.", today.year()),
        );
    } else {
        let exists: Option<i64> = oi::table
            .filter(oi::organisation_id.eq(org.id))
            .filter(oi::year.eq(r.year as i32))
            .select(oi::id)
            .first(conn)
            .optional()?;
        if exists.is_some() {
            checks.add(
                "year",
                "unique",
                "该年度已有年检或年报记录。",
                "This year already has an inspection or report.",
            );
        }
    }
    if checks.required("kind", &r.kind) && !one_of(INSPECTION_KINDS, &r.kind) {
        checks.add(
            "kind",
            "one_of",
            "类型须为 inspection 或 annual_report。",
            "Kind must be inspection or annual_report.",
        );
    }
    if checks.required("conclusion", &r.conclusion) && !one_of(CONCLUSIONS, &r.conclusion) {
        checks.add(
            "conclusion",
            "one_of",
            "结论须为 pass、basic_pass 或 fail。",
            "Conclusion must be pass, basic_pass or fail.",
        );
    }
    let decided = if checks.required("decided_on", &r.decided_on) {
        checks.date("decided_on", Some(&r.decided_on))
    } else {
        None
    };
    if decided.is_some_and(|d| d > today) {
        checks.add(
            "decided_on",
            "not_future",
            "日期不能晚于今天。",
            "The date cannot be in the future.",
        );
    }
    checks.finish()?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(oi::table)
            .values((
                oi::organisation_id.eq(org.id),
                oi::year.eq(r.year as i32),
                oi::kind.eq(&r.kind),
                oi::conclusion.eq(&r.conclusion),
                oi::decided_on.eq(decided.expect("checked")),
                oi::created_at.eq(ts),
            ))
            .returning(oi::id)
            .get_result(conn)?;
        let row: InspectionRow = oi::table
            .find(id)
            .select(InspectionRow::as_select())
            .first(conn)?;
        fact_changed(
            conn,
            actor,
            now,
            rules,
            org.id,
            "inspection_add",
            None,
            &row,
        )?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewListing {
    #[serde(default)]
    pub organisation_id: i64,
    /// dishonesty, court_defaulter, debarment, abnormal or tax_dishonesty
    #[serde(default)]
    pub list: String,
    /// Who listed it (e.g. 信用中国, 人民法院).
    #[serde(default)]
    pub source: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub listed_on: String,
    /// SHA-256 of the evidence file, 64 hex digits.
    #[serde(default)]
    pub evidence_sha256: String,
}

pub fn add_listing(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    r: &NewListing,
) -> Result<ListingRow, AppError> {
    let org = find(conn, r.organisation_id)?;
    let mut checks = Checks::new();
    if checks.required("list", &r.list) && !one_of(LISTS, &r.list) {
        checks.add(
            "list",
            "one_of",
            format!("名单须为：{}。", keys(LISTS)),
            format!("List must be one of: {}.", keys(LISTS)),
        );
    }
    if checks.required("source", &r.source) && r.source.trim().chars().count() > 100 {
        checks.add(
            "source",
            "max_length",
            "最多 100 个字符。",
            "At most 100 characters.",
        );
    }
    let listed = if checks.required("listed_on", &r.listed_on) {
        checks.date("listed_on", Some(&r.listed_on))
    } else {
        None
    };
    if listed.is_some_and(|d| d > beijing_date(now)) {
        checks.add(
            "listed_on",
            "not_future",
            "日期不能晚于今天。",
            "The date cannot be in the future.",
        );
    }
    let hash = r.evidence_sha256.trim().to_ascii_lowercase();
    if checks.required("evidence_sha256", &hash) && !crate::domain::text::is_sha256_hex(&hash) {
        checks.add(
            "evidence_sha256",
            "sha256",
            "证据文件哈希应为 64 位十六进制 SHA-256。",
            "The evidence hash is a SHA-256 of 64 hexadecimal digits.",
        );
    }
    checks.finish()?;
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id: i64 = diesel::insert_into(cl::table)
            .values((
                cl::organisation_id.eq(org.id),
                cl::list.eq(&r.list),
                cl::source.eq(r.source.trim()),
                cl::listed_on.eq(listed.expect("checked")),
                cl::evidence_sha256.eq(&hash),
                cl::created_at.eq(ts),
            ))
            .returning(cl::id)
            .get_result(conn)?;
        let row: ListingRow = cl::table
            .find(id)
            .select(ListingRow::as_select())
            .first(conn)?;
        fact_changed(conn, actor, now, rules, org.id, "listing_add", None, &row)?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ListingRemoval {
    /// YYYY-MM-DD, not before the listing date.
    #[serde(default)]
    pub removed_on: String,
}

pub fn remove_listing(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    id: i64,
    r: &ListingRemoval,
) -> Result<ListingRow, AppError> {
    // Read and checked under the row lock: two removals at once cannot both pass "not yet removed".
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "credit_listings", id)?;
        let before: ListingRow = cl::table
            .find(id)
            .select(ListingRow::as_select())
            .first(conn)?;
        let mut checks = Checks::new();
        let d = if checks.required("removed_on", &r.removed_on) {
            checks.date("removed_on", Some(&r.removed_on))
        } else {
            None
        };
        if let Some(d) = d {
            if d < before.listed_on {
                checks.add(
                    "removed_on",
                    "after_listing",
                    "移出日期不能早于列入日期。",
                    "The removal date cannot be before the listing date.",
                );
            }
            if d > beijing_date(now) {
                checks.add(
                    "removed_on",
                    "not_future",
                    "日期不能晚于今天。",
                    "The date cannot be in the future.",
                );
            }
        }
        if before.removed_on.is_some() {
            checks.add(
                "removed_on",
                "already_removed",
                "该记录已移出。",
                "This listing has already been removed.",
            );
        }
        checks.finish()?;
        diesel::update(cl::table.find(id))
            .set(cl::removed_on.eq(d))
            .execute(conn)?;
        let after: ListingRow = cl::table
            .find(id)
            .select(ListingRow::as_select())
            .first(conn)?;
        let org_id = before.organisation_id;
        fact_changed(
            conn,
            actor,
            now,
            rules,
            org_id,
            "listing_remove",
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

/// A fact the standing rule reads was added or changed: re-decide the organisation's standing and audit
/// the change, both in the caller's transaction, so the stored standing never lags its facts.
#[expect(
    clippy::too_many_arguments,
    reason = "the transaction, who and when, the rules, and the audit event's parts"
)]
fn fact_changed<T: Serialize>(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    org_id: i64,
    action: &str,
    before: Option<&T>,
    after: &T,
) -> Result<(), AppError> {
    redecide(conn, &[org_id], beijing_date(now), rules)?;
    let json = |v: &T| serde_json::to_value(v).unwrap_or_default();
    audit::record(
        conn,
        actor,
        now,
        &format!("organisation.{action}"),
        "organisation",
        Some(org_id.to_string()),
        before.map(json),
        Some(json(after)),
    )?;
    Ok(())
}
