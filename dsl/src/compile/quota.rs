//! The per-user caps: none is zero, none is above a longer period's cap, and
//! the daily cap leaves room for a daily allowance's free draws.

use super::Findings;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Allowance, Quota, Sp};
use tombola_ir as ir;

pub(super) fn check(
    quota: Option<&Sp<Quota>>,
    allowance: Option<&Sp<Allowance>>,
    out: &mut Findings<'_>,
) -> ir::Quota {
    let Some(quota) = quota else {
        return ir::Quota::default();
    };
    let q = &quota.value;
    let mut zero = false;
    for cap in [&q.total, &q.per_day, &q.per_month].into_iter().flatten() {
        if cap.value == 0 {
            zero = true;
            out.push(
                Diagnostic::new(Code::InvalidValue, cap.span, "a cap of 0 allows no draws")
                    .label("zero")
                    .help("remove the cap for no limit, or close the campaign"),
            );
        }
    }
    // Every other cap is "above" a zero cap; saying so again would only repeat the error.
    if !zero {
        order(q, out);
        daily_room(q, allowance, out);
    }
    ir::Quota {
        total: q.total.as_ref().map(|c| c.value),
        per_day: q.per_day.as_ref().map(|c| c.value),
        per_month: q.per_month.as_ref().map(|c| c.value),
    }
}

/// A shorter period's cap above a longer one's would never be reached.
fn order(q: &Quota, out: &mut Findings<'_>) {
    if let (Some(day), Some(month)) = (&q.per_day, &q.per_month)
        && day.value > month.value
    {
        out.push(
            Diagnostic::new(
                Code::DayAboveMonth,
                day.span,
                format!(
                    "the per-day cap ({}) is above the per-month cap ({})",
                    day.value, month.value
                ),
            )
            .label("per day")
            .with(month.span, "per month")
            .help("a month holds every day's draws; lower `per_day` or raise `per_month`"),
        );
    }
    let Some(total) = &q.total else { return };
    for (cap, name) in [(&q.per_month, "per-month"), (&q.per_day, "per-day")] {
        if let Some(cap) = cap
            && cap.value > total.value
        {
            out.push(
                Diagnostic::new(
                    Code::MonthAboveTotal,
                    cap.span,
                    format!(
                        "the {name} cap ({}) is above the total cap ({})",
                        cap.value, total.value
                    ),
                )
                .label(name.to_string())
                .with(total.span, "total")
                .help("the total holds every period's draws; lower this cap or raise `total`"),
            );
            break;
        }
    }
}

/// A daily allowance above the daily cap: the cap stops each day's draws
/// before the free ones are used, so part of the allowance is never given.
fn daily_room(q: &Quota, allowance: Option<&Sp<Allowance>>, out: &mut Findings<'_>) {
    let (Some(cap), Some(allowance)) = (&q.per_day, allowance) else {
        return;
    };
    let Allowance::PerDay(free) = allowance.value else {
        return;
    };
    if free > cap.value {
        out.push(
            Diagnostic::new(
                Code::AllowanceAboveCap,
                allowance.span,
                format!(
                    "the daily allowance ({free} free draws) is above the per-day cap ({})",
                    cap.value
                ),
            )
            .label("free each day")
            .with(cap.span, "per day")
            .help("users can make only the cap's draws a day; lower `allowance.per_day` or raise `quota.per_day`"),
        );
    }
}
