//! EBS volumes: CreateVolume (idempotent with a client token, see [`super::volume_tokens`]),
//! DescribeVolumes, DeleteVolume, and the pieces the attachment and modification handlers share
//! (observed state, settling due transitions, rendering).
//!
//! A volume's state is derived from the virtual clock when observed: `creating` until its
//! creation time has passed, `in-use` while an attachment is not yet `detached`, `deleting` until
//! it is gone. Writers first [`settle`] the region so stored state is what an observer would see.
//!
//! An encrypted volume whose KMS key is unusable (missing, disabled, pending deletion) or that the
//! caller may not use (key policy and IAM, see [`crate::services::kms::access`]) is created
//! `creating` and then disappears instead of becoming `available`, as EBS does with a key it
//! cannot use (see [`crate::services::kms::EncryptionKey::usable_by_ebs`]).

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::tags::{self, TAG_FILTERS};
use crate::state::{read, write};

use super::common::{self, timestamp};
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{AttachState, Ec2Region, Timed, Volume, VolumeState};
use super::snapshots;
use super::volume_tokens::{self, VolumeRequest};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    // CreateVolume from a snapshot is authorized on that snapshot too.
    Action::new("CreateVolume", create_volume)
        .on(&[On::Created(&VOLUME), On::Id("SnapshotId")])
        .tags(TagsIn::Specifications),
    Action::new("DescribeVolumes", describe_volumes),
    Action::new("DeleteVolume", delete_volume).on(&[On::Id("VolumeId")]),
];

/// EBS volumes.
pub const VOLUME: Kind = Kind {
    prefix: "vol",
    arn_type: "volume",
    not_found: Some(NotFound {
        code: "InvalidVolume.NotFound",
        message: "The volume '{id}' does not exist.",
    }),
    malformed: Some("InvalidVolumeID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.volumes.get(id).map(|v| &v.tags),
        get_mut: |r, id| r.volumes.get_mut(id).map(|v| &mut v.tags),
    }),
    ..Kind::BASE
};

/// A volume's configuration: what CreateVolume sets and ModifyVolume changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub volume_type: String,
    pub size_gib: i64,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
}

/// AWS's bounds per volume type: (min GiB, max GiB, IOPS range and max IOPS per GiB when
/// provisioned, throughput range when provisioned).
struct Bounds {
    size: (i64, i64),
    iops: Option<((i64, i64), i64)>,
    throughput: Option<(i64, i64)>,
}

fn bounds(volume_type: &str) -> Option<Bounds> {
    Some(match volume_type {
        "gp2" => Bounds {
            size: (1, 16_384),
            iops: None,
            throughput: None,
        },
        "gp3" => Bounds {
            size: (1, 16_384),
            iops: Some(((3_000, 16_000), 500)),
            throughput: Some((125, 1_000)),
        },
        "io1" => Bounds {
            size: (4, 16_384),
            iops: Some(((100, 64_000), 50)),
            throughput: None,
        },
        "io2" => Bounds {
            size: (4, 65_536),
            iops: Some(((100, 256_000), 1_000)),
            throughput: None,
        },
        "st1" | "sc1" => Bounds {
            size: (125, 16_384),
            iops: None,
            throughput: None,
        },
        "standard" => Bounds {
            size: (1, 1_024),
            iops: None,
            throughput: None,
        },
        _ => return None,
    })
}

