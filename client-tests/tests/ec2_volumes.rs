//! EBS volumes through aws-sdk-ec2: create, attach, detach, delete, modify, tags, filters,
//! pagination, errors, concurrency, waiters under every timing profile.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    Filter, Placement, ResourceType, Tag, TagSpecification, VolumeAttachmentState, VolumeState,
    VolumeType,
};
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::fixtures::{run_instance as instance, AMI};
use client_tests::{ec2, ec2_with, expect_err, ClientOptions, Waiting};

async fn volume(c: &aws_sdk_ec2::Client, zone: &str, size: i32) -> String {
    let out = c
        .create_volume()
        .availability_zone(zone)
        .size(size)
        .volume_type(VolumeType::Gp3)
        .send()
        .await
        .expect("create volume");
    out.volume_id().unwrap().to_string()
}

async fn volume_state(c: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::Volume {
    c.describe_volumes()
        .volume_ids(id)
        .send()
        .await
        .unwrap()
        .volumes()[0]
        .clone()
}

#[tokio::test]
async fn create_answers_creating_then_describe_sees_available() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let out = c
        .create_volume()
        .availability_zone("us-east-1b")
        .size(20)
        .volume_type(VolumeType::Gp3)
        .encrypted(true)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(Tag::builder().key("Name").value("data").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.state(), Some(&VolumeState::Creating));
    assert_eq!(out.iops(), Some(3000));
    assert_eq!(out.throughput(), Some(125));
    assert!(out
        .kms_key_id()
        .unwrap()
        .starts_with("arn:aws:kms:us-east-1:123456789012:key/"));
    assert_eq!(out.tags()[0].value(), Some("data"));
    let id = out.volume_id().unwrap();
    assert!(id.starts_with("vol-") && id.len() == 21, "{id}");
    let v = volume_state(&c, id).await;
    assert_eq!(v.state(), Some(&VolumeState::Available));
    assert_eq!(v.size(), Some(20));
    assert_eq!(v.availability_zone(), Some("us-east-1b"));
}

#[tokio::test]
async fn create_validates_like_aws() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let cases: Vec<(
        aws_sdk_ec2::operation::create_volume::builders::CreateVolumeFluentBuilder,
        &str,
    )> = vec![
        (
            c.create_volume().availability_zone("us-east-1a"),
            "MissingParameter",
        ),
        (c.create_volume().size(10), "MissingParameter"),
        (
            c.create_volume().availability_zone("us-east-1z").size(10),
            "InvalidZone.NotFound",
        ),
        (
            c.create_volume().availability_zone("us-east-1a").size(0),
            "InvalidParameterValue",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(20000),
            "InvalidParameterValue",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(10)
                .volume_type(VolumeType::Gp2)
                .iops(300),
            "InvalidParameterCombination",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(10)
                .volume_type(VolumeType::Io1),
            "InvalidParameterCombination",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(10)
                .volume_type(VolumeType::Io1)
                .iops(1000),
            "InvalidParameterValue",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(100)
                .volume_type(VolumeType::St1),
            "InvalidParameterValue",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .size(10)
                .kms_key_id("alias/x"),
            "InvalidParameterDependency",
        ),
        (
            c.create_volume()
                .availability_zone("us-east-1a")
                .snapshot_id("snap-0123456789abcdef0"),
            "InvalidSnapshot.NotFound",
        ),
    ];
    for (call, want) in cases {
        let (code, msg, status) = expect_err!(call.send().await);
        assert_eq!((code.as_str(), status), (want, 400), "{msg}");
    }
    assert!(
        c.describe_volumes()
            .send()
            .await
            .unwrap()
            .volumes()
            .is_empty(),
        "a refused create makes nothing"
    );
}

