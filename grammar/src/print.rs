//! Prints an AST back to source text, with the fewest parentheses that keep its shape.

use std::fmt;

use crate::ast::{Expr, ExprKind, UnaryOp};

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, 0)
    }
}

fn write_expr(f: &mut fmt::Formatter<'_>, expr: &Expr, context: u8) -> fmt::Result {
    match &expr.kind {
        ExprKind::Int(v) => write!(f, "{v}"),
        ExprKind::Decimal(v) => write!(f, "{v}"),
        ExprKind::Percent(v) => write!(f, "{v}%"),
        ExprKind::Str(v) => {
            f.write_str("\"")?;
            for c in v.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    '\t' => f.write_str("\\t")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")
        }
        ExprKind::Bool(v) => write!(f, "{v}"),
        ExprKind::Date(v) => write!(f, "{}", v.format("%Y-%m-%d")),
        ExprKind::DateTime(v, offset) => {
            write!(f, "{}", v.format("%Y-%m-%dT%H:%M:%S"))?;
            match offset {
                Some(offset) if offset.local_minus_utc() == 0 => f.write_str("Z"),
                Some(offset) => write!(f, "{offset}"),
                None => Ok(()),
            }
        }
        ExprKind::Duration(amount, unit) => write!(f, "{amount}{}", unit.suffix()),
        ExprKind::List(items) => {
            f.write_str("[")?;
            write_list(f, items)?;
            f.write_str("]")
        }
        ExprKind::Path(parts) => {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                f.write_str(&part.name)?;
            }
            Ok(())
        }
        ExprKind::Call(name, args) => {
            write!(f, "{}(", name.name)?;
            write_list(f, args)?;
            f.write_str(")")
        }
        ExprKind::Unary(op, inner) => {
            let precedence = op.precedence();
            let open = precedence < context;
            if open {
                f.write_str("(")?;
            }
            match op {
                UnaryOp::Not => f.write_str("not ")?,
                UnaryOp::Neg => f.write_str("-")?,
            }
            // A negated negative literal must not print as `--`; parenthesise nested prefixes.
            write_expr(f, inner, precedence + 1)?;
            if open {
                f.write_str(")")?;
            }
            Ok(())
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let precedence = op.precedence();
            let open = precedence < context;
            if open {
                f.write_str("(")?;
            }
            // Left-associative: the left operand may share the precedence, the right may not.
            write_expr(f, lhs, precedence)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, rhs, precedence + 1)?;
            if open {
                f.write_str(")")?;
            }
            Ok(())
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_expr(f, item, 0)?;
    }
    Ok(())
}
