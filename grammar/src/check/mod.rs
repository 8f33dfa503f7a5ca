//! The static type checker: resolves names against a [`Scope`], types every
//! node, folds constants and compiles the result into a [`Program`].

use chrono::{DateTime, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::ast::{Expr, ExprKind, Ident, Span};
use crate::eval::{Code, Env, EvalError, Program, Runtime, Val, Value};
use crate::types::Slot;
use crate::types::{DRAW_COUNTS, FUNCTIONS, Scope, Type, USER_BUILTINS};

mod bounds;
mod call;
mod ops;

pub use bounds::INPUT_DIGITS;

/// What is wrong with an expression, at a span of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub kind: CheckErrorKind,
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    /// For an unknown name, the known name it is closest to: what a quick fix writes.
    pub suggestion: Option<String>,
}

/// The category of a [`CheckError`]; each maps to one diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckErrorKind {
    /// A name that is not in scope.
    UnknownName,
    /// An operand or argument of the wrong type, or a result of the wrong type for its position.
    TypeMismatch,
    /// A function called with the wrong number of arguments.
    Arity,
    /// `random(a, b)` with constant `a > b`.
    EmptyRange,
    /// A constant division by zero or an overflow found while folding constants.
    ConstantFailure,
    /// A list literal whose elements are not constants.
    NonConstantList,
}

/// Checks `expr` against `scope` and compiles it. `zone` reads datetime
/// literals written without an offset and defines "today".
pub fn check(expr: &Expr, scope: &Scope, zone: Tz) -> Result<Program, Vec<CheckError>> {
    let mut checker = Checker {
        scope,
        zone,
        errors: Vec::new(),
        reads: Vec::new(),
    };
    let typed = checker.expr(expr);
    match typed {
        Some((code, ty)) if checker.errors.is_empty() => {
            let mut program = Program {
                source: expr.to_string(),
                code,
                ty,
                zone,
                reads: checker.reads,
                digits: Some(0),
                largest: None,
            };
            bounds::record(&mut program, scope);
            Ok(program)
        }
        _ => Err(checker.errors),
    }
}

