//! The actions added for the EBS CSI driver (snapshots), the AWS Load Balancer Controller
//! (listener rules), launch templates with Auto Scaling, and Rancher's EC2 node driver (key pairs,
//! account attributes, reboots, Spot), each called through aws-sdk-rust, whose parsers read every
//! answer into typed values. boto3 covers the same actions in the conformance suite; the
//! behaviour is tested over HTTP in `emulator/tests/`.

use aws_sdk_autoscaling::types::LaunchTemplateSpecification as AsgTemplate;
use aws_sdk_ec2::types::{
    AccountAttributeName, Filter, InstanceMarketOptionsRequest, InstanceType, KeyType,
    LaunchTemplateSpecification, MarketType, RequestLaunchTemplateData, SnapshotState,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, PathPatternConditionConfig, RuleCondition, RulePriorityPair,
};
use client_tests::{autoscaling, ec2, elbv2, expect_err, start};

const AMI: &str = "ami-0123456789abcdef0";

#[tokio::test]
async fn snapshots_and_fast_restores() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vol = c
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .unwrap();
    let vol_id = vol.volume_id().unwrap();
    let snap = c
        .create_snapshot()
        .volume_id(vol_id)
        .description("nightly")
        .send()
        .await
        .unwrap();
    let snap_id = snap.snapshot_id().unwrap().to_string();
    assert_eq!(snap.state(), Some(&SnapshotState::Pending));
    assert_eq!(snap.volume_size(), Some(8));
    let described = c
        .describe_snapshots()
        .snapshot_ids(&snap_id)
        .send()
        .await
        .unwrap();
    let s = &described.snapshots()[0];
    assert_eq!(s.state(), Some(&SnapshotState::Completed));
    assert_eq!(s.progress(), Some("100%"));
    assert_eq!(s.description(), Some("nightly"));
    let own = c
        .describe_snapshots()
        .owner_ids("self")
        .send()
        .await
        .unwrap();
    assert_eq!(own.snapshots().len(), 1);
    let copy = c
        .copy_snapshot()
        .source_snapshot_id(&snap_id)
        .source_region("us-east-1")
        .send()
        .await
        .unwrap();
    let copy_id = copy.snapshot_id().unwrap().to_string();
    assert_ne!(copy_id, snap_id);
    let restored = c
        .create_volume()
        .availability_zone("us-east-1b")
        .snapshot_id(&snap_id)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.size(), Some(8));
    assert_eq!(restored.snapshot_id(), Some(snap_id.as_str()));
    let (code, _, _) = expect_err!(
        c.create_volume()
            .availability_zone("us-east-1b")
            .snapshot_id(&snap_id)
            .size(4)
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let enabled = c
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snap_id)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.successful().len(), 1);
    assert!(enabled.unsuccessful().is_empty());
    let listed = c.describe_fast_snapshot_restores().send().await.unwrap();
    assert_eq!(listed.fast_snapshot_restores().len(), 1);
    assert_eq!(
        listed.fast_snapshot_restores()[0].snapshot_id(),
        Some(snap_id.as_str())
    );
    let disabled = c
        .disable_fast_snapshot_restores()
        .source_snapshot_ids(&snap_id)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.successful().len(), 1);
    c.delete_snapshot()
        .snapshot_id(&copy_id)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(c.delete_snapshot().snapshot_id(&copy_id).send().await);
    assert_eq!(code, "InvalidSnapshot.NotFound");
}

