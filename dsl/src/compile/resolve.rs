//! The one reference resolver: every id the file names — an award, a tree, a
//! node, a SKU, an event, and the zone and type names — is looked up here, and
//! an unknown one is reported with the closest known name ("did you mean").
//! It also keeps which awards and trees are referenced, for [`unused`].

use tombola_grammar::did_you_mean;

use super::{Context, Findings, ISSUE};
use crate::diagnostic::{Code, Diagnostic, Fix};
use crate::model::{Id, Sp};

/// What kind of name was not found, and where it was named from: each kind's
/// message, label and help when nothing is close.
#[derive(Debug, Clone, Copy)]
pub(super) enum Unknown<'x> {
    /// `what` says who names it ("the pool", "rule `vip`").
    Award {
        what: &'x str,
    },
    Tree,
    /// A route inside tree `tree`.
    Node {
        tree: &'x str,
    },
    Sku,
    Event,
    Zone,
    Type,
}

impl Unknown<'_> {
    fn code(self) -> Code {
        match self {
            Unknown::Award { .. } => Code::UnknownAward,
            Unknown::Tree => Code::UnknownTree,
            Unknown::Node { .. } => Code::UnknownNode,
            Unknown::Sku => Code::UnknownSku,
            Unknown::Event => Code::UnknownEvent,
            Unknown::Zone => Code::UnknownZone,
            Unknown::Type => Code::UnknownType,
        }
    }

    fn message(self, name: &str) -> String {
        match self {
            Unknown::Award { what } => {
                format!("{what} names award `{name}`, which is not defined")
            }
            Unknown::Tree => format!("tree `{name}` is not defined"),
            Unknown::Node { tree } => format!("tree `{tree}` has no node `{name}`"),
            Unknown::Sku => format!("SKU `{name}` is not defined"),
            Unknown::Event => format!("event `{name}` is not declared"),
            Unknown::Zone => format!("`{name}` is not a known time zone"),
            Unknown::Type => format!("`{name}` is not a type"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Unknown::Award { .. } => "unknown award",
            Unknown::Tree => "unknown tree",
            Unknown::Node { .. } => "unknown node",
            Unknown::Sku => "unknown SKU",
            Unknown::Event => "unknown event",
            Unknown::Zone => "unknown zone",
            Unknown::Type => "unknown type",
        }
    }

    /// The help when no known name is close to `name`.
    fn otherwise(self, name: &str, known: &[&str]) -> String {
        match self {
            Unknown::Award { .. } => format!(
                "define it under `awards`, or use one of: {}",
                known.join(", ")
            ),
            Unknown::Tree => "define it under `trees`".into(),
            Unknown::Node { .. } => {
                format!("route to a node of this tree or to `{ISSUE}` (the drawn award)")
            }
            Unknown::Sku if known.is_empty() => "define it under `skus`".into(),
            Unknown::Sku => format!(
                "define it under `skus`, or use one of: {}",
                known.join(", ")
            ),
            Unknown::Event => {
                format!("declare it under `inputs.events`, e.g. `{name}: {{}}`")
            }
            Unknown::Zone => {
                "use an IANA zone name such as `Europe/Paris`, `Asia/Shanghai` or `UTC`".into()
            }
            Unknown::Type => format!("types: {}", known.join(", ")),
        }
    }

    /// A name another language uses for what is meant: too far apart to be a typo.
    fn alias(self, name: &str) -> Option<&'static str> {
        if !matches!(self, Unknown::Type) {
            return None;
        }
        match name {
            "boolean" => Some("bool"),
            "integer" | "number" | "long" => Some("int"),
            "float" | "double" | "money" => Some("decimal"),
            "str" | "text" => Some("string"),
            "timestamp" => Some("datetime"),
            _ => None,
        }
    }

    /// Whether an unknown `name` was already accounted for: its own definition
    /// had errors, or the section that defines it could not be read, so its ids
    /// are unknown. Routes and names of zones and types are always reported.
    fn reported_elsewhere(self, cx: &Context<'_>, name: &str) -> bool {
        let sections: &[&str] = match self {
            Unknown::Award { .. } => &["awards"],
            Unknown::Tree => &["trees"],
            Unknown::Sku => &["skus"],
            Unknown::Event => &["events", "inputs"],
            Unknown::Node { .. } | Unknown::Zone | Unknown::Type => return false,
        };
        cx.decoded.broken_ids.contains(name)
            || sections.iter().any(|s| cx.decoded.unreadable.contains(s))
    }
}

/// Reports `name` as unknown, suggesting the closest of `known`; returns the suggestion.
pub(super) fn report_unknown<'c>(
    out: &mut Findings<'_>,
    unknown: Unknown<'_>,
    name: &Sp<String>,
    known: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let known: Vec<&'c str> = known.into_iter().collect();
    let suggestion = unknown
        .alias(&name.value)
        .or_else(|| did_you_mean(&name.value, known.iter().copied()));
    let help = match suggestion {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => unknown.otherwise(&name.value, &known),
    };
    let mut diagnostic = Diagnostic::new(unknown.code(), name.span, unknown.message(&name.value))
        .label(unknown.label())
        .help(help);
    if let Some(meant) = suggestion {
        // Ids, zones and types need no quotes, so the whole scalar is replaced.
        diagnostic = diagnostic.fix(Fix::replace(name.span, meant));
    }
    out.push(diagnostic);
    suggestion
}

