//! The campaign's window: its time zone, and its bounds as instants in UTC.

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::Findings;
use super::resolve::{self, Unknown};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Sp, When, Window};
use tombola_ir as ir;

/// The zone (UTC when unknown, which is reported) and the window, when it
/// is valid. Given the time, a window that has already ended is a warning.
pub(super) fn check(
    window: &Window,
    now: Option<DateTime<Utc>>,
    out: &mut Findings<'_>,
) -> (Tz, Option<ir::Window>) {
    let Ok(zone) = window.zone.value.parse::<Tz>() else {
        let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
        resolve::report_unknown(out, Unknown::Zone, &window.zone, names);
        return (Tz::UTC, None);
    };
    let checked = bounds(window, zone, out);
    if let (Some(checked), Some(now), Some(to)) = (&checked, now, &window.to) {
        ended(checked, to, now, out);
    }
    (zone, checked)
}

/// A window already over deploys and then refuses every draw: likely a
/// copied file whose dates were not moved. A warning, since checking an old
/// campaign again is legitimate.
fn ended(window: &ir::Window, to: &Sp<When>, now: DateTime<Utc>, out: &mut Findings<'_>) {
    let Some(until) = window.until.filter(|until| *until <= now) else {
        return;
    };
    let local = until.with_timezone(&window.zone).format("%Y-%m-%d %H:%M");
    out.push(
        Diagnostic::new(
            Code::WindowEnded,
            to.span,
            format!(
                "the window has already ended: draws stopped at {local} ({}), before now ({})",
                window.zone,
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )
        .label("ended")
        .help("move `to` (and `from`) to the dates of this run; `tombola check --now <time>` checks as of another time"),
    );
}

fn bounds(window: &Window, zone: Tz, out: &mut Findings<'_>) -> Option<ir::Window> {
    let from = instant(&window.from, false, zone, out)?;
    let until = match &window.to {
        Some(to) => Some((instant(to, true, zone, out)?, to.span)),
        None => None,
    };
    if let Some((until, span)) = until
        && until <= from
    {
        out.push(
            Diagnostic::new(Code::WindowOrder, span, "the window ends before it starts")
                .label("end")
                .with(window.from.span, "start")
                .help("`to` must be after `from`; a date-only `to` includes that whole day"),
        );
        return None;
    }
    Some(ir::Window {
        from,
        until: until.map(|(u, _)| u),
        zone,
    })
}

/// A window bound in UTC. A date-only end includes its whole day.
fn instant(at: &Sp<When>, end: bool, zone: Tz, out: &mut Findings<'_>) -> Option<DateTime<Utc>> {
    let local: NaiveDateTime = match &at.value {
        When::Date(date) => {
            let day = if end {
                date.checked_add_days(Days::new(1))?
            } else {
                *date
            };
            day.and_hms_opt(0, 0, 0)?
        }
        When::DateTime(naive, Some(offset)) => {
            return offset
                .from_local_datetime(naive)
                .single()
                .map(|t| t.with_timezone(&Utc));
        }
        When::DateTime(naive, None) => *naive,
    };
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None if matches!(at.value, When::Date(_)) => {
            // Midnight skipped by a clock change: the day starts at the first valid instant.
            (1..=4)
                .find_map(|h| {
                    zone.from_local_datetime(&(local + chrono::TimeDelta::hours(h)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
        }
        LocalResult::None => {
            out.push(
                Diagnostic::new(
                    Code::BadTime,
                    at.span,
                    format!("{local} does not exist in {zone}: the clocks skip it"),
                )
                .label("skipped by a clock change")
                .help("pick a time outside the change, or give an offset"),
            );
            None
        }
    }
}
