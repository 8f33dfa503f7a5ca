//! The rules before the draw (`before`): blacklists, weight tiers and `when`
//! rules, with unique ids, and the sub-pools tiers and `draw` rules pick from.

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;
use tombola_grammar::{Scope, Span};

use super::expr::program;
use super::pool::{Pool, weight};
use super::{Context, Findings, MAX_RATE_SCALE, Want, resolve};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Blacklist, ChainRule, Id, Sp, SubPool, Weight, WeightMode};
use tombola_ir as ir;
use tombola_ir::draw_table::DrawTable;

pub(super) fn check<'a>(
    cx: &Context<'a>,
    pool: &Pool<'a>,
    out: &mut Findings<'a>,
) -> Option<Vec<ir::ChainRule>> {
    let scope = cx.draw_scope();
    let mut rules = Vec::new();
    let mut ids: HashMap<String, Span> = HashMap::new();
    let mut ok = true;
    for (position, rule) in cx.file.before.iter().enumerate() {
        let (id, id_span) = rule_id(rule, position);
        if let Some(first) = ids.get(&id) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    id_span,
                    format!("two rules in `before` are both called `{id}`"),
                )
                .label("second rule")
                .with(*first, "first rule")
                .help("give one of them an `id:`"),
            );
            ok = false;
        }
        ids.insert(id.clone(), id_span);
        let r = &rule.value;
        let kind = if let Some(b) = &r.blacklist {
            blacklist(cx, out, b, &scope)
        } else if let Some(w) = &r.weight {
            weight_rule(cx, pool, out, w, &scope)
        } else if let Some(condition) = &r.when {
            when_rule(cx, pool, out, r, condition, &id, &scope)
        } else {
            None
        };
        match kind {
            Some(kind) => rules.push(ir::ChainRule { id, kind }),
            None => ok = false,
        }
    }
    ok.then_some(rules)
}

/// A rule's id: as written, or named for its kind (or its position) when it has none.
fn rule_id(rule: &Sp<ChainRule>, position: usize) -> (String, Span) {
    let r = &rule.value;
    if let Some(id) = &r.id {
        return (id.value.clone(), id.span);
    }
    match (&r.blacklist, &r.weight) {
        (Some(b), _) => ("blacklist".to_string(), b.span),
        (_, Some(w)) => ("weight".to_string(), w.span),
        _ => (
            format!("rule-{}", position + 1),
            r.when.as_ref().map_or(rule.span, |w| w.span),
        ),
    }
}

fn when_rule<'a>(
    cx: &Context<'a>,
    pool: &Pool<'a>,
    out: &mut Findings<'a>,
    r: &'a ChainRule,
    condition: &crate::model::ExprText,
    id: &str,
    scope: &Scope,
) -> Option<ir::ChainKind> {
    let what = format!("the condition of rule `{id}`");
    let condition = program(cx, out, condition, scope, Want::Bool, &what);
    let outcome = match (&r.give, &r.draw) {
        (Some(award), _) => resolve::unlimited_award(cx, out, award, &format!("rule `{id}`"))
            .map(ir::RuleOutcome::Give),
        (_, Some(sub)) => match lone_award_outside_pool(cx, sub) {
            // Drawn at rate 1 from a pool of its own: given, so it must not run out.
            Some(award) => resolve::unlimited_award(cx, out, award, &format!("rule `{id}`"))
                .map(ir::RuleOutcome::Give),
            None => sub_pool_table(cx, pool, out, sub, &format!("rule `{id}`"))
                .map(ir::RuleOutcome::Draw),
        },
        _ => None,
    };
    Some(ir::ChainKind::When {
        condition: condition?,
        outcome: outcome?,
    })
}

