//! The NLB of a Service with `service.beta.kubernetes.io/aws-load-balancer-type: nlb`:
//! `EnsureLoadBalancer` (ensureLoadBalancerv2, createListenerV2, ensureTargetGroup,
//! reconcileLBAttributes, updateInstanceSecurityGroupsForNLB), `UpdateLoadBalancer` and
//! `EnsureLoadBalancerDeleted`, with the provider's default (unmanaged) NLB security-group mode:
//! the NLB has no security groups; the nodes' group gets client and health-check rules.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerStateEnum, LoadBalancerTypeEnum, ProtocolEnum, SubnetMapping, Tag,
    TargetDescription, TargetGroup, TargetHealthReasonEnum, TargetTypeEnum,
};
use serde::{Deserialize, Serialize};

use super::api::{call, ApiError, EC2, ELBV2};
use super::classic_elb::{load_balancer_subnets, security_groups_to_delete, Deleted};
use super::context::{go_quote, FlowContext, FlowError};
use super::network::{
    change_security_group_ingress, delete_security_groups_with_backoff, find_security_group,
    instances_for_elb, security_group_for_instance, tagged_security_groups, ungroup, Perm,
};
use super::service::{self as svc, LoadBalancerInput, LoadBalancerStatus, ServiceSpec};
use super::tagging::{key_values, OWNED, SERVICE_NAME};

/// `NLBHealthCheckRuleDescription`, `NLBClientRuleDescription`, `NLBMtuDiscoveryRuleDescription`.
pub const HEALTH_RULE: &str = "kubernetes.io/rule/nlb/health";
pub const CLIENT_RULE: &str = "kubernetes.io/rule/nlb/client";
pub const MTU_RULE: &str = "kubernetes.io/rule/nlb/mtu";
/// `defaultRegisterTargetsChunkSize` / `defaultDeregisterTargetsChunkSize`.
const TARGET_CHUNK: usize = 100;

/// `healthCheckConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckConfig {
    pub port: String,
    pub path: String,
    pub protocol: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
}

/// `nlbPortMapping` (no TLS: certificates are not emulated here).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortMapping {
    frontend_port: i32,
    frontend_protocol: String,
    traffic_port: i32,
    traffic_protocol: String,
    health: HealthCheckConfig,
}

fn parse_i32(service: &ServiceSpec, key: &str, into: &mut i32) -> Result<(), FlowError> {
    if let Some(v) = service.annotation(key) {
        *into = v.parse().map_err(|_| {
            FlowError::msg(format!(
                "failed to parse annotation {key}: strconv.ParseInt: parsing {}: invalid syntax",
                go_quote(v)
            ))
        })?;
    }
    Ok(())
}

/// `buildNLBHealthCheckConfiguration` (ServiceNodePort probe mode).
pub fn health_check_configuration(service: &ServiceSpec) -> Result<HealthCheckConfig, FlowError> {
    let mut hc = HealthCheckConfig {
        port: svc::TRAFFIC_PORT.into(),
        path: svc::HEALTHZ.into(),
        protocol: "TCP".into(),
        interval: 30,
        timeout: 10,
        healthy_threshold: 3,
        unhealthy_threshold: 3,
    };
    if service.external_traffic_policy.as_deref() == Some("Local") {
        let (path, port) = service
            .health_check_path_port()
            .unwrap_or((String::new(), 0));
        hc = HealthCheckConfig {
            port: port.to_string(),
            path,
            protocol: "HTTP".into(),
            interval: 10,
            timeout: 10,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
        };
    }
    if let Some(p) = service.annotation(svc::HC_PROTOCOL) {
        hc.protocol = p.to_uppercase();
    }
    match hc.protocol.as_str() {
        "HTTP" | "HTTPS" => {
            if let Some(p) = service.annotation(svc::HC_PATH) {
                hc.path = p.clone();
            }
        }
        "TCP" => hc.path = String::new(),
        other => {
            return Err(FlowError::msg(format!(
                "Unsupported health check protocol {other}"
            )))
        }
    }
    if let Some(p) = service.annotation(svc::HC_PORT) {
        hc.port = p.clone();
    }
    parse_i32(service, svc::HC_INTERVAL, &mut hc.interval)?;
    parse_i32(service, svc::HC_TIMEOUT, &mut hc.timeout)?;
    parse_i32(service, svc::HC_HEALTHY, &mut hc.healthy_threshold)?;
    parse_i32(service, svc::HC_UNHEALTHY, &mut hc.unhealthy_threshold)?;
    if hc.port != svc::TRAFFIC_PORT && hc.port.parse::<i64>().is_err() {
        return Err(FlowError::msg(format!(
            "Invalid health check port '{}'",
            hc.port
        )));
    }
    Ok(hc)
}

