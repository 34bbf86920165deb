//! The server core through the official SDK: routing, SigV4, IAM decisions and their envelopes,
//! DryRun, injected panics, opt-in regions, and the three IAM modes.

use awsemu::faults::FaultRule;
use awsemu::{Emulator, IamMode};
use client_tests::{ec2, ec2_with, elb, elbv2, expect_err, kms, start, ClientOptions};

const PRINCIPALS: [&str; 4] = ["admin", "controlplane", "etcd", "worker"];

#[tokio::test]
async fn describe_regions_works_for_every_principal() {
    let emu = start().await;
    for p in PRINCIPALS {
        let out = ec2(&emu, p)
            .describe_regions()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{p}: {e:?}"));
        let names: Vec<&str> = out
            .regions()
            .iter()
            .filter_map(|r| r.region_name())
            .collect();
        assert!(
            names.contains(&"us-east-1") && names.contains(&"eu-west-1"),
            "{p}: {names:?}"
        );
        // Opt-in regions are not listed until enabled.
        assert!(!names.contains(&"af-south-1"), "{p}: {names:?}");
        let r = out
            .regions()
            .iter()
            .find(|r| r.region_name() == Some("us-west-2"))
            .unwrap();
        assert_eq!(r.endpoint(), Some("ec2.us-west-2.amazonaws.com"));
        assert_eq!(r.opt_in_status(), Some("opt-in-not-required"));
    }
}

#[tokio::test]
async fn describe_regions_all_regions_names_and_filters() {
    let emu = start().await;
    let c = ec2(&emu, "worker");
    let all = c.describe_regions().all_regions(true).send().await.unwrap();
    let af = all
        .regions()
        .iter()
        .find(|r| r.region_name() == Some("af-south-1"))
        .unwrap();
    assert_eq!(af.opt_in_status(), Some("not-opted-in"));
    let some = c
        .describe_regions()
        .region_names("eu-west-1")
        .region_names("us-east-2")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = some
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    assert_eq!(names, vec!["eu-west-1", "us-east-2"]);
    let filtered = c
        .describe_regions()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("region-name")
                .values("us-*")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.regions().len(), 4);
    let (code, msg, status) = expect_err!(c.describe_regions().region_names("moon-1").send().await);
    assert_eq!(
        (code.as_str(), status),
        ("InvalidParameterValue", 400),
        "{msg}"
    );
    let (code, msg, _) = expect_err!(
        c.describe_regions()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("bogus")
                    .values("x")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.contains("bogus"), "{msg}");
}

#[tokio::test]
async fn describe_availability_zones_per_region_for_admin() {
    let emu = start().await;
    let regions = ec2(&emu, "admin").describe_regions().send().await.unwrap();
    for r in regions.regions() {
        let name = r.region_name().unwrap();
        let c = ec2_with(&emu, &ClientOptions::principal(&emu, "admin").region(name));
        let zones = c.describe_availability_zones().send().await.unwrap();
        assert!(zones.availability_zones().len() >= 2, "{name}");
        for z in zones.availability_zones() {
            assert!(z.zone_name().unwrap().starts_with(name), "{name}: {z:?}");
            assert_eq!(z.region_name(), Some(name));
            assert_eq!(
                z.state(),
                Some(&aws_sdk_ec2::types::AvailabilityZoneState::Available)
            );
            assert!(z.zone_id().is_some());
        }
    }
    let c = ec2(&emu, "admin");
    let one = c
        .describe_availability_zones()
        .zone_names("us-east-1c")
        .send()
        .await
        .unwrap();
    assert_eq!(one.availability_zones()[0].zone_id(), Some("use1-az3"));
    let (code, msg, _) = expect_err!(
        c.describe_availability_zones()
            .zone_names("us-east-1z")
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.contains("us-east-1z"), "{msg}");
}

/// The documented node policies do not list ec2:DescribeAvailabilityZones (the cloud provider calls
/// it; scenario 6 of the library is about exactly this gap), so the three roles are refused it.
#[tokio::test]
async fn documented_role_policies_lack_describe_availability_zones() {
    let emu = start().await;
    for p in ["controlplane", "etcd", "worker"] {
        let (code, msg, status) =
            expect_err!(ec2(&emu, p).describe_availability_zones().send().await);
        assert_eq!(
            (code.as_str(), status),
            ("UnauthorizedOperation", 403),
            "{p}: {msg}"
        );
        assert!(msg.contains(&format!("assumed-role/{p}/")), "{msg}");
    }
}

#[tokio::test]
async fn worker_is_refused_create_volume_with_awss_message() {
    let emu = start().await;
    let (code, msg, status) = expect_err!(
        ec2(&emu, "worker")
            .create_volume()
            .availability_zone("us-east-1a")
            .size(10)
            .send()
            .await
    );
    assert_eq!(code, "UnauthorizedOperation");
    assert_eq!(status, 403);
    assert!(msg.starts_with("You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/worker/awsemu is not authorized to perform: ec2:CreateVolume on resource: arn:aws:ec2:us-east-1:123456789012:volume/* because no identity-based policy allows the ec2:CreateVolume action. Encoded authorization failure message: "), "{msg}");
}

#[tokio::test]
async fn dry_run_answers_after_authorization() {
    let emu = start().await;
    let (code, _, status) = expect_err!(
        ec2(&emu, "controlplane")
            .create_volume()
            .availability_zone("us-east-1a")
            .size(10)
            .dry_run(true)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("DryRunOperation", 412));
    let (code, _, _) = expect_err!(
        ec2(&emu, "worker")
            .create_volume()
            .availability_zone("us-east-1a")
            .size(10)
            .dry_run(true)
            .send()
            .await
    );
    assert_eq!(code, "UnauthorizedOperation");
}

