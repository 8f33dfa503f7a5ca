//! A user's draw counts in a campaign: the one snapshot the store keeps and
//! debits, the caps refuse against, imports set, and the evaluator reads.

use tombola_ir::Allowance;

/// A user's draws made (in all, this month and today, in the campaign's zone),
/// the draws granted beyond the allowance and how many of those were used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UserCounts {
    pub total: i64,
    pub month: i64,
    pub today: i64,
    pub granted: i64,
    /// Granted draws used: a draw past the free ones uses one. The draws that
    /// did not are the free ones used, so a campaign moving between a daily
    /// and a campaign-wide allowance keeps every grant its users have not used.
    pub granted_used: i64,
}

/// The per-user limits a draw is debited against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub allowance: Allowance,
    pub total: Option<i64>,
    pub per_day: Option<i64>,
    pub per_month: Option<i64>,
}

/// Why a draw could not be debited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoDrawsLeft,
    DailyCap,
    MonthlyCap,
    TotalCap,
}

impl UserCounts {
    /// Which limit refuses one more draw, checked in the order users hit them.
    pub fn refusal(&self, limits: &Limits) -> Option<Refusal> {
        if limits.total.is_some_and(|cap| self.total >= cap) {
            Some(Refusal::TotalCap)
        } else if limits.per_month.is_some_and(|cap| self.month >= cap) {
            Some(Refusal::MonthlyCap)
        } else if limits.per_day.is_some_and(|cap| self.today >= cap) {
            Some(Refusal::DailyCap)
        } else if self.draws_left(limits.allowance) == 0 {
            Some(Refusal::NoDrawsLeft)
        } else {
            None
        }
    }

    /// Draws left: the free ones `allowance` leaves (today's, for a daily
    /// one) and the grants not used; never below zero.
    pub fn draws_left(&self, allowance: Allowance) -> i64 {
        self.free_left(allowance) + (self.granted - self.granted_used).max(0)
    }

    /// The free draws `allowance` leaves: of the campaign's (the draws that
    /// used no grant count against it), or of today's.
    pub fn free_left(&self, allowance: Allowance) -> i64 {
        match allowance {
            Allowance::Campaign(free) => {
                (i64::from(free) - (self.total - self.granted_used)).max(0)
            }
            Allowance::Daily { per_day } => (i64::from(per_day) - self.today).max(0),
        }
    }

    /// The counts as a campaign-wide allowance of `free` leaves them when
    /// every draw past it used a grant: for counts kept or brought over
    /// without the grants used. A daily allowance's days are not known, so
    /// its counts are kept as they are.
    pub fn settled(&self, allowance: Allowance) -> UserCounts {
        let Allowance::Campaign(free) = allowance else {
            return *self;
        };
        let past_free = self.granted.min(self.total - i64::from(free));
        UserCounts {
            granted_used: self.granted_used.max(past_free),
            ..*self
        }
    }

    /// The counts after one more draw: a draw past the free ones uses a
    /// granted draw. The SQL stores' debit says the same in SQL.
    pub fn with_draw(&self, allowance: Allowance) -> UserCounts {
        let uses_grant = self.free_left(allowance) == 0;
        UserCounts {
            total: self.total + 1,
            month: self.month + 1,
            today: self.today + 1,
            granted: self.granted,
            granted_used: self.granted_used + i64::from(uses_grant),
        }
    }

    /// The counts before the draw these counts include (the store returns them
    /// after its debit): what that draw's expressions read.
    pub fn before_this_draw(&self) -> UserCounts {
        UserCounts {
            total: (self.total - 1).max(0),
            month: (self.month - 1).max(0),
            today: (self.today - 1).max(0),
            granted: self.granted,
            granted_used: self.granted_used,
        }
    }

