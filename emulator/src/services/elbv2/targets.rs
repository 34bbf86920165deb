//! Targets of a group: RegisterTargets (instances must exist, be running and sit in the group's
//! VPC), DeregisterTargets (the target drains for the group's deregistration delay) and
//! DescribeTargetHealth (see `target_health` for how each state comes about).

use std::net::IpAddr;

use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::ec2::instances::network;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::services::ec2::{common, instances};
use crate::services::Call;
use crate::state::timing::Durations;
use crate::state::{read, write};

use super::arn::{self, Kind};
use super::attributes;
use super::errors::{self, check_enum, check_length, check_range, validation};
use super::model::{LbType, Registration, TargetGroup};
use super::target_health::{self, Health};
use super::ON_TARGET_GROUP;

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("RegisterTargets", register_targets).on(ON_TARGET_GROUP),
    Action::new("DeregisterTargets", deregister_targets).on(ON_TARGET_GROUP),
    Action::new("DescribeTargetHealth", describe_target_health).on(ON_TARGET_GROUP),
];

/// AWS's quota of targets per target group.
pub const MAX_TARGETS: usize = 1000;

/// One `Targets.member.N` as given (or as Auto Scaling registers an instance: its id and the
/// group's port).
#[derive(Debug, Clone)]
pub(crate) struct TargetInput<'a> {
    pub id: &'a str,
    pub port: Option<i64>,
    pub zone: Option<&'a str>,
}

fn read_targets<'a>(p: &Scope<'a>, required: bool) -> AwsResult<Vec<TargetInput<'a>>> {
    let items = if required {
        p.required_structs("Targets")?
    } else {
        p.structs("Targets")?
    };
    let mut out = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let n = i + 1;
        let id = t.required("Id")?;
        let port = t.int("Port")?;
        check_range(&format!("targets.member.{n}.port"), port, 1, 65535)?;
        let zone = t.str("AvailabilityZone");
        if let Some(q) = t.str("QuicServerId") {
            check_length(&format!("targets.member.{n}.quicServerId"), q, 1, 256)?;
        }
        out.push(TargetInput { id, port, zone });
    }
    Ok(out)
}

fn invalid_target(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidTarget", message)
}

/// `'a', 'b'`, as InvalidTarget messages list targets.
fn quoted(ids: &[&str]) -> String {
    ids.iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The group named by an ARN, or AWS's answers for a malformed or unknown one.
fn group<'a>(r: &'a Ec2Region, tg_arn: &str) -> AwsResult<&'a TargetGroup> {
    arn::check(Kind::TargetGroup, tg_arn)?;
    r.elbv2
        .target_groups
        .get(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))
}

/// Refuses target ids that cannot be of the group's type (before any look-up).
fn check_id_forms(tg: &TargetGroup, targets: &[TargetInput<'_>]) -> AwsResult<()> {
    for t in targets {
        match tg.config.target_type.as_str() {
            "instance" => {
                if !common::well_formed(t.id, instances::INSTANCE.prefix) {
                    return Err(validation(format!("Instance ID '{}' is not valid", t.id)));
                }
            }
            "ip" => {
                let v6 = tg.config.ip_address_type.as_deref() == Some("ipv6");
                let ok = match t.id.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => !v6,
                    Ok(IpAddr::V6(_)) => v6,
                    Err(_) => false,
                };
                if !ok {
                    return Err(validation(format!(
                        "The IP address '{}' is not a valid {} address",
                        t.id,
                        if v6 { "IPv6" } else { "IPv4" }
                    )));
                }
            }
            "lambda" => {
                if !t.id.starts_with("arn:aws:lambda:") || !t.id.contains(":function:") {
                    return Err(validation(format!(
                        "The Lambda function ARN '{}' is not valid",
                        t.id
                    )));
                }
            }
            _ => arn::check(Kind::LoadBalancer, t.id)?,
        }
    }
    Ok(())
}

/// Instances among `targets` that do not exist (or are gone).
fn missing_instances<'a>(
    r: &Ec2Region,
    targets: &[TargetInput<'a>],
    call: &Call<'_>,
) -> Vec<&'a str> {
    let d = &call.world.durations;
    targets
        .iter()
        .filter(|t| {
            !r.instances.get(t.id).is_some_and(|i| {
                instances::visible(i, call.now_ms, d)
                    && i.state.at(call.now_ms) != InstanceState::Terminated
            })
        })
        .map(|t| t.id)
        .collect()
}

