//! `tombola serve`: logging, the store, the campaigns folder (deployed at
//! start, then watched), the HTTP listener and a graceful shutdown.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tombola_dsl::render;
use tombola_engine::{DeployError, Engine, Provenance};

use crate::files;
use crate::ops::redact;

/// The development credentials of `serve --dev`: printed, accepted on loopback only.
const DEV_API_KEY: &str = "tbk_dev";
const DEV_ADMIN_TOKEN: &str = "dev-admin";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TOMBOLA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "TOMBOLA_DATABASE_URL",
        default_value = "sqlite://tombola.db"
    )]
    database_url: String,
    /// Folder of campaign files deployed at start and redeployed when they change
    /// (`*.test.yaml` skipped). Its campaigns belong to it: the API refuses to
    /// deploy over them, and a file cannot take over a campaign the API deployed.
    #[arg(long, default_value = "campaigns")]
    campaigns: PathBuf,
    /// Bearer token for admin calls; without one, admin calls are refused (unless --dev).
    #[arg(long, env = "TOMBOLA_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Development mode: accept the API key `tbk_dev` and, unless one is set, the
    /// admin token `dev-admin`, and print both. Loopback addresses only.
    #[arg(long)]
    dev: bool,
    /// How often to look for changed campaign files, in milliseconds; 0 turns watching off.
    #[arg(long, env = "TOMBOLA_WATCH_MS", default_value_t = 1000)]
    watch_ms: u64,
    /// Calls per second allowed per API key (a burst of as many is allowed).
    #[arg(long, env = "TOMBOLA_RATE_LIMIT_KEY")]
    rate_limit_key: Option<NonZeroU32>,
    /// Calls per second allowed per user of a campaign.
    #[arg(long, env = "TOMBOLA_RATE_LIMIT_USER")]
    rate_limit_user: Option<NonZeroU32>,
    /// Seconds a draw or grant may take before the caller is told it is still
    /// running; it completes anyway and its answer is fetched by request id.
    #[arg(long, env = "TOMBOLA_REQUEST_TIMEOUT", default_value_t = 10.0)]
    request_timeout: f64,
    /// Log lines as text or as JSON objects (one per line), on stderr. The level
    /// comes from TOMBOLA_LOG (default `info`).
    #[arg(long, env = "TOMBOLA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Deliver external awards to campaign webhooks from this process (several
    /// servers may; each task goes to one at a time).
    #[arg(long, env = "TOMBOLA_DELIVERY", default_value_t = true, action = clap::ArgAction::Set)]
    delivery: bool,
    /// Webhook attempts before a delivery is dead-lettered.
    #[arg(long, env = "TOMBOLA_DELIVERY_MAX_ATTEMPTS", default_value_t = 10)]
    delivery_max_attempts: u32,
    /// The first retry's delay in milliseconds; each later one doubles (with jitter), up to an hour.
    #[arg(long, env = "TOMBOLA_DELIVERY_BACKOFF_MS", default_value_t = 1000)]
    delivery_backoff_ms: u64,
    /// How often the dispatcher looks for due deliveries when idle, in milliseconds.
    #[arg(long, env = "TOMBOLA_DELIVERY_POLL_MS", default_value_t = 500)]
    delivery_poll_ms: u64,
    /// How long a dispatcher holds a task it is sending, in milliseconds; a task
    /// held by a server that died is sent again once this passes. Keep it well
    /// above the webhook call's timeout (`--delivery-timeout-ms`).
    #[arg(long, env = "TOMBOLA_DELIVERY_LEASE_MS", default_value_t = 60_000)]
    delivery_lease_ms: u64,
    /// Webhook calls in flight at once, across all receivers.
    #[arg(long, env = "TOMBOLA_DELIVERY_CONCURRENCY", default_value_t = 64)]
    delivery_concurrency: usize,
    /// Webhook calls in flight at once to one receiver (scheme, host and port);
    /// its other tasks wait their turn without holding anyone else's.
    #[arg(long, env = "TOMBOLA_DELIVERY_PER_DESTINATION", default_value_t = 8)]
    delivery_per_destination: usize,
    /// How long one webhook call may take, in milliseconds, before it counts as failed.
    #[arg(long, env = "TOMBOLA_DELIVERY_TIMEOUT_MS", default_value_t = 10_000)]
    delivery_timeout_ms: u64,
    /// Days to keep idempotency records and delivered tasks; 0 keeps them forever.
    #[arg(long, env = "TOMBOLA_RETENTION_DAYS", default_value_t = 30)]
    retention_days: u64,
    /// Seconds after SIGTERM or Ctrl-C that requests in flight may take: new
    /// connections stop at once, and connections still open at the deadline are
    /// cut. Writes the store already accepted finish either way.
    #[arg(long, env = "TOMBOLA_SHUTDOWN_TIMEOUT", default_value_t = 30.0)]
    shutdown_timeout: f64,
    /// Seconds a client may take from a request's first byte to the end of its head.
    #[arg(long, env = "TOMBOLA_HEADER_TIMEOUT", default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds a request's body may go without a byte arriving while the
    /// server waits for it; the request is then refused and its connection closed.
    #[arg(long, env = "TOMBOLA_BODY_TIMEOUT", default_value_t = 10.0)]
    body_timeout: f64,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, env = "TOMBOLA_IDLE_TIMEOUT", default_value_t = 60.0)]
    idle_timeout: f64,
    /// Connections held at once; at the cap the longest-idle one is closed to
    /// make room. Default: the open-files limit (raised to its hard limit at
    /// start) less a quarter, at most 256 fewer, kept for the database, logs
    /// and webhooks.
    #[arg(long, env = "TOMBOLA_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Fault injection for tests: hold each draw's transaction this long before committing.
    #[arg(long, hide = true, default_value_t = 0)]
    fault_commit_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOMBOLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests running several servers in one process) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

