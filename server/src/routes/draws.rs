//! Draws and grants, behind an API key: a draw, its stored answer by request
//! id, and a SKU granted to a user.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tombola_engine::{DrawRequest, DryRunOptions, StartingCounts};
use tombola_ir::Campaign;

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
    /// An edited campaign file to dry-run instead of the deployed version,
    /// as if deployed now over what the store holds: its `campaign:` must be
    /// the path's id, which need not have been deployed. Only with `dry_run`,
    /// and only with the admin token.
    source: Option<String>,
    /// The user's draw counts to start from instead of the store's. Only
    /// with `dry_run`, and only with the admin token.
    counts: Option<StartingCountsBody>,
    /// The user's balance to start from instead of the store's, as a decimal
    /// string. Only with `dry_run`, and only with the admin token.
    #[schema(value_type = Option<crate::input::Amount>)]
    credits: Option<String>,
}

/// Draw counts a dry run starts from, each in place of the store's when
/// given; a count not given is raised to the one given below it (today's
/// draws are part of the month's, the month's of the total).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartingCountsBody {
    #[schema(minimum = 0)]
    today: Option<i64>,
    #[schema(minimum = 0)]
    month: Option<i64>,
    #[schema(minimum = 0)]
    total: Option<i64>,
    /// Granted draws not used yet.
    #[schema(minimum = 0)]
    granted: Option<i64>,
}

impl StartingCountsBody {
    fn counts(&self) -> Result<StartingCounts, ApiError> {
        let named = [
            ("counts.today", self.today),
            ("counts.month", self.month),
            ("counts.total", self.total),
            ("counts.granted", self.granted),
        ];
        if let Some((field, Some(n))) = named.iter().find(|(_, n)| n.is_some_and(|n| n < 0)) {
            return Err(ApiError::BadInput {
                field: (*field).into(),
                message: format!("{n} is below zero; a count cannot be"),
            });
        }
        Ok(StartingCounts {
            today: self.today,
            month: self.month,
            total: self.total,
            granted: self.granted,
        })
    }
}

impl DrawBody {
    /// The fields only a dry run may carry, and whether each is given.
    fn dry_run_fields(&self) -> [(&'static str, bool); 5] {
        [
            ("seed", self.seed.is_some()),
            ("lands_on", self.lands_on.is_some()),
            ("source", self.source.is_some()),
            ("counts", self.counts.is_some()),
            ("credits", self.credits.is_some()),
        ]
    }

    /// A dry run's options but the edited campaign; they are refused on a draw.
    fn dry_run_options(&self) -> Result<Option<DryRunOptions<'_>>, ApiError> {
        if !self.dry_run {
            if let Some((field, _)) = self.dry_run_fields().iter().find(|(_, given)| *given) {
                return Err(ApiError::BadInput {
                    field: (*field).into(),
                    message: format!("`{field}` is for dry runs only: add `\"dry_run\": true`"),
                });
            }
            return Ok(None);
        }
        let seed = (self.seed.as_deref())
            .map(|digits| input::seed("seed", digits))
            .transpose()?;
        if let Some(award) = &self.lands_on {
            input::identifier("lands_on", award)?;
        }
        Ok(Some(DryRunOptions {
            seed,
            lands_on: self.lands_on.as_deref(),
            campaign: None,
            counts: self
                .counts
                .as_ref()
                .map(|c| c.counts())
                .transpose()?
                .unwrap_or_default(),
            credits: (self.credits.as_deref())
                .map(|credits| input::balance("credits", credits))
                .transpose()?,
        }))
    }

    /// What an app key may not send: a dry run of anything but the deployed
    /// version, as it stands in the store.
    fn admin_only(&self) -> Option<&'static str> {
        let edits = [
            ("source", self.source.is_some()),
            ("counts", self.counts.is_some()),
            ("credits", self.credits.is_some()),
        ];
        edits
            .iter()
            .find(|(_, given)| *given)
            .map(|(field, _)| *field)
    }
}

/// `source` compiled as campaign `id` (off the request threads), or the
/// problem with it.
async fn edited(id: &str, source: String) -> Result<Campaign, ApiError> {
    let report = super::off_request_threads(move || tombola_dsl::check_source(&source)).await?;
    let Some(campaign) = report.campaign else {
        return Err(ApiError::InvalidCampaign(report.diagnostics));
    };
    if campaign.id != id {
        return Err(ApiError::IdMismatch {
            expected: id.to_string(),
            found: campaign.id,
        });
    }
    Ok(campaign)
}

/// Draws for a user: the award, the steps that explain it, and what is left.
/// With `dry_run`, says what the draw would give and changes nothing.
#[utoipa::path(post, path = "/v1/campaigns/{id}/draws", tag = "app",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = DrawBody,
    security(("api_key" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The draw's answer; for a dry run, a `DryRunResponse`. The admin token may make dry runs only", body = DrawAnswer),
        (status = 403, description = "`forbidden`: the admin token without `dry_run`, or an API key sending `source`, `counts` or `credits`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 400, description = "`malformed-body`: not JSON", body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign-not-open`, `outside-window`, `no-draws-left`, `daily-cap-reached`, `monthly-cap-reached`, `total-cap-reached` or `request-id-reused`; nothing was written", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-body` or `invalid-input`, naming the field; for a dry run's `source`, `invalid-campaign` (with diagnostics) or `campaign-id-mismatch`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn draw(
    caller: AppOrAdmin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<DrawBody>,
) -> Answer<DrawAnswer> {
    // A dry run's field on a draw is bad input, whoever sends it.
    let options = body.dry_run_options()?;
    if matches!(caller, AppOrAdmin::Admin) && !body.dry_run {
        return Err(ApiError::Forbidden(
            "the admin token may only dry-run a draw (`\"dry_run\": true`); draws need an API key"
                .into(),
        ));
    }
    if let (AppOrAdmin::App(_), Some(field)) = (&caller, body.admin_only()) {
        return Err(ApiError::Forbidden(format!(
            "`{field}` needs the admin token: API keys may dry-run the deployed version only"
        )));
    }
    admit(&state, &id, &body.user, &body.request_id)?;
    if let Some(options) = options {
        return dry_run(&state, &id, &body, options).await;
    }
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
    Ok(Json(DrawAnswer::Draw(response.into())))
}

/// A dry run of `body`'s draw: of the deployed version, or of the edited
/// file it carries.
async fn dry_run(
    state: &AppState,
    id: &str,
    body: &DrawBody,
    options: DryRunOptions<'_>,
) -> Answer<DrawAnswer> {
    let (edit, live);
    // Shorter-lived than the body's fields: it may hold the edited campaign.
    let mut options = options;
    let campaign = match &body.source {
        Some(source) => {
            edit = edited(id, source.clone()).await?;
            options.campaign = Some(&edit);
            &edit
        }
        None => {
            live = deployed(state, id).await?;
            &live.campaign
        }
    };
    let attributes = input::attributes(campaign, &body.attributes)?;
    let request = DrawRequest {
        campaign: id,
        user: &body.user,
        request_id: &body.request_id,
        attributes: &attributes,
    };
    // Nothing to complete after the caller leaves: it writes nothing.
    let dry_run = state
        .engine
        .dry_run_draw(&request, state.now(), options)
        .await?;
    Ok(Json(DrawAnswer::DryRun(dry_run.into())))
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
