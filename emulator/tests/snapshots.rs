//! Snapshots through real HTTP with signed requests: a restored emulator, or one started from a
//! snapshot, answers the same calls byte for byte as the original did (same ids, request ids,
//! clock, fault draws, temporary keys); emulators started from one snapshot do not see each
//! other; the state file's bytes read back to the same snapshot; `/_awsemu/snapshots`.

mod common;

use awsemu::faults::FaultRule;
use awsemu::{Emulator, Snapshot};
use common::{post_form, send};
use serde_json::Value;

const START_MS: i64 = 1_750_000_000_000;
const AMI: &str = "ami-0123456789abcdef0";

/// The text between `open` and the next `close`.
fn between<'a>(body: &'a str, open: &str, close: &str) -> &'a str {
    let start = body.find(open).map(|i| i + open.len()).unwrap_or(0);
    let end = body[start..]
        .find(close)
        .map(|i| start + i)
        .unwrap_or(start);
    &body[start..end]
}

/// One call: (service, form body).
type Call = (&'static str, String);

async fn run(emu: &Emulator, calls: &[Call]) -> Vec<String> {
    let mut out = Vec::new();
    for (service, body) in calls {
        let a = post_form(emu.addr(), "test", "test", service, body).await;
        out.push(format!("{} {}", a.status, a.body));
    }
    out
}

/// A world with something of every service in it, a role made through IAM, an STS session, a
/// fault that draws from the seeded generator, and a clock moved on.
async fn build_world(emu: &Emulator) {
    let vpcs = post_form(
        emu.addr(),
        "test",
        "test",
        "ec2",
        "Action=DescribeVpcs&Version=2016-11-15",
    )
    .await;
    let vpc = between(&vpcs.body, "<vpcId>", "</vpcId>").to_string();
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let calls: Vec<Call> = vec![
        ("ec2", "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=10".into()),
        ("ec2", format!("Action=RunInstances&Version=2016-11-15&ImageId={AMI}&MinCount=3&MaxCount=3&InstanceType=t3.micro&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=role&TagSpecification.1.Tag.1.Value=node")),
        ("ec2", format!("Action=CreateSecurityGroup&Version=2016-11-15&GroupName=g1&GroupDescription=d&VpcId={vpc}")),
        ("elasticloadbalancing", "Action=CreateLoadBalancer&Version=2012-06-01&LoadBalancerName=lb1&AvailabilityZones.member.1=us-east-1a&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80&Listeners.member.1.InstancePort=80".into()),
        ("elasticloadbalancing", format!("Action=CreateTargetGroup&Version=2015-12-01&Name=tg1&Protocol=TCP&Port=80&VpcId={vpc}")),
        ("autoscaling", format!("Action=CreateLaunchConfiguration&Version=2011-01-01&LaunchConfigurationName=lc1&ImageId={AMI}&InstanceType=t3.micro")),
        ("autoscaling", "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=asg1&LaunchConfigurationName=lc1&MinSize=1&MaxSize=3&DesiredCapacity=2&AvailabilityZones.member.1=us-east-1a".into()),
        ("iam", format!("Action=CreateRole&Version=2010-05-08&RoleName=made&AssumeRolePolicyDocument={trust}")),
        ("iam", "Action=AttachRolePolicy&Version=2010-05-08&RoleName=made&PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fworker".into()),
        ("sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmade&RoleSessionName=s1".into()),
    ];
    for a in run(emu, &calls).await {
        assert!(a.starts_with("200 "), "{a}");
    }
    // The JSON services, from inside (the scenario runner's calls).
    use awsemu::protocol::ServiceId;
    for (service, action, params) in [
        (
            ServiceId::Kms,
            "CreateKey",
            serde_json::json!({"Description": "k"}),
        ),
        (
            ServiceId::Ecr,
            "CreateRepository",
            serde_json::json!({"repositoryName": "repo1"}),
        ),
        (
            ServiceId::Ecr,
            "InitiateLayerUpload",
            serde_json::json!({"repositoryName": "repo1"}),
        ),
    ] {
        let a =
            awsemu::scenario::calls::call(emu.instance(), service, action, &params, "admin", None)
                .unwrap();
        assert_eq!(a.status, 200, "{a:?}");
    }
    emu.inject(
        FaultRule::new("ec2:DescribeRegions")
            .error("Unavailable", "down", 503)
            .probability(0.5),
    );
    emu.advance(std::time::Duration::from_secs(90));
    // Draw a few times, so the generator's place matters.
    run(
        emu,
        &vec![
            (
                "ec2",
                "Action=DescribeRegions&Version=2016-11-15".to_string()
            );
            3
        ],
    )
    .await;
}

/// What comes after the snapshot: creates of every kind, reads, fault draws, a new session.
fn after() -> Vec<Call> {
    let mut calls: Vec<Call> = vec![
        ("ec2", "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1b&Size=20".into()),
        ("ec2", format!("Action=RunInstances&Version=2016-11-15&ImageId={AMI}&MinCount=2&MaxCount=2&InstanceType=t3.small")),
        ("ec2", "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Arole&Filter.1.Value.1=node".into()),
        ("ec2", "Action=DescribeVolumes&Version=2016-11-15".into()),
        ("ec2", "Action=DescribeSecurityGroups&Version=2016-11-15".into()),
        ("elasticloadbalancing", "Action=DescribeLoadBalancers&Version=2012-06-01".into()),
        ("elasticloadbalancing", "Action=DescribeTargetGroups&Version=2015-12-01".into()),
        ("autoscaling", "Action=DescribeAutoScalingGroups&Version=2011-01-01".into()),
        ("autoscaling", "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=asg1&DesiredCapacity=3".into()),
        ("autoscaling", "Action=DescribeAutoScalingGroups&Version=2011-01-01".into()),
        ("iam", "Action=GetRole&Version=2010-05-08&RoleName=made".into()),
        ("iam", "Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=made".into()),
        ("sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmade&RoleSessionName=s2".into()),
    ];
    calls.extend(vec![
        (
            "ec2",
            "Action=DescribeRegions&Version=2016-11-15".to_string()
        );
        6
    ]);
    calls
}

/// KMS and ECR after the snapshot (from inside, as their answers are JSON).
fn after_json(emu: &Emulator) -> Vec<String> {
    use awsemu::protocol::ServiceId;
    [
        (ServiceId::Kms, "ListKeys", serde_json::json!({})),
        (
            ServiceId::Kms,
            "CreateKey",
            serde_json::json!({"Description": "k2"}),
        ),
        (
            ServiceId::Ecr,
            "DescribeRepositories",
            serde_json::json!({}),
        ),
        (
            ServiceId::Ecr,
            "CreateRepository",
            serde_json::json!({"repositoryName": "repo2"}),
        ),
    ]
    .into_iter()
    .map(|(service, action, params)| {
        let a =
            awsemu::scenario::calls::call(emu.instance(), service, action, &params, "admin", None)
                .unwrap();
        format!("{a:?}")
    })
    .collect()
}

async fn state(emu: &Emulator) -> String {
    send(emu.addr(), "GET", "/_awsemu/state", &[], b"")
        .await
        .body
}

async fn world() -> (Emulator, Snapshot) {
    let emu = Emulator::builder()
        .seed(7)
        .manual_clock(START_MS)
        .start()
        .await
        .unwrap();
    build_world(&emu).await;
    let snapshot = emu.snapshot();
    (emu, snapshot)
}

#[tokio::test]
async fn a_restored_world_answers_as_the_original_did() {
    let (a, snapshot) = world().await;
    let state_then = state(&a).await;
    let mut original = run(&a, &after()).await;
    original.extend(after_json(&a));
    assert!(
        original.iter().filter(|r| r.starts_with("503 ")).count() > 0
            && original.iter().filter(|r| r.starts_with("200 ")).count() > 10,
        "{original:#?}"
    );

    // Another emulator from the snapshot, and the bytes of the state file read back.
    let b = Emulator::builder()
        .from_snapshot(&snapshot)
        .start()
        .await
        .unwrap();
    assert_eq!(state(&b).await, state_then);
    let mut answers = run(&b, &after()).await;
    answers.extend(after_json(&b));
    assert_eq!(answers, original);
    let bytes = snapshot.to_bytes().unwrap();
    let read_back = Snapshot::from_bytes(&bytes).unwrap();
    // Read back, only the ECR upload in progress is gone (its running hash is not kept): from
    // then on the bytes are a fixed point.
    let again = read_back.to_bytes().unwrap();
    assert!(again.len() < bytes.len());
    assert_eq!(
        Snapshot::from_bytes(&again).unwrap().to_bytes().unwrap(),
        again
    );
    let c = Emulator::builder()
        .from_snapshot(&read_back)
        .start()
        .await
        .unwrap();
    let mut answers = run(&c, &after()).await;
    answers.extend(after_json(&c));
    assert_eq!(answers, original);

    // The original itself, restored.
    a.restore(&snapshot).unwrap();
    assert_eq!(state(&a).await, state_then);
    let mut answers = run(&a, &after()).await;
    answers.extend(after_json(&a));
    assert_eq!(answers, original);
}

#[tokio::test]
async fn emulators_from_one_snapshot_do_not_see_each_other() {
    let (_a, snapshot) = world().await;
    let b = Emulator::builder()
        .from_snapshot(&snapshot)
        .start()
        .await
        .unwrap();
    let c = Emulator::builder()
        .from_snapshot(&snapshot)
        .start()
        .await
        .unwrap();
    let create = "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=5";
    let volume = |a: &common::Answer| between(&a.body, "<volumeId>", "</volumeId>").to_string();
    let describe = |id: &str| format!("Action=DescribeVolumes&Version=2016-11-15&VolumeId.1={id}");
    // Both go on from the same ids: the same first volume, each in its own world.
    let x = volume(&post_form(b.addr(), "test", "test", "ec2", create).await);
    assert_eq!(
        volume(&post_form(c.addr(), "test", "test", "ec2", create).await),
        x
    );
    let y = volume(&post_form(b.addr(), "test", "test", "ec2", create).await);
    let seen_by_c = post_form(c.addr(), "test", "test", "ec2", &describe(&y)).await;
    assert_eq!(
        seen_by_c.code(),
        "InvalidVolume.NotFound",
        "{}",
        seen_by_c.body
    );
    b.advance(std::time::Duration::from_secs(3600));
    assert_eq!(c.instance().clock.now_ms(), snapshot.clock_ms());
    // And the snapshot itself did not change.
    let d = Emulator::builder()
        .from_snapshot(&snapshot)
        .start()
        .await
        .unwrap();
    let seen_by_d = post_form(d.addr(), "test", "test", "ec2", &describe(&x)).await;
    assert_eq!(seen_by_d.code(), "InvalidVolume.NotFound");
}

#[tokio::test]
async fn a_snapshot_of_another_account_is_refused() {
    let (_a, snapshot) = world().await;
    let other = Emulator::builder()
        .account_id("111122223333")
        .start()
        .await
        .unwrap();
    let e = other.restore(&snapshot).unwrap_err();
    assert!(e.contains("account 123456789012"), "{e}");
}

async fn admin(emu: &Emulator, method: &str, path: &str) -> (u16, Value) {
    let a = send(emu.addr(), method, path, &[], b"").await;
    (
        a.status,
        serde_json::from_str(&a.body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn snapshots_through_the_admin_endpoints() {
    let emu = Emulator::builder()
        .seed(3)
        .manual_clock(START_MS)
        .start()
        .await
        .unwrap();
    let create = "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=5";
    post_form(emu.addr(), "test", "test", "ec2", create).await;
    let (status, v) = admin(&emu, "POST", "/_awsemu/snapshots").await;
    assert_eq!(
        (status, v["id"].as_str(), v["volumes"].as_u64()),
        (200, Some("snap-1"), Some(1))
    );
    assert_eq!(v["clock_ms"], START_MS);
    let first = post_form(emu.addr(), "test", "test", "ec2", create).await;
    let (_, v) = admin(&emu, "POST", "/_awsemu/snapshots").await;
    assert_eq!(
        (v["id"].as_str(), v["volumes"].as_u64()),
        (Some("snap-2"), Some(2))
    );
    let (status, v) = admin(&emu, "GET", "/_awsemu/snapshots").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = (v["snapshots"].as_array().unwrap().iter())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["snap-1", "snap-2"]);

    let (status, v) = admin(&emu, "POST", "/_awsemu/snapshots/snap-1/restore").await;
    assert_eq!((status, v["restored"].as_str()), (200, Some("snap-1")));
    let again = post_form(emu.addr(), "test", "test", "ec2", create).await;
    assert_eq!(
        again.body, first.body,
        "the same volume and request id, made again"
    );
    // Reset does not forget snapshots.
    emu.reset().unwrap();
    let (status, _) = admin(&emu, "POST", "/_awsemu/snapshots/snap-2/restore").await;
    assert_eq!(status, 200);
    let listed = post_form(
        emu.addr(),
        "test",
        "test",
        "ec2",
        "Action=DescribeVolumes&Version=2016-11-15",
    )
    .await;
    assert_eq!(
        listed.body.matches("<volumeId>").count(),
        2,
        "{}",
        listed.body
    );

    let (status, v) = admin(&emu, "POST", "/_awsemu/snapshots/snap-9/restore").await;
    assert_eq!(status, 404);
    assert!(v["error"].as_str().unwrap().contains("snap-9"), "{v}");
    let (status, _) = admin(&emu, "GET", "/_awsemu/snapshots/snap-1/restore").await;
    assert_eq!(status, 405);
    let (status, _) = admin(&emu, "DELETE", "/_awsemu/snapshots").await;
    assert_eq!(status, 405);
    let (status, v) = admin(&emu, "DELETE", "/_awsemu/snapshots/snap-1").await;
    assert_eq!((status, v["deleted"].as_str()), (200, Some("snap-1")));
    let (status, _) = admin(&emu, "POST", "/_awsemu/snapshots/snap-1/restore").await;
    assert_eq!(status, 404);
    let (status, _) = admin(&emu, "DELETE", "/_awsemu/snapshots/snap-1").await;
    assert_eq!(status, 404);
    let (_, v) = admin(&emu, "POST", "/_awsemu/snapshots").await;
    assert_eq!(v["id"], "snap-3", "ids are not reused");
    let (status, v) = admin(&emu, "POST", "/_awsemu/snapshot").await;
    assert_eq!(status, 409, "no --state-file: {v}");
    assert!(v["error"].as_str().unwrap().contains("--state-file"), "{v}");
}

#[test]
fn damaged_and_foreign_bytes_are_refused_by_name() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "not an awsemu state file"),
        (b"hello\n{}", "not an awsemu state file"),
        (
            b"{\"format\":\"awsemu-state\",\"version\":99,\"body_bytes\":2,\"checksum\":\"0\"}\n{}",
            "state format version 99",
        ),
        (
            b"{\"format\":\"awsemu-state\",\"version\":1,\"body_bytes\":5,\"checksum\":\"0\"}\n{\"a\":",
            "damaged: the state's checksum",
        ),
    ];
    for (bytes, says) in cases {
        let e = Snapshot::from_bytes(bytes).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
