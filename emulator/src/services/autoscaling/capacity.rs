//! How a group keeps its desired capacity of EC2 instances: which members left, which are
//! unhealthy, where a new instance goes (balanced across zones) and which instance goes on
//! scale-in (the termination policies).
//!
//! [`reconcile`] runs at the start of every Auto Scaling call (see the module above) and after a
//! call changed a group, with the region locked. It is AWS's background work done at once:
//! - a member whose instance terminated (or vanished) leaves the group;
//! - a member whose instance is shutting down behind the group's back, or was stopped, failed its
//!   EC2 health check: it is `Unhealthy`, the group terminates it (if still needed) and it no
//!   longer counts, so a replacement is launched. With `HealthCheckType=ELB`, so is a running
//!   member past the grace period that a load balancer reports failing ([`traffic`]);
//! - members leaving are deregistered from the group's load balancers and target groups, running
//!   ones registered ([`traffic::sync`]);
//! - a group being deleted goes once its last instance is gone;
//! - otherwise the group launches or terminates instances until its active members match the
//!   desired capacity. A launch that cannot happen (no free address, instance limit, a security
//!   group gone) is skipped, as a failed scaling activity, and retried at the next call.

use std::collections::BTreeMap;

use crate::services::ec2::images;
use crate::services::ec2::instances::launch::{self, Launch};
use crate::services::ec2::instances::{lifecycle, network, settle};
use crate::services::ec2::model::{Ec2Region, InstanceState, Subnet};
use crate::services::Call;
use crate::state::tags::Tags;

use super::model::{ActivityKind, Group, Leaving, Member};
use super::{activities, launch_source, traffic};

/// The tag every instance of a group carries, naming it.
pub const GROUP_NAME_TAG: &str = "aws:autoscaling:groupName";

/// Lets every group catch up with its instances (see the module documentation).
pub fn reconcile(region: &mut Ec2Region, call: &Call<'_>) {
    settle(region, call.now_ms, &call.world.durations);
    let names: Vec<String> = region.autoscaling.groups.keys().cloned().collect();
    for name in names {
        reconcile_group(region, &name, call);
    }
}

/// Lets one group catch up: unhealthy members, capacity, members that left, deletion.
pub fn reconcile_group(region: &mut Ec2Region, name: &str, call: &Call<'_>) {
    let now = call.now_ms;
    let Some(group) = region.autoscaling.groups.get(name) else {
        return;
    };
    let mut failed_check = Vec::new();
    let mut to_terminate = Vec::new();
    let elb_checks = traffic::uses_elb_checks(group);
    let grace_ms = group.health_check_grace_period.saturating_mul(1000);
    for m in group.members.values().filter(|m| m.leaving.is_none()) {
        match region
            .instances
            .get(&m.instance_id)
            .map(|i| i.state.at(now))
        {
            Some(InstanceState::Running)
                if elb_checks
                    && now >= m.launch_ms.saturating_add(grace_ms)
                    && traffic::fails_elb_check(region, m, now, &call.world.durations) =>
            {
                failed_check.push(m.instance_id.clone());
                to_terminate.push(m.instance_id.clone());
            }
            Some(InstanceState::Pending | InstanceState::Running) => {}
            Some(InstanceState::Stopping | InstanceState::Stopped) => {
                failed_check.push(m.instance_id.clone());
                to_terminate.push(m.instance_id.clone());
            }
            _ => failed_check.push(m.instance_id.clone()),
        }
    }
    for id in &to_terminate {
        lifecycle::terminate(region, id, call);
    }
    for id in &failed_check {
        let Some(group) = region.autoscaling.groups.get(name).cloned() else {
            return;
        };
        let Some(m) = group.members.get(id) else {
            continue;
        };
        let check = if elb_checks && to_terminate.contains(id) {
            "an ELB system health check failure"
        } else {
            "an EC2 health check indicating it has been terminated or stopped"
        };
        activities::record(
            region,
            call,
            &group,
            activities::New {
                kind: ActivityKind::Terminate,
                instance_id: Some(id.to_string()),
                description: format!("Terminating EC2 instance: {id}"),
                cause: format!(
                    "At {} an instance was taken out of service in response to {check}.",
                    activities::at(now)
                ),
                status_message: None,
                details: activities::details(&m.subnet_id, &m.zone),
            },
        );
    }
    let Some(group) = region.autoscaling.groups.get_mut(name) else {
        return;
    };
    for id in &failed_check {
        if let Some(m) = group.members.get_mut(id) {
            m.leaving = Some(Leaving::Unhealthy);
        }
    }
    let cause = group.cause.take();
    if !group.deleting {
        let active = group.active().count() as i64;
        let desired = group.desired_capacity;
        let change = Change {
            cause: cause.as_deref(),
            from: active,
            to: desired,
        };
        if active < desired {
            launch_instances(region, name, &change, call);
        } else if active > desired {
            scale_in(region, name, &change, call);
        }
    }
    // Members on their way out leave the load balancers, running ones join them.
    traffic::sync(region, name, call);
    // Members whose instance has terminated (or vanished) by now have left; a group being
    // deleted goes with its last one.
    let instances = &region.instances;
    let Some(group) = region.autoscaling.groups.get_mut(name) else {
        return;
    };
    group.members.retain(|id, _| {
        instances
            .get(id)
            .is_some_and(|i| i.state.at(now) != InstanceState::Terminated)
    });
    if group.deleting && group.members.is_empty() {
        region.autoscaling.groups.remove(name);
    }
}