/// SHA-1 (FIPS 180-1), for `buildTargetGroupName`'s hash.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate().take(16) {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hv = hv.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// `invalidELBV2NameRegex` (`[^[:alnum:]]`) removed, then `%.n s`.
fn sanitized(s: &str, n: usize) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(n)
        .collect()
}

/// `buildTargetGroupName`: `k8s-<ns:8>-<name:8>-<sha1:10>` over cluster id, namespace, name,
/// service port, node port, target protocol, target type, health-check protocol and interval.
pub fn target_group_name(
    cluster_id: &str,
    service: &ServiceSpec,
    service_port: i32,
    node_port: i32,
    target_protocol: &str,
    hc_protocol: &str,
    hc_interval: i32,
) -> String {
    let mut data = Vec::new();
    for part in [
        cluster_id,
        &service.namespace,
        &service.name,
        &service_port.to_string(),
        &node_port.to_string(),
        target_protocol,
        "instance",
        hc_protocol,
        &hc_interval.to_string(),
    ] {
        data.extend_from_slice(part.as_bytes());
    }
    let hash = hex::encode(sha1(&data));
    format!(
        "k8s-{}-{}-{}",
        sanitized(&service.namespace, 8),
        sanitized(&service.name, 8),
        &hash[..10]
    )
}

fn mappings(service: &ServiceSpec) -> Result<Vec<PortMapping>, FlowError> {
    let mut out = Vec::new();
    for p in &service.ports {
        if p.node_port == 0 {
            continue;
        }
        let protocol = p.protocol.to_uppercase();
        out.push(PortMapping {
            frontend_port: p.port,
            frontend_protocol: protocol.clone(),
            traffic_port: p.node_port,
            traffic_protocol: protocol,
            health: health_check_configuration(service)?,
        });
    }
    Ok(out)
}

