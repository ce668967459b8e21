//! The layer rule of `docs/ARCHITECTURE.md`, checked over the source tree: `domain/` (rules, no I/O) ←
//! services and `db/` ← the HTTP side (`http/`, with `api/` and `pages/` as siblings on top of it) ←
//! `app`/`cli`. A module may name only what lies below it. Each check is also run on a made-up source
//! that breaks it, so a checker that stopped seeing anything would fail here too.

use std::path::{Path, PathBuf};

/// Modules of the HTTP side and the wiring above it.
const UPPER: &[&str] = &[
    "crate::app",
    "crate::api",
    "crate::pages",
    "crate::http",
    "crate::web",
    "crate::routes",
    "crate::cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Source lines without comments (doc lines may well name the layer above to say where a thing went).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
}

/// Every line of `text` that names one of `forbidden`.
fn violations(text: &str, forbidden: &[&str]) -> Vec<(usize, String)> {
    code_lines(text)
        .filter(|(_, l)| forbidden.iter().any(|f| l.contains(f)))
        .map(|(n, l)| (n, l.trim().to_string()))
        .collect()
}

/// Where a file sits: its first folder under `src/`, or the file's own name for top-level modules. The
/// command line's tools under `src/cli/` (the ledger benchmark) are not wiring: `cli.rs` hands them what
/// they need, so they are held to the services' rule (`cli/`).
fn layer_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    if rel.components().count() > 1 && rel.starts_with("cli") {
        return "cli/".to_string();
    }
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn check_tree(rule: impl Fn(&str) -> Option<Vec<&'static str>>) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut found = Vec::new();
    for f in files {
        let Some(forbidden) = rule(&layer_of(&f)) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, l) in violations(&text, &forbidden) {
            found.push(format!("{}:{n}: {l}", f.display()));
        }
    }
    found
}

/// What each layer may not name.
fn forbidden_for(layer: &str) -> Option<Vec<&'static str>> {
    match layer {
        // The rules: no storage, no HTTP, no services.
        "domain" => Some(
            [
                UPPER,
                &[
                    "diesel",
                    "actix_web",
                    "crate::db",
                    "crate::registry",
                    "crate::tenders",
                    "crate::users",
                    "crate::audit",
                    "crate::mail",
                ],
            ]
            .concat(),
        ),
        // The pages and the API are siblings: neither calls the other's handlers.
        "pages" => Some(vec!["crate::api", "crate::routes"]),
        "api" => Some(vec!["crate::pages", "crate::web"]),
        // The HTTP layer and the wiring may use everything.
        "http" | "app" | "cli" | "main" | "lib" | "i18n" => None,
        // Services, db, auth, mail, config, errors, seed: nothing of the HTTP side.
        _ => Some(UPPER.to_vec()),
    }
}

#[test]
fn layers_point_down() {
    let found = check_tree(forbidden_for);
    assert!(
        found.is_empty(),
        "modules that name a layer above them:\n{}",
        found.join("\n")
    );
}

/// API and page handlers reach the database through `AppState::run`, which wakes the mail worker after
/// every call; only the caller lookup and the readiness probe read it directly.
#[test]
fn handlers_reach_the_database_through_app_state() {
    let allowed = ["caller.rs", "health.rs"];
    let found =
        check_tree(|layer| matches!(layer, "api" | "pages" | "http").then(|| vec!["db::run("]))
            .into_iter()
            .filter(|v| !allowed.iter().any(|a| v.contains(&format!("/{a}:"))))
            .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "handlers calling db::run directly (use state.run):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_layer_check_sees_a_breach() {
    let service =
        "use crate::db::DbConn;\nuse crate::web::paging;\n// crate::app in a comment is fine\n";
    let v = violations(service, &forbidden_for("registry").unwrap());
    assert_eq!(v, vec![(2, "use crate::web::paging;".to_string())]);
    let domain = "use diesel::prelude::*;\nfn f() {}\n";
    assert_eq!(
        violations(domain, &forbidden_for("domain").unwrap()).len(),
        1
    );
    let page = "let r = crate::api::orgs::update_org(state).await;";
    assert_eq!(violations(page, &forbidden_for("pages").unwrap()).len(), 1);
    let api = "crate::pages::orgs::form()";
    assert_eq!(violations(api, &forbidden_for("api").unwrap()).len(), 1);
    assert!(forbidden_for("http").is_none());
}

#[test]
fn no_source_file_is_over_the_size_limit() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut big: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    big.sort();
    assert!(
        big.is_empty(),
        "split these by action or sub-resource:\n{}",
        big.join("\n")
    );
}

/// About 1,000 lines: past that a module holds more than one thing.
const MAX_LINES: usize = 1_100;