#[tokio::test]
async fn listener_rules() {
    let emu = start().await;
    let e = ec2(&emu, "admin");
    let lb = elbv2(&emu, "admin");
    let subnets = e
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut subnet_ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    subnet_ids.sort();
    let vpc = subnets.subnets()[0].vpc_id().unwrap().to_string();
    let alb = lb
        .create_load_balancer()
        .name("web")
        .subnets(&subnet_ids[0])
        .subnets(&subnet_ids[1])
        .send()
        .await
        .unwrap();
    let alb_arn = alb.load_balancers()[0].load_balancer_arn().unwrap();
    let tg = lb
        .create_target_group()
        .name("api")
        .protocol("HTTP".into())
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build();
    let listener = lb
        .create_listener()
        .load_balancer_arn(alb_arn)
        .protocol("HTTP".into())
        .port(80)
        .default_actions(forward.clone())
        .send()
        .await
        .unwrap();
    let listener_arn = listener.listeners()[0].listener_arn().unwrap();
    let path = |p: &str| {
        RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(PathPatternConditionConfig::builder().values(p).build())
            .build()
    };
    let mut arns = Vec::new();
    for (priority, p) in [(10, "/api/*"), (20, "/img/*")] {
        let made = lb
            .create_rule()
            .listener_arn(listener_arn)
            .priority(priority)
            .conditions(path(p))
            .actions(forward.clone())
            .send()
            .await
            .unwrap();
        let rule = &made.rules()[0];
        assert_eq!(rule.priority(), Some(priority.to_string().as_str()));
        assert_eq!(rule.is_default(), Some(false));
        arns.push(rule.rule_arn().unwrap().to_string());
    }
    let (code, _, _) = expect_err!(
        lb.create_rule()
            .listener_arn(listener_arn)
            .priority(10)
            .conditions(path("/x"))
            .actions(forward.clone())
            .send()
            .await
    );
    assert_eq!(code, "PriorityInUse");
    let rules = lb
        .describe_rules()
        .listener_arn(listener_arn)
        .send()
        .await
        .unwrap();
    let priorities: Vec<&str> = rules.rules().iter().filter_map(|r| r.priority()).collect();
    assert_eq!(priorities, ["10", "20", "default"]);
    let first = &rules.rules()[0].conditions()[0];
    assert_eq!(first.values(), ["/api/*"]);
    assert_eq!(
        first.path_pattern_config().map(|c| c.values()),
        Some(&["/api/*".to_string()][..])
    );
    lb.modify_rule()
        .rule_arn(&arns[0])
        .conditions(path("/v2/*"))
        .reset_transforms(true)
        .send()
        .await
        .unwrap();
    lb.set_rule_priorities()
        .rule_priorities(
            RulePriorityPair::builder()
                .rule_arn(&arns[0])
                .priority(20)
                .build(),
        )
        .rule_priorities(
            RulePriorityPair::builder()
                .rule_arn(&arns[1])
                .priority(10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let rules = lb
        .describe_rules()
        .rule_arns(&arns[0])
        .send()
        .await
        .unwrap();
    assert_eq!(rules.rules()[0].priority(), Some("20"));
    assert_eq!(rules.rules()[0].conditions()[0].values(), ["/v2/*"]);
    lb.delete_rule().rule_arn(&arns[0]).send().await.unwrap();
    let (code, _, _) = expect_err!(lb.delete_rule().rule_arn(&arns[0]).send().await);
    assert_eq!(code, "RuleNotFound");
}

#[tokio::test]
async fn launch_templates_and_groups_launching_from_them() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let data = RequestLaunchTemplateData::builder()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .build();
    let made = c
        .create_launch_template()
        .launch_template_name("nodes")
        .launch_template_data(data)
        .send()
        .await
        .unwrap();
    let lt = made.launch_template().unwrap();
    let lt_id = lt.launch_template_id().unwrap().to_string();
    assert_eq!(lt.latest_version_number(), Some(1));
    let v2 = c
        .create_launch_template_version()
        .launch_template_id(&lt_id)
        .source_version("1")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .instance_type(InstanceType::M5Large)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v2 = v2.launch_template_version().unwrap();
    assert_eq!(v2.version_number(), Some(2));
    let v2_data = v2.launch_template_data().unwrap();
    assert_eq!(v2_data.image_id(), Some(AMI));
    assert_eq!(v2_data.instance_type(), Some(&InstanceType::M5Large));
    c.modify_launch_template()
        .launch_template_id(&lt_id)
        .default_version("2")
        .send()
        .await
        .unwrap();
    let listed = c
        .describe_launch_templates()
        .launch_template_names("nodes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.launch_templates()[0].default_version_number(),
        Some(2)
    );
    let versions = c
        .describe_launch_template_versions()
        .launch_template_id(&lt_id)
        .versions("$Latest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.launch_template_versions()[0].version_number(),
        Some(2)
    );
    let run = c
        .run_instances()
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_name("nodes")
                .build(),
        )
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        run.instances()[0].instance_type(),
        Some(&InstanceType::M5Large)
    );

    let a = autoscaling(&emu, "admin");
    a.create_auto_scaling_group()
        .auto_scaling_group_name("workers")
        .launch_template(
            AsgTemplate::builder()
                .launch_template_id(&lt_id)
                .version("$Latest")
                .build(),
        )
        .min_size(0)
        .max_size(3)
        .desired_capacity(1)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    a.set_desired_capacity()
        .auto_scaling_group_name("workers")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        a.set_desired_capacity()
            .auto_scaling_group_name("workers")
            .desired_capacity(9)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    let instances = a.describe_auto_scaling_instances().send().await.unwrap();
    let members = instances.auto_scaling_instances();
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[0]
            .launch_template()
            .and_then(|t| t.launch_template_id()),
        Some(lt_id.as_str())
    );
    let leaving = members[0].instance_id().unwrap();
    let terminated = a
        .terminate_instance_in_auto_scaling_group()
        .instance_id(leaving)
        .should_decrement_desired_capacity(true)
        .send()
        .await
        .unwrap();
    assert!(terminated
        .activity()
        .and_then(|x| x.description())
        .is_some_and(|d| d.contains(leaving)));
    let activities = a
        .describe_scaling_activities()
        .auto_scaling_group_name("workers")
        .send()
        .await
        .unwrap();
    assert_eq!(
        activities.activities().len(),
        3,
        "two launches, one termination"
    );
    c.delete_launch_template_versions()
        .launch_template_id(&lt_id)
        .versions("1")
        .send()
        .await
        .unwrap();
    a.delete_auto_scaling_group()
        .auto_scaling_group_name("workers")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    c.delete_launch_template()
        .launch_template_id(&lt_id)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.describe_launch_templates()
            .launch_template_ids(&lt_id)
            .send()
            .await
    );
    assert_eq!(code, "InvalidLaunchTemplateId.NotFound");
}

