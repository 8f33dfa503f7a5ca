//! A dry run of a draw: what the draw would give now, evaluated against a
//! read of the store (no row locked, so it never waits on a hot user or
//! award, nor makes a real draw wait), writing nothing and taking no stock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tombola_grammar::Value;

use crate::answer::DrawOutcome;
use crate::draw::{DrawRequest, Drawn, Evaluating, StockUse, forced_entry, limits};
use crate::engine::{Deployed, Engine, Failure};
use crate::period::Periods;
use crate::store::Tx;
use crate::store::prelude::*;

/// What a dry run may set that a draw may not.
#[derive(Debug, Clone, Copy, Default)]
pub struct DryRunOptions<'a> {
    /// The seed of the draw's randomness; without it, the seed the draw
    /// with this request id would have.
    pub seed: Option<u64>,
    /// The award the weighted pick lands on, wherever it is in the table
    /// being drawn (the chain and the tree still run).
    pub lands_on: Option<&'a str>,
}

/// What a draw would do now.
#[derive(Debug)]
pub enum DryRun {
    /// The draw would give this. A coupon shows no code, as none is taken.
    Drawn(DrawOutcome),
    /// The draw would be refused: the campaign is not open or outside its
    /// window, no draws are left, or a cap is reached.
    Refused {
        campaign: String,
        version: i64,
        user: String,
        refusal: Failure,
    },
}

impl Engine {
    /// Evaluates a draw as [`Engine::draw`] would at `now`, on what the store
    /// holds, and changes nothing: no count, stock, credit, record or
    /// request id. A refusal is an answer; only bad input (an unknown
    /// campaign, a missing attribute, a `lands_on` not in the pool) is an error.
    pub async fn dry_run_draw(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        options: DryRunOptions<'_>,
    ) -> Result<DryRun, Failure> {
        let mut tx = self.store().read().await?;
        let (deployed, open) = self.campaign_at(&mut tx, request.campaign, now).await?;
        // Bad input is an error even where the campaign would refuse the draw.
        let attributes = self.attributes(&deployed.campaign, request.attributes)?;
        let force = forced_entry(&deployed.campaign, options.lands_on)?;
        if let Err(refusal) = open {
            return Ok(refused(&deployed, request, refusal));
        }
        let how = Evaluating {
            now,
            seed: (options.seed)
                .unwrap_or_else(|| self.seed_for(&deployed.campaign.id, request.request_id)),
            force,
            stock: StockUse::Look,
        };
        let drawn = self
            .dry_draw(&mut tx, deployed.clone(), request, attributes, how)
            .await?;
        Ok(match drawn {
            Ok(drawn) => DryRun::Drawn(drawn.outcome(request)),
            Err(refusal) => refused(&deployed, request, refusal),
        })
    }

    /// The draw evaluated on the counts as they stand, or the limit that
    /// would refuse it.
    async fn dry_draw(
        &self,
        tx: &mut Tx,
        deployed: Arc<Deployed>,
        request: &DrawRequest<'_>,
        attributes: Vec<Option<Value>>,
        how: Evaluating,
    ) -> Result<Result<Drawn, Failure>, Failure> {
        let campaign = &deployed.campaign;
        let periods = Periods::at(campaign, how.now);
        let limits = limits(campaign);
        let counts = tx.counts(&campaign.id, request.user, &periods).await?;
        if let Some(refusal) = counts.refusal(&limits) {
            return Ok(Err(Failure::from(refusal)));
        }
        // What the store's debit would leave: the draw reads the counts before it.
        let debited = counts.with_draw(limits.allowance);
        let (drawn, _) = self
            .evaluated(tx, deployed, request, attributes, debited, how)
            .await?;
        Ok(Ok(drawn))
    }
}

fn refused(deployed: &Deployed, request: &DrawRequest<'_>, refusal: Failure) -> DryRun {
    DryRun::Refused {
        campaign: request.campaign.to_string(),
        version: deployed.version,
        user: request.user.to_string(),
        refusal,
    }
}
