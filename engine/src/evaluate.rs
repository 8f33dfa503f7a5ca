//! One draw, evaluated against the IR: the chain, the weighted draw, the tree.
//!
//! An [`Evaluation`] is a small state machine. [`Evaluation::run`] advances it
//! until it is done or needs a stock decrement answered; the caller decides
//! the decrement (in memory, or with a conditional UPDATE in the draw's
//! transaction) and calls [`Evaluation::resume`].

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tombola_grammar::{Env, EvalError, Runtime, Slot, Val, Value};
use tombola_ir::{
    self as ir, Allowance, AwardIx, Campaign, ChainKind, EntryIx, LockPeriod, NodeKind,
    RuleOutcome, Target,
};

use crate::counts::UserCounts;
use crate::random::SeededRandom;

/// What a draw reads about its user.
#[derive(Debug, Clone)]
pub struct DrawInput<'a> {
    pub user: &'a str,
    /// Completed draws of the user in this campaign, before the current one.
    pub counts: UserCounts,
    /// Draws left after this one's debit.
    pub draws_left: i64,
    pub credits: Decimal,
    /// Declared user attributes, in declaration order; `None` when not supplied.
    pub attributes: &'a [Option<Value>],
}

impl<'a> DrawInput<'a> {
    /// What an evaluation reads about `user`, whose counts stand at `counts`.
    /// In a draw (`drawing`) they include its own debit: the draw reads the
    /// counts before itself, and the draws left after it.
    pub fn new(
        allowance: Allowance,
        user: &'a str,
        counts: UserCounts,
        drawing: bool,
        credits: Decimal,
        attributes: &'a [Option<Value>],
    ) -> DrawInput<'a> {
        DrawInput {
            user,
            counts: if drawing {
                counts.before_this_draw()
            } else {
                counts
            },
            draws_left: counts.draws_left(allowance),
            credits,
            attributes,
        }
    }
}

/// Where the drawn award came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A rule's fixed award (blacklist, `when … give`): no table, no tree.
    Rule,
    /// A weight tier's or `when … draw` rule's sub-pool.
    SubPool,
    /// The whole pool.
    Pool,
}

/// One step of the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub kind: StepKind,
    pub outcome: StepOutcome,
    /// The number the step compared (a score, a draw count), if any.
    pub read: Option<i64>,
}

/// Where in the graph a step happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Rule { rule: u32 },
    Draw { entry: EntryIx },
    Node { tree: u32, node: u32 },
    Issue { award: AwardIx },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Listed,
    NotListed,
    Tier { threshold: i64 },
    NoTier,
    True,
    False,
    Drawn,
    Unlocked,
    Locked,
    Taken,
    Exhausted,
    Fallback,
    Issued,
}

/// The explanation: every step, in order, bounded by the graph's size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub steps: Vec<Step>,
}

/// The award a draw gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    pub award: AwardIx,
    /// Credits or draws given, for awards that carry an amount.
    pub amount: Option<Decimal>,
    /// The pool entry that was drawn, if the award came through a table.
    pub entry: Option<EntryIx>,
    /// Whether the pool entry's stock was taken for this award.
    pub took_stock: bool,
    pub source: Source,
}

/// The result of a finished evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draw {
    pub issued: Issued,
    pub explanation: Explanation,
}

/// Why a draw failed; a failed draw writes nothing. Each is a fault of the
/// campaign (the caller's valid input cannot fix it), except a missing input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrawError {
    #[error("expression failed: {0}")]
    Expression(#[from] EvalError),
    #[error("award `{award}`: {error}")]
    Amount { award: String, error: AmountError },
}

/// Why an amount an expression computed cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    #[error("an amount of {0} is negative")]
    Negative(Decimal),
    #[error("{0} credits has more than 2 fractional digits")]
    CreditPrecision(Decimal),
    #[error("{0} credits is beyond the limit of {max} credits", max = ir::MAX_CREDITS)]
    CreditRange(Decimal),
    #[error("{0} draws is not a whole number from 0 to {max}", max = ir::MAX_DRAWS_GRANTED)]
    Draws(Decimal),
}

