//! The findings published for a document: a campaign's are `tombola check`'s
//! (code, span, message, help, labels as related places); a
//! scenario file's are what `tombola test` refuses before it runs: a file that
//! does not decode, a campaign that cannot be read or has errors, ids the
//! campaign does not have.

use std::path::Path;

use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams,
};
use tombola_dsl::{Diagnostic, Severity};
use tombola_grammar::Span;

use super::documents::{Document, Documents};
use crate::files::{self, Undecoded};
use crate::scenario::{self, ScenarioFile};

/// The findings to publish for `uri`: none once it is closed.
pub(crate) fn publish(documents: &Documents, uri: &str) -> PublishDiagnosticsParams {
    match documents.opened(uri) {
        Some(document) => PublishDiagnosticsParams {
            uri: document.uri.clone(),
            diagnostics: of(documents, document),
            version: Some(document.version),
        },
        None => PublishDiagnosticsParams {
            uri: uri.parse().expect("an open document's URI parses"),
            diagnostics: Vec::new(),
            version: None,
        },
    }
}

fn of(documents: &Documents, document: &Document) -> Vec<lsp_types::Diagnostic> {
    if document.is_scenario() {
        return scenario_findings(documents, document)
            .into_iter()
            .map(|(span, message)| plain(documents, document, span, message))
            .collect();
    }
    tombola_dsl::analysis::diagnostics(&document.text)
        .iter()
        .map(|d| convert(documents, document, d))
        .collect()
}

/// A campaign's diagnostic as the protocol's: the help follows the message.
pub(crate) fn convert(
    documents: &Documents,
    document: &Document,
    d: &Diagnostic,
) -> lsp_types::Diagnostic {
    let encoding = documents.encoding;
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(document.uri.clone(), document.range(label.span, encoding)),
            message: label.message.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range: document.range(d.span, encoding),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("tombola".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

fn plain(
    documents: &Documents,
    document: &Document,
    span: Span,
    message: String,
) -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        range: document.range(span, documents.encoding),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("tombola test".into()),
        message,
        ..lsp_types::Diagnostic::default()
    }
}

/// What `tombola test` would refuse in a scenario file, with where.
fn scenario_findings(documents: &Documents, document: &Document) -> Vec<(Span, String)> {
    let text = &document.text;
    let file: ScenarioFile = match files::decode(text) {
        Ok(file) => file,
        Err(Undecoded { message, location }) => {
            return vec![(
                location.map_or(Span::new(0, 0), |l| span_of(text, &l)),
                message,
            )];
        }
    };
    let at_campaign = line_span(text, text.lines().position(|l| l.starts_with("campaign:")));
    // Without a file on disk there is no folder to find the campaign in.
    let Some(folder) = document
        .path()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let path = folder.join(&file.campaign);
    let source = documents
        .text_at(&path)
        .map(String::from)
        .or_else(|| crate::files::read_text(&path).ok());
    let Some(source) = source else {
        return vec![(
            at_campaign,
            format!("cannot read campaign {}", path.display()),
        )];
    };
    let report = tombola_dsl::check_source(&source);
    let campaign = match report.campaign {
        Some(campaign) if !report.has_errors() => campaign,
        _ => {
            let message = format!("campaign {} has errors: run `tombola check`", file.campaign);
            return vec![(at_campaign, message)];
        }
    };
    file.scenarios
        .iter()
        .filter_map(|s| {
            let error = scenario::names::check(&campaign, s).err()?;
            let span = line_span(text, scenario::name_line(text, &s.name));
            Some((span, format!("scenario `{}`: {error}", s.name)))
        })
        .collect()
}

/// Where a decoder's location points, as a byte span.
fn span_of(text: &str, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    let start = (span.byte_offset().unwrap_or(span.offset()) as usize).min(text.len());
    let len = span.byte_len().unwrap_or(span.len()) as usize;
    Span::new(start, (start + len.max(1)).min(text.len()))
}

/// The span of 0-based line `line` of `text` (the first line when not given).
fn line_span(text: &str, line: Option<usize>) -> Span {
    let line = line.unwrap_or(0);
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    Span::new(start, end)
}
