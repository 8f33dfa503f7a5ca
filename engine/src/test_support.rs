//! Test support for this workspace's suites (feature `test-support`): fresh
//! PostgreSQL databases from `TOMBOLA_TEST_DATABASE_URL`, unique names, and
//! the sum a credit balance must equal.
//!
//! Without the variable, PostgreSQL tests skip with a printed line; with
//! `CI=true` they fail instead, so CI never skips them silently.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use rust_decimal::Decimal;
use sqlx::Connection;

use crate::Credits;

static NEXT: AtomicU32 = AtomicU32::new(0);
static CLEANED: AtomicBool = AtomicBool::new(false);

pub fn unique(prefix: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // The creation second comes first: the clean-up reads it back.
    format!(
        "{prefix}_{}_{}_{n}_{}",
        now.as_secs(),
        std::process::id(),
        now.subsec_nanos()
    )
}

/// The sum of the ledger entries in `credits`, which the balance must equal
/// when they are the whole ledger.
pub fn ledger_sum(credits: &Credits) -> Decimal {
    credits
        .entries
        .iter()
        .map(|e| e.delta.parse::<Decimal>().expect("an exact amount"))
        .sum()
}

/// A fresh PostgreSQL database, or `None` (with a printed line) when no server is configured.
pub async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("TOMBOLA_TEST_DATABASE_URL") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but TOMBOLA_TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI"
            );
        }
        println!("skipping PostgreSQL: TOMBOLA_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = unique("tombola_test");
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("TOMBOLA_TEST_DATABASE_URL connects");
    // Databases of runs over an hour old are dropped once per process, so runs do
    // not pile up; younger ones may belong to a test process running in parallel.
    if !CLEANED.swap(true, Ordering::Relaxed) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let old: Vec<(String,)> = sqlx::query_as(
            "SELECT datname FROM pg_database WHERE datname LIKE 'tombola\\_test\\_%'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        let created = |db: &str| {
            db.strip_prefix("tombola_test_")?
                .split('_')
                .next()?
                .parse::<u64>()
                .ok()
        };
        for (db,) in old
            .into_iter()
            .filter(|(db,)| created(db).is_none_or(|at| at + 3600 < now))
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let cut = base.rfind('/').expect("a database URL has a path");
    let tail = base[cut + 1..]
        .find('?')
        .map_or("", |q| &base[cut + 1 + q..]);
    Some(format!("{}/{name}{tail}", &base[..cut]))
}

/// Terminates every session connected to the database of `url` (a URL
/// from [`postgres_url`]), as an operator's `pg_terminate_backend` would, and
/// answers how many there were.
pub async fn terminate_sessions(url: &str) -> usize {
    let base = std::env::var("TOMBOLA_TEST_DATABASE_URL").expect("a PostgreSQL test URL");
    let database = url.rsplit('/').next().unwrap_or_default();
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("TOMBOLA_TEST_DATABASE_URL connects");
    let terminated: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_all(&mut admin)
    .await
    .expect("pg_terminate_backend runs");
    terminated.len()
}
