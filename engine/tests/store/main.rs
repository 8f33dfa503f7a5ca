//! The shared behavioural suite: every test runs on the memory, SQLite and
//! PostgreSQL stores.

mod helpers;

use std::sync::Arc;

use helpers::{at, engine, stores};
use tombola_engine::store::CampaignState;
use tombola_engine::{DrawRequest, Engine, Failure};
use tombola_grammar::Value;

const NOW: &str = "2026-03-04T10:00:00Z";

fn campaign(body: &str) -> String {
    format!(
        "campaign: t\nname: T\nstate: open\nwindow: {{ from: 2026-01-01, to: 2026-12-31, zone: Asia/Shanghai }}\n{body}"
    )
}

/// One award with stock behind a stock node, falling back to credits.
fn stocked(stock: u32, allowance: u32) -> String {
    campaign(&format!(
        "allowance: {allowance}\nawards:\n  prize: {{ kind: draws, amount: 0 }}\n  consolation: {{ kind: credits, amount: 1 }}\npool:\n  - {{ award: prize, rate: 1, stock: {stock}, tree: t }}\ntrees:\n  t:\n    - stock: {{ exhausted: luck }}\n    - luck: {{ fallback: consolation }}\n"
    ))
}

async fn draw(
    engine: &Engine,
    user: &str,
    request: &str,
) -> Result<tombola_engine::DrawResponse, Failure> {
    engine
        .draw(
            &DrawRequest {
                campaign: "t",
                user,
                request_id: request,
                attributes: &[],
            },
            at(NOW),
        )
        .await
}

