//! Auto Scaling through aws-sdk-autoscaling: launch configurations, groups that launch, scale and
//! terminate real EC2 instances (seen through aws-sdk-ec2), group tags, and every error each
//! action answers.

use std::time::Duration;

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, BlockDeviceMapping, Ebs, Filter, InstanceMetadataHttpTokensState,
    InstanceMetadataOptions, InstanceMonitoring, LaunchTemplateSpecification, LifecycleState, Tag,
};
use aws_sdk_autoscaling::Client;
use aws_sdk_ec2::types::{Filter as Ec2Filter, InstanceStateName};
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::{autoscaling, ec2, expect_err, start};

const AMI: &str = "ami-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";

/// A launch configuration of the plainest kind.
async fn launch_configuration(c: &Client, name: &str) {
    c.create_launch_configuration()
        .launch_configuration_name(name)
        .image_id(AMI)
        .instance_type("t3.micro")
        .send()
        .await
        .expect("create launch configuration");
}

/// The ids of the default subnets of the first `n` zones, by zone name.
async fn default_subnets(emu: &Emulator, n: usize) -> Vec<(String, String)> {
    let out = ec2(emu, "admin")
        .describe_subnets()
        .filters(
            Ec2Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut list: Vec<(String, String)> = out
        .subnets()
        .iter()
        .map(|s| {
            (
                s.availability_zone().unwrap().to_string(),
                s.subnet_id().unwrap().to_string(),
            )
        })
        .collect();
    list.sort();
    list.truncate(n);
    list
}

fn joined(subnets: &[(String, String)]) -> String {
    subnets
        .iter()
        .map(|(_, id)| id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn group(c: &Client, name: &str) -> AutoScalingGroup {
    let out = c
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .expect("describe groups");
    assert_eq!(out.auto_scaling_groups().len(), 1, "{name}");
    out.auto_scaling_groups()[0].clone()
}

async fn groups_named(c: &Client, name: &str) -> usize {
    c.describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .unwrap()
        .auto_scaling_groups()
        .len()
}

/// Creates group `name` from launch configuration `lc` over `subnets` with the given sizes.
async fn create_group(
    c: &Client,
    name: &str,
    lc: &str,
    subnets: &str,
    min: i32,
    max: i32,
    desired: i32,
) {
    c.create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_configuration_name(lc)
        .min_size(min)
        .max_size(max)
        .desired_capacity(desired)
        .vpc_zone_identifier(subnets)
        .send()
        .await
        .expect("create group");
}

fn ids(g: &AutoScalingGroup) -> Vec<String> {
    g.instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect()
}

fn zones_of(g: &AutoScalingGroup) -> Vec<String> {
    let mut z: Vec<String> = g
        .instances()
        .iter()
        .map(|i| i.availability_zone().unwrap().to_string())
        .collect();
    z.sort();
    z
}

async fn ec2_state(emu: &Emulator, id: &str) -> InstanceStateName {
    let out = ec2(emu, "admin")
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap();
    out.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .cloned()
        .unwrap()
}

async fn realistic() -> Emulator {
    Emulator::builder()
        .seed(1)
        .timing(Timing::Realistic)
        .manual_clock(1_700_000_000_000)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn launch_configurations_are_created_described_and_deleted() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    let sg = ec2(&emu, "admin")
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    c.create_launch_configuration()
        .launch_configuration_name("nodes")
        .image_id(AMI)
        .instance_type("m5.large")
        .key_name("ops")
        .security_groups(&sg)
        .user_data("IyEvYmluL3NoCg==")
        .iam_instance_profile("worker")
        .instance_monitoring(InstanceMonitoring::builder().enabled(false).build())
        .ebs_optimized(true)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvdf")
                .ebs(Ebs::builder().volume_size(100).volume_type("gp3").build())
                .build(),
        )
        .metadata_options(
            InstanceMetadataOptions::builder()
                .http_tokens(InstanceMetadataHttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    launch_configuration(&c, "plain").await;

    let out = c.describe_launch_configurations().send().await.unwrap();
    let names: Vec<&str> = out
        .launch_configurations()
        .iter()
        .map(|l| l.launch_configuration_name().unwrap())
        .collect();
    assert_eq!(names, vec!["nodes", "plain"]);
    let lc = &out.launch_configurations()[0];
    let arn = lc.launch_configuration_arn().unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:autoscaling:us-east-1:{ACCOUNT}:launchConfiguration:"
        )) && arn.ends_with(":launchConfigurationName/nodes"),
        "{arn}"
    );
    assert_eq!(lc.image_id(), Some(AMI));
    assert_eq!(lc.instance_type(), Some("m5.large"));
    assert_eq!(lc.key_name(), Some("ops"));
    assert_eq!(lc.security_groups(), std::slice::from_ref(&sg));
    assert_eq!(lc.user_data(), Some("IyEvYmluL3NoCg=="));
    assert_eq!(lc.iam_instance_profile(), Some("worker"));
    assert_eq!(
        lc.instance_monitoring().and_then(|m| m.enabled()),
        Some(false)
    );
    assert_eq!(lc.ebs_optimized(), Some(true));
    let bdm = &lc.block_device_mappings()[0];
    assert_eq!(bdm.device_name(), Some("/dev/xvdf"));
    assert_eq!(bdm.ebs().and_then(|e| e.volume_size()), Some(100));
    assert_eq!(
        lc.metadata_options().and_then(|m| m.http_tokens()),
        Some(&InstanceMetadataHttpTokensState::Required)
    );
    assert!(lc.created_time().is_some());
    // AWS writes the unset kernel, ramdisk and user data as empty strings, monitoring as on.
    let plain = &out.launch_configurations()[1];
    assert_eq!(plain.kernel_id(), Some(""));
    assert_eq!(plain.ramdisk_id(), Some(""));
    assert_eq!(plain.user_data(), Some(""));
    assert!(plain.security_groups().is_empty());
    assert_eq!(
        plain.instance_monitoring().and_then(|m| m.enabled()),
        Some(true)
    );

    // By name: unknown names are simply not there.
    let out = c
        .describe_launch_configurations()
        .launch_configuration_names("plain")
        .launch_configuration_names("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(out.launch_configurations().len(), 1);

    // Pages.
    let first = c
        .describe_launch_configurations()
        .max_records(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.launch_configurations().len(), 1);
    let token = first.next_token().unwrap().to_string();
    let second = c
        .describe_launch_configurations()
        .max_records(1)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.launch_configurations()[0].launch_configuration_name(),
        Some("plain")
    );
    assert!(second.next_token().is_none());
    let (code, _, status) = expect_err!(
        c.describe_launch_configurations()
            .next_token("garbage")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("InvalidNextToken", 400));
    let (code, msg, _) = expect_err!(
        c.describe_launch_configurations()
            .max_records(101)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("'maxRecords'"), "{msg}");

    // Duplicate name.
    let (code, msg, status) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("plain")
            .image_id(AMI)
            .instance_type("t3.micro")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AlreadyExists", 400));
    assert_eq!(
        msg,
        "Launch Configuration by this name already exists - A launch configuration already exists with the name plain"
    );

    // Delete, then it is gone; deleting again is refused.
    c.delete_launch_configuration()
        .launch_configuration_name("plain")
        .send()
        .await
        .unwrap();
    let out = c.describe_launch_configurations().send().await.unwrap();
    assert_eq!(out.launch_configurations().len(), 1);
    let (code, msg, status) = expect_err!(
        c.delete_launch_configuration()
            .launch_configuration_name("plain")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(
        msg,
        "Launch configuration name not found - Launch configuration plain not found"
    );
}

#[tokio::test]
async fn launch_configuration_input_is_validated() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    let (code, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.");
    let (code, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id("ami-nope")
            .instance_type("t3.micro")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "AMI ami-nope is invalid: The image id '[ami-nope]' does not exist"
    );
    let (_, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("t3.micro")
            .security_groups("sg-0123456789abcdef0")
            .security_groups("default")
            .send()
            .await
    );
    assert_eq!(msg, "Must use either use group-id or group-name for all the security groups, not both at the same time");
    let (_, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("t3.micro")
            .security_groups("sg-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(
        msg,
        "The security group 'sg-0123456789abcdef0' does not exist"
    );
    let (code, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("")
            .image_id(AMI)
            .instance_type("t3.micro")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "1 validation error detected: Value '' at 'launchConfigurationName' failed to satisfy constraint: Member must have length greater than or equal to 1");
    let (_, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("t3.micro")
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvdf")
                    .ebs(Ebs::builder().volume_size(0).build())
                    .build()
            )
            .send()
            .await
    );
    assert!(
        msg.contains("'blockDeviceMappings.1.member.ebs.volumeSize'")
            && msg.contains("greater than or equal to 1"),
        "{msg}"
    );
    // A security group name is looked up in the default VPC.
    c.create_launch_configuration()
        .launch_configuration_name("by-name")
        .image_id(AMI)
        .instance_type("t3.micro")
        .security_groups("default")
        .send()
        .await
        .unwrap();
    // Nothing was created by the refused calls.
    let out = c.describe_launch_configurations().send().await.unwrap();
    assert_eq!(out.launch_configurations().len(), 1);
}

#[tokio::test]
async fn a_launch_configuration_can_copy_an_instance() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    // A launch naming a key pair needs one (InvalidKeyPair.NotFound otherwise, as in AWS).
    ec2(&emu, "admin")
        .create_key_pair()
        .key_name("ops")
        .key_type(aws_sdk_ec2::types::KeyType::Ed25519)
        .send()
        .await
        .unwrap();
    let run = ec2(&emu, "admin")
        .run_instances()
        .image_id(AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::C5Large)
        .key_name("ops")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let instance = &run.instances()[0];
    let id = instance.instance_id().unwrap();
    c.create_launch_configuration()
        .launch_configuration_name("copy")
        .instance_id(id)
        .send()
        .await
        .unwrap();
    let out = c.describe_launch_configurations().send().await.unwrap();
    let lc = &out.launch_configurations()[0];
    assert_eq!(lc.image_id(), Some(AMI));
    assert_eq!(lc.instance_type(), Some("c5.large"));
    assert_eq!(lc.key_name(), Some("ops"));
    assert_eq!(
        lc.security_groups(),
        [instance.security_groups()[0]
            .group_id()
            .unwrap()
            .to_string()]
    );
    let (code, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("ghost")
            .instance_id("i-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "Instance [i-0123456789abcdef0] is invalid.");
}

#[tokio::test]
async fn a_group_launches_its_desired_capacity_across_zones() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    let e = ec2(&emu, "admin");
    c.create_launch_configuration()
        .launch_configuration_name("nodes")
        .image_id(AMI)
        .instance_type("t3.small")
        .iam_instance_profile("worker")
        .security_groups("default")
        .send()
        .await
        .unwrap();
    let subnets = default_subnets(&emu, 3).await;
    c.create_auto_scaling_group()
        .auto_scaling_group_name("workers")
        .launch_configuration_name("nodes")
        .min_size(1)
        .max_size(6)
        .desired_capacity(3)
        .vpc_zone_identifier(joined(&subnets))
        .tags(
            Tag::builder()
                .key("kubernetes.io/cluster/c1")
                .value("owned")
                .propagate_at_launch(true)
                .build(),
        )
        .tags(
            Tag::builder()
                .key("billing")
                .value("team-a")
                .propagate_at_launch(false)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let g = group(&c, "workers").await;
    let arn = g.auto_scaling_group_arn().unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:autoscaling:us-east-1:{ACCOUNT}:autoScalingGroup:"
        )) && arn.ends_with(":autoScalingGroupName/workers"),
        "{arn}"
    );
    assert_eq!(g.launch_configuration_name(), Some("nodes"));
    assert_eq!(
        (g.min_size(), g.max_size(), g.desired_capacity()),
        (Some(1), Some(6), Some(3))
    );
    assert_eq!(g.default_cooldown(), Some(300));
    assert_eq!(g.health_check_type(), Some("EC2"));
    assert_eq!(g.health_check_grace_period(), Some(0));
    assert_eq!(g.termination_policies(), ["Default".to_string()]);
    assert_eq!(
        g.service_linked_role_arn(),
        Some("arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    );
    assert_eq!(g.vpc_zone_identifier(), Some(joined(&subnets).as_str()));
    let zones: Vec<String> = subnets.iter().map(|(z, _)| z.clone()).collect();
    assert_eq!(g.availability_zones(), zones.as_slice());
    assert!(g.status().is_none());
    assert_eq!(g.tags().len(), 2);
    assert_eq!(g.tags()[0].key(), Some("billing"));
    assert_eq!(g.tags()[0].resource_type(), Some("auto-scaling-group"));
    assert_eq!(g.tags()[0].resource_id(), Some("workers"));
    assert_eq!(g.tags()[0].propagate_at_launch(), Some(false));

    // One instance in each zone, in service, healthy.
    assert_eq!(g.instances().len(), 3);
    assert_eq!(zones_of(&g), zones);
    for i in g.instances() {
        assert_eq!(i.lifecycle_state(), Some(&LifecycleState::InService));
        assert_eq!(i.health_status(), Some("Healthy"));
        assert_eq!(i.launch_configuration_name(), Some("nodes"));
        assert_eq!(i.instance_type(), Some("t3.small"));
        assert_eq!(i.protected_from_scale_in(), Some(false));
    }

    // They are real EC2 instances: tagged, in the subnets, with the configuration's settings.
    let out = e
        .describe_instances()
        .filters(
            Ec2Filter::builder()
                .name("tag:aws:autoscaling:groupName")
                .values("workers")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let instances: Vec<&aws_sdk_ec2::types::Instance> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(instances.len(), 3);
    let mut seen: Vec<String> = instances
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    seen.sort();
    let mut expected = ids(&g);
    expected.sort();
    assert_eq!(seen, expected);
    for i in &instances {
        let tag = |k: &str| {
            i.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(tag("kubernetes.io/cluster/c1").as_deref(), Some("owned"));
        assert_eq!(tag("billing"), None);
        assert_eq!(i.image_id(), Some(AMI));
        assert_eq!(
            i.instance_type(),
            Some(&aws_sdk_ec2::types::InstanceType::T3Small)
        );
        let subnet = i.subnet_id().unwrap();
        let (zone, _) = subnets.iter().find(|(_, s)| s == subnet).unwrap();
        assert_eq!(
            i.placement().and_then(|p| p.availability_zone()),
            Some(zone.as_str())
        );
        assert!(i.private_ip_address().unwrap().starts_with("172.31."));
        assert_eq!(i.security_groups()[0].group_name(), Some("default"));
        assert_eq!(
            i.iam_instance_profile().and_then(|p| p.arn()),
            Some("arn:aws:iam::123456789012:instance-profile/worker")
        );
        assert_eq!(i.block_device_mappings().len(), 1);
        // Detailed monitoring is on by default for launch configurations.
        assert_eq!(
            i.monitoring().and_then(|m| m.state()),
            Some(&aws_sdk_ec2::types::MonitoringState::Enabled)
        );
    }
}

#[tokio::test]
async fn lifecycle_state_follows_the_instance_on_the_clock() {
    let emu = realistic().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 2).await;
    create_group(&c, "g", "lc", &joined(&subnets), 0, 4, 2).await;
    let g = group(&c, "g").await;
    assert_eq!(g.instances().len(), 2);
    for i in g.instances() {
        assert_eq!(i.lifecycle_state(), Some(&LifecycleState::Pending));
        assert_eq!(
            ec2_state(&emu, i.instance_id().unwrap()).await,
            InstanceStateName::Pending
        );
    }
    emu.advance(Duration::from_secs(15));
    let g = group(&c, "g").await;
    for i in g.instances() {
        assert_eq!(i.lifecycle_state(), Some(&LifecycleState::InService));
    }

    // Scaling in: the instance is Terminating until it has terminated, then it leaves.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(1)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(g.desired_capacity(), Some(1));
    let terminating: Vec<_> = g
        .instances()
        .iter()
        .filter(|i| i.lifecycle_state() == Some(&LifecycleState::Terminating))
        .collect();
    assert_eq!(terminating.len(), 1);
    let victim = terminating[0].instance_id().unwrap().to_string();
    assert_eq!(
        ec2_state(&emu, &victim).await,
        InstanceStateName::ShuttingDown
    );
    // Meanwhile the group cannot be deleted without force: an activity is in progress.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .min_size(0)
        .desired_capacity(0)
        .send()
        .await
        .unwrap();
    let (code, msg, status) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ScalingActivityInProgress", 400));
    assert_eq!(msg, "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.");
    emu.advance(Duration::from_secs(30));
    let g = group(&c, "g").await;
    assert!(g.instances().is_empty());
    assert_eq!(
        ec2_state(&emu, &victim).await,
        InstanceStateName::Terminated
    );
    c.delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(groups_named(&c, "g").await, 0);
}

#[tokio::test]
async fn update_scales_out_and_in_keeping_zones_balanced() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 2).await;
    let (za, zb) = (subnets[0].0.clone(), subnets[1].0.clone());
    create_group(&c, "g", "lc", &joined(&subnets), 0, 10, 1).await;
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(5)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(
        zones_of(&g),
        vec![za.clone(), za.clone(), za.clone(), zb.clone(), zb.clone()]
    );

    // Scale in to 2: the fuller zone loses instances first, so the zones stay balanced.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(zones_of(&g), vec![za.clone(), zb.clone()]);
    let out = ec2(&emu, "admin")
        .describe_instances()
        .filters(
            Ec2Filter::builder()
                .name("instance-state-name")
                .values("terminated")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let terminated: usize = out.reservations().iter().map(|r| r.instances().len()).sum();
    assert_eq!(terminated, 3);

    // A larger MinSize raises the desired capacity, a smaller MaxSize lowers it.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .min_size(3)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!((g.desired_capacity(), g.instances().len()), (Some(3), 3));
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .min_size(0)
        .max_size(1)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!((g.desired_capacity(), g.instances().len()), (Some(1), 1));

    // Sizes that do not fit together are refused, changing nothing.
    let (code, msg, status) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("g")
            .desired_capacity(5)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(
        msg,
        "Desired capacity:5 must be between the specified min size:0 and max size:1"
    );
    let (_, msg, _) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("g")
            .min_size(4)
            .max_size(2)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Max bound, 2, must be greater than or equal to min bound, 4"
    );
    let (code, msg, _) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("nope")
            .desired_capacity(1)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "AutoScalingGroup name not found - AutoScalingGroup 'nope' not found"
    );
    let (_, msg, _) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("g")
            .launch_configuration_name("missing")
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Launch configuration name not found - Launch configuration missing not found"
    );
    let (_, msg, _) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("g")
            .vpc_zone_identifier(" , ")
            .send()
            .await
    );
    assert_eq!(
        msg,
        "At least one Availability Zone or VPC Subnet is required."
    );
    let g = group(&c, "g").await;
    assert_eq!((g.desired_capacity(), g.instances().len()), (Some(1), 1));
}

