//! Load balancers: CreateLoadBalancer, DeleteLoadBalancer, DescribeLoadBalancers, the subnets
//! (Attach/DetachLoadBalancerToSubnets) and security groups (ApplySecurityGroupsToLoadBalancer).

use std::collections::BTreeSet;

use crate::protocol::{AwsError, AwsResult, Output, Writer};
use crate::services::action::{Action, TagsIn};
use crate::services::ec2::model::Ec2Region;
use crate::services::elbv2::zones::hosted_zone;
use crate::services::{ec2::common, Call};
use crate::state::paging::Page;
use crate::state::{self, tags::Tags};

use super::model::{Attributes, HealthCheck, LoadBalancer};
use super::{
    find, find_mut, invalid_configuration, listeners, policies, tags, validation, ON_LOAD_BALANCER,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateLoadBalancer", create_load_balancer)
        .on(ON_LOAD_BALANCER)
        .tags(TagsIn::Set("Tags.member")),
    Action::new("DeleteLoadBalancer", delete_load_balancer).on(ON_LOAD_BALANCER),
    Action::new("DescribeLoadBalancers", describe_load_balancers),
    Action::new(
        "AttachLoadBalancerToSubnets",
        attach_load_balancer_to_subnets,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "DetachLoadBalancerFromSubnets",
        detach_load_balancer_from_subnets,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "ApplySecurityGroupsToLoadBalancer",
        apply_security_groups_to_load_balancer,
    )
    .on(ON_LOAD_BALANCER),
];

/// AWS's default quota of classic load balancers per region.
const DEFAULT_LIMIT: usize = 20;

/// 1–32 letters, digits or hyphens, no hyphen at either end.
fn check_name(name: &str) -> AwsResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "LoadBalancerName '{name}' is invalid: it must have at most 32 characters, contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen."
        )))
    }
}

/// Resolves the subnets a load balancer asks for (or the default subnets of the zones it names)
/// and checks AWS's rules: they exist, share one VPC, one per zone. Returns (vpc, sorted subnets).
fn resolve_subnets(
    r: &Ec2Region,
    subnets: &[&str],
    zones: &[&str],
) -> AwsResult<(String, Vec<String>)> {
    let ids: Vec<String> = if !subnets.is_empty() {
        subnets.iter().map(|s| s.to_string()).collect()
    } else {
        let mut ids = Vec::new();
        for z in zones {
            let subnet = r
                .subnets
                .values()
                .find(|s| s.default_for_az && s.zone == *z && s.vpc_id == r.default_vpc_id)
                .ok_or_else(|| invalid_configuration(format!("Invalid Availability Zone: {z}")))?;
            ids.push(subnet.id.clone());
        }
        ids
    };
    check_subnets(r, None, &ids)
}

/// Checks that `ids` exist, belong to one VPC (`vpc` when given) and cover each zone once.
fn check_subnets(
    r: &Ec2Region,
    vpc: Option<&str>,
    ids: &[String],
) -> AwsResult<(String, Vec<String>)> {
    let mut vpc_id: Option<String> = vpc.map(str::to_string);
    let mut zones = BTreeSet::new();
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if out.contains(id) {
            continue;
        }
        let s = r.subnets.get(id).ok_or_else(|| {
            AwsError::bad_request(
                "SubnetNotFound",
                format!("The subnet ID '{id}' does not exist"),
            )
        })?;
        match &vpc_id {
            Some(v) if *v != s.vpc_id => {
                return Err(invalid_configuration(
                    "All subnets of a load balancer must belong to the same VPC.",
                ))
            }
            _ => vpc_id = Some(s.vpc_id.clone()),
        }
        if !zones.insert(s.zone.clone()) {
            return Err(invalid_configuration(
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone.",
            ));
        }
        out.push(id.clone());
    }
    out.sort();
    Ok((vpc_id.unwrap_or_default(), out))
}

/// Checks that each group exists in `vpc`; no group at all means the VPC's default group.
fn resolve_groups(r: &Ec2Region, vpc: &str, groups: &[&str]) -> AwsResult<Vec<String>> {
    if groups.is_empty() {
        return Ok(r
            .security_groups
            .values()
            .find(|g| g.vpc_id == vpc && g.name == "default")
            .map(|g| vec![g.id.clone()])
            .unwrap_or_default());
    }
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        if r.security_groups.get(*g).is_none_or(|sg| sg.vpc_id != vpc) {
            return Err(AwsError::bad_request(
                "InvalidSecurityGroup",
                format!("One or more of the specified security groups do not exist. Security group '{g}' is not in VPC '{vpc}'."),
            ));
        }
        if !out.iter().any(|o| o == g) {
            out.push(g.to_string());
        }
    }
    Ok(out)
}

