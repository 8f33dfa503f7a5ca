//! `POST /v1/authoring/simulate`, the console's simulation dashboard. The
//! server does not simulate by itself: it is handed a [`Simulator`] (`tombola
//! serve` hands it `tombola simulate`'s), as the engine is handed a loader,
//! and it bounds what it asks of one: a ceiling on users × days × draws, a
//! time limit, one simulation at a time, off the request threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tombola_ir::Campaign;

use crate::auth::Admin;
use crate::extract::AppJson;
use crate::{ApiError, AppState};

/// Most simulated users a call may ask for.
pub(crate) const MAX_USERS: u32 = 10_000;
/// Most simulated days a call may ask for.
pub(crate) const MAX_DAYS: u32 = 366;
/// Most draws a call may ask for in all: users × days × draws a day.
pub(crate) const MAX_DRAWS: u64 = 1_000_000;
/// How long a simulation may run before it is stopped, as `tombola serve`
/// sets it; a call waits as long for another to end.
pub const TIME_LIMIT: Duration = Duration::from_secs(20);

/// What a simulation is asked: one segment of users who all behave alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationAsk {
    pub users: u32,
    pub days: u32,
    pub draws_per_day: u32,
    pub seed: u64,
}

/// Why a simulator gave no report.
#[derive(Debug)]
#[non_exhaustive]
pub enum SimulationFailed {
    /// The campaign cannot be simulated as asked; the text says why.
    Invalid(String),
    /// [`Stop::now`] said to stop: the deadline passed, or the caller left.
    Stopped,
    /// The simulator itself failed (its store, its runtime): the server's
    /// fault, not the file's.
    Broken(String),
}

/// When a simulation must stop: at its deadline, or as soon as its caller
/// has left (nobody would read the report, and the next call waits for it).
#[derive(Debug, Clone)]
pub struct Stop {
    deadline: Instant,
    left: Arc<AtomicBool>,
}

