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
        // An organisation's claim counts once the bureau has verified it (`domain::facts`).
        .filter(social_workers::verified_at.is_not_null())
        .select(social_workers::certificate_level)
        .load(conn)?;
    Ok(rules::OrgFacts {
        rating,
        staff,
        worker_levels,
    })
}

/// Every reason an organisation may not bid on (or be awarded) this tender: barred standing (each reason),
/// not invited, a related organisation bidding already (实施条例 Art 18), a single source's 公示 still
/// running or an objection unanswered or upheld (实施条例 Art 38), and each unmet eligibility rule. Empty
/// when it may.
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
    if !rules::may_take_part(t.method(), &t.invited(), org_id) {
        out.push(FieldError::new(
            "invited",
            "not_invited",
            "本项目仅限受邀组织投标。",
            "Only invited organisations may bid on this tender.",
        ));
    }
    if let Some(e) = related_refusal(conn, t.id, org_id)? {
        out.push(e);
    }
    // A single source with its 公示 takes the response only once it may proceed (实施条例 Art 38).
    out.extend(super::super::single_source::refusal(conn, ctx, t, today)?);
    out.extend(super::broken_errors(rules::unmet(
        &t.eligibility(),
        &org_facts(conn, org_id, today)?,
    )));
    Ok(out)
}

/// The refusal of a related supplier (实施条例 Art 18): an organisation linked to one that already has an
/// active bid on the tender (submitted before this one's own, if it has one) may not bid. Withdrawn,
/// replaced and disqualified bids do not count. Called inside the bid's write transaction, under the
/// tender's lock, so two related organisations bidding at once cannot both get in.
///
/// The message names the organisation that bid first, although who bid on a sealed tender is otherwise
/// no one's business but the bidder's: the law requires the refusal, and a refusal without the name could
/// not be understood or contested. It is shown only to this organisation, which the bureau has recorded
/// as related (the same responsible person, or one controlling the other), so it already knows the other.
fn related_refusal(
    conn: &mut DbConn,
    tender_id: i64,
    org_id: i64,
) -> Result<Option<FieldError>, AppError> {
    let links = crate::registry::orgs::links_among(conn, &[org_id])?;
    if links.is_empty() {
        return Ok(None);
    }
    let own: Option<NaiveDateTime> = bids::table
        .filter(bids::tender_id.eq(tender_id))
        .filter(bids::organisation_id.eq(org_id))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .select(bids::submitted_at)
        .first(conn)
        .optional()?;
    let mut q = bids::table
        .filter(bids::tender_id.eq(tender_id))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .filter(bids::organisation_id.ne(org_id))
        .into_boxed();
    if let Some(at) = own {
        q = q.filter(bids::submitted_at.lt(at));
    }
    let bidding: Vec<i64> = q
        .order((bids::submitted_at, bids::id))
        .select(bids::organisation_id)
        .load(conn)?;
    let Some((first, kind)) = rules::related_bidder(org_id, &bidding, &links) else {
        return Ok(None);
    };
    let name: String = organisations::table
        .find(first)
        .select(organisations::name)
        .first(conn)?;
    Ok(Some(FieldError::new(
        "organisation",
        "related_bidder",
        format!(
            "与已投标的 {name} {}，不得参加同一项目的采购活动（政府采购法实施条例第十八条）。",
            kind.label(true)
        ),
        format!(
            "{name}, which has already bid, and your organisation have {}: related suppliers may not both take part in one procurement (Implementing Regulations Art 18).",
            kind.label(false)
        ),
    )))
}
