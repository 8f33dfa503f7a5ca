//! Credit balances and the ledger, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::{CreditChange, LedgerRow};
use crate::store::{Ledger, MAX_BALANCE_HUNDREDTHS, Stored};

impl Ledger for SqlTx {
    async fn add_credits(&mut self, change: &CreditChange<'_>) -> Stored<bool> {
        // One conditional upsert: a change that would take the balance below zero
        // or beyond the limit changes nothing (the CHECK backs the first). A new
        // account opens only with a credit; for a debit, the row offered holds 0
        // (the CHECK reads it before the conflict) and the update applies the
        // change. The WHERE also lets SQLite read the SELECT apart from the ON CONFLICT.
        let changed = self
            .execute(
                "INSERT INTO accounts (user_id, balance) SELECT $1, CASE WHEN $2 < 0 THEN 0 ELSE $2 END \
                 WHERE $2 BETWEEN 0 AND $3 OR EXISTS (SELECT 1 FROM accounts WHERE user_id = $1) \
                 ON CONFLICT (user_id) DO UPDATE SET balance = accounts.balance + $2 \
                 WHERE accounts.balance + $2 BETWEEN 0 AND $3",
                &[Arg::Text(change.user), Arg::Int(change.delta), Arg::Int(MAX_BALANCE_HUNDREDTHS)],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        self.defer(
            "ledger_entries",
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
