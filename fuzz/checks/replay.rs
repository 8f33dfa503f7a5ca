// The corpus replay shared by `grammar/tests/fuzz_corpus.rs` and
// `dsl/tests/fuzz_corpus.rs`: every input through the fuzz target's own checks,
// without libFuzzer.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// libFuzzer runs the target with `-timeout=10`; unoptimised code gets more room.
const SLOW: Duration = Duration::from_secs(30);

fn inputs(manifest_dir: &str, target: &str, kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(manifest_dir)
        .join("../fuzz")
        .join(kind)
        .join(target);
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

/// Replays every input of `fuzz/<kind>/<target>/` through `run`; returns how many ran.
pub(crate) fn replay(manifest_dir: &str, target: &str, kind: &str, run: fn(&str)) -> usize {
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in inputs(manifest_dir, target, kind) {
        let bytes = std::fs::read(&path).expect("a readable input");
        // The target skips what is not UTF-8; so does the replay.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        ran += 1;
        if let Err(failure) = run_bounded(&path, text, run) {
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
fn run_bounded(path: &Path, text: String, run: fn(&str)) -> Result<(), String> {
    let (done, finished) = mpsc::channel();
    std::thread::Builder::new()
        .name(path.display().to_string())
        .stack_size(8 << 20)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| run(&text));
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

/// The two replay tests of fuzz target `$target`: its corpus (which must not be
/// empty) and its regressions, through the `checks` module of the calling file.
macro_rules! replay_tests {
    ($target:literal) => {
        #[test]
        fn corpus_replays_cleanly() {
            let ran = replay::replay(env!("CARGO_MANIFEST_DIR"), $target, "corpus", checks::run);
            assert!(ran > 0, "the {} corpus is missing", $target);
        }

        #[test]
        fn regressions_replay_cleanly() {
            replay::replay(
                env!("CARGO_MANIFEST_DIR"),
                $target,
                "regressions",
                checks::run,
            );
        }
    };
}
pub(crate) use replay_tests;
