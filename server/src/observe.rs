//! What operators see: request ids and a log line per request (tracing), and
//! Prometheus metrics (served, with health and readiness, by `routes::operations`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use tracing::Instrument;

use crate::AppState;
use crate::error::ProblemType;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DrawLabels {
    campaign: String,
    award: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    r#type: String,
}

/// The server's metrics and the registry that renders them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    draws: Family<DrawLabels, Counter>,
    requests: Family<StatusLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    errors: Family<ErrorLabels, Counter>,
    deliveries: Family<StateLabels, Gauge>,
    attempts: Family<OutcomeLabels, Counter>,
    lag: Gauge<f64, AtomicU64>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s, doubling.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tombola");
        let draws = Family::<DrawLabels, Counter>::default();
        registry.register(
            "draws",
            "Draws answered, by campaign and award",
            draws.clone(),
        );
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register("errors", "Error answers by problem type", errors.clone());
        let deliveries = Family::<StateLabels, Gauge>::default();
        registry.register(
            "deliveries",
            "Outbox tasks by state (pending, sending, delivered, dead: the dead letters)",
            deliveries.clone(),
        );
        let attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Webhook attempts by outcome",
            attempts.clone(),
        );
        let lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest undelivered outbox task",
            lag.clone(),
        );
        Metrics {
            registry,
            draws,
            requests,
            latency,
            errors,
            deliveries,
            attempts,
            lag,
        }
    }
}

impl Metrics {
    pub(crate) fn draw(&self, campaign: &str, award: &str) {
        self.draws
            .get_or_create(&DrawLabels {
                campaign: campaign.to_string(),
                award: award.to_string(),
            })
            .inc();
    }

    pub(crate) fn outbox(&self, summary: &tombola_engine::DeliverySummary) {
        for state in ["pending", "sending", "delivered", "dead"] {
            self.deliveries
                .get_or_create(&StateLabels {
                    state: state.to_string(),
                })
                .set(summary.states.get(state).copied().unwrap_or(0));
        }
        self.lag.set(summary.lag_seconds);
    }

    pub(crate) fn delivery_attempt(&self, outcome: &str) {
        self.attempts
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A caller's `X-Request-Id` if it is sane, else a fresh one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            // Without randomness a request id still helps; a zero id is not worth failing for.
            let _ = getrandom::fill(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        })
}

/// Around every request: a span with its id, a log line with the outcome, the metrics.
pub(crate) async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    // Labels come from closed sets only, so callers cannot grow the metrics.
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS" | "PATCH") => m,
        _ => "other",
    }
    .to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %method,
        route = %route,
        key = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let problem = response.extensions().get::<ProblemType>().map(|p| p.0);
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            problem,
            "answered"
        );
    });
    let metrics = &state.metrics;
    metrics
        .requests
        .get_or_create(&StatusLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&RouteLabels { method, route })
        .observe(elapsed.as_secs_f64());
    if let Some(problem) = problem {
        metrics
            .errors
            .get_or_create(&ErrorLabels {
                r#type: problem.to_string(),
            })
            .inc();
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
