//! Target groups: CreateTargetGroup (idempotent for identical settings), DescribeTargetGroups
//! (by ARN, name or load balancer, paged), ModifyTargetGroup (health checks) and
//! DeleteTargetGroup (refused while a listener forwards to the group).

use crate::protocol::{AwsError, AwsResult, Output, Writer};
use crate::services::action::{Action, Request, TagsIn};
use crate::services::ec2::common;
use crate::services::Call;
use crate::state::paging::Page;
use crate::state::{read, write};

use super::arn::{self, Kind};
use super::errors::{self, check_enum, check_range, validation};
use super::health_checks::{self, HealthInput, PROTOCOLS};
use super::model::{Elbv2, HealthCheck, TargetGroup, TargetGroupConfig};
use super::{attributes, names, tags};
use super::{tagged_at, ON_LOAD_BALANCER, ON_TARGET_GROUP};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateTargetGroup", create_target_group)
        .tags(TagsIn::Set("Tags.member"))
        .creates(tagged_at(new_target_group)),
    Action::new("DescribeTargetGroups", describe_target_groups).on(ON_LOAD_BALANCER),
    Action::new("ModifyTargetGroup", modify_target_group).on(ON_TARGET_GROUP),
    Action::new("DeleteTargetGroup", delete_target_group).on(ON_TARGET_GROUP),
];

/// What CreateTargetGroup makes: `targetgroup/NAME/*`.
fn new_target_group(r: &Request<'_>) -> Option<String> {
    r.value("Name")
        .map(|name| arn::target_group(r.region, r.account, name, "*"))
}

/// AWS's default quota of target groups per region.
pub const MAX_TARGET_GROUPS: usize = 3000;

const TARGET_TYPES: &[&str] = &["instance", "ip", "lambda", "alb"];

fn is_http(protocol: Option<&str>) -> bool {
    matches!(protocol, Some("HTTP" | "HTTPS"))
}

/// Checks the group-level settings (everything but the health check) as AWS does.
fn check_config(c: &TargetGroupConfig) -> AwsResult<()> {
    let lambda = c.target_type == "lambda";
    if lambda {
        for (given, what) in [
            (c.protocol.is_some(), "protocol"),
            (c.port.is_some(), "port"),
            (c.vpc_id.is_some(), "VPC ID"),
        ] {
            if given {
                return Err(validation(format!(
                    "A {what} cannot be specified for target groups with target type 'lambda'"
                )));
            }
        }
    } else {
        if c.protocol.is_none() {
            return Err(validation("A protocol must be specified"));
        }
        if c.port.is_none() {
            return Err(validation("A port must be specified"));
        }
        if c.vpc_id.is_none() {
            return Err(validation("A VPC ID must be specified"));
        }
    }
    let protocol = c.protocol.as_deref();
    if c.protocol_version.is_some() && !is_http(protocol) {
        return Err(validation(
            "A protocol version can be specified only for target groups with the HTTP or HTTPS protocol",
        ));
    }
    if protocol == Some("GENEVE") && c.port != Some(6081) {
        return Err(validation(
            "Port must be 6081 for target groups with the 'GENEVE' protocol",
        ));
    }
    if c.target_type == "alb" && protocol != Some("TCP") {
        return Err(validation(
            "Target groups with target type 'alb' must use the 'TCP' protocol",
        ));
    }
    if c.ip_address_type.as_deref() == Some("ipv6") && c.target_type != "ip" {
        return Err(validation(
            "The IP address type 'ipv6' is supported only for target groups with target type 'ip'",
        ));
    }
    if c.target_control_port.is_some() && !is_http(protocol) {
        return Err(validation(
            "A target control port can be specified only for target groups with the HTTP or HTTPS protocol",
        ));
    }
    health_checks::check(c)
}

