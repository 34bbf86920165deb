//! Fast snapshot restores: EnableFastSnapshotRestores, DisableFastSnapshotRestores and
//! DescribeFastSnapshotRestores, per snapshot and zone.
//!
//! Each (snapshot, zone) walks `enabling` → `optimizing` → `enabled` on the virtual clock (the
//! timing profile's durations), and `disabling` → `disabled` once disabled, after which it is
//! gone. Enable and Disable answer per (snapshot, zone): what worked in `Successful`, what did not
//! in `Unsuccessful` with an error code and message for each zone, which is what the EBS CSI
//! driver reads (it fails the volume when `Unsuccessful` is not empty). A volume created in a zone
//! while its snapshot's restore there is `enabled` is `FastRestored`.

use std::collections::BTreeMap;

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::regions::Zone;
use crate::state::{read, write};

use super::common;
use super::model::{Ec2Region, FastRestore, FastRestoreState};
use super::snapshots::{self, Shown};

/// The actions of this family: Enable and Disable are authorized on each snapshot they name.
pub const ACTIONS: &[Action] = &[
    Action::new("EnableFastSnapshotRestores", enable).on(&[On::Ids("SourceSnapshotId")]),
    Action::new("DisableFastSnapshotRestores", disable).on(&[On::Ids("SourceSnapshotId")]),
    Action::new("DescribeFastSnapshotRestores", describe),
];

/// AWS's reason for every state change a user asked for.
const USER_INITIATED: &str = "Client.UserInitiated";
/// And for the changes that follow on their own.
const LIFECYCLE: &str = "Client.UserInitiated - Lifecycle state transition";

impl FastRestore {
    /// The state at `now`: the latest one begun by then.
    pub fn state(&self, now: i64) -> FastRestoreState {
        match self.disabling {
            Some((_, done)) if now >= done => FastRestoreState::Disabled,
            Some((start, _)) if now >= start => FastRestoreState::Disabling,
            _ if now >= self.enabled_ms => FastRestoreState::Enabled,
            _ if now >= self.optimizing_ms => FastRestoreState::Optimizing,
            _ => FastRestoreState::Enabling,
        }
    }
}

/// Whether fast snapshot restore of `snapshot_id` is `enabled` in `zone` at `now`.
pub fn enabled_in(region: &Ec2Region, snapshot_id: &str, zone: &str, now: i64) -> bool {
    region
        .fast_restores
        .get(snapshot_id)
        .and_then(|z| z.get(zone))
        .is_some_and(|f| f.state(now) == FastRestoreState::Enabled)
}

/// The zones a request names, by name (`AvailabilityZone.N`) or by id (`AvailabilityZoneId.N`),
/// one form only, at least one.
fn zones(call: &Call<'_>, names: &[&str], ids: &[&str]) -> AwsResult<Vec<Zone>> {
    let region = crate::state::regions::region(call.region).ok_or_else(AwsError::internal)?;
    let all = region.zones();
    let (wanted, by_id) = match (names.is_empty(), ids.is_empty()) {
        (false, true) => (names, false),
        (true, false) => (ids, true),
        (true, true) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter AvailabilityZone or AvailabilityZoneId",
            ))
        }
        (false, false) => {
            return Err(AwsError::invalid_combination(
                "Only one of AvailabilityZone and AvailabilityZoneId may be given",
            ))
        }
    };
    let mut out: Vec<Zone> = Vec::new();
    for w in wanted {
        let z = all
            .iter()
            .find(|z| if by_id { z.id == *w } else { z.name == *w })
            .ok_or_else(|| {
                AwsError::bad_request(
                    "InvalidZone.NotFound",
                    format!("The zone '{w}' does not exist."),
                )
            })?;
        if !out.iter().any(|o| o.name == z.name) {
            out.push(z.clone());
        }
    }
    Ok(out)
}

/// One (snapshot, zone) as the Successful and Describe items show it.
struct Item {
    snapshot_id: String,
    owner_id: String,
    owner_alias: Option<&'static str>,
    restore: FastRestore,
    /// The state an Enable or Disable answer shows for what it just changed: AWS's intermediate
    /// one (`enabling`, `disabling`), whatever the timing profile.
    answered: Option<FastRestoreState>,
}

