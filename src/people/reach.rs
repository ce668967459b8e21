//! Running tallies of people served, so that the district overview (and an organisation's) reads a few
//! hundred rows instead of every participation, at a province's scale too.
//!
//! Per scope (the district, or one organisation), dimension (total, field, street, group), key and month:
//! the counters (`reach_counts`: registered participations, anonymous heads, activities, volunteers and
//! their minutes) and the set of distinct people (`reach_people`: a Roaring bitmap of person ids, one row
//! per chunk of 65,536 ids so a save rewrites kilobytes, not the district). 人次 over any months is the sum
//! of their counters, 人数 the size of the union of their people: the same figures as counting the
//! participations (`counts`), which a test compares on every backend.
//!
//! The tallies are written in the transaction that writes the activities ([`apply`]), and rebuilt from
//! the participations after the migration that creates them and after a bulk load ([`rebuild`]).
//! Participations are never updated or deleted, so nothing else can make them stale.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use diesel::upsert::excluded;
use roaring::RoaringBitmap;

use crate::db::DbConn;
use crate::db::schema::{
    activities as ac, participations as pa, reach_counts as rc, reach_people as rp,
};
use crate::domain::people::{Count, Dimension, month_key};
use crate::error::AppError;

/// The scope of the whole district (organisation ids start at 1).
pub const DISTRICT: i64 = 0;

/// The migration whose tables this module keeps.
const MIGRATION: &str = "2026-12-07-000002";

const TOTAL: &str = "total";

/// The stored name of a dimension that has tallies (months are the tallies' own column).
fn dim_name(d: Dimension) -> Option<&'static str> {
    match d {
        Dimension::Field => Some("field"),
        Dimension::Street => Some("street"),
        Dimension::Group => Some("group"),
        _ => None,
    }
}

/// Whether a breakdown by `d` can be read from the tallies.
pub fn keeps(d: Dimension) -> bool {
    d == Dimension::Month || dim_name(d).is_some()
}

/// Counters of one tally (its fields in the order of [`COUNTERS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Queryable)]
pub struct Counters {
    pub registered: i64,
    pub anonymous: i64,
    pub activities: i64,
    pub volunteers: i64,
    pub volunteer_minutes: i64,
}

/// The counter columns of `reach_counts`, selected into [`Counters`].
const COUNTERS: (
    rc::registered,
    rc::anonymous,
    rc::activities,
    rc::volunteers,
    rc::volunteer_minutes,
) = (
    rc::registered,
    rc::anonymous,
    rc::activities,
    rc::volunteers,
    rc::volunteer_minutes,
);

impl Counters {
    fn add(&mut self, o: &Counters) {
        self.registered += o.registered;
        self.anonymous += o.anonymous;
        self.activities += o.activities;
        self.volunteers += o.volunteers;
        self.volunteer_minutes += o.volunteer_minutes;
    }
}

type Key = (i64, &'static str, String, i32);

/// What a set of activities adds to the tallies, gathered in memory and then written once per tally.
#[derive(Default)]
pub struct Tally {
    counts: BTreeMap<Key, Counters>,
    people: BTreeMap<(Key, i32), RoaringBitmap>,
}

/// One activity as the tallies see it.
pub struct Activity<'a> {
    pub organisation_id: i64,
    pub field: &'a str,
    pub street_id: i64,
    pub month: i32,
    pub anonymous: i64,
    pub volunteers: i64,
    pub volunteer_minutes: i64,
}

fn split(person: i64) -> (i32, u32) {
    ((person >> 16) as i32, (person & 0xFFFF) as u32)
}

impl Tally {
    /// Add one activity and its registered participants (person id and group).
    pub fn activity(&mut self, a: &Activity, participants: &[(i64, &str)]) {
        let n = participants.len() as i64;
        let whole = Counters {
            registered: n,
            anonymous: a.anonymous,
            activities: 1,
            volunteers: a.volunteers,
            volunteer_minutes: a.volunteer_minutes,
        };
        let street = a.street_id.to_string();
        for scope in [DISTRICT, a.organisation_id] {
            for (dim, key) in [(TOTAL, ""), ("field", a.field), ("street", street.as_str())] {
                let k = (scope, dim, key.to_string(), a.month);
                self.counts.entry(k.clone()).or_default().add(&whole);
                for (p, _) in participants {
                    self.person(&k, *p);
                }
            }
            // Anonymous heads have no group; a group's tally is its people's participations only.
            for (p, grp) in participants {
                let k = (scope, "group", grp.to_string(), a.month);
                self.counts.entry(k.clone()).or_default().registered += 1;
                self.person(&k, *p);
            }
        }
    }