#[tokio::test]
async fn what_node_drivers_call() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let created = c
        .create_key_pair()
        .key_name("made")
        .key_type(KeyType::Ed25519)
        .send()
        .await
        .unwrap();
    assert!(created
        .key_material()
        .is_some_and(|m| m.contains("OPENSSH PRIVATE KEY")));
    let imported = c
        .import_key_pair()
        .key_name("mine")
        .public_key_material(aws_smithy_types::Blob::new(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5V1SIV8qY/jvkYBlmkABG+AcwzpKbwmynW327coPQi me",
        ))
        .send()
        .await
        .unwrap();
    assert!(imported.key_fingerprint().is_some());
    let (code, _, _) = expect_err!(c.create_key_pair().key_name("made").send().await);
    assert_eq!(code, "InvalidKeyPair.Duplicate");
    let pairs = c.describe_key_pairs().send().await.unwrap();
    let names: Vec<&str> = pairs
        .key_pairs()
        .iter()
        .filter_map(|k| k.key_name())
        .collect();
    assert_eq!(names, ["made", "mine"]);
    let attrs = c
        .describe_account_attributes()
        .attribute_names(AccountAttributeName::DefaultVpc)
        .send()
        .await
        .unwrap();
    let values = attrs.account_attributes()[0].attribute_values();
    assert!(values[0]
        .attribute_value()
        .is_some_and(|v| v.starts_with("vpc-")));
    let run = c
        .run_instances()
        .image_id(AMI)
        .key_name("mine")
        .instance_market_options(
            InstanceMarketOptionsRequest::builder()
                .market_type(MarketType::Spot)
                .build(),
        )
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let i = &run.instances()[0];
    let id = i.instance_id().unwrap();
    assert_eq!(i.key_name(), Some("mine"));
    let request_id = i.spot_instance_request_id().unwrap().to_string();
    c.reboot_instances().instance_ids(id).send().await.unwrap();
    let spot = c
        .describe_spot_instance_requests()
        .spot_instance_request_ids(&request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(spot.spot_instance_requests()[0].instance_id(), Some(id));
    let cancelled = c
        .cancel_spot_instance_requests()
        .spot_instance_request_ids(&request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.cancelled_spot_instance_requests().len(), 1);
    c.delete_key_pair().key_name("made").send().await.unwrap();
    let pairs = c.describe_key_pairs().send().await.unwrap();
    assert_eq!(pairs.key_pairs().len(), 1);
    let (code, _, _) = expect_err!(c.describe_key_pairs().key_names("made").send().await);
    assert_eq!(code, "InvalidKeyPair.NotFound");
}
