//! Dry runs of an edited file, not deployed, and from starting counts and a
//! balance given in place of the store's: the edit runs over what the store
//! holds, and nothing changes.

use rust_decimal::Decimal;
use tombola_engine::store::Store;
use tombola_engine::store::prelude::*;
use tombola_engine::{DrawRequest, DryRun, DryRunOptions, Engine, Failure, StartingCounts};
use tombola_ir::Campaign;

use crate::helpers::{NOW, at, campaign, draw, engine, per_store, stock_of, stocked, tallies};

fn compiled(source: &str) -> Campaign {
    let report = tombola_dsl::check_source(source);
    report.campaign.expect("the test's campaign compiles")
}

async fn dry_run(engine: &Engine, user: &str, options: DryRunOptions<'_>) -> DryRun {
    let request = DrawRequest {
        campaign: "t",
        user,
        request_id: "dry",
        attributes: &[],
    };
    engine
        .dry_run_draw(&request, at(NOW), options)
        .await
        .unwrap()
}

/// A user's draws left, while campaign `t` is deployed.
async fn draws_left(engine: &Engine, user: &str) -> Option<i64> {
    let status = engine.user_status("t", user, at(NOW)).await;
    status.ok().map(|status| status.draws_left)
}

fn award(dry_run: &DryRun) -> &str {
    match dry_run {
        DryRun::Drawn(outcome) => &outcome.award.id,
        DryRun::Refused { refusal, .. } => refusal.code(),
    }
}

/// Everything a draw could change, as the store holds it, for users ann and bob.
async fn state(engine: &Engine) -> impl PartialEq + std::fmt::Debug {
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    let balances = (
        tx.balance("ann").await.unwrap(),
        tx.balance("bob").await.unwrap(),
    );
    drop(tx);
    (
        tallies(engine).await,
        stock_of(engine, "prize").await,
        draws_left(engine, "ann").await,
        draws_left(engine, "bob").await,
        balances,
        engine.campaigns().await.unwrap().len(),
    )
}

per_store!(
    an_edited_file_runs_over_the_stored_stock_and_changes_nothing,
    worker_threads = 2
);
async fn an_edited_file_runs_over_the_stored_stock_and_changes_nothing(name: &str, store: Store) {
    // One prize declared and drawn: the live version has none left.
    let engine = engine(store).await;
    engine.deploy(&stocked(1, 2), None, at(NOW)).await.unwrap();
    assert_eq!(draw(&engine, "ann", "r1").await.unwrap().award.id, "prize");
    let before = state(&engine).await;
    let live = dry_run(&engine, "bob", DryRunOptions::default()).await;
    assert_eq!(award(&live), "consolation", "{name}");
    // Declaring three would leave two: the edit gives the prize.
    let edited = compiled(&stocked(3, 2));
    let options = DryRunOptions {
        campaign: Some(&edited),
        ..DryRunOptions::default()
    };
    let DryRun::Drawn(told) = dry_run(&engine, "bob", options).await else {
        panic!("{name}: refused");
    };
    assert_eq!(
        (told.award.id.as_str(), told.version),
        ("prize", 1),
        "{name}"
    );
    // The same over an edit declaring as many as were issued: none left.
    let same = compiled(&stocked(1, 2));
    let options = DryRunOptions {
        campaign: Some(&same),
        ..DryRunOptions::default()
    };
    assert_eq!(
        award(&dry_run(&engine, "bob", options).await),
        "consolation"
    );
    assert_eq!(state(&engine).await, before, "{name}: the store changed");
    // The live version is still the one deployed.
    assert_eq!(engine.resolve("t").await.unwrap().version, 1, "{name}");
}

