//! Go to definition, find references and rename, for every id the file
//! defines: awards, trees, nodes (within their tree), SKUs, events, declared
//! inputs (also where expressions read them), rule and rebate ids.

use tombola_grammar::Span;

use super::index::{IdKind, Index, Name};
use super::schema::{self, Schema};
use crate::compile::ISSUE;

/// The index of a file that parses.
fn index(source: &str) -> Option<Index> {
    let root = crate::yaml::parse(source).ok()?;
    Some(Index::of(source, &root, Schema::new(schema::campaign())))
}

/// Where the id at byte `offset` is defined.
pub fn definition(source: &str, offset: usize) -> Option<Span> {
    let index = index(source)?;
    let name = index.at(offset)?;
    let first = *index.all(name).first()?;
    first.definition.then_some(first.span)
}

/// Every place the id at byte `offset` appears, its definition first.
pub fn references(source: &str, offset: usize) -> Vec<Span> {
    let Some(index) = index(source) else {
        return Vec::new();
    };
    match index.at(offset) {
        Some(name) => index.all(name).iter().map(|n| n.span).collect(),
        None => Vec::new(),
    }
}

/// The edits that rename the id at byte `offset` to `new_name` everywhere in
/// the file, or why it cannot be: nothing the file defines is there, the new
/// name is not a valid id, or another one of its kind has it.
pub fn rename(source: &str, offset: usize, new_name: &str) -> Result<Vec<(Span, String)>, String> {
    let index = index(source).ok_or("the file does not parse: fix its YAML first")?;
    let name = renameable(&index, offset)?;
    let field = matches!(name.kind, IdKind::UserField | IdKind::EventField);
    // Expressions read `user.x` by identifier, where `-` is a minus.
    let valid = crate::is_id(new_name) && !(field && new_name.contains('-'));
    if !valid {
        return Err(format!(
            "`{new_name}` is not a valid {}: use lowercase letters, digits{}",
            name.kind.noun(),
            if field { " and `_`" } else { ", `_` and `-`" }
        ));
    }
    let taken = index
        .defined(name.kind, name.scope.as_deref())
        .iter()
        .any(|n| n.name == new_name)
        || (name.kind == IdKind::Node && new_name == ISSUE);
    if taken {
        return Err(format!("{} `{new_name}` already exists", name.kind.noun()));
    }
    Ok(index
        .all(name)
        .iter()
        .map(|n| (n.span, new_name.to_string()))
        .collect())
}

/// The span of the id at byte `offset` when the file defines it, so it can
/// be renamed (what an editor's "prepare rename" asks).
pub fn rename_target(source: &str, offset: usize) -> Result<Span, String> {
    let index = index(source).ok_or("the file does not parse: fix its YAML first")?;
    renameable(&index, offset).map(|n| n.span)
}

fn renameable(index: &Index, offset: usize) -> Result<&Name, String> {
    let name = index.at(offset).ok_or("no id here to rename")?;
    match index.all(name).first() {
        Some(first) if first.definition => Ok(name),
        _ => Err(format!(
            "{} `{}` is not defined in this file",
            name.kind.noun(),
            name.name
        )),
    }
}
