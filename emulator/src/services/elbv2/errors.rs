//! The ELBv2 error answers, worded as AWS words them, and the model-constraint checks
//! (enum sets, ranges, lengths) AWS answers with its "1 validation error detected" sentence.
//!
//! Every ELBv2 error is a 400 from the sender; the code names the exception without its
//! `Exception` suffix (`LoadBalancerNotFound`).

use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult};

/// `ValidationError`: the generic answer for a bad value.
pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationError", message)
}

/// `InvalidConfigurationRequest`: values that are fine alone but not for this resource.
pub fn invalid_configuration(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidConfigurationRequest", message)
}

/// A load balancer ARN that names nothing.
pub fn load_balancer_not_found() -> AwsError {
    AwsError::bad_request(
        "LoadBalancerNotFound",
        "One or more load balancers not found",
    )
}

/// Names of DescribeLoadBalancers that match nothing: `Load balancers '[a, b]' not found`.
pub fn load_balancer_names_not_found(names: &[&str]) -> AwsError {
    AwsError::bad_request(
        "LoadBalancerNotFound",
        format!("Load balancers '[{}]' not found", names.join(", ")),
    )
}

/// Target groups of a Describe call that match nothing.
pub fn target_groups_not_found() -> AwsError {
    AwsError::bad_request("TargetGroupNotFound", "One or more target groups not found")
}

/// A target group named by one ARN that does not exist: `Target groups 'arn' not found`.
pub fn target_group_not_found(arn: &str) -> AwsError {
    AwsError::bad_request(
        "TargetGroupNotFound",
        format!("Target groups '{arn}' not found"),
    )
}

pub fn listener_not_found() -> AwsError {
    AwsError::bad_request("ListenerNotFound", "One or more listeners not found")
}

/// A string that cannot be an ARN of `kind` (`load balancer`, `target group`, `listener`).
pub fn invalid_arn(kind: &str, value: &str) -> AwsError {
    validation(format!("'{value}' is not a valid {kind} ARN"))
}

/// `1 validation error detected: Value 'v' at 'field' failed to satisfy constraint: …`.
pub fn constraint(field: &str, value: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}

/// Checks that `value` is one of the enum's `allowed` values (case-sensitive, as AWS).
pub fn check_enum(field: &str, value: &str, allowed: &[&str]) -> AwsResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(constraint(
            field,
            value,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ))
    }
}

/// Checks an optional integer against the model's range.
pub fn check_range(field: &str, value: Option<i64>, lo: i64, hi: i64) -> AwsResult<()> {
    Constraints::new().range(field, value, lo, hi).check()
}

/// Checks a string's length (in characters) against the model's bounds.
pub fn check_length(field: &str, value: &str, lo: usize, hi: usize) -> AwsResult<()> {
    Constraints::new()
        .length(field, Some(value), lo, hi)
        .check()
}

/// Checks a list's size against the model's maximum; the value is written as AWS writes lists.
pub fn check_count(field: &str, items: &[&str], max: usize) -> AwsResult<()> {
    if items.len() > max {
        Err(constraint(
            field,
            &format!("[{}]", items.join(", ")),
            &format!("Member must have length less than or equal to {max}"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_wording() {
        let e = check_enum("type", "classic", &["application", "network"]).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'classic' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network]"
        );
        assert!(check_range("port", Some(0), 1, 65535)
            .unwrap_err()
            .message
            .ends_with("greater than or equal to 1"));
        assert!(check_range("port", Some(80), 1, 65535).is_ok());
        assert!(check_length("name", "", 1, 32).is_err());
        assert!(check_count("resourceArns", &["a", "b"], 1).is_err());
    }
}
