//! A prize for one segment: a `when` rule's `draw:` of one award the pool
//! does not hold gives it at rate 1, when it cannot run out; other sub-pools
//! still draw from the pool.

use tombola_dsl::check_source;
use tombola_ir::{ChainKind, RuleOutcome};

fn campaign(rule: &str, extra_award: &str) -> String {
    format!(
        "campaign: segments\nname: Segments\nwindow: {{ from: 2026-01-01, zone: Europe/Paris }}\nallowance: 3\ninputs:\n  user:\n    vip: bool\nawards:\n  points: {{ kind: credits, amount: 5 }}\n  nothing: {{ kind: none }}\n  {extra_award}\npool:\n  - {{ award: points, rate: 50% }}\n  - {{ award: nothing, rate: 50% }}\nbefore:\n  - id: vip-only\n    when: user.vip\n    {rule}\n"
    )
}

fn codes(source: &str) -> Vec<&'static str> {
    check_source(source)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

#[test]
fn one_award_outside_the_pool_is_given_to_the_segment() {
    for rule in [
        "draw: [vip_gift]",
        "draw: { vip_gift: 1 }",
        "draw: { vip_gift: 100% }",
    ] {
        let source = campaign(rule, "vip_gift: { kind: credits, amount: 50 }");
        let report = check_source(&source);
        assert!(
            report.diagnostics.is_empty(),
            "{rule}: {:?}",
            report.diagnostics
        );
        let ir = report.campaign.unwrap();
        let gift = ir.awards.iter().position(|a| a.id == "vip_gift").unwrap();
        match &ir.chain[0].kind {
            ChainKind::When {
                outcome: RuleOutcome::Give(award),
                ..
            } => {
                assert_eq!(*award as usize, gift, "{rule}");
            }
            other => panic!("{rule}: {other:?}"),
        }
    }
}

#[test]
fn one_that_can_run_out_or_is_not_declared_is_refused() {
    // A coupon's codes can run out: given outright, it is refused as `give` is.
    let coupon = campaign("draw: [vip_code]", "vip_code: { kind: coupon }");
    // (T0703 too: a coupon needs a `delivery` the file does not have.)
    assert!(codes(&coupon).contains(&"T0406"), "{:?}", codes(&coupon));
    // Not an award at all: the reference is unknown, with a did-you-mean.
    let unknown = campaign(
        "draw: [vip_gfit]",
        "vip_gift: { kind: credits, amount: 50 }",
    );
    let report = check_source(&unknown);
    assert_eq!(codes(&unknown), ["T0201"], "{:?}", report.diagnostics);
}

#[test]
fn sub_pools_of_several_awards_still_draw_from_the_pool() {
    let two = campaign(
        "draw: [vip_gift, points]",
        "vip_gift: { kind: credits, amount: 50 }",
    );
    assert_eq!(codes(&two), ["T0304"]);
    let pooled = campaign("draw: [points]", "vip_gift: { kind: credits, amount: 50 }");
    let ir = check_source(&pooled).campaign.unwrap();
    assert!(matches!(
        &ir.chain[0].kind,
        ChainKind::When {
            outcome: RuleOutcome::Draw(_),
            ..
        }
    ));
}
