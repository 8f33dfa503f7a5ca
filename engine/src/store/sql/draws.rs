//! Draws and orders, in SQL.

use super::{Arg, SqlTx};
#[cfg(feature = "test-support")]
use crate::store::StoreError;
use crate::store::rows::{DayCount, DrawRecord, HistoryQuery, HistoryRow, OrderRecord};
use crate::store::{Draws, Stored};

impl Draws for SqlTx {
    async fn record_draw(&mut self, r: &DrawRecord<'_>) -> Stored<()> {
        let explanation = r.explanation.json();
        self.defer(
            "draws",
            "INSERT INTO draws (campaign_id, request_id, user_id, version, award_id, amount, seed, explanation, created_at, day_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                Arg::Text(r.campaign),
                Arg::Text(r.request_id),
                Arg::Text(r.user),
                Arg::Int(r.version),
                Arg::Text(r.award),
                Arg::opt_text(r.amount.as_deref()),
                Arg::Int(r.seed),
                Arg::Text(&explanation),
                Arg::Int(r.at),
                Arg::Text(r.day),
            ],
        )
        .await
    }

    async fn record_order(&mut self, o: &OrderRecord<'_>) -> Stored<bool> {
        let added = self.execute(
            "INSERT INTO orders (campaign_id, request_id, user_id, sku_id, draws, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (campaign_id, request_id) DO NOTHING",
            &[Arg::Text(o.campaign), Arg::Text(o.request_id), Arg::Text(o.user), Arg::Text(o.sku), Arg::Int(o.draws), Arg::Int(o.at)],
        )
        .await?;
        Ok(added == 1)
    }

    async fn history(&mut self, query: &HistoryQuery<'_>) -> Stored<Vec<HistoryRow>> {
        // Without a cursor, start after the newest possible row.
        let (at, request_id) = query.before.unwrap_or((i64::MAX, ""));
        self.fetch_all(
            "SELECT request_id, award_id, amount, version, created_at FROM draws \
             WHERE campaign_id = $1 AND user_id = $2 \
             AND (created_at < $3 OR (created_at = $3 AND request_id < $4) OR $5 = 0) \
             ORDER BY created_at DESC, request_id DESC LIMIT $6",
            &[
                Arg::Text(query.campaign),
                Arg::Text(query.user),
                Arg::Int(at),
                Arg::Text(request_id),
                Arg::Int(i64::from(query.before.is_some())),
                Arg::Int(query.limit),
            ],
        )
        .await
    }

    async fn draw_counts(&mut self, campaign: &str) -> Stored<Vec<DayCount>> {
        self.fetch_all(
            "SELECT day_key, award_id, COUNT(*) AS draws FROM draws WHERE campaign_id = $1 \
             GROUP BY day_key, award_id ORDER BY day_key, award_id",
            &[Arg::Text(campaign)],
        )
        .await
    }

    #[cfg(feature = "test-support")]
    async fn tallies(&mut self, campaign: &str) -> Stored<(i64, i64, i64, i64)> {
        let prefix = format!("{campaign}/%");
        self.fetch_optional(
            "SELECT (SELECT COUNT(*) FROM draws WHERE campaign_id = $1), \
             (SELECT COUNT(*) FROM ledger_entries WHERE reference LIKE $2), \
             (SELECT COUNT(*) FROM delivery_tasks WHERE campaign_id = $1), \
             (SELECT COUNT(*) FROM orders WHERE campaign_id = $1)",
            &[Arg::Text(campaign), Arg::Text(&prefix)],
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt("no tallies".into()))
    }
}
