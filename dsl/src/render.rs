//! Renders diagnostics for people (miette), for machines (JSON) and for
//! GitHub Actions (workflow annotations), with lines and columns.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, Report, SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A file's text and where each of its lines starts, made once per file so
/// that each position is a binary search rather than a scan from the top: a
/// file with thousands of findings renders in time linear in its size.
#[derive(Debug)]
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { text, starts }
    }

    /// The 0-based line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) - 1
    }

    /// The line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        Position {
            line: line + 1,
            column: self.text[self.starts[line]..offset].chars().count() + 1,
        }
    }

    /// The whole lines from `margin` lines above byte `low` to `margin` below
    /// byte `high`, for a snippet, with the 0-based line they start on.
    fn around(&self, low: usize, high: usize, margin: usize) -> (std::ops::Range<usize>, usize) {
        let first = self
            .line_of(low.min(self.text.len()))
            .saturating_sub(margin);
        let last = self.line_of(high.min(self.text.len())) + margin;
        let end = self
            .starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        (self.starts[first]..end, first)
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

/// How many lines around its spans a snippet takes: one more than the
/// line of context miette shows each side.
const SNIPPET_MARGIN: usize = 2;

/// The lines of a file one diagnostic's snippet shows, as miette's source:
/// miette reads from the top of the source it is given, so it is given only
/// these lines, and the offsets and line numbers it reads are shifted back.
struct Snippet {
    name: String,
    text: String,
    /// Where `text` starts in the file: a byte offset and a 0-based line.
    offset: usize,
    first_line: usize,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let local = SourceSpan::new(span.offset().saturating_sub(self.offset).into(), span.len());
        let inner =
            self.text
                .as_str()
                .read_span(&local, context_lines_before, context_lines_after)?;
        let covered = SourceSpan::new(
            (inner.span().offset() + self.offset).into(),
            inner.span().len(),
        );
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            covered,
            inner.line() + self.first_line,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A miette report for one diagnostic, with the lines around it as its source.
pub fn report(name: &str, lines: &Lines<'_>, diagnostic: &Diagnostic) -> Report {
    let source = lines.text;
    let spans = std::iter::once(diagnostic.span).chain(diagnostic.labels.iter().map(|l| l.span));
    let low = spans.clone().map(|span| span.start).min().unwrap_or(0);
    let high = spans.map(|span| span.end).max().unwrap_or(0);
    let (range, first_line) = lines.around(low, high, SNIPPET_MARGIN);
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
    Report::new(m).with_source_code(Snippet {
        name: name.to_string(),
        text: source[range.clone()].to_string(),
        offset: range.start,
        first_line,
    })
}

/// Renders one diagnostic as text, without colour, `width` columns wide.
pub fn human(name: &str, lines: &Lines<'_>, diagnostic: &Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = report(name, lines, diagnostic);
    let mut out = String::new();
    handler
        .render_report(&mut out, report.as_ref())
        .expect("writing to a String cannot fail");
    let position = lines.position(diagnostic.span.start);
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

pub fn locate<'a>(name: &'a str, lines: &Lines<'_>, diagnostic: &'a Diagnostic) -> Located<'a> {
    Located {
        file: name,
        start: lines.position(diagnostic.span.start),
        end: lines.position(diagnostic.span.end),
        diagnostic,
    }
}

/// A GitHub Actions workflow command that annotates the line.
pub fn github(name: &str, lines: &Lines<'_>, diagnostic: &Diagnostic) -> String {
    let start = lines.position(diagnostic.span.start);
    let end = lines.position(diagnostic.span.end);
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
        let lines = Lines::new("a: é\nbb: x\n");
        assert_eq!(lines.position(0), Position { line: 1, column: 1 });
        assert_eq!(lines.position(6), Position { line: 2, column: 1 });
        // "é" is two bytes; the column after it is 5, not 6.
        assert_eq!(lines.position(5), Position { line: 1, column: 5 });
        // Inside "é", and past the end: the nearest boundary before.
        assert_eq!(lines.position(4), Position { line: 1, column: 4 });
        assert_eq!(lines.position(99), Position { line: 3, column: 1 });
    }

    #[test]
    fn a_snippet_from_the_lines_around_renders_as_one_from_the_whole_file() {
        use crate::diagnostic::Code;
        let source: String = (1..=60).map(|n| format!("key{n}: value {n}\n")).collect();
        let at = |needle: &str| source.find(needle).unwrap();
        let diagnostic = Diagnostic::new(
            Code::UnknownKey,
            tombola_grammar::Span::new(at("key40"), at("key40") + 5),
            "a finding".to_string(),
        )
        .label("here")
        .with(
            tombola_grammar::Span::new(at("key43"), at("key43") + 5),
            "and here",
        );
        let windowed = human("f.yaml", &Lines::new(&source), &diagnostic, false);
        let whole = {
            let report = report("f.yaml", &Lines::new(&source), &diagnostic)
                .with_source_code(miette::NamedSource::new("f.yaml", source.clone()));
            let mut out = String::new();
            GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                .with_width(100)
                .with_links(false)
                .render_report(&mut out, report.as_ref())
                .unwrap();
            format!("f.yaml:40:1: {out}")
        };
        assert_eq!(windowed, whole);
        assert!(windowed.contains("[f.yaml:40:1]"), "{windowed}");
        assert!(windowed.contains("43 │ key43"), "{windowed}");
    }

    #[test]
    fn github_annotations_escape_newlines_and_separators() {
        assert_eq!(escape_data("a\nb%"), "a%0Ab%25");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
