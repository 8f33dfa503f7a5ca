//! The compiled form of a checked expression and its evaluator. Evaluation
//! reads inputs through [`Env`], time and randomness through [`Runtime`], and
//! never allocates: values are `Copy` or borrow from the program or the inputs.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::ast::BinaryOp;
use crate::types::{Function, Slot, Type};

/// An owned value: constants in a program, inputs held by an [`Env`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Decimal(Decimal),
    Bool(bool),
    Str(Box<str>),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    /// Whole seconds.
    Duration(i64),
    List(Box<[Value]>),
}

impl Value {
    pub fn as_val(&self) -> Val<'_> {
        match self {
            Value::Int(v) => Val::Int(*v),
            Value::Decimal(v) => Val::Decimal(*v),
            Value::Bool(v) => Val::Bool(*v),
            Value::Str(v) => Val::Str(v),
            Value::Date(v) => Val::Date(*v),
            Value::DateTime(v) => Val::DateTime(*v),
            Value::Duration(v) => Val::Duration(*v),
            Value::List(v) => Val::List(v),
        }
    }
}

/// A value during evaluation: `Copy`, borrowing text and lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    Int(i64),
    Decimal(Decimal),
    Bool(bool),
    Str(&'a str),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Duration(i64),
    List(&'a [Value]),
}

impl Val<'_> {
    /// The value as an exact decimal, if it is a number.
    pub fn to_decimal(self) -> Option<Decimal> {
        match self {
            Val::Int(v) => Some(Decimal::from(v)),
            Val::Decimal(v) => Some(v),
            _ => None,
        }
    }

    pub fn to_owned_value(self) -> Value {
        match self {
            Val::Int(v) => Value::Int(v),
            Val::Decimal(v) => Value::Decimal(v),
            Val::Bool(v) => Value::Bool(v),
            Val::Str(v) => Value::Str(v.into()),
            Val::Date(v) => Value::Date(v),
            Val::DateTime(v) => Value::DateTime(v),
            Val::Duration(v) => Value::Duration(v),
            Val::List(v) => Value::List(v.into()),
        }
    }
}

/// The inputs an expression reads: the user's counters and attributes, the event.
pub trait Env {
    /// The value in `slot`, or `None` when the caller did not supply it.
    fn load(&self, slot: Slot) -> Option<Val<'_>>;
}

/// Time and randomness, injected so runs are reproducible.
pub trait Runtime {
    fn now(&self) -> DateTime<Utc>;
    /// A uniform integer in `0..bound`; `bound` is at least 1.
    fn random_below(&mut self, bound: u64) -> u64;
}

/// Why an evaluation failed. A draw that hits one of these fails and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("division by zero")]
    DivisionByZero,
    #[error("arithmetic overflow")]
    Overflow,
    #[error("random({0}, {1}): the lower bound is above the upper bound")]
    EmptyRange(String, String),
    #[error("the input {0:?} was not supplied")]
    MissingInput(Slot),
    #[error("round: {0} fractional digits is out of range 0..=28")]
    BadDigits(i64),
    #[error("internal: a value of an unexpected type reached {0}")]
    Type(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) enum Code {
    Const(Value),
    Load(Slot),
    Not(Box<Code>),
    Neg(Box<Code>),
    And(Box<Code>, Box<Code>),
    Or(Box<Code>, Box<Code>),
    Binary(BinaryOp, Box<Code>, Box<Code>),
    Call(Function, Box<[Code]>),
    /// Widens an int to a decimal where the checker typed a mix of both as decimal.
    ToDecimal(Box<Code>),
}

/// A checked, compiled expression.
#[derive(Debug, Clone)]
pub struct Program {
    /// The expression as the checker read it, printed canonically.
    pub(crate) source: String,
    pub(crate) code: Code,
    pub(crate) ty: Type,
    pub(crate) zone: Tz,
    pub(crate) reads: Vec<Slot>,
    /// See [`Program::max_digits`].
    pub(crate) digits: Option<u32>,
    /// See [`Program::largest_probe`].
    pub(crate) largest: Option<Decimal>,
}

