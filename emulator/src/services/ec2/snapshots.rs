//! EBS snapshots: CreateSnapshot, DescribeSnapshots, DeleteSnapshot and CopySnapshot, and what
//! CreateVolume needs of a snapshot it restores from ([`for_volume`]).
//!
//! A snapshot is `pending` from its start until the timing profile's duration has passed on the
//! virtual clock, then `completed` (its `Progress` climbing to `100%` meanwhile); a copy whose KMS
//! key EBS cannot use for the caller ends in `error` instead, as EBS checks keys asynchronously.
//! Besides the account's own snapshots, the public images of the catalogue ([`super::images`])
//! stand on public snapshots owned by their publishers: DescribeSnapshots lists them as AWS lists
//! public snapshots, CreateVolume restores from them, and DeleteSnapshot refuses them as in use by
//! their image.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, Request, TagsIn};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::tags::{self, TAG_FILTERS};
use crate::state::{read, write};

use super::common::{self, timestamp};
use super::images;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, Snapshot, SnapshotState, Timed, VolumeState};
use super::volumes;

/// The actions of this family. CreateSnapshot is authorized on the snapshot it makes and on its
/// volume; CopySnapshot on the copy and on its source (in the source's region); DeleteSnapshot on
/// the snapshot (Service Authorization Reference).
pub const ACTIONS: &[Action] = &[
    Action::new("CreateSnapshot", create_snapshot)
        .on(&[On::Created(&SNAPSHOT), On::Id("VolumeId")])
        .tags(TagsIn::Specifications),
    Action::new("DescribeSnapshots", describe_snapshots),
    Action::new("DeleteSnapshot", delete_snapshot).on(&[On::Id("SnapshotId")]),
    Action::new("CopySnapshot", copy_snapshot)
        .on(&[On::Created(&SNAPSHOT), On::Custom(copy_source)])
        .tags(TagsIn::Specifications),
];

/// EBS snapshots. Their ARN names no account: `arn:aws:ec2:REGION::snapshot/snap-…`.
pub const SNAPSHOT: Kind = Kind {
    prefix: "snap",
    arn_type: "snapshot",
    in_account: false,
    not_found: Some(NotFound {
        code: "InvalidSnapshot.NotFound",
        message: "The snapshot '{id}' does not exist.",
    }),
    malformed: Some("InvalidSnapshotID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.snapshots.get(id).map(|s| &s.tags),
        get_mut: |r, id| r.snapshots.get_mut(id).map(|s| &mut s.tags),
    }),
    ..Kind::BASE
};

/// The source volume AWS shows for snapshots not taken of a volume of the account (copies,
/// public snapshots).
pub const NO_VOLUME: &str = "vol-ffffffff";

/// The longest description AWS takes for a snapshot.
const MAX_DESCRIPTION: usize = 255;

/// CopySnapshot's source, in the region it names.
fn copy_source(r: &Request<'_>, out: &mut Vec<String>) {
    if let Some(id) = r.value("SourceSnapshotId") {
        let region = r.value("SourceRegion").unwrap_or(r.region);
        out.push(SNAPSHOT.arn(region, r.account, id));
    }
}

/// A snapshot as the caller sees it: one of the account's, or a public one.
#[derive(Debug, Clone)]
pub struct Shown {
    pub snapshot: Snapshot,
    pub owner_id: String,
    pub owner_alias: Option<&'static str>,
    /// The public image that stands on it (public snapshots only).
    pub image_id: Option<String>,
}

impl Shown {
    pub fn public(&self) -> bool {
        self.image_id.is_some()
    }
}

