//! The JSON the API answers mutating calls with, and its OpenAPI schemas, built
//! from the engine's typed answers. The engine never formats for HTTP: amounts
//! become exact strings, kinds and step outcomes their names, here.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tombola_engine as engine;

/// An exact decimal as the API writes it: no trailing zeros (`"12.5"`).
pub(crate) fn exact(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// The award of a draw, as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AwardView {
    pub id: String,
    pub kind: String,
    pub title: Option<String>,
    pub amount: Option<String>,
    /// A coupon's code, issued to this draw alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One explanation step, named for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepView {
    /// `rule:<id>`, `draw:<award>`, `tree:<tree>/<node>` or `issue:<award>`.
    pub at: String,
    pub outcome: String,
    /// The number the step compared: a weight score, the draws a lock counted.
    pub read: Option<i64>,
    /// The inputs a rule's or node's expression read, by name, with their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Vec<String>>, example = json!([["user.draws.total", "3"]]))]
    pub inputs: Vec<(String, String)>,
}

/// What is left after a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Left {
    pub draws: i64,
    pub today: Option<i64>,
    pub month: Option<i64>,
    pub total: Option<i64>,
}

/// The answer to a draw; stored, so a replay returns it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DrawResponse {
    pub campaign: String,
    pub version: i64,
    pub request_id: String,
    pub user: String,
    pub award: AwardView,
    pub steps: Vec<StepView>,
    pub left: Left,
    /// The draw's random seed (a 64-bit unsigned integer) as decimal digits: a
    /// JSON number would lose its low digits in JavaScript above 2^53.
    #[schema(example = "12345678901234567890")]
    pub seed: String,
}

impl From<engine::DrawOutcome> for DrawResponse {
    fn from(outcome: engine::DrawOutcome) -> Self {
        let award = outcome.award;
        let left = outcome.left;
        DrawResponse {
            campaign: outcome.campaign,
            version: outcome.version,
            request_id: outcome.request_id,
            user: outcome.user,
            award: AwardView {
                id: award.id,
                kind: award.kind.name().to_string(),
                title: award.title,
                amount: award.amount.map(exact),
                code: award.code,
            },
            steps: outcome.steps.into_iter().map(StepView::from).collect(),
            left: Left {
                draws: left.draws,
                today: left.today,
                month: left.month,
                total: left.total,
            },
            seed: outcome.seed.to_string(),
        }
    }
}

/// What `POST /v1/campaigns/{id}/draws` answers: a draw, or a dry run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DrawAnswer {
    Draw(DrawResponse),
    DryRun(DryRunResponse),
}

/// What a draw would do now (`dry_run: true`); nothing was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DryRunResponse {
    /// Always `true`: this answer changed nothing.
    pub dry_run: bool,
    pub campaign: String,
    /// The live version the draw was evaluated on.
    pub version: i64,
    pub user: String,
    /// What the draw would answer (a coupon shows no code, as none is
    /// taken); null when it would be refused.
    pub draw: Option<DrawResponse>,
    /// The problem that would refuse the draw, with the status it would
    /// have; null when it would be drawn.
    pub refused: Option<crate::Problem>,
}

impl From<engine::DryRun> for DryRunResponse {
    fn from(dry_run: engine::DryRun) -> Self {
        match dry_run {
            engine::DryRun::Drawn(outcome) => DryRunResponse {
                dry_run: true,
                campaign: outcome.campaign.clone(),
                version: outcome.version,
                user: outcome.user.clone(),
                draw: Some(outcome.into()),
                refused: None,
            },
            engine::DryRun::Refused {
                campaign,
                version,
                user,
                refusal,
            } => DryRunResponse {
                dry_run: true,
                campaign,
                version,
                user,
                draw: None,
                refused: Some(crate::ApiError::Refused(refusal).problem()),
            },
        }
    }
}

impl From<engine::StepTaken> for StepView {
    fn from(step: engine::StepTaken) -> Self {
        StepView {
            at: step.at.to_string(),
            outcome: step.outcome.name().to_string(),
            read: step.read,
            inputs: step
                .inputs
                .into_iter()
                .map(|read| (read.name, read.value))
                .collect(),
        }
    }
}

/// The answer to a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
}

impl From<engine::GrantOutcome> for GrantResponse {
    fn from(grant: engine::GrantOutcome) -> Self {
        GrantResponse {
            campaign: grant.campaign,
            request_id: grant.request_id,
            user: grant.user,
            sku: grant.sku,
            draws: grant.draws,
        }
    }
}

/// What an event did: each flow on that event and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub event: String,
    pub rebates: Vec<RebateOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RebateOutcome {
    pub rebate: String,
    pub outcome: RebateResult,
    /// The actions applied (empty unless `applied`).
    pub actions: Vec<ActionView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebateResult {
    Applied,
    /// The flow's `when` was false.
    ConditionFalse,
    /// The flow's `once` period was already used by this user.
    AlreadyDone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionView {
    /// `sku`, `credits` or `award`.
    pub kind: String,
    /// The SKU or award id.
    pub id: Option<String>,
    /// Credits added, or draws granted.
    pub amount: Option<String>,
    /// False when a SKU was sold out: the flow's other actions still apply.
    pub applied: bool,
}

impl From<engine::EventOutcome> for EventResponse {
    fn from(event: engine::EventOutcome) -> Self {
        EventResponse {
            campaign: event.campaign,
            request_id: event.request_id,
            user: event.user,
            event: event.event,
            rebates: event
                .rebates
                .into_iter()
                .map(|r| RebateOutcome {
                    rebate: r.rebate,
                    outcome: match r.outcome {
                        engine::RebateResult::Applied => RebateResult::Applied,
                        engine::RebateResult::ConditionFalse => RebateResult::ConditionFalse,
                        engine::RebateResult::AlreadyDone => RebateResult::AlreadyDone,
                    },
                    actions: r.actions.into_iter().map(ActionView::from).collect(),
                })
                .collect(),
        }
    }
}

impl From<engine::ActionTaken> for ActionView {
    fn from(action: engine::ActionTaken) -> Self {
        match action {
            engine::ActionTaken::Sku {
                sku,
                draws,
                applied,
            } => ActionView {
                kind: "sku".into(),
                id: Some(sku),
                amount: Some(draws.to_string()),
                applied,
            },
            engine::ActionTaken::Credits { amount } => ActionView {
                kind: "credits".into(),
                id: None,
                amount: Some(exact(amount)),
                applied: true,
            },
            engine::ActionTaken::Award { award, amount } => ActionView {
                kind: "award".into(),
                id: Some(award),
                amount: amount.map(exact),
                applied: true,
            },
        }
    }
}

/// The answer to an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExchangeResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
    /// Credits debited, exact.
    pub price: String,
    /// The balance after the exchange.
    pub balance: String,
}

impl From<engine::ExchangeOutcome> for ExchangeResponse {
    fn from(exchange: engine::ExchangeOutcome) -> Self {
        ExchangeResponse {
            campaign: exchange.campaign,
            request_id: exchange.request_id,
            user: exchange.user,
            sku: exchange.sku,
            draws: exchange.draws,
            price: exact(exchange.price),
            balance: exact(exchange.balance),
        }
    }
}

/// The answer to an admin credit adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub user: String,
    pub request_id: String,
    pub delta: String,
    pub balance: String,
}

impl From<engine::AdjustmentOutcome> for Adjustment {
    fn from(adjustment: engine::AdjustmentOutcome) -> Self {
        Adjustment {
            user: adjustment.user,
            request_id: adjustment.request_id,
            delta: exact(adjustment.delta),
            balance: exact(adjustment.balance),
        }
    }
}