/// `amount` if an award of `kind` can give it: not negative; credits exact to
/// hundredths and within [`ir::MAX_CREDITS`]; draws whole and at most
/// [`ir::MAX_DRAWS_GRANTED`]. Draws and rebates check their amounts here alike.
pub(crate) fn checked_amount(kind: ir::AwardKind, amount: Decimal) -> Result<Decimal, AmountError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(AmountError::Negative(amount));
    }
    match kind {
        ir::AwardKind::Credits if amount.normalize().scale() > 2 => {
            Err(AmountError::CreditPrecision(amount))
        }
        ir::AwardKind::Credits if amount > ir::MAX_CREDITS => Err(AmountError::CreditRange(amount)),
        ir::AwardKind::Draws
            if amount.normalize().scale() > 0 || amount > Decimal::from(ir::MAX_DRAWS_GRANTED) =>
        {
            Err(AmountError::Draws(amount))
        }
        _ => Ok(amount),
    }
}

/// Where the evaluation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Chain(usize),
    Entry(EntryIx, Source),
    Tree {
        entry: EntryIx,
        source: Source,
        tree: u32,
        target: Target,
        took_stock: bool,
    },
    Done,
}

/// What [`Evaluation::run`] needs or produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// Decrement the stock of pool entry `entry` and call `resume` with whether it worked.
    NeedStock(EntryIx),
    Done(Draw),
}

/// Reads inputs for expressions.
pub(crate) struct Inputs<'a> {
    pub(crate) input: &'a DrawInput<'a>,
}

impl Env for Inputs<'_> {
    fn load(&self, slot: Slot) -> Option<Val<'_>> {
        Some(match slot {
            Slot::UserId => Val::Str(self.input.user),
            Slot::UserCredits => Val::Decimal(self.input.credits),
            Slot::DrawsToday => Val::Int(self.input.counts.today),
            Slot::DrawsMonth => Val::Int(self.input.counts.month),
            Slot::DrawsTotal => Val::Int(self.input.counts.total),
            Slot::DrawsLeft => Val::Int(self.input.draws_left),
            Slot::UserAttribute(i) => self
                .input
                .attributes
                .get(usize::from(i))?
                .as_ref()?
                .as_val(),
            Slot::EventAttribute(_) => return None,
        })
    }
}

/// The clock and the random source an evaluation runs with.
#[derive(Debug)]
pub struct Context<'r> {
    pub now: DateTime<Utc>,
    pub random: &'r mut SeededRandom,
    /// A pool entry every weighted pick lands on when its table holds it
    /// (scenario tests); `None` draws by weight.
    pub force: Option<EntryIx>,
}

impl Context<'_> {
    /// Picks a pool entry from `table`: by weight, unless forced.
    fn pick(&mut self, table: &tombola_ir::draw_table::DrawTable) -> EntryIx {
        match self.force {
            Some(entry) if table.entries.contains(&entry) => entry,
            _ => table.draw(|n| self.random.below(n)),
        }
    }
}

impl Runtime for Context<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn random_below(&mut self, bound: u64) -> u64 {
        self.random.below(bound)
    }
}

/// One draw in progress.
#[derive(Debug)]
pub struct Evaluator<'c, 'i> {
    campaign: &'c Campaign,
    input: &'i DrawInput<'i>,
    at: At,
    steps: Vec<Step>,
}

impl<'c, 'i> Evaluator<'c, 'i> {
    pub fn new(campaign: &'c Campaign, input: &'i DrawInput<'i>) -> Self {
        Evaluator {
            campaign,
            input,
            at: At::Chain(0),
            steps: Vec::with_capacity(8),
        }
    }

    fn step(&mut self, kind: StepKind, outcome: StepOutcome, read: Option<i64>) {
        self.steps.push(Step {
            kind,
            outcome,
            read,
        });
    }