#[tokio::test]
async fn a_new_launch_configuration_applies_to_new_instances_and_old_ones_go_first() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "v1").await;
    c.create_launch_configuration()
        .launch_configuration_name("v2")
        .image_id(AMI)
        .instance_type("t3.large")
        .send()
        .await
        .unwrap();
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "g", "v1", &joined(&subnets), 0, 4, 2).await;
    emu.advance(Duration::from_secs(60));
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("v2")
        .desired_capacity(4)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(g.launch_configuration_name(), Some("v2"));
    let mut lcs: Vec<(&str, &str)> = g
        .instances()
        .iter()
        .map(|i| {
            (
                i.launch_configuration_name().unwrap(),
                i.instance_type().unwrap(),
            )
        })
        .collect();
    lcs.sort();
    assert_eq!(
        lcs,
        vec![
            ("v1", "t3.micro"),
            ("v1", "t3.micro"),
            ("v2", "t3.large"),
            ("v2", "t3.large")
        ]
    );
    // The default termination policy removes instances of the oldest configuration first.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert!(g
        .instances()
        .iter()
        .all(|i| i.launch_configuration_name() == Some("v2")));
    // The group's configuration cannot be deleted; the old one can.
    let (code, msg, status) = expect_err!(
        c.delete_launch_configuration()
            .launch_configuration_name("v2")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ResourceInUse", 400));
    assert_eq!(
        msg,
        "Cannot delete launch configuration v2 because it is attached to AutoScalingGroup g"
    );
    c.delete_launch_configuration()
        .launch_configuration_name("v1")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn newest_instance_policy_and_scale_in_protection() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    c.create_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("lc")
        .min_size(0)
        .max_size(5)
        .desired_capacity(1)
        .vpc_zone_identifier(joined(&subnets))
        .termination_policies("NewestInstance")
        .send()
        .await
        .unwrap();
    let first = ids(&group(&c, "g").await);
    emu.advance(Duration::from_secs(10));
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(1)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&group(&c, "g").await), first);

    // New instances protected from scale-in stay even when the capacity drops below them.
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .new_instances_protected_from_scale_in(true)
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    let protected: Vec<String> = g
        .instances()
        .iter()
        .filter(|i| i.protected_from_scale_in() == Some(true))
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    assert_eq!(protected.len(), 1);
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(0)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&group(&c, "g").await), protected);
}

