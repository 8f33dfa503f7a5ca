//! Rebate flows: a declared event, an optional condition over it, and actions
//! (a SKU, credits, an award that cannot run out), with unique ids.

use std::collections::HashMap;

use tombola_grammar::{Scope, Span};

use super::expr::program;
use super::{Context, Findings, Want, resolve};
use crate::model::{Action, Rebate};
use tombola_ir as ir;

pub(super) fn check<'a>(cx: &Context<'a>, out: &mut Findings<'a>) -> Option<Vec<ir::Rebate>> {
    let mut rebates = Vec::new();
    let mut ids: HashMap<String, Span> = HashMap::new();
    let mut ok = true;
    for (position, rebate) in cx.file.rebates.iter().enumerate() {
        let r = &rebate.value;
        let id = r.id.as_ref().map_or_else(
            || format!("{}-{}", r.on.value, position + 1),
            |id| id.value.clone(),
        );
        let id_span = r.id.as_ref().map_or(r.on.span, |id| id.span);
        if let Some(first) = ids.get(&id) {
            out.duplicate("rebate flow", id_span, *first, &id);
            ok = false;
        }
        ids.insert(id.clone(), id_span);
        match flow(cx, out, r, id) {
            Some(rebate) => rebates.push(rebate),
            None => ok = false,
        }
    }
    ok.then_some(rebates)
}

/// One flow; `None` when anything in it is wrong (every part is still checked).
fn flow<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    r: &'a Rebate,
    id: String,
) -> Option<ir::Rebate> {
    // Without its event the flow's expressions have no scope to check against.
    let event = resolve::event(cx, out, &r.on)?;
    let decl = &cx.inputs.events[event];
    let scope = Scope::rebate(
        cx.inputs.user.clone(),
        decl.name.clone(),
        decl.attributes.clone(),
    );
    let mut ok = true;
    let condition = match &r.when {
        Some(e) => {
            let what = format!("the condition of rebate `{id}`");
            let condition = program(cx, out, e, &scope, Want::Bool, &what);
            ok &= condition.is_some();
            condition
        }
        None => None,
    };
    let mut actions = Vec::new();
    for action in &r.give {
        match self::action(cx, out, &action.value, &id, &scope) {
            Some(action) => actions.push(action),
            None => ok = false,
        }
    }
    ok.then(|| ir::Rebate {
        id,
        event: event as u32,
        condition,
        once: r.once.as_ref().map(|o| o.value.into()),
        actions,
    })
}

fn action<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    a: &'a Action,
    id: &str,
    scope: &Scope,
) -> Option<ir::Action> {
    if let Some(sku) = &a.sku {
        resolve::sku(cx, out, sku).map(ir::Action::Sku)
    } else if let Some(credits) = &a.credits {
        let what = format!("the credits of rebate `{id}`");
        program(cx, out, credits, scope, Want::Credits, &what).map(ir::Action::Credits)
    } else if let Some(award) = &a.award {
        resolve::unlimited_award(cx, out, award, &format!("rebate `{id}`")).map(ir::Action::Award)
    } else {
        None
    }
}
