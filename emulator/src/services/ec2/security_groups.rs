//! Security groups: CreateSecurityGroup, DescribeSecurityGroups, DeleteSecurityGroup and the four
//! Authorize/Revoke calls for ingress and egress.
//!
//! Rules are stored one per peer ([`Rule`]), the way AWS stores and matches them: a rule is
//! identified by protocol, port range and peer (its description does not count), so authorizing it
//! twice is `InvalidPermission.Duplicate` and revoking what is not there `InvalidPermission.NotFound`.
//! Describe folds them back into `IpPermission`s. Rule ids (`sgr-…`) are derived from the rule, so
//! they are stable without being stored.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::{self, filters, tags};

use super::common;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, InstanceState, Peer, Rule, SecurityGroup};
use super::referenced::PREFIX_LIST;
use super::vpcs::{self, cidr, Page};

/// The actions of this family, each on the group it names (`GroupId`; a group named by
/// `GroupName` is authorized on `*`).
pub const ACTIONS: &[Action] = &[
    Action::new("CreateSecurityGroup", create_security_group)
        .on(&[On::Created(&SECURITY_GROUP)])
        .tags(TagsIn::Specifications),
    Action::new("DescribeSecurityGroups", describe_security_groups),
    Action::new("DeleteSecurityGroup", delete_security_group).on(&[On::Id("GroupId")]),
    // Authorizing makes rules, which a `TagSpecification` may tag (`security-group-rule`).
    Action::new("AuthorizeSecurityGroupIngress", authorize_ingress)
        .on(&[On::Id("GroupId")])
        .tags(TagsIn::Specifications),
    Action::new("AuthorizeSecurityGroupEgress", authorize_egress)
        .on(&[On::Id("GroupId")])
        .tags(TagsIn::Specifications),
    Action::new("RevokeSecurityGroupIngress", revoke_ingress).on(&[On::Id("GroupId")]),
    Action::new("RevokeSecurityGroupEgress", revoke_egress).on(&[On::Id("GroupId")]),
];

pub const SECURITY_GROUP: Kind = Kind {
    prefix: "sg",
    arn_type: "security-group",
    not_found: Some(NotFound {
        code: "InvalidGroup.NotFound",
        message: "The security group '{id}' does not exist",
    }),
    malformed: Some("InvalidGroupId.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.security_groups.get(id).map(|g| &g.tags),
        get_mut: |r, id| r.security_groups.get_mut(id).map(|g| &mut g.tags),
    }),
    ..Kind::BASE
};

/// AWS's default quota of inbound (and, separately, outbound) rules per group.
pub const MAX_RULES: usize = 60;

fn group_not_found(id: &str) -> AwsError {
    SECURITY_GROUP.not_found(id)
}

/// How a request names a group: by id anywhere in the region, or by name in a VPC.
#[derive(Debug, Clone)]
enum GroupRef {
    Id(String),
    Name(String),
}

/// Finds a group by id (checking its form) or by name in `vpc` (the default VPC when `None`).
fn resolve<'r>(r: &'r Ec2Region, g: &GroupRef, vpc: Option<&str>) -> AwsResult<&'r SecurityGroup> {
    match g {
        GroupRef::Id(id) => {
            SECURITY_GROUP.check(id)?;
            r.security_groups.get(id).ok_or_else(|| group_not_found(id))
        }
        GroupRef::Name(name) => {
            let vpc = vpc.unwrap_or(&r.default_vpc_id);
            r.security_groups
                .values()
                .find(|s| s.vpc_id == vpc && s.name == *name)
                .ok_or_else(|| name_not_found(vpc, name, &r.default_vpc_id))
        }
    }
}

/// No group of that name in `vpc`: AWS names the default VPC when it is the one searched.
fn name_not_found(vpc: &str, name: &str, default_vpc: &str) -> AwsError {
    if vpc == default_vpc {
        AwsError::bad_request(
            "InvalidGroup.NotFound",
            format!("The security group '{name}' does not exist in default VPC '{vpc}'"),
        )
    } else {
        group_not_found(name)
    }
}

/// Group names and descriptions: AWS's length limit and its ASCII-only rule.
fn check_text(param: &str, value: &str) -> AwsResult<()> {
    if value.is_empty() || value.len() > 255 {
        return Err(AwsError::invalid_value(format!(
            "Value ({value}) for parameter {param} is invalid. Length must be between 1 and 255 characters."
        )));
    }
    if !value.is_ascii() {
        return Err(AwsError::invalid_value(format!(
            "Value ({value}) for parameter {param} is invalid. Character sets beyond ASCII are not supported."
        )));
    }
    Ok(())
}

