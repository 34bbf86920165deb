//! The health check (ConfigureHealthCheck), instance registration
//! (Register/DeregisterInstancesWithLoadBalancer) and DescribeInstanceHealth.
//!
//! Health is derived at each call, not stored: an instance is `InService` once it has run and been
//! registered for the health-check time of the timing profile (`target_initial`), and
//! `OutOfService` with AWS's reason while registering, when not running, or when its zone is not
//! one of the load balancer's.

use crate::protocol::{AwsError, AwsResult, Output, Scope, Writer};
use crate::services::action::Action;
use crate::services::ec2::instances::visible;
use crate::services::ec2::model::{Ec2Region, Instance, InstanceState};
use crate::services::{ec2::common, Call};
use crate::state::{self, timing::Durations};

use super::load_balancers::zones_of;
use super::model::{HealthCheck, LoadBalancer, Registration};
use super::{find, find_mut, required_bounded, validation, ON_LOAD_BALANCER};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("ConfigureHealthCheck", configure_health_check).on(ON_LOAD_BALANCER),
    Action::new("RegisterInstancesWithLoadBalancer", register_instances).on(ON_LOAD_BALANCER),
    Action::new("DeregisterInstancesFromLoadBalancer", deregister_instances).on(ON_LOAD_BALANCER),
    Action::new("DescribeInstanceHealth", describe_instance_health),
];

/// `TCP:port`, `SSL:port`, `HTTP:port/path` or `HTTPS:port/path`.
fn check_target(target: &str) -> AwsResult<()> {
    let bad = |why: &str| validation(format!("HealthCheck Target '{target}' is invalid: {why}"));
    let (proto, rest) = target
        .split_once(':')
        .ok_or_else(|| bad("it must begin with one of HTTP, TCP, HTTPS, SSL followed by ':'"))?;
    let layer7 = match proto.to_ascii_uppercase().as_str() {
        "HTTP" | "HTTPS" => true,
        "TCP" | "SSL" => false,
        _ => return Err(bad("it must begin with one of HTTP, TCP, HTTPS, SSL")),
    };
    let (port, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if !port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
        return Err(bad("the port must be a number from 1 to 65535"));
    }
    match (layer7, path) {
        (true, None) => Err(bad(
            "HTTP and HTTPS targets need a path, such as HTTP:80/index.html",
        )),
        (false, Some(_)) => Err(bad("TCP and SSL targets take no path")),
        _ => Ok(()),
    }
}

fn parse_health_check(p: &Scope<'_>) -> AwsResult<HealthCheck> {
    if !p.has("HealthCheck") {
        p.required("HealthCheck")?;
    }
    let h = p.nested("HealthCheck");
    let hc = HealthCheck {
        target: h.required("Target")?.to_string(),
        interval: required_bounded(&h, "Interval", "healthCheck.interval", 5, 300)?,
        timeout: required_bounded(&h, "Timeout", "healthCheck.timeout", 2, 60)?,
        unhealthy_threshold: required_bounded(
            &h,
            "UnhealthyThreshold",
            "healthCheck.unhealthyThreshold",
            2,
            10,
        )?,
        healthy_threshold: required_bounded(
            &h,
            "HealthyThreshold",
            "healthCheck.healthyThreshold",
            2,
            10,
        )?,
    };
    Ok(hc)
}

fn configure_health_check(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let hc = parse_health_check(&p)?;
    call.params()?.finish()?;
    check_target(&hc.target)?;
    if hc.timeout >= hc.interval {
        return Err(validation(
            "HealthCheck Interval must be greater than the Timeout.",
        ));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    lb.health_check = hc.clone();
    let mut w = call.writer();
    describe_health_check(&mut w, &hc);
    w.finish()
}

/// The `HealthCheck` member of ConfigureHealthCheck's answer and of a LoadBalancerDescription.
pub(super) fn describe_health_check(w: &mut Writer, hc: &HealthCheck) {
    w.structure("HealthCheck", |w| {
        w.str("Target", &hc.target)
            .int("Interval", hc.interval)
            .int("Timeout", hc.timeout)
            .int("UnhealthyThreshold", hc.unhealthy_threshold)
            .int("HealthyThreshold", hc.healthy_threshold);
    });
}

/// `Instances.member.N.InstanceId`.
fn instance_ids<'a>(p: &Scope<'a>, required: bool) -> AwsResult<Vec<&'a str>> {
    let list = if required {
        p.required_structs("Instances")?
    } else {
        p.structs("Instances")?
    };
    let mut out = Vec::new();
    for m in list {
        let id = m.required("InstanceId")?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn could_not_find(id: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidInstance",
        format!("Could not find EC2 instance {id}."),
    )
}

/// The `Instances` member of the registration answers and of a LoadBalancerDescription.
pub(super) fn describe_instances(w: &mut Writer, lb: &LoadBalancer) {
    w.list("Instances", &lb.instances, |w, i| {
        w.str("InstanceId", &i.instance_id);
    });
}

