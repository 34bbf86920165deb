//! Load balancer and target group attributes: every key AWS returns for a resource of each type,
//! its default and the values it takes, and the four Describe/Modify actions.
//!
//! A resource stores the full key set from creation on, so Describe answers every key (the cloud
//! provider skips annotation keys that Describe does not return) and Modify answers the full list
//! after the change.

use std::collections::BTreeMap;

use crate::protocol::{AwsResult, Output, Scope, Writer};
use crate::services::action::Action;
use crate::services::ec2::common;
use crate::services::Call;
use crate::state::{read, write};

use super::arn::{self, Kind};
use super::errors::{self, check_length, constraint, invalid_configuration, validation};
use super::model::{LbType, TargetGroup, TargetGroupConfig};
use super::{ON_LOAD_BALANCER, ON_TARGET_GROUP};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "DescribeLoadBalancerAttributes",
        describe_load_balancer_attributes,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "ModifyLoadBalancerAttributes",
        modify_load_balancer_attributes,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "DescribeTargetGroupAttributes",
        describe_target_group_attributes,
    )
    .on(ON_TARGET_GROUP),
    Action::new(
        "ModifyTargetGroupAttributes",
        modify_target_group_attributes,
    )
    .on(ON_TARGET_GROUP),
];

/// The values an attribute takes.
#[derive(Debug, Clone, Copy)]
enum Values {
    Bool,
    Int(i64, i64),
    /// `off` or an integer in range.
    OffOrInt(i64, i64),
    Choice(&'static [&'static str]),
    Text,
}

/// One attribute of a resource type: key, values, default.
type Spec = (&'static str, Values, String);

fn spec(key: &'static str, values: Values, default: impl Into<String>) -> Spec {
    (key, values, default.into())
}

/// The attributes of a load balancer of `kind` and `scheme`, with their defaults.
fn load_balancer_specs(kind: LbType, scheme: &str) -> Vec<Spec> {
    use Values::*;
    let mut s = vec![
        spec("deletion_protection.enabled", Bool, "false"),
        spec(
            "load_balancing.cross_zone.enabled",
            Bool,
            if kind == LbType::Application {
                "true"
            } else {
                "false"
            },
        ),
    ];
    if kind != LbType::Gateway {
        s.extend([
            spec("access_logs.s3.enabled", Bool, "false"),
            spec("access_logs.s3.bucket", Text, ""),
            spec("access_logs.s3.prefix", Text, ""),
            spec(
                "ipv6.deny_all_igw_traffic",
                Bool,
                if scheme == "internal" {
                    "true"
                } else {
                    "false"
                },
            ),
            spec("zonal_shift.config.enabled", Bool, "false"),
        ]);
    }
    match kind {
        LbType::Application => s.extend([
            spec("idle_timeout.timeout_seconds", Int(1, 4000), "60"),
            spec("client_keep_alive.seconds", Int(60, 604_800), "3600"),
            spec("connection_logs.s3.enabled", Bool, "false"),
            spec("connection_logs.s3.bucket", Text, ""),
            spec("connection_logs.s3.prefix", Text, ""),
            spec("health_check_logs.s3.enabled", Bool, "false"),
            spec("health_check_logs.s3.bucket", Text, ""),
            spec("health_check_logs.s3.prefix", Text, ""),
            spec(
                "routing.http.desync_mitigation_mode",
                Choice(&["monitor", "defensive", "strictest"]),
                "defensive",
            ),
            spec(
                "routing.http.drop_invalid_header_fields.enabled",
                Bool,
                "false",
            ),
            spec("routing.http.preserve_host_header.enabled", Bool, "false"),
            spec(
                "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
                Bool,
                "false",
            ),
            spec("routing.http.xff_client_port.enabled", Bool, "false"),
            spec(
                "routing.http.xff_header_processing.mode",
                Choice(&["append", "preserve", "remove"]),
                "append",
            ),
            spec("routing.http2.enabled", Bool, "true"),
            spec("waf.fail_open.enabled", Bool, "false"),
        ]),
        LbType::Network => s.extend([
            spec(
                "dns_record.client_routing_policy",
                Choice(&[
                    "availability_zone_affinity",
                    "partial_availability_zone_affinity",
                    "any_availability_zone",
                ]),
                "any_availability_zone",
            ),
            spec("secondary_ips.auto_assigned.per_subnet", Int(0, 7), "0"),
        ]),
        LbType::Gateway => {}
    }
    s
}

/// The attribute set of a new load balancer.
pub fn load_balancer_defaults(kind: LbType, scheme: &str) -> BTreeMap<String, String> {
    load_balancer_specs(kind, scheme)
        .into_iter()
        .map(|(k, _, d)| (k.to_string(), d))
        .collect()
}

/// The traffic a target group is for, which decides its attribute set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupClass {
    /// HTTP/HTTPS (application load balancers).
    Application,
    Lambda,
    /// TCP, TLS, UDP, TCP_UDP, QUIC, TCP_QUIC (network load balancers).
    Network,
    /// GENEVE (gateway load balancers).
    Gateway,
}

