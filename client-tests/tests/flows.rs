//! The cloud-provider flows (`client_tests::flows`) against a started emulator, as the `admin`
//! and `controlplane` principals: resulting state checked through the SDK, the provider's exact
//! error texts, the DependencyViolation retry on delete, throttling retries, workers refused.
//! A manual clock and `Waiting::AdvanceClock` make every poll and back-off instant.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    Filter, InstanceStateName, IpPermission, ResourceType, Tag, TagSpecification,
};
use aws_smithy_async::future::timeout::Timeout;
use aws_smithy_async::rt::sleep::AsyncSleep;
use awsemu::faults::FaultRule;
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::fixtures::default_vpc;
use client_tests::flows::classic_elb;
use client_tests::flows::routes::{ListInput, RouteInput};
use client_tests::flows::service::{LoadBalancerInput, ServicePort, ServiceSpec};
use client_tests::flows::volumes::{AttachInput, CreateInput, ResizeInput, VolumeInput};
use client_tests::flows::{self, routes, volumes, FlowContext};
use client_tests::{ec2, ec2_with, elb, elb_with, ClientOptions, Waiting};

const AMI: &str = "ami-0123456789abcdef0";
const CLUSTER: &str = "test";
const CLUSTER_TAG: &str = "kubernetes.io/cluster/test";
const UID: &str = "4ca190bb-09f0-48a1-9690-cc67ab7038f1";
const LB_NAME: &str = "a4ca190bb09f048a19690cc67ab7038f";

/// An emulator with realistic timing on a manual clock.
async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(7)
        .timing(Timing::Realistic)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .expect("the emulator starts")
}

