//! tombola's HTTP API over the engine: deploys, draws, grants, accounts and
//! prize lists, as JSON, with errors as `application/problem+json`.
//!
//! `app(state)` builds the router, so tests drive it in process with
//! `tower::ServiceExt::oneshot`; `tombola serve` binds it to a socket. The
//! OpenAPI document is generated from the same handlers ([`openapi`]).

pub mod answers;
mod auth;
mod console;
pub mod dispatch;
mod error;
mod extract;
mod input;
mod limits;
pub mod listen;
pub mod listings;
mod observe;
mod routes;
mod utf16;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use chrono::{DateTime, Utc};
use tokio_util::task::TaskTracker;
use tombola_engine::Engine;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use auth::SecuritySchemes;

pub use error::{ApiError, PROBLEM_BASE, Problem};
pub use input::convert as json_value;
pub use limits::RateLimits;
pub use routes::simulate::{
    SimulationAsk, SimulationFailed, Simulator, Stop, TIME_LIMIT as SIMULATION_TIME_LIMIT,
};

/// Largest request body accepted; larger ones are refused with 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The clock the API reads; injected so tests control time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared state: the engine, the clock, credentials and limits.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub clock: Clock,
    /// The bearer token admin calls must carry; `None` refuses every admin call.
    pub admin_token: Option<Arc<str>>,
    /// `serve --dev`'s API key: accepted by this process only, never stored.
    pub dev_key: Option<Arc<str>>,
    /// `serve --dev`'s well-known admin token, which the console offers at
    /// sign-in; `None` unless the server runs with it.
    pub dev_admin_token: Option<Arc<str>>,
    /// `serve --dev`: serve only requests that name a loopback host, since the
    /// development credentials are well known.
    pub loopback_only: bool,
    /// How long a draw or grant may take before the caller is told it is still
    /// running (it completes anyway; its answer is then fetched by request id).
    pub request_timeout: Duration,
    /// Writes run as tasks of their own, so a caller that leaves cannot cut a
    /// transaction short; shutdown waits for them here.
    pub tasks: TaskTracker,
    /// What `/v1/authoring/simulate` runs; `None` answers it 501.
    pub(crate) simulation: Option<routes::simulate::Simulation>,
    pub(crate) keys: auth::KeyCache,
    pub(crate) limits: Arc<limits::Limiters>,
    pub(crate) metrics: Arc<observe::Metrics>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        AppState {
            engine,
            clock: Arc::new(Utc::now),
            admin_token: None,
            dev_key: None,
            dev_admin_token: None,
            loopback_only: false,
            request_timeout: Duration::from_secs(10),
            tasks: TaskTracker::new(),
            simulation: None,
            keys: auth::KeyCache::default(),
            limits: Arc::new(limits::Limiters::new(RateLimits::default())),
            metrics: Arc::new(observe::Metrics::default()),
        }
    }

    pub fn with_admin_token(mut self, token: Option<&str>) -> Self {
        self.admin_token = token.map(Arc::from);
        self
    }

    pub fn with_dev_key(mut self, key: Option<&str>) -> Self {
        self.dev_key = key.map(Arc::from);
        self
    }

    pub fn with_dev_admin_token(mut self, token: Option<&str>) -> Self {
        self.dev_admin_token = token.map(Arc::from);
        self
    }

    /// Serves `/v1/authoring/simulate` with `simulator`, stopping each
    /// simulation after `limit` (`tombola serve`: [`SIMULATION_TIME_LIMIT`]).
    pub fn with_simulator(mut self, simulator: Arc<dyn Simulator>, limit: Duration) -> Self {
        self.simulation = Some(routes::simulate::Simulation::new(simulator, limit));
        self
    }

    pub fn with_loopback_only(mut self, only: bool) -> Self {
        self.loopback_only = only;
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = Arc::new(limits::Limiters::new(limits));
        self
    }

    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tombola",
        description = "Campaigns, draws, grants and prize lists. App calls carry an API key, admin calls the admin token, both as `Authorization: Bearer …`. Errors are `application/problem+json` with a stable `type`. A method a path has no operation for is 405 `method-not-allowed`, with an `Allow` header.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(
        Problem,
        input::Identifier,
        routes::accounts::PeriodName,
        routes::deliveries::DeliveryStateName
    )),
    tags(
        (name = "app", description = "Calls the product's backend makes, with an API key"),
        (name = "admin", description = "Deploys, campaign state, statistics and API keys, with the admin token"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
struct ApiDoc;

/// The routes in the order of the OpenAPI document's paths (`preserve_path_order`).
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use routes::{
        accounts, authoring, campaigns, deliveries, draws, keys, operations, reading, simulate,
        versions,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(operations::healthz))
        .routes(routes!(operations::readyz))
        .routes(routes!(operations::metrics))
        .routes(routes!(campaigns::list_campaigns))
        .routes(routes!(campaigns::validate))
        .routes(routes!(campaigns::deploy, campaigns::get_campaign))
        .routes(routes!(campaigns::open_campaign))
        .routes(routes!(campaigns::close_campaign))
        .routes(routes!(campaigns::stats))
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::get_version))
        .routes(routes!(versions::diff_versions))
        .routes(routes!(versions::export_source))
        .routes(routes!(versions::rollback))
        .routes(routes!(versions::diff_live))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(draws::draw))
        .routes(routes!(draws::stored_draw))
        .routes(routes!(draws::grant))
        .routes(routes!(reading::user_status))
        .routes(routes!(reading::prize_list))
        .routes(routes!(reading::tiers))
        .routes(routes!(reading::history))
        .routes(routes!(accounts::event))
        .routes(routes!(accounts::event_done))
        .routes(routes!(accounts::exchange))
        .routes(routes!(accounts::credits))
        .routes(routes!(accounts::adjust))
        .routes(routes!(deliveries::list_deliveries))
        .routes(routes!(deliveries::retry_delivery))
        .routes(routes!(deliveries::audit_log))
        .routes(routes!(campaigns::upload_codes))
        .routes(routes!(authoring::analyze))
        .routes(routes!(authoring::complete))
        .routes(routes!(authoring::hover))
        .routes(routes!(simulate::simulate))
        .split_for_parts()
        .map_second(with_common_responses)
}

