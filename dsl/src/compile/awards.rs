//! The awards: each kind's amount (an expression where the kind takes one),
//! costs, and the delivery external awards need.

use std::collections::HashMap;

use super::expr::program;
use super::{Context, Findings, Want};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{AwardKind, CampaignFile};
use tombola_ir as ir;

/// The awards by id, and which of them can run out.
pub(super) struct AwardTable<'a> {
    file: &'a CampaignFile,
    index: HashMap<&'a str, u32>,
    /// Awards whose supply is limited (pool stock or coupon codes), with why.
    limited: HashMap<&'a str, &'static str>,
}

impl<'a> AwardTable<'a> {
    pub(super) fn new(f: &'a CampaignFile) -> Self {
        let index = f
            .awards
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.value.as_str(), i as u32))
            .collect();
        let mut limited = HashMap::new();
        for (id, award) in f.awards.iter() {
            if award.value.kind.value == AwardKind::Coupon {
                limited.insert(
                    id.value.as_str(),
                    "is a coupon, and its code pool can run dry",
                );
            }
        }
        for entry in &f.pool {
            if entry.value.stock.is_some() {
                limited.insert(
                    entry.value.award.value.as_str(),
                    "has limited stock in the pool",
                );
            }
        }
        AwardTable {
            file: f,
            index,
            limited,
        }
    }

    pub(super) fn index(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Why the award can run out, if it can.
    pub(super) fn limited(&self, id: &str) -> Option<&'static str> {
        self.limited.get(id).copied()
    }

    /// The kind of the award at `index`, as resolved.
    pub(super) fn kind_at(&self, index: u32) -> AwardKind {
        self.file.awards.0[index as usize].1.value.kind.value
    }

    pub(super) fn is_coupon(&self, id: &str) -> bool {
        // Through the index: a linear `IdMap::get` per pool entry is quadratic on big pools.
        self.index(id)
            .is_some_and(|i| self.kind_at(i) == AwardKind::Coupon)
    }
}

pub(super) fn kind_name(kind: AwardKind) -> &'static str {
    ir::AwardKind::from(kind).name()
}

pub(super) fn check<'a>(
    cx: &Context<'a>,
    has_delivery: bool,
    out: &mut Findings<'a>,
) -> Option<Vec<ir::Award>> {
    let scope = cx.draw_scope();
    let mut awards = Vec::new();
    let mut ok = true;
    for (id, award) in cx.file.awards.iter() {
        let a = &award.value;
        let kind = a.kind.value;
        let what = format!("the amount of award `{}`", id.value);
        let amount = match (kind, &a.amount) {
            (AwardKind::Credits, Some(e)) => {
                program(cx, out, e, &scope, Want::Credits, &what).map(Some)
            }
            (AwardKind::Draws, Some(e)) => program(cx, out, e, &scope, Want::Int, &what).map(Some),
            (AwardKind::Credits | AwardKind::Draws, None) => {
                let noun = if kind == AwardKind::Credits {
                    "credits"
                } else {
                    "draws"
                };
                out.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        a.kind.span,
                        format!(
                            "award `{}` gives {noun} but does not say how many",
                            id.value
                        ),
                    )
                    .label("needs an `amount`")
                    .help("add `amount: 10` or an expression such as `amount: random(1, 100)`"),
                );
                None
            }
            (_, Some(e)) => {
                out.push(
                    Diagnostic::new(
                        Code::AmountNotAllowed,
                        e.span,
                        format!(
                            "award `{}` is of kind `{}`, which has no amount",
                            id.value,
                            kind_name(kind)
                        ),
                    )
                    .label("not used")
                    .help("only `credits` and `draws` awards take an amount"),
                );
                None
            }
            (_, None) => Some(None),
        };
        if let Some(cost) = &a.cost
            && cost.value.0.is_sign_negative()
            && !cost.value.0.is_zero()
        {
            out.push(
                Diagnostic::new(Code::NegativeAmount, cost.span, "a cost cannot be negative")
                    .label("negative")
                    .help("a cost is what one issue of the award costs the business: zero or more"),
            );
        }
        if ir::AwardKind::from(kind).is_external() && !has_delivery {
            out.push(
                Diagnostic::new(
                    Code::NoDelivery,
                    a.kind.span,
                    format!(
                        "award `{}` is delivered by webhook, but the campaign has no `delivery`",
                        id.value
                    ),
                )
                .label("external award")
                .help("add `delivery: { webhook: https://…, secret_env: MY_WEBHOOK_SECRET }`"),
            );
        }
        match amount {
            Some(amount) => awards.push(ir::Award {
                id: id.value.clone(),
                kind: kind.into(),
                amount,
                title: a.title.as_ref().map(|t| t.value.clone()),
                cost: a.cost.as_ref().map(|c| c.value.0),
            }),
            None => ok = false,
        }
    }
    ok.then_some(awards)
}
