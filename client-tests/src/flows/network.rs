//! EC2 steps shared by the load-balancer flows, ported from aws.go: instances of the cluster,
//! subnet discovery, security groups and their ingress rules, and the instance security-group
//! update with its "Multiple tagged security groups" error.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{
    Filter, Instance, IpPermission, IpRange, ResourceType, SecurityGroup, Subnet, Tag,
    TagSpecification, UserIdGroupPair,
};

use super::api::{call, ApiError, EC2};
use super::context::{go_quote, FlowContext, FlowError};
use super::tagging::{ec2_pairs, Tagging, OWNED, ROLE_ELB, ROLE_INTERNAL_ELB};
use super::wait::{exponential_backoff, Backoff, Poll};

/// `newEc2Filter`.
pub fn filter(name: &str, values: &[&str]) -> Filter {
    let mut f = Filter::builder().name(name);
    for v in values {
        f = f.values(*v);
    }
    f.build()
}

pub fn tagging(ctx: &FlowContext) -> Tagging<'_> {
    Tagging::new(&ctx.cluster_id)
}

/// The provider's `ec2.DescribeInstances` (aws_ec2.go: every page) then `describeInstances`:
/// only instances with the cluster tag.
pub async fn describe_instances(
    ctx: &FlowContext,
    filters: Vec<Filter>,
) -> Result<Vec<Instance>, ApiError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = call(ctx, EC2, "DescribeInstances", || {
            ctx.ec2
                .describe_instances()
                .set_filters(if filters.is_empty() {
                    None
                } else {
                    Some(filters.clone())
                })
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        for r in page.reservations() {
            out.extend(r.instances().iter().cloned());
        }
        token = page.next_token().map(str::to_string);
        if token.as_deref().unwrap_or("").is_empty() {
            break;
        }
    }
    let t = tagging(ctx);
    Ok(out
        .into_iter()
        .filter(|i| t.has_cluster_tag(ec2_pairs(i.tags())))
        .collect())
}

/// `findInstancesForELB`: all cluster instances (the instance cache's `DescribeInstances` without
/// filters), then the nodes' ids among them; unknown ids are ignored as the provider does.
pub async fn instances_for_elb(
    ctx: &FlowContext,
    node_instance_ids: &[String],
) -> Result<BTreeMap<String, Instance>, FlowError> {
    let all = describe_instances(ctx, Vec::new())
        .await
        .map_err(|e| FlowError::api(&e))?;
    let wanted: BTreeSet<&str> = node_instance_ids.iter().map(String::as_str).collect();
    Ok(all
        .into_iter()
        .filter_map(|i| {
            let id = i.instance_id().unwrap_or("").to_string();
            wanted.contains(id.as_str()).then_some((id, i))
        })
        .collect())
}

