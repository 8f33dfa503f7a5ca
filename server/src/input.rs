//! Caller input to engine values: identifiers, free text, amounts and page
//! sizes checked, attributes typed by the campaign's declarations; and the
//! schemas that state those same rules in the OpenAPI document.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use tombola_engine::limits::{self, MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTE_ITEMS, MAX_TEXT_CHARS};
use tombola_grammar::{Type, Value};
use tombola_ir::Campaign;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type as SchemaType};

use crate::ApiError;

/// The schema of every identifier, in a body or a path: the rule of
/// [`identifier`] as `minLength`, `maxLength` and a `pattern` built from it.
#[derive(Debug)]
pub(crate) struct Identifier;

impl utoipa::PartialSchema for Identifier {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::String)
            .min_length(Some(1))
            .max_length(Some(limits::MAX_ID_CHARS))
            .pattern(Some(limits::identifier_pattern()))
            .description(Some(
                "1 to 256 Unicode scalar values, none a control or format character \
                 (categories Cc and Cf); compared byte for byte, never trimmed. \
                 The pattern writes characters beyond U+FFFF as themselves.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Identifier {
    fn name() -> Cow<'static, str> {
        "Identifier".into()
    }
}

/// The schema of free text, e.g. an adjustment's reason ([`text`]).
#[derive(Debug)]
pub(crate) struct Text;

impl utoipa::PartialSchema for Text {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TEXT_CHARS))
            .pattern(Some(limits::text_pattern()))
            .description(Some(
                "1 to 1,000 Unicode scalar values, not all white space or format characters \
                 (category Cf: zero-width spaces, joiners, direction marks), no control \
                 character but tab and newline, and no bidirectional embedding, override \
                 or isolate (U+202A to U+202E, U+2066 to U+2069).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Text {
    fn name() -> Cow<'static, str> {
        "Text".into()
    }
}

/// A signed amount of credits the caller gives: not zero, at most two
/// fractional digits, within ±[`tombola_ir::MAX_CREDITS`], written without
/// leading zeros, a plus sign or an exponent. [`amount`] holds a string to the
/// shape; the engine holds the value to zero and the limit; this pattern says
/// all three at once.
const AMOUNT_PATTERN: &str =
    r"^-?(?:[1-9][0-9]{0,11}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?)|1000000000000(?:\.00?)?)$";

/// The schema of an amount of credits ([`amount`]).
#[derive(Debug)]
pub(crate) struct Amount;

impl utoipa::PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::String)
            .pattern(Some(AMOUNT_PATTERN))
            .description(Some(
                "Signed credits, exact, as a string: not zero, at most 2 fractional digits, \
                 within ±1,000,000,000,000: `\"25\"`, `\"-10.50\"`.",
            ))
            .examples(["25", "-10.50"])
            .into()
    }
}

impl utoipa::ToSchema for Amount {
    fn name() -> Cow<'static, str> {
        "Amount".into()
    }
}

/// An amount of credits as a decimal, if it has the documented shape: an
/// optional `-`, digits without a leading zero, and at most two fractional
/// digits. Zero and the limit are the engine's to refuse.
pub(crate) fn amount(field: &str, value: &str) -> Result<Decimal, ApiError> {
    let amount = credits(field, value)?;
    if amount.is_zero() {
        return Err(ApiError::BadInput {
            field: field.into(),
            message: "must not be zero".into(),
        });
    }
    Ok(amount)
}

/// A balance a dry run starts from: an [`amount`] that may be zero but not
/// below it.
pub(crate) fn balance(field: &str, value: &str) -> Result<Decimal, ApiError> {
    let balance = credits(field, value)?;
    if balance.is_sign_negative() && !balance.is_zero() {
        return Err(ApiError::BadInput {
            field: field.into(),
            message: format!("{balance} is below zero; a balance cannot be"),
        });
    }
    Ok(balance)
}

/// Credits as written: the shape of an [`amount`], within the limit.
fn credits(field: &str, value: &str) -> Result<Decimal, ApiError> {
    let refuse = |message: String| ApiError::BadInput {
        field: field.into(),
        message,
    };
    let amount = exact_decimal(value).ok_or_else(|| {
        refuse(format!(
            "must be a decimal string with at most 2 fractional digits, like \"-10.50\", not {value:?}"
        ))
    })?;
    // As written: "5.500" says more than the two digits credits carry.
    if amount.scale() > 2 {
        return Err(refuse(format!(
            "{amount} has more than 2 fractional digits"
        )));
    }
    if amount.abs() > tombola_ir::MAX_CREDITS {
        return Err(refuse(format!(
            "{amount} is beyond the limit of {} credits either way",
            tombola_ir::MAX_CREDITS
        )));
    }
    Ok(amount)
}

