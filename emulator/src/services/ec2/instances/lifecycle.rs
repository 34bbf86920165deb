//! StartInstances, StopInstances and TerminateInstances: EC2's state machine on the virtual clock;
//! RebootInstances, which restarts the guest and leaves the state as it is.
//!
//! Each call checks every instance first (one in the wrong state refuses the whole call, changing
//! nothing), then moves the instances that need it into the intermediate state with its end
//! scheduled: `pending`→`running`, `stopping`→`stopped`, `shutting-down`→`terminated`. The
//! answer lists each instance's previous and current state; instances already where the call
//! would take them are listed unchanged, as AWS does.

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::Call;
use crate::state::write;

use super::super::common;
use super::super::model::{AttachState, Ec2Region, InstanceState, Timed, VolumeState};
use super::{check_ids, render_state, settle, user_initiated};

/// Which of the three calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Start,
    Stop,
    Terminate,
}

impl Change {
    /// The answer's list of state changes, as the model names it for each call.
    fn member(self) -> &'static str {
        match self {
            Change::Start => "StartingInstances",
            Change::Stop => "StoppingInstances",
            Change::Terminate => "TerminatingInstances",
        }
    }
}

/// What the call does to one instance in state `s`: `Ok(None)` leaves it as it is.
fn plan(change: Change, id: &str, s: InstanceState) -> AwsResult<Option<InstanceState>> {
    use InstanceState::*;
    let refuse = |verb: &str| {
        Err(AwsError::bad_request(
            "IncorrectInstanceState",
            format!("The instance '{id}' is not in a state from which it can be {verb}."),
        ))
    };
    match (change, s) {
        (Change::Start, Stopped) => Ok(Some(Pending)),
        (Change::Start, Pending | Running) => Ok(None),
        (Change::Start, _) => refuse("started"),
        (Change::Stop, Running) => Ok(Some(Stopping)),
        (Change::Stop, Stopping | Stopped) => Ok(None),
        (Change::Stop, _) => refuse("stopped"),
        (Change::Terminate, ShuttingDown | Terminated) => Ok(None),
        (Change::Terminate, _) => Ok(Some(ShuttingDown)),
    }
}

fn change_instances(call: &Call<'_>, change: Change) -> AwsResult<Output> {
    let p = call.root()?;
    let mut ids = p.strings("InstanceId")?;
    let mut seen = std::collections::BTreeSet::new();
    ids.retain(|id| seen.insert(*id));
    match change {
        Change::Start => {
            let _ = p.str("AdditionalInfo");
        }
        Change::Stop => {
            let _ = p.bool("Hibernate")?;
            let _ = p.bool("SkipOsShutdown")?;
            let _ = p.bool("Force")?;
        }
        Change::Terminate => {
            let _ = p.bool("SkipOsShutdown")?;
            let _ = p.bool("Force")?;
        }
    }
    call.params()?.finish()?;
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter InstanceId",
        ));
    }
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now, &d);
    check_ids(&region, &ids, now, &d)?;
    let mut plans = Vec::new();
    for id in &ids {
        let Some(i) = region.instances.get(*id) else {
            return Err(AwsError::internal());
        };
        let before = i.state.state;
        if change == Change::Terminate
            && i.disable_api_termination
            && before != InstanceState::Terminated
        {
            return Err(AwsError::bad_request(
                "OperationNotPermitted",
                format!("The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."),
            ));
        }
        if change == Change::Stop && i.spot_request_id.is_some() {
            return Err(AwsError::bad_request(
                "UnsupportedOperation",
                format!("You can't stop the Spot Instance '{id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests."),
            ));
        }
        plans.push((id.to_string(), before, plan(change, id, before)?));
    }

    for (id, _, next) in &plans {
        if let Some(next) = next {
            apply(&mut region, id, *next, now, call);
        }
    }
    let mut w = call.writer();
    w.list(change.member(), &plans, |w, (id, before, next)| {
        w.str("InstanceId", id);
        render_state(w, "CurrentState", next.unwrap_or(*before));
        render_state(w, "PreviousState", *before);
    });
    w.finish()
}

/// Starts terminating one instance as TerminateInstances does (`shutting-down`, then
/// `terminated`, its volumes released): an Auto Scaling group scaling in or being deleted.
pub fn terminate(region: &mut Ec2Region, id: &str, call: &Call<'_>) {
    apply(region, id, InstanceState::ShuttingDown, call.now_ms, call);
}