/// `describeLoadBalancerv2`: absent on `LoadBalancerNotFound`; only a `network` one counts.
pub async fn describe(ctx: &FlowContext, name: &str) -> Result<Option<LoadBalancer>, FlowError> {
    match call(ctx, ELBV2, "DescribeLoadBalancers", || {
        ctx.elbv2.describe_load_balancers().names(name).send()
    })
    .await
    {
        Ok(out) => out
            .load_balancers()
            .iter()
            .find(|lb| lb.r#type() == Some(&LoadBalancerTypeEnum::Network))
            .cloned()
            .map(Some)
            .ok_or_else(|| FlowError::msg(format!("NLB '{name}' could not be found"))),
        Err(e) if e.is("LoadBalancerNotFound") => Ok(None),
        Err(e) => Err(FlowError::wrap(
            &e,
            "error describing load balancer: ",
            true,
            "",
        )),
    }
}

fn elbv2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn q(e: &ApiError, prefix: &str) -> FlowError {
    FlowError::wrap(e, prefix, true, "")
}

/// `ensureTargetGroupTargets`: deregister then register, in chunks of 100.
async fn ensure_targets(
    ctx: &FlowContext,
    arn: &str,
    expected: &[TargetDescription],
    actual: &[TargetDescription],
) -> Result<(), FlowError> {
    let key = |t: &TargetDescription| format!("{}:{}", t.id().unwrap_or(""), t.port().unwrap_or(0));
    let want: BTreeMap<String, &TargetDescription> = expected.iter().map(|t| (key(t), t)).collect();
    let have: BTreeMap<String, &TargetDescription> = actual.iter().map(|t| (key(t), t)).collect();
    let register: Vec<TargetDescription> = want
        .iter()
        .filter(|(k, _)| !have.contains_key(*k))
        .map(|(_, t)| (*t).clone())
        .collect();
    let deregister: Vec<TargetDescription> = have
        .iter()
        .filter(|(k, _)| !want.contains_key(*k))
        .map(|(_, t)| (*t).clone())
        .collect();
    for chunk in deregister.chunks(TARGET_CHUNK) {
        call(ctx, ELBV2, "DeregisterTargets", || {
            ctx.elbv2
                .deregister_targets()
                .target_group_arn(arn)
                .set_targets(Some(chunk.to_vec()))
                .send()
        })
        .await
        .map_err(|e| q(&e, "error trying to deregister targets in target group: "))?;
    }
    for chunk in register.chunks(TARGET_CHUNK) {
        call(ctx, ELBV2, "RegisterTargets", || {
            ctx.elbv2
                .register_targets()
                .target_group_arn(arn)
                .set_targets(Some(chunk.to_vec()))
                .send()
        })
        .await
        .map_err(|e| q(&e, "error trying to register targets in target group: "))?;
    }
    Ok(())
}

fn expected_targets(instances: &[String], port: i32) -> Vec<TargetDescription> {
    instances
        .iter()
        .map(|id| TargetDescription::builder().id(id).port(port).build())
        .collect()
}

/// `ensureTargetGroup`: create one (named by hash) and register its targets, or reconcile an
/// existing one's targets and health check.
async fn ensure_target_group(
    ctx: &FlowContext,
    existing: Option<&TargetGroup>,
    service: &ServiceSpec,
    mapping: &PortMapping,
    instances: &[String],
    vpc_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<TargetGroup, FlowError> {
    let expected = expected_targets(instances, mapping.traffic_port);
    let Some(tg) = existing else {
        let name = target_group_name(
            &ctx.cluster_id,
            service,
            mapping.frontend_port,
            mapping.traffic_port,
            &mapping.traffic_protocol,
            &mapping.health.protocol,
            mapping.health.interval,
        );
        let hc = &mapping.health;
        let out = call(ctx, ELBV2, "CreateTargetGroup", || {
            ctx.elbv2
                .create_target_group()
                .vpc_id(vpc_id)
                .name(&name)
                .port(mapping.traffic_port)
                .protocol(ProtocolEnum::from(mapping.traffic_protocol.as_str()))
                .target_type(TargetTypeEnum::Instance)
                .health_check_interval_seconds(hc.interval)
                .health_check_port(&hc.port)
                .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
                .healthy_threshold_count(hc.healthy_threshold)
                .unhealthy_threshold_count(hc.unhealthy_threshold)
                .set_health_check_path((hc.protocol != "TCP").then(|| hc.path.clone()))
                .set_tags((!tags.is_empty()).then(|| elbv2_tags(tags)))
                .send()
        })
        .await
        .map_err(|e| q(&e, "error creating load balancer target group: "))?;
        let [tg] = out.target_groups() else {
            return Err(FlowError::msg(format!(
                "expected only one target group on CreateTargetGroup, got {} groups",
                out.target_groups().len()
            )));
        };
        ensure_targets(ctx, tg.target_group_arn().unwrap_or(""), &expected, &[]).await?;
        return Ok(tg.clone());
    };
    let arn = tg.target_group_arn().unwrap_or("").to_string();
    let health = call(ctx, ELBV2, "DescribeTargetHealth", || {
        ctx.elbv2
            .describe_target_health()
            .target_group_arn(&arn)
            .send()
    })
    .await
    .map_err(|e| q(&e, "error describing target group health: "))?;
    let actual: Vec<TargetDescription> = health
        .target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health().and_then(|h| h.reason())
                != Some(&TargetHealthReasonEnum::DeregistrationInProgress)
        })
        .filter_map(|d| d.target().cloned())
        .collect();
    ensure_targets(ctx, &arn, &expected, &actual).await?;

    let hc = &mapping.health;
    let mut dirty = false;
    let mut port = None;
    let mut healthy = None;
    let mut unhealthy = None;
    let mut path = None;
    if tg.health_check_port() != Some(hc.port.as_str()) {
        port = Some(hc.port.clone());
        dirty = true;
    }
    if tg.healthy_threshold_count() != Some(hc.healthy_threshold) {
        healthy = Some(hc.healthy_threshold);
        unhealthy = Some(hc.unhealthy_threshold);
        dirty = true;
    }
    // The provider compares the path with its (empty) input, so for HTTP(S) health checks it
    // modifies on every sync.
    if !hc.protocol.eq_ignore_ascii_case("TCP") && !hc.path.is_empty() {
        path = Some(hc.path.clone());
        dirty = true;
    }
    if !dirty {
        return Ok(tg.clone());
    }
    call(ctx, ELBV2, "ModifyTargetGroup", || {
        ctx.elbv2
            .modify_target_group()
            .target_group_arn(&arn)
            .set_health_check_port(port.clone())
            .set_healthy_threshold_count(healthy)
            .set_unhealthy_threshold_count(unhealthy)
            .set_health_check_path(path.clone())
            .send()
    })
    .await
    .map_err(|e| q(&e, "error modifying target group health check: "))?;
    let out = call(ctx, ELBV2, "DescribeTargetGroups", || {
        ctx.elbv2
            .describe_target_groups()
            .target_group_arns(&arn)
            .send()
    })
    .await
    .map_err(|e| q(&e, "error retrieving target group after creation/update: "))?;
    Ok(out
        .target_groups()
        .first()
        .cloned()
        .unwrap_or_else(|| tg.clone()))
}