#[tokio::test]
async fn attach_detach_delete_lifecycle() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let i = instance(&c, "us-east-1a").await;
    let v = volume(&c, "us-east-1a", 10).await;
    let a = c
        .attach_volume()
        .volume_id(&v)
        .instance_id(&i)
        .device("/dev/xvdba")
        .send()
        .await
        .unwrap();
    assert_eq!(a.state(), Some(&VolumeAttachmentState::Attaching));
    assert_eq!(a.device(), Some("/dev/xvdba"));
    c.wait_until_volume_in_use()
        .volume_ids(&v)
        .wait(Duration::from_secs(30))
        .await
        .unwrap();
    let vol = volume_state(&c, &v).await;
    assert_eq!(vol.state(), Some(&VolumeState::InUse));
    assert_eq!(
        vol.attachments()[0].state(),
        Some(&VolumeAttachmentState::Attached)
    );
    assert_eq!(vol.attachments()[0].instance_id(), Some(i.as_str()));
    // The instance shows the volume in its block device mappings.
    let inst = c
        .describe_instances()
        .instance_ids(&i)
        .send()
        .await
        .unwrap();
    let bdm = inst.reservations()[0].instances()[0].block_device_mappings();
    assert!(
        bdm.iter().any(|m| m.device_name() == Some("/dev/xvdba")
            && m.ebs().and_then(|e| e.volume_id()) == Some(v.as_str())),
        "{bdm:?}"
    );
    // Deleting an attached volume is refused.
    let (code, _, _) = expect_err!(c.delete_volume().volume_id(&v).send().await);
    assert_eq!(code, "VolumeInUse");
    let d = c.detach_volume().volume_id(&v).send().await.unwrap();
    assert_eq!(d.state(), Some(&VolumeAttachmentState::Detaching));
    c.wait_until_volume_available()
        .volume_ids(&v)
        .wait(Duration::from_secs(30))
        .await
        .unwrap();
    assert!(volume_state(&c, &v).await.attachments().is_empty());
    let (code, _, _) = expect_err!(c.detach_volume().volume_id(&v).send().await);
    assert_eq!(code, "IncorrectState");
    c.delete_volume().volume_id(&v).send().await.unwrap();
    c.wait_until_volume_deleted()
        .volume_ids(&v)
        .wait(Duration::from_secs(30))
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(c.describe_volumes().volume_ids(&v).send().await);
    assert_eq!(code, "InvalidVolume.NotFound");
    assert_eq!(msg, format!("The volume '{v}' does not exist."));
}

#[tokio::test]
async fn attach_errors() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let i1 = instance(&c, "us-east-1a").await;
    let i2 = instance(&c, "us-east-1a").await;
    let far = volume(&c, "us-east-1b", 10).await;
    let v = volume(&c, "us-east-1a", 10).await;
    let attach = |vol: &str, inst: &str, dev: &str| {
        c.attach_volume()
            .volume_id(vol)
            .instance_id(inst)
            .device(dev)
            .send()
    };
    let (code, msg, _) = expect_err!(attach(&far, &i1, "/dev/sdf").await);
    assert_eq!(code, "InvalidVolume.ZoneMismatch", "{msg}");
    assert_eq!(
        expect_err!(attach(&v, "i-0000000000000000f", "/dev/sdf").await).0,
        "InvalidInstanceID.NotFound"
    );
    assert_eq!(
        expect_err!(attach(&v, "i-nope", "/dev/sdf").await).0,
        "InvalidInstanceID.Malformed"
    );
    assert_eq!(
        expect_err!(attach("vol-0000000000000000f", &i1, "/dev/sdf").await).0,
        "InvalidVolume.NotFound"
    );
    assert_eq!(
        expect_err!(attach(&v, &i1, "/dev/bogus").await).0,
        "InvalidParameterValue"
    );
    attach(&v, &i1, "/dev/sdf").await.unwrap();
    assert_eq!(
        expect_err!(attach(&v, &i2, "/dev/sdf").await).0,
        "VolumeInUse"
    );
    let other = volume(&c, "us-east-1a", 10).await;
    let (code, msg, _) = expect_err!(attach(&other, &i1, "/dev/sdf").await);
    assert_eq!(code, "InvalidParameterValue");
    assert!(
        msg.contains("Attachment point /dev/sdf is already in use"),
        "{msg}"
    );
    let (code, _, _) = expect_err!(
        c.detach_volume()
            .volume_id(&v)
            .instance_id(&i2)
            .send()
            .await
    );
    assert_eq!(code, "InvalidAttachment.NotFound");
    // Force detaches at once.
    c.detach_volume()
        .volume_id(&v)
        .force(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        volume_state(&c, &v).await.state(),
        Some(&VolumeState::Available)
    );
}

