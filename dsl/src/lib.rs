//! The tombola campaign file: the document model and its JSON Schema, the
//! loader that keeps source spans, the checks, and the compiler to the IR.
//!
//! ```
//! let source = std::fs::read_to_string("../campaigns/showcase.yaml").unwrap();
//! let report = tombola_dsl::check_source(&source);
//! assert!(report.diagnostics.iter().all(|d| !d.is_error()));
//! assert!(report.campaign.is_some());
//! ```

pub mod analysis;
mod compile;
mod decode;
pub mod diagnostic;
pub mod diff;
pub mod format;
pub mod graph;
pub mod model;
pub mod render;
mod yaml;

use chrono::{DateTime, Utc};

pub use compile::{ISSUE, compile};
pub use decode::{Decoded, is_id};
pub use diagnostic::{Code, Diagnostic, Fix, Label, Severity};
pub use yaml::MAX_FILE_BYTES;

/// Everything `tombola check` learns about one file.
#[derive(Debug)]
pub struct Report {
    /// The compiled campaign, when the file has no error.
    pub campaign: Option<tombola_ir::Campaign>,
    /// Every finding, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, decodes, checks and compiles one campaign file, without a clock:
/// the same source gives the same report on every day.
pub fn check_source(source: &str) -> Report {
    check(source, None)
}

/// Checks a file as read from disk, as of `now` when given, which adds the
/// findings that depend on the time (a window that has already ended, `T0506`).
/// Bytes that are not UTF-8 are reported (`T0008`) instead of checked. The
/// text returned is what the diagnostics' spans point into: the file itself,
/// or, when it is not UTF-8, the file with each invalid sequence replaced by
/// U+FFFD (the same bytes up to the first).
pub fn check_bytes(bytes: &[u8], now: Option<DateTime<Utc>>) -> (String, Report) {
    match std::str::from_utf8(bytes) {
        Ok(source) => (source.to_string(), check(source, now)),
        Err(error) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let report = Report {
                campaign: None,
                diagnostics: vec![yaml::not_utf8(bytes, &error)],
            };
            (text, report)
        }
    }
}

/// The report on a campaign file of `len` bytes, over [`MAX_FILE_BYTES`], that
/// the caller did not read: the same finding as checking its text would give.
pub fn too_large(len: u64) -> Report {
    Report {
        campaign: None,
        diagnostics: vec![yaml::too_large(len)],
    }
}

fn check(source: &str, now: Option<DateTime<Utc>>) -> Report {
    let node = match yaml::parse(source) {
        Ok(node) => node,
        Err(diagnostic) => {
            return Report {
                campaign: None,
                diagnostics: vec![*diagnostic],
            };
        }
    };
    let (decoded, mut diagnostics) = decode::Decoder::new(source).campaign(&node);
    let campaign = match decoded {
        Some(decoded) => {
            let (campaign, more) = compile(&decoded, now);
            diagnostics.extend(more);
            campaign
        }
        None => None,
    };
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    let campaign = campaign.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    Report {
        campaign,
        diagnostics,
    }
}

/// The JSON Schema of campaign files, as committed in `schema/campaign.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(model::CampaignFile);
    let mut value = serde_json::to_value(schema).expect("a schema is valid JSON");
    drop_null(&mut value);
    value
}

/// Optional keys are left out, never written as `null`: the schema says so, so
/// editors do not offer `null` as a value.
fn drop_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(drop_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            map.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(options)) = map.get_mut("anyOf") {
        options.retain(|o| o.get("type").is_none_or(|t| t != "null"));
        if options.len() == 1 {
            let Some(Value::Object(only)) = options.pop() else {
                unreachable!("anyOf holds schemas")
            };
            map.remove("anyOf");
            for (key, value) in only {
                map.entry(key).or_insert(value);
            }
        }
    }
    map.values_mut().for_each(drop_null);
}

/// The compiler as the engine's [`tombola_ir::Loader`]: a source with errors is
/// refused with its diagnostics ([`Rejected`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Loader;

impl tombola_ir::Loader for Loader {
    fn load(&self, source: &str) -> Result<tombola_ir::Campaign, tombola_ir::LoadError> {
        let report = check_source(source);
        match report.campaign {
            Some(campaign) => Ok(campaign),
            None => Err(Box::new(Rejected {
                diagnostics: report.diagnostics,
            })),
        }
    }
}

/// A source the compiler refused, with every diagnostic it found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the campaign has errors")]
pub struct Rejected {
    pub diagnostics: Vec<Diagnostic>,
}
