//! The demo incubation bases.

use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::schema::{bases, communities, organisations, streets};
use crate::db::{DbConn, write_tx};
use crate::domain::calendar::BusinessCalendar;
use crate::error::AppError;
use crate::registry::bases::{BaseInput, SERVICES, create};

/// Demo bases: a city base, a district base, a base in each street and in every third community.
/// Operators are picked among existing organisations (none when there are none yet). Nothing happens when
/// bases exist already, or when there are no streets.
pub fn seed_demo(
    conn: &mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    _calendar: &BusinessCalendar,
) -> Result<(), AppError> {
    let any: Option<i64> = bases::table.select(bases::id).first(conn).optional()?;
    let street_rows: Vec<(i64, String)> = streets::table
        .order(streets::code.asc())
        .select((streets::id, streets::name))
        .load(conn)?;
    if any.is_some() || street_rows.is_empty() {
        return Ok(());
    }
    let orgs: Vec<i64> = organisations::table
        .order(organisations::id.asc())
        .select(organisations::id)
        .load(conn)?;
    let mut next_org = 0usize;
    let mut pick = || {
        let o = (!orgs.is_empty()).then(|| orgs[next_org % orgs.len()]);
        next_org += 1;
        o
    };
    let actor = Actor::system("seed");
    let svc = |k: usize| -> Vec<String> {
        SERVICES
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 3 || (i + k).is_multiple_of(3))
            .map(|(_, (key, _, _))| key.to_string())
            .collect()
    };
    let mk = |name: &str,
              level: &str,
              parent: Option<i64>,
              street: Option<i64>,
              community: Option<i64>,
              op: Option<i64>,
              seats: i32,
              k: usize| BaseInput {
        name: name.into(),
        level: level.into(),
        parent_id: parent,
        street_id: street,
        community_id: community,
        operator_id: op,
        seats,
        address: Some(format!("昆明市官渡区{name}服务中心")),
        contact_name: Some(["张老师", "李老师", "王老师", "刘老师", "陈老师"][k % 5].into()),
        contact_phone: Some(format!("0871-6{:07}", 3_100_000 + k * 137)),
        onsite: level != "community" || k.is_multiple_of(2),
        virtual_mode: level != "community" || !k.is_multiple_of(2),
        services: svc(k),
    };
    write_tx(conn, |conn| {
        let city = create(
            conn,
            &actor,
            now,
            &mk(
                "昆明市社会组织孵化基地",
                "city",
                None,
                None,
                None,
                pick(),
                60,
                0,
            ),
        )?;
        let district = create(
            conn,
            &actor,
            now,
            &mk(
                "官渡区社会组织孵化基地",
                "district",
                Some(city.id),
                None,
                None,
                pick(),
                40,
                1,
            ),
        )?;
        let mut k = 2usize;
        for (sid, sname) in &street_rows {
            let street_base = create(
                conn,
                &actor,
                now,
                &mk(
                    &format!("{}社会组织孵化站", sname.trim_end_matches("街道")),
                    "street",
                    Some(district.id),
                    Some(*sid),
                    None,
                    pick(),
                    20,
                    k,
                ),
            )?;
            k += 1;
            let comms: Vec<(i64, String)> = communities::table
                .filter(communities::street_id.eq(sid))
                .order(communities::code.asc())
                .select((communities::id, communities::name))
                .load(conn)?;
            for (i, (cid, cname)) in comms.iter().enumerate() {
                if !i.is_multiple_of(3) {
                    continue;
                }
                create(
                    conn,
                    &actor,
                    now,
                    &mk(
                        &format!("{cname}社会组织孵化点"),
                        "community",
                        Some(street_base.id),
                        None,
                        Some(*cid),
                        pick(),
                        6,
                        k,
                    ),
                )?;
                k += 1;
            }
        }
        Ok::<_, AppError>(())
    })
}
