//! Signed checkpoints (issue 9, "a chain nobody can quietly rewrite"): someone with write access to the
//! database drops the triggers and rewrites or cuts the audit trail, recomputing every later hash so the
//! chain itself still verifies; `sanshe verify` fails all the same, naming the signed checkpoint, from the
//! stored checkpoints or from a copy kept elsewhere. Forged signatures fail too. Signing on demand (API, page,
//! command line) and by the scheduler, the auditors' mail, the public page and list.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use sanshe::audit::AuditEvent;
use sanshe::db::DbConn;
use sanshe::db::schema::{audit_events as a, chain_checkpoints as k, outbox as o};
use serde_json::{Value, json};

use crate::both_backends;
use crate::cli::{run, sanshe};
use crate::helpers::*;
use crate::route_table::{ADMIN_FINANCE, Op, Public, Roles};

/// The API operations of this feature, for the route table.
pub(crate) const ROUTES: &[Op] = &[
    crate::op!("GET", "/api/v1/checkpoints", "/api/v1/checkpoints", Public),
    crate::op!(
        "POST",
        "/api/v1/checkpoints",
        "/api/v1/checkpoints",
        Roles(ADMIN_FINANCE),
        r#"{"chain": "audit"}"#
    ),
];

fn sql(c: &mut DbConn, q: &str) {
    c.batch_execute(q).unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// What an attacker with database access does first: drop the append-only triggers.
fn drop_triggers(c: &mut DbConn, b: &Backend) {
    match b {
        Backend::Sqlite => sql(
            c,
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;
             DROP TRIGGER chain_checkpoints_no_update; DROP TRIGGER chain_checkpoints_no_delete;",
        ),
        Backend::Postgres(_) => sql(
            c,
            "DROP TRIGGER audit_events_no_update_delete ON audit_events;
             DROP TRIGGER chain_checkpoints_no_update_delete ON chain_checkpoints;",
        ),
    }
}

fn events(c: &mut DbConn) -> Vec<AuditEvent> {
    a::table
        .order(a::seq)
        .select(AuditEvent::as_select())
        .load(c)
        .unwrap()
}

/// Rewrite event `seq` (its actor becomes mallory) and recompute its hash and every later one, so the chain
/// links again from start to end. Returns the new hash of event `at`.
fn rewrite(c: &mut DbConn, seq: i64, at: i64) -> String {
    let mut all = events(c);
    let mut prev = sanshe::audit::GENESIS.to_string();
    for e in all.iter_mut() {
        if e.seq == seq {
            e.actor_name = "mallory".into();
        }
        if e.seq >= seq {
            e.prev_hash = prev.clone();
            e.hash = sanshe::audit::compute_hash(e);
            diesel::update(a::table.find(e.seq))
                .set((
                    a::actor_name.eq(&e.actor_name),
                    a::prev_hash.eq(&e.prev_hash),
                    a::hash.eq(&e.hash),
                ))
                .execute(c)
                .unwrap();
        }
        prev = e.hash.clone();
    }
    all.iter().find(|e| e.seq == at).unwrap().hash.clone()
}

/// A few more audited changes: one new user each.
async fn more_events(app: &TestApp, prefix: &str, n: usize) {
    for i in 0..n {
        app.create_user(&format!("{prefix}{i}"), "bureau", None, None)
            .await;
    }
}

fn head(c: &mut DbConn) -> (i64, String) {
    a::table
        .order(a::seq.desc())
        .select((a::seq, a::hash))
        .first(c)
        .unwrap()
}

/// Sign the audit chain's head through the API as `user`; the answer's status and body.
async fn sign(app: &TestApp, user: &str) -> (u16, Value) {
    let t = app.token(user).await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/checkpoints",
            Some(&t),
            &json!({"chain": "audit"}),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// The published list, as anyone gets it.
async fn published(app: &TestApp) -> Value {
    let r = app.get("/api/v1/checkpoints", None).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `sanshe verify` with these checkpoint files: exit code and standard output.
fn verify(db: &TestDb, files: &[&std::path::Path]) -> (i32, String) {
    let mut c = sanshe(db);
    c.arg("verify");
    for f in files {
        c.arg("--checkpoint").arg(f);
    }
    let (code, out, err) = run(&mut c);
    assert!(!err.contains("panicked"), "{err}");
    (code, out)
}

fn label(cp: &Value) -> String {
    format!(
        "checkpoint audit #{} signed {}",
        cp["seq"].as_i64().unwrap(),
        cp["signed_at"].as_str().unwrap()
    )
}

fn write_file(db: &TestDb, name: &str, v: &Value) -> std::path::PathBuf {
    let p = db.dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

/// (5) The untouched chain: every way of signing, the published list checked offline with nothing but the
/// documented format and an Ed25519 library, and `verify` (with and without copies) says ok.
async fn untouched_chain_verifies(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            auditor_emails: vec![
                "auditor@audit.example".into(),
                "shenji@audit.example".into(),
            ],
            ..Default::default()
        },
    )
    .await;
    more_events(&app, "cp-a", 2).await;
    let (seq1, hash1) = head(&mut app.conn());
    let (status, first) = sign(&app, "finance").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (
            first["chain"].as_str(),
            first["seq"].as_i64(),
            first["hash"].as_str()
        ),
        (Some("audit"), Some(seq1), Some(hash1.as_str()))
    );
    assert_eq!(first["signed_by"], "finance");
    // The same head again: the same checkpoint, nothing new.
    let (status, again) = sign(&app, "admin").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);

    // Each auditor gets the checkpoint by mail, as JSON that reads back as the same checkpoint.
    let mails: Vec<(String, String, String)> = o::table
        .filter(o::template.eq("checkpoint_signed"))
        .order(o::id)
        .select((o::to_addr, o::subject, o::body_text))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(
        mails.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        vec!["auditor@audit.example", "shenji@audit.example"]
    );
    assert!(
        mails[0].1.contains(&format!("audit #{seq1}")),
        "{}",
        mails[0].1
    );
    let body = &mails[0].2;
    let json_start = body
        .find("{\n")
        .expect("the checkpoint as JSON in the mail");
    let from_mail = sanshe::chain::checkpoint::parse_copies(&body[json_start..]).unwrap();
    assert_eq!(serde_json::to_value(&from_mail[0]).unwrap(), first);

    // The command line signs the new head and prints it.
    more_events(&app, "cp-b", 2).await;
    let (seq2, _) = head(&mut app.conn());
    let (code, out, err) = run(sanshe(&app.db).arg("checkpoint"));
    assert_eq!(code, 0, "{err}");
    let second: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (second["seq"].as_i64(), second["signed_by"].as_str()),
        (Some(seq2), Some("cli"))
    );
    assert!(
        err.contains(&format!("{}: signed", label(&second))),
        "{err}"
    );
    let (code, _, err) = run(sanshe(&app.db).args(["checkpoint", "--chain", "nope"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No chain named \"nope\""), "{err}");

    // Published newest first with the key; checked here with ed25519-dalek alone.
    let list = published(&app).await;
    assert_eq!(list["algorithm"], "Ed25519");
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0], second);
    assert_eq!(list["items"][1], first);
    let key_hex = list["public_key"].as_str().unwrap();
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(&hex::decode(key_hex).unwrap().try_into().unwrap())
            .unwrap();
    for cp in list["items"].as_array().unwrap() {
        assert_eq!(cp["public_key"], key_hex);
        let message = serde_json::to_vec(&(
            "sanshe-checkpoint/1",
            cp["chain"].as_str().unwrap(),
            cp["seq"].as_i64().unwrap(),
            cp["hash"].as_str().unwrap(),
            cp["signed_at"].as_str().unwrap(),
        ))
        .unwrap();
        let sig = ed25519_dalek::Signature::from_bytes(
            &hex::decode(cp["signature"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        key.verify_strict(&message, &sig)
            .unwrap_or_else(|e| panic!("{cp}: {e}"));
    }
    let r = app
        .get("/api/v1/checkpoints?per_page=1&page=2&chain=audit", None)
        .await;
    let page2: Value = r.json().await.unwrap();
    assert_eq!(
        (page2["total"].as_i64(), page2["items"][0]["seq"].as_i64()),
        (Some(2), Some(seq1))
    );

    let whole = write_file(&app.db, "list.json", &list);
    let one = write_file(&app.db, "one.json", &first);
    let (code, out) = verify(&app.db, &[&whole, &one]);
    assert_eq!(code, 0, "{out}");
    let n = head(&mut app.conn()).0;
    assert!(
        out.contains(&format!("audit chain: ok, {n} events")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "stored checkpoints: ok, 2 hold (latest {})",
            label(&second)
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("checkpoints in {}: ok, 2 hold", whole.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "checkpoints in {}: ok, 1 hold (latest {})",
            one.display(),
            label(&first)
        )),
        "{out}"
    );
    app.stop().await;
}

/// (1) An old event rewritten and every later hash recomputed: the chain verifies, the checkpoint does not.
async fn rewritten_history_fails_at_the_checkpoint(b: Backend) {
    let app = TestApp::spawn(&b).await;
    more_events(&app, "rw", 2).await;
    let (status, cp) = sign(&app, "admin").await;
    assert_eq!(status, 201, "{cp}");
    let seq = cp["seq"].as_i64().unwrap();
    more_events(&app, "rw-late", 2).await;
    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 0, "before the attack: {out}");

    let mut c = app.conn();
    drop_triggers(&mut c, &b);
    let new_hash = rewrite(&mut c, 3, seq);
    assert_ne!(new_hash, cp["hash"].as_str().unwrap());
    let report = sanshe::audit::verify(&mut c).unwrap();
    assert!(
        report.ok,
        "the attacker's recomputation makes the chain verify: {report:?}"
    );

    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("audit chain: ok"), "{out}");
    let want = format!(
        "  {}: FAILED: entry {seq} of the audit chain now has hash {new_hash}, not the signed {} (history rewritten)",
        label(&cp),
        cp["hash"].as_str().unwrap()
    );
    assert!(
        out.contains("stored checkpoints: 1 of 1 do NOT hold") && out.contains(&want),
        "{out}"
    );
    // Nothing is signed over the rewritten chain.
    more_events(&app, "rw-after", 1).await;
    let (status, v) = sign(&app, "admin").await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["code"], "chain_broken");
    assert_eq!(published(&app).await["total"], 1);
    app.stop().await;
}

