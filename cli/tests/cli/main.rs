//! The `tombola` binary end to end: exit codes, output formats, folder search.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod connections;
mod crash;
mod fmt;
mod lsp;
mod ops;
mod ownership;
mod review;
mod scenarios;
mod serve;
mod simulation;
mod templates;
mod watch;

fn tombola(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tombola"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An empty folder of the test's own under the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tombola-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn shipped_campaigns_pass() {
    // Inside every shipped window, so no T0506 warning whatever the day.
    let output = tombola(&["check", "--now", "2026-06-01T00:00:00Z", "campaigns/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("checked 3 files: 0 errors, 0 warnings"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn errors_exit_1_with_file_line_and_column() {
    let output = tombola(&["check", "dsl/tests/fixtures/T0301-rates-sum-to-061.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("dsl/tests/fixtures/T0301-rates-sum-to-061.yaml:"),
        "{text}"
    );
    assert!(text.contains("T0301"), "{text}");
    assert!(text.contains("0.61"), "{text}");
    assert!(
        !text.contains("\u{1b}["),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let fixture = "dsl/tests/fixtures/T0208-unused-award.yaml";
    assert_eq!(tombola(&["check", fixture]).status.code(), Some(0));
    assert_eq!(
        tombola(&["check", "--deny-warnings", fixture])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_window_that_has_ended_warns_as_of_now() {
    let fixture = "dsl/tests/fixtures/T0506-window-already-ended.yaml";
    let after = tombola(&["check", "--now", "2026-03-01T00:00:00Z", fixture]);
    assert_eq!(after.status.code(), Some(0), "a warning passes");
    let text = stdout(&after);
    assert!(text.contains(&format!("{fixture}:6:33: T0506")), "{text}");
    assert!(text.contains("0 errors, 1 warning"), "{text}");
    // The window runs to the end of 2025-12-31 in Shanghai, 16:00 UTC.
    let before = tombola(&["check", "--now", "2025-12-31T15:59:59Z", fixture]);
    assert!(
        stdout(&before).contains("0 errors, 0 warnings"),
        "{}",
        stdout(&before)
    );
    let denied = Command::new(env!("CARGO_BIN_EXE_tombola"))
        .args(["check", "--deny-warnings", fixture])
        .env("TOMBOLA_NOW", "2026-12-31T16:00:00Z")
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(1), "{}", stdout(&denied));
    assert!(stdout(&denied).contains("T0506"), "TOMBOLA_NOW is read");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_and_the_others_checked() {
    let dir = std::env::temp_dir().join(format!("tombola-cli-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = root().join("dsl/tests/fixtures");
    std::fs::copy(
        fixtures.join("T0008-not-utf8.yaml"),
        dir.join("a-latin1.yaml"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("T0301-rates-sum-to-061.yaml"),
        dir.join("b-rates.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("campaigns/showcase.yaml"),
        dir.join("c-showcase.yaml"),
    )
    .unwrap();
    // Inside the T0301 fixture's window, so its file has no T0506 warning first.
    let now = "2026-03-01T00:00:00Z";
    let output = tombola(&[
        "check",
        "--now",
        now,
        "--format",
        "json",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a diagnostic, not a crash (2)"
    );
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files = document["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "every file is checked");
    let first = &files[0]["diagnostics"][0];
    assert_eq!(first["code"], "T0008");
    assert_eq!(first["start"]["line"], 4);
    assert_eq!(first["start"]["column"], 23);
    assert_eq!(files[1]["diagnostics"][0]["code"], "T0301");
    assert_eq!(files[2]["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn devices_pipes_and_oversized_files_are_refused_without_reading_them() {
    let device = tombola(&["check", "/dev/zero"]);
    assert_eq!(device.status.code(), Some(2), "{}", stderr(&device));
    assert!(
        stderr(&device).contains("cannot read /dev/zero: not a regular file"),
        "{}",
        stderr(&device)
    );
    let dir = scratch("not-regular");
    let fifo = dir.join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let pipe = tombola(&["check", fifo.to_str().unwrap()]);
    assert_eq!(pipe.status.code(), Some(2), "{}", stderr(&pipe));
    assert!(
        stderr(&pipe).contains("not a regular file"),
        "{}",
        stderr(&pipe)
    );
    std::fs::remove_file(&fifo).unwrap();

    // A scenario naming a device as its campaign.
    let scenario = dir.join("zero.test.yaml");
    std::fs::write(&scenario, "campaign: /dev/zero\nscenarios: []\n").unwrap();
    let test = tombola(&["test", scenario.to_str().unwrap()]);
    assert_ne!(test.status.code(), Some(0), "{}", stderr(&test));
    assert!(
        stderr(&test).contains("cannot read /dev/zero: not a regular file"),
        "{}",
        stderr(&test)
    );

    // A file over the limit is a finding of its own; the folder's others are checked.
    let big = std::fs::File::create(dir.join("a-big.yaml")).unwrap();
    big.set_len(8 * 1024 * 1024 + 1).unwrap();
    std::fs::copy(
        root().join("campaigns/showcase.yaml"),
        dir.join("b-showcase.yaml"),
    )
    .unwrap();
    std::fs::remove_file(&scenario).unwrap();
    let output = tombola(&["check", "--format", "json", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files = document["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{document}");
    let message = files[0]["diagnostics"][0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "the file is 8388609 bytes; campaign files may be at most 8388608"
    );
    assert_eq!(files[1]["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn usage_and_io_problems_exit_2() {
    let missing = tombola(&["check", "no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read no/such/file.yaml"));
    assert_eq!(tombola(&["check"]).status.code(), Some(2));
    assert_eq!(
        tombola(&["check", "--format", "xml", "campaigns/"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_format_lists_every_diagnostic_with_positions() {
    let output = tombola(&[
        "check",
        "--format",
        "json",
        "dsl/tests/fixtures/multi-errors.yaml",
        "campaigns/showcase.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files = document["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let diagnostics = files[0]["diagnostics"].as_array().unwrap();
    assert!(diagnostics.len() >= 5, "every error of the file in one run");
    assert_eq!(
        document["errors"].as_u64().unwrap() as usize,
        diagnostics
            .iter()
            .filter(|d| d["severity"] == "error")
            .count()
    );
    let first = &diagnostics[0];
    for key in ["code", "severity", "message", "span", "label", "help"] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert!(first["start"]["line"].as_u64().unwrap() >= 1);
    assert!(files[1]["diagnostics"].as_array().unwrap().is_empty());
}

#[test]
fn github_format_writes_workflow_annotations() {
    let output = tombola(&[
        "check",
        "--format",
        "github",
        "dsl/tests/fixtures/T0502-misspelt-zone.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let line = text.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=dsl/tests/fixtures/T0502-misspelt-zone.yaml,line="),
        "{line}"
    );
    assert!(line.contains(",title=T0502::"), "{line}");
}

#[test]
fn folders_skip_scenario_files() {
    let dir = std::env::temp_dir().join(format!("tombola-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::copy(
        root().join("campaigns/showcase.yaml"),
        dir.join("nested/showcase.yml"),
    )
    .unwrap();
    std::fs::write(dir.join("showcase.test.yaml"), "not: a campaign\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    let output = tombola(&["check", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("checked 1 file:"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let output = tombola(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("schema/campaign.schema.json")).unwrap();
    assert_eq!(stdout(&output), committed);
}

#[test]
fn compile_prints_the_ir_and_refuses_broken_files() {
    let output = tombola(&["compile", "campaigns/big-market-unlock.yaml"]);
    assert_eq!(output.status.code(), Some(0));
    let ir: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(ir["id"], "big-market-unlock");
    assert_eq!(ir["trees"].as_array().unwrap().len(), 3);
    let broken = tombola(&[
        "compile",
        "dsl/tests/fixtures/T0402-unreachable-stock-node.yaml",
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("T0402"));
}

#[test]
fn graph_draws_mermaid_and_dot() {
    let mermaid = stdout(&tombola(&["graph", "campaigns/big-market-unlock.yaml"]));
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    assert!(
        mermaid.contains("subgraph tree_0 [\"tree unlock_after_1\"]"),
        "{mermaid}"
    );
    assert!(mermaid.contains("-->|\"locked\"|"), "{mermaid}");
    let dot = stdout(&tombola(&[
        "graph",
        "--format",
        "dot",
        "campaigns/big-market-unlock.yaml",
    ]));
    assert!(dot.starts_with("digraph \"big-market-unlock\" {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    assert!(dot.contains("shape=diamond"));
}

#[test]
fn migrate_creates_a_sqlite_store() {
    let path = std::env::temp_dir().join(format!("tombola-migrate-{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    let output = tombola(&["migrate", "--database-url", &url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).contains("is up to date"));
    assert!(path.exists());
    // Running it again is a no-op.
    assert_eq!(
        tombola(&["migrate", "--database-url", &url]).status.code(),
        Some(0)
    );
    let bad = tombola(&[
        "migrate",
        "--database-url",
        "mysql://root:hunter2@localhost/x",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("unsupported database URL scheme `mysql`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "passwords stay out of messages: {stderr}"
    );
    let _ = std::fs::remove_file(&path);
}
