//! A dry run of a draw: what the draw would give now, evaluated against a
//! read of the store (no row locked, so it never waits on a hot user or
//! award, nor makes a real draw wait), writing nothing and taking no stock;
//! of the deployed version or of an edited file, from the user's counts and
//! balance or from others given.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tombola_grammar::Value;
use tombola_ir::Campaign;

use crate::answer::DrawOutcome;
use crate::counts::UserCounts;
use crate::draw::{DrawRequest, Drawn, Evaluating, StockUse, forced_entry, limits};
use crate::engine::{Deployed, Engine, Failure, file_state, takes_draws};
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
    /// An edited campaign, compiled but not deployed, to run instead of the
    /// version the store holds: as if deployed now, over what the store
    /// holds (its state, counts, balances and stock moved by the file's
    /// declared stock), even for a campaign never deployed.
    pub campaign: Option<&'a Campaign>,
    /// The user's draw counts to start from instead of the store's.
    pub counts: StartingCounts,
    /// The user's balance to start from instead of the store's.
    pub credits: Option<Decimal>,
}

/// Draw counts a dry run starts from, each in place of the store's when
/// given. A month holds its day's draws and the campaign its month's, so a
/// count not given is raised to the one below it that is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartingCounts {
    pub today: Option<i64>,
    pub month: Option<i64>,
    pub total: Option<i64>,
    /// Granted draws the user has not used yet.
    pub granted: Option<i64>,
}

impl StartingCounts {
    /// `stored` with these counts in place, or why they cannot all be true.
    fn over(self, stored: UserCounts) -> Result<UserCounts, Failure> {
        let today = self.today.unwrap_or(stored.today);
        let month = self.month.unwrap_or(stored.month.max(today));
        let total = self.total.unwrap_or(stored.total.max(month));
        let (granted, granted_used) = match self.granted {
            Some(unused) => (unused, 0),
            None => (stored.granted, stored.granted_used),
        };
        let counts = UserCounts {
            total,
            month,
            today,
            granted,
            granted_used,
        };
        counts
            .check()
            .map_err(|why| Failure::BadInput(format!("counts: {why}")))?;
        Ok(counts)
    }
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
        let (deployed, open) = match options.campaign {
            None => self.campaign_at(&mut tx, request.campaign, now).await?,
            Some(edited) => as_if_deployed(&mut tx, request.campaign, edited, now).await?,
        };
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
            stock: match options.campaign {
                None => StockUse::Look,
                Some(_) => StockUse::AsDeployed,
            },
            credits: options.credits,
        };
        let drawn = self
            .dry_draw(
                &mut tx,
                deployed.clone(),
                request,
                attributes,
                how,
                options.counts,
            )
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
        starting: StartingCounts,
    ) -> Result<Result<Drawn, Failure>, Failure> {
        let campaign = &deployed.campaign;
        let periods = Periods::at(campaign, how.now);
        let limits = limits(campaign);
        let stored = tx.counts(&campaign.id, request.user, &periods).await?;
        let counts = starting.over(stored)?;
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

/// `edited` as it would run once deployed now as campaign `id`: in the
/// state the store keeps (a first deploy takes the file's), inside its own
/// window, at the version the store holds (0 for none).
async fn as_if_deployed(
    tx: &mut Tx,
    id: &str,
    edited: &Campaign,
    now: DateTime<Utc>,
) -> Result<(Arc<Deployed>, Result<(), Failure>), Failure> {
    if edited.id != id {
        return Err(Failure::BadInput(format!(
            "the file says campaign `{}`, not `{id}`",
            edited.id
        )));
    }
    let row = tx.campaign(id).await?;
    let state = row
        .as_ref()
        .map_or_else(|| file_state(edited), |row| row.state);
    let open = takes_draws(state, edited, now);
    let deployed = Arc::new(Deployed {
        version: row.map_or(0, |row| row.version),
        campaign: edited.clone(),
    });
    Ok((deployed, open))
}

fn refused(deployed: &Deployed, request: &DrawRequest<'_>, refusal: Failure) -> DryRun {
    DryRun::Refused {
        campaign: request.campaign.to_string(),
        version: deployed.version,
        user: request.user.to_string(),
        refusal,
    }
}
