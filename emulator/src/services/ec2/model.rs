//! The EC2 resources of one region, and the account shape every region starts with.
//!
//! One [`Ec2Region`] sits behind one lock: an action that checks several resources (attach a
//! volume to an instance in the same zone, delete a group no instance uses) does so atomically,
//! so concurrent calls cannot both win. Maps are ordered by id, so answers come in a stable order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::ids::IdGen;
use crate::state::regions::Region;
use crate::state::tags::Tags;

/// A VPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub cidr: String,
    pub is_default: bool,
    pub dhcp_options_id: String,
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr: String,
    pub zone: String,
    pub zone_id: String,
    pub default_for_az: bool,
    pub map_public_ip_on_launch: bool,
    pub tags: Tags,
}

/// An internet gateway and the VPC it is attached to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InternetGateway {
    pub id: String,
    pub vpc_id: Option<String>,
    pub tags: Tags,
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteTarget {
    Local,
    Gateway(String),
    Instance(String),
    NetworkInterface(String),
}

/// One route of a route table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Route {
    pub destination: String,
    pub target: RouteTarget,
    /// `CreateRouteTable` for the local route, `CreateRoute` for the others.
    #[serde(deserialize_with = "route_origin")]
    pub origin: RouteOrigin,
}

/// A route's origin, one of two names. (An alias, so that serde's derive does not take the
/// `'static` for a borrow from the input.)
pub type RouteOrigin = &'static str;

/// A route's origin read back from a snapshot: one of the two EC2 names.
fn route_origin<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RouteOrigin, D::Error> {
    let s = String::deserialize(d)?;
    ["CreateRouteTable", "CreateRoute"]
        .into_iter()
        .find(|o| *o == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown route origin '{s}'")))
}

/// A subnet (or the main) association of a route table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub subnet_id: Option<String>,
    pub main: bool,
}

/// A route table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    pub associations: Vec<Association>,
    pub tags: Tags,
}

/// One source or destination of a security group rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Peer {
    Cidr(String),
    Ipv6Cidr(String),
    Group(String),
    PrefixList(String),
}

/// One rule: a protocol, a port range and one peer (AWS stores and matches rules this way, and
/// folds them back into `IpPermission`s when describing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    /// `-1` (all), `tcp`, `udp`, `icmp`, `icmpv6`, or a protocol number.
    pub protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub peer: Peer,
    pub description: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub tags: Tags,
}

/// The instance states of EC2's state machine, with their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub fn name(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }

    pub fn code(self) -> i64 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }
}

/// A state that becomes another at a time on the virtual clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timed<S> {
    pub state: S,
    /// When `state` began (ms).
    pub since_ms: i64,
    /// The state it turns into, and when.
    pub next: Option<(S, i64)>,
}

impl<S: Copy> Timed<S> {
    pub fn new(state: S, now_ms: i64) -> Self {
        Timed {
            state,
            since_ms: now_ms,
            next: None,
        }
    }

    /// `state` now, turning into `next` after `after_ms`.
    pub fn transition(state: S, now_ms: i64, next: S, after_ms: i64) -> Self {
        Timed {
            state,
            since_ms: now_ms,
            next: Some((next, now_ms + after_ms)),
        }
    }

    /// The state as observed at `now_ms`.
    pub fn at(&self, now_ms: i64) -> S {
        match self.next {
            Some((next, at)) if now_ms >= at => next,
            _ => self.state,
        }
    }

    /// Folds a due transition in, so the stored state is the observed one.
    pub fn settle(&mut self, now_ms: i64) {
        if let Some((next, at)) = self.next {
            if now_ms >= at {
                self.state = next;
                self.since_ms = at;
                self.next = None;
            }
        }
    }
}

