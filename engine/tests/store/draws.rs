//! Draws end to end: the ledger and tallies, stock that never oversells, the caps
//! and their days, replays of one request id, and failures that write nothing.

use std::sync::Arc;
use tombola_engine::store::prelude::*;

use tombola_engine::store::{CampaignState, Store};
use tombola_engine::{DrawRequest, Failure};
use tombola_grammar::Value;

use crate::helpers::{
    NOW, at, campaign, deployed, draw, engine, per_store, stock_of, stock_of_in, stocked, tallies,
};

per_store!(
    a_draw_runs_end_to_end_and_records_everything,
    worker_threads = 4
);
async fn a_draw_runs_end_to_end_and_records_everything(name: &str, store: Store) {
    let engine = engine(store).await;
    let source = campaign(
        "allowance: 2\nawards:\n  points: { kind: credits, amount: 12.5 }\npool:\n  - { award: points, rate: 1 }\n",
    );
    let deployed = engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
    assert_eq!((deployed.version, deployed.changed), (1, true), "{name}");
    let response = draw(&engine, "alice", "r1").await.unwrap();
    assert_eq!(response.award.id, "points", "{name}");
    assert_eq!(
        response.award.amount.map(|a| a.to_string()).as_deref(),
        Some("12.5")
    );
    assert_eq!(response.left.draws, 1);
    assert_eq!(
        response.steps.last().unwrap().at.to_string(),
        "issue:points"
    );
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(
        tx.balance("alice").await.unwrap(),
        1250,
        "{name}: credits land in the ledger in the draw's transaction"
    );
    assert_eq!(tx.tallies("t").await.unwrap(), (1, 1, 0, 0), "{name}");
}

per_store!(
    sixty_four_concurrent_draws_never_oversell,
    worker_threads = 4
);
async fn sixty_four_concurrent_draws_never_oversell(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    engine
        .deploy(&stocked(100, 3), None, at(NOW))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..64 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut prizes = 0;
            for i in 0..3 {
                let response = draw(&engine, &format!("user{task}"), &format!("r{task}-{i}"))
                    .await
                    .unwrap();
                prizes += usize::from(response.award.id == "prize");
            }
            prizes
        }));
    }
    let mut issued = 0;
    for task in tasks {
        issued += task.await.unwrap();
    }
    assert_eq!(
        issued, 100,
        "{name}: exactly the stock is issued, the rest falls back"
    );
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(
        stock_of_in(&mut tx, "prize").await,
        Some((0, 100)),
        "{name}"
    );
    assert_eq!(tx.tallies("t").await.unwrap().0, 192, "{name}");
}

per_store!(
    a_daily_cap_of_three_holds_under_concurrency,
    worker_threads = 4
);
async fn a_daily_cap_of_three_holds_under_concurrency(name: &str, store: Store) {
    let engine = Arc::new(
        deployed(
            store,
            "allowance: 20\nquota: { per_day: 3 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        )
        .await,
    );
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move { draw(&engine, "bob", &format!("r{i}")).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Failure::DailyCap) => {}
            Err(other) => panic!("{name}: {other}"),
        }
    }
    assert_eq!(ok, 3, "{name}");
}

per_store!(
    each_limit_is_its_own_error_and_days_roll_over_in_the_campaign_zone,
    worker_threads = 2
);
async fn each_limit_is_its_own_error_and_days_roll_over_in_the_campaign_zone(
    name: &str,
    store: Store,
) {
    let engine = deployed(
        store,
        "allowance: 4\nquota: { total: 3, per_day: 2, per_month: 3 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
    )
    .await;
    let request = |id: &'static str| DrawRequest {
        campaign: "t",
        user: "carol",
        request_id: id,
        attributes: &[],
    };
    // 23:30 and 23:45 in Shanghai on 4 March are 15:30 and 15:45 UTC.
    engine
        .draw(&request("a"), at("2026-03-04T15:30:00Z"))
        .await
        .unwrap();
    engine
        .draw(&request("b"), at("2026-03-04T15:45:00Z"))
        .await
        .unwrap();
    let third = engine.draw(&request("c"), at("2026-03-04T15:50:00Z")).await;
    assert!(matches!(third, Err(Failure::DailyCap)), "{name}: {third:?}");
    // 00:10 in Shanghai is a new day, though it is still 4 March in UTC.
    engine
        .draw(&request("d"), at("2026-03-04T16:10:00Z"))
        .await
        .unwrap();
    let fourth = engine.draw(&request("e"), at("2026-03-05T16:10:00Z")).await;
    assert!(
        matches!(fourth, Err(Failure::TotalCap)),
        "{name}: {fourth:?}"
    );

    let source = campaign(
        "allowance: 9\nquota: { per_month: 1 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    let other = DrawRequest {
        campaign: "t",
        user: "dave",
        request_id: "g",
        attributes: &[],
    };
    engine
        .draw(&other, at("2026-04-01T10:00:00Z"))
        .await
        .unwrap();
    let again = DrawRequest {
        request_id: "h",
        ..other.clone()
    };
    assert!(
        matches!(
            engine.draw(&again, at("2026-04-02T10:00:00Z")).await,
            Err(Failure::MonthlyCap)
        ),
        "{name}"
    );
    // The month rolls over at midnight in Shanghai: 30 April 16:30 UTC is 1 May.
    let may = DrawRequest {
        request_id: "i",
        ..other.clone()
    };
    engine.draw(&may, at("2026-04-30T16:30:00Z")).await.unwrap();

    let source = campaign(
        "allowance: 1\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    let erin = |id: &'static str| DrawRequest {
        campaign: "t",
        user: "erin",
        request_id: id,
        attributes: &[],
    };
    engine.draw(&erin("j"), at(NOW)).await.unwrap();
    assert!(
        matches!(
            engine.draw(&erin("k"), at(NOW)).await,
            Err(Failure::NoDrawsLeft)
        ),
        "{name}"
    );
}

