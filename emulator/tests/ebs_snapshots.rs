//! EBS snapshots through the real server over HTTP: the `pending` → `completed` state machine on
//! a manual clock, DescribeSnapshots' owners, filters and paging, restoring a volume from a
//! snapshot (size, encryption), copies, fast snapshot restores, what DeleteSnapshot refuses, and
//! an IAM denial with AWS's answer.

mod common;
#[path = "support/xml.rs"]
mod xml;

use std::time::Duration;

use awsemu::state::timing::Timing;
use awsemu::Emulator;
use common::post_form;
use xml::Node;

/// A server on a manual clock at the real time (signatures stay within the allowed skew for the
/// few minutes the tests advance it), with AWS-like durations.
async fn emu() -> Emulator {
    Emulator::builder()
        .seed(7)
        .timing(Timing::Realistic)
        .manual_clock(awsemu::timefmt::now_unix() * 1000)
        .start()
        .await
        .unwrap()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Calls EC2 as `key` (whose secret is the same string) and parses the answer.
async fn call(emu: &Emulator, key: &str, action: &str, params: &[(&str, &str)]) -> (u16, Node) {
    call_as(emu, &Keys::same(key), action, params).await
}

/// Credentials (access key, secret, session token) and the region signed for.
struct Keys {
    key: String,
    secret: String,
    token: Option<String>,
    region: &'static str,
}

impl Keys {
    fn same(key: &str) -> Keys {
        Keys {
            key: key.into(),
            secret: key.into(),
            token: None,
            region: "us-east-1",
        }
    }
}

async fn call_as(
    emu: &Emulator,
    keys: &Keys,
    action: &str,
    params: &[(&str, &str)],
) -> (u16, Node) {
    let mut body = format!("Action={action}&Version=2016-11-15");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", encode(v)));
    }
    let headers = common::signed_form_headers(
        emu.addr(),
        body.as_bytes(),
        &keys.key,
        &keys.secret,
        keys.token.as_deref(),
        keys.region,
        "ec2",
        awsemu::timefmt::now_unix(),
    );
    let a = common::send(emu.addr(), "POST", "/", &headers, body.as_bytes()).await;
    let node = xml::parse(&a.body).unwrap_or_else(|e| panic!("{action}: {e}"));
    (a.status, node)
}

async fn ok(emu: &Emulator, action: &str, params: &[(&str, &str)]) -> Node {
    let (status, n) = call(emu, "test", action, params).await;
    assert_eq!(status, 200, "{action}: {n:?}");
    n
}

/// The code and message of an error answer.
async fn err(emu: &Emulator, action: &str, params: &[(&str, &str)]) -> (String, String) {
    let (status, n) = call(emu, "test", action, params).await;
    assert_ne!(status, 200, "{action} succeeded: {n:?}");
    let e = &n.path(&["Errors", "Error"])[0];
    (e.text_of("Code"), e.text_of("Message"))
}

async fn volume(emu: &Emulator, params: &[(&str, &str)]) -> String {
    let mut p = vec![("AvailabilityZone", "us-east-1a")];
    p.extend_from_slice(params);
    let v = ok(emu, "CreateVolume", &p).await.text_of("volumeId");
    emu.advance(Duration::from_secs(5));
    v
}

async fn snapshot_items(emu: &Emulator, params: &[(&str, &str)]) -> Vec<Node> {
    let n = ok(emu, "DescribeSnapshots", params).await;
    n.path(&["snapshotSet", "item"])
        .into_iter()
        .cloned()
        .collect()
}

async fn one_snapshot(emu: &Emulator, id: &str) -> Node {
    let mut items = snapshot_items(emu, &[("SnapshotId.1", id)]).await;
    assert_eq!(items.len(), 1);
    items.remove(0)
}

