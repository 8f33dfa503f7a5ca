//! What a user holds, behind an API key: standing, prize list, tiers and history.

use crate::views::{History, PrizeList, TierProgress, UserStatus};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::Answer;
use crate::auth::Caller;
use crate::extract::{AppPath, AppQuery};
use crate::{AppState, input};

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
    AppPath((id, user)): AppPath<(String, String)>,
) -> Answer<UserStatus> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state
            .engine
            .user_status(&id, &user, state.now())
            .await?
            .into(),
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
    AppPath((id, user)): AppPath<(String, String)>,
) -> Answer<PrizeList> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state
            .engine
            .prize_list(&id, &user, state.now())
            .await?
            .into(),
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
    AppPath((id, user)): AppPath<(String, String)>,
) -> Answer<TierProgress> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state
            .engine
            .tier_progress(&id, &user, state.now())
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Draws per page; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// A user's draws, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}/draws", tag = "app",
    params(("id" = String, Path), ("user" = String, Path), HistoryQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = History),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-input`: a cursor this API did not give or a limit outside 1 to 100", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn history(
    _: Caller,
    State(state): State<AppState>,
    AppPath((id, user)): AppPath<(String, String)>,
    AppQuery(query): AppQuery<HistoryQuery>,
) -> Answer<History> {
    state.limits.check_user(&id, &user)?;
    Ok(Json(
        state
            .engine
            .history(
                &id,
                &user,
                query.cursor.as_deref(),
                input::page_limit(query.limit, 20, tombola_engine::MAX_PAGE)?,
            )
            .await
            .map_err(|failure| match failure {
                // The cursor is the one input of this call the engine can refuse.
                tombola_engine::Failure::BadInput(message) => crate::ApiError::BadInput {
                    field: "cursor".into(),
                    message,
                },
                other => other.into(),
            })?
            .into(),
    ))
}
