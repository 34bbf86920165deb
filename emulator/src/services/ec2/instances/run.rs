//! RunInstances: validate the whole launch (image, counts, subnet, zone, groups, addresses,
//! profile, tags, block devices), then create the reservation, its instances and their volumes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::kms::{self, EncryptionKey};
use crate::services::Call;
use crate::state::tags::Tags;
use crate::state::{read, tags, write};

use super::super::common;
use super::super::images;
use super::super::key_pairs;
use super::super::launch_template_data::TemplateData;
use super::super::launch_templates::{self, Resolved, LAUNCH_TEMPLATE};
use super::super::model::{Ec2Region, Instance, InstanceState, SpotRequest, Subnet};
use super::super::spot_requests::{self, SpotOptions};
use super::super::vpcs::SUBNET;
use super::describe::{render_reservation, views, View};
use super::devices::{self, Device};
use super::launch::{self, Launch};
use super::{network, settle};

/// Everything RunInstances reads, decoded before the state is touched.
struct Request<'a> {
    image_id: &'a str,
    min: i64,
    max: i64,
    instance_type: &'a str,
    key_name: Option<&'a str>,
    public_ip: Option<bool>,
    subnet_id: Option<&'a str>,
    group_ids: Vec<&'a str>,
    group_names: Vec<&'a str>,
    zone: Option<&'a str>,
    tenancy: &'a str,
    tags: BTreeMap<String, Tags>,
    profile: Option<(String, String)>,
    client_token: Option<&'a str>,
    private_ip: Option<Ipv4Addr>,
    monitoring: bool,
    user_data: Option<&'a str>,
    ebs_optimized: bool,
    disable_api_termination: bool,
    shutdown_behavior: &'a str,
    devices: Vec<Device>,
    /// (HttpTokens, HttpPutResponseHopLimit, HttpEndpoint), each when given.
    metadata: (Option<&'a str>, Option<i64>, Option<&'a str>),
    /// `InstanceMarketOptions` for a Spot launch.
    spot: Option<SpotOptions>,
}

/// The one network interface of a launch given as `NetworkInterface.1` (device index 0), as
/// node drivers send it; its subnet, groups and address stand for the instance-level ones.
struct PrimaryInterface<'a> {
    subnet_id: Option<&'a str>,
    group_ids: Vec<&'a str>,
    private_ip: Option<&'a str>,
    /// `AssociatePublicIpAddress`: `None` follows the subnet's `MapPublicIpOnLaunch`.
    public_ip: Option<bool>,
}

/// The template's primary network interface (device index 0, or its only one), when the
/// request gives none of its own.
fn template_interface(d: &TemplateData) -> Option<PrimaryInterface<'_>> {
    let list = d.network_interfaces.as_ref()?;
    let eni = list
        .iter()
        .find(|n| n.device_index.unwrap_or(0) == 0)
        .or(list.first())?;
    Some(PrimaryInterface {
        subnet_id: eni.subnet_id.as_deref(),
        group_ids: eni.groups.iter().map(String::as_str).collect(),
        private_ip: eni.private_ip_address.as_deref(),
        public_ip: eni.associate_public_ip_address,
    })
}

