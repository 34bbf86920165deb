//! Fault rules: "answer this error / add this latency to the calls that match", with the counting
//! (`times`, `after`) and the seeded chance (`probability`) that decide which matching calls fire.

use serde::{Deserialize, Serialize};

use crate::iam::wildcard;
use crate::protocol::AwsError;

/// One fault rule, as scenario files, the config file's `faults` list and `POST /_awsemu/faults`
/// write it:
///
/// ```json
/// {"action": "ec2:Describe*", "principal": "controlplane", "resource": "i-*",
///  "error": {"code": "InternalError", "message": "boom", "status": 500},
///  "latency_ms": 200, "times": 2, "after": 1, "probability": 0.5}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Glob over `service:Action` with IAM's names (`ec2:Describe*`, `elasticloadbalancing:*`),
    /// case-insensitive as IAM action names are.
    pub action: String,
    /// Glob over the caller: its friendly name (`worker`), its role name, or its ARN (the session
    /// ARN or the role's). Absent: any caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Glob over the resources the request names: the ARNs IAM authorizes it against, their ids
    /// (the part after the last `/`), and the request's parameter values (`i-0abc…`,
    /// `sg-*`). Absent: any request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The error answered instead of running the handler (nothing changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSpec>,
    /// Delay before the answer is written: an async sleep in the server under a real clock;
    /// under a manual clock, virtual time (the clock moves on by it, no wall time passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Fire for the next N matching calls only; absent: every matching call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Let the first N matching calls through before firing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub after: u32,
    /// Fire with this chance (0–1) per eligible call, drawn from the emulator's seeded
    /// generator: the same seed and the same calls give the same outcomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Panic inside the handler instead: proves that a handler panic becomes a 500 and the server
    /// lives on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub panic: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The error a rule answers. The envelope is the service's own (EC2 `<Response><Errors>`,
/// awsQuery `<ErrorResponse>`, JSON `__type`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// The code clients switch on (`InternalError`, `RequestLimitExceeded`, …).
    pub code: String,
    /// The message; absent: `Injected fault: CODE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The HTTP status, 400–599; absent: 400 (500 for `InternalError`/`InternalFailure`, 503
    /// for `ServiceUnavailable`/`RequestLimitExceeded`, as AWS answers those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl ErrorSpec {
    pub fn to_error(&self) -> AwsError {
        let status = self.status.unwrap_or(match self.code.as_str() {
            "InternalError" | "InternalFailure" | "InternalFailureException" => 500,
            "ServiceUnavailable" | "Unavailable" | "RequestLimitExceeded" => 503,
            _ => 400,
        });
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| format!("Injected fault: {}", self.code));
        AwsError::new(self.code.clone(), message, status)
    }
}

impl FaultRule {
    /// A rule for `action` that does nothing yet; add its effect with the builder methods.
    pub fn new(action: impl Into<String>) -> FaultRule {
        FaultRule {
            action: action.into(),
            principal: None,
            resource: None,
            error: None,
            latency_ms: None,
            times: None,
            after: 0,
            probability: None,
            panic: false,
        }
    }

    pub fn error(mut self, code: &str, message: &str, status: u16) -> Self {
        self.error = Some(ErrorSpec {
            code: code.into(),
            message: Some(message.into()),
            status: Some(status),
        });
        self
    }

    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    pub fn principal(mut self, glob: impl Into<String>) -> Self {
        self.principal = Some(glob.into());
        self
    }

    pub fn resource(mut self, glob: impl Into<String>) -> Self {
        self.resource = Some(glob.into());
        self
    }

    pub fn panic(mut self) -> Self {
        self.panic = true;
        self
    }

    /// What the types cannot say: an effect, a `service:Action` glob, a status in 400–599, a
    /// probability in 0–1.
    pub fn validate(&self) -> Result<(), String> {
        if !self.action.contains(':') {
            return Err(format!(
                "fault action '{}' must be service:Action (e.g. ec2:Describe*)",
                self.action
            ));
        }
        if self.error.is_none() && self.latency_ms.is_none() && !self.panic {
            return Err(format!(
                "fault rule for '{}' has no effect: give error, latency_ms or panic",
                self.action
            ));
        }
        if let Some(e) = &self.error {
            if e.code.is_empty() {
                return Err("fault error code must not be empty".into());
            }
            if let Some(s) = e.status {
                if !(400..=599).contains(&s) {
                    return Err(format!("fault error status {s} must be within 400-599"));
                }
            }
        }
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("fault probability {p} must be within 0-1"));
            }
        }
        if self.latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
            return Err(format!(
                "fault latency_ms must be at most {MAX_LATENCY_MS} (five minutes)"
            ));
        }
        Ok(())
    }
}

/// Longest latency a rule may add: beyond it a client has long given up.
pub const MAX_LATENCY_MS: u64 = 300_000;

