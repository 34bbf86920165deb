//! Builds a scenario's world by making the real API calls, as admin, through the emulator's own
//! pipeline: every rule the handlers enforce applies to the world too, and every id comes from the
//! seeded generator, so the same file and seed give the same ids.
//!
//! Order: IAM policies, roles, KMS keys, ECR repositories, VPCs, internet gateways, subnets, security groups
//! (all groups, then their rules, so rules may name each other), instances, route tables (routes
//! may name instances), volumes and attachments, target groups, load balancers (ELBv2 listeners
//! forward to target groups).
//!
//! Each resource is made in its region: a VPC's `region` (default: the scenario's) holds
//! everything made inside it, a volume is made in its zone's region, KMS keys and ECR
//! repositories name their own; IAM is global.
//!
//! The cluster tag `kubernetes.io/cluster/<id>=<owned|shared>` goes on subnets, security groups
//! and instances unless they say `cluster: false`, and on any other EC2 or ELB resource that says
//! `cluster: true`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::calls::{self, map, Answer};
use super::model::{self, InstanceState, KeyState, LoadBalancerType, Scenario, Tags};
use super::symbols::Symbols;
use crate::auth::identities::EC2_TRUST_POLICY;
use crate::instance::Instance;

/// The image instances launch from when they name none (RunInstances takes any well-formed id).
pub const DEFAULT_IMAGE: &str = "ami-0abcdef1234567890";
/// The instance type when none is named.
pub const DEFAULT_INSTANCE_TYPE: &str = "t3.medium";

/// The symbols building `scenario`'s world defines, known without building it (so `check` can
/// find a misspelt `${…}`); the loader below defines exactly these.
pub fn declared_symbols(scenario: &Scenario) -> std::collections::BTreeSet<String> {
    let w = &scenario.world;
    let mut out: std::collections::BTreeSet<String> = ["region", "account"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if scenario.cluster.is_some() {
        out.insert("cluster.id".into());
    }
    let mut add = |names: Vec<&String>, forms: &[&str]| {
        for n in names {
            for f in forms {
                out.insert(f.replace('N', n));
            }
        }
    };
    add(w.policies.keys().collect(), &["policy.N"]);
    add(w.roles.keys().collect(), &["role.N", "profile.N"]);
    add(w.kms_keys.keys().collect(), &["kms.N", "kms.N.arn"]);
    add(w.ecr_repositories.keys().collect(), &["ecr.N", "ecr.N.uri"]);
    add(w.vpcs.keys().collect(), &["vpc.N"]);
    add(w.internet_gateways.keys().collect(), &["igw.N"]);
    add(w.subnets.keys().collect(), &["subnet.N", "subnet.N.zone"]);
    add(w.route_tables.keys().collect(), &["rtb.N"]);
    add(w.security_groups.keys().collect(), &["sg.N"]);
    add(
        w.instances.keys().collect(),
        &["instance.N", "instance.N.dns"],
    );
    add(w.volumes.keys().collect(), &["volume.N"]);
    add(w.load_balancers.keys().collect(), &["lb.N", "lb.N.dns"]);
    add(w.target_groups.keys().collect(), &["tg.N"]);
    for (name, lb) in &w.load_balancers {
        if lb.lb_type != LoadBalancerType::Classic {
            out.insert(format!("lb.{name}.arn"));
            for l in &lb.listeners {
                out.insert(match l.port {
                    Some(p) => format!("lb.{name}.listener.{p}"),
                    None => format!("lb.{name}.listener"),
                });
            }
        }
    }
    out
}

/// What both load balancer APIs take alike, resolved from the world.
struct Made<'a> {
    region: &'a str,
    what: &'a str,
    name: &'a str,
    subnets: Vec<String>,
    groups: Value,
    tags: Value,
}

struct Loader<'a> {
    instance: &'a Instance,
    scenario: &'a Scenario,
    base_dir: Option<&'a Path>,
    symbols: Symbols,
    /// The region each made resource lives in, by symbol (`vpc.main` -> `eu-west-1`): what is
    /// made inside it (subnets in a VPC, instances in a subnet) is made in the same region.
    regions: BTreeMap<String, String>,
}

