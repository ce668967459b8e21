//! Every form post of the web UI is refused properly. The page routes are read from the source tree (every
//! file under `src/pages/`, however the modules are split), and the POST routes must be exactly the pinned
//! tables below: a new page POST without a refusal row fails the suite. Each protected POST is then sent
//! without a session, with a forged session, with a missing and a wrong CSRF token by each allowed role, and
//! with a good CSRF token by each role that is not allowed; nothing may change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use sanshe::auth::{Claims, Role};
use sanshe::config::{JWT_AUDIENCE, JWT_ISSUER};

use crate::both_backends;
use crate::helpers::*;

const ANY: &[Role] = &[
    Role::Admin,
    Role::Bureau,
    Role::Evaluator,
    Role::Finance,
    Role::Org,
];
const ADMIN: &[Role] = &[Role::Admin];
const BA: &[Role] = &[Role::Bureau, Role::Admin];
const BUREAU: &[Role] = &[Role::Bureau];
const BAO: &[Role] = &[Role::Bureau, Role::Admin, Role::Org];
const ORG: &[Role] = &[Role::Org];
const EV: &[Role] = &[Role::Evaluator];
const AF: &[Role] = &[Role::Admin, Role::Finance];
const FINANCE: &[Role] = &[Role::Finance];

/// One protected page POST: the route template, the roles allowed, and form fields (besides `csrf`) that
/// the form reads, so a refusal is never an unreadable-form answer.
struct Post {
    template: &'static str,
    roles: &'static [Role],
    fields: &'static str,
}

const fn post(template: &'static str, roles: &'static [Role], fields: &'static str) -> Post {
    Post {
        template,
        roles,
        fields,
    }
}