/// Every subnet of the describe (one page is all the emulator gives for a VPC filter; the
/// provider pages too).
async fn describe_subnets(
    ctx: &FlowContext,
    filters: Vec<Filter>,
) -> Result<Vec<Subnet>, ApiError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = call(ctx, EC2, "DescribeSubnets", || {
            ctx.ec2
                .describe_subnets()
                .set_filters(Some(filters.clone()))
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        out.extend(page.subnets().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.as_deref().unwrap_or("").is_empty() {
            break;
        }
    }
    Ok(out)
}

/// `findSubnets`: subnets of the VPC with this cluster's tag or no cluster tag at all. The
/// provider falls back to its own instance's subnet when none match; a flow has no own instance,
/// so it finds none.
pub async fn find_subnets(ctx: &FlowContext) -> Result<Vec<Subnet>, FlowError> {
    let subnets = describe_subnets(ctx, vec![filter("vpc-id", &[&ctx.vpc_id])])
        .await
        .map_err(|e| FlowError::wrap(&e, "error describing subnets: ", true, ""))?;
    let t = tagging(ctx);
    Ok(subnets
        .into_iter()
        .filter(|s| {
            t.has_cluster_tag(ec2_pairs(s.tags()))
                || t.has_no_cluster_prefix_tag(ec2_pairs(s.tags()))
        })
        .collect())
}

/// `isSubnetPublic`: the subnet's route table (explicit association, else the main table) has a
/// route through an `igw…` gateway.
fn is_subnet_public(
    tables: &[aws_sdk_ec2::types::RouteTable],
    subnet_id: &str,
) -> Result<bool, FlowError> {
    let explicit = tables.iter().find(|t| {
        t.associations()
            .iter()
            .any(|a| a.subnet_id() == Some(subnet_id))
    });
    let table = explicit.or_else(|| {
        tables
            .iter()
            .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
    });
    let Some(table) = table else {
        return Err(FlowError::msg(format!(
            "could not locate routing table for subnet {subnet_id}"
        )));
    };
    Ok(table
        .routes()
        .iter()
        .any(|r| r.gateway_id().unwrap_or("").starts_with("igw")))
}

/// `findELBSubnets`: one subnet per zone — public ones only for an internet-facing LB; ties
/// broken by the role tag, then the cluster tag, then the lowest id — in zone-name order, only
/// zones of type `availability-zone`.
pub async fn find_elb_subnets(ctx: &FlowContext, internal: bool) -> Result<Vec<String>, FlowError> {
    let subnets = find_subnets(ctx).await?;
    let tables = call(ctx, EC2, "DescribeRouteTables", || {
        ctx.ec2
            .describe_route_tables()
            .filters(filter("vpc-id", &[&ctx.vpc_id]))
            .send()
    })
    .await
    .map_err(|e| FlowError::wrap(&e, "error describe route table: ", true, ""))?
    .route_tables()
    .to_vec();

    let t = tagging(ctx);
    let role = if internal {
        ROLE_INTERNAL_ELB
    } else {
        ROLE_ELB
    };
    let has = |s: &Subnet, key: &str| s.tags().iter().any(|tag| tag.key() == Some(key));
    let mut by_zone: BTreeMap<String, Subnet> = BTreeMap::new();
    for subnet in subnets {
        let az = subnet.availability_zone().unwrap_or("").to_string();
        let id = subnet.subnet_id().unwrap_or("").to_string();
        if az.is_empty() || id.is_empty() {
            continue;
        }
        let public = is_subnet_public(&tables, &id)?;
        if !internal && !public {
            continue;
        }
        let Some(existing) = by_zone.get(&az) else {
            by_zone.insert(az, subnet);
            continue;
        };
        let (existing_role, subnet_role) = (has(existing, role), has(&subnet, role));
        if existing_role != subnet_role {
            if subnet_role {
                by_zone.insert(az, subnet);
            }
            continue;
        }
        let existing_cluster = t.has_cluster_tag(ec2_pairs(existing.tags()));
        let subnet_cluster = t.has_cluster_tag(ec2_pairs(subnet.tags()));
        if existing_cluster != subnet_cluster {
            if subnet_cluster {
                by_zone.insert(az, subnet);
            }
            continue;
        }
        if existing.subnet_id().unwrap_or("") > id.as_str() {
            by_zone.insert(az, subnet);
        }
    }
    if by_zone.is_empty() {
        return Ok(Vec::new());
    }
    // zoneCache.getZoneDetailsByNames: a fresh provider populates its cache.
    let zones = call(ctx, EC2, "DescribeAvailabilityZones", || {
        ctx.ec2.describe_availability_zones().send()
    })
    .await
    .map_err(|e| {
        let inner = FlowError::wrap(&e, "error describe availability zones: ", true, "");
        FlowError {
            message: format!(
                "error get availability zone types: {}",
                go_quote(&inner.message)
            ),
            ..inner
        }
    })?;
    let types: BTreeMap<&str, &str> = zones
        .availability_zones()
        .iter()
        .map(|z| (z.zone_name().unwrap_or(""), z.zone_type().unwrap_or("")))
        .collect();
    Ok(by_zone
        .iter()
        .filter(|(zone, _)| match types.get(zone.as_str()) {
            Some(kind) => *kind == "availability-zone",
            None => true,
        })
        .map(|(_, s)| s.subnet_id().unwrap_or("").to_string())
        .collect())
}

/// `findSecurityGroup`.
pub async fn find_security_group(
    ctx: &FlowContext,
    id: &str,
) -> Result<Option<SecurityGroup>, FlowError> {
    let out = call(ctx, EC2, "DescribeSecurityGroups", || {
        ctx.ec2.describe_security_groups().group_ids(id).send()
    })
    .await
    .map_err(|e| FlowError::api(&e))?;
    match out.security_groups() {
        [] => Ok(None),
        [g] => Ok(Some(g.clone())),
        _ => Err(FlowError::msg(format!(
            "multiple security groups found with same id {}",
            go_quote(id)
        ))),
    }
}

/// `ensureSecurityGroup`: find by `group-name` + `vpc-id`, else create it tagged `owned`
/// (retrying a racing `InvalidGroup.Duplicate` as the provider does).
pub async fn ensure_security_group(
    ctx: &FlowContext,
    name: &str,
    description: &str,
    additional_tags: &BTreeMap<String, String>,
) -> Result<String, FlowError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let found = call(ctx, EC2, "DescribeSecurityGroups", || {
            ctx.ec2
                .describe_security_groups()
                .filters(filter("group-name", &[name]))
                .filters(filter("vpc-id", &[&ctx.vpc_id]))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
        if let Some(g) = found.security_groups().first() {
            let id = g.group_id().unwrap_or("").to_string();
            read_repair_cluster_tags(ctx, &id, g.tags()).await?;
            return Ok(id);
        }
        let tags = tagging(ctx).build_tags(OWNED, additional_tags);
        let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
        for (k, v) in &tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        let spec = spec.build();
        let created = call(ctx, EC2, "CreateSecurityGroup", || {
            ctx.ec2
                .create_security_group()
                .vpc_id(&ctx.vpc_id)
                .group_name(name)
                .description(description)
                .tag_specifications(spec.clone())
                .send()
        })
        .await;
        match created {
            Ok(out) => {
                let id = out.group_id().unwrap_or("").to_string();
                if id.is_empty() {
                    return Err(FlowError::msg(format!(
                        "created security group, but id was not returned: {name}"
                    )));
                }
                return Ok(id);
            }
            // MaxReadThenCreateRetries = 30; the provider sleeps 1 s between.
            Err(e) if e.is("InvalidGroup.Duplicate") && attempt < 30 => {
                ctx.sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(FlowError::api(&e)),
        }
    }
}

/// `readRepairClusterTags` for an owned resource: add the cluster tag when it is missing; a
/// different value (another cluster's, or `shared`) is an error.
async fn read_repair_cluster_tags(
    ctx: &FlowContext,
    id: &str,
    tags: &[Tag],
) -> Result<(), FlowError> {
    if ctx.cluster_id.is_empty() {
        return Ok(());
    }
    let key = tagging(ctx).cluster_tag_key();
    let actual = tags
        .iter()
        .find(|t| t.key() == Some(key.as_str()))
        .and_then(|t| t.value())
        .unwrap_or("");
    if actual == OWNED {
        return Ok(());
    }
    if !actual.is_empty() {
        return Err(FlowError::msg(format!(
            "resource {} has tag belonging to another cluster: {}={} (expected {})",
            go_quote(id),
            go_quote(&key),
            go_quote(actual),
            go_quote(OWNED)
        )));
    }
    create_tags(ctx, id, &key).await.map_err(|e| {
        FlowError::wrap(
            &e,
            &format!("error adding missing tags to resource {}: ", go_quote(id)),
            true,
            "",
        )
    })
}

/// `createTags`: CreateTags retried on any error (1 s, ×2, 9 runs); the last error if it never
/// succeeds.
async fn create_tags(ctx: &FlowContext, id: &str, key: &str) -> Result<(), ApiError> {
    let last: std::sync::Mutex<Option<ApiError>> = std::sync::Mutex::new(None);
    let backoff = Backoff {
        duration: Duration::from_secs(1),
        factor: 2.0,
        steps: 9,
    };
    let done = exponential_backoff(ctx, &backoff, || async {
        match call(ctx, EC2, "CreateTags", || {
            ctx.ec2
                .create_tags()
                .resources(id)
                .tags(Tag::builder().key(key).value(OWNED).build())
                .send()
        })
        .await
        {
            Ok(_) => Ok(Poll::Done(())),
            Err(e) => {
                if let Ok(mut l) = last.lock() {
                    *l = Some(e);
                }
                Ok(Poll::Again)
            }
        }
    })
    .await;
    match (done, last.into_inner().ok().flatten()) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(e)) => Err(e),
        (Err(_), None) => Ok(()),
    }
}