impl Config {
    /// Checks the configuration against AWS's per-type rules and fills in the defaults (gp3:
    /// 3000 IOPS and 125 MiB/s).
    pub fn validated(mut self) -> AwsResult<Config> {
        let t = self.volume_type.as_str();
        let b = bounds(t).ok_or_else(|| {
            AwsError::invalid_value(format!(
                "Value ({t}) for parameter volumeType is invalid. Valid values: standard, io1, io2, gp2, sc1, st1, gp3"
            ))
        })?;
        if self.size_gib < b.size.0 || self.size_gib > b.size.1 {
            return Err(AwsError::invalid_value(format!(
                "Volume of {}GiB is outside the range for volume type {t}: {}-{}GiB",
                self.size_gib, b.size.0, b.size.1
            )));
        }
        match (b.iops, self.iops) {
            (None, Some(_)) => {
                return Err(AwsError::invalid_combination(format!(
                    "The parameter iops is not supported for {t} volumes."
                )))
            }
            (Some(_), None) if t == "io1" || t == "io2" => {
                return Err(AwsError::invalid_combination(format!(
                    "The parameter iops must be specified for {t} volumes."
                )))
            }
            (Some(((lo, hi), per_gib)), Some(iops)) => {
                if iops < lo || iops > hi {
                    return Err(AwsError::invalid_value(format!(
                        "Iops {iops} is outside the range for {t} volumes: {lo}-{hi}"
                    )));
                }
                if iops > per_gib * self.size_gib && !(t == "gp3" && iops <= 3_000) {
                    return Err(AwsError::invalid_value(format!(
                        "Iops to volume size ratio of {} is too high; maximum is {per_gib}",
                        iops / self.size_gib.max(1)
                    )));
                }
            }
            (Some(_), None) => self.iops = Some(3_000),
            (None, None) => {}
        }
        match (b.throughput, self.throughput) {
            (None, Some(_)) => {
                return Err(AwsError::invalid_combination(format!(
                    "The parameter throughput is not supported for {t} volumes."
                )))
            }
            (Some((lo, hi)), Some(tp)) => {
                if tp < lo || tp > hi {
                    return Err(AwsError::invalid_value(format!(
                        "Throughput {tp} is outside the range for {t} volumes: {lo}-{hi} MiB/s"
                    )));
                }
                let iops = self.iops.unwrap_or(3_000);
                if tp * 4 > iops && tp > 125 {
                    return Err(AwsError::invalid_value(format!(
                        "Throughput {tp} MiB/s is too high for {iops} IOPS; the maximum is 0.25 MiB/s per IOPS"
                    )));
                }
            }
            (Some(_), None) => self.throughput = Some(125),
            (None, None) => {}
        }
        Ok(self)
    }
}

/// The state of a volume as observed at `now`.
pub fn observed(v: &Volume, now: i64) -> VolumeState {
    let base = v.state.at(now);
    match &v.attachment {
        Some(a) if base == VolumeState::Available && a.state.at(now) != AttachState::Detached => {
            VolumeState::InUse
        }
        _ => base,
    }
}

/// Folds due transitions into stored state: finished detachments are dropped, deleted volumes
/// removed (their client tokens noted as gone, old ones forgotten). Writers call this before they
/// validate, so they decide on what an observer sees.
pub fn settle(region: &mut Ec2Region, now: i64) {
    let mut gone = Vec::new();
    region.volumes.retain(|_, v| {
        v.state.settle(now);
        if let Some(a) = &mut v.attachment {
            a.state.settle(now);
            a.instance_view.settle(now);
            if a.state.state == AttachState::Detached {
                v.attachment = None;
            }
        }
        if v.state.state == VolumeState::Deleted {
            gone.push(v.clone());
            return false;
        }
        true
    });
    for v in &gone {
        volume_tokens::volume_gone(region, v);
    }
    volume_tokens::expire(region, now);
}

/// The volume `id`, or AWS's NotFound / Malformed answer.
pub fn find<'r>(region: &'r Ec2Region, id: &str, now: i64) -> AwsResult<&'r Volume> {
    VOLUME.check(id)?;
    region
        .volumes
        .get(id)
        .filter(|v| v.state.at(now) != VolumeState::Deleted)
        .ok_or_else(|| VOLUME.not_found(id))
}

/// The instance a volume is attached to, for error messages ("" when none).
pub fn attached_instance(v: &Volume) -> &str {
    v.attachment
        .as_ref()
        .map(|a| a.instance_id.as_str())
        .unwrap_or("")
}

/// The attachment members AWS writes in `attachmentSet` items and the AttachVolume/DetachVolume answers.
pub fn render_attachment(w: &mut Writer, v: &Volume, state: AttachState) {
    if let Some(a) = &v.attachment {
        w.str("VolumeId", &v.id)
            .str("InstanceId", &a.instance_id)
            .str("Device", &a.device)
            .str("State", state.name())
            .time("AttachTime", a.attach_ms)
            .bool("DeleteOnTermination", a.delete_on_termination);
    }
}

