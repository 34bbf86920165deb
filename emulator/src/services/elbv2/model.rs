//! The v2 load balancers, listeners, listener rules and target groups of one region.
//!
//! Each kind sits in its own map keyed by ARN; `seq` records creation order, which is the order
//! Describe calls answer in (and page over). Nothing derived is stored twice: which load
//! balancers use a target group is read from the listeners' and rules' actions
//! ([`Elbv2::load_balancers_of`]), a listener's default rule is the listener itself (only its
//! tags are kept, on the listener), and a target's health is computed at each observation from
//! the clock (see `target_health`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::services::ec2::model::Timed;
use crate::state::tags::Tags;

/// `application`, `network` or `gateway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LbType {
    Application,
    Network,
    Gateway,
}

impl LbType {
    pub fn parse(s: &str) -> Option<LbType> {
        Some(match s {
            "application" => LbType::Application,
            "network" => LbType::Network,
            "gateway" => LbType::Gateway,
            _ => return None,
        })
    }

    /// The API name (`Type`).
    pub fn name(self) -> &'static str {
        match self {
            LbType::Application => "application",
            LbType::Network => "network",
            LbType::Gateway => "gateway",
        }
    }

    /// The ARN segment: `app`, `net`, `gwy`.
    pub fn arn_segment(self) -> &'static str {
        match self {
            LbType::Application => "app",
            LbType::Network => "net",
            LbType::Gateway => "gwy",
        }
    }
}

/// `State.Code` of a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbState {
    Provisioning,
    Active,
}

impl LbState {
    pub fn name(self) -> &'static str {
        match self {
            LbState::Provisioning => "provisioning",
            LbState::Active => "active",
        }
    }
}

/// One enabled zone: the subnet and what its mapping pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneMapping {
    pub zone: String,
    pub subnet_id: String,
    /// `PrivateIPv4Address` of an internal network load balancer's mapping.
    pub private_ipv4: Option<String>,
    /// When the zone was enabled (creation, or the SetSubnets that added it): targets in it start
    /// their initial health checks then.
    pub enabled_ms: i64,
}

impl ZoneMapping {
    /// Where the mapping puts the load balancer (subnet and address), whenever it was enabled:
    /// what an identical re-create compares.
    pub fn placement(&self) -> (&str, Option<&str>) {
        (&self.subnet_id, self.private_ipv4.as_deref())
    }
}

/// A v2 load balancer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub kind: LbType,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub vpc_id: String,
    /// Sorted by zone name, one per zone.
    pub zones: Vec<ZoneMapping>,
    pub security_groups: Vec<String>,
    /// Network load balancers with security groups only: `on` or `off`.
    pub enforce_private_link_rules: Option<String>,
    pub ip_address_type: String,
    /// Empty for gateway load balancers, which have no DNS name.
    pub dns_name: String,
    pub created_ms: i64,
    pub seq: u64,
    pub state: Timed<LbState>,
    /// Every attribute of the type, with its current value.
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
}

impl LoadBalancer {
    /// The hex id at the end of the ARN (also in NLB DNS names and listener ARNs).
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or("")
    }

    pub fn subnet_ids(&self) -> Vec<String> {
        self.zones.iter().map(|z| z.subnet_id.clone()).collect()
    }

    /// When the load balancer is (or became) `active`.
    pub fn active_at(&self) -> i64 {
        match self.state.next {
            Some((_, at)) => at,
            None => self.state.since_ms,
        }
    }
}

/// A `forward` target: a target group and its weight in a `ForwardConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedGroup {
    pub arn: String,
    pub weight: Option<i64>,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionKind {
    Forward {
        groups: Vec<WeightedGroup>,
        /// `TargetGroupStickinessConfig`: enabled, duration.
        stickiness: Option<(bool, Option<i64>)>,
    },
    Redirect {
        protocol: Option<String>,
        port: Option<String>,
        host: Option<String>,
        path: Option<String>,
        query: Option<String>,
        status_code: String,
    },
    FixedResponse {
        message_body: Option<String>,
        status_code: String,
        content_type: Option<String>,
    },
}

/// A listener's default action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub order: Option<i64>,
}

impl Action {
    /// The target groups the action sends traffic to.
    pub fn target_groups(&self) -> impl Iterator<Item = &str> {
        let groups: &[WeightedGroup] = match &self.kind {
            ActionKind::Forward { groups, .. } => groups,
            _ => &[],
        };
        groups.iter().map(|g| g.arn.as_str())
    }
}

