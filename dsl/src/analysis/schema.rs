//! The JSON Schema of a file read as a map of what each path may hold: the
//! keys a map takes with their docs, the words a value allows, and which
//! values are expressions. The docs are the model's doc comments, through
//! schemars, so nothing here repeats them.

use serde_json::Value;

use super::Seg;

/// The campaign files' schema, made once.
pub(crate) fn campaign() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(crate::json_schema)
}

/// A schema (the campaign's, or the scenario files') and its `$defs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema<'s> {
    root: &'s Value,
}

impl<'s> Schema<'s> {
    pub(crate) fn new(root: &'s Value) -> Self {
        Schema { root }
    }

    /// The schema of what `path` holds, following `$ref`s.
    pub(crate) fn at(&self, path: &[Seg]) -> Option<&'s Value> {
        path.iter()
            .try_fold(self.root, |node, seg| self.child(node, seg))
    }

    /// `node` with its `$ref` followed; the description stays with the
    /// property that refers (see [`Schema::description`]).
    fn resolve(&self, node: &'s Value) -> &'s Value {
        let mut node = node;
        for _ in 0..8 {
            let Some(target) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let name = target.rsplit('/').next().unwrap_or_default();
            let defs = self
                .root
                .get("$defs")
                .or_else(|| self.root.get("definitions"));
            match defs.and_then(|defs| defs.get(name)) {
                Some(found) => node = found,
                None => break,
            }
        }
        node
    }

    /// The alternatives of a node (`anyOf`, `oneOf`), or the node itself.
    fn variants(&self, node: &'s Value) -> Vec<&'s Value> {
        let node = self.resolve(node);
        let mut found = vec![node];
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(options)) = node.get(key) {
                found.extend(options.iter().map(|o| self.resolve(o)));
            }
        }
        found
    }

    fn child(&self, node: &'s Value, seg: &Seg) -> Option<&'s Value> {
        self.variants(node).into_iter().find_map(|v| match seg {
            Seg::Key(key) => v
                .get("properties")
                .and_then(|p| p.get(key.as_str()))
                .or_else(|| v.get("additionalProperties").filter(|a| a.is_object())),
            Seg::Index(_) => v.get("items").filter(|i| i.is_object()),
        })
    }

    /// The keys a map at `node` takes, in the schema's order, with their schemas.
    pub(crate) fn keys(&self, node: &'s Value) -> Vec<(&'s str, &'s Value)> {
        let mut keys = Vec::new();
        for v in self.variants(node) {
            if let Some(Value::Object(properties)) = v.get("properties") {
                keys.extend(properties.iter().map(|(k, v)| (k.as_str(), v)));
            }
        }
        keys
    }

    /// The words a value allows (`oneOf` of constants, or an `enum`), with their docs.
    pub(crate) fn words(&self, node: &'s Value) -> Vec<(String, Option<String>)> {
        let mut words = Vec::new();
        for v in self.variants(node) {
            if let Some(word) = v.get("const").and_then(Value::as_str) {
                let doc = v.get("description").and_then(Value::as_str);
                words.push((word.to_string(), doc.map(String::from)));
            }
            if let Some(Value::Array(options)) = v.get("enum") {
                words.extend(
                    options
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|w| (w.to_string(), None)),
                );
            }
        }
        words
    }

    /// The doc of a property: its own description, or its type's.
    pub(crate) fn description(&self, node: &'s Value) -> Option<&'s str> {
        node.get("description")
            .or_else(|| self.resolve(node).get("description"))
            .and_then(Value::as_str)
    }

    /// Whether `node` is an expression of the tombola language.
    pub(crate) fn is_expression(&self, node: &Value) -> bool {
        node.get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with("/Expression"))
    }
}