fn class_of(c: &TargetGroupConfig) -> GroupClass {
    match c.protocol.as_deref() {
        None => GroupClass::Lambda,
        Some("HTTP" | "HTTPS") => GroupClass::Application,
        Some("GENEVE") => GroupClass::Gateway,
        Some(_) => GroupClass::Network,
    }
}

fn target_group_specs(c: &TargetGroupConfig) -> Vec<Spec> {
    use Values::*;
    let class = class_of(c);
    if class == GroupClass::Lambda {
        return vec![spec("lambda.multi_value_headers.enabled", Bool, "false")];
    }
    let mut s = vec![
        spec("deregistration_delay.timeout_seconds", Int(0, 3600), "300"),
        spec("stickiness.enabled", Bool, "false"),
    ];
    match class {
        GroupClass::Application => s.push(spec(
            "stickiness.type",
            Choice(&["lb_cookie", "app_cookie"]),
            "lb_cookie",
        )),
        GroupClass::Network => s.push(spec("stickiness.type", Choice(&["source_ip"]), "source_ip")),
        _ => s.push(spec(
            "stickiness.type",
            Choice(&["source_ip_dest_ip", "source_ip_dest_ip_proto"]),
            "source_ip_dest_ip",
        )),
    }
    if matches!(class, GroupClass::Application | GroupClass::Network) {
        s.extend([
            spec(
                "load_balancing.cross_zone.enabled",
                Choice(&["true", "false", "use_load_balancer_configuration"]),
                "use_load_balancer_configuration",
            ),
            spec(
                "target_group_health.dns_failover.minimum_healthy_targets.count",
                OffOrInt(1, 1_000),
                "1",
            ),
            spec(
                "target_group_health.dns_failover.minimum_healthy_targets.percentage",
                OffOrInt(1, 100),
                "off",
            ),
            spec(
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
                Int(1, 1_000),
                "1",
            ),
            spec(
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
                OffOrInt(1, 100),
                "off",
            ),
        ]);
    }
    match class {
        GroupClass::Application => s.extend([
            spec(
                "load_balancing.algorithm.type",
                Choice(&[
                    "round_robin",
                    "least_outstanding_requests",
                    "weighted_random",
                ]),
                "round_robin",
            ),
            spec(
                "load_balancing.algorithm.anomaly_mitigation",
                Choice(&["on", "off"]),
                "off",
            ),
            spec("slow_start.duration_seconds", Int(0, 900), "0"),
            spec(
                "stickiness.lb_cookie.duration_seconds",
                Int(1, 604_800),
                "86400",
            ),
            spec("stickiness.app_cookie.cookie_name", Text, ""),
            spec(
                "stickiness.app_cookie.duration_seconds",
                Int(1, 604_800),
                "86400",
            ),
        ]),
        GroupClass::Network => {
            let udp = matches!(c.protocol.as_deref(), Some("UDP" | "TCP_UDP"));
            let preserve_ip =
                !(c.target_type == "ip" && matches!(c.protocol.as_deref(), Some("TCP" | "TLS")));
            s.extend([
                spec(
                    "deregistration_delay.connection_termination.enabled",
                    Bool,
                    udp.to_string(),
                ),
                spec("preserve_client_ip.enabled", Bool, preserve_ip.to_string()),
                spec("proxy_protocol_v2.enabled", Bool, "false"),
                spec(
                    "target_health_state.unhealthy.connection_termination.enabled",
                    Bool,
                    "true",
                ),
                spec(
                    "target_health_state.unhealthy.draining_interval_seconds",
                    Int(0, 360_000),
                    "0",
                ),
            ]);
        }
        GroupClass::Gateway => s.extend([
            spec(
                "target_failover.on_deregistration",
                Choice(&["rebalance", "no_rebalance"]),
                "no_rebalance",
            ),
            spec(
                "target_failover.on_unhealthy",
                Choice(&["rebalance", "no_rebalance"]),
                "no_rebalance",
            ),
        ]),
        GroupClass::Lambda => {}
    }
    s
}

