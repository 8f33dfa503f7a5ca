//! Rebate flows (behaviour events and their once-per-period rewards), the
//! credit ledger as callers see it, and exchanges of credits for draws.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tombola_grammar::{Env, EvalError, Slot, Type, Val, Value, value_has_type};
use tombola_ir::{Action, AwardKind, Campaign, Once, Rebate, Sku};

use crate::Context;
use crate::answer::{
    ActionTaken, AdjustmentOutcome, EventOutcome, ExchangeOutcome, RebateOutcome, RebateResult,
};
use crate::draw::SkuRequest;
use crate::engine::{Deployed, Engine, Failure, hundredths, micros, sha256_hex};
use crate::evaluate::{AmountError, DrawInput, Inputs, checked_amount};
use crate::period::Periods;
use crate::random::SeededRandom;
use crate::request::{Answer, Body, Request};
use crate::store::prelude::*;
use crate::store::{
    AuditRecord, CreditChange, EventQuery, EventRecord, NewDelivery, Period, RebateClaim, Tx,
};

/// A behaviour event a caller reports.
#[derive(Debug, Clone)]
pub struct EventRequest<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    pub event: &'a str,
    pub request_id: &'a str,
    /// The event's declared attributes by name.
    pub attributes: &'a [(String, Value)],
}

/// A user's credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credits {
    pub user: String,
    /// Exact, no trailing zeros: `"12.5"`.
    pub balance: String,
    /// The latest entries, newest first.
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Signed, exact: `"12.5"`, `"-20"`.
    pub delta: String,
    /// `award`, `rebate`, `exchange` or `adjustment: <why>`.
    pub reason: String,
    /// `<campaign>/<request id>` or the adjustment's request id.
    pub reference: String,
    pub at: DateTime<Utc>,
}

fn credits(hundredths: i64) -> String {
    Decimal::new(hundredths, 2).normalize().to_string()
}

/// Event attributes for expressions, beside the user's.
struct EventEnv<'a> {
    user: Inputs<'a>,
    event: &'a [Option<Value>],
}

impl Env for EventEnv<'_> {
    fn load(&self, slot: Slot) -> Option<Val<'_>> {
        match slot {
            Slot::EventAttribute(i) => Some(self.event.get(usize::from(i))?.as_ref()?.as_val()),
            other => self.user.load(other),
        }
    }
}

impl EventRequest<'_> {
    fn envelope(&self, now: DateTime<Utc>) -> Request<'_> {
        Request {
            scope: format!("event/{}", self.campaign),
            campaign: Some(self.campaign),
            debit: None,
            id: self.request_id,
            body: Body::default()
                .field("user", self.user)
                .field("event", self.event)
                .attributes("attributes", self.attributes),
            first_hash: self.first_hash(),
            now,
            // A rebate's amount may be `random(…)`.
            picks: true,
        }
    }

    /// The first release's hash of this body.
    fn first_hash(&self) -> String {
        let mut canonical: Vec<_> = self
            .attributes
            .iter()
            .map(|(n, v)| format!("{n}={v:?}"))
            .collect();
        canonical.sort();
        let text = format!("{}\n{}\n{}", self.user, self.event, canonical.join("\n"));
        sha256_hex(text.as_bytes())
    }
}

/// What one event's flows share while they run.
struct EventRun<'a> {
    deployed: &'a Deployed,
    campaign: &'a Campaign,
    /// The event's declared attributes, to name one an expression missed.
    declared: &'a [(String, Type)],
    request: &'a EventRequest<'a>,
    periods: Periods,
    env: EventEnv<'a>,
    /// `<campaign>/<request id>`, the ledger's reference for credits.
    reference: String,
    at: i64,
}

