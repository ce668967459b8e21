//! Reading bids: active bidders, a bid's content, the organisation's own bids, one bid or attachment.

use super::*;

/// Organisations with an active bid on a tender (for e-mails only: never shown before opening).
pub fn active_bidders(conn: &mut DbConn, tender: impl Into<TenderId>) -> QueryResult<Vec<i64>> {
    bids::table
        .filter(bids::tender_id.eq(tender.into().get()))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .select(bids::organisation_id)
        .load(conn)
}

/// The bid's content decrypted (for its own bidder, or anyone once opened).
pub fn content_of(ctx: &Ctx, b: &BidRow) -> Option<BidContent> {
    if let Some(j) = &b.opened_json {
        return serde_json::from_str(j).ok();
    }
    serde_json::from_str(&open_payload(ctx, b)?.content).ok()
}

/// The organisation's own bid on a tender: its latest active bid, or else its latest bid.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct OwnBid {
    pub receipt: Receipt,
    pub status_reason: Option<String>,
    pub content: Option<BidContent>,
    /// Earlier receipts of this organisation on this tender (replaced or withdrawn).
    pub history: Vec<Receipt>,
}

pub fn own_bid(
    conn: &mut DbConn,
    ctx: &Ctx,
    org: impl Into<OrgId>,
    tender: impl Into<TenderId>,
) -> Result<Option<OwnBid>, AppError> {
    let (org_id, tender_id) = (org.into().get(), tender.into().get());
    let rows: Vec<BidRow> = bids::table
        .filter(bids::tender_id.eq(tender_id))
        .filter(bids::organisation_id.eq(org_id))
        .order((bids::submitted_at.desc(), bids::id.desc()))
        .select(BidRow::as_select())
        .load(conn)?;
    let Some(pos) = rows
        .iter()
        .position(|b| b.bid_status() == Some(BidStatus::Active))
        .or((!rows.is_empty()).then_some(0))
    else {
        return Ok(None);
    };
    let main = &rows[pos];
    let mut history = Vec::new();
    for (i, b) in rows.iter().enumerate() {
        if i != pos {
            history.push(receipt(conn, b, None)?);
        }
    }
    Ok(Some(OwnBid {
        receipt: receipt(conn, main, None)?,
        status_reason: main.status_reason.clone(),
        content: content_of(ctx, main),
        history,
    }))
}

/// The organisation's bids across tenders (its receipts), newest first.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct MyBidLine {
    pub seq: i64,
    pub tender_id: i64,
    pub tender_code: String,
    pub tender_title: String,
    pub tender_state: String,
    pub status: String,
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    pub commitment: String,
    pub awarded: bool,
}

pub fn my_bids(conn: &mut DbConn, org: impl Into<OrgId>) -> QueryResult<Vec<MyBidLine>> {
    let org_id = org.into().get();
    type Row = (
        i64,
        i64,
        String,
        String,
        String,
        Option<i64>,
        String,
        NaiveDateTime,
        String,
    );
    let rows: Vec<Row> = bids::table
        .inner_join(tenders::table)
        .filter(bids::organisation_id.eq(org_id))
        .order((bids::submitted_at.desc(), bids::id.desc()))
        .select((
            bids::id,
            bids::tender_id,
            tenders::code,
            tenders::title,
            tenders::state,
            tenders::award_bid_id,
            bids::status,
            bids::submitted_at,
            bids::commitment,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                seq,
                tender_id,
                tender_code,
                tender_title,
                tender_state,
                award,
                status,
                submitted_at,
                commitment,
            )| {
                MyBidLine {
                    awarded: award == Some(seq)
                        && matches!(
                            State::parse(&tender_state),
                            Some(State::Awarded | State::Contracted)
                        ),
                    seq,
                    tender_id,
                    tender_code,
                    tender_title,
                    tender_state,
                    status,
                    submitted_at,
                    commitment,
                }
            },
        )
        .collect())
}

pub fn sealed_error(t: &TenderRow) -> AppError {
    AppError::conflict(
        "sealed",
        format!(
            "投标文件密封至开标时间 {}。",
            crate::clock::display(t.opening_at)
        ),
        format!(
            "Bids stay sealed until the opening at {}.",
            crate::clock::display(t.opening_at)
        ),
    )
}

