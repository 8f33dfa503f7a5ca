//! `tombola simulate`: reproducible, the same on SQLite as in memory, its
//! report (snapshot) and a self-contained HTML page.

use super::{stdout, tombola};
use crate::serve::sqlite_url;

/// 40 users for 3 days of the unlock campaign, seed 9.
fn simulate(extra: &[&str]) -> String {
    simulate_seeded("9", extra)
}

fn simulate_seeded(seed: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "simulate",
        "campaigns/big-market-unlock.yaml",
        "--users",
        "40",
        "--days",
        "3",
        "--seed",
        seed,
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
    let other: serde_json::Value =
        serde_json::from_str(&simulate_seeded("10", &["--format", "json"])).unwrap();
    assert_ne!(
        memory["digest"], other["digest"],
        "another seed, other awards"
    );
}

/// Request ids repeat from run to run and a simulation claims none, so a
/// store that holds the campaign already is refused, not drawn into.
#[test]
fn a_store_that_holds_the_campaign_is_refused() {
    let url = sqlite_url();
    simulate(&["--store", &url]);
    let output = tombola(&[
        "simulate",
        "campaigns/big-market-unlock.yaml",
        "--users",
        "2",
        "--store",
        &url,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--store already holds campaign `big-market-unlock`"),
        "{stderr}"
    );
}

#[test]
fn an_empty_simulation_is_refused() {
    for (flag, value, says) in [
        ("--users", "0", "at least 1 user"),
        ("--days", "0", "at least 1 day"),
        ("--credits=-5", "", "negative balance"),
    ] {
        let mut args = vec!["simulate", "campaigns/big-market-unlock.yaml", flag];
        if !value.is_empty() {
            args.push(value);
        }
        let output = tombola(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(output.status.code(), Some(0), "{flag}: {stderr}");
        assert!(stderr.contains(says), "{flag}: {stderr}");
    }
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
    assert!(
        page.contains("The campaign has no weight rule: no tiers to chart."),
        "{page}"
    );
    assert!(page.contains("<polyline"), "{page}");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "loads nothing: found {external}");
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn tier_progression_is_counted_each_day_and_charted() {
    let args = [
        "simulate",
        "campaigns/showcase.yaml",
        "--users",
        "20",
        "--days",
        "10",
        "--draws-per-day",
        "10",
        "--credits",
        "1000",
        "--exchange",
        "draw_10",
        "--seed",
        "3",
    ];
    let json = tombola(&[&args[..], &["--format", "json"]].concat());
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let days = report["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 10);
    let mut in_a_tier_before = 0;
    for day in days {
        let tiers = day["tiers"].as_array().unwrap();
        let users: u64 = tiers.iter().map(|t| t["users"].as_u64().unwrap()).sum();
        assert_eq!(users, 20, "every user stands somewhere: {day}");
        assert!(
            tiers
                .iter()
                .all(|t| t["rule"] == "weight" && t["unknown"] == false),
            "{day}"
        );
        // The score is draws made, which never falls: users only move up.
        let in_a_tier: u64 = tiers
            .iter()
            .filter(|t| !t["tier"].is_null())
            .map(|t| t["users"].as_u64().unwrap())
            .sum();
        assert!(in_a_tier >= in_a_tier_before, "{days:?}");
        in_a_tier_before = in_a_tier;
    }
    // Up to ten draws a day: nobody has 50 draws behind them on day 1, everyone by day 10.
    assert_eq!(
        days[0]["tiers"],
        serde_json::json!([{"rule": "weight", "tier": null, "unknown": false, "users": 20}])
    );
    assert_eq!(days[9]["tiers"][0]["tier"], 50);
    assert_eq!(in_a_tier_before, 20);

    let text = stdout(&tombola(&args));
    assert!(
        text.contains("  users per tier on day 10: weight: tier 50 20\n"),
        "{text}"
    );

    let path = std::env::temp_dir().join(format!("tombola-tiers-{}.html", std::process::id()));
    tombola(&[&args[..], &["--html", path.to_str().unwrap()]].concat());
    let page = std::fs::read_to_string(&path).unwrap();
    assert_eq!(page.matches("<svg").count(), 3, "issued, stock, tiers");
    let tiers = &page[page
        .find("<h2>Users per tier (end of each day)</h2>")
        .unwrap()..];
    assert!(
        tiers.contains(">weight: no tier</text>") && tiers.contains(">weight: tier 50</text>"),
        "{tiers}"
    );
    // Both series run over all ten days: the emptied tier drops to zero and stays there.
    let lines: Vec<&str> = tiers
        .split("points=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap())
        .take(2)
        .collect();
    assert!(
        lines.iter().all(|l| l.split(' ').count() == 10),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with(",240.0"),
        "no tier ends at zero: {}",
        lines[0]
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_reader_that_goes_away_stops_the_report_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tombola"))
        .args([
            "simulate",
            "campaigns/showcase.yaml",
            "--users",
            "200",
            "--format",
            "json",
        ])
        .current_dir(super::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report is written, as `| head` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn an_unknown_exchange_sku_is_an_error() {
    let output = tombola(&["simulate", "campaigns/showcase.yaml", "--exchange", "nope"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--exchange nope") && stderr.contains("draw_10"),
        "{stderr}"
    );
}
