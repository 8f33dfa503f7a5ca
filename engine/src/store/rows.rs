//! The rows the store keeps and returns, typed: one struct per table row or
//! per answer, read by column name on the SQL stores.

use std::str::FromStr;

use super::StoreError;
use crate::counts::Limits;
use crate::period::Periods;

/// Declares an enum the store keeps as text: its variants with their names,
/// `ALL`, `as_str`, and the parse the SQL rows use (`try_from = "String"`),
/// which calls an unknown name what it is — a corrupt value.
macro_rules! stored_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $( $(#[$variant_doc:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$doc])*
        pub enum $name {
            $( $(#[$variant_doc])* $variant, )*
        }

        impl $name {
            pub const ALL: [$name; [$($text),*].len()] = [$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(text: &str) -> Result<Self, StoreError> {
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| StoreError::Corrupt(format!(concat!($what, " `{}`"), text)))
            }
        }

        impl TryFrom<String> for $name {
            type Error = StoreError;
            fn try_from(text: String) -> Result<Self, StoreError> {
                text.parse()
            }
        }
    };
}

stored_enum! {
    /// A campaign's state in the store.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    CampaignState, "campaign state" {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
    }
}

/// A campaign row: its state and current version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CampaignRow {
    #[sqlx(try_from = "String")]
    pub state: CampaignState,
    #[sqlx(rename = "current_version")]
    pub version: i64,
}

stored_enum! {
    /// Where a version was deployed from. A campaign belongs to the folder
    /// or to the API and console, whichever deployed it first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    Origin, "version origin" {
        /// The folder `tombola serve --campaigns` watches: its file is the truth.
        Folder = "folder",
        /// The marketer console (an API deploy that says `Tombola-Client: console`).
        Console = "console",
        Api = "api",
    }
}

/// A deployed version's source, as stored, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredVersion {
    #[sqlx(rename = "campaign_id")]
    pub campaign: String,
    pub version: i64,
    pub source: String,
    pub sha256: String,
    #[sqlx(try_from = "String")]
    pub origin: Origin,
    /// The folder file's path, for [`Origin::Folder`].
    pub path: Option<String>,
    /// What the deploy said of itself.
    pub note: Option<String>,
    pub deployed_at: i64,
}

/// A version as listed: a [`StoredVersion`] without its source.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub sha256: String,
    #[sqlx(try_from = "String")]
    pub origin: Origin,
    pub path: Option<String>,
    pub note: Option<String>,
    pub deployed_at: i64,
}

/// What a request id already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: go ahead.
    New,
    /// Done before with the same body: the stored answer.
    Replay(String),
    /// Done before with a different body.
    Conflict,
}

/// A request's identity as the store keeps it.
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    /// `draw/<campaign>`, `grant/<campaign>`, …: request ids are unique per scope.
    pub scope: &'a str,
    /// The campaign the request runs in: a SQL store may read its row with the claim.
    pub campaign: Option<&'a str>,
    pub id: &'a str,
    pub body_hash: &'a str,
    /// The first release's hash of the same body, so its stored requests replay.
    pub first_hash: &'a str,
    pub at: i64,
    /// A draw's debit, made with the claim when the store can.
    pub debit: Option<&'a DebitAhead<'a>>,
}

/// A draw's debit as version `version` of its campaign makes it, for a SQL
/// store to make in the claim's statement when that is the version the store
/// holds. The draw then takes it instead of debiting again; a draw of any
/// other version debits as usual.
#[derive(Debug, Clone)]
pub struct DebitAhead<'a> {
    pub user: &'a str,
    pub version: i64,
    pub limits: Limits,
    pub periods: Periods,
}

/// A completed draw, as recorded.
#[derive(Debug, Clone)]
pub struct DrawRecord<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub version: i64,
    pub award: &'a str,
    pub amount: Option<String>,
    pub seed: i64,
    pub explanation: Explain<'a>,
    /// The campaign-zone day (`YYYY-MM-DD`), for per-day statistics.
    pub day: &'a str,
    pub at: i64,
}

/// A draw's steps, named, as JSON: written only by a store that keeps them
/// (the SQL stores), so a store that does not (memory) never pays for naming.
#[derive(Clone, Copy)]
pub struct Explain<'a>(pub &'a (dyn Fn() -> String + Sync));

impl Explain<'_> {
    pub fn json(&self) -> String {
        (self.0)()
    }
}

impl std::fmt::Debug for Explain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Explain(..)")
    }
}

