//! What the store shows: prize lists, tier progress, statistics, history pages and API keys.

use tombola_engine::Failure;
use tombola_engine::store::Store;
use tombola_engine::store::prelude::*;

use crate::helpers::{NOW, at, campaign, draw, engine, per_store};

per_store!(
    prize_lists_tiers_statistics_and_history_read_the_store,
    worker_threads = 4
);
async fn prize_lists_tiers_statistics_and_history_read_the_store(name: &str, store: Store) {
    let engine = engine(store).await;
    let source = campaign(
        "allowance: 5\nawards:\n  prize: { kind: draws, amount: 1 }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 0.5, stock: 1, tree: t }\n  - { award: luck, rate: 0.5 }\nbefore:\n  - weight:\n      score: user.draws.total\n      tiers:\n        2: [prize, luck]\n        4: [luck]\ntrees:\n  t:\n    - gate: { after: 2, per: day, locked: consolation }\n    - stock: { exhausted: consolation }\n    - consolation: { fallback: luck }\n",
    );
    engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();

    let prizes = engine.prize_list("t", "ann", at(NOW)).await.unwrap();
    let prize = &prizes.awards[0];
    assert_eq!(prize.award, "prize", "{name}");
    assert_eq!(prize.state, tombola_engine::PrizeState::Locked, "{name}");
    assert_eq!(prize.draws_to_unlock, 2, "{name}");
    assert_eq!(prize.locks[0].node, "t/gate", "{name}");
    assert_eq!(prize.remaining, Some(1), "{name}");
    assert_eq!(
        prizes.awards[1].state,
        tombola_engine::PrizeState::Available
    );

    let tiers = engine.tier_progress("t", "ann", at(NOW)).await.unwrap();
    let rule = &tiers.rules[0];
    assert_eq!(
        (rule.value, rule.current, rule.next, rule.to_next),
        (Some(0), None, Some(2), Some(2)),
        "{name}: below the lowest tier"
    );
    assert_eq!(
        rule.tiers[0].awards["prize"].normalize().to_string(),
        "0.5",
        "{name}"
    );

    for n in 0..3 {
        draw(&engine, "ann", &format!("r{n}")).await.unwrap();
    }
    let prizes = engine.prize_list("t", "ann", at(NOW)).await.unwrap();
    assert_eq!(prizes.made_today, 3, "{name}");
    assert_ne!(
        prizes.awards[0].state,
        tombola_engine::PrizeState::Locked,
        "{name}: open after 2 draws today"
    );
    assert_eq!(prizes.awards[0].draws_to_unlock, 0, "{name}");
    let tomorrow = engine
        .prize_list("t", "ann", at("2026-03-05T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        tomorrow.awards[0].draws_to_unlock, 2,
        "{name}: a daily lock closes again the next day"
    );
    let tiers = engine.tier_progress("t", "ann", at(NOW)).await.unwrap();
    let rule = &tiers.rules[0];
    assert_eq!(
        (rule.value, rule.current, rule.next, rule.to_next),
        (Some(3), Some(2), Some(4), Some(1)),
        "{name}"
    );

    let stats = engine.stats("t").await.unwrap();
    assert_eq!(stats.draws, 3, "{name}");
    let issued: i64 = stats.awards.iter().map(|a| a.issued).sum();
    assert_eq!(issued, 3, "{name}");
    assert_eq!(stats.days.len(), 1, "{name}");
    assert_eq!(stats.days[0].day, "2026-03-04", "{name}: Shanghai day");
    assert_eq!(stats.days[0].draws, 3, "{name}");
    let stock = stats.awards[0].stock.as_ref().unwrap();
    assert_eq!(stock.declared, 1, "{name}");
    assert_eq!(stock.remaining + stock.issued, 1, "{name}");
    assert_eq!(stats.awards[1].stock, None, "{name}");

    // Three draws at one instant: the cursor breaks the tie by request id.
    let first = engine.history("t", "ann", None, 2).await.unwrap();
    let ids: Vec<_> = first.draws.iter().map(|d| d.request_id.as_str()).collect();
    assert_eq!(ids, ["r2", "r1"], "{name}: newest first");
    let cursor = first.next_cursor.expect("a second page");
    let second = engine.history("t", "ann", Some(&cursor), 2).await.unwrap();
    let ids: Vec<_> = second.draws.iter().map(|d| d.request_id.as_str()).collect();
    assert_eq!(ids, ["r0"], "{name}");
    assert_eq!(second.next_cursor, None, "{name}: the last page");
    assert!(
        engine
            .history("t", "bob", None, 10)
            .await
            .unwrap()
            .draws
            .is_empty()
    );
    assert!(matches!(
        engine.history("t", "ann", Some("nonsense"), 2).await,
        Err(Failure::BadInput(_))
    ));
}

per_store!(
    prize_lists_of_long_condition_chains_stay_linear_and_other_servers_see_deploys,
    worker_threads = 4
);
async fn prize_lists_of_long_condition_chains_stay_linear_and_other_servers_see_deploys(
    name: &str,
    store: Store,
) {
    let mut nodes = String::new();
    for n in 0..40 {
        nodes.push_str(&format!(
            "    - c{n}: {{ if: \"user.draws.total >= 0\", else: c{} }}\n",
            n + 1
        ));
    }
    nodes.push_str("    - c40: { if: \"user.draws.total >= 0\", else: luck }\n    - stock: { exhausted: luck }\n    - luck: { fallback: points }\n");
    let source = campaign(&format!(
        "allowance: 1\nawards:\n  prize: {{ kind: draws, amount: 1 }}\n  points: {{ kind: credits, amount: 1 }}\npool:\n  - {{ award: prize, rate: 1, stock: 5, tree: t }}\ntrees:\n  t:\n{nodes}"
    ));
    let first = engine(store.clone()).await;
    // A second engine on the same store: another server that did not deploy.
    let second = engine(store).await;
    first.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    // 41 chained conditions: a walk that tried every path would take 2^41 steps.
    let prizes = second.prize_list("t", "ann", at(NOW)).await.unwrap();
    assert_eq!(prizes.awards[0].conditions.len(), 41, "{name}");
    assert!(second.stats("t").await.is_ok(), "{name}");
}

per_store!(api_keys_are_stored_hashed_and_revocable, worker_threads = 4);
async fn api_keys_are_stored_hashed_and_revocable(name: &str, store: Store) {
    let engine = engine(store).await;
    let created = engine.create_api_key("backend", at(NOW)).await.unwrap();
    assert!(created.key.starts_with("tbk_"), "{name}");
    assert_eq!(
        engine.verify_api_key(&created.key).await.unwrap(),
        Some(created.info.id.clone()),
        "{name}"
    );
    assert_eq!(engine.verify_api_key("tbk_wrong").await.unwrap(), None);
    let listed = engine.api_keys().await.unwrap();
    assert_eq!(listed.len(), 1, "{name}");
    assert_eq!(listed[0].name, "backend", "{name}");
    let mut tx = engine.store_for_tests().read().await.unwrap();
    let stored = tx.api_keys().await.unwrap();
    drop(tx);
    assert_ne!(
        stored[0].sha256, created.key,
        "{name}: never the key itself"
    );
    assert_eq!(stored[0].sha256, tombola_engine::key_hash(&created.key));

    assert!(
        engine
            .revoke_api_key(&created.info.id, at(NOW))
            .await
            .unwrap()
    );
    assert_eq!(
        engine.verify_api_key(&created.key).await.unwrap(),
        None,
        "{name}"
    );
    assert!(engine.api_keys().await.unwrap()[0].revoked_at.is_some());
    assert!(
        !engine.revoke_api_key("nope", at(NOW)).await.unwrap(),
        "{name}"
    );
}
