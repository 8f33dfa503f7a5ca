//! Node tree to document types, collecting every structural error (unknown,
//! missing and mistyped keys, malformed values) instead of stopping at the first.

use std::collections::{HashMap, HashSet};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tombola_grammar::{Span, did_you_mean};

use crate::diagnostic::{Code, Diagnostic, Fix};
use crate::model::*;
use crate::yaml::{Kind, Node};

mod sections;

/// The decoded file, with what could not be decoded remembered so checks that
/// would only repeat an earlier error are skipped.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub file: CampaignFile,
    /// Ids whose definition had errors: references to them are not reported again.
    pub broken_ids: HashSet<String>,
    /// Sections where an entry was dropped: totals over them (rate sums…) are not checked.
    pub incomplete: HashSet<&'static str>,
    /// Sections that are missing or could not be read at all: their ids are
    /// unknown, so references into them are not reported (and a `window`
    /// that could not be read is not checked: a stand-in holds its place).
    pub unreadable: HashSet<&'static str>,
    /// The `pool` key, where findings about the whole pool point.
    pub pool_key: Option<Span>,
}

pub(crate) struct Decoder<'s> {
    source: &'s str,
    /// Spans of expressions YAML cut at a comma inside a flow map.
    cut_expressions: Vec<Span>,
    /// Every expression read, in the order read: what `fmt` prints canonically.
    expressions: Vec<ExprText>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    broken_ids: HashSet<String>,
    incomplete: HashSet<&'static str>,
    unreadable: HashSet<&'static str>,
}

/// Reads a map's keys once each; `finish` reports the keys nobody asked for.
struct MapReader<'n> {
    node: &'n Node,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    known: Vec<&'static str>,
    what: String,
}

impl<'n> MapReader<'n> {
    fn take(&mut self, key: &'static str) -> Option<&'n Node> {
        self.known.push(key);
        let index = self.entries.iter().position(|(k, _)| k.is_key(key))?;
        self.used[index] = true;
        Some(&self.entries[index].1)
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.is_key(key))
    }

    /// The span of `key` itself, where a finding about the key's presence points.
    fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.is_key(key))
            .map(|(k, _)| k.span)
    }

    fn required(&mut self, d: &mut Decoder<'_>, key: &'static str) -> Option<&'n Node> {
        let found = self.take(key);
        if found.is_none() {
            d.push(
                Diagnostic::new(
                    Code::MissingKey,
                    d.head(self.node),
                    format!("{} is missing the key `{key}`", self.what),
                )
                .label(format!("`{key}` is required here")),
            );
        }
        found
    }

    fn finish(self, d: &mut Decoder<'_>) {
        for ((key, _), used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let name = match &key.kind {
                Kind::Str(name) => name.clone(),
                _ => d.raw(key).to_string(),
            };
            // The tail of an expression cut at a comma in a `{ … }` map: already reported.
            if d.cut_expressions
                .iter()
                .any(|cut| cut.end <= key.span.start && key.span.start <= cut.end + 2)
            {
                continue;
            }
            let suggestion = did_you_mean(&name, self.known.iter().copied());
            let help = match suggestion {
                Some(known) => format!("did you mean `{known}`?"),
                None => format!("{} takes: {}", self.what, self.known.join(", ")),
            };
            d.push(
                Diagnostic::new(
                    Code::UnknownKey,
                    key.span,
                    format!("unknown key `{name}` in {}", self.what),
                )
                .label("not a key here")
                .help(help)
                .maybe_fix(suggestion.map(|known| Fix::replace(key.span, known))),
            );
        }
    }
}

