//! Rebate flows (behaviour events and their once-per-period rewards), the
//! credit ledger as callers see it, and exchanges of credits for draws.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tombola_grammar::{Env, Slot, Val, Value, value_has_type};
use tombola_ir::{Action, AwardKind, Campaign, Once};

use crate::Context;
use crate::engine::{Engine, Failure, hundredths, micros, sha256_hex};
use crate::evaluate::{Counts, DrawInput, Inputs};
use crate::random::SeededRandom;
use crate::store::{Claim, EventRecord, Period, StoreError, Tx};
use crate::views::made;

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

/// What an event did: each flow on that event and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub event: String,
    pub rebates: Vec<RebateOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RebateOutcome {
    pub rebate: String,
    pub outcome: RebateResult,
    /// The actions applied (empty unless `applied`).
    pub actions: Vec<ActionView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebateResult {
    Applied,
    /// The flow's `when` was false.
    ConditionFalse,
    /// The flow's `once` period was already used by this user.
    AlreadyDone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionView {
    /// `sku`, `credits` or `award`.
    pub kind: String,
    /// The SKU or award id.
    pub id: Option<String>,
    /// Credits added, or draws granted.
    pub amount: Option<String>,
    /// False when a SKU was sold out: the flow's other actions still apply.
    pub applied: bool,
}

/// The answer to an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExchangeResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
    /// Credits debited, exact.
    pub price: String,
    /// The balance after the exchange.
    pub balance: String,
}

/// A user's credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Credits {
    pub user: String,
    pub balance: String,
    /// The latest entries, newest first.
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// Signed, exact: `"12.5"`, `"-20"`.
    pub delta: String,
    /// `award`, `rebate`, `exchange` or `adjustment: <why>`.
    pub reason: String,
    /// `<campaign>/<request id>` or the adjustment's request id.
    pub reference: String,
    pub at: DateTime<Utc>,
}

/// The answer to an admin credit adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub user: String,
    pub request_id: String,
    pub delta: String,
    pub balance: String,
}

fn credits(hundredths: i64) -> String {
    Decimal::new(hundredths, 2).normalize().to_string()
}

fn corrupt(e: serde_json::Error) -> Failure {
    Failure::Store(StoreError::Corrupt(e.to_string()))
}

