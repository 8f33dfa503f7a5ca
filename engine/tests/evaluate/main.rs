//! The draw's evaluation on the IR: the chain, tiers, locks, stock, fallbacks,
//! explanations, and the exactness of the weighted draw.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tombola_engine::{
    Context, DrawInput, SeededRandom, Source, StepOutcome, UserCounts, draw_in_memory,
};
use tombola_grammar::Value;
use tombola_ir::Campaign;

fn compile(source: &str) -> Campaign {
    let report = tombola_dsl::check_source(source);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
    report.campaign.unwrap()
}

fn shipped(name: &str) -> Campaign {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../campaigns")
        .join(name);
    compile(&std::fs::read_to_string(path).unwrap())
}

fn now() -> DateTime<Utc> {
    "2026-03-04T10:00:00Z".parse().unwrap()
}

fn stock_of(campaign: &Campaign) -> Vec<Option<u64>> {
    campaign.pool.iter().map(|e| e.stock).collect()
}

fn award_id(campaign: &Campaign, award: u32) -> &str {
    &campaign.awards[award as usize].id
}

/// Draws once for `user` with `counts`, returning the award id and the outcomes of its steps.
fn draw(
    campaign: &Campaign,
    user: &str,
    counts: UserCounts,
    attributes: &[Option<Value>],
    stock: &mut [Option<u64>],
    seed: u64,
) -> (String, Vec<StepOutcome>) {
    let mut random = SeededRandom::new(seed);
    let mut cx = context(&mut random);
    let draw = draw_in_memory(
        campaign,
        &draw_input(user, counts, attributes),
        stock,
        &mut cx,
    )
    .unwrap();
    let outcomes = draw.explanation.steps.iter().map(|s| s.outcome).collect();
    (award_id(campaign, draw.issued.award).to_string(), outcomes)
}

/// The context of a draw at [`now`], drawing by weight.
fn context(random: &mut SeededRandom) -> Context<'_> {
    Context {
        now: now(),
        random,
        force: None,
    }
}

/// What a draw reads about `user`: one draw left after it, no credits.
fn draw_input<'a>(
    user: &'a str,
    counts: UserCounts,
    attributes: &'a [Option<Value>],
) -> DrawInput<'a> {
    DrawInput {
        user,
        counts,
        draws_left: 1,
        credits: Decimal::ZERO,
        attributes,
    }
}

/// A user's completed draws: today, this month and in total.
fn made(today: i64, month: i64, total: i64) -> UserCounts {
    UserCounts {
        today,
        month,
        total,
        granted: 0,
        granted_used: 0,
    }
}

/// A user's completed draws, `total` of them, none today or this month.
fn made_in_total(total: i64) -> UserCounts {
    UserCounts {
        total,
        ..UserCounts::default()
    }
}

const HEAD: &str = "campaign: t\nname: T\nwindow: { from: 2026-01-01, zone: UTC }\n";

#[test]
fn blacklisted_users_get_the_fixed_award_without_drawing() {
    let campaign = shipped("big-market-raffle.yaml");
    let mut stock = stock_of(&campaign);
    let before = stock.clone();
    for seed in 0..50 {
        let (award, steps) = draw(
            &campaign,
            "user002",
            UserCounts::default(),
            &[],
            &mut stock,
            seed,
        );
        assert_eq!(award, "random_credits");
        assert_eq!(steps, [StepOutcome::Listed, StepOutcome::Issued]);
    }
    assert_eq!(stock, before, "no pool stock moves for a blacklisted draw");
}

#[test]
fn weight_tiers_at_least_pick_the_highest_threshold_at_or_below_the_score() {
    let campaign = shipped("big-market-raffle.yaml");
    let tier_60 = [
        "uses_5",
        "uses_10",
        "uses_20",
        "model_gpt4",
        "dalle_quota",
        "daily_quota",
        "model_new",
        "grand_prize",
    ];
    let tier_40 = &tier_60[..4];
    let mut stock = stock_of(&campaign);
    let mut seen_random_credits = false;
    for seed in 0..300 {
        let (award, steps) = draw(&campaign, "u", made_in_total(45), &[], &mut stock, seed);
        assert_eq!(steps[1], StepOutcome::Tier { threshold: 40 });
        assert!(
            tier_40.contains(&award.as_str()),
            "{award} is not in tier 40"
        );
        let (award, _) = draw(&campaign, "u", made_in_total(600), &[], &mut stock, seed);
        assert!(tier_60.contains(&award.as_str()));
        // Below every threshold the rule passes and the whole pool draws.
        let (award, steps) = draw(&campaign, "u", made_in_total(39), &[], &mut stock, seed);
        assert_eq!(steps[1], StepOutcome::NoTier);
        seen_random_credits |= award == "random_credits";
    }
    assert!(seen_random_credits);
}

