//! SKUs: packages that grant at least one draw, priced in whole hundredths of credits.

use super::{CREDIT_SCALE, Findings};
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
    if p.normalize().scale() > CREDIT_SCALE {
        out.push(
            Diagnostic::new(
                Code::CreditPrecision,
                price.span,
                format!("the price {p} has more than 2 fractional digits"),
            )
            .label("too precise")
            .help(format!(
                "credits are counted in hundredths: write {}",
                p.round_dp_with_strategy(
                    CREDIT_SCALE,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero
                )
            )),
        );
        return false;
    }
    true
}
