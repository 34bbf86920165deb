//! Elastic Load Balancing v2 (awsQuery `2015-12-01`): application, network and gateway load
//! balancers, listeners and target groups. [`model`] holds them; they live inside the region's EC2
//! state (`Ec2Region::elbv2`) because they use its subnets, security groups and instances, and a
//! check across them (a subnet's VPC, an instance's state) must see one consistent picture.
//!
//! One file per resource family: [`load_balancers`], [`listeners`] (with [`actions`]),
//! [`target_groups`] (with [`health_checks`]), [`targets`] (registration and
//! [`target_health`]), [`attributes`] and [`tags`]. [`arn`], [`names`] and [`errors`] hold the
//! forms and answers they share; [`zones`] the hosted zones of load balancer DNS names.

pub mod actions;
pub mod arn;
pub mod attributes;
pub mod errors;
pub mod health_checks;
pub mod listeners;
pub mod load_balancers;
pub mod model;
pub mod names;
pub mod tags;
pub mod target_groups;
pub mod target_health;
pub mod targets;
pub mod zones;

use super::Handler;

/// The handler of an ELBv2 action, if emulated.
pub fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "CreateLoadBalancer" => load_balancers::create_load_balancer,
        "DescribeLoadBalancers" => load_balancers::describe_load_balancers,
        "DeleteLoadBalancer" => load_balancers::delete_load_balancer,
        "SetSecurityGroups" => load_balancers::set_security_groups,
        "SetSubnets" => load_balancers::set_subnets,
        "CreateListener" => listeners::create_listener,
        "DescribeListeners" => listeners::describe_listeners,
        "ModifyListener" => listeners::modify_listener,
        "DeleteListener" => listeners::delete_listener,
        "CreateTargetGroup" => target_groups::create_target_group,
        "DescribeTargetGroups" => target_groups::describe_target_groups,
        "ModifyTargetGroup" => target_groups::modify_target_group,
        "DeleteTargetGroup" => target_groups::delete_target_group,
        "RegisterTargets" => targets::register_targets,
        "DeregisterTargets" => targets::deregister_targets,
        "DescribeTargetHealth" => targets::describe_target_health,
        "DescribeLoadBalancerAttributes" => attributes::describe_load_balancer_attributes,
        "ModifyLoadBalancerAttributes" => attributes::modify_load_balancer_attributes,
        "DescribeTargetGroupAttributes" => attributes::describe_target_group_attributes,
        "ModifyTargetGroupAttributes" => attributes::modify_target_group_attributes,
        "AddTags" => tags::add_tags,
        "RemoveTags" => tags::remove_tags,
        "DescribeTags" => tags::describe_tags,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::protocol::writer::timestamp;
    use crate::protocol::ServiceId;

    /// ELBv2 (alone of the XML services) keeps the milliseconds: `2016-03-25T21:26:12.920Z`.
    #[test]
    fn timestamps_keep_milliseconds() {
        assert_eq!(
            timestamp(ServiceId::Elbv2, 1_458_941_172_920),
            "2016-03-25T21:26:12.920Z"
        );
    }
}
