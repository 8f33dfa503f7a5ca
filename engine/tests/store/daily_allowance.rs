//! A daily allowance: free draws that come back each day in the campaign's
//! zone, used before granted draws, and debited in the draw's statement.

use std::sync::Arc;

use tombola_engine::store::Store;
use tombola_engine::{DrawOutcome, DrawRequest, Engine, Failure};

use crate::helpers::{at, campaign, deployed, per_store};

/// Two free draws a day; a user's first draw ever grants three more.
const DAILY: &str = "allowance: { per_day: 2 }\nawards:\n  more: { kind: draws, amount: 3 }\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nbefore:\n  - when: user.draws.total == 0\n    give: more\n";

/// A draw of `fay` in campaign `t` at `when`.
async fn draw_at(engine: &Engine, id: &str, when: &str) -> Result<DrawOutcome, Failure> {
    let request = DrawRequest {
        campaign: "t",
        user: "fay",
        request_id: id,
        attributes: &[],
    };
    engine.draw(&request, at(when)).await
}

per_store!(
    free_draws_come_back_each_day_and_go_before_granted_ones,
    worker_threads = 2
);
async fn free_draws_come_back_each_day_and_go_before_granted_ones(name: &str, store: Store) {
    let engine = deployed(store, DAILY).await;
    // Day one (Shanghai): two free draws, the first granting three; then the grants.
    let mut left = Vec::new();
    for id in ["a", "b", "c", "d", "e"] {
        let answer = draw_at(&engine, id, "2026-03-04T02:00:00Z").await.unwrap();
        left.push(answer.left.draws);
    }
    assert_eq!(
        left,
        [4, 3, 2, 1, 0],
        "{name}: free draws first, then grants"
    );
    let refused = draw_at(&engine, "f", "2026-03-04T03:00:00Z").await;
    assert!(
        matches!(refused, Err(Failure::NoDrawsLeft)),
        "{name}: {refused:?}"
    );
    let standing = engine
        .user_status("t", "fay", at("2026-03-04T03:00:00Z"))
        .await
        .unwrap();
    assert_eq!((standing.draws_made, standing.draws_left), (5, 0), "{name}");

    // 00:30 in Shanghai is the next day: two free draws again, nothing carried over.
    let next_day = "2026-03-04T16:30:00Z";
    let standing = engine.user_status("t", "fay", at(next_day)).await.unwrap();
    assert_eq!(standing.draws_left, 2, "{name}: today's free draws");
    draw_at(&engine, "g", next_day).await.unwrap();
    let last = draw_at(&engine, "h", next_day).await.unwrap();
    assert_eq!(last.left.draws, 0, "{name}");
    let refused = draw_at(&engine, "i", next_day).await;
    assert!(
        matches!(refused, Err(Failure::NoDrawsLeft)),
        "{name}: {refused:?}"
    );
}

per_store!(
    concurrent_draws_take_exactly_the_days_free_draws,
    worker_threads = 4
);
async fn concurrent_draws_take_exactly_the_days_free_draws(name: &str, store: Store) {
    let engine = Arc::new(
        deployed(
            store,
            "allowance: { per_day: 3 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        )
        .await,
    );
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let request_id = format!("r{i}");
                let request = DrawRequest {
                    campaign: "t",
                    user: "gus",
                    request_id: &request_id,
                    attributes: &[],
                };
                engine.draw(&request, at("2026-03-04T02:00:00Z")).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Failure::NoDrawsLeft) => {}
            Err(other) => panic!("{name}: {other}"),
        }
    }
    assert_eq!(ok, 3, "{name}: the day's free draws and no more");
}

per_store!(
    moving_from_a_daily_to_a_campaign_allowance_keeps_unused_grants,
    worker_threads = 2
);
async fn moving_from_a_daily_to_a_campaign_allowance_keeps_unused_grants(name: &str, store: Store) {
    let engine = deployed(store, DAILY).await;
    // Day one: two free draws (the first grants three), then one grant; day
    // two: two free draws. Five made, two grants not used.
    for id in ["a", "b", "c"] {
        draw_at(&engine, id, "2026-03-04T02:00:00Z").await.unwrap();
    }
    for id in ["d", "e"] {
        draw_at(&engine, id, "2026-03-05T02:00:00Z").await.unwrap();
    }
    let plain = DAILY.replace("allowance: { per_day: 2 }", "allowance: 2");
    engine
        .deploy(&campaign(&plain), None, at("2026-03-05T03:00:00Z"))
        .await
        .unwrap();
    // The campaign's two free draws were used (four draws used no grant).
    let standing = engine
        .user_status("t", "fay", at("2026-03-06T02:00:00Z"))
        .await
        .unwrap();
    assert_eq!(standing.draws_left, 2, "{name}: the grants not used");
    for id in ["f", "g"] {
        draw_at(&engine, id, "2026-03-06T02:00:00Z").await.unwrap();
    }
    let refused = draw_at(&engine, "h", "2026-03-06T02:00:00Z").await;
    assert!(
        matches!(refused, Err(Failure::NoDrawsLeft)),
        "{name}: {refused:?}"
    );
}
