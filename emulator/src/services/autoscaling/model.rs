//! The launch configurations and Auto Scaling groups of one region.
//!
//! They live inside the region's EC2 state (`Ec2Region::autoscaling`) because a group launches and
//! terminates that region's instances in its subnets: the checks on subnets, security groups and
//! instances and the changes to them happen under one lock. A group keeps only its *members*
//! (instance ids and what it launched them with); their state is the EC2 instance's, read at each
//! call, so a group never disagrees with DescribeInstances.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Everything Auto Scaling holds in a region, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Autoscaling {
    pub launch_configurations: BTreeMap<String, LaunchConfiguration>,
    pub groups: BTreeMap<String, Group>,
    /// Scaling activities of every group (deleted ones' too), oldest first.
    #[serde(default)]
    pub activities: Vec<Activity>,
}

/// A launch template as a group or an instance names it: the template's id and name, and the
/// version as given (`$Latest`, `$Default` or a number; an instance's is the number it was
/// launched from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSpec {
    pub id: String,
    pub name: String,
    pub version: String,
}

/// One `MixedInstancesPolicy.LaunchTemplate.Overrides` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub instance_type: Option<String>,
    pub weighted_capacity: Option<String>,
    /// A template of its own for this instance type.
    pub launch_template: Option<TemplateSpec>,
}

/// `MixedInstancesPolicy.InstancesDistribution`, each member when given (shown with AWS's
/// defaults). Instances are launched on demand: Spot is not modelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub on_demand_allocation_strategy: Option<String>,
    pub on_demand_base_capacity: Option<i64>,
    pub on_demand_percentage_above_base_capacity: Option<i64>,
    pub spot_allocation_strategy: Option<String>,
    pub spot_instance_pools: Option<i64>,
    pub spot_max_price: Option<String>,
}

/// A group's `MixedInstancesPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixedPolicy {
    pub launch_template: TemplateSpec,
    pub overrides: Vec<Override>,
    pub distribution: Distribution,
}

/// What a scaling activity did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityKind {
    /// Launched `instance_id`: `PreInService` while it is pending, then `Successful`.
    Launch,
    /// Terminated `instance_id`: `InProgress` until it has terminated, then `Successful`.
    Terminate,
    /// A launch that could not happen: `Failed`, with the reason in `status_message`.
    FailedLaunch,
}

/// One scaling activity, as DescribeScalingActivities lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Activity {
    pub id: String,
    pub group: String,
    pub group_arn: String,
    pub kind: ActivityKind,
    pub instance_id: Option<String>,
    pub description: String,
    pub cause: String,
    pub start_ms: i64,
    pub status_message: Option<String>,
    /// `{"Subnet ID":"subnet-…","Availability Zone":"us-east-1a"}`.
    pub details: String,
}

/// `Ebs` of a launch configuration's block device mapping, as given (absent members stay absent
/// in DescribeLaunchConfigurations, as in AWS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ebs {
    pub snapshot_id: Option<String>,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub delete_on_termination: Option<bool>,
    pub iops: Option<i64>,
    pub encrypted: Option<bool>,
    pub throughput: Option<i64>,
}

/// One `BlockDeviceMappings` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDevice {
    pub device_name: String,
    pub virtual_name: Option<String>,
    pub no_device: Option<bool>,
    pub ebs: Option<Ebs>,
}

/// `MetadataOptions`, each member when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptions {
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<i64>,
    pub http_endpoint: Option<String>,
}

/// A launch configuration: what a group's instances are launched from. Immutable once created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchConfiguration {
    pub name: String,
    pub arn: String,
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    /// Security group ids (or, for the default VPC, names), as given.
    pub security_groups: Vec<String>,
    /// Base64, as given.
    pub user_data: Option<String>,
    pub kernel_id: Option<String>,
    pub ramdisk_id: Option<String>,
    pub block_devices: Vec<BlockDevice>,
    /// Detailed monitoring: on unless `InstanceMonitoring.Enabled=false`, as AWS defaults it.
    pub monitoring: bool,
    /// Kept and shown; instances are launched on demand (Spot is not modelled).
    pub spot_price: Option<String>,
    /// A profile name or ARN, as given; stored on launched instances as RunInstances stores it.
    pub iam_instance_profile: Option<String>,
    pub created_ms: i64,
    pub ebs_optimized: bool,
    pub associate_public_ip_address: Option<bool>,
    pub placement_tenancy: Option<String>,
    pub metadata_options: Option<MetadataOptions>,
}

/// A group tag (`TagDescription` without the resource, which is the group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTag {
    pub value: String,
    pub propagate_at_launch: bool,
}

/// Why a member is on its way out (it no longer counts towards the desired capacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Leaving {
    /// The group terminated it: scale-in, or the group's deletion.
    ScaledIn,
    /// It failed its EC2 health check (stopped, or terminated behind the group's back): the group
    /// terminates it and launches a replacement.
    Unhealthy,
}

