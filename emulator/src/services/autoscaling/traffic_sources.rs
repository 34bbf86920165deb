//! The actions that attach, detach and describe a group's load balancers and target groups:
//! AttachLoadBalancers / DetachLoadBalancers / DescribeLoadBalancers (classic load balancers),
//! AttachLoadBalancerTargetGroups / DetachLoadBalancerTargetGroups /
//! DescribeLoadBalancerTargetGroups (ELBv2 target groups) and AttachTrafficSources /
//! DetachTrafficSources / DescribeTrafficSources (either kind).
//!
//! AWS keeps the two API families apart: DescribeLoadBalancerTargetGroups and
//! DetachLoadBalancerTargetGroups (and their classic twins) see only what the load balancer APIs
//! or CreateAutoScalingGroup's `LoadBalancerNames` / `TargetGroupARNs` attached; the traffic
//! source actions see everything. The registrations themselves happen in [`traffic`].

use crate::protocol::{AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::ec2::model::Ec2Region;
use crate::services::Call;

use super::model::{AttachedBy, Group, SourceKind, TrafficSource};
use super::traffic;
use super::{check_string, group_not_found, required_name, validation, with_region, Records};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("AttachLoadBalancers", attach_load_balancers),
    Action::new("DetachLoadBalancers", detach_load_balancers),
    Action::new("DescribeLoadBalancers", describe_load_balancers),
    Action::new(
        "AttachLoadBalancerTargetGroups",
        attach_load_balancer_target_groups,
    ),
    Action::new(
        "DetachLoadBalancerTargetGroups",
        detach_load_balancer_target_groups,
    ),
    Action::new(
        "DescribeLoadBalancerTargetGroups",
        describe_load_balancer_target_groups,
    ),
    Action::new("AttachTrafficSources", attach_traffic_sources),
    Action::new("DetachTrafficSources", detach_traffic_sources),
    Action::new("DescribeTrafficSources", describe_traffic_sources),
];

/// `TrafficSources.member.N` (`Identifier`, `Type`) as (kind, identifier). A VPC Lattice target
/// group is refused as not existing: VPC Lattice is not emulated, so none does.
pub fn read_sources<'a>(p: &Scope<'a>, required: bool) -> AwsResult<Vec<(SourceKind, &'a str)>> {
    let items = if required {
        p.required_structs("TrafficSources")?
    } else {
        p.structs("TrafficSources")?
    };
    let mut out = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let n = i + 1;
        let id = t.required("Identifier")?;
        check_string(id, &format!("trafficSources.member.{n}.identifier"), 1, 511)?;
        let kind = match t.str("Type") {
            Some("elb") => SourceKind::Elb,
            Some("elbv2") => SourceKind::Elbv2,
            Some("vpc-lattice") => {
                return Err(validation(
                    "Provided VPC Lattice Target Groups may not be valid. Please ensure they exist and try again.",
                ))
            }
            Some(other) => {
                return Err(validation(format!(
                    "Invalid traffic source type '{other}'. Valid values are: elb, elbv2, vpc-lattice"
                )))
            }
            None if id.starts_with("arn:aws:vpc-lattice:") => {
                return Err(validation(
                    "Provided VPC Lattice Target Groups may not be valid. Please ensure they exist and try again.",
                ))
            }
            None if id.starts_with("arn:") => SourceKind::Elbv2,
            None => {
                return Err(validation(format!(
                    "Type is required for traffic source '{id}': a Classic Load Balancer is identified by its name with Type elb"
                )))
            }
        };
        if !out.contains(&(kind, id)) {
            out.push((kind, id));
        }
    }
    Ok(out)
}

/// The sources grouped by kind, each list in the order given.
pub fn by_kind<'a>(sources: &[(SourceKind, &'a str)]) -> Vec<(SourceKind, Vec<&'a str>)> {
    [SourceKind::Elb, SourceKind::Elbv2]
        .into_iter()
        .map(|kind| {
            let ids = sources
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| *id)
                .collect();
            (kind, ids)
        })
        .collect()
}

/// Refuses sources that do not exist, as the load balancer APIs do.
pub fn check_sources(region: &Ec2Region, sources: &[(SourceKind, &str)]) -> AwsResult<()> {
    for (kind, ids) in by_kind(sources) {
        match kind {
            SourceKind::Elb => traffic::check_load_balancers(region, &ids)?,
            SourceKind::Elbv2 => traffic::check_target_groups(region, &ids)?,
        }
    }
    Ok(())
}

/// A group that may take an attachment: it exists and is not being deleted.
fn live_group<'r>(region: &'r Ec2Region, name: &str) -> AwsResult<&'r Group> {
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
    Ok(g)
}

/// Attaches `sources` to group `name` (after every check), then registers its running instances.
fn attach(
    call: &Call<'_>,
    name: &str,
    sources: &[(SourceKind, &str)],
    attached_by: AttachedBy,
) -> AwsResult<Output> {
    with_region(call, |region| {
        let g = live_group(region, name)?;
        check_sources(region, sources)?;
        for (kind, ids) in by_kind(sources) {
            traffic::check_room(g, kind, &ids)?;
        }
        let Some(g) = region.autoscaling.groups.get_mut(name) else {
            return Err(group_not_found(name));
        };
        for (kind, ids) in by_kind(sources) {
            traffic::attach(g, kind, &ids, attached_by, false, call.now_ms);
        }
        traffic::sync(region, name, call);
        call.writer().finish()
    })
}

