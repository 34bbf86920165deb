//! EC2 (query protocol `2016-11-15`). One file per resource family.

pub mod regions;

use super::Handler;

/// The handler of an EC2 action, if emulated.
pub fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "DescribeRegions" => regions::describe_regions,
        "DescribeAvailabilityZones" => regions::describe_availability_zones,
        _ => return None,
    })
}
