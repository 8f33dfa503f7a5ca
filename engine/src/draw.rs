//! Draws and grants, each on the request envelope: the entitlement and caps
//! debited, the chain, table and tree evaluated with stock answered by the
//! store, the award applied or queued, the record and the answer written, all
//! in one transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tombola_grammar::{Slot, Value};
use tombola_ir::{AwardIx, AwardKind, Campaign, Sku};

use crate::answer::{AwardGiven, DrawOutcome, GrantOutcome, Left, StepTaken};
use crate::counts::UserCounts;
use crate::engine::{Deployed, Engine, Failure, draw_failure, hundredths, micros, sha256_hex};
use crate::evaluate::{Context, Draw, DrawInput, Evaluation, Evaluator, Step};
use crate::explain::step_taken;
use crate::period::Periods;
use crate::random::SeededRandom;
use crate::request::{Answer, Body, Request, decode};
use crate::store::left_after_redeclaring;
use crate::store::prelude::*;
use crate::store::{
    CreditChange, DebitAhead, DrawRecord, Explain, Limits, NewDelivery, OrderRecord, Slice,
    StockRow, Tx,
};

/// A draw request.
#[derive(Debug, Clone)]
pub struct DrawRequest<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    pub request_id: &'a str,
    /// Declared user attributes by name.
    pub attributes: &'a [(String, Value)],
}

impl DrawRequest<'_> {
    /// The envelope of this draw; `known` is the campaign as this server last
    /// saw it, whose debit the store may make with the claim.
    fn envelope(&self, known: Option<&Deployed>, now: DateTime<Utc>) -> Request<'_> {
        Request {
            scope: format!("draw/{}", self.campaign),
            campaign: Some(self.campaign),
            debit: known.and_then(|deployed| self.debit_ahead(deployed, now)),
            id: self.request_id,
            body: Body::default()
                .field("user", self.user)
                .attributes("attributes", self.attributes),
            first_hash: self.first_hash(),
            now,
            picks: true,
        }
    }

    /// The debit this draw makes if `deployed` is the version it runs: none if
    /// a user's first draw would be refused, since that debit inserts the
    /// user's row before it refuses.
    fn debit_ahead(&self, deployed: &Deployed, now: DateTime<Utc>) -> Option<DebitAhead<'_>> {
        let limits = limits(&deployed.campaign);
        UserCounts::default()
            .refusal(&limits)
            .is_none()
            .then(|| DebitAhead {
                user: self.user,
                version: deployed.version,
                limits,
                periods: Periods::at(&deployed.campaign, now),
            })
    }

    /// The first release's hash of this body: JSON with attributes sorted by name.
    fn first_hash(&self) -> String {
        let mut attributes: Vec<(&str, String)> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), format!("{v:?}")))
            .collect();
        attributes.sort_unstable();
        let body = serde_json::json!({ "user": self.user, "attributes": attributes });
        sha256_hex(body.to_string().as_bytes())
    }
}

