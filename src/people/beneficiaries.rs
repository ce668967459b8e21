//! The people an organisation serves. Only the organisation itself reads them (its pseudonyms and any name
//! it keeps); everyone else sees counts. An identity number is checked (`domain::identity`), hashed with
//! the beneficiary secret into the shared `people` row that de-duplicates the person across organisations,
//! and dropped; a person who declines is registered under a pseudonym alone and is a person of their own.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::audit::{self, Actor};
use crate::db::schema::{beneficiaries as be, communities as cm, people as pp, streets as st};
use crate::db::{DbConn, Paged, Paging};
use crate::domain::identity;
use crate::domain::people as rules;
use crate::domain::vocab::term_label;
use crate::error::{AppError, Checks, FieldError};

/// A person to register. Give `id_number` (checked, hashed and discarded), or `pseudonym` alone when the
/// person declines to give it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBeneficiary {
    /// Resident identity number (18 characters; lower-case x and full-width digits are accepted). Never
    /// stored or returned.
    pub id_number: Option<String>,
    /// The organisation's own label for the person; `B` and a number when not given.
    pub pseudonym: Option<String>,
    /// A configured group code (`elderly`, `youth`, `disabled`, `assistance`, `other`); from the age when an
    /// identity number is given and this is not.
    pub group: Option<String>,
    /// `female`, `male` or `unstated`; from the identity number when given.
    pub gender: Option<String>,
    /// From the identity number when given.
    pub birth_year: Option<i32>,
    pub community_id: i64,
    /// A name, if the organisation keeps one: only it ever sees it.
    pub name: Option<String>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = be)]
pub struct BeneficiaryRow {
    pub id: i64,
    pub organisation_id: i64,
    pub person_id: i64,
    pub pseudonym: String,
    pub identified: bool,
    pub grp: String,
    pub gender: String,
    pub birth_year: Option<i32>,
    pub community_id: i64,
    pub name: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

/// A beneficiary as its own organisation sees it (nobody else is shown one).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BeneficiaryView {
    pub id: i64,
    pub pseudonym: String,
    /// Registered with an identity number (de-duplicated across organisations) or by pseudonym alone.
    pub identified: bool,
    pub group: String,
    pub group_label: String,
    pub gender: String,
    pub birth_year: Option<i32>,
    pub community_id: i64,
    pub community: String,
    pub street: String,
    pub name: Option<String>,
    /// Activities the person took part in (with this organisation).
    pub participations: i64,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

/// Filters of the beneficiary list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryFilter {
    /// Pseudonym or name, a part of it.
    pub q: Option<String>,
    pub group: Option<String>,
    pub community: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// An identity number, normalised and checked: the error names `field` and the rule.
pub fn checked_id_number(field: &str, raw: &str) -> Result<String, FieldError> {
    let n = identity::normalise_id(raw);
    identity::check_id_number(&n).map_err(|(rule, zh, en)| FieldError::new(field, rule, zh, en))?;
    Ok(n)
}

/// The `people` row of a checked identity number, made on first sight.
pub(super) fn person_of(conn: &mut DbConn, ctx: &Ctx, normalised: &str) -> Result<i64, AppError> {
    let h = identity::id_hash(ctx.secret.expose(), normalised);
    if let Some(id) = pp::table
        .filter(pp::id_hash.eq(&h))
        .select(pp::id)
        .first::<i64>(conn)
        .optional()?
    {
        return Ok(id);
    }
    Ok(diesel::insert_into(pp::table)
        .values(pp::id_hash.eq(Some(h)))
        .returning(pp::id)
        .get_result(conn)?)
}

/// The organisation's beneficiary for a checked identity number, if it has registered the person.
pub(super) fn own_by_number(
    conn: &mut DbConn,
    ctx: &Ctx,
    org: i64,
    normalised: &str,
) -> Result<Option<BeneficiaryRow>, AppError> {
    let h = identity::id_hash(ctx.secret.expose(), normalised);
    Ok(be::table
        .inner_join(pp::table)
        .filter(be::organisation_id.eq(org))
        .filter(pp::id_hash.eq(h))
        .select(BeneficiaryRow::as_select())
        .first(conn)
        .optional()?)
}

/// A checked registration, ready to store.
pub(super) struct Checked {
    pub number: Option<String>,
    pub pseudonym: Option<String>,
    pub group: String,
    pub gender: String,
    pub birth_year: Option<i32>,
    pub community_id: i64,
    pub name: Option<String>,
}

/// Check a registration; `prefix` names the fields (`participants[2].` in an activity).
pub(super) fn check(
    conn: &mut DbConn,
    ctx: &Ctx,
    c: &mut Checks,
    prefix: &str,
    year: i32,
    n: &NewBeneficiary,
) -> Result<Option<Checked>, AppError> {
    let f = |k: &str| format!("{prefix}{k}");
    let before = c.errors().len();
    let number = match n
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => match checked_id_number(&f("id_number"), raw) {
            Ok(n) => Some(n),
            Err(e) => {
                c.push(e);
                None
            }
        },
        None => None,
    };
    let pseudonym = n
        .pseudonym
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(p) = &pseudonym
        && !rules::pseudonym_ok(p)
    {
        c.add(
            &f("pseudonym"),
            "pseudonym",
            "代号为 1–32 个字母、数字、- 或 _，不含空格，不能是身份证号。",
            "A pseudonym is 1–32 letters, digits, - or _, without spaces, and never an identity number.",
        );
    }
    let birth_year = n
        .birth_year
        .or(number.as_deref().and_then(identity::birth_year));
    if let Some(y) = n.birth_year
        && !(1900..=year).contains(&y)
    {
        c.add(
            &f("birth_year"),
            "range",
            format!("出生年份须在 1900 至 {year} 之间。"),
            format!("The birth year lies between 1900 and {year}."),
        );
    }
    let group = match n.group.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(g) => g.to_string(),
        None => rules::default_group(birth_year, year).to_string(),
    };
    if !ctx.settings.groups.iter().any(|t| t.code == group) {
        let codes: Vec<&str> = ctx
            .settings
            .groups
            .iter()
            .map(|t| t.code.as_str())
            .collect();
        c.add(
            &f("group"),
            "one_of",
            format!("类别须为：{}。", codes.join("、")),
            format!("The group is one of: {}.", codes.join(", ")),
        );
    }
    let gender = match n.gender.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(g) => g.to_string(),
        None => number
            .as_deref()
            .and_then(identity::gender)
            .unwrap_or("unstated")
            .to_string(),
    };
    if !rules::GENDERS.iter().any(|(k, _, _)| *k == gender) {
        c.add(
            &f("gender"),
            "one_of",
            "性别须为 female、male 或 unstated。",
            "The gender is female, male or unstated.",
        );
    }
    let exists: bool = diesel::select(diesel::dsl::exists(
        cm::table.filter(cm::id.eq(n.community_id)),
    ))
    .get_result(conn)?;
    if !exists {
        c.add(
            &f("community_id"),
            "exists",
            "没有这个社区。",
            "There is no such community.",
        );
    }
    let name = n
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if name.as_ref().is_some_and(|s| s.chars().count() > 40) {
        c.add(
            &f("name"),
            "max_length",
            "至多 40 字。",
            "At most 40 characters.",
        );
    }
    if c.errors().len() > before {
        return Ok(None);
    }
    Ok(Some(Checked {
        number,
        pseudonym,
        group,
        gender,
        birth_year,
        community_id: n.community_id,
        name,
    }))
}