/// Detaches `sources` from group `name`: its instances are deregistered from each.
fn detach(
    call: &Call<'_>,
    name: &str,
    sources: &[(SourceKind, &str)],
    attached_by: Option<AttachedBy>,
) -> AwsResult<Output> {
    with_region(call, |region| {
        live_group(region, name)?;
        for (kind, ids) in by_kind(sources) {
            traffic::detach(region, name, kind, &ids, attached_by, call.now_ms);
        }
        call.writer().finish()
    })
}

/// A required list of load balancer names or target group ARNs, at most [`traffic::MAX_PER_CALL`].
fn read_list<'a>(p: &Scope<'a>, member: &str) -> AwsResult<Vec<&'a str>> {
    let mut list = p.required_strings(member)?;
    traffic::check_per_call(list.len())?;
    let mut seen = Vec::new();
    list.retain(|id| {
        let fresh = !seen.contains(id);
        seen.push(*id);
        fresh
    });
    Ok(list)
}

fn tagged(kind: SourceKind, ids: Vec<&str>) -> Vec<(SourceKind, &str)> {
    ids.into_iter().map(|id| (kind, id)).collect()
}

pub fn attach_load_balancers(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let names = read_list(&p, "LoadBalancerNames")?;
    call.params()?.finish()?;
    attach(
        call,
        name,
        &tagged(SourceKind::Elb, names),
        AttachedBy::LoadBalancerApi,
    )
}

pub fn attach_load_balancer_target_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let arns = read_list(&p, "TargetGroupARNs")?;
    call.params()?.finish()?;
    attach(
        call,
        name,
        &tagged(SourceKind::Elbv2, arns),
        AttachedBy::LoadBalancerApi,
    )
}

pub fn attach_traffic_sources(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let sources = read_sources(&p, true)?;
    traffic::check_per_call(sources.len())?;
    // Zonal shift is not modelled, so there is no validation for this flag to skip.
    let _ = p.bool("SkipZonalShiftValidation")?;
    call.params()?.finish()?;
    attach(call, name, &sources, AttachedBy::TrafficSourceApi)
}

pub fn detach_load_balancers(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let names = read_list(&p, "LoadBalancerNames")?;
    call.params()?.finish()?;
    detach(
        call,
        name,
        &tagged(SourceKind::Elb, names),
        Some(AttachedBy::LoadBalancerApi),
    )
}

pub fn detach_load_balancer_target_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let arns = read_list(&p, "TargetGroupARNs")?;
    call.params()?.finish()?;
    detach(
        call,
        name,
        &tagged(SourceKind::Elbv2, arns),
        Some(AttachedBy::LoadBalancerApi),
    )
}

pub fn detach_traffic_sources(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let sources = read_sources(&p, true)?;
    traffic::check_per_call(sources.len())?;
    call.params()?.finish()?;
    detach(call, name, &sources, None)
}

/// The group's sources a Describe call lists (with their state), in the order attached.
fn described<'r>(
    region: &'r Ec2Region,
    call: &Call<'_>,
    name: &str,
    keep: impl Fn(&TrafficSource) -> bool,
) -> AwsResult<Vec<(&'r TrafficSource, &'static str)>> {
    let g = region
        .autoscaling
        .groups
        .get(name)
        .ok_or_else(|| group_not_found(name))?;
    Ok(g.traffic_sources
        .iter()
        .filter(|s| keep(s))
        .map(|s| {
            (
                s,
                traffic::state(region, g, s, call.now_ms, &call.world.durations),
            )
        })
        .collect())
}

pub fn describe_load_balancers(call: &Call<'_>) -> AwsResult<Output> {
    describe_one_kind(call, SourceKind::Elb, "LoadBalancers", "LoadBalancerName")
}

pub fn describe_load_balancer_target_groups(call: &Call<'_>) -> AwsResult<Output> {
    describe_one_kind(
        call,
        SourceKind::Elbv2,
        "LoadBalancerTargetGroups",
        "LoadBalancerTargetGroupARN",
    )
}

/// DescribeLoadBalancers and DescribeLoadBalancerTargetGroups: the sources of one kind attached
/// through the load balancer APIs, 100 a page by default and at most.
fn describe_one_kind(
    call: &Call<'_>,
    kind: SourceKind,
    list_tag: &str,
    id_tag: &str,
) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let list = described(region, call, name, |s| {
            s.kind == kind && s.attached_by == AttachedBy::LoadBalancerApi
        })?;
        let (page, next) = records.apply_within(list, 100, 100)?;
        let mut w = call.writer();
        w.list(list_tag, page, |w, (s, state)| {
            w.str(id_tag, &s.identifier).str("State", state);
        })
        .str_opt("NextToken", next);
        w.finish()
    })
}

pub fn describe_traffic_sources(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "AutoScalingGroupName")?;
    let kind = p.str("TrafficSourceType");
    if let Some(k) = kind {
        check_string(k, "trafficSourceType", 1, 255)?;
    }
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let list = described(region, call, name, |s| {
            kind.is_none_or(|k| k == s.kind.name())
        })?;
        let (page, next) = records.apply_within(list, 50, 50)?;
        let mut w = call.writer();
        w.list("TrafficSources", page, |w, (s, state)| {
            w.str("TrafficSource", &s.identifier)
                .str("State", state)
                .str("Identifier", &s.identifier)
                .str("Type", s.kind.name());
        })
        .str_opt("NextToken", next);
        w.finish()
    })
}