/// `createListenerV2`: its target group, then a forwarding listener.
async fn create_listener(
    ctx: &FlowContext,
    lb_arn: &str,
    mapping: &PortMapping,
    service: &ServiceSpec,
    instances: &[String],
    vpc_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), FlowError> {
    let tg = ensure_target_group(ctx, None, service, mapping, instances, vpc_id, tags).await?;
    let action = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg.target_group_arn().unwrap_or(""))
        .build();
    call(ctx, ELBV2, "CreateListener", || {
        ctx.elbv2
            .create_listener()
            .load_balancer_arn(lb_arn)
            .port(mapping.frontend_port)
            .protocol(ProtocolEnum::from(mapping.frontend_protocol.as_str()))
            .default_actions(action.clone())
            .set_tags(Some(elbv2_tags(tags)))
            .send()
    })
    .await
    .map_err(|e| q(&e, "error creating load balancer listener: "))?;
    Ok(())
}

/// `reconcileLBAttributes`: cross-zone and access logs, only the changed ones.
async fn reconcile_attributes(
    ctx: &FlowContext,
    arn: &str,
    service: &ServiceSpec,
) -> Result<(), FlowError> {
    let flag = |key: &str| -> Result<&'static str, FlowError> {
        match service.annotation(key).filter(|v| !v.is_empty()) {
            None => Ok("false"),
            Some(v) => match v.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok("true"),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok("false"),
                _ => Err(FlowError::msg(format!(
                    "error parsing service annotation: {key}={v}"
                ))),
            },
        }
    };
    let cross = flag(svc::CROSS_ZONE)?;
    let logs = flag(svc::ACCESS_LOG_ENABLED)?;
    let bucket = service
        .annotation(svc::ACCESS_LOG_BUCKET)
        .cloned()
        .unwrap_or_default();
    let prefix = service
        .annotation(svc::ACCESS_LOG_PREFIX)
        .cloned()
        .unwrap_or_default();
    let out = call(ctx, ELBV2, "DescribeLoadBalancerAttributes", || {
        ctx.elbv2
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
    })
    .await
    .map_err(|e| {
        q(
            &e,
            "unable to retrieve load balancer attributes during attribute sync: ",
        )
    })?;
    let current: BTreeMap<&str, &str> = out
        .attributes()
        .iter()
        .map(|a| (a.key().unwrap_or(""), a.value().unwrap_or("")))
        .collect();
    let mut changed = Vec::new();
    let mut want = vec![
        ("load_balancing.cross_zone.enabled", cross.to_string()),
        ("access_logs.s3.enabled", logs.to_string()),
    ];
    if logs == "true" {
        want.push(("access_logs.s3.bucket", bucket));
        want.push(("access_logs.s3.prefix", prefix));
    }
    for (k, v) in want {
        if current.get(k).copied().unwrap_or("") != v {
            changed.push(LoadBalancerAttribute::builder().key(k).value(v).build());
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    call(ctx, ELBV2, "ModifyLoadBalancerAttributes", || {
        ctx.elbv2
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .set_attributes(Some(changed.clone()))
            .send()
    })
    .await
    .map_err(|e| {
        q(
            &e,
            "unable to update load balancer attributes during attribute sync: ",
        )
    })?;
    Ok(())
}

/// `ensureLoadBalancerv2`.
#[allow(clippy::too_many_arguments)]
async fn ensure_v2(
    ctx: &FlowContext,
    service: &ServiceSpec,
    name: &str,
    mappings: &[PortMapping],
    instances: &[String],
    subnets: &[String],
    internal: bool,
    security_groups: &[String],
) -> Result<LoadBalancer, FlowError> {
    let existing = describe(ctx, name).await?;
    let mut tags = key_values(service.annotation(svc::ADDITIONAL_TAGS));
    tags.insert(SERVICE_NAME.into(), service.namespaced_name());
    let tags = super::network::tagging(ctx).build_tags(OWNED, &tags);

    let Some(lb) = existing else {
        let out = call(ctx, ELBV2, "CreateLoadBalancer", || {
            ctx.elbv2
                .create_load_balancer()
                .r#type(LoadBalancerTypeEnum::Network)
                .name(name)
                .set_scheme(internal.then_some(LoadBalancerSchemeEnum::Internal))
                .set_subnet_mappings(Some(
                    subnets
                        .iter()
                        .map(|s| SubnetMapping::builder().subnet_id(s).build())
                        .collect(),
                ))
                .set_security_groups(Some(security_groups.to_vec()))
                .set_tags(Some(elbv2_tags(&tags)))
                .send()
        })
        .await
        .map_err(|e| q(&e, "error creating load balancer: "))?;
        let lb = out
            .load_balancers()
            .first()
            .cloned()
            .ok_or_else(|| FlowError::msg("CreateLoadBalancer returned no load balancer"))?;
        let arn = lb.load_balancer_arn().unwrap_or("").to_string();
        let vpc = lb.vpc_id().unwrap_or("").to_string();
        for m in mappings {
            create_listener(ctx, &arn, m, service, instances, &vpc, &tags)
                .await
                .map_err(|e| FlowError {
                    message: format!("error creating listener: {}", go_quote(&e.message)),
                    ..e
                })?;
        }
        reconcile_attributes(ctx, &arn, service).await?;
        return Ok(lb);
    };

    let arn = lb.load_balancer_arn().unwrap_or("").to_string();
    let vpc = lb.vpc_id().unwrap_or("").to_string();
    let mut dirty = false;
    let expected: BTreeSet<&String> = security_groups.iter().collect();
    let actual: BTreeSet<&String> = lb.security_groups().iter().collect();
    if expected != actual && !security_groups.is_empty() {
        call(ctx, ELBV2, "SetSecurityGroups", || {
            ctx.elbv2
                .set_security_groups()
                .load_balancer_arn(&arn)
                .set_security_groups(Some(security_groups.to_vec()))
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                "error setting security groups on load balancer: ",
                false,
                "",
            )
        })?;
        dirty = true;
    }

    let listeners = call(ctx, ELBV2, "DescribeListeners", || {
        ctx.elbv2
            .describe_listeners()
            .load_balancer_arn(&arn)
            .send()
    })
    .await
    .map_err(|e| q(&e, "error describing listeners: "))?;
    let actual: BTreeMap<(i32, String), _> = listeners
        .listeners()
        .iter()
        .map(|l| {
            (
                (
                    l.port().unwrap_or(0),
                    l.protocol()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                ),
                l.clone(),
            )
        })
        .collect();
    let groups = call(ctx, ELBV2, "DescribeTargetGroups", || {
        ctx.elbv2
            .describe_target_groups()
            .load_balancer_arn(&arn)
            .send()
    })
    .await
    .map_err(|e| q(&e, "error listing target groups: "))?;
    let by_port: BTreeMap<i32, TargetGroup> = groups
        .target_groups()
        .iter()
        .map(|g| (g.port().unwrap_or(0), g.clone()))
        .collect();

    for m in mappings {
        let key = (m.frontend_port, m.frontend_protocol.clone());
        let Some(listener) = actual.get(&key) else {
            create_listener(ctx, &arn, m, service, instances, &vpc, &tags).await?;
            dirty = true;
            continue;
        };
        let mut modify = m.frontend_protocol == "TCP"
            && (listener.ssl_policy().is_some_and(|p| !p.is_empty())
                || !listener.certificates().is_empty());
        let tg = by_port.get(&m.traffic_port);
        let hc_modified = tg.is_some_and(|tg| {
            !tg.health_check_protocol()
                .map(|p| p.as_str())
                .unwrap_or("")
                .eq_ignore_ascii_case(&m.health.protocol)
                || tg.health_check_interval_seconds() != Some(m.health.interval)
        });
        let mut recreated = false;
        let tg = match tg {
            Some(tg)
                if tg.protocol().map(|p| p.as_str()) == Some(m.traffic_protocol.as_str())
                    && !hc_modified =>
            {
                tg.clone()
            }
            _ => {
                recreated = true;
                modify = true;
                ensure_target_group(ctx, None, service, m, instances, &vpc, &tags).await?
            }
        };
        if modify {
            let action = Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg.target_group_arn().unwrap_or(""))
                .build();
            call(ctx, ELBV2, "ModifyListener", || {
                ctx.elbv2
                    .modify_listener()
                    .listener_arn(listener.listener_arn().unwrap_or(""))
                    .port(m.frontend_port)
                    .protocol(ProtocolEnum::from(m.frontend_protocol.as_str()))
                    .default_actions(action.clone())
                    .send()
            })
            .await
            .map_err(|e| q(&e, "error updating load balancer listener: "))?;
        }
        if recreated {
            let old = listener
                .default_actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or("")
                .to_string();
            call(ctx, ELBV2, "DeleteTargetGroup", || {
                ctx.elbv2
                    .delete_target_group()
                    .target_group_arn(&old)
                    .send()
            })
            .await
            .map_err(|e| q(&e, "error deleting old target group: "))?;
        } else {
            ensure_target_group(ctx, Some(&tg), service, m, instances, &vpc, &tags).await?;
        }
        dirty = true;
    }

    let wanted: BTreeSet<(i32, String)> = mappings
        .iter()
        .map(|m| (m.frontend_port, m.frontend_protocol.clone()))
        .collect();
    for (key, listener) in &actual {
        if wanted.contains(key) {
            continue;
        }
        call(ctx, ELBV2, "DeleteListener", || {
            ctx.elbv2
                .delete_listener()
                .listener_arn(listener.listener_arn().unwrap_or(""))
                .send()
        })
        .await
        .map_err(|e| q(&e, "error deleting load balancer listener: "))?;
        let tg = listener
            .default_actions()
            .first()
            .and_then(|a| a.target_group_arn())
            .unwrap_or("")
            .to_string();
        call(ctx, ELBV2, "DeleteTargetGroup", || {
            ctx.elbv2.delete_target_group().target_group_arn(&tg).send()
        })
        .await
        .map_err(|e| q(&e, "error deleting load balancer target group: "))?;
        dirty = true;
    }
    reconcile_attributes(ctx, &arn, service).await?;
    if !dirty {
        return Ok(lb);
    }
    let out = call(ctx, ELBV2, "DescribeLoadBalancers", || {
        ctx.elbv2
            .describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
    })
    .await
    .map_err(|e| q(&e, "error retrieving load balancer after update: "))?;
    Ok(out.load_balancers().first().cloned().unwrap_or(lb))
}

