//! YAML to a tree of nodes that keep their byte spans, through serde-saphyr
//! with limits that refuse alias bombs, absurd nesting and huge scalars.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use tombola_grammar::Span;

use crate::diagnostic::{Code, Diagnostic};

/// Largest campaign file read, in bytes.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Largest single scalar, in bytes.
pub(crate) const MAX_SCALAR_BYTES: usize = 64 * 1024;
/// Deepest nesting of maps and lists.
pub(crate) const MAX_NESTING: usize = 32;
/// Most nodes an alias may replay across the file: plenty for reuse, too few for a bomb.
pub(crate) const MAX_ALIAS_EVENTS: usize = 20_000;

/// A YAML node with the byte span of its text (for an alias, the anchored text).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Null,
    Bool,
    Int(i128),
    Float,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Whether this node, as a map key, is `name`. Plain scalars compare as written.
    pub(crate) fn is_key(&self, name: &str) -> bool {
        match &self.kind {
            Kind::Str(text) => text == name,
            Kind::Map(_) | Kind::Seq(_) => false,
            _ => false,
        }
    }

    /// What the node is, for messages: "a map", "a list", "text"…
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing",
            Kind::Bool => "a boolean",
            Kind::Int(_) => "a whole number",
            Kind::Float => "a number",
            Kind::Str(_) => "text",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }
}

/// What serde-saphyr hands us: a value with its locations.
struct RawKind(Kind);