    fn person(&mut self, k: &Key, person: i64) {
        let (chunk, low) = split(person);
        self.people
            .entry((k.clone(), chunk))
            .or_default()
            .insert(low);
    }
}

fn encode(b: &RoaringBitmap) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::with_capacity(b.serialized_size());
    b.serialize_into(&mut out)
        .map_err(|e| AppError::internal(format!("reach bitmap: {e}")))?;
    Ok(out)
}

fn decode(bytes: &[u8]) -> Result<RoaringBitmap, AppError> {
    RoaringBitmap::deserialize_from(bytes)
        .map_err(|e| AppError::internal(format!("reach bitmap: {e}")))
}

/// Write a tally (inside the caller's write transaction): counters are added by upsert; each people row
/// is read, merged and written back only when it gained someone (a regular adds nothing).
pub fn apply(conn: &mut DbConn, t: Tally) -> Result<(), AppError> {
    for ((scope, dim, key, month), c) in t.counts {
        let row = (
            rc::scope.eq(scope),
            rc::dim.eq(dim),
            rc::dim_key.eq(&key),
            rc::month.eq(month),
            rc::registered.eq(c.registered),
            rc::anonymous.eq(c.anonymous),
            rc::activities.eq(c.activities),
            rc::volunteers.eq(c.volunteers),
            rc::volunteer_minutes.eq(c.volunteer_minutes),
        );
        let sum = (
            rc::registered.eq(rc::registered + excluded(rc::registered)),
            rc::anonymous.eq(rc::anonymous + excluded(rc::anonymous)),
            rc::activities.eq(rc::activities + excluded(rc::activities)),
            rc::volunteers.eq(rc::volunteers + excluded(rc::volunteers)),
            rc::volunteer_minutes.eq(rc::volunteer_minutes + excluded(rc::volunteer_minutes)),
        );
        let target = (rc::scope, rc::dim, rc::dim_key, rc::month);
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(rc::table)
                .values(row)
                .on_conflict(target)
                .do_update()
                .set(sum)
                .execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(rc::table)
                .values(row)
                .on_conflict(target)
                .do_update()
                .set(sum)
                .execute(c)?,
        };
    }
    for (((scope, dim, key, month), chunk), add) in t.people {
        let this = rp::table
            .filter(rp::scope.eq(scope))
            .filter(rp::dim.eq(dim))
            .filter(rp::dim_key.eq(&key))
            .filter(rp::month.eq(month))
            .filter(rp::chunk.eq(chunk));
        // A second pass only when another writer created the row between our read and our insert
        // (PostgreSQL; SQLite's write lock is held): then it is there to merge into.
        let mut tries = 0;
        loop {
            // PostgreSQL: a second writer waits here for the first to commit.
            let stored: Option<Vec<u8>> = match conn {
                DbConn::Sqlite(c) => this.select(rp::people).first(c).optional()?,
                DbConn::Pg(c) => this.select(rp::people).for_update().first(c).optional()?,
            };
            if let Some(bytes) = stored {
                let mut have = decode(&bytes)?;
                if !add.is_subset(&have) {
                    have |= &add;
                    diesel::update(this)
                        .set(rp::people.eq(encode(&have)?))
                        .execute(conn)?;
                }
                break;
            }
            let row = (
                rp::scope.eq(scope),
                rp::dim.eq(dim),
                rp::dim_key.eq(&key),
                rp::month.eq(month),
                rp::chunk.eq(chunk),
                rp::people.eq(encode(&add)?),
            );
            let inserted = match conn {
                DbConn::Sqlite(c) => diesel::insert_into(rp::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?,
                DbConn::Pg(c) => diesel::insert_into(rp::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?,
            };
            tries += 1;
            if inserted == 1 {
                break;
            } else if tries == 2 {
                return Err(AppError::internal(
                    "reach_people: a row neither there nor new",
                ));
            }
        }
    }
    Ok(())
}

/// Rebuild every tally from the participations and activities (inside the caller's write transaction).
pub fn rebuild(conn: &mut DbConn) -> Result<(), AppError> {
    diesel::delete(rp::table).execute(conn)?;
    diesel::delete(rc::table).execute(conn)?;
    let t = recount(conn)?;
    apply(conn, t)
}

/// Compare the stored tallies with a recount from the participations and activities (`sanshe verify`):
/// how many tallies there should be, and how many are missing, extra or different.
pub fn verify(conn: &mut DbConn) -> Result<(usize, usize), AppError> {
    let want = recount(conn)?;
    let rows: Vec<(i64, String, String, i32, Counters)> = rc::table
        .select((rc::scope, rc::dim, rc::dim_key, rc::month, COUNTERS))
        .load(conn)?;
    let counts: BTreeMap<_, _> = rows
        .into_iter()
        .map(|(scope, dim, key, month, c)| ((scope, dim, key, month), c))
        .collect();
    let rows: Vec<(i64, String, String, i32, i32, Vec<u8>)> = rp::table
        .select((
            rp::scope,
            rp::dim,
            rp::dim_key,
            rp::month,
            rp::chunk,
            rp::people,
        ))
        .load(conn)?;
    let mut people = BTreeMap::new();
    for (scope, dim, key, month, chunk, bytes) in rows {
        // An undecodable bitmap differs from every recount.
        let b = decode(&bytes).unwrap_or_else(|_| RoaringBitmap::from_iter([u32::MAX]));
        people.insert(((scope, dim, key, month), chunk), b);
    }
    let tag = |(s, d, k, m): Key| (s, d.to_string(), k, m);
    let want_counts: BTreeMap<_, Counters> =
        want.counts.into_iter().map(|(k, v)| (tag(k), v)).collect();
    let want_people: BTreeMap<_, RoaringBitmap> = want
        .people
        .into_iter()
        .map(|((k, c), v)| ((tag(k), c), v))
        .collect();
    let total = want_counts.len() + want_people.len();
    Ok((
        total,
        differ(&want_counts, &counts) + differ(&want_people, &people),
    ))
}

/// Keys missing on either side or with different values.
fn differ<K: Ord, V: PartialEq>(a: &BTreeMap<K, V>, b: &BTreeMap<K, V>) -> usize {
    a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).count()
        + b.keys().filter(|k| !a.contains_key(*k)).count()
}

