//! CreateAutoScalingGroup, DescribeAutoScalingGroups, UpdateAutoScalingGroup and
//! DeleteAutoScalingGroup. The instances themselves are launched and terminated by
//! [`capacity`](super::capacity) once a call has set what the group should be.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::services::Call;

use super::capacity::reconcile_group;
use super::launch_source::{self, Checked, Source, ONE_SOURCE};
use super::model::{AttachedBy, Group, Leaving, Member, SourceKind};
use super::tags::{self, TagInput};
use super::{activities, traffic, traffic_sources};
use super::{
    arn, check_string, group_not_found, read_filters, required_name, validation, with_region,
    Records,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateAutoScalingGroup", create_auto_scaling_group),
    Action::new("DescribeAutoScalingGroups", describe_auto_scaling_groups),
    Action::new("UpdateAutoScalingGroup", update_auto_scaling_group),
    Action::new("DeleteAutoScalingGroup", delete_auto_scaling_group),
];

/// The members Create and Update share, each when given.
struct Settings<'a> {
    launch_configuration: Option<&'a str>,
    source: Option<Source<'a>>,
    min: Option<i64>,
    max: Option<i64>,
    desired: Option<i64>,
    default_cooldown: Option<i64>,
    zones: Vec<&'a str>,
    zone_ids: Vec<&'a str>,
    vpc_zone_identifier: Option<&'a str>,
    health_check_type: Option<&'a str>,
    health_check_grace_period: Option<i64>,
    placement_group: Option<&'a str>,
    termination_policies: Option<Vec<&'a str>>,
    new_instances_protected: Option<bool>,
    capacity_rebalance: Option<bool>,
    service_linked_role_arn: Option<&'a str>,
    max_instance_lifetime: Option<i64>,
    context: Option<&'a str>,
    desired_capacity_type: Option<&'a str>,
    default_instance_warmup: Option<i64>,
    deletion_protection: Option<&'a str>,
}

/// Members of CreateAutoScalingGroup that awsemu does not model: refused as not emulated rather
/// than ignored.
const NOT_MODELLED: &[&str] = &[
    "InstanceId",
    "LifecycleHookSpecificationList",
    "InstanceMaintenancePolicy",
    "AvailabilityZoneDistribution",
    "AvailabilityZoneImpairmentPolicy",
    "SkipZonalShiftValidation",
    "CapacityReservationSpecification",
    "InstanceLifecyclePolicy",
    "Operator",
];

/// The same for UpdateAutoScalingGroup (which has no InstanceId, hooks, traffic sources or operator).
/// `SkipZonalShiftValidation` is refused because zonal shift is not modelled (AttachTrafficSources
/// accepts it: there it only skips a check).
const NOT_MODELLED_ON_UPDATE: &[&str] = &[
    "InstanceMaintenancePolicy",
    "AvailabilityZoneDistribution",
    "AvailabilityZoneImpairmentPolicy",
    "SkipZonalShiftValidation",
    "CapacityReservationSpecification",
    "InstanceLifecyclePolicy",
];

const TERMINATION_POLICIES: &[&str] = &[
    "Default",
    "AllocationStrategy",
    "ClosestToNextInstanceHour",
    "NewestInstance",
    "OldestInstance",
    "OldestLaunchConfiguration",
    "OldestLaunchTemplate",
];

const HEALTH_CHECK_TYPES: &[&str] = &["EC2", "EBS", "ELB", "VPC_LATTICE"];