/// A SKU granted to a user, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct OrderRecord<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub sku: &'a str,
    pub draws: i64,
    pub at: i64,
}

/// Which of a user's draws to read: newest first, strictly before `before`
/// (a `(created_at, request_id)` cursor), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    pub before: Option<(i64, &'a str)>,
    pub limit: i64,
}

/// A draw in a user's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    pub request_id: String,
    #[sqlx(rename = "award_id")]
    pub award: String,
    pub amount: Option<String>,
    pub version: i64,
    #[sqlx(rename = "created_at")]
    pub at: i64,
}

/// How many draws of a campaign issued an award on one campaign-zone day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayCount {
    #[sqlx(rename = "day_key")]
    pub day: String,
    #[sqlx(rename = "award_id")]
    pub award: String,
    pub draws: i64,
}

/// The slice of an award's stock a unit was taken from, so that a unit put
/// back goes to the row it came from (one its transaction already holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice(pub(crate) i64);

/// What is left of stock declared `before` once it is declared `declared`:
/// what was left (`left`) moves by the change, never below zero, and never so
/// far that more than `declared` goes out in all (`issued` already has).
pub(crate) fn left_after_redeclaring(left: i64, before: i64, declared: i64, issued: i64) -> i64 {
    left.saturating_add(declared.saturating_sub(before))
        .min(declared.saturating_sub(issued))
        .max(0)
}

/// An award's stock: declared, remaining, issued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StockRow {
    #[sqlx(rename = "award_id")]
    pub award: String,
    pub declared: i64,
    pub remaining: i64,
    pub issued: i64,
}

/// A behaviour event as recorded, with its campaign-zone period keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub event: &'a str,
    pub day: &'a str,
    pub week: &'a str,
    pub month: &'a str,
    pub at: i64,
}

/// Which period key an event lookup compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Week,
    Month,
    Ever,
}

/// Whether `user` did `event` in the period whose key is `key` (`Ever` ignores it).
#[derive(Debug, Clone, Copy)]
pub struct EventQuery<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    pub event: &'a str,
    pub period: Period,
    pub key: &'a str,
}

/// A rebate paid to a user for one period.
#[derive(Debug, Clone, Copy)]
pub struct RebateClaim<'a> {
    pub campaign: &'a str,
    pub rebate: &'a str,
    pub user: &'a str,
    /// The period it pays for (`2026-11-25`, `2026-W48`, `ever`, …).
    pub period_key: &'a str,
    pub request_id: &'a str,
    pub at: i64,
}

/// A change of `delta` hundredths to a user's credits, with why and what it
/// refers to: the ledger entry that explains it.
#[derive(Debug, Clone, Copy)]
pub struct CreditChange<'a> {
    pub user: &'a str,
    pub delta: i64,
    pub reason: &'a str,
    pub reference: &'a str,
    pub at: i64,
}

/// A ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerRow {
    pub delta: i64,
    pub reason: String,
    pub reference: String,
    #[sqlx(rename = "created_at")]
    pub at: i64,
}

stored_enum! {
    /// Where an outbox task stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    DeliveryState, "delivery state" {
        Pending = "pending",
        /// Leased to a dispatcher until the task's `next_at`.
        Sending = "sending",
        Delivered = "delivered",
        Dead = "dead",
    }
}

impl DeliveryState {
    /// Still to be delivered: waiting, or leased and not yet finished.
    pub fn undelivered(self) -> bool {
        matches!(self, DeliveryState::Pending | DeliveryState::Sending)
    }
}

/// An outbox task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    #[sqlx(rename = "campaign_id")]
    pub campaign: String,
    pub request_id: String,
    #[sqlx(rename = "user_id")]
    pub user: String,
    #[sqlx(rename = "award_id")]
    pub award: String,
    #[sqlx(try_from = "String")]
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_at: i64,
    pub created_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// An award to deliver, queued in the transaction that issued it.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub award: &'a str,
    pub at: i64,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered {
        at: i64,
    },
    Retry {
        next_at: i64,
        error: String,
    },
    Dead {
        error: String,
    },
    /// Not sent: its destination had no room; back in line at `next_at`
    /// without counting an attempt.
    Deferred {
        next_at: i64,
    },
}

/// Outbox tasks per state, and when the oldest undelivered one was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    pub states: Vec<(DeliveryState, i64)>,
    pub oldest_undelivered: Option<i64>,
}

/// An admin action to log.
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

/// An admin action, as logged.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// An API key as stored: its SHA-256, never the key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}
