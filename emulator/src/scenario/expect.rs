//! Expectations: of one answer (a step's `expect:`), of the final state, and of the call log.
//! Each check returns the first difference, worded for the report.

use serde_json::{json, Value};

use super::calls::{self, Answer};
use super::model::{CallExpect, Expect, StateExpect};
use super::response::Body;
use super::symbols::Symbols;
use crate::iam::wildcard;
use crate::instance::Instance;
use crate::protocol::ServiceId;
use crate::recorder::CallRecord;

/// A resource type of `expect.state[].resources`: the call that lists it, the path of one item,
/// and whether it takes EC2 filters.
pub struct ResourceType {
    pub call: &'static str,
    pub item: &'static str,
    pub ec2_filters: bool,
}

const RESOURCE_TYPES: &[(&str, ResourceType)] = &[
    (
        "instances",
        ResourceType {
            call: "ec2:DescribeInstances",
            item: "reservationSet/item/instancesSet/item",
            ec2_filters: true,
        },
    ),
    (
        "volumes",
        ResourceType {
            call: "ec2:DescribeVolumes",
            item: "volumeSet/item",
            ec2_filters: true,
        },
    ),
    (
        "security-groups",
        ResourceType {
            call: "ec2:DescribeSecurityGroups",
            item: "securityGroupInfo/item",
            ec2_filters: true,
        },
    ),
    (
        "subnets",
        ResourceType {
            call: "ec2:DescribeSubnets",
            item: "subnetSet/item",
            ec2_filters: true,
        },
    ),
    (
        "vpcs",
        ResourceType {
            call: "ec2:DescribeVpcs",
            item: "vpcSet/item",
            ec2_filters: true,
        },
    ),
    (
        "route-tables",
        ResourceType {
            call: "ec2:DescribeRouteTables",
            item: "routeTableSet/item",
            ec2_filters: true,
        },
    ),
    (
        "internet-gateways",
        ResourceType {
            call: "ec2:DescribeInternetGateways",
            item: "internetGatewaySet/item",
            ec2_filters: true,
        },
    ),
    (
        "load-balancers",
        ResourceType {
            call: "elb:DescribeLoadBalancers",
            item: "LoadBalancerDescriptions/member",
            ec2_filters: false,
        },
    ),
    (
        "v2-load-balancers",
        ResourceType {
            call: "elbv2:DescribeLoadBalancers",
            item: "LoadBalancers/member",
            ec2_filters: false,
        },
    ),
    (
        "target-groups",
        ResourceType {
            call: "elbv2:DescribeTargetGroups",
            item: "TargetGroups/member",
            ec2_filters: false,
        },
    ),
    (
        "kms-keys",
        ResourceType {
            call: "kms:ListKeys",
            item: "Keys",
            ec2_filters: false,
        },
    ),
    (
        "ecr-repositories",
        ResourceType {
            call: "ecr:DescribeRepositories",
            item: "repositories",
            ec2_filters: false,
        },
    ),
];

/// Looks a resource type up by name.
pub fn resource_type(name: &str) -> Result<&'static ResourceType, String> {
    RESOURCE_TYPES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t)
        .ok_or_else(|| {
            let names: Vec<&str> = RESOURCE_TYPES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown resource type '{name}' (known: {})",
                names.join(", ")
            )
        })
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Checks one answer against its expectation (`None`: it must succeed).
pub fn check_answer(e: Option<&Expect>, a: &Answer, symbols: &Symbols) -> Result<(), String> {
    let default = Expect::default();
    let e = e.unwrap_or(&default);
    if e.wants_success() {
        if a.error.is_some() {
            return Err(format!("expected success, got {}", a.outcome()));
        }
    } else {
        let Some(code) = &a.error else {
            return Err(format!(
                "expected error {}, got {}",
                e.error.as_deref().unwrap_or("(any)"),
                a.outcome()
            ));
        };
        if let Some(want) = &e.error {
            let want = symbols.resolve(want)?;
            if &want != code {
                return Err(format!("expected error {want}, got {}", a.outcome()));
            }
        }
    }
    if let Some(m) = &e.message {
        let m = symbols.resolve(m)?;
        let got = a.message.as_deref().unwrap_or("");
        if !got.contains(&m) {
            return Err(format!("expected a message containing '{m}', got '{got}'"));
        }
    }
    if let Some(s) = e.status {
        if s != a.status {
            return Err(format!("expected status {s}, got {}", a.outcome()));
        }
    }
    for (path, want) in &e.fields {
        let want = symbols.resolve_value(want)?;
        let got = a.body.text(path);
        if scalar_text(&want) != got {
            return Err(format!(
                "field {path}: expected {}, got {}",
                scalar_text(&want).map_or("(absent)".into(), |w| format!("'{w}'")),
                got.map_or("(absent)".into(), |g| format!("'{g}'"))
            ));
        }
    }
    for (path, want) in &e.count {
        let got = a.body.count(path)?;
        if got != *want {
            return Err(format!("count of {path}: expected {want}, got {got}"));
        }
    }
    Ok(())
}