#[tokio::test]
async fn a_snapshot_is_pending_then_completed_on_the_clock() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "12"), ("VolumeType", "gp3")]).await;
    let s = ok(
        &emu,
        "CreateSnapshot",
        &[
            ("VolumeId", &vol),
            ("Description", "nightly"),
            ("TagSpecification.1.ResourceType", "snapshot"),
            ("TagSpecification.1.Tag.1.Key", "CSIVolumeSnapshotName"),
            ("TagSpecification.1.Tag.1.Value", "snap-a"),
        ],
    )
    .await;
    let id = s.text_of("snapshotId");
    assert!(id.starts_with("snap-"), "{s:?}");
    assert_eq!(
        (
            s.text_of("volumeId"),
            s.text_of("status"),
            s.text_of("progress"),
            s.text_of("volumeSize"),
            s.text_of("encrypted"),
            s.text_of("ownerId"),
            s.text_of("description"),
        ),
        (
            vol.clone(),
            "pending".into(),
            "".into(),
            "12".into(),
            "false".into(),
            emu.account_id().to_string(),
            "nightly".into()
        )
    );
    let d = one_snapshot(&emu, &id).await;
    assert_eq!(
        (d.text_of("status"), d.text_of("progress")),
        ("pending".into(), "0%".into())
    );
    assert_eq!(d.text_of("storageTier"), "standard");
    assert_eq!(
        d.path(&["tagSet", "item"])[0].text_of("value"),
        "snap-a",
        "{d:?}"
    );
    // A pending snapshot cannot be restored from yet.
    let e = err(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1a"), ("SnapshotId", &id)],
    )
    .await;
    assert_eq!(
        e,
        (
            "IncorrectState".into(),
            "Snapshot is in invalid state - pending".into()
        )
    );
    emu.advance(Duration::from_secs(30));
    let d = one_snapshot(&emu, &id).await;
    assert_eq!(
        (d.text_of("status"), d.text_of("progress")),
        ("pending".into(), "50%".into())
    );
    emu.advance(Duration::from_secs(30));
    let d = one_snapshot(&emu, &id).await;
    assert_eq!(
        (d.text_of("status"), d.text_of("progress")),
        ("completed".into(), "100%".into())
    );
    assert!(!d.text_of("completionTime").is_empty(), "{d:?}");
    // By status and by the CSI driver's name tag.
    let by = |name: &'static str, value: &'static str| {
        [("Filter.1.Name", name), ("Filter.1.Value.1", value)]
    };
    assert_eq!(
        snapshot_items(&emu, &by("status", "completed")).await.len(),
        4
    );
    let tagged = snapshot_items(&emu, &by("tag:CSIVolumeSnapshotName", "snap-a")).await;
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].text_of("snapshotId"), id);
    assert!(
        snapshot_items(&emu, &by("tag:CSIVolumeSnapshotName", "other"))
            .await
            .is_empty()
    );

    // A snapshot of a volume that does not exist, or is not ready, is refused.
    let e = err(
        &emu,
        "CreateSnapshot",
        &[("VolumeId", "vol-0123456789abcdef0")],
    )
    .await;
    assert_eq!(e.0, "InvalidVolume.NotFound");
    let creating = ok(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1a"), ("Size", "1")],
    )
    .await
    .text_of("volumeId");
    let e = err(&emu, "CreateSnapshot", &[("VolumeId", &creating)]).await;
    assert_eq!(e.0, "IncorrectState", "{e:?}");

    // Deleted, it is gone; deleting it again is NotFound.
    ok(&emu, "DeleteSnapshot", &[("SnapshotId", &id)]).await;
    let e = err(&emu, "DescribeSnapshots", &[("SnapshotId.1", &id)]).await;
    assert_eq!(
        e,
        (
            "InvalidSnapshot.NotFound".into(),
            format!("The snapshot '{id}' does not exist.")
        )
    );
    assert_eq!(
        err(&emu, "DeleteSnapshot", &[("SnapshotId", &id)]).await.0,
        "InvalidSnapshot.NotFound"
    );
    assert_eq!(
        err(&emu, "DeleteSnapshot", &[("SnapshotId", "snap-xyz")])
            .await
            .0,
        "InvalidSnapshotID.Malformed"
    );
}

