//! `/v1/authoring/simulate`'s plumbing with a stand-in simulator: the bounds
//! it checks before asking, what it asks, its time limit, one simulation at
//! a time, and a server without a simulator. The real simulator (`tombola
//! simulate`'s) is tested through `tombola serve` in the CLI's tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tombola_server::{SimulationAsk, SimulationFailed, Simulator, Stop};

use super::{ADMIN, APP_KEY, CAMPAIGN, post_as, state};

/// Answers the ask it was given back after `takes`, or says it stopped when
/// told to meanwhile: one that does not look at `stop` often, which the
/// server answers for at the deadline all the same.
struct Echo {
    takes: Duration,
    asked: Mutex<Vec<SimulationAsk>>,
}

impl Simulator for Echo {
    fn simulate(
        &self,
        _source: &str,
        campaign: &tombola_ir::Campaign,
        ask: &SimulationAsk,
        stop: &Stop,
    ) -> Result<Value, SimulationFailed> {
        self.asked.lock().unwrap().push(ask.clone());
        std::thread::sleep(self.takes);
        if stop.now() {
            return Err(SimulationFailed::Stopped);
        }
        Ok(
            json!({ "campaign": campaign.id, "users": ask.users, "days": ask.days,
                    "draws_per_day": ask.draws_per_day, "seed": ask.seed }),
        )
    }
}

fn echo(takes: Duration) -> Arc<Echo> {
    Arc::new(Echo {
        takes,
        asked: Mutex::new(Vec::new()),
    })
}

async fn simulate(state: &super::AppState, body: Value) -> (StatusCode, Value) {
    post_as(state, ADMIN, "/v1/authoring/simulate", body).await
}

