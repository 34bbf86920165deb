//! Classic ELB through aws-sdk-elasticloadbalancing: load balancers as cloud-provider-aws creates,
//! updates and deletes them — listeners, health checks, attributes, policies, instances and their
//! health, subnets, security groups, tags, pagination, every error, and the SDK waiters.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters as _;
use aws_sdk_elasticloadbalancing::client::Waiters;
use aws_sdk_elasticloadbalancing::types::{
    AccessLog, AdditionalAttribute, ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing,
    HealthCheck, Instance, Listener, LoadBalancerAttributes, LoadBalancerDescription,
    PolicyAttribute, Tag, TagKeyOnly,
};
use aws_sdk_elasticloadbalancing::Client;
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::fixtures::{create_group, create_subnet, create_vpc, run_instance, AMI};
use client_tests::{ec2, ec2_with, elb, elb_with, expect_err, ClientOptions, Waiting};

/// The classic/ALB hosted zone of us-east-1.
const ZONE_ID: &str = "Z35SXDOTRQ7X7K";

fn listener(protocol: &str, port: i32, instance_port: i32) -> Listener {
    Listener::builder()
        .protocol(protocol)
        .load_balancer_port(port)
        .instance_port(instance_port)
        .build()
        .unwrap()
}

/// A load balancer in the default subnets of us-east-1a and us-east-1b with one TCP listener.
async fn create(c: &Client, name: &str) -> String {
    c.create_load_balancer()
        .load_balancer_name(name)
        .listeners(listener("tcp", 80, 30080))
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .send()
        .await
        .expect("create load balancer")
        .dns_name()
        .unwrap()
        .to_string()
}

async fn describe(c: &Client, name: &str) -> LoadBalancerDescription {
    c.describe_load_balancers()
        .load_balancer_names(name)
        .send()
        .await
        .expect("describe")
        .load_balancer_descriptions()[0]
        .clone()
}

async fn count(c: &Client) -> usize {
    c.describe_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()
        .len()
}

fn inst(id: &str) -> Instance {
    Instance::builder().instance_id(id).build()
}

#[tokio::test]
async fn create_and_describe_as_aws_shows_it() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let e = ec2(&emu, "admin");
    let dns = create(&c, "a4ca190bb09f048a19690cc67ab7038f").await;
    let (prefix, rest) = dns.split_once('.').unwrap();
    assert_eq!(rest, "us-east-1.elb.amazonaws.com");
    let digits = prefix
        .strip_prefix("a4ca190bb09f048a19690cc67ab7038f-")
        .unwrap();
    assert!(digits.len() >= 9 && digits.bytes().all(|b| b.is_ascii_digit()));

    let d = describe(&c, "a4ca190bb09f048a19690cc67ab7038f").await;
    assert_eq!(d.dns_name(), Some(dns.as_str()));
    assert_eq!(d.canonical_hosted_zone_name(), Some(dns.as_str()));
    assert_eq!(d.canonical_hosted_zone_name_id(), Some(ZONE_ID));
    assert_eq!(d.scheme(), Some("internet-facing"));
    assert_eq!(d.availability_zones(), ["us-east-1a", "us-east-1b"]);
    assert_eq!(d.subnets().len(), 2);
    let vpcs = e.describe_vpcs().send().await.unwrap();
    let default_vpc = vpcs.vpcs()[0].vpc_id().unwrap();
    assert_eq!(d.vpc_id(), Some(default_vpc));
    // Listener protocols come back upper case, whatever case was sent (cloud-provider relies on it).
    let l = d.listener_descriptions()[0].listener().unwrap();
    assert_eq!(l.protocol(), "TCP");
    assert_eq!(l.instance_protocol(), Some("TCP"));
    assert_eq!((l.load_balancer_port(), l.instance_port()), (80, 30080));
    // No group given: the VPC's default group, which is also the source group.
    let groups = e
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let default_sg = groups.security_groups()[0].group_id().unwrap();
    assert_eq!(d.security_groups(), [default_sg]);
    let src = d.source_security_group().unwrap();
    assert_eq!(src.owner_alias(), Some(emu.account_id()));
    assert_eq!(src.group_name(), Some("default"));
    let hc = d.health_check().unwrap();
    assert_eq!(hc.target(), "TCP:30080");
    assert_eq!(
        (
            hc.interval(),
            hc.timeout(),
            hc.unhealthy_threshold(),
            hc.healthy_threshold()
        ),
        (30, 5, 2, 10)
    );
    assert!(d.created_time().is_some());
    assert!(d.instances().is_empty());

    // An internal load balancer: `internal-` DNS name and no CanonicalHostedZoneName.
    let subnet = d.subnets()[0].to_string();
    let out = c
        .create_load_balancer()
        .load_balancer_name("inner")
        .listeners(listener("http", 80, 8080))
        .subnets(&subnet)
        .scheme("internal")
        .send()
        .await
        .unwrap();
    assert!(out.dns_name().unwrap().starts_with("internal-inner-"));
    let d = describe(&c, "inner").await;
    assert_eq!(d.scheme(), Some("internal"));
    assert_eq!(d.canonical_hosted_zone_name(), None);
    assert_eq!(d.subnets(), [subnet]);
    let l = d.listener_descriptions()[0].listener().unwrap();
    assert_eq!(
        (l.protocol(), l.instance_protocol()),
        ("HTTP", Some("HTTP"))
    );
}

