//! How a group's instances reach its load balancers and target groups (its *traffic sources*):
//! which sources a group may name, when its instances are registered and deregistered, the state
//! of each attachment, and the ELB health check.
//!
//! [`sync`] runs inside [`reconcile_group`](super::capacity::reconcile_group), so at the start of
//! every Auto Scaling call and after a call changed a group:
//! - a member leaving the group (scale-in, failed health check, group deleted) is deregistered
//!   from every source the group registered it with (a target group drains it for its
//!   deregistration delay);
//! - an active member whose instance is running is registered once with every attached source
//!   (a target group on its own port), backdated to when it could first have been, as AWS does in
//!   the background. A registration that fails (the load balancer was deleted, another VPC) is
//!   retried at the next call, as a failed activity would be;
//! - a detached source whose instances have drained is forgotten.
//!
//! The registrations themselves are made by the ELB modules' own functions
//! ([`elb::health::register`], [`elbv2::targets::register`] and their `deregister`), the ones
//! RegisterInstancesWithLoadBalancer and RegisterTargets use. Each member remembers the sources it
//! was registered with ([`Member::registered_with`]), so registrations made by anyone else are
//! never touched, and one its owner removed by hand is not made again.

use crate::protocol::AwsResult;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::services::elb::health as elb;
use crate::services::elbv2::arn::{self, Kind};
use crate::services::elbv2::targets::{self as elbv2, TargetInput};
use crate::services::elbv2::{attributes, target_health};
use crate::services::Call;
use crate::state::timing::Durations;

use super::model::{AttachedBy, Group, Member, SourceKind, TrafficSource};
use super::validation;

/// How many load balancers or target groups one Attach or Detach call may name.
pub const MAX_PER_CALL: usize = 10;

/// How many classic load balancers, and how many target groups, a group may have (AWS quota).
pub const MAX_PER_GROUP: usize = 50;

/// The kind of source an identifier names: target groups by ARN, classic load balancers by name
/// (which cannot contain `:`).
pub fn kind_of(identifier: &str) -> SourceKind {
    if identifier.starts_with("arn:") {
        SourceKind::Elbv2
    } else {
        SourceKind::Elb
    }
}

/// Refuses classic load balancer names that name no load balancer of the region.
pub fn check_load_balancers(region: &Ec2Region, names: &[&str]) -> AwsResult<()> {
    if names
        .iter()
        .any(|n| !region.elb.load_balancers.contains_key(*n))
    {
        return Err(validation(
            "Provided Load Balancers may not be valid. Please ensure they exist and try again.",
        ));
    }
    Ok(())
}

/// Refuses target group ARNs that name no target group of the region (or are no target group
/// ARN at all), and target groups whose targets are not instances.
pub fn check_target_groups(region: &Ec2Region, arns: &[&str]) -> AwsResult<()> {
    for a in arns {
        let tg = arn::check(Kind::TargetGroup, a)
            .ok()
            .and_then(|_| region.elbv2.target_groups.get(*a));
        let Some(tg) = tg else {
            return Err(validation(
                "Provided Target Groups may not be valid. Please ensure they exist and try again.",
            ));
        };
        if tg.config.target_type != "instance" {
            return Err(validation(format!(
                "Provided Target Group '{a}' has invalid target type. Please ensure all provided Target Groups have target type of instance."
            )));
        }
    }
    Ok(())
}

/// Refuses an attachment that would give the group more than [`MAX_PER_GROUP`] sources of `kind`.
pub fn check_room(group: &Group, kind: SourceKind, identifiers: &[&str]) -> AwsResult<()> {
    let mut names: Vec<&str> = group
        .attached()
        .filter(|s| s.kind == kind)
        .map(|s| s.identifier.as_str())
        .collect();
    for id in identifiers {
        if !names.contains(id) {
            names.push(id);
        }
    }
    if names.len() > MAX_PER_GROUP {
        let what = match kind {
            SourceKind::Elb => "Load Balancers",
            SourceKind::Elbv2 => "Target Groups",
        };
        return Err(validation(format!(
            "Too many {what} specified for this group. The limit is {MAX_PER_GROUP}"
        )));
    }
    Ok(())
}