/// The members of a Volume, as in DescribeVolumes items and the CreateVolume answer.
pub fn render(
    w: &mut Writer,
    v: &Volume,
    state: VolumeState,
    now: i64,
    modification: Option<&Config>,
) {
    let (size, vtype, iops, throughput) = match modification {
        Some(c) => (c.size_gib, c.volume_type.as_str(), c.iops, c.throughput),
        None => (v.size_gib, v.volume_type.as_str(), v.iops, v.throughput),
    };
    w.str("VolumeId", &v.id)
        .int("Size", size)
        .str("SnapshotId", v.snapshot_id.as_deref().unwrap_or(""))
        .str("AvailabilityZone", &v.zone)
        .str("AvailabilityZoneId", &v.zone_id)
        .str("State", state.name())
        .time("CreateTime", v.create_ms);
    let attachment = v
        .attachment
        .as_ref()
        .map(|a| a.state.at(now))
        .filter(|s| *s != AttachState::Detached);
    w.list("Attachments", attachment, |w, astate| {
        render_attachment(w, v, astate)
    });
    w.str("VolumeType", vtype).int_opt("Iops", iops);
    w.int_opt("Throughput", throughput);
    w.bool("Encrypted", v.encrypted)
        .str_opt("KmsKeyId", v.kms_key_id.as_deref());
    common::write_tags(w, &v.tags);
    w.bool("MultiAttachEnabled", v.multi_attach)
        .bool("FastRestored", v.fast_restored);
}

/// The configuration a volume shows at `now`: a modification's target once it is optimizing.
pub fn current_config(region: &Ec2Region, v: &Volume, now: i64) -> Option<Config> {
    let m = region.volume_modifications.get(&v.id)?;
    (now >= m.optimizing_at_ms).then(|| Config {
        volume_type: m.target_type.clone(),
        size_gib: m.target_size,
        iops: m.target_iops,
        throughput: m.target_throughput,
    })
}

fn create_volume(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let zone = p.str("AvailabilityZone");
    let zone_id = p.str("AvailabilityZoneId");
    let size = p.int("Size")?;
    let snapshot = p.str("SnapshotId");
    let volume_type = p.str("VolumeType").unwrap_or("gp2").to_string();
    let iops = p.int("Iops")?;
    let throughput = p.int("Throughput")?;
    let encrypted = p.bool("Encrypted")?.unwrap_or(false);
    let kms_key = p.str("KmsKeyId");
    let multi_attach = p.bool("MultiAttachEnabled")?.unwrap_or(false);
    let client_token = p.str("ClientToken");
    let mut tag_specs = tags::from_specifications(&p, &["volume"])?;
    call.params()?.finish()?;
    let client_token = common::client_token(client_token)?;

    if size.is_none() && snapshot.is_none() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter size or snapshotId",
        ));
    }
    // The snapshot restored from, checked first (it must exist and be completed); its lock is
    // released before the KMS lock below.
    let source = match snapshot {
        Some(s) => Some(snapshots::for_volume(call, s)?),
        None => None,
    };
    let size = match (&source, size) {
        // The snapshot's size unless a size is given, which may not be smaller.
        (Some(s), None) => Some(s.snapshot.volume_size),
        (Some(s), Some(n)) if n < s.snapshot.volume_size => {
            return Err(AwsError::invalid_value(format!(
                "Volume of size {n}GB is smaller than snapshot '{}', expect size >= {}GB",
                s.snapshot.id, s.snapshot.volume_size
            )))
        }
        (_, n) => n,
    };
    if kms_key.is_some() && !encrypted {
        return Err(AwsError::bad_request(
            "InvalidParameterDependency",
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    if multi_attach && volume_type != "io1" && volume_type != "io2" {
        return Err(AwsError::invalid_combination(
            "Multi-Attach is supported only for io1 and io2 volumes.",
        ));
    }
    let config = Config {
        volume_type,
        size_gib: size.unwrap_or(0),
        iops,
        throughput,
    }
    .validated()?;
    let region_def = crate::state::regions::region(call.region).ok_or_else(AwsError::internal)?;
    let zone = match (zone, zone_id) {
        (Some(z), None) => region_def.zone(z),
        (None, Some(id)) => region_def.zones().into_iter().find(|z| z.id == id),
        (None, None) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter AvailabilityZone or AvailabilityZoneId",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AwsError::invalid_combination(
                "Only one of AvailabilityZone and AvailabilityZoneId may be given",
            ))
        }
    }
    .ok_or_else(|| {
        AwsError::bad_request(
            "InvalidZone.NotFound",
            format!(
                "The zone '{}' does not exist.",
                zone.or(zone_id).unwrap_or_default()
            ),
        )
    })?;

    // EBS checks the key asynchronously: an unusable key (missing, disabled, pending deletion,
    // not a symmetric encryption key, or not even well formed) still gets a `creating` volume,
    // which then disappears instead of becoming available. The KMS lock is taken and released
    // here, before the EC2 lock below.
    // A volume restored from an encrypted snapshot is encrypted whatever `Encrypted` says, by
    // the given key or else by the snapshot's.
    let from_encrypted = source.as_ref().filter(|s| s.snapshot.encrypted);
    let encrypted = encrypted || from_encrypted.is_some();
    let key_ref = kms_key.or(from_encrypted.and_then(|s| s.snapshot.kms_key_id.as_deref()));
    let key = if encrypted {
        Some(crate::services::kms::encryption_key(
            call,
            key_ref,
            "alias/aws/ebs",
        )?)
    } else {
        None
    };
    let tags = tag_specs.remove("volume").unwrap_or_default();
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let request = VolumeRequest {
        volume_type: config.volume_type.clone(),
        size_gib: config.size_gib,
        iops: config.iops,
        throughput: config.throughput,
        encrypted,
        kms_key_id: kms_key.map(str::to_string),
        multi_attach,
        tags: tags.clone(),
        snapshot_id: snapshot.map(str::to_string),
    };
    if let Some(token) = client_token {
        settle(&mut region, now);
        if let Some(v) = volume_tokens::earlier(&region, &zone.name, token, &request)? {
            // The same request again: the volume it made, as it is now.
            let mut w = call.writer();
            let modified = current_config(&region, v, now);
            render(&mut w, v, observed(v, now), now, modified.as_ref());
            call.created(&v.id);
            return w.finish();
        }
    }
    let id = call.world.ids.resource_id("vol");
    let fast_restored =
        snapshot.is_some_and(|s| super::fast_restores::enabled_in(&region, s, &zone.name, now));
    // The same holds when the caller may not use the key: EBS uses it with the caller's
    // permissions, bound to the new volume's id (decided now, on today's policies).
    let creates = key.as_ref().is_none_or(|k| k.usable_by_ebs(call, &id));
    let kms_key_id = key.map(|k| k.shown);
    let volume = Volume {
        id,
        size_gib: config.size_gib,
        volume_type: config.volume_type,
        iops: config.iops,
        throughput: config.throughput,
        zone: zone.name,
        zone_id: zone.id,
        encrypted,
        kms_key_id,
        snapshot_id: snapshot.map(str::to_string),
        multi_attach,
        fast_restored,
        create_ms: now,
        state: Timed::transition(
            VolumeState::Creating,
            now,
            if creates {
                VolumeState::Available
            } else {
                VolumeState::Deleted
            },
            call.world.durations.volume_create,
        ),
        attachment: None,
        tags,
        client_token: client_token.map(str::to_string),
    };
    let mut w = call.writer();
    // The answer shows AWS's intermediate state, whatever the timing profile.
    render(&mut w, &volume, VolumeState::Creating, now, None);
    if let Some(token) = client_token {
        volume_tokens::remember(&mut region, &volume.zone, token, &volume.id, request);
    }
    call.created(&volume.id);
    region.volumes.insert(volume.id.clone(), volume);
    w.finish()
}

