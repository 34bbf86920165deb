//! Injected faults: answers the emulator gives instead of the real one, to test how clients cope.
//!
//! One list of entries, one shape everywhere (scenario files, the config file's `faults` key,
//! `POST /_awsemu/faults`, [`crate::Emulator::inject`]). Each entry is one of:
//! - a [`FaultRule`] (`{action, principal?, resource?, error?, latency_ms?, times?, after?,
//!   probability?}`): an error and/or latency for the calls it matches ([`rules`]);
//! - `{throttle: {service, buckets?}}`: AWS's token buckets for a service ([`throttle`]);
//! - `{consistency: {action, calls | ms, mode?}}`: what a matching create made stays out of
//!   Describe*'s sight for a while ([`consistency`]).
//!
//! Faults are decided after authentication and authorization, so a denied call stays denied and
//! a faulted call changes nothing. Entries from the configuration survive a reset (they are
//! re-applied); live ones are cleared by it.

pub mod consistency;
pub mod rules;
pub mod throttle;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::protocol::{AwsError, Protocol};
use crate::state::ids::IdGen;

pub use consistency::{ConsistencySpec, Mode};
pub use rules::{ActiveRule, CallFacts, ErrorSpec, FaultRule, Origin};
pub use throttle::{BucketSize, ThrottleSpec};

/// One fault entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FaultSpec {
    Rule(FaultRule),
    Throttle { throttle: ThrottleSpec },
    Consistency { consistency: ConsistencySpec },
}

impl<'de> Deserialize<'de> for FaultSpec {
    /// By key: `throttle` or `consistency` name their kinds, anything else is a rule. (An untagged
    /// derive would answer every typo with "did not match any variant".)
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let Some(obj) = v.as_object() else {
            return Err(D::Error::custom(
                "a fault entry must be an object (a rule, {throttle: …} or {consistency: …})",
            ));
        };
        let only = |key: &str| -> Result<serde_json::Value, D::Error> {
            if obj.len() != 1 {
                return Err(D::Error::custom(format!(
                    "a {key} entry has only the key '{key}'"
                )));
            }
            Ok(obj.get(key).cloned().unwrap_or_default())
        };
        let spec = if obj.contains_key("throttle") {
            FaultSpec::Throttle {
                throttle: serde_json::from_value(only("throttle")?)
                    .map_err(|e| D::Error::custom(format!("throttle: {e}")))?,
            }
        } else if obj.contains_key("consistency") {
            FaultSpec::Consistency {
                consistency: serde_json::from_value(only("consistency")?)
                    .map_err(|e| D::Error::custom(format!("consistency: {e}")))?,
            }
        } else {
            FaultSpec::Rule(
                serde_json::from_value(v)
                    .map_err(|e| D::Error::custom(format!("fault rule: {e}")))?,
            )
        };
        spec.validate().map_err(D::Error::custom)?;
        Ok(spec)
    }
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FaultSpec::Rule(r) => r.validate(),
            FaultSpec::Throttle { throttle } => throttle.validate(),
            FaultSpec::Consistency { consistency } => consistency.validate(),
        }
    }

    /// Parses one entry or a list of entries (JSON), as `POST /_awsemu/faults` takes them.
    pub fn parse_list(text: &str) -> Result<Vec<FaultSpec>, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("body is not valid JSON: {e}"))?;
        let list = match v {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        list.into_iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::from_value(v).map_err(|e| format!("fault entry {}: {e}", i + 1))
            })
            .collect()
    }
}

impl From<FaultRule> for FaultSpec {
    fn from(r: FaultRule) -> Self {
        FaultSpec::Rule(r)
    }
}

impl From<ThrottleSpec> for FaultSpec {
    fn from(throttle: ThrottleSpec) -> Self {
        FaultSpec::Throttle { throttle }
    }
}

impl From<ConsistencySpec> for FaultSpec {
    fn from(consistency: ConsistencySpec) -> Self {
        FaultSpec::Consistency { consistency }
    }
}

