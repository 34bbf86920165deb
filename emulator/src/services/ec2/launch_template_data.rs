//! A launch template version's data (`LaunchTemplateData`), kept typed: decoded from the request
//! member by member, rendered back exactly as given (absent members stay absent, as AWS answers
//! them), and overlaid on a source version by CreateLaunchTemplateVersion. RunInstances and Auto
//! Scaling groups read it through [`TemplateData`]'s fields.

use serde::{Deserialize, Serialize};

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Scope};

/// `IamInstanceProfile`: by ARN or by name, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub arn: Option<String>,
    pub name: Option<String>,
}

/// One `NetworkInterfaces` member (the members node drivers and kOps send).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub device_index: Option<i64>,
    pub subnet_id: Option<String>,
    pub groups: Vec<String>,
    pub associate_public_ip_address: Option<bool>,
    pub delete_on_termination: Option<bool>,
    pub description: Option<String>,
    pub private_ip_address: Option<String>,
    pub network_interface_id: Option<String>,
    pub interface_type: Option<String>,
    pub ipv6_address_count: Option<i64>,
    pub network_card_index: Option<i64>,
}

/// `Ebs` of a block device mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ebs {
    pub encrypted: Option<bool>,
    pub delete_on_termination: Option<bool>,
    pub iops: Option<i64>,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub throughput: Option<i64>,
}

/// One `BlockDeviceMappings` member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDevice {
    pub device_name: Option<String>,
    pub virtual_name: Option<String>,
    /// A string in launch templates (`""` suppresses the device).
    pub no_device: Option<String>,
    pub ebs: Option<Ebs>,
}

/// One `TagSpecifications` member: the tags given to what a launch makes of `resource_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagSpec {
    pub resource_type: String,
    pub tags: Vec<(String, String)>,
}

/// `MetadataOptions`, each member when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<i64>,
    pub http_endpoint: Option<String>,
    pub http_protocol_ipv6: Option<String>,
    pub instance_metadata_tags: Option<String>,
}

/// `Placement`, each member when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub availability_zone: Option<String>,
    pub group_name: Option<String>,
    pub tenancy: Option<String>,
}

/// The data of one launch template version; every member optional, as in AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateData {
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub key_name: Option<String>,
    pub iam_instance_profile: Option<Profile>,
    pub security_group_ids: Option<Vec<String>>,
    pub security_groups: Option<Vec<String>>,
    pub network_interfaces: Option<Vec<NetworkInterface>>,
    pub block_device_mappings: Option<Vec<BlockDevice>>,
    /// Base64, as given.
    pub user_data: Option<String>,
    pub tag_specifications: Option<Vec<TagSpec>>,
    pub metadata_options: Option<Metadata>,
    pub monitoring: Option<bool>,
    pub placement: Option<Placement>,
    pub ebs_optimized: Option<bool>,
    pub disable_api_termination: Option<bool>,
    pub instance_initiated_shutdown_behavior: Option<String>,
    pub kernel_id: Option<String>,
    pub ram_disk_id: Option<String>,
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

fn strings(p: &Scope<'_>, name: &str) -> AwsResult<Option<Vec<String>>> {
    if !p.has(name) {
        return Ok(None);
    }
    Ok(Some(
        p.strings(name)?.into_iter().map(str::to_string).collect(),
    ))
}

/// The resource types a launch template's `TagSpecifications` may name.
const TAGGABLE: &[&str] = &[
    "instance",
    "volume",
    "network-interface",
    "spot-instances-request",
];

/// `MetadataOptions` values, checked as RunInstances checks them.
fn check_metadata(m: &Metadata) -> AwsResult<()> {
    let bad = |v: &str, what: &str| {
        AwsError::invalid_value(format!("Value ({v}) for parameter {what} is invalid."))
    };
    if let Some(t) = m
        .http_tokens
        .as_deref()
        .filter(|t| !matches!(*t, "optional" | "required"))
    {
        return Err(bad(t, "httpTokens"));
    }
    if let Some(h) = m
        .http_put_response_hop_limit
        .filter(|h| !(1..=64).contains(h))
    {
        return Err(AwsError::invalid_value(format!(
            "Value ({h}) for parameter httpPutResponseHopLimit is invalid. Expected a value between 1 and 64."
        )));
    }
    for (v, what) in [
        (m.http_endpoint.as_deref(), "httpEndpoint"),
        (m.http_protocol_ipv6.as_deref(), "httpProtocolIpv6"),
        (m.instance_metadata_tags.as_deref(), "instanceMetadataTags"),
    ] {
        if let Some(v) = v.filter(|v| !matches!(*v, "enabled" | "disabled")) {
            return Err(bad(v, what));
        }
    }
    Ok(())
}

