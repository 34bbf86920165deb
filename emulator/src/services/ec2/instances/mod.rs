//! EC2 instances: launch ([`run`], which validates; [`launch`] builds each instance, for Auto
//! Scaling groups too), describe ([`describe`]), the state machine ([`lifecycle`]) and attributes
//! ([`attributes`]); [`network`] holds the addressing rules they share.
//!
//! An instance's state is a [`Timed`](super::model::Timed) on the virtual clock: `pending` turns
//! `running` after `durations.instance_start`, and so on. Readers observe it with `at(now)`;
//! writers settle it first so they decide on what an observer would see.

pub mod attributes;
pub mod describe;
pub mod devices;
pub mod launch;
pub mod lifecycle;
pub mod network;
pub mod run;

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult};
use crate::services::Handler;
use crate::state::timing::Durations;

use super::common;
use super::model::{Ec2Region, Instance, InstanceState};

/// The handler of an action of this family, if it is one.
pub fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "RunInstances" => run::run_instances,
        "DescribeInstances" => describe::describe_instances,
        "StartInstances" => lifecycle::start_instances,
        "StopInstances" => lifecycle::stop_instances,
        "TerminateInstances" => lifecycle::terminate_instances,
        "ModifyInstanceAttribute" => attributes::modify_instance_attribute,
        "DescribeInstanceAttribute" => attributes::describe_instance_attribute,
        _ => return None,
    })
}

/// When an instance reaches `terminated` (now or scheduled), if it is on its way there.
pub fn terminated_at(i: &Instance) -> Option<i64> {
    match (i.state.state, i.state.next) {
        (InstanceState::Terminated, _) => Some(i.state.since_ms),
        (_, Some((InstanceState::Terminated, at))) => Some(at),
        _ => None,
    }
}

/// Whether Describe calls still see the instance: terminated instances stay listed for
/// `terminated_visible`, then vanish, as in AWS (about an hour there).
pub fn visible(i: &Instance, now: i64, d: &Durations) -> bool {
    terminated_at(i).is_none_or(|t| now < t + d.terminated_visible)
}

/// Folds due transitions in and forgets instances no longer visible. Writers call it first.
pub fn settle(region: &mut Ec2Region, now: i64, d: &Durations) {
    region.instances.retain(|_, i| {
        i.state.settle(now);
        visible(i, now, d)
    });
}

/// Checks the ids of a request against the visible instances: `InvalidInstanceID.Malformed` for
/// an id that cannot be one, then one `InvalidInstanceID.NotFound` naming every unknown id.
pub fn check_ids(region: &Ec2Region, ids: &[&str], now: i64, d: &Durations) -> AwsResult<()> {
    for id in ids {
        common::check_id(id, "i", "InvalidInstanceID.Malformed")?;
    }
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| {
            !region
                .instances
                .get(**id)
                .is_some_and(|i| visible(i, now, d))
        })
        .copied()
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(AwsError::bad_request(
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{one}' does not exist"),
        )),
        many => Err(AwsError::bad_request(
            "InvalidInstanceID.NotFound",
            format!("The instance IDs '{}' do not exist", many.join(", ")),
        )),
    }
}

/// An `InstanceState` member (`State`, `CurrentState`, `PreviousState`): its code and name.
pub fn render_state(w: &mut Writer, member: &str, s: InstanceState) {
    w.structure(member, |w| {
        w.int("Code", s.code()).str("Name", s.name());
    });
}

/// AWS's `reason` for a user's stop or terminate: `User initiated (2024-01-31 12:00:00 GMT)`.
pub fn user_initiated(now: i64) -> String {
    let iso = common::timestamp(now);
    let civil = iso
        .trim_end_matches('Z')
        .trim_end_matches(".000")
        .replace('T', " ");
    format!("User initiated ({civil} GMT)")
}

/// The `stateReason` code AWS shows for a stored reason: a launch that failed on its encrypted
/// volumes shows `Server.InternalError`, the cause being in the message.
pub fn state_reason_code(reason: &str) -> &str {
    match reason {
        launch::LAUNCH_KMS_DENIED | launch::LAUNCH_KMS_INVALID_STATE => "Server.InternalError",
        other => other,
    }
}

/// The `stateReason` message AWS writes for a stored reason.
pub fn state_reason_message(reason: &str) -> String {
    match reason {
        "Client.UserInitiatedShutdown" => {
            "Client.UserInitiatedShutdown: User initiated shutdown".into()
        }
        launch::LAUNCH_KMS_DENIED => "Client.InternalError: Client error on launch".into(),
        launch::LAUNCH_KMS_INVALID_STATE => {
            "Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state"
                .into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_initiated_reason_form() {
        assert_eq!(
            user_initiated(1_706_702_400_000),
            "User initiated (2024-01-31 12:00:00 GMT)"
        );
    }
}