/// The attribute set of a new target group.
pub fn target_group_defaults(c: &TargetGroupConfig) -> BTreeMap<String, String> {
    target_group_specs(c)
        .into_iter()
        .map(|(k, _, d)| (k.to_string(), d))
        .collect()
}

/// The deregistration delay of a target group, in ms (0 for Lambda target groups).
pub fn deregistration_delay_ms(tg: &TargetGroup) -> i64 {
    tg.attributes
        .get("deregistration_delay.timeout_seconds")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .saturating_mul(1000)
}

/// Checks one value against its spec.
fn valid(values: Values, v: &str) -> bool {
    let int = |lo: i64, hi: i64| v.parse::<i64>().is_ok_and(|n| n >= lo && n <= hi);
    match values {
        Values::Bool => v == "true" || v == "false",
        Values::Int(lo, hi) => int(lo, hi),
        Values::OffOrInt(lo, hi) => v == "off" || int(lo, hi),
        Values::Choice(set) => set.contains(&v),
        Values::Text => true,
    }
}

/// Reads `Attributes.member.N.{Key,Value}` (keys as the model constrains them).
fn parse<'a>(
    p: &Scope<'a>,
    max: Option<usize>,
    value_max: usize,
) -> AwsResult<Vec<(&'a str, &'a str)>> {
    let items = p.required_structs("Attributes")?;
    if let Some(max) = max {
        if items.len() > max {
            return Err(constraint(
                "attributes",
                &format!("{} attributes", items.len()),
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
    }
    let mut out = Vec::new();
    for (i, a) in items.iter().enumerate() {
        let n = i + 1;
        let key = a.str("Key").unwrap_or("");
        let value = a.str("Value").unwrap_or("");
        check_length(&format!("attributes.member.{n}.key"), key, 1, 256)?;
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            return Err(constraint(
                &format!("attributes.member.{n}.key"),
                key,
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9._]+$",
            ));
        }
        check_length(&format!("attributes.member.{n}.value"), value, 0, value_max)?;
        out.push((key, value));
    }
    Ok(out)
}

/// Applies changes to an attribute set, checking each against the type's specs and the rules
/// between attributes; returns the new set (the caller stores it only when all is well).
fn apply(
    current: &BTreeMap<String, String>,
    specs: &[Spec],
    changes: &[(&str, &str)],
    subject: &str,
) -> AwsResult<BTreeMap<String, String>> {
    let mut next = current.clone();
    for (key, value) in changes {
        let Some((_, values, _)) = specs.iter().find(|(k, _, _)| k == key) else {
            return Err(validation(format!(
                "{subject} attribute key '{key}' is not recognized"
            )));
        };
        if !valid(*values, value) {
            return Err(invalid_configuration(format!(
                "{subject} attribute '{key}' cannot have the value '{value}'"
            )));
        }
        next.insert(key.to_string(), value.to_string());
    }
    for log in ["access_logs", "connection_logs", "health_check_logs"] {
        let enabled = next.get(&format!("{log}.s3.enabled")).map(String::as_str) == Some("true");
        let bucket = next
            .get(&format!("{log}.s3.bucket"))
            .map(String::as_str)
            .unwrap_or("");
        if enabled && bucket.is_empty() {
            return Err(validation(format!(
                "The value of '{log}.s3.bucket' cannot be empty when '{log}.s3.enabled' is 'true'"
            )));
        }
    }
    Ok(next)
}

/// The `Attributes` member of all four answers.
fn render(w: &mut Writer, attributes: &BTreeMap<String, String>) {
    w.list("Attributes", attributes, |w, (k, v)| {
        w.str("Key", k).str("Value", v);
    });
}

pub fn describe_load_balancer_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let lock = common::region(call)?;
    let r = read(&lock);
    let lb = r
        .elbv2
        .load_balancers
        .get(lb_arn)
        .ok_or_else(errors::load_balancer_not_found)?;
    let mut w = call.writer();
    render(&mut w, &lb.attributes);
    w.finish()
}