pub fn find_bid(conn: &mut DbConn, id: impl Into<BidId>) -> Result<BidRow, AppError> {
    bids::table
        .find(id.into().get())
        .select(BidRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// An attachment as a caller may read it, the one rule for the API and the pages: its own organisation at
/// any time; after the opening the bureau, administrators and the panel's evaluators who declared no
/// conflict. Anything else (no such receipt, a receipt of another tender, another organisation's bid, a
/// bid still sealed) answers the same 404, so nobody learns which sealed bids exist (87号令 Art 33: bids
/// stay secret until opening).
pub fn read_attachment(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: chrono::DateTime<chrono::Utc>,
    caller: &crate::auth::CurrentUser,
    tender_id: i64,
    seq: i64,
    index: usize,
) -> Result<(AttachmentMeta, Body), AppError> {
    use crate::auth::Role;
    advance(conn, ctx, now, tender_id)?;
    let t = crate::tenders::find_row(conn, tender_id)?;
    let b = bids::table
        .find(seq)
        .select(BidRow::as_select())
        .first(conn)
        .optional()?
        .filter(|b| b.tender_id == tender_id)
        .ok_or(AppError::NotFound)?;
    let own = caller.role == Role::Org && caller.org_id == Some(b.organisation_id);
    let opened = !t.state().sealed() && b.opened_json.is_some();
    let allowed = own || (opened && reads_whole_bids(conn, tender_id, Some(caller))?);
    if !allowed {
        return Err(AppError::NotFound);
    }
    attachment(ctx, &b, index)
}

/// Whether `caller` reads a tender's opened bids whole (content, attachments, every committed field): the
/// bureau, administrators and the panel's evaluators who declared no conflict (实施条例 Art 9: a member with
/// a conflict withdraws, and one who has not declared has not yet said). Everyone else reads what the
/// opening made public (87号令 Art 41). Whether the tender is opened is the caller's check.
pub fn reads_whole_bids(
    conn: &mut DbConn,
    tender_id: i64,
    caller: Option<&crate::auth::CurrentUser>,
) -> Result<bool, AppError> {
    use crate::auth::Role;
    Ok(match caller {
        Some(u) if u.is_staff() => true,
        Some(u) if u.role == Role::Evaluator => evaluation::panel(conn, tender_id)?
            .iter()
            .any(|m| m.user_id == u.id && m.declaration.as_deref() == Some("none")),
        _ => false,
    })
}

/// The [`Disclosure`] of commitments for `caller`: whole for [`reads_whole_bids`], public otherwise.
pub fn disclosure(
    conn: &mut DbConn,
    tender_id: i64,
    caller: Option<&crate::auth::CurrentUser>,
) -> Result<Disclosure, AppError> {
    Ok(if reads_whole_bids(conn, tender_id, caller)? {
        Disclosure::Full
    } else {
        Disclosure::Public
    })
}

/// Audit events as `viewer` may see them: an event sealed at a bid (`audit::SEALED`) is shown with its
/// content once its tender is opened, or to a user of the organisation that bid; otherwise it stays "a
/// sealed bid was received", with no tender, organisation or bid.
pub fn audit_views(
    conn: &mut DbConn,
    ctx: &Ctx,
    viewer: &crate::auth::CurrentUser,
    events: Vec<audit::AuditEvent>,
) -> Result<Vec<audit::AuditView>, AppError> {
    let mut states: std::collections::HashMap<i64, State> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let Some(inner) = audit::unseal(&e, &ctx.sealer) else {
            out.push(audit::AuditView::plain(e));
            continue;
        };
        let state = match states.get(&inner.scope) {
            Some(s) => *s,
            None => {
                let s = crate::tenders::find_row(conn, inner.scope)?.state();
                states.insert(inner.scope, s);
                s
            }
        };
        let own = match (
            viewer.org_id,
            inner.entity_id.as_deref().map(str::parse::<i64>),
        ) {
            (Some(org), Some(Ok(bid))) => {
                bids::table
                    .find(bid)
                    .select(bids::organisation_id)
                    .first::<i64>(conn)
                    .optional()?
                    == Some(org)
            }
            _ => false,
        };
        out.push(audit::AuditView {
            unsealed: (!state.sealed() || own).then_some(inner),
            event: e,
        });
    }
    Ok(out)
}