#[tokio::test]
async fn a_simulation_is_asked_with_its_defaults_and_answered_with_its_report() {
    let simulator = echo(Duration::ZERO);
    let state = state()
        .await
        .with_simulator(simulator.clone(), Duration::from_secs(5));
    let (status, report) = simulate(
        &state,
        json!({ "source": CAMPAIGN, "users": 200, "days": 14 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report,
        json!({ "campaign": "demo", "users": 200, "days": 14, "draws_per_day": 3, "seed": 1 })
    );
    // `2.0` is the integer 2, as JSON Schema counts integers.
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2.0, "draws_per_day": 9, "seed": "18446744073709551615" });
    let (status, report) = simulate(&state, body).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["seed"], json!(u64::MAX));
    assert_eq!(simulator.asked.lock().unwrap().len(), 2);

    // The app key is not enough: the console's calls are admin calls.
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2 });
    let (status, _) = post_as(&state, APP_KEY, "/v1/authoring/simulate", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bounds_and_a_broken_file_are_refused_before_the_simulator_is_asked() {
    let simulator = echo(Duration::ZERO);
    let state = state()
        .await
        .with_simulator(simulator.clone(), Duration::from_secs(5));
    let problem = |slug: &str| format!("https://tombola.dev/problems/{slug}");
    let cases = [
        (
            json!({ "users": 0, "days": 3 }),
            "invalid-input",
            Some("users"),
        ),
        (
            json!({ "users": 10_001, "days": 3 }),
            "invalid-input",
            Some("users"),
        ),
        (
            json!({ "users": 10, "days": 367 }),
            "invalid-input",
            Some("days"),
        ),
        (
            json!({ "users": 10, "days": 3, "draws_per_day": 0 }),
            "invalid-input",
            Some("draws_per_day"),
        ),
        (
            json!({ "users": 10_000, "days": 101 }),
            "simulation-too-large",
            None,
        ),
        (
            json!({ "users": 10, "days": "3" }),
            "invalid-body",
            Some("days"),
        ),
        (
            json!({ "users": 10, "days": 3.5 }),
            "invalid-body",
            Some("days"),
        ),
        (
            json!({ "users": 10, "days": 3, "seed": 5 }),
            "invalid-body",
            Some("seed"),
        ),
        (
            json!({ "users": 10, "days": 3, "seed": "+5" }),
            "invalid-input",
            Some("seed"),
        ),
        (
            json!({ "users": 10, "days": 3, "seed": "05" }),
            "invalid-input",
            Some("seed"),
        ),
        (
            json!({ "users": 10, "days": 3, "seed": "18446744073709551616" }),
            "invalid-input",
            Some("seed"),
        ),
        (
            json!({ "users": 10, "days": 3, "runs": 2 }),
            "invalid-body",
            None,
        ),
    ];
    for (mut body, slug, field) in cases {
        body["source"] = json!(CAMPAIGN);
        let (status, answer) = simulate(&state, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["type"], json!(problem(slug)), "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["field"], json!(field), "{body}: {answer}");
        }
    }
    let (_, too_large) = simulate(
        &state,
        json!({ "source": CAMPAIGN, "users": 10_000, "days": 101 }),
    )
    .await;
    assert_eq!(
        too_large["detail"],
        json!(
            "10000 users × 101 days × 3 draws a day is 3030000 draws; a simulation may ask for at most 1000000"
        )
    );
    let broken = CAMPAIGN.replace("give: gift", "give: gfit");
    let (status, answer) =
        simulate(&state, json!({ "source": broken, "users": 5, "days": 2 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["type"], json!(problem("invalid-campaign")));
    assert!(
        answer["diagnostics"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(simulator.asked.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulation_stops_at_its_time_limit_and_one_runs_at_a_time() {
    let limit = Duration::from_millis(400);
    let state = state()
        .await
        .with_simulator(echo(Duration::from_secs(6)), limit);
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2 });
    let started = Instant::now();
    let (status, answer) = simulate(&state, body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["type"],
        json!("https://tombola.dev/problems/simulation-timed-out")
    );
    // Answered at the limit and its grace second (and the router's build),
    // not when the simulator ended.
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "answered at the limit, not in {took:?}"
    );

    // While one holds the server for its whole limit, the next waits as long, then is told.
    let slow = state
        .clone()
        .with_simulator(echo(Duration::from_secs(6)), Duration::from_millis(500));
    let first = tokio::spawn({
        let (slow, body) = (slow.clone(), body.clone());
        async move { simulate(&slow, body).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, answer) = simulate(&slow, body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(
        answer["type"],
        json!("https://tombola.dev/problems/simulation-busy")
    );
    let (status, answer) = first.await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

#[tokio::test]
async fn a_server_without_a_simulator_says_so() {
    let state = state().await;
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2 });
    let (status, answer) = simulate(&state, body).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{answer}");
    assert_eq!(
        answer["type"],
        json!("https://tombola.dev/problems/simulation-unavailable")
    );
}

/// Fails of its own accord, as a simulator whose store or runtime fails.
struct Failing;

impl Simulator for Failing {
    fn simulate(
        &self,
        _: &str,
        _: &tombola_ir::Campaign,
        _: &SimulationAsk,
        _: &Stop,
    ) -> Result<Value, SimulationFailed> {
        Err(SimulationFailed::Broken(
            "the runtime would not start".into(),
        ))
    }
}

#[tokio::test]
async fn a_simulator_that_fails_is_the_servers_fault_not_the_files() {
    let state = state()
        .await
        .with_simulator(Arc::new(Failing), Duration::from_secs(5));
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2 });
    let (status, answer) = simulate(&state, body).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    assert_eq!(answer.get("field"), None, "{answer}");
    // The details stay in the log.
    assert!(!answer.to_string().contains("runtime"), "{answer}");
}

/// Runs until told to stop, looking every few milliseconds; counts the
/// simulations that stopped.
#[derive(Default)]
struct Endless {
    started: std::sync::atomic::AtomicUsize,
    stopped: std::sync::atomic::AtomicUsize,
}

impl Simulator for Endless {
    fn simulate(
        &self,
        _: &str,
        _: &tombola_ir::Campaign,
        _: &SimulationAsk,
        stop: &Stop,
    ) -> Result<Value, SimulationFailed> {
        (self.started).fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        while !stop.now() {
            std::thread::sleep(Duration::from_millis(5));
        }
        (self.stopped).fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(SimulationFailed::Stopped)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_hangs_up_stops_its_simulation() {
    let endless = Arc::new(Endless::default());
    let state = state()
        .await
        .with_simulator(endless.clone(), Duration::from_secs(30));
    let body = json!({ "source": CAMPAIGN, "users": 5, "days": 2 });
    let count = |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::SeqCst);
    let call = tokio::spawn({
        let state = state.clone();
        async move { simulate(&state, body).await }
    });
    let waited = Instant::now();
    while count(&endless.started) == 0 {
        assert!(waited.elapsed() < Duration::from_secs(20), "never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The caller hangs up: its handler is dropped.
    call.abort();
    let hung_up = Instant::now();
    while count(&endless.stopped) == 0 {
        let waited = hung_up.elapsed();
        assert!(
            waited < Duration::from_secs(5),
            "not stopped {waited:?} after the caller left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