impl EventRun<'_> {
    /// An expression of rebate `rebate` failed: a missing event attribute is the
    /// caller's to supply, anything else the campaign's fault.
    fn failure(&self, rebate: &str, error: EvalError) -> Failure {
        match error {
            EvalError::MissingInput(Slot::EventAttribute(i)) => Failure::MissingAttribute {
                scope: "event",
                name: self
                    .declared
                    .get(usize::from(i))
                    .map_or_else(|| format!("#{i}"), |(n, _)| n.clone()),
            },
            other => self
                .deployed
                .fault(format_args!("rebate `{rebate}`: {other}")),
        }
    }
}

impl Engine {
    /// Runs every rebate flow of `request.event`: its condition, its `once`
    /// claim (a unique key per user and period), its actions — in one transaction.
    pub async fn event(
        &self,
        request: &EventRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<EventOutcome, Failure> {
        self.once(request.envelope(now), async |tx: &mut Tx| {
            self.run_event(tx, request, now).await
        })
        .await
    }

    /// An event of a simulation, whose request ids never repeat: nothing is
    /// claimed or kept to replay (see [`Engine::simulate_draw`]); the rebates
    /// run as for [`Engine::event`].
    pub async fn simulate_event(
        &self,
        request: &EventRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<EventOutcome, Failure> {
        self.unrepeated(async |tx: &mut Tx| self.run_event(tx, request, now).await)
            .await
    }

    async fn run_event(
        &self,
        tx: &mut Tx,
        request: &EventRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<EventOutcome, Failure> {
        let deployed = self.open_campaign(tx, request.campaign, now).await?;
        let campaign = &deployed.campaign;
        let (event_ix, event_values) = event_values(campaign, request)?;
        let at = micros(now);
        let periods = Periods::at(campaign, now);
        tx.record_event(&EventRecord {
            campaign: &campaign.id,
            request_id: request.request_id,
            user: request.user,
            event: request.event,
            day: &periods.day,
            week: &periods.week,
            month: &periods.month,
            at,
        })
        .await?;
        // Held before any rebate credits the account: the order a draw takes them in.
        let counts = tx.held_counts(&campaign.id, request.user, &periods).await?;
        let balance = tx.balance(request.user).await?;
        let user_attributes = vec![None; campaign.inputs.user.len()];
        let input = DrawInput::new(
            campaign.allowance,
            request.user,
            counts,
            false,
            Decimal::new(balance, 2),
            &user_attributes,
        );
        let run = EventRun {
            deployed: &deployed,
            campaign,
            declared: &campaign.inputs.events[event_ix].attributes,
            request,
            periods,
            env: EventEnv {
                user: Inputs { input: &input },
                event: &event_values,
            },
            reference: format!("{}/{}", campaign.id, request.request_id),
            at,
        };
        let mut random = SeededRandom::new(self.seed_for(&campaign.id, request.request_id));
        let mut cx = Context {
            now,
            random: &mut random,
            force: None,
        };
        let mut rebates = Vec::new();
        for rebate in campaign
            .rebates
            .iter()
            .filter(|r| r.event as usize == event_ix)
        {
            rebates.push(self.run_rebate(tx, &run, rebate, &mut cx).await?);
        }
        Ok(EventOutcome {
            campaign: campaign.id.clone(),
            request_id: request.request_id.to_string(),
            user: request.user.to_string(),
            event: request.event.to_string(),
            rebates,
        })
    }

    /// One flow: its condition, its once-per-period claim, its actions.
    async fn run_rebate(
        &self,
        tx: &mut Tx,
        run: &EventRun<'_>,
        rebate: &Rebate,
        cx: &mut Context<'_>,
    ) -> Result<RebateOutcome, Failure> {
        let skipped = |outcome| RebateOutcome {
            rebate: rebate.id.clone(),
            outcome,
            actions: Vec::new(),
        };
        if let Some(condition) = &rebate.condition
            && !condition
                .eval_bool(&run.env, cx)
                .map_err(|e| run.failure(&rebate.id, e))?
        {
            return Ok(skipped(RebateResult::ConditionFalse));
        }
        if let Some(once) = rebate.once
            && !tx
                .claim_rebate(&RebateClaim {
                    campaign: &run.campaign.id,
                    rebate: &rebate.id,
                    user: run.request.user,
                    period_key: run.periods.key(once),
                    request_id: run.request.request_id,
                    at: run.at,
                })
                .await?
        {
            return Ok(skipped(RebateResult::AlreadyDone));
        }
        let mut actions = Vec::new();
        for action in &rebate.actions {
            actions.push(self.apply_action(tx, run, action, &rebate.id, cx).await?);
        }
        Ok(RebateOutcome {
            rebate: rebate.id.clone(),
            outcome: RebateResult::Applied,
            actions,
        })
    }

    async fn apply_action(
        &self,
        tx: &mut Tx,
        run: &EventRun<'_>,
        action: &Action,
        rebate: &str,
        cx: &mut Context<'_>,
    ) -> Result<ActionTaken, Failure> {
        let (campaign, user, at) = (run.campaign, run.request.user, run.at);
        // The amount an action gives, checked as a draw checks an award's.
        let amount_of = |kind, program: &tombola_grammar::Program, cx: &mut Context<'_>| {
            let amount = program
                .eval_decimal(&run.env, cx)
                .map_err(|e| run.failure(rebate, e))?;
            checked_amount(kind, amount).map_err(|error| match error {
                // The caller's payment can be that large: the user's limit, not the campaign's fault.
                AmountError::CreditRange(amount) => Failure::BalanceLimit { amount },
                error => run
                    .deployed
                    .fault(format_args!("rebate `{rebate}`: {error}")),
            })
        };
        Ok(match action {
            Action::Sku(ix) => {
                let sku = &campaign.skus[*ix as usize];
                let applied =
                    sku.stock.is_none() || tx.take_sku_stock(&campaign.id, &sku.id).await?;
                if applied {
                    tx.grant_draws(&campaign.id, user, i64::from(sku.draws))
                        .await?;
                }
                ActionTaken::Sku {
                    sku: sku.id.clone(),
                    draws: i64::from(sku.draws),
                    applied,
                }
            }
            Action::Credits(program) => {
                let amount = amount_of(AwardKind::Credits, program, cx)?;
                self.add_rebate_credits(tx, user, amount, &run.reference, at)
                    .await?;
                ActionTaken::Credits {
                    amount: amount.normalize(),
                }
            }
            Action::Award(ix) => {
                let award = &campaign.awards[*ix as usize];
                let amount = award
                    .amount
                    .as_ref()
                    .map(|p| amount_of(award.kind, p, cx))
                    .transpose()?;
                match award.kind {
                    AwardKind::Credits => {
                        self.add_rebate_credits(
                            tx,
                            user,
                            amount.unwrap_or_default(),
                            &run.reference,
                            at,
                        )
                        .await?;
                    }
                    AwardKind::Draws => {
                        // Whole and bounded: `amount_of` checked it.
                        let draws = i64::try_from(amount.unwrap_or_default()).unwrap_or(0);
                        tx.grant_draws(&campaign.id, user, draws).await?;
                    }
                    AwardKind::Item | AwardKind::Coupon => {
                        // One delivery per flow of this event.
                        let task = format!("{}/{rebate}", run.request.request_id);
                        tx.enqueue_delivery(&NewDelivery {
                            campaign: &campaign.id,
                            request_id: &task,
                            user,
                            award: &award.id,
                            at,
                        })
                        .await?;
                        if award.kind == AwardKind::Coupon {
                            tx.take_coupon_code(&campaign.id, &award.id, &task, at)
                                .await?;
                        }
                    }
                    AwardKind::None => {}
                }
                ActionTaken::Award {
                    award: award.id.clone(),
                    amount: amount.map(|a| a.normalize()),
                }
            }
        })
    }

    async fn add_rebate_credits(
        &self,
        tx: &mut Tx,
        user: &str,
        amount: Decimal,
        reference: &str,
        at: i64,
    ) -> Result<(), Failure> {
        // `amount_of` checked the amount: not negative, exact, within the limit.
        if amount.is_zero() {
            // Nothing given writes no ledger entry.
            return Ok(());
        }
        let added = tx
            .add_credits(&CreditChange {
                user,
                delta: hundredths(amount)?,
                reason: "rebate",
                reference,
                at,
            })
            .await?;
        if !added {
            return Err(Failure::BalanceLimit { amount });
        }
        Ok(())
    }

    /// Whether `user` reported `event` in the current day, week or month (or ever).
    pub async fn event_done(
        &self,
        campaign: &str,
        user: &str,
        event: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<bool, Failure> {
        let deployed = self.resolve(campaign).await?;
        let c = &deployed.campaign;
        if c.inputs.event(event).is_none() {
            return Err(Failure::UnknownEvent(event.to_string()));
        }
        let once = match period {
            Period::Day => Once::PerDay,
            Period::Week => Once::PerWeek,
            Period::Month => Once::PerMonth,
            Period::Ever => Once::Ever,
        };
        let periods = Periods::at(c, now);
        let mut tx = self.store().read().await?;
        Ok(tx
            .event_done(&EventQuery {
                campaign,
                user,
                event,
                period,
                key: periods.key(once),
            })
            .await?)
    }

    /// Buys one unit of a SKU with credits: the price debited, the SKU's stock
    /// taken and its draws granted, in one transaction; too few credits change nothing.
    pub async fn exchange(
        &self,
        request: &SkuRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<ExchangeOutcome, Failure> {
        self.order("exchange", request, now, async |tx: &mut Tx, sku: &Sku| {
            self.pay(tx, request, sku, now).await
        })
        .await
    }

    /// An exchange of a simulation, whose request ids never repeat: nothing is
    /// claimed or kept to replay (see [`Engine::simulate_draw`]).
    pub async fn simulate_exchange(
        &self,
        request: &SkuRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<ExchangeOutcome, Failure> {
        self.unrepeated(async |tx: &mut Tx| {
            self.on_sku(tx, request, now, async |tx: &mut Tx, sku: &Sku| {
                self.pay(tx, request, sku, now).await
            })
            .await
        })
        .await
    }

    /// One unit of `sku` filled and paid for with credits, in `tx`.
    async fn pay(
        &self,
        tx: &mut Tx,
        request: &SkuRequest<'_>,
        sku: &Sku,
        now: DateTime<Utc>,
    ) -> Result<ExchangeOutcome, Failure> {
        let SkuRequest { campaign, user, .. } = *request;
        let price = sku
            .price
            .ok_or_else(|| Failure::NotForSale(sku.id.clone()))?;
        let at = micros(now);
        let reference = format!("{campaign}/{}", request.request_id);
        // The draws first, then the credits: a draw locks the user's counters
        // before their account, and taking them in the same order means a
        // draw and an exchange of one user on PostgreSQL wait for each other
        // instead of deadlocking. Too few credits roll the draws back.
        let granted = request.fill(tx, sku, at).await?;
        // The debit is conditional on the balance in the same statement, so no
        // interleaving of exchanges can spend credits twice or go below zero.
        if !tx
            .add_credits(&CreditChange {
                user,
                delta: -hundredths(price)?,
                reason: "exchange",
                reference: &reference,
                at,
            })
            .await?
        {
            let balance = Decimal::new(tx.balance(user).await?, 2);
            return Err(Failure::InsufficientCredits {
                needed: price.normalize(),
                balance: balance.normalize(),
            });
        }
        Ok(ExchangeOutcome {
            campaign: granted.campaign,
            request_id: granted.request_id,
            user: granted.user,
            sku: granted.sku,
            draws: granted.draws,
            price: price.normalize(),
            balance: Decimal::new(tx.balance(user).await?, 2).normalize(),
        })
    }

    /// A user's balance and latest ledger entries (at most `limit`, newest first).
    pub async fn credits(&self, user: &str, limit: u32) -> Result<Credits, Failure> {
        let mut tx = self.store().read().await?;
        let balance = tx.balance(user).await?;
        let entries = tx.ledger(user, i64::from(limit.clamp(1, 100))).await?;
        Ok(Credits {
            user: user.to_string(),
            balance: credits(balance),
            entries: entries
                .into_iter()
                .map(|e| LedgerEntry {
                    delta: credits(e.delta),
                    reason: e.reason,
                    reference: e.reference,
                    at: DateTime::from_timestamp_micros(e.at).unwrap_or_default(),
                })
                .collect(),
        })
    }

    /// An operator's correction of a balance, with its reason; a debit beyond the
    /// balance changes nothing.
    pub async fn adjust_credits(
        &self,
        user: &str,
        delta: Decimal,
        reason: &str,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<AdjustmentOutcome, Failure> {
        if delta.is_zero() {
            return Err(Failure::BadInput("`amount` must not be zero".into()));
        }
        let cents = hundredths(delta)?;
        let request = Request {
            scope: "adjustment".into(),
            campaign: None,
            debit: None,
            id: request_id,
            body: Body::default()
                .field("user", user)
                .field("hundredths", cents)
                .field("reason", reason),
            first_hash: sha256_hex(format!("{user}\n{cents}\n{reason}").as_bytes()),
            now,
            picks: false,
        };
        self.once(request, async |tx: &mut Tx| {
            let why = format!("adjustment: {reason}");
            if !tx
                .add_credits(&CreditChange {
                    user,
                    delta: cents,
                    reason: &why,
                    reference: request_id,
                    at: micros(now),
                })
                .await?
            {
                if delta.is_sign_positive() {
                    return Err(Failure::BalanceLimit {
                        amount: delta.normalize(),
                    });
                }
                let balance = Decimal::new(tx.balance(user).await?, 2);
                return Err(Failure::InsufficientCredits {
                    needed: (-delta).normalize(),
                    balance: balance.normalize(),
                });
            }
            // In the adjustment's own transaction, so a replay writes no second entry.
            tx.audit(&AuditRecord {
                at: micros(now),
                actor: "admin",
                action: "adjust_credits",
                target: user,
                detail: &format!("{} ({reason})", delta.normalize()),
            })
            .await?;
            Ok(AdjustmentOutcome {
                user: user.to_string(),
                request_id: request_id.to_string(),
                delta: delta.normalize(),
                balance: Decimal::new(tx.balance(user).await?, 2).normalize(),
            })
        })
        .await
    }
}

/// The event's index among the declared events, and its attributes in
/// declaration order, checked against their types.
fn event_values(
    campaign: &Campaign,
    request: &EventRequest<'_>,
) -> Result<(usize, Vec<Option<Value>>), Failure> {
    let (event_ix, decl) = campaign
        .inputs
        .events
        .iter()
        .enumerate()
        .find(|(_, e)| e.name == request.event)
        .ok_or_else(|| Failure::UnknownEvent(request.event.to_string()))?;
    let mut values = vec![None; decl.attributes.len()];
    for (name, value) in request.attributes {
        let Some(i) = decl.attributes.iter().position(|(n, _)| n == name) else {
            return Err(Failure::BadInput(format!(
                "`{name}` is not an attribute of event `{}`",
                request.event
            )));
        };
        if !value_has_type(value, &decl.attributes[i].1) {
            return Err(Failure::BadInput(format!(
                "`{name}` must be {}",
                decl.attributes[i].1
            )));
        }
        values[i] = Some(value.clone());
    }
    Ok((event_ix, values))
}

impl Answer for EventOutcome {
    fn from_first_form(json: &str) -> Result<Self, String> {
        crate::first_form::event(json)
    }
}

// The first forms of these had the same fields, amounts as exact strings.
impl Answer for ExchangeOutcome {
    fn from_first_form(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}

impl Answer for AdjustmentOutcome {
    fn from_first_form(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}