/// Moves one instance into `next` (an intermediate state) with its end scheduled.
fn apply(region: &mut Ec2Region, id: &str, next: InstanceState, now: i64, call: &Call<'_>) {
    let d = call.world.durations;
    let (end, after) = match next {
        InstanceState::Pending => (InstanceState::Running, d.instance_start),
        InstanceState::Stopping => (InstanceState::Stopped, d.instance_stop),
        _ => (InstanceState::Terminated, d.instance_terminate),
    };
    if let Some(i) = region.instances.get_mut(id) {
        // A stopping or terminating instance gives its public address back at once.
        i.public_ip = None;
        i.state = Timed::transition(next, now, end, after);
        if next == InstanceState::Pending {
            i.state_reason = None;
            i.state_transition_reason = String::new();
        } else {
            i.state_reason = Some("Client.UserInitiatedShutdown".into());
            i.state_transition_reason = user_initiated(now);
        }
    }
    if next == InstanceState::Pending {
        super::network::assign_public_ip(region, id);
    }
    if next == InstanceState::ShuttingDown {
        release_volumes(region, id, now, after);
    }
}

/// A terminating instance lets its volumes go when it reaches `terminated`: each detaches, and
/// those marked DeleteOnTermination are deleted.
pub(super) fn release_volumes(region: &mut Ec2Region, id: &str, now: i64, after: i64) {
    for v in region.volumes.values_mut() {
        let Some(a) = v.attachment.as_mut().filter(|a| a.instance_id == id) else {
            continue;
        };
        let seen = a.state.at(now);
        if seen == AttachState::Detached {
            continue;
        }
        a.state = Timed::transition(seen, now, AttachState::Detached, after);
        let seen_by_instance = a.instance_view.at(now);
        a.instance_view = Timed::transition(seen_by_instance, now, AttachState::Detached, after);
        if a.delete_on_termination {
            let base = v.state.at(now);
            v.state = Timed::transition(base, now, VolumeState::Deleted, after);
        }
    }
}

/// RebootInstances: a reboot happens inside the instance, so its state stays `running` (and
/// `pending` ones are accepted, as AWS queues the reboot). Every instance must be visible and in
/// one of those two states, else nothing is rebooted: `IncorrectInstanceState`.
pub fn reboot_instances(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("InstanceId")?;
    call.params()?.finish()?;
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter InstanceId",
        ));
    }
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now, &d);
    check_ids(&region, &ids, now, &d)?;
    for id in &ids {
        let state = region
            .instances
            .get(*id)
            .map(|i| i.state.at(now))
            .ok_or_else(AwsError::internal)?;
        if !matches!(state, InstanceState::Running | InstanceState::Pending) {
            return Err(AwsError::bad_request(
                "IncorrectInstanceState",
                format!("The instance '{id}' is not in a state from which it can be rebooted."),
            ));
        }
    }
    common::done(call)
}

pub fn start_instances(call: &Call<'_>) -> AwsResult<Output> {
    change_instances(call, Change::Start)
}

pub fn stop_instances(call: &Call<'_>) -> AwsResult<Output> {
    change_instances(call, Change::Stop)
}

pub fn terminate_instances(call: &Call<'_>) -> AwsResult<Output> {
    change_instances(call, Change::Terminate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceState::*;

    #[test]
    fn transitions() {
        assert_eq!(plan(Change::Start, "i", Stopped).unwrap(), Some(Pending));
        assert_eq!(plan(Change::Start, "i", Running).unwrap(), None);
        assert_eq!(
            plan(Change::Start, "i", Terminated).unwrap_err().code,
            "IncorrectInstanceState"
        );
        assert_eq!(plan(Change::Stop, "i", Running).unwrap(), Some(Stopping));
        assert_eq!(plan(Change::Stop, "i", Stopped).unwrap(), None);
        assert!(plan(Change::Stop, "i", Pending).is_err());
        assert_eq!(
            plan(Change::Terminate, "i", Stopped).unwrap(),
            Some(ShuttingDown)
        );
        assert_eq!(plan(Change::Terminate, "i", Terminated).unwrap(), None);
    }
}
