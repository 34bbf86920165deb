//! Eventual consistency: EC2's Describe* calls may not see a resource just after the call that
//! created it (AWS documents this: "Eventual consistency in the Amazon EC2 API"). A consistency
//! fault keeps what a matching create made out of sight for a number of Describe calls or a span
//! of virtual time.
//!
//! Other EC2 calls that name a hidden resource (CreateTags, AuthorizeSecurityGroupIngress,
//! AttachVolume, …) answer its NotFound too, as AWS's do right after a create — the cloud provider
//! retries CreateTags on a new security group for exactly this reason. Such a call counts as one
//! of the `calls` the resource stays hidden from.
//!
//! Covered: security groups (`CreateSecurityGroup` → `DescribeSecurityGroups`), instances
//! (`RunInstances` → `DescribeInstances`), volumes (`CreateVolume` → `DescribeVolumes`) and subnets
//! (`CreateSubnet` → `DescribeSubnets`). The handlers of those creates tell the pipeline what they
//! made (`Call::created`), which hides it when a consistency fault matches the action; those
//! Describe handlers ask [`Hidden::unseen`] for their kind through
//! `services::ec2::common::unseen`.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// `consistency: {action: "ec2:CreateSecurityGroup", calls: 2, mode: not_found}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencySpec {
    /// Glob over the creating `service:Action` (`ec2:Create*`, `ec2:RunInstances`).
    pub action: String,
    /// Hidden from the next N calls that would see it: Describe calls of its kind, and other EC2
    /// calls naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<u32>,
    /// Hidden for T ms of virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// `not_found` (default): naming it by id answers the NotFound error, lists still show it;
    /// `invisible`: lists leave it out too.
    #[serde(default)]
    pub mode: Mode,
}

/// How a hidden resource is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    NotFound,
    Invisible,
}

impl ConsistencySpec {
    pub fn validate(&self) -> Result<(), String> {
        if !self.action.contains(':') {
            return Err(format!(
                "consistency action '{}' must be service:Action",
                self.action
            ));
        }
        match (self.calls, self.ms) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("consistency needs exactly one of calls or ms".into()),
        }
    }
}

/// One hidden resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HiddenEntry {
    pub id: String,
    pub region: String,
    pub mode: Mode,
    /// Describe calls of its kind it stays hidden from.
    pub calls_left: Option<u32>,
    /// Virtual time it shows up, ms.
    pub until_ms: Option<i64>,
}

/// The resources Describe* does not see yet: part of the world, so reset clears it.
#[derive(Debug, Default)]
pub struct Hidden {
    entries: Mutex<Vec<HiddenEntry>>,
}

/// What one Describe call may not see.
#[derive(Debug, Default)]
pub struct Unseen {
    /// Naming these by id answers NotFound.
    pub by_id: HashSet<String>,
    /// Lists leave these out.
    pub in_lists: HashSet<String>,
}

impl Unseen {
    /// The first named id that is hidden.
    pub fn first_named<'s, S: AsRef<str>>(&self, ids: &'s [S]) -> Option<&'s str> {
        ids.iter()
            .map(AsRef::as_ref)
            .find(|id| self.by_id.contains(*id))
    }

    pub fn listed(&self, id: &str) -> bool {
        !self.in_lists.contains(id)
    }
}

impl Hidden {
    /// The hidden resources of a restored snapshot.
    pub fn from_entries(entries: Vec<HiddenEntry>) -> Hidden {
        Hidden {
            entries: Mutex::new(entries),
        }
    }