/// Every protected page POST of the UI, with its roles. Keep in step with `src/pages/`.
const PROTECTED_POSTS: &[Post] = &[
    // Account and users.
    post(
        "/account/password",
        ANY,
        "current_password=x&new_password=pp-new-1&confirm_password=pp-new-2",
    ),
    post(
        "/admin/users/new",
        ADMIN,
        "username=&display_name=&role=&password=",
    ),
    post(
        "/admin/users/{id}",
        ADMIN,
        "display_name=&email=&role=&org_id=&password=",
    ),
    // Areas, bases, incubations.
    post("/registry/areas/streets/new", BA, "code=&name="),
    post("/registry/areas/streets/{id}/edit", BA, "code=&name="),
    post(
        "/registry/areas/communities/new",
        BA,
        "street_id=&code=&name=&grid_count=",
    ),
    post(
        "/registry/areas/communities/{id}/edit",
        BA,
        "street_id=&code=&name=&grid_count=",
    ),
    post("/registry/bases/new", BA, "name=&level=&seats="),
    post("/registry/bases/{id}/edit", BA, "name=&level=&seats="),
    post("/registry/incubations/new", BAO, "base_id=&group_name="),
    post("/registry/incubations/{id}", BA, "to=&reason="),
    // Organisations, workers, changes, imports.
    post("/registry/orgs/new", BA, "name=&kind=&registration="),
    post("/registry/orgs/{id}/edit", BA, "name=&kind=&registration="),
    post("/registry/orgs/{id}/ratings", BA, "grade=&awarded_on="),
    post(
        "/registry/orgs/{id}/inspections",
        BA,
        "year=&kind=&conclusion=&decided_on=",
    ),
    post(
        "/registry/orgs/{id}/listings",
        BA,
        "list=&source=&listed_on=&evidence_sha256=",
    ),
    post("/registry/listings/{id}/remove", BA, "reason="),
    post("/evidence/credit_evidence/{id}", BA, "back="),
    post("/evidence/milestone_report/{id}", BA, "back="),
    post("/evidence/spending_evidence/{id}", ORG, "back="),
    post("/evidence/sign_in_sheet/{id}", ORG, "back="),
    post("/registry/orgs/{id}/links", BA, "other=&kind=&note="),
    post("/registry/orgs/{id}/links/{other}/remove", BA, ""),
    post("/registry/changes/{id}", BA, "decision="),
    post("/registry/import/orgs", BA, "csv="),
    post("/registry/import/workers", BA, "csv="),
    post(
        "/registry/workers/new",
        BAO,
        "name=&certificate_level=&employment=",
    ),
    post(
        "/registry/workers/{id}/edit",
        BAO,
        "name=&certificate_level=&employment=",
    ),
    post("/my/org", ORG, "name=&kind=&staff_count="),
    post("/registry/workers/{id}/verify", BA, "version="),
    // Tenders.
    post("/tenders/new", BA, "code=&title=&budget="),
    post("/tenders/{id}/edit", BA, "code=&title=&budget="),
    post("/tenders/{id}/publish", BA, ""),
    post("/tenders/{id}/documents", BA, ""),
    post("/tenders/{id}/amendments", BA, "note=x"),
    post("/tenders/{id}/cancel", BA, "reason="),
    post("/tenders/{id}/contract", BA, "contract_no=&term_start="),
    post("/tenders/{id}/enquiries", ORG, "question="),
    post("/tenders/{id}/enquiries/{eid}/answer", BA, "answer="),
    post("/tenders/{id}/panel", BA, "note="),
    post("/tenders/{id}/confirm", BA, ""),
    post("/tenders/{id}/publish-result", BA, ""),
    post("/tenders/{id}/disqualify", BA, "bid_seq=&reason="),
    post("/tenders/{id}/award-refusal", BA, "reason="),
    post("/tenders/{id}/withdraw", ORG, ""),
    post("/tenders/{id}/challenges", ORG, "grounds="),
    post(
        "/tenders/{id}/challenges/{cid}/answer",
        BA,
        "decision=&answer=",
    ),
    post(
        "/tenders/{id}/challenges/{cid}/assessment",
        BA,
        "affects_result=&reason=",
    ),
    post("/tenders/{id}/bid", ORG, "idempotency_key=&price="),
    post("/tenders/{id}/score", EV, "bid_seq="),
    post("/tenders/{id}/declare", EV, "conflict="),
    post(
        "/tenders/{id}/compliance",
        EV,
        "bid_seq=&compliant=&reason=",
    ),
    post("/tenders/{id}/rounds", EV, "final="),
    post("/tenders/{id}/negotiation-origin", BA, "failed_tender_id="),
    post("/tenders/{id}/objections", ORG, "reason="),
    post("/tenders/{id}/objections/{n}/answer", BA, "upheld=&answer="),
    post(
        "/tenders/{id}/single-source-record",
        BA,
        "negotiated_on=&place=&staff=&cost_explanation=&terms=&price=",
    ),
    post(
        "/evaluators/links",
        BA,
        "user_id=&organisation_id=&relation=",
    ),
    // Signed checkpoints.
    post("/checkpoints/sign", AF, ""),
    // The fund ledger.
    post(
        "/finance/appropriations/new",
        FINANCE,
        "year=&fund=&amount=x&document_no=&idempotency_key=k",
    ),
    // Contracts.
    post("/contracts/{id}/sign", BA, "signed_on="),
    post("/contracts/{id}/start", BA, ""),
    post(
        "/contracts/{id}/instalments/{no}/accept",
        BA,
        "accepted_on=&effect_score=&evaluator=&report_sha256=",
    ),
    post(
        "/contracts/{id}/pay",
        FINANCE,
        "instalment=1&voucher_no=&idempotency_key=k",
    ),
    post(
        "/contracts/{id}/surveys",
        BUREAU,
        "surveyed_on=&n1=&n2=&n3=&n4=&n5=&note=",
    ),
    post("/contracts/{id}/terminate", BA, "reason="),
    post("/contracts/{id}/close", BA, ""),
    // Spending reports.
    post(
        "/contracts/{id}/spending",
        ORG,
        "date=&line=&amount=x&invoice_no=&payee=&description=",
    ),
    post("/contracts/{id}/spending/import", ORG, "csv="),
    post("/spending/{id}/review", FINANCE, "decision=&note="),
    post("/spending/{id}/answer", ORG, "answer="),
    // People served.
    post("/my/people", ORG, "id_number=&pseudonym=&community_id=0"),
    post(
        "/contracts/{id}/activities",
        ORG,
        "held_on=&kind=&community_id=0&minutes=&title=",
    ),
    post("/contracts/{id}/activities/import", ORG, "csv="),
    // Reports.
    post(
        "/reports/three-society/texts",
        BUREAU,
        "year=&problems=&next_steps=",
    ),
];

