//! The `tombola` command line: parses the arguments and hands each command to
//! its module.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::check::CheckFormat;
use crate::diff::DiffFormat;
use crate::graph::GraphFormat;
use crate::simulate::SimulateFormat;
use crate::test_cmd::TestFormat;

mod check;
mod compile;
mod diff;
mod files;
mod fmt;
mod graph;
mod lsp;
mod new;
mod ops;
mod scenario;
mod schema;
mod serve;
mod simulate;
mod test_cmd;
mod watch;

#[derive(Debug, Parser)]
#[command(
    name = "tombola",
    version,
    about = "Campaigns as code: check, compile and run raffles, rule trees and rebates"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check campaign files and folders; exit 1 on any error.
    Check {
        /// Files, or folders searched for *.yaml and *.yml (scenario files *.test.yaml are skipped).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Check as of this time (RFC 3339, e.g. 2026-03-01T09:00:00Z) instead of the clock:
        /// a window that has ended by then is a warning.
        #[arg(long, env = "TOMBOLA_NOW")]
        now: Option<DateTime<Utc>>,
        /// Check again whenever a file changes, on a cleared screen, until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Lay campaign and scenario files out in the canonical layout, in place.
    Fmt {
        /// Files, or folders searched for *.yaml and *.yml.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing: print a diff for each file that is not formatted and exit 1.
        #[arg(long)]
        check: bool,
    },
    /// Start a campaign from a template, with a scenario file that tests it.
    New {
        /// The template (`tombola new --list` names them).
        #[arg(required_unless_present = "list")]
        template: Option<String>,
        /// The campaign file to write (default `<template>.yaml`); its name is the
        /// campaign's id, and the scenarios go beside it in `<name>.test.yaml`.
        file: Option<PathBuf>,
        /// List the templates.
        #[arg(long, conflicts_with = "template")]
        list: bool,
    },
    /// Print the JSON Schema of campaign files (or, with --scenario or --profile, of
    /// scenario files or simulation profiles).
    Schema {
        #[arg(long, conflicts_with = "profile")]
        scenario: bool,
        #[arg(long)]
        profile: bool,
    },
    /// Run scenario files (`*.test.yaml`) against the real engine; exit 1 on any failure.
    Test {
        /// Scenario files, or folders searched for `*.test.yaml`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
        /// List the chain rules, tree nodes and routes no scenario exercised.
        #[arg(long)]
        coverage: bool,
        /// Fail when a campaign's coverage is below this percentage.
        #[arg(long)]
        min_coverage: Option<f64>,
        /// Run again whenever a scenario or campaign file changes, on a cleared
        /// screen, until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Print a campaign's compiled workflow graph (IR) as JSON.
    Compile { file: PathBuf },
    /// Serve the HTTP API, deploying every campaign of a folder and watching it.
    Serve(serve::ServeArgs),
    /// Create or upgrade the store's tables (the server also does this at start).
    Migrate {
        /// `sqlite://PATH` (created if missing) or `postgres://…`.
        #[arg(
            long,
            env = "TOMBOLA_DATABASE_URL",
            default_value = "sqlite://tombola.db"
        )]
        database_url: String,
    },
    /// Simulate a campaign: users drawing, signing in and buying draws day by day,
    /// with the real engine, caps, stock, locks, tiers and rebates.
    Simulate {
        file: PathBuf,
        #[command(flatten)]
        flags: simulate::Flags,
        #[arg(long, value_enum, default_value_t = SimulateFormat::Human)]
        format: SimulateFormat,
        /// Also write a self-contained HTML report with charts.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// What changed between two versions of a campaign: awards, rates, expected
    /// credits and cost per draw, stock, caps, locks, rebates.
    Diff {
        /// The old file (omit with --git).
        #[arg(required_unless_present = "git")]
        old: Option<PathBuf>,
        /// The new file.
        #[arg(required_unless_present = "git")]
        new: Option<PathBuf>,
        /// Compare FILE with its version at this git revision: `tombola diff --git main FILE`.
        #[arg(long, value_name = "REV")]
        git: Option<String>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
        format: DiffFormat,
    },
    /// Inspect the outbox: external awards on their way to webhooks, and dead letters.
    Deliveries {
        #[command(subcommand)]
        command: ops::Deliveries,
        #[arg(
            long,
            env = "TOMBOLA_DATABASE_URL",
            default_value = "sqlite://tombola.db",
            global = true
        )]
        database_url: String,
        /// Print JSON instead of text.
        #[arg(long, global = true)]
        json: bool,
    },
    /// A user's credit balance and latest ledger entries.
    Credits {
        user: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// The audit log of admin actions, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Serve the Language Server Protocol on stdin and stdout, for editors:
    /// diagnostics, completion, hover, definitions, rename and quick fixes.
    Lsp,
    /// Draw a campaign's chain and trees.
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
}

// The options of the commands that read the store and print what they find.
// No doc comments: clap would print them, and the help text stays as it was.
#[derive(Debug, clap::Args)]
struct ReadArgs {
    #[arg(
        long,
        env = "TOMBOLA_DATABASE_URL",
        default_value = "sqlite://tombola.db"
    )]
    database_url: String,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// `tombola simulate … | head` closes the pipe early: Rust ignores SIGPIPE, so
/// `print!` meets EPIPE and panics. A reader that went away is no error; the
/// command stops quietly, as `cat` would, and every other panic reports as usual.
fn quiet_on_broken_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            now,
            watch,
        } => {
            let run = || check::check(&paths, format, deny_warnings, now.unwrap_or_else(Utc::now));
            if watch {
                watch::watch(&paths, run)
            } else {
                run()
            }
        }
        Command::Fmt { paths, check } => fmt::fmt(&paths, check),
        Command::New {
            template,
            file,
            list,
        } => match template {
            Some(template) if !list => new::new(&template, file.as_deref()),
            _ => Ok(new::list()),
        },
        Command::Schema { scenario, profile } => schema::schema(scenario, profile),
        Command::Test {
            paths,
            format,
            coverage,
            min_coverage,
            watch,
        } => {
            let options = test_cmd::CoverageOptions {
                show: coverage,
                min: min_coverage,
            };
            let run = || test_cmd::test(&paths, format, options);
            if watch {
                watch::watch(&paths, run)
            } else {
                run()
            }
        }
        Command::Compile { file } => compile::compile(&file),
        Command::Serve(args) => {
            serve::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            file,
            flags,
            format,
            html,
        } => simulate::command(&file, &flags, format, html.as_deref()),
        Command::Diff {
            old,
            new,
            git,
            format,
        } => diff::command(old, new, git, format),
        Command::Deliveries {
            command,
            database_url,
            json,
        } => ops::deliveries(&database_url, command, json),
        Command::Credits { user, limit, read } => {
            ops::credits(&read.database_url, &user, limit, read.json)
        }
        Command::Audit { limit, read } => ops::audit(&read.database_url, limit, read.json),
        Command::Migrate { database_url } => ops::migrate(&database_url),
        Command::Graph { file, format } => graph::graph(&file, format),
        Command::Lsp => lsp::run(),
    }
}
