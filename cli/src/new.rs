//! `tombola new`: starter campaigns, each with its scenario file, that pass
//! `check` and `test` as written; the files are the ones in `templates/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};

/// A starter campaign and its scenarios.
struct Template {
    name: &'static str,
    about: &'static str,
    campaign: &'static str,
    scenarios: &'static str,
}

/// A template by name: its files are `templates/<name>.yaml` and
/// `templates/<name>.test.yaml`, built into the binary.
macro_rules! template {
    ($name:literal, $about:literal) => {
        Template {
            name: $name,
            about: $about,
            campaign: include_str!(concat!("../../templates/", $name, ".yaml")),
            scenarios: include_str!(concat!("../../templates/", $name, ".test.yaml")),
        }
    };
}

const TEMPLATES: &[Template] = &[
    template!(
        "wheel",
        "a prize wheel: three free spins a day, six prizes, one for VIP members only"
    ),
    template!(
        "unlock",
        "an unlock raffle: better prizes unlock after some draws today, with limited stock"
    ),
    template!(
        "shop",
        "a shop: draws bought with credits or granted after a payment, credits to win"
    ),
    template!(
        "sign-in",
        "a sign-in rebate: a draw and credits for each day's first sign-in, cash back on payments"
    ),
];

/// `tombola new --list`.
pub(crate) fn list() -> ExitCode {
    let width = TEMPLATES.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for template in TEMPLATES {
        println!("{:width$}  {}", template.name, template.about);
    }
    ExitCode::SUCCESS
}

/// `tombola new <template> [file]`: writes the campaign to `file` (default
/// `<template>.yaml`) and its scenarios beside it as `<stem>.test.yaml`. The
/// campaign's id is the file's stem. Refuses to write over a file.
pub(crate) fn new(name: &str, file: Option<&Path>) -> Result<ExitCode> {
    let template = find(name)?;
    let campaign_path =
        file.map_or_else(|| PathBuf::from(format!("{name}.yaml")), Path::to_path_buf);
    let (id, scenario_path) = names_for(&campaign_path)?;
    let scenario_name = scenario_path
        .file_name()
        .and_then(|n| n.to_str())
        .context("the scenario file has no name")?;
    let campaign_name = campaign_path
        .file_name()
        .and_then(|n| n.to_str())
        .context("the campaign file has no name")?;
    let campaign = template
        .campaign
        .replacen(
            &format!("campaign: {name}\n"),
            &format!("campaign: {id}\n"),
            1,
        )
        .replace(&format!("/campaigns/{name}/"), &format!("/campaigns/{id}/"))
        .replace(
            &format!("`tombola new {name}`"),
            &format!("`tombola new {name} {campaign_name}`"),
        );
    let scenarios = template
        .scenarios
        .replacen(
            &format!("campaign: {name}.yaml\n"),
            &format!("campaign: {campaign_name}\n"),
            1,
        )
        .replace(&format!("{name}.test.yaml"), scenario_name);
    for path in [&campaign_path, &scenario_path] {
        // A link to nowhere is in the way too.
        if path.symlink_metadata().is_ok() {
            bail!(
                "{} exists already; name another file: `tombola new {name} <file>.yaml`",
                path.display()
            );
        }
    }
    if let Some(folder) = campaign_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    write_new(&campaign_path, &campaign)?;
    if let Err(error) = write_new(&scenario_path, &scenarios) {
        // Both files or neither: a campaign without its scenarios is half a start.
        let _ = std::fs::remove_file(&campaign_path);
        return Err(error);
    }
    println!(
        "created {} and {} from the `{name}` template",
        campaign_path.display(),
        scenario_path.display()
    );
    println!(
        "next: tombola check {} && tombola test {}",
        campaign_path.display(),
        scenario_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn find(name: &str) -> Result<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| {
        let hint = crate::scenario::typo_hint(name, TEMPLATES.iter().map(|t| t.name));
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        anyhow!(
            "there is no template `{name}`{hint}; the templates are {} (`tombola new --list` says what each is)",
            names.join(", ")
        )
    })
}

/// The campaign id a file's stem gives, and the scenario file beside it.
fn names_for(campaign: &Path) -> Result<(String, PathBuf)> {
    let file_name = campaign
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{} is not a file name", campaign.display()))?;
    let Some(stem) = file_name
        .strip_suffix(".yaml")
        .or_else(|| file_name.strip_suffix(".yml"))
    else {
        bail!(
            "{}: a campaign file ends in .yaml or .yml",
            campaign.display()
        );
    };
    if stem.ends_with(".test") {
        bail!(
            "{}: files ending in .test.yaml are scenario files; name the campaign without `.test`",
            campaign.display()
        );
    }
    if !tombola_dsl::is_id(stem) {
        bail!(
            "{}: the file's name is the campaign's id, and `{stem}` is not one: ids use lowercase letters, digits, `_` and `-`, start with a letter or digit, and are at most 64 long",
            campaign.display()
        );
    }
    Ok((
        stem.to_string(),
        campaign.with_file_name(format!("{stem}.test.yaml")),
    ))
}

/// Writes a file that must not exist yet (another process may create it
/// between the check and the write).
fn write_new(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        // A full disk leaves no half a file behind.
        let _ = std::fs::remove_file(path);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}