trait MapSecond<A, B> {
    fn map_second(self, f: impl FnOnce(B) -> B) -> (A, B);
}

impl<A, B> MapSecond<A, B> for (A, B) {
    fn map_second(self, f: impl FnOnce(B) -> B) -> (A, B) {
        (self.0, f(self.1))
    }
}

/// Adds what every call of a kind may answer, so the handlers need not repeat
/// it and the document cannot leave one out: 401 and 403 for every
/// authenticated call, 429 for app calls, 503 and (for writes) 507 for the
/// store's trouble, 400 and 422 for a path or query the extractors refuse, the
/// body's 400, 413 and 415, and 500. An answer a handler already documents
/// gets the common problem types added to its description. Every string path
/// parameter becomes an [`input::Identifier`], since `AppPath` holds every
/// segment to that rule; 405 is no operation's to document (it answers a
/// method the path has no operation for), so the API's description states it.
fn with_common_responses(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        let methods = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
        ];
        for (operation, writes) in methods {
            if let Some(operation) = operation.as_mut() {
                common_responses(path, operation, writes);
            }
        }
    }
    doc
}

/// The problem types any call of `operation` (at `path`; `writes` when it
/// changes the store) may answer, by its credential, parameters and body.
fn common_responses(path: &str, operation: &mut utoipa::openapi::path::Operation, writes: bool) {
    use utoipa::openapi::RefOr;
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = "Success".into();
        }
    }
    let tags = operation.tags.clone().unwrap_or_default();
    let app = tags.iter().any(|t| t == "app");
    if !app && !tags.iter().any(|t| t == "admin") {
        return;
    }
    let (in_path, in_query) = identifier_parameters(operation);
    debug_assert_eq!(in_path, path.contains('{'), "{path}");
    add(
        operation,
        "401",
        "`unauthenticated`: no `Authorization: Bearer` header",
    );
    add(
        operation,
        "403",
        if app {
            "`forbidden`: unknown or revoked API key"
        } else {
            "`forbidden`: wrong admin token, or admin calls disabled"
        },
    );
    if app {
        add(
            operation,
            "429",
            "`rate-limited`: over the key's or the user's rate; see `Retry-After`",
        );
    }
    if in_path {
        add(
            operation,
            "400",
            "`malformed-path`: a path segment not UTF-8, or not a number where one is expected",
        );
        add(
            operation,
            "422",
            "`invalid-input`: a path segment that is not an identifier",
        );
    }
    if in_query {
        add(
            operation,
            "400",
            "`malformed-query`: a query parameter not of its type, or given twice",
        );
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if operation.request_body.is_some() {
        add(operation, "413", "`body-too-large`: over 8 MiB");
        add(
            operation,
            "400",
            if json_body {
                "`malformed-body`: not JSON, or not UTF-8"
            } else {
                "`malformed-body`: not UTF-8, or empty"
            },
        );
    }
    if json_body {
        add(
            operation,
            "415",
            "`unsupported-media-type`: a JSON body without `Content-Type: application/json`",
        );
    }
    add(
        operation,
        "500",
        "`internal`: details are in the server's log, under the answer's `X-Request-Id`",
    );
    add(
        operation,
        "503",
        "`store-unavailable`: the database did not answer; nothing was written, retry (with the same request id)",
    );
    if writes {
        add(
            operation,
            "507",
            "`storage-full`: the database is out of space; nothing was written, retry once space is freed",
        );
    }
}