/// A call as faults see it, after authorization.
#[derive(Debug)]
pub struct FaultCall<'a> {
    pub facts: CallFacts<'a>,
    /// The service's IAM prefix (`ec2`).
    pub service: &'a str,
    pub protocol: Protocol,
    /// The action's own name (`DescribeInstances`).
    pub action: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    /// The request names no filter, id or page (EC2's unfiltered-and-unpaginated bucket).
    pub unfiltered: bool,
    /// Instances the call launches, starts, stops or terminates (EC2's resource buckets).
    pub instances: u32,
    pub now_ms: i64,
}

/// What faults do to one call.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Answer this instead of running the handler.
    pub error: Option<AwsError>,
    /// Panic inside the handler (the server's panic isolation is what is tested).
    pub panic: bool,
    /// Wait this long before the answer is written.
    pub latency_ms: u64,
}

/// A throttle entry in force.
#[derive(Debug, Clone, Serialize)]
struct ActiveThrottle {
    #[serde(flatten)]
    spec: ThrottleSpec,
    origin: Origin,
}

/// A consistency entry in force.
#[derive(Debug, Clone, Serialize)]
struct ActiveConsistency {
    #[serde(flatten)]
    spec: ConsistencySpec,
    origin: Origin,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<ActiveRule>,
    throttles: Vec<ActiveThrottle>,
    consistency: Vec<ActiveConsistency>,
    /// (account, region, service, category) → bucket.
    buckets: BTreeMap<(String, String, String, String), throttle::Bucket>,
}

/// The faults of one emulator.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
    /// The seeded generator of `probability` draws: the same seed and calls, the same outcomes.
    rng: Mutex<IdGen>,
    seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(0)
    }
}

/// Everything in force with its counts, the buckets' levels and the probability generator's
/// place: what a snapshot keeps, so a restored emulator fires the same faults on the same calls.
/// (Entries are stored unflattened: a rule refuses unknown keys, which `flatten` cannot carry.)
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultsState {
    pub rules: Vec<RuleState>,
    pub throttles: Vec<EntryState<ThrottleSpec>>,
    pub consistency: Vec<EntryState<ConsistencySpec>>,
    /// Each bucket with its last refill time (ms).
    pub buckets: Vec<(throttle::Bucket, i64)>,
    pub rng_seed: u64,
    pub rng_drawn: u64,
}

/// A rule in force, in a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleState {
    pub rule: FaultRule,
    pub seen: u64,
    pub fired: u64,
    pub remaining: Option<u32>,
    pub origin: Origin,
}

/// A throttle or consistency entry in force, in a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryState<T> {
    pub spec: T,
    pub origin: Origin,
}

/// Everything in force, for `GET /_awsemu/faults`.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub rules: Vec<ActiveRule>,
    pub throttle: Vec<serde_json::Value>,
    pub buckets: Vec<throttle::Bucket>,
    pub consistency: Vec<serde_json::Value>,
}

