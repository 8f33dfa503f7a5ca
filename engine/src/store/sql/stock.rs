//! Award and SKU stock, in SQL: every take a conditional decrement.

use super::{Arg, SqlTx};
use crate::store::rows::StockRow;
use crate::store::{Stock, Stored};

/// The two stocked tables and the column each counts what went out in.
#[derive(Debug, Clone, Copy)]
enum Table {
    Awards,
    Skus,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Awards => "award_stock",
            Table::Skus => "sku_stock",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Table::Awards => "award_id",
            Table::Skus => "sku_id",
        }
    }

    fn out(self) -> &'static str {
        match self {
            Table::Awards => "issued",
            Table::Skus => "sold",
        }
    }
}

impl SqlTx {
    /// New rows start full; a changed declaration moves what is left by the
    /// change, never below zero.
    async fn declare(
        &mut self,
        table: Table,
        campaign: &str,
        item: &str,
        declared: i64,
    ) -> Stored<()> {
        let (name, id) = (table.name(), table.id());
        let greatest = if self.postgres() { "GREATEST" } else { "MAX" };
        let sql = format!(
            "INSERT INTO {name} (campaign_id, {id}, declared, remaining) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (campaign_id, {id}) DO UPDATE SET \
             remaining = {greatest}(0, {name}.remaining + excluded.declared - {name}.declared), declared = excluded.declared"
        );
        self.execute(
            &sql,
            &[Arg::Text(campaign), Arg::Text(item), Arg::Int(declared)],
        )
        .await?;
        Ok(())
    }

    async fn take(&mut self, table: Table, campaign: &str, item: &str) -> Stored<bool> {
        let (name, id, out) = (table.name(), table.id(), table.out());
        let sql = format!(
            "UPDATE {name} SET remaining = remaining - 1, {out} = {out} + 1 \
             WHERE campaign_id = $1 AND {id} = $2 AND remaining > 0"
        );
        let changed = self
            .execute(&sql, &[Arg::Text(campaign), Arg::Text(item)])
            .await?;
        Ok(changed == 1)
    }
}

impl Stock for SqlTx {
    async fn declare_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        declared: i64,
    ) -> Stored<()> {
        self.declare(Table::Awards, campaign, award, declared).await
    }

    async fn declare_sku_stock(&mut self, campaign: &str, sku: &str, declared: i64) -> Stored<()> {
        self.declare(Table::Skus, campaign, sku, declared).await
    }

    async fn take_award_stock(&mut self, campaign: &str, award: &str) -> Stored<bool> {
        self.take(Table::Awards, campaign, award).await
    }

    async fn return_award_stock(&mut self, campaign: &str, award: &str) -> Stored<()> {
        self.execute(
            "UPDATE award_stock SET remaining = remaining + 1, issued = issued - 1 WHERE campaign_id = $1 AND award_id = $2 AND issued > 0",
            &[Arg::Text(campaign), Arg::Text(award)],
        )
        .await?;
        Ok(())
    }

    async fn award_stock(&mut self, campaign: &str, award: &str) -> Stored<Option<StockRow>> {
        self.fetch_optional(
            "SELECT award_id, declared, remaining, issued FROM award_stock WHERE campaign_id = $1 AND award_id = $2",
            &[Arg::Text(campaign), Arg::Text(award)],
        )
        .await
    }

    async fn award_stocks(&mut self, campaign: &str) -> Stored<Vec<StockRow>> {
        self.fetch_all(
            "SELECT award_id, declared, remaining, issued FROM award_stock WHERE campaign_id = $1 ORDER BY award_id",
            &[Arg::Text(campaign)],
        )
        .await
    }

    async fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> Stored<bool> {
        self.take(Table::Skus, campaign, sku).await
    }
}
