//! Users' draw counts, in memory.

use super::{CountRow, MemoryTx, pair};
use crate::counts::{Limits, Refusal, UserCounts};
use crate::period::Periods;
use crate::store::{Counts, Stored};

impl CountRow {
    /// The counts as they stand in `periods`: a new day or month starts at 0.
    fn standing(&self, periods: &Periods) -> UserCounts {
        UserCounts {
            today: if self.day == periods.day {
                self.counts.today
            } else {
                0
            },
            month: if self.month == periods.month {
                self.counts.month
            } else {
                0
            },
            ..self.counts
        }
    }
}

impl MemoryTx {
    fn count_row(&self, campaign: &str, user: &str) -> CountRow {
        self.state
            .counts
            .get(&pair(campaign, user))
            .cloned()
            .unwrap_or_default()
    }
}

impl Counts for MemoryTx {
    async fn debit_draw(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        periods: &Periods,
    ) -> Stored<Result<UserCounts, Refusal>> {
        let row = self.count_row(campaign, user);
        let standing = row.standing(periods);
        if let Some(refusal) = standing.refusal(limits) {
            return Ok(Err(refusal));
        }
        let counts = UserCounts {
            total: standing.total + 1,
            month: standing.month + 1,
            today: standing.today + 1,
            granted: standing.granted,
        };
        let row = CountRow {
            counts,
            day: periods.day.clone(),
            month: periods.month.clone(),
        };
        self.put(|s| &mut s.counts, pair(campaign, user), row);
        Ok(Ok(counts))
    }

    async fn counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        Ok(self.count_row(campaign, user).standing(periods))
    }

    async fn set_counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
        counts: &UserCounts,
    ) -> Stored<()> {
        let row = CountRow {
            counts: *counts,
            day: periods.day.clone(),
            month: periods.month.clone(),
        };
        self.put(|s| &mut s.counts, pair(campaign, user), row);
        Ok(())
    }

    async fn grant_draws(&mut self, campaign: &str, user: &str, draws: i64) -> Stored<()> {
        let mut row = self.count_row(campaign, user);
        row.counts.granted += draws;
        self.put(|s| &mut s.counts, pair(campaign, user), row);
        Ok(())
    }
}
