//! Behaviour events and rebate claims, in memory.

use super::{EventRow, MemoryTx, RebateKey};
use crate::store::rows::{EventRecord, Period};
use crate::store::{Rebates, StoreError};

impl Rebates for MemoryTx {
    async fn record_event(&mut self, e: &EventRecord<'_>) -> Result<(), StoreError> {
        let row = EventRow {
            campaign: e.campaign.to_string(),
            user: e.user.to_string(),
            event: e.event.to_string(),
            day: e.day.to_string(),
            week: e.week.to_string(),
            month: e.month.to_string(),
        };
        self.push(|s| &mut s.events, row);
        Ok(())
    }

    async fn event_done(
        &mut self,
        campaign: &str,
        user: &str,
        event: &str,
        period: Period,
        key: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.state.events.iter().any(|e| {
            e.campaign == campaign
                && e.user == user
                && e.event == event
                && match period {
                    Period::Day => e.day == key,
                    Period::Week => e.week == key,
                    Period::Month => e.month == key,
                    Period::Ever => true,
                }
        }))
    }

    async fn claim_rebate(
        &mut self,
        campaign: &str,
        rebate: &str,
        user: &str,
        period_key: &str,
        _request_id: &str,
        _at: i64,
    ) -> Result<bool, StoreError> {
        let key = RebateKey {
            campaign: campaign.to_string(),
            rebate: rebate.to_string(),
            user: user.to_string(),
            period: period_key.to_string(),
        };
        if !self.state.rebate_claims.insert(key.clone()) {
            return Ok(false);
        }
        self.on_rollback(move |s| {
            s.rebate_claims.remove(&key);
        });
        Ok(true)
    }
}
