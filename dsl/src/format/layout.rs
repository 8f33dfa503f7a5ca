//! The layout beyond pretty_yaml's: a flow collection that does not fit on
//! its line becomes block style, and top-level sections stand apart.

use yaml_parser::{SyntaxKind, SyntaxNode};

use super::FormatError;

fn parse(text: &str) -> Result<SyntaxNode, FormatError> {
    yaml_parser::parse(text).map_err(|e| FormatError::Layout(e.to_string()))
}

/// The text with the outermost flow collections pretty_yaml broke over lines
/// (they did not fit) written block style, or `None` when there are none.
/// A map under a key or a list item becomes a block map, a list under a key a
/// block list; one holding a comment, or a list in a list, stays as it is.
pub(super) fn to_block(text: &str) -> Result<Option<String>, FormatError> {
    let root = parse(text)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for node in root.descendants() {
        if !matches!(node.kind(), SyntaxKind::FLOW_MAP | SyntaxKind::FLOW_SEQ)
            || !node.text().contains_char('\n')
            || node
                .descendants_with_tokens()
                .any(|e| e.kind() == SyntaxKind::COMMENT)
        {
            continue;
        }
        let start: usize = node.text_range().start().into();
        if edits.iter().any(|(s, e, _)| *s <= start && start < *e) {
            continue; // inside one already rewritten: the next round sees it
        }
        if let Some(edit) = block_form(text, &node) {
            edits.push(edit);
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = text.to_string();
    edits.sort_by_key(|(start, _, _)| *start);
    for (start, end, replacement) in edits.into_iter().rev() {
        out.replace_range(start..end, &replacement);
    }
    Ok(Some(out))
}

/// The edit that writes `node` block style: the range it replaces and the text.
fn block_form(text: &str, node: &SyntaxNode) -> Option<(usize, usize, String)> {
    // FLOW_MAP / FLOW_SEQ sit in a FLOW, which sits in what holds them.
    let holder = node.parent()?.parent()?;
    let end: usize = node.text_range().end().into();
    let entries = entries(node);
    if entries.is_empty() {
        return None;
    }
    match (holder.kind(), node.kind()) {
        (SyntaxKind::BLOCK_MAP_VALUE, kind) => {
            let entry = holder.parent()?;
            let key_column = column(text, entry.text_range().start().into());
            // From the colon's end: the value moves under the key.
            let colon = entry
                .children_with_tokens()
                .find(|e| e.kind() == SyntaxKind::COLON)?;
            let start: usize = colon.text_range().end().into();
            let indent = " ".repeat(key_column + 2);
            let lines: Vec<String> = entries
                .iter()
                .map(|entry| match kind {
                    SyntaxKind::FLOW_SEQ => format!("\n{indent}- {entry}"),
                    _ => format!("\n{indent}{entry}"),
                })
                .collect();
            Some((start, end, lines.concat()))
        }
        (SyntaxKind::BLOCK_SEQ_ENTRY, SyntaxKind::FLOW_MAP) => {
            let start: usize = node.text_range().start().into();
            let indent = " ".repeat(column(text, start));
            Some((start, end, entries.join(&format!("\n{indent}"))))
        }
        _ => None,
    }
}

/// A flow collection's entries as one-line text each (`key: value` or the
/// item). Line breaks inside flow content read as spaces, so joining the
/// lines keeps what each entry says.
fn entries(node: &SyntaxNode) -> Vec<String> {
    let Some(list) = node.children().find(|c| {
        matches!(
            c.kind(),
            SyntaxKind::FLOW_MAP_ENTRIES | SyntaxKind::FLOW_SEQ_ENTRIES
        )
    }) else {
        return Vec::new();
    };
    list.children()
        .map(|entry| one_line(&entry.text().to_string()))
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

/// One blank line before and after each top-level entry that spans lines (a
/// section such as `awards:`), with the comments right above an entry kept on
/// it; the one-line entries of a header stay together as written.
pub(super) fn sections(text: &str) -> Result<String, FormatError> {
    let lines: Vec<&str> = text.lines().collect();
    // Where each top-level entry starts, and whether it spans lines.
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| is_top_level_key(lines[i]))
        .collect();
    let mut blank_before = vec![false; lines.len()];
    for (n, &start) in starts.iter().enumerate() {
        let next = starts.get(n + 1).copied().unwrap_or(lines.len());
        let spans = (start + 1..next).any(|i| lines[i].starts_with(' '));
        let previous_spans = n > 0 && {
            let previous = starts[n - 1];
            (previous + 1..start).any(|i| lines[i].starts_with(' '))
        };
        if n > 0 && (spans || previous_spans) {
            blank_before[comments_above(&lines, start)] = true;
        }
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut last_blank = true;
    for (i, line) in lines.iter().enumerate() {
        let blank = line.trim().is_empty();
        if blank_before[i] && !last_blank {
            out.push('\n');
        }
        if blank && last_blank {
            continue; // never two blank lines, nor one at the top
        }
        // Lines go as pretty_yaml wrote them: trailing spaces inside a block
        // scalar are the scalar's own.
        out.push_str(if blank { "" } else { line });
        out.push('\n');
        last_blank = blank;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}

fn is_top_level_key(line: &str) -> bool {
    !line.is_empty() && !line.starts_with([' ', '#', '-', '\t']) && line != "---" && line != "..."
}

/// The first line of the comment block right above `line` (or `line`).
fn comments_above(lines: &[&str], line: usize) -> usize {
    let mut first = line;
    while first > 0 && lines[first - 1].starts_with('#') {
        first -= 1;
    }
    first
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_stand_apart_and_headers_stay_together() {
        let text =
            "# head\ncampaign: a\nname: b\nawards:\n  x: 1\n# pool\npool:\n  - y\nstate: open\n";
        assert_eq!(
            super::sections(text).unwrap(),
            "# head\ncampaign: a\nname: b\n\nawards:\n  x: 1\n\n# pool\npool:\n  - y\n\nstate: open\n"
        );
    }
}