/// An EC2 instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    pub subnet_id: String,
    pub vpc_id: String,
    pub zone: String,
    pub private_ip: String,
    pub private_dns: String,
    pub mac: String,
    pub network_interface_id: String,
    pub security_groups: Vec<String>,
    pub source_dest_check: bool,
    /// (profile ARN, profile id) of the attached instance profile.
    pub iam_instance_profile: Option<(String, String)>,
    pub state: Timed<InstanceState>,
    pub state_reason: Option<String>,
    pub launch_ms: i64,
    pub ami_launch_index: i64,
    pub reservation_id: String,
    pub client_token: Option<String>,
    pub root_volume_id: Option<String>,
    pub tags: Tags,
    /// From the image (`x86_64`, `arm64`).
    pub architecture: String,
    /// The image's root device (`/dev/xvda`, `/dev/sda1`): where the root volume is attached.
    pub root_device_name: String,
    /// Detailed monitoring (`Monitoring.Enabled`).
    pub monitoring: bool,
    /// `default`, `dedicated` or `host` (`Placement.Tenancy`).
    pub tenancy: String,
    /// AWS's `reason` (StateTransitionReason), e.g. `User initiated (2024-01-31 12:00:00 GMT)`.
    pub state_transition_reason: String,
    /// `disableApiTermination`: TerminateInstances refuses the instance while set.
    pub disable_api_termination: bool,
    /// `instanceInitiatedShutdownBehavior`: `stop` or `terminate`.
    pub shutdown_behavior: String,
    pub ebs_optimized: bool,
    /// Base64 user data as given, for DescribeInstanceAttribute.
    pub user_data: Option<String>,
    /// IMDS options (`MetadataOptions`): `optional` or `required` (IMDSv2 only).
    pub http_tokens: String,
    pub http_put_response_hop_limit: i64,
    /// `enabled` or `disabled`.
    pub http_endpoint: String,
    /// The launch's key pair's public key with its name (`ssh-rsa AAAA… NAME`), which IMDS serves
    /// under `public-keys/` for the instance's life, whatever becomes of the pair.
    #[serde(default)]
    pub public_key: Option<String>,
    /// Whether the instance gets a public IPv4 address each time it starts (the launch's
    /// `AssociatePublicIpAddress`, else its subnet's `MapPublicIpOnLaunch`).
    #[serde(default)]
    pub public_ip_on_launch: bool,
    /// The public address it holds now: released when it stops or terminates, a new one on start.
    #[serde(default)]
    pub public_ip: Option<String>,
    /// Addresses given so far (the next one is derived from the id and this count).
    #[serde(default)]
    pub public_ip_count: u32,
    /// The tags of its network interface (`eni-…`): RunInstances' `network-interface` tag
    /// specification and CreateTags on the interface's id.
    #[serde(default)]
    pub interface_tags: Tags,
    /// The Spot request it fulfils (`InstanceMarketOptions` spot), if any.
    #[serde(default)]
    pub spot_request_id: Option<String>,
}

/// The volume states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeState {
    Creating,
    Available,
    InUse,
    Deleting,
    Deleted,
    Error,
}

impl VolumeState {
    pub fn name(self) -> &'static str {
        match self {
            VolumeState::Creating => "creating",
            VolumeState::Available => "available",
            VolumeState::InUse => "in-use",
            VolumeState::Deleting => "deleting",
            VolumeState::Deleted => "deleted",
            VolumeState::Error => "error",
        }
    }
}

/// Attachment states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachState {
    Attaching,
    Attached,
    Detaching,
    Detached,
}

impl AttachState {
    pub fn name(self) -> &'static str {
        match self {
            AttachState::Attaching => "attaching",
            AttachState::Attached => "attached",
            AttachState::Detaching => "detaching",
            AttachState::Detached => "detached",
        }
    }
}

/// A volume's attachment to an instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub instance_id: String,
    pub device: String,
    pub attach_ms: i64,
    pub delete_on_termination: bool,
    /// As DescribeVolumes sees it.
    pub state: Timed<AttachState>,
    /// As DescribeInstances' block device mapping sees it (can run ahead, as in AWS).
    pub instance_view: Timed<AttachState>,
}

/// An EBS volume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    pub id: String,
    pub size_gib: i64,
    pub volume_type: String,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub zone: String,
    pub zone_id: String,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub multi_attach: bool,
    /// Created from a snapshot whose fast snapshot restore was enabled in its zone.
    #[serde(default)]
    pub fast_restored: bool,
    pub create_ms: i64,
    pub state: Timed<VolumeState>,
    pub attachment: Option<Attachment>,
    pub tags: Tags,
    /// The CreateVolume client token that made it (see [`super::volume_tokens`]).
    pub client_token: Option<String>,
}

/// The snapshot states awsemu reaches (`recoverable` and `recovering` belong to the Recycle Bin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotState {
    Pending,
    Completed,
    Error,
}

impl SnapshotState {
    pub fn name(self) -> &'static str {
        match self {
            SnapshotState::Pending => "pending",
            SnapshotState::Completed => "completed",
            SnapshotState::Error => "error",
        }
    }
}

/// The fast snapshot restore states of one snapshot in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FastRestoreState {
    Enabling,
    Optimizing,
    Enabled,
    Disabling,
    Disabled,
}