/// Store a checked registration (inside the caller's write transaction): 409 `registered` when the
/// organisation has this person already, 409 `pseudonym_taken` for a pseudonym in use.
pub(super) fn insert(
    conn: &mut DbConn,
    ctx: &Ctx,
    org: i64,
    user: i64,
    now: DateTime<Utc>,
    k: &Checked,
) -> Result<i64, AppError> {
    let person = match &k.number {
        Some(n) => {
            if let Some(b) = own_by_number(conn, ctx, org, n)? {
                return Err(AppError::conflict(
                    "registered",
                    format!("本机构已登记此人（代号 {}）。", b.pseudonym),
                    format!(
                        "Your organisation has registered this person already (pseudonym {}).",
                        b.pseudonym
                    ),
                ));
            }
            person_of(conn, ctx, n)?
        }
        None => diesel::insert_into(pp::table)
            .values(pp::id_hash.eq(None::<String>))
            .returning(pp::id)
            .get_result(conn)?,
    };
    if let Some(p) = &k.pseudonym {
        let taken: bool = diesel::select(diesel::dsl::exists(
            be::table
                .filter(be::organisation_id.eq(org))
                .filter(be::pseudonym.eq(p)),
        ))
        .get_result(conn)?;
        if taken {
            return Err(AppError::conflict(
                "pseudonym_taken",
                format!("代号 {p} 已在使用。"),
                format!("The pseudonym {p} is in use."),
            ));
        }
    }
    // A generated pseudonym is the row's own number; until it is known the person's id holds the place
    // (unique within the organisation, since a person is registered once by it).
    let placeholder = format!("~{person}");
    let id: i64 = diesel::insert_into(be::table)
        .values((
            be::organisation_id.eq(org),
            be::person_id.eq(person),
            be::pseudonym.eq(k.pseudonym.as_deref().unwrap_or(&placeholder)),
            be::identified.eq(k.number.is_some()),
            be::grp.eq(&k.group),
            be::gender.eq(&k.gender),
            be::birth_year.eq(k.birth_year),
            be::community_id.eq(k.community_id),
            be::name.eq(&k.name),
            be::created_by.eq(user),
            be::created_at.eq(crate::db::now_micros(now)),
        ))
        .returning(be::id)
        .get_result(conn)?;
    if k.pseudonym.is_none() {
        diesel::update(be::table.find(id))
            .set(be::pseudonym.eq(format!("B{id:06}")))
            .execute(conn)?;
    }
    Ok(id)
}

