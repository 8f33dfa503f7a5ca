//! The limits every caller's input is held to, the same on every store: what an
//! identifier may be, how long free text and attributes may get.

use std::sync::LazyLock;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Most Unicode scalar values in an identifier (what OpenAPI's `maxLength` counts).
pub const MAX_ID_CHARS: usize = 256;

/// Most Unicode scalar values in free text, e.g. an adjustment's `reason`.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// Most Unicode scalar values in one string attribute (a list's items included).
pub const MAX_ATTRIBUTE_CHARS: usize = 1_000;

/// Most items in one list attribute.
pub const MAX_ATTRIBUTE_ITEMS: usize = 1_000;

/// Most Unicode scalar values of one value an explanation records; longer ones
/// are cut, so a stored answer stays small whatever a campaign reads.
pub const MAX_RECORDED_CHARS: usize = 200;

/// Checks one identifier — a user id, a request id, a campaign, award, SKU or
/// event id, a coupon code, a key name: 1 to [`MAX_ID_CHARS`] Unicode scalar
/// values and no control or format character (categories Cc and Cf: NUL, a
/// zero-width joiner, a bidi override). Never trimmed: identifiers compare byte
/// for byte, so `" a"` and `"a"` are two users. The error says what is wrong.
pub fn check_identifier(value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_ID_CHARS {
        return Err(format!(
            "must be 1 to {MAX_ID_CHARS} characters (Unicode scalar values), not {chars}"
        ));
    }
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| invisible(*c)) {
        return Err(format!(
            "must not contain control or format characters (U+{:04X} at character {})",
            u32::from(c),
            at + 1
        ));
    }
    Ok(())
}

/// Checks free text, e.g. an adjustment's reason: 1 to [`MAX_TEXT_CHARS`]
/// Unicode scalar values, no control character other than tab and newline,
/// and no bidirectional embedding, override or isolate, which would make a
/// note in the audit log or the console read as other text than it is.
pub fn check_text(value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if value.chars().all(blank) || chars > MAX_TEXT_CHARS {
        return Err(format!(
            "must be 1 to {MAX_TEXT_CHARS} characters, not blank or only invisible ones (it has {chars})"
        ));
    }
    if let Some(c) = value.chars().find(|c| refused_in_text(*c)) {
        return Err(format!(
            "must not contain control characters or bidirectional controls (U+{:04X})",
            u32::from(c)
        ));
    }
    Ok(())
}

/// [`check_identifier`] as a regular expression, for the OpenAPI document's
/// `pattern`, so a client or a test generator derives exactly the strings the
/// server takes. Built from the rule itself, one class of every excluded range.
/// Computed once: the walk over every scalar value is not free, and every
/// router the server builds carries the document.
pub fn identifier_pattern() -> &'static str {
    static PATTERN: LazyLock<String> =
        LazyLock::new(|| format!("^[^{}]{{1,{MAX_ID_CHARS}}}$", class_of(invisible)));
    &PATTERN
}

/// [`check_text`] as a regular expression: no refused control character, and
/// at least one character that is not white space or a format character. The length is left to
/// `maxLength`, since a pattern cannot count across its three parts.
pub fn text_pattern() -> &'static str {
    static PATTERN: LazyLock<String> = LazyLock::new(|| {
        let allowed = class_of(refused_in_text);
        let visible = class_of(|c| refused_in_text(c) || blank(c));
        format!("^[^{allowed}]*[^{visible}][^{allowed}]*$")
    });
    &PATTERN
}

/// A character that shows nothing: white space, or a format character (a
/// zero-width space or joiner, a direction mark); text of only these is blank.
fn blank(c: char) -> bool {
    c.is_whitespace() || get_general_category(c) == GeneralCategory::Format
}

