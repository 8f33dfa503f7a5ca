//! Users' draw counts, in memory.

use super::{CountRow, Ids, MemoryTx, Name};
use crate::counts::{Limits, Refusal, UserCounts};
use crate::period::Periods;
use crate::store::{Counts, Stored};

/// The day and month of some periods, interned.
#[derive(Clone, Copy)]
struct Counted {
    day: Name,
    month: Name,
}

impl CountRow {
    /// The counts as they stand in `periods` (`None` for periods the store has
    /// never seen, which no row was counted in): a new day or month starts at 0.
    fn standing(&self, periods: Option<Counted>) -> UserCounts {
        let day = periods.map(|p| p.day);
        let month = periods.map(|p| p.month);
        UserCounts {
            today: if day.is_some() && self.day == day {
                self.counts.today
            } else {
                0
            },
            month: if month.is_some() && self.month == month {
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
            .names
            .ids(campaign, user)
            .and_then(|key| self.state.counts.get(&key))
            .copied()
            .unwrap_or(CountRow {
                counts: UserCounts::default(),
                day: None,
                month: None,
            })
    }

    fn seen(&self, periods: &Periods) -> Option<Counted> {
        let names = &self.state.names;
        Some(Counted {
            day: names.get(&periods.day)?,
            month: names.get(&periods.month)?,
        })
    }

    /// The row key of a user and the periods, interned once: a draw's hot
    /// path looks each id up once.
    fn row_key(&mut self, campaign: &str, user: &str, periods: &Periods) -> (Ids, Counted) {
        let names = &mut self.state.names;
        let key = (names.intern(campaign), names.intern(user));
        let counted = Counted {
            day: names.intern(&periods.day),
            month: names.intern(&periods.month),
        };
        (key, counted)
    }

    /// Writes a user's counts as counted in the periods `counted`.
    fn set_row(&mut self, key: Ids, counted: Counted, counts: UserCounts) {
        let row = CountRow {
            counts,
            day: Some(counted.day),
            month: Some(counted.month),
        };
        self.put(|s| &mut s.counts, key, row);
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
        let (key, counted) = self.row_key(campaign, user, periods);
        let row = self.state.counts.get(&key).copied();
        let standing = row.map_or_else(UserCounts::default, |row| row.standing(Some(counted)));
        if let Some(refusal) = standing.refusal(limits) {
            return Ok(Err(refusal));
        }
        let counts = standing.with_draw(limits.allowance);
        self.set_row(key, counted, counts);
        Ok(Ok(counts))
    }

    async fn counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        Ok(self.count_row(campaign, user).standing(self.seen(periods)))
    }

    // One transaction at a time holds the memory store: nothing to hold.
    async fn held_counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
    ) -> Stored<UserCounts> {
        self.counts(campaign, user, periods).await
    }

    async fn set_counts(
        &mut self,
        campaign: &str,
        user: &str,
        periods: &Periods,
        counts: &UserCounts,
    ) -> Stored<()> {
        let (key, counted) = self.row_key(campaign, user, periods);
        self.set_row(key, counted, *counts);
        Ok(())
    }

    async fn grant_draws(&mut self, campaign: &str, user: &str, draws: i64) -> Stored<()> {
        let mut row = self.count_row(campaign, user);
        row.counts.granted += draws;
        let names = &mut self.state.names;
        let key = (names.intern(campaign), names.intern(user));
        self.put(|s| &mut s.counts, key, row);
        Ok(())
    }

    async fn counts_to_settle(&mut self) -> Stored<Vec<String>> {
        // A memory store starts empty, so it never holds counts from before.
        Ok(Vec::new())
    }

    async fn settle_counts(&mut self, _campaign: &str, _free: Option<i64>) -> Stored<()> {
        Ok(())
    }
}