pub fn create_target_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("Name")?;
    let protocol = p.str("Protocol");
    if let Some(v) = protocol {
        check_enum("protocol", v, PROTOCOLS)?;
    }
    let protocol_version = p.str("ProtocolVersion");
    let port = p.int("Port")?;
    check_range("port", port, 1, 65535)?;
    let vpc_id = p.str("VpcId");
    let health_input = HealthInput::read(&p)?;
    let target_type = p.str("TargetType").unwrap_or("instance");
    check_enum("targetType", target_type, TARGET_TYPES)?;
    let ip_address_type = p.str("IpAddressType");
    if let Some(v) = ip_address_type {
        check_enum("ipAddressType", v, &["ipv4", "ipv6"])?;
    }
    let control_port = p.int("TargetControlPort")?;
    check_range("targetControlPort", control_port, 1, 65535)?;
    let new_tags = tags::parse(&p.structs("Tags")?)?;
    call.params()?.finish()?;

    names::check_target_group(name)?;
    let version = match protocol_version {
        None if is_http(protocol) => Some("HTTP1".to_string()),
        None => None,
        Some(v) => {
            let upper = v.to_ascii_uppercase();
            if !matches!(upper.as_str(), "HTTP1" | "HTTP2" | "GRPC") {
                return Err(validation(format!(
                    "Protocol version '{v}' is not supported; use HTTP1, HTTP2 or GRPC"
                )));
            }
            Some(upper)
        }
    };
    let lambda = target_type == "lambda";
    let mut config = TargetGroupConfig {
        protocol: protocol.map(str::to_string),
        port,
        vpc_id: vpc_id.map(str::to_string),
        protocol_version: if lambda { None } else { version },
        target_type: target_type.to_string(),
        ip_address_type: (!lambda).then(|| ip_address_type.unwrap_or("ipv4").to_string()),
        target_control_port: control_port,
        health: HealthCheck::default(),
    };
    config.health = health_checks::for_new_group(&config, health_input);
    check_config(&config)?;
    let tag_set = tags::initial(&new_tags, Kind::TargetGroup)?;

    let lock = common::region(call)?;
    let mut r = write(&lock);
    if let Some(vpc) = config.vpc_id.as_deref() {
        if !r.vpcs.contains_key(vpc) {
            return Err(validation(format!("The VPC ID '{vpc}' is not found")));
        }
    }
    if let Some(existing) = r.elbv2.target_groups.values().find(|t| t.name == name) {
        if existing.config != config {
            return Err(AwsError::bad_request(
                "DuplicateTargetGroupName",
                format!(
                    "A target group with the same name '{name}' exists, but with different settings"
                ),
            ));
        }
        let mut w = call.writer();
        w.list("TargetGroups", [existing], |w, tg| render(w, &r.elbv2, tg));
        return w.finish();
    }
    if r.elbv2.target_groups.len() >= MAX_TARGET_GROUPS {
        return Err(AwsError::bad_request(
            "TooManyTargetGroups",
            format!("You've reached the limit of {MAX_TARGET_GROUPS} target groups"),
        ));
    }
    let tg_arn = arn::target_group(call.region, call.account, name, &call.world.ids.hex(16));
    let tg = TargetGroup {
        arn: tg_arn.clone(),
        name: name.to_string(),
        attributes: attributes::target_group_defaults(&config),
        config,
        targets: Vec::new(),
        in_use_since_ms: None,
        seq: r.elbv2.next_seq(),
        tags: tag_set,
    };
    r.elbv2.target_groups.insert(tg_arn, tg.clone());
    let mut w = call.writer();
    w.list("TargetGroups", [&tg], |w, tg| render(w, &r.elbv2, tg));
    w.finish()
}

