//! Throttling with AWS's token-bucket model.
//!
//! "Request throttling for the Amazon EC2 API"
//! (<https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html>): EC2 throttles each
//! account per Region with the token bucket algorithm. Every request takes one token from its
//! bucket; a bucket below capacity gets its refill rate in tokens back every second, never past
//! its capacity; a request that finds the bucket empty is refused with `RequestLimitExceeded`.
//! The buckets, per category of action (the doc's table):
//!
//! | category | capacity | refill / s |
//! | --- | --- | --- |
//! | non-mutating (`Describe*`, `Get*`, …) | 100 | 20 |
//! | unfiltered and unpaginated non-mutating | 50 | 10 |
//! | mutating | 200 | 10 |
//! | resource-intensive | 50 | 5 |
//!
//! Besides, the doc's resource rate limiting: RunInstances, TerminateInstances, StartInstances and
//! StopInstances also take one token per instance from a resource bucket of their own
//! (capacity 1000; refill 2, 20, 2 and 20 per second). A call is refused when either bucket is
//! short, and then takes from neither.
//!
//! Buckets live per (account, region, category) — or per action with `per_action` — and refill on the emulator's virtual clock, so a
//! test with a manual clock steps through throttling deterministically. Refill is continuous
//! (fractions of a token accrue between whole seconds). Other services do not publish their
//! buckets; they get one bucket, `all`, that a scenario sizes itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::{AwsError, Protocol};

/// `throttle: {service: ec2, buckets: {mutating: {capacity: 5, refill_per_second: 1}}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// The IAM prefix of the throttled service (`ec2`, `elasticloadbalancing`, `kms`, …).
    pub service: String,
    /// Overrides of bucket sizes by category (EC2: `non_mutating`, `unfiltered_unpaginated`,
    /// `mutating`, `resource_intensive`; other services: `all`). Absent categories keep AWS's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, BucketSize>,
    /// One bucket per action (of its category's size) instead of one per category. The current
    /// text of the EC2 doc says "each API is evaluated individually"; earlier versions describe
    /// one bucket per category, which is the default here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_action: bool,
}

/// A bucket's capacity and refill rate.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSize {
    /// Most tokens the bucket holds (and holds at the start).
    pub capacity: u32,
    /// Tokens added back per second of virtual time.
    pub refill_per_second: f64,
}

/// EC2's categories, from the doc's table.
pub const EC2_CATEGORIES: &[(&str, BucketSize)] = &[
    (
        "non_mutating",
        BucketSize {
            capacity: 100,
            refill_per_second: 20.0,
        },
    ),
    (
        "unfiltered_unpaginated",
        BucketSize {
            capacity: 50,
            refill_per_second: 10.0,
        },
    ),
    (
        "mutating",
        BucketSize {
            capacity: 200,
            refill_per_second: 10.0,
        },
    ),
    (
        "resource_intensive",
        BucketSize {
            capacity: 50,
            refill_per_second: 5.0,
        },
    ),
];

/// EC2's resource buckets: (bucket name, action, size); one token per instance.
pub const EC2_RESOURCE_BUCKETS: &[(&str, &str, BucketSize)] = &[
    (
        "run_instances_resource",
        "RunInstances",
        BucketSize {
            capacity: 1000,
            refill_per_second: 2.0,
        },
    ),
    (
        "terminate_instances_resource",
        "TerminateInstances",
        BucketSize {
            capacity: 1000,
            refill_per_second: 20.0,
        },
    ),
    (
        "start_instances_resource",
        "StartInstances",
        BucketSize {
            capacity: 1000,
            refill_per_second: 2.0,
        },
    ),
    (
        "stop_instances_resource",
        "StopInstances",
        BucketSize {
            capacity: 1000,
            refill_per_second: 20.0,
        },
    ),
];

/// The resource bucket of an EC2 action, if it has one.
pub fn ec2_resource_bucket(action: &str) -> Option<&'static str> {
    EC2_RESOURCE_BUCKETS
        .iter()
        .find(|(_, a, _)| *a == action)
        .map(|(name, _, _)| *name)
}