/// The public snapshots of `region`: the root snapshots of the catalogue's images, complete since
/// the image was made.
pub fn public(region: &str) -> Vec<Shown> {
    images::defaults(region)
        .into_iter()
        .map(|i| {
            let start_ms = crate::timefmt::parse_iso8601(i.creation_date).unwrap_or(0) * 1000;
            Shown {
                snapshot: Snapshot {
                    id: i.snapshot_id.clone(),
                    volume_id: NO_VOLUME.into(),
                    volume_size: i.root_size_gib,
                    description: i.description.to_string(),
                    encrypted: false,
                    kms_key_id: None,
                    start_ms,
                    state: Timed::new(SnapshotState::Completed, start_ms),
                    state_message: None,
                    tags: Default::default(),
                    completion_minutes: None,
                },
                owner_id: i.owner_id.to_string(),
                owner_alias: i.owner_alias,
                image_id: Some(i.id),
            }
        })
        .collect()
}

fn own(call: &Call<'_>, s: &Snapshot) -> Shown {
    Shown {
        snapshot: s.clone(),
        owner_id: call.account.to_string(),
        owner_alias: None,
        image_id: None,
    }
}

/// The snapshot `id` of `region` as the caller sees it (the account's or a public one), or AWS's
/// NotFound / Malformed answer.
pub fn find(call: &Call<'_>, region: &Ec2Region, region_name: &str, id: &str) -> AwsResult<Shown> {
    SNAPSHOT.check(id)?;
    if let Some(s) = region.snapshots.get(id) {
        return Ok(own(call, s));
    }
    public(region_name)
        .into_iter()
        .find(|s| s.snapshot.id == id)
        .ok_or_else(|| SNAPSHOT.not_found(id))
}

/// What CreateVolume restores from: the snapshot `id`, which must be `completed` (EBS refuses a
/// pending one: `IncorrectState` "Snapshot is in invalid state - pending"). Takes the region's
/// read lock and releases it, so the caller may then take the KMS lock.
pub fn for_volume(call: &Call<'_>, id: &str) -> AwsResult<Shown> {
    let lock = common::region(call)?;
    let region = read(&lock);
    let s = find(call, &region, call.region, id)?;
    match s.snapshot.state.at(call.now_ms) {
        SnapshotState::Completed => Ok(s),
        other => Err(AwsError::bad_request(
            "IncorrectState",
            format!("Snapshot is in invalid state - {}", other.name()),
        )),
    }
}

/// Folds due state transitions into stored state, and drops fast snapshot restores that are
/// `disabled` by now. Writers call this before they decide.
pub fn settle(region: &mut Ec2Region, now: i64) {
    for s in region.snapshots.values_mut() {
        s.state.settle(now);
    }
    for zones in region.fast_restores.values_mut() {
        zones.retain(|_, f| f.disabling.is_none_or(|(_, done)| now < done));
    }
    region.fast_restores.retain(|_, zones| !zones.is_empty());
}

/// `Progress` at `now`: the share of its duration a pending snapshot has run (at most `99%`),
/// `100%` once completed, `0%` when it failed.
fn progress(s: &Snapshot, now: i64) -> String {
    match s.state.at(now) {
        SnapshotState::Completed => "100%".into(),
        SnapshotState::Error => "0%".into(),
        SnapshotState::Pending => {
            let pct = match s.state.next {
                Some((_, at)) if at > s.state.since_ms => {
                    ((now - s.state.since_ms) * 100 / (at - s.state.since_ms)).clamp(0, 99)
                }
                _ => 0,
            };
            format!("{pct}%")
        }
    }
}

/// When a completed snapshot completed.
fn completion_ms(s: &Snapshot, now: i64) -> Option<i64> {
    match (s.state.at(now), s.state.next) {
        (SnapshotState::Completed, Some((_, at))) => Some(at),
        (SnapshotState::Completed, None) => Some(s.state.since_ms),
        _ => None,
    }
}

