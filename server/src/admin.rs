//! Admin calls, behind the admin token: deploys, validation, campaign state,
//! statistics and API keys.

use axum::Json;
use axum::extract::rejection::{JsonRejection, StringRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tombola_engine::store::CampaignState;
use tombola_engine::{ApiKeyInfo, CampaignStats, CampaignSummary, Deployment, NewApiKey};

use crate::auth::Admin;
use crate::{ApiError, AppState, input};

type Answer<T> = Result<Json<T>, ApiError>;

/// Writes an admin action to the audit log. It follows the action's own
/// commit, so a failure here is logged loudly rather than undoing the action.
pub(crate) async fn audit(state: &AppState, action: &str, target: &str, detail: &str) {
    if let Err(error) = state
        .engine
        .audit("admin", action, target, detail, state.now())
        .await
    {
        tracing::error!(%error, action, target, "cannot write the audit log");
    }
}

/// The check's verdict on a campaign file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ValidateReport {
    valid: bool,
    errors: usize,
    warnings: usize,
    /// The same diagnostics as `tombola check --format json`.
    #[schema(value_type = Vec<Object>)]
    diagnostics: Vec<serde_json::Value>,
}

/// Checks a campaign file without deploying it: the diagnostics of `tombola check`, with positions.
#[utoipa::path(post, path = "/v1/campaigns/validate", tag = "admin",
    request_body(content = String, content_type = "application/yaml", description = "A campaign file"),
    security(("admin_token" = [])),
    responses((status = 200, body = ValidateReport)))]
pub(crate) async fn validate(
    _: Admin,
    body: Result<String, StringRejection>,
) -> Answer<ValidateReport> {
    let source = body.map_err(ApiError::from_body_rejection)?;
    let report = tombola_dsl::check_source(&source);
    let diagnostics: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::to_value(tombola_dsl::render::locate("campaign.yaml", &source, d))
                .unwrap_or_default()
        })
        .collect();
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    Ok(Json(ValidateReport {
        valid: errors == 0,
        errors,
        warnings: report.diagnostics.len() - errors,
        diagnostics,
    }))
}

