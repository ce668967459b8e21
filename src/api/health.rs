//! `/healthz` (the process answers) and `/readyz` (the database answers and its migrations are current).

use actix_web::{HttpResponse, get, web};

use crate::app::AppState;

#[utoipa::path(tag = "health", responses((status = 200, description = "Alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

#[utoipa::path(tag = "health", responses((status = 200, description = "Ready"), (status = 503, description = "Database unreachable or migrations pending")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.config.database.backend_name();
    let r = crate::db::run(&state.pool, |c| {
        crate::db::migrations_current(c).map_err(crate::error::AppError::internal)
    })
    .await;
    match r {
        Ok(true) => HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": backend, "migrations": "current"})),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "not ready", "database": backend, "migrations": "pending"})),
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "not ready", "database": backend, "migrations": "unknown"})),
    }
}
