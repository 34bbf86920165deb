//! The scenario file, as serde reads it (YAML via `yaml_serde`). Every struct refuses unknown
//! fields, so a misspelt key is an error that names it and its line rather than a silent no-op.
//! `scenarios/README.md` documents each part; `scenarios/schema.json` mirrors these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::IamMode;
use crate::state::timing::Timing;

fn default_region() -> String {
    crate::config::DEFAULT_REGION.to_string()
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// One scenario file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of every generated id: the same file and seed give the same ids and report.
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub timing: Timing,
    /// How IAM decisions apply (default: enforce, as AWS).
    #[serde(default, skip_serializing_if = "is_default")]
    pub iam: IamMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Cluster>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub world: World,
    /// Fault rules, converted by [`super::faults::fault_rules`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub expect: FinalExpect,
}

/// The cluster the world belongs to: `kubernetes.io/cluster/<id>=<tag>` on the resources that
/// opt in.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub id: String,
    #[serde(default)]
    pub tag: ClusterTag,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterTag {
    #[default]
    Owned,
    Shared,
}

impl ClusterTag {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterTag::Owned => "owned",
            ClusterTag::Shared => "shared",
        }
    }
}

pub type Tags = BTreeMap<String, String>;

/// The resources that exist before the first step, each under a symbolic name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// A state file (`serve --state-file`, `POST /_awsemu/snapshot`) to start from, relative to
    /// the scenario file: its whole world (resources, ids, clock, IAM entities, faults) comes
    /// first, and the resources below are made on top of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Regions the world and steps use besides the scenario's `region`. Opt-in regions named
    /// here are enabled, as for an account that opted in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Customer managed IAM policies: name -> document (a map, or a path to a JSON file
    /// relative to the scenario file), for roles to attach by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Role>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kms_keys: BTreeMap<String, KmsKey>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ecr_repositories: BTreeMap<String, EcrRepository>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vpcs: BTreeMap<String, Vpc>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub internet_gateways: BTreeMap<String, InternetGateway>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subnets: BTreeMap<String, Subnet>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_tables: BTreeMap<String, RouteTable>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_groups: BTreeMap<String, SecurityGroup>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instances: BTreeMap<String, Instance>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_groups: BTreeMap<String, TargetGroup>,
}

