//! `tombola diff`: the semantic diff a reviewer reads, as Markdown (snapshot),
//! as JSON, and against a git revision.

use std::process::Command;

use super::{stdout, tombola};

#[test]
fn the_markdown_diff_names_every_kind_of_change() {
    let output = tombola(&[
        "diff",
        "cli/tests/fixtures/diff/old.yaml",
        "cli/tests/fixtures/diff/new.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn the_json_diff_and_an_unchanged_file() {
    let output = tombola(&[
        "diff",
        "cli/tests/fixtures/diff/old.yaml",
        "cli/tests/fixtures/diff/new.yaml",
        "--format",
        "json",
    ]);
    let diff: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let changes = diff["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["section"] == "Locks"
            && c["what"] == "`headphones` now unlocks after 3 draws, was 5"),
        "{diff}"
    );
    assert_eq!(
        diff["cost_per_draw"],
        serde_json::json!(["0.5245", "0.7245"])
    );

    let same = tombola(&["diff", "campaigns/showcase.yaml", "campaigns/showcase.yaml"]);
    assert!(
        stdout(&same).contains("No change in the campaign, awards"),
        "{}",
        stdout(&same)
    );
    let broken = tombola(&[
        "diff",
        "campaigns/showcase.yaml",
        "dsl/tests/fixtures/T0301-rates-sum-to-061.yaml",
    ]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("has errors"));
}

#[test]
fn git_compares_a_file_with_a_revision() {
    let dir = std::env::temp_dir().join(format!("tombola-diff-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
    };
    let root = super::root();
    std::fs::copy(
        root.join("cli/tests/fixtures/diff/old.yaml"),
        dir.join("c.yaml"),
    )
    .unwrap();
    git(&["init", "-q"]);
    git(&["add", "c.yaml"]);
    git(&["commit", "-qm", "old"]);
    std::fs::copy(
        root.join("cli/tests/fixtures/diff/new.yaml"),
        dir.join("c.yaml"),
    )
    .unwrap();
    let file = dir.join("c.yaml");
    let output = tombola(&["diff", "--git", "HEAD", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout(&output).contains("`headphones` now unlocks after 3 draws, was 5"),
        "{}",
        stdout(&output)
    );
    let missing = tombola(&["diff", "--git", "no-such-rev", file.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_change_to_a_daily_allowance_says_per_day() {
    let dir = super::scratch("diff-daily-allowance");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let showcase = std::fs::read_to_string(root.join("campaigns/showcase.yaml")).unwrap();
    let daily = dir.join("daily.yaml");
    std::fs::write(
        &daily,
        showcase.replacen("allowance: 3", "allowance: { per_day: 5 }", 1),
    )
    .unwrap();
    let output = tombola(&[
        "diff",
        "campaigns/showcase.yaml",
        daily.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let diff: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let changes = diff["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["what"] == "allowance: 5 draws a day (was 3 draws for the whole campaign)"),
        "{diff}"
    );
}