struct RawNode(Spanned<RawKind>);

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl<'de> Visitor<'de> for KindVisitor {
            type Value = RawKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Null))
            }
            fn visit_none<E>(self) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Null))
            }
            fn visit_bool<E>(self, _: bool) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Bool))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Int(v.into())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Int(v.into())))
            }
            fn visit_i128<E>(self, v: i128) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Int(v)))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<RawKind, E> {
                i128::try_from(v)
                    .map(|v| RawKind(Kind::Int(v)))
                    .map_err(|_| E::custom("number out of range"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Float))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Str(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
                Ok(RawKind(Kind::Str(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
                let mut items = Vec::new();
                while let Some(RawNode(item)) = seq.next_element()? {
                    items.push(convert(item));
                }
                Ok(RawKind(Kind::Seq(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
                let mut entries = Vec::new();
                while let Some((RawNode(key), RawNode(value))) = map.next_entry()? {
                    entries.push((convert(key), convert(value)));
                }
                Ok(RawKind(Kind::Map(entries)))
            }
        }
        deserializer.deserialize_any(KindVisitor)
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<RawKind>::deserialize(deserializer).map(RawNode)
    }
}

fn convert(raw: Spanned<RawKind>) -> Node {
    let location = raw.defined;
    let span = location.span();
    let start = span.byte_offset().unwrap_or(span.offset()) as usize;
    let len = span.byte_len().unwrap_or(span.len()) as usize;
    Node {
        kind: raw.value.0,
        span: Span::new(start, start + len),
    }
}

/// A file over [`MAX_FILE_BYTES`], `len` bytes long: it is refused before it is parsed.
pub(crate) fn too_large(len: u64) -> Diagnostic {
    Diagnostic::new(
        Code::Limits,
        Span::new(0, 0),
        format!("the file is {len} bytes; campaign files may be at most {MAX_FILE_BYTES}"),
    )
    .label("file starts here")
    .help("split the campaign, or move data such as coupon codes to the API")
}

/// The most YAML nodes (keys, values, lists and maps) a file may hold: far
/// beyond any campaign, and a bound on the work of checking one.
const MAX_NODES: usize = 1_000_000;

/// Parses `source` into a node tree, or explains why it cannot (a boxed
/// diagnostic: it is the rare answer and a large one, so the common `Ok` stays small).
pub(crate) fn parse(source: &str) -> Result<Node, Box<Diagnostic>> {
    if source.len() > MAX_FILE_BYTES {
        return Err(Box::new(too_large(source.len() as u64)));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_NESTING,
            max_documents: 1,
            max_nodes: MAX_NODES,
            max_events: 4 * MAX_NODES,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
        // YAML 1.2 booleans only: `on`, `yes` and `no` stay words (`on: sign_in` is a key).
        strict_booleans: true,
        // Hand repeated keys to the decoder, which shows both definitions (T0206)
        // instead of a parser error that names neither.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
            max_replay_stack_depth: 16,
        },
    };
    let raw: Spanned<RawKind> = match serde_saphyr::from_str_with_options(source, options) {
        Ok(raw) => raw,
        Err(error) => return Err(Box::new(yaml_error(source, &error))),
    };
    let mut node = convert(raw);
    cover_children(&mut node, source);
    if let Some(big) = find_huge_scalar(&node) {
        return Err(Box::new(
            Diagnostic::new(
                Code::Limits,
                Span::new(big.span.start, big.span.start),
                format!(
                    "this value is {} bytes; a value may be at most {MAX_SCALAR_BYTES}",
                    match &big.kind {
                        Kind::Str(text) => text.len(),
                        _ => big.span.end - big.span.start,
                    }
                ),
            )
            .label("too large")
            .help("campaign values are short; upload large data through the API"),
        ));
    }
    Ok(node)
}

/// serde-saphyr locates a map or a list by its first character only (`{`, `[`,
/// `-` or the first key), so "missing key" and "wrong type" would underline
/// nothing. Stretch each collection over its entries and, in flow style, its
/// closing bracket.
fn cover_children(node: &mut Node, source: &str) {
    let children_end = match &mut node.kind {
        Kind::Seq(items) => {
            items
                .iter_mut()
                .for_each(|item| cover_children(item, source));
            items.iter().map(|item| item.span.end).max()
        }
        Kind::Map(entries) => {
            entries.iter_mut().for_each(|(key, value)| {
                cover_children(key, source);
                cover_children(value, source);
            });
            entries
                .iter()
                .map(|(key, value)| key.span.end.max(value.span.end))
                .max()
        }
        _ => return,
    };
    let start = node.span.start.min(source.len());
    let mut end = children_end.unwrap_or(start).max(node.span.end);
    let close = match source.as_bytes().get(start) {
        Some(b'{') => Some('}'),
        Some(b'[') => Some(']'),
        _ => None,
    };
    let after = end.max(start + 1);
    if let (Some(close), Some(rest)) = (close, source.get(after..)) {
        // Past the last entry only blanks, commas and comments stand before the bracket.
        let mut in_comment = false;
        for (at, c) in rest.char_indices() {
            match c {
                '\n' => in_comment = false,
                _ if in_comment => {}
                '#' => in_comment = true,
                c if c == close => {
                    end = after + at + 1;
                    break;
                }
                ' ' | '\t' | '\r' | ',' => {}
                _ => break,
            }
        }
    }
    node.span = Span::new(start, end.min(source.len()));
}

fn find_huge_scalar(node: &Node) -> Option<&Node> {
    match &node.kind {
        Kind::Str(text) if text.len() > MAX_SCALAR_BYTES => Some(node),
        Kind::Seq(items) => items.iter().find_map(find_huge_scalar),
        Kind::Map(entries) => entries
            .iter()
            .find_map(|(key, value)| find_huge_scalar(key).or_else(|| find_huge_scalar(value))),
        _ => None,
    }
}

fn yaml_error(source: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let span = error
        .location()
        .map(|location| {
            let span = location.span();
            let start = (span.byte_offset().unwrap_or(span.offset()) as usize).min(source.len());
            let len = span.byte_len().unwrap_or(span.len()) as usize;
            Span::new(start, (start + len).min(source.len()))
        })
        .unwrap_or_default();
    let rendered = error.without_snippet().to_string();
    // serde-saphyr appends "at line X column Y"; the diagnostic shows the position itself.
    let message = rendered
        .split(" at line ")
        .next()
        .unwrap_or(&rendered)
        .trim()
        .to_string();
    match failure(error) {
        // serde-saphyr words it in its own counters; say what the file does.
        Failure::AliasReplay => Diagnostic::new(
            Code::Limits,
            span,
            format!("aliases in this file replay more than {MAX_ALIAS_EVENTS} YAML nodes"),
        )
        .label("the limit is passed here")
        .help("aliases that repeat other aliases multiply; write the data out, or upload large lists (user ids, codes) through the API"),
        Failure::TooDeep => Diagnostic::new(
            Code::Limits,
            span,
            format!("the file nests maps and lists deeper than {MAX_NESTING} levels"),
        )
        .label("too deep here")
        .help("campaign files are shallow; check the indentation around this point"),
        Failure::TooManyNodes => Diagnostic::new(
            Code::Limits,
            span,
            format!("the file holds more than {MAX_NODES} YAML nodes (keys, values and list items)"),
        )
        .label("the limit is passed here")
        .help("campaign files are small; upload large lists (user ids, codes) through the API"),
        Failure::Limit => Diagnostic::new(Code::Limits, span, format!("the file exceeds a safety limit: {message}"))
            .label("here")
            .help(format!(
                "campaign files may nest {MAX_NESTING} levels and replay at most {MAX_ALIAS_EVENTS} nodes through aliases"
            )),
        Failure::Unclosed(bracket) => unclosed(source, span, bracket),
        Failure::ManyDocuments => many_documents(source, span),
        Failure::Syntax => Diagnostic::new(Code::YamlSyntax, span, format!("invalid YAML: {message}"))
            .label("here")
            .help("check the indentation and the quoting around this point"),
    }
}

/// What kind of failure a serde-saphyr error is, read from its variants (and,
/// for the YAML scanner's errors, from the scanner's own error kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Aliases replayed more nodes than [`MAX_ALIAS_EVENTS`], or nested too deep.
    AliasReplay,
    /// Maps and lists nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// Another safety limit.
    Limit,
    /// A flow collection (`[` or `{`) never closed.
    Unclosed(char),
    /// A second YAML document (`---`) after the first.
    ManyDocuments,
    /// More nodes than [`MAX_NODES`].
    TooManyNodes,
    Syntax,
}

fn failure(error: &serde_saphyr::Error) -> Failure {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    use serde_saphyr::granit_parser::ErrorKind as K;
    let mut error = error;
    // The wrappers only add a snippet or the alias's locations to the error they hold.
    while let E::WithSnippet { error: inner, .. } | E::AliasError { error: inner, .. } = error {
        error = inner;
    }
    match error {
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => Failure::AliasReplay,
        E::Budget {
            breach: B::Depth { .. } | B::InclusionDepth { .. } | B::PropertyExpansionDepth { .. },
            ..
        }
        | E::InternalDepthUnderflow { .. } => Failure::TooDeep,
        E::Budget {
            breach: B::Documents { .. },
            ..
        }
        | E::MultipleDocuments { .. } => Failure::ManyDocuments,
        E::Budget {
            breach: B::Nodes { .. } | B::Events { .. },
            ..
        } => Failure::TooManyNodes,
        E::Budget { .. } | E::AliasReplayCounterOverflow { .. } => Failure::Limit,
        // Classified as limits since the messages were matched on the word "alias";
        // kept so this change alters no diagnostic (they are mistakes, not limits).
        E::UnknownAnchor { .. } => Failure::Limit,
        E::ExternalMessage { source, .. } => match &**source {
            serde_saphyr::ExternalMessageSource::Parser(scan) => match scan.kind() {
                K::UnclosedFlowCollection { open } => Failure::Unclosed(*open),
                K::RecursionLimitExceeded
                | K::AnchorCountOverflow
                | K::InputByteLimitExceeded { .. }
                | K::DirectiveByteLimitExceeded { .. }
                | K::TooManyReservedDirectiveParams { .. } => Failure::Limit,
                K::MissingAnchorOrAliasName => Failure::Limit,
                _ => Failure::Syntax,
            },
            _ => Failure::Syntax,
        },
        _ => Failure::Syntax,
    }
}

/// The parser points at the entry that holds the bracket; underline the bracket.
fn unclosed(source: &str, span: Span, bracket: char) -> Diagnostic {
    let line = source
        .get(span.start..)
        .and_then(|rest| rest.split('\n').next())
        .unwrap_or("");
    let span = line
        .find(bracket)
        .map_or(span, |at| Span::new(span.start + at, span.start + at + 1));
    let close = if bracket == '[' { ']' } else { '}' };
    Diagnostic::new(
        Code::YamlSyntax,
        span,
        format!("invalid YAML: `{bracket}` is never closed"),
    )
    .label(format!("opened here, no `{close}` follows"))
    .help(format!(
        "close it with `{close}` at the end of the value it opens"
    ))
}

/// A file with a second document: serde-saphyr words it in its budget's
/// terms (`Documents { documents: 2 }`) and points where it stopped counting,
/// so find the second document's start in the text.
fn many_documents(source: &str, fallback: Span) -> Diagnostic {
    Diagnostic::new(
        Code::ManyDocuments,
        second_document(source).unwrap_or(fallback),
        "the file holds more than one YAML document; a campaign file is one document",
    )
    .label("a second document starts here")
    .help("put each campaign in a file of its own, or remove this `---` line")
}

/// The span of the line that starts the second document: a `---` after the
/// first document's content, or content after a `...` that ended it.
fn second_document(source: &str) -> Option<Span> {
    let mut content = false;
    let mut ended = false;
    let mut at = 0;
    for line in source.split_inclusive('\n') {
        let text = line.trim_end();
        let span = Span::new(at, at + text.len());
        at += line.len();
        let marker = |m: &str| text == m || text.starts_with(&format!("{m} "));
        if marker("---") {
            if content || ended {
                return Some(span);
            }
            content = true;
        } else if marker("...") {
            ended = content;
        } else if !text.trim_start().is_empty() && !text.trim_start().starts_with('#') {
            if ended && !text.starts_with('%') {
                return Some(span);
            }
            content = true;
        }
    }
    None
}

/// A file that is not UTF-8: where the first invalid byte is, in the text
/// [`crate::check_bytes`] shows (the same bytes up to there, then U+FFFD).
pub(crate) fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error) -> Diagnostic {
    let at = error.valid_up_to();
    let span = Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8());
    let message = match error.error_len() {
        Some(len) => {
            let shown: Vec<String> = bytes[at..at + len]
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            let (noun, verb) = if len == 1 {
                ("byte", "is")
            } else {
                ("bytes", "are")
            };
            format!(
                "the file is not UTF-8 text: {noun} {} here {verb} not a UTF-8 character",
                shown.join(" ")
            )
        }
        None => "the file is not UTF-8 text: it ends inside a character".to_string(),
    };
    Diagnostic::new(Code::NotUtf8, span, message)
        .label("not UTF-8")
        .help(
            "save the file as UTF-8; this byte suggests another encoding (Latin-1, Windows-1252…)",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'s>(source: &'s str, node: &Node) -> &'s str {
        &source[node.span.start..node.span.end]
    }

    #[test]
    fn collections_span_their_entries() {
        let source =
            "pool:\n  - { award: points, rate: 1 }  # all\n  - [a, b ]\nm:\n  k: v\n  j: x\n";
        let root = parse(source).expect("valid YAML");
        let Kind::Map(entries) = &root.kind else {
            panic!("a map")
        };
        let pool = &entries[0].1;
        assert_eq!(
            text(source, pool),
            "- { award: points, rate: 1 }  # all\n  - [a, b ]"
        );
        let Kind::Seq(items) = &pool.kind else {
            panic!("a list")
        };
        assert_eq!(text(source, &items[0]), "{ award: points, rate: 1 }");
        assert_eq!(text(source, &items[1]), "[a, b ]");
        assert_eq!(text(source, &entries[1].1), "k: v\n  j: x");
    }
}
