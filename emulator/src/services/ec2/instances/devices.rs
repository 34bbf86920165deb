//! The block devices of a launch: the image's root volume (8 GiB gp3 unless a mapping of the same
//! device says otherwise) and every further `BlockDeviceMapping.N`, each becoming an EBS volume
//! attached to the new instance.

use std::collections::BTreeSet;

use crate::protocol::{AwsError, AwsResult, Scope};
use crate::state::tags::Tags;

use super::super::images;
use super::super::model::{AttachState, Attachment, Timed, Volume, VolumeState};

/// One requested EBS volume (`BlockDeviceMapping.N`), or the image's root with its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub name: String,
    pub size: Option<i64>,
    pub volume_type: String,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub delete_on_termination: bool,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    /// `NoDevice`: the mapping removes the device (only meaningful for the image's own).
    pub suppressed: bool,
}

pub const VOLUME_TYPES: &[&str] = &["standard", "gp2", "gp3", "io1", "io2", "st1", "sc1"];

pub fn parse(m: &Scope<'_>) -> AwsResult<Device> {
    let name = m.required("DeviceName")?.to_string();
    let suppressed = m.str("NoDevice").is_some();
    let _virtual = m.str("VirtualName");
    let e = m.nested("Ebs");
    let volume_type = e.str("VolumeType").unwrap_or("gp3").to_string();
    if !VOLUME_TYPES.contains(&volume_type.as_str()) {
        return Err(AwsError::invalid_value(format!(
            "The volume type '{volume_type}' is not valid. Valid types are: {}",
            VOLUME_TYPES.join(", ")
        )));
    }
    let size = e.int("VolumeSize")?;
    if let Some(s) = size {
        let (lo, hi) = match volume_type.as_str() {
            "standard" => (1, 1024),
            "io1" | "io2" => (4, 16384),
            "st1" | "sc1" => (125, 16384),
            _ => (1, 16384),
        };
        if !(lo..=hi).contains(&s) {
            return Err(AwsError::invalid_value(format!(
                "Volume of size {s}GB is not valid for volume type {volume_type}: it must be between {lo} and {hi}GB."
            )));
        }
    }
    let iops = e.int("Iops")?;
    if matches!(volume_type.as_str(), "io1" | "io2") && iops.is_none() {
        return Err(AwsError::invalid_combination(format!(
            "The parameter iops must be specified for {volume_type} volumes."
        )));
    }
    Ok(Device {
        name,
        size,
        iops,
        throughput: e.int("Throughput")?,
        delete_on_termination: e.bool("DeleteOnTermination")?.unwrap_or(true),
        encrypted: e.bool("Encrypted")?.unwrap_or(false),
        kms_key_id: e.str("KmsKeyId").map(str::to_string),
        snapshot_id: e.str("SnapshotId").map(str::to_string),
        volume_type,
        suppressed,
    })
}

/// The devices to create per instance: the image's root (as overridden by a mapping of the same
/// name) and every further mapping.
pub fn plan(requested: &[Device], image: Option<&images::Image>) -> AwsResult<Vec<Device>> {
    let root_name = image.map_or("/dev/xvda", |i| i.root_device_name);
    let root_size = image.map_or(8, |i| i.root_size_gib);
    let mut root = Device {
        name: root_name.to_string(),
        size: Some(root_size),
        volume_type: "gp3".into(),
        iops: None,
        throughput: None,
        delete_on_termination: true,
        encrypted: false,
        kms_key_id: None,
        snapshot_id: image.map(|i| i.snapshot_id.clone()),
        suppressed: false,
    };
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for d in requested {
        if !names.insert(d.name.clone()) {
            return Err(AwsError::invalid_value(format!(
                "The device name {} is used more than once in the block device mapping",
                d.name
            )));
        }
        if d.name == root_name {
            if d.suppressed {
                return Err(AwsError::invalid_value(
                    "The root device of an instance cannot be suppressed with NoDevice",
                ));
            }
            if d.size.is_some_and(|s| s < root_size) {
                return Err(AwsError::invalid_value(format!(
                    "Volume of size {}GB is smaller than snapshot '{}', expect size >= {root_size}GB",
                    d.size.unwrap_or_default(),
                    root.snapshot_id.clone().unwrap_or_default()
                )));
            }
            let snapshot = root.snapshot_id.clone();
            root = Device {
                size: d.size.or(Some(root_size)),
                snapshot_id: d.snapshot_id.clone().or(snapshot),
                ..d.clone()
            };
        } else if !d.suppressed {
            if d.size.is_none() && d.snapshot_id.is_none() {
                return Err(AwsError::bad_request(
                    "InvalidBlockDeviceMapping",
                    format!("The device '{}' needs a volume size or a snapshot", d.name),
                ));
            }
            out.push(d.clone());
        }
    }
    out.insert(0, root);
    Ok(out)
}

