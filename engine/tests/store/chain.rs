//! The chain on stored counts: blacklists, weight tiers (exactly and at least) and rules.

use tombola_engine::store::Store;
use tombola_engine::store::prelude::*;

use crate::helpers::{deployed, draw, draw_as, per_store};

per_store!(the_chain_runs_on_stored_counts, worker_threads = 2);
async fn the_chain_runs_on_stored_counts(name: &str, store: Store) {
    let engine = deployed(
        store,
        "allowance: 10\ninputs: { user: { vip: bool } }\nawards:\n  common: { kind: none }\n  rare: { kind: none }\n  pinned: { kind: none }\n  vip_gift: { kind: credits, amount: 3 }\npool:\n  - { award: common, rate: 0.999 }\n  - { award: rare, rate: 0.001 }\nbefore:\n  - blacklist: { users: [mallory], give: pinned }\n  - weight: { mode: exactly, tiers: { 2: [rare] } }\n  - when: user.vip\n    give: vip_gift\n",
    )
    .await;
    assert_eq!(
        draw_as(&engine, "m1", "mallory", true).await.award.id,
        "pinned",
        "{name}: the blacklist comes first"
    );
    // The exactly-2 tier fires on the user's third draw (two made before it), once.
    let first = draw_as(&engine, "p1", "peggy", false).await;
    let second = draw_as(&engine, "p2", "peggy", false).await;
    let third = draw_as(&engine, "p3", "peggy", false).await;
    let fourth = draw_as(&engine, "p4", "peggy", true).await;
    assert_eq!(first.steps[1].outcome.name(), "no_tier", "{name}");
    assert_eq!(second.steps[1].read, Some(1));
    assert_eq!(
        third.award.id, "rare",
        "{name}: the one-shot guarantee at a score of 2"
    );
    assert_eq!(third.steps[1].outcome.name(), "tier");
    assert_eq!(
        fourth.award.id, "vip_gift",
        "{name}: past the tier, the `when` rule decides"
    );
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(tx.balance("peggy").await.unwrap(), 300, "{name}");
}

per_store!(
    at_least_tiers_below_the_lowest_and_renormalised_on_stored_counts,
    worker_threads = 2
);
async fn at_least_tiers_below_the_lowest_and_renormalised_on_stored_counts(
    name: &str,
    store: Store,
) {
    // Tier 2 lists two pool awards (their 0.3 : 0.1 pool rates renormalised to 3 : 1);
    // tier 4 states its own rates.
    let engine = deployed(
        store,
        "allowance: 20\nawards:\n  a: { kind: none }\n  b: { kind: none }\n  c: { kind: none }\npool:\n  - { award: a, rate: 0.6 }\n  - { award: b, rate: 0.3 }\n  - { award: c, rate: 0.1 }\nbefore:\n  - weight: { tiers: { 2: [b, c], 4: { c: 100% } } }\n",
    )
    .await;
    let mut by_draw = Vec::new();
    for i in 0..12 {
        let response = draw(&engine, "rita", &format!("r{i}")).await.unwrap();
        by_draw.push((
            response.steps[0].outcome.name().to_string(),
            response.steps[0].read,
            response.award.id,
        ));
    }
    // Draws 1 and 2 see scores 0 and 1: below the lowest threshold, the whole pool draws.
    assert_eq!(
        (by_draw[0].0.as_str(), by_draw[0].1),
        ("no_tier", Some(0)),
        "{name}"
    );
    assert_eq!(by_draw[1].0, "no_tier", "{name}");
    // Scores 2 and 3 use tier 2 (at least 2): only b or c.
    for (outcome, _, award) in &by_draw[2..4] {
        assert_eq!(outcome, "tier", "{name}");
        assert!(
            award == "b" || award == "c",
            "{name}: {award} is not in tier 2"
        );
    }
    // Scores 4 and up use the highest threshold at or below them: tier 4, only c.
    for (outcome, _, award) in &by_draw[4..] {
        assert_eq!((outcome.as_str(), award.as_str()), ("tier", "c"), "{name}");
    }
}
