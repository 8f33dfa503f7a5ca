//! The in-memory store: the same behaviour as the SQL stores, for simulation
//! and fast tests. A transaction holds the one lock and an undo log; dropped
//! without commit, it puts every change back. Each interface is implemented in
//! the file of its concern.

mod campaigns;
mod counts;
mod coupons;
mod draws;
mod keys;
mod ledger;
mod outbox;
mod rebates;
mod requests;
mod stock;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::rows::{
    ApiKeyRow, AuditRow, CampaignRow, DeliveryRow, HistoryRow, LedgerRow, StoredVersion,
};
use crate::counts::UserCounts;

/// Everything the memory store holds, one field a table.
#[derive(Debug, Default)]
struct State {
    campaigns: HashMap<String, CampaignRow>,
    versions: HashMap<String, Vec<StoredVersion>>,
    award_stock: HashMap<Pair, Level>,
    sku_stock: HashMap<Pair, Level>,
    counts: HashMap<Pair, CountRow>,
    requests: HashMap<Pair, RequestRow>,
    balances: HashMap<String, i64>,
    ledger: Vec<LedgerEntry>,
    draws: Vec<DrawRow>,
    orders: Vec<OrderRow>,
    api_keys: Vec<ApiKeyRow>,
    events: Vec<EventRow>,
    rebate_claims: HashSet<RebateKey>,
    deliveries: Vec<DeliveryRow>,
    audit: Vec<AuditRow>,
    /// Each code of a pool, and the request it was issued to.
    coupon_codes: BTreeMap<CodeKey, Option<String>>,
}

/// A two-part key: (campaign, award), (campaign, user), (scope, request id).
type Pair = (String, String);

fn pair(a: &str, b: &str) -> Pair {
    (a.to_string(), b.to_string())
}

/// An award's or a SKU's stock.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    declared: i64,
    remaining: i64,
    issued: i64,
}

/// A user's counts and the day and month they were counted in.
#[derive(Debug, Clone, Default)]
struct CountRow {
    counts: UserCounts,
    day: String,
    month: String,
}

#[derive(Debug, Clone)]
struct RequestRow {
    body_hash: String,
    /// `None` while the claiming transaction runs.
    answer: Option<String>,
}

#[derive(Debug, Clone)]
struct LedgerEntry {
    user: String,
    row: LedgerRow,
}

#[derive(Debug, Clone)]
struct DrawRow {
    campaign: String,
    user: String,
    day: String,
    row: HistoryRow,
}

/// An order: its request id is unique per campaign, as SQL's key makes it.
#[derive(Debug, Clone)]
struct OrderRow {
    campaign: String,
    request_id: String,
}

#[derive(Debug, Clone)]
struct EventRow {
    campaign: String,
    user: String,
    event: String,
    day: String,
    week: String,
    month: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RebateKey {
    campaign: String,
    rebate: String,
    user: String,
    period: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CodeKey {
    campaign: String,
    award: String,
    code: String,
}

/// The in-memory store; clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

/// How to put one change back.
type Undo = Box<dyn FnOnce(&mut State) + Send>;

/// A transaction on the memory store.
pub struct MemoryTx {
    state: OwnedMutexGuard<State>,
    undo: Vec<Undo>,
    committed: bool,
}

impl std::fmt::Debug for MemoryTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTx")
            .field("changes", &self.undo.len())
            .field("committed", &self.committed)
            .finish()
    }
}

impl MemoryStore {
    pub(crate) async fn begin(&self) -> MemoryTx {
        MemoryTx {
            state: self.state.clone().lock_owned().await,
            undo: Vec::new(),
            committed: false,
        }
    }

    pub(crate) async fn current_versions(&self) -> Vec<StoredVersion> {
        let state = self.state.lock().await;
        let mut out: Vec<StoredVersion> = state
            .versions
            .values()
            .filter_map(|v| v.last().cloned())
            .collect();
        out.sort_by(|a, b| a.campaign.cmp(&b.campaign));
        out
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        while let Some(undo) = self.undo.pop() {
            undo(&mut self.state);
        }
    }
}

impl MemoryTx {
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }

    /// Remembers how to put back a change just made.
    fn on_rollback(&mut self, undo: impl FnOnce(&mut State) + Send + 'static) {
        self.undo.push(Box::new(undo));
    }

    /// Sets `key` in the map `table` picks, remembering what was there.
    fn put<K, V>(&mut self, table: fn(&mut State) -> &mut HashMap<K, V>, key: K, value: V)
    where
        K: Hash + Eq + Clone + Send + 'static,
        V: Send + 'static,
    {
        let old = table(&mut self.state).insert(key.clone(), value);
        self.on_rollback(move |state| {
            let table = table(state);
            match old {
                Some(old) => table.insert(key, old),
                None => table.remove(&key),
            };
        });
    }

    /// Appends to the list `table` picks.
    fn push<T: Send + 'static>(&mut self, table: fn(&mut State) -> &mut Vec<T>, row: T) {
        table(&mut self.state).push(row);
        self.on_rollback(move |state| drop(table(state).pop()));
    }

    /// Changes row `ix` of the list `table` picks, remembering it as it was.
    fn change<T: Clone + Send + 'static>(
        &mut self,
        table: fn(&mut State) -> &mut Vec<T>,
        ix: usize,
        change: impl FnOnce(&mut T),
    ) {
        let row = &mut table(&mut self.state)[ix];
        let old = row.clone();
        change(row);
        self.on_rollback(move |state| table(state)[ix] = old);
    }
}

/// At most `limit` rows, for a SQL `LIMIT`.
fn limit(limit: i64) -> usize {
    usize::try_from(limit).unwrap_or(0)
}