#[tokio::test]
async fn groups_replace_instances_that_fail_their_health_check() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    let e = ec2(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 2).await;
    create_group(&c, "g", "lc", &joined(&subnets), 2, 2, 2).await;
    let before = ids(&group(&c, "g").await);
    // Terminated behind the group's back: it leaves and a replacement comes.
    e.terminate_instances()
        .instance_ids(&before[0])
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    let after = ids(&g);
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&before[0]));
    assert!(after.contains(&before[1]));
    // The replacement goes to the zone that lost an instance.
    assert_eq!(
        zones_of(&g),
        vec![subnets[0].0.clone(), subnets[1].0.clone()]
    );
    // Stopped: unhealthy, terminated by the group and replaced.
    e.stop_instances()
        .instance_ids(&before[1])
        .send()
        .await
        .unwrap();
    let after = ids(&group(&c, "g").await);
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&before[1]));
    assert_eq!(
        ec2_state(&emu, &before[1]).await,
        InstanceStateName::Terminated
    );
}

#[tokio::test]
async fn unhealthy_instances_show_while_terminating() {
    let emu = realistic().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "g", "lc", &joined(&subnets), 1, 1, 1).await;
    let id = ids(&group(&c, "g").await)[0].clone();
    emu.advance(Duration::from_secs(20));
    ec2(&emu, "admin")
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(g.instances().len(), 2);
    let old = g
        .instances()
        .iter()
        .find(|i| i.instance_id() == Some(id.as_str()))
        .unwrap();
    assert_eq!(old.lifecycle_state(), Some(&LifecycleState::Terminating));
    assert_eq!(old.health_status(), Some("Unhealthy"));
    let new = g
        .instances()
        .iter()
        .find(|i| i.instance_id() != Some(id.as_str()))
        .unwrap();
    assert_eq!(new.lifecycle_state(), Some(&LifecycleState::Pending));
    assert_eq!(new.health_status(), Some("Healthy"));
}

#[tokio::test]
async fn deleting_a_group_needs_force_while_it_has_instances() {
    let emu = realistic().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 2).await;
    create_group(&c, "g", "lc", &joined(&subnets), 1, 3, 2).await;
    let members = ids(&group(&c, "g").await);
    let (code, msg, status) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ResourceInUse", 400));
    assert_eq!(msg, "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.");

    c.delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    // The group stays, "Delete in progress", until its instances have terminated.
    let g = group(&c, "g").await;
    assert_eq!(g.status(), Some("Delete in progress"));
    assert!(g
        .instances()
        .iter()
        .all(|i| i.lifecycle_state() == Some(&LifecycleState::Terminating)));
    for id in &members {
        assert_eq!(ec2_state(&emu, id).await, InstanceStateName::ShuttingDown);
    }
    let (_, msg, _) = expect_err!(
        c.update_auto_scaling_group()
            .auto_scaling_group_name("g")
            .desired_capacity(1)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "The AutoScaling group may not be modified while it is pending delete"
    );
    let (code, _, _) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .force_delete(true)
            .send()
            .await
    );
    assert_eq!(code, "ScalingActivityInProgress");
    let (code, _, _) = expect_err!(
        c.create_auto_scaling_group()
            .auto_scaling_group_name("g")
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(1)
            .vpc_zone_identifier(joined(&subnets))
            .send()
            .await
    );
    assert_eq!(code, "AlreadyExists");
    emu.advance(Duration::from_secs(30));
    assert_eq!(groups_named(&c, "g").await, 0);
    for id in &members {
        assert_eq!(ec2_state(&emu, id).await, InstanceStateName::Terminated);
    }
    // Now the launch configuration is free, and a missing group is named in the error.
    c.delete_launch_configuration()
        .launch_configuration_name("lc")
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "AutoScalingGroup name not found - AutoScalingGroup 'g' not found"
    );
}

#[tokio::test]
async fn force_delete_under_instant_timing_is_done_at_once() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "g", "lc", &joined(&subnets), 0, 2, 2).await;
    let members = ids(&group(&c, "g").await);
    // An empty group goes without force.
    create_group(&c, "empty", "lc", &joined(&subnets), 0, 2, 0).await;
    c.delete_auto_scaling_group()
        .auto_scaling_group_name("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(groups_named(&c, "empty").await, 0);
    c.delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    assert_eq!(groups_named(&c, "g").await, 0);
    for id in &members {
        assert_eq!(ec2_state(&emu, id).await, InstanceStateName::Terminated);
    }
}

#[tokio::test]
async fn create_group_errors() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 2).await;
    let all = joined(&subnets);
    create_group(&c, "g", "lc", &all, 0, 2, 0).await;

    let (code, msg, status) = expect_err!(
        c.create_auto_scaling_group()
            .auto_scaling_group_name("g")
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(1)
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AlreadyExists", 400));
    assert_eq!(
        msg,
        "AutoScalingGroup by this name already exists - A group with the name g already exists"
    );
    let base = || {
        c.create_auto_scaling_group()
            .auto_scaling_group_name("h")
            .min_size(0)
            .max_size(2)
    };
    let (code, msg, _) = expect_err!(base().vpc_zone_identifier(&all).send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.");
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("missing")
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Launch configuration name not found - Launch configuration missing not found"
    );
    let (_, msg, _) = expect_err!(base().launch_configuration_name("lc").send().await);
    assert_eq!(
        msg,
        "At least one Availability Zone or VPC Subnet is required."
    );
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("lc")
            .vpc_zone_identifier("subnet-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(
        msg,
        "The subnet ID 'subnet-0123456789abcdef0' does not exist"
    );
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("lc")
            .vpc_zone_identifier(&all)
            .desired_capacity(3)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Desired capacity:3 must be between the specified min size:0 and max size:2"
    );
    let (_, msg, _) = expect_err!(
        c.create_auto_scaling_group()
            .auto_scaling_group_name("h")
            .launch_configuration_name("lc")
            .min_size(3)
            .max_size(2)
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Max bound, 2, must be greater than or equal to min bound, 3"
    );
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("lc")
            .vpc_zone_identifier(&subnets[0].1)
            .availability_zones(&subnets[1].0)
            .send()
            .await
    );
    assert_eq!(
        msg,
        "The availability zones of the specified subnets and the Auto Scaling group do not match"
    );
    let (_, msg, _) = expect_err!(
        base()
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_name("web")
                    .build()
            )
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!(msg, "You must use a valid fully-formed launch template. The specified launch template, with template name web, does not exist.");
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("lc")
            .vpc_zone_identifier(&all)
            .tags(Tag::builder().key("aws:reserved").value("x").build())
            .send()
            .await
    );
    assert!(msg.contains("'aws:'"), "{msg}");
    let (code, msg, _) = expect_err!(
        base()
            .auto_scaling_group_name("")
            .launch_configuration_name("lc")
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("'autoScalingGroupName'"), "{msg}");

    // A security group of another VPC does not fit the group's subnets.
    let e = ec2(&emu, "admin");
    let vpc = e
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let sg = e
        .create_security_group()
        .group_name("other")
        .description("other vpc")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    c.create_launch_configuration()
        .launch_configuration_name("other-vpc")
        .image_id(AMI)
        .instance_type("t3.micro")
        .security_groups(&sg)
        .send()
        .await
        .unwrap();
    let (_, msg, _) = expect_err!(
        base()
            .launch_configuration_name("other-vpc")
            .vpc_zone_identifier(&all)
            .send()
            .await
    );
    assert_eq!(msg, "One or more security groups in the launch configuration are not linked to the VPCs configured in the Auto Scaling group");
    assert_eq!(groups_named(&c, "h").await, 0);
}

