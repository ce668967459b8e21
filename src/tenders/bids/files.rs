//! A bid's files at rest (issue 15). An uploaded file is sealed into the file store as it arrives
//! (`files::seal`: its own key, bound to the bid's tender and organisation as the bid's content is), named
//! only inside the bid's sealed payload, and covered by the commitment through its name, size and SHA-256
//! (`BidContent::attachments`). Small JSON attachments arrive inside the payload and are moved into the
//! store once the bid is kept ([`move_inline`]; at start-up for any a crash or an older version left).
//! No row outside the sealed payload says a sealed file exists, so nothing about it shows before opening.

use super::*;
use crate::files::Store;

/// Most files one bid carries, uploads and JSON attachments together.
pub const MAX_FILES: usize = 20;

/// A file received sealed for a bid of the caller's organisation, not yet part of a bid.
#[derive(Clone, Debug)]
pub struct SealedUpload {
    pub meta: AttachmentMeta,
    /// The object in the file store (`sealed/…`).
    pub object: String,
}

/// What seals a bid's files: the same binding as the bid's own sealed content.
pub fn binding(tender: impl Into<TenderId>, org: impl Into<OrgId>) -> String {
    seal::aad(tender, org)
}

/// Where an attachment's bytes are.
#[derive(Debug)]
pub enum Body {
    /// Still inside the sealed payload (moved into the store shortly).
    Inline(Vec<u8>),
    /// Sealed in the file store.
    Sealed { object: String, binding: String },
}

/// A bid's sealed payload and the content it commits to.
fn opened(ctx: &Ctx, b: &BidRow) -> Result<(Payload, BidContent), AppError> {
    let p = open_payload(ctx, b).ok_or_else(|| AppError::internal("a bid does not decrypt"))?;
    let content = serde_json::from_str(&p.content)
        .map_err(|_| AppError::internal("a bid's content does not parse"))?;
    Ok((p, content))
}

/// One attachment of a bid: its committed name, size and hash, and where its bytes are.
pub fn attachment(ctx: &Ctx, b: &BidRow, index: usize) -> Result<(AttachmentMeta, Body), AppError> {
    let (p, content) = opened(ctx, b)?;
    let meta = content
        .attachments
        .get(index)
        .cloned()
        .ok_or(AppError::NotFound)?;
    if let Some(object) = p.objects.get(index).filter(|o| !o.is_empty()) {
        return Ok((
            meta,
            Body::Sealed {
                object: object.clone(),
                binding: binding(b.tender(), b.organisation()),
            },
        ));
    }
    let body = p
        .files
        .get(index)
        .and_then(|f| base64::engine::general_purpose::STANDARD.decode(f).ok())
        .ok_or_else(|| AppError::internal("an attachment is missing"))?;
    Ok((meta, Body::Inline(body)))
}

/// The attachments of a bid whose bytes are still in its payload: (index, name, bytes).
fn inline_files(ctx: &Ctx, b: &BidRow) -> Result<Vec<(usize, String, Vec<u8>)>, AppError> {
    let (p, content) = opened(ctx, b)?;
    let mut out = Vec::new();
    for (i, meta) in content.attachments.iter().enumerate() {
        if p.objects.get(i).is_some_and(|o| !o.is_empty()) {
            continue;
        }
        let bytes = p
            .files
            .get(i)
            .and_then(|f| base64::engine::general_purpose::STANDARD.decode(f).ok())
            .ok_or_else(|| AppError::internal("an attachment is missing"))?;
        out.push((i, meta.name.clone(), bytes));
    }
    Ok(out)
}

/// Name the stored objects of `moved` (index, object) in the bid's payload and drop their bytes from it,
/// sealing the payload again (the content and its commitment are unchanged). `false`, changing nothing,
/// when another mover got there first.
fn keep_moved(
    conn: &mut DbConn,
    ctx: &Ctx,
    bid: i64,
    moved: &[(usize, String)],
) -> Result<bool, AppError> {
    write_tx(conn, |conn| {
        let b = find_bid(conn, bid)?;
        let mut p =
            open_payload(ctx, &b).ok_or_else(|| AppError::internal("a bid does not decrypt"))?;
        let n = p.files.len().max(p.objects.len());
        p.objects.resize(n, String::new());
        if moved
            .iter()
            .any(|(i, _)| p.objects.get(*i).is_none_or(|o| !o.is_empty()))
        {
            return Ok(false);
        }
        for (i, object) in moved {
            p.objects[*i] = object.clone();
            p.files[*i] = String::new();
        }
        let plain = serde_json::to_vec(&p).expect("plain values serialise");
        let (sealed, nonce) = ctx
            .sealer
            .seal(&seal::aad(b.tender(), b.organisation()), &plain);
        diesel::update(bids::table.find(bid))
            .set((bids::sealed.eq(sealed), bids::seal_nonce.eq(nonce)))
            .execute(conn)?;
        Ok(true)
    })
}

