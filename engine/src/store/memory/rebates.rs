//! Behaviour events and rebate claims, in memory.

use super::{EventRow, MemoryTx, RebateKey};
use crate::store::rows::{EventQuery, EventRecord, Period, RebateClaim};
use crate::store::{Rebates, Stored};

impl Rebates for MemoryTx {
    async fn record_event(&mut self, e: &EventRecord<'_>) -> Stored<()> {
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

    async fn event_done(&mut self, q: &EventQuery<'_>) -> Stored<bool> {
        Ok(self.state.events.iter().any(|e| {
            e.campaign == q.campaign
                && e.user == q.user
                && e.event == q.event
                && match q.period {
                    Period::Day => e.day == q.key,
                    Period::Week => e.week == q.key,
                    Period::Month => e.month == q.key,
                    Period::Ever => true,
                }
        }))
    }

    async fn claim_rebate(&mut self, claim: &RebateClaim<'_>) -> Stored<bool> {
        let key = RebateKey {
            campaign: claim.campaign.to_string(),
            rebate: claim.rebate.to_string(),
            user: claim.user.to_string(),
            period: claim.period_key.to_string(),
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
