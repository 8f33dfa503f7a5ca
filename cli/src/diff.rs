//! `tombola diff`: what changed between two versions of a campaign, in the
//! terms a reviewer cares about — awards, rates per pool and tier, expected
//! credits and cost per draw, stock and caps, locks on the way to each award,
//! rebates — as Markdown for a pull request or JSON for machines.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;
use tombola_ir::draw_table::DrawTable;
use tombola_ir::{Campaign, ChainKind, RuleOutcome};

/// One change, in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Change {
    pub(crate) section: &'static str,
    pub(crate) what: String,
}

/// The semantic difference between two compiled campaigns.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Diff {
    pub(crate) campaign: String,
    pub(crate) changes: Vec<Change>,
    /// Expected credits per draw from the pool, before and after (`None` when an
    /// amount depends on the user).
    pub(crate) credits_per_draw: (Option<String>, Option<String>),
    pub(crate) cost_per_draw: (String, String),
}

fn show(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "none".to_string(), |v| v.to_string())
}

fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).round_dp(4).normalize())
}

/// The mean of an award's amount: a constant, or `random(a, b)`; `None` otherwise.
fn mean_amount(program: &tombola_grammar::Program) -> Option<Decimal> {
    if let Some(value) = program.constant() {
        return match value {
            tombola_grammar::Value::Int(n) => Some(Decimal::from(*n)),
            tombola_grammar::Value::Decimal(d) => Some(*d),
            _ => None,
        };
    }
    let inner = program
        .source()
        .strip_prefix("random(")?
        .strip_suffix(')')?;
    let (a, b) = inner.split_once(',')?;
    let (a, b): (Decimal, Decimal) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    Some((a + b) / Decimal::TWO)
}

/// Expected credits and cost of one draw from the pool, by its rates.
fn expectations(campaign: &Campaign) -> (Option<Decimal>, Decimal) {
    let mut credits = Some(Decimal::ZERO);
    let mut cost = Decimal::ZERO;
    for entry in &campaign.pool {
        let award = &campaign.awards[entry.award as usize];
        cost += entry.rate * award.cost.unwrap_or_default();
        if award.kind == tombola_ir::AwardKind::Credits {
            credits = match (credits, award.amount.as_ref().and_then(mean_amount)) {
                (Some(sum), Some(mean)) => Some(sum + entry.rate * mean),
                _ => None,
            };
        }
    }
    (credits, cost)
}

fn shares(campaign: &Campaign, table: &DrawTable) -> BTreeMap<String, Decimal> {
    let total = Decimal::from(table.total);
    table
        .entries
        .iter()
        .zip(&table.weights)
        .map(|(&entry, &weight)| {
            let award = &campaign.awards[campaign.pool[entry as usize].award as usize];
            (award.id.clone(), Decimal::from(weight) / total)
        })
        .collect()
}

fn compare_shares(
    out: &mut Vec<Change>,
    section: &'static str,
    context: &str,
    old: &BTreeMap<String, Decimal>,
    new: &BTreeMap<String, Decimal>,
) {
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for id in ids {
        match (old.get(id), new.get(id)) {
            (Some(a), Some(b)) if a != b => out.push(Change {
                section,
                what: format!("{context}`{id}`: {} (was {})", percent(*b), percent(*a)),
            }),
            (None, Some(b)) => out.push(Change {
                section,
                what: format!("{context}`{id}` added at {}", percent(*b)),
            }),
            (Some(a), None) => out.push(Change {
                section,
                what: format!("{context}`{id}` removed (was {})", percent(*a)),
            }),
            _ => {}
        }
    }
}

fn draws(n: u32) -> &'static str {
    if n == 1 { "draw" } else { "draws" }
}

