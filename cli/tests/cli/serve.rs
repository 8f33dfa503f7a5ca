//! `tombola serve` end to end: the real binary on a port from the OS, over
//! real HTTP, on SQLite and PostgreSQL; the README's quick start; watching the
//! campaigns folder; SIGTERM with a draw in flight; two servers on one database.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tombola_engine::test_support::{postgres_url, unique};

use super::root;

const ADMIN: &str = "Bearer dev-admin";

/// A running `tombola serve`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `tombola serve --listen 127.0.0.1:0 ARGS` and waits for its banner.
    pub(crate) fn start(args: &[&str]) -> Server {
        Server::start_with_env(args, &[])
    }

    pub(crate) fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tombola"));
        command.envs(env.iter().copied());
        Server::spawn(command, args)
    }

    /// As [`Server::start`], under a soft and hard open-files limit of `files`.
    pub(crate) fn start_with_open_files(files: u32, args: &[&str]) -> Server {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_tombola"));
        Server::spawn(command, args)
    }

    /// Runs `command serve --listen 127.0.0.1:0 ARGS` and waits for its banner.
    fn spawn(mut command: Command, args: &[&str]) -> Server {
        let mut child = command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut base = None;
        let mut banner = String::new();
        for _ in 0..20 {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            banner.push_str(&line);
            if let Some(address) = line.trim().strip_prefix("listening on ") {
                base = Some(address.to_string());
                break;
            }
        }
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        let Some(base) = base else {
            let _ = child.kill();
            std::thread::sleep(Duration::from_millis(200));
            panic!(
                "no listening line in: {banner}\nstderr: {}",
                stderr.lock().unwrap()
            );
        };
        Server {
            child,
            base,
            stderr,
        }
    }

    /// SIGKILL: no shutdown, no flushing.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn sqlite_url() -> String {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tombola-serve")));
    format!("sqlite://{}", path.display())
}