pub fn modify_load_balancer_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    let changes = parse(&p, Some(20), 1024)?;
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let lb = r
        .elbv2
        .load_balancers
        .get_mut(lb_arn)
        .ok_or_else(errors::load_balancer_not_found)?;
    let specs = load_balancer_specs(lb.kind, &lb.scheme);
    let next = apply(&lb.attributes, &specs, &changes, "Load balancer")?;
    if lb.kind == LbType::Application
        && next
            .get("load_balancing.cross_zone.enabled")
            .map(String::as_str)
            != Some("true")
    {
        return Err(invalid_configuration(
            "Cross-zone load balancing cannot be disabled for Application Load Balancers",
        ));
    }
    let secondary = "secondary_ips.auto_assigned.per_subnet";
    let count = |m: &BTreeMap<String, String>| {
        m.get(secondary)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    if count(&next) < count(&lb.attributes) {
        return Err(invalid_configuration(format!(
            "The value of '{secondary}' cannot be decreased"
        )));
    }
    lb.attributes = next;
    let mut w = call.writer();
    render(&mut w, &lb.attributes);
    w.finish()
}

pub fn describe_target_group_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    call.params()?.finish()?;
    arn::check(Kind::TargetGroup, tg_arn)?;
    let lock = common::region(call)?;
    let r = read(&lock);
    let tg = r
        .elbv2
        .target_groups
        .get(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))?;
    let mut w = call.writer();
    render(&mut w, &tg.attributes);
    w.finish()
}

pub fn modify_target_group_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    let changes = parse(&p, None, usize::MAX)?;
    call.params()?.finish()?;
    arn::check(Kind::TargetGroup, tg_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let tg = r
        .elbv2
        .target_groups
        .get_mut(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))?;
    let specs = target_group_specs(&tg.config);
    let next = apply(&tg.attributes, &specs, &changes, "Target group")?;
    let slow_start = next
        .get("slow_start.duration_seconds")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    if (1..30).contains(&slow_start) {
        return Err(invalid_configuration(
            "The slow start duration must be 0 (disabled) or between 30 and 900 seconds",
        ));
    }
    tg.attributes = next;
    let mut w = call.writer();
    render(&mut w, &tg.attributes);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_key_sets_differ_by_type() {
        let alb = load_balancer_defaults(LbType::Application, "internet-facing");
        assert_eq!(alb["idle_timeout.timeout_seconds"], "60");
        assert_eq!(alb["load_balancing.cross_zone.enabled"], "true");
        assert!(!alb.contains_key("dns_record.client_routing_policy"));
        let nlb = load_balancer_defaults(LbType::Network, "internal");
        assert_eq!(nlb["load_balancing.cross_zone.enabled"], "false");
        assert_eq!(nlb["ipv6.deny_all_igw_traffic"], "true");
        assert!(!nlb.contains_key("idle_timeout.timeout_seconds"));
        let gwy = load_balancer_defaults(LbType::Gateway, "");
        assert_eq!(gwy.len(), 2);
    }

    #[test]
    fn values_and_rules() {
        let specs = load_balancer_specs(LbType::Network, "internet-facing");
        let cur = load_balancer_defaults(LbType::Network, "internet-facing");
        assert!(apply(
            &cur,
            &specs,
            &[("deletion_protection.enabled", "yes")],
            "Load balancer"
        )
        .is_err());
        assert!(apply(
            &cur,
            &specs,
            &[("idle_timeout.timeout_seconds", "30")],
            "Load balancer"
        )
        .is_err());
        assert!(apply(
            &cur,
            &specs,
            &[("access_logs.s3.enabled", "true")],
            "Load balancer"
        )
        .is_err());
        let ok = apply(
            &cur,
            &specs,
            &[
                ("access_logs.s3.enabled", "true"),
                ("access_logs.s3.bucket", "logs"),
            ],
            "Load balancer",
        )
        .unwrap();
        assert_eq!(ok["access_logs.s3.bucket"], "logs");
    }
}
