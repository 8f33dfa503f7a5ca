//! The semantic difference between two versions of a campaign, in the terms
//! a reviewer cares about — awards, rates per pool and tier, expected credits
//! and cost per draw, stock and caps, locks on the way to each award, rebates
//! — as a value (serialised, the JSON `tombola diff --format json` prints and
//! the API answers) and as Markdown for a pull request.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;
use tombola_ir::{Campaign, ChainKind, Gate, RuleOutcome};

/// One change, in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub section: &'static str,
    pub what: String,
}

/// The semantic difference between two compiled campaigns.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub campaign: String,
    pub changes: Vec<Change>,
    /// Expected credits per draw from the pool's rates, before and after (`None`
    /// when an amount depends on the user); not what draws observe, which
    /// `tombola simulate` reports.
    pub credits_per_draw: (Option<String>, Option<String>),
    /// Expected cost per draw from the pool's rates, before and after.
    pub cost_per_draw: (String, String),
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
pub fn expectations(campaign: &Campaign) -> (Option<Decimal>, Decimal) {
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

fn gate_text(gates: &[Gate]) -> String {
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

/// What changed from `old` to `new`, by section in a reviewer's order.
pub fn diff(old: &Campaign, new: &Campaign) -> Diff {
    let mut changes = Vec::new();
    campaign_fields(&mut changes, old, new);
    awards(&mut changes, old, new);
    pool(&mut changes, old, new);
    tables(&mut changes, old, new);
    rules(&mut changes, old, new);
    caps_and_window(&mut changes, old, new);
    skus(&mut changes, old, new);
    rebates(&mut changes, old, new);

    // One block per section, in a reviewer's order; the sort is stable, so
    // changes keep the order above within a section.
    const ORDER: [&str; 9] = [
        "Campaign",
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

fn push(changes: &mut Vec<Change>, section: &'static str, what: String) {
    changes.push(Change { section, what });
}

/// Entries added, changed (their text differs) and removed, for things
/// compared by a one-line description: SKUs and rebates.
fn compare_texts(
    changes: &mut Vec<Change>,
    section: &'static str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) {
    for (id, text) in new {
        match old.get(id) {
            None => push(changes, section, format!("`{id}` added: {text}")),
            Some(before) if before != text => {
                push(changes, section, format!("`{id}`: {text} (was {before})"))
            }
            _ => {}
        }
    }
    for id in old.keys().filter(|id| !new.contains_key(*id)) {
        push(changes, section, format!("`{id}` removed"));
    }
}

fn awards(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let old_awards: BTreeMap<&str, _> = old.awards.iter().map(|a| (a.id.as_str(), a)).collect();
    let new_awards: BTreeMap<&str, _> = new.awards.iter().map(|a| (a.id.as_str(), a)).collect();
    for (id, award) in &new_awards {
        let Some(before) = old_awards.get(id) else {
            push(
                changes,
                "Awards",
                format!("`{id}` added ({:?})", award.kind).to_lowercase(),
            );
            continue;
        };
        if before.kind != award.kind {
            push(
                changes,
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
                changes,
                "Awards",
                format!("`{id}` amount: {} (was {})", show(b), show(a)),
            );
        }
        if before.cost != award.cost {
            push(
                changes,
                "Awards",
                format!(
                    "`{id}` cost: {} (was {})",
                    show(award.cost),
                    show(before.cost)
                ),
            );
        }
    }
    for id in old_awards.keys().filter(|id| !new_awards.contains_key(*id)) {
        push(changes, "Awards", format!("`{id}` removed"));
    }
}

/// An award's entry in the pool: its rate, its stock and the locks on the way to it.
type PoolEntry = (Decimal, Option<u64>, Vec<Gate>);

fn pool_entries(c: &Campaign) -> BTreeMap<String, PoolEntry> {
    c.pool
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                c.awards[e.award as usize].id.clone(),
                (e.rate, e.stock, c.gates(i)),
            )
        })
        .collect()
}

/// The pool: rates, stock, locks on the way to each award.
fn pool(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let (old_pool, new_pool) = (pool_entries(old), pool_entries(new));
    compare_shares(
        changes,
        "Rates",
        "pool ",
        &old_pool.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        &new_pool.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
    );
    for (id, (_, stock, gates)) in &new_pool {
        let Some((_, old_stock, old_gates)) = old_pool.get(id) else {
            continue;
        };
        if old_stock != stock {
            push(
                changes,
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
                changes,
                "Locks",
                format!("`{id}` now {}, was {was}", gate_text(gates)),
            );
        }
    }
}

/// Each weight tier's and rule table's shares, by a name for where it sits.
fn rate_tables(c: &Campaign) -> BTreeMap<String, BTreeMap<String, Decimal>> {
    let mut out = BTreeMap::new();
    for rule in &c.chain {
        match &rule.kind {
            ChainKind::Weight { tiers, .. } => {
                for tier in tiers {
                    out.insert(
                        format!("rule `{}` tier {}", rule.id, tier.threshold),
                        c.shares(&tier.table),
                    );
                }
            }
            ChainKind::When {
                outcome: RuleOutcome::Draw(table),
                ..
            } => {
                out.insert(format!("rule `{}`", rule.id), c.shares(table));
            }
            _ => {}
        }
    }
    out
}

/// Weight tiers and rule tables.
fn tables(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let (old_tables, new_tables) = (rate_tables(old), rate_tables(new));
    for (name, table) in &new_tables {
        match old_tables.get(name) {
            Some(before) => compare_shares(changes, "Rates", &format!("{name}: "), before, table),
            None => push(changes, "Rates", format!("{name} added")),
        }
    }
    for name in old_tables.keys().filter(|n| !new_tables.contains_key(*n)) {
        push(changes, "Rates", format!("{name} removed"));
    }
}

fn rules(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let ids = |c: &Campaign| {
        c.chain
            .iter()
            .map(|r| r.id.clone())
            .collect::<BTreeSet<_>>()
    };
    for id in ids(new).difference(&ids(old)) {
        push(changes, "Rules", format!("rule `{id}` added"));
    }
    for id in ids(old).difference(&ids(new)) {
        push(changes, "Rules", format!("rule `{id}` removed"));
    }
}

/// What players and the operator see of the campaign itself: its name and
/// description, the state its file asks for, and where its webhooks go.
fn campaign_fields(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let state = |c: &Campaign| match c.initial_state {
        tombola_ir::State::Draft => "draft",
        tombola_ir::State::Open => "open",
        tombola_ir::State::Closed => "closed",
    };
    let webhook = |c: &Campaign| c.delivery.as_ref().map(|d| format!("`{}`", d.webhook));
    let secret = |c: &Campaign| c.delivery.as_ref().map(|d| format!("`{}`", d.secret_env));
    let quoted = |text: Option<&String>| text.map(|t| format!("{t:?}"));
    for (what, a, b) in [
        ("name", quoted(Some(&old.name)), quoted(Some(&new.name))),
        (
            "description",
            quoted(old.description.as_ref()),
            quoted(new.description.as_ref()),
        ),
        (
            "the file's state",
            Some(state(old).into()),
            Some(state(new).into()),
        ),
        ("webhook", webhook(old), webhook(new)),
        ("webhook secret from", secret(old), secret(new)),
    ] {
        if a != b {
            push(
                changes,
                "Campaign",
                format!("{what}: {} (was {})", show(b), show(a)),
            );
        }
    }
}

/// Caps, allowance, window.
fn caps_and_window(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    if old.allowance != new.allowance {
        push(
            changes,
            "Stock and caps",
            format!("allowance: {} (was {})", new.allowance, old.allowance),
        );
    }
    for (name, a, b) in [
        ("total cap", old.quota.total, new.quota.total),
        ("daily cap", old.quota.per_day, new.quota.per_day),
        ("monthly cap", old.quota.per_month, new.quota.per_month),
    ] {
        if a != b {
            push(
                changes,
                "Stock and caps",
                format!("{name}: {} (was {})", show(b), show(a)),
            );
        }
    }
    if old.window.from != new.window.from || old.window.until != new.window.until {
        push(
            changes,
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
}

fn skus(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let texts = |c: &Campaign| -> BTreeMap<String, String> {
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
    compare_texts(changes, "SKUs", &texts(old), &texts(new));
}

/// Rebates, compared by what they do.
fn rebates(changes: &mut Vec<Change>, old: &Campaign, new: &Campaign) {
    let texts = |c: &Campaign| -> BTreeMap<String, String> {
        c.rebates
            .iter()
            .map(|r| (r.id.clone(), rebate_text(c, r)))
            .collect()
    };
    compare_texts(changes, "Rebates", &texts(old), &texts(new));
}

/// What a rebate does, in one line: its event, condition, `once` and actions.
fn rebate_text(c: &Campaign, r: &tombola_ir::Rebate) -> String {
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
    format!(
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
    )
}

/// The diff as Markdown, for a pull request comment.
pub fn markdown(diff: &Diff) -> String {
    use std::fmt::Write as _;
    let mut out = format!("### Campaign `{}`\n\n", diff.campaign);
    if diff.changes.is_empty() {
        out.push_str("No change in the campaign, awards, rates, stock, caps, locks or rebates.\n");
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
        "\n| per draw, from the rates | before | after |\n|---|---|---|\n| expected credits | {} | {} |\n| expected cost | {old_cost} | {new_cost} |\n\n\
         Expected from the pool's rates alone; `tombola simulate` shows what draws observe under the caps, stock, locks and tiers.\n",
        credits(old_credits),
        credits(new_credits)
    );
    out
}
