//! Award and SKU stock, in SQL: every take a conditional decrement. An award's
//! stock is spread over slices (rows of `award_stock_slices`) so that draws of
//! one popular award on PostgreSQL do not all queue on one row lock; a SKU's is
//! one row.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use super::{Arg, SqlTx};
use crate::store::rows::{Slice, StockRow, left_after_redeclaring};
use crate::store::{Stock, Stored};

/// Slices an award's stock is spread over on PostgreSQL: about as many as the
/// draws one server runs at once (its pool holds 32 connections).
const POSTGRES_SLICES: i64 = 32;

/// How long a take looks again for a free slice before it waits on a held one.
const PATIENCE: Duration = Duration::from_millis(500);

/// Where the next take starts looking, so concurrent takes start on different
/// slices; any start is correct, this only spreads them.
static NEXT_START: AtomicI64 = AtomicI64::new(0);

/// A take of one unit from the first slice with stock, in `$order`, locked with
/// `$lock`: the slice it came from, or no row.
macro_rules! take_unit {
    ($order:literal, $lock:literal) => {
        concat!(
            "UPDATE award_stock_slices SET remaining = remaining - 1, issued = issued + 1 \
             WHERE campaign_id = $1 AND award_id = $2 AND remaining > 0 AND slice = \
             (SELECT slice FROM award_stock_slices WHERE campaign_id = $1 AND award_id = $2 \
             AND remaining > 0 ORDER BY ",
            $order,
            " LIMIT 1",
            $lock,
            ") RETURNING slice"
        )
    };
}

/// An award's stock as the declaration and its slices' totals.
const STOCK_ROWS: &str = "SELECT s.award_id, s.declared, \
     CAST(COALESCE(SUM(l.remaining), 0) AS BIGINT) AS remaining, \
     CAST(COALESCE(SUM(l.issued), 0) AS BIGINT) AS issued \
     FROM award_stock s LEFT JOIN award_stock_slices l \
     ON l.campaign_id = s.campaign_id AND l.award_id = s.award_id";

impl SqlTx {
    /// Slices for an award's stock: one on SQLite, whose one writer makes every
    /// take exclusive anyway; on PostgreSQL one per unit left, up to
    /// [`POSTGRES_SLICES`] (the PostgreSQL migration that brought slices in
    /// spreads old stock over as many).
    fn slices_for(&self, remaining: i64) -> i64 {
        if self.postgres() {
            remaining.clamp(1, POSTGRES_SLICES)
        } else {
            1
        }
    }

    /// Sets an award's declared stock to what `declared` makes of the declaration
    /// before (`None` for a new award); what is left moves as
    /// [`left_after_redeclaring`] says and is spread evenly over the slices.
    /// Slices are rewritten in place and only ever added, never deleted, so a
    /// draw that looked at them before finds them again, with their new stock.
    pub(super) async fn redeclare_award(
        &mut self,
        campaign: &str,
        award: &str,
        declared: impl FnOnce(Option<i64>) -> i64,
    ) -> Stored<()> {
        let keys = [Arg::Text(campaign), Arg::Text(award)];
        let before: Option<(i64,)> = self
            .fetch_optional(
                &format!(
                    "SELECT declared FROM award_stock WHERE campaign_id = $1 AND award_id = $2{}",
                    self.for_update()
                ),
                &keys,
            )
            .await?;
        let before = before.map(|(declared,)| declared);
        let declared = declared(before);
        // Every slice locked, so no draw takes from one while they are rewritten
        // (draws never wait on a slice's lock, so this cannot wait in a circle).
        let slices: Vec<(i64, i64)> = self
            .fetch_all(
                &format!(
                    "SELECT remaining, issued FROM award_stock_slices \
                     WHERE campaign_id = $1 AND award_id = $2 ORDER BY slice{}",
                    self.for_update()
                ),
                &keys,
            )
            .await?;
        let left: i64 = slices.iter().map(|s| s.0).sum();
        let issued: i64 = slices.iter().map(|s| s.1).sum();
        let remaining = match before {
            None => declared.max(0),
            Some(before) => left_after_redeclaring(left, before, declared, issued),
        };
        let have = i64::try_from(slices.len()).unwrap_or(i64::MAX);
        let count = have.max(self.slices_for(remaining));
        if before == Some(declared) && remaining == left && count == have {
            return Ok(());
        }
        self.execute(
            "INSERT INTO award_stock (campaign_id, award_id, declared) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, award_id) DO UPDATE SET declared = excluded.declared",
            &[Arg::Text(campaign), Arg::Text(award), Arg::Int(declared)],
        )
        .await?;
        for slice in 0..count {
            let share = remaining / count + i64::from(slice < remaining % count);
            let sql = if slice < have {
                "UPDATE award_stock_slices SET remaining = $4 \
                 WHERE campaign_id = $1 AND award_id = $2 AND slice = $3"
            } else {
                "INSERT INTO award_stock_slices (campaign_id, award_id, slice, remaining) \
                 VALUES ($1, $2, $3, $4)"
            };
            self.execute(sql, &[keys[0], keys[1], Arg::Int(slice), Arg::Int(share)])
                .await?;
        }
        Ok(())
    }

