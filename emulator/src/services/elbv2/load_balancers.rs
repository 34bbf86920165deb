//! Load balancers: CreateLoadBalancer (idempotent for identical settings, `provisioning` then
//! `active` on the virtual clock), DescribeLoadBalancers (by ARN or name, paged),
//! DeleteLoadBalancer (with its listeners; its security groups stay held for a while, as the
//! network interfaces of a deleted load balancer do), SetSecurityGroups and SetSubnets.

use crate::protocol::{AwsError, AwsResult, Output, Scope, Writer};
use crate::services::action::{Action, Request, TagsIn};
use crate::services::ec2::common;
use crate::services::ec2::instances::network;
use crate::services::ec2::model::{Ec2Region, Timed};
use crate::services::Call;
use crate::state::paging::Page;
use crate::state::{read, write};

use super::arn::{self, Kind};
use super::errors::{self, check_enum, invalid_configuration, validation};
use super::model::{LbState, LbType, LoadBalancer, ZoneMapping};
use super::{attributes, names, tags, zones};
use super::{tagged_at, ON_LOAD_BALANCER};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateLoadBalancer", create_load_balancer)
        .tags(TagsIn::Set("Tags.member"))
        .creates(tagged_at(new_load_balancer)),
    Action::new("DescribeLoadBalancers", describe_load_balancers),
    Action::new("DeleteLoadBalancer", delete_load_balancer).on(ON_LOAD_BALANCER),
    Action::new("SetSecurityGroups", set_security_groups).on(ON_LOAD_BALANCER),
    Action::new("SetSubnets", set_subnets).on(ON_LOAD_BALANCER),
];

/// What CreateLoadBalancer makes: `loadbalancer/app/NAME/*` (`net/`, `gwy/` by `Type`).
fn new_load_balancer(r: &Request<'_>) -> Option<String> {
    let name = r.value("Name")?;
    let kind = LbType::parse(r.value("Type").unwrap_or("application"))?;
    Some(arn::load_balancer(r.region, r.account, kind, name, "*"))
}

/// Security groups a load balancer may have.
const MAX_SECURITY_GROUPS: usize = 5;

/// AWS's default quota of load balancers of a type per region.
fn default_limit(kind: LbType) -> usize {
    match kind {
        LbType::Application | LbType::Network => 50,
        LbType::Gateway => 100,
    }
}

/// One `Subnets.member.N` or `SubnetMappings.member.N` as given.
#[derive(Debug, Clone)]
struct MappingInput<'a> {
    subnet: &'a str,
    allocation_id: Option<&'a str>,
    private_ipv4: Option<&'a str>,
    ipv6: Option<&'a str>,
    source_nat_prefix: Option<&'a str>,
}

/// Reads `Subnets` or `SubnetMappings` (not both).
fn read_subnets<'a>(p: &Scope<'a>) -> AwsResult<Option<Vec<MappingInput<'a>>>> {
    let subnets = p.strings("Subnets")?;
    let has_subnets = p.has("Subnets");
    let mut mappings = Vec::new();
    for m in p.structs("SubnetMappings")? {
        mappings.push(MappingInput {
            subnet: m.str("SubnetId").unwrap_or(""),
            allocation_id: m.str("AllocationId"),
            private_ipv4: m.str("PrivateIPv4Address"),
            ipv6: m.str("IPv6Address"),
            source_nat_prefix: m.str("SourceNatIpv6Prefix"),
        });
    }
    let has_mappings = p.has("SubnetMappings");
    match (has_subnets, has_mappings) {
        (true, true) => Err(validation(
            "You can specify subnets or subnet mappings, but not both",
        )),
        (true, false) => Ok(Some(
            subnets
                .into_iter()
                .map(|s| MappingInput {
                    subnet: s,
                    allocation_id: None,
                    private_ipv4: None,
                    ipv6: None,
                    source_nat_prefix: None,
                })
                .collect(),
        )),
        (false, true) => Ok(Some(mappings)),
        (false, false) => Ok(None),
    }
}