/// Builds the world; returns the symbols it defined (`vpc.main`, `subnet.a`, …).
pub fn build(
    instance: &Instance,
    scenario: &Scenario,
    base_dir: Option<&Path>,
) -> Result<Symbols, String> {
    let mut l = Loader {
        instance,
        scenario,
        base_dir,
        symbols: Symbols::default(),
        regions: BTreeMap::new(),
    };
    l.symbols.set("region", scenario.region.clone());
    l.symbols.set("account", instance.config.account_id.clone());
    if let Some(c) = &scenario.cluster {
        l.symbols.set("cluster.id", c.id.clone());
    }
    l.load().map_err(|e| format!("world: {e}"))?;
    Ok(l.symbols)
}

impl Loader<'_> {
    fn call(&self, region: &str, what: &str, name: &str, params: Value) -> Result<Answer, String> {
        let (service, action) = calls::parse_call_name(name)?;
        let a = calls::call(
            self.instance,
            service,
            &action,
            &params,
            "admin",
            Some(region),
        )?;
        match &a.error {
            None => Ok(a),
            Some(_) => Err(format!("{what}: {name} answered {}", a.outcome())),
        }
    }

    fn field(what: &str, a: &Answer, path: &str) -> Result<String, String> {
        a.body
            .text(path)
            .ok_or_else(|| format!("{what}: the answer has no {path}"))
    }

    /// The id a symbol of `kind` stands for, e.g. `("vpc", "main")`.
    fn id(&self, what: &str, kind: &str, name: &str) -> Result<String, String> {
        self.symbols
            .get(&format!("{kind}.{name}"))
            .map(str::to_string)
            .ok_or_else(|| format!("{what}: no {kind} called '{name}' in the world"))
    }

    /// The region of the made resource `kind.name` (the scenario's region if it has none).
    fn region_of(&self, kind: &str, name: &str) -> String {
        self.regions
            .get(&format!("{kind}.{name}"))
            .cloned()
            .unwrap_or_else(|| self.scenario.region.clone())
    }

    /// Notes a made resource's symbol and region.
    fn made(&mut self, kind: &str, name: &str, id: String, region: &str) {
        let symbol = format!("{kind}.{name}");
        self.regions.insert(symbol.clone(), region.to_string());
        self.symbols.set(symbol, id);
    }

    /// The resource's tags plus the cluster tag when it opts in.
    fn tags(&self, tags: &Tags, cluster: Option<bool>, by_default: bool) -> Tags {
        let mut t = tags.clone();
        if let Some(c) = &self.scenario.cluster {
            if cluster.unwrap_or(by_default) {
                t.insert(
                    format!("kubernetes.io/cluster/{}", c.id),
                    c.tag.as_str().to_string(),
                );
            }
        }
        t
    }

    fn tag_ec2(&self, region: &str, what: &str, id: &str, tags: Tags) -> Result<(), String> {
        if tags.is_empty() {
            return Ok(());
        }
        let tag: Vec<Value> = tags
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        self.call(
            region,
            what,
            "ec2:CreateTags",
            json!({"ResourceId": [id], "Tag": tag}),
        )?;
        Ok(())
    }

    /// A policy document: a map (inline) or a path to a JSON file relative to the scenario.
    fn document(&self, what: &str, v: &Value) -> Result<String, String> {
        match v {
            Value::String(path) => {
                let p = match self.base_dir {
                    Some(d) => d.join(path),
                    None => Path::new(path).to_path_buf(),
                };
                std::fs::read_to_string(&p)
                    .map_err(|e| format!("{what}: cannot read {}: {e}", p.display()))
            }
            Value::Object(_) => Ok(v.to_string()),
            _ => Err(format!("{what}: a policy is a map or a file path")),
        }
    }

    fn load(&mut self) -> Result<(), String> {
        let w = &self.scenario.world;
        for (name, doc) in &w.policies {
            let what = format!("policies.{name}");
            let doc = self.document(&what, doc)?;
            let region = self.scenario.region.clone();
            let a = self.call(
                &region,
                &what,
                "iam:CreatePolicy",
                json!({"PolicyName": name, "PolicyDocument": doc}),
            )?;
            let arn = Self::field(&what, &a, "Policy/Arn")?;
            self.made("policy", name, arn, &region);
        }
        for (name, r) in &w.roles {
            self.role(name, r)?;
        }
        for (name, k) in &w.kms_keys {
            self.kms_key(name, k)?;
        }
        for (name, r) in &w.ecr_repositories {
            let what = format!("ecr_repositories.{name}");
            let region = self
                .scenario
                .region_or_default(r.region.as_deref())
                .to_string();
            let repo = r.name.clone().unwrap_or_else(|| name.clone());
            let a = self.call(
                &region,
                &what,
                "ecr:CreateRepository",
                json!({"repositoryName": repo}),
            )?;
            self.made("ecr", name, repo, &region);
            let uri = Self::field(&what, &a, "repository/repositoryUri")?;
            self.symbols.set(format!("ecr.{name}.uri"), uri);
        }
        for (name, v) in &w.vpcs {
            let what = format!("vpcs.{name}");
            let region = self
                .scenario
                .region_or_default(v.region.as_deref())
                .to_string();
            let a = self.call(
                &region,
                &what,
                "ec2:CreateVpc",
                json!({"CidrBlock": v.cidr}),
            )?;
            let id = Self::field(&what, &a, "vpc/vpcId")?;
            self.tag_ec2(&region, &what, &id, self.tags(&v.tags, v.cluster, false))?;
            self.made("vpc", name, id, &region);
        }
        for (name, g) in &w.internet_gateways {
            let what = format!("internet_gateways.{name}");
            let vpc = self.id(&what, "vpc", &g.vpc)?;
            let region = self.region_of("vpc", &g.vpc);
            let a = self.call(&region, &what, "ec2:CreateInternetGateway", json!({}))?;
            let id = Self::field(&what, &a, "internetGatewayId")?;
            self.call(
                &region,
                &what,
                "ec2:AttachInternetGateway",
                json!({"InternetGatewayId": id, "VpcId": vpc}),
            )?;
            self.tag_ec2(&region, &what, &id, g.tags.clone())?;
            self.made("igw", name, id, &region);
        }
        for (name, s) in &w.subnets {
            self.subnet(name, s)?;
        }
        for (name, g) in &w.security_groups {
            let what = format!("security_groups.{name}");
            let vpc = self.id(&what, "vpc", &g.vpc)?;
            let region = self.region_of("vpc", &g.vpc);
            let params = map([
                (
                    "GroupName",
                    json!(g.name.clone().unwrap_or_else(|| name.clone())),
                ),
                (
                    "GroupDescription",
                    json!(g
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("scenario group {name}"))),
                ),
                ("VpcId", json!(vpc)),
            ]);
            let a = self.call(&region, &what, "ec2:CreateSecurityGroup", params)?;
            let id = Self::field(&what, &a, "groupId")?;
            self.tag_ec2(&region, &what, &id, self.tags(&g.tags, g.cluster, true))?;
            self.made("sg", name, id, &region);
        }
        for (name, g) in &w.security_groups {
            let what = format!("security_groups.{name}");
            let id = self.id(&what, "sg", name)?;
            let region = self.region_of("sg", name);
            for (rules, action) in [
                (&g.ingress, "ec2:AuthorizeSecurityGroupIngress"),
                (&g.egress, "ec2:AuthorizeSecurityGroupEgress"),
            ] {
                if rules.is_empty() {
                    continue;
                }
                let perms = rules
                    .iter()
                    .map(|r| self.permission(&what, r))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(
                    &region,
                    &what,
                    action,
                    json!({"GroupId": id, "IpPermissions": perms}),
                )?;
            }
        }
        self.instances()?;
        for (name, t) in &w.route_tables {
            self.route_table(name, t)?;
        }
        self.volumes()?;
        let d = self.instance.config.timing.durations();
        for (name, tg) in &w.target_groups {
            self.target_group(name, tg)?;
        }
        for (name, lb) in &w.load_balancers {
            self.load_balancer(name, lb)?;
        }
        let v2 = (w.load_balancers.values()).any(|lb| lb.lb_type != LoadBalancerType::Classic);
        self.settle(v2, d.load_balancer_provision);
        self.settle(
            v2 && w.target_groups.values().any(|t| !t.targets.is_empty()),
            d.target_initial,
        );
        Ok(())
    }

    /// The instances, running (then those declared stopped, stopped), settled.
    fn instances(&mut self) -> Result<(), String> {
        let w = &self.scenario.world;
        let d = self.instance.config.timing.durations();
        for (name, i) in &w.instances {
            self.run_instance(name, i)?;
        }
        self.settle(!w.instances.is_empty(), d.instance_start);
        let stopped: Vec<&String> = (w.instances.iter())
            .filter(|(_, i)| i.state == InstanceState::Stopped)
            .map(|(name, _)| name)
            .collect();
        for name in &stopped {
            let what = format!("instances.{name}");
            let (id, region) = (
                self.id(&what, "instance", name)?,
                self.region_of("instance", name),
            );
            self.call(
                &region,
                &what,
                "ec2:StopInstances",
                json!({"InstanceId": [id]}),
            )?;
        }
        self.settle(!stopped.is_empty(), d.instance_stop);
        Ok(())
    }

    /// The volumes, available, then their attachments, attached.
    fn volumes(&mut self) -> Result<(), String> {
        let w = &self.scenario.world;
        let d = self.instance.config.timing.durations();
        for (name, v) in &w.volumes {
            self.volume(name, v)?;
        }
        self.settle(!w.volumes.is_empty(), d.volume_create);
        let mut attached = false;
        for (name, v) in &w.volumes {
            if let Some(att) = &v.attach {
                let what = format!("volumes.{name}");
                let (id, region) = (
                    self.id(&what, "volume", name)?,
                    self.region_of("volume", name),
                );
                let inst = self.id(&what, "instance", &att.instance)?;
                self.call(
                    &region,
                    &what,
                    "ec2:AttachVolume",
                    json!({"VolumeId": id, "InstanceId": inst, "Device": att.device}),
                )?;
                attached = true;
            }
        }
        self.settle(attached, d.volume_attach);
        Ok(())
    }

    /// The world is what exists before the first step, settled: when `made` something that takes
    /// `ms` of virtual time to reach its declared state (instances `running`, volumes
    /// `available` and `attached`, ELBv2 load balancers `active` and their targets `healthy`),
    /// the clock moves on by that much before the world goes on. Under `instant` timing this is
    /// nothing.
    fn settle(&self, made: bool, ms: i64) {
        if made && ms > 0 {
            self.instance
                .clock
                .advance(std::time::Duration::from_millis(ms as u64));
        }
    }

    fn role(&mut self, name: &str, r: &model::Role) -> Result<(), String> {
        let what = format!("roles.{name}");
        let region = self.scenario.region.clone();
        let trust = match &r.trust {
            Some(t) => self.document(&what, t)?,
            None => EC2_TRUST_POLICY.to_string(),
        };
        let a = self.call(
            &region,
            &what,
            "iam:CreateRole",
            json!({"RoleName": name, "AssumeRolePolicyDocument": trust}),
        )?;
        self.symbols
            .set(format!("role.{name}"), Self::field(&what, &a, "Role/Arn")?);
        for (policy, doc) in &r.policies {
            let doc = self.document(&format!("{what}.policies.{policy}"), doc)?;
            self.call(
                &region,
                &what,
                "iam:PutRolePolicy",
                json!({"RoleName": name, "PolicyName": policy, "PolicyDocument": doc}),
            )?;
        }
        for policy in &r.managed {
            let arn = match self.scenario.world.policies.contains_key(policy) {
                true => self.id(&what, "policy", policy)?,
                false => policy.clone(),
            };
            self.call(
                &region,
                &what,
                "iam:AttachRolePolicy",
                json!({"RoleName": name, "PolicyArn": arn}),
            )?;
        }
        let a = self.call(
            &region,
            &what,
            "iam:CreateInstanceProfile",
            json!({"InstanceProfileName": name}),
        )?;
        self.symbols.set(
            format!("profile.{name}"),
            Self::field(&what, &a, "InstanceProfile/Arn")?,
        );
        self.call(
            &region,
            &what,
            "iam:AddRoleToInstanceProfile",
            json!({"InstanceProfileName": name, "RoleName": name}),
        )?;
        Ok(())
    }

    fn kms_key(&mut self, name: &str, k: &model::KmsKey) -> Result<(), String> {
        let what = format!("kms_keys.{name}");
        let region = self
            .scenario
            .region_or_default(k.region.as_deref())
            .to_string();
        let a = self.call(
            &region,
            &what,
            "kms:CreateKey",
            json!({"Description": k.description}),
        )?;
        let id = Self::field(&what, &a, "KeyMetadata/KeyId")?;
        let arn = Self::field(&what, &a, "KeyMetadata/Arn")?;
        if let Some(alias) = &k.alias {
            self.call(
                &region,
                &what,
                "kms:CreateAlias",
                json!({"AliasName": alias, "TargetKeyId": id}),
            )?;
        }
        match k.state {
            KeyState::Enabled => {}
            KeyState::Disabled => {
                self.call(&region, &what, "kms:DisableKey", json!({"KeyId": id}))?;
            }
            KeyState::PendingDeletion => {
                self.call(
                    &region,
                    &what,
                    "kms:ScheduleKeyDeletion",
                    json!({"KeyId": id, "PendingWindowInDays": 7}),
                )?;
            }
        }
        self.made("kms", name, id, &region);
        self.symbols.set(format!("kms.{name}.arn"), arn);
        Ok(())
    }

    fn subnet(&mut self, name: &str, s: &model::Subnet) -> Result<(), String> {
        let what = format!("subnets.{name}");
        let vpc = self.id(&what, "vpc", &s.vpc)?;
        let region = self.region_of("vpc", &s.vpc);
        let a = self.call(
            &region,
            &what,
            "ec2:CreateSubnet",
            json!({"VpcId": vpc, "CidrBlock": s.cidr, "AvailabilityZone": s.zone}),
        )?;
        let id = Self::field(&what, &a, "subnet/subnetId")?;
        let mut tags = self.tags(&s.tags, s.cluster, true);
        match s.role.as_deref() {
            None => {}
            Some(r @ ("elb" | "internal-elb")) => {
                tags.insert(format!("kubernetes.io/role/{r}"), "1".into());
            }
            Some(other) => {
                return Err(format!("{what}: role '{other}' is not elb or internal-elb"))
            }
        }
        self.tag_ec2(&region, &what, &id, tags)?;
        self.made("subnet", name, id, &region);
        self.symbols
            .set(format!("subnet.{name}.zone"), s.zone.clone());
        Ok(())
    }

    fn permission(&self, what: &str, r: &model::Rule) -> Result<Value, String> {
        let from = r.from.or(r.port);
        let to = r.to.or(r.port);
        let groups = r
            .groups
            .iter()
            .map(|g| Ok(json!({"GroupId": self.id(what, "sg", g)?})))
            .collect::<Result<Vec<_>, String>>()?;
        let ranges: Vec<Value> = r.cidrs.iter().map(|c| json!({"CidrIp": c})).collect();
        Ok(map([
            ("IpProtocol", json!(r.protocol)),
            ("FromPort", json!(from)),
            ("ToPort", json!(to)),
            (
                "IpRanges",
                if ranges.is_empty() {
                    Value::Null
                } else {
                    json!(ranges)
                },
            ),
            (
                "Groups",
                if groups.is_empty() {
                    Value::Null
                } else {
                    json!(groups)
                },
            ),
        ]))
    }

    fn run_instance(&mut self, name: &str, i: &model::Instance) -> Result<(), String> {
        let what = format!("instances.{name}");
        let subnet = self.id(&what, "subnet", &i.subnet)?;
        let region = self.region_of("subnet", &i.subnet);
        let groups = i
            .security_groups
            .iter()
            .map(|g| self.id(&what, "sg", g))
            .collect::<Result<Vec<_>, _>>()?;
        if i.profile.is_some() && i.role.is_some() {
            return Err(format!("{what}: name a profile or a role, not both"));
        }
        let profile = i.profile.clone().or_else(|| i.role.clone());
        let tags = self.tags(&i.tags, i.cluster, true);
        let tag: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        let params = map([
            (
                "ImageId",
                json!(i.image.as_deref().unwrap_or(DEFAULT_IMAGE)),
            ),
            (
                "InstanceType",
                json!(i.instance_type.as_deref().unwrap_or(DEFAULT_INSTANCE_TYPE)),
            ),
            ("MinCount", json!(1)),
            ("MaxCount", json!(1)),
            ("SubnetId", json!(subnet)),
            (
                "SecurityGroupId",
                if groups.is_empty() {
                    Value::Null
                } else {
                    json!(groups)
                },
            ),
            (
                "IamInstanceProfile",
                profile.map_or(Value::Null, |p| json!({"Name": p})),
            ),
            (
                "TagSpecification",
                if tag.is_empty() {
                    Value::Null
                } else {
                    json!([{"ResourceType": "instance", "Tag": tag}])
                },
            ),
        ]);
        let a = self.call(&region, &what, "ec2:RunInstances", params)?;
        let id = Self::field(&what, &a, "instancesSet/item/instanceId")?;
        if let Some(dns) = a.body.text("instancesSet/item/privateDnsName") {
            self.symbols.set(format!("instance.{name}.dns"), dns);
        }
        self.made("instance", name, id, &region);
        Ok(())
    }

    fn route_table(&mut self, name: &str, t: &model::RouteTable) -> Result<(), String> {
        let what = format!("route_tables.{name}");
        let vpc = self.id(&what, "vpc", &t.vpc)?;
        let region = self.region_of("vpc", &t.vpc);
        let a = self.call(
            &region,
            &what,
            "ec2:CreateRouteTable",
            json!({"VpcId": vpc}),
        )?;
        let id = Self::field(&what, &a, "routeTable/routeTableId")?;
        for r in &t.routes {
            let target = match (&r.gateway, &r.instance) {
                (Some(g), None) => ("GatewayId", self.id(&what, "igw", g)?),
                (None, Some(i)) => ("InstanceId", self.id(&what, "instance", i)?),
                _ => return Err(format!("{what}: a route names a gateway or an instance")),
            };
            self.call(
                &region,
                &what,
                "ec2:CreateRoute",
                map([
                    ("RouteTableId", json!(id)),
                    ("DestinationCidrBlock", json!(r.destination)),
                    (target.0, json!(target.1)),
                ]),
            )?;
        }
        for s in &t.subnets {
            let subnet = self.id(&what, "subnet", s)?;
            self.call(
                &region,
                &what,
                "ec2:AssociateRouteTable",
                json!({"RouteTableId": id, "SubnetId": subnet}),
            )?;
        }
        self.tag_ec2(&region, &what, &id, self.tags(&t.tags, t.cluster, false))?;
        self.made("rtb", name, id, &region);
        Ok(())
    }

    fn volume(&mut self, name: &str, v: &model::Volume) -> Result<(), String> {
        let what = format!("volumes.{name}");
        let region = model::zone_region(&v.zone)
            .ok_or_else(|| format!("{what}: unknown zone '{}'", v.zone))?
            .to_string();
        let key = v
            .kms_key
            .as_ref()
            .map(|k| self.id(&what, "kms", k))
            .transpose()?;
        let params = map([
            ("AvailabilityZone", json!(v.zone)),
            ("Size", json!(v.size.unwrap_or(10))),
            (
                "VolumeType",
                json!(v.volume_type.as_deref().unwrap_or("gp3")),
            ),
            (
                "Encrypted",
                if v.encrypted || key.is_some() {
                    json!(true)
                } else {
                    Value::Null
                },
            ),
            ("KmsKeyId", key.map_or(Value::Null, |k| json!(k))),
        ]);
        let a = self.call(&region, &what, "ec2:CreateVolume", params)?;
        let id = Self::field(&what, &a, "volumeId")?;
        self.tag_ec2(&region, &what, &id, self.tags(&v.tags, v.cluster, false))?;
        self.made("volume", name, id, &region);
        Ok(())
    }

    fn elb_tags(&self, tags: Tags) -> Value {
        if tags.is_empty() {
            return Value::Null;
        }
        json!(tags
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect::<Vec<_>>())
    }

    /// A load balancer of either API: the subnets' region, their ids and the groups' ids.
    fn load_balancer(&mut self, name: &str, lb: &model::LoadBalancer) -> Result<(), String> {
        let what = format!("load_balancers.{name}");
        let region = match lb.subnets.first() {
            Some(s) => self.region_of("subnet", s),
            None => self.scenario.region.clone(),
        };
        let subnets = lb
            .subnets
            .iter()
            .map(|s| self.id(&what, "subnet", s))
            .collect::<Result<Vec<_>, _>>()?;
        let groups = lb
            .security_groups
            .iter()
            .map(|s| self.id(&what, "sg", s))
            .collect::<Result<Vec<_>, _>>()?;
        let lb_name = lb.name.clone().unwrap_or_else(|| name.to_string());
        let made = Made {
            region: &region,
            what: &what,
            name: &lb_name,
            subnets,
            groups: if groups.is_empty() {
                Value::Null
            } else {
                json!(groups)
            },
            tags: self.elb_tags(self.tags(&lb.tags, lb.cluster, false)),
        };
        let dns = match lb.lb_type {
            LoadBalancerType::Classic => self.classic_load_balancer(&made, lb)?,
            _ => {
                let (arn, dns) = self.v2_load_balancer(name, &made, lb)?;
                self.symbols.set(format!("lb.{name}.arn"), arn);
                dns
            }
        };
        self.made("lb", name, lb_name, &region);
        self.symbols.set(format!("lb.{name}.dns"), dns);
        Ok(())
    }

    /// A classic load balancer and its instances; returns its DNS name.
    fn classic_load_balancer(
        &self,
        m: &Made<'_>,
        lb: &model::LoadBalancer,
    ) -> Result<String, String> {
        let (region, what) = (m.region, m.what);
        let listeners: Vec<Value> = lb
            .listeners
            .iter()
            .map(|l| {
                map([
                    ("Protocol", json!(l.protocol)),
                    ("LoadBalancerPort", json!(l.port)),
                    ("InstancePort", json!(l.instance_port)),
                    (
                        "InstanceProtocol",
                        l.instance_protocol
                            .as_ref()
                            .map_or(Value::Null, |p| json!(p)),
                    ),
                ])
            })
            .collect();
        let params = map([
            ("LoadBalancerName", json!(m.name)),
            ("Listeners", json!(listeners)),
            ("Subnets", json!(m.subnets)),
            ("SecurityGroups", m.groups.clone()),
            (
                "Scheme",
                lb.scheme.as_ref().map_or(Value::Null, |s| json!(s)),
            ),
            ("Tags", m.tags.clone()),
        ]);
        let a = self.call(region, what, "elb:CreateLoadBalancer", params)?;
        let dns = Self::field(what, &a, "DNSName")?;
        if !lb.instances.is_empty() {
            let instances = lb
                .instances
                .iter()
                .map(|i| Ok(json!({"InstanceId": self.id(what, "instance", i)?})))
                .collect::<Result<Vec<_>, String>>()?;
            self.call(
                region,
                what,
                "elb:RegisterInstancesWithLoadBalancer",
                json!({"LoadBalancerName": m.name, "Instances": instances}),
            )?;
        }
        Ok(dns)
    }

    /// An ELBv2 load balancer and its listeners, each forwarding to its target group (which the
    /// world makes first); returns the ARN and DNS name. Each listener's ARN is
    /// `${lb.NAME.listener.PORT}` (a gateway's, without a port, `${lb.NAME.listener}`).
    fn v2_load_balancer(
        &mut self,
        symbol: &str,
        m: &Made<'_>,
        lb: &model::LoadBalancer,
    ) -> Result<(String, String), String> {
        let (region, what) = (m.region, m.what);
        let lb_type = match lb.lb_type {
            LoadBalancerType::Application => "application",
            LoadBalancerType::Gateway => "gateway",
            _ => "network",
        };
        let params = map([
            ("Name", json!(m.name)),
            ("Type", json!(lb_type)),
            ("Subnets", json!(m.subnets)),
            ("SecurityGroups", m.groups.clone()),
            (
                "Scheme",
                lb.scheme.as_ref().map_or(Value::Null, |s| json!(s)),
            ),
            ("Tags", m.tags.clone()),
        ]);
        let a = self.call(region, what, "elbv2:CreateLoadBalancer", params)?;
        let arn = Self::field(what, &a, "LoadBalancerArn")?;
        let dns = Self::field(what, &a, "DNSName")?;
        for l in &lb.listeners {
            let tg = self.id(what, "tg", l.target_group.as_deref().unwrap_or_default())?;
            let params = map([
                ("LoadBalancerArn", json!(arn)),
                (
                    "Protocol",
                    l.protocol.as_ref().map_or(Value::Null, |p| json!(p)),
                ),
                ("Port", l.port.map_or(Value::Null, |p| json!(p))),
                (
                    "Certificates",
                    l.certificate
                        .as_ref()
                        .map_or(Value::Null, |c| json!([{"CertificateArn": c}])),
                ),
                (
                    "DefaultActions",
                    json!([{"Type": "forward", "TargetGroupArn": tg}]),
                ),
            ]);
            let a = self.call(region, what, "elbv2:CreateListener", params)?;
            let listener = Self::field(what, &a, "ListenerArn")?;
            let key = match l.port {
                Some(p) => format!("lb.{symbol}.listener.{p}"),
                None => format!("lb.{symbol}.listener"),
            };
            self.symbols.set(key, listener);
        }
        Ok((arn, dns))
    }

    fn target_group(&mut self, name: &str, tg: &model::TargetGroup) -> Result<(), String> {
        let what = format!("target_groups.{name}");
        let vpc = self.id(&what, "vpc", &tg.vpc)?;
        let region = self.region_of("vpc", &tg.vpc);
        let params = map([
            (
                "Name",
                json!(tg.name.clone().unwrap_or_else(|| name.to_string())),
            ),
            ("Protocol", json!(tg.protocol)),
            ("Port", json!(tg.port)),
            ("VpcId", json!(vpc)),
            (
                "Tags",
                self.elb_tags(self.tags(&tg.tags, tg.cluster, false)),
            ),
        ]);
        let a = self.call(&region, &what, "elbv2:CreateTargetGroup", params)?;
        let arn = Self::field(&what, &a, "TargetGroupArn")?;
        if !tg.targets.is_empty() {
            let targets = tg
                .targets
                .iter()
                .map(|t| {
                    Ok(map([
                        ("Id", json!(self.id(&what, "instance", &t.instance)?)),
                        ("Port", t.port.map_or(Value::Null, |p| json!(p))),
                    ]))
                })
                .collect::<Result<Vec<_>, String>>()?;
            self.call(
                &region,
                &what,
                "elbv2:RegisterTargets",
                json!({"TargetGroupArn": arn, "Targets": targets}),
            )?;
        }
        self.made("tg", name, arn, &region);
        Ok(())
    }
}