fn read_settings<'a>(p: &Scope<'a>) -> AwsResult<Settings<'a>> {
    let termination_policies = if p.has("TerminationPolicies") {
        Some(p.strings("TerminationPolicies")?)
    } else {
        None
    };
    Ok(Settings {
        launch_configuration: p.str("LaunchConfigurationName"),
        source: launch_source::read(p)?,
        min: p.int("MinSize")?,
        max: p.int("MaxSize")?,
        desired: p.int("DesiredCapacity")?,
        default_cooldown: p.int("DefaultCooldown")?,
        zones: p.strings("AvailabilityZones")?,
        zone_ids: p.strings("AvailabilityZoneIds")?,
        vpc_zone_identifier: p.str("VPCZoneIdentifier"),
        health_check_type: p.str("HealthCheckType"),
        health_check_grace_period: p.int("HealthCheckGracePeriod")?,
        placement_group: p.str("PlacementGroup"),
        termination_policies,
        new_instances_protected: p.bool("NewInstancesProtectedFromScaleIn")?,
        capacity_rebalance: p.bool("CapacityRebalance")?,
        service_linked_role_arn: p.str("ServiceLinkedRoleARN"),
        max_instance_lifetime: p.int("MaxInstanceLifetime")?,
        context: p.str("Context"),
        desired_capacity_type: p.str("DesiredCapacityType"),
        default_instance_warmup: p.int("DefaultInstanceWarmup")?,
        deletion_protection: p.str("DeletionProtection"),
    })
}

/// Refuses the members awsemu does not model.
fn check_unmodelled(p: &Scope<'_>, action: &str, members: &[&str]) -> AwsResult<()> {
    if let Some(m) = members.iter().find(|m| p.has(m)) {
        return Err(AwsError::new(
            "NotImplemented",
            format!("awsemu does not emulate the {m} parameter of {action}"),
            501,
        ));
    }
    Ok(())
}

/// Checks the members whose values are wrong whatever the state.
fn check_settings(s: &Settings<'_>) -> AwsResult<()> {
    let strings = [
        ("launchConfigurationName", s.launch_configuration, 255),
        ("vPCZoneIdentifier", s.vpc_zone_identifier, 5000),
        ("healthCheckType", s.health_check_type, 32),
        ("placementGroup", s.placement_group, 255),
        ("serviceLinkedRoleARN", s.service_linked_role_arn, 1600),
        ("desiredCapacityType", s.desired_capacity_type, 255),
    ];
    for (path, value, max) in strings {
        if let Some(v) = value {
            check_string(v, path, 1, max)?;
        }
    }
    if let Some(t) = s.health_check_type {
        if let Some(bad) = t
            .split(',')
            .find(|h| !HEALTH_CHECK_TYPES.contains(&h.trim()))
        {
            return Err(validation(format!(
                "Invalid health check type '{bad}'. Valid values are: {}",
                HEALTH_CHECK_TYPES.join(", ")
            )));
        }
    }
    for p in s.termination_policies.iter().flatten() {
        if !TERMINATION_POLICIES.contains(p) && !p.starts_with("arn:aws:lambda:") {
            return Err(validation(format!(
                "Termination policy {p} is not valid. Valid policies are: {}, or the ARN of a Lambda function",
                TERMINATION_POLICIES.join(", ")
            )));
        }
    }
    if let Some(d) = s.deletion_protection.filter(|d| {
        !matches!(
            *d,
            "none" | "prevent-force-deletion" | "prevent-all-deletion"
        )
    }) {
        return Err(super::constraint(
            d,
            "deletionProtection",
            "satisfy enum value set: [none, prevent-force-deletion, prevent-all-deletion]",
        ));
    }
    if let Some(t) = s
        .desired_capacity_type
        .filter(|t| !matches!(*t, "units" | "vcpu" | "memory-mib"))
    {
        return Err(validation(format!(
            "Invalid DesiredCapacityType '{t}'. Valid values are: units, vcpu, memory-mib"
        )));
    }
    for (path, value) in [
        ("minSize", s.min),
        ("maxSize", s.max),
        ("desiredCapacity", s.desired),
        ("defaultCooldown", s.default_cooldown),
        ("healthCheckGracePeriod", s.health_check_grace_period),
    ] {
        if let Some(v) = value.filter(|v| *v < 0) {
            return Err(super::constraint(
                v,
                path,
                "have value greater than or equal to 0",
            ));
        }
    }
    Ok(())
}

/// AWS's checks of the three sizes together.
fn check_sizes(min: i64, max: i64, desired: i64) -> AwsResult<()> {
    if min > max {
        return Err(validation(format!(
            "Max bound, {max}, must be greater than or equal to min bound, {min}"
        )));
    }
    if desired < min || desired > max {
        return Err(validation(format!(
            "Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"
        )));
    }
    Ok(())
}

