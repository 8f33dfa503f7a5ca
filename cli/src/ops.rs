//! Operator commands on the store: migrations, deliveries (the outbox and its
//! dead letters), a user's credits, and the audit log.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use tombola_engine::{Engine, Seeds};
use tombola_server::listings::{AuditEntry, Delivery, DeliverySummary};
use tombola_server::views::Credits;

#[derive(Debug, Subcommand)]
pub(crate) enum Deliveries {
    /// List outbox tasks, newest first.
    List {
        /// `pending`, `sending`, `delivered` or `dead`.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Put a dead-lettered task back in line, due now.
    Retry { id: i64 },
}

async fn engine(database_url: &str) -> Result<Engine> {
    let store = tombola_engine::store::open(database_url)
        .await
        .with_context(|| format!("cannot open {}", redact(database_url)))?;
    Ok(Engine::open(
        store,
        Seeds::Fresh,
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// A database URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Creates or upgrades the store's tables: opening a store runs its migrations.
pub(crate) fn migrate(database_url: &str) -> Result<ExitCode> {
    runtime()?
        .block_on(tombola_engine::store::open(database_url))
        .with_context(|| format!("cannot migrate {}", redact(database_url)))?;
    println!("{} is up to date", redact(database_url));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn deliveries(database_url: &str, command: Deliveries, json: bool) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let engine = engine(database_url).await?;
        match command {
            Deliveries::List { state, limit } => {
                if let Some(s) = &state
                    && !["pending", "sending", "delivered", "dead"].contains(&s.as_str())
                {
                    bail!("--state must be pending, sending, delivered or dead, not `{s}`");
                }
                let tasks = engine.deliveries(state.as_deref(), limit).await?;
                let summary = engine.delivery_summary(chrono::Utc::now()).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "deliveries": tasks.into_iter().map(Delivery::from).collect::<Vec<_>>(),
                            "summary": DeliverySummary::from(summary),
                        })
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                let states: Vec<String> = summary
                    .states
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect();
                println!(
                    "outbox: {} (oldest undelivered {:.0} s)",
                    if states.is_empty() {
                        "empty".to_string()
                    } else {
                        states.join(", ")
                    },
                    summary.lag_seconds
                );
                for t in tasks {
                    println!(
                        "{:>8}  {:<9}  {:>3} attempts  {}/{}  user {}  award {}{}",
                        t.id,
                        t.state,
                        t.attempts,
                        t.campaign,
                        t.request_id,
                        t.user,
                        t.award,
                        t.last_error
                            .map(|e| format!("  last error: {e}"))
                            .unwrap_or_default()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Deliveries::Retry { id } => {
                let now = chrono::Utc::now();
                if !engine.retry_delivery(id, now).await? {
                    bail!("no dead-lettered delivery has id {id}");
                }
                engine
                    .audit("cli", "retry_delivery", &id.to_string(), "", now)
                    .await?;
                println!("delivery {id} is pending again");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

pub(crate) fn credits(database_url: &str, user: &str, limit: u32, json: bool) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let engine = engine(database_url).await?;
        let credits = engine.credits(user, limit).await?;
        if json {
            println!("{}", serde_json::to_string(&Credits::from(credits))?);
            return Ok(ExitCode::SUCCESS);
        }
        println!("{}: {} credits", credits.user, credits.balance);
        for e in credits.entries {
            println!(
                "  {}  {:>10}  {:<24}  {}",
                e.at.to_rfc3339(),
                e.delta,
                e.reason,
                e.reference
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn audit(database_url: &str, limit: u32, json: bool) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let engine = engine(database_url).await?;
        let entries = engine.audit_log(None, limit).await?;
        if json {
            let entries: Vec<AuditEntry> = entries.into_iter().map(AuditEntry::from).collect();
            println!("{}", serde_json::json!({ "entries": entries }));
            return Ok(ExitCode::SUCCESS);
        }
        for e in entries {
            println!(
                "{:>6}  {}  {:<6}  {:<15}  {}  {}",
                e.id,
                e.at.to_rfc3339(),
                e.actor,
                e.action,
                e.target,
                e.detail
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
