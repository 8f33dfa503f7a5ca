//! No half answers: a draw whose caller times out or leaves still completes
//! (or rolls back) and its answer is fetched by request id; a shutdown lets
//! requests in flight finish.

use std::time::Duration;
use tombola_engine::store::prelude::*;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

const DRAW: &str = r#"{"user":"ann","request_id":"slow-1","attributes":{"vip":false}}"#;

fn draw_request(body: &str) -> String {
    format!(
        "POST /v1/campaigns/demo/draws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {APP_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves `state` on a port from the OS until `stop` resolves.
async fn serve(
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(stop)
            .await
            .unwrap();
    });
    (port, server)
}

/// On SQLite, unlike the memory store, reads do not wait for the writer: an
/// uncommitted draw is visibly absent.
async fn on_sqlite() -> AppState {
    let path = std::env::temp_dir().join(format!(
        "tombola-api-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    deploy_demo(state_on(&format!("sqlite://{}", path.display())).await).await
}

async fn stored(state: &AppState) -> (StatusCode, Value) {
    let (status, _, body) = fetch(state, "/v1/campaigns/demo/draws/slow-1").await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_draw_completes_and_is_fetched_by_request_id() {
    let state = on_sqlite()
        .await
        .with_request_timeout(Duration::from_millis(100));
    state.engine.inject_commit_delay(Duration::from_millis(500));
    let body: Value = serde_json::from_str(DRAW).unwrap();
    let response = app(state.clone())
        .oneshot(
            Request::post("/v1/campaigns/demo/draws")
                .header("authorization", format!("Bearer {APP_KEY}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let problem: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        problem["type"],
        "https://tombola.dev/problems/still-running"
    );
    assert_eq!(
        stored(&state).await.0,
        StatusCode::NOT_FOUND,
        "not committed yet: nothing is visible"
    );

    state.engine.inject_commit_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, answer) = stored(&state).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the draw completed after the timeout: {answer}"
    );
    let (status, _, retry) = post(&state, "/v1/campaigns/demo/draws", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        retry, answer,
        "a retry with the same request id gets the same answer"
    );
    let standing = state
        .engine
        .user_status("demo", "ann", "2026-03-04T10:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(standing.draws_made, 1, "one draw, not two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_whose_client_disconnects_still_completes() {
    let state = on_sqlite().await;
    state.engine.inject_commit_delay(Duration::from_millis(400));
    let (port, _server) = serve(state.clone(), std::future::pending()).await;
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    socket
        .write_all(draw_request(DRAW).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The client leaves while the draw's transaction is open.
    drop(socket);
    assert_eq!(stored(&state).await.0, StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, answer) = stored(&state).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["user"], "ann");
    let mut tx = state.engine.store_for_tests().read().await.unwrap();
    assert_eq!(tx.tallies("demo").await.unwrap().0, 1, "recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_lets_the_draw_in_flight_finish() {
    let state = on_sqlite().await;
    state.engine.inject_commit_delay(Duration::from_millis(400));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (port, server) = serve(state.clone(), async {
        let _ = stopped.await;
    })
    .await;
    let client = tokio::spawn(async move {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        socket
            .write_all(draw_request(DRAW).as_bytes())
            .await
            .unwrap();
        let mut response = String::new();
        socket.read_to_string(&mut response).await.unwrap();
        response
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let response = client.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    server.await.unwrap();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "the listener is closed"
    );
}
