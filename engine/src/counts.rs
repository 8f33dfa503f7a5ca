//! A user's draw counts in a campaign: the one snapshot the store keeps and
//! debits, the caps refuse against, imports set, and the evaluator reads.

/// A user's draws made (in all, this month and today, in the campaign's zone)
/// and the draws granted beyond the allowance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UserCounts {
    pub total: i64,
    pub month: i64,
    pub today: i64,
    pub granted: i64,
}

/// The per-user limits a draw is debited against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub allowance: i64,
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
        } else if self.total >= limits.allowance + self.granted {
            Some(Refusal::NoDrawsLeft)
        } else {
            None
        }
    }

    /// Draws left of `allowance` and the grants; never below zero.
    pub fn draws_left(&self, allowance: i64) -> i64 {
        (allowance + self.granted - self.total).max(0)
    }

    /// The counts before the draw these counts include (the store returns them
    /// after its debit): what that draw's expressions read.
    pub fn before_this_draw(&self) -> UserCounts {
        UserCounts {
            total: (self.total - 1).max(0),
            month: (self.month - 1).max(0),
            today: (self.today - 1).max(0),
            granted: self.granted,
        }
    }

    /// Refuses counts that cannot all be true at once, saying why.
    pub(crate) fn check(&self) -> Result<(), String> {
        let named = [
            ("total", self.total),
            ("month", self.month),
            ("today", self.today),
            ("granted", self.granted),
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
        allowance: 3,
        total: Some(5),
        per_day: Some(2),
        per_month: Some(4),
    };

    #[test]
    fn the_first_limit_a_user_reaches_refuses() {
        let counts = |total, month, today, granted| UserCounts {
            total,
            month,
            today,
            granted,
        };
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
        let after = UserCounts {
            total: 4,
            month: 1,
            today: 1,
            granted: 2,
        };
        let before = after.before_this_draw();
        assert_eq!((before.total, before.month, before.today), (3, 0, 0));
        assert_eq!(after.draws_left(3), 1);
        assert_eq!(after.draws_left(1), 0);
    }
}
