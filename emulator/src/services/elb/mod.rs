//! Classic Elastic Load Balancing (awsQuery `2012-06-01`). [`model`] holds the load balancers of a
//! region; they live inside the region's EC2 state (`Ec2Region::elb`) because they use its
//! subnets, security groups and instances, and checks across them must be atomic.
//!
//! One file per family: `load_balancers` (create, delete, describe, subnets, security groups),
//! `listeners`, `health` (health check, instance registration and health), `attributes`,
//! `policies`, `tags`.

pub mod attributes;
pub mod health;
pub mod listeners;
pub mod load_balancers;
pub mod model;
pub mod policies;
pub mod tags;

use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult, Scope};
use crate::services::ec2::model::Ec2Region;

use super::action::{Action, Named, On};
use model::LoadBalancer;

/// The classic ELB actions, by family.
pub const ACTIONS: &[&[Action]] = &[
    load_balancers::ACTIONS,
    listeners::ACTIONS,
    health::ACTIONS,
    attributes::ACTIONS,
    policies::ACTIONS,
    tags::ACTIONS,
];

/// A classic load balancer by name: `arn:aws:elasticloadbalancing:R:A:loadbalancer/NAME`.
pub const LOAD_BALANCER: Named = Named {
    service: "elasticloadbalancing",
    regional: true,
    resource: "loadbalancer",
};

/// What an action on one load balancer is authorized on. (The Describe calls are not scoped to
/// a resource: `*`.)
pub const ON_LOAD_BALANCER: &[On] = &[On::Name(&LOAD_BALANCER, "LoadBalancerName")];

/// `LoadBalancerNotFound` as AWS words it for actions on one named load balancer.
pub fn not_found(name: &str) -> AwsError {
    AwsError::bad_request(
        "LoadBalancerNotFound",
        format!("There is no ACTIVE Load Balancer named '{name}'"),
    )
}

/// `InvalidConfigurationRequest`, which classic ELB answers with HTTP 409.
pub fn invalid_configuration(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidConfigurationRequest", message, 409)
}

/// `ValidationError`, the query APIs' code for a value of the wrong form.
pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationError", message)
}

/// The load balancer `name` of the region.
pub fn find<'a>(r: &'a Ec2Region, name: &str) -> AwsResult<&'a LoadBalancer> {
    r.elb
        .load_balancers
        .get(name)
        .ok_or_else(|| not_found(name))
}

/// The load balancer `name` of the region, to change.
pub fn find_mut<'a>(r: &'a mut Ec2Region, name: &str) -> AwsResult<&'a mut LoadBalancer> {
    r.elb
        .load_balancers
        .get_mut(name)
        .ok_or_else(|| not_found(name))
}

/// An integer parameter within AWS's bounds, or the Coral `ValidationError` naming the field.
pub fn bounded(p: &Scope<'_>, name: &str, field: &str, lo: i64, hi: i64) -> AwsResult<Option<i64>> {
    let v = p.int(name)?;
    Constraints::new().range(field, v, lo, hi).check()?;
    Ok(v)
}

/// A required integer within AWS's bounds.
pub fn required_bounded(
    p: &Scope<'_>,
    name: &str,
    field: &str,
    lo: i64,
    hi: i64,
) -> AwsResult<i64> {
    p.required(name)?;
    bounded(p, name, field, lo, hi)?.ok_or_else(AwsError::internal)
}
