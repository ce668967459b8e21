//! What an organisation shows: its related facts, standing and view, and its detail.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Views and standing

pub(super) struct Related {
    fields: HashMap<i64, Vec<String>>,
    areas: HashMap<i64, Vec<i64>>,
    ratings: HashMap<i64, Vec<RatingRow>>,
    inspections: HashMap<i64, Vec<InspectionRow>>,
    listings: HashMap<i64, Vec<ListingRow>>,
    streets: HashMap<i64, String>,
}

pub(super) fn load_related(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Related> {
    let mut r = Related {
        fields: HashMap::new(),
        areas: HashMap::new(),
        ratings: HashMap::new(),
        inspections: HashMap::new(),
        listings: HashMap::new(),
        streets: st::table
            .select((st::id, st::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect(),
    };
    // Chunks keep the IN lists within both backends' limits.
    for chunk in ids.chunks(500) {
        for (id, f) in of::table
            .filter(of::organisation_id.eq_any(chunk))
            .order((of::organisation_id, of::field))
            .select((of::organisation_id, of::field))
            .load::<(i64, String)>(conn)?
        {
            r.fields.entry(id).or_default().push(f);
        }
        for (id, s) in oa::table
            .filter(oa::organisation_id.eq_any(chunk))
            .order((oa::organisation_id, oa::street_id))
            .select((oa::organisation_id, oa::street_id))
            .load::<(i64, i64)>(conn)?
        {
            r.areas.entry(id).or_default().push(s);
        }
        for x in ora::table
            .filter(ora::organisation_id.eq_any(chunk))
            .order((ora::awarded_on.desc(), ora::id.desc()))
            .select(RatingRow::as_select())
            .load(conn)?
        {
            r.ratings.entry(x.organisation_id).or_default().push(x);
        }
        for x in oi::table
            .filter(oi::organisation_id.eq_any(chunk))
            .order(oi::year.desc())
            .select(InspectionRow::as_select())
            .load(conn)?
        {
            r.inspections.entry(x.organisation_id).or_default().push(x);
        }
        for x in cl::table
            .filter(cl::organisation_id.eq_any(chunk))
            .order((cl::listed_on.desc(), cl::id.desc()))
            .select(ListingRow::as_select())
            .load(conn)?
        {
            r.listings.entry(x.organisation_id).or_default().push(x);
        }
    }
    Ok(r)
}

fn registration_of(s: &str) -> standing::Registration {
    match s {
        "registered" => standing::Registration::Registered,
        "filed" => standing::Registration::Filed,
        _ => standing::Registration::Unregistered,
    }
}

pub(super) fn facts_of(row: &OrgRow, rel: &Related) -> standing::Facts {
    standing::Facts {
        registration: registration_of(&row.registration),
        foundation: row.kind == "foundation",
        registered_on: row.registered_on,
        has_credit_code: row.credit_code.is_some(),
        ratings: rating_facts(rel.ratings.get(&row.id).map(Vec::as_slice).unwrap_or(&[])),
        inspections: rel
            .inspections
            .get(&row.id)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                Some(standing::InspectionFact {
                    year: i.year,
                    conclusion: standing::Conclusion::parse(&i.conclusion)?,
                })
            })
            .collect(),
        listings: rel
            .listings
            .get(&row.id)
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(standing::ListingFact {
                    list: standing::ListKind::parse(&l.list)?,
                    listed_on: l.listed_on,
                    removed_on: l.removed_on,
                })
            })
            .collect(),
    }
}

/// The rating decisions in recorded order (`r` is newest first), as [`standing::current_rating`] wants.
pub(super) fn rating_facts(r: &[RatingRow]) -> Vec<standing::RatingFact> {
    r.iter()
        .rev()
        .map(|r| standing::RatingFact {
            grade: r.grade,
            awarded_on: r.awarded_on,
            expires_on: r.expires_on,
        })
        .collect()
}

fn view_of(row: OrgRow, rel: &Related, today: NaiveDate, rules: standing::Rules) -> OrgView {
    let facts = facts_of(&row, rel);
    let standing = standing::decide(&facts, today, rules);
    let current_rating = standing::current_rating(&facts.ratings, today);
    OrgView {
        street_name: row.street_id.and_then(|s| rel.streets.get(&s).cloned()),
        fields: rel.fields.get(&row.id).cloned().unwrap_or_default(),
        area_street_ids: rel.areas.get(&row.id).cloned().unwrap_or_default(),
        current_rating,
        standing,
        id: row.id,
        name: row.name,
        kind: row.kind,
        registration: row.registration,
        credit_code: row.credit_code,
        registered_on: row.registered_on,
        registration_authority: row.registration_authority,
        legal_representative: row.legal_representative,
        contact_name: row.contact_name,
        contact_phone: row.contact_phone,
        contact_email: row.contact_email,
        address: row.address,
        street_id: row.street_id,
        staff_count: row.staff_count,
        volunteer_count: row.volunteer_count,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub fn views(
    conn: &mut DbConn,
    rows: Vec<OrgRow>,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Vec<OrgView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let rel = load_related(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| view_of(r, &rel, today, rules))
        .collect())
}

pub fn detail(
    conn: &mut DbConn,
    id: i64,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<OrgDetail, AppError> {
    let row = find(conn, id)?;
    let mut rel = load_related(conn, &[id])?;
    let ratings = rel.ratings.get(&id).cloned().unwrap_or_default();
    let inspections = rel.inspections.get(&id).cloned().unwrap_or_default();
    let listings = rel.listings.get(&id).cloned().unwrap_or_default();
    let organisation = view_of(row, &rel, today, rules);
    rel.ratings.clear();
    Ok(OrgDetail {
        organisation,
        ratings,
        inspections,
        listings,
    })
}

/// The standing of one organisation today: the one function tender eligibility also calls.
pub fn standing_of(
    conn: &mut DbConn,
    id: i64,
    today: NaiveDate,
    rules: standing::Rules,
) -> Result<Standing, AppError> {
    let row = find(conn, id)?;
    let rel = load_related(conn, &[id])?;
    Ok(standing::decide(&facts_of(&row, &rel), today, rules))
}