impl Faults {
    pub fn new(seed: u64) -> Faults {
        Faults {
            state: Mutex::new(State::default()),
            rng: Mutex::new(IdGen::new(seed).fork("faults")),
            seed,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave this state half-changed in a harmful way: keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a live entry (cleared by reset). Refused when invalid.
    pub fn add(&self, spec: impl Into<FaultSpec>) -> Result<(), String> {
        self.add_from(spec.into(), Origin::Live)
    }

    fn add_from(&self, spec: FaultSpec, origin: Origin) -> Result<(), String> {
        spec.validate()?;
        let mut s = self.state();
        match spec {
            FaultSpec::Rule(rule) => s.rules.push(ActiveRule::new(rule, origin)),
            FaultSpec::Throttle { throttle } => {
                // A new entry for a service replaces the old one, and its buckets start full.
                s.throttles.retain(|t| t.spec.service != throttle.service);
                s.buckets.retain(|k, _| k.2 != throttle.service);
                s.throttles.push(ActiveThrottle {
                    spec: throttle,
                    origin,
                });
            }
            FaultSpec::Consistency { consistency } => s.consistency.push(ActiveConsistency {
                spec: consistency,
                origin,
            }),
        }
        Ok(())
    }

    /// Removes every entry, live or configured.
    pub fn clear(&self) {
        *self.state() = State::default();
    }

    /// Back to the configured entries, counts and buckets fresh, the generator re-seeded.
    pub fn reset_to(&self, configured: &[FaultSpec]) -> Result<(), String> {
        self.clear();
        if let Ok(mut rng) = self.rng.lock() {
            *rng = IdGen::new(self.seed).fork("faults");
        }
        for spec in configured {
            self.add_from(spec.clone(), Origin::Config)?;
        }
        Ok(())
    }

    /// The whole fault state, for a snapshot.
    pub fn save(&self) -> FaultsState {
        let s = self.state();
        let (rng_seed, rng_drawn) = self
            .rng
            .lock()
            .map(|g| (g.seed(), g.drawn()))
            .unwrap_or_else(|p| (p.get_ref().seed(), p.get_ref().drawn()));
        FaultsState {
            rules: (s.rules.iter())
                .map(|r| RuleState {
                    rule: r.rule.clone(),
                    seen: r.seen,
                    fired: r.fired,
                    remaining: r.remaining,
                    origin: r.origin,
                })
                .collect(),
            throttles: (s.throttles.iter())
                .map(|t| EntryState {
                    spec: t.spec.clone(),
                    origin: t.origin,
                })
                .collect(),
            consistency: (s.consistency.iter())
                .map(|c| EntryState {
                    spec: c.spec.clone(),
                    origin: c.origin,
                })
                .collect(),
            buckets: (s.buckets.values())
                .map(|b| (b.clone(), b.last_ms()))
                .collect(),
            rng_seed,
            rng_drawn,
        }
    }

    /// Puts a snapshot's fault state in force instead of the current one. Refused (nothing
    /// changed) when an entry is invalid.
    pub fn load(&self, saved: &FaultsState) -> Result<(), String> {
        for r in &saved.rules {
            r.rule.validate()?;
        }
        for t in &saved.throttles {
            t.spec.validate()?;
        }
        for c in &saved.consistency {
            c.spec.validate()?;
        }
        let state = State {
            rules: (saved.rules.iter())
                .map(|r| ActiveRule {
                    rule: r.rule.clone(),
                    seen: r.seen,
                    fired: r.fired,
                    remaining: r.remaining,
                    origin: r.origin,
                })
                .collect(),
            throttles: (saved.throttles.iter())
                .map(|t| ActiveThrottle {
                    spec: t.spec.clone(),
                    origin: t.origin,
                })
                .collect(),
            consistency: (saved.consistency.iter())
                .map(|c| ActiveConsistency {
                    spec: c.spec.clone(),
                    origin: c.origin,
                })
                .collect(),
            buckets: (saved.buckets.iter())
                .map(|(b, last_ms)| {
                    let mut b = b.clone();
                    b.set_last_ms(*last_ms);
                    (b.key(), b)
                })
                .collect(),
        };
        *self.state() = state;
        let resumed = IdGen::resumed(saved.rng_seed, saved.rng_drawn);
        match self.rng.lock() {
            Ok(mut g) => *g = resumed,
            Err(p) => *p.into_inner() = resumed,
        }
        Ok(())
    }

    /// Everything in force with what is left of it.
    pub fn list(&self) -> Listing {
        let s = self.state();
        Listing {
            rules: s.rules.clone(),
            throttle: s
                .throttles
                .iter()
                .map(|t| serde_json::to_value(t).unwrap_or_default())
                .collect(),
            buckets: s.buckets.values().cloned().collect(),
            consistency: s
                .consistency
                .iter()
                .map(|c| serde_json::to_value(c).unwrap_or_default())
                .collect(),
        }
    }

    /// A uniform draw in [0, 1) from the seeded generator.
    fn draw(&self) -> f64 {
        let n = self.rng.lock().map(|g| g.next_u64()).unwrap_or(0);
        (n >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Decides what happens to a call: rules in order (latencies add up, the first error wins and
    /// later rules do not count the call), then the service's token bucket.
    pub fn decide(&self, call: &FaultCall<'_>) -> Decision {
        let mut d = Decision::default();
        let mut s = self.state();
        for rule in s.rules.iter_mut() {
            if !rule.matches(&call.facts) {
                continue;
            }
            if !rule.fires(&mut || self.draw()) {
                continue;
            }
            d.latency_ms = d
                .latency_ms
                .saturating_add(rule.rule.latency_ms.unwrap_or(0));
            d.panic |= rule.rule.panic;
            if let Some(e) = &rule.rule.error {
                d.error = Some(e.to_error());
                break;
            }
            if d.panic {
                break;
            }
        }
        s.rules.retain(|r| r.remaining != Some(0));
        if d.error.is_some() || d.panic {
            return d;
        }
        let Some(t) = s.throttles.iter().find(|t| t.spec.service == call.service) else {
            return d;
        };
        let category = if call.service == "ec2" {
            throttle::ec2_category(call.action, call.unfiltered)
        } else {
            "all"
        };
        let bucket_name = if t.spec.per_action {
            format!("{category}/{}", call.action)
        } else {
            category.to_string()
        };
        // (bucket name, its size, tokens this call takes)
        let mut wanted = vec![(bucket_name, t.spec.size(category), 1)];
        if call.service == "ec2" {
            if let Some(resource) = throttle::ec2_resource_bucket(call.action) {
                wanted.push((resource.to_string(), t.spec.size(resource), call.instances));
            }
        }
        let keys: Vec<_> = wanted
            .into_iter()
            .map(|(name, size, n)| {
                let key = (
                    call.account.to_string(),
                    call.region.to_string(),
                    call.service.to_string(),
                    name,
                );
                (key, size, n)
            })
            .collect();
        let mut enough = true;
        for (key, size, n) in &keys {
            let bucket = s
                .buckets
                .entry(key.clone())
                .or_insert_with(|| throttle::Bucket::new(key.clone(), *size, call.now_ms));
            enough &= bucket.has(*n, call.now_ms);
        }
        if !enough {
            d.error = Some(throttle::throttled(call.protocol));
            return d;
        }
        for (key, _, n) in &keys {
            if let Some(b) = s.buckets.get_mut(key) {
                b.spend(*n);
            }
        }
        d
    }

    /// Decides for a routed, authorized request (see [`Faults::decide`]).
    pub fn decide_for(
        &self,
        routed: &crate::protocol::route::Routed,
        declared: Option<&crate::services::Action>,
        principal: &crate::auth::principal::Principal,
        account: &str,
        region: &str,
        now_ms: i64,
    ) -> Decision {
        let service = routed.service.iam_prefix();
        let iam_action = format!("{service}:{}", routed.action);
        let mut resources = Vec::new();
        for arn in crate::services::authz::resources_of(declared, &routed.input, account, region) {
            if let Some((_, id)) = arn.rsplit_once('/') {
                resources.push(id.to_string());
            }
            resources.push(arn);
        }
        let mut unfiltered = true;
        let mut instances: u32 = 0;
        match &routed.input {
            crate::protocol::route::Input::Query(p) => {
                for (k, v) in p.pairs() {
                    unfiltered &= k == "DryRun";
                    if k.starts_with("InstanceId.") {
                        instances = instances.saturating_add(1);
                    } else if k == "MaxCount" {
                        instances = v.parse().unwrap_or(1);
                    }
                    resources.push(v.to_string());
                }
            }
            crate::protocol::route::Input::Json(j) => {
                for v in j.body.values() {
                    let items = match v {
                        serde_json::Value::Array(a) => a.iter().collect(),
                        one => vec![one],
                    };
                    resources.extend(items.iter().filter_map(|x| x.as_str()).map(String::from));
                }
            }
        }
        let mut principal_names = vec![
            principal.name.as_str(),
            principal.arn.as_str(),
            principal.principal_arn.as_str(),
        ];
        principal_names.extend(principal.role());
        self.decide(&FaultCall {
            facts: CallFacts {
                iam_action: &iam_action,
                principal_names,
                resources,
            },
            service,
            protocol: routed.service.protocol(),
            action: &routed.action,
            account,
            region,
            unfiltered,
            instances,
            now_ms,
        })
    }

    /// Eventual consistency for calls other than Describe*: an EC2 call naming a resource that is
    /// not visible yet answers that resource's NotFound (see [`consistency`]).
    pub fn check_named(
        routed: &crate::protocol::route::Routed,
        hidden: &consistency::Hidden,
        region: &str,
        now_ms: i64,
    ) -> Result<(), AwsError> {
        let crate::protocol::route::Input::Query(p) = &routed.input else {
            return Ok(());
        };
        if routed.service != crate::protocol::ServiceId::Ec2
            || routed.action.starts_with("Describe")
        {
            return Ok(());
        }
        match hidden.named(region, p.pairs().map(|(_, v)| v), now_ms) {
            Some(id) => Err(crate::services::ec2::common::not_found(&id)),
            None => Ok(()),
        }
    }

    /// After a call succeeded: hides what a matching create made, the ids its handler told
    /// (`Call::created`; see [`consistency`]).
    pub fn created(
        &self,
        iam_action: &str,
        ids: &[String],
        hidden: &consistency::Hidden,
        region: &str,
        now_ms: i64,
    ) {
        let spec = {
            let s = self.state();
            s.consistency
                .iter()
                .find(|c| crate::iam::wildcard::matches(&c.spec.action, iam_action, true))
                .map(|c| c.spec.clone())
        };
        if let Some(spec) = spec {
            hidden.hide(ids, region, &spec, now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(action: &'a str, iam: &'a str, now_ms: i64) -> FaultCall<'a> {
        FaultCall {
            facts: CallFacts {
                iam_action: iam,
                principal_names: vec!["worker"],
                resources: vec![],
            },
            service: "ec2",
            protocol: Protocol::Ec2Query,
            action,
            account: "123456789012",
            region: "us-east-1",
            unfiltered: true,
            instances: 1,
            now_ms,
        }
    }

    #[test]
    fn rules_fire_their_count_then_go() {
        let f = Faults::default();
        f.add(FaultRule::new("ec2:Describe*").panic().times(2))
            .unwrap();
        assert!(!f.decide(&call("CreateVolume", "ec2:CreateVolume", 0)).panic);
        assert!(
            f.decide(&call("DescribeRegions", "ec2:describeregions", 0))
                .panic
        );
        assert!(
            f.decide(&call("DescribeInstances", "ec2:DescribeInstances", 0))
                .panic
        );
        assert!(
            !f.decide(&call("DescribeInstances", "ec2:DescribeInstances", 0))
                .panic
        );
        assert!(f.list().rules.is_empty());
    }

    #[test]
    fn probability_is_the_seeds() {
        let outcomes = |seed| {
            let f = Faults::new(seed);
            f.add(
                FaultRule::new("ec2:*")
                    .error("X", "x", 500)
                    .probability(0.5),
            )
            .unwrap();
            (0..64)
                .map(|_| {
                    f.decide(&call("DescribeRegions", "ec2:DescribeRegions", 0))
                        .error
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        let a = outcomes(7);
        assert_eq!(a, outcomes(7));
        assert_ne!(a, outcomes(8));
        let fired = a.iter().filter(|x| **x).count();
        assert!((16..48).contains(&fired), "{fired}");
    }

    #[test]
    fn throttle_takes_tokens_per_category_and_refills() {
        let f = Faults::default();
        let spec: FaultSpec = serde_json::from_str(
            r#"{"throttle":{"service":"ec2","buckets":{"unfiltered_unpaginated":{"capacity":1,"refill_per_second":2}}}}"#,
        )
        .unwrap();
        f.add(spec).unwrap();
        let d = || f.decide(&call("DescribeInstances", "ec2:DescribeInstances", 0));
        assert_eq!(d().error, None);
        let e = d().error.unwrap();
        assert_eq!((e.code.as_ref(), e.status), ("RequestLimitExceeded", 503));
        // Other categories have their own buckets.
        assert_eq!(
            f.decide(&call("CreateVolume", "ec2:CreateVolume", 0)).error,
            None
        );
        assert_eq!(
            f.decide(&call("DescribeInstances", "ec2:DescribeInstances", 500))
                .error,
            None
        );
        assert_eq!(f.list().buckets.len(), 2);
    }

    #[test]
    fn instance_actions_also_draw_on_resource_buckets() {
        let f = Faults::default();
        f.add(ThrottleSpec {
            service: "ec2".into(),
            buckets: [(
                "run_instances_resource".to_string(),
                BucketSize {
                    capacity: 3,
                    refill_per_second: 0.0,
                },
            )]
            .into(),
            per_action: false,
        })
        .unwrap();
        let run = |n| {
            let mut c = call("RunInstances", "ec2:RunInstances", 0);
            c.instances = n;
            f.decide(&c).error.is_some()
        };
        assert!(!run(2));
        assert!(run(2), "one instance token left");
        assert!(!run(1));
        let levels: Vec<(String, f64)> = f
            .list()
            .buckets
            .into_iter()
            .map(|b| (b.category, b.tokens))
            .collect();
        // The refused call took from neither bucket.
        assert_eq!(
            levels,
            [
                ("mutating".to_string(), 198.0),
                ("run_instances_resource".to_string(), 0.0)
            ]
        );
    }

    #[test]
    fn per_action_buckets() {
        let f = Faults::default();
        f.add(ThrottleSpec {
            service: "ec2".into(),
            buckets: [(
                "non_mutating".to_string(),
                BucketSize {
                    capacity: 1,
                    refill_per_second: 0.0,
                },
            )]
            .into(),
            per_action: true,
        })
        .unwrap();
        let d = |a| f.decide(&call(a, "ec2:x", 0)).error.is_some();
        assert!(!d("DescribeRegions"));
        assert!(d("DescribeRegions"));
        assert!(!d("DescribeVpcs"), "another action, another bucket");
        let names: Vec<String> = f.list().buckets.into_iter().map(|b| b.category).collect();
        assert_eq!(
            names,
            ["non_mutating/DescribeRegions", "non_mutating/DescribeVpcs"]
        );
    }

    #[test]
    fn entries_parse_by_key_and_reset_keeps_configured_ones() {
        let list = FaultSpec::parse_list(
            r#"[{"action":"kms:*","latency_ms":5},{"consistency":{"action":"ec2:CreateVolume","calls":1}}]"#,
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert!(
            FaultSpec::parse_list(r#"{"throttle":{"service":"ec2"},"action":"x"}"#)
                .unwrap_err()
                .contains("only the key")
        );
        assert!(
            FaultSpec::parse_list(r#"{"consistency":{"action":"ec2:CreateVolume"}}"#)
                .unwrap_err()
                .contains("exactly one")
        );
        assert!(FaultSpec::parse_list("[1]")
            .unwrap_err()
            .contains("entry 1"));
        let f = Faults::default();
        f.reset_to(&list[..1]).unwrap();
        f.add(list[1].clone()).unwrap();
        assert_eq!(f.list().consistency.len(), 1);
        f.reset_to(&list[..1]).unwrap();
        let l = f.list();
        assert_eq!((l.rules.len(), l.consistency.len()), (1, 0));
        assert_eq!(l.rules[0].origin, Origin::Config);
        let round: FaultSpec =
            serde_json::from_value(serde_json::to_value(&list[1]).unwrap()).unwrap();
        assert_eq!(round, list[1]);
    }
}
