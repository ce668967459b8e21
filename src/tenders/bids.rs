//! Sealed bids: submission (eligibility, idempotency, the server's deadline), replacement and withdrawal,
//! opening, and the commitments anyone can check afterwards.
//!
//! Before opening the only readable columns of a bid are its tender, organisation, status, time, receipt
//! sequence and commitment; price, plan, budget, staff, targets and attachments exist only inside the AEAD
//! ciphertext. Only the bidder's own requests decrypt it, to show the bidder its own bid.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Ctx, TenderRow, log_event, move_state, seal, today};
use crate::audit::{self, Actor};
use crate::clock::Clock;
use crate::db::schema::{bids, organisation_ratings, organisations, social_workers, tenders};
use crate::db::{DbConn, write_tx};
use crate::domain::bid::BidStatus;
use crate::domain::ids::{BidId, OrgId, TenderId, UserId};
use crate::domain::money::Fen;
use crate::domain::standing::Status;
use crate::domain::tender::{self as rules, BudgetLine, Method, State, Targets};
use crate::error::{AppError, Checks, FieldError};
use crate::idempotency::{self, Decision};
use crate::mail::templates as mails;

/// Largest attachment, before base64.
pub const MAX_ATTACHMENT: usize = 128 * 1024;
pub const MAX_ATTACHMENTS: usize = 5;

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct BudgetLineInput {
    /// `staff`, `activities`, `supervision`, `publicity`, `office`, `management`, `taxes` or `other`.
    pub line: String,
    /// Yuan, e.g. `"45000"`.
    pub amount: String,
}

#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct AttachmentInput {
    pub name: String,
    /// The file, base64.
    pub content_base64: String,
}

/// A bid as submitted. A retry with the same `idempotency_key` returns the first receipt; the same key with
/// different content is refused.
#[derive(Deserialize, Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct BidInput {
    pub idempotency_key: String,
    /// Yuan, at most the budget ceiling.
    pub price: String,
    pub plan: String,
    pub budget: Vec<BudgetLineInput>,
    /// Ids of the organisation's social workers proposed for the service.
    #[serde(default)]
    pub staff: Vec<i64>,
    pub targets: Targets,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct StaffEntry {
    pub worker_id: i64,
    pub name: String,
    pub level: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub name: String,
    pub size: usize,
    pub sha256: String,
}

/// The content a commitment covers. Its canonical bytes are this struct as compact JSON, fields in this
/// order, UTF-8: exactly what `opened_json` holds after opening.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct BidContent {
    pub tender_id: i64,
    pub organisation_id: i64,
    pub price_fen: i64,
    pub plan: String,
    pub budget: Vec<BudgetLine>,
    pub staff: Vec<StaffEntry>,
    pub targets: Targets,
    pub attachments: Vec<AttachmentMeta>,
}

impl BidContent {
    /// The price, grouped yuan (`12,345.00`).
    pub fn price(&self) -> String {
        self.price_amount().yuan_grouped()
    }
    pub fn price_amount(&self) -> Fen {
        Fen::new(self.price_fen)
    }
    pub fn line_label(&self, key: &str, zh: bool) -> &'static str {
        rules::BUDGET_LINES
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, z, e)| if zh { *z } else { *e })
            .unwrap_or("")
    }
}

/// What is sealed: the canonical content, the commitment nonce, and the attachment bodies.
#[derive(Serialize, Deserialize)]
struct Payload {
    content: String,
    nonce: String,
    files: Vec<String>,
}

/// A submission receipt.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct Receipt {
    /// The receipt sequence number (increasing across all bids).
    pub seq: i64,
    pub tender_id: i64,
    pub tender_code: String,
    /// SHA-256 over the bid's canonical bytes and a secret nonce, hex; check it after opening.
    pub commitment: String,
    /// Server time of acceptance.
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    /// `active`, `replaced`, `withdrawn` or `disqualified` ([`BidStatus`] as stored).
    pub status: String,
    /// The receipt this bid replaced, if any.
    pub replaced: Option<i64>,
}