fn primary_interface<'a>(p: &Scope<'a>) -> AwsResult<Option<PrimaryInterface<'a>>> {
    let list = p.structs("NetworkInterface")?;
    let Some(first) = list.first() else {
        return Ok(None);
    };
    if list.len() > 1 {
        return Err(AwsError::invalid_value(
            "awsemu models one network interface per instance: give only NetworkInterface.1",
        ));
    }
    let index = first.int("DeviceIndex")?.unwrap_or(0);
    if index != 0 {
        return Err(AwsError::invalid_value(format!(
            "Value ({index}) for parameter deviceIndex is invalid. The primary network interface must have device index 0."
        )));
    }
    if let Some(id) = first.str("NetworkInterfaceId") {
        return Err(AwsError::invalid_value(format!(
            "awsemu does not model existing network interfaces such as '{id}': describe the interface with SubnetId and SecurityGroupId instead"
        )));
    }
    // later: public addresses are not modelled (dnsName stays empty); the flag is accepted so
    // node drivers that always send it can launch.
    let public_ip = first.bool("AssociatePublicIpAddress")?;
    let _delete = first.bool("DeleteOnTermination")?;
    let _description = first.str("Description");
    // No subnet has IPv6 here: node drivers send `Ipv6AddressCount=0` and `PrimaryIpv6=false`
    // always, which ask for none; asking for an address is refused as for a subnet without an
    // IPv6 CIDR block.
    let v6_count = first.int("Ipv6AddressCount")?.unwrap_or(0);
    let v6_primary = first.bool("PrimaryIpv6")?.unwrap_or(false);
    if v6_count > 0 || v6_primary {
        return Err(AwsError::invalid_combination(format!(
            "The subnet '{}' does not have an IPv6 CIDR block: IPv6 addresses cannot be assigned",
            first.str("SubnetId").unwrap_or_default()
        )));
    }
    Ok(Some(PrimaryInterface {
        subnet_id: first.str("SubnetId"),
        group_ids: first.strings("SecurityGroupId")?,
        private_ip: first.str("PrivateIpAddress"),
        public_ip,
    }))
}

/// `IamInstanceProfile.Name` or `.Arn`: the stored profile's (ARN, id). The profile must exist,
/// and passing its role to the instance needs `iam:PassRole` on the role, as in AWS.
fn instance_profile(
    call: &Call<'_>,
    name: Option<&str>,
    arn: Option<&str>,
) -> AwsResult<Option<(String, String)>> {
    let (found, role) = {
        let dir = call.identities.directory();
        let found = match (name, arn) {
            (Some(_), Some(_)) => {
                return Err(AwsError::invalid_combination(
                    "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'",
                ))
            }
            (Some(name), None) => dir.profile(name).map_err(|_| {
                AwsError::invalid_value(format!(
                    "Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
                ))
            })?,
            (None, Some(arn)) => dir.profile_by_arn(arn).ok_or_else(|| {
                AwsError::invalid_value(format!(
                    "Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
                ))
            })?,
            (None, None) => return Ok(None),
        };
        let role = dir.profile_role(found).map(|r| r.arn.clone());
        ((found.arn.clone(), found.id.clone()), role)
    };
    if let Some(role_arn) = role {
        call.authorize("iam:PassRole", &role_arn)?;
    }
    Ok(Some(found))
}

/// `MetadataOptions.*`, checked as AWS checks them.
fn metadata_options<'a>(
    m: &Scope<'a>,
) -> AwsResult<(Option<&'a str>, Option<i64>, Option<&'a str>)> {
    let tokens = m.str("HttpTokens");
    let hops = m.int("HttpPutResponseHopLimit")?;
    let endpoint = m.str("HttpEndpoint");
    let _v6 = m.str("HttpProtocolIpv6");
    let _tags = m.str("InstanceMetadataTags");
    if let Some(t) = tokens.filter(|t| !matches!(*t, "optional" | "required")) {
        return Err(AwsError::invalid_value(format!(
            "Value ({t}) for parameter httpTokens is invalid."
        )));
    }
    if let Some(h) = hops.filter(|h| !(1..=64).contains(h)) {
        return Err(AwsError::invalid_value(format!(
            "Value ({h}) for parameter httpPutResponseHopLimit is invalid. Expected a value between 1 and 64."
        )));
    }
    if let Some(e) = endpoint.filter(|e| !matches!(*e, "enabled" | "disabled")) {
        return Err(AwsError::invalid_value(format!(
            "Value ({e}) for parameter httpEndpoint is invalid."
        )));
    }
    Ok((tokens, hops, endpoint))
}