impl FastRestoreState {
    pub fn name(self) -> &'static str {
        match self {
            FastRestoreState::Enabling => "enabling",
            FastRestoreState::Optimizing => "optimizing",
            FastRestoreState::Enabled => "enabled",
            FastRestoreState::Disabling => "disabling",
            FastRestoreState::Disabled => "disabled",
        }
    }
}

/// Fast snapshot restore of a snapshot in one zone: when each state began, on the virtual clock
/// (the state at a time is the latest one begun by then).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FastRestore {
    pub zone: String,
    pub zone_id: String,
    pub enabling_ms: i64,
    pub optimizing_ms: i64,
    pub enabled_ms: i64,
    /// Set by DisableFastSnapshotRestores: when `disabling` begins and when it is `disabled`.
    pub disabling: Option<(i64, i64)>,
}

/// An EBS snapshot of this account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: String,
    /// The source volume; a copy names an arbitrary one (`vol-ffffffff`), as AWS's copies do.
    pub volume_id: String,
    pub volume_size: i64,
    pub description: String,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub start_ms: i64,
    /// `pending` until the snapshot is complete (or has failed).
    pub state: Timed<SnapshotState>,
    /// Why it failed (`error`).
    pub state_message: Option<String>,
    pub tags: Tags,
    /// A time-based copy's `CompletionDurationMinutes`.
    #[serde(default)]
    pub completion_minutes: Option<i64>,
}

/// A ModifyVolume in progress or done.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeModification {
    pub volume_id: String,
    pub original_size: i64,
    pub original_type: String,
    pub original_iops: Option<i64>,
    pub original_throughput: Option<i64>,
    pub target_size: i64,
    pub target_type: String,
    pub target_iops: Option<i64>,
    pub target_throughput: Option<i64>,
    pub start_ms: i64,
    /// When `modifying` turns `optimizing`, and when that turns `completed`.
    pub optimizing_at_ms: i64,
    pub completed_at_ms: i64,
}

/// A key pair (see [`super::key_pairs`]): EC2 keeps the public key only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyPair {
    pub id: String,
    pub name: String,
    /// `rsa` or `ed25519`.
    pub key_type: String,
    /// AWS's fingerprint, which depends on whether the pair was created or imported.
    pub fingerprint: String,
    /// OpenSSH's one-line form, without a comment: `ssh-ed25519 AAAA…`.
    pub public_key: String,
    pub create_ms: i64,
    pub tags: Tags,
}

/// A one-time Spot request, fulfilled at once by its instance (see [`super::spot_requests`]); its
/// state is derived from the instance's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpotRequest {
    pub id: String,
    pub instance_id: String,
    /// `MaxPrice` when given (else up to the on-demand price).
    pub max_price: Option<String>,
    pub interruption: String,
    pub valid_until_ms: Option<i64>,
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    pub subnet_id: String,
    pub zone: String,
    pub zone_id: String,
    pub create_ms: i64,
    pub cancelled_ms: Option<i64>,
    pub tags: Tags,
}