/// `updateInstanceSecurityGroupForNLBTraffic` / `…NLBMTU`: make the rules with `description` in
/// one group exactly `desired`, leaving other rules alone.
async fn sync_described_rules(
    ctx: &FlowContext,
    group: &str,
    perms: &mut BTreeSet<Perm>,
    description: &str,
    desired: BTreeSet<Perm>,
) -> Result<(), FlowError> {
    let grant: Vec<Perm> = desired.difference(perms).cloned().collect();
    let revoke: Vec<Perm> = perms
        .difference(&desired)
        .filter(|p| p.description.as_deref() == Some(description))
        .cloned()
        .collect();
    if !revoke.is_empty() {
        let list: Vec<_> = revoke.iter().map(Perm::to_sdk).collect();
        change_security_group_ingress(ctx, group, &list, false).await?;
        for p in &revoke {
            perms.remove(p);
        }
    }
    if !grant.is_empty() {
        let list: Vec<_> = grant.iter().map(Perm::to_sdk).collect();
        change_security_group_ingress(ctx, group, &list, true).await?;
        perms.extend(grant);
    }
    Ok(())
}

fn rules(
    protocol: &str,
    ports: &BTreeSet<i32>,
    cidrs: &[String],
    description: &str,
) -> BTreeSet<Perm> {
    let mut out = BTreeSet::new();
    for port in ports {
        for cidr in cidrs {
            out.insert(Perm {
                protocol: protocol.into(),
                from: Some(*port),
                to: Some(*port),
                cidr: Some(cidr.clone()),
                description: Some(description.into()),
                group: None,
            });
        }
    }
    out
}