/// Filter names DescribeVolumes knows.
const VOLUME_FILTERS: &[&str] = &[
    "attachment.attach-time",
    "attachment.delete-on-termination",
    "attachment.device",
    "attachment.instance-id",
    "attachment.status",
    "availability-zone",
    "availability-zone-id",
    "create-time",
    "encrypted",
    "fast-restored",
    "multi-attach-enabled",
    "size",
    "snapshot-id",
    "status",
    "volume-id",
    "volume-type",
    TAG_FILTERS[0],
    TAG_FILTERS[1],
    TAG_FILTERS[2],
];

fn volume_matches(f: &Filter, v: &Volume, state: VolumeState, now: i64, config: &Config) -> bool {
    if let Some(m) = tags::filter_matches(f, &v.tags) {
        return m;
    }
    let attachment = v
        .attachment
        .as_ref()
        .filter(|a| a.state.at(now) != AttachState::Detached);
    let bool_str = |b: bool| if b { "true" } else { "false" };
    let value: Option<String> = match f.name.as_str() {
        "attachment.attach-time" => attachment.map(|a| timestamp(a.attach_ms)),
        "attachment.delete-on-termination" => {
            attachment.map(|a| bool_str(a.delete_on_termination).into())
        }
        "attachment.device" => attachment.map(|a| a.device.clone()),
        "attachment.instance-id" => attachment.map(|a| a.instance_id.clone()),
        "attachment.status" => attachment.map(|a| a.state.at(now).name().into()),
        "availability-zone" => Some(v.zone.clone()),
        "availability-zone-id" => Some(v.zone_id.clone()),
        "create-time" => Some(timestamp(v.create_ms)),
        "encrypted" => Some(bool_str(v.encrypted).into()),
        "fast-restored" => Some(bool_str(v.fast_restored).into()),
        "multi-attach-enabled" => Some(bool_str(v.multi_attach).into()),
        "size" => Some(config.size_gib.to_string()),
        "snapshot-id" => Some(v.snapshot_id.clone().unwrap_or_default()),
        "status" => Some(state.name().into()),
        "volume-id" => Some(v.id.clone()),
        "volume-type" => Some(config.volume_type.clone()),
        _ => None,
    };
    value.is_some_and(|val| f.matches(&val))
}

