//! An award's stock in slices: concurrent draws of one award do not wait on one
//! another's row, a draw whose slices are all held waits and passes over the
//! ones their holders emptied, and a few units among many draws go out once each.

use std::sync::Arc;
use std::time::Duration;

use tombola_engine::store::Store;
use tombola_engine::store::prelude::*;

use crate::helpers::{self, NOW, at, draw, engine, per_store, stock_of_in, stocked};

/// Two transactions each take a unit of the one award while neither has
/// committed: on PostgreSQL they hold different rows. (SQLite's one writer and
/// the memory store make every write exclusive, so there is nothing to test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_open_draws_of_one_award_take_different_slices() {
    let Some(store) = helpers::postgres().await else {
        return;
    };
    let engine = engine(store).await;
    engine
        .deploy(&stocked(100, 3), None, at(NOW))
        .await
        .unwrap();
    let store = engine.store_for_tests();
    let mut first = store.begin().await.unwrap();
    let one = first.take_award_stock("t", "prize").await.unwrap();
    let mut second = store.begin().await.unwrap();
    let two = tokio::time::timeout(
        Duration::from_secs(5),
        second.take_award_stock("t", "prize"),
    )
    .await
    .expect("the second take waited for the first's row")
    .unwrap();
    assert!(one.is_some() && two.is_some());
    assert_ne!(one, two, "each took its own slice");
    first.commit().await.unwrap();
    second.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(stock_of_in(&mut tx, "prize").await, Some((98, 2)));
}

/// Stock 2 (two slices of one): a third take finds both held and waits; the first
/// holder commits its slice empty, so the third passes over it to the second's,
/// which comes back when the second rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_take_waits_for_held_slices_and_passes_over_emptied_ones() {
    let Some(store) = helpers::postgres().await else {
        return;
    };
    let engine = engine(store).await;
    engine.deploy(&stocked(2, 3), None, at(NOW)).await.unwrap();
    let store = engine.store_for_tests();
    let mut first = store.begin().await.unwrap();
    let mut second = store.begin().await.unwrap();
    for tx in [&mut first, &mut second] {
        let taken = tokio::time::timeout(Duration::from_secs(5), tx.take_award_stock("t", "prize"))
            .await
            .expect("a take waited though a slice was free");
        assert!(taken.unwrap().is_some());
    }
    let third = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut third = store.begin().await.unwrap();
            let taken = third.take_award_stock("t", "prize").await.unwrap();
            third.commit().await.unwrap();
            taken
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "the third take waits for a held slice"
    );
    first.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "the first's slice is empty: the third waits on the second's"
    );
    drop(second);
    let taken = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("the third take ends once the second rolls back")
        .unwrap();
    assert!(taken.is_some(), "the unit the second gave back is taken");
    let mut tx = store.begin().await.unwrap();
    assert_eq!(stock_of_in(&mut tx, "prize").await, Some((0, 2)));
}

per_store!(
    three_units_among_forty_concurrent_draws_go_out_once_each,
    worker_threads = 4
);
async fn three_units_among_forty_concurrent_draws_go_out_once_each(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    engine.deploy(&stocked(3, 1), None, at(NOW)).await.unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|task| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let answer = draw(&engine, &format!("user{task}"), &format!("r{task}"))
                    .await
                    .unwrap();
                answer.award.id == "prize"
            })
        })
        .collect();
    let mut issued = 0;
    for task in tasks {
        issued += usize::from(task.await.unwrap());
    }
    assert_eq!(issued, 3, "{name}: each unit once, the rest fall back");
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(stock_of_in(&mut tx, "prize").await, Some((0, 3)), "{name}");
}

per_store!(
    redeclared_stock_keeps_its_totals_across_slices,
    worker_threads = 2
);
async fn redeclared_stock_keeps_its_totals_across_slices(name: &str, store: Store) {
    let engine = engine(store).await;
    engine
        .deploy(&stocked(100, 50), None, at(NOW))
        .await
        .unwrap();
    for i in 0..40 {
        draw(&engine, "mia", &format!("r{i}")).await.unwrap();
    }
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(
        stock_of_in(&mut tx, "prize").await,
        Some((60, 40)),
        "{name}"
    );
    tx.commit().await.unwrap();
    // 100 → 1,000: what is left moves by the change, spread afresh; what went out stays.
    engine
        .deploy(&stocked(1000, 50), None, at(NOW))
        .await
        .unwrap();
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(
        stock_of_in(&mut tx, "prize").await,
        Some((960, 40)),
        "{name}"
    );
    tx.commit().await.unwrap();
    for i in 40..50 {
        draw(&engine, "mia", &format!("r{i}")).await.unwrap();
    }
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(
        stock_of_in(&mut tx, "prize").await,
        Some((950, 50)),
        "{name}"
    );
}

per_store!(
    lowered_then_raised_stock_never_issues_more_than_declared,
    worker_threads = 2
);
async fn lowered_then_raised_stock_never_issues_more_than_declared(name: &str, store: Store) {
    let engine = engine(store).await;
    engine
        .deploy(&stocked(10, 50), None, at(NOW))
        .await
        .unwrap();
    for i in 0..8 {
        draw(&engine, "mia", &format!("r{i}")).await.unwrap();
    }
    // 10 → 5 (below the 8 issued): nothing left; 5 → 10: only the 2 never issued.
    engine.deploy(&stocked(5, 50), None, at(NOW)).await.unwrap();
    engine
        .deploy(&stocked(10, 50), None, at(NOW))
        .await
        .unwrap();
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(stock_of_in(&mut tx, "prize").await, Some((2, 8)), "{name}");
}
