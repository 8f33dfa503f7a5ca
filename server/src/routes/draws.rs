//! Draws and grants, behind an API key: a draw, its stored answer by request
//! id, and a SKU granted to a user.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tombola_engine::DrawRequest;

use crate::answers::{DrawResponse, GrantResponse};

use super::{Answer, SkuCall, admit, complete, deployed};
use crate::auth::Caller;
use crate::extract::{AppJson, AppPath};
use crate::{ApiError, AppState, input};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawBody {
    /// The user drawing; any stable id of your system.
    #[schema(value_type = crate::input::Identifier)]
    user: String,
    /// Your id for this call: a retry with the same id and body returns the
    /// stored answer; the same id with another body is `request-id-reused`.
    #[schema(value_type = crate::input::Identifier)]
    request_id: String,
    /// The user attributes the campaign declares under `inputs.user`, by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: input::Attributes,
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
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<DrawBody>,
) -> Answer<DrawResponse> {
    admit(&state, &id, &body.user, &body.request_id)?;
    let deployed = deployed(&state, &id).await?;
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
    // A replay is the same draw again: counted once.
    if !response.replayed {
        state.metrics.draw(&response.campaign, &response.award.id);
    }
    Ok(Json(response.into()))
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
    AppPath((id, request_id)): AppPath<(String, String)>,
) -> Answer<DrawResponse> {
    match state.engine.stored_draw(&id, &request_id).await? {
        Some(response) => Ok(Json(response.into())),
        None => Err(ApiError::UnknownRequest(request_id)),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantBody {
    #[schema(value_type = crate::input::Identifier)]
    user: String,
    /// A SKU the campaign declares under `skus`.
    #[schema(value_type = crate::input::Identifier)]
    sku: String,
    #[schema(value_type = crate::input::Identifier)]
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
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<GrantBody>,
) -> Answer<GrantResponse> {
    let call = SkuCall {
        campaign: id,
        user: body.user,
        sku: body.sku,
        request_id: body.request_id,
    };
    call.run(&state, |engine, call, now| async move {
        engine.grant(&call.request(), now).await
    })
    .await
}
