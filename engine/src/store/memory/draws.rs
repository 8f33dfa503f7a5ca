//! Draws and orders, in memory.

use std::collections::BTreeMap;

use super::{DrawRow, MemoryTx, OrderRow, limit};
use crate::store::rows::{DayCount, DrawRecord, HistoryQuery, HistoryRow, OrderRecord};
use crate::store::{Draws, Stored};

impl Draws for MemoryTx {
    async fn record_draw(&mut self, record: &DrawRecord<'_>) -> Stored<()> {
        // The memory store keeps no explanation: `record.explanation` is never named.
        let names = &mut self.state.names;
        let (campaign, user) = (names.intern(record.campaign), names.intern(record.user));
        let (day, award) = (names.intern(record.day), names.intern(record.award));
        let tally = (campaign, day, award);
        let drawn = self.state.draws_by_day.get(&tally).copied().unwrap_or(0) + 1;
        self.put(|s| &mut s.draws_by_day, tally, drawn);
        if !self.state.without_history {
            let row = DrawRow {
                campaign,
                user,
                award,
                request_id: record.request_id.to_string(),
                amount: record.amount.clone(),
                version: record.version,
                at: record.at,
            };
            self.push(|s| &mut s.draws, row);
        }
        Ok(())
    }

    async fn record_order(&mut self, order: &OrderRecord<'_>) -> Stored<bool> {
        // A simulation's request ids never repeat, so there is no id to keep.
        if self.state.without_history {
            return Ok(true);
        }
        let row = OrderRow {
            campaign: order.campaign.to_string(),
            request_id: order.request_id.to_string(),
        };
        if self.state.orders.contains(&row) {
            return Ok(false);
        }
        self.state.orders.insert(row.clone());
        self.on_rollback(move |s| {
            s.orders.remove(&row);
        });
        Ok(true)
    }

    async fn history(&mut self, query: &HistoryQuery<'_>) -> Stored<Vec<HistoryRow>> {
        let before = query.before;
        let Some((campaign, user)) = self.state.names.ids(query.campaign, query.user) else {
            return Ok(Vec::new());
        };
        let names = &self.state.names;
        let mut rows: Vec<HistoryRow> = self
            .state
            .draws
            .iter()
            .filter(|d| d.campaign == campaign && d.user == user)
            .filter(|d| before.is_none_or(|cursor| (d.at, d.request_id.as_str()) < cursor))
            .map(|d| HistoryRow {
                request_id: d.request_id.clone(),
                award: names.text(d.award).to_string(),
                amount: d.amount.clone(),
                version: d.version,
                at: d.at,
            })
            .collect();
        rows.sort_by(|a, b| (b.at, &b.request_id).cmp(&(a.at, &a.request_id)));
        rows.truncate(limit(query.limit));
        Ok(rows)
    }

    async fn draw_counts(&mut self, campaign: &str) -> Stored<Vec<DayCount>> {
        let Some(campaign) = self.state.names.get(campaign) else {
            return Ok(Vec::new());
        };
        let names = &self.state.names;
        let counts: BTreeMap<(&str, &str), i64> = self
            .state
            .draws_by_day
            .iter()
            .filter(|((c, _, _), _)| *c == campaign)
            .map(|((_, day, award), n)| ((names.text(*day), names.text(*award)), *n))
            .collect();
        Ok(counts
            .into_iter()
            .map(|((day, award), draws)| DayCount {
                day: day.to_string(),
                award: award.to_string(),
                draws,
            })
            .collect())
    }

    #[cfg(feature = "test-support")]
    async fn tallies(&mut self, campaign: &str) -> Stored<(i64, i64, i64, i64)> {
        let s = &self.state;
        let count = |n: usize| n as i64;
        let prefix = format!("{campaign}/");
        let campaign_name = s.names.get(campaign);
        Ok((
            count(
                s.draws
                    .iter()
                    .filter(|d| Some(d.campaign) == campaign_name)
                    .count(),
            ),
            count(
                s.ledger
                    .iter()
                    .filter(|e| e.row.reference.starts_with(&prefix))
                    .count(),
            ),
            count(
                s.deliveries
                    .iter()
                    .filter(|d| d.campaign == campaign)
                    .count(),
            ),
            count(s.orders.iter().filter(|o| o.campaign == campaign).count()),
        ))
    }
}
