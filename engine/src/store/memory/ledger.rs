//! Credit balances and the ledger, in memory.

use super::{LedgerEntry, MemoryTx, limit};
use crate::store::rows::{CreditChange, LedgerRow};
use crate::store::{Ledger, MAX_BALANCE_HUNDREDTHS, Stored};

impl Ledger for MemoryTx {
    async fn add_credits(&mut self, change: &CreditChange<'_>) -> Stored<bool> {
        let balance = self.state.balances.get(change.user).copied().unwrap_or(0) + change.delta;
        if !(0..=MAX_BALANCE_HUNDREDTHS).contains(&balance) {
            return Ok(false);
        }
        self.put(|s| &mut s.balances, change.user.to_string(), balance);
        let entry = LedgerEntry {
            user: change.user.to_string(),
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
        Ok(self.state.balances.get(user).copied().unwrap_or(0))
    }

    async fn ledger(&mut self, user: &str, most: i64) -> Stored<Vec<LedgerRow>> {
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
