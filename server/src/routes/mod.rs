//! The handlers, one file per area; `lib.rs` wires them into the router and the OpenAPI document.

pub(crate) mod accounts;
pub(crate) mod authoring;
pub(crate) mod campaigns;
pub(crate) mod deliveries;
pub(crate) mod draws;
pub(crate) mod keys;
pub(crate) mod operations;
pub(crate) mod reading;
pub(crate) mod simulate;
pub(crate) mod versions;

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use chrono::{DateTime, Utc};
use tombola_engine::{Deployed, Engine, Failure, SkuRequest};
use tracing::Instrument;

use crate::{ApiError, AppState, input};

type Answer<T> = Result<Json<T>, ApiError>;

/// `work` on a blocking thread: checking a large campaign file takes a
/// while, and the threads that answer draws must not wait for it.
pub(crate) async fn off_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    (tokio::task::spawn_blocking(work).await).map_err(|join| ApiError::Internal(join.to_string()))
}

/// Runs a write as a task of its own, so it completes even when the caller
/// leaves (the handler is dropped) or the request timeout passes: the caller
/// is then told it is still running, and gets its answer by request id.
async fn complete<T: Send + 'static>(
    state: &AppState,
    request_id: &str,
    work: impl Future<Output = Result<T, Failure>> + Send + 'static,
) -> Result<T, ApiError> {
    let task = state.tasks.spawn(work.instrument(tracing::Span::current()));
    match tokio::time::timeout(state.request_timeout, task).await {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(join)) => Err(ApiError::Internal(join.to_string())),
        Err(_) => {
            tracing::warn!(request_id, "still running at the request timeout");
            Err(ApiError::StillRunning(request_id.to_string()))
        }
    }
}

/// What every app write checks first: a user and a request id, and the user's rate.
fn admit(state: &AppState, campaign: &str, user: &str, request_id: &str) -> Result<(), ApiError> {
    input::identifier("user", user)?;
    input::identifier("request_id", request_id)?;
    state.limits.check_user(campaign, user)?;
    Ok(())
}

/// The deployed campaign `id`. Another server may have deployed it: then the
/// store has it and this process not yet.
async fn deployed(state: &AppState, id: &str) -> Result<Arc<Deployed>, ApiError> {
    match state.engine.campaign(id) {
        Some(deployed) => Ok(deployed),
        None => Ok(state.engine.resolve(id).await?),
    }
}

/// A call that gives a user one unit of a SKU: a grant or an exchange. It
/// owns its fields, since the call runs as a task of its own.
struct SkuCall {
    campaign: String,
    user: String,
    sku: String,
    request_id: String,
}

impl SkuCall {
    /// Admits the call, then runs it (`run`: the engine's grant or exchange) as a task.
    async fn run<T, D, F, W>(self, state: &AppState, run: F) -> Answer<D>
    where
        T: Into<D> + Send + 'static,
        F: FnOnce(Engine, SkuCall, DateTime<Utc>) -> W,
        W: Future<Output = Result<T, Failure>> + Send + 'static,
    {
        admit(state, &self.campaign, &self.user, &self.request_id)?;
        input::identifier("sku", &self.sku)?;
        let request_id = self.request_id.clone();
        let work = run(state.engine.clone(), self, state.now());
        Ok(Json(complete(state, &request_id, work).await?.into()))
    }

    fn request(&self) -> SkuRequest<'_> {
        SkuRequest {
            campaign: &self.campaign,
            user: &self.user,
            sku: &self.sku,
            request_id: &self.request_id,
        }
    }
}

/// Writes an admin action to the audit log. It follows the action's own
/// commit, so a failure here is logged loudly rather than undoing the action.
async fn audit(state: &AppState, action: &str, target: &str, detail: &str) {
    if let Err(error) = state
        .engine
        .audit("admin", action, target, detail, state.now())
        .await
    {
        tracing::error!(%error, action, target, "cannot write the audit log");
    }
}