impl<'s> Decoder<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Decoder {
            source,
            cut_expressions: Vec::new(),
            expressions: Vec::new(),
            diagnostics: Vec::new(),
            broken_ids: HashSet::new(),
            incomplete: HashSet::new(),
            unreadable: HashSet::new(),
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The first line of a node: where "missing key" points for a block map.
    fn head(&self, node: &Node) -> Span {
        let text = self.raw(node);
        let end = text
            .find('\n')
            .map_or(node.span.end, |at| node.span.start + at);
        Span::new(node.span.start, end)
    }

    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    fn wrong_type(&mut self, node: &Node, expected: &str, what: &str) {
        let span = if matches!(node.kind, Kind::Map(_) | Kind::Seq(_)) {
            self.head(node)
        } else {
            node.span
        };
        // The two shapes people swap most often get a hint in YAML terms.
        let help = match (&node.kind, expected) {
            (Kind::Map(_), "a list") => {
                Some("start each item of a list with `- ` on its own line, or write `[a, b]`")
            }
            (Kind::Seq(_), "a map") => Some("write `key: value` pairs, without `- ` in front"),
            _ => None,
        };
        self.push(
            Diagnostic::new(
                Code::WrongType,
                span,
                format!("{what} must be {expected}, found {}", node.describe()),
            )
            .label(format!("expected {expected}"))
            .maybe_help(help.map(String::from)),
        );
    }

    fn invalid(&mut self, node: &Node, message: String, help: Option<String>) {
        self.push(
            Diagnostic::new(Code::InvalidValue, node.span, message)
                .label("invalid value")
                .maybe_help(help),
        );
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<MapReader<'n>> {
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(node, "a map", what);
            return None;
        };
        let mut used = vec![false; entries.len()];
        // A repeated key: the first one is read, the later ones are reported here
        // rather than as unknown keys by `finish`.
        for (later, (key, _)) in entries.iter().enumerate() {
            let Kind::Str(name) = &key.kind else { continue };
            let first = entries[..later]
                .iter()
                .find(|(seen, _)| matches!(&seen.kind, Kind::Str(seen) if seen == name));
            if let Some((first, _)) = first {
                used[later] = true;
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        key.span,
                        format!("`{name}` appears twice in {what}"),
                    )
                    .label("second time")
                    .with(first.span, "first time")
                    .help("keep one of them; only the first would be read"),
                );
            }
        }
        Some(MapReader {
            node,
            entries,
            used,
            known: Vec::new(),
            what: what.to_string(),
        })
    }

    fn seq<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.kind {
            Kind::Seq(items) => Some(items),
            Kind::Null => Some(&[]),
            _ => {
                self.wrong_type(node, "a list", what);
                None
            }
        }
    }

    fn raw(&self, node: &Node) -> &'s str {
        // Spans come from the parser; an odd one shows as empty text rather than a panic.
        self.source
            .get(node.span.start..node.span.end.min(self.source.len()))
            .unwrap_or("")
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        match &node.kind {
            Kind::Str(text) => Some(Sp::new(text.clone(), node.span)),
            _ => {
                self.wrong_type(node, "text", what);
                None
            }
        }
    }

    /// Text of a scalar as an author would read it: strings as they are, numbers as written.
    fn scalar_text(&self, node: &Node) -> Option<String> {
        match &node.kind {
            Kind::Str(text) => Some(text.clone()),
            Kind::Int(_) | Kind::Float | Kind::Bool => Some(self.raw(node).to_string()),
            _ => None,
        }
    }

    fn id(&mut self, node: &Node, what: &str) -> Option<Id> {
        let text = match &node.kind {
            Kind::Str(text) => text.clone(),
            Kind::Int(_) => self.raw(node).to_string(),
            _ => {
                self.wrong_type(node, "an id", what);
                return None;
            }
        };
        if !is_id(&text) {
            self.invalid(
                node,
                format!("`{text}` is not a valid id for {what}"),
                Some("ids use lowercase letters, digits, `_` and `-`, start with a letter or digit, and are at most 64 long".into()),
            );
            return None;
        }
        Some(Sp::new(text, node.span))
    }

    fn uint<T: TryFrom<i128>>(&mut self, node: &Node, what: &str) -> Option<Sp<T>> {
        match &node.kind {
            Kind::Int(v) => match T::try_from(*v) {
                Ok(value) if *v >= 0 => Some(Sp::new(value, node.span)),
                _ => {
                    self.invalid(
                        node,
                        format!(
                            "{what} must be a whole number from 0 to {}, found {v}",
                            max_of::<T>()
                        ),
                        None,
                    );
                    None
                }
            },
            // A whole number too large even for 128 bits reads as a float.
            Kind::Float if is_whole_number(self.raw(node)) => {
                let raw = self.raw(node).trim().to_string();
                self.invalid(
                    node,
                    format!(
                        "{what} must be a whole number from 0 to {}, found {raw}",
                        max_of::<T>()
                    ),
                    None,
                );
                None
            }
            _ => {
                self.wrong_type(node, "a whole number", what);
                None
            }
        }
    }

    fn decimal_text(&mut self, node: &Node, text: &str, what: &str) -> Option<Decimal> {
        match Decimal::from_str_exact(text.trim()) {
            Ok(value) => Some(value),
            Err(_) => {
                self.invalid(
                    node,
                    format!("{what} must be an exact decimal, found `{text}`"),
                    None,
                );
                None
            }
        }
    }

    fn amount(&mut self, node: &Node, what: &str, credits_suffix: bool) -> Option<Sp<Amount>> {
        let text = match &node.kind {
            Kind::Int(_) | Kind::Float => self.raw(node).to_string(),
            Kind::Str(text) => {
                let trimmed = text.trim();
                match trimmed.strip_suffix("credits") {
                    Some(number) if credits_suffix => number.trim().to_string(),
                    _ => trimmed.to_string(),
                }
            }
            _ => {
                self.wrong_type(node, "a number", what);
                return None;
            }
        };
        let value = self.decimal_text(node, &text, what)?;
        Some(Sp::new(Amount(value), node.span))
    }

    fn rate(&mut self, node: &Node) -> Option<Sp<Rate>> {
        let (text, percent) = match &node.kind {
            Kind::Int(_) | Kind::Float => (self.raw(node).to_string(), false),
            Kind::Str(text) => match text.trim().strip_suffix('%') {
                Some(number) => (number.trim().to_string(), true),
                None => (text.trim().to_string(), false),
            },
            _ => {
                self.wrong_type(node, "a rate (`0.3` or `30%`)", "a rate");
                return None;
            }
        };
        let Ok(mut value) = Decimal::from_str_exact(&text) else {
            self.invalid(
                node,
                format!("`{}` is not an exact rate", self.raw(node)),
                Some("write a decimal such as `0.25` or a percentage such as `25%`".into()),
            );
            return None;
        };
        if percent {
            value = value.checked_div(Decimal::ONE_HUNDRED)?;
        }
        Some(Sp::new(Rate(value), node.span))
    }

    fn expr(&mut self, node: &Node, what: &str) -> Option<ExprText> {
        let text = match self.scalar_text(node) {
            Some(text) => text,
            None => {
                self.wrong_type(node, "an expression", what);
                return None;
            }
        };
        let raw = self.raw(node);
        let followed_by_comma = self
            .source
            .get(node.span.end..)
            .is_some_and(|rest| rest.starts_with(','));
        if raw == text && followed_by_comma && unbalanced(&text) {
            self.cut_expressions.push(node.span);
            let end = expression_end(self.source, node.span.start);
            self.push(
                Diagnostic::new(
                    Code::ExprSyntax,
                    Span::new(node.span.start, end),
                    format!("{what}: the expression was cut at a comma"),
                )
                .label(format!("YAML read only `{text}`"))
                .help(format!(
                    "inside `{{ … }}` a comma ends the value: quote the expression, e.g. \"{}\"",
                    &self.source[node.span.start..end].trim()
                )),
            );
            return None;
        }
        let base = if raw == text {
            Some(node.span.start)
        } else if raw.len() == text.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(text.as_str())
        {
            Some(node.span.start + 1)
        } else {
            None
        };
        let expr = ExprText {
            text,
            span: node.span,
            base,
        };
        self.expressions.push(expr.clone());
        Some(expr)
    }

    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        what: &str,
        options: &[(&'static str, T)],
    ) -> Option<Sp<T>> {
        let Kind::Str(text) = &node.kind else {
            self.wrong_type(node, "one of the listed words", what);
            return None;
        };
        match options.iter().find(|(name, _)| name == text) {
            Some((_, value)) => Some(Sp::new(*value, node.span)),
            None => {
                let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
                let suggestion = did_you_mean(text, names.iter().copied());
                let help = match suggestion {
                    Some(name) => format!("did you mean `{name}`?"),
                    None => format!("use one of: {}", names.join(", ")),
                };
                self.invalid(node, format!("`{text}` is not a valid {what}"), Some(help));
                if let (Some(name), Some(last)) = (suggestion, self.diagnostics.last_mut()) {
                    last.fix = Some(Box::new(Fix::replace(node.span, name)));
                }
                None
            }
        }
    }

    fn when(&mut self, node: &Node, what: &str) -> Option<Sp<When>> {
        let text = match &node.kind {
            Kind::Str(text) => text.trim().to_string(),
            _ => {
                self.wrong_type(node, "a date or a date and time", what);
                return None;
            }
        };
        let parsed = if text.len() == 10 {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .ok()
                .map(When::Date)
        } else {
            parse_datetime(&text)
        };
        match parsed {
            Some(value) => Some(Sp::new(value, node.span)),
            None => {
                self.push(
                    Diagnostic::new(
                        Code::BadTime,
                        node.span,
                        format!("`{text}` is not a valid date or date and time"),
                    )
                    .label("invalid")
                    .help("write `2026-03-01`, `2026-03-01T09:00`, or `2026-03-01T09:00:00+08:00`"),
                );
                None
            }
        }
    }

    /// A map keyed by ids; each value decoded by `value`.
    fn id_map<T>(
        &mut self,
        node: &Node,
        what: &str,
        section: &'static str,
        mut value: impl FnMut(&mut Self, &Id, &Node) -> Option<T>,
    ) -> IdMap<T> {
        let mut out = IdMap::default();
        let entries: &[(Node, Node)] = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => return out,
            _ => {
                self.wrong_type(node, "a map of ids", what);
                self.incomplete.insert(section);
                self.unreadable.insert(section);
                return out;
            }
        };
        // Ids seen so far, so a duplicate is found in O(1): pools can hold 10,000 awards.
        let mut seen: HashMap<String, Span> = HashMap::with_capacity(entries.len());
        for (key, body) in entries {
            let Some(id) = self.id(key, what) else {
                self.incomplete.insert(section);
                // `Points:` was reported as a malformed id; a reference to `points`
                // means it and is not reported again.
                if let Kind::Str(text) = &key.kind {
                    self.broken_ids.insert(text.to_lowercase());
                }
                continue;
            };
            if let Some(first) = seen.get(&id.value) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        id.span,
                        format!("`{}` is defined twice in {what}", id.value),
                    )
                    .label("second definition")
                    .with(*first, "first definition")
                    .help(format!("rename one of them: ids are unique within {what}")),
                );
                continue;
            }
            seen.insert(id.value.clone(), id.span);
            // An entry with any error is left out whole, and its id remembered as broken.
            let before = self.errors();
            match value(self, &id, body).filter(|_| self.errors() == before) {
                Some(decoded) => out.0.push((id, decoded)),
                None => {
                    self.broken_ids.insert(id.value.clone());
                    self.incomplete.insert(section);
                }
            }
        }
        out
    }

    /// Every expression of a file where the decoder reads one, in a file with
    /// errors too.
    pub(crate) fn expressions(mut self, root: &Node) -> Vec<ExprText> {
        let _ = self.campaign_file(root);
        self.expressions
    }

    /// Decodes a whole file.
    pub(crate) fn campaign(mut self, root: &Node) -> (Option<Decoded>, Vec<Diagnostic>) {
        let file = self.campaign_file(root);
        let pool_key = match &root.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(key, _)| key.is_key("pool"))
                .map(|(key, _)| key.span),
            _ => None,
        };
        let decoded = file.map(|file| Decoded {
            file,
            broken_ids: self.broken_ids,
            incomplete: self.incomplete,
            unreadable: self.unreadable,
            pool_key,
        });
        (decoded, self.diagnostics)
    }
}