/// The members of a Snapshot, as DescribeSnapshots items carry them.
fn render(w: &mut Writer, s: &Shown, now: i64) {
    let snap = &s.snapshot;
    let state = snap.state.at(now);
    w.str("SnapshotId", &snap.id)
        .str("VolumeId", &snap.volume_id)
        .str("State", state.name());
    if state == SnapshotState::Error {
        w.str_opt("StateMessage", snap.state_message.as_deref());
    }
    w.time("StartTime", snap.start_ms)
        .str("Progress", progress(snap, now))
        .str("OwnerId", &s.owner_id)
        .str("Description", &snap.description)
        .int("VolumeSize", snap.volume_size)
        .bool("Encrypted", snap.encrypted)
        .str_opt("KmsKeyId", snap.kms_key_id.as_deref())
        .str_opt("OwnerAlias", s.owner_alias);
    common::write_tags(w, &snap.tags);
    w.str("StorageTier", "standard");
    w.str(
        "TransferType",
        if snap.completion_minutes.is_some() {
            "time-based"
        } else {
            "standard"
        },
    )
    .int_opt("CompletionDurationMinutes", snap.completion_minutes)
    .time_opt("CompletionTime", completion_ms(snap, now));
}

fn create_snapshot(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let volume_id = p.required("VolumeId")?.to_string();
    let description = p.str("Description").unwrap_or_default().to_string();
    let outpost = p.str("OutpostArn");
    let location = p.str("Location");
    let mut tag_specs = tags::from_specifications(&p, &[SNAPSHOT.arn_type])?;
    call.params()?.finish()?;
    check_description(&description)?;
    let tags = tag_specs.remove(SNAPSHOT.arn_type).unwrap_or_default();
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    volumes::settle(&mut region, now);
    settle(&mut region, now);
    let v = volumes::find(&region, &volume_id, now)?;
    // Every zone here is a Region's own: no Outposts, no Local Zones.
    if let Some(arn) = outpost {
        return Err(AwsError::invalid_value(format!(
            "The volume '{volume_id}' is not on the Outpost '{arn}'."
        )));
    }
    if location == Some("local") {
        return Err(AwsError::invalid_value(format!(
            "The volume '{volume_id}' is not in a Local Zone."
        )));
    }
    match volumes::observed(v, now) {
        VolumeState::Available | VolumeState::InUse => {}
        other => {
            return Err(AwsError::bad_request(
                "IncorrectState",
                format!("The volume '{volume_id}' is '{}'", other.name()),
            ))
        }
    }
    check_concurrency(&region, v, now)?;
    // The size the volume has now: a modification's target once it is optimizing.
    let size = volumes::current_config(&region, v, now).map_or(v.size_gib, |c| c.size_gib);
    let snapshot = Snapshot {
        id: call.world.ids.resource_id(SNAPSHOT.prefix),
        volume_id: v.id.clone(),
        volume_size: size,
        description,
        encrypted: v.encrypted,
        kms_key_id: v.kms_key_id.clone(),
        start_ms: now,
        state: Timed::transition(
            SnapshotState::Pending,
            now,
            SnapshotState::Completed,
            call.world.durations.snapshot_create,
        ),
        state_message: None,
        tags,
        completion_minutes: None,
    };
    // The answer is AWS's: `pending`, an empty progress, the tags even when there are none.
    let mut w = call.writer();
    w.str("SnapshotId", &snapshot.id)
        .str("VolumeId", &snapshot.volume_id)
        .str("State", SnapshotState::Pending.name())
        .time("StartTime", now)
        .str("Progress", "")
        .str("OwnerId", call.account)
        .str("Description", &snapshot.description)
        .int("VolumeSize", size)
        .bool("Encrypted", snapshot.encrypted)
        .str_opt("KmsKeyId", snapshot.kms_key_id.as_deref());
    common::write_tag_list(&mut w, &snapshot.tags);
    call.created(&snapshot.id);
    region.snapshots.insert(snapshot.id.clone(), snapshot);
    w.finish()
}

/// How long EBS wants between two snapshots of one volume while the earlier is pending.
const PER_VOLUME_INTERVAL_MS: i64 = 15_000;

