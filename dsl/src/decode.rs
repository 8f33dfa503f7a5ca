//! Node tree to document types, collecting every structural error (unknown,
//! missing and mistyped keys, malformed values) instead of stopping at the first.

use std::collections::{HashMap, HashSet};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tombola_grammar::{Span, did_you_mean};

use crate::diagnostic::{Code, Diagnostic};
use crate::model::*;
use crate::yaml::{Kind, Node};

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
    /// unknown, so references into them are not reported.
    pub unreadable: HashSet<&'static str>,
    /// The `pool` key, where findings about the whole pool point.
    pub pool_key: Option<Span>,
}

pub(crate) struct Decoder<'s> {
    source: &'s str,
    /// Spans of expressions YAML cut at a comma inside a flow map.
    cut_expressions: Vec<Span>,
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
                .help(help),
            );
        }
    }
}

impl<'s> Decoder<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Decoder {
            source,
            cut_expressions: Vec::new(),
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
        Some(ExprText {
            text,
            span: node.span,
            base,
        })
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
                let help = match did_you_mean(text, names.iter().copied()) {
                    Some(name) => format!("did you mean `{name}`?"),
                    None => format!("use one of: {}", names.join(", ")),
                };
                self.invalid(node, format!("`{text}` is not a valid {what}"), Some(help));
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

    fn campaign_file(&mut self, root: &Node) -> Option<CampaignFile> {
        if matches!(root.kind, Kind::Null) {
            self.push(
                Diagnostic::new(Code::MissingKey, root.span, "the file is empty")
                    .label("expected a campaign")
                    .help("a campaign starts with `campaign: <id>`, `name`, `window`, `awards` and `pool`"),
            );
            return None;
        }
        let mut m = self.map(root, "a campaign file")?;
        let campaign = m
            .required(self, "campaign")
            .and_then(|n| self.id(n, "`campaign`"));
        let name = m
            .required(self, "name")
            .and_then(|n| self.string(n, "`name`"));
        let description = m
            .take("description")
            .and_then(|n| self.string(n, "`description`"));
        let state = m.take("state").and_then(|n| {
            self.choice(
                n,
                "state",
                &[
                    ("draft", InitialState::Draft),
                    ("open", InitialState::Open),
                    ("closed", InitialState::Closed),
                ],
            )
        });
        let window = m.required(self, "window").and_then(|n| self.window(n));
        let allowance = m
            .take("allowance")
            .and_then(|n| self.uint(n, "`allowance`"));
        let quota = m.take("quota").and_then(|n| self.quota(n));
        let inputs = m.take("inputs").and_then(|n| {
            let inputs = self.inputs(n);
            if inputs.is_none() {
                self.unreadable.insert("inputs");
            }
            inputs
        });
        let delivery = m.take("delivery").and_then(|n| self.delivery(n));
        let awards = match m.required(self, "awards") {
            Some(n) => self.id_map(n, "`awards`", "awards", |d, id, body| d.award(id, body)),
            None => {
                self.unreadable.insert("awards");
                IdMap::default()
            }
        };
        let pool = match m.required(self, "pool") {
            Some(n) => self.list(n, "`pool`", "pool", Self::pool_entry),
            None => {
                // Already reported as missing; "the pool has no awards" would repeat it.
                self.incomplete.insert("pool");
                Vec::new()
            }
        };
        let before = match m.take("before") {
            Some(n) => self.list(n, "`before`", "before", Self::chain_rule),
            None => Vec::new(),
        };
        let trees = match m.take("trees") {
            Some(n) => self.id_map(n, "`trees`", "trees", |d, id, body| d.tree(id, body)),
            None => IdMap::default(),
        };
        let skus = match m.take("skus") {
            Some(n) => self.id_map(n, "`skus`", "skus", |d, id, body| d.sku(id, body)),
            None => IdMap::default(),
        };
        let rebates = match m.take("rebates") {
            Some(n) => self.list(n, "`rebates`", "rebates", Self::rebate),
            None => Vec::new(),
        };
        // Editors' schema comment and YAML anchors parked under `x-` keys are allowed.
        let extension_keys: Vec<usize> = m
            .entries
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| matches!(&k.kind, Kind::Str(name) if name.starts_with("x-")))
            .map(|(i, _)| i)
            .collect();
        for i in extension_keys {
            m.used[i] = true;
        }
        m.finish(self);
        Some(CampaignFile {
            campaign: campaign?,
            name: name?,
            description,
            state,
            window: window?,
            allowance,
            quota,
            inputs,
            delivery,
            awards,
            pool,
            before,
            trees,
            skus,
            rebates,
        })
    }

    fn list<T>(
        &mut self,
        node: &Node,
        what: &str,
        section: &'static str,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Vec<Sp<T>> {
        let Some(items) = self.seq(node, what) else {
            self.incomplete.insert(section);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for node in items {
            let before = self.errors();
            match item(self, node).filter(|_| self.errors() == before) {
                Some(value) => out.push(Sp::new(value, node.span)),
                None => {
                    self.incomplete.insert(section);
                }
            }
        }
        out
    }

    fn window(&mut self, node: &Node) -> Option<Sp<Window>> {
        let mut m = self.map(node, "`window`")?;
        let from = m
            .required(self, "from")
            .and_then(|n| self.when(n, "`window.from`"));
        let to = m.take("to").and_then(|n| self.when(n, "`window.to`"));
        let zone = m
            .required(self, "zone")
            .and_then(|n| self.string(n, "`window.zone`"));
        m.finish(self);
        Some(Sp::new(
            Window {
                from: from?,
                to,
                zone: zone?,
            },
            node.span,
        ))
    }

    fn quota(&mut self, node: &Node) -> Option<Sp<Quota>> {
        let mut m = self.map(node, "`quota`")?;
        let total = m.take("total").and_then(|n| self.uint(n, "`quota.total`"));
        let per_day = m
            .take("per_day")
            .and_then(|n| self.uint(n, "`quota.per_day`"));
        let per_month = m
            .take("per_month")
            .and_then(|n| self.uint(n, "`quota.per_month`"));
        m.finish(self);
        Some(Sp::new(
            Quota {
                total,
                per_day,
                per_month,
            },
            node.span,
        ))
    }

    fn type_decl(&mut self, _id: &Id, node: &Node) -> Option<Sp<String>> {
        self.string(node, "an input type")
    }

    fn inputs(&mut self, node: &Node) -> Option<Sp<Inputs>> {
        let mut m = self.map(node, "`inputs`")?;
        let user = match m.take("user") {
            Some(n) => self.id_map(n, "`inputs.user`", "inputs", Self::type_decl),
            None => IdMap::default(),
        };
        let events = match m.take("events") {
            Some(n) => self.id_map(n, "`inputs.events`", "events", |d, _, body| {
                Some(Sp::new(
                    d.id_map(body, "an event's attributes", "inputs", Self::type_decl),
                    body.span,
                ))
            }),
            None => IdMap::default(),
        };
        m.finish(self);
        Some(Sp::new(Inputs { user, events }, node.span))
    }

    fn delivery(&mut self, node: &Node) -> Option<Sp<Delivery>> {
        let mut m = self.map(node, "`delivery`")?;
        let webhook = m
            .required(self, "webhook")
            .and_then(|n| self.string(n, "`delivery.webhook`"));
        if let Some(secret) = m.take("secret") {
            self.push(
                Diagnostic::new(Code::SecretInFile, secret.span, "a signing secret is written in the campaign file")
                    .label("secrets do not belong in files")
                    .help("remove it, put it in an environment variable, and name that variable with `secret_env: MY_WEBHOOK_SECRET`"),
            );
        }
        let secret_env = m
            .required(self, "secret_env")
            .and_then(|n| self.string(n, "`delivery.secret_env`"));
        m.finish(self);
        Some(Sp::new(
            Delivery {
                webhook: webhook?,
                secret_env: secret_env?,
            },
            node.span,
        ))
    }

    fn award(&mut self, id: &Id, node: &Node) -> Option<Sp<Award>> {
        let what = format!("award `{}`", id.value);
        let mut m = self.map(node, &what)?;
        let kind = m.required(self, "kind").and_then(|n| {
            self.choice(
                n,
                "award kind",
                &[
                    ("credits", AwardKind::Credits),
                    ("draws", AwardKind::Draws),
                    ("item", AwardKind::Item),
                    ("coupon", AwardKind::Coupon),
                    ("none", AwardKind::None),
                ],
            )
        });
        let amount = m.take("amount").and_then(|n| self.expr(n, "`amount`"));
        let title = m.take("title").and_then(|n| self.string(n, "`title`"));
        let cost = m.take("cost").and_then(|n| self.amount(n, "`cost`", false));
        m.finish(self);
        Some(Sp::new(
            Award {
                kind: kind?,
                amount,
                title,
                cost,
            },
            node.span,
        ))
    }

    fn pool_entry(&mut self, node: &Node) -> Option<PoolEntry> {
        let mut m = self.map(node, "a pool entry")?;
        let award = m
            .required(self, "award")
            .and_then(|n| self.id(n, "`award`"));
        let rate = m.required(self, "rate").and_then(|n| self.rate(n));
        let stock = m.take("stock").and_then(|n| self.uint(n, "`stock`"));
        let tree = m.take("tree").and_then(|n| self.id(n, "`tree`"));
        let exhausted = m.take("exhausted").and_then(|n| self.id(n, "`exhausted`"));
        m.finish(self);
        Some(PoolEntry {
            award: award?,
            rate: rate?,
            stock,
            tree,
            exhausted,
        })
    }

    fn chain_rule(&mut self, node: &Node) -> Option<ChainRule> {
        let mut m = self.map(node, "a rule in `before`")?;
        let kinds: Vec<&str> = ["blacklist", "weight", "when"]
            .into_iter()
            .filter(|k| m.has(k))
            .collect();
        if kinds.len() != 1 {
            let message = if kinds.is_empty() {
                "a rule in `before` must be one of `blacklist`, `weight` or `when`".to_string()
            } else {
                format!(
                    "a rule in `before` must be one kind, found {}",
                    kinds.join(" and ")
                )
            };
            self.push(
                Diagnostic::new(
                    if kinds.is_empty() {
                        Code::MissingKey
                    } else {
                        Code::ConflictingKeys
                    },
                    self.head(node),
                    message,
                )
                .label("this rule")
                .help(if kinds.is_empty() {
                    "start the rule with `blacklist:`, `weight:` or `when:`"
                } else {
                    "split it into one rule per kind"
                }),
            );
        }
        let id = m.take("id").and_then(|n| self.id(n, "a rule id"));
        let blacklist = m.take("blacklist").and_then(|n| self.blacklist(n));
        let weight = m.take("weight").and_then(|n| self.weight(n));
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let give = m.take("give").and_then(|n| self.id(n, "`give`"));
        let draw = m.take("draw").and_then(|n| self.sub_pool(n));
        // Judge by the keys written, not by what decoded: a malformed `give` was
        // reported already and is still a `give`.
        let has_when = kinds.contains(&"when");
        let (give_key, draw_key) = (m.key_span("give"), m.key_span("draw"));
        m.finish(self);
        match (give_key, draw_key) {
            (Some(give_key), Some(draw_key)) if has_when => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        draw_key,
                        "a `when` rule either gives an award or draws from a sub-pool, not both",
                    )
                    .label("draws from a sub-pool")
                    .with(give_key, "gives an award")
                    .help("keep one of them; to do both, write two rules"),
                );
                return None;
            }
            (None, None) if has_when => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        self.head(node),
                        "a `when` rule needs `give` (an award) or `draw` (a sub-pool)",
                    )
                    .label("says when, not what")
                    .help("add `give: <award>` for a fixed award, or `draw: [<award>, …]` to draw from some of the pool's awards"),
                );
                return None;
            }
            // Without any kind the rule was reported above; a stray `give` adds nothing.
            (give_key, draw_key) if !has_when && !kinds.is_empty() => {
                if let Some(key) = draw_key.or(give_key) {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            key,
                            "`give` and `draw` belong to `when` rules",
                        )
                        .label("needs a `when`")
                        .help("a blacklist names its award inside: `blacklist: { users: […], give: … }`"),
                    );
                    return None;
                }
            }
            _ => {}
        }
        if kinds.len() != 1 || (blacklist.is_none() && weight.is_none() && when.is_none()) {
            return None;
        }
        Some(ChainRule {
            id,
            blacklist,
            weight,
            when,
            give,
            draw,
        })
    }

    fn blacklist(&mut self, node: &Node) -> Option<Sp<Blacklist>> {
        let mut m = self.map(node, "`blacklist`")?;
        let users = match m.take("users") {
            Some(n) => {
                let items = self.seq(n, "`users`").unwrap_or(&[]);
                items
                    .iter()
                    .filter_map(|n| self.string_or_number(n, "a user id"))
                    .collect()
            }
            None => Vec::new(),
        };
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let give = m.required(self, "give").and_then(|n| self.id(n, "`give`"));
        m.finish(self);
        Some(Sp::new(
            Blacklist {
                users,
                when,
                give: give?,
            },
            node.span,
        ))
    }

    fn string_or_number(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        match self.scalar_text(node) {
            Some(text) => Some(Sp::new(text, node.span)),
            None => {
                self.wrong_type(node, "text", what);
                None
            }
        }
    }

    fn weight(&mut self, node: &Node) -> Option<Sp<Weight>> {
        let mut m = self.map(node, "`weight`")?;
        let score = m.take("score").and_then(|n| self.expr(n, "`score`"));
        let mode = m.take("mode").and_then(|n| {
            self.choice(
                n,
                "weight mode",
                &[
                    ("at_least", WeightMode::AtLeast),
                    ("exactly", WeightMode::Exactly),
                ],
            )
        });
        let tiers = m.required(self, "tiers").and_then(|n| self.tiers(n));
        m.finish(self);
        Some(Sp::new(
            Weight {
                score,
                mode,
                tiers: tiers?,
            },
            node.span,
        ))
    }

    fn tiers(&mut self, node: &Node) -> Option<Sp<Tiers>> {
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(node, "a map of thresholds to awards", "`tiers`");
            return None;
        };
        let mut tiers = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let threshold = match &key.kind {
                Kind::Int(v) => i64::try_from(*v).ok(),
                Kind::Str(text) => text.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(threshold) = threshold else {
                self.invalid(
                    key,
                    format!(
                        "a tier threshold must be a whole number, found `{}`",
                        self.raw(key)
                    ),
                    None,
                );
                ok = false;
                continue;
            };
            match self.sub_pool(value) {
                Some(pool) => tiers.push((Sp::new(threshold, key.span), pool)),
                None => ok = false,
            }
        }
        ok.then(|| Sp::new(Tiers(tiers), node.span))
    }

    fn sub_pool(&mut self, node: &Node) -> Option<Sp<SubPool>> {
        match &node.kind {
            Kind::Seq(items) => {
                let ids: Vec<Id> = items
                    .iter()
                    .filter_map(|n| self.id(n, "an award"))
                    .collect();
                (ids.len() == items.len()).then(|| Sp::new(SubPool::Awards(ids), node.span))
            }
            Kind::Map(entries) => {
                let mut rated = Vec::new();
                for (key, value) in entries {
                    if let (Some(id), Some(rate)) = (self.id(key, "an award"), self.rate(value)) {
                        rated.push((id, rate));
                    }
                }
                (rated.len() == entries.len()).then(|| Sp::new(SubPool::Rated(rated), node.span))
            }
            _ => {
                self.wrong_type(
                    node,
                    "a list of awards or a map of awards to rates",
                    "a sub-pool",
                );
                None
            }
        }
    }

    fn tree(&mut self, id: &Id, node: &Node) -> Option<Sp<Vec<Sp<TreeNode>>>> {
        let items = self.seq(node, &format!("tree `{}`", id.value))?;
        let mut nodes = Vec::new();
        let mut ok = true;
        for item in items {
            match self.tree_node(item) {
                Some(n) => nodes.push(Sp::new(n, item.span)),
                None => ok = false,
            }
        }
        ok.then(|| Sp::new(nodes, node.span))
    }

    fn tree_node(&mut self, node: &Node) -> Option<TreeNode> {
        let entries = match &node.kind {
            Kind::Map(entries) if entries.len() == 1 => entries,
            Kind::Map(entries) if entries.len() > 1 => {
                self.push(
                    Diagnostic::new(Code::WrongType, self.head(node), "a tree node is one key, its id, holding the node's body")
                        .label(format!("{} keys here", entries.len()))
                        .help("write `- <node id>: { after: 3, locked: <node> }`; indent the body under the id"),
                );
                return None;
            }
            _ => {
                self.wrong_type(node, "a map `<node id>: { … }`", "a tree node");
                return None;
            }
        };
        let (key, body) = &entries[0];
        let id = self.id(key, "a node id")?;
        let what = format!("node `{}`", id.value);
        let mut m = self.map(body, &what)?;
        let after = m.take("after").and_then(|n| self.uint(n, "`after`"));
        let per = m.take("per").and_then(|n| {
            self.choice(
                n,
                "lock period",
                &[
                    ("total", LockPeriod::Total),
                    ("day", LockPeriod::Day),
                    ("month", LockPeriod::Month),
                ],
            )
        });
        let locked = m.take("locked").and_then(|n| self.id(n, "`locked`"));
        let exhausted = m.take("exhausted").and_then(|n| self.id(n, "`exhausted`"));
        let condition = m.take("if").and_then(|n| self.expr(n, "`if`"));
        let otherwise = m.take("else").and_then(|n| self.id(n, "`else`"));
        let fallback = m.take("fallback").and_then(|n| self.id(n, "`fallback`"));
        let amount = m.take("amount").and_then(|n| self.expr(n, "`amount`"));
        let then = m.take("then").and_then(|n| self.id(n, "`then`"));
        m.finish(self);
        Some(TreeNode {
            id,
            body: Sp::new(
                NodeBody {
                    after,
                    per,
                    locked,
                    exhausted,
                    condition,
                    otherwise,
                    fallback,
                    amount,
                    then,
                },
                body.span,
            ),
        })
    }

    fn sku(&mut self, id: &Id, node: &Node) -> Option<Sp<Sku>> {
        let mut m = self.map(node, &format!("SKU `{}`", id.value))?;
        let draws = m
            .required(self, "draws")
            .and_then(|n| self.uint(n, "`draws`"));
        let stock = m.take("stock").and_then(|n| self.uint(n, "`stock`"));
        let price = m
            .take("price")
            .and_then(|n| self.amount(n, "`price`", true));
        m.finish(self);
        Some(Sp::new(
            Sku {
                draws: draws?,
                stock,
                price,
            },
            node.span,
        ))
    }

    fn rebate(&mut self, node: &Node) -> Option<Rebate> {
        let mut m = self.map(node, "a rebate flow")?;
        let id = m.take("id").and_then(|n| self.id(n, "a rebate id"));
        let on = m.required(self, "on").and_then(|n| self.id(n, "`on`"));
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let once = m.take("once").and_then(|n| {
            self.choice(
                n,
                "period",
                &[
                    ("per_day", Once::PerDay),
                    ("per_week", Once::PerWeek),
                    ("per_month", Once::PerMonth),
                    ("ever", Once::Ever),
                ],
            )
        });
        let give = match m.required(self, "give") {
            Some(n) => {
                let mut actions = Vec::new();
                let items: Vec<Node> = match &n.kind {
                    Kind::Seq(items) if items.is_empty() => {
                        self.push(
                            Diagnostic::new(Code::MissingKey, n.span, "this rebate flow gives nothing")
                                .label("no actions")
                                .help("list what it gives: `[ { sku: … } ]`, `{ credits: … }` or `{ award: … }`"),
                        );
                        Vec::new()
                    }
                    Kind::Seq(items) => items.clone(),
                    Kind::Map(_) => vec![n.clone()],
                    _ => {
                        self.wrong_type(n, "a list of actions", "`give`");
                        Vec::new()
                    }
                };
                for item in &items {
                    if let Some(action) = self.action(item) {
                        actions.push(Sp::new(action, item.span));
                    }
                }
                if actions.len() != items.len() {
                    return None;
                }
                actions
            }
            None => Vec::new(),
        };
        m.finish(self);
        Some(Rebate {
            id,
            on: on?,
            when,
            once,
            give,
        })
    }

    fn action(&mut self, node: &Node) -> Option<Action> {
        let mut m = self.map(node, "a rebate action")?;
        let present = ["sku", "credits", "award"]
            .iter()
            .filter(|k| m.has(k))
            .count();
        let sku = m.take("sku").and_then(|n| self.id(n, "`sku`"));
        let credits = m.take("credits").and_then(|n| self.expr(n, "`credits`"));
        let award = m.take("award").and_then(|n| self.id(n, "`award`"));
        m.finish(self);
        if present != 1 {
            self.push(
                Diagnostic::new(
                    if present == 0 { Code::MissingKey } else { Code::ConflictingKeys },
                    self.head(node),
                    "an action is exactly one of `sku`, `credits` or `award`",
                )
                .label("this action")
                .help("list several actions as separate items: `give: [ { sku: draw_1 }, { credits: 10 } ]`"),
            );
            return None;
        }
        (sku.is_some() || credits.is_some() || award.is_some()).then_some(Action {
            sku,
            credits,
            award,
        })
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

fn is_id(text: &str) -> bool {
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
