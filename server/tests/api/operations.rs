//! Operations: metrics, request ids, rate limits, the OpenAPI document (fresh,
//! and naming every route) and its docs page.

use std::num::NonZeroU32;

use super::*;
use tombola_server::RateLimits;

async fn raw(state: &AppState, request: Request<Body>) -> axum::response::Response {
    app(state.clone()).oneshot(request).await.unwrap()
}

async fn text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn metrics_count_draws_errors_and_latency() {
    let state = deployed().await;
    let body = json!({ "user": "ann", "request_id": "m1", "attributes": { "vip": false } });
    assert_eq!(
        post(&state, "/v1/campaigns/demo/draws", body).await.0,
        StatusCode::OK
    );
    post(
        &state,
        "/v1/campaigns/nope/draws",
        json!({ "user": "a", "request_id": "x" }),
    )
    .await;
    let response = raw(
        &state,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let metrics = text(response).await;
    assert!(
        metrics.contains(r#"tombola_draws_total{campaign="demo",award="points"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"tombola_errors_total{type="unknown-campaign"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"tombola_http_request_duration_seconds_count{method="POST",route="/v1/campaigns/{id}/draws"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"status="404""#), "{metrics}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let state = state().await;
    let response = raw(
        &state,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 16, "a fresh id: {id}");
    let response = raw(
        &state,
        Request::get("/healthz")
            .header("x-request-id", "trace-42")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        response.headers()["x-request-id"],
        "trace-42",
        "the caller's id is kept"
    );
}

#[tokio::test]
async fn callers_over_their_rate_get_429_with_retry_after_and_nothing_is_written() {
    let state = deployed().await.with_rate_limits(RateLimits {
        per_key: None,
        per_user: NonZeroU32::new(2),
    });
    let draw = |n: u32| json!({ "user": "ann", "request_id": format!("r{n}"), "attributes": { "vip": false } });
    for n in 0..2 {
        assert_eq!(
            post(&state, "/v1/campaigns/demo/draws", draw(n)).await.0,
            StatusCode::OK
        );
    }
    let response = raw(
        &state,
        Request::post("/v1/campaigns/demo/draws")
            .header("authorization", format!("Bearer {APP_KEY}"))
            .header("content-type", "application/json")
            .body(Body::from(draw(2).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    let body: Value = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(body["type"], "https://tombola.dev/problems/rate-limited");
    let other = json!({ "user": "bob", "request_id": "b1", "attributes": { "vip": false } });
    assert_eq!(
        post(&state, "/v1/campaigns/demo/draws", other).await.0,
        StatusCode::OK,
        "the limit is per user"
    );
    // Read through the engine: an HTTP read would itself be over ann's rate.
    let status = state
        .engine
        .user_status("demo", "ann", "2026-03-04T10:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(status.draws_made, 2, "the refused call wrote nothing");

    let keyed = deployed().await.with_rate_limits(RateLimits {
        per_key: NonZeroU32::new(1),
        per_user: None,
    });
    let first = json!({ "user": "a", "request_id": "1", "attributes": { "vip": false } });
    let second = json!({ "user": "b", "request_id": "2", "attributes": { "vip": false } });
    assert_eq!(
        post(&keyed, "/v1/campaigns/demo/draws", first).await.0,
        StatusCode::OK
    );
    let (status, _, body) = post(&keyed, "/v1/campaigns/demo/draws", second).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("API key"),
        "{body}"
    );
}

fn committed_openapi_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = serde_json::to_string_pretty(&tombola_server::openapi()).unwrap() + "\n";
    let path = committed_openapi_path();
    if std::env::var_os("TOMBOLA_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `TOMBOLA_UPDATE_OPENAPI=1 cargo test -p tombola-server --test api` and commit it"
    );
    let document: Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
}

/// The routes the API serves, as the OpenAPI document must list them.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/v1/campaigns"),
    ("post", "/v1/campaigns/validate"),
    ("put", "/v1/campaigns/{id}"),
    ("get", "/v1/campaigns/{id}"),
    ("post", "/v1/campaigns/{id}/open"),
    ("post", "/v1/campaigns/{id}/close"),
    ("get", "/v1/campaigns/{id}/stats"),
    ("get", "/v1/campaigns/{id}/versions"),
    ("get", "/v1/campaigns/{id}/versions/{version}"),
    ("get", "/v1/campaigns/{id}/versions/{version}/diff/{other}"),
    ("get", "/v1/campaigns/{id}/source"),
    ("post", "/v1/campaigns/{id}/rollback"),
    ("post", "/v1/campaigns/{id}/diff"),
    ("post", "/v1/keys"),
    ("get", "/v1/keys"),
    ("delete", "/v1/keys/{key_id}"),
    ("post", "/v1/campaigns/{id}/draws"),
    ("get", "/v1/campaigns/{id}/draws/{request_id}"),
    ("post", "/v1/campaigns/{id}/grants"),
    ("get", "/v1/campaigns/{id}/users/{user}"),
    ("get", "/v1/campaigns/{id}/users/{user}/awards"),
    ("get", "/v1/campaigns/{id}/users/{user}/tiers"),
    ("get", "/v1/campaigns/{id}/users/{user}/draws"),
    ("post", "/v1/campaigns/{id}/events"),
    ("get", "/v1/campaigns/{id}/users/{user}/events/{event}"),
    ("post", "/v1/campaigns/{id}/exchanges"),
    ("get", "/v1/users/{user}/credits"),
    ("post", "/v1/users/{user}/credits/adjustments"),
    ("get", "/v1/deliveries"),
    ("post", "/v1/deliveries/{delivery_id}/retry"),
    ("get", "/v1/audit"),
    ("post", "/v1/campaigns/{id}/awards/{award}/codes"),
    ("post", "/v1/authoring/analyze"),
    ("post", "/v1/authoring/complete"),
    ("post", "/v1/authoring/hover"),
    ("post", "/v1/authoring/simulate"),
];

#[tokio::test]
async fn every_route_is_in_the_openapi_document_and_every_documented_route_answers() {
    let document = serde_json::to_value(tombola_server::openapi()).unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    let state = deployed().await;
    for (method, path) in &documented {
        let uri = path
            .replace("{id}", "demo")
            .replace("{user}", "ann")
            .replace("{request_id}", "r")
            .replace("{key_id}", "k")
            .replace("{event}", "sign_in")
            .replace("{delivery_id}", "1")
            .replace("{award}", "points")
            .replace("{version}", "1")
            .replace("{other}", "1");
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header("authorization", format!("Bearer {}", token_for(&uri)))
            .body(Body::empty())
            .unwrap();
        let response = raw(&state, request).await;
        let status = response.status();
        let body = text(response).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            !body.contains("no-such-route"),
            "{method} {uri} is not routed: {body}"
        );
    }
    let (status, _, body) = fetch(&state, "/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["type"], "https://tombola.dev/problems/no-such-route",
        "the check above can fail"
    );
}

#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_from_the_binary() {
    let state = state().await;
    let response = raw(&state, Request::get("/docs/").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(response).await;
    assert!(page.contains("swagger-ui"), "{page}");
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/swagger-initializer.js",
    ] {
        let response = raw(&state, Request::get(asset).body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let body = text(response).await;
        assert!(body.len() > 100, "{asset}");
        assert!(
            !body.contains("https://unpkg.com"),
            "{asset} loads nothing from the network"
        );
    }
    let response = raw(
        &state,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(
        served,
        serde_json::to_value(tombola_server::openapi()).unwrap()
    );
}

#[tokio::test]
async fn development_mode_serves_loopback_hosts_only() {
    let state = deployed().await.with_loopback_only(true);
    let get = |hosts: &[&str], uri: &str| {
        let mut request = Request::get(uri).header("authorization", format!("Bearer {ADMIN}"));
        for host in hosts {
            request = request.header("host", *host);
        }
        request.body(Body::empty()).unwrap()
    };
    for (host, expected) in [
        ("127.0.0.1:8080", StatusCode::OK),
        ("localhost", StatusCode::OK),
        ("[::1]:8080", StatusCode::OK),
        ("[::1]", StatusCode::OK),
        ("attacker.example:8080", StatusCode::FORBIDDEN),
        ("[::1]evil.com", StatusCode::FORBIDDEN),
        ("127.0.0.1:80@evil.com", StatusCode::FORBIDDEN),
        ("localhost:", StatusCode::FORBIDDEN),
        ("localhost:8080:1", StatusCode::FORBIDDEN),
        ("LocalHost:8080", StatusCode::OK),
        ("127.0.0.1:99999", StatusCode::FORBIDDEN),
        ("127.0.0.1:0", StatusCode::FORBIDDEN),
        ("::1", StatusCode::FORBIDDEN),
        ("[127.0.0.1]", StatusCode::FORBIDDEN),
        ("", StatusCode::FORBIDDEN),
    ] {
        let status = raw(&state, get(&[host], "/v1/campaigns")).await.status();
        assert_eq!(status, expected, "Host: {host:?}");
    }
    let twice = get(&["localhost", "localhost"], "/v1/campaigns");
    assert_eq!(raw(&state, twice).await.status(), StatusCode::FORBIDDEN);
    let none = get(&[], "/v1/campaigns");
    assert_eq!(raw(&state, none).await.status(), StatusCode::FORBIDDEN);
    let absolute = get(&["localhost"], "http://evil.com/v1/campaigns");
    let response = raw(&state, absolute).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let production = deployed().await;
    let request = Request::get("/healthz")
        .header("host", "tombola.example.com")
        .body(Body::empty())
        .unwrap();
    assert_eq!(raw(&production, request).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_methods_do_not_grow_the_metrics() {
    let state = state().await;
    for n in 0..5 {
        let request = Request::builder()
            .method(format!("ZZ{n}").as_str())
            .uri("/nowhere")
            .body(Body::empty())
            .unwrap();
        raw(&state, request).await;
    }
    let metrics = text(
        raw(
            &state,
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await,
    )
    .await;
    assert!(!metrics.contains("ZZ"), "{metrics}");
    assert!(metrics.contains(r#"method="other""#), "{metrics}");
}
