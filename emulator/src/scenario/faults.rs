//! The scenario's `faults:` list, turned into the emulator's fault rules. The list is kept as JSON
//! values in the model so this one function is all that follows the fault rule shape as it grows.

use serde_json::Value;

use crate::faults::{FaultEffect, FaultRule};
use crate::protocol::AwsError;

/// Converts `{action, times, error: {code, message, status}}` entries to [`FaultRule`]s.
/// `times` absent: every matching call; `status` absent: 400.
pub fn fault_rules(entries: &[Value]) -> Result<Vec<FaultRule>, String> {
    entries
        .iter()
        .enumerate()
        .map(|(i, v)| rule(v).map_err(|e| format!("faults[{i}]: {e}")))
        .collect()
}

fn rule(v: &Value) -> Result<FaultRule, String> {
    let obj = v.as_object().ok_or("a fault is a map")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "action" | "times" | "error"))
    {
        return Err(format!("unknown field '{k}' (known: action, times, error)"));
    }
    let action = obj
        .get("action")
        .and_then(Value::as_str)
        .ok_or("action (a glob over service:Action) is required")?;
    let remaining = match obj.get("times") {
        None | Some(Value::Null) => None,
        Some(t) => Some(
            t.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("times must be a whole number")?,
        ),
    };
    let err = obj
        .get("error")
        .and_then(Value::as_object)
        .ok_or("error: {code, message, status} is required")?;
    if let Some(k) = err
        .keys()
        .find(|k| !matches!(k.as_str(), "code" | "message" | "status"))
    {
        return Err(format!(
            "error: unknown field '{k}' (known: code, message, status)"
        ));
    }
    let code = err
        .get("code")
        .and_then(Value::as_str)
        .ok_or("error.code is required")?;
    let message = err.get("message").and_then(Value::as_str).unwrap_or("");
    let status = match err.get("status") {
        None => 400,
        Some(s) => s
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (400..600).contains(n))
            .ok_or("error.status must be an HTTP error status (400-599)")?,
    };
    Ok(FaultRule {
        action: action.to_string(),
        remaining,
        effect: FaultEffect::Error(AwsError::new(code.to_string(), message.to_string(), status)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_the_rule_shape_and_names_the_bad_entry() {
        let r = fault_rules(&[json!({"action": "ec2:Describe*", "times": 2,
            "error": {"code": "RequestLimitExceeded", "message": "Request limit exceeded.", "status": 503}})])
        .unwrap();
        assert_eq!(r[0].remaining, Some(2));
        match &r[0].effect {
            FaultEffect::Error(e) => {
                assert_eq!((e.code.as_ref(), e.status), ("RequestLimitExceeded", 503))
            }
            other => panic!("{other:?}"),
        }
        let e = fault_rules(&[
            json!({"action": "x", "error": {"code": "A"}}),
            json!({"action": "y"}),
        ])
        .unwrap_err();
        assert!(e.starts_with("faults[1]"), "{e}");
        let e =
            fault_rules(&[json!({"action": "x", "tims": 1, "error": {"code": "A"}})]).unwrap_err();
        assert!(e.contains("tims"), "{e}");
    }
}