/// Refuses an Attach or Detach call naming more than [`MAX_PER_CALL`] sources.
pub fn check_per_call(count: usize) -> AwsResult<()> {
    if count > MAX_PER_CALL {
        return Err(validation(format!(
            "Trying to update too many Load Balancers/Target Groups at once. The limit is {MAX_PER_CALL}"
        )));
    }
    Ok(())
}

/// Attaches sources (already checked) to `group`; one already attached stays as it is, one being
/// removed is attached afresh. Its instances are registered by the next [`sync`].
pub fn attach(
    group: &mut Group,
    kind: SourceKind,
    identifiers: &[&str],
    attached_by: AttachedBy,
    at_create: bool,
    now: i64,
) {
    for id in identifiers {
        if group
            .attached()
            .any(|s| s.kind == kind && s.identifier == *id)
        {
            continue;
        }
        group
            .traffic_sources
            .retain(|s| !(s.kind == kind && s.identifier == *id));
        group.traffic_sources.push(TrafficSource {
            kind,
            identifier: id.to_string(),
            attached_by,
            at_create,
            attached_ms: now,
            removing: None,
        });
    }
}

/// How long a source drains its deregistered instances: a target group's deregistration delay, a
/// classic load balancer's connection-draining timeout when draining is enabled.
fn drain_ms(region: &Ec2Region, kind: SourceKind, identifier: &str) -> i64 {
    match kind {
        SourceKind::Elb => region
            .elb
            .load_balancers
            .get(identifier)
            .filter(|lb| lb.attributes.connection_draining)
            .map_or(0, |lb| lb.attributes.connection_draining_timeout * 1000),
        SourceKind::Elbv2 => region
            .elbv2
            .target_groups
            .get(identifier)
            .map_or(0, attributes::deregistration_delay_ms),
    }
}

/// Detaches the attached sources of `kind` among `identifiers` (of those attached through
/// `attached_by`, when given) from group `name`: the group's instances are deregistered from each
/// at once and the source stays `Removing` while they drain. Names not attached are ignored.
pub fn detach(
    region: &mut Ec2Region,
    name: &str,
    kind: SourceKind,
    identifiers: &[&str],
    attached_by: Option<AttachedBy>,
    now: i64,
) {
    let Some(group) = region.autoscaling.groups.get(name) else {
        return;
    };
    let detached: Vec<String> = group
        .attached()
        .filter(|s| s.kind == kind && identifiers.contains(&s.identifier.as_str()))
        .filter(|s| attached_by.is_none_or(|by| s.attached_by == by))
        .map(|s| s.identifier.clone())
        .collect();
    let registered: Vec<Vec<String>> = detached
        .iter()
        .map(|id| {
            group
                .members
                .values()
                .filter(|m| m.registered_with.contains(id))
                .map(|m| m.instance_id.clone())
                .collect()
        })
        .collect();
    for (id, instances) in detached.iter().zip(&registered) {
        deregister(region, id, instances, now);
    }
    let drains: Vec<i64> = detached
        .iter()
        .map(|id| drain_ms(region, kind, id))
        .collect();
    let Some(group) = region.autoscaling.groups.get_mut(name) else {
        return;
    };
    for (id, drain) in detached.iter().zip(drains) {
        for m in group.members.values_mut() {
            m.registered_with.remove(id);
        }
        if let Some(s) = group
            .traffic_sources
            .iter_mut()
            .find(|s| s.kind == kind && s.identifier == *id && s.removing.is_none())
        {
            s.removing = Some((now, now + drain));
        }
    }
}