/// Decodes `LaunchTemplateData.*` (the scope is that member). An empty data set is AWS's
/// `MissingParameter` when `required` (CreateLaunchTemplate); CreateLaunchTemplateVersion with a
/// source version may give an empty set.
pub fn parse(p: &Scope<'_>) -> AwsResult<TemplateData> {
    let profile = p.nested("IamInstanceProfile");
    let iam_instance_profile = p.has("IamInstanceProfile").then(|| Profile {
        arn: owned(profile.str("Arn")),
        name: owned(profile.str("Name")),
    });
    let network_interfaces = if p.has("NetworkInterface") {
        let mut out = Vec::new();
        for n in p.structs("NetworkInterface")? {
            out.push(NetworkInterface {
                device_index: n.int("DeviceIndex")?,
                subnet_id: owned(n.str("SubnetId")),
                groups: n
                    .strings("SecurityGroupId")?
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                associate_public_ip_address: n.bool("AssociatePublicIpAddress")?,
                delete_on_termination: n.bool("DeleteOnTermination")?,
                description: owned(n.str("Description")),
                private_ip_address: owned(n.str("PrivateIpAddress")),
                network_interface_id: owned(n.str("NetworkInterfaceId")),
                interface_type: owned(n.str("InterfaceType")),
                ipv6_address_count: n.int("Ipv6AddressCount")?,
                network_card_index: n.int("NetworkCardIndex")?,
            });
        }
        Some(out)
    } else {
        None
    };
    let block_device_mappings = if p.has("BlockDeviceMapping") {
        let mut out = Vec::new();
        for b in p.structs("BlockDeviceMapping")? {
            let ebs = if b.has("Ebs") {
                let e = b.nested("Ebs");
                let ebs = Ebs {
                    encrypted: e.bool("Encrypted")?,
                    delete_on_termination: e.bool("DeleteOnTermination")?,
                    iops: e.int("Iops")?,
                    kms_key_id: owned(e.str("KmsKeyId")),
                    snapshot_id: owned(e.str("SnapshotId")),
                    volume_size: e.int("VolumeSize")?,
                    volume_type: owned(e.str("VolumeType")),
                    throughput: e.int("Throughput")?,
                };
                if let Some(t) = ebs.volume_type.as_deref() {
                    if !super::instances::devices::VOLUME_TYPES.contains(&t) {
                        return Err(AwsError::invalid_value(format!(
                            "Value ({t}) for parameter volumeType is invalid. Valid values: {}",
                            super::instances::devices::VOLUME_TYPES.join(", ")
                        )));
                    }
                }
                Some(ebs)
            } else {
                None
            };
            out.push(BlockDevice {
                device_name: owned(b.str("DeviceName")),
                virtual_name: owned(b.str("VirtualName")),
                no_device: owned(b.str("NoDevice")),
                ebs,
            });
        }
        Some(out)
    } else {
        None
    };
    let tag_specifications = if p.has("TagSpecification") {
        let mut out = Vec::new();
        for s in p.structs("TagSpecification")? {
            let resource_type = s.required("ResourceType")?.to_string();
            if !TAGGABLE.contains(&resource_type.as_str()) {
                return Err(AwsError::invalid_value(format!(
                    "'{resource_type}' is not a valid taggable resource type for this operation."
                )));
            }
            let tags = crate::state::tags::parse_list(&s, "Tag")?;
            crate::state::tags::validate(&tags)?;
            out.push(TagSpec {
                resource_type,
                tags,
            });
        }
        Some(out)
    } else {
        None
    };
    let metadata_options = if p.has("MetadataOptions") {
        let m = p.nested("MetadataOptions");
        let m = Metadata {
            http_tokens: owned(m.str("HttpTokens")),
            http_put_response_hop_limit: m.int("HttpPutResponseHopLimit")?,
            http_endpoint: owned(m.str("HttpEndpoint")),
            http_protocol_ipv6: owned(m.str("HttpProtocolIpv6")),
            instance_metadata_tags: owned(m.str("InstanceMetadataTags")),
        };
        check_metadata(&m)?;
        Some(m)
    } else {
        None
    };
    let placement = p.has("Placement").then(|| {
        let pl = p.nested("Placement");
        Placement {
            availability_zone: owned(pl.str("AvailabilityZone")),
            group_name: owned(pl.str("GroupName")),
            tenancy: owned(pl.str("Tenancy")),
        }
    });
    let data = TemplateData {
        image_id: owned(p.str("ImageId")),
        instance_type: owned(p.str("InstanceType")),
        key_name: owned(p.str("KeyName")),
        iam_instance_profile,
        security_group_ids: strings(p, "SecurityGroupId")?,
        security_groups: strings(p, "SecurityGroup")?,
        network_interfaces,
        block_device_mappings,
        user_data: owned(p.str("UserData")),
        tag_specifications,
        metadata_options,
        monitoring: p.nested("Monitoring").bool("Enabled")?,
        placement,
        ebs_optimized: p.bool("EbsOptimized")?,
        disable_api_termination: p.bool("DisableApiTermination")?,
        instance_initiated_shutdown_behavior: owned(p.str("InstanceInitiatedShutdownBehavior")),
        kernel_id: owned(p.str("KernelId")),
        ram_disk_id: owned(p.str("RamDiskId")),
    };
    if let Some(t) = data.instance_type.as_deref() {
        if !super::instances::run::valid_instance_type(t) {
            return Err(AwsError::invalid_value(format!(
                "Invalid value '{t}' for InstanceType."
            )));
        }
    }
    if let Some(image) = data.image_id.as_deref() {
        super::referenced::IMAGE.check(image)?;
    }
    if let Some(b) = data
        .instance_initiated_shutdown_behavior
        .as_deref()
        .filter(|b| !matches!(*b, "stop" | "terminate"))
    {
        return Err(AwsError::invalid_value(format!(
            "Value ({b}) for parameter instanceInitiatedShutdownBehavior is invalid."
        )));
    }
    Ok(data)
}

