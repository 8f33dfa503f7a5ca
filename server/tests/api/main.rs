//! The API in process (`oneshot`, no socket): status codes, problem types,
//! stored answers and replays.

use std::sync::Arc;
use tombola_engine::store::RequestKey;
use tombola_engine::store::prelude::*;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tombola_engine::{Engine, Seeds, store};
use tombola_server::{AppState, app};
use tower::ServiceExt;

mod accounts;
mod authoring;
mod console;
mod contract;
mod delivery;
mod dry_runs;
mod edited_dry_runs;
mod failures;
mod hardening;
mod operations;
mod reading;
mod simulate;
mod store_trouble;
mod versions;

async fn state() -> AppState {
    state_on("memory:").await
}

/// The app over the store at `url`.
async fn state_on(url: &str) -> AppState {
    let engine = Engine::open(
        store::open(url).await.unwrap(),
        Seeds::Fixed(3),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await
    .unwrap();
    AppState::new(engine)
        .with_clock(Arc::new(|| "2026-03-04T10:00:00Z".parse().unwrap()))
        .with_admin_token(Some(ADMIN))
        .with_dev_key(Some(APP_KEY))
}

const ADMIN: &str = "s3cret";
/// The app calls' key: a development key, so most tests need no key set-up;
/// `stored_api_keys_…` covers keys created through the API.
const APP_KEY: &str = "app-key";

/// App calls carry the API key, admin calls the admin token.
fn token_for(uri: &str) -> &'static str {
    let app = ["/draws", "/grants", "/users/", "/events", "/exchanges"]
        .iter()
        .any(|part| uri.contains(part))
        && !uri.contains("/adjustments");
    if app { APP_KEY } else { ADMIN }
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Body,
    json: bool,
) -> (StatusCode, String, Value) {
    call_as(state, token_for(uri), method, uri, body, json).await
}

/// A JSON `POST` with `token`, whatever the path.
async fn post_as(state: &AppState, token: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, value) =
        call_as(state, token, "POST", uri, body.to_string().into(), true).await;
    (status, value)
}

async fn call_as(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Body,
    json: bool,
) -> (StatusCode, String, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if json {
        request = request.header("content-type", "application/json");
    }
    let response = app(state.clone())
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, value)
}

/// A call without a JSON body: a campaign's source, or nothing.
async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    body: impl Into<Body>,
) -> (StatusCode, String, Value) {
    call(state, method, uri, body.into(), false).await
}

async fn fetch(state: &AppState, uri: &str) -> (StatusCode, String, Value) {
    send(state, "GET", uri, Body::empty()).await
}

async fn post(state: &AppState, uri: &str, body: Value) -> (StatusCode, String, Value) {
    call(state, "POST", uri, Body::from(body.to_string()), true).await
}

const CAMPAIGN: &str = "campaign: demo\nname: Demo\nstate: open\nwindow: { from: 2026-01-01, zone: Europe/Paris }\nallowance: 2\nquota: { per_day: 5 }\ninputs: { user: { vip: bool, spent: decimal } }\nawards:\n  points: { kind: credits, amount: 5 }\n  gift: { kind: credits, amount: 50 }\npool:\n  - { award: points, rate: 1 }\nbefore:\n  - when: user.vip\n    give: gift\nskus:\n  pack: { draws: 3, stock: 1 }\n";

async fn deployed() -> AppState {
    deploy_demo(state().await).await
}

async fn deploy_demo(state: AppState) -> AppState {
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", CAMPAIGN).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    state
}

#[tokio::test]
async fn deploys_are_versioned_and_unchanged_content_is_a_no_op() {
    let state = deployed().await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", CAMPAIGN).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "campaign": "demo", "version": 1, "changed": false, "warnings": [] })
    );
    let (status, content_type, body) = send(&state, "PUT", "/v1/campaigns/other", CAMPAIGN).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        body["type"],
        "https://tombola.dev/problems/campaign-id-mismatch"
    );
    let broken = CAMPAIGN.replace("rate: 1", "rate: 0.61");
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["type"],
        "https://tombola.dev/problems/invalid-campaign"
    );
    assert_eq!(
        body["diagnostics"][0]["code"], "T0301",
        "the same diagnostics as `tombola check`"
    );
}

