//! How one config value is read: [`ConfigValue`] turns a key's JSON value into a Rust
//! value and names the key's `config-type`, for every type a derived config may hold.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::{ConfigType, Range, StatusCodes};

/// A type a config key can hold: its `config-type` for `describe`, and how it is read
/// from the key's JSON value. [`derive@crate::Config`] uses it for every field.
///
/// Implemented for `String`, `bool`, the integers (with range checks), `f64`,
/// [`Duration`] (the grammar of [`crate::parse_duration`]), [`Range`], [`StatusCodes`],
/// lists (`Vec<String>`, `Vec<i64>`, … through [`ListItem`]), `BTreeMap<String, String>`
/// and `Option<T>`. A plugin implements it for a type of its own, usually by reading a
/// string and checking it:
///
/// ```
/// use vitals_sdk::{ConfigType, ConfigValue, serde_json::Value};
///
/// /// An HTTP method token, e.g. `GET`.
/// struct Method(String);
///
/// impl ConfigValue for Method {
///     const KIND: ConfigType = ConfigType::String;
///
///     fn from_json(value: &Value) -> Result<Method, String> {
///         let text = String::from_json(value)?;
///         if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphabetic()) {
///             return Err(format!("invalid HTTP method {text:?}"));
///         }
///         Ok(Method(text))
///     }
/// }
///
/// assert_eq!(Method::from_json(&"GET".into()).map(|m| m.0), Ok("GET".to_string()));
/// assert_eq!(Method::from_json(&"GET /".into()).err().as_deref(), Some("invalid HTTP method \"GET /\""));
/// assert!(Method::from_json(&5.into()).is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a type a config key can hold",
    label = "not a `vitals_sdk::ConfigValue`",
    note = "use String, bool, an integer, f64, Duration, Range, StatusCodes, Vec<String>, Vec<i64>, \
            BTreeMap<String, String> or Option<T>, or implement `vitals_sdk::ConfigValue` for a type of your own"
)]
pub trait ConfigValue: Sized {
    /// The key's type as `describe` announces it; the host checks a given value against
    /// it before the plugin sees it.
    ///
    /// ```
    /// use vitals_sdk::{ConfigType, ConfigValue};
    /// assert_eq!(<std::time::Duration as ConfigValue>::KIND, ConfigType::Duration);
    /// assert_eq!(<Option<u8> as ConfigValue>::KIND, ConfigType::Integer);
    /// ```
    const KIND: ConfigType;

    /// Reads the value from the key's JSON value; the error says, for a person, what is
    /// wrong with it (without the key, which the caller puts in front).
    ///
    /// ```
    /// use vitals_sdk::ConfigValue;
    /// assert_eq!(u8::from_json(&7.into()), Ok(7));
    /// assert_eq!(u8::from_json(&300.into()).err().as_deref(), Some("must be between 0 and 255, found 300"));
    /// ```
    fn from_json(value: &Value) -> Result<Self, String>;
}

/// A [`ConfigValue`] that has a meaning when its key is left out and has no default:
/// `None` for an `Option`, empty for a list or a table. A derived config's field without
/// `default` or `required` must be one.
///
/// ```
/// use vitals_sdk::OptionalValue;
/// assert_eq!(<Option<String> as OptionalValue>::absent(), None);
/// assert!(<Vec<String> as OptionalValue>::absent().is_empty());
/// ```
#[diagnostic::on_unimplemented(
    message = "a config key of type `{Self}` cannot simply be left out",
    label = "give this field `#[config(default = ...)]` or `#[config(required)]`, or make it an `Option`",
    note = "a key without a default or `required` is optional, and `{Self}` has no value that means \"not given\""
)]
pub trait OptionalValue: ConfigValue {
    /// The value of a key that was left out.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use vitals_sdk::OptionalValue;
    /// assert_eq!(<BTreeMap<String, String> as OptionalValue>::absent(), BTreeMap::new());
    /// ```
    fn absent() -> Self;
}

