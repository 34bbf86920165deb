//! CreateLaunchConfiguration, DescribeLaunchConfigurations and DeleteLaunchConfiguration, and what
//! a launch configuration means at launch: its security groups in a VPC, its block devices as EC2
//! devices, its instance profile.

use crate::auth::identities::Identities;
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::ec2::common;
use crate::services::ec2::images;
use crate::services::ec2::instances::devices::{self, Device, VOLUME_TYPES};
use crate::services::ec2::instances::run::valid_instance_type;
use crate::services::ec2::instances::visible;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::services::ec2::referenced::IMAGE;
use crate::services::Call;

use super::model::{BlockDevice, Ebs, LaunchConfiguration, MetadataOptions};
use super::{
    arn, check_string, constraint, lower_first, required_name, validation, with_region, Records,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateLaunchConfiguration", create_launch_configuration),
    Action::new(
        "DescribeLaunchConfigurations",
        describe_launch_configurations,
    ),
    Action::new("DeleteLaunchConfiguration", delete_launch_configuration),
];

/// Reads `BlockDeviceMappings.member.N` and checks each member against its shape.
fn parse_block_devices(p: &Scope<'_>) -> AwsResult<Vec<BlockDevice>> {
    let mut out = Vec::new();
    for (i, m) in p.structs("BlockDeviceMappings")?.iter().enumerate() {
        let at = |member: &str| format!("blockDeviceMappings.{}.member.{member}", i + 1);
        let device_name = m.required("DeviceName")?.to_string();
        check_string(&device_name, &at("deviceName"), 1, 255)?;
        let virtual_name = m.str("VirtualName").map(str::to_string);
        let no_device = m.bool("NoDevice")?;
        let ebs = if m.has("Ebs") {
            let e = m.nested("Ebs");
            let ebs = Ebs {
                snapshot_id: e.str("SnapshotId").map(str::to_string),
                volume_size: e.int("VolumeSize")?,
                volume_type: e.str("VolumeType").map(str::to_string),
                delete_on_termination: e.bool("DeleteOnTermination")?,
                iops: e.int("Iops")?,
                encrypted: e.bool("Encrypted")?,
                throughput: e.int("Throughput")?,
            };
            let ranges = [
                ("volumeSize", ebs.volume_size, 1, 16384),
                ("iops", ebs.iops, 100, 20000),
                ("throughput", ebs.throughput, 125, 1000),
            ];
            for (member, value, lo, hi) in ranges {
                match value {
                    Some(v) if v < lo => {
                        return Err(constraint(
                            v,
                            &at(&format!("ebs.{member}")),
                            &format!("have value greater than or equal to {lo}"),
                        ))
                    }
                    Some(v) if v > hi => {
                        return Err(constraint(
                            v,
                            &at(&format!("ebs.{member}")),
                            &format!("have value less than or equal to {hi}"),
                        ))
                    }
                    _ => {}
                }
            }
            if let Some(t) = ebs.volume_type.as_deref() {
                if !VOLUME_TYPES.contains(&t) {
                    return Err(validation(format!(
                        "The volume type '{t}' is not valid. Valid types are: {}",
                        VOLUME_TYPES.join(", ")
                    )));
                }
                if matches!(t, "io1" | "io2") && ebs.iops.is_none() {
                    return Err(validation(format!(
                        "The parameter iops must be specified for {t} volumes."
                    )));
                }
            }
            Some(ebs)
        } else {
            None
        };
        out.push(BlockDevice {
            device_name,
            virtual_name,
            no_device,
            ebs,
        });
    }
    Ok(out)
}

/// The EC2 devices of a launch configuration's mappings, before `devices::plan` adds the image's
/// root. Volumes default as RunInstances defaults them (gp3, deleted on termination).
pub fn ec2_devices(lc: &LaunchConfiguration) -> Vec<Device> {
    lc.block_devices
        .iter()
        .map(|b| {
            let e = b.ebs.as_ref();
            Device {
                name: b.device_name.clone(),
                size: e.and_then(|e| e.volume_size),
                volume_type: e
                    .and_then(|e| e.volume_type.clone())
                    .unwrap_or_else(|| "gp3".into()),
                iops: e.and_then(|e| e.iops),
                throughput: e.and_then(|e| e.throughput),
                delete_on_termination: e.and_then(|e| e.delete_on_termination).unwrap_or(true),
                encrypted: e.and_then(|e| e.encrypted).unwrap_or(false),
                kms_key_id: None,
                snapshot_id: e.and_then(|e| e.snapshot_id.clone()),
                suppressed: b.no_device == Some(true),
            }
        })
        .collect()
}