impl Engine {
    /// Runs one draw in one transaction. A replay of a request id returns the
    /// first answer and changes nothing.
    pub async fn draw(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<DrawOutcome, Failure> {
        self.draw_landing_on(request, now, None).await
    }

    /// A draw whose weighted pick lands on `award` wherever that award is in the
    /// table being drawn (the chain and the tree still run): scenario tests use
    /// it to reach every route. The HTTP API never sets it.
    pub async fn draw_landing_on(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        award: Option<&str>,
    ) -> Result<DrawOutcome, Failure> {
        let known = self.campaign(request.campaign);
        self.once(
            request.envelope(known.as_deref(), now),
            async |tx: &mut Tx| self.run_draw(tx, request, now, award).await,
        )
        .await
    }

    async fn run_draw(
        &self,
        tx: &mut Tx,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        award: Option<&str>,
    ) -> Result<DrawOutcome, Failure> {
        let drawn = self.decide(tx, request, now, award).await?;
        let outcome = drawn.outcome(request);
        drawn
            .record(tx, request, now, &|| {
                serde_json::to_string(&outcome.steps).unwrap_or_default()
            })
            .await?;
        Ok(outcome)
    }

    /// A draw of a simulation, whose request ids never repeat: nothing is
    /// claimed or kept to replay, and the answer is in the campaign's indices
    /// rather than named, so a draw allocates little beyond what it stores.
    /// Everything else is a draw's: the same transaction, caps, stock, tree,
    /// award and record, and the same seed for the same request id.
    pub async fn simulate_draw(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<SimulatedDraw, Failure> {
        let drawn = self
            .unrepeated(async |tx: &mut Tx| {
                let drawn = self.decide(tx, request, now, None).await?;
                drawn
                    .record(tx, request, now, &|| {
                        serde_json::to_string(&drawn.steps(request)).unwrap_or_default()
                    })
                    .await?;
                Ok(drawn)
            })
            .await?;
        Ok(SimulatedDraw {
            award: drawn.draw.issued.award,
            amount: drawn.draw.issued.amount,
            steps: drawn.draw.explanation.steps,
        })
    }

    /// A draw decided and applied in `tx`: the entitlement and caps debited,
    /// the evaluation run with stock taken, the award applied or queued. The
    /// record is the caller's to write, once it knows how to name the steps.
    async fn decide(
        &self,
        tx: &mut Tx,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        award: Option<&str>,
    ) -> Result<Drawn, Failure> {
        let deployed = self.open_campaign(tx, request.campaign, now).await?;
        let campaign = &deployed.campaign;
        let attributes = self.attributes(campaign, request.attributes)?;
        let debited = tx
            .debit_draw(
                &campaign.id,
                request.user,
                &limits(campaign),
                &Periods::at(campaign, now),
            )
            .await?
            .map_err(Failure::from)?;
        let how = Evaluating {
            now,
            seed: self.seed_for(&campaign.id, request.request_id),
            force: forced_entry(campaign, award)?,
            stock: StockUse::Take,
            credits: None,
        };
        let (mut drawn, taken_for) = self
            .evaluated(tx, deployed.clone(), request, attributes, debited, how)
            .await?;
        let issued = &drawn.draw.issued;
        // Stock only moves for the award that is issued: a unit taken before a
        // later node chose a fallback goes back, in this same transaction.
        if let Some((award, slice)) = taken_for.filter(|(a, _)| *a != issued.award) {
            tx.return_award_stock(&campaign.id, &campaign.awards[award as usize].id, slice)
                .await?;
        }
        let award = &campaign.awards[issued.award as usize];
        drawn.code = self
            .apply_award(tx, campaign, request, award, issued.amount, micros(now))
            .await?;
        Ok(drawn)
    }

    /// The draw of `request` evaluated on `debited`, the user's counts with
    /// this draw in them: what it gives (no coupon code yet) and the unit of
    /// stock it took, if `how` takes stock.
    pub(crate) async fn evaluated(
        &self,
        tx: &mut Tx,
        deployed: Arc<Deployed>,
        request: &DrawRequest<'_>,
        attributes: Vec<Option<Value>>,
        debited: UserCounts,
        how: Evaluating,
    ) -> Result<(Drawn, Option<(u32, Slice)>), Failure> {
        let campaign = &deployed.campaign;
        let credits = match how.credits {
            Some(credits) => credits,
            None => self.credits_read(tx, campaign, request.user).await?,
        };
        let (now, seed) = (how.now, how.seed);
        let input = DrawInput::new(
            campaign.allowance,
            request.user,
            debited,
            true,
            credits,
            &attributes,
        );
        let (draw, taken) = self.evaluate(tx, &deployed, &input, how).await?;
        let drawn = Drawn {
            periods: Periods::at(campaign, now),
            limits: limits(campaign),
            debited,
            credits,
            draw,
            code: None,
            seed,
            attributes,
            deployed,
        };
        Ok((drawn, taken))
    }

    /// The user's balance, if the campaign's draw reads it (`user.credits`).
    pub(crate) async fn credits_read(
        &self,
        tx: &mut Tx,
        campaign: &Campaign,
        user: &str,
    ) -> Result<Decimal, Failure> {
        Ok(if campaign.draw_reads(Slot::UserCredits) {
            Decimal::new(tx.balance(user).await?, 2)
        } else {
            Decimal::ZERO
        })
    }

    /// Runs the chain, the table and the tree for `input`, answering the
    /// evaluation's questions about stock from `tx` as `how.stock` says: the
    /// draw and the unit of stock it took, if any.
    pub(crate) async fn evaluate(
        &self,
        tx: &mut Tx,
        deployed: &Deployed,
        input: &DrawInput<'_>,
        how: Evaluating,
    ) -> Result<(Draw, Option<(u32, Slice)>), Failure> {
        let campaign = &deployed.campaign;
        let mut random = SeededRandom::new(how.seed);
        let mut cx = Context {
            now: how.now,
            random: &mut random,
            force: how.force,
        };
        let mut evaluator = Evaluator::new(campaign, input);
        let mut state = evaluator
            .run(&mut cx)
            .map_err(|e| draw_failure(deployed, e))?;
        let mut taken_for: Option<(u32, Slice)> = None;
        loop {
            match state {
                Evaluation::NeedStock(entry) => {
                    let ix = campaign.pool[entry as usize].award;
                    let award = &campaign.awards[ix as usize].id;
                    let left = match how.stock {
                        StockUse::Take => {
                            let taken = tx.take_award_stock(&campaign.id, award).await?;
                            taken_for = taken.map(|slice| (ix, slice)).or(taken_for);
                            taken.is_some()
                        }
                        StockUse::Look => tx
                            .award_stock(&campaign.id, award)
                            .await?
                            .is_some_and(|stock| stock.remaining > 0),
                        StockUse::AsDeployed => {
                            let declared = campaign.pool[entry as usize].stock.unwrap_or(0);
                            let stored = tx.award_stock(&campaign.id, award).await?;
                            left_once_deployed(stored.as_ref(), declared) > 0
                        }
                    };
                    state = evaluator
                        .resume(left, &mut cx)
                        .map_err(|e| draw_failure(deployed, e))?;
                }
                Evaluation::Done(draw) => return Ok((draw, taken_for)),
            }
        }
    }

    /// Applies an internal award in the draw's transaction, or queues an
    /// external one for delivery; returns a coupon's code.
    async fn apply_award(
        &self,
        tx: &mut Tx,
        campaign: &Campaign,
        request: &DrawRequest<'_>,
        award: &tombola_ir::Award,
        amount: Option<Decimal>,
        at: i64,
    ) -> Result<Option<String>, Failure> {
        match award.kind {
            AwardKind::Credits => {
                let reference = format!("{}/{}", campaign.id, request.request_id);
                // The evaluation checked the amount: not negative, exact, within the limit.
                // Nothing given writes no ledger entry.
                let amount = amount.unwrap_or_default();
                if !amount.is_zero()
                    && !tx
                        .add_credits(&CreditChange {
                            user: request.user,
                            delta: hundredths(amount)?,
                            reason: "award",
                            reference: &reference,
                            at,
                        })
                        .await?
                {
                    return Err(Failure::BalanceLimit { amount });
                }
            }
            AwardKind::Draws => {
                // Whole and bounded: the evaluation checked it.
                let draws = i64::try_from(amount.unwrap_or_default()).unwrap_or(0);
                tx.grant_draws(&campaign.id, request.user, draws).await?;
            }
            AwardKind::Item | AwardKind::Coupon => {
                tx.enqueue_delivery(&NewDelivery {
                    campaign: &campaign.id,
                    request_id: request.request_id,
                    user: request.user,
                    award: &award.id,
                    at,
                })
                .await?;
            }
            AwardKind::None => {}
        }
        // A coupon's unit of stock was taken by its tree; its code is taken with it.
        if award.kind == AwardKind::Coupon {
            Ok(tx
                .take_coupon_code(&campaign.id, &award.id, request.request_id, at)
                .await?)
        } else {
            Ok(None)
        }
    }

    /// The stored answer of a draw that succeeded, by request id.
    pub async fn stored_draw(
        &self,
        campaign: &str,
        request_id: &str,
    ) -> Result<Option<DrawOutcome>, Failure> {
        self.resolve(campaign).await?;
        let mut tx = self.store().read().await?;
        let answer = tx
            .stored_answer(&format!("draw/{campaign}"), request_id)
            .await?;
        drop(tx);
        answer.map(|stored| decode(&stored)).transpose()
    }

    /// Grants one unit of a SKU: an order, the SKU's stock decremented, the draws added.
    /// Grants are unpriced (an operator's or a rebate's grant); buying with
    /// credits is an exchange.
    pub async fn grant(
        &self,
        request: &SkuRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<GrantOutcome, Failure> {
        self.order("grant", request, now, async |tx: &mut Tx, sku: &Sku| {
            request.fill(tx, sku, micros(now)).await
        })
        .await
    }

    /// Runs a grant or an exchange (`kind`) on the request envelope: `run`
    /// gets the SKU the request names.
    pub(crate) async fn order<T: Answer>(
        &self,
        kind: &str,
        request: &SkuRequest<'_>,
        now: DateTime<Utc>,
        run: impl AsyncFnOnce(&mut Tx, &Sku) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        self.once(request.envelope(kind, now), async move |tx: &mut Tx| {
            self.on_sku(tx, request, now, run).await
        })
        .await
    }

    /// Runs `run` in `tx` on the SKU the request names, in an open campaign.
    pub(crate) async fn on_sku<T>(
        &self,
        tx: &mut Tx,
        request: &SkuRequest<'_>,
        now: DateTime<Utc>,
        run: impl AsyncFnOnce(&mut Tx, &Sku) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        // Grants and exchanges follow the campaign's state and window, like draws.
        let deployed = self.open_campaign(tx, request.campaign, now).await?;
        let sku = request.sku(&deployed.campaign)?;
        run(tx, sku).await
    }
}

/// A call that gives a user one unit of a SKU: a grant, or an exchange, which
/// pays for it with credits.
#[derive(Debug, Clone)]
pub struct SkuRequest<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    /// A SKU the campaign declares.
    pub sku: &'a str,
    pub request_id: &'a str,
}

impl<'a> SkuRequest<'a> {
    /// The request envelope in scope `<kind>/<campaign>`: grants and exchanges
    /// hash the same body, in this release and the first.
    fn envelope(&self, kind: &str, now: DateTime<Utc>) -> Request<'a> {
        Request {
            scope: format!("{kind}/{}", self.campaign),
            campaign: Some(self.campaign),
            debit: None,
            id: self.request_id,
            body: Body::default()
                .field("user", self.user)
                .field("sku", self.sku),
            first_hash: sha256_hex(format!("{}\n{}", self.user, self.sku).as_bytes()),
            now,
            picks: false,
        }
    }

    /// The SKU requested, as the campaign declares it.
    fn sku<'c>(&self, campaign: &'c Campaign) -> Result<&'c Sku, Failure> {
        campaign
            .skus
            .iter()
            .find(|s| s.id == self.sku)
            .ok_or_else(|| Failure::UnknownSku(self.sku.to_string()))
    }

    /// A unit of the SKU's stock taken, its draws added and the order recorded
    /// at `at`: what a grant answers, and what an exchange adds its price to.
    pub(crate) async fn fill(
        &self,
        tx: &mut Tx,
        sku: &Sku,
        at: i64,
    ) -> Result<GrantOutcome, Failure> {
        // The user's counters before the SKU's stock, whatever the caller holds
        // already: every call takes a user's rows in one order (counters, stock,
        // account), so two calls wait for each other rather than deadlock. A
        // SKU sold out rolls the draws back.
        let draws = i64::from(sku.draws);
        tx.grant_draws(self.campaign, self.user, draws).await?;
        if sku.stock.is_some() && !tx.take_sku_stock(self.campaign, self.sku).await? {
            return Err(Failure::SkuSoldOut(self.sku.to_string()));
        }
        let recorded = tx
            .record_order(&OrderRecord {
                campaign: self.campaign,
                request_id: self.request_id,
                user: self.user,
                sku: self.sku,
                draws,
                at,
            })
            .await?;
        if !recorded {
            // Grants and exchanges keep their request ids apart, but an order's
            // id is one per campaign: the other kind already used this one.
            return Err(Failure::RequestConflict(self.request_id.to_string()));
        }
        Ok(GrantOutcome {
            campaign: self.campaign.to_string(),
            request_id: self.request_id.to_string(),
            user: self.user.to_string(),
            sku: self.sku.to_string(),
            draws,
        })
    }
}