/// Checks one fact about the final state, by calls as admin. `Ok` carries the description.
pub fn check_state(
    instance: &Instance,
    e: &StateExpect,
    symbols: &Symbols,
) -> Result<String, (String, String)> {
    let region = e.region.as_deref();
    let within = within(region);
    if let Some(kind) = &e.resources {
        let want = e.count.unwrap_or(0);
        let shown = (e.filters.iter())
            .map(|(k, v)| Ok((k.clone(), symbols.resolve_value(v)?)))
            .collect::<Result<_, String>>()
            .unwrap_or_else(|_| e.filters.clone());
        let desc = format!("{want} {kind}{within}{}", filters_text(&shown));
        let t = resource_type(kind).map_err(|m| (desc.clone(), m))?;
        let mut params = json!({});
        if t.ec2_filters && !e.filters.is_empty() {
            let filters: Vec<Value> = e
                .filters
                .iter()
                .map(|(k, v)| {
                    let values = match v {
                        Value::Array(a) => a.clone(),
                        other => vec![other.clone()],
                    };
                    json!({"Name": k, "Value": values})
                })
                .collect();
            params = json!({"Filter": filters});
        } else if !e.filters.is_empty() {
            return Err((desc, format!("{kind} take no filters")));
        }
        let params = symbols
            .resolve_value(&params)
            .map_err(|m| (desc.clone(), m))?;
        let a = admin_call(instance, t.call, &params, region).map_err(|m| (desc.clone(), m))?;
        let got = a.body.count(t.item).map_err(|m| (desc.clone(), m))?;
        return if got == want {
            Ok(desc)
        } else {
            Err((desc, format!("expected {want}, found {got}")))
        };
    }
    if let Some(id) = &e.tags {
        let id = symbols
            .resolve(id)
            .map_err(|m| (format!("tags of {id}"), m))?;
        let desc = format!("tags of {id}{within}");
        let a = admin_call(
            instance,
            "ec2:DescribeTags",
            &json!({"Filter": [{"Name": "resource-id", "Value": [id]}]}),
            region,
        )
        .map_err(|m| (desc.clone(), m))?;
        let Body::Xml(root) = &a.body else {
            return Err((desc, "DescribeTags answered no XML".into()));
        };
        let tags: std::collections::BTreeMap<&str, &str> = (root.items("tagSet").iter())
            .map(|t| (t.child_text("key"), t.child_text("value")))
            .collect();
        for (k, v) in &e.has {
            let k = symbols.resolve(k).map_err(|m| (desc.clone(), m))?;
            let v = symbols.resolve(v).map_err(|m| (desc.clone(), m))?;
            match tags.get(k.as_str()) {
                Some(got) if *got == v => {}
                Some(got) => return Err((desc, format!("tag {k}: expected '{v}', got '{got}'"))),
                None => return Err((desc, format!("tag {k} is missing"))),
            }
        }
        for k in &e.lacks {
            let k = symbols.resolve(k).map_err(|m| (desc.clone(), m))?;
            if let Some(v) = tags.get(k.as_str()) {
                return Err((desc, format!("tag {k} should be absent, is '{v}'")));
            }
        }
        return Ok(desc);
    }
    if let Some(group) = &e.rules {
        return super::membership::check_rules(instance, e, group, region, symbols);
    }
    if let Some(holder) = &e.targets {
        return super::membership::check_targets(instance, e, holder, region, symbols);
    }
    let name = e.describe.as_deref().unwrap_or_default();
    let desc = format!("{name} as admin{within}");
    let params = symbols
        .resolve_value(e.params.as_ref().unwrap_or(&Value::Null))
        .map_err(|m| (desc.clone(), m))?;
    let a = admin_call(instance, name, &params, region).map_err(|m| (desc.clone(), m))?;
    check_answer(e.expect.as_ref(), &a, symbols).map_err(|m| (desc.clone(), m))?;
    Ok(desc)
}

fn filters_text(f: &std::collections::BTreeMap<String, Value>) -> String {
    if f.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = f
        .iter()
        .map(|(k, v)| format!("{k}={}", scalar_text(v).unwrap_or_default()))
        .collect();
    format!(" where {}", parts.join(", "))
}

/// ` in eu-west-1` for descriptions of checks made outside the scenario's region.
pub(super) fn within(region: Option<&str>) -> String {
    region.map(|r| format!(" in {r}")).unwrap_or_default()
}

pub(super) fn admin_call(
    instance: &Instance,
    name: &str,
    params: &Value,
    region: Option<&str>,
) -> Result<Answer, String> {
    let (service, action): (ServiceId, String) = calls::parse_call_name(name)?;
    calls::call(instance, service, &action, params, "admin", region)
}

