//! `dry_run: true` on a draw: the draw's answer as it would be, or the problem
//! that would refuse it, with nothing written on the store.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{AppState, deploy_demo, fetch, post, post_as, state, state_on};

const DRAWS: &str = "/v1/campaigns/demo/draws";

fn body(request_id: &str, extra: Value) -> Value {
    let mut body =
        json!({ "user": "ann", "request_id": request_id, "attributes": { "vip": false } });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// What a draw may change that the API shows: the user's standing, the
/// campaign's statistics and the stored answers.
async fn shown(state: &AppState) -> (Value, Value) {
    let (status, _, standing) = fetch(state, "/v1/campaigns/demo/users/ann").await;
    assert_eq!(status, StatusCode::OK, "{standing}");
    let (status, _, stats) = fetch(state, "/v1/campaigns/demo/stats").await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    (standing, stats)
}

async fn tells_the_draw_and_changes_nothing(state: AppState) {
    let before = shown(&state).await;
    let (status, _, told) = post(&state, DRAWS, body("d1", json!({ "dry_run": true }))).await;
    assert_eq!(status, StatusCode::OK, "{told}");
    assert_eq!(told["dry_run"], true, "{told}");
    assert_eq!(told["refused"], Value::Null, "{told}");
    assert_eq!(told["draw"]["award"]["id"], "points", "{told}");
    assert_eq!(shown(&state).await, before, "a dry run wrote something");
    let (status, _, _) = fetch(&state, "/v1/campaigns/demo/draws/d1").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a dry run's answer is not stored"
    );
    // The draw with the same request id gives what the dry run said.
    let (status, _, drawn) = post(&state, DRAWS, body("d1", json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    assert_eq!(drawn, told["draw"], "the dry run told the draw");

    post(&state, DRAWS, body("d2", json!({}))).await;
    let before = shown(&state).await;
    let (status, _, refused) = post(&state, DRAWS, body("d3", json!({ "dry_run": true }))).await;
    assert_eq!(status, StatusCode::OK, "a refusal is an answer: {refused}");
    assert_eq!(refused["draw"], Value::Null, "{refused}");
    assert_eq!(
        (
            refused["refused"]["type"].as_str(),
            &refused["refused"]["status"]
        ),
        (
            Some("https://tombola.dev/problems/no-draws-left"),
            &json!(409)
        ),
        "{refused}"
    );
    assert_eq!(
        shown(&state).await,
        before,
        "a refused dry run wrote something"
    );
}

#[tokio::test]
async fn a_dry_run_tells_the_draw_and_changes_nothing_in_memory() {
    tells_the_draw_and_changes_nothing(deploy_demo(state().await).await).await;
}

#[tokio::test]
async fn a_dry_run_tells_the_draw_and_changes_nothing_on_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "{}.db",
        tombola_engine::test_support::unique("tombola-dry-run")
    ));
    let state = state_on(&format!("sqlite://{}", path.display())).await;
    tells_the_draw_and_changes_nothing(deploy_demo(state).await).await;
}

#[tokio::test]
async fn a_dry_run_takes_a_seed_and_a_landing_and_a_draw_takes_neither() {
    let state = deploy_demo(state().await).await;
    let seeded = body(
        "s",
        json!({ "dry_run": true, "seed": "18446744073709551615", "lands_on": "points" }),
    );
    let (status, _, first) = post(&state, DRAWS, seeded.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["draw"]["seed"], "18446744073709551615", "{first}");
    let (_, _, again) = post(&state, DRAWS, seeded).await;
    assert_eq!(first, again, "one seed, one answer");

    for (extra, field, says) in [
        (
            json!({ "seed": "7" }),
            "seed",
            "`seed` is for dry runs only",
        ),
        (
            json!({ "lands_on": "points" }),
            "lands_on",
            "`lands_on` is for dry runs only",
        ),
        (
            json!({ "dry_run": true, "seed": "-1" }),
            "seed",
            "a seed is the decimal digits of a number from 0 to 18446744073709551615",
        ),
        (
            json!({ "dry_run": true, "seed": "+1" }),
            "seed",
            "with no sign or leading zero",
        ),
        (
            json!({ "dry_run": true, "seed": "007" }),
            "seed",
            "with no sign or leading zero",
        ),
        (
            json!({ "dry_run": true, "lands_on": "gift" }),
            "",
            "`gift` is not in the pool",
        ),
    ] {
        let (status, _, problem) = post(&state, DRAWS, body("x", extra.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra}: {problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{extra}: {problem}"
        );
        if !field.is_empty() {
            assert_eq!(problem["field"], field, "{extra}: {problem}");
        }
    }
    // Bad input is an error in a dry run too.
    let (status, _, problem) = post(
        &state,
        DRAWS,
        json!({ "user": "ann", "request_id": "y", "dry_run": true, "attributes": { "vip": "yes" } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}

#[tokio::test]
async fn the_admin_token_may_dry_run_a_draw_but_not_draw() {
    let state = deploy_demo(state().await).await;
    let as_admin = async |body: Value| post_as(&state, super::ADMIN, DRAWS, body).await;
    let (status, told) = as_admin(body("a1", json!({ "dry_run": true }))).await;
    assert_eq!(
        (status, &told["draw"]["award"]["id"]),
        (StatusCode::OK, &json!("points")),
        "{told}"
    );
    let (status, problem) = as_admin(body("a2", json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("may only dry-run"),
        "{problem}"
    );
    let (_, _, standing) = fetch(&state, "/v1/campaigns/demo/users/ann").await;
    assert_eq!(standing["draws_made"], 0, "{standing}");
}