/// All EC2 resources of one region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ec2Region {
    /// Not serialized: a snapshot keys each region by name, and the restore sets it back
    /// ([`Ec2Region::rebuild_indexes`] runs then too).
    #[serde(skip, default = "crate::state::regions::first")]
    pub region: &'static Region,
    pub default_vpc_id: String,
    pub vpcs: BTreeMap<String, Vpc>,
    pub subnets: BTreeMap<String, Subnet>,
    pub internet_gateways: BTreeMap<String, InternetGateway>,
    pub route_tables: BTreeMap<String, RouteTable>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub instances: BTreeMap<String, Instance>,
    pub volumes: BTreeMap<String, Volume>,
    /// Key pairs by id (names are unique too; see [`super::key_pairs::by_name`]). Absent from
    /// state files written before key pairs: none.
    #[serde(default)]
    pub key_pairs: BTreeMap<String, KeyPair>,
    /// Spot requests by id.
    #[serde(default)]
    pub spot_requests: BTreeMap<String, SpotRequest>,
    /// The latest modification of each volume.
    pub volume_modifications: BTreeMap<String, VolumeModification>,
    /// The account's EBS snapshots (missing from state saved before snapshots were emulated).
    #[serde(default)]
    pub snapshots: BTreeMap<String, Snapshot>,
    /// Fast snapshot restores, by snapshot (the account's or a public one) and zone.
    #[serde(default)]
    pub fast_restores: BTreeMap<String, BTreeMap<String, FastRestore>>,
    /// CreateVolume client tokens in use, by zone and token (see [`super::volume_tokens`]).
    pub volume_tokens: BTreeMap<String, super::volume_tokens::VolumeToken>,
    /// Security groups still held by the network interfaces of deleted load balancers.
    pub released_groups: BTreeMap<String, Release>,
    /// Launch templates, by id.
    #[serde(default)]
    pub launch_templates: BTreeMap<String, super::launch_templates::LaunchTemplate>,
    /// Classic load balancers (they use this region's subnets, groups and instances).
    pub elb: crate::services::elb::model::Elb,
    /// ELBv2 load balancers, listeners and target groups.
    pub elbv2: crate::services::elbv2::model::Elbv2,
    /// Auto Scaling launch configurations and groups (a group launches and terminates this
    /// region's instances in its subnets, atomically with the checks on them).
    pub autoscaling: crate::services::autoscaling::model::Autoscaling,
    /// Instance id -> ids of volumes attached to it at some point. A hint, not the truth: readers
    /// ([`Ec2Region::volumes_of`]) check each volume's attachment, so a stale entry is harmless and
    /// writers only ever add. It keeps DescribeInstances from scanning every volume.
    #[serde(skip)]
    pub attachment_index: std::collections::HashMap<String, Vec<String>>,
    /// Tag key -> value -> ids of instances that carried that tag. A hint like
    /// `attachment_index`: readers re-check each instance's tags, writers only add, so the common
    /// `tag:KEY=VALUE` filter costs its matches rather than a scan of every instance.
    #[serde(skip)]
    pub instance_tag_index: std::collections::HashMap<
        String,
        std::collections::HashMap<String, std::collections::BTreeSet<String>>,
    >,
}

/// How long a deleted load balancer's network interfaces keep one of its security groups in use.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Release {
    /// Held until this time (ms).
    pub until_ms: i64,
    /// DeleteSecurityGroup calls still to refuse whatever the time: 1 when the release takes no
    /// time (instant timing), so every delete flow meets its `DependencyViolation` retry once.
    pub refusals_left: u32,
}

/// The `default` security group's rules: all traffic from itself in, all traffic out.
pub fn default_group_rules(group_id: &str) -> (Vec<Rule>, Vec<Rule>) {
    let all = |peer| Rule {
        protocol: "-1".into(),
        from_port: None,
        to_port: None,
        peer,
        description: None,
    };
    (
        vec![all(Peer::Group(group_id.to_string()))],
        vec![all(Peer::Cidr("0.0.0.0/0".into()))],
    )
}

impl Ec2Region {
    /// A region as a new account has it: a default VPC `172.31.0.0/16` with a `/20` default subnet
    /// per zone, its internet gateway, main route table (local route and a default route to the
    /// gateway) and `default` security group. Ids are drawn from `ids` in a fixed order.
    pub fn new_account(region: &'static Region, ids: &IdGen) -> Ec2Region {
        let vpc_id = ids.resource_id("vpc");
        let mut r = Ec2Region {
            region,
            default_vpc_id: vpc_id.clone(),
            vpcs: BTreeMap::new(),
            subnets: BTreeMap::new(),
            internet_gateways: BTreeMap::new(),
            route_tables: BTreeMap::new(),
            security_groups: BTreeMap::new(),
            instances: BTreeMap::new(),
            volumes: BTreeMap::new(),
            key_pairs: BTreeMap::new(),
            spot_requests: BTreeMap::new(),
            volume_modifications: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            fast_restores: BTreeMap::new(),
            volume_tokens: BTreeMap::new(),
            released_groups: BTreeMap::new(),
            launch_templates: BTreeMap::new(),
            elb: Default::default(),
            elbv2: Default::default(),
            autoscaling: Default::default(),
            attachment_index: Default::default(),
            instance_tag_index: Default::default(),
        };
        r.vpcs.insert(
            vpc_id.clone(),
            Vpc {
                id: vpc_id.clone(),
                cidr: "172.31.0.0/16".into(),
                is_default: true,
                dhcp_options_id: ids.resource_id("dopt"),
                tags: Tags::new(),
            },
        );
        for (i, zone) in region.zones().into_iter().enumerate() {
            let id = ids.resource_id("subnet");
            r.subnets.insert(
                id.clone(),
                Subnet {
                    id,
                    vpc_id: vpc_id.clone(),
                    cidr: format!("172.31.{}.0/20", i * 16),
                    zone: zone.name,
                    zone_id: zone.id,
                    default_for_az: true,
                    map_public_ip_on_launch: true,
                    tags: Tags::new(),
                },
            );
        }
        let igw = ids.resource_id("igw");
        r.internet_gateways.insert(
            igw.clone(),
            InternetGateway {
                id: igw.clone(),
                vpc_id: Some(vpc_id.clone()),
                tags: Tags::new(),
            },
        );
        let mut main = r.new_route_table(&vpc_id, ids, true);
        main.routes.push(Route {
            destination: "0.0.0.0/0".into(),
            target: RouteTarget::Gateway(igw),
            origin: "CreateRoute",
        });
        r.route_tables.insert(main.id.clone(), main);
        let sg = r.new_default_group(&vpc_id, ids);
        r.security_groups.insert(sg.id.clone(), sg);
        r
    }