/// Checks that instance `id` can be registered with a load balancer in `vpc`: it exists, is not
/// terminated and sits in that VPC. RegisterInstancesWithLoadBalancer refuses with this answer;
/// Auto Scaling skips an instance that fails it, as a failed registration.
pub(crate) fn check_registrable(
    r: &Ec2Region,
    vpc: &str,
    id: &str,
    now: i64,
    d: &Durations,
) -> AwsResult<()> {
    let i = r
        .instances
        .get(id)
        .filter(|i| visible(i, now, d) && i.state.at(now) != InstanceState::Terminated)
        .ok_or_else(|| could_not_find(id))?;
    if i.vpc_id != vpc {
        return Err(AwsError::bad_request(
            "InvalidInstance",
            format!("EC2 instance {id} is not in the same VPC as ELB."),
        ));
    }
    Ok(())
}

/// Registers instances (already checked) with load balancer `name`, registered since `at_ms`;
/// those already registered keep their registration. The one place registrations are made: the
/// handler and Auto Scaling both call it.
pub(crate) fn register(r: &mut Ec2Region, name: &str, ids: &[&str], at_ms: i64) -> AwsResult<()> {
    let lb = find_mut(r, name)?;
    for id in ids {
        if !lb.is_registered(id) {
            lb.instances.push(Registration {
                instance_id: id.to_string(),
                registered_ms: at_ms,
            });
        }
    }
    Ok(())
}

/// Deregisters instances from load balancer `name` (those not registered are left alone).
pub(crate) fn deregister(r: &mut Ec2Region, name: &str, ids: &[&str]) -> AwsResult<()> {
    let lb = find_mut(r, name)?;
    lb.instances
        .retain(|reg| !ids.contains(&reg.instance_id.as_str()));
    Ok(())
}

fn register_instances(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let ids = instance_ids(&p, true)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let vpc = find(&r, name)?.vpc_id.clone();
    for id in &ids {
        check_registrable(&r, &vpc, id, call.now_ms, &call.world.durations)?;
    }
    register(&mut r, name, &ids, call.now_ms)?;
    let mut w = call.writer();
    describe_instances(&mut w, find(&r, name)?);
    w.finish()
}

fn deregister_instances(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let ids = instance_ids(&p, true)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find(&r, name)?;
    if let Some(id) = ids.iter().find(|id| !lb.is_registered(id)) {
        return Err(could_not_find(id));
    }
    deregister(&mut r, name, &ids)?;
    let mut w = call.writer();
    describe_instances(&mut w, find(&r, name)?);
    w.finish()
}

/// The description of an instance whose registration's first health checks are not over: out of
/// service, but not failing (Auto Scaling's ELB health check does not count it as unhealthy).
pub(crate) const REGISTERING: &str = "Instance registration is still in progress.";

/// `(State, ReasonCode, Description)` of a registered instance, as AWS reports them (Auto
/// Scaling's ELB health check reads it too).
pub(crate) fn health(
    r: &Ec2Region,
    lb: &LoadBalancer,
    reg: &Registration,
    now: i64,
    d: &Durations,
) -> (&'static str, &'static str, String) {
    let out = |reason: &'static str, text: String| ("OutOfService", reason, text);
    let Some(i) = r.instances.get(&reg.instance_id) else {
        return out("Instance", "Instance is in terminated state.".into());
    };
    let state = i.state.at(now);
    let word = match state {
        InstanceState::Running => None,
        InstanceState::Pending => Some("pending"),
        InstanceState::Stopping | InstanceState::Stopped => Some("stopped"),
        InstanceState::ShuttingDown | InstanceState::Terminated => Some("terminated"),
    };
    if let Some(w) = word {
        return out("Instance", format!("Instance is in {w} state."));
    }
    if !zones_of(r, lb).contains(&i.zone) {
        return out(
            "ELB",
            "Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to.".into(),
        );
    }
    let healthy_at = reg.registered_ms.max(running_since(i, now)) + d.target_initial;
    if now < healthy_at {
        if now < reg.registered_ms + d.target_initial {
            return out("ELB", REGISTERING.into());
        }
        return out(
            "Instance",
            "Instance has not passed the configured HealthyThreshold number of health checks consecutively.".into(),
        );
    }
    ("InService", "N/A", "N/A".into())
}

/// When the instance (running at `now`) began running.
pub(crate) fn running_since(i: &Instance, now: i64) -> i64 {
    match i.state.next {
        Some((InstanceState::Running, at)) if now >= at => at,
        _ => i.state.since_ms,
    }
}

fn describe_instance_health(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let ids = instance_ids(&p, false)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    let lb = find(&r, name)?;
    let now = call.now_ms;
    let d = &call.world.durations;
    let mut rows = Vec::new();
    if ids.is_empty() {
        for reg in &lb.instances {
            // A terminated instance is not listed (AWS drops it from the answer).
            let gone = r
                .instances
                .get(&reg.instance_id)
                .is_none_or(|i| i.state.at(now) == InstanceState::Terminated);
            if !gone {
                rows.push((reg.instance_id.as_str(), health(&r, lb, reg, now, d)));
            }
        }
    } else {
        for id in ids {
            let reg = lb
                .instances
                .iter()
                .find(|reg| reg.instance_id == id)
                .ok_or_else(|| could_not_find(id))?;
            rows.push((id, health(&r, lb, reg, now, d)));
        }
    }
    let mut w = call.writer();
    w.list("InstanceStates", rows, |w, (id, (state, reason, text))| {
        w.str("InstanceId", id)
            .str("State", state)
            .str("ReasonCode", reason)
            .str("Description", text);
    });
    w.finish()
}
