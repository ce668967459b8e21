//! Evidence: the file a record comes with — a milestone's evaluation report, a spending item's invoice
//! scan, an activity's sign-in sheet, a credit listing's evidence. The record keeps the file's SHA-256; it
//! may declare it before the file arrives (a CSV import, an API client that sends the file afterwards).
//! The file is linked to the record by a `files` row whose hash is the declared one, and every download is
//! checked against that hash as it streams, so what the record points at is what it was written with.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{Attach, FileRow, Purpose, Received};
use crate::audit::Actor;
use crate::auth::{CurrentUser, Role};
use crate::db::schema::{
    activities as ac, contract_instalments as ci, contracts as ct, credit_listings as cl, files,
    spending_items as si,
};
use crate::db::{DbConn, write_tx};
use crate::error::AppError;

// A record and the files rows naming it, in one query (`waiting`).
mod same_query {
    use crate::db::schema::{
        activities, contract_instalments, credit_listings, files, spending_items,
    };
    diesel::allow_tables_to_appear_in_same_query!(files, contract_instalments);
    diesel::allow_tables_to_appear_in_same_query!(files, spending_items);
    diesel::allow_tables_to_appear_in_same_query!(files, activities);
    diesel::allow_tables_to_appear_in_same_query!(files, credit_listings);
}

/// A record that takes evidence: its organisation, and the hash it declares when it declares one.
#[derive(Clone, Debug)]
pub struct Holder {
    pub organisation_id: i64,
    pub declared: Option<String>,
}

impl Holder {
    /// A record of `organisation_id` declaring `declared` (an empty hash declares none).
    pub fn new(organisation_id: i64, declared: Option<String>) -> Holder {
        Holder {
            organisation_id,
            declared: declared.filter(|h| !h.is_empty()),
        }
    }
}

fn contract_org(conn: &mut DbConn, contract: i64) -> Result<i64, AppError> {
    Ok(ct::table
        .find(contract)
        .select(ct::organisation_id)
        .first(conn)?)
}

/// The record `id` that evidence of `purpose` belongs to; 404 when there is none (or `purpose` is not
/// evidence).
pub fn holder(conn: &mut DbConn, purpose: Purpose, id: i64) -> Result<Holder, AppError> {
    let found: Option<(i64, Option<String>)> = match purpose {
        Purpose::MilestoneReport => {
            let x: Option<(i64, Option<String>)> = ci::table
                .find(id)
                .select((ci::contract_id, ci::report_sha256))
                .first(conn)
                .optional()?;
            match x {
                Some((c, h)) => Some((contract_org(conn, c)?, h)),
                None => None,
            }
        }
        Purpose::SpendingEvidence => {
            let x: Option<(i64, Option<String>)> = si::table
                .find(id)
                .select((si::contract_id, si::evidence_sha256))
                .first(conn)
                .optional()?;
            match x {
                Some((c, h)) => Some((contract_org(conn, c)?, h)),
                None => None,
            }
        }
        Purpose::SignInSheet => ac::table
            .find(id)
            .select((ac::organisation_id, ac::evidence_sha256))
            .first(conn)
            .optional()?,
        Purpose::CreditEvidence => cl::table
            .find(id)
            .select((cl::organisation_id, cl::evidence_sha256))
            .first::<(i64, String)>(conn)
            .optional()?
            .map(|(o, h)| (o, Some(h))),
        Purpose::TenderDocument | Purpose::TenderAmendment => None,
    };
    let (organisation_id, declared) = found.ok_or(AppError::NotFound)?;
    Ok(Holder::new(organisation_id, declared))
}

/// Who may read a record's evidence: the bureau, finance and administrators, and the record's own
/// organisation; never the public or an evaluator (a sign-in sheet names people).
pub fn may_read(reader: Option<&CurrentUser>, h: &Holder) -> bool {
    reader.is_some_and(|u| match u.role {
        Role::Admin | Role::Bureau | Role::Finance => true,
        Role::Org => u.org_id == Some(h.organisation_id),
        Role::Evaluator => false,
    })
}

/// Who writes records of each kind adds their evidence: the bureau (and administrators) milestone reports
/// and credit listings, an organisation its own spending and activities.
pub fn may_add(user: &CurrentUser, purpose: Purpose, h: &Holder) -> bool {
    role_adds(user.role, purpose)
        && (user.role != Role::Org || user.org_id == Some(h.organisation_id))
}

fn role_adds(role: Role, purpose: Purpose) -> bool {
    match purpose {
        Purpose::MilestoneReport | Purpose::CreditEvidence => {
            matches!(role, Role::Bureau | Role::Admin)
        }
        Purpose::SpendingEvidence | Purpose::SignInSheet => role == Role::Org,
        Purpose::TenderDocument | Purpose::TenderAmendment => false,
    }
}

