//! Areas of the district: streets (街道) and their communities (社区) with codes and grid counts.
//! Anyone may read them; the bureau and administrators create and edit them, each change audited.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::schema::{communities, streets};
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Checks};

// Demo data lives in `crate::seed`; re-exported where the tests have always found it.
pub use crate::seed::registry::areas::seed_demo;

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = streets)]
pub struct Street {
    pub id: i64,
    /// Nine digits: the district's six, then three.
    pub code: String,
    pub name: String,
}

#[derive(Queryable, Selectable, Debug, Clone, Serialize, utoipa::ToSchema)]
#[diesel(table_name = communities)]
pub struct Community {
    pub id: i64,
    pub street_id: i64,
    /// Twelve digits: the street's nine, then three.
    pub code: String,
    pub name: String,
    pub grid_count: i32,
}

/// A street with its totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StreetView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub communities: i64,
    pub grids: i64,
}

/// A street with its communities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StreetDetail {
    pub street: StreetView,
    pub communities: Vec<Community>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewStreet {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StreetUpdate {
    pub code: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCommunity {
    pub street_id: i64,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub grid_count: i32,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CommunityUpdate {
    pub street_id: Option<i64>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub grid_count: Option<i32>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct CommunityFilter {
    pub street_id: Option<i64>,
    /// Part of the name or code.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_name(checks: &mut Checks, name: &str) {
    if checks.required("name", name) && name.trim().chars().count() > 50 {
        checks.add(
            "name",
            "max_length",
            "名称最多 50 个字。",
            "At most 50 characters.",
        );
    }
}

pub fn list_streets(conn: &mut DbConn) -> Result<Vec<StreetView>, AppError> {
    let rows: Vec<Street> = streets::table
        .order(streets::code.asc())
        .select(Street::as_select())
        .load(conn)?;
    let totals: Vec<(i64, i64, Option<i64>)> = communities::table
        .group_by(communities::street_id)
        .select((
            communities::street_id,
            diesel::dsl::count_star(),
            diesel::dsl::sum(communities::grid_count),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|s| {
            let (n, g) = totals
                .iter()
                .find(|(id, _, _)| *id == s.id)
                .map(|(_, n, g)| (*n, g.unwrap_or(0)))
                .unwrap_or((0, 0));
            StreetView {
                id: s.id,
                code: s.code,
                name: s.name,
                communities: n,
                grids: g,
            }
        })
        .collect())
}

pub fn find_street(conn: &mut DbConn, id: i64) -> Result<Street, AppError> {
    Ok(streets::table
        .find(id)
        .select(Street::as_select())
        .first(conn)?)
}

pub fn street_detail(conn: &mut DbConn, id: i64) -> Result<StreetDetail, AppError> {
    let s = find_street(conn, id)?;
    let comms: Vec<Community> = communities::table
        .filter(communities::street_id.eq(id))
        .order(communities::code.asc())
        .select(Community::as_select())
        .load(conn)?;
    Ok(StreetDetail {
        street: StreetView {
            id: s.id,
            code: s.code,
            name: s.name,
            communities: comms.len() as i64,
            grids: comms.iter().map(|c| i64::from(c.grid_count)).sum(),
        },
        communities: comms,
    })
}

pub fn find_community(conn: &mut DbConn, id: i64) -> Result<Community, AppError> {
    Ok(communities::table
        .find(id)
        .select(Community::as_select())
        .first(conn)?)
}

pub fn list_communities(
    conn: &mut DbConn,
    f: &CommunityFilter,
) -> Result<crate::db::Paged<Community>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let (rows, total) = filtered_communities(conn, f, Some(paging))?;
    Ok(paging.of(rows, total))
}

/// Every community matching the filter (no paging, same order as the list); for exports.
pub fn list_all_communities(
    conn: &mut DbConn,
    f: &CommunityFilter,
) -> Result<Vec<Community>, AppError> {
    Ok(filtered_communities(conn, f, None)?.0)
}

/// The streets export's columns (Chinese headers, like the organisations export).
pub const STREET_EXPORT_HEADER: &[&str] = &["编号", "街道代码", "街道", "社区数", "网格数"];

/// The communities export's columns.
pub const COMMUNITY_EXPORT_HEADER: &[&str] =
    &["编号", "社区代码", "社区", "街道代码", "街道", "网格数"];

/// Streets as CSV (UTF-8 with BOM, Chinese headers), in the list's order.
pub fn export_streets(rows: &[StreetView]) -> String {
    crate::registry::import::csv_document(
        STREET_EXPORT_HEADER,
        rows.iter().map(|s| {
            vec![
                s.id.to_string(),
                s.code.clone(),
                s.name.clone(),
                s.communities.to_string(),
                s.grids.to_string(),
            ]
        }),
    )
}

/// Communities as CSV (UTF-8 with BOM, Chinese headers) with their street's code and name.
pub fn export_communities(conn: &mut DbConn, rows: &[Community]) -> Result<String, AppError> {
    let streets: std::collections::HashMap<i64, (String, String)> = streets::table
        .select((streets::id, streets::code, streets::name))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    Ok(crate::registry::import::csv_document(
        COMMUNITY_EXPORT_HEADER,
        rows.iter().map(|c| {
            let (scode, sname) = streets.get(&c.street_id).cloned().unwrap_or_default();
            vec![
                c.id.to_string(),
                c.code.clone(),
                c.name.clone(),
                scode,
                sname,
                c.grid_count.to_string(),
            ]
        }),
    ))
}

fn filtered_communities(
    conn: &mut DbConn,
    f: &CommunityFilter,
    paging: Option<crate::db::Paging>,
) -> Result<(Vec<Community>, i64), AppError> {
    let build = || {
        let mut q = communities::table.into_boxed();
        if let Some(s) = f.street_id {
            q = q.filter(communities::street_id.eq(s));
        }
        if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pat = crate::db::like_pattern(s);
            q = q.filter(
                crate::db::lower(communities::name)
                    .like(pat.clone())
                    .escape('\\')
                    .or(communities::code.like(pat).escape('\\')),
            );
        }
        q
    };
    let mut q = build()
        .order(communities::code.asc())
        .select(Community::as_select());
    let mut total = None;
    if let Some(p) = paging {
        q = q.offset(p.offset()).limit(p.limit());
        total = Some(build().count().get_result(conn)?);
    }
    let rows = q.load(conn)?;
    let total = total.unwrap_or(rows.len() as i64);
    Ok((rows, total))
}

fn check_street(
    conn: &mut DbConn,
    code: &str,
    name: &str,
    id: Option<i64>,
) -> Result<(), AppError> {
    let mut checks = Checks::new();
    if checks.required("code", code) && !digits(code, 9) {
        checks.add(
            "code",
            "format",
            "街道代码为 9 位数字。",
            "A street code has 9 digits.",
        );
    }
    check_name(&mut checks, name);
    let clash_code: Option<i64> = streets::table
        .filter(streets::code.eq(code))
        .select(streets::id)
        .first(conn)
        .optional()?;
    if clash_code.is_some_and(|c| Some(c) != id) {
        checks.add("code", "unique", "该代码已被使用。", "This code is taken.");
    }
    let clash_name: Option<i64> = streets::table
        .filter(streets::name.eq(name))
        .select(streets::id)
        .first(conn)
        .optional()?;
    if clash_name.is_some_and(|c| Some(c) != id) {
        checks.add("name", "unique", "该名称已被使用。", "This name is taken.");
    }
    checks.finish()
}

pub fn create_street(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    new: &NewStreet,
) -> Result<Street, AppError> {
    let (code, name) = (new.code.trim(), new.name.trim());
    write_tx(conn, |conn| {
        check_street(conn, code, name, None)?;
        let id: i64 = diesel::insert_into(streets::table)
            .values((streets::code.eq(code), streets::name.eq(name)))
            .returning(streets::id)
            .get_result(conn)?;
        let s = find_street(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "street.create",
            "street",
            Some(id.to_string()),
            None,
            Some(serde_json::to_value(&s).unwrap_or_default()),
        )?;
        Ok(s)
    })
}

/// A street's version (`crate::version`).
pub fn street_version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(crate::version::of(&find_street(conn, id)?))
}

/// A community's version (`crate::version`).
pub fn community_version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(crate::version::of(&find_community(conn, id)?))
}