fn ctx(emu: &Emulator, principal: &str, vpc: &str) -> FlowContext {
    FlowContext::new(
        emu,
        principal,
        CLUSTER,
        vpc,
        Waiting::AdvanceClock(emu.instance().clone()),
    )
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

/// The cluster as a provider sees it: the default VPC, a cluster-tagged node security group and
/// running nodes in it.
struct World {
    vpc: String,
    node_sg: String,
    nodes: Vec<String>,
}

async fn group(c: &aws_sdk_ec2::Client, vpc: &str, name: &str, tags: &[(&str, &str)]) -> String {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
    for (k, v) in tags {
        spec = spec.tags(tag(k, v));
    }
    c.create_security_group()
        .group_name(name)
        .description(name)
        .vpc_id(vpc)
        .tag_specifications(spec.build())
        .send()
        .await
        .expect("create group")
        .group_id()
        .unwrap()
        .to_string()
}

async fn node(emu: &Emulator, c: &aws_sdk_ec2::Client, zone: &str, groups: &[&str]) -> String {
    let mut run = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(
            aws_sdk_ec2::types::Placement::builder()
                .availability_zone(zone)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(tag(CLUSTER_TAG, "owned"))
                .build(),
        );
    for g in groups {
        run = run.security_group_ids(*g);
    }
    let id = run.send().await.expect("run instance").instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    emu.advance(Duration::from_secs(120));
    let state = c
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .state()
        .unwrap()
        .name()
        .cloned();
    assert_eq!(state, Some(InstanceStateName::Running));
    id
}

async fn world(emu: &Emulator) -> World {
    let c = ec2(emu, "admin");
    let vpc = default_vpc(&c).await;
    let node_sg = group(&c, &vpc, "k8s-nodes", &[(CLUSTER_TAG, "owned")]).await;
    let mut nodes = Vec::new();
    for zone in ["us-east-1a", "us-east-1b"] {
        nodes.push(node(emu, &c, zone, &[&node_sg]).await);
    }
    World {
        vpc,
        node_sg,
        nodes,
    }
}

fn service(annotations: &[(&str, &str)]) -> ServiceSpec {
    ServiceSpec {
        namespace: "default".into(),
        name: "web".into(),
        uid: UID.into(),
        ports: vec![ServicePort {
            name: "http".into(),
            port: 80,
            node_port: 30080,
            protocol: "TCP".into(),
        }],
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        external_traffic_policy: None,
        health_check_node_port: None,
        load_balancer_source_ranges: Vec::new(),
    }
}

fn input(service: ServiceSpec, nodes: &[String]) -> LoadBalancerInput {
    LoadBalancerInput {
        service,
        nodes: nodes.to_vec(),
    }
}

async fn security_group(c: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::SecurityGroup {
    c.describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .expect("describe group")
        .security_groups()[0]
        .clone()
}

/// The groups allowed in by a rule of `group` naming them as source.
fn sources(perms: &[IpPermission]) -> Vec<String> {
    perms
        .iter()
        .flat_map(|p| p.user_id_group_pairs())
        .filter_map(|p| p.group_id().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn classic_elb_ensure_update_and_delete_as_admin() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let admin = ec2(&emu, "admin");
    let lbs = elb(&emu, "admin");

    let status = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    assert_eq!(status.name, LB_NAME);
    assert!(status.hostname.starts_with(LB_NAME), "{}", status.hostname);
    let lb_sg = status.security_groups[0].clone();

    let d = lbs
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()[0]
        .clone();
    let l = d.listener_descriptions()[0].listener().unwrap();
    assert_eq!(
        (l.protocol(), l.load_balancer_port(), l.instance_port()),
        ("TCP", 80, 30080)
    );
    let hc = d.health_check().unwrap();
    assert_eq!(hc.target(), "TCP:30080");
    assert_eq!(
        (
            hc.healthy_threshold(),
            hc.unhealthy_threshold(),
            hc.timeout(),
            hc.interval()
        ),
        (2, 6, 5, 10)
    );
    let mut registered: Vec<&str> = d
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    registered.sort();
    let mut nodes: Vec<&str> = w.nodes.iter().map(String::as_str).collect();
    nodes.sort();
    assert_eq!(registered, nodes);
    assert_eq!(d.security_groups(), std::slice::from_ref(&lb_sg));
    // one subnet per zone of us-east-1, all public through the default VPC's internet gateway
    let zones = admin.describe_availability_zones().send().await.unwrap();
    assert_eq!(d.subnets().len(), zones.availability_zones().len());

    let tags = lbs
        .describe_tags()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().unwrap_or("").to_string()))
        .collect::<BTreeMap<_, _>>();
    assert_eq!(tags.get(CLUSTER_TAG).map(String::as_str), Some("owned"));
    assert_eq!(
        tags.get("kubernetes.io/service-name").map(String::as_str),
        Some("default/web")
    );
    let attrs = lbs
        .describe_load_balancer_attributes()
        .load_balancer_name(LB_NAME)
        .send()
        .await
        .unwrap();
    let attrs = attrs.load_balancer_attributes().unwrap();
    assert_eq!(attrs.connection_settings().unwrap().idle_timeout(), 60);
    assert!(!attrs.cross_zone_load_balancing().unwrap().enabled());

    // the k8s-elb group: name, description, cluster tag, the service's port and ICMP 3-4
    let g = security_group(&admin, &lb_sg).await;
    assert_eq!(g.group_name(), Some(format!("k8s-elb-{LB_NAME}").as_str()));
    assert_eq!(
        g.description(),
        Some(format!("Security group for Kubernetes ELB {LB_NAME} (default/web)").as_str())
    );
    assert!(g
        .tags()
        .iter()
        .any(|t| t.key() == Some(CLUSTER_TAG) && t.value() == Some("owned")));
    let mut rules: Vec<(String, Option<i32>, Option<i32>, String)> = g
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                (
                    p.ip_protocol().unwrap_or("").to_string(),
                    p.from_port(),
                    p.to_port(),
                    r.cidr_ip().unwrap_or("").to_string(),
                )
            })
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            ("icmp".into(), Some(3), Some(4), "0.0.0.0/0".into()),
            ("tcp".into(), Some(80), Some(80), "0.0.0.0/0".into()),
        ]
    );
    // the nodes' group lets the load balancer's group in
    let ng = security_group(&admin, &w.node_sg).await;
    assert_eq!(sources(ng.ip_permissions()), vec![lb_sg.clone()]);

    // a second ensure changes nothing
    let again = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("second ensure");
    assert_eq!(again, status);

    // update: one node left → deregistered
    classic_elb::update(&cx, &input(service(&[]), &w.nodes[..1]))
        .await
        .expect("update");
    let d = lbs
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()[0]
        .clone();
    let registered: Vec<&str> = d
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    assert_eq!(registered, vec![w.nodes[0].as_str()]);

    // delete: the rule from the nodes' group, the LB, then its group
    let deleted = classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("delete");
    assert!(deleted.deleted);
    assert_eq!(deleted.security_groups, vec![lb_sg.clone()]);
    let (code, _, _) = client_tests::expect_err!(
        lbs.describe_load_balancers()
            .load_balancer_names(LB_NAME)
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    let (code, _, _) = client_tests::expect_err!(
        admin
            .describe_security_groups()
            .group_ids(&lb_sg)
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    let ng = security_group(&admin, &w.node_sg).await;
    assert!(sources(ng.ip_permissions()).is_empty());

    // deleting again finds nothing to do
    let again = classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("second delete");
    assert!(!again.deleted);
    // and update of a missing LB is the provider's error
    let e = classic_elb::update(&cx, &input(service(&[]), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(e.message, "Load balancer not found");
}

#[tokio::test]
async fn local_traffic_gets_an_http_health_check_and_proxy_protocol_a_backend_policy() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let mut svc = service(&[(
        "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol",
        "*",
    )]);
    svc.external_traffic_policy = Some("Local".into());
    svc.health_check_node_port = Some(32000);
    classic_elb::ensure(&cx, &input(svc, &w.nodes))
        .await
        .expect("ensure");
    let d = elb(&emu, "admin")
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()[0]
        .clone();
    assert_eq!(d.health_check().unwrap().target(), "HTTP:32000/healthz");
    let backends = d.backend_server_descriptions();
    assert_eq!(backends.len(), 1);
    assert_eq!(backends[0].instance_port(), Some(30080));
    assert_eq!(
        backends[0].policy_names(),
        [classic_elb::PROXY_PROTOCOL_POLICY.to_string()]
    );
}

#[tokio::test]
async fn controlplane_needs_describe_availability_zones_for_subnet_discovery() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let e = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(e.status, Some(403));
    assert!(
        e.message.starts_with(
            "error get availability zone types: \"error describe availability zones: \\\"operation error EC2: DescribeAvailabilityZones, https response error StatusCode: 403, RequestID: "
        ),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(
            "api error UnauthorizedOperation: You are not authorized to perform this operation."
        ),
        "{}",
        e.message
    );

    // with the subnets named by annotation, the documented policy suffices for the rest
    let subnets = ec2(&emu, "admin")
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
    let ids: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id())
        .take(2)
        .collect();
    let svc = service(&[(
        "service.beta.kubernetes.io/aws-load-balancer-subnets",
        &ids.join(","),
    )]);
    let status = classic_elb::ensure(&cx, &input(svc.clone(), &w.nodes))
        .await
        .expect("ensure as controlplane");
    let d = elb(&emu, "admin")
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()[0]
        .clone();
    let mut got: Vec<&str> = d.subnets().iter().map(String::as_str).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(d.instances().len(), 2);
    let deleted = classic_elb::delete(&cx, &input(svc, &w.nodes))
        .await
        .expect("delete as controlplane");
    assert_eq!(deleted.security_groups, status.security_groups);
}