/// A [`ConfigValue`] that may be an item of a list key (`Vec<T>`), and which list type
/// such a key is.
///
/// ```
/// use vitals_sdk::{ConfigType, ConfigValue, ListItem};
/// assert_eq!(<String as ListItem>::LIST_KIND, ConfigType::StringList);
/// assert_eq!(<Vec<u16> as ConfigValue>::KIND, ConfigType::IntegerList);
/// ```
pub trait ListItem: ConfigValue {
    /// The `config-type` of a list of this type.
    ///
    /// ```
    /// use vitals_sdk::{ConfigType, ListItem};
    /// assert_eq!(<i64 as ListItem>::LIST_KIND, ConfigType::IntegerList);
    /// ```
    const LIST_KIND: ConfigType;
}

/// "expected a string, found the integer 5": what a value of the wrong type is.
pub(crate) fn expected(what: &str, found: &Value) -> String {
    let found = match found {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("the float {n}"),
        Value::Number(n) => format!("the integer {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "a table".to_string(),
    };
    format!("expected {what}, found {found}")
}

/// The text of a string value, or the error for any other value.
fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(expected(what, other)),
    }
}

impl ConfigValue for String {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<String, String> {
        text(value, "a string").map(str::to_string)
    }
}

impl ListItem for String {
    const LIST_KIND: ConfigType = ConfigType::StringList;
}

impl ConfigValue for bool {
    const KIND: ConfigType = ConfigType::Boolean;

    fn from_json(value: &Value) -> Result<bool, String> {
        value.as_bool().ok_or_else(|| expected("true or false", value))
    }
}

impl ConfigValue for f64 {
    const KIND: ConfigType = ConfigType::Float;

    fn from_json(value: &Value) -> Result<f64, String> {
        value.as_f64().ok_or_else(|| expected("a number", value))
    }
}

/// `ConfigValue` and `ListItem` for integer types: whole numbers within the type's range.
macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ConfigValue for $t {
            const KIND: ConfigType = ConfigType::Integer;

            fn from_json(value: &Value) -> Result<$t, String> {
                let Value::Number(number) = value else {
                    return Err(expected("a whole number", value));
                };
                let fits = match (number.as_i64(), number.as_u64()) {
                    (Some(i), _) => <$t>::try_from(i).ok(),
                    (None, Some(u)) => <$t>::try_from(u).ok(),
                    (None, None) => return Err(expected("a whole number", value)),
                };
                fits.ok_or_else(|| format!("must be between {} and {}, found {number}", <$t>::MIN, <$t>::MAX))
            }
        }

        impl ListItem for $t {
            const LIST_KIND: ConfigType = ConfigType::IntegerList;
        }
    )*};
}

integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl ConfigValue for Duration {
    const KIND: ConfigType = ConfigType::Duration;

    fn from_json(value: &Value) -> Result<Duration, String> {
        let text = text(value, "a duration such as \"250ms\" or \"2s\"")?;
        crate::parse_duration(text).map_err(|e| e.to_string())
    }
}

impl ConfigValue for Range {
    const KIND: ConfigType = ConfigType::Range;

    fn from_json(value: &Value) -> Result<Range, String> {
        match value {
            // A bare number is a range too (`10` alerts outside 0..=10).
            Value::Number(n) => Range::parse(&n.to_string()),
            other => Range::parse(text(other, "a range such as \"10\", \"~:10\" or \"@10:20\"")?),
        }
        .map_err(|e| e.to_string())
    }
}

impl ConfigValue for StatusCodes {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<StatusCodes, String> {
        StatusCodes::parse(text(value, "a list of status codes such as \"200-399\"")?)
    }
}

impl<T: ListItem> ConfigValue for Vec<T> {
    const KIND: ConfigType = T::LIST_KIND;

    fn from_json(value: &Value) -> Result<Vec<T>, String> {
        let Value::Array(items) = value else {
            return Err(expected("an array", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_json(item).map_err(|e| format!("item {}: {e}", i + 1)))
            .collect()
    }
}

impl<T: ListItem> OptionalValue for Vec<T> {
    fn absent() -> Vec<T> {
        Vec::new()
    }
}

impl ConfigValue for BTreeMap<String, String> {
    const KIND: ConfigType = ConfigType::StringMap;

    fn from_json(value: &Value) -> Result<BTreeMap<String, String>, String> {
        let Value::Object(table) = value else {
            return Err(expected("a table of strings", value));
        };
        table
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                other => Err(format!("{key:?}: {}", expected("a string", other))),
            })
            .collect()
    }
}