#[tokio::test]
async fn create_refuses_bad_input_and_changes_nothing() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let e = ec2(&emu, "admin");
    let subnets = e.describe_subnets().send().await.unwrap();
    let a = subnets
        .subnets()
        .iter()
        .find(|s| s.availability_zone() == Some("us-east-1a"))
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    // A second subnet in us-east-1a, a VPC without an internet gateway and a group in it.
    let extra = create_subnet(
        &e,
        subnets.subnets()[0].vpc_id().unwrap(),
        "172.31.128.0/24",
        "us-east-1a",
    )
    .await;
    let vpc = create_vpc(&e, "10.1.0.0/16").await;
    let private = create_subnet(&e, &vpc, "10.1.1.0/24", "us-east-1a").await;
    let other_sg = create_group(&e, &vpc, "elsewhere").await;

    for bad in ["-lead", "trail-", "under_score", &"x".repeat(33), ""] {
        let (code, _, status) = expect_err!(
            c.create_load_balancer()
                .load_balancer_name(bad)
                .listeners(listener("tcp", 80, 80))
                .subnets(&a)
                .send()
                .await
        );
        assert_eq!((code.as_str(), status), ("ValidationError", 400), "{bad}");
    }
    let base = || {
        c.create_load_balancer()
            .load_balancer_name("lb")
            .listeners(listener("tcp", 80, 80))
    };
    let (code, msg, _) = expect_err!(base().send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "Either AvailabilityZones or SubnetIds must be specified"
    );
    let (code, _, _) = expect_err!(
        c.create_load_balancer()
            .load_balancer_name("lb")
            .subnets(&a)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError", "listeners are required");
    let (code, msg, _) = expect_err!(base().subnets("subnet-0123456789abcdef0").send().await);
    assert_eq!(code, "SubnetNotFound");
    assert!(msg.contains("subnet-0123456789abcdef0"));
    let (code, msg, status) = expect_err!(base().subnets(&a).subnets(&extra).send().await);
    assert_eq!(
        (code.as_str(), status),
        ("InvalidConfigurationRequest", 409)
    );
    assert_eq!(
        msg,
        "A load balancer cannot be attached to multiple subnets in the same Availability Zone."
    );
    let (code, msg, _) = expect_err!(base().subnets(&private).send().await);
    assert_eq!(code, "InvalidSubnet");
    assert_eq!(msg, format!("VPC {vpc} has no internet gateway"));
    let (code, _, _) = expect_err!(base().subnets(&a).security_groups(&other_sg).send().await);
    assert_eq!(code, "InvalidSecurityGroup");
    let (code, _, _) = expect_err!(base().subnets(&a).scheme("public").send().await);
    assert_eq!(code, "InvalidScheme");
    let one = |l: Listener| {
        c.create_load_balancer()
            .load_balancer_name("lb")
            .listeners(l)
            .subnets(&a)
            .send()
    };
    let (code, _, _) = expect_err!(one(listener("udp", 80, 80)).await);
    assert_eq!(code, "UnsupportedProtocol");
    let (code, _, _) = expect_err!(one(listener("https", 443, 80)).await);
    assert_eq!(
        code, "ValidationError",
        "a secure listener needs a certificate"
    );
    let (code, msg, _) = expect_err!(
        one(Listener::builder()
            .protocol("HTTPS")
            .load_balancer_port(443)
            .instance_port(80)
            .ssl_certificate_id("not-an-arn")
            .build()
            .unwrap())
        .await
    );
    assert_eq!(code, "CertificateNotFound");
    assert_eq!(msg, "Server Certificate not found for the key: not-an-arn");
    let (code, _, _) = expect_err!(one(listener("tcp", 81, 80)).await);
    assert_eq!(code, "ValidationError", "port 81 is not a classic ELB port");
    let (code, _, status) = expect_err!(
        one(Listener::builder()
            .protocol("TCP")
            .load_balancer_port(80)
            .instance_protocol("HTTP")
            .instance_port(80)
            .build()
            .unwrap())
        .await
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidConfigurationRequest", 409)
    );
    // A private internal load balancer in that VPC is fine.
    base()
        .subnets(&private)
        .scheme("internal")
        .security_groups(&other_sg)
        .send()
        .await
        .unwrap();
    assert_eq!(count(&c).await, 1);
}