/// (2) The tail cut below a signed checkpoint: what is left still verifies, the checkpoint does not.
async fn cut_tail_fails_at_the_checkpoint(b: Backend) {
    let app = TestApp::spawn(&b).await;
    more_events(&app, "cut", 3).await;
    let (status, cp) = sign(&app, "finance").await;
    assert_eq!(status, 201, "{cp}");
    let seq = cp["seq"].as_i64().unwrap();
    let mut c = app.conn();
    drop_triggers(&mut c, &b);
    let keep = seq - 3;
    sql(
        &mut c,
        &format!("DELETE FROM audit_events WHERE seq > {keep}"),
    );
    assert_eq!(head(&mut c).0, keep);
    assert!(sanshe::audit::verify(&mut c).unwrap().ok);

    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("audit chain: ok, {keep} events")),
        "{out}"
    );
    let want = format!(
        "  {}: FAILED: the audit chain now ends at {keep}, below the signed entry {seq} (its tail was cut)",
        label(&cp)
    );
    assert!(out.contains(&want), "{out}");
    app.stop().await;
}

/// (3) The stored checkpoints deleted too: `verify` alone cannot tell, the copy kept elsewhere can.
async fn a_copy_outlives_the_stored_checkpoints(b: Backend) {
    let app = TestApp::spawn(&b).await;
    more_events(&app, "copy", 2).await;
    let (status, cp) = sign(&app, "admin").await;
    assert_eq!(status, 201, "{cp}");
    let seq = cp["seq"].as_i64().unwrap();
    let copy = write_file(&app.db, "kept-elsewhere.json", &published(&app).await);
    let single = write_file(&app.db, "from-the-mail.json", &cp);

    let mut c = app.conn();
    drop_triggers(&mut c, &b);
    sql(&mut c, "DELETE FROM chain_checkpoints");
    let new_hash = rewrite(&mut c, 2, seq);
    let (code, out) = verify(&app.db, &[]);
    assert_eq!(
        code, 0,
        "with nothing to compare, the rewrite is invisible: {out}"
    );
    assert!(out.contains("stored checkpoints: none yet"), "{out}");

    let want = format!(
        "  {}: FAILED: entry {seq} of the audit chain now has hash {new_hash}, not the signed {} (history rewritten)",
        label(&cp),
        cp["hash"].as_str().unwrap()
    );
    for f in [&copy, &single] {
        let (code, out) = verify(&app.db, &[f]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!(
                "checkpoints in {}: 1 of 1 do NOT hold",
                f.display()
            )),
            "{out}"
        );
        assert!(out.contains(&want), "{out}");
    }
    // The cut tail is found the same way.
    sql(
        &mut c,
        &format!("DELETE FROM audit_events WHERE seq >= {seq}"),
    );
    let (code, out) = verify(&app.db, &[&single]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  {}: FAILED: the audit chain now ends at {}, below the signed entry {seq} (its tail was cut)",
            label(&cp),
            seq - 1
        )),
        "{out}"
    );
    // A file that is not a checkpoint stops verify with a message.
    let junk = write_file(&app.db, "junk.json", &json!({"hello": 1}));
    let (code, _, err) = run(sanshe(&app.db).arg("verify").arg("--checkpoint").arg(&junk));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("--checkpoint {}: checkpoint 1:", junk.display())),
        "{err}"
    );
    app.stop().await;
}

