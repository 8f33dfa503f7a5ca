//! A draw on PostgreSQL in as few round trips as its statements allow: the
//! claim reads the campaign's row and debits the draw, writes nothing reads go
//! with the answer; and a debit made with the claim only ever under the limits
//! of the version the draw then runs.

use tombola_engine::store::Store;
use tombola_engine::{DrawRequest, Engine};

use crate::helpers::{self, NOW, at, campaign, draw, draws_left, engine};

/// One award of each kind, and one with stock behind a stock node.
const KINDS: &str = "allowance: 100\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  nothing: { kind: none }\n  points: { kind: credits, amount: 1 }\n  extra: { kind: draws, amount: 1 }\n  mug: { kind: item }\n  prize: { kind: draws, amount: 1 }\npool:\n  - { award: nothing, rate: 0.2 }\n  - { award: points, rate: 0.2 }\n  - { award: extra, rate: 0.2 }\n  - { award: mug, rate: 0.2 }\n  - { award: prize, rate: 0.2, stock: 10, tree: t }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - luck: { fallback: nothing }\n";

fn round_trips(store: &Store) -> u64 {
    match store {
        Store::Sql(sql) => sql.postgres_round_trips(),
        Store::Memory(_) => 0,
    }
}

/// The round trips of one draw of `user` landing on `award`.
async fn trips_of(engine: &Engine, user: &str, request_id: &str, award: &str) -> u64 {
    let before = round_trips(engine.store_for_tests());
    let request = DrawRequest {
        campaign: "t",
        user,
        request_id,
        attributes: &[],
    };
    let drawn = engine
        .draw_landing_on(&request, at(NOW), Some(award))
        .await
        .unwrap();
    assert_eq!(drawn.award.id, award);
    round_trips(engine.store_for_tests()) - before
}

/// `BEGIN`, the claim (with the campaign's row and the debit), the answer (with
/// the draw's record and any write of its award nothing reads), `COMMIT`: four;
/// one more for credits (their balance may refuse them) and for a unit of stock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_on_postgres_takes_four_round_trips_and_one_per_checked_write() {
    let Some(store) = helpers::postgres().await else {
        return;
    };
    let engine = engine(store).await;
    engine
        .deploy(&campaign(KINDS), None, at(NOW))
        .await
        .unwrap();
    // Each user's first draw inserts their counters; the second is the usual one.
    for (award, expected) in [
        ("nothing", 4),
        ("extra", 4),
        ("mug", 4),
        ("points", 5),
        ("prize", 5),
    ] {
        let user = format!("u-{award}");
        trips_of(&engine, &user, &format!("{award}-1"), award).await;
        let trips = trips_of(&engine, &user, &format!("{award}-2"), award).await;
        assert_eq!(trips, expected, "a draw of `{award}`");
    }
    // What those draws wrote is all there, held-back writes included.
    assert_eq!(draws_left(&engine, "u-extra").await, 100);
    assert_eq!(draws_left(&engine, "u-nothing").await, 98);
    let credits = engine.credits("u-points", 10).await.unwrap();
    assert_eq!(credits.entries.len(), 2, "{credits:?}");
    assert_eq!(credits.balance, "2");
    // A replay: `BEGIN`, the claim, the stored answer, `COMMIT`.
    let before = round_trips(engine.store_for_tests());
    let again = draw(&engine, "u-nothing", "nothing-2").await.unwrap();
    assert!(again.replayed);
    assert_eq!(round_trips(engine.store_for_tests()) - before, 4);
}

/// A server that last saw version 1 (allowance 1) draws after another server
/// deployed version 2 (allowance 3): the claim's debit is for version 1, so it
/// is not made, and the draw debits under version 2's allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debit_made_with_the_claim_follows_the_version_the_store_holds() {
    let Some(store) = helpers::postgres().await else {
        return;
    };
    let version = |allowance: u32| {
        campaign(&format!(
            "allowance: {allowance}\nawards:\n  nothing: {{ kind: none }}\npool:\n  - {{ award: nothing, rate: 1 }}\n"
        ))
    };
    let first = engine(store.clone()).await;
    let second = engine(store).await;
    first.deploy(&version(1), None, at(NOW)).await.unwrap();
    draw(&second, "ann", "d-1").await.unwrap();
    assert!(draw(&second, "ann", "d-2").await.is_err(), "allowance 1");
    first.deploy(&version(3), None, at(NOW)).await.unwrap();
    let drawn = draw(&second, "ann", "d-3").await.unwrap();
    assert_eq!((drawn.version, drawn.left.draws), (2, 1));
    // Now the second server knows version 2, and its claims debit again.
    let drawn = draw(&second, "ann", "d-4").await.unwrap();
    assert_eq!(drawn.left.draws, 0);
    assert!(draw(&second, "ann", "d-5").await.is_err(), "allowance 3");
}
