//! A campaign's history, behind the admin token: its versions, one version's
//! source, the live file as a download, rollbacks, and the semantic diff
//! (`tombola diff`'s) of an edited file or between two versions.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use tombola_dsl::diff::Diff;
use tombola_ir::Campaign;

use super::Answer;
use super::campaigns::{deployed, provenance};
use crate::auth::Admin;
use crate::extract::{AppJson, AppPath};
use crate::listings::{Deployment, VersionDetail, VersionEntry};
use crate::{ApiError, AppState};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VersionList {
    /// Newest first.
    versions: Vec<VersionEntry>,
}

/// A campaign's and a version's path segments.
#[derive(Debug, Deserialize)]
pub(crate) struct VersionPath {
    id: String,
    #[serde(deserialize_with = "crate::input::version_segment")]
    version: i64,
}

/// A campaign's and two versions' path segments: from `version` to `other`.
#[derive(Debug, Deserialize)]
pub(crate) struct VersionsPath {
    id: String,
    #[serde(deserialize_with = "crate::input::version_segment")]
    version: i64,
    #[serde(deserialize_with = "crate::input::version_segment")]
    other: i64,
}

/// Every deployed version of a campaign, newest first.
#[utoipa::path(get, path = "/v1/campaigns/{id}/versions", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = VersionList),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_versions(
    _: Admin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> Answer<VersionList> {
    let found = state.engine.versions(&id).await?;
    Ok(Json(VersionList {
        versions: found
            .versions
            .into_iter()
            .map(|row| VersionEntry::new(row, found.live))
            .collect(),
    }))
}

/// Version `version` of campaign `id` as stored, or `unknown-version`.
async fn stored(
    state: &AppState,
    id: &str,
    version: i64,
) -> Result<(i64, tombola_engine::store::StoredVersion), ApiError> {
    match state.engine.stored_version(id, version).await? {
        (live, Some(stored)) => Ok((live, stored)),
        (_, None) => Err(ApiError::UnknownVersion {
            campaign: id.to_string(),
            version,
        }),
    }
}

/// One version of a campaign, with its source.
#[utoipa::path(get, path = "/v1/campaigns/{id}/versions/{version}", tag = "admin",
    params(("id" = String, Path), ("version" = i64, Path, minimum = 1)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = VersionDetail),
        (status = 404, description = "`unknown-campaign`, `unknown-version`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_version(
    _: Admin,
    State(state): State<AppState>,
    AppPath(path): AppPath<VersionPath>,
) -> Answer<VersionDetail> {
    let (live, version) = stored(&state, &path.id, path.version).await?;
    Ok(Json(VersionDetail::new(version, live)))
}

/// The live version's file, as a download (`<id>.yaml`): how a campaign
/// deployed through the API or the console is exported.
#[utoipa::path(get, path = "/v1/campaigns/{id}/source", tag = "admin",
    params(("id" = String, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The live version's campaign file", content_type = "application/yaml", body = serde_json::Value),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn export_source(
    _: Admin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, source) = state.engine.campaign_detail(&id).await?;
    // An id may hold any character but controls and format characters: the
    // quoted filename keeps what a header may carry, `filename*` the rest.
    let plain: String = id
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let disposition =
        format!("attachment; filename=\"{plain}.yaml\"; filename*=UTF-8''{encoded}.yaml");
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        source,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollbackBody {
    /// The version whose source is deployed again.
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1)]
    version: i64,
    /// Why, kept with the new version.
    #[schema(value_type = Option<crate::input::Text>)]
    note: Option<String>,
}

