//! awsJson1_1 input: the body is one JSON object; typed getters fail the way AWS's JSON services do.

use serde_json::{Map, Value};

use super::error::{AwsError, AwsResult};

/// The decoded input of a JSON-protocol request.
#[derive(Debug, Clone, Default)]
pub struct JsonInput {
    pub body: Map<String, Value>,
}

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("SerializationException", message)
}

impl JsonInput {
    /// Parses a request body. An empty body is an empty object, as the SDKs send for operations without input.
    pub fn parse(body: &[u8]) -> AwsResult<JsonInput> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonInput::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(body)) => Ok(JsonInput { body }),
            Ok(_) => Err(serialization(
                "Start of structure or map found where not expected.",
            )),
            Err(e) => Err(serialization(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    /// The top-level object, with the typed getters.
    pub fn root(&self) -> Obj<'_> {
        Obj { map: &self.body }
    }

    pub fn str(&self, name: &str) -> AwsResult<Option<&str>> {
        self.root().str(name)
    }

    /// A required string: `ValidationException` as the JSON services word it.
    pub fn required(&self, name: &str) -> AwsResult<&str> {
        self.root().required(name)
    }
}

/// One JSON object of the input (the body, or a structure inside it). A member of the wrong JSON
/// type is a `SerializationException`, as the Coral deserializer answers; unknown members are
/// ignored, as the JSON services ignore them.
#[derive(Debug, Clone, Copy)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
}

fn wrong_type(kind: &str, name: &str) -> AwsError {
    serialization(format!("{kind} can not be converted to the type of {name}"))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "STRING_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    }
}

impl<'a> Obj<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> AwsResult<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(wrong_type(kind_of(v), name)),
        }
    }

    /// A required member: `ValidationException` "Value null at 'member' …" when absent.
    pub fn required(&self, name: &str) -> AwsResult<&'a str> {
        self.str(name)?.ok_or_else(|| missing(name))
    }

    /// An integer (`integer` and `long` shapes). Fractions are refused like other type mismatches.
    pub fn int(&self, name: &str) -> AwsResult<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type("NUMBER_VALUE", name)),
            Some(v) => Err(wrong_type(kind_of(v), name)),
        }
    }

    pub fn bool(&self, name: &str) -> AwsResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(wrong_type(kind_of(v), name)),
        }
    }

    fn array(&self, name: &str) -> AwsResult<Option<&'a Vec<Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(wrong_type(kind_of(v), name)),
        }
    }

    /// A list of strings; `None` when absent (an empty list is `Some(vec![])`).
    pub fn strings(&self, name: &str) -> AwsResult<Option<Vec<&'a str>>> {
        let Some(items) = self.array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.as_str()),
                other => Err(wrong_type(kind_of(other), name)),
            })
            .collect::<AwsResult<Vec<_>>>()
            .map(Some)
    }

    /// A list of structures.
    pub fn objects(&self, name: &str) -> AwsResult<Option<Vec<Obj<'a>>>> {
        let Some(items) = self.array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| match v {
                Value::Object(map) => Ok(Obj { map }),
                other => Err(wrong_type(kind_of(other), name)),
            })
            .collect::<AwsResult<Vec<_>>>()
            .map(Some)
    }

    /// A nested structure.
    pub fn object(&self, name: &str) -> AwsResult<Option<Obj<'a>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj { map })),
            Some(v) => Err(wrong_type(kind_of(v), name)),
        }
    }

    /// A `blob` member: base64 text on the wire.
    pub fn blob(&self, name: &str) -> AwsResult<Option<Vec<u8>>> {
        use base64::Engine;
        let Some(text) = self.str(name)? else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Some)
            .map_err(|_| serialization(format!("Base64 encoded value of {name} is not valid")))
    }
}

/// `ValidationException` for a required member that is absent.
pub fn missing(name: &str) -> AwsError {
    validation(format!(
        "Value null at '{}' failed to satisfy constraint: Member must not be null",
        lower_first(name)
    ))
}

/// Coral's `ValidationException` wording for one broken constraint, e.g.
/// `1 validation error detected: Value '5' at 'pendingWindowInDays' failed to satisfy constraint:
/// Member must have value greater than or equal to 7`.
pub fn validation(detail: impl AsRef<str>) -> AwsError {
    AwsError::bad_request(
        "ValidationException",
        format!("1 validation error detected: {}", detail.as_ref()),
    )
}

/// The constraint text of a value outside `min..=max` (`value` for numbers, `length` for strings
/// and lists), or `None` when it fits.
pub fn range_violation(kind: &str, n: i64, min: i64, max: i64) -> Option<String> {
    if n < min {
        Some(format!(
            "Member must have {kind} greater than or equal to {min}"
        ))
    } else if n > max {
        Some(format!(
            "Member must have {kind} less than or equal to {max}"
        ))
    } else {
        None
    }
}

/// Checks a value against `min..=max` and answers Coral's `ValidationException` for `field`.
pub fn check_range(
    field: &str,
    shown: &str,
    kind: &str,
    n: i64,
    min: i64,
    max: i64,
) -> AwsResult<()> {
    match range_violation(kind, n, min, max) {
        Some(rule) => Err(validation(format!(
            "Value '{shown}' at '{}' failed to satisfy constraint: {rule}",
            lower_first(field)
        ))),
        None => Ok(()),
    }
}

/// `lowerCamel` member names, as Coral's messages spell them.
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objects_only() {
        assert!(JsonInput::parse(b"").unwrap().body.is_empty());
        assert_eq!(
            JsonInput::parse(b"[1]").unwrap_err().code,
            "SerializationException"
        );
        assert_eq!(
            JsonInput::parse(b"{nope").unwrap_err().code,
            "SerializationException"
        );
        let j = JsonInput::parse(br#"{"KeyId":"alias/x","N":1}"#).unwrap();
        assert_eq!(j.required("KeyId").unwrap(), "alias/x");
        assert_eq!(j.str("N").unwrap_err().code, "SerializationException");
        assert_eq!(
            j.required("Missing").unwrap_err().code,
            "ValidationException"
        );
    }
}