#[tokio::test]
async fn a_draw_answers_and_its_answer_is_stored() {
    let state = deployed().await;
    let body = json!({ "user": "ann", "request_id": "r1", "attributes": { "vip": false, "spent": "12.50" } });
    let (status, _, first) = post(&state, "/v1/campaigns/demo/draws", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["award"]["id"], "points");
    assert_eq!(first["left"]["draws"], 1);
    let (status, _, replay) = post(&state, "/v1/campaigns/demo/draws", body).await;
    assert_eq!(
        (status, &replay),
        (StatusCode::OK, &first),
        "a replay returns the first answer"
    );
    let (status, _, stored) = fetch(&state, "/v1/campaigns/demo/draws/r1").await;
    assert_eq!((status, &stored), (StatusCode::OK, &first));
    let (status, _, missing) = fetch(&state, "/v1/campaigns/demo/draws/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing["type"],
        "https://tombola.dev/problems/unknown-request"
    );
    let (status, _, vip) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "ann", "request_id": "r2", "attributes": { "vip": true } }),
    )
    .await;
    assert_eq!(
        (status, vip["award"]["id"].as_str()),
        (StatusCode::OK, Some("gift"))
    );
}

#[tokio::test]
async fn every_refusal_has_its_own_problem_type() {
    let state = deployed().await;
    let draw = |user: &str, id: &str| json!({ "user": user, "request_id": id, "attributes": { "vip": false } });
    let problem = |body: &Value| {
        body["type"]
            .as_str()
            .unwrap()
            .trim_start_matches("https://tombola.dev/problems/")
            .to_string()
    };

    let (status, _, body) = post(&state, "/v1/campaigns/nope/draws", draw("a", "x")).await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::NOT_FOUND, "unknown-campaign".into())
    );

    post(&state, "/v1/campaigns/demo/draws", draw("bo", "1")).await;
    post(&state, "/v1/campaigns/demo/draws", draw("bo", "2")).await;
    let (status, _, body) = post(&state, "/v1/campaigns/demo/draws", draw("bo", "3")).await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::CONFLICT, "no-draws-left".into())
    );

    let (status, _, body) = post(&state, "/v1/campaigns/demo/draws", draw("cy", "1")).await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::CONFLICT, "request-id-reused".into()),
        "{body}"
    );

    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "di", "request_id": "q", "attributes": { "vip": "yes" } }),
    )
    .await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input".into())
    );
    assert_eq!(body["field"], "attributes.vip");
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "di", "request_id": "q", "attributes": { "vipp": true } }),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("attributes.vipp"))
    );

    let (status, _, body) = call(
        &state,
        "POST",
        "/v1/campaigns/demo/draws",
        Body::from("{\"user\": }"),
        true,
    )
    .await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::BAD_REQUEST, "malformed-body".into())
    );
    let (status, _, body) = post(&state, "/v1/campaigns/demo/draws", json!({ "user": "di" })).await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-body".into()),
        "a missing field"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("request_id"),
        "the detail names the field: {body}"
    );

    let (status, _, _) = post(
        &state,
        "/v1/campaigns/demo/grants",
        json!({ "user": "bo", "sku": "pack", "request_id": "g1" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/grants",
        json!({ "user": "bo", "sku": "pack", "request_id": "g2" }),
    )
    .await;
    assert_eq!(
        (status, problem(&body)),
        (StatusCode::CONFLICT, "sku-sold-out".into())
    );
    let (status, _, _) = post(&state, "/v1/campaigns/demo/draws", draw("bo", "3")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the granted draws extend the entitlement; the failed id runs again"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let state = state().await;
    let (status, _, _) = fetch(&state, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = fetch(&state, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn admin_calls_need_the_admin_token() {
    let state = state().await;
    let put = |auth: Option<&'static str>| {
        let mut request = Request::builder().method("PUT").uri("/v1/campaigns/demo");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.body(Body::from(CAMPAIGN)).unwrap()
    };
    let status = |response: axum::response::Response| response.status();
    assert_eq!(
        status(app(state.clone()).oneshot(put(None)).await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            app(state.clone())
                .oneshot(put(Some("Bearer wrong")))
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            app(state.clone())
                .oneshot(put(Some("Bearer s3cret")))
                .await
                .unwrap()
        ),
        StatusCode::CREATED
    );
    let closed = state.with_admin_token(None);
    assert_eq!(
        status(
            app(closed)
                .oneshot(put(Some("Bearer s3cret")))
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN,
        "no token configured: refused"
    );
}

#[tokio::test]
async fn campaigns_are_listed_inspected_opened_and_closed() {
    let state = deployed().await;
    let (status, _, list) = fetch(&state, "/v1/campaigns").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["campaigns"],
        json!([{ "id": "demo", "name": "Demo", "version": 1, "state": "open", "origin": "api", "path": null }])
    );
    let (status, _, detail) = fetch(&state, "/v1/campaigns/demo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["source"], CAMPAIGN);
    assert!(
        detail["graph"]["mermaid"]
            .as_str()
            .unwrap()
            .starts_with("flowchart TD")
    );
    let (status, _, closed) = send(&state, "POST", "/v1/campaigns/demo/close", Body::empty()).await;
    assert_eq!(
        (status, closed["state"].as_str()),
        (StatusCode::OK, Some("closed"))
    );
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "x", "request_id": "1", "attributes": { "vip": false } }),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("https://tombola.dev/problems/campaign-not-open")
        )
    );
    send(&state, "POST", "/v1/campaigns/demo/open", Body::empty()).await;
    let (status, _, _) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "x", "request_id": "1", "attributes": { "vip": false } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, missing) = send(&state, "POST", "/v1/campaigns/nope/open", Body::empty()).await;
    assert_eq!(
        (status, missing["type"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("https://tombola.dev/problems/unknown-campaign")
        )
    );
}

#[tokio::test]
async fn a_users_standing_shows_draws_and_caps_left() {
    let state = deployed().await;
    post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "zoe", "request_id": "1", "attributes": { "vip": false } }),
    )
    .await;
    let (status, _, standing) = fetch(&state, "/v1/campaigns/demo/users/zoe").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        standing,
        json!({ "campaign": "demo", "user": "zoe", "draws_made": 1, "draws_left": 1, "made_today": 1, "made_this_month": 1,
                "left_today": 4, "left_this_month": null, "left_in_total": null })
    );
}

