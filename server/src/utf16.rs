//! Byte offsets into a source ⇄ UTF-16 code units, what a JavaScript string
//! index (and so a browser editor's position) counts: the one place the API
//! converts between them.

use tombola_grammar::Span;

/// The UTF-16 offset of byte `offset` of `text`, clamped to the text and
/// moved back to the start of a character it falls inside.
pub(crate) fn from_byte(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    text[..offset].encode_utf16().count()
}

/// The byte offset of UTF-16 offset `units` of `text`: past the end is the
/// end, and inside a character (between the halves of a surrogate pair) is
/// that character's start.
pub(crate) fn to_byte(text: &str, units: usize) -> usize {
    let mut counted = 0;
    for (at, c) in text.char_indices() {
        if counted + c.len_utf16() > units {
            return at;
        }
        counted += c.len_utf16();
    }
    text.len()
}

/// `span` as (from, to) UTF-16 offsets.
pub(crate) fn span(text: &str, span: Span) -> (usize, usize) {
    (from_byte(text, span.start), from_byte(text, span.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    // "é" is 2 bytes and 1 UTF-16 unit; "𝄞" is 4 bytes and 2 units.
    const TEXT: &str = "a: é𝄞 x";

    #[test]
    fn offsets_count_utf16_units_both_ways() {
        let x = TEXT.find('x').unwrap();
        assert_eq!((x, from_byte(TEXT, x)), (10, 7));
        assert_eq!(to_byte(TEXT, 7), x);
        for at in TEXT.char_indices().map(|(at, _)| at) {
            assert_eq!(to_byte(TEXT, from_byte(TEXT, at)), at, "byte {at}");
        }
    }

    #[test]
    fn offsets_inside_a_character_or_past_the_end_clamp() {
        let clef = TEXT.find('𝄞').unwrap();
        assert_eq!(from_byte(TEXT, clef + 1), from_byte(TEXT, clef));
        // Between the halves of the surrogate pair: the character's start.
        assert_eq!(to_byte(TEXT, from_byte(TEXT, clef) + 1), clef);
        assert_eq!(to_byte(TEXT, 999), TEXT.len());
        assert_eq!(from_byte(TEXT, 999), 8);
    }
}
