//! Crash safety: SIGKILL the server while 32 clients draw, sign in and
//! exchange; restart it; let the dispatcher drain to a webhook receiver; then
//! every answered call is in the store, every external award was received and
//! recorded delivered once, balances equal their ledgers, nothing is negative.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tombola_engine::store::LedgerRow;
use tombola_engine::store::prelude::*;
use tombola_engine::test_support::postgres_url;
use tombola_engine::{Engine, Seeds};

use super::serve::{Server, campaigns_folder, send, sqlite_url};

const USERS: usize = 32;

fn campaign(webhook: &str) -> String {
    format!(
        "campaign: crash\nname: Crash\nstate: open\nwindow: {{ from: 2026-01-01, zone: UTC }}\nallowance: 1000\ninputs: {{ events: {{ sign_in: {{}} }} }}\ndelivery: {{ webhook: \"{webhook}\", secret_env: CRASH_SECRET }}\nawards:\n  mug: {{ kind: item }}\n  points: {{ kind: credits, amount: \"random(1, 30)\" }}\npool:\n  - {{ award: mug, rate: 0.3, stock: 100000, tree: t }}\n  - {{ award: points, rate: 0.7 }}\ntrees:\n  t:\n    - stock: {{ exhausted: luck }}\n    - luck: {{ fallback: points }}\nskus:\n  draw_5: {{ draws: 5, price: 20 credits }}\nrebates:\n  - id: welcome\n    on: sign_in\n    give: [ {{ credits: 15 }} ]\n"
    )
}