    /// A route table for `vpc_id` with its local route (and, for the main table, the main association).
    pub fn new_route_table(&self, vpc_id: &str, ids: &IdGen, main: bool) -> RouteTable {
        let cidr = self
            .vpcs
            .get(vpc_id)
            .map(|v| v.cidr.clone())
            .unwrap_or_default();
        let id = ids.resource_id("rtb");
        let associations = if main {
            vec![Association {
                id: ids.resource_id("rtbassoc"),
                subnet_id: None,
                main: true,
            }]
        } else {
            Vec::new()
        };
        RouteTable {
            id,
            vpc_id: vpc_id.to_string(),
            routes: vec![Route {
                destination: cidr,
                target: RouteTarget::Local,
                origin: "CreateRouteTable",
            }],
            associations,
            tags: Tags::new(),
        }
    }

    /// The `default` security group of a new VPC.
    pub fn new_default_group(&self, vpc_id: &str, ids: &IdGen) -> SecurityGroup {
        let id = ids.resource_id("sg");
        let (ingress, egress) = default_group_rules(&id);
        SecurityGroup {
            id,
            name: "default".into(),
            description: "default VPC security group".into(),
            vpc_id: vpc_id.to_string(),
            ingress,
            egress,
            tags: Tags::new(),
        }
    }

    /// A load balancer was deleted: its groups stay in use for `duration_ms` (at least one refusal).
    pub fn release_groups(&mut self, groups: &[String], now_ms: i64, duration_ms: i64) {
        for g in groups {
            self.released_groups.insert(
                g.clone(),
                Release {
                    until_ms: now_ms + duration_ms,
                    refusals_left: u32::from(duration_ms <= 0),
                },
            );
        }
    }

    /// Whether a load balancer, live or just deleted, holds security group `id`. A refusal because
    /// of a deleted one uses up its `refusals_left`.
    pub fn group_held_by_load_balancer(&mut self, id: &str, now_ms: i64) -> bool {
        if self.elb.uses_group(id) || self.elbv2.uses_group(id) {
            return true;
        }
        match self.released_groups.get_mut(id) {
            Some(r) if r.until_ms > now_ms => true,
            Some(r) if r.refusals_left > 0 => {
                r.refusals_left -= 1;
                true
            }
            Some(_) => {
                self.released_groups.remove(id);
                false
            }
            None => false,
        }
    }

    /// Records that volume `volume_id` is now attached to its attachment's instance.
    pub fn index_attachment(&mut self, volume_id: &str) {
        let Some(instance) = self
            .volumes
            .get(volume_id)
            .and_then(|v| v.attachment.as_ref())
            .map(|a| a.instance_id.clone())
        else {
            return;
        };
        let list = self.attachment_index.entry(instance).or_default();
        if !list.iter().any(|v| v == volume_id) {
            list.push(volume_id.to_string());
        }
    }

