//! The resources of one emulator, partitioned by account and region as AWS partitions them.

pub mod filters;
pub mod ids;
pub mod regions;

use ids::IdGen;

/// Everything that changes as requests come in. Reset replaces it whole.
#[derive(Debug)]
pub struct World {
    pub ids: IdGen,
    /// Opt-in regions the account has enabled.
    opt_in_regions: Vec<String>,
}

impl World {
    pub fn new(seed: u64, opt_in_regions: &[String]) -> World {
        World {
            ids: IdGen::new(seed),
            opt_in_regions: opt_in_regions.to_vec(),
        }
    }

    pub fn enabled_opt_in(&self, region: &str) -> bool {
        self.opt_in_regions.iter().any(|r| r == region)
    }

    /// A JSON picture of every resource, for `/_awsemu/state`.
    pub fn dump(&self) -> serde_json::Value {
        serde_json::json!({})
    }
}
