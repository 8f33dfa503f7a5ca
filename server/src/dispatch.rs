//! The outbox dispatcher: leases due delivery tasks, posts each to its
//! campaign's webhook signed with HMAC-SHA256, and records the outcome —
//! delivered, retried with exponential backoff and jitter, or dead-lettered.
//!
//! Receivers verify `Tombola-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256 over `<t>.<body>` with the secret, and deduplicate on
//! `Idempotency-Key`: a task is delivered at least once, and again only if a
//! dispatcher died between the receiver's answer and recording it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tombola_engine::store::Attempt;
use tombola_engine::{Delivery, Engine};

use crate::AppState;

/// Where webhook secrets come from: the environment, or a map in tests.
pub type Secrets = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The dispatcher's settings; tests make them fast.
#[derive(Clone)]
pub struct DispatchConfig {
    /// How long to sleep when nothing is due.
    pub poll: Duration,
    /// Tasks leased per round at most; they are sent concurrently.
    pub batch: i64,
    /// Webhook calls in flight at once, across destinations.
    pub concurrency: usize,
    /// Webhook calls in flight at once to one destination (scheme, host and
    /// port): a receiver that hangs holds this many, never another's.
    pub per_destination: usize,
    /// How long a leased task is this dispatcher's before others may take it.
    pub lease: Duration,
    /// The first retry's delay; each later one doubles, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a task is dead-lettered.
    pub max_attempts: u32,
    /// The webhook call's own timeout.
    pub timeout: Duration,
    /// Idempotency records and delivered tasks older than this are deleted; `None` keeps them.
    pub retention: Option<Duration>,
    /// Reads the secret a campaign's `secret_env` names.
    pub secrets: Secrets,
}

impl std::fmt::Debug for DispatchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatchConfig")
            .field("poll", &self.poll)
            .field("batch", &self.batch)
            .field("concurrency", &self.concurrency)
            .field("per_destination", &self.per_destination)
            .field("lease", &self.lease)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_attempts", &self.max_attempts)
            .field("timeout", &self.timeout)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            poll: Duration::from_millis(500),
            batch: 32,
            concurrency: 64,
            per_destination: 8,
            lease: Duration::from_secs(60),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 10,
            timeout: Duration::from_secs(10),
            retention: None,
            secrets: std::sync::Arc::new(|name| std::env::var(name).ok()),
        }
    }
}

/// The signature header's value for `body` at `t` (Unix seconds).
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// The delay before retry `attempt` (1 = the first retry): doubling from
/// `backoff`, capped, with "equal jitter" — between half and all of it — so
/// tasks that failed together do not retry together.
pub fn backoff(config: &DispatchConfig, attempt: u32) -> Duration {
    let doubled = config
        .backoff
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let delay = doubled.min(config.max_backoff);
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
    delay.mul_f64(0.5 + unit / 2.0)
}

/// Runs the dispatcher until the process ends. It keeps wall-clock time, not
/// the API's clock: leases and backoff are about real seconds.
///
/// Sends are independent: the loop leases more while others are in flight, as
/// long as there is room overall, and a task whose destination is full goes
/// back in line (no attempt counted) instead of waiting behind a slow receiver.
pub async fn run(state: AppState, config: DispatchConfig) {
    let client = match reqwest::Client::builder().timeout(config.timeout).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "the dispatcher cannot build its HTTP client");
            return;
        }
    };
    let overall = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut destinations = Destinations::new(config.per_destination.max(1));
    let mut sends = tokio::task::JoinSet::new();
    let mut last_purge: Option<DateTime<Utc>> = None;
    let mut last_summary: Option<DateTime<Utc>> = None;
    loop {
        let mut changed = false;
        while sends.try_join_next().is_some() {
            changed = true;
        }
        let now = Utc::now();
        if let Some(retention) = config.retention
            && last_purge.is_none_or(|at| now - at > chrono::Duration::hours(1))
        {
            last_purge = Some(now);
            purge(&state, now, retention).await;
        }
        let room = overall
            .available_permits()
            .min(config.batch.max(1) as usize);
        let leased = if room == 0 {
            Vec::new()
        } else {
            match state
                .engine
                .lease_deliveries(now, config.lease, room as i64)
                .await
            {
                Ok(leased) => leased,
                Err(error) => {
                    tracing::error!(%error, "the dispatcher cannot lease tasks");
                    Vec::new()
                }
            }
        };
        let idle = leased.is_empty();
        changed |= !idle;
        for task in leased {
            let destination = destination(&state.engine, &task);
            let permits = overall
                .clone()
                .try_acquire_owned()
                .ok()
                .zip(destinations.try_acquire(&destination));
            match permits {
                Some(permits) => {
                    let (state, client, config) = (state.clone(), client.clone(), config.clone());
                    sends.spawn(async move {
                        deliver(&state, &client, &config, task).await;
                        drop(permits);
                    });
                }
                None => defer(&state, &config, &task).await,
            }
        }
        // The outbox gauges: after a change, but not more than ten times a second.
        let since = last_summary.map(|at| Utc::now() - at);
        if since.is_none_or(|s| s > chrono::Duration::seconds(1))
            || (changed && since.is_some_and(|s| s > chrono::Duration::milliseconds(100)))
        {
            last_summary = Some(Utc::now());
            if let Ok(summary) = state.engine.delivery_summary(Utc::now()).await {
                state.metrics.outbox(&summary);
            }
        }
        if idle {
            // Nothing due, or no room: look again after the poll, or as soon
            // as a send ends and makes room.
            tokio::select! {
                () = tokio::time::sleep(config.poll) => {}
                Some(_) = sends.join_next(), if !sends.is_empty() => {}
            }
        }
    }
}

