//! EC2 instances and images through aws-sdk-ec2: launch, describe, filters, pagination, the state
//! machine and its waiters under every timing profile, attributes, idempotency and errors.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    AttachmentStatus, AttributeBooleanValue, AttributeValue, BlockDeviceMapping, EbsBlockDevice,
    Filter, IamInstanceProfileSpecification, InstanceAttributeName, InstanceStateName,
    InstanceType, Placement, ResourceType, Tag, TagSpecification, VolumeState,
};
use aws_sdk_ec2::Client;
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, expect_err, start, ClientOptions, Waiting};

const AMI: &str = "ami-0123456789abcdef0";

/// An admin client whose waiters poll quickly (waiter delays shrunk a thousandfold).
fn quick(emu: &Emulator) -> Client {
    ec2_with(
        emu,
        &ClientOptions::principal(emu, "admin").waiting(Waiting::Scaled(1000)),
    )
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

async fn run(c: &Client, n: i32) -> aws_sdk_ec2::operation::run_instances::RunInstancesOutput {
    c.run_instances()
        .image_id(AMI)
        .min_count(n)
        .max_count(n)
        .send()
        .await
        .expect("run instances")
}

async fn describe(c: &Client, id: &str) -> aws_sdk_ec2::types::Instance {
    let out = c
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("describe");
    out.reservations()[0].instances()[0].clone()
}

fn state(i: &aws_sdk_ec2::types::Instance) -> InstanceStateName {
    i.state().and_then(|s| s.name()).cloned().unwrap()
}

#[tokio::test]
async fn run_instances_answers_pending_with_the_network_and_root_volume() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    // A launch naming a key pair needs one (InvalidKeyPair.NotFound otherwise, as in AWS).
    c.create_key_pair()
        .key_name("ops")
        .key_type(aws_sdk_ec2::types::KeyType::Ed25519)
        .send()
        .await
        .unwrap();
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .instance_type(InstanceType::T3Medium)
        .key_name("ops")
        .placement(Placement::builder().availability_zone("us-east-1b").build())
        .send()
        .await
        .unwrap();
    assert!(out.reservation_id().unwrap().starts_with("r-"));
    assert_eq!(out.owner_id(), Some("123456789012"));
    let i = &out.instances()[0];
    assert_eq!(state(i), InstanceStateName::Pending);
    assert_eq!(i.state().unwrap().code(), Some(0));
    assert_eq!(i.state_reason().and_then(|r| r.code()), Some("pending"));
    let id = i.instance_id().unwrap().to_string();
    assert!(id.starts_with("i-") && id.len() == 19, "{id}");
    assert_eq!(i.image_id(), Some(AMI));
    assert_eq!(i.instance_type(), Some(&InstanceType::T3Medium));
    assert_eq!(i.key_name(), Some("ops"));
    assert_eq!(i.ami_launch_index(), Some(0));
    assert_eq!(
        i.placement().and_then(|p| p.availability_zone()),
        Some("us-east-1b")
    );
    // us-east-1b's default subnet is 172.31.16.0/20: the first address AWS hands out is .4.
    assert_eq!(i.private_ip_address(), Some("172.31.16.4"));
    assert_eq!(i.private_dns_name(), Some("ip-172-31-16-4.ec2.internal"));
    assert_eq!(i.public_dns_name(), Some(""));
    assert!(i.subnet_id().unwrap().starts_with("subnet-"));
    assert!(i.vpc_id().unwrap().starts_with("vpc-"));
    assert_eq!(i.source_dest_check(), Some(true));
    assert_eq!(i.security_groups().len(), 1);
    assert_eq!(i.security_groups()[0].group_name(), Some("default"));
    assert_eq!(
        i.architecture(),
        Some(&aws_sdk_ec2::types::ArchitectureValues::X8664)
    );
    assert_eq!(i.root_device_name(), Some("/dev/xvda"));
    assert_eq!(
        i.root_device_type(),
        Some(&aws_sdk_ec2::types::DeviceType::Ebs)
    );
    let eni = &i.network_interfaces()[0];
    assert!(eni.network_interface_id().unwrap().starts_with("eni-"));
    assert_eq!(eni.mac_address().unwrap().len(), 17);
    assert_eq!(eni.private_ip_address(), Some("172.31.16.4"));
    assert_eq!(eni.subnet_id(), i.subnet_id());
    assert_eq!(eni.groups().len(), 1);
    let bdm = &i.block_device_mappings()[0];
    assert_eq!(bdm.device_name(), Some("/dev/xvda"));
    let ebs = bdm.ebs().unwrap();
    assert_eq!(ebs.status(), Some(&AttachmentStatus::Attached));
    assert_eq!(ebs.delete_on_termination(), Some(true));
    let vol_id = ebs.volume_id().unwrap().to_string();

    // Instant timing: the next observation sees the end state.
    let seen = describe(&c, &id).await;
    assert_eq!(state(&seen), InstanceStateName::Running);
    assert_eq!(seen.state().unwrap().code(), Some(16));
    assert!(seen.state_reason().is_none());
    assert!(seen.launch_time().is_some());

    // The root volume is a real volume: 8 GiB gp3, in use, attached.
    let vols = c
        .describe_volumes()
        .volume_ids(&vol_id)
        .send()
        .await
        .unwrap();
    let v = &vols.volumes()[0];
    assert_eq!(v.size(), Some(8));
    assert_eq!(v.volume_type().map(|t| t.as_str()), Some("gp3"));
    assert_eq!(v.state(), Some(&VolumeState::InUse));
    assert_eq!(v.availability_zone(), Some("us-east-1b"));
    let a = &v.attachments()[0];
    assert_eq!(a.instance_id(), Some(id.as_str()));
    assert_eq!(a.device(), Some("/dev/xvda"));
}

