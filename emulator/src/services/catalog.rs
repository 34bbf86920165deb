//! The operation names of each real AWS API (from the botocore service models), so that an action
//! awsemu does not emulate is told apart from one that does not exist: the first is authorized and
//! then answered `NotImplemented`, the second gets `InvalidAction` like AWS.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::protocol::ServiceId;

fn names(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

static CATALOG: LazyLock<[HashSet<&'static str>; 8]> = LazyLock::new(|| {
    [
        names(include_str!("catalog/ec2.txt")),
        names(include_str!("catalog/elb.txt")),
        names(include_str!("catalog/elbv2.txt")),
        names(include_str!("catalog/autoscaling.txt")),
        names(include_str!("catalog/iam.txt")),
        names(include_str!("catalog/sts.txt")),
        names(include_str!("catalog/kms.txt")),
        names(include_str!("catalog/ecr.txt")),
    ]
});

/// Whether `action` is a real operation of `service`.
pub fn knows(service: ServiceId, action: &str) -> bool {
    let i = ServiceId::ALL
        .iter()
        .position(|s| *s == service)
        .unwrap_or(0);
    CATALOG[i].contains(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_real_operations_only() {
        assert!(knows(ServiceId::Ec2, "DescribeRegions"));
        assert!(knows(ServiceId::Elb, "CreateLoadBalancerPolicy"));
        assert!(!knows(ServiceId::Elbv2, "CreateLoadBalancerPolicy"));
        assert!(knows(ServiceId::Kms, "DescribeKey"));
        assert!(knows(ServiceId::Ecr, "GetAuthorizationToken"));
        assert!(!knows(ServiceId::Ec2, "DescribeUnicorns"));
    }
}
