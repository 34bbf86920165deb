//! EBS volumes as the EBS CSI driver's controller handles them (`pkg/cloud/cloud.go`):
//! `CreateDisk` (wait for available), `AttachDisk` (device-name allocation, wait for attached),
//! `DetachDisk` (wait for detached), `DeleteDisk`, `ResizeOrModifyDisk` (ModifyVolume, then
//! DescribeVolumesModifications until optimizing/completed).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{
    ResourceType, Tag, TagSpecification, Volume, VolumeAttachmentState, VolumeModificationState,
    VolumeState, VolumeType,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::api::{call, ApiError, EC2};
use super::context::{go_quote, FlowContext, FlowError};
use super::wait::{exponential_backoff, Backoff, Poll};

/// `VolumeNameTagKey`.
pub const VOLUME_NAME_TAG: &str = "CSIVolumeName";
/// `AwsEbsDriverTagKey` for the default driver name.
pub const DRIVER_TAG: &str = "ebs.csi.aws.com/cluster";

/// `CreateDisk` inputs (a CreateVolume RPC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateInput {
    /// The CSI volume name (`pvc-…`): the idempotency token's base and the `CSIVolumeName` tag.
    pub name: String,
    pub size_gib: i32,
    pub zone: String,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub iops: Option<i32>,
    #[serde(default)]
    pub throughput: Option<i32>,
    #[serde(default)]
    pub encrypted: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A volume and a node (ControllerPublish/Unpublish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachInput {
    pub volume_id: String,
    /// The node's instance id.
    pub node: String,
}

/// A volume (DeleteVolume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInput {
    pub volume_id: String,
}

/// `ResizeOrModifyDisk` inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResizeInput {
    pub volume_id: String,
    pub size_gib: i32,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub iops: Option<i32>,
    #[serde(default)]
    pub throughput: Option<i32>,
}

/// The disk a flow ends with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    pub volume_id: String,
    pub size_gib: i32,
    pub zone: String,
    pub state: String,
}

/// An attachment the flow made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    pub device: String,
}

/// `devicemanager.deviceNames`, in the allocator's order.
pub fn device_names() -> Vec<String> {
    let mut names = Vec::new();
    for c in 'a'..='z' {
        names.push(format!("/dev/xvda{c}"));
    }
    for c in 'a'..='z' {
        names.push(format!("/dev/xvdb{c}"));
    }
    for c in 'a'..='x' {
        names.push(format!("/dev/xvdd{c}"));
    }
    for c in 'b'..='z' {
        names.push(format!("/dev/xvd{c}"));
    }
    for c in 'b'..='z' {
        names.push(format!("/dev/sd{c}"));
    }
    names.push("/dev/sda2".into());
    names
}

/// `creationBackoff`, `attachmentBackoff`, `modificationBackoff` of the driver.
const CREATION: Backoff = Backoff {
    duration: Duration::from_millis(500),
    factor: 1.5,
    steps: 11,
};
const ATTACHMENT: Backoff = Backoff {
    duration: Duration::from_secs(1),
    factor: 1.8,
    steps: 13,
};
const MODIFICATION: Backoff = Backoff {
    duration: Duration::from_secs(1),
    factor: 1.7,
    steps: 10,
};
/// `creationInitialDelay`.
const CREATION_INITIAL_DELAY: Duration = Duration::from_millis(1250);
/// `ErrNotFound`.
const NOT_FOUND: &str = "resource was not found";

/// `getVolume` over `describeVolumes`: exactly one volume, the AWS error as is.
async fn get_volume(
    ctx: &FlowContext,
    volume_id: &str,
) -> Result<Volume, Result<ApiError, FlowError>> {
    let out = call(ctx, EC2, "DescribeVolumes", || {
        ctx.ec2.describe_volumes().volume_ids(volume_id).send()
    })
    .await
    .map_err(Ok)?;
    match out.volumes() {
        [v] => Ok(v.clone()),
        [] => Err(Err(FlowError::msg(NOT_FOUND))),
        _ => Err(Err(FlowError::msg("multiple disks with same name"))),
    }
}

fn flatten(e: Result<ApiError, FlowError>) -> FlowError {
    match e {
        Ok(api) => FlowError::api(&api),
        Err(f) => f,
    }
}