#[tokio::test]
async fn snapshots_of_one_volume_in_progress_are_limited() {
    let emu = emu().await;
    let gp = volume(&emu, &[("Size", "1")]).await;
    ok(&emu, "CreateSnapshot", &[("VolumeId", &gp)]).await;
    emu.advance(Duration::from_secs(5));
    let e = err(&emu, "CreateSnapshot", &[("VolumeId", &gp)]).await;
    assert_eq!(e.0, "SnapshotCreationPerVolumeRateExceeded", "{e:?}");
    emu.advance(Duration::from_secs(10));
    ok(&emu, "CreateSnapshot", &[("VolumeId", &gp)]).await;
    // An st1 volume may have one pending snapshot.
    let st1 = volume(&emu, &[("Size", "125"), ("VolumeType", "st1")]).await;
    ok(&emu, "CreateSnapshot", &[("VolumeId", &st1)]).await;
    emu.advance(Duration::from_secs(20));
    let e = err(&emu, "CreateSnapshot", &[("VolumeId", &st1)]).await;
    assert_eq!(e.0, "ConcurrentSnapshotLimitExceeded", "{e:?}");
    emu.advance(Duration::from_secs(40));
    ok(&emu, "CreateSnapshot", &[("VolumeId", &st1)]).await;
}