/// The subnets a group launches into: its `VPCZoneIdentifier` subnets that still exist, or the
/// default subnets of its zones when it was created with zones only.
fn launch_subnets(region: &Ec2Region, group: &Group) -> Vec<Subnet> {
    if group.subnets.is_empty() {
        group
            .zones
            .iter()
            .filter_map(|z| {
                region
                    .subnets
                    .values()
                    .find(|s| s.default_for_az && s.vpc_id == region.default_vpc_id && s.zone == *z)
            })
            .cloned()
            .collect()
    } else {
        group
            .subnets
            .iter()
            .filter_map(|id| region.subnets.get(id))
            .cloned()
            .collect()
    }
}

/// Where the next instance goes: the zone with the fewest active members among the zones with a
/// subnet that has a free address (ties to the first zone by name), then that zone's subnet with
/// the fewest members (ties in `VPCZoneIdentifier` order).
fn choose_subnet<'s>(
    region: &Ec2Region,
    group: &Group,
    subnets: &'s [Subnet],
    now: i64,
) -> Option<&'s Subnet> {
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_subnet: BTreeMap<&str, usize> = BTreeMap::new();
    for m in group.active() {
        *per_zone.entry(m.zone.as_str()).or_default() += 1;
        *per_subnet.entry(m.subnet_id.as_str()).or_default() += 1;
    }
    let open: Vec<&Subnet> = subnets
        .iter()
        .filter(|s| {
            let used = launch::used_addresses(region, &s.id, now);
            network::free_count(&s.cidr, &used) > 0
        })
        .collect();
    let zone = open
        .iter()
        .map(|s| s.zone.as_str())
        .min_by_key(|z| (per_zone.get(z).copied().unwrap_or(0), *z))?;
    open.into_iter()
        .filter(|s| s.zone == zone)
        .enumerate()
        .min_by_key(|(i, s)| (per_subnet.get(s.id.as_str()).copied().unwrap_or(0), *i))
        .map(|(_, s)| s)
}

/// The tags a new instance of the group gets: `aws:autoscaling:groupName` and every group tag
/// marked PropagateAtLaunch.
pub fn instance_tags(group: &Group) -> Tags {
    let mut tags: Tags = group
        .tags
        .iter()
        .filter(|(_, t)| t.propagate_at_launch)
        .map(|(k, t)| (k.clone(), t.value.clone()))
        .collect();
    tags.insert(GROUP_NAME_TAG.to_string(), group.name.clone());
    tags
}