impl OptionalValue for BTreeMap<String, String> {
    fn absent() -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

impl<T: ConfigValue> ConfigValue for Option<T> {
    const KIND: ConfigType = T::KIND;

    fn from_json(value: &Value) -> Result<Option<T>, String> {
        match value {
            Value::Null => Ok(None),
            value => T::from_json(value).map(Some),
        }
    }
}

impl<T: ConfigValue> OptionalValue for Option<T> {
    fn absent() -> Option<T> {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err<T: ConfigValue + std::fmt::Debug>(value: Value) -> String {
        match T::from_json(&value) {
            Ok(v) => panic!("{value} read as {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn scalars_read_their_own_type_only() {
        assert_eq!(String::from_json(&json!("x")), Ok("x".to_string()));
        assert_eq!(err::<String>(json!(5)), "expected a string, found the integer 5");
        assert_eq!(bool::from_json(&json!(true)), Ok(true));
        assert_eq!(err::<bool>(json!("yes")), "expected true or false, found the string \"yes\"");
        assert_eq!(f64::from_json(&json!(2)), Ok(2.0));
        assert_eq!(f64::from_json(&json!(0.5)), Ok(0.5));
        assert_eq!(err::<f64>(json!([])), "expected a number, found an array");
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(u8::from_json(&json!(255)), Ok(255));
        assert_eq!(err::<u8>(json!(256)), "must be between 0 and 255, found 256");
        assert_eq!(err::<u32>(json!(-1)), "must be between 0 and 4294967295, found -1");
        assert_eq!(i64::from_json(&json!(-5)), Ok(-5));
        assert_eq!(u64::from_json(&json!(u64::MAX)), Ok(u64::MAX));
        assert_eq!(
            err::<i64>(json!(u64::MAX)),
            format!("must be between {} and {}, found {}", i64::MIN, i64::MAX, u64::MAX)
        );
        assert_eq!(err::<u16>(json!(1.5)), "expected a whole number, found the float 1.5");
    }

    #[test]
    fn quantities_use_the_units_grammar() {
        assert_eq!(Duration::from_json(&json!("1.5s")), Ok(Duration::from_millis(1500)));
        assert!(err::<Duration>(json!("soon")).contains("'soon'"));
        assert!(err::<Duration>(json!(5)).starts_with("expected a duration"));
        assert_eq!(Range::from_json(&json!("~:10")).map(|r| r.to_string()), Ok("~:10".to_string()));
        assert_eq!(Range::from_json(&json!(10)).map(|r| r.to_string()), Ok("10".to_string()));
        assert!(err::<Range>(json!("5:1")).contains("greater than end"));
        assert_eq!(StatusCodes::from_json(&json!("200,300-399")), StatusCodes::parse("200,300-399"));
        assert!(err::<StatusCodes>(json!("2xx")).contains("\"2xx\""));
    }

    #[test]
    fn collections_name_the_bad_item() {
        assert_eq!(Vec::<String>::from_json(&json!(["a", "b"])), Ok(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(err::<Vec<String>>(json!(["a", 1])), "item 2: expected a string, found the integer 1");
        assert_eq!(Vec::<i64>::from_json(&json!([1, -2])), Ok(vec![1, -2]));
        assert_eq!(err::<Vec<u8>>(json!("1,2")), "expected an array, found the string \"1,2\"");
        let map = BTreeMap::<String, String>::from_json(&json!({"A": "1"}));
        assert_eq!(map, Ok(BTreeMap::from([("A".to_string(), "1".to_string())])));
        assert_eq!(err::<BTreeMap<String, String>>(json!({"A": 1})), "\"A\": expected a string, found the integer 1");
        assert_eq!(Option::<u8>::from_json(&json!(3)), Ok(Some(3)));
        assert_eq!(Option::<u8>::from_json(&Value::Null), Ok(None));
        assert_eq!(<Vec<u8> as ConfigValue>::KIND, ConfigType::IntegerList);
        assert_eq!(<Vec<String> as ConfigValue>::KIND, ConfigType::StringList);
        assert_eq!(<Option<Range> as ConfigValue>::KIND, ConfigType::Range);
    }
}
