//! Final-state facts about what a resource holds, read as sets so that order does not matter: a
//! security group's rules (`rules:`) and a load balancer's or target group's registered targets
//! (`targets:`). Both are read by admin calls, in the expectation's region.

use std::collections::BTreeSet;

use serde_json::json;

use super::expect::{admin_call, check_answer, within};
use super::model::{Rule, StateExpect};
use super::response::{Body, Node};
use super::symbols::Symbols;
use crate::instance::Instance;

type Checked = Result<String, (String, String)>;

/// The XML answer of an admin call that must succeed.
fn answer_xml(
    instance: &Instance,
    name: &str,
    params: &serde_json::Value,
    region: Option<&str>,
    symbols: &Symbols,
) -> Result<Node, String> {
    let a = admin_call(instance, name, params, region)?;
    check_answer(None, &a, symbols)?;
    match a.body {
        Body::Xml(root) => Ok(root),
        _ => Err(format!("{name} answered no XML")),
    }
}

/// One rule as EC2 keeps it after flattening: protocol, port range, one source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Permission {
    protocol: String,
    from: Option<i64>,
    to: Option<i64>,
    source: String,
}

/// `tcp` and `6` are the same protocol to EC2, as are `-1` and `all`.
fn protocol_name(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "all" => "-1".into(),
        other => other.to_string(),
    }
}

/// The permissions in one `ipPermissions`/`ipPermissionsEgress` list of DescribeSecurityGroups.
fn permissions(items: &[Node]) -> Vec<Permission> {
    let mut out = Vec::new();
    for p in items {
        let protocol = protocol_name(p.child_text("ipProtocol"));
        let port = |n: &str| p.child_text(n).parse::<i64>().ok();
        let sources = (p.items("groups").iter().map(|g| g.child_text("groupId")))
            .chain(p.items("ipRanges").iter().map(|r| r.child_text("cidrIp")))
            .chain(
                p.items("ipv6Ranges")
                    .iter()
                    .map(|r| r.child_text("cidrIpv6")),
            )
            .chain(
                p.items("prefixListIds")
                    .iter()
                    .map(|r| r.child_text("prefixListId")),
            );
        for source in sources {
            out.push(Permission {
                protocol: protocol.clone(),
                from: port("fromPort"),
                to: port("toPort"),
                source: source.to_string(),
            });
        }
    }
    out
}

/// Whether `have` holds every source of `want` (ports compared only when `want` names them).
fn holds(have: &[Permission], want: &Rule, symbols: &Symbols) -> Result<bool, String> {
    let protocol = protocol_name(&want.protocol);
    let (from, to) = (want.from.or(want.port), want.to.or(want.port));
    let fits = |p: &Permission| {
        p.protocol == protocol && (from.is_none() || p.from == from) && (to.is_none() || p.to == to)
    };
    let sources = (want.cidrs.iter().chain(&want.groups))
        .map(|s| symbols.resolve(s))
        .collect::<Result<Vec<_>, _>>()?;
    if sources.is_empty() {
        return Ok(have.iter().any(fits));
    }
    Ok(sources
        .iter()
        .all(|s| have.iter().any(|p| fits(p) && p.source == *s)))
}

fn rule_text(r: &Rule) -> String {
    let ports = match (r.from.or(r.port), r.to.or(r.port)) {
        (Some(f), Some(t)) if f == t => format!(" {f}"),
        (Some(f), Some(t)) => format!(" {f}-{t}"),
        _ => String::new(),
    };
    let sources: Vec<&str> = (r.cidrs.iter().chain(&r.groups))
        .map(String::as_str)
        .collect();
    let from = if sources.is_empty() {
        String::new()
    } else {
        format!(" from {}", sources.join(", "))
    };
    format!("{}{ports}{from}", r.protocol)
}

