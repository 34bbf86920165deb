//! The console's resource view: the world's state dump ([`World::dump`]) and the IAM directory
//! regrouped as region → service → kind of resource, each resource with a one-line summary.
//!
//! The dump stays the one description of what a region holds; this module only reshapes it, so a
//! new kind of resource appears on the page without a change here.
//!
//! [`World::dump`]: crate::state::World::dump

use serde_json::{json, Map, Value};

use crate::auth::directory::Directory;

/// How many resources of one kind the page lists (the count is always whole): a world of ten
/// thousand instances stays a page a browser redraws every two seconds.
pub const MAX_ITEMS: usize = 200;

/// Keys of an EC2 region's dump that are other services' state, held with EC2's because they
/// refer to its instances, subnets and security groups.
const NESTED_SERVICES: [&str; 3] = ["autoscaling", "elb", "elbv2"];

/// Bookkeeping in the dump that is no resource a user made: idempotency tokens, and security
/// groups a deleted load balancer still holds while its interfaces go.
const NOT_RESOURCES: [&str; 2] = ["volume_tokens", "released_groups"];

/// Fields a summary shows, in this order, when a resource has them (the rest, VPC ids among
/// them, are in its detail).
const SUMMARY_FIELDS: [&str; 12] = [
    "name",
    "instance_type",
    "size_gib",
    "volume_type",
    "zone",
    "cidr",
    "cidr_block",
    "kind",
    "scheme",
    "protocol",
    "port",
    "dns_name",
];

/// One kind of resource in one region: `{region, service, kind, count, items: [{id, state,
/// summary, detail}]}`, non-empty kinds only, in region, service and kind order.
pub fn groups(dump: &Value, iam: &Directory, now_ms: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for (service, regions) in dump.as_object().into_iter().flatten() {
        for (region, state) in regions.as_object().into_iter().flatten() {
            for (key, value) in state.as_object().into_iter().flatten() {
                if NESTED_SERVICES.contains(&key.as_str()) {
                    for (kind, items) in value.as_object().into_iter().flatten() {
                        push_group(&mut out, region, key, kind, items, now_ms);
                    }
                } else if !NOT_RESOURCES.contains(&key.as_str()) {
                    push_group(&mut out, region, service, key, value, now_ms);
                }
            }
        }
    }
    out.sort_by(|a, b| {
        let k = |v: &Value| (v["region"].to_string(), v["service"].to_string());
        k(a).cmp(&k(b))
    });
    out.extend(iam_groups(iam));
    out
}

/// A kind's group, when `items` is a non-empty map of resources by id.
fn push_group(
    out: &mut Vec<Value>,
    region: &str,
    service: &str,
    kind: &str,
    items: &Value,
    now_ms: i64,
) {
    let Some(map) = items.as_object() else {
        return;
    };
    if map.is_empty() || !map.values().all(Value::is_object) {
        return;
    }
    let listed: Vec<Value> = (map.iter().take(MAX_ITEMS))
        .map(|(id, item)| {
            json!({
                "id": id,
                "state": state_of(item, now_ms),
                "summary": summary(item, id),
                "detail": item,
            })
        })
        .collect();
    out.push(json!({
        "region": region,
        "service": service,
        "kind": kind,
        "count": map.len(),
        "items": listed,
    }));
}

/// A resource's state as a Describe call would show it now: the dump holds a transition's
/// state with the one it moves to next and when, which may already have passed on the virtual
/// clock (handlers settle it when they next touch the resource). An available volume with an
/// attachment not yet detached is `in-use`, as DescribeVolumes says.
fn state_of(item: &Value, now_ms: i64) -> Value {
    let Some(state) = item.get("state").or_else(|| item.get("status")) else {
        return Value::Null;
    };
    let now = settled(state, now_ms);
    let attached = (item.get("attachment").and_then(|a| a.get("state")))
        .is_some_and(|a| settled(a, now_ms) != "detached");
    if now == "available" && attached {
        return Value::from("in-use");
    }
    now
}

/// A transition's state at `now_ms` (`{state, next: [to, at]}`), or a plain state string.
fn settled(state: &Value, now_ms: i64) -> Value {
    if let Some(next) = state.get("next").and_then(Value::as_array) {
        if let (Some(to), Some(at)) = (next.first(), next.get(1).and_then(Value::as_i64)) {
            if at <= now_ms {
                return to.clone();
            }
        }
    }
    match state.get("state") {
        Some(s) => s.clone(),
        None if state.is_string() => state.clone(),
        None => Value::Null,
    }
}

