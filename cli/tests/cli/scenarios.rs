//! `tombola test`: scenario files against the real engine, their output
//! formats, coverage, and the committed scenario schema.

use super::{root, stdout, tombola};

#[test]
fn the_shipped_scenarios_pass_with_full_coverage() {
    let output = tombola(&["test", "campaigns/", "--min-coverage", "100"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for campaign in ["big-market-raffle", "big-market-unlock", "showcase"] {
        assert!(
            text.contains(&format!("coverage {campaign}: 100%")),
            "{text}"
        );
    }
    assert!(text.contains(", 0 failed"), "{text}");
}

#[test]
fn a_failing_scenario_shows_expected_actual_and_its_line() {
    let output = tombola(&["test", "cli/tests/fixtures/failing.test.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("ok     cli/tests/fixtures/failing.test.yaml :: passes"),
        "{text}"
    );
    assert!(
        text.contains("FAILED cli/tests/fixtures/failing.test.yaml:9 :: expects the wrong award"),
        "{text}"
    );
    assert!(
        text.contains("expected award `uses_5`, got `luck_credits`"),
        "{text}"
    );
    assert!(text.contains("2 scenarios: 1 passed, 1 failed"), "{text}");
}

#[test]
fn json_and_junit_report_the_same_results() {
    let json = tombola(&[
        "test",
        "cli/tests/fixtures/failing.test.yaml",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report["failed"], 1);
    assert_eq!(report["scenarios"][1]["line"], 9);
    assert!(report["scenarios"][0]["failure"].is_null());
    assert!(
        !report["coverage"]["big-market-unlock"]["missed"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let junit = tombola(&[
        "test",
        "cli/tests/fixtures/failing.test.yaml",
        "--format",
        "junit",
    ]);
    let xml = stdout(&junit);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuites tests="2" failures="1">"#),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"step 1: draw 1 for `ann`: expected award `uses_5`, got `luck_credits`\">"), "{xml}");
    assert_eq!(junit.status.code(), Some(1));
}

#[test]
fn coverage_below_the_minimum_fails_and_names_what_was_missed() {
    let output = tombola(&[
        "test",
        "cli/tests/fixtures/failing.test.yaml",
        "--min-coverage",
        "50",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("not exercised: tree:unlock_after_1/lock → unlocked"),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("coverage of big-market-unlock is 0.0%, below --min-coverage 50"),
        "{:?}",
        output
    );
}

#[test]
fn bad_scenario_files_are_refused_with_their_name() {
    let dir = std::env::temp_dir().join(format!("tombola-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.test.yaml");
    std::fs::write(&bad, "campaign: nowhere.yaml\nscenarios: []\nsurprise: 1\n").unwrap();
    let output = tombola(&["test", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.test.yaml"), "{stderr}");
    assert!(stderr.contains("surprise"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn starting_draws_are_checked_and_a_pick_that_cannot_land_says_so() {
    let dir = std::env::temp_dir().join(format!("tombola-draws-made-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("draws.test.yaml");
    let campaign = root().join("campaigns/big-market-raffle.yaml");
    let scenario = |name: &str, draws: &str, step: &str| {
        format!(
            "  - name: {name}\n    at: 2026-03-04T02:00:00Z\n    users:\n      ann: {{ draws: {draws} }}\n    steps:\n      - draw: {step}\n"
        )
    };
    let text = format!(
        "campaign: {}\nscenarios:\n{}{}{}{}{}",
        campaign.display(),
        scenario(
            "nine today leave one under the daily cap",
            "{ total: 40, today: 9, left: 1 }",
            "{ user: ann, expect: { draws_left: 0, passes: [\"rule:weight → tier 40\"] } }"
        ),
        scenario(
            "the 40-draw tier has no grand prize",
            "{ total: 40, left: 1 }",
            "{ user: ann, lands_on: grand_prize, expect: { award: grand_prize, passes: [\"rule:weight\"] } }"
        ),
        scenario(
            "more today than this month",
            "{ today: 5, month: 2 }",
            "{ user: ann }"
        ),
        scenario(
            "fewer left than the allowance leaves",
            "{ total: 4, left: 1 }",
            "{ user: ann }"
        ),
        scenario(
            "45 draws are in the 40-draw tier",
            "{ total: 45, left: 1 }",
            "{ user: ann, expect: { passes: [\"rule:weight → tier 50\"] } }"
        ),
    );
    std::fs::write(&file, text).unwrap();
    let output = tombola(&["test", file.to_str().unwrap(), "--coverage"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("expected the draw to pass `rule:weight → tier 50`; it went: rule:blacklist → not_listed, rule:weight → tier 40, draw:"),
        "{text}"
    );
    // Tiers are routes of their own: the 40-draw tier was reached, the others were not.
    assert!(
        text.contains(
            "  not exercised: rule:weight → tier 50\n  not exercised: rule:weight → tier 60\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("not exercised: rule:weight → tier 40"),
        "{text}"
    );
    assert!(
        text.contains("ok     ") && text.contains(":: nine today leave one under the daily cap"),
        "{text}"
    );
    assert!(
        text.contains("expected award `grand_prize`, got `uses_")
            && text.contains("`; `lands_on: grand_prize` could not land: the table this draw picked from does not hold `grand_prize`"),
        "{text}"
    );
    assert!(
        text.contains("user `ann`: `draws`: invalid input: 5 draws today but 2 this month; today's draws are part of the month's"),
        "{text}"
    );
    assert!(
        text.contains("user `ann`: `draws`: `left: 1` is fewer than the allowance of 10 draws for the whole campaign leaves after 4 draws (6)"),
        "{text}"
    );
    assert!(text.contains("5 scenarios: 1 passed, 4 failed"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_id_the_campaign_does_not_have_is_refused_with_the_ids_it_has() {
    let dir = std::env::temp_dir().join(format!("tombola-unknown-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ids.test.yaml");
    let scenario = |name: &str, step: &str| {
        format!("  - name: {name}\n    at: 2026-03-04T02:00:00Z\n    steps:\n      - {step}\n")
    };
    let text = format!(
        "campaign: {}\nscenarios:\n{}{}{}{}{}{}",
        root().join("campaigns/showcase.yaml").display(),
        scenario(
            "a rebate by a made-up id",
            "event: { user: ann, event: sign_in, expect: { rebates: { rebate-1: applied } } }"
        ),
        scenario(
            "an award misspelt",
            "draw: { user: ann, expect: { award: headphone } }"
        ),
        scenario("an unknown SKU", "grant: { user: ann, sku: draw_5 }"),
        scenario(
            "an explanation step that is not in the campaign",
            "draw: { user: ann, expect: { passes: [\"tree:vip_headphones/unlock → locked\"] } }"
        ),
        scenario(
            "a rebate outcome misspelt",
            "event: { user: ann, event: sign_in, expect: { rebates: { daily-sign-in: aplied } } }"
        ),
        scenario(
            "known ids run",
            "event: { user: ann, event: sign_in, expect: { rebates: { daily-sign-in: applied } } }"
        ),
    );
    std::fs::write(&file, text).unwrap();
    let output = tombola(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for wanted in [
        "step 1: `expect.rebates`: `rebate-1` is not a rebate of the campaign; the campaign's rebates are `daily-sign-in`, `big-spender`",
        "step 1: `expect.award`: `headphone` is not an award of the campaign (did you mean `headphones`?); the campaign's awards are `points`,",
        "step 1: `sku`: `draw_5` is not a SKU of the campaign (did you mean `draw_1`?); the campaign's SKUs are `draw_1`, `draw_10`",
        "step 1: `expect.passes`: `tree:vip_headphones/unlock` is not an explanation step of the campaign (did you mean `tree:vip_headphones/lock`?); the campaign's explanation steps are `rule:blacklist`, ",
        ":: known ids run",
        "step 1: `expect.rebates.daily-sign-in`: `aplied` is not a rebate outcome (did you mean `applied`?)",
        "6 scenarios: 1 passed, 5 failed",
    ] {
        assert!(text.contains(wanted), "{wanted}\n---\n{text}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_readme_scenario_example_passes_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("### Scenario tests").unwrap()..];
    let example = section
        .split_once("```yaml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(yaml, _)| yaml)
        .unwrap();
    let campaign = root().join("campaigns/showcase.yaml");
    let example = example.replace(
        "campaign: showcase.yaml",
        &format!("campaign: {}", campaign.display()),
    );
    assert!(
        example.contains(&campaign.display().to_string()),
        "{example}"
    );
    let dir = std::env::temp_dir().join(format!("tombola-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("readme.test.yaml");
    std::fs::write(&file, example).unwrap();
    let output = tombola(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("1 scenario: 1 passed, 0 failed"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_committed_scenario_schema_is_current() {
    let generated = stdout(&tombola(&["schema", "--scenario"]));
    let path = root().join("schema/scenario.schema.json");
    if std::env::var_os("TOMBOLA_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == generated,
        "schema/scenario.schema.json is stale: run `TOMBOLA_UPDATE_SCHEMA=1 cargo test -p tombola-cli --test cli scenario_schema`"
    );
}
