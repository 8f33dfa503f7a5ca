//! The static type checker: resolves names against a [`Scope`], types every
//! node, folds constants and compiles the result into a [`Program`].

use chrono::{DateTime, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Span, UnaryOp};
use crate::eval::{Code, Env, EvalError, Program, Runtime, Slot, Val, Value, const_binary};
use crate::types::{DRAW_COUNTS, FUNCTIONS, Function, Scope, Type, USER_BUILTINS};

/// What is wrong with an expression, at a span of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub kind: CheckErrorKind,
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
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
        Some((code, ty)) if checker.errors.is_empty() => Ok(Program {
            source: expr.to_string(),
            code,
            ty,
            zone,
            reads: checker.reads,
        }),
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
                Some((_, ty, slot)) => self.read(*slot, ty.clone()),
                None => {
                    self.unknown(count, "draw count", &counts, None);
                    None
                }
            };
        }
        if parts.len() > 2 {
            return too_long(self, 2);
        }
        if let Some((_, ty, slot)) = USER_BUILTINS.iter().find(|b| b.0 == field.name) {
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

    fn unary(&mut self, op: UnaryOp, span: Span, inner: &Expr) -> Typed {
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

    fn binary(&mut self, op: BinaryOp, span: Span, lhs: &Expr, rhs: &Expr) -> Typed {
        let left = self.expr(lhs);
        let right = self.expr(rhs);
        let ((lcode, lty), (rcode, rty)) = (left?, right?);
        use BinaryOp as B;
        let result = match op {
            B::And | B::Or => {
                let mut ok = true;
                for (ty, side) in [(&lty, lhs), (&rty, rhs)] {
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
                    B::And => Code::And(Box::new(lcode), Box::new(rcode)),
                    _ => Code::Or(Box::new(lcode), Box::new(rcode)),
                };
                return Some((fold_logic(code), Type::Bool));
            }
            B::Eq | B::Ne => {
                if !(comparable(&lty, &rty)) {
                    self.mismatch(
                        rhs.span,
                        format!("cannot compare {lty} with {rty}"),
                        format!("this is {rty}, the left side is {lty}"),
                    );
                    return None;
                }
                Type::Bool
            }
            B::Lt | B::Le | B::Gt | B::Ge => {
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
                if !orderable(&lty) {
                    self.mismatch(
                        lhs.span,
                        format!("`{}` cannot order {lty} values", op.symbol()),
                        format!("this is {lty}"),
                    );
                    return None;
                }
                if !comparable(&lty, &rty) {
                    self.mismatch(
                        rhs.span,
                        format!("cannot compare {lty} with {rty}"),
                        format!("this is {rty}, the left side is {lty}"),
                    );
                    return None;
                }
                Type::Bool
            }
            B::In | B::NotIn => {
                match &rty {
                    Type::EmptyList => {}
                    Type::List(element) if comparable(&lty, element) => {}
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
                Type::Bool
            }
            B::Contains => {
                match &lty {
                    Type::EmptyList => {}
                    Type::List(element) if comparable(element, &rty) => {}
                    Type::List(element) => {
                        self.mismatch(
                            rhs.span,
                            format!("a list<{element}> never contains a {rty}"),
                            format!("this is {rty}"),
                        );
                        return None;
                    }
                    Type::String if rty == Type::String => {}
                    other => {
                        self.mismatch(
                            lhs.span,
                            format!(
                                "`contains` needs a list or a string on its left, found {other}"
                            ),
                            format!("this is {other}"),
                        );
                        return None;
                    }
                }
                Type::Bool
            }
            B::Add | B::Sub | B::Mul | B::Div => match (op, &lty, &rty) {
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
                    let (side, ty) = if lty.is_numeric()
                        || matches!(lty, Type::DateTime | Type::Duration | Type::Date)
                    {
                        (rhs, &rty)
                    } else {
                        (lhs, &lty)
                    };
                    self.mismatch(
                        side.span,
                        format!("`{}` cannot combine {lty} and {rty}", op.symbol()),
                        format!("this is {ty}"),
                    );
                    self.errors.last_mut().expect("just pushed").help = Some(match op {
                        B::Add | B::Sub => {
                            "`+` and `-` take numbers, or a datetime and a duration".into()
                        }
                        _ => format!("`{}` takes numbers", op.symbol()),
                    });
                    return None;
                }
            },
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

    fn constant_failure(&mut self, span: Span, error: &EvalError) {
        self.error(
            CheckErrorKind::ConstantFailure,
            span,
            format!("this always fails: {error}"),
            "fails on every evaluation".into(),
            None,
        );
    }

    fn call(&mut self, span: Span, name: &Ident, args: &[Expr]) -> Typed {
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
        let need_number = |checker: &mut Self, index: usize| -> bool {
            let ty = &typed[index].1;
            if ty.is_numeric() {
                true
            } else {
                checker.mismatch(
                    args[index].span,
                    format!("`{}` needs a number, found {ty}", name.name),
                    format!("this is {ty}"),
                );
                false
            }
        };
        let ty = match function {
            Function::Random | Function::Min | Function::Max => {
                let mut ok = true;
                for index in 0..typed.len() {
                    ok &= need_number(self, index);
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
                if !need_number(self, 0) {
                    return None;
                }
                if typed.len() == 2 {
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
                } else {
                    Type::Int
                }
            }
            Function::Abs => {
                if !need_number(self, 0) {
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
        };
        if function == Function::Random
            && let (Code::Const(lo), Code::Const(hi)) = (&typed[0].0, &typed[1].0)
        {
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
                return None;
            }
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
    };
    program
        .eval(&NoInputs, &mut NoInputs)
        .map(Val::to_owned_value)
}
