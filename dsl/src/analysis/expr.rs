//! Inside an expression: the names it reads (`user.vip`, `event.amount`), what
//! may be typed at its end (functions, `user.*` and `event.*` fields as the
//! file declares them, `user.draws.*`) and what a name or a function means.
//! Functions and built-in names come from the grammar's tables, with their docs.

use tombola_grammar::{DRAW_COUNTS, FUNCTIONS, Span, USER_BUILTINS};

use super::nodes::{node_at, scalar_text};
use super::{Completion, CompletionKind, Seg};
use crate::yaml::{Kind, Node};

/// A dotted name in an expression, each part with its span in the text; a
/// trailing `.` gives an empty last part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain<'t> {
    pub(crate) parts: Vec<(&'t str, Span)>,
    /// Whether a `(` follows: a call.
    pub(crate) called: bool,
}

/// Every dotted name of `text`, outside string literals.
pub(crate) fn chains(text: &str) -> Vec<Chain<'_>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        if c == b'"' || c == b'\'' {
            at += 1;
            while at < bytes.len() && bytes[at] != c {
                at += 1 + usize::from(bytes[at] == b'\\');
            }
            at += 1;
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == b'_') {
            at += 1;
            continue;
        }
        let mut parts = Vec::new();
        loop {
            let start = at;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                at += 1;
            }
            parts.push((&text[start..at], Span::new(start, at)));
            if at < bytes.len() && bytes[at] == b'.' {
                at += 1;
            } else {
                break;
            }
        }
        let called = text[at..].trim_start().starts_with('(');
        found.push(Chain { parts, called });
    }
    found
}

/// A declared input an expression reads: `user.<field>` or `event.<field>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Read<'t> {
    pub(crate) root: &'t str,
    pub(crate) field: &'t str,
    pub(crate) span: Span,
}

/// The declared inputs `text` reads (built-in names are not declared).
pub(crate) fn reads(text: &str) -> Vec<Read<'_>> {
    chains(text)
        .into_iter()
        .filter_map(|chain| {
            let (root, _) = *chain.parts.first()?;
            let (field, span) = *chain.parts.get(1)?;
            let builtin =
                root == "user" && (field == "draws" || USER_BUILTINS.iter().any(|b| b.0 == field));
            let declared = matches!(root, "user" | "event") && !builtin && !field.is_empty();
            declared.then_some(Read { root, field, span })
        })
        .collect()
}

/// What the file declares that expressions read, at one position.
#[derive(Debug, Clone, Default)]
pub(crate) struct Declared {
    /// User attributes and their types, as written.
    pub(crate) user: Vec<(String, String)>,
    /// Inside a rebate flow: its event and the event's attributes.
    pub(crate) event: Option<(String, Vec<(String, String)>)>,
}

impl Declared {
    /// The inputs of `root`'s file seen from an expression at `path`.
    pub(crate) fn at(source: &str, root: &Node, path: &[Seg]) -> Declared {
        let under = |keys: &[&str]| -> Vec<(String, String)> {
            let at: Vec<Seg> = keys.iter().map(|k| Seg::Key(k.to_string())).collect();
            let Some(Kind::Map(entries)) = node_at(root, &at).map(|n| &n.kind) else {
                return Vec::new();
            };
            entries
                .iter()
                .map(|(name, ty)| {
                    let name = scalar_text(source, name).0.to_string();
                    (name, scalar_text(source, ty).0.to_string())
                })
                .collect()
        };
        let user = under(&["inputs", "user"]);
        let event = event_of(source, root, path)
            .map(|event| (event.clone(), under(&["inputs", "events", event.as_str()])));
        Declared { user, event }
    }

    fn event_fields(&self) -> &[(String, String)] {
        self.event.as_ref().map_or(&[], |(_, fields)| fields)
    }
}

/// The event of the rebate flow that `path` is inside, if any: its `on:`.
pub(crate) fn event_of(source: &str, root: &Node, path: &[Seg]) -> Option<String> {
    let (Some(Seg::Key(top)), Some(Seg::Index(i))) = (path.first(), path.get(1)) else {
        return None;
    };
    if top != "rebates" {
        return None;
    }
    let on = [
        Seg::Key("rebates".into()),
        Seg::Index(*i),
        Seg::Key("on".into()),
    ];
    Some(scalar_text(source, node_at(root, &on)?).0.to_string())
}

