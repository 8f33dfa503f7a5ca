//! Behaviour events and rebate claims, in memory.

use super::{EventDone, MemoryTx};
use crate::store::rows::{EventQuery, EventRecord, Period, RebateClaim};
use crate::store::{Rebates, Stored};

/// The key `Ever` is done under: it has no period of its own.
const EVER: &str = "";

impl Rebates for MemoryTx {
    async fn record_event(&mut self, e: &EventRecord<'_>) -> Stored<()> {
        let names = &mut self.state.names;
        let (campaign, user, event) = (
            names.intern(e.campaign),
            names.intern(e.user),
            names.intern(e.event),
        );
        let done: [EventDone; 4] = [
            (Period::Day, e.day),
            (Period::Week, e.week),
            (Period::Month, e.month),
            (Period::Ever, EVER),
        ]
        .map(|(period, key)| (campaign, user, event, period, names.intern(key)));
        for fact in done {
            if self.state.events.insert(fact) {
                self.on_rollback(move |s| {
                    s.events.remove(&fact);
                });
            }
        }
        Ok(())
    }

    async fn event_done(&mut self, q: &EventQuery<'_>) -> Stored<bool> {
        let names = &self.state.names;
        let key = if q.period == Period::Ever {
            EVER
        } else {
            q.key
        };
        let fact = (|| {
            Some((
                names.get(q.campaign)?,
                names.get(q.user)?,
                names.get(q.event)?,
                q.period,
                names.get(key)?,
            ))
        })();
        Ok(fact.is_some_and(|fact| self.state.events.contains(&fact)))
    }

    async fn claim_rebate(&mut self, claim: &RebateClaim<'_>) -> Stored<bool> {
        let names = &mut self.state.names;
        let key = (
            names.intern(claim.campaign),
            names.intern(claim.rebate),
            names.intern(claim.user),
            names.intern(claim.period_key),
        );
        if !self.state.rebate_claims.insert(key) {
            return Ok(false);
        }
        self.on_rollback(move |s| {
            s.rebate_claims.remove(&key);
        });
        Ok(true)
    }
}
