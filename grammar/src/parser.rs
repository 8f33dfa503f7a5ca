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
    /// What went wrong, set where the error is made, so callers never read the message to tell.
    pub kind: ParseErrorKind,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

/// The kinds of [`ParseError`] the parser tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A number, percentage or duration literal that does not fit its type.
    OutOfRange,
    /// A date or date-time literal that names no instant of the calendar.
    InvalidDate,
    /// The text is longer than [`MAX_LEN`].
    TooLong,
    /// Brackets or operators nest deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl ParseErrorKind {
    /// Whether the expression passed a safety limit rather than being wrong.
    pub fn is_limit(self) -> bool {
        matches!(self, ParseErrorKind::TooLong | ParseErrorKind::TooDeep)
    }
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
            kind: ParseErrorKind::TooLong,
            message: format!(
                "expression is {} bytes long; the limit is {MAX_LEN}",
                text.len()
            ),
            span: Span::new(0, text.len()),
            help: Some("split the logic into several rules".into()),
        });
    }
    check_nesting(text)?;
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
        kind: ParseErrorKind::TooDeep,
        message: format!("expression nests deeper than {MAX_DEPTH} levels"),
        span,
        help: Some("simplify the expression".into()),
    }
}

/// Refuses absurd nesting before pest recurses into it: brackets nested too
/// deep, or long runs of prefix operators (`- - - x`, `not not x`), which the
/// Pratt parser folds recursively. Text inside string literals is skipped, so
/// a `")"` cannot hide an open bracket.
fn check_nesting(text: &str) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let (mut level, mut run) = (0usize, 0usize);
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        match b {
            b'"' | b'\'' => {
                // Skip to the closing quote, honouring escapes; an unclosed string ends the scan.
                at += 1;
                while at < bytes.len() && bytes[at] != b {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                at += 1;
                run = 0;
                continue;
            }
            b'(' | b'[' => {
                level += 1;
                if level > MAX_DEPTH {
                    return Err(too_deep(Span::new(at, at + 1)));
                }
            }
            b')' | b']' => {
                level = level.saturating_sub(1);
                run = 0;
            }
            b'-' => {
                run += 1;
            }
            b'n' if bytes[at..].starts_with(b"not")
                && (at == 0 || !is_ident(bytes[at - 1]))
                && bytes.get(at + 3).is_none_or(|c| !is_ident(*c)) =>
            {
                run += 1;
                at += 2;
            }
            _ if b.is_ascii_whitespace() => {}
            _ => run = 0,
        }
        if run > MAX_DEPTH {
            return Err(too_deep(Span::new(at, at + 1)));
        }
        at += 1;
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
        kind: ParseErrorKind::Syntax,
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
        Rule::EOI => "the end of the expression",
        // Any operand: naming each literal kind would only make the message longer.
        Rule::expr
        | Rule::primary
        | Rule::literal
        | Rule::ident
        | Rule::path
        | Rule::call
        | Rule::integer
        | Rule::decimal
        | Rule::percent
        | Rule::string
        | Rule::list
        | Rule::date
        | Rule::datetime
        | Rule::duration
        | Rule::boolean => "a value",
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
        kind: ParseErrorKind::OutOfRange,
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
                kind: ParseErrorKind::InvalidDate,
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
        kind: ParseErrorKind::InvalidDate,
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

#[cfg(test)]
mod tests {
    use pest::{consumes_to, parses_to};

    use super::*;

    #[test]
    fn integer_rule() {
        parses_to! { parser: ExprParser, input: "42", rule: Rule::integer, tokens: [integer(0, 2)] };
    }

    #[test]
    fn decimal_rule() {
        parses_to! { parser: ExprParser, input: "0.25", rule: Rule::decimal, tokens: [decimal(0, 4)] };
    }

    #[test]
    fn percent_rule() {
        parses_to! { parser: ExprParser, input: "12.5%", rule: Rule::percent, tokens: [percent(0, 5)] };
    }

    #[test]
    fn duration_rule() {
        parses_to! { parser: ExprParser, input: "7d", rule: Rule::duration, tokens: [duration(0, 2)] };
        assert!(ExprParser::parse(Rule::duration, "7days").is_err());
    }

    #[test]
    fn date_and_datetime_rules() {
        parses_to! { parser: ExprParser, input: "2026-03-01", rule: Rule::date, tokens: [date(0, 10)] };
        parses_to! { parser: ExprParser, input: "2026-03-01T09:30:00+08:00", rule: Rule::datetime, tokens: [datetime(0, 25)] };
        parses_to! { parser: ExprParser, input: "2026-03-01T09:30Z", rule: Rule::datetime, tokens: [datetime(0, 17)] };
    }

    #[test]
    fn string_rule() {
        parses_to! { parser: ExprParser, input: r#""a\"b""#, rule: Rule::string, tokens: [string(0, 6, [dq_inner(1, 5)])] };
        parses_to! { parser: ExprParser, input: "'vip'", rule: Rule::string, tokens: [string(0, 5, [sq_inner(1, 4)])] };
    }

    #[test]
    fn boolean_rule() {
        parses_to! { parser: ExprParser, input: "true", rule: Rule::boolean, tokens: [boolean(0, 4)] };
        assert!(
            ExprParser::parse(Rule::boolean, "trueish")
                .map(|p| p.as_str().len())
                .ok()
                != Some(7)
        );
    }

    #[test]
    fn ident_rule_refuses_keywords() {
        parses_to! { parser: ExprParser, input: "user", rule: Rule::ident, tokens: [ident(0, 4)] };
        parses_to! { parser: ExprParser, input: "android", rule: Rule::ident, tokens: [ident(0, 7)] };
        assert!(ExprParser::parse(Rule::ident, "and").is_err());
        assert!(ExprParser::parse(Rule::ident, "in").is_err());
    }

    #[test]
    fn path_rule() {
        parses_to! {
            parser: ExprParser, input: "user.draws.total", rule: Rule::path,
            tokens: [path(0, 16, [ident(0, 4), ident(5, 10), ident(11, 16)])]
        };
    }

    #[test]
    fn call_rule() {
        parses_to! {
            parser: ExprParser, input: "random(1, 100)", rule: Rule::call,
            tokens: [call(0, 14, [ident(0, 6), expr(7, 8, [integer(7, 8)]), expr(10, 13, [integer(10, 13)])])]
        };
    }

    #[test]
    fn list_rule_allows_a_trailing_comma() {
        parses_to! {
            parser: ExprParser, input: "[1, 2,]", rule: Rule::list,
            tokens: [list(0, 7, [expr(1, 2, [integer(1, 2)]), expr(4, 5, [integer(4, 5)])])]
        };
    }

    #[test]
    fn operator_rules() {
        parses_to! { parser: ExprParser, input: "<=", rule: Rule::le, tokens: [le(0, 2)] };
        parses_to! { parser: ExprParser, input: "not  in", rule: Rule::not_in_op, tokens: [not_in_op(0, 7)] };
        parses_to! { parser: ExprParser, input: "contains", rule: Rule::contains_op, tokens: [contains_op(0, 8)] };
        // `order` starts with `or` but is a name, not an operator.
        assert!(ExprParser::parse(Rule::or_op, "order").is_err());
    }

    #[test]
    fn expr_rule_flattens_operands_and_operators() {
        parses_to! {
            parser: ExprParser, input: "1 + 2", rule: Rule::expr,
            tokens: [expr(0, 5, [integer(0, 1), add(2, 3), integer(4, 5)])]
        };
        parses_to! {
            parser: ExprParser, input: "not -x", rule: Rule::expr,
            tokens: [expr(0, 6, [not_op(0, 3), neg(4, 5), path(5, 6, [ident(5, 6)])])]
        };
    }

    #[test]
    fn precedence_follows_the_pratt_table() {
        let expr = parse("1 + 2 * 3 == 7 and not false or x").unwrap();
        assert_eq!(expr.to_string(), "1 + 2 * 3 == 7 and not false or x");
        let ExprKind::Binary(BinaryOp::Or, lhs, _) = &expr.kind else {
            panic!("or at the top: {expr:?}")
        };
        let ExprKind::Binary(BinaryOp::And, cmp, _) = &lhs.kind else {
            panic!("and below or")
        };
        let ExprKind::Binary(BinaryOp::Eq, sum, _) = &cmp.kind else {
            panic!("== below and")
        };
        let ExprKind::Binary(BinaryOp::Add, _, product) = &sum.kind else {
            panic!("+ below ==")
        };
        assert!(matches!(
            product.kind,
            ExprKind::Binary(BinaryOp::Mul, _, _)
        ));
    }

    #[test]
    fn spans_are_byte_ranges_of_the_text() {
        let text = "user.vip and 10 > 3";
        let expr = parse(text).unwrap();
        let ExprKind::Binary(_, lhs, rhs) = &expr.kind else {
            panic!()
        };
        assert_eq!(&text[lhs.span.start..lhs.span.end], "user.vip");
        assert_eq!(&text[rhs.span.start..rhs.span.end], "10 > 3");
    }

    #[test]
    fn errors_name_what_was_expected_and_where() {
        let error = parse("1 +").unwrap_err();
        assert_eq!(error.span, Span::new(3, 3));
        assert_eq!(error.message, "expected a value");
        assert_eq!(error.kind, ParseErrorKind::Syntax);
        let error = parse("1 2").unwrap_err();
        assert_eq!(error.span.start, 2);
        assert!(error.message.contains("an operator"), "{}", error.message);
    }

    #[test]
    fn absurd_nesting_is_refused_not_overflowed() {
        let deep = format!("{}1{}", "(".repeat(2000), ")".repeat(2000));
        let error = parse(&deep).unwrap_err();
        assert!(error.message.contains("nests deeper"), "{}", error.message);
        assert_eq!(error.kind, ParseErrorKind::TooDeep);
        let prefixes = format!("{}1", "-".repeat(3000));
        assert!(parse(&prefixes).is_err());
        // A `)` inside a string must not hide real open brackets.
        let hidden = format!("[{}] == {}1", "\")\", ".repeat(100), "(".repeat(1000));
        assert!(parse(&hidden).unwrap_err().message.contains("nests deeper"));
        let long = "1 + ".repeat(2000) + "1";
        let error = parse(&long).unwrap_err();
        assert!(error.message.contains("limit"), "{}", error.message);
        assert_eq!(error.kind, ParseErrorKind::TooLong);
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let error = parse("99999999999999999999").unwrap_err();
        assert!(error.message.contains("out of range"), "{}", error.message);
        assert_eq!(error.kind, ParseErrorKind::OutOfRange);
    }
}