/// Page POSTs anyone may send (they still need the CSRF token).
const PUBLIC_POSTS: &[&str] = &["/login", "/logout"];

// ---------- the source scanner ----------

/// One page route found in the source: method, path template, handler name, file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Scanned {
    method: String,
    path: String,
    handler: String,
}

fn skip_ws(s: &str) -> &str {
    s.trim_start()
}

/// Every `.route("PATH", web::METHOD().to(HANDLER))` in a source text, whatever the line breaks. A
/// `.route(` that does not have this shape is returned as an error, so no registration is silently missed.
fn scan_routes(src: &str) -> Result<Vec<Scanned>, String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find(".route(") {
        let after = &rest[i + ".route(".len()..];
        rest = after;
        let bad = || {
            format!(
                "unrecognised route registration: .route({}",
                &after[..after.len().min(80)]
            )
        };
        let s = skip_ws(after);
        let s = s.strip_prefix('"').ok_or_else(bad)?;
        let end = s.find('"').ok_or_else(bad)?;
        let path = &s[..end];
        let s = skip_ws(&s[end + 1..]);
        let s = skip_ws(s.strip_prefix(',').ok_or_else(bad)?);
        let s = s.strip_prefix("web::").ok_or_else(bad)?;
        let m_end = s.find('(').ok_or_else(bad)?;
        let method = &s[..m_end];
        if !method.chars().all(|c| c.is_ascii_lowercase()) || method.is_empty() {
            return Err(bad());
        }
        let s = skip_ws(s[m_end..].strip_prefix("()").ok_or_else(bad)?);
        let s = skip_ws(s.strip_prefix(".to(").ok_or_else(bad)?);
        let h_end = s.find(')').ok_or_else(bad)?;
        let handler = s[..h_end].trim();
        if handler.is_empty()
            || !handler
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(bad());
        }
        out.push(Scanned {
            method: method.to_uppercase(),
            path: path.to_string(),
            handler: handler.to_string(),
        });
    }
    Ok(out)
}

/// Every `.rs` file under `dir`, recursively, in a fixed order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages")
}

/// The roles of a role set named in a handler's `Page<…>`.
fn role_set(name: &str) -> &'static [Role] {
    use sanshe::http::caller::*;
    match name {
        "AnyRole" => AnyRole::ROLES,
        "AdminOnly" => AdminOnly::ROLES,
        "BureauOnly" => BureauOnly::ROLES,
        "FinanceOnly" => FinanceOnly::ROLES,
        "EvaluatorOnly" => EvaluatorOnly::ROLES,
        "OrgOnly" => OrgOnly::ROLES,
        "AdminOrFinance" => AdminOrFinance::ROLES,
        "BureauOrAdmin" => BureauOrAdmin::ROLES,
        "StaffOrOrg" => StaffOrOrg::ROLES,
        "SpendingReaders" => SpendingReaders::ROLES,
        other => panic!("unknown role set {other} (add it to page_posts::role_set)"),
    }
}

/// The roles a handler states with its `Page<R>` parameter (`None`: no `Page`, a public handler), from the
/// parameter list of `async fn NAME(` found in `files`.
fn handler_roles(files: &[(PathBuf, String)], handler: &str) -> Result<Option<Vec<Role>>, String> {
    let name = handler.rsplit("::").next().unwrap();
    let needle = format!("async fn {name}(");
    let mut found: Vec<Option<Vec<Role>>> = Vec::new();
    for (_, text) in files {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&needle) {
            let params = &rest[i + needle.len()..];
            let end = params.find("->").unwrap_or(params.len());
            let params = &params[..end];
            rest = &rest[i + needle.len()..];
            let roles = match params.find("Page<") {
                Some(p) => {
                    let r = &params[p + "Page<".len()..];
                    let r = &r[..r.find('>').ok_or("unclosed Page<")?];
                    Some(role_set(r.trim()).to_vec())
                }
                None if params.contains(": Page,") || params.contains(": Page)") => {
                    Some(role_set("AnyRole").to_vec())
                }
                None => None,
            };
            found.push(roles);
        }
    }
    found.dedup();
    match found.len() {
        0 => Err(format!("handler {handler} not found under src/pages")),
        1 => Ok(found.pop().unwrap()),
        _ => Err(format!(
            "handler {handler} is defined more than once with different roles"
        )),
    }
}