    /// Hides what a create made, as `spec` says.
    pub fn hide(&self, ids: &[String], region: &str, spec: &ConsistencySpec, now_ms: i64) {
        let Ok(mut e) = self.entries.lock() else {
            return;
        };
        for id in ids {
            e.push(HiddenEntry {
                id: id.clone(),
                region: region.to_string(),
                mode: spec.mode,
                calls_left: spec.calls,
                until_ms: spec
                    .ms
                    .map(|ms| now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX))),
            });
        }
    }

    /// What a Describe call for ids of `prefix` (`sg`, `i`, `vol`, `subnet`) in `region` may not
    /// see; counts the call against each hidden entry of that kind and forgets the ones whose
    /// calls or time ran out.
    pub fn unseen(&self, region: &str, prefix: &str, now_ms: i64) -> Unseen {
        let mut out = Unseen::default();
        let Ok(mut entries) = self.entries.lock() else {
            return out;
        };
        if entries.is_empty() {
            return out;
        }
        let kind = format!("{prefix}-");
        entries.retain(|e| e.until_ms.is_none_or(|t| now_ms < t));
        for e in entries.iter_mut() {
            if e.region != region || !e.id.starts_with(&kind) {
                continue;
            }
            if let Some(n) = e.calls_left.as_mut() {
                if *n == 0 {
                    continue;
                }
                *n -= 1;
            }
            out.by_id.insert(e.id.clone());
            if e.mode == Mode::Invisible {
                out.in_lists.insert(e.id.clone());
            }
        }
        entries.retain(|e| e.calls_left != Some(0));
        out
    }

    /// The first of `values` (a non-Describe EC2 call's parameters) that is hidden in `region`;
    /// counts the call against it.
    pub fn named<'v>(
        &self,
        region: &str,
        values: impl IntoIterator<Item = &'v str>,
        now_ms: i64,
    ) -> Option<String> {
        let mut entries = self.entries.lock().ok()?;
        if entries.is_empty() {
            return None;
        }
        entries.retain(|e| e.until_ms.is_none_or(|t| now_ms < t));
        let values: Vec<&str> = values.into_iter().collect();
        let entry = entries
            .iter_mut()
            .find(|e| e.region == region && values.contains(&e.id.as_str()))?;
        if let Some(n) = entry.calls_left.as_mut() {
            *n = n.saturating_sub(1);
        }
        let id = entry.id.clone();
        entries.retain(|e| e.calls_left != Some(0));
        Some(id)
    }

    /// The hidden resources, for `GET /_awsemu/faults`.
    pub fn list(&self) -> Vec<HiddenEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_for_calls_then_for_time() {
        let h = Hidden::default();
        let by_calls = ConsistencySpec {
            action: "ec2:CreateSecurityGroup".into(),
            calls: Some(2),
            ms: None,
            mode: Mode::Invisible,
        };
        h.hide(&["sg-1".into()], "r", &by_calls, 0);
        assert!(h.unseen("r", "vol", 0).by_id.is_empty());
        assert!(h.unseen("other", "sg", 0).by_id.is_empty());
        let u = h.unseen("r", "sg", 0);
        assert_eq!(u.first_named(&["sg-0", "sg-1"]), Some("sg-1"));
        assert!(!u.listed("sg-1"));
        assert!(h.unseen("r", "sg", 0).by_id.contains("sg-1"));
        assert!(h.unseen("r", "sg", 0).by_id.is_empty());
        let by_time = ConsistencySpec {
            calls: None,
            ms: Some(1000),
            mode: Mode::NotFound,
            ..by_calls.clone()
        };
        h.hide(&["sg-2".into()], "r", &by_time, 0);
        let u = h.unseen("r", "sg", 999);
        assert!(u.by_id.contains("sg-2") && u.listed("sg-2"));
        assert!(h.unseen("r", "sg", 1000).by_id.is_empty());
        assert!(h.list().is_empty());
        h.hide(&["sg-3".into()], "r", &by_calls, 0);
        assert_eq!(h.named("r", ["x", "sg-3"], 0).as_deref(), Some("sg-3"));
        assert_eq!(h.named("other", ["sg-3"], 0), None);
        assert_eq!(h.named("r", ["sg-3"], 0).as_deref(), Some("sg-3"));
        assert_eq!(h.named("r", ["sg-3"], 0), None, "two calls seen");
    }
}