pub fn create_security_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("GroupName")?;
    let description = p.required("GroupDescription")?;
    let vpc_id = p.str("VpcId");
    let mut specs = tags::from_specifications(&p, &["security-group"])?;
    call.params()?.finish()?;
    check_text("GroupName", name)?;
    check_text("GroupDescription", description)?;
    if name.starts_with("sg-") {
        return Err(AwsError::invalid_value(
            "Group names may not be in the format sg-*.",
        ));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let vpc_id = match vpc_id {
        Some(v) => v.to_string(),
        None if r.vpcs.contains_key(&r.default_vpc_id) => r.default_vpc_id.clone(),
        None => {
            return Err(AwsError::bad_request(
                "VPCIdNotSpecified",
                "No default VPC for this user",
            ))
        }
    };
    vpcs::check_vpc(&r, &vpc_id)?;
    if r.security_groups
        .values()
        .any(|g| g.vpc_id == vpc_id && g.name == name)
    {
        return Err(AwsError::bad_request(
            "InvalidGroup.Duplicate",
            format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
        ));
    }
    let (_, egress) = super::model::default_group_rules("");
    let g = SecurityGroup {
        id: call.world.ids.resource_id("sg"),
        name: name.to_string(),
        description: description.to_string(),
        vpc_id,
        ingress: Vec::new(),
        egress,
        tags: specs.remove("security-group").unwrap_or_default(),
    };
    call.created(&g.id);
    // AWS answers `<return>true</return>` first, a member the model's output lacks.
    let mut w = call.writer();
    w.ec2_unmodeled_return()
        .str("GroupId", &g.id)
        .str("SecurityGroupArn", arn(call, &g.id));
    common::write_tags(&mut w, &g.tags);
    r.security_groups.insert(g.id.clone(), g);
    w.finish()
}

fn arn(call: &Call<'_>, id: &str) -> String {
    format!(
        "arn:aws:ec2:{}:{}:security-group/{id}",
        call.region, call.account
    )
}

/// Reads the group a call acts on: `GroupId`, or (where allowed) `GroupName` in the default VPC.
fn target_group(p: &Scope<'_>, by_name: bool) -> AwsResult<GroupRef> {
    let id = p.str("GroupId");
    let name = if by_name { p.str("GroupName") } else { None };
    match (id, name) {
        (Some(id), _) => Ok(GroupRef::Id(id.to_string())),
        (None, Some(name)) => Ok(GroupRef::Name(name.to_string())),
        (None, None) if by_name => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter groupName or groupId",
        )),
        (None, None) => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter groupId",
        )),
    }
}

pub fn delete_security_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let target = target_group(&p, true)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let g = resolve(&r, &target, None)?;
    let id = g.id.clone();
    if g.name == "default" {
        return Err(AwsError::bad_request(
            "CannotDelete",
            format!("the specified group: \"{id}\" name: \"default\" cannot be deleted by a user"),
        ));
    }
    let used_by_instance = r.instances.values().any(|i| {
        i.security_groups.contains(&id) && i.state.at(call.now_ms) != InstanceState::Terminated
    });
    let referenced = r.security_groups.values().any(|other| {
        other.id != id
            && other
                .ingress
                .iter()
                .chain(&other.egress)
                .any(|rule| rule.peer == Peer::Group(id.clone()))
    });
    if used_by_instance || referenced || r.group_held_by_load_balancer(&id, call.now_ms) {
        return Err(AwsError::dependency_violation(format!(
            "resource {id} has a dependent object"
        )));
    }
    r.security_groups.remove(&id);
    let mut w = call.writer();
    w.bool("Return", true).str("GroupId", &id);
    w.finish()
}

// ---------------------------------------------------------------------------------------------
// Rules: decoding, validation, matching.

/// A peer as the request names it (groups are resolved under the lock).
#[derive(Debug, Clone)]
enum PeerInput {
    Cidr(String),
    Ipv6(String),
    PrefixList(String),
    Group(GroupRef),
}

/// One rule as requested: validated protocol and ports, unresolved peer.
#[derive(Debug, Clone)]
struct RuleInput {
    protocol: String,
    from_port: Option<i64>,
    to_port: Option<i64>,
    peer: PeerInput,
    description: Option<String>,
}

