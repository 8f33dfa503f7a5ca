//! The checks and the lowering to the IR, stage by stage: each section of the
//! file has its own check pass, every reference goes through one resolver
//! ([`resolve`]), the trees are validated once when built ([`graph`]), and
//! [`lower`] assembles the IR from what the checks established. All
//! diagnostics of a file come out of one run.
//!
//! The passes share no mutable state: what an early pass establishes (the
//! zone, the declared inputs, the award table, the pool's entries) is a named
//! value handed read-only to the later ones. Only the findings — diagnostics
//! and which awards and trees were referenced — accumulate, in [`Findings`].

mod awards;
mod chain;
mod credits;
mod delivery;
mod expr;
mod graph;
mod inputs;
mod lower;
mod pool;
mod quota;
mod rebates;
mod resolve;
mod skus;
mod stock;
mod trees;
mod window;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tombola_grammar::{Scope, Span};

use crate::decode::Decoded;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::CampaignFile;
use tombola_ir as ir;

/// Finest rate precision: weights are `rate · 10^18`, which fits in a u64.
const MAX_RATE_SCALE: u32 = 18;
/// Credits carry at most two fractional digits.
const CREDIT_SCALE: u32 = 2;
/// The route target that issues the drawn award.
pub const ISSUE: &str = "award";

/// Checks a decoded file and compiles it. The IR is `Some` only when no error
/// was found. `now`, when given, is the time the file is checked at: the
/// findings that depend on it (a window already over) need it, and are not
/// made without it, so a check without a clock is the same on every day.
pub fn compile(
    decoded: &Decoded,
    now: Option<DateTime<Utc>>,
) -> (Option<ir::Campaign>, Vec<Diagnostic>) {
    let f = &decoded.file;
    let mut out = Findings::default();
    // Expressions are checked in the campaign's zone, so the window comes first.
    let (zone, window) = if decoded.unreadable.contains("window") {
        (Tz::UTC, None)
    } else {
        window::check(&f.window.value, now, &mut out)
    };
    let quota = quota::check(f.quota.as_ref(), f.allowance.as_ref(), &mut out);
    let declared = inputs::check(f.inputs.as_ref(), &mut out);
    let delivery = delivery::check(f.delivery.as_ref(), &mut out);
    let cx = Context {
        decoded,
        file: f,
        zone,
        inputs: declared,
        awards: awards::AwardTable::new(f),
    };
    let awards = awards::check(&cx, delivery.is_some(), &mut out);
    let drafts = trees::check(&cx, &mut out);
    let pool = pool::check(&cx, &drafts, &mut out);
    let chain = chain::check(&cx, &pool, &mut out);
    let skus = skus::check(f, &mut out);
    let rebates = rebates::check(&cx, &mut out);
    resolve::unused(&cx, &mut out);
    let extra = pool
        .inserted
        .iter()
        .map(|insert| (insert.name(f), insert.nodes(&drafts)))
        .collect();
    let trees = graph::build(f, drafts, extra, &mut out);
    let diagnostics = out.diagnostics;
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let checked = lower::Checked {
        window,
        quota,
        inputs: cx.inputs.ir(),
        delivery,
        awards,
        pool,
        chain,
        trees,
        skus,
        rebates,
    };
    (lower::campaign(f, checked), diagnostics)
}

/// What an expression's position requires of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Bool,
    Int,
    /// Credits: a number, kept as an exact decimal with at most two digits.
    Credits,
}

/// What the first passes establish, read by every later one.
struct Context<'a> {
    decoded: &'a Decoded,
    file: &'a CampaignFile,
    /// The campaign's zone (UTC when the file names an unknown one, which is reported).
    zone: Tz,
    inputs: inputs::Declared,
    awards: awards::AwardTable<'a>,
}

impl Context<'_> {
    fn draw_scope(&self) -> Scope {
        Scope::draw(self.inputs.user.clone())
    }
}

/// What the passes find: the diagnostics, and which awards and trees are
/// referenced (read at the end, to report the ones nothing uses).
#[derive(Default)]
struct Findings<'a> {
    diagnostics: Vec<Diagnostic>,
    used_awards: HashSet<&'a str>,
    used_trees: HashSet<&'a str>,
}

impl Findings<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn duplicate(&mut self, what: &str, second: Span, first: Span, id: &str) {
        self.push(
            Diagnostic::new(
                Code::DuplicateId,
                second,
                format!("{what} `{id}` is defined twice"),
            )
            .label("second definition")
            .with(first, "first definition"),
        );
    }
}