/// `updateInstanceSecurityGroupsForNLB`: in every cluster-tagged group (and the instances' own),
/// client rules (and health-check rules from the subnets when they differ) for the nodes' groups,
/// none for the others, and ICMP 3-4 for each client range.
async fn update_instance_security_groups(
    ctx: &FlowContext,
    lb_name: &str,
    instances: &BTreeMap<String, aws_sdk_ec2::types::Instance>,
    subnet_cidrs: &[String],
    client_cidrs: &[String],
    mappings: &[PortMapping],
) -> Result<(), FlowError> {
    let mut groups = tagged_security_groups(ctx).await?;
    let mut desired: BTreeSet<String> = BTreeSet::new();
    for i in instances.values() {
        if let Some(g) = security_group_for_instance(i, &groups)? {
            desired.insert(g);
        }
    }
    for id in desired.clone() {
        if groups.contains_key(&id) {
            continue;
        }
        match find_security_group(ctx, &id).await {
            Ok(Some(g)) => {
                groups.insert(id, g);
            }
            Ok(None) => {
                return Err(FlowError::msg(format!(
                    "error finding security group: {id}"
                )))
            }
            Err(e) => {
                return Err(FlowError {
                    message: format!("error finding instance group: {}", go_quote(&e.message)),
                    ..e
                })
            }
        }
    }
    let mut client_ports = BTreeSet::new();
    let mut health_ports = BTreeSet::new();
    let mut client_protocol = "tcp";
    for m in mappings {
        client_ports.insert(m.traffic_port);
        let hc = if m.health.port == svc::TRAFFIC_PORT {
            m.traffic_port
        } else {
            m.health.port.parse().map_err(|_| {
                FlowError::msg(format!("Invalid health check port {}", m.health.port))
            })?
        };
        health_ports.insert(hc);
        if m.traffic_protocol == "UDP" {
            client_protocol = "udp";
        }
    }
    let client_desc = format!("{CLIENT_RULE}={lb_name}");
    let health_desc = format!("{HEALTH_RULE}={lb_name}");
    let empty = BTreeSet::new();
    for (id, g) in &groups {
        let original = ungroup(g.ip_permissions());
        let mut perms = original.clone();
        if desired.contains(id) {
            if client_cidrs.len() != 1
                || client_cidrs[0] != "0.0.0.0/0"
                || client_protocol != "tcp"
                || health_ports != client_ports
            {
                let want = rules("tcp", &health_ports, subnet_cidrs, &health_desc);
                sync_described_rules(ctx, id, &mut perms, &health_desc, want).await?;
            }
            let want = rules(client_protocol, &client_ports, client_cidrs, &client_desc);
            sync_described_rules(ctx, id, &mut perms, &client_desc, want).await?;
        } else {
            sync_described_rules(
                ctx,
                id,
                &mut perms,
                &health_desc,
                rules("tcp", &empty, &[], ""),
            )
            .await?;
            sync_described_rules(
                ctx,
                id,
                &mut perms,
                &client_desc,
                rules(client_protocol, &empty, &[], ""),
            )
            .await?;
        }
        if perms != original {
            let mut mtu = BTreeSet::new();
            for p in &perms {
                if p.description
                    .as_deref()
                    .is_some_and(|d| d.contains(CLIENT_RULE))
                {
                    mtu.insert(Perm {
                        protocol: "icmp".into(),
                        from: Some(3),
                        to: Some(4),
                        cidr: p.cidr.clone(),
                        description: Some(MTU_RULE.into()),
                        group: None,
                    });
                }
            }
            sync_described_rules(ctx, id, &mut perms, MTU_RULE, mtu).await?;
        }
    }
    Ok(())
}

