//! The outbox of deliveries, in memory.

use std::collections::BTreeMap;

use super::{MemoryTx, State, limit};
use crate::store::rows::{Attempt, DeliveryRow, DeliveryState, NewDelivery, OutboxSummary};
use crate::store::{Outbox, Stored};

const TASKS: fn(&mut State) -> &mut Vec<DeliveryRow> = |s| &mut s.deliveries;

impl MemoryTx {
    /// The index of task `id` if it is in `state`.
    fn task_in(&self, id: i64, state: DeliveryState) -> Option<usize> {
        self.state
            .deliveries
            .iter()
            .position(|d| d.id == id && d.state == state)
    }
}

impl Outbox for MemoryTx {
    async fn enqueue_delivery(&mut self, task: &NewDelivery<'_>) -> Stored<()> {
        if self.state.without_history {
            return Ok(());
        }
        let task = DeliveryRow {
            id: self.state.deliveries.len() as i64 + 1,
            campaign: task.campaign.to_string(),
            request_id: task.request_id.to_string(),
            user: task.user.to_string(),
            award: task.award.to_string(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_at: task.at,
            created_at: task.at,
            last_error: None,
            delivered_at: None,
        };
        self.push(TASKS, task);
        Ok(())
    }

    async fn lease_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        most: i64,
    ) -> Stored<Vec<DeliveryRow>> {
        let tasks = &self.state.deliveries;
        let mut due: Vec<usize> = (0..tasks.len())
            .filter(|&ix| tasks[ix].state.undelivered() && tasks[ix].next_at <= now)
            .collect();
        due.sort_by_key(|&ix| (tasks[ix].next_at, ix));
        due.truncate(limit(most));
        let mut leased = Vec::with_capacity(due.len());
        for ix in due {
            self.change(TASKS, ix, |d| {
                d.state = DeliveryState::Sending;
                d.next_at = lease_until;
            });
            leased.push(self.state.deliveries[ix].clone());
        }
        Ok(leased)
    }

    async fn finish_delivery(&mut self, id: i64, attempt: &Attempt) -> Stored<bool> {
        let Some(ix) = self.task_in(id, DeliveryState::Sending) else {
            return Ok(false);
        };
        self.change(TASKS, ix, |d| {
            if !matches!(attempt, Attempt::Deferred { .. }) {
                d.attempts += 1;
            }
            match attempt {
                Attempt::Delivered { at } => {
                    d.state = DeliveryState::Delivered;
                    d.delivered_at = Some(*at);
                    d.last_error = None;
                }
                Attempt::Retry { next_at, error } => {
                    d.state = DeliveryState::Pending;
                    d.next_at = *next_at;
                    d.last_error = Some(error.clone());
                }
                Attempt::Dead { error } => {
                    d.state = DeliveryState::Dead;
                    d.last_error = Some(error.clone());
                }
                Attempt::Deferred { next_at } => {
                    d.state = DeliveryState::Pending;
                    d.next_at = *next_at;
                }
            }
        });
        Ok(true)
    }

    async fn deliveries(
        &mut self,
        state: Option<DeliveryState>,
        most: i64,
    ) -> Stored<Vec<DeliveryRow>> {
        Ok(self
            .state
            .deliveries
            .iter()
            .rev()
            .filter(|d| state.is_none_or(|s| d.state == s))
            .take(limit(most))
            .cloned()
            .collect())
    }

    async fn retry_delivery(&mut self, id: i64, now: i64) -> Stored<bool> {
        let Some(ix) = self.task_in(id, DeliveryState::Dead) else {
            return Ok(false);
        };
        self.change(TASKS, ix, |d| {
            d.state = DeliveryState::Pending;
            d.next_at = now;
            d.attempts = 0;
        });
        Ok(true)
    }

    async fn outbox_summary(&mut self) -> Stored<OutboxSummary> {
        let mut states = BTreeMap::<DeliveryState, i64>::new();
        for d in &self.state.deliveries {
            *states.entry(d.state).or_default() += 1;
        }
        let oldest_undelivered = self
            .state
            .deliveries
            .iter()
            .filter(|d| d.state.undelivered())
            .map(|d| d.created_at)
            .min();
        Ok(OutboxSummary {
            states: states.into_iter().collect(),
            oldest_undelivered,
        })
    }

    async fn purge_delivered(&mut self, before: i64) -> Stored<u64> {
        let all = self.state.deliveries.clone();
        self.state.deliveries.retain(|d| {
            !(d.state == DeliveryState::Delivered && d.delivered_at.is_some_and(|at| at < before))
        });
        let removed = (all.len() - self.state.deliveries.len()) as u64;
        self.on_rollback(move |s| s.deliveries = all);
        Ok(removed)
    }
}
