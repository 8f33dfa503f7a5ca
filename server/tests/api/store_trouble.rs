//! The database going away: a full SQLite file and PostgreSQL connections
//! terminated mid-draw are answered 507 / 503 with `Retry-After`, readiness
//! follows, the store recovers by itself, and nothing acknowledged is lost.

use std::collections::BTreeSet;

use tombola_engine::store::Store;

use super::*;

const PROBLEM: &str = "https://tombola.dev/problems/";

/// Draws as `user` with request id `id` and answers (status, Retry-After, body).
async fn draw(state: &AppState, user: &str, id: &str) -> (StatusCode, Option<String>, Value) {
    let body = json!({ "user": user, "request_id": id, "attributes": { "vip": false } });
    let request = Request::post("/v1/campaigns/demo/draws")
        .header("authorization", format!("Bearer {APP_KEY}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        retry,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const ROOMY: &str = "campaign: demo\nname: Demo\nstate: open\nwindow: { from: 2026-01-01, zone: Europe/Paris }\nallowance: 100000\ninputs: { user: { vip: bool } }\nawards:\n  points: { kind: credits, amount: 5 }\npool:\n  - { award: points, rate: 1 }\n";

#[tokio::test]
async fn a_full_sqlite_store_answers_507_and_recovers_when_space_returns() {
    let path = std::env::temp_dir().join(format!(
        "{}.db",
        tombola_engine::test_support::unique("tombola-full")
    ));
    let state = state_on(&format!("sqlite://{}", path.display())).await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", ROOMY).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let Store::Sql(sql) = state.engine.store_for_tests() else {
        panic!("a SQL store");
    };
    // No more pages than the file has now: the next draws that need one fail.
    sql.limit_sqlite_pages(1);
    let mut acknowledged = BTreeSet::new();
    let mut full = None;
    for n in 0..2_000 {
        let id = format!("d-{n}");
        let (status, retry, body) = draw(&state, &format!("user-{n}"), &id).await;
        match status {
            StatusCode::OK => {
                acknowledged.insert(id);
            }
            StatusCode::INSUFFICIENT_STORAGE => {
                assert_eq!(body["type"], format!("{PROBLEM}storage-full"), "{body}");
                assert!(retry.is_some(), "Retry-After");
                full = Some(n);
                break;
            }
            other => panic!("draw {n}: {other} {body}"),
        }
    }
    let full = full.expect("the capped file filled up");
    let (status, _, body) = fetch(&state, "/readyz").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while full: {body}"
    );
    assert!(body["detail"].as_str().unwrap().contains("full"), "{body}");
    let (status, _, _) = draw(&state, "late", "late-1").await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "still full");

    // Space comes back: readiness and draws recover without a restart.
    sql.limit_sqlite_pages(0);
    let (status, _, body) = fetch(&state, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "ready again: {body}");
    for n in 0..20 {
        let id = format!("after-{n}");
        let (status, _, body) = draw(&state, "after", &id).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "draw {n} after space returned: {body}"
        );
        acknowledged.insert(id);
    }
    // The refused draws retried with their request ids now run.
    let (status, _, body) = draw(&state, &format!("user-{full}"), &format!("d-{full}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in &acknowledged {
        let (status, _, body) = fetch(&state, &format!("/v1/campaigns/demo/draws/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{id} was acknowledged: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminated_postgres_connections_answer_503_and_retries_replay_or_run() {
    let Some(url) = tombola_engine::test_support::postgres_url().await else {
        return;
    };
    let state = state_on(&url).await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", ROOMY).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    state
        .engine
        .inject_commit_delay(std::time::Duration::from_millis(5));
    let killer = tokio::spawn(async move {
        let mut killed = 0;
        for _ in 0..8 {
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            killed += tombola_engine::test_support::terminate_sessions(&url).await;
        }
        killed
    });
    let mut clients = Vec::new();
    for client in 0..8 {
        let state = state.clone();
        clients.push(tokio::spawn(async move {
            let mut unavailable = 0;
            for n in 0..40 {
                let id = format!("c{client}-{n}");
                // Each refused call is retried with its request id until it lands.
                loop {
                    let (status, retry, body) = draw(&state, &format!("u{client}"), &id).await;
                    match status {
                        StatusCode::OK => break,
                        StatusCode::SERVICE_UNAVAILABLE => {
                            assert_eq!(
                                body["type"],
                                format!("{PROBLEM}store-unavailable"),
                                "{body}"
                            );
                            assert_eq!(retry.as_deref(), Some("1"));
                            unavailable += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        other => panic!("{id}: {other} {body}"),
                    }
                }
            }
            unavailable
        }));
    }
    let mut unavailable = 0;
    for client in clients {
        unavailable += client.await.unwrap();
    }
    let killed = killer.await.unwrap();
    assert!(killed > 0, "connections were terminated");
    println!("{killed} connections terminated, {unavailable} calls answered 503");
    // Every draw landed exactly once: 40 per user, each replayable.
    for client in 0..8 {
        let (status, _, user) = fetch(&state, &format!("/v1/campaigns/demo/users/u{client}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(user["draws_made"], 40, "u{client}: {user}");
    }
    let (status, _, _) = fetch(&state, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
}
