//! The scenario's `faults:` list, turned into the emulator's fault entries. The list is kept as
//! JSON values in the model, and each entry is read as a [`FaultSpec`] — the same shape the config
//! file, `POST /_awsemu/faults` and the embedding API take (rules, `throttle`, `consistency`).

use serde_json::Value;

use crate::faults::FaultSpec;

/// Reads each entry as a [`FaultSpec`], naming the entry that is wrong.
pub fn fault_rules(entries: &[Value]) -> Result<Vec<FaultSpec>, String> {
    entries
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<FaultSpec>(v.clone()).map_err(|e| format!("faults[{i}]: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_kind_and_names_the_bad_entry() {
        let r = fault_rules(&[
            json!({"action": "ec2:Describe*", "times": 2,
                "error": {"code": "RequestLimitExceeded", "message": "Request limit exceeded.", "status": 503}}),
            json!({"throttle": {"service": "ec2"}}),
            json!({"consistency": {"action": "ec2:CreateSecurityGroup", "calls": 2}}),
        ])
        .unwrap();
        assert_eq!(r.len(), 3);
        let e = fault_rules(&[
            json!({"action": "ec2:X", "error": {"code": "A"}}),
            json!({"action": "ec2:Y", "tims": 1, "error": {"code": "A"}}),
        ])
        .unwrap_err();
        assert!(e.starts_with("faults[1]"), "{e}");
        assert!(e.contains("tims"), "{e}");
    }
}