/// Deregisters instances from one source; a source that no longer exists has nothing to drop.
fn deregister(region: &mut Ec2Region, identifier: &str, instances: &[String], now: i64) {
    if instances.is_empty() {
        return;
    }
    let ids: Vec<&str> = instances.iter().map(String::as_str).collect();
    match kind_of(identifier) {
        SourceKind::Elb => {
            let _ = elb::deregister(region, identifier, &ids);
        }
        SourceKind::Elbv2 => {
            let targets: Vec<TargetInput<'_>> = ids
                .iter()
                .map(|id| TargetInput {
                    id,
                    port: None,
                    zone: None,
                })
                .collect();
            let _ = elbv2::deregister(region, identifier, &targets, now);
        }
    }
}

/// Registers one running instance with one source from `at_ms`, if the source takes it (it exists
/// and the instance may be registered with it); whether it did.
fn register(
    region: &mut Ec2Region,
    identifier: &str,
    instance: &str,
    at_ms: i64,
    call: &Call<'_>,
) -> bool {
    let d = &call.world.durations;
    match kind_of(identifier) {
        SourceKind::Elb => {
            let Some(vpc) = region
                .elb
                .load_balancers
                .get(identifier)
                .map(|lb| lb.vpc_id.clone())
            else {
                return false;
            };
            elb::check_registrable(region, &vpc, instance, call.now_ms, d).is_ok()
                && elb::register(region, identifier, &[instance], at_ms).is_ok()
        }
        SourceKind::Elbv2 => {
            let target = [TargetInput {
                id: instance,
                port: None,
                zone: None,
            }];
            let Some(tg) = region.elbv2.target_groups.get(identifier) else {
                return false;
            };
            tg.config.target_type == "instance"
                && elbv2::check_registrable(region, tg, &target, call).is_ok()
                && elbv2::register(region, identifier, &target, at_ms).is_ok()
        }
    }
}

/// Brings the registrations of group `name` in line with its members and sources (see the module
/// documentation).
pub fn sync(region: &mut Ec2Region, name: &str, call: &Call<'_>) {
    let now = call.now_ms;
    elbv2::settle(region, now, &call.world.durations);
    let Some(group) = region.autoscaling.groups.get(name) else {
        return;
    };
    // Members on their way out leave every source the group registered them with.
    let leaving: Vec<(String, Vec<String>)> = group
        .members
        .values()
        .filter(|m| m.leaving.is_some() && !m.registered_with.is_empty())
        .map(|m| {
            (
                m.instance_id.clone(),
                m.registered_with.iter().cloned().collect(),
            )
        })
        .collect();
    // Running members join every attached source they have not joined yet.
    let mut joining: Vec<(String, String, i64)> = Vec::new();
    for m in group.active() {
        let Some(i) = region
            .instances
            .get(&m.instance_id)
            .filter(|i| i.state.at(now) == InstanceState::Running)
        else {
            continue;
        };
        let running = elb::running_since(i, now);
        for s in group.attached() {
            if !m.registered_with.contains(&s.identifier) {
                let at = running.max(s.attached_ms).min(now);
                joining.push((m.instance_id.clone(), s.identifier.clone(), at));
            }
        }
    }
    for (instance, sources) in &leaving {
        for s in sources {
            deregister(region, s, std::slice::from_ref(instance), now);
        }
    }
    let joined: Vec<(String, String)> = joining
        .into_iter()
        .filter(|(instance, source, at)| register(region, source, instance, *at, call))
        .map(|(instance, source, _)| (instance, source))
        .collect();
    let Some(group) = region.autoscaling.groups.get_mut(name) else {
        return;
    };
    for (instance, _) in &leaving {
        if let Some(m) = group.members.get_mut(instance) {
            m.registered_with.clear();
        }
    }
    for (instance, source) in joined {
        if let Some(m) = group.members.get_mut(&instance) {
            m.registered_with.insert(source);
        }
    }
    group
        .traffic_sources
        .retain(|s| s.removing.is_none_or(|(_, until)| now < until));
}