/// `VPCZoneIdentifier` as a list: comma-separated, spaces trimmed, duplicates dropped.
fn subnet_list(v: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(|s| seen.insert(s.to_string()))
        .map(str::to_string)
        .collect()
}

/// Where a group may launch: (sorted zones, subnets). The subnets must exist, the zones be the
/// region's; given both, the subnets' zones must be exactly the zones.
fn placement(
    region: &Ec2Region,
    zones: &[&str],
    zone_ids: &[&str],
    subnets: Option<Vec<String>>,
) -> AwsResult<(Vec<String>, Vec<String>)> {
    let mut named: BTreeSet<String> = BTreeSet::new();
    for z in zones {
        if region.region.zone(z).is_none() {
            return Err(validation(format!(
                "The availability zone {z} is not valid"
            )));
        }
        named.insert(z.to_string());
    }
    for id in zone_ids {
        let zone = region
            .region
            .zones()
            .into_iter()
            .find(|z| z.id == *id)
            .ok_or_else(|| validation(format!("The availability zone ID {id} is not valid")))?;
        named.insert(zone.name);
    }
    match subnets {
        Some(subnets) if subnets.is_empty() => Err(validation(
            "At least one Availability Zone or VPC Subnet is required.",
        )),
        Some(subnets) => {
            let mut from_subnets = BTreeSet::new();
            for id in &subnets {
                let s = region
                    .subnets
                    .get(id)
                    .ok_or_else(|| validation(format!("The subnet ID '{id}' does not exist")))?;
                from_subnets.insert(s.zone.clone());
            }
            if !named.is_empty() && named != from_subnets {
                return Err(validation(
                    "The availability zones of the specified subnets and the Auto Scaling group do not match",
                ));
            }
            Ok((from_subnets.into_iter().collect(), subnets))
        }
        None => {
            for z in &named {
                let has_default = region
                    .subnets
                    .values()
                    .any(|s| s.default_for_az && s.vpc_id == region.default_vpc_id && s.zone == *z);
                if !has_default {
                    return Err(validation(format!(
                        "No default subnet for availability zone: '{z}'."
                    )));
                }
            }
            Ok((named.into_iter().collect(), Vec::new()))
        }
    }
}

/// The VPCs a group launches into: its subnets', or the default VPC.
fn vpcs_of(region: &Ec2Region, zones: &[String], subnets: &[String]) -> Vec<String> {
    let mut vpcs: BTreeSet<String> = subnets
        .iter()
        .filter_map(|id| region.subnets.get(id))
        .map(|s| s.vpc_id.clone())
        .collect();
    if subnets.is_empty() && !zones.is_empty() {
        vpcs.insert(region.default_vpc_id.clone());
    }
    vpcs.into_iter().collect()
}

/// Sets a group's launch source, the others cleared.
fn set_source(g: &mut Group, source: Checked) {
    g.launch_configuration = None;
    g.launch_template = None;
    g.mixed_instances_policy = None;
    match source {
        Checked::Configuration(lc) => g.launch_configuration = Some(lc),
        Checked::Template(t) => g.launch_template = Some(t),
        Checked::Mixed(m) => g.mixed_instances_policy = Some(m),
    }
}

