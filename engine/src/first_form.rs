//! Answers as the first release stored them — the API's JSON of the day, with
//! steps and kinds as strings — read into today's typed answers, so a retry of
//! a request made before the upgrade replays what it was first told.

use rust_decimal::Decimal;
use serde::Deserialize;
use tombola_ir::AwardKind;

use crate::answer::{
    ActionTaken, AwardGiven, DrawOutcome, EventOutcome, InputRead, Left, Outcome, RebateOutcome,
    RebateResult, StepAt, StepTaken,
};

#[derive(Deserialize)]
struct Draw {
    campaign: String,
    version: i64,
    request_id: String,
    user: String,
    award: Award,
    steps: Vec<Step>,
    left: Left,
    seed: u64,
}

#[derive(Deserialize)]
struct Award {
    id: String,
    kind: AwardKind,
    title: Option<String>,
    amount: Option<Decimal>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Step {
    at: String,
    outcome: String,
    read: Option<i64>,
    #[serde(default)]
    inputs: Vec<(String, String)>,
}

pub(crate) fn draw(json: &str) -> Result<DrawOutcome, String> {
    let first: Draw = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(DrawOutcome {
        campaign: first.campaign,
        version: first.version,
        request_id: first.request_id,
        user: first.user,
        award: AwardGiven {
            id: first.award.id,
            kind: first.award.kind,
            title: first.award.title,
            amount: first.award.amount,
            code: first.award.code,
        },
        steps: first
            .steps
            .into_iter()
            .map(step)
            .collect::<Result<_, _>>()?,
        left: first.left,
        seed: first.seed,
        replayed: true,
    })
}

fn step(first: Step) -> Result<StepTaken, String> {
    let at = match first.at.split_once(':') {
        Some(("rule", rule)) => StepAt::Rule { rule: rule.into() },
        Some(("draw", award)) => StepAt::Draw {
            award: award.into(),
        },
        Some(("issue", award)) => StepAt::Issue {
            award: award.into(),
        },
        Some(("tree", path)) => match path.split_once('/') {
            Some((tree, node)) => StepAt::Node {
                tree: tree.into(),
                node: node.into(),
            },
            None => return Err(format!("step at `{}`", first.at)),
        },
        _ => return Err(format!("step at `{}`", first.at)),
    };
    let outcome = Outcome::from_name(&first.outcome)
        .ok_or_else(|| format!("step outcome `{}`", first.outcome))?;
    Ok(StepTaken {
        at,
        outcome,
        // The first form did not keep the tier a weight rule picked.
        tier: None,
        read: first.read,
        inputs: first
            .inputs
            .into_iter()
            .map(|(name, value)| InputRead { name, value })
            .collect(),
    })
}

#[derive(Deserialize)]
struct Event {
    campaign: String,
    request_id: String,
    user: String,
    event: String,
    rebates: Vec<Rebate>,
}

#[derive(Deserialize)]
struct Rebate {
    rebate: String,
    outcome: RebateResult,
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct Action {
    kind: String,
    id: Option<String>,
    amount: Option<Decimal>,
    applied: bool,
}

pub(crate) fn event(json: &str) -> Result<EventOutcome, String> {
    let first: Event = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let rebates = first
        .rebates
        .into_iter()
        .map(|r| {
            Ok(RebateOutcome {
                rebate: r.rebate,
                outcome: r.outcome,
                actions: r
                    .actions
                    .into_iter()
                    .map(action)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(EventOutcome {
        campaign: first.campaign,
        request_id: first.request_id,
        user: first.user,
        event: first.event,
        rebates,
    })
}

fn action(first: Action) -> Result<ActionTaken, String> {
    let id = || {
        first
            .id
            .clone()
            .ok_or_else(|| format!("a `{}` action without an id", first.kind))
    };
    Ok(match first.kind.as_str() {
        "sku" => ActionTaken::Sku {
            sku: id()?,
            draws: first
                .amount
                .and_then(|a| i64::try_from(a).ok())
                .ok_or("a SKU action without its draws")?,
            applied: first.applied,
        },
        "credits" => ActionTaken::Credits {
            amount: first.amount.ok_or("a credits action without its amount")?,
        },
        "award" => ActionTaken::Award {
            award: id()?,
            amount: first.amount,
        },
        other => return Err(format!("an action of kind `{other}`")),
    })
}