#[tokio::test]
async fn owners_filters_and_pages() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "3")]).await;
    let other = volume(&emu, &[("Size", "4")]).await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        let id = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)])
            .await
            .text_of("snapshotId");
        mine.push(id);
        // EBS wants 15 s between snapshots of one volume while one is pending.
        emu.advance(Duration::from_secs(16));
    }
    let of_other = ok(&emu, "CreateSnapshot", &[("VolumeId", &other)])
        .await
        .text_of("snapshotId");
    mine.push(of_other.clone());
    mine.sort();

    // Without options: the account's and the public ones (the catalogue images' roots).
    let all = snapshot_items(&emu, &[]).await;
    assert_eq!(all.len(), 8 + 3);
    let public: Vec<&Node> = all
        .iter()
        .filter(|s| s.text_of("ownerId") != emu.account_id())
        .collect();
    assert_eq!(public.len(), 3);
    assert!(public
        .iter()
        .all(|s| s.text_of("volumeId") == "vol-ffffffff" && s.text_of("status") == "completed"));
    let ids = |items: &[Node]| {
        items
            .iter()
            .map(|s| s.text_of("snapshotId"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&snapshot_items(&emu, &[("Owner.1", "self")]).await),
        mine
    );
    assert_eq!(
        snapshot_items(&emu, &[("Owner.1", emu.account_id())])
            .await
            .len(),
        8
    );
    let amazon = snapshot_items(&emu, &[("Owner.1", "amazon")]).await;
    assert_eq!(amazon.len(), 2);
    assert!(amazon.iter().all(|s| s.text_of("ownerAlias") == "amazon"));
    assert_eq!(
        snapshot_items(&emu, &[("RestorableBy.1", "all")])
            .await
            .len(),
        3
    );
    assert_eq!(
        snapshot_items(&emu, &[("RestorableBy.1", "self")])
            .await
            .len(),
        11
    );
    let by_volume = snapshot_items(
        &emu,
        &[("Filter.1.Name", "volume-id"), ("Filter.1.Value.1", &other)],
    )
    .await;
    assert_eq!(ids(&by_volume), vec![of_other]);
    let sized = snapshot_items(
        &emu,
        &[
            ("Owner.1", "self"),
            ("Filter.1.Name", "volume-size"),
            ("Filter.1.Value.1", "3"),
        ],
    )
    .await;
    assert_eq!(sized.len(), 7);
    assert_eq!(
        err(
            &emu,
            "DescribeSnapshots",
            &[("Filter.1.Name", "bogus"), ("Filter.1.Value.1", "x")]
        )
        .await
        .0,
        "InvalidParameterValue"
    );

    // Pages of 5 cover the account's snapshots once each, in order.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut p = vec![("Owner.1", "self"), ("MaxResults", "5")];
        if !token.is_empty() {
            p.push(("NextToken", &token));
        }
        let n = ok(&emu, "DescribeSnapshots", &p).await;
        let page: Vec<Node> = n
            .path(&["snapshotSet", "item"])
            .into_iter()
            .cloned()
            .collect();
        assert!(page.len() <= 5);
        seen.extend(ids(&page));
        token = n.text_of("nextToken");
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, mine);
    // 0 is no limit (what the EBS CSI driver sends), more than 1000 is served as 1000, fewer
    // than 5 is refused, and a limit beside ids is refused.
    let n = ok(
        &emu,
        "DescribeSnapshots",
        &[("Owner.1", "self"), ("MaxResults", "0")],
    )
    .await;
    assert_eq!(
        (
            n.path(&["snapshotSet", "item"]).len(),
            n.text_of("nextToken")
        ),
        (8, String::new())
    );
    let n = ok(
        &emu,
        "DescribeSnapshots",
        &[("Owner.1", "self"), ("MaxResults", "5000")],
    )
    .await;
    assert_eq!(n.path(&["snapshotSet", "item"]).len(), 8);
    assert_eq!(
        err(&emu, "DescribeSnapshots", &[("MaxResults", "4")])
            .await
            .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err(
            &emu,
            "DescribeSnapshots",
            &[("MaxResults", "5"), ("SnapshotId.1", &mine[0])]
        )
        .await
        .0,
        "InvalidParameterCombination"
    );
    assert_eq!(
        err(&emu, "DescribeSnapshots", &[("NextToken", "garbage")])
            .await
            .0,
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn restoring_from_a_snapshot_takes_its_size_and_encryption() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "20"), ("Encrypted", "true")]).await;
    let v = ok(&emu, "DescribeVolumes", &[("VolumeId.1", &vol)]).await;
    let key = v.path(&["volumeSet", "item"])[0].text_of("kmsKeyId");
    assert!(key.starts_with("arn:aws:kms:"), "{v:?}");
    let snap = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)]).await;
    assert_eq!(
        (snap.text_of("encrypted"), snap.text_of("kmsKeyId")),
        ("true".into(), key.clone())
    );
    let id = snap.text_of("snapshotId");
    emu.advance(Duration::from_secs(60));

    // No size: the snapshot's; encrypted with its key, though `Encrypted` was not asked for.
    let r = ok(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1b"), ("SnapshotId", &id)],
    )
    .await;
    assert_eq!(
        (
            r.text_of("size"),
            r.text_of("snapshotId"),
            r.text_of("encrypted"),
            r.text_of("kmsKeyId")
        ),
        ("20".into(), id.clone(), "true".into(), key.clone())
    );
    let restored = r.text_of("volumeId");
    emu.advance(Duration::from_secs(5));
    let d = ok(&emu, "DescribeVolumes", &[("VolumeId.1", &restored)]).await;
    let d = &d.path(&["volumeSet", "item"])[0];
    assert_eq!(
        (d.text_of("status"), d.text_of("snapshotId")),
        ("available".into(), id.clone())
    );
    let by_snapshot = ok(
        &emu,
        "DescribeVolumes",
        &[("Filter.1.Name", "snapshot-id"), ("Filter.1.Value.1", &id)],
    )
    .await;
    assert_eq!(by_snapshot.path(&["volumeSet", "item"]).len(), 1);

    // Larger is fine; smaller is AWS's InvalidParameterValue, and makes nothing.
    let big = ok(
        &emu,
        "CreateVolume",
        &[
            ("AvailabilityZone", "us-east-1a"),
            ("SnapshotId", &id),
            ("Size", "30"),
        ],
    )
    .await;
    assert_eq!(big.text_of("size"), "30");
    let before = ok(&emu, "DescribeVolumes", &[])
        .await
        .path(&["volumeSet", "item"])
        .len();
    let e = err(
        &emu,
        "CreateVolume",
        &[
            ("AvailabilityZone", "us-east-1a"),
            ("SnapshotId", &id),
            ("Size", "10"),
        ],
    )
    .await;
    assert_eq!(
        e,
        (
            "InvalidParameterValue".into(),
            format!("Volume of size 10GB is smaller than snapshot '{id}', expect size >= 20GB")
        )
    );
    assert_eq!(
        ok(&emu, "DescribeVolumes", &[])
            .await
            .path(&["volumeSet", "item"])
            .len(),
        before
    );
    assert_eq!(
        err(
            &emu,
            "CreateVolume",
            &[
                ("AvailabilityZone", "us-east-1a"),
                ("SnapshotId", "snap-0123456789abcdef0")
            ]
        )
        .await
        .0,
        "InvalidSnapshot.NotFound"
    );

    // A public snapshot restores too: 8 GiB, unencrypted.
    let public = snapshot_items(&emu, &[("Owner.1", "amazon")]).await;
    let pid = public[0].text_of("snapshotId");
    let p = ok(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1a"), ("SnapshotId", &pid)],
    )
    .await;
    assert_eq!(
        (p.text_of("size"), p.text_of("encrypted")),
        ("8".into(), "false".into())
    );
}