#[tokio::test]
async fn sixteen_concurrent_attachments_of_one_volume_one_wins() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let mut instances = Vec::new();
    for _ in 0..16 {
        instances.push(instance(&c, "us-east-1c").await);
    }
    let v = volume(&c, "us-east-1c", 10).await;
    let calls = instances.iter().map(|i| {
        let c = c.clone();
        let (v, i) = (v.clone(), i.clone());
        tokio::spawn(async move {
            c.attach_volume()
                .volume_id(v)
                .instance_id(i)
                .device("/dev/sdg")
                .send()
                .await
        })
    });
    let results: Vec<_> = futures_join(calls.collect()).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one attachment wins");
    for r in results.iter().filter(|r| r.is_err()) {
        let (code, _, _) = client_tests::error_parts(r.as_ref().unwrap_err());
        assert_eq!(code, "VolumeInUse");
    }
    let vol = volume_state(&c, &v).await;
    assert_eq!(vol.attachments().len(), 1);
    let winner = vol.attachments()[0].instance_id().unwrap().to_string();
    let attached_anywhere: usize = c
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.device")
                .values("/dev/sdg")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .volumes()
        .len();
    assert_eq!(attached_anywhere, 1, "only {winner} has it");
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn filters_and_pagination() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let i = instance(&c, "us-east-1a").await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let v = volume(&c, "us-east-1a", 10 + n).await;
        if n % 3 == 0 {
            c.create_tags()
                .resources(&v)
                .tags(
                    Tag::builder()
                        .key("kubernetes.io/cluster/c1")
                        .value("owned")
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        ids.push(v);
    }
    c.attach_volume()
        .volume_id(&ids[1])
        .instance_id(&i)
        .device("/dev/sdh")
        .send()
        .await
        .unwrap();
    let by_instance = c
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .values(&i)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // The root volume and the one attached.
    assert_eq!(by_instance.volumes().len(), 2, "{by_instance:?}");
    let tagged = c
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("tag:kubernetes.io/cluster/c1")
                .values("owned")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.volumes().len(), 4);
    let sized = c
        .describe_volumes()
        .filters(Filter::builder().name("size").values("1?").build())
        .send()
        .await
        .unwrap();
    assert_eq!(sized.volumes().len(), 10, "sizes 10..=19");
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_volumes()
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(
            page.volumes()
                .iter()
                .map(|v| v.volume_id().unwrap().to_string()),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 13, "12 volumes and the instance's root volume");
    assert_eq!(
        expect_err!(
            c.describe_volumes()
                .max_results(5)
                .volume_ids(&ids[0])
                .send()
                .await
        )
        .0,
        "InvalidParameterCombination"
    );
    assert_eq!(
        expect_err!(
            c.describe_volumes()
                .filters(Filter::builder().name("colour").values("x").build())
                .send()
                .await
        )
        .0,
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn modify_volume_grows_and_follows_the_rules() {
    let emu = Emulator::builder()
        .manual_clock(1_800_000_000_000)
        .timing(Timing::Fast)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let v = volume(&c, "us-east-1a", 10).await;
    emu.advance(Duration::from_millis(100));
    let (code, _, _) = expect_err!(c.modify_volume().volume_id(&v).size(5).send().await);
    assert_eq!(code, "InvalidParameterValue");
    let m = c
        .modify_volume()
        .volume_id(&v)
        .size(30)
        .send()
        .await
        .unwrap();
    let m = m.volume_modification().unwrap();
    assert_eq!(
        m.modification_state().map(|s| s.as_str()),
        Some("modifying")
    );
    assert_eq!((m.original_size(), m.target_size()), (Some(10), Some(30)));
    assert_eq!(
        volume_state(&c, &v).await.size(),
        Some(10),
        "not yet optimizing"
    );
    emu.advance(Duration::from_millis(40));
    let mods = c
        .describe_volumes_modifications()
        .volume_ids(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(
        mods.volumes_modifications()[0]
            .modification_state()
            .map(|s| s.as_str()),
        Some("optimizing")
    );
    assert_eq!(volume_state(&c, &v).await.size(), Some(30));
    emu.advance(Duration::from_millis(100));
    let mods = c
        .describe_volumes_modifications()
        .volume_ids(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(
        mods.volumes_modifications()[0]
            .modification_state()
            .map(|s| s.as_str()),
        Some("completed")
    );
    assert_eq!(mods.volumes_modifications()[0].progress(), Some(100));
    let (code, _, _) = expect_err!(c.modify_volume().volume_id(&v).size(40).send().await);
    assert_eq!(code, "VolumeModificationRateExceeded");
    emu.advance(Duration::from_secs(6 * 3600));
    c.modify_volume()
        .volume_id(&v)
        .volume_type(VolumeType::Io2)
        .iops(2000)
        .send()
        .await
        .unwrap();
    let other = volume(&c, "us-east-1a", 10).await;
    assert_eq!(
        expect_err!(
            c.describe_volumes_modifications()
                .volume_ids(&other)
                .send()
                .await
        )
        .0,
        "InvalidVolumeModification.NotFound"
    );
}

#[tokio::test]
async fn tags_on_volumes() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let v = volume(&c, "us-east-1a", 10).await;
    c.create_tags()
        .resources(&v)
        .tags(Tag::builder().key("a").value("1").build())
        .tags(Tag::builder().key("b").value("2").build())
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.create_tags()
            .resources("vol-0000000000000000f")
            .tags(Tag::builder().key("a").value("1").build())
            .send()
            .await
    );
    assert_eq!(code, "InvalidVolume.NotFound");
    let (code, _, _) = expect_err!(
        c.create_tags()
            .resources(&v)
            .tags(Tag::builder().key("aws:x").value("1").build())
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let t = c
        .describe_tags()
        .filters(Filter::builder().name("resource-id").values(&v).build())
        .send()
        .await
        .unwrap();
    assert_eq!(t.tags().len(), 2);
    assert_eq!(
        t.tags()[0].resource_type().map(|r| r.as_str()),
        Some("volume")
    );
    c.delete_tags()
        .resources(&v)
        .tags(Tag::builder().key("a").value("not-1").build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        volume_state(&c, &v).await.tags().len(),
        2,
        "value mismatch deletes nothing"
    );
    c.delete_tags()
        .resources(&v)
        .tags(Tag::builder().key("a").build())
        .send()
        .await
        .unwrap();
    assert_eq!(volume_state(&c, &v).await.tags().len(), 1);
}

/// The SDK waiters complete under every timing profile: fast with scaled-down waiter delays,
/// realistic on a manual clock that the client's own sleeps advance.
#[tokio::test]
async fn waiters_complete_under_every_timing_profile() {
    for timing in [Timing::Instant, Timing::Fast, Timing::Realistic] {
        let builder = Emulator::builder().timing(timing);
        let emu = match timing {
            Timing::Realistic => builder.manual_clock(1_800_000_000_000),
            _ => builder,
        }
        .start()
        .await
        .unwrap();
        let waiting = match timing {
            Timing::Realistic => Waiting::AdvanceClock(emu.instance().clone()),
            _ => Waiting::Scaled(100),
        };
        let c = ec2_with(
            &emu,
            &ClientOptions::principal(&emu, "admin").waiting(waiting),
        );
        let i = instance(&c, "us-east-1a").await;
        let v = volume(&c, "us-east-1a", 10).await;
        c.wait_until_volume_available()
            .volume_ids(&v)
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.attach_volume()
            .volume_id(&v)
            .instance_id(&i)
            .device("/dev/sdf")
            .send()
            .await
            .unwrap();
        c.wait_until_volume_in_use()
            .volume_ids(&v)
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.detach_volume().volume_id(&v).send().await.unwrap();
        c.wait_until_volume_available()
            .volume_ids(&v)
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.delete_volume().volume_id(&v).send().await.unwrap();
        c.wait_until_volume_deleted()
            .volume_ids(&v)
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
    }
}

/// Under realistic timing DescribeInstances reports an attachment before DescribeVolumes does,
/// as AWS's eventual consistency has it.
#[tokio::test]
async fn realistic_timing_has_the_describe_lag() {
    let emu = Emulator::builder()
        .timing(Timing::Realistic)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1a").build())
        .send()
        .await
        .unwrap();
    let i = out.instances()[0].instance_id().unwrap().to_string();
    emu.advance(Duration::from_secs(60));
    let v = volume(&c, "us-east-1a", 10).await;
    assert_eq!(
        volume_state(&c, &v).await.state(),
        Some(&VolumeState::Creating)
    );
    emu.advance(Duration::from_secs(10));
    c.attach_volume()
        .volume_id(&v)
        .instance_id(&i)
        .device("/dev/sdf")
        .send()
        .await
        .unwrap();
    emu.advance(Duration::from_secs(4));
    let vol = volume_state(&c, &v).await;
    assert_eq!(
        vol.attachments()[0].state(),
        Some(&VolumeAttachmentState::Attaching)
    );
    let inst = c
        .describe_instances()
        .instance_ids(&i)
        .send()
        .await
        .unwrap();
    let m = inst.reservations()[0].instances()[0]
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some("/dev/sdf"))
        .cloned()
        .unwrap();
    assert_eq!(
        m.ebs().and_then(|e| e.status()).map(|s| s.as_str()),
        Some("attached")
    );
    emu.advance(Duration::from_secs(3));
    assert_eq!(
        volume_state(&c, &v).await.attachments()[0].state(),
        Some(&VolumeAttachmentState::Attached)
    );
}

#[tokio::test]
async fn attachment_limit_is_enforced() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let i = instance(&c, "us-east-1a").await;
    // The root volume takes one of the 27 EBS attachments a Nitro instance has.
    let letters: Vec<String> = ('a'..='z').map(|l| format!("/dev/xvdb{l}")).collect();
    for dev in &letters {
        let v = volume(&c, "us-east-1a", 1).await;
        c.attach_volume()
            .volume_id(&v)
            .instance_id(&i)
            .device(dev)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{dev}: {e:?}"));
    }
    let v = volume(&c, "us-east-1a", 1).await;
    let (code, msg, status) = expect_err!(
        c.attach_volume()
            .volume_id(&v)
            .instance_id(&i)
            .device("/dev/xvdca")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), status),
        ("AttachmentLimitExceeded", 400),
        "{msg}"
    );
    assert_eq!(
        volume_state(&c, &v).await.state(),
        Some(&VolumeState::Available),
        "nothing changed"
    );
}