/// Deploys a campaign file as campaign `id`: a new version if the content changed (201), nothing if not (200).
#[utoipa::path(put, path = "/v1/campaigns/{id}", tag = "admin",
    params(("id" = String, Path, description = "Must equal the file's `campaign:` key")),
    request_body(content = String, content_type = "application/yaml", description = "A campaign file"),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Deployed as a new version", body = Deployment),
        (status = 200, description = "Unchanged: nothing written", body = Deployment),
        (status = 413, description = "Body over 8 MiB", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The check failed (`invalid-campaign`, with diagnostics) or the id differs (`campaign-id-mismatch`)", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn deploy(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<String, StringRejection>,
) -> Result<(StatusCode, Json<Deployment>), ApiError> {
    let body = body.map_err(ApiError::from_body_rejection)?;
    let deployment = state.engine.deploy(&body, Some(&id), state.now()).await?;
    let status = if deployment.changed {
        tracing::info!(campaign = %id, version = deployment.version, "deployed");
        audit(
            &state,
            "deploy",
            &id,
            &format!("version {}", deployment.version),
        )
        .await;
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(deployment)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CampaignList {
    campaigns: Vec<CampaignSummary>,
}

/// Every deployed campaign.
#[utoipa::path(get, path = "/v1/campaigns", tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, body = CampaignList)))]
pub(crate) async fn list_campaigns(
    _: Admin,
    State(state): State<AppState>,
) -> Answer<CampaignList> {
    Ok(Json(CampaignList {
        campaigns: state.engine.campaigns().await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CampaignDetail {
    #[serde(flatten)]
    summary: CampaignSummary,
    /// The deployed file.
    source: String,
    graph: Graph,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Graph {
    /// The workflow graph as a Mermaid flowchart.
    mermaid: String,
}

/// One campaign: version, state, source and its graph.
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = CampaignDetail),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_campaign(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<CampaignDetail> {
    let (summary, source) = state.engine.campaign_detail(&id).await?;
    let mermaid = state
        .engine
        .resolve(&id)
        .await
        .map(|d| tombola_dsl::graph::render(&d.campaign, tombola_dsl::graph::Format::Mermaid))
        .unwrap_or_default();
    Ok(Json(CampaignDetail {
        summary,
        source,
        graph: Graph { mermaid },
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StateChange {
    id: String,
    state: CampaignState,
}

async fn set_state(state: AppState, id: String, to: CampaignState) -> Answer<StateChange> {
    state.engine.set_state(&id, to).await?;
    tracing::info!(campaign = %id, state = to.as_str(), "campaign state set");
    audit(&state, "set_state", &id, to.as_str()).await;
    Ok(Json(StateChange { id, state: to }))
}

/// Opens a campaign to draws and grants.
#[utoipa::path(post, path = "/v1/campaigns/{id}/open", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = StateChange),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn open_campaign(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<StateChange> {
    set_state(state, id, CampaignState::Open).await
}

/// Closes a campaign: draws and grants are refused with `campaign-not-open`.
#[utoipa::path(post, path = "/v1/campaigns/{id}/close", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = StateChange),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn close_campaign(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<StateChange> {
    set_state(state, id, CampaignState::Closed).await
}

/// Per award: stock left and issued; draws per day in the campaign's zone.
#[utoipa::path(get, path = "/v1/campaigns/{id}/stats", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = CampaignStats),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn stats(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<CampaignStats> {
    Ok(Json(state.engine.stats(&id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    /// Who the key is for, e.g. `checkout-backend`.
    name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeyList {
    keys: Vec<ApiKeyInfo>,
}

/// Creates an API key. The answer is the only time the key is shown; the server keeps its SHA-256.
#[utoipa::path(post, path = "/v1/keys", tag = "admin",
    request_body = CreateKey,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = NewApiKey),
        (status = 422, description = "`invalid-input`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_key(
    _: Admin,
    State(state): State<AppState>,
    body: Result<Json<CreateKey>, JsonRejection>,
) -> Result<(StatusCode, Json<NewApiKey>), ApiError> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    input::non_empty("name", &body.name)?;
    let key = state.engine.create_api_key(&body.name, state.now()).await?;
    tracing::info!(key = %key.info.id, name = %key.info.name, "API key created");
    audit(&state, "create_key", &key.info.id, &key.info.name).await;
    Ok((StatusCode::CREATED, Json(key)))
}

/// Every API key, revoked ones included; never the keys themselves.
#[utoipa::path(get, path = "/v1/keys", tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, body = KeyList)))]
pub(crate) async fn list_keys(_: Admin, State(state): State<AppState>) -> Answer<KeyList> {
    Ok(Json(KeyList {
        keys: state.engine.api_keys().await?,
    }))
}

/// Revokes an API key: every server refuses it within 5 seconds, this one at once.
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "admin",
    params(("key_id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = ApiKeyInfo),
        (status = 404, description = "`unknown-key`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_key(
    _: Admin,
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> Answer<ApiKeyInfo> {
    if !state.engine.revoke_api_key(&key_id, state.now()).await? {
        return Err(ApiError::UnknownKey(key_id));
    }
    state.keys.clear();
    tracing::info!(key = %key_id, "API key revoked");
    audit(&state, "revoke_key", &key_id, "").await;
    let keys = state.engine.api_keys().await?;
    keys.into_iter()
        .find(|k| k.id == key_id)
        .map(Json)
        .ok_or(ApiError::UnknownKey(key_id))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// `pending`, `sending`, `delivered` or `dead` (the dead letters); all when absent.
    state: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    deliveries: Vec<tombola_engine::Delivery>,
    summary: tombola_engine::DeliverySummary,
}

/// Outbox tasks (external awards on their way to the webhook), e.g. `?state=dead` for the dead letters.
#[utoipa::path(get, path = "/v1/deliveries", tag = "admin",
    params(DeliveryQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = DeliveryList),
        (status = 422, description = "`invalid-input`: an unknown state", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_deliveries(
    _: Admin,
    State(state): State<AppState>,
    query: Result<axum::extract::Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<DeliveryList> {
    let axum::extract::Query(query) = query.map_err(ApiError::from_query_rejection)?;
    if let Some(s) = &query.state
        && !["pending", "sending", "delivered", "dead"].contains(&s.as_str())
    {
        return Err(ApiError::BadInput {
            field: "state".into(),
            message: "must be pending, sending, delivered or dead".into(),
        });
    }
    Ok(Json(DeliveryList {
        deliveries: state
            .engine
            .deliveries(query.state.as_deref(), query.limit.unwrap_or(50))
            .await?,
        summary: state.engine.delivery_summary(state.now()).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Retried {
    id: i64,
    state: String,
}

/// Puts a dead-lettered delivery back in line, due now.
#[utoipa::path(post, path = "/v1/deliveries/{delivery_id}/retry", tag = "admin",
    params(("delivery_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Retried),
        (status = 404, description = "`unknown-delivery`: no dead delivery has this id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn retry_delivery(
    _: Admin,
    State(state): State<AppState>,
    Path(delivery_id): Path<i64>,
) -> Answer<Retried> {
    if !state
        .engine
        .retry_delivery(delivery_id, state.now())
        .await?
    {
        return Err(ApiError::UnknownDelivery(delivery_id));
    }
    audit(&state, "retry_delivery", &delivery_id.to_string(), "").await;
    Ok(Json(Retried {
        id: delivery_id,
        state: "pending".into(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Entries with ids below this (the last id of the previous page).
    before: Option<i64>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditLog {
    entries: Vec<tombola_engine::AuditEntry>,
}

/// The audit log of admin actions — deploys, state changes, credit adjustments, key changes, retries: who, what, when.
#[utoipa::path(get, path = "/v1/audit", tag = "admin",
    params(AuditQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = AuditLog)))]
pub(crate) async fn audit_log(
    _: Admin,
    State(state): State<AppState>,
    query: Result<axum::extract::Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<AuditLog> {
    let axum::extract::Query(query) = query.map_err(ApiError::from_query_rejection)?;
    Ok(Json(AuditLog {
        entries: state
            .engine
            .audit_log(query.before, query.limit.unwrap_or(50))
            .await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodesBody {
    /// Codes to add; codes already in the pool are skipped.
    codes: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CodesAdded {
    award: String,
    added: u64,
    /// Codes not yet issued: the coupon's stock.
    remaining: i64,
}

/// Uploads codes for a coupon award. Each code is issued to one draw; when
/// none is left, the award's stock node routes the user as sold out.
#[utoipa::path(post, path = "/v1/campaigns/{id}/awards/{award}/codes", tag = "admin",
    params(("id" = String, Path), ("award" = String, Path)),
    request_body = CodesBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = CodesAdded),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-input`: not a coupon award, an empty or over-long code, or a coupon with a declared `stock:`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn upload_codes(
    _: Admin,
    State(state): State<AppState>,
    Path((id, award)): Path<(String, String)>,
    body: Result<Json<CodesBody>, JsonRejection>,
) -> Answer<CodesAdded> {
    let Json(body) = body.map_err(ApiError::from_rejection)?;
    if let Some(bad) = body
        .codes
        .iter()
        .position(|c| c.trim().is_empty() || c.len() > 256)
    {
        return Err(ApiError::BadInput {
            field: format!("codes[{bad}]"),
            message: "must be 1 to 256 characters".into(),
        });
    }
    let (added, remaining) = state.engine.upload_codes(&id, &award, &body.codes).await?;
    audit(
        &state,
        "upload_codes",
        &format!("{id}/{award}"),
        &format!("{added} added"),
    )
    .await;
    Ok(Json(CodesAdded {
        award,
        added,
        remaining,
    }))
}