/// The index `found` at, or the unknown `name` reported (unless it was already
/// accounted for) with its suggestion, if any.
pub(super) fn resolve<'c>(
    cx: &Context<'_>,
    out: &mut Findings<'_>,
    unknown: Unknown<'_>,
    name: &Sp<String>,
    found: Option<usize>,
    known: impl IntoIterator<Item = &'c str>,
) -> Result<usize, Option<&'c str>> {
    match found {
        Some(index) => Ok(index),
        None if unknown.reported_elsewhere(cx, &name.value) => Err(None),
        None => Err(report_unknown(out, unknown, name, known)),
    }
}

/// An award reference, as its index.
pub(super) fn award<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    id: &'a Id,
    what: &str,
) -> Option<u32> {
    let found = cx.awards.index(&id.value).map(|i| i as usize);
    let known = cx.file.awards.ids();
    match resolve(cx, out, Unknown::Award { what }, id, found, known) {
        Ok(index) => {
            out.used_awards.insert(id.value.as_str());
            Some(index as u32)
        }
        Err(meant) => {
            // The award the typo meant is used; "never given" on it would only mislead.
            if let Some(meant) = meant {
                out.used_awards.insert(meant);
            }
            None
        }
    }
}

/// An award given outright (blacklist, `when` rule, fallback, rebate) must not run out.
pub(super) fn unlimited_award<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    id: &'a Id,
    what: &str,
) -> Option<u32> {
    let index = award(cx, out, id, what)?;
    if let Some(reason) = cx.awards.limited(&id.value) {
        out.push(
            Diagnostic::new(Code::FallbackRunsOut, id.span, format!("{what} gives `{}`, which {reason}", id.value))
                .label("can run out")
                .help("give an award that cannot run out (credits, draws, an unstocked item) or an explicit `none` award"),
        );
        return None;
    }
    Some(index)
}

/// A tree reference, as its index.
pub(super) fn tree<'a>(cx: &Context<'a>, out: &mut Findings<'a>, id: &'a Id) -> Option<usize> {
    let trees = &cx.file.trees;
    let found = trees.0.iter().position(|(t, _)| t.value == id.value);
    match resolve(cx, out, Unknown::Tree, id, found, trees.ids()) {
        Ok(index) => {
            out.used_trees.insert(id.value.as_str());
            Some(index)
        }
        Err(meant) => {
            if let Some(meant) = meant {
                out.used_trees.insert(meant);
            }
            None
        }
    }
}

/// A SKU reference, as its index.
pub(super) fn sku(cx: &Context<'_>, out: &mut Findings<'_>, id: &Id) -> Option<u32> {
    let skus = &cx.file.skus;
    let found = skus.0.iter().position(|(s, _)| s.value == id.value);
    resolve(cx, out, Unknown::Sku, id, found, skus.ids())
        .ok()
        .map(|i| i as u32)
}

/// A declared event, as its index.
pub(super) fn event(cx: &Context<'_>, out: &mut Findings<'_>, name: &Sp<String>) -> Option<usize> {
    let events = &cx.inputs.events;
    let found = events.iter().position(|e| e.name == name.value);
    let known = events.iter().map(|e| e.name.as_str());
    resolve(cx, out, Unknown::Event, name, found, known).ok()
}

/// Awards nothing gives and trees no pool entry runs.
pub(super) fn unused(cx: &Context<'_>, out: &mut Findings<'_>) {
    let f = cx.file;
    // A dropped entry may have been the one that gives the award or runs the
    // tree; an empty pool is reported on its own.
    let incomplete = |section| cx.decoded.incomplete.contains(section);
    let awards_known = !f.pool.is_empty()
        && !["pool", "before", "trees", "rebates"]
            .into_iter()
            .any(incomplete);
    let trees_known = !incomplete("pool");
    for (id, _) in f.awards.iter() {
        if awards_known && !out.used_awards.contains(id.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::UnusedAward,
                    id.span,
                    format!("award `{}` is never given", id.value),
                )
                .label("unused")
                .help("add it to the pool, a rule, a fallback or a rebate, or remove it"),
            );
        }
    }
    for (id, _) in f.trees.iter() {
        if trees_known
            && !out.used_trees.contains(id.value.as_str())
            && !cx.decoded.broken_ids.contains(&id.value)
        {
            out.push(
                Diagnostic::new(
                    Code::UnusedTree,
                    id.span,
                    format!("tree `{}` is not used by any pool entry", id.value),
                )
                .label("unused")
                .help("name it in a pool entry's `tree:`, or remove it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_aliases_win_over_near_names() {
        assert_eq!(Unknown::Type.alias("integer"), Some("int"));
        assert_eq!(Unknown::Sku.alias("integer"), None);
    }
}
