//! The classic ELB of a Service: `EnsureLoadBalancer`, `UpdateLoadBalancer` and
//! `EnsureLoadBalancerDeleted` of aws.go / aws_loadbalancer.go for Services without the NLB
//! annotation.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{IpPermission, UserIdGroupPair};
use aws_sdk_elasticloadbalancing::types::{
    AccessLog, ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing, HealthCheck,
    Instance as ElbInstance, Listener, LoadBalancerAttributes, LoadBalancerDescription,
    PolicyAttribute, Tag as ElbTag,
};

use super::api::{call, ApiError, ELB};
use super::context::{go_quote, FlowContext, FlowError};
use super::network::{
    self, change_security_group_ingress, delete_security_groups_with_backoff,
    ensure_security_group, find_elb_subnets, instances_for_elb, rule_references,
    security_group_for_instance, set_security_group_ingress, tagged_security_groups, Perm,
};
use super::service::{self as svc, LoadBalancerInput, LoadBalancerStatus, ServiceSpec};
use super::tagging::{ec2_pairs, key_values, OWNED, SERVICE_NAME};

/// `ProxyProtocolPolicyName`.
pub const PROXY_PROTOCOL_POLICY: &str = "k8s-proxyprotocol-enabled";

/// `describeLoadBalancer`: `LoadBalancerNotFound` means absent; the last description wins.
pub async fn describe(
    ctx: &FlowContext,
    name: &str,
) -> Result<Option<LoadBalancerDescription>, ApiError> {
    match call(ctx, ELB, "DescribeLoadBalancers", || {
        ctx.elb
            .describe_load_balancers()
            .load_balancer_names(name)
            .send()
    })
    .await
    {
        Ok(out) => Ok(out.load_balancer_descriptions().last().cloned()),
        Err(e) if e.is("LoadBalancerNotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

/// `buildListener`: lower-case protocols, the node port behind; with a certificate on an SSL
/// port, `ssl` over `tcp` (or the backend-protocol annotation's mapping).
fn build_listener(service: &ServiceSpec, port: &svc::ServicePort) -> Result<Listener, FlowError> {
    let mut protocol = port.protocol.to_lowercase();
    let mut instance_protocol = protocol.clone();
    let backend = service
        .annotation(svc::BE_PROTOCOL)
        .cloned()
        .unwrap_or_default();
    let cert = service
        .annotation(svc::SSL_CERT)
        .cloned()
        .unwrap_or_default();
    let mut certificate = None;
    if !cert.is_empty() && service.is_ssl_port(port) {
        if backend.is_empty() {
            protocol = "ssl".into();
            instance_protocol = "tcp".into();
        } else {
            // backendProtocolMapping
            protocol = match backend.as_str() {
                "https" | "http" => "https".into(),
                "ssl" | "tcp" => "ssl".into(),
                _ => {
                    return Err(FlowError::msg(format!(
                        "Invalid backend protocol {backend} for {cert} in {}",
                        svc::BE_PROTOCOL
                    )))
                }
            };
            instance_protocol = backend.clone();
        }
        certificate = Some(cert);
    } else if backend == "http" {
        protocol = "http".into();
        instance_protocol = "http".into();
    }
    Listener::builder()
        .protocol(protocol)
        .instance_protocol(instance_protocol)
        .load_balancer_port(port.port)
        .instance_port(port.node_port)
        .set_ssl_certificate_id(certificate)
        .build()
        .map_err(|e| FlowError::msg(e.to_string()))
}

/// `ensureSSLNegotiationPolicy` + `setSSLNegotiationPolicy` on every `SSL`/`HTTPS` listener
/// (compared exactly, as `getLoadBalancerTLSPorts` does: AWS answers upper case).
async fn ensure_ssl_negotiation(
    ctx: &FlowContext,
    service: &ServiceSpec,
    lb: &LoadBalancerDescription,
) -> Result<(), FlowError> {
    let Some(policy) = service.annotation(svc::SSL_NEGOTIATION_POLICY) else {
        return Ok(());
    };
    let name = lb.load_balancer_name().unwrap_or("");
    let policy_name = format!("k8s-SSLNegotiationPolicy-{policy}");
    let found = match call(ctx, ELB, "DescribeLoadBalancerPolicies", || {
        ctx.elb
            .describe_load_balancer_policies()
            .load_balancer_name(name)
            .policy_names(&policy_name)
            .send()
    })
    .await
    {
        Ok(out) => !out.policy_descriptions().is_empty(),
        Err(e) if e.is("PolicyNotFound") => false,
        Err(e) => {
            return Err(FlowError::wrap(
                &e,
                "error describing security policies on load balancer: ",
                true,
                "",
            ))
        }
    };
    if !found {
        call(ctx, ELB, "CreateLoadBalancerPolicy", || {
            ctx.elb
                .create_load_balancer_policy()
                .load_balancer_name(name)
                .policy_name(&policy_name)
                .policy_type_name("SSLNegotiationPolicyType")
                .policy_attributes(
                    PolicyAttribute::builder()
                        .attribute_name("Reference-Security-Policy")
                        .attribute_value(policy)
                        .build(),
                )
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                "error creating security policy on load balancer: ",
                true,
                "",
            )
        })?;
    }
    for d in lb.listener_descriptions() {
        let Some(l) = d.listener() else { continue };
        if l.protocol() != "SSL" && l.protocol() != "HTTPS" {
            continue;
        }
        call(ctx, ELB, "SetLoadBalancerPoliciesOfListener", || {
            ctx.elb
                .set_load_balancer_policies_of_listener()
                .load_balancer_name(name)
                .load_balancer_port(l.load_balancer_port())
                .policy_names(&policy_name)
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                &format!("error setting SSL negotiation policy '{policy_name}' on load balancer: "),
                true,
                "",
            )
        })?;
    }
    Ok(())
}

fn parse_bool(service: &ServiceSpec, key: &str) -> Result<Option<bool>, FlowError> {
    match service.annotation(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        // strconv.ParseBool
        Some(v) => match v.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Some(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Some(false)),
            _ => Err(FlowError::msg(format!(
                "error parsing service annotation: {key}={v}"
            ))),
        },
    }
}