#[tokio::test]
async fn a_snapshot_an_image_uses_cannot_be_deleted() {
    let emu = emu().await;
    let images = ok(&emu, "DescribeImages", &[]).await;
    let image = &images.path(&["imagesSet", "item"])[0];
    let ami = image.text_of("imageId");
    let snap = image.path(&["blockDeviceMapping", "item", "ebs"])[0].text_of("snapshotId");
    let e = err(&emu, "DeleteSnapshot", &[("SnapshotId", &snap)]).await;
    assert_eq!(
        e,
        (
            "InvalidSnapshot.InUse".into(),
            format!("The snapshot {snap} is currently in use by {ami}")
        )
    );
    // Still there.
    assert_eq!(
        one_snapshot(&emu, &snap).await.text_of("status"),
        "completed"
    );
}

#[tokio::test]
async fn copies_are_new_pending_snapshots_and_may_be_encrypted() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "2")]).await;
    let src = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)])
        .await
        .text_of("snapshotId");
    // Not before the source is complete.
    let e = err(
        &emu,
        "CopySnapshot",
        &[("SourceSnapshotId", &src), ("SourceRegion", "us-east-1")],
    )
    .await;
    assert_eq!(e.0, "IncorrectState");
    emu.advance(Duration::from_secs(60));
    let c = ok(
        &emu,
        "CopySnapshot",
        &[
            ("SourceSnapshotId", &src),
            ("SourceRegion", "us-east-1"),
            ("Encrypted", "true"),
            ("Description", "copy"),
            ("TagSpecification.1.ResourceType", "snapshot"),
            ("TagSpecification.1.Tag.1.Key", "k"),
            ("TagSpecification.1.Tag.1.Value", "v"),
        ],
    )
    .await;
    let copy = c.text_of("snapshotId");
    assert!(copy.starts_with("snap-") && copy != src, "{c:?}");
    assert_eq!(c.path(&["tagSet", "item"])[0].text_of("key"), "k");
    let d = one_snapshot(&emu, &copy).await;
    assert_eq!(
        (
            d.text_of("status"),
            d.text_of("encrypted"),
            d.text_of("volumeSize"),
            d.text_of("volumeId"),
            d.text_of("description")
        ),
        (
            "pending".into(),
            "true".into(),
            "2".into(),
            "vol-ffffffff".into(),
            "copy".into()
        )
    );
    assert!(d.text_of("kmsKeyId").contains(":key/"), "{d:?}");
    emu.advance(Duration::from_secs(90));
    assert_eq!(
        one_snapshot(&emu, &copy).await.text_of("status"),
        "completed"
    );
    // A key without `Encrypted`, and a source that does not exist.
    assert_eq!(
        err(
            &emu,
            "CopySnapshot",
            &[
                ("SourceSnapshotId", &src),
                ("SourceRegion", "us-east-1"),
                ("KmsKeyId", "alias/x")
            ]
        )
        .await
        .0,
        "InvalidParameterDependency"
    );
    assert_eq!(
        err(
            &emu,
            "CopySnapshot",
            &[
                ("SourceSnapshotId", "snap-0123456789abcdef0"),
                ("SourceRegion", "us-east-1")
            ]
        )
        .await
        .0,
        "InvalidSnapshot.NotFound"
    );
    // A key EBS cannot use: the copy is made, then fails.
    let bad = ok(
        &emu,
        "CopySnapshot",
        &[
            ("SourceSnapshotId", &src),
            ("SourceRegion", "us-east-1"),
            ("Encrypted", "true"),
            ("KmsKeyId", "alias/missing"),
        ],
    )
    .await
    .text_of("snapshotId");
    emu.advance(Duration::from_secs(90));
    let d = one_snapshot(&emu, &bad).await;
    assert_eq!(d.text_of("status"), "error", "{d:?}");
}

