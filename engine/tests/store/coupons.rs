//! Coupon codes: uploaded once, issued once each, an empty pool routed like sold out.

use std::sync::Arc;

use tombola_engine::store::Store;

use crate::helpers::{NOW, at, campaign, draw, engine, per_store};

per_store!(
    coupon_codes_are_issued_once_and_an_empty_pool_routes_like_sold_out,
    worker_threads = 4
);
async fn coupon_codes_are_issued_once_and_an_empty_pool_routes_like_sold_out(
    name: &str,
    store: Store,
) {
    let source = campaign(
        "allowance: 100\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  coupon: { kind: coupon }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: coupon, rate: 1, tree: t }\ntrees:\n  t:\n    - codes: { exhausted: luck }\n    - luck: { fallback: luck }\n",
    );
    let engine = Arc::new(engine(store).await);
    engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    let before = draw(&engine, "ann", "r0").await.unwrap();
    assert_eq!(
        before.award.id, "luck",
        "{name}: no codes yet, so exhausted"
    );
    let codes: Vec<String> = (0..5).map(|n| format!("CODE-{n}")).collect();
    let (added, left) = engine.upload_codes("t", "coupon", &codes).await.unwrap();
    assert_eq!((added, left), (5, 5), "{name}");
    let (added, left) = engine
        .upload_codes("t", "coupon", &codes[..2])
        .await
        .unwrap();
    assert_eq!((added, left), (0, 5), "{name}: duplicates are skipped");
    assert!(
        engine.upload_codes("t", "luck", &codes).await.is_err(),
        "{name}: not a coupon"
    );

    let mut tasks = Vec::new();
    for n in 0..8 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            draw(&engine, &format!("u{n}"), &format!("c{n}"))
                .await
                .unwrap()
        }));
    }
    let mut issued = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.award.id == "coupon" {
            issued.push(
                answer
                    .award
                    .code
                    .clone()
                    .expect("a coupon carries its code"),
            );
        } else {
            assert_eq!(answer.award.code, None);
        }
    }
    issued.sort();
    assert_eq!(issued, codes, "{name}: each code exactly once");
    let stats = engine.stats("t").await.unwrap();
    assert_eq!(
        stats.awards[0].stock.as_ref().unwrap().remaining,
        0,
        "{name}"
    );
    assert_eq!(
        engine.issued_code("t", "c0").await.unwrap().is_some(),
        issued.len() == 5
            && engine
                .stored_draw("t", "c0")
                .await
                .unwrap()
                .unwrap()
                .award
                .id
                == "coupon",
        "{name}"
    );
}
