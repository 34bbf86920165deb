//! Elastic Load Balancing v2 (awsQuery `2015-12-01`): application, network and gateway load
//! balancers, listeners, listener rules and target groups. [`model`] holds them; they live inside the region's EC2
//! state (`Ec2Region::elbv2`) because they use its subnets, security groups and instances, and a
//! check across them (a subnet's VPC, an instance's state) must see one consistent picture.
//!
//! One file per resource family: [`load_balancers`], [`listeners`] (with [`actions`]),
//! [`rules`] (with [`conditions`] and [`transforms`]),
//! [`target_groups`] (with [`health_checks`]), [`targets`] (registration and
//! [`target_health`]), [`attributes`] and [`tags`]. [`arn`], [`names`] and [`errors`] hold the
//! forms and answers they share; [`zones`] the hosted zones of load balancer DNS names.

pub mod actions;
pub mod arn;
pub mod attributes;
pub mod conditions;
pub mod errors;
pub mod health_checks;
pub mod listeners;
pub mod load_balancers;
pub mod model;
pub mod names;
pub mod rules;
pub mod tags;
pub mod target_groups;
pub mod target_health;
pub mod targets;
pub mod transforms;
pub mod zones;

use super::action::{Action, Creates, On, Request};

/// The ELBv2 actions, by family.
pub const ACTIONS: &[&[Action]] = &[
    load_balancers::ACTIONS,
    listeners::ACTIONS,
    rules::ACTIONS,
    target_groups::ACTIONS,
    targets::ACTIONS,
    attributes::ACTIONS,
    tags::ACTIONS,
];

/// An action on the load balancer, target group or listener whose ARN it names.
pub const ON_LOAD_BALANCER: &[On] = &[On::Arn("LoadBalancerArn")];
pub const ON_TARGET_GROUP: &[On] = &[On::Arn("TargetGroupArn")];
pub const ON_LISTENER: &[On] = &[On::Arn("ListenerArn")];

/// Tag on create: a create call with `Tags` is authorized for `elasticloadbalancing:AddTags` with
/// `elasticloadbalancing:CreateAction` ("ELB API permissions to tag resources during creation").
/// AWS checks the new resource's ARN, which is not known before the call here, so the check is on
/// its pattern (`targetgroup/NAME/*`, ...), which `arn` makes from the request.
pub const fn tagged_at(arn: fn(&Request<'_>) -> Option<String>) -> Creates {
    Creates {
        tag_action: "elasticloadbalancing:AddTags",
        create_action_key: "elasticloadbalancing:CreateAction",
        arn,
    }
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