/// An IAM role; an instance profile of the same name holds it (as the built-in roles).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Trust policy (inline or file); default: EC2 may assume the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Value>,
    /// Inline policies: name -> document (a YAML/JSON object, or a path to a JSON file relative
    /// to the scenario file).
    #[serde(default)]
    pub policies: BTreeMap<String, Value>,
    /// Managed policies to attach: ARNs (e.g. `arn:aws:iam::aws:policy/AdministratorAccess`)
    /// or the names of the world's `policies`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    #[default]
    Enabled,
    Disabled,
    PendingDeletion,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KmsKey {
    /// Default: the scenario's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub state: KeyState,
    /// `alias/NAME` to create for it.
    #[serde(default)]
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EcrRepository {
    /// Repository name; default: the symbolic name.
    #[serde(default)]
    pub name: Option<String>,
    /// Default: the scenario's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub cidr: String,
    /// Default: the scenario's region. Everything in the VPC (subnets, gateways, route tables,
    /// groups, instances, load balancers, target groups) is made in its region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// Carry the cluster tag (default: no).
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InternetGateway {
    /// The VPC (symbolic name) it is attached to.
    pub vpc: String,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub vpc: String,
    pub cidr: String,
    /// Availability zone, e.g. `us-east-1a`.
    pub zone: String,
    /// `elb` or `internal-elb`: the `kubernetes.io/role/…=1` tag the provider's subnet discovery reads.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// Carry the cluster tag (default: yes).
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub destination: String,
    /// An internet gateway (symbolic name).
    #[serde(default)]
    pub gateway: Option<String>,
    /// An instance (symbolic name).
    #[serde(default)]
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    pub vpc: String,
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Subnets (symbolic names) associated with it.
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub cluster: Option<bool>,
}

/// One permission of a security group.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp` or `-1`.
    pub protocol: String,
    /// Both ends of the port range at once.
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Other groups (symbolic names) allowed.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    pub vpc: String,
    /// Group name; default: the symbolic name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ingress: Vec<Rule>,
    #[serde(default)]
    pub egress: Vec<Rule>,
    #[serde(default)]
    pub tags: Tags,
    /// Carry the cluster tag (default: yes).
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceState {
    #[default]
    Running,
    Stopped,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub subnet: String,
    #[serde(default)]
    pub state: InstanceState,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default, rename = "type")]
    pub instance_type: Option<String>,
    /// Instance profile by name.
    #[serde(default)]
    pub profile: Option<String>,
    /// Role by name: its instance profile of the same name (world or built-in role).
    #[serde(default)]
    pub role: Option<String>,
    /// Security groups (symbolic names); default: the VPC's default group.
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    /// Carry the cluster tag (default: yes).
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub instance: String,
    pub device: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Availability zone; the volume is made in the zone's region.
    pub zone: String,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default, rename = "type")]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub encrypted: bool,
    /// KMS key (symbolic name); implies encrypted.
    #[serde(default)]
    pub kms_key: Option<String>,
    #[serde(default)]
    pub attach: Option<Attachment>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Classic: `TCP`, `HTTP`, `SSL`, `HTTPS`; network: `TCP`, `UDP`, `TCP_UDP`, `TLS`;
    /// application: `HTTP`, `HTTPS`. A gateway load balancer's listener has none.
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    /// Classic only: the port on the instances.
    #[serde(default)]
    pub instance_port: Option<i64>,
    /// Classic only.
    #[serde(default)]
    pub instance_protocol: Option<String>,
    /// ELBv2 only: the target group (symbolic name) the listener forwards to.
    #[serde(default)]
    pub target_group: Option<String>,
    /// ELBv2 TLS/HTTPS listeners: the certificate ARN.
    #[serde(default)]
    pub certificate: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancerType {
    /// The classic API (2012-06-01).
    #[default]
    Classic,
    /// ELBv2 (2015-12-01).
    Application,
    Network,
    Gateway,
}

/// A load balancer: classic (the default) or ELBv2 (`type: network|application|gateway`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    #[serde(default, rename = "type")]
    pub lb_type: LoadBalancerType,
    /// Name; default: the symbolic name.
    #[serde(default)]
    pub name: Option<String>,
    pub subnets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    pub listeners: Vec<Listener>,
    /// `internal` or `internet-facing` (default).
    #[serde(default)]
    pub scheme: Option<String>,
    /// Classic only: instances (symbolic names) registered (ELBv2 registers targets in target
    /// groups).
    #[serde(default)]
    pub instances: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub cluster: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub instance: String,
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    #[serde(default)]
    pub name: Option<String>,
    pub vpc: String,
    pub protocol: String,
    pub port: i64,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub cluster: Option<bool>,
}

/// One step: exactly one of `call`, `flow`, `advance`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step is for, in the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `service:Action`, e.g. `ec2:CreateVolume`, `elbv2:CreateTargetGroup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// Query parameters (flat `Key.1` names or nested YAML) or the JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// A cloud-provider flow, run by the flow runner the caller supplies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    /// The region a call or flow acts in; default: the scenario's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Advance the virtual clock: `30s`, `5m`, `1h`, `250ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<String>,
    /// The principal: `admin`, `controlplane`, `worker`, `etcd` (default: admin).
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// What the answer must be; default: success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Symbol -> response path: binds `${symbol}` for later steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
}

/// What one answer must be.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `true`: success (the default when no `error` is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// The error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A substring of the error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response path -> value (null: absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Value>,
    /// Response path -> how many elements match it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub count: BTreeMap<String, usize>,
}

/// The final expectations, checked after the last step.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinalExpect {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateExpect>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallExpect>,
}

