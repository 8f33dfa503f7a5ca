//! Runs tombola's compiled workflow graph: the chain before the draw, the O(1)
//! weighted draw, and the award's tree, producing the award and an explanation.
//!
//! Evaluation is pure and synchronous. The one thing it cannot decide alone —
//! whether a stock decrement succeeds — it hands back to the caller as a
//! question ([`Step::NeedStock`]), so a store can answer it with a conditional
//! UPDATE inside the draw's transaction and resume the evaluation.

mod answer;
mod counts;
mod deploy;
mod draw;
mod dry_run;
mod engine;
mod evaluate;
mod explain;
mod first_form;
mod health;
mod keys;
pub mod limits;
mod outbox;
mod period;
mod random;
mod rebates;
mod request;
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
mod views;

pub use answer::{
    ActionTaken, AdjustmentOutcome, AwardGiven, DrawOutcome, EventOutcome, ExchangeOutcome,
    GrantOutcome, InputRead, Left, Outcome, RebateOutcome, RebateResult, StepAt, StepTaken,
};
pub use counts::UserCounts;
pub use deploy::{DeployError, DeployNotice, Deployment, Provenance, Versions};
pub use draw::{DrawRequest, SimulatedDraw, SkuRequest};
pub use dry_run::{DryRun, DryRunOptions, StartingCounts};
pub use engine::{CampaignSummary, Deployed, Engine, Failure, Seeds, UserStatus};
pub use evaluate::{
    Context, Draw, DrawError, DrawInput, Evaluation, Evaluator, Explanation, Issued, Source, Step,
    StepKind, StepOutcome, draw_in_memory,
};
pub use keys::{ApiKeyInfo, KEY_PREFIX, NewApiKey, key_hash};
pub use outbox::{AuditEntry, Delivery, DeliverySummary};
pub use period::Periods;
pub use random::{SeededRandom, below};
pub use rebates::{Credits, EventRequest, LedgerEntry};
pub use views::{
    AwardStats, CampaignStats, DayStats, History, HistoryEntry, LockView, MAX_PAGE, Prize,
    PrizeList, PrizeState, StockView, TierProgress, TierView, WeightRuleView,
};