/// A listener of a load balancer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    /// Absent on gateway load balancers (they listen on every port).
    pub port: Option<i64>,
    pub protocol: Option<String>,
    pub ssl_policy: Option<String>,
    pub certificates: Vec<String>,
    pub actions: Vec<Action>,
    pub alpn_policy: Vec<String>,
    pub seq: u64,
    pub tags: Tags,
    /// The tags of the listener's default rule (a resource of its own to AddTags and
    /// DescribeTags); absent from state files written before rules were emulated.
    #[serde(default)]
    pub default_rule_tags: Tags,
}

/// One `key=value` (or bare value) of a `query-string` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryPair {
    pub key: Option<String>,
    pub value: String,
}

/// A rule condition, whichever form (`Field` + `Values`, or the field's `*Config`) it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// `host-header`, `path-pattern`, `http-header`, `http-request-method`, `query-string` or
    /// `source-ip`.
    pub field: String,
    /// The values matched: host names, path patterns, header values, methods or CIDRs.
    pub values: Vec<String>,
    /// Regular expressions (host-header, path-pattern, http-header).
    pub regex_values: Vec<String>,
    /// `http-header`: the header's name.
    pub header_name: Option<String>,
    /// `query-string`: the pairs.
    pub query: Vec<QueryPair>,
    /// `source-ip` on a network load balancer: `ipv4` or `ipv6`.
    pub ip_address_type: Option<String>,
}

/// A rule transform: `host-header-rewrite` or `url-rewrite`, with its rewrites (regex, replace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transform {
    pub kind: String,
    pub rewrites: Vec<(String, String)>,
}

/// A listener rule other than the default one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub arn: String,
    pub listener_arn: String,
    /// 1–50000, unique on the listener.
    pub priority: i64,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    pub transforms: Vec<Transform>,
    pub seq: u64,
    pub tags: Tags,
}

/// A target group's health check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// `HTTP`, `HTTPS` or `TCP`; absent for Lambda target groups.
    pub protocol: Option<String>,
    /// `traffic-port` or a port number; absent for Lambda target groups.
    pub port: Option<String>,
    pub enabled: bool,
    /// HTTP and HTTPS checks only.
    pub path: Option<String>,
    pub interval: i64,
    pub timeout: i64,
    pub healthy_threshold: i64,
    pub unhealthy_threshold: i64,
    pub matcher_http: Option<String>,
    pub matcher_grpc: Option<String>,
}

/// What identifies a target group's behaviour: compared by an idempotent CreateTargetGroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroupConfig {
    /// Absent for Lambda target groups.
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    /// `HTTP1`, `HTTP2` or `GRPC` (HTTP and HTTPS target groups only).
    pub protocol_version: Option<String>,
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
    /// `ipv4` or `ipv6`; absent for Lambda target groups.
    pub ip_address_type: Option<String>,
    /// The target optimizer's control port (application load balancer groups).
    pub target_control_port: Option<i64>,
    pub health: HealthCheck,
}

/// A registered target, and since when; a deregistered one drains until `draining_until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: String,
    pub port: Option<i64>,
    pub availability_zone: Option<String>,
    pub registered_ms: i64,
    pub draining_until_ms: Option<i64>,
}

impl Registration {
    /// Whether the registration still shows at `now` (a drained one is gone).
    pub fn present(&self, now: i64) -> bool {
        self.draining_until_ms.is_none_or(|t| now < t)
    }
}

/// A target group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub config: TargetGroupConfig,
    pub attributes: BTreeMap<String, String>,
    pub targets: Vec<Registration>,
    /// Since when a listener forwards to the group (targets are health checked from then on).
    pub in_use_since_ms: Option<i64>,
    pub seq: u64,
    pub tags: Tags,
}

/// The ELBv2 resources of a region, by ARN.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Elbv2 {
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub listeners: BTreeMap<String, Listener>,
    /// Listener rules (not the default ones); absent from state files written before rules.
    #[serde(default)]
    pub rules: BTreeMap<String, Rule>,
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// The next creation sequence number.
    next_seq: u64,
}

