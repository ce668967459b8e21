//! Incubation bases (孵化基地) at four levels — city, district, street, community — with a parent exactly one
//! level up, an area, an operator, seats, contact, modes and a service catalogue; the base tree and the
//! coverage figures (streets with a street-level base, communities with a community-level base).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::schema::{bases, communities, organisations, streets};
use crate::db::{DbConn, write_tx};
use crate::domain::incubation::Funnel;
use crate::error::{AppError, Checks};

// Demo data lives in `crate::seed`; re-exported where the tests have always found it.
pub use crate::seed::registry::bases::seed_demo;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    City,
    District,
    Street,
    Community,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::City => "市级",
            Level::District => "区级",
            Level::Street => "街道级",
            Level::Community => "社区级",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
        }
    }
    /// The level a parent must have (`None` for a city base, which has no parent).
    pub fn parent_level(self) -> Option<Level> {
        match self {
            Level::City => None,
            Level::District => Some(Level::City),
            Level::Street => Some(Level::District),
            Level::Community => Some(Level::Street),
        }
    }
}

/// The service catalogue: (key, zh-CN, en).
pub const SERVICES: &[(&str, &str, &str)] = &[
    ("office_space", "办公场地", "Office space"),
    ("training", "能力培训", "Training"),
    ("coaching", "督导陪伴", "Coaching"),
    ("financial_custody", "财务托管", "Financial custody"),
    ("registration_help", "登记注册协助", "Registration help"),
    ("small_grants", "微创投资助", "Small grants"),
    ("resource_matching", "资源对接", "Resource matching"),
    ("publicity", "宣传推广", "Publicity"),
];

pub fn service_label(key: &str, zh: bool) -> &str {
    SERVICES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, z, e)| if zh { *z } else { *e })
        .unwrap_or(key)
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = bases)]
pub struct BaseRow {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub parent_id: Option<i64>,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    pub operator_id: Option<i64>,
    pub seats: i32,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub onsite: bool,
    pub virtual_mode: bool,
    pub services: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A base as shown (names of the parent, area and operator resolved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaseView {
    pub id: i64,
    pub name: String,
    /// city, district, street or community
    pub level: String,
    pub parent_id: Option<i64>,
    pub parent_name: Option<String>,
    pub street_id: Option<i64>,
    pub street_name: Option<String>,
    pub community_id: Option<i64>,
    pub community_name: Option<String>,
    pub operator_id: Option<i64>,
    pub operator_name: Option<String>,
    pub seats: i32,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub onsite: bool,
    pub virtual_mode: bool,
    /// Catalogue keys.
    pub services: Vec<String>,
}

impl BaseView {
    pub fn level_label(&self, zh: bool) -> &'static str {
        Level::parse(&self.level)
            .map(|l| if zh { l.label_zh() } else { l.label_en() })
            .unwrap_or("?")
    }
}

/// A base to create, or the full new content of a base to change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BaseInput {
    pub name: String,
    /// city, district, street or community
    pub level: String,
    /// Required except for city bases: a base exactly one level up.
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// Street bases: their street.
    #[serde(default)]
    pub street_id: Option<i64>,
    /// Community bases: their community.
    #[serde(default)]
    pub community_id: Option<i64>,
    #[serde(default)]
    pub operator_id: Option<i64>,
    #[serde(default)]
    pub seats: i32,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub onsite: bool,
    #[serde(default)]
    pub virtual_mode: bool,
    /// Keys of the service catalogue (office_space, training, coaching, financial_custody, registration_help,
    /// small_grants, resource_matching, publicity).
    #[serde(default)]
    pub services: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct BaseFilter {
    /// city, district, street or community
    pub level: Option<String>,
    pub street_id: Option<i64>,
    /// Part of the name or address.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// One base in the tree with the bases under it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaseNode {
    pub id: i64,
    pub name: String,
    pub level: String,
    #[schema(no_recursion)]
    pub children: Vec<BaseNode>,
}

/// Coverage of the district by street- and community-level bases (percentages rounded down).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub streets_total: i64,
    pub streets_covered: i64,
    pub street_pct: i64,
    pub communities_total: i64,
    pub communities_covered: i64,
    pub community_pct: i64,
    /// Bases per level, city first.
    pub bases_by_level: Vec<LevelCount>,
}