/// Where an expression cut by YAML really ends: the first `,`, `}` or line end
/// outside brackets.
fn expression_end(source: &str, start: usize) -> usize {
    let mut depth = 0usize;
    for (at, c) in source[start..].char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' | '}' if depth == 0 => return start + at,
            '\n' => return start + at,
            _ => {}
        }
    }
    source.len()
}

/// More opening than closing brackets: a sign the text was cut short.
fn unbalanced(text: &str) -> bool {
    let open = text.matches(['(', '[']).count();
    let close = text.matches([')', ']']).count();
    open > close
}

/// Whether `text` is an id as campaign files write them: lowercase letters,
/// digits, `_` and `-`, starting with a letter or digit, at most 64 bytes.
pub fn is_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

fn max_of<T: TryFrom<i128>>() -> String {
    // The largest value that converts: probe the common widths.
    for candidate in [u64::MAX as i128, u32::MAX as i128, u16::MAX as i128] {
        if T::try_from(candidate).is_ok() {
            return candidate.to_string();
        }
    }
    "?".into()
}

pub(crate) fn parse_datetime(text: &str) -> Option<When> {
    let (local, offset) = if let Some(local) = text.strip_suffix('Z') {
        (local, FixedOffset::east_opt(0))
    } else if let Some(cut) = text.rfind(['+', '-']).filter(|&at| at > 10) {
        let (local, offset) = text.split_at(cut);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let hours: i32 = offset.get(1..3)?.parse().ok()?;
        let minutes: i32 = offset.get(4..6)?.parse().ok()?;
        if offset.len() != 6 {
            return None;
        }
        (
            local,
            Some(FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?),
        )
    } else {
        (text, None)
    };
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M"))
        .ok()?;
    Some(When::DateTime(naive, offset))
}

/// Whether `raw` is written as a whole number: digits with an optional sign.
fn is_whole_number(raw: &str) -> bool {
    let digits = raw.trim().trim_start_matches(['-', '+']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