#[tokio::test]
async fn a_copy_to_another_region_is_made_there() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "3")]).await;
    let src = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)])
        .await
        .text_of("snapshotId");
    emu.advance(Duration::from_secs(60));
    let west = Keys {
        region: "us-west-2",
        ..Keys::same("test")
    };
    let (status, n) = call_as(
        &emu,
        &west,
        "CopySnapshot",
        &[("SourceSnapshotId", &src), ("SourceRegion", "us-east-1")],
    )
    .await;
    assert_eq!(status, 200, "{n:?}");
    let copy = n.text_of("snapshotId");
    let (_, n) = call_as(&emu, &west, "DescribeSnapshots", &[("Owner.1", "self")]).await;
    let items = n.path(&["snapshotSet", "item"]);
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0].text_of("snapshotId"),
            items[0].text_of("volumeSize")
        ),
        (copy.clone(), "3".to_string())
    );
    // Not in the source's region; and a source the other region does not have is NotFound.
    assert_eq!(
        err(&emu, "DescribeSnapshots", &[("SnapshotId.1", &copy)])
            .await
            .0,
        "InvalidSnapshot.NotFound"
    );
    let (status, n) = call_as(
        &emu,
        &west,
        "CopySnapshot",
        &[("SourceSnapshotId", &src), ("SourceRegion", "us-west-2")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        n.path(&["Errors", "Error"])[0].text_of("Code"),
        "InvalidSnapshot.NotFound"
    );
}