/// Every tally, counted again from the participations and activities.
fn recount(conn: &mut DbConn) -> Result<Tally, AppError> {
    type ActivityRow = (i64, i64, String, i64, chrono::NaiveDate, i32, i32, i32);
    let acts: Vec<ActivityRow> = ac::table
        .select((
            ac::id,
            ac::organisation_id,
            ac::field,
            ac::street_id,
            ac::held_on,
            ac::anonymous,
            ac::volunteers,
            ac::volunteer_minutes,
        ))
        .order(ac::id)
        .load(conn)?;
    let mut t = Tally::default();
    // Participations in activity order, a batch of activities at a time (bounded memory).
    for batch in acts.chunks(2000) {
        let (lo, hi) = (batch[0].0, batch[batch.len() - 1].0);
        let rows: Vec<(i64, i64, String)> = pa::table
            .filter(pa::activity_id.between(lo, hi))
            .select((pa::activity_id, pa::person_id, pa::grp))
            .order(pa::activity_id)
            .load(conn)?;
        let mut at = 0;
        for (id, org, field, street, held_on, anonymous, volunteers, minutes) in batch {
            let start = at;
            while at < rows.len() && rows[at].0 == *id {
                at += 1;
            }
            let people: Vec<(i64, &str)> = rows[start..at]
                .iter()
                .map(|(_, p, g)| (*p, g.as_str()))
                .collect();
            t.activity(
                &Activity {
                    organisation_id: *org,
                    field,
                    street_id: *street,
                    month: month_key(*held_on),
                    anonymous: i64::from(*anonymous),
                    volunteers: i64::from(*volunteers),
                    volunteer_minutes: i64::from(*minutes),
                },
                &people,
            );
        }
    }
    Ok(t)
}