#[tokio::test]
async fn create_is_idempotent_conflicts_are_refused_and_quota_holds() {
    let emu = Emulator::builder()
        .seed(3)
        .load_balancer_limit(2)
        .start()
        .await
        .unwrap();
    let c = elb(&emu, "admin");
    let dns = create(&c, "same").await;
    assert_eq!(
        create(&c, "same").await,
        dns,
        "identical re-create returns the same"
    );
    let (code, msg, status) = expect_err!(
        c.create_load_balancer()
            .load_balancer_name("same")
            .listeners(listener("tcp", 443, 30443))
            .availability_zones("us-east-1a")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("DuplicateLoadBalancerName", 400));
    assert_eq!(
        msg,
        "Load Balancer named 'same' already exists and it is configured with different parameters."
    );
    create(&c, "second").await;
    let (code, _, _) = expect_err!(
        c.create_load_balancer()
            .load_balancer_name("third")
            .listeners(listener("tcp", 80, 80))
            .availability_zones("us-east-1a")
            .send()
            .await
    );
    assert_eq!(code, "TooManyLoadBalancers");
    assert_eq!(count(&c).await, 2);
}

#[tokio::test]
async fn not_found_answers_and_idempotent_delete() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let (code, msg, status) = expect_err!(
        c.describe_load_balancers()
            .load_balancer_names("nope")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("LoadBalancerNotFound", 400));
    assert_eq!(msg, "Cannot find Load Balancer nope");
    let (code, msg, _) = expect_err!(
        c.describe_load_balancer_attributes()
            .load_balancer_name("nope")
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    assert_eq!(msg, "There is no ACTIVE Load Balancer named 'nope'");
    c.delete_load_balancer()
        .load_balancer_name("nope")
        .send()
        .await
        .expect("deleting a missing load balancer succeeds");
    create(&c, "gone").await;
    c.delete_load_balancer()
        .load_balancer_name("gone")
        .send()
        .await
        .unwrap();
    assert_eq!(count(&c).await, 0);
}

#[tokio::test]
async fn listeners_duplicates_and_default_ssl_policy() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    create(&c, "lst").await;
    // Identical: a no-op. Same port, other settings: DuplicateListener.
    c.create_load_balancer_listeners()
        .load_balancer_name("lst")
        .listeners(listener("TCP", 80, 30080))
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.create_load_balancer_listeners()
            .load_balancer_name("lst")
            .listeners(listener("tcp", 80, 30081))
            .send()
            .await
    );
    assert_eq!(code, "DuplicateListener");
    assert_eq!(msg, "A listener already exists for lst with LoadBalancerPort 80, but with a different InstancePort, Protocol, or SSLCertificateId");
    let cert = format!(
        "arn:aws:acm:us-east-1:{}:certificate/0b1c2d3e",
        emu.account_id()
    );
    c.create_load_balancer_listeners()
        .load_balancer_name("lst")
        .listeners(
            Listener::builder()
                .protocol("ssl")
                .load_balancer_port(443)
                .instance_port(30080)
                .ssl_certificate_id(&cert)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = describe(&c, "lst").await;
    let ssl = &d.listener_descriptions()[1];
    assert_eq!(ssl.listener().unwrap().protocol(), "SSL");
    assert_eq!(
        ssl.listener().unwrap().ssl_certificate_id(),
        Some(cert.as_str())
    );
    assert_eq!(ssl.policy_names(), ["ELBSecurityPolicy-2016-08"]);
    assert_eq!(
        d.policies().unwrap().other_policies(),
        ["ELBSecurityPolicy-2016-08"]
    );
    c.delete_load_balancer_listeners()
        .load_balancer_name("lst")
        .load_balancer_ports(80)
        .send()
        .await
        .unwrap();
    let d = describe(&c, "lst").await;
    assert_eq!(d.listener_descriptions().len(), 1);
    assert_eq!(
        d.listener_descriptions()[0]
            .listener()
            .unwrap()
            .load_balancer_port(),
        443
    );
    let (code, _, _) = expect_err!(
        c.create_load_balancer_listeners()
            .load_balancer_name("missing")
            .listeners(listener("tcp", 80, 80))
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
}

#[tokio::test]
async fn health_check_is_validated_and_stored() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    create(&c, "hc").await;
    let hc = |target: &str, interval: i32, timeout: i32| {
        HealthCheck::builder()
            .target(target)
            .interval(interval)
            .timeout(timeout)
            .unhealthy_threshold(6)
            .healthy_threshold(2)
            .build()
            .unwrap()
    };
    let out = c
        .configure_health_check()
        .load_balancer_name("hc")
        .health_check(hc("HTTP:10256/healthz", 10, 5))
        .send()
        .await
        .unwrap();
    assert_eq!(out.health_check().unwrap().target(), "HTTP:10256/healthz");
    let d = describe(&c, "hc").await;
    let stored = d.health_check().unwrap();
    assert_eq!(
        (
            stored.target(),
            stored.interval(),
            stored.unhealthy_threshold(),
            stored.healthy_threshold()
        ),
        ("HTTP:10256/healthz", 10, 6, 2)
    );
    for (target, interval, timeout) in [
        ("HTTP:80", 10, 5),
        ("TCP:80/path", 10, 5),
        ("UDP:80", 10, 5),
        ("TCP:0", 10, 5),
        ("TCP:80", 10, 10),
        ("TCP:80", 4, 2),
        ("TCP:80", 10, 1),
    ] {
        let (code, _, _) = expect_err!(
            c.configure_health_check()
                .load_balancer_name("hc")
                .health_check(hc(target, interval, timeout))
                .send()
                .await
        );
        assert_eq!(code, "ValidationError", "{target} {interval} {timeout}");
    }
    assert_eq!(
        describe(&c, "hc").await.health_check().unwrap().target(),
        "HTTP:10256/healthz"
    );
}

