//! `tombola diff`: what changed between two versions of a campaign
//! (`tombola_dsl::diff`), as Markdown for a pull request or JSON for machines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use tombola_dsl::diff::{diff, markdown};
use tombola_ir::Campaign;

use crate::files;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// For a pull request comment.
    Markdown,
    Json,
}

/// The two versions compared, each with the name it is shown by.
struct Versions {
    old_name: String,
    old_source: String,
    new_name: String,
    new_source: String,
}

/// The `tombola diff` command: `old` and `new` as files, or with `git` the one
/// file given against its version at that revision.
pub(crate) fn command(
    old: Option<PathBuf>,
    new: Option<PathBuf>,
    git: Option<String>,
    format: DiffFormat,
) -> Result<ExitCode> {
    let versions = match git {
        Some(rev) => {
            // With --git, the one path given is the new file (clap fills `old` first).
            let file = new.or(old).context("name the campaign file to compare")?;
            against_git(&rev, &file)?
        }
        None => {
            let (old, new) = (
                old.context("name the old file")?,
                new.context("name the new file")?,
            );
            let (old, new) = (files::load(&old)?, files::load(&new)?);
            Versions {
                old_name: old.name,
                old_source: old.source,
                new_name: new.name,
                new_source: new.source,
            }
        }
    };
    let changes = diff(
        &compiled(&versions.old_name, &versions.old_source)?,
        &compiled(&versions.new_name, &versions.new_source)?,
    );
    match format {
        DiffFormat::Markdown => print!("{}", markdown(&changes)),
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `file` as it is, and as it was at `rev` (read with `git show`).
fn against_git(rev: &str, file: &Path) -> Result<Versions> {
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
    let current = files::load(file)?;
    Ok(Versions {
        old_name: format!("{}@{rev}", file.display()),
        old_source: String::from_utf8(shown.stdout).context("the old version is not UTF-8")?,
        new_name: current.name,
        new_source: current.source,
    })
}

/// The IR of one version; a version with errors stops the diff, which only
/// compares campaigns that check clean.
fn compiled(name: &str, source: &str) -> Result<Campaign> {
    let report = tombola_dsl::check_source(source);
    let broken = report.has_errors();
    match report.campaign.filter(|_| !broken) {
        Some(campaign) => Ok(campaign),
        None => bail!("{name} has errors: run `tombola check {name}`"),
    }
}