fn gate_text(gates: &[tombola_engine::Gate]) -> String {
    if gates.is_empty() {
        return "no lock".into();
    }
    gates
        .iter()
        .map(|g| match g.per.as_str() {
            "total" => format!("unlocks after {} {}", g.after, draws(g.after)),
            per => format!("unlocks after {} {} per {per}", g.after, draws(g.after)),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

pub(crate) fn diff(old: &Campaign, new: &Campaign) -> Diff {
    let mut changes = Vec::new();
    let push =
        |changes: &mut Vec<Change>, section, what: String| changes.push(Change { section, what });

    // Awards.
    let old_awards: BTreeMap<&str, _> = old.awards.iter().map(|a| (a.id.as_str(), a)).collect();
    let new_awards: BTreeMap<&str, _> = new.awards.iter().map(|a| (a.id.as_str(), a)).collect();
    for (id, award) in &new_awards {
        match old_awards.get(id) {
            None => push(
                &mut changes,
                "Awards",
                format!("`{id}` added ({:?})", award.kind).to_lowercase(),
            ),
            Some(before) => {
                if before.kind != award.kind {
                    push(
                        &mut changes,
                        "Awards",
                        format!("`{id}` is now {:?}, was {:?}", award.kind, before.kind),
                    );
                }
                let (a, b) = (
                    before.amount.as_ref().map(|p| p.source().to_string()),
                    award.amount.as_ref().map(|p| p.source().to_string()),
                );
                if a != b {
                    push(
                        &mut changes,
                        "Awards",
                        format!("`{id}` amount: {} (was {})", show(b), show(a)),
                    );
                }
                if before.cost != award.cost {
                    push(
                        &mut changes,
                        "Awards",
                        format!(
                            "`{id}` cost: {} (was {})",
                            show(award.cost),
                            show(before.cost)
                        ),
                    );
                }
            }
        }
    }
    for id in old_awards.keys().filter(|id| !new_awards.contains_key(*id)) {
        push(&mut changes, "Awards", format!("`{id}` removed"));
    }

    // The pool: rates, stock, locks on the way to each award.
    let pool =
        |c: &Campaign| -> BTreeMap<String, (Decimal, Option<u64>, Vec<tombola_engine::Gate>)> {
            c.pool
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    (
                        c.awards[e.award as usize].id.clone(),
                        (e.rate, e.stock, tombola_engine::gates(c, i)),
                    )
                })
                .collect()
        };
    let (old_pool, new_pool) = (pool(old), pool(new));
    compare_shares(
        &mut changes,
        "Rates",
        "pool ",
        &old_pool.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        &new_pool.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
    );
    for (id, (_, stock, gates)) in &new_pool {
        if let Some((_, old_stock, old_gates)) = old_pool.get(id) {
            if old_stock != stock {
                push(
                    &mut changes,
                    "Stock and caps",
                    format!("`{id}` stock: {} (was {})", show(*stock), show(*old_stock)),
                );
            }
            if old_gates != gates {
                // "now unlocks after 2 draws per day, was 3" when one lock changed its count.
                let was = match (old_gates.as_slice(), gates.as_slice()) {
                    ([before], [after]) if before.per == after.per => before.after.to_string(),
                    _ => gate_text(old_gates),
                };
                push(
                    &mut changes,
                    "Locks",
                    format!("`{id}` now {}, was {was}", gate_text(gates)),
                );
            }
        }
    }

    // Weight tiers and rule tables.
    let tables = |c: &Campaign| -> BTreeMap<String, BTreeMap<String, Decimal>> {
        let mut out = BTreeMap::new();
        for rule in &c.chain {
            match &rule.kind {
                ChainKind::Weight { tiers, .. } => {
                    for tier in tiers {
                        out.insert(
                            format!("rule `{}` tier {}", rule.id, tier.threshold),
                            shares(c, &tier.table),
                        );
                    }
                }
                ChainKind::When {
                    outcome: RuleOutcome::Draw(table),
                    ..
                } => {
                    out.insert(format!("rule `{}`", rule.id), shares(c, table));
                }
                _ => {}
            }
        }
        out
    };
    let (old_tables, new_tables) = (tables(old), tables(new));
    for (name, table) in &new_tables {
        match old_tables.get(name) {
            Some(before) => {
                compare_shares(&mut changes, "Rates", &format!("{name}: "), before, table)
            }
            None => push(&mut changes, "Rates", format!("{name} added")),
        }
    }
    for name in old_tables.keys().filter(|n| !new_tables.contains_key(*n)) {
        push(&mut changes, "Rates", format!("{name} removed"));
    }
    let rules = |c: &Campaign| {
        c.chain
            .iter()
            .map(|r| r.id.clone())
            .collect::<BTreeSet<_>>()
    };
    for id in rules(new).difference(&rules(old)) {
        push(&mut changes, "Rules", format!("rule `{id}` added"));
    }
    for id in rules(old).difference(&rules(new)) {
        push(&mut changes, "Rules", format!("rule `{id}` removed"));
    }

    // Caps, allowance, window.
    if old.allowance != new.allowance {
        push(
            &mut changes,
            "Stock and caps",
            format!("allowance: {} draws (was {})", new.allowance, old.allowance),
        );
    }
    for (name, a, b) in [
        ("total cap", old.quota.total, new.quota.total),
        ("daily cap", old.quota.per_day, new.quota.per_day),
        ("monthly cap", old.quota.per_month, new.quota.per_month),
    ] {
        if a != b {
            push(
                &mut changes,
                "Stock and caps",
                format!("{name}: {} (was {})", show(b), show(a)),
            );
        }
    }
    if old.window.from != new.window.from || old.window.until != new.window.until {
        push(
            &mut changes,
            "Window",
            format!(
                "{} to {} (was {} to {})",
                new.window.from.date_naive(),
                show(new.window.until.map(|u| u.date_naive())),
                old.window.from.date_naive(),
                show(old.window.until.map(|u| u.date_naive()))
            ),
        );
    }
    let skus = |c: &Campaign| -> BTreeMap<String, String> {
        c.skus
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    format!(
                        "{} draws, stock {}, price {}",
                        s.draws,
                        show(s.stock),
                        show(s.price)
                    ),
                )
            })
            .collect()
    };
    let (old_skus, new_skus) = (skus(old), skus(new));
    for (id, text) in &new_skus {
        match old_skus.get(id) {
            None => push(&mut changes, "SKUs", format!("`{id}` added: {text}")),
            Some(before) if before != text => push(
                &mut changes,
                "SKUs",
                format!("`{id}`: {text} (was {before})"),
            ),
            _ => {}
        }
    }
    for id in old_skus.keys().filter(|id| !new_skus.contains_key(*id)) {
        push(&mut changes, "SKUs", format!("`{id}` removed"));
    }

    // Rebates, compared by what they do.
    let rebates = |c: &Campaign| -> BTreeMap<String, String> {
        c.rebates
            .iter()
            .map(|r| {
                let event = c
                    .inputs
                    .events
                    .get(r.event as usize)
                    .map_or("?", |e| e.name.as_str());
                let actions: Vec<String> = r
                    .actions
                    .iter()
                    .map(|a| match a {
                        tombola_ir::Action::Sku(ix) => {
                            format!("SKU `{}`", c.skus[*ix as usize].id)
                        }
                        tombola_ir::Action::Credits(p) => format!("{} credits", p.source()),
                        tombola_ir::Action::Award(ix) => {
                            format!("award `{}`", c.awards[*ix as usize].id)
                        }
                    })
                    .collect();
                let text = format!(
                    "on `{event}`{}{}: {}",
                    r.condition
                        .as_ref()
                        .map(|p| format!(" when `{}`", p.source()))
                        .unwrap_or_default(),
                    r.once
                        .map(|o| format!(
                            ", once {}",
                            format!("{o:?}").to_lowercase().replace("per", "per ")
                        ))
                        .unwrap_or_default(),
                    actions.join(", ")
                );
                (r.id.clone(), text)
            })
            .collect()
    };
    let (old_rebates, new_rebates) = (rebates(old), rebates(new));
    for (id, text) in &new_rebates {
        match old_rebates.get(id) {
            None => push(&mut changes, "Rebates", format!("`{id}` added: {text}")),
            Some(before) if before != text => push(
                &mut changes,
                "Rebates",
                format!("`{id}`: {text} (was {before})"),
            ),
            _ => {}
        }
    }
    for id in old_rebates
        .keys()
        .filter(|id| !new_rebates.contains_key(*id))
    {
        push(&mut changes, "Rebates", format!("`{id}` removed"));
    }

    // One block per section, in a reviewer's order.
    const ORDER: [&str; 8] = [
        "Awards",
        "Rates",
        "Rules",
        "Locks",
        "Stock and caps",
        "SKUs",
        "Window",
        "Rebates",
    ];
    changes.sort_by_key(|c| {
        ORDER
            .iter()
            .position(|s| *s == c.section)
            .unwrap_or(ORDER.len())
    });
    let ((old_credits, old_cost), (new_credits, new_cost)) = (expectations(old), expectations(new));
    let round = |d: Decimal| d.round_dp(4).normalize().to_string();
    Diff {
        campaign: new.id.clone(),
        changes,
        credits_per_draw: (old_credits.map(round), new_credits.map(round)),
        cost_per_draw: (round(old_cost), round(new_cost)),
    }
}

/// The diff as Markdown, for a pull request comment.
pub(crate) fn markdown(diff: &Diff) -> String {
    use std::fmt::Write as _;
    let mut out = format!("### Campaign `{}`\n\n", diff.campaign);
    if diff.changes.is_empty() {
        out.push_str("No change in awards, rates, stock, caps, locks or rebates.\n");
    }
    let mut section = "";
    for change in &diff.changes {
        if change.section != section {
            section = change.section;
            let _ = write!(
                out,
                "{}**{section}**\n\n",
                if out.ends_with("\n\n") { "" } else { "\n" }
            );
        }
        let _ = writeln!(out, "- {}", change.what);
    }
    let (old_credits, new_credits) = &diff.credits_per_draw;
    let (old_cost, new_cost) = &diff.cost_per_draw;
    let credits = |c: &Option<String>| c.clone().unwrap_or_else(|| "depends on the user".into());
    let _ = write!(
        out,
        "\n| per draw | before | after |\n|---|---|---|\n| expected credits | {} | {} |\n| expected cost | {old_cost} | {new_cost} |\n",
        credits(old_credits),
        credits(new_credits)
    );
    out
}
