//! Stores made by earlier releases, migrated: one from before stock slices
//! keeps every award's stock and issues exactly what was left; one from before
//! granted draws used were kept for every allowance has them settled once;
//! one from before versions kept their origin tells API deploys by the audit log.

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use tombola_engine::store::prelude::*;
use tombola_engine::store::{self, Origin, Store};

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

/// Two campaigns from before versions said where they came from: `api`,
/// whose version 2 the audit log names as an API deploy, and `file`, which
/// the log never names (the folder wrote none).
fn rows_before_origins() -> Vec<String> {
    let source = |id: &str| {
        helpers::campaign(
            "awards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        )
        .replace("campaign: t", &format!("campaign: {id}"))
        .replace('\'', "''")
    };
    let mut rows = Vec::new();
    for (id, version) in [("api", 1), ("api", 2), ("file", 1)] {
        if version == 1 {
            rows.push(format!(
                "INSERT INTO campaigns (id, state, current_version, created_at) VALUES ('{id}', 'open', {}, 0)",
                if id == "api" { 2 } else { 1 }
            ));
        }
        rows.push(format!(
            "INSERT INTO campaign_versions (campaign_id, version, source, sha256, deployed_at) VALUES ('{id}', {version}, '{}', 'old{version}', 0)",
            source(id)
        ));
    }
    rows.push("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (0, 'admin', 'deploy', 'api', 'version 2')".into());
    rows.push("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (0, 'admin', 'set_state', 'file', 'open')".into());
    rows
}

/// The audit log tells an API deploy; the rest came from the folder, and
/// each side now refuses the other.
async fn tells_origins(name: &str, url: &str) {
    let engine = helpers::engine(store::open(url).await.unwrap()).await;
    let origins = |versions: tombola_engine::Versions| -> Vec<_> {
        versions
            .versions
            .iter()
            .map(|v| (v.version, v.origin, v.path.clone(), v.note.clone()))
            .collect()
    };
    assert_eq!(
        origins(engine.versions("api").await.unwrap()),
        [
            (2, Origin::Api, None, None),
            (1, Origin::Folder, None, None)
        ],
        "{name}"
    );
    assert_eq!(
        origins(engine.versions("file").await.unwrap()),
        [(1, Origin::Folder, None, None)],
        "{name}"
    );
    let (_, source) = engine.campaign_detail("file").await.unwrap();
    assert!(
        matches!(
            engine
                .deploy(&source, None, helpers::at(helpers::NOW))
                .await,
            Err(tombola_engine::DeployError::OwnedByFolder { path: None, .. })
        ),
        "{name}"
    );
}

#[tokio::test]
async fn a_sqlite_store_from_before_origins_tells_api_deploys_by_the_audit_log() {
    let url = sqlite_before(9, &rows_before_origins()).await;
    tells_origins("sqlite", &url).await;
}

#[tokio::test]
async fn a_postgres_store_from_before_origins_tells_api_deploys_by_the_audit_log() {
    let Some((url, conn)) = postgres_before(9, &rows_before_origins()).await else {
        return;
    };
    conn.close().await.unwrap();
    tells_origins("postgres", &url).await;
}
