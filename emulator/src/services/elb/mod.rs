//! Classic Elastic Load Balancing (awsQuery `2012-06-01`). [`model`] holds the load balancers of a
//! region; they live inside the region's EC2 state (`Ec2Region::elb`) because they use its
//! subnets, security groups and instances, and checks across them must be atomic.

pub mod model;

use super::Handler;

/// The handler of a classic ELB action, if emulated.
pub fn handler(action: &str) -> Option<Handler> {
    let _ = action;
    None
}
