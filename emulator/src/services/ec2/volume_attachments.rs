//! AttachVolume and DetachVolume, with AWS's checks and the attachment state machine.
//!
//! Every check and the change itself happen under the region's write lock, so of many concurrent
//! attachments of one volume exactly one wins and the others see `VolumeInUse`.

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::write;

use super::common;
use super::instances::INSTANCE;
use super::model::{AttachState, Attachment, Ec2Region, InstanceState, Timed, VolumeState};
use super::volumes::{attached_instance, find, observed, render_attachment, settle};

/// The actions of this family: each on the instance and the volume.
pub const ACTIONS: &[Action] = &[
    Action::new("AttachVolume", attach_volume).on(&[On::Id("InstanceId"), On::Id("VolumeId")]),
    Action::new("DetachVolume", detach_volume).on(&[On::Id("InstanceId"), On::Id("VolumeId")]),
];

/// EBS volumes an instance can have attached (the Nitro limit of 28 attachments, one of them
/// taken by the primary network interface).
pub const MAX_ATTACHMENTS: usize = 27;

/// Whether `device` is a name EC2 accepts for an EBS attachment on Linux: `/dev/sd[a-z]`,
/// `/dev/sd[a-z][1-15]`, `/dev/xvd[a-z]`, `/dev/xvd[a-z][a-z]`.
pub fn valid_device(device: &str) -> bool {
    let tail = |rest: &str, digits_ok: bool| {
        let mut chars = rest.chars();
        matches!(chars.next(), Some('a'..='z'))
            && match chars.as_str() {
                "" => true,
                more if digits_ok => more.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n)),
                more => more.len() == 1 && more.chars().all(|c| c.is_ascii_lowercase()),
            }
    };
    if let Some(rest) = device.strip_prefix("/dev/sd") {
        tail(rest, true)
    } else if let Some(rest) = device.strip_prefix("/dev/xvd") {
        tail(rest, false)
    } else {
        false
    }
}

/// The instance `id`, visible and not gone.
fn instance_state(region: &Ec2Region, id: &str, now: i64) -> AwsResult<(InstanceState, String)> {
    INSTANCE.check(id)?;
    let i = region
        .instances
        .get(id)
        .ok_or_else(|| INSTANCE.not_found(id))?;
    Ok((i.state.at(now), i.zone.clone()))
}

pub fn attach_volume(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let volume_id = p.required("VolumeId")?.to_string();
    let instance_id = p.required("InstanceId")?.to_string();
    let device = p.required("Device")?.to_string();
    let _card = p.int("EbsCardIndex")?;
    call.params()?.finish()?;
    if !valid_device(&device) {
        return Err(AwsError::invalid_value(format!(
            "Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name."
        )));
    }
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now);
    let volume = find(&region, &volume_id, now)?;
    let (istate, izone) = instance_state(&region, &instance_id, now)?;
    if istate == InstanceState::Terminated {
        return Err(INSTANCE.not_found(&instance_id));
    }
    match observed(volume, now) {
        VolumeState::Available => {}
        VolumeState::InUse => {
            return Err(AwsError::bad_request(
                "VolumeInUse",
                format!(
                    "{volume_id} is already attached to an instance ({})",
                    attached_instance(volume)
                ),
            ));
        }
        other => {
            return Err(AwsError::bad_request(
                "IncorrectState",
                format!(
                    "The volume '{volume_id}' is not 'available'; it is '{}'.",
                    other.name()
                ),
            ))
        }
    }
    if volume.zone != izone {
        return Err(AwsError::bad_request(
            "InvalidVolume.ZoneMismatch",
            format!(
                "The volume '{volume_id}' is not in the same availability zone as instance '{instance_id}'"
            ),
        ));
    }
    if !matches!(istate, InstanceState::Running | InstanceState::Stopped) {
        return Err(AwsError::bad_request(
            "IncorrectInstanceState",
            format!("Instance '{instance_id}' is not 'running' or 'stopped'."),
        ));
    }
    let on_instance: Vec<&str> = region
        .volumes
        .values()
        .filter_map(|v| v.attachment.as_ref())
        .filter(|a| a.instance_id == instance_id && a.state.at(now) != AttachState::Detached)
        .map(|a| a.device.as_str())
        .collect();
    if on_instance.contains(&device.as_str()) {
        return Err(AwsError::invalid_value(format!(
            "Attachment point {device} is already in use"
        )));
    }
    if on_instance.len() >= MAX_ATTACHMENTS {
        return Err(AwsError::bad_request(
            "AttachmentLimitExceeded",
            format!("Instance '{instance_id}' already has the maximum number of attached volumes ({MAX_ATTACHMENTS})"),
        ));
    }
    let attachment = Attachment {
        instance_id,
        device,
        attach_ms: now,
        delete_on_termination: false,
        state: Timed::transition(
            AttachState::Attaching,
            now,
            AttachState::Attached,
            d.volume_attach,
        ),
        instance_view: Timed::transition(
            AttachState::Attaching,
            now,
            AttachState::Attached,
            (d.volume_attach - d.attach_instance_lead).max(0),
        ),
    };
    let mut w = call.writer();
    if let Some(v) = region.volumes.get_mut(&volume_id) {
        v.attachment = Some(attachment);
        render_attachment(&mut w, v, AttachState::Attaching);
    }
    region.index_attachment(&volume_id);
    w.finish()
}

