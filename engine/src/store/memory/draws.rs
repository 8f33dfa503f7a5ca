//! Draws and orders, in memory.

use std::collections::BTreeMap;

use super::{DrawRow, MemoryTx, OrderRow, limit};
use crate::store::rows::{DayCount, DrawRecord, HistoryQuery, HistoryRow, OrderRecord};
use crate::store::{Draws, Stored};

impl Draws for MemoryTx {
    async fn record_draw(&mut self, record: &DrawRecord<'_>) -> Stored<()> {
        let row = DrawRow {
            campaign: record.campaign.to_string(),
            user: record.user.to_string(),
            day: record.day.to_string(),
            row: HistoryRow {
                request_id: record.request_id.to_string(),
                award: record.award.to_string(),
                amount: record.amount.clone(),
                version: record.version,
                at: record.at,
            },
        };
        self.push(|s| &mut s.draws, row);
        Ok(())
    }

    async fn record_order(&mut self, order: &OrderRecord<'_>) -> Stored<bool> {
        let taken = self
            .state
            .orders
            .iter()
            .any(|o| o.campaign == order.campaign && o.request_id == order.request_id);
        if taken {
            return Ok(false);
        }
        let row = OrderRow {
            campaign: order.campaign.to_string(),
            request_id: order.request_id.to_string(),
        };
        self.push(|s| &mut s.orders, row);
        Ok(true)
    }

    async fn history(&mut self, query: &HistoryQuery<'_>) -> Stored<Vec<HistoryRow>> {
        let (campaign, user, before) = (query.campaign, query.user, query.before);
        let mut rows: Vec<HistoryRow> = self
            .state
            .draws
            .iter()
            .filter(|d| d.campaign == campaign && d.user == user)
            .filter(|d| before.is_none_or(|cursor| (d.row.at, d.row.request_id.as_str()) < cursor))
            .map(|d| d.row.clone())
            .collect();
        rows.sort_by(|a, b| (b.at, &b.request_id).cmp(&(a.at, &a.request_id)));
        rows.truncate(limit(query.limit));
        Ok(rows)
    }

    async fn draw_counts(&mut self, campaign: &str) -> Stored<Vec<DayCount>> {
        let mut counts = BTreeMap::<(&str, &str), i64>::new();
        for d in self.state.draws.iter().filter(|d| d.campaign == campaign) {
            *counts.entry((&d.day, &d.row.award)).or_default() += 1;
        }
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
        Ok((
            count(s.draws.iter().filter(|d| d.campaign == campaign).count()),
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
