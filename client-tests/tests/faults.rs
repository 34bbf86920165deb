//! Injected faults through the official clients: error rules (counts, `after`, principal and
//! resource globs, seeded probability), latency, AWS's token-bucket throttling with and without
//! the SDK's retries, eventual consistency of created resources, and the embedding/config API.

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::Filter;
use aws_smithy_types::retry::RetryConfig;
use awsemu::faults::{
    BucketSize, ConsistencySpec, FaultRule, FaultSpec, Mode, Origin, ThrottleSpec,
};
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, elb, expect_err, kms, start, ClientOptions, Waiting};

const AMI: &str = "ami-0123456789abcdef0";
const START_MS: i64 = 1_700_000_000_000;

fn throttle(service: &str, bucket: &str, capacity: u32, refill: f64) -> ThrottleSpec {
    ThrottleSpec {
        service: service.into(),
        buckets: [(
            bucket.to_string(),
            BucketSize {
                capacity,
                refill_per_second: refill,
            },
        )]
        .into(),
        per_action: false,
    }
}

async fn manual() -> Emulator {
    Emulator::builder()
        .seed(3)
        .manual_clock(START_MS)
        .start()
        .await
        .expect("starts")
}

#[tokio::test]
async fn error_rule_lets_after_through_fires_times_then_goes() {
    let emu = start().await;
    emu.inject(
        FaultRule::new("ec2:describevol*")
            .error("InternalError", "An internal error has occurred", 500)
            .after(1)
            .times(2),
    );
    let c = ec2(&emu, "admin");
    c.describe_volumes()
        .send()
        .await
        .expect("the first call passes");
    for left in [1, 0] {
        let (code, msg, status) = expect_err!(c.describe_volumes().send().await);
        assert_eq!(
            (code.as_str(), msg.as_str(), status),
            ("InternalError", "An internal error has occurred", 500)
        );
        let rules = emu.faults().list().rules;
        if left > 0 {
            assert_eq!(
                (rules[0].remaining, rules[0].seen, rules[0].fired),
                (Some(left), 2, 1)
            );
        } else {
            assert!(rules.is_empty(), "a spent rule goes: {rules:?}");
        }
    }
    c.describe_volumes().send().await.expect("spent");
    // Other actions were never matched.
    c.describe_regions().send().await.expect("not matched");
}

#[tokio::test]
async fn errors_come_in_each_protocols_envelope() {
    let emu = start().await;
    emu.inject(
        FaultRule::new("elasticloadbalancing:DescribeLoadBalancers").error(
            "ServiceUnavailable",
            "Service is unavailable",
            503,
        ),
    );
    emu.inject(FaultRule::new("kms:ListKeys").error("KMSInternalException", "internal", 500));
    let (code, msg, status) =
        expect_err!(elb(&emu, "admin").describe_load_balancers().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("ServiceUnavailable", "Service is unavailable", 503)
    );
    let (code, msg, status) = expect_err!(kms(&emu, "admin").list_keys().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("KMSInternalException", "internal", 500)
    );
    // Without `times` a rule fires every time.
    let (code, _, _) = expect_err!(kms(&emu, "admin").list_keys().send().await);
    assert_eq!(code, "KMSInternalException");
}

#[tokio::test]
async fn principal_and_resource_globs_narrow_a_rule() {
    let emu = start().await;
    let admin = ec2(&emu, "admin");
    let vpc = admin.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    emu.inject(
        FaultRule::new("ec2:DescribeVpcs")
            .principal("control*")
            .error("Unavailable", "down", 503),
    );
    admin
        .describe_vpcs()
        .send()
        .await
        .expect("admin is not matched");
    let (code, _, status) = expect_err!(ec2(&emu, "controlplane").describe_vpcs().send().await);
    assert_eq!((code.as_str(), status), ("Unavailable", 503));
    emu.clear_faults();

    emu.inject(FaultRule::new("ec2:DescribeVpcs").resource(&vpc).error(
        "InternalError",
        "boom",
        500,
    ));
    admin.describe_vpcs().send().await.expect("names no vpc");
    let (code, _, _) = expect_err!(admin.describe_vpcs().vpc_ids(&vpc).send().await);
    assert_eq!(code, "InternalError");
    emu.clear_faults();

    // A faulted call changes nothing: CreateTags on a resource matched by ARN glob.
    emu.inject(
        FaultRule::new("ec2:CreateTags")
            .resource("arn:aws:ec2:*:vpc/vpc-*")
            .error("InternalError", "boom", 500)
            .times(1),
    );
    let tag = aws_sdk_ec2::types::Tag::builder()
        .key("k")
        .value("v")
        .build();
    let (code, _, _) = expect_err!(
        admin
            .create_tags()
            .resources(&vpc)
            .tags(tag.clone())
            .send()
            .await
    );
    assert_eq!(code, "InternalError");
    let tags = admin
        .describe_vpcs()
        .vpc_ids(&vpc)
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .tags()
        .to_vec();
    assert!(tags.iter().all(|t| t.key() != Some("k")), "{tags:?}");
    admin
        .create_tags()
        .resources(&vpc)
        .tags(tag)
        .send()
        .await
        .expect("the rule is spent");
}

