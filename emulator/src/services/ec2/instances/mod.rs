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
use crate::services::action::{Action, On, TagsIn};
use crate::state::timing::Durations;

use super::common;
use super::key_pairs::KEY_PAIR_NAME;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, Instance, InstanceState};
use super::referenced::NETWORK_INTERFACE;
use super::volumes::VOLUME;

/// The actions of this family. RunInstances is authorized against everything it uses and makes,
/// as AWS does: the launch template too, and what the template brings (see `run`).
pub const ACTIONS: &[Action] = &[
    Action::new("RunInstances", run::run_instances)
        .on(&[
            On::Created(&INSTANCE),
            On::Created(&NETWORK_INTERFACE),
            On::Created(&VOLUME),
            On::Id("ImageId"),
            On::Id("SubnetId"),
            On::Name(&KEY_PAIR_NAME, "KeyName"),
            On::Ids("SecurityGroupId"),
            On::Custom(run::template_arn),
        ])
        .tags(TagsIn::Specifications),
    Action::new("DescribeInstances", describe::describe_instances),
    Action::new("StartInstances", lifecycle::start_instances).on(&[On::Ids("InstanceId")]),
    Action::new("StopInstances", lifecycle::stop_instances).on(&[On::Ids("InstanceId")]),
    Action::new("RebootInstances", lifecycle::reboot_instances).on(&[On::Ids("InstanceId")]),
    Action::new("TerminateInstances", lifecycle::terminate_instances).on(&[On::Ids("InstanceId")]),
    Action::new(
        "ModifyInstanceAttribute",
        attributes::modify_instance_attribute,
    )
    .on(&[On::Id("InstanceId"), On::Ids("GroupId")]),
    Action::new(
        "DescribeInstanceAttribute",
        attributes::describe_instance_attribute,
    ),
];

pub const INSTANCE: Kind = Kind {
    prefix: "i",
    arn_type: "instance",
    not_found: Some(NotFound {
        code: "InvalidInstanceID.NotFound",
        message: "The instance ID '{id}' does not exist",
    }),
    malformed: Some("InvalidInstanceID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.instances.get(id).map(|i| &i.tags),
        get_mut: |r, id| r.instances.get_mut(id).map(|i| &mut i.tags),
    }),
    ..Kind::BASE
};

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
        INSTANCE.check(id)?;
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
        [one] => Err(INSTANCE.not_found(one)),
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