impl serde::Serialize for Program {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Program", 2)?;
        s.serialize_field("expr", &self.source)?;
        s.serialize_field("type", &self.ty.to_string())?;
        s.end()
    }
}

impl Program {
    /// The expression, printed canonically.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The least value a numeric program can take, when that is known statically:
    /// a constant, or `random(a, b)` with a constant `a`.
    pub fn lower_bound(&self) -> Option<Decimal> {
        match &self.code {
            Code::Const(value) => value.as_val().to_decimal(),
            Code::Call(Function::Random, args) => match &args[0] {
                Code::Const(value) => value.as_val().to_decimal(),
                _ => None,
            },
            _ => None,
        }
    }

    /// The most fractional digits the value can carry (trailing zeros
    /// dropped), or `None` when the checker cannot bound them: a division not
    /// rounded. A decimal input counts [`INPUT_DIGITS`](crate::INPUT_DIGITS);
    /// values that are not numbers count 0.
    pub fn max_digits(&self) -> Option<u32> {
        self.digits
    }

    /// The largest magnitude a numeric program reaches when every number it
    /// reads is 1 and every `random` sits at either bound (`Decimal::MAX` for
    /// an overflow), or `None` when it cannot be tried that way. A value found
    /// here happens for some input, so a limit can refuse it for certain.
    pub fn largest_probe(&self) -> Option<Decimal> {
        self.largest
    }

    /// The static type of the result.
    pub fn ty(&self) -> &Type {
        &self.ty
    }

    /// The inputs this program reads, each once, in order of first use.
    pub fn reads(&self) -> &[Slot] {
        &self.reads
    }

    /// The value, when the program reads no input, time or randomness.
    pub fn constant(&self) -> Option<&Value> {
        match &self.code {
            Code::Const(value) => Some(value),
            _ => None,
        }
    }

    /// Evaluates the program.
    pub fn eval<'a, E, R>(&'a self, env: &'a E, rt: &mut R) -> Result<Val<'a>, EvalError>
    where
        E: Env + ?Sized,
        R: Runtime + ?Sized,
    {
        Evaluator {
            env,
            rt,
            zone: self.zone,
        }
        .eval(&self.code)
    }

    /// Evaluates a program of type `bool`.
    pub fn eval_bool<E, R>(&self, env: &E, rt: &mut R) -> Result<bool, EvalError>
    where
        E: Env + ?Sized,
        R: Runtime + ?Sized,
    {
        match self.eval(env, rt)? {
            Val::Bool(v) => Ok(v),
            _ => Err(EvalError::Type("a condition")),
        }
    }

    /// Evaluates a numeric program as an exact decimal.
    pub fn eval_decimal<E, R>(&self, env: &E, rt: &mut R) -> Result<Decimal, EvalError>
    where
        E: Env + ?Sized,
        R: Runtime + ?Sized,
    {
        self.eval(env, rt)?
            .to_decimal()
            .ok_or(EvalError::Type("a number"))
    }
}

struct Evaluator<'a, 'r, E: ?Sized, R: ?Sized> {
    env: &'a E,
    rt: &'r mut R,
    zone: Tz,
}