async fn tallies(engine: &Engine) -> (i64, i64, i64, i64) {
    let mut tx = engine.store().begin().await.unwrap();
    tx.tallies("t").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draw_runs_end_to_end_and_records_everything() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 2\nawards:\n  points: { kind: credits, amount: 12.5 }\npool:\n  - { award: points, rate: 1 }\n",
        );
        let deployed = engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
        assert_eq!((deployed.version, deployed.changed), (1, true), "{name}");
        let response = draw(&engine, "alice", "r1").await.unwrap();
        assert_eq!(response.award.id, "points", "{name}");
        assert_eq!(response.award.amount.as_deref(), Some("12.5"));
        assert_eq!(response.left.draws, 1);
        assert_eq!(response.steps.last().unwrap().at, "issue:points");
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.balance("alice").await.unwrap(),
            1250,
            "{name}: credits land in the ledger in the draw's transaction"
        );
        assert_eq!(tx.tallies("t").await.unwrap(), (1, 1, 0, 0), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_draws_never_oversell() {
    for (name, store) in stores().await {
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
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.award_stock("t", "prize").await.unwrap(),
            Some((0, 100)),
            "{name}"
        );
        assert_eq!(tx.tallies("t").await.unwrap().0, 192, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_daily_cap_of_three_holds_under_concurrency() {
    for (name, store) in stores().await {
        let engine = Arc::new(engine(store).await);
        let source = campaign(
            "allowance: 20\nquota: { per_day: 3 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_is_its_own_error_and_days_roll_over_in_the_campaign_zone() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 4\nquota: { total: 3, per_day: 2, per_month: 3 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replays_conflicts_and_concurrent_duplicates() {
    for (name, store) in stores().await {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_outside_the_window_and_unknown_campaigns_write_nothing() {
    for (name, store) in stores().await {
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
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.award_stock("t", "prize").await.unwrap(), Some((5, 0)));
        drop(tx);
        // A failed request recorded nothing, so the same id runs again once the campaign opens.
        engine.set_state("t", CampaignState::Open).await.unwrap();
        draw(&engine, "u", "z").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_draw_writes_nothing() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 3\ninputs: { user: { vip: bool } }\nawards:\n  gift: { kind: credits, amount: 5 }\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nbefore:\n  - when: user.vip\n    give: gift\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        // The rule reads `user.vip`, which this caller does not pass: an error naming it.
        let failed = draw(&engine, "ivan", "r1").await;
        assert!(
            matches!(&failed, Err(Failure::MissingAttribute(attribute)) if attribute == "vip"),
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
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.balance("ivan").await.unwrap(), 1500, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draw_awards_extend_the_entitlement_and_external_awards_go_to_the_outbox() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 1\ndelivery: { webhook: \"https://example.com/hook\", secret_env: HOOK_SECRET }\nawards:\n  more: { kind: draws, amount: 2 }\n  mug: { kind: item }\npool:\n  - { award: more, rate: 1 }\nbefore:\n  - when: user.draws.total >= 1\n    give: mug\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grants_decrement_sku_stock_once_per_request() {
    for (name, store) in stores().await {
        let engine = Arc::new(engine(store).await);
        let source = campaign(
            "allowance: 0\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nskus:\n  pack: { draws: 2, stock: 3 }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        assert!(
            matches!(draw(&engine, "kim", "d0").await, Err(Failure::NoDrawsLeft)),
            "{name}"
        );
        let granted = engine
            .grant("t", "kim", "pack", "g1", at(NOW))
            .await
            .unwrap();
        assert_eq!(granted.draws, 2);
        assert_eq!(
            engine
                .grant("t", "kim", "pack", "g1", at(NOW))
                .await
                .unwrap(),
            granted,
            "{name}: replay"
        );
        assert!(matches!(
            engine.grant("t", "kim", "nope", "g2", at(NOW)).await,
            Err(Failure::UnknownSku(_))
        ));
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    engine
                        .grant("t", "lee", "pack", &format!("c{i}"), at(NOW))
                        .await
                })
            })
            .collect();
        let mut sold = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => sold += 1,
                Err(Failure::SkuSoldOut(_)) => {}
                Err(other) => panic!("{name}: {other}"),
            }
        }
        assert_eq!(sold, 2, "{name}: stock 3, one already sold");
        draw(&engine, "kim", "d1").await.unwrap();
        draw(&engine, "kim", "d2").await.unwrap();
        assert!(
            matches!(draw(&engine, "kim", "d3").await, Err(Failure::NoDrawsLeft)),
            "{name}"
        );
        assert_eq!(tallies(&engine).await.3, 3, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploys_keep_what_was_issued_and_unchanged_content_is_a_no_op() {
    for (name, store) in stores().await {
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
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.award_stock("t", "prize").await.unwrap(),
            Some((3, 4)),
            "{name}"
        );
        drop(tx);
        // Declared stock 2: never below zero.
        engine.deploy(&stocked(2, 5), None, at(NOW)).await.unwrap();
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.award_stock("t", "prize").await.unwrap(),
            Some((0, 4)),
            "{name}"
        );
        drop(tx);
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_only_moves_for_the_award_that_is_issued() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        // The stock node takes a unit, then a later condition sends the draw to the fallback.
        let source = campaign(
            "allowance: 5\nawards:\n  prize: { kind: none }\n  consolation: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 1, stock: 3, tree: t }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - veteran: { if: \"user.draws.total >= 2\", else: luck }\n    - luck: { fallback: consolation }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        for (i, expected) in ["consolation", "consolation", "prize"].iter().enumerate() {
            let response = draw(&engine, "nora", &format!("r{i}")).await.unwrap();
            assert_eq!(response.award.id, *expected, "{name}: draw {i}");
        }
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.award_stock("t", "prize").await.unwrap(),
            Some((2, 1)),
            "{name}: only the issued prize left the stock"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_draws_of_one_user_see_different_counts() {
    for (name, store) in stores().await {
        let engine = Arc::new(engine(store).await);
        let source = campaign(
            "allowance: 10\nawards:\n  prize: { kind: none }\n  consolation: { kind: none }\npool:\n  - { award: prize, rate: 1, tree: t }\ntrees:\n  t:\n    - lock: { after: 3, locked: luck }\n    - luck: { fallback: consolation }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let engine = engine.clone();
                tokio::spawn(async move { draw(&engine, "olga", &format!("r{i}")).await.unwrap() })
            })
            .collect();
        let mut seen = Vec::new();
        let mut unlocked = 0;
        for task in tasks {
            let response = task.await.unwrap();
            let lock = response
                .steps
                .iter()
                .find(|s| s.at == "tree:t/lock")
                .unwrap();
            seen.push(lock.read.unwrap());
            unlocked += usize::from(response.award.id == "prize");
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..8).collect::<Vec<i64>>(),
            "{name}: each draw counts the draws before it"
        );
        // `after: 3` opens on the 4th draw: draws 4 to 8 are unlocked.
        assert_eq!(unlocked, 5, "{name}");
    }
}

async fn draw_as(engine: &Engine, id: &str, user: &str, vip: bool) -> tombola_engine::DrawResponse {
    let attributes = [("vip".to_string(), Value::Bool(vip))];
    engine
        .draw(
            &DrawRequest {
                campaign: "t",
                user,
                request_id: id,
                attributes: &attributes,
            },
            at(NOW),
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_runs_on_stored_counts() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 10\ninputs: { user: { vip: bool } }\nawards:\n  common: { kind: none }\n  rare: { kind: none }\n  pinned: { kind: none }\n  vip_gift: { kind: credits, amount: 3 }\npool:\n  - { award: common, rate: 0.999 }\n  - { award: rare, rate: 0.001 }\nbefore:\n  - blacklist: { users: [mallory], give: pinned }\n  - weight: { mode: exactly, tiers: { 2: [rare] } }\n  - when: user.vip\n    give: vip_gift\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
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
        assert_eq!(first.steps[1].outcome, "no_tier", "{name}");
        assert_eq!(second.steps[1].read, Some(1));
        assert_eq!(
            third.award.id, "rare",
            "{name}: the one-shot guarantee at a score of 2"
        );
        assert_eq!(third.steps[1].outcome, "tier");
        assert_eq!(
            fourth.award.id, "vip_gift",
            "{name}: past the tier, the `when` rule decides"
        );
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.balance("peggy").await.unwrap(), 300, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallbacks_pay_their_award_amount_and_one_issue_takes_one_unit() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        // Two stock nodes on one path, and a fallback without its own amount.
        let source = campaign(
            "allowance: 9\nawards:\n  prize: { kind: none }\n  points: { kind: credits, amount: 7.25 }\npool:\n  - { award: prize, rate: 1, stock: 2, tree: t }\ntrees:\n  t:\n    - first: { exhausted: luck }\n    - second: { exhausted: luck }\n    - luck: { fallback: points }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        let awards: Vec<String> = {
            let mut out = Vec::new();
            for i in 0..3 {
                out.push(
                    draw(&engine, "pat", &format!("r{i}"))
                        .await
                        .unwrap()
                        .award
                        .id,
                );
            }
            out
        };
        assert_eq!(
            awards,
            ["prize", "prize", "points"],
            "{name}: stock 2 gives 2 prizes, not 1"
        );
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(
            tx.award_stock("t", "prize").await.unwrap(),
            Some((0, 2)),
            "{name}"
        );
        assert_eq!(
            tx.balance("pat").await.unwrap(),
            725,
            "{name}: the fallback pays its award's amount"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_runs_the_version_the_store_holds() {
    for (name, store) in stores().await {
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
                b.grant("t", "quinn", "pack", "g1", at(NOW)).await,
                Err(Failure::NotOpen(_))
            ),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_tiers_below_the_lowest_and_renormalised_on_stored_counts() {
    for (name, store) in stores().await {
        let engine = engine(store).await;
        // Tier 2 lists two pool awards (their 0.3 : 0.1 pool rates renormalised to 3 : 1);
        // tier 4 states its own rates.
        let source = campaign(
            "allowance: 20\nawards:\n  a: { kind: none }\n  b: { kind: none }\n  c: { kind: none }\npool:\n  - { award: a, rate: 0.6 }\n  - { award: b, rate: 0.3 }\n  - { award: c, rate: 0.1 }\nbefore:\n  - weight: { tiers: { 2: [b, c], 4: { c: 100% } } }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        let mut by_draw = Vec::new();
        for i in 0..12 {
            let response = draw(&engine, "rita", &format!("r{i}")).await.unwrap();
            by_draw.push((
                response.steps[0].outcome.clone(),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prize_lists_tiers_statistics_and_history_read_the_store() {
    for (name, store) in stores().await {
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
        assert_eq!(rule.tiers[0].awards["prize"], "0.5", "{name}");

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_keys_are_stored_hashed_and_revocable() {
    for (name, store) in stores().await {
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
        let mut tx = engine.store().read().await.unwrap();
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
}

fn rebate_campaign() -> String {
    campaign(
        "allowance: 0\ninputs:\n  events:\n    sign_in: {}\n    payment: { amount: decimal }\nawards:\n  points: { kind: credits, amount: 1 }\npool:\n  - { award: points, rate: 1 }\nskus:\n  draw_1: { draws: 1, stock: 2 }\n  draw_5: { draws: 5, price: 20 credits }\nrebates:\n  - id: daily\n    on: sign_in\n    once: per_day\n    give: [ { sku: draw_1 }, { credits: 10 } ]\n  - id: spender\n    on: payment\n    when: event.amount >= 50\n    give: [ { credits: \"round(event.amount * 5%, 2)\" } ]\n",
    )
}

async fn event(
    engine: &Engine,
    user: &str,
    name: &str,
    request: &str,
    attributes: &[(String, Value)],
    now: &str,
) -> Result<tombola_engine::EventResponse, Failure> {
    engine
        .event(
            &tombola_engine::EventRequest {
                campaign: "t",
                user,
                event: name,
                request_id: request,
                attributes,
            },
            at(now),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebates_apply_once_per_period_in_the_campaign_zone() {
    use tombola_engine::RebateResult;
    use tombola_engine::store::Period;
    for (name, store) in stores().await {
        let engine = engine(store).await;
        engine
            .deploy(&rebate_campaign(), Some("t"), at(NOW))
            .await
            .unwrap();
        assert!(
            !engine
                .event_done("t", "ann", "sign_in", Period::Day, at(NOW))
                .await
                .unwrap()
        );
        let first = event(&engine, "ann", "sign_in", "s1", &[], NOW)
            .await
            .unwrap();
        assert_eq!(first.rebates[0].outcome, RebateResult::Applied, "{name}");
        assert_eq!(first.rebates[0].actions.len(), 2, "{name}");
        assert!(
            engine
                .event_done("t", "ann", "sign_in", Period::Day, at(NOW))
                .await
                .unwrap(),
            "{name}: signed in today"
        );
        let again = event(&engine, "ann", "sign_in", "s2", &[], "2026-03-04T15:00:00Z")
            .await
            .unwrap();
        assert_eq!(
            again.rebates[0].outcome,
            RebateResult::AlreadyDone,
            "{name}: same Shanghai day"
        );
        // 16:30 UTC is past midnight in Shanghai: a new day.
        let next = event(&engine, "ann", "sign_in", "s3", &[], "2026-03-04T16:30:00Z")
            .await
            .unwrap();
        assert_eq!(
            next.rebates[0].outcome,
            RebateResult::Applied,
            "{name}: the next Shanghai day"
        );
        assert!(
            !engine
                .event_done(
                    "t",
                    "ann",
                    "sign_in",
                    Period::Day,
                    at("2026-03-05T16:30:00Z")
                )
                .await
                .unwrap()
        );
        assert!(
            engine
                .event_done(
                    "t",
                    "ann",
                    "sign_in",
                    Period::Month,
                    at("2026-03-05T16:30:00Z")
                )
                .await
                .unwrap()
        );
        let replay = event(&engine, "ann", "sign_in", "s1", &[], NOW)
            .await
            .unwrap();
        assert_eq!(replay, first, "{name}: a replay returns the stored answer");

        let credits = engine.credits("ann", 10).await.unwrap();
        assert_eq!(credits.balance, "20", "{name}");
        assert_eq!(credits.entries.len(), 2);
        assert_eq!(credits.entries[0].reason, "rebate");
        let status = engine.user_status("t", "ann", at(NOW)).await.unwrap();
        assert_eq!(status.draws_left, 2, "{name}: two SKU grants");

        // The SKU had stock 2: a third day's grant is skipped, the credits still apply.
        let third = event(&engine, "ann", "sign_in", "s4", &[], "2026-03-06T10:00:00Z")
            .await
            .unwrap();
        assert_eq!(third.rebates[0].outcome, RebateResult::Applied);
        assert!(!third.rebates[0].actions[0].applied, "{name}: sold out");
        assert!(third.rebates[0].actions[1].applied);

        let big = [(
            "amount".to_string(),
            Value::Decimal("80.10".parse().unwrap()),
        )];
        let paid = event(&engine, "bob", "payment", "p1", &big, NOW)
            .await
            .unwrap();
        assert_eq!(
            paid.rebates[0].actions[0].amount.as_deref(),
            Some("4.01"),
            "{name}"
        );
        let small = [("amount".to_string(), Value::Decimal("10".parse().unwrap()))];
        let unpaid = event(&engine, "bob", "payment", "p2", &small, NOW)
            .await
            .unwrap();
        assert_eq!(
            unpaid.rebates[0].outcome,
            RebateResult::ConditionFalse,
            "{name}"
        );
        assert_eq!(engine.credits("bob", 10).await.unwrap().balance, "4.01");

        assert!(matches!(
            event(&engine, "bob", "nope", "n1", &[], NOW).await,
            Err(Failure::UnknownEvent(_))
        ));
        let wrong = [("amount".to_string(), Value::Bool(true))];
        assert!(matches!(
            event(&engine, "bob", "payment", "n2", &wrong, NOW).await,
            Err(Failure::BadInput(_))
        ));
        assert!(matches!(
            event(&engine, "bob", "payment", "p1", &small, NOW).await,
            Err(Failure::RequestConflict(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exchanges_never_spend_credits_that_are_not_there() {
    for (name, store) in stores().await {
        let engine = Arc::new(engine(store).await);
        engine
            .deploy(&rebate_campaign(), Some("t"), at(NOW))
            .await
            .unwrap();
        // The reference let a trade succeed without funds: here it is refused and changes nothing.
        let broke = engine.exchange("t", "ann", "draw_5", "x0", at(NOW)).await;
        assert!(
            matches!(broke, Err(Failure::InsufficientCredits { .. })),
            "{name}: {broke:?}"
        );
        assert_eq!(
            engine
                .user_status("t", "ann", at(NOW))
                .await
                .unwrap()
                .draws_left,
            0
        );
        assert!(matches!(
            engine.exchange("t", "ann", "draw_1", "x1", at(NOW)).await,
            Err(Failure::NotForSale(_))
        ));

        engine
            .adjust_credits("ann", "100".parse().unwrap(), "welcome", "adj-1", at(NOW))
            .await
            .unwrap();
        // 50 concurrent exchanges at 20 credits against a balance of 100: exactly 5.
        let mut tasks = Vec::new();
        for n in 0..50 {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                engine
                    .exchange("t", "ann", "draw_5", &format!("ex{n}"), at(NOW))
                    .await
            }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Failure::InsufficientCredits { .. }) => {}
                Err(other) => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(ok, 5, "{name}");
        let credits = engine.credits("ann", 100).await.unwrap();
        assert_eq!(credits.balance, "0", "{name}: never negative");
        let sum: rust_decimal::Decimal = credits
            .entries
            .iter()
            .map(|e| e.delta.parse::<rust_decimal::Decimal>().unwrap())
            .sum();
        assert_eq!(
            sum,
            rust_decimal::Decimal::ZERO,
            "{name}: the balance is the sum of the ledger"
        );
        assert_eq!(
            engine
                .user_status("t", "ann", at(NOW))
                .await
                .unwrap()
                .draws_left,
            25,
            "{name}"
        );

        let over = engine
            .adjust_credits("ann", "-1".parse().unwrap(), "oops", "adj-2", at(NOW))
            .await;
        assert!(
            matches!(over, Err(Failure::InsufficientCredits { .. })),
            "{name}: {over:?}"
        );
        let replay = engine.exchange("t", "ann", "draw_5", "ex0", at(NOW)).await;
        assert!(
            replay.is_ok() || matches!(replay, Err(Failure::InsufficientCredits { .. })),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prize_lists_of_long_condition_chains_stay_linear_and_other_servers_see_deploys() {
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
    for (name, store) in stores().await {
        let first = engine(store.clone()).await;
        // A second engine on the same store: another server that did not deploy.
        let second = engine(store).await;
        first.deploy(&source, Some("t"), at(NOW)).await.unwrap();
        // 41 chained conditions: a walk that tried every path would take 2^41 steps.
        let prizes = second.prize_list("t", "ann", at(NOW)).await.unwrap();
        assert_eq!(prizes.awards[0].conditions.len(), 41, "{name}");
        assert!(second.stats("t").await.is_ok(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_never_lease_one_task_at_once_and_leases_expire() {
    use std::time::Duration;
    use tombola_engine::store::Attempt;
    let source = campaign(
        "allowance: 100\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  mug: { kind: item }\npool:\n  - { award: mug, rate: 1 }\n",
    );
    for (name, store) in stores().await {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coupon_codes_are_issued_once_and_an_empty_pool_routes_like_sold_out() {
    let source = campaign(
        "allowance: 100\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  coupon: { kind: coupon }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: coupon, rate: 1, tree: t }\ntrees:\n  t:\n    - codes: { exhausted: luck }\n    - luck: { fallback: luck }\n",
    );
    for (name, store) in stores().await {
        let engine = Arc::new(engine(store).await);
        engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
        let before = draw(&engine, "ann", "r0").await.unwrap();
        assert_eq!(
            before.award.id, "luck",
            "{name}: no codes yet, so exhausted"
        );
        let codes: Vec<String> = (0..5).map(|n| format!("CODE-{n}")).collect();
        let (added, left) = engine.upload_codes("t", "coupon", &codes).await.unwrap();
        assert_eq!((added, left), (5, 5), "{name}");
        let (added, left) = engine
            .upload_codes("t", "coupon", &codes[..2])
            .await
            .unwrap();
        assert_eq!((added, left), (0, 5), "{name}: duplicates are skipped");
        assert!(
            engine.upload_codes("t", "luck", &codes).await.is_err(),
            "{name}: not a coupon"
        );

        let mut tasks = Vec::new();
        for n in 0..8 {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                draw(&engine, &format!("u{n}"), &format!("c{n}"))
                    .await
                    .unwrap()
            }));
        }
        let mut issued = Vec::new();
        for task in tasks {
            let answer = task.await.unwrap();
            if answer.award.id == "coupon" {
                issued.push(
                    answer
                        .award
                        .code
                        .clone()
                        .expect("a coupon carries its code"),
                );
            } else {
                assert_eq!(answer.award.code, None);
            }
        }
        issued.sort();
        assert_eq!(issued, codes, "{name}: each code exactly once");
        let stats = engine.stats("t").await.unwrap();
        assert_eq!(
            stats.awards[0].stock.as_ref().unwrap().remaining,
            0,
            "{name}"
        );
        assert_eq!(
            engine.issued_code("t", "c0").await.unwrap().is_some(),
            issued.len() == 5
                && engine
                    .stored_draw("t", "c0")
                    .await
                    .unwrap()
                    .unwrap()
                    .award
                    .id
                    == "coupon",
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebate_can_give_an_award_and_retention_purges_old_records() {
    let source = campaign(
        "allowance: 1\ninputs: { events: { sign_in: {} } }\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  mug: { kind: item }\n  bonus: { kind: draws, amount: 2 }\npool:\n  - { award: bonus, rate: 1 }\nrebates:\n  - id: welcome\n    on: sign_in\n    once: ever\n    give: [ { award: mug }, { award: bonus } ]\n",
    );
    for (name, store) in stores().await {
        let engine = engine(store).await;
        engine.deploy(&source, Some("t"), at(NOW)).await.unwrap();
        let answer = event(&engine, "ann", "sign_in", "w1", &[], NOW)
            .await
            .unwrap();
        let kinds: Vec<_> = answer.rebates[0]
            .actions
            .iter()
            .map(|a| a.id.clone().unwrap())
            .collect();
        assert_eq!(kinds, ["mug", "bonus"], "{name}");
        assert_eq!(
            engine
                .user_status("t", "ann", at(NOW))
                .await
                .unwrap()
                .draws_left,
            3,
            "{name}: 1 + 2 draws"
        );
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn imported_draw_counts_feed_the_caps_and_the_standing() {
    use tombola_engine::DrawCounts;
    for (name, store) in stores().await {
        let engine = engine(store).await;
        let source = campaign(
            "allowance: 10\nquota: { per_day: 3, per_month: 5 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
        );
        engine.deploy(&source, None, at(NOW)).await.unwrap();
        let counts = DrawCounts {
            total: 12,
            month: 4,
            today: 2,
            granted: 5,
        };
        engine
            .import_draw_counts("t", "ann", counts, at(NOW))
            .await
            .unwrap();
        let status = engine.user_status("t", "ann", at(NOW)).await.unwrap();
        assert_eq!(
            (
                status.draws_made,
                status.made_this_month,
                status.made_today,
                status.draws_left
            ),
            (12, 4, 2, 3),
            "{name}"
        );
        // One more today reaches the monthly cap (5) before the daily one (3).
        let first = draw(&engine, "ann", "a").await.unwrap();
        assert_eq!((first.left.draws, first.left.month), (2, Some(0)), "{name}");
        let second = draw(&engine, "ann", "b").await;
        assert!(
            matches!(second, Err(Failure::MonthlyCap)),
            "{name}: {second:?}"
        );
        // The counts are as of `now`'s day in the campaign's zone: the next month starts afresh.
        let next = engine
            .user_status("t", "ann", at("2026-04-01T10:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            (next.made_today, next.made_this_month, next.draws_made),
            (0, 0, 13),
            "{name}"
        );

        // Importing again replaces the counts rather than adding to them.
        engine
            .import_draw_counts("t", "ann", DrawCounts::default(), at(NOW))
            .await
            .unwrap();
        let reset = engine.user_status("t", "ann", at(NOW)).await.unwrap();
        assert_eq!((reset.draws_made, reset.draws_left), (0, 10), "{name}");

        for (bad, says) in [
            (
                DrawCounts {
                    total: 3,
                    month: 4,
                    today: 0,
                    granted: 0,
                },
                "in all",
            ),
            (
                DrawCounts {
                    total: 9,
                    month: 1,
                    today: 2,
                    granted: 0,
                },
                "this month",
            ),
            (
                DrawCounts {
                    total: 1,
                    month: 0,
                    today: 0,
                    granted: -1,
                },
                "`granted`",
            ),
        ] {
            let refused = engine.import_draw_counts("t", "bob", bad, at(NOW)).await;
            match refused {
                Err(Failure::BadInput(message)) => {
                    assert!(message.contains(says), "{name}: {message}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let untouched = engine.user_status("t", "bob", at(NOW)).await.unwrap();
        assert_eq!(untouched.draws_made, 0, "{name}");
        assert!(matches!(
            engine
                .import_draw_counts("nope", "bob", DrawCounts::default(), at(NOW))
                .await,
            Err(Failure::UnknownCampaign(_))
        ));
    }
}
