//! A draw's explanation as people read it: each evaluation step named by the
//! ids of the campaign, with the inputs its expression read.

use tombola_grammar::{Env, Program, Slot, Val};
use tombola_ir::{Campaign, ChainKind, NodeKind};

use crate::answer::{InputRead, Outcome, StepAt, StepTaken};
use crate::evaluate::{DrawInput, Inputs, Step, StepKind, StepOutcome};
use crate::limits::{MAX_RECORDED_CHARS, cut};

/// One evaluation step, named for the answer.
pub(crate) fn step_taken(campaign: &Campaign, step: &Step, input: &DrawInput<'_>) -> StepTaken {
    let (outcome, tier) = outcome(step.outcome);
    StepTaken {
        at: at(campaign, step.kind),
        outcome,
        tier,
        read: step.read,
        inputs: inputs_read(campaign, program(campaign, step.kind), input),
    }
}

fn at(campaign: &Campaign, kind: StepKind) -> StepAt {
    match kind {
        StepKind::Rule { rule } => StepAt::Rule {
            rule: campaign.chain[rule as usize].id.clone(),
        },
        StepKind::Draw { entry } => StepAt::Draw {
            award: campaign.awards[campaign.pool[entry as usize].award as usize]
                .id
                .clone(),
        },
        StepKind::Node { tree, node } => {
            let tree = &campaign.trees[tree as usize];
            StepAt::Node {
                tree: tree.id.clone(),
                node: tree.nodes[node as usize].id.clone(),
            }
        }
        StepKind::Issue { award } => StepAt::Issue {
            award: campaign.awards[award as usize].id.clone(),
        },
    }
}

fn outcome(outcome: StepOutcome) -> (Outcome, Option<i64>) {
    let plain = match outcome {
        StepOutcome::Tier { threshold } => return (Outcome::Tier, Some(threshold)),
        StepOutcome::Listed => Outcome::Listed,
        StepOutcome::NotListed => Outcome::NotListed,
        StepOutcome::NoTier => Outcome::NoTier,
        StepOutcome::True => Outcome::True,
        StepOutcome::False => Outcome::False,
        StepOutcome::Drawn => Outcome::Drawn,
        StepOutcome::Unlocked => Outcome::Unlocked,
        StepOutcome::Locked => Outcome::Locked,
        StepOutcome::Taken => Outcome::Taken,
        StepOutcome::Exhausted => Outcome::Exhausted,
        StepOutcome::Fallback => Outcome::Fallback,
        StepOutcome::Issued => Outcome::Issued,
    };
    (plain, None)
}

/// The expression a step evaluated, if any.
fn program(campaign: &Campaign, kind: StepKind) -> Option<&Program> {
    match kind {
        StepKind::Rule { rule } => match &campaign.chain[rule as usize].kind {
            ChainKind::Blacklist { condition, .. } => condition.as_ref(),
            ChainKind::Weight { score, .. } => Some(score),
            ChainKind::When { condition, .. } => Some(condition),
        },
        StepKind::Node { tree, node } => {
            match &campaign.trees[tree as usize].nodes[node as usize].kind {
                NodeKind::Condition { condition, .. } => Some(condition),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What a program read, by name and value.
fn inputs_read(
    campaign: &Campaign,
    program: Option<&Program>,
    input: &DrawInput<'_>,
) -> Vec<InputRead> {
    let Some(program) = program else {
        return Vec::new();
    };
    let env = Inputs { input };
    program
        .reads()
        .iter()
        .map(|slot| {
            let name = match slot {
                Slot::UserId => "user.id".to_string(),
                Slot::UserCredits => "user.credits".to_string(),
                Slot::DrawsToday => "user.draws.today".to_string(),
                Slot::DrawsMonth => "user.draws.month".to_string(),
                Slot::DrawsTotal => "user.draws.total".to_string(),
                Slot::DrawsLeft => "user.draws.left".to_string(),
                Slot::UserAttribute(i) => {
                    format!("user.{}", campaign.inputs.user[usize::from(*i)].0)
                }
                Slot::EventAttribute(i) => format!("event.#{i}"),
            };
            let value = env.load(*slot).map_or_else(|| "missing".to_string(), show);
            InputRead { name, value }
        })
        .collect()
}

/// `value` as text, cut after [`MAX_RECORDED_CHARS`]: a long list attribute
/// stops being written once the cut is reached, not after.
fn show(value: Val<'_>) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    cut(out, MAX_RECORDED_CHARS)
}

fn write_value(out: &mut String, value: Val<'_>) {
    use std::fmt::Write;
    // Bytes bound the scalars from above, so this stops no earlier than the cut.
    if out.len() > MAX_RECORDED_CHARS * 4 {
        return;
    }
    let _ = match value {
        Val::Int(v) => write!(out, "{v}"),
        Val::Decimal(v) => write!(out, "{}", v.normalize()),
        Val::Bool(v) => write!(out, "{v}"),
        Val::Str(v) => {
            let end = v.char_indices().nth(MAX_RECORDED_CHARS + 1);
            out.push_str(&v[..end.map_or(v.len(), |(at, _)| at)]);
            Ok(())
        }
        Val::Date(v) => write!(out, "{v}"),
        Val::DateTime(v) => write!(out, "{}", v.to_rfc3339()),
        Val::Duration(v) => write!(out, "{v}s"),
        Val::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                if out.len() > MAX_RECORDED_CHARS * 4 {
                    break;
                }
                write_value(out, item.as_val());
            }
            out.push(']');
            Ok(())
        }
    };
}