/// A webhook receiver counting deliveries by idempotency key.
async fn receiver() -> (Arc<Mutex<HashMap<String, usize>>>, String) {
    let received = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let shared = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let shared = shared.clone();
            async move {
                let key = headers["idempotency-key"].to_str().unwrap().to_string();
                *shared.lock().unwrap().entry(key).or_default() += 1;
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (received, url)
}

/// A user's balance and every entry of their ledger, in hundredths, read from
/// the store: the API shows the newest 100 entries, and on a fast machine a
/// user draws more than that before the kill.
async fn whole_ledger(engine: &Engine, user: &str) -> (i64, Vec<LedgerRow>) {
    let mut tx = engine.store_for_tests().read().await.unwrap();
    let balance = tx.balance(user).await.unwrap();
    let ledger = tx.ledger(user, i64::MAX).await.unwrap();
    tx.commit().await.unwrap();
    (balance, ledger)
}

/// One answered call: (kind, user, request id, answer).
type Answered = (&'static str, String, String, Value);

async fn crash_and_recover(database_url: &str) {
    let (received, webhook) = receiver().await;
    let folder = campaigns_folder(&[("crash.yaml", &campaign(&webhook))]);
    let folder_arg = folder.display().to_string();
    let args = [
        "--dev",
        "--database-url",
        database_url,
        "--campaigns",
        &folder_arg,
        "--watch-ms",
        "0",
        "--delivery-backoff-ms",
        "50",
        "--delivery-poll-ms",
        "20",
        // Tasks the killed server was sending come back after this lease.
        "--delivery-lease-ms",
        "1000",
    ];
    let server = Server::start_with_env(&args, &[("CRASH_SECRET", "s")]);
    let base = server.base.clone();

    let answered = Arc::new(Mutex::new(Vec::<Answered>::new()));
    let in_flight_at_kill = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let http = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut clients = Vec::new();
    for u in 0..USERS {
        let (http, base, answered, killed, in_flight) = (
            http.clone(),
            base.clone(),
            answered.clone(),
            killed.clone(),
            in_flight_at_kill.clone(),
        );
        clients.push(tokio::spawn(async move {
            let user = format!("u{u}");
            for n in 0.. {
                let (kind, path, body) = match n % 4 {
                    0 => ("event", "events", json!({ "user": user, "event": "sign_in", "request_id": format!("{user}-{n}") })),
                    1 | 2 => ("draw", "draws", json!({ "user": user, "request_id": format!("{user}-{n}") })),
                    _ => ("exchange", "exchanges", json!({ "user": user, "sku": "draw_5", "request_id": format!("{user}-{n}") })),
                };
                let url = format!("{base}/v1/campaigns/crash/{path}");
                let sent = http.post(&url).header("authorization", "Bearer tbk_dev").json(&body).send().await;
                match sent {
                    Ok(response) => {
                        let status = response.status();
                        let Ok(text) = response.text().await else {
                            in_flight.fetch_add(1, Ordering::Relaxed);
                            return;
                        };
                        if status == StatusCode::OK {
                            let answer: Value = serde_json::from_str(&text).unwrap();
                            answered.lock().unwrap().push((kind, user.clone(), body["request_id"].as_str().unwrap().to_string(), answer));
                        } else {
                            assert!(
                                status == StatusCode::CONFLICT,
                                "{kind} {status}: {text}"
                            );
                        }
                    }
                    Err(_) if killed.load(Ordering::Relaxed) => {
                        // Sent, never answered: the server died with it in flight.
                        in_flight.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Err(error) => panic!("{error}"),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    killed.store(true, Ordering::Relaxed);
    server.kill();
    for client in clients {
        client.await.unwrap();
    }
    let in_flight = in_flight_at_kill.load(Ordering::Relaxed);
    assert!(in_flight > 0, "no request was in flight at the kill");
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 100,
        "only {} calls answered",
        answered.len()
    );

    let server = Server::start_with_env(&args, &[("CRASH_SECRET", "s")]);
    let engine = Engine::open(
        tombola_engine::store::open(database_url).await.unwrap(),
        Seeds::Fresh,
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();

    // Every call answered 200 is in the store.
    let mut mugs = HashSet::new();
    for (kind, user, request_id, answer) in &answered {
        match *kind {
            "draw" => {
                let stored = engine.stored_draw("crash", request_id).await.unwrap();
                assert_eq!(
                    stored
                        .as_ref()
                        .map(|s| {
                            let shown = tombola_server::answers::DrawResponse::from(s.clone());
                            serde_json::to_value(shown).unwrap()
                        })
                        .as_ref(),
                    Some(answer),
                    "{request_id}"
                );
                if answer["award"]["id"] == "mug" {
                    mugs.insert(format!("crash/{request_id}"));
                }
            }
            _ => {
                let reference = format!("crash/{request_id}");
                let (_, ledger) = whole_ledger(&engine, user).await;
                assert!(
                    ledger.iter().any(|e| e.reference == reference),
                    "{kind} {request_id} answered 200 but is not in the ledger"
                );
            }
        }
    }

    // The dispatcher drains the outbox after the restart.
    let http = Client::new();
    let mut summary = Value::Null;
    for _ in 0..300 {
        summary = send(
            &http,
            reqwest::Method::GET,
            &server.url("/v1/deliveries?limit=1"),
            Some("Bearer dev-admin"),
            None,
        )
        .await
        .1;
        let states = &summary["summary"]["states"];
        if states["pending"].is_null() && states["sending"].is_null() && states["dead"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let states = &summary["summary"]["states"];
    assert!(
        states["pending"].is_null() && states["sending"].is_null() && states["dead"].is_null(),
        "{summary}"
    );
    let delivered = states["delivered"].as_i64().unwrap() as usize;
    let stats = engine.stats("crash").await.unwrap();
    let issued_mugs = stats
        .awards
        .iter()
        .find(|a| a.award == "mug")
        .unwrap()
        .issued as usize;
    assert_eq!(
        delivered, issued_mugs,
        "one delivered task per mug in the store"
    );
    let received = received.lock().unwrap().clone();
    assert_eq!(
        received.len(),
        issued_mugs,
        "every mug reached the receiver"
    );
    for key in &mugs {
        assert!(
            received.contains_key(key),
            "{key} answered 200 but never delivered"
        );
    }

    // Balances equal their ledgers; nothing is negative.
    for u in 0..USERS {
        let user = format!("u{u}");
        let (balance, ledger) = whole_ledger(&engine, &user).await;
        let sum: i64 = ledger.iter().map(|e| e.delta).sum();
        assert_eq!(balance, sum, "{user}");
        assert!(sum >= 0, "{user}");
        let standing = engine.user_status("crash", &user, now).await.unwrap();
        assert!(standing.draws_left >= 0, "{user}");
    }
    for award in &stats.awards {
        if let Some(stock) = &award.stock {
            assert!(
                stock.remaining >= 0 && stock.remaining + stock.issued == stock.declared,
                "{award:?}"
            );
        }
    }
    println!(
        "crash test: {} calls answered, {in_flight} in flight at the kill, {issued_mugs} mugs delivered",
        answered.len()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_nothing_it_answered_on_sqlite() {
    crash_and_recover(&sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_nothing_it_answered_on_postgres() {
    let Some(url) = postgres_url().await else {
        return;
    };
    crash_and_recover(&url).await;
}