#[tokio::test]
async fn a_group_with_zones_only_uses_their_default_subnets() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    c.create_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("lc")
        .min_size(2)
        .max_size(2)
        .availability_zones("us-east-1b")
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(g.desired_capacity(), Some(2));
    assert_eq!(
        g.availability_zones(),
        ["us-east-1a".to_string(), "us-east-1b".to_string()]
    );
    assert!(g.vpc_zone_identifier().is_none());
    assert_eq!(
        zones_of(&g),
        vec!["us-east-1a".to_string(), "us-east-1b".to_string()]
    );
    let (_, msg, _) = expect_err!(
        c.create_auto_scaling_group()
            .auto_scaling_group_name("h")
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(1)
            .availability_zones("us-east-1z")
            .send()
            .await
    );
    assert_eq!(msg, "The availability zone us-east-1z is not valid");
}

#[tokio::test]
async fn launches_stop_at_the_instance_limit_and_resume_when_room_is_made() {
    let emu = Emulator::builder()
        .seed(1)
        .instance_limit(2)
        .start()
        .await
        .unwrap();
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    let loner = ec2(&emu, "admin")
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    create_group(&c, "g", "lc", &joined(&subnets), 0, 3, 2).await;
    let g = group(&c, "g").await;
    assert_eq!((g.desired_capacity(), g.instances().len()), (Some(2), 1));
    ec2(&emu, "admin")
        .terminate_instances()
        .instance_ids(loner)
        .send()
        .await
        .unwrap();
    assert_eq!(group(&c, "g").await.instances().len(), 2);
}

