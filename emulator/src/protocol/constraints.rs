//! The input constraints of a service model (length, pattern, range), checked as AWS's front end
//! checks them before the operation runs: every violation of the request is collected and the
//! answer is one `ValidationError` (400) that lists them all, in the wording clients see:
//!
//! `2 validation errors detected: Value 'a b' at 'roleName' failed to satisfy constraint: Member
//! must satisfy regular expression pattern: [\w+=,.@-]+; Value '10' at 'maxSessionDuration' …`
//!
//! The query APIs of IAM and STS answer this way; handlers name members in lower camel case, as
//! the message does.

use super::error::{AwsError, AwsResult};

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Constraints {
    violations: Vec<String>,
}

impl Constraints {
    pub fn new() -> Constraints {
        Constraints::default()
    }

    fn violate(&mut self, value: &str, member: &str, rule: &str) {
        self.violations.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
        ));
    }

    /// Length in characters between `min` and `max` (when the value is given).
    pub fn length(
        &mut self,
        member: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(v) = value {
            let n = v.chars().count();
            if n < min {
                self.violate(
                    v,
                    member,
                    &format!("have length greater than or equal to {min}"),
                );
            } else if n > max {
                self.violate(
                    v,
                    member,
                    &format!("have length less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// The model's regular expression, given as its text (for the message) and as a matcher.
    pub fn pattern(
        &mut self,
        member: &str,
        value: Option<&str>,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
    ) -> &mut Self {
        if let Some(v) = value {
            if !matches(v) {
                self.violate(
                    v,
                    member,
                    &format!("satisfy regular expression pattern: {pattern}"),
                );
            }
        }
        self
    }

    /// An integer between `min` and `max` (when given).
    pub fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) -> &mut Self {
        if let Some(v) = value {
            if v < min {
                self.violate(
                    &v.to_string(),
                    member,
                    &format!("have value greater than or equal to {min}"),
                );
            } else if v > max {
                self.violate(
                    &v.to_string(),
                    member,
                    &format!("have value less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// `Ok` when nothing was violated, else the one `ValidationError` that lists every violation.
    pub fn check(&self) -> AwsResult<()> {
        match self.violations.len() {
            0 => Ok(()),
            n => Err(AwsError::bad_request(
                "ValidationError",
                format!(
                    "{n} validation error{} detected: {}",
                    if n == 1 { "" } else { "s" },
                    self.violations.join("; ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_and_several() {
        assert!(Constraints::new().length("a", None, 1, 2).check().is_ok());
        let e = Constraints::new()
            .length("roleName", Some(""), 1, 64)
            .check()
            .unwrap_err();
        assert_eq!((e.code.as_ref(), e.status), ("ValidationError", 400));
        assert_eq!(e.message, "1 validation error detected: Value '' at 'roleName' failed to satisfy constraint: Member must have length greater than or equal to 1");
        let e = Constraints::new()
            .pattern("roleName", Some("a b"), r"[\w+=,.@-]+", |v| {
                !v.contains(' ')
            })
            .range("maxSessionDuration", Some(10), 3600, 43200)
            .range("durationSeconds", Some(50_000), 900, 43200)
            .check()
            .unwrap_err();
        assert_eq!(e.message, "3 validation errors detected: Value 'a b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value '10' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600; Value '50000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200");
    }
}