impl Stop {
    /// Stops at `deadline`, or once the caller has left.
    pub fn at(deadline: Instant) -> Self {
        Stop {
            deadline,
            left: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether to stop now.
    pub fn now(&self) -> bool {
        self.left.load(Ordering::Relaxed) || Instant::now() > self.deadline
    }
}

/// Tells the simulation its caller left when the handler is dropped before
/// the answer (a client that hung up).
struct CallerGone(Arc<AtomicBool>);

impl Drop for CallerGone {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs a simulation to its report, the JSON `tombola simulate --format json`
/// prints. Called on a blocking thread; it must look at `stop` often and
/// end with [`SimulationFailed::Stopped`] when it says so.
pub trait Simulator: Send + Sync + 'static {
    fn simulate(
        &self,
        source: &str,
        campaign: &Campaign,
        ask: &SimulationAsk,
        stop: &Stop,
    ) -> Result<Value, SimulationFailed>;
}

/// The simulator a server was handed, and the one permit its calls share.
#[derive(Clone)]
pub(crate) struct Simulation {
    simulator: Arc<dyn Simulator>,
    permit: Arc<tokio::sync::Semaphore>,
    limit: Duration,
}

impl Simulation {
    pub(crate) fn new(simulator: Arc<dyn Simulator>, limit: Duration) -> Self {
        Simulation {
            simulator,
            permit: Arc::new(tokio::sync::Semaphore::new(1)),
            limit,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimulateBody {
    /// The campaign file, deployed or not; it must check clean.
    source: String,
    /// Simulated users, 1 to 10,000.
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 10_000)]
    users: u32,
    /// Days simulated from the window's start, 1 to 366.
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 366)]
    days: u32,
    /// Draws each user tries a day, 1 to 100 (default 3); users × days × this
    /// is at most 1,000,000.
    #[serde(default = "three", deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 100)]
    draws_per_day: u32,
    /// The run's seed as decimal digits, as draws answer theirs (default
    /// `"1"`): the same seed gives the same report.
    seed: Option<String>,
}

fn three() -> u32 {
    3
}

impl SimulateBody {
    /// The ask, or the field outside its bounds.
    fn ask(&self) -> Result<SimulationAsk, ApiError> {
        let bounds = [
            ("users", self.users, MAX_USERS),
            ("days", self.days, MAX_DAYS),
            ("draws_per_day", self.draws_per_day, 100),
        ];
        for (field, value, most) in bounds {
            if !(1..=most).contains(&value) {
                return Err(ApiError::BadInput {
                    field: field.into(),
                    message: format!("`{field}` must be between 1 and {most}; it is {value}"),
                });
            }
        }
        let draws = u64::from(self.users) * u64::from(self.days) * u64::from(self.draws_per_day);
        if draws > MAX_DRAWS {
            return Err(ApiError::SimulationTooLarge(format!(
                "{} users × {} days × {} draws a day is {draws} draws; a simulation may ask for at most {MAX_DRAWS}",
                self.users, self.days, self.draws_per_day
            )));
        }
        let seed = (self.seed.as_deref())
            .map(|digits| crate::input::seed("seed", digits))
            .transpose()?;
        Ok(SimulationAsk {
            users: self.users,
            days: self.days,
            draws_per_day: self.draws_per_day,
            seed: seed.unwrap_or(1),
        })
    }
}

/// Simulates an edited campaign file on an in-memory store, as `tombola
/// simulate` does (one segment of alike users, signing in half the days),
/// and answers its report: the JSON of `tombola simulate --format json`.
/// Bounded: at most 1,000,000 draws (users × days × draws a day) and 20
/// seconds; one simulation runs at a time and the next waits for it.
#[utoipa::path(post, path = "/v1/authoring/simulate", tag = "admin",
    request_body = SimulateBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The report of `tombola simulate --format json`", body = Object),
        (status = 422, description = "`invalid-campaign` (with `diagnostics`), `invalid-input` (a bound), `simulation-too-large`, `simulation-timed-out`, `invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 501, description = "`simulation-unavailable`: this server was started without a simulator", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`simulation-busy`: another simulation held the server for the whole time limit", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn simulate(
    _: Admin,
    State(state): State<AppState>,
    AppJson(body): AppJson<SimulateBody>,
) -> Result<Json<Value>, ApiError> {
    let ask = body.ask()?;
    let campaign = super::versions::compiled(body.source.clone()).await?;
    let Some(simulation) = state.simulation.clone() else {
        return Err(ApiError::SimulationUnavailable);
    };
    let limit = simulation.limit;
    let permit = tokio::time::timeout(limit, simulation.permit.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::SimulationBusy)?
        .map_err(|closed| ApiError::Internal(closed.to_string()))?;
    let stop = Stop::at(Instant::now() + limit);
    // Dropped with this handler: at once if the caller hangs up.
    let _gone = CallerGone(stop.left.clone());
    let source = body.source;
    let work = tokio::task::spawn_blocking(move || {
        // Held until the simulation ends, even if the caller has left.
        let _permit = permit;
        simulation
            .simulator
            .simulate(&source, &campaign, &ask, &stop)
    });
    // A simulator looks at the clock between users; one that overruns is
    // answered for a second after its deadline and keeps the permit until it ends.
    let Ok(finished) = tokio::time::timeout(limit + Duration::from_secs(1), work).await else {
        return Err(ApiError::SimulationTimedOut(limit));
    };
    match finished {
        Ok(Ok(report)) => Ok(Json(report)),
        Ok(Err(SimulationFailed::Invalid(why))) => Err(ApiError::BadInput {
            field: "source".into(),
            message: why,
        }),
        // The caller is still here, so it was the deadline.
        Ok(Err(SimulationFailed::Stopped)) => Err(ApiError::SimulationTimedOut(limit)),
        Ok(Err(SimulationFailed::Broken(why))) => Err(ApiError::Internal(why)),
        Err(join) => Err(ApiError::Internal(join.to_string())),
    }
}
