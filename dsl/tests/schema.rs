//! The committed JSON Schema is the one the types generate, and it accepts
//! every shipped campaign and refuses what the loader refuses.
//! Regenerate with `TOMBOLA_UPDATE_SCHEMA=1 cargo test -p tombola-dsl --test schema`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generated() -> String {
    serde_json::to_string_pretty(&tombola_dsl::json_schema()).unwrap() + "\n"
}

#[test]
fn committed_schema_is_up_to_date() {
    let path = root().join("schema/campaign.schema.json");
    let fresh = generated();
    if std::env::var_os("TOMBOLA_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schema/campaign.schema.json is stale: run `TOMBOLA_UPDATE_SCHEMA=1 cargo test -p tombola-dsl --test schema` (or `tombola schema > schema/campaign.schema.json`) and commit it"
    );
}

fn yaml_to_json(source: &str) -> serde_json::Value {
    serde_saphyr::from_str(source).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&tombola_dsl::json_schema()).unwrap()
}

#[path = "support/shipped.rs"]
mod shipped;

#[test]
fn shipped_campaigns_validate_against_the_schema() {
    let validator = validator();
    let files = shipped::campaign_files();
    assert!(files.len() >= 3);
    for file in files {
        let instance = yaml_to_json(&std::fs::read_to_string(&file).unwrap());
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_refuses_unknown_keys_and_wrong_types_like_the_loader() {
    let validator = validator();
    let source = std::fs::read_to_string(root().join("campaigns/showcase.yaml")).unwrap();
    for (from, to) in [
        ("allowance: 3", "allowance: 3\nallowence: 4"),
        ("allowance: 3", "allowance: three"),
        ("allowance: 3", "allowance: { per_day: 0 }"),
        ("allowance: 3", "allowance: { per_week: 3 }"),
        ("allowance: 3", "allowance: { per_day: 2, total: 9 }"),
        ("allowance: 3", "allowance: [3]"),
        ("kind: draws", "kind: points"),
        ("once: per_day", "once: daily"),
    ] {
        let broken = source.replacen(from, to, 1);
        assert_ne!(broken, source);
        assert!(
            !validator.is_valid(&yaml_to_json(&broken)),
            "the schema accepts `{to}`"
        );
        assert!(
            tombola_dsl::check_source(&broken).has_errors(),
            "the loader accepts `{to}`"
        );
    }
}

#[test]
fn the_schema_and_the_loader_take_a_daily_allowance() {
    let validator = validator();
    let source = std::fs::read_to_string(root().join("campaigns/showcase.yaml")).unwrap();
    let daily = source.replacen("allowance: 3", "allowance: { per_day: 5 }", 1);
    assert_ne!(daily, source);
    assert!(validator.is_valid(&yaml_to_json(&daily)));
    let checked = tombola_dsl::check_source(&daily);
    assert!(!checked.has_errors(), "{checked:?}");
}

#[test]
fn out_of_range_counts_say_the_range_and_what_was_written() {
    let source = std::fs::read_to_string(root().join("campaigns/showcase.yaml")).unwrap();
    for (to, said) in [
        (
            "allowance: { per_day: -1 }",
            "`allowance.per_day` must be at least 1, found -1",
        ),
        (
            "allowance: 99999999999999999999999999999999999999999",
            "`allowance` must be a whole number from 0 to 4294967295, found 99999999999999999999999999999999999999999",
        ),
    ] {
        let broken = source.replacen("allowance: 3", to, 1);
        let report = tombola_dsl::check_source(&broken);
        let messages: Vec<&str> = report
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages, [said], "for `{to}`");
    }
}