/// One ungrouped permission: what `IPPermissionSet.Ungroup` makes of a rule (one CIDR or one
/// group per permission), comparable as a set member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Perm {
    pub protocol: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
    pub cidr: Option<String>,
    /// The CIDR range's description (the NLB rules are told apart by it).
    pub description: Option<String>,
    pub group: Option<String>,
}

impl Perm {
    pub fn to_sdk(&self) -> IpPermission {
        let mut p = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from)
            .set_to_port(self.to);
        if let Some(c) = &self.cidr {
            p = p.ip_ranges(
                IpRange::builder()
                    .cidr_ip(c)
                    .set_description(self.description.clone())
                    .build(),
            );
        }
        if let Some(g) = &self.group {
            p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).build());
        }
        p.build()
    }
}

/// `Ungroup` of rules as EC2 describes them.
pub fn ungroup(perms: &[IpPermission]) -> BTreeSet<Perm> {
    let mut out = BTreeSet::new();
    for p in perms {
        let base = Perm {
            protocol: p.ip_protocol().unwrap_or("").to_string(),
            from: p.from_port(),
            to: p.to_port(),
            cidr: None,
            description: None,
            group: None,
        };
        for r in p.ip_ranges() {
            out.insert(Perm {
                cidr: r.cidr_ip().map(str::to_string),
                description: r.description().map(str::to_string),
                ..base.clone()
            });
        }
        for g in p.user_id_group_pairs() {
            out.insert(Perm {
                group: g.group_id().map(str::to_string),
                ..base.clone()
            });
        }
        if p.ip_ranges().is_empty() && p.user_id_group_pairs().is_empty() {
            out.insert(base);
        }
    }
    out
}

