//! The user attributes a file declares for its draws (`inputs.user`), with
//! their types as written, read from the YAML tree so a form to draw with
//! can be built while the rest of the file still has errors.

use serde::Serialize;
use tombola_grammar::{Span, Type};

use super::Seg;
use super::nodes::{node_at, scalar_text};
use crate::yaml::Kind;

/// A user attribute a draw passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredInput {
    pub name: String,
    /// The type as the language names it (`int`, `list<string>`…); what is
    /// written when it names no type.
    pub ty: String,
    /// Whether `ty` is a type the language knows.
    pub known: bool,
    /// The declaration, name and type.
    pub span: Span,
}

/// The user attributes `source` declares, in file order; none while it does
/// not parse.
pub fn draw_inputs(source: &str) -> Vec<DeclaredInput> {
    let Ok(root) = crate::yaml::parse(source) else {
        return Vec::new();
    };
    let path = [Seg::Key("inputs".into()), Seg::Key("user".into())];
    let Some(Kind::Map(entries)) = node_at(&root, &path).map(|node| &node.kind) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|(name, ty)| {
            let written = scalar_text(source, ty).0;
            let parsed = Type::parse(written);
            DeclaredInput {
                name: scalar_text(source, name).0.to_string(),
                known: parsed.is_some(),
                ty: parsed.map_or_else(|| written.to_string(), |ty| ty.to_string()),
                span: name.span.join(ty.span),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_attributes_with_their_types_even_in_a_file_with_errors() {
        let source = "campaign: t\ninputs:\n  user: { vip: bool, tags: \"list< string >\", odd: nope }\nawards: 3\n";
        let inputs = draw_inputs(source);
        let read: Vec<_> = (inputs.iter())
            .map(|i| (i.name.as_str(), i.ty.as_str(), i.known))
            .collect();
        assert_eq!(
            read,
            [
                ("vip", "bool", true),
                ("tags", "list<string>", true),
                ("odd", "nope", false)
            ]
        );
        let vip = &inputs[0];
        assert_eq!(&source[vip.span.start..vip.span.end], "vip: bool");
        assert!(draw_inputs("campaign: [").is_empty());
    }
}
