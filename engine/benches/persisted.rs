//! Persisted draws per second with 16 concurrent callers, on SQLite and on the
//! local PostgreSQL, and PostgreSQL's ceiling: `pgbench -M prepared` running
//! exactly the statements of one draw (`bench/pgbench-draw.sql`), in the same run.
//!
//! Run with `cargo bench -p tombola-engine --bench persisted` (PostgreSQL from
//! `TOMBOLA_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`;
//! set `BENCH_SECONDS` to change the 5 s per round). Each figure is the median of 3 rounds.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::Connection;
use tombola_engine::{DrawRequest, Engine, Seeds, store};

const CALLERS: usize = 16;
const USERS: u64 = 10_000;

const CAMPAIGN: &str = "campaign: bench\nname: Bench\nstate: open\nwindow: { from: 2026-01-01, zone: Asia/Shanghai }\nallowance: 1000000000\nawards:\n  prize: { kind: credits, amount: 1 }\n  consolation: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 1, stock: 1000000000, tree: t }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - luck: { fallback: consolation }\n";

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    )
}

struct Round {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn round(engine: &Arc<Engine>, tag: &str, now: DateTime<Utc>) -> Round {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + seconds();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..CALLERS {
        let (engine, next, tag) = (engine.clone(), next.clone(), tag.to_string());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let user = format!("u{}", (n * 7919 + caller as u64) % USERS);
                let request_id = format!("{tag}-{n}");
                let began = Instant::now();
                engine
                    .draw(
                        &DrawRequest {
                            campaign: "bench",
                            user: &user,
                            request_id: &request_id,
                            attributes: &[],
                        },
                        now,
                    )
                    .await
                    .expect("bench draws succeed");
                latencies.push(began.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Round {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn measure(name: &str, url: &str) -> f64 {
    let now: DateTime<Utc> = "2026-03-04T10:00:00Z".parse().unwrap();
    let engine = Arc::new(
        Engine::open(
            store::open(url).await.unwrap(),
            Seeds::Fixed(1),
            std::sync::Arc::new(tombola_dsl::Loader),
        )
        .await
        .unwrap(),
    );
    engine.deploy(CAMPAIGN, None, now).await.unwrap();
    let mut rates = Vec::new();
    for i in 0..3 {
        let r = round(&engine, &format!("{name}-{i}-{}", std::process::id()), now).await;
        println!(
            "{name:>10} round {i}: {:>8.0} draws/s  p50 {:>7.2?}  p99 {:>7.2?}",
            r.per_second, r.p50, r.p99
        );
        rates.push(r.per_second);
    }
    let m = median(rates);
    println!("{name:>10} median of 3: {m:.0} draws/s with {CALLERS} callers");
    m
}

fn pgbench(url: &str) -> Option<f64> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/pgbench-draw.sql");
    let mut rates = Vec::new();
    for i in 0..3 {
        let output = Command::new("pgbench")
            .args([
                "-n",
                "-M",
                "prepared",
                "-c",
                &CALLERS.to_string(),
                "-j",
                "2",
                "-T",
                &seconds().as_secs().to_string(),
                "-f",
            ])
            .arg(&script)
            .arg(url)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let tps = text
            .lines()
            .find(|l| l.starts_with("tps = "))?
            .split_whitespace()
            .nth(2)?
            .parse::<f64>()
            .ok()?;
        println!("   pgbench round {i}: {tps:>8.0} transactions/s");
        rates.push(tps);
    }
    let m = median(rates);
    println!("   pgbench median of 3: {m:.0} transactions/s");
    Some(m)
}

async fn fresh_postgres(base: &str) -> String {
    let name = format!("tombola_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(base)
        .await
        .expect("PostgreSQL answers");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let cut = base.rfind('/').unwrap();
    format!("{}/{name}", &base[..cut])
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "persisted draws, {CALLERS} concurrent callers, {USERS} users, {:?} per round",
            seconds()
        );
        let path = std::env::temp_dir().join(format!("tombola-bench-{}.db", std::process::id()));
        println!("SQLite: WAL, synchronous=NORMAL, one writer (BEGIN IMMEDIATE)");
        measure("sqlite", &format!("sqlite://{}", path.display())).await;
        let _ = std::fs::remove_file(&path);
        let base = std::env::var("TOMBOLA_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let url = fresh_postgres(&base).await;
        println!("PostgreSQL: default durability (synchronous_commit=on)");
        let tombola = measure("postgres", &url).await;
        match pgbench(&url) {
            Some(ceiling) => println!(
                "tombola reaches {:.0}% of pgbench's rate on the same statements",
                100.0 * tombola / ceiling
            ),
            None => println!("pgbench is not available; no ceiling measured"),
        }
    });
}
