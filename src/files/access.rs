//! Who may add files to a record and who may read them, per purpose.

use diesel::prelude::*;

use super::{FileRow, Purpose};
use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::db::schema::tenders;
use crate::domain::tender::State;
use crate::error::AppError;

/// The state of a tender, 404 when there is none.
fn tender_state(conn: &mut DbConn, id: i64) -> Result<State, AppError> {
    let s: String = tenders::table
        .find(id)
        .select(tenders::state)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok(State::parse(&s).unwrap_or(State::Draft))
}

/// A tender takes documents while it is a draft. Once published, a change to the documents is a
/// clarification (澄清或者修改), which must reach every bidder and may move the deadline (87号令 Art 27):
/// it goes through the clarification step, not a bare upload.
pub fn may_add_tender_document(conn: &mut DbConn, tender_id: i64) -> Result<(), AppError> {
    match tender_state(conn, tender_id)? {
        State::Draft => Ok(()),
        s => Err(AppError::conflict(
            "tender_not_draft",
            format!(
                "项目处于“{}”状态：采购文件只能在草稿时添加；发布后的修改须作为澄清发布（87号令第二十七条）。",
                s.label(true)
            ),
            format!(
                "The tender is {}: documents are added while it is a draft; after publishing, a change is a clarification (87号令 Art 27).",
                s.label(false).to_lowercase()
            ),
        )),
    }
}

/// Whether `reader` (`None`: the public) may read the files of a record: a tender's documents (and its
/// clarifications, which exist only once it is published) are public once it is published, the bureau's
/// before; evidence is read by the bureau, finance and the record's organisation
/// ([`super::evidence::may_read`]).
pub fn may_read(
    conn: &mut DbConn,
    reader: Option<&CurrentUser>,
    purpose: Purpose,
    record_id: i64,
) -> Result<bool, AppError> {
    match purpose {
        Purpose::TenderDocument | Purpose::TenderAmendment => Ok(reader
            .is_some_and(CurrentUser::is_staff)
            || tender_state(conn, record_id)? != State::Draft),
        Purpose::MilestoneReport
        | Purpose::SpendingEvidence
        | Purpose::SignInSheet
        | Purpose::CreditEvidence => Ok(super::evidence::may_read(
            reader,
            &super::evidence::holder(conn, purpose, record_id)?,
        )),
    }
}

/// A tender's documents and then its clarifications, each oldest first, when `reader` may read them
/// (`None` when not: a draft, to anyone but the bureau).
pub fn tender_files(
    conn: &mut DbConn,
    reader: Option<&CurrentUser>,
    tender_id: i64,
) -> Result<Option<Vec<FileRow>>, AppError> {
    if !may_read(conn, reader, Purpose::TenderDocument, tender_id)? {
        return Ok(None);
    }
    let mut all = super::of_record(conn, Purpose::TenderDocument, tender_id)?;
    all.extend(super::of_record(conn, Purpose::TenderAmendment, tender_id)?);
    Ok(Some(all))
}

/// [`may_read`] for one file, and whether anyone may (a public file may be cached): 404 (not 403) when
/// the reader may not, so a draft's files are not known to exist.
pub fn readable(
    conn: &mut DbConn,
    reader: Option<&CurrentUser>,
    id: i64,
) -> Result<(FileRow, bool), AppError> {
    let row = super::find(conn, id)?;
    let purpose = Purpose::parse(&row.purpose).ok_or(AppError::NotFound)?;
    let public = may_read(conn, None, purpose, row.record_id)?;
    if public || may_read(conn, reader, purpose, row.record_id)? {
        Ok((row, public))
    } else {
        Err(AppError::NotFound)
    }
}
