//! SKUs: packages that grant at least one draw, priced in whole hundredths of credits.

use super::{Findings, credits};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Amount, CampaignFile, Id, Sp};
use tombola_ir as ir;

pub(super) fn check(f: &CampaignFile, out: &mut Findings<'_>) -> Option<Vec<ir::Sku>> {
    let mut skus = Vec::new();
    let mut ok = true;
    for (id, sku) in f.skus.iter() {
        let s = &sku.value;
        if s.draws.value == 0 {
            out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    s.draws.span,
                    format!("SKU `{}` grants no draws", id.value),
                )
                .label("zero")
                .help("a SKU grants at least 1 draw"),
            );
            ok = false;
        }
        if let Some(price) = &s.price {
            ok &= price_ok(out, id, price);
        }
        skus.push(ir::Sku {
            id: id.value.clone(),
            draws: s.draws.value,
            stock: s.stock.as_ref().map(|s| s.value),
            price: s.price.as_ref().map(|p| p.value.0.normalize()),
        });
    }
    ok.then_some(skus)
}

fn price_ok(out: &mut Findings<'_>, id: &Id, price: &Sp<Amount>) -> bool {
    let p = price.value.0;
    if p.is_sign_negative() && !p.is_zero() {
        out.push(
            Diagnostic::new(
                Code::NegativeAmount,
                price.span,
                format!("SKU `{}` has a negative price", id.value),
            )
            .label("negative")
            .help("a price is zero or more credits"),
        );
        return false;
    }
    match credits::price(id, price) {
        Some(diagnostic) => {
            out.push(diagnostic);
            false
        }
        None => true,
    }
}
