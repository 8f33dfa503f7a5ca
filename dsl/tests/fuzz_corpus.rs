//! Replays the `campaign_loader` fuzz corpus and its regressions without libFuzzer,
//! through the very checks the fuzz target runs (`fuzz/checks/campaign_loader.rs`).
//! A regression input that still fails makes this test fail.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

#[path = "../../fuzz/checks/campaign_loader.rs"]
mod checks;

const TARGET: &str = "campaign_loader";
/// libFuzzer runs the target with `-timeout=10`; unoptimised code gets more room.
const SLOW: Duration = Duration::from_secs(30);

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(TARGET);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in inputs(kind) {
        let bytes = std::fs::read(&path).expect("a readable input");
        // The target skips what is not UTF-8; so does the replay.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        ran += 1;
        if let Err(failure) = run_bounded(&path, text) {
            failures.push(format!("{}: {failure}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} {kind} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    ran
}

/// Runs one input on its own thread (with the 8 MiB stack libFuzzer's main
/// thread has), failing it if it panics or outlives [`SLOW`].
/// The thread is named after the input, so a stack overflow (which aborts the
/// whole test) still says which file caused it.
fn run_bounded(path: &Path, text: String) -> Result<(), String> {
    let (done, finished) = mpsc::channel();
    std::thread::Builder::new()
        .name(path.display().to_string())
        .stack_size(8 << 20)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| checks::run(&text));
            let _ = done.send(outcome.map_err(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".into())
            }));
        })
        .expect("a thread for the input");
    match finished.recv_timeout(SLOW) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(format!("panicked: {message}")),
        Err(_) => Err(format!("still running after {SLOW:?}")),
    }
}

#[test]
fn corpus_replays_cleanly() {
    let ran = replay("corpus");
    assert!(ran > 0, "the {TARGET} corpus is missing");
}

#[test]
fn regressions_replay_cleanly() {
    replay("regressions");
}
