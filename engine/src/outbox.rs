//! The outbox as the dispatcher and operators see it: leasing due tasks,
//! recording attempts, dead letters and retries; retention; the audit log.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::{Engine, Failure, micros};
use crate::store::prelude::*;
use crate::store::{Attempt, AuditRecord, AuditRow, DeliveryRow, DeliveryState};

/// An outbox task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub award: String,
    /// `pending`, `sending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    /// When it is next due (for `sending`, when its lease ends).
    pub next_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Tasks per state and the age of the oldest undelivered one.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySummary {
    pub states: BTreeMap<String, i64>,
    /// Seconds since the oldest pending task was written; 0 when none waits.
    pub lag_seconds: f64,
}

/// An admin action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn delivery(row: DeliveryRow) -> Delivery {
    Delivery {
        id: row.id,
        campaign: row.campaign,
        request_id: row.request_id,
        user: row.user,
        award: row.award,
        state: row.state.as_str().to_string(),
        attempts: row.attempts,
        next_at: time(row.next_at),
        created_at: time(row.created_at),
        last_error: row.last_error,
        delivered_at: row.delivered_at.map(time),
    }
}

fn after(now: DateTime<Utc>, delay: Duration) -> i64 {
    micros(now).saturating_add(i64::try_from(delay.as_micros()).unwrap_or(i64::MAX))
}

impl Engine {
    /// Leases up to `limit` due tasks for `lease`: no other dispatcher takes them
    /// meanwhile, and if this one dies they are due again when the lease ends.
    pub async fn lease_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Delivery>, Failure> {
        let mut tx = self.store().begin().await?;
        let rows = tx
            .lease_deliveries(micros(now), after(now, lease), limit)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    /// Records a leased task's attempt: delivered, due again after `retry_in`, or dead.
    pub async fn finish_delivery(&self, id: i64, attempt: Attempt) -> Result<bool, Failure> {
        let mut tx = self.store().begin().await?;
        let finished = tx.finish_delivery(id, &attempt).await?;
        tx.commit().await?;
        Ok(finished)
    }

    /// When a task that failed now is due again.
    pub fn retry_at(now: DateTime<Utc>, delay: Duration) -> i64 {
        after(now, delay)
    }

    /// Tasks, newest first, optionally in one state.
    pub async fn deliveries(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Delivery>, Failure> {
        let state = state
            .map(|s| {
                s.parse::<DeliveryState>().map_err(|_| {
                    Failure::BadInput(format!(
                        "`{s}` is not a delivery state: pending, sending, delivered or dead"
                    ))
                })
            })
            .transpose()?;
        let mut tx = self.store().read().await?;
        let rows = tx.deliveries(state, i64::from(limit.clamp(1, 500))).await?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    /// Puts a dead task back in line now; false if `id` is not a dead task.
    pub async fn retry_delivery(&self, id: i64, now: DateTime<Utc>) -> Result<bool, Failure> {
        let mut tx = self.store().begin().await?;
        let retried = tx.retry_delivery(id, micros(now)).await?;
        tx.commit().await?;
        Ok(retried)
    }

    pub async fn delivery_summary(&self, now: DateTime<Utc>) -> Result<DeliverySummary, Failure> {
        let mut tx = self.store().read().await?;
        let summary = tx.outbox_summary().await?;
        Ok(DeliverySummary {
            states: summary
                .states
                .into_iter()
                .map(|(state, n)| (state.as_str().to_string(), n))
                .collect(),
            lag_seconds: summary
                .oldest_undelivered
                .map(|at| (micros(now) - at).max(0) as f64 / 1e6)
                .unwrap_or(0.0),
        })
    }

    /// Deletes idempotency records and delivered tasks older than `before`: (records, tasks).
    /// A request id older than that can be used again.
    pub async fn purge(&self, before: DateTime<Utc>) -> Result<(u64, u64), Failure> {
        let mut tx = self.store().begin().await?;
        let records = tx.purge_requests(micros(before)).await?;
        let tasks = tx.purge_delivered(micros(before)).await?;
        tx.commit().await?;
        Ok((records, tasks))
    }

    /// Logs an admin action.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let mut tx = self.store().begin().await?;
        tx.audit(&AuditRecord {
            at: micros(now),
            actor,
            action,
            target,
            detail,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Admin actions, newest first, with ids below `before`.
    pub async fn audit_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, Failure> {
        let mut tx = self.store().read().await?;
        let rows = tx.audit_log(before, i64::from(limit.clamp(1, 500))).await?;
        Ok(rows
            .into_iter()
            .map(|r: AuditRow| AuditEntry {
                id: r.id,
                at: time(r.at),
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: r.detail,
            })
            .collect())
    }
}
