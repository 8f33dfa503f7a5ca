//! The calendar periods of a moment in a campaign's zone, as the store keys
//! them: the day (`2026-11-25`), the ISO week (`2026-W48`, Monday first) and
//! the month (`2026-11`). Counters, rebate claims and events all use these.

use chrono::{DateTime, Utc};
use tombola_ir::{Campaign, Once};

/// The period keys of one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    pub day: String,
    pub week: String,
    pub month: String,
}

impl Periods {
    /// The periods `now` falls in, in `campaign`'s zone.
    pub fn at(campaign: &Campaign, now: DateTime<Utc>) -> Periods {
        let local = now.with_timezone(&campaign.window.zone);
        Periods {
            day: local.format("%Y-%m-%d").to_string(),
            week: local.format("%G-W%V").to_string(),
            month: local.format("%Y-%m").to_string(),
        }
    }

    /// The key a rebate that pays `once` per period is claimed under.
    pub(crate) fn key(&self, once: Once) -> &str {
        match once {
            Once::PerDay => &self.day,
            Once::PerWeek => &self.week,
            Once::PerMonth => &self.month,
            Once::Ever => "ever",
        }
    }
}