fn parse_int(service: &ServiceSpec, key: &str) -> Result<Option<i32>, FlowError> {
    match service.annotation(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i32>()
            .map(Some)
            .map_err(|_| FlowError::msg(format!("error parsing service annotation: {key}={v}"))),
    }
}

/// The attributes the provider wants: defaults overridden by annotations.
fn desired_attributes(service: &ServiceSpec) -> Result<LoadBalancerAttributes, FlowError> {
    let mut log = AccessLog::builder().enabled(false);
    if let Some(i) = parse_int(service, svc::ACCESS_LOG_EMIT_INTERVAL)? {
        log = log.emit_interval(i);
    }
    if let Some(b) = parse_bool(service, svc::ACCESS_LOG_ENABLED)? {
        log = log.enabled(b);
    }
    if let Some(b) = service
        .annotation(svc::ACCESS_LOG_BUCKET)
        .filter(|s| !s.is_empty())
    {
        log = log.s3_bucket_name(b);
    }
    if let Some(p) = service
        .annotation(svc::ACCESS_LOG_PREFIX)
        .filter(|s| !s.is_empty())
    {
        log = log.s3_bucket_prefix(p);
    }
    let mut draining = ConnectionDraining::builder().enabled(false);
    if let Some(b) = parse_bool(service, svc::DRAINING_ENABLED)? {
        draining = draining.enabled(b);
    }
    if let Some(t) = parse_int(service, svc::DRAINING_TIMEOUT)? {
        draining = draining.timeout(t);
    }
    let idle = parse_int(service, svc::IDLE_TIMEOUT)?.unwrap_or(60);
    let cross = parse_bool(service, svc::CROSS_ZONE)?.unwrap_or(false);
    let build = |e: aws_sdk_elasticloadbalancing::error::BuildError| FlowError::msg(e.to_string());
    Ok(LoadBalancerAttributes::builder()
        .access_log(log.build())
        .connection_draining(draining.build())
        .connection_settings(
            ConnectionSettings::builder()
                .idle_timeout(idle)
                .build()
                .map_err(build)?,
        )
        .cross_zone_load_balancing(CrossZoneLoadBalancing::builder().enabled(cross).build())
        .build())
}

/// `reflect.DeepEqual` of the desired attributes against DescribeLoadBalancerAttributes.
fn attributes_equal(want: &LoadBalancerAttributes, got: &LoadBalancerAttributes) -> bool {
    want.access_log() == got.access_log()
        && want.connection_draining() == got.connection_draining()
        && want.connection_settings() == got.connection_settings()
        && want.cross_zone_load_balancing() == got.cross_zone_load_balancing()
        && got.additional_attributes().is_empty()
}

/// `elbListenersAreEqual`: protocols case-insensitively, ports and certificate exactly.
fn listeners_equal(a: &Listener, b: &Listener) -> bool {
    a.protocol().eq_ignore_ascii_case(b.protocol())
        && a.instance_protocol()
            .unwrap_or("")
            .eq_ignore_ascii_case(b.instance_protocol().unwrap_or(""))
        && a.instance_port() == b.instance_port()
        && a.load_balancer_port() == b.load_balancer_port()
        && a.ssl_certificate_id() == b.ssl_certificate_id()
}

