//! Deploys: redeploys keep what was issued, and every server runs the version the
//! store holds.

use tombola_engine::Failure;
use tombola_engine::store::prelude::*;
use tombola_engine::store::{CampaignState, Store};

use crate::helpers::{
    self, NOW, at, campaign, draw, engine, per_store, sku_request, stock_of, stocked,
};

per_store!(
    redeploys_keep_what_was_issued_and_unchanged_content_is_a_no_op,
    worker_threads = 2
);
async fn redeploys_keep_what_was_issued_and_unchanged_content_is_a_no_op(name: &str, store: Store) {
    let store_for_restart = store.clone();
    let engine = engine(store).await;
    engine.deploy(&stocked(10, 5), None, at(NOW)).await.unwrap();
    let again = engine.deploy(&stocked(10, 5), None, at(NOW)).await.unwrap();
    assert_eq!((again.version, again.changed), (1, false), "{name}");
    for i in 0..4 {
        draw(&engine, "mia", &format!("r{i}")).await.unwrap();
    }
    // Declared stock 10 → 7: what is left drops by 3 (6 → 3), what was issued stays 4.
    let v2 = engine.deploy(&stocked(7, 5), None, at(NOW)).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(stock_of(&engine, "prize").await, Some((3, 4)), "{name}");
    // Declared stock 2: never below zero.
    engine.deploy(&stocked(2, 5), None, at(NOW)).await.unwrap();
    assert_eq!(stock_of(&engine, "prize").await, Some((0, 4)), "{name}");
    // The open/closed state belongs to the store after the first deploy.
    engine.set_state("t", CampaignState::Closed).await.unwrap();
    engine.deploy(&stocked(3, 5), None, at(NOW)).await.unwrap();
    assert!(
        matches!(
            draw(&engine, "mia", "after-close").await,
            Err(Failure::NotOpen(_))
        ),
        "{name}: a redeploy does not reopen"
    );
    // A restart recompiles the stored current version.
    let restarted = helpers::engine(store_for_restart).await;
    assert_eq!(restarted.campaign("t").unwrap().version, 4, "{name}");
    assert!(matches!(
        restarted.deploy("campaign: t\n", None, at(NOW)).await,
        Err(tombola_engine::DeployError::Invalid(_))
    ));
}

per_store!(
    a_server_runs_the_version_the_store_holds,
    worker_threads = 2
);
async fn a_server_runs_the_version_the_store_holds(name: &str, store: Store) {
    // Two engines on one store: two servers on one database.
    let a = engine(store.clone()).await;
    let b = engine(store).await;
    a.deploy(&stocked(5, 9), None, at(NOW)).await.unwrap();
    draw(&b, "quinn", "r1").await.unwrap();
    // A deploys version 2 with different stock; B must not keep running version 1.
    a.deploy(&stocked(1, 9), None, at(NOW)).await.unwrap();
    let response = draw(&b, "quinn", "r2").await.unwrap();
    assert_eq!(response.version, 2, "{name}");
    assert_eq!(b.campaign("t").unwrap().version, 2, "{name}");
    // Grants obey the campaign's state too.
    a.set_state("t", CampaignState::Closed).await.unwrap();
    let source = campaign(
        "allowance: 0\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nskus:\n  pack: { draws: 1 }\n",
    );
    a.deploy(&source, None, at(NOW)).await.unwrap();
    assert!(
        matches!(
            b.grant(&sku_request("quinn", "pack", "g1"), at(NOW)).await,
            Err(Failure::NotOpen(_))
        ),
        "{name}"
    );
}

per_store!(
    every_deployed_version_stays_readable_by_number,
    worker_threads = 2
);
/// A server that read the campaign at version 1 while another deployed version 2
/// still finds version 1's source: it runs the version its transaction saw.
async fn every_deployed_version_stays_readable_by_number(name: &str, store: Store) {
    let engine = engine(store).await;
    engine.deploy(&stocked(10, 5), None, at(NOW)).await.unwrap();
    engine.deploy(&stocked(7, 5), None, at(NOW)).await.unwrap();
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    let first = tx.version("t", 1).await.unwrap().expect("version 1");
    assert_eq!(first.version, 1, "{name}");
    assert_eq!(first.source, stocked(10, 5), "{name}");
    assert_eq!(
        tx.version("t", 2).await.unwrap().unwrap().source,
        stocked(7, 5),
        "{name}"
    );
    assert_eq!(tx.version("t", 3).await.unwrap(), None, "{name}");
}
