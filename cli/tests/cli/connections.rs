//! `tombola serve` under hostile connections, over real sockets: a half-sent
//! head at shutdown, a slow head, idle sockets beyond the cap under a low
//! open-files limit, and a request refused before its body was read.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::serve::{Server, send, sqlite_url};

/// A client that opens a new connection per call: each `/healthz` is a fresh
/// client. A kept-alive one is idle between calls, the first the server closes
/// at the cap, and a call racing that close would fail for the client's reuse.
fn fresh_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes; `None` if it has not within `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(within, socket.read_to_end(&mut seen)).await;
    match read {
        Ok(_) => Some(seen),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_does_not_hold_the_shutdown() {
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--shutdown-timeout",
        "2",
        "--header-timeout",
        "60",
    ]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    socket
        .write_all(b"POST /v1/campaigns/showcase/draws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let exit = server.terminate();
    assert!(exit.success(), "exit 0: {exit:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_cut_at_the_shutdown_deadline_still_commits() {
    let database = sqlite_url();
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &database,
        "--shutdown-timeout",
        "0.5",
        "--fault-commit-delay-ms",
        "2500",
    ]);
    let (http, url) = (Client::new(), server.url("/v1/campaigns/showcase/draws"));
    let body =
        json!({ "user": "ada", "request_id": "cut-1", "attributes": { "vip": false, "tags": [] } });
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .header("authorization", "Bearer tbk_dev")
            .json(&body)
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pid = server.pid();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let answer = in_flight.await.unwrap();
    assert!(
        answer.is_err(),
        "the connection was cut at the deadline: {answer:?}"
    );
    let exit = server.terminate();
    assert!(exit.success(), "exit 0: {exit:?}");
    // The store had accepted the draw: it committed, and its request id replays it.
    let again = Server::start(&["--dev", "--database-url", &database]);
    let (status, stored) = send(
        &Client::new(),
        reqwest::Method::GET,
        &again.url("/v1/campaigns/showcase/draws/cut-1"),
        Some("Bearer tbk_dev"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["request_id"], "cut-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_head_is_closed_at_the_header_timeout() {
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--header-timeout",
        "1",
    ]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let started = Instant::now();
    let seen = closed_within(&mut socket, Duration::from_secs(5)).await;
    assert!(seen.is_some(), "still open after 5 s");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--idle-timeout",
        "1",
    ]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let seen = closed_within(&mut socket, Duration::from_secs(5))
        .await
        .expect("closed");
    let seen = String::from_utf8_lossy(&seen);
    assert!(
        seen.starts_with("HTTP/1.1 200"),
        "answered, then closed when idle: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_beyond_the_cap_do_not_starve_a_fresh_client() {
    // Under a low open-files limit the default cap is the limit less a quarter.
    let server = Server::start_with_open_files(256, &["--dev", "--database-url", &sqlite_url()]);
    let mut idle = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect(address(&server)).await {
            Ok(socket) => idle.push(socket),
            Err(error) => panic!("connect {}: {error}", idle.len()),
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = fresh_client();
    for n in 0..5 {
        let answer = http.get(server.url("/healthz")).send().await;
        let status = answer.map(|a| a.status());
        assert!(
            matches!(status, Ok(StatusCode::OK)),
            "healthz {n} with {} idle sockets: {status:?}\n{}",
            idle.len(),
            server.log()
        );
    }
    assert!(
        !server.log().contains("Too many open files"),
        "{}",
        server.log()
    );
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_before_its_body_says_connection_close() {
    let server = Server::start(&["--dev", "--database-url", &sqlite_url()]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    let body = r#"{"user":"ada","request_id":"r-1"}"#;
    let request = format!(
        "POST /v1/campaigns/showcase/draws HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let seen = closed_within(&mut socket, Duration::from_secs(5))
        .await
        .expect("closed");
    let seen = String::from_utf8_lossy(&seen).to_lowercase();
    assert!(seen.starts_with("http/1.1 401"), "{seen}");
    assert!(seen.contains("connection: close"), "{seen}");
    assert!(seen.contains("application/problem+json"), "{seen}");

    // A standard client flooding refused calls on kept-alive connections sees
    // every answer, none a broken connection.
    let http = Client::new();
    let url = server.url("/v1/campaigns/showcase/draws");
    for n in 0..200 {
        let answer = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = answer.map(|a| a.status());
        assert!(
            matches!(status, Ok(StatusCode::UNAUTHORIZED)),
            "call {n}: {status:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_refused_at_the_body_timeout() {
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--body-timeout",
        "1",
    ]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    socket
        .write_all(b"POST /v1/campaigns/showcase/draws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tbk_dev\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        .await
        .unwrap();
    let started = Instant::now();
    let seen = closed_within(&mut socket, Duration::from_secs(5))
        .await
        .expect("closed");
    let seen = String::from_utf8_lossy(&seen).to_lowercase();
    assert!(seen.starts_with("http/1.1 400"), "{seen}");
    assert!(
        seen.contains("connection: close") && seen.contains("did not arrive")
            || seen.contains("no byte"),
        "{seen}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_from_the_head() {
    let server = Server::start(&["--dev", "--database-url", &sqlite_url()]);
    let mut socket = TcpStream::connect(address(&server)).await.unwrap();
    socket
        .write_all(b"PUT /v1/campaigns/showcase HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev-admin\r\nContent-Length: 999999999999\r\n\r\n")
        .await
        .unwrap();
    let seen = closed_within(&mut socket, Duration::from_secs(3))
        .await
        .expect("answered at once");
    let seen = String::from_utf8_lossy(&seen).to_lowercase();
    assert!(seen.starts_with("http/1.1 413"), "{seen}");
    assert!(seen.contains("body-too-large"), "{seen}");
    assert!(
        seen.contains("x-request-id"),
        "logged and counted like any answer: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_beyond_the_cap_do_not_starve_a_fresh_client() {
    let server = Server::start_with_open_files(
        256,
        &[
            "--dev",
            "--database-url",
            &sqlite_url(),
            "--body-timeout",
            "60",
        ],
    );
    let head = b"POST /v1/campaigns/showcase/draws HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tbk_dev\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut socket = TcpStream::connect(address(&server)).await.unwrap();
        let _ = socket.write_all(head).await;
        stalled.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let http = fresh_client();
    for n in 0..3 {
        let status = http
            .get(server.url("/healthz"))
            .send()
            .await
            .map(|a| a.status());
        assert!(
            matches!(status, Ok(StatusCode::OK)),
            "healthz {n} beside {} stalled uploads: {status:?}\n{}",
            stalled.len(),
            server.log()
        );
    }
    assert!(
        !server.log().contains("Too many open files"),
        "{}",
        server.log()
    );
}
