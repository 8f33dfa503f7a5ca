//! Dry runs: a draw evaluated on what the store holds, answering what the
//! draw would give or why it would be refused, and changing nothing.

use tombola_engine::store::Store;
use tombola_engine::{DrawRequest, DryRun, DryRunOptions, Engine, Failure};

use crate::helpers::{
    NOW, at, deployed, draw, draws_left, engine, per_store, stock_of, stocked, tallies,
};

fn request<'a>(user: &'a str, request_id: &'a str) -> DrawRequest<'a> {
    DrawRequest {
        campaign: "t",
        user,
        request_id,
        attributes: &[],
    }
}

async fn dry_run(engine: &Engine, user: &str, request_id: &str) -> DryRun {
    engine
        .dry_run_draw(
            &request(user, request_id),
            at(NOW),
            DryRunOptions::default(),
        )
        .await
        .unwrap()
}

/// Everything a draw could change, as the store holds it.
async fn state(engine: &Engine) -> ((i64, i64, i64, i64), Option<(i64, i64)>, i64) {
    (
        tallies(engine).await,
        stock_of(engine, "prize").await,
        draws_left(engine, "ann").await,
    )
}

per_store!(
    a_dry_run_tells_what_the_draw_gives_and_changes_nothing,
    worker_threads = 2
);
async fn a_dry_run_tells_what_the_draw_gives_and_changes_nothing(name: &str, store: Store) {
    // One prize in stock behind a stock node, else a credit; two free draws.
    let engine = engine(store).await;
    engine.deploy(&stocked(1, 2), None, at(NOW)).await.unwrap();
    for (id, award) in [("r1", "prize"), ("r2", "consolation")] {
        let before = state(&engine).await;
        let DryRun::Drawn(told) = dry_run(&engine, "ann", id).await else {
            panic!("{name}: {id} refused");
        };
        assert_eq!(told.award.id, award, "{name}: {id}");
        assert_eq!(
            state(&engine).await,
            before,
            "{name}: {id} changed the store"
        );
        // The draw itself, with the same request id and so the same seed, gives it.
        let drawn = draw(&engine, "ann", id).await.unwrap();
        assert_eq!(drawn, told, "{name}: {id}");
    }
    // Both free draws made: the dry run is refused as the draw would be.
    let before = state(&engine).await;
    let refused = dry_run(&engine, "ann", "r3").await;
    assert!(
        matches!(
            &refused,
            DryRun::Refused {
                refusal: Failure::NoDrawsLeft,
                version: 1,
                ..
            }
        ),
        "{name}: {refused:?}"
    );
    assert_eq!(state(&engine).await, before, "{name}");
    // The request ids of dry runs were never claimed: a draw may use one.
    assert!(draw(&engine, "bob", "r3").await.is_ok(), "{name}");
}

per_store!(
    a_dry_run_takes_a_seed_and_a_landing_and_refuses_a_closed_campaign,
    worker_threads = 2
);
async fn a_dry_run_takes_a_seed_and_a_landing_and_refuses_a_closed_campaign(
    name: &str,
    store: Store,
) {
    let engine = deployed(
        store,
        "allowance: 5\nawards:\n  gold: { kind: credits, amount: \"random(1, 1000)\" }\n  tin: { kind: none }\npool:\n  - { award: gold, rate: 10% }\n  - { award: tin, rate: 90% }\n",
    )
    .await;
    let with = |seed, lands_on| DryRunOptions {
        seed,
        lands_on,
        ..DryRunOptions::default()
    };
    let run = async |options: DryRunOptions<'_>| match engine
        .dry_run_draw(&request("ann", "x"), at(NOW), options)
        .await
    {
        Ok(DryRun::Drawn(outcome)) => outcome,
        other => panic!("{name}: {other:?}"),
    };
    let first = run(with(Some(42), Some("gold"))).await;
    let again = run(with(Some(42), Some("gold"))).await;
    assert_eq!(
        (first.seed, first.award.id.as_str()),
        (42, "gold"),
        "{name}"
    );
    assert_eq!(first, again, "{name}: one seed, one answer");
    let landing = engine
        .dry_run_draw(&request("ann", "x"), at(NOW), with(None, Some("silver")))
        .await;
    assert!(
        matches!(landing, Err(Failure::BadInput(_))),
        "{name}: {landing:?}"
    );

    engine
        .set_state("t", tombola_engine::store::CampaignState::Closed)
        .await
        .unwrap();
    let closed = dry_run(&engine, "ann", "y").await;
    assert!(
        matches!(
            closed,
            DryRun::Refused {
                refusal: Failure::NotOpen(_),
                ..
            }
        ),
        "{name}: {closed:?}"
    );
    let unknown = engine
        .dry_run_draw(
            &DrawRequest {
                campaign: "nope",
                ..request("ann", "z")
            },
            at(NOW),
            DryRunOptions::default(),
        )
        .await;
    assert!(
        matches!(unknown, Err(Failure::UnknownCampaign(_))),
        "{name}: {unknown:?}"
    );
}