/// EBS's limits on snapshots of one volume in progress (re:Post, "EBS snapshot stuck"): up to
/// five pending at once (one for `st1` and `sc1`), `ConcurrentSnapshotLimitExceeded` beyond; and
/// 15 seconds between a pending snapshot's start and the next, `SnapshotCreationPerVolumeRateExceeded`
/// sooner. Snapshots that completed (at once under `instant` timing) count for neither.
fn check_concurrency(region: &Ec2Region, v: &super::model::Volume, now: i64) -> AwsResult<()> {
    let pending: Vec<i64> = region
        .snapshots
        .values()
        .filter(|s| s.volume_id == v.id && s.state.at(now) == SnapshotState::Pending)
        .map(|s| s.start_ms)
        .collect();
    let limit = if matches!(v.volume_type.as_str(), "st1" | "sc1") {
        1
    } else {
        5
    };
    if pending.len() >= limit {
        return Err(AwsError::bad_request(
            "ConcurrentSnapshotLimitExceeded",
            format!(
                "Maximum number of concurrent snapshots ({limit}) for volume {} reached",
                v.id
            ),
        ));
    }
    if pending
        .iter()
        .any(|start| now < start + PER_VOLUME_INTERVAL_MS)
    {
        return Err(AwsError::bad_request(
            "SnapshotCreationPerVolumeRateExceeded",
            "The maximum per volume CreateSnapshot request rate has been exceeded. Use an increasing or variable sleep interval between requests.",
        ));
    }
    Ok(())
}

fn check_description(d: &str) -> AwsResult<()> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(AwsError::invalid_value(format!(
            "Value for parameter description is invalid. The description must be at most {MAX_DESCRIPTION} characters long."
        )));
    }
    Ok(())
}

/// Filter names DescribeSnapshots knows.
const FILTERS: &[&str] = &[
    "description",
    "encrypted",
    "owner-alias",
    "owner-id",
    "progress",
    "snapshot-id",
    "start-time",
    "status",
    "storage-tier",
    "transfer-type",
    "volume-id",
    "volume-size",
    TAG_FILTERS[0],
    TAG_FILTERS[1],
    TAG_FILTERS[2],
];

fn matches(f: &Filter, s: &Shown, now: i64) -> bool {
    let snap = &s.snapshot;
    if let Some(m) = tags::filter_matches(f, &snap.tags) {
        return m;
    }
    let value: Option<String> = match f.name.as_str() {
        "description" => Some(snap.description.clone()),
        "encrypted" => Some(snap.encrypted.to_string()),
        "owner-alias" => s.owner_alias.map(str::to_string),
        "owner-id" => Some(s.owner_id.clone()),
        "progress" => Some(progress(snap, now)),
        "snapshot-id" => Some(snap.id.clone()),
        "start-time" => Some(timestamp(snap.start_ms)),
        "status" => Some(snap.state.at(now).name().into()),
        "storage-tier" => Some("standard".into()),
        "transfer-type" => Some(
            if snap.completion_minutes.is_some() {
                "time-based"
            } else {
                "standard"
            }
            .into(),
        ),
        "volume-id" => Some(snap.volume_id.clone()),
        "volume-size" => Some(snap.volume_size.to_string()),
        _ => None,
    };
    value.is_some_and(|v| f.matches(&v))
}

/// Whether `Owner.N` accepts the snapshot: `self` (the caller's account), `amazon` (Amazon's own
/// snapshots, by their alias) or an account id.
fn owned_by(owners: &[&str], s: &Shown, account: &str) -> bool {
    owners.iter().any(|o| match *o {
        "self" => !s.public() && s.owner_id == account,
        "amazon" => s.owner_alias == Some("amazon"),
        other => other == s.owner_id,
    })
}

/// Whether `RestorableBy.N` accepts the snapshot: `all` takes public snapshots; the caller's
/// account (`self` or its id) also those it owns (its implicit create volume permission);
/// another account only public ones (awsemu keeps no explicit sharing).
fn restorable_by(users: &[&str], s: &Shown, account: &str) -> bool {
    users.iter().any(|u| match *u {
        "all" => s.public(),
        "self" => true,
        other if other == account => true,
        _ => s.public(),
    })
}