    /// Advances until the draw is done or needs a stock decrement answered.
    pub fn run(&mut self, cx: &mut Context<'_>) -> Result<Evaluation, DrawError> {
        let campaign = self.campaign;
        loop {
            match self.at {
                At::Chain(index) => {
                    let Some(rule) = campaign.chain.get(index) else {
                        let entry = cx.pick(&campaign.table);
                        self.at = At::Entry(entry, Source::Pool);
                        continue;
                    };
                    let rule_step = StepKind::Rule { rule: index as u32 };
                    let inputs = Inputs { input: self.input };
                    match &rule.kind {
                        ChainKind::Blacklist {
                            users,
                            condition,
                            award,
                        } => {
                            let listed = users.contains(self.input.user)
                                || match condition {
                                    Some(condition) => condition.eval_bool(&inputs, cx)?,
                                    None => false,
                                };
                            if listed {
                                self.step(rule_step, StepOutcome::Listed, None);
                                return self.issue(*award, None, false, Source::Rule, cx);
                            }
                            self.step(rule_step, StepOutcome::NotListed, None);
                        }
                        ChainKind::Weight { score, mode, tiers } => {
                            let value = score.eval(&inputs, cx)?;
                            let score = match value {
                                Val::Int(v) => v,
                                _ => return Err(EvalError::Type("a weight score").into()),
                            };
                            match ir::tier_for(*mode, tiers, score) {
                                Some(tier) => {
                                    self.step(
                                        rule_step,
                                        StepOutcome::Tier {
                                            threshold: tier.threshold,
                                        },
                                        Some(score),
                                    );
                                    let entry = cx.pick(&tier.table);
                                    self.at = At::Entry(entry, Source::SubPool);
                                    continue;
                                }
                                None => self.step(rule_step, StepOutcome::NoTier, Some(score)),
                            }
                        }
                        ChainKind::When { condition, outcome } => {
                            if condition.eval_bool(&inputs, cx)? {
                                self.step(rule_step, StepOutcome::True, None);
                                match outcome {
                                    RuleOutcome::Give(award) => {
                                        return self.issue(*award, None, false, Source::Rule, cx);
                                    }
                                    RuleOutcome::Draw(table) => {
                                        let entry = cx.pick(table);
                                        self.at = At::Entry(entry, Source::SubPool);
                                        continue;
                                    }
                                }
                            }
                            self.step(rule_step, StepOutcome::False, None);
                        }
                    }
                    self.at = At::Chain(index + 1);
                }
                At::Entry(entry, source) => {
                    self.step(StepKind::Draw { entry }, StepOutcome::Drawn, None);
                    let pool_entry = &campaign.pool[entry as usize];
                    match pool_entry.tree {
                        Some(tree) => {
                            let target = campaign.trees[tree as usize].entry;
                            self.at = At::Tree {
                                entry,
                                source,
                                tree,
                                target,
                                took_stock: false,
                            };
                        }
                        None => {
                            return self.issue(pool_entry.award, Some(entry), false, source, cx);
                        }
                    }
                }
                At::Tree {
                    entry,
                    source,
                    tree,
                    target,
                    took_stock,
                } => {
                    if let Some(evaluation) =
                        self.node(entry, source, tree, target, took_stock, cx)?
                    {
                        return Ok(evaluation);
                    }
                }
                At::Done => unreachable!("a finished evaluation is not run again"),
            }
        }
    }

    /// Runs one node of the entry's tree, or issues the award at its end.
    #[inline(always)]
    fn node(
        &mut self,
        entry: EntryIx,
        source: Source,
        tree: u32,
        target: Target,
        took_stock: bool,
        cx: &mut Context<'_>,
    ) -> Result<Option<Evaluation>, DrawError> {
        let campaign = self.campaign;
        let Target::Node(node) = target else {
            let award = campaign.pool[entry as usize].award;
            return self
                .issue(award, Some(entry), took_stock, source, cx)
                .map(Some);
        };
        let kind = StepKind::Node { tree, node };
        let next = |target| At::Tree {
            entry,
            source,
            tree,
            target,
            took_stock,
        };
        match &campaign.trees[tree as usize].nodes[node as usize].kind {
            NodeKind::Lock {
                after,
                per,
                unlocked,
                locked,
            } => {
                let counts = self.input.counts;
                let made = match per {
                    LockPeriod::Total => counts.total,
                    LockPeriod::Day => counts.today,
                    LockPeriod::Month => counts.month,
                };
                let open = made >= i64::from(*after);
                self.step(
                    kind,
                    if open {
                        StepOutcome::Unlocked
                    } else {
                        StepOutcome::Locked
                    },
                    Some(made),
                );
                self.at = next(if open { *unlocked } else { *locked });
            }
            // One issue takes one unit: a second stock node on the same path
            // passes without asking again.
            NodeKind::Stock { taken, .. } if took_stock => {
                self.step(kind, StepOutcome::Taken, None);
                self.at = next(*taken);
            }
            NodeKind::Stock { .. } => return Ok(Some(Evaluation::NeedStock(entry))),
            NodeKind::Condition {
                condition,
                then,
                otherwise,
            } => {
                let inputs = Inputs { input: self.input };
                let holds = condition.eval_bool(&inputs, cx)?;
                self.step(
                    kind,
                    if holds {
                        StepOutcome::True
                    } else {
                        StepOutcome::False
                    },
                    None,
                );
                self.at = next(if holds { *then } else { *otherwise });
            }
            NodeKind::Fallback { award, amount } => {
                self.step(kind, StepOutcome::Fallback, None);
                // The node's amount overrides the award's; without one the award's own applies.
                let program = amount
                    .as_ref()
                    .or(campaign.awards[*award as usize].amount.as_ref());
                let amount = match program {
                    Some(program) => Some(self.amount(*award, program, cx)?),
                    None => None,
                };
                return self
                    .finish(*award, amount, Some(entry), took_stock, source, cx)
                    .map(Some);
            }
        }
        Ok(None)
    }