/// The roles of the handler a route in `route_file` names. Looked up first in the module a qualified name
/// points to (`edit::submit` → `edit.rs` or `edit/mod.rs` beside the route file), then in the route file,
/// then in its directory tree, then anywhere under src/pages; the first place that defines it decides.
fn resolve_handler(
    files: &[(PathBuf, String)],
    route_file: &Path,
    handler: &str,
) -> Result<Option<Vec<Role>>, String> {
    let dir = route_file.parent().unwrap();
    let segs: Vec<&str> = handler.split("::").collect();
    let pick = |f: &dyn Fn(&Path) -> bool| -> Vec<(PathBuf, String)> {
        files.iter().filter(|(p, _)| f(p)).cloned().collect()
    };
    let mut tiers = Vec::new();
    if segs.len() > 1 {
        let q = segs[segs.len() - 2];
        tiers.push(pick(&|p: &Path| {
            p.starts_with(dir)
                && (p.file_stem().is_some_and(|s| s == q)
                    || (p.file_stem().is_some_and(|s| s == "mod")
                        && p.parent()
                            .and_then(|d| d.file_name())
                            .is_some_and(|d| d == q)))
        }));
    }
    tiers.push(pick(&|p: &Path| p == route_file));
    tiers.push(pick(&|p: &Path| p.starts_with(dir)));
    tiers.push(files.to_vec());
    for tier in tiers {
        match handler_roles(&tier, handler) {
            Err(e) if e.contains("not found") => continue,
            other => return other,
        }
    }
    Err(format!("handler {handler} not found under src/pages"))
}

/// Page routes of the source tree: (method, path) → roles of a POST's handler (`None` for public handlers
/// and for GETs).
fn scan_tree() -> BTreeMap<(String, String), Option<Vec<Role>>> {
    let files: Vec<(PathBuf, String)> = rust_files(&pages_dir())
        .into_iter()
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    assert!(!files.is_empty(), "no source files under src/pages");
    let mut out = BTreeMap::new();
    let mut posts_in_text = 0;
    for (path, text) in &files {
        posts_in_text += text.matches("web::post()").count();
        for r in scan_routes(text).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
            // Only the POSTs' roles are compared; GET pages are pinned by `pages::all_protected()`.
            let roles = if r.method == "POST" {
                resolve_handler(&files, path, &r.handler)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            } else {
                None
            };
            let key = (r.method.clone(), r.path.clone());
            assert!(
                out.insert(key.clone(), roles).is_none(),
                "route {key:?} registered twice"
            );
        }
    }
    let posts = out.keys().filter(|(m, _)| m == "POST").count();
    assert_eq!(
        posts, posts_in_text,
        "every `web::post()` under src/pages must be a `.route(\"PATH\", web::post().to(handler))` the scanner reads"
    );
    out
}

