//! The prize pool: one entry per award, rates above 0 and at most 1 that sum
//! to exactly 1, exact to [`MAX_RATE_SCALE`] digits, each entry's tree and
//! stock rules ([`super::stock`]).

use std::collections::HashMap;

use rust_decimal::Decimal;
use tombola_grammar::Span;

use super::graph::TreeDraft;
use super::stock::{self, StockInsert};
use super::{Context, Findings, MAX_RATE_SCALE, resolve};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{PoolEntry, Sp};
use tombola_ir as ir;

/// The checked pool, read by the chain's tiers and `draw` rules and by the lowering.
pub(super) struct Pool<'a> {
    pub(super) entries: Vec<ir::PoolEntry>,
    /// Each pool award's entry index.
    pub(super) entry_of_award: HashMap<&'a str, u32>,
    /// Each entry's weight (`rate · 10^scale`); empty when the pool has errors.
    pub(super) weights: Vec<u64>,
    /// Stock nodes the compiler inserts, as trees after the file's.
    pub(super) inserted: Vec<StockInsert>,
}

pub(super) fn check<'a>(
    cx: &Context<'a>,
    drafts: &[TreeDraft],
    out: &mut Findings<'a>,
) -> Pool<'a> {
    let f = cx.file;
    let mut pool = Pool {
        entries: Vec::new(),
        entry_of_award: HashMap::new(),
        weights: Vec::new(),
        inserted: Vec::new(),
    };
    let complete = !cx.decoded.incomplete.contains("pool");
    let pool_span = cx.decoded.pool_key.unwrap_or(f.campaign.span);
    if f.pool.is_empty() && complete {
        out.push(
            Diagnostic::new(Code::EmptyPool, pool_span, "the pool has no awards")
                .label("no entries")
                .help("add entries under `pool:`, e.g. `- { award: points, rate: 100% }`"),
        );
        return pool;
    }
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut sum = Decimal::ZERO;
    let mut scale = 0;
    let mut ok = true;
    for entry in &f.pool {
        let e = &entry.value;
        if let Some(first) = seen.get(e.award.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    e.award.span,
                    format!("award `{}` is in the pool twice", e.award.value),
                )
                .label("second entry")
                .with(*first, "first entry")
                .help("one entry per award: merge the two rates into one entry"),
            );
            ok = false;
            continue;
        }
        seen.insert(e.award.value.as_str(), e.award.span);
        let rate = e.rate.value.0;
        ok &= rate_ok(out, e.rate.span, rate);
        sum += rate;
        scale = scale.max(rate.normalize().scale());
        ok &= pool.entry(cx, out, entry, drafts);
    }
    if complete && sum != Decimal::ONE && ok {
        out.push(rates_sum(&f.pool, pool_span, sum));
        ok = false;
    }
    if ok {
        pool.weights = pool.entries.iter().map(|e| weight(e.rate, scale)).collect();
    }
    pool
}

/// A rate is a share of all draws, exact to [`MAX_RATE_SCALE`] digits.
fn rate_ok(out: &mut Findings<'_>, span: Span, rate: Decimal) -> bool {
    let mut ok = true;
    if rate <= Decimal::ZERO || rate > Decimal::ONE {
        out.push(
            Diagnostic::new(
                Code::RateRange,
                span,
                format!(
                    "a rate must be above 0 and at most 1, found {}",
                    rate.normalize()
                ),
            )
            .label("out of range")
            .help(if rate > Decimal::ONE {
                "a rate is the share of all draws: at most 1, or `100%`"
            } else {
                "to leave an award out, remove its entry"
            }),
        );
        ok = false;
    }
    if rate.normalize().scale() > MAX_RATE_SCALE {
        out.push(
            Diagnostic::new(
                Code::RatePrecision,
                span,
                format!(
                    "the rate {rate} has {} fractional digits; draws are exact to {MAX_RATE_SCALE}",
                    rate.normalize().scale()
                ),
            )
            .label("too precise")
            .help("round the rate to 18 digits: that is one draw in a quintillion"),
        );
        ok = false;
    }
    ok
}

fn rates_sum(entries: &[Sp<PoolEntry>], span: Span, sum: Decimal) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::RatesSum, span, format!("the pool's rates sum to {}, not 1", sum.normalize()))
        .label(format!("these rates sum to {}", sum.normalize()))
        .help(if sum < Decimal::ONE {
            format!("{} of the draws would have no award: add it to an award, or add an explicit `none` award with that rate", (Decimal::ONE - sum).normalize())
        } else {
            format!("lower the rates by {} in total", (sum - Decimal::ONE).normalize())
        });
    for entry in entries {
        diagnostic = diagnostic.with(
            entry.value.rate.span,
            format!("{}", entry.value.rate.value.0.normalize()),
        );
    }
    diagnostic
}

impl<'a> Pool<'a> {
    /// Resolves one entry's award and tree and adds it; whether it is sound.
    fn entry(
        &mut self,
        cx: &Context<'a>,
        out: &mut Findings<'a>,
        entry: &'a Sp<PoolEntry>,
        drafts: &[TreeDraft],
    ) -> bool {
        let e = &entry.value;
        let award = resolve::award(cx, out, &e.award, "the pool");
        let tree = match &e.tree {
            Some(tree) => match resolve::tree(cx, out, tree) {
                Some(index) => Some(index),
                None => return false,
            },
            None => None,
        };
        let Some(award) = award else {
            return false;
        };
        self.entry_of_award
            .insert(e.award.value.as_str(), self.entries.len() as u32);
        let tree_ix = stock::entry(cx, out, entry, tree, drafts, &mut self.inserted);
        self.entries.push(ir::PoolEntry {
            award,
            rate: e.rate.value.0,
            stock: e.stock.as_ref().map(|s| s.value),
            tree: tree_ix.flatten(),
        });
        // Without a tree the entry runs no graph of its own: a refused stock
        // rule was reported, and the entry is kept as written.
        !(tree.is_some() && tree_ix.is_none())
    }
}

/// `rate · 10^scale` as an integer: exact, since the rate has at most `scale` digits.
pub(super) fn weight(rate: Decimal, scale: u32) -> u64 {
    let mut scaled = rate.normalize();
    scaled.rescale(scale);
    u64::try_from(scaled.mantissa()).unwrap_or(0)
}
