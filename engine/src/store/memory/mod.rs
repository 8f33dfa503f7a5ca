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

use std::collections::BTreeMap;

// foldhash rather than SipHash: a simulation looks up several ids a draw, and
// SipHash was a tenth of its time; foldhash is still seeded per process.
use foldhash::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::rows::{
    ApiKeyRow, AuditRow, CampaignRow, DeliveryRow, LedgerRow, Period, StoredVersion,
};
use crate::counts::UserCounts;

/// Everything the memory store holds, one field a table.
#[derive(Debug, Default)]
struct State {
    /// Whether the store keeps no per-request history: draw rows, ledger
    /// entries, deliveries, order ids. A simulation's store keeps none (see
    /// [`MemoryStore::for_simulation`]).
    without_history: bool,
    /// The undo log's buffer, kept between transactions so one does not
    /// allocate a log of its own.
    spare_undo: SpareUndo,
    campaigns: HashMap<String, CampaignRow>,
    versions: HashMap<String, Vec<StoredVersion>>,
    /// The ids the tables below key by number.
    names: Names,
    award_stock: HashMap<Ids, Level>,
    sku_stock: HashMap<Ids, Level>,
    counts: HashMap<Ids, CountRow>,
    requests: HashMap<Pair, RequestRow>,
    balances: HashMap<Name, i64>,
    ledger: Vec<LedgerEntry>,
    draws: Vec<DrawRow>,
    /// Draws by (campaign, day, award): the statistics, without a scan of every draw.
    draws_by_day: HashMap<(Name, Name, Name), i64>,
    orders: HashSet<OrderRow>,
    api_keys: Vec<ApiKeyRow>,
    events: HashSet<EventDone>,
    rebate_claims: HashSet<RebateKey>,
    deliveries: Vec<DeliveryRow>,
    audit: Vec<AuditRow>,
    /// Each code of a pool, and the request it was issued to.
    coupon_codes: BTreeMap<CodeKey, Option<String>>,
}

/// A two-part key: (scope, request id).
type Pair = (String, String);

fn pair(a: &str, b: &str) -> Pair {
    (a.to_string(), b.to_string())
}

/// An id (a campaign's, a user's, an award's, a period's) by its number in
/// [`Names`].
type Name = u32;

/// A two-part key of interned ids: (campaign, award), (campaign, user). A
/// draw's lookups and undo entries copy it instead of allocating its text.
type Ids = (Name, Name);

/// Every id the store has seen, interned once: a number per distinct text.
/// An id interned by a transaction that rolls back stays; it is only a name.
#[derive(Debug, Default)]
struct Names {
    numbers: HashMap<String, Name>,
    texts: Vec<String>,
}

impl Names {
    fn get(&self, text: &str) -> Option<Name> {
        self.numbers.get(text).copied()
    }

    fn intern(&mut self, text: &str) -> Name {
        if let Some(name) = self.get(text) {
            return name;
        }
        let name = Name::try_from(self.texts.len()).expect("fewer than 2^32 ids in memory");
        self.texts.push(text.to_string());
        self.numbers.insert(text.to_string(), name);
        name
    }

    fn text(&self, name: Name) -> &str {
        &self.texts[name as usize]
    }

    /// The key of two ids, if both were ever seen: one never seen has no row.
    fn ids(&self, a: &str, b: &str) -> Option<Ids> {
        Some((self.get(a)?, self.get(b)?))
    }
}
/// An award's or a SKU's stock.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    declared: i64,
    remaining: i64,
    issued: i64,
}

/// A user's counts and the day and month they were counted in.
#[derive(Debug, Clone, Copy)]
struct CountRow {
    counts: UserCounts,
    day: Option<Name>,
    month: Option<Name>,
}

#[derive(Debug, Clone)]
struct RequestRow {
    body_hash: String,
    /// `None` while the claiming transaction runs.
    answer: Option<String>,
}

#[derive(Debug, Clone)]
struct LedgerEntry {
    user: Name,
    row: LedgerRow,
}

/// A draw: what history answers, its ids interned.
#[derive(Debug, Clone)]
struct DrawRow {
    campaign: Name,
    user: Name,
    award: Name,
    request_id: String,
    amount: Option<String>,
    version: i64,
    at: i64,
}

/// An order: its request id is unique per campaign, as SQL's key makes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OrderRow {
    campaign: String,
    request_id: String,
}

/// That a user did an event in a period: (campaign, user, event, period,
/// period key). An event writes one a period kind, so whether it was done
/// is one lookup, not a scan of every event.
type EventDone = (Name, Name, Name, Period, Name);

/// A rebate paid: (campaign, rebate, user, period key).
type RebateKey = (Name, Name, Name, Name);

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

/// An empty undo log, its capacity kept for the next transaction.
#[derive(Default)]
struct SpareUndo(Vec<Undo>);

impl std::fmt::Debug for SpareUndo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpareUndo(capacity {})", self.0.capacity())
    }
}

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
    /// A store for a simulation: it keeps everything a draw, an event or an
    /// exchange decides on (counts, stock, balances, claims, events, codes)
    /// and the statistics, but no per-request history — no draw rows, ledger
    /// entries, deliveries or order ids, which a million draws would fill
    /// memory with and nothing in a simulation reads (its request ids never
    /// repeat). History and the ledger answer empty.
    pub fn for_simulation() -> MemoryStore {
        let store = MemoryStore::default();
        store
            .state
            .try_lock()
            .expect("a new store is not locked")
            .without_history = true;
        store
    }

    pub(crate) async fn begin(&self) -> MemoryTx {
        let mut state = self.state.clone().lock_owned().await;
        let undo = std::mem::take(&mut state.spare_undo.0);
        MemoryTx {
            state,
            undo,
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
        if !self.committed {
            while let Some(undo) = self.undo.pop() {
                undo(&mut self.state);
            }
        }
        self.undo.clear();
        self.state.spare_undo = SpareUndo(std::mem::take(&mut self.undo));
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
