//! Buying draws: SKU grants within their stock, and exchanges within the credit balance.

use std::sync::Arc;

use tombola_engine::Failure;
use tombola_engine::store::Store;
use tombola_engine::test_support::ledger_sum;

use crate::helpers::{
    NOW, at, campaign, draw, draws_left, engine, per_store, rebate_campaign, sku_request, tallies,
};

per_store!(
    grants_decrement_sku_stock_once_per_request,
    worker_threads = 4
);
async fn grants_decrement_sku_stock_once_per_request(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    let source = campaign(
        "allowance: 0\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nskus:\n  pack: { draws: 2, stock: 3 }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    assert!(
        matches!(draw(&engine, "kim", "d0").await, Err(Failure::NoDrawsLeft)),
        "{name}"
    );
    let granted = engine
        .grant(&sku_request("kim", "pack", "g1"), at(NOW))
        .await
        .unwrap();
    assert_eq!(granted.draws, 2);
    assert_eq!(
        engine
            .grant(&sku_request("kim", "pack", "g1"), at(NOW))
            .await
            .unwrap(),
        granted,
        "{name}: replay"
    );
    assert!(matches!(
        engine
            .grant(&sku_request("kim", "nope", "g2"), at(NOW))
            .await,
        Err(Failure::UnknownSku(_))
    ));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .grant(&sku_request("lee", "pack", &format!("c{i}")), at(NOW))
                    .await
            })
        })
        .collect();
    let mut sold = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => sold += 1,
            Err(Failure::SkuSoldOut(_)) => {}
            Err(other) => panic!("{name}: {other}"),
        }
    }
    assert_eq!(sold, 2, "{name}: stock 3, one already sold");
    draw(&engine, "kim", "d1").await.unwrap();
    draw(&engine, "kim", "d2").await.unwrap();
    assert!(
        matches!(draw(&engine, "kim", "d3").await, Err(Failure::NoDrawsLeft)),
        "{name}"
    );
    assert_eq!(tallies(&engine).await.3, 3, "{name}");
}

per_store!(
    exchanges_never_spend_credits_that_are_not_there,
    worker_threads = 4
);
async fn exchanges_never_spend_credits_that_are_not_there(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    engine
        .deploy(&rebate_campaign(), Some("t"), at(NOW))
        .await
        .unwrap();
    // The reference let a trade succeed without funds: here it is refused and changes nothing.
    let broke = engine
        .exchange(&sku_request("ann", "draw_5", "x0"), at(NOW))
        .await;
    assert!(
        matches!(broke, Err(Failure::InsufficientCredits { .. })),
        "{name}: {broke:?}"
    );
    assert_eq!(draws_left(&engine, "ann").await, 0);
    assert!(matches!(
        engine
            .exchange(&sku_request("ann", "draw_1", "x1"), at(NOW))
            .await,
        Err(Failure::NotForSale(_))
    ));

    engine
        .adjust_credits("ann", "100".parse().unwrap(), "welcome", "adj-1", at(NOW))
        .await
        .unwrap();
    // 50 concurrent exchanges at 20 credits against a balance of 100: exactly 5.
    let mut tasks = Vec::new();
    for n in 0..50 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .exchange(&sku_request("ann", "draw_5", &format!("ex{n}")), at(NOW))
                .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Failure::InsufficientCredits { .. }) => {}
            Err(other) => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(ok, 5, "{name}");
    let credits = engine.credits("ann", 100).await.unwrap();
    assert_eq!(credits.balance, "0", "{name}: never negative");
    let sum = ledger_sum(&credits);
    assert_eq!(
        sum,
        rust_decimal::Decimal::ZERO,
        "{name}: the balance is the sum of the ledger"
    );
    assert_eq!(draws_left(&engine, "ann").await, 25, "{name}");

    let over = engine
        .adjust_credits("ann", "-1".parse().unwrap(), "oops", "adj-2", at(NOW))
        .await;
    assert!(
        matches!(over, Err(Failure::InsufficientCredits { .. })),
        "{name}: {over:?}"
    );
    let replay = engine
        .exchange(&sku_request("ann", "draw_5", "ex0"), at(NOW))
        .await;
    assert!(
        replay.is_ok() || matches!(replay, Err(Failure::InsufficientCredits { .. })),
        "{name}"
    );
}
