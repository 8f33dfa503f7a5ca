//! The browser console at `/console`: the assets `console/dist` holds,
//! embedded at compile time (memory-serve: precompressed brotli and gzip,
//! ETags, cache headers), each answer with the console's
//! Content-Security-Policy, and `/console/server.json`, what the console
//! needs to know about this server before sign-in.

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use memory_serve::CacheControl;
use serde::Serialize;

use crate::AppState;

/// Only this origin's scripts, styles, images and connections; no inline
/// script or style; never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The assets' router, built once: memory-serve decompresses and leaks the
/// assets when it builds one, and `app` is built once per test.
static ASSETS: LazyLock<Router> = LazyLock::new(|| {
    memory_serve::load!()
        .index_file(Some("/index.html"))
        // A deep link (`/console/campaigns/x`) is the app's to route.
        .fallback(Some("/index.html"))
        .fallback_status(StatusCode::OK)
        // memory-serve compresses only in release builds unless told; the
        // tests (debug builds) serve what the release serves.
        .enable_brotli(true)
        .enable_gzip(true)
        // The page names every other asset by its content hash.
        .html_cache_control(CacheControl::NoCache)
        .cache_control(CacheControl::Long)
        .into_router()
});

/// Which parts of the API the console may use, read from the API's own
/// document so it cannot disagree with the routes.
static FEATURES: LazyLock<(bool, bool)> = LazyLock::new(|| {
    let document = crate::openapi();
    let has = |path: &str| document.paths.paths.contains_key(path);
    (
        has("/v1/authoring/analyze"),
        has("/v1/campaigns/{id}/versions"),
    )
});

#[derive(Serialize)]
struct ServerInfo {
    /// The admin token `serve --dev` prints (well known, loopback only); null otherwise.
    dev_admin_token: Option<String>,
    authoring: bool,
    versions: bool,
}

async fn server_info(State(state): State<AppState>) -> Response {
    let (authoring, versions) = *FEATURES;
    let mut answer = Json(ServerInfo {
        dev_admin_token: state.dev_admin_token.as_deref().map(str::to_owned),
        authoring,
        versions,
    })
    .into_response();
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

async fn with_policy(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The console is read with `GET` and `HEAD` only; and only a page falls
/// back to the app: a file name the build does not hold (an old tab asking
/// for a chunk an upgrade replaced) is a 404, not the page in its place.
async fn pages_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::Method;
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    // A campaign's page is `campaigns/<id>`, and an id may hold a dot
    // (`campaigns/summer.2026`): a page, not a file.
    let path = request.uri().path();
    let rest = path
        .strip_prefix("/console")
        .unwrap_or(path)
        .trim_start_matches('/');
    let last = rest.rsplit('/').next().unwrap_or_default();
    let a_campaign = rest
        .strip_prefix("campaigns/")
        .is_some_and(|id| !id.contains('/'));
    let names_a_file = !a_campaign && last.contains('.') && last != "index.html";
    let response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if names_a_file && is_page {
        return StatusCode::NOT_FOUND.into_response();
    }
    response
}

/// `/console`, `/console/` and everything under it.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/server.json", get(server_info))
        .nest_service("/console", ASSETS.clone())
        .layer(axum::middleware::from_fn(pages_only))
        .layer(axum::middleware::map_response(with_policy))
}
