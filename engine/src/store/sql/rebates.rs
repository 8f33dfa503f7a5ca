//! Behaviour events and rebate claims, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::{EventQuery, EventRecord, Period, RebateClaim};
use crate::store::{Rebates, Stored};

impl Rebates for SqlTx {
    async fn record_event(&mut self, e: &EventRecord<'_>) -> Stored<()> {
        self.execute(
            "INSERT INTO events (campaign_id, request_id, user_id, event, day_key, week_key, month_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Arg::Text(e.campaign),
                Arg::Text(e.request_id),
                Arg::Text(e.user),
                Arg::Text(e.event),
                Arg::Text(e.day),
                Arg::Text(e.week),
                Arg::Text(e.month),
                Arg::Int(e.at),
            ],
        )
        .await?;
        Ok(())
    }

    async fn event_done(&mut self, q: &EventQuery<'_>) -> Stored<bool> {
        // The column is chosen from a closed set, never from input.
        let column = match q.period {
            Period::Day => "day_key = $4",
            Period::Week => "week_key = $4",
            Period::Month => "month_key = $4",
            // Still binds $4, so the parameter list is the same for every period.
            Period::Ever => "(day_key = $4 OR 1 = 1)",
        };
        let sql = format!(
            "SELECT CAST(1 AS BIGINT) FROM events WHERE campaign_id = $1 AND user_id = $2 AND event = $3 AND {column} LIMIT 1"
        );
        let found: Option<(i64,)> = self
            .fetch_optional(
                &sql,
                &[
                    Arg::Text(q.campaign),
                    Arg::Text(q.user),
                    Arg::Text(q.event),
                    Arg::Text(q.key),
                ],
            )
            .await?;
        Ok(found.is_some())
    }

    async fn claim_rebate(&mut self, c: &RebateClaim<'_>) -> Stored<bool> {
        let inserted = self
            .execute(
                "INSERT INTO rebate_claims (campaign_id, rebate_id, user_id, period_key, request_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    Arg::Text(c.campaign),
                    Arg::Text(c.rebate),
                    Arg::Text(c.user),
                    Arg::Text(c.period_key),
                    Arg::Text(c.request_id),
                    Arg::Int(c.at),
                ],
            )
            .await?;
        Ok(inserted == 1)
    }
}
