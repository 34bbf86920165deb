//! ModifyVolume and DescribeVolumesModifications: `modifying` → `optimizing` → `completed` on the
//! virtual clock, no shrinking, and AWS's one-modification-per-six-hours rule (configurable).

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::{read, write};

use super::common::{self, timestamp};
use super::model::{VolumeModification, VolumeState};
use super::volumes::{current_config, find, observed, settle, Config};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("ModifyVolume", modify_volume).on(&[On::Id("VolumeId")]),
    Action::new(
        "DescribeVolumesModifications",
        describe_volumes_modifications,
    ),
];

/// The state of a modification at `now`, with its progress in percent.
fn state_at(m: &VolumeModification, now: i64) -> (&'static str, i64) {
    if now >= m.completed_at_ms {
        ("completed", 100)
    } else if now >= m.optimizing_at_ms {
        let span = (m.completed_at_ms - m.optimizing_at_ms).max(1);
        ("optimizing", 50 + 50 * (now - m.optimizing_at_ms) / span)
    } else {
        let span = (m.optimizing_at_ms - m.start_ms).max(1);
        ("modifying", 50 * (now - m.start_ms) / span)
    }
}

fn render(w: &mut Writer, m: &VolumeModification, now: i64) {
    let (state, progress) = state_at(m, now);
    w.str("VolumeId", &m.volume_id)
        .str("ModificationState", state)
        .int("TargetSize", m.target_size)
        .int_opt("TargetIops", m.target_iops)
        .str("TargetVolumeType", &m.target_type)
        .int_opt("TargetThroughput", m.target_throughput)
        .bool("TargetMultiAttachEnabled", false)
        .int("OriginalSize", m.original_size)
        .int_opt("OriginalIops", m.original_iops)
        .str("OriginalVolumeType", &m.original_type)
        .int_opt("OriginalThroughput", m.original_throughput)
        .bool("OriginalMultiAttachEnabled", false)
        .int("Progress", progress)
        .time("StartTime", m.start_ms);
    if state == "completed" {
        w.time("EndTime", m.completed_at_ms);
    }
}

pub fn modify_volume(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("VolumeId")?.to_string();
    let size = p.int("Size")?;
    let vtype = p.str("VolumeType").map(str::to_string);
    let iops = p.int("Iops")?;
    let throughput = p.int("Throughput")?;
    let multi = p.bool("MultiAttachEnabled")?;
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now);
    let v = find(&region, &id, now)?;
    if !matches!(
        observed(v, now),
        VolumeState::Available | VolumeState::InUse
    ) {
        return Err(AwsError::bad_request(
            "IncorrectState",
            format!("The volume '{id}' must be 'available' or 'in-use' to be modified."),
        ));
    }
    if let Some(prev) = region.volume_modifications.get(&id) {
        if now < prev.start_ms + call.world.volume_modification_cooldown_ms {
            return Err(AwsError::bad_request(
                "VolumeModificationRateExceeded",
                "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.",
            ));
        }
    }
    if multi.is_some_and(|m| m != v.multi_attach) {
        return Err(AwsError::invalid_combination(
            "Changing Multi-Attach is not supported by awsemu's volume types.",
        ));
    }
    let current = current_config(&region, v, now).unwrap_or_else(|| Config {
        volume_type: v.volume_type.clone(),
        size_gib: v.size_gib,
        iops: v.iops,
        throughput: v.throughput,
    });
    let type_changes = vtype.as_deref().is_some_and(|t| t != current.volume_type);
    let target_type = vtype.unwrap_or_else(|| current.volume_type.clone());
    // Performance settings carry over only where the new type has them.
    let keeps_perf = !type_changes;
    let target = Config {
        size_gib: size.unwrap_or(current.size_gib),
        iops: iops.or(if keeps_perf { current.iops } else { None }),
        throughput: throughput.or(if keeps_perf { current.throughput } else { None }),
        volume_type: target_type,
    }
    .validated()?;
    if target.size_gib < current.size_gib {
        return Err(AwsError::invalid_value(format!(
            "New size cannot be smaller than existing size ({} GiB).",
            current.size_gib
        )));
    }
    if target == current {
        return Err(AwsError::invalid_value(
            "The modification request does not change any volume property.",
        ));
    }
    let d = call.world.durations;
    let m = VolumeModification {
        volume_id: id.clone(),
        original_size: current.size_gib,
        original_type: current.volume_type,
        original_iops: current.iops,
        original_throughput: current.throughput,
        target_size: target.size_gib,
        target_type: target.volume_type,
        target_iops: target.iops,
        target_throughput: target.throughput,
        start_ms: now,
        optimizing_at_ms: now + d.volume_modifying,
        completed_at_ms: now + d.volume_modifying + d.volume_optimizing,
    };
    let mut w = call.writer();
    w.structure("VolumeModification", |w| {
        // The answer shows the first state whatever the timing profile, as AWS answers.
        render(
            w,
            &VolumeModification {
                optimizing_at_ms: i64::MAX,
                completed_at_ms: i64::MAX,
                ..m.clone()
            },
            now,
        )
    });
    // A volume keeps its stored configuration; the modification's target shows once optimizing.
    if let Some(prev) = region.volume_modifications.remove(&id) {
        if let Some(v) = region.volumes.get_mut(&id) {
            v.size_gib = prev.target_size;
            v.volume_type = prev.target_type;
            v.iops = prev.target_iops;
            v.throughput = prev.target_throughput;
        }
    }
    region.volume_modifications.insert(id, m);
    w.finish()
}

const MODIFICATION_FILTERS: &[&str] = &[
    "modification-state",
    "original-iops",
    "original-size",
    "original-volume-type",
    "original-multi-attach-enabled",
    "start-time",
    "target-iops",
    "target-size",
    "target-volume-type",
    "target-multi-attach-enabled",
    "volume-id",
];

fn matches(f: &Filter, m: &VolumeModification, now: i64) -> bool {
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let value = match f.name.as_str() {
        "modification-state" => state_at(m, now).0.to_string(),
        "original-iops" => opt(m.original_iops),
        "original-size" => m.original_size.to_string(),
        "original-volume-type" => m.original_type.clone(),
        "target-iops" => opt(m.target_iops),
        "target-size" => m.target_size.to_string(),
        "target-volume-type" => m.target_type.clone(),
        "original-multi-attach-enabled" | "target-multi-attach-enabled" => "false".into(),
        "start-time" => timestamp(m.start_ms),
        _ => m.volume_id.clone(),
    };
    f.matches(&value)
}

pub fn describe_volumes_modifications(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("VolumeId")?;
    let filters = filters::parse(&p, MODIFICATION_FILTERS)?;
    let page = Page::read(&p)?.between(1, 500);
    let _managed = p.bool("IncludeManagedResources")?;
    call.params()?.finish()?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let region = read(&lock);
    for id in &ids {
        find(&region, id, now)?;
        if !region.volume_modifications.contains_key(*id) {
            return Err(AwsError::bad_request(
                "InvalidVolumeModification.NotFound",
                format!("Modification for volume '{id}' does not exist."),
            ));
        }
    }
    let found: Vec<&VolumeModification> = region
        .volume_modifications
        .values()
        .filter(|m| ids.is_empty() || ids.contains(&m.volume_id.as_str()))
        .filter(|m| region.volumes.contains_key(&m.volume_id))
        .filter(|m| filters.iter().all(|f| matches(f, m, now)))
        .collect();
    let (page, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("VolumesModifications", page, |w, m| render(w, m, now));
    w.str_opt("NextToken", next);
    w.finish()
}
