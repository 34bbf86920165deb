//! The resources of one emulator, partitioned by region as AWS partitions them (one account per
//! emulator), with the id generator and the timing of state transitions.

pub mod filters;
pub mod ids;
pub mod paging;
pub mod regions;
pub mod tags;
pub mod timing;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use dashmap::DashMap;

use crate::services::ec2::model::Ec2Region;
use crate::services::ecr::model::EcrRegion;
use crate::services::kms::model::KmsRegion;
use ids::IdGen;
use timing::{Durations, Timing};

/// Everything that changes as requests come in. Reset replaces it whole.
#[derive(Debug)]
pub struct World {
    pub ids: IdGen,
    seed: u64,
    /// Opt-in regions the account has enabled.
    opt_in_regions: Vec<String>,
    pub timing: Timing,
    pub durations: Durations,
    /// AWS's rule of one ModifyVolume per volume per six hours, in ms (configurable).
    pub volume_modification_cooldown_ms: i64,
    /// Live instances allowed per region (`InstanceLimitExceeded` past it).
    pub instance_limit: usize,
    /// Load balancers allowed per region and kind; `None`: AWS's default quotas.
    pub load_balancer_limit: Option<usize>,
    /// EC2 resources per region, created with the account shape on first use.
    ec2: DashMap<&'static str, Arc<RwLock<Ec2Region>>>,
    /// KMS keys and aliases per region, created empty on first use.
    kms: DashMap<&'static str, Arc<RwLock<KmsRegion>>>,
    /// ECR repositories per region, created empty on first use.
    ecr: DashMap<&'static str, Arc<RwLock<EcrRegion>>>,
    /// Resources a consistency fault keeps out of Describe*'s sight for now.
    pub hidden: crate::faults::consistency::Hidden,
}

impl World {
    pub fn new(config: &crate::config::Config) -> World {
        World {
            ids: IdGen::new(config.seed),
            seed: config.seed,
            opt_in_regions: config.opt_in_regions.clone(),
            timing: config.timing,
            durations: config.timing.durations(),
            volume_modification_cooldown_ms: config
                .volume_modification_cooldown_secs
                .saturating_mul(1000),
            instance_limit: config.instance_limit,
            load_balancer_limit: config.load_balancer_limit,
            ec2: DashMap::new(),
            kms: DashMap::new(),
            ecr: DashMap::new(),
            hidden: Default::default(),
        }
    }

    pub fn enabled_opt_in(&self, region: &str) -> bool {
        self.opt_in_regions.iter().any(|r| r == region)
    }

    /// The EC2 state of a region. The account shape (default VPC and friends) takes its ids from a
    /// generator of its own per region, so they do not depend on which region was used first.
    pub fn ec2(&self, region: &str) -> Option<Arc<RwLock<Ec2Region>>> {
        let r = regions::region(region)?;
        let entry = self.ec2.entry(r.name).or_insert_with(|| {
            Arc::new(RwLock::new(Ec2Region::new_account(
                r,
                &IdGen::new(self.seed).fork(r.name),
            )))
        });
        Some(entry.value().clone())
    }

    /// The EC2 state of the region holding instance `id`, among the regions in use.
    pub fn region_of_instance(&self, id: &str) -> Option<Arc<RwLock<Ec2Region>>> {
        self.ec2
            .iter()
            .find(|e| read(e.value()).instances.contains_key(id))
            .map(|e| e.value().clone())
    }

    /// The KMS state of a region (keys and aliases).
    pub fn kms(&self, region: &str) -> Option<Arc<RwLock<KmsRegion>>> {
        let r = regions::region(region)?;
        Some(self.kms.entry(r.name).or_default().value().clone())
    }

    /// The ECR state of a region (repositories, their images, layers and uploads).
    pub fn ecr(&self, region: &str) -> Option<Arc<RwLock<EcrRegion>>> {
        let r = regions::region(region)?;
        Some(self.ecr.entry(r.name).or_default().value().clone())
    }

    /// A JSON picture of every resource, for `/_awsemu/state`.
    pub fn dump(&self) -> serde_json::Value {
        serde_json::json!({
            "timing": self.timing,
            "ec2": dump_regions(&self.ec2),
            "kms": dump_regions(&self.kms),
            "ecr": dump_regions(&self.ecr),
        })
    }
}

/// One service's per-region state as a JSON object keyed by region, in region order.
fn dump_regions<T: serde::Serialize>(
    map: &DashMap<&'static str, Arc<RwLock<T>>>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut regions: Vec<(&'static str, serde_json::Value)> = map
        .iter()
        .map(|e| {
            (
                *e.key(),
                serde_json::to_value(&*read(e.value())).unwrap_or_default(),
            )
        })
        .collect();
    regions.sort_by_key(|(k, _)| *k);
    regions
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// A read guard that survives a poisoned lock (a handler that panicked mid-read changed nothing).
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// A write guard that survives a poisoned lock: handlers validate before they mutate, so a panic
/// leaves no half-made change behind.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