    /// Refuses counts that cannot all be true at once, saying why.
    pub(crate) fn check(&self) -> Result<(), String> {
        let named = [
            ("total", self.total),
            ("month", self.month),
            ("today", self.today),
            ("granted", self.granted),
            ("granted_used", self.granted_used),
        ];
        if let Some((name, n)) = named.iter().find(|(_, n)| *n < 0) {
            return Err(format!("`{name}` is {n}; a count cannot be negative"));
        }
        if self.today > self.month {
            return Err(format!(
                "{} draws today but {} this month; today's draws are part of the month's",
                self.today, self.month
            ));
        }
        if self.granted_used > self.granted {
            return Err(format!(
                "{} granted draws used but {} granted; only granted draws can be used",
                self.granted_used, self.granted
            ));
        }
        if self.month > self.total {
            return Err(format!(
                "{} draws this month but {} in all; the month's draws are part of the total",
                self.month, self.total
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        allowance: Allowance::Campaign(3),
        total: Some(5),
        per_day: Some(2),
        per_month: Some(4),
    };

    fn counts(total: i64, month: i64, today: i64, granted: i64) -> UserCounts {
        UserCounts {
            total,
            month,
            today,
            granted,
            granted_used: 0,
        }
    }

    #[test]
    fn the_first_limit_a_user_reaches_refuses() {
        assert_eq!(counts(0, 0, 0, 0).refusal(&LIMITS), None);
        assert_eq!(
            counts(3, 1, 1, 0).refusal(&LIMITS),
            Some(Refusal::NoDrawsLeft)
        );
        assert_eq!(counts(3, 1, 1, 1).refusal(&LIMITS), None);
        assert_eq!(counts(2, 2, 2, 9).refusal(&LIMITS), Some(Refusal::DailyCap));
        assert_eq!(
            counts(4, 4, 0, 9).refusal(&LIMITS),
            Some(Refusal::MonthlyCap)
        );
        assert_eq!(counts(5, 0, 0, 9).refusal(&LIMITS), Some(Refusal::TotalCap));
    }

    #[test]
    fn a_draw_reads_the_counts_before_itself() {
        let after = counts(4, 1, 1, 2).settled(Allowance::Campaign(3));
        let before = after.before_this_draw();
        assert_eq!((before.total, before.month, before.today), (3, 0, 0));
        assert_eq!(after.draws_left(Allowance::Campaign(3)), 1);
    }

    #[test]
    fn settled_counts_have_used_a_grant_for_each_draw_past_the_allowance() {
        let settled = counts(4, 1, 1, 2).settled(Allowance::Campaign(3));
        assert_eq!(settled.granted_used, 1);
        // Settling again, or counts that already say so, change nothing.
        assert_eq!(settled.settled(Allowance::Campaign(3)), settled);
        // Never more than granted, never less than counted.
        assert_eq!(
            counts(9, 1, 1, 2)
                .settled(Allowance::Campaign(3))
                .granted_used,
            2
        );
        assert_eq!(
            counts(1, 1, 1, 2)
                .settled(Allowance::Campaign(3))
                .granted_used,
            0
        );
        let daily = counts(9, 1, 1, 2).settled(Allowance::Daily { per_day: 3 });
        assert_eq!(daily.granted_used, 0);
        // A lower allowance later leaves the grant that was not used.
        assert_eq!(settled.draws_left(Allowance::Campaign(1)), 1);
    }

    /// Draws one at a time until refused: how many went through.
    fn draws_until_refused(mut counts: UserCounts, limits: &Limits) -> (i64, UserCounts) {
        let mut made = 0;
        while counts.refusal(limits).is_none() {
            counts = counts.with_draw(limits.allowance);
            made += 1;
        }
        (made, counts)
    }

    /// The next day, in the counts' terms: today's draws start again at 0.
    fn next_day(counts: UserCounts) -> UserCounts {
        UserCounts { today: 0, ..counts }
    }

    #[test]
    fn a_daily_allowance_comes_back_each_day_and_is_used_before_grants() {
        let daily = Limits {
            allowance: Allowance::Daily { per_day: 5 },
            total: None,
            per_day: None,
            per_month: None,
        };
        let start = counts(0, 0, 0, 2);
        assert_eq!(start.draws_left(daily.allowance), 7);
        // Five free draws use no grant; the sixth and seventh use both.
        let mut day = start;
        for _ in 0..5 {
            day = day.with_draw(daily.allowance);
        }
        assert_eq!((day.granted_used, day.draws_left(daily.allowance)), (0, 2));
        let (made, day_one) = draws_until_refused(day, &daily);
        assert_eq!((made, day_one.granted_used), (2, 2));
        assert_eq!(day_one.refusal(&daily), Some(Refusal::NoDrawsLeft));
        // The next day holds five free draws again, not carried over, no grants.
        let (made, day_two) = draws_until_refused(next_day(day_one), &daily);
        assert_eq!((made, day_two.total, day_two.granted_used), (5, 12, 2));
        // A day with free draws unused leaves the grants for later.
        let quiet = next_day(counts(3, 3, 1, 4));
        assert_eq!(quiet.draws_left(daily.allowance), 9);
    }

    #[test]
    fn a_daily_cap_still_stops_granted_draws_under_a_daily_allowance() {
        let capped = Limits {
            allowance: Allowance::Daily { per_day: 2 },
            total: None,
            per_day: Some(3),
            per_month: None,
        };
        let (made, after) = draws_until_refused(counts(0, 0, 0, 5), &capped);
        assert_eq!((made, after.granted_used), (3, 1));
        assert_eq!(after.refusal(&capped), Some(Refusal::DailyCap));
    }

    #[test]
    fn a_campaign_allowance_counts_the_grants_it_uses_too() {
        let limits = Limits {
            allowance: Allowance::Campaign(2),
            total: None,
            per_day: None,
            per_month: None,
        };
        let (made, after) = draws_until_refused(counts(0, 0, 0, 3), &limits);
        assert_eq!((made, after.granted_used), (5, 3));
        assert_eq!(after.check(), Ok(()));
    }

    #[test]
    fn a_move_to_a_campaign_allowance_keeps_the_grants_not_used() {
        // Twelve draws under a daily allowance, two of them on grants: ten free.
        let moved = UserCounts {
            granted_used: 2,
            ..counts(12, 12, 0, 5)
        };
        assert_eq!(moved.free_left(Allowance::Campaign(3)), 0);
        assert_eq!(moved.draws_left(Allowance::Campaign(3)), 3);
        assert_eq!(moved.draws_left(Allowance::Campaign(15)), 8);
    }

    #[test]
    fn more_grants_used_than_granted_is_refused() {
        let bad = UserCounts {
            granted_used: 3,
            ..counts(5, 5, 5, 2)
        };
        assert!(bad.check().unwrap_err().contains("3 granted draws used"));
    }
}