fn describe_snapshots(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("SnapshotId")?;
    let owners = p.strings("Owner")?;
    let restorable = p.strings("RestorableBy")?;
    let filters = filters::parse(&p, FILTERS)?;
    // The EBS CSI driver sends `MaxResults=0` when its caller sets no limit, and AWS serves it
    // as no limit; a larger value than 1000 is served as 1000 (DescribeSnapshots' reference).
    let page = Page::read(&p)?.zero_unlimited().capped(1000);
    call.params()?.finish()?;
    page.not_with_ids(&ids, "snapshotSet")?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let region = read(&lock);
    for id in &ids {
        find(call, &region, call.region, id)?;
    }
    let unseen = common::unseen(call, &SNAPSHOT);
    common::check_visible(&unseen, &ids)?;
    let mut all: Vec<Shown> = region
        .snapshots
        .values()
        .filter(|s| unseen.listed(&s.id))
        .map(|s| own(call, s))
        .collect();
    all.extend(public(call.region));
    all.sort_by(|a, b| a.snapshot.id.cmp(&b.snapshot.id));
    let matched: Vec<Shown> = all
        .into_iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.snapshot.id.as_str()))
        .filter(|s| owners.is_empty() || owned_by(&owners, s, call.account))
        .filter(|s| restorable.is_empty() || restorable_by(&restorable, s, call.account))
        .filter(|s| filters.iter().all(|f| matches(f, s, now)))
        .collect();
    let (page, next) = page.apply(matched)?;
    let mut w = call.writer();
    w.list("Snapshots", &page, |w, s| render(w, s, now));
    w.str_opt("NextToken", next);
    w.finish()
}

fn delete_snapshot(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("SnapshotId")?.to_string();
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, call.now_ms);
    let s = find(call, &region, call.region, &id)?;
    if let Some(image) = &s.image_id {
        return Err(AwsError::bad_request(
            "InvalidSnapshot.InUse",
            format!("The snapshot {id} is currently in use by {image}"),
        ));
    }
    // A pending snapshot may be deleted too (its creation is abandoned); volumes restored from
    // it keep naming it, as AWS's do.
    region.snapshots.remove(&id);
    region.fast_restores.remove(&id);
    common::done(call)
}

/// The longest time-based copy AWS takes, in minutes (48 hours), in steps of 15.
const MAX_COMPLETION_MINUTES: i64 = 2880;