    /// The volumes whose attachment (in any state) names `instance_id`.
    pub fn volumes_of<'a>(&'a self, instance_id: &'a str) -> impl Iterator<Item = &'a Volume> + 'a {
        self.attachment_index
            .get(instance_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.volumes.get(id))
            .filter(move |v| {
                v.attachment
                    .as_ref()
                    .is_some_and(|a| a.instance_id == instance_id)
            })
    }

    /// Records an instance's current tags in the tag index (call after any tag is added).
    pub fn index_instance_tags(&mut self, instance_id: &str) {
        let Ec2Region {
            instances,
            instance_tag_index,
            ..
        } = self;
        if let Some(i) = instances.get(instance_id) {
            for (k, v) in &i.tags {
                instance_tag_index
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .insert(instance_id.to_string());
            }
        }
    }

    /// The instances whose tag `key` has one of `values` now, sorted by id.
    pub fn instances_tagged<'a>(&'a self, key: &str, values: &[String]) -> Vec<&'a Instance> {
        let Some(by_value) = self.instance_tag_index.get(key) else {
            return Vec::new();
        };
        let ids: std::collections::BTreeSet<&String> = values
            .iter()
            .filter_map(|v| by_value.get(v))
            .flatten()
            .collect();
        ids.into_iter()
            .filter_map(|id| self.instances.get(id))
            .filter(|i| i.tags.get(key).is_some_and(|v| values.contains(v)))
            .collect()
    }

    /// Fills the lookup hints a snapshot does not carry, from the resources themselves (they hold
    /// only what is true now, which is all readers use them for).
    pub fn rebuild_indexes(&mut self) {
        self.attachment_index.clear();
        self.instance_tag_index.clear();
        let attached: Vec<String> = (self.volumes.values())
            .filter(|v| v.attachment.is_some())
            .map(|v| v.id.clone())
            .collect();
        for id in attached {
            self.index_attachment(&id);
        }
        let instances: Vec<String> = self.instances.keys().cloned().collect();
        for id in instances {
            self.index_instance_tags(&id);
        }
    }

    /// The tags of any taggable resource by id (IAM's `ec2:ResourceTag/KEY`).
    pub fn tags(&self, id: &str) -> Option<&Tags> {
        (super::kind::of(id)?.tags?.get)(self, id)
    }

    /// The tags of any taggable resource by id, for CreateTags/DeleteTags.
    pub fn tags_mut(&mut self, id: &str) -> Option<&mut Tags> {
        (super::kind::of(id)?.tags?.get_mut)(self, id)
    }

    /// Every tagged resource as (id, resource type, tags), for DescribeTags.
    pub fn all_tags(&self) -> Vec<(&str, &'static str, &Tags)> {
        use super::{gateways, instances, route_tables, security_groups, volumes, vpcs};
        let mut out: Vec<(&str, &'static str, &Tags)> = Vec::new();
        let vpc = vpcs::VPC.arn_type;
        out.extend(self.vpcs.values().map(|r| (r.id.as_str(), vpc, &r.tags)));
        let subnet = vpcs::SUBNET.arn_type;
        out.extend(
            self.subnets
                .values()
                .map(|r| (r.id.as_str(), subnet, &r.tags)),
        );
        let igw = gateways::INTERNET_GATEWAY.arn_type;
        out.extend(
            self.internet_gateways
                .values()
                .map(|r| (r.id.as_str(), igw, &r.tags)),
        );
        let rtb = route_tables::ROUTE_TABLE.arn_type;
        out.extend(
            self.route_tables
                .values()
                .map(|r| (r.id.as_str(), rtb, &r.tags)),
        );
        let sg = security_groups::SECURITY_GROUP.arn_type;
        out.extend(
            self.security_groups
                .values()
                .map(|r| (r.id.as_str(), sg, &r.tags)),
        );
        let i = instances::INSTANCE.arn_type;
        out.extend(self.instances.values().map(|r| (r.id.as_str(), i, &r.tags)));
        let vol = volumes::VOLUME.arn_type;
        out.extend(self.volumes.values().map(|r| (r.id.as_str(), vol, &r.tags)));
        let snap = super::snapshots::SNAPSHOT.arn_type;
        out.extend(
            self.snapshots
                .values()
                .map(|r| (r.id.as_str(), snap, &r.tags)),
        );
        let lt = super::launch_templates::LAUNCH_TEMPLATE.arn_type;
        out.extend(
            self.launch_templates
                .values()
                .map(|r| (r.id.as_str(), lt, &r.tags)),
        );
        let eni = super::referenced::NETWORK_INTERFACE.arn_type;
        out.extend(
            self.instances
                .values()
                .map(|r| (r.network_interface_id.as_str(), eni, &r.interface_tags)),
        );
        let sir = super::spot_requests::SPOT_REQUEST.arn_type;
        out.extend(
            self.spot_requests
                .values()
                .map(|r| (r.id.as_str(), sir, &r.tags)),
        );
        let key = super::key_pairs::KEY_PAIR.arn_type;
        out.extend(
            self.key_pairs
                .values()
                .map(|r| (r.id.as_str(), key, &r.tags)),
        );
        out.retain(|(_, _, t)| !t.is_empty());
        out
    }
}