#[tokio::test]
async fn addresses_are_handed_out_in_order_within_one_reservation() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = run(&c, 3).await;
    let ips: Vec<&str> = out
        .instances()
        .iter()
        .filter_map(|i| i.private_ip_address())
        .collect();
    assert_eq!(ips, vec!["172.31.0.4", "172.31.0.5", "172.31.0.6"]);
    let idx: Vec<i32> = out
        .instances()
        .iter()
        .filter_map(|i| i.ami_launch_index())
        .collect();
    assert_eq!(idx, vec![0, 1, 2]);
    let d = c.describe_instances().send().await.unwrap();
    assert_eq!(d.reservations().len(), 1);
    assert_eq!(d.reservations()[0].instances().len(), 3);
    // A terminated instance gives its address back.
    let first = out.instances()[0].instance_id().unwrap();
    c.terminate_instances()
        .instance_ids(first)
        .send()
        .await
        .unwrap();
    let again = run(&c, 1).await;
    assert_eq!(
        again.instances()[0].private_ip_address(),
        Some("172.31.0.4")
    );
}

#[tokio::test]
async fn private_dns_names_take_the_region_form_and_regions_are_apart() {
    let emu = start().await;
    let eu = ec2_with(
        &emu,
        &ClientOptions::principal(&emu, "admin").region("eu-west-1"),
    );
    let out = run(&eu, 1).await;
    let i = &out.instances()[0];
    assert_eq!(i.private_ip_address(), Some("172.31.0.4"));
    assert_eq!(
        i.private_dns_name(),
        Some("ip-172-31-0-4.eu-west-1.compute.internal")
    );
    assert!(i
        .placement()
        .unwrap()
        .availability_zone()
        .unwrap()
        .starts_with("eu-west-1"));
    let id = i.instance_id().unwrap();
    let us = ec2(&emu, "admin");
    let (code, msg, status) = expect_err!(us.describe_instances().instance_ids(id).send().await);
    assert_eq!((code.as_str(), status), ("InvalidInstanceID.NotFound", 400));
    assert!(msg.contains(id), "{msg}");
}

