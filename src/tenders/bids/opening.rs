//! Opening against the commitments; the opened bids, their commitments checked; a bid's later status.

use super::*;
use crate::domain::tender::Note;

/// Open every active bid at the opening time: decrypt, check against the commitment, store the canonical
/// content, nonce and price; then opened, or failed when too few valid bids remain. Bidders are told.
pub fn open_all(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
) -> Result<(), AppError> {
    let rows: Vec<BidRow> = bids::table
        .filter(bids::tender_id.eq(t.id))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .order((bids::submitted_at, bids::id))
        .select(BidRow::as_select())
        .load(conn)?;
    let mut valid = 0u32;
    for b in &rows {
        let opened = open_payload(ctx, b).and_then(|p| {
            let ok = commitment_of(b.commit_scheme, &p.content, &p.nonce).as_deref()
                == Some(b.commitment.as_str());
            let c: Option<BidContent> = serde_json::from_str(&p.content).ok();
            c.filter(|_| ok).map(|c| (p, c))
        });
        match opened {
            Some((p, c)) => {
                diesel::update(bids::table.find(b.id))
                    .set((
                        bids::opened_json.eq(&p.content),
                        bids::commit_nonce.eq(&p.nonce),
                        bids::price_fen.eq(c.price_fen),
                    ))
                    .execute(conn)?;
                valid += 1;
            }
            None => {
                tracing::error!(
                    bid = b.id,
                    "a sealed bid does not open or match its commitment"
                );
                diesel::update(bids::table.find(b.id))
                    .set((
                        bids::status.eq(BidStatus::Disqualified.as_str()),
                        bids::status_reason.eq("密封内容无法解密或与承诺值不符 / sealed content unreadable or not matching its commitment"),
                    ))
                    .execute(conn)?;
            }
        }
    }
    move_state(
        conn,
        actor,
        now,
        t.id,
        State::Closed,
        State::Opened,
        Some(Note::Opened { valid }),
    )?;
    let bidders: Vec<i64> = rows.iter().map(|b| b.organisation_id).collect();
    for (name, email) in super::contacts(conn, &bidders)? {
        crate::mail::enqueue(
            conn,
            now,
            &email,
            &mails::BidsOpened {
                organisation: name,
                code: t.code.clone(),
                title: t.title.clone(),
                valid,
                url: format!("{}/commitments", super::tender_url(ctx, t.id)),
            },
        )?;
    }
    super::evaluation::fail_if_too_few(conn, ctx, actor, now, t.id)?;
    Ok(())
}

/// An opened bid, for the bureau, administrators and the panel.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct OpenedBid {
    pub seq: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    pub price: String,
    pub content: BidContent,
    /// The receipt's commitment (hex), public once opened; here for the seed of a tie draw.
    #[serde(skip)]
    pub commitment: String,
}

/// The opened bids of a tender with their organisations' names, by receipt order; 409 `sealed` while the
/// tender is sealed. The one query behind both the opened-bid list and the commitments.
fn opened_rows(conn: &mut DbConn, t: &TenderRow) -> Result<Vec<(BidRow, String)>, AppError> {
    if t.state().sealed() {
        return Err(sealed_error(t));
    }
    Ok(bids::table
        .inner_join(organisations::table)
        .filter(bids::tender_id.eq(t.id))
        .filter(bids::opened_json.is_not_null())
        .order((bids::submitted_at, bids::id))
        .select((BidRow::as_select(), organisations::name))
        .load(conn)?)
}

/// The bids opened on a tender (status active or later disqualified/withdrawn), by receipt order. Refused
/// (409 `sealed`) while the tender is sealed.
pub fn opened_bids(conn: &mut DbConn, t: &TenderRow) -> Result<Vec<OpenedBid>, AppError> {
    let rows = opened_rows(conn, t)?;
    Ok(rows
        .into_iter()
        .filter_map(|(b, name)| {
            let content: BidContent = serde_json::from_str(b.opened_json.as_deref()?).ok()?;
            Some(OpenedBid {
                seq: b.id,
                organisation_id: b.organisation_id,
                organisation_name: name,
                status: b.status,
                status_reason: b.status_reason,
                submitted_at: b.submitted_at,
                price: content.price(),
                content,
                commitment: b.commitment,
            })
        })
        .collect())
}

