//! Lowering: assembles the IR from what the checks established. It adds no
//! diagnostics — it runs only on a file whose checks found no error — and
//! builds only what cannot fail: the pool's draw table from weights that sum
//! to one, the initial state, and the sections as checked.

use super::pool::Pool;
use crate::model::{Allowance, CampaignFile, InitialState};
use tombola_ir as ir;
use tombola_ir::draw_table::DrawTable;

/// Each section as its check pass left it. A section is `None` when it was
/// refused, here or by the decoder (whose diagnostics are not counted here);
/// the campaign is then `None` too.
pub(super) struct Checked<'a> {
    pub(super) window: Option<ir::Window>,
    pub(super) quota: ir::Quota,
    pub(super) inputs: ir::Inputs,
    pub(super) delivery: Option<ir::Delivery>,
    pub(super) awards: Option<Vec<ir::Award>>,
    pub(super) pool: Pool<'a>,
    pub(super) chain: Option<Vec<ir::ChainRule>>,
    pub(super) trees: Option<Vec<ir::Tree>>,
    pub(super) skus: Option<Vec<ir::Sku>>,
    pub(super) rebates: Option<Vec<ir::Rebate>>,
}

pub(super) fn campaign(f: &CampaignFile, checked: Checked<'_>) -> Option<ir::Campaign> {
    let pool = checked.pool;
    // Weights are empty when the pool was refused: no table, no campaign.
    let pairs: Vec<(u32, u64)> = (0u32..).zip(pool.weights.iter().copied()).collect();
    let table = DrawTable::new(&pairs).ok();
    Some(ir::Campaign {
        id: f.campaign.value.clone(),
        name: f.name.value.clone(),
        description: f.description.as_ref().map(|d| d.value.clone()),
        initial_state: match f.state.as_ref().map(|s| s.value) {
            Some(InitialState::Open) => ir::State::Open,
            Some(InitialState::Closed) => ir::State::Closed,
            Some(InitialState::Draft) | None => ir::State::Draft,
        },
        window: checked.window?,
        allowance: match f.allowance.as_ref().map(|a| a.value) {
            Some(Allowance::PerDay(per_day)) => ir::Allowance::Daily { per_day },
            Some(Allowance::Campaign(n)) => ir::Allowance::Campaign(n),
            None => ir::Allowance::default(),
        },
        quota: checked.quota,
        inputs: checked.inputs,
        delivery: checked.delivery,
        awards: checked.awards?,
        pool: pool.entries,
        table: table?,
        chain: checked.chain?,
        trees: checked.trees?,
        skus: checked.skus?,
        rebates: checked.rebates?,
    })
}
