//! Credit balances and the ledger, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::{CreditChange, LedgerRow};
use crate::store::{Ledger, MAX_BALANCE_HUNDREDTHS, Stored};

impl Ledger for SqlTx {
    async fn add_credits(&mut self, change: &CreditChange<'_>) -> Stored<bool> {
        self.execute(
            "INSERT INTO accounts (user_id, balance) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING",
            &[Arg::Text(change.user)],
        )
        .await?;
        // Conditional: a change that would take the balance below zero or beyond
        // the limit changes nothing (and the CHECK backs the first).
        let changed = self
            .execute(
                "UPDATE accounts SET balance = balance + $2 WHERE user_id = $1 AND balance + $2 BETWEEN 0 AND $3",
                &[Arg::Text(change.user), Arg::Int(change.delta), Arg::Int(MAX_BALANCE_HUNDREDTHS)],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        self.execute(
            "INSERT INTO ledger_entries (user_id, delta, reason, reference, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[Arg::Text(change.user), Arg::Int(change.delta), Arg::Text(change.reason), Arg::Text(change.reference), Arg::Int(change.at)],
        )
        .await?;
        Ok(true)
    }

    async fn balance(&mut self, user: &str) -> Stored<i64> {
        let row: Option<(i64,)> = self
            .fetch_optional(
                "SELECT balance FROM accounts WHERE user_id = $1",
                &[Arg::Text(user)],
            )
            .await?;
        Ok(row.map_or(0, |(balance,)| balance))
    }

    async fn ledger(&mut self, user: &str, limit: i64) -> Stored<Vec<LedgerRow>> {
        self.fetch_all(
            "SELECT delta, reason, reference, created_at FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            &[Arg::Text(user), Arg::Int(limit)],
        )
        .await
    }
}
