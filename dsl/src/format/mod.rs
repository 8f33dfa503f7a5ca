//! `tombola fmt`: one canonical layout for campaign and scenario files that
//! keeps comments and anchors. pretty_yaml lays the YAML out; around it,
//! expressions are printed canonically, flow collections too long for a line
//! become block style, quotes go where YAML needs them only, and top-level
//! sections get one blank line around them. The layout is documented in
//! docs/language.md ("Layout").

mod layout;
mod quotes;

use pretty_yaml::config::{FormatOptions, LanguageOptions, LayoutOptions, Quotes};

use crate::decode::Decoder;
use crate::diagnostic::Diagnostic;

/// The widest line a flow collection stays on; past it, it goes block style.
pub const WIDTH: usize = 100;

/// Why a file cannot be formatted. Nothing is written then.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file is not YAML: the diagnostic says where, as `check` would.
    #[error("{}", .0.message)]
    Syntax(Box<Diagnostic>),
    /// The formatter could not lay the file out, or its layout would have
    /// changed what the file says; the file is left as it is.
    #[error("cannot format this file: {0}")]
    Layout(String),
}

/// Formats one campaign or scenario file. Idempotent: an expression the
/// first round could not read in place (escaped quotes) is printed in the next.
pub fn format(source: &str) -> Result<String, FormatError> {
    let mut text = format_once(source)?;
    for _ in 0..3 {
        let next = format_once(&text)?;
        if next == text {
            break;
        }
        text = next;
    }
    Ok(text)
}

fn format_once(source: &str) -> Result<String, FormatError> {
    let root = crate::yaml::parse(source).map_err(FormatError::Syntax)?;
    let canonical = expressions(source, &root);
    let mut text = pretty(&canonical)?;
    // Each round turns the outermost collections pretty_yaml had to break
    // into block style; what they held is laid out again in the next.
    for _ in 0..1000 {
        match layout::to_block(&text)? {
            Some(next) => text = pretty(&next)?,
            None => break,
        }
    }
    let text = quotes::unquote(&text)?;
    let text = layout::sections(&text)?;
    same_data(&canonical, &text)?;
    Ok(text)
}

/// The source with each expression printed canonically (the grammar's
/// printer: spacing, the fewest parentheses), where its text maps 1:1 onto
/// the file and it parses; the rest is left as written.
fn expressions(source: &str, root: &crate::yaml::Node) -> String {
    let mut found = Decoder::new(source).expressions(root);
    found.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for expr in found {
        let (Some(_), Ok(parsed)) = (expr.base, tombola_grammar::parse(&expr.text)) else {
            continue;
        };
        let canonical = parsed.to_string();
        if canonical == expr.text || expr.span.start < at {
            continue;
        }
        out.push_str(&source[at..expr.span.start]);
        out.push_str(&quotes::double_quoted(&canonical));
        at = expr.span.end;
    }
    out.push_str(&source[at..]);
    out
}

/// pretty_yaml, configured once for the documented layout.
fn pretty(text: &str) -> Result<String, FormatError> {
    let options = FormatOptions {
        layout: LayoutOptions {
            print_width: WIDTH,
            indent_width: 2,
            ..LayoutOptions::default()
        },
        language: LanguageOptions {
            quotes: Quotes::PreferDouble,
            trailing_comma: false,
            brace_spacing: true,
            bracket_spacing: false,
            indent_block_sequence_in_map: true,
            prefer_single_line: true,
            ..LanguageOptions::default()
        },
    };
    pretty_yaml::format_text(text, &options).map_err(|e| FormatError::Layout(e.to_string()))
}

/// Refuses a layout that reads as other data than the file did: the
/// formatter moves text, never meaning.
fn same_data(before: &str, after: &str) -> Result<(), FormatError> {
    let read = |text: &str| serde_saphyr::from_str::<serde_json::Value>(text).ok();
    match (read(before), read(after)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (None, _) => Ok(()),
        _ => Err(FormatError::Layout(
            "the canonical layout would change what it reads as (trailing spaces or tabs in a block scalar, say); it was left as it is"
                .into(),
        )),
    }
}
