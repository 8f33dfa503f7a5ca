//! The outbox of deliveries, in SQL: leases skip rows another server holds.

use super::{Arg, SqlTx};
use crate::store::rows::{Attempt, DeliveryRow, DeliveryState, NewDelivery, OutboxSummary};
use crate::store::{Outbox, Stored};

const TASK_COLUMNS: &str = "id, campaign_id, request_id, user_id, award_id, state, attempts, next_at, created_at, last_error, delivered_at";

impl Outbox for SqlTx {
    async fn enqueue_delivery(&mut self, task: &NewDelivery<'_>) -> Stored<()> {
        self.defer(
            "delivery_tasks",
            "INSERT INTO delivery_tasks (campaign_id, request_id, user_id, award_id, next_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)",
            &[Arg::Text(task.campaign), Arg::Text(task.request_id), Arg::Text(task.user), Arg::Text(task.award), Arg::Int(task.at)],
        )
        .await
    }

    async fn lease_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Stored<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM delivery_tasks WHERE state IN ('pending', 'sending') AND next_at <= $1 \
             ORDER BY next_at, id LIMIT $2{}",
            self.skip_locked()
        );
        let mut due: Vec<DeliveryRow> = self
            .fetch_all(&sql, &[Arg::Int(now), Arg::Int(limit)])
            .await?;
        for task in &mut due {
            self.execute(
                "UPDATE delivery_tasks SET state = 'sending', next_at = $2 WHERE id = $1",
                &[Arg::Int(task.id), Arg::Int(lease_until)],
            )
            .await?;
            task.state = DeliveryState::Sending;
            task.next_at = lease_until;
        }
        Ok(due)
    }

    async fn finish_delivery(&mut self, id: i64, attempt: &Attempt) -> Stored<bool> {
        let changed = match attempt {
            Attempt::Delivered { at } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'delivered', delivered_at = $2, attempts = attempts + 1, last_error = NULL \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Int(*at)],
                )
                .await?
            }
            Attempt::Retry { next_at, error } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'pending', next_at = $2, attempts = attempts + 1, last_error = $3 \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Int(*next_at), Arg::Text(error)],
                )
                .await?
            }
            Attempt::Dead { error } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'dead', attempts = attempts + 1, last_error = $2 \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Text(error)],
                )
                .await?
            }
            Attempt::Deferred { next_at } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'pending', next_at = $2 WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Int(*next_at)],
                )
                .await?
            }
        };
        Ok(changed == 1)
    }

    async fn deliveries(
        &mut self,
        state: Option<DeliveryState>,
        limit: i64,
    ) -> Stored<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM delivery_tasks WHERE (state = $1 OR $2 = 0) ORDER BY id DESC LIMIT $3"
        );
        self.fetch_all(
            &sql,
            &[
                Arg::Text(state.map_or("", DeliveryState::as_str)),
                Arg::Int(i64::from(state.is_some())),
                Arg::Int(limit),
            ],
        )
        .await
    }

    async fn retry_delivery(&mut self, id: i64, now: i64) -> Stored<bool> {
        let changed = self
            .execute(
                "UPDATE delivery_tasks SET state = 'pending', next_at = $2, attempts = 0 WHERE id = $1 AND state = 'dead'",
                &[Arg::Int(id), Arg::Int(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn outbox_summary(&mut self) -> Stored<OutboxSummary> {
        let counts: Vec<(String, i64)> = self
            .fetch_all(
                "SELECT state, COUNT(*) FROM delivery_tasks GROUP BY state ORDER BY state",
                &[],
            )
            .await?;
        let states = counts
            .into_iter()
            .map(|(state, n)| Ok((state.parse()?, n)))
            .collect::<Stored<_>>()?;
        let (oldest_undelivered,): (Option<i64>,) = self
            .fetch_optional(
                "SELECT MIN(created_at) FROM delivery_tasks WHERE state IN ('pending', 'sending')",
                &[],
            )
            .await?
            .unwrap_or((None,));
        Ok(OutboxSummary {
            states,
            oldest_undelivered,
        })
    }

    async fn purge_delivered(&mut self, before: i64) -> Stored<u64> {
        self.execute(
            "DELETE FROM delivery_tasks WHERE state = 'delivered' AND delivered_at < $1",
            &[Arg::Int(before)],
        )
        .await
    }
}
