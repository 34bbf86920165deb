//! A registered target's health, derived at each observation from the clock and the state around
//! it, never stored:
//!
//! 1. deregistered: `draining` (`Target.DeregistrationInProgress`) until the group's
//!    deregistration delay has passed, then gone;
//! 2. an instance that is stopped or terminated: `unused` (`Target.InvalidState`); one between
//!    states (pending, stopping): `unhealthy` (`Target.FailedHealthChecks`), as its checks fail;
//! 3. a Lambda group with checks disabled: `unavailable` (`Target.HealthCheckDisabled`);
//! 4. a group no listener forwards to, or a target in a zone the load balancer does not enable:
//!    `unused` (`Target.NotInUse`);
//! 5. otherwise `initial` (`Elb.RegistrationInProgress`, then `Elb.InitialHealthChecking`) for
//!    `durations.target_initial` after the latest of registration, first use, the instance
//!    reaching `running`, the load balancer turning `active` and its zone being enabled, then
//!    `healthy`.

use crate::services::ec2::instances;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::state::timing::Durations;

use super::model::{Registration, TargetGroup};

/// `TargetHealth`: state, reason code, description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub state: &'static str,
    pub reason: Option<&'static str>,
    pub description: Option<&'static str>,
}

impl Health {
    fn new(state: &'static str, reason: &'static str, description: &'static str) -> Health {
        Health {
            state,
            reason: Some(reason),
            description: Some(description),
        }
    }

    /// What DescribeTargetHealth answers for a target it is asked about but that is not registered.
    pub fn not_registered() -> Health {
        Health::new(
            "unused",
            "Target.NotRegistered",
            "Target is not registered to the target group",
        )
    }
}

/// The health of registration `reg` of group `tg` at `now`; `None` when the target is gone (its
/// draining is over, or its instance no longer exists).
pub fn of(
    r: &Ec2Region,
    tg: &TargetGroup,
    reg: &Registration,
    now: i64,
    d: &Durations,
) -> Option<Health> {
    if let Some(until) = reg.draining_until_ms {
        return (now < until).then(|| {
            Health::new(
                "draining",
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress",
            )
        });
    }
    let mut start = reg.registered_ms;
    let mut zone: Option<&str> = None;
    match tg.config.target_type.as_str() {
        "instance" => {
            let i = r
                .instances
                .get(&reg.id)
                .filter(|i| instances::visible(i, now, d))?;
            match i.state.at(now) {
                InstanceState::Running => {
                    let since = match i.state.next {
                        Some((InstanceState::Running, at)) if now >= at => at,
                        _ => i.state.since_ms,
                    };
                    start = start.max(since);
                    zone = Some(&i.zone);
                }
                InstanceState::Stopped => {
                    return Some(Health::new(
                        "unused",
                        "Target.InvalidState",
                        "Target is in the stopped state",
                    ))
                }
                InstanceState::Terminated | InstanceState::ShuttingDown => {
                    return Some(Health::new(
                        "unused",
                        "Target.InvalidState",
                        "Target is in the terminated state",
                    ))
                }
                InstanceState::Pending | InstanceState::Stopping => {
                    return Some(Health::new(
                        "unhealthy",
                        "Target.FailedHealthChecks",
                        "Health checks failed",
                    ))
                }
            }
        }
        "alb" => {
            r.elbv2.load_balancers.get(&reg.id)?;
        }
        _ => {}
    }
    if !tg.config.health.enabled {
        return Some(Health::new(
            "unavailable",
            "Target.HealthCheckDisabled",
            "Health checks are disabled",
        ));
    }
    let Some(in_use_since) = tg.in_use_since_ms else {
        return Some(Health::new(
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer",
        ));
    };
    start = start.max(in_use_since);
    for lb_arn in r.elbv2.load_balancers_of(&tg.arn) {
        if let Some(lb) = r.elbv2.load_balancers.get(lb_arn) {
            start = start.max(lb.active_at());
            if let Some(z) = zone {
                match lb.zones.iter().find(|m| m.zone == z) {
                    Some(m) => start = start.max(m.enabled_ms),
                    None => {
                        return Some(Health::new(
                            "unused",
                            "Target.NotInUse",
                            "Target is in an Availability Zone that is not enabled for the load balancer",
                        ))
                    }
                }
            }
        }
    }
    let initial = d.target_initial;
    if now < start + initial {
        return Some(if now < start + initial / 2 {
            Health::new(
                "initial",
                "Elb.RegistrationInProgress",
                "Target registration is in progress",
            )
        } else {
            Health::new(
                "initial",
                "Elb.InitialHealthChecking",
                "Initial health checks in progress",
            )
        });
    }
    Some(Health {
        state: "healthy",
        reason: None,
        description: None,
    })
}
