//! Rebate events, exchanges of credits for draws, and the credit ledger:
//! app calls, and the admin's balance adjustment.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tombola_engine::EventRequest;
use tombola_engine::store::Period;

use crate::answers::{Adjustment, EventResponse, ExchangeResponse};
use crate::views::Credits;

use super::{Answer, SkuCall, admit, complete, deployed};
use crate::auth::{Admin, Caller};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::{ApiError, AppState, input};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    #[schema(value_type = crate::input::Identifier)]
    user: String,
    /// An event the campaign declares under `inputs.events`, e.g. `sign_in`.
    #[schema(value_type = crate::input::Identifier)]
    event: String,
    #[schema(value_type = crate::input::Identifier)]
    request_id: String,
    /// The event's declared attributes, by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: input::Attributes,
}

/// Reports a behaviour event: every rebate flow on it runs — its condition,
/// its once-per-period claim, its actions — in one transaction.
#[utoipa::path(post, path = "/v1/campaigns/{id}/events", tag = "app",
    params(("id" = String, Path)),
    request_body = EventBody,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Each flow on the event: `applied`, `condition_false` or `already_done`", body = EventResponse),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign-not-open`, `outside-window` or `request-id-reused`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown-event`, `invalid-input` (naming the attribute) or `invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn event(
    _: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<EventBody>,
) -> Answer<EventResponse> {
    admit(&state, &id, &body.user, &body.request_id)?;
    input::identifier("event", &body.event)?;
    let deployed = deployed(&state, &id).await?;
    let declared = deployed.campaign.inputs.event(&body.event).ok_or_else(|| {
        ApiError::Refused(tombola_engine::Failure::UnknownEvent(body.event.clone()))
    })?;
    let attributes = input::typed(&declared.attributes, &body.attributes)?;
    let (engine, now, request_id) = (state.engine.clone(), state.now(), body.request_id.clone());
    let response = complete(&state, &request_id, async move {
        let request = EventRequest {
            campaign: &id,
            user: &body.user,
            event: &body.event,
            request_id: &body.request_id,
            attributes: &attributes,
        };
        engine.event(&request, now).await
    })
    .await?;
    Ok(Json(response.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PeriodQuery {
    /// In the campaign's zone; `day` when absent.
    #[param(value_type = Option<PeriodName>)]
    period: Option<String>,
}

/// A period a once-per-period event is counted in.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PeriodName {
    Day,
    Week,
    Month,
    Ever,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventDone {
    user: String,
    event: String,
    period: String,
    done: bool,
}

/// Whether the user reported the event in the current day, week or month ("signed in today?").
#[utoipa::path(get, path = "/v1/campaigns/{id}/users/{user}/events/{event}", tag = "app",
    params(("id" = String, Path), ("user" = String, Path), ("event" = String, Path), PeriodQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = EventDone),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown-event` or `invalid-input` (the period)", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn event_done(
    _: Caller,
    State(state): State<AppState>,
    AppPath((id, user, event)): AppPath<(String, String, String)>,
    AppQuery(query): AppQuery<PeriodQuery>,
) -> Answer<EventDone> {
    state.limits.check_user(&id, &user)?;
    let name = query.period.unwrap_or_else(|| "day".into());
    let period = match input::one_of("period", &name, "day, week, month or ever")? {
        PeriodName::Day => Period::Day,
        PeriodName::Week => Period::Week,
        PeriodName::Month => Period::Month,
        PeriodName::Ever => Period::Ever,
    };
    let done = state
        .engine
        .event_done(&id, &user, &event, period, state.now())
        .await?;
    Ok(Json(EventDone {
        user,
        event,
        period: name,
        done,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExchangeBody {
    #[schema(value_type = crate::input::Identifier)]
    user: String,
    /// A SKU with a credit `price`.
    #[schema(value_type = crate::input::Identifier)]
    sku: String,
    #[schema(value_type = crate::input::Identifier)]
    request_id: String,
}

/// Buys one unit of a SKU with credits: the price debited and the draws granted together, or nothing.
#[utoipa::path(post, path = "/v1/campaigns/{id}/exchanges", tag = "app",
    params(("id" = String, Path)),
    request_body = ExchangeBody,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ExchangeResponse),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient-credits`, `sku-sold-out`, `campaign-not-open`, `outside-window` or `request-id-reused`; nothing was written", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unknown-sku`, `sku-not-for-sale`, `invalid-input` or `invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`still-running`: retry with the same request id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn exchange(
    _: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ExchangeBody>,
) -> Answer<ExchangeResponse> {
    let call = SkuCall {
        campaign: id,
        user: body.user,
        sku: body.sku,
        request_id: body.request_id,
    };
    call.run(&state, |engine, call, now| async move {
        engine.exchange(&call.request(), now).await
    })
    .await
}

/// A user's credit balance and latest ledger entries (20, newest first).
#[utoipa::path(get, path = "/v1/users/{user}/credits", tag = "app",
    params(("user" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = Credits)))]
pub(crate) async fn credits(
    _: Caller,
    State(state): State<AppState>,
    AppPath(user): AppPath<String>,
) -> Answer<Credits> {
    state.limits.check_user("", &user)?;
    Ok(Json(state.engine.credits(&user, 20).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdjustmentBody {
    /// Signed credits as a string, exact, at most 2 fractional digits, not
    /// zero, within ±1,000,000,000,000: `"25"`, `"-10.50"`. A string, so no
    /// JSON parser rounds it.
    #[schema(value_type = crate::input::Amount)]
    amount: String,
    /// Why, for the ledger and the audit log.
    #[schema(value_type = crate::input::Text)]
    reason: String,
    #[schema(value_type = crate::input::Identifier)]
    request_id: String,
}

/// Corrects a balance (admin): a credit, or a debit the balance covers.
#[utoipa::path(post, path = "/v1/users/{user}/credits/adjustments", tag = "admin",
    params(("user" = String, Path)),
    request_body = AdjustmentBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Adjustment),
        (status = 409, description = "`insufficient-credits` or `request-id-reused`; nothing was written", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-input` or `invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn adjust(
    _: Admin,
    State(state): State<AppState>,
    AppPath(user): AppPath<String>,
    AppJson(body): AppJson<AdjustmentBody>,
) -> Answer<Adjustment> {
    let amount = input::amount("amount", &body.amount)?;
    input::text("reason", &body.reason)?;
    input::identifier("request_id", &body.request_id)?;
    let adjustment = state
        .engine
        .adjust_credits(&user, amount, &body.reason, &body.request_id, state.now())
        .await?;
    // The engine wrote the audit entry in the adjustment's transaction.
    tracing::info!(user = %user, delta = %adjustment.delta, reason = %body.reason, "credits adjusted");
    Ok(Json(adjustment.into()))
}