/// A realistic-timing emulator on a manual clock, so a test sees each state a volume goes through.
async fn realistic() -> Emulator {
    Emulator::builder()
        .seed(3)
        .timing(Timing::Realistic)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap()
}

/// A CreateVolume as the EBS CSI driver sends it: its client token, gp3, the driver's name tag.
fn csi_create(
    c: &aws_sdk_ec2::Client,
    token: &str,
    zone: &str,
    size: i32,
) -> aws_sdk_ec2::operation::create_volume::builders::CreateVolumeFluentBuilder {
    c.create_volume()
        .client_token(token)
        .availability_zone(zone)
        .size(size)
        .volume_type(VolumeType::Gp3)
        .encrypted(false)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(Tag::builder().key("CSIVolumeName").value("pvc-1").build())
                .build(),
        )
}

const TOKEN: &str = "5d41402abc4b2a76b9719d911017c592aaf3f5a1d2c6f0b53ef5d6e7b9a0c1d2";

#[tokio::test]
async fn create_with_a_client_token_is_idempotent() {
    let emu = realistic().await;
    let c = ec2(&emu, "admin");
    assert_eq!(TOKEN.len(), 64, "the longest token EC2 takes");
    let first = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    let id = first.volume_id().unwrap().to_string();
    assert_eq!(first.state(), Some(&VolumeState::Creating));

    // a retry gets the same volume, as it is now
    let again = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(again.volume_id(), Some(id.as_str()));
    assert_eq!(again.state(), Some(&VolumeState::Creating));
    assert_eq!(again.create_time(), first.create_time());
    emu.advance(Duration::from_secs(5));
    let later = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(later.volume_id(), Some(id.as_str()));
    assert_eq!(later.state(), Some(&VolumeState::Available));
    assert_eq!(later.size(), Some(10));
    assert_eq!(later.iops(), Some(3000));
    assert_eq!(later.tags()[0].value(), Some("pvc-1"));
    assert_eq!(
        client_tests::fixtures::volume_ids(&c).await,
        vec![id.clone()]
    );

    // the same token asking for something else is refused, and nothing is created
    let (code, msg, status) = expect_err!(csi_create(&c, TOKEN, "us-east-1a", 20).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "IdempotentParameterMismatch",
            "Parameters on this idempotent request are inconsistent with parameters used in previous request(s).",
            400
        )
    );
    let (code, _, _) = expect_err!(
        csi_create(&c, TOKEN, "us-east-1a", 10)
            .volume_type(VolumeType::Gp2)
            .send()
            .await
    );
    assert_eq!(code, "IdempotentParameterMismatch");
    let (code, _, _) = expect_err!(
        csi_create(&c, TOKEN, "us-east-1a", 10)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Volume)
                    .tags(Tag::builder().key("CSIVolumeName").value("pvc-2").build())
                    .build(),
            )
            .send()
            .await
    );
    assert_eq!(code, "IdempotentParameterMismatch");
    assert_eq!(
        client_tests::fixtures::volume_ids(&c).await,
        vec![id.clone()]
    );
    // after a resize the original request still matches (it is the request that is compared)
    c.modify_volume()
        .volume_id(&id)
        .size(30)
        .send()
        .await
        .unwrap();
    let resized = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(resized.volume_id(), Some(id.as_str()));

    // the token is scoped to its zone: in another zone it is another request
    let other = csi_create(&c, TOKEN, "us-east-1b", 10)
        .send()
        .await
        .unwrap();
    assert_ne!(other.volume_id(), Some(id.as_str()));
    assert_eq!(other.availability_zone(), Some("us-east-1b"));
    // tokens are case-sensitive
    let upper = csi_create(&c, &TOKEN.to_uppercase(), "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_ne!(upper.volume_id(), Some(id.as_str()));
    // without a token of its own, the SDK makes a fresh one per call: two volumes
    let a = volume(&c, "us-east-1a", 10).await;
    let b = volume(&c, "us-east-1a", 10).await;
    assert_ne!(a, b);
    assert_eq!(client_tests::fixtures::volume_ids(&c).await.len(), 5);
}

