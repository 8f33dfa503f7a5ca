//! `tombola check`: checks campaign files and folders and reports every
//! diagnostic, for a person, for machines (JSON) or as GitHub annotations.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use clap::ValueEnum;
use tombola_dsl::render;

use crate::files::{self, Loaded};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CheckFormat {
    /// Rendered diagnostics with the source, in colour on a terminal.
    Human,
    /// One JSON document with every diagnostic.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Errors and warnings over every file checked.
#[derive(Debug, Clone, Copy)]
struct Totals {
    errors: usize,
    warnings: usize,
}

/// Checks `paths` as of `now` (a window already over is a warning).
pub(crate) fn check(
    paths: &[PathBuf],
    format: CheckFormat,
    deny_warnings: bool,
    now: DateTime<Utc>,
) -> Result<ExitCode> {
    let files = files::collect(paths, files::is_campaign)?;
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
        loaded.push(files::load_at(file, Some(now))?);
    }
    let count = |errors: bool| -> usize {
        loaded
            .iter()
            .map(|l| {
                l.report
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error() == errors)
                    .count()
            })
            .sum()
    };
    let totals = Totals {
        errors: count(true),
        warnings: count(false),
    };
    let mut out = std::io::stdout().lock();
    match format {
        CheckFormat::Human => human(&mut out, &loaded, totals)?,
        CheckFormat::Json => json(&mut out, &loaded, totals)?,
        CheckFormat::Github => github(&mut out, &loaded)?,
    }
    Ok(
        if totals.errors > 0 || (deny_warnings && totals.warnings > 0) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn human(out: &mut impl Write, loaded: &[Loaded], totals: Totals) -> Result<()> {
    let color = std::io::stdout().is_terminal();
    for file in loaded {
        let lines = render::Lines::new(&file.source);
        for diagnostic in &file.report.diagnostics {
            write!(
                out,
                "{}",
                render::human(&file.name, &lines, diagnostic, color)
            )?;
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "checked {}: {}, {}",
        plural(loaded.len(), "file"),
        plural(totals.errors, "error"),
        plural(totals.warnings, "warning")
    )?;
    Ok(())
}

fn json(out: &mut impl Write, loaded: &[Loaded], totals: Totals) -> Result<()> {
    let files: Vec<serde_json::Value> = loaded
        .iter()
        .map(|file| {
            let lines = render::Lines::new(&file.source);
            let diagnostics: Vec<_> = file
                .report
                .diagnostics
                .iter()
                .map(|d| render::locate(&file.name, &lines, d))
                .collect();
            serde_json::json!({ "file": file.name, "diagnostics": diagnostics })
        })
        .collect();
    let document = serde_json::json!({
        "files": files,
        "errors": totals.errors,
        "warnings": totals.warnings,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
    Ok(())
}

fn github(out: &mut impl Write, loaded: &[Loaded]) -> Result<()> {
    for file in loaded {
        let lines = render::Lines::new(&file.source);
        for diagnostic in &file.report.diagnostics {
            writeln!(out, "{}", render::github(&file.name, &lines, diagnostic))?;
        }
    }
    Ok(())
}