/// A character free text may not hold: a control character but tab and
/// newline, or a bidirectional embedding, override or isolate (U+202A to
/// U+202E, U+2066 to U+2069).
fn refused_in_text(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The ranges of every scalar value `member` holds, as the inside of a regular
/// expression's `[…]`. Characters of the Basic Multilingual Plane are written
/// `\uXXXX`, which ECMA-262, Rust and Python read alike; those beyond it as
/// themselves, since no escape for them is read by all three.
fn class_of(member: impl Fn(char) -> bool) -> String {
    let mut ranges: Vec<(char, char)> = Vec::new();
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if !member(c) {
            continue;
        }
        match ranges.last_mut() {
            Some((_, end)) if u32::from(*end) + 1 == u32::from(c) => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    let spell = |c: char| {
        if u32::from(c) <= 0xFFFF {
            format!("\\u{:04X}", u32::from(c))
        } else {
            c.to_string()
        }
    };
    ranges
        .into_iter()
        .map(|(start, end)| match u32::from(end) - u32::from(start) {
            0 => spell(start),
            1 => format!("{}{}", spell(start), spell(end)),
            _ => format!("{}-{}", spell(start), spell(end)),
        })
        .collect()
}

/// A character no one can see or type on purpose in an identifier.
fn invisible(c: char) -> bool {
    c.is_control() || get_general_category(c) == GeneralCategory::Format
}

/// `value` cut to at most `max` Unicode scalar values, with `…` where it was cut.
pub(crate) fn cut(value: String, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((end, _)) => {
            let mut cut = value[..end].to_string();
            cut.push('…');
            cut
        }
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_one_to_256_visible_scalars() {
        assert!(check_identifier("user-1").is_ok());
        assert!(check_identifier(" spaced ").is_ok(), "never trimmed");
        assert!(
            check_identifier(&"é".repeat(256)).is_ok(),
            "scalars, not bytes"
        );
        assert!(check_identifier(&"é".repeat(257)).is_err());
        assert!(check_identifier("").is_err());
        for bad in ["a\0b", "a\u{7}", "a\u{200d}b", "\u{202e}abc", "a\u{feff}"] {
            let error = check_identifier(bad).unwrap_err();
            assert!(error.contains("control or format"), "{bad:?}: {error}");
        }
    }

    /// Every scalar value, alone and inside an identifier: the pattern the
    /// OpenAPI document states takes exactly what the rule takes.
    #[test]
    fn the_identifier_pattern_is_the_identifier_rule() {
        let pattern = regex::Regex::new(identifier_pattern()).unwrap();
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let value = format!("a{c}");
            assert_eq!(
                pattern.is_match(&value),
                check_identifier(&value).is_ok(),
                "U+{:04X}",
                u32::from(c)
            );
        }
        assert!(pattern.is_match(&"é".repeat(256)));
        assert!(!pattern.is_match(&"é".repeat(257)));
        assert!(!pattern.is_match(""));
    }

    #[test]
    fn the_text_pattern_is_the_text_rule() {
        let pattern = regex::Regex::new(text_pattern()).unwrap();
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            for value in [format!("{c}"), format!("a{c}"), format!(" {c} ")] {
                assert_eq!(
                    pattern.is_match(&value),
                    check_text(&value).is_ok(),
                    "{value:?}"
                );
            }
        }
    }

    #[test]
    fn text_refuses_nul_and_blank() {
        assert!(check_text("refund for order 42\nsee ticket").is_ok());
        assert!(check_text("a\0").is_err());
        assert!(check_text("   ").is_err());
        // Only invisible characters is blank too.
        assert!(check_text("\u{200B}\u{200E} \u{FEFF}").is_err());
        assert!(check_text(&"x".repeat(1_001)).is_err());
    }

    #[test]
    fn text_refuses_bidirectional_controls_but_keeps_joiners() {
        // U+202E would show "refund 42 for gpj.exe" as other text.
        assert!(check_text("refund \u{202E}exe.jpg").is_err());
        assert!(check_text("a \u{2067}b").is_err());
        // The zero-width joiner (also a format character) makes emoji sequences.
        assert!(check_text("thanks 👩\u{200D}💻").is_ok());
        assert!(check_text("שלום עולם").is_ok());
    }

    #[test]
    fn cut_marks_where_it_cut() {
        assert_eq!(cut("abcdef".into(), 3), "abc…");
        assert_eq!(cut("abc".into(), 3), "abc");
        assert_eq!(cut("ééé".into(), 2), "éé…");
    }
}
