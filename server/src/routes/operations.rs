//! Operations: health, readiness and the Prometheus metrics, without credentials.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use tombola_engine::store::Trouble;

use crate::{ApiError, AppState};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = String)))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and, if it was full, takes writes again.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = String),
        (status = 503, description = "`not-ready`: the database does not answer, or is full", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .engine
        .ready()
        .await
        .map_err(|error| ApiError::NotReady {
            full: error.trouble() == Some(Trouble::Full),
            why: error.to_string(),
        })?;
    Ok("ready")
}

/// Prometheus metrics: draws by campaign and award, request latency by route,
/// errors by problem type.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