/// `v2toStatus`: a hostname only while active or provisioning.
fn status(lb: &LoadBalancer) -> LoadBalancerStatus {
    let ok = matches!(
        lb.state().and_then(|s| s.code()),
        Some(LoadBalancerStateEnum::Active) | Some(LoadBalancerStateEnum::Provisioning)
    );
    LoadBalancerStatus {
        name: lb.load_balancer_name().unwrap_or("").to_string(),
        hostname: if ok {
            lb.dns_name().unwrap_or("").to_string()
        } else {
            String::new()
        },
        security_groups: lb.security_groups().to_vec(),
    }
}

/// `EnsureLoadBalancer` for an NLB.
pub async fn ensure(
    ctx: &FlowContext,
    input: &LoadBalancerInput,
) -> Result<LoadBalancerStatus, FlowError> {
    let service = &input.service;
    if service.ports.is_empty() {
        return Err(FlowError::msg("requested load balancer with no ports"));
    }
    let source_ranges = service.source_ranges().map_err(FlowError::msg)?;
    let mappings = mappings(service)?;
    let instances = instances_for_elb(ctx, &input.nodes).await?;
    let internal = service.internal();
    let subnets = load_balancer_subnets(ctx, service, internal).await?;
    if subnets.is_empty() {
        return Err(FlowError::msg(
            "could not find any suitable subnets for creating the ELB",
        ));
    }
    let name = service.load_balancer_name();
    let instance_ids: Vec<String> = instances.keys().cloned().collect();
    let existing = describe(ctx, &name).await.map_err(|e| FlowError {
        message: format!("error describing load balancer {name}: {}", e.message),
        ..e
    })?;
    // ensureNLBSecurityGroup, unmanaged mode: keep what the LB has.
    let security_groups: Vec<String> = existing
        .as_ref()
        .map(|lb| lb.security_groups().to_vec())
        .unwrap_or_default();
    let lb = ensure_v2(
        ctx,
        service,
        &name,
        &mappings,
        &instance_ids,
        &subnets,
        internal,
        &security_groups,
    )
    .await?;
    let ensured: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id())
        .map(str::to_string)
        .collect();
    if ensured.is_empty() {
        return Err(FlowError::msg(format!(
            "did not find ensured subnets on LB {name}"
        )));
    }
    let out = call(ctx, EC2, "DescribeSubnets", || {
        ctx.ec2
            .describe_subnets()
            .set_subnet_ids(Some(ensured.clone()))
            .send()
    })
    .await
    .map_err(|e| q(&e, "error querying Subnet for ELB: "))?;
    if out.subnets().len() != ensured.len() {
        return Err(FlowError::msg(format!(
            "error querying Subnet for ELB, got {} subnets for [{}]",
            out.subnets().len(),
            ensured.join(" ")
        )));
    }
    let subnet_cidrs: Vec<String> = out
        .subnets()
        .iter()
        .map(|s| s.cidr_block().unwrap_or("").to_string())
        .collect();
    update_instance_security_groups(
        ctx,
        &name,
        &instances,
        &subnet_cidrs,
        &source_ranges,
        &mappings,
    )
    .await?;
    Ok(status(&lb))
}