/// Protocol names as AWS stores them: names for the four it knows, `-1` for all, else the number.
pub fn normalize_protocol(p: &str) -> AwsResult<String> {
    let lower = p.to_ascii_lowercase();
    let name = match lower.as_str() {
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" => "icmp",
        "icmpv6" | "58" => "icmpv6",
        "-1" | "all" => "-1",
        n if !n.is_empty()
            && n.len() <= 3
            && n.bytes().all(|b| b.is_ascii_digit())
            && n.parse::<u16>().is_ok_and(|v| v <= 255) =>
        {
            return Ok(n.parse::<u16>().map(|v| v.to_string()).unwrap_or_default())
        }
        _ => {
            return Err(AwsError::invalid_value(format!(
                "Invalid value '{p}' for IP protocol. Unknown protocol."
            )))
        }
    };
    Ok(name.to_string())
}

/// Checks the port range for the protocol and returns it as stored: TCP/UDP need both ends in
/// 0–65535, ICMP a type and code (−1 for all), ICMPv6 defaults to all; other protocols have none.
pub fn check_ports(
    protocol: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> AwsResult<(Option<i64>, Option<i64>)> {
    let both = |what: &str| {
        AwsError::invalid_value(format!(
            "Invalid value 'Must specify both from and to ports with {what}.' for portRange."
        ))
    };
    let malformed = |m: String| AwsError::bad_request("InvalidPermission.Malformed", m);
    match protocol {
        "tcp" | "udp" => {
            let (Some(f), Some(t)) = (from, to) else {
                return Err(both("TCP/UDP"));
            };
            if let Some(bad) = [f, t].into_iter().find(|p| !(0..=65535).contains(p)) {
                return Err(malformed(format!("TCP/UDP port ({bad}) out of range")));
            }
            if f > t {
                return Err(AwsError::invalid_value(format!(
                    "Invalid value 'from port {f} is greater than to port {t}' for portRange."
                )));
            }
            Ok((Some(f), Some(t)))
        }
        "icmp" | "icmpv6" => {
            let (f, t) = match (from, to) {
                (Some(f), Some(t)) => (f, t),
                (None, None) if protocol == "icmpv6" => (-1, -1),
                _ => return Err(both("ICMP")),
            };
            if !(-1..=255).contains(&f) {
                return Err(malformed(format!("ICMP type ({f}) out of range")));
            }
            if !(-1..=255).contains(&t) || (f == -1 && t != -1) {
                return Err(malformed(format!("ICMP code ({t}) out of range")));
            }
            Ok((Some(f), Some(t)))
        }
        _ => Ok((None, None)),
    }
}

/// Reads `IpPermissions.N` (with `IpRanges`, `Ipv6Ranges`, `Groups` and `PrefixListIds`).
fn read_permissions(p: &Scope<'_>, account: &str) -> AwsResult<Vec<RuleInput>> {
    let mut out = Vec::new();
    for perm in p.structs("IpPermissions")? {
        let protocol = normalize_protocol(perm.required("IpProtocol")?)?;
        let (from_port, to_port) =
            check_ports(&protocol, perm.int("FromPort")?, perm.int("ToPort")?)?;
        let mut peers: Vec<(PeerInput, Option<String>)> = Vec::new();
        let desc = |s: &Scope<'_>| s.str("Description").map(str::to_string);
        for range in perm.structs("IpRanges")? {
            let c = range.required("CidrIp")?;
            let canonical = cidr::canonical_v4(c).ok_or_else(|| bad_cidr("cidrIp", c))?;
            peers.push((PeerInput::Cidr(canonical), desc(&range)));
        }
        for range in perm.structs("Ipv6Ranges")? {
            let c = range.required("CidrIpv6")?;
            let canonical = cidr::canonical_v6(c).ok_or_else(|| bad_cidr("cidrIpv6", c))?;
            peers.push((PeerInput::Ipv6(canonical), desc(&range)));
        }
        for pl in perm.structs("PrefixListIds")? {
            let id = pl.required("PrefixListId")?;
            PREFIX_LIST.check(id)?;
            peers.push((PeerInput::PrefixList(id.to_string()), desc(&pl)));
        }
        for pair in perm.structs("Groups")? {
            if let Some(user) = pair.str("UserId") {
                if user != account {
                    return Err(AwsError::invalid_value(format!(
                        "awsemu emulates one account ({account}); UserId {user} is another"
                    )));
                }
            }
            let _ = pair.str("VpcId");
            let g =
                match (pair.str("GroupId"), pair.str("GroupName")) {
                    (Some(id), _) => GroupRef::Id(id.to_string()),
                    (None, Some(name)) => GroupRef::Name(name.to_string()),
                    (None, None) => return Err(AwsError::bad_request(
                        "MissingParameter",
                        "Either groupId or groupName must be specified for a user ID group pair",
                    )),
                };
            peers.push((PeerInput::Group(g), desc(&pair)));
        }
        if peers.is_empty() {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter ipRanges, ipv6Ranges, groups or prefixListIds",
            ));
        }
        for (peer, description) in peers {
            if let Some(d) = &description {
                check_rule_description(d)?;
            }
            out.push(RuleInput {
                protocol: protocol.clone(),
                from_port,
                to_port,
                peer,
                description,
            });
        }
    }
    Ok(out)
}