fn describe_volumes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("VolumeId")?;
    let filters = filters::parse(&p, VOLUME_FILTERS)?;
    let page = Page::read(&p)?.at_most(500);
    let _managed = p.bool("IncludeManagedResources")?;
    call.params()?.finish()?;
    page.not_with_ids(&ids, "volumeSet")?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let region = read(&lock);
    for id in &ids {
        find(&region, id, now)?;
    }
    let unseen = common::unseen(call, &VOLUME);
    common::check_visible(&unseen, &ids)?;
    let mut matched: Vec<(&Volume, VolumeState, Option<Config>)> = Vec::new();
    for v in region.volumes.values() {
        if !ids.is_empty() && !ids.contains(&v.id.as_str()) || !unseen.listed(&v.id) {
            continue;
        }
        let state = observed(v, now);
        if state == VolumeState::Deleted {
            continue;
        }
        let modified = current_config(&region, v, now);
        let shown = modified.clone().unwrap_or_else(|| Config {
            volume_type: v.volume_type.clone(),
            size_gib: v.size_gib,
            iops: v.iops,
            throughput: v.throughput,
        });
        if filters
            .iter()
            .all(|f| volume_matches(f, v, state, now, &shown))
        {
            matched.push((v, state, modified));
        }
    }
    let (page, next) = page.apply(matched)?;
    let mut w = call.writer();
    w.list("Volumes", page, |w, (v, state, modified)| {
        render(w, v, state, now, modified.as_ref())
    });
    w.str_opt("NextToken", next);
    w.finish()
}

fn delete_volume(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("VolumeId")?.to_string();
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now);
    let v = find(&region, &id, now)?;
    match observed(v, now) {
        VolumeState::Available | VolumeState::Error => {}
        VolumeState::InUse => {
            return Err(AwsError::bad_request(
                "VolumeInUse",
                format!(
                    "Volume {id} is currently attached to {}",
                    attached_instance(v)
                ),
            ));
        }
        other => {
            return Err(AwsError::bad_request(
                "IncorrectState",
                format!("The volume '{id}' is '{}'", other.name()),
            ))
        }
    }
    let delete_after = call.world.durations.volume_delete;
    if let Some(v) = region.volumes.get_mut(&id) {
        v.state = Timed::transition(
            VolumeState::Deleting,
            now,
            VolumeState::Deleted,
            delete_after,
        );
    }
    region.volume_modifications.remove(&id);
    common::done(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(t: &str, size: i64, iops: Option<i64>, tp: Option<i64>) -> AwsResult<Config> {
        Config {
            volume_type: t.into(),
            size_gib: size,
            iops,
            throughput: tp,
        }
        .validated()
    }

    #[test]
    fn type_bounds() {
        assert_eq!(cfg("gp3", 10, None, None).unwrap().iops, Some(3_000));
        assert_eq!(cfg("gp3", 10, None, None).unwrap().throughput, Some(125));
        assert!(cfg("gp2", 0, None, None).is_err());
        assert!(cfg("gp2", 16_385, None, None).is_err());
        assert_eq!(
            cfg("gp2", 10, Some(100), None).unwrap_err().code,
            "InvalidParameterCombination"
        );
        assert_eq!(
            cfg("io1", 10, None, None).unwrap_err().code,
            "InvalidParameterCombination"
        );
        assert!(cfg("io1", 10, Some(500), None).is_ok());
        assert!(cfg("io1", 10, Some(501), None).is_err());
        assert!(cfg("st1", 124, None, None).is_err());
        assert!(cfg("standard", 1_025, None, None).is_err());
        assert!(cfg("gp3", 100, Some(3_000), Some(751)).is_err());
        assert!(cfg("gp3", 100, Some(4_000), Some(1_000)).is_ok());
        assert_eq!(
            cfg("nvme", 10, None, None).unwrap_err().code,
            "InvalidParameterValue"
        );
    }
}
