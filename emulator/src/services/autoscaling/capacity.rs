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

use super::launch_configurations::{planned_devices, profile, security_group_ids};
use super::model::{Group, Leaving, Member};
use super::traffic;

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
    let Some(group) = region.autoscaling.groups.get_mut(name) else {
        return;
    };
    for id in &failed_check {
        if let Some(m) = group.members.get_mut(id) {
            m.leaving = Some(Leaving::Unhealthy);
        }
    }
    if !group.deleting {
        let active = group.active().count() as i64;
        let desired = group.desired_capacity;
        if active < desired {
            launch_instances(region, name, desired - active, call);
        } else if active > desired {
            scale_in(region, name, active - desired, call);
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

/// Launches up to `count` instances for group `name` from its launch configuration.
fn launch_instances(region: &mut Ec2Region, name: &str, count: i64, call: &Call<'_>) {
    let now = call.now_ms;
    let Some(group) = region.autoscaling.groups.get(name) else {
        return;
    };
    let Some(lc) = region
        .autoscaling
        .launch_configurations
        .get(&group.launch_configuration)
        .cloned()
    else {
        return;
    };
    let subnets = launch_subnets(region, group);
    let tags = instance_tags(group);
    let protect = group.new_instances_protected_from_scale_in;
    let Ok(devices) = planned_devices(&lc, call.region) else {
        return;
    };
    let image = images::find(call.region, &lc.image_id);
    let profile = profile(&lc, call.identities);
    let metadata = lc.metadata_options.clone().unwrap_or_default();
    let no_tags = Tags::new();
    // The group launches through its service-linked role, whose use of KMS keys is not modelled.
    let no_keys = std::collections::BTreeMap::new();
    for _ in 0..count {
        if launch::live_count(region, now) >= call.world.instance_limit {
            return;
        }
        let Some(group) = region.autoscaling.groups.get(name) else {
            return;
        };
        let Some(subnet) = choose_subnet(region, group, &subnets, now) else {
            return;
        };
        let Ok(groups) = security_group_ids(region, &lc, &subnet.vpc_id) else {
            return;
        };
        let used = launch::used_addresses(region, &subnet.id, now);
        let Some(ip) = network::next_free(&subnet.cidr, &used) else {
            return;
        };
        let reservation_id = call.world.ids.resource_id("r");
        let spec = Launch {
            image_id: &lc.image_id,
            image: image.as_ref(),
            instance_type: &lc.instance_type,
            key_name: lc.key_name.as_deref(),
            public_ip: subnet.map_public_ip_on_launch,
            subnet,
            groups: &groups,
            profile: profile.as_ref(),
            devices: &devices,
            keys: &no_keys,
            reservation_id: &reservation_id,
            client_token: None,
            tags: &tags,
            volume_tags: &no_tags,
            interface_tags: &no_tags,
            monitoring: lc.monitoring,
            tenancy: lc.placement_tenancy.as_deref().unwrap_or("default"),
            disable_api_termination: false,
            shutdown_behavior: "stop",
            ebs_optimized: lc.ebs_optimized,
            user_data: lc.user_data.as_deref(),
            metadata: (
                metadata.http_tokens.as_deref(),
                metadata.http_put_response_hop_limit,
                metadata.http_endpoint.as_deref(),
            ),
        };
        let id = launch::insert(region, &spec, 0, ip, call);
        let member = Member {
            instance_id: id.clone(),
            zone: subnet.zone.clone(),
            subnet_id: subnet.id.clone(),
            instance_type: lc.instance_type.clone(),
            launch_configuration: lc.name.clone(),
            launch_ms: now,
            protected_from_scale_in: protect,
            leaving: None,
            registered_with: Default::default(),
        };
        if let Some(group) = region.autoscaling.groups.get_mut(name) {
            group.members.insert(id, member);
        }
    }
}

/// Terminates up to `count` instances of group `name`, chosen by [`choose_victim`].
fn scale_in(region: &mut Ec2Region, name: &str, count: i64, call: &Call<'_>) {
    for _ in 0..count {
        let Some(group) = region.autoscaling.groups.get(name) else {
            return;
        };
        let Some(victim) = choose_victim(region, group, call.now_ms) else {
            return;
        };
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
/// for AWS's default policy: oldest launch configuration, then closest to the next billing hour.
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
    let lc_age = |m: &Member| {
        region
            .autoscaling
            .launch_configurations
            .get(&m.launch_configuration)
            .map_or(i64::MIN, |lc| lc.created_ms)
    };
    let billing = |m: &Member| (now - m.launch_ms).rem_euclid(3_600_000);
    let mut policies: Vec<&str> = Vec::new();
    for p in &group.termination_policies {
        match p.as_str() {
            "Default" => {
                policies.extend(["OldestLaunchConfiguration", "ClosestToNextInstanceHour"])
            }
            other => policies.push(other),
        }
    }
    for policy in policies {
        let keep: Option<i64> = match policy {
            "OldestLaunchConfiguration" => candidates.iter().map(|m| lc_age(m)).min(),
            "ClosestToNextInstanceHour" => candidates.iter().map(|m| billing(m)).max(),
            "OldestInstance" => candidates.iter().map(|m| m.launch_ms).min(),
            "NewestInstance" => candidates.iter().map(|m| m.launch_ms).max(),
            // AllocationStrategy and OldestLaunchTemplate do not tell launch-configuration
            // instances apart; a Lambda function is not called.
            _ => None,
        };
        if let Some(k) = keep {
            candidates.retain(|m| match policy {
                "OldestLaunchConfiguration" => lc_age(m) == k,
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
            launch_configuration: "lc".into(),
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
            launch_configuration: "lc".into(),
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
