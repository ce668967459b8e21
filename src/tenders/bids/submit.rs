//! Submission: the input checked, a bid sealed and stored (or replaced) by the server's clock; withdrawal.

use super::*;

struct Checked {
    content: BidContent,
    /// Each attachment's body, base64, while it is inline; empty for one in the file store.
    files: Vec<String>,
    /// Each attachment's sealed object in the file store; empty for one inline.
    objects: Vec<String>,
}

/// Check a bid. Its files are, in this order, the JSON attachments, the files of the current bid it keeps
/// (`current`: that bid's, when there is one) and the files uploaded with it.
fn check_input(
    conn: &mut DbConn,
    ctx: &Ctx,
    t: &TenderRow,
    org_id: i64,
    input: &BidInput,
    current: Option<&BidRow>,
    uploaded: &[SealedUpload],
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
    if let Some(b) = price.and_then(|p| rules::check_fixed_price_offer(&t.criteria(), p)) {
        c.add(&b.field, b.rule, b.zh, b.en);
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
        let mut found: Vec<(i64, String, String)> =
            crate::registry::workers::proposable(conn, org_id)?
                .into_iter()
                .filter(|(id, _, _)| ids.binary_search(id).is_ok())
                .collect();
        found.sort_unstable_by_key(|w| w.0);
        if found.len() != ids.len() {
            c.add(
                "staff",
                "own_workers",
                "拟派人员须为本组织在职、且证书经民政局核实的社工。",
                "Proposed staff must be the organisation's own current social workers whose certificates the bureau has verified.",
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
    let (mut metas, mut files, mut objects) = (Vec::new(), Vec::new(), Vec::new());
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
                files.push(base64::engine::general_purpose::STANDARD.encode(&bytes));
                objects.push(String::new());
            }
            Err(_) => c.add(
                &format!("attachments[{i}].content_base64"),
                "base64",
                "附件内容须为 base64 编码。",
                "The file must be base64.",
            ),
        }
    }
    let mut kept = input.keep_files.clone();
    kept.sort_unstable();
    kept.dedup();
    for i in kept {
        match current.map(|b| attachment(ctx, b, i)).transpose() {
            Ok(Some((meta, body))) => {
                metas.push(meta);
                match body {
                    Body::Inline(bytes) => {
                        files.push(base64::engine::general_purpose::STANDARD.encode(&bytes));
                        objects.push(String::new());
                    }
                    Body::Sealed { object, .. } => {
                        files.push(String::new());
                        objects.push(object);
                    }
                }
            }
            Ok(None) | Err(AppError::NotFound) => c.add(
                "keep_files",
                "no_such_file",
                format!("当前投标没有第 {} 个附件可保留。", i + 1),
                format!("The current bid has no file {} to keep.", i + 1),
            ),
            Err(e) => return Err(e),
        }
    }
    for u in uploaded {
        metas.push(u.meta.clone());
        files.push(String::new());
        objects.push(u.object.clone());
    }
    if metas.len() > MAX_FILES {
        c.add(
            "files",
            "max_count",
            format!("一份投标最多 {MAX_FILES} 个文件。"),
            format!("A bid carries at most {MAX_FILES} files."),
        );
    }
    let total: u64 = metas.iter().map(|m| m.size as u64).sum();
    if total > ctx.bid_files_max {
        let mib = ctx.bid_files_max.div_ceil(1024 * 1024);
        c.add(
            "files",
            "too_large",
            format!("一份投标的文件合计不得超过 {mib} MiB。"),
            format!("A bid's files may total at most {mib} MiB."),
        );
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
        objects,
    })
}

/// Submit (or replace) the organisation's bid. The server's clock, read inside the transaction, decides:
/// at or after the bid deadline the bid is refused.
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, clock and input are each needed and distinct"
)]
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
    let bid = Bid {
        input,
        uploaded: &[],
    };
    submit_with_files(conn, ctx, actor, user, org, clock, tender, bid).map(|(r, _)| r)
}

/// A bid as sent: its fields and the files uploaded with it, already sealed for the caller's organisation
/// on this tender ([`binding`]).
#[derive(Clone, Copy)]
pub struct Bid<'a> {
    pub input: &'a BidInput,
    pub uploaded: &'a [SealedUpload],
}

/// What a bid's request is, for its idempotency key: the fields and the uploaded files' names and hashes.
#[derive(Serialize)]
struct Request<'a> {
    #[serde(flatten)]
    input: &'a BidInput,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<&'a AttachmentMeta>,
}