pub fn describe_target_groups(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.str("LoadBalancerArn");
    let tg_arns = p.strings("TargetGroupArns")?;
    let tg_names = p.strings("Names")?;
    let page = Page::read_marker(&p)?;
    call.params()?.finish()?;
    let filters = usize::from(lb_arn.is_some())
        + usize::from(!tg_arns.is_empty())
        + usize::from(!tg_names.is_empty());
    if filters > 1 {
        return Err(validation(
            "Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time",
        ));
    }
    if let Some(a) = lb_arn {
        arn::check(Kind::LoadBalancer, a)?;
    }
    for a in &tg_arns {
        arn::check(Kind::TargetGroup, a)?;
    }
    let lock = common::region(call)?;
    let r = read(&lock);
    let e = &r.elbv2;
    let mut groups: Vec<&TargetGroup> = if let Some(a) = lb_arn {
        if !e.load_balancers.contains_key(a) {
            return Err(errors::load_balancer_not_found());
        }
        e.target_groups_of(a)
    } else {
        e.target_groups
            .values()
            .filter(|tg| {
                (tg_arns.is_empty() || tg_arns.contains(&tg.arn.as_str()))
                    && (tg_names.is_empty() || tg_names.contains(&tg.name.as_str()))
            })
            .collect()
    };
    let missing_arn = tg_arns.iter().any(|a| !e.target_groups.contains_key(*a));
    let missing_name = tg_names
        .iter()
        .any(|n| !e.target_groups.values().any(|tg| tg.name == *n));
    if missing_arn || missing_name {
        return Err(errors::target_groups_not_found());
    }
    groups.sort_by_key(|tg| tg.seq);
    let (shown, next) = page.apply(groups)?;
    let mut w = call.writer();
    w.list("TargetGroups", shown, |w, tg| render(w, e, tg));
    w.str_opt("NextMarker", next);
    w.finish()
}

pub fn modify_target_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    let input = HealthInput::read(&p)?;
    call.params()?.finish()?;
    arn::check(Kind::TargetGroup, tg_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let tg = r
        .elbv2
        .target_groups
        .get(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))?;
    let mut config = tg.config.clone();
    config.health = health_checks::modified(&tg.config, input);
    check_config(&config)?;
    if let Some(tg) = r.elbv2.target_groups.get_mut(tg_arn) {
        tg.config = config;
    }
    let e = &r.elbv2;
    let tg = e.target_groups.get(tg_arn).ok_or_else(AwsError::internal)?;
    let mut w = call.writer();
    w.list("TargetGroups", [tg], |w, tg| render(w, e, tg));
    w.finish()
}

/// Succeeds for a group that does not exist (AWS models no NotFound here); refuses one that a
/// listener still forwards to.
pub fn delete_target_group(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    call.params()?.finish()?;
    arn::check(Kind::TargetGroup, tg_arn)?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    if !r.elbv2.load_balancers_of(tg_arn).is_empty() {
        return Err(AwsError::bad_request(
            "ResourceInUse",
            format!("Target group '{tg_arn}' is currently in use by a listener or a rule"),
        ));
    }
    r.elbv2.target_groups.remove(tg_arn);
    call.writer().finish()
}

/// The members of a `TargetGroup`.
pub fn render(w: &mut Writer, e: &Elbv2, tg: &TargetGroup) {
    let c = &tg.config;
    let h = &c.health;
    w.str("TargetGroupArn", &tg.arn)
        .str("TargetGroupName", &tg.name)
        .str_opt("Protocol", c.protocol.as_deref())
        .int_opt("Port", c.port)
        .str_opt("VpcId", c.vpc_id.as_deref())
        .str_opt("HealthCheckProtocol", h.protocol.as_deref())
        .str_opt("HealthCheckPort", h.port.as_deref())
        .bool("HealthCheckEnabled", h.enabled)
        .int("HealthCheckIntervalSeconds", h.interval)
        .int("HealthCheckTimeoutSeconds", h.timeout)
        .int("HealthyThresholdCount", h.healthy_threshold)
        .int("UnhealthyThresholdCount", h.unhealthy_threshold)
        .str_opt("HealthCheckPath", h.path.as_deref());
    if h.matcher_http.is_some() || h.matcher_grpc.is_some() {
        w.structure("Matcher", |w| {
            w.str_opt("HttpCode", h.matcher_http.as_deref())
                .str_opt("GrpcCode", h.matcher_grpc.as_deref());
        });
    }
    w.strs("LoadBalancerArns", e.load_balancers_of(&tg.arn));
    w.str("TargetType", &c.target_type)
        .str_opt("ProtocolVersion", c.protocol_version.as_deref())
        .str_opt("IpAddressType", c.ip_address_type.as_deref())
        .int_opt("TargetControlPort", c.target_control_port);
}