#[test]
fn scanner_reads_route_registrations() {
    let made_up = r#"
        pub fn routes(cfg: &mut web::ServiceConfig) {
            cfg.route("/x", web::post().to(h))
                .route(
                    "/y/{id}/edit",
                    web::get().to(edit::page),
                )
                .route("/y/{id}/edit",web::post().to( edit::submit ));
        }
        async fn h(page: Page<AdminOnly>, form: SafeForm<Empty>) -> HttpResponse { HttpResponse::Ok().finish() }
    "#;
    let got = scan_routes(made_up).unwrap();
    let as_tuples: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str(), s.handler.as_str()))
        .collect();
    assert_eq!(
        as_tuples,
        vec![
            ("POST", "/x", "h"),
            ("GET", "/y/{id}/edit", "edit::page"),
            ("POST", "/y/{id}/edit", "edit::submit"),
        ]
    );
    let files = vec![(PathBuf::from("x.rs"), made_up.to_string())];
    assert_eq!(handler_roles(&files, "h").unwrap(), Some(vec![Role::Admin]));
    assert!(handler_roles(&files, "missing").is_err());
    // After a split into a module directory, a qualified handler is found in its own file.
    let split = vec![
        (
            PathBuf::from("/p/tenders/mod.rs"),
            r#"cfg.route("/t/{id}/bid", web::post().to(bid::submit))
                  .route("/t/{id}/edit", web::post().to(edit::submit));"#
                .to_string(),
        ),
        (
            PathBuf::from("/p/tenders/bid.rs"),
            "pub async fn submit(page: Page<OrgOnly>, form: FormFields) -> R {}".to_string(),
        ),
        (
            PathBuf::from("/p/tenders/edit.rs"),
            "pub async fn submit(\n    page: Page<BureauOrAdmin>,\n    form: FormFields,\n) -> R {}".to_string(),
        ),
    ];
    let route_file = Path::new("/p/tenders/mod.rs");
    assert_eq!(
        resolve_handler(&split, route_file, "bid::submit").unwrap(),
        Some(vec![Role::Org])
    );
    assert_eq!(
        resolve_handler(&split, route_file, "edit::submit").unwrap(),
        Some(vec![Role::Bureau, Role::Admin])
    );
    assert!(
        resolve_handler(&split, route_file, "submit").is_err(),
        "ambiguous"
    );
    // A registration the scanner cannot read is an error, not a silent miss.
    assert!(scan_routes(r#"cfg.route(PATH, web::post().to(h))"#).is_err());
    assert!(scan_routes(r#".route("/z", web::post().to(|| async { "" }))"#).is_err());

    // The completeness check itself fails on a POST without a row.
    let mut scanned: BTreeSet<String> = pinned_posts();
    assert!(posts_match(&scanned).is_ok());
    scanned.insert("/x".into());
    let e = posts_match(&scanned).unwrap_err();
    assert!(e.contains("/x"), "{e}");
}

fn pinned_posts() -> BTreeSet<String> {
    PROTECTED_POSTS
        .iter()
        .map(|p| p.template.to_string())
        .chain(PUBLIC_POSTS.iter().map(|p| p.to_string()))
        .collect()
}

fn posts_match(scanned: &BTreeSet<String>) -> Result<(), String> {
    let pinned = pinned_posts();
    let missing: Vec<_> = scanned.difference(&pinned).collect();
    let extra: Vec<_> = pinned.difference(scanned).collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "page POSTs without a refusal row: {missing:?}; rows for POSTs the source does not have: {extra:?}"
        ))
    }
}

/// The source's page POSTs are exactly the pinned tables, with the same roles.
#[test]
fn page_posts_are_pinned() {
    let tree = scan_tree();
    let gets = tree.keys().filter(|(m, _)| m == "GET").count();
    assert!(gets > 20, "the scanner found only {gets} page GETs");
    let mut seen = BTreeSet::new();
    for p in PROTECTED_POSTS {
        assert!(seen.insert(p.template), "duplicate row {}", p.template);
    }
    for p in PUBLIC_POSTS {
        assert!(seen.insert(p), "duplicate row {p}");
    }
    let scanned: BTreeSet<String> = tree
        .keys()
        .filter(|(m, _)| m == "POST")
        .map(|(_, p)| p.clone())
        .collect();
    if let Err(e) = posts_match(&scanned) {
        panic!("{e}");
    }
    for p in PROTECTED_POSTS {
        let roles = tree[&("POST".to_string(), p.template.to_string())].as_ref();
        let mut want = p.roles.to_vec();
        want.sort_by_key(|r| r.as_str());
        let mut got = roles
            .unwrap_or_else(|| panic!("{} is pinned as protected but has no Page<…>", p.template))
            .clone();
        got.sort_by_key(|r| r.as_str());
        assert_eq!(got, want, "roles of POST {}", p.template);
    }
    for p in PUBLIC_POSTS {
        assert_eq!(
            tree[&("POST".to_string(), p.to_string())],
            None,
            "{p} is pinned as public but its handler takes Page<…>"
        );
    }
    // The numbers, worked out from the route registrations by hand: 75 protected, 2 public.
    assert_eq!((PROTECTED_POSTS.len(), PUBLIC_POSTS.len()), (75, 2));
}

