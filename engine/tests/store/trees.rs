//! Award trees on stored state: stock taken only for the award issued, fallbacks,
//! and locks that count the draws before each concurrent one.

use std::sync::Arc;
use tombola_engine::store::prelude::*;

use tombola_engine::store::Store;

use crate::helpers::{NOW, at, campaign, draw, engine, per_store, stock_of, stock_of_in};

per_store!(
    stock_only_moves_for_the_award_that_is_issued,
    worker_threads = 2
);
async fn stock_only_moves_for_the_award_that_is_issued(name: &str, store: Store) {
    let engine = engine(store).await;
    // The stock node takes a unit, then a later condition sends the draw to the fallback.
    let source = campaign(
        "allowance: 5\nawards:\n  prize: { kind: none }\n  consolation: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 1, stock: 3, tree: t }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - veteran: { if: \"user.draws.total >= 2\", else: luck }\n    - luck: { fallback: consolation }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    for (i, expected) in ["consolation", "consolation", "prize"].iter().enumerate() {
        let response = draw(&engine, "nora", &format!("r{i}")).await.unwrap();
        assert_eq!(response.award.id, *expected, "{name}: draw {i}");
    }
    assert_eq!(
        stock_of(&engine, "prize").await,
        Some((2, 1)),
        "{name}: only the issued prize left the stock"
    );
}

per_store!(
    fallbacks_pay_their_award_amount_and_one_issue_takes_one_unit,
    worker_threads = 2
);
async fn fallbacks_pay_their_award_amount_and_one_issue_takes_one_unit(name: &str, store: Store) {
    let engine = engine(store).await;
    // Two stock nodes on one path, and a fallback without its own amount.
    let source = campaign(
        "allowance: 9\nawards:\n  prize: { kind: none }\n  points: { kind: credits, amount: 7.25 }\npool:\n  - { award: prize, rate: 1, stock: 2, tree: t }\ntrees:\n  t:\n    - first: { exhausted: luck }\n    - second: { exhausted: luck }\n    - luck: { fallback: points }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    let awards: Vec<String> = {
        let mut out = Vec::new();
        for i in 0..3 {
            out.push(
                draw(&engine, "pat", &format!("r{i}"))
                    .await
                    .unwrap()
                    .award
                    .id,
            );
        }
        out
    };
    assert_eq!(
        awards,
        ["prize", "prize", "points"],
        "{name}: stock 2 gives 2 prizes, not 1"
    );
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(stock_of_in(&mut tx, "prize").await, Some((0, 2)), "{name}");
    assert_eq!(
        tx.balance("pat").await.unwrap(),
        725,
        "{name}: the fallback pays its award's amount"
    );
}

per_store!(
    concurrent_draws_of_one_user_see_different_counts,
    worker_threads = 4
);
async fn concurrent_draws_of_one_user_see_different_counts(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    let source = campaign(
        "allowance: 10\nawards:\n  prize: { kind: none }\n  consolation: { kind: none }\npool:\n  - { award: prize, rate: 1, tree: t }\ntrees:\n  t:\n    - lock: { after: 3, locked: luck }\n    - luck: { fallback: consolation }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move { draw(&engine, "olga", &format!("r{i}")).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    let mut unlocked = 0;
    for task in tasks {
        let response = task.await.unwrap();
        let lock = response
            .steps
            .iter()
            .find(|s| s.at.to_string() == "tree:t/lock")
            .unwrap();
        seen.push(lock.read.unwrap());
        unlocked += usize::from(response.award.id == "prize");
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..8).collect::<Vec<i64>>(),
        "{name}: each draw counts the draws before it"
    );
    // `after: 3` opens on the 4th draw: draws 4 to 8 are unlocked.
    assert_eq!(unlocked, 5, "{name}");
}
