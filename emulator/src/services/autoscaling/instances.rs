//! What cluster-autoscaler calls on a group's capacity and instances: SetDesiredCapacity,
//! TerminateInstanceInAutoScalingGroup (which answers its scaling activity) and
//! DescribeAutoScalingInstances. The launches and terminations they cause are
//! [`capacity`](super::capacity)'s, recorded as scaling activities ([`activities`]).

use crate::protocol::{AwsResult, Output};
use crate::services::action::Action;
use crate::services::ec2::instances::lifecycle;
use crate::services::Call;

use super::capacity::reconcile_group;
use super::groups::member_state;
use super::model::{ActivityKind, Leaving, Member};
use super::{
    activities, check_string, group_not_found, required_name, validation, with_region, Records,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("SetDesiredCapacity", set_desired_capacity),
    Action::new(
        "TerminateInstanceInAutoScalingGroup",
        terminate_instance_in_auto_scaling_group,
    ),
    Action::new(
        "DescribeAutoScalingInstances",
        describe_auto_scaling_instances,
    ),
];

fn set_desired_capacity(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    p.required("DesiredCapacity")?;
    let desired = p.int("DesiredCapacity")?.unwrap_or_default();
    // Cooldowns are not modelled: no scaling policy runs here, so there is none to honour.
    let _honor = p.bool("HonorCooldown")?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let g = region
            .autoscaling
            .groups
            .get_mut(name)
            .ok_or_else(|| group_not_found(name))?;
        if g.deleting {
            return Err(validation(
                "The AutoScaling group may not be modified while it is pending delete",
            ));
        }
        if desired > g.max_size {
            return Err(validation(format!(
                "New SetDesiredCapacity value {desired} is above max value {} for the AutoScalingGroup.",
                g.max_size
            )));
        }
        if desired < g.min_size {
            return Err(validation(format!(
                "New SetDesiredCapacity value {desired} is below min value {} for the AutoScalingGroup.",
                g.min_size
            )));
        }
        if desired != g.desired_capacity {
            g.cause = Some(format!(
                "At {} a user request explicitly set group desired capacity changing the desired capacity from {} to {desired}.",
                activities::at(call.now_ms),
                g.desired_capacity
            ));
            g.desired_capacity = desired;
        }
        reconcile_group(region, name, call);
        Ok(Output::XmlEmpty)
    })
}