fn author(actor: &Actor) -> Result<i64, AppError> {
    actor
        .id
        .ok_or_else(|| AppError::internal("a registration without a signed-in user"))
}

/// Register a person the organisation serves: 201 with the view; 422 naming each bad field; 409 when
/// registered already. The audit event records the pseudonym and the group, never the number or a name.
pub fn register(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    org: i64,
    n: &NewBeneficiary,
) -> Result<BeneficiaryView, AppError> {
    let user = author(actor)?;
    let year = crate::clock::beijing_date(now).year();
    let id = crate::db::write_tx(conn, |conn| -> Result<i64, AppError> {
        let mut c = Checks::new();
        let k = check(conn, ctx, &mut c, "", year, n)?;
        c.finish()?;
        let k = k.expect("checked");
        let id = insert(conn, ctx, org, user, now, &k)?;
        audit::record(
            conn,
            actor,
            now,
            "beneficiary.register",
            "beneficiary",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({
                "organisation_id": org, "identified": k.number.is_some(), "group": k.group,
            })),
        )?;
        Ok(id)
    })?;
    get(conn, ctx, org, id)
}

/// One of the organisation's beneficiaries (404 for another's).
pub fn get(conn: &mut DbConn, ctx: &Ctx, org: i64, id: i64) -> Result<BeneficiaryView, AppError> {
    let row: BeneficiaryRow = be::table
        .find(id)
        .filter(be::organisation_id.eq(org))
        .select(BeneficiaryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(views(conn, ctx, vec![row])?.remove(0))
}

/// The organisation's beneficiary with this identity number (404 when it has none): how a phone finds a
/// person by typing or scanning the number. The number travels in a POST body, never a URL.
pub fn lookup(
    conn: &mut DbConn,
    ctx: &Ctx,
    org: i64,
    id_number: &str,
) -> Result<BeneficiaryView, AppError> {
    let n = checked_id_number("id_number", id_number).map_err(|e| AppError::Validation(vec![e]))?;
    let row = own_by_number(conn, ctx, org, &n)?.ok_or(AppError::NotFound)?;
    Ok(views(conn, ctx, vec![row])?.remove(0))
}

/// The organisation's beneficiaries, newest first, filtered and paged.
pub fn list(
    conn: &mut DbConn,
    ctx: &Ctx,
    org: i64,
    f: &BeneficiaryFilter,
) -> Result<Paged<BeneficiaryView>, AppError> {
    let paging = Paging::new(f.page, f.per_page);
    let filtered = || {
        let mut q = be::table.filter(be::organisation_id.eq(org)).into_boxed();
        if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = crate::db::like_pattern(t);
            q = q.filter(be::pseudonym.like(p.clone()).or(be::name.like(p)));
        }
        if let Some(g) = f.group.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(be::grp.eq(g.to_string()));
        }
        if let Some(c) = f.community {
            q = q.filter(be::community_id.eq(c));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<BeneficiaryRow> = filtered()
        .order(be::id.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select(BeneficiaryRow::as_select())
        .load(conn)?;
    Ok(paging.of(views(conn, ctx, rows)?, total))
}

fn views(
    conn: &mut DbConn,
    ctx: &Ctx,
    rows: Vec<BeneficiaryRow>,
) -> Result<Vec<BeneficiaryView>, AppError> {
    use crate::db::schema::participations as pa;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let places: Vec<(i64, String, String)> = cm::table
        .inner_join(st::table)
        .filter(cm::id.eq_any(rows.iter().map(|r| r.community_id).collect::<Vec<_>>()))
        .select((cm::id, cm::name, st::name))
        .load(conn)?;
    let counts: Vec<(i64, i64)> = pa::table
        .filter(pa::beneficiary_id.eq_any(&ids))
        .group_by(pa::beneficiary_id)
        .select((pa::beneficiary_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (community, street) = places
                .iter()
                .find(|p| p.0 == r.community_id)
                .map(|p| (p.1.clone(), p.2.clone()))
                .unwrap_or_default();
            BeneficiaryView {
                id: r.id,
                group_label: term_label(&ctx.settings.groups, &r.grp, true).to_string(),
                pseudonym: r.pseudonym,
                identified: r.identified,
                group: r.grp,
                gender: r.gender,
                birth_year: r.birth_year,
                community_id: r.community_id,
                community,
                street,
                name: r.name,
                participations: counts
                    .iter()
                    .find(|c| c.0 == r.id)
                    .map(|c| c.1)
                    .unwrap_or(0),
                created_at: r.created_at,
            }
        })
        .collect())
}