/// A page size from the query: `default` when absent, else 1 to `max`, so a
/// caller learns of a value the server would otherwise quietly change.
pub(crate) fn page_limit(given: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match given {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::BadInput {
            field: "limit".into(),
            message: format!("must be 1 to {max}, not {limit}"),
        }),
    }
}

/// A query value that must be one of an enum's names (`period`, `state`): the
/// enum read from it, or `invalid-input` naming `field`.
pub(crate) fn one_of<T: serde::de::DeserializeOwned>(
    field: &str,
    value: &str,
    names: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.into())).map_err(|_| {
        ApiError::BadInput {
            field: field.into(),
            message: format!("must be {names}"),
        }
    })
}

/// Checks an identifier in a body or a path (`field` names it in the error):
/// the one rule of [`limits::check_identifier`], on every store.
pub(crate) fn identifier(field: &str, value: &str) -> Result<(), ApiError> {
    limits::check_identifier(value).map_err(|message| ApiError::BadInput {
        field: field.into(),
        message,
    })
}

/// A random seed as JSON carries it: a string of decimal digits, so a
/// JavaScript client keeps all 64 bits; no sign, no leading zero.
pub(crate) fn seed(field: &str, digits: &str) -> Result<u64, ApiError> {
    canonical_number(digits).ok_or_else(|| ApiError::BadInput {
        field: field.into(),
        message: format!(
            "a seed is the decimal digits of a number from 0 to {}, with no sign or leading zero",
            u64::MAX
        ),
    })
}

/// `digits` as a number if it is written the one way: decimal digits, no
/// sign, no leading zero (`"0"` itself is one), within `T`.
fn canonical_number<T: std::str::FromStr>(digits: &str) -> Option<T> {
    let canonical = digits == "0" || (!digits.starts_with('0') && !digits.is_empty());
    (canonical && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Deserializes a path's version number (`/versions/{version}`): written the
/// one way [`canonical_number`] takes, so `/versions/01` and `/versions/+1`
/// are not a second address of version 1.
pub(crate) fn version_segment<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    let segment = String::deserialize(deserializer)?;
    canonical_number(&segment)
        .filter(|version| *version >= 1)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "a version is a number from 1 to 2^63 - 1 written in digits with no sign or \
                 leading zero, like 3, not {segment:?}"
            ))
        })
}

/// A JSON number as a whole number, as JSON Schema's `integer` counts them:
/// `77` and `77.0` alike, since a client's encoder may write either; else
/// why not. A fraction is not one, nor a float from 2^53 up, where it may no
/// longer be the number the client wrote (2^53 + 1 reads as 2^53). A fraction
/// within a float's precision of a whole number (`1.0000000000000001`) reads
/// as that number: the float is all JSON parsing keeps.
pub(crate) fn whole_number(number: &serde_json::Number) -> Result<i64, String> {
    /// Every whole float below this magnitude is the number written.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if let Some(whole) = number.as_i64() {
        return Ok(whole);
    }
    let out_of_range = || format!("{number} is out of range");
    if number.is_u64() {
        return Err(out_of_range());
    }
    let float = number.as_f64().ok_or_else(out_of_range)?;
    if float.fract() != 0.0 {
        return Err(format!("expected a whole number, not {number}"));
    }
    if float.abs() >= EXACT {
        return Err(format!(
            "{number} is out of range for a number written with a fraction or an exponent \
             (below 2^53); write it in digits alone"
        ));
    }
    // Exact: the value is whole and below 2^53, so the cast loses nothing.
    #[allow(clippy::cast_possible_truncation)]
    Ok(float as i64)
}

/// Deserializes a body's integer field through [`whole_number`], into any
/// integer type that holds it: `#[serde(deserialize_with = "input::whole")]`.
pub(crate) fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = whole_number(&number).map_err(D::Error::custom)?;
    T::try_from(whole).map_err(|_| D::Error::custom(format!("{whole} is out of range")))
}

/// Checks free text, e.g. an adjustment's reason ([`limits::check_text`]).
pub(crate) fn text(field: &str, value: &str) -> Result<(), ApiError> {
    limits::check_text(value).map_err(|message| ApiError::BadInput {
        field: field.into(),
        message,
    })
}

/// A body's `attributes`: a JSON object, with the first name it repeats, if it
/// repeats one — serde_json would keep the last, so a body could say two
/// things at once; [`typed`] refuses it, naming the attribute.
#[derive(Debug, Default)]
pub(crate) struct Attributes(
    pub(crate) serde_json::Map<String, serde_json::Value>,
    Option<String>,
);

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Unique;
        impl<'de> Visitor<'de> for Unique {
            type Value = Attributes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of attributes, each name once")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let (mut out, mut repeated) = (serde_json::Map::new(), None);
                while let Some(name) = map.next_key::<String>()? {
                    let value = map.next_value()?;
                    if out.contains_key(&name) {
                        repeated.get_or_insert(name);
                        continue;
                    }
                    out.insert(name, value);
                }
                Ok(Attributes(out, repeated))
            }
        }
        deserializer.deserialize_map(Unique)
    }
}

