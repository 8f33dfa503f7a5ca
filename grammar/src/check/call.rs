//! Typing function calls: arity, each function's argument types, an empty
//! `random` range, and pure calls of constants folded at check time.

use super::{CheckErrorKind, Checker, Typed, all_const, fold};
use crate::ast::{Expr, Ident, Span};
use crate::eval::{Code, EvalError, Value};
use crate::types::{FUNCTIONS, Function, Type};

impl Checker<'_> {
    pub(super) fn call(&mut self, span: Span, name: &Ident, args: &[Expr]) -> Typed {
        let Some(&(_, function, signature, _)) = FUNCTIONS.iter().find(|f| f.0 == name.name) else {
            let names: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
            self.unknown(name, "function", &names, None);
            for arg in args {
                self.expr(arg);
            }
            return None;
        };
        let (min, max) = match function {
            Function::Random => (2, 2),
            Function::Min | Function::Max => (2, usize::MAX),
            Function::Round => (1, 2),
            Function::Abs | Function::Len => (1, 1),
            Function::Now | Function::Today => (0, 0),
            Function::DayOfWeek => (0, 1),
        };
        let typed: Vec<Typed> = args.iter().map(|arg| self.expr(arg)).collect();
        if args.len() < min || args.len() > max {
            self.error(
                CheckErrorKind::Arity,
                span,
                format!(
                    "`{}` takes {}, found {}",
                    name.name,
                    arity_text(min, max),
                    args.len()
                ),
                "wrong number of arguments".into(),
                Some(format!("usage: {signature}")),
            );
            return None;
        }
        let typed: Vec<(Code, Type)> = typed.into_iter().collect::<Option<_>>()?;
        let ty = self.call_type(function, name, args, &typed)?;
        if function == Function::Random && !self.random_range(span, &typed) {
            return None;
        }
        let widen = matches!(function, Function::Min | Function::Max) && ty == Type::Decimal;
        let codes: Box<[Code]> = typed
            .into_iter()
            .map(|(code, arg_ty)| {
                if widen && arg_ty == Type::Int {
                    Code::ToDecimal(Box::new(code))
                } else {
                    code
                }
            })
            .collect();
        let code = Code::Call(function, codes);
        // Time and randomness are read at run time; everything else folds when constant.
        let reads_runtime = matches!(function, Function::Random | Function::Now | Function::Today)
            || (function == Function::DayOfWeek && args.is_empty());
        let pure = !reads_runtime;
        if pure && all_const(&code) {
            return match fold(&code, self.zone) {
                Ok(value) => Some((Code::Const(value), ty)),
                Err(error) => {
                    self.constant_failure(span, &error);
                    None
                }
            };
        }
        Some((code, ty))
    }

    /// Argument `index` must be a number.
    fn need_number(
        &mut self,
        name: &Ident,
        args: &[Expr],
        typed: &[(Code, Type)],
        index: usize,
    ) -> bool {
        let ty = &typed[index].1;
        if ty.is_numeric() {
            return true;
        }
        self.mismatch(
            args[index].span,
            format!("`{}` needs a number, found {ty}", name.name),
            format!("this is {ty}"),
        );
        false
    }

    /// The call's type, from its arguments' (there are as many as it takes).
    fn call_type(
        &mut self,
        function: Function,
        name: &Ident,
        args: &[Expr],
        typed: &[(Code, Type)],
    ) -> Option<Type> {
        Some(match function {
            Function::Random | Function::Min | Function::Max => {
                let mut ok = true;
                for index in 0..typed.len() {
                    ok &= self.need_number(name, args, typed, index);
                }
                if !ok {
                    return None;
                }
                if typed.iter().all(|(_, ty)| *ty == Type::Int) {
                    Type::Int
                } else {
                    Type::Decimal
                }
            }
            Function::Round => {
                if !self.need_number(name, args, typed, 0) {
                    return None;
                }
                if typed.len() < 2 {
                    return Some(Type::Int);
                }
                if typed[1].1 != Type::Int {
                    self.mismatch(
                        args[1].span,
                        format!(
                            "`round` takes a whole number of digits, found {}",
                            typed[1].1
                        ),
                        format!("this is {}", typed[1].1),
                    );
                    return None;
                }
                if let Code::Const(Value::Int(digits)) = typed[1].0
                    && !(0..=28).contains(&digits)
                {
                    self.constant_failure(args[1].span, &EvalError::BadDigits(digits));
                    return None;
                }
                Type::Decimal
            }
            Function::Abs => {
                if !self.need_number(name, args, typed, 0) {
                    return None;
                }
                typed[0].1.clone()
            }
            Function::Len => match &typed[0].1 {
                Type::List(_) | Type::EmptyList | Type::String => Type::Int,
                other => {
                    self.mismatch(
                        args[0].span,
                        format!("`len` needs a list or a string, found {other}"),
                        format!("this is {other}"),
                    );
                    return None;
                }
            },
            Function::Now => Type::DateTime,
            Function::Today => Type::Date,
            Function::DayOfWeek => {
                if let Some((_, ty)) = typed.first()
                    && !matches!(ty, Type::Date | Type::DateTime)
                {
                    self.mismatch(
                        args[0].span,
                        format!("`day_of_week` needs a date, found {ty}"),
                        format!("this is {ty}"),
                    );
                    return None;
                }
                Type::Int
            }
        })
    }

    /// `random(lo, hi)` with constant bounds must have a value to draw.
    fn random_range(&mut self, span: Span, typed: &[(Code, Type)]) -> bool {
        let (Code::Const(lo), Code::Const(hi)) = (&typed[0].0, &typed[1].0) else {
            return true;
        };
        let (lo, hi) = (lo.as_val().to_decimal(), hi.as_val().to_decimal());
        if let (Some(lo), Some(hi)) = (lo, hi)
            && lo > hi
        {
            self.error(
                CheckErrorKind::EmptyRange,
                span,
                format!(
                    "random({lo}, {hi}) has no values: the lower bound is above the upper bound"
                ),
                "empty range".into(),
                Some(format!("swap the bounds: random({hi}, {lo})")),
            );
            return false;
        }
        true
    }
}

fn arity_text(min: usize, max: usize) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    if min == max {
        format!("{min} {}", plural(min))
    } else if max == usize::MAX {
        format!("at least {min} {}", plural(min))
    } else {
        format!("{min} to {max} arguments")
    }
}