/// Checks the targets against EC2 and the group: they exist, sit in its VPC (or a private range,
/// for IP targets outside it) and, for instances, are running. RegisterTargets refuses with this
/// answer; Auto Scaling skips an instance that fails it, as a failed registration.
pub(crate) fn check_registrable(
    r: &Ec2Region,
    tg: &TargetGroup,
    targets: &[TargetInput<'_>],
    call: &Call<'_>,
) -> AwsResult<()> {
    let vpc = tg.config.vpc_id.as_deref().unwrap_or("");
    match tg.config.target_type.as_str() {
        "instance" => {
            if let Some(t) = targets.iter().find(|t| t.zone.is_some()) {
                return Err(validation(format!(
                    "An Availability Zone cannot be specified for target '{}' of a target group with target type 'instance'",
                    t.id
                )));
            }
            let missing = missing_instances(r, targets, call);
            if !missing.is_empty() {
                return Err(invalid_target(format!(
                    "The following instances do not exist: {}",
                    quoted(&missing)
                )));
            }
            let elsewhere: Vec<&str> = targets
                .iter()
                .filter(|t| r.instances.get(t.id).is_some_and(|i| i.vpc_id != vpc))
                .map(|t| t.id)
                .collect();
            if !elsewhere.is_empty() {
                return Err(invalid_target(format!(
                    "The following targets are not in the target group VPC '{vpc}': {}",
                    quoted(&elsewhere)
                )));
            }
            let not_running: Vec<&str> = targets
                .iter()
                .filter(|t| {
                    r.instances
                        .get(t.id)
                        .is_some_and(|i| i.state.at(call.now_ms) != InstanceState::Running)
                })
                .map(|t| t.id)
                .collect();
            if !not_running.is_empty() {
                return Err(invalid_target(format!(
                    "The following targets are not in a running state and cannot be registered: {}",
                    quoted(&not_running)
                )));
            }
        }
        "ip" => {
            let vpc_cidr = r.vpcs.get(vpc).map(|v| v.cidr.as_str()).unwrap_or("");
            for t in targets {
                let inside = match t.id.parse::<std::net::Ipv4Addr>() {
                    Ok(a) => network::parse_cidr(vpc_cidr).is_some_and(|(net, len)| {
                        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                        u32::from(a) & mask == net
                    }),
                    Err(_) => false,
                };
                let private = match t.id.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => {
                        let o = a.octets();
                        a.is_private() || (o[0] == 100 && (64..128).contains(&o[1]))
                    }
                    _ => false,
                };
                if !inside && !private {
                    return Err(invalid_target(format!(
                        "The IP address '{}' is outside the VPC and not in a private address range",
                        t.id
                    )));
                }
                if inside && t.zone == Some("all") {
                    return Err(validation(format!(
                        "The Availability Zone 'all' can be specified only for IP addresses outside the VPC, not '{}'",
                        t.id
                    )));
                }
            }
        }
        "lambda" => {
            if targets.len() > 1 {
                return Err(AwsError::bad_request(
                    "TooManyTargets",
                    "A target group with target type 'lambda' can have only one target",
                ));
            }
        }
        _ => {
            for t in targets {
                let ok = r
                    .elbv2
                    .load_balancers
                    .get(t.id)
                    .is_some_and(|lb| lb.kind == LbType::Application && lb.vpc_id == vpc);
                if !ok {
                    return Err(invalid_target(format!(
                        "The following targets are not Application Load Balancers in VPC '{vpc}': '{}'",
                        t.id
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Drops registrations that are over: drained ones, and those of instances EC2 no longer has.
/// Writers call it before they decide, so limits count live targets only.
pub(crate) fn settle(r: &mut Ec2Region, now: i64, d: &Durations) {
    let Ec2Region {
        instances, elbv2, ..
    } = r;
    for tg in elbv2.target_groups.values_mut() {
        let by_instance = tg.config.target_type == "instance";
        tg.targets.retain(|reg| {
            reg.present(now)
                && (!by_instance
                    || instances
                        .get(&reg.id)
                        .is_some_and(|i| instances::visible(i, now, d)))
        });
    }
}

/// The port a registration uses: the target's own, else the group's.
fn port_of(tg: &TargetGroup, t: &TargetInput<'_>) -> Option<i64> {
    t.port.or(tg.config.port)
}

/// Registers targets (already checked) with group `tg_arn` from `now`: a target already
/// registered on that port keeps its registration, a draining one is registered again (which
/// cancels its deregistration); at most [`MAX_TARGETS`]. The one place registrations are made:
/// RegisterTargets and Auto Scaling both call it.
pub(crate) fn register(
    r: &mut Ec2Region,
    tg_arn: &str,
    targets: &[TargetInput<'_>],
    now: i64,
) -> AwsResult<()> {
    let tg = r
        .elbv2
        .target_groups
        .get_mut(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))?;
    let mut regs = tg.targets.clone();
    for t in targets {
        let port = port_of(tg, t);
        match regs.iter_mut().find(|g| g.id == t.id && g.port == port) {
            Some(g) if g.draining_until_ms.is_some() => {
                g.draining_until_ms = None;
                g.registered_ms = now;
            }
            Some(_) => {}
            None => regs.push(Registration {
                id: t.id.to_string(),
                port,
                availability_zone: t.zone.map(str::to_string),
                registered_ms: now,
                draining_until_ms: None,
            }),
        }
    }
    if regs.len() > MAX_TARGETS {
        return Err(AwsError::bad_request(
            "TooManyTargets",
            format!("A target group can have at most {MAX_TARGETS} registered targets"),
        ));
    }
    tg.targets = regs;
    Ok(())
}

/// Deregisters targets (id, port: `None` for the group's) from group `tg_arn` at `now`: each
/// drains for the group's deregistration delay, then is gone. Targets not registered are left
/// alone. RegisterTargets and Auto Scaling both call it.
pub(crate) fn deregister(
    r: &mut Ec2Region,
    tg_arn: &str,
    targets: &[TargetInput<'_>],
    now: i64,
) -> AwsResult<()> {
    let tg = r
        .elbv2
        .target_groups
        .get_mut(tg_arn)
        .ok_or_else(|| errors::target_group_not_found(tg_arn))?;
    let delay = attributes::deregistration_delay_ms(tg);
    let wanted: Vec<(&str, Option<i64>)> = targets.iter().map(|t| (t.id, port_of(tg, t))).collect();
    for reg in tg.targets.iter_mut() {
        if reg.draining_until_ms.is_none() && wanted.contains(&(reg.id.as_str(), reg.port)) {
            reg.draining_until_ms = Some(now + delay);
        }
    }
    tg.targets.retain(|reg| reg.present(now));
    Ok(())
}

pub fn register_targets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    let targets = read_targets(&p, true)?;
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    settle(&mut r, now, &call.world.durations);
    let tg = group(&r, tg_arn)?;
    check_id_forms(tg, &targets)?;
    check_registrable(&r, tg, &targets, call)?;
    register(&mut r, tg_arn, &targets, now)?;
    call.writer().finish()
}

/// A target that is not registered deregisters successfully, as AWS documents.
pub fn deregister_targets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    let targets = read_targets(&p, true)?;
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    settle(&mut r, now, &call.world.durations);
    let tg = group(&r, tg_arn)?;
    check_id_forms(tg, &targets)?;
    deregister(&mut r, tg_arn, &targets, now)?;
    call.writer().finish()
}

pub fn describe_target_health(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let tg_arn = p.required("TargetGroupArn")?;
    let targets = read_targets(&p, false)?;
    let include = p.strings("Include")?;
    for (i, v) in include.iter().enumerate() {
        check_enum(
            &format!("include.member.{}", i + 1),
            v,
            &["AnomalyDetection", "All"],
        )?;
    }
    call.params()?.finish()?;
    let now = call.now_ms;
    let d = &call.world.durations;
    let lock = common::region(call)?;
    let r = read(&lock);
    let tg = group(&r, tg_arn)?;
    check_id_forms(tg, &targets)?;
    let mut rows: Vec<(Registration, Health)> = Vec::new();
    if targets.is_empty() {
        for reg in &tg.targets {
            if let Some(h) = target_health::of(&r, tg, reg, now, d) {
                rows.push((reg.clone(), h));
            }
        }
    } else {
        if tg.config.target_type == "instance" {
            let missing = missing_instances(&r, &targets, call);
            if !missing.is_empty() {
                return Err(invalid_target(format!(
                    "The following instances do not exist: {}",
                    quoted(&missing)
                )));
            }
        }
        for t in &targets {
            let mut found = false;
            for reg in tg
                .targets
                .iter()
                .filter(|g| g.id == t.id && (t.port.is_none() || g.port == t.port))
            {
                if let Some(h) = target_health::of(&r, tg, reg, now, d) {
                    rows.push((reg.clone(), h));
                    found = true;
                }
            }
            if !found {
                let reg = Registration {
                    id: t.id.to_string(),
                    port: port_of(tg, t),
                    availability_zone: t.zone.map(str::to_string),
                    registered_ms: now,
                    draining_until_ms: None,
                };
                rows.push((reg, Health::not_registered()));
            }
        }
    }
    let anomaly = matches!(tg.config.protocol.as_deref(), Some("HTTP" | "HTTPS"))
        && include
            .iter()
            .any(|i| *i == "AnomalyDetection" || *i == "All");
    let mut w = call.writer();
    w.list("TargetHealthDescriptions", &rows, |w, (reg, h)| {
        w.structure("Target", |w| {
            w.str("Id", &reg.id)
                .int_opt("Port", reg.port)
                .str_opt("AvailabilityZone", reg.availability_zone.as_deref());
        });
        let hc_port = match tg.config.health.port.as_deref() {
            Some("traffic-port") => reg.port.map(|p| p.to_string()),
            other => other.map(str::to_string),
        };
        w.str_opt("HealthCheckPort", hc_port);
        w.structure("TargetHealth", |w| {
            w.str("State", h.state)
                .str_opt("Reason", h.reason)
                .str_opt("Description", h.description);
        });
        if anomaly {
            w.structure("AnomalyDetection", |w| {
                w.str("Result", "normal").str("MitigationInEffect", "no");
            });
        }
        w.structure("AdministrativeOverride", |w| {
            w.str("State", "no_override")
                .str("Reason", "AdministrativeOverride.NoOverride")
                .str("Description", "No override is currently active on target");
        });
    });
    w.finish()
}
