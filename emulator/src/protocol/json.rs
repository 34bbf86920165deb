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

    pub fn str(&self, name: &str) -> AwsResult<Option<&str>> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(serialization(format!(
                "STRING_VALUE can not be converted to the type of {name}"
            ))),
        }
    }

    /// A required string: `ValidationException` as the JSON services word it.
    pub fn required(&self, name: &str) -> AwsResult<&str> {
        self.str(name)?.ok_or_else(|| {
            AwsError::bad_request(
                "ValidationException",
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)),
            )
        })
    }
}

fn lower_first(s: &str) -> String {
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
