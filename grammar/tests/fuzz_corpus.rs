//! Replays the `expr_parser` fuzz corpus and its regressions without libFuzzer,
//! through the very checks the fuzz target runs (`fuzz/checks/expr_parser.rs`).
//! A regression input that still fails makes this test fail.

#[path = "../../fuzz/checks/expr_parser.rs"]
mod checks;
#[path = "../../fuzz/checks/replay.rs"]
mod replay;

const TARGET: &str = "expr_parser";

#[test]
fn corpus_replays_cleanly() {
    let ran = replay::replay(env!("CARGO_MANIFEST_DIR"), TARGET, "corpus", checks::run);
    assert!(ran > 0, "the {TARGET} corpus is missing");
}

#[test]
fn regressions_replay_cleanly() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        TARGET,
        "regressions",
        checks::run,
    );
}
