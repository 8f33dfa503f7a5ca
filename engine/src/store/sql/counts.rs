//! Users' draw counts, in SQL: one row per user and campaign, debited by one
//! conditional upsert.

use super::{Arg, SqlTx};
use crate::counts::{Limits, Refusal, UserCounts};
use crate::period::Periods;
use crate::store::{Counts, Stored};
use tombola_ir::Allowance;

/// What a debit does to a user's row that exists, and what it answers: `$1`
/// campaign, `$2` user, `$3` and `$4` the day's and month's keys, `$5` the
/// campaign's allowance and `$9` the daily one (one of them null),
/// `$6`–`$8` the caps (total, per day, per month; null if none). A draw past
/// the free ones uses a granted draw, as [`UserCounts::with_draw`] says.
/// Both debits — alone, and with a request's claim — end with it.
macro_rules! debit_existing {
    () => {
        "ON CONFLICT (campaign_id, user_id) DO UPDATE SET made = user_counters.made + 1, \
         day_count = CASE WHEN user_counters.day_key = $3 THEN user_counters.day_count + 1 ELSE 1 END, day_key = $3, \
         month_count = CASE WHEN user_counters.month_key = $4 THEN user_counters.month_count + 1 ELSE 1 END, month_key = $4, \
         granted_used = user_counters.granted_used + CASE \
         WHEN $9 IS NULL THEN CASE WHEN user_counters.made - user_counters.granted_used >= $5 THEN 1 ELSE 0 END \
         WHEN user_counters.day_key = $3 AND user_counters.day_count >= $9 THEN 1 ELSE 0 END \
         WHERE (CASE WHEN $9 IS NULL THEN user_counters.made - user_counters.granted_used < $5 \
         ELSE user_counters.day_key <> $3 OR user_counters.day_count < $9 \
         END OR user_counters.granted_used < user_counters.granted) \
         AND ($6 IS NULL OR user_counters.made < $6) \
         AND ($7 IS NULL OR user_counters.day_key <> $3 OR user_counters.day_count < $7) \
         AND ($8 IS NULL OR user_counters.month_key <> $4 OR user_counters.month_count < $8) \
         RETURNING made AS total, month_count AS month, day_count AS today, granted, granted_used"
    };
}
pub(super) use debit_existing;

/// A user's counts as they stand on the day `$3` and in the month `$4`.
macro_rules! standing {
    () => {
        "made AS total, granted, granted_used, \
         CASE WHEN day_key = $3 THEN day_count ELSE 0 END AS today, \
         CASE WHEN month_key = $4 THEN month_count ELSE 0 END AS month"
    };
}

/// The arguments of [`debit_existing`], in its order.
pub(super) fn debit_args<'a>(
    campaign: &'a str,
    user: &'a str,
    limits: &Limits,
    periods: &'a Periods,
) -> [Arg<'a>; 9] {
    let (campaign_free, daily_free) = match limits.allowance {
        Allowance::Campaign(free) => (Some(i64::from(free)), None),
        Allowance::Daily { per_day } => (None, Some(i64::from(per_day))),
    };
    [
        Arg::Text(campaign),
        Arg::Text(user),
        Arg::Text(&periods.day),
        Arg::Text(&periods.month),
        Arg::opt_int(campaign_free),
        Arg::opt_int(limits.total),
        Arg::opt_int(limits.per_day),
        Arg::opt_int(limits.per_month),
        Arg::opt_int(daily_free),
    ]
}

impl Counts for SqlTx {
    async fn debit_draw(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        periods: &Periods,
    ) -> Stored<Result<UserCounts, Refusal>> {
        // On PostgreSQL the request's claim may have debited this draw already.
        let ahead = match self {
            SqlTx::Postgres(tx) => tx.take_debit(campaign, user, limits, periods)?,
            _ => None,
        };
        let debited = match ahead {
            Some(debited) => debited,
            None => self.debit(campaign, user, limits, periods).await?,
        };
        match debited {
            Some(counts) => Ok(Ok(counts)),
            None => {
                let counts = self.counts(campaign, user, periods).await?;
                Ok(Err(counts.refusal(limits).unwrap_or(Refusal::NoDrawsLeft)))
            }
        }
    }

