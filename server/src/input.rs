//! Caller input to engine values: attributes typed by the campaign's declarations.

use rust_decimal::Decimal;
use tombola_grammar::{Type, Value};
use tombola_ir::Campaign;

use crate::ApiError;

pub(crate) fn non_empty(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > 256 {
        return Err(ApiError::BadInput {
            field: field.into(),
            message: "must be 1 to 256 characters".into(),
        });
    }
    Ok(())
}

/// Converts JSON attributes by their declared types; unknown names and wrong types are errors naming the field.
pub(crate) fn attributes(
    campaign: &Campaign,
    given: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(String, Value)>, ApiError> {
    typed(&campaign.inputs.user, given)
}

/// Converts JSON attributes by the declarations `declared` (a user's or an event's).
pub(crate) fn typed(
    declared: &[(String, Type)],
    given: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(String, Value)>, ApiError> {
    let mut out = Vec::with_capacity(given.len());
    for (name, json) in given {
        let field = format!("attributes.{name}");
        let Some((_, ty)) = declared.iter().find(|(n, _)| n == name) else {
            let declared: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ApiError::BadInput {
                field,
                message: format!(
                    "not a declared attribute (declared: {})",
                    declared.join(", ")
                ),
            });
        };
        let value = convert(json, ty).ok_or_else(|| ApiError::BadInput {
            field,
            message: format!("must be {ty}"),
        })?;
        out.push((name.clone(), value));
    }
    Ok(out)
}

/// A JSON value as a value of type `ty`, if it is one.
pub fn convert(json: &serde_json::Value, ty: &Type) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (ty, json) {
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Int, J::Number(n)) => Value::Int(n.as_i64()?),
        // Decimals arrive as strings ("12.50") for exactness, or as JSON numbers read from their text.
        (Type::Decimal, J::String(s)) => Value::Decimal(Decimal::from_str_exact(s).ok()?),
        (Type::Decimal, J::Number(n)) => {
            Value::Decimal(Decimal::from_str_exact(&n.to_string()).ok()?)
        }
        (Type::String, J::String(s)) => Value::Str(s.as_str().into()),
        (Type::Date, J::String(s)) => Value::Date(s.parse().ok()?),
        (Type::DateTime, J::String(s)) => Value::DateTime(s.parse().ok()?),
        (Type::Duration, J::Number(n)) => Value::Duration(n.as_i64()?),
        (Type::List(element), J::Array(items)) => Value::List(
            items
                .iter()
                .map(|i| convert(i, element))
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        _ => return None,
    })
}