fn terminate_instance_in_auto_scaling_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let single = p.str("InstanceId");
    let many = p.strings("InstanceIds")?;
    let group_name = p.str("AutoScalingGroupName");
    let decrement = p.bool("ShouldDecrementDesiredCapacity")?.ok_or_else(|| {
        validation("1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null")
    })?;
    call.params()?.finish()?;
    let ids: Vec<&str> = match (single, many.is_empty()) {
        (Some(id), true) => vec![id],
        (None, false) => many.clone(),
        _ => {
            return Err(validation(
                "Valid requests must contain either InstanceId or InstanceIds, but not both",
            ))
        }
    };
    for id in &ids {
        check_string(id, "instanceId", 1, 19)?;
    }
    with_region(call, |region| {
        // Check every instance first: a refused request changes nothing.
        let mut found: Vec<(String, Member)> = Vec::new();
        for id in &ids {
            let (g, m) = region
                .autoscaling
                .groups
                .values()
                .filter(|g| group_name.is_none_or(|n| g.name == n))
                .find_map(|g| {
                    g.members
                        .get(*id)
                        .filter(|m| m.leaving.is_none())
                        .map(|m| (g, m))
                })
                .ok_or_else(|| {
                    validation(format!(
                        "Instance Id not found - No managed instance found for instance ID: {id}"
                    ))
                })?;
            found.push((g.name.clone(), m.clone()));
        }
        if decrement {
            for (name, _) in &found {
                let Some(g) = region.autoscaling.groups.get(name) else {
                    continue;
                };
                let leaving = found.iter().filter(|(n, _)| n == name).count() as i64;
                if g.desired_capacity - leaving < g.min_size {
                    return Err(validation(format!(
                        "Currently, desiredSize equals minSize ({}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.",
                        g.min_size
                    )));
                }
            }
        }
        let mut activity_ids = Vec::new();
        for (name, m) in &found {
            let id = &m.instance_id;
            let Some(g) = region.autoscaling.groups.get_mut(name) else {
                continue;
            };
            let now = activities::at(call.now_ms);
            let cause = if decrement {
                let from = g.desired_capacity;
                g.desired_capacity -= 1;
                format!(
                    "At {now} instance {id} was taken out of service in response to a user request, shrinking the capacity from {from} to {}.",
                    g.desired_capacity
                )
            } else {
                format!("At {now} instance {id} was taken out of service in response to a user request.")
            };
            if let Some(member) = g.members.get_mut(id) {
                member.leaving = Some(Leaving::ScaledIn);
            }
            let group = g.clone();
            let activity = activities::record(
                region,
                call,
                &group,
                activities::New {
                    kind: ActivityKind::Terminate,
                    instance_id: Some(id.to_string()),
                    description: format!("Terminating EC2 instance: {id}"),
                    cause,
                    status_message: None,
                    details: activities::details(&m.subnet_id, &m.zone),
                },
            );
            lifecycle::terminate(region, id, call);
            activity_ids.push(activity);
        }
        let mut w = call.writer();
        let shown: Vec<_> = region
            .autoscaling
            .activities
            .iter()
            .filter(|a| activity_ids.contains(&a.id))
            .cloned()
            .collect();
        // The answer shows each activity as it started.
        let render = |w: &mut crate::protocol::writer::Writer, a: &super::model::Activity| {
            w.str("ActivityId", &a.id)
                .str("AutoScalingGroupName", &a.group)
                .str("Description", &a.description)
                .str("Cause", &a.cause)
                .time("StartTime", a.start_ms)
                .str("StatusCode", "InProgress")
                .int("Progress", 0)
                .str("Details", &a.details)
                .str("AutoScalingGroupARN", &a.group_arn);
        };
        if single.is_some() {
            if let Some(a) = shown.first() {
                w.structure("Activity", |w| render(w, a));
            }
        } else {
            w.list("Activities", &shown, |w, a| render(w, a));
        }
        for (name, _) in &found {
            reconcile_group(region, name, call);
        }
        w.finish()
    })
}

fn describe_auto_scaling_instances(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("InstanceIds")?;
    let _ = p.bool("IncludeManagedResources")?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    if ids.len() > 50 {
        return Err(validation(
            "The number of instance ids that may be passed in is limited to 50",
        ));
    }
    with_region(call, |region| {
        let mut list: Vec<(&str, &Member)> = region
            .autoscaling
            .groups
            .values()
            .flat_map(|g| g.members.values().map(move |m| (g.name.as_str(), m)))
            .filter(|(_, m)| ids.is_empty() || ids.contains(&m.instance_id.as_str()))
            .collect();
        list.sort_by(|a, b| a.1.instance_id.cmp(&b.1.instance_id));
        let (page, next) = records.apply_within(list, 50, 50)?;
        let zone_id = |zone: &str| {
            region
                .region
                .zones()
                .into_iter()
                .find(|z| z.name == zone)
                .map(|z| z.id)
        };
        let mut w = call.writer();
        w.list("AutoScalingInstances", page, |w, (group, m)| {
            let (lifecycle, health) = member_state(region, m, call.now_ms);
            w.str("InstanceId", &m.instance_id)
                .str("InstanceType", &m.instance_type)
                .str("AutoScalingGroupName", group)
                .str("AvailabilityZone", &m.zone)
                .str_opt("AvailabilityZoneId", zone_id(&m.zone))
                .str("LifecycleState", lifecycle)
                .str("HealthStatus", health.to_uppercase())
                .str_opt("LaunchConfigurationName", m.launch_configuration.as_deref());
            if let Some(t) = &m.launch_template {
                w.structure("LaunchTemplate", |w| {
                    super::launch_source::render_spec(w, t)
                });
            }
            w.bool("ProtectedFromScaleIn", m.protected_from_scale_in);
        });
        w.str_opt("NextToken", next);
        w.finish()
    })
}
