//! The stores the suite runs on — memory, SQLite in a temporary file, and
//! PostgreSQL in a fresh database per test when `TOMBOLA_TEST_DATABASE_URL` is
//! set (required when `CI=true`) — the macro that makes one test per store,
//! and the campaigns and requests the tests share.

use chrono::{DateTime, Utc};
use tombola_engine::store::prelude::*;
use tombola_engine::store::{self, Store, Tx};
use tombola_engine::test_support::{postgres_url, unique};
use tombola_engine::{
    DrawOutcome, DrawRequest, Engine, EventOutcome, EventRequest, Failure, Seeds, SkuRequest,
};
use tombola_grammar::Value;

/// One behaviour, one test per store: for `async fn $behaviour(name: &str, store: Store)`
/// beside it, `per_store!($behaviour, worker_threads = N)` makes `$behaviour::memory`,
/// `$behaviour::sqlite` and `$behaviour::postgres`, so a failure names its store.
macro_rules! per_store {
    ($behaviour:ident, worker_threads = $threads:tt) => {
        mod $behaviour {
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn memory() {
                super::$behaviour("memory", $crate::helpers::memory().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn sqlite() {
                super::$behaviour("sqlite", $crate::helpers::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn postgres() {
                // No server configured: `postgres()` printed the skip line (or failed under CI).
                if let Some(store) = $crate::helpers::postgres().await {
                    super::$behaviour("postgres", store).await;
                }
            }
        }
    };
}
pub(crate) use per_store;

pub(crate) async fn memory() -> Store {
    store::open("memory:").await.unwrap()
}

pub(crate) async fn sqlite() -> Store {
    sqlite_file().await.0
}

/// A store on a fresh SQLite file, and the file.
pub(crate) async fn sqlite_file() -> (Store, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tombola")));
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    (store, path)
}

/// A store on a fresh PostgreSQL database, or `None` when no server is configured.
pub(crate) async fn postgres() -> Option<Store> {
    let url = postgres_url().await?;
    Some(store::open(&url).await.unwrap())
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

pub(crate) const NOW: &str = "2026-03-04T10:00:00Z";

/// Campaign `t`, open through 2026 in Shanghai, with `body` for the rest.
pub(crate) fn campaign(body: &str) -> String {
    format!(
        "campaign: t\nname: T\nstate: open\nwindow: {{ from: 2026-01-01, to: 2026-12-31, zone: Asia/Shanghai }}\n{body}"
    )
}

/// An engine on `store` with campaign `t` deployed, `body` its rest (see [`campaign`]).
pub(crate) async fn deployed(store: Store, body: &str) -> Engine {
    let engine = engine(store).await;
    engine.deploy(&campaign(body), None, at(NOW)).await.unwrap();
    engine
}

/// One award with stock behind a stock node, falling back to credits.
pub(crate) fn stocked(stock: u32, allowance: u32) -> String {
    campaign(&format!(
        "allowance: {allowance}\nawards:\n  prize: {{ kind: draws, amount: 0 }}\n  consolation: {{ kind: credits, amount: 1 }}\npool:\n  - {{ award: prize, rate: 1, stock: {stock}, tree: t }}\ntrees:\n  t:\n    - stock: {{ exhausted: luck }}\n    - luck: {{ fallback: consolation }}\n"
    ))
}

/// Two events with rebates, SKUs with stock and a price in credits.
pub(crate) fn rebate_campaign() -> String {
    campaign(
        "allowance: 0\ninputs:\n  events:\n    sign_in: {}\n    payment: { amount: decimal }\nawards:\n  points: { kind: credits, amount: 1 }\npool:\n  - { award: points, rate: 1 }\nskus:\n  draw_1: { draws: 1, stock: 2 }\n  draw_5: { draws: 5, price: 20 credits }\nrebates:\n  - id: daily\n    on: sign_in\n    once: per_day\n    give: [ { sku: draw_1 }, { credits: 10 } ]\n  - id: spender\n    on: payment\n    when: event.amount >= 50\n    give: [ { credits: \"round(event.amount * 5%, 2)\" } ]\n",
    )
}

/// A draw in campaign `t` at `NOW`, without attributes.
pub(crate) async fn draw(
    engine: &Engine,
    user: &str,
    request: &str,
) -> Result<DrawOutcome, Failure> {
    draw_with(engine, user, request, &[]).await
}

/// A draw in campaign `t` at `NOW` with these user attributes.
pub(crate) async fn draw_with(
    engine: &Engine,
    user: &str,
    request: &str,
    attributes: &[(String, Value)],
) -> Result<DrawOutcome, Failure> {
    engine
        .draw(
            &DrawRequest {
                campaign: "t",
                user,
                request_id: request,
                attributes,
            },
            at(NOW),
        )
        .await
}

/// A grant or an exchange of one `sku` in campaign `t`.
pub(crate) fn sku_request<'a>(user: &'a str, sku: &'a str, request_id: &'a str) -> SkuRequest<'a> {
    SkuRequest {
        campaign: "t",
        user,
        sku,
        request_id,
    }
}

/// The draws `user` has left in campaign `t` at `NOW`.
pub(crate) async fn draws_left(engine: &Engine, user: &str) -> i64 {
    engine
        .user_status("t", user, at(NOW))
        .await
        .unwrap()
        .draws_left
}

/// A draw in campaign `t` at `NOW` that passes `user.vip`; it must succeed.
pub(crate) async fn draw_as(engine: &Engine, id: &str, user: &str, vip: bool) -> DrawOutcome {
    let attributes = [("vip".to_string(), Value::Bool(vip))];
    draw_with(engine, user, id, &attributes).await.unwrap()
}

/// An event in campaign `t` at `now`.
pub(crate) async fn event(
    engine: &Engine,
    user: &str,
    name: &str,
    request: &str,
    attributes: &[(String, Value)],
    now: &str,
) -> Result<EventOutcome, Failure> {
    engine
        .event(
            &EventRequest {
                campaign: "t",
                user,
                event: name,
                request_id: request,
                attributes,
            },
            at(now),
        )
        .await
}

/// Campaign `t`'s tallies, read in a transaction of their own.
/// An award's stock in campaign `t` as (remaining, issued), if it is stocked.
pub(crate) async fn stock_of(engine: &Engine, award: &str) -> Option<(i64, i64)> {
    let mut tx = engine.store_for_tests().read().await.unwrap();
    stock_of_in(&mut tx, award).await
}

/// [`stock_of`], read in a transaction the test holds.
pub(crate) async fn stock_of_in(tx: &mut Tx, award: &str) -> Option<(i64, i64)> {
    let stock = tx.award_stock("t", award).await.unwrap();
    stock.map(|s| (s.remaining, s.issued))
}

pub(crate) async fn tallies(engine: &Engine) -> (i64, i64, i64, i64) {
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    tx.tallies("t").await.unwrap()
}