pub(crate) fn run(args: ServeArgs) -> Result<()> {
    init_logs(args.log_format);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = runtime.block_on(serve(args));
    // Every write has finished by now; what may still run is a check or a
    // simulation on a blocking thread, which writes nothing and must not keep
    // a stopped server alive (dropping the runtime would wait for it).
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

async fn serve(args: ServeArgs) -> Result<()> {
    let (request_timeout, limits) = time_limits(&args)?;
    let store = tombola_engine::store::open(&args.database_url)
        .await
        .with_context(|| format!("cannot open {}", redact(&args.database_url)))?;
    let engine = Engine::open(
        store,
        tombola_engine::Seeds::Fresh,
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await?;
    if args.fault_commit_delay_ms > 0 {
        tracing::warn!(
            ms = args.fault_commit_delay_ms,
            "fault injection: every draw's commit is delayed"
        );
        engine.inject_commit_delay(Duration::from_millis(args.fault_commit_delay_ms));
    }
    let mut folder = Folder::new(&args.campaigns);
    folder.sync(&engine, false).await?;

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    if args.dev && !address.ip().is_loopback() {
        bail!(
            "--dev accepts well-known credentials, so it only listens on loopback, not {address}"
        );
    }
    let admin_token = (args.admin_token.clone())
        .filter(|t| !t.is_empty())
        .or_else(|| args.dev.then(|| DEV_ADMIN_TOKEN.to_string()));
    let state = tombola_server::AppState::new(engine.clone())
        .with_admin_token(admin_token.as_deref())
        .with_dev_key(args.dev.then_some(DEV_API_KEY))
        .with_dev_admin_token(
            admin_token
                .as_deref()
                .filter(|t| args.dev && *t == DEV_ADMIN_TOKEN),
        )
        .with_simulator(
            std::sync::Arc::new(crate::simulate::ServeSimulator),
            tombola_server::SIMULATION_TIME_LIMIT,
        )
        .with_loopback_only(args.dev)
        .with_request_timeout(request_timeout)
        .with_rate_limits(tombola_server::RateLimits {
            per_key: args.rate_limit_key,
            per_user: args.rate_limit_user,
        });
    let tasks = state.tasks.clone();
    // The router (and its OpenAPI document, whose identifier patterns walk
    // every Unicode scalar value) is built before the banner, so "listening"
    // means ready: a client that connects on it is served, and a SIGTERM
    // sent after it reaches the shutdown handler.
    let app = tombola_server::app(state.clone());

    banner(&args, address, admin_token.as_deref());
    tracing::info!(%address, "listening");

    if args.watch_ms > 0 {
        let interval = Duration::from_millis(args.watch_ms);
        let engine = engine.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Err(error) = folder.sync(&engine, true).await {
                    tracing::error!(error = format!("{error:#}"), "watching campaigns failed");
                }
            }
        });
    }
    if args.delivery {
        let config = dispatch_config(&args);
        tokio::spawn(tombola_server::dispatch::run(state.clone(), config));
    }
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout_s = limits.header_timeout.as_secs_f64(),
        idle_timeout_s = limits.idle_timeout.as_secs_f64(),
        shutdown_timeout_s = limits.shutdown_timeout.as_secs_f64(),
        "connection limits"
    );
    tombola_server::listen::serve(listener, app, limits, shutdown()).await;
    finish_writes(&tasks).await;
    tracing::info!("stopped");
    Ok(())
}