impl<'a, E: Env + ?Sized, R: Runtime + ?Sized> Evaluator<'a, '_, E, R> {
    fn eval(&mut self, code: &'a Code) -> Result<Val<'a>, EvalError> {
        match code {
            Code::Const(value) => Ok(value.as_val()),
            Code::Load(slot) => self.env.load(*slot).ok_or(EvalError::MissingInput(*slot)),
            Code::Not(inner) => Ok(Val::Bool(!self.bool(inner)?)),
            Code::Neg(inner) => match self.eval(inner)? {
                Val::Int(v) => v.checked_neg().map(Val::Int).ok_or(EvalError::Overflow),
                Val::Decimal(v) => Ok(Val::Decimal(-v)),
                Val::Duration(v) => v
                    .checked_neg()
                    .map(Val::Duration)
                    .ok_or(EvalError::Overflow),
                _ => Err(EvalError::Type("negation")),
            },
            Code::And(lhs, rhs) => Ok(Val::Bool(self.bool(lhs)? && self.bool(rhs)?)),
            Code::Or(lhs, rhs) => Ok(Val::Bool(self.bool(lhs)? || self.bool(rhs)?)),
            Code::Binary(op, lhs, rhs) => {
                let lhs = self.eval(lhs)?;
                let rhs = self.eval(rhs)?;
                binary(*op, lhs, rhs)
            }
            Code::Call(function, args) => self.call(*function, args),
            Code::ToDecimal(inner) => match self.eval(inner)? {
                Val::Int(v) => Ok(Val::Decimal(Decimal::from(v))),
                other => Ok(other),
            },
        }
    }

    fn bool(&mut self, code: &'a Code) -> Result<bool, EvalError> {
        match self.eval(code)? {
            Val::Bool(v) => Ok(v),
            _ => Err(EvalError::Type("a condition")),
        }
    }

    fn call(&mut self, function: Function, args: &'a [Code]) -> Result<Val<'a>, EvalError> {
        match function {
            Function::Now => Ok(Val::DateTime(self.rt.now())),
            Function::Today => Ok(Val::Date(
                self.rt.now().with_timezone(&self.zone).date_naive(),
            )),
            Function::DayOfWeek => {
                let date = match args.first() {
                    None => self.rt.now().with_timezone(&self.zone).date_naive(),
                    Some(arg) => match self.eval(arg)? {
                        Val::Date(d) => d,
                        Val::DateTime(t) => t.with_timezone(&self.zone).date_naive(),
                        _ => return Err(EvalError::Type("day_of_week")),
                    },
                };
                Ok(Val::Int(i64::from(date.weekday().number_from_monday())))
            }
            Function::Len => match self.eval(&args[0])? {
                Val::List(items) => Ok(Val::Int(items.len() as i64)),
                Val::Str(text) => Ok(Val::Int(text.chars().count() as i64)),
                _ => Err(EvalError::Type("len")),
            },
            Function::Abs => match self.eval(&args[0])? {
                Val::Int(v) => v.checked_abs().map(Val::Int).ok_or(EvalError::Overflow),
                Val::Decimal(v) => Ok(Val::Decimal(v.abs())),
                _ => Err(EvalError::Type("abs")),
            },
            Function::Min | Function::Max => {
                let mut best = self.eval(&args[0])?;
                for arg in &args[1..] {
                    let next = self.eval(arg)?;
                    let ordering = compare(next, best)?;
                    let better = if function == Function::Min {
                        ordering.is_lt()
                    } else {
                        ordering.is_gt()
                    };
                    if better {
                        best = next;
                    }
                }
                Ok(best)
            }
            Function::Round => {
                let value = self.eval(&args[0])?;
                match args.get(1) {
                    None => match value {
                        Val::Int(v) => Ok(Val::Int(v)),
                        Val::Decimal(v) => {
                            let rounded =
                                v.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
                            i64::try_from(rounded)
                                .map(Val::Int)
                                .map_err(|_| EvalError::Overflow)
                        }
                        _ => Err(EvalError::Type("round")),
                    },
                    Some(digits) => {
                        let digits = match self.eval(digits)? {
                            Val::Int(d) => d,
                            _ => return Err(EvalError::Type("round")),
                        };
                        let dp = u32::try_from(digits)
                            .ok()
                            .filter(|d| *d <= 28)
                            .ok_or(EvalError::BadDigits(digits))?;
                        let value = value.to_decimal().ok_or(EvalError::Type("round"))?;
                        Ok(Val::Decimal(value.round_dp_with_strategy(
                            dp,
                            RoundingStrategy::MidpointAwayFromZero,
                        )))
                    }
                }
            }
            Function::Random => {
                let lo = self.eval(&args[0])?;
                let hi = self.eval(&args[1])?;
                random(lo, hi, self.rt)
            }
        }
    }
}

/// `random(a, b)`: uniform, inclusive at both ends; ints for int bounds,
/// otherwise decimals at the finer of the bounds' precisions.
fn random<'a, R: Runtime + ?Sized>(
    lo: Val<'a>,
    hi: Val<'a>,
    rt: &mut R,
) -> Result<Val<'a>, EvalError> {
    match (lo, hi) {
        (Val::Int(a), Val::Int(b)) => {
            if a > b {
                return Err(EvalError::EmptyRange(a.to_string(), b.to_string()));
            }
            let width = u64::try_from(i128::from(b) - i128::from(a) + 1)
                .map_err(|_| EvalError::Overflow)?;
            let offset = rt.random_below(width);
            Ok(Val::Int((i128::from(a) + i128::from(offset)) as i64))
        }
        (a, b) => {
            let (a, b) = (
                a.to_decimal().ok_or(EvalError::Type("random"))?,
                b.to_decimal().ok_or(EvalError::Type("random"))?,
            );
            if a > b {
                return Err(EvalError::EmptyRange(a.to_string(), b.to_string()));
            }
            let scale = a.scale().max(b.scale());
            let (mut a, mut b) = (a, b);
            a.rescale(scale);
            b.rescale(scale);
            let width =
                u64::try_from(b.mantissa() - a.mantissa() + 1).map_err(|_| EvalError::Overflow)?;
            let offset = rt.random_below(width);
            Ok(Val::Decimal(Decimal::from_i128_with_scale(
                a.mantissa() + i128::from(offset),
                scale,
            )))
        }
    }
}

