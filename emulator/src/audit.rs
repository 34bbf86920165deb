//! What IAM was asked, call by call: every authorization the pipeline settled (action, resource,
//! the ownership tags it saw, allowed or not), kept per caller without repeats. Two reports read
//! it: the would-be-denied report of `--iam audit` (`GET /_awsemu/audit`), and the least-privilege
//! policy of [`crate::least_privilege`], which needs the allowed checks as much as the denied ones.
//!
//! Each call's checks also go into its [`crate::recorder::CallRecord`], so a `--record` file can be
//! turned into a policy after the server is gone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One authorization: the IAM action on one resource, with what a tag condition could test.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AuthCheck {
    /// `service:Action`, e.g. `ec2:AttachVolume` (the tagging action of a tag-on-create check).
    pub action: String,
    /// The resource ARN, or `*` for actions AWS authorizes on no particular resource.
    pub resource: String,
    /// The resource's ownership tags when it was checked ([`is_ownership_tag`]); empty when it did
    /// not exist yet (a create) or carried none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_tags: BTreeMap<String, String>,
    /// The ownership tags the request asked for (`aws:RequestTag/…`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_tags: BTreeMap<String, String>,
    /// For the tagging check of a tag-on-create call, the creating action (`CreateVolume`): what
    /// `ec2:CreateAction` and `elasticloadbalancing:CreateAction` conditions see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_action: Option<String>,
    /// Whether the caller's policies allowed it (in audit mode the call went on either way).
    pub allowed: bool,
    /// Refused by a resource policy (a role's trust policy, a KMS key policy) rather than by the
    /// caller's own policies, which no identity policy can change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_resource_policy: bool,
}

impl AuthCheck {
    /// A check with no tags, not by a resource policy.
    pub fn new(action: &str, resource: &str, allowed: bool) -> AuthCheck {
        AuthCheck {
            action: action.to_string(),
            resource: resource.to_string(),
            resource_tags: BTreeMap::new(),
            request_tags: BTreeMap::new(),
            create_action: None,
            allowed,
            by_resource_policy: false,
        }
    }
}

/// The tags that say which cluster owns a resource — what least-privilege conditions narrow on:
/// the cloud provider's `kubernetes.io/cluster/<id>` (and its legacy `KubernetesCluster`), the EBS
/// CSI driver's `ebs.csi.aws.com/cluster` and the load balancer controller's
/// `elbv2.k8s.aws/cluster`. Other tags (`Name`, ...) are not kept: a policy conditioned on them
/// would fit only the run it came from.
pub fn is_ownership_tag(key: &str) -> bool {
    key.starts_with("kubernetes.io/cluster/")
        || matches!(
            key,
            "KubernetesCluster" | "ebs.csi.aws.com/cluster" | "elbv2.k8s.aws/cluster"
        )
}

/// One line of the would-be-denied report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub count: u64,
}

/// Distinct checks kept with their exact resource per caller. Past it, a new check is kept with
/// its resource generalized as a suggested policy would name it (`volume/*`): a long run that
/// makes a new volume every few calls would otherwise grow the audit by one entry per volume
/// for ever, while the suggestion, made of the generalized form, comes out the same.
pub const MAX_EXACT_CHECKS: usize = 10_000;

/// Every distinct check per caller ARN, with how many times it was made (bounded: see
/// [`MAX_EXACT_CHECKS`]).
#[derive(Debug, Default)]
pub struct Audit {
    checks: Mutex<HashMap<String, HashMap<AuthCheck, u64>>>,
}

impl Audit {
    /// Counts `check` for `caller` (its ARN). On the request path: a repeat costs two lookups and
    /// no allocation; only a new check is copied.
    pub fn record(&self, caller: &str, check: &AuthCheck) {
        let Ok(mut all) = self.checks.lock() else {
            return;
        };
        let per_caller = match all.get_mut(caller) {
            Some(m) => m,
            None => all.entry(caller.to_string()).or_default(),
        };
        let full = per_caller.len() >= MAX_EXACT_CHECKS;
        match per_caller.get_mut(check) {
            Some(n) => *n += 1,
            None if !full => {
                per_caller.insert(check.clone(), 1);
            }
            None => {
                let mut general = check.clone();
                general.resource = crate::least_privilege::arn::pattern(&check.resource);
                *per_caller.entry(general).or_insert(0) += 1;
            }
        }
    }