/// Whether `user` may add the file the record `id` declared, now; `sha256` is the file's hash once it is
/// known. 403 for a role that does not add such files, 404 for a record they may not read, 409
/// `no_declared_file` when the record declares none, 409 `evidence_present` when its file is here already,
/// 422 at `file` (`hash_mismatch`) for another file than the declared one.
pub fn may_attach(
    conn: &mut DbConn,
    user: &CurrentUser,
    purpose: Purpose,
    id: i64,
    sha256: Option<&str>,
) -> Result<Holder, AppError> {
    if !role_adds(user.role, purpose) {
        return Err(AppError::Forbidden);
    }
    let h = holder(conn, purpose, id)?;
    if !may_read(Some(user), &h) || !may_add(user, purpose, &h) {
        return Err(AppError::NotFound);
    }
    let Some(declared) = h.declared.clone() else {
        return Err(AppError::conflict(
            "no_declared_file",
            "该记录未登记凭证文件的 SHA-256，不能补传文件。",
            "The record declares no evidence file (no SHA-256), so none can be added to it.",
        ));
    };
    let present: i64 = files::table
        .filter(files::purpose.eq(purpose.as_str()))
        .filter(files::record_id.eq(id))
        .count()
        .get_result(conn)?;
    if present > 0 {
        return Err(AppError::conflict(
            "evidence_present",
            "该记录的凭证文件已上传。",
            "The record's evidence file is here already.",
        ));
    }
    if let Some(sha) = sha256
        && sha != declared
    {
        return Err(mismatch("file", &declared, sha));
    }
    Ok(h)
}

fn mismatch(field: &str, declared: &str, got: &str) -> AppError {
    AppError::field(
        field,
        "hash_mismatch",
        format!("文件的 SHA-256 为 {got}，与登记的 {declared} 不符：不是登记的那份文件。"),
        format!(
            "The file's SHA-256 is {got}, not the declared {declared}: it is not the file declared."
        ),
    )
}

/// Link `f` to the record `id` that declared it, in one write transaction with [`may_attach`].
pub fn attach(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    user: &CurrentUser,
    purpose: Purpose,
    id: i64,
    f: &Received,
) -> Result<FileRow, AppError> {
    write_tx(conn, |conn| {
        may_attach(conn, user, purpose, id, Some(&f.sha256))?;
        let to = Attach {
            purpose,
            record_id: id,
            uploaded_by: user.id,
        };
        super::insert(conn, actor, now, f, to)
    })
}

/// The hash a new record declares: the uploaded file's when one came (a hash typed at `field` as well must
/// be the same one), else what was typed.
pub fn declared(field: &str, typed: &str, file: Option<&Received>) -> Result<String, AppError> {
    let typed = typed.trim().to_ascii_lowercase();
    match file {
        None => Ok(typed),
        Some(f) if typed.is_empty() || typed == f.sha256 => Ok(f.sha256.clone()),
        Some(f) => Err(mismatch(field, &typed, &f.sha256)),
    }
}

/// The evidence a new record comes with.
#[derive(Clone, Debug)]
pub struct Evidence {
    pub purpose: Purpose,
    pub file: Received,
    pub uploaded_by: i64,
}

/// Write a record with `write` and link `evidence` to the record `id_of` names, in one transaction.
pub fn written_with<T>(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    evidence: Option<&Evidence>,
    write: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
    id_of: impl FnOnce(&mut DbConn, &T) -> Result<i64, AppError>,
) -> Result<T, AppError> {
    write_tx(conn, |conn| {
        let v = write(conn)?;
        if let Some(e) = evidence {
            let to = Attach {
                purpose: e.purpose,
                record_id: id_of(conn, &v)?,
                uploaded_by: e.uploaded_by,
            };
            super::insert(conn, actor, now, &e.file, to)?;
        }
        Ok(v)
    })
}

/// The files of records of `purpose`, by record id.
pub fn of_records(
    conn: &mut DbConn,
    purpose: Purpose,
    ids: &[i64],
) -> Result<HashMap<i64, FileRow>, AppError> {
    let rows: Vec<FileRow> = files::table
        .filter(files::purpose.eq(purpose.as_str()))
        .filter(files::record_id.eq_any(ids))
        .order(files::id)
        .select(FileRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.record_id, r)).collect())
}

/// The instalment `no` of contract `contract`: the record a milestone report belongs to.
pub fn instalment_id(conn: &mut DbConn, contract: i64, no: i32) -> Result<i64, AppError> {
    ci::table
        .filter(ci::contract_id.eq(contract))
        .filter(ci::no.eq(no))
        .select(ci::id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// How many records of each evidence purpose declare a file that is not uploaded yet (a CSV import, an API
/// client that has not sent it): what `sanshe verify` reports, not a fault.
pub fn waiting(conn: &mut DbConn) -> Result<Vec<(Purpose, i64)>, AppError> {
    use diesel::dsl::not;
    macro_rules! count {
        ($t:ident, $hash:expr, $p:expr) => {
            $t::table
                .filter($hash)
                .filter(not($t::id.eq_any(
                    files::table
                        .filter(files::purpose.eq($p.as_str()))
                        .select(files::record_id),
                )))
                .count()
                .get_result::<i64>(conn)?
        };
    }
    let out = vec![
        (
            Purpose::MilestoneReport,
            count!(
                ci,
                ci::report_sha256.is_not_null(),
                Purpose::MilestoneReport
            ),
        ),
        (
            Purpose::SpendingEvidence,
            count!(
                si,
                si::evidence_sha256.is_not_null(),
                Purpose::SpendingEvidence
            ),
        ),
        (
            Purpose::SignInSheet,
            count!(ac, ac::evidence_sha256.is_not_null(), Purpose::SignInSheet),
        ),
        (
            Purpose::CreditEvidence,
            count!(cl, cl::evidence_sha256.ne(""), Purpose::CreditEvidence),
        ),
    ];
    Ok(out.into_iter().filter(|(_, n)| *n > 0).collect())
}
