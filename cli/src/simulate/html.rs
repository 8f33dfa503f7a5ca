//! The simulation report as one self-contained HTML page (inline SVG and CSS,
//! nothing to load): the text report, then each chart with its axes, ticks and
//! units, a label at the end of each line, p5–p95 bands across the runs, and
//! the chart's numbers in a table under it.

use std::fmt::Write as _;

use super::report::{Band, Chart, Report, Series};
use super::text;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 300.0;
/// Room for the y ticks on the left, the line labels on the right, the x ticks below.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 44.0;
/// The lowest a line label may sit above the next, in pixels: one line of 12px text.
const LABEL_GAP: f64 = 13.0;

const COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
/// Lines that run together (several awards at zero) stay told apart by their dashes.
const DASHES: [&str; 3] = ["", "6 3", "2 3"];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:64em;color:#222}\
pre{background:#f4f4f4;padding:1em;overflow-x:auto}\
svg{display:block;margin:0.5em 0}\
svg text{font-size:12px;fill:#333}\
svg .tick text{fill:#555;font-size:11px}\
svg .grid{stroke:#e4e4e4}\
svg .axis{stroke:#555}\
table{border-collapse:collapse;font-size:13px;margin-bottom:2em}\
th,td{border:1px solid #ddd;padding:2px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}\
.note{color:#555}.warning{color:#8a4b00}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page: the text report, the warnings, and the charts with their tables.
pub(crate) fn page(report: &Report) -> String {
    let mut body = format!("<h1>Simulation of {}</h1>", escape(&report.campaign));
    let _ = write!(body, "<pre>{}</pre>", escape(&text::human(report)));
    if report.runs > 1 {
        let _ = write!(
            body,
            "<p class=\"note\">Each line is the mean of {} runs; the shaded band around it runs from their 5th to their 95th percentile.</p>",
            report.runs
        );
    }
    for chart in &report.charts {
        body.push_str(&section(chart, report.runs > 1));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Simulation of {}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(&report.campaign)
    )
}

/// One chart and its table, or a line saying why there is nothing to chart.
fn section(chart: &Chart, bands: bool) -> String {
    let title = format!("<h2>{}</h2>", escape(&chart.title));
    if chart.series.is_empty() {
        let why = match chart.unit.as_str() {
            "users" => "The campaign has no weight rule: no tiers to chart.",
            "units left" => "No award has stock: nothing burns down.",
            _ => "Nothing to chart.",
        };
        return format!("{title}<p class=\"note\">{why}</p>");
    }
    format!("{title}{}{}", svg(chart, bands), table(chart, bands))
}

/// A round step for about `target` ticks up to `top`: 1, 2 or 5 times a power of ten.
fn step(top: f64, target: f64) -> f64 {
    let raw = (top / target).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Where a chart's values and days fall on the page.
struct Scale {
    first_day: f64,
    last_day: f64,
    /// The top of the y axis: a whole number of ticks above every value.
    top: f64,
    tick: f64,
}

impl Scale {
    fn of(chart: &Chart) -> Scale {
        let days = chart
            .series
            .iter()
            .map(|s| s.points.len())
            .max()
            .unwrap_or(1);
        let most = chart
            .series
            .iter()
            .flat_map(|s| &s.points)
            .fold(0.0f64, |a, b| a.max(b.p95));
        // Counts are whole: below 5 the ticks are 1 apart, never 0.5.
        let tick = step(most.max(1.0), 5.0).max(1.0);
        Scale {
            first_day: f64::from(chart.first_day),
            last_day: f64::from(chart.first_day) + days.saturating_sub(1) as f64,
            top: ((most / tick).ceil() * tick).max(tick),
            tick,
        }
    }

    fn x(&self, day: f64) -> f64 {
        let span = (self.last_day - self.first_day).max(1.0);
        LEFT + (day - self.first_day) / span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        HEIGHT - BOTTOM - value / self.top * (HEIGHT - TOP - BOTTOM)
    }
}

fn svg(chart: &Chart, bands: bool) -> String {
    let scale = Scale::of(chart);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(&chart.title)
    );
    axes(&mut svg, &scale, &chart.unit);
    let ends = label_heights(chart, &scale);
    for (i, series) in chart.series.iter().enumerate() {
        let (colour, dash) = (
            COLOURS[i % COLOURS.len()],
            DASHES[(i / COLOURS.len() + i) % DASHES.len()],
        );
        if bands {
            band(&mut svg, &scale, chart.first_day, series, colour);
        }
        line(&mut svg, &scale, chart.first_day, series, colour, dash);
        end_label(&mut svg, &scale, series, ends[i], colour);
    }
    svg.push_str("</svg>");
    svg
}

/// The axes, the grid at each y tick, the ticks and their values, and the units.
fn axes(svg: &mut String, scale: &Scale, unit: &str) {
    let (x0, x1, y0) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM);
    svg.push_str("<g class=\"tick\">");
    let mut value = 0.0;
    while value <= scale.top + 1e-9 {
        let y = scale.y(value);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            x0 - 6.0,
            y + 4.0
        );
        value += scale.tick;
    }
    let span = scale.last_day - scale.first_day;
    let every = step(span.max(1.0), 8.0).max(1.0);
    let mut day = scale.first_day;
    while day <= scale.last_day + 1e-9 {
        let x = scale.x(day);
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y0}\" y2=\"{}\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{day}</text>",
            y0 + 5.0,
            y0 + 18.0
        );
        day += every;
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{x0}\" x2=\"{x1}\" y1=\"{y0}\" y2=\"{y0}\"/><line class=\"axis\" x1=\"{x0}\" x2=\"{x0}\" y1=\"{TOP}\" y2=\"{y0}\"/>\
         <text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">day (in the campaign's zone)</text>\
         <text x=\"{x0}\" y=\"{}\" text-anchor=\"start\">{}</text>",
        (x0 + x1) / 2.0,
        HEIGHT - 6.0,
        TOP - 10.0,
        escape(unit)
    );
}

fn points(scale: &Scale, first_day: u32, values: impl Iterator<Item = f64>) -> Vec<String> {
    values
        .enumerate()
        .map(|(d, v)| {
            format!(
                "{:.1},{:.1}",
                scale.x(f64::from(first_day) + d as f64),
                scale.y(v)
            )
        })
        .collect()
}

fn line(
    svg: &mut String,
    scale: &Scale,
    first_day: u32,
    series: &Series,
    colour: &str,
    dash: &str,
) {
    let points = points(scale, first_day, series.points.iter().map(|b| b.mean));
    let _ = write!(
        svg,
        "<polyline data-series=\"{name}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"><title>{name}</title></polyline>",
        points.join(" "),
        name = escape(&series.name)
    );
}

/// The p5–p95 band: up along the p95s, back along the p5s.
fn band(svg: &mut String, scale: &Scale, first_day: u32, series: &Series, colour: &str) {
    let mut outline = points(scale, first_day, series.points.iter().map(|b| b.p95));
    let mut back = points(scale, first_day, series.points.iter().map(|b| b.p5));
    back.reverse();
    outline.extend(back);
    let _ = write!(
        svg,
        "<polygon class=\"band\" fill=\"{colour}\" fill-opacity=\"0.15\" stroke=\"none\" points=\"{}\"/>",
        outline.join(" ")
    );
}

/// The height of each line's label at its end: where the line ends, pushed
/// apart so no two labels overlap, kept inside the chart.
fn label_heights(chart: &Chart, scale: &Scale) -> Vec<f64> {
    let ends: Vec<f64> = chart
        .series
        .iter()
        .map(|s| scale.y(s.points.last().map_or(0.0, |b| b.mean)))
        .collect();
    let mut order: Vec<usize> = (0..ends.len()).collect();
    order.sort_by(|&a, &b| ends[a].total_cmp(&ends[b]));
    let mut placed = ends.clone();
    let mut previous = f64::NEG_INFINITY;
    for &i in &order {
        placed[i] = ends[i].max(previous + LABEL_GAP);
        previous = placed[i];
    }
    // Labels pushed below the chart move back up together, still apart.
    let overflow = previous - (HEIGHT - BOTTOM + 4.0);
    if overflow > 0.0 {
        order.iter().for_each(|&i| placed[i] -= overflow);
    }
    placed
}

/// The series' name at the end of its line, joined to it by a short stroke.
fn end_label(svg: &mut String, scale: &Scale, series: &Series, at: f64, colour: &str) {
    let last = series.points.last().copied().unwrap_or(Band {
        p5: 0.0,
        mean: 0.0,
        p95: 0.0,
    });
    let (x, y) = (scale.x(scale.last_day), scale.y(last.mean));
    let _ = write!(
        svg,
        "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{at:.1}\" stroke=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text>",
        x + 8.0,
        x + 10.0,
        at + 4.0,
        escape(&series.name)
    );
}

/// The chart's numbers: a row a day, a column a series; with several runs,
/// each cell is the mean and, under it, p5–p95.
fn table(chart: &Chart, bands: bool) -> String {
    let mut html = String::from("<table><thead><tr><th>day</th>");
    for series in &chart.series {
        let _ = write!(html, "<th>{}</th>", escape(&series.name));
    }
    let _ = write!(html, "</tr></thead><tbody>");
    let days = chart
        .series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(0);
    for d in 0..days {
        let _ = write!(html, "<tr><td>{}</td>", chart.first_day as usize + d);
        for series in &chart.series {
            let cell = series.points.get(d).map_or(String::new(), |b| match bands {
                true => format!(
                    "{} <span class=\"note\">({}–{})</span>",
                    round(b.mean),
                    b.p5,
                    b.p95
                ),
                false => round(b.mean),
            });
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// A mean as a count: whole when it is, one decimal otherwise.
fn round(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value}")
    } else {
        format!("{value:.1}")
    }
}