pub fn detach_volume(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let volume_id = p.required("VolumeId")?.to_string();
    let instance_id = p.str("InstanceId").map(str::to_string);
    let device = p.str("Device").map(str::to_string);
    let force = p.bool("Force")?.unwrap_or(false);
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now);
    let volume = find(&region, &volume_id, now)?;
    if let Some(i) = &instance_id {
        instance_state(&region, i, now)?;
    }
    let Some(a) = volume
        .attachment
        .as_ref()
        .filter(|_| observed(volume, now) == VolumeState::InUse)
    else {
        return Err(AwsError::bad_request(
            "IncorrectState",
            format!(
                "Volume '{volume_id}' is in the '{}' state.",
                observed(volume, now).name()
            ),
        ));
    };
    if instance_id.as_deref().is_some_and(|i| i != a.instance_id)
        || device.as_deref().is_some_and(|d| d != a.device)
    {
        return Err(AwsError::bad_request(
            "InvalidAttachment.NotFound",
            format!(
                "The volume '{volume_id}' is not attached to instance '{}' at '{}'",
                instance_id.as_deref().unwrap_or(&a.instance_id),
                device.as_deref().unwrap_or(&a.device)
            ),
        ));
    }
    if a.state.at(now) == AttachState::Detaching {
        return Err(AwsError::bad_request(
            "IncorrectState",
            format!("Volume '{volume_id}' is already detaching."),
        ));
    }
    let owner = region.instances.get(&a.instance_id);
    let is_root_of_running = owner.is_some_and(|i| {
        i.root_volume_id.as_deref() == Some(volume_id.as_str())
            && !matches!(
                i.state.at(now),
                InstanceState::Stopped | InstanceState::Terminated
            )
    });
    if is_root_of_running && !force {
        return Err(AwsError::bad_request(
            "OperationNotPermitted",
            format!("The volume '{volume_id}' is the root device of instance '{}' and cannot be detached while it runs.", a.instance_id),
        ));
    }
    let after = if force {
        0
    } else {
        call.world.durations.volume_detach
    };
    let mut w = call.writer();
    if let Some(v) = region.volumes.get_mut(&volume_id) {
        if let Some(a) = &mut v.attachment {
            a.state = Timed::transition(AttachState::Detaching, now, AttachState::Detached, after);
            a.instance_view =
                Timed::transition(AttachState::Detaching, now, AttachState::Detached, after);
        }
        render_attachment(&mut w, v, AttachState::Detaching);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        for ok in [
            "/dev/sdf",
            "/dev/sdp",
            "/dev/sda1",
            "/dev/sdf15",
            "/dev/xvdf",
            "/dev/xvdba",
        ] {
            assert!(valid_device(ok), "{ok}");
        }
        for bad in [
            "sdf",
            "/dev/sd",
            "/dev/sdF",
            "/dev/sdf16",
            "/dev/xvdf1",
            "/dev/nvme0n1",
            "/dev/xvdabc",
        ] {
            assert!(!valid_device(bad), "{bad}");
        }
    }
}
