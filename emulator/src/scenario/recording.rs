//! A recording (`awsemu serve --record FILE`) turned into a scenario: one `call:` step per
//! recorded call, made as the same principal with the same parameters, expecting the recorded
//! outcome, in the same region. The world is empty but for the regions the calls used: the
//! recorded calls build whatever they built.
//!
//! Ids in the parameters are the recorded ones; a replay generates the same ids when the
//! recording was made from a fresh emulator with the same seed (given as `seed`).

use serde_json::Value;

use super::model::{Expect, Scenario, Step};
use crate::recorder::CallRecord;

/// The scenario that replays `records`.
pub fn scenario_from(records: &[CallRecord], name: &str, seed: u64, region: &str) -> Scenario {
    let steps = records
        .iter()
        .filter(|r| r.principal != "-")
        .map(|r| Step {
            call: Some(r.call_name()),
            region: (!r.region.is_empty() && r.region != region).then(|| r.region.clone()),
            params: match &r.params {
                Value::Object(m) if m.is_empty() => None,
                Value::Null => None,
                p => Some(p.clone()),
            },
            principal: Some(r.principal.clone()),
            expect: Some(match &r.error {
                None => Expect {
                    ok: Some(true),
                    ..Default::default()
                },
                Some(code) => Expect {
                    error: Some(code.clone()),
                    ..Default::default()
                },
            }),
            ..Default::default()
        })
        .collect();
    let mut world = crate::scenario::model::World::default();
    for r in records {
        if !r.region.is_empty() && r.region != region && !world.regions.contains(&r.region) {
            world.regions.push(r.region.clone());
        }
    }
    Scenario {
        name: name.to_string(),
        world,
        description: format!("Replays {} recorded calls.", records.len()),
        seed,
        region: region.to_string(),
        steps,
        ..Default::default()
    }
}

/// The scenario as YAML text.
pub fn to_yaml(s: &Scenario) -> Result<String, String> {
    yaml_serde::to_string(s).map_err(|e| e.to_string())
}
