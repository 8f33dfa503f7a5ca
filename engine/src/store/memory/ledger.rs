//! Credit balances and the ledger, in memory.

use super::{LedgerEntry, MemoryTx, limit};
use crate::store::rows::LedgerRow;
use crate::store::{Ledger, StoreError};

impl Ledger for MemoryTx {
    async fn add_credits(
        &mut self,
        user: &str,
        delta: i64,
        reason: &str,
        reference: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let balance = self.state.balances.get(user).copied().unwrap_or(0) + delta;
        if balance < 0 {
            return Ok(false);
        }
        self.put(|s| &mut s.balances, user.to_string(), balance);
        let entry = LedgerEntry {
            user: user.to_string(),
            row: LedgerRow {
                delta,
                reason: reason.to_string(),
                reference: reference.to_string(),
                at,
            },
        };
        self.push(|s| &mut s.ledger, entry);
        Ok(true)
    }

    async fn balance(&mut self, user: &str) -> Result<i64, StoreError> {
        Ok(self.state.balances.get(user).copied().unwrap_or(0))
    }

    async fn ledger(&mut self, user: &str, most: i64) -> Result<Vec<LedgerRow>, StoreError> {
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