/// The request timeout and the listener's limits from `serve`'s flags.
fn time_limits(args: &ServeArgs) -> Result<(Duration, tombola_server::listen::Limits)> {
    let seconds = |name: &str, value: f64| {
        if value.is_finite() && value > 0.0 && value < 1e9 {
            Ok(Duration::from_secs_f64(value))
        } else {
            Err(anyhow::anyhow!(
                "--{name} must be a positive number of seconds, not {value}"
            ))
        }
    };
    let request_timeout = seconds("request-timeout", args.request_timeout)?;
    let limits = tombola_server::listen::Limits {
        shutdown_timeout: seconds("shutdown-timeout", args.shutdown_timeout)?,
        header_timeout: seconds("header-timeout", args.header_timeout)?,
        body_timeout: seconds("body-timeout", args.body_timeout)?,
        idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
        max_connections: match args.max_connections {
            Some(0) => bail!("--max-connections must be at least 1"),
            Some(n) => n,
            None => default_max_connections(),
        },
    };
    Ok((request_timeout, limits))
}

/// The webhook dispatcher's settings from `serve`'s flags.
fn dispatch_config(args: &ServeArgs) -> tombola_server::dispatch::DispatchConfig {
    let defaults = tombola_server::dispatch::DispatchConfig::default();
    tombola_server::dispatch::DispatchConfig {
        poll: Duration::from_millis(args.delivery_poll_ms.max(1)),
        backoff: Duration::from_millis(args.delivery_backoff_ms),
        max_attempts: args.delivery_max_attempts.max(1),
        lease: Duration::from_millis(args.delivery_lease_ms.max(1)),
        concurrency: args.delivery_concurrency.max(1),
        per_destination: args.delivery_per_destination.max(1),
        timeout: Duration::from_millis(args.delivery_timeout_ms.max(1)),
        retention: (args.retention_days > 0)
            .then(|| Duration::from_secs(args.retention_days * 86_400)),
        ..defaults
    }
}

/// The banner, on stdout apart from the logs on stderr: where the server
/// listens and, in `--dev`, the development credentials.
fn banner(args: &ServeArgs, address: std::net::SocketAddr, admin_token: Option<&str>) {
    println!("listening on http://{address}");
    println!("  store: {}", redact(&args.database_url));
    println!("  docs:  http://{address}/docs");
    println!("  console: http://{address}/console");
    if args.dev {
        println!("  development mode: these credentials are for this machine only");
        println!("  API key:     {DEV_API_KEY}");
        if let Some(token) = admin_token.filter(|t| *t == DEV_ADMIN_TOKEN) {
            println!("  admin token: {token}");
        }
    }
}

/// Writes whose callers left or timed out still finish before the process
/// ends: the store accepted them, and their request ids must replay. They
/// end when the store answers; until then, say what is awaited.
async fn finish_writes(tasks: &tokio_util::task::TaskTracker) {
    tasks.close();
    if !tasks.is_empty() {
        tracing::info!(
            writes = tasks.len(),
            "waiting for writes the store accepted to finish"
        );
    }
    loop {
        tokio::select! {
            () = tasks.wait() => break,
            () = tokio::time::sleep(Duration::from_secs(5)) => {
                tracing::warn!(writes = tasks.len(), "still waiting for the store to finish writes");
            }
        }
    }
}

/// The connection cap when none is given: the open-files limit, raised to its
/// hard limit first, less what the database pool, the log, the campaign files
/// and the webhook calls need (a quarter of it, at most 256).
fn default_max_connections() -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-files limit; assuming 1024");
            1024
        }
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let headroom = (limit / 4).min(256);
    limit.saturating_sub(headroom).max(1)
}

/// The campaigns folder and what was last read from each file.
#[derive(Debug)]
struct Folder {
    path: PathBuf,
    /// The content last deployed (or refused) per file.
    seen: HashMap<PathBuf, String>,
    /// Content seen once while watching: deployed when the next look finds it
    /// unchanged, so a file caught half-written is never deployed.
    settling: HashMap<PathBuf, String>,
    /// The last problem logged per file (or for the folder), so it is logged once.
    problems: HashMap<PathBuf, String>,
}