/// Change a street; `expect` refuses it with 412 when the street changed since that version was read.
pub fn update_street(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    upd: &StreetUpdate,
    expect: Option<&str>,
) -> Result<Street, AppError> {
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "streets", id)?;
        let before = find_street(conn, id)?;
        crate::version::check(expect, &before)?;
        let code = upd
            .code
            .as_deref()
            .unwrap_or(&before.code)
            .trim()
            .to_string();
        let name = upd
            .name
            .as_deref()
            .unwrap_or(&before.name)
            .trim()
            .to_string();
        check_street(conn, &code, &name, Some(id))?;
        diesel::update(streets::table.find(id))
            .set((streets::code.eq(&code), streets::name.eq(&name)))
            .execute(conn)?;
        let after = find_street(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "street.update",
            "street",
            Some(id.to_string()),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )?;
        Ok(after)
    })
}

fn check_community(
    conn: &mut DbConn,
    street_id: i64,
    code: &str,
    name: &str,
    grid_count: i32,
    id: Option<i64>,
) -> Result<(), AppError> {
    let mut checks = Checks::new();
    let street = streets::table
        .find(street_id)
        .select(Street::as_select())
        .first(conn)
        .optional()?;
    if street.is_none() {
        checks.add("street_id", "exists", "没有这个街道。", "No such street.");
    }
    if checks.required("code", code) {
        if !digits(code, 12) {
            checks.add(
                "code",
                "format",
                "社区代码为 12 位数字。",
                "A community code has 12 digits.",
            );
        } else if let Some(s) = &street
            && !code.starts_with(&s.code)
        {
            checks.add(
                "code",
                "street_prefix",
                format!("社区代码须以街道代码 {} 开头。", s.code),
                format!("A community code starts with its street's code {}.", s.code),
            );
        }
    }
    check_name(&mut checks, name);
    if !(0..=1000).contains(&grid_count) {
        checks.add(
            "grid_count",
            "range",
            "网格数须在 0–1000 之间。",
            "Grid count must be 0–1000.",
        );
    }
    let clash: Option<i64> = communities::table
        .filter(communities::code.eq(code))
        .select(communities::id)
        .first(conn)
        .optional()?;
    if clash.is_some_and(|c| Some(c) != id) {
        checks.add("code", "unique", "该代码已被使用。", "This code is taken.");
    }
    let clash: Option<i64> = communities::table
        .filter(
            communities::street_id
                .eq(street_id)
                .and(communities::name.eq(name)),
        )
        .select(communities::id)
        .first(conn)
        .optional()?;
    if clash.is_some_and(|c| Some(c) != id) {
        checks.add(
            "name",
            "unique",
            "该街道已有同名社区。",
            "The street already has a community of this name.",
        );
    }
    checks.finish()
}