    /// ` FOR UPDATE` on PostgreSQL; nothing on SQLite, whose writer holds the lock.
    fn for_update(&self) -> &'static str {
        if self.postgres() { " FOR UPDATE" } else { "" }
    }

    /// Takes a unit from one slice with stock left that no other draw holds,
    /// starting each take on another slice so concurrent draws each take their
    /// own. When every slice with stock is held, it waits a moment and looks
    /// again, rather than waiting on a row lock: a take can keep the lock of a
    /// slice it found emptied, so takes that waited on locks could wait on one
    /// another in a circle (PostgreSQL would then abort one as a deadlock).
    /// After [`PATIENCE`] of that (a deploy rewriting the slices may be waiting
    /// on such a lock of this draw's) it waits on the locks after all, in slice
    /// order, and PostgreSQL settles any circle. `None` only when no slice has
    /// stock left, as the latest commits say.
    async fn take_award_unit(&mut self, campaign: &str, award: &str) -> Stored<Option<Slice>> {
        let keys = [Arg::Text(campaign), Arg::Text(award)];
        if !self.postgres() {
            let taken: Option<(i64,)> = self.fetch_optional(take_unit!("slice", ""), &keys).await?;
            return Ok(taken.map(|(slice,)| Slice(slice)));
        }
        let mut pause = Duration::from_micros(200);
        let since = Instant::now();
        loop {
            let start = NEXT_START.fetch_add(1, Ordering::Relaxed) % POSTGRES_SLICES;
            let taken: Option<(i64,)> = self
                .fetch_optional(
                    // 32: POSTGRES_SLICES, written out for `concat!`.
                    take_unit!("(slice + $3) % 32", " FOR UPDATE SKIP LOCKED"),
                    &[keys[0], keys[1], Arg::Int(start)],
                )
                .await?;
            if let Some((slice,)) = taken {
                return Ok(Some(Slice(slice)));
            }
            let left: Option<(i64,)> = self
                .fetch_optional(
                    "SELECT slice FROM award_stock_slices \
                     WHERE campaign_id = $1 AND award_id = $2 AND remaining > 0 LIMIT 1",
                    &keys,
                )
                .await?;
            if left.is_none() {
                return Ok(None);
            }
            if since.elapsed() > PATIENCE {
                let taken: Option<(i64,)> = self
                    .fetch_optional(take_unit!("slice", " FOR UPDATE"), &keys)
                    .await?;
                return Ok(taken.map(|(slice,)| Slice(slice)));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }
}

impl Stock for SqlTx {
    async fn declare_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        declared: i64,
    ) -> Stored<()> {
        self.redeclare_award(campaign, award, |_| declared).await
    }

    /// New rows start full; a changed declaration moves what is left as
    /// [`left_after_redeclaring`] says.
    async fn declare_sku_stock(&mut self, campaign: &str, sku: &str, declared: i64) -> Stored<()> {
        let (greatest, least) = if self.postgres() {
            ("GREATEST", "LEAST")
        } else {
            ("MAX", "MIN")
        };
        self.execute(
            &format!(
                "INSERT INTO sku_stock (campaign_id, sku_id, declared, remaining) VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (campaign_id, sku_id) DO UPDATE SET \
                 remaining = {greatest}(0, {least}(sku_stock.remaining + excluded.declared - sku_stock.declared, \
                 excluded.declared - sku_stock.sold)), declared = excluded.declared"
            ),
            &[Arg::Text(campaign), Arg::Text(sku), Arg::Int(declared)],
        )
        .await?;
        Ok(())
    }

    async fn take_award_stock(&mut self, campaign: &str, award: &str) -> Stored<Option<Slice>> {
        self.take_award_unit(campaign, award).await
    }

    async fn return_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        slice: Slice,
    ) -> Stored<()> {
        self.execute(
            "UPDATE award_stock_slices SET remaining = remaining + 1, issued = issued - 1 \
             WHERE campaign_id = $1 AND award_id = $2 AND slice = $3 AND issued > 0",
            &[Arg::Text(campaign), Arg::Text(award), Arg::Int(slice.0)],
        )
        .await?;
        Ok(())
    }

    async fn award_stock(&mut self, campaign: &str, award: &str) -> Stored<Option<StockRow>> {
        self.fetch_optional(
            &format!(
                "{STOCK_ROWS} WHERE s.campaign_id = $1 AND s.award_id = $2 GROUP BY s.award_id, s.declared"
            ),
            &[Arg::Text(campaign), Arg::Text(award)],
        )
        .await
    }

    async fn award_stocks(&mut self, campaign: &str) -> Stored<Vec<StockRow>> {
        self.fetch_all(
            &format!(
                "{STOCK_ROWS} WHERE s.campaign_id = $1 GROUP BY s.award_id, s.declared ORDER BY s.award_id"
            ),
            &[Arg::Text(campaign)],
        )
        .await
    }

    async fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> Stored<bool> {
        let changed = self
            .execute(
                "UPDATE sku_stock SET remaining = remaining - 1, sold = sold + 1 \
                 WHERE campaign_id = $1 AND sku_id = $2 AND remaining > 0",
                &[Arg::Text(campaign), Arg::Text(sku)],
            )
            .await?;
        Ok(changed == 1)
    }
}