// ---------- the walk ----------

/// The demo (or test-created) user who has this role.
fn user_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Bureau => "bureau",
        Role::Evaluator => "evaluator1",
        Role::Finance => "finance",
        Role::Org => "org1",
    }
}

/// A client that keeps no cookies and follows no redirects: each request carries exactly what it is given.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

const OTHER_SECRET: &str = "another-jwt-secret-another-jwt-secret-987";

/// A session token for this user, with every claim right but signed with another secret.
fn forged(user_id: i64, role: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let c = Claims {
        sub: user_id.to_string(),
        role: role.into(),
        tv: 0,
        iat: now,
        exp: now + 3600,
        iss: JWT_ISSUER.into(),
        aud: JWT_AUDIENCE.into(),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    jsonwebtoken::encode(
        &Header::default(),
        &c,
        &EncodingKey::from_secret(OTHER_SECRET.as_bytes()),
    )
    .unwrap()
}

fn count(c: &mut sanshe::db::DbConn, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let q = diesel::sql_query(sql);
    let rows: Vec<N> = match c {
        sanshe::db::DbConn::Sqlite(c) => q.load(c).unwrap(),
        sanshe::db::DbConn::Pg(c) => q.load(c).unwrap(),
    };
    rows[0].n
}

/// The smallest id of a table (a row that exists), or 1 when the table is empty.
fn some_id(c: &mut sanshe::db::DbConn, table: &str) -> i64 {
    count(c, &format!("SELECT COALESCE(MIN(id), 1) AS n FROM {table}"))
}

/// The concrete path of a row: each `{…}` segment becomes the id of a real row where the data has one (the
/// fixture has no challenge yet: `{cid}` is 1, which only has to be a number for the refusals to be judged).
fn concrete(template: &str, ids: &BTreeMap<&str, i64>) -> String {
    let segs: Vec<&str> = template.split('/').collect();
    let mut out = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        if s.starts_with('{') {
            let parent = segs[i - 1];
            let key = match (*s, parent) {
                ("{id}", "users") => "users",
                ("{id}", "streets") => "streets",
                ("{id}", "communities") => "communities",
                ("{id}", "bases") => "bases",
                ("{id}", "incubations") => "incubations",
                ("{id}", "orgs") => "organisations",
                ("{other}", "links") => "organisations",
                ("{id}", "listings") => "credit_listings",
                ("{id}", "changes") => "change_requests",
                ("{id}", "workers") => "social_workers",
                ("{id}", "tenders") if template.contains("{eid}") => "enquiry_tender",
                ("{id}", "tenders") => "tenders",
                ("{id}", "contracts") => "contracts",
                ("{id}", "spending") => "spending_items",
                ("{id}", "credit_evidence") => "credit_listings",
                ("{id}", "spending_evidence") => "spending_items",
                ("{id}", "sign_in_sheet") => "activities",
                ("{id}", "milestone_report") => "contract_instalments",
                ("{eid}", _) => "enquiries",
                ("{cid}", _) => "challenges",
                ("{n}", "objections") => "single_source_objections",
                // No instalment table id in the path: its number in the schedule.
                ("{no}", _) => "instalments",
                _ => panic!("no id for {s} after {parent} in {template}"),
            };
            out.push(ids.get(key).copied().unwrap_or(1).to_string());
        } else {
            out.push(s.to_string());
        }
    }
    out.join("/")
}

fn is_html(r: &reqwest::Response) -> bool {
    r.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"))
}

const ROLE_REFUSAL: &str = "您的角色无权执行此操作";
const CSRF_REFUSAL: &str = "页面已过期或来源不明";

