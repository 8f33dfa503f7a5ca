//! Draws per second over HTTP: the real `tombola serve` binary, 64 keep-alive
//! connections, on SQLite and on the local PostgreSQL.
//!
//! Run with `cargo bench -p tombola-cli --bench http`. The server runs with its
//! production settings (SQLite in WAL with `synchronous=NORMAL`: durable across
//! a process crash, the last commits may be lost on power loss; PostgreSQL with
//! `synchronous_commit=on`) and logs one line per request at `info` (to
//! /dev/null). The client runs on the same machine and shares its cores.
//! `BENCH_SECONDS` sets the seconds per round (default 10); `BENCH_DATABASE_URL`
//! the PostgreSQL database (default `postgres://postgres@127.0.0.1:5432/test`;
//! its tables are used as they are, so use a scratch database).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
const USERS: u64 = 10_000;

const CAMPAIGN: &str = "campaign: bench\nname: Bench\nstate: open\nwindow: { from: 2026-01-01, zone: Asia/Shanghai }\nallowance: 1000000000\nawards:\n  points: { kind: credits, amount: \"random(1, 100)\" }\n  prize: { kind: draws, amount: 1 }\n  nothing: { kind: none }\npool:\n  - { award: points, rate: 0.5 }\n  - { award: prize, rate: 0.1, stock: 1000000000, tree: t }\n  - { award: nothing, rate: 0.4 }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - luck: { fallback: points }\n";

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    )
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(database_url: &str, campaigns: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tombola"))
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--watch-ms",
            "0",
        ])
        .args(["--database-url", database_url])
        .arg("--campaigns")
        .arg(campaigns)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tombola binary runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if let Some(address) = line.trim().strip_prefix("listening on ") {
            let base = address.to_string();
            std::thread::spawn(move || for _ in stdout.lines() {});
            return Server(child, base);
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

struct Round {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

async fn round(base: &str, tag: &str) -> Round {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let url = format!("{base}/v1/campaigns/bench/draws");
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, next, errors, tag) = (
            client.clone(),
            url.clone(),
            next.clone(),
            errors.clone(),
            tag.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = format!(
                    r#"{{"user":"u{}","request_id":"{tag}-{n}"}}"#,
                    (n * 7919) % USERS
                );
                let began = Instant::now();
                let response = client
                    .post(&url)
                    .header("authorization", "Bearer tbk_dev")
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(began.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Round {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}

async fn measure(name: &str, database_url: &str, campaigns: &std::path::Path) {
    let server = start(database_url, campaigns);
    // Warm up: connections, users' rows, the page cache.
    round(&server.1, &format!("{name}-warm-{}", std::process::id())).await;
    let mut rounds = Vec::new();
    for n in 0..3 {
        rounds.push(round(&server.1, &format!("{name}-{n}-{}", std::process::id())).await);
    }
    rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let median = &rounds[1];
    println!(
        "{name}: {:.0} draws/s (rounds {:.0}, {:.0}, {:.0}), p50 {:.1} ms, p99 {:.1} ms, {} errors, {CONNECTIONS} connections",
        median.per_second,
        rounds[0].per_second,
        rounds[1].per_second,
        rounds[2].per_second,
        median.p50.as_secs_f64() * 1000.0,
        median.p99.as_secs_f64() * 1000.0,
        median.errors,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects a store.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wants = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let dir = std::env::temp_dir().join(format!("tombola-http-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bench.yaml"), CAMPAIGN).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        if wants("sqlite") {
            let db = dir.join("bench.db");
            measure("sqlite", &format!("sqlite://{}", db.display()), &dir).await;
        }
        if wants("postgres") {
            let url = std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            measure("postgres", &url, &dir).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
