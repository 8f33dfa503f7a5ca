//! Rebates on events: once per period in the campaign's zone, SKU grants and credits.

use tombola_engine::store::Store;
use tombola_engine::{ActionTaken, Failure};
use tombola_grammar::Value;

use crate::helpers::{NOW, at, engine, event, per_store, rebate_campaign};

per_store!(
    rebates_apply_once_per_period_in_the_campaign_zone,
    worker_threads = 4
);
async fn rebates_apply_once_per_period_in_the_campaign_zone(name: &str, store: Store) {
    use tombola_engine::RebateResult;
    use tombola_engine::store::Period;
    let engine = engine(store).await;
    engine
        .deploy(&rebate_campaign(), Some("t"), at(NOW))
        .await
        .unwrap();
    assert!(
        !engine
            .event_done("t", "ann", "sign_in", Period::Day, at(NOW))
            .await
            .unwrap()
    );
    let first = event(&engine, "ann", "sign_in", "s1", &[], NOW)
        .await
        .unwrap();
    assert_eq!(first.rebates[0].outcome, RebateResult::Applied, "{name}");
    assert_eq!(first.rebates[0].actions.len(), 2, "{name}");
    assert!(
        engine
            .event_done("t", "ann", "sign_in", Period::Day, at(NOW))
            .await
            .unwrap(),
        "{name}: signed in today"
    );
    let again = event(&engine, "ann", "sign_in", "s2", &[], "2026-03-04T15:00:00Z")
        .await
        .unwrap();
    assert_eq!(
        again.rebates[0].outcome,
        RebateResult::AlreadyDone,
        "{name}: same Shanghai day"
    );
    // 16:30 UTC is past midnight in Shanghai: a new day.
    let next = event(&engine, "ann", "sign_in", "s3", &[], "2026-03-04T16:30:00Z")
        .await
        .unwrap();
    assert_eq!(
        next.rebates[0].outcome,
        RebateResult::Applied,
        "{name}: the next Shanghai day"
    );
    assert!(
        !engine
            .event_done(
                "t",
                "ann",
                "sign_in",
                Period::Day,
                at("2026-03-05T16:30:00Z")
            )
            .await
            .unwrap()
    );
    assert!(
        engine
            .event_done(
                "t",
                "ann",
                "sign_in",
                Period::Month,
                at("2026-03-05T16:30:00Z")
            )
            .await
            .unwrap()
    );
    let replay = event(&engine, "ann", "sign_in", "s1", &[], NOW)
        .await
        .unwrap();
    assert_eq!(replay, first, "{name}: a replay returns the stored answer");

    let credits = engine.credits("ann", 10).await.unwrap();
    assert_eq!(credits.balance, "20", "{name}");
    assert_eq!(credits.entries.len(), 2);
    assert_eq!(credits.entries[0].reason, "rebate");
    let status = engine.user_status("t", "ann", at(NOW)).await.unwrap();
    assert_eq!(status.draws_left, 2, "{name}: two SKU grants");

    // The SKU had stock 2: a third day's grant is skipped, the credits still apply.
    let third = event(&engine, "ann", "sign_in", "s4", &[], "2026-03-06T10:00:00Z")
        .await
        .unwrap();
    assert_eq!(third.rebates[0].outcome, RebateResult::Applied);
    assert!(!third.rebates[0].actions[0].applied(), "{name}: sold out");
    assert!(third.rebates[0].actions[1].applied());

    let big = [(
        "amount".to_string(),
        Value::Decimal("80.10".parse().unwrap()),
    )];
    let paid = event(&engine, "bob", "payment", "p1", &big, NOW)
        .await
        .unwrap();
    assert_eq!(
        paid.rebates[0].actions[0],
        ActionTaken::Credits {
            amount: "4.01".parse().unwrap()
        },
        "{name}"
    );
    let small = [("amount".to_string(), Value::Decimal("10".parse().unwrap()))];
    let unpaid = event(&engine, "bob", "payment", "p2", &small, NOW)
        .await
        .unwrap();
    assert_eq!(
        unpaid.rebates[0].outcome,
        RebateResult::ConditionFalse,
        "{name}"
    );
    assert_eq!(engine.credits("bob", 10).await.unwrap().balance, "4.01");

    assert!(matches!(
        event(&engine, "bob", "nope", "n1", &[], NOW).await,
        Err(Failure::UnknownEvent(_))
    ));
    let wrong = [("amount".to_string(), Value::Bool(true))];
    assert!(matches!(
        event(&engine, "bob", "payment", "n2", &wrong, NOW).await,
        Err(Failure::BadInput(_))
    ));
    assert!(matches!(
        event(&engine, "bob", "payment", "p1", &small, NOW).await,
        Err(Failure::RequestConflict(_))
    ));
}

per_store!(
    draws_events_exchanges_and_grants_of_one_user_never_deadlock,
    worker_threads = 4
);
/// Concurrent calls of the same users that write their counters, a SKU's stock
/// and their account — draws, events whose rebate gives credits before a SKU,
/// exchanges, grants — wait for each other rather than deadlock: every call
/// ends in an answer or a refusal, never a store error.
async fn draws_events_exchanges_and_grants_of_one_user_never_deadlock(name: &str, store: Store) {
    use std::sync::Arc;
    let engine = Arc::new(engine(store).await);
    let source = crate::helpers::campaign(
        "allowance: 0\ninputs: { events: { pay: { amount: decimal } } }\nawards:\n  points: { kind: credits, amount: \"random(1, 100)\" }\n  more: { kind: draws, amount: 1 }\npool:\n  - { award: points, rate: 0.5 }\n  - { award: more, rate: 0.5 }\nskus:\n  d1: { draws: 1, stock: 100000 }\n  d2: { draws: 1, stock: 100000, price: 1 credits }\nrebates:\n  - id: payer\n    on: pay\n    give: [ { credits: \"event.amount\" }, { sku: d1 } ]\n",
    );
    engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    let mut calls = Vec::new();
    for n in 0..120 {
        let engine = engine.clone();
        calls.push(tokio::spawn(async move {
            let user = format!("u{}", n % 3);
            let id = format!("c{n}");
            let pay = [("amount".to_string(), Value::Decimal("7.5".parse().unwrap()))];
            let result = match n % 4 {
                0 => event(&engine, &user, "pay", &id, &pay, NOW).await.map(drop),
                1 => crate::helpers::draw(&engine, &user, &id).await.map(drop),
                2 => engine
                    .exchange(&crate::helpers::sku_request(&user, "d2", &id), at(NOW))
                    .await
                    .map(drop),
                _ => engine
                    .grant(&crate::helpers::sku_request(&user, "d1", &id), at(NOW))
                    .await
                    .map(drop),
            };
            (n, result)
        }));
    }
    for call in calls {
        let (n, result) = tokio::time::timeout(std::time::Duration::from_secs(60), call)
            .await
            .expect("no call hangs")
            .unwrap();
        if let Err(failure) = result {
            assert!(
                matches!(
                    failure,
                    Failure::NoDrawsLeft | Failure::InsufficientCredits { .. }
                ),
                "{name}: call {n}: {failure:?}"
            );
        }
    }
}