#[test]
fn weight_tiers_exactly_fire_only_at_the_threshold() {
    let campaign = compile(&format!(
        "{HEAD}awards:\n  a: {{ kind: none }}\n  b: {{ kind: none }}\npool:\n  - {{ award: a, rate: 99% }}\n  - {{ award: b, rate: 1% }}\nbefore:\n  - weight: {{ mode: exactly, tiers: {{ 10: [b] }} }}\n"
    ));
    let mut stock = stock_of(&campaign);
    for seed in 0..100 {
        let (award, steps) = draw(&campaign, "u", made_in_total(10), &[], &mut stock, seed);
        assert_eq!(award, "b", "the one-shot guarantee");
        assert_eq!(steps[0], StepOutcome::Tier { threshold: 10 });
        let (_, steps) = draw(&campaign, "u", made_in_total(11), &[], &mut stock, seed);
        assert_eq!(steps[0], StepOutcome::NoTier);
    }
}

#[test]
fn renormalised_tiers_keep_pool_ratios_and_rated_tiers_use_their_own() {
    let campaign = compile(&format!(
        "{HEAD}awards:\n  a: {{ kind: none }}\n  b: {{ kind: none }}\n  c: {{ kind: none }}\npool:\n  - {{ award: a, rate: 0.6 }}\n  - {{ award: b, rate: 0.3 }}\n  - {{ award: c, rate: 0.1 }}\nbefore:\n  - weight: {{ tiers: {{ 5: [b, c], 9: {{ a: 50%, c: 50% }} }} }}\n"
    ));
    let ir::ChainKind::Weight { tiers, .. } = &campaign.chain[0].kind else {
        panic!()
    };
    // b:c keep 0.3:0.1, i.e. 3:1, exactly.
    assert_eq!(tiers[0].table.weights, [3, 1]);
    assert_eq!(tiers[1].table.weights, [1, 1]);
}

use tombola_ir as ir;

#[test]
fn when_rules_give_or_switch_pools() {
    let campaign = compile(&format!(
        "{HEAD}inputs: {{ user: {{ vip: bool }} }}\nawards:\n  a: {{ kind: none }}\n  b: {{ kind: none }}\n  vip_gift: {{ kind: credits, amount: 5 }}\npool:\n  - {{ award: a, rate: 0.5 }}\n  - {{ award: b, rate: 0.5 }}\nbefore:\n  - when: user.vip\n    give: vip_gift\n  - when: user.draws.total >= 3\n    draw: [b]\n"
    ));
    let mut stock = stock_of(&campaign);
    let vip = [Some(Value::Bool(true))];
    let regular = [Some(Value::Bool(false))];
    let (award, steps) = draw(&campaign, "u", UserCounts::default(), &vip, &mut stock, 1);
    assert_eq!(
        (award.as_str(), steps.as_slice()),
        (
            "vip_gift",
            [StepOutcome::True, StepOutcome::Issued].as_slice()
        )
    );
    for seed in 0..50 {
        let (award, _) = draw(&campaign, "u", made_in_total(3), &regular, &mut stock, seed);
        assert_eq!(award, "b");
    }
    // A rule reading an attribute the caller did not pass fails the draw with a typed error.
    let mut random = SeededRandom::new(1);
    let mut cx = context(&mut random);
    let input = draw_input("u", UserCounts::default(), &[None]);
    let error = draw_in_memory(&campaign, &input, &mut stock, &mut cx).unwrap_err();
    assert!(error.to_string().contains("was not supplied"), "{error}");
}

#[test]
fn lock_after_3_opens_on_the_4th_draw_of_the_day() {
    let campaign = shipped("big-market-unlock.yaml");
    // model_gpt4 (entry 3) sits behind `lock: { after: 3, per: day }`.
    let only_gpt4 = |c: &Campaign| {
        let mut c = c.clone();
        c.table = tombola_ir::draw_table::DrawTable::new(&[(3, 1)]).unwrap();
        c
    };
    let campaign = only_gpt4(&campaign);
    let mut stock = stock_of(&campaign);
    for today in 0..3 {
        let (award, steps) = draw(&campaign, "u", made(today, 9, 9), &[], &mut stock, 1);
        assert_eq!(
            award,
            "luck_credits",
            "draw {} of the day is still locked",
            today + 1
        );
        assert_eq!(steps[1], StepOutcome::Locked);
    }
    let (award, steps) = draw(&campaign, "u", made(3, 3, 3), &[], &mut stock, 1);
    assert_eq!(award, "model_gpt4");
    assert_eq!(
        steps,
        [
            StepOutcome::Drawn,
            StepOutcome::Unlocked,
            StepOutcome::Taken,
            StepOutcome::Issued
        ]
    );
}

#[test]
fn exhausted_stock_routes_to_the_fallback_and_never_goes_negative() {
    let campaign = shipped("big-market-unlock.yaml");
    let mut campaign = campaign;
    campaign.table = tombola_ir::draw_table::DrawTable::new(&[(4, 1)]).unwrap(); // model_new, stock 5
    let mut stock = stock_of(&campaign);
    let mut issued = 0;
    for seed in 0..20 {
        let (award, steps) = draw(&campaign, "u", made(5, 5, 5), &[], &mut stock, seed);
        if award == "model_new" {
            issued += 1;
        } else {
            assert_eq!(award, "luck_credits");
            assert_eq!(steps[2], StepOutcome::Exhausted);
        }
    }
    assert_eq!(issued, 5);
    assert_eq!(stock[4], Some(0));
}

