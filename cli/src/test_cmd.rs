//! `tombola test`: runs the scenario files named on the command line, adds
//! up coverage per campaign, and reports as text, JSON or JUnit XML.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use crate::files;
use crate::scenario::{self, Coverage, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TestFormat {
    /// A line per scenario; failures with the file's line, expected and actual.
    Human,
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
}

/// What `--coverage` and `--min-coverage` ask for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoverageOptions {
    /// List what no scenario exercised.
    pub(crate) show: bool,
    /// Fail a campaign whose coverage is below this percentage.
    pub(crate) min: Option<f64>,
}

/// Every scenario's outcome and, per campaign id, what they covered.
struct Results {
    outcomes: Vec<Outcome>,
    coverage: BTreeMap<String, Coverage>,
    failed: usize,
}

pub(crate) fn test(
    paths: &[PathBuf],
    format: TestFormat,
    options: CoverageOptions,
) -> Result<ExitCode> {
    let mut files = files::collect(paths, files::is_scenario)?;
    // One order for files given one by one and found in folders, so a report
    // does not depend on how the command line named them.
    files.sort();
    if files.is_empty() {
        bail!("no scenario files (*.test.yaml) found");
    }
    let results = run(&files)?;
    let below: Vec<(&String, f64)> = results
        .coverage
        .iter()
        .map(|(id, c)| (id, c.percent()))
        .filter(|(_, p)| options.min.is_some_and(|min| *p + 1e-9 < min))
        .collect();
    match format {
        TestFormat::Human => human(&results, options),
        TestFormat::Json => json(&results),
        TestFormat::Junit => junit(&results),
    }
    for (id, percent) in &below {
        eprintln!(
            "coverage of {id} is {percent:.1}%, below --min-coverage {}",
            options.min.unwrap_or_default()
        );
    }
    Ok(if results.failed > 0 || !below.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(files: &[PathBuf]) -> Result<Results> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let mut outcomes = Vec::new();
    // Coverage is per campaign: scenarios of one campaign in several files add up.
    let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
    for file in files {
        let suite = scenario::load(file)?;
        let (results, covered) = runtime.block_on(suite.run());
        outcomes.extend(results);
        let entry = coverage.entry(suite.campaign_id().to_string()).or_default();
        entry.universe.extend(covered.universe);
        entry.hit.extend(covered.hit);
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    Ok(Results {
        outcomes,
        coverage,
        failed,
    })
}

fn human(results: &Results, options: CoverageOptions) {
    let Results {
        outcomes,
        coverage,
        failed,
    } = results;
    for o in outcomes {
        match &o.failure {
            None => println!("ok     {} :: {}", o.file, o.scenario),
            Some(why) => println!(
                "FAILED {}:{} :: {}
       {why}",
                o.file, o.line, o.scenario
            ),
        }
    }
    for (id, c) in coverage {
        println!(
            "coverage {id}: {:.0}% ({} of {} rules, nodes and routes)",
            c.percent(),
            c.hit.len(),
            c.universe.len()
        );
        if options.show || options.min.is_some() {
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

fn json(results: &Results) {
    let coverage: serde_json::Map<String, serde_json::Value> = results
        .coverage
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
        serde_json::json!({
            "scenarios": results.outcomes,
            "failed": results.failed,
            "coverage": coverage,
        })
    );
}

fn junit(results: &Results) {
    println!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    println!(
        "<testsuites tests=\"{}\" failures=\"{}\">",
        results.outcomes.len(),
        results.failed
    );
    for o in &results.outcomes {
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

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