#[tokio::test]
async fn tags_are_created_updated_described_filtered_and_deleted() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "a", "lc", &joined(&subnets), 0, 3, 1).await;
    create_group(&c, "b", "lc", &joined(&subnets), 0, 3, 0).await;
    let tag = |group: &str, key: &str, value: &str, propagate: bool| {
        Tag::builder()
            .resource_id(group)
            .resource_type("auto-scaling-group")
            .key(key)
            .value(value)
            .propagate_at_launch(propagate)
            .build()
    };
    c.create_or_update_tags()
        .tags(tag("a", "env", "prod", true))
        .tags(tag("a", "team", "x", false))
        .tags(tag("b", "env", "dev", true))
        .send()
        .await
        .unwrap();
    // An existing key is overwritten.
    c.create_or_update_tags()
        .tags(tag("a", "team", "y", false))
        .send()
        .await
        .unwrap();
    let all = c.describe_tags().send().await.unwrap();
    let seen: Vec<(String, String, String, bool)> = all
        .tags()
        .iter()
        .map(|t| {
            assert_eq!(t.resource_type(), Some("auto-scaling-group"));
            (
                t.resource_id().unwrap().to_string(),
                t.key().unwrap().to_string(),
                t.value().unwrap().to_string(),
                t.propagate_at_launch().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("a".into(), "env".into(), "prod".into(), true),
            ("a".into(), "team".into(), "y".into(), false),
            ("b".into(), "env".into(), "dev".into(), true),
        ]
    );
    let f = |name: &str, values: &[&str]| {
        let mut b = Filter::builder().name(name);
        for v in values {
            b = b.values(*v);
        }
        b.build()
    };
    let count =
        |out: aws_sdk_autoscaling::operation::describe_tags::DescribeTagsOutput| out.tags().len();
    let by = |filters: Vec<Filter>| {
        let mut r = c.describe_tags();
        for filter in filters {
            r = r.filters(filter);
        }
        r.send()
    };
    assert_eq!(
        count(by(vec![f("auto-scaling-group", &["a"])]).await.unwrap()),
        2
    );
    assert_eq!(count(by(vec![f("key", &["env"])]).await.unwrap()), 2);
    assert_eq!(count(by(vec![f("value", &["dev", "y"])]).await.unwrap()), 2);
    assert_eq!(
        count(
            by(vec![f("propagate-at-launch", &["false"])])
                .await
                .unwrap()
        ),
        1
    );
    assert_eq!(
        count(
            by(vec![f("auto-scaling-group", &["a"]), f("key", &["env"])])
                .await
                .unwrap()
        ),
        1
    );
    // Two filters of one name are one filter with both values, as AWS treats them.
    assert_eq!(
        count(
            by(vec![f("value", &["prod"]), f("value", &["dev"])])
                .await
                .unwrap()
        ),
        2
    );
    let (code, msg, _) = expect_err!(by(vec![f("bogus", &["x"])]).await);
    assert_eq!(code, "ValidationError");
    assert!(
        msg.starts_with("Filter type bogus is not correct."),
        "{msg}"
    );
    let page = c.describe_tags().max_records(2).send().await.unwrap();
    assert_eq!(page.tags().len(), 2);
    let rest = c
        .describe_tags()
        .max_records(2)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.tags().len(), 1);

    // DescribeAutoScalingGroups filters by tag.
    let groups = |filter: Filter| c.describe_auto_scaling_groups().filters(filter).send();
    let names = |out: aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput| {
        out.auto_scaling_groups()
            .iter()
            .map(|g| g.auto_scaling_group_name().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(groups(f("tag:env", &["dev"])).await.unwrap()),
        vec!["b"]
    );
    assert_eq!(
        names(groups(f("tag-key", &["team"])).await.unwrap()),
        vec!["a"]
    );
    assert_eq!(
        names(groups(f("tag-value", &["prod", "dev"])).await.unwrap()),
        vec!["a", "b"]
    );

    // Tags reach instances launched from now on; running instances keep theirs.
    let old = ids(&group(&c, "a").await)[0].clone();
    c.update_auto_scaling_group()
        .auto_scaling_group_name("a")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let out = ec2(&emu, "admin")
        .describe_instances()
        .filters(Ec2Filter::builder().name("tag:env").values("prod").build())
        .send()
        .await
        .unwrap();
    let tagged: Vec<String> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    assert_eq!(tagged.len(), 1);
    assert_ne!(tagged[0], old);

    // Delete.
    c.delete_tags()
        .tags(tag("a", "env", "", false))
        .send()
        .await
        .unwrap();
    assert_eq!(
        count(by(vec![f("auto-scaling-group", &["a"])]).await.unwrap()),
        1
    );

    // Errors: a missing group, an incomplete tag, a reserved key, another resource type.
    let (code, msg, status) = expect_err!(
        c.create_or_update_tags()
            .tags(tag("nope", "k", "v", false))
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(
        msg,
        "AutoScalingGroup not found - AutoScaling Group nope not found"
    );
    let (_, msg, _) = expect_err!(
        c.delete_tags()
            .tags(tag("nope", "k", "v", false))
            .send()
            .await
    );
    assert_eq!(
        msg,
        "AutoScalingGroup not found - AutoScaling Group nope not found"
    );
    let (_, msg, _) = expect_err!(
        c.create_or_update_tags()
            .tags(
                Tag::builder()
                    .key("Lab")
                    .resource_id("a")
                    .propagate_at_launch(true)
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(msg, "Incomplete tags information for these tags. Tag - 'Key:Lab,PropagateAtLaunch:true,ResourceId:a,ResourceType:null' , ");
    let (_, msg, _) = expect_err!(
        c.create_or_update_tags()
            .tags(tag("a", "aws:thing", "v", false))
            .send()
            .await
    );
    assert!(msg.contains("reserved"), "{msg}");
    let (code, _, _) = expect_err!(
        c.create_or_update_tags()
            .tags(
                Tag::builder()
                    .key("k")
                    .resource_id("a")
                    .resource_type("instance")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    // Nothing changed by the refusals.
    assert_eq!(count(c.describe_tags().send().await.unwrap()), 2);
}

#[tokio::test]
async fn the_tag_limit_is_fifty_per_group() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "g", "lc", &joined(&subnets), 0, 1, 0).await;
    let mut r = c.create_or_update_tags();
    for i in 0..50 {
        r = r.tags(
            Tag::builder()
                .resource_id("g")
                .resource_type("auto-scaling-group")
                .key(format!("k{i}"))
                .value("v")
                .build(),
        );
    }
    r.send().await.unwrap();
    let (code, _, status) = expect_err!(
        c.create_or_update_tags()
            .tags(
                Tag::builder()
                    .resource_id("g")
                    .resource_type("auto-scaling-group")
                    .key("one-too-many")
                    .value("v")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 400));
    assert_eq!(group(&c, "g").await.tags().len(), 50);
}

#[tokio::test]
async fn describe_groups_pages_and_can_leave_instances_out() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    for name in ["c", "a", "b"] {
        create_group(&c, name, "lc", &joined(&subnets), 0, 1, 1).await;
    }
    let first = c
        .describe_auto_scaling_groups()
        .max_records(2)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = first
        .auto_scaling_groups()
        .iter()
        .map(|g| g.auto_scaling_group_name().unwrap())
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    let rest = c
        .describe_auto_scaling_groups()
        .max_records(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.auto_scaling_groups().len(), 1);
    assert!(rest.next_token().is_none());
    let out = c
        .describe_auto_scaling_groups()
        .include_instances(false)
        .send()
        .await
        .unwrap();
    assert!(out.auto_scaling_groups()[0].instances().is_empty());
    let out = c
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("missing")
        .send()
        .await
        .unwrap();
    assert!(out.auto_scaling_groups().is_empty());
}

#[tokio::test]
async fn the_same_seed_launches_the_same_instances() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emu = start().await;
        let c = autoscaling(&emu, "admin");
        launch_configuration(&c, "lc").await;
        let subnets = default_subnets(&emu, 3).await;
        create_group(&c, "g", "lc", &joined(&subnets), 0, 5, 5).await;
        let g = group(&c, "g").await;
        runs.push((g.auto_scaling_group_arn().unwrap().to_string(), ids(&g)));
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn a_role_without_the_action_is_refused() {
    let emu = start().await;
    // The control plane may describe groups (its policy allows it) but not create them.
    let cp = autoscaling(&emu, "controlplane");
    cp.describe_auto_scaling_groups().send().await.unwrap();
    let (code, msg, status) = expect_err!(
        cp.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("t3.micro")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(
        msg.contains("assumed-role/controlplane/awsemu is not authorized to perform: autoscaling:CreateLaunchConfiguration"),
        "{msg}"
    );
    let (code, _, _) = expect_err!(
        autoscaling(&emu, "worker")
            .describe_auto_scaling_groups()
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
}

#[tokio::test]
async fn more_refusals_each_with_its_code() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    let all = joined(&subnets);
    let lc = || {
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("t3.micro")
    };
    let (_, msg, _) = expect_err!(lc().placement_tenancy("host").send().await);
    assert!(msg.contains("PlacementTenancy"), "{msg}");
    let (_, msg, _) = expect_err!(
        lc().metadata_options(
            InstanceMetadataOptions::builder()
                .http_put_response_hop_limit(65)
                .build()
        )
        .send()
        .await
    );
    assert!(
        msg.contains("'metadataOptions.httpPutResponseHopLimit'"),
        "{msg}"
    );
    let (_, msg, _) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("x")
            .image_id(AMI)
            .instance_type("huge")
            .send()
            .await
    );
    assert_eq!(msg, "Invalid instance type: huge");
    let (_, msg, _) = expect_err!(
        lc().block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvdf")
                .ebs(Ebs::builder().volume_size(10).volume_type("io2").build())
                .build()
        )
        .send()
        .await
    );
    assert_eq!(msg, "The parameter iops must be specified for io2 volumes.");
    let (_, msg, _) = expect_err!(
        lc().block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(Ebs::builder().volume_size(2).build())
                .build()
        )
        .send()
        .await
    );
    assert!(msg.contains("smaller than snapshot"), "{msg}");

    let base = || {
        c.create_auto_scaling_group()
            .auto_scaling_group_name("h")
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(2)
            .vpc_zone_identifier(&all)
    };
    let (_, msg, _) = expect_err!(base().termination_policies("Whatever").send().await);
    assert!(
        msg.starts_with("Termination policy Whatever is not valid"),
        "{msg}"
    );
    let (_, msg, _) = expect_err!(base().health_check_type("PING").send().await);
    assert!(msg.contains("'PING'"), "{msg}");
    let (_, msg, _) = expect_err!(base().default_cooldown(-1).send().await);
    assert_eq!(msg, "1 validation error detected: Value '-1' at 'defaultCooldown' failed to satisfy constraint: Member must have value greater than or equal to 0");
    let (_, msg, _) = expect_err!(
        base()
            .tags(
                Tag::builder()
                    .key("k")
                    .value("v")
                    .resource_id("another-group")
                    .build()
            )
            .send()
            .await
    );
    assert!(msg.contains("another-group"), "{msg}");
    let (code, msg, status) = expect_err!(
        base()
            .traffic_sources(
                aws_sdk_autoscaling::types::TrafficSourceIdentifier::builder()
                    .identifier(
                        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"
                    )
                    .build()
            )
            .send()
            .await
    );
    // TrafficSources are checked like TargetGroupARNs: this target group does not exist.
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(
        msg,
        "Provided Target Groups may not be valid. Please ensure they exist and try again."
    );
    let (_, msg, _) = expect_err!(
        base()
            .mixed_instances_policy(
                aws_sdk_autoscaling::types::MixedInstancesPolicy::builder()
                    .launch_template(
                        aws_sdk_autoscaling::types::LaunchTemplate::builder()
                            .launch_template_specification(
                                LaunchTemplateSpecification::builder()
                                    .launch_template_id("lt-0123456789abcdef0")
                                    .build()
                            )
                            .build()
                    )
                    .build()
            )
            .send()
            .await
    );
    // `base()` names a launch configuration too: two launch sources are one too many.
    assert_eq!(msg, "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.");
    let (_, msg, _) = expect_err!(
        c.describe_auto_scaling_groups()
            .filters(Filter::builder().name("name").values("h").build())
            .send()
            .await
    );
    assert_eq!(
        msg,
        "Filter type name is not correct. Allowed Filter types are: tag-key tag-value tag:<key>"
    );
    let (code, _, _) = expect_err!(c.describe_tags().max_records(0).send().await);
    assert_eq!(code, "ValidationError");
    let (_, msg, _) = expect_err!(c.create_or_update_tags().send().await);
    assert!(msg.contains("'tags'"), "{msg}");
    assert_eq!(groups_named(&c, "h").await, 0);

    // Zone ids name zones too.
    c.create_auto_scaling_group()
        .auto_scaling_group_name("by-id")
        .launch_configuration_name("lc")
        .min_size(1)
        .max_size(1)
        .availability_zone_ids("use1-az2")
        .send()
        .await
        .unwrap();
    let g = group(&c, "by-id").await;
    assert_eq!(g.availability_zones(), ["us-east-1b".to_string()]);
    assert_eq!(zones_of(&g), vec!["us-east-1b".to_string()]);
}

#[tokio::test]
async fn deletion_protection_refuses_deletes() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    c.create_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("lc")
        .min_size(0)
        .max_size(1)
        .desired_capacity(1)
        .vpc_zone_identifier(joined(&subnets))
        .deletion_protection(aws_sdk_autoscaling::types::DeletionProtection::PreventForceDeletion)
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .force_delete(true)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("prevents force deletion"), "{msg}");
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .deletion_protection(aws_sdk_autoscaling::types::DeletionProtection::PreventAllDeletion)
        .desired_capacity(0)
        .send()
        .await
        .unwrap();
    let g = group(&c, "g").await;
    assert_eq!(
        g.deletion_protection(),
        Some(&aws_sdk_autoscaling::types::DeletionProtection::PreventAllDeletion)
    );
    let (_, msg, _) = expect_err!(
        c.delete_auto_scaling_group()
            .auto_scaling_group_name("g")
            .send()
            .await
    );
    assert!(msg.contains("prevents all deletion"), "{msg}");
    c.update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .deletion_protection(aws_sdk_autoscaling::types::DeletionProtection::None)
        .send()
        .await
        .unwrap();
    c.delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(groups_named(&c, "g").await, 0);
}

#[tokio::test]
async fn tags_of_a_group_pending_delete_cannot_change() {
    let emu = realistic().await;
    let c = autoscaling(&emu, "admin");
    launch_configuration(&c, "lc").await;
    let subnets = default_subnets(&emu, 1).await;
    create_group(&c, "g", "lc", &joined(&subnets), 1, 1, 1).await;
    c.delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.create_or_update_tags()
            .tags(
                Tag::builder()
                    .resource_id("g")
                    .resource_type("auto-scaling-group")
                    .key("k")
                    .value("v")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "The AutoScaling group may not be modified while it is pending delete"
    );
    // The launch configuration stays in use until the group is gone.
    let (code, _, _) = expect_err!(
        c.delete_launch_configuration()
            .launch_configuration_name("lc")
            .send()
            .await
    );
    assert_eq!(code, "ResourceInUse");
}