#[tokio::test]
async fn an_instance_with_two_cluster_tagged_groups_is_the_providers_exact_error() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let admin = ec2(&emu, "admin");
    let second = group(&admin, &w.vpc, "k8s-extra", &[(CLUSTER_TAG, "shared")]).await;
    let bad = node(&emu, &admin, "us-east-1c", &[&w.node_sg, &second]).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let e = classic_elb::ensure(
        &cx,
        &input(service(&[]), &[w.nodes[0].clone(), bad.clone()]),
    )
    .await
    .unwrap_err();
    // Go builds the list as "%s(%s) " per group, so it ends with a space.
    let mut groups = [
        (w.node_sg.clone(), "k8s-nodes"),
        (second.clone(), "k8s-extra"),
    ];
    let described = admin
        .describe_instances()
        .instance_ids(&bad)
        .send()
        .await
        .unwrap();
    let order: Vec<String> = described.reservations()[0].instances()[0]
        .security_groups()
        .iter()
        .map(|g| g.group_id().unwrap().to_string())
        .collect();
    groups.sort_by_key(|(id, _)| order.iter().position(|o| o == id));
    let list: String = groups
        .iter()
        .map(|(id, name)| format!("{id}({name}) "))
        .collect();
    assert_eq!(
        e.message,
        format!("Multiple tagged security groups found for instance {bad}; ensure only the k8s security group is tagged; the tagged groups were {list}")
    );
    assert_eq!(e.code, None);
    // the load balancer exists; neither of the instance's groups was opened to it
    let d = elb(&emu, "admin")
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap();
    assert_eq!(d.load_balancer_descriptions().len(), 1);
    assert!(d.load_balancer_descriptions()[0].instances().is_empty());
    for g in [&w.node_sg, &second] {
        assert!(sources(security_group(&admin, g).await.ip_permissions()).is_empty());
    }
}

#[tokio::test]
async fn delete_retries_delete_security_group_through_dependency_violation() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let status = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    emu.inject(
        FaultRule::new("ec2:DeleteSecurityGroup")
            .error(
                "DependencyViolation",
                &format!(
                    "resource {} has a dependent object",
                    status.security_groups[0]
                ),
                400,
            )
            .times(3),
    );
    let before = cx.now();
    let deleted = classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("delete");
    assert_eq!(deleted.security_groups, status.security_groups);
    // three injected refusals, and the emulator's own while the deleted load balancer holds the
    // group (60 s under realistic timing): the poll at 60 s succeeds
    let waited = cx.now() - before;
    assert_eq!(waited, Duration::from_secs(60));
    let (code, _, _) = client_tests::expect_err!(
        ec2(&emu, "admin")
            .describe_security_groups()
            .group_ids(&status.security_groups[0])
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
}

/// `Waiting::AdvanceClock` charges the emulator's clock only for the sleeps that elapse. SDK calls
/// and a flow that never waits leave a manual clock where it was (the identity cache's load
/// timeout, made for every call and never awaited, costs nothing); an SDK waiter moves it by
/// exactly its delay and a flow's back-off by exactly its polls.
#[tokio::test]
async fn advance_clock_charges_only_the_sleeps_that_elapse() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let clock = || emu.instance().clock.now_ms();
    let waiting = Waiting::AdvanceClock(emu.instance().clone());
    let opts = ClientOptions::principal(&emu, "admin").waiting(waiting.clone());
    let c = ec2_with(&emu, &opts);
    let t0 = clock();
    for _ in 0..3 {
        c.describe_instances().send().await.expect("describe");
    }
    elb_with(&emu, &opts)
        .describe_load_balancers()
        .send()
        .await
        .expect("describe load balancers");
    let v = c
        .create_volume()
        .availability_zone("us-east-1a")
        .size(10)
        .send()
        .await
        .expect("create volume")
        .volume_id()
        .unwrap()
        .to_string();
    assert_eq!(clock(), t0, "SDK calls that do not wait");

    let cx = ctx(&emu, "admin", &w.vpc);
    let status = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    assert_eq!(clock(), t0, "a flow that does not wait");
    assert_eq!(cx.now(), Duration::ZERO);

    // The waiter's first poll sees `creating` (4 s under realistic timing); the second comes
    // after its first delay, the VolumeAvailable minimum of 15 s (no jitter on attempt 1).
    c.wait_until_volume_available()
        .volume_ids(&v)
        .wait(Duration::from_secs(600))
        .await
        .expect("available");
    assert_eq!(clock(), t0 + 15_000, "one waiter delay");

    // The deleted load balancer holds its group for 60 s under realistic timing; the flow polls
    // DeleteSecurityGroup at once and then every 5 s, so it succeeds on the poll at 60 s.
    let deleted = classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("delete");
    assert_eq!(deleted.security_groups, status.security_groups);
    assert_eq!(clock(), t0 + 15_000 + 60_000, "twelve 5 s polls");
    assert_eq!(cx.now(), Duration::from_secs(60));

    // The SDK's races (`Timeout` polls its value before its sleep): a value ready at once or
    // after one yield wins and the sleep costs nothing; a sleep that fires costs its duration.
    let t1 = clock();
    drop(waiting.sleep(Duration::from_secs(7)));
    let won = Timeout::new(async { 1 }, waiting.sleep(Duration::from_secs(5))).await;
    assert_eq!(won.ok(), Some(1));
    let won = Timeout::new(
        tokio::task::yield_now(),
        waiting.sleep(Duration::from_secs(5)),
    )
    .await;
    assert!(won.is_ok());
    assert_eq!(clock(), t1);
    let lost = Timeout::new(
        std::future::pending::<()>(),
        waiting.sleep(Duration::from_secs(5)),
    )
    .await;
    assert!(lost.is_err());
    assert_eq!(clock(), t1 + 5_000);
}

#[tokio::test]
async fn delete_gives_up_after_ten_minutes_of_dependency_violation() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let status = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    emu.inject(FaultRule::new("ec2:DeleteSecurityGroup").error(
        "DependencyViolation",
        "resource has a dependent object",
        400,
    ));
    let e = classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "could not delete security groups {} for Load Balancer \"web\": context deadline exceeded",
            status.security_groups[0]
        )
    );
    assert!(cx.now() >= Duration::from_secs(595), "{:?}", cx.now());
}

