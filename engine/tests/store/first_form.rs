//! Requests stored by the first release — its body hash, its answer in the
//! API's JSON of the day — still replay after the upgrade, and still conflict
//! with another body.

use sha2::{Digest, Sha256};
use tombola_engine::store::prelude::*;
use tombola_engine::store::{Claim, RequestKey, Store};
use tombola_engine::{Failure, Outcome, StepAt};

use crate::helpers::{NOW, at, campaign, draw, engine, per_store};

/// A draw answer exactly as the first release stored it.
const FIRST_ANSWER: &str = r#"{"campaign":"t","version":1,"request_id":"old-1","user":"olga","award":{"id":"points","kind":"credits","title":null,"amount":"12.5"},"steps":[{"at":"rule:weight","outcome":"tier","read":3,"inputs":[["user.draws.total","3"]]},{"at":"draw:points","outcome":"drawn","read":null},{"at":"issue:points","outcome":"issued","read":null}],"left":{"draws":4,"today":null,"month":null,"total":null},"seed":42}"#;

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

per_store!(
    a_draw_stored_by_the_first_release_replays,
    worker_threads = 1
);
async fn a_draw_stored_by_the_first_release_replays(name: &str, store: Store) {
    let engine = engine(store).await;
    let source = campaign(
        "allowance: 5\nawards:\n  points: { kind: credits, amount: 12.5 }\npool:\n  - { award: points, rate: 1 }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    // The first release hashed a draw's body as this JSON.
    let attributes: Vec<(String, String)> = Vec::new();
    let first_hash = hex(
        serde_json::json!({ "user": "olga", "attributes": attributes })
            .to_string()
            .as_bytes(),
    );
    // Stored the way the first release stored it: its hash, its answer's JSON.
    let key = RequestKey {
        scope: "draw/t",
        campaign: None,
        id: "old-1",
        body_hash: &first_hash,
        first_hash: &first_hash,
        at: 0,
        debit: None,
    };
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert!(matches!(tx.claim(&key).await.unwrap(), Claim::New));
    tx.answer(&key, FIRST_ANSWER).await.unwrap();
    tx.commit().await.unwrap();

    let replay = draw(&engine, "olga", "old-1").await.unwrap();
    assert_eq!(replay.seed, 42, "{name}: the stored answer, not a new draw");
    assert_eq!(replay.award.amount, Some("12.5".parse().unwrap()));
    assert_eq!(replay.left.draws, 4);
    assert_eq!(
        replay.steps[0].at,
        StepAt::Rule {
            rule: "weight".into()
        }
    );
    assert_eq!(replay.steps[0].outcome, Outcome::Tier);
    assert_eq!(replay.steps[0].tier, None, "the first form kept no tier");
    assert_eq!(replay.steps[0].inputs[0].name, "user.draws.total");
    let status = engine.user_status("t", "olga", at(NOW)).await.unwrap();
    assert_eq!(status.draws_made, 0, "{name}: the replay drew nothing");

    // Another body under the same request id is still refused.
    assert!(matches!(
        draw(&engine, "oscar", "old-1").await,
        Err(Failure::RequestConflict(_))
    ));
    // And a draw made now replays under the new form.
    let fresh = draw(&engine, "olga", "new-1").await.unwrap();
    assert_eq!(draw(&engine, "olga", "new-1").await.unwrap(), fresh);
}
