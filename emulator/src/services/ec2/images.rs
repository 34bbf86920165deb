//! DescribeImages: the public images every region offers (Amazon Linux 2023 for x86_64 and arm64,
//! Ubuntu 22.04), with ids that are stable per region so a scenario can name them.
//!
//! RunInstances accepts any well-formed `ami-` id, as a cluster's own images are not modelled; the
//! catalogue here gives the launch its architecture and root device when the id is one of these.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::ids::IdGen;
use crate::state::paging::Page;

use super::referenced::IMAGE;

/// The actions of this family.
pub const ACTIONS: &[Action] = &[Action::new("DescribeImages", describe_images)];

/// Amazon's account for its own images, and Canonical's.
pub const AMAZON_OWNER: &str = "137112412989";
pub const CANONICAL_OWNER: &str = "099720109477";

/// One public image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub snapshot_id: String,
    pub name: &'static str,
    pub description: &'static str,
    pub owner_id: &'static str,
    /// `amazon` for Amazon's images; Canonical's have none.
    pub owner_alias: Option<&'static str>,
    pub architecture: &'static str,
    pub root_device_name: &'static str,
    pub root_size_gib: i64,
    pub root_volume_type: &'static str,
    pub creation_date: &'static str,
    pub boot_mode: Option<&'static str>,
    pub imds_support: Option<&'static str>,
}

/// What each region offers; ids are derived per region.
struct Template {
    key: &'static str,
    name: &'static str,
    description: &'static str,
    owner_id: &'static str,
    owner_alias: Option<&'static str>,
    architecture: &'static str,
    root_device_name: &'static str,
    creation_date: &'static str,
    boot_mode: Option<&'static str>,
    imds_support: Option<&'static str>,
}

const TEMPLATES: &[Template] = &[
    Template {
        key: "al2023-x86_64",
        name: "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
        description: "Amazon Linux 2023 AMI 2023.6.20241212.0 x86_64 HVM kernel-6.1",
        owner_id: AMAZON_OWNER,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        root_device_name: "/dev/xvda",
        creation_date: "2024-12-12T02:29:43.000Z",
        boot_mode: Some("uefi-preferred"),
        imds_support: Some("v2.0"),
    },
    Template {
        key: "al2023-arm64",
        name: "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
        description: "Amazon Linux 2023 AMI 2023.6.20241212.0 arm64 HVM kernel-6.1",
        owner_id: AMAZON_OWNER,
        owner_alias: Some("amazon"),
        architecture: "arm64",
        root_device_name: "/dev/xvda",
        creation_date: "2024-12-12T02:29:44.000Z",
        boot_mode: Some("uefi"),
        imds_support: Some("v2.0"),
    },
    Template {
        key: "ubuntu-jammy-amd64",
        name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241206",
        description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-12-06",
        owner_id: CANONICAL_OWNER,
        owner_alias: None,
        architecture: "x86_64",
        root_device_name: "/dev/sda1",
        creation_date: "2024-12-06T10:18:21.000Z",
        boot_mode: None,
        imds_support: None,
    },
];