/// The award of a `draw:` sub-pool that holds one award of the file, at rate
/// 1, which the pool does not hold: `when: user.vip` with `draw: [vip_gift]`
/// draws it for certain, which is giving it.
fn lone_award_outside_pool<'a>(cx: &Context<'a>, sub: &'a Sp<SubPool>) -> Option<&'a Id> {
    let id = match &sub.value {
        SubPool::Awards(ids) if ids.len() == 1 => &ids[0],
        SubPool::Rated(rated) if rated.len() == 1 && rated[0].1.value.0 == Decimal::ONE => {
            &rated[0].0
        }
        _ => return None,
    };
    let declared = cx.file.awards.get(&id.value).is_some();
    let in_pool = cx.file.pool.iter().any(|e| e.value.award.value == id.value);
    (declared && !in_pool).then_some(id)
}

fn blacklist<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    b: &'a Sp<Blacklist>,
    scope: &Scope,
) -> Option<ir::ChainKind> {
    let bl = &b.value;
    if bl.users.is_empty() && bl.when.is_none() {
        out.push(
            Diagnostic::new(
                Code::MissingKey,
                b.span,
                "a blacklist needs `users`, `when`, or both",
            )
            .label("lists no one")
            .help("write `users: [user001]` or `when: \"user.tags contains 'fraud'\"`"),
        );
    }
    let mut users = BTreeSet::new();
    for user in &bl.users {
        if !users.insert(user.value.clone()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    user.span,
                    format!("user `{}` is listed twice", user.value),
                )
                .label("again"),
            );
        }
    }
    let condition = match &bl.when {
        Some(e) => Some(program(
            cx,
            out,
            e,
            scope,
            Want::Bool,
            "the blacklist's `when`",
        )?),
        None => None,
    };
    let award = resolve::unlimited_award(cx, out, &bl.give, "the blacklist")?;
    Some(ir::ChainKind::Blacklist {
        users,
        condition,
        award,
    })
}

fn weight_rule<'a>(
    cx: &Context<'a>,
    pool: &Pool<'a>,
    out: &mut Findings<'a>,
    w: &'a Sp<Weight>,
    scope: &Scope,
) -> Option<ir::ChainKind> {
    let wt = &w.value;
    let score = match &wt.score {
        Some(e) => program(cx, out, e, scope, Want::Int, "the weight score"),
        None => {
            let default =
                tombola_grammar::parse("user.draws.total").expect("the default score parses");
            tombola_grammar::check(&default, scope, cx.zone).ok()
        }
    };
    let mut tiers = Vec::new();
    let mut previous: Option<&Sp<i64>> = None;
    let mut ok = true;
    if wt.tiers.value.0.is_empty() {
        out.push(
            Diagnostic::new(Code::EmptyPool, wt.tiers.span, "`tiers` lists no tier")
                .label("empty")
                .help("write `tiers: { 10: [gpt4], 50: [uses_100] }`"),
        );
        ok = false;
    }
    for (threshold, sub) in &wt.tiers.value.0 {
        if let Some(previous) = previous
            && threshold.value <= previous.value
        {
            out.push(
                Diagnostic::new(
                    Code::ThresholdOrder,
                    threshold.span,
                    if threshold.value == previous.value {
                        format!("tier threshold {} appears twice", threshold.value)
                    } else {
                        format!(
                            "tier threshold {} does not come after {}",
                            threshold.value, previous.value
                        )
                    },
                )
                .label("not increasing")
                .with(previous.span, "previous threshold")
                .help("list tiers with strictly increasing thresholds"),
            );
            ok = false;
        }
        previous = Some(threshold);
        match sub_pool_table(cx, pool, out, sub, &format!("tier {}", threshold.value)) {
            Some(table) => tiers.push(ir::Tier {
                threshold: threshold.value,
                table,
            }),
            None => ok = false,
        }
    }
    let mode = wt.mode.as_ref().map_or(WeightMode::AtLeast, |m| m.value);
    match (score, ok) {
        (Some(score), true) => Some(ir::ChainKind::Weight {
            score,
            mode: mode.into(),
            tiers,
        }),
        _ => None,
    }
}

