//! tombola's HTTP API over the engine: deploys, draws, grants and stored
//! answers, as JSON, with errors as `application/problem+json`.
//!
//! `app(state)` builds the router, so tests drive it in process with
//! `tower::ServiceExt::oneshot`; `tombola serve` binds it to a socket.

mod error;
mod input;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tombola_engine::store::CampaignState;
use tombola_engine::{DrawRequest, Engine};

pub use error::{ApiError, PROBLEM_BASE};

/// Largest request body accepted; larger ones are refused with 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The clock the API reads; injected so tests control time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared state: the engine and the clock.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub clock: Clock,
    /// The bearer token admin calls must carry; `None` refuses every admin call.
    pub admin_token: Option<Arc<str>>,
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
            admin_token: None,
        }
    }
}

/// The API's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/v1/campaigns", get(list_campaigns))
        .route("/v1/campaigns/validate", post(validate))
        .route("/v1/campaigns/{id}", put(deploy).get(get_campaign))
        .route("/v1/campaigns/{id}/open", post(open_campaign))
        .route("/v1/campaigns/{id}/close", post(close_campaign))
        .route("/v1/campaigns/{id}/users/{user}", get(user_status))
        .route("/v1/campaigns/{id}/draws", post(draw))
        .route("/v1/campaigns/{id}/draws/{request_id}", get(stored_draw))
        .route("/v1/campaigns/{id}/grants", post(grant))
        // Campaign files may be up to 8 MiB (the loader's own limit); JSON calls are small.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    // The database answers: a transaction opens and closes.
    let tx = state
        .engine
        .store()
        .read()
        .await
        .map_err(|e| ApiError::NotReady(e.to_string()))?;
    drop(tx);
    Ok("ready")
}

/// Admin calls carry `Authorization: Bearer <TOMBOLA_ADMIN_TOKEN>`: none is 401, a wrong one 403.
fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.admin_token else {
        return Err(ApiError::Forbidden(
            "admin calls are disabled: set TOMBOLA_ADMIN_TOKEN".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthenticated)?;
    // Compare in constant time, so the token cannot be guessed byte by byte.
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Forbidden("wrong admin token".into()))
    }
}

async fn deploy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&state, &headers)?;
    let body = body.map_err(ApiError::from_body_rejection)?;
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

/// Checks a campaign without deploying it: the same diagnostics as `tombola check`, with positions.
async fn validate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&state, &headers)?;
    let source = body.map_err(ApiError::from_body_rejection)?;
    let report = tombola_dsl::check_source(&source);
    let diagnostics: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| tombola_dsl::render::locate("campaign.yaml", &source, d))
        .collect();
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    Ok(Json(serde_json::json!({
        "valid": errors == 0,
        "errors": errors,
        "warnings": report.diagnostics.len() - errors,
        "diagnostics": diagnostics,
    })))
}

async fn list_campaigns(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&state, &headers)?;
    Ok(Json(
        serde_json::json!({ "campaigns": state.engine.campaigns().await? }),
    ))
}

async fn get_campaign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&state, &headers)?;
    let (summary, source) = state.engine.campaign_detail(&id).await?;
    let graph = state
        .engine
        .campaign(&id)
        .map(|d| tombola_dsl::graph::render(&d.campaign, tombola_dsl::graph::Format::Mermaid))
        .unwrap_or_default();
    Ok(Json(serde_json::json!({
        "id": summary.id,
        "name": summary.name,
        "version": summary.version,
        "state": summary.state,
        "source": source,
        "graph": { "mermaid": graph },
    })))
}

async fn set_state(
    state: AppState,
    headers: HeaderMap,
    id: String,
    to: CampaignState,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&state, &headers)?;
    state.engine.set_state(&id, to).await?;
    Ok(Json(serde_json::json!({ "id": id, "state": to })))
}

async fn open_campaign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_state(state, headers, id, CampaignState::Open).await
}

async fn close_campaign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_state(state, headers, id, CampaignState::Closed).await
}

async fn user_status(
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        state
            .engine
            .user_status(&id, &user, (state.clock)())
            .await?,
    ))
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