/// A draw of a simulation, by the campaign's indices: the award issued, the
/// amount it carried, and the evaluation's steps.
#[derive(Debug, Clone)]
pub struct SimulatedDraw {
    pub award: AwardIx,
    pub amount: Option<Decimal>,
    pub steps: Vec<Step>,
}

/// A draw decided in its transaction, not yet recorded or named.
pub(crate) struct Drawn {
    pub(crate) deployed: Arc<Deployed>,
    pub(crate) attributes: Vec<Option<Value>>,
    pub(crate) periods: Periods,
    pub(crate) limits: Limits,
    /// The user's counts after this draw's debit.
    pub(crate) debited: UserCounts,
    pub(crate) credits: Decimal,
    pub(crate) draw: Draw,
    pub(crate) code: Option<String>,
    pub(crate) seed: u64,
}

impl Drawn {
    /// What the draw read about its user.
    fn input<'a>(&'a self, request: &DrawRequest<'a>) -> DrawInput<'a> {
        DrawInput::new(
            self.deployed.campaign.allowance,
            request.user,
            self.debited,
            true,
            self.credits,
            &self.attributes,
        )
    }

    /// The evaluation's steps, each named by the campaign's ids.
    fn steps(&self, request: &DrawRequest<'_>) -> Vec<StepTaken> {
        let (campaign, input) = (&self.deployed.campaign, self.input(request));
        self.draw
            .explanation
            .steps
            .iter()
            .map(|s| step_taken(campaign, s, &input))
            .collect()
    }

