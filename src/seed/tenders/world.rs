//! What the demo tenders draw on: the organisations with their facts, the streets, the evaluators.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// What the registry seed left: organisations with their accounts, staff, streets.

#[derive(Clone, Debug)]
pub(super) struct Org {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) registered_on: Option<NaiveDate>,
    pub(super) user_id: i64,
    pub(super) username: String,
    pub(super) fields: Vec<String>,
    pub(super) barred: bool,
    pub(super) facts: rules::OrgFacts,
    /// Current social workers (not departed), by id, as a bid lists them.
    pub(super) staff: Vec<StaffEntry>,
}

#[derive(Clone, Debug)]
pub(super) struct Person {
    pub(super) id: i64,
    pub(super) username: String,
}

pub(super) struct World {
    pub(super) bureau: Person,
    pub(super) evaluators: Vec<Person>,
    pub(super) orgs: Vec<Org>,
    /// (id, name), by code.
    pub(super) streets: Vec<(i64, String)>,
    pub(super) communities: HashMap<i64, Vec<i64>>,
}

impl World {
    /// `None` when there is nothing to build tenders on (no streets or no registered organisation with an
    /// account): the tender demo needs the registry demo first.
    pub(super) fn load(
        conn: &mut DbConn,
        ctx: &Ctx,
        now: DateTime<Utc>,
    ) -> Result<Option<World>, AppError> {
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
    let today = crate::tenders::today(now);
    let rows: Vec<(i64, String, Option<NaiveDate>)> = organisations::table
        .filter(organisations::registration.eq("registered"))
        .order(organisations::id)
        .select((
            organisations::id,
            organisations::name,
            organisations::registered_on,
        ))
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
    for (id, name, registered_on) in rows {
        // Bids are submitted by an organisation's own account; one without an account cannot bid.
        let Some((user_id, username)) = account.get(&id).cloned() else {
            continue;
        };
        let standing = crate::registry::orgs::standing_of(conn, id, today, ctx.standing)?;
        out.push(Org {
            id,
            name,
            registered_on,
            user_id,
            username,
            fields: fields.remove(&id).unwrap_or_default(),
            barred: standing.status == Status::Barred,
            facts: crate::tenders::bids::org_facts(conn, id, today)?,
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