/// What a call looks like to a rule.
#[derive(Debug)]
pub struct CallFacts<'a> {
    /// `service:Action` with the IAM prefix.
    pub iam_action: &'a str,
    /// Names the caller goes by: friendly name, role name, session ARN, principal ARN.
    pub principal_names: Vec<&'a str>,
    /// Resource ARNs, their ids, and the request's parameter values.
    pub resources: Vec<String>,
}

/// A rule in force, with what it has counted.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveRule {
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Matching calls seen so far.
    pub seen: u64,
    /// Calls it fired for.
    pub fired: u64,
    /// How many more calls it fires for (`null`: no limit).
    pub remaining: Option<u32>,
    /// `config` (re-applied on reset) or `live` (cleared by reset).
    pub origin: Origin,
}

/// Where a fault came from: the start configuration survives reset, live additions do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Config,
    Live,
}

impl ActiveRule {
    pub fn new(rule: FaultRule, origin: Origin) -> ActiveRule {
        let remaining = rule.times;
        ActiveRule {
            rule,
            seen: 0,
            fired: 0,
            remaining,
            origin,
        }
    }

    /// Whether the rule applies to this call (before counting and chance).
    pub fn matches(&self, call: &CallFacts<'_>) -> bool {
        let r = &self.rule;
        self.remaining != Some(0)
            && wildcard::matches(&r.action, call.iam_action, true)
            && r.principal.as_deref().is_none_or(|p| {
                call.principal_names
                    .iter()
                    .any(|n| wildcard::matches(p, n, false))
            })
            && r.resource.as_deref().is_none_or(|p| {
                call.resources
                    .iter()
                    .any(|n| wildcard::matches(p, n, false))
            })
    }

    /// Counts a matching call and says whether the rule fires for it; `draw` gives a uniform
    /// number in [0, 1) and is called only when the rule has a probability below 1.
    pub fn fires(&mut self, draw: &mut dyn FnMut() -> f64) -> bool {
        if self.remaining == Some(0) {
            return false;
        }
        self.seen += 1;
        if self.seen <= u64::from(self.rule.after) {
            return false;
        }
        if let Some(p) = self.rule.probability {
            if p < 1.0 && draw() >= p {
                return false;
            }
        }
        self.fired += 1;
        if let Some(n) = self.remaining.as_mut() {
            *n = n.saturating_sub(1);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(action: &'a str, resources: &[&str]) -> CallFacts<'a> {
        CallFacts {
            iam_action: action,
            principal_names: vec![
                "worker",
                "k8s-worker",
                "arn:aws:iam::123456789012:role/k8s-worker",
            ],
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn shape_refuses_unknown_fields_and_validates() {
        let r: FaultRule = serde_json::from_str(
            r#"{"action":"ec2:Describe*","error":{"code":"X"},"times":2,"after":1}"#,
        )
        .unwrap();
        r.validate().unwrap();
        assert_eq!(r.error.as_ref().unwrap().to_error().status, 400);
        assert_eq!(
            r.error.as_ref().unwrap().to_error().message,
            "Injected fault: X"
        );
        let e = serde_json::from_str::<FaultRule>(r#"{"action":"ec2:X","eror":{}}"#).unwrap_err();
        assert!(e.to_string().contains("eror"), "{e}");
        assert!(FaultRule::new("ec2:X")
            .validate()
            .unwrap_err()
            .contains("no effect"));
        assert!(FaultRule::new("Describe").latency_ms(1).validate().is_err());
        assert!(FaultRule::new("ec2:X")
            .latency_ms(1)
            .probability(1.5)
            .validate()
            .is_err());
        assert!(FaultRule::new("ec2:X")
            .error("X", "m", 200)
            .validate()
            .is_err());
    }

    #[test]
    fn matching_by_action_principal_and_resource() {
        let r = ActiveRule::new(
            FaultRule::new("ec2:describe*")
                .principal("*worker")
                .resource("sg-*")
                .latency_ms(1),
            Origin::Live,
        );
        assert!(r.matches(&facts("ec2:DescribeSecurityGroups", &["sg-1"])));
        assert!(!r.matches(&facts("ec2:DescribeSecurityGroups", &["vol-1"])));
        assert!(!r.matches(&facts("ec2:CreateVolume", &["sg-1"])));
        let mut other = facts("ec2:DescribeSecurityGroups", &["sg-1"]);
        other.principal_names = vec!["admin"];
        assert!(!r.matches(&other));
    }

    #[test]
    fn after_then_times_then_spent() {
        let mut r = ActiveRule::new(
            FaultRule::new("ec2:*").latency_ms(1).after(1).times(2),
            Origin::Live,
        );
        let mut never = || -> f64 { unreachable!() };
        let got: Vec<bool> = (0..4).map(|_| r.fires(&mut never)).collect();
        assert_eq!(got, [false, true, true, false]);
        assert_eq!(r.remaining, Some(0));
        assert!(!r.matches(&facts("ec2:DescribeInstances", &[])));
    }
}
