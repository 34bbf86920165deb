//! The v2 load balancers, listeners and target groups of one region.

use std::collections::BTreeMap;

use serde::Serialize;

/// The ELBv2 resources of a region, by ARN.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Elbv2 {
    pub load_balancers: BTreeMap<String, LoadBalancer>,
}

/// A v2 load balancer.
#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

impl Elbv2 {
    /// Whether a load balancer uses security group `id`.
    pub fn uses_group(&self, id: &str) -> bool {
        self.load_balancers
            .values()
            .any(|lb| lb.security_groups.iter().any(|g| g == id))
    }

    /// Whether a load balancer has a network interface in subnet `id`.
    pub fn uses_subnet(&self, id: &str) -> bool {
        self.load_balancers
            .values()
            .any(|lb| lb.subnets.iter().any(|s| s == id))
    }
}
