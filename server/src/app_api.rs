//! App calls, behind an API key: draws, grants, stored answers, and what a
//! user holds — standing, prize list, tiers and history.

use std::future::Future;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use tombola_engine::{
    DrawRequest, DrawResponse, Failure, GrantResponse, History, PrizeList, TierProgress, UserStatus,
};
use tracing::Instrument;

use crate::auth::Caller;
use crate::{ApiError, AppState, input};

type Answer<T> = Result<Json<T>, ApiError>;

/// Runs a write as a task of its own, so it completes even when the caller
/// leaves (the handler is dropped) or the request timeout passes: the caller
/// is then told it is still running, and gets its answer by request id.
pub(crate) async fn complete<T: Send + 'static>(
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawBody {
    /// The user drawing; any stable id of your system, 1 to 256 characters.
    user: String,
    /// Your id for this call: a retry with the same id and body returns the
    /// stored answer; the same id with another body is `request-id-reused`.
    request_id: String,
    /// The user attributes the campaign declares under `inputs.user`, by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

/// Draws for a user: the award, the steps that explain it, and what is left.
#[utoipa::path(post, path = "/v1/campaigns/{id}/draws", tag = "app",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = DrawBody,
    security(("api_key" = [])),
    responses(
        (status = 200, body = DrawResponse),
        (status = 400, description = "`malformed-body`: not JSON", body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign-not-open`, `outside-window`, `no-draws-left`, `daily-cap-reached`, `monthly-cap-reached`, `total-cap-reached` or `request-id-reused`; nothing was written", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-body` or `invalid-input`, naming the field", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn draw(
    _: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<DrawBody>, JsonRejection>,
) -> Answer<DrawResponse> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    input::non_empty("user", &body.user)?;
    input::non_empty("request_id", &body.request_id)?;
    state.limits.check_user(&id, &body.user)?;
    // Another server may have deployed it: then the store has it and this process not yet.
    let deployed = match state.engine.campaign(&id) {
        Some(deployed) => deployed,
        None => state.engine.resolve(&id).await?,
    };
    let attributes = input::attributes(&deployed.campaign, &body.attributes)?;
    let (engine, now, request_id) = (state.engine.clone(), state.now(), body.request_id.clone());
    let response = complete(&state, &request_id, async move {
        let request = DrawRequest {
            campaign: &id,
            user: &body.user,
            request_id: &body.request_id,
            attributes: &attributes,
        };
        engine.draw(&request, now).await
    })
    .await?;
    state.metrics.draw(&response.campaign, &response.award.id);
    Ok(Json(response))
}

/// The stored answer of a draw, by its request id.
#[utoipa::path(get, path = "/v1/campaigns/{id}/draws/{request_id}", tag = "app",
    params(("id" = String, Path), ("request_id" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = DrawResponse),
        (status = 404, description = "`unknown-campaign` or `unknown-request`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn stored_draw(
    _: Caller,
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Answer<DrawResponse> {
    match state.engine.stored_draw(&id, &request_id).await? {
        Some(response) => Ok(Json(response)),
        None => Err(ApiError::UnknownRequest(request_id)),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantBody {
    user: String,
    /// A SKU the campaign declares under `skus`.
    sku: String,
    request_id: String,
}

/// Grants a user one unit of a SKU (e.g. a purchase made elsewhere): its draws are added.
#[utoipa::path(post, path = "/v1/campaigns/{id}/grants", tag = "app",
    params(("id" = String, Path)),
    request_body = GrantBody,
    security(("api_key" = [])),
    responses(
        (status = 200, body = GrantResponse),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sku-sold-out`, `campaign-not-open`, `outside-window` or `request-id-reused`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown-sku`, `invalid-body` or `invalid-input`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn grant(
    _: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<GrantBody>, JsonRejection>,
) -> Answer<GrantResponse> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    input::non_empty("user", &body.user)?;
    input::non_empty("request_id", &body.request_id)?;
    state.limits.check_user(&id, &body.user)?;
    let (engine, now, request_id) = (state.engine.clone(), state.now(), body.request_id.clone());
    let response = complete(&state, &request_id, async move {
        engine
            .grant(&id, &body.user, &body.sku, &body.request_id, now)
            .await
    })
    .await?;
    Ok(Json(response))
}

/// A user's standing: draws made and left, and the room under each cap.
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}", tag = "app",
    params(("id" = String, Path), ("user" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserStatus),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn user_status(
    _: Caller,
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Answer<UserStatus> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state.engine.user_status(&id, &user, state.now()).await?,
    ))
}

/// The prize list: every award of the pool with its lock state for this user,
/// the draws left to unlock it, and the stock left.
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}/awards", tag = "app",
    params(("id" = String, Path), ("user" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = PrizeList),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn prize_list(
    _: Caller,
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Answer<PrizeList> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state.engine.prize_list(&id, &user, state.now()).await?,
    ))
}

/// The campaign's weight tiers and the user's progress through them.
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}/tiers", tag = "app",
    params(("id" = String, Path), ("user" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TierProgress),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn tiers(
    _: Caller,
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Answer<TierProgress> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state.engine.tier_progress(&id, &user, state.now()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Draws per page (default 20); values outside 1 to 100 are brought into that range.
    limit: Option<u32>,
}

/// A user's draws, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}/draws", tag = "app",
    params(("id" = String, Path), ("user" = String, Path), HistoryQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = History),
        (status = 400, description = "`malformed-query`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-input`: a cursor this API did not give", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn history(
    _: Caller,
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Answer<History> {
    let Query(query) = query.map_err(ApiError::from_query_rejection)?;
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state
            .engine
            .history(
                &id,
                &user,
                query.cursor.as_deref(),
                query.limit.unwrap_or(20),
            )
            .await?,
    ))
}
