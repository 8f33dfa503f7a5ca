//! `tombola simulate`: reproducible, the same on SQLite as in memory, its
//! report (snapshot) and a self-contained HTML page.

use super::{stdout, tombola};
use crate::serve::sqlite_url;

fn simulate(extra: &[&str]) -> String {
    let mut args = vec![
        "simulate",
        "campaigns/big-market-unlock.yaml",
        "--users",
        "40",
        "--days",
        "3",
        "--seed",
        "9",
    ];
    args.extend_from_slice(extra);
    let output = tombola(&args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    stdout(&output)
}

#[test]
fn the_report_of_a_seeded_run() {
    insta::assert_snapshot!(simulate(&[]));
}

#[test]
fn a_seed_gives_the_same_awards_in_memory_and_on_sqlite() {
    let json = |extra: &[&str]| -> serde_json::Value {
        serde_json::from_str(&simulate(&[&["--format", "json"], extra].concat())).unwrap()
    };
    let memory = json(&[]);
    assert_eq!(memory, json(&[]), "a run is reproducible");
    let url = sqlite_url();
    let sqlite = json(&["--store", &url]);
    assert_eq!(
        memory["digest"], sqlite["digest"],
        "the same awards, draw by draw"
    );
    assert_eq!(memory["awards"], sqlite["awards"]);
    let other = tombola(&[
        "simulate",
        "campaigns/big-market-unlock.yaml",
        "--users",
        "40",
        "--days",
        "3",
        "--seed",
        "10",
        "--format",
        "json",
    ]);
    let other: serde_json::Value = serde_json::from_str(&stdout(&other)).unwrap();
    assert_ne!(
        memory["digest"], other["digest"],
        "another seed, other awards"
    );
}

#[test]
fn the_html_report_is_self_contained() {
    let path = std::env::temp_dir().join(format!("tombola-sim-{}.html", std::process::id()));
    simulate(&["--html", path.to_str().unwrap()]);
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert_eq!(
        page.matches("<svg").count(),
        2,
        "issued per day, stock burn-down"
    );
    assert!(page.contains("<polyline"), "{page}");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "loads nothing: found {external}");
    }
    let _ = std::fs::remove_file(path);
}