/// `rules: ${sg.x}`: the group's rules include every `ingress` and `egress` rule; `count` is the
/// number of its ingress permissions (one per protocol, port range and source).
pub fn check_rules(
    instance: &Instance,
    e: &StateExpect,
    group: &str,
    region: Option<&str>,
    symbols: &Symbols,
) -> Checked {
    let id = symbols
        .resolve(group)
        .map_err(|m| (format!("rules of {group}"), m))?;
    let desc = format!("rules of {id}{}", within(region));
    let fail = |why: String| Err((desc.clone(), why));
    let root = answer_xml(
        instance,
        "ec2:DescribeSecurityGroups",
        &json!({"GroupId": [id]}),
        region,
        symbols,
    )
    .map_err(|m| (desc.clone(), m))?;
    let Some(sg) = root.items("securityGroupInfo").first() else {
        return fail(format!("no security group {id}"));
    };
    let ingress = permissions(sg.items("ipPermissions"));
    let egress = permissions(sg.items("ipPermissionsEgress"));
    for (direction, have, want) in [
        ("ingress", &ingress, &e.ingress),
        ("egress", &egress, &e.egress),
    ] {
        for r in want {
            if !holds(have, r, symbols).map_err(|m| (desc.clone(), m))? {
                return fail(format!("no {direction} rule {}", rule_text(r)));
            }
        }
    }
    if let Some(n) = e.count {
        if ingress.len() != n {
            return fail(format!(
                "expected {n} ingress rules, found {}",
                ingress.len()
            ));
        }
    }
    Ok(desc)
}

/// `targets: ${tg.x}` (ELBv2) or `targets: ${lb.x}` (classic): who is registered and how healthy.
pub fn check_targets(
    instance: &Instance,
    e: &StateExpect,
    holder: &str,
    region: Option<&str>,
    symbols: &Symbols,
) -> Checked {
    let holder = symbols
        .resolve(holder)
        .map_err(|m| (format!("targets of {holder}"), m))?;
    let desc = format!("targets of {holder}{}", within(region));
    let fail = |why: String| Err((desc.clone(), why));
    let v2 = holder.starts_with("arn:");
    let (name, params) = if v2 {
        (
            "elbv2:DescribeTargetHealth",
            json!({"TargetGroupArn": holder}),
        )
    } else {
        (
            "elb:DescribeInstanceHealth",
            json!({"LoadBalancerName": holder}),
        )
    };
    let root =
        answer_xml(instance, name, &params, region, symbols).map_err(|m| (desc.clone(), m))?;
    // (target, state); a draining ELBv2 target is already deregistered.
    let registered: Vec<(&str, &str)> = if v2 {
        (root.items("TargetHealthDescriptions").iter())
            .map(|m| {
                let id = m.find("Target").map_or("", |t| t.child_text("Id"));
                let state = m.find("TargetHealth").map_or("", |h| h.child_text("State"));
                (id, state)
            })
            .filter(|(_, state)| *state != "draining")
            .collect()
    } else {
        (root.items("InstanceStates").iter())
            .map(|m| (m.child_text("InstanceId"), m.child_text("State")))
            .collect()
    };
    if let Some(want) = &e.instances {
        let want = want
            .iter()
            .map(|i| symbols.resolve(i))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|m| (desc.clone(), m))?;
        let have: BTreeSet<String> = registered.iter().map(|(i, _)| i.to_string()).collect();
        if want != have {
            let missing: Vec<&String> = want.difference(&have).collect();
            let extra: Vec<&String> = have.difference(&want).collect();
            return fail(format!(
                "registered {have:?}; missing {missing:?}, not expected {extra:?}"
            ));
        }
    }
    if let Some(n) = e.count {
        if registered.len() != n {
            return fail(format!("expected {n} targets, found {}", registered.len()));
        }
    }
    if let Some(h) = &e.health {
        if let Some((id, state)) = registered.iter().find(|(_, s)| *s != h.as_str()) {
            return fail(format!("target {id} is {state}, not {h}"));
        }
    }
    Ok(desc)
}