    /// An audit holding these `(caller ARN, check, count)` (a restored snapshot's).
    pub fn from_checks(checks: &[(String, AuthCheck, u64)]) -> Audit {
        let mut all: HashMap<String, HashMap<AuthCheck, u64>> = HashMap::new();
        for (caller, check, n) in checks {
            *all.entry(caller.clone())
                .or_default()
                .entry(check.clone())
                .or_default() += n;
        }
        Audit {
            checks: Mutex::new(all),
        }
    }

    /// Every `(caller ARN, check, count)`, sorted so that reports repeat byte for byte.
    pub fn checks(&self) -> Vec<(String, AuthCheck, u64)> {
        let Ok(all) = self.checks.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(String, AuthCheck, u64)> = all
            .iter()
            .flat_map(|(caller, m)| m.iter().map(|(c, n)| (caller.clone(), c.clone(), *n)))
            .collect();
        out.sort_by(|a, b| {
            (
                &a.0,
                &a.1.action,
                &a.1.resource,
                &a.1.request_tags,
                &a.1.create_action,
            )
                .cmp(&(
                    &b.0,
                    &b.1.action,
                    &b.1.resource,
                    &b.1.request_tags,
                    &b.1.create_action,
                ))
        });
        out
    }

    /// The denied checks, counted by principal, action and resource, sorted.
    pub fn report(&self) -> Vec<AuditEntry> {
        let mut counted: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for (caller, check, n) in self.checks() {
            if !check.allowed {
                *counted
                    .entry((caller, check.action, check.resource))
                    .or_insert(0) += n;
            }
        }
        counted
            .into_iter()
            .map(|((principal, action, resource), count)| AuditEntry {
                principal,
                action,
                resource,
                count,
            })
            .collect()
    }

    /// The denied actions of each principal, as policy-ready lists.
    pub fn needed_actions(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = Default::default();
        for e in self.report() {
            let v = out.entry(e.principal).or_default();
            if !v.contains(&e.action) {
                v.push(e.action);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_bound_new_resources_are_kept_generalized() {
        let audit = Audit::default();
        let caller = "arn:aws:iam::1:user/u";
        let volume = |n: usize| {
            let arn = format!("arn:aws:ec2:us-east-1:1:volume/vol-{n}");
            AuthCheck::new("ec2:DeleteVolume", &arn, true)
        };
        for n in 0..MAX_EXACT_CHECKS + 500 {
            audit.record(caller, &volume(n));
        }
        // A known check still counts exactly.
        audit.record(caller, &volume(0));
        let checks = audit.checks();
        assert_eq!(checks.len(), MAX_EXACT_CHECKS + 1);
        let general = (checks.iter())
            .find(|(_, c, _)| c.resource == "arn:aws:ec2:us-east-1:1:volume/*")
            .unwrap();
        assert_eq!(general.2, 500);
        let first = (checks.iter())
            .find(|(_, c, _)| c.resource.ends_with("/vol-0"))
            .unwrap();
        assert_eq!(first.2, 2);
    }

    #[test]
    fn repeats_are_counted_and_only_denials_reported() {
        let audit = Audit::default();
        let denied = AuthCheck::new("ec2:CreateVolume", "arn:aws:ec2:r:1:volume/*", false);
        let allowed = AuthCheck::new("ec2:DescribeVolumes", "*", true);
        audit.record("arn:aws:iam::1:user/u", &denied);
        audit.record("arn:aws:iam::1:user/u", &denied);
        audit.record("arn:aws:iam::1:user/u", &allowed);
        assert_eq!(audit.checks().len(), 2);
        assert_eq!(
            audit.report(),
            vec![AuditEntry {
                principal: "arn:aws:iam::1:user/u".into(),
                action: "ec2:CreateVolume".into(),
                resource: "arn:aws:ec2:r:1:volume/*".into(),
                count: 2,
            }]
        );
        assert_eq!(
            audit.needed_actions()["arn:aws:iam::1:user/u"],
            vec!["ec2:CreateVolume".to_string()]
        );
    }

    #[test]
    fn ownership_tags() {
        assert!(is_ownership_tag("kubernetes.io/cluster/demo"));
        assert!(is_ownership_tag("ebs.csi.aws.com/cluster"));
        assert!(!is_ownership_tag("Name"));
        assert!(!is_ownership_tag("kubernetes.io/role/elb"));
    }
}
