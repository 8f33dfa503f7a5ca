//! What the engine answers, typed: the award of a draw with its exact amount,
//! the steps it took, what is left, and the answers of grants, exchanges,
//! events and adjustments. The HTTP layer owns the JSON shapes built from these.
//!
//! They derive serde for one reason: a mutating call's answer is stored under
//! its request id (in the form of [`crate::request`]), so a retry replays it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tombola_ir::AwardKind;

/// The answer to a draw; stored, so a replay returns it unchanged.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct DrawOutcome {
    pub campaign: String,
    pub version: i64,
    pub request_id: String,
    pub user: String,
    pub award: AwardGiven,
    pub steps: Vec<StepTaken>,
    pub left: Left,
    pub seed: u64,
    /// This answer was stored by an earlier call with the same request id and
    /// is replayed, not drawn now. Not stored itself.
    #[serde(skip)]
    pub replayed: bool,
}

/// Two draws' answers are equal when they say the same: a replay answers what
/// the draw did, and whether this copy came from the store is not part of it.
impl PartialEq for DrawOutcome {
    fn eq(&self, other: &Self) -> bool {
        let DrawOutcome {
            campaign,
            version,
            request_id,
            user,
            award,
            steps,
            left,
            seed,
            replayed: _,
        } = self;
        (
            campaign, version, request_id, user, award, steps, left, seed,
        ) == (
            &other.campaign,
            &other.version,
            &other.request_id,
            &other.user,
            &other.award,
            &other.steps,
            &other.left,
            &other.seed,
        )
    }
}

/// The award a draw gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardGiven {
    pub id: String,
    pub kind: AwardKind,
    pub title: Option<String>,
    /// Credits or draws given, exact; `None` for awards without an amount.
    pub amount: Option<Decimal>,
    /// A coupon's code, issued to this draw alone.
    pub code: Option<String>,
}

/// One step of a draw's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTaken {
    pub at: StepAt,
    pub outcome: Outcome,
    /// The tier a weight rule picked, by threshold. `None` for other steps, and
    /// for the steps of draws answered before the engine kept it.
    pub tier: Option<i64>,
    /// The number the step compared: a weight score, the draws a lock counted.
    pub read: Option<i64>,
    /// What the step's expression read, by name, as shown to people.
    pub inputs: Vec<InputRead>,
}

/// Where in the campaign a step ran, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAt {
    /// A rule of the chain before the draw.
    Rule { rule: String },
    /// The weighted pick, landing on this award.
    Draw { award: String },
    /// A node of an award's tree.
    Node { tree: String, node: String },
    /// The award issued.
    Issue { award: String },
}

/// The step's place as people read it: `rule:<id>`, `draw:<award>`,
/// `tree:<tree>/<node>` or `issue:<award>`.
impl std::fmt::Display for StepAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepAt::Rule { rule } => write!(f, "rule:{rule}"),
            StepAt::Draw { award } => write!(f, "draw:{award}"),
            StepAt::Node { tree, node } => write!(f, "tree:{tree}/{node}"),
            StepAt::Issue { award } => write!(f, "issue:{award}"),
        }
    }
}

/// How a step came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Listed,
    NotListed,
    Tier,
    NoTier,
    True,
    False,
    Drawn,
    Unlocked,
    Locked,
    Taken,
    Exhausted,
    Fallback,
    Issued,
}

impl Outcome {
    /// The outcome's name as answers and scenario files spell it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Listed => "listed",
            Outcome::NotListed => "not_listed",
            Outcome::Tier => "tier",
            Outcome::NoTier => "no_tier",
            Outcome::True => "true",
            Outcome::False => "false",
            Outcome::Drawn => "drawn",
            Outcome::Unlocked => "unlocked",
            Outcome::Locked => "locked",
            Outcome::Taken => "taken",
            Outcome::Exhausted => "exhausted",
            Outcome::Fallback => "fallback",
            Outcome::Issued => "issued",
        }
    }

    /// The outcome named `name`, if any.
    pub fn from_name(name: &str) -> Option<Outcome> {
        ALL.iter().copied().find(|o| o.name() == name)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

const ALL: [Outcome; 13] = [
    Outcome::Listed,
    Outcome::NotListed,
    Outcome::Tier,
    Outcome::NoTier,
    Outcome::True,
    Outcome::False,
    Outcome::Drawn,
    Outcome::Unlocked,
    Outcome::Locked,
    Outcome::Taken,
    Outcome::Exhausted,
    Outcome::Fallback,
    Outcome::Issued,
];

/// An input an expression read, by name (`user.draws.total`), and its value as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRead {
    pub name: String,
    pub value: String,
}

/// What is left after a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    pub draws: i64,
    pub today: Option<i64>,
    pub month: Option<i64>,
    pub total: Option<i64>,
}

/// The answer to a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantOutcome {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
}

/// The answer to an exchange of credits for a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeOutcome {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
    /// Credits debited, exact.
    pub price: Decimal,
    /// The balance after the exchange.
    pub balance: Decimal,
}

/// What an event did: each flow on that event and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub event: String,
    pub rebates: Vec<RebateOutcome>,
}

/// One rebate flow's part in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebateOutcome {
    pub rebate: String,
    pub outcome: RebateResult,
    /// The actions applied (empty unless `applied`).
    pub actions: Vec<ActionTaken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebateResult {
    Applied,
    /// The flow's `when` was false.
    ConditionFalse,
    /// The flow's `once` period was already used by this user.
    AlreadyDone,
}

/// One action of an applied rebate flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionTaken {
    /// One unit of a SKU granted; `applied` is false when it was sold out (the
    /// flow's other actions still apply).
    Sku {
        sku: String,
        draws: i64,
        applied: bool,
    },
    /// Credits added.
    Credits { amount: Decimal },
    /// An award given, with its amount where it has one.
    Award {
        award: String,
        amount: Option<Decimal>,
    },
}

impl ActionTaken {
    /// Whether the action took effect: only a sold-out SKU does not.
    pub fn applied(&self) -> bool {
        match self {
            ActionTaken::Sku { applied, .. } => *applied,
            ActionTaken::Credits { .. } | ActionTaken::Award { .. } => true,
        }
    }

    /// The SKU or award the action gave, by id.
    pub fn id(&self) -> Option<&str> {
        match self {
            ActionTaken::Sku { sku, .. } => Some(sku),
            ActionTaken::Award { award, .. } => Some(award),
            ActionTaken::Credits { .. } => None,
        }
    }
}

/// The answer to an operator's credit adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentOutcome {
    pub user: String,
    pub request_id: String,
    pub delta: Decimal,
    pub balance: Decimal,
}