    /// The draw as the API answers it: every step named by the campaign's ids.
    pub(crate) fn outcome(&self, request: &DrawRequest<'_>) -> DrawOutcome {
        let campaign = &self.deployed.campaign;
        let input = self.input(request);
        let award = &campaign.awards[self.draw.issued.award as usize];
        let amount = self.draw.issued.amount;
        let granted_now = if award.kind == AwardKind::Draws {
            i64::try_from(amount.unwrap_or_default()).unwrap_or(0)
        } else {
            0
        };
        let (limits, debited) = (&self.limits, &self.debited);
        DrawOutcome {
            campaign: campaign.id.clone(),
            version: self.deployed.version,
            request_id: request.request_id.to_string(),
            user: request.user.to_string(),
            award: AwardGiven {
                id: award.id.clone(),
                kind: award.kind,
                title: award.title.clone(),
                amount: amount.map(|a| a.normalize()),
                code: self.code.clone(),
            },
            steps: self.steps(request),
            left: Left {
                draws: input.draws_left + granted_now,
                today: limits.per_day.map(|cap| cap - debited.today),
                month: limits.per_month.map(|cap| cap - debited.month),
                total: limits.total.map(|cap| cap - debited.total),
            },
            seed: self.seed,
            replayed: false,
        }
    }

