//! Stores for the shared behavioural suite: memory, SQLite in a temporary
//! file, and PostgreSQL in a fresh database per test when
//! `TOMBOLA_TEST_DATABASE_URL` is set (required when `CI=true`).

use chrono::{DateTime, Utc};
use tombola_engine::store::{self, Store};
use tombola_engine::test_support::{postgres_url, unique};
use tombola_engine::{Engine, Seeds};

/// Every store the suite runs on, by name.
pub(crate) async fn stores() -> Vec<(&'static str, Store)> {
    let mut out = vec![("memory", store::open("memory:").await.unwrap())];
    let path = std::env::temp_dir().join(format!("{}.db", unique("tombola")));
    out.push((
        "sqlite",
        store::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    ));
    if let Some(url) = postgres_url().await {
        out.push(("postgres", store::open(&url).await.unwrap()));
    }
    out
}

pub(crate) async fn engine(store: Store) -> Engine {
    Engine::open(
        store,
        Seeds::Fixed(7),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await
    .unwrap()
}

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}