/// (4) Forged signatures: an altered stored signature, a copy whose fields were moved to match a rewrite,
/// and a checkpoint signed with the attacker's own key.
async fn forged_signatures_fail(b: Backend) {
    let app = TestApp::spawn(&b).await;
    more_events(&app, "forge", 2).await;
    let (status, cp) = sign(&app, "admin").await;
    assert_eq!(status, 201, "{cp}");
    let seq = cp["seq"].as_i64().unwrap();
    let mut c = app.conn();
    drop_triggers(&mut c, &b);

    // A stored signature with one byte changed.
    let sig = cp["signature"].as_str().unwrap();
    let flipped = format!(
        "{}{}",
        &sig[..10],
        if &sig[10..11] == "0" { "1" } else { "0" }
    ) + &sig[11..];
    diesel::update(k::table.filter(k::seq.eq(seq)))
        .set(k::signature.eq(&flipped))
        .execute(&mut c)
        .unwrap();
    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  {}: FAILED: its signature does not verify (forged or altered)",
            label(&cp)
        )),
        "{out}"
    );
    // Signing refuses to build on it.
    let (status, v) = sign(&app, "finance").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("chain_broken")),
        "{v}"
    );
    sql(&mut c, "DELETE FROM chain_checkpoints");

    // History rewritten, and the copy's hash changed to match it: the signature no longer covers it.
    let new_hash = rewrite(&mut c, 2, seq);
    let mut moved = cp.clone();
    moved["hash"] = json!(new_hash);
    let f = write_file(&app.db, "moved.json", &moved);
    let (code, out) = verify(&app.db, &[&f]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  {}: FAILED: its signature does not verify (forged or altered)",
            label(&moved)
        )),
        "{out}"
    );

    // The attacker signs the rewritten head with a key of their own: a good signature, an unknown key.
    let mallory = sanshe::chain::checkpoint::Key::from_seed(&[42u8; 32]);
    let signed_at = cp["signed_at"].as_str().unwrap();
    let message = sanshe::chain::checkpoint::message("audit", seq, &new_hash, signed_at);
    let own_sig = {
        use ed25519_dalek::Signer;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
        hex::encode(sk.sign(&message).to_bytes())
    };
    let mut own = moved.clone();
    own["public_key"] = json!(mallory.public_hex());
    own["signature"] = json!(own_sig);
    let f = write_file(&app.db, "own-key.json", &own);
    let (code, out) = verify(&app.db, &[&f]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "  {}: FAILED: it is signed with key {}, which this service does not trust",
            label(&own),
            mallory.public_hex()
        )),
        "{out}"
    );
    // The same row stored in the database is refused the same way.
    diesel::insert_into(k::table)
        .values((
            k::chain.eq("audit"),
            k::seq.eq(seq),
            k::hash.eq(&new_hash),
            k::signed_at.eq(chrono::NaiveDateTime::parse_from_str(
                signed_at,
                "%Y-%m-%dT%H:%M:%S%.6fZ",
            )
            .unwrap()),
            k::signed_by.eq("mallory"),
            k::public_key.eq(mallory.public_hex()),
            k::signature.eq(own["signature"].as_str().unwrap()),
        ))
        .execute(&mut c)
        .unwrap();
    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("which this service does not trust"), "{out}");
    app.stop().await;
}

