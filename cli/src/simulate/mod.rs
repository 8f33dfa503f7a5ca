//! `tombola simulate`: Monte Carlo over a campaign with the real engine — the
//! users of a profile drawing, signing in and buying draws day by day under the
//! real caps, stock, locks, tiers and rebates, over one run or several — and a
//! report of what it gave.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use rust_decimal::Decimal;

use crate::files;

mod html;
pub(crate) mod profile;
mod report;
mod run;
mod tally;
mod text;

pub(crate) use profile::json_schema;

// How the simulated users behave: `tombola simulate`'s options, so the field
// docs are its help text. A plain comment, as clap would print a doc comment.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Flags {
    /// The users as segments, with coupon codes on hand: a profile file
    /// (schema/profile.schema.json). Without it, one segment of the flags below.
    #[arg(long)]
    pub(crate) profile: Option<PathBuf>,
    /// Simulated users [default: the profile's, else 1000].
    #[arg(long)]
    pub(crate) users: Option<u32>,
    /// Days to simulate; default: the profile's, else the campaign's window (30 if it has no end).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Draws each user tries per day.
    #[arg(long, default_value_t = 3, conflicts_with = "profile")]
    pub(crate) draws_per_day: u32,
    /// The chance a user signs in on a day (if the campaign declares `sign_in`).
    #[arg(long, default_value_t = 0.5, conflicts_with = "profile")]
    pub(crate) sign_in: f64,
    /// Credits each user starts with.
    #[arg(long, default_value = "0", conflicts_with = "profile")]
    pub(crate) credits: Decimal,
    /// A SKU users buy with credits when they have no draws left.
    #[arg(long, conflicts_with = "profile")]
    pub(crate) exchange: Option<String>,
    /// The first run's seed; each further run takes the next.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Runs, each with a seed of its own; the report gives p5 and p95 across them.
    #[arg(long, default_value_t = 1)]
    pub(crate) runs: u32,
    /// The store: `memory:` (default) or `sqlite://PATH`, to compare runs.
    #[arg(long, default_value = "memory:", hide = true)]
    pub(crate) store: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SimulateFormat {
    Human,
    Json,
}

/// The `tombola simulate` command: simulates `file` (which must check clean)
/// and prints the report, and writes it as HTML to `html_path` if given.
pub(crate) fn command(
    file: &Path,
    flags: &Flags,
    format: SimulateFormat,
    html_path: Option<&Path>,
) -> Result<ExitCode> {
    let Some((source, campaign)) = files::compiled(file)? else {
        return Ok(ExitCode::from(1));
    };
    let profile = match &flags.profile {
        Some(path) => profile::load(path, flags, &campaign)?,
        None => profile::from_flags(flags, &campaign)?,
    };
    let bar = progress();
    // One thread: the run is one sequence of draws, and worker threads would
    // only wait beside it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let tally = runtime.block_on(run::run(&source, &campaign, &profile, &bar, &|| false))?;
    bar.finish_and_clear();
    let path = flags.profile.as_ref().map(|p| p.display().to_string());
    let result = report::build(&campaign, &profile, path, tally);
    match format {
        SimulateFormat::Human => print!("{}", text::human(&result)),
        SimulateFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
    }
    if let Some(path) = html_path {
        std::fs::write(path, html::page(&result))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub(crate) fn progress() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} user-days {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// `tombola simulate` as the server's simulator, for the console: one
/// segment of alike users on the in-memory store, as the flags' defaults.
#[derive(Debug)]
pub(crate) struct ServeSimulator;

impl tombola_server::Simulator for ServeSimulator {
    fn simulate(
        &self,
        source: &str,
        campaign: &tombola_ir::Campaign,
        ask: &tombola_server::SimulationAsk,
        stop: &tombola_server::Stop,
    ) -> Result<serde_json::Value, tombola_server::SimulationFailed> {
        use tombola_server::SimulationFailed;
        let flags = Flags {
            profile: None,
            users: Some(ask.users),
            days: Some(ask.days),
            draws_per_day: ask.draws_per_day,
            sign_in: 0.5,
            credits: Decimal::ZERO,
            exchange: None,
            seed: ask.seed,
            runs: 1,
            store: "memory:".into(),
        };
        let invalid = |error: anyhow::Error| SimulationFailed::Invalid(format!("{error:#}"));
        let broken = |error: anyhow::Error| SimulationFailed::Broken(format!("{error:#}"));
        let profile = profile::from_flags(&flags, campaign).map_err(invalid)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| broken(error.into()))?;
        let bar = indicatif::ProgressBar::hidden();
        let tally = runtime
            .block_on(run::run(source, campaign, &profile, &bar, &|| stop.now()))
            .map_err(|error| match error.downcast::<run::Stopped>() {
                Ok(_) => SimulationFailed::Stopped,
                // The file checked clean and the store is in memory: a
                // failing run is the simulator's fault.
                Err(other) => broken(other),
            })?;
        let result = report::build(campaign, &profile, None, tally);
        serde_json::to_value(&result).map_err(|error| broken(error.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tombola_server::{SimulationAsk, SimulationFailed, Simulator, Stop};

    use super::ServeSimulator;

    fn unlock() -> (String, tombola_ir::Campaign) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../campaigns/big-market-unlock.yaml"
        );
        let source = std::fs::read_to_string(path).unwrap();
        let campaign = tombola_dsl::check_source(&source).campaign.unwrap();
        (source, campaign)
    }

    #[test]
    fn the_servers_simulator_stops_at_its_deadline() {
        let (source, campaign) = unlock();
        let ask = SimulationAsk {
            users: 2_000,
            days: 300,
            draws_per_day: 3,
            seed: 1,
        };
        let started = Instant::now();
        let stopped = ServeSimulator.simulate(&source, &campaign, &ask, &Stop::at(started));
        assert!(
            matches!(stopped, Err(SimulationFailed::Stopped)),
            "{stopped:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let small = SimulationAsk {
            users: 3,
            days: 2,
            ..ask
        };
        let later = Stop::at(Instant::now() + Duration::from_secs(60));
        let report = ServeSimulator
            .simulate(&source, &campaign, &small, &later)
            .unwrap();
        assert_eq!(report["users"], 3);
    }
}