/// The period key of `once` at `now` in the campaign's zone.
fn period_key(campaign: &Campaign, once: Once, now: DateTime<Utc>) -> String {
    let local = now.with_timezone(&campaign.window.zone);
    match once {
        Once::PerDay => local.format("%Y-%m-%d").to_string(),
        Once::PerWeek => local.format("%G-W%V").to_string(),
        Once::PerMonth => local.format("%Y-%m").to_string(),
        Once::Ever => "ever".to_string(),
    }
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

impl Engine {
    /// Runs every rebate flow of `request.event`: its condition, its `once`
    /// claim (a unique key per user and period), its actions — in one transaction.
    pub async fn event(
        &self,
        request: &EventRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<EventResponse, Failure> {
        let mut canonical: Vec<_> = request
            .attributes
            .iter()
            .map(|(n, v)| format!("{n}={v:?}"))
            .collect();
        canonical.sort();
        let body_hash = sha256_hex(
            format!(
                "{}\n{}\n{}",
                request.user,
                request.event,
                canonical.join("\n")
            )
            .as_bytes(),
        );
        let scope = format!("event/{}", request.campaign);
        let mut tx = self.store().begin().await?;
        match tx.claim(&scope, request.request_id, &body_hash).await? {
            Claim::Replay(answer) => return serde_json::from_str(&answer).map_err(corrupt),
            Claim::Conflict => return Err(Failure::RequestConflict(request.request_id.into())),
            Claim::New => {}
        }
        let deployed = self.open_campaign(&mut tx, request.campaign, now).await?;
        let campaign = &deployed.campaign;
        let (event_ix, decl) = campaign
            .inputs
            .events
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == request.event)
            .ok_or_else(|| Failure::UnknownEvent(request.event.to_string()))?;
        let mut event_values = vec![None; decl.attributes.len()];
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
            event_values[i] = Some(value.clone());
        }
        let at = micros(now);
        let local = now.with_timezone(&campaign.window.zone);
        let (day, week, month) = (
            local.format("%Y-%m-%d").to_string(),
            local.format("%G-W%V").to_string(),
            local.format("%Y-%m").to_string(),
        );
        tx.record_event(&EventRecord {
            campaign: &campaign.id,
            request_id: request.request_id,
            user: request.user,
            event: request.event,
            day: &day,
            week: &week,
            month: &month,
            at,
        })
        .await?;

        let counts = made(&mut tx, campaign, request.user, now).await?;
        let balance = tx.balance(request.user).await?;
        let c = &counts.counters;
        let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        let user_attributes = vec![None; campaign.inputs.user.len()];
        let input = DrawInput {
            user: request.user,
            counts: Counts {
                today: clamp(counts.today),
                month: clamp(counts.this_month),
                total: clamp(c.made),
            },
            draws_left: clamp(i64::from(campaign.allowance) + c.granted - c.made),
            credits: Decimal::new(balance, 2),
            attributes: &user_attributes,
        };
        let env = EventEnv {
            user: Inputs { input: &input },
            event: &event_values,
        };
        let mut random = SeededRandom::new(self.seed_for(&campaign.id, request.request_id));
        let mut cx = Context {
            now,
            random: &mut random,
            force: None,
        };
        let reference = format!("{}/{}", campaign.id, request.request_id);
        let mut rebates = Vec::new();
        for rebate in campaign
            .rebates
            .iter()
            .filter(|r| r.event as usize == event_ix)
        {
            if let Some(condition) = &rebate.condition
                && !condition
                    .eval_bool(&env, &mut cx)
                    .map_err(|e| Failure::BadInput(format!("rebate `{}`: {e}", rebate.id)))?
            {
                rebates.push(RebateOutcome {
                    rebate: rebate.id.clone(),
                    outcome: RebateResult::ConditionFalse,
                    actions: Vec::new(),
                });
                continue;
            }
            if let Some(once) = rebate.once {
                let key = period_key(campaign, once, now);
                if !tx
                    .claim_rebate(
                        &campaign.id,
                        &rebate.id,
                        request.user,
                        &key,
                        request.request_id,
                        at,
                    )
                    .await?
                {
                    rebates.push(RebateOutcome {
                        rebate: rebate.id.clone(),
                        outcome: RebateResult::AlreadyDone,
                        actions: Vec::new(),
                    });
                    continue;
                }
            }
            let mut actions = Vec::new();
            for action in &rebate.actions {
                actions.push(
                    self.apply_action(
                        &mut tx, campaign, action, request, &rebate.id, &reference, &env, &mut cx,
                        at,
                    )
                    .await?,
                );
            }
            rebates.push(RebateOutcome {
                rebate: rebate.id.clone(),
                outcome: RebateResult::Applied,
                actions,
            });
        }
        let response = EventResponse {
            campaign: campaign.id.clone(),
            request_id: request.request_id.to_string(),
            user: request.user.to_string(),
            event: request.event.to_string(),
            rebates,
        };
        let json = serde_json::to_string(&response).map_err(corrupt)?;
        tx.answer(&scope, request.request_id, &body_hash, &json, at)
            .await?;
        tx.commit().await?;
        Ok(response)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one action needs the whole event's context"
    )]
    async fn apply_action(
        &self,
        tx: &mut Tx,
        campaign: &Campaign,
        action: &Action,
        request: &EventRequest<'_>,
        rebate: &str,
        reference: &str,
        env: &EventEnv<'_>,
        cx: &mut Context<'_>,
        at: i64,
    ) -> Result<ActionView, Failure> {
        let amount_of = |program: &tombola_grammar::Program, cx: &mut Context<'_>| {
            program
                .eval_decimal(env, cx)
                .map_err(|e| Failure::BadInput(format!("rebate `{rebate}`: {e}")))
        };
        Ok(match action {
            Action::Sku(ix) => {
                let sku = &campaign.skus[*ix as usize];
                let applied =
                    sku.stock.is_none() || tx.take_sku_stock(&campaign.id, &sku.id).await?;
                if applied {
                    tx.grant_draws(&campaign.id, request.user, i64::from(sku.draws))
                        .await?;
                }
                ActionView {
                    kind: "sku".into(),
                    id: Some(sku.id.clone()),
                    amount: Some(sku.draws.to_string()),
                    applied,
                }
            }
            Action::Credits(program) => {
                let amount = amount_of(program, cx)?;
                self.add_rebate_credits(tx, request.user, amount, rebate, reference, at)
                    .await?;
                ActionView {
                    kind: "credits".into(),
                    id: None,
                    amount: Some(amount.normalize().to_string()),
                    applied: true,
                }
            }
            Action::Award(ix) => {
                let award = &campaign.awards[*ix as usize];
                let amount = award
                    .amount
                    .as_ref()
                    .map(|p| amount_of(p, cx))
                    .transpose()?;
                match award.kind {
                    AwardKind::Credits => {
                        self.add_rebate_credits(
                            tx,
                            request.user,
                            amount.unwrap_or_default(),
                            rebate,
                            reference,
                            at,
                        )
                        .await?;
                    }
                    AwardKind::Draws => {
                        let draws = amount.unwrap_or_default();
                        let draws = i64::try_from(draws).map_err(|_| {
                            Failure::BadInput(format!("{draws} draws is not a whole number"))
                        })?;
                        tx.grant_draws(&campaign.id, request.user, draws).await?;
                    }
                    AwardKind::Item | AwardKind::Coupon => {
                        // One delivery per flow of this event.
                        let task = format!("{}/{rebate}", request.request_id);
                        tx.enqueue_delivery(&campaign.id, &task, request.user, &award.id, at)
                            .await?;
                        if award.kind == AwardKind::Coupon {
                            tx.take_coupon_code(&campaign.id, &award.id, &task, at)
                                .await?;
                        }
                    }
                    AwardKind::None => {}
                }
                ActionView {
                    kind: "award".into(),
                    id: Some(award.id.clone()),
                    amount: amount.map(|a| a.normalize().to_string()),
                    applied: true,
                }
            }
        })
    }

    async fn add_rebate_credits(
        &self,
        tx: &mut Tx,
        user: &str,
        amount: Decimal,
        rebate: &str,
        reference: &str,
        at: i64,
    ) -> Result<(), Failure> {
        if amount.is_sign_negative() {
            return Err(Failure::BadInput(format!(
                "rebate `{rebate}` would add {amount} credits"
            )));
        }
        tx.add_credits(user, hundredths(amount)?, "rebate", reference, at)
            .await?;
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
        if !c.inputs.events.iter().any(|e| e.name == event) {
            return Err(Failure::UnknownEvent(event.to_string()));
        }
        let once = match period {
            Period::Day => Once::PerDay,
            Period::Week => Once::PerWeek,
            Period::Month => Once::PerMonth,
            Period::Ever => Once::Ever,
        };
        let key = period_key(c, once, now);
        let mut tx = self.store().read().await?;
        Ok(tx.event_done(campaign, user, event, period, &key).await?)
    }

    /// Buys one unit of a SKU with credits: the price debited, the SKU's stock
    /// taken and its draws granted, in one transaction; too few credits change nothing.
    pub async fn exchange(
        &self,
        campaign_id: &str,
        user: &str,
        sku_id: &str,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ExchangeResponse, Failure> {
        let body_hash = sha256_hex(format!("{user}\n{sku_id}").as_bytes());
        let scope = format!("exchange/{campaign_id}");
        let mut tx = self.store().begin().await?;
        match tx.claim(&scope, request_id, &body_hash).await? {
            Claim::Replay(answer) => return serde_json::from_str(&answer).map_err(corrupt),
            Claim::Conflict => return Err(Failure::RequestConflict(request_id.to_string())),
            Claim::New => {}
        }
        let deployed = self.open_campaign(&mut tx, campaign_id, now).await?;
        let sku = deployed
            .campaign
            .skus
            .iter()
            .find(|s| s.id == sku_id)
            .ok_or_else(|| Failure::UnknownSku(sku_id.to_string()))?;
        let price = sku
            .price
            .ok_or_else(|| Failure::NotForSale(sku_id.to_string()))?;
        let at = micros(now);
        let reference = format!("{campaign_id}/{request_id}");
        // The debit is conditional on the balance in the same statement, so no
        // interleaving of exchanges can spend credits twice or go below zero.
        if !tx
            .add_credits(user, -hundredths(price)?, "exchange", &reference, at)
            .await?
        {
            let balance = Decimal::new(tx.balance(user).await?, 2);
            return Err(Failure::InsufficientCredits {
                needed: price.normalize(),
                balance: balance.normalize(),
            });
        }
        if sku.stock.is_some() && !tx.take_sku_stock(campaign_id, sku_id).await? {
            return Err(Failure::SkuSoldOut(sku_id.to_string()));
        }
        let draws = i64::from(sku.draws);
        tx.grant_draws(campaign_id, user, draws).await?;
        tx.record_order(campaign_id, request_id, user, sku_id, draws, at)
            .await?;
        let balance = tx.balance(user).await?;
        let response = ExchangeResponse {
            campaign: campaign_id.to_string(),
            request_id: request_id.to_string(),
            user: user.to_string(),
            sku: sku_id.to_string(),
            draws,
            price: price.normalize().to_string(),
            balance: credits(balance),
        };
        let json = serde_json::to_string(&response).map_err(corrupt)?;
        tx.answer(&scope, request_id, &body_hash, &json, at).await?;
        tx.commit().await?;
        Ok(response)
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
    ) -> Result<Adjustment, Failure> {
        if delta.is_zero() {
            return Err(Failure::BadInput("`amount` must not be zero".into()));
        }
        let cents = hundredths(delta)?;
        let body_hash = sha256_hex(format!("{user}\n{cents}\n{reason}").as_bytes());
        let scope = "adjustment";
        let mut tx = self.store().begin().await?;
        match tx.claim(scope, request_id, &body_hash).await? {
            Claim::Replay(answer) => return serde_json::from_str(&answer).map_err(corrupt),
            Claim::Conflict => return Err(Failure::RequestConflict(request_id.to_string())),
            Claim::New => {}
        }
        let at = micros(now);
        if !tx
            .add_credits(
                user,
                cents,
                &format!("adjustment: {reason}"),
                request_id,
                at,
            )
            .await?
        {
            let balance = Decimal::new(tx.balance(user).await?, 2);
            return Err(Failure::InsufficientCredits {
                needed: (-delta).normalize(),
                balance: balance.normalize(),
            });
        }
        let response = Adjustment {
            user: user.to_string(),
            request_id: request_id.to_string(),
            delta: delta.normalize().to_string(),
            balance: credits(tx.balance(user).await?),
        };
        let json = serde_json::to_string(&response).map_err(corrupt)?;
        tx.answer(scope, request_id, &body_hash, &json, at).await?;
        tx.commit().await?;
        Ok(response)
    }
}