/// Every EC2 bucket name: the request categories and the resource buckets.
fn ec2_bucket_names() -> Vec<&'static str> {
    EC2_CATEGORIES
        .iter()
        .map(|(c, _)| *c)
        .chain(EC2_RESOURCE_BUCKETS.iter().map(|(c, _, _)| *c))
        .collect()
}

/// The one bucket of a service that publishes none (an emulator choice, not AWS's numbers).
pub const DEFAULT_BUCKET: BucketSize = BucketSize {
    capacity: 50,
    refill_per_second: 10.0,
};

/// The doc's "unfiltered and unpaginated non-mutating" actions: called without filters or
/// pagination they draw on a smaller bucket.
const UNFILTERED_ACTIONS: &[&str] = &[
    "DescribeInstances",
    "DescribeInstanceStatus",
    "DescribeNetworkInterfaces",
    "DescribeSecurityGroups",
    "DescribeSnapshots",
    "DescribeSpotInstanceRequests",
    "DescribeVolumes",
];

/// The doc's resource-intensive mutating actions.
const RESOURCE_INTENSIVE: &[&str] = &[
    "AcceptVpcPeeringConnection",
    "AuthorizeSecurityGroupIngress",
    "CancelSpotFleetRequests",
    "CreateKeyPair",
    "CreateVpcPeeringConnection",
    "DeleteVpcPeeringConnection",
    "RevokeSecurityGroupIngress",
    "RequestSpotInstances",
];

/// The EC2 category of `action`; `unfiltered`: the request carries no filter, id list or
/// pagination parameter.
pub fn ec2_category(action: &str, unfiltered: bool) -> &'static str {
    let non_mutating = ["Describe", "Get", "List", "Search"]
        .iter()
        .any(|p| action.starts_with(p));
    if non_mutating {
        if unfiltered && UNFILTERED_ACTIONS.contains(&action) {
            "unfiltered_unpaginated"
        } else {
            "non_mutating"
        }
    } else if RESOURCE_INTENSIVE.contains(&action) {
        "resource_intensive"
    } else {
        "mutating"
    }
}

impl ThrottleSpec {
    pub fn validate(&self) -> Result<(), String> {
        if self.service.is_empty() || self.service.contains(':') {
            return Err(format!(
                "throttle service '{}' must be an IAM prefix such as ec2",
                self.service
            ));
        }
        for (name, size) in &self.buckets {
            let names: Vec<&str> = if self.service == "ec2" {
                ec2_bucket_names()
            } else {
                vec!["all"]
            };
            if !names.contains(&name.as_str()) {
                return Err(format!(
                    "unknown throttle bucket '{name}' for {} (known: {})",
                    self.service,
                    names.join(", ")
                ));
            }
            if !(size.refill_per_second.is_finite() && size.refill_per_second >= 0.0) {
                return Err(format!(
                    "throttle bucket '{name}': refill_per_second must be a number >= 0"
                ));
            }
        }
        Ok(())
    }

    /// The size of a category's bucket: the override, else AWS's.
    pub fn size(&self, category: &str) -> BucketSize {
        self.buckets.get(category).copied().unwrap_or_else(|| {
            let aws = EC2_CATEGORIES
                .iter()
                .map(|(c, s)| (*c, *s))
                .chain(EC2_RESOURCE_BUCKETS.iter().map(|(c, _, s)| (*c, *s)))
                .find(|(c, _)| *c == category && self.service == "ec2");
            aws.map(|(_, s)| s).unwrap_or(DEFAULT_BUCKET)
        })
    }
}

/// One bucket's level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub account: String,
    pub region: String,
    pub service: String,
    pub category: String,
    pub capacity: u32,
    pub refill_per_second: f64,
    pub tokens: f64,
    /// Virtual time of the last refill, ms.
    #[serde(skip)]
    last_ms: i64,
}