/// A capacity change a reconcile carries out: why (the call's cause, `None` for a replacement)
/// and from how many active instances to how many.
pub struct Change<'c> {
    pub cause: Option<&'c str>,
    pub from: i64,
    pub to: i64,
}

impl Change<'_> {
    /// The activity `Cause` of one step: the call's cause, then what the group did.
    /// The cause of a launch (done or failed) that this change asks for.
    fn launch_cause(&self, now: i64) -> String {
        self.cause(now, &format!(
            "an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {} to {}.",
            self.from, self.to
        ))
    }

    fn cause(&self, now: i64, step: &str) -> String {
        let step = format!("At {} {step}", activities::at(now));
        match self.cause {
            Some(c) => format!("{c}  {step}"),
            None => step,
        }
    }
}

/// Records a launch that could not happen (once, until something else happens to the group).
fn launch_failed(
    region: &mut Ec2Region,
    name: &str,
    change: &Change<'_>,
    reason: String,
    call: &Call<'_>,
) {
    let Some(group) = region.autoscaling.groups.get(name).cloned() else {
        return;
    };
    let cause = change.launch_cause(call.now_ms);
    activities::record(
        region,
        call,
        &group,
        activities::New {
            kind: ActivityKind::FailedLaunch,
            instance_id: None,
            description: format!("Launching a new EC2 instance.  Status Reason: {reason}"),
            cause,
            status_message: Some(reason),
            details: String::new(),
        },
    );
}