impl Receipt {
    pub fn bid_status(&self) -> Option<BidStatus> {
        BidStatus::parse(&self.status)
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = bids)]
pub struct BidRow {
    pub id: i64,
    pub tender_id: i64,
    pub organisation_id: i64,
    pub submitted_by: i64,
    pub status: String,
    pub submitted_at: NaiveDateTime,
    pub idem_key: String,
    pub request_hash: String,
    pub sealed: Vec<u8>,
    pub seal_nonce: Vec<u8>,
    pub commitment: String,
    pub opened_json: Option<String>,
    pub commit_nonce: Option<String>,
    pub price_fen: Option<i64>,
    pub status_reason: Option<String>,
}

impl BidRow {
    pub fn bid(&self) -> BidId {
        BidId::new(self.id)
    }
    pub fn tender(&self) -> TenderId {
        TenderId::new(self.tender_id)
    }
    pub fn organisation(&self) -> OrgId {
        OrgId::new(self.organisation_id)
    }
    /// The status; `None` only for text the column's CHECK would refuse.
    pub fn bid_status(&self) -> Option<BidStatus> {
        BidStatus::parse(&self.status)
    }
}

fn receipt(conn: &mut DbConn, b: &BidRow, replaced: Option<i64>) -> QueryResult<Receipt> {
    let code: String = tenders::table
        .find(b.tender_id)
        .select(tenders::code)
        .first(conn)?;
    Ok(Receipt {
        seq: b.id,
        tender_id: b.tender_id,
        tender_code: code,
        commitment: b.commitment.clone(),
        submitted_at: b.submitted_at,
        status: b.status.clone(),
        replaced,
    })
}

/// What the registry says about an organisation, for tender eligibility.
pub fn org_facts(
    conn: &mut DbConn,
    org: impl Into<OrgId>,
    today: chrono::NaiveDate,
) -> QueryResult<rules::OrgFacts> {
    let org_id = org.into().get();
    let rating: Option<i32> = organisation_ratings::table
        .filter(organisation_ratings::organisation_id.eq(org_id))
        .filter(organisation_ratings::awarded_on.le(today))
        .filter(organisation_ratings::expires_on.gt(today))
        .select(diesel::dsl::max(organisation_ratings::grade))
        .first(conn)?;
    let staff: i32 = organisations::table
        .find(org_id)
        .select(organisations::staff_count)
        .first(conn)?;
    let worker_levels: Vec<String> = social_workers::table
        .filter(social_workers::organisation_id.eq(org_id))
        .filter(social_workers::employment.ne("left"))
        .select(social_workers::certificate_level)
        .load(conn)?;
    Ok(rules::OrgFacts {
        rating,
        staff,
        worker_levels,
    })
}

/// Every reason an organisation may not bid on (or be awarded) this tender: barred standing (each reason),
/// not invited, and each unmet eligibility rule. Empty when it may.
pub fn refusals(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    org: impl Into<OrgId>,
    today: chrono::NaiveDate,
) -> Result<Vec<FieldError>, AppError> {
    let org_id = org.into().get();
    let mut out = Vec::new();
    let standing = crate::registry::orgs::standing_of(conn, org_id, today, ctx.standing)?;
    if standing.status == Status::Barred {
        for r in standing
            .reasons
            .iter()
            .filter(|r| r.status == Status::Barred)
        {
            out.push(FieldError::new("standing", r.code, &r.zh, &r.en));
        }
    }
    if matches!(t.method(), Method::Invited | Method::SingleSource)
        && !t.invited().contains(&org_id)
    {
        out.push(FieldError::new(
            "invited",
            "not_invited",
            "本项目仅限受邀组织投标。",
            "Only invited organisations may bid on this tender.",
        ));
    }
    out.extend(super::broken_errors(rules::unmet(
        &t.eligibility(),
        &org_facts(conn, org_id, today)?,
    )));
    Ok(out)
}

/// Organisations with an active bid on a tender (for e-mails only: never shown before opening).
pub fn active_bidders(conn: &mut DbConn, tender: impl Into<TenderId>) -> QueryResult<Vec<i64>> {
    bids::table
        .filter(bids::tender_id.eq(tender.into().get()))
        .filter(bids::status.eq(BidStatus::Active.as_str()))
        .select(bids::organisation_id)
        .load(conn)
}

/// Advisory-lock key serialising bids on one tender on PostgreSQL (SQLite already holds the write lock).
pub(crate) fn tender_lock(tender: impl Into<TenderId>) -> i64 {
    0x5a4e_5348_1000_0000 + tender.into().get()
}