impl Elbv2 {
    /// Whether a load balancer uses security group `id`.
    pub fn uses_group(&self, id: &str) -> bool {
        self.load_balancers
            .values()
            .any(|lb| lb.security_groups.iter().any(|g| g == id))
    }

    /// Whether a load balancer has a network interface in subnet `id`.
    pub fn uses_subnet(&self, id: &str) -> bool {
        self.load_balancers
            .values()
            .any(|lb| lb.zones.iter().any(|z| z.subnet_id == id))
    }

    /// A fresh creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The listeners of a load balancer, in creation order.
    pub fn listeners_of(&self, lb_arn: &str) -> Vec<&Listener> {
        let mut out: Vec<&Listener> = self
            .listeners
            .values()
            .filter(|l| l.load_balancer_arn == lb_arn)
            .collect();
        out.sort_by_key(|l| l.seq);
        out
    }

    /// The rules of a listener (not its default rule), by priority.
    pub fn rules_of(&self, listener_arn: &str) -> Vec<&Rule> {
        let mut out: Vec<&Rule> = self
            .rules
            .values()
            .filter(|r| r.listener_arn == listener_arn)
            .collect();
        out.sort_by_key(|r| r.priority);
        out
    }

    /// Every listener's and rule's actions, with the load balancer they belong to.
    fn all_actions(&self) -> impl Iterator<Item = (&str, &Action)> {
        let of_listeners = self
            .listeners
            .values()
            .flat_map(|l| l.actions.iter().map(|a| (l.load_balancer_arn.as_str(), a)));
        let of_rules = self.rules.values().flat_map(|r| {
            let lb = self
                .listeners
                .get(&r.listener_arn)
                .map(|l| l.load_balancer_arn.as_str())
                .unwrap_or("");
            r.actions.iter().map(move |a| (lb, a))
        });
        of_listeners.chain(of_rules)
    }

    /// The load balancers whose listeners or rules forward to target group `tg_arn`
    /// (`LoadBalancerArns`).
    pub fn load_balancers_of(&self, tg_arn: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .all_actions()
            .filter(|(_, a)| a.target_groups().any(|t| t == tg_arn))
            .map(|(lb, _)| lb)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The target groups a load balancer's listeners forward to, in creation order.
    pub fn target_groups_of(&self, lb_arn: &str) -> Vec<&TargetGroup> {
        let mut out: Vec<&TargetGroup> = self
            .target_groups
            .values()
            .filter(|tg| self.load_balancers_of(&tg.arn).contains(&lb_arn))
            .collect();
        out.sort_by_key(|tg| tg.seq);
        out
    }

    /// Brings every target group's `in_use_since_ms` in line with the listeners and rules: a
    /// group one starts forwarding to is in use from `now`; one nothing forwards to is not.
    /// Call after any change to listeners or rules.
    pub fn refresh_usage(&mut self, now: i64) {
        let used: std::collections::BTreeSet<String> = self
            .all_actions()
            .flat_map(|(_, a)| a.target_groups().map(str::to_string).collect::<Vec<_>>())
            .collect();
        for tg in self.target_groups.values_mut() {
            let in_use = used.contains(&tg.arn);
            match (in_use, tg.in_use_since_ms) {
                (true, None) => tg.in_use_since_ms = Some(now),
                (false, Some(_)) => tg.in_use_since_ms = None,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State files written before listener rules were emulated have neither the rules map nor
    /// the listeners' default rule tags: they still load, with none.
    #[test]
    fn state_from_before_rules_loads() {
        let mut e = Elbv2::default();
        e.listeners.insert(
            "l".into(),
            Listener {
                arn: "l".into(),
                load_balancer_arn: "lb".into(),
                port: Some(80),
                protocol: Some("HTTP".into()),
                ssl_policy: None,
                certificates: vec![],
                actions: vec![],
                alpn_policy: vec![],
                seq: 1,
                tags: Tags::new(),
                default_rule_tags: Tags::new(),
            },
        );
        let mut v = serde_json::to_value(&e).unwrap();
        let obj = v.as_object_mut().unwrap();
        assert!(obj.remove("rules").is_some());
        let l = obj["listeners"]["l"].as_object_mut().unwrap();
        assert!(l.remove("default_rule_tags").is_some());
        let back: Elbv2 = serde_json::from_value(v).unwrap();
        assert!(back.rules.is_empty());
        assert!(back.listeners["l"].default_rule_tags.is_empty());
    }
}