/// [`submit`] with uploaded files. Also says whether the bid took them: `false` when the answer is the
/// first receipt of a retry, whose own files are already kept (the caller discards the new uploads).
#[expect(
    clippy::too_many_arguments,
    reason = "a service call: connection, context, actor, caller, clock and input are each needed and distinct"
)]
pub fn submit_with_files(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    user: impl Into<UserId>,
    org: impl Into<OrgId>,
    clock: &dyn Clock,
    tender: impl Into<TenderId>,
    bid: Bid,
) -> Result<(Receipt, bool), AppError> {
    let (user_id, org_id, tender_id) = (user.into().get(), org.into().get(), tender.into().get());
    let Bid { input, uploaded } = bid;
    super::advance(conn, ctx, clock.now(), tender_id)?;
    let key = idempotency::check_key(&input.idempotency_key)?;
    let request = Request {
        input,
        files: uploaded.iter().map(|u| &u.meta).collect(),
    };
    let hash = idempotency::request_hash(&request, &["idempotency_key"]);
    write_tx(conn, |conn| -> Result<(Receipt, bool), AppError> {
        // The organisation first (its keys are unique across its tenders, so the same key sent for two
        // tenders at once must meet here), then the tender; always in this order.
        crate::db::lock_chain(conn, org_lock(org_id))?;
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
            Decision::Replay(prev) => return Ok((receipt(conn, &prev, None)?, false)),
            Decision::Conflict => return Err(idempotency::conflict("投标", "bid")),
            Decision::New => {}
        }
        let t = may_bid(conn, ctx, now, org_id, tender_id)?;
        let current: Option<BidRow> = bids::table
            .filter(bids::tender_id.eq(tender_id))
            .filter(bids::organisation_id.eq(org_id))
            .filter(bids::status.eq(BidStatus::Active.as_str()))
            .select(BidRow::as_select())
            .first(conn)
            .optional()?;
        let checked = check_input(conn, ctx, &t, org_id, input, current.as_ref(), uploaded)?;
        let canonical = serde_json::to_string(&checked.content).expect("plain values serialise");
        let nonce = ctx.sealer.commitment_nonce();
        let commitment = commitment_of(commitment::FIELDWISE, &canonical, &nonce)
            .expect("canonical content and nonce by construction");
        let objects = if checked.objects.iter().all(String::is_empty) {
            Vec::new()
        } else {
            checked.objects
        };
        let payload = serde_json::to_vec(&Payload {
            content: canonical,
            nonce,
            files: checked.files,
            objects,
        })
        .expect("plain values serialise");
        let (sealed, seal_nonce) = ctx.sealer.seal(
            &seal::aad(TenderId::new(tender_id), OrgId::new(org_id)),
            &payload,
        );
        let replaced = current.map(|b| b.id);
        if let Some(r) = replaced {
            diesel::update(bids::table.find(r))
                .set(bids::status.eq(BidStatus::Replaced.as_str()))
                .execute(conn)?;
        }
        let new_id: i64 = diesel::insert_into(bids::table)
            .values((
                bids::id.eq(receipt_number(conn)?),
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
                bids::commit_scheme.eq(commitment::FIELDWISE),
            ))
            .returning(bids::id)
            .get_result(conn)?;
        let row = find_bid(conn, new_id)?;
        // The audit event records the receipt, never the content.
        audit_bid(
            conn,
            ctx,
            actor,
            now,
            &t,
            if replaced.is_some() {
                "bid.replace"
            } else {
                "bid.submit"
            },
            row.id,
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
        Ok((receipt(conn, &row, replaced)?, true))
    })
}

/// The tender, when the organisation may bid on it now: it is published, the server's clock is before
/// its deadline, and nothing in the registry refuses the organisation.
pub fn may_bid(
    conn: &mut DbConn,
    ctx: &Ctx,
    now: DateTime<Utc>,
    org: impl Into<OrgId>,
    tender: impl Into<TenderId>,
) -> Result<TenderRow, AppError> {
    let t = super::visible_row(conn, tender.into().get(), false)?;
    if t.state() != State::Published || crate::db::now_micros(now) >= t.bid_deadline {
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
    let refused = refusals(conn, ctx, &t, org.into().get(), today(now))?;
    if !refused.is_empty() {
        return Err(AppError::Validation(refused));
    }
    Ok(t)
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
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        match state.withdrawal(ts < t.bid_deadline) {
            Withdrawal::Free => {}
            Withdrawal::WithReason if reason.is_some() => {}
            Withdrawal::WithReason => {
                return Err(AppError::field(
                    "reason",
                    "required",
                    "开标后撤回须说明理由。",
                    "A withdrawal after opening needs a reason.",
                ));
            }
            Withdrawal::NotNow => {
                return Err(super::wrong_state(
                    state,
                    "此时不能撤回投标。",
                    "a bid cannot be withdrawn now.",
                ));
            }
        }
        diesel::update(bids::table.find(bid))
            .set((
                bids::status.eq(BidStatus::Withdrawn.as_str()),
                bids::status_reason.eq(reason),
            ))
            .execute(conn)?;
        audit_bid(
            conn,
            ctx,
            actor,
            now,
            &t,
            "bid.withdraw",
            bid,
            Some(serde_json::json!({ "status": BidStatus::Active })),
            Some(serde_json::json!({ "status": BidStatus::Withdrawn, "reason": reason })),
        )?;
        if state.opened_not_final() {
            super::evaluation::after_bid_lost(conn, ctx, actor, now, &t, bid)?;
        }
        for (name, email) in super::contacts(conn, &[org_id])? {
            crate::mail::enqueue(
                conn,
                now,
                &email,
                &mails::BidWithdrawn {
                    organisation: name,
                    code: t.code.clone(),
                    title: t.title.clone(),
                    seq: bid,
                    withdrawn_at: crate::clock::display(ts),
                    reason: reason.map(str::to_string),
                    may_bid_again: t.bidding_open(now),
                    bid_deadline: crate::clock::display(t.bid_deadline),
                    url: super::tender_url(ctx, tender_id),
                },
            )?;
        }
        Ok(())
    })
}

/// A bid's audit event: sealed while its tender's bids are (`audit::SEALED`: who bid on what is no one's
/// business but the bidder's until the opening), plain afterwards.
#[expect(
    clippy::too_many_arguments,
    reason = "one audit event: each argument is a column of it"
)]
fn audit_bid(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &TenderRow,
    action: &str,
    bid: i64,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> QueryResult<audit::AuditEvent> {
    let id = Some(bid.to_string());
    if t.state().sealed() {
        audit::record_sealed(
            conn,
            actor,
            now,
            &ctx.sealer,
            t.id,
            action,
            "bid",
            id,
            before,
            after,
        )
    } else {
        audit::record(conn, actor, now, action, "bid", id, before, after)
    }
}
