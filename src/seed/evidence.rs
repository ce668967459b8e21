//! The demo's evidence files: each milestone report and credit listing the demo declares is a small PDF made
//! from the record (so its SHA-256 is the one the record keeps), stored and linked once the demo is seeded,
//! as a person would have uploaded it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::Pool;
use crate::db::schema::{
    contract_instalments as ci, contracts as ct, credit_listings as cl, files, users,
};
use crate::error::AppError;
use crate::files::{Attach, Purpose, Store};

/// A one-page PDF saying `text` (ASCII), the same bytes every time.
pub fn pdf(text: &str) -> Vec<u8> {
    let shown = text
        .replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)");
    let content = format!("BT /F1 12 Tf 56 780 Td ({shown}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let n = objects.len() + 1;
    out.extend_from_slice(format!("xref\n0 {n}\n0000000000 65535 f \n").as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {n} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// The text of a milestone's demo evaluation report.
pub fn report_text(contract_no: &str, no: i32) -> String {
    format!("Sanshe demo - evaluation report - contract {contract_no} - instalment {no}")
}

/// The text of a credit listing's demo evidence.
pub fn listing_text(org: i64, list: &str, listed_on: NaiveDate) -> String {
    format!("Sanshe demo - credit listing evidence - organisation {org} - {list} - {listed_on}")
}

/// One demo file to store: what it is for, its record, its name, its bytes and who uploads it.
struct Due {
    purpose: Purpose,
    record_id: i64,
    name: String,
    bytes: Vec<u8>,
    uploaded_by: i64,
}

/// The demo files not stored yet: records whose declared hash is their demo PDF's and that have no file.
fn due(conn: &mut crate::db::DbConn) -> Result<Vec<Due>, AppError> {
    let have: Vec<(String, i64)> = files::table
        .filter(files::purpose.eq_any([
            Purpose::MilestoneReport.as_str(),
            Purpose::CreditEvidence.as_str(),
        ]))
        .select((files::purpose, files::record_id))
        .load(conn)?;
    let has = |p: Purpose, id: i64| have.iter().any(|(q, r)| q == p.as_str() && *r == id);
    let mut out = Vec::new();
    let reports: Vec<(i64, i32, String, Option<i64>, String)> = ci::table
        .inner_join(ct::table.on(ct::id.eq(ci::contract_id)))
        .filter(ci::report_sha256.is_not_null())
        .select((
            ci::id,
            ci::no,
            ct::contract_no,
            ci::accepted_by,
            ci::report_sha256.assume_not_null(),
        ))
        .load(conn)?;
    for (id, no, contract_no, by, declared) in reports {
        let bytes = pdf(&report_text(&contract_no, no));
        if let Some(by) = by
            && !has(Purpose::MilestoneReport, id)
            && sha256(&bytes) == declared
        {
            out.push(Due {
                purpose: Purpose::MilestoneReport,
                record_id: id,
                name: format!("{contract_no} 第{no}期评估报告.pdf"),
                bytes,
                uploaded_by: by,
            });
        }
    }
    let bureau: Option<i64> = users::table
        .filter(users::role.eq("bureau"))
        .order(users::id)
        .select(users::id)
        .first(conn)
        .optional()?;
    let listings: Vec<(i64, i64, String, NaiveDate, String)> = cl::table
        .select((
            cl::id,
            cl::organisation_id,
            cl::list,
            cl::listed_on,
            cl::evidence_sha256,
        ))
        .load(conn)?;
    for (id, org, list, on, declared) in listings {
        let bytes = pdf(&listing_text(org, &list, on));
        if let Some(by) = bureau
            && !has(Purpose::CreditEvidence, id)
            && sha256(&bytes) == declared
        {
            out.push(Due {
                purpose: Purpose::CreditEvidence,
                record_id: id,
                name: format!("信用名单证据-{list}-{on}.pdf"),
                bytes,
                uploaded_by: by,
            });
        }
    }
    Ok(out)
}

/// Store and link the demo's evidence files not stored yet; how many were.
pub async fn store_files(
    pool: &Pool,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let p = pool.clone();
    let todo = tokio::task::spawn_blocking(move || due(&mut *p.get()?))
        .await
        .map_err(|e| AppError::internal(e.to_string()))??;
    let n = todo.len();
    for d in todo {
        let pieces = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
            actix_web::web::Bytes::from(d.bytes),
        )]);
        let pending = store.receive("file", &d.name, pieces, u64::MAX).await?;
        let (f, p) = (pending.file.clone(), pool.clone());
        let to = Attach {
            purpose: d.purpose,
            record_id: d.record_id,
            uploaded_by: d.uploaded_by,
        };
        let out = tokio::task::spawn_blocking(move || {
            let actor = Actor::system("seed");
            crate::files::record(&mut *p.get()?, &actor, now, &f, to, |_| Ok(()))
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
        store.settle(Some(pending), out).await?;
    }
    Ok(n)
}