/// `setSecurityGroupIngress`: make the group's ingress exactly `wanted` (authorize the missing,
/// then revoke the extra). Returns whether anything changed.
pub async fn set_security_group_ingress(
    ctx: &FlowContext,
    group_id: &str,
    wanted: &BTreeSet<Perm>,
) -> Result<bool, FlowError> {
    let Some(group) = find_security_group(ctx, group_id).await? else {
        return Err(FlowError::msg(format!(
            "security group not found: {group_id}"
        )));
    };
    let actual = ungroup(group.ip_permissions());
    let add: Vec<IpPermission> = wanted.difference(&actual).map(Perm::to_sdk).collect();
    let remove: Vec<IpPermission> = actual.difference(wanted).map(Perm::to_sdk).collect();
    if add.is_empty() && remove.is_empty() {
        return Ok(false);
    }
    if !add.is_empty() {
        call(ctx, EC2, "AuthorizeSecurityGroupIngress", || {
            ctx.ec2
                .authorize_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(add.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::wrap(&e, "error authorizing security group ingress: ", true, ""))?;
    }
    if !remove.is_empty() {
        call(ctx, EC2, "RevokeSecurityGroupIngress", || {
            ctx.ec2
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(remove.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::wrap(&e, "error revoking security group ingress: ", true, ""))?;
    }
    Ok(true)
}

/// `ipPermissionExists` (group pairs compared by id only).
fn permission_exists(new: &IpPermission, existing: &IpPermission) -> bool {
    new.from_port() == existing.from_port()
        && new.to_port() == existing.to_port()
        && new.ip_protocol() == existing.ip_protocol()
        && new.ip_ranges().len() <= existing.ip_ranges().len()
        && new.ip_ranges().iter().all(|r| {
            existing
                .ip_ranges()
                .iter()
                .any(|e| e.cidr_ip() == r.cidr_ip())
        })
        && new.user_id_group_pairs().iter().all(|p| {
            existing
                .user_id_group_pairs()
                .iter()
                .any(|e| e.group_id() == p.group_id())
        })
}

/// `addSecurityGroupIngress` / `removeSecurityGroupIngress`: authorize the permissions the group
/// lacks, or revoke those it has. A missing group is an error when adding and nothing when
/// removing.
pub async fn change_security_group_ingress(
    ctx: &FlowContext,
    group_id: &str,
    perms: &[IpPermission],
    add: bool,
) -> Result<bool, FlowError> {
    let Some(group) = find_security_group(ctx, group_id).await? else {
        if add {
            return Err(FlowError::msg(format!(
                "security group not found: {group_id}"
            )));
        }
        return Ok(false);
    };
    let changes: Vec<IpPermission> = perms
        .iter()
        .filter(|p| {
            group
                .ip_permissions()
                .iter()
                .any(|g| permission_exists(p, g))
                != add
        })
        .cloned()
        .collect();
    if changes.is_empty() {
        return Ok(false);
    }
    if add {
        call(ctx, EC2, "AuthorizeSecurityGroupIngress", || {
            ctx.ec2
                .authorize_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(changes.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::wrap(&e, "error authorizing security group ingress: ", true, ""))?;
    } else {
        call(ctx, EC2, "RevokeSecurityGroupIngress", || {
            ctx.ec2
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(changes.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
    }
    Ok(true)
}

/// `getTaggedSecurityGroups`: every group with the cluster tag, by id.
pub async fn tagged_security_groups(
    ctx: &FlowContext,
) -> Result<BTreeMap<String, SecurityGroup>, FlowError> {
    let out = call(ctx, EC2, "DescribeSecurityGroups", || {
        ctx.ec2.describe_security_groups().send()
    })
    .await
    .map_err(|e| FlowError::wrap(&e, "error querying security groups: ", true, ""))
    .map_err(|e| FlowError {
        message: format!(
            "error querying for tagged security groups: {}",
            go_quote(&e.message)
        ),
        ..e
    })?;
    let t = tagging(ctx);
    Ok(out
        .security_groups()
        .iter()
        .filter(|g| t.has_cluster_tag(ec2_pairs(g.tags())))
        .filter(|g| !g.group_id().unwrap_or("").is_empty())
        .map(|g| (g.group_id().unwrap_or("").to_string(), g.clone()))
        .collect())
}

/// `findSecurityGroupForInstance`: the instance's one cluster-tagged group, else its one group.
pub fn security_group_for_instance(
    instance: &Instance,
    tagged: &BTreeMap<String, SecurityGroup>,
) -> Result<Option<String>, FlowError> {
    let id = instance.instance_id().unwrap_or("");
    let mut tagged_groups = Vec::new();
    let mut untagged = Vec::new();
    for g in instance.security_groups() {
        let gid = g.group_id().unwrap_or("");
        if gid.is_empty() {
            continue;
        }
        if tagged.contains_key(gid) {
            tagged_groups.push(g);
        } else {
            untagged.push(g);
        }
    }
    if !tagged_groups.is_empty() {
        if tagged_groups.len() != 1 {
            // Go: taggedGroups += fmt.Sprintf("%s(%s) ", *v.GroupId, *v.GroupName)
            let list: String = tagged_groups
                .iter()
                .map(|g| {
                    format!(
                        "{}({}) ",
                        g.group_id().unwrap_or(""),
                        g.group_name().unwrap_or("")
                    )
                })
                .collect();
            return Err(FlowError::msg(format!(
                "Multiple tagged security groups found for instance {id}; ensure only the k8s security group is tagged; the tagged groups were {list}"
            )));
        }
        return Ok(tagged_groups[0].group_id().map(str::to_string));
    }
    if !untagged.is_empty() {
        if untagged.len() != 1 {
            return Err(FlowError::msg(format!(
                "Multiple untagged security groups found for instance {id}; ensure the k8s security group is tagged"
            )));
        }
        return Ok(untagged[0].group_id().map(str::to_string));
    }
    Ok(None)
}

/// `buildSecurityGroupRuleReferences`: the groups with a rule naming `group_id` as source, with
/// whether each carries the cluster tag.
pub async fn rule_references(
    ctx: &FlowContext,
    group_id: &str,
) -> Result<Vec<(SecurityGroup, bool)>, FlowError> {
    let out = call(ctx, EC2, "DescribeSecurityGroups", || {
        ctx.ec2
            .describe_security_groups()
            .filters(filter("ip-permission.group-id", &[group_id]))
            .send()
    })
    .await
    .map_err(|e| FlowError::wrap(&e, "error querying security groups for ELB: ", false, ""))
    .map_err(|e| FlowError {
        message: format!(
            "error building security group rule references: {}",
            e.message
        ),
        ..e
    })?;
    let t = tagging(ctx);
    Ok(out
        .security_groups()
        .iter()
        .map(|g| (g.clone(), t.has_cluster_tag(ec2_pairs(g.tags()))))
        .collect())
}

/// `deleteSecurityGroupsWithBackoff`: every 5 s for up to 10 minutes (first round at once),
/// delete each remaining group; `DependencyViolation` waits for the next round, anything else
/// stops.
pub async fn delete_security_groups_with_backoff(
    ctx: &FlowContext,
    service_name: &str,
    groups: &BTreeSet<String>,
) -> Result<(), FlowError> {
    if groups.is_empty() {
        return Ok(());
    }
    let mut remaining = groups.clone();
    let interval = Duration::from_secs(5);
    let timeout = Duration::from_secs(600);
    let start = ctx.now();
    let failure = loop {
        let mut stop: Option<FlowError> = None;
        for id in remaining.clone() {
            match call(ctx, EC2, "DeleteSecurityGroup", || {
                ctx.ec2.delete_security_group().group_id(&id).send()
            })
            .await
            {
                Ok(_) => {
                    remaining.remove(&id);
                }
                Err(e) if e.is("DependencyViolation") => {}
                Err(e) => {
                    stop = Some(FlowError::wrap(
                        &e,
                        &format!("error while deleting load balancer security group ({id}): "),
                        true,
                        "",
                    ));
                    break;
                }
            }
        }
        if let Some(e) = stop {
            break e;
        }
        if remaining.is_empty() {
            return Ok(());
        }
        if ctx.now().saturating_sub(start) + interval > timeout {
            break FlowError::msg("context deadline exceeded");
        }
        ctx.sleep(interval).await;
    };
    let ids: Vec<&str> = remaining.iter().map(String::as_str).collect();
    Err(FlowError {
        message: format!(
            "could not delete security groups {} for Load Balancer {}: {}",
            ids.join(","),
            go_quote(service_name),
            failure.message
        ),
        ..failure
    })
}

/// `isOwnedSecurityGroup`: the group carries this cluster's tag with `owned` (or the legacy tag).
pub async fn is_owned_security_group(ctx: &FlowContext, id: &str) -> Result<bool, FlowError> {
    let out = call(ctx, EC2, "DescribeSecurityGroups", || {
        ctx.ec2.describe_security_groups().group_ids(id).send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            &format!("error retrieving security group {}: ", go_quote(id)),
            false,
            "",
        )
    })?;
    match out.security_groups() {
        [] => Err(FlowError::msg(format!(
            "security group {} not found",
            go_quote(id)
        ))),
        [g] => Ok(tagging(ctx).has_cluster_tag_owned(ec2_pairs(g.tags()))),
        _ => Err(FlowError::msg(format!(
            "[BUG] multiple security groups found with same id {}",
            go_quote(id)
        ))),
    }
}

/// `revokeSecurityGroupReferences`: revoke, from every cluster-tagged group, the rules that name
/// `group_id` as their source.
pub async fn revoke_security_group_references(
    ctx: &FlowContext,
    group_id: &str,
) -> Result<(), FlowError> {
    let refs = rule_references(ctx, group_id)
        .await
        .map_err(|e| FlowError {
            message: format!(
                "error building security group rule references for {}: {}",
                go_quote(group_id),
                e.message
            ),
            ..e
        })?;
    for (g, tagged) in refs {
        if !tagged {
            continue;
        }
        let linked: Vec<IpPermission> = g
            .ip_permissions()
            .iter()
            .filter(|p| {
                p.user_id_group_pairs()
                    .iter()
                    .any(|pair| pair.group_id() == Some(group_id))
            })
            .cloned()
            .collect();
        let target = g.group_id().unwrap_or("").to_string();
        call(ctx, EC2, "RevokeSecurityGroupIngress", || {
            ctx.ec2
                .revoke_security_group_ingress()
                .group_id(&target)
                .set_ip_permissions(Some(linked.clone()))
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                &format!(
                    "error revoking security group ingress rules from {}: ",
                    go_quote(&target)
                ),
                false,
                "",
            )
        })?;
    }
    Ok(())
}

/// `removeOwnedSecurityGroups`: for groups a load balancer no longer uses, revoke the rules that
/// reference them and delete the owned ones (with the DependencyViolation back-off). Errors are
/// collected as the provider collects them.
pub async fn remove_owned_security_groups(
    ctx: &FlowContext,
    lb_name: &str,
    groups: &[String],
) -> Vec<FlowError> {
    let mut errs = Vec::new();
    let mut owned = BTreeSet::new();
    for g in groups {
        let is_owned = match is_owned_security_group(ctx, g).await {
            Ok(o) => o,
            Err(e) => {
                errs.push(FlowError {
                    message: format!(
                        "unable to validate if security group {} is owned by the controller: {}",
                        go_quote(g),
                        e.message
                    ),
                    ..e
                });
                continue;
            }
        };
        if let Err(e) = revoke_security_group_references(ctx, g).await {
            errs.push(e);
            continue;
        }
        if is_owned {
            owned.insert(g.clone());
        }
    }
    if owned.is_empty() {
        return errs;
    }
    if let Err(e) = delete_security_groups_with_backoff(ctx, lb_name, &owned).await {
        let ids: Vec<String> = owned.iter().map(|g| format!("{g}:{{}}")).collect();
        errs.push(FlowError {
            message: format!(
                "error deleting security groups map[{}]: {}",
                ids.join(" "),
                e.message
            ),
            ..e
        });
        return errs;
    }
    Vec::new()
}

/// Go's `%v` of a `[]error`.
pub fn error_list(errs: &[FlowError]) -> String {
    let texts: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    format!("[{}]", texts.join(" "))
}
