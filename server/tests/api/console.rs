//! The browser console at `/console`: its page and deep links with the
//! Content-Security-Policy and cache headers, assets compressed on request,
//! and what `/console/server.json` tells it.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tombola_server::{AppState, app};
use tower::ServiceExt;

use super::state;

const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async fn get(
    state: &AppState,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The script the page loads, as `/console/app-<hash>.js`.
fn script_of(page: &str) -> String {
    let start = page
        .find("src=\"/console/app-")
        .expect("the page loads the app")
        + 5;
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_string()
}

#[tokio::test]
async fn the_console_page_and_its_deep_links_carry_the_policy_and_are_revalidated() {
    let state = state().await;
    let mut pages = Vec::new();
    for uri in ["/console", "/console/", "/console/campaigns/showcase"] {
        let (status, headers, body) = get(&state, uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(header(&headers, "content-security-policy"), POLICY, "{uri}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{uri}");
        assert!(
            header(&headers, "content-type").starts_with("text/html"),
            "{uri}"
        );
        assert!(!header(&headers, "etag").is_empty(), "{uri}");
        pages.push(String::from_utf8(body).unwrap());
    }
    assert!(pages[0].contains("<div id=\"app\">"), "{}", pages[0]);
    assert!(
        pages.iter().all(|page| *page == pages[0]),
        "deep links serve the same page"
    );
    assert!(
        !pages[0].contains("<style") && !pages[0].contains(" style="),
        "no inline style: {}",
        pages[0]
    );
}

#[tokio::test]
async fn assets_are_served_compressed_when_asked_and_kept_for_good() {
    let state = state().await;
    let (_, _, page) = get(&state, "/console", &[]).await;
    let script = script_of(&String::from_utf8(page).unwrap());
    let (status, plain_headers, plain) = get(&state, &script, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&plain_headers, "content-encoding"), "");
    assert!(header(&plain_headers, "content-type").contains("javascript"));
    assert_eq!(
        header(&plain_headers, "cache-control"),
        "max-age=31536000, immutable"
    );
    assert_eq!(header(&plain_headers, "content-security-policy"), POLICY);
    for encoding in ["br", "gzip"] {
        let (status, headers, body) = get(&state, &script, &[("accept-encoding", encoding)]).await;
        assert_eq!(status, StatusCode::OK, "{encoding}");
        assert_eq!(header(&headers, "content-encoding"), encoding);
        assert!(
            body.len() < plain.len(),
            "{encoding}: {} ≥ {}",
            body.len(),
            plain.len()
        );
    }
    let etag = header(&plain_headers, "etag").to_string();
    let (status, _, body) = get(&state, &script, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[tokio::test]
async fn server_json_offers_the_dev_token_only_in_dev_mode() {
    let plain = state().await;
    let (status, headers, body) = get(&plain, "/console/server.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["dev_admin_token"], serde_json::Value::Null, "{info}");
    assert!(
        info["authoring"].is_boolean() && info["versions"].is_boolean(),
        "{info}"
    );

    let dev = state().await.with_dev_admin_token(Some("dev-admin"));
    let (_, _, body) = get(&dev, "/console/server.json", &[]).await;
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["dev_admin_token"], "dev-admin", "{info}");
}

#[tokio::test]
async fn a_missing_asset_is_404_and_only_get_and_head_are_answered() {
    let state = state().await;
    for missing in ["/console/app-OLDHASH.js", "/console/assets/x.css"] {
        let (status, headers, _) = get(&state, missing, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(header(&headers, "content-type"), "application/problem+json");
    }
    // A deep link is still the page, also to a campaign whose id has a dot.
    for page in [
        "/console/campaigns/spring",
        "/console/campaigns/summer.2026",
    ] {
        let (status, headers, _) = get(&state, page, &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(header(&headers, "content-type").starts_with("text/html"));
    }
    for method in ["PUT", "DELETE", "PATCH", "POST"] {
        let request = Request::builder()
            .method(method)
            .uri("/console/campaigns/x")
            .body(Body::empty())
            .unwrap();
        let response = app(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header(response.headers(), "allow"), "GET, HEAD", "{method}");
    }
}