/// Makes every string path parameter an [`input::Identifier`]; whether
/// `operation` has path and query parameters.
fn identifier_parameters(operation: &mut utoipa::openapi::path::Operation) -> (bool, bool) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{Schema, Type};
    use utoipa::openapi::{Ref, RefOr};
    let parameters = operation.parameters.iter_mut().flatten();
    let (mut in_path, mut in_query) = (false, false);
    for parameter in parameters {
        match parameter.parameter_in {
            ParameterIn::Path => {
                in_path = true;
                if let Some(RefOr::T(Schema::Object(object))) = &parameter.schema
                    && object.schema_type == Type::String.into()
                {
                    parameter.schema = Some(Ref::from_schema_name("Identifier").into());
                }
            }
            ParameterIn::Query => in_query = true,
            _ => {}
        }
    }
    (in_path, in_query)
}

/// Adds `description` to `operation`'s answer `status`, or the answer as a
/// problem if it has none.
fn add(operation: &mut utoipa::openapi::path::Operation, status: &str, description: &str) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    match operation.responses.responses.get_mut(status) {
        Some(RefOr::T(response)) if !response.description.contains(description) => {
            response.description = format!("{}; {description}", response.description);
        }
        Some(_) => {}
        None => {
            let problem = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            operation
                .responses
                .responses
                .insert(status.into(), problem.into());
        }
    }
}

/// The OpenAPI 3.1 document of every route, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

/// The API's routes, the OpenAPI document at `/openapi.json`, its docs page
/// at `/docs` and the browser console at `/console`.
pub fn app(state: AppState) -> Router {
    let (router, document) = parts();
    router
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", document))
        .merge(console::router())
        .fallback(error::no_route)
        .layer(axum::middleware::from_fn(error::as_problem))
        // Campaign files may be up to 8 MiB (the loader's own limit); JSON calls are small.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::loopback_host_only,
        ))
        .layer(axum::middleware::from_fn(listen::close_if_body_unread))
        // Outermost, so every answer is logged and counted with its request
        // id, a 413 refused from the head included.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}