#[tokio::test]
async fn launch_configurations_need_a_stored_instance_profile() {
    let emu = start().await;
    let c = autoscaling(&emu, "admin");
    let (code, msg, status) = expect_err!(
        c.create_launch_configuration()
            .launch_configuration_name("lc-bad-profile")
            .image_id("ami-0123456789abcdef0")
            .instance_type("t3.micro")
            .iam_instance_profile("no-such-profile")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(msg, "Invalid IamInstanceProfile: no-such-profile");
    // By ARN, a built-in profile is fine.
    c.create_launch_configuration()
        .launch_configuration_name("lc-arn-profile")
        .image_id("ami-0123456789abcdef0")
        .instance_type("t3.micro")
        .iam_instance_profile(format!(
            "arn:aws:iam::{}:instance-profile/controlplane",
            emu.account_id()
        ))
        .send()
        .await
        .unwrap();
}

// ---- Load balancers and target groups ----

use aws_sdk_autoscaling::types::TrafficSourceIdentifier;
use aws_sdk_elasticloadbalancing::types::{
    ConnectionDraining, Instance as ElbInstance, Listener as ElbListener, LoadBalancerAttributes,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as V2Action, ActionTypeEnum, ProtocolEnum, TargetDescription, TargetTypeEnum,
};
use client_tests::fixtures::{default_vpc, run_instance};
use client_tests::{elb, elbv2};

/// What the traffic tests share: the clients, a classic load balancer `web` in zones a and b, a
/// TCP target group on port 30080 that a network load balancer forwards to (so its targets turn
/// healthy), and the default subnets of zones a and b.
struct Traffic {
    emu: Emulator,
    asg: Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    v2: aws_sdk_elasticloadbalancingv2::Client,
    tg: String,
    subnets: Vec<(String, String)>,
}

/// A target group in the default VPC; its ARN.
async fn target_group(
    v2: &aws_sdk_elasticloadbalancingv2::Client,
    vpc: &str,
    name: &str,
    kind: TargetTypeEnum,
) -> String {
    v2.create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Tcp)
        .port(30080)
        .vpc_id(vpc)
        .target_type(kind)
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

/// The traffic fixture on an emulator with a manual clock (`timing` as given).
async fn traffic(timing: Timing) -> Traffic {
    let emu = Emulator::builder()
        .seed(1)
        .timing(timing)
        .manual_clock(1_700_000_000_000)
        .start()
        .await
        .unwrap();
    let asg = autoscaling(&emu, "admin");
    let elb = elb(&emu, "admin");
    let v2 = elbv2(&emu, "admin");
    let subnets = default_subnets(&emu, 2).await;
    elb.create_load_balancer()
        .load_balancer_name("web")
        .listeners(
            ElbListener::builder()
                .protocol("tcp")
                .load_balancer_port(80)
                .instance_port(30080)
                .build()
                .unwrap(),
        )
        .subnets(&subnets[0].1)
        .subnets(&subnets[1].1)
        .send()
        .await
        .expect("create classic load balancer");
    let vpc = default_vpc(&ec2(&emu, "admin")).await;
    let tg = target_group(&v2, &vpc, "web-tg", TargetTypeEnum::Instance).await;
    let lb = v2
        .create_load_balancer()
        .name("web-nlb")
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .subnets(&subnets[0].1)
        .subnets(&subnets[1].1)
        .send()
        .await
        .expect("create nlb")
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    v2.create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .default_actions(
            V2Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&tg)
                .build(),
        )
        .send()
        .await
        .expect("create listener");
    launch_configuration(&asg, "lc").await;
    Traffic {
        emu,
        asg,
        elb,
        v2,
        tg,
        subnets,
    }
}