/// The rules on subnets that need no state: how many, and what a mapping may pin for the type.
fn check_mappings(kind: LbType, scheme: &str, mappings: &[MappingInput<'_>]) -> AwsResult<()> {
    if kind == LbType::Application && mappings.len() < 2 {
        return Err(validation(
            "At least two subnets in two different Availability Zones must be specified",
        ));
    }
    if mappings.is_empty() {
        return Err(validation("At least one subnet must be specified"));
    }
    for m in mappings {
        if m.subnet.is_empty() {
            return Err(validation(
                "A subnet ID must be specified for each subnet mapping",
            ));
        }
        if m.allocation_id.is_some() && kind != LbType::Network {
            return Err(invalid_configuration(format!(
                "Elastic IPs are not supported for load balancers with type '{}'",
                kind.name()
            )));
        }
        if m.private_ipv4.is_some() && kind != LbType::Network {
            return Err(invalid_configuration(format!(
                "Private IPv4 addresses are not supported for load balancers with type '{}'",
                kind.name()
            )));
        }
        if m.allocation_id.is_some() && scheme == "internal" {
            return Err(invalid_configuration(
                "Elastic IPs cannot be assigned to an internal load balancer",
            ));
        }
        if m.private_ipv4.is_some() && scheme != "internal" {
            return Err(invalid_configuration(
                "Private IPv4 addresses can be assigned only to internal load balancers",
            ));
        }
        if let Some(a) = m.allocation_id {
            // Elastic IPs are not emulated, so no allocation id names one.
            return Err(AwsError::bad_request(
                "AllocationIdNotFound",
                format!("The allocation ID '{a}' does not exist"),
            ));
        }
        if m.ipv6.is_some() || m.source_nat_prefix.is_some() {
            return Err(invalid_configuration(format!(
                "Subnet '{}' has no IPv6 CIDR block; IPv6 addresses and source NAT prefixes need a dualstack subnet",
                m.subnet
            )));
        }
    }
    Ok(())
}

/// Resolves the subnets against EC2: they exist, share one VPC, one per zone, and pinned
/// addresses lie inside them. Returns the VPC and the zones sorted by name.
fn resolve_zones(
    r: &Ec2Region,
    mappings: &[MappingInput<'_>],
) -> AwsResult<(String, Vec<ZoneMapping>)> {
    let mut vpc: Option<&str> = None;
    let mut zones: Vec<ZoneMapping> = Vec::new();
    for m in mappings {
        let subnet = r.subnets.get(m.subnet).ok_or_else(|| {
            AwsError::bad_request(
                "SubnetNotFound",
                format!("The subnet ID '{}' does not exist", m.subnet),
            )
        })?;
        match vpc {
            Some(v) if v != subnet.vpc_id => {
                return Err(invalid_configuration(
                    "All subnets of a load balancer must belong to the same VPC",
                ))
            }
            _ => vpc = Some(&subnet.vpc_id),
        }
        if zones.iter().any(|z| z.zone == subnet.zone) {
            return Err(invalid_configuration(
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
            ));
        }
        if let Some(ip) = m.private_ipv4 {
            let inside = ip
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| network::is_usable(&subnet.cidr, a));
            if !inside {
                return Err(invalid_configuration(format!(
                    "The private IPv4 address '{ip}' is not a usable address of subnet '{}'",
                    subnet.id
                )));
            }
        }
        zones.push(ZoneMapping {
            zone: subnet.zone.clone(),
            subnet_id: subnet.id.clone(),
            private_ipv4: m.private_ipv4.map(str::to_string),
            enabled_ms: 0,
        });
    }
    zones.sort_by(|a, b| a.zone.cmp(&b.zone));
    let vpc = vpc.ok_or_else(|| validation("At least one subnet must be specified"))?;
    Ok((vpc.to_string(), zones))
}

/// Resolves security groups in the load balancer's VPC.
fn resolve_groups(r: &Ec2Region, vpc: &str, groups: &[&str]) -> AwsResult<Vec<String>> {
    if groups.len() > MAX_SECURITY_GROUPS {
        return Err(invalid_configuration(format!(
            "A load balancer can have at most {MAX_SECURITY_GROUPS} security groups"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        let sg = r.security_groups.get(*g).ok_or_else(|| {
            AwsError::bad_request(
                "InvalidSecurityGroup",
                format!("Security group '{g}' does not exist"),
            )
        })?;
        if sg.vpc_id != vpc {
            return Err(AwsError::bad_request(
                "InvalidSecurityGroup",
                format!("Security group '{g}' does not belong to VPC '{vpc}'"),
            ));
        }
        if !out.contains(&sg.id) {
            out.push(sg.id.clone());
        }
    }
    Ok(out)
}

/// The `default` group of a VPC: an application load balancer created without groups gets it.
fn default_group(r: &Ec2Region, vpc: &str) -> Option<String> {
    r.security_groups
        .values()
        .find(|g| g.vpc_id == vpc && g.name == "default")
        .map(|g| g.id.clone())
}

pub fn create_load_balancer(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("Name")?;
    let mappings = read_subnets(&p)?;
    let groups = p.strings("SecurityGroups")?;
    let groups_given = p.has("SecurityGroups");
    let scheme = p.str("Scheme");
    if let Some(s) = scheme {
        check_enum("scheme", s, &["internet-facing", "internal"])?;
    }
    let new_tags = tags::parse(&p.structs("Tags")?)?;
    let type_name = p.str("Type").unwrap_or("application");
    check_enum("type", type_name, &["application", "network", "gateway"])?;
    let ip_type = p.str("IpAddressType");
    if let Some(t) = ip_type {
        check_enum(
            "ipAddressType",
            t,
            &["ipv4", "dualstack", "dualstack-without-public-ipv4"],
        )?;
    }
    let coip = p.str("CustomerOwnedIpv4Pool");
    let prefix_nat = p.str("EnablePrefixForIpv6SourceNat");
    if let Some(v) = prefix_nat {
        check_enum("enablePrefixForIpv6SourceNat", v, &["on", "off"])?;
    }
    let ipam_pool = p.nested("IpamPools").str("Ipv4IpamPoolId");
    call.params()?.finish()?;

    let kind = LbType::parse(type_name).ok_or_else(AwsError::internal)?;
    names::check_load_balancer(name)?;
    if kind == LbType::Gateway {
        if scheme.is_some() {
            return Err(invalid_configuration(
                "A scheme cannot be specified for load balancers with type 'gateway'",
            ));
        }
        if groups_given {
            return Err(invalid_configuration(
                "Security groups are not supported for load balancers with type 'gateway'",
            ));
        }
    }
    let scheme = match kind {
        LbType::Gateway => "",
        _ => scheme.unwrap_or("internet-facing"),
    };
    let mappings = mappings.unwrap_or_default();
    check_mappings(kind, scheme, &mappings)?;
    let ip_type = ip_type.unwrap_or("ipv4");
    if ip_type != "ipv4" {
        if ip_type == "dualstack-without-public-ipv4"
            && (kind != LbType::Application || scheme != "internet-facing")
        {
            return Err(invalid_configuration(
                "The IP address type 'dualstack-without-public-ipv4' is supported only for internet-facing Application Load Balancers",
            ));
        }
        // No emulated subnet has an IPv6 CIDR block, as in a VPC without IPv6.
        let first = mappings.first().map(|m| m.subnet).unwrap_or("");
        return Err(invalid_configuration(format!(
            "Subnet '{first}' does not have an IPv6 CIDR block, which IP address type '{ip_type}' requires"
        )));
    }
    if prefix_nat == Some("on") {
        return Err(invalid_configuration(
            "Source NAT prefixes can be enabled only on dualstack Network Load Balancers",
        ));
    }
    if let Some(pool) = coip {
        return Err(invalid_configuration(format!(
            "Customer-owned IPv4 pool '{pool}' can be used only by load balancers on an Outpost"
        )));
    }
    if let Some(pool) = ipam_pool {
        return Err(validation(format!("The IPAM pool '{pool}' does not exist")));
    }
    let tag_set = tags::initial(&new_tags, Kind::LoadBalancer)?;

    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let (vpc, zones) = resolve_zones(&r, &mappings)?;
    if scheme == "internet-facing"
        && !r
            .internet_gateways
            .values()
            .any(|g| g.vpc_id.as_deref() == Some(vpc.as_str()))
    {
        return Err(AwsError::bad_request(
            "InvalidSubnet",
            format!("VPC {vpc} has no internet gateway"),
        ));
    }
    let mut security_groups = resolve_groups(&r, &vpc, &groups)?;
    if security_groups.is_empty() && kind == LbType::Application {
        security_groups.extend(default_group(&r, &vpc));
    }

    if let Some(existing) = r
        .elbv2
        .load_balancers
        .values()
        .find(|lb| lb.name == name && lb.kind == kind)
    {
        let same = existing.scheme == scheme
            && (existing.zones.iter().map(ZoneMapping::placement))
                .eq(zones.iter().map(ZoneMapping::placement))
            && existing.ip_address_type == ip_type
            && sorted(&existing.security_groups) == sorted(&security_groups);
        if !same {
            return Err(AwsError::bad_request(
                "DuplicateLoadBalancerName",
                format!(
                    "A load balancer with the same name '{name}' exists, but with different settings"
                ),
            ));
        }
        let mut w = call.writer();
        let state = existing.state.at(now);
        w.list("LoadBalancers", [existing], |w, lb| {
            render(w, lb, state, call.region)
        });
        return w.finish();
    }
    let limit = call
        .world
        .load_balancer_limit
        .unwrap_or_else(|| default_limit(kind));
    let count = r
        .elbv2
        .load_balancers
        .values()
        .filter(|lb| lb.kind == kind)
        .count();
    if count >= limit {
        return Err(AwsError::bad_request(
            "TooManyLoadBalancers",
            format!("You've reached the limit of {limit} load balancers of type '{type_name}' for your account"),
        ));
    }

    let id = call.world.ids.hex(16);
    let lb_arn = arn::load_balancer(call.region, call.account, kind, name, &id);
    let dns_name = match kind {
        LbType::Application => format!(
            "{}{name}-{}.{}.elb.amazonaws.com",
            if scheme == "internal" {
                "internal-"
            } else {
                ""
            },
            call.world.ids.next_u64() % 2_000_000_000 + 100_000_000,
            call.region
        ),
        LbType::Network => format!("{name}-{id}.elb.{}.amazonaws.com", call.region),
        LbType::Gateway => String::new(),
    };
    let enforce =
        (kind == LbType::Network && !security_groups.is_empty()).then(|| "on".to_string());
    let lb = LoadBalancer {
        arn: lb_arn.clone(),
        name: name.to_string(),
        kind,
        scheme: scheme.to_string(),
        vpc_id: vpc,
        zones,
        security_groups,
        enforce_private_link_rules: enforce,
        ip_address_type: ip_type.to_string(),
        dns_name,
        created_ms: now,
        seq: r.elbv2.next_seq(),
        state: Timed::transition(
            LbState::Provisioning,
            now,
            LbState::Active,
            call.world.durations.load_balancer_provision,
        ),
        attributes: attributes::load_balancer_defaults(kind, scheme),
        tags: tag_set,
    };
    let mut w = call.writer();
    // The answer shows AWS's intermediate state, whatever the timing profile.
    w.list("LoadBalancers", [&lb], |w, lb| {
        render(w, lb, LbState::Provisioning, call.region)
    });
    r.elbv2.load_balancers.insert(lb_arn, lb);
    w.finish()
}

fn sorted(v: &[String]) -> Vec<&String> {
    let mut s: Vec<&String> = v.iter().collect();
    s.sort();
    s
}

pub fn describe_load_balancers(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let arns = p.strings("LoadBalancerArns")?;
    let lb_names = p.strings("Names")?;
    let page = Page::read_marker(&p)?;
    call.params()?.finish()?;
    if !arns.is_empty() && !lb_names.is_empty() {
        return Err(validation(
            "Load balancer ARNs and load balancer names cannot be specified at the same time",
        ));
    }
    for a in &arns {
        arn::check(Kind::LoadBalancer, a)?;
    }
    let now = call.now_ms;
    let lock = common::region(call)?;
    let r = read(&lock);
    let e = &r.elbv2;
    if arns.iter().any(|a| !e.load_balancers.contains_key(*a)) {
        return Err(errors::load_balancer_not_found());
    }
    let missing: Vec<&str> = lb_names
        .iter()
        .filter(|n| !e.load_balancers.values().any(|lb| lb.name == **n))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(errors::load_balancer_names_not_found(&missing));
    }
    let mut found: Vec<&LoadBalancer> = e
        .load_balancers
        .values()
        .filter(|lb| {
            (arns.is_empty() || arns.contains(&lb.arn.as_str()))
                && (lb_names.is_empty() || lb_names.contains(&lb.name.as_str()))
        })
        .collect();
    found.sort_by_key(|lb| lb.seq);
    let (shown, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("LoadBalancers", shown, |w, lb| {
        render(w, lb, lb.state.at(now), call.region)
    });
    w.str_opt("NextMarker", next);
    w.finish()
}

/// Succeeds for a load balancer that does not exist, as AWS documents; deletes the listeners;
/// the security groups stay held by the load balancer's network interfaces for a while.
pub fn delete_load_balancer(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let Some(lb) = r.elbv2.load_balancers.get(lb_arn) else {
        return call.writer().finish();
    };
    if lb
        .attributes
        .get("deletion_protection.enabled")
        .map(String::as_str)
        == Some("true")
    {
        return Err(AwsError::bad_request(
            "OperationNotPermitted",
            format!(
                "Load balancer '{lb_arn}' cannot be deleted because deletion protection is enabled"
            ),
        ));
    }
    if let Some(tg) = r
        .elbv2
        .target_groups
        .values()
        .find(|tg| tg.targets.iter().any(|t| t.id == lb_arn && t.present(now)))
    {
        return Err(AwsError::bad_request(
            "ResourceInUse",
            format!(
                "Load balancer '{lb_arn}' cannot be deleted because it is registered with target group '{}'",
                tg.arn
            ),
        ));
    }
    let groups = lb.security_groups.clone();
    r.elbv2
        .listeners
        .retain(|_, l| l.load_balancer_arn != lb_arn);
    // The listeners' rules go with them.
    let e = &mut r.elbv2;
    let listeners = &e.listeners;
    e.rules
        .retain(|_, rule| listeners.contains_key(&rule.listener_arn));
    r.elbv2.load_balancers.remove(lb_arn);
    r.elbv2.refresh_usage(now);
    r.release_groups(&groups, now, call.world.durations.load_balancer_release);
    call.writer().finish()
}

pub fn set_security_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    let groups = p.required_strings("SecurityGroups")?;
    let enforce = p.str("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic");
    if let Some(v) = enforce {
        check_enum(
            "enforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
            v,
            &["on", "off"],
        )?;
    }
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let lb = r
        .elbv2
        .load_balancers
        .get(lb_arn)
        .ok_or_else(errors::load_balancer_not_found)?;
    match lb.kind {
        LbType::Gateway => {
            return Err(invalid_configuration(
                "Security groups are not supported for load balancers with type 'gateway'",
            ))
        }
        LbType::Network if lb.enforce_private_link_rules.is_none() => {
            return Err(invalid_configuration(
                "You cannot set security groups on a Network Load Balancer which was created without any security groups",
            ))
        }
        LbType::Network if groups.is_empty() => {
            return Err(invalid_configuration(
                "You cannot remove all security groups from a Network Load Balancer which was created with security groups",
            ))
        }
        LbType::Application if groups.is_empty() => {
            return Err(invalid_configuration(
                "An Application Load Balancer must have at least one security group",
            ))
        }
        LbType::Application if enforce.is_some() => {
            return Err(invalid_configuration(
                "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is supported only for Network Load Balancers",
            ))
        }
        _ => {}
    }
    let vpc = lb.vpc_id.clone();
    let resolved = resolve_groups(&r, &vpc, &groups)?;
    let lb = r
        .elbv2
        .load_balancers
        .get_mut(lb_arn)
        .ok_or_else(AwsError::internal)?;
    lb.security_groups = resolved;
    if let (Some(v), Some(current)) = (enforce, lb.enforce_private_link_rules.as_mut()) {
        *current = v.to_string();
    }
    let mut w = call.writer();
    w.strs("SecurityGroupIds", &lb.security_groups);
    w.str_opt(
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
        lb.enforce_private_link_rules.as_deref(),
    );
    w.finish()
}

pub fn set_subnets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    let mappings = read_subnets(&p)?;
    let ip_type = p.str("IpAddressType");
    if let Some(t) = ip_type {
        check_enum(
            "ipAddressType",
            t,
            &["ipv4", "dualstack", "dualstack-without-public-ipv4"],
        )?;
    }
    let prefix_nat = p.str("EnablePrefixForIpv6SourceNat");
    if let Some(v) = prefix_nat {
        check_enum("enablePrefixForIpv6SourceNat", v, &["on", "off"])?;
    }
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let lb = r
        .elbv2
        .load_balancers
        .get(lb_arn)
        .ok_or_else(errors::load_balancer_not_found)?;
    let mappings = mappings
        .ok_or_else(|| validation("Either subnets or subnet mappings must be specified"))?;
    check_mappings(lb.kind, &lb.scheme, &mappings)?;
    if ip_type.is_some_and(|t| t != "ipv4") || prefix_nat == Some("on") {
        return Err(invalid_configuration(
            "The load balancer's subnets have no IPv6 CIDR blocks, which a dualstack IP address type requires",
        ));
    }
    let (vpc, mut zones) = resolve_zones(&r, &mappings)?;
    for z in &mut zones {
        z.enabled_ms = (lb.zones.iter())
            .find(|old| old.zone == z.zone)
            .map_or(call.now_ms, |old| old.enabled_ms);
    }
    if vpc != lb.vpc_id {
        return Err(invalid_configuration(format!(
            "The subnets must belong to the load balancer's VPC '{}'",
            lb.vpc_id
        )));
    }
    if lb.kind != LbType::Application {
        let kept = lb
            .zones
            .iter()
            .all(|old| zones.iter().any(|z| z.subnet_id == old.subnet_id));
        if !kept {
            return Err(invalid_configuration(format!(
                "Subnets cannot be removed from a load balancer of type '{}'",
                lb.kind.name()
            )));
        }
    }
    let lb = r
        .elbv2
        .load_balancers
        .get_mut(lb_arn)
        .ok_or_else(AwsError::internal)?;
    lb.zones = zones;
    let mut w = call.writer();
    render_zones(&mut w, lb);
    if lb.kind != LbType::Gateway {
        w.str("IpAddressType", &lb.ip_address_type);
    }
    w.finish()
}

/// `AvailabilityZones`: zone and subnet, and for network load balancers their addresses.
fn render_zones(w: &mut Writer, lb: &LoadBalancer) {
    w.list("AvailabilityZones", &lb.zones, |w, z| {
        w.str("ZoneName", &z.zone).str("SubnetId", &z.subnet_id);
        if lb.kind == LbType::Network {
            w.list("LoadBalancerAddresses", z.private_ipv4.iter(), |w, ip| {
                w.str("PrivateIPv4Address", ip);
            });
        }
    });
}

/// The members of a `LoadBalancer` in `state`.
pub fn render(w: &mut Writer, lb: &LoadBalancer, state: LbState, region: &str) {
    w.str("LoadBalancerArn", &lb.arn);
    if lb.kind != LbType::Gateway {
        w.str("DNSName", &lb.dns_name);
        w.str(
            "CanonicalHostedZoneId",
            zones::hosted_zone(region, lb.kind == LbType::Network),
        );
    }
    w.time("CreatedTime", lb.created_ms)
        .str("LoadBalancerName", &lb.name)
        .str_opt(
            "Scheme",
            (!lb.scheme.is_empty()).then_some(lb.scheme.as_str()),
        )
        .str("VpcId", &lb.vpc_id);
    w.structure("State", |w| {
        w.str("Code", state.name());
    });
    w.str("Type", lb.kind.name());
    render_zones(w, lb);
    if lb.kind != LbType::Gateway {
        w.strs("SecurityGroups", &lb.security_groups);
    }
    w.str("IpAddressType", &lb.ip_address_type);
    w.str_opt(
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
        lb.enforce_private_link_rules.as_deref(),
    );
}
