//! A million simulated draws: `tombola simulate` with the real engine on the
//! in-memory store, timed end to end (process start, deploy, report).
//!
//! Run with `cargo bench -p tombola-cli --bench simulate`. Aim: 1,000,000
//! draws in under 2 s on the project's 2-core machine.

use std::process::Command;
use std::time::Instant;

const CAMPAIGN: &str = "campaign: sim\nname: Simulation bench\nstate: open\nwindow: { from: 2026-01-01, zone: UTC }\nallowance: 1000000000\nawards:\n  points: { kind: credits, amount: \"random(1, 100)\" }\n  prize: { kind: item, cost: 5 }\n  nothing: { kind: none }\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\npool:\n  - { award: points, rate: 0.5 }\n  - { award: prize, rate: 0.1, stock: 1000000000, tree: t }\n  - { award: nothing, rate: 0.4 }\ntrees:\n  t:\n    - stock: { exhausted: luck }\n    - luck: { fallback: points }\n";

fn main() {
    let dir = std::env::temp_dir().join(format!("tombola-sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sim.yaml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_tombola"))
            .args(["simulate", file.to_str().unwrap()])
            .args([
                "--users",
                "1000",
                "--days",
                "10",
                "--draws-per-day",
                "100",
                "--format",
                "json",
            ])
            .output()
            .expect("the tombola binary runs");
        let elapsed = started.elapsed();
        assert!(output.status.success(), "{output:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["draws"], 1_000_000);
        times.push(elapsed);
    }
    times.sort();
    let median = times[1];
    println!(
        "simulate: 1,000,000 draws in {:.2} s (median of 3; {:.0} draws/s)",
        median.as_secs_f64(),
        1e6 / median.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}