/// Rule descriptions: up to 255 characters of the set AWS documents.
pub fn check_rule_description(d: &str) -> AwsResult<()> {
    const EXTRA: &str = " ._-:/()#,@[]+=&;{}!$*";
    if d.chars().count() > 255
        || !d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || EXTRA.contains(c))
    {
        return Err(AwsError::invalid_value(
            "Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*",
        ));
    }
    Ok(())
}

fn bad_cidr(param: &str, value: &str) -> AwsError {
    AwsError::invalid_value(format!(
        "Value ({value}) for parameter {param} is invalid. This is not a valid CIDR block."
    ))
}

/// The older flat form of one rule.
const FLAT_RULE_PARAMS: [&str; 6] = [
    "IpProtocol",
    "FromPort",
    "ToPort",
    "CidrIp",
    "SourceSecurityGroupName",
    "SourceSecurityGroupOwnerId",
];

/// Reads the rules of an Authorize/Revoke call: `IpPermissions.N`, or the older flat form
/// (`IpProtocol`, `FromPort`, `ToPort`, `CidrIp`, `SourceSecurityGroupName`), not both.
fn read_rules(p: &Scope<'_>, account: &str) -> AwsResult<Vec<RuleInput>> {
    let permissions = read_permissions(p, account)?;
    let protocol = p.str("IpProtocol");
    let from = p.int("FromPort")?;
    let to = p.int("ToPort")?;
    let cidr_ip = p.str("CidrIp");
    let source = p.str("SourceSecurityGroupName");
    if let Some(owner) = p.str("SourceSecurityGroupOwnerId") {
        if owner != account {
            return Err(AwsError::invalid_value(format!(
                "awsemu emulates one account ({account}); SourceSecurityGroupOwnerId {owner} is another"
            )));
        }
    }
    let flat = protocol.is_some()
        || from.is_some()
        || to.is_some()
        || cidr_ip.is_some()
        || source.is_some();
    if flat && !permissions.is_empty() {
        return Err(AwsError::invalid_combination(
            "The parameter 'ipPermissions' may not be used in combination with 'ipProtocol', 'fromPort', 'toPort', 'cidrIp' or 'sourceSecurityGroupName'",
        ));
    }
    if !flat {
        if permissions.is_empty() {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter ipPermissions",
            ));
        }
        return Ok(permissions);
    }
    let protocol = match (protocol, source) {
        (Some(p), _) => normalize_protocol(p)?,
        // A source group alone means all traffic from it.
        (None, Some(_)) => "-1".to_string(),
        (None, None) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter ipProtocol",
            ))
        }
    };
    let (from_port, to_port) = check_ports(&protocol, from, to)?;
    let mut peers = Vec::new();
    if let Some(c) = cidr_ip {
        let canonical = cidr::canonical_v4(c).ok_or_else(|| bad_cidr("cidrIp", c))?;
        peers.push(PeerInput::Cidr(canonical));
    }
    if let Some(name) = source {
        peers.push(PeerInput::Group(GroupRef::Name(name.to_string())));
    }
    if peers.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter cidrIp or sourceSecurityGroupName",
        ));
    }
    Ok(peers
        .into_iter()
        .map(|peer| RuleInput {
            protocol: protocol.clone(),
            from_port,
            to_port,
            peer,
            description: None,
        })
        .collect())
}

