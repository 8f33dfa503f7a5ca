//! `tombola graph`: draws a campaign's chain and trees as Mermaid or Graphviz.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use tombola_dsl::graph;

use crate::files;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GraphFormat {
    Mermaid,
    Dot,
}

pub(crate) fn graph(file: &Path, format: GraphFormat) -> Result<ExitCode> {
    let Some((_, campaign)) = files::compiled(file)? else {
        return Ok(ExitCode::from(1));
    };
    // The CLI's own enum, so the library's rendering needs no clap.
    let format = match format {
        GraphFormat::Mermaid => graph::Format::Mermaid,
        GraphFormat::Dot => graph::Format::Dot,
    };
    print!("{}", graph::render(&campaign, format));
    Ok(ExitCode::SUCCESS)
}