/// One opened bid's commitment, checked, with what the reader may use to recompute it.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct CommitmentCheck {
    pub seq: i64,
    pub organisation_name: String,
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    /// 2: field-wise (`fields` recompute `commitment`); 1: a bid committed whole before field-wise
    /// commitments, which only a reader of the whole bid can recompute (from `canonical` and `nonce`).
    pub scheme: i32,
    /// The root (scheme 2) or the whole-bid hash (scheme 1), hex: what the bidder's receipt says.
    pub commitment: String,
    /// The price read out at the opening, yuan.
    pub price: String,
    /// Scheme 2: each field's leaf in order; value (compact JSON) and salt for the fields disclosed to this
    /// reader (to everyone: `tender_id`, `organisation_id`, `price_fen`).
    pub fields: Vec<commitment::FieldProof>,
    /// The canonical bytes (UTF-8 JSON), for the bureau, administrators and the panel's evaluators who
    /// declared no conflict; `null` for everyone else.
    pub canonical: Option<String>,
    /// The nonce, hex; as `canonical`.
    pub nonce: Option<String>,
    /// Whether the stored content matches: the commitment recomputes, the stored price is the committed
    /// price, and the sealed copy decrypts to the same bytes.
    pub ok: bool,
}

fn check_one(ctx: &Ctx, b: &BidRow) -> bool {
    let (Some(canonical), Some(nonce)) = (&b.opened_json, &b.commit_nonce) else {
        return false;
    };
    let hash_ok =
        commitment_of(b.commit_scheme, canonical, nonce).as_deref() == Some(b.commitment.as_str());
    let price_ok = serde_json::from_str::<BidContent>(canonical)
        .ok()
        .is_some_and(|c| Some(c.price_amount()) == b.price_fen.map(Fen::from));
    let sealed_ok =
        open_payload(ctx, b).is_some_and(|p| &p.content == canonical && &p.nonce == nonce);
    hash_ok && price_ok && sealed_ok
}

/// The commitments of a tender's opened bids, each checked, as `reader` may see them (the public: bidder,
/// price and the hashes of the other fields; [`reads_whole_bids`]: everything). Refused while sealed.
pub fn commitments(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    reader: Disclosure,
) -> Result<Vec<CommitmentCheck>, AppError> {
    let rows = opened_rows(conn, t)?;
    Ok(rows
        .into_iter()
        .map(|(b, name)| {
            let content = b
                .opened_json
                .as_deref()
                .and_then(|c| serde_json::from_str::<BidContent>(c).ok());
            let fields = match (&content, &b.commit_nonce) {
                (Some(c), Some(n)) if b.commit_scheme == commitment::FIELDWISE => {
                    commitment::commit(&c.fields(), n, reader)
                        .map(|(_, f)| f)
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let whole = reader == Disclosure::Full;
            CommitmentCheck {
                ok: check_one(ctx, &b),
                seq: b.id,
                organisation_name: name,
                submitted_at: b.submitted_at,
                scheme: b.commit_scheme,
                price: b
                    .price_fen
                    .map(|p| Fen::new(p).yuan_grouped())
                    .unwrap_or_default(),
                fields,
                canonical: whole.then(|| b.opened_json.clone()).flatten(),
                nonce: whole.then(|| b.commit_nonce.clone()).flatten(),
                commitment: b.commitment,
            }
        })
        .collect())
}

/// Check every opened bid in the database (`sanshe verify`): (checked, receipts that fail).
pub fn verify_all(conn: &mut DbConn, ctx: &Ctx) -> QueryResult<(usize, Vec<i64>)> {
    let rows: Vec<BidRow> = bids::table
        .filter(bids::opened_json.is_not_null())
        .order((bids::submitted_at, bids::id))
        .select(BidRow::as_select())
        .load(conn)?;
    let bad = rows
        .iter()
        .filter(|b| !check_one(ctx, b))
        .map(|b| b.id)
        .collect();
    Ok((rows.len(), bad))
}

/// Record a bid's new status with an event on the tender timeline (disqualification).
pub fn set_bid_status(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
    bid: impl Into<BidId>,
    status: BidStatus,
    reason: Note,
) -> Result<(), AppError> {
    let bid = bid.into();
    diesel::update(bids::table.find(bid.get()))
        .set((
            bids::status.eq(status.as_str()),
            bids::status_reason.eq(reason.both()),
        ))
        .execute(conn)?;
    log_event(
        conn,
        actor,
        now,
        t.id,
        Some(t.state()),
        t.state(),
        &format!("bid.{status}"),
        Some(Note::BidLost {
            bid: bid.get(),
            reason: Box::new(reason),
        }),
    )?;
    Ok(())
}

/// [`set_bid_status`] for callers holding the stored text; text that is not a status is refused.
pub fn set_status(
    conn: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
    bid: i64,
    status: &str,
    reason: Note,
) -> Result<(), AppError> {
    let status = BidStatus::parse(status)
        .ok_or_else(|| AppError::internal(format!("not a bid status: {status}")))?;
    set_bid_status(conn, actor, now, t, bid, status, reason)
}