struct Checked {
    content: BidContent,
    files: Vec<Vec<u8>>,
}

fn check_input(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    org_id: i64,
    input: &BidInput,
) -> Result<Checked, AppError> {
    let mut c = Checks::new();
    let ceiling = Fen::from(t.budget_fen);
    let price = crate::money::check_amount(&mut c, "price", &input.price, true);
    if let Some(p) = price
        && p > ceiling
    {
        c.add(
            "price",
            "max_budget",
            format!("报价不得超过预算上限 {} 元。", ceiling.yuan_grouped()),
            format!(
                "The price may not exceed the ceiling of ¥{}.",
                ceiling.yuan_grouped()
            ),
        );
    }
    let plan = input.plan.trim();
    if c.required("plan", plan) && plan.chars().count() > 20_000 {
        c.add(
            "plan",
            "max_length",
            "服务方案最多 20000 字。",
            "At most 20000 characters.",
        );
    }
    let mut budget = Vec::new();
    for (i, l) in input.budget.iter().enumerate() {
        if let Some(a) =
            crate::money::check_amount(&mut c, &format!("budget[{i}].amount"), &l.amount, true)
        {
            budget.push(BudgetLine::new(l.line.trim(), a));
        }
    }
    if let Some(p) = price
        && budget.len() == input.budget.len()
    {
        super::push_broken(&mut c, rules::check_budget(&budget, p, &ctx.rules));
    }
    let mut staff = Vec::new();
    let mut ids = input.staff.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != input.staff.len() {
        c.add(
            "staff",
            "unique",
            "人员不能重复。",
            "Each person appears once.",
        );
    }
    if !ids.is_empty() {
        let found: Vec<(i64, String, String)> = social_workers::table
            .filter(social_workers::id.eq_any(&ids))
            .filter(social_workers::organisation_id.eq(org_id))
            .filter(social_workers::employment.ne("left"))
            .order(social_workers::id)
            .select((
                social_workers::id,
                social_workers::name,
                social_workers::certificate_level,
            ))
            .load(conn)?;
        if found.len() != ids.len() {
            c.add(
                "staff",
                "own_workers",
                "拟派人员须为本组织在职的社工。",
                "Proposed staff must be the organisation's own current social workers.",
            );
        }
        staff = found
            .into_iter()
            .map(|(worker_id, name, level)| StaffEntry {
                worker_id,
                name,
                level,
            })
            .collect();
    } else {
        c.add(
            "staff",
            "required",
            "请选择拟派人员。",
            "Choose the staff proposed.",
        );
    }
    let tb = rules::check_targets("targets", &input.targets);
    if tb.is_empty() {
        super::push_broken(&mut c, rules::check_offer(&t.targets(), &input.targets));
    } else {
        super::push_broken(&mut c, tb);
    }
    if input.attachments.len() > MAX_ATTACHMENTS {
        c.add(
            "attachments",
            "max_count",
            format!("最多 {MAX_ATTACHMENTS} 个附件。"),
            format!("At most {MAX_ATTACHMENTS} attachments."),
        );
    }
    let mut metas = Vec::new();
    let mut files = Vec::new();
    for (i, a) in input.attachments.iter().enumerate() {
        let name = a.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.contains(['/', '\\']) {
            c.add(
                &format!("attachments[{i}].name"),
                "file_name",
                "请填写文件名（最多 200 字，不含斜杠）。",
                "Give a file name (at most 200 characters, no slashes).",
            );
        }
        match base64::engine::general_purpose::STANDARD.decode(a.content_base64.trim()) {
            Ok(bytes) if bytes.is_empty() => c.add(
                &format!("attachments[{i}].content_base64"),
                "required",
                "附件不能为空。",
                "The file is empty.",
            ),
            Ok(bytes) if bytes.len() > MAX_ATTACHMENT => c.add(
                &format!("attachments[{i}].content_base64"),
                "max_size",
                "每个附件最大 128 KiB。",
                "Each attachment is at most 128 KiB.",
            ),
            Ok(bytes) => {
                metas.push(AttachmentMeta {
                    name: name.to_string(),
                    size: bytes.len(),
                    sha256: hex::encode(Sha256::digest(&bytes)),
                });
                files.push(bytes);
            }
            Err(_) => c.add(
                &format!("attachments[{i}].content_base64"),
                "base64",
                "附件内容须为 base64 编码。",
                "The file must be base64.",
            ),
        }
    }
    c.finish()?;
    Ok(Checked {
        content: BidContent {
            tender_id: t.id,
            organisation_id: org_id,
            price_fen: price.expect("checked").get(),
            plan: plan.to_string(),
            budget,
            staff,
            targets: input.targets.clone(),
            attachments: metas,
        },
        files,
    })
}