/// After migrations: build the tallies when their migration was just applied (a database that already
/// held activities gains them; a new one costs nothing).
pub fn after_migrations(conn: &mut DbConn, applied: &[String]) -> Result<(), String> {
    if applied.iter().any(|v| v.starts_with(MIGRATION)) {
        crate::db::write_tx(conn, rebuild).map_err(|e| format!("people served tallies: {e}"))?;
    }
    Ok(())
}

/// The tallies of one scope over a span of months (inclusive; open ends take everything).
pub struct Summary {
    counts: HashMap<(&'static str, String), Counters>,
    people: HashMap<(&'static str, String), u64>,
    by_month: BTreeMap<i32, (Counters, u64)>,
}

fn dim_static(s: &str) -> &'static str {
    match s {
        "field" => "field",
        "street" => "street",
        "group" => "group",
        _ => TOTAL,
    }
}

/// Read one scope's tallies over `from..=to` months.
pub fn read(
    conn: &mut DbConn,
    scope: i64,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<Summary, AppError> {
    let (lo, hi) = (from.unwrap_or(i32::MIN), to.unwrap_or(i32::MAX));
    let counts: Vec<(String, String, i32, Counters)> = rc::table
        .filter(rc::scope.eq(scope))
        .filter(rc::month.between(lo, hi))
        .select((rc::dim, rc::dim_key, rc::month, COUNTERS))
        .load(conn)?;
    let mut s = Summary {
        counts: HashMap::new(),
        people: HashMap::new(),
        by_month: BTreeMap::new(),
    };
    for (dim, key, month, c) in counts {
        let dim = dim_static(&dim);
        if dim == TOTAL {
            s.by_month.entry(month).or_default().0.add(&c);
        }
        s.counts.entry((dim, key)).or_default().add(&c);
    }
    let rows: Vec<(String, String, i32, i32, Vec<u8>)> = rp::table
        .filter(rp::scope.eq(scope))
        .filter(rp::month.between(lo, hi))
        .select((rp::dim, rp::dim_key, rp::month, rp::chunk, rp::people))
        .load(conn)?;
    let mut unions: HashMap<(&'static str, String, i32), RoaringBitmap> = HashMap::new();
    for (dim, key, month, chunk, bytes) in rows {
        let b = decode(&bytes)?;
        let dim = dim_static(&dim);
        if dim == TOTAL {
            s.by_month.entry(month).or_default().1 += b.len();
        }
        *unions.entry((dim, key, chunk)).or_default() |= b;
    }
    for ((dim, key, _), b) in unions {
        *s.people.entry((dim, key)).or_default() += b.len();
    }
    Ok(s)
}

impl Summary {
    fn count(&self, dim: &'static str, key: &str) -> (Counters, i64) {
        let k = (dim, key.to_string());
        (
            self.counts.get(&k).copied().unwrap_or_default(),
            self.people.get(&k).copied().unwrap_or(0) as i64,
        )
    }

    /// The totals: 人次 and 人数, and the activities' counters.
    pub fn total(&self) -> (Count, Counters) {
        let (c, people) = self.count(TOTAL, "");
        (Count::new(c.registered, c.anonymous, people), c)
    }

    /// A breakdown by a dimension the tallies keep ([`keeps`]), by key.
    pub fn grouped(&self, d: Dimension) -> BTreeMap<String, Count> {
        if d == Dimension::Month {
            return self
                .by_month
                .iter()
                .map(|(m, (c, p))| {
                    (
                        m.to_string(),
                        Count::new(c.registered, c.anonymous, *p as i64),
                    )
                })
                .collect();
        }
        let Some(dim) = dim_name(d) else {
            return BTreeMap::new();
        };
        self.counts
            .keys()
            .filter(|(x, _)| *x == dim)
            .map(|(_, key)| {
                let (c, p) = self.count(dim, key);
                (key.clone(), Count::new(c.registered, c.anonymous, p))
            })
            .collect()
    }
}