per_store!(
    an_edited_file_of_a_campaign_never_deployed_starts_full,
    worker_threads = 2
);
async fn an_edited_file_of_a_campaign_never_deployed_starts_full(name: &str, store: Store) {
    let engine = engine(store).await;
    let before = state(&engine).await;
    let edited = compiled(&stocked(1, 2));
    let options = DryRunOptions {
        campaign: Some(&edited),
        ..DryRunOptions::default()
    };
    let DryRun::Drawn(told) = dry_run(&engine, "ann", options).await else {
        panic!("{name}: refused");
    };
    assert_eq!(
        (told.award.id.as_str(), told.version),
        ("prize", 0),
        "{name}"
    );
    assert_eq!(told.left.draws, 1, "{name}");
    assert_eq!(state(&engine).await, before, "{name}: the store changed");
    assert!(
        matches!(engine.resolve("t").await, Err(Failure::UnknownCampaign(_))),
        "{name}: a dry run deployed it"
    );
    // A draft file would not take draws once deployed, nor another id's.
    let draft = compiled(&stocked(1, 2).replace("state: open", "state: draft"));
    let options = DryRunOptions {
        campaign: Some(&draft),
        ..DryRunOptions::default()
    };
    assert_eq!(
        award(&dry_run(&engine, "ann", options).await),
        "campaign-not-open"
    );
    let other = compiled(&stocked(1, 2).replace("campaign: t", "campaign: u"));
    let options = DryRunOptions {
        campaign: Some(&other),
        ..DryRunOptions::default()
    };
    let request = DrawRequest {
        campaign: "t",
        user: "ann",
        request_id: "dry",
        attributes: &[],
    };
    let mismatch = engine.dry_run_draw(&request, at(NOW), options).await;
    assert!(
        matches!(mismatch, Err(Failure::BadInput(_))),
        "{name}: {mismatch:?}"
    );
}

per_store!(
    starting_counts_and_credits_replace_the_stored_ones,
    worker_threads = 2
);
async fn starting_counts_and_credits_replace_the_stored_ones(name: &str, store: Store) {
    // Rich users get gold, users with three draws today get silver; two free draws.
    let engine = engine(store).await;
    let source = campaign(
        "allowance: 2\nawards:\n  gold: { kind: none }\n  silver: { kind: none }\n  tin: { kind: credits, amount: 1 }\npool:\n  - { award: tin, rate: 1 }\nbefore:\n  - when: user.credits >= 100\n    give: gold\n  - when: user.draws.today >= 3\n    give: silver\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    assert_eq!(draw(&engine, "ann", "r1").await.unwrap().award.id, "tin");
    let before = state(&engine).await;
    let with = |counts, credits| DryRunOptions {
        counts,
        credits,
        ..DryRunOptions::default()
    };
    let none = StartingCounts::default();
    let cases = [
        (with(none, None), "tin"),
        (with(none, Some(Decimal::new(10000, 2))), "gold"),
        (with(none, Some(Decimal::new(9999, 2))), "tin"),
        // Three made today, with granted draws to make a fourth.
        (
            with(
                StartingCounts {
                    today: Some(3),
                    granted: Some(5),
                    ..none
                },
                None,
            ),
            "silver",
        ),
        // Both free draws made, none granted.
        (
            with(
                StartingCounts {
                    total: Some(2),
                    ..none
                },
                None,
            ),
            "no-draws-left",
        ),
        // Ann has made one: from none, she has two left.
        (
            with(
                StartingCounts {
                    today: Some(0),
                    month: Some(0),
                    total: Some(0),
                    ..none
                },
                None,
            ),
            "tin",
        ),
    ];
    for (options, expected) in cases {
        let told = dry_run(&engine, "ann", options).await;
        assert_eq!(award(&told), expected, "{name}: {options:?}");
    }
    let from_none = StartingCounts {
        today: Some(0),
        month: Some(0),
        total: Some(0),
        ..none
    };
    let DryRun::Drawn(told) = dry_run(&engine, "ann", with(from_none, None)).await else {
        panic!("{name}: refused");
    };
    assert_eq!(told.left.draws, 1, "{name}: two free, this one made");
    // Counts that cannot all be true are bad input.
    let impossible = StartingCounts {
        today: Some(3),
        month: Some(1),
        ..none
    };
    let request = DrawRequest {
        campaign: "t",
        user: "ann",
        request_id: "dry",
        attributes: &[],
    };
    let refused = engine
        .dry_run_draw(&request, at(NOW), with(impossible, None))
        .await;
    assert!(
        matches!(refused, Err(Failure::BadInput(_))),
        "{name}: {refused:?}"
    );
    assert_eq!(state(&engine).await, before, "{name}: the store changed");
}