async fn purge(state: &AppState, now: DateTime<Utc>, retention: Duration) {
    let before = now - chrono::Duration::from_std(retention).unwrap_or_default();
    match state.engine.purge(before).await {
        Ok((records, tasks)) => tracing::info!(records, tasks, "retention: purged"),
        Err(error) => tracing::error!(%error, "retention: purge failed"),
    }
}

/// A task whose destination is full goes back in line after the poll.
async fn defer(state: &AppState, config: &DispatchConfig, task: &Delivery) {
    let next_at = Engine::retry_at(Utc::now(), config.poll);
    if let Err(error) = state
        .engine
        .finish_delivery(task.id, Attempt::Deferred { next_at })
        .await
    {
        tracing::error!(task = task.id, %error, "cannot put a delivery back in line");
    }
}

/// Where a task goes: its webhook's scheme, host and port, so the calls one
/// receiver holds are counted together whatever its path.
fn destination(engine: &Engine, task: &Delivery) -> String {
    let webhook = engine
        .campaign(&task.campaign)
        .and_then(|deployed| {
            deployed
                .campaign
                .delivery
                .as_ref()
                .map(|d| d.webhook.clone())
        })
        .unwrap_or_default();
    match reqwest::Url::parse(&webhook) {
        Ok(url) => format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        ),
        Err(_) => webhook,
    }
}

/// The room each destination has for calls in flight.
#[derive(Debug)]
struct Destinations {
    each: usize,
    room: HashMap<String, Arc<Semaphore>>,
}

impl Destinations {
    fn new(each: usize) -> Self {
        Destinations {
            each,
            room: HashMap::new(),
        }
    }

    fn try_acquire(&mut self, destination: &str) -> Option<OwnedSemaphorePermit> {
        // Destinations with nothing in flight are forgotten, so the map stays
        // the size of the receivers being called.
        if self.room.len() > 1024 {
            let each = self.each;
            self.room.retain(|_, s| s.available_permits() < each);
        }
        let each = self.each;
        self.room
            .entry(destination.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(each)))
            .clone()
            .try_acquire_owned()
            .ok()
    }
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    config: &DispatchConfig,
    task: Delivery,
) {
    let outcome = send(&state.engine, client, &config.secrets, &task, Utc::now()).await;
    let attempts = u32::try_from(task.attempts)
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let attempt = match outcome {
        Ok(()) => Attempt::Delivered {
            at: Utc::now().timestamp_micros(),
        },
        Err(error) if attempts >= config.max_attempts => {
            tracing::warn!(task = task.id, attempts, %error, "delivery dead-lettered");
            Attempt::Dead { error }
        }
        Err(error) => {
            let delay = backoff(config, attempts);
            tracing::info!(task = task.id, attempts, %error, retry_in_ms = delay.as_millis() as u64, "delivery failed");
            Attempt::Retry {
                next_at: Engine::retry_at(Utc::now(), delay),
                error,
            }
        }
    };
    state.metrics.delivery_attempt(match &attempt {
        Attempt::Delivered { .. } => "delivered",
        Attempt::Retry { .. } => "retry",
        Attempt::Dead { .. } => "dead",
        Attempt::Deferred { .. } => "deferred",
    });
    if let Err(error) = state.engine.finish_delivery(task.id, attempt).await {
        tracing::error!(task = task.id, %error, "cannot record a delivery attempt");
    }
}

/// One attempt: the payload posted to the campaign's webhook; `Err` says why it failed.
async fn send(
    engine: &Engine,
    client: &reqwest::Client,
    secrets: &Secrets,
    task: &Delivery,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let deployed = engine
        .campaign(&task.campaign)
        .ok_or_else(|| format!("campaign `{}` is not deployed", task.campaign))?;
    let campaign = &deployed.campaign;
    let delivery = campaign
        .delivery
        .as_ref()
        .ok_or_else(|| format!("campaign `{}` has no delivery", campaign.id))?;
    let secret = secrets(&delivery.secret_env).ok_or_else(|| {
        format!(
            "the environment variable {} is not set",
            delivery.secret_env
        )
    })?;
    let award = campaign.awards.iter().find(|a| a.id == task.award);
    let code = engine
        .issued_code(&task.campaign, &task.request_id)
        .await
        .map_err(|e| e.to_string())?;
    let body = serde_json::json!({
        "delivery": task.id,
        "campaign": task.campaign,
        "request_id": task.request_id,
        "user": task.user,
        "award": {
            "id": task.award,
            "kind": award.map(|a| a.kind.name()),
            "title": award.and_then(|a| a.title.clone()),
            "code": code,
        },
        "created_at": task.created_at,
    })
    .to_string();
    let response = client
        .post(&delivery.webhook)
        .header("content-type", "application/json")
        .header(
            "idempotency-key",
            format!("{}/{}", task.campaign, task.request_id),
        )
        .header(
            "tombola-signature",
            signature(secret.as_bytes(), now.timestamp(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {status}"))
    }
}
