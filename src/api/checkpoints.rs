//! Signed checkpoints of the hash chains: the public list (with the public key, so anyone can check the
//! signatures offline) and signing the head on demand (admin, finance).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::chain::checkpoint::{self, Checkpoint, CheckpointFilter, Published, Signed};
use crate::error::{AppError, Problem};
use crate::http::caller::{AdminOrFinance, Authed};
use crate::http::input::Json;

/// Every signed checkpoint, newest first, with the algorithm, the public key and how the signed bytes are
/// made. Public: keep a copy; `sanshe verify --checkpoint FILE` (or any Ed25519 library) checks it.
#[utoipa::path(tag = "checkpoints", params(CheckpointFilter), responses((status = 200, body = Published), (status = 422, body = Problem)))]
#[get("/checkpoints")]
pub async fn list(
    state: web::Data<AppState>,
    q: web::Query<CheckpointFilter>,
) -> Result<HttpResponse, AppError> {
    let f = q.into_inner();
    let cfg = state.config.clone();
    let v = state
        .run(move |c| checkpoint::published(c, &cfg.checkpoints, &f))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Which chain to sign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The chain, `audit` (the default).
    #[serde(default)]
    pub chain: Option<String>,
}

/// Sign the chain's head now: 201 with the new checkpoint (stored and mailed to the auditors), or 200 with
/// the existing one when the head is already signed. 409 `chain_broken` when the chain does not verify
/// from the last checkpoint (nothing is signed), 409 `chain_empty` for a chain without entries.
#[utoipa::path(tag = "checkpoints", security(("bearer" = [])), request_body = SignRequest, responses((status = 201, body = Checkpoint), (status = 200, body = Checkpoint), (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[post("/checkpoints")]
pub async fn sign(
    state: web::Data<AppState>,
    user: Authed<AdminOrFinance>,
    body: Json<SignRequest>,
) -> Result<HttpResponse, AppError> {
    let chain = body
        .into_inner()
        .chain
        .unwrap_or_else(|| crate::chain::AUDIT.name.to_string());
    let (cfg, now, by) = (
        state.config.clone(),
        state.clock.now(),
        user.username.clone(),
    );
    let signed = state
        .run(move |c| checkpoint::sign_chain(c, &chain, &cfg.checkpoints, now, &by))
        .await?;
    Ok(match signed {
        Signed::New(cp) => HttpResponse::Created().json(cp),
        Signed::Existing(cp) => HttpResponse::Ok().json(cp),
    })
}