fn missing(member: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

pub fn create_auto_scaling_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let s = read_settings(&p)?;
    let tag_input: Vec<TagInput> = tags::parse(&p)?;
    let load_balancers = p.strings("LoadBalancerNames")?;
    let target_groups = p.strings("TargetGroupARNs")?;
    let sources = traffic_sources::read_sources(&p, false)?;
    check_unmodelled(&p, "CreateAutoScalingGroup", NOT_MODELLED)?;
    call.params()?.finish()?;

    let min = s.min.ok_or_else(|| missing("minSize"))?;
    let max = s.max.ok_or_else(|| missing("maxSize"))?;
    check_settings(&s)?;
    let source = s.source.clone().ok_or_else(|| validation(ONE_SOURCE))?;
    let desired = s.desired.unwrap_or(min);
    check_sizes(min, max, desired)?;
    let subnets = s.vpc_zone_identifier.map(subnet_list);
    if subnets.as_ref().is_none_or(|s| s.is_empty()) && s.zones.is_empty() && s.zone_ids.is_empty()
    {
        return Err(validation(
            "At least one Availability Zone or VPC Subnet is required.",
        ));
    }
    let group_tags = tags::for_new_group(name, &tag_input)?;

    with_region(call, |region| {
        if region.autoscaling.groups.contains_key(name) {
            return Err(AwsError::bad_request(
                "AlreadyExists",
                format!(
                    "AutoScalingGroup by this name already exists - A group with the name {name} already exists"
                ),
            ));
        }
        let checked = launch_source::check(region, &source)?;
        let (zones, subnets) = placement(region, &s.zones, &s.zone_ids, subnets)?;
        traffic::check_load_balancers(region, &load_balancers)?;
        traffic::check_target_groups(region, &target_groups)?;
        traffic_sources::check_sources(region, &sources)?;
        let mut group = Group {
            name: name.to_string(),
            arn: arn(call, "autoScalingGroup", name),
            launch_configuration: None,
            launch_template: None,
            mixed_instances_policy: None,
            min_size: min,
            max_size: max,
            desired_capacity: desired,
            default_cooldown: s.default_cooldown.unwrap_or(300),
            zones,
            subnets,
            traffic_sources: Vec::new(),
            health_check_type: s.health_check_type.unwrap_or("EC2").to_string(),
            health_check_grace_period: s.health_check_grace_period.unwrap_or(0),
            created_ms: call.now_ms,
            placement_group: s.placement_group.map(str::to_string),
            termination_policies: match &s.termination_policies {
                Some(list) if !list.is_empty() => list.iter().map(|p| p.to_string()).collect(),
                _ => vec!["Default".to_string()],
            },
            new_instances_protected_from_scale_in: s.new_instances_protected.unwrap_or(false),
            capacity_rebalance: s.capacity_rebalance.unwrap_or(false),
            max_instance_lifetime: s.max_instance_lifetime,
            default_instance_warmup: s.default_instance_warmup,
            desired_capacity_type: s.desired_capacity_type.map(str::to_string),
            context: s.context.map(str::to_string),
            service_linked_role_arn: s
                .service_linked_role_arn
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "arn:aws:iam::{}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                        call.account
                    )
                }),
            deletion_protection: s.deletion_protection.map(str::to_string),
            tags: group_tags,
            members: BTreeMap::new(),
            deleting: false,
            cause: Some(format!(
                "At {} a user request created an AutoScalingGroup changing the desired capacity from 0 to {desired}.",
                activities::at(call.now_ms)
            )),
        };
        set_source(&mut group, checked);
        let vpcs = vpcs_of(region, &group.zones, &group.subnets);
        launch_source::check_groups_fit(region, &group, call.region, call.identities, &vpcs)?;
        for (kind, ids) in [
            (SourceKind::Elb, &load_balancers),
            (SourceKind::Elbv2, &target_groups),
        ] {
            traffic::check_room(&group, kind, ids)?;
            traffic::attach(
                &mut group,
                kind,
                ids,
                AttachedBy::LoadBalancerApi,
                true,
                call.now_ms,
            );
        }
        for (kind, ids) in traffic_sources::by_kind(&sources) {
            traffic::check_room(&group, kind, &ids)?;
            traffic::attach(
                &mut group,
                kind,
                &ids,
                AttachedBy::TrafficSourceApi,
                true,
                call.now_ms,
            );
        }
        region.autoscaling.groups.insert(name.to_string(), group);
        reconcile_group(region, name, call);
        Ok(Output::XmlEmpty)
    })
}

