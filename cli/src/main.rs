//! The `tombola` command line: check, schema, compile and graph campaign files, and serve the API.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tombola_dsl::{Report, graph, render};

mod diff;
mod ops;
mod scenario;
mod serve;
mod simulate;

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
    },
    /// Print the JSON Schema of campaign files (or, with --scenario, of scenario files).
    Schema {
        #[arg(long)]
        scenario: bool,
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
        /// Simulated users.
        #[arg(long, default_value_t = 1000)]
        users: u32,
        /// Days to simulate; default: the campaign's window (30 if it has no end).
        #[arg(long)]
        days: Option<u32>,
        /// Draws each user tries per day.
        #[arg(long, default_value_t = 3)]
        draws_per_day: u32,
        /// The chance a user signs in on a day (if the campaign declares `sign_in`).
        #[arg(long, default_value_t = 0.5)]
        sign_in: f64,
        /// Credits each user starts with.
        #[arg(long, default_value = "0")]
        credits: rust_decimal::Decimal,
        /// A SKU users buy with credits when they have no draws left.
        #[arg(long)]
        exchange: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = SimulateFormat::Human)]
        format: SimulateFormat,
        /// Also write a self-contained HTML report with charts.
        #[arg(long)]
        html: Option<PathBuf>,
        /// The store: `memory:` (default) or `sqlite://PATH`, to compare runs.
        #[arg(long, default_value = "memory:", hide = true)]
        store: String,
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
        #[arg(
            long,
            env = "TOMBOLA_DATABASE_URL",
            default_value = "sqlite://tombola.db"
        )]
        database_url: String,
        #[arg(long)]
        json: bool,
    },
    /// The audit log of admin actions, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(
            long,
            env = "TOMBOLA_DATABASE_URL",
            default_value = "sqlite://tombola.db"
        )]
        database_url: String,
        #[arg(long)]
        json: bool,
    },
    /// Draw a campaign's chain and trees.
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// Rendered diagnostics with the source, in colour on a terminal.
    Human,
    /// One JSON document with every diagnostic.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    /// A line per scenario; failures with the file's line, expected and actual.
    Human,
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// For a pull request comment.
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SimulateFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check(&paths, format, deny_warnings),
        Command::Schema { scenario } => {
            let schema = if scenario {
                scenario::json_schema()
            } else {
                tombola_dsl::json_schema()
            };
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Test {
            paths,
            format,
            coverage,
            min_coverage,
        } => test(&paths, format, coverage, min_coverage),
        Command::Compile { file } => {
            let (name, source, report) = load(&file)?;
            let Some(campaign) = report.campaign.as_ref().filter(|_| !report.has_errors()) else {
                print_human(&name, &source, &report, std::io::stderr().is_terminal());
                return Ok(ExitCode::from(1));
            };
            println!("{}", serde_json::to_string_pretty(campaign)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            serve::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            file,
            users,
            days,
            draws_per_day,
            sign_in,
            credits,
            exchange,
            seed,
            format,
            html,
            store,
        } => {
            let (name, source, report) = load(&file)?;
            let Some(campaign) = report.campaign.as_ref().filter(|_| !report.has_errors()) else {
                print_human(&name, &source, &report, std::io::stderr().is_terminal());
                return Ok(ExitCode::from(1));
            };
            if !(0.0..=1.0).contains(&sign_in) {
                bail!("--sign-in is a probability between 0 and 1");
            }
            let profile = simulate::Profile {
                users,
                days,
                draws_per_day,
                sign_in,
                credits,
                exchange,
                seed,
                store,
            };
            let bar = simulate::progress();
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let result = runtime.block_on(simulate::run(&source, campaign, &profile, &bar))?;
            bar.finish_and_clear();
            match format {
                SimulateFormat::Human => print!("{}", simulate::human(&result)),
                SimulateFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
            }
            if let Some(path) = html {
                std::fs::write(&path, simulate::html(&result))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            old,
            new,
            git,
            format,
        } => {
            let (old_name, old_source, new_name, new_source) = match git {
                Some(rev) => {
                    // With --git, the one path given is the new file (clap fills `old` first).
                    let file = new.or(old).context("name the campaign file to compare")?;
                    let shown = std::process::Command::new("git")
                        .args([
                            "show",
                            // `./name` is relative to the file's folder, where git runs.
                            &format!(
                                "{rev}:./{}",
                                file.file_name().unwrap_or_default().to_string_lossy()
                            ),
                        ])
                        .current_dir(
                            file.parent()
                                .filter(|p| !p.as_os_str().is_empty())
                                .unwrap_or(Path::new(".")),
                        )
                        .output()
                        .context("cannot run git")?;
                    if !shown.status.success() {
                        bail!(
                            "git show {rev}:{}: {}",
                            file.display(),
                            String::from_utf8_lossy(&shown.stderr).trim()
                        );
                    }
                    let (name, source, _) = load(&file)?;
                    (
                        format!("{}@{rev}", file.display()),
                        String::from_utf8(shown.stdout).context("the old version is not UTF-8")?,
                        name,
                        source,
                    )
                }
                None => {
                    let (old, new) = (
                        old.context("name the old file")?,
                        new.context("name the new file")?,
                    );
                    let (old_name, old_source, _) = load(&old)?;
                    let (new_name, new_source, _) = load(&new)?;
                    (old_name, old_source, new_name, new_source)
                }
            };
            let compile = |name: &str, source: &str| -> Result<tombola_ir::Campaign> {
                let report = tombola_dsl::check_source(source);
                let broken = report.has_errors();
                match report.campaign.filter(|_| !broken) {
                    Some(campaign) => Ok(campaign),
                    None => bail!("{name} has errors: run `tombola check {name}`"),
                }
            };
            let changes = diff::diff(
                &compile(&old_name, &old_source)?,
                &compile(&new_name, &new_source)?,
            );
            match format {
                DiffFormat::Markdown => print!("{}", diff::markdown(&changes)),
                DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Deliveries {
            command,
            database_url,
            json,
        } => ops::deliveries(&database_url, command, json),
        Command::Credits {
            user,
            limit,
            database_url,
            json,
        } => ops::credits(&database_url, &user, limit, json),
        Command::Audit {
            limit,
            database_url,
            json,
        } => ops::audit(&database_url, limit, json),
        Command::Migrate { database_url } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime
                .block_on(tombola_engine::store::open(&database_url))
                .with_context(|| format!("cannot migrate {}", redact(&database_url)))?;
            println!("{} is up to date", redact(&database_url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph { file, format } => {
            let (name, source, report) = load(&file)?;
            let Some(campaign) = report.campaign.as_ref().filter(|_| !report.has_errors()) else {
                print_human(&name, &source, &report, std::io::stderr().is_terminal());
                return Ok(ExitCode::from(1));
            };
            let format = match format {
                GraphFormat::Mermaid => graph::Format::Mermaid,
                GraphFormat::Dot => graph::Format::Dot,
            };
            print!("{}", graph::render(campaign, format));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
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

fn load(path: &Path) -> Result<(String, String, Report)> {
    let source = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = String::from_utf8(source)
        .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    let report = tombola_dsl::check_source(&source);
    Ok((path.display().to_string(), source, report))
}

fn is_scenario(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".test.yaml") || name.ends_with(".test.yml")
}

/// The campaign files named by `paths`: files as given, folders searched recursively.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) && !is_scenario(&path)
        {
            found.push(path);
        }
    }
    Ok(())
}

fn print_human(name: &str, source: &str, report: &Report, color: bool) {
    let mut err = std::io::stderr().lock();
    for diagnostic in &report.diagnostics {
        let _ = write!(err, "{}", render::human(name, source, diagnostic, color));
    }
}

fn check(paths: &[PathBuf], format: CheckFormat, deny_warnings: bool) -> Result<ExitCode> {
    let files = collect(paths)?;
    if files.is_empty() {
        bail!(
            "no campaign files (*.yaml, *.yml) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut loaded = Vec::with_capacity(files.len());
    for file in &files {
        loaded.push(load(file)?);
    }
    let errors: usize = loaded
        .iter()
        .map(|(_, _, r)| r.diagnostics.iter().filter(|d| d.is_error()).count())
        .sum();
    let warnings: usize = loaded
        .iter()
        .map(|(_, _, r)| r.diagnostics.iter().filter(|d| !d.is_error()).count())
        .sum();
    let mut out = std::io::stdout().lock();
    match format {
        CheckFormat::Human => {
            let color = std::io::stdout().is_terminal();
            for (name, source, report) in &loaded {
                for diagnostic in &report.diagnostics {
                    write!(out, "{}", render::human(name, source, diagnostic, color))?;
                }
            }
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            writeln!(
                out,
                "checked {}: {}, {}",
                plural(loaded.len(), "file"),
                plural(errors, "error"),
                plural(warnings, "warning")
            )?;
        }
        CheckFormat::Json => {
            let files: Vec<serde_json::Value> = loaded
                .iter()
                .map(|(name, source, report)| {
                    let diagnostics: Vec<_> = report
                        .diagnostics
                        .iter()
                        .map(|d| render::locate(name, source, d))
                        .collect();
                    serde_json::json!({ "file": name, "diagnostics": diagnostics })
                })
                .collect();
            let document =
                serde_json::json!({ "files": files, "errors": errors, "warnings": warnings });
            writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
        }
        CheckFormat::Github => {
            for (name, source, report) in &loaded {
                for diagnostic in &report.diagnostics {
                    writeln!(out, "{}", render::github(name, source, diagnostic))?;
                }
            }
        }
    }
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Scenario files among `paths`: files as given, folders searched for `*.test.yaml`.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk_all(path, &mut found)?;
            out.extend(found.into_iter().filter(|p| is_scenario(p)));
        } else if path.exists() {
            out.push(path.clone());
        } else {
            bail!("cannot read {}: no such file or folder", path.display());
        }
    }
    out.sort();
    Ok(out)
}

fn walk_all(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk_all(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn test(
    paths: &[PathBuf],
    format: TestFormat,
    show_coverage: bool,
    min_coverage: Option<f64>,
) -> Result<ExitCode> {
    let files = scenario_files(paths)?;
    if files.is_empty() {
        bail!("no scenario files (*.test.yaml) found");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let mut outcomes = Vec::new();
    // Coverage is per campaign: scenarios of one campaign in several files add up.
    let mut coverage: std::collections::BTreeMap<String, scenario::Coverage> = Default::default();
    for file in &files {
        let suite = scenario::load(file)?;
        let (results, covered) = runtime.block_on(suite.run());
        outcomes.extend(results);
        let entry = coverage.entry(suite.campaign_id().to_string()).or_default();
        entry.universe.extend(covered.universe);
        entry.hit.extend(covered.hit);
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let below: Vec<(&String, f64)> = coverage
        .iter()
        .map(|(id, c)| (id, c.percent()))
        .filter(|(_, p)| min_coverage.is_some_and(|min| *p + 1e-9 < min))
        .collect();
    match format {
        TestFormat::Human => {
            for o in &outcomes {
                match &o.failure {
                    None => println!("ok     {} :: {}", o.file, o.scenario),
                    Some(why) => println!(
                        "FAILED {}:{} :: {}
       {why}",
                        o.file, o.line, o.scenario
                    ),
                }
            }
            for (id, c) in &coverage {
                println!(
                    "coverage {id}: {:.0}% ({} of {} rules, nodes and routes)",
                    c.percent(),
                    c.hit.len(),
                    c.universe.len()
                );
                if show_coverage || min_coverage.is_some() {
                    for missed in c.missed() {
                        println!("  not exercised: {missed}");
                    }
                }
            }
            let noun = if outcomes.len() == 1 {
                "scenario"
            } else {
                "scenarios"
            };
            println!(
                "{} {noun}: {} passed, {failed} failed",
                outcomes.len(),
                outcomes.len() - failed
            );
        }
        TestFormat::Json => {
            let coverage: serde_json::Map<String, serde_json::Value> = coverage
                .iter()
                .map(|(id, c)| {
                    (
                        id.clone(),
                        serde_json::json!({ "percent": c.percent(), "missed": c.missed() }),
                    )
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({ "scenarios": outcomes, "failed": failed, "coverage": coverage })
            );
        }
        TestFormat::Junit => {
            println!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            println!(
                "<testsuites tests=\"{}\" failures=\"{failed}\">",
                outcomes.len()
            );
            for o in &outcomes {
                print!(
                    "  <testcase classname=\"{}\" name=\"{}\"",
                    xml(&o.file),
                    xml(&o.scenario)
                );
                match &o.failure {
                    None => println!("/>"),
                    Some(why) => println!(
                        "><failure message=\"{}\">{}:{}</failure></testcase>",
                        xml(why),
                        xml(&o.file),
                        o.line
                    ),
                }
            }
            println!("</testsuites>");
        }
    }
    for (id, percent) in &below {
        eprintln!(
            "coverage of {id} is {percent:.1}%, below --min-coverage {}",
            min_coverage.unwrap_or_default()
        );
    }
    Ok(if failed > 0 || !below.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
