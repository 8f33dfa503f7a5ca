//! Typing operators: which operand types each operator takes, what it
//! yields, and constant operands folded at check time.

use super::{CheckErrorKind, Checker, Typed, comparable};
use crate::ast::{BinaryOp, Expr, Span, UnaryOp};
use crate::eval::{Code, EvalError, Value, const_binary};
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn unary(&mut self, op: UnaryOp, span: Span, inner: &Expr) -> Typed {
        let (code, ty) = self.expr(inner)?;
        let ok = match op {
            UnaryOp::Not => ty == Type::Bool,
            UnaryOp::Neg => matches!(ty, Type::Int | Type::Decimal | Type::Duration),
        };
        if !ok {
            let (what, wanted) = match op {
                UnaryOp::Not => ("`not`", "bool"),
                UnaryOp::Neg => ("negation", "a number"),
            };
            self.mismatch(
                inner.span,
                format!("{what} needs {wanted}, found {ty}"),
                format!("this is {ty}"),
            );
            return None;
        }
        let code = match (op, code) {
            (UnaryOp::Not, Code::Const(Value::Bool(v))) => Code::Const(Value::Bool(!v)),
            (UnaryOp::Neg, Code::Const(Value::Int(v))) if v != i64::MIN => {
                Code::Const(Value::Int(-v))
            }
            (UnaryOp::Neg, Code::Const(Value::Decimal(v))) => Code::Const(Value::Decimal(-v)),
            (UnaryOp::Not, code) => Code::Not(Box::new(code)),
            (UnaryOp::Neg, code) => Code::Neg(Box::new(code)),
        };
        let _ = span;
        Some((code, ty))
    }

    pub(super) fn binary(&mut self, op: BinaryOp, span: Span, lhs: &Expr, rhs: &Expr) -> Typed {
        let left = self.expr(lhs);
        let right = self.expr(rhs);
        let ((lcode, lty), (rcode, rty)) = (left?, right?);
        use BinaryOp as B;
        if matches!(op, B::And | B::Or) {
            return self.logic(op, (lcode, &lty, lhs), (rcode, &rty, rhs));
        }
        let result = match op {
            B::In | B::NotIn | B::Contains => self.membership(op, (&lty, lhs), (&rty, rhs))?,
            B::Add | B::Sub | B::Mul | B::Div => self.arithmetic(op, (&lty, lhs), (&rty, rhs))?,
            _ => self.comparison(op, (&lty, lhs), (&rty, rhs))?,
        };
        // Constant operands fold now, so the checker can refuse what must fail at run time.
        if let (Code::Const(a), Code::Const(b)) = (&lcode, &rcode) {
            return match const_binary(op, a, b) {
                Ok(value) => Some((Code::Const(value), result)),
                Err(error) => {
                    self.constant_failure(span, &error);
                    None
                }
            };
        }
        if op == B::Div
            && let Code::Const(divisor) = &rcode
            && divisor.as_val().to_decimal().is_some_and(|d| d.is_zero())
        {
            self.constant_failure(rhs.span, &EvalError::DivisionByZero);
            return None;
        }
        Some((Code::Binary(op, Box::new(lcode), Box::new(rcode)), result))
    }

    /// `and` and `or`: bool on both sides.
    fn logic(
        &mut self,
        op: BinaryOp,
        (lcode, lty, lhs): (Code, &Type, &Expr),
        (rcode, rty, rhs): (Code, &Type, &Expr),
    ) -> Typed {
        let mut ok = true;
        for (ty, side) in [(lty, lhs), (rty, rhs)] {
            if *ty != Type::Bool {
                self.mismatch(
                    side.span,
                    format!("`{}` needs bool on both sides, found {ty}", op.symbol()),
                    format!("this is {ty}"),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let code = match op {
            BinaryOp::And => Code::And(Box::new(lcode), Box::new(rcode)),
            _ => Code::Or(Box::new(lcode), Box::new(rcode)),
        };
        Some((fold_logic(code), Type::Bool))
    }

    /// `==`, `!=` and the orderings.
    fn comparison(
        &mut self,
        op: BinaryOp,
        (lty, lhs): (&Type, &Expr),
        (rty, rhs): (&Type, &Expr),
    ) -> Option<Type> {
        let orderable = |t: &Type| {
            matches!(
                t,
                Type::Int
                    | Type::Decimal
                    | Type::String
                    | Type::Date
                    | Type::DateTime
                    | Type::Duration
            )
        };
        let ordering = !matches!(op, BinaryOp::Eq | BinaryOp::Ne);
        if ordering && !orderable(lty) {
            self.mismatch(
                lhs.span,
                format!("`{}` cannot order {lty} values", op.symbol()),
                format!("this is {lty}"),
            );
            return None;
        }
        if !comparable(lty, rty) {
            self.mismatch(
                rhs.span,
                format!("cannot compare {lty} with {rty}"),
                format!("this is {rty}, the left side is {lty}"),
            );
            return None;
        }
        Some(Type::Bool)
    }

    /// `in`, `not in` and `contains`.
    fn membership(
        &mut self,
        op: BinaryOp,
        (lty, lhs): (&Type, &Expr),
        (rty, rhs): (&Type, &Expr),
    ) -> Option<Type> {
        if op == BinaryOp::Contains {
            match lty {
                Type::EmptyList => {}
                Type::List(element) if comparable(element, rty) => {}
                Type::List(element) => {
                    self.mismatch(
                        rhs.span,
                        format!("a list<{element}> never contains a {rty}"),
                        format!("this is {rty}"),
                    );
                    return None;
                }
                Type::String if *rty == Type::String => {}
                other => {
                    self.mismatch(
                        lhs.span,
                        format!("`contains` needs a list or a string on its left, found {other}"),
                        format!("this is {other}"),
                    );
                    return None;
                }
            }
            return Some(Type::Bool);
        }
        match rty {
            Type::EmptyList => {}
            Type::List(element) if comparable(lty, element) => {}
            Type::List(element) => {
                self.mismatch(
                    lhs.span,
                    format!("a {lty} is never in a list<{element}>"),
                    format!("this is {lty}"),
                );
                return None;
            }
            other => {
                self.mismatch(
                    rhs.span,
                    format!("`{}` needs a list on its right, found {other}", op.symbol()),
                    format!("this is {other}"),
                );
                return None;
            }
        }
        Some(Type::Bool)
    }

    /// `+ - * /` on numbers, and `+ -` on datetimes and durations.
    fn arithmetic(
        &mut self,
        op: BinaryOp,
        (lty, lhs): (&Type, &Expr),
        (rty, rhs): (&Type, &Expr),
    ) -> Option<Type> {
        use BinaryOp as B;
        Some(match (op, lty, rty) {
            (B::Div, l, r) if l.is_numeric() && r.is_numeric() => Type::Decimal,
            (_, Type::Int, Type::Int) => Type::Int,
            (_, l, r) if l.is_numeric() && r.is_numeric() => Type::Decimal,
            (B::Add | B::Sub, Type::Duration, Type::Duration) => Type::Duration,
            (B::Add | B::Sub, Type::DateTime, Type::Duration) => Type::DateTime,
            (B::Add, Type::Duration, Type::DateTime) => Type::DateTime,
            (B::Sub, Type::DateTime, Type::DateTime) | (B::Sub, Type::Date, Type::Date) => {
                Type::Duration
            }
            _ => {
                // Blame the side that cannot take part in any arithmetic, else the right.
                let (side, ty) = if lty.is_numeric()
                    || matches!(lty, Type::DateTime | Type::Duration | Type::Date)
                {
                    (rhs, rty)
                } else {
                    (lhs, lty)
                };
                let help = match op {
                    B::Add | B::Sub => {
                        "`+` and `-` take numbers, or a datetime and a duration".into()
                    }
                    _ => format!("`{}` takes numbers", op.symbol()),
                };
                self.error(
                    CheckErrorKind::TypeMismatch,
                    side.span,
                    format!("`{}` cannot combine {lty} and {rty}", op.symbol()),
                    format!("this is {ty}"),
                    Some(help),
                );
                return None;
            }
        })
    }
}

fn fold_logic(code: Code) -> Code {
    match code {
        Code::And(lhs, rhs) => match (*lhs, *rhs) {
            (Code::Const(Value::Bool(a)), Code::Const(Value::Bool(b))) => {
                Code::Const(Value::Bool(a && b))
            }
            (lhs, rhs) => Code::And(Box::new(lhs), Box::new(rhs)),
        },
        Code::Or(lhs, rhs) => match (*lhs, *rhs) {
            (Code::Const(Value::Bool(a)), Code::Const(Value::Bool(b))) => {
                Code::Const(Value::Bool(a || b))
            }
            (lhs, rhs) => Code::Or(Box::new(lhs), Box::new(rhs)),
        },
        other => other,
    }
}
