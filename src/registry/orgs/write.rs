//! Writing an organisation: create, update (then its detail), and the identity change the bureau approves.

use super::*;

/// Write a clean organisation's search terms, fields and areas (after its row), or only those that differ
/// from `before` (an update; `None` writes all).
fn write_sets(conn: &mut DbConn, id: i64, c: &Clean, before: Option<&Clean>) -> QueryResult<()> {
    if before.is_none_or(|b| b.name != c.name || b.credit_code != c.credit_code) {
        write_terms(conn, id, &c.name, c.credit_code.as_deref())?;
    }
    if before.is_some_and(|b| b.fields == c.fields && b.areas == c.areas) {
        return Ok(());
    }
    diesel::delete(of::table.filter(of::organisation_id.eq(id))).execute(conn)?;
    diesel::delete(oa::table.filter(oa::organisation_id.eq(id))).execute(conn)?;
    for fld in &c.fields {
        diesel::insert_into(of::table)
            .values((of::organisation_id.eq(id), of::field.eq(fld)))
            .execute(conn)?;
    }
    for s in &c.areas {
        diesel::insert_into(oa::table)
            .values((oa::organisation_id.eq(id), oa::street_id.eq(s)))
            .execute(conn)?;
    }
    Ok(())
}

/// Insert a validated organisation (inside a write transaction); no audit (callers audit).
pub fn insert_clean(conn: &mut DbConn, ts: NaiveDateTime, c: &Clean) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(o::table)
        .values((
            o::name.eq(&c.name),
            o::kind.eq(&c.kind),
            o::registration.eq(&c.registration),
            o::credit_code.eq(&c.credit_code),
            o::registered_on.eq(c.registered_on),
            o::registration_authority.eq(&c.registration_authority),
            o::legal_representative.eq(&c.legal_representative),
            o::contact_name.eq(&c.contact_name),
            o::contact_phone.eq(&c.contact_phone),
            o::contact_email.eq(&c.contact_email),
            o::address.eq(&c.address),
            o::street_id.eq(c.street_id),
            o::staff_count.eq(c.staff_count),
            o::volunteer_count.eq(c.volunteer_count),
            o::created_at.eq(ts),
            o::updated_at.eq(ts),
        ))
        .returning(o::id)
        .get_result(conn)?;
    write_sets(conn, id, c, None)?;
    Ok(id)
}

fn clean_json(c: &Clean) -> serde_json::Value {
    serde_json::json!({
        "name": c.name, "kind": c.kind, "registration": c.registration, "credit_code": c.credit_code,
        "registered_on": c.registered_on, "registration_authority": c.registration_authority,
        "legal_representative": c.legal_representative, "contact_name": c.contact_name,
        "contact_phone": c.contact_phone, "contact_email": c.contact_email, "address": c.address,
        "street_id": c.street_id, "staff_count": c.staff_count, "volunteer_count": c.volunteer_count,
        "fields": c.fields, "area_street_ids": c.areas,
    })
}

fn input_of(conn: &mut DbConn, r: &OrgRow) -> QueryResult<OrgInput> {
    let fields = of::table
        .filter(of::organisation_id.eq(r.id))
        .order(of::field)
        .select(of::field)
        .load(conn)?;
    let areas = oa::table
        .filter(oa::organisation_id.eq(r.id))
        .order(oa::street_id)
        .select(oa::street_id)
        .load(conn)?;
    Ok(OrgInput {
        name: r.name.clone(),
        kind: r.kind.clone(),
        registration: r.registration.clone(),
        credit_code: r.credit_code.clone(),
        registered_on: r.registered_on.map(|d| d.to_string()),
        registration_authority: r.registration_authority.clone(),
        legal_representative: r.legal_representative.clone(),
        contact_name: r.contact_name.clone(),
        contact_phone: r.contact_phone.clone(),
        contact_email: r.contact_email.clone(),
        address: r.address.clone(),
        street_id: r.street_id,
        staff_count: Some(r.staff_count.into()),
        volunteer_count: Some(r.volunteer_count.into()),
        fields,
        area_street_ids: areas,
    })
}

/// The current state as an input (for forms and merges).
pub fn current_input(conn: &mut DbConn, id: i64) -> Result<OrgInput, AppError> {
    let r = find(conn, id)?;
    Ok(input_of(conn, &r)?)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    inp: &OrgInput,
) -> Result<OrgRow, AppError> {
    let today = beijing_date(now);
    let mut checks = Checks::new();
    let clean = validate(conn, inp, None, today, &mut checks, &|s| s.to_string())?;
    checks.finish()?;
    let c = clean.expect("validated");
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let id = insert_clean(conn, ts, &c)?;
        redecide(conn, &[id], beijing_date(now), rules)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.create",
            "organisation",
            Some(id.to_string()),
            None,
            Some(clean_json(&c)),
        )?;
        find(conn, id)
    })
}

