//! The dispatcher: signed webhook posts, retries with backoff, dead letters
//! and their retry through the admin API, the audit log and the metrics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use tombola_server::dispatch::{self, DispatchConfig};

use super::*;

/// A webhook receiver that fails the first `failures` calls, then answers 200.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    failures: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(failures: u32) -> (Receiver, String) {
        let receiver = Receiver::default();
        *receiver.failures.lock().unwrap() = failures;
        let shared = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let shared = shared.clone();
                async move {
                    shared.calls.lock().unwrap().push((headers, body));
                    let mut failures = shared.failures.lock().unwrap();
                    if *failures > 0 {
                        *failures -= 1;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn calls(&self) -> Vec<(HeaderMap, String)> {
        self.calls.lock().unwrap().clone()
    }
}

fn campaign(webhook: &str) -> String {
    format!(
        "campaign: gifts\nname: Gifts\nstate: open\nwindow: {{ from: 2026-01-01, zone: UTC }}\nallowance: 5\ndelivery: {{ webhook: \"{webhook}\", secret_env: GIFTS_SECRET }}\nawards:\n  mug: {{ kind: item, title: A mug }}\npool:\n  - {{ award: mug, rate: 1 }}\n"
    )
}

fn fast(max_attempts: u32) -> DispatchConfig {
    DispatchConfig {
        poll: Duration::from_millis(10),
        backoff: Duration::from_millis(20),
        max_attempts,
        secrets: Arc::new(|name| (name == "GIFTS_SECRET").then(|| "shh".to_string())),
        ..DispatchConfig::default()
    }
}

async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn deliveries(state: &AppState, query: &str) -> Value {
    fetch(state, &format!("/v1/deliveries{query}")).await.2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_awards_are_posted_signed_and_retried_until_delivered() {
    let (receiver, url) = Receiver::start(2).await;
    let state = state().await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/gifts", campaign(&url)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, drawn) = post(
        &state,
        "/v1/campaigns/gifts/draws",
        json!({ "user": "ann", "request_id": "d1" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    let pending = deliveries(&state, "?state=pending").await;
    assert_eq!(
        pending["deliveries"].as_array().unwrap().len(),
        1,
        "{pending}"
    );

    let dispatcher = tokio::spawn(dispatch::run(state.clone(), fast(5)));
    until(|| receiver.calls().len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    dispatcher.abort();

    let calls = receiver.calls();
    assert_eq!(
        calls.len(),
        3,
        "two failures, then delivered, then nothing more"
    );
    let keys: Vec<_> = calls
        .iter()
        .map(|(h, _)| h["idempotency-key"].clone())
        .collect();
    assert!(
        keys.iter().all(|k| k == "gifts/d1"),
        "one key across retries: {keys:?}"
    );
    let (headers, body) = &calls[2];
    let signature = headers["tombola-signature"].to_str().unwrap();
    let t: i64 = signature
        .split(',')
        .next()
        .unwrap()
        .strip_prefix("t=")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        signature,
        dispatch::signature(b"shh", t, body.as_bytes()),
        "verifies with the secret"
    );
    assert_ne!(signature, dispatch::signature(b"wrong", t, body.as_bytes()));
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["award"]["id"], "mug");
    assert_eq!(payload["user"], "ann");

    let delivered = deliveries(&state, "?state=delivered").await;
    let task = &delivered["deliveries"][0];
    assert_eq!(task["attempts"], 3, "{delivered}");
    assert!(task["delivered_at"].is_string());
    assert_eq!(delivered["summary"]["states"]["delivered"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_retried_and_audited() {
    let (receiver, url) = Receiver::start(3).await;
    let state = state().await;
    send(&state, "PUT", "/v1/campaigns/gifts", campaign(&url)).await;
    post(
        &state,
        "/v1/campaigns/gifts/draws",
        json!({ "user": "ann", "request_id": "d1" }),
    )
    .await;

    let dispatcher = tokio::spawn(dispatch::run(state.clone(), fast(2)));
    let mut dead = Value::Null;
    for _ in 0..300 {
        dead = deliveries(&state, "?state=dead").await;
        if !dead["deliveries"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let task = &dead["deliveries"][0];
    assert_eq!(task["attempts"], 2, "{dead}");
    assert!(
        task["last_error"].as_str().unwrap().contains("500"),
        "{dead}"
    );
    assert_eq!(
        receiver.calls().len(),
        2,
        "a dead letter is not retried on its own"
    );
    // The outbox gauges follow within a fraction of a second.
    let mut metrics = String::new();
    for _ in 0..100 {
        let response = app(state.clone())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        metrics = String::from_utf8(bytes.to_vec()).unwrap();
        if metrics.contains("tombola_deliveries{state=\"dead\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        metrics.contains("tombola_deliveries{state=\"dead\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tombola_delivery_attempts_total{outcome=\"dead\"} 1"),
        "{metrics}"
    );

    let id = task["id"].as_i64().unwrap();
    let (status, _, retried) =
        post(&state, &format!("/v1/deliveries/{id}/retry"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    // The receiver still fails once more (3 failures in all), then delivers.
    until(|| receiver.calls().len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    dispatcher.abort();
    let delivered = deliveries(&state, "?state=delivered").await;
    assert_eq!(
        delivered["deliveries"].as_array().unwrap().len(),
        1,
        "{delivered}"
    );
    let (status, _, again) = post(&state, &format!("/v1/deliveries/{id}/retry"), Value::Null).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only dead letters are retried: {again}"
    );
    assert_eq!(
        again["type"],
        "https://tombola.dev/problems/unknown-delivery"
    );
    let (status, _, bad) = fetch(&state, "/v1/deliveries?state=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

    let audit = fetch(&state, "/v1/audit").await.2;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["retry_delivery", "deploy"], "{audit}");
    assert_eq!(audit["entries"][0]["target"], id.to_string());
    assert_eq!(audit["entries"][0]["actor"], "admin");
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    let config = DispatchConfig {
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(1000),
        ..DispatchConfig::default()
    };
    for _ in 0..100 {
        let first = dispatch::backoff(&config, 1);
        assert!(
            first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
            "{first:?}"
        );
        let third = dispatch::backoff(&config, 3);
        assert!(
            third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
            "{third:?}"
        );
        let capped = dispatch::backoff(&config, 30);
        assert!(
            capped >= Duration::from_millis(500) && capped <= Duration::from_millis(1000),
            "{capped:?}"
        );
    }
    let spread: std::collections::HashSet<_> =
        (0..20).map(|_| dispatch::backoff(&config, 2)).collect();
    assert!(spread.len() > 1, "jitter spreads retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupon_codes_are_uploaded_issued_and_delivered_with_the_award() {
    let (receiver, url) = Receiver::start(0).await;
    let state = state().await;
    let source = format!(
        "campaign: coupons\nname: Coupons\nstate: open\nwindow: {{ from: 2026-01-01, zone: UTC }}\nallowance: 5\ndelivery: {{ webhook: \"{url}\", secret_env: GIFTS_SECRET }}\nawards:\n  off: {{ kind: coupon }}\n  luck: {{ kind: credits, amount: 1 }}\npool:\n  - {{ award: off, rate: 1, tree: t }}\ntrees:\n  t:\n    - codes: {{ exhausted: luck }}\n    - luck: {{ fallback: luck }}\n"
    );
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/coupons", source).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, added) = post(
        &state,
        "/v1/campaigns/coupons/awards/off/codes",
        json!({ "codes": ["SAVE10"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        (added["added"].clone(), added["remaining"].clone()),
        (json!(1), json!(1))
    );
    let (status, _, bad) = post(
        &state,
        "/v1/campaigns/coupons/awards/luck/codes",
        json!({ "codes": ["X"] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

    let (_, _, first) = post(
        &state,
        "/v1/campaigns/coupons/draws",
        json!({ "user": "ann", "request_id": "d1" }),
    )
    .await;
    assert_eq!(first["award"]["code"], "SAVE10", "{first}");
    let (_, _, second) = post(
        &state,
        "/v1/campaigns/coupons/draws",
        json!({ "user": "bob", "request_id": "d2" }),
    )
    .await;
    assert_eq!(second["award"]["id"], "luck", "the pool is empty: {second}");

    let dispatcher = tokio::spawn(dispatch::run(state.clone(), fast(3)));
    until(|| !receiver.calls().is_empty()).await;
    dispatcher.abort();
    let (_, body) = &receiver.calls()[0];
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["award"]["code"], "SAVE10", "{payload}");
}

/// A receiver that accepts connections and never answers.
async fn hanging() -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_never_delays_another_campaigns_deliveries() {
    let stuck = hanging().await;
    let (healthy, url) = Receiver::start(0).await;
    let state = state().await;
    let slow = campaign(&stuck).replace("campaign: gifts", "campaign: slow");
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/slow", slow).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/gifts", campaign(&url)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The hanging receiver's tasks are in line first.
    for n in 0..5 {
        let body = json!({ "user": "ann", "request_id": format!("s{n}") });
        let (status, _, drawn) = post(&state, "/v1/campaigns/slow/draws", body).await;
        assert_eq!(status, StatusCode::OK, "{drawn}");
    }
    let config = DispatchConfig {
        timeout: Duration::from_secs(20),
        per_destination: 2,
        ..fast(5)
    };
    let dispatcher = tokio::spawn(dispatch::run(state.clone(), config));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let (status, _, drawn) = post(
        &state,
        "/v1/campaigns/gifts/draws",
        json!({ "user": "bob", "request_id": "g1" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    until(|| !healthy.calls().is_empty()).await;
    let took = started.elapsed();
    dispatcher.abort();
    assert_eq!(
        healthy.calls().len(),
        1,
        "the healthy receiver got its delivery"
    );
    assert!(
        took < Duration::from_secs(2),
        "delivered in {took:?}, not behind the hanging one"
    );
    let sending = deliveries(&state, "?state=sending").await;
    let held = sending["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["campaign"] == "slow")
        .count();
    assert_eq!(
        held, 2,
        "two calls held by the hanging receiver, the rest back in line: {sending}"
    );
}