impl TemplateData {
    /// Whether no member was given.
    pub fn is_empty(&self) -> bool {
        *self == TemplateData::default()
    }

    /// The data of a version made from `self` (the source version) and the members a
    /// CreateLaunchTemplateVersion request gives: each given member replaces the source's whole,
    /// the others are copied, as AWS documents for `SourceVersion`.
    pub fn overlaid(&self, given: TemplateData) -> TemplateData {
        let s = self.clone();
        TemplateData {
            image_id: given.image_id.or(s.image_id),
            instance_type: given.instance_type.or(s.instance_type),
            key_name: given.key_name.or(s.key_name),
            iam_instance_profile: given.iam_instance_profile.or(s.iam_instance_profile),
            security_group_ids: given.security_group_ids.or(s.security_group_ids),
            security_groups: given.security_groups.or(s.security_groups),
            network_interfaces: given.network_interfaces.or(s.network_interfaces),
            block_device_mappings: given.block_device_mappings.or(s.block_device_mappings),
            user_data: given.user_data.or(s.user_data),
            tag_specifications: given.tag_specifications.or(s.tag_specifications),
            metadata_options: given.metadata_options.or(s.metadata_options),
            monitoring: given.monitoring.or(s.monitoring),
            placement: given.placement.or(s.placement),
            ebs_optimized: given.ebs_optimized.or(s.ebs_optimized),
            disable_api_termination: given.disable_api_termination.or(s.disable_api_termination),
            instance_initiated_shutdown_behavior: given
                .instance_initiated_shutdown_behavior
                .or(s.instance_initiated_shutdown_behavior),
            kernel_id: given.kernel_id.or(s.kernel_id),
            ram_disk_id: given.ram_disk_id.or(s.ram_disk_id),
        }
    }

    /// The tags of `resource_type` the template gives, merged over its specifications.
    pub fn tags_for(&self, resource_type: &str) -> Vec<(String, String)> {
        self.tag_specifications
            .iter()
            .flatten()
            .filter(|s| s.resource_type == resource_type)
            .flat_map(|s| s.tags.iter().cloned())
            .collect()
    }
}