pub fn update_auto_scaling_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let s = read_settings(&p)?;
    check_unmodelled(&p, "UpdateAutoScalingGroup", NOT_MODELLED_ON_UPDATE)?;
    call.params()?.finish()?;
    check_settings(&s)?;
    let subnets = s.vpc_zone_identifier.map(subnet_list);

    with_region(call, |region| {
        let g = region
            .autoscaling
            .groups
            .get(name)
            .ok_or_else(|| group_not_found(name))?;
        if g.deleting {
            return Err(validation(
                "The AutoScaling group may not be modified while it is pending delete",
            ));
        }
        let checked = match &s.source {
            Some(src) => Some(launch_source::check(region, src)?),
            None => None,
        };
        let min = s.min.unwrap_or(g.min_size);
        let max = s.max.unwrap_or(g.max_size);
        let desired = match s.desired {
            Some(d) => d,
            None if s.min.is_some() && min > g.desired_capacity => min,
            None if s.max.is_some() && max < g.desired_capacity => max,
            None => g.desired_capacity,
        };
        check_sizes(min, max, desired)?;
        let placement_changed = subnets.is_some() || !s.zones.is_empty() || !s.zone_ids.is_empty();
        let (zones, subnets) = if placement_changed {
            let subnets = match subnets {
                Some(list) => Some(list),
                None if !g.subnets.is_empty() => Some(g.subnets.clone()),
                None => None,
            };
            placement(region, &s.zones, &s.zone_ids, subnets)?
        } else {
            (g.zones.clone(), g.subnets.clone())
        };
        let mut candidate = g.clone();
        if let Some(c) = checked {
            set_source(&mut candidate, c);
        }
        let vpcs = vpcs_of(region, &zones, &subnets);
        launch_source::check_groups_fit(region, &candidate, call.region, call.identities, &vpcs)?;
        let old_desired = g.desired_capacity;

        let service_role = s.service_linked_role_arn.map(str::to_string);
        let Some(g) = region.autoscaling.groups.get_mut(name) else {
            return Err(AwsError::internal());
        };
        g.launch_configuration = candidate.launch_configuration;
        g.launch_template = candidate.launch_template;
        g.mixed_instances_policy = candidate.mixed_instances_policy;
        if desired != old_desired {
            g.cause = Some(format!(
                "At {} a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired} changing the desired capacity from {old_desired} to {desired}.",
                activities::at(call.now_ms)
            ));
        }
        g.min_size = min;
        g.max_size = max;
        g.desired_capacity = desired;
        g.zones = zones;
        g.subnets = subnets;
        if let Some(v) = s.default_cooldown {
            g.default_cooldown = v;
        }
        if let Some(v) = s.health_check_type {
            g.health_check_type = v.to_string();
        }
        if let Some(v) = s.health_check_grace_period {
            g.health_check_grace_period = v;
        }
        if let Some(v) = s.placement_group {
            g.placement_group = Some(v.to_string()).filter(|v| !v.is_empty());
        }
        if let Some(list) = &s.termination_policies {
            g.termination_policies = if list.is_empty() {
                vec!["Default".to_string()]
            } else {
                list.iter().map(|p| p.to_string()).collect()
            };
        }
        if let Some(v) = s.new_instances_protected {
            g.new_instances_protected_from_scale_in = v;
        }
        if let Some(v) = s.capacity_rebalance {
            g.capacity_rebalance = v;
        }
        if let Some(v) = service_role {
            g.service_linked_role_arn = v;
        }
        if let Some(v) = s.max_instance_lifetime {
            g.max_instance_lifetime = Some(v).filter(|v| *v != 0);
        }
        if let Some(v) = s.context {
            g.context = Some(v.to_string());
        }
        if let Some(v) = s.desired_capacity_type {
            g.desired_capacity_type = Some(v.to_string());
        }
        if let Some(v) = s.default_instance_warmup {
            g.default_instance_warmup = Some(v);
        }
        if let Some(v) = s.deletion_protection {
            g.deletion_protection = Some(v.to_string());
        }
        reconcile_group(region, name, call);
        Ok(Output::XmlEmpty)
    })
}

