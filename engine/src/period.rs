//! The calendar periods of a moment in a campaign's zone, as the store keys
//! them: the day (`2026-11-25`), the ISO week (`2026-W48`, Monday first) and
//! the month (`2026-11`). Counters, rebate claims and events all use these.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
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
        Periods::of(now.with_timezone(&campaign.window.zone))
    }

    /// The periods of a local moment.
    fn of(local: DateTime<Tz>) -> Periods {
        let (week_year, week) = (local.iso_week().year(), local.iso_week().week());
        // Written directly rather than through strftime, which parses its
        // pattern on every call and cost a simulation a fifth of its time; the
        // same text as `%Y-%m-%d`, `%G-W%V` and `%Y-%m` for the years 0–9999
        // (a window cannot reach others, but they still get chrono's text).
        if !(0..=9999).contains(&local.year()) || !(0..=9999).contains(&week_year) {
            return Periods {
                day: local.format("%Y-%m-%d").to_string(),
                week: local.format("%G-W%V").to_string(),
                month: local.format("%Y-%m").to_string(),
            };
        }
        let mut month = String::with_capacity(10);
        digits(&mut month, local.year() as u32, 4);
        month.push('-');
        digits(&mut month, local.month(), 2);
        let mut day = String::with_capacity(10);
        day.push_str(&month);
        day.push('-');
        digits(&mut day, local.day(), 2);
        let mut week_key = String::with_capacity(8);
        digits(&mut week_key, week_year as u32, 4);
        week_key.push_str("-W");
        digits(&mut week_key, week, 2);
        Periods {
            day,
            week: week_key,
            month,
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

/// `value` in `width` decimal digits, zero-padded: `value` has at most `width`.
fn digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    /// The text written directly is strftime's, every day of years that
    /// start and end on every weekday (ISO weeks 52, 53 and 1 across the
    /// turn of the year), in a zone east of UTC.
    #[test]
    fn the_keys_are_strftimes_text() {
        let mut now = Utc.with_ymd_and_hms(2019, 12, 20, 20, 30, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2027, 1, 10, 0, 0, 0).unwrap();
        while now < end {
            let local = now.with_timezone(&chrono_tz::Asia::Tokyo);
            let expected = Periods {
                day: local.format("%Y-%m-%d").to_string(),
                week: local.format("%G-W%V").to_string(),
                month: local.format("%Y-%m").to_string(),
            };
            assert_eq!(Periods::of(local), expected, "at {now}");
            now += Duration::hours(7);
        }
    }
}
