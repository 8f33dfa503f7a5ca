//! Evaluating arithmetic and comparisons allocates nothing: the compiled form
//! works on `Copy` values and borrowed inputs.

use chrono::{DateTime, Utc};
use tombola_grammar::{Env, Runtime, Scope, Slot, Type, Val, Value, check, parse};

struct Inputs(Vec<Value>);

impl Env for Inputs {
    fn load(&self, slot: Slot) -> Option<Val<'_>> {
        match slot {
            Slot::DrawsTotal => Some(Val::Int(7)),
            Slot::UserCredits => Some(Val::Decimal(rust_decimal::Decimal::new(1250, 2))),
            Slot::UserAttribute(i) => self.0.get(usize::from(i)).map(Value::as_val),
            _ => None,
        }
    }
}

struct Clock;

impl Runtime for Clock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }
    fn random_below(&mut self, bound: u64) -> u64 {
        bound / 2
    }
}

#[test]
fn evaluation_does_not_allocate() {
    let scope = Scope::draw(vec![
        ("vip".into(), Type::Bool),
        ("tags".into(), Type::List(Box::new(Type::String))),
    ]);
    let inputs = Inputs(vec![
        Value::Bool(true),
        Value::List(vec![Value::Str("gold".into())].into()),
    ]);
    let sources = [
        "user.draws.total * 3 + 1 >= 20 and user.credits / 2 > 6.1 or not user.vip",
        "round(user.credits * 5%, 2) + min(user.draws.total, 3) - abs(-2) == 1.63",
        "random(1, 100) + random(0.50, 2.00) > 0",
        "\"gold\" in user.tags and user.tags contains \"gold\" and user.draws.total in [1, 7, 9]",
    ];
    let programs: Vec<_> = sources
        .iter()
        .map(|s| check(&parse(s).unwrap(), &scope, chrono_tz::UTC).unwrap())
        .collect();
    let mut results = Vec::with_capacity(programs.len());
    let info = allocation_counter::measure(|| {
        for program in &programs {
            results.push(program.eval_bool(&inputs, &mut Clock).unwrap());
        }
    });
    assert_eq!(results, [true, true, true, true]);
    assert_eq!(info.count_total, 0, "evaluation allocated: {info:?}");
}

#[test]
fn the_counter_sees_allocations() {
    // The test above means something only if the counter counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert!(info.count_total >= 1);
}
