//! Quotes only where YAML needs them: a quoted scalar whose text reads the
//! same unquoted (a string, in that place) loses its quotes; the others are
//! double quoted.

use yaml_parser::{SyntaxKind, SyntaxNode, SyntaxToken};

use super::FormatError;

/// `text` as a double-quoted YAML scalar.
pub(super) fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text with every quoted scalar that does not need its quotes written plain.
pub(super) fn unquote(text: &str) -> Result<String, FormatError> {
    let root = yaml_parser::parse(text).map_err(|e| FormatError::Layout(e.to_string()))?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for token in tokens(&root) {
        let value = match token.kind() {
            SyntaxKind::DOUBLE_QUOTED_SCALAR => double_value(token.text()),
            SyntaxKind::SINGLE_QUOTED_SCALAR => single_value(token.text()),
            _ => continue,
        };
        let Some(value) = value else { continue };
        if plain_reads_as_string(&value, in_flow(&token)) {
            let range = token.text_range();
            edits.push((range.start().into(), range.end().into(), value));
        }
    }
    let mut out = text.to_string();
    for (start, end, value) in edits.into_iter().rev() {
        out.replace_range(start..end, &value);
    }
    Ok(out)
}

fn tokens(root: &SyntaxNode) -> impl Iterator<Item = SyntaxToken> {
    root.descendants_with_tokens()
        .filter_map(|element| element.into_token())
}

fn in_flow(token: &SyntaxToken) -> bool {
    token
        .parent_ancestors()
        .any(|n| matches!(n.kind(), SyntaxKind::FLOW_MAP | SyntaxKind::FLOW_SEQ))
}

/// A double-quoted scalar's value, when it holds no escape but `\"` and
/// `\\` and no line break (the others stay quoted).
fn double_value(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                _ => return None,
            },
            '\n' | '\r' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn single_value(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.contains(['\n', '\r']) {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// Whether `value` written plain is read back as this same string: no
/// indicator where YAML would take it as one, nothing YAML would read as
/// another type (a number, a boolean, null, a date), and inside `{ }` or
/// `[ ]` none of the characters that end a flow value.
pub(super) fn plain_reads_as_string(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if value.trim() != value || value.chars().any(|c| c.is_control()) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if value.contains(": ") || value.contains(" #") || value.ends_with(':') {
        return false;
    }
    if flow && value.contains([',', '[', ']', '{', '}', ':']) {
        return false;
    }
    !reads_as_other_type(value)
}

/// Plain scalars YAML (1.2 core, and the 1.1 words some readers still take)
/// reads as something other than a string.
fn reads_as_other_type(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let words = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf",
        ".nan",
    ];
    if words.contains(&lower.as_str()) || value == "<<" {
        return true;
    }
    // Sexagesimal numbers (YAML 1.1): `12:30` is 750 to such a reader.
    let sexagesimal = value.trim_start_matches(['+', '-']);
    if sexagesimal.contains(':')
        && sexagesimal.split(':').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        })
    {
        return true;
    }
    let digits = value.replace('_', "");
    if digits.parse::<f64>().is_ok() || digits.parse::<i128>().is_ok() {
        return true;
    }
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.starts_with("0x") || unsigned.starts_with("0o") || unsigned.starts_with("0b") {
        return true;
    }
    // A date or a timestamp (YAML 1.1): `2026-03-04`, `2026-03-04T10:00:00Z`.
    let b = value.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::plain_reads_as_string;

    #[test]
    fn only_strings_that_read_back_the_same_go_plain() {
        for plain in [
            "10 credits",
            "Wireless headphones",
            "user.draws.total >= 1",
            "u{n}",
        ] {
            assert!(plain_reads_as_string(plain, false), "{plain}");
        }
        for quoted in [
            "",
            " a",
            "10",
            "1.60",
            "true",
            "No",
            "null",
            "~",
            "2026-03-04",
            "0x1f",
            "# no",
            "a: b",
            "a #b",
            "*ref",
            "-x",
            "{x}",
            "1e3",
            ".inf",
        ] {
            assert!(!plain_reads_as_string(quoted, false), "{quoted}");
        }
        assert!(!plain_reads_as_string("u{n}", true));
        assert!(!plain_reads_as_string("random(1, 100)", true));
        assert!(!plain_reads_as_string("rule:weight → tier 40", true));
        assert!(plain_reads_as_string("rule:weight → tier 40", false));
    }
}
