//! The benchmark generators (`benches/generate`) produce campaigns that pass
//! `check` with no diagnostic at all, so the benchmarks measure the real path
//! (decode, checks, compile) and not early error exits.

#[path = "../benches/generate/mod.rs"]
mod generate;

fn assert_clean(what: &str, source: &str) {
    let report = tombola_dsl::check_source(source);
    assert!(
        report.diagnostics.is_empty(),
        "{what} has diagnostics:\n{}\n--- source ---\n{source}",
        report
            .diagnostics
            .iter()
            .map(|d| format!("{} at {:?}: {}", d.code, d.span, d.message))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(report.campaign.is_some(), "{what} did not compile");
}

#[test]
fn realistic_campaigns_check_clean() {
    for seed in [0, 1, 2, 3, 7, 42, 999, 123_456_789, u64::MAX] {
        assert_clean(&format!("realistic({seed})"), &generate::realistic(seed));
    }
}

#[test]
fn realistic_campaigns_vary_with_the_seed() {
    assert_ne!(generate::realistic(1), generate::realistic(2));
    assert_eq!(generate::realistic(5), generate::realistic(5));
}

#[test]
fn realistic_campaign_has_the_promised_shape() {
    let report = tombola_dsl::check_source(&generate::realistic(11));
    let campaign = report.campaign.expect("compiles");
    assert_eq!(campaign.awards.len(), 20, "20 awards");
    assert_eq!(campaign.pool.len(), 20, "every award in the pool");
    assert_eq!(campaign.trees.len(), 3, "3 trees");
    assert_eq!(campaign.chain.len(), 5, "5 rules before the draw");
    assert_eq!(campaign.skus.len(), 3, "3 SKUs");
    assert_eq!(campaign.rebates.len(), 2, "2 rebate flows");
}

#[test]
fn huge_campaigns_check_clean() {
    for awards in [2, 3, 7, 100, 1_000] {
        assert_clean(&format!("huge({awards})"), &generate::huge(awards));
    }
}

#[test]
fn huge_10000_checks_clean() {
    let source = generate::huge(10_000);
    assert_clean("huge(10_000)", &source);
    let campaign = tombola_dsl::check_source(&source)
        .campaign
        .expect("compiles");
    assert_eq!(campaign.awards.len(), 10_000);
    assert_eq!(campaign.pool.len(), 10_000);
}

#[test]
fn a_broken_generated_campaign_is_caught() {
    // Guards the tests above: a wrong rate must show up as a diagnostic.
    let broken = generate::realistic(3).replacen("rate: ", "rate: 0.5", 1);
    let report = tombola_dsl::check_source(&broken);
    assert!(report.has_errors(), "a pool that no longer sums to 1");
}
