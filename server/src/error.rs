//! One error type for the API, mapped to status codes and stable problem
//! types; internal details go to the log, never to the client.

use std::time::Duration;

use axum::extract::rejection::{
    JsonRejection, PathRejection, QueryRejection, RawPathParamsRejection, StringRejection,
};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use tombola_engine::store::Trouble;
use tombola_engine::{DeployError, Failure};

/// Where problem types live; each type is this plus a stable slug.
pub const PROBLEM_BASE: &str = "https://tombola.dev/problems/";

/// An error answer (RFC 9457 `application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://tombola.dev/problems/<slug>`: stable, one per kind of error.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The input field at fault, for `invalid-input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The check's diagnostics, for `invalid-campaign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub diagnostics: Option<serde_json::Value>,
}

/// The problem slug of an error answer, for the log and the metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProblemType(pub(crate) &'static str);

/// Answers a path no route matches.
pub(crate) async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// Turns an error answer the framework wrote itself (a 405 with an empty body,
/// a rejection as text) into the API's problem form, so every error a client
/// sees is `application/problem+json`, whoever refused the request.
pub(crate) async fn as_problem(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Cloning a standard method allocates nothing; it is formatted only for a 405.
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let error = match status {
        // The router adds the `Allow` header after this layer has run.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(method.to_string()),
        StatusCode::NOT_FOUND => ApiError::NoRoute,
        status => {
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).into_owned();
            match status {
                s if s.is_server_error() => ApiError::Internal(text),
                StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    ApiError::MalformedBody(status, text)
                }
                _ => ApiError::MalformedBody(StatusCode::BAD_REQUEST, text),
            }
        }
    };
    let mut answer = error.into_response();
    for keep in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&keep) {
            answer.headers_mut().insert(keep, value.clone());
        }
    }
    answer
}

/// Every way an API call can fail.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    UnknownCampaign(String),
    UnknownVersion {
        campaign: String,
        version: i64,
    },
    /// A deploy or rollback over a campaign of the watched folder.
    OwnedByFolder {
        campaign: String,
        path: Option<String>,
    },
    UnknownRequest(String),
    UnknownKey(String),
    UnknownDelivery(i64),
    NoRoute,
    MalformedQuery(String),
    /// A path segment that is not UTF-8 or not of its type.
    MalformedPath(String),
    /// A method the path does not answer.
    MethodNotAllowed(String),
    RateLimited {
        scope: &'static str,
        retry_after: Duration,
    },
    /// The call outlived the request timeout; it completes on its own.
    StillRunning(String),
    Refused(Failure),
    InvalidCampaign(Vec<tombola_dsl::Diagnostic>),
    IdMismatch {
        expected: String,
        found: String,
    },
    BadInput {
        field: String,
        message: String,
    },
    MalformedBody(StatusCode, String),
    /// A JSON body of the wrong shape (422 `invalid-body`), naming the field
    /// at fault when serde does.
    InvalidBody {
        field: Option<String>,
        message: String,
    },
    NotReady {
        full: bool,
        why: String,
    },
    /// The store is out of space; the call wrote nothing.
    StorageFull(String),
    /// The store is unreachable or dropped the call's transaction; it wrote nothing.
    StoreUnavailable(String),
    /// A simulation asking for more draws than one may; the text says how many.
    SimulationTooLarge(String),
    /// A simulation stopped at its time limit.
    SimulationTimedOut(Duration),
    /// Another simulation held the server for the whole time limit.
    SimulationBusy,
    /// The server was started without a simulator.
    SimulationUnavailable,
    Unauthenticated,
    Forbidden(String),
    Internal(String),
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // axum tells a syntax error (400) from a body of the wrong shape, e.g. a
        // missing field (422), and from a missing content type (415).
        let text = rejection.body_text();
        if rejection.status() == StatusCode::UNPROCESSABLE_ENTITY {
            return ApiError::InvalidBody {
                field: shape_error_field(&text),
                message: text,
            };
        }
        ApiError::MalformedBody(rejection.status(), text)
    }
}