per_store!(
    replays_conflicts_and_concurrent_duplicates,
    worker_threads = 4
);
async fn replays_conflicts_and_concurrent_duplicates(name: &str, store: Store) {
    let engine = Arc::new(engine(store).await);
    engine.deploy(&stocked(5, 10), None, at(NOW)).await.unwrap();
    let first = draw(&engine, "frank", "same").await.unwrap();
    let replay = draw(&engine, "frank", "same").await.unwrap();
    assert_eq!(first, replay, "{name}: a replay returns the first answer");
    assert!(
        matches!(
            draw(&engine, "grace", "same").await,
            Err(Failure::RequestConflict(_))
        ),
        "{name}"
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move { draw(&engine, "heidi", "dup").await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "{name}: every duplicate gets the one answer"
    );
    let (draws, ..) = tallies(&engine).await;
    assert_eq!(draws, 2, "{name}: the duplicates ran once");
}

per_store!(
    closed_outside_the_window_and_unknown_campaigns_write_nothing,
    worker_threads = 2
);
async fn closed_outside_the_window_and_unknown_campaigns_write_nothing(name: &str, store: Store) {
    let engine = engine(store).await;
    engine.deploy(&stocked(5, 3), None, at(NOW)).await.unwrap();
    let unknown = engine
        .draw(
            &DrawRequest {
                campaign: "nope",
                user: "u",
                request_id: "x",
                attributes: &[],
            },
            at(NOW),
        )
        .await;
    assert!(
        matches!(unknown, Err(Failure::UnknownCampaign(_))),
        "{name}"
    );
    let outside = engine
        .draw(
            &DrawRequest {
                campaign: "t",
                user: "u",
                request_id: "y",
                attributes: &[],
            },
            at("2027-02-01T00:00:00Z"),
        )
        .await;
    assert!(matches!(outside, Err(Failure::OutsideWindow(_))), "{name}");
    engine.set_state("t", CampaignState::Closed).await.unwrap();
    assert!(
        matches!(draw(&engine, "u", "z").await, Err(Failure::NotOpen(_))),
        "{name}"
    );
    assert_eq!(tallies(&engine).await, (0, 0, 0, 0), "{name}");
    assert_eq!(stock_of(&engine, "prize").await, Some((5, 0)));
    // A failed request recorded nothing, so the same id runs again once the campaign opens.
    engine.set_state("t", CampaignState::Open).await.unwrap();
    draw(&engine, "u", "z").await.unwrap();
}

per_store!(a_failed_draw_writes_nothing, worker_threads = 2);
async fn a_failed_draw_writes_nothing(name: &str, store: Store) {
    let engine = deployed(
        store,
        "allowance: 3\ninputs: { user: { vip: bool } }\nawards:\n  gift: { kind: credits, amount: 5 }\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nbefore:\n  - when: user.vip\n    give: gift\n",
    )
    .await;
    // The rule reads `user.vip`, which this caller does not pass: an error naming it.
    let failed = draw(&engine, "ivan", "r1").await;
    assert!(
        matches!(&failed, Err(Failure::MissingAttribute { scope: "user", name }) if name == "vip"),
        "{name}: {failed:?}"
    );
    let mistyped = engine
        .draw(
            &DrawRequest {
                campaign: "t",
                user: "ivan",
                request_id: "r2",
                attributes: &[("vip".into(), Value::Int(1))],
            },
            at(NOW),
        )
        .await;
    assert!(matches!(mistyped, Err(Failure::BadInput(_))), "{name}");
    assert_eq!(tallies(&engine).await, (0, 0, 0, 0), "{name}");
    // Nothing was debited: all three draws are still there.
    let vip = [("vip".to_string(), Value::Bool(true))];
    for i in 0..3 {
        let id = format!("ok{i}");
        let response = engine
            .draw(
                &DrawRequest {
                    campaign: "t",
                    user: "ivan",
                    request_id: &id,
                    attributes: &vip,
                },
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!(response.award.id, "gift");
    }
    let mut tx = engine.store_for_tests().begin().await.unwrap();
    assert_eq!(tx.balance("ivan").await.unwrap(), 1500, "{name}");
}

per_store!(
    draw_awards_extend_the_entitlement_and_external_awards_go_to_the_outbox,
    worker_threads = 2
);
async fn draw_awards_extend_the_entitlement_and_external_awards_go_to_the_outbox(
    name: &str,
    store: Store,
) {
    let engine = deployed(
        store,
        "allowance: 1\ndelivery: { webhook: \"https://example.com/hook\", secret_env: HOOK_SECRET }\nawards:\n  more: { kind: draws, amount: 2 }\n  mug: { kind: item }\npool:\n  - { award: more, rate: 1 }\nbefore:\n  - when: user.draws.total >= 1\n    give: mug\n",
    )
    .await;
    let first = draw(&engine, "judy", "a").await.unwrap();
    assert_eq!(
        (first.award.id.as_str(), first.left.draws),
        ("more", 2),
        "{name}"
    );
    let second = draw(&engine, "judy", "b").await.unwrap();
    assert_eq!(second.award.id, "mug");
    assert_eq!(
        tallies(&engine).await,
        (2, 0, 1, 0),
        "{name}: the item waits in the outbox"
    );
}