#[tokio::test]
async fn fast_snapshot_restores_walk_their_states_per_zone() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "2")]).await;
    let id = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)])
        .await
        .text_of("snapshotId");
    emu.advance(Duration::from_secs(60));
    let n = ok(
        &emu,
        "EnableFastSnapshotRestores",
        &[
            ("SourceSnapshotId.1", &id),
            ("SourceSnapshotId.2", "snap-0123456789abcdef0"),
            ("AvailabilityZone.1", "us-east-1a"),
            ("AvailabilityZone.2", "us-east-1b"),
        ],
    )
    .await;
    let good = n.path(&["successful", "item"]);
    assert_eq!(good.len(), 2);
    assert!(good
        .iter()
        .all(|i| i.text_of("state") == "enabling" && i.text_of("snapshotId") == id));
    let bad = n.path(&["unsuccessful", "item"]);
    assert_eq!(bad.len(), 1);
    let errors = bad[0].path(&["fastSnapshotRestoreStateErrorSet", "item"]);
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0].path(&["error"])[0].text_of("code"),
        "InvalidSnapshot.NotFound"
    );

    let states = |n: &Node| {
        n.path(&["fastSnapshotRestoreSet", "item"])
            .iter()
            .map(|i| (i.text_of("availabilityZone"), i.text_of("state")))
            .collect::<Vec<_>>()
    };
    let zone_state = |s: &str| {
        vec![
            ("us-east-1a".to_string(), s.to_string()),
            ("us-east-1b".to_string(), s.to_string()),
        ]
    };
    emu.advance(Duration::from_secs(30));
    assert_eq!(
        states(&ok(&emu, "DescribeFastSnapshotRestores", &[]).await),
        zone_state("optimizing")
    );
    emu.advance(Duration::from_secs(120));
    assert_eq!(
        states(&ok(&emu, "DescribeFastSnapshotRestores", &[]).await),
        zone_state("enabled")
    );
    let filtered = ok(
        &emu,
        "DescribeFastSnapshotRestores",
        &[
            ("Filter.1.Name", "availability-zone"),
            ("Filter.1.Value.1", "us-east-1b"),
        ],
    )
    .await;
    assert_eq!(
        states(&filtered),
        [("us-east-1b".to_string(), "enabled".to_string())]
    );

    // A volume made where the restore is enabled is fast restored; elsewhere it is not.
    let fast = ok(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1a"), ("SnapshotId", &id)],
    )
    .await;
    assert_eq!(fast.text_of("fastRestored"), "true");
    let slow = ok(
        &emu,
        "CreateVolume",
        &[("AvailabilityZone", "us-east-1c"), ("SnapshotId", &id)],
    )
    .await;
    assert_eq!(slow.text_of("fastRestored"), "false");

    let n = ok(
        &emu,
        "DisableFastSnapshotRestores",
        &[
            ("SourceSnapshotId.1", &id),
            ("AvailabilityZone.1", "us-east-1a"),
            ("AvailabilityZone.2", "us-east-1c"),
        ],
    )
    .await;
    let good = n.path(&["successful", "item"]);
    assert_eq!(
        (good.len(), good[0].text_of("state")),
        (1, "disabling".to_string())
    );
    assert_eq!(
        n.path(&[
            "unsuccessful",
            "item",
            "fastSnapshotRestoreStateErrorSet",
            "item"
        ])
        .len(),
        1
    );
    emu.advance(Duration::from_secs(30));
    assert_eq!(
        states(&ok(&emu, "DescribeFastSnapshotRestores", &[]).await),
        [("us-east-1b".to_string(), "enabled".to_string())]
    );
    // Refused whole: no zone, or a malformed id.
    assert_eq!(
        err(
            &emu,
            "EnableFastSnapshotRestores",
            &[("SourceSnapshotId.1", &id)]
        )
        .await
        .0,
        "MissingParameter"
    );
    assert_eq!(
        err(
            &emu,
            "EnableFastSnapshotRestores",
            &[
                ("SourceSnapshotId.1", "snap-x"),
                ("AvailabilityZone.1", "us-east-1a")
            ]
        )
        .await
        .0,
        "InvalidSnapshotID.Malformed"
    );
}

#[tokio::test]
async fn the_controlplane_policy_does_not_allow_snapshots() {
    let emu = emu().await;
    let vol = volume(&emu, &[("Size", "1")]).await;
    let (status, n) = call(
        &emu,
        "controlplane",
        "CreateSnapshot",
        &[("VolumeId", &vol)],
    )
    .await;
    assert_eq!(status, 403, "{n:?}");
    let e = &n.path(&["Errors", "Error"])[0];
    assert_eq!(e.text_of("Code"), "UnauthorizedOperation");
    assert!(
        e.text_of("Message")
            .starts_with("You are not authorized to perform this operation. User: "),
        "{e:?}"
    );
    // Nothing was made.
    assert!(snapshot_items(&emu, &[("Owner.1", "self")])
        .await
        .is_empty());
    let (status, _) = call(&emu, "controlplane", "DescribeSnapshots", &[]).await;
    assert_eq!(status, 403);
}