fn binary<'a>(op: BinaryOp, lhs: Val<'a>, rhs: Val<'a>) -> Result<Val<'a>, EvalError> {
    use BinaryOp as B;
    Ok(match op {
        B::Eq => Val::Bool(equal(lhs, rhs)),
        B::Ne => Val::Bool(!equal(lhs, rhs)),
        B::Lt => Val::Bool(compare(lhs, rhs)?.is_lt()),
        B::Le => Val::Bool(compare(lhs, rhs)?.is_le()),
        B::Gt => Val::Bool(compare(lhs, rhs)?.is_gt()),
        B::Ge => Val::Bool(compare(lhs, rhs)?.is_ge()),
        B::In => Val::Bool(contains(rhs, lhs)?),
        B::NotIn => Val::Bool(!contains(rhs, lhs)?),
        B::Contains => Val::Bool(contains(lhs, rhs)?),
        B::Add | B::Sub | B::Mul | B::Div => arithmetic(op, lhs, rhs)?,
        B::And | B::Or => return Err(EvalError::Type("a boolean operator")),
    })
}

fn equal(lhs: Val<'_>, rhs: Val<'_>) -> bool {
    match (lhs, rhs) {
        (Val::List(a), Val::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x.as_val(), y.as_val()))
        }
        (a, b) => match (a.to_decimal(), b.to_decimal()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

fn compare(lhs: Val<'_>, rhs: Val<'_>) -> Result<std::cmp::Ordering, EvalError> {
    Ok(match (lhs, rhs) {
        (Val::Int(a), Val::Int(b)) => a.cmp(&b),
        (Val::Str(a), Val::Str(b)) => a.cmp(b),
        (Val::Date(a), Val::Date(b)) => a.cmp(&b),
        (Val::DateTime(a), Val::DateTime(b)) => a.cmp(&b),
        (Val::Duration(a), Val::Duration(b)) => a.cmp(&b),
        (a, b) => match (a.to_decimal(), b.to_decimal()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => return Err(EvalError::Type("a comparison")),
        },
    })
}

fn contains(haystack: Val<'_>, needle: Val<'_>) -> Result<bool, EvalError> {
    match haystack {
        Val::List(items) => Ok(items.iter().any(|item| equal(item.as_val(), needle))),
        Val::Str(text) => match needle {
            Val::Str(part) => Ok(text.contains(part)),
            _ => Err(EvalError::Type("contains")),
        },
        _ => Err(EvalError::Type("contains")),
    }
}

fn arithmetic<'a>(op: BinaryOp, lhs: Val<'a>, rhs: Val<'a>) -> Result<Val<'a>, EvalError> {
    use BinaryOp as B;
    let overflow = EvalError::Overflow;
    Ok(match (op, lhs, rhs) {
        (B::Add, Val::Int(a), Val::Int(b)) => Val::Int(a.checked_add(b).ok_or(overflow)?),
        (B::Sub, Val::Int(a), Val::Int(b)) => Val::Int(a.checked_sub(b).ok_or(overflow)?),
        (B::Mul, Val::Int(a), Val::Int(b)) => Val::Int(a.checked_mul(b).ok_or(overflow)?),
        (B::Add, Val::Duration(a), Val::Duration(b)) => {
            Val::Duration(a.checked_add(b).ok_or(overflow)?)
        }
        (B::Sub, Val::Duration(a), Val::Duration(b)) => {
            Val::Duration(a.checked_sub(b).ok_or(overflow)?)
        }
        (B::Add | B::Sub, Val::DateTime(t), Val::Duration(d)) => {
            let delta = chrono::TimeDelta::try_seconds(if op == B::Add { d } else { -d })
                .ok_or(EvalError::Overflow)?;
            Val::DateTime(t.checked_add_signed(delta).ok_or(overflow)?)
        }
        (B::Add, Val::Duration(d), Val::DateTime(t)) => {
            let delta = chrono::TimeDelta::try_seconds(d).ok_or(EvalError::Overflow)?;
            Val::DateTime(t.checked_add_signed(delta).ok_or(overflow)?)
        }
        (B::Sub, Val::DateTime(a), Val::DateTime(b)) => Val::Duration((a - b).num_seconds()),
        (B::Sub, Val::Date(a), Val::Date(b)) => Val::Duration((a - b).num_seconds()),
        (op, a, b) => {
            let (a, b) = (
                a.to_decimal().ok_or(EvalError::Type("arithmetic"))?,
                b.to_decimal().ok_or(EvalError::Type("arithmetic"))?,
            );
            Val::Decimal(match op {
                B::Add => a.checked_add(b).ok_or(overflow)?,
                B::Sub => a.checked_sub(b).ok_or(overflow)?,
                B::Mul => a.checked_mul(b).ok_or(overflow)?,
                B::Div => {
                    if b.is_zero() {
                        return Err(EvalError::DivisionByZero);
                    }
                    // A quotient carries no meaningful trailing zeros: 7 / 2 is 3.5.
                    a.checked_div(b).ok_or(overflow)?.normalize()
                }
                _ => return Err(EvalError::Type("arithmetic")),
            })
        }
    })
}

pub(crate) fn const_binary(op: BinaryOp, lhs: &Value, rhs: &Value) -> Result<Value, EvalError> {
    binary(op, lhs.as_val(), rhs.as_val()).map(Val::to_owned_value)
}

/// The declared types an input value must have; used by callers validating inputs.
pub fn value_has_type(value: &Value, ty: &Type) -> bool {
    match (value, ty) {
        (Value::Int(_), Type::Int | Type::Decimal) => true,
        (Value::Decimal(_), Type::Decimal) => true,
        (Value::Bool(_), Type::Bool) => true,
        (Value::Str(_), Type::String) => true,
        (Value::Date(_), Type::Date) => true,
        (Value::DateTime(_), Type::DateTime) => true,
        (Value::Duration(_), Type::Duration) => true,
        (Value::List(items), Type::List(element)) => {
            items.iter().all(|item| value_has_type(item, element))
        }
        _ => false,
    }
}