fn render(w: &mut Writer, i: &Item, now: i64) {
    let f = &i.restore;
    let state = i.answered.unwrap_or_else(|| f.state(now));
    let reason = match state {
        FastRestoreState::Enabling | FastRestoreState::Disabling => USER_INITIATED,
        _ => LIFECYCLE,
    };
    w.str("SnapshotId", &i.snapshot_id)
        .str("AvailabilityZone", &f.zone)
        .str("AvailabilityZoneId", &f.zone_id)
        .str("State", state.name())
        .str("StateTransitionReason", reason)
        .str("OwnerId", &i.owner_id)
        .str_opt("OwnerAlias", i.owner_alias)
        .time("EnablingTime", f.enabling_ms);
    // The times of the states reached, up to the one shown.
    let enabling_answer = i.answered == Some(FastRestoreState::Enabling);
    if now >= f.optimizing_ms && !enabling_answer {
        w.time("OptimizingTime", f.optimizing_ms);
    }
    let enabled = f.disabling.is_none_or(|(start, _)| start >= f.enabled_ms);
    if now >= f.enabled_ms && enabled && !enabling_answer {
        w.time("EnabledTime", f.enabled_ms);
    }
    if let Some((start, done)) = f.disabling {
        w.time("DisablingTime", start);
        if now >= done && i.answered != Some(FastRestoreState::Disabling) {
            w.time("DisabledTime", done);
        }
    }
}

/// What went wrong for one snapshot, per zone.
struct Failure {
    snapshot_id: String,
    errors: Vec<(Zone, &'static str, String)>,
}

fn render_failure(w: &mut Writer, f: &Failure) {
    w.str("SnapshotId", &f.snapshot_id).list(
        "FastSnapshotRestoreStateErrors",
        &f.errors,
        |w, (z, code, message)| {
            w.str("AvailabilityZone", &z.name)
                .str("AvailabilityZoneId", &z.id)
                .structure("Error", |w| {
                    w.str("Code", *code).str("Message", message);
                });
        },
    );
}

/// Reads a request of Enable or Disable: the snapshots (at least one, well formed) and zones.
fn request<'a>(call: &'a Call<'_>) -> AwsResult<(Vec<&'a str>, Vec<Zone>)> {
    let p = call.root()?;
    let snapshot_ids = p.strings("SourceSnapshotId")?;
    let names = p.strings("AvailabilityZone")?;
    let ids = p.strings("AvailabilityZoneId")?;
    call.params()?.finish()?;
    if snapshot_ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter SourceSnapshotId",
        ));
    }
    for id in &snapshot_ids {
        snapshots::SNAPSHOT.check(id)?;
    }
    Ok((snapshot_ids, zones(call, &names, &ids)?))
}

fn item(call: &Call<'_>, s: &Shown, f: &FastRestore, answered: Option<FastRestoreState>) -> Item {
    // The owner of a restore is the account that enabled it: the caller.
    Item {
        snapshot_id: s.snapshot.id.clone(),
        owner_id: call.account.to_string(),
        owner_alias: None,
        restore: f.clone(),
        answered,
    }
}

/// A snapshot that is not there fails in every zone asked for.
fn not_found(id: &str, zones: &[Zone], e: &AwsError) -> Failure {
    Failure {
        snapshot_id: id.to_string(),
        errors: zones
            .iter()
            .map(|z| (z.clone(), "InvalidSnapshot.NotFound", e.message.clone()))
            .collect(),
    }
}

fn enable(call: &Call<'_>) -> AwsResult<Output> {
    let (snapshot_ids, zones) = request(call)?;
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    snapshots::settle(&mut region, now);
    let mut ok: Vec<Item> = Vec::new();
    let mut failed: Vec<Failure> = Vec::new();
    for id in snapshot_ids {
        let s = match snapshots::find(call, &region, call.region, id) {
            Ok(s) => s,
            Err(e) => {
                failed.push(not_found(id, &zones, &e));
                continue;
            }
        };
        // Optimizing begins once the snapshot is complete, however soon enabling is done.
        let complete_ms = match s.snapshot.state.next {
            Some((_, at)) => at,
            None => s.snapshot.state.since_ms,
        };
        let by_zone = region.fast_restores.entry(id.to_string()).or_default();
        for z in &zones {
            let (restore, answered) = match by_zone.get(&z.name) {
                // Enabling again what is enabled or on its way is no change.
                Some(f) if f.disabling.is_none() => (f.clone(), None),
                _ => {
                    let optimizing_ms = (now + d.fast_restore_enable).max(complete_ms);
                    let f = FastRestore {
                        zone: z.name.clone(),
                        zone_id: z.id.clone(),
                        enabling_ms: now,
                        optimizing_ms,
                        enabled_ms: optimizing_ms + d.fast_restore_optimize,
                        disabling: None,
                    };
                    by_zone.insert(z.name.clone(), f.clone());
                    (f, Some(FastRestoreState::Enabling))
                }
            };
            ok.push(item(call, &s, &restore, answered));
        }
    }
    region.fast_restores.retain(|_, z| !z.is_empty());
    answer(call, &ok, &failed, now)
}

