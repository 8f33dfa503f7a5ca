//! Expression semantics, table-driven from `semantics.txt`, plus the print /
//! parse round trip as a property.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use tombola_grammar::{Env, Runtime, Scope, Slot, Type, Val, Value, check, parse};

struct Inputs {
    user: Vec<Value>,
}

impl Env for Inputs {
    fn load(&self, slot: Slot) -> Option<Val<'_>> {
        Some(match slot {
            Slot::UserId => Val::Str("u1"),
            Slot::UserCredits => Val::Decimal("12.50".parse().unwrap()),
            Slot::DrawsToday => Val::Int(2),
            Slot::DrawsMonth => Val::Int(5),
            Slot::DrawsTotal => Val::Int(9),
            Slot::DrawsLeft => Val::Int(3),
            Slot::UserAttribute(i) => self.user.get(usize::from(i))?.as_val(),
            Slot::EventAttribute(_) => return None,
        })
    }
}

/// A clock stopped at a Wednesday and a random source that always picks the top.
struct Fixed;

impl Runtime for Fixed {
    fn now(&self) -> DateTime<Utc> {
        "2026-03-04T10:00:00Z".parse().unwrap()
    }
    fn random_below(&mut self, bound: u64) -> u64 {
        bound - 1
    }
}

fn scope() -> (Scope, Inputs) {
    let attributes = vec![
        ("vip".to_string(), Type::Bool, Value::Bool(true)),
        ("age".to_string(), Type::Int, Value::Int(30)),
        (
            "score".to_string(),
            Type::Decimal,
            Value::Decimal("4.5".parse().unwrap()),
        ),
        (
            "tags".to_string(),
            Type::List(Box::new(Type::String)),
            Value::List(vec![Value::Str("new".into()), Value::Str("fraud".into())].into()),
        ),
        (
            "joined".to_string(),
            Type::Date,
            Value::Date(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()),
        ),
    ];
    let scope = Scope::draw(
        attributes
            .iter()
            .map(|(n, t, _)| (n.clone(), t.clone()))
            .collect(),
    );
    let inputs = Inputs {
        user: attributes.into_iter().map(|(_, _, v)| v).collect(),
    };
    (scope, inputs)
}

