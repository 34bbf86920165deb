//! The would-be-denied report of `--iam audit`: every call the policies would have refused, counted
//! by principal, action and resource, so a user can read off the policy a flow needs.

use dashmap::DashMap;
use serde::Serialize;

/// One line of the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub count: u64,
}

#[derive(Debug, Default)]
pub struct Audit {
    denied: DashMap<(String, String, String), u64>,
}

impl Audit {
    pub fn record(&self, principal: &str, action: &str, resource: &str) {
        *self
            .denied
            .entry((
                principal.to_string(),
                action.to_string(),
                resource.to_string(),
            ))
            .or_insert(0) += 1;
    }

    /// The report, sorted for stable output.
    pub fn report(&self) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = self
            .denied
            .iter()
            .map(|e| {
                let (principal, action, resource) = e.key().clone();
                AuditEntry {
                    principal,
                    action,
                    resource,
                    count: *e.value(),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.principal, &a.action, &a.resource).cmp(&(&b.principal, &b.action, &b.resource))
        });
        out
    }

    /// The actions each principal would need, as policy-ready lists.
    pub fn needed_actions(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for e in self.report() {
            let v = out.entry(e.principal).or_default();
            if !v.contains(&e.action) {
                v.push(e.action);
            }
        }
        out
    }
}