#[tokio::test]
async fn run_instances_refuses_bad_launches_and_changes_nothing() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let base = || c.run_instances().image_id(AMI).min_count(1).max_count(1);
    let (code, _, _) = expect_err!(
        c.run_instances()
            .image_id("ami-xyz")
            .min_count(1)
            .max_count(1)
            .send()
            .await
    );
    assert_eq!(code, "InvalidAMIID.Malformed");
    let (code, msg, _) = expect_err!(
        c.run_instances()
            .image_id(AMI)
            .min_count(3)
            .max_count(2)
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue", "{msg}");
    let (code, msg, _) = expect_err!(base().subnet_id("subnet-0123456789abcdef0").send().await);
    assert_eq!(code, "InvalidSubnetID.NotFound");
    assert!(msg.contains("subnet-0123456789abcdef0"), "{msg}");
    let (code, msg, _) = expect_err!(
        base()
            .security_group_ids("sg-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(msg.contains("sg-0123456789abcdef0"), "{msg}");
    let (code, _, _) = expect_err!(base().security_groups("no-such-group").send().await);
    assert_eq!(code, "InvalidGroup.NotFound");
    let (code, _, _) = expect_err!(
        base()
            .placement(Placement::builder().availability_zone("us-east-1z").build())
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    // A subnet of one zone with a placement in another.
    let subnets = c
        .describe_subnets()
        .filters(filter("availability-zone", "us-east-1a"))
        .send()
        .await;
    if let Ok(subnets) = subnets {
        if let Some(s) = subnets.subnets().first() {
            let (code, msg, _) = expect_err!(
                base()
                    .subnet_id(s.subnet_id().unwrap())
                    .placement(Placement::builder().availability_zone("us-east-1b").build())
                    .send()
                    .await
            );
            assert_eq!(code, "InvalidParameterValue", "{msg}");
        }
    }
    let (code, _, _) = expect_err!(
        base()
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name("nodes")
                    .arn("arn:aws:iam::123456789012:instance-profile/nodes")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterCombination");
    let (code, _, _) = expect_err!(
        base()
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .arn("arn:aws:iam::123456789012:role/nodes")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, _, _) = expect_err!(
        base()
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Vpc)
                    .tags(Tag::builder().key("a").value("b").build())
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let d = c.describe_instances().send().await.unwrap();
    assert!(d.reservations().is_empty());
}

#[tokio::test]
async fn instance_profiles_tags_and_filters() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let tagged = c
        .run_instances()
        .image_id(AMI)
        .min_count(2)
        .max_count(2)
        .instance_type(InstanceType::M5Large)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name("worker")
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(
                    Tag::builder()
                        .key("kubernetes.io/cluster/c1")
                        .value("owned")
                        .build(),
                )
                .tags(Tag::builder().key("Name").value("node").build())
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(Tag::builder().key("team").value("storage").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let i = &tagged.instances()[0];
    let profile = i.iam_instance_profile().unwrap();
    assert_eq!(
        profile.arn(),
        Some("arn:aws:iam::123456789012:instance-profile/worker")
    );
    let pid = profile.id().unwrap();
    assert!(pid.starts_with("AIPA") && pid.len() == 21, "{pid}");
    assert_eq!(
        tagged.instances()[1].iam_instance_profile().unwrap().id(),
        Some(pid)
    );
    assert_eq!(i.tags().len(), 2);
    let root = i.block_device_mappings()[0]
        .ebs()
        .unwrap()
        .volume_id()
        .unwrap();
    let v = c.describe_volumes().volume_ids(root).send().await.unwrap();
    assert_eq!(v.volumes()[0].tags()[0].key(), Some("team"));

    let other = run(&c, 1).await;
    let other_id = other.instances()[0].instance_id().unwrap().to_string();
    c.stop_instances()
        .instance_ids(&other_id)
        .send()
        .await
        .unwrap();

    let count = |filters: Vec<Filter>| {
        let c = c.clone();
        async move {
            let out = c
                .describe_instances()
                .set_filters(Some(filters))
                .send()
                .await
                .unwrap();
            out.reservations()
                .iter()
                .map(|r| r.instances().len())
                .sum::<usize>()
        }
    };
    let id = i.instance_id().unwrap();
    let ip = i.private_ip_address().unwrap();
    let dns = i.private_dns_name().unwrap();
    let eni = i.network_interfaces()[0].network_interface_id().unwrap();
    let sg = i.security_groups()[0].group_id().unwrap();
    let vpc = i.vpc_id().unwrap();
    let subnet = i.subnet_id().unwrap();
    assert_eq!(
        count(vec![filter("tag:kubernetes.io/cluster/c1", "owned")]).await,
        2
    );
    assert_eq!(
        count(vec![filter("tag:kubernetes.io/cluster/c1", "shared")]).await,
        0
    );
    assert_eq!(
        count(vec![filter("tag-key", "kubernetes.io/cluster/*")]).await,
        2
    );
    assert_eq!(count(vec![filter("tag-value", "node")]).await, 2);
    assert_eq!(count(vec![filter("instance-id", id)]).await, 1);
    assert_eq!(
        count(vec![filter("instance-state-name", "running")]).await,
        2
    );
    assert_eq!(
        count(vec![filter("instance-state-name", "stopped")]).await,
        1
    );
    assert_eq!(count(vec![filter("instance-state-code", "80")]).await, 1);
    assert_eq!(count(vec![filter("private-ip-address", ip)]).await, 1);
    assert_eq!(count(vec![filter("private-dns-name", dns)]).await, 1);
    assert_eq!(
        count(vec![filter("network-interface.network-interface-id", eni)]).await,
        1
    );
    assert_eq!(count(vec![filter("instance.group-id", sg)]).await, 3);
    assert_eq!(
        count(vec![filter("instance.group-name", "default")]).await,
        3
    );
    assert_eq!(count(vec![filter("vpc-id", vpc)]).await, 3);
    assert_eq!(count(vec![filter("subnet-id", subnet)]).await, 3);
    assert_eq!(
        count(vec![filter("availability-zone", "us-east-1a")]).await,
        3
    );
    assert_eq!(
        count(vec![filter("availability-zone", "us-east-1b")]).await,
        0
    );
    assert_eq!(count(vec![filter("instance-type", "m5.large")]).await, 2);
    assert_eq!(count(vec![filter("image-id", AMI)]).await, 3);
    assert_eq!(
        count(vec![filter(
            "iam-instance-profile.arn",
            "arn:aws:iam::123456789012:instance-profile/worker"
        )])
        .await,
        2
    );
    // Filters are AND-ed, values OR-ed.
    assert_eq!(
        count(vec![
            filter("instance-type", "m5.large"),
            filter("instance-state-name", "stopped")
        ])
        .await,
        0
    );
    let either = Filter::builder()
        .name("instance-state-name")
        .values("running")
        .values("stopped")
        .build();
    assert_eq!(count(vec![either]).await, 3);
    let (code, msg, _) = expect_err!(
        c.describe_instances()
            .filters(filter("bogus", "x"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.contains("bogus"), "{msg}");
}

#[tokio::test]
async fn describe_instances_pages_and_refuses_bad_ids() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    run(&c, 4).await;
    run(&c, 3).await;
    let first = c.describe_instances().max_results(5).send().await.unwrap();
    let n: usize = first
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(n, 5);
    let token = first.next_token().expect("a next page").to_string();
    let second = c
        .describe_instances()
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    let n: usize = second
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(n, 2);
    assert!(second.next_token().is_none());
    // The SDK's paginator walks every page.
    let pages: Vec<_> = c
        .describe_instances()
        .max_results(5)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let total: usize = pages
        .iter()
        .flat_map(|p| p.reservations())
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(total, 7);
    let (code, _, _) = expect_err!(c.describe_instances().max_results(4).send().await);
    assert_eq!(code, "InvalidParameterValue");
    let (code, _, _) = expect_err!(
        c.describe_instances()
            .max_results(5)
            .instance_ids("i-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterCombination");
    let (code, msg, status) = expect_err!(
        c.describe_instances()
            .instance_ids("i-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("InvalidInstanceID.NotFound", 400));
    assert_eq!(msg, "The instance ID 'i-0123456789abcdef0' does not exist");
    let (code, _, _) = expect_err!(c.describe_instances().instance_ids("i-nope").send().await);
    assert_eq!(code, "InvalidInstanceID.Malformed");
}

#[tokio::test]
async fn client_token_makes_run_instances_idempotent() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let launch = || {
        c.run_instances()
            .image_id(AMI)
            .min_count(2)
            .max_count(2)
            .client_token("launch-1")
    };
    let a = launch().send().await.unwrap();
    let b = launch().send().await.unwrap();
    assert_eq!(a.reservation_id(), b.reservation_id());
    let ids = |o: &aws_sdk_ec2::operation::run_instances::RunInstancesOutput| {
        o.instances()
            .iter()
            .map(|i| i.instance_id().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(b.instances()[0].client_token(), Some("launch-1"));
    let all = c.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 1);
    let (code, _, _) = expect_err!(
        c.run_instances()
            .image_id("ami-0123456789abcdef1")
            .min_count(1)
            .max_count(1)
            .client_token("launch-1")
            .send()
            .await
    );
    assert_eq!(code, "IdempotentParameterMismatch");
    let (code, msg, _) = expect_err!(
        c.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .client_token("t".repeat(65))
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        msg,
        "Client token must be less than or equal to 64 characters"
    );
    let all = c.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 1, "nothing was launched");

    // A token whose instances are all terminated is refused, as EC2 has done since 2025.
    c.terminate_instances()
        .set_instance_ids(Some(ids(&a)))
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(launch().send().await);
    assert_eq!(code, "IdempotentInstanceTerminated");
    assert!(
        msg.contains("associated with a terminated instance"),
        "{msg}"
    );
}

#[tokio::test]
async fn stop_start_terminate_under_instant_timing() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdf")
                .ebs(
                    EbsBlockDevice::builder()
                        .volume_size(20)
                        .delete_on_termination(false)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let i = &out.instances()[0];
    let id = i.instance_id().unwrap().to_string();
    let vols: Vec<(String, bool)> = i
        .block_device_mappings()
        .iter()
        .map(|m| {
            let e = m.ebs().unwrap();
            (
                e.volume_id().unwrap().to_string(),
                e.delete_on_termination().unwrap(),
            )
        })
        .collect();
    assert_eq!(vols.len(), 2);
    let root = vols.iter().find(|(_, dot)| *dot).unwrap().0.clone();
    let data = vols.iter().find(|(_, dot)| !*dot).unwrap().0.clone();

    let stop = c.stop_instances().instance_ids(&id).send().await.unwrap();
    let ch = &stop.stopping_instances()[0];
    assert_eq!(ch.instance_id(), Some(id.as_str()));
    assert_eq!(
        ch.previous_state().unwrap().name(),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(
        ch.current_state().unwrap().name(),
        Some(&InstanceStateName::Stopping)
    );
    let seen = describe(&c, &id).await;
    assert_eq!(state(&seen), InstanceStateName::Stopped);
    assert_eq!(
        seen.state_reason().and_then(|r| r.code()),
        Some("Client.UserInitiatedShutdown")
    );
    assert!(seen
        .state_transition_reason()
        .unwrap()
        .starts_with("User initiated ("));
    // Stopping a stopped instance is a no-op answer.
    let again = c.stop_instances().instance_ids(&id).send().await.unwrap();
    let ch = &again.stopping_instances()[0];
    assert_eq!(
        ch.previous_state().unwrap().name(),
        Some(&InstanceStateName::Stopped)
    );
    assert_eq!(
        ch.current_state().unwrap().name(),
        Some(&InstanceStateName::Stopped)
    );
    let st = c.start_instances().instance_ids(&id).send().await.unwrap();
    let ch = &st.starting_instances()[0];
    assert_eq!(
        ch.current_state().unwrap().name(),
        Some(&InstanceStateName::Pending)
    );
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Running);

    let t = c
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let ch = &t.terminating_instances()[0];
    assert_eq!(
        ch.previous_state().unwrap().name(),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(
        ch.current_state().unwrap().name(),
        Some(&InstanceStateName::ShuttingDown)
    );
    let gone = describe(&c, &id).await;
    assert_eq!(state(&gone), InstanceStateName::Terminated);
    assert_eq!(gone.state().unwrap().code(), Some(48));
    assert!(gone.block_device_mappings().is_empty());
    assert!(gone.private_ip_address().is_none());
    // The root volume went with it; the other stays, available.
    let (code, _, _) = expect_err!(c.describe_volumes().volume_ids(&root).send().await);
    assert_eq!(code, "InvalidVolume.NotFound");
    let v = c.describe_volumes().volume_ids(&data).send().await.unwrap();
    assert_eq!(v.volumes()[0].state(), Some(&VolumeState::Available));
    assert!(v.volumes()[0].attachments().is_empty());

    let (code, msg, _) = expect_err!(c.start_instances().instance_ids(&id).send().await);
    assert_eq!(code, "IncorrectInstanceState", "{msg}");
    let (code, _, _) = expect_err!(c.stop_instances().instance_ids(&id).send().await);
    assert_eq!(code, "IncorrectInstanceState");
    let t = c
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.terminating_instances()[0].current_state().unwrap().name(),
        Some(&InstanceStateName::Terminated)
    );
    let (code, _, _) = expect_err!(
        c.terminate_instances()
            .instance_ids("i-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstanceID.NotFound");
}

#[tokio::test]
async fn termination_protection_refuses_terminate() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .disable_api_termination(true)
        .send()
        .await
        .unwrap();
    let id = out.instances()[0].instance_id().unwrap();
    let (code, _, _) = expect_err!(c.terminate_instances().instance_ids(id).send().await);
    assert_eq!(code, "OperationNotPermitted");
    c.modify_instance_attribute()
        .instance_id(id)
        .disable_api_termination(AttributeBooleanValue::builder().value(false).build())
        .send()
        .await
        .unwrap();
    c.terminate_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn terminated_instances_stay_visible_for_an_hour_then_vanish() {
    let emu = Emulator::builder()
        .seed(3)
        .manual_clock(1_700_000_000_000)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let out = run(&c, 1).await;
    let id = out.instances()[0].instance_id().unwrap().to_string();
    c.terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    emu.advance(Duration::from_secs(59 * 60));
    assert_eq!(
        state(&describe(&c, &id).await),
        InstanceStateName::Terminated
    );
    emu.advance(Duration::from_secs(2 * 60));
    let (code, _, _) = expect_err!(c.describe_instances().instance_ids(&id).send().await);
    assert_eq!(code, "InvalidInstanceID.NotFound");
    let all = c.describe_instances().send().await.unwrap();
    assert!(all.reservations().is_empty());
}

/// Launch, wait running, stop, wait stopped, start, wait running, terminate, wait terminated.
async fn waiter_cycle(emu: &Emulator) {
    let c = quick(emu);
    let out = run(&c, 1).await;
    let id = out.instances()[0].instance_id().unwrap().to_string();
    let max = Duration::from_secs(30);
    c.wait_until_instance_running()
        .instance_ids(&id)
        .wait(max)
        .await
        .expect("running");
    c.stop_instances().instance_ids(&id).send().await.unwrap();
    c.wait_until_instance_stopped()
        .instance_ids(&id)
        .wait(max)
        .await
        .expect("stopped");
    c.start_instances().instance_ids(&id).send().await.unwrap();
    c.wait_until_instance_running()
        .instance_ids(&id)
        .wait(max)
        .await
        .expect("running again");
    c.terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    c.wait_until_instance_terminated()
        .instance_ids(&id)
        .wait(max)
        .await
        .expect("terminated");
}

#[tokio::test]
async fn waiters_under_instant_timing() {
    let emu = Emulator::builder()
        .timing(Timing::Instant)
        .start()
        .await
        .unwrap();
    waiter_cycle(&emu).await;
}

#[tokio::test]
async fn waiters_under_fast_timing() {
    let emu = Emulator::builder()
        .timing(Timing::Fast)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    // Fast timing shows the intermediate state for tens of milliseconds, then the end state
    // (a slow machine may already see the end state on its first look).
    let out = run(&c, 1).await;
    let id = out.instances()[0].instance_id().unwrap().to_string();
    let first = state(&describe(&c, &id).await);
    assert!(
        matches!(
            first,
            InstanceStateName::Pending | InstanceStateName::Running
        ),
        "{first:?}"
    );
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Running);
    waiter_cycle(&emu).await;
}

#[tokio::test]
async fn waiters_under_realistic_timing_with_a_manual_clock() {
    let emu = Emulator::builder()
        .timing(Timing::Realistic)
        .manual_clock(1_700_000_000_000)
        .start()
        .await
        .unwrap();
    // Time passes only when told: a task moves the virtual clock while the waiters poll.
    let instance = emu.instance().clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            instance.clock.advance(Duration::from_secs(5));
        }
    });
    waiter_cycle(&emu).await;
    ticker.abort();
}

#[tokio::test]
async fn realistic_timing_holds_pending_until_the_clock_moves() {
    let emu = Emulator::builder()
        .timing(Timing::Realistic)
        .manual_clock(1_700_000_000_000)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let out = run(&c, 1).await;
    let id = out.instances()[0].instance_id().unwrap().to_string();
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Pending);
    emu.advance(Duration::from_secs(14));
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Pending);
    emu.advance(Duration::from_secs(1));
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Running);
    // Stopping a pending instance is refused; stopping takes its time too.
    c.stop_instances().instance_ids(&id).send().await.unwrap();
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Stopping);
    let (code, _, _) = expect_err!(c.start_instances().instance_ids(&id).send().await);
    assert_eq!(code, "IncorrectInstanceState");
    emu.advance(Duration::from_secs(20));
    assert_eq!(state(&describe(&c, &id).await), InstanceStateName::Stopped);
    let again = run(&c, 1).await;
    let pending = again.instances()[0].instance_id().unwrap();
    let (code, _, _) = expect_err!(c.stop_instances().instance_ids(pending).send().await);
    assert_eq!(code, "IncorrectInstanceState");
}