/// The devices each instance of `lc` gets: the image's root (as overridden) and the others.
pub fn planned_devices(lc: &LaunchConfiguration, region_name: &str) -> AwsResult<Vec<Device>> {
    let image = images::find(region_name, &lc.image_id);
    devices::plan(&ec2_devices(lc), image.as_ref()).map_err(|e| validation(e.message))
}

/// The (ARN, id) of the launch configuration's instance profile (a name or an ARN), as
/// RunInstances stores it on an instance; `None` when it names no stored profile.
pub fn profile(lc: &LaunchConfiguration, identities: &Identities) -> Option<(String, String)> {
    resolve_profile(identities, lc.iam_instance_profile.as_deref()?)
}

/// The stored instance profile a name or ARN names, as (ARN, id).
pub fn resolve_profile(identities: &Identities, given: &str) -> Option<(String, String)> {
    let dir = identities.directory();
    let found = if given.starts_with("arn:") {
        dir.profile_by_arn(given)
    } else {
        dir.profile(given).ok()
    }?;
    Some((found.arn.clone(), found.id.clone()))
}

/// Whether a security group reference is an id (`sg-…`) rather than a name.
fn is_group_id(g: &str) -> bool {
    g.starts_with("sg-")
}

/// The ids of `lc`'s security groups in VPC `vpc_id`; the VPC's `default` group when it names
/// none, as RunInstances does. A group that does not exist, or lives in another VPC, refuses.
pub fn security_group_ids(
    region: &Ec2Region,
    lc: &LaunchConfiguration,
    vpc_id: &str,
) -> AwsResult<Vec<String>> {
    groups_in_vpc(region, &lc.security_groups, vpc_id, "launch configuration")
}

/// The ids of the security groups `given` (ids, or names in the VPC) in VPC `vpc_id`, for a
/// launch `source` (`launch configuration`, `launch template`); the VPC's `default` group when
/// none is given.
pub fn groups_in_vpc(
    region: &Ec2Region,
    given: &[String],
    vpc_id: &str,
    source: &str,
) -> AwsResult<Vec<String>> {
    let mismatch = || {
        validation(format!(
            "One or more security groups in the {source} are not linked to the VPCs configured in the Auto Scaling group"
        ))
    };
    let mut out: Vec<String> = Vec::new();
    for g in given {
        let found = if is_group_id(g) {
            let sg = region
                .security_groups
                .get(g)
                .ok_or_else(|| validation(format!("The security group '{g}' does not exist")))?;
            (sg.vpc_id == vpc_id).then(|| sg.id.clone())
        } else {
            region
                .security_groups
                .values()
                .find(|sg| sg.vpc_id == vpc_id && sg.name == *g)
                .map(|sg| sg.id.clone())
        };
        match found {
            Some(id) if !out.contains(&id) => out.push(id),
            Some(_) => {}
            None => return Err(mismatch()),
        }
    }
    if out.is_empty() {
        let default = region
            .security_groups
            .values()
            .find(|sg| sg.vpc_id == vpc_id && sg.name == "default")
            .ok_or_else(mismatch)?;
        out.push(default.id.clone());
    }
    Ok(out)
}

/// Everything CreateLaunchConfiguration reads.
struct Request<'a> {
    name: &'a str,
    image_id: Option<&'a str>,
    instance_type: Option<&'a str>,
    instance_id: Option<&'a str>,
    key_name: Option<&'a str>,
    security_groups: Vec<&'a str>,
    user_data: Option<&'a str>,
    kernel_id: Option<&'a str>,
    ramdisk_id: Option<&'a str>,
    block_devices: Vec<BlockDevice>,
    monitoring: Option<bool>,
    spot_price: Option<&'a str>,
    iam_instance_profile: Option<&'a str>,
    ebs_optimized: Option<bool>,
    associate_public_ip_address: Option<bool>,
    placement_tenancy: Option<&'a str>,
    metadata_options: Option<MetadataOptions>,
}

