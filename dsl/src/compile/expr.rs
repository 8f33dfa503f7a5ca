//! Expressions in the file: parsed and type-checked against what their
//! position may read, and held to what the position wants (a condition is a
//! bool, an amount is never negative, credits are held to hundredths and the
//! balance limit).

use tombola_grammar::{CheckError, CheckErrorKind, ParseError, Program, Scope, Span, Type};

use super::{Context, Findings, Want, credits};
use crate::diagnostic::{Code, Diagnostic, Fix};
use crate::model::ExprText;

/// Checks one expression; `what` names its position in messages.
pub(super) fn program(
    cx: &Context<'_>,
    out: &mut Findings<'_>,
    expr: &ExprText,
    scope: &Scope,
    want: Want,
    what: &str,
) -> Option<Program> {
    let parsed = match tombola_grammar::parse(&expr.text) {
        Ok(parsed) => parsed,
        Err(error) => {
            out.push(parse_error(expr, &error, what));
            return None;
        }
    };
    let program = match tombola_grammar::check(&parsed, scope, cx.zone) {
        Ok(program) => program,
        Err(errors) => {
            check_errors(cx, out, expr, errors, what);
            return None;
        }
    };
    let diagnostic =
        type_fit(expr, &program, want, what).or_else(|| amount_bounds(expr, &program, want, what));
    match diagnostic {
        Some(diagnostic) => {
            out.push(diagnostic);
            None
        }
        None => Some(program),
    }
}

fn parse_error(expr: &ExprText, error: &ParseError, what: &str) -> Diagnostic {
    let code = if error.kind.is_limit() {
        Code::ExprLimits
    } else {
        Code::ExprSyntax
    };
    // The parser only sees the text end early ("expected an operator");
    // the mistake a person fixes is the bracket left open.
    if let (Code::ExprSyntax, Some((at, open))) = (code, unclosed_bracket(&expr.text)) {
        let close = if open == '(' { ')' } else { ']' };
        return Diagnostic::new(
            Code::ExprSyntax,
            expr.file_span(Span::new(at, at + 1)),
            format!("{what}: `{open}` is never closed"),
        )
        .label(format!("opened here, no `{close}` follows"))
        .help(format!("add the missing `{close}`"));
    }
    Diagnostic::new(
        code,
        expr.file_span(error.span),
        format!("{what}: {}", error.message),
    )
    .label("here")
    .maybe_help(error.help.clone())
}

fn check_errors(
    cx: &Context<'_>,
    out: &mut Findings<'_>,
    expr: &ExprText,
    errors: Vec<CheckError>,
    what: &str,
) {
    for error in errors {
        let name = expr.text.get(error.span.start..error.span.end);
        // An input whose declared type was reported: reading it is not a second mistake.
        if error.kind == CheckErrorKind::UnknownName
            && name.is_some_and(|name| cx.inputs.untyped.contains(name))
        {
            continue;
        }
        let code = match error.kind {
            CheckErrorKind::UnknownName => Code::UnknownName,
            CheckErrorKind::TypeMismatch => Code::TypeMismatch,
            CheckErrorKind::Arity => Code::Arity,
            CheckErrorKind::EmptyRange => Code::EmptyRandom,
            CheckErrorKind::NonConstantList => Code::NonConstantList,
            _ => Code::AlwaysFails,
        };
        out.push(
            Diagnostic::new(
                code,
                expr.file_span(error.span),
                format!("{what}: {}", error.message),
            )
            .label(error.label)
            .maybe_help(error.help)
            .maybe_fix(suggested(expr, error.span, error.suggestion)),
        );
    }
}

/// The name a did-you-mean suggests, written over the unknown one, where the
/// expression's text is the file's (a block scalar's is not).
fn suggested(expr: &ExprText, span: Span, suggestion: Option<String>) -> Option<Fix> {
    let suggestion = suggestion?;
    expr.base?;
    Some(Fix::replace(expr.file_span(span), suggestion))
}

/// The expression's type against the position's.
fn type_fit(expr: &ExprText, program: &Program, want: Want, what: &str) -> Option<Diagnostic> {
    let ty = program.ty();
    let fits = match want {
        Want::Bool => *ty == Type::Bool,
        Want::Int => *ty == Type::Int,
        Want::Credits => ty.is_numeric(),
    };
    if fits {
        return None;
    }
    let (wanted, help) = match want {
        Want::Bool => (
            "true or false (bool)",
            "compare or test the value, e.g. `user.draws.total >= 10` or `user.vip`",
        ),
        Want::Int => (
            "a whole number (int)",
            "use a whole number, e.g. `5`, `random(1, 3)` or `user.draws.total`",
        ),
        Want::Credits => (
            "a number",
            "use a number, e.g. `10`, `random(1, 100)` or `event.amount * 5%`",
        ),
    };
    Some(
        Diagnostic::new(
            Code::TypeMismatch,
            expr.text_span(),
            format!("{what} must be {wanted}, found {ty}"),
        )
        .label(format!("this is {ty}"))
        .help(help),
    )
}

/// Amounts are never negative, and credits are held to [`credits`].
fn amount_bounds(expr: &ExprText, program: &Program, want: Want, what: &str) -> Option<Diagnostic> {
    if matches!(want, Want::Credits | Want::Int)
        && let Some(low) = program.lower_bound()
        && low.is_sign_negative()
        && !low.is_zero()
    {
        return Some(
            Diagnostic::new(
                Code::NegativeAmount,
                expr.text_span(),
                format!("{what} can be negative: its lowest value is {low}"),
            )
            .label("may go below zero")
            .help("amounts are zero or more: raise the lower bound to 0 or above"),
        );
    }
    if want == Want::Credits {
        return credits::expression(expr, program, what);
    }
    None
}

/// The first bracket of `text` left open at its end, outside string literals,
/// with its byte offset.
fn unclosed_bracket(text: &str) -> Option<(usize, char)> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' => open.push((at, c)),
            // A stray closer is a different mistake; leave it to the parser.
            ')' | ']' => {
                open.pop()?;
            }
            _ => {}
        }
    }
    open.first().copied()
}