impl Bucket {
    pub fn new(key: (String, String, String, String), size: BucketSize, now_ms: i64) -> Bucket {
        let (account, region, service, category) = key;
        Bucket {
            account,
            region,
            service,
            category,
            capacity: size.capacity,
            refill_per_second: size.refill_per_second,
            tokens: f64::from(size.capacity),
            last_ms: now_ms,
        }
    }

    /// Virtual time of the last refill (a snapshot keeps it, the listing does not show it).
    pub fn last_ms(&self) -> i64 {
        self.last_ms
    }

    pub fn set_last_ms(&mut self, ms: i64) {
        self.last_ms = ms;
    }

    /// The key the bucket is kept under: (account, region, service, category).
    pub fn key(&self) -> (String, String, String, String) {
        (
            self.account.clone(),
            self.region.clone(),
            self.service.clone(),
            self.category.clone(),
        )
    }

    /// Refills for the time passed, then takes a token if there is one.
    pub fn take(&mut self, now_ms: i64) -> bool {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Refills for the time passed and says whether `n` tokens are there.
    pub fn has(&mut self, n: u32, now_ms: i64) -> bool {
        self.refill(now_ms);
        self.tokens >= f64::from(n)
    }

    /// Takes `n` tokens (after [`Bucket::has`] said they are there).
    pub fn spend(&mut self, n: u32) {
        self.tokens = (self.tokens - f64::from(n)).max(0.0);
    }

    pub fn refill(&mut self, now_ms: i64) {
        if now_ms > self.last_ms {
            let secs = (now_ms - self.last_ms) as f64 / 1000.0;
            self.tokens =
                (self.tokens + secs * self.refill_per_second).min(f64::from(self.capacity));
            self.last_ms = now_ms;
        }
    }
}

/// The throttling answer in each protocol's words: EC2 `RequestLimitExceeded` (503), awsQuery
/// `Throttling` (400), JSON `ThrottlingException` (400), all with AWS's texts.
pub fn throttled(protocol: Protocol) -> AwsError {
    match protocol {
        Protocol::Ec2Query => AwsError::new("RequestLimitExceeded", "Request limit exceeded.", 503),
        Protocol::AwsQuery => AwsError::bad_request("Throttling", "Rate exceeded"),
        Protocol::AwsJson => AwsError::bad_request("ThrottlingException", "Rate exceeded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(
            ec2_category("DescribeInstances", true),
            "unfiltered_unpaginated"
        );
        assert_eq!(ec2_category("DescribeInstances", false), "non_mutating");
        assert_eq!(ec2_category("DescribeRegions", true), "non_mutating");
        assert_eq!(ec2_category("CreateVolume", true), "mutating");
        assert_eq!(
            ec2_category("AuthorizeSecurityGroupIngress", true),
            "resource_intensive"
        );
    }

    #[test]
    fn bucket_empties_and_refills_on_the_virtual_clock() {
        let spec = ThrottleSpec {
            service: "ec2".into(),
            buckets: [(
                "mutating".to_string(),
                BucketSize {
                    capacity: 2,
                    refill_per_second: 1.0,
                },
            )]
            .into(),
            per_action: false,
        };
        spec.validate().unwrap();
        assert_eq!(spec.size("non_mutating").capacity, 100);
        let key = ("a".into(), "r".into(), "ec2".into(), "mutating".into());
        let mut b = Bucket::new(key, spec.size("mutating"), 0);
        assert!(b.take(0));
        assert!(b.take(0));
        assert!(!b.take(500));
        assert!(b.take(1000));
        assert!(!b.take(1000));
        // Never past capacity.
        b.refill(3_600_000);
        assert_eq!(b.tokens, 2.0);
    }

    #[test]
    fn unknown_bucket_is_refused() {
        let spec: ThrottleSpec = serde_json::from_str(
            r#"{"service":"ec2","buckets":{"describe":{"capacity":1,"refill_per_second":1}}}"#,
        )
        .unwrap();
        assert!(spec.validate().unwrap_err().contains("non_mutating"));
    }
}
