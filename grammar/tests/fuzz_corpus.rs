//! Replays the `expr_parser` fuzz corpus and its regressions without libFuzzer,
//! through the very checks the fuzz target runs (`fuzz/checks/expr_parser.rs`).
//! A regression input that still fails makes this test fail.

#[path = "../../fuzz/checks/expr_parser.rs"]
mod checks;
#[path = "../../fuzz/checks/replay.rs"]
mod replay;

replay::replay_tests!("expr_parser");