fn count(p: &Scope<'_>, name: &str) -> AwsResult<i64> {
    let n = p.int(name)?.ok_or_else(|| {
        AwsError::bad_request(
            "MissingParameter",
            format!("The request must contain the parameter {name}"),
        )
    })?;
    if n < 1 {
        return Err(AwsError::invalid_value(format!(
            "Value ({n}) for parameter {} is invalid. Expected a positive integer.",
            lower_first(name)
        )));
    }
    Ok(n)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// `m5.large`, `t3a.2xlarge`, `u-6tb1.metal`: a family and a size.
pub fn valid_instance_type(t: &str) -> bool {
    t.split_once('.').is_some_and(|(family, size)| {
        !family.is_empty()
            && !size.is_empty()
            && family
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && size
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// `LaunchTemplate.*` of a RunInstances request: (id, name, version), each when given.
pub fn template_spec<'a>(
    p: &Scope<'a>,
) -> Option<(Option<&'a str>, Option<&'a str>, Option<&'a str>)> {
    if !p.has("LaunchTemplate") {
        return None;
    }
    let t = p.nested("LaunchTemplate");
    Some((
        t.str("LaunchTemplateId"),
        t.str("LaunchTemplateName"),
        t.str("Version"),
    ))
}

/// The launch template's ARN, for RunInstances' authorization: by id, or by name (which the
/// pipeline turns into the template's ARN, see `launch_templates::arn_of_named`).
pub fn template_arn(r: &crate::services::action::Request<'_>, out: &mut Vec<String>) {
    if let Some(id) = r.value("LaunchTemplate.LaunchTemplateId") {
        out.push(LAUNCH_TEMPLATE.arn(r.region, r.account, id));
    } else if let Some(name) = r.value("LaunchTemplate.LaunchTemplateName") {
        out.push(launch_templates::BY_NAME.arn(r, "/", name));
    }
}

/// The tags a launch gives to what it makes: the request's, then the template's keys the request
/// does not set (AWS merges the two, the request winning), and on instances the
/// `aws:ec2launchtemplate:id` and `aws:ec2launchtemplate:version` tags EC2 adds.
fn merged_tags(mut tags: BTreeMap<String, Tags>, lt: Option<&Resolved>) -> BTreeMap<String, Tags> {
    let Some(lt) = lt else {
        return tags;
    };
    for spec in lt.data.tag_specifications.iter().flatten() {
        if !matches!(spec.resource_type.as_str(), "instance" | "volume") {
            continue;
        }
        let set = tags.entry(spec.resource_type.clone()).or_default();
        for (k, v) in &spec.tags {
            set.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let instance = tags.entry("instance".to_string()).or_default();
    instance.insert(TEMPLATE_ID_TAG.to_string(), lt.id.clone());
    instance.insert(TEMPLATE_VERSION_TAG.to_string(), lt.version.to_string());
    tags
}

/// The tags EC2 puts on an instance launched from a template.
pub const TEMPLATE_ID_TAG: &str = "aws:ec2launchtemplate:id";
pub const TEMPLATE_VERSION_TAG: &str = "aws:ec2launchtemplate:version";

/// A template's block device mappings as launch devices (volumes default as RunInstances
/// defaults them: gp3, deleted on termination).
pub fn template_devices(d: &TemplateData) -> AwsResult<Vec<Device>> {
    let mut out = Vec::new();
    for b in d.block_device_mappings.iter().flatten() {
        let Some(name) = b.device_name.clone() else {
            continue;
        };
        let e = b.ebs.clone().unwrap_or_default();
        let volume_type = e.volume_type.unwrap_or_else(|| "gp3".to_string());
        if matches!(volume_type.as_str(), "io1" | "io2") && e.iops.is_none() {
            return Err(AwsError::invalid_combination(format!(
                "The parameter iops must be specified for {volume_type} volumes."
            )));
        }
        out.push(Device {
            name,
            size: e.volume_size,
            volume_type,
            iops: e.iops,
            throughput: e.throughput,
            delete_on_termination: e.delete_on_termination.unwrap_or(true),
            encrypted: e.encrypted.unwrap_or(false),
            kms_key_id: e.kms_key_id,
            snapshot_id: e.snapshot_id,
            suppressed: b.no_device.is_some(),
        });
    }
    Ok(out)
}

fn decode<'a: 'b, 'b>(call: &Call<'a>, lt: Option<&'b Resolved>) -> AwsResult<Request<'b>> {
    let p = call.root()?;
    let _spec = template_spec(&p);
    let d = lt.map(|r| &r.data);
    let from = |f: fn(&TemplateData) -> Option<&str>| d.and_then(f);
    let image_id = match p.str("ImageId").or(from(|d| d.image_id.as_deref())) {
        Some(i) => i,
        None => p.required("ImageId")?,
    };
    let min = count(&p, "MinCount")?;
    let max = count(&p, "MaxCount")?;
    let instance_type = p
        .str("InstanceType")
        .or(from(|d| d.instance_type.as_deref()))
        .unwrap_or("m1.small");
    // Node drivers send the members they have no value for empty (`KeyName=`,
    // `IamInstanceProfile.Name=`): EC2 reads those as not given.
    let key_name = p
        .str("KeyName")
        .filter(|k| !k.is_empty())
        .or(from(|d| d.key_name.as_deref()));
    let mut subnet_id = p.str("SubnetId");
    // `SecurityGroupId.N` is the wire name; `SecurityGroupIds.N` (the member name) is accepted
    // too, as some hand-written clients send it.
    let mut group_ids = p.strings("SecurityGroupId")?;
    group_ids.extend(p.strings("SecurityGroupIds")?);
    let mut group_names = p.strings("SecurityGroup")?;
    // The template's groups stand in when the request names none (and no interface of its own).
    let own_network = !group_ids.is_empty() || !group_names.is_empty() || p.has("NetworkInterface");
    if let (false, Some(d)) = (own_network, d) {
        group_ids = d
            .security_group_ids
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        group_names = d
            .security_groups
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
    }
    let placement = p.nested("Placement");
    let lt_placement = d.and_then(|d| d.placement.as_ref());
    let zone = placement
        .str("AvailabilityZone")
        .or(lt_placement.and_then(|p| p.availability_zone.as_deref()));
    let tenancy = placement
        .str("Tenancy")
        .or(lt_placement.and_then(|p| p.tenancy.as_deref()))
        .unwrap_or("default");
    let tags = merged_tags(
        tags::from_specifications(
            &p,
            &[
                "instance",
                "volume",
                "network-interface",
                spot_requests::SPOT_REQUEST.arn_type,
            ],
        )?,
        lt,
    );
    let ip = p.nested("IamInstanceProfile");
    let not_empty = |v: Option<&'b str>| v.filter(|v| !v.is_empty());
    let (profile_name, profile_arn) = match (not_empty(ip.str("Name")), not_empty(ip.str("Arn")), d)
    {
        (None, None, Some(d)) => d
            .iam_instance_profile
            .as_ref()
            .map_or((None, None), |p| (p.name.as_deref(), p.arn.as_deref())),
        (name, arn, _) => (name, arn),
    };
    let client_token = common::client_token(p.str("ClientToken"))?;
    let mut private_ip = p.str("PrivateIpAddress");
    let monitoring = p
        .nested("Monitoring")
        .bool("Enabled")?
        .or(d.and_then(|d| d.monitoring))
        .unwrap_or(false);
    let user_data = p.str("UserData").or(from(|d| d.user_data.as_deref()));
    let ebs_optimized = p
        .bool("EbsOptimized")?
        .or(d.and_then(|d| d.ebs_optimized))
        .unwrap_or(false);
    let disable_api_termination = p
        .bool("DisableApiTermination")?
        .or(d.and_then(|d| d.disable_api_termination))
        .unwrap_or(false);
    let shutdown_behavior = p
        .str("InstanceInitiatedShutdownBehavior")
        .or(from(|d| d.instance_initiated_shutdown_behavior.as_deref()))
        .unwrap_or("stop");
    let devices = match (p.has("BlockDeviceMapping"), d) {
        (false, Some(d)) => template_devices(d)?,
        _ => p
            .structs("BlockDeviceMapping")?
            .iter()
            .map(devices::parse)
            .collect::<AwsResult<Vec<Device>>>()?,
    };
    let _info = p.str("AdditionalInfo");
    let mut metadata = metadata_options(&p.nested("MetadataOptions"))?;
    if let Some(m) = d.and_then(|d| d.metadata_options.as_ref()) {
        metadata.0 = metadata.0.or(m.http_tokens.as_deref());
        metadata.1 = metadata.1.or(m.http_put_response_hop_limit);
        metadata.2 = metadata.2.or(m.http_endpoint.as_deref());
    }
    let spot = spot_requests::options(&p)?;
    let mut public_ip = None;
    let eni = match primary_interface(&p)? {
        Some(eni) => Some(eni),
        None => d.and_then(template_interface),
    };
    if let Some(eni) = eni {
        let conflict = |what: &str| {
            AwsError::invalid_combination(format!(
                "Network interfaces and an instance-level {what} may not be specified on the same request"
            ))
        };
        if subnet_id.is_some() {
            return Err(conflict("subnet ID"));
        }
        if !group_ids.is_empty() || !group_names.is_empty() {
            return Err(conflict("security groups"));
        }
        if private_ip.is_some() {
            return Err(conflict("private IP address"));
        }
        subnet_id = eni.subnet_id;
        group_ids = eni.group_ids;
        private_ip = eni.private_ip;
        public_ip = eni.public_ip;
    }
    call.params()?.finish()?;

    super::super::referenced::IMAGE.check(image_id)?;
    if min > max {
        return Err(AwsError::invalid_value(format!(
            "Value ({min}) for parameter minCount is invalid. MinCount ({min}) must be less than or equal to MaxCount ({max})."
        )));
    }
    if !valid_instance_type(instance_type) {
        return Err(AwsError::invalid_value(format!(
            "Invalid value '{instance_type}' for InstanceType."
        )));
    }
    if !matches!(tenancy, "default" | "dedicated" | "host") {
        return Err(AwsError::invalid_value(format!(
            "Value ({tenancy}) for parameter tenancy is invalid."
        )));
    }
    if !matches!(shutdown_behavior, "stop" | "terminate") {
        return Err(AwsError::invalid_value(format!(
            "Value ({shutdown_behavior}) for parameter instanceInitiatedShutdownBehavior is invalid."
        )));
    }
    let profile = instance_profile(call, profile_name, profile_arn)?;
    let private_ip = match private_ip {
        None => None,
        Some(s) => Some(s.parse::<Ipv4Addr>().map_err(|_| {
            AwsError::invalid_value(format!(
                "Value ({s}) for parameter privateIpAddress is invalid. {s} is not a valid IPv4 address."
            ))
        })?),
    };
    if private_ip.is_some() && max > 1 {
        return Err(AwsError::invalid_combination(
            "The parameter privateIpAddress cannot be used when launching more than one instance",
        ));
    }
    Ok(Request {
        image_id,
        min,
        max,
        instance_type,
        key_name,
        public_ip,
        subnet_id,
        group_ids,
        group_names,
        zone,
        tenancy,
        tags,
        profile,
        client_token,
        private_ip,
        monitoring,
        user_data,
        ebs_optimized,
        disable_api_termination,
        shutdown_behavior,
        devices,
        metadata,
        spot,
    })
}

/// The subnet of the launch: the one named (in the zone named, if both), else the default subnet
/// of the zone named, else the first default subnet.
fn choose_subnet<'r>(region: &'r Ec2Region, req: &Request<'_>) -> AwsResult<&'r Subnet> {
    if let Some(zone) = req.zone {
        if region.region.zone(zone).is_none() {
            return Err(AwsError::invalid_value(format!(
                "Invalid availability zone: [{zone}]"
            )));
        }
    }
    if let Some(id) = req.subnet_id {
        SUBNET.check(id)?;
        let s = region.subnets.get(id).ok_or_else(|| SUBNET.not_found(id))?;
        if let Some(zone) = req.zone.filter(|z| *z != s.zone) {
            return Err(AwsError::invalid_value(format!(
                "Value ({zone}) for parameter availabilityZone is invalid. Subnet '{id}' is in the availability zone {}",
                s.zone
            )));
        }
        return Ok(s);
    }
    let mut defaults: Vec<&Subnet> = region
        .subnets
        .values()
        .filter(|s| s.default_for_az && s.vpc_id == region.default_vpc_id)
        .collect();
    defaults.sort_by(|a, b| a.zone.cmp(&b.zone));
    if defaults.is_empty() {
        return Err(AwsError::bad_request(
            "VPCIdNotSpecified",
            "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
        ));
    }
    match req.zone {
        Some(zone) => defaults
            .into_iter()
            .find(|s| s.zone == zone)
            .ok_or_else(|| {
                AwsError::bad_request(
                    "MissingInput",
                    format!("No default subnet for availability zone: '{zone}'."),
                )
            }),
        None => Ok(defaults[0]),
    }
}

/// The security groups of the launch, all in the subnet's VPC; the VPC's `default` group when
/// none is named.
fn choose_groups(region: &Ec2Region, req: &Request<'_>, vpc_id: &str) -> AwsResult<Vec<String>> {
    let not_found = |g: &str| {
        AwsError::bad_request(
            "InvalidGroup.NotFound",
            format!("The security group '{g}' does not exist in VPC '{vpc_id}'"),
        )
    };
    let mut out: Vec<String> = Vec::new();
    for id in &req.group_ids {
        super::super::security_groups::SECURITY_GROUP.check(id)?;
        match region.security_groups.get(*id) {
            Some(g) if g.vpc_id == vpc_id => out.push(g.id.clone()),
            _ => return Err(not_found(id)),
        }
    }
    for name in &req.group_names {
        let g = region
            .security_groups
            .values()
            .find(|g| g.vpc_id == vpc_id && g.name == *name)
            .ok_or_else(|| not_found(name))?;
        out.push(g.id.clone());
    }
    if out.is_empty() {
        let g = region
            .security_groups
            .values()
            .find(|g| g.vpc_id == vpc_id && g.name == "default")
            .ok_or_else(|| not_found("default"))?;
        out.push(g.id.clone());
    }
    let mut seen = BTreeSet::new();
    out.retain(|g| seen.insert(g.clone()));
    Ok(out)
}

/// The KMS keys of the encrypted mappings (the given key, or the AWS managed `alias/aws/ebs`), by
/// device name. Looked up before the EC2 region is locked: each takes and releases the KMS lock.
/// EBS checks them when it creates the volumes; an unusable one fails the launch later.
fn encryption_keys(
    call: &Call<'_>,
    requested: &[Device],
) -> AwsResult<BTreeMap<String, EncryptionKey>> {
    let mut keys = BTreeMap::new();
    for d in requested {
        if d.suppressed || !(d.encrypted || d.kms_key_id.is_some()) {
            continue;
        }
        let key = kms::encryption_key(call, d.kms_key_id.as_deref(), "alias/aws/ebs")?;
        keys.insert(d.name.clone(), key);
    }
    Ok(keys)
}

/// The template version a request launches from, looked up under a short read lock, and the
/// resources it brings that the request does not name: RunInstances is authorized on those too
/// (the pipeline checked the ones the request names).
fn launch_template(call: &Call<'_>) -> AwsResult<Option<Resolved>> {
    let p = call.root()?;
    let Some((id, name, version)) = template_spec(&p) else {
        return Ok(None);
    };
    let resolved = {
        let lock = common::region(call)?;
        let region = read(&lock);
        launch_templates::resolve(&region, id, name, version)?
    };
    let d = &resolved.data;
    let mut arns = Vec::new();
    let arn = |id: &str| super::super::kind::arn(call.region, call.account, id);
    if p.str("ImageId").is_none() {
        arns.extend(d.image_id.as_deref().map(arn));
    }
    if p.str("KeyName").is_none() {
        if let Some(k) = d.key_name.as_deref() {
            arns.push(format!(
                "arn:aws:ec2:{}:{}:key-pair/{k}",
                call.region, call.account
            ));
        }
    }
    let own_network = p.has("SecurityGroupId")
        || p.has("SecurityGroupIds")
        || p.has("SecurityGroup")
        || p.has("NetworkInterface")
        || p.has("SubnetId");
    if !own_network {
        arns.extend(d.security_group_ids.iter().flatten().map(|g| arn(g)));
        if let Some(eni) = template_interface(d) {
            arns.extend(eni.subnet_id.map(arn));
            arns.extend(eni.group_ids.into_iter().map(arn));
        }
    }
    for a in arns {
        call.authorize("ec2:RunInstances", &a)?;
    }
    Ok(Some(resolved))
}

pub fn run_instances(call: &Call<'_>) -> AwsResult<Output> {
    let lt = launch_template(call)?;
    let req = decode(call, lt.as_ref())?;
    let now = call.now_ms;
    let d = call.world.durations;
    let keys = encryption_keys(call, &req.devices)?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now, &d);

    // Idempotency: the same token answers with the reservation it made.
    if let Some(token) = req.client_token {
        let mut earlier: Vec<&Instance> = region
            .instances
            .values()
            .filter(|i| i.client_token.as_deref() == Some(token))
            .collect();
        earlier.sort_by_key(|i| i.ami_launch_index);
        if let Some(first) = earlier.first() {
            if first.image_id != req.image_id || first.instance_type != req.instance_type {
                return Err(AwsError::bad_request(
                    "IdempotentParameterMismatch",
                    "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
                ));
            }
            // Since 2025 EC2 refuses a token whose instances are all terminated, rather than
            // answering the terminated reservation (boto/boto3#4406 quotes the answer).
            if earlier
                .iter()
                .all(|i| i.state.at(now) == InstanceState::Terminated)
            {
                return Err(AwsError::bad_request(
                    "IdempotentInstanceTerminated",
                    "The client token you have provided is associated with a terminated instance. Please use a different client token.",
                ));
            }
            earlier.iter().for_each(|i| call.created(&i.id));
            let rid = first.reservation_id.clone();
            let views = views(&region, earlier.iter().copied(), |i| i.state.at(now), now);
            let refs: Vec<&View<'_>> = views.iter().collect();
            let mut w = call.writer();
            render_reservation(&mut w, &region, &rid, call.account, &refs);
            return w.finish();
        }
    }

    let image = images::find(call.region, req.image_id);
    if let Some(name) = req.key_name {
        if key_pairs::by_name(&region, name).is_none() {
            return Err(key_pairs::not_found(name));
        }
    }
    let subnet = choose_subnet(&region, &req)?.clone();
    let groups = choose_groups(&region, &req, &subnet.vpc_id)?;
    let devices = devices::plan(&req.devices, image.as_ref())?;
    let mut used = launch::used_addresses(&region, &subnet.id, now);
    if let Some(ip) = req.private_ip {
        if !network::is_usable(&subnet.cidr, ip) {
            return Err(AwsError::invalid_value(format!(
                "Address {ip} does not fall within the subnet's address range"
            )));
        }
        if used.contains(&ip) {
            return Err(AwsError::bad_request(
                "InvalidIPAddress.InUse",
                format!("Address {ip} is in use."),
            ));
        }
    }
    let live = launch::live_count(&region, now);
    let quota = call.world.instance_limit.saturating_sub(live) as i64;
    if req.min > quota {
        return Err(AwsError::bad_request(
            "InstanceLimitExceeded",
            format!("You have requested more instances ({}) than your current instance limit of {} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", req.min, call.world.instance_limit),
        ));
    }
    let free = network::free_count(&subnet.cidr, &used) as i64;
    if req.min > free {
        return Err(AwsError::bad_request(
            "InsufficientFreeAddressesInSubnet",
            format!(
                "There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
                subnet.id
            ),
        ));
    }
    let n = req.max.min(free).min(quota);

    // Everything checked: create.
    let ids = &call.world.ids;
    let reservation_id = ids.resource_id("r");
    let instance_tags = req.tags.get("instance").cloned().unwrap_or_default();
    let volume_tags = req.tags.get("volume").cloned().unwrap_or_default();
    let interface_tags = req
        .tags
        .get("network-interface")
        .cloned()
        .unwrap_or_default();
    let launch = Launch {
        image_id: req.image_id,
        image: image.as_ref(),
        instance_type: req.instance_type,
        key_name: req.key_name,
        public_ip: req.public_ip.unwrap_or(subnet.map_public_ip_on_launch),
        subnet: &subnet,
        groups: &groups,
        profile: req.profile.as_ref(),
        devices: &devices,
        keys: &keys,
        reservation_id: &reservation_id,
        client_token: req.client_token,
        tags: &instance_tags,
        volume_tags: &volume_tags,
        interface_tags: &interface_tags,
        monitoring: req.monitoring,
        tenancy: req.tenancy,
        disable_api_termination: req.disable_api_termination,
        shutdown_behavior: req.shutdown_behavior,
        ebs_optimized: req.ebs_optimized,
        user_data: req.user_data,
        metadata: req.metadata,
    };
    let mut created = Vec::new();
    for index in 0..n {
        let ip = match req.private_ip {
            Some(ip) => ip,
            None => network::next_free(&subnet.cidr, &used).ok_or_else(AwsError::internal)?,
        };
        used.insert(ip);
        created.push(launch::insert(&mut region, &launch, index, ip, call));
    }
    if let Some(spot) = &req.spot {
        let spot_tags = req
            .tags
            .get(spot_requests::SPOT_REQUEST.arn_type)
            .cloned()
            .unwrap_or_default();
        for id in &created {
            let sir = format!("{}-{}", spot_requests::SPOT_REQUEST.prefix, ids.hex(8));
            let Some(i) = region.instances.get_mut(id) else {
                continue;
            };
            i.spot_request_id = Some(sir.clone());
            let request = SpotRequest {
                id: sir.clone(),
                instance_id: id.clone(),
                max_price: spot.max_price.clone(),
                interruption: spot.interruption.clone(),
                valid_until_ms: spot.valid_until_ms,
                image_id: i.image_id.clone(),
                instance_type: i.instance_type.clone(),
                key_name: i.key_name.clone(),
                subnet_id: i.subnet_id.clone(),
                zone: i.zone.clone(),
                zone_id: subnet.zone_id.clone(),
                create_ms: now,
                cancelled_ms: None,
                tags: spot_tags.clone(),
            };
            region.spot_requests.insert(sir, request);
        }
    }
    created.iter().for_each(|id| call.created(id));
    // The answer shows the launch as it is: every instance `pending`.
    let launched = created.iter().filter_map(|id| region.instances.get(id));
    let views = views(&region, launched, |_| InstanceState::Pending, now);
    let refs: Vec<&View<'_>> = views.iter().collect();
    let mut w = call.writer();
    render_reservation(&mut w, &region, &reservation_id, call.account, &refs);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types() {
        for ok in ["m1.small", "t3a.2xlarge", "u-6tb1.metal", "c7g.medium"] {
            assert!(valid_instance_type(ok), "{ok}");
        }
        for bad in ["", "m5", "M5.large", ".large", "m5.", "m5 large"] {
            assert!(!valid_instance_type(bad), "{bad}");
        }
    }
}