/// Signing is refused without a token, with a forged one, for other roles, for an unknown chain and for a
/// malformed body, with problem+json and no change; a broken chain is not signed.
async fn signing_refusals_change_nothing(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let before = app.snapshot();
    let bureau = app.token("bureau").await;
    let admin = app.token("admin").await;
    let body = json!({"chain": "audit"});
    problem(
        app.send_json("POST", "/api/v1/checkpoints", None, &body)
            .await,
        401,
        "unauthorized",
    )
    .await;
    problem(
        app.send_json("POST", "/api/v1/checkpoints", Some("not-a-token"), &body)
            .await,
        401,
        "unauthorized",
    )
    .await;
    problem(
        app.send_json("POST", "/api/v1/checkpoints", Some(&bureau), &body)
            .await,
        403,
        "forbidden",
    )
    .await;
    let v = problem(
        app.send_json(
            "POST",
            "/api/v1/checkpoints",
            Some(&admin),
            &json!({"chain": "ledger-x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(v["errors"][0]["field"], "chain", "{v}");
    problem(
        app.send_json(
            "POST",
            "/api/v1/checkpoints",
            Some(&admin),
            &json!({"chain": "audit", "seq": 1}),
        )
        .await,
        400,
        "invalid_json",
    )
    .await;
    problem(
        app.get("/api/v1/checkpoints?chain=nope", None).await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        app.get("/api/v1/checkpoints?sort=seq", None).await,
        400,
        "invalid_query",
    )
    .await;
    assert_eq!(
        app.snapshot(),
        before,
        "a refused request changed the database"
    );

    // An altered event (hash not recomputed): the chain is broken, so nothing is signed.
    let mut c = app.conn();
    drop_triggers(&mut c, &b);
    sql(
        &mut c,
        "UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 2",
    );
    let before = app.snapshot();
    let v = problem(
        app.send_json("POST", "/api/v1/checkpoints", Some(&admin), &body)
            .await,
        409,
        "chain_broken",
    )
    .await;
    assert!(
        v["message"]["en"]
            .as_str()
            .unwrap()
            .contains("broken at entry 2"),
        "{v}"
    );
    assert_eq!(app.snapshot(), before);
    app.stop().await;
}

/// The public page in both languages; administrators and finance sign from it, others cannot.
async fn the_page_lists_and_signs(b: Backend) {
    let app = TestApp::spawn(&b).await;
    let anon = client();
    let html = anon
        .get(app.url("/checkpoints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = published(&app).await["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        html.contains("链签名检查点") && html.contains(&key),
        "{html}"
    );
    assert!(html.contains("id=\"no-checkpoints\"") && !html.contains("sign-form"));

    let finance = sign_in(&app, "finance").await;
    let page = finance
        .get(app.url("/checkpoints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"sign-form\""), "{page}");
    let r = finance
        .post(app.url("/checkpoints/sign"))
        .form(&[("csrf", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/checkpoints");
    let list = published(&app).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["signed_by"], "finance");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let page = finance
        .get(app.url("/checkpoints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("id=\"checkpoint-{id}\"")), "{page}");
    assert!(page.contains("已签名新的检查点"), "the flash: {page}");

    // In English.
    let en = anon
        .get(app.url("/checkpoints"))
        .header(COOKIE, "sanshe_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Signed checkpoints") && en.contains(&format!("id=\"checkpoint-{id}\"")));

    // The bureau may read but not sign.
    let bureau = sign_in(&app, "bureau").await;
    let page = bureau
        .get(app.url("/checkpoints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("sign-form"));
    let before = app.snapshot();
    let r = bureau
        .post(app.url("/checkpoints/sign"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf={}", csrf_of(&page)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.snapshot(), before);
    app.stop().await;
}

/// The scheduler signs once the chain has grown by `SANSHE_CHECKPOINT_EVERY` events.
async fn the_scheduler_signs_at_intervals(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            scheduler_every: Duration::from_millis(100),
            checkpoint_every: (3, 0),
            ..Default::default()
        },
    )
    .await;
    let count = |app: &TestApp| -> Vec<(i64, String)> {
        k::table
            .order(k::id)
            .select((k::seq, k::signed_by))
            .load(&mut app.conn())
            .unwrap()
    };
    // The seeded chain (8 events) is past the interval: signed at the first pass.
    wait_for(20, "the first scheduled checkpoint", || {
        !count(&app).is_empty()
    })
    .await;
    let first = count(&app);
    assert_eq!(first, vec![(8, "scheduler".to_string())]);
    more_events(&app, "sched", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&app), first, "two events are not yet three");
    more_events(&app, "sched-more", 1).await;
    wait_for(20, "the second scheduled checkpoint", || {
        count(&app).len() == 2
    })
    .await;
    assert_eq!(count(&app)[1], (11, "scheduler".to_string()));
    let (code, out) = verify(&app.db, &[]);
    assert_eq!(code, 0, "{out}");
    app.stop().await;
}

both_backends!(
    untouched_chain_verifies,
    rewritten_history_fails_at_the_checkpoint,
    cut_tail_fails_at_the_checkpoint,
    a_copy_outlives_the_stored_checkpoints,
    forged_signatures_fail,
    signing_refusals_change_nothing,
    the_page_lists_and_signs,
    the_scheduler_signs_at_intervals
);