/// `syncElbListeners`: listeners to add and load-balancer ports to remove.
fn sync_listeners(
    wanted: &[Listener],
    actual: &LoadBalancerDescription,
) -> (Vec<Listener>, Vec<i32>) {
    let mut found = BTreeSet::new();
    let mut removals = Vec::new();
    for d in actual.listener_descriptions() {
        let Some(actual) = d.listener() else { continue };
        match wanted.iter().position(|w| listeners_equal(actual, w)) {
            Some(i) => {
                found.insert(i);
            }
            None => removals.push(actual.load_balancer_port()),
        }
    }
    let additions = wanted
        .iter()
        .enumerate()
        .filter(|(i, _)| !found.contains(i))
        .map(|(_, l)| l.clone())
        .collect();
    (additions, removals)
}

async fn set_backend_policies(
    ctx: &FlowContext,
    name: &str,
    port: i32,
    policies: &[&str],
) -> Result<(), FlowError> {
    call(ctx, ELB, "SetLoadBalancerPoliciesForBackendServer", || {
        ctx.elb
            .set_load_balancer_policies_for_backend_server()
            .load_balancer_name(name)
            .instance_port(port)
            .set_policy_names(Some(policies.iter().map(|s| s.to_string()).collect()))
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            "error adjusting AWS loadbalancer backend policies: ",
            true,
            "",
        )
    })?;
    Ok(())
}

async fn create_proxy_protocol_policy(ctx: &FlowContext, name: &str) -> Result<(), FlowError> {
    call(ctx, ELB, "CreateLoadBalancerPolicy", || {
        ctx.elb
            .create_load_balancer_policy()
            .load_balancer_name(name)
            .policy_name(PROXY_PROTOCOL_POLICY)
            .policy_type_name("ProxyProtocolPolicyType")
            .policy_attributes(
                PolicyAttribute::builder()
                    .attribute_name("ProxyProtocol")
                    .attribute_value("true")
                    .build(),
            )
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            "error creating proxy protocol policy on load balancer: ",
            true,
            "",
        )
    })?;
    Ok(())
}

