//! Who a policy is for, and which ARN pattern a suggested statement names for a resource.

/// The identity a suggested policy is attached to: a role for its sessions, or a user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Holder {
    /// `arn:aws:iam::ACCT:role/NAME` or `arn:aws:iam::ACCT:user/NAME`.
    pub arn: String,
    /// `role` or `user` (`principal` for anything else, e.g. a root ARN).
    pub kind: &'static str,
    pub name: String,
}

/// The holder of a caller ARN: a role session
/// (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`) is its role — a policy is attached to the role,
/// whichever session called — and a user is itself.
pub fn holder_of(caller: &str) -> Holder {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    if let [_, partition, service, _, account, rest] = parts[..] {
        if let ("sts", Some(r)) = (service, rest.strip_prefix("assumed-role/")) {
            let role = r.split('/').next().unwrap_or(r);
            return Holder {
                arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                kind: "role",
                name: role.to_string(),
            };
        }
        if let ("iam", Some(u)) = (service, rest.strip_prefix("user/")) {
            return Holder {
                arn: caller.to_string(),
                kind: "user",
                name: u.rsplit('/').next().unwrap_or(u).to_string(),
            };
        }
    }
    Holder {
        arn: caller.to_string(),
        kind: "principal",
        name: caller.to_string(),
    }
}

/// The resource a suggested statement names for `arn`.
///
/// Resources AWS names by a generated id (`vol-…`, a KMS key id, a load balancer the provider
/// names after a Service's UID) become their resource type's wildcard in the same region and
/// account, `arn:aws:ec2:us-east-1:123456789012:volume/*`, so the policy still holds on the next
/// run, which makes new ones. Resources a user names once and reuses — IAM roles and instance
/// profiles (what `iam:PassRole` passes), ECR repositories, KMS aliases, Auto Scaling groups and
/// launch configurations by name — stay exact. ELBv2's kinds keep their family
/// (`loadbalancer/net/*`, `listener/app/*`), which is as narrow as their ARNs allow.
pub fn pattern(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, _, rest] = parts[..] else {
        return arn.to_string();
    };
    let named = match service {
        "iam" | "sts" | "ecr" => true,
        "kms" => rest.starts_with("alias/"),
        _ => false,
    };
    if named {
        return arn.to_string();
    }
    let prefix = &arn[..arn.len() - rest.len()];
    if service == "autoscaling" {
        // autoScalingGroup:UUID:autoScalingGroupName/NAME: the UUID is generated, the name chosen.
        let segs: Vec<&str> = rest.splitn(3, ':').collect();
        if let [kind, _, name] = segs[..] {
            return format!("{prefix}{kind}:*:{name}");
        }
        return arn.to_string();
    }
    let segs: Vec<&str> = rest.split('/').collect();
    match segs[..] {
        [kind, family, _, ..]
            if service == "elasticloadbalancing" && matches!(family, "app" | "net" | "gwy") =>
        {
            format!("{prefix}{kind}/{family}/*")
        }
        [kind, _, ..] => format!("{prefix}{kind}/*"),
        _ => arn.to_string(),
    }
}

/// The resource type a pattern names (`volume`, `loadbalancer/net`; `*` for any resource), for
/// statement ids.
pub fn resource_type(pattern: &str) -> &str {
    if pattern == "*" {
        return "*";
    }
    let rest = pattern.splitn(6, ':').nth(5).unwrap_or(pattern);
    let rest = rest.trim_end_matches("/*");
    match rest.split_once(['/', ':']) {
        Some((_, "app" | "net" | "gwy")) => rest,
        Some((kind, _)) => kind,
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders() {
        let h = holder_of("arn:aws:sts::123456789012:assumed-role/provider/awsemu");
        assert_eq!(h.arn, "arn:aws:iam::123456789012:role/provider");
        assert_eq!((h.kind, h.name.as_str()), ("role", "provider"));
        let h = holder_of("arn:aws:iam::123456789012:user/ci/deployer");
        assert_eq!(h.arn, "arn:aws:iam::123456789012:user/ci/deployer");
        assert_eq!((h.kind, h.name.as_str()), ("user", "deployer"));
        assert_eq!(holder_of("arn:aws:iam::1:root").kind, "principal");
        assert_eq!(holder_of("-").name, "-");
    }

    #[test]
    fn patterns() {
        let cases = [
            ("*", "*"),
            (
                "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc",
                "arn:aws:ec2:us-east-1:123456789012:volume/*",
            ),
            (
                "arn:aws:ec2:us-east-1::image/ami-1",
                "arn:aws:ec2:us-east-1::image/*",
            ),
            (
                "arn:aws:ec2:us-east-1:1:volume/*",
                "arn:aws:ec2:us-east-1:1:volume/*",
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/a4ca190b",
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/*",
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/a9b2/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/*",
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:listener/net/a9b2/50dc/f2f7",
                "arn:aws:elasticloadbalancing:us-east-1:1:listener/net/*",
            ),
            (
                // A listener being created: its load balancer's id is in the ARN.
                "arn:aws:elasticloadbalancing:us-east-1:1:listener/net/a9b2/50dc/*",
                "arn:aws:elasticloadbalancing:us-east-1:1:listener/net/*",
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/k8s-x/73e2d6bc24d8a067",
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/*",
            ),
            ("arn:aws:iam::1:role/worker", "arn:aws:iam::1:role/worker"),
            (
                "arn:aws:ecr:us-east-1:1:repository/app",
                "arn:aws:ecr:us-east-1:1:repository/app",
            ),
            (
                "arn:aws:kms:us-east-1:1:key/1234abcd-12ab",
                "arn:aws:kms:us-east-1:1:key/*",
            ),
            (
                "arn:aws:kms:us-east-1:1:alias/ebs",
                "arn:aws:kms:us-east-1:1:alias/ebs",
            ),
            (
                "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:6d3f:autoScalingGroupName/nodes",
                "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:autoScalingGroupName/nodes",
            ),
        ];
        for (arn, want) in cases {
            assert_eq!(pattern(arn), want, "{arn}");
        }
    }

    #[test]
    fn resource_types() {
        assert_eq!(resource_type("*"), "*");
        assert_eq!(resource_type("arn:aws:ec2:r:1:volume/*"), "volume");
        assert_eq!(
            resource_type("arn:aws:elasticloadbalancing:r:1:loadbalancer/net/*"),
            "loadbalancer/net"
        );
        assert_eq!(resource_type("arn:aws:iam::1:role/worker"), "role");
        assert_eq!(
            resource_type("arn:aws:autoscaling:r:1:autoScalingGroup:*:autoScalingGroupName/n"),
            "autoScalingGroup"
        );
    }
}
