//! Award and SKU stock, in memory.

use foldhash::HashMap;

use super::{Ids, Level, MemoryTx, State};
use crate::store::rows::{Slice, StockRow, left_after_redeclaring};
use crate::store::{Stock, Stored};

type Table = fn(&mut State) -> &mut HashMap<Ids, Level>;

const AWARDS: Table = |s| &mut s.award_stock;
const SKUS: Table = |s| &mut s.sku_stock;

impl MemoryTx {
    /// New stock starts full; declared stock that changes moves what is left as
    /// [`left_after_redeclaring`] says.
    fn declare(&mut self, table: Table, campaign: &str, item: &str, declared: i64) {
        let names = &mut self.state.names;
        let key = (names.intern(campaign), names.intern(item));
        let level = match table(&mut self.state).get(&key) {
            None => Level {
                declared,
                remaining: declared,
                issued: 0,
            },
            Some(s) => Level {
                declared,
                remaining: left_after_redeclaring(s.remaining, s.declared, declared, s.issued),
                issued: s.issued,
            },
        };
        self.put(table, key, level);
    }

    /// Moves one unit from remaining to issued (`by` 1) or back (`by` -1),
    /// if there is one to move.
    fn take(&mut self, table: Table, campaign: &str, item: &str, by: i64) -> bool {
        let Some(key) = self.state.names.ids(campaign, item) else {
            return false;
        };
        let Some(level) = table(&mut self.state).get(&key).copied() else {
            return false;
        };
        if (by > 0 && level.remaining == 0) || (by < 0 && level.issued == 0) {
            return false;
        }
        let level = Level {
            remaining: level.remaining - by,
            issued: level.issued + by,
            ..level
        };
        self.put(table, key, level);
        true
    }
}

impl Stock for MemoryTx {
    async fn declare_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        declared: i64,
    ) -> Stored<()> {
        self.declare(AWARDS, campaign, award, declared);
        Ok(())
    }

    async fn declare_sku_stock(&mut self, campaign: &str, sku: &str, declared: i64) -> Stored<()> {
        self.declare(SKUS, campaign, sku, declared);
        Ok(())
    }

    /// One slice: nothing here waits on a row lock.
    async fn take_award_stock(&mut self, campaign: &str, award: &str) -> Stored<Option<Slice>> {
        Ok(self.take(AWARDS, campaign, award, 1).then_some(Slice(0)))
    }

    async fn return_award_stock(&mut self, campaign: &str, award: &str, _: Slice) -> Stored<()> {
        self.take(AWARDS, campaign, award, -1);
        Ok(())
    }

    async fn award_stock(&mut self, campaign: &str, award: &str) -> Stored<Option<StockRow>> {
        Ok(self
            .state
            .names
            .ids(campaign, award)
            .and_then(|key| self.state.award_stock.get(&key))
            .map(|s| stock_row(award, s)))
    }

    async fn award_stocks(&mut self, campaign: &str) -> Stored<Vec<StockRow>> {
        let Some(campaign) = self.state.names.get(campaign) else {
            return Ok(Vec::new());
        };
        let names = &self.state.names;
        let mut rows: Vec<StockRow> = self
            .state
            .award_stock
            .iter()
            .filter(|((c, _), _)| *c == campaign)
            .map(|((_, award), s)| stock_row(names.text(*award), s))
            .collect();
        rows.sort_by(|a, b| a.award.cmp(&b.award));
        Ok(rows)
    }

    async fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> Stored<bool> {
        Ok(self.take(SKUS, campaign, sku, 1))
    }
}

fn stock_row(award: &str, level: &Level) -> StockRow {
    StockRow {
        award: award.to_string(),
        declared: level.declared,
        remaining: level.remaining,
        issued: level.issued,
    }
}
