//! The resources of one emulator, partitioned by region as AWS partitions them (one account per
//! emulator), with the id generator and the timing of state transitions.

pub mod filters;
pub mod ids;
pub mod paging;
pub mod regions;
pub mod tags;
pub mod timing;

use std::collections::BTreeMap;
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

    /// Every resource of every region in use, the id generator's place and what consistency
    /// faults hide: what a snapshot keeps of the world. Each region is copied under its own read
    /// lock.
    pub fn save(&self) -> WorldState {
        fn copy<T: Clone>(map: &DashMap<&'static str, Arc<RwLock<T>>>) -> BTreeMap<String, T> {
            let regions: Vec<(&'static str, Arc<RwLock<T>>)> =
                map.iter().map(|e| (*e.key(), e.value().clone())).collect();
            (regions.into_iter())
                .map(|(k, v)| (k.to_string(), read(&v).clone()))
                .collect()
        }
        WorldState {
            seed: self.seed,
            ids_drawn: self.ids.drawn(),
            ec2: copy(&self.ec2),
            kms: copy(&self.kms),
            ecr: copy(&self.ecr),
            hidden: self.hidden.list(),
        }
    }

    /// The world a snapshot saved, under this configuration's timing and limits. Fails when it
    /// names a region awsemu does not know.
    pub fn load(config: &crate::config::Config, saved: &WorldState) -> Result<World, String> {
        fn region_name(name: &str) -> Result<&'static regions::Region, String> {
            regions::region(name).ok_or_else(|| format!("it names an unknown region '{name}'"))
        }
        fn place<T>(
            saved: &BTreeMap<String, T>,
            mut fix: impl FnMut(&'static regions::Region, T) -> T,
        ) -> Result<DashMap<&'static str, Arc<RwLock<T>>>, String>
        where
            T: Clone,
        {
            let map = DashMap::new();
            for (name, region) in saved {
                let r = region_name(name)?;
                map.insert(r.name, Arc::new(RwLock::new(fix(r, region.clone()))));
            }
            Ok(map)
        }
        let mut world = World::new(config);
        world.seed = saved.seed;
        world.ids = IdGen::resumed(saved.seed, saved.ids_drawn);
        world.ec2 = place(&saved.ec2, |r, mut region| {
            region.region = r;
            region.rebuild_indexes();
            region
        })?;
        world.kms = place(&saved.kms, |_, k| k)?;
        world.ecr = place(&saved.ecr, |_, e| e)?;
        world.hidden = crate::faults::consistency::Hidden::from_entries(saved.hidden.clone());
        Ok(world)
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

/// What a snapshot keeps of a [`World`] (see [`World::save`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WorldState {
    /// The seed of the id generator and of the regions' account shapes.
    pub seed: u64,
    /// Ids drawn so far: the restored generator goes on from here.
    pub ids_drawn: u64,
    pub ec2: BTreeMap<String, Ec2Region>,
    pub kms: BTreeMap<String, KmsRegion>,
    pub ecr: BTreeMap<String, EcrRegion>,
    pub hidden: Vec<crate::faults::consistency::HiddenEntry>,
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
