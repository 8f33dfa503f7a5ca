//! The typed syntax tree: every node carries the byte span it was read from.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

/// A byte range in the expression's text, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// An expression node.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A name with its span.
#[derive(Debug, Clone)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// The shape of an expression.
#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(i64),
    Decimal(Decimal),
    /// `30%`: the number as written (30); its value is a hundredth of it.
    Percent(Decimal),
    Str(String),
    Bool(bool),
    Date(NaiveDate),
    /// A datetime literal; without an offset it is read in the campaign's zone.
    DateTime(NaiveDateTime, Option<FixedOffset>),
    Duration(u32, DurationUnit),
    List(Vec<Expr>),
    Path(Vec<Ident>),
    Call(Ident, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

/// The unit of a duration literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Days,
    Hours,
    Minutes,
    Seconds,
}

impl DurationUnit {
    pub fn seconds(self) -> i64 {
        match self {
            DurationUnit::Days => 86_400,
            DurationUnit::Hours => 3_600,
            DurationUnit::Minutes => 60,
            DurationUnit::Seconds => 1,
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            DurationUnit::Days => "d",
            DurationUnit::Hours => "h",
            DurationUnit::Minutes => "m",
            DurationUnit::Seconds => "s",
        }
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Contains,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    /// Binding strength: higher binds tighter. Shared by the parser and the printer.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In
            | BinaryOp::NotIn
            | BinaryOp::Contains => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div => 6,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Contains => "contains",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

impl UnaryOp {
    /// `not` binds looser than comparisons (`not a == b` is `not (a == b)`);
    /// negation binds tighter than everything.
    pub fn precedence(self) -> u8 {
        match self {
            UnaryOp::Not => 3,
            UnaryOp::Neg => 7,
        }
    }
}

impl Expr {
    /// Structural equality that ignores spans: what the print/parse round trip preserves.
    pub fn same_shape(&self, other: &Expr) -> bool {
        use ExprKind as K;
        match (&self.kind, &other.kind) {
            (K::Int(a), K::Int(b)) => a == b,
            (K::Decimal(a), K::Decimal(b)) | (K::Percent(a), K::Percent(b)) => {
                a == b && a.scale() == b.scale()
            }
            (K::Str(a), K::Str(b)) => a == b,
            (K::Bool(a), K::Bool(b)) => a == b,
            (K::Date(a), K::Date(b)) => a == b,
            (K::DateTime(a, x), K::DateTime(b, y)) => a == b && x == y,
            (K::Duration(a, u), K::Duration(b, v)) => a == b && u == v,
            (K::List(a), K::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_shape(y))
            }
            (K::Path(a), K::Path(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.name == y.name)
            }
            (K::Call(f, a), K::Call(g, b)) => {
                f.name == g.name
                    && a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| x.same_shape(y))
            }
            (K::Unary(o, a), K::Unary(p, b)) => o == p && a.same_shape(b),
            (K::Binary(o, a, c), K::Binary(p, b, d)) => {
                o == p && a.same_shape(b) && c.same_shape(d)
            }
            _ => false,
        }
    }
}
