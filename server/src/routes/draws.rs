//! Draws and grants, behind an API key: a draw, its stored answer by request
//! id, and a SKU granted to a user.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tombola_engine::{DrawRequest, DryRunOptions};

use crate::answers::{DrawAnswer, DrawResponse, GrantResponse};

use super::{Answer, SkuCall, admit, complete, deployed};
use crate::auth::{AppOrAdmin, Caller};
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
    /// Evaluate the draw without making it: on what the store holds now,
    /// nothing written, no stock taken, no row locked and the request id not
    /// claimed. The answer is a `DryRunResponse`: what the draw would answer,
    /// or the problem that would refuse it (a cap, no draws left, the
    /// campaign closed); only bad input is an error.
    #[serde(default)]
    dry_run: bool,
    /// A dry run's random seed, as decimal digits (draws answer theirs so);
    /// without it, the seed the draw with this request id would have. Only
    /// with `dry_run`.
    #[schema(example = "42")]
    seed: Option<String>,
    /// The award a dry run's weighted pick lands on, wherever it is in the
    /// table being drawn (the chain and the award's tree still run). Only
    /// with `dry_run`.
    #[schema(value_type = Option<crate::input::Identifier>)]
    lands_on: Option<String>,
}

impl DrawBody {
    /// A dry run's options; `seed` and `lands_on` are refused on a draw.
    fn dry_run_options(&self) -> Result<Option<DryRunOptions<'_>>, ApiError> {
        if !self.dry_run {
            let given = [
                ("seed", self.seed.is_some()),
                ("lands_on", self.lands_on.is_some()),
            ];
            if let Some((field, _)) = given.iter().find(|(_, given)| *given) {
                return Err(ApiError::BadInput {
                    field: (*field).into(),
                    message: format!("`{field}` is for dry runs only: add `\"dry_run\": true`"),
                });
            }
            return Ok(None);
        }
        let seed = match &self.seed {
            None => None,
            Some(digits) => Some(digits.parse::<u64>().map_err(|_| ApiError::BadInput {
                field: "seed".into(),
                message: format!(
                    "`{digits}` is not a seed: decimal digits of a number from 0 to {}",
                    u64::MAX
                ),
            })?),
        };
        if let Some(award) = &self.lands_on {
            input::identifier("lands_on", award)?;
        }
        Ok(Some(DryRunOptions {
            seed,
            lands_on: self.lands_on.as_deref(),
        }))
    }
}

/// Draws for a user: the award, the steps that explain it, and what is left.
/// With `dry_run`, says what the draw would give and changes nothing.
#[utoipa::path(post, path = "/v1/campaigns/{id}/draws", tag = "app",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = DrawBody,
    security(("api_key" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The draw's answer; for a dry run, a `DryRunResponse`. The admin token may make dry runs only", body = DrawAnswer),
        (status = 400, description = "`malformed-body`: not JSON", body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign-not-open`, `outside-window`, `no-draws-left`, `daily-cap-reached`, `monthly-cap-reached`, `total-cap-reached` or `request-id-reused`; nothing was written", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-body` or `invalid-input`, naming the field", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn draw(
    caller: AppOrAdmin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<DrawBody>,
) -> Answer<DrawAnswer> {
    if matches!(caller, AppOrAdmin::Admin) && !body.dry_run {
        return Err(ApiError::Forbidden(
            "the admin token may only dry-run a draw (`\"dry_run\": true`); draws need an API key"
                .into(),
        ));
    }
    admit(&state, &id, &body.user, &body.request_id)?;
    let options = body.dry_run_options()?;
    let deployed = deployed(&state, &id).await?;
    let attributes = input::attributes(&deployed.campaign, &body.attributes)?;
    if let Some(options) = options {
        let request = DrawRequest {
            campaign: &id,
            user: &body.user,
            request_id: &body.request_id,
            attributes: &attributes,
        };
        // Nothing to complete after the caller leaves: it writes nothing.
        let dry_run = state
            .engine
            .dry_run_draw(&request, state.now(), options)
            .await?;
        return Ok(Json(DrawAnswer::DryRun(dry_run.into())));
    }
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
    Ok(Json(DrawAnswer::Draw(response.into())))
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