fn disk(v: &Volume) -> Disk {
    Disk {
        volume_id: v.volume_id().unwrap_or("").to_string(),
        size_gib: v.size().unwrap_or(0),
        zone: v.availability_zone().unwrap_or("").to_string(),
        state: v
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// `CreateDisk`: CreateVolume with the name's sha256 as client token and the driver's tags, then
/// `waitForVolume` (1.25 s, then polls backing off ×1.5 from 0.5 s) until available or in-use.
pub async fn create(ctx: &FlowContext, input: &CreateInput) -> Result<Disk, FlowError> {
    let volume_type = input.volume_type.clone().unwrap_or_else(|| "gp3".into());
    let mut tags = input.tags.clone();
    tags.insert(VOLUME_NAME_TAG.into(), input.name.clone());
    tags.insert(DRIVER_TAG.into(), "true".into());
    let mut spec = TagSpecification::builder().resource_type(ResourceType::Volume);
    for (k, v) in &tags {
        spec = spec.tags(Tag::builder().key(k).value(v).build());
    }
    let spec = spec.build();
    let token = hex::encode(Sha256::digest(input.name.as_bytes()));
    let kms = input.kms_key_id.clone().filter(|k| !k.is_empty());
    let encrypted = input.encrypted || kms.is_some();
    let created = call(ctx, EC2, "CreateVolume", || {
        ctx.ec2
            .create_volume()
            .client_token(&token)
            .size(input.size_gib)
            .volume_type(VolumeType::from(volume_type.as_str()))
            .encrypted(encrypted)
            .multi_attach_enabled(false)
            .tag_specifications(spec.clone())
            .availability_zone(&input.zone)
            .set_kms_key_id(kms.clone())
            .set_iops(input.iops.filter(|i| *i > 0))
            .set_throughput(input.throughput.filter(|t| *t > 0))
            .send()
    })
    .await;
    let created = match created {
        Ok(out) => out,
        Err(e) if e.is("IdempotentParameterMismatch") => {
            return Err(FlowError {
                message: "parameters on this idempotent request are inconsistent with parameters used in previous request(s)".into(),
                ..FlowError::api(&e)
            })
        }
        Err(e) if e.is("InvalidParameterCombination") => {
            return Err(FlowError::wrap(&e, "invalid argument: ", false, ""))
        }
        Err(e) => return Err(FlowError::wrap(&e, "could not create volume in EC2: ", false, "")),
    };
    let volume_id = created.volume_id().unwrap_or("").to_string();
    if volume_id.is_empty() {
        return Err(FlowError::msg("volume ID was not returned by CreateVolume"));
    }
    if created.size().unwrap_or(0) == 0 {
        return Err(FlowError::msg("disk size was not returned by CreateVolume"));
    }
    ctx.sleep(CREATION_INITIAL_DELAY).await;
    let volume = exponential_backoff(ctx, &CREATION, || async {
        let v = get_volume(ctx, &volume_id).await.map_err(flatten)?;
        Ok(match v.state() {
            Some(VolumeState::Available) | Some(VolumeState::InUse) => Poll::Done(v),
            _ => Poll::Again,
        })
    })
    .await
    .map_err(|e| FlowError {
        message: format!("timed out waiting for volume to create: {}", e.message),
        ..e
    })?;
    Ok(disk(&volume))
}

/// `getInstance`: DescribeInstances by id (every page).
async fn get_instance(
    ctx: &FlowContext,
    node: &str,
) -> Result<aws_sdk_ec2::types::Instance, FlowError> {
    let out = call(ctx, EC2, "DescribeInstances", || {
        ctx.ec2.describe_instances().instance_ids(node).send()
    })
    .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.is("InvalidInstanceID.NotFound") => {
            return Err(FlowError {
                message: NOT_FOUND.into(),
                ..FlowError::api(&e)
            })
        }
        Err(e) => {
            return Err(FlowError::wrap(
                &e,
                "error listing AWS instances: ",
                false,
                "",
            ))
        }
    };
    let instances: Vec<_> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .cloned()
        .collect();
    match instances.len() {
        1 => Ok(instances
            .into_iter()
            .next()
            .unwrap_or_else(|| unreachable!())),
        0 => Err(FlowError::msg(NOT_FOUND)),
        n => Err(FlowError::msg(format!(
            "found {n} instances with ID {}",
            go_quote(node)
        ))),
    }
}

/// `WaitForAttachmentState` (non-HyperPod, single card): poll DescribeVolumes backing off ×1.8
/// from 1 s until this instance's attachment is in `expected` (no attachment = detached).
async fn wait_for_attachment_state(
    ctx: &FlowContext,
    expected: VolumeAttachmentState,
    volume_id: &str,
    instance_id: &str,
    device: &str,
    already_assigned: bool,
) -> Result<(), FlowError> {
    exponential_backoff(ctx, &ATTACHMENT, || async {
        let volume = match get_volume(ctx, volume_id).await {
            Ok(v) => v,
            Err(Ok(e)) if e.is("InvalidVolume.NotFound") => {
                return if expected == VolumeAttachmentState::Detached {
                    Ok(Poll::Done(()))
                } else {
                    Err(FlowError::api(&e))
                };
            }
            // "Ignoring error from describe volume, will retry"
            Err(_) => return Ok(Poll::Again),
        };
        if volume.multi_attach_enabled() == Some(false) && volume.attachments().len() > 1 {
            return Err(FlowError::msg(format!(
                "volume {} has multiple attachments",
                go_quote(volume_id)
            )));
        }
        let attachment = volume
            .attachments()
            .iter()
            .rfind(|a| a.instance_id() == Some(instance_id));
        let state = attachment
            .and_then(|a| a.state().cloned())
            .unwrap_or(VolumeAttachmentState::Detached);
        if let Some(a) = attachment {
            if a.device().is_some() && expected == VolumeAttachmentState::Attached {
                // stuck "attaching" for 90 s: detach and fail
                if state == VolumeAttachmentState::Attaching {
                    if let Some(t) = a.attach_time() {
                        let now_ms = ctx_now_ms(ctx);
                        if let Some(now_ms) = now_ms {
                            if now_ms - t.to_millis().unwrap_or(now_ms) > 90_000 {
                                call(ctx, EC2, "DetachVolume", || {
                                    ctx.ec2
                                        .detach_volume()
                                        .volume_id(volume_id)
                                        .instance_id(instance_id)
                                        .send()
                                })
                                .await
                                .map_err(|e| FlowError::api(&e))?;
                                return Err(FlowError::msg(format!(
                                    "{} stuck in attaching state for longer than 1m30s",
                                    go_quote(volume_id)
                                )));
                            }
                        }
                    }
                }
                if a.device().unwrap_or("") != device {
                    return Ok(Poll::Again);
                }
            }
        }
        if expected == VolumeAttachmentState::Attached
            && already_assigned
            && state == VolumeAttachmentState::Detached
        {
            let res = call(ctx, EC2, "AttachVolume", || {
                ctx.ec2
                    .attach_volume()
                    .device(device)
                    .instance_id(instance_id)
                    .volume_id(volume_id)
                    .send()
            })
            .await;
            return Err(match res {
                Err(e) => FlowError::wrap(
                    &e,
                    &format!(
                        "WaitForAttachmentState AttachVolume error, expected device to be attached but was detached, volumeID={}, instanceID={}, Device={}, err=",
                        go_quote(volume_id),
                        go_quote(instance_id),
                        go_quote(device)
                    ),
                    false,
                    "",
                ),
                Ok(_) => FlowError::msg(format!(
                    "attachment of disk {} failed, expected device to be attached but was detached",
                    go_quote(volume_id)
                )),
            });
        }
        Ok(if state == expected {
            Poll::Done(())
        } else {
            Poll::Again
        })
    })
    .await
}

/// The emulator's virtual time, when the flow runs on a clock it can read.
fn ctx_now_ms(ctx: &FlowContext) -> Option<i64> {
    match &ctx.waiting {
        crate::Waiting::AdvanceClock(instance) => Some(instance.clock.now_ms()),
        _ => None,
    }
}

/// `AttachDisk`: DescribeInstances, the first free device name (block-device mappings are in
/// use), AttachVolume unless the volume already has a device there, wait for `attached`.
pub async fn attach(ctx: &FlowContext, input: &AttachInput) -> Result<Attached, FlowError> {
    let instance = get_instance(ctx, &input.node).await?;
    let instance_id = instance.instance_id().unwrap_or("").to_string();
    let in_use: BTreeMap<String, String> = instance
        .block_device_mappings()
        .iter()
        .map(|b| {
            (
                b.device_name().unwrap_or("").to_string(),
                b.ebs()
                    .and_then(|e| e.volume_id())
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let assigned = in_use
        .iter()
        .find(|(_, v)| **v == input.volume_id)
        .map(|(name, _)| name.clone());
    let (device, already) = match assigned {
        Some(name) => (name, true),
        None => {
            let taken: BTreeSet<&String> = in_use.keys().collect();
            let name = device_names()
                .into_iter()
                .find(|n| !taken.contains(n))
                .ok_or_else(|| {
                    FlowError::msg(format!(
                        "could not get a free device name to assign to node {instance_id}"
                    ))
                })?;
            (name, false)
        }
    };
    if !already {
        call(ctx, EC2, "AttachVolume", || {
            ctx.ec2
                .attach_volume()
                .device(&device)
                .instance_id(&input.node)
                .volume_id(&input.volume_id)
                .send()
        })
        .await
        .map_err(|e| {
            if e.is("AttachmentLimitExceeded") {
                FlowError::wrap(&e, "attachment limit exceeded: ", false, "")
            } else {
                FlowError::wrap(
                    &e,
                    &format!(
                        "could not attach volume {} to node {}: ",
                        go_quote(&input.volume_id),
                        go_quote(&input.node)
                    ),
                    false,
                    "",
                )
            }
        })?;
    }
    wait_for_attachment_state(
        ctx,
        VolumeAttachmentState::Attached,
        &input.volume_id,
        &instance_id,
        &device,
        already,
    )
    .await?;
    Ok(Attached { device })
}

/// `DetachDisk`: DetachVolume, then wait for `detached`. A volume already gone or detached is
/// `ErrNotFound`, as the driver maps it.
pub async fn detach(ctx: &FlowContext, input: &AttachInput) -> Result<Disk, FlowError> {
    let instance = get_instance(ctx, &input.node).await?;
    let instance_id = instance.instance_id().unwrap_or("").to_string();
    let res = call(ctx, EC2, "DetachVolume", || {
        ctx.ec2
            .detach_volume()
            .instance_id(&input.node)
            .volume_id(&input.volume_id)
            .send()
    })
    .await;
    if let Err(e) = res {
        if e.is("IncorrectState")
            || e.is("InvalidAttachment.NotFound")
            || e.is("InvalidVolume.NotFound")
        {
            return Err(FlowError {
                message: NOT_FOUND.into(),
                ..FlowError::api(&e)
            });
        }
        return Err(FlowError::wrap(
            &e,
            &format!(
                "could not detach volume {} from node {}: ",
                go_quote(&input.volume_id),
                go_quote(&input.node)
            ),
            false,
            "",
        ));
    }
    wait_for_attachment_state(
        ctx,
        VolumeAttachmentState::Detached,
        &input.volume_id,
        &instance_id,
        "",
        false,
    )
    .await?;
    let v = get_volume(ctx, &input.volume_id).await.map_err(flatten)?;
    Ok(disk(&v))
}

/// What delete did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedVolume {
    pub deleted: bool,
}

/// `DeleteDisk`.
pub async fn delete(ctx: &FlowContext, input: &VolumeInput) -> Result<DeletedVolume, FlowError> {
    match call(ctx, EC2, "DeleteVolume", || {
        ctx.ec2.delete_volume().volume_id(&input.volume_id).send()
    })
    .await
    {
        Ok(_) => Ok(DeletedVolume { deleted: true }),
        Err(e) if e.is("InvalidVolume.NotFound") => Err(FlowError {
            message: NOT_FOUND.into(),
            ..FlowError::api(&e)
        }),
        Err(e) => Err(FlowError::wrap(
            &e,
            "DeleteDisk could not delete volume: ",
            false,
            "",
        )),
    }
}

/// `getLatestVolumeModification`: `None` when the volume was never modified.
async fn latest_modification(
    ctx: &FlowContext,
    volume_id: &str,
) -> Result<Option<VolumeModificationState>, FlowError> {
    match call(ctx, EC2, "DescribeVolumesModifications", || {
        ctx.ec2
            .describe_volumes_modifications()
            .volume_ids(volume_id)
            .send()
    })
    .await
    {
        Ok(out) => Ok(out
            .volumes_modifications()
            .last()
            .and_then(|m| m.modification_state().cloned())),
        Err(e) if e.is("InvalidVolumeModification.NotFound") => Ok(None),
        Err(e) => Err(FlowError::wrap(
            &e,
            &format!(
                "error describing modifications in volume {}: ",
                go_quote(volume_id)
            ),
            false,
            "",
        )),
    }
}

fn modification_done(state: &VolumeModificationState) -> bool {
    matches!(
        state,
        VolumeModificationState::Completed | VolumeModificationState::Optimizing
    )
}

/// `waitForVolumeModification`.
async fn wait_for_modification(ctx: &FlowContext, volume_id: &str) -> Result<(), FlowError> {
    exponential_backoff(ctx, &MODIFICATION, || async {
        Ok(match latest_modification(ctx, volume_id).await? {
            None => Poll::Done(()),
            Some(s) if modification_done(&s) => Poll::Done(()),
            Some(_) => Poll::Again,
        })
    })
    .await
}

/// `checkDesiredState`.
async fn check_desired_state(ctx: &FlowContext, input: &ResizeInput) -> Result<Disk, FlowError> {
    let v = get_volume(ctx, &input.volume_id).await.map_err(flatten)?;
    let id = go_quote(&input.volume_id);
    let size = v.size().unwrap_or(0);
    if size < input.size_gib {
        return Err(FlowError::msg(format!(
            "volume {id} is still being expanded to {} size",
            input.size_gib
        )));
    }
    if let Some(iops) = input.iops.filter(|i| *i != 0) {
        if v.iops() != Some(iops) {
            return Err(FlowError::msg(format!(
                "volume {id} is still being modified to iops {iops}"
            )));
        }
    }
    if let Some(t) = input.volume_type.as_deref().filter(|t| !t.is_empty()) {
        let actual = v.volume_type().map(|t| t.as_str()).unwrap_or("");
        if !actual.eq_ignore_ascii_case(t) {
            return Err(FlowError::msg(format!(
                "volume {id} is still being modified to type {}",
                go_quote(t)
            )));
        }
    }
    if let Some(t) = input.throughput.filter(|t| *t != 0) {
        if v.throughput() != Some(t) {
            return Err(FlowError::msg(format!(
                "volume {id} is still being modified to throughput {t}"
            )));
        }
    }
    Ok(disk(&v))
}

/// `ResizeOrModifyDisk` (no IOPS-per-GB): DescribeVolumes, wait out a modification in progress,
/// skip when nothing changes, refuse while optimizing, ModifyVolume, wait until optimizing or
/// completed, check the result.
pub async fn resize(ctx: &FlowContext, input: &ResizeInput) -> Result<Disk, FlowError> {
    let volume = get_volume(ctx, &input.volume_id).await.map_err(flatten)?;
    // validateVolumeState
    if latest_modification(ctx, &input.volume_id).await? == Some(VolumeModificationState::Modifying)
    {
        wait_for_modification(ctx, &input.volume_id).await?;
        return check_desired_state(ctx, input).await;
    }
    // validateModifyVolume / needsVolumeModification
    let size_change = volume.size().unwrap_or(0) < input.size_gib;
    let type_change = input
        .volume_type
        .as_deref()
        .is_some_and(|t| !t.is_empty() && volume.volume_type().map(|v| v.as_str()) != Some(t));
    let iops_change = input
        .iops
        .is_some_and(|i| i != 0 && volume.iops() != Some(i));
    let throughput_change = input
        .throughput
        .is_some_and(|t| t != 0 && volume.throughput() != Some(t));
    if !(size_change || type_change || iops_change || throughput_change) {
        wait_for_modification(ctx, &input.volume_id).await?;
        return check_desired_state(ctx, input).await;
    }
    if latest_modification(ctx, &input.volume_id).await?
        == Some(VolumeModificationState::Optimizing)
    {
        return Err(FlowError::msg(format!(
            "volume {} in OPTIMIZING state, cannot currently modify",
            go_quote(&input.volume_id)
        )));
    }
    let out = call(ctx, EC2, "ModifyVolume", || {
        ctx.ec2
            .modify_volume()
            .volume_id(&input.volume_id)
            .size(input.size_gib)
            .set_volume_type(input.volume_type.as_deref().map(VolumeType::from))
            .set_throughput(input.throughput.filter(|t| *t != 0))
            .set_iops(input.iops.filter(|i| *i != 0))
            .send()
    })
    .await
    .map_err(|e| {
        if e.is("InvalidParameterValue")
            || e.is("InvalidParameter")
            || e.is("InvalidParameterCombination")
        {
            FlowError::wrap(&e, "invalid argument: ", false, "")
        } else if e.is("VolumeModificationSizeLimitExceeded") || e.is("MaxIOPSLimitExceeded") {
            FlowError::wrap(&e, "limit exceeded: ", false, "")
        } else {
            FlowError::api(&e)
        }
    })?;
    let done = out
        .volume_modification()
        .and_then(|m| m.modification_state())
        .map(modification_done)
        .unwrap_or(false);
    if !done {
        wait_for_modification(ctx, &input.volume_id).await?;
    }
    check_desired_state(ctx, input).await
}