/// Launches instances for group `name` from its launch source until it has `change.to`.
fn launch_instances(region: &mut Ec2Region, name: &str, change: &Change<'_>, call: &Call<'_>) {
    let now = call.now_ms;
    let Some(group) = region.autoscaling.groups.get(name) else {
        return;
    };
    let plan = match launch_source::plan(region, group, call.region, call.identities) {
        Ok(plan) => plan,
        Err(e) => return launch_failed(region, name, change, e.message, call),
    };
    let subnets = launch_subnets(region, group);
    let mut tags = instance_tags(group);
    for (k, v) in &plan.instance_tags {
        tags.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let protect = group.new_instances_protected_from_scale_in;
    let image = images::find(call.region, &plan.image_id);
    // The group launches through its service-linked role, whose use of KMS keys is not modelled.
    let no_keys = std::collections::BTreeMap::new();
    let no_tags = Tags::new();
    for _ in change.from..change.to {
        if launch::live_count(region, now) >= call.world.instance_limit {
            let reason = format!("You have requested more instances than your current instance limit of {} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit. Launching EC2 instance failed.", call.world.instance_limit);
            return launch_failed(region, name, change, reason, call);
        }
        let Some(group) = region.autoscaling.groups.get(name) else {
            return;
        };
        let Some(subnet) = choose_subnet(region, group, &subnets, now) else {
            let reason = "There are not enough free addresses in the group's subnets to satisfy the requested number of instances. Launching EC2 instance failed.".to_string();
            return launch_failed(region, name, change, reason, call);
        };
        let groups = match plan.groups(region, &subnet.vpc_id) {
            Ok(g) => g,
            Err(e) => {
                let reason = format!("{} Launching EC2 instance failed.", e.message);
                return launch_failed(region, name, change, reason, call);
            }
        };
        let used = launch::used_addresses(region, &subnet.id, now);
        let Some(ip) = network::next_free(&subnet.cidr, &used) else {
            return;
        };
        let reservation_id = call.world.ids.resource_id("r");
        let spec = Launch {
            image_id: &plan.image_id,
            image: image.as_ref(),
            instance_type: &plan.instance_type,
            key_name: plan.key_name.as_deref(),
            public_ip: subnet.map_public_ip_on_launch,
            subnet,
            groups: &groups,
            profile: plan.profile.as_ref(),
            devices: &plan.devices,
            keys: &no_keys,
            reservation_id: &reservation_id,
            client_token: None,
            tags: &tags,
            volume_tags: &plan.volume_tags,
            interface_tags: &no_tags,
            monitoring: plan.monitoring,
            tenancy: &plan.tenancy,
            disable_api_termination: false,
            shutdown_behavior: "stop",
            ebs_optimized: plan.ebs_optimized,
            user_data: plan.user_data.as_deref(),
            metadata: (
                plan.metadata.0.as_deref(),
                plan.metadata.1,
                plan.metadata.2.as_deref(),
            ),
        };
        let id = launch::insert(region, &spec, 0, ip, call);
        let member = Member {
            instance_id: id.clone(),
            zone: subnet.zone.clone(),
            subnet_id: subnet.id.clone(),
            instance_type: plan.instance_type.clone(),
            launch_configuration: plan.launch_configuration.clone(),
            launch_template: plan.launch_template.clone(),
            launch_ms: now,
            protected_from_scale_in: protect,
            leaving: None,
            registered_with: Default::default(),
        };
        let details = activities::details(&subnet.id, &subnet.zone);
        let Some(group) = region.autoscaling.groups.get_mut(name) else {
            return;
        };
        group.members.insert(id.clone(), member);
        let group = group.clone();
        let cause = change.launch_cause(now);
        activities::record(
            region,
            call,
            &group,
            activities::New {
                kind: ActivityKind::Launch,
                instance_id: Some(id.clone()),
                description: format!("Launching a new EC2 instance: {id}"),
                cause,
                status_message: None,
                details,
            },
        );
    }
}

/// Terminates instances of group `name`, chosen by [`choose_victim`], until it has `change.to`.
fn scale_in(region: &mut Ec2Region, name: &str, change: &Change<'_>, call: &Call<'_>) {
    for _ in change.to..change.from {
        let Some(group) = region.autoscaling.groups.get(name) else {
            return;
        };
        let Some(victim) = choose_victim(region, group, call.now_ms) else {
            return;
        };
        let details = group
            .members
            .get(&victim)
            .map(|m| activities::details(&m.subnet_id, &m.zone))
            .unwrap_or_default();
        let group = group.clone();
        let cause = change.cause(call.now_ms, &format!(
            "an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {} to {}.  At {} instance {victim} was selected for termination.",
            change.from, change.to, activities::at(call.now_ms)
        ));
        activities::record(
            region,
            call,
            &group,
            activities::New {
                kind: ActivityKind::Terminate,
                instance_id: Some(victim.clone()),
                description: format!("Terminating EC2 instance: {victim}"),
                cause,
                status_message: None,
                details,
            },
        );
        lifecycle::terminate(region, &victim, call);
        if let Some(m) = region
            .autoscaling
            .groups
            .get_mut(name)
            .and_then(|g| g.members.get_mut(&victim))
        {
            m.leaving = Some(Leaving::ScaledIn);
        }
    }
}

/// The instance a scale-in terminates. Zones are balanced first, whatever the policies: the zone
/// with the most active members that has one not protected from scale-in (ties to the first zone
/// by name). Then the group's termination policies narrow the choice in order; `Default` stands
/// for AWS's default policy: oldest launch configuration or template, then closest to the next
/// billing hour.
/// A tie left at the end goes to the instance launched first, then the lowest id (AWS picks at
/// random there).
pub fn choose_victim(region: &Ec2Region, group: &Group, now: i64) -> Option<String> {
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for m in group.active() {
        *per_zone.entry(m.zone.as_str()).or_default() += 1;
    }
    let candidates: Vec<&Member> = group
        .active()
        .filter(|m| !m.protected_from_scale_in)
        .collect();
    let zone = candidates
        .iter()
        .map(|m| m.zone.as_str())
        .max_by_key(|z| (per_zone.get(z).copied().unwrap_or(0), std::cmp::Reverse(*z)))?;
    let mut candidates: Vec<&Member> = candidates.into_iter().filter(|m| m.zone == zone).collect();
    // Launched from a launch configuration: its creation time; from a template: newer than any.
    let lc_age = |m: &Member| match m.launch_configuration.as_deref() {
        Some(name) => region
            .autoscaling
            .launch_configurations
            .get(name)
            .map_or(i64::MIN, |lc| lc.created_ms),
        None => i64::MAX,
    };
    // The group's template now; instances of a launch configuration or of another template are
    // older than any version of it, older versions older than newer ones.
    let current = group
        .launch_template
        .as_ref()
        .or(group
            .mixed_instances_policy
            .as_ref()
            .map(|p| &p.launch_template))
        .map(|t| t.id.as_str());
    let lt_age = |m: &Member| match &m.launch_template {
        None => i64::MIN,
        Some(t) if Some(t.id.as_str()) != current => i64::MIN + 1,
        Some(t) => t.version.parse::<i64>().unwrap_or(i64::MAX),
    };
    let billing = |m: &Member| (now - m.launch_ms).rem_euclid(3_600_000);
    let mut policies: Vec<&str> = Vec::new();
    for p in &group.termination_policies {
        match p.as_str() {
            "Default" => policies.extend([
                "OldestLaunchConfiguration",
                "OldestLaunchTemplate",
                "ClosestToNextInstanceHour",
            ]),
            other => policies.push(other),
        }
    }
    for policy in policies {
        let keep: Option<i64> = match policy {
            "OldestLaunchConfiguration" => candidates.iter().map(|m| lc_age(m)).min(),
            "OldestLaunchTemplate" => candidates.iter().map(|m| lt_age(m)).min(),
            "ClosestToNextInstanceHour" => candidates.iter().map(|m| billing(m)).max(),
            "OldestInstance" => candidates.iter().map(|m| m.launch_ms).min(),
            "NewestInstance" => candidates.iter().map(|m| m.launch_ms).max(),
            // AllocationStrategy does not tell on-demand instances apart; a Lambda function
            // is not called.
            _ => None,
        };
        if let Some(k) = keep {
            candidates.retain(|m| match policy {
                "OldestLaunchConfiguration" => lc_age(m) == k,
                "OldestLaunchTemplate" => lt_age(m) == k,
                "ClosestToNextInstanceHour" => billing(m) == k,
                _ => m.launch_ms == k,
            });
        }
    }
    candidates
        .into_iter()
        .min_by(|a, b| (a.launch_ms, &a.instance_id).cmp(&(b.launch_ms, &b.instance_id)))
        .map(|m| m.instance_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::autoscaling::model::GroupTag;
    use crate::state::ids::IdGen;
    use crate::state::regions;

    fn member(id: &str, zone: &str, launch_ms: i64) -> Member {
        Member {
            instance_id: id.into(),
            zone: zone.into(),
            subnet_id: format!("subnet-{zone}"),
            instance_type: "t3.micro".into(),
            launch_configuration: Some("lc".into()),
            launch_template: None,
            launch_ms,
            protected_from_scale_in: false,
            leaving: None,
            registered_with: Default::default(),
        }
    }

    fn group(members: Vec<Member>, policies: &[&str]) -> Group {
        Group {
            name: "g".into(),
            arn: String::new(),
            launch_configuration: Some("lc".into()),
            launch_template: None,
            mixed_instances_policy: None,
            min_size: 0,
            max_size: 10,
            desired_capacity: members.len() as i64,
            default_cooldown: 300,
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            subnets: Vec::new(),
            traffic_sources: Vec::new(),
            health_check_type: "EC2".into(),
            health_check_grace_period: 0,
            created_ms: 0,
            placement_group: None,
            termination_policies: policies.iter().map(|p| p.to_string()).collect(),
            new_instances_protected_from_scale_in: false,
            capacity_rebalance: false,
            max_instance_lifetime: None,
            default_instance_warmup: None,
            desired_capacity_type: None,
            context: None,
            service_linked_role_arn: String::new(),
            deletion_protection: None,
            tags: [(
                "team".to_string(),
                GroupTag {
                    value: "a".into(),
                    propagate_at_launch: true,
                },
            )]
            .into(),
            members: members
                .into_iter()
                .map(|m| (m.instance_id.clone(), m))
                .collect(),
            deleting: false,
            cause: None,
        }
    }

    fn region() -> Ec2Region {
        let r = regions::region("us-east-1").unwrap();
        Ec2Region::new_account(r, &IdGen::new(1))
    }

    #[test]
    fn scale_in_balances_zones_then_follows_the_policies() {
        let r = region();
        let g = group(
            vec![
                member("i-1", "us-east-1a", 1_000),
                member("i-2", "us-east-1a", 2_000),
                member("i-3", "us-east-1b", 500),
            ],
            &["Default"],
        );
        // Zone a has two: one of them goes. Both have the same launch configuration, so the one
        // closest to its next billing hour goes: i-1, launched earlier, has run longest.
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-1"));
        let g = group(g.members.into_values().collect(), &["NewestInstance"]);
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-2"));
        let mut g = group(g.members.into_values().collect(), &["OldestInstance"]);
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-1"));
        // Protected instances are never chosen; the zone must have an unprotected one.
        for id in ["i-1", "i-2"] {
            g.members.get_mut(id).unwrap().protected_from_scale_in = true;
        }
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-3"));
        g.members.get_mut("i-3").unwrap().protected_from_scale_in = true;
        assert_eq!(choose_victim(&r, &g, 10_000), None);
    }

    #[test]
    fn the_oldest_template_version_goes_first() {
        let r = region();
        let spec = |v: &str| crate::services::autoscaling::model::TemplateSpec {
            id: "lt-1".into(),
            name: "t".into(),
            version: v.into(),
        };
        let mut members = vec![
            member("i-1", "us-east-1a", 1_000),
            member("i-2", "us-east-1a", 1_000),
            member("i-3", "us-east-1a", 1_000),
        ];
        members[0].launch_configuration = None;
        members[0].launch_template = Some(spec("3"));
        members[1].launch_configuration = None;
        members[1].launch_template = Some(spec("2"));
        let mut g = group(members, &["Default"]);
        g.launch_configuration = None;
        g.launch_template = Some(spec("$Latest"));
        // The launch-configuration instance is the oldest, then version 2.
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-3"));
        g.members.remove("i-3");
        assert_eq!(choose_victim(&r, &g, 10_000).as_deref(), Some("i-2"));
    }

    #[test]
    fn propagated_tags_and_the_group_name_tag() {
        let mut g = group(Vec::new(), &["Default"]);
        g.tags.insert(
            "private".into(),
            GroupTag {
                value: "x".into(),
                propagate_at_launch: false,
            },
        );
        let t = instance_tags(&g);
        assert_eq!(t.get(GROUP_NAME_TAG).map(String::as_str), Some("g"));
        assert_eq!(t.get("team").map(String::as_str), Some("a"));
        assert!(!t.contains_key("private"));
    }

    #[test]
    fn launches_go_to_the_emptiest_zone() {
        let r = region();
        let mut subnets: Vec<Subnet> = r.subnets.values().cloned().collect();
        subnets.sort_by(|a, b| a.zone.cmp(&b.zone));
        let subnets: Vec<Subnet> = subnets.into_iter().take(2).collect();
        let mut g = group(vec![], &["Default"]);
        let first = choose_subnet(&r, &g, &subnets, 0).unwrap();
        assert_eq!(first.zone, "us-east-1a");
        let mut m = member("i-1", "us-east-1a", 0);
        m.subnet_id = first.id.clone();
        g.members.insert("i-1".into(), m);
        assert_eq!(
            choose_subnet(&r, &g, &subnets, 0).unwrap().zone,
            "us-east-1b"
        );
    }
}
