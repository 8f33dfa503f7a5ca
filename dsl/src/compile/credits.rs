//! Credits: counted in hundredths, and at most [`ir::MAX_CREDITS`] in
//! absolute value. An amount, a rebate's credits and a price are refused here
//! when they would fail at run time: too precise, or past the limit, as far as
//! the checker can tell before any input arrives.

use rust_decimal::{Decimal, RoundingStrategy};
use tombola_grammar::{Program, Span};
use tombola_ir as ir;

use super::CREDIT_SCALE;
use crate::diagnostic::{Code, Diagnostic, Fix};
use crate::model::{Amount, ExprText, Id, Sp};

/// A credits expression: a constant held to hundredths and the limit, any
/// other expression to what its digits and its probe show.
pub(super) fn expression(expr: &ExprText, program: &Program, what: &str) -> Option<Diagnostic> {
    if let Some(value) = program.constant().and_then(|v| v.as_val().to_decimal()) {
        let span = expr.text_span();
        return too_precise(span, value, what).or_else(|| past_limit(span, value, what));
    }
    unrounded(expr, program, what).or_else(|| reaches_limit(expr, program, what))
}

/// A SKU's price, a number written in the file.
pub(super) fn price(id: &Id, price: &Sp<Amount>) -> Option<Diagnostic> {
    let what = format!("the price of SKU `{}`", id.value);
    too_precise(price.span, price.value.0, &what)
        .or_else(|| past_limit(price.span, price.value.0, &what))
}

fn too_precise(span: Span, value: Decimal, what: &str) -> Option<Diagnostic> {
    if value.normalize().scale() <= CREDIT_SCALE {
        return None;
    }
    let rounded =
        value.round_dp_with_strategy(CREDIT_SCALE, RoundingStrategy::MidpointAwayFromZero);
    Some(
        Diagnostic::new(
            Code::CreditPrecision,
            span,
            format!("{what}: {value} has more than 2 fractional digits"),
        )
        .label("too precise")
        .help(format!(
            "credits are counted in hundredths: write {rounded}"
        )),
    )
}

fn past_limit(span: Span, value: Decimal, what: &str) -> Option<Diagnostic> {
    if value.abs() <= ir::MAX_CREDITS {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::CreditLimit,
            span,
            format!(
                "{what}: {value} credits is past the balance limit of {}",
                grouped(ir::MAX_CREDITS)
            ),
        )
        .label("too large")
        .help(format!(
            "credit amounts, prices and balances are at most {} credits",
            grouped(ir::MAX_CREDITS)
        )),
    )
}

/// An expression whose digits the checker cannot hold to hundredths.
fn unrounded(expr: &ExprText, program: &Program, what: &str) -> Option<Diagnostic> {
    let (message, label) = match program.max_digits() {
        Some(digits) if digits <= CREDIT_SCALE => return None,
        Some(digits) => (
            format!("{what} can have up to {digits} fractional digits; credits have at most 2"),
            format!("up to {digits} digits"),
        ),
        None => (
            format!("{what} can have any number of fractional digits: a quotient is not rounded"),
            "a division, not rounded".to_string(),
        ),
    };
    let rounded = format!("round({}, 2)", expr.text.trim());
    // Only where the expression's text is the file's text can it be replaced in place.
    let fix = expr.base.map(|_| Fix {
        title: format!("round to hundredths: `{rounded}`"),
        span: expr.text_span(),
        text: rounded.clone(),
    });
    Some(
        Diagnostic::new(Code::CreditDigits, expr.text_span(), message)
            .label(label)
            .help(format!(
                "round it to hundredths: `{rounded}` (a decimal input counts 2 digits, like money)"
            ))
            .maybe_fix(fix),
    )
}

/// An expression that passes the limit for some input the checker can name.
fn reaches_limit(expr: &ExprText, program: &Program, what: &str) -> Option<Diagnostic> {
    let largest = program.largest_probe()?;
    if largest <= ir::MAX_CREDITS {
        return None;
    }
    let when = if program.reads().is_empty() {
        "at a bound of its `random`"
    } else {
        "when each number it reads is 1"
    };
    let message = if largest == Decimal::MAX {
        format!("{what} overflows {when}")
    } else {
        format!(
            "{what} reaches {largest} credits {when}, past the balance limit of {}",
            grouped(ir::MAX_CREDITS)
        )
    };
    Some(
        Diagnostic::new(Code::CreditLimit, expr.text_span(), message)
            .label("too large")
            .help(format!(
                "credit amounts and balances are at most {} credits: use smaller factors or bounds",
                grouped(ir::MAX_CREDITS)
            )),
    )
}

/// A whole number with thousands separators: `1,000,000,000,000`.
fn grouped(value: Decimal) -> String {
    let digits = value.trunc().abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