/// Deploys an earlier version's source again, as a new version: its rules,
/// with the stock and counts as they stand. Answers as a deploy does (200 when
/// the live version already has that source). `Tombola-Client: console` records
/// it as the console's.
#[utoipa::path(post, path = "/v1/campaigns/{id}/rollback", tag = "admin",
    params(
        ("id" = String, Path),
        ("Tombola-Client" = Option<String>, Header, description = "`console` records the version as the console's; anything else, or none, as the API's"),
    ),
    request_body = RollbackBody,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Deployed as a new version", body = Deployment),
        (status = 200, description = "The live version has that source already: nothing written", body = Deployment),
        (status = 404, description = "`unknown-campaign`, `unknown-version`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign-owned-by-folder`: the campaign is deployed from the watched campaigns folder; the detail names its file", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-input` (`note`), or `invalid-campaign`: that version's source no longer passes the check", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn rollback(
    _: Admin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<RollbackBody>,
) -> Result<(StatusCode, Json<Deployment>), ApiError> {
    if body.version < 1 {
        return Err(ApiError::BadInput {
            field: "version".into(),
            message: format!("versions count from 1, not {}", body.version),
        });
    }
    let from = provenance(&headers, body.note)?;
    let deployment = state
        .engine
        .rollback(&id, body.version, &from, state.now())
        .await?;
    let detail = format!(
        "version {} from version {}",
        deployment.version, body.version
    );
    Ok(deployed(&state, deployment, "rollback", &detail).await)
}

/// `tombola diff --format json`: what changed, by section, and the expected
/// credits and cost per draw before and after.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // The document's description of `tombola_dsl::diff::Diff`, which is what is sent.
pub(crate) struct SemanticDiff {
    /// The campaign's id (the newer version's).
    campaign: String,
    /// In a reviewer's order: Campaign, Awards, Rates, Rules, Locks, Stock and caps, SKUs, Window, Rebates.
    changes: Vec<DiffChange>,
    /// Expected credits per draw from the pool's rates, before and after; `null` when an amount depends on the user.
    #[schema(value_type = Vec<Option<String>>, min_items = 2, max_items = 2)]
    credits_per_draw: (Option<String>, Option<String>),
    /// Expected cost per draw from the pool's rates, before and after.
    #[schema(value_type = Vec<String>, min_items = 2, max_items = 2)]
    cost_per_draw: (String, String),
}

/// One change of a [`SemanticDiff`].
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct DiffChange {
    section: String,
    /// The change in words, ids in backquotes.
    what: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiffBody {
    /// The edited campaign file, compared as the newer version.
    source: String,
}

/// The compiled campaign of `source`, checked off the request threads; with
/// errors, `invalid-campaign` and its diagnostics, as a deploy answers: the
/// diff compares campaigns that check clean.
pub(crate) async fn compiled(source: String) -> Result<Campaign, ApiError> {
    let report = super::off_request_threads(move || tombola_dsl::check_source(&source)).await?;
    let broken = report.has_errors();
    match report.campaign.filter(|_| !broken) {
        Some(campaign) => Ok(campaign),
        None => Err(ApiError::InvalidCampaign(report.diagnostics)),
    }
}

/// The semantic diff of an edited file against the live version (`tombola
/// diff --format json`'s form): what a deploy of it would change.
#[utoipa::path(post, path = "/v1/campaigns/{id}/diff", tag = "admin",
    params(("id" = String, Path)),
    request_body = DiffBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = SemanticDiff),
        (status = 404, description = "`unknown-campaign`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-campaign`: `source` does not pass the check (with diagnostics); `campaign-id-mismatch`: it names another campaign", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn diff_live(
    _: Admin,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<DiffBody>,
) -> Answer<Diff> {
    let (_, live) = state.engine.campaign_detail(&id).await?;
    let new = compiled(body.source).await?;
    if new.id != id {
        return Err(ApiError::IdMismatch {
            expected: id,
            found: new.id,
        });
    }
    Ok(Json(tombola_dsl::diff::diff(&compiled(live).await?, &new)))
}

/// The semantic diff from version `version` to version `other` (`tombola diff --format json`'s form).
#[utoipa::path(get, path = "/v1/campaigns/{id}/versions/{version}/diff/{other}", tag = "admin",
    params(
        ("id" = String, Path),
        ("version" = i64, Path, minimum = 1, description = "The version compared from (the older, usually)"),
        ("other" = i64, Path, minimum = 1, description = "The version compared to"),
    ),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = SemanticDiff),
        (status = 404, description = "`unknown-campaign`, `unknown-version`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-campaign`: a stored version no longer passes the check (with diagnostics)", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn diff_versions(
    _: Admin,
    State(state): State<AppState>,
    AppPath(path): AppPath<VersionsPath>,
) -> Answer<Diff> {
    let (_, a) = stored(&state, &path.id, path.version).await?;
    let (_, b) = stored(&state, &path.id, path.other).await?;
    // Stored versions checked clean when deployed; one that no longer does
    // says so as an edited file would.
    let (a, b) = (compiled(a.source).await?, compiled(b.source).await?);
    Ok(Json(tombola_dsl::diff::diff(&a, &b)))
}
