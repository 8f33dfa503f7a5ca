//! Campaigns, behind the admin token: validation, deploys, the deployed
//! campaigns, their state, statistics and coupon codes. Their versions are
//! in `versions.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tombola_engine::Provenance;
use tombola_engine::store::{CampaignState as Stored, Origin};

use crate::listings::{CampaignState, CampaignSummary, DeployWarning, Deployment};
use crate::views::CampaignStats;

use super::{Answer, audit};
use crate::auth::Admin;
use crate::extract::{AppJson, AppPath, AppQuery, TextBody};
use crate::{ApiError, AppState, input};

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
    request_body(content = serde_json::Value, content_type = "application/yaml", description = "A campaign file, or any text: what is not a campaign is reported in the diagnostics. Never empty."),
    security(("admin_token" = [])),
    responses((status = 200, body = ValidateReport)))]
pub(crate) async fn validate(_: Admin, TextBody(source): TextBody) -> Answer<ValidateReport> {
    // Checking a large broken file takes a while: off the threads that answer draws.
    super::off_request_threads(move || validated(&source))
        .await
        .map(Json)
}

/// [`validate`]'s answer for `source`.
fn validated(source: &str) -> ValidateReport {
    let report = tombola_dsl::check_source(source);
    let lines = tombola_dsl::render::Lines::new(source);
    let diagnostics: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::to_value(tombola_dsl::render::locate("campaign.yaml", &lines, d))
                .unwrap_or_default()
        })
        .collect();
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    ValidateReport {
        valid: errors == 0,
        errors,
        warnings: report.diagnostics.len() - errors,
        diagnostics,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeployQuery {
    /// Why this version, kept with it and listed in its history (free text, 1 to 1,000 characters).
    #[param(value_type = Option<crate::input::Text>)]
    note: Option<String>,
}

/// Deploys a campaign file as campaign `id`: a new version if the content changed (201), nothing if not (200).
/// A deploy with the header `Tombola-Client: console` is recorded as the console's, any other as the API's.
#[utoipa::path(put, path = "/v1/campaigns/{id}", tag = "admin",
    params(
        ("id" = String, Path, description = "Must equal the file's `campaign:` key"),
        DeployQuery,
        ("Tombola-Client" = Option<String>, Header, description = "`console` records the version as the console's; anything else, or none, as the API's"),
    ),
    request_body(content = Object, content_type = "application/yaml", description = "A campaign file: a YAML mapping, as `schema/campaign.schema.json` describes, that passes `tombola check`"),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Deployed as a new version", body = Deployment),
        (status = 200, description = "Unchanged: nothing written", body = Deployment),
        (status = 409, description = "`campaign-owned-by-folder`: the campaign is deployed from the watched campaigns folder; the detail names its file", body = crate::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 8 MiB", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The check failed (`invalid-campaign`, with diagnostics) or the id differs (`campaign-id-mismatch`)", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn deploy(
    _: Admin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<DeployQuery>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<(StatusCode, Json<Deployment>), ApiError> {
    let from = provenance(&headers, query.note)?;
    let deployment = state
        .engine
        .deploy_from(&body, Some(&id), &from, state.now())
        .await?;
    let detail = format!("version {}", deployment.version);
    Ok(deployed(&state, deployment, "deploy", &detail).await)
}

/// Where an API deploy or rollback comes from: the console when it says so
/// in `Tombola-Client`, else the API; with its note, checked as free text.
pub(super) fn provenance(
    headers: &HeaderMap,
    note: Option<String>,
) -> Result<Provenance, ApiError> {
    if let Some(note) = &note {
        input::text("note", note)?;
    }
    let console = headers
        .get("tombola-client")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"console"));
    Ok(Provenance {
        origin: if console {
            Origin::Console
        } else {
            Origin::Api
        },
        path: None,
        note,
    })
}

/// A deploy's answer (201 for a new version, 200 for unchanged content), its
/// warnings logged, and a new version written to the audit log as `action`.
pub(super) async fn deployed(
    state: &AppState,
    deployment: tombola_engine::Deployment,
    action: &str,
    detail: &str,
) -> (StatusCode, Json<Deployment>) {
    let id = deployment.campaign.clone();
    let mut answer = Deployment::from(deployment.clone());
    answer.warnings.extend(
        state
            .engine
            .campaign(&id)
            .and_then(|deployed| DeployWarning::secret_missing(&deployed)),
    );
    for warning in &answer.warnings {
        tracing::warn!(campaign = %id, code = %warning.code, "{}", warning.message);
    }
    let status = if deployment.changed {
        tracing::info!(campaign = %id, version = deployment.version, action, "deployed");
        audit(state, action, &id, detail).await;
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(answer))
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
        campaigns: state
            .engine
            .campaigns()
            .await?
            .into_iter()
            .map(CampaignSummary::from)
            .collect(),
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
    AppPath(id): AppPath<String>,
) -> Answer<CampaignDetail> {
    let (summary, source) = state.engine.campaign_detail(&id).await?;
    let mermaid = state
        .engine
        .resolve(&id)
        .await
        .map(|d| tombola_dsl::graph::render(&d.campaign, tombola_dsl::graph::Format::Mermaid))
        .unwrap_or_default();
    Ok(Json(CampaignDetail {
        summary: summary.into(),
        source,
        graph: Graph { mermaid },
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StateChange {
    id: String,
    state: CampaignState,
}

async fn set_state(state: AppState, id: String, to: Stored) -> Answer<StateChange> {
    state.engine.set_state(&id, to).await?;
    tracing::info!(campaign = %id, state = to.as_str(), "campaign state set");
    audit(&state, "set_state", &id, to.as_str()).await;
    Ok(Json(StateChange {
        id,
        state: to.into(),
    }))
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
    AppPath(id): AppPath<String>,
) -> Answer<StateChange> {
    set_state(state, id, Stored::Open).await
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
    AppPath(id): AppPath<String>,
) -> Answer<StateChange> {
    set_state(state, id, Stored::Closed).await
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
    AppPath(id): AppPath<String>,
) -> Answer<CampaignStats> {
    Ok(Json(state.engine.stats(&id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodesBody {
    /// Codes to add; codes already in the pool are skipped.
    #[schema(value_type = Vec<crate::input::Identifier>)]
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
    AppPath((id, award)): AppPath<(String, String)>,
    AppJson(body): AppJson<CodesBody>,
) -> Answer<CodesAdded> {
    for (at, code) in body.codes.iter().enumerate() {
        input::identifier(&format!("codes[{at}]"), code)?;
    }
    let (added, remaining) = state
        .engine
        .upload_codes(&id, &award, &body.codes)
        .await
        .map_err(|failure| match failure {
            // The award is the one thing of this call the engine can refuse.
            tombola_engine::Failure::BadInput(message) => ApiError::BadInput {
                field: "award".into(),
                message,
            },
            other => other.into(),
        })?;
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