pub fn delete_auto_scaling_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let force = p.bool("ForceDelete")?.unwrap_or(false);
    call.params()?.finish()?;
    with_region(call, |region| {
        let g = region
            .autoscaling
            .groups
            .get(name)
            .ok_or_else(|| group_not_found(name))?;
        let in_progress = || {
            AwsError::bad_request(
                "ScalingActivityInProgress",
                "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.",
            )
        };
        if g.deleting {
            return Err(in_progress());
        }
        match g.deletion_protection.as_deref() {
            Some("prevent-all-deletion") => {
                return Err(validation(format!(
                    "Deletion protection is enabled for AutoScalingGroup {name}: its DeletionProtection setting prevents all deletion"
                )))
            }
            Some("prevent-force-deletion") if force => {
                return Err(validation(format!(
                    "Deletion protection is enabled for AutoScalingGroup {name}: its DeletionProtection setting prevents force deletion"
                )))
            }
            _ => {}
        }
        if !force {
            if g.active().next().is_some() {
                return Err(AwsError::bad_request(
                    "ResourceInUse",
                    "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
                ));
            }
            if !g.members.is_empty() {
                return Err(in_progress());
            }
            region.autoscaling.groups.remove(name);
            return Ok(Output::XmlEmpty);
        }
        let staying: Vec<String> = g.active().map(|m| m.instance_id.clone()).collect();
        let group = g.clone();
        for id in &staying {
            let details = group
                .members
                .get(id)
                .map(|m| activities::details(&m.subnet_id, &m.zone))
                .unwrap_or_default();
            let now = activities::at(call.now_ms);
            activities::record(region, call, &group, activities::New { kind: crate::services::autoscaling::model::ActivityKind::Terminate, instance_id: Some(id.to_string()), description: format!("Terminating EC2 instance: {id}"), cause: format!("At {now} a user request deleted the AutoScalingGroup changing the desired capacity from {} to 0.  At {now} instance {id} was selected for termination.", group.desired_capacity), status_message: None, details });
            crate::services::ec2::instances::lifecycle::terminate(region, id, call);
        }
        if let Some(g) = region.autoscaling.groups.get_mut(name) {
            g.deleting = true;
            g.desired_capacity = 0;
            g.min_size = 0;
            g.max_size = 0;
            for id in &staying {
                if let Some(m) = g.members.get_mut(id) {
                    m.leaving = Some(Leaving::ScaledIn);
                }
            }
        }
        reconcile_group(region, name, call);
        Ok(Output::XmlEmpty)
    })
}

const FILTERS: &[&str] = &["tag-key", "tag-value", "tag:"];

/// Whether the group's tags pass every filter.
fn filters_match(g: &Group, filters: &[(String, Vec<String>)]) -> bool {
    filters.iter().all(|(name, values)| match name.as_str() {
        "tag-key" => g.tags.keys().any(|k| values.contains(k)),
        "tag-value" => g.tags.values().any(|t| values.contains(&t.value)),
        other => {
            let key = other.strip_prefix("tag:").unwrap_or(other);
            g.tags.get(key).is_some_and(|t| values.contains(&t.value))
        }
    })
}

pub fn describe_auto_scaling_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("AutoScalingGroupNames")?;
    let include_instances = p.bool("IncludeInstances")?.unwrap_or(true);
    let _ = p.bool("IncludeManagedResources")?;
    let filters = read_filters(&p, FILTERS)?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let list: Vec<&Group> = region
            .autoscaling
            .groups
            .values()
            .filter(|g| names.is_empty() || names.contains(&g.name.as_str()))
            .filter(|g| filters_match(g, &filters))
            .collect();
        let (page, next) = records.apply(list)?;
        let mut w = call.writer();
        w.list("AutoScalingGroups", page, |w, g| {
            render(w, region, g, include_instances, call.now_ms);
        });
        w.str_opt("NextToken", next);
        w.finish()
    })
}

/// A member's `LifecycleState` and `HealthStatus`, from its instance's state now.
pub fn member_state(region: &Ec2Region, m: &Member, now: i64) -> (&'static str, &'static str) {
    let health = if m.leaving == Some(Leaving::Unhealthy) {
        "Unhealthy"
    } else {
        "Healthy"
    };
    let state = region
        .instances
        .get(&m.instance_id)
        .map(|i| i.state.at(now));
    let lifecycle = match state {
        _ if m.leaving.is_some() => "Terminating",
        Some(InstanceState::Pending) => "Pending",
        Some(InstanceState::ShuttingDown | InstanceState::Terminated) | None => "Terminating",
        Some(_) => "InService",
    };
    (lifecycle, health)
}