/// The public images of `region`, ordered by id as DescribeImages lists them.
pub fn defaults(region: &str) -> Vec<Image> {
    let mut out: Vec<Image> = TEMPLATES
        .iter()
        .map(|t| {
            // A generator of its own per (region, image): the ids do not depend on the seed or on
            // anything else that happened, as AWS's catalogue ids do not.
            let ids = IdGen::new(0x1a9e).fork(&format!("{region}/{}", t.key));
            Image {
                id: ids.resource_id("ami"),
                snapshot_id: ids.resource_id("snap"),
                name: t.name,
                description: t.description,
                owner_id: t.owner_id,
                owner_alias: t.owner_alias,
                architecture: t.architecture,
                root_device_name: t.root_device_name,
                root_size_gib: 8,
                root_volume_type: "gp3",
                creation_date: t.creation_date,
                boot_mode: t.boot_mode,
                imds_support: t.imds_support,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The public image `id` of `region`, if it is one.
pub fn find(region: &str, id: &str) -> Option<Image> {
    defaults(region).into_iter().find(|i| i.id == id)
}

const FILTERS: &[&str] = &[
    "architecture",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "description",
    "hypervisor",
    "image-id",
    "image-type",
    "is-public",
    "name",
    "owner-alias",
    "owner-id",
    "platform-details",
    "root-device-name",
    "root-device-type",
    "state",
    "usage-operation",
    "virtualization-type",
    "tag:",
    "tag-key",
    "tag-value",
];

fn values_of<'a>(i: &'a Image, name: &str) -> Vec<&'a str> {
    match name {
        "architecture" => vec![i.architecture],
        "block-device-mapping.device-name" | "root-device-name" => vec![i.root_device_name],
        "block-device-mapping.snapshot-id" => vec![i.snapshot_id.as_str()],
        "block-device-mapping.volume-size" => vec!["8"],
        "block-device-mapping.volume-type" => vec![i.root_volume_type],
        "description" => vec![i.description],
        "hypervisor" => vec!["xen"],
        "image-id" => vec![i.id.as_str()],
        "image-type" => vec!["machine"],
        "is-public" => vec!["true"],
        "name" => vec![i.name],
        "owner-alias" => i.owner_alias.into_iter().collect(),
        "owner-id" => vec![i.owner_id],
        "platform-details" => vec!["Linux/UNIX"],
        "root-device-type" => vec!["ebs"],
        "state" => vec!["available"],
        "usage-operation" => vec!["RunInstances"],
        "virtualization-type" => vec!["hvm"],
        // Public images carry no tags for other accounts.
        _ => vec![],
    }
}

/// Whether `Owner.N` accepts the image: an account id, `amazon` (Amazon's own and its alias),
/// `self` (the caller's account: none of these) or `aws-marketplace` (none).
fn owner_matches(owners: &[&str], i: &Image, account: &str) -> bool {
    owners.is_empty()
        || owners.iter().any(|o| match *o {
            "self" => i.owner_id == account,
            "amazon" => i.owner_alias == Some("amazon"),
            "aws-marketplace" => false,
            other => other == i.owner_id,
        })
}

pub fn describe_images(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("ImageId")?;
    let owners = p.strings("Owner")?;
    let _executable_by = p.strings("ExecutableBy")?;
    let _deprecated = p.bool("IncludeDeprecated")?;
    let _disabled = p.bool("IncludeDisabled")?;
    let page = Page::read(&p)?;
    let filters = filters::parse(&p, FILTERS)?;
    call.params()?.finish()?;
    for id in &ids {
        IMAGE.check(id)?;
    }
    page.not_with_ids(&ids, "imageIdsSet")?;
    let all = defaults(call.region);
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !all.iter().any(|i| i.id == **id))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(AwsError::bad_request(
            "InvalidAMIID.NotFound",
            format!("The image id '[{}]' does not exist", missing.join(", ")),
        ));
    }
    let matching: Vec<Image> = all
        .into_iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id.as_str()))
        .filter(|i| owner_matches(&owners, i, call.account))
        .filter(|i| matches(&filters, i))
        .collect();
    let (page, next) = page.apply(matching)?;
    let mut w = call.writer();
    w.list("Images", &page, render);
    w.str_opt("NextToken", next);
    w.finish()
}

fn matches(filters: &[Filter], i: &Image) -> bool {
    filters::all_match(filters, |name| values_of(i, name))
}

fn render(w: &mut Writer, i: &Image) {
    let location = match i.owner_alias {
        Some(alias) => format!("{alias}/{}", i.name),
        None => format!("{}/{}", i.owner_id, i.name),
    };
    w.str("ImageId", &i.id)
        .str("ImageLocation", location)
        .str("State", "available")
        .str("OwnerId", i.owner_id)
        .str("CreationDate", i.creation_date)
        .bool("Public", true)
        .str("Architecture", i.architecture)
        .str("ImageType", "machine")
        .str("PlatformDetails", "Linux/UNIX")
        .str("UsageOperation", "RunInstances")
        .str_opt("ImageOwnerAlias", i.owner_alias)
        .str("Name", i.name)
        .str("Description", i.description)
        .str("RootDeviceType", "ebs")
        .str("RootDeviceName", i.root_device_name)
        .list("BlockDeviceMappings", [i], |w, i| {
            w.str("DeviceName", i.root_device_name)
                .structure("Ebs", |w| {
                    w.str("SnapshotId", &i.snapshot_id)
                        .int("VolumeSize", i.root_size_gib)
                        .bool("DeleteOnTermination", true)
                        .str("VolumeType", i.root_volume_type)
                        .int("Iops", 3000)
                        .int("Throughput", 125)
                        .bool("Encrypted", false);
                });
        })
        .str("VirtualizationType", "hvm")
        .str("Hypervisor", "xen")
        .bool("EnaSupport", true)
        .str("SriovNetSupport", "simple")
        .str_opt("BootMode", i.boot_mode)
        .str_opt("ImdsSupport", i.imds_support);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_region_and_differ_across_regions() {
        let a = defaults("us-east-1");
        assert_eq!(a, defaults("us-east-1"));
        let b = defaults("eu-west-1");
        assert!(a.iter().all(|i| IMAGE.check(&i.id).is_ok()));
        assert!(a.iter().all(|i| !b.iter().any(|j| j.id == i.id)));
        assert!(find("us-east-1", &a[0].id).is_some());
        assert!(find("eu-west-1", &a[0].id).is_none());
    }

    #[test]
    fn owners() {
        let imgs = defaults("us-east-1");
        let al = imgs.iter().find(|i| i.owner_id == AMAZON_OWNER).unwrap();
        let ub = imgs.iter().find(|i| i.owner_id == CANONICAL_OWNER).unwrap();
        assert!(owner_matches(&["amazon"], al, "123456789012"));
        assert!(!owner_matches(&["amazon"], ub, "123456789012"));
        assert!(owner_matches(&[CANONICAL_OWNER], ub, "123456789012"));
        assert!(!owner_matches(&["self"], ub, "123456789012"));
    }
}
