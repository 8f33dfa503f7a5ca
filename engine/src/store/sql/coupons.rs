//! Coupon code pools, in SQL.

use super::{Arg, SqlTx};
use crate::store::{Coupons, Stored};

impl Coupons for SqlTx {
    async fn add_coupon_codes(
        &mut self,
        campaign: &str,
        award: &str,
        codes: &[String],
    ) -> Stored<u64> {
        let mut added = 0;
        for code in codes {
            added += self
                .execute(
                    "INSERT INTO coupon_codes (campaign_id, award_id, code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[Arg::Text(campaign), Arg::Text(award), Arg::Text(code)],
                )
                .await?;
        }
        // The pool's codes are its stock.
        let added_stock = i64::try_from(added).unwrap_or(i64::MAX);
        self.redeclare_award(campaign, award, |before| {
            before.unwrap_or(0).saturating_add(added_stock)
        })
        .await?;
        Ok(added)
    }

    async fn take_coupon_code(
        &mut self,
        campaign: &str,
        award: &str,
        request_id: &str,
        at: i64,
    ) -> Stored<Option<String>> {
        // Concurrent draws on PostgreSQL each skip the codes the others are taking.
        let sql = format!(
            "UPDATE coupon_codes SET request_id = $3, issued_at = $4 WHERE campaign_id = $1 AND award_id = $2 AND code = \
             (SELECT code FROM coupon_codes WHERE campaign_id = $1 AND award_id = $2 AND request_id IS NULL \
             ORDER BY code LIMIT 1{}) RETURNING code",
            self.skip_locked()
        );
        let row: Option<(String,)> = self
            .fetch_optional(
                &sql,
                &[
                    Arg::Text(campaign),
                    Arg::Text(award),
                    Arg::Text(request_id),
                    Arg::Int(at),
                ],
            )
            .await?;
        Ok(row.map(|(code,)| code))
    }

    async fn issued_code(&mut self, campaign: &str, request_id: &str) -> Stored<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT code FROM coupon_codes WHERE campaign_id = $1 AND request_id = $2",
                &[Arg::Text(campaign), Arg::Text(request_id)],
            )
            .await?;
        Ok(row.map(|(code,)| code))
    }
}