/// A 403 page carrying this message and not the other refusal.
async fn expect_403(r: reqwest::Response, message: &str, what: &str, wrong: &mut Vec<String>) {
    let status = r.status().as_u16();
    let html_ct = is_html(&r);
    let set_session = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("sanshe_session="));
    let body = r.text().await.unwrap_or_default();
    if status != 403 || !html_ct || !body.contains(message) || set_session {
        wrong.push(format!(
            "{what}: want a 403 page saying {message:?}, got {status} (html: {html_ct}, sets session: {set_session}): {}",
            body.chars().take(300).collect::<String>()
        ));
    }
}

fn expect_login(r: &reqwest::Response, path: &str, what: &str, wrong: &mut Vec<String>) {
    let want: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", path)
        .finish();
    let want = format!("/login?{want}");
    let got = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if r.status() != 303 || got != want {
        wrong.push(format!(
            "{what}: want 303 to {want}, got {} to {got:?}",
            r.status()
        ));
    }
}

/// Tender rows too: the foundation snapshot covers users, audit and outbox.
pub(crate) fn dump(app: &TestApp) -> String {
    let mut c = app.conn();
    let mut counts = Vec::new();
    for t in [
        "tenders",
        "bids",
        "enquiries",
        "challenges",
        "organisations",
        "social_workers",
        "credit_listings",
        "change_requests",
        "streets",
        "communities",
        "bases",
        "incubations",
        "users",
    ] {
        counts.push((t, count(&mut c, &format!("SELECT COUNT(*) AS n FROM {t}"))));
    }
    use diesel::prelude::*;
    use sanshe::db::schema::tenders as t;
    let tenders: Vec<(i64, String)> = t::table
        .order(t::id)
        .select((t::id, t::state))
        .load(&mut c)
        .unwrap();
    format!("{counts:?}\n{tenders:?}\n{}", snapshot(&mut c))
}

