//! Replays the `campaign_loader` fuzz corpus and its regressions without libFuzzer,
//! through the very checks the fuzz target runs (`fuzz/checks/campaign_loader.rs`).
//! A regression input that still fails makes this test fail.

#[path = "../../fuzz/checks/campaign_loader.rs"]
mod checks;
#[path = "../../fuzz/checks/replay.rs"]
mod replay;

const TARGET: &str = "campaign_loader";

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