impl Folder {
    fn new(path: &Path) -> Self {
        Folder {
            path: path.to_path_buf(),
            seen: HashMap::new(),
            settling: HashMap::new(),
            problems: HashMap::new(),
        }
    }

    /// Logs `problem` for `path` unless it is the one already logged.
    fn problem(&mut self, path: &Path, problem: String) {
        if self.problems.get(path) != Some(&problem) {
            tracing::warn!(path = %path.display(), problem = %problem, "campaigns folder");
            self.problems.insert(path.to_path_buf(), problem);
        }
    }

    /// Deploys every file whose content changed since the last look. At start
    /// every file is deployed at once; while watching, a change is deployed when
    /// two looks in a row find the same content. A file with errors is logged
    /// and skipped: the running version stays. A removed file leaves its
    /// campaign deployed; closing one is an explicit admin call.
    async fn sync(&mut self, engine: &Engine, watching: bool) -> Result<()> {
        let files = match files::collect(std::slice::from_ref(&self.path), files::is_campaign) {
            Ok(files) => files,
            Err(error) if watching => {
                let folder = self.path.clone();
                self.problem(&folder, format!("{error:#}"));
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        for file in files {
            // A bounded read of a regular file: a few milliseconds at most, so it runs in place.
            let source = match files::read_text(&file) {
                Ok(source) => source,
                Err(error) => {
                    self.problem(&file, format!("{error:#}"));
                    continue;
                }
            };
            self.problems.remove(&file);
            if self.seen.get(&file) == Some(&source) {
                self.settling.remove(&file);
                continue;
            }
            if watching && self.settling.get(&file) != Some(&source) {
                self.settling.insert(file, source);
                continue;
            }
            self.settling.remove(&file);
            let name = file.display().to_string();
            match deploy(engine, &source, &name).await {
                Ok(d) => {
                    let what = if d.changed { "deployed" } else { "unchanged" };
                    tracing::info!(campaign = %d.campaign, version = d.version, file = %name, "{what}");
                    let mut warnings =
                        tombola_server::listings::Deployment::from(d.clone()).warnings;
                    warnings.extend(
                        engine.campaign(&d.campaign).and_then(|c| {
                            tombola_server::listings::DeployWarning::secret_missing(&c)
                        }),
                    );
                    for warning in warnings {
                        tracing::warn!(campaign = %d.campaign, file = %name, code = %warning.code, "{}", warning.message);
                    }
                }
                Err(DeployError::Invalid(why)) => {
                    let diagnostics = why
                        .downcast_ref::<tombola_dsl::Rejected>()
                        .map_or(&[][..], |r| &r.diagnostics[..]);
                    let lines = render::Lines::new(&source);
                    let rendered: String = diagnostics
                        .iter()
                        .map(|d| render::human(&name, &lines, d, false))
                        .collect();
                    tracing::error!(
                        file = %name,
                        errors = diagnostics.iter().filter(|d| d.is_error()).count(),
                        diagnostics = %rendered,
                        "not deployed: the file has errors; the running version stays"
                    );
                }
                // The store is this campaign's truth: the file stays out until
                // it names another campaign, and says so on every start.
                Err(error @ DeployError::OwnedByApi { .. }) => {
                    tracing::error!(file = %name, "not deployed: {error}");
                }
                // Not marked seen: the next look tries again.
                Err(error) => return Err(error.into()),
            }
            self.seen.insert(file, source);
        }
        Ok(())
    }
}

/// Deploys `source`, the folder's file at `path`, trying again briefly when
/// the store refuses: replicas starting together race to insert the same
/// first version, and the loser then finds it deployed and unchanged.
async fn deploy(
    engine: &Engine,
    source: &str,
    path: &str,
) -> Result<tombola_engine::Deployment, DeployError> {
    let from = Provenance::folder(path);
    let mut tries = 0;
    loop {
        match engine
            .deploy_from(source, None, &from, chrono::Utc::now())
            .await
        {
            Err(DeployError::Store(error)) if tries < 3 => {
                tries += 1;
                tracing::warn!(%error, tries, "deploy refused by the store; trying again");
                tokio::time::sleep(Duration::from_millis(100 * tries)).await;
            }
            other => return other,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM; requests in flight finish first.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