/// The iops and throughput AWS gives a volume when the mapping leaves them out.
fn performance(d: &Device, size: i64) -> (Option<i64>, Option<i64>) {
    match d.volume_type.as_str() {
        "gp3" => (d.iops.or(Some(3000)), d.throughput.or(Some(125))),
        "gp2" => (Some((size * 3).clamp(100, 16000)), None),
        "io1" | "io2" => (d.iops, None),
        _ => (None, None),
    }
}

/// The volume of `dev` for instance `instance_id`, attached from `now`.
pub fn volume(
    dev: &Device,
    id: String,
    instance_id: &str,
    (zone, zone_id): (&str, &str),
    tags: &Tags,
    now: i64,
) -> Volume {
    let size = dev.size.unwrap_or(8);
    let (iops, throughput) = performance(dev, size);
    Volume {
        id,
        size_gib: size,
        volume_type: dev.volume_type.clone(),
        iops,
        throughput,
        zone: zone.to_string(),
        zone_id: zone_id.to_string(),
        encrypted: dev.encrypted || dev.kms_key_id.is_some(),
        kms_key_id: dev.kms_key_id.clone(),
        snapshot_id: dev.snapshot_id.clone(),
        multi_attach: false,
        fast_restored: false,
        create_ms: now,
        // The base state of an attached volume is `available`; the attachment makes it `in-use`
        // to observers, and detaching leaves it available.
        state: Timed::new(VolumeState::Available, now),
        attachment: Some(Attachment {
            instance_id: instance_id.to_string(),
            device: dev.name.clone(),
            attach_ms: now,
            delete_on_termination: dev.delete_on_termination,
            state: Timed::new(AttachState::Attached, now),
            instance_view: Timed::new(AttachState::Attached, now),
        }),
        tags: tags.clone(),
        client_token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(name: &str, size: Option<i64>) -> Device {
        Device {
            name: name.into(),
            size,
            volume_type: "gp3".into(),
            iops: None,
            throughput: None,
            delete_on_termination: true,
            encrypted: false,
            kms_key_id: None,
            snapshot_id: None,
            suppressed: false,
        }
    }

    #[test]
    fn root_defaults_overrides_and_extra_devices() {
        let image = images::defaults("us-east-1").into_iter().next().unwrap();
        let plan0 = plan(&[], Some(&image)).unwrap();
        assert_eq!(plan0.len(), 1);
        assert_eq!(plan0[0].name, image.root_device_name);
        assert_eq!(plan0[0].size, Some(8));
        assert_eq!(
            plan0[0].snapshot_id.as_deref(),
            Some(image.snapshot_id.as_str())
        );
        let bigger = plan(&[dev(image.root_device_name, Some(30))], Some(&image)).unwrap();
        assert_eq!(bigger[0].size, Some(30));
        assert_eq!(
            bigger[0].snapshot_id.as_deref(),
            Some(image.snapshot_id.as_str())
        );
        assert!(plan(&[dev(image.root_device_name, Some(4))], Some(&image)).is_err());
        let extra = plan(&[dev("/dev/sdf", Some(100))], None).unwrap();
        assert_eq!(extra.len(), 2);
        assert_eq!(extra[0].name, "/dev/xvda");
        assert_eq!(extra[1].name, "/dev/sdf");
        assert!(plan(&[dev("/dev/sdf", None)], None).is_err());
        assert!(plan(&[dev("/dev/sdf", Some(1)), dev("/dev/sdf", Some(2))], None).is_err());
    }

    #[test]
    fn performance_defaults() {
        let gp3 = dev("/dev/xvda", Some(8));
        assert_eq!(performance(&gp3, 8), (Some(3000), Some(125)));
        let gp2 = Device {
            volume_type: "gp2".into(),
            ..gp3.clone()
        };
        assert_eq!(performance(&gp2, 8), (Some(100), None));
        assert_eq!(performance(&gp2, 1000), (Some(3000), None));
        let v = volume(
            &gp3,
            "vol-1".into(),
            "i-1",
            ("us-east-1a", "use1-az1"),
            &Tags::new(),
            5,
        );
        let a = v.attachment.unwrap();
        assert_eq!(
            (a.instance_id.as_str(), a.device.as_str()),
            ("i-1", "/dev/xvda")
        );
        assert_eq!(a.state.at(5), AttachState::Attached);
    }
}
