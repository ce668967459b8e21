//! Links between organisations that make them related suppliers (政府采购法实施条例 Art 18): recorded by the
//! bureau, one row per pair, ended by deleting it; read by the tender rules (`tenders::bids::refusals`).

use super::*;
use crate::db::schema::organisation_links as ol;
use crate::domain::tender::{Link, LinkKind, canonical_pair};

/// A link as seen from one of its organisations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    /// The organisation at the other end.
    pub other_id: i64,
    pub other_name: String,
    pub other_credit_code: Option<String>,
    /// `same_responsible_person` (单位负责人为同一人) or `control` (直接控股或管理关系).
    pub kind: LinkKind,
    /// The evidence the bureau relied on.
    pub note: String,
    pub recorded_by: String,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// A link to record, from the organisation in the path to another named by id or by credit code.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewLink {
    /// The other organisation's id (or give `other_credit_code`).
    #[serde(default)]
    pub other_id: Option<i64>,
    /// The other organisation's unified social credit code (or give `other_id`).
    #[serde(default)]
    pub other_credit_code: Option<String>,
    /// `same_responsible_person` or `control`.
    #[serde(default)]
    pub kind: String,
    /// The evidence (register extract, articles, …), at most 500 characters.
    #[serde(default)]
    pub note: String,
}

/// The links of an organisation, by the other organisation's name.
pub fn links_of(conn: &mut DbConn, org_id: i64) -> Result<Vec<LinkView>, AppError> {
    find(conn, org_id)?;
    let rows: Vec<(i64, i64, String, String, NaiveDateTime, String)> = ol::table
        .inner_join(
            crate::db::schema::users::table.on(crate::db::schema::users::id.eq(ol::recorded_by)),
        )
        .filter(
            ol::organisation_a
                .eq(org_id)
                .or(ol::organisation_b.eq(org_id)),
        )
        .select((
            ol::organisation_a,
            ol::organisation_b,
            ol::kind,
            ol::note,
            ol::recorded_at,
            crate::db::schema::users::username,
        ))
        .load(conn)?;
    let others: Vec<i64> = rows
        .iter()
        .map(|r| if r.0 == org_id { r.1 } else { r.0 })
        .collect();
    let names: HashMap<i64, (String, Option<String>)> = o::table
        .filter(o::id.eq_any(&others))
        .select((o::id, o::name, o::credit_code))
        .load::<(i64, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, n, c)| (id, (n, c)))
        .collect();
    let mut out: Vec<LinkView> = rows
        .into_iter()
        .zip(others)
        .map(|((_, _, kind, note, at, by), other)| {
            let (name, code) = names.get(&other).cloned().unwrap_or_default();
            LinkView {
                other_id: other,
                other_name: name,
                other_credit_code: code,
                kind: LinkKind::parse(&kind).unwrap_or(LinkKind::Control),
                note,
                recorded_by: by,
                recorded_at: at,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        x.other_name
            .cmp(&y.other_name)
            .then(x.other_id.cmp(&y.other_id))
    });
    Ok(out)
}

/// Every recorded link with at least one end in `orgs` (for the tender rule).
pub fn links_among(conn: &mut DbConn, orgs: &[i64]) -> QueryResult<Vec<Link>> {
    let rows: Vec<(i64, i64, String)> = ol::table
        .filter(
            ol::organisation_a
                .eq_any(orgs)
                .or(ol::organisation_b.eq_any(orgs)),
        )
        .select((ol::organisation_a, ol::organisation_b, ol::kind))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, b, k)| LinkKind::parse(&k).map(|kind| Link { a, b, kind }))
        .collect())
}

/// Registered organisations whose legal representative has the same name as this one's and that are not
/// linked to it yet: a hint for the bureau (a shared name proves nothing), at most 20.
pub fn possible_links(conn: &mut DbConn, org_id: i64) -> Result<Vec<(i64, String)>, AppError> {
    let rep: Option<String> = o::table
        .find(org_id)
        .select(o::legal_representative)
        .first(conn)?;
    let Some(rep) = rep.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) else {
        return Ok(Vec::new());
    };
    let linked: Vec<i64> = links_among(conn, &[org_id])?
        .iter()
        .filter_map(|l| l.other(org_id))
        .collect();
    Ok(o::table
        .filter(o::legal_representative.eq(&rep))
        .filter(o::id.ne(org_id))
        .filter(diesel::dsl::not(o::id.eq_any(&linked)))
        .order(o::id)
        .limit(20)
        .select((o::id, o::name))
        .load(conn)?)
}

