//! Injected faults: answers the emulator gives instead of the real one, to test how clients cope.
//!
//! A rule matches actions by glob over `service:Action` (IAM names, e.g. `ec2:Describe*`) and fires
//! for its next N matching calls (or always). Rules are checked after authorization, so a denied
//! call is still denied.

use std::sync::Mutex;

use crate::iam::wildcard;
use crate::protocol::AwsError;

/// What a fault does to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultEffect {
    /// Answer this error instead of running the handler (nothing changes).
    Error(AwsError),
    /// Panic inside the handler: proves a handler panic becomes a 500 and the server lives on.
    Panic,
}

/// One fault rule.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Glob over `service:Action`, case-insensitive as IAM action names are.
    pub action: String,
    /// How many more calls it fires for; `None`: every call.
    pub remaining: Option<u32>,
    pub effect: FaultEffect,
}

/// The fault rules of one emulator.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    pub fn add(&self, rule: FaultRule) {
        if let Ok(mut r) = self.rules.lock() {
            r.push(rule);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut r) = self.rules.lock() {
            r.clear();
        }
    }

    /// The effect for this call, if a rule fires; spends one of the rule's calls.
    pub fn take(&self, iam_action: &str) -> Option<FaultEffect> {
        let mut rules = self.rules.lock().ok()?;
        let i = rules.iter().position(|r| {
            r.remaining != Some(0) && wildcard::matches(&r.action, iam_action, true)
        })?;
        let rule = &mut rules[i];
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        let effect = rule.effect.clone();
        rules.retain(|r| r.remaining != Some(0));
        Some(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_their_count_then_go() {
        let f = Faults::default();
        f.add(FaultRule {
            action: "ec2:Describe*".into(),
            remaining: Some(2),
            effect: FaultEffect::Panic,
        });
        assert_eq!(f.take("ec2:CreateVolume"), None);
        assert_eq!(f.take("ec2:describeregions"), Some(FaultEffect::Panic));
        assert_eq!(f.take("ec2:DescribeInstances"), Some(FaultEffect::Panic));
        assert_eq!(f.take("ec2:DescribeInstances"), None);
    }
}