/// An instance the group launched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub instance_id: String,
    pub zone: String,
    pub subnet_id: String,
    pub instance_type: String,
    /// The launch configuration it was launched from (the group's may have changed since).
    pub launch_configuration: Option<String>,
    /// Or the launch template and version number it was launched from.
    #[serde(default)]
    pub launch_template: Option<TemplateSpec>,
    pub launch_ms: i64,
    pub protected_from_scale_in: bool,
    pub leaving: Option<Leaving>,
    /// The traffic sources (load balancer names, target group ARNs) the group registered this
    /// instance with: it is registered once, when running, and deregistered only from these, so a
    /// registration its owner removed is not made again and others' registrations are not touched.
    pub registered_with: BTreeSet<String>,
}

/// What a traffic source is: `elb` (a classic load balancer, by name) or `elbv2` (a target group,
/// by ARN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    Elb,
    Elbv2,
}

impl SourceKind {
    /// The API's `Type`.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Elb => "elb",
            SourceKind::Elbv2 => "elbv2",
        }
    }
}

/// Which API attached a traffic source: the load balancer APIs (CreateAutoScalingGroup,
/// AttachLoadBalancers, AttachLoadBalancerTargetGroups) or AttachTrafficSources. AWS keeps them
/// apart: DescribeLoadBalancerTargetGroups and DetachLoadBalancerTargetGroups see only the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachedBy {
    LoadBalancerApi,
    TrafficSourceApi,
}

/// A load balancer or target group attached to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficSource {
    pub kind: SourceKind,
    /// The load balancer's name or the target group's ARN.
    pub identifier: String,
    pub attached_by: AttachedBy,
    /// Named in CreateAutoScalingGroup: `InService` at once, as AWS documents.
    pub at_create: bool,
    pub attached_ms: i64,
    /// Detached: its instances were deregistered at `.0` and drain until `.1` (`Removing`); the
    /// group forgets it after.
    pub removing: Option<(i64, i64)>,
}

/// An Auto Scaling group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub arn: String,
    /// The group's launch source: exactly one of a launch configuration, a launch template and
    /// a mixed instances policy.
    pub launch_configuration: Option<String>,
    #[serde(default)]
    pub launch_template: Option<TemplateSpec>,
    #[serde(default)]
    pub mixed_instances_policy: Option<MixedPolicy>,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: i64,
    pub default_cooldown: i64,
    /// Sorted zone names: those of the subnets, or as given without subnets.
    pub zones: Vec<String>,
    /// `VPCZoneIdentifier`'s subnets in the order given; empty when the group was created with
    /// zones only (it then launches into the default subnets of those zones).
    pub subnets: Vec<String>,
    /// Attached load balancers and target groups, in the order attached (detached ones stay
    /// while they drain).
    pub traffic_sources: Vec<TrafficSource>,
    pub health_check_type: String,
    pub health_check_grace_period: i64,
    pub created_ms: i64,
    pub placement_group: Option<String>,
    pub termination_policies: Vec<String>,
    pub new_instances_protected_from_scale_in: bool,
    pub capacity_rebalance: bool,
    pub max_instance_lifetime: Option<i64>,
    pub default_instance_warmup: Option<i64>,
    pub desired_capacity_type: Option<String>,
    pub context: Option<String>,
    pub service_linked_role_arn: String,
    /// `none`, `prevent-force-deletion` or `prevent-all-deletion`, when set.
    pub deletion_protection: Option<String>,
    pub tags: BTreeMap<String, GroupTag>,
    /// By instance id.
    pub members: BTreeMap<String, Member>,
    /// DeleteAutoScalingGroup was called: the group stays, `Delete in progress`, until its last
    /// instance has terminated.
    pub deleting: bool,
    /// Why the group's capacity is changing, for the activities the next reconcile creates
    /// (AWS's `Cause` wording, set by the call that changed it); `None`: a health check's.
    #[serde(default)]
    pub cause: Option<String>,
}

impl Group {
    /// The members that count towards the desired capacity.
    pub fn active(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.leaving.is_none())
    }

    /// The traffic sources attached now (not being removed).
    pub fn attached(&self) -> impl Iterator<Item = &TrafficSource> {
        self.traffic_sources.iter().filter(|s| s.removing.is_none())
    }

    /// The identifiers of the attached sources of `kind` attached through the load balancer APIs:
    /// `LoadBalancerNames` and `TargetGroupARNs` of DescribeAutoScalingGroups.
    pub fn attached_names(&self, kind: SourceKind) -> Vec<&str> {
        self.attached()
            .filter(|s| s.kind == kind && s.attached_by == AttachedBy::LoadBalancerApi)
            .map(|s| s.identifier.as_str())
            .collect()
    }
}

impl Autoscaling {
    /// The group that uses launch configuration `name`, if one does.
    pub fn group_using(&self, launch_configuration: &str) -> Option<&Group> {
        self.groups
            .values()
            .find(|g| g.launch_configuration.as_deref() == Some(launch_configuration))
    }
}
