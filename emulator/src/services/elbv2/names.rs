//! Load balancer and target group names: 1–32 alphanumerics or hyphens, no hyphen at either end;
//! a load balancer's must not begin with `internal-` (AWS puts that prefix on internal DNS names).

use crate::protocol::AwsResult;

use super::errors::validation;

/// Checks a name; `subject` opens AWS's sentence (`The load balancer name`, `Target group name`).
fn check(subject: &str, name: &str) -> AwsResult<()> {
    if name.chars().count() > 32 {
        return Err(validation(format!(
            "{subject} '{name}' cannot be longer than '32' characters"
        )));
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(validation(format!(
            "{subject} '{name}' can only contain characters that are alphanumeric characters or hyphens(-)"
        )));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(validation(format!(
            "{subject} '{name}' cannot begin or end with '-'"
        )));
    }
    Ok(())
}

pub fn check_load_balancer(name: &str) -> AwsResult<()> {
    check("The load balancer name", name)?;
    if name.to_ascii_lowercase().starts_with("internal-") {
        return Err(validation(format!(
            "The load balancer name '{name}' cannot begin with 'internal-'"
        )));
    }
    Ok(())
}

pub fn check_target_group(name: &str) -> AwsResult<()> {
    check("Target group name", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check_load_balancer("a4ca190bb09f048a19690cc67ab7038f").is_ok());
        assert!(check_load_balancer(&"a".repeat(33))
            .unwrap_err()
            .message
            .contains("cannot be longer than '32' characters"));
        assert!(check_load_balancer("has_underscore").is_err());
        assert!(check_load_balancer("-edge").is_err());
        assert!(check_load_balancer("edge-").is_err());
        assert!(check_load_balancer("internal-x").is_err());
        assert!(check_target_group("internal-x").is_ok());
        assert!(check_target_group("").is_err());
    }
}