/// The zones of a load balancer's subnets, sorted.
pub fn zones_of(r: &Ec2Region, lb: &LoadBalancer) -> Vec<String> {
    let set: BTreeSet<&str> = lb
        .subnets
        .iter()
        .filter_map(|s| r.subnets.get(s))
        .map(|s| s.zone.as_str())
        .collect();
    set.into_iter().map(str::to_string).collect()
}

fn create_load_balancer(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let new_listeners = listeners::parse(&p, "Listeners", call.account)?;
    let zones = p.strings("AvailabilityZones")?;
    let subnets = p.strings("Subnets")?;
    let groups = p.strings("SecurityGroups")?;
    let scheme = p.str("Scheme").unwrap_or("internet-facing");
    let new_tags = tags::parse(&p)?;
    call.params()?.finish()?;
    check_name(name)?;
    listeners::check_set(&new_listeners)?;
    if scheme != "internet-facing" && scheme != "internal" {
        return Err(AwsError::bad_request(
            "InvalidScheme",
            format!("Invalid scheme '{scheme}'. Valid values are internet-facing and internal."),
        ));
    }
    if subnets.is_empty() && zones.is_empty() {
        return Err(validation(
            "Either AvailabilityZones or SubnetIds must be specified",
        ));
    }
    if !subnets.is_empty() && !zones.is_empty() {
        return Err(validation(
            "Only one of SubnetIds or AvailabilityZones may be specified",
        ));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let (vpc_id, subnet_ids) = resolve_subnets(&r, &subnets, &zones)?;
    let group_ids = resolve_groups(&r, &vpc_id, &groups)?;
    if let Some(existing) = r.elb.load_balancers.get(name) {
        let same_listeners = existing.listeners.len() == new_listeners.len()
            && existing
                .listeners
                .iter()
                .zip(sorted(new_listeners.clone()).iter())
                .all(|(a, b)| listeners::same(a, b));
        if same_listeners
            && existing.scheme == scheme
            && existing.subnets == subnet_ids
            && existing.security_groups == group_ids
        {
            let mut w = call.writer();
            w.str("DNSName", &existing.dns_name);
            return w.finish();
        }
        return Err(AwsError::bad_request(
            "DuplicateLoadBalancerName",
            format!("Load Balancer named '{name}' already exists and it is configured with different parameters."),
        ));
    }
    let limit = call.world.load_balancer_limit.unwrap_or(DEFAULT_LIMIT);
    if r.elb.load_balancers.len() >= limit {
        return Err(AwsError::bad_request(
            "TooManyLoadBalancers",
            format!("Exceeded quota of account {}: the account may have {limit} classic load balancers in this region.", call.account),
        ));
    }
    if scheme == "internet-facing"
        && !r
            .internet_gateways
            .values()
            .any(|g| g.vpc_id.as_deref() == Some(vpc_id.as_str()))
    {
        return Err(AwsError::bad_request(
            "InvalidSubnet",
            format!("VPC {vpc_id} has no internet gateway"),
        ));
    }
    let mut lb_tags = Tags::new();
    tags::apply(&mut lb_tags, &new_tags)?;
    let digits = 100_000_000 + call.world.ids.next_u64() % 1_900_000_000;
    let prefix = if scheme == "internal" {
        "internal-"
    } else {
        ""
    };
    let dns_name = format!("{prefix}{name}-{digits}.{}.elb.amazonaws.com", call.region);
    let health_check = HealthCheck {
        target: format!(
            "TCP:{}",
            new_listeners.first().map_or(80, |l| l.instance_port)
        ),
        interval: 30,
        timeout: 5,
        unhealthy_threshold: 2,
        healthy_threshold: 10,
    };
    let mut lb = LoadBalancer {
        name: name.to_string(),
        dns_name: dns_name.clone(),
        scheme: scheme.to_string(),
        vpc_id,
        subnets: subnet_ids,
        security_groups: group_ids,
        listeners: Vec::new(),
        policies: Vec::new(),
        backend_policies: Default::default(),
        instances: Vec::new(),
        health_check,
        attributes: Attributes::default(),
        tags: lb_tags,
        created_ms: call.now_ms,
    };
    listeners::add(&mut lb, new_listeners);
    r.elb.load_balancers.insert(name.to_string(), lb);
    let mut w = call.writer();
    w.str("DNSName", dns_name);
    w.finish()
}

fn sorted(mut l: Vec<super::model::Listener>) -> Vec<super::model::Listener> {
    l.sort_by_key(|l| l.load_balancer_port);
    l
}

/// Deleting is idempotent; the load balancer's security groups stay in use while its network
/// interfaces are released (`Ec2Region::release_groups`).
fn delete_load_balancer(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    if let Some(lb) = r.elb.load_balancers.remove(name) {
        let release = call.world.durations.load_balancer_release;
        r.release_groups(&lb.security_groups, call.now_ms, release);
    }
    call.writer().finish()
}

fn describe_load_balancers(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("LoadBalancerNames")?;
    let page = Page::read_marker(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    let mut found: Vec<&LoadBalancer> = Vec::new();
    if names.is_empty() {
        found.extend(r.elb.load_balancers.values());
    } else {
        for n in &names {
            let lb = r.elb.load_balancers.get(*n).ok_or_else(|| {
                AwsError::bad_request(
                    "LoadBalancerNotFound",
                    format!("Cannot find Load Balancer {n}"),
                )
            })?;
            if !found.iter().any(|f| f.name == lb.name) {
                found.push(lb);
            }
        }
    }
    let (items, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("LoadBalancerDescriptions", items, |w, lb| {
        describe(w, &r, lb, call.account, call.region);
    });
    w.str_opt("NextMarker", next);
    w.finish()
}

/// One `LoadBalancerDescription`.
fn describe(w: &mut Writer, r: &Ec2Region, lb: &LoadBalancer, account: &str, region: &str) {
    w.strs("Subnets", &lb.subnets);
    w.str("CanonicalHostedZoneNameID", hosted_zone(region, false));
    if lb.scheme != "internal" {
        w.str("CanonicalHostedZoneName", &lb.dns_name);
    }
    w.list("ListenerDescriptions", &lb.listeners, |w, l| {
        w.strs("PolicyNames", &l.policy_names);
        w.structure("Listener", |w| {
            w.str("Protocol", &l.protocol)
                .int("LoadBalancerPort", l.load_balancer_port)
                .str("InstanceProtocol", &l.instance_protocol)
                .int("InstancePort", l.instance_port)
                .str_opt("SSLCertificateId", l.ssl_certificate_id.as_ref());
        });
    });
    super::health::describe_health_check(w, &lb.health_check);
    w.str("VPCId", &lb.vpc_id);
    w.list(
        "BackendServerDescriptions",
        &lb.backend_policies,
        |w, (port, names)| {
            w.int("InstancePort", *port).strs("PolicyNames", names);
        },
    );
    super::health::describe_instances(w, lb);
    w.str("DNSName", &lb.dns_name);
    w.strs("SecurityGroups", &lb.security_groups);
    policies::describe_in_load_balancer(w, lb);
    w.str("LoadBalancerName", &lb.name);
    w.time("CreatedTime", lb.created_ms);
    w.strs("AvailabilityZones", zones_of(r, lb));
    w.str("Scheme", &lb.scheme);
    if let Some(g) = lb
        .security_groups
        .first()
        .and_then(|g| r.security_groups.get(g))
    {
        w.structure("SourceSecurityGroup", |w| {
            w.str("OwnerAlias", account).str("GroupName", &g.name);
        });
    }
}

fn attach_load_balancer_to_subnets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let subnets = p.required_strings("Subnets")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find(&r, name)?;
    let mut all = lb.subnets.clone();
    all.extend(subnets.iter().map(|s| s.to_string()));
    let vpc = lb.vpc_id.clone();
    let (_, checked) = check_subnets(&r, Some(&vpc), &all)?;
    let lb = find_mut(&mut r, name)?;
    lb.subnets = checked;
    let mut w = call.writer();
    w.strs("Subnets", &lb.subnets);
    w.finish()
}

fn detach_load_balancer_from_subnets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let subnets = p.required_strings("Subnets")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    let left: Vec<String> = lb
        .subnets
        .iter()
        .filter(|s| !subnets.contains(&s.as_str()))
        .cloned()
        .collect();
    if left.is_empty() {
        return Err(invalid_configuration(
            "A load balancer must be attached to at least one subnet.",
        ));
    }
    lb.subnets = left;
    let mut w = call.writer();
    w.strs("Subnets", &lb.subnets);
    w.finish()
}

fn apply_security_groups_to_load_balancer(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let groups = p.required_strings("SecurityGroups")?;
    call.params()?.finish()?;
    if groups.is_empty() {
        return Err(validation(
            "1 validation error detected: Value '[]' at 'securityGroups' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let vpc = find(&r, name)?.vpc_id.clone();
    let ids = resolve_groups(&r, &vpc, &groups)?;
    let lb = find_mut(&mut r, name)?;
    lb.security_groups = ids;
    let mut w = call.writer();
    w.strs("SecurityGroups", &lb.security_groups);
    w.finish()
}