/// Submit (or replace) the organisation's bid. The server's clock, read inside the transaction, decides:
/// at or after the bid deadline the bid is refused.
#[allow(clippy::too_many_arguments)]
pub fn submit(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user: impl Into<UserId>,
    org: impl Into<OrgId>,
    clock: &dyn Clock,
    tender: impl Into<TenderId>,
    input: &BidInput,
) -> Result<Receipt, AppError> {
    let (user_id, org_id, tender_id) = (user.into().get(), org.into().get(), tender.into().get());
    super::advance(conn, ctx, clock.now(), tender_id)?;
    let key = idempotency::check_key(&input.idempotency_key)?;
    let hash = idempotency::request_hash(input, &["idempotency_key"]);
    write_tx(conn, |conn| -> Result<Receipt, AppError> {
        crate::db::lock_chain(conn, tender_lock(tender_id))?;
        let now = clock.now();
        let ts = crate::db::now_micros(now);
        // The key is unique per organisation; the first bid under it must be for this tender with the
        // same content.
        let stored = bids::table
            .filter(bids::organisation_id.eq(org_id))
            .filter(bids::idem_key.eq(key))
            .select(BidRow::as_select())
            .first(conn)
            .optional()?
            .map(|prev| ((prev.tender_id, prev.request_hash.clone()), prev));
        match idempotency::decide(stored, &(tender_id, hash.clone())) {
            Decision::Replay(prev) => return Ok(receipt(conn, &prev, None)?),
            Decision::Conflict => return Err(idempotency::conflict("投标", "bid")),
            Decision::New => {}
        }
        let t = super::visible_row(conn, tender_id, false)?;
        if t.state() != State::Published || ts >= t.bid_deadline {
            return Err(AppError::conflict(
                "bidding_closed",
                format!(
                    "投标已截止（截止时间 {}），以服务器时间为准。",
                    crate::clock::display(t.bid_deadline)
                ),
                format!(
                    "Bidding closed at {} (server time decides).",
                    crate::clock::display(t.bid_deadline)
                ),
            ));
        }
        let refused = refusals(conn, ctx, &t, org_id, today(now))?;
        if !refused.is_empty() {
            return Err(AppError::Validation(refused));
        }
        let checked = check_input(conn, ctx, &t, org_id, input)?;
        let canonical = serde_json::to_string(&checked.content).expect("plain values serialise");
        let nonce = ctx.sealer.commitment_nonce();
        let commitment =
            seal::commitment(canonical.as_bytes(), &nonce).expect("nonce is hex by construction");
        let payload = serde_json::to_vec(&Payload {
            content: canonical,
            nonce,
            files: checked
                .files
                .iter()
                .map(|f| base64::engine::general_purpose::STANDARD.encode(f))
                .collect(),
        })
        .expect("plain values serialise");
        let (sealed, seal_nonce) = ctx.sealer.seal(
            &seal::aad(TenderId::new(tender_id), OrgId::new(org_id)),
            &payload,
        );
        let replaced: Option<i64> = bids::table
            .filter(bids::tender_id.eq(tender_id))
            .filter(bids::organisation_id.eq(org_id))
            .filter(bids::status.eq(BidStatus::Active.as_str()))
            .select(bids::id)
            .first(conn)
            .optional()?;
        if let Some(r) = replaced {
            diesel::update(bids::table.find(r))
                .set(bids::status.eq(BidStatus::Replaced.as_str()))
                .execute(conn)?;
        }
        let new_id: i64 = diesel::insert_into(bids::table)
            .values((
                bids::tender_id.eq(tender_id),
                bids::organisation_id.eq(org_id),
                bids::submitted_by.eq(user_id),
                bids::status.eq(BidStatus::Active.as_str()),
                bids::submitted_at.eq(ts),
                bids::idem_key.eq(key),
                bids::request_hash.eq(&hash),
                bids::sealed.eq(&sealed),
                bids::seal_nonce.eq(&seal_nonce),
                bids::commitment.eq(&commitment),
            ))
            .returning(bids::id)
            .get_result(conn)?;
        let row = find_bid(conn, new_id)?;
        // The audit event records the receipt, never the content.
        audit::record(
            conn,
            actor,
            now,
            if replaced.is_some() {
                "bid.replace"
            } else {
                "bid.submit"
            },
            "bid",
            Some(row.id.to_string()),
            replaced.map(|r| serde_json::json!({ "seq": r, "status": BidStatus::Replaced })),
            Some(serde_json::json!({
                "tender_id": tender_id,
                "seq": row.id,
                "commitment": commitment,
                "submitted_at": crate::clock::display(ts),
            })),
        )?;
        for (name, email) in super::contacts(conn, &[org_id])? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::BidReceipt {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    seq: row.id,
                    commitment: commitment.clone(),
                    submitted_at: crate::clock::display(ts),
                    opening_at: crate::clock::display(t.opening_at),
                    url: super::tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(receipt(conn, &row, replaced)?)
    })
}

/// Withdraw the organisation's bid: before the deadline freely; after opening (the winner or any ranked
/// bid) with a reason, passing the award on if it was the winner.
pub fn withdraw(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    org: impl Into<OrgId>,
    now: DateTime<Utc>,
    tender: impl Into<TenderId>,
    reason: Option<&str>,
) -> Result<(), AppError> {
    let (org_id, tender_id) = (org.into().get(), tender.into().get());
    super::advance(conn, ctx, now, tender_id)?;
    write_tx(conn, |conn| -> Result<(), AppError> {
        crate::db::lock_chain(conn, tender_lock(tender_id))?;
        let t = super::visible_row(conn, tender_id, false)?;
        let ts = crate::db::now_micros(now);
        let bid: Option<i64> = bids::table
            .filter(bids::tender_id.eq(tender_id))
            .filter(bids::organisation_id.eq(org_id))
            .filter(bids::status.eq(BidStatus::Active.as_str()))
            .select(bids::id)
            .first(conn)
            .optional()?;
        let Some(bid) = bid else {
            return Err(AppError::conflict(
                "no_active_bid",
                "本组织在该项目没有有效投标。",
                "Your organisation has no active bid on this tender.",
            ));
        };
        let state = t.state();
        let before_deadline = state == State::Published && ts < t.bid_deadline;
        let after_opening = matches!(
            state,
            State::Opened
                | State::Evaluating
                | State::Evaluated
                | State::AwardProposed
                | State::Publicity
                | State::Challenge
        );
        if !before_deadline && !after_opening {
            return Err(super::wrong_state(
                state,
                "此时不能撤回投标。",
                "a bid cannot be withdrawn now.",
            ));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if after_opening && reason.is_none() {
            return Err(AppError::field(
                "reason",
                "required",
                "开标后撤回须说明理由。",
                "A withdrawal after opening needs a reason.",
            ));
        }
        diesel::update(bids::table.find(bid))
            .set((
                bids::status.eq(BidStatus::Withdrawn.as_str()),
                bids::status_reason.eq(reason),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            now,
            "bid.withdraw",
            "bid",
            Some(bid.to_string()),
            Some(serde_json::json!({ "status": BidStatus::Active })),
            Some(serde_json::json!({ "status": BidStatus::Withdrawn, "reason": reason })),
        )?;
        if after_opening {
            super::evaluation::after_bid_lost(conn, ctx, actor, now, &t, bid)?;
        }
        Ok(())
    })
}

fn open_payload(ctx: &Ctx, b: &BidRow) -> Option<Payload> {
    let plain = ctx.sealer.open(
        &seal::aad(b.tender(), b.organisation()),
        &b.sealed,
        &b.seal_nonce,
    )?;
    serde_json::from_slice(&plain).ok()
}

/// The bid's content decrypted (for its own bidder, or anyone once opened).
pub fn content_of(ctx: &Ctx, b: &BidRow) -> Option<BidContent> {
    if let Some(j) = &b.opened_json {
        return serde_json::from_str(j).ok();
    }
    serde_json::from_str(&open_payload(ctx, b)?.content).ok()
}

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
        .order(bids::id)
        .select(BidRow::as_select())
        .load(conn)?;
    let mut valid = 0u32;
    for b in &rows {
        let opened = open_payload(ctx, b).and_then(|p| {
            let ok = seal::commitment(p.content.as_bytes(), &p.nonce).as_deref()
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
        Some(format!(
            "开标：{valid} 份有效投标 / {valid} valid bids opened"
        )),
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
        .order(bids::id.desc())
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
        .order(bids::id.desc())
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
        .order(bids::id)
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
            })
        })
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

/// One attachment of a bid, decrypted: (file name, bytes).
pub fn attachment(ctx: &Ctx, b: &BidRow, index: usize) -> Result<(String, Vec<u8>), AppError> {
    let p = open_payload(ctx, b).ok_or_else(|| AppError::internal("a bid does not decrypt"))?;
    let content: BidContent = serde_json::from_str(&p.content)
        .map_err(|_| AppError::internal("a bid's content does not parse"))?;
    let meta = content.attachments.get(index).ok_or(AppError::NotFound)?;
    let body = p
        .files
        .get(index)
        .and_then(|f| base64::engine::general_purpose::STANDARD.decode(f).ok())
        .ok_or_else(|| AppError::internal("an attachment is missing"))?;
    Ok((meta.name.clone(), body))
}

/// One opened bid's commitment and what anyone needs to recompute it.
#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct CommitmentCheck {
    pub seq: i64,
    pub organisation_name: String,
    #[schema(value_type = String)]
    pub submitted_at: NaiveDateTime,
    pub commitment: String,
    /// The canonical bytes (UTF-8 JSON) the commitment covers.
    pub canonical: String,
    /// The nonce, hex; commitment = SHA-256(canonical ‖ nonce bytes).
    pub nonce: String,
    /// Whether the stored content matches: the hash recomputes, the stored price is the committed price,
    /// and the sealed copy decrypts to the same bytes.
    pub ok: bool,
}

fn check_one(ctx: &Ctx, b: &BidRow) -> bool {
    let (Some(canonical), Some(nonce)) = (&b.opened_json, &b.commit_nonce) else {
        return false;
    };
    let hash_ok =
        seal::commitment(canonical.as_bytes(), nonce).as_deref() == Some(b.commitment.as_str());
    let price_ok = serde_json::from_str::<BidContent>(canonical)
        .ok()
        .is_some_and(|c| Some(c.price_amount()) == b.price_fen.map(Fen::from));
    let sealed_ok =
        open_payload(ctx, b).is_some_and(|p| &p.content == canonical && &p.nonce == nonce);
    hash_ok && price_ok && sealed_ok
}

/// The commitments of a tender's opened bids, each checked. Refused while sealed.
pub fn commitments(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
) -> Result<Vec<CommitmentCheck>, AppError> {
    let rows = opened_rows(conn, t)?;
    Ok(rows
        .into_iter()
        .map(|(b, name)| CommitmentCheck {
            ok: check_one(ctx, &b),
            seq: b.id,
            organisation_name: name,
            submitted_at: b.submitted_at,
            commitment: b.commitment.clone(),
            canonical: b.opened_json.clone().unwrap_or_default(),
            nonce: b.commit_nonce.clone().unwrap_or_default(),
        })
        .collect())
}

/// Check every opened bid in the database (`sanshe verify`): (checked, receipts that fail).
pub fn verify_all(conn: &mut DbConn, ctx: &Ctx) -> QueryResult<(usize, Vec<i64>)> {
    let rows: Vec<BidRow> = bids::table
        .filter(bids::opened_json.is_not_null())
        .order(bids::id)
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
    reason: &str,
) -> Result<(), AppError> {
    let bid = bid.into();
    diesel::update(bids::table.find(bid.get()))
        .set((
            bids::status.eq(status.as_str()),
            bids::status_reason.eq(reason),
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
        Some(format!("投标 #{bid}：{reason}")),
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
    reason: &str,
) -> Result<(), AppError> {
    let status = BidStatus::parse(status)
        .ok_or_else(|| AppError::internal(format!("not a bid status: {status}")))?;
    set_bid_status(conn, actor, now, t, bid, status, reason)
}
