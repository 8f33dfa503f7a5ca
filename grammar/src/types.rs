//! Types of the expression language and the scope a position may read.

use std::fmt;

/// Where a path reads from; resolved once, at check time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    UserId,
    UserCredits,
    /// Completed draws today (campaign zone), before the current one.
    DrawsToday,
    /// Completed draws this calendar month (campaign zone), before the current one.
    DrawsMonth,
    /// Completed draws in this campaign, before the current one.
    DrawsTotal,
    /// Draws the user may still make (entitlement minus draws made).
    DrawsLeft,
    /// A declared user attribute, by its index in the declaration.
    UserAttribute(u16),
    /// An attribute of the rebate flow's event, by its index in the declaration.
    EventAttribute(u16),
}

/// A static type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Decimal,
    Bool,
    String,
    Date,
    DateTime,
    Duration,
    List(Box<Type>),
    /// The type of `[]`: a list whose elements are not known yet.
    EmptyList,
}

impl Type {
    /// Parses a declared type: `int`, `decimal`, `bool`, `string`, `date`,
    /// `datetime`, `duration` or `list<T>`.
    pub fn parse(text: &str) -> Option<Type> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            return match Type::parse(inner)? {
                Type::List(_) => None,
                element => Some(Type::List(Box::new(element))),
            };
        }
        Some(match text {
            "int" => Type::Int,
            "decimal" => Type::Decimal,
            "bool" => Type::Bool,
            "string" => Type::String,
            "date" => Type::Date,
            "datetime" => Type::DateTime,
            "duration" => Type::Duration,
            _ => return None,
        })
    }

    /// The names [`Type::parse`] accepts, for did-you-mean and docs.
    pub const NAMES: &'static [&'static str] = &[
        "int",
        "decimal",
        "bool",
        "string",
        "date",
        "datetime",
        "duration",
        "list<string>",
        "list<int>",
        "list<decimal>",
    ];

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal)
    }
}

impl serde::Serialize for Type {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Decimal => f.write_str("decimal"),
            Type::Bool => f.write_str("bool"),
            Type::String => f.write_str("string"),
            Type::Date => f.write_str("date"),
            Type::DateTime => f.write_str("datetime"),
            Type::Duration => f.write_str("duration"),
            Type::List(element) => write!(f, "list<{element}>"),
            Type::EmptyList => f.write_str("list"),
        }
    }
}

/// What an expression at some position of a campaign may read: the built-in
/// `user.*` names, the user attributes the file declares and, inside a rebate
/// flow, the attributes of its event.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub user_attributes: Vec<(String, Type)>,
    /// `Some` inside a rebate flow: the event's name and declared attributes.
    pub event: Option<(String, Vec<(String, Type)>)>,
}

/// Names under `user.` that every campaign has: name, type, slot, meaning
/// (the docs' table of names and editors' hovers are made from this).
pub const USER_BUILTINS: &[(&str, Type, Slot, &str)] = &[
    ("id", Type::String, Slot::UserId, "the user's id"),
    (
        "credits",
        Type::Decimal,
        Slot::UserCredits,
        "the user's credit balance",
    ),
];

/// Names under `user.draws.`: completed draws before the current one.
pub const DRAW_COUNTS: &[(&str, Type, Slot, &str)] = &[
    (
        "today",
        Type::Int,
        Slot::DrawsToday,
        "completed draws today (campaign zone), before this one",
    ),
    (
        "month",
        Type::Int,
        Slot::DrawsMonth,
        "completed draws this calendar month",
    ),
    (
        "total",
        Type::Int,
        Slot::DrawsTotal,
        "completed draws in this campaign",
    ),
    (
        "left",
        Type::Int,
        Slot::DrawsLeft,
        "draws the user may still make",
    ),
];

impl Scope {
    /// The scope of draw-time positions (chain, trees, award amounts).
    pub fn draw(user_attributes: Vec<(String, Type)>) -> Scope {
        Scope {
            user_attributes,
            event: None,
        }
    }

    /// The scope inside a rebate flow on `event`.
    pub fn rebate(
        user_attributes: Vec<(String, Type)>,
        event: String,
        attributes: Vec<(String, Type)>,
    ) -> Scope {
        Scope {
            user_attributes,
            event: Some((event, attributes)),
        }
    }
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Random,
    Min,
    Max,
    Round,
    Abs,
    Now,
    Today,
    DayOfWeek,
    Len,
}

/// Every built-in function: name, signature, meaning. The docs table is made from this.
pub const FUNCTIONS: &[(&str, Function, &str, &str)] = &[
    (
        "random",
        Function::Random,
        "random(a, b)",
        "uniform and inclusive at both ends: an int when both bounds are ints, else a decimal at the bounds' precision",
    ),
    (
        "min",
        Function::Min,
        "min(a, b, …)",
        "the least of two or more numbers",
    ),
    (
        "max",
        Function::Max,
        "max(a, b, …)",
        "the greatest of two or more numbers",
    ),
    (
        "round",
        Function::Round,
        "round(x[, digits])",
        "rounds half away from zero to `digits` fractional digits (default 0)",
    ),
    ("abs", Function::Abs, "abs(x)", "the absolute value"),
    ("now", Function::Now, "now()", "the current date and time"),
    (
        "today",
        Function::Today,
        "today()",
        "the current date in the campaign's zone",
    ),
    (
        "day_of_week",
        Function::DayOfWeek,
        "day_of_week([date])",
        "1 (Monday) to 7 (Sunday), of today in the campaign's zone or of the given date",
    ),
    (
        "len",
        Function::Len,
        "len(list)",
        "the number of elements of a list",
    ),
];