#[tokio::test]
async fn instance_attributes_in_both_forms() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = run(&c, 1).await;
    let i = &out.instances()[0];
    let id = i.instance_id().unwrap().to_string();
    let sg = i.security_groups()[0].group_id().unwrap().to_string();

    c.modify_instance_attribute()
        .instance_id(&id)
        .source_dest_check(AttributeBooleanValue::builder().value(false).build())
        .send()
        .await
        .unwrap();
    let a = c
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::SourceDestCheck)
        .send()
        .await
        .unwrap();
    assert_eq!(a.source_dest_check().and_then(|v| v.value()), Some(false));
    assert_eq!(describe(&c, &id).await.source_dest_check(), Some(false));
    // The older Attribute/Value form.
    c.modify_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::SourceDestCheck)
        .value("true")
        .send()
        .await
        .unwrap();
    assert_eq!(describe(&c, &id).await.source_dest_check(), Some(true));

    // The type changes only while stopped.
    let (code, _, _) = expect_err!(
        c.modify_instance_attribute()
            .instance_id(&id)
            .instance_type(AttributeValue::builder().value("m5.large").build())
            .send()
            .await
    );
    assert_eq!(code, "IncorrectInstanceState");
    c.stop_instances().instance_ids(&id).send().await.unwrap();
    c.modify_instance_attribute()
        .instance_id(&id)
        .instance_type(AttributeValue::builder().value("m5.large").build())
        .send()
        .await
        .unwrap();
    let a = c
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::InstanceType)
        .send()
        .await
        .unwrap();
    assert_eq!(a.instance_type().and_then(|v| v.value()), Some("m5.large"));

    // Groups must exist in the instance's VPC.
    let (code, _, _) = expect_err!(
        c.modify_instance_attribute()
            .instance_id(&id)
            .groups("sg-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    c.modify_instance_attribute()
        .instance_id(&id)
        .groups(&sg)
        .send()
        .await
        .unwrap();
    let a = c
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::GroupSet)
        .send()
        .await
        .unwrap();
    assert_eq!(a.groups()[0].group_id(), Some(sg.as_str()));
    assert_eq!(a.groups()[0].group_name(), Some("default"));

    let a = c
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::BlockDeviceMapping)
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.block_device_mappings()[0].device_name(),
        Some("/dev/xvda")
    );
    let a = c
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(InstanceAttributeName::RootDeviceName)
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.root_device_name().and_then(|v| v.value()),
        Some("/dev/xvda")
    );
    let (code, _, _) = expect_err!(
        c.describe_instance_attribute()
            .instance_id(&id)
            .attribute(InstanceAttributeName::from("bogus"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, _, _) = expect_err!(
        c.describe_instance_attribute()
            .instance_id("i-0123456789abcdef0")
            .attribute(InstanceAttributeName::InstanceType)
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstanceID.NotFound");
}

#[tokio::test]
async fn describe_images_lists_the_public_images() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let all = c.describe_images().send().await.unwrap();
    assert!(all.images().len() >= 2);
    for i in all.images() {
        assert!(i.image_id().unwrap().starts_with("ami-"));
        assert_eq!(i.public(), Some(true));
        assert_eq!(i.state().map(|s| s.as_str()), Some("available"));
        assert_eq!(i.root_device_type().map(|s| s.as_str()), Some("ebs"));
        assert_eq!(i.virtualization_type().map(|s| s.as_str()), Some("hvm"));
        let root = &i.block_device_mappings()[0];
        assert_eq!(root.ebs().and_then(|e| e.volume_size()), Some(8));
    }
    let amazon = c.describe_images().owners("amazon").send().await.unwrap();
    assert!(amazon
        .images()
        .iter()
        .all(|i| i.owner_id() == Some("137112412989")));
    let al = c
        .describe_images()
        .filters(filter("name", "al2023-ami-*"))
        .filters(filter("architecture", "x86_64"))
        .send()
        .await
        .unwrap();
    assert_eq!(al.images().len(), 1);
    let al = &al.images()[0];
    assert_eq!(al.root_device_name(), Some("/dev/xvda"));
    let ubuntu = c
        .describe_images()
        .owners("099720109477")
        .send()
        .await
        .unwrap();
    assert!(ubuntu.images()[0].name().unwrap().contains("jammy-22.04"));
    // Ids are stable per region and differ between regions.
    let again = c
        .describe_images()
        .image_ids(al.image_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(again.images().len(), 1);
    let eu = ec2_with(
        &emu,
        &ClientOptions::principal(&emu, "admin").region("eu-west-1"),
    );
    let (code, _, _) = expect_err!(
        eu.describe_images()
            .image_ids(al.image_id().unwrap())
            .send()
            .await
    );
    assert_eq!(code, "InvalidAMIID.NotFound");
    let (code, _, _) = expect_err!(c.describe_images().image_ids("ami-bad").send().await);
    assert_eq!(code, "InvalidAMIID.Malformed");
    // Launching from a catalogue image takes its architecture and root device.
    let arm = c
        .describe_images()
        .filters(filter("architecture", "arm64"))
        .send()
        .await
        .unwrap();
    let arm_id = arm.images()[0].image_id().unwrap();
    let out = c
        .run_instances()
        .image_id(arm_id)
        .min_count(1)
        .max_count(1)
        .instance_type(InstanceType::M7gMedium)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.instances()[0].architecture(),
        Some(&aws_sdk_ec2::types::ArchitectureValues::Arm64)
    );
}

#[tokio::test]
async fn explicit_private_addresses_and_the_instance_quota() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let one = |ip: &'static str| {
        c.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .private_ip_address(ip)
    };
    let out = one("172.31.0.77").send().await.unwrap();
    let i = &out.instances()[0];
    assert_eq!(i.private_ip_address(), Some("172.31.0.77"));
    assert_eq!(i.private_dns_name(), Some("ip-172-31-0-77.ec2.internal"));
    let (code, _, _) = expect_err!(one("172.31.0.77").send().await);
    assert_eq!(code, "InvalidIPAddress.InUse");
    // Outside the subnet, or one of the addresses AWS reserves.
    for ip in ["10.9.9.9", "172.31.0.1", "172.31.15.255"] {
        let (code, msg, _) = expect_err!(one(ip).send().await);
        assert_eq!(code, "InvalidParameterValue", "{ip}: {msg}");
    }
    let (code, _, _) = expect_err!(
        c.run_instances()
            .image_id(AMI)
            .min_count(1001)
            .max_count(1001)
            .send()
            .await
    );
    assert_eq!(code, "InstanceLimitExceeded");
}

