//! Replays the `campaign_loader` fuzz corpus and its regressions without libFuzzer,
//! through the very checks the fuzz target runs (`fuzz/checks/campaign_loader.rs`).
//! A regression input that still fails makes this test fail.

#[path = "../../fuzz/checks/campaign_loader.rs"]
mod checks;
#[path = "../../fuzz/checks/replay.rs"]
mod replay;

replay::replay_tests!("campaign_loader");