fn metadata_options(p: &Scope<'_>) -> AwsResult<Option<MetadataOptions>> {
    if !p.has("MetadataOptions") {
        return Ok(None);
    }
    let m = p.nested("MetadataOptions");
    let options = MetadataOptions {
        http_tokens: m.str("HttpTokens").map(str::to_string),
        http_put_response_hop_limit: m.int("HttpPutResponseHopLimit")?,
        http_endpoint: m.str("HttpEndpoint").map(str::to_string),
    };
    if let Some(t) = options
        .http_tokens
        .as_deref()
        .filter(|t| !matches!(*t, "optional" | "required"))
    {
        return Err(constraint(
            t,
            "metadataOptions.httpTokens",
            "satisfy enum value set: [optional, required]",
        ));
    }
    if let Some(e) = options
        .http_endpoint
        .as_deref()
        .filter(|e| !matches!(*e, "disabled" | "enabled"))
    {
        return Err(constraint(
            e,
            "metadataOptions.httpEndpoint",
            "satisfy enum value set: [disabled, enabled]",
        ));
    }
    match options.http_put_response_hop_limit {
        Some(h) if h < 1 => Err(constraint(
            h,
            "metadataOptions.httpPutResponseHopLimit",
            "have value greater than or equal to 1",
        )),
        Some(h) if h > 64 => Err(constraint(
            h,
            "metadataOptions.httpPutResponseHopLimit",
            "have value less than or equal to 64",
        )),
        _ => Ok(Some(options)),
    }
}

fn decode<'a>(call: &Call<'a>) -> AwsResult<Request<'a>> {
    let p = call.root()?;
    let name = required_name(&p, "LaunchConfigurationName")?;
    let req = Request {
        name,
        image_id: p.str("ImageId"),
        instance_type: p.str("InstanceType"),
        instance_id: p.str("InstanceId"),
        key_name: p.str("KeyName"),
        security_groups: p.strings("SecurityGroups")?,
        user_data: p.str("UserData"),
        kernel_id: p.str("KernelId"),
        ramdisk_id: p.str("RamdiskId"),
        block_devices: parse_block_devices(&p)?,
        monitoring: p.nested("InstanceMonitoring").bool("Enabled")?,
        spot_price: p.str("SpotPrice"),
        iam_instance_profile: p.str("IamInstanceProfile"),
        ebs_optimized: p.bool("EbsOptimized")?,
        associate_public_ip_address: p.bool("AssociatePublicIpAddress")?,
        placement_tenancy: p.str("PlacementTenancy"),
        metadata_options: metadata_options(&p)?,
    };
    // EC2-Classic is retired: ClassicLink settings are accepted and have no effect, as in AWS.
    let _ = p.str("ClassicLinkVPCId");
    let _ = p.strings("ClassicLinkVPCSecurityGroups")?;
    call.params()?.finish()?;

    let strings = [
        ("ImageId", req.image_id, 255),
        ("InstanceType", req.instance_type, 255),
        ("InstanceId", req.instance_id, 19),
        ("KeyName", req.key_name, 255),
        ("KernelId", req.kernel_id, 255),
        ("RamdiskId", req.ramdisk_id, 255),
        ("SpotPrice", req.spot_price, 255),
        ("IamInstanceProfile", req.iam_instance_profile, 1600),
        ("PlacementTenancy", req.placement_tenancy, 64),
    ];
    for (member, value, max) in strings {
        if let Some(v) = value {
            check_string(v, &lower_first(member), 1, max)?;
        }
    }
    if let Some(u) = req.user_data {
        check_string(u, "userData", 0, 21847)?;
    }
    if let Some(given) = req.iam_instance_profile {
        if resolve_profile(call.identities, given).is_none() {
            return Err(validation(format!("Invalid IamInstanceProfile: {given}")));
        }
    }
    if req.instance_id.is_none() && (req.image_id.is_none() || req.instance_type.is_none()) {
        return Err(validation(
            "Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.",
        ));
    }
    if let Some(image) = req.image_id {
        if !common::well_formed(image, IMAGE.prefix) {
            return Err(validation(format!(
                "AMI {image} is invalid: The image id '[{image}]' does not exist"
            )));
        }
    }
    if let Some(t) = req.instance_type.filter(|t| !valid_instance_type(t)) {
        return Err(validation(format!("Invalid instance type: {t}")));
    }
    if let Some(t) = req
        .placement_tenancy
        .filter(|t| !matches!(*t, "default" | "dedicated"))
    {
        return Err(validation(format!(
            "Invalid value '{t}' for PlacementTenancy. Valid values are default and dedicated."
        )));
    }
    let ids = req
        .security_groups
        .iter()
        .filter(|g| is_group_id(g))
        .count();
    if ids != 0 && ids != req.security_groups.len() {
        return Err(validation(
            "Must use either use group-id or group-name for all the security groups, not both at the same time",
        ));
    }
    Ok(req)
}