/// `ensureLoadBalancer` (lb.go): create or reconcile, then attributes, then describe again.
#[allow(clippy::too_many_arguments)]
async fn ensure_load_balancer(
    ctx: &FlowContext,
    service: &ServiceSpec,
    name: &str,
    listeners: &[Listener],
    subnets: &[String],
    security_groups: &[String],
    internal: bool,
    proxy_protocol: bool,
    attributes: &LoadBalancerAttributes,
) -> Result<Option<LoadBalancerDescription>, FlowError> {
    let existing = describe(ctx, name).await.map_err(|e| FlowError::api(&e))?;
    let mut dirty = false;
    match &existing {
        None => {
            let mut tags = key_values(service.annotation(svc::ADDITIONAL_TAGS));
            tags.insert(SERVICE_NAME.to_string(), service.namespaced_name());
            let tags = network::tagging(ctx).build_tags(OWNED, &tags);
            let elb_tags: Vec<ElbTag> = tags
                .iter()
                .filter_map(|(k, v)| ElbTag::builder().key(k).value(v).build().ok())
                .collect();
            call(ctx, ELB, "CreateLoadBalancer", || {
                ctx.elb
                    .create_load_balancer()
                    .load_balancer_name(name)
                    .set_listeners(Some(listeners.to_vec()))
                    .set_scheme(internal.then(|| "internal".to_string()))
                    .set_subnets(Some(subnets.to_vec()))
                    .set_security_groups(Some(security_groups.to_vec()))
                    .set_tags(Some(elb_tags.clone()))
                    .send()
            })
            .await
            .map_err(|e| FlowError::api(&e))?;
            if proxy_protocol {
                create_proxy_protocol_policy(ctx, name).await?;
                for l in listeners {
                    set_backend_policies(ctx, name, l.instance_port(), &[PROXY_PROTOCOL_POLICY])
                        .await?;
                }
            }
            dirty = true;
        }
        Some(lb) => {
            let expected: BTreeSet<&str> = subnets.iter().map(String::as_str).collect();
            let actual: BTreeSet<&str> = lb.subnets().iter().map(String::as_str).collect();
            let removals: Vec<String> = actual
                .difference(&expected)
                .map(|s| s.to_string())
                .collect();
            let additions: Vec<String> = expected
                .difference(&actual)
                .map(|s| s.to_string())
                .collect();
            if !removals.is_empty() {
                call(ctx, ELB, "DetachLoadBalancerFromSubnets", || {
                    ctx.elb
                        .detach_load_balancer_from_subnets()
                        .load_balancer_name(name)
                        .set_subnets(Some(removals.clone()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(
                        &e,
                        "error detaching AWS loadbalancer from subnets: ",
                        true,
                        "",
                    )
                })?;
                dirty = true;
            }
            if !additions.is_empty() {
                call(ctx, ELB, "AttachLoadBalancerToSubnets", || {
                    ctx.elb
                        .attach_load_balancer_to_subnets()
                        .load_balancer_name(name)
                        .set_subnets(Some(additions.clone()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(
                        &e,
                        "error attaching AWS loadbalancer to subnets: ",
                        true,
                        "",
                    )
                })?;
                dirty = true;
            }

            let expected: BTreeSet<&str> = security_groups.iter().map(String::as_str).collect();
            let actual: BTreeSet<&str> = lb.security_groups().iter().map(String::as_str).collect();
            if expected != actual {
                call(ctx, ELB, "ApplySecurityGroupsToLoadBalancer", || {
                    ctx.elb
                        .apply_security_groups_to_load_balancer()
                        .load_balancer_name(name)
                        .set_security_groups(Some(security_groups.to_vec()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(
                        &e,
                        "error applying AWS loadbalancer security groups: ",
                        true,
                        "",
                    )
                })?;
                dirty = true;
                // the replaced groups: references revoked, owned ones deleted
                let replaced: Vec<String> = actual
                    .difference(&expected)
                    .map(|s| s.to_string())
                    .collect();
                let errs = network::remove_owned_security_groups(ctx, name, &replaced).await;
                if let Some(first) = errs.first() {
                    return Err(FlowError {
                        message: format!(
                            "error removing owned security groups: {}",
                            network::error_list(&errs)
                        ),
                        ..first.clone()
                    });
                }
            }

            let (add, remove) = sync_listeners(listeners, lb);
            if !remove.is_empty() {
                call(ctx, ELB, "DeleteLoadBalancerListeners", || {
                    ctx.elb
                        .delete_load_balancer_listeners()
                        .load_balancer_name(name)
                        .set_load_balancer_ports(Some(remove.clone()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(&e, "error deleting AWS loadbalancer listeners: ", true, "")
                })?;
                dirty = true;
            }
            if !add.is_empty() {
                call(ctx, ELB, "CreateLoadBalancerListeners", || {
                    ctx.elb
                        .create_load_balancer_listeners()
                        .load_balancer_name(name)
                        .set_listeners(Some(add.clone()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(&e, "error creating AWS loadbalancer listeners: ", true, "")
                })?;
                dirty = true;
            }

            // Proxy protocol: the policy is (re)created on every sync when wanted.
            let policies: Vec<&str> = if proxy_protocol {
                create_proxy_protocol_policy(ctx, name).await?;
                vec![PROXY_PROTOCOL_POLICY]
            } else {
                Vec::new()
            };
            let mut found: BTreeMap<i32, bool> = BTreeMap::new();
            let mut state: BTreeMap<i32, bool> = BTreeMap::new();
            for b in lb.backend_server_descriptions() {
                let port = b.instance_port().unwrap_or(0);
                found.insert(port, false);
                state.insert(
                    port,
                    b.policy_names().iter().any(|p| p == PROXY_PROTOCOL_POLICY),
                );
            }
            for l in listeners {
                let port = l.instance_port();
                let set = match state.get(&port) {
                    None => proxy_protocol,
                    Some(current) => {
                        found.insert(port, true);
                        *current != proxy_protocol
                    }
                };
                if set {
                    set_backend_policies(ctx, name, port, &policies).await?;
                    dirty = true;
                }
            }
            for (port, seen) in found {
                if !seen {
                    set_backend_policies(ctx, name, port, &[]).await?;
                    dirty = true;
                }
            }

            let extra = key_values(service.annotation(svc::ADDITIONAL_TAGS));
            if !extra.is_empty() {
                let tags: Vec<ElbTag> = extra
                    .iter()
                    .filter_map(|(k, v)| ElbTag::builder().key(k).value(v).build().ok())
                    .collect();
                call(ctx, ELB, "AddTags", || {
                    ctx.elb
                        .add_tags()
                        .load_balancer_names(name)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await
                .map_err(|e| {
                    FlowError::wrap(&e, "unable to create additional load balancer tags: error adding tags to load balancer: ", false, "")
                })?;
            }
        }
    }

    let found = call(ctx, ELB, "DescribeLoadBalancerAttributes", || {
        ctx.elb
            .describe_load_balancer_attributes()
            .load_balancer_name(name)
            .send()
    })
    .await
    .map_err(|e| FlowError::api(&e))?;
    let equal = found
        .load_balancer_attributes()
        .map(|got| attributes_equal(attributes, got))
        .unwrap_or(false);
    if !equal {
        call(ctx, ELB, "ModifyLoadBalancerAttributes", || {
            ctx.elb
                .modify_load_balancer_attributes()
                .load_balancer_name(name)
                .load_balancer_attributes(attributes.clone())
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                "Unable to update load balancer attributes during attribute sync: ",
                true,
                "",
            )
        })?;
        dirty = true;
    }

    if dirty {
        return describe(ctx, name).await.map_err(|e| FlowError::api(&e));
    }
    Ok(existing)
}

/// `getExpectedHealthCheck` + `ensureLoadBalancerHealthCheck`.
async fn ensure_health_check(
    ctx: &FlowContext,
    service: &ServiceSpec,
    lb: &LoadBalancerDescription,
    mut protocol: String,
    mut port: i32,
    path: &str,
) -> Result<(), FlowError> {
    let name = lb.load_balancer_name().unwrap_or("");
    if let Some(p) = service.annotation(svc::HC_PROTOCOL) {
        protocol = p.clone();
    }
    if let Some(p) = service
        .annotation(svc::HC_PORT)
        .filter(|p| *p != svc::TRAFFIC_PORT)
    {
        port = p.parse().map_err(|_| {
            FlowError::msg(format!(
                "strconv.ParseInt: parsing {}: invalid syntax",
                go_quote(p)
            ))
        })?;
    }
    let path = match protocol.to_uppercase().as_str() {
        "HTTP" | "HTTPS" => {
            let mut path = if path.is_empty() { svc::HEALTHZ } else { path }.to_string();
            if let Some(p) = service.annotation(svc::HC_PATH).filter(|p| !p.is_empty()) {
                path = p.clone();
            }
            path
        }
        _ => String::new(),
    };
    let target = format!("{protocol}:{port}{path}");
    let get = |key: &str, default: i32| -> Result<i32, FlowError> {
        match service.annotation(key) {
            None => Ok(default),
            Some(s) => s.parse().map_err(|_| {
                FlowError::msg(format!(
                    "cannot update health check for load balancer {}: {}",
                    go_quote(name),
                    go_quote(&format!(
                        "failed parsing health check annotation value: strconv.ParseInt: parsing {}: invalid syntax",
                        go_quote(s)
                    ))
                ))
            }),
        }
    };
    let expected = HealthCheck::builder()
        .target(&target)
        .healthy_threshold(get(svc::HC_HEALTHY, 2)?)
        .unhealthy_threshold(get(svc::HC_UNHEALTHY, 6)?)
        .timeout(get(svc::HC_TIMEOUT, 5)?)
        .interval(get(svc::HC_INTERVAL, 10)?)
        .build()
        .map_err(|e| FlowError::msg(e.to_string()))?;
    if let Some(actual) = lb.health_check() {
        if actual.target() == expected.target()
            && actual.healthy_threshold() == expected.healthy_threshold()
            && actual.unhealthy_threshold() == expected.unhealthy_threshold()
            && actual.interval() == expected.interval()
            && actual.timeout() == expected.timeout()
        {
            return Ok(());
        }
    }
    call(ctx, ELB, "ConfigureHealthCheck", || {
        ctx.elb
            .configure_health_check()
            .load_balancer_name(name)
            .health_check(expected.clone())
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            &format!(
                "error configuring load balancer health check for {}: ",
                go_quote(name)
            ),
            true,
            "",
        )
    })?;
    Ok(())
}

/// `sortELBSecurityGroupList`: annotated groups first, extra ones last, cluster-tagged first.
fn sort_security_groups(ids: &mut [String], service: &ServiceSpec, tagged: &BTreeSet<String>) {
    let annotated = service.sg_list(svc::SECURITY_GROUPS);
    let extra = service.sg_list(svc::EXTRA_SECURITY_GROUPS);
    let order = |id: &String| -> usize {
        if let Some(i) = annotated.iter().position(|a| a == id) {
            i
        } else if let Some(j) = extra.iter().position(|a| a == id) {
            annotated.len() + 1 + j
        } else {
            annotated.len()
        }
    };
    ids.sort_by(|a, b| {
        let (ta, tb) = (tagged.contains(a), tagged.contains(b));
        order(a).cmp(&order(b)).then(tb.cmp(&ta))
    });
}

/// `updateInstanceSecurityGroupsForLoadBalancer`: allow all traffic from the LB's first group
/// into each instance's (cluster-tagged) group, and revoke it from tagged groups that no longer
/// need it (or from every group when deleting).
async fn update_instance_security_groups(
    ctx: &FlowContext,
    service: &ServiceSpec,
    lb: &LoadBalancerDescription,
    instances: &BTreeMap<String, aws_sdk_ec2::types::Instance>,
    deleting: bool,
) -> Result<(), FlowError> {
    let mut lb_groups: Vec<String> = lb.security_groups().to_vec();
    if lb_groups.is_empty() {
        return Err(FlowError::msg(format!(
            "could not determine security group for load balancer: {}",
            lb.load_balancer_name().unwrap_or("")
        )));
    }
    let tagged = tagged_security_groups(ctx).await?;
    let tagged_lb: BTreeSet<String> = lb_groups
        .iter()
        .filter(|g| tagged.contains_key(*g))
        .cloned()
        .collect();
    sort_security_groups(&mut lb_groups, service, &tagged_lb);
    let lb_group = lb_groups[0].clone();

    let actual = rule_references(ctx, &lb_group).await?;

    let mut changes: BTreeMap<String, bool> = BTreeMap::new();
    for instance in instances.values() {
        if let Some(id) = security_group_for_instance(instance, &tagged)? {
            changes.insert(id, true);
        }
    }
    for (group, has_cluster_tag) in &actual {
        let id = group.group_id().unwrap_or("").to_string();
        if id.is_empty() {
            continue;
        }
        if changes.get(&id) == Some(&true) {
            changes.remove(&id);
        } else if *has_cluster_tag || deleting {
            changes.insert(id, false);
        }
    }
    let permission = IpPermission::builder()
        .ip_protocol("-1")
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(&lb_group).build())
        .build();
    for (group, add) in changes {
        change_security_group_ingress(ctx, &group, std::slice::from_ref(&permission), add).await?;
    }
    Ok(())
}

/// `ensureLoadBalancerInstances`: register the missing, deregister the extra.
async fn ensure_instances(
    ctx: &FlowContext,
    name: &str,
    lb: &LoadBalancerDescription,
    instances: &BTreeMap<String, aws_sdk_ec2::types::Instance>,
) -> Result<(), FlowError> {
    let expected: BTreeSet<&str> = instances.keys().map(String::as_str).collect();
    let actual: BTreeSet<&str> = lb
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    let add: Vec<ElbInstance> = expected
        .difference(&actual)
        .map(|id| ElbInstance::builder().instance_id(*id).build())
        .collect();
    let remove: Vec<ElbInstance> = actual
        .difference(&expected)
        .map(|id| ElbInstance::builder().instance_id(*id).build())
        .collect();
    if !add.is_empty() {
        call(ctx, ELB, "RegisterInstancesWithLoadBalancer", || {
            ctx.elb
                .register_instances_with_load_balancer()
                .load_balancer_name(name)
                .set_instances(Some(add.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
    }
    if !remove.is_empty() {
        call(ctx, ELB, "DeregisterInstancesFromLoadBalancer", || {
            ctx.elb
                .deregister_instances_from_load_balancer()
                .load_balancer_name(name)
                .set_instances(Some(remove.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
    }
    Ok(())
}

fn status(lb: &LoadBalancerDescription) -> LoadBalancerStatus {
    LoadBalancerStatus {
        name: lb.load_balancer_name().unwrap_or("").to_string(),
        hostname: lb.dns_name().unwrap_or("").to_string(),
        security_groups: lb.security_groups().to_vec(),
    }
}

/// `getLoadBalancerSubnets`: the annotation's subnets, else discovery.
pub(crate) async fn load_balancer_subnets(
    ctx: &FlowContext,
    service: &ServiceSpec,
    internal: bool,
) -> Result<Vec<String>, FlowError> {
    match service.annotation(svc::SUBNETS) {
        Some(raw) => {
            let list: Vec<String> = raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            resolve_subnets(ctx, &list).await
        }
        None => find_elb_subnets(ctx, internal).await,
    }
}

/// `resolveSubnetNameOrIDs` for the subnets annotation.
async fn resolve_subnets(ctx: &FlowContext, raw: &[String]) -> Result<Vec<String>, FlowError> {
    if raw.is_empty() {
        return Err(FlowError::msg("unable to resolve empty subnet slice"));
    }
    let (ids, names): (Vec<&String>, Vec<&String>) =
        raw.iter().partition(|s| s.starts_with("subnet-"));
    let mut resolved = Vec::new();
    if !ids.is_empty() {
        let out = call(ctx, super::api::EC2, "DescribeSubnets", || {
            ctx.ec2
                .describe_subnets()
                .set_subnet_ids(Some(ids.iter().map(|s| s.to_string()).collect()))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
        resolved.extend(
            out.subnets()
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(str::to_string),
        );
    }
    if !names.is_empty() {
        let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let out = call(ctx, super::api::EC2, "DescribeSubnets", || {
            ctx.ec2
                .describe_subnets()
                .filters(network::filter("tag:Name", &name_refs))
                .filters(network::filter("vpc-id", &[&ctx.vpc_id]))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
        resolved.extend(
            out.subnets()
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(str::to_string),
        );
    }
    if resolved.len() != raw.len() {
        return Err(FlowError::msg(format!(
            "expected to find {}, but found {} subnets",
            raw.len(),
            resolved.len()
        )));
    }
    Ok(resolved)
}

/// `EnsureLoadBalancer` for a classic ELB.
pub async fn ensure(
    ctx: &FlowContext,
    input: &LoadBalancerInput,
) -> Result<LoadBalancerStatus, FlowError> {
    let service = &input.service;
    if service.ports.is_empty() {
        return Err(FlowError::msg("requested load balancer with no ports"));
    }
    let source_ranges = service.source_ranges().map_err(FlowError::msg)?;
    let listeners: Vec<Listener> = service
        .ports
        .iter()
        .filter(|p| p.node_port != 0)
        .map(|p| build_listener(service, p))
        .collect::<Result<_, _>>()?;

    let instances = instances_for_elb(ctx, &input.nodes).await?;
    let internal = service.internal();

    let proxy_protocol = match service.annotation(svc::PROXY_PROTOCOL).map(String::as_str) {
        None | Some("") => false,
        Some("*") => true,
        Some(v) => {
            return Err(FlowError::msg(format!(
                "annotation {}={} detected, but the only value supported currently is '*'",
                go_quote(svc::PROXY_PROTOCOL),
                go_quote(v)
            )))
        }
    };
    let attributes = desired_attributes(service)?;

    let subnets = load_balancer_subnets(ctx, service, internal).await?;
    if subnets.is_empty() {
        return Err(FlowError::msg(
            "could not find any suitable subnets for creating the ELB",
        ));
    }

    let name = service.load_balancer_name();
    // buildELBSecurityGroupList
    let mut security_groups = service.sg_list(svc::SECURITY_GROUPS);
    let mut setup_sg = false;
    if security_groups.is_empty() {
        let sg_name = format!("k8s-elb-{name}");
        let description = format!(
            "Security group for Kubernetes ELB {name} ({})",
            service.namespaced_name()
        );
        let id = ensure_security_group(
            ctx,
            &sg_name,
            &description,
            &key_values(service.annotation(svc::ADDITIONAL_TAGS)),
        )
        .await?;
        security_groups.push(id);
        setup_sg = true;
    }
    security_groups.extend(service.sg_list(svc::EXTRA_SECURITY_GROUPS));

    if setup_sg {
        let mut wanted = BTreeSet::new();
        for p in &service.ports {
            for cidr in &source_ranges {
                wanted.insert(Perm {
                    protocol: p.protocol.to_lowercase(),
                    from: Some(p.port),
                    to: Some(p.port),
                    cidr: Some(cidr.clone()),
                    description: None,
                    group: None,
                });
            }
        }
        // Allow ICMP fragmentation packets, important for MTU discovery.
        for cidr in &source_ranges {
            wanted.insert(Perm {
                protocol: "icmp".into(),
                from: Some(3),
                to: Some(4),
                cidr: Some(cidr.clone()),
                description: None,
                group: None,
            });
        }
        set_security_group_ingress(ctx, &security_groups[0], &wanted)
            .await
            .map_err(|e| FlowError {
                message: format!(
                    "creating ingress rules for security group {}: {}",
                    go_quote(&security_groups[0]),
                    e.message
                ),
                ..e
            })?;
    }

    let lb = ensure_load_balancer(
        ctx,
        service,
        &name,
        &listeners,
        &subnets,
        &security_groups,
        internal,
        proxy_protocol,
        &attributes,
    )
    .await?
    .ok_or_else(|| FlowError::msg(format!("load balancer {name} not found after creation")))?;

    ensure_ssl_negotiation(ctx, service, &lb).await?;

    let tcp_port = listeners.first().map(|l| l.instance_port()).unwrap_or(0);
    match service.health_check_path_port() {
        Some((path, mut port)) => {
            if service.annotation(svc::HC_PORT).map(String::as_str) == Some(svc::TRAFFIC_PORT) {
                port = tcp_port;
            }
            ensure_health_check(ctx, service, &lb, "HTTP".into(), port, &path)
                .await
                .map_err(|e| FlowError {
                    message: format!(
                        "Failed to ensure health check for localized service {name} on node port {port}: {}",
                        go_quote(&e.message)
                    ),
                    ..e
                })?;
        }
        None => {
            let be = service
                .annotation(svc::BE_PROTOCOL)
                .map(|s| s.to_lowercase())
                .unwrap_or_default();
            let protocol = if be == "https" || be == "ssl" {
                "SSL"
            } else {
                "TCP"
            };
            ensure_health_check(ctx, service, &lb, protocol.into(), tcp_port, "").await?;
        }
    }

    update_instance_security_groups(ctx, service, &lb, &instances, false).await?;
    ensure_instances(ctx, &name, &lb, &instances).await?;
    Ok(status(&lb))
}

/// `UpdateLoadBalancer` for a classic ELB: instances, then instance security groups.
pub async fn update(
    ctx: &FlowContext,
    input: &LoadBalancerInput,
) -> Result<LoadBalancerStatus, FlowError> {
    let service = &input.service;
    let instances = instances_for_elb(ctx, &input.nodes).await?;
    let name = service.load_balancer_name();
    let Some(lb) = describe(ctx, &name).await.map_err(|e| FlowError::api(&e))? else {
        return Err(FlowError::msg("Load balancer not found"));
    };
    ensure_ssl_negotiation(ctx, service, &lb).await?;
    ensure_instances(ctx, &name, &lb, &instances).await?;
    update_instance_security_groups(ctx, service, &lb, &instances, false).await?;
    Ok(status(&lb))
}

/// What delete did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deleted {
    /// False when there was nothing to delete.
    pub deleted: bool,
    /// The security groups it deleted.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

/// `buildSecurityGroupsToDelete`: the LB's groups with the cluster tag that are not named by the
/// Service's annotations; for an NLB only `owned` ones.
pub async fn security_groups_to_delete(
    ctx: &FlowContext,
    service: &ServiceSpec,
    lb_groups: &[String],
) -> Result<(BTreeSet<String>, BTreeSet<String>), FlowError> {
    let refs: Vec<&str> = lb_groups.iter().map(String::as_str).collect();
    let out = call(ctx, super::api::EC2, "DescribeSecurityGroups", || {
        ctx.ec2
            .describe_security_groups()
            .filters(network::filter("group-id", &refs))
            .send()
    })
    .await
    .map_err(|e| FlowError::wrap(&e, "error querying security groups for ELB: ", true, ""))?;
    let mut annotated = service.sg_list(svc::SECURITY_GROUPS);
    annotated.extend(service.sg_list(svc::EXTRA_SECURITY_GROUPS));
    let t = network::tagging(ctx);
    let mut delete = BTreeSet::new();
    let mut tagged = BTreeSet::new();
    for g in out.security_groups() {
        let id = g.group_id().unwrap_or("").to_string();
        if id.is_empty() || !t.has_cluster_tag(ec2_pairs(g.tags())) {
            continue;
        }
        tagged.insert(id.clone());
        if service.is_nlb() && !t.has_cluster_tag_owned(ec2_pairs(g.tags())) {
            continue;
        }
        if annotated.contains(&id) {
            continue;
        }
        delete.insert(id);
    }
    Ok((delete, tagged))
}

/// `EnsureLoadBalancerDeleted` for a classic ELB.
pub async fn delete(ctx: &FlowContext, input: &LoadBalancerInput) -> Result<Deleted, FlowError> {
    let service = &input.service;
    let name = service.load_balancer_name();
    let Some(lb) = describe(ctx, &name).await.map_err(|e| FlowError::api(&e))? else {
        return Ok(Deleted {
            deleted: false,
            security_groups: Vec::new(),
        });
    };
    let (to_delete, tagged) = security_groups_to_delete(ctx, service, lb.security_groups())
        .await
        .map_err(|e| FlowError {
            message: format!("unable to build security groups to delete: {}", e.message),
            ..e
        })?;
    let mut lb_groups: Vec<String> = lb.security_groups().to_vec();
    if lb_groups.is_empty() {
        return Err(FlowError::msg(format!(
            "could not determine security group for load balancer: {name}"
        )));
    }
    sort_security_groups(&mut lb_groups, service, &tagged);
    let deleting_lb_group = to_delete.contains(&lb_groups[0]);
    update_instance_security_groups(ctx, service, &lb, &BTreeMap::new(), deleting_lb_group).await?;

    call(ctx, ELB, "DeleteLoadBalancer", || {
        ctx.elb
            .delete_load_balancer()
            .load_balancer_name(&name)
            .send()
    })
    .await
    .map_err(|e| FlowError::api(&e))?;

    delete_security_groups_with_backoff(ctx, &service.name, &to_delete).await?;
    Ok(Deleted {
        deleted: true,
        security_groups: to_delete.into_iter().collect(),
    })
}