/// `UpdateLoadBalancer` for an NLB: it must exist; then the whole ensure.
pub async fn update(
    ctx: &FlowContext,
    input: &LoadBalancerInput,
) -> Result<LoadBalancerStatus, FlowError> {
    instances_for_elb(ctx, &input.nodes).await?;
    if describe(ctx, &input.service.load_balancer_name())
        .await?
        .is_none()
    {
        return Err(FlowError::msg("Load balancer not found"));
    }
    ensure(ctx, input).await
}

/// What NLB delete did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NlbDeleted {
    #[serde(flatten)]
    pub deleted: Deleted,
    #[serde(default)]
    pub target_groups: Vec<String>,
}

/// `EnsureLoadBalancerDeleted` for an NLB: target groups listed, the LB deleted, then its target
/// groups, then the nodes' NLB rules, then its owned security groups.
pub async fn delete(ctx: &FlowContext, input: &LoadBalancerInput) -> Result<NlbDeleted, FlowError> {
    let service = &input.service;
    let name = service.load_balancer_name();
    let Some(lb) = describe(ctx, &name).await? else {
        return Ok(NlbDeleted {
            deleted: Deleted {
                deleted: false,
                security_groups: Vec::new(),
            },
            target_groups: Vec::new(),
        });
    };
    let arn = lb.load_balancer_arn().unwrap_or("").to_string();
    let groups = call(ctx, ELBV2, "DescribeTargetGroups", || {
        ctx.elbv2
            .describe_target_groups()
            .load_balancer_arn(&arn)
            .send()
    })
    .await
    .map_err(|e| {
        q(
            &e,
            "error listing target groups before deleting load balancer: ",
        )
    })?;
    let mut to_delete = BTreeSet::new();
    if !lb.security_groups().is_empty() {
        to_delete = security_groups_to_delete(ctx, service, lb.security_groups())
            .await
            .map_err(|e| FlowError {
                message: format!(
                    "unable to build security group list to delete load balancer: {}",
                    e.message
                ),
                ..e
            })?
            .0;
    }
    call(ctx, ELBV2, "DeleteLoadBalancer", || {
        ctx.elbv2
            .delete_load_balancer()
            .load_balancer_arn(&arn)
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::msg(format!(
            "error deleting load balancer {}: {e}",
            go_quote(&name)
        ))
        .with(&e)
    })?;
    let mut deleted_groups = Vec::new();
    for g in groups.target_groups() {
        let tg = g.target_group_arn().unwrap_or("").to_string();
        call(ctx, ELBV2, "DeleteTargetGroup", || {
            ctx.elbv2.delete_target_group().target_group_arn(&tg).send()
        })
        .await
        .map_err(|e| {
            q(
                &e,
                "error deleting target groups after deleting load balancer: ",
            )
        })?;
        deleted_groups.push(tg);
    }
    update_instance_security_groups(ctx, &name, &BTreeMap::new(), &[], &[], &[])
        .await
        .map_err(|e| FlowError {
            message: format!(
                "error deleting instance security group rules: {}",
                e.message
            ),
            ..e
        })?;
    delete_security_groups_with_backoff(ctx, &service.name, &to_delete).await?;
    Ok(NlbDeleted {
        deleted: Deleted {
            deleted: true,
            security_groups: to_delete.into_iter().collect(),
        },
        target_groups: deleted_groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_the_fips_vectors() {
        assert_eq!(
            hex::encode(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex::encode(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn target_group_names_are_sanitized_and_hashed() {
        let service: ServiceSpec = serde_json::from_value(serde_json::json!({
            "namespace": "kube-system", "name": "my-ingress-controller", "uid": "u",
            "ports": [{"port": 80, "node_port": 30080}]
        }))
        .unwrap();
        let name = target_group_name("test", &service, 80, 30080, "TCP", "TCP", 30);
        let hash = hex::encode(sha1(
            b"testkube-systemmy-ingress-controller8030080TCPinstanceTCP30",
        ));
        assert_eq!(name, format!("k8s-kubesyst-myingres-{}", &hash[..10]));
        assert!(name.len() <= 32);
    }
}
