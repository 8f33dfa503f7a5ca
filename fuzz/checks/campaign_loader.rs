// The checks of the `campaign_loader` fuzz target, shared with the corpus replay
// in `dsl/tests/fuzz_corpus.rs`.

/// Runs one input: loading, decoding, checking and compiling it must not panic.
/// libFuzzer's `-timeout` and `-rss_limit_mb` catch hangs and memory blow-ups;
/// the replay test bounds the time each input takes.
pub(crate) fn run(text: &str) {
    let _ = tombola_dsl::check_source(text);
}
