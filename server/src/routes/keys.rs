//! API keys, behind the admin token: created, listed and revoked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Answer, audit};
use crate::auth::Admin;
use crate::extract::{AppJson, AppPath};
use crate::listings::{ApiKeyInfo, NewApiKey};
use crate::{ApiError, AppState, input};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    /// Who the key is for, e.g. `checkout-backend`.
    #[schema(value_type = crate::input::Identifier)]
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
    AppJson(body): AppJson<CreateKey>,
) -> Result<(StatusCode, Json<NewApiKey>), ApiError> {
    input::identifier("name", &body.name)?;
    let key = state.engine.create_api_key(&body.name, state.now()).await?;
    tracing::info!(key = %key.info.id, name = %key.info.name, "API key created");
    audit(&state, "create_key", &key.info.id, &key.info.name).await;
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// Every API key, revoked ones included; never the keys themselves.
#[utoipa::path(get, path = "/v1/keys", tag = "admin",
    security(("admin_token" = [])),
    responses((status = 200, body = KeyList)))]
pub(crate) async fn list_keys(_: Admin, State(state): State<AppState>) -> Answer<KeyList> {
    Ok(Json(KeyList {
        keys: state
            .engine
            .api_keys()
            .await?
            .into_iter()
            .map(ApiKeyInfo::from)
            .collect(),
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
    AppPath(key_id): AppPath<String>,
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
        .map(|key| Json(key.into()))
        .ok_or(ApiError::UnknownKey(key_id))
}