#[tokio::test]
async fn a_denied_call_stays_denied_and_spends_no_fault() {
    let emu = start().await;
    emu.inject(FaultRule::new("ec2:*").error("InternalError", "boom", 500));
    let (code, _, status) = expect_err!(
        ec2(&emu, "worker")
            .create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert_eq!(emu.faults().list().rules[0].seen, 0);
}

#[tokio::test]
async fn latency_delays_the_answer_without_blocking_the_server() {
    let emu = start().await;
    emu.inject(FaultRule::new("ec2:DescribeRegions").latency_ms(400));
    let c = ec2(&emu, "admin");
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            c.describe_regions().send().await.expect("succeeds late");
            t.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    c.describe_availability_zones()
        .send()
        .await
        .expect("other calls go on");
    let quick = t.elapsed();
    let slow = slow.await.unwrap();
    assert!(slow >= Duration::from_millis(400), "{slow:?}");
    assert!(quick < Duration::from_millis(300), "{quick:?}");

    // Latency and an error together: the error arrives late.
    emu.inject(FaultRule::new("ec2:DescribeVpcs").latency_ms(200).error(
        "InternalError",
        "slow boom",
        500,
    ));
    let t = Instant::now();
    let (code, _, _) = expect_err!(c.describe_vpcs().send().await);
    assert_eq!(code, "InternalError");
    assert!(t.elapsed() >= Duration::from_millis(200));
}

/// The outcome sequence of 40 DescribeRegions under a 30% fault, for a seed.
async fn outcomes(seed: u64) -> Vec<bool> {
    let emu = Emulator::builder()
        .seed(seed)
        .fault(
            FaultRule::new("ec2:DescribeRegions")
                .error("InternalError", "maybe", 500)
                .probability(0.3),
        )
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(c.describe_regions().send().await.is_ok());
    }
    out
}

#[tokio::test]
async fn probability_is_repeatable_for_a_seed() {
    let a = outcomes(11).await;
    assert_eq!(a, outcomes(11).await, "same seed, same outcomes");
    let failed = a.iter().filter(|ok| !**ok).count();
    assert!((3..25).contains(&failed), "about 30% fail: {failed}");
    assert_ne!(a, outcomes(12).await, "another seed, another sequence");
}

#[tokio::test]
async fn ec2_throttling_is_a_token_bucket_on_the_virtual_clock() {
    let emu = manual().await;
    emu.inject(throttle("ec2", "unfiltered_unpaginated", 2, 1.0));
    let c = ec2(&emu, "admin");
    for _ in 0..2 {
        c.describe_instances().send().await.expect("tokens left");
    }
    let (code, msg, status) = expect_err!(c.describe_instances().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("RequestLimitExceeded", "Request limit exceeded.", 503)
    );
    // A filtered call draws on the non-mutating bucket, at AWS's size (100).
    c.describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .send()
        .await
        .expect("other bucket");
    let listing = emu.faults().list();
    let mut levels: Vec<(String, u32, f64)> = listing
        .buckets
        .iter()
        .map(|b| (b.category.clone(), b.capacity, b.tokens))
        .collect();
    levels.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        levels,
        [
            ("non_mutating".to_string(), 100, 99.0),
            ("unfiltered_unpaginated".to_string(), 2, 0.0)
        ]
    );
    emu.advance(Duration::from_millis(999));
    expect_err!(c.describe_instances().send().await);
    emu.advance(Duration::from_millis(1));
    c.describe_instances()
        .send()
        .await
        .expect("one token back after a second");
    expect_err!(c.describe_instances().send().await);
}

#[tokio::test]
async fn the_sdks_standard_retry_recovers_from_throttling() {
    let emu = manual().await;
    emu.inject(throttle("ec2", "unfiltered_unpaginated", 1, 2.0));
    let plain = ec2(&emu, "admin");
    plain
        .describe_instances()
        .send()
        .await
        .expect("first token");
    let (code, _, _) = expect_err!(plain.describe_instances().send().await);
    assert_eq!(code, "RequestLimitExceeded");
    // The retrying client's back-off sleeps move the virtual clock, which refills the bucket.
    let mut opts =
        ClientOptions::principal(&emu, "admin").retry(RetryConfig::standard().with_max_attempts(6));
    opts.waiting = Waiting::AdvanceClock(emu.instance().clone());
    let retrying = ec2_with(&emu, &opts);
    let before = emu.instance().clock.now_ms();
    retrying
        .describe_instances()
        .send()
        .await
        .expect("retries until the bucket refills");
    assert!(emu.instance().clock.now_ms() > before, "it backed off");
}

