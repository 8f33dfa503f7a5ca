//! Text to AST: the pest grammar, folded by a Pratt parser into [`Expr`] nodes.
//! pest's `Pairs` never leave this module.

use std::sync::LazyLock;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use crate::ast::{BinaryOp, DurationUnit, Expr, ExprKind, Ident, Span, UnaryOp};

#[derive(pest_derive::Parser)]
#[grammar = "expr.pest"]
struct ExprParser;

/// Deepest nesting of brackets and operators an expression may have. Campaign
/// expressions are short; the limit keeps hostile input from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// Longest expression accepted, in bytes.
pub const MAX_LEN: usize = 4096;

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::in_op, Assoc::Left)
            | Op::infix(Rule::not_in_op, Assoc::Left)
            | Op::infix(Rule::contains_op, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
});

/// Parses one expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_LEN {
        return Err(ParseError {
            message: format!(
                "expression is {} bytes long; the limit is {MAX_LEN}",
                text.len()
            ),
            span: Span::new(0, text.len()),
            help: Some("split the logic into several rules".into()),
        });
    }
    check_bracket_depth(text)?;
    let mut pairs = ExprParser::parse(Rule::expression, text).map_err(from_pest)?;
    let expression = pairs
        .next()
        .expect("the grammar always yields `expression`");
    let expr_pair = expression
        .into_inner()
        .next()
        .expect("`expression` always holds `expr`");
    let expr = build_expr(expr_pair.into_inner())?;
    if depth(&expr) > MAX_DEPTH {
        return Err(too_deep(Span::new(0, text.len())));
    }
    Ok(expr)
}

fn too_deep(span: Span) -> ParseError {
    ParseError {
        message: format!("expression nests deeper than {MAX_DEPTH} levels"),
        span,
        help: Some("simplify the expression".into()),
    }
}

/// Refuses absurd nesting before pest recurses into it.
fn check_bracket_depth(text: &str) -> Result<(), ParseError> {
    let mut level = 0usize;
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            b'(' | b'[' => {
                level += 1;
                if level > MAX_DEPTH {
                    return Err(too_deep(Span::new(at, at + 1)));
                }
            }
            b')' | b']' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn depth(expr: &Expr) -> usize {
    1 + match &expr.kind {
        ExprKind::List(items) | ExprKind::Call(_, items) => {
            items.iter().map(depth).max().unwrap_or(0)
        }
        ExprKind::Unary(_, inner) => depth(inner),
        ExprKind::Binary(_, lhs, rhs) => depth(lhs).max(depth(rhs)),
        _ => 0,
    }
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    Span::new(span.start(), span.end())
}

fn from_pest(error: pest::error::Error<Rule>) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let span = match error.location {
        InputLocation::Pos(at) => Span::new(at, at),
        InputLocation::Span((start, end)) => Span::new(start, end),
    };
    let message = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut wanted: Vec<&str> = positives.iter().filter_map(describe).collect();
            wanted.sort_unstable();
            wanted.dedup();
            match wanted.as_slice() {
                [] => "unexpected input".to_string(),
                [one] => format!("expected {one}"),
                many => format!(
                    "expected {} or {}",
                    many[..many.len() - 1].join(", "),
                    many[many.len() - 1]
                ),
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    ParseError {
        message,
        span,
        help: Some(
            "expressions combine values (`3`, `30%`, `\"text\"`, `user.draws.total`) with operators (`+ - * /`, `== != < <= > >=`, `and`, `or`, `not`, `in`, `contains`)".into(),
        ),
    }
}

/// Names a grammar rule the way an author would: what they could have written.
fn describe(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::expr | Rule::primary | Rule::literal => "a value",
        Rule::EOI => "the end of the expression",
        Rule::ident | Rule::path | Rule::call => "a name",
        Rule::integer | Rule::decimal | Rule::percent => "a number",
        Rule::string => "a string",
        Rule::list => "a list",
        Rule::date | Rule::datetime | Rule::duration | Rule::boolean => "a value",
        Rule::or_op
        | Rule::and_op
        | Rule::in_op
        | Rule::not_in_op
        | Rule::contains_op
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::infix => "an operator",
        _ => return None,
    })
}

