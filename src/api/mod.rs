//! The JSON API under `/api/v1`, plus health checks. Handlers are thin: extract and authorise, call one
//! model or domain function, shape the response. Every handler carries a `#[utoipa::path]`, so the OpenAPI
//! document is generated from them.

pub mod audit;
pub mod auth;
pub mod bases;
pub mod checkpoints;
pub mod contracts;
pub mod documents;
pub mod files;
pub mod health;
pub mod incubations;
pub mod ledger;
pub mod orgs;
pub mod people;
pub mod reports;
pub mod spending;
pub mod tasks;
pub mod tenders;
pub mod users;
pub mod workers;

pub use crate::db::Paged;

/// The API scopes, registered through utoipa so each path lands in the OpenAPI document.
pub fn api_scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/api/v1")
        .service(auth::login)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::change_password_api)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(audit::verify)
        .service(audit::list)
        .service(audit::get)
        .service(checkpoints::list)
        .service(checkpoints::sign)
        .service(tasks::list)
        .configure(orgs::configure)
        .configure(workers::configure)
        .configure(bases::configure)
        .configure(incubations::configure)
        .configure(tenders::configure)
        .configure(ledger::configure)
        .configure(contracts::configure)
        .configure(spending::configure)
        .configure(people::configure)
        .configure(reports::configure)
        .configure(documents::configure)
        .configure(files::configure)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Sanshe API", description = "三社联动服务平台 JSON API. Errors are application/problem+json (RFC 9457) with a stable `code` and messages in zh-CN and en."),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Sign-in and own account"), (name = "users", description = "User administration (admin)"), (name = "audit", description = "Audit trail (admin, finance)"), (name = "checkpoints", description = "Signed checkpoints of the hash chains (public list; admin and finance sign on demand)"), (name = "health", description = "Liveness and readiness"), (name = "tasks", description = "What waits for the caller, oldest first, with due dates"), (name = "tenders", description = "Purchase-of-service tenders: notices, enquiries, life cycle"), (name = "bids", description = "Sealed bids, receipts and commitments"), (name = "evaluation", description = "Panel, scores, award, publicity and challenges"), (name = "ledger", description = "Fund ledger: budget appropriations, trial balance, journal export, verification (finance)"), (name = "contracts", description = "Contracts: notices, signing, acceptance, payments"), (name = "spending", description = "Spending reports against budget lines, finance review, audit flags"), (name = "people", description = "People served: beneficiaries, activities, 人次 and 人数"), (name = "reports", description = "Reports and documents as PDF: the 三社联动 report (figures and PDF), contract statements, award notices and letters, evaluation reports and audit reports"), (name = "files", description = "Uploaded files: tender documents (multipart uploads, downloads with ranges and ETags)"))
)]
pub struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Declare on every operation the refusals the shared layers can give it, as `application/problem+json`
/// (RFC 9457), so the document tells clients (and schema-driven fuzzers) the truth without each handler
/// repeating the list: 400 and 422 (malformed or invalid query, body or path), 401 and 403 (secured
/// operations), 404 (a path with an id), 409, 413, 415 and 429 (writes), 412 (PUT and PATCH, `If-Match`). A problem declared
/// by a handler keeps its description; its content type becomes `application/problem+json`.
pub fn declare_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "application/problem+json";
    let reason = |s: u16| {
        actix_web::http::StatusCode::from_u16(s)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("Error")
            .to_string()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        let ops = [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("put", item.put.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let write = method != "get";
            // Queries are validated too (an unknown state in a filter is a 422 naming it).
            let mut statuses = vec![400, 422];
            if secured {
                statuses.extend([401, 403]);
            }
            if has_id {
                statuses.push(404);
            }
            if write {
                statuses.extend([409, 413, 415, 429]);
            }
            if matches!(method, "put" | "patch") {
                statuses.push(412);
            }
            for s in statuses {
                op.responses
                    .responses
                    .entry(s.to_string())
                    .or_insert_with(|| {
                        RefOr::T(ResponseBuilder::new().description(reason(s)).build())
                    });
            }
            for (status, resp) in op.responses.responses.iter_mut() {
                let RefOr::T(resp) = resp else { continue };
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                resp.content.clear();
                resp.content.insert(
                    PROBLEM.to_string(),
                    RefOr::T(
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    ),
                );
            }
        }
    }
}