pub fn create_community(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    new: &NewCommunity,
) -> Result<Community, AppError> {
    let (code, name) = (new.code.trim(), new.name.trim());
    write_tx(conn, |conn| {
        check_community(conn, new.street_id, code, name, new.grid_count, None)?;
        let id: i64 = diesel::insert_into(communities::table)
            .values((
                communities::street_id.eq(new.street_id),
                communities::code.eq(code),
                communities::name.eq(name),
                communities::grid_count.eq(new.grid_count),
            ))
            .returning(communities::id)
            .get_result(conn)?;
        let c = find_community(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "community.create",
            "community",
            Some(id.to_string()),
            None,
            Some(serde_json::to_value(&c).unwrap_or_default()),
        )?;
        Ok(c)
    })
}

pub fn update_community(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    upd: &CommunityUpdate,
    expect: Option<&str>,
) -> Result<Community, AppError> {
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "communities", id)?;
        let before = find_community(conn, id)?;
        crate::version::check(expect, &before)?;
        let street_id = upd.street_id.unwrap_or(before.street_id);
        let code = upd
            .code
            .as_deref()
            .unwrap_or(&before.code)
            .trim()
            .to_string();
        let name = upd
            .name
            .as_deref()
            .unwrap_or(&before.name)
            .trim()
            .to_string();
        let grids = upd.grid_count.unwrap_or(before.grid_count);
        check_community(conn, street_id, &code, &name, grids, Some(id))?;
        diesel::update(communities::table.find(id))
            .set((
                communities::street_id.eq(street_id),
                communities::code.eq(&code),
                communities::name.eq(&name),
                communities::grid_count.eq(grids),
            ))
            .execute(conn)?;
        let after = find_community(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "community.update",
            "community",
            Some(id.to_string()),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )?;
        Ok(after)
    })
}