pub fn create_launch_configuration(call: &Call<'_>) -> AwsResult<Output> {
    let req = decode(call)?;
    with_region(call, |region| {
        if region
            .autoscaling
            .launch_configurations
            .contains_key(req.name)
        {
            return Err(AwsError::bad_request(
                "AlreadyExists",
                format!(
                    "Launch Configuration by this name already exists - A launch configuration already exists with the name {}",
                    req.name
                ),
            ));
        }
        let mut lc = LaunchConfiguration {
            name: req.name.to_string(),
            arn: String::new(),
            image_id: req.image_id.unwrap_or_default().to_string(),
            instance_type: req.instance_type.unwrap_or_default().to_string(),
            key_name: req.key_name.map(str::to_string),
            security_groups: req.security_groups.iter().map(|s| s.to_string()).collect(),
            user_data: req.user_data.map(str::to_string),
            kernel_id: req.kernel_id.map(str::to_string),
            ramdisk_id: req.ramdisk_id.map(str::to_string),
            block_devices: req.block_devices.clone(),
            monitoring: req.monitoring.unwrap_or(true),
            spot_price: req.spot_price.map(str::to_string),
            iam_instance_profile: req.iam_instance_profile.map(str::to_string),
            created_ms: call.now_ms,
            ebs_optimized: req.ebs_optimized.unwrap_or(false),
            associate_public_ip_address: req.associate_public_ip_address,
            placement_tenancy: req.placement_tenancy.map(str::to_string),
            metadata_options: req.metadata_options.clone(),
        };
        if let Some(id) = req.instance_id {
            from_instance(region, &mut lc, &req, id, call)?;
        }
        check_groups_exist(region, &lc)?;
        planned_devices(&lc, call.region)?;
        lc.arn = arn(call, "launchConfiguration", req.name);
        region
            .autoscaling
            .launch_configurations
            .insert(lc.name.clone(), lc);
        Ok(Output::XmlEmpty)
    })
}

/// `InstanceId`: the configuration takes the instance's attributes (all but its block devices)
/// where the request does not give them.
fn from_instance(
    region: &Ec2Region,
    lc: &mut LaunchConfiguration,
    req: &Request<'_>,
    id: &str,
    call: &Call<'_>,
) -> AwsResult<()> {
    let d = call.world.durations;
    let i = region
        .instances
        .get(id)
        .filter(|i| visible(i, call.now_ms, &d))
        .filter(|i| i.state.at(call.now_ms) != InstanceState::Terminated)
        .ok_or_else(|| validation(format!("Instance [{id}] is invalid.")))?;
    if req.image_id.is_none() {
        lc.image_id = i.image_id.clone();
    }
    if req.instance_type.is_none() {
        lc.instance_type = i.instance_type.clone();
    }
    if req.key_name.is_none() {
        lc.key_name = i.key_name.clone();
    }
    if req.security_groups.is_empty() {
        lc.security_groups = i.security_groups.clone();
    }
    if req.user_data.is_none() {
        lc.user_data = i.user_data.clone();
    }
    if req.monitoring.is_none() {
        lc.monitoring = i.monitoring;
    }
    if req.iam_instance_profile.is_none() {
        lc.iam_instance_profile = i.iam_instance_profile.as_ref().map(|(arn, _)| arn.clone());
    }
    if req.ebs_optimized.is_none() {
        lc.ebs_optimized = i.ebs_optimized;
    }
    if req.placement_tenancy.is_none() {
        lc.placement_tenancy = Some(i.tenancy.clone());
    }
    if req.metadata_options.is_none() {
        lc.metadata_options = Some(MetadataOptions {
            http_tokens: Some(i.http_tokens.clone()),
            http_put_response_hop_limit: Some(i.http_put_response_hop_limit),
            http_endpoint: Some(i.http_endpoint.clone()),
        });
    }
    Ok(())
}