/// Converts JSON attributes by their declared types; unknown names and wrong types are errors naming the field.
pub(crate) fn attributes(
    campaign: &Campaign,
    given: &Attributes,
) -> Result<Vec<(String, Value)>, ApiError> {
    typed(&campaign.inputs.user, given)
}

/// Converts JSON attributes by the declarations `declared` (a user's or an event's).
pub(crate) fn typed(
    declared: &[(String, Type)],
    given: &Attributes,
) -> Result<Vec<(String, Value)>, ApiError> {
    if let Some(name) = &given.1 {
        return Err(ApiError::BadInput {
            field: format!("attributes.{name}"),
            message: "appears twice; give each attribute once".into(),
        });
    }
    let mut out = Vec::with_capacity(given.0.len());
    for (name, json) in &given.0 {
        let field = format!("attributes.{name}");
        within_caps(json).map_err(|message| ApiError::BadInput {
            field: field.clone(),
            message,
        })?;
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

/// Refuses an attribute over the documented caps before it is converted, so a
/// huge one costs nothing but this walk.
fn within_caps(json: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value as J;
    let string = |s: &str| {
        let chars = s.chars().count();
        if chars > MAX_ATTRIBUTE_CHARS {
            return Err(format!(
                "a string attribute has at most {MAX_ATTRIBUTE_CHARS} characters, not {chars}"
            ));
        }
        Ok(())
    };
    match json {
        J::String(s) => string(s),
        J::Array(items) if items.len() > MAX_ATTRIBUTE_ITEMS => Err(format!(
            "a list attribute has at most {MAX_ATTRIBUTE_ITEMS} items, not {}",
            items.len()
        )),
        J::Array(items) => items.iter().try_for_each(|item| match item {
            J::String(s) => string(s),
            _ => Ok(()),
        }),
        _ => Ok(()),
    }
}

/// `text` as an exact decimal if it is written as one — an optional `-`,
/// digits without a leading zero, optionally `.` and more digits: `"25"`,
/// `"-10.50"`, `"0.5"`. Not `"1_0"`, `"1e3"`, `"+5"`, `".5"` or `"007"`, which
/// `Decimal`'s own parser would take.
pub(crate) fn exact_decimal(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let canonical = plain(whole) && plain(fraction) && (whole == "0" || !whole.starts_with('0'));
    canonical
        .then(|| Decimal::from_str_exact(text).ok())
        .flatten()
}

/// A JSON value as a value of type `ty`, if it is one.
pub fn convert(json: &serde_json::Value, ty: &Type) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (ty, json) {
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Int, J::Number(n)) => Value::Int(whole_number(n).ok()?),
        // Decimals arrive as strings ("12.50") for exactness, or as JSON numbers read from their text.
        (Type::Decimal, J::String(s)) => Value::Decimal(exact_decimal(s)?),
        (Type::Decimal, J::Number(n)) => {
            Value::Decimal(Decimal::from_str_exact(&n.to_string()).ok()?)
        }
        (Type::String, J::String(s)) => Value::Str(s.as_str().into()),
        (Type::Date, J::String(s)) => Value::Date(s.parse().ok()?),
        (Type::DateTime, J::String(s)) => Value::DateTime(s.parse().ok()?),
        (Type::Duration, J::Number(n)) => Value::Duration(whole_number(n).ok()?),
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

#[cfg(test)]
mod tests {
    use super::whole_number;

    fn whole(json: &str) -> Option<i64> {
        whole_number(&serde_json::from_str(json).unwrap()).ok()
    }

    #[test]
    fn a_whole_number_is_an_integer_or_a_float_without_a_fraction_that_is_exact() {
        assert_eq!(whole("77"), Some(77));
        assert_eq!(whole("-3"), Some(-3));
        assert_eq!(whole("77.0"), Some(77));
        assert_eq!(whole("1e2"), Some(100));
        assert_eq!(whole("9007199254740991.0"), Some(9_007_199_254_740_991));
        assert_eq!(whole("8000000000000001.0"), Some(8_000_000_000_000_001));
        // 2^53 + 1 parses as 2^53: from 2^53 up a float is refused.
        assert_eq!(whole("9007199254740993e0"), None);
        assert_eq!(whole("9007199254740992.0"), None);
        assert_eq!(whole("9223372036854775807"), Some(i64::MAX));
        assert_eq!(whole("9223372036854775808"), None);
        assert_eq!(whole("2.5"), None);
        assert_eq!(whole("1e300"), None);
        let why = |json: &str| whole_number(&serde_json::from_str(json).unwrap()).unwrap_err();
        assert!(why("2.5").contains("whole number"), "{}", why("2.5"));
        assert!(why("9223372036854775808").contains("out of range"));
        assert!(why("1e29").contains("out of range"), "{}", why("1e29"));
    }
}