#[tokio::test]
async fn delete_keeps_shared_annotated_groups_and_deletes_the_owned_one() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let admin = ec2(&emu, "admin");
    let shared = group(&admin, &w.vpc, "shared-lb", &[(CLUSTER_TAG, "shared")]).await;
    let svc = service(&[(
        "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups",
        &shared,
    )]);
    let cx = ctx(&emu, "admin", &w.vpc);
    let status = classic_elb::ensure(&cx, &input(svc.clone(), &w.nodes))
        .await
        .expect("ensure");
    assert_eq!(status.security_groups.len(), 2);
    let owned = status
        .security_groups
        .iter()
        .find(|g| **g != shared)
        .unwrap()
        .clone();
    let deleted = classic_elb::delete(&cx, &input(svc, &w.nodes))
        .await
        .expect("delete");
    assert_eq!(deleted.security_groups, vec![owned]);
    security_group(&admin, &shared).await;
}

#[tokio::test]
async fn workers_are_refused_every_flow_and_nothing_changes() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "worker", &w.vpc);
    let e = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
    // a worker may describe instances; subnet discovery is where it stops
    assert!(
        e.message.starts_with("error describing subnets: \"operation error EC2: DescribeSubnets, https response error StatusCode: 403"),
        "{}",
        e.message
    );
    let e = volumes::create(
        &cx,
        &CreateInput {
            name: "pvc-1".into(),
            size_gib: 10,
            zone: "us-east-1a".into(),
            volume_type: None,
            iops: None,
            throughput: None,
            encrypted: false,
            kms_key_id: None,
            tags: BTreeMap::new(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
    assert!(
        e.message
            .starts_with("could not create volume in EC2: operation error EC2: CreateVolume"),
        "{}",
        e.message
    );
    let d = elb(&emu, "admin")
        .describe_load_balancers()
        .send()
        .await
        .unwrap();
    assert!(d.load_balancer_descriptions().is_empty());
    let v = ec2(&emu, "admin").describe_volumes().send().await.unwrap();
    assert!(v.volumes().iter().all(|v| v
        .tags()
        .iter()
        .all(|t| t.key() != Some(volumes::VOLUME_NAME_TAG))));
}

/// A cluster route table and a node to route a pod CIDR to.
async fn route_world(emu: &Emulator) -> (World, String, String) {
    let w = world(emu).await;
    let admin = ec2(emu, "admin");
    let rtb = admin
        .create_route_table()
        .vpc_id(&w.vpc)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::RouteTable)
                .tags(tag(CLUSTER_TAG, "owned"))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    let dns = admin
        .describe_instances()
        .instance_ids(&w.nodes[0])
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .private_dns_name()
        .unwrap()
        .to_string();
    (w, rtb, dns)
}

#[tokio::test]
async fn routes_for_pod_cidrs_as_controlplane() {
    let emu = emulator().await;
    let (w, rtb, dns) = route_world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let admin = ec2(&emu, "admin");
    let route = RouteInput {
        cluster_name: "kubernetes".into(),
        target_node: dns.clone(),
        destination_cidr: "100.96.1.0/24".into(),
        route_table_id: None,
    };
    let out = routes::create(&cx, &route).await.expect("create route");
    assert_eq!(out.route_table_id, rtb);
    assert_eq!(out.instance_id.as_deref(), Some(w.nodes[0].as_str()));
    let table = admin
        .describe_route_tables()
        .route_table_ids(&rtb)
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .clone();
    let r = table
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("100.96.1.0/24"))
        .expect("the route");
    assert_eq!(r.instance_id(), Some(w.nodes[0].as_str()));
    let check = admin
        .describe_instance_attribute()
        .instance_id(&w.nodes[0])
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::SourceDestCheck)
        .send()
        .await
        .unwrap();
    assert_eq!(
        check.source_dest_check().and_then(|b| b.value()),
        Some(false)
    );

    let listed = routes::list(
        &cx,
        &ListInput {
            cluster_name: "kubernetes".into(),
            route_table_id: None,
        },
    )
    .await
    .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "kubernetes-100.96.1.0/24");
    assert_eq!(listed[0].target_node, dns);
    assert!(!listed[0].blackhole);

    // through the registry, as a scenario would call it
    let json = flows::run(
        "route.delete",
        &cx,
        serde_json::json!({"cluster_name": "kubernetes", "destination_cidr": "100.96.1.0/24"}),
    )
    .await
    .expect("delete route");
    assert_eq!(json["route_table_id"], rtb.as_str());
    let json = flows::run(
        "route.list",
        &cx,
        serde_json::json!({"cluster_name": "kubernetes"}),
    )
    .await
    .unwrap();
    assert_eq!(json, serde_json::json!([]));
    // deleting it again is the provider's wrapped EC2 error
    let e = routes::delete(&cx, &route).await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("InvalidRoute.NotFound"));
    assert!(
        e.message.starts_with("error deleting AWS route (100.96.1.0/24): \"operation error EC2: DeleteRoute, https response error StatusCode: 400"),
        "{}",
        e.message
    );
    // an unknown node
    let e = routes::create(
        &cx,
        &RouteInput {
            target_node: "ip-10-0-0-1.ec2.internal".into(),
            ..route
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.message, "instance not found");
}

