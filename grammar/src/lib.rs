//! The tombola expression language: parsing to a typed AST with byte spans,
//! static type checking against what a position may read, and compilation to
//! a form that evaluates without allocating.
//!
//! ```
//! use tombola_grammar::{parse, Scope, Type};
//! let expr = parse("user.draws.total >= 3 and user.vip").unwrap();
//! let scope = Scope::draw(vec![("vip".into(), Type::Bool)]);
//! let program = tombola_grammar::check(&expr, &scope, chrono_tz::UTC).unwrap();
//! assert_eq!(program.ty(), &Type::Bool);
//! ```

mod ast;
mod check;
mod eval;
mod parser;
mod print;
mod types;

pub use ast::{BinaryOp, DurationUnit, Expr, ExprKind, Ident, Span, UnaryOp};
pub use check::{CheckError, CheckErrorKind, INPUT_DIGITS, check, did_you_mean};
pub use eval::{Env, EvalError, Program, Runtime, Val, Value, value_has_type};
pub use parser::{MAX_DEPTH, MAX_LEN, ParseError, ParseErrorKind, parse};
pub use types::{DRAW_COUNTS, FUNCTIONS, Function, Scope, Slot, Type, USER_BUILTINS};