/// Apply an update to a state: `patch` fields that are `Some` replace the current ones.
fn merge(mut cur: OrgInput, p: &OrgPatch) -> OrgInput {
    macro_rules! take {
        ($($f:ident),*) => {$( if let Some(v) = &p.$f { cur.$f = v.clone(); } )*};
    }
    macro_rules! take_opt {
        ($($f:ident),*) => {$( if let Some(v) = &p.$f { cur.$f = Some(v.clone()); } )*};
    }
    take!(name, kind, registration);
    take_opt!(
        credit_code,
        registered_on,
        registration_authority,
        legal_representative,
        contact_name,
        contact_phone,
        contact_email,
        address
    );
    if let Some(v) = p.street_id {
        cur.street_id = (v > 0).then_some(v);
    }
    if let Some(v) = p.staff_count {
        cur.staff_count = Some(v);
    }
    if let Some(v) = p.volunteer_count {
        cur.volunteer_count = Some(v);
    }
    if let Some(v) = &p.fields {
        cur.fields = v.clone();
    }
    if let Some(v) = &p.area_street_ids {
        cur.area_street_ids = v.clone();
    }
    cur
}

/// Result of an update: the organisation, and the change request an org user's identity change created.
#[derive(Debug, Clone)]
pub struct Updated {
    pub row: OrgRow,
    pub change_request: Option<crate::registry::changes::ChangeRequestRow>,
}

/// Change an organisation. The bureau and administrators change anything; an `org` user (its own
/// organisation only) changes contacts, counts, fields and areas, and a change of name, kind or credit code
/// becomes a pending change request. The current state is read under the row lock, inside the write
/// transaction, so two concurrent changes of different fields both land and each audit event's `before` is
/// what the change really replaced; `expect` (a version from [`version`]) refuses the change with 412 when
/// someone else changed the organisation since it was read.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the change"
)]
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    by: &CurrentUser,
    id: i64,
    p: &OrgPatch,
    expect: Option<&str>,
) -> Result<Updated, AppError> {
    check_access(by, id)?;
    if !super::may_change(by, id) {
        return Err(AppError::Forbidden);
    }
    let today = beijing_date(now);
    let is_org = by.role == Role::Org;
    let mut checks = Checks::new();
    if is_org {
        let bureau_only: [(&str, bool); 6] = [
            ("registration", p.registration.is_some()),
            ("registered_on", p.registered_on.is_some()),
            ("registration_authority", p.registration_authority.is_some()),
            ("legal_representative", p.legal_representative.is_some()),
            ("address", p.address.is_some()),
            ("street_id", p.street_id.is_some()),
        ];
        for (field, given) in bureau_only {
            if given {
                checks.add(
                    field,
                    "bureau_only",
                    "此项由民政局维护，组织用户不能修改。",
                    "The bureau keeps this field; an organisation cannot change it.",
                );
            }
        }
    }
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "organisations", id)?;
        let before_row = find(conn, id)?;
        let before = input_of(conn, &before_row)?;
        crate::version::check(expect, &before)?;
        let merged = merge(before.clone(), p);
        let clean = validate(conn, &merged, Some(id), today, &mut checks, &|s| {
            s.to_string()
        })?;
        checks.finish()?;
        let mut c = clean.expect("validated");
        let ts = crate::db::now_micros(now);
        // An org user's identity change waits for the bureau: keep the current identity now.
        let mut proposal = serde_json::Map::new();
        if is_org {
            if c.name != before_row.name {
                proposal.insert("name".into(), c.name.clone().into());
                c.name = before_row.name.clone();
            }
            if c.kind != before_row.kind {
                proposal.insert("kind".into(), c.kind.clone().into());
                c.kind = before_row.kind.clone();
            }
            if c.credit_code != before_row.credit_code {
                proposal.insert(
                    "credit_code".into(),
                    c.credit_code
                        .clone()
                        .map(Into::into)
                        .unwrap_or(serde_json::Value::Null),
                );
                c.credit_code = before_row.credit_code.clone();
            }
            // The certified-share rule divides by it (`domain::facts`).
            if c.staff_count != before_row.staff_count {
                proposal.insert("staff_count".into(), c.staff_count.into());
                c.staff_count = before_row.staff_count;
            }
        }
        let before_clean = validate(conn, &before, Some(id), today, &mut Checks::new(), &|s| {
            s.to_string()
        })?;
        let before_json = before_clean
            .as_ref()
            .map(clean_json)
            .unwrap_or_else(|| serde_json::to_value(&before).unwrap_or_default());
        diesel::update(o::table.find(id))
            .set((
                o::name.eq(&c.name),
                o::kind.eq(&c.kind),
                o::registration.eq(&c.registration),
                o::credit_code.eq(&c.credit_code),
                o::registered_on.eq(c.registered_on),
                o::registration_authority.eq(&c.registration_authority),
                o::legal_representative.eq(&c.legal_representative),
                o::contact_name.eq(&c.contact_name),
                o::contact_phone.eq(&c.contact_phone),
                o::contact_email.eq(&c.contact_email),
                o::address.eq(&c.address),
                o::street_id.eq(c.street_id),
                o::staff_count.eq(c.staff_count),
                o::volunteer_count.eq(c.volunteer_count),
                o::updated_at.eq(ts),
            ))
            .execute(conn)?;
        write_sets(conn, id, &c, before_clean.as_ref())?;
        // The standing reads only these columns of the row (`views::facts_of`); the rest leave it as it is.
        if c.registration != before_row.registration || c.credit_code != before_row.credit_code {
            redecide(conn, &[id], beijing_date(now), rules)?;
        }
        let after_json = clean_json(&c);
        if after_json != before_json {
            audit::record(
                conn,
                actor,
                now,
                "organisation.update",
                "organisation",
                Some(id.to_string()),
                Some(before_json),
                Some(after_json),
            )?;
        }
        let cr = if proposal.is_empty() {
            None
        } else {
            Some(crate::registry::changes::create_in_tx(
                conn, actor, now, id, by.id, proposal,
            )?)
        };
        Ok(Updated {
            row: find(conn, id)?,
            change_request: cr,
        })
    })
}

