//! `tombola compile`: prints a campaign's compiled workflow graph (the IR) as JSON.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::files;

pub(crate) fn compile(file: &Path) -> Result<ExitCode> {
    let Some((_, campaign)) = files::compiled(file)? else {
        return Ok(ExitCode::from(1));
    };
    println!("{}", serde_json::to_string_pretty(&campaign)?);
    Ok(ExitCode::SUCCESS)
}
