//! Extractors whose rejection is the API's error, so no handler maps one by hand.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body; a rejection is `malformed-body`, `invalid-body` or
/// `unsupported-media-type` (axum `examples/error-handling`).
#[derive(Debug)]
pub(crate) struct AppJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(AppJson(value))
    }
}

/// A query string; a rejection is `malformed-query`.
#[derive(Debug)]
pub(crate) struct AppQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // The query reader replaces bytes that are not UTF-8 with U+FFFD; a
        // query is refused for them, as a path or a body is.
        let raw = parts.uri.query().unwrap_or_default();
        if percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .is_err()
        {
            return Err(ApiError::MalformedQuery(
                "the query string is not UTF-8 once percent-decoded".into(),
            ));
        }
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(value))
    }
}

/// A text body, e.g. a campaign file; a rejection is `body-too-large` or
/// `malformed-body` (not UTF-8, or empty: a call that forgot its file is told
/// so, not answered as if it had sent an empty one).
#[derive(Debug)]
pub(crate) struct TextBody(pub(crate) String);

impl<S> FromRequest<S> for TextBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let text = String::from_request(request, state).await?;
        if text.is_empty() {
            return Err(ApiError::MalformedBody(
                axum::http::StatusCode::BAD_REQUEST,
                "the request has no body: send the campaign file".into(),
            ));
        }
        Ok(TextBody(text))
    }
}

/// Path parameters. Each segment is first held to the identifier rule under its
/// route name (`user`, `id`, …: 422 `invalid-input`), then decoded; a segment
/// that is not UTF-8 or not of its type (a delivery id that is not a number) is
/// 400 `malformed-path`.
#[derive(Debug)]
pub(crate) struct AppPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state).await?;
        for (name, value) in &raw {
            crate::input::identifier(name, value)?;
        }
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(AppPath(value))
    }
}