#[tokio::test]
async fn validate_returns_the_check_diagnostics_without_deploying() {
    let state = state().await;
    let broken = CAMPAIGN.replace("rate: 1", "rate: 0.61");
    let (status, _, report) = send(&state, "POST", "/v1/campaigns/validate", broken).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (report["valid"].as_bool(), report["errors"].as_u64()),
        (Some(false), Some(1))
    );
    assert_eq!(report["diagnostics"][0]["code"], "T0301");
    assert_eq!(
        report["diagnostics"][0]["start"]["line"], 11,
        "the `pool:` key"
    );
    let (_, _, report) = send(&state, "POST", "/v1/campaigns/validate", CAMPAIGN).await;
    assert_eq!(report["valid"], true);
    let (_, _, list) = fetch(&state, "/v1/campaigns").await;
    assert_eq!(list["campaigns"], json!([]), "validating deploys nothing");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let state = state().await;
    let huge = "x".repeat(tombola_server::MAX_BODY_BYTES + 1);
    let (status, content_type, body) =
        send(&state, "PUT", "/v1/campaigns/demo", huge.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], "https://tombola.dev/problems/body-too-large");
    let json_body = format!("{{\"user\": \"{huge}\", \"request_id\": \"r\"}}");
    let (status, _, _) = call(
        &state,
        "POST",
        "/v1/campaigns/demo/draws",
        Body::from(json_body),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A draw answered by the first release, exactly as it stored it: the answer
/// the API gave then, its body hashed the first release's way.
const FIRST_ANSWER: &str = r#"{"campaign":"demo","version":1,"request_id":"old-1","user":"ann","award":{"id":"points","kind":"credits","title":null,"amount":"5"},"steps":[{"at":"rule:rule-1","outcome":"false","read":null,"inputs":[["user.vip","false"]]},{"at":"draw:points","outcome":"drawn","read":null},{"at":"issue:points","outcome":"issued","read":null}],"left":{"draws":1,"today":4,"month":null,"total":null},"seed":7}"#;

#[tokio::test]
async fn a_draw_stored_before_the_typed_engine_replays_in_its_first_shape() {
    use sha2::{Digest, Sha256};
    let state = deployed().await;
    let attributes = vec![
        ("spent".to_string(), "Decimal(1.5)".to_string()),
        ("vip".to_string(), "Bool(false)".to_string()),
    ];
    let body = json!({ "user": "ann", "attributes": attributes }).to_string();
    let first_hash: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = RequestKey {
        scope: "draw/demo",
        campaign: None,
        id: "old-1",
        body_hash: &first_hash,
        first_hash: &first_hash,
        at: 0,
        debit: None,
    };
    let mut tx = state.engine.store_for_tests().begin().await.unwrap();
    tx.claim(&key).await.unwrap();
    tx.answer(&key, FIRST_ANSWER).await.unwrap();
    tx.commit().await.unwrap();
    let (status, _, answer) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "ann", "request_id": "old-1", "attributes": { "vip": false, "spent": 1.5 } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut first = serde_json::from_str::<Value>(FIRST_ANSWER).unwrap();
    first["seed"] = json!("7");
    assert_eq!(
        answer, first,
        "the retry answers what the first release answered, its seed as a string"
    );
    let (status, _, stored) = fetch(&state, "/v1/campaigns/demo/draws/old-1").await;
    assert_eq!((status, stored), (StatusCode::OK, answer));
}