fn build_expr(pairs: Pairs<'_, Rule>) -> Result<Expr, ParseError> {
    PRATT
        .map_primary(build_primary)
        .map_prefix(|op, operand| {
            let operand = operand?;
            let unary = match op.as_rule() {
                Rule::not_op => UnaryOp::Not,
                Rule::neg => UnaryOp::Neg,
                rule => unreachable!("not a prefix operator: {rule:?}"),
            };
            Ok(Expr {
                span: span_of(&op).join(operand.span),
                kind: ExprKind::Unary(unary, Box::new(operand)),
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let binary = match op.as_rule() {
                Rule::or_op => BinaryOp::Or,
                Rule::and_op => BinaryOp::And,
                Rule::eq => BinaryOp::Eq,
                Rule::ne => BinaryOp::Ne,
                Rule::lt => BinaryOp::Lt,
                Rule::le => BinaryOp::Le,
                Rule::gt => BinaryOp::Gt,
                Rule::ge => BinaryOp::Ge,
                Rule::in_op => BinaryOp::In,
                Rule::not_in_op => BinaryOp::NotIn,
                Rule::contains_op => BinaryOp::Contains,
                Rule::add => BinaryOp::Add,
                Rule::sub => BinaryOp::Sub,
                Rule::mul => BinaryOp::Mul,
                Rule::div => BinaryOp::Div,
                rule => unreachable!("not an infix operator: {rule:?}"),
            };
            Ok(Expr {
                span: lhs.span.join(rhs.span),
                kind: ExprKind::Binary(binary, Box::new(lhs), Box::new(rhs)),
            })
        })
        .parse(pairs)
}

fn number_error(pair: &Pair<'_, Rule>, what: &str) -> ParseError {
    ParseError {
        message: format!("{what} `{}` is out of range", pair.as_str()),
        span: span_of(pair),
        help: Some(
            "whole numbers range over ±9223372036854775807; decimals carry at most 28 digits"
                .into(),
        ),
    }
}

fn build_primary(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let span = span_of(&pair);
    let text = pair.as_str();
    let kind = match pair.as_rule() {
        Rule::expr => return build_expr(pair.into_inner()),
        Rule::integer => ExprKind::Int(text.parse().map_err(|_| number_error(&pair, "number"))?),
        Rule::decimal => ExprKind::Decimal(
            Decimal::from_str_exact(text).map_err(|_| number_error(&pair, "number"))?,
        ),
        Rule::percent => ExprKind::Percent(
            Decimal::from_str_exact(&text[..text.len() - 1])
                .map_err(|_| number_error(&pair, "percentage"))?,
        ),
        Rule::duration => {
            let (amount, unit) = text.split_at(text.len() - 1);
            let unit = match unit {
                "d" => DurationUnit::Days,
                "h" => DurationUnit::Hours,
                "m" => DurationUnit::Minutes,
                _ => DurationUnit::Seconds,
            };
            let amount: u32 = amount
                .parse()
                .map_err(|_| number_error(&pair, "duration"))?;
            ExprKind::Duration(amount, unit)
        }
        Rule::date => ExprKind::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(
            |_| ParseError {
                message: format!("`{text}` is not a calendar date"),
                span,
                help: Some("dates are written YYYY-MM-DD, e.g. 2026-03-01".into()),
            },
        )?),
        Rule::datetime => parse_datetime(text, span)?,
        Rule::string => {
            let inner = pair.into_inner().next().expect("a string has its text");
            ExprKind::Str(unescape(inner.as_str()))
        }
        Rule::boolean => ExprKind::Bool(text == "true"),
        Rule::path => ExprKind::Path(
            pair.into_inner()
                .map(|part| Ident {
                    name: part.as_str().to_string(),
                    span: span_of(&part),
                })
                .collect(),
        ),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("a call has a name");
            let name = Ident {
                name: name.as_str().to_string(),
                span: span_of(&name),
            };
            let args = inner
                .map(|arg| build_expr(arg.into_inner()))
                .collect::<Result<_, _>>()?;
            ExprKind::Call(name, args)
        }
        Rule::list => ExprKind::List(
            pair.into_inner()
                .map(|item| build_expr(item.into_inner()))
                .collect::<Result<_, _>>()?,
        ),
        rule => unreachable!("not a primary: {rule:?}"),
    };
    Ok(Expr { kind, span })
}

fn parse_datetime(text: &str, span: Span) -> Result<ExprKind, ParseError> {
    let invalid = || ParseError {
        message: format!("`{text}` is not a valid date and time"),
        span,
        help: Some("write YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or +HH:MM".into()),
    };
    let (local, offset) = if let Some(local) = text.strip_suffix('Z') {
        (
            local,
            Some(FixedOffset::east_opt(0).expect("zero offset is valid")),
        )
    } else if let Some(cut) = text.rfind(['+', '-']).filter(|&at| at > 10) {
        let (local, offset) = text.split_at(cut);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let hours: i32 = offset[1..3].parse().map_err(|_| invalid())?;
        let minutes: i32 = offset[4..6].parse().map_err(|_| invalid())?;
        let offset =
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(invalid)?;
        (local, Some(offset))
    } else {
        (text, None)
    };
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M"))
        .map_err(|_| invalid())?;
    Ok(ExprKind::DateTime(naive, offset))
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            c => out.push(c),
        }
    }
    out
}