/// Turns requested rules into stored ones, resolving group peers in the target group's VPC.
fn resolve_rules(
    r: &Ec2Region,
    target: &SecurityGroup,
    rules: Vec<RuleInput>,
) -> AwsResult<Vec<Rule>> {
    rules
        .into_iter()
        .map(|ri| {
            let peer = match ri.peer {
                PeerInput::Cidr(c) => Peer::Cidr(c),
                PeerInput::Ipv6(c) => Peer::Ipv6Cidr(c),
                PeerInput::PrefixList(pl) => Peer::PrefixList(pl),
                PeerInput::Group(g) => {
                    let peer = resolve(r, &g, Some(&target.vpc_id))?;
                    if peer.vpc_id != target.vpc_id {
                        return Err(AwsError::invalid_value(
                            "You have specified two resources that belong to different networks.",
                        ));
                    }
                    Peer::Group(peer.id.clone())
                }
            };
            Ok(Rule {
                protocol: ri.protocol,
                from_port: ri.from_port,
                to_port: ri.to_port,
                peer,
                description: ri.description,
            })
        })
        .collect()
}

/// Whether two rules are the same rule (the description is not part of a rule's identity).
pub fn same_rule(a: &Rule, b: &Rule) -> bool {
    a.protocol == b.protocol
        && a.from_port == b.from_port
        && a.to_port == b.to_port
        && a.peer == b.peer
}

fn peer_text(p: &Peer) -> &str {
    match p {
        Peer::Cidr(s) | Peer::Ipv6Cidr(s) | Peer::Group(s) | Peer::PrefixList(s) => s,
    }
}

/// AWS's wording of a rule in `InvalidPermission.Duplicate`.
fn describe_rule(rule: &Rule) -> String {
    let proto = match rule.protocol.as_str() {
        "-1" => "ALL".to_string(),
        p => p.to_ascii_uppercase(),
    };
    match (rule.from_port, rule.to_port) {
        (Some(f), Some(t)) => format!(
            "peer: {}, {proto}, from port: {f}, to port: {t}, ALLOW",
            peer_text(&rule.peer)
        ),
        _ => format!("peer: {}, {proto}, ALLOW", peer_text(&rule.peer)),
    }
}

