//! Stores made by earlier releases, migrated: one from before stock slices
//! keeps every award's stock and issues exactly what was left; one from before
//! granted draws used were kept for every allowance has them settled once.

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use tombola_engine::store::prelude::*;
use tombola_engine::store::{self, Store};

use tombola_engine::test_support::{postgres_url, unique};

use crate::helpers;

/// The migrations before `version`: what a store of an earlier release ran.
fn before(version: i64, mut migrator: Migrator) -> Migrator {
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = Cow::Owned(old);
    migrator
}

const OLD_ROWS: [&str; 2] = [
    "INSERT INTO campaigns (id, state, current_version, created_at) VALUES ('t', 'open', 1, 0)",
    "INSERT INTO award_stock (campaign_id, award_id, declared, remaining, issued) VALUES ('t', 'prize', 100, 58, 42)",
];

/// The old stock reads the same, and exactly the 58 units left can be taken.
async fn keeps_the_stock(name: &str, store: Store) {
    let mut tx = store.begin().await.unwrap();
    let stock = tx.award_stock("t", "prize").await.unwrap().unwrap();
    assert_eq!(
        (stock.declared, stock.remaining, stock.issued),
        (100, 58, 42),
        "{name}"
    );
    for unit in 0..58 {
        let taken = tx.take_award_stock("t", "prize").await.unwrap();
        assert!(taken.is_some(), "{name}: unit {unit}");
    }
    assert_eq!(
        tx.take_award_stock("t", "prize").await.unwrap(),
        None,
        "{name}"
    );
    tx.commit().await.unwrap();
}

/// A SQLite file migrated up to (not including) `version`, holding `rows`: its URL.
async fn sqlite_before(version: i64, rows: &[impl AsRef<str>]) -> String {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tombola")));
    let url = format!("sqlite://{}", path.display());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    before(version, sqlx::migrate!("../migrations/sqlite"))
        .run(&mut conn)
        .await
        .unwrap();
    for row in rows {
        sqlx::query(row.as_ref()).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    url
}

/// A fresh PostgreSQL database migrated up to `version`, holding `rows`: its
/// URL and a connection to it; `None` when no server is configured.
async fn postgres_before(
    version: i64,
    rows: &[impl AsRef<str>],
) -> Option<(String, sqlx::PgConnection)> {
    let url = postgres_url().await?;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    before(version, sqlx::migrate!("../migrations/postgres"))
        .run(&mut conn)
        .await
        .unwrap();
    for row in rows {
        sqlx::query(row.as_ref()).execute(&mut conn).await.unwrap();
    }
    Some((url, conn))
}

#[tokio::test]
async fn a_sqlite_store_from_before_slices_keeps_its_stock() {
    let url = sqlite_before(6, &OLD_ROWS).await;
    keeps_the_stock("sqlite", store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn a_postgres_store_from_before_slices_keeps_its_stock_spread() {
    let Some((url, mut conn)) = postgres_before(6, &OLD_ROWS).await else {
        return;
    };
    let store = store::open(&url).await.unwrap();
    let (slices, least, most): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), MIN(remaining), MAX(remaining) FROM award_stock_slices WHERE award_id = 'prize'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((slices, least, most), (32, 1, 2), "58 left over 32 slices");
    conn.close().await.unwrap();
    keeps_the_stock("postgres", store).await;
}

/// A campaign-wide allowance of one draw; a user's row from before 0007: four
/// draws made, five granted, so three of the grants were used.
fn rows_before_granted_used() -> [String; 3] {
    let source = helpers::campaign(
        "allowance: 1\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
    );
    [
        "INSERT INTO campaigns (id, state, current_version, created_at) VALUES ('t', 'open', 1, 0)"
            .to_string(),
        format!(
            "INSERT INTO campaign_versions (campaign_id, version, source, sha256, deployed_at) VALUES ('t', 1, '{}', 'old', 0)",
            source.replace('\'', "''")
        ),
        "INSERT INTO user_counters (campaign_id, user_id, made, granted) VALUES ('t', 'ann', 4, 5)"
            .to_string(),
    ]
}

/// The engine opened on the migrated store counts the three grants used:
/// two draws are left, as before 0007, and the next open changes nothing.
async fn settles_granted_used(name: &str, url: &str) {
    for open in ["first", "second"] {
        let engine = helpers::engine(store::open(url).await.unwrap()).await;
        let standing = engine
            .user_status("t", "ann", helpers::at(helpers::NOW))
            .await
            .unwrap();
        assert_eq!(standing.draws_left, 2, "{name}, {open} open");
    }
}

#[tokio::test]
async fn a_sqlite_store_from_before_granted_used_keeps_each_users_draws_left() {
    let url = sqlite_before(7, &rows_before_granted_used()).await;
    settles_granted_used("sqlite", &url).await;
}

#[tokio::test]
async fn a_postgres_store_from_before_granted_used_keeps_each_users_draws_left() {
    let Some((url, conn)) = postgres_before(7, &rows_before_granted_used()).await else {
        return;
    };
    conn.close().await.unwrap();
    settles_granted_used("postgres", &url).await;
}