    async fn counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        self.standing(
            concat!(
                "SELECT ",
                standing!(),
                " FROM user_counters WHERE campaign_id = $1 AND user_id = $2"
            ),
            campaign,
            user,
            periods,
        )
        .await
    }

    async fn held_counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        // A no-op update holds the row as a draw's debit does; a new one holds zeros.
        self.standing(
            concat!(
                "INSERT INTO user_counters (campaign_id, user_id) VALUES ($1, $2) \
                 ON CONFLICT (campaign_id, user_id) DO UPDATE SET made = user_counters.made RETURNING ",
                standing!()
            ),
            campaign,
            user,
            periods,
        )
        .await
    }

    async fn set_counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
        counts: &UserCounts,
    ) -> Stored<()> {
        self.execute(
            "INSERT INTO user_counters (campaign_id, user_id, made, granted, day_key, day_count, month_key, month_count, granted_used) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET made = excluded.made, granted = excluded.granted, \
             granted_used = excluded.granted_used, \
             day_key = excluded.day_key, day_count = excluded.day_count, \
             month_key = excluded.month_key, month_count = excluded.month_count",
            &[
                Arg::Text(campaign),
                Arg::Text(user),
                Arg::Int(counts.total),
                Arg::Int(counts.granted),
                Arg::Text(&periods.day),
                Arg::Int(counts.today),
                Arg::Text(&periods.month),
                Arg::Int(counts.month),
                Arg::Int(counts.granted_used),
            ],
        )
        .await?;
        Ok(())
    }

    async fn grant_draws(&mut self, campaign: &str, user: &str, draws: i64) -> Stored<()> {
        self.defer(
            "user_counters",
            "INSERT INTO user_counters (campaign_id, user_id, granted) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET granted = user_counters.granted + excluded.granted",
            &[Arg::Text(campaign), Arg::Text(user), Arg::Int(draws)],
        )
        .await
    }

    async fn counts_to_settle(&mut self) -> Stored<Vec<String>> {
        let rows: Vec<(String,)> = self
            .fetch_all(
                "SELECT campaign_id FROM counts_to_settle ORDER BY campaign_id",
                &[],
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn settle_counts(&mut self, campaign: &str, free: Option<i64>) -> Stored<()> {
        if let Some(free) = free {
            // UserCounts::settled in SQL: granted_used = max(granted_used,
            // min(granted, made - free)), as what was kept since 0007 is right.
            self.execute(
                "UPDATE user_counters SET granted_used = CASE \
                 WHEN (CASE WHEN granted < made - $2 THEN granted ELSE made - $2 END) > granted_used \
                 THEN (CASE WHEN granted < made - $2 THEN granted ELSE made - $2 END) \
                 ELSE granted_used END WHERE campaign_id = $1",
                &[Arg::Text(campaign), Arg::Int(free)],
            )
            .await?;
        }
        self.execute(
            "DELETE FROM counts_to_settle WHERE campaign_id = $1",
            &[Arg::Text(campaign)],
        )
        .await?;
        Ok(())
    }
}

impl SqlTx {
    /// Runs `sql`, which reads [`standing`] for campaign `$1` and user `$2`:
    /// the user's counts, all zero without a row.
    async fn standing(
        &mut self,
        sql: &str,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        let counts = self
            .fetch_optional(
                sql,
                &[
                    Arg::Text(campaign),
                    Arg::Text(user),
                    Arg::Text(&periods.day),
                    Arg::Text(&periods.month),
                ],
            )
            .await?;
        Ok(counts.unwrap_or_default())
    }

    /// Debits a draw: the counts it leaves, or `None` if the limits refuse it.
    async fn debit(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        periods: &Periods,
    ) -> Stored<Option<UserCounts>> {
        // A user's first draw, if the limits allow one, inserts the row with it
        // counted; otherwise the row is made first, so the refusal reads it.
        let first_allowed = UserCounts::default().refusal(limits).is_none();
        if !first_allowed {
            self.execute(
                "INSERT INTO user_counters (campaign_id, user_id) VALUES ($1, $2) ON CONFLICT (campaign_id, user_id) DO NOTHING",
                &[Arg::Text(campaign), Arg::Text(user)],
            )
            .await?;
        }
        // One conditional upsert debits the entitlement and every cap, and returns
        // the counts this draw sees: concurrent draws of one user see different counts.
        self.fetch_optional(
            concat!(
                "INSERT INTO user_counters (campaign_id, user_id, made, day_key, day_count, month_key, month_count) \
                 VALUES ($1, $2, 1, $3, 1, $4, 1) ",
                debit_existing!()
            ),
            &debit_args(campaign, user, limits, periods),
        )
        .await
    }
}
