//! A store made before stock slices keeps every award's stock through the
//! migration that brought them in, and issues exactly what was left.

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use tombola_engine::store::prelude::*;
use tombola_engine::store::{self, Store};

use tombola_engine::test_support::{postgres_url, unique};

/// The migrations before slices: what a store of the previous release ran.
fn before_slices(mut migrator: Migrator) -> Migrator {
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 6)
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

#[tokio::test]
async fn a_sqlite_store_from_before_slices_keeps_its_stock() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tombola")));
    let url = format!("sqlite://{}", path.display());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    before_slices(sqlx::migrate!("../migrations/sqlite"))
        .run(&mut conn)
        .await
        .unwrap();
    for row in OLD_ROWS {
        sqlx::query(row).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    keeps_the_stock("sqlite", store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn a_postgres_store_from_before_slices_keeps_its_stock_spread() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    before_slices(sqlx::migrate!("../migrations/postgres"))
        .run(&mut conn)
        .await
        .unwrap();
    for row in OLD_ROWS {
        sqlx::query(row).execute(&mut conn).await.unwrap();
    }
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