/// The closest of `candidates` to `name`, if one is close enough to be a likely typo.
pub fn did_you_mean<'c, I>(name: &str, candidates: I) -> Option<&'c str>
where
    I: IntoIterator<Item = &'c str>,
{
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (name.len().max(candidate.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

struct Checker<'s> {
    scope: &'s Scope,
    zone: Tz,
    errors: Vec<CheckError>,
    reads: Vec<Slot>,
}

type Typed = Option<(Code, Type)>;

impl Checker<'_> {
    fn error(
        &mut self,
        kind: CheckErrorKind,
        span: Span,
        message: String,
        label: String,
        help: Option<String>,
    ) {
        self.errors.push(CheckError {
            kind,
            span,
            message,
            label,
            help,
            suggestion: None,
        });
    }

    fn mismatch(&mut self, span: Span, message: String, label: String) {
        self.error(CheckErrorKind::TypeMismatch, span, message, label, None);
    }

    fn expr(&mut self, expr: &Expr) -> Typed {
        match &expr.kind {
            ExprKind::Int(v) => Some((Code::Const(Value::Int(*v)), Type::Int)),
            ExprKind::Decimal(v) => Some((Code::Const(Value::Decimal(*v)), Type::Decimal)),
            ExprKind::Percent(v) => {
                let value = v.checked_div(Decimal::ONE_HUNDRED)?;
                Some((Code::Const(Value::Decimal(value)), Type::Decimal))
            }
            ExprKind::Str(v) => Some((Code::Const(Value::Str(v.as_str().into())), Type::String)),
            ExprKind::Bool(v) => Some((Code::Const(Value::Bool(*v)), Type::Bool)),
            ExprKind::Date(v) => Some((Code::Const(Value::Date(*v)), Type::Date)),
            ExprKind::DateTime(naive, offset) => {
                let utc = match offset {
                    Some(offset) => offset
                        .from_local_datetime(naive)
                        .single()
                        .map(|t| t.with_timezone(&Utc)),
                    None => match self.zone.from_local_datetime(naive) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            Some(t.with_timezone(&Utc))
                        }
                        LocalResult::None => None,
                    },
                };
                match utc {
                    Some(t) => Some((Code::Const(Value::DateTime(t)), Type::DateTime)),
                    None => {
                        self.mismatch(
                            expr.span,
                            format!("{naive} does not exist in {}", self.zone),
                            "skipped by a clock change".into(),
                        );
                        None
                    }
                }
            }
            ExprKind::Duration(amount, unit) => Some((
                Code::Const(Value::Duration(i64::from(*amount) * unit.seconds())),
                Type::Duration,
            )),
            ExprKind::List(items) => self.list(expr.span, items),
            ExprKind::Path(parts) => self.path(expr.span, parts),
            ExprKind::Call(name, args) => self.call(expr.span, name, args),
            ExprKind::Unary(op, inner) => self.unary(*op, expr.span, inner),
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, expr.span, lhs, rhs),
        }
    }

    fn list(&mut self, span: Span, items: &[Expr]) -> Typed {
        let mut values = Vec::with_capacity(items.len());
        let mut element: Option<Type> = None;
        let mut failed = false;
        for item in items {
            let Some((code, ty)) = self.expr(item) else {
                failed = true;
                continue;
            };
            let Code::Const(value) = code else {
                self.error(
                    CheckErrorKind::NonConstantList,
                    item.span,
                    "list elements must be constants".into(),
                    "this depends on the user or the time".into(),
                    Some("compare with `==` and combine with `or` instead".into()),
                );
                failed = true;
                continue;
            };
            element = match element {
                None => Some(ty),
                Some(seen) if seen == ty => Some(seen),
                Some(seen) if seen.is_numeric() && ty.is_numeric() => Some(Type::Decimal),
                Some(seen) => {
                    self.mismatch(
                        item.span,
                        format!("a list of {seen} cannot hold a {ty}"),
                        format!("this is {ty}"),
                    );
                    failed = true;
                    Some(seen)
                }
            };
            values.push(value);
        }
        if failed {
            return None;
        }
        let ty = match element {
            None => Type::EmptyList,
            Some(Type::Decimal) => {
                for value in &mut values {
                    if let Value::Int(v) = value {
                        *value = Value::Decimal(Decimal::from(*v));
                    }
                }
                Type::List(Box::new(Type::Decimal))
            }
            Some(other) => Type::List(Box::new(other)),
        };
        let _ = span;
        Some((Code::Const(Value::List(values.into())), ty))
    }

    fn read(&mut self, slot: Slot, ty: Type) -> Typed {
        if !self.reads.contains(&slot) {
            self.reads.push(slot);
        }
        Some((Code::Load(slot), ty))
    }

    fn unknown(&mut self, ident: &Ident, what: &str, candidates: &[&str], help: Option<String>) {
        let suggestion = did_you_mean(&ident.name, candidates.iter().copied());
        let help = match suggestion {
            Some(name) => Some(format!("did you mean `{name}`?")),
            None => help.or_else(|| {
                (!candidates.is_empty()).then(|| format!("known names: {}", candidates.join(", ")))
            }),
        };
        self.error(
            CheckErrorKind::UnknownName,
            ident.span,
            format!("unknown {what} `{}`", ident.name),
            "not defined here".into(),
            help,
        );
        if let Some(last) = self.errors.last_mut() {
            last.suggestion = suggestion.map(String::from);
        }
    }

    fn path(&mut self, span: Span, parts: &[Ident]) -> Typed {
        let root = &parts[0];
        match root.name.as_str() {
            "user" => self.user_path(span, parts),
            "event" => self.event_path(span, parts),
            _ => {
                let functions: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
                if parts.len() == 1 && functions.contains(&root.name.as_str()) {
                    self.error(
                        CheckErrorKind::UnknownName,
                        root.span,
                        format!("`{}` is a function", root.name),
                        "not called".into(),
                        Some(format!("call it: `{}(…)`", root.name)),
                    );
                    return None;
                }
                let roots: &[&str] = if self.scope.event.is_some() {
                    &["user", "event"]
                } else {
                    &["user"]
                };
                self.unknown(
                    root,
                    "name",
                    roots,
                    Some("values come from `user.…`, and in rebate flows from `event.…`".into()),
                );
                None
            }
        }
    }

    fn user_path(&mut self, span: Span, parts: &[Ident]) -> Typed {
        let mut names: Vec<&str> = USER_BUILTINS.iter().map(|b| b.0).collect();
        names.push("draws");
        names.extend(
            self.scope
                .user_attributes
                .iter()
                .map(|(name, _)| name.as_str()),
        );
        let Some(field) = parts.get(1) else {
            self.mismatch(
                span,
                "`user` is not a value on its own".into(),
                "name a field".into(),
            );
            self.errors.last_mut().expect("just pushed").help =
                Some(format!("user fields: {}", names.join(", ")));
            return None;
        };
        let too_long = |checker: &mut Self, at: usize| {
            let extra = &parts[at];
            checker.error(
                CheckErrorKind::UnknownName,
                extra.span,
                format!(
                    "`{}` has no field `{}`",
                    parts[..at]
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                    extra.name
                ),
                "no such field".into(),
                None,
            );
            None
        };
        if field.name == "draws" {
            let counts: Vec<&str> = DRAW_COUNTS.iter().map(|c| c.0).collect();
            let Some(count) = parts.get(2) else {
                self.mismatch(
                    span,
                    "`user.draws` is not a value on its own".into(),
                    "name a count".into(),
                );
                self.errors.last_mut().expect("just pushed").help = Some(format!(
                    "counts: {}",
                    counts
                        .iter()
                        .map(|c| format!("user.draws.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return None;
            };
            if parts.len() > 3 {
                return too_long(self, 3);
            }
            return match DRAW_COUNTS.iter().find(|c| c.0 == count.name) {
                Some((_, ty, slot, _)) => self.read(*slot, ty.clone()),
                None => {
                    self.unknown(count, "draw count", &counts, None);
                    None
                }
            };
        }
        if parts.len() > 2 {
            return too_long(self, 2);
        }
        if let Some((_, ty, slot, _)) = USER_BUILTINS.iter().find(|b| b.0 == field.name) {
            return self.read(*slot, ty.clone());
        }
        if let Some(index) = self
            .scope
            .user_attributes
            .iter()
            .position(|(name, _)| *name == field.name)
        {
            let ty = self.scope.user_attributes[index].1.clone();
            return self.read(Slot::UserAttribute(index as u16), ty);
        }
        self.unknown(
            field,
            "user field",
            &names,
            Some("declare user attributes under `inputs.user`".into()),
        );
        None
    }

    fn event_path(&mut self, span: Span, parts: &[Ident]) -> Typed {
        let Some((event, attributes)) = &self.scope.event else {
            self.error(
                CheckErrorKind::UnknownName,
                parts[0].span,
                "`event` is only available in rebate flows".into(),
                "no event here".into(),
                Some("draws read `user.…`; event attributes are read in `rebates`".into()),
            );
            return None;
        };
        let names: Vec<&str> = attributes.iter().map(|(name, _)| name.as_str()).collect();
        let Some(field) = parts.get(1) else {
            self.mismatch(
                span,
                "`event` is not a value on its own".into(),
                "name an attribute".into(),
            );
            return None;
        };
        if parts.len() > 2 {
            self.error(
                CheckErrorKind::UnknownName,
                parts[2].span,
                format!("`event.{}` has no field `{}`", field.name, parts[2].name),
                "no such field".into(),
                None,
            );
            return None;
        }
        match attributes.iter().position(|(name, _)| *name == field.name) {
            Some(index) => {
                let ty = attributes[index].1.clone();
                self.read(Slot::EventAttribute(index as u16), ty)
            }
            None => {
                let event = event.clone();
                self.unknown(
                    field,
                    &format!("attribute of event `{event}`"),
                    &names,
                    Some(format!("declare it under `inputs.events.{event}`")),
                );
                None
            }
        }
    }

    fn constant_failure(&mut self, span: Span, error: &EvalError) {
        self.error(
            CheckErrorKind::ConstantFailure,
            span,
            format!("this always fails: {error}"),
            "fails on every evaluation".into(),
            None,
        );
    }
}

fn comparable(a: &Type, b: &Type) -> bool {
    (a.is_numeric() && b.is_numeric())
        || a == b
        || matches!(
            (a, b),
            (Type::List(_), Type::EmptyList) | (Type::EmptyList, Type::List(_))
        )
}

fn all_const(code: &Code) -> bool {
    match code {
        Code::Call(_, args) => args
            .iter()
            .all(|arg| matches!(arg, Code::Const(_) | Code::ToDecimal(_)) && all_const(arg)),
        Code::ToDecimal(inner) => matches!(**inner, Code::Const(_)),
        Code::Const(_) => true,
        _ => false,
    }
}

/// Evaluates constant code at check time; it reads no input, time or randomness.
fn fold(code: &Code, zone: Tz) -> Result<Value, EvalError> {
    struct NoInputs;
    impl Env for NoInputs {
        fn load(&self, _: Slot) -> Option<Val<'_>> {
            None
        }
    }
    impl Runtime for NoInputs {
        fn now(&self) -> DateTime<Utc> {
            DateTime::UNIX_EPOCH
        }
        fn random_below(&mut self, _: u64) -> u64 {
            0
        }
    }
    let program = Program {
        source: String::new(),
        code: code.clone(),
        ty: Type::Bool,
        zone,
        reads: Vec::new(),
        digits: Some(0),
        largest: None,
    };
    program
        .eval(&NoInputs, &mut NoInputs)
        .map(Val::to_owned_value)
}