fn disable(call: &Call<'_>) -> AwsResult<Output> {
    let (snapshot_ids, zones) = request(call)?;
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    snapshots::settle(&mut region, now);
    let mut ok: Vec<Item> = Vec::new();
    let mut failed: Vec<Failure> = Vec::new();
    for id in snapshot_ids {
        let s = match snapshots::find(call, &region, call.region, id) {
            Ok(s) => s,
            Err(e) => {
                failed.push(not_found(id, &zones, &e));
                continue;
            }
        };
        let mut errors = Vec::new();
        let by_zone = region.fast_restores.entry(id.to_string()).or_default();
        for z in &zones {
            match by_zone.get_mut(&z.name) {
                Some(f) => {
                    let answered = if f.disabling.is_none() {
                        f.disabling = Some((now, now + d.fast_restore_disable));
                        Some(FastRestoreState::Disabling)
                    } else {
                        None
                    };
                    ok.push(item(call, &s, f, answered));
                }
                None => errors.push((
                    z.clone(),
                    "InvalidParameterValue",
                    format!(
                        "Fast snapshot restores are not enabled for snapshot '{id}' in Availability Zone '{}'.",
                        z.name
                    ),
                )),
            }
        }
        if !errors.is_empty() {
            failed.push(Failure {
                snapshot_id: id.to_string(),
                errors,
            });
        }
    }
    region.fast_restores.retain(|_, z| !z.is_empty());
    answer(call, &ok, &failed, now)
}

fn answer(call: &Call<'_>, ok: &[Item], failed: &[Failure], now: i64) -> AwsResult<Output> {
    let mut w = call.writer();
    w.list("Successful", ok, |w, i| render(w, i, now));
    w.list("Unsuccessful", failed, render_failure);
    w.finish()
}

const FILTERS: &[&str] = &[
    "availability-zone",
    "availability-zone-id",
    "owner-id",
    "snapshot-id",
    "state",
];

fn matches(f: &Filter, i: &Item, now: i64) -> bool {
    let value = match f.name.as_str() {
        "availability-zone" => i.restore.zone.clone(),
        "availability-zone-id" => i.restore.zone_id.clone(),
        "owner-id" => i.owner_id.clone(),
        "snapshot-id" => i.snapshot_id.clone(),
        "state" => i.restore.state(now).name().to_string(),
        _ => return false,
    };
    f.matches(&value)
}

fn describe(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let filters = filters::parse(&p, FILTERS)?;
    let page = Page::read(&p)?.zero_unlimited().between(1, 200);
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let region = read(&lock);
    let by_snapshot: &BTreeMap<String, BTreeMap<String, FastRestore>> = &region.fast_restores;
    let items: Vec<Item> = by_snapshot
        .iter()
        .flat_map(|(id, zones)| {
            zones.values().map(move |f| Item {
                snapshot_id: id.clone(),
                owner_id: call.account.to_string(),
                owner_alias: None,
                restore: f.clone(),
                answered: None,
            })
        })
        .filter(|i| i.restore.state(now) != FastRestoreState::Disabled)
        .filter(|i| filters.iter().all(|f| matches(f, i, now)))
        .collect();
    let (page, next) = page.apply(items)?;
    let mut w = call.writer();
    w.list("FastSnapshotRestores", &page, |w, i| render(w, i, now));
    w.str_opt("NextToken", next);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_clock() {
        let mut f = FastRestore {
            zone: "z".into(),
            zone_id: "z1".into(),
            enabling_ms: 0,
            optimizing_ms: 10,
            enabled_ms: 30,
            disabling: None,
        };
        assert_eq!(f.state(0), FastRestoreState::Enabling);
        assert_eq!(f.state(10), FastRestoreState::Optimizing);
        assert_eq!(f.state(30), FastRestoreState::Enabled);
        f.disabling = Some((40, 50));
        assert_eq!(f.state(45), FastRestoreState::Disabling);
        assert_eq!(f.state(50), FastRestoreState::Disabled);
    }
}
