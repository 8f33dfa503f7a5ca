//! `tombola schema`: prints the JSON Schema of campaign files, or of scenario files.

use std::process::ExitCode;

use anyhow::Result;

use crate::scenario;

pub(crate) fn schema(scenario: bool) -> Result<ExitCode> {
    let schema = if scenario {
        scenario::json_schema()
    } else {
        tombola_dsl::json_schema()
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
