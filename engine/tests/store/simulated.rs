//! Simulated draws (`Engine::simulate_draw`): the same awards, caps and stock
//! as draws on every store, and the simulation's memory store, which keeps
//! what draws decide on but no history.

use tombola_engine::store::{MemoryStore, Store};
use tombola_engine::{DrawRequest, Engine, Failure};

use crate::helpers::{NOW, at, engine, memory, per_store, postgres, sqlite, stocked};

/// A second store of the kind `name` names, for a twin engine.
async fn twin(name: &str) -> Store {
    match name {
        "memory" => memory().await,
        "sqlite" => sqlite().await,
        _ => postgres().await.expect("a PostgreSQL test has a server"),
    }
}

async fn simulate(engine: &Engine, user: &str, request: &str) -> Result<String, Failure> {
    let request = DrawRequest {
        campaign: "t",
        user,
        request_id: request,
        attributes: &[],
    };
    let drawn = engine.simulate_draw(&request, at(NOW)).await?;
    let deployed = engine.campaign("t").unwrap();
    Ok(deployed.campaign.awards[drawn.award as usize].id.clone())
}

per_store!(simulated_draws_are_draws, worker_threads = 2);
/// Five draws a user, three prizes in stock, on two engines: one draws, the
/// other simulates. Every award, refusal, count left, balance and stock match.
async fn simulated_draws_are_draws(name: &str, store: Store) {
    let campaign = stocked(3, 5);
    let drawing = engine(store).await;
    let simulating = engine(twin(name).await).await;
    for engine in [&drawing, &simulating] {
        engine.deploy(&campaign, None, at(NOW)).await.unwrap();
    }
    let mut awards = Vec::new();
    for n in 0..6 {
        let id = format!("r{n}");
        let drawn = crate::helpers::draw(&drawing, "ann", &id)
            .await
            .map(|d| d.award.id);
        let simulated = simulate(&simulating, "ann", &id).await;
        assert_eq!(
            drawn.as_ref().map_err(|f| f.code()),
            simulated.as_ref().map_err(|f| f.code()),
            "{name}: draw {n}"
        );
        awards.push(drawn.unwrap_or_else(|f| f.code().to_string()));
    }
    assert_eq!(
        awards,
        [
            "prize",
            "prize",
            "prize",
            "consolation",
            "consolation",
            "no-draws-left"
        ],
        "{name}"
    );
    for engine in [&drawing, &simulating] {
        let stats = engine.stats("t").await.unwrap();
        let prize = stats.awards.iter().find(|a| a.award == "prize").unwrap();
        assert_eq!(
            (prize.issued, prize.stock.as_ref().unwrap().remaining),
            (3, 0)
        );
        assert_eq!(
            engine.credits("ann", 10).await.unwrap().balance,
            "2",
            "{name}"
        );
    }
}

/// The simulation's store decides as the memory store does, and keeps no
/// history: no draw rows and no ledger entries, but the statistics.
#[tokio::test]
async fn a_simulations_store_keeps_no_history() {
    let engine = engine(Store::Memory(MemoryStore::for_simulation())).await;
    engine.deploy(&stocked(1, 3), None, at(NOW)).await.unwrap();
    let mut awards = Vec::new();
    for n in 0..4 {
        awards.push(
            simulate(&engine, "ann", &format!("r{n}"))
                .await
                .unwrap_or_else(|f| f.code().to_string()),
        );
    }
    assert_eq!(
        awards,
        ["prize", "consolation", "consolation", "no-draws-left"]
    );
    let credits = engine.credits("ann", 10).await.unwrap();
    assert_eq!((credits.balance.as_str(), credits.entries.len()), ("2", 0));
    assert!(
        engine
            .history("t", "ann", None, 10)
            .await
            .unwrap()
            .draws
            .is_empty()
    );
    let stats = engine.stats("t").await.unwrap();
    let issued: Vec<(&str, i64)> = stats
        .awards
        .iter()
        .map(|a| (a.award.as_str(), a.issued))
        .collect();
    assert_eq!(issued, [("prize", 1), ("consolation", 2)]);
}