/// The field a body-shape error names, when it names one: axum writes the
/// serde path before the error (`amount: invalid type: integer ...`); a
/// missing or unknown field is named in backquotes at the top level.
fn shape_error_field(text: &str) -> Option<String> {
    let error = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let backquoted = |what: &str| {
        let rest = error.strip_prefix(what)?.strip_prefix('`')?;
        Some(rest.split('`').next()?.to_string())
    };
    if let Some(field) = backquoted("missing field ").or_else(|| backquoted("unknown field ")) {
        return Some(field);
    }
    let (path, _) = error.split_once(": ")?;
    let is_path = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'));
    is_path.then(|| path.to_string())
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::MalformedQuery(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::MalformedPath(rejection.body_text())
    }
}

impl From<RawPathParamsRejection> for ApiError {
    fn from(rejection: RawPathParamsRejection) -> Self {
        ApiError::MalformedPath(rejection.body_text())
    }
}

impl From<StringRejection> for ApiError {
    fn from(rejection: StringRejection) -> Self {
        // Over the body limit (413) or not UTF-8 (400).
        ApiError::MalformedBody(rejection.status(), rejection.body_text())
    }
}

impl ApiError {
    /// The stable problem slug: the end of the `type` URL.
    pub fn slug(&self) -> &'static str {
        self.parts().1
    }

    /// The problem this error answers with, without the fields only some
    /// errors have (`field`, `diagnostics`).
    pub(crate) fn problem(&self) -> Problem {
        let (status, slug, title, detail) = self.parts();
        Problem {
            r#type: format!("{PROBLEM_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail,
            field: None,
            diagnostics: None,
        }
    }

    /// Status, problem slug, title, detail.
    fn parts(&self) -> (StatusCode, &'static str, String, String) {
        match self {
            ApiError::UnknownCampaign(id) => (
                StatusCode::NOT_FOUND,
                "unknown-campaign",
                "Unknown campaign".into(),
                format!("no campaign `{id}` is deployed"),
            ),
            ApiError::UnknownVersion { campaign, version } => (
                StatusCode::NOT_FOUND,
                "unknown-version",
                "Unknown version".into(),
                format!("campaign `{campaign}` has no version {version}"),
            ),
            ApiError::OwnedByFolder { campaign, path } => (
                StatusCode::CONFLICT,
                "campaign-owned-by-folder",
                "Campaign owned by the campaigns folder".into(),
                format!(
                    "campaign `{campaign}` is deployed from the watched campaigns folder ({}): \
                     its file is the truth, so change the file; the API does not deploy over it",
                    path.as_deref().unwrap_or("its file")
                ),
            ),
            ApiError::UnknownRequest(id) => (
                StatusCode::NOT_FOUND,
                "unknown-request",
                "Unknown request".into(),
                format!("no successful call has request id `{id}`"),
            ),
            ApiError::UnknownKey(id) => (
                StatusCode::NOT_FOUND,
                "unknown-key",
                "Unknown API key".into(),
                format!("no API key has id `{id}`"),
            ),
            ApiError::MalformedQuery(why) => (
                StatusCode::BAD_REQUEST,
                "malformed-query",
                "Malformed query".into(),
                why.clone(),
            ),
            ApiError::MalformedPath(why) => (
                StatusCode::BAD_REQUEST,
                "malformed-path",
                "Malformed path".into(),
                why.clone(),
            ),
            ApiError::MethodNotAllowed(method) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed".into(),
                format!(
                    "this path does not answer {method}; its `Allow` header lists the methods it does"
                ),
            ),
            ApiError::UnknownDelivery(id) => (
                StatusCode::NOT_FOUND,
                "unknown-delivery",
                "Unknown delivery".into(),
                format!("no dead-lettered delivery has id {id}"),
            ),
            ApiError::NoRoute => (
                StatusCode::NOT_FOUND,
                "no-such-route",
                "No such route".into(),
                "see /openapi.json for the API's routes".into(),
            ),
            ApiError::Refused(failure) => refused(failure),
            ApiError::InvalidCampaign(diagnostics) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-campaign",
                "Invalid campaign".into(),
                format!(
                    "the campaign has {} error(s)",
                    diagnostics.iter().filter(|d| d.is_error()).count()
                ),
            ),
            ApiError::IdMismatch { expected, found } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "campaign-id-mismatch",
                "Campaign id mismatch".into(),
                format!("the URL names `{expected}` but the file says `campaign: {found}`"),
            ),
            ApiError::BadInput { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-input",
                "Invalid input".into(),
                format!("{field}: {message}"),
            ),
            ApiError::InvalidBody { message, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid body".into(),
                message.clone(),
            ),
            ApiError::MalformedBody(status, message) => {
                let (slug, title) = malformed_body(*status);
                (*status, slug, title.into(), message.clone())
            }
            ApiError::RateLimited { .. }
            | ApiError::StillRunning(_)
            | ApiError::SimulationTooLarge(_)
            | ApiError::SimulationTimedOut(_)
            | ApiError::SimulationBusy
            | ApiError::SimulationUnavailable
            | ApiError::NotReady { .. }
            | ApiError::StorageFull(_)
            | ApiError::StoreUnavailable(_)
            | ApiError::Internal(_)
            | ApiError::Unauthenticated
            | ApiError::Forbidden(_) => self.service_parts(),
        }
    }

    /// [`Self::parts`] of a problem of the caller's credentials or of the
    /// server's own state and limits (rates, time, storage, simulations)
    /// rather than of the call's content.
    fn service_parts(&self) -> (StatusCode, &'static str, String, String) {
        match self {
            ApiError::RateLimited { scope, retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Rate limited".into(),
                format!(
                    "too many calls for this {scope}; retry in {} s",
                    retry_after.as_secs()
                ),
            ),
            ApiError::StillRunning(request_id) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "still-running",
                "Still running".into(),
                format!(
                    "the call with request id `{request_id}` took longer than the server waits; \
                     it completes or rolls back on its own: retry with the same request id to get its answer"
                ),
            ),
            ApiError::SimulationTooLarge(why) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "simulation-too-large",
                "Simulation too large".into(),
                why.clone(),
            ),
            ApiError::SimulationTimedOut(limit) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "simulation-timed-out",
                "Simulation timed out".into(),
                format!(
                    "the simulation did not finish in {} s and was stopped; ask for fewer users, days or draws a day",
                    limit.as_secs_f64()
                ),
            ),
            ApiError::SimulationBusy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "simulation-busy",
                "Simulation busy".into(),
                "another simulation is running and did not end in time; try again".into(),
            ),
            ApiError::SimulationUnavailable => (
                StatusCode::NOT_IMPLEMENTED,
                "simulation-unavailable",
                "Simulation unavailable".into(),
                "this server was started without a simulator; `tombola serve` has one".into(),
            ),
            ApiError::NotReady { full, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "Not ready".into(),
                if *full {
                    "the database is full: free space for it".into()
                } else {
                    "the database does not answer".into()
                },
            ),
            ApiError::StorageFull(_) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "storage-full",
                "Storage full".into(),
                "the database is out of space; nothing was written: retry with the same request id once space is freed".into(),
            ),
            ApiError::StoreUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "Store unavailable".into(),
                "the database did not answer or dropped the call; nothing was written: retry with the same request id".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error".into(),
                "see the server log".into(),
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Credentials required".into(),
                "send `Authorization: Bearer <token>`".into(),
            ),
            ApiError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden".into(),
                why.clone(),
            ),
            other => unreachable!("not a service problem: {other:?}"),
        }
    }
}

