//! Change requests: an `org` user's change of its organisation's name, kind, credit code or staff count
//! waits here until the bureau approves it (the change is applied, audited) or rejects it with a reason.
//! The staff count is an eligibility fact (`domain::facts`): the old one counts until then.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::CurrentUser;
use crate::db::schema::{change_requests as cr, organisations as o};
use crate::db::{DbConn, write_tx};
use crate::error::{AppError, Checks};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = cr)]
pub struct ChangeRequestRow {
    pub id: i64,
    pub organisation_id: i64,
    pub requested_by: i64,
    pub changes: String,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeRequestView {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub requested_by: i64,
    /// The proposed values: any of name, kind, credit_code, staff_count.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// pending, approved or rejected
    pub status: String,
    pub decided_by: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

impl ChangeRequestView {
    pub fn of(r: ChangeRequestRow, organisation_name: String) -> ChangeRequestView {
        ChangeRequestView {
            id: r.id,
            organisation_id: r.organisation_id,
            organisation_name,
            requested_by: r.requested_by,
            changes: serde_json::from_str(&r.changes).unwrap_or_default(),
            status: r.status,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            reason: r.reason,
            created_at: r.created_at,
        }
    }

    /// A proposed value, for pages.
    pub fn proposed(&self, key: &str) -> Option<String> {
        self.changes.get(key).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "—".into(),
            other => other.to_string(),
        })
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> Result<ChangeRequestRow, AppError> {
    Ok(cr::table
        .find(id)
        .select(ChangeRequestRow::as_select())
        .first(conn)?)
}

/// Record a pending request inside the caller's transaction (the proposal is already validated).
pub fn create_in_tx(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    organisation_id: i64,
    requested_by: i64,
    changes: serde_json::Map<String, serde_json::Value>,
) -> Result<ChangeRequestRow, AppError> {
    let text = serde_json::Value::Object(changes.clone()).to_string();
    let id: i64 = diesel::insert_into(cr::table)
        .values((
            cr::organisation_id.eq(organisation_id),
            cr::requested_by.eq(requested_by),
            cr::changes.eq(&text),
            cr::status.eq("pending"),
            cr::created_at.eq(crate::db::now_micros(now)),
        ))
        .returning(cr::id)
        .get_result(conn)?;
    audit::record(
        conn,
        actor,
        now,
        "change_request.create",
        "change_request",
        Some(id.to_string()),
        None,
        Some(serde_json::json!({"organisation_id": organisation_id, "changes": changes})),
    )?;
    find(conn, id)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// approve or reject
    #[serde(default)]
    pub decision: String,
    /// Required when rejecting.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The bureau approves (applies the change) or rejects (with a reason) a pending request.
pub fn decide(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: crate::domain::standing::Rules,
    by: &CurrentUser,
    id: i64,
    d: &Decision,
) -> Result<ChangeRequestRow, AppError> {
    let mut checks = Checks::new();
    let reason = d
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    match d.decision.as_str() {
        "approve" => {}
        "reject" => {
            if reason.is_none() {
                checks.add(
                    "reason",
                    "required",
                    "驳回须说明理由。",
                    "A rejection needs a reason.",
                );
            }
        }
        _ => checks.add(
            "decision",
            "one_of",
            "决定须为 approve 或 reject。",
            "The decision is approve or reject.",
        ),
    }
    checks.finish()?;
    let ts = crate::db::now_micros(now);
    // Read and checked under the row lock: two decisions at once cannot both find it pending.
    write_tx(conn, |conn| {
        crate::db::lock_row(conn, "change_requests", id)?;
        let before = find(conn, id)?;
        if before.status != "pending" {
            return Err(AppError::conflict(
                "already_decided",
                "该变更申请已处理。",
                "This change request has already been decided.",
            ));
        }
        let status = if d.decision == "approve" {
            let changes: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&before.changes).unwrap_or_default();
            crate::registry::orgs::apply_identity_change(
                conn,
                actor,
                now,
                rules,
                before.organisation_id,
                &changes,
            )?;
            "approved"
        } else {
            "rejected"
        };
        let n = diesel::update(cr::table.find(id).filter(cr::status.eq("pending")))
            .set((
                cr::status.eq(status),
                cr::decided_by.eq(Some(by.id)),
                cr::decided_at.eq(Some(ts)),
                cr::reason.eq(&reason),
            ))
            .execute(conn)?;
        if n != 1 {
            return Err(AppError::conflict(
                "already_decided",
                "该变更申请已处理。",
                "This change request has already been decided.",
            ));
        }
        audit::record(
            conn,
            actor,
            now,
            if status == "approved" {
                "change_request.approve"
            } else {
                "change_request.reject"
            },
            "change_request",
            Some(id.to_string()),
            Some(serde_json::json!({"status": "pending"})),
            Some(serde_json::json!({"status": status, "reason": reason})),
        )?;
        find(conn, id)
    })
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
// An unknown parameter is refused (400 naming it), not silently ignored.
#[serde(deny_unknown_fields)]
pub struct ChangeFilter {
    /// pending, approved or rejected
    pub status: Option<String>,
    pub organisation_id: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Requests, newest first; an `org` user sees only its own organisation's.
pub fn list(
    conn: &mut DbConn,
    by: &CurrentUser,
    f: &ChangeFilter,
) -> Result<crate::db::Paged<ChangeRequestView>, AppError> {
    let paging = crate::db::Paging::new(f.page, f.per_page);
    let own = by.org_scope()?.or(f.organisation_id);
    let build = || {
        let mut q = cr::table.inner_join(o::table).into_boxed();
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(cr::status.eq(s.to_string()));
        }
        if let Some(id) = own {
            q = q.filter(cr::organisation_id.eq(id));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows: Vec<(ChangeRequestRow, String)> = build()
        .order(cr::id.desc())
        .offset(paging.offset())
        .limit(paging.limit())
        .select((ChangeRequestRow::as_select(), o::name))
        .load(conn)?;
    Ok(paging.of(
        rows.into_iter()
            .map(|(r, n)| ChangeRequestView::of(r, n))
            .collect(),
        total,
    ))
}