/// Move a bid's attachments still held in its payload into the file store, sealed; the number moved.
pub async fn move_inline(
    pool: &crate::db::Pool,
    ctx: &std::sync::Arc<Ctx>,
    store: &Store,
    bid: i64,
) -> Result<usize, AppError> {
    let c = ctx.clone();
    let (b, inline) = crate::db::run(pool, move |conn| {
        let b = find_bid(conn, bid)?;
        let inline = inline_files(&c, &b)?;
        Ok((b, inline))
    })
    .await?;
    if inline.is_empty() {
        return Ok(0);
    }
    let bind = binding(b.tender(), b.organisation());
    let mut moved = Vec::new();
    for (i, name, bytes) in inline {
        let (_, object) = store
            .seal_accepted(&name, bytes, &ctx.file_sealer, &bind)
            .await?;
        moved.push((i, object));
    }
    let (c, m) = (ctx.clone(), moved.clone());
    let kept = crate::db::run(pool, move |conn| keep_moved(conn, &c, bid, &m)).await?;
    if !kept {
        discard(store, moved.iter().map(|(_, o)| o.as_str())).await;
        return Ok(0);
    }
    Ok(moved.len())
}

/// [`move_inline`] for every bid; the number of files moved.
pub async fn move_all_inline(
    pool: &crate::db::Pool,
    ctx: &std::sync::Arc<Ctx>,
    store: &Store,
) -> Result<usize, AppError> {
    // One read finds the bids that still hold files, so a start with none to move costs one query.
    let c = ctx.clone();
    let ids: Vec<i64> = crate::db::run(pool, move |conn| {
        let rows: Vec<BidRow> = bids::table
            .order(bids::id)
            .select(BidRow::as_select())
            .load(conn)?;
        let mut ids = Vec::new();
        for b in rows {
            // A bid that does not open is `sanshe verify`'s to report, not a reason not to start.
            if inline_files(&c, &b).is_ok_and(|f| !f.is_empty()) {
                ids.push(b.id);
            }
        }
        Ok(ids)
    })
    .await?;
    let mut n = 0;
    for id in ids {
        n += move_inline(pool, ctx, store, id).await?;
    }
    Ok(n)
}

/// Delete sealed uploads no bid took (a refused or replayed submission). Best effort: a file left by a
/// failure here is unreadable without its bid and is listed by `sanshe verify`.
pub async fn discard<'a>(store: &Store, objects: impl IntoIterator<Item = &'a str>) {
    for o in objects {
        if let Err(e) = store.delete_sealed(o).await {
            tracing::warn!(object = o, "an unused sealed upload was not deleted: {e}");
        }
    }
}

/// A sealed file a bid names, for `sanshe verify`.
#[derive(Clone, Debug)]
pub struct SealedFile {
    pub bid: i64,
    pub object: String,
    pub binding: String,
    pub meta: AttachmentMeta,
}

/// What [`sealed_files`] found.
#[derive(Clone, Debug, Default)]
pub struct BidFiles {
    /// Every sealed file a bid names.
    pub sealed: Vec<SealedFile>,
    /// Attachments still inside their bids (moved at the next start).
    pub inline: usize,
    /// Receipts whose sealed content does not open (another seal secret, or altered rows).
    pub unopened: Vec<i64>,
}

/// Every bid's files, for `sanshe verify`.
pub fn sealed_files(conn: &mut DbConn, ctx: &Ctx) -> Result<BidFiles, AppError> {
    let rows: Vec<BidRow> = bids::table
        .order(bids::id)
        .select(BidRow::as_select())
        .load(conn)?;
    let mut out = BidFiles::default();
    for b in rows {
        let Ok((p, content)) = opened(ctx, &b) else {
            out.unopened.push(b.id);
            continue;
        };
        for (i, meta) in content.attachments.into_iter().enumerate() {
            match p.objects.get(i).filter(|o| !o.is_empty()) {
                Some(object) => out.sealed.push(SealedFile {
                    bid: b.id,
                    object: object.clone(),
                    binding: binding(b.tender(), b.organisation()),
                    meta,
                }),
                None => out.inline += 1,
            }
        }
    }
    Ok(out)
}