/// Status, problem slug, title and detail of a call the engine refused.
fn refused(failure: &Failure) -> (StatusCode, &'static str, String, String) {
    use Failure as F;
    // The slug is the engine's stable code; the status and title are the API's.
    let (status, title) = match failure {
        F::UnknownCampaign(_) => (StatusCode::NOT_FOUND, "Unknown campaign"),
        F::NotOpen(_) => (StatusCode::CONFLICT, "Campaign not open"),
        F::OutsideWindow(_) => (StatusCode::CONFLICT, "Outside the campaign's window"),
        F::NoDrawsLeft => (StatusCode::CONFLICT, "No draws left"),
        F::DailyCap => (StatusCode::CONFLICT, "Daily cap reached"),
        F::MonthlyCap => (StatusCode::CONFLICT, "Monthly cap reached"),
        F::TotalCap => (StatusCode::CONFLICT, "Total cap reached"),
        F::SkuSoldOut(_) => (StatusCode::CONFLICT, "SKU sold out"),
        F::NotForSale(_) => (StatusCode::UNPROCESSABLE_ENTITY, "SKU not for sale"),
        F::InsufficientCredits { .. } => (StatusCode::CONFLICT, "Insufficient credits"),
        F::UnknownEvent(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Unknown event"),
        F::UnknownSku(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Unknown SKU"),
        F::RequestConflict(_) => (
            StatusCode::CONFLICT,
            "Request id reused with a different body",
        ),
        F::BadInput(_) | F::MissingAttribute { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "Invalid input")
        }
        F::CampaignFault { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "The campaign failed"),
        F::BalanceLimit { .. } => (StatusCode::CONFLICT, "Balance limit"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
    };
    let slug = if status == StatusCode::INTERNAL_SERVER_ERROR {
        "internal"
    } else {
        failure.code()
    };
    let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
        "see the server log".to_string()
    } else {
        failure.to_string()
    };
    (status, slug, title.into(), detail)
}

/// Problem slug and title of a body axum rejected, by the status it gave.
fn malformed_body(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid-body", "Invalid body"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", "Expected application/json")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "Body too large"),
        _ => ("malformed-body", "Malformed body"),
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::UnknownCampaign(id) => ApiError::UnknownCampaign(id),
            Failure::Store(error) => match error.trouble() {
                Some(Trouble::Full) => ApiError::StorageFull(error.to_string()),
                Some(Trouble::Unavailable) => ApiError::StoreUnavailable(error.to_string()),
                None => ApiError::Refused(Failure::Store(error)),
            },
            Failure::MissingAttribute { scope, name } => ApiError::BadInput {
                message: format!("the campaign's rules read `{scope}.{name}`; supply it"),
                field: format!("attributes.{name}"),
            },
            other => ApiError::Refused(other),
        }
    }
}