#[tokio::test]
async fn bad_credentials_get_auth_failure() {
    let emu = start().await;
    let wrong_secret = ec2_with(&emu, &ClientOptions::keys(&emu, "worker", "not-the-secret"));
    let (code, _, status) = expect_err!(wrong_secret.describe_regions().send().await);
    assert_eq!((code.as_str(), status), ("AuthFailure", 401));
    let unknown = ec2_with(&emu, &ClientOptions::keys(&emu, "AKIANOBODY", "x"));
    let (code, _, _) = expect_err!(unknown.describe_regions().send().await);
    assert_eq!(code, "AuthFailure");
    // The query services have their own words for the same failures.
    let elb_wrong = client_tests::elb_with(&emu, &ClientOptions::keys(&emu, "worker", "nope"));
    let (code, _, status) = expect_err!(elb_wrong.describe_load_balancers().send().await);
    assert_eq!((code.as_str(), status), ("SignatureDoesNotMatch", 403));
    let kms_unknown = client_tests::kms_with(&emu, &ClientOptions::keys(&emu, "AKIANOBODY", "x"));
    let (code, _, _) = expect_err!(kms_unknown.list_keys().send().await);
    assert_eq!(code, "UnrecognizedClientException");
}

#[tokio::test]
async fn other_services_deny_the_worker_in_their_own_envelopes() {
    let emu = start().await;
    let (code, msg, status) =
        expect_err!(elb(&emu, "worker").describe_load_balancers().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(msg.contains("assumed-role/worker/awsemu is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers"), "{msg}");
    let (code, _, status) =
        expect_err!(elbv2(&emu, "worker").describe_target_groups().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, msg, status) = expect_err!(
        kms(&emu, "worker")
            .describe_key()
            .key_id("alias/ebs")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert!(
        msg.contains("kms:DescribeKey on resource: arn:aws:kms:us-east-1:123456789012:alias/ebs"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_lives_on() {
    let emu = start().await;
    emu.inject(FaultRule::new("ec2:DescribeRegions").panic().times(1));
    let c = ec2(&emu, "worker");
    let (code, _, status) = expect_err!(c.describe_regions().send().await);
    assert_eq!((code.as_str(), status), ("InternalError", 500));
    c.describe_regions()
        .send()
        .await
        .expect("the next request succeeds");
}

#[tokio::test]
async fn opt_in_regions_refuse_calls_until_enabled() {
    let emu = start().await;
    let c = ec2_with(
        &emu,
        &ClientOptions::principal(&emu, "admin").region("af-south-1"),
    );
    let (code, _, _) = expect_err!(c.describe_regions().send().await);
    assert_eq!(code, "AuthFailure");
    let emu = Emulator::builder()
        .opt_in_region("af-south-1")
        .start()
        .await
        .unwrap();
    let c = ec2_with(
        &emu,
        &ClientOptions::principal(&emu, "admin").region("af-south-1"),
    );
    let out = c
        .describe_regions()
        .region_names("af-south-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.regions()[0].opt_in_status(), Some("opted-in"));
    let zones = c.describe_availability_zones().send().await.unwrap();
    assert_eq!(
        zones.availability_zones()[0].zone_name(),
        Some("af-south-1a")
    );
}

#[tokio::test]
async fn iam_off_accepts_any_keys_and_audit_reports_denials() {
    let emu = Emulator::builder().iam(IamMode::Off).start().await.unwrap();
    let c = ec2_with(&emu, &ClientOptions::keys(&emu, "anything", "whatever"));
    c.describe_availability_zones()
        .send()
        .await
        .expect("iam off: anything goes");

    let emu = Emulator::builder()
        .iam(IamMode::Audit)
        .start()
        .await
        .unwrap();
    ec2(&emu, "worker")
        .describe_availability_zones()
        .send()
        .await
        .expect("audit mode allows");
    // Audit mode still checks signatures.
    let bad = ec2_with(&emu, &ClientOptions::keys(&emu, "worker", "wrong"));
    assert_eq!(
        expect_err!(bad.describe_regions().send().await).0,
        "AuthFailure"
    );
    let report = emu.instance().current().audit.report();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].action, "ec2:DescribeAvailabilityZones");
    assert_eq!(
        report[0].principal,
        "arn:aws:sts::123456789012:assumed-role/worker/awsemu"
    );
}

#[tokio::test]
async fn emulators_in_one_process_are_isolated() {
    let a = Emulator::builder()
        .account_id("111111111111")
        .start()
        .await
        .unwrap();
    let b = Emulator::builder()
        .account_id("222222222222")
        .start()
        .await
        .unwrap();
    assert_ne!(a.endpoint(), b.endpoint());
    let (_, msg, _) = expect_err!(ec2(&a, "worker").describe_availability_zones().send().await);
    assert!(msg.contains("111111111111"), "{msg}");
    let (_, msg, _) = expect_err!(ec2(&b, "worker").describe_availability_zones().send().await);
    assert!(msg.contains("222222222222"), "{msg}");
    let endpoint = a.endpoint();
    a.shutdown().await;
    let c = ec2(&b, "admin");
    c.describe_regions().send().await.unwrap();
    // The first emulator no longer answers. (Its port may already serve another test's emulator,
    // so the check is that account 111111111111 is gone, not that the port is closed.)
    if let Ok(mut s) = std::net::TcpStream::connect(endpoint.trim_start_matches("http://")) {
        use std::io::{Read, Write};
        let _ = write!(
            s,
            "GET /_awsemu/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        );
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(!answer.contains("111111111111"), "{answer}");
    }
}