/// One fact about the final state: exactly one of `resources`, `tags`, `rules`, `targets`,
/// `describe`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateExpect {
    /// The region the check looks in; default: the scenario's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Count resources of a type (see README), with EC2 filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<String>,
    /// EC2 filter name -> value or values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// An EC2 resource id whose tags must include `has`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub has: Tags,
    /// Tag keys that must be absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lacks: Vec<String>,
    /// A security group (id) whose rules must include `ingress` and `egress`; `count` is then
    /// the number of its ingress rules (one per protocol, port range and source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    /// A target group (ARN) or classic load balancer (name) whose registered targets are
    /// checked: exactly `instances` (draining ones are deregistered), `count` of them, each in
    /// state `health`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<String>>,
    /// `healthy`, `initial`, `unused`, … (ELBv2); `InService`, `OutOfService` (classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Any call, made as admin, and what its answer must be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub describe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// A fact about the call log of the steps (the world's own calls are not counted).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CallExpect {
    /// Glob over the IAM action name (`ec2:Create*`, `elasticloadbalancing:*`) or awsemu's
    /// `service:Action` (`elbv2:CreateListener`).
    pub action: String,
    /// Only calls by this principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Only calls made in this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only calls that failed with this code (`ok`: only successes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

impl Scenario {
    /// Parses a scenario's YAML text; the error names the line and field.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let s: Scenario = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        s.validate()?;
        Ok(s)
    }

    /// Whether any step needs a flow runner.
    pub fn has_flows(&self) -> bool {
        self.steps.iter().any(|s| s.flow.is_some())
    }

    /// Checks what the types cannot say.
    pub fn validate(&self) -> Result<(), String> {
        if crate::state::regions::region(&self.region).is_none() {
            return Err(format!("region: unknown region '{}'", self.region));
        }
        self.check_regions()?;
        self.check_load_balancers()?;
        super::faults::fault_rules(&self.faults)?;
        for (i, step) in self.steps.iter().enumerate() {
            let at = format!("steps[{i}]");
            let kinds = [
                step.call.is_some(),
                step.flow.is_some(),
                step.advance.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(format!(
                    "{at}: a step needs exactly one of call, flow, advance"
                ));
            }
            if let Some(c) = &step.call {
                super::calls::parse_call_name(c).map_err(|e| format!("{at}.call: {e}"))?;
            }
            if step.params.is_some() && step.call.is_none() {
                return Err(format!("{at}: params belong to a call step"));
            }
            if step.inputs.is_some() && step.flow.is_none() {
                return Err(format!("{at}: inputs belong to a flow step"));
            }
            if let Some(a) = &step.advance {
                parse_duration(a).map_err(|e| format!("{at}.advance: {e}"))?;
                if step.expect.is_some()
                    || step.principal.is_some()
                    || step.region.is_some()
                    || !step.capture.is_empty()
                {
                    return Err(format!(
                        "{at}: an advance step takes no as, region, expect or capture"
                    ));
                }
            }
            if let Some(e) = &step.expect {
                e.validate().map_err(|e| format!("{at}.expect: {e}"))?;
            }
        }
        for (i, s) in self.expect.state.iter().enumerate() {
            let at = format!("expect.state[{i}]");
            let kinds = [
                s.resources.is_some(),
                s.tags.is_some(),
                s.rules.is_some(),
                s.targets.is_some(),
                s.describe.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(format!(
                    "{at}: needs exactly one of resources, tags, rules, targets, describe"
                ));
            }
            let only = |field: &str, present: bool, kind: bool, owner: &str| {
                if present && !kind {
                    Err(format!("{at}: {field} belongs to a {owner} check"))
                } else {
                    Ok(())
                }
            };
            only(
                "filters",
                !s.filters.is_empty(),
                s.resources.is_some(),
                "resources",
            )?;
            only("has", !s.has.is_empty(), s.tags.is_some(), "tags")?;
            only("lacks", !s.lacks.is_empty(), s.tags.is_some(), "tags")?;
            only("ingress", !s.ingress.is_empty(), s.rules.is_some(), "rules")?;
            only("egress", !s.egress.is_empty(), s.rules.is_some(), "rules")?;
            only(
                "instances",
                s.instances.is_some(),
                s.targets.is_some(),
                "targets",
            )?;
            only("health", s.health.is_some(), s.targets.is_some(), "targets")?;
            only(
                "params",
                s.params.is_some(),
                s.describe.is_some(),
                "describe",
            )?;
            only(
                "expect",
                s.expect.is_some(),
                s.describe.is_some(),
                "describe",
            )?;
            let counts = s.resources.is_some() || s.rules.is_some() || s.targets.is_some();
            only(
                "count",
                s.count.is_some(),
                counts,
                "resources, rules or targets",
            )?;
            if s.rules.is_some() && s.ingress.is_empty() && s.egress.is_empty() && s.count.is_none()
            {
                return Err(format!("{at}: rules needs ingress, egress or count"));
            }
            if s.targets.is_some()
                && s.instances.is_none()
                && s.health.is_none()
                && s.count.is_none()
            {
                return Err(format!("{at}: targets needs instances, count or health"));
            }
            if let Some(r) = &s.resources {
                super::expect::resource_type(r).map_err(|e| format!("{at}.resources: {e}"))?;
                if s.count.is_none() {
                    return Err(format!("{at}: resources needs a count"));
                }
            }
            if let Some(d) = &s.describe {
                super::calls::parse_call_name(d).map_err(|e| format!("{at}.describe: {e}"))?;
            }
            if let Some(e) = &s.expect {
                e.validate().map_err(|e| format!("{at}.expect: {e}"))?;
            }
        }
        self.check_symbols()?;
        for (i, c) in self.expect.calls.iter().enumerate() {
            if c.count.is_none() && c.min.is_none() && c.max.is_none() {
                return Err(format!("expect.calls[{i}]: needs count, min or max"));
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// Every region the scenario uses: its `region`, then `world.regions`.
    pub fn regions(&self) -> Vec<&str> {
        let mut out = vec![self.region.as_str()];
        for r in &self.world.regions {
            if !out.contains(&r.as_str()) {
                out.push(r);
            }
        }
        out
    }

    /// The region a resource names (`None`: the scenario's), which must be one the scenario
    /// declares.
    pub fn region_or_default<'a>(&'a self, r: Option<&'a str>) -> &'a str {
        r.unwrap_or(&self.region)
    }

    /// `world.regions` are known regions, and every `region:` of a resource, step or expectation
    /// is one the scenario declares (so a typo is an error, not a call to an empty region).
    fn check_regions(&self) -> Result<(), String> {
        for r in &self.world.regions {
            if crate::state::regions::region(r).is_none() {
                return Err(format!("world.regions: unknown region '{r}'"));
            }
        }
        let declared = self.regions();
        let check = |at: String, r: &Option<String>| match r {
            Some(r) if !declared.contains(&r.as_str()) => Err(format!(
                "{at}.region: '{r}' is neither the scenario's region nor in world.regions"
            )),
            _ => Ok(()),
        };
        let w = &self.world;
        for (n, v) in &w.vpcs {
            check(format!("world.vpcs.{n}"), &v.region)?;
        }
        for (n, k) in &w.kms_keys {
            check(format!("world.kms_keys.{n}"), &k.region)?;
        }
        for (n, e) in &w.ecr_repositories {
            check(format!("world.ecr_repositories.{n}"), &e.region)?;
        }
        for (n, v) in &w.volumes {
            let region = zone_region(&v.zone)
                .ok_or_else(|| format!("world.volumes.{n}.zone: unknown zone '{}'", v.zone))?;
            check(format!("world.volumes.{n}"), &Some(region.to_string()))?;
        }
        for (i, s) in self.steps.iter().enumerate() {
            check(format!("steps[{i}]"), &s.region)?;
        }
        for (i, s) in self.expect.state.iter().enumerate() {
            check(format!("expect.state[{i}]"), &s.region)?;
        }
        for (i, c) in self.expect.calls.iter().enumerate() {
            check(format!("expect.calls[{i}]"), &c.region)?;
        }
        Ok(())
    }

    /// Each load balancer's listeners and fields fit its type.
    fn check_load_balancers(&self) -> Result<(), String> {
        for (n, lb) in &self.world.load_balancers {
            let at = format!("world.load_balancers.{n}");
            let classic = lb.lb_type == LoadBalancerType::Classic;
            if !classic && !lb.instances.is_empty() {
                return Err(format!(
                    "{at}.instances: only a classic load balancer registers instances; an ELBv2 one forwards to target groups"
                ));
            }
            for (i, l) in lb.listeners.iter().enumerate() {
                let at = format!("{at}.listeners[{i}]");
                let needs = |field: &str, present: bool| {
                    if present {
                        Ok(())
                    } else {
                        Err(format!("{at}: needs {field}"))
                    }
                };
                let refuses = |field: &str, present: bool| {
                    if present {
                        Err(format!("{at}: {field} does not apply to this type"))
                    } else {
                        Ok(())
                    }
                };
                match lb.lb_type {
                    LoadBalancerType::Classic => {
                        needs("protocol", l.protocol.is_some())?;
                        needs("port", l.port.is_some())?;
                        needs("instance_port", l.instance_port.is_some())?;
                        refuses("target_group", l.target_group.is_some())?;
                        refuses("certificate", l.certificate.is_some())?;
                    }
                    LoadBalancerType::Application | LoadBalancerType::Network => {
                        needs("protocol", l.protocol.is_some())?;
                        needs("port", l.port.is_some())?;
                        needs("target_group", l.target_group.is_some())?;
                        refuses("instance_port", l.instance_port.is_some())?;
                        refuses("instance_protocol", l.instance_protocol.is_some())?;
                    }
                    LoadBalancerType::Gateway => {
                        needs("target_group", l.target_group.is_some())?;
                        refuses("protocol", l.protocol.is_some())?;
                        refuses("port", l.port.is_some())?;
                        refuses("instance_port", l.instance_port.is_some())?;
                        refuses("instance_protocol", l.instance_protocol.is_some())?;
                        refuses("certificate", l.certificate.is_some())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every `${name}` in the steps and expectations names a symbol the world defines, a
    /// `capture:` of an earlier step binds, or (in a flow step's answer) nothing else.
    fn check_symbols(&self) -> Result<(), String> {
        use super::symbols::Symbols;
        let mut known = super::world::declared_symbols(self);
        let check =
            |at: &str, names: Vec<&str>, known: &std::collections::BTreeSet<String>| match names
                .into_iter()
                .find(|n| !known.contains(*n))
            {
                None => Ok(()),
                Some(n) => Err(format!("{at}: unknown symbol ${{{n}}}")),
            };
        let expect_names = |e: &Expect| -> Vec<String> {
            let mut v: Vec<String> = Vec::new();
            for t in [&e.error, &e.message].into_iter().flatten() {
                v.extend(Symbols::names_in(t).into_iter().map(str::to_string));
            }
            for f in e.fields.values() {
                v.extend(Symbols::names_in_value(f).into_iter().map(str::to_string));
            }
            v
        };
        for (i, step) in self.steps.iter().enumerate() {
            let at = format!("steps[{i}]");
            let mut names: Vec<String> = Vec::new();
            for v in [&step.params, &step.inputs].into_iter().flatten() {
                names.extend(Symbols::names_in_value(v).into_iter().map(str::to_string));
            }
            if let Some(e) = &step.expect {
                names.extend(expect_names(e));
            }
            check(&at, names.iter().map(String::as_str).collect(), &known)?;
            known.extend(step.capture.keys().cloned());
        }
        for (i, s) in self.expect.state.iter().enumerate() {
            let mut names: Vec<String> = Vec::new();
            for t in [&s.tags, &s.rules, &s.targets].into_iter().flatten() {
                names.extend(Symbols::names_in(t).into_iter().map(str::to_string));
            }
            for v in s.filters.values().chain(s.params.iter()) {
                names.extend(Symbols::names_in_value(v).into_iter().map(str::to_string));
            }
            for (k, v) in &s.has {
                names.extend(Symbols::names_in(k).into_iter().map(str::to_string));
                names.extend(Symbols::names_in(v).into_iter().map(str::to_string));
            }
            let rule_texts =
                (s.ingress.iter().chain(&s.egress)).flat_map(|r| r.cidrs.iter().chain(&r.groups));
            for t in rule_texts.chain(s.instances.iter().flatten()) {
                names.extend(Symbols::names_in(t).into_iter().map(str::to_string));
            }
            if let Some(e) = &s.expect {
                names.extend(expect_names(e));
            }
            check(
                &format!("expect.state[{i}]"),
                names.iter().map(String::as_str).collect(),
                &known,
            )?;
        }
        Ok(())
    }
}

impl Expect {
    fn validate(&self) -> Result<(), String> {
        if self.ok == Some(true) && (self.error.is_some() || self.message.is_some()) {
            return Err("ok: true cannot go with error or message".into());
        }
        if self.ok == Some(false) && self.error.is_none() && self.message.is_none() {
            return Ok(());
        }
        Ok(())
    }

    /// Whether the answer must be a success.
    pub fn wants_success(&self) -> bool {
        match self.ok {
            Some(ok) => ok,
            None => self.error.is_none() && self.message.is_none(),
        }
    }
}

/// The region an availability zone (`us-east-1a`) belongs to.
pub fn zone_region(zone: &str) -> Option<&'static str> {
    crate::state::regions::REGIONS
        .iter()
        .find(|r| r.zone(zone).is_some())
        .map(|r| r.name)
}

/// `30s`, `5m`, `1h`, `250ms`, `1d` -> milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' needs a unit: ms, s, m, h or d"))?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 30s"))?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("'{text}': unknown unit '{unit}' (ms, s, m, h, d)")),
    };
    n.checked_mul(ms)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_name_their_line_and_steps_are_checked() {
        let e =
            Scenario::parse("name: x\nworld:\n  vpcs:\n    main: {cidr: 10.0.0.0/16, cidrr: 1}\n")
                .unwrap_err();
        assert!(e.contains("cidrr") && e.contains("line 4"), "{e}");
        let e = Scenario::parse("name: x\nsteps:\n  - advance: 3s\n    call: ec2:DescribeVpcs\n")
            .unwrap_err();
        assert!(e.contains("steps[0]"), "{e}");
        let e = Scenario::parse("name: x\nsteps:\n  - advance: 3 parsecs\n").unwrap_err();
        assert!(e.contains("unknown unit"), "{e}");
        assert_eq!(parse_duration("250ms").unwrap(), 250);
        assert_eq!(parse_duration("2m").unwrap(), 120_000);
        let s = Scenario::parse("name: x\nsteps:\n  - call: ec2:DescribeVpcs\n    as: worker\n")
            .unwrap();
        assert_eq!(s.steps[0].principal.as_deref(), Some("worker"));
        let e = Scenario::parse(
            "name: x\nsteps:\n  - call: ec2:DescribeVolumes\n    params: {VolumeId: [\"${volume.made}\"]}\n  - call: ec2:CreateVolume\n    capture: {volume.made: volumeId}\n",
        )
        .unwrap_err();
        assert_eq!(e, "steps[0]: unknown symbol ${volume.made}");
        Scenario::parse(
            "name: x\nworld: {vpcs: {main: {cidr: 10.0.0.0/16}}}\nsteps:\n  - call: ec2:CreateVolume\n    capture: {volume.made: volumeId}\n  - call: ec2:DescribeVolumes\n    params: {VolumeId: [\"${volume.made}\"]}\nexpect:\n  state:\n    - {tags: \"${vpc.main}\", has: {a: \"${region}\"}}\n",
        )
        .unwrap();
        let e = Scenario::parse("name: x\nexpect:\n  state:\n    - {tags: \"${vpc.main}\"}\n")
            .unwrap_err();
        assert_eq!(e, "expect.state[0]: unknown symbol ${vpc.main}");
        assert_eq!(s.region, "us-east-1");
    }

    #[test]
    fn regions_must_be_declared_and_load_balancers_fit_their_type() {
        let e = Scenario::parse("name: x\nworld: {regions: [mars-north-1]}\n").unwrap_err();
        assert_eq!(e, "world.regions: unknown region 'mars-north-1'");
        let e = Scenario::parse(
            "name: x\nworld: {vpcs: {w: {cidr: 10.0.0.0/16, region: eu-west-1}}}\n",
        )
        .unwrap_err();
        assert_eq!(
            e,
            "world.vpcs.w.region: 'eu-west-1' is neither the scenario's region nor in world.regions"
        );
        let ok = Scenario::parse(
            "name: x\nworld:\n  regions: [eu-west-1, af-south-1]\n  vpcs: {w: {cidr: 10.0.0.0/16, region: eu-west-1}}\n  volumes: {v: {zone: af-south-1a}}\nsteps:\n  - {call: ec2:DescribeVpcs, region: eu-west-1}\n",
        )
        .unwrap();
        assert_eq!(ok.regions(), ["us-east-1", "eu-west-1", "af-south-1"]);
        let e =
            Scenario::parse("name: x\nworld: {volumes: {v: {zone: eu-west-1a}}}\n").unwrap_err();
        assert!(e.starts_with("world.volumes.v.region: 'eu-west-1'"), "{e}");
        let e =
            Scenario::parse("name: x\nworld: {volumes: {v: {zone: us-east-1z}}}\n").unwrap_err();
        assert_eq!(e, "world.volumes.v.zone: unknown zone 'us-east-1z'");
        let e =
            Scenario::parse("name: x\nsteps:\n  - {call: ec2:DescribeVpcs, region: eu-west-2}\n")
                .unwrap_err();
        assert!(e.starts_with("steps[0].region"), "{e}");
        let e =
            Scenario::parse("name: x\nsteps:\n  - {advance: 1s, region: us-east-1}\n").unwrap_err();
        assert!(e.contains("takes no as, region"), "{e}");
        let e = Scenario::parse(
            "name: x\nexpect: {calls: [{action: x, count: 1, region: eu-west-1}]}\n",
        )
        .unwrap_err();
        assert!(e.starts_with("expect.calls[0].region"), "{e}");
        let lb = |t: &str, l: &str| {
            Scenario::parse(&format!(
                "name: x\nworld: {{load_balancers: {{w: {{type: {t}, subnets: [a], listeners: [{l}]}}}}}}\n"
            ))
        };
        assert_eq!(
            lb("classic", "{protocol: TCP, port: 80}").unwrap_err(),
            "world.load_balancers.w.listeners[0]: needs instance_port"
        );
        assert_eq!(
            lb("network", "{protocol: TCP, port: 80, instance_port: 80}").unwrap_err(),
            "world.load_balancers.w.listeners[0]: needs target_group"
        );
        assert_eq!(
            lb("gateway", "{protocol: GENEVE, target_group: t}").unwrap_err(),
            "world.load_balancers.w.listeners[0]: protocol does not apply to this type"
        );
        assert!(lb("network", "{protocol: TCP, port: 80, target_group: t}").is_ok());
        assert!(lb("classic", "{protocol: TCP, port: 80, instance_port: 30080}").is_ok());
        let e = Scenario::parse(
            "name: x\nworld: {load_balancers: {w: {type: network, subnets: [a], listeners: [], instances: [i]}}}\n",
        )
        .unwrap_err();
        assert!(
            e.contains("only a classic load balancer registers instances"),
            "{e}"
        );
    }

    #[test]
    fn state_checks_take_only_their_own_fields() {
        let state =
            |yaml: &str| Scenario::parse(&format!("name: x\nexpect:\n  state:\n    - {yaml}\n"));
        assert!(state("{rules: sg-1, count: 0}").is_ok());
        assert!(state("{targets: web, health: InService}").is_ok());
        assert_eq!(
            state("{rules: sg-1}").unwrap_err(),
            "expect.state[0]: rules needs ingress, egress or count"
        );
        assert_eq!(
            state("{targets: web}").unwrap_err(),
            "expect.state[0]: targets needs instances, count or health"
        );
        assert_eq!(
            state("{rules: sg-1, count: 0, instances: [i-1]}").unwrap_err(),
            "expect.state[0]: instances belongs to a targets check"
        );
        assert_eq!(
            state("{describe: ec2:DescribeVpcs, count: 1}").unwrap_err(),
            "expect.state[0]: count belongs to a resources, rules or targets check"
        );
        assert_eq!(
            state("{tags: x, rules: y}").unwrap_err(),
            "expect.state[0]: needs exactly one of resources, tags, rules, targets, describe"
        );
    }

    proptest::proptest! {
        /// The library's files cut short, with a line dropped or two lines swapped, are each a
        /// scenario or an error naming what is wrong: parsing, checking and running never panic.
        #[test]
        fn damaged_library_files_parse_or_are_refused(
            file in 0usize..64, cut in 0usize..8192, drop in 0usize..200, swap in 0usize..200,
        ) {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
            let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            let text = std::fs::read_to_string(&files[file % files.len()]).unwrap();
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(swap % n, (swap / 2) % n);
                lines.remove(drop % n);
            }
            let damaged = lines.join("\n");
            let end = (0..=cut.min(damaged.len())).rev().find(|i| damaged.is_char_boundary(*i)).unwrap_or(0);
            // One that still parses also runs (flows fail for want of a runner) without a panic.
            if let Ok(sc) = Scenario::parse(&damaged[..end]) {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let report = rt.block_on(super::super::run(&sc, Some(&dir), None, &mut |_| {}));
                proptest::prop_assert!(report.text.contains("result: "));
            }
        }

        #[test]
        fn any_duration_text_is_a_duration_or_an_error(text in "\\PC{0,12}") {
            let _ = parse_duration(&text);
        }
    }

    /// `scenarios/schema.json` names exactly the fields serde accepts, struct by struct: serde's
    /// own "unknown field … expected one of …" lists them.
    #[test]
    fn the_json_schema_matches_the_model() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../scenarios/schema.json")).unwrap();
        let cases = [
            ("zzz: 1", "/properties"),
            ("cluster: {id: a, zzz: 1}", "/properties/cluster/properties"),
            ("world: {zzz: 1}", "/properties/world/properties"),
            ("world: {roles: {a: {zzz: 1}}}", "/$defs/role/properties"),
            (
                "world: {kms_keys: {a: {zzz: 1}}}",
                "/$defs/kms_key/properties",
            ),
            (
                "world: {ecr_repositories: {a: {zzz: 1}}}",
                "/$defs/ecr_repository/properties",
            ),
            ("world: {vpcs: {a: {zzz: 1}}}", "/$defs/vpc/properties"),
            (
                "world: {internet_gateways: {a: {zzz: 1}}}",
                "/$defs/internet_gateway/properties",
            ),
            (
                "world: {subnets: {a: {zzz: 1}}}",
                "/$defs/subnet/properties",
            ),
            (
                "world: {route_tables: {a: {zzz: 1}}}",
                "/$defs/route_table/properties",
            ),
            (
                "world: {route_tables: {a: {routes: [{zzz: 1}]}}}",
                "/$defs/route_table/properties/routes/items/properties",
            ),
            (
                "world: {security_groups: {a: {zzz: 1}}}",
                "/$defs/security_group/properties",
            ),
            (
                "world: {security_groups: {a: {ingress: [{zzz: 1}]}}}",
                "/$defs/rule/properties",
            ),
            (
                "world: {instances: {a: {zzz: 1}}}",
                "/$defs/instance/properties",
            ),
            (
                "world: {volumes: {a: {zzz: 1}}}",
                "/$defs/volume/properties",
            ),
            (
                "world: {volumes: {a: {attach: {zzz: 1}}}}",
                "/$defs/volume/properties/attach/properties",
            ),
            (
                "world: {load_balancers: {a: {zzz: 1}}}",
                "/$defs/load_balancer/properties",
            ),
            (
                "world: {load_balancers: {a: {listeners: [{zzz: 1}]}}}",
                "/$defs/load_balancer/properties/listeners/items/properties",
            ),
            (
                "world: {target_groups: {a: {zzz: 1}}}",
                "/$defs/target_group/properties",
            ),
            (
                "world: {target_groups: {a: {targets: [{zzz: 1}]}}}",
                "/$defs/target_group/properties/targets/items/properties",
            ),
            ("steps: [{zzz: 1}]", "/$defs/step/properties"),
            ("steps: [{expect: {zzz: 1}}]", "/$defs/expect/properties"),
            ("expect: {zzz: 1}", "/properties/expect/properties"),
            (
                "expect: {state: [{zzz: 1}]}",
                "/$defs/state_expect/properties",
            ),
            (
                "expect: {calls: [{zzz: 1}]}",
                "/$defs/call_expect/properties",
            ),
        ];
        for (yaml, pointer) in cases {
            let err = Scenario::parse(&format!("name: x\n{yaml}\n")).unwrap_err();
            let mut accepted: Vec<&str> = err.split('`').skip(1).step_by(2).skip(1).collect();
            accepted.sort();
            let props = schema
                .pointer(pointer)
                .and_then(|p| p.as_object())
                .unwrap_or_else(|| panic!("schema has no {pointer}"));
            let mut in_schema: Vec<&str> = props.keys().map(String::as_str).collect();
            in_schema.sort();
            assert_eq!(accepted, in_schema, "{yaml}: {err}");
        }
    }
}
