//! The store's interfaces, one per concern. Each is implemented per backend in
//! a file of its own (`memory/…`, `sql/…`); [`Tx`] forwards every method to the
//! backend it holds, generated from the one declaration here.

use super::rows::{
    ApiKeyRow, Attempt, AuditRecord, AuditRow, CampaignRow, CampaignState, Claim, CreditChange,
    DayCount, DeliveryRow, DeliveryState, DrawRecord, EventQuery, EventRecord, HistoryQuery,
    HistoryRow, LedgerRow, NewDelivery, OrderRecord, OutboxSummary, RebateClaim, RequestKey, Slice,
    StockRow, StoredVersion, VersionRow,
};
use super::{Stored, Tx};
use crate::counts::{Limits, Refusal, UserCounts};
use crate::period::Periods;

/// Declares each interface as a trait whose methods answer [`Stored`],
/// and implements it for [`Tx`] by forwarding to the memory or SQL transaction.
macro_rules! interfaces {
    ($(
        $(#[$doc:meta])*
        trait $name:ident {
            $(
                $(#[$method_doc:meta])*
                fn $method:ident(&mut self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
            )*
        }
    )*) => {
        $(
            $(#[$doc])*
            pub trait $name {
                $(
                    $(#[$method_doc])*
                    fn $method(&mut self $(, $arg: $ty)*)
                        -> impl Future<Output = Stored<$ret>> + Send;
                )*
            }

            impl $name for Tx {
                $(
                    $(#[$method_doc])*
                    async fn $method(&mut self $(, $arg: $ty)*) -> Stored<$ret> {
                        match self {
                            Tx::Memory(tx) => tx.$method($($arg),*).await,
                            Tx::Sql(tx) => tx.$method($($arg),*).await,
                        }
                    }
                )*
            }
        )*
    };
}

interfaces! {
    /// Campaigns, their state and their deployed versions' sources.
    trait Campaigns {
        fn campaign(&mut self, id: &str) -> Option<CampaignRow>;
        fn latest_version(&mut self, id: &str) -> Option<StoredVersion>;
        /// Version `version` of campaign `id`, whether or not it is still the latest.
        fn version(&mut self, id: &str, version: i64) -> Option<StoredVersion>;
        /// Holds deploys of campaign `id` until this transaction ends, so two
        /// deploys of one campaign (on one server or two) read the latest
        /// version and add the next one after the other, never both at once.
        fn lock_deploys(&mut self, id: &str) -> ();
        /// Every version of campaign `id`, newest first, without their sources.
        fn versions(&mut self, id: &str) -> Vec<VersionRow>;
        /// Records a new version (creating the campaign with `state` on its
        /// first deploy, at the version's `deployed_at`).
        fn add_version(&mut self, version: &StoredVersion, state: CampaignState) -> ();
        /// Records where a folder version's file now is (moved, or a version
        /// from before paths were kept): the same content is not a new version.
        fn set_version_path(&mut self, id: &str, version: i64, path: &str) -> ();
        /// False if there is no such campaign.
        fn set_state(&mut self, id: &str, state: CampaignState) -> bool;
    }

    /// The stock of awards and SKUs. Every take is a conditional decrement.
    trait Stock {
        /// Declares stock for an award: new rows start full; existing rows change
        /// what is left by the change in declared stock, never below zero.
        fn declare_award_stock(&mut self, campaign: &str, award: &str, declared: i64) -> ();
        /// As [`Stock::declare_award_stock`], for a SKU.
        fn declare_sku_stock(&mut self, campaign: &str, sku: &str, declared: i64) -> ();
        /// Takes one unit of an award's stock, and says from which slice;
        /// `None` when none is left.
        fn take_award_stock(&mut self, campaign: &str, award: &str) -> Option<Slice>;
        /// Puts back a unit taken in this transaction, from `slice`, for an award
        /// that was not issued after all.
        fn return_award_stock(&mut self, campaign: &str, award: &str, slice: Slice) -> ();
        fn award_stock(&mut self, campaign: &str, award: &str) -> Option<StockRow>;
        /// Every stocked award of a campaign, by award id.
        fn award_stocks(&mut self, campaign: &str) -> Vec<StockRow>;
        /// Takes one unit of a SKU's stock; `false` when none is left.
        fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> bool;
    }

    /// The pools of coupon codes.
    trait Coupons {
        /// Adds coupon codes to a coupon award's pool (codes already there are
        /// skipped) and raises its stock by as many; the number added.
        fn add_coupon_codes(&mut self, campaign: &str, award: &str, codes: &[String]) -> u64;
        /// Issues an unissued code of the pool to `request_id`.
        fn take_coupon_code(&mut self, campaign: &str, award: &str, request_id: &str, at: i64) -> Option<String>;
        /// The code issued to `request_id`, if any.
        fn issued_code(&mut self, campaign: &str, request_id: &str) -> Option<String>;
    }

    /// A user's draw counts in a campaign, kept under the campaign-zone day and month.
    trait Counts {
        /// Debits one draw against the entitlement and every cap, atomically: the
        /// counts including this draw, or the limit that refused it.
        fn debit_draw(&mut self, campaign: &str, user: &str, limits: &Limits, periods: &Periods) -> Result<UserCounts, Refusal>;
        /// The counts as they stand in `periods` (0 today on a new day).
        fn counts(&mut self, campaign: &str, user: &str, periods: &Periods) -> UserCounts;
        /// The counts as [`Counts::counts`] reads them, the user's row held
        /// (made if missing) until the transaction ends: a call that may write
        /// both the user's counters and account takes the counters first, as a
        /// draw does, so the two wait for each other instead of deadlocking.
        fn held_counts(&mut self, campaign: &str, user: &str, periods: &Periods) -> UserCounts;
        /// Sets a user's counts outright (creating them), as they stand in `periods`.
        fn set_counts(&mut self, campaign: &str, user: &str, periods: &Periods, counts: &UserCounts) -> ();
        fn grant_draws(&mut self, campaign: &str, user: &str, draws: i64) -> ();
        /// The campaigns whose users' granted draws used were not kept before
        /// the store kept them for every allowance (migration 0008).
        fn counts_to_settle(&mut self) -> Vec<String>;
        /// Settles a listed campaign: with its campaign-wide allowance `free`,
        /// every draw past it used a grant; without (a daily allowance was
        /// deployed since), what is kept stands. Takes it off the list.
        fn settle_counts(&mut self, campaign: &str, free: Option<i64>) -> ();
    }

    /// Request ids and their stored answers: what makes every call idempotent.
    trait Requests {
        /// Claims a request id for this body, or says what it already holds. A
        /// request stored under `first_hash` (the first release's hash of the same
        /// body) is the same request.
        fn claim(&mut self, key: &RequestKey<'_>) -> Claim;
        /// The stored answer of a request that succeeded, if any.
        fn stored_answer(&mut self, scope: &str, request_id: &str) -> Option<String>;
        /// Stores the answer of a claimed request.
        fn answer(&mut self, key: &RequestKey<'_>, response: &str) -> ();
        /// Deletes request records older than `before`; how many. The memory
        /// store keeps no request times and deletes none.
        fn purge_requests(&mut self, before: i64) -> u64;
    }

    /// Draws and orders as recorded, and what is read back from them.
    trait Draws {
        fn record_draw(&mut self, record: &DrawRecord<'_>) -> ();
        /// Records a grant or an exchange; false, writing nothing, if the
        /// campaign already has an order with its request id (the other kind).
        fn record_order(&mut self, order: &OrderRecord<'_>) -> bool;
        /// A user's draws in a campaign, as `query` says.
        fn history(&mut self, query: &HistoryQuery<'_>) -> Vec<HistoryRow>;
        /// Draws of a campaign by campaign-zone day and award, by day then award.
        fn draw_counts(&mut self, campaign: &str) -> Vec<DayCount>;
        /// Counts for tests: (draws, ledger entries, delivery tasks, orders) of a campaign.
        #[cfg(feature = "test-support")]
        fn tallies(&mut self, campaign: &str) -> (i64, i64, i64, i64);
    }

    /// Behaviour events and the rebates claimed for them.
    trait Rebates {
        fn record_event(&mut self, event: &EventRecord<'_>) -> ();
        fn event_done(&mut self, query: &EventQuery<'_>) -> bool;
        /// Claims a rebate for a user and period; false if it was already claimed.
        fn claim_rebate(&mut self, claim: &RebateClaim<'_>) -> bool;
    }

    /// Credit balances and the ledger that explains them.
    trait Ledger {
        /// Changes the user's balance (creating the account) and writes the
        /// ledger entry; `false`, changing nothing, if it would go negative or
        /// beyond [`MAX_BALANCE_HUNDREDTHS`](crate::store::MAX_BALANCE_HUNDREDTHS).
        fn add_credits(&mut self, change: &CreditChange<'_>) -> bool;
        /// The balance in hundredths; 0 for a user with no account.
        fn balance(&mut self, user: &str) -> i64;
        /// A user's latest ledger entries, newest first.
        fn ledger(&mut self, user: &str, limit: i64) -> Vec<LedgerRow>;
    }

    /// The outbox of external awards to deliver.
    trait Outbox {
        fn enqueue_delivery(&mut self, task: &NewDelivery<'_>) -> ();
        /// Leases up to `limit` due tasks (pending, or sending with an expired lease)
        /// until `lease_until`. On PostgreSQL, rows another server is leasing are skipped.
        fn lease_deliveries(&mut self, now: i64, lease_until: i64, limit: i64) -> Vec<DeliveryRow>;
        /// Records how an attempt on a leased task ended; false if the task was not leased.
        fn finish_delivery(&mut self, id: i64, attempt: &Attempt) -> bool;
        /// Tasks, newest first, in `state` if given.
        fn deliveries(&mut self, state: Option<DeliveryState>, limit: i64) -> Vec<DeliveryRow>;
        /// Puts a dead task back in line with a fresh budget of attempts; false if
        /// there is no dead task `id`.
        fn retry_delivery(&mut self, id: i64, now: i64) -> bool;
        fn outbox_summary(&mut self) -> OutboxSummary;
        /// Deletes tasks delivered before `before`; how many.
        fn purge_delivered(&mut self, before: i64) -> u64;
    }

    /// API keys and the audit log of admin actions.
    trait Keys {
        fn insert_api_key(&mut self, key: &ApiKeyRow) -> ();
        /// Every API key, oldest first, revoked ones included.
        fn api_keys(&mut self) -> Vec<ApiKeyRow>;
        fn api_key_by_hash(&mut self, sha256: &str) -> Option<ApiKeyRow>;
        /// Marks a key revoked (keeping the first time); false if there is no such key.
        fn revoke_api_key(&mut self, id: &str, at: i64) -> bool;
        fn audit(&mut self, entry: &AuditRecord<'_>) -> ();
        /// Admin actions, newest first, with ids below `before` if given.
        fn audit_log(&mut self, before: Option<i64>, limit: i64) -> Vec<AuditRow>;
    }
}
