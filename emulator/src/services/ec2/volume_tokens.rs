//! CreateVolume's client tokens. A retry with the token of an earlier CreateVolume gets that
//! volume back instead of a second one; the EBS CSI driver relies on it (its token is the sha256
//! of the PersistentVolume name, the same on every retry of one volume).
//!
//! AWS's rules (EC2 developer guide, "Ensuring idempotency in Amazon EC2 API requests", and what
//! users of CreateVolume report):
//! - The same token with the same parameters returns the original result, "with updated
//!   information, such as the current creation status": the volume as it is now.
//! - The same token with different parameters, "other than the Region or Availability Zone",
//!   fails with `IdempotentParameterMismatch`. A token is therefore scoped to its zone here: the
//!   same token in another zone is another request and makes another volume.
//! - The token of a volume that is gone (deleted, or whose creation failed, e.g. with an unusable
//!   KMS key) fails with `IdempotentParameterMismatch` "The client token you have provided is
//!   associated with a resource that is already deleted. Please use a different client token."
//!   [crossplane-contrib/provider-aws#1858, kubernetes-sigs/aws-ebs-csi-driver#3010], until EC2
//!   forgets the token, "measured as 12 hours under normal conditions" [aws-ebs-csi-driver
//!   pkg/cloud/cloud.go, CreateDisk]. The token of a volume that still exists does not expire.

use serde::{Deserialize, Serialize};

use crate::protocol::{AwsError, AwsResult};
use crate::state::tags::Tags;

use super::model::{Ec2Region, Volume, VolumeState};

/// How long after its volume is gone a token keeps being refused.
pub const FORGET_AFTER_MS: i64 = 12 * 60 * 60 * 1000;

/// What a CreateVolume asked for, compared between a retry and the request that first used its
/// token: the effective configuration (defaults filled in) and the rest of the request as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRequest {
    pub volume_type: String,
    pub size_gib: i64,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub multi_attach: bool,
    pub tags: Tags,
    /// The snapshot restored from (missing from state saved before snapshots were emulated).
    #[serde(default)]
    pub snapshot_id: Option<String>,
}

/// A token in use: the volume it made and what was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeToken {
    pub volume_id: String,
    pub request: VolumeRequest,
    /// When the volume went (deleted, or its creation failed); `None` while it exists.
    pub gone_ms: Option<i64>,
}

/// The ledger key of `token` in `zone`. Zone names hold no `/`, so the key is unambiguous.
fn key(zone: &str, token: &str) -> String {
    format!("{zone}/{token}")
}

/// The volume an earlier CreateVolume with `token` in `zone` made, to answer with again; `None`
/// when the token is new here (or forgotten). The region must be settled.
pub fn earlier<'r>(
    region: &'r Ec2Region,
    zone: &str,
    token: &str,
    request: &VolumeRequest,
) -> AwsResult<Option<&'r Volume>> {
    let Some(t) = region.volume_tokens.get(&key(zone, token)) else {
        return Ok(None);
    };
    let volume = region.volumes.get(&t.volume_id);
    if t.gone_ms.is_some() || volume.is_none() {
        return Err(AwsError::bad_request(
            "IdempotentParameterMismatch",
            "The client token you have provided is associated with a resource that is already deleted. Please use a different client token.",
        ));
    }
    if t.request != *request {
        return Err(AwsError::bad_request(
            "IdempotentParameterMismatch",
            "Parameters on this idempotent request are inconsistent with parameters used in previous request(s).",
        ));
    }
    Ok(volume)
}

/// Records the token of a new volume.
pub fn remember(
    region: &mut Ec2Region,
    zone: &str,
    token: &str,
    volume_id: &str,
    request: VolumeRequest,
) {
    region.volume_tokens.insert(
        key(zone, token),
        VolumeToken {
            volume_id: volume_id.to_string(),
            request,
            gone_ms: None,
        },
    );
}

/// Notes that `v`, settled as deleted, is gone (at the time its deletion completed), and forgets
/// tokens gone for [`FORGET_AFTER_MS`]. Called by the volumes' settle for each volume it drops.
pub fn volume_gone(region: &mut Ec2Region, v: &Volume) {
    if let Some(token) = &v.client_token {
        if let Some(t) = region.volume_tokens.get_mut(&key(&v.zone, token)) {
            if t.volume_id == v.id && v.state.state == VolumeState::Deleted {
                t.gone_ms = Some(v.state.since_ms);
            }
        }
    }
}

/// Forgets the tokens whose volumes have been gone for [`FORGET_AFTER_MS`].
pub fn expire(region: &mut Ec2Region, now: i64) {
    region
        .volume_tokens
        .retain(|_, t| t.gone_ms.is_none_or(|gone| now < gone + FORGET_AFTER_MS));
}