impl From<DeployError> for ApiError {
    fn from(error: DeployError) -> Self {
        match error {
            // The server opens its engine with the dsl compiler, whose refusal
            // carries the diagnostics the answer lists.
            DeployError::Invalid(why) => match why.downcast::<tombola_dsl::Rejected>() {
                Ok(rejected) => ApiError::InvalidCampaign(rejected.diagnostics),
                Err(other) => ApiError::Internal(other.to_string()),
            },
            DeployError::IdMismatch { expected, found } => ApiError::IdMismatch { expected, found },
            DeployError::UnknownCampaign(id) => ApiError::UnknownCampaign(id),
            DeployError::UnknownVersion { campaign, version } => {
                ApiError::UnknownVersion { campaign, version }
            }
            DeployError::OwnedByFolder { campaign, path } => {
                ApiError::OwnedByFolder { campaign, path }
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title, detail) = self.parts();
        let logged_by_the_engine = matches!(
            self,
            ApiError::StorageFull(_) | ApiError::StoreUnavailable(_) | ApiError::NotReady { .. }
        );
        if status.is_server_error() && !logged_by_the_engine {
            // Details stay in the log; the client gets the problem type only.
            // The store's trouble is logged once per change of state instead.
            tracing::error!(error = ?self, "{status}");
        }
        if let ApiError::Refused(Failure::CampaignFault {
            campaign,
            version,
            detail,
        }) = &self
        {
            // The campaign's author must hear of it: `tombola_errors_total{type="campaign-fault"}` counts it.
            tracing::error!(campaign, version, detail, "campaign fault");
        }
        let mut body = json!({
            "type": format!("{PROBLEM_BASE}{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        if let ApiError::InvalidCampaign(diagnostics) = &self {
            body["diagnostics"] = serde_json::to_value(diagnostics).unwrap_or_default();
        }
        if let ApiError::BadInput { field, .. }
        | ApiError::InvalidBody {
            field: Some(field), ..
        } = &self
        {
            body["field"] = json!(field);
        }
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, retry_after.as_secs().into());
            }
            ApiError::StillRunning(_)
            | ApiError::StoreUnavailable(_)
            | ApiError::SimulationBusy => {
                headers.insert(header::RETRY_AFTER, 1.into());
            }
            ApiError::StorageFull(_) | ApiError::NotReady { full: true, .. } => {
                headers.insert(header::RETRY_AFTER, 30.into());
            }
            _ => {}
        }
        response.extensions_mut().insert(ProblemType(slug));
        response
    }
}
