//! Building one instance, with its volumes, into a region that is already locked: the part of a
//! launch that RunInstances and an Auto Scaling group share. Callers validate the whole launch
//! first (subnet, groups, devices, addresses, quota); nothing here refuses.
//!
//! A launch whose encrypted volume EBS cannot create (the KMS key is unusable, or the caller may
//! not use it) is answered `pending` like any other and then ends `terminated`, its volumes gone,
//! with AWS's state reason (`Server.InternalError`: `Client.InternalError: Client error on
//! launch`, or `Client.InvalidKMSKey.InvalidState` for a key in the wrong state).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::services::kms::EncryptionKey;
use crate::services::Call;
use crate::state::tags::Tags;

use super::super::images::Image;
use super::super::model::{Ec2Region, Instance, InstanceState, Subnet, Timed, VolumeState};
use super::devices::{self, Device};
use super::{lifecycle, network};

/// Everything one instance is made from, checked beforehand by the caller.
pub struct Launch<'a> {
    pub image_id: &'a str,
    /// The catalogue image, when the id is one (architecture, root device, IMDS support).
    pub image: Option<&'a Image>,
    pub instance_type: &'a str,
    pub key_name: Option<&'a str>,
    /// Whether it takes a public IPv4 address when it starts.
    pub public_ip: bool,
    pub subnet: &'a Subnet,
    /// Security group ids, all in the subnet's VPC.
    pub groups: &'a [String],
    /// (profile ARN, profile id).
    pub profile: Option<&'a (String, String)>,
    /// As `devices::plan` made them: the root first.
    pub devices: &'a [Device],
    /// The KMS keys of the encrypted devices, by device name, looked up before the region was
    /// locked. Empty where the launch's use of KMS is not modelled (an Auto Scaling group's,
    /// which goes through its service-linked role).
    pub keys: &'a BTreeMap<String, EncryptionKey>,
    pub reservation_id: &'a str,
    pub client_token: Option<&'a str>,
    pub tags: &'a Tags,
    pub volume_tags: &'a Tags,
    pub interface_tags: &'a Tags,
    pub monitoring: bool,
    pub tenancy: &'a str,
    pub disable_api_termination: bool,
    pub shutdown_behavior: &'a str,
    pub ebs_optimized: bool,
    pub user_data: Option<&'a str>,
    /// (HttpTokens, HttpPutResponseHopLimit, HttpEndpoint), each when given.
    pub metadata: (Option<&'a str>, Option<i64>, Option<&'a str>),
}

/// The addresses in use in a subnet: those of instances that have not terminated.
pub fn used_addresses(region: &Ec2Region, subnet_id: &str, now: i64) -> BTreeSet<Ipv4Addr> {
    region
        .instances
        .values()
        .filter(|i| i.subnet_id == subnet_id && i.state.at(now) != InstanceState::Terminated)
        .filter_map(|i| i.private_ip.parse().ok())
        .collect()
}

/// How many instances of the region count against the instance limit (all but terminated ones).
pub fn live_count(region: &Ec2Region, now: i64) -> usize {
    region
        .instances
        .values()
        .filter(|i| i.state.at(now) != InstanceState::Terminated)
        .count()
}

