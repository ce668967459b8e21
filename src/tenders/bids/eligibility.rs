//! Who may bid: what the registry says about an organisation, and every reason it may not bid.

use super::*;

/// What the registry says about an organisation, for tender eligibility.
pub fn org_facts(
    conn: &mut DbConn,
    org: impl Into<OrgId>,
    today: chrono::NaiveDate,
) -> QueryResult<rules::OrgFacts> {
    let org_id = org.into().get();
    // The latest decision counts, a downgrade or a revocation included (民政部令第39号 Art 30), not the
    // highest grade in force.
    let decisions: Vec<(Option<i32>, chrono::NaiveDate, chrono::NaiveDate)> =
        organisation_ratings::table
            .filter(organisation_ratings::organisation_id.eq(org_id))
            .order((organisation_ratings::awarded_on, organisation_ratings::id))
            .select((
                organisation_ratings::grade,
                organisation_ratings::awarded_on,
                organisation_ratings::expires_on,
            ))
            .load(conn)?;
    let decisions: Vec<crate::domain::standing::RatingFact> = decisions
        .into_iter()
        .map(
            |(grade, awarded_on, expires_on)| crate::domain::standing::RatingFact {
                grade,
                awarded_on,
                expires_on,
            },
        )
        .collect();
    let rating = crate::domain::standing::current_rating(&decisions, today);
    let staff: i32 = organisations::table
        .find(org_id)
        .select(organisations::staff_count)
        .first(conn)?;
    let worker_levels: Vec<String> = social_workers::table
        .filter(social_workers::organisation_id.eq(org_id))
        .filter(social_workers::employment.ne("left"))
        .select(social_workers::certificate_level)
        .load(conn)?;
    Ok(rules::OrgFacts {
        rating,
        staff,
        worker_levels,
    })
}

/// Every reason an organisation may not bid on (or be awarded) this tender: barred standing (each reason),
/// not invited, a single source's 公示 still running or an objection unanswered or upheld, and each unmet
/// eligibility rule. Empty when it may.
pub fn refusals(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    org: impl Into<OrgId>,
    today: chrono::NaiveDate,
) -> Result<Vec<FieldError>, AppError> {
    let org_id = org.into().get();
    let mut out = Vec::new();
    let standing = crate::registry::orgs::standing_of(conn, org_id, today, ctx.standing)?;
    if standing.status == Status::Barred {
        for r in standing
            .reasons
            .iter()
            .filter(|r| r.status == Status::Barred)
        {
            out.push(FieldError::new("standing", r.code, &r.zh, &r.en));
        }
    }
    if matches!(t.method(), Method::Invited | Method::SingleSource)
        && !t.invited().contains(&org_id)
    {
        out.push(FieldError::new(
            "invited",
            "not_invited",
            "本项目仅限受邀组织投标。",
            "Only invited organisations may bid on this tender.",
        ));
    }
    // A single source with its 公示 takes the response only once it may proceed (实施条例 Art 38).
    out.extend(super::super::single_source::refusal(conn, ctx, t, today)?);
    out.extend(super::broken_errors(rules::unmet(
        &t.eligibility(),
        &org_facts(conn, org_id, today)?,
    )));
    Ok(out)
}