/// The stable id of a rule of a group (`sgr-` and 17 hex digits, FNV-1a of what identifies it).
pub fn rule_id(group_id: &str, egress: bool, rule: &Rule) -> String {
    let key = format!(
        "{group_id}|{egress}|{}|{:?}|{:?}|{:?}",
        rule.protocol, rule.from_port, rule.to_port, rule.peer
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("sgr-0{h:016x}")
}

/// Which rule list a call changes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

fn rules_of(g: &mut SecurityGroup, d: Direction) -> &mut Vec<Rule> {
    match d {
        Direction::Ingress => &mut g.ingress,
        Direction::Egress => &mut g.egress,
    }
}

fn authorize_ingress(call: &Call<'_>) -> AwsResult<Output> {
    authorize(call, Direction::Ingress)
}

fn authorize_egress(call: &Call<'_>) -> AwsResult<Output> {
    authorize(call, Direction::Egress)
}

fn revoke_ingress(call: &Call<'_>) -> AwsResult<Output> {
    revoke(call, Direction::Ingress)
}

fn revoke_egress(call: &Call<'_>) -> AwsResult<Output> {
    revoke(call, Direction::Egress)
}

/// Authorize{Ingress,Egress}: all rules are new or none is added.
fn authorize(call: &Call<'_>, d: Direction) -> AwsResult<Output> {
    let p = call.root()?;
    let target = target_group(&p, d == Direction::Ingress)?;
    let rules = read_rules(&p, call.account)?;
    let rule_tags = tags::from_specifications(&p, &["security-group-rule"])?
        .remove("security-group-rule")
        .unwrap_or_default();
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let g = resolve(&r, &target, None)?;
    let new = resolve_rules(&r, g, rules)?;
    let gid = g.id.clone();
    let existing = match d {
        Direction::Ingress => &g.ingress,
        Direction::Egress => &g.egress,
    };
    for (i, rule) in new.iter().enumerate() {
        if existing.iter().chain(&new[..i]).any(|e| same_rule(e, rule)) {
            return Err(AwsError::bad_request(
                "InvalidPermission.Duplicate",
                format!(
                    "the specified rule \"{}\" already exists",
                    describe_rule(rule)
                ),
            ));
        }
    }
    if existing.len() + new.len() > MAX_RULES {
        return Err(AwsError::bad_request(
            "RulesPerSecurityGroupLimitExceeded",
            "The maximum number of rules per security group has been reached.",
        ));
    }
    let mut w = call.writer();
    w.bool("Return", true);
    w.list("SecurityGroupRules", &new, |w, rule| {
        w.str(
            "SecurityGroupRuleId",
            rule_id(&gid, d == Direction::Egress, rule),
        )
        .str("GroupId", &gid)
        .str("GroupOwnerId", call.account)
        .bool("IsEgress", d == Direction::Egress)
        .str("IpProtocol", &rule.protocol)
        .int("FromPort", rule.from_port.unwrap_or(-1))
        .int("ToPort", rule.to_port.unwrap_or(-1));
        match &rule.peer {
            Peer::Cidr(c) => w.str("CidrIpv4", c),
            Peer::Ipv6Cidr(c) => w.str("CidrIpv6", c),
            Peer::PrefixList(pl) => w.str("PrefixListId", pl),
            Peer::Group(g) => w.structure("ReferencedGroupInfo", |w| {
                w.str("GroupId", g).str("UserId", call.account);
            }),
        };
        w.str_opt("Description", rule.description.as_ref());
        common::write_tags(w, &rule_tags);
    });
    if let Some(g) = r.security_groups.get_mut(&gid) {
        rules_of(g, d).extend(new);
    }
    w.finish()
}

/// Revoke{Ingress,Egress}: by rule (every one must exist) or by `SecurityGroupRuleId.N`.
fn revoke(call: &Call<'_>, d: Direction) -> AwsResult<Output> {
    let p = call.root()?;
    let target = target_group(&p, d == Direction::Ingress)?;
    let rule_ids: Vec<&str> = p.strings("SecurityGroupRuleId")?;
    let rules = if rule_ids.is_empty() {
        read_rules(&p, call.account)?
    } else if FLAT_RULE_PARAMS.iter().any(|k| p.has(k)) || p.has("IpPermissions") {
        return Err(AwsError::invalid_combination(
            "SecurityGroupRuleIds may not be combined with ipPermissions or the rule parameters",
        ));
    } else {
        Vec::new()
    };
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let g = resolve(&r, &target, None)?;
    let gid = g.id.clone();
    let egress = d == Direction::Egress;
    let existing = match d {
        Direction::Ingress => &g.ingress,
        Direction::Egress => &g.egress,
    };
    let gone: Vec<Rule> = if rule_ids.is_empty() {
        let wanted = resolve_rules(&r, g, rules)?;
        if wanted
            .iter()
            .any(|w| !existing.iter().any(|e| same_rule(e, w)))
        {
            return Err(AwsError::bad_request(
                "InvalidPermission.NotFound",
                "The specified rule does not exist in this security group.",
            ));
        }
        wanted
    } else {
        let mut out = Vec::new();
        for id in &rule_ids {
            match existing.iter().find(|e| rule_id(&gid, egress, e) == *id) {
                Some(rule) => out.push(rule.clone()),
                None => {
                    return Err(AwsError::bad_request(
                        "InvalidSecurityGroupRuleId.NotFound",
                        format!("The security group rule ID '{id}' does not exist"),
                    ))
                }
            }
        }
        out
    };
    if let Some(g) = r.security_groups.get_mut(&gid) {
        rules_of(g, d).retain(|e| !gone.iter().any(|w| same_rule(e, w)));
    }
    common::done(call)
}

// ---------------------------------------------------------------------------------------------
// Describe.

/// Rules folded into AWS's `IpPermission`s: one per (protocol, ports), in order of first rule.
pub fn fold(rules: &[Rule]) -> Vec<Vec<&Rule>> {
    let mut out: Vec<Vec<&Rule>> = Vec::new();
    for rule in rules {
        match out.iter_mut().find(|perm| {
            let first = perm[0];
            first.protocol == rule.protocol
                && first.from_port == rule.from_port
                && first.to_port == rule.to_port
        }) {
            Some(perm) => perm.push(rule),
            None => out.push(vec![rule]),
        }
    }
    out
}

fn render_permissions(w: &mut Writer, member: &str, rules: &[Rule], account: &str) {
    w.list(member, fold(rules), |w, perm| {
        let first = perm[0];
        w.str("IpProtocol", &first.protocol);
        if let (Some(f), Some(t)) = (first.from_port, first.to_port) {
            w.int("FromPort", f).int("ToPort", t);
        }
        let of = |want: fn(&Peer) -> Option<&String>| {
            perm.iter()
                .filter_map(move |r| want(&r.peer).map(|v| (v, r.description.as_ref())))
        };
        w.list(
            "UserIdGroupPairs",
            of(|p| match p {
                Peer::Group(g) => Some(g),
                _ => None,
            }),
            |w, (g, d)| {
                w.str("UserId", account)
                    .str("GroupId", g)
                    .str_opt("Description", d);
            },
        )
        .list(
            "IpRanges",
            of(|p| match p {
                Peer::Cidr(c) => Some(c),
                _ => None,
            }),
            |w, (c, d)| {
                w.str("CidrIp", c).str_opt("Description", d);
            },
        )
        .list(
            "Ipv6Ranges",
            of(|p| match p {
                Peer::Ipv6Cidr(c) => Some(c),
                _ => None,
            }),
            |w, (c, d)| {
                w.str("CidrIpv6", c).str_opt("Description", d);
            },
        )
        .list(
            "PrefixListIds",
            of(|p| match p {
                Peer::PrefixList(c) => Some(c),
                _ => None,
            }),
            |w, (c, d)| {
                w.str("PrefixListId", c).str_opt("Description", d);
            },
        );
    });
}

fn render_group(w: &mut Writer, call: &Call<'_>, g: &SecurityGroup) {
    w.str("OwnerId", call.account)
        .str("GroupId", &g.id)
        .str("GroupName", &g.name)
        .str("Description", &g.description)
        .str("VpcId", &g.vpc_id)
        .str("SecurityGroupArn", arn(call, &g.id));
    render_permissions(w, "IpPermissions", &g.ingress, call.account);
    render_permissions(w, "IpPermissionsEgress", &g.egress, call.account);
    common::write_tags(w, &g.tags);
}

/// The `ip-permission.*` filter suffixes, valid after `ip-permission.` and `egress.ip-permission.`.
const RULE_FILTERS: [&str; 9] = [
    "cidr",
    "from-port",
    "group-id",
    "group-name",
    "ipv6-cidr",
    "prefix-list-id",
    "protocol",
    "to-port",
    "user-id",
];

/// The values of one rule filter (`cidr`, `from-port`, …) over a rule list.
fn rule_values(r: &Ec2Region, rules: &[Rule], what: &str, account: &str) -> Vec<String> {
    rules
        .iter()
        .filter_map(|rule| match (what, &rule.peer) {
            ("cidr", Peer::Cidr(c)) | ("ipv6-cidr", Peer::Ipv6Cidr(c)) => Some(c.clone()),
            ("prefix-list-id", Peer::PrefixList(c)) | ("group-id", Peer::Group(c)) => {
                Some(c.clone())
            }
            ("group-name", Peer::Group(g)) => r.security_groups.get(g).map(|g| g.name.clone()),
            ("user-id", Peer::Group(_)) => Some(account.to_string()),
            ("protocol", _) => Some(rule.protocol.clone()),
            ("from-port", _) => rule.from_port.map(|p| p.to_string()),
            ("to-port", _) => rule.to_port.map(|p| p.to_string()),
            _ => None,
        })
        .collect()
}

pub fn describe_security_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("GroupId")?;
    let names = p.strings("GroupName")?;
    let rule_filter_names: Vec<String> = RULE_FILTERS
        .iter()
        .flat_map(|f| {
            [
                format!("ip-permission.{f}"),
                format!("egress.ip-permission.{f}"),
            ]
        })
        .collect();
    let mut known: Vec<&str> = vec![
        "description",
        "group-id",
        "group-name",
        "owner-id",
        "vpc-id",
    ];
    known.extend(rule_filter_names.iter().map(String::as_str));
    known.extend(tags::TAG_FILTERS);
    let filters = filters::parse(&p, &known)?;
    let paging = Page::read(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    let mut wanted: Vec<&str> = Vec::new();
    for id in &ids {
        wanted.push(&resolve(&r, &GroupRef::Id(id.to_string()), None)?.id);
    }
    let unseen = common::unseen(call, &SECURITY_GROUP);
    common::check_visible(&unseen, &ids)?;
    for name in &names {
        let group = resolve(&r, &GroupRef::Name(name.to_string()), None)?;
        if unseen.by_id.contains(&group.id) {
            // Not visible yet: the answer for a name that does not exist.
            return Err(name_not_found(
                r.default_vpc_id.as_str(),
                name,
                &r.default_vpc_id,
            ));
        }
        wanted.push(&group.id);
    }
    let explicit = !(ids.is_empty() && names.is_empty());
    let found: Vec<&SecurityGroup> = r
        .security_groups
        .values()
        .filter(|g| !explicit || wanted.contains(&g.id.as_str()))
        .filter(|g| unseen.listed(&g.id))
        .filter(|g| {
            filters.iter().all(|f| {
                tags::filter_matches(f, &g.tags).unwrap_or_else(|| {
                    let values: Vec<String> = match f.name.as_str() {
                        "description" => vec![g.description.clone()],
                        "group-id" => vec![g.id.clone()],
                        "group-name" => vec![g.name.clone()],
                        "owner-id" => vec![call.account.to_string()],
                        "vpc-id" => vec![g.vpc_id.clone()],
                        name => match name.strip_prefix("egress.ip-permission.") {
                            Some(what) => rule_values(&r, &g.egress, what, call.account),
                            None => {
                                let what = name.trim_start_matches("ip-permission.");
                                rule_values(&r, &g.ingress, what, call.account)
                            }
                        },
                    };
                    f.matches_any(values.iter().map(String::as_str))
                })
            })
        })
        .collect();
    let (items, next) = paging.apply(found)?;
    let mut w = call.writer();
    w.list("SecurityGroups", items, |w, g| render_group(w, call, g));
    w.str_opt("NextToken", next);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: Option<i64>, to: Option<i64>, peer: Peer) -> Rule {
        Rule {
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            peer,
            description: None,
        }
    }

    #[test]
    fn protocols_are_normalised_and_checked() {
        assert_eq!(normalize_protocol("TCP").unwrap(), "tcp");
        assert_eq!(normalize_protocol("6").unwrap(), "tcp");
        assert_eq!(normalize_protocol("17").unwrap(), "udp");
        assert_eq!(normalize_protocol("-1").unwrap(), "-1");
        assert_eq!(normalize_protocol("50").unwrap(), "50");
        assert_eq!(normalize_protocol("050").unwrap(), "50");
        for bad in ["256", "foo", "", "-2"] {
            assert!(normalize_protocol(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_descriptions_use_awss_character_set() {
        assert!(check_rule_description("").is_ok());
        assert!(check_rule_description("kubernetes.io/rule/nlb/client=a1 (TCP 80)").is_ok());
        assert!(check_rule_description("<script>").is_err());
        assert!(check_rule_description("caf\u{e9}").is_err());
        assert!(check_rule_description(&"x".repeat(256)).is_err());
    }

    #[test]
    fn port_ranges_per_protocol() {
        assert_eq!(
            check_ports("tcp", Some(22), Some(22)).unwrap(),
            (Some(22), Some(22))
        );
        assert!(check_ports("tcp", Some(22), None).is_err());
        assert!(check_ports("tcp", Some(80), Some(22)).is_err());
        assert!(check_ports("udp", Some(0), Some(65536)).is_err());
        assert_eq!(check_ports("-1", Some(1), Some(2)).unwrap(), (None, None));
        assert_eq!(
            check_ports("icmpv6", None, None).unwrap(),
            (Some(-1), Some(-1))
        );
        assert!(check_ports("icmp", None, None).is_err());
        assert!(check_ports("icmp", Some(-1), Some(3)).is_err());
        assert!(check_ports("icmp", Some(3), Some(4)).is_ok());
    }

    #[test]
    fn rules_match_without_descriptions_and_fold_by_ports() {
        let a = rule("tcp", Some(22), Some(22), Peer::Cidr("10.0.0.0/8".into()));
        let mut b = a.clone();
        b.description = Some("ssh".into());
        assert!(same_rule(&a, &b));
        let c = rule("tcp", Some(22), Some(22), Peer::Group("sg-1".into()));
        assert!(!same_rule(&a, &c));
        let d = rule("tcp", Some(80), Some(80), Peer::Cidr("10.0.0.0/8".into()));
        let rules = vec![a.clone(), d.clone(), c.clone()];
        let folded = fold(&rules);
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].len(), 2);
        assert_eq!(rule_id("sg-1", false, &a), rule_id("sg-1", false, &b));
        assert_ne!(rule_id("sg-1", false, &a), rule_id("sg-1", true, &a));
        assert_eq!(rule_id("sg-1", false, &a).len(), 21);
        assert_eq!(
            describe_rule(&a),
            "peer: 10.0.0.0/8, TCP, from port: 22, to port: 22, ALLOW"
        );
    }
}
