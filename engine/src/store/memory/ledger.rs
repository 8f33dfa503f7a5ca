//! Credit balances and the ledger, in memory.

use super::{LedgerEntry, MemoryTx, limit};
use crate::store::rows::{CreditChange, LedgerRow};
use crate::store::{Ledger, MAX_BALANCE_HUNDREDTHS, Stored};

impl MemoryTx {
    fn balance_of(&self, user: &str) -> i64 {
        let names = &self.state.names;
        names
            .get(user)
            .and_then(|user| self.state.balances.get(&user))
            .copied()
            .unwrap_or(0)
    }
}

impl Ledger for MemoryTx {
    async fn add_credits(&mut self, change: &CreditChange<'_>) -> Stored<bool> {
        let user = self.state.names.intern(change.user);
        let balance = self.state.balances.get(&user).copied().unwrap_or(0) + change.delta;
        if !(0..=MAX_BALANCE_HUNDREDTHS).contains(&balance) {
            return Ok(false);
        }
        self.put(|s| &mut s.balances, user, balance);
        if self.state.without_history {
            return Ok(true);
        }
        let entry = LedgerEntry {
            user,
            row: LedgerRow {
                delta: change.delta,
                reason: change.reason.to_string(),
                reference: change.reference.to_string(),
                at: change.at,
            },
        };
        self.push(|s| &mut s.ledger, entry);
        Ok(true)
    }

    async fn balance(&mut self, user: &str) -> Stored<i64> {
        Ok(self.balance_of(user))
    }

    async fn ledger(&mut self, user: &str, most: i64) -> Stored<Vec<LedgerRow>> {
        let Some(user) = self.state.names.get(user) else {
            return Ok(Vec::new());
        };
        Ok(self
            .state
            .ledger
            .iter()
            .rev()
            .filter(|e| e.user == user)
            .take(limit(most))
            .map(|e| e.row.clone())
            .collect())
    }
}