/// What may be typed at the end of `before` (an expression up to the cursor),
/// replacing the word at `span`; `called` when a `(` already follows it.
pub(crate) fn complete(
    before: &str,
    declared: &Declared,
    span: Span,
    called: bool,
) -> Vec<Completion> {
    let chain = chains(before)
        .into_iter()
        .last()
        .filter(|c| c.parts.last().is_some_and(|(_, s)| s.end == before.len()));
    let parts: Vec<&str> = match &chain {
        Some(chain) => chain.parts.iter().map(|(p, _)| *p).collect(),
        // After an operator or a space: a fresh name.
        None => vec![""],
    };
    let field = |label: &str, ty: &str, doc: Option<&str>| Completion {
        label: label.to_string(),
        kind: CompletionKind::Field,
        detail: Some(ty.to_string()),
        documentation: doc.map(String::from),
        insert: label.to_string(),
        span,
    };
    let word = *parts.last().unwrap_or(&"");
    let mut found: Vec<Completion> = match parts.as_slice() {
        [_] => roots(declared, span, called),
        ["user", _] => {
            let mut fields: Vec<Completion> = USER_BUILTINS
                .iter()
                .map(|(name, ty, _, doc)| field(name, &ty.to_string(), Some(doc)))
                .collect();
            fields.push(field("draws", "counts", Some("completed draws, before this one: `user.draws.today`, `.month`, `.total`, `.left`")));
            fields.extend(
                declared
                    .user
                    .iter()
                    .map(|(name, ty)| field(name, ty, Some("declared under `inputs.user`"))),
            );
            fields
        }
        ["user", "draws", _] => DRAW_COUNTS
            .iter()
            .map(|(name, ty, _, doc)| field(name, &ty.to_string(), Some(doc)))
            .collect(),
        ["event", _] => declared
            .event_fields()
            .iter()
            .map(|(name, ty)| field(name, ty, Some("an attribute of this flow's event")))
            .collect(),
        _ => Vec::new(),
    };
    found.retain(|c| c.label.starts_with(word));
    found
}

/// Names an expression may start with: the functions, `user`, and in a rebate flow `event`.
fn roots(declared: &Declared, span: Span, called: bool) -> Vec<Completion> {
    let mut found: Vec<Completion> = FUNCTIONS
        .iter()
        .map(|(name, _, signature, meaning)| Completion {
            label: name.to_string(),
            kind: CompletionKind::Function,
            detail: Some(signature.to_string()),
            documentation: Some(meaning.to_string()),
            insert: if called {
                name.to_string()
            } else {
                format!("{name}(")
            },
            span,
        })
        .collect();
    let mut root = |name: &str, doc: &str| {
        found.push(Completion {
            label: name.to_string(),
            kind: CompletionKind::Field,
            detail: None,
            documentation: Some(doc.to_string()),
            insert: format!("{name}."),
            span,
        })
    };
    root(
        "user",
        "the user drawing: `user.id`, `user.credits`, `user.draws.*` and the attributes under `inputs.user`",
    );
    if let Some((event, _)) = &declared.event {
        root("event", &format!("the `{event}` event this flow runs on"));
    }
    found
}

/// What the name or function at `offset` of `text` means, and its span there.
pub(crate) fn hover(text: &str, offset: usize, declared: &Declared) -> Option<(Span, String)> {
    let chain = chains(text).into_iter().find(|c| {
        c.parts
            .iter()
            .any(|(_, s)| s.start <= offset && offset <= s.end)
    })?;
    let parts: Vec<&str> = chain.parts.iter().map(|(p, _)| *p).collect();
    let whole = chain.parts[0].1.join(chain.parts[chain.parts.len() - 1].1);
    let typed = |name: String, ty: &str, doc: &str| format!("`{name}`: {ty}\n\n{doc}");
    let markdown = match parts.as_slice() {
        [name] if chain.called => {
            let (_, _, signature, meaning) = FUNCTIONS.iter().find(|f| f.0 == *name)?;
            format!("```\n{signature}\n```\n{meaning}")
        }
        ["user", "draws", count] => {
            let (_, ty, _, doc) = DRAW_COUNTS.iter().find(|c| c.0 == *count)?;
            typed(format!("user.draws.{count}"), &ty.to_string(), doc)
        }
        ["user", field] => match USER_BUILTINS.iter().find(|b| b.0 == *field) {
            Some((_, ty, _, doc)) => typed(format!("user.{field}"), &ty.to_string(), doc),
            None => {
                let (_, ty) = declared.user.iter().find(|(name, _)| name == field)?;
                typed(format!("user.{field}"), ty, "declared under `inputs.user`")
            }
        },
        ["event", field] => {
            let (event, fields) = declared.event.as_ref()?;
            let (_, ty) = fields.iter().find(|(name, _)| name == field)?;
            typed(
                format!("event.{field}"),
                ty,
                &format!("declared under `inputs.events.{event}`"),
            )
        }
        _ => return None,
    };
    Some((whole, markdown))
}