/// One `AutoScalingGroup`. The lists AWS always sends (zones, load balancers, suspended
/// processes, metrics, tags, …) are written even when empty.
fn render(w: &mut Writer, region: &Ec2Region, g: &Group, include_instances: bool, now: i64) {
    w.str("AutoScalingGroupName", &g.name)
        .str("AutoScalingGroupARN", &g.arn)
        .str_opt("LaunchConfigurationName", g.launch_configuration.as_deref());
    if let Some(t) = &g.launch_template {
        w.structure("LaunchTemplate", |w| launch_source::render_spec(w, t));
    }
    if let Some(m) = &g.mixed_instances_policy {
        w.structure("MixedInstancesPolicy", |w| {
            launch_source::render_mixed(w, m)
        });
    }
    w.int("MinSize", g.min_size)
        .int("MaxSize", g.max_size)
        .int("DesiredCapacity", g.desired_capacity)
        .int("DefaultCooldown", g.default_cooldown)
        .strs("AvailabilityZones", &g.zones)
        .strs("LoadBalancerNames", g.attached_names(SourceKind::Elb))
        .strs("TargetGroupARNs", g.attached_names(SourceKind::Elbv2))
        .str("HealthCheckType", &g.health_check_type)
        .int("HealthCheckGracePeriod", g.health_check_grace_period);
    if include_instances {
        w.list("Instances", g.members.values(), |w, m| {
            let (lifecycle, health) = member_state(region, m, now);
            w.str("InstanceId", &m.instance_id)
                .str("InstanceType", &m.instance_type)
                .str("AvailabilityZone", &m.zone)
                .str("LifecycleState", lifecycle)
                .str("HealthStatus", health)
                .str_opt("LaunchConfigurationName", m.launch_configuration.as_deref());
            if let Some(t) = &m.launch_template {
                w.structure("LaunchTemplate", |w| launch_source::render_spec(w, t));
            }
            w.bool("ProtectedFromScaleIn", m.protected_from_scale_in);
        });
    }
    w.time("CreatedTime", g.created_ms)
        .list("SuspendedProcesses", std::iter::empty::<()>(), |_, _| {})
        .str_opt("PlacementGroup", g.placement_group.as_deref());
    if !g.subnets.is_empty() {
        w.str("VPCZoneIdentifier", g.subnets.join(","));
    }
    w.list("EnabledMetrics", std::iter::empty::<()>(), |_, _| {});
    if g.deleting {
        w.str("Status", "Delete in progress");
    }
    w.list("Tags", &g.tags, |w, (k, t)| {
        tags::render(w, &g.name, k, t);
    })
    .strs("TerminationPolicies", &g.termination_policies)
    .bool(
        "NewInstancesProtectedFromScaleIn",
        g.new_instances_protected_from_scale_in,
    )
    .str("ServiceLinkedRoleARN", &g.service_linked_role_arn)
    .int_opt("MaxInstanceLifetime", g.max_instance_lifetime)
    .bool("CapacityRebalance", g.capacity_rebalance)
    .str_opt("Context", g.context.as_deref())
    .str_opt("DesiredCapacityType", g.desired_capacity_type.as_deref())
    .int_opt("DefaultInstanceWarmup", g.default_instance_warmup)
    .list("TrafficSources", g.attached(), |w, s| {
        w.str("Identifier", &s.identifier)
            .str("Type", s.kind.name());
    })
    .str_opt("DeletionProtection", g.deletion_protection.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_subnet_lists() {
        assert!(check_sizes(1, 3, 2).is_ok());
        assert_eq!(
            check_sizes(2, 1, 1).unwrap_err().message,
            "Max bound, 1, must be greater than or equal to min bound, 2"
        );
        assert_eq!(
            check_sizes(1, 3, 4).unwrap_err().message,
            "Desired capacity:4 must be between the specified min size:1 and max size:3"
        );
        assert_eq!(
            subnet_list(" subnet-a, subnet-b,,subnet-a "),
            vec!["subnet-a".to_string(), "subnet-b".to_string()]
        );
    }
}