fn copy_snapshot(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let source_id = p.required("SourceSnapshotId")?.to_string();
    let source_region = p.required("SourceRegion")?.to_string();
    let description = p.str("Description").unwrap_or_default().to_string();
    let encrypted = p.bool("Encrypted")?;
    let kms_key = p.str("KmsKeyId");
    // Deprecated members, which the SDKs still fill in for cross-region copies.
    let _destination_region = p.str("DestinationRegion");
    let _presigned = p.str("PresignedUrl");
    let outpost = p.str("DestinationOutpostArn");
    let local_zone = p.str("DestinationAvailabilityZone");
    let completion = p.int("CompletionDurationMinutes")?;
    let mut tag_specs = tags::from_specifications(&p, &[SNAPSHOT.arn_type])?;
    call.params()?.finish()?;
    check_description(&description)?;
    if kms_key.is_some() && encrypted != Some(true) {
        return Err(AwsError::bad_request(
            "InvalidParameterDependency",
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    if let Some(arn) = outpost {
        return Err(AwsError::invalid_value(format!(
            "The Outpost '{arn}' does not exist."
        )));
    }
    if let Some(zone) = local_zone {
        return Err(AwsError::invalid_value(format!(
            "The Local Zone '{zone}' does not exist."
        )));
    }
    if let Some(m) = completion {
        if !(15..=MAX_COMPLETION_MINUTES).contains(&m) || m % 15 != 0 {
            return Err(AwsError::invalid_value(format!(
                "Value ({m}) for parameter completionDurationMinutes is invalid. It must be a multiple of 15 between 15 and {MAX_COMPLETION_MINUTES}."
            )));
        }
    }
    let source_lock = crate::state::regions::region(&source_region)
        .and_then(|_| call.world.ec2(&source_region))
        .ok_or_else(|| {
            AwsError::invalid_value(format!(
                "Value ({source_region}) for parameter sourceRegion is invalid."
            ))
        })?;
    let source = {
        let r = read(&source_lock);
        find(call, &r, &source_region, &source_id)?
    };
    match source.snapshot.state.at(call.now_ms) {
        SnapshotState::Completed => {}
        other => {
            return Err(AwsError::bad_request(
                "IncorrectState",
                format!("Snapshot is in invalid state - {}", other.name()),
            ))
        }
    }
    // A copy of an encrypted snapshot is encrypted, by the given key or else by the source's;
    // a copy of an unencrypted one only when asked, by the given key or EBS's default. The KMS
    // lock is taken and released here, before the EC2 lock.
    let key_ref = kms_key.or(source.snapshot.kms_key_id.as_deref());
    let key = if source.snapshot.encrypted || encrypted == Some(true) {
        Some(crate::services::kms::encryption_key(
            call,
            key_ref,
            "alias/aws/ebs",
        )?)
    } else {
        None
    };
    let tags = tag_specs.remove(SNAPSHOT.arn_type).unwrap_or_default();
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let id = call.world.ids.resource_id(SNAPSHOT.prefix);
    // EBS uses the key with the caller's permissions, bound to the copy's id; a key it cannot
    // use fails the copy (`error`) rather than the call.
    let usable = key.as_ref().is_none_or(|k| k.usable_by_ebs(call, &id));
    let duration = match completion {
        Some(m) => (m * 60_000).min(call.world.durations.snapshot_copy),
        None => call.world.durations.snapshot_copy,
    };
    let copy = Snapshot {
        id,
        volume_id: NO_VOLUME.into(),
        volume_size: source.snapshot.volume_size,
        description,
        encrypted: key.is_some(),
        kms_key_id: key.map(|k| k.shown),
        start_ms: now,
        state: Timed::transition(
            SnapshotState::Pending,
            now,
            if usable {
                SnapshotState::Completed
            } else {
                SnapshotState::Error
            },
            duration,
        ),
        state_message: (!usable).then(|| "Given key ID is not accessible".to_string()),
        tags,
        completion_minutes: completion,
    };
    let mut w = call.writer();
    w.str("SnapshotId", &copy.id);
    common::write_tags(&mut w, &copy.tags);
    call.created(&copy.id);
    region.snapshots.insert(copy.id.clone(), copy);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_snapshots_are_the_images_roots() {
        let p = public("us-east-1");
        let imgs = images::defaults("us-east-1");
        assert_eq!(p.len(), imgs.len());
        for (s, i) in p.iter().zip(&imgs) {
            assert_eq!(s.snapshot.id, i.snapshot_id);
            assert_eq!(s.image_id.as_deref(), Some(i.id.as_str()));
            assert!(SNAPSHOT.check(&s.snapshot.id).is_ok());
            assert_eq!(s.snapshot.state.at(0), SnapshotState::Completed);
        }
        assert_eq!(
            SNAPSHOT.arn("r", "1", "snap-1"),
            "arn:aws:ec2:r::snapshot/snap-1"
        );
    }

    #[test]
    fn progress_climbs_on_the_clock() {
        let mut s = public("us-east-1").remove(0).snapshot;
        s.state = Timed::transition(SnapshotState::Pending, 1_000, SnapshotState::Completed, 100);
        assert_eq!(progress(&s, 1_000), "0%");
        assert_eq!(progress(&s, 1_050), "50%");
        assert_eq!(progress(&s, 1_099), "99%");
        assert_eq!(progress(&s, 1_100), "100%");
        assert_eq!(completion_ms(&s, 1_100), Some(1_100));
        assert_eq!(completion_ms(&s, 1_099), None);
    }
}
