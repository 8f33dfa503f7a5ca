//! The declared inputs: user attributes and events, with their types.

use std::collections::HashSet;

use tombola_grammar::Type;

use super::Findings;
use super::resolve::{self, Unknown};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Inputs, Sp};
use tombola_ir as ir;

/// The inputs expressions may read.
#[derive(Default)]
pub(super) struct Declared {
    pub(super) user: Vec<(String, Type)>,
    /// Inputs declared with a type that was reported unknown: reading them is
    /// not reported again as an unknown name.
    pub(super) untyped: HashSet<String>,
    pub(super) events: Vec<ir::EventDecl>,
}

impl Declared {
    pub(super) fn ir(&self) -> ir::Inputs {
        ir::Inputs {
            user: self.user.clone(),
            events: self.events.clone(),
        }
    }
}

pub(super) fn check(inputs: Option<&Sp<Inputs>>, out: &mut Findings<'_>) -> Declared {
    let mut declared = Declared::default();
    let Some(inputs) = inputs else {
        return declared;
    };
    let reserved: Vec<&str> = tombola_grammar::USER_BUILTINS
        .iter()
        .map(|b| b.0)
        .chain(["draws"])
        .collect();
    for (name, ty) in inputs.value.user.iter() {
        if reserved.contains(&name.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::ReservedName,
                    name.span,
                    format!(
                        "`user.{}` is built in; an attribute cannot take its name",
                        name.value
                    ),
                )
                .label("reserved")
                .help(format!(
                    "expressions read `user.{}` without declaring it; rename the attribute if it means something else (built-in names: {})",
                    name.value,
                    reserved.join(", ")
                )),
            );
            continue;
        }
        match input_type(ty, out) {
            Some(ty) => declared.user.push((name.value.clone(), ty)),
            None => {
                declared.untyped.insert(name.value.clone());
            }
        }
    }
    for (event, attributes) in inputs.value.events.iter() {
        let mut decl = ir::EventDecl {
            name: event.value.clone(),
            attributes: Vec::new(),
        };
        for (name, ty) in attributes.value.iter() {
            match input_type(ty, out) {
                Some(ty) => decl.attributes.push((name.value.clone(), ty)),
                None => {
                    declared.untyped.insert(name.value.clone());
                }
            }
        }
        declared.events.push(decl);
    }
    declared
}

fn input_type(declared: &Sp<String>, out: &mut Findings<'_>) -> Option<Type> {
    let ty = Type::parse(&declared.value);
    if ty.is_none() {
        resolve::report_unknown(out, Unknown::Type, declared, Type::NAMES.iter().copied());
    }
    ty
}
