//! `tombola schema`: prints the JSON Schema of campaign files, scenario files or
//! simulation profiles.

use std::process::ExitCode;

use anyhow::Result;

use crate::{scenario, simulate};

pub(crate) fn schema(scenario: bool, profile: bool) -> Result<ExitCode> {
    let schema = if scenario {
        scenario::json_schema()
    } else if profile {
        simulate::json_schema()
    } else {
        tombola_dsl::json_schema()
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