/// Replaces a file the way editors save: write aside, then rename over it.
fn replace(path: &std::path::Path, text: &str) {
    let aside = path.with_extension("yaml.tmp");
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// A fresh folder holding copies of the given campaign files.
pub(crate) fn campaigns_folder(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("tombola-campaigns"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

pub(crate) async fn send(
    client: &Client,
    method: reqwest::Method,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const E2E: &str = "campaign: e2e\nname: End to end\nstate: open\nwindow: { from: 2026-01-01, zone: Europe/Paris }\nallowance: 3\nawards:\n  prize: { kind: credits, amount: 10 }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 0.5, stock: 2, tree: gate }\n  - { award: luck, rate: 0.5 }\nbefore:\n  - weight:\n      score: user.draws.total\n      tiers:\n        1: [luck]\ntrees:\n  gate:\n    - lock: { after: 1, per: total, locked: consolation }\n    - stock: { exhausted: consolation }\n    - consolation: { fallback: luck }\nskus:\n  pack: { draws: 2, stock: 1 }\n";

/// Every endpoint over real HTTP, with the errors a caller meets.
async fn walkthrough(server: &Server) {
    use reqwest::Method as M;
    let http = Client::new();
    let get = |path: &str, auth: Option<&'static str>| {
        let http = http.clone();
        let url = server.url(path);
        async move { send(&http, M::GET, &url, auth, None).await }
    };
    assert_eq!(get("/healthz", None).await.0, StatusCode::OK);
    assert_eq!(get("/readyz", None).await.0, StatusCode::OK);

    let (status, key) = send(
        &http,
        M::POST,
        &server.url("/v1/keys"),
        Some(ADMIN),
        Some(json!({ "name": "e2e" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let app = format!("Bearer {}", key["key"].as_str().unwrap());
    let app: &'static str = Box::leak(app.into_boxed_str());

    let (status, list) = get("/v1/campaigns", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["campaigns"].as_array().unwrap().len(),
        3,
        "the shipped campaigns: {list}"
    );

    let deploy = |body: &str| {
        let request = http
            .put(server.url("/v1/campaigns/e2e"))
            .header("authorization", ADMIN)
            .body(body.to_string());
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(deploy(E2E).await, StatusCode::CREATED);
    assert_eq!(deploy(E2E).await, StatusCode::OK, "unchanged: a no-op");
    assert_eq!(
        deploy(&E2E.replace("rate: 0.5 }", "rate: 0.4 }")).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, report) = send(
        &http,
        M::POST,
        &server.url("/v1/campaigns/validate"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
    assert_eq!(
        report["type"], "https://tombola.dev/problems/malformed-body",
        "a call without its file is told so"
    );
    let (status, detail) = get("/v1/campaigns/e2e", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["version"], 1);
    assert!(
        detail["graph"]["mermaid"]
            .as_str()
            .unwrap()
            .contains("flowchart")
    );

    let draw = |user: &str, request_id: &str| json!({ "user": user, "request_id": request_id });
    let draws = server.url("/v1/campaigns/e2e/draws");
    let (status, first) = send(&http, M::POST, &draws, Some(app), Some(draw("ann", "d1"))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        first["award"]["id"], "luck",
        "the prize is locked on the first draw: {first}"
    );
    let (_, replay) = send(&http, M::POST, &draws, Some(app), Some(draw("ann", "d1"))).await;
    assert_eq!(replay, first, "a replay returns the stored answer");
    let (status, stored) = get("/v1/campaigns/e2e/draws/d1", Some(app)).await;
    assert_eq!((status, stored), (StatusCode::OK, first.clone()));
    let (status, conflict) = send(&http, M::POST, &draws, Some(app), Some(draw("bob", "d1"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        conflict["type"],
        "https://tombola.dev/problems/request-id-reused"
    );
    let (status, unauthenticated) =
        send(&http, M::POST, &draws, None, Some(draw("ann", "d9"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{unauthenticated}");
    let malformed = http
        .post(&draws)
        .header("authorization", app)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let grants = server.url("/v1/campaigns/e2e/grants");
    let grant =
        |request_id: &str| json!({ "user": "ann", "sku": "pack", "request_id": request_id });
    let (status, granted) = send(&http, M::POST, &grants, Some(app), Some(grant("g1"))).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    let (status, sold_out) = send(&http, M::POST, &grants, Some(app), Some(grant("g2"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        sold_out["type"],
        "https://tombola.dev/problems/sku-sold-out"
    );

    for n in 2..=5 {
        let (status, body) = send(
            &http,
            M::POST,
            &draws,
            Some(app),
            Some(draw("ann", &format!("d{n}"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, none_left) =
        send(&http, M::POST, &draws, Some(app), Some(draw("ann", "d6"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "3 + 2 granted draws made");
    assert_eq!(
        none_left["type"],
        "https://tombola.dev/problems/no-draws-left"
    );

    let (status, standing) = get("/v1/campaigns/e2e/users/ann", Some(app)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            standing["draws_made"].clone(),
            standing["draws_left"].clone()
        ),
        (json!(5), json!(0))
    );
    let (status, prizes) = get("/v1/campaigns/e2e/users/ann/awards", Some(app)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(prizes["awards"][0]["locks"][0]["open"], true, "{prizes}");
    let (_, fresh) = get("/v1/campaigns/e2e/users/newcomer/awards", Some(app)).await;
    assert_eq!(fresh["awards"][0]["state"], "locked");
    assert_eq!(fresh["awards"][0]["draws_to_unlock"], 1);
    let (status, tiers) = get("/v1/campaigns/e2e/users/ann/tiers", Some(app)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tiers["rules"][0]["current"], 1);
    let (status, page) = get("/v1/campaigns/e2e/users/ann/draws?limit=3", Some(app)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["draws"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, rest) = get(
        &format!("/v1/campaigns/e2e/users/ann/draws?limit=3&cursor={cursor}"),
        Some(app),
    )
    .await;
    assert_eq!(rest["draws"].as_array().unwrap().len(), 2);
    let (status, stats) = get("/v1/campaigns/e2e/stats", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["draws"], 5);

    let (status, _) = send(
        &http,
        M::POST,
        &server.url("/v1/campaigns/e2e/close"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, closed) = send(&http, M::POST, &draws, Some(app), Some(draw("cy", "c1"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        closed["type"],
        "https://tombola.dev/problems/campaign-not-open"
    );
    let (status, unknown) = send(
        &http,
        M::POST,
        &server.url("/v1/campaigns/nope/draws"),
        Some(app),
        Some(draw("cy", "c1")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown["type"],
        "https://tombola.dev/problems/unknown-campaign"
    );

    let (status, metrics) = get("/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("tombola_draws_total{campaign=\"e2e\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("tombola_errors_total{type=\"no-draws-left\"} 1"),
        "{metrics}"
    );
    let (status, document) = get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(get("/docs/", None).await.0, StatusCode::OK);

    let (status, _) = send(
        &http,
        M::DELETE,
        &server.url(&format!("/v1/keys/{}", key["id"].as_str().unwrap())),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get("/v1/campaigns/e2e/users/ann", Some(app)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a revoked key is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_end_to_end_on_sqlite_with_json_logs() {
    let url = sqlite_url();
    let server = Server::start(&["--dev", "--database-url", &url, "--log-format", "json"]);
    walkthrough(&server).await;
    let log = server.log();
    let answered: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
        })
        .filter(|entry| entry["message"] == "answered")
        .collect();
    assert!(!answered.is_empty(), "{log}");
    let entry = &answered[0];
    assert!(
        entry["span"]["id"]
            .as_str()
            .is_some_and(|id| id.len() == 16),
        "{entry}"
    );
    assert!(entry["status"].is_number(), "{entry}");
    assert!(log.contains("\"problem\":\"request-id-reused\""), "{log}");
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_end_to_end_on_postgres() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let server = Server::start(&["--dev", "--database-url", &url]);
    walkthrough(&server).await;
    assert!(server.terminate().success());
}

/// The README's quick start: `serve --dev`, then its `curl` draw, run as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_works_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("cargo run --release -- serve --dev"),
        "the quick start starts the server in development mode"
    );
    let start = readme.find("curl ").expect("a curl command in the README");
    let end = start + readme[start..].find("\n```").unwrap();
    let command = &readme[start..end];
    assert!(command.contains("http://127.0.0.1:8080/"), "{command}");
    let server = Server::start(&["--dev", "--database-url", &sqlite_url()]);
    let command = command.replace("http://127.0.0.1:8080", &server.base);
    let output = Command::new("sh").args(["-c", &command]).output().unwrap();
    assert!(output.status.success(), "{command}: {output:?}");
    let answer: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(answer["campaign"], "showcase", "{answer}");
    assert!(answer["award"]["id"].is_string(), "{answer}");
    assert!(server.terminate().success());
}

/// The README's key creation: its `curl` run as written answers a key, with
/// the fields of the answer the README shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_key_creation_works_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("curl -s -X POST http://127.0.0.1:8080/v1/keys")
        .expect("the README creates a key");
    let end = start + readme[start..].find("\n```").unwrap();
    let command = &readme[start..end];
    let shown = &readme[end..];
    let shown = &shown[shown.find("```json\n").unwrap() + 8..];
    let shown: Value = serde_json::from_str(&shown[..shown.find("```").unwrap()]).unwrap();
    let server = Server::start(&["--dev", "--database-url", &sqlite_url()]);
    let command = command.replace("http://127.0.0.1:8080", &server.base);
    let output = Command::new("sh")
        .args(["-c", &command])
        .env("TOMBOLA_ADMIN_TOKEN", ADMIN.trim_start_matches("Bearer "))
        .output()
        .unwrap();
    assert!(output.status.success(), "{command}: {output:?}");
    let answer: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stdout)));
    let fields = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(fields(&answer), fields(&shown), "{answer}");
    assert_eq!(answer["name"], shown["name"], "{answer}");
    assert!(
        answer["key"].as_str().unwrap().starts_with("tbk_"),
        "{answer}"
    );
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_files_are_redeployed_and_broken_ones_keep_the_running_version() {
    let original = std::fs::read_to_string(root().join("campaigns/showcase.yaml")).unwrap();
    let folder = campaigns_folder(&[("showcase.yaml", &original)]);
    let folder_arg = folder.display().to_string();
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--campaigns",
        &folder_arg,
        "--watch-ms",
        "100",
    ]);
    let http = Client::new();
    let version = || {
        let http = http.clone();
        let url = server.url("/v1/campaigns/showcase");
        async move {
            send(&http, reqwest::Method::GET, &url, Some(ADMIN), None)
                .await
                .1["version"]
                .clone()
        }
    };
    assert_eq!(version().await, 1);

    let edited = original.replace("allowance: 3 ", "allowance: 4 ");
    assert_ne!(edited, original, "the edit changes the file");
    replace(&folder.join("showcase.yaml"), &edited);
    let mut seen = json!(1);
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = version().await;
        if seen == 2 {
            break;
        }
    }
    assert_eq!(
        seen,
        2,
        "the edited file is deployed as version 2: {}",
        server.log()
    );

    std::fs::write(
        folder.join("showcase.yaml"),
        edited.replace("rate: 50%", "rate: 40%"),
    )
    .unwrap();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if server.log().contains("not deployed") {
            break;
        }
    }
    let log = server.log();
    assert!(log.contains("not deployed: the file has errors"), "{log}");
    assert!(log.contains("T0301"), "the diagnostics are logged: {log}");
    assert_eq!(version().await, 2, "the running version stays");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_draw_in_flight_finish() {
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--fault-commit-delay-ms",
        "1000",
    ]);
    let http = Client::new();
    let url = server.url("/v1/campaigns/showcase/draws");
    let in_flight = tokio::spawn(async move {
        let body = json!({ "user": "ada", "request_id": "term-1", "attributes": { "vip": false, "tags": [] } });
        send(
            &http,
            reqwest::Method::POST,
            &url,
            Some("Bearer tbk_dev"),
            Some(body),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let (status, answer) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["request_id"], "term-1");
    let stderr = server.stderr.clone();
    let exit = server.terminate();
    assert!(exit.success(), "a graceful shutdown exits 0: {exit:?}");
    std::thread::sleep(Duration::from_millis(100));
    let log = stderr.lock().unwrap().clone();
    let shutting = log.find("shutting down").expect(&log);
    let stopped = log.find("stopped").expect(&log);
    assert!(shutting < stopped, "{log}");
}

const STOCKED: &str = "campaign: rush\nname: Rush\nstate: open\nwindow: { from: 2026-01-01, zone: UTC }\nallowance: 10\nquota: { per_day: 8 }\nawards:\n  prize: { kind: item }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 1, stock: 1000, tree: gate }\ntrees:\n  gate:\n    - stock: { exhausted: consolation }\n    - consolation: { fallback: luck }\ndelivery: { webhook: https://example.com/hook, secret_env: RUSH_SECRET }\n";

/// Two servers on one PostgreSQL, 200 concurrent clients, stock 1,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_never_oversell() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let folder = campaigns_folder(&[("rush.yaml", STOCKED)]);
    let folder_arg = folder.display().to_string();
    let args = [
        "--dev",
        "--database-url",
        &url,
        "--campaigns",
        &folder_arg,
        "--watch-ms",
        "0",
        // This test is about stock; the items' deliveries are the crash test's.
        "--delivery",
        "false",
    ];
    let servers = [Server::start(&args), Server::start(&args)];
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let http = Client::builder()
        .pool_max_idle_per_host(200)
        .build()
        .unwrap();

    // 200 users, each its own client, each drawing 10 times against a daily cap of 8,
    // alternating between the servers: 1,600 draws for 1,000 units.
    let mut clients = Vec::new();
    for user in 0..200 {
        let (http, bases) = (http.clone(), bases.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for n in 0..10 {
                let base = &bases[(user + n) % 2];
                let body =
                    json!({ "user": format!("u{user}"), "request_id": format!("u{user}-{n}") });
                let (status, answer) = send(
                    &http,
                    reqwest::Method::POST,
                    &format!("{base}/v1/campaigns/rush/draws"),
                    Some("Bearer tbk_dev"),
                    Some(body),
                )
                .await;
                answers.push((status, answer));
            }
            answers
        }));
    }
    let mut prizes = std::collections::HashSet::new();
    let (mut ok, mut capped) = (0, 0);
    for client in clients {
        let answers = client.await.unwrap();
        for (n, (status, answer)) in answers.iter().enumerate() {
            if n < 8 {
                assert_eq!(*status, StatusCode::OK, "draw {n}: {answer}");
                ok += 1;
                if answer["award"]["id"] == "prize" {
                    assert!(
                        prizes.insert(answer["request_id"].as_str().unwrap().to_string()),
                        "a prize answered twice"
                    );
                }
            } else {
                assert_eq!(*status, StatusCode::CONFLICT, "draw {n}: {answer}");
                assert_eq!(
                    answer["type"],
                    "https://tombola.dev/problems/daily-cap-reached"
                );
                capped += 1;
            }
        }
    }
    assert_eq!((ok, capped), (1600, 400));
    assert_eq!(prizes.len(), 1000, "exactly the stock is issued");

    let http = Client::new();
    let (_, stats) = send(
        &http,
        reqwest::Method::GET,
        &format!("{}/v1/campaigns/rush/stats", bases[0]),
        Some(ADMIN),
        None,
    )
    .await;
    let prize = &stats["awards"][0];
    assert_eq!(prize["issued"], 1000, "{stats}");
    assert_eq!(prize["stock"]["remaining"], 0, "{stats}");
    assert_eq!(prize["stock"]["issued"], 1000, "{stats}");
    assert_eq!(stats["draws"], 1600);
    for user in [0, 199] {
        let (_, standing) = send(
            &http,
            reqwest::Method::GET,
            &format!("{}/v1/campaigns/rush/users/u{user}", bases[1]),
            Some("Bearer tbk_dev"),
            None,
        )
        .await;
        assert_eq!(standing["made_today"], 8, "{standing}");
        assert_eq!(standing["left_today"], 0, "{standing}");
    }
    for server in servers {
        assert!(server.terminate().success());
    }
    let _ = std::fs::remove_dir_all(folder);
}

/// A stopped server exits even while a long check runs on a blocking thread:
/// the check writes nothing, so nothing waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_server_while_a_long_check_runs() {
    use std::fmt::Write as _;
    let database = sqlite_url();
    let args = [
        "--dev",
        "--database-url",
        &database,
        "--shutdown-timeout",
        "1",
    ];
    let server = Server::start(&args);
    let mut source = String::from("campaign: big\n");
    for i in 0..200_000 {
        writeln!(source, "x{i}: 1").unwrap();
    }
    let url = server.url("/v1/authoring/analyze");
    let check = tokio::spawn(async move {
        Client::new()
            .post(url)
            .header("authorization", "Bearer dev-admin")
            .json(&serde_json::json!({ "source": source }))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!check.is_finished(), "the check is still running");
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(10), "exited in {took:?}");
    check.abort();
}