    /// Answers [`Evaluation::NeedStock`] and continues.
    pub fn resume(&mut self, taken: bool, cx: &mut Context<'_>) -> Result<Evaluation, DrawError> {
        let At::Tree {
            entry,
            source,
            tree,
            target: Target::Node(node),
            took_stock,
        } = self.at
        else {
            unreachable!("resume follows NeedStock");
        };
        let NodeKind::Stock {
            taken: on_taken,
            exhausted,
        } = &self.campaign.trees[tree as usize].nodes[node as usize].kind
        else {
            unreachable!("NeedStock comes from a stock node");
        };
        self.step(
            StepKind::Node { tree, node },
            if taken {
                StepOutcome::Taken
            } else {
                StepOutcome::Exhausted
            },
            None,
        );
        let target = if taken { *on_taken } else { *exhausted };
        self.at = At::Tree {
            entry,
            source,
            tree,
            target,
            took_stock: took_stock || taken,
        };
        self.run(cx)
    }

    fn amount(
        &self,
        award: AwardIx,
        program: &tombola_grammar::Program,
        cx: &mut Context<'_>,
    ) -> Result<Decimal, DrawError> {
        let inputs = Inputs { input: self.input };
        let amount = program.eval_decimal(&inputs, cx)?;
        let award_ir = &self.campaign.awards[award as usize];
        checked_amount(award_ir.kind, amount).map_err(|error| DrawError::Amount {
            award: award_ir.id.clone(),
            error,
        })
    }

    fn issue(
        &mut self,
        award: AwardIx,
        entry: Option<EntryIx>,
        took_stock: bool,
        source: Source,
        cx: &mut Context<'_>,
    ) -> Result<Evaluation, DrawError> {
        let amount = match &self.campaign.awards[award as usize].amount {
            Some(program) => Some(self.amount(award, program, cx)?),
            None => None,
        };
        self.finish(award, amount, entry, took_stock, source, cx)
    }

    fn finish(
        &mut self,
        award: AwardIx,
        amount: Option<Decimal>,
        entry: Option<EntryIx>,
        took_stock: bool,
        source: Source,
        _cx: &mut Context<'_>,
    ) -> Result<Evaluation, DrawError> {
        self.step(StepKind::Issue { award }, StepOutcome::Issued, None);
        self.at = At::Done;
        Ok(Evaluation::Done(Draw {
            issued: Issued {
                award,
                amount,
                entry,
                took_stock,
                source,
            },
            explanation: Explanation {
                steps: std::mem::take(&mut self.steps),
            },
        }))
    }
}

/// Runs one draw to the end, answering stock questions from `stock` (units
/// left per pool entry; `None` is unlimited, except for a coupon, whose units
/// are its uploaded codes: none declared, none left). A unit taken for an award that
/// a later node replaced with a fallback is put back, so stock only ever
/// moves for the award that is issued.
pub fn draw_in_memory(
    campaign: &Campaign,
    input: &DrawInput<'_>,
    stock: &mut [Option<u64>],
    cx: &mut Context<'_>,
) -> Result<Draw, DrawError> {
    let mut evaluator = Evaluator::new(campaign, input);
    let mut taken_from: Option<EntryIx> = None;
    let mut state = evaluator.run(cx)?;
    loop {
        match state {
            Evaluation::NeedStock(entry) => {
                let award = campaign.pool[entry as usize].award;
                let is_coupon = campaign.awards[award as usize].kind == ir::AwardKind::Coupon;
                let left = &mut stock[entry as usize];
                let taken = match left {
                    // A coupon's units are its uploaded codes; with none declared there
                    // are none, as in the stores.
                    None if is_coupon => false,
                    None => true,
                    Some(0) => false,
                    Some(n) => {
                        *n -= 1;
                        taken_from = Some(entry);
                        true
                    }
                };
                state = evaluator.resume(taken, cx)?;
            }
            Evaluation::Done(draw) => {
                // A unit taken for an award that a later node replaced goes back.
                if let Some(entry) = taken_from
                    && draw.issued.award != campaign.pool[entry as usize].award
                    && let Some(n) = &mut stock[entry as usize]
                {
                    *n += 1;
                }
                return Ok(draw);
            }
        }
    }
}
