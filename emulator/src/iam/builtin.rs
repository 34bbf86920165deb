//! Built-in policies: `AdministratorAccess` and the Rancher node policies the cloud provider is
//! documented to need (control plane, etcd, worker), from `emulator/policies/*.json`.
//!
//! Each is parsed once, on first use, and shared (`Policy` clones share the document).

use super::evaluate::Policy;
use super::policy::PolicyDocument;
use std::sync::OnceLock;

const ADMIN: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
const CONTROLPLANE: &str = include_str!("../../policies/controlplane.json");
const ETCD: &str = include_str!("../../policies/etcd.json");
const WORKER: &str = include_str!("../../policies/worker.json");

/// Parses a built-in. The texts are fixed at compile time and the tests below parse each of them,
/// so failure is a build defect; should it happen anyway, the policy allows nothing (and says so
/// in the log) rather than bringing the server down.
fn load(cell: &'static OnceLock<Policy>, name: &str, text: &str) -> Policy {
    cell.get_or_init(|| {
        let document = PolicyDocument::parse(text).unwrap_or_else(|e| {
            tracing::error!(policy = name, error = %e, "built-in policy does not parse; it will allow nothing");
            PolicyDocument::empty()
        });
        Policy::new(name, document)
    })
    .clone()
}

/// The JSON text of a built-in policy by name, as IAM shows it.
pub fn source(name: &str) -> Option<&'static str> {
    Some(match name {
        "AdministratorAccess" => ADMIN,
        "controlplane" => CONTROLPLANE,
        "etcd" => ETCD,
        "worker" => WORKER,
        _ => return None,
    })
}

/// `AdministratorAccess`: Allow `*` on `*`.
pub fn admin() -> Policy {
    static CELL: OnceLock<Policy> = OnceLock::new();
    load(&CELL, "AdministratorAccess", ADMIN)
}

/// The control-plane node policy.
pub fn controlplane() -> Policy {
    static CELL: OnceLock<Policy> = OnceLock::new();
    load(&CELL, "controlplane", CONTROLPLANE)
}

/// The etcd node policy.
pub fn etcd() -> Policy {
    static CELL: OnceLock<Policy> = OnceLock::new();
    load(&CELL, "etcd", ETCD)
}

/// The worker node policy.
pub fn worker() -> Policy {
    static CELL: OnceLock<Policy> = OnceLock::new();
    load(&CELL, "worker", WORKER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::context::RequestContext;
    use crate::iam::evaluate::{evaluate, Decision};

    fn decision(policy: Policy, action: &str) -> Decision {
        evaluate(&[policy], &RequestContext::new(action, "*")).decision
    }

    #[test]
    fn all_builtins_parse() {
        for (name, text) in [
            ("admin", ADMIN),
            ("controlplane", CONTROLPLANE),
            ("etcd", ETCD),
            ("worker", WORKER),
        ] {
            let doc = PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!doc.statements().is_empty(), "{name}");
        }
    }

    #[test]
    fn worker() {
        assert_eq!(
            decision(super::worker(), "ec2:DescribeInstances"),
            Decision::Allow
        );
        assert_eq!(
            decision(super::worker(), "ecr:GetAuthorizationToken"),
            Decision::Allow
        );
        assert_eq!(
            decision(super::worker(), "ec2:CreateVolume"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn etcd() {
        assert_eq!(
            decision(super::etcd(), "ec2:DescribeInstances"),
            Decision::Allow
        );
        assert_eq!(
            decision(super::etcd(), "ec2:CreateVolume"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn controlplane() {
        let cp = super::controlplane();
        assert_eq!(cp.name, "controlplane");
        assert_eq!(decision(cp.clone(), "ec2:CreateVolume"), Decision::Allow);
        assert_eq!(
            decision(cp.clone(), "elasticloadbalancing:CreateLoadBalancer"),
            Decision::Allow
        );
        assert_eq!(
            decision(cp.clone(), "ecr:GetAuthorizationToken"),
            Decision::ImplicitDeny
        );
        // The documented policy lacks it, and the emulator must reproduce that gap.
        assert_eq!(
            decision(cp, "ec2:DescribeAvailabilityZones"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn admin_allows_anything() {
        for action in [
            "ec2:CreateVolume",
            "iam:CreateUser",
            "sts:AssumeRole",
            "kms:Decrypt",
        ] {
            assert_eq!(decision(admin(), action), Decision::Allow, "{action}");
        }
        let ctx = RequestContext::new(
            "ec2:AttachVolume",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-1",
        );
        assert!(evaluate(&[admin()], &ctx).is_allowed());
        assert_eq!(admin().name, "AdministratorAccess");
    }

    #[test]
    fn builtins_are_parsed_once() {
        assert!(std::sync::Arc::ptr_eq(
            &super::worker().document,
            &super::worker().document
        ));
    }
}
