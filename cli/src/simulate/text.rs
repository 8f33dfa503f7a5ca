//! The simulation report as text, for the terminal and the HTML page's summary.

use std::fmt::Write as _;

use super::report::{Report, WarningKind};

/// The report as text.
pub(crate) fn human(report: &Report) -> String {
    let mut out = String::new();
    let runs = match report.runs {
        1 => format!("seed {}", report.seed),
        n => format!(
            "{n} runs (seeds {} to {})",
            report.seed,
            report.seed + u64::from(n) - 1
        ),
    };
    let _ = writeln!(
        out,
        "{}: {} users over {} days, {runs}: {} draws",
        report.campaign, report.users, report.days, report.draws
    );
    for (why, count) in &report.refused {
        let _ = writeln!(
            out,
            "  refused: {count} × {why} (each ends that user's day)"
        );
    }
    awards(&mut out, report);
    if report.profile.is_some() {
        segments(&mut out, report);
    }
    let _ = writeln!(out, "  fallback rate: {:.2}%", report.fallback_rate * 100.0);
    let _ = writeln!(
        out,
        "  credits granted: {}, spent: {}",
        report.credits_granted, report.credits_spent
    );
    cost(&mut out, report);
    let _ = writeln!(
        out,
        "  chi-square of the unconstrained pool picks: {:.2} ({} degrees of freedom)",
        report.chi_square, report.degrees_of_freedom
    );
    if let Some(last) = report.by_day.last().filter(|d| !d.tiers.is_empty()) {
        let standing: Vec<String> = last
            .tiers
            .iter()
            .map(|t| format!("{} {}", t.label(), t.users))
            .collect();
        let _ = writeln!(
            out,
            "  users per tier on day {}: {}",
            last.day,
            standing.join(", ")
        );
    }
    warnings(&mut out, report);
    let _ = writeln!(out, "  digest: {}", report.digest);
    out
}

/// The awards' table; with several runs, each award's p5 and p95 in one run.
fn awards(out: &mut String, report: &Report) {
    let bands = report.runs > 1;
    let _ = write!(
        out,
        "  {:<20} {:>10} {:>9} {:>9}",
        "award", "issued", "share", "rate"
    );
    if bands {
        let _ = write!(out, "  {:>15}", "p5–p95 a run");
    }
    let _ = writeln!(out, "  sold out");
    for a in &report.awards {
        let rate = a.rate.as_deref().map_or("-".to_string(), |r| {
            format!("{:.3}%", r.parse::<f64>().unwrap_or(0.0) * 100.0)
        });
        let _ = write!(
            out,
            "  {:<20} {:>10} {:>8.3}% {:>9}",
            a.award,
            a.issued,
            a.share * 100.0,
            rate
        );
        if let Some(band) = a.per_run.filter(|_| bands) {
            let _ = write!(out, "  {:>15}", format!("{}–{}", band.p5, band.p95));
        }
        let sold_out = a
            .sold_out_on_day
            .map_or("-".to_string(), |d| format!("day {d}"));
        let _ = writeln!(out, "  {sold_out}");
    }
}

fn segments(out: &mut String, report: &Report) {
    for segment in &report.segments {
        let issued: Vec<String> = segment
            .issued
            .iter()
            .map(|(award, n)| format!("{award} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  segment {}: {} users, {} draws: {}",
            segment.segment,
            segment.users,
            segment.draws,
            if issued.is_empty() {
                "nothing issued".to_string()
            } else {
                issued.join(", ")
            }
        );
    }
}

/// The observed cost per draw beside the rates' expectation, and what made them differ.
fn cost(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "  cost per draw: {} observed, {} expected from the rates",
        report.cost_per_draw, report.expected_cost_per_draw
    );
    if !report.cost_causes.is_empty() {
        let parts: Vec<String> = report
            .cost_causes
            .iter()
            .map(|c| match c.per_draw.strip_prefix('-') {
                Some(less) => format!("{} −{less}", c.cause),
                None => format!("{} +{}", c.cause, c.per_draw),
            })
            .collect();
        let _ = writeln!(out, "    the difference, by cause: {}", parts.join(", "));
    }
    let refused: u64 = report.refused.values().sum();
    if refused > 0 {
        let _ = writeln!(
            out,
            "    caps and allowance refused {refused} draws, which cost nothing and are in no figure per draw"
        );
    }
}

fn warnings(out: &mut String, report: &Report) {
    for warning in &report.warnings {
        let what = match warning.kind {
            WarningKind::CannotWin => "cannot be won",
            WarningKind::NeverCameUp => "never came up",
        };
        let _ = writeln!(
            out,
            "  warning: `{}` {what}: {}",
            warning.award, warning.reason
        );
    }
}