#[tokio::test]
async fn instances_register_and_report_health() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let e = ec2(&emu, "admin");
    create(&c, "web").await;
    let a = run_instance(&e, "us-east-1a").await;
    let b = run_instance(&e, "us-east-1b").await;
    let outside_zone = run_instance(&e, "us-east-1c").await;
    let out = c
        .register_instances_with_load_balancer()
        .load_balancer_name("web")
        .instances(inst(&a))
        .instances(inst(&b))
        .instances(inst(&outside_zone))
        .send()
        .await
        .unwrap();
    assert_eq!(out.instances().len(), 3);
    let health = c
        .describe_instance_health()
        .load_balancer_name("web")
        .send()
        .await
        .unwrap();
    let by_id = |id: &str| {
        health
            .instance_states()
            .iter()
            .find(|s| s.instance_id() == Some(id))
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&a).state(), Some("InService"));
    assert_eq!(by_id(&a).reason_code(), Some("N/A"));
    let s = by_id(&outside_zone);
    assert_eq!(
        (s.state(), s.reason_code()),
        (Some("OutOfService"), Some("ELB"))
    );
    assert_eq!(s.description(), Some("Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to."));

    // A stopped instance is OutOfService for the instance's reason.
    e.stop_instances().instance_ids(&b).send().await.unwrap();
    e.wait_until_instance_stopped()
        .instance_ids(&b)
        .wait(Duration::from_secs(60))
        .await
        .unwrap();
    let s = c
        .describe_instance_health()
        .load_balancer_name("web")
        .instances(inst(&b))
        .send()
        .await
        .unwrap()
        .instance_states()[0]
        .clone();
    assert_eq!(
        (s.state(), s.reason_code(), s.description()),
        (
            Some("OutOfService"),
            Some("Instance"),
            Some("Instance is in stopped state.")
        )
    );

    // Errors: unknown instance, an instance of another VPC, deregistering one not registered.
    let (code, msg, _) = expect_err!(
        c.register_instances_with_load_balancer()
            .load_balancer_name("web")
            .instances(inst("i-0123456789abcdef0"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstance");
    assert_eq!(msg, "Could not find EC2 instance i-0123456789abcdef0.");
    let vpc = create_vpc(&e, "10.2.0.0/16").await;
    let subnet = create_subnet(&e, &vpc, "10.2.0.0/24", "us-east-1a").await;
    let far = e
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let (code, msg, _) = expect_err!(
        c.register_instances_with_load_balancer()
            .load_balancer_name("web")
            .instances(inst(&far))
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstance");
    assert_eq!(
        msg,
        format!("EC2 instance {far} is not in the same VPC as ELB.")
    );
    let out = c
        .deregister_instances_from_load_balancer()
        .load_balancer_name("web")
        .instances(inst(&outside_zone))
        .send()
        .await
        .unwrap();
    assert_eq!(out.instances().len(), 2);
    let (code, _, _) = expect_err!(
        c.deregister_instances_from_load_balancer()
            .load_balancer_name("web")
            .instances(inst(&outside_zone))
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstance");
    let (code, _, _) = expect_err!(
        c.describe_instance_health()
            .load_balancer_name("web")
            .instances(inst(&outside_zone))
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstance");

    // A terminated instance drops out of the unfiltered answer.
    e.terminate_instances()
        .instance_ids(&a)
        .send()
        .await
        .unwrap();
    e.wait_until_instance_terminated()
        .instance_ids(&a)
        .wait(Duration::from_secs(60))
        .await
        .unwrap();
    let health = c
        .describe_instance_health()
        .load_balancer_name("web")
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = health
        .instance_states()
        .iter()
        .filter_map(|s| s.instance_id())
        .collect();
    assert_eq!(ids, [b.as_str()]);
    assert_eq!(describe(&c, "web").await.instances().len(), 2);
}

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
        let opts = ClientOptions::principal(&emu, "admin").waiting(waiting);
        let c = elb_with(&emu, &opts);
        let e = ec2_with(&emu, &opts);
        create(&c, "wait").await;
        let i = run_instance(&e, "us-east-1a").await;
        c.register_instances_with_load_balancer()
            .load_balancer_name("wait")
            .instances(inst(&i))
            .send()
            .await
            .unwrap();
        c.wait_until_any_instance_in_service()
            .load_balancer_name("wait")
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.wait_until_instance_in_service()
            .load_balancer_name("wait")
            .instances(inst(&i))
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.deregister_instances_from_load_balancer()
            .load_balancer_name("wait")
            .instances(inst(&i))
            .send()
            .await
            .unwrap();
        c.wait_until_instance_deregistered()
            .load_balancer_name("wait")
            .instances(inst(&i))
            .wait(Duration::from_secs(600))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
    }
}

#[tokio::test]
async fn registration_in_progress_under_realistic_timing() {
    let emu = Emulator::builder()
        .timing(Timing::Realistic)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    let opts = ClientOptions::principal(&emu, "admin")
        .waiting(Waiting::AdvanceClock(emu.instance().clone()));
    let c = elb_with(&emu, &opts);
    let e = ec2_with(&emu, &opts);
    create(&c, "slow").await;
    let i = run_instance(&e, "us-east-1a").await;
    c.register_instances_with_load_balancer()
        .load_balancer_name("slow")
        .instances(inst(&i))
        .send()
        .await
        .unwrap();
    let s = c
        .describe_instance_health()
        .load_balancer_name("slow")
        .send()
        .await
        .unwrap()
        .instance_states()[0]
        .clone();
    assert_eq!(
        (s.state(), s.reason_code(), s.description()),
        (
            Some("OutOfService"),
            Some("ELB"),
            Some("Instance registration is still in progress.")
        )
    );
    emu.advance(Duration::from_secs(60));
    let s = c
        .describe_instance_health()
        .load_balancer_name("slow")
        .send()
        .await
        .unwrap()
        .instance_states()[0]
        .clone();
    assert_eq!(s.state(), Some("InService"));
}

#[tokio::test]
async fn attributes_have_aws_defaults_and_validate() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    create(&c, "attrs").await;
    let a = c
        .describe_load_balancer_attributes()
        .load_balancer_name("attrs")
        .send()
        .await
        .unwrap()
        .load_balancer_attributes()
        .unwrap()
        .clone();
    assert!(!a.cross_zone_load_balancing().unwrap().enabled());
    assert!(!a.access_log().unwrap().enabled());
    let cd = a.connection_draining().unwrap();
    assert_eq!((cd.enabled(), cd.timeout()), (false, Some(300)));
    assert_eq!(a.connection_settings().unwrap().idle_timeout(), 60);
    assert_eq!(
        a.additional_attributes()[0].key(),
        Some("elb.http.desyncmitigationmode")
    );

    // The full struct cloud-provider sends.
    let out = c
        .modify_load_balancer_attributes()
        .load_balancer_name("attrs")
        .load_balancer_attributes(
            LoadBalancerAttributes::builder()
                .cross_zone_load_balancing(CrossZoneLoadBalancing::builder().enabled(true).build())
                .access_log(AccessLog::builder().enabled(false).build())
                .connection_draining(ConnectionDraining::builder().enabled(true).build())
                .connection_settings(
                    ConnectionSettings::builder()
                        .idle_timeout(120)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.load_balancer_name(), Some("attrs"));
    let a = out.load_balancer_attributes().unwrap();
    assert!(a.cross_zone_load_balancing().unwrap().enabled());
    let cd = a.connection_draining().unwrap();
    assert_eq!(
        (cd.enabled(), cd.timeout()),
        (true, Some(300)),
        "timeout kept"
    );
    assert_eq!(a.connection_settings().unwrap().idle_timeout(), 120);

    let modify = |attrs: LoadBalancerAttributes| {
        c.modify_load_balancer_attributes()
            .load_balancer_name("attrs")
            .load_balancer_attributes(attrs)
            .send()
    };
    let (code, _, _) = expect_err!(
        modify(
            LoadBalancerAttributes::builder()
                .connection_settings(
                    ConnectionSettings::builder()
                        .idle_timeout(4000)
                        .build()
                        .unwrap()
                )
                .build()
        )
        .await
    );
    assert_eq!(code, "ValidationError");
    let (code, _, _) = expect_err!(
        modify(
            LoadBalancerAttributes::builder()
                .additional_attributes(
                    AdditionalAttribute::builder()
                        .key("elb.nonsense")
                        .value("x")
                        .build()
                )
                .build()
        )
        .await
    );
    assert_eq!(code, "LoadBalancerAttributeNotFound");
    let (code, _, status) = expect_err!(
        modify(
            LoadBalancerAttributes::builder()
                .access_log(AccessLog::builder().enabled(true).build())
                .build()
        )
        .await
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidConfigurationRequest", 409)
    );
    let a = modify(
        LoadBalancerAttributes::builder()
            .access_log(
                AccessLog::builder()
                    .enabled(true)
                    .s3_bucket_name("logs")
                    .emit_interval(5)
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
    let log = a.load_balancer_attributes().unwrap().access_log().unwrap();
    assert_eq!(
        (log.enabled(), log.s3_bucket_name(), log.emit_interval()),
        (true, Some("logs"), Some(5))
    );
}

#[tokio::test]
async fn policies_as_cloud_provider_uses_them() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    create(&c, "pol").await;
    let proxy = || {
        c.create_load_balancer_policy()
            .load_balancer_name("pol")
            .policy_name("k8s-proxyprotocol-enabled")
            .policy_type_name("ProxyProtocolPolicyType")
            .policy_attributes(
                PolicyAttribute::builder()
                    .attribute_name("ProxyProtocol")
                    .attribute_value("true")
                    .build(),
            )
            .send()
    };
    proxy().await.unwrap();
    proxy()
        .await
        .expect("an identical re-create succeeds (every sync does it)");
    let (code, _, _) = expect_err!(
        c.create_load_balancer_policy()
            .load_balancer_name("pol")
            .policy_name("k8s-proxyprotocol-enabled")
            .policy_type_name("ProxyProtocolPolicyType")
            .policy_attributes(
                PolicyAttribute::builder()
                    .attribute_name("ProxyProtocol")
                    .attribute_value("false")
                    .build(),
            )
            .send()
            .await
    );
    assert_eq!(code, "DuplicatePolicyName");
    let (code, _, _) = expect_err!(
        c.create_load_balancer_policy()
            .load_balancer_name("pol")
            .policy_name("x")
            .policy_type_name("NoSuchPolicyType")
            .send()
            .await
    );
    assert_eq!(code, "PolicyTypeNotFound");
    c.set_load_balancer_policies_for_backend_server()
        .load_balancer_name("pol")
        .instance_port(30080)
        .policy_names("k8s-proxyprotocol-enabled")
        .send()
        .await
        .unwrap();
    let d = describe(&c, "pol").await;
    let backend = &d.backend_server_descriptions()[0];
    assert_eq!(backend.instance_port(), Some(30080));
    assert_eq!(backend.policy_names(), ["k8s-proxyprotocol-enabled"]);
    assert_eq!(
        d.policies().unwrap().other_policies(),
        ["k8s-proxyprotocol-enabled"]
    );
    // An empty list clears the port, as cloud-provider sends for ports without a listener.
    c.set_load_balancer_policies_for_backend_server()
        .load_balancer_name("pol")
        .instance_port(30080)
        .set_policy_names(Some(vec![]))
        .send()
        .await
        .unwrap();
    assert!(describe(&c, "pol")
        .await
        .backend_server_descriptions()
        .is_empty());
    let (code, msg, _) = expect_err!(
        c.set_load_balancer_policies_for_backend_server()
            .load_balancer_name("pol")
            .instance_port(30080)
            .policy_names("missing")
            .send()
            .await
    );
    assert_eq!(code, "PolicyNotFound");
    assert_eq!(
        msg,
        "There is no policy with name missing for load balancer pol"
    );

    // SSL negotiation policy by reference: tolerated PolicyNotFound first, then create and set.
    let (code, _, _) = expect_err!(
        c.describe_load_balancer_policies()
            .load_balancer_name("pol")
            .policy_names("k8s-SSLNegotiationPolicy-ELBSecurityPolicy-TLS-1-2-2017-01")
            .send()
            .await
    );
    assert_eq!(code, "PolicyNotFound");
    let (code, msg, _) = expect_err!(
        c.create_load_balancer_policy()
            .load_balancer_name("pol")
            .policy_name("k8s-SSLNegotiationPolicy-bogus")
            .policy_type_name("SSLNegotiationPolicyType")
            .policy_attributes(
                PolicyAttribute::builder()
                    .attribute_name("Reference-Security-Policy")
                    .attribute_value("bogus")
                    .build(),
            )
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "Invalid Reference Security Policy: bogus. Use DescribeLoadBalancerPolicies API to list valid security policies.");
    let ssl_name = "k8s-SSLNegotiationPolicy-ELBSecurityPolicy-TLS-1-2-2017-01";
    c.create_load_balancer_policy()
        .load_balancer_name("pol")
        .policy_name(ssl_name)
        .policy_type_name("SSLNegotiationPolicyType")
        .policy_attributes(
            PolicyAttribute::builder()
                .attribute_name("Reference-Security-Policy")
                .attribute_value("ELBSecurityPolicy-TLS-1-2-2017-01")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let described = c
        .describe_load_balancer_policies()
        .load_balancer_name("pol")
        .policy_names(ssl_name)
        .send()
        .await
        .unwrap();
    let attrs = described.policy_descriptions()[0].policy_attribute_descriptions();
    let value = |k: &str| {
        attrs
            .iter()
            .find(|a| a.attribute_name() == Some(k))
            .and_then(|a| a.attribute_value())
            .map(str::to_string)
    };
    assert_eq!(value("Protocol-TLSv1.2").as_deref(), Some("true"));
    assert_eq!(value("Protocol-TLSv1").as_deref(), Some("false"));
    // Only on a secure listener, and only on one that exists.
    let (code, _, status) = expect_err!(
        c.set_load_balancer_policies_of_listener()
            .load_balancer_name("pol")
            .load_balancer_port(80)
            .policy_names(ssl_name)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidConfigurationRequest", 409)
    );
    let (code, _, _) = expect_err!(
        c.set_load_balancer_policies_of_listener()
            .load_balancer_name("pol")
            .load_balancer_port(8443)
            .policy_names(ssl_name)
            .send()
            .await
    );
    assert_eq!(code, "ListenerNotFound");
    let (code, _, _) = expect_err!(
        c.set_load_balancer_policies_for_backend_server()
            .load_balancer_name("pol")
            .instance_port(30080)
            .policy_names(ssl_name)
            .send()
            .await
    );
    assert_eq!(
        code, "InvalidConfigurationRequest",
        "SSL policies are for listeners"
    );
    let cert = format!("arn:aws:iam::{}:server-certificate/k8s", emu.account_id());
    c.create_load_balancer_listeners()
        .load_balancer_name("pol")
        .listeners(
            Listener::builder()
                .protocol("HTTPS")
                .load_balancer_port(443)
                .instance_protocol("HTTP")
                .instance_port(30080)
                .ssl_certificate_id(&cert)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.set_load_balancer_policies_of_listener()
        .load_balancer_name("pol")
        .load_balancer_port(443)
        .policy_names(ssl_name)
        .send()
        .await
        .unwrap();
    let d = describe(&c, "pol").await;
    let https = d
        .listener_descriptions()
        .iter()
        .find(|l| l.listener().unwrap().load_balancer_port() == 443)
        .unwrap();
    assert_eq!(https.policy_names(), [ssl_name]);

    // Without a load balancer: AWS's predefined policies; and the policy types.
    let predefined = c.describe_load_balancer_policies().send().await.unwrap();
    assert!(predefined
        .policy_descriptions()
        .iter()
        .any(|p| p.policy_name() == Some("ELBSecurityPolicy-2016-08")));
    let types = c
        .describe_load_balancer_policy_types()
        .policy_type_names("ProxyProtocolPolicyType")
        .send()
        .await
        .unwrap();
    let t = &types.policy_type_descriptions()[0];
    let attr = &t.policy_attribute_type_descriptions()[0];
    assert_eq!(
        (
            attr.attribute_name(),
            attr.attribute_type(),
            attr.cardinality()
        ),
        (Some("ProxyProtocol"), Some("Boolean"), Some("ONE"))
    );
    let (code, _, _) = expect_err!(
        c.describe_load_balancer_policy_types()
            .policy_type_names("Nope")
            .send()
            .await
    );
    assert_eq!(code, "PolicyTypeNotFound");
}

#[tokio::test]
async fn subnets_and_security_groups_change() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let e = ec2(&emu, "admin");
    create(&c, "net").await;
    let subnets = e.describe_subnets().send().await.unwrap();
    let in_zone = |z: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.availability_zone() == Some(z))
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_string()
    };
    let out = c
        .attach_load_balancer_to_subnets()
        .load_balancer_name("net")
        .subnets(in_zone("us-east-1c"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.subnets().len(), 3);
    assert_eq!(describe(&c, "net").await.availability_zones().len(), 3);
    let second_a = create_subnet(
        &e,
        subnets.subnets()[0].vpc_id().unwrap(),
        "172.31.200.0/24",
        "us-east-1a",
    )
    .await;
    let (code, _, status) = expect_err!(
        c.attach_load_balancer_to_subnets()
            .load_balancer_name("net")
            .subnets(&second_a)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidConfigurationRequest", 409)
    );
    let out = c
        .detach_load_balancer_from_subnets()
        .load_balancer_name("net")
        .subnets(in_zone("us-east-1a"))
        .subnets(in_zone("us-east-1b"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.subnets(), [in_zone("us-east-1c")]);
    let (code, _, _) = expect_err!(
        c.detach_load_balancer_from_subnets()
            .load_balancer_name("net")
            .subnets(in_zone("us-east-1c"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");

    let sg = create_group(&e, subnets.subnets()[0].vpc_id().unwrap(), "k8s-elb-net").await;
    let out = c
        .apply_security_groups_to_load_balancer()
        .load_balancer_name("net")
        .security_groups(&sg)
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_groups(), [sg.as_str()]);
    let d = describe(&c, "net").await;
    assert_eq!(d.security_groups(), [sg.as_str()]);
    assert_eq!(
        d.source_security_group().unwrap().group_name(),
        Some("k8s-elb-net")
    );
    let (code, _, _) = expect_err!(
        c.apply_security_groups_to_load_balancer()
            .load_balancer_name("net")
            .security_groups("sg-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "InvalidSecurityGroup");
    // The subnet a load balancer uses cannot be deleted.
    let (code, _, _) = expect_err!(
        e.delete_subnet()
            .subnet_id(in_zone("us-east-1c"))
            .send()
            .await
    );
    assert_eq!(code, "DependencyViolation");
}

#[tokio::test]
async fn security_group_stays_in_use_while_the_load_balancer_goes() {
    for timing in [Timing::Instant, Timing::Realistic] {
        let emu = Emulator::builder()
            .timing(timing)
            .manual_clock(1_800_000_000_000)
            .start()
            .await
            .unwrap();
        let c = elb(&emu, "admin");
        let e = ec2(&emu, "admin");
        let sg = e
            .create_security_group()
            .group_name("k8s-elb-x")
            .description("elb group")
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_string();
        c.create_load_balancer()
            .load_balancer_name("x")
            .listeners(listener("tcp", 80, 30080))
            .availability_zones("us-east-1a")
            .security_groups(&sg)
            .send()
            .await
            .unwrap();
        let delete = || e.delete_security_group().group_id(&sg).send();
        let (code, msg, _) = expect_err!(delete().await);
        assert_eq!(code, "DependencyViolation");
        assert_eq!(msg, format!("resource {sg} has a dependent object"));
        c.delete_load_balancer()
            .load_balancer_name("x")
            .send()
            .await
            .unwrap();
        // The load balancer's network interfaces still hold the group: once under instant
        // timing, for a minute of virtual time under realistic.
        let (code, _, _) = expect_err!(delete().await);
        assert_eq!(code, "DependencyViolation", "{timing:?}");
        if timing == Timing::Realistic {
            emu.advance(Duration::from_secs(30));
            let (code, _, _) = expect_err!(delete().await);
            assert_eq!(code, "DependencyViolation");
            emu.advance(Duration::from_secs(31));
        }
        delete()
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
    }
}

#[tokio::test]
async fn tags_add_describe_remove() {
    let emu = client_tests::start().await;
    let c = elb(&emu, "admin");
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    c.create_load_balancer()
        .load_balancer_name("tagged")
        .listeners(listener("tcp", 80, 80))
        .availability_zones("us-east-1a")
        .tags(tag("kubernetes.io/cluster/c1", "owned"))
        .send()
        .await
        .unwrap();
    c.add_tags()
        .load_balancer_names("tagged")
        .tags(tag("kubernetes.io/service-name", "default/web"))
        .send()
        .await
        .unwrap();
    let out = c
        .describe_tags()
        .load_balancer_names("tagged")
        .send()
        .await
        .unwrap();
    let d = &out.tag_descriptions()[0];
    assert_eq!(d.load_balancer_name(), Some("tagged"));
    let mut tags: Vec<(&str, Option<&str>)> =
        d.tags().iter().map(|t| (t.key(), t.value())).collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("kubernetes.io/cluster/c1", Some("owned")),
            ("kubernetes.io/service-name", Some("default/web"))
        ]
    );
    c.remove_tags()
        .load_balancer_names("tagged")
        .tags(
            TagKeyOnly::builder()
                .key("kubernetes.io/service-name")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = c
        .describe_tags()
        .load_balancer_names("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(out.tag_descriptions()[0].tags().len(), 1);
    let (code, _, _) = expect_err!(
        c.add_tags()
            .load_balancer_names("tagged")
            .tags(tag("k", "1"))
            .tags(tag("k", "2"))
            .send()
            .await
    );
    assert_eq!(code, "DuplicateTagKeys");
    let (code, _, _) = expect_err!(
        c.add_tags()
            .load_balancer_names("tagged")
            .tags(tag("aws:reserved", "1"))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    let mut many = c.add_tags().load_balancer_names("tagged");
    for i in 0..50 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    let (code, _, _) = expect_err!(many.send().await);
    assert_eq!(code, "TooManyTags");
    let (code, _, _) = expect_err!(c.describe_tags().load_balancer_names("nope").send().await);
    assert_eq!(code, "LoadBalancerNotFound");
    let (code, _, _) = expect_err!(
        c.add_tags()
            .load_balancer_names("nope")
            .tags(tag("k", "v"))
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
}

#[tokio::test]
async fn pages_with_marker() {
    let emu = Emulator::builder()
        .load_balancer_limit(100)
        .start()
        .await
        .unwrap();
    let c = elb(&emu, "admin");
    for i in 0..7 {
        create(&c, &format!("lb-{i}")).await;
    }
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let out = c
            .describe_load_balancers()
            .page_size(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            out.load_balancer_descriptions()
                .iter()
                .map(|d| d.load_balancer_name().unwrap().to_string()),
        );
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    for size in [0, 401] {
        let (code, _, _) = expect_err!(c.describe_load_balancers().page_size(size).send().await);
        assert_eq!(code, "ValidationError", "{size}");
    }
}

#[tokio::test]
async fn roles_are_held_to_their_policies() {
    let emu = client_tests::start().await;
    let worker = elb(&emu, "worker");
    let (code, msg, status) = expect_err!(
        worker
            .create_load_balancer()
            .load_balancer_name("w")
            .listeners(listener("tcp", 80, 80))
            .availability_zones("us-east-1a")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert!(
        msg.contains("elasticloadbalancing:CreateLoadBalancer"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "arn:aws:elasticloadbalancing:us-east-1:{}:loadbalancer/w",
            emu.account_id()
        )),
        "{msg}"
    );
    let cp = elb(&emu, "controlplane");
    create(&cp, "cp").await;
    assert_eq!(count(&cp).await, 1);
    cp.add_tags()
        .load_balancer_names("cp")
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        worker
            .delete_load_balancer()
            .load_balancer_name("cp")
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(count(&cp).await, 1);
}
