//! Elastic Load Balancing v2 (awsQuery `2015-12-01`): application, network and gateway load
//! balancers, listeners and target groups. [`model`] holds them; they live inside the region's EC2
//! state (`Ec2Region::elbv2`) because they use its subnets, security groups and instances.

pub mod model;
pub mod zones;

use super::Handler;

/// The handler of an ELBv2 action, if emulated.
pub fn handler(action: &str) -> Option<Handler> {
    let _ = action;
    None
}