/// Whether the group takes its load balancers' health checks into account.
pub fn uses_elb_checks(group: &Group) -> bool {
    group
        .health_check_type
        .split(',')
        .any(|t| t.trim() == "ELB")
}

/// Whether a source the group registered member `m` with reports it failing its health checks:
/// a classic load balancer has it `OutOfService` for a reason of its own (not the first checks of
/// a registration, nor the instance's state, which the EC2 check sees first); a target group has
/// it `unhealthy`.
pub fn fails_elb_check(region: &Ec2Region, m: &Member, now: i64, d: &Durations) -> bool {
    m.registered_with
        .iter()
        .any(|source| match kind_of(source) {
            SourceKind::Elb => region.elb.load_balancers.get(source).is_some_and(|lb| {
                lb.instances
                    .iter()
                    .filter(|reg| reg.instance_id == m.instance_id)
                    .any(|reg| {
                        let (state, reason, description) = elb::health(region, lb, reg, now, d);
                        state == "OutOfService"
                            && reason == "ELB"
                            && description != elb::REGISTERING
                    })
            }),
            SourceKind::Elbv2 => region.elbv2.target_groups.get(source).is_some_and(|tg| {
                tg.targets
                    .iter()
                    .filter(|reg| reg.id == m.instance_id && reg.draining_until_ms.is_none())
                    .any(|reg| {
                        target_health::of(region, tg, reg, now, d)
                            .is_some_and(|h| h.state == "unhealthy")
                    })
            }),
        })
}

/// Whether a source reports member `m` passing its health checks (`InService`, `healthy`).
fn passes_elb_check(
    region: &Ec2Region,
    source: &TrafficSource,
    m: &Member,
    now: i64,
    d: &Durations,
) -> bool {
    if !m.registered_with.contains(&source.identifier) {
        return false;
    }
    match source.kind {
        SourceKind::Elb => region
            .elb
            .load_balancers
            .get(&source.identifier)
            .is_some_and(|lb| {
                lb.instances
                    .iter()
                    .filter(|reg| reg.instance_id == m.instance_id)
                    .any(|reg| elb::health(region, lb, reg, now, d).0 == "InService")
            }),
        SourceKind::Elbv2 => region
            .elbv2
            .target_groups
            .get(&source.identifier)
            .is_some_and(|tg| {
                tg.targets
                    .iter()
                    .filter(|reg| reg.id == m.instance_id && reg.draining_until_ms.is_none())
                    .any(|reg| {
                        target_health::of(region, tg, reg, now, d)
                            .is_some_and(|h| h.state == "healthy")
                    })
            }),
    }
}

/// The `State` of an attachment, as AWS documents it: `Removing` while detached instances drain;
/// `InService` when named at creation, or when the group uses ELB health checks and an instance
/// passed one; else `Added` once every active instance is registered, `Adding` before.
pub fn state(
    region: &Ec2Region,
    group: &Group,
    source: &TrafficSource,
    now: i64,
    d: &Durations,
) -> &'static str {
    if let Some((_, until)) = source.removing {
        return if now < until { "Removing" } else { "Removed" };
    }
    if source.at_create {
        return "InService";
    }
    if uses_elb_checks(group)
        && group
            .active()
            .any(|m| passes_elb_check(region, source, m, now, d))
    {
        return "InService";
    }
    if group
        .active()
        .all(|m| m.registered_with.contains(&source.identifier))
    {
        "Added"
    } else {
        "Adding"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_tell_their_kind() {
        assert_eq!(kind_of("web-lb"), SourceKind::Elb);
        assert_eq!(
            kind_of("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef"),
            SourceKind::Elbv2
        );
    }

    #[test]
    fn limits_are_worded_as_aws_words_them() {
        assert!(check_per_call(10).is_ok());
        let e = check_per_call(11).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(
            e.message,
            "Trying to update too many Load Balancers/Target Groups at once. The limit is 10"
        );
    }
}