/// The members of a `ResponseLaunchTemplateData`, as given.
pub fn render(w: &mut Writer, d: &TemplateData) {
    w.str_opt("KernelId", d.kernel_id.as_deref())
        .bool_opt("EbsOptimized", d.ebs_optimized);
    if let Some(p) = &d.iam_instance_profile {
        w.structure("IamInstanceProfile", |w| {
            w.str_opt("Arn", p.arn.as_deref())
                .str_opt("Name", p.name.as_deref());
        });
    }
    if let Some(list) = &d.block_device_mappings {
        w.list("BlockDeviceMappings", list, |w, b| {
            w.str_opt("DeviceName", b.device_name.as_deref())
                .str_opt("VirtualName", b.virtual_name.as_deref());
            if let Some(e) = &b.ebs {
                w.structure("Ebs", |w| {
                    w.bool_opt("Encrypted", e.encrypted)
                        .bool_opt("DeleteOnTermination", e.delete_on_termination)
                        .int_opt("Iops", e.iops)
                        .str_opt("KmsKeyId", e.kms_key_id.as_deref())
                        .str_opt("SnapshotId", e.snapshot_id.as_deref())
                        .int_opt("VolumeSize", e.volume_size)
                        .str_opt("VolumeType", e.volume_type.as_deref())
                        .int_opt("Throughput", e.throughput);
                });
            }
            w.str_opt("NoDevice", b.no_device.as_deref());
        });
    }
    if let Some(list) = &d.network_interfaces {
        w.list("NetworkInterfaces", list, |w, n| {
            w.bool_opt("AssociatePublicIpAddress", n.associate_public_ip_address)
                .bool_opt("DeleteOnTermination", n.delete_on_termination)
                .str_opt("Description", n.description.as_deref())
                .int_opt("DeviceIndex", n.device_index);
            if !n.groups.is_empty() {
                w.strs("Groups", &n.groups);
            }
            w.str_opt("InterfaceType", n.interface_type.as_deref())
                .int_opt("Ipv6AddressCount", n.ipv6_address_count)
                .str_opt("NetworkInterfaceId", n.network_interface_id.as_deref())
                .str_opt("PrivateIpAddress", n.private_ip_address.as_deref())
                .str_opt("SubnetId", n.subnet_id.as_deref())
                .int_opt("NetworkCardIndex", n.network_card_index);
        });
    }
    w.str_opt("ImageId", d.image_id.as_deref())
        .str_opt("InstanceType", d.instance_type.as_deref())
        .str_opt("KeyName", d.key_name.as_deref());
    if let Some(m) = d.monitoring {
        w.structure("Monitoring", |w| {
            w.bool("Enabled", m);
        });
    }
    if let Some(p) = &d.placement {
        w.structure("Placement", |w| {
            w.str_opt("AvailabilityZone", p.availability_zone.as_deref())
                .str_opt("GroupName", p.group_name.as_deref())
                .str_opt("Tenancy", p.tenancy.as_deref());
        });
    }
    w.str_opt("RamDiskId", d.ram_disk_id.as_deref())
        .bool_opt("DisableApiTermination", d.disable_api_termination)
        .str_opt(
            "InstanceInitiatedShutdownBehavior",
            d.instance_initiated_shutdown_behavior.as_deref(),
        )
        .str_opt("UserData", d.user_data.as_deref());
    if let Some(list) = &d.tag_specifications {
        w.list("TagSpecifications", list, |w, s| {
            w.str("ResourceType", &s.resource_type)
                .list("Tags", &s.tags, |w, (k, v)| {
                    w.str("Key", k).str("Value", v);
                });
        });
    }
    if let Some(list) = &d.security_group_ids {
        w.strs("SecurityGroupIds", list);
    }
    if let Some(list) = &d.security_groups {
        w.strs("SecurityGroups", list);
    }
    if let Some(m) = &d.metadata_options {
        w.structure("MetadataOptions", |w| {
            w.str_opt("HttpTokens", m.http_tokens.as_deref())
                .int_opt("HttpPutResponseHopLimit", m.http_put_response_hop_limit)
                .str_opt("HttpEndpoint", m.http_endpoint.as_deref())
                .str_opt("HttpProtocolIpv6", m.http_protocol_ipv6.as_deref())
                .str_opt("InstanceMetadataTags", m.instance_metadata_tags.as_deref());
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_replaces_given_members_whole() {
        let source = TemplateData {
            image_id: Some("ami-1".into()),
            instance_type: Some("t3.micro".into()),
            security_group_ids: Some(vec!["sg-1".into(), "sg-2".into()]),
            ..TemplateData::default()
        };
        let v = source.overlaid(TemplateData {
            instance_type: Some("m5.large".into()),
            security_group_ids: Some(vec!["sg-3".into()]),
            ..TemplateData::default()
        });
        assert_eq!(v.image_id.as_deref(), Some("ami-1"));
        assert_eq!(v.instance_type.as_deref(), Some("m5.large"));
        assert_eq!(v.security_group_ids, Some(vec!["sg-3".to_string()]));
        assert!(TemplateData::default().is_empty() && !v.is_empty());
    }
}