/// The configuration's security groups exist: ids anywhere in the region, names in the default VPC.
fn check_groups_exist(region: &Ec2Region, lc: &LaunchConfiguration) -> AwsResult<()> {
    for g in &lc.security_groups {
        let exists = if is_group_id(g) {
            region.security_groups.contains_key(g)
        } else {
            region
                .security_groups
                .values()
                .any(|sg| sg.vpc_id == region.default_vpc_id && sg.name == *g)
        };
        if !exists {
            return Err(validation(format!(
                "The security group '{g}' does not exist"
            )));
        }
    }
    Ok(())
}

pub fn describe_launch_configurations(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("LaunchConfigurationNames")?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let all = &region.autoscaling.launch_configurations;
        let list: Vec<&LaunchConfiguration> = all
            .values()
            .filter(|lc| names.is_empty() || names.contains(&lc.name.as_str()))
            .collect();
        let (page, next) = records.apply(list)?;
        let mut w = call.writer();
        w.list("LaunchConfigurations", page, render)
            .str_opt("NextToken", next);
        w.finish()
    })
}

/// One `LaunchConfiguration`. AWS sends `UserData`, `KernelId` and `RamdiskId` empty when unset,
/// and the (long retired) ClassicLink groups as an empty list.
fn render(w: &mut Writer, lc: &LaunchConfiguration) {
    w.str("LaunchConfigurationName", &lc.name)
        .str("LaunchConfigurationARN", &lc.arn)
        .str("ImageId", &lc.image_id)
        .str_opt("KeyName", lc.key_name.as_deref())
        .strs("SecurityGroups", &lc.security_groups)
        .strs("ClassicLinkVPCSecurityGroups", std::iter::empty::<&str>())
        .str("UserData", lc.user_data.as_deref().unwrap_or(""))
        .str("InstanceType", &lc.instance_type)
        .str("KernelId", lc.kernel_id.as_deref().unwrap_or(""))
        .str("RamdiskId", lc.ramdisk_id.as_deref().unwrap_or(""))
        .list("BlockDeviceMappings", &lc.block_devices, |w, b| {
            w.str_opt("VirtualName", b.virtual_name.as_deref())
                .str("DeviceName", &b.device_name);
            if let Some(e) = &b.ebs {
                w.structure("Ebs", |w| {
                    w.str_opt("SnapshotId", e.snapshot_id.as_deref())
                        .int_opt("VolumeSize", e.volume_size)
                        .str_opt("VolumeType", e.volume_type.as_deref())
                        .bool_opt("DeleteOnTermination", e.delete_on_termination)
                        .int_opt("Iops", e.iops)
                        .bool_opt("Encrypted", e.encrypted)
                        .int_opt("Throughput", e.throughput);
                });
            }
            w.bool_opt("NoDevice", b.no_device);
        })
        .structure("InstanceMonitoring", |w| {
            w.bool("Enabled", lc.monitoring);
        })
        .str_opt("SpotPrice", lc.spot_price.as_deref())
        .str_opt("IamInstanceProfile", lc.iam_instance_profile.as_deref())
        .time("CreatedTime", lc.created_ms)
        .bool("EbsOptimized", lc.ebs_optimized)
        .bool_opt("AssociatePublicIpAddress", lc.associate_public_ip_address)
        .str_opt("PlacementTenancy", lc.placement_tenancy.as_deref());
    if let Some(m) = &lc.metadata_options {
        w.structure("MetadataOptions", |w| {
            w.str_opt("HttpTokens", m.http_tokens.as_deref())
                .int_opt("HttpPutResponseHopLimit", m.http_put_response_hop_limit)
                .str_opt("HttpEndpoint", m.http_endpoint.as_deref());
        });
    }
}

pub fn delete_launch_configuration(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = required_name(&p, "LaunchConfigurationName")?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let a = &mut region.autoscaling;
        if !a.launch_configurations.contains_key(name) {
            return Err(validation(format!(
                "Launch configuration name not found - Launch configuration {name} not found"
            )));
        }
        if let Some(g) = a.group_using(name) {
            return Err(AwsError::bad_request(
                "ResourceInUse",
                format!(
                    "Cannot delete launch configuration {name} because it is attached to AutoScalingGroup {}",
                    g.name
                ),
            ));
        }
        a.launch_configurations.remove(name);
        Ok(Output::XmlEmpty)
    })
}
