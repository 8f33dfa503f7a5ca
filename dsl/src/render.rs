//! Renders diagnostics for people (miette), for machines (JSON) and for
//! GitHub Actions (workflow annotations), with lines and columns.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The line and column of byte `offset` in `source`.
pub fn position(source: &str, offset: usize) -> Position {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Position {
        line,
        column: source[line_start..offset].chars().count() + 1,
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn miette_span(source: &str, span: tombola_grammar::Span) -> (usize, usize) {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let end = floor_char_boundary(source, span.end.min(source.len())).max(start);
    (start, end - start)
}

/// A miette report for one diagnostic, with the file as its source.
pub fn report(name: &str, source: &str, diagnostic: &Diagnostic) -> Report {
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        (!diagnostic.label.is_empty()).then(|| diagnostic.label.clone()),
        miette_span(source, diagnostic.span),
    )];
    for label in &diagnostic.labels {
        labels.push(LabeledSpan::new_with_span(
            Some(label.message.clone()),
            miette_span(source, label.span),
        ));
    }
    let mut m = MietteDiagnostic::new(diagnostic.message.clone())
        .with_code(diagnostic.code.as_str())
        .with_severity(match diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
        .with_labels(labels);
    if let Some(help) = &diagnostic.help {
        m = m.with_help(help.clone());
    }
    Report::new(m).with_source_code(NamedSource::new(name, source.to_string()))
}

/// Renders one diagnostic as text, without colour, `width` columns wide.
pub fn human(name: &str, source: &str, diagnostic: &Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = report(name, source, diagnostic);
    let mut out = String::new();
    handler
        .render_report(&mut out, report.as_ref())
        .expect("writing to a String cannot fail");
    let position = position(source, diagnostic.span.start);
    // miette shows the snippet; add the file:line:col an editor can jump to.
    format!("{name}:{}:{}: {out}", position.line, position.column)
}

/// A diagnostic with its positions, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Located<'a> {
    pub file: &'a str,
    pub start: Position,
    pub end: Position,
    #[serde(flatten)]
    pub diagnostic: &'a Diagnostic,
}

pub fn locate<'a>(name: &'a str, source: &str, diagnostic: &'a Diagnostic) -> Located<'a> {
    Located {
        file: name,
        start: position(source, diagnostic.span.start),
        end: position(source, diagnostic.span.end),
        diagnostic,
    }
}

/// A GitHub Actions workflow command that annotates the line.
pub fn github(name: &str, source: &str, diagnostic: &Diagnostic) -> String {
    let start = position(source, diagnostic.span.start);
    let end = position(source, diagnostic.span.end);
    let level = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push('\n');
        message.push_str(help);
    }
    format!(
        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(name),
        start.line,
        start.column,
        end.line,
        end.column,
        diagnostic.code,
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let source = "a: é\nbb: x";
        assert_eq!(position(source, 0), Position { line: 1, column: 1 });
        assert_eq!(position(source, 6), Position { line: 2, column: 1 });
        // "é" is two bytes; the column after it is 5, not 6.
        assert_eq!(position(source, 5), Position { line: 1, column: 5 });
    }

    #[test]
    fn github_annotations_escape_newlines_and_separators() {
        assert_eq!(escape_data("a\nb%"), "a%0Ab%25");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
