//! The classic load balancers of one region.
//!
//! A classic load balancer is a name with listeners, subnets (one per zone), security groups,
//! registered instances, a health check, attributes and policies. Instance health is not stored:
//! it is derived at each call from the instance's state and the virtual clock (see `health`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::tags::Tags;

/// The classic load balancers of a region, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Elb {
    pub load_balancers: BTreeMap<String, LoadBalancer>,
}

/// One listener: a front-end port and protocol forwarding to an instance port and protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// Upper case, as AWS returns it (`HTTP`, `HTTPS`, `TCP`, `SSL`) whatever case was sent.
    pub protocol: String,
    pub load_balancer_port: i64,
    pub instance_protocol: String,
    pub instance_port: i64,
    pub ssl_certificate_id: Option<String>,
    /// Policies set on this listener (SetLoadBalancerPoliciesOfListener).
    pub policy_names: Vec<String>,
}

/// A policy created on the load balancer (CreateLoadBalancerPolicy, or the default SSL
/// negotiation policy a secure listener gets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub type_name: String,
    pub attributes: Vec<(String, String)>,
}

/// The health check (ConfigureHealthCheck).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub target: String,
    pub interval: i64,
    pub timeout: i64,
    pub unhealthy_threshold: i64,
    pub healthy_threshold: i64,
}

/// `AccessLog` of the attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLog {
    pub enabled: bool,
    pub s3_bucket_name: Option<String>,
    pub emit_interval: i64,
    pub s3_bucket_prefix: Option<String>,
}

/// The load balancer attributes, with AWS's defaults for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    pub cross_zone: bool,
    pub access_log: AccessLog,
    pub connection_draining: bool,
    pub connection_draining_timeout: i64,
    pub idle_timeout: i64,
    /// `AdditionalAttributes`: today only `elb.http.desyncmitigationmode`.
    pub additional: BTreeMap<String, String>,
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes {
            cross_zone: false,
            access_log: AccessLog {
                enabled: false,
                s3_bucket_name: None,
                emit_interval: 60,
                s3_bucket_prefix: None,
            },
            connection_draining: false,
            connection_draining_timeout: 300,
            idle_timeout: 60,
            additional: BTreeMap::from([(
                "elb.http.desyncmitigationmode".to_string(),
                "defensive".to_string(),
            )]),
        }
    }
}

/// An instance registered with the load balancer, and since when (health checks start then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub instance_id: String,
    pub registered_ms: i64,
}

/// A classic load balancer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub dns_name: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub vpc_id: String,
    /// Sorted; one per zone.
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// Sorted by load balancer port.
    pub listeners: Vec<Listener>,
    pub policies: Vec<Policy>,
    /// Instance port -> policies (SetLoadBalancerPoliciesForBackendServer); empty lists removed.
    pub backend_policies: BTreeMap<i64, Vec<String>>,
    /// In registration order.
    pub instances: Vec<Registration>,
    pub health_check: HealthCheck,
    pub attributes: Attributes,
    pub tags: Tags,
    pub created_ms: i64,
}

impl Elb {
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

impl LoadBalancer {
    pub fn is_registered(&self, instance_id: &str) -> bool {
        self.instances.iter().any(|r| r.instance_id == instance_id)
    }

    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }
}