/// Creates instance number `index` of `launch` at address `ip`: its volumes (attached), the
/// instance itself (`pending`, turning `running` after `durations.instance_start`) and its tag
/// index entries. Returns the new instance id.
pub fn insert(
    region: &mut Ec2Region,
    launch: &Launch<'_>,
    index: i64,
    ip: Ipv4Addr,
    call: &Call<'_>,
) -> String {
    let now = call.now_ms;
    let ids = &call.world.ids;
    let subnet = launch.subnet;
    // Images marked IMDSv2-only (Amazon Linux 2023) launch with tokens required and a hop
    // limit of 2, as AWS does; others with the account defaults.
    let (imds_tokens, imds_hops) = match launch.image.and_then(|i| i.imds_support) {
        Some("v2.0") => ("required", 2),
        _ => ("optional", 1),
    };
    let id = ids.resource_id("i");
    let fail_after = call.world.durations.instance_start;
    let mut root_volume_id = None;
    let mut failure = None;
    for dev in launch.devices {
        let vol_id = ids.resource_id("vol");
        if root_volume_id.is_none() {
            root_volume_id = Some(vol_id.clone());
        }
        let zone = (subnet.zone.as_str(), subnet.zone_id.as_str());
        let mut volume = devices::volume(dev, vol_id.clone(), &id, zone, launch.volume_tags, now);
        if let Some(key) = launch.keys.get(&dev.name) {
            volume.kms_key_id = Some(key.shown.clone());
            // The one check EBS makes, as for CreateVolume: the volume is never made.
            if !key.usable_by_ebs(call, &vol_id) {
                failure.get_or_insert(if key.usable {
                    LAUNCH_KMS_DENIED
                } else {
                    LAUNCH_KMS_INVALID_STATE
                });
                volume.state = Timed::transition(
                    VolumeState::Available,
                    now,
                    VolumeState::Deleted,
                    fail_after,
                );
            }
        }
        region.volumes.insert(vol_id.clone(), volume);
        region.index_attachment(&vol_id);
    }
    let ip = ip.to_string();
    let public_key = launch
        .key_name
        .and_then(|n| super::super::key_pairs::by_name(region, n))
        .map(super::super::key_pairs::public_key_line);
    let instance = Instance {
        id: id.clone(),
        image_id: launch.image_id.to_string(),
        instance_type: launch.instance_type.to_string(),
        key_name: launch.key_name.map(str::to_string),
        public_key,
        public_ip_on_launch: launch.public_ip,
        public_ip: None,
        public_ip_count: 0,
        interface_tags: launch.interface_tags.clone(),
        spot_request_id: None,
        subnet_id: subnet.id.clone(),
        vpc_id: subnet.vpc_id.clone(),
        zone: subnet.zone.clone(),
        private_dns: network::private_dns_name(call.region, &ip),
        private_ip: ip,
        mac: network::mac(ids),
        network_interface_id: ids.resource_id("eni"),
        security_groups: launch.groups.to_vec(),
        source_dest_check: true,
        iam_instance_profile: launch.profile.cloned(),
        state: Timed::transition(
            InstanceState::Pending,
            now,
            InstanceState::Running,
            call.world.durations.instance_start,
        ),
        state_reason: None,
        launch_ms: now,
        ami_launch_index: index,
        reservation_id: launch.reservation_id.to_string(),
        client_token: launch.client_token.map(str::to_string),
        root_volume_id,
        tags: launch.tags.clone(),
        architecture: launch
            .image
            .map_or("x86_64", |i| i.architecture)
            .to_string(),
        root_device_name: launch
            .devices
            .first()
            .map_or_else(|| "/dev/xvda".to_string(), |d| d.name.clone()),
        monitoring: launch.monitoring,
        tenancy: launch.tenancy.to_string(),
        state_transition_reason: String::new(),
        disable_api_termination: launch.disable_api_termination,
        shutdown_behavior: launch.shutdown_behavior.to_string(),
        ebs_optimized: launch.ebs_optimized,
        user_data: launch.user_data.map(str::to_string),
        http_tokens: launch.metadata.0.unwrap_or(imds_tokens).to_string(),
        http_put_response_hop_limit: launch.metadata.1.unwrap_or(imds_hops),
        http_endpoint: launch.metadata.2.unwrap_or("enabled").to_string(),
    };
    region.instances.insert(id.clone(), instance);
    region.index_instance_tags(&id);
    if failure.is_none() {
        network::assign_public_ip(region, &id);
    }
    if let Some(reason) = failure {
        if let Some(i) = region.instances.get_mut(&id) {
            i.state = Timed::transition(
                InstanceState::Pending,
                now,
                InstanceState::Terminated,
                fail_after,
            );
            i.state_reason = Some(reason.to_string());
        }
        lifecycle::release_volumes(region, &id, now, fail_after);
    }
    id
}

/// The stored reason of a launch whose encrypted volume could not be created because the caller
/// may not use the KMS key (see `super::state_reason_message`).
pub const LAUNCH_KMS_DENIED: &str = "Client.InternalError";
/// ... because the key is disabled, pending deletion, missing or not a symmetric encryption key.
pub const LAUNCH_KMS_INVALID_STATE: &str = "Client.InvalidKMSKey.InvalidState";