/// The organisation's version (`crate::version`): of the state an update starts from.
pub fn version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(crate::version::of(&current_input(conn, id)?))
}

/// Apply an approved identity change (name, kind, credit code) inside the caller's transaction; validates
/// the result again (the code may have been taken meanwhile).
pub fn apply_identity_change(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: standing::Rules,
    id: i64,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), AppError> {
    let before = current_input(conn, id)?;
    let mut p = OrgPatch::default();
    if let Some(v) = changes.get("name").and_then(|v| v.as_str()) {
        p.name = Some(v.to_string());
    }
    if let Some(v) = changes.get("kind").and_then(|v| v.as_str()) {
        p.kind = Some(v.to_string());
    }
    if let Some(v) = changes.get("credit_code") {
        p.credit_code = Some(v.as_str().unwrap_or("").to_string());
    }
    if let Some(v) = changes.get("staff_count").and_then(|v| v.as_i64()) {
        p.staff_count = Some(v);
    }
    let merged = merge(before.clone(), &p);
    let mut checks = Checks::new();
    let clean = validate(
        conn,
        &merged,
        Some(id),
        beijing_date(now),
        &mut checks,
        &|s| s.to_string(),
    )?;
    checks.finish()?;
    let c = clean.expect("validated");
    diesel::update(o::table.find(id))
        .set((
            o::name.eq(&c.name),
            o::kind.eq(&c.kind),
            o::credit_code.eq(&c.credit_code),
            o::staff_count.eq(c.staff_count),
            o::updated_at.eq(crate::db::now_micros(now)),
        ))
        .execute(conn)?;
    write_terms(conn, id, &c.name, c.credit_code.as_deref())?;
    redecide(conn, &[id], beijing_date(now), rules)?;
    audit::record(
        conn,
        actor,
        now,
        "organisation.identity_change",
        "organisation",
        Some(id.to_string()),
        Some(
            serde_json::json!({"name": before.name, "kind": before.kind, "credit_code": before.credit_code, "staff_count": before.staff_count}),
        ),
        Some(
            serde_json::json!({"name": c.name, "kind": c.kind, "credit_code": c.credit_code, "staff_count": c.staff_count}),
        ),
    )?;
    Ok(())
}

/// What a change of an organisation answers: the organisation as it now is, and the change request when
/// an `org` user changed its name, kind or credit code (which waits for the bureau).
#[derive(Serialize, Debug, utoipa::ToSchema)]
pub struct UpdateResult {
    pub organisation: OrgDetail,
    pub change_request: Option<crate::registry::changes::ChangeRequestView>,
}

/// [`update`], then the organisation's detail, in one call for the API and the pages.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the change"
)]
pub fn update_with_detail(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    by: &CurrentUser,
    id: i64,
    p: &OrgPatch,
    today: NaiveDate,
    rules: standing::Rules,
    expect: Option<&str>,
) -> Result<UpdateResult, AppError> {
    let u = update(conn, actor, now, rules, by, id, p, expect)?;
    let organisation = detail(conn, id, today, rules)?;
    Ok(UpdateResult {
        change_request: u.change_request.map(|r| {
            crate::registry::changes::ChangeRequestView::of(
                r,
                organisation.organisation.name.clone(),
            )
        }),
        organisation,
    })
}