    /// Writes the draw's record; `explanation` names its steps as JSON, and
    /// runs only if the store keeps them.
    async fn record(
        &self,
        tx: &mut Tx,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        explanation: &(dyn Fn() -> String + Sync),
    ) -> Result<(), Failure> {
        let campaign = &self.deployed.campaign;
        let award = &campaign.awards[self.draw.issued.award as usize];
        tx.record_draw(&DrawRecord {
            campaign: &campaign.id,
            request_id: request.request_id,
            user: request.user,
            version: self.deployed.version,
            award: &award.id,
            amount: self.draw.issued.amount.map(|a| a.normalize().to_string()),
            seed: self.seed as i64,
            explanation: Explain(explanation),
            day: &self.periods.day,
            at: micros(now),
        })
        .await?;
        Ok(())
    }
}

/// The caps and allowance a draw of `campaign` is debited against.
pub(crate) fn limits(campaign: &Campaign) -> Limits {
    Limits {
        allowance: campaign.allowance,
        total: campaign.quota.total.map(i64::from),
        per_day: campaign.quota.per_day.map(i64::from),
        per_month: campaign.quota.per_month.map(i64::from),
    }
}

/// How one evaluation runs: its clock and seed, the pool entry a `lands_on`
/// forces, whether stock is taken or only looked at, and the balance it
/// reads when not the store's.
pub(crate) struct Evaluating {
    pub(crate) now: DateTime<Utc>,
    pub(crate) seed: u64,
    pub(crate) force: Option<u32>,
    pub(crate) stock: StockUse,
    pub(crate) credits: Option<Decimal>,
}

/// A draw takes a unit of stock where its tree checks for one; a dry run
/// only looks whether one is left, and a dry run of an undeployed file looks
/// at what would be left once that file is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockUse {
    Take,
    Look,
    AsDeployed,
}

/// What a deploy declaring `declared` would leave of an award's stock, as
/// the stores redeclare it; an award the store does not hold yet starts full.
fn left_once_deployed(stored: Option<&StockRow>, declared: u64) -> i64 {
    let declared = i64::try_from(declared).unwrap_or(i64::MAX);
    stored.map_or(declared, |row| {
        left_after_redeclaring(row.remaining, row.declared, declared, row.issued)
    })
}

/// The pool entry a scenario's `lands_on` names.
pub(crate) fn forced_entry(
    campaign: &Campaign,
    award: Option<&str>,
) -> Result<Option<u32>, Failure> {
    let Some(id) = award else {
        return Ok(None);
    };
    campaign
        .pool
        .iter()
        .position(|e| campaign.awards[e.award as usize].id == id)
        .map(|i| Some(i as u32))
        .ok_or_else(|| Failure::BadInput(format!("`{id}` is not in the pool")))
}

impl Answer for DrawOutcome {
    fn replayed(mut self) -> Self {
        self.replayed = true;
        self
    }

    fn from_first_form(json: &str) -> Result<Self, String> {
        crate::first_form::draw(json)
    }
}

impl Answer for GrantOutcome {
    // The first form had these fields, spelled the same.
    fn from_first_form(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}