#[tokio::test]
async fn a_client_token_longer_than_64_characters_is_refused() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let long = format!("{TOKEN}x");
    let (code, msg, status) = expect_err!(csi_create(&c, &long, "us-east-1a", 10).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "InvalidParameterValue",
            "Client token must be less than or equal to 64 characters",
            400
        )
    );
    assert!(client_tests::fixtures::volume_ids(&c).await.is_empty());
}

#[tokio::test]
async fn the_token_of_a_deleted_volume_is_refused_until_ec2_forgets_it() {
    let emu = realistic().await;
    let c = ec2(&emu, "admin");
    let id = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    emu.advance(Duration::from_secs(5));
    c.delete_volume().volume_id(&id).send().await.unwrap();
    // still `deleting`: the volume is there, and a retry sees it so
    let deleting = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(deleting.volume_id(), Some(id.as_str()));
    assert_eq!(deleting.state(), Some(&VolumeState::Deleting));
    emu.advance(Duration::from_secs(3));
    let gone = || async { expect_err!(csi_create(&c, TOKEN, "us-east-1a", 10).send().await) };
    let (code, msg, status) = gone().await;
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "IdempotentParameterMismatch",
            "The client token you have provided is associated with a resource that is already deleted. Please use a different client token.",
            400
        )
    );
    assert!(client_tests::fixtures::volume_ids(&c).await.is_empty());
    // burned for 12 hours after the volume went, then forgotten: a new volume
    emu.advance(Duration::from_secs(12 * 3600 - 1));
    assert_eq!(gone().await.0, "IdempotentParameterMismatch");
    emu.advance(Duration::from_secs(1));
    let fresh = csi_create(&c, TOKEN, "us-east-1a", 10)
        .send()
        .await
        .unwrap();
    assert_ne!(fresh.volume_id(), Some(id.as_str()));
    assert_eq!(fresh.state(), Some(&VolumeState::Creating));
}

/// EBS drops a volume whose KMS key it cannot use; the driver's retry with the same token is then
/// refused as for a deleted volume (kubernetes-sigs/aws-ebs-csi-driver#3010).
#[tokio::test]
async fn the_token_of_a_volume_that_failed_to_create_is_burned() {
    let emu = realistic().await;
    let c = ec2(&emu, "admin");
    let kms = client_tests::kms(&emu, "admin");
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    kms.disable_key().key_id(&key).send().await.unwrap();
    let created = csi_create(&c, TOKEN, "us-east-1a", 10)
        .encrypted(true)
        .kms_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(created.state(), Some(&VolumeState::Creating));
    emu.advance(Duration::from_secs(5));
    assert!(
        client_tests::fixtures::volume_ids(&c).await.is_empty(),
        "the volume disappeared"
    );
    let (code, msg, _) = expect_err!(
        csi_create(&c, TOKEN, "us-east-1a", 10)
            .encrypted(true)
            .kms_key_id(&key)
            .send()
            .await
    );
    assert_eq!(code, "IdempotentParameterMismatch");
    assert!(msg.contains("already deleted"), "{msg}");
}