async fn page_post_refusals(b: Backend) {
    let app = TestApp::spawn_with(
        &b,
        Options {
            registry_demo: true,
            ..Default::default()
        },
    )
    .await;
    let tender = crate::tenders::opened_tender_fixture(&app);
    app.create_user("org1", "org", Some(1), None).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, app.token(user_of(role)).await));
    }
    let admin_id = {
        let r = app.get("/api/v1/me", Some(&tokens[0].1)).await;
        assert_eq!(r.status(), 200);
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    {
        let mut c = app.conn();
        for t in [
            "users",
            "streets",
            "communities",
            "bases",
            "incubations",
            "organisations",
            "credit_listings",
            "change_requests",
            "social_workers",
            "enquiries",
            "challenges",
        ] {
            ids.insert(t, some_id(&mut c, t));
        }
        ids.insert("users", admin_id);
        ids.insert("tenders", tender);
    }
    // A published tender with a question on it, for the answer form.
    let bureau = app.token("bureau").await;
    let r = app
        .send_json(
            "POST",
            "/api/v1/tenders",
            Some(&bureau),
            &crate::tenders::tender_body_at("PP-2026-001", chrono::Utc::now()),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let asked = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{asked}/publish"),
            Some(&bureau),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let asker = app.token(&crate::tenders::bidders(&app, 1)[0].user).await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/tenders/{asked}/enquiries"),
            Some(&asker),
            &serde_json::json!({"question": "是否接受联合体投标？"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    ids.insert("enquiry_tender", asked);
    ids.insert(
        "enquiries",
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap(),
    );
    let http = http();
    let forged_sessions = [
        format!("sanshe_session={}", forged(admin_id, "admin")),
        "sanshe_session=not-a-jwt".to_string(),
    ];

    let before = dump(&app);
    let mut wrong = Vec::new();
    let mut sent = 0;
    for row in PROTECTED_POSTS {
        let path = concrete(row.template, &ids);
        let send = |cookie: String, body: String| {
            http.post(app.url(&path))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(COOKIE, cookie)
                .body(body)
                .send()
        };
        let amp = if row.fields.is_empty() { "" } else { "&" };
        let good = format!("csrf=tok123{amp}{}", row.fields);
        let wrong_token = format!("csrf=tok124{amp}{}", row.fields);
        let missing = row.fields.to_string();

        // (a) No session, a good CSRF token: to the sign-in page, back here afterwards.
        let r = send("sanshe_csrf=tok123".into(), good.clone())
            .await
            .unwrap();
        expect_login(
            &r,
            &path,
            &format!("POST {path} without a session"),
            &mut wrong,
        );
        sent += 1;
        // (b) A forged session is no session.
        for f in &forged_sessions {
            let r = send(format!("{f}; sanshe_csrf=tok123"), good.clone())
                .await
                .unwrap();
            expect_login(&r, &path, &format!("POST {path} with {f}"), &mut wrong);
            sent += 1;
        }
        for (role, token) in &tokens {
            let session = format!("sanshe_session={token}; sanshe_csrf=tok123");
            let who = role.as_str();
            if row.roles.contains(role) {
                // (c) An allowed role without the CSRF field, (d) with a wrong one.
                let r = send(session.clone(), missing.clone()).await.unwrap();
                expect_403(
                    r,
                    CSRF_REFUSAL,
                    &format!("POST {path} as {who} without the CSRF field"),
                    &mut wrong,
                )
                .await;
                let r = send(session.clone(), wrong_token.clone()).await.unwrap();
                expect_403(
                    r,
                    CSRF_REFUSAL,
                    &format!("POST {path} as {who} with a wrong CSRF token"),
                    &mut wrong,
                )
                .await;
                // No CSRF cookie at all, the field present.
                let r = send(format!("sanshe_session={token}"), good.clone())
                    .await
                    .unwrap();
                expect_403(
                    r,
                    CSRF_REFUSAL,
                    &format!("POST {path} as {who} without the CSRF cookie"),
                    &mut wrong,
                )
                .await;
                sent += 3;
            } else {
                // (e) A role not allowed, with a good CSRF token.
                let r = send(session, good.clone()).await.unwrap();
                expect_403(
                    r,
                    ROLE_REFUSAL,
                    &format!("POST {path} as {who}"),
                    &mut wrong,
                )
                .await;
                sent += 1;
            }
        }
    }

    // Public posts: no session needed, but the CSRF token is.
    let login_body =
        |csrf: &str| format!("{csrf}username=admin&password={PASSWORD}&next=%2Fdashboard");
    for (what, cookie, body) in [
        (
            "without the CSRF field",
            "sanshe_csrf=tok123",
            login_body(""),
        ),
        (
            "with a wrong CSRF token",
            "sanshe_csrf=tok123",
            login_body("csrf=tok124&"),
        ),
        ("without the CSRF cookie", "", login_body("csrf=tok123&")),
    ] {
        let r = http
            .post(app.url("/login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(COOKIE, cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        expect_403(
            r,
            CSRF_REFUSAL,
            &format!("POST /login {what} (right password)"),
            &mut wrong,
        )
        .await;
        sent += 1;
    }
    for (what, body) in [
        ("without the CSRF field", ""),
        ("with a wrong CSRF token", "csrf=tok124"),
    ] {
        let r = http
            .post(app.url("/logout"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                COOKIE,
                format!("sanshe_session={}; sanshe_csrf=tok123", tokens[0].1),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let clears = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap_or("").starts_with("sanshe_session="));
        if clears {
            wrong.push(format!("POST /logout {what} touched the session cookie"));
        }
        expect_403(r, CSRF_REFUSAL, &format!("POST /logout {what}"), &mut wrong).await;
        sent += 1;
    }

    eprintln!("{sent} page POST requests checked");
    assert!(
        wrong.is_empty(),
        "page POST refusals wrong ({} of {sent}):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        dump(&app),
        before,
        "a refused page POST changed the database"
    );
    // Every role's session still works: nothing above signed anyone out.
    for (role, token) in &tokens {
        let r = http
            .get(app.url("/dashboard"))
            .header(COOKIE, format!("sanshe_session={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{} after the walk", role.as_str());
    }
    app.stop().await;
}

both_backends!(page_post_refusals);