/// How many bases a level has.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelCount {
    /// city, district, street or community
    pub level: String,
    pub bases: i64,
}

/// Someone in a base now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incubatee {
    pub incubation_id: i64,
    pub name: String,
    pub state: String,
    pub mode: Option<String>,
    pub stage: Option<String>,
    pub start_on: Option<chrono::NaiveDate>,
    pub planned_end: Option<chrono::NaiveDate>,
}

/// A base with its children, funnel and current incubatees.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaseDetail {
    pub base: BaseView,
    pub children: Vec<BaseView>,
    pub funnel: Funnel,
    pub incubatees: Vec<Incubatee>,
}

fn to_view(conn: &mut DbConn, r: BaseRow) -> Result<BaseView, AppError> {
    let parent_name = match r.parent_id {
        Some(p) => bases::table
            .find(p)
            .select(bases::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    let street_name = match r.street_id {
        Some(s) => streets::table
            .find(s)
            .select(streets::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    let community_name = match r.community_id {
        Some(c) => communities::table
            .find(c)
            .select(communities::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    let operator_name = match r.operator_id {
        Some(o) => organisations::table
            .find(o)
            .select(organisations::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok(BaseView {
        id: r.id,
        name: r.name,
        level: r.level,
        parent_id: r.parent_id,
        parent_name,
        street_id: r.street_id,
        street_name,
        community_id: r.community_id,
        community_name,
        operator_id: r.operator_id,
        operator_name,
        seats: r.seats,
        address: r.address,
        contact_name: r.contact_name,
        contact_phone: r.contact_phone,
        onsite: r.onsite,
        virtual_mode: r.virtual_mode,
        services: services_of(&r.services),
    })
}

/// The stored service list (comma-separated keys) as keys.
fn services_of(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A stored base as the input that would write it: the state its version is taken of.
pub fn input_of(r: &BaseRow) -> BaseInput {
    BaseInput {
        name: r.name.clone(),
        level: r.level.clone(),
        parent_id: r.parent_id,
        street_id: r.street_id,
        community_id: r.community_id,
        operator_id: r.operator_id,
        seats: r.seats,
        address: r.address.clone(),
        contact_name: r.contact_name.clone(),
        contact_phone: r.contact_phone.clone(),
        onsite: r.onsite,
        virtual_mode: r.virtual_mode,
        services: services_of(&r.services),
    }
}

/// A base's version (`crate::version`).
pub fn version(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(crate::version::of(&input_of(&find_row(conn, id)?)))
}

pub fn find_row(conn: &mut DbConn, id: i64) -> Result<BaseRow, AppError> {
    Ok(bases::table
        .find(id)
        .select(BaseRow::as_select())
        .first(conn)?)
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<BaseView, AppError> {
    let r = find_row(conn, id)?;
    to_view(conn, r)
}

pub fn detail(conn: &mut DbConn, id: i64) -> Result<BaseDetail, AppError> {
    let base = find(conn, id)?;
    let kids: Vec<BaseRow> = bases::table
        .filter(bases::parent_id.eq(id))
        .order(bases::name.asc())
        .select(BaseRow::as_select())
        .load(conn)?;
    let mut children = Vec::with_capacity(kids.len());
    for k in kids {
        children.push(to_view(conn, k)?);
    }
    let funnel = crate::registry::incubations::funnel_for_base(conn, id)?;
    let incubatees = crate::registry::incubations::incubatees(conn, id)?;
    Ok(BaseDetail {
        base,
        children,
        funnel,
        incubatees,
    })
}

pub fn list(conn: &mut DbConn, f: &BaseFilter) -> Result<crate::db::Paged<BaseView>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let (rows, total) = filtered(conn, f, Some(paging))?;
    Ok(paging.of(rows, total))
}

/// Every base matching the filter (no paging, same order as the list); for exports.
pub fn list_all(conn: &mut DbConn, f: &BaseFilter) -> Result<Vec<BaseView>, AppError> {
    Ok(filtered(conn, f, None)?.0)
}

/// The export's columns (Chinese headers, like the organisations export).
pub const EXPORT_HEADER: &[&str] = &[
    "编号",
    "名称",
    "层级",
    "上级基地",
    "街道",
    "社区",
    "运营机构",
    "工位数",
    "地址",
    "联系人",
    "联系电话",
    "入驻方式",
    "服务内容",
];

/// Bases as CSV (UTF-8 with BOM, Chinese headers and labels).
pub fn export_csv(rows: &[BaseView]) -> String {
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    crate::registry::import::csv_document(
        EXPORT_HEADER,
        rows.iter().map(|b| {
            let mut modes = Vec::new();
            if b.onsite {
                modes.push("实体");
            }
            if b.virtual_mode {
                modes.push("虚拟");
            }
            vec![
                b.id.to_string(),
                b.name.clone(),
                b.level_label(true).to_string(),
                o(&b.parent_name),
                o(&b.street_name),
                o(&b.community_name),
                o(&b.operator_name),
                b.seats.to_string(),
                o(&b.address),
                o(&b.contact_name),
                o(&b.contact_phone),
                modes.join("；"),
                b.services
                    .iter()
                    .map(|k| service_label(k, true))
                    .collect::<Vec<_>>()
                    .join("；"),
            ]
        }),
    )
}

/// Bases in the order of the tree (city, district, streets, communities), not the alphabet of the level
/// keys (which put communities before the district).
fn tree_rank() -> diesel::expression::SqlLiteral<diesel::sql_types::Integer> {
    diesel::dsl::sql::<diesel::sql_types::Integer>(
        "CASE level WHEN 'city' THEN 0 WHEN 'district' THEN 1 WHEN 'street' THEN 2 ELSE 3 END",
    )
}

fn filtered(
    conn: &mut DbConn,
    f: &BaseFilter,
    paging: Option<crate::db::Paging>,
) -> Result<(Vec<BaseView>, i64), AppError> {
    let build = || {
        let mut q = bases::table.into_boxed();
        if let Some(l) = f.level.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            q = q.filter(bases::level.eq(l.to_string()));
        }
        if let Some(s) = f.street_id {
            q = q.filter(bases::street_id.eq(s));
        }
        if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pat = crate::db::like_pattern(s);
            q = q.filter(
                crate::db::lower(bases::name)
                    .like(pat.clone())
                    .escape('\\')
                    .or(bases::address.like(pat).escape('\\')),
            );
        }
        q
    };
    let mut q = build()
        .order((tree_rank(), bases::name.asc()))
        .select(BaseRow::as_select());
    let mut total = None;
    if let Some(p) = paging {
        q = q.offset(p.offset()).limit(p.limit());
        total = Some(build().count().get_result(conn)?);
    }
    let rows = q.load(conn)?;
    let total = total.unwrap_or(rows.len() as i64);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(to_view(conn, r)?);
    }
    Ok((out, total))
}

/// Every base as (id, name, level), for pick lists.
pub fn options(conn: &mut DbConn) -> Result<Vec<(i64, String, String)>, AppError> {
    Ok(bases::table
        .order((tree_rank(), bases::name.asc()))
        .select((bases::id, bases::name, bases::level))
        .load(conn)?)
}

/// The base tree: city bases at the roots, each base under its parent.
pub fn tree(conn: &mut DbConn) -> Result<Vec<BaseNode>, AppError> {
    let all: Vec<(i64, String, String, Option<i64>)> = bases::table
        .order(bases::name.asc())
        .select((bases::id, bases::name, bases::level, bases::parent_id))
        .load(conn)?;
    fn build(
        all: &[(i64, String, String, Option<i64>)],
        parent: Option<i64>,
        depth: u8,
    ) -> Vec<BaseNode> {
        if depth > 4 {
            return Vec::new();
        }
        all.iter()
            .filter(|(_, _, _, p)| *p == parent)
            .map(|(id, name, level, _)| BaseNode {
                id: *id,
                name: name.clone(),
                level: level.clone(),
                children: build(all, Some(*id), depth + 1),
            })
            .collect()
    }
    Ok(build(&all, None, 0))
}

fn pct(n: i64, of: i64) -> i64 {
    if of == 0 { 0 } else { n * 100 / of }
}

pub fn coverage(conn: &mut DbConn) -> Result<Coverage, AppError> {
    let streets_total: i64 = streets::table.count().get_result(conn)?;
    let communities_total: i64 = communities::table.count().get_result(conn)?;
    let street_ids: Vec<Option<i64>> = bases::table
        .filter(bases::level.eq("street"))
        .select(bases::street_id)
        .distinct()
        .load(conn)?;
    let community_ids: Vec<Option<i64>> = bases::table
        .filter(bases::level.eq("community"))
        .select(bases::community_id)
        .distinct()
        .load(conn)?;
    let streets_covered = street_ids.iter().flatten().count() as i64;
    let communities_covered = community_ids.iter().flatten().count() as i64;
    let counts: Vec<(String, i64)> = bases::table
        .group_by(bases::level)
        .select((bases::level, diesel::dsl::count_star()))
        .load(conn)?;
    let bases_by_level = Level::ALL
        .iter()
        .map(|l| {
            let n = counts
                .iter()
                .find(|(k, _)| k == l.as_str())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            LevelCount {
                level: l.as_str().to_string(),
                bases: n,
            }
        })
        .collect();
    Ok(Coverage {
        streets_total,
        streets_covered,
        street_pct: pct(streets_covered, streets_total),
        communities_total,
        communities_covered,
        community_pct: pct(communities_covered, communities_total),
        bases_by_level,
    })
}

fn opt_trim(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The input after checks: what is written.
struct Valid {
    name: String,
    level: Level,
    parent_id: Option<i64>,
    street_id: Option<i64>,
    community_id: Option<i64>,
    services: String,
}

fn validate(conn: &mut DbConn, b: &BaseInput, id: Option<i64>) -> Result<Valid, AppError> {
    let mut checks = Checks::new();
    let name = b.name.trim().to_string();
    if checks.required("name", &name) {
        if name.chars().count() > 80 {
            checks.add(
                "name",
                "max_length",
                "名称最多 80 个字。",
                "At most 80 characters.",
            );
        }
        let clash: Option<i64> = bases::table
            .filter(bases::name.eq(&name))
            .select(bases::id)
            .first(conn)
            .optional()?;
        if clash.is_some_and(|c| Some(c) != id) {
            checks.add(
                "name",
                "unique",
                "已有同名基地。",
                "A base of this name exists.",
            );
        }
    }
    let level = Level::parse(&b.level);
    if level.is_none() {
        checks.add(
            "level",
            "one_of",
            "层级须为 city、district、street 或 community（市、区、街道、社区）。",
            "The level must be city, district, street or community.",
        );
    }
    let mut street_id = b.street_id;
    if let Some(level) = level {
        // Parent: exactly one level up; a city base has none.
        match (level.parent_level(), b.parent_id) {
            (None, Some(_)) => checks.add(
                "parent_id",
                "forbidden",
                "市级基地没有上级基地。",
                "A city base has no parent.",
            ),
            (Some(_), None) => checks.add(
                "parent_id",
                "required",
                "须选择上一级基地。",
                "A base one level up is required.",
            ),
            (Some(want), Some(p)) => {
                let parent: Option<(String, Option<i64>)> = bases::table
                    .find(p)
                    .select((bases::level, bases::street_id))
                    .first(conn)
                    .optional()?;
                match parent {
                    None => checks.add(
                        "parent_id",
                        "exists",
                        "没有这个上级基地。",
                        "No such parent base.",
                    ),
                    Some(_) if Some(p) == id => checks.add(
                        "parent_id",
                        "self",
                        "基地不能是自己的上级。",
                        "A base cannot be its own parent.",
                    ),
                    Some((pl, _)) if pl != want.as_str() => checks.add(
                        "parent_id",
                        "parent_level",
                        format!("上级基地须为{}基地（正好高一级）。", want.label_zh()),
                        format!(
                            "The parent must be a {} base (exactly one level up).",
                            want.label_en()
                        ),
                    ),
                    Some((_, parent_street)) => {
                        if level == Level::Community
                            && let Some(c) = b.community_id
                        {
                            let cs: Option<i64> = communities::table
                                .find(c)
                                .select(communities::street_id)
                                .first(conn)
                                .optional()?;
                            if cs.is_some() && parent_street.is_some() && cs != parent_street {
                                checks.add(
                                    "parent_id",
                                    "parent_area",
                                    "社区级基地的上级须为该社区所在街道的基地。",
                                    "A community base's parent must be the base of the community's street.",
                                );
                            }
                        }
                    }
                }
            }
            (None, None) => {}
        }
        // Area: the street of a street base, the community of a community base, none above.
        match level {
            Level::City | Level::District => {
                if b.street_id.is_some() {
                    checks.add(
                        "street_id",
                        "forbidden",
                        "市级、区级基地不属于某个街道。",
                        "City and district bases belong to no street.",
                    );
                }
                if b.community_id.is_some() {
                    checks.add(
                        "community_id",
                        "forbidden",
                        "市级、区级基地不属于某个社区。",
                        "City and district bases belong to no community.",
                    );
                }
            }
            Level::Street => {
                match b.street_id {
                    None => checks.add(
                        "street_id",
                        "required",
                        "街道级基地须选择街道。",
                        "A street base needs its street.",
                    ),
                    Some(s) => {
                        let found: Option<i64> = streets::table
                            .find(s)
                            .select(streets::id)
                            .first(conn)
                            .optional()?;
                        if found.is_none() {
                            checks.add("street_id", "exists", "没有这个街道。", "No such street.");
                        }
                    }
                }
                if b.community_id.is_some() {
                    checks.add(
                        "community_id",
                        "forbidden",
                        "街道级基地不属于某个社区。",
                        "A street base belongs to no community.",
                    );
                }
            }
            Level::Community => match b.community_id {
                None => checks.add(
                    "community_id",
                    "required",
                    "社区级基地须选择社区。",
                    "A community base needs its community.",
                ),
                Some(c) => {
                    let cs: Option<i64> = communities::table
                        .find(c)
                        .select(communities::street_id)
                        .first(conn)
                        .optional()?;
                    match cs {
                        None => checks.add(
                            "community_id",
                            "exists",
                            "没有这个社区。",
                            "No such community.",
                        ),
                        Some(cs) => {
                            if b.street_id.is_some_and(|s| s != cs) {
                                checks.add(
                                    "street_id",
                                    "mismatch",
                                    "街道与社区所属街道不一致。",
                                    "The street is not the community's street.",
                                );
                            }
                            street_id = Some(cs);
                        }
                    }
                }
            },
        }
        if let Some(id) = id {
            let before = find_row(conn, id)?;
            if before.level != level.as_str() {
                let kids: i64 = bases::table
                    .filter(bases::parent_id.eq(id))
                    .count()
                    .get_result(conn)?;
                if kids > 0 {
                    checks.add(
                        "level",
                        "has_children",
                        "该基地下有下级基地，不能更改层级。",
                        "The base has bases under it; its level cannot change.",
                    );
                }
            }
        }
    }
    if let Some(o) = b.operator_id {
        let found: Option<i64> = organisations::table
            .find(o)
            .select(organisations::id)
            .first(conn)
            .optional()?;
        if found.is_none() {
            checks.add(
                "operator_id",
                "exists",
                "没有这个组织。",
                "No such organisation.",
            );
        }
    }
    if !(0..=10_000).contains(&b.seats) {
        checks.add(
            "seats",
            "range",
            "席位数须在 0–10000 之间。",
            "Seats must be 0–10000.",
        );
    }
    if let Some(p) = opt_trim(&b.contact_phone)
        && !((5..=20).contains(&p.len())
            && p.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ')))
    {
        checks.add(
            "contact_phone",
            "format",
            "电话为 5–20 位数字（可含 - + 空格）。",
            "A phone number has 5–20 digits (- + and spaces allowed).",
        );
    }
    for (field, v, max) in [
        ("address", &b.address, 200),
        ("contact_name", &b.contact_name, 50),
    ] {
        if opt_trim(v).is_some_and(|s| s.chars().count() > max) {
            checks.add(
                field,
                "max_length",
                format!("最多 {max} 个字。"),
                format!("At most {max} characters."),
            );
        }
    }
    if !b.onsite && !b.virtual_mode {
        checks.add(
            "modes",
            "required",
            "至少提供实体孵化或虚拟孵化之一。",
            "Offer on-site or virtual incubation, or both.",
        );
    }
    let mut services: Vec<&str> = Vec::new();
    for s in &b.services {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if !SERVICES.iter().any(|(k, _, _)| *k == s) {
            checks.add(
                "services",
                "one_of",
                format!("未知的服务项目：{s}。"),
                format!("Unknown service: {s}."),
            );
        } else if !services.contains(&s) {
            services.push(s);
        }
    }
    checks.finish()?;
    Ok(Valid {
        name,
        level: level.expect("checked"),
        parent_id: b.parent_id,
        street_id,
        community_id: b.community_id,
        services: services.join(","),
    })
}

fn audit_json(v: &BaseView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    b: &BaseInput,
) -> Result<BaseView, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        let v = validate(conn, b, None)?;
        let id: i64 = diesel::insert_into(bases::table)
            .values((
                bases::name.eq(&v.name),
                bases::level.eq(v.level.as_str()),
                bases::parent_id.eq(v.parent_id),
                bases::street_id.eq(v.street_id),
                bases::community_id.eq(v.community_id),
                bases::operator_id.eq(b.operator_id),
                bases::seats.eq(b.seats),
                bases::address.eq(opt_trim(&b.address)),
                bases::contact_name.eq(opt_trim(&b.contact_name)),
                bases::contact_phone.eq(opt_trim(&b.contact_phone)),
                bases::onsite.eq(b.onsite),
                bases::virtual_mode.eq(b.virtual_mode),
                bases::services.eq(&v.services),
                bases::created_at.eq(ts),
                bases::updated_at.eq(ts),
            ))
            .returning(bases::id)
            .get_result(conn)?;
        let view = find(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "base.create",
            "base",
            Some(id.to_string()),
            None,
            Some(audit_json(&view)),
        )?;
        Ok(view)
    })
}

/// Replace a base's content; `expect` refuses it with 412 when the base changed since that version was read.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    b: &BaseInput,
    expect: Option<&str>,
) -> Result<BaseView, AppError> {
    let ts = crate::db::now_micros(now);
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "bases", id)?;
        crate::version::check(expect, &input_of(&find_row(conn, id)?))?;
        let before = find(conn, id)?;
        let v = validate(conn, b, Some(id))?;
        diesel::update(bases::table.find(id))
            .set((
                bases::name.eq(&v.name),
                bases::level.eq(v.level.as_str()),
                bases::parent_id.eq(v.parent_id),
                bases::street_id.eq(v.street_id),
                bases::community_id.eq(v.community_id),
                bases::operator_id.eq(b.operator_id),
                bases::seats.eq(b.seats),
                bases::address.eq(opt_trim(&b.address)),
                bases::contact_name.eq(opt_trim(&b.contact_name)),
                bases::contact_phone.eq(opt_trim(&b.contact_phone)),
                bases::onsite.eq(b.onsite),
                bases::virtual_mode.eq(b.virtual_mode),
                bases::services.eq(&v.services),
                bases::updated_at.eq(ts),
            ))
            .execute(conn)?;
        let after = find(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            "base.update",
            "base",
            Some(id.to_string()),
            Some(audit_json(&before)),
            Some(audit_json(&after)),
        )?;
        Ok(after)
    })
}
