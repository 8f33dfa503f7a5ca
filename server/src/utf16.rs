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

/// One text's offsets converted many times (every diagnostic of a file):
/// where each non-ASCII character ends, with the UTF-16 offset there, so a
/// conversion is a binary search instead of a scan of the text before it.
#[derive(Debug)]
pub(crate) struct Offsets<'a> {
    text: &'a str,
    /// (byte offset just past a non-ASCII character, UTF-16 offset there).
    wide: Vec<(usize, usize)>,
}

impl<'a> Offsets<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut units = 0;
        let mut wide = Vec::new();
        for (at, c) in text.char_indices() {
            units += c.len_utf16();
            if !c.is_ascii() {
                wide.push((at + c.len_utf8(), units));
            }
        }
        Offsets { text, wide }
    }

    /// [`from_byte`], without the scan.
    pub(crate) fn units_at(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // Past the last wide character before `offset`, every byte is one unit.
        match self.wide.partition_point(|&(end, _)| end <= offset) {
            0 => offset,
            after => {
                let (end, units) = self.wide[after - 1];
                units + (offset - end)
            }
        }
    }

    /// [`span`], without the scan.
    pub(crate) fn span(&self, span: Span) -> (usize, usize) {
        (self.units_at(span.start), self.units_at(span.end))
    }
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
    fn the_index_converts_as_the_scan_does_at_every_byte() {
        let text = format!("{TEXT}\nb: ü{TEXT}ß\n");
        let offsets = Offsets::new(&text);
        for at in 0..=text.len() + 2 {
            assert_eq!(offsets.units_at(at), from_byte(&text, at), "byte {at}");
        }
        let ascii = Offsets::new("plain: text");
        assert_eq!((ascii.units_at(5), ascii.wide.len()), (5, 0));
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