/// The snapshot statements of the EBS CSI driver's policy (AWS managed `AmazonEBSCSIDriverPolicy`,
/// kubernetes-sigs/aws-ebs-csi-driver `docs/example-iam-policy.json`): snapshots the driver makes
/// carry its tags, and it may delete only snapshots that carry them.
const CSI_SNAPSHOT_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ec2:DescribeSnapshots", "ec2:DescribeVolumes"], "Resource": "*"},
  {"Effect": "Allow", "Action": ["ec2:CreateSnapshot"], "Resource": "arn:aws:ec2:*:*:volume/*"},
  {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:EnableFastSnapshotRestores"],
   "Resource": "arn:aws:ec2:*:*:snapshot/*"},
  {"Effect": "Allow", "Action": ["ec2:CreateTags"],
   "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"],
   "Condition": {"StringEquals": {"ec2:CreateAction": ["CreateVolume", "CreateSnapshot", "CopyVolumes"]}}},
  {"Effect": "Allow", "Action": ["ec2:CreateSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
   "Condition": {"StringLike": {"aws:RequestTag/CSIVolumeSnapshotName": "*"}}},
  {"Effect": "Allow", "Action": ["ec2:DeleteSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
   "Condition": {"StringLike": {"ec2:ResourceTag/CSIVolumeSnapshotName": "*"}}}
]}"#;

#[tokio::test]
async fn the_csi_drivers_policy_scopes_snapshots_by_their_tags() {
    let emu = emu().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    for body in [
        format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=csi&AssumeRolePolicyDocument={}",
            encode(trust)
        ),
        format!(
            "Action=PutRolePolicy&Version=2010-05-08&RoleName=csi&PolicyName=p&PolicyDocument={}",
            encode(CSI_SNAPSHOT_POLICY)
        ),
    ] {
        let a = post_form(emu.addr(), "test", "test", "iam", &body).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let a = post_form(
        emu.addr(),
        "test",
        "test",
        "sts",
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcsi",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let creds = xml::parse(&a.body).unwrap();
    let creds = &creds.path(&["AssumeRoleResult", "Credentials"])[0];
    let csi = Keys {
        key: creds.text_of("AccessKeyId"),
        secret: creds.text_of("SecretAccessKey"),
        token: Some(creds.text_of("SessionToken")),
        region: "us-east-1",
    };
    let vol = volume(&emu, &[("Size", "1")]).await;
    let tag = [
        ("VolumeId", vol.as_str()),
        ("TagSpecification.1.ResourceType", "snapshot"),
        ("TagSpecification.1.Tag.1.Key", "CSIVolumeSnapshotName"),
        ("TagSpecification.1.Tag.1.Value", "snapcontent-1"),
    ];
    let (status, n) = call_as(&emu, &csi, "CreateSnapshot", &tag).await;
    assert_eq!(status, 200, "{n:?}");
    let mine = n.text_of("snapshotId");
    // Untagged, the snapshot's own statement does not apply.
    let (status, n) = call_as(&emu, &csi, "CreateSnapshot", &[("VolumeId", &vol)]).await;
    assert_eq!(status, 403, "{n:?}");
    assert_eq!(
        n.path(&["Errors", "Error"])[0].text_of("Code"),
        "UnauthorizedOperation"
    );
    // Deleting goes by the snapshot's tags: an untagged one made by someone else is refused.
    emu.advance(Duration::from_secs(16));
    let other = ok(&emu, "CreateSnapshot", &[("VolumeId", &vol)])
        .await
        .text_of("snapshotId");
    let (status, _) = call_as(&emu, &csi, "DeleteSnapshot", &[("SnapshotId", &other)]).await;
    assert_eq!(status, 403);
    assert_eq!(
        one_snapshot(&emu, &other).await.text_of("snapshotId"),
        other
    );
    emu.advance(Duration::from_secs(60));
    let (status, n) = call_as(
        &emu,
        &csi,
        "EnableFastSnapshotRestores",
        &[
            ("SourceSnapshotId.1", &mine),
            ("AvailabilityZone.1", "us-east-1a"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{n:?}");
    let (status, n) = call_as(&emu, &csi, "DeleteSnapshot", &[("SnapshotId", &mine)]).await;
    assert_eq!(status, 200, "{n:?}");
    // Copying is not in the policy.
    let (status, _) = call_as(
        &emu,
        &csi,
        "CopySnapshot",
        &[("SourceSnapshotId", &other), ("SourceRegion", "us-east-1")],
    )
    .await;
    assert_eq!(status, 403);
}
