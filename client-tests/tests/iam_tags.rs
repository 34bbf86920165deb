//! Tag condition keys in IAM policies, through aws-sdk-iam/sts/ec2/elasticloadbalancingv2:
//! `aws:RequestTag/KEY` and `aws:TagKeys` from the tags a call asks for, `aws:ResourceTag/KEY` and
//! `ec2:ResourceTag/KEY` from the tags of the resource acted on, and tag on create (a tagged EC2
//! create call also needs `ec2:CreateTags` on the created type, with `ec2:CreateAction`).
//!
//! The main case is the EBS CSI driver's policy (AWS managed `AmazonEBSCSIDriverPolicy`).

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use aws_sdk_elasticloadbalancingv2::types::Tag as LbTag;
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, elbv2_with, expect_err, iam, sts, ClientOptions};

const ACCOUNT: &str = "123456789012";
const AMI: &str = "ami-0123456789abcdef0";
const ACCOUNT_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// The statements of the EBS CSI driver's IAM policy (the AWS managed policy
/// `AmazonEBSCSIDriverPolicy`), as kubernetes-sigs/aws-ebs-csi-driver publishes it in
/// `docs/example-iam-policy.json` (commit 050d130f5814d2e366158058c557a7c25f536441, read
/// 2026-12-02).
const EBS_CSI_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeSnapshots",
                "ec2:DescribeTags", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications",
                "ec2:DescribeVolumeStatus"],
     "Resource": "*"},
    {"Effect": "Allow", "Action": ["ec2:CreateSnapshot", "ec2:ModifyVolume"],
     "Resource": "arn:aws:ec2:*:*:volume/*"},
    {"Effect": "Allow", "Action": ["ec2:CopyVolumes"], "Resource": ["arn:aws:ec2:*:*:volume/vol-*"]},
    {"Effect": "Allow", "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
     "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:instance/*"]},
    {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:EnableFastSnapshotRestores"],
     "Resource": "arn:aws:ec2:*:*:snapshot/*"},
    {"Effect": "Allow", "Action": ["ec2:CreateTags"],
     "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"],
     "Condition": {"StringEquals": {"ec2:CreateAction": ["CreateVolume", "CreateSnapshot", "CopyVolumes"]}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteTags"],
     "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:snapshot/*"]},
    {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:CopyVolumes"], "Resource": "arn:aws:ec2:*:*:volume/*",
     "Condition": {"StringLike": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}}},
    {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:CopyVolumes"], "Resource": "arn:aws:ec2:*:*:volume/*",
     "Condition": {"StringLike": {"aws:RequestTag/CSIVolumeName": "*"}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteVolume"], "Resource": "arn:aws:ec2:*:*:volume/*",
     "Condition": {"StringLike": {"ec2:ResourceTag/ebs.csi.aws.com/cluster": "true"}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteVolume"], "Resource": "arn:aws:ec2:*:*:volume/*",
     "Condition": {"StringLike": {"ec2:ResourceTag/CSIVolumeName": "*"}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteVolume"], "Resource": "arn:aws:ec2:*:*:volume/*",
     "Condition": {"StringLike": {"ec2:ResourceTag/kubernetes.io/created-for/pvc/name": "*"}}},
    {"Effect": "Allow", "Action": ["ec2:CreateSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
     "Condition": {"StringLike": {"aws:RequestTag/CSIVolumeSnapshotName": "*"}}},
    {"Effect": "Allow", "Action": ["ec2:CreateSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
     "Condition": {"StringLike": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
     "Condition": {"StringLike": {"ec2:ResourceTag/CSIVolumeSnapshotName": "*"}}},
    {"Effect": "Allow", "Action": ["ec2:DeleteSnapshot"], "Resource": "arn:aws:ec2:*:*:snapshot/*",
     "Condition": {"StringLike": {"ec2:ResourceTag/ebs.csi.aws.com/cluster": "true"}}}
  ]
}"#;

/// A role `name` holding `policy` inline, and client options for a session of it.
async fn role_session(emu: &Emulator, name: &str, policy: &str) -> ClientOptions {
    let c = iam(emu, "admin");
    c.create_role()
        .role_name(name)
        .assume_role_policy_document(ACCOUNT_TRUST)
        .send()
        .await
        .expect("create role");
    c.put_role_policy()
        .role_name(name)
        .policy_name("policy")
        .policy_document(policy)
        .send()
        .await
        .expect("put role policy");
    let creds = sts(emu, "admin")
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{name}"))
        .role_session_name("s1")
        .send()
        .await
        .expect("assume role")
        .credentials()
        .cloned()
        .expect("credentials");
    let mut o = ClientOptions::keys(emu, creds.access_key_id(), creds.secret_access_key());
    o.session_token = Some(creds.session_token().to_string());
    o
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn spec(rtype: ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rtype);
    for (k, v) in tags {
        b = b.tags(tag(k, v));
    }
    b.build()
}

/// Every volume id of the region, as the admin sees them, sorted.
async fn volume_ids(emu: &Emulator) -> Vec<String> {
    let mut ids = client_tests::fixtures::volume_ids(&ec2(emu, "admin")).await;
    ids.sort();
    ids
}

/// A volume made by the admin, with `tags`.
async fn admin_volume(emu: &Emulator, tags: &[(&str, &str)]) -> String {
    let mut req = ec2(emu, "admin")
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1);
    if !tags.is_empty() {
        req = req.tag_specifications(spec(ResourceType::Volume, tags));
    }
    req.send()
        .await
        .expect("create volume")
        .volume_id()
        .expect("an id")
        .to_string()
}

/// Asserts an EC2 denial of `action` on `resource` by a session of role `role`.
fn assert_denied(err: (String, String, u16), role: &str, action: &str, resource: &str) {
    let (code, message, status) = err;
    assert_eq!(code, "UnauthorizedOperation");
    assert_eq!(status, 403);
    let expected = format!(
        "You are not authorized to perform this operation. User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1 is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action. Encoded authorization failure message: "
    );
    assert!(
        message.starts_with(&expected),
        "{message}\ndoes not start with\n{expected}"
    );
}

const VOLUMES: &str = "arn:aws:ec2:us-east-1:123456789012:volume/*";

#[tokio::test]
async fn ebs_csi_driver_policy_creates_tagged_volumes_and_deletes_its_own() {
    let emu = client_tests::start().await;
    let opts = role_session(&emu, "ebs-csi", EBS_CSI_POLICY).await;
    let e = ec2_with(&emu, &opts);

    // Tagged as the driver tags its volumes: allowed (CreateVolume by the request tag, the tags
    // by CreateTags with ec2:CreateAction = CreateVolume).
    let created = e
        .create_volume()
        .availability_zone("us-east-1a")
        .size(4)
        .tag_specifications(spec(
            ResourceType::Volume,
            &[
                ("ebs.csi.aws.com/cluster", "true"),
                ("CSIVolumeName", "pvc-1"),
            ],
        ))
        .send()
        .await
        .expect("a tagged volume is allowed");
    let csi_volume = created.volume_id().unwrap().to_string();
    let mut tags: Vec<(String, String)> = created
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("CSIVolumeName".to_string(), "pvc-1".to_string()),
            ("ebs.csi.aws.com/cluster".to_string(), "true".to_string())
        ]
    );
    // Either request tag is enough (StringLike "*" also matches the empty value).
    e.create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .tag_specifications(spec(ResourceType::Volume, &[("CSIVolumeName", "")]))
        .send()
        .await
        .expect("CSIVolumeName alone is allowed");

    // Untagged, or with other tags only: refused, nothing made.
    let before = volume_ids(&emu).await;
    let err = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .send()
            .await
    );
    assert_denied(err, "ebs-csi", "ec2:CreateVolume", VOLUMES);
    let err = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .tag_specifications(spec(
                ResourceType::Volume,
                &[("ebs.csi.aws.com/cluster", "false"), ("team", "x")]
            ))
            .send()
            .await
    );
    assert_denied(err, "ebs-csi", "ec2:CreateVolume", VOLUMES);
    assert_eq!(volume_ids(&emu).await, before);

    // DryRun of an allowed tagged call: would succeed.
    let (code, _, status) = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .dry_run(true)
            .tag_specifications(spec(ResourceType::Volume, &[("CSIVolumeName", "x")]))
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("DryRunOperation", 412));

    // CreateTags outside a create call has no ec2:CreateAction: refused on the volume.
    let err = expect_err!(
        e.create_tags()
            .resources(&csi_volume)
            .tags(tag("extra", "1"))
            .send()
            .await
    );
    assert_denied(
        err,
        "ebs-csi",
        "ec2:CreateTags",
        &format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{csi_volume}"),
    );

    // DeleteVolume by the volume's tags: a stranger's volume is refused and stays.
    let foreign = admin_volume(&emu, &[]).await;
    let err = expect_err!(e.delete_volume().volume_id(&foreign).send().await);
    assert_denied(
        err,
        "ebs-csi",
        "ec2:DeleteVolume",
        &format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{foreign}"),
    );
    assert!(volume_ids(&emu).await.contains(&foreign));
    // A wrong value of the cluster tag does not help; the PVC tag does (read at each call).
    ec2(&emu, "admin")
        .create_tags()
        .resources(&foreign)
        .tags(tag("ebs.csi.aws.com/cluster", "false"))
        .send()
        .await
        .unwrap();
    let err = expect_err!(e.delete_volume().volume_id(&foreign).send().await);
    assert_eq!(err.0, "UnauthorizedOperation");
    ec2(&emu, "admin")
        .create_tags()
        .resources(&foreign)
        .tags(tag("kubernetes.io/created-for/pvc/name", "data-0"))
        .send()
        .await
        .unwrap();
    e.delete_volume()
        .volume_id(&foreign)
        .send()
        .await
        .expect("the PVC tag allows DeleteVolume");
    e.delete_volume()
        .volume_id(&csi_volume)
        .send()
        .await
        .expect("the driver deletes its own volume");
    assert!(!volume_ids(&emu).await.contains(&csi_volume));

    // A volume made by the admin with the cluster tag is the driver's to delete too.
    let tagged = admin_volume(&emu, &[("ebs.csi.aws.com/cluster", "true")]).await;
    e.delete_volume().volume_id(&tagged).send().await.unwrap();
}

/// Without `ec2:CreateTags`, a create call may not tag what it makes; untagged it goes through.
#[tokio::test]
async fn tagging_on_create_needs_create_tags() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:CreateVolume","ec2:CreateSecurityGroup"],"Resource":"*"}]}"#;
    let opts = role_session(&emu, "no-tags", policy).await;
    let e = ec2_with(&emu, &opts);
    let before = volume_ids(&emu).await;
    let err = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .tag_specifications(spec(ResourceType::Volume, &[("Name", "data")]))
            .send()
            .await
    );
    assert_denied(err, "no-tags", "ec2:CreateTags", VOLUMES);
    assert_eq!(volume_ids(&emu).await, before);
    // DryRun is refused the same way.
    let err = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .dry_run(true)
            .tag_specifications(spec(ResourceType::Volume, &[("Name", "data")]))
            .send()
            .await
    );
    assert_denied(err, "no-tags", "ec2:CreateTags", VOLUMES);
    let made = e
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .expect("untagged is allowed");
    assert!(made.tags().is_empty());
    // A specification with a type but no tags asks for no tagging.
    e.create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .build(),
        )
        .send()
        .await
        .expect("an empty specification is no tagging");
}

/// `ec2:CreateAction` names the create call; `aws:TagKeys` with `ForAllValues:` limits the keys;
/// `aws:RequestTag` conditions on CreateTags itself.
#[tokio::test]
async fn create_action_and_tag_keys_conditions() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["ec2:CreateVolume","ec2:CreateSecurityGroup","ec2:DescribeVolumes"],"Resource":"*"},
        {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
         "Condition":{"StringEquals":{"ec2:CreateAction":"CreateSecurityGroup"},
                      "ForAllValues:StringEquals":{"aws:TagKeys":["Name","team"]}}},
        {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:volume/*",
         "Condition":{"StringEquals":{"aws:RequestTag/team":"storage"},
                      "ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}
    ]}"#;
    let opts = role_session(&emu, "tagger", policy).await;
    let e = ec2_with(&emu, &opts);
    let sg = |name: &'static str, tags: &'static [(&'static str, &'static str)]| {
        let e = e.clone();
        async move {
            e.create_security_group()
                .group_name(name)
                .description("d")
                .tag_specifications(spec(ResourceType::SecurityGroup, tags))
                .send()
                .await
        }
    };
    let made = sg("a", &[("Name", "web"), ("team", "x")])
        .await
        .expect("CreateSecurityGroup may tag with Name and team");
    assert!(made.group_id().unwrap().starts_with("sg-"));
    let err = expect_err!(sg("b", &[("Name", "web"), ("owner", "me")]).await);
    assert_denied(
        err,
        "tagger",
        "ec2:CreateTags",
        "arn:aws:ec2:us-east-1:123456789012:security-group/*",
    );
    // CreateVolume is not a CreateAction the first statement allows; the second one is about
    // explicit CreateTags with team=storage, which a create call satisfies too.
    let err = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .tag_specifications(spec(ResourceType::Volume, &[("Name", "v")]))
            .send()
            .await
    );
    assert_denied(err, "tagger", "ec2:CreateTags", VOLUMES);
    e.create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .tag_specifications(spec(ResourceType::Volume, &[("team", "storage")]))
        .send()
        .await
        .expect("team=storage is allowed on volumes");

    // Explicit CreateTags on an existing volume: by the request tags.
    let vol = admin_volume(&emu, &[]).await;
    e.create_tags()
        .resources(&vol)
        .tags(tag("team", "storage"))
        .send()
        .await
        .expect("team=storage");
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{vol}");
    let err = expect_err!(
        e.create_tags()
            .resources(&vol)
            .tags(tag("team", "web"))
            .send()
            .await
    );
    assert_denied(err, "tagger", "ec2:CreateTags", &arn);
    let err = expect_err!(
        e.create_tags()
            .resources(&vol)
            .tags(tag("team", "storage"))
            .tags(tag("Name", "x"))
            .send()
            .await
    );
    assert_denied(err, "tagger", "ec2:CreateTags", &arn);
}

/// `ec2:ResourceTag` on instances (TerminateInstances) and the instance and volume of
/// AttachVolume; `aws:ResourceTag` works alike; a missing tag never matches.
#[tokio::test]
async fn resource_tags_of_instances_and_volumes() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"arn:aws:ec2:*:*:instance/*",
         "Condition":{"StringEquals":{"ec2:ResourceTag/owner":"me"}}},
        {"Effect":"Allow","Action":"ec2:AttachVolume","Resource":"*",
         "Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}},
        {"Effect":"Deny","Action":"ec2:AttachVolume","Resource":"*",
         "Condition":{"StringEquals":{"aws:ResourceTag/locked":"yes"}}}
    ]}"#;
    let opts = role_session(&emu, "ops", policy).await;
    let e = ec2_with(&emu, &opts);
    let admin = ec2(&emu, "admin");
    let run = |tags: &'static [(&'static str, &'static str)]| {
        let admin = admin.clone();
        async move {
            admin
                .run_instances()
                .image_id(AMI)
                .min_count(1)
                .max_count(1)
                .placement(
                    aws_sdk_ec2::types::Placement::builder()
                        .availability_zone("us-east-1a")
                        .build(),
                )
                .tag_specifications(spec(ResourceType::Instance, tags))
                .send()
                .await
                .expect("run instances")
                .instances()[0]
                .instance_id()
                .unwrap()
                .to_string()
        }
    };
    let mine = run(&[("owner", "me"), ("env", "dev")]).await;
    let theirs = run(&[("owner", "you"), ("env", "dev")]).await;
    let arn = |id: &str| format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}");

    // AttachVolume is checked on the instance and on the volume: both need env=dev.
    let untagged = admin_volume(&emu, &[]).await;
    let err = expect_err!(
        e.attach_volume()
            .instance_id(&mine)
            .volume_id(&untagged)
            .device("/dev/sdf")
            .send()
            .await
    );
    assert_denied(
        err,
        "ops",
        "ec2:AttachVolume",
        &format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{untagged}"),
    );
    let locked = admin_volume(&emu, &[("env", "dev"), ("locked", "yes")]).await;
    let (code, message, status) = expect_err!(
        e.attach_volume()
            .instance_id(&mine)
            .volume_id(&locked)
            .device("/dev/sdf")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert!(
        message.contains("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    let dev = admin_volume(&emu, &[("env", "dev")]).await;
    let attached = e
        .attach_volume()
        .instance_id(&mine)
        .volume_id(&dev)
        .device("/dev/sdf")
        .send()
        .await
        .expect("env=dev on both");
    assert_eq!(attached.volume_id(), Some(dev.as_str()));
    // Without env=dev on the instance (its tag deleted since): refused on the instance.
    let other = admin_volume(&emu, &[("env", "dev")]).await;
    ec2(&emu, "admin")
        .delete_tags()
        .resources(&theirs)
        .tags(Tag::builder().key("env").build())
        .send()
        .await
        .unwrap();
    let err = expect_err!(
        e.attach_volume()
            .instance_id(&theirs)
            .volume_id(&other)
            .device("/dev/sdg")
            .send()
            .await
    );
    assert_denied(err, "ops", "ec2:AttachVolume", &arn(&theirs));

    // TerminateInstances: by the owner tag, each instance on its own.
    let err = expect_err!(
        e.terminate_instances()
            .instance_ids(&mine)
            .instance_ids(&theirs)
            .send()
            .await
    );
    assert_denied(err, "ops", "ec2:TerminateInstances", &arn(&theirs));
    let out = e
        .terminate_instances()
        .instance_ids(&mine)
        .send()
        .await
        .expect("my instance");
    assert_eq!(
        out.terminating_instances()[0].instance_id(),
        Some(mine.as_str())
    );
}

/// ELBv2, as the AWS Load Balancer Controller's policy conditions it: create calls by
/// `aws:RequestTag` (their tags by `elasticloadbalancing:AddTags` with
/// `elasticloadbalancing:CreateAction`), changes to existing resources by `aws:ResourceTag`.
#[tokio::test]
async fn elbv2_target_groups_by_request_and_resource_tags() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"elasticloadbalancing:CreateTargetGroup","Resource":"*",
         "Condition":{"Null":{"aws:RequestTag/elbv2.k8s.aws/cluster":"false"}}},
        {"Effect":"Allow","Action":"elasticloadbalancing:AddTags",
         "Resource":["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*","arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*","arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"],
         "Condition":{"StringEquals":{"elasticloadbalancing:CreateAction":["CreateTargetGroup","CreateLoadBalancer"]},
                      "Null":{"aws:RequestTag/elbv2.k8s.aws/cluster":"false"}}},
        {"Effect":"Allow","Action":["elasticloadbalancing:DeleteTargetGroup","elasticloadbalancing:AddTags"],"Resource":"*",
         "Condition":{"Null":{"aws:ResourceTag/elbv2.k8s.aws/cluster":"false"}}}
    ]}"#;
    let opts = role_session(&emu, "lbc", policy).await;
    let lb = elbv2_with(&emu, &opts);
    let admin_lb = client_tests::elbv2(&emu, "admin");
    let vpc = ec2(&emu, "admin")
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let cluster_tag = LbTag::builder()
        .key("elbv2.k8s.aws/cluster")
        .value("c1")
        .build();
    let ours = lb
        .create_target_group()
        .name("ours")
        .vpc_id(&vpc)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Tcp)
        .port(80)
        .tags(cluster_tag.clone())
        .send()
        .await
        .expect("tagged with the cluster tag")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let (code, message, status) = expect_err!(
        lb.create_target_group()
            .name("untagged")
            .vpc_id(&vpc)
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Tcp)
            .port(80)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(
        message,
        format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/lbc/s1 is not authorized to perform: elasticloadbalancing:CreateTargetGroup because no identity-based policy allows the elasticloadbalancing:CreateTargetGroup action")
    );
    let theirs = admin_lb
        .create_target_group()
        .name("theirs")
        .vpc_id(&vpc)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Tcp)
        .port(80)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    // AddTags on a target group without the cluster tag: refused on that ARN.
    let (code, message, _) = expect_err!(
        lb.add_tags()
            .resource_arns(&theirs)
            .tags(cluster_tag.clone())
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    assert!(
        message.contains(&format!(
            "elasticloadbalancing:AddTags on resource: {theirs}"
        )),
        "{message}"
    );
    let (code, _, _) = expect_err!(
        lb.delete_target_group()
            .target_group_arn(&theirs)
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    lb.delete_target_group()
        .target_group_arn(&ours)
        .send()
        .await
        .expect("our target group");
    let left = admin_lb.describe_target_groups().send().await.unwrap();
    let names: Vec<&str> = left
        .target_groups()
        .iter()
        .filter_map(|t| t.target_group_name())
        .collect();
    assert_eq!(names, vec!["theirs"]);
}

/// A tagged ELBv2 create call also needs `elasticloadbalancing:AddTags`; untagged it does not.
#[tokio::test]
async fn elbv2_tagging_on_create_needs_add_tags() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["elasticloadbalancing:CreateTargetGroup","elasticloadbalancing:DescribeTargetGroups"],"Resource":"*"},
        {"Effect":"Allow","Action":"elasticloadbalancing:AddTags","Resource":"*",
         "Condition":{"StringEquals":{"elasticloadbalancing:CreateAction":"CreateLoadBalancer"}}}
    ]}"#;
    let opts = role_session(&emu, "tg-maker", policy).await;
    let lb = elbv2_with(&emu, &opts);
    let vpc = ec2(&emu, "admin")
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let create = |name: &'static str, tagged: bool| {
        let lb = lb.clone();
        let vpc = vpc.clone();
        async move {
            let mut req = lb
                .create_target_group()
                .name(name)
                .vpc_id(vpc)
                .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Tcp)
                .port(80);
            if tagged {
                req = req.tags(LbTag::builder().key("team").value("web").build());
            }
            req.send().await
        }
    };
    // CreateAction is CreateTargetGroup here, which the AddTags statement does not name.
    let (code, message, status) = expect_err!(create("tagged", true).await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(
        message,
        format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/tg-maker/s1 is not authorized to perform: elasticloadbalancing:AddTags on resource: arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/tagged/* because no identity-based policy allows the elasticloadbalancing:AddTags action")
    );
    create("plain", false).await.expect("untagged is allowed");
    let all = lb.describe_target_groups().send().await.unwrap();
    let names: Vec<&str> = all
        .target_groups()
        .iter()
        .filter_map(|t| t.target_group_name())
        .collect();
    assert_eq!(names, vec!["plain"]);
}

/// Classic load balancers: `aws:ResourceTag` and `elasticloadbalancing:ResourceTag` from the load
/// balancer's tags; RemoveTags' keys are `aws:TagKeys`.
#[tokio::test]
async fn classic_load_balancers_by_resource_tags_and_tag_keys() {
    use aws_sdk_elasticloadbalancing::types::{Listener, Tag as ElbTag, TagKeyOnly};
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"elasticloadbalancing:DeleteLoadBalancer","Resource":"*",
         "Condition":{"StringEquals":{"elasticloadbalancing:ResourceTag/owner":"me"}}},
        {"Effect":"Allow","Action":"elasticloadbalancing:RemoveTags","Resource":"*",
         "Condition":{"StringEquals":{"aws:ResourceTag/owner":"me"},
                      "ForAllValues:StringEquals":{"aws:TagKeys":["temp"]}}}
    ]}"#;
    let opts = role_session(&emu, "elb-ops", policy).await;
    let me = client_tests::elb_with(&emu, &opts);
    let admin = client_tests::elb(&emu, "admin");
    for (name, owner) in [("mine", "me"), ("theirs", "you")] {
        admin
            .create_load_balancer()
            .load_balancer_name(name)
            .listeners(
                Listener::builder()
                    .protocol("tcp")
                    .load_balancer_port(80)
                    .instance_port(30080)
                    .build()
                    .unwrap(),
            )
            .availability_zones("us-east-1a")
            .tags(ElbTag::builder().key("owner").value(owner).build().unwrap())
            .tags(ElbTag::builder().key("temp").value("1").build().unwrap())
            .send()
            .await
            .expect("create load balancer");
    }
    let arn = |name: &str| {
        format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/{name}")
    };
    let key = |k: &str| TagKeyOnly::builder().key(k).build();

    me.remove_tags()
        .load_balancer_names("mine")
        .tags(key("temp"))
        .send()
        .await
        .expect("temp may go");
    let (code, message, status) = expect_err!(
        me.remove_tags()
            .load_balancer_names("mine")
            .tags(key("owner"))
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(
        message.contains(&format!(
            "elasticloadbalancing:RemoveTags on resource: {}",
            arn("mine")
        )),
        "{message}"
    );
    let (code, _, _) = expect_err!(
        me.remove_tags()
            .load_balancer_names("theirs")
            .tags(key("temp"))
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");

    let (code, message, _) = expect_err!(
        me.delete_load_balancer()
            .load_balancer_name("theirs")
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        message,
        format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/elb-ops/s1 is not authorized to perform: elasticloadbalancing:DeleteLoadBalancer on resource: {} because no identity-based policy allows the elasticloadbalancing:DeleteLoadBalancer action", arn("theirs"))
    );
    me.delete_load_balancer()
        .load_balancer_name("mine")
        .send()
        .await
        .expect("owner=me");
    let left = admin.describe_load_balancers().send().await.unwrap();
    let names: Vec<&str> = left
        .load_balancer_descriptions()
        .iter()
        .filter_map(|d| d.load_balancer_name())
        .collect();
    assert_eq!(names, vec!["theirs"]);
}

/// RunInstances tags two types: each needs its own `ec2:CreateTags`; DeleteTags' keys are
/// `aws:TagKeys`.
#[tokio::test]
async fn run_instances_tags_each_type_and_delete_tags_keys() {
    let emu = client_tests::start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["ec2:RunInstances","ec2:DescribeInstances"],"Resource":"*"},
        {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:instance/*",
         "Condition":{"StringEquals":{"ec2:CreateAction":"RunInstances"}}},
        {"Effect":"Allow","Action":"ec2:DeleteTags","Resource":"*",
         "Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["tmp-*"]}}}
    ]}"#;
    let opts = role_session(&emu, "launcher", policy).await;
    let e = ec2_with(&emu, &opts);
    let run = |specs: Vec<TagSpecification>| {
        let e = e.clone();
        async move {
            e.run_instances()
                .image_id(AMI)
                .min_count(1)
                .max_count(1)
                .set_tag_specifications(Some(specs))
                .send()
                .await
        }
    };
    let out = run(vec![spec(
        ResourceType::Instance,
        &[("Name", "web"), ("tmp-build", "1")],
    )])
    .await
    .expect("instance tags are allowed");
    let id = out.instances()[0].instance_id().unwrap().to_string();
    let err = expect_err!(
        run(vec![
            spec(ResourceType::Instance, &[("Name", "web")]),
            spec(ResourceType::Volume, &[("Name", "root")]),
        ])
        .await
    );
    assert_denied(err, "launcher", "ec2:CreateTags", VOLUMES);
    let running: usize = ec2(&emu, "admin")
        .describe_instances()
        .send()
        .await
        .unwrap()
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(running, 1, "the refused launch made nothing");

    e.delete_tags()
        .resources(&id)
        .tags(Tag::builder().key("tmp-build").build())
        .send()
        .await
        .expect("tmp-* keys may go");
    let err = expect_err!(
        e.delete_tags()
            .resources(&id)
            .tags(Tag::builder().key("Name").build())
            .send()
            .await
    );
    assert_denied(
        err,
        "launcher",
        "ec2:DeleteTags",
        &format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}"),
    );
}