#[tokio::test]
async fn the_registry_names_every_flow_and_refuses_bad_inputs() {
    let emu = emulator().await;
    let cx = ctx(&emu, "admin", "vpc-0");
    for name in flows::NAMES {
        let e = flows::run(name, &cx, serde_json::json!({"bogus": true}))
            .await
            .unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("invalid inputs for flow {name}: "))
                || *name == "route.list",
            "{name}: {}",
            e.message
        );
    }
    let e = flows::run("elb.explode", &cx, serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        e.message.starts_with("unknown flow \"elb.explode\""),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn throttled_describe_instances_is_retried_as_the_provider_does() {
    let emu = emulator().await;
    let (w, _, dns) = route_world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let throttle = |n| {
        FaultRule::new("ec2:DescribeInstances")
            .error("RequestLimitExceeded", "Request limit exceeded.", 503)
            .times(n)
    };
    let route = RouteInput {
        cluster_name: "kubernetes".into(),
        target_node: dns.clone(),
        destination_cidr: "100.96.2.0/24".into(),
        route_table_id: None,
    };
    // two throttles: the third attempt succeeds after 2 s + 4 s of back-off
    emu.inject(throttle(2));
    routes::create(&cx, &route)
        .await
        .expect("create after retries");
    assert_eq!(cx.now(), Duration::from_secs(6));

    // three: the retryer gives up, and the provider's cross-request delay starts
    emu.inject(throttle(3));
    let e = routes::create(&cx, &route).await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("RequestLimitExceeded"));
    assert!(
        e.message.starts_with("operation error EC2: DescribeInstances, exceeded maximum number of attempts, 3, https response error StatusCode: 503"),
        "{}",
        e.message
    );
    assert!(
        e.message
            .ends_with("api error RequestLimitExceeded: Request limit exceeded."),
        "{}",
        e.message
    );
    let before = cx.now();
    routes::list(
        &cx,
        &ListInput {
            cluster_name: "kubernetes".into(),
            route_table_id: None,
        },
    )
    .await
    .expect("list");
    assert!(
        cx.now() > before,
        "a delay was inserted before the next request"
    );
}

fn create_input(zone: &str) -> CreateInput {
    CreateInput {
        name: "pvc-0a1b2c3d".into(),
        size_gib: 10,
        zone: zone.into(),
        volume_type: None,
        iops: None,
        throughput: None,
        encrypted: false,
        kms_key_id: None,
        tags: BTreeMap::new(),
    }
}