impl Traffic {
    /// (instance id, State) of every instance the classic load balancer `web` has.
    async fn classic(&self) -> Vec<(String, String)> {
        let out = self
            .elb
            .describe_instance_health()
            .load_balancer_name("web")
            .send()
            .await
            .expect("describe instance health");
        let mut v: Vec<(String, String)> = out
            .instance_states()
            .iter()
            .map(|s| {
                (
                    s.instance_id().unwrap().to_string(),
                    s.state().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// (instance id, port, state) of every target of the target group.
    async fn targets(&self) -> Vec<(String, i32, String)> {
        let out = self
            .v2
            .describe_target_health()
            .target_group_arn(&self.tg)
            .send()
            .await
            .expect("describe target health");
        let mut v: Vec<(String, i32, String)> = out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let t = d.target().unwrap();
                (
                    t.id().unwrap().to_string(),
                    t.port().unwrap(),
                    d.target_health()
                        .unwrap()
                        .state()
                        .unwrap()
                        .as_str()
                        .to_string(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// (LoadBalancerName, State) from Auto Scaling's DescribeLoadBalancers.
    async fn lb_states(&self, group: &str) -> Vec<(String, String)> {
        let out = self
            .asg
            .describe_load_balancers()
            .auto_scaling_group_name(group)
            .send()
            .await
            .expect("describe load balancers");
        out.load_balancers()
            .iter()
            .map(|s| {
                (
                    s.load_balancer_name().unwrap().to_string(),
                    s.state().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// (LoadBalancerTargetGroupARN, State) from DescribeLoadBalancerTargetGroups.
    async fn tg_states(&self, group: &str) -> Vec<(String, String)> {
        let out = self
            .asg
            .describe_load_balancer_target_groups()
            .auto_scaling_group_name(group)
            .send()
            .await
            .expect("describe load balancer target groups");
        out.load_balancer_target_groups()
            .iter()
            .map(|s| {
                (
                    s.load_balancer_target_group_arn().unwrap().to_string(),
                    s.state().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// (Identifier, Type, State) from DescribeTrafficSources.
    async fn source_states(
        &self,
        group: &str,
        kind: Option<&str>,
    ) -> Vec<(String, String, String)> {
        let out = self
            .asg
            .describe_traffic_sources()
            .auto_scaling_group_name(group)
            .set_traffic_source_type(kind.map(str::to_string))
            .send()
            .await
            .expect("describe traffic sources");
        out.traffic_sources()
            .iter()
            .map(|s| {
                // The deprecated member still carries the identifier.
                #[allow(deprecated)]
                let old = s.traffic_source();
                assert_eq!(old, s.identifier());
                (
                    s.identifier().unwrap().to_string(),
                    s.r#type().unwrap().to_string(),
                    s.state().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_group_registers_its_instances_with_its_load_balancers_and_deregisters_those_that_leave()
{
    let t = traffic(Timing::Instant).await;
    t.asg
        .create_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("lc")
        .min_size(0)
        .max_size(4)
        .desired_capacity(2)
        .vpc_zone_identifier(joined(&t.subnets))
        .load_balancer_names("web")
        .target_group_arns(&t.tg)
        .health_check_type("ELB")
        .health_check_grace_period(300)
        .send()
        .await
        .expect("create group");
    let g = group(&t.asg, "g").await;
    let members = sorted(ids(&g));
    assert_eq!(members.len(), 2);
    assert_eq!(g.load_balancer_names(), ["web"]);
    assert_eq!(g.target_group_arns(), std::slice::from_ref(&t.tg));
    let sources: Vec<(String, String)> = g
        .traffic_sources()
        .iter()
        .map(|s| {
            (
                s.identifier().unwrap().to_string(),
                s.r#type().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("web".to_string(), "elb".to_string()),
            (t.tg.clone(), "elbv2".to_string())
        ]
    );

    // Both instances are in service behind the classic load balancer and healthy in the target
    // group, on the group's port.
    let in_service: Vec<(String, String)> = members
        .iter()
        .map(|id| (id.clone(), "InService".to_string()))
        .collect();
    assert_eq!(t.classic().await, in_service);
    let healthy: Vec<(String, i32, String)> = members
        .iter()
        .map(|id| (id.clone(), 30080, "healthy".to_string()))
        .collect();
    assert_eq!(t.targets().await, healthy);
    // Named at creation: InService at once, as AWS documents.
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "InService".to_string())]
    );
    assert_eq!(
        t.tg_states("g").await,
        [(t.tg.clone(), "InService".to_string())]
    );
    assert_eq!(
        t.source_states("g", None).await,
        [
            (
                "web".to_string(),
                "elb".to_string(),
                "InService".to_string()
            ),
            (t.tg.clone(), "elbv2".to_string(), "InService".to_string())
        ]
    );
    assert_eq!(
        t.source_states("g", Some("elbv2")).await,
        [(t.tg.clone(), "elbv2".to_string(), "InService".to_string())]
    );

    // Scale in: the instance that goes leaves the classic load balancer at once and drains from
    // the target group for its deregistration delay (300 s by default).
    t.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(1)
        .send()
        .await
        .unwrap();
    // Under instant timing the instance has terminated and left the group by the next call.
    let left = ids(&group(&t.asg, "g").await);
    assert_eq!(left.len(), 1);
    let stay = left[0].clone();
    let victim = members.iter().find(|id| **id != stay).unwrap().clone();
    assert_eq!(t.classic().await, [(stay.clone(), "InService".to_string())]);
    let mut expected = vec![
        (stay.clone(), 30080, "healthy".to_string()),
        (victim.clone(), 30080, "draining".to_string()),
    ];
    expected.sort();
    assert_eq!(t.targets().await, expected);
    t.emu.advance(Duration::from_secs(300));
    assert_eq!(
        t.targets().await,
        [(stay.clone(), 30080, "healthy".to_string())]
    );

    // Scale out: the new instance joins both.
    t.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let now = sorted(ids(&group(&t.asg, "g").await));
    assert_eq!(now.len(), 2);
    assert_eq!(
        t.classic()
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        now
    );
    assert_eq!(
        t.targets()
            .await
            .into_iter()
            .map(|(id, _, _)| id)
            .collect::<Vec<_>>(),
        now
    );

    // An instance terminated behind the group's back is deregistered and replaced; the
    // replacement is registered.
    ec2(&t.emu, "admin")
        .terminate_instances()
        .instance_ids(&stay)
        .send()
        .await
        .unwrap();
    let after = sorted(
        group(&t.asg, "g")
            .await
            .instances()
            .iter()
            .filter(|i| i.lifecycle_state() == Some(&LifecycleState::InService))
            .map(|i| i.instance_id().unwrap().to_string())
            .collect(),
    );
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&stay));
    assert_eq!(
        t.classic()
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        after
    );
    let targets = t.targets().await;
    assert!(targets.contains(&(stay.clone(), 30080, "draining".to_string())));
    for id in &after {
        assert!(targets.contains(&(id.clone(), 30080, "healthy".to_string())));
    }

    // Deleting the group deregisters every instance.
    t.asg
        .delete_auto_scaling_group()
        .auto_scaling_group_name("g")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    assert!(t.classic().await.is_empty());
    assert!(t
        .targets()
        .await
        .iter()
        .all(|(_, _, state)| state == "draining"));
}

#[tokio::test]
async fn attach_and_detach_leave_others_registrations_alone() {
    let t = traffic(Timing::Instant).await;
    create_group(&t.asg, "g", "lc", &joined(&t.subnets), 0, 2, 1).await;
    let member = ids(&group(&t.asg, "g").await).remove(0);
    assert!(t.lb_states("g").await.is_empty());
    assert!(t.classic().await.is_empty());

    // An instance of someone else's, registered by hand with both.
    let mine = run_instance(&ec2(&t.emu, "admin"), &t.subnets[0].0).await;
    t.elb
        .register_instances_with_load_balancer()
        .load_balancer_name("web")
        .instances(ElbInstance::builder().instance_id(&mine).build())
        .send()
        .await
        .unwrap();
    t.v2.register_targets()
        .target_group_arn(&t.tg)
        .targets(TargetDescription::builder().id(&mine).build())
        .send()
        .await
        .unwrap();

    // Attached later, with EC2 health checks: Added once the instances are registered.
    t.asg
        .attach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    t.asg
        .attach_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .target_group_arns(&t.tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "Added".to_string())]
    );
    assert_eq!(
        t.tg_states("g").await,
        [(t.tg.clone(), "Added".to_string())]
    );
    let both = sorted(vec![member.clone(), mine.clone()]);
    assert_eq!(
        t.classic()
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        both
    );
    assert_eq!(
        t.targets()
            .await
            .into_iter()
            .map(|(id, _, _)| id)
            .collect::<Vec<_>>(),
        both
    );
    let g = group(&t.asg, "g").await;
    assert_eq!(g.load_balancer_names(), ["web"]);
    assert_eq!(g.target_group_arns(), std::slice::from_ref(&t.tg));

    // With ELB health checks an attachment whose instance passed them is InService.
    t.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name("g")
        .health_check_type("ELB")
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "InService".to_string())]
    );
    assert_eq!(
        t.tg_states("g").await,
        [(t.tg.clone(), "InService".to_string())]
    );

    // Attaching again changes nothing.
    t.asg
        .attach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    assert_eq!(t.lb_states("g").await.len(), 1);

    // Detaching deregisters the group's instance only. Without connection draining the classic
    // load balancer is gone at once; the target group is Removing while its target drains.
    t.asg
        .detach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    assert!(t.lb_states("g").await.is_empty());
    assert_eq!(t.classic().await, [(mine.clone(), "InService".to_string())]);
    t.asg
        .detach_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .target_group_arns(&t.tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.tg_states("g").await,
        [(t.tg.clone(), "Removing".to_string())]
    );
    let g = group(&t.asg, "g").await;
    assert!(g.load_balancer_names().is_empty());
    assert!(g.target_group_arns().is_empty());
    assert!(g.traffic_sources().is_empty());
    let mut expected = vec![
        (member.clone(), 30080, "draining".to_string()),
        (mine.clone(), 30080, "healthy".to_string()),
    ];
    expected.sort();
    assert_eq!(t.targets().await, expected);
    t.emu.advance(Duration::from_secs(300));
    assert!(t.tg_states("g").await.is_empty());
    assert_eq!(
        t.targets().await,
        [(mine.clone(), 30080, "healthy".to_string())]
    );
    // Instances stay running and in the group.
    assert_eq!(
        ids(&group(&t.asg, "g").await),
        std::slice::from_ref(&member)
    );

    // Connection draining keeps a detached classic load balancer Removing for its timeout.
    t.elb
        .modify_load_balancer_attributes()
        .load_balancer_name("web")
        .load_balancer_attributes(
            LoadBalancerAttributes::builder()
                .connection_draining(
                    ConnectionDraining::builder()
                        .enabled(true)
                        .timeout(60)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    t.asg
        .attach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    // A registration its owner removes by hand is not made again by the group.
    t.elb
        .deregister_instances_from_load_balancer()
        .load_balancer_name("web")
        .instances(ElbInstance::builder().instance_id(&member).build())
        .send()
        .await
        .unwrap();
    group(&t.asg, "g").await;
    assert_eq!(t.classic().await, [(mine.clone(), "InService".to_string())]);
    t.asg
        .detach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "Removing".to_string())]
    );
    t.emu.advance(Duration::from_secs(60));
    assert!(t.lb_states("g").await.is_empty());
    assert_eq!(t.classic().await, [(mine, "InService".to_string())]);
}

#[tokio::test]
async fn an_attachment_is_adding_until_pending_instances_are_registered() {
    let t = traffic(Timing::Realistic).await;
    create_group(&t.asg, "g", "lc", &joined(&t.subnets), 0, 2, 2).await;
    t.asg
        .attach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    // The instances are still pending: nothing is registered yet.
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "Adding".to_string())]
    );
    assert!(t.classic().await.is_empty());
    t.emu.advance(Duration::from_secs(15));
    assert_eq!(
        t.lb_states("g").await,
        [("web".to_string(), "Added".to_string())]
    );
    let members = sorted(ids(&group(&t.asg, "g").await));
    assert_eq!(
        t.classic()
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        members
    );
}

#[tokio::test]
async fn elb_health_checks_replace_instances_a_load_balancer_reports_failing() {
    let t = traffic(Timing::Instant).await;
    // A classic load balancer that serves zone a only: the instance in zone b is out of service
    // for good, which the group's ELB health check sees after the grace period.
    t.elb
        .create_load_balancer()
        .load_balancer_name("only-a")
        .listeners(
            ElbListener::builder()
                .protocol("tcp")
                .load_balancer_port(80)
                .instance_port(30080)
                .build()
                .unwrap(),
        )
        .subnets(&t.subnets[0].1)
        .send()
        .await
        .unwrap();
    t.asg
        .create_auto_scaling_group()
        .auto_scaling_group_name("g")
        .launch_configuration_name("lc")
        .min_size(0)
        .max_size(4)
        .desired_capacity(2)
        .vpc_zone_identifier(joined(&t.subnets))
        .load_balancer_names("only-a")
        .health_check_type("ELB")
        .health_check_grace_period(120)
        .send()
        .await
        .unwrap();
    let g = group(&t.asg, "g").await;
    let in_b = g
        .instances()
        .iter()
        .find(|i| i.availability_zone() == Some(t.subnets[1].0.as_str()))
        .map(|i| i.instance_id().unwrap().to_string())
        .unwrap();
    assert!(g
        .instances()
        .iter()
        .all(|i| i.health_status() == Some("Healthy")));
    // Within the grace period nothing happens.
    t.emu.advance(Duration::from_secs(60));
    let g = group(&t.asg, "g").await;
    assert!(g
        .instances()
        .iter()
        .all(|i| i.health_status() == Some("Healthy")));
    t.emu.advance(Duration::from_secs(60));
    // Replaced: under instant timing the unhealthy instance has terminated and left already, and
    // its replacement went to zone b again (where it will fail the same way).
    let g = group(&t.asg, "g").await;
    assert_eq!(
        ec2_state(&t.emu, &in_b).await,
        InstanceStateName::Terminated
    );
    assert!(!ids(&g).contains(&in_b));
    assert_eq!(g.instances().len(), 2);
    assert_eq!(
        zones_of(&g),
        [t.subnets[0].0.clone(), t.subnets[1].0.clone()]
    );
    // The load balancer no longer has it.
    assert!(!t
        .elb
        .describe_instance_health()
        .load_balancer_name("only-a")
        .send()
        .await
        .unwrap()
        .instance_states()
        .iter()
        .any(|s| s.instance_id() == Some(in_b.as_str())));
}

#[tokio::test]
async fn unknown_or_unfit_load_balancers_and_target_groups_are_refused() {
    let t = traffic(Timing::Instant).await;
    let vpc = default_vpc(&ec2(&t.emu, "admin")).await;
    let ip_tg = target_group(&t.v2, &vpc, "ip-tg", TargetTypeEnum::Ip).await;
    let missing_tg = t.tg.replace("web-tg", "gone-tg");
    let create = |lbs: Vec<&str>, tgs: Vec<&str>| {
        let mut req = t
            .asg
            .create_auto_scaling_group()
            .auto_scaling_group_name("bad")
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(1)
            .vpc_zone_identifier(joined(&t.subnets));
        for l in lbs {
            req = req.load_balancer_names(l);
        }
        for a in tgs {
            req = req.target_group_arns(a);
        }
        req.send()
    };
    let lb_msg =
        "Provided Load Balancers may not be valid. Please ensure they exist and try again.";
    let tg_msg = "Provided Target Groups may not be valid. Please ensure they exist and try again.";
    let (code, msg, status) = expect_err!(create(vec!["nope"], vec![]).await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("ValidationError", lb_msg, 400)
    );
    let (code, msg, _) = expect_err!(create(vec![], vec![&missing_tg]).await);
    assert_eq!((code.as_str(), msg.as_str()), ("ValidationError", tg_msg));
    // A load balancer's ARN is no target group.
    let (_, msg, _) = expect_err!(create(vec![], vec!["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/0123456789abcdef"]).await);
    assert_eq!(msg, tg_msg);
    let (code, msg, _) = expect_err!(create(vec![], vec![&ip_tg]).await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        format!("Provided Target Group '{ip_tg}' has invalid target type. Please ensure all provided Target Groups have target type of instance.")
    );
    // Nothing was created.
    assert_eq!(groups_named(&t.asg, "bad").await, 0);

    create_group(&t.asg, "g", "lc", &joined(&t.subnets), 0, 2, 1).await;
    let (code, msg, _) = expect_err!(
        t.asg
            .attach_load_balancers()
            .auto_scaling_group_name("g")
            .load_balancer_names("web")
            .load_balancer_names("nope")
            .send()
            .await
    );
    assert_eq!((code.as_str(), msg.as_str()), ("ValidationError", lb_msg));
    // All or nothing: web was not attached either.
    assert!(t.lb_states("g").await.is_empty());
    let (_, msg, _) = expect_err!(
        t.asg
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name("g")
            .target_group_arns(&missing_tg)
            .send()
            .await
    );
    assert_eq!(msg, tg_msg);
    let mut req = t
        .asg
        .attach_load_balancer_target_groups()
        .auto_scaling_group_name("g");
    for _ in 0..11 {
        req = req.target_group_arns(&t.tg);
    }
    let (code, msg, _) = expect_err!(req.send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "Trying to update too many Load Balancers/Target Groups at once. The limit is 10"
    );
    let (code, msg, _) = expect_err!(
        t.asg
            .attach_load_balancers()
            .auto_scaling_group_name("nobody")
            .load_balancer_names("web")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "AutoScalingGroup name not found - AutoScalingGroup 'nobody' not found"
    );
    let (code, _, _) = expect_err!(
        t.asg
            .describe_load_balancers()
            .auto_scaling_group_name("nobody")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    let (code, msg, _) = expect_err!(
        t.asg
            .attach_traffic_sources()
            .auto_scaling_group_name("g")
            .traffic_sources(
                TrafficSourceIdentifier::builder()
                    .identifier("arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0123456789abcdef0")
                    .r#type("vpc-lattice")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(
        msg.starts_with("Provided VPC Lattice Target Groups may not be valid"),
        "{msg}"
    );
    let (code, _, _) = expect_err!(
        t.asg
            .attach_traffic_sources()
            .auto_scaling_group_name("g")
            .traffic_sources(
                TrafficSourceIdentifier::builder()
                    .identifier("nope")
                    .r#type("elb")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    // Detaching what is not attached is a no-op.
    t.asg
        .detach_load_balancers()
        .auto_scaling_group_name("g")
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn traffic_source_actions_see_every_attachment_and_describe_calls_page() {
    let t = traffic(Timing::Instant).await;
    let vpc = default_vpc(&ec2(&t.emu, "admin")).await;
    create_group(&t.asg, "g", "lc", &joined(&t.subnets), 0, 2, 1).await;
    let member = ids(&group(&t.asg, "g").await).remove(0);
    let mut tgs = Vec::new();
    for n in ["tg-1", "tg-2", "tg-3"] {
        tgs.push(target_group(&t.v2, &vpc, n, TargetTypeEnum::Instance).await);
    }
    let mut req = t
        .asg
        .attach_load_balancer_target_groups()
        .auto_scaling_group_name("g");
    for a in &tgs {
        req = req.target_group_arns(a);
    }
    req.send().await.unwrap();
    let page = t
        .asg
        .describe_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .max_records(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.load_balancer_target_groups().len(), 2);
    let next = page.next_token().expect("a second page").to_string();
    let page = t
        .asg
        .describe_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .max_records(2)
        .next_token(next)
        .send()
        .await
        .unwrap();
    assert_eq!(page.load_balancer_target_groups().len(), 1);
    assert_eq!(page.next_token(), None);
    let (code, _, _) = expect_err!(
        t.asg
            .describe_load_balancer_target_groups()
            .auto_scaling_group_name("g")
            .max_records(101)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    let (code, msg, _) = expect_err!(
        t.asg
            .describe_traffic_sources()
            .auto_scaling_group_name("g")
            .max_records(51)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("less than or equal to 50"), "{msg}");

    // Through AttachTrafficSources: the classic load balancer and the fixture's target group.
    t.asg
        .attach_traffic_sources()
        .auto_scaling_group_name("g")
        .traffic_sources(
            TrafficSourceIdentifier::builder()
                .identifier("web")
                .r#type("elb")
                .build(),
        )
        .traffic_sources(
            TrafficSourceIdentifier::builder()
                .identifier(&t.tg)
                .r#type("elbv2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.classic().await,
        [(member.clone(), "InService".to_string())]
    );
    assert_eq!(
        t.targets().await,
        [(member.clone(), 30080, "healthy".to_string())]
    );
    // The load balancer APIs do not see what AttachTrafficSources attached.
    assert!(t.lb_states("g").await.is_empty());
    assert_eq!(t.tg_states("g").await.len(), 3);
    assert!(!t.tg_states("g").await.iter().any(|(a, _)| *a == t.tg));
    let all = t.source_states("g", None).await;
    assert_eq!(all.len(), 5);
    assert!(all.contains(&("web".to_string(), "elb".to_string(), "Added".to_string())));
    assert_eq!(
        t.source_states("g", Some("elb")).await,
        [("web".to_string(), "elb".to_string(), "Added".to_string())]
    );
    let g = group(&t.asg, "g").await;
    assert!(g.load_balancer_names().is_empty());
    assert_eq!(g.target_group_arns().len(), 3);
    assert_eq!(g.traffic_sources().len(), 5);
    // DetachLoadBalancerTargetGroups leaves it alone; DetachTrafficSources detaches it.
    t.asg
        .detach_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .target_group_arns(&t.tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.targets().await,
        [(member.clone(), 30080, "healthy".to_string())]
    );
    t.asg
        .detach_traffic_sources()
        .auto_scaling_group_name("g")
        .traffic_sources(
            TrafficSourceIdentifier::builder()
                .identifier(&t.tg)
                .r#type("elbv2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.targets().await,
        [(member.clone(), 30080, "draining".to_string())]
    );
    assert!(t.source_states("g", Some("elbv2")).await.contains(&(
        t.tg.clone(),
        "elbv2".to_string(),
        "Removing".to_string()
    )));
}

#[tokio::test]
async fn a_group_takes_at_most_fifty_target_groups() {
    let t = traffic(Timing::Instant).await;
    let vpc = default_vpc(&ec2(&t.emu, "admin")).await;
    create_group(&t.asg, "g", "lc", &joined(&t.subnets), 0, 1, 0).await;
    let mut arns = vec![t.tg.clone()];
    for n in 1..51 {
        arns.push(target_group(&t.v2, &vpc, &format!("tg-{n}"), TargetTypeEnum::Instance).await);
    }
    for batch in arns[..50].chunks(10) {
        let mut req = t
            .asg
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name("g");
        for a in batch {
            req = req.target_group_arns(a);
        }
        req.send().await.expect("attach ten");
    }
    assert_eq!(t.tg_states("g").await.len(), 50);
    let (code, msg, _) = expect_err!(
        t.asg
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name("g")
            .target_group_arns(&arns[50])
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "Too many Target Groups specified for this group. The limit is 50"
    );
    // One already attached does not count twice.
    t.asg
        .attach_load_balancer_target_groups()
        .auto_scaling_group_name("g")
        .target_group_arns(&arns[0])
        .send()
        .await
        .expect("attach again");
}