/// The draw table of a tier or `draw` rule: awards of the pool, with the
/// pool's rates renormalised, or with rates of its own that sum to 1.
fn sub_pool_table<'a>(
    cx: &Context<'a>,
    pool: &Pool<'a>,
    out: &mut Findings<'a>,
    sub: &'a Sp<SubPool>,
    what: &str,
) -> Option<DrawTable> {
    let ids: Vec<&'a Id> = match &sub.value {
        SubPool::Awards(ids) => ids.iter().collect(),
        SubPool::Rated(rated) => rated.iter().map(|(id, _)| id).collect(),
    };
    if ids.is_empty() {
        out.push(
            Diagnostic::new(
                Code::EmptyPool,
                sub.span,
                format!("{what} draws from no awards"),
            )
            .label("empty")
            .help("list at least one award of the pool"),
        );
        return None;
    }
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut ok = true;
    for id in &ids {
        if let Some(first) = seen.get(id.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    id.span,
                    format!("{what} lists `{}` twice", id.value),
                )
                .label("again")
                .with(*first, "first here")
                .help("list each award once"),
            );
            ok = false;
        }
        seen.insert(id.value.as_str(), id.span);
        if resolve::award(cx, out, id, what).is_none() {
            ok = false;
            continue;
        }
        if !pool.entry_of_award.contains_key(id.value.as_str()) {
            out.push(
                Diagnostic::new(Code::TierAwardNotInPool, id.span, format!("{what} draws `{}`, which is not in the pool", id.value))
                    .label("not in the pool")
                    .help("tiers and `draw` rules pick from the pool's awards; add it to `pool`, or use `give` for a fixed award"),
            );
            ok = false;
        }
    }
    if !ok || pool.weights.is_empty() {
        return None;
    }
    let pairs = match &sub.value {
        SubPool::Awards(ids) => ids
            .iter()
            .map(|id| {
                let entry = pool.entry_of_award[id.value.as_str()];
                (entry, pool.weights[entry as usize])
            })
            .collect(),
        SubPool::Rated(rated) => rated_pairs(pool, out, sub.span, rated, what)?,
    };
    DrawTable::new(&pairs).ok()
}

/// A sub-pool's own rates as weights, when they are valid and sum to 1.
fn rated_pairs(
    pool: &Pool<'_>,
    out: &mut Findings<'_>,
    span: Span,
    rated: &[(Id, Sp<crate::model::Rate>)],
    what: &str,
) -> Option<Vec<(u32, u64)>> {
    let mut pairs = Vec::new();
    let mut ok = true;
    let mut sum = Decimal::ZERO;
    let scale = rated
        .iter()
        .map(|(_, r)| r.value.0.normalize().scale())
        .max()
        .unwrap_or(0);
    for (id, rate) in rated {
        let r = rate.value.0;
        if r <= Decimal::ZERO || r > Decimal::ONE {
            out.push(
                Diagnostic::new(
                    Code::RateRange,
                    rate.span,
                    format!(
                        "a rate must be above 0 and at most 1, found {}",
                        r.normalize()
                    ),
                )
                .label("out of range"),
            );
            ok = false;
        }
        if scale > MAX_RATE_SCALE {
            out.push(
                Diagnostic::new(
                    Code::RatePrecision,
                    rate.span,
                    format!("{r} has more than {MAX_RATE_SCALE} fractional digits"),
                )
                .label("too precise"),
            );
            return None;
        }
        sum += r;
        pairs.push((pool.entry_of_award[id.value.as_str()], weight(r, scale)));
    }
    if ok && sum != Decimal::ONE {
        out.push(
            Diagnostic::new(Code::TierRatesSum, span, format!("{what} states its own rates, and they sum to {}, not 1", sum.normalize()))
                .label(format!("these sum to {}", sum.normalize()))
                .help("make them sum to 1, or list the awards without rates to keep their pool rates, renormalised"),
        );
        ok = false;
    }
    ok.then_some(pairs)
}
