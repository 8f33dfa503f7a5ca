//! The in-memory store: the same behaviour as the SQL stores, for simulation
//! and fast tests. A transaction holds the one lock and an undo log; dropped
//! without commit, it puts every change back.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{
    ApiKeyRow, Attempt, AuditRow, CampaignRow, CampaignState, Claim, CounterValues, Counters,
    Debited, DeliveryRow, DrawRecord, EventRecord, HistoryRow, LedgerRow, Limits, Period, Refusal,
    StockRow, StoredVersion,
};

#[derive(Debug, Clone, Default)]
struct Counter {
    made: i64,
    granted: i64,
    day_key: String,
    day_count: i64,
    month_key: String,
    month_count: i64,
}

#[derive(Debug, Clone)]
struct MemoryDraw {
    campaign: String,
    user: String,
    day: String,
    row: HistoryRow,
}

#[derive(Debug, Clone, Copy)]
struct Stock {
    declared: i64,
    remaining: i64,
    issued: i64,
}

#[derive(Debug, Default)]
struct State {
    campaigns: HashMap<String, CampaignRow>,
    versions: HashMap<String, Vec<StoredVersion>>,
    award_stock: HashMap<(String, String), Stock>,
    sku_stock: HashMap<(String, String), Stock>,
    counters: HashMap<(String, String), Counter>,
    requests: HashMap<(String, String), (String, Option<String>)>,
    balances: HashMap<String, i64>,
    ledger: Vec<(String, i64, String, String, i64)>,
    draws: Vec<MemoryDraw>,
    api_keys: Vec<ApiKeyRow>,
    /// (campaign, user, event, day, week, month)
    events: Vec<[String; 6]>,
    rebate_claims: std::collections::HashSet<[String; 4]>,
    deliveries: Vec<DeliveryRow>,
    audit: Vec<AuditRow>,
    /// (campaign, award, code) → the request it was issued to.
    coupon_codes: std::collections::BTreeMap<(String, String, String), Option<String>>,
    orders: Vec<(String, String)>,
}

/// One change, and how to undo it.
#[derive(Debug)]
enum Undo {
    Campaign(String, Option<CampaignRow>),
    VersionPush(String),
    AwardStock((String, String), Option<Stock>),
    SkuStock((String, String), Option<Stock>),
    Counter((String, String), Option<Counter>),
    Request((String, String), Option<(String, Option<String>)>),
    Balance(String, Option<i64>),
    LedgerPush,
    DrawPush,
    ApiKeyPush,
    EventPush,
    RebateClaim([String; 4]),
    ApiKey(usize, ApiKeyRow),
    DeliveryPush,
    Delivery(usize, DeliveryRow),
    Deliveries(Vec<DeliveryRow>),
    AuditPush,
    CouponCode((String, String, String), Option<Option<String>>),
    OrderPush,
}

/// The in-memory store; clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

/// A transaction on the memory store.
#[derive(Debug)]
pub struct MemoryTx {
    state: OwnedMutexGuard<State>,
    undo: Vec<Undo>,
    committed: bool,
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

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let state = &mut *self.state;
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Campaign(id, old) => restore(&mut state.campaigns, id, old),
                Undo::VersionPush(id) => {
                    if let Some(versions) = state.versions.get_mut(&id) {
                        versions.pop();
                    }
                }
                Undo::AwardStock(k, old) => restore(&mut state.award_stock, k, old),
                Undo::SkuStock(k, old) => restore(&mut state.sku_stock, k, old),
                Undo::Counter(k, old) => restore(&mut state.counters, k, old),
                Undo::Request(k, old) => restore(&mut state.requests, k, old),
                Undo::Balance(k, old) => restore(&mut state.balances, k, old),
                Undo::LedgerPush => drop(state.ledger.pop()),
                Undo::DrawPush => drop(state.draws.pop()),
                Undo::ApiKeyPush => drop(state.api_keys.pop()),
                Undo::EventPush => drop(state.events.pop()),
                Undo::RebateClaim(k) => drop(state.rebate_claims.remove(&k)),
                Undo::ApiKey(ix, old) => state.api_keys[ix] = old,
                Undo::DeliveryPush => drop(state.deliveries.pop()),
                Undo::Delivery(ix, old) => state.deliveries[ix] = old,
                Undo::Deliveries(all) => state.deliveries = all,
                Undo::AuditPush => drop(state.audit.pop()),
                Undo::CouponCode(k, old) => match old {
                    Some(v) => drop(state.coupon_codes.insert(k, v)),
                    None => drop(state.coupon_codes.remove(&k)),
                },
                Undo::OrderPush => drop(state.orders.pop()),
            }
        }
    }
}