#[tokio::test]
async fn query_and_json_services_throttle_in_their_own_words() {
    let emu = manual().await;
    emu.inject(throttle("elasticloadbalancing", "all", 1, 0.0));
    emu.inject(throttle("kms", "all", 1, 0.0));
    let e = elb(&emu, "admin");
    e.describe_load_balancers().send().await.expect("one token");
    let (code, msg, status) = expect_err!(e.describe_load_balancers().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("Throttling", "Rate exceeded", 400)
    );
    let k = kms(&emu, "admin");
    k.list_keys().send().await.expect("one token");
    let (code, msg, status) = expect_err!(k.list_keys().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("ThrottlingException", "Rate exceeded", 400)
    );
    // EC2 is not throttled by them.
    ec2(&emu, "admin").describe_regions().send().await.unwrap();
}

fn consistency(action: &str, calls: Option<u32>, ms: Option<u64>, mode: Mode) -> ConsistencySpec {
    ConsistencySpec {
        action: action.into(),
        calls,
        ms,
        mode,
    }
}

#[tokio::test]
async fn a_new_security_group_answers_not_found_for_a_few_describes() {
    let emu = start().await;
    emu.inject(consistency(
        "ec2:CreateSecurityGroup",
        Some(3),
        None,
        Mode::NotFound,
    ));
    let c = ec2(&emu, "admin");
    let sg = c
        .create_security_group()
        .group_name("k8s-elb-a1")
        .description("lb")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    // A hidden group answers as an unknown one does, in AWS's words (no full stop: CreateTags on
    // a group just made answers "The security group 'sg-…' does not exist",
    // galaxyproject/cloudlaunch#174).
    let (code, msg, status) = expect_err!(c.describe_security_groups().group_ids(&sg).send().await);
    assert_eq!(
        (code.as_str(), msg, status),
        (
            "InvalidGroup.NotFound",
            format!("The security group '{sg}' does not exist"),
            400
        )
    );
    let (code, msg, _) = expect_err!(
        c.describe_security_groups()
            .group_names("k8s-elb-a1")
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(
        msg.starts_with("The security group 'k8s-elb-a1' does not exist in default VPC 'vpc-"),
        "{msg}"
    );
    // not_found: a list still shows it (and this call counts too).
    let all = c.describe_security_groups().send().await.unwrap();
    assert!(all
        .security_groups()
        .iter()
        .any(|g| g.group_id() == Some(&sg)));
    let one = c
        .describe_security_groups()
        .group_ids(&sg)
        .send()
        .await
        .expect("visible after three describes");
    assert_eq!(one.security_groups().len(), 1);
}

#[tokio::test]
async fn invisible_volumes_and_subnets_are_left_out_of_lists() {
    let emu = start().await;
    emu.inject(consistency("ec2:Create*", Some(1), None, Mode::Invisible));
    let c = ec2(&emu, "admin");
    let vol = c
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    let listed = c.describe_volumes().send().await.unwrap();
    assert!(listed.volumes().iter().all(|v| v.volume_id() != Some(&vol)));
    let listed = c.describe_volumes().send().await.unwrap();
    assert!(listed.volumes().iter().any(|v| v.volume_id() == Some(&vol)));

    let vpc = c
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
    let subnet = c
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let (code, _, _) = expect_err!(c.describe_subnets().subnet_ids(&subnet).send().await);
    assert_eq!(code, "InvalidSubnetID.NotFound");
    c.describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .expect("one describe later");
    // The VPC itself (CreateVpc is not covered) was never hidden.
    c.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
}

#[tokio::test]
async fn new_instances_stay_hidden_for_virtual_time() {
    let emu = manual().await;
    emu.inject(consistency(
        "ec2:RunInstances",
        None,
        Some(2000),
        Mode::Invisible,
    ));
    let c = ec2(&emu, "admin");
    let id = c
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
    for _ in 0..3 {
        let (code, msg, _) = expect_err!(c.describe_instances().instance_ids(&id).send().await);
        assert_eq!(code, "InvalidInstanceID.NotFound");
        assert!(msg.contains(&id), "{msg}");
        let all = c.describe_instances().send().await.unwrap();
        assert!(all.reservations().is_empty(), "{all:?}");
    }
    emu.advance(Duration::from_secs(2));
    let out = c
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.reservations()[0].instances()[0].instance_id(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn configured_faults_survive_reset_and_live_ones_do_not() {
    let emu = Emulator::builder()
        .seed(1)
        .fault(FaultRule::new("ec2:DescribeRegions").error("InternalError", "configured", 500))
        .start()
        .await
        .unwrap();
    emu.inject(FaultRule::new("ec2:DescribeVpcs").error("InternalError", "live", 500));
    emu.reset().unwrap();
    let rules = emu.faults().list().rules;
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (rules[0].origin, rules[0].rule.action.as_str()),
        (Origin::Config, "ec2:DescribeRegions")
    );
    let c = ec2(&emu, "admin");
    let (_, msg, _) = expect_err!(c.describe_regions().send().await);
    assert_eq!(msg, "configured");
    c.describe_vpcs()
        .send()
        .await
        .expect("live rule cleared by reset");
    emu.clear_faults();
    c.describe_regions().send().await.expect("cleared");
}

#[tokio::test]
async fn the_config_file_key_faults() {
    let dir = std::env::temp_dir().join(format!("awsemu-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        r#"{"seed": 5, "faults": [
            {"action": "ec2:DescribeRegions", "error": {"code": "InternalError", "status": 500}, "times": 1},
            {"throttle": {"service": "kms", "buckets": {"all": {"capacity": 0, "refill_per_second": 0}}}}
        ]}"#,
    )
    .unwrap();
    let emu = Emulator::builder()
        .config_file(&path)
        .unwrap()
        .start()
        .await
        .unwrap();
    let (code, msg, status) = expect_err!(ec2(&emu, "admin").describe_regions().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("InternalError", "Injected fault: InternalError", 500)
    );
    let (code, _, _) = expect_err!(kms(&emu, "admin").list_keys().send().await);
    assert_eq!(code, "ThrottlingException");
    std::fs::write(&path, r#"{"faults": [{"action": "ec2:X", "eror": 1}]}"#).unwrap();
    let err = Emulator::builder().config_file(&path).unwrap_err();
    assert!(err.contains("eror"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    let spec: FaultSpec =
        serde_json::from_str(r#"{"consistency": {"action": "ec2:RunInstances", "ms": 5}}"#)
            .unwrap();
    assert!(matches!(spec, FaultSpec::Consistency { .. }));
}

#[tokio::test]
async fn run_instances_draws_one_resource_token_per_instance() {
    let emu = manual().await;
    emu.inject(throttle("ec2", "run_instances_resource", 3, 2.0));
    let c = ec2(&emu, "admin");
    let run = |n: i32| {
        c.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(n)
            .send()
    };
    run(2).await.expect("two of three tokens");
    let (code, msg, status) = expect_err!(run(2).await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("RequestLimitExceeded", "Request limit exceeded.", 503)
    );
    let count = |out: aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput| {
        out.reservations()
            .iter()
            .map(|r| r.instances().len())
            .sum::<usize>()
    };
    assert_eq!(
        count(c.describe_instances().send().await.unwrap()),
        2,
        "the throttled call launched nothing"
    );
    emu.advance(Duration::from_millis(500));
    run(2).await.expect("one more token after half a second");
    assert_eq!(count(c.describe_instances().send().await.unwrap()), 4);
}

#[tokio::test]
async fn other_calls_naming_a_hidden_group_answer_not_found_as_the_provider_expects() {
    let emu = start().await;
    emu.inject(consistency(
        "ec2:CreateSecurityGroup",
        Some(2),
        None,
        Mode::NotFound,
    ));
    let c = ec2(&emu, "admin");
    let sg = c
        .create_security_group()
        .group_name("k8s-elb-b2")
        .description("lb")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    // The cloud provider's createTags retries "InvalidGroup.NotFound" on a new group.
    let tag = aws_sdk_ec2::types::Tag::builder()
        .key("kubernetes.io/cluster/c1")
        .value("owned")
        .build();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match c
            .create_tags()
            .resources(&sg)
            .tags(tag.clone())
            .send()
            .await
        {
            Ok(_) => break,
            Err(e) => {
                let (code, msg, status) = client_tests::error_parts(&e);
                assert_eq!(
                    (code.as_str(), msg, status),
                    (
                        "InvalidGroup.NotFound",
                        format!("The security group '{sg}' does not exist"),
                        400
                    )
                );
                assert!(attempts < 5, "never became visible");
            }
        }
    }
    assert_eq!(attempts, 3);
    let g = c
        .describe_security_groups()
        .group_ids(&sg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.security_groups()[0].tags().len(),
        1,
        "the refused calls tagged nothing"
    );
}