/// Record a link between `org_id` and the other organisation. A link to itself or to an unknown
/// organisation is refused (422, naming the field); a pair already linked answers 409 (a concurrent
/// duplicate too, by the primary key).
pub fn add_link(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    user_id: i64,
    org_id: i64,
    input: &NewLink,
) -> Result<LinkView, AppError> {
    write_tx(conn, |conn| -> Result<LinkView, AppError> {
        find(conn, org_id)?;
        let mut c = Checks::new();
        let code = input
            .other_credit_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let other = match (input.other_id, code) {
            (Some(id), _) => {
                let found: Option<i64> = o::table.find(id).select(o::id).first(conn).optional()?;
                if found.is_none() {
                    c.add(
                        "other_id",
                        "exists",
                        "没有这个组织。",
                        "No such organisation.",
                    );
                }
                found
            }
            (None, Some(code)) => {
                let found: Option<i64> = o::table
                    .filter(o::credit_code.eq(crate::domain::credit_code::normalise(code)))
                    .select(o::id)
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    c.add(
                        "other_credit_code",
                        "exists",
                        "没有使用该统一社会信用代码的组织。",
                        "No organisation has this credit code.",
                    );
                }
                found
            }
            (None, None) => {
                c.add(
                    "other_id",
                    "required",
                    "请指定关联的组织（编号或统一社会信用代码）。",
                    "Name the related organisation (its id or credit code).",
                );
                None
            }
        };
        let pair = other.and_then(|x| {
            let p = canonical_pair(org_id, x);
            if p.is_none() {
                c.add(
                    if input.other_id.is_some() {
                        "other_id"
                    } else {
                        "other_credit_code"
                    },
                    "not_itself",
                    "组织不能与自身关联。",
                    "An organisation cannot be linked to itself.",
                );
            }
            p
        });
        let kind = LinkKind::parse(&input.kind);
        if kind.is_none() {
            c.add(
                "kind",
                "one_of",
                "关联类型须为 same_responsible_person（单位负责人为同一人）或 control（直接控股或管理关系）。",
                "The kind is same_responsible_person or control.",
            );
        }
        let note = crate::error::required_text(
            "note",
            &input.note,
            500,
            "请写明关联关系的依据（最多 500 字）。",
            "Give the evidence of the relationship (at most 500 characters).",
        );
        let note = match note {
            Ok(n) => Some(n.to_string()),
            Err(e) => {
                c.push(e);
                None
            }
        };
        c.finish()?;
        let ((a, b), kind, note) = (
            pair.expect("checked"),
            kind.expect("checked"),
            note.expect("checked"),
        );
        let other = other.expect("checked");
        let exists: Option<i64> = ol::table
            .find((a, b))
            .select(ol::organisation_a)
            .first(conn)
            .optional()?;
        if exists.is_some() {
            return Err(AppError::conflict(
                "link_exists",
                "这两个组织的关联关系已记录。",
                "A link between these two organisations is already recorded.",
            ));
        }
        diesel::insert_into(ol::table)
            .values((
                ol::organisation_a.eq(a),
                ol::organisation_b.eq(b),
                ol::kind.eq(kind.as_str()),
                ol::note.eq(&note),
                ol::recorded_by.eq(user_id),
                ol::recorded_at.eq(crate::db::now_micros(now)),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.link",
            "organisation_link",
            Some(format!("{a}-{b}")),
            None,
            Some(serde_json::json!({ "organisations": [a, b], "kind": kind, "note": note })),
        )?;
        links_of(conn, org_id)?
            .into_iter()
            .find(|l| l.other_id == other)
            .ok_or_else(|| AppError::internal("link just recorded"))
    })
}

/// End a link (delete its row, audited with what it was); 404 when there is none.
pub fn remove_link(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    org_id: i64,
    other_id: i64,
) -> Result<(), AppError> {
    write_tx(conn, |conn| -> Result<(), AppError> {
        let (a, b) = canonical_pair(org_id, other_id).ok_or(AppError::NotFound)?;
        let row: Option<(String, String)> = ol::table
            .find((a, b))
            .select((ol::kind, ol::note))
            .first(conn)
            .optional()?;
        let Some((kind, note)) = row else {
            return Err(AppError::NotFound);
        };
        diesel::delete(ol::table.find((a, b))).execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "organisation.unlink",
            "organisation_link",
            Some(format!("{a}-{b}")),
            Some(serde_json::json!({ "organisations": [a, b], "kind": kind, "note": note })),
            None,
        )?;
        Ok(())
    })
}
