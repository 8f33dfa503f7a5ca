//! Credit balances and the ledger, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::LedgerRow;
use crate::store::{Ledger, StoreError};

impl Ledger for SqlTx {
    async fn add_credits(
        &mut self,
        user: &str,
        delta: i64,
        reason: &str,
        reference: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.execute(
            "INSERT INTO accounts (user_id, balance) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING",
            &[Arg::Text(user)],
        )
        .await?;
        // Conditional: a debit that would go below zero changes nothing (and the CHECK backs it).
        let changed = self
            .execute(
                "UPDATE accounts SET balance = balance + $2 WHERE user_id = $1 AND balance + $2 >= 0",
                &[Arg::Text(user), Arg::Int(delta)],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        self.execute(
            "INSERT INTO ledger_entries (user_id, delta, reason, reference, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[Arg::Text(user), Arg::Int(delta), Arg::Text(reason), Arg::Text(reference), Arg::Int(at)],
        )
        .await?;
        Ok(true)
    }

    async fn balance(&mut self, user: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = self
            .fetch_optional(
                "SELECT balance FROM accounts WHERE user_id = $1",
                &[Arg::Text(user)],
            )
            .await?;
        Ok(row.map_or(0, |(balance,)| balance))
    }

    async fn ledger(&mut self, user: &str, limit: i64) -> Result<Vec<LedgerRow>, StoreError> {
        self.fetch_all(
            "SELECT delta, reason, reference, created_at FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            &[Arg::Text(user), Arg::Int(limit)],
        )
        .await
    }
}
