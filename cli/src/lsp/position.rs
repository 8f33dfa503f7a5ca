//! Byte offsets into a document ⇄ LSP positions, in the encoding the client
//! negotiated: UTF-8 code units (bytes) when it offers them, else UTF-16, the
//! protocol's default. The one place columns are counted.

use lsp_types::{Position, Range};
use tombola_grammar::Span;

/// How a position's `character` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// The encoding to use given what the client offers (`general.positionEncodings`).
    pub(crate) fn negotiate(offered: Option<&[lsp_types::PositionEncodingKind]>) -> Encoding {
        let utf8 =
            offered.is_some_and(|kinds| kinds.contains(&lsp_types::PositionEncodingKind::UTF8));
        if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    pub(crate) fn kind(self) -> lsp_types::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp_types::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp_types::PositionEncodingKind::UTF16,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// The position of byte `offset` of `text` (clamped to the text, and back to
/// the start of a character it falls inside).
pub(crate) fn position(text: &str, offset: usize, encoding: Encoding) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line = before.matches('\n').count();
    let character: usize = before[line_start..]
        .chars()
        .map(|c| encoding.width(c))
        .sum();
    Position::new(line as u32, character as u32)
}

/// The byte offset of `position` in `text`: a line past the end is the end of
/// the text, a character past the end of its line is the line's end.
pub(crate) fn offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(at) => line_start += at + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |at| line_start + at);
    let mut units = 0;
    for (at, c) in text[line_start..line_end].char_indices() {
        if units >= position.character as usize {
            return line_start + at;
        }
        units += encoding.width(c);
    }
    line_end
}

pub(crate) fn range(text: &str, span: Span, encoding: Encoding) -> Range {
    Range::new(
        position(text, span.start, encoding),
        position(text, span.end, encoding),
    )
}

pub(crate) fn span(text: &str, range: Range, encoding: Encoding) -> Span {
    Span::new(
        offset(text, range.start, encoding),
        offset(text, range.end, encoding),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // "é" is 2 bytes and 1 UTF-16 unit; "𝄞" is 4 bytes and 2 UTF-16 units.
    const TEXT: &str = "name: x\ntitle: é𝄞 error\n";

    #[test]
    fn columns_count_in_the_negotiated_encoding() {
        let at = TEXT.find("error").unwrap();
        assert_eq!(position(TEXT, at, Encoding::Utf8), Position::new(1, 14));
        assert_eq!(position(TEXT, at, Encoding::Utf16), Position::new(1, 11));
        assert_eq!(offset(TEXT, Position::new(1, 14), Encoding::Utf8), at);
        assert_eq!(offset(TEXT, Position::new(1, 11), Encoding::Utf16), at);
    }

    #[test]
    fn positions_past_the_end_clamp() {
        assert_eq!(offset(TEXT, Position::new(0, 99), Encoding::Utf16), 7);
        assert_eq!(
            offset(TEXT, Position::new(9, 0), Encoding::Utf8),
            TEXT.len()
        );
        assert_eq!(position(TEXT, 999, Encoding::Utf8), Position::new(2, 0));
        // Inside "é": back to its start.
        let inside = TEXT.find('é').unwrap() + 1;
        assert_eq!(position(TEXT, inside, Encoding::Utf8), Position::new(1, 7));
    }

    #[test]
    fn utf8_is_chosen_only_when_offered() {
        use lsp_types::PositionEncodingKind as K;
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF16, K::UTF8])),
            Encoding::Utf8
        );
        assert_eq!(Encoding::negotiate(Some(&[K::UTF16])), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }
}