#[tokio::test]
async fn concurrent_launches_never_share_an_address() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { run(&c, 2).await }));
    }
    let mut ips = Vec::new();
    let mut ids = Vec::new();
    for t in tasks {
        let out = t.await.unwrap();
        for i in out.instances() {
            ips.push(i.private_ip_address().unwrap().to_string());
            ids.push(i.instance_id().unwrap().to_string());
        }
    }
    ips.sort();
    ips.dedup();
    ids.sort();
    ids.dedup();
    assert_eq!((ips.len(), ids.len()), (32, 32));
    let all = c.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().len(), 16);
}

#[tokio::test]
async fn node_driver_launches_with_a_network_interface_and_imds_options() {
    use aws_sdk_ec2::types::{
        HttpTokensState, InstanceMetadataOptionsRequest, InstanceNetworkInterfaceSpecification,
    };
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let first = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1c").build())
        .send()
        .await
        .unwrap();
    let f = &first.instances()[0];
    // Unknown images get the account defaults.
    let md = f.metadata_options().unwrap();
    assert_eq!(md.http_tokens(), Some(&HttpTokensState::Optional));
    assert_eq!(md.http_put_response_hop_limit(), Some(1));
    let subnet = f.subnet_id().unwrap().to_string();
    let sg = f.security_groups()[0].group_id().unwrap().to_string();
    let eni = || {
        InstanceNetworkInterfaceSpecification::builder()
            .device_index(0)
            .subnet_id(&subnet)
            .groups(&sg)
            .associate_public_ip_address(true)
            .delete_on_termination(true)
            .build()
    };
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .network_interfaces(eni())
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let i = &out.instances()[0];
    assert_eq!(i.subnet_id(), Some(subnet.as_str()));
    assert_eq!(
        i.placement().and_then(|p| p.availability_zone()),
        Some("us-east-1c")
    );
    assert_eq!(i.security_groups()[0].group_id(), Some(sg.as_str()));
    let md = i.metadata_options().unwrap();
    assert_eq!(md.http_tokens(), Some(&HttpTokensState::Required));
    assert_eq!(md.http_put_response_hop_limit(), Some(2));
    let n = c
        .describe_instances()
        .filters(filter("metadata-options.http-tokens", "required"))
        .send()
        .await
        .unwrap();
    assert_eq!(n.reservations().len(), 1);
    // Instance-level network settings conflict with a network interface, as in AWS.
    let (code, _, _) = expect_err!(
        c.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet)
            .network_interfaces(eni())
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterCombination");
    let (code, _, _) = expect_err!(
        c.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_put_response_hop_limit(65)
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    // Amazon Linux 2023 is IMDSv2-only: its instances require tokens.
    let al = c
        .describe_images()
        .filters(filter("name", "al2023-ami-*-x86_64"))
        .send()
        .await
        .unwrap();
    let out = c
        .run_instances()
        .image_id(al.images()[0].image_id().unwrap())
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let md = out.instances()[0].metadata_options().unwrap();
    assert_eq!(md.http_tokens(), Some(&HttpTokensState::Required));
    assert_eq!(md.http_put_response_hop_limit(), Some(2));
}

/// RunInstances takes any well-formed instance type, and the answers carry it even when it is
/// newer than botocore's enum (written as an unlisted value, not refused as a wrong one).
#[tokio::test]
async fn instance_types_newer_than_the_model_are_answered() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .instance_type(InstanceType::from("zz9.large"))
        .send()
        .await
        .expect("run instances");
    let i = &out.instances()[0];
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some("zz9.large"));
    let id = i.instance_id().unwrap();
    let seen = describe(&c, id).await;
    assert_eq!(seen.instance_type().map(|t| t.as_str()), Some("zz9.large"));
}
