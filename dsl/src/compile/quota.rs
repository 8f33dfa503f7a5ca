//! The per-user caps: none is zero, and none is above a longer period's cap.

use super::Findings;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Quota, Sp};
use tombola_ir as ir;

pub(super) fn check(quota: Option<&Sp<Quota>>, out: &mut Findings<'_>) -> ir::Quota {
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
