//! tombola's HTTP API over the engine: deploys, draws, grants and stored
//! answers, as JSON, with errors as `application/problem+json`.
//!
//! `app(state)` builds the router, so tests drive it in process with
//! `tower::ServiceExt::oneshot`; `tombola serve` binds it to a socket.

mod error;
mod input;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tombola_engine::{DrawRequest, Engine};

pub use error::{ApiError, PROBLEM_BASE};

/// The clock the API reads; injected so tests control time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared state: the engine and the clock.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub clock: Clock,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        AppState {
            engine,
            clock: Arc::new(Utc::now),
        }
    }
}

/// The API's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/v1/campaigns/{id}", put(deploy))
        .route("/v1/campaigns/{id}/draws", post(draw))
        .route("/v1/campaigns/{id}/draws/{request_id}", get(stored_draw))
        .route("/v1/campaigns/{id}/grants", post(grant))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    // The database answers: a transaction opens and closes.
    let tx = state
        .engine
        .store()
        .begin()
        .await
        .map_err(|e| ApiError::NotReady(e.to_string()))?;
    drop(tx);
    Ok("ready")
}

async fn deploy(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: String,
) -> Result<impl IntoResponse, ApiError> {
    let deployment = state
        .engine
        .deploy(&body, Some(&id), (state.clock)())
        .await?;
    let status = if deployment.changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(deployment)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrawBody {
    user: String,
    request_id: String,
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

async fn draw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<DrawBody>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    input::non_empty("user", &body.user)?;
    input::non_empty("request_id", &body.request_id)?;
    let deployed = state
        .engine
        .campaign(&id)
        .ok_or_else(|| ApiError::UnknownCampaign(id.clone()))?;
    let attributes = input::attributes(&deployed.campaign, &body.attributes)?;
    let request = DrawRequest {
        campaign: &id,
        user: &body.user,
        request_id: &body.request_id,
        attributes: &attributes,
    };
    let response = state.engine.draw(&request, (state.clock)()).await?;
    Ok(Json(response))
}

async fn stored_draw(
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    match state.engine.stored_draw(&id, &request_id).await? {
        Some(response) => Ok(Json(response)),
        None => Err(ApiError::UnknownRequest(request_id)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    user: String,
    sku: String,
    request_id: String,
}

async fn grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<GrantBody>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    input::non_empty("user", &body.user)?;
    input::non_empty("request_id", &body.request_id)?;
    let response = state
        .engine
        .grant(
            &id,
            &body.user,
            &body.sku,
            &body.request_id,
            (state.clock)(),
        )
        .await?;
    Ok(Json(response))
}