/// Whether a record is one `e` counts.
fn counted(e: &CallExpect, r: &CallRecord) -> bool {
    let action_ok = wildcard::matches(&e.action, &r.action, true)
        || wildcard::matches(&e.action, &r.call_name(), true);
    let by_ok = e.by.as_ref().is_none_or(|b| *b == r.principal);
    let region_ok = e.region.as_ref().is_none_or(|g| *g == r.region);
    let outcome_ok = match e.outcome.as_deref() {
        None => true,
        Some("ok") => r.error.is_none(),
        Some(code) => r.error.as_deref() == Some(code),
    };
    action_ok && by_ok && region_ok && outcome_ok
}

/// Checks one fact about the call log.
pub fn check_calls(e: &CallExpect, records: &[CallRecord]) -> Result<String, (String, String)> {
    let n = records.iter().filter(|r| counted(e, r)).count();
    let mut desc = e.action.clone();
    if let Some(b) = &e.by {
        desc.push_str(&format!(" by {b}"));
    }
    if let Some(g) = &e.region {
        desc.push_str(&format!(" in {g}"));
    }
    if let Some(o) = &e.outcome {
        desc.push_str(&format!(" answered {o}"));
    }
    let mut bounds = Vec::new();
    if let Some(c) = e.count {
        bounds.push(format!("{c} times"));
    }
    if let Some(m) = e.min {
        bounds.push(format!("at least {m}"));
    }
    if let Some(m) = e.max {
        bounds.push(format!("at most {m}"));
    }
    desc.push_str(&format!(": {}", bounds.join(", ")));
    let fails = e.count.is_some_and(|c| n != c)
        || e.min.is_some_and(|m| n < m)
        || e.max.is_some_and(|m| n > m);
    if fails {
        Err((desc, format!("called {n} times")))
    } else {
        Ok(desc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::response::Body;

    fn answer(error: Option<&str>, body: &str) -> Answer {
        Answer {
            status: if error.is_some() { 400 } else { 200 },
            error: error.map(str::to_string),
            message: error.map(|_| "the volume is in use".to_string()),
            body: Body::parse(body),
            request_id: "r".into(),
        }
    }

    #[test]
    fn answers_are_checked_field_by_field() {
        let s = Symbols::default();
        let ok = answer(None, "<R><volumeId>vol-1</volumeId></R>");
        assert!(check_answer(None, &ok, &s).is_ok());
        let e = Expect {
            error: Some("VolumeInUse".into()),
            ..Default::default()
        };
        assert!(check_answer(Some(&e), &ok, &s)
            .unwrap_err()
            .contains("expected error VolumeInUse"));
        let bad = answer(Some("VolumeInUse"), "<R/>");
        assert!(check_answer(Some(&e), &bad, &s).is_ok());
        assert!(check_answer(None, &bad, &s)
            .unwrap_err()
            .contains("expected success"));
        let e = Expect {
            error: Some("VolumeInUse".into()),
            message: Some("attached".into()),
            ..Default::default()
        };
        assert!(check_answer(Some(&e), &bad, &s)
            .unwrap_err()
            .contains("message"));
        let mut e = Expect::default();
        e.fields.insert("volumeId".into(), json!("vol-2"));
        assert!(check_answer(Some(&e), &ok, &s)
            .unwrap_err()
            .contains("'vol-2', got 'vol-1'"));
        e.fields.clear();
        e.count.insert("volumeId".into(), 1);
        assert!(check_answer(Some(&e), &ok, &s).is_ok());
    }

    #[test]
    fn call_log_counts_by_glob_principal_and_outcome() {
        let rec = |action: &str, who: &str, err: Option<&str>| CallRecord {
            seq: 1,
            time_ms: 0,
            principal_arn: String::new(),
            principal: who.into(),
            region: "us-east-1".into(),
            service: action
                .split(':')
                .next()
                .unwrap()
                .replace("elasticloadbalancing", "elb"),
            action: action.into(),
            params: Value::Null,
            status: 200,
            error: err.map(str::to_string),
            latency_ms: 0,
            request_id: String::new(),
            authorizations: Vec::new(),
        };
        let log = vec![
            rec("ec2:CreateVolume", "worker", Some("UnauthorizedOperation")),
            rec(
                "elasticloadbalancing:CreateLoadBalancer",
                "controlplane",
                None,
            ),
        ];
        let e = |action: &str, by: Option<&str>, outcome: Option<&str>, count: usize| CallExpect {
            action: action.into(),
            by: by.map(str::to_string),
            outcome: outcome.map(str::to_string),
            count: Some(count),
            ..Default::default()
        };
        assert!(check_calls(&e("ec2:Create*", Some("worker"), None, 1), &log).is_ok());
        assert!(check_calls(&e("ec2:*", None, Some("ok"), 0), &log).is_ok());
        assert!(check_calls(
            &e(
                "elb:CreateLoadBalancer",
                Some("controlplane"),
                Some("ok"),
                1
            ),
            &log
        )
        .is_ok());
        let (_, why) = check_calls(&e("ec2:CreateVolume", None, None, 0), &log).unwrap_err();
        assert_eq!(why, "called 1 times");
    }
}