/// `name=web · instance_type=t3.micro · zone=us-east-1a · Name=api`: the fields that tell
/// resources of a kind apart, and their `Name` tag.
fn summary(item: &Value, id: &str) -> String {
    let mut parts: Vec<String> = SUMMARY_FIELDS
        .iter()
        .filter_map(|f| {
            let v = item.get(*f)?;
            let text = match v {
                Value::String(s) if s != id => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some(format!("{f}={text}"))
        })
        .collect();
    if let Some(name) = name_tag(item.get("tags")) {
        parts.push(format!("Name={name}"));
    }
    parts.join(" · ")
}

/// The `Name` tag, from a map of tags or a list of pairs.
fn name_tag(tags: Option<&Value>) -> Option<String> {
    match tags? {
        Value::Object(m) => m.get("Name")?.as_str().map(str::to_string),
        Value::Array(pairs) => pairs.iter().find_map(|p| {
            let p = p.as_array()?;
            (p.first()?.as_str()? == "Name").then(|| p.get(1)?.as_str().map(str::to_string))?
        }),
        _ => None,
    }
}

/// IAM is global: roles, instance profiles and the managed policies in use.
fn iam_groups(iam: &Directory) -> Vec<Value> {
    let roles: Map<String, Value> = iam
        .roles()
        .map(|r| {
            let detail = json!({
                "name": r.name, "arn": r.arn, "path": r.path,
                "policies": iam.attached_policies(r).iter().map(|p| p.name.clone())
                    .chain(r.inline.keys().cloned()).collect::<Vec<_>>(),
                "trust": serde_json::from_str::<Value>(&r.trust.text).unwrap_or(Value::Null),
            });
            (r.name.clone(), detail)
        })
        .collect();
    let profiles: Map<String, Value> = iam
        .profiles()
        .map(|p| {
            let detail = json!({"name": p.name, "arn": p.arn, "roles": p.roles});
            (p.name.clone(), detail)
        })
        .collect();
    let policies: Map<String, Value> = iam
        .policies()
        .map(|p| {
            let detail = json!({
                "name": p.name, "arn": p.arn,
                "attachments": iam.attachment_count(&p.arn),
                "document": serde_json::from_str::<Value>(&p.document.text).unwrap_or(Value::Null),
            });
            (p.arn.clone(), detail)
        })
        .collect();
    let mut out = Vec::new();
    for (kind, items) in [
        ("roles", roles),
        ("instance_profiles", profiles),
        ("policies", policies),
    ] {
        push_group(&mut out, "global", "iam", kind, &Value::Object(items), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_services_and_bookkeeping_and_settled_states() {
        let dump = json!({"ec2": {"us-east-1": {
            "default_vpc_id": "vpc-1",
            "instances": {"i-1": {"instance_type": "t3.micro", "tags": {"Name": "api"},
                "state": {"state": "pending", "next": ["running", 5]}}},
            "volume_tokens": {"t": {"volume": "vol-1"}},
            "elb": {"load_balancers": {"web": {"name": "web", "scheme": "internal"}}},
            "elbv2": {"next_seq": 0, "target_groups": {}},
        }}, "kms": {}});
        let g = groups(&dump, &Directory::new("123456789012"), 10);
        let kinds: Vec<String> = g
            .iter()
            .map(|g| format!("{}/{}/{}", g["region"], g["service"], g["kind"]))
            .collect();
        assert_eq!(
            kinds,
            [
                r#""us-east-1"/"ec2"/"instances""#,
                r#""us-east-1"/"elb"/"load_balancers""#
            ]
        );
        let i = &g[0]["items"][0];
        assert_eq!(i["state"], "running");
        assert_eq!(i["summary"], "instance_type=t3.micro · Name=api");
        assert_eq!(g[1]["items"][0]["summary"], "scheme=internal");
        assert_eq!(
            state_of(&json!({"state": {"state": "a", "next": ["b", 11]}}), 10),
            "a"
        );
        assert_eq!(state_of(&json!({"status": "available"}), 10), "available");
        let attached =
            json!({"state": "available", "attachment": {"state": {"state": "attached"}}});
        assert_eq!(state_of(&attached, 10), "in-use");
        let gone = json!({"state": "available",
            "attachment": {"state": {"state": "detaching", "next": ["detached", 9]}}});
        assert_eq!(state_of(&gone, 10), "available");
    }
}