#[test]
fn compiler_inserted_stock_nodes_decrement_too() {
    let campaign = shipped("big-market-raffle.yaml");
    let mut campaign = campaign;
    campaign.table = tombola_ir::draw_table::DrawTable::new(&[(8, 1)]).unwrap(); // grand_prize, stock 10
    let mut stock = stock_of(&campaign);
    let issued = (0..30)
        .filter(|seed| {
            draw(
                &campaign,
                "u",
                UserCounts::default(),
                &[],
                &mut stock,
                *seed,
            )
            .0 == "grand_prize"
        })
        .count();
    assert_eq!(issued, 10);
    assert_eq!(stock[8], Some(0));
}

#[test]
fn random_amounts_are_reproducible_with_a_seed() {
    let campaign = shipped("big-market-unlock.yaml");
    let run = |seed| {
        let mut stock = stock_of(&campaign);
        let mut random = SeededRandom::new(seed);
        let mut cx = context(&mut random);
        (0..100)
            .map(|_| {
                let input = draw_input("u", UserCounts::default(), &[]);
                let draw = draw_in_memory(&campaign, &input, &mut stock, &mut cx).unwrap();
                (draw.issued.award, draw.issued.amount)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
    for (_, amount) in run(7) {
        if let Some(amount) = amount {
            assert!(
                (Decimal::ONE..=Decimal::from(100)).contains(&amount),
                "{amount}"
            );
        }
    }
}

/// 1,000,000 draws match the configured rates, a 0.0001 award included.
/// Chi-square with 3 degrees of freedom: the 0.999 quantile is 16.27, so a
/// correct draw fails this test about once in a thousand seeds — and this seed is fixed.
#[test]
fn a_million_draws_match_the_rates() {
    let campaign = compile(&format!(
        "{HEAD}awards:\n  a: {{ kind: none }}\n  b: {{ kind: none }}\n  c: {{ kind: none }}\n  rare: {{ kind: none }}\npool:\n  - {{ award: a, rate: 0.5 }}\n  - {{ award: b, rate: 0.3 }}\n  - {{ award: c, rate: 0.1999 }}\n  - {{ award: rare, rate: 0.0001 }}\n"
    ));
    let draws = 1_000_000u64;
    let mut counts = [0u64; 4];
    let mut random = SeededRandom::new(20261125);
    for _ in 0..draws {
        counts[campaign.table.draw(|n| random.below(n)) as usize] += 1;
    }
    let rates = [0.5, 0.3, 0.1999, 0.0001];
    let chi_square: f64 = counts
        .iter()
        .zip(rates)
        .map(|(&observed, rate)| {
            let expected = rate * draws as f64;
            (observed as f64 - expected).powi(2) / expected
        })
        .sum();
    assert!(
        chi_square < 16.27,
        "chi-square {chi_square:.2} for {counts:?}"
    );
    // The rare award is there at all: its expected count is 100.
    assert!((50..=150).contains(&counts[3]), "{counts:?}");
}

#[test]
fn sources_say_where_the_award_came_from() {
    let campaign = shipped("big-market-raffle.yaml");
    let mut stock = stock_of(&campaign);
    let mut random = SeededRandom::new(3);
    let mut cx = context(&mut random);
    let input = draw_input("user001", UserCounts::default(), &[]);
    assert_eq!(
        draw_in_memory(&campaign, &input, &mut stock, &mut cx)
            .unwrap()
            .issued
            .source,
        Source::Rule
    );
    let input = draw_input("u", made_in_total(45), &[]);
    assert_eq!(
        draw_in_memory(&campaign, &input, &mut stock, &mut cx)
            .unwrap()
            .issued
            .source,
        Source::SubPool
    );
    let input = draw_input("u", UserCounts::default(), &[]);
    assert_eq!(
        draw_in_memory(&campaign, &input, &mut stock, &mut cx)
            .unwrap()
            .issued
            .source,
        Source::Pool
    );
}

#[test]
fn coupons_without_codes_route_like_exhausted_stock() {
    let mut campaign = shipped("showcase.yaml");
    campaign.table = tombola_ir::draw_table::DrawTable::new(&[(2, 1)]).unwrap(); // coupon_10
    let mut stock = stock_of(&campaign);
    let attributes = [Some(Value::Bool(false)), Some(Value::List(vec![].into()))];
    for seed in 0..20 {
        let (award, steps) = draw(&campaign, "u", made(1, 1, 1), &attributes, &mut stock, seed);
        assert_eq!(award, "few_points");
        assert!(steps.contains(&StepOutcome::Exhausted), "{steps:?}");
    }
}