fn show(value: Val<'_>) -> String {
    match value {
        Val::Int(v) => v.to_string(),
        Val::Decimal(v) => v.to_string(),
        Val::Bool(v) => v.to_string(),
        Val::Str(v) => format!("{v:?}"),
        Val::Date(v) => v.to_string(),
        Val::DateTime(v) => v.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Val::Duration(v) => format!("{v}s"),
        Val::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| show(i.as_val()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn outcome(text: &str) -> String {
    let (scope, inputs) = scope();
    let expr = match parse(text) {
        Ok(expr) => expr,
        Err(error) => return format!("parse: {}", error.message),
    };
    let program = match check(&expr, &scope, chrono_tz::Asia::Shanghai) {
        Ok(program) => program,
        Err(errors) => return format!("check: {:?}", errors[0].kind),
    };
    match program.eval(&inputs, &mut Fixed) {
        Ok(value) => show(value),
        Err(error) => format!("eval: {error}"),
    }
}

/// Runs `check` on every case of a table file (`name`: blank lines and
/// `#` comments skipped); `check` answers a mismatch, if any. Fails with every
/// mismatch, or when the table has fewer than `least` cases.
fn run_table(name: &str, table: &str, least: usize, mut check: impl FnMut(&str) -> Option<String>) {
    let mut failures = String::new();
    let mut cases = 0;
    for (number, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        if let Some(mismatch) = check(line) {
            let _ = writeln!(failures, "{name}:{}: {mismatch}", number + 1);
        }
    }
    assert!(cases > least, "{name} lost its cases: {cases}");
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn semantics_table() {
    run_table("semantics.txt", include_str!("semantics.txt"), 80, |line| {
        let (expression, expected) = line
            .rsplit_once(" | ")
            .expect("each line is `expression | expected`");
        let actual = outcome(expression.trim());
        (actual != expected.trim())
            .then(|| format!("`{expression}`\n  expected {expected}\n  actual   {actual}"))
    });
}

#[test]
fn check_errors_point_at_the_exact_operand() {
    let (scope, _) = scope();
    let text = "user.age + \"ten\" > 3";
    let errors = check(&parse(text).unwrap(), &scope, chrono_tz::UTC).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(&text[errors[0].span.start..errors[0].span.end], "\"ten\"");

    let text = "user.vipp and user.draws.totl > 1";
    let errors = check(&parse(text).unwrap(), &scope, chrono_tz::UTC).unwrap_err();
    let spans: Vec<&str> = errors
        .iter()
        .map(|e| &text[e.span.start..e.span.end])
        .collect();
    assert_eq!(
        spans,
        ["vipp", "totl"],
        "every unknown name, not only the first"
    );
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `vip`?"));
    assert_eq!(errors[1].help.as_deref(), Some("did you mean `total`?"));
}

#[test]
fn reads_lists_each_input_once() {
    let (scope, _) = scope();
    let program = check(
        &parse("user.vip and user.age > 3 or user.vip").unwrap(),
        &scope,
        chrono_tz::UTC,
    )
    .unwrap();
    assert_eq!(
        program.reads(),
        [Slot::UserAttribute(0), Slot::UserAttribute(1)]
    );
    assert_eq!(program.source(), "user.vip and user.age > 3 or user.vip");
}

mod round_trip {
    use proptest::prelude::*;
    use tombola_grammar::{BinaryOp, DurationUnit, Expr, ExprKind, Ident, Span, UnaryOp, parse};

    fn e(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::default(),
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,6}".prop_filter("keywords are not names", |n| {
            !["and", "or", "not", "in", "contains", "true", "false"].contains(&n.as_str())
        })
    }

    fn leaf() -> impl Strategy<Value = Expr> {
        prop_oneof![
            (0i64..i64::MAX).prop_map(|v| e(ExprKind::Int(v))),
            (0i64..1_000_000, 1u32..6)
                .prop_map(|(m, s)| e(ExprKind::Decimal(rust_decimal::Decimal::new(m, s)))),
            (0i64..10_000, 0u32..3)
                .prop_map(|(m, s)| e(ExprKind::Percent(rust_decimal::Decimal::new(m, s)))),
            "[ -~]{0,8}".prop_map(|s| e(ExprKind::Str(s))),
            any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
            (2000i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| e(ExprKind::Date(
                chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
            ))),
            (1u32..1000, 0usize..4).prop_map(|(n, u)| e(ExprKind::Duration(
                n,
                [
                    DurationUnit::Days,
                    DurationUnit::Hours,
                    DurationUnit::Minutes,
                    DurationUnit::Seconds
                ][u]
            ))),
            prop::collection::vec(name(), 1..4).prop_map(|parts| e(ExprKind::Path(
                parts
                    .into_iter()
                    .map(|name| Ident {
                        name,
                        span: Span::default()
                    })
                    .collect()
            ))),
        ]
    }

    fn expr() -> impl Strategy<Value = Expr> {
        leaf().prop_recursive(5, 48, 4, |inner| {
            let ops = [
                BinaryOp::Or,
                BinaryOp::And,
                BinaryOp::Eq,
                BinaryOp::Ne,
                BinaryOp::Lt,
                BinaryOp::Le,
                BinaryOp::Gt,
                BinaryOp::Ge,
                BinaryOp::In,
                BinaryOp::NotIn,
                BinaryOp::Contains,
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
            ];
            prop_oneof![
                (0usize..ops.len(), inner.clone(), inner.clone()).prop_map(move |(op, l, r)| e(
                    ExprKind::Binary(ops[op], Box::new(l), Box::new(r))
                )),
                (any::<bool>(), inner.clone()).prop_map(|(not, x)| e(ExprKind::Unary(
                    if not { UnaryOp::Not } else { UnaryOp::Neg },
                    Box::new(x)
                ))),
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|items| e(ExprKind::List(items))),
                (name(), prop::collection::vec(inner, 0..3)).prop_map(|(n, args)| e(
                    ExprKind::Call(
                        Ident {
                            name: n,
                            span: Span::default()
                        },
                        args
                    )
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn printing_then_parsing_gives_the_same_ast(original in expr()) {
            let printed = original.to_string();
            let reparsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("`{printed}` does not parse: {}", e.message)))?;
            prop_assert!(reparsed.same_shape(&original), "`{printed}` parsed back as `{reparsed}`");
        }
    }
}

/// The digits and the probe of every line of `bounds.txt`.
#[test]
fn bounds_table() {
    let (scope, _) = scope();
    run_table("bounds.txt", include_str!("bounds.txt"), 30, |line| {
        let parts: Vec<&str> = line.rsplitn(3, " | ").collect();
        let [probe, digits, expression] = parts[..] else {
            panic!("bounds.txt: `expression | digits | probe`, not `{line}`");
        };
        let program = check(&parse(expression).unwrap(), &scope, chrono_tz::UTC).unwrap();
        let actual_digits = program
            .max_digits()
            .map_or("any".to_string(), |d| d.to_string());
        let actual_probe = match program.largest_probe() {
            None => "-".to_string(),
            Some(v) if v == rust_decimal::Decimal::MAX => "overflow".to_string(),
            Some(v) => v.to_string(),
        };
        ((actual_digits.as_str(), actual_probe.as_str()) != (digits, probe)).then(|| {
            format!("`{expression}`\n  expected {digits} | {probe}\n  actual   {actual_digits} | {actual_probe}")
        })
    });
}
