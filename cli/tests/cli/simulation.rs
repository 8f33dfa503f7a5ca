//! `tombola simulate`: reproducible, the same on SQLite as in memory, its
//! report (snapshot) and a self-contained HTML page.

use super::{stdout, tombola};
use crate::serve::sqlite_url;

/// 40 users for 3 days of the unlock campaign, seed 9.
fn simulate(extra: &[&str]) -> String {
    simulate_seeded("9", extra)
}

/// The unlock campaign's small seeded simulation, and `extra` flags.
fn seeded_args<'a>(seed: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
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
    args
}

fn simulate_seeded(seed: &str, extra: &[&str]) -> String {
    let args = seeded_args(seed, extra);
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
    // Zero sits on the x axis, 44 px above the bottom of the 300 px chart.
    assert!(
        lines[0].ends_with(",256.0") && tiers.contains("y1=\"256\" y2=\"256\""),
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

const VIP: &str = "cli/tests/fixtures/simulate/vip.yaml";
const VIP_PROFILE: &str = "cli/tests/fixtures/simulate/vip.profile.yaml";

fn json_of(args: &[&str]) -> serde_json::Value {
    let output = tombola(&[args, &["--format", "json"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", super::stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn segment<'r>(report: &'r serde_json::Value, name: &str) -> &'r serde_json::Value {
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["segment"] == name)
        .unwrap_or_else(|| panic!("no segment {name}: {report}"))
}

/// The file gives VIPs the TV at 10% (`vip-odds`) and nobody else keeps it:
/// the VIP segment's draws end in it at that rate, the others' never.
#[test]
fn a_vip_segment_wins_the_vip_prize_at_the_rate_its_rule_declares() {
    let report = json_of(&["simulate", VIP, "--profile", VIP_PROFILE, "--seed", "4"]);
    let vip = segment(&report, "vip");
    assert_eq!(vip["users"], 60, "30% of 200 users");
    // Five draws a day for ten days, never refused (5 a day is the cap).
    let draws = vip["draws"].as_u64().unwrap();
    assert_eq!(draws, 60 * 5 * 10);
    let won = vip["issued"]["vip_tv"].as_u64().unwrap() as f64;
    let rate = won / draws as f64;
    // Four standard deviations of a 10% rate over 3,000 draws: a wrong rate
    // (the pool's 1%, or 11% with the pool's added) lands far outside.
    let tolerance = 4.0 * (0.1f64 * 0.9 / draws as f64).sqrt();
    assert!(
        (rate - 0.10).abs() < tolerance,
        "VIPs won the TV at {rate}, not 10% ± {tolerance}"
    );
    let regular = segment(&report, "regular");
    assert_eq!(regular["users"], 140);
    assert!(regular["draws"].as_u64().unwrap() > 1000, "{regular}");
    assert_eq!(regular["issued"].get("vip_tv"), None, "{regular}");
}

/// A coupon needs codes: without them the report says it cannot be won and
/// why; with `codes:` in the profile it is issued until they run out.
#[test]
fn coupon_codes_come_from_the_profile_and_their_absence_is_a_warning() {
    let report = json_of(&["simulate", VIP, "--profile", VIP_PROFILE]);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["award"], "voucher");
    assert_eq!(warnings[0]["kind"], "cannot_win");
    let reason = warnings[0]["reason"].as_str().unwrap();
    assert!(reason.contains("`codes: { voucher: N }`"), "{reason}");

    let dir = super::scratch("sim-codes");
    let profile = dir.join("codes.profile.yaml");
    let text = std::fs::read_to_string(super::root().join(VIP_PROFILE)).unwrap();
    std::fs::write(&profile, format!("{text}codes: {{ voucher: 7 }}\n")).unwrap();
    let report = json_of(&["simulate", VIP, "--profile", profile.to_str().unwrap()]);
    let voucher = &report["awards"].as_array().unwrap()[2];
    assert_eq!(voucher["award"], "voucher");
    assert_eq!(voucher["issued"], 7, "every code, and no more");
    assert_eq!(voucher["sold_out_on_day"], 1);
    assert_eq!(report["warnings"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(dir);
}

/// Each mistake in a profile is named with its file, line and column.
#[test]
fn a_bad_profile_says_what_is_wrong_and_where() {
    let dir = super::scratch("sim-bad-profile");
    let good = std::fs::read_to_string(super::root().join(VIP_PROFILE)).unwrap();
    for (from, to, says) in [
        (
            "days: 10",
            "days: 10\nweeks: 2",
            ":4:1: unknown field `weeks`, expected one of users, days, segments, codes",
        ),
        (
            "share: 0.3",
            "share: 0.2",
            ":6:5: segments: the shares sum to 0.9; they must sum to 1 (`name: regular` is the first)",
        ),
        (
            "{ vip: true }",
            "{ vipp: true }",
            ":9:5: segment `vip`: `attributes`: `vipp` is not a declared attribute; the declared ones are `vip`",
        ),
        (
            "{ vip: true }",
            "{ vip: 3 }",
            ":9:5: segment `vip`: `attributes`: attribute `vip` must be bool",
        ),
        (
            "- name: regular",
            "- name: regular\n    sign_in: 2",
            ":6:5: segment `regular`: `sign_in` is a probability between 0 and 1",
        ),
        (
            "draws_per_day: 5",
            "draws_per_day: { poisson: -1 }",
            ":9:5: segment `vip`: `draws_per_day` `poisson: -1`: the mean is between 0 and 100",
        ),
        (
            "draws_per_day: 5",
            "draws_per_day: { normal: 3 }",
            ":12:20: `draws_per_day` is a number of draws (`3`), `{ poisson: MEAN }` or `{ uniform: [MIN, MAX] }`",
        ),
        (
            "draws_per_day: 5",
            "draws_per_day: 5\n    exchange: draw_9",
            ":9:5: segment `vip`: `exchange` draw_9: the campaign declares no such SKU (it declares: none)",
        ),
        (
            "days: 10",
            "days: 10\ncodes: { points: 3 }",
            ":4:8: codes: invalid input: `points` is not a coupon award",
        ),
    ] {
        let broken = good.replacen(from, to, 1);
        assert_ne!(broken, good, "{from}");
        let path = dir.join("bad.profile.yaml");
        std::fs::write(&path, &broken).unwrap();
        let output = tombola(&["simulate", VIP, "--profile", path.to_str().unwrap()]);
        let stderr = super::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{to}: {stderr}");
        let expected = format!("error: {}{says}", path.display());
        assert!(
            stderr.starts_with(&expected),
            "{to}:\n{stderr}\nshould start with\n{expected}"
        );
    }
    let conflict = tombola(&[
        "simulate",
        VIP,
        "--profile",
        VIP_PROFILE,
        "--draws-per-day",
        "4",
    ]);
    assert_eq!(conflict.status.code(), Some(2));
    assert!(
        super::stderr(&conflict).contains("cannot be used with"),
        "{}",
        super::stderr(&conflict)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `--runs 5` runs seeds 9 to 13: the totals are theirs together, and each
/// award's count in one run has a band that holds its mean.
#[test]
fn runs_pool_their_draws_and_band_each_award() {
    let one = |seed: &str| json_of(&seeded_args(seed, &[]));
    let singles: Vec<serde_json::Value> = (9..14).map(|s| one(&s.to_string())).collect();
    let runs = json_of(&seeded_args("9", &["--runs", "5"]));
    assert_eq!(runs["runs"], 5);
    let draws: u64 = singles.iter().map(|r| r["draws"].as_u64().unwrap()).sum();
    assert_eq!(runs["draws"], draws);
    for (ix, award) in runs["awards"].as_array().unwrap().iter().enumerate() {
        let counts: Vec<u64> = singles
            .iter()
            .map(|r| r["awards"][ix]["issued"].as_u64().unwrap())
            .collect();
        assert_eq!(award["issued"], counts.iter().sum::<u64>(), "{award}");
        let band = &award["per_run"];
        let (low, high) = (band["p5"].as_f64().unwrap(), band["p95"].as_f64().unwrap());
        assert_eq!(
            low,
            *counts.iter().min().unwrap() as f64,
            "p5 of 5 runs is the lowest"
        );
        assert_eq!(
            high,
            *counts.iter().max().unwrap() as f64,
            "p95 of 5 runs is the highest"
        );
        assert!(low <= band["mean"].as_f64().unwrap() && band["mean"].as_f64().unwrap() <= high);
    }
    assert_eq!(
        singles[0]["awards"][0]["per_run"],
        serde_json::Value::Null,
        "one run has no band"
    );
}

/// The observed cost beside the rates' expectation, and the causes of the
/// gap, which add up to it.
#[test]
fn the_cost_per_draw_is_explained_by_its_causes() {
    let report = json_of(&["simulate", VIP, "--profile", VIP_PROFILE]);
    let number = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let observed = number(&report["cost_per_draw"]);
    let expected = number(&report["expected_cost_per_draw"]);
    assert_eq!(expected, 0.01 * 399.0 + 0.05, "what `tombola diff` shows");
    let causes = report["cost_causes"].as_array().unwrap();
    let sum: f64 = causes.iter().map(|c| number(&c["per_draw"])).sum();
    assert!(
        (observed - expected - sum).abs() < 0.001,
        "{observed} - {expected} vs {causes:?}"
    );
    let named: Vec<&str> = causes
        .iter()
        .map(|c| c["cause"].as_str().unwrap())
        .collect();
    for cause in ["coupon codes", "tree conditions", "when rules"] {
        assert!(named.contains(&cause), "{named:?}");
    }
}

#[test]
fn the_committed_profile_schema_is_current() {
    let generated = stdout(&tombola(&["schema", "--profile"]));
    let path = super::root().join("schema/profile.schema.json");
    if std::env::var_os("TOMBOLA_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/profile.schema.json is stale: run `TOMBOLA_UPDATE_SCHEMA=1 cargo test -p tombola-cli --test cli profile_schema`"
    );
}

/// The page a reader wants: stock burning down from what the file declares
/// on day 0, a band across the runs, each line labelled at its end, axes with
/// their units, and the numbers of each chart in a table under it.
#[test]
fn the_html_report_charts_stock_from_day_0_with_bands_and_tables() {
    let dir = super::scratch("sim-html");
    let profile = dir.join("codes.profile.yaml");
    let text = std::fs::read_to_string(super::root().join(VIP_PROFILE)).unwrap();
    std::fs::write(&profile, format!("{text}codes: {{ voucher: 7 }}\n")).unwrap();
    let page = dir.join("report.html");
    let args = [
        "simulate",
        VIP,
        "--profile",
        profile.to_str().unwrap(),
        "--runs",
        "3",
    ];
    let output = tombola(&[&args[..], &["--html", page.to_str().unwrap()]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", super::stderr(&output));
    let page = std::fs::read_to_string(&page).unwrap();
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "loads nothing: found {external}");
    }
    let stock = &page[page.find("<h2>Stock left (burn-down)</h2>").unwrap()..];
    let stock = &stock[..stock.find("</table>").unwrap()];
    assert!(
        stock.contains(">units left</text>"),
        "the y axis says what it counts"
    );
    assert!(
        stock.contains(">day (in the campaign's zone)</text>"),
        "and the x axis"
    );
    assert!(
        stock.contains("text-anchor=\"middle\">0</text>"),
        "the x axis starts on day 0"
    );
    assert!(
        stock.contains("\">voucher</text>"),
        "the line is labelled at its end"
    );
    // Day 0 holds the 7 codes the profile uploads; the 5% voucher takes them all on day 1.
    let rows: Vec<&str> = stock.split("<tr><td>").skip(1).take(2).collect();
    assert!(rows[0].starts_with("0</td><td>7 "), "{rows:?}");
    assert!(rows[1].starts_with("1</td><td>0 "), "{rows:?}");
    let issued = &page[page.find("<h2>Awards issued per day</h2>").unwrap()..];
    assert_eq!(
        issued.matches("class=\"band\"").count(),
        4 + 1,
        "a band per award and the voucher's stock"
    );
    assert!(
        issued.contains("<th>vip_tv</th>"),
        "a column per award in the table"
    );
    assert_eq!(
        page.matches("<table>").count(),
        2,
        "issued, stock; no tiers to tabulate"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The console's simulation through `tombola serve` is `tombola simulate`'s:
/// the same report for the same users, days and seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_simulation_is_the_commands_report() {
    let database = sqlite_url();
    let server = crate::serve::Server::start(&["--dev", "--database-url", &database]);
    let source =
        std::fs::read_to_string(super::root().join("campaigns/big-market-unlock.yaml")).unwrap();
    let body = serde_json::json!({ "source": source, "users": 40, "days": 3, "seed": "9" });
    let (status, served) = crate::serve::send(
        &reqwest::Client::new(),
        reqwest::Method::POST,
        &server.url("/v1/authoring/simulate"),
        Some("Bearer dev-admin"),
        Some(body),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{served}");
    let printed: serde_json::Value =
        serde_json::from_str(&simulate(&["--format", "json"])).unwrap();
    assert_eq!(served, printed);
}