fn restore<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, old: Option<V>) {
    match old {
        Some(value) => {
            map.insert(key, value);
        }
        None => {
            map.remove(&key);
        }
    }
}

impl MemoryTx {
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }

    pub(crate) fn campaign(&mut self, id: &str) -> Option<CampaignRow> {
        self.state.campaigns.get(id).cloned()
    }

    pub(crate) fn latest_version(&mut self, id: &str) -> Option<StoredVersion> {
        self.state.versions.get(id).and_then(|v| v.last().cloned())
    }

    pub(crate) fn add_version(&mut self, version: &StoredVersion, state: CampaignState, _at: i64) {
        let id = version.campaign.clone();
        let old = self.state.campaigns.get(&id).cloned();
        let row = CampaignRow {
            state: old.as_ref().map_or(state, |o| o.state),
            version: version.version,
        };
        self.undo.push(Undo::Campaign(id.clone(), old));
        self.state.campaigns.insert(id.clone(), row);
        self.state
            .versions
            .entry(id.clone())
            .or_default()
            .push(version.clone());
        self.undo.push(Undo::VersionPush(id));
    }

    pub(crate) fn set_state(&mut self, id: &str, state: CampaignState) -> bool {
        let Some(old) = self.state.campaigns.get(id).cloned() else {
            return false;
        };
        self.undo
            .push(Undo::Campaign(id.to_string(), Some(old.clone())));
        self.state
            .campaigns
            .insert(id.to_string(), CampaignRow { state, ..old });
        true
    }

    fn declare(
        map: &mut HashMap<(String, String), Stock>,
        k: (String, String),
        declared: i64,
    ) -> Option<Stock> {
        let old = map.get(&k).copied();
        let new = match old {
            None => Stock {
                declared,
                remaining: declared,
                issued: 0,
            },
            Some(s) => Stock {
                declared,
                remaining: (s.remaining + declared - s.declared).max(0),
                issued: s.issued,
            },
        };
        map.insert(k, new);
        old
    }

    pub(crate) fn declare_award_stock(&mut self, campaign: &str, award: &str, declared: i64) {
        let k = key(campaign, award);
        let old = Self::declare(&mut self.state.award_stock, k.clone(), declared);
        self.undo.push(Undo::AwardStock(k, old));
    }

    pub(crate) fn declare_sku_stock(&mut self, campaign: &str, sku: &str, declared: i64) {
        let k = key(campaign, sku);
        let old = Self::declare(&mut self.state.sku_stock, k.clone(), declared);
        self.undo.push(Undo::SkuStock(k, old));
    }

    pub(crate) fn claim(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        first_hash: &str,
    ) -> Claim {
        let k = key(scope, request_id);
        match self.state.requests.get(&k) {
            Some((hash, _)) if hash != body_hash && hash != first_hash => Claim::Conflict,
            Some((_, Some(response))) => Claim::Replay(response.clone()),
            // Claimed but unanswered can only be this transaction's own claim.
            Some((_, None)) => Claim::New,
            None => {
                self.undo.push(Undo::Request(k.clone(), None));
                self.state.requests.insert(k, (body_hash.to_string(), None));
                Claim::New
            }
        }
    }

    pub(crate) fn stored_answer(&mut self, scope: &str, request_id: &str) -> Option<String> {
        self.state
            .requests
            .get(&key(scope, request_id))
            .and_then(|(_, response)| response.clone())
    }

    pub(crate) fn answer(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        response: &str,
        _at: i64,
    ) {
        let k = key(scope, request_id);
        let old = self.state.requests.insert(
            k.clone(),
            (body_hash.to_string(), Some(response.to_string())),
        );
        self.undo.push(Undo::Request(k, old));
    }

    fn counter_mut(&mut self, campaign: &str, user: &str) -> &mut Counter {
        let k = key(campaign, user);
        let old = self.state.counters.get(&k).cloned();
        self.undo.push(Undo::Counter(k.clone(), old));
        self.state.counters.entry(k).or_default()
    }

    pub(crate) fn counters(
        &mut self,
        campaign: &str,
        user: &str,
        day: &str,
        month: &str,
    ) -> Counters {
        let c = self
            .state
            .counters
            .get(&key(campaign, user))
            .cloned()
            .unwrap_or_default();
        Counters {
            made: c.made,
            granted: c.granted,
            day_key_matches: c.day_key == day,
            day_count: c.day_count,
            month_key_matches: c.month_key == month,
            month_count: c.month_count,
        }
    }

    pub(crate) fn debit_draw(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        day: &str,
        month: &str,
    ) -> Result<Debited, Refusal> {
        if let Some(refusal) = self.counters(campaign, user, day, month).refusal(limits) {
            return Err(refusal);
        }
        let c = self.counter_mut(campaign, user);
        c.made += 1;
        c.day_count = if c.day_key == day { c.day_count + 1 } else { 1 };
        c.day_key = day.to_string();
        c.month_count = if c.month_key == month {
            c.month_count + 1
        } else {
            1
        };
        c.month_key = month.to_string();
        Ok(Debited {
            made: c.made,
            day_count: c.day_count,
            month_count: c.month_count,
            granted: c.granted,
        })
    }

    fn take(
        map: &mut HashMap<(String, String), Stock>,
        k: &(String, String),
    ) -> Option<Option<Stock>> {
        let stock = map.get_mut(k)?;
        if stock.remaining == 0 {
            return None;
        }
        let old = *stock;
        stock.remaining -= 1;
        stock.issued += 1;
        Some(Some(old))
    }

    pub(crate) fn take_award_stock(&mut self, campaign: &str, award: &str) -> bool {
        let k = key(campaign, award);
        match Self::take(&mut self.state.award_stock, &k) {
            Some(old) => {
                self.undo.push(Undo::AwardStock(k, old));
                true
            }
            None => false,
        }
    }

    pub(crate) fn return_award_stock(&mut self, campaign: &str, award: &str) {
        let k = key(campaign, award);
        if let Some(stock) = self.state.award_stock.get_mut(&k) {
            let old = *stock;
            stock.remaining += 1;
            stock.issued -= 1;
            self.undo.push(Undo::AwardStock(k, Some(old)));
        }
    }

    pub(crate) fn award_stock(&mut self, campaign: &str, award: &str) -> Option<(i64, i64)> {
        self.state
            .award_stock
            .get(&key(campaign, award))
            .map(|s| (s.remaining, s.issued))
    }

    pub(crate) fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> bool {
        let k = key(campaign, sku);
        match Self::take(&mut self.state.sku_stock, &k) {
            Some(old) => {
                self.undo.push(Undo::SkuStock(k, old));
                true
            }
            None => false,
        }
    }

    pub(crate) fn set_counters(&mut self, campaign: &str, user: &str, counts: &CounterValues<'_>) {
        *self.counter_mut(campaign, user) = Counter {
            made: counts.made,
            granted: counts.granted,
            day_key: counts.day.to_string(),
            day_count: counts.day_count,
            month_key: counts.month.to_string(),
            month_count: counts.month_count,
        };
    }

    pub(crate) fn grant_draws(&mut self, campaign: &str, user: &str, draws: i64) {
        self.counter_mut(campaign, user).granted += draws;
    }

    pub(crate) fn add_credits(
        &mut self,
        user: &str,
        delta: i64,
        reason: &str,
        reference: &str,
        at: i64,
    ) -> bool {
        let old = self.state.balances.get(user).copied();
        let balance = old.unwrap_or(0) + delta;
        if balance < 0 {
            return false;
        }
        self.undo.push(Undo::Balance(user.to_string(), old));
        self.state.balances.insert(user.to_string(), balance);
        self.state.ledger.push((
            user.to_string(),
            delta,
            reason.to_string(),
            reference.to_string(),
            at,
        ));
        self.undo.push(Undo::LedgerPush);
        true
    }

    pub(crate) fn balance(&mut self, user: &str) -> i64 {
        self.state.balances.get(user).copied().unwrap_or(0)
    }

    pub(crate) fn enqueue_delivery(
        &mut self,
        campaign: &str,
        request_id: &str,
        user: &str,
        award: &str,
        at: i64,
    ) {
        let id = self.state.deliveries.len() as i64 + 1;
        self.state.deliveries.push(DeliveryRow {
            id,
            campaign: campaign.to_string(),
            request_id: request_id.to_string(),
            user: user.to_string(),
            award: award.to_string(),
            state: "pending".into(),
            attempts: 0,
            next_at: at,
            created_at: at,
            last_error: None,
            delivered_at: None,
        });
        self.undo.push(Undo::DeliveryPush);
    }

    fn set_delivery(&mut self, ix: usize, change: impl FnOnce(&mut DeliveryRow)) {
        let old = self.state.deliveries[ix].clone();
        change(&mut self.state.deliveries[ix]);
        self.undo.push(Undo::Delivery(ix, old));
    }

    pub(crate) fn lease_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Vec<DeliveryRow> {
        let mut due: Vec<usize> = (0..self.state.deliveries.len())
            .filter(|&ix| {
                let d = &self.state.deliveries[ix];
                (d.state == "pending" || d.state == "sending") && d.next_at <= now
            })
            .collect();
        due.sort_by_key(|&ix| (self.state.deliveries[ix].next_at, ix));
        due.truncate(usize::try_from(limit).unwrap_or(0));
        due.into_iter()
            .map(|ix| {
                self.set_delivery(ix, |d| {
                    d.state = "sending".into();
                    d.next_at = lease_until;
                });
                self.state.deliveries[ix].clone()
            })
            .collect()
    }

    pub(crate) fn finish_delivery(&mut self, id: i64, attempt: &Attempt) -> bool {
        let Some(ix) = self
            .state
            .deliveries
            .iter()
            .position(|d| d.id == id && d.state == "sending")
        else {
            return false;
        };
        self.set_delivery(ix, |d| {
            d.attempts += 1;
            match attempt {
                Attempt::Delivered { at } => {
                    d.state = "delivered".into();
                    d.delivered_at = Some(*at);
                    d.last_error = None;
                }
                Attempt::Retry { next_at, error } => {
                    d.state = "pending".into();
                    d.next_at = *next_at;
                    d.last_error = Some(error.clone());
                }
                Attempt::Dead { error } => {
                    d.state = "dead".into();
                    d.last_error = Some(error.clone());
                }
            }
        });
        true
    }

    pub(crate) fn deliveries(&mut self, state: Option<&str>, limit: i64) -> Vec<DeliveryRow> {
        self.state
            .deliveries
            .iter()
            .rev()
            .filter(|d| state.is_none_or(|s| d.state == s))
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect()
    }

    pub(crate) fn retry_delivery(&mut self, id: i64, now: i64) -> bool {
        let Some(ix) = self
            .state
            .deliveries
            .iter()
            .position(|d| d.id == id && d.state == "dead")
        else {
            return false;
        };
        self.set_delivery(ix, |d| {
            d.state = "pending".into();
            d.next_at = now;
            d.attempts = 0;
        });
        true
    }

    pub(crate) fn delivery_summary(&mut self) -> (Vec<(String, i64)>, Option<i64>) {
        let mut counts = std::collections::BTreeMap::<String, i64>::new();
        for d in &self.state.deliveries {
            *counts.entry(d.state.clone()).or_default() += 1;
        }
        let oldest = self
            .state
            .deliveries
            .iter()
            .filter(|d| d.state == "pending" || d.state == "sending")
            .map(|d| d.created_at)
            .min();
        (counts.into_iter().collect(), oldest)
    }

    /// The memory store keeps no request times, so only delivered tasks go.
    pub(crate) fn purge(&mut self, before: i64) -> (u64, u64) {
        let all = self.state.deliveries.clone();
        self.state
            .deliveries
            .retain(|d| !(d.state == "delivered" && d.delivered_at.is_some_and(|at| at < before)));
        let removed = (all.len() - self.state.deliveries.len()) as u64;
        self.undo.push(Undo::Deliveries(all));
        (0, removed)
    }

    pub(crate) fn audit(&mut self, at: i64, actor: &str, action: &str, target: &str, detail: &str) {
        let id = self.state.audit.len() as i64 + 1;
        self.state.audit.push(AuditRow {
            id,
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            detail: detail.to_string(),
        });
        self.undo.push(Undo::AuditPush);
    }

    pub(crate) fn audit_log(&mut self, before: Option<i64>, limit: i64) -> Vec<AuditRow> {
        self.state
            .audit
            .iter()
            .rev()
            .filter(|a| before.is_none_or(|b| a.id < b))
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect()
    }

    pub(crate) fn record_draw(&mut self, record: &DrawRecord<'_>) {
        self.state.draws.push(MemoryDraw {
            campaign: record.campaign.to_string(),
            user: record.user.to_string(),
            day: record.day.to_string(),
            row: HistoryRow {
                request_id: record.request_id.to_string(),
                award: record.award.to_string(),
                amount: record.amount.clone(),
                version: record.version,
                at: record.at,
            },
        });
        self.undo.push(Undo::DrawPush);
    }

    pub(crate) fn record_order(
        &mut self,
        campaign: &str,
        request_id: &str,
        _user: &str,
        _sku: &str,
        _draws: i64,
        _at: i64,
    ) {
        self.state
            .orders
            .push((campaign.to_string(), request_id.to_string()));
        self.undo.push(Undo::OrderPush);
    }

    pub(crate) fn history(
        &mut self,
        campaign: &str,
        user: &str,
        before: Option<(i64, &str)>,
        limit: i64,
    ) -> Vec<HistoryRow> {
        let mut rows: Vec<HistoryRow> = self
            .state
            .draws
            .iter()
            .filter(|d| d.campaign == campaign && d.user == user)
            .filter(|d| before.is_none_or(|cursor| (d.row.at, d.row.request_id.as_str()) < cursor))
            .map(|d| d.row.clone())
            .collect();
        rows.sort_by(|a, b| (b.at, &b.request_id).cmp(&(a.at, &a.request_id)));
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows
    }

    pub(crate) fn draw_counts(&mut self, campaign: &str) -> Vec<(String, String, i64)> {
        let mut counts = std::collections::BTreeMap::<(String, String), i64>::new();
        for d in self.state.draws.iter().filter(|d| d.campaign == campaign) {
            *counts
                .entry((d.day.clone(), d.row.award.clone()))
                .or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((day, award), n)| (day, award, n))
            .collect()
    }

    pub(crate) fn award_stocks(&mut self, campaign: &str) -> Vec<StockRow> {
        let mut rows: Vec<StockRow> = self
            .state
            .award_stock
            .iter()
            .filter(|((c, _), _)| c == campaign)
            .map(|((_, award), s)| StockRow {
                award: award.clone(),
                declared: s.declared,
                remaining: s.remaining,
                issued: s.issued,
            })
            .collect();
        rows.sort_by(|a, b| a.award.cmp(&b.award));
        rows
    }

    pub(crate) fn insert_api_key(&mut self, key: &ApiKeyRow) {
        self.state.api_keys.push(key.clone());
        self.undo.push(Undo::ApiKeyPush);
    }

    pub(crate) fn api_keys(&mut self) -> Vec<ApiKeyRow> {
        self.state.api_keys.clone()
    }

    pub(crate) fn api_key_by_hash(&mut self, sha256: &str) -> Option<ApiKeyRow> {
        self.state
            .api_keys
            .iter()
            .find(|k| k.sha256 == sha256)
            .cloned()
    }

    pub(crate) fn revoke_api_key(&mut self, id: &str, at: i64) -> bool {
        let Some(ix) = self.state.api_keys.iter().position(|k| k.id == id) else {
            return false;
        };
        let key = &mut self.state.api_keys[ix];
        if key.revoked_at.is_none() {
            self.undo.push(Undo::ApiKey(ix, key.clone()));
            key.revoked_at = Some(at);
        }
        true
    }

    pub(crate) fn record_event(&mut self, e: &EventRecord<'_>) {
        self.state
            .events
            .push([e.campaign, e.user, e.event, e.day, e.week, e.month].map(str::to_string));
        self.undo.push(Undo::EventPush);
    }

    pub(crate) fn event_done(
        &mut self,
        campaign: &str,
        user: &str,
        event: &str,
        period: Period,
        key: &str,
    ) -> bool {
        self.state.events.iter().any(|[c, u, e, day, week, month]| {
            c == campaign
                && u == user
                && e == event
                && match period {
                    Period::Day => day == key,
                    Period::Week => week == key,
                    Period::Month => month == key,
                    Period::Ever => true,
                }
        })
    }

    pub(crate) fn claim_rebate(
        &mut self,
        campaign: &str,
        rebate: &str,
        user: &str,
        period_key: &str,
        _request_id: &str,
        _at: i64,
    ) -> bool {
        let k = [campaign, rebate, user, period_key].map(str::to_string);
        if !self.state.rebate_claims.insert(k.clone()) {
            return false;
        }
        self.undo.push(Undo::RebateClaim(k));
        true
    }

    pub(crate) fn ledger(&mut self, user: &str, limit: i64) -> Vec<LedgerRow> {
        self.state
            .ledger
            .iter()
            .rev()
            .filter(|(u, ..)| u == user)
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|(_, delta, reason, reference, at)| LedgerRow {
                delta: *delta,
                reason: reason.clone(),
                reference: reference.clone(),
                at: *at,
            })
            .collect()
    }

    pub(crate) fn add_coupon_codes(
        &mut self,
        campaign: &str,
        award: &str,
        codes: &[String],
    ) -> u64 {
        let mut added = 0;
        for code in codes {
            let k = (campaign.to_string(), award.to_string(), code.clone());
            if !self.state.coupon_codes.contains_key(&k) {
                self.state.coupon_codes.insert(k.clone(), None);
                self.undo.push(Undo::CouponCode(k, None));
                added += 1;
            }
        }
        let k = key(campaign, award);
        let old = self.state.award_stock.get(&k).copied();
        let mut stock = old.unwrap_or(Stock {
            declared: 0,
            remaining: 0,
            issued: 0,
        });
        stock.declared += added;
        stock.remaining += added;
        self.state.award_stock.insert(k.clone(), stock);
        self.undo.push(Undo::AwardStock(k, old));
        added as u64
    }

    pub(crate) fn take_coupon_code(
        &mut self,
        campaign: &str,
        award: &str,
        request_id: &str,
        _at: i64,
    ) -> Option<String> {
        let k = self
            .state
            .coupon_codes
            .iter()
            .find(|((c, a, _), issued)| c == campaign && a == award && issued.is_none())
            .map(|(k, _)| k.clone())?;
        self.state
            .coupon_codes
            .insert(k.clone(), Some(request_id.to_string()));
        self.undo.push(Undo::CouponCode(k.clone(), Some(None)));
        Some(k.2)
    }

    pub(crate) fn issued_code(&mut self, campaign: &str, request_id: &str) -> Option<String> {
        self.state
            .coupon_codes
            .iter()
            .find(|((c, _, _), issued)| c == campaign && issued.as_deref() == Some(request_id))
            .map(|((_, _, code), _)| code.clone())
    }

    pub(crate) fn tallies(&mut self, campaign: &str) -> (i64, i64, i64, i64) {
        let s = &self.state;
        let count =
            |v: &Vec<(String, String)>| v.iter().filter(|(c, _)| c == campaign).count() as i64;
        let deliveries = s
            .deliveries
            .iter()
            .filter(|d| d.campaign == campaign)
            .count() as i64;
        let draws = s.draws.iter().filter(|d| d.campaign == campaign).count() as i64;
        let ledger = s
            .ledger
            .iter()
            .filter(|(_, _, _, reference, _)| reference.starts_with(&format!("{campaign}/")))
            .count() as i64;
        (draws, ledger, deliveries, count(&s.orders))
    }
}
