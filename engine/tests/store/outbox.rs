//! The outbox: dispatchers' leases, tasks from rebates, and retention.

use std::sync::Arc;

use tombola_engine::store::Store;

use crate::helpers::{NOW, at, campaign, draw, draws_left, engine, event, per_store};

per_store!(
    two_dispatchers_never_lease_one_task_at_once_and_leases_expire,
    worker_threads = 4
);
async fn two_dispatchers_never_lease_one_task_at_once_and_leases_expire(name: &str, store: Store) {
    use std::time::Duration;
    use tombola_engine::store::Attempt;
    let source = campaign(
        "allowance: 100\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  mug: { kind: item }\npool:\n  - { award: mug, rate: 1 }\n",
    );
    let first = Arc::new(engine(store.clone()).await);
    let second = Arc::new(engine(store).await);
    first.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    for n in 0..40 {
        draw(&first, &format!("u{n}"), &format!("r{n}"))
            .await
            .unwrap();
    }
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(60);
    let (a, b) = tokio::join!(
        {
            let e = first.clone();
            async move { e.lease_deliveries(now, lease, 30).await.unwrap() }
        },
        {
            let e = second.clone();
            async move { e.lease_deliveries(now, lease, 30).await.unwrap() }
        }
    );
    let mut ids: Vec<i64> = a.iter().chain(&b).map(|d| d.id).collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "{name}: a task leased twice");
    assert!(total >= 30, "{name}: {total}");
    // Everything leased now: nothing more is due until a lease ends.
    let rest = second.lease_deliveries(now, lease, 100).await.unwrap();
    assert_eq!(total + rest.len(), 40, "{name}");
    assert!(
        second
            .lease_deliveries(now, lease, 100)
            .await
            .unwrap()
            .is_empty(),
        "{name}"
    );
    // A dispatcher that died: its tasks are due again after the lease.
    let later = now + chrono::Duration::seconds(61);
    let again = first.lease_deliveries(later, lease, 100).await.unwrap();
    assert_eq!(again.len(), 40, "{name}: expired leases come back");
    assert!(
        first
            .finish_delivery(
                again[0].id,
                Attempt::Delivered {
                    at: later.timestamp_micros()
                }
            )
            .await
            .unwrap()
    );
    assert!(
        !first
            .finish_delivery(
                again[0].id,
                Attempt::Delivered {
                    at: later.timestamp_micros()
                }
            )
            .await
            .unwrap(),
        "{name}: a finished task is not leased"
    );
}

per_store!(
    a_rebate_can_give_an_award_and_retention_purges_old_records,
    worker_threads = 4
);
async fn a_rebate_can_give_an_award_and_retention_purges_old_records(name: &str, store: Store) {
    let source = campaign(
        "allowance: 1\ninputs: { events: { sign_in: {} } }\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  mug: { kind: item }\n  bonus: { kind: draws, amount: 2 }\npool:\n  - { award: bonus, rate: 1 }\nrebates:\n  - id: welcome\n    on: sign_in\n    once: ever\n    give: [ { award: mug }, { award: bonus } ]\n",
    );
    let engine = engine(store).await;
    engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    let answer = event(&engine, "ann", "sign_in", "w1", &[], NOW)
        .await
        .unwrap();
    let kinds: Vec<_> = answer.rebates[0]
        .actions
        .iter()
        .map(|a| a.id().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["mug", "bonus"], "{name}");
    assert_eq!(draws_left(&engine, "ann").await, 3, "{name}: 1 + 2 draws");
    let tasks = engine.deliveries(None, 10).await.unwrap();
    assert_eq!(tasks.len(), 1, "{name}: the mug goes to the outbox");
    assert_eq!(tasks[0].request_id, "w1/welcome");

    // Retention: a delivered task older than the cut-off goes; a pending one stays.
    let now = chrono::Utc::now();
    let leased = engine
        .lease_deliveries(now, std::time::Duration::from_secs(60), 10)
        .await
        .unwrap();
    engine
        .finish_delivery(
            leased[0].id,
            tombola_engine::store::Attempt::Delivered {
                at: now.timestamp_micros(),
            },
        )
        .await
        .unwrap();
    let (records, tasks) = engine
        .purge(now - chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(tasks, 0, "{name}: delivered after the cut-off");
    if name != "memory" {
        // The event was recorded at NOW, in March: long before the cut-off.
        assert!(records >= 1, "{name}: old idempotency records go");
    }
    let (_, tasks) = engine
        .purge(now + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(tasks, 1, "{name}");
    assert!(
        engine.deliveries(None, 10).await.unwrap().is_empty(),
        "{name}"
    );
}