#[tokio::test]
async fn volume_lifecycle_as_admin() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let admin = ec2(&emu, "admin");
    let disk = volumes::create(&cx, &create_input("us-east-1a"))
        .await
        .expect("create");
    assert_eq!((disk.size_gib, disk.state.as_str()), (10, "available"));
    let v = admin
        .describe_volumes()
        .volume_ids(&disk.volume_id)
        .send()
        .await
        .unwrap()
        .volumes()[0]
        .clone();
    assert_eq!(v.volume_type().map(|t| t.as_str()), Some("gp3"));
    assert!(v
        .tags()
        .iter()
        .any(|t| t.key() == Some("CSIVolumeName") && t.value() == Some("pvc-0a1b2c3d")));

    let attach = AttachInput {
        volume_id: disk.volume_id.clone(),
        node: w.nodes[0].clone(),
    };
    let a = volumes::attach(&cx, &attach).await.expect("attach");
    assert_eq!(a.device, "/dev/xvdaa");
    let v = admin
        .describe_volumes()
        .volume_ids(&disk.volume_id)
        .send()
        .await
        .unwrap()
        .volumes()[0]
        .clone();
    assert_eq!(
        v.attachments()[0].state().map(|s| s.as_str()),
        Some("attached")
    );
    assert_eq!(v.attachments()[0].device(), Some("/dev/xvdaa"));
    // attaching again finds the device already assigned and only waits
    assert_eq!(
        volumes::attach(&cx, &attach)
            .await
            .expect("attach again")
            .device,
        "/dev/xvdaa"
    );

    // a second volume takes the next name
    let second = volumes::create(
        &cx,
        &CreateInput {
            name: "pvc-second".into(),
            ..create_input("us-east-1a")
        },
    )
    .await
    .expect("create second");
    let b = volumes::attach(
        &cx,
        &AttachInput {
            volume_id: second.volume_id.clone(),
            node: w.nodes[0].clone(),
        },
    )
    .await
    .expect("attach second");
    assert_eq!(b.device, "/dev/xvdab");

    // a volume in another zone: AWS's zone mismatch, wrapped by the driver
    let far = volumes::create(
        &cx,
        &CreateInput {
            name: "pvc-far".into(),
            ..create_input("us-east-1b")
        },
    )
    .await
    .expect("create far");
    let e = volumes::attach(
        &cx,
        &AttachInput {
            volume_id: far.volume_id.clone(),
            node: w.nodes[0].clone(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("InvalidVolume.ZoneMismatch"));
    assert!(
        e.message.starts_with(&format!(
            "could not attach volume \"{}\" to node \"{}\": operation error EC2: AttachVolume",
            far.volume_id, w.nodes[0]
        )),
        "{}",
        e.message
    );

    // in use: deleting fails until detached
    let e = volumes::delete(
        &cx,
        &VolumeInput {
            volume_id: disk.volume_id.clone(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("VolumeInUse"));
    assert!(
        e.message
            .starts_with("DeleteDisk could not delete volume: operation error EC2: DeleteVolume"),
        "{}",
        e.message
    );

    let detached = volumes::detach(&cx, &attach).await.expect("detach");
    assert_eq!(detached.state, "available");
    // detaching a detached volume is the driver's not-found
    let e = volumes::detach(&cx, &attach).await.unwrap_err();
    assert_eq!(e.message, "resource was not found");

    let resized = volumes::resize(
        &cx,
        &ResizeInput {
            volume_id: disk.volume_id.clone(),
            size_gib: 20,
            volume_type: None,
            iops: None,
            throughput: None,
        },
    )
    .await
    .expect("resize");
    assert_eq!(resized.size_gib, 20);
    let m = admin
        .describe_volumes_modifications()
        .volume_ids(&disk.volume_id)
        .send()
        .await
        .unwrap();
    let state = m.volumes_modifications()[0]
        .modification_state()
        .map(|s| s.as_str().to_string());
    assert!(
        matches!(state.as_deref(), Some("optimizing") | Some("completed")),
        "{state:?}"
    );

    let out = volumes::delete(
        &cx,
        &VolumeInput {
            volume_id: disk.volume_id.clone(),
        },
    )
    .await
    .expect("delete");
    assert!(out.deleted);
    // the flow does not wait: the volume is still `deleting` (3 s under realistic timing)
    let e = volumes::delete(
        &cx,
        &VolumeInput {
            volume_id: disk.volume_id.clone(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("IncorrectState"));
    assert!(
        e.message.starts_with("DeleteDisk could not delete volume: operation error EC2: DeleteVolume, https response error StatusCode: 400"),
        "{}",
        e.message
    );
    emu.advance(Duration::from_secs(3));
    let e = volumes::delete(
        &cx,
        &VolumeInput {
            volume_id: disk.volume_id.clone(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.code.as_deref()),
        ("resource was not found", Some("InvalidVolume.NotFound"))
    );
}

#[tokio::test]
async fn volumes_as_controlplane_resize_needs_describe_volumes_modifications() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let json = flows::run(
        "volume.create",
        &cx,
        serde_json::json!({"name": "pvc-cp", "size_gib": 8, "zone": "us-east-1a"}),
    )
    .await
    .expect("create");
    let id = json["volume_id"].as_str().unwrap().to_string();
    let json = flows::run(
        "volume.attach",
        &cx,
        serde_json::json!({"volume_id": id, "node": w.nodes[0]}),
    )
    .await
    .expect("attach");
    assert_eq!(json["device"], "/dev/xvdaa");
    flows::run(
        "volume.detach",
        &cx,
        serde_json::json!({"volume_id": id, "node": w.nodes[0]}),
    )
    .await
    .expect("detach");
    let e = flows::run(
        "volume.resize",
        &cx,
        serde_json::json!({"volume_id": id, "size_gib": 16}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
    assert!(e.message.starts_with(&format!("error describing modifications in volume \"{id}\": operation error EC2: DescribeVolumesModifications")), "{}", e.message);
    flows::run("volume.delete", &cx, serde_json::json!({"volume_id": id}))
        .await
        .expect("delete");
}

fn nlb_service() -> ServiceSpec {
    service(&[("service.beta.kubernetes.io/aws-load-balancer-type", "nlb")])
}

async fn nlb_state(
    emu: &Emulator,
) -> (
    aws_sdk_elasticloadbalancingv2::types::LoadBalancer,
    Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
) {
    let c = client_tests::elbv2(emu, "admin");
    let lb = c
        .describe_load_balancers()
        .names(LB_NAME)
        .send()
        .await
        .expect("the NLB exists")
        .load_balancers()[0]
        .clone();
    let tgs = c
        .describe_target_groups()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap()
        .target_groups()
        .to_vec();
    (lb, tgs)
}

async fn targets(emu: &Emulator, tg: &str) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = client_tests::elbv2(emu, "admin")
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap()
        .target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health().and_then(|h| h.reason())
                != Some(&aws_sdk_elasticloadbalancingv2::types::TargetHealthReasonEnum::DeregistrationInProgress)
        })
        .map(|d| {
            let t = d.target().unwrap();
            (t.id().unwrap().to_string(), t.port().unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

/// The node group's NLB rules: (protocol, from, to, cidr, description).
async fn nlb_rules(
    c: &aws_sdk_ec2::Client,
    group: &str,
) -> Vec<(String, i32, i32, String, String)> {
    let g = security_group(c, group).await;
    let mut out: Vec<_> = g
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                (
                    p.ip_protocol().unwrap_or("").to_string(),
                    p.from_port().unwrap_or(0),
                    p.to_port().unwrap_or(0),
                    r.cidr_ip().unwrap_or("").to_string(),
                    r.description().unwrap_or("").to_string(),
                )
            })
        })
        .filter(|r| r.4.starts_with("kubernetes.io/rule/nlb/"))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn nlb_ensure_update_and_delete_as_admin() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let admin = ec2(&emu, "admin");
    let status = flows::nlb::ensure(&cx, &input(nlb_service(), &w.nodes))
        .await
        .expect("ensure");
    assert_eq!(status.name, LB_NAME);
    assert!(!status.hostname.is_empty());
    let (lb, tgs) = nlb_state(&emu).await;
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("network"));
    assert!(lb.security_groups().is_empty());
    assert_eq!(tgs.len(), 1);
    let tg = &tgs[0];
    let expected_name =
        flows::nlb::target_group_name(CLUSTER, &nlb_service(), 80, 30080, "TCP", "TCP", 30);
    assert_eq!(tg.target_group_name(), Some(expected_name.as_str()));
    assert!(expected_name.starts_with("k8s-default-web-"));
    assert_eq!(tg.port(), Some(30080));
    assert_eq!(tg.health_check_port(), Some("traffic-port"));
    assert_eq!(tg.health_check_protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(
        (
            tg.health_check_interval_seconds(),
            tg.healthy_threshold_count(),
            tg.unhealthy_threshold_count()
        ),
        (Some(30), Some(3), Some(3))
    );
    let mut want: Vec<(String, i32)> = w.nodes.iter().map(|n| (n.clone(), 30080)).collect();
    want.sort();
    assert_eq!(targets(&emu, tg.target_group_arn().unwrap()).await, want);
    let listeners = client_tests::elbv2(&emu, "admin")
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let l = &listeners.listeners()[0];
    assert_eq!(
        (l.port(), l.protocol().map(|p| p.as_str())),
        (Some(80), Some("TCP"))
    );
    assert_eq!(
        l.default_actions()[0].target_group_arn(),
        tg.target_group_arn()
    );

    // the nodes' group: client traffic to the node port from everywhere, ICMP for MTU discovery
    let client = format!("kubernetes.io/rule/nlb/client={LB_NAME}");
    assert_eq!(
        nlb_rules(&admin, &w.node_sg).await,
        vec![
            (
                "icmp".into(),
                3,
                4,
                "0.0.0.0/0".into(),
                "kubernetes.io/rule/nlb/mtu".into()
            ),
            (
                "tcp".into(),
                30080,
                30080,
                "0.0.0.0/0".into(),
                client.clone()
            ),
        ]
    );

    // a second ensure is stable
    flows::nlb::ensure(&cx, &input(nlb_service(), &w.nodes))
        .await
        .expect("again");
    let (_, tgs2) = nlb_state(&emu).await;
    assert_eq!(tgs2.len(), 1);
    assert_eq!(tgs2[0].target_group_arn(), tg.target_group_arn());

    // update: a node leaves → deregistered
    flows::nlb::update(&cx, &input(nlb_service(), &w.nodes[..1]))
        .await
        .expect("update");
    assert_eq!(
        targets(&emu, tg.target_group_arn().unwrap()).await,
        vec![(w.nodes[0].clone(), 30080)]
    );

    // delete: LB, target groups, node rules
    let deleted = flows::nlb::delete(&cx, &input(nlb_service(), &w.nodes))
        .await
        .expect("delete");
    assert!(deleted.deleted.deleted);
    assert_eq!(
        deleted.target_groups,
        vec![tg.target_group_arn().unwrap().to_string()]
    );
    let (code, _, _) = client_tests::expect_err!(
        client_tests::elbv2(&emu, "admin")
            .describe_load_balancers()
            .names(LB_NAME)
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    let (code, _, _) = client_tests::expect_err!(
        client_tests::elbv2(&emu, "admin")
            .describe_target_groups()
            .target_group_arns(tg.target_group_arn().unwrap())
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");
    assert!(nlb_rules(&admin, &w.node_sg).await.is_empty());
    let e = flows::nlb::update(&cx, &input(nlb_service(), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(e.message, "Load balancer not found");
}

#[tokio::test]
async fn nlb_local_traffic_checks_health_over_http_from_the_subnets() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "admin", &w.vpc);
    let mut svc = nlb_service();
    svc.external_traffic_policy = Some("Local".into());
    svc.health_check_node_port = Some(32000);
    flows::nlb::ensure(&cx, &input(svc, &w.nodes))
        .await
        .expect("ensure");
    let (lb, tgs) = nlb_state(&emu).await;
    let tg = &tgs[0];
    assert_eq!(tg.health_check_protocol().map(|p| p.as_str()), Some("HTTP"));
    assert_eq!(tg.health_check_port(), Some("32000"));
    assert_eq!(tg.health_check_path(), Some("/healthz"));
    assert_eq!(
        (
            tg.health_check_interval_seconds(),
            tg.healthy_threshold_count()
        ),
        (Some(10), Some(2))
    );
    // health-check rules from each of the LB's subnets on the health-check port
    let subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    let cidrs = ec2(&emu, "admin")
        .describe_subnets()
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .unwrap();
    let health = format!("kubernetes.io/rule/nlb/health={LB_NAME}");
    let rules = nlb_rules(&ec2(&emu, "admin"), &w.node_sg).await;
    for s in cidrs.subnets() {
        let cidr = s.cidr_block().unwrap().to_string();
        assert!(
            rules.contains(&("tcp".into(), 32000, 32000, cidr.clone(), health.clone())),
            "{cidr}: {rules:?}"
        );
    }
}

#[tokio::test]
async fn controlplane_can_create_an_nlb_but_not_deregister_targets() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let subnets = ec2(&emu, "admin")
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
    let ids: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id())
        .take(2)
        .collect();
    let svc = service(&[
        ("service.beta.kubernetes.io/aws-load-balancer-type", "nlb"),
        (
            "service.beta.kubernetes.io/aws-load-balancer-subnets",
            &ids.join(","),
        ),
    ]);
    flows::nlb::ensure(&cx, &input(svc.clone(), &w.nodes))
        .await
        .expect("ensure as controlplane");
    // the documented policy lacks elasticloadbalancing:DeregisterTargets
    let e = flows::nlb::update(&cx, &input(svc.clone(), &w.nodes[..1]))
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("AccessDenied"));
    assert!(
        e.message.starts_with("error trying to deregister targets in target group: \"operation error Elastic Load Balancing v2: DeregisterTargets, https response error StatusCode: 403"),
        "{}",
        e.message
    );
    let (_, tgs) = nlb_state(&emu).await;
    assert_eq!(
        targets(&emu, tgs[0].target_group_arn().unwrap())
            .await
            .len(),
        2
    );
    flows::nlb::delete(&cx, &input(svc, &w.nodes))
        .await
        .expect("delete as controlplane");
}

#[tokio::test]
async fn attaching_a_volume_in_use_elsewhere_is_the_drivers_wrapped_volume_in_use() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let admin = ec2(&emu, "admin");
    let other = node(&emu, &admin, "us-east-1a", &[&w.node_sg]).await;
    let disk = volumes::create(&cx, &create_input("us-east-1a"))
        .await
        .expect("create");
    volumes::attach(
        &cx,
        &AttachInput {
            volume_id: disk.volume_id.clone(),
            node: w.nodes[0].clone(),
        },
    )
    .await
    .expect("attach");
    let e = volumes::attach(
        &cx,
        &AttachInput {
            volume_id: disk.volume_id.clone(),
            node: other.clone(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("VolumeInUse"));
    assert!(
        e.message.starts_with(&format!(
            "could not attach volume \"{}\" to node \"{other}\": operation error EC2: AttachVolume, https response error StatusCode: 400",
            disk.volume_id
        )),
        "{}",
        e.message
    );
    // still attached where it was
    let v = admin
        .describe_volumes()
        .volume_ids(&disk.volume_id)
        .send()
        .await
        .unwrap()
        .volumes()[0]
        .clone();
    assert_eq!(v.attachments().len(), 1);
    assert_eq!(v.attachments()[0].instance_id(), Some(w.nodes[0].as_str()));
}

#[tokio::test]
async fn an_existing_load_balancer_group_is_read_repaired_or_refused() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let admin = ec2(&emu, "admin");
    let cx = ctx(&emu, "admin", &w.vpc);
    // left untagged by an interrupted sync: the provider adds the cluster tag and goes on
    let sg = group(&admin, &w.vpc, &format!("k8s-elb-{LB_NAME}"), &[]).await;
    let status = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    assert_eq!(status.security_groups, vec![sg.clone()]);
    let g = security_group(&admin, &sg).await;
    assert!(g
        .tags()
        .iter()
        .any(|t| t.key() == Some(CLUSTER_TAG) && t.value() == Some("owned")));
    classic_elb::delete(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("delete");

    // tagged for the cluster as shared: not the provider's to take
    let sg = group(
        &admin,
        &w.vpc,
        &format!("k8s-elb-{LB_NAME}"),
        &[(CLUSTER_TAG, "shared")],
    )
    .await;
    let e = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        format!("resource \"{sg}\" has tag belonging to another cluster: \"{CLUSTER_TAG}\"=\"shared\" (expected \"owned\")")
    );
}

#[tokio::test]
async fn an_encrypted_volume_with_a_disabled_key_disappears_and_create_fails() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let kms = client_tests::kms(&emu, "admin");
    let key = kms
        .create_key()
        .send()
        .await
        .expect("create key")
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    kms.disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("disable key");
    let cx = ctx(&emu, "admin", &w.vpc);
    let e = volumes::create(
        &cx,
        &CreateInput {
            kms_key_id: Some(key),
            ..create_input("us-east-1a")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("InvalidVolume.NotFound"));
    assert!(
        e.message.starts_with(
            "timed out waiting for volume to create: operation error EC2: DescribeVolumes, https response error StatusCode: 400"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn replacing_the_load_balancer_group_deletes_the_owned_one_and_its_references() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let admin = ec2(&emu, "admin");
    let cx = ctx(&emu, "admin", &w.vpc);
    let first = classic_elb::ensure(&cx, &input(service(&[]), &w.nodes))
        .await
        .expect("ensure");
    let old = first.security_groups[0].clone();
    assert_eq!(
        sources(security_group(&admin, &w.node_sg).await.ip_permissions()),
        vec![old.clone()]
    );
    let custom = group(&admin, &w.vpc, "custom-lb", &[]).await;
    let svc = service(&[(
        "service.beta.kubernetes.io/aws-load-balancer-security-groups",
        &custom,
    )]);
    let status = classic_elb::ensure(&cx, &input(svc, &w.nodes))
        .await
        .expect("ensure with the annotated group");
    assert_eq!(status.security_groups, vec![custom.clone()]);
    let (code, _, _) = client_tests::expect_err!(
        admin
            .describe_security_groups()
            .group_ids(&old)
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    // the nodes now let the annotated group in instead
    assert_eq!(
        sources(security_group(&admin, &w.node_sg).await.ip_permissions()),
        vec![custom]
    );
}

/// Port, protocol, instance protocol, certificate, policies.
type ListenerRow = (i32, String, String, Option<String>, Vec<String>);

#[tokio::test]
async fn a_certificate_makes_ssl_listeners_with_the_negotiation_policy() {
    let emu = emulator().await;
    let w = world(&emu).await;
    let cx = ctx(&emu, "controlplane", &w.vpc);
    let subnets = ec2(&emu, "admin")
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
    let subnet = subnets.subnets()[0].subnet_id().unwrap().to_string();
    let cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d";
    let mut svc = service(&[
        (
            "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
            cert,
        ),
        (
            "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
            "443",
        ),
        (
            "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
            "ELBSecurityPolicy-TLS-1-2-2017-01",
        ),
        (
            "service.beta.kubernetes.io/aws-load-balancer-subnets",
            &subnet,
        ),
    ]);
    svc.ports.push(ServicePort {
        name: "https".into(),
        port: 443,
        node_port: 30443,
        protocol: "TCP".into(),
    });
    classic_elb::ensure(&cx, &input(svc.clone(), &w.nodes))
        .await
        .expect("ensure");
    let lbs = elb(&emu, "admin");
    let d = lbs
        .describe_load_balancers()
        .load_balancer_names(LB_NAME)
        .send()
        .await
        .unwrap()
        .load_balancer_descriptions()[0]
        .clone();
    let mut listeners: Vec<ListenerRow> = d
        .listener_descriptions()
        .iter()
        .map(|ld| {
            let l = ld.listener().unwrap();
            (
                l.load_balancer_port(),
                l.protocol().to_string(),
                l.instance_protocol().unwrap_or("").to_string(),
                l.ssl_certificate_id().map(str::to_string),
                ld.policy_names().to_vec(),
            )
        })
        .collect();
    listeners.sort();
    let policy = "k8s-SSLNegotiationPolicy-ELBSecurityPolicy-TLS-1-2-2017-01".to_string();
    assert_eq!(
        listeners,
        vec![
            (80, "TCP".into(), "TCP".into(), None, vec![]),
            (
                443,
                "SSL".into(),
                "TCP".into(),
                Some(cert.into()),
                vec![policy.clone()]
            ),
        ]
    );
    let p = lbs
        .describe_load_balancer_policies()
        .load_balancer_name(LB_NAME)
        .policy_names(&policy)
        .send()
        .await
        .unwrap();
    let attrs = p.policy_descriptions()[0].policy_attribute_descriptions();
    assert!(attrs
        .iter()
        .any(|a| a.attribute_name() == Some("Reference-Security-Policy")
            && a.attribute_value() == Some("ELBSecurityPolicy-TLS-1-2-2017-01")));
    // update finds the policy and sets it again
    classic_elb::update(&cx, &input(svc, &w.nodes))
        .await
        .expect("update");
}
