//! What the checker can tell of a number before any input arrives: how many
//! fractional digits it can carry, and how large it gets for telling inputs.
//! Positions that hold money (credits counted in hundredths, a balance limit)
//! refuse from these what would fail at run time.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ast::BinaryOp;
use crate::eval::{Code, Env, EvalError, Program, Runtime, Val, Value};
use crate::types::Slot;
use crate::types::{DRAW_COUNTS, Function, Scope, Type, USER_BUILTINS};

/// The fractional digits a decimal input is taken to carry. Inputs declare a
/// type but no precision, and the decimals campaigns read (a payment, a
/// spend, a balance) are money, which has two.
pub const INPUT_DIGITS: u32 = 2;

/// The declared type of what `slot` reads in `scope`.
fn slot_type(slot: Slot, scope: &Scope) -> Option<&Type> {
    let builtin = |table: &'static [(&str, Type, Slot, &str)]| {
        table
            .iter()
            .find(|(_, _, s, _)| *s == slot)
            .map(|(_, ty, _, _)| ty)
    };
    match slot {
        Slot::UserAttribute(i) => scope.user_attributes.get(usize::from(i)).map(|(_, ty)| ty),
        Slot::EventAttribute(i) => scope
            .event
            .as_ref()
            .and_then(|(_, attributes)| attributes.get(usize::from(i)))
            .map(|(_, ty)| ty),
        _ => builtin(USER_BUILTINS).or_else(|| builtin(DRAW_COUNTS)),
    }
}

/// The most fractional digits `code` can give (after trailing zeros are
/// dropped), or `None` when nothing bounds them: a quotient `a / b` can have
/// any number unless it is rounded. Values that are not numbers count 0.
pub(super) fn digits(code: &Code, scope: &Scope) -> Option<u32> {
    match code {
        Code::Const(value) => Some(constant_digits(value)),
        Code::Load(slot) => Some(match slot_type(*slot, scope) {
            Some(Type::Decimal) => INPUT_DIGITS,
            _ => 0,
        }),
        Code::Not(_) | Code::And(..) | Code::Or(..) => Some(0),
        Code::Neg(inner) | Code::ToDecimal(inner) => digits(inner, scope),
        Code::Binary(op, lhs, rhs) => match op {
            BinaryOp::Add | BinaryOp::Sub => Some(digits(lhs, scope)?.max(digits(rhs, scope)?)),
            BinaryOp::Mul => digits(lhs, scope)?.checked_add(digits(rhs, scope)?),
            BinaryOp::Div => None,
            // Comparisons and membership give a bool.
            _ => Some(0),
        },
        Code::Call(function, args) => call_digits(*function, args, scope),
    }
}

fn constant_digits(value: &Value) -> u32 {
    match value {
        Value::Decimal(v) => v.normalize().scale(),
        _ => 0,
    }
}

fn call_digits(function: Function, args: &[Code], scope: &Scope) -> Option<u32> {
    match function {
        // `random` draws at the finer of its bounds' scales as written: 2.00 counts 2.
        Function::Random => args.iter().try_fold(0, |most, arg| {
            let scale = match arg {
                Code::Const(Value::Decimal(v)) => v.scale(),
                other => digits(other, scope)?,
            };
            Some(most.max(scale))
        }),
        Function::Min | Function::Max => args
            .iter()
            .try_fold(0, |most, arg| Some(most.max(digits(arg, scope)?))),
        Function::Abs => digits(&args[0], scope),
        Function::Round => match args.get(1) {
            None => Some(0),
            // Rounding never adds digits, and leaves at most `n`.
            Some(Code::Const(Value::Int(n))) => {
                let n = u32::try_from(*n).unwrap_or(0);
                Some(digits(&args[0], scope).map_or(n, |inner| inner.min(n)))
            }
            Some(_) => digits(&args[0], scope),
        },
        Function::Len | Function::DayOfWeek | Function::Now | Function::Today => Some(0),
    }
}

/// The largest magnitude `program` reaches for the telling inputs: every
/// number it reads at 1 (a user who drew once, a payment of 1) and every
/// `random` at its lower, then its upper bound. `Decimal::MAX` stands for an
/// overflow. `None` when the program reads something other than a number, or
/// fails for those inputs. Whatever it finds is certain to happen for some
/// input, so a limit can refuse it without a false alarm.
pub(super) fn largest_probe(program: &Program, scope: &Scope) -> Option<Decimal> {
    [Pick::Lowest, Pick::Highest]
        .into_iter()
        .filter_map(|pick| {
            let probe = Probe { scope, pick };
            match program.eval(&probe, &mut probe.clone()) {
                Ok(value) => value.to_decimal().map(|v| v.abs()),
                Err(EvalError::Overflow) => Some(Decimal::MAX),
                Err(_) => None,
            }
        })
        .max()
}

#[derive(Debug, Clone, Copy)]
enum Pick {
    Lowest,
    Highest,
}

/// Inputs at 1, a clock stopped at the epoch, `random` at one end.
#[derive(Clone)]
struct Probe<'s> {
    scope: &'s Scope,
    pick: Pick,
}

impl Env for Probe<'_> {
    fn load(&self, slot: Slot) -> Option<Val<'_>> {
        match slot_type(slot, self.scope)? {
            Type::Int => Some(Val::Int(1)),
            Type::Decimal => Some(Val::Decimal(Decimal::ONE)),
            _ => None,
        }
    }
}

impl Runtime for Probe<'_> {
    fn now(&self) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }

    fn random_below(&mut self, bound: u64) -> u64 {
        match self.pick {
            Pick::Lowest => 0,
            Pick::Highest => bound - 1,
        }
    }
}

/// Records what the checker can tell of a numeric program, once, when it is checked.
pub(super) fn record(program: &mut Program, scope: &Scope) {
    if program.ty.is_numeric() {
        program.digits = digits(&program.code, scope);
        program.largest = largest_probe(program, scope);
    }
}
