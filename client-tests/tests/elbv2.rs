//! ELBv2 through aws-sdk-elasticloadbalancingv2 (with aws-sdk-ec2 for the network and the
//! instances): network, application and gateway load balancers, listeners, target groups,
//! targets and their health on the virtual clock, attributes, tags, paging, quotas, AWS's error
//! answers and the SDK waiters under every timing profile.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters as _;
use aws_sdk_ec2::types::{Filter, Placement};
use aws_sdk_elasticloadbalancingv2 as elbv2;
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, elbv2, elbv2_with, expect_err, ClientOptions, Waiting};
use elbv2::client::Waiters as _;
use elbv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ForwardActionConfig,
    IpAddressType, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
    SubnetMapping, Tag, TargetDescription, TargetGroupAttribute, TargetGroupTuple, TargetTypeEnum,
};

const AMI: &str = "ami-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";
const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/5cc54884-f4a3-4072-80be-05b9ba72f705";

/// The clients and the default network of a fresh emulator.
struct Env {
    emu: Emulator,
    ec2: aws_sdk_ec2::Client,
    elb: elbv2::Client,
    vpc: String,
    /// Whether the test moves the clock itself (then nothing waits on it).
    manual: bool,
    /// Default subnets, sorted by zone: (zone, subnet id).
    subnets: Vec<(String, String)>,
}

impl Env {
    fn subnet(&self, zone_letter: char) -> &str {
        let zone = format!("us-east-1{zone_letter}");
        &self
            .subnets
            .iter()
            .find(|(z, _)| *z == zone)
            .expect("a default subnet in the zone")
            .1
    }
}

async fn env_with(emu: Emulator, waiting: Waiting) -> Env {
    env_made(emu, waiting, false).await
}

async fn env_made(emu: Emulator, waiting: Waiting, manual: bool) -> Env {
    let opts = ClientOptions::principal(&emu, "admin").waiting(waiting);
    let ec2 = ec2_with(&emu, &opts);
    let elb = elbv2_with(&emu, &opts);
    let out = ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("describe subnets");
    let mut subnets: Vec<(String, String)> = out
        .subnets()
        .iter()
        .map(|s| {
            (
                s.availability_zone().unwrap().to_string(),
                s.subnet_id().unwrap().to_string(),
            )
        })
        .collect();
    subnets.sort();
    let vpc = out.subnets()[0].vpc_id().unwrap().to_string();
    Env {
        emu,
        ec2,
        elb,
        vpc,
        manual,
        subnets,
    }
}

async fn env() -> Env {
    env_with(client_tests::start().await, Waiting::Real).await
}

/// An emulator under realistic timing on a manual clock the test moves (the clients sleep for
/// real: an advancing client would move the clock with every timeout it arms).
async fn realistic_env() -> Env {
    let emu = Emulator::builder()
        .seed(1)
        .timing(Timing::Realistic)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    env_made(emu, Waiting::Real, true).await
}

async fn instance(env: &Env, zone_letter: char) -> String {
    let out = env
        .ec2
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(
            Placement::builder()
                .availability_zone(format!("us-east-1{zone_letter}"))
                .build(),
        )
        .send()
        .await
        .expect("run instance");
    let id = out.instances()[0].instance_id().unwrap().to_string();
    if env.manual {
        env.emu.advance(Duration::from_secs(60));
        return id;
    }
    env.ec2
        .wait_until_instance_running()
        .instance_ids(&id)
        .wait(Duration::from_secs(600))
        .await
        .expect("running");
    id
}

async fn group(env: &Env, vpc: &str, name: &str) -> String {
    env.ec2
        .create_security_group()
        .group_name(name)
        .description("load balancer group")
        .vpc_id(vpc)
        .send()
        .await
        .expect("create group")
        .group_id()
        .unwrap()
        .to_string()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn target(id: &str, port: i32) -> TargetDescription {
    TargetDescription::builder().id(id).port(port).build()
}

fn forward(tg: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build()
}

/// A network load balancer in the given default subnets; its ARN.
async fn nlb(env: &Env, name: &str, zones: &[char]) -> String {
    let mut req = env
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Network);
    for z in zones {
        req = req.subnets(env.subnet(*z));
    }
    req.send().await.expect("create nlb").load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}

/// An application load balancer in zones a and b; its ARN.
async fn alb(env: &Env, name: &str) -> String {
    env.elb
        .create_load_balancer()
        .name(name)
        .subnets(env.subnet('a'))
        .subnets(env.subnet('b'))
        .send()
        .await
        .expect("create alb")
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}

/// A target group of `protocol` on `port` in the default VPC; its ARN.
async fn target_group(env: &Env, name: &str, protocol: ProtocolEnum, port: i32) -> String {
    env.elb
        .create_target_group()
        .name(name)
        .protocol(protocol)
        .port(port)
        .vpc_id(&env.vpc)
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

async fn listener(env: &Env, lb: &str, protocol: ProtocolEnum, port: i32, tg: &str) -> String {
    env.elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(protocol)
        .port(port)
        .default_actions(forward(tg))
        .send()
        .await
        .expect("create listener")
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string()
}

/// (target id, port, state, reason) of every target DescribeTargetHealth lists.
async fn health(env: &Env, tg: &str) -> Vec<(String, i32, String, Option<String>)> {
    env.elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .expect("describe target health")
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let t = d.target().unwrap();
            let h = d.target_health().unwrap();
            (
                t.id().unwrap().to_string(),
                t.port().unwrap_or_default(),
                h.state().unwrap().as_str().to_string(),
                h.reason().map(|r| r.as_str().to_string()),
            )
        })
        .collect()
}

async fn state_of(env: &Env, lb: &str) -> LoadBalancerStateEnum {
    env.elb
        .describe_load_balancers()
        .load_balancer_arns(lb)
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .state()
        .unwrap()
        .code()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn network_load_balancer_as_the_cloud_provider_drives_it() {
    let env = env().await;
    let sg = group(&env, &env.vpc, "k8s-nlb").await;
    let node = instance(&env, 'a').await;
    let name = "a4ca190bb09f048a19690cc67ab7038f";
    let out = env
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnet_mappings(SubnetMapping::builder().subnet_id(env.subnet('b')).build())
        .subnet_mappings(SubnetMapping::builder().subnet_id(env.subnet('a')).build())
        .security_groups(&sg)
        .tags(tag("kubernetes.io/service-name", "default/web"))
        .tags(tag("kubernetes.io/cluster/c1", "owned"))
        .send()
        .await
        .unwrap();
    let lb = &out.load_balancers()[0];
    let lb_arn = lb.load_balancer_arn().unwrap().to_string();
    let prefix =
        format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/net/{name}/");
    let hex = lb_arn.strip_prefix(&prefix).expect("NLB ARN form");
    assert_eq!(hex.len(), 16);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    // An NLB's DNS name carries the ARN's id, `elb.` before the region, and no `internal-`.
    assert_eq!(
        lb.dns_name(),
        Some(format!("{name}-{hex}.elb.us-east-1.amazonaws.com").as_str())
    );
    assert_eq!(lb.canonical_hosted_zone_id(), Some("Z26RNL4JYFTOTI"));
    assert_eq!(
        lb.state().unwrap().code(),
        Some(&LoadBalancerStateEnum::Provisioning)
    );
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Network));
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::Internal));
    assert_eq!(lb.vpc_id(), Some(env.vpc.as_str()));
    assert_eq!(lb.security_groups(), [sg.as_str()]);
    assert_eq!(lb.ip_address_type(), Some(&IpAddressType::Ipv4));
    let zones: Vec<(&str, &str)> = lb
        .availability_zones()
        .iter()
        .map(|z| (z.zone_name().unwrap(), z.subnet_id().unwrap()))
        .collect();
    assert_eq!(
        zones,
        [
            ("us-east-1a", env.subnet('a')),
            ("us-east-1b", env.subnet('b'))
        ]
    );
    assert!(lb.created_time().is_some());

    // The provider looks its NLB up by name and picks the `network` one.
    let found = env
        .elb
        .describe_load_balancers()
        .names(name)
        .send()
        .await
        .unwrap();
    assert_eq!(found.load_balancers().len(), 1);
    assert_eq!(
        found.load_balancers()[0].state().unwrap().code(),
        Some(&LoadBalancerStateEnum::Active)
    );
    assert_eq!(found.next_marker(), None);

    // A TCP target group with the HTTP check of `externalTrafficPolicy: Local`: interval 10 with
    // the group's default timeout of 10 is accepted.
    let tg = env
        .elb
        .create_target_group()
        .name("k8s-default-web-0f0e7a1b2c")
        .protocol(ProtocolEnum::Tcp)
        .port(30080)
        .vpc_id(&env.vpc)
        .target_type(TargetTypeEnum::Instance)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_port("10256")
        .health_check_path("/healthz")
        .health_check_interval_seconds(10)
        .healthy_threshold_count(2)
        .unhealthy_threshold_count(2)
        .tags(tag("kubernetes.io/service-name", "default/web"))
        .send()
        .await
        .unwrap();
    let g = &tg.target_groups()[0];
    let tg_arn = g.target_group_arn().unwrap().to_string();
    assert!(tg_arn.starts_with(&format!(
        "arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/k8s-default-web-0f0e7a1b2c/"
    )));
    assert_eq!(g.health_check_timeout_seconds(), Some(10));
    assert_eq!(g.health_check_interval_seconds(), Some(10));
    assert_eq!(g.health_check_protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(g.health_check_path(), Some("/healthz"));
    assert_eq!(g.matcher().unwrap().http_code(), Some("200-399"));
    assert_eq!(g.health_check_enabled(), Some(true));
    assert_eq!(g.target_type(), Some(&TargetTypeEnum::Instance));
    assert!(g.load_balancer_arns().is_empty());

    env.elb
        .register_targets()
        .target_group_arn(&tg_arn)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    // No listener forwards to the group yet.
    assert_eq!(
        health(&env, &tg_arn).await,
        [(
            node.clone(),
            30080,
            "unused".into(),
            Some("Target.NotInUse".into())
        )]
    );

    let out = env
        .elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .default_actions(forward(&tg_arn))
        .tags(tag("kubernetes.io/service-name", "default/web"))
        .send()
        .await
        .unwrap();
    let l = &out.listeners()[0];
    let listener_arn = l.listener_arn().unwrap().to_string();
    assert_eq!(
        listener_arn.rsplit_once('/').unwrap().0,
        lb_arn.replace(":loadbalancer/", ":listener/")
    );
    let action = &l.default_actions()[0];
    assert_eq!(action.r#type(), Some(&ActionTypeEnum::Forward));
    assert_eq!(action.target_group_arn(), Some(tg_arn.as_str()));
    let tuple = &action.forward_config().unwrap().target_groups()[0];
    assert_eq!(tuple.weight(), Some(1));

    // Under instant timing the next observation sees the end state.
    let described = env
        .elb
        .describe_target_health()
        .target_group_arn(&tg_arn)
        .send()
        .await
        .unwrap();
    let d = &described.target_health_descriptions()[0];
    assert_eq!(d.health_check_port(), Some("10256"));
    let h = d.target_health().unwrap();
    assert_eq!(h.state().unwrap().as_str(), "healthy");
    assert_eq!((h.reason(), h.description()), (None, None));
    assert_eq!(
        d.administrative_override()
            .unwrap()
            .state()
            .unwrap()
            .as_str(),
        "no_override"
    );

    // The provider maps target groups by the listeners of its load balancer.
    let groups = env
        .elb
        .describe_target_groups()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.target_groups().len(), 1);
    assert_eq!(
        groups.target_groups()[0].load_balancer_arns(),
        [lb_arn.as_str()]
    );
    let listeners = env
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1);
    assert_eq!(listeners.listeners()[0].port(), Some(80));
    assert_eq!(
        listeners.listeners()[0].protocol(),
        Some(&ProtocolEnum::Tcp)
    );

    // Every sync sends the path again on an HTTP-checked TCP group.
    let modified = env
        .elb
        .modify_target_group()
        .target_group_arn(&tg_arn)
        .health_check_path("/healthz")
        .health_check_port("10257")
        .send()
        .await
        .unwrap();
    assert_eq!(
        modified.target_groups()[0].health_check_port(),
        Some("10257")
    );
    assert_eq!(
        modified.target_groups()[0].health_check_path(),
        Some("/healthz")
    );

    // A changed health check makes a new group; the listener moves and the old group goes.
    let tg2 = target_group(&env, "k8s-default-web-1a2b3c4d5e", ProtocolEnum::Tcp, 30080).await;
    env.elb
        .register_targets()
        .target_group_arn(&tg2)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    env.elb
        .modify_listener()
        .listener_arn(&listener_arn)
        .port(80)
        .protocol(ProtocolEnum::Tcp)
        .default_actions(forward(&tg2))
        .send()
        .await
        .unwrap();
    env.elb
        .delete_target_group()
        .target_group_arn(&tg_arn)
        .send()
        .await
        .unwrap();
    let (code, message, status) = expect_err!(
        env.elb
            .delete_target_group()
            .target_group_arn(&tg2)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ResourceInUse", 400));
    assert_eq!(
        message,
        format!("Target group '{tg2}' is currently in use by a listener or a rule")
    );

    // Delete: the load balancer (with its listeners), then at once its target groups.
    env.elb
        .delete_load_balancer()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    env.elb
        .delete_target_group()
        .target_group_arn(&tg2)
        .send()
        .await
        .unwrap();
    let (code, message, _) = expect_err!(
        env.elb
            .describe_target_groups()
            .target_group_arns(&tg2)
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");
    assert_eq!(message, "One or more target groups not found");
    let (code, message, _) =
        expect_err!(env.elb.describe_load_balancers().names(name).send().await);
    assert_eq!(code, "LoadBalancerNotFound");
    assert_eq!(message, format!("Load balancers '[{name}]' not found"));
    // Deleting again is not an error.
    env.elb
        .delete_load_balancer()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();

    // The deleted load balancer's network interfaces hold its group for a moment: under instant
    // timing, exactly one DependencyViolation.
    let (code, _, _) = expect_err!(env.ec2.delete_security_group().group_id(&sg).send().await);
    assert_eq!(code, "DependencyViolation");
    env.ec2
        .delete_security_group()
        .group_id(&sg)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn application_and_gateway_load_balancers_take_their_own_shapes() {
    let env = env().await;
    // Without groups an application load balancer gets the VPC's default group.
    let default_sg = env
        .ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .filters(Filter::builder().name("vpc-id").values(&env.vpc).build())
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    let out = env
        .elb
        .create_load_balancer()
        .name("web")
        .subnets(env.subnet('a'))
        .subnets(env.subnet('b'))
        .send()
        .await
        .unwrap();
    let lb = &out.load_balancers()[0];
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Application));
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert!(lb
        .load_balancer_arn()
        .unwrap()
        .contains(":loadbalancer/app/web/"));
    let dns = lb.dns_name().unwrap();
    let digits = dns
        .strip_prefix("web-")
        .and_then(|d| d.strip_suffix(".us-east-1.elb.amazonaws.com"))
        .expect("ALB DNS form");
    assert!(
        (9..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
        "{dns}"
    );
    assert_eq!(lb.canonical_hosted_zone_id(), Some("Z35SXDOTRQ7X7K"));
    assert_eq!(lb.security_groups(), [default_sg]);

    let internal = env
        .elb
        .create_load_balancer()
        .name("web")
        .scheme(LoadBalancerSchemeEnum::Internal)
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets(env.subnet('a'))
        .send()
        .await
        .unwrap();
    assert!(!internal.load_balancers()[0]
        .dns_name()
        .unwrap()
        .starts_with("internal-"));
    let internal_alb = env
        .elb
        .create_load_balancer()
        .name("api")
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets(env.subnet('a'))
        .subnets(env.subnet('c'))
        .send()
        .await
        .unwrap();
    assert!(internal_alb.load_balancers()[0]
        .dns_name()
        .unwrap()
        .starts_with("internal-api-"));
    // An ALB and an NLB may share a name: a lookup by name answers both.
    let both = env
        .elb
        .describe_load_balancers()
        .names("web")
        .send()
        .await
        .unwrap();
    let kinds: Vec<&str> = both
        .load_balancers()
        .iter()
        .map(|lb| lb.r#type().unwrap().as_str())
        .collect();
    assert_eq!(kinds, ["application", "network"]);

    // Gateway load balancers: no DNS name, no scheme, no security groups, GENEVE on 6081.
    let gwy = env
        .elb
        .create_load_balancer()
        .name("inspect")
        .r#type(LoadBalancerTypeEnum::Gateway)
        .subnets(env.subnet('a'))
        .send()
        .await
        .unwrap();
    let g = &gwy.load_balancers()[0];
    let gwy_arn = g.load_balancer_arn().unwrap().to_string();
    assert!(gwy_arn.contains(":loadbalancer/gwy/inspect/"));
    assert_eq!(
        (g.dns_name(), g.canonical_hosted_zone_id(), g.scheme()),
        (None, None, None)
    );
    let (code, message, _) = expect_err!(
        env.elb
            .create_load_balancer()
            .name("inspect2")
            .r#type(LoadBalancerTypeEnum::Gateway)
            .subnets(env.subnet('a'))
            .security_groups(lb.security_groups()[0].clone())
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    assert_eq!(
        message,
        "Security groups are not supported for load balancers with type 'gateway'"
    );
    let (code, message, _) = expect_err!(
        env.elb
            .create_target_group()
            .name("appliances")
            .protocol(ProtocolEnum::Geneve)
            .port(6082)
            .vpc_id(&env.vpc)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(message.contains("6081"), "{message}");
    let geneve = env
        .elb
        .create_target_group()
        .name("appliances")
        .protocol(ProtocolEnum::Geneve)
        .port(6081)
        .vpc_id(&env.vpc)
        .send()
        .await
        .unwrap();
    let gt = &geneve.target_groups()[0];
    assert_eq!(gt.health_check_protocol(), Some(&ProtocolEnum::Tcp));
    assert_eq!(gt.health_check_port(), Some("80"));
    assert_eq!(
        (
            gt.health_check_interval_seconds(),
            gt.health_check_timeout_seconds()
        ),
        (Some(10), Some(5))
    );
    let gt_arn = gt.target_group_arn().unwrap().to_string();
    let l = env
        .elb
        .create_listener()
        .load_balancer_arn(&gwy_arn)
        .default_actions(forward(&gt_arn))
        .send()
        .await
        .unwrap();
    assert_eq!(l.listeners()[0].port(), None);
    assert_eq!(l.listeners()[0].protocol(), None);
    let (code, _, _) = expect_err!(
        env.elb
            .create_listener()
            .load_balancer_arn(&gwy_arn)
            .port(80)
            .protocol(ProtocolEnum::Tcp)
            .default_actions(forward(&gt_arn))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
}

#[tokio::test]
async fn create_load_balancer_refuses_bad_input_and_changes_nothing() {
    let env = env().await;
    let other_vpc = env
        .ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let other_subnet = env
        .ec2
        .create_subnet()
        .vpc_id(&other_vpc)
        .cidr_block("10.1.1.0/24")
        .availability_zone("us-east-1c")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let second_in_a = env
        .ec2
        .create_subnet()
        .vpc_id(&env.vpc)
        .cidr_block("172.31.200.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let foreign_sg = group(&env, &other_vpc, "elsewhere").await;
    let c = &env.elb;
    let a = env.subnet('a').to_string();
    let b = env.subnet('b').to_string();
    let nlb = || {
        c.create_load_balancer()
            .r#type(LoadBalancerTypeEnum::Network)
            .subnets(&a)
    };
    let cases: Vec<(_, &str, &str)> =
        vec![
        (
            nlb().name("a".repeat(33)),
            "ValidationError",
            "cannot be longer than '32' characters",
        ),
        (
            nlb().name("under_score"),
            "ValidationError",
            "can only contain characters that are alphanumeric characters or hyphens(-)",
        ),
        (nlb().name("-edge"), "ValidationError", "cannot begin or end with '-'"),
        (
            nlb().name("internal-web"),
            "ValidationError",
            "The load balancer name 'internal-web' cannot begin with 'internal-'",
        ),
        (
            c.create_load_balancer()
                .name("one")
                .subnets(&a),
            "ValidationError",
            "At least two subnets in two different Availability Zones must be specified",
        ),
        (
            c.create_load_balancer()
                .name("twice")
                .subnets(&a)
                .subnets(&second_in_a),
            "InvalidConfigurationRequest",
            "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
        ),
        (
            nlb().name("both").subnet_mappings(SubnetMapping::builder().subnet_id(&b).build()),
            "ValidationError",
            "subnets or subnet mappings, but not both",
        ),
        (
            c.create_load_balancer()
                .name("none")
                .r#type(LoadBalancerTypeEnum::Network),
            "ValidationError",
            "At least one subnet must be specified",
        ),
        (
            c.create_load_balancer()
                .name("ghost")
                .r#type(LoadBalancerTypeEnum::Network)
                .subnets("subnet-0123456789abcdef0"),
            "SubnetNotFound",
            "subnet-0123456789abcdef0",
        ),
        (
            c.create_load_balancer()
                .name("split")
                .subnets(&b)
                .subnets(&other_subnet),
            "InvalidConfigurationRequest",
            "same VPC",
        ),
        (
            nlb().name("nosg").security_groups("sg-0123456789abcdef0"),
            "InvalidSecurityGroup",
            "sg-0123456789abcdef0",
        ),
        (
            nlb().name("wrongsg").security_groups(&foreign_sg),
            "InvalidSecurityGroup",
            "does not belong to VPC",
        ),
        (
            c.create_load_balancer()
                .name("eip")
                .r#type(LoadBalancerTypeEnum::Network)
                .subnet_mappings(
                    SubnetMapping::builder()
                        .subnet_id(&a)
                        .allocation_id("eipalloc-64d5890a")
                        .build(),
                ),
            "AllocationIdNotFound",
            "eipalloc-64d5890a",
        ),
        (
            c.create_load_balancer()
                .name("albeip")
                .subnet_mappings(
                    SubnetMapping::builder()
                        .subnet_id(&a)
                        .allocation_id("eipalloc-64d5890a")
                        .build(),
                )
                .subnet_mappings(SubnetMapping::builder().subnet_id(&b).build()),
            "InvalidConfigurationRequest",
            "Elastic IPs are not supported for load balancers with type 'application'",
        ),
        (
            c.create_load_balancer()
                .name("isolated")
                .r#type(LoadBalancerTypeEnum::Network)
                .subnets(&other_subnet),
            "InvalidSubnet",
            "has no internet gateway",
        ),
        (
            nlb().name("dual").ip_address_type(IpAddressType::Dualstack),
            "InvalidConfigurationRequest",
            "IPv6",
        ),
        (
            nlb().name("badtag").tags(tag("aws:reserved", "x")),
            "ValidationError",
            "aws:",
        ),
        (
            nlb()
                .name("duptag")
                .tags(tag("team", "a"))
                .tags(tag("team", "b")),
            "DuplicateTagKeys",
            "team",
        ),
    ];
    for (req, code, fragment) in cases {
        let (got, message, status) = expect_err!(req.send().await);
        assert_eq!((got.as_str(), status), (code, 400), "{message}");
        assert!(message.contains(fragment), "{code}: {message}");
    }
    let too_many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let (code, _, _) = expect_err!(nlb().name("tags").set_tags(Some(too_many)).send().await);
    assert_eq!(code, "TooManyTags");
    // An internal NLB may pin a private address of its subnet, an internet-facing one may not.
    let (code, _, _) = expect_err!(
        c.create_load_balancer()
            .name("pinned")
            .r#type(LoadBalancerTypeEnum::Network)
            .subnet_mappings(
                SubnetMapping::builder()
                    .subnet_id(&a)
                    .private_ipv4_address("172.31.0.10")
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    let pinned = c
        .create_load_balancer()
        .name("pinned")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnet_mappings(
            SubnetMapping::builder()
                .subnet_id(&a)
                .private_ipv4_address("172.31.0.10")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let addresses = pinned.load_balancers()[0].availability_zones()[0].load_balancer_addresses();
    assert_eq!(addresses[0].private_ipv4_address(), Some("172.31.0.10"));
    // Nothing else was made.
    let all = c.describe_load_balancers().send().await.unwrap();
    assert_eq!(all.load_balancers().len(), 1);
    // An internet-facing load balancer in a VPC with a gateway is fine.
    let igw = env
        .ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    env.ec2
        .attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&other_vpc)
        .send()
        .await
        .unwrap();
    nlb_in(c, "isolated", &other_subnet).await;
    // The subnet and the group of a live load balancer cannot be deleted.
    let (code, _, _) = expect_err!(
        env.ec2
            .delete_subnet()
            .subnet_id(&other_subnet)
            .send()
            .await
    );
    assert_eq!(code, "DependencyViolation");
}

async fn nlb_in(c: &elbv2::Client, name: &str, subnet: &str) -> String {
    c.create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets(subnet)
        .send()
        .await
        .expect("create nlb")
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn identical_creates_return_the_existing_resource_and_different_ones_are_refused() {
    let env = env().await;
    let c = &env.elb;
    let first = nlb(&env, "svc", &['a', 'b']).await;
    let again = nlb(&env, "svc", &['b', 'a']).await;
    assert_eq!(first, again);
    let (code, message, _) = expect_err!(
        c.create_load_balancer()
            .name("svc")
            .r#type(LoadBalancerTypeEnum::Network)
            .subnets(env.subnet('a'))
            .send()
            .await
    );
    assert_eq!(code, "DuplicateLoadBalancerName");
    assert_eq!(
        message,
        "A load balancer with the same name 'svc' exists, but with different settings"
    );

    let tg = target_group(&env, "pool", ProtocolEnum::Tcp, 30000).await;
    assert_eq!(
        target_group(&env, "pool", ProtocolEnum::Tcp, 30000).await,
        tg
    );
    let (code, message, _) = expect_err!(
        c.create_target_group()
            .name("pool")
            .protocol(ProtocolEnum::Tcp)
            .port(30001)
            .vpc_id(&env.vpc)
            .send()
            .await
    );
    assert_eq!(code, "DuplicateTargetGroupName");
    assert_eq!(
        message,
        "A target group with the same name 'pool' exists, but with different settings"
    );

    let l = listener(&env, &first, ProtocolEnum::Tcp, 443, &tg).await;
    assert_eq!(listener(&env, &first, ProtocolEnum::Tcp, 443, &tg).await, l);
    let other = target_group(&env, "other-pool", ProtocolEnum::Tcp, 30000).await;
    let (code, message, _) = expect_err!(
        c.create_listener()
            .load_balancer_arn(&first)
            .protocol(ProtocolEnum::Tcp)
            .port(443)
            .default_actions(forward(&other))
            .send()
            .await
    );
    assert_eq!(code, "DuplicateListener");
    assert_eq!(
        message,
        format!("A listener already exists on this port for this load balancer '{first}'")
    );
    let l2 = listener(&env, &first, ProtocolEnum::Tcp, 8443, &tg).await;
    let (code, message, _) =
        expect_err!(c.modify_listener().listener_arn(&l2).port(443).send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(message, "Listener port '443' is already in use");
}

#[tokio::test]
async fn unknown_and_malformed_resources_get_aws_answers() {
    let env = env().await;
    let c = &env.elb;
    let lb = nlb(&env, "known", &['a']).await;
    let gone_lb = lb.replace("/known/", "/unknown/");
    let (code, message, _) = expect_err!(
        c.describe_load_balancers()
            .load_balancer_arns(&gone_lb)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "LoadBalancerNotFound",
            "One or more load balancers not found"
        )
    );
    let (code, message, _) = expect_err!(
        c.describe_load_balancers()
            .names("known")
            .names("nope")
            .names("nada")
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    assert_eq!(message, "Load balancers '[nope, nada]' not found");
    let (code, message, _) = expect_err!(
        c.describe_load_balancers()
            .load_balancer_arns("ec2-spot-converter")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "'ec2-spot-converter' is not a valid load balancer ARN"
    );
    let (code, _, _) = expect_err!(
        c.describe_load_balancers()
            .load_balancer_arns(&lb)
            .names("known")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");

    let tg = target_group(&env, "known", ProtocolEnum::Tcp, 80).await;
    let gone_tg = tg.replace("/known/", "/unknown/");
    let (code, message, _) = expect_err!(
        c.describe_target_health()
            .target_group_arn(&gone_tg)
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");
    assert_eq!(message, format!("Target groups '{gone_tg}' not found"));
    let (code, message, _) = expect_err!(
        c.describe_target_groups()
            .names("known")
            .target_group_arns(&tg)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time"
    );
    let (code, _, _) = expect_err!(c.describe_target_groups().names("nope").send().await);
    assert_eq!(code, "TargetGroupNotFound");
    let (code, message, _) = expect_err!(
        c.describe_target_groups()
            .load_balancer_arn(&gone_lb)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "LoadBalancerNotFound",
            "One or more load balancers not found"
        )
    );
    let (code, message, _) = expect_err!(
        c.modify_target_group()
            .target_group_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/0123456789abcdef")
            .health_check_path("/")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(
        message.ends_with("is not a valid target group ARN"),
        "{message}"
    );
    // Deleting a group that does not exist succeeds, as AWS models it.
    c.delete_target_group()
        .target_group_arn(&gone_tg)
        .send()
        .await
        .unwrap();

    let l = listener(&env, &lb, ProtocolEnum::Tcp, 80, &tg).await;
    let gone_listener = format!("{}/0123456789abcdef", l.rsplit_once('/').unwrap().0);
    let (code, message, _) = expect_err!(
        c.describe_listeners()
            .listener_arns(&gone_listener)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ListenerNotFound", "One or more listeners not found")
    );
    let (code, _, _) = expect_err!(
        c.delete_listener()
            .listener_arn(&gone_listener)
            .send()
            .await
    );
    assert_eq!(code, "ListenerNotFound");
    let (code, _, _) = expect_err!(
        c.modify_listener()
            .listener_arn(&gone_listener)
            .port(81)
            .send()
            .await
    );
    assert_eq!(code, "ListenerNotFound");
    let (code, message, _) = expect_err!(c.describe_listeners().send().await);
    assert_eq!(code, "ValidationError");
    assert!(
        message.contains("listener ARNs or a load balancer ARN"),
        "{message}"
    );
    let (code, _, _) = expect_err!(
        c.create_listener()
            .load_balancer_arn(&gone_lb)
            .protocol(ProtocolEnum::Tcp)
            .port(81)
            .default_actions(forward(&tg))
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    let (code, message, _) = expect_err!(
        c.create_listener()
            .load_balancer_arn(&lb)
            .protocol(ProtocolEnum::Tcp)
            .port(81)
            .default_actions(forward(&gone_tg))
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");
    assert_eq!(message, format!("Target groups '{gone_tg}' not found"));
    let (code, _, _) = expect_err!(
        c.describe_load_balancer_attributes()
            .load_balancer_arn(&gone_lb)
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    let (code, _, _) = expect_err!(
        c.set_security_groups()
            .load_balancer_arn(&gone_lb)
            .security_groups("sg-0123456789abcdef0")
            .send()
            .await
    );
    assert_eq!(code, "LoadBalancerNotFound");
    // A required parameter left out is the query protocol's ValidationError.
    let (code, message, _) = expect_err!(c.create_target_group().send().await);
    assert_eq!(code, "ValidationError");
    assert!(
        message.contains("'name' failed to satisfy constraint: Member must not be null"),
        "{message}"
    );
}

#[tokio::test]
async fn targets_must_exist_run_and_share_the_group_vpc() {
    let env = env().await;
    let c = &env.elb;
    let running = instance(&env, 'a').await;
    let idle = instance(&env, 'b').await;
    let stopped = instance(&env, 'c').await;
    env.ec2
        .stop_instances()
        .instance_ids(&stopped)
        .send()
        .await
        .unwrap();
    let other_vpc = env
        .ec2
        .create_vpc()
        .cidr_block("10.2.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let other_subnet = env
        .ec2
        .create_subnet()
        .vpc_id(&other_vpc)
        .cidr_block("10.2.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let elsewhere = env
        .ec2
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .subnet_id(&other_subnet)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let tg = target_group(&env, "nodes", ProtocolEnum::Tcp, 30080).await;
    let register = |id: &str| {
        c.register_targets()
            .target_group_arn(&tg)
            .targets(target(id, 30080))
    };
    let cases = [
        (
            register("i-0123456789abcdef0"),
            "InvalidTarget",
            "The following instances do not exist: 'i-0123456789abcdef0'".to_string(),
        ),
        (
            register("10.0.0.1"),
            "ValidationError",
            "Instance ID '10.0.0.1' is not valid".to_string(),
        ),
        (
            register(&elsewhere),
            "InvalidTarget",
            format!(
                "The following targets are not in the target group VPC '{}': '{elsewhere}'",
                env.vpc
            ),
        ),
        (
            register(&stopped),
            "InvalidTarget",
            format!(
                "The following targets are not in a running state and cannot be registered: '{stopped}'"
            ),
        ),
    ];
    for (req, code, message) in cases {
        let (got, got_message, status) = expect_err!(req.send().await);
        assert_eq!((got.as_str(), got_message, status), (code, message, 400));
    }
    assert!(health(&env, &tg).await.is_empty());

    // One instance on two ports is two targets; registering again changes nothing.
    for _ in 0..2 {
        c.register_targets()
            .target_group_arn(&tg)
            .targets(target(&running, 30080))
            .targets(target(&running, 30081))
            .send()
            .await
            .unwrap();
    }
    let ports: Vec<i32> = health(&env, &tg).await.iter().map(|t| t.1).collect();
    assert_eq!(ports, [30080, 30081]);

    // Asked about explicitly: an instance never registered is `unused`; one that does not exist
    // is InvalidTarget (what the TargetDeregistered waiter takes as done).
    let out = c
        .describe_target_health()
        .target_group_arn(&tg)
        .targets(target(&idle, 30080))
        .send()
        .await
        .unwrap();
    let h = out.target_health_descriptions()[0].target_health().unwrap();
    assert_eq!(h.state().unwrap().as_str(), "unused");
    assert_eq!(h.reason().unwrap().as_str(), "Target.NotRegistered");
    assert_eq!(
        h.description(),
        Some("Target is not registered to the target group")
    );
    let (code, _, _) = expect_err!(
        c.describe_target_health()
            .target_group_arn(&tg)
            .targets(target("i-0123456789abcdef0", 30080))
            .send()
            .await
    );
    assert_eq!(code, "InvalidTarget");
    // Deregistering a target that is not registered succeeds.
    c.deregister_targets()
        .target_group_arn(&tg)
        .targets(target(&idle, 30080))
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.register_targets()
            .target_group_arn(tg.replace("/nodes/", "/gone/"))
            .targets(target(&running, 30080))
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");

    // IP targets: inside the VPC, or private addresses outside it; never public ones.
    let ips = c
        .create_target_group()
        .name("pods")
        .protocol(ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(&env.vpc)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    assert_eq!(
        c.describe_target_group_attributes()
            .target_group_arn(&ips)
            .send()
            .await
            .unwrap()
            .attributes()
            .iter()
            .find(|a| a.key() == Some("preserve_client_ip.enabled"))
            .and_then(|a| a.value()),
        Some("false")
    );
    c.register_targets()
        .target_group_arn(&ips)
        .targets(target("172.31.0.20", 8080))
        .targets(
            TargetDescription::builder()
                .id("10.9.0.5")
                .port(8080)
                .availability_zone("all")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.register_targets()
            .target_group_arn(&ips)
            .targets(target("8.8.8.8", 8080))
            .send()
            .await
    );
    assert_eq!(code, "InvalidTarget");
    let (code, _, _) = expect_err!(
        c.register_targets()
            .target_group_arn(&ips)
            .targets(target("i-0123456789abcdef0", 8080))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    // At most 1000 targets per group.
    let many: Vec<TargetDescription> = (0..998)
        .map(|i| target(&format!("172.31.{}.{}", 16 + i / 200, 10 + i % 200), 8080))
        .collect();
    c.register_targets()
        .target_group_arn(&ips)
        .set_targets(Some(many))
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.register_targets()
            .target_group_arn(&ips)
            .targets(target("172.31.100.1", 8080))
            .send()
            .await
    );
    assert_eq!(code, "TooManyTargets");
    assert_eq!(health(&env, &ips).await.len(), 1000);
}

/// Health under realistic timing on a manual clock: each state lasts as long as the clock says.
#[tokio::test]
async fn target_health_follows_the_virtual_clock() {
    let env = realistic_env().await;
    let c = &env.elb;
    let node = instance(&env, 'a').await;
    let far = instance(&env, 'c').await;
    let lb = nlb(&env, "timed", &['a', 'b']).await;
    let tg = target_group(&env, "timed", ProtocolEnum::Tcp, 30080).await;
    c.register_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    listener(&env, &lb, ProtocolEnum::Tcp, 80, &tg).await;
    let state = |h: &[(String, i32, String, Option<String>)]| {
        h.iter()
            .map(|t| (t.2.clone(), t.3.clone().unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let initial = |reason: &str| ("initial".to_string(), reason.to_string());
    assert_eq!(
        state_of(&env, &lb).await,
        LoadBalancerStateEnum::Provisioning
    );
    assert_eq!(
        state(&health(&env, &tg).await),
        [initial("Elb.RegistrationInProgress")]
    );
    // Health checks start once the load balancer is active (120 s), then take 30 s.
    env.emu.advance(Duration::from_secs(110));
    assert_eq!(
        state_of(&env, &lb).await,
        LoadBalancerStateEnum::Provisioning
    );
    env.emu.advance(Duration::from_secs(11));
    assert_eq!(state_of(&env, &lb).await, LoadBalancerStateEnum::Active);
    assert_eq!(
        state(&health(&env, &tg).await),
        [initial("Elb.RegistrationInProgress")]
    );
    env.emu.advance(Duration::from_secs(20));
    assert_eq!(
        state(&health(&env, &tg).await),
        [initial("Elb.InitialHealthChecking")]
    );
    env.emu.advance(Duration::from_secs(10));
    assert_eq!(
        state(&health(&env, &tg).await),
        [("healthy".into(), String::new())]
    );

    // A target in a zone the load balancer does not enable gets no traffic.
    c.register_targets()
        .target_group_arn(&tg)
        .targets(target(&far, 30080))
        .send()
        .await
        .unwrap();
    let out = c
        .describe_target_health()
        .target_group_arn(&tg)
        .targets(target(&far, 30080))
        .send()
        .await
        .unwrap();
    let h = out.target_health_descriptions()[0].target_health().unwrap();
    assert_eq!(h.reason().unwrap().as_str(), "Target.NotInUse");
    assert_eq!(
        h.description(),
        Some("Target is in an Availability Zone that is not enabled for the load balancer")
    );
    c.deregister_targets()
        .target_group_arn(&tg)
        .targets(target(&far, 30080))
        .send()
        .await
        .unwrap();

    // Stopping fails the checks; stopped is an invalid state; started again it re-qualifies.
    env.ec2
        .stop_instances()
        .instance_ids(&node)
        .send()
        .await
        .unwrap();
    let only_node = |h: Vec<(String, i32, String, Option<String>)>| {
        state(&h.into_iter().filter(|t| t.0 == node).collect::<Vec<_>>())
    };
    assert_eq!(
        only_node(health(&env, &tg).await),
        [("unhealthy".into(), "Target.FailedHealthChecks".into())]
    );
    env.emu.advance(Duration::from_secs(21));
    assert_eq!(
        only_node(health(&env, &tg).await),
        [("unused".into(), "Target.InvalidState".into())]
    );
    env.ec2
        .start_instances()
        .instance_ids(&node)
        .send()
        .await
        .unwrap();
    env.emu.advance(Duration::from_secs(16));
    assert_eq!(
        only_node(health(&env, &tg).await),
        [initial("Elb.RegistrationInProgress")]
    );
    env.emu.advance(Duration::from_secs(31));
    assert_eq!(
        only_node(health(&env, &tg).await),
        [("healthy".into(), String::new())]
    );

    // Deregistered: draining for the group's delay (300 s by default), then gone.
    c.deregister_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_node(health(&env, &tg).await),
        [("draining".into(), "Target.DeregistrationInProgress".into())]
    );
    env.emu.advance(Duration::from_secs(299));
    assert_eq!(
        only_node(health(&env, &tg).await),
        [("draining".into(), "Target.DeregistrationInProgress".into())]
    );
    env.emu.advance(Duration::from_secs(2));
    assert!(only_node(health(&env, &tg).await).is_empty());
    // The delay is the group's attribute.
    c.modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(
            TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value("10")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.register_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    c.deregister_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    env.emu.advance(Duration::from_secs(9));
    assert_eq!(only_node(health(&env, &tg).await).len(), 1);
    env.emu.advance(Duration::from_secs(2));
    assert!(only_node(health(&env, &tg).await).is_empty());
}

#[tokio::test]
async fn listeners_follow_the_protocols_actions_and_certificates_of_their_type() {
    let env = env().await;
    let c = &env.elb;
    let web = alb(&env, "web").await;
    let net = nlb(&env, "net", &['a']).await;
    let http_tg = target_group(&env, "http-pool", ProtocolEnum::Http, 8080).await;
    let tcp_tg = target_group(&env, "tcp-pool", ProtocolEnum::Tcp, 8080).await;
    let err = |r: Result<_, _>| -> (String, String) {
        let (code, message, _) = expect_err!(r);
        (code, message)
    };
    let on = |lb: &str, protocol: ProtocolEnum, port: i32, action: Action| {
        c.create_listener()
            .load_balancer_arn(lb)
            .protocol(protocol)
            .port(port)
            .default_actions(action)
    };
    assert_eq!(
        err(on(&web, ProtocolEnum::Tcp, 80, forward(&http_tg))
            .send()
            .await),
        (
            "ValidationError".into(),
            "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'".into()
        )
    );
    assert_eq!(
        err(on(&net, ProtocolEnum::Http, 80, forward(&tcp_tg))
            .send()
            .await)
        .0,
        "ValidationError"
    );
    assert_eq!(
        err(on(&web, ProtocolEnum::Http, 80, forward(&tcp_tg)).send().await),
        (
            "IncompatibleProtocols".into(),
            format!("The listener and the following target groups have incompatible protocols: {tcp_tg}")
        )
    );
    assert_eq!(
        err(on(&net, ProtocolEnum::Tcp, 80, forward(&http_tg))
            .send()
            .await)
        .0,
        "IncompatibleProtocols"
    );
    let fixed = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("503")
                .content_type("text/plain")
                .message_body("down for maintenance")
                .build(),
        )
        .build();
    assert_eq!(
        err(on(&net, ProtocolEnum::Tcp, 80, fixed.clone()).send().await),
        (
            "InvalidLoadBalancerAction".into(),
            "The action type 'fixed-response' is not valid with network load balancer".into()
        )
    );
    let out = on(&web, ProtocolEnum::Http, 8081, fixed)
        .send()
        .await
        .unwrap();
    let f = out.listeners()[0].default_actions()[0]
        .fixed_response_config()
        .unwrap();
    assert_eq!(
        (f.status_code(), f.message_body()),
        (Some("503"), Some("down for maintenance"))
    );
    let redirect = Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build();
    let out = on(&web, ProtocolEnum::Http, 80, redirect)
        .send()
        .await
        .unwrap();
    let r = out.listeners()[0].default_actions()[0]
        .redirect_config()
        .unwrap();
    assert_eq!(
        (r.protocol(), r.port(), r.host(), r.path(), r.query()),
        (
            Some("HTTPS"),
            Some("443"),
            Some("#{host}"),
            Some("/#{path}"),
            Some("#{query}")
        )
    );

    // HTTPS needs exactly one certificate and takes a known policy.
    assert_eq!(
        err(on(&web, ProtocolEnum::Https, 443, forward(&http_tg))
            .send()
            .await),
        (
            "ValidationError".into(),
            "A certificate must be specified for HTTPS listeners".into()
        )
    );
    let https = || {
        on(&web, ProtocolEnum::Https, 443, forward(&http_tg))
            .certificates(Certificate::builder().certificate_arn(CERT).build())
    };
    assert_eq!(
        err(on(&web, ProtocolEnum::Https, 443, forward(&http_tg))
            .certificates(Certificate::builder().certificate_arn("my-cert").build())
            .send()
            .await)
        .0,
        "CertificateNotFound"
    );
    assert_eq!(
        err(https().ssl_policy("ELBSecurityPolicy-Nope").send().await),
        (
            "SSLPolicyNotFound".into(),
            "SSL policy 'ELBSecurityPolicy-Nope' not found".into()
        )
    );
    assert_eq!(
        err(on(&web, ProtocolEnum::Http, 8080, forward(&http_tg))
            .certificates(Certificate::builder().certificate_arn(CERT).build())
            .send()
            .await)
        .0,
        "ValidationError"
    );
    let secure = https().send().await.unwrap();
    let s = &secure.listeners()[0];
    assert_eq!(s.ssl_policy(), Some("ELBSecurityPolicy-2016-08"));
    assert_eq!(s.certificates()[0].certificate_arn(), Some(CERT));
    let secure_arn = s.listener_arn().unwrap().to_string();
    // Back to HTTP: the certificate and policy go.
    let plain = c
        .modify_listener()
        .listener_arn(&secure_arn)
        .protocol(ProtocolEnum::Http)
        .port(8443)
        .send()
        .await
        .unwrap();
    let p = &plain.listeners()[0];
    assert_eq!((p.ssl_policy(), p.certificates().len()), (None, 0));
    assert_eq!(p.port(), Some(8443));

    // Weighted forwarding between two groups of an application load balancer.
    let blue = target_group(&env, "blue", ProtocolEnum::Http, 80).await;
    let weighted = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(&http_tg)
                        .weight(90)
                        .build(),
                )
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(&blue)
                        .weight(10)
                        .build(),
                )
                .build(),
        )
        .build();
    let out = on(&web, ProtocolEnum::Http, 9000, weighted)
        .send()
        .await
        .unwrap();
    let a = &out.listeners()[0].default_actions()[0];
    assert_eq!(a.target_group_arn(), None);
    let weights: Vec<Option<i32>> = a
        .forward_config()
        .unwrap()
        .target_groups()
        .iter()
        .map(|t| t.weight())
        .collect();
    assert_eq!(weights, [Some(90), Some(10)]);

    // A group serves one load balancer.
    let other = alb(&env, "other").await;
    assert_eq!(
        err(on(&other, ProtocolEnum::Http, 80, forward(&blue)).send().await),
        (
            "TargetGroupAssociationLimit".into(),
            format!("The following target groups cannot be associated with more than one load balancer: {blue}")
        )
    );
    // Authenticating actions need identity providers awsemu does not have.
    let (code, _, status) = expect_err!(
        on(
            &web,
            ProtocolEnum::Http,
            9001,
            Action::builder()
                .r#type(ActionTypeEnum::AuthenticateOidc)
                .build()
        )
        .send()
        .await
    );
    assert_eq!((code.as_str(), status), ("NotImplemented", 501));

    // Deleting the listener leaves the group unused.
    let node = instance(&env, 'a').await;
    let l = listener(&env, &net, ProtocolEnum::Tcp, 80, &tcp_tg).await;
    c.register_targets()
        .target_group_arn(&tcp_tg)
        .targets(target(&node, 8080))
        .send()
        .await
        .unwrap();
    assert_eq!(health(&env, &tcp_tg).await[0].2, "healthy");
    c.delete_listener().listener_arn(&l).send().await.unwrap();
    assert_eq!(
        health(&env, &tcp_tg).await[0].3.as_deref(),
        Some("Target.NotInUse")
    );
    let groups = c
        .describe_target_groups()
        .target_group_arns(&tcp_tg)
        .send()
        .await
        .unwrap();
    assert!(groups.target_groups()[0].load_balancer_arns().is_empty());

    // At most 50 listeners per load balancer.
    for port in 1..=50 {
        listener(&env, &net, ProtocolEnum::Tcp, 1000 + port, &tcp_tg).await;
    }
    assert_eq!(
        err(on(&net, ProtocolEnum::Tcp, 2000, forward(&tcp_tg))
            .send()
            .await)
        .0,
        "TooManyListeners"
    );
}

fn attribute_map(attrs: &[LoadBalancerAttribute]) -> std::collections::BTreeMap<String, String> {
    attrs
        .iter()
        .map(|a| (a.key().unwrap().to_string(), a.value().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn attributes_of_load_balancers_and_target_groups() {
    let env = env().await;
    let c = &env.elb;
    let net = nlb(&env, "net", &['a']).await;
    let lb_attrs = |k: &str, v: &str| LoadBalancerAttribute::builder().key(k).value(v).build();
    let got = c
        .describe_load_balancer_attributes()
        .load_balancer_arn(&net)
        .send()
        .await
        .unwrap();
    let m = attribute_map(got.attributes());
    assert_eq!(m["deletion_protection.enabled"], "false");
    assert_eq!(m["load_balancing.cross_zone.enabled"], "false");
    assert_eq!(m["access_logs.s3.enabled"], "false");
    assert_eq!(m["access_logs.s3.bucket"], "");
    assert_eq!(
        m["dns_record.client_routing_policy"],
        "any_availability_zone"
    );
    assert!(!m.contains_key("idle_timeout.timeout_seconds"));
    let changed = c
        .modify_load_balancer_attributes()
        .load_balancer_arn(&net)
        .attributes(lb_attrs("load_balancing.cross_zone.enabled", "true"))
        .send()
        .await
        .unwrap();
    let after = attribute_map(changed.attributes());
    assert_eq!(after["load_balancing.cross_zone.enabled"], "true");
    assert_eq!(after.len(), m.len());
    let refuse = |k: &str, v: &str| {
        c.modify_load_balancer_attributes()
            .load_balancer_arn(&net)
            .attributes(lb_attrs(k, v))
    };
    let (code, message, _) = expect_err!(refuse("idle_timeout.timeout_seconds", "30").send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "Load balancer attribute key 'idle_timeout.timeout_seconds' is not recognized"
    );
    let (code, _, _) = expect_err!(refuse("deletion_protection.enabled", "yes").send().await);
    assert_eq!(code, "InvalidConfigurationRequest");
    let (code, _, _) = expect_err!(refuse("access_logs.s3.enabled", "true").send().await);
    assert_eq!(code, "ValidationError");
    let twenty_one: Vec<LoadBalancerAttribute> = (0..21)
        .map(|_| lb_attrs("deletion_protection.enabled", "false"))
        .collect();
    let (code, _, _) = expect_err!(
        c.modify_load_balancer_attributes()
            .load_balancer_arn(&net)
            .set_attributes(Some(twenty_one))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    // Deletion protection refuses DeleteLoadBalancer until it is turned off.
    refuse("deletion_protection.enabled", "true")
        .send()
        .await
        .unwrap();
    let (code, message, _) = expect_err!(
        c.delete_load_balancer()
            .load_balancer_arn(&net)
            .send()
            .await
    );
    assert_eq!(code, "OperationNotPermitted");
    assert_eq!(
        message,
        format!("Load balancer '{net}' cannot be deleted because deletion protection is enabled")
    );
    refuse("deletion_protection.enabled", "false")
        .send()
        .await
        .unwrap();
    c.delete_load_balancer()
        .load_balancer_arn(&net)
        .send()
        .await
        .unwrap();

    let web = alb(&env, "web").await;
    let m = attribute_map(
        c.describe_load_balancer_attributes()
            .load_balancer_arn(&web)
            .send()
            .await
            .unwrap()
            .attributes(),
    );
    assert_eq!(m["idle_timeout.timeout_seconds"], "60");
    assert_eq!(m["routing.http2.enabled"], "true");
    assert_eq!(m["load_balancing.cross_zone.enabled"], "true");
    let (code, _, _) = expect_err!(
        c.modify_load_balancer_attributes()
            .load_balancer_arn(&web)
            .attributes(lb_attrs("load_balancing.cross_zone.enabled", "false"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");

    // Target groups: the key set follows the protocol.
    let tcp = target_group(&env, "tcp", ProtocolEnum::Tcp, 80).await;
    let tg_attrs = |attrs: &[TargetGroupAttribute]| -> std::collections::BTreeMap<String, String> {
        attrs
            .iter()
            .map(|a| (a.key().unwrap().to_string(), a.value().unwrap().to_string()))
            .collect()
    };
    let m = tg_attrs(
        c.describe_target_group_attributes()
            .target_group_arn(&tcp)
            .send()
            .await
            .unwrap()
            .attributes(),
    );
    assert_eq!(m["deregistration_delay.timeout_seconds"], "300");
    assert_eq!(m["preserve_client_ip.enabled"], "true");
    assert_eq!(m["proxy_protocol_v2.enabled"], "false");
    assert_eq!(m["stickiness.type"], "source_ip");
    assert!(!m.contains_key("slow_start.duration_seconds"));
    let set = |tg: &str, k: &str, v: &str| {
        c.modify_target_group_attributes()
            .target_group_arn(tg)
            .attributes(TargetGroupAttribute::builder().key(k).value(v).build())
    };
    let out = set(&tcp, "proxy_protocol_v2.enabled", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tg_attrs(out.attributes())["proxy_protocol_v2.enabled"],
        "true"
    );
    let (code, message, _) = expect_err!(
        set(&tcp, "stickiness.lb_cookie.duration_seconds", "60")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "Target group attribute key 'stickiness.lb_cookie.duration_seconds' is not recognized"
    );
    let (code, _, _) = expect_err!(
        set(&tcp, "deregistration_delay.timeout_seconds", "4000")
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    let http = target_group(&env, "http", ProtocolEnum::Http, 80).await;
    let m = tg_attrs(
        c.describe_target_group_attributes()
            .target_group_arn(&http)
            .send()
            .await
            .unwrap()
            .attributes(),
    );
    assert_eq!(m["stickiness.type"], "lb_cookie");
    assert_eq!(m["stickiness.lb_cookie.duration_seconds"], "86400");
    assert_eq!(m["load_balancing.algorithm.type"], "round_robin");
    let (code, _, _) = expect_err!(set(&http, "slow_start.duration_seconds", "10").send().await);
    assert_eq!(code, "InvalidConfigurationRequest");
    set(&http, "slow_start.duration_seconds", "30")
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.describe_target_group_attributes()
            .target_group_arn(http.replace("/http/", "/gone/"))
            .send()
            .await
    );
    assert_eq!(code, "TargetGroupNotFound");
}

#[tokio::test]
async fn target_group_settings_follow_aws_rules() {
    let env = env().await;
    let c = &env.elb;
    let create = |name: &str| {
        c.create_target_group()
            .name(name)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .vpc_id(&env.vpc)
    };
    let http = create("defaults").send().await.unwrap();
    let g = &http.target_groups()[0];
    assert_eq!(g.health_check_protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(g.health_check_port(), Some("traffic-port"));
    assert_eq!(g.health_check_path(), Some("/"));
    assert_eq!(
        (
            g.health_check_interval_seconds(),
            g.health_check_timeout_seconds()
        ),
        (Some(30), Some(6))
    );
    assert_eq!(
        (g.healthy_threshold_count(), g.unhealthy_threshold_count()),
        (Some(5), Some(2))
    );
    assert_eq!(g.matcher().unwrap().http_code(), Some("200"));
    assert_eq!(g.protocol_version(), Some("HTTP1"));
    let tcp = target_group(&env, "tcp-defaults", ProtocolEnum::Tcp, 80).await;
    let t = c
        .describe_target_groups()
        .target_group_arns(&tcp)
        .send()
        .await
        .unwrap();
    let t = &t.target_groups()[0];
    assert_eq!(t.health_check_protocol(), Some(&ProtocolEnum::Tcp));
    assert_eq!((t.health_check_path(), t.matcher()), (None, None));
    assert_eq!(t.health_check_timeout_seconds(), Some(10));

    let cases: Vec<(_, &str, &str)> = vec![
        (create("x_y"), "ValidationError", "Target group name 'x_y' can only contain"),
        (
            create("timeout").health_check_timeout_seconds(10).health_check_interval_seconds(10),
            "ValidationError",
            "Health check timeout '10' must be smaller than the interval '10'",
        ),
        (
            create("tcpcheck").health_check_protocol(ProtocolEnum::Tcp),
            "ValidationError",
            "Health check protocol 'TCP' is not supported",
        ),
        (
            create("interval").health_check_interval_seconds(4),
            "ValidationError",
            "Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5",
        ),
        (
            create("nopath").health_check_path("healthz"),
            "ValidationError",
            "must begin with a '/'",
        ),
        (
            create("disabled").health_check_enabled(false),
            "ValidationError",
            "Health checks cannot be disabled",
        ),
        (
            c.create_target_group().name("noport").protocol(ProtocolEnum::Tcp).vpc_id(&env.vpc),
            "ValidationError",
            "A port must be specified",
        ),
        (
            c.create_target_group().name("novpc").protocol(ProtocolEnum::Tcp).port(80),
            "ValidationError",
            "A VPC ID must be specified",
        ),
        (
            c.create_target_group()
                .name("ghostvpc")
                .protocol(ProtocolEnum::Tcp)
                .port(80)
                .vpc_id("vpc-0123456789abcdef0"),
            "ValidationError",
            "The VPC ID 'vpc-0123456789abcdef0' is not found",
        ),
        (
            c.create_target_group()
                .name("tcppath")
                .protocol(ProtocolEnum::Tcp)
                .port(80)
                .vpc_id(&env.vpc)
                .health_check_path("/healthz"),
            "ValidationError",
            "path",
        ),
    ];
    for (req, code, fragment) in cases {
        let (got, message, _) = expect_err!(req.send().await);
        assert_eq!(got, code, "{message}");
        assert!(message.contains(fragment), "{message}");
    }
    // Lambda groups: no protocol, port or VPC; checks off by default.
    let lambda = c
        .create_target_group()
        .name("fn")
        .target_type(TargetTypeEnum::Lambda)
        .send()
        .await
        .unwrap();
    let l = &lambda.target_groups()[0];
    assert_eq!((l.protocol(), l.port(), l.vpc_id()), (None, None, None));
    assert_eq!(l.health_check_enabled(), Some(false));
    let fn_arn = l.target_group_arn().unwrap().to_string();
    c.register_targets()
        .target_group_arn(&fn_arn)
        .targets(
            TargetDescription::builder()
                .id("arn:aws:lambda:us-east-1:123456789012:function:hello")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let web = alb(&env, "web").await;
    listener(&env, &web, ProtocolEnum::Http, 80, &fn_arn).await;
    assert_eq!(health(&env, &fn_arn).await[0].2, "unavailable");
    // Switching an HTTP check to TCP on a TCP group drops its path and matcher.
    let checked = c
        .create_target_group()
        .name("checked")
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(&env.vpc)
        .health_check_protocol(ProtocolEnum::Http)
        .send()
        .await
        .unwrap();
    let checked = checked.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let out = c
        .modify_target_group()
        .target_group_arn(&checked)
        .health_check_protocol(ProtocolEnum::Tcp)
        .send()
        .await
        .unwrap();
    let m = &out.target_groups()[0];
    assert_eq!((m.health_check_path(), m.matcher()), (None, None));
    let (code, _, _) = expect_err!(
        c.modify_target_group()
            .target_group_arn(&checked)
            .health_check_timeout_seconds(40)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
}

#[tokio::test]
async fn tags_on_load_balancers_target_groups_and_listeners() {
    let env = env().await;
    let c = &env.elb;
    let lb = c
        .create_load_balancer()
        .name("tagged")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets(env.subnet('a'))
        .tags(tag("team", "edge"))
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let tg = target_group(&env, "tagged", ProtocolEnum::Tcp, 80).await;
    let l = listener(&env, &lb, ProtocolEnum::Tcp, 80, &tg).await;
    c.add_tags()
        .resource_arns(&lb)
        .resource_arns(&tg)
        .resource_arns(&l)
        .tags(tag("env", "prod"))
        .tags(tag("team", "core"))
        .send()
        .await
        .unwrap();
    let out = c
        .describe_tags()
        .resource_arns(&l)
        .resource_arns(&lb)
        .resource_arns(&tg)
        .send()
        .await
        .unwrap();
    let described: Vec<(String, Vec<(String, String)>)> = out
        .tag_descriptions()
        .iter()
        .map(|d| {
            (
                d.resource_arn().unwrap().to_string(),
                d.tags()
                    .iter()
                    .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
                    .collect(),
            )
        })
        .collect();
    let both = vec![
        ("env".to_string(), "prod".to_string()),
        ("team".to_string(), "core".to_string()),
    ];
    assert_eq!(
        described,
        [
            (l.clone(), both.clone()),
            (lb.clone(), both.clone()),
            (tg.clone(), both)
        ]
    );
    c.remove_tags()
        .resource_arns(&lb)
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let out = c.describe_tags().resource_arns(&lb).send().await.unwrap();
    assert_eq!(out.tag_descriptions()[0].tags().len(), 1);

    let missing = |arn: String| c.describe_tags().resource_arns(arn);
    for (arn, code) in [
        (lb.replace("/tagged/", "/gone/"), "LoadBalancerNotFound"),
        (tg.replace("/tagged/", "/gone/"), "TargetGroupNotFound"),
        (l.replace("/tagged/", "/gone/"), "ListenerNotFound"),
        (
            format!(
                "{}/0123456789abcdef",
                l.replace(":listener/", ":listener-rule/")
            ),
            "RuleNotFound",
        ),
        ("tagged".to_string(), "ValidationError"),
    ] {
        let (got, _, _) = expect_err!(missing(arn).send().await);
        assert_eq!(got, code);
    }
    let (code, _, _) = expect_err!(
        c.add_tags()
            .resource_arns(&lb)
            .tags(tag("a", "1"))
            .tags(tag("a", "2"))
            .send()
            .await
    );
    assert_eq!(code, "DuplicateTagKeys");
    let forty_eight: Vec<Tag> = (0..48).map(|i| tag(&format!("k{i}"), "v")).collect();
    c.add_tags()
        .resource_arns(&tg)
        .set_tags(Some(forty_eight))
        .send()
        .await
        .unwrap();
    let (code, message, _) = expect_err!(
        c.add_tags()
            .resource_arns(&lb)
            .resource_arns(&tg)
            .tags(tag("one-more", "x"))
            .send()
            .await
    );
    assert_eq!(code, "TooManyTags");
    assert!(message.contains("target group"), "{message}");
    // Atomic: the load balancer did not get the tag either.
    let out = c.describe_tags().resource_arns(&lb).send().await.unwrap();
    assert!(!out.tag_descriptions()[0]
        .tags()
        .iter()
        .any(|t| t.key() == Some("one-more")));
    let twenty_one: Vec<String> = (0..21).map(|_| lb.clone()).collect();
    let (code, _, _) = expect_err!(
        c.describe_tags()
            .set_resource_arns(Some(twenty_one))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
}

#[tokio::test]
async fn security_groups_and_subnets_can_change() {
    let env = env().await;
    let c = &env.elb;
    let first = group(&env, &env.vpc, "first").await;
    let second = group(&env, &env.vpc, "second").await;
    let with_groups = c
        .create_load_balancer()
        .name("guarded")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets(env.subnet('a'))
        .security_groups(&first)
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let out = c
        .set_security_groups()
        .load_balancer_arn(&with_groups)
        .security_groups(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_group_ids(), [second.as_str()]);
    assert_eq!(
        out.enforce_security_group_inbound_rules_on_private_link_traffic()
            .map(|e| e.as_str()),
        Some("on")
    );
    // The group no longer used is free at once; the one in use is not.
    env.ec2
        .delete_security_group()
        .group_id(&first)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        env.ec2
            .delete_security_group()
            .group_id(&second)
            .send()
            .await
    );
    assert_eq!(code, "DependencyViolation");
    let (code, _, _) = expect_err!(
        c.set_security_groups()
            .load_balancer_arn(&with_groups)
            .set_security_groups(Some(vec![]))
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    let bare = nlb(&env, "bare", &['a']).await;
    let (code, message, _) = expect_err!(
        c.set_security_groups()
            .load_balancer_arn(&bare)
            .security_groups(&second)
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    assert!(
        message.contains("created without any security groups"),
        "{message}"
    );

    let web = alb(&env, "web").await;
    let out = c
        .set_subnets()
        .load_balancer_arn(&web)
        .subnets(env.subnet('a'))
        .subnets(env.subnet('c'))
        .send()
        .await
        .unwrap();
    let zones: Vec<&str> = out
        .availability_zones()
        .iter()
        .map(|z| z.zone_name().unwrap())
        .collect();
    assert_eq!(zones, ["us-east-1a", "us-east-1c"]);
    let (code, _, _) = expect_err!(
        c.set_subnets()
            .load_balancer_arn(&web)
            .subnets(env.subnet('a'))
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    // Network load balancers only gain subnets.
    c.set_subnets()
        .load_balancer_arn(&bare)
        .subnets(env.subnet('a'))
        .subnets(env.subnet('b'))
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.set_subnets()
            .load_balancer_arn(&bare)
            .subnets(env.subnet('b'))
            .send()
            .await
    );
    assert_eq!(code, "InvalidConfigurationRequest");
    let lb = c
        .describe_load_balancers()
        .load_balancer_arns(&bare)
        .send()
        .await
        .unwrap();
    assert_eq!(lb.load_balancers()[0].availability_zones().len(), 2);
}

#[tokio::test]
async fn describe_calls_page_with_page_size_and_marker() {
    let env = env().await;
    let c = &env.elb;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(nlb(&env, &format!("lb{i}"), &['a']).await);
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .describe_load_balancers()
            .page_size(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            out.load_balancers()
                .iter()
                .map(|lb| lb.load_balancer_arn().unwrap().to_string()),
        );
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, made.clone()));
    let (code, message, _) = expect_err!(c.describe_load_balancers().page_size(0).send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        message,
        "1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let (code, _, _) = expect_err!(c.describe_load_balancers().page_size(401).send().await);
    assert_eq!(code, "ValidationError");
    let (code, _, _) = expect_err!(c.describe_load_balancers().marker("garbage").send().await);
    assert_eq!(code, "ValidationError");

    for i in 0..3 {
        target_group(&env, &format!("tg{i}"), ProtocolEnum::Tcp, 80).await;
    }
    let out = c
        .describe_target_groups()
        .page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(out.target_groups().len(), 2);
    let rest = c
        .describe_target_groups()
        .page_size(2)
        .marker(out.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!((rest.target_groups().len(), rest.next_marker()), (1, None));
    let tg = rest.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    for port in [80, 81, 82] {
        listener(&env, &made[0], ProtocolEnum::Tcp, port, &tg).await;
    }
    let out = c
        .describe_listeners()
        .load_balancer_arn(&made[0])
        .page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(out.listeners().len(), 2);
    let rest = c
        .describe_listeners()
        .load_balancer_arn(&made[0])
        .page_size(2)
        .marker(out.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.listeners()[0].port(), Some(82));
}

#[tokio::test]
async fn load_balancer_quota_is_per_type() {
    let emu = Emulator::builder()
        .seed(1)
        .load_balancer_limit(2)
        .start()
        .await
        .unwrap();
    let env = env_with(emu, Waiting::Real).await;
    nlb(&env, "one", &['a']).await;
    nlb(&env, "two", &['a']).await;
    let (code, _, _) = expect_err!(
        env.elb
            .create_load_balancer()
            .name("three")
            .r#type(LoadBalancerTypeEnum::Network)
            .subnets(env.subnet('a'))
            .send()
            .await
    );
    assert_eq!(code, "TooManyLoadBalancers");
    // Re-creating an existing one is not a new load balancer.
    nlb(&env, "two", &['a']).await;
    alb(&env, "web").await;
}

/// The SDK waiters complete under every timing profile: fast with scaled-down waiter delays,
/// realistic on a manual clock that the client's own sleeps advance.
#[tokio::test]
async fn waiters_complete_under_every_timing_profile() {
    for timing in [Timing::Instant, Timing::Fast, Timing::Realistic] {
        let builder = Emulator::builder().seed(1).timing(timing);
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
        let env = env_with(emu, waiting).await;
        let c = &env.elb;
        let node = instance(&env, 'a').await;
        let lb = nlb(&env, "waited", &['a']).await;
        c.wait_until_load_balancer_available()
            .load_balancer_arns(&lb)
            .wait(Duration::from_secs(900))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        let tg = target_group(&env, "waited", ProtocolEnum::Tcp, 30080).await;
        // Draining lasts the group's delay: none under instant, a second under fast, AWS's
        // default 300 s (on the manual clock) under realistic.
        let delay = match timing {
            Timing::Instant => Some("0"),
            Timing::Fast => Some("1"),
            Timing::Realistic => None,
        };
        if let Some(d) = delay {
            c.modify_target_group_attributes()
                .target_group_arn(&tg)
                .attributes(
                    TargetGroupAttribute::builder()
                        .key("deregistration_delay.timeout_seconds")
                        .value(d)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        c.register_targets()
            .target_group_arn(&tg)
            .targets(target(&node, 30080))
            .send()
            .await
            .unwrap();
        listener(&env, &lb, ProtocolEnum::Tcp, 80, &tg).await;
        c.wait_until_target_in_service()
            .target_group_arn(&tg)
            .targets(target(&node, 30080))
            .wait(Duration::from_secs(900))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.deregister_targets()
            .target_group_arn(&tg)
            .targets(target(&node, 30080))
            .send()
            .await
            .unwrap();
        c.wait_until_target_deregistered()
            .target_group_arn(&tg)
            .targets(target(&node, 30080))
            .wait(Duration::from_secs(900))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
        c.delete_load_balancer()
            .load_balancer_arn(&lb)
            .send()
            .await
            .unwrap();
        c.wait_until_load_balancers_deleted()
            .load_balancer_arns(&lb)
            .wait(Duration::from_secs(900))
            .await
            .unwrap_or_else(|e| panic!("{timing:?}: {e:?}"));
    }
}

/// The control-plane node policy allows the calls the provider makes for an NLB, and lacks the
/// ones the documented policy lacks (DeregisterTargets); worker nodes may not touch ELBv2.
#[tokio::test]
async fn the_controlplane_principal_drives_a_network_load_balancer() {
    let env = env().await;
    let cp = elbv2(&env.emu, "controlplane");
    let cp_ec2 = ec2(&env.emu, "controlplane");
    let sg = cp_ec2
        .create_security_group()
        .group_name("k8s-nlb")
        .description("[k8s] Managed SecurityGroup for LoadBalancer")
        .vpc_id(&env.vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let node = instance(&env, 'a').await;
    let lb = cp
        .create_load_balancer()
        .name("cp")
        .r#type(LoadBalancerTypeEnum::Network)
        .subnets(env.subnet('a'))
        .security_groups(&sg)
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let tg = cp
        .create_target_group()
        .name("cp")
        .protocol(ProtocolEnum::Tcp)
        .port(30080)
        .vpc_id(&env.vpc)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    cp.register_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 30080))
        .send()
        .await
        .unwrap();
    cp.create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .default_actions(forward(&tg))
        .send()
        .await
        .unwrap();
    let out = cp
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.target_health_descriptions()[0]
            .target_health()
            .unwrap()
            .state()
            .unwrap()
            .as_str(),
        "healthy"
    );
    cp.modify_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("load_balancing.cross_zone.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, _, status) = expect_err!(
        cp.deregister_targets()
            .target_group_arn(&tg)
            .targets(target(&node, 30080))
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    cp.delete_load_balancer()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    cp.delete_target_group()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    // The provider's delete loop: DependencyViolation while the interfaces go, then success.
    let (code, _, _) = expect_err!(cp_ec2.delete_security_group().group_id(&sg).send().await);
    assert_eq!(code, "DependencyViolation");
    cp_ec2
        .delete_security_group()
        .group_id(&sg)
        .send()
        .await
        .unwrap();

    let worker = elbv2(&env.emu, "worker");
    let (code, _, status) = expect_err!(worker.describe_load_balancers().send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
}

#[tokio::test]
async fn tls_listeners_and_application_load_balancers_as_targets() {
    let env = env().await;
    let c = &env.elb;
    let net = nlb(&env, "edge", &['a', 'b']).await;
    let tls_tg = target_group(&env, "tls", ProtocolEnum::Tls, 443).await;
    let tls = || {
        c.create_listener()
            .load_balancer_arn(&net)
            .protocol(ProtocolEnum::Tls)
            .port(443)
            .default_actions(forward(&tls_tg))
    };
    let cert = || Certificate::builder().certificate_arn(CERT).build();
    let (code, message, _) = expect_err!(tls().send().await);
    assert_eq!(code, "ValidationError");
    assert_eq!(message, "A certificate must be specified for TLS listeners");
    let (code, _, _) = expect_err!(tls().certificates(cert()).certificates(cert()).send().await);
    assert_eq!(code, "TooManyCertificates");
    let (code, message, _) =
        expect_err!(tls().certificates(cert()).alpn_policy("Bogus").send().await);
    assert_eq!(code, "ALPNPolicyNotFound");
    assert_eq!(message, "ALPN policy 'Bogus' not found");
    let out = tls()
        .certificates(cert())
        .alpn_policy("HTTP2Preferred")
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .send()
        .await
        .unwrap();
    let l = &out.listeners()[0];
    assert_eq!(l.alpn_policy(), ["HTTP2Preferred".to_string()]);
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    // TLS -> TCP drops the certificate, the policy and the ALPN policy.
    let tcp_tg = target_group(&env, "tcp", ProtocolEnum::Tcp, 443).await;
    let out = c
        .modify_listener()
        .listener_arn(l.listener_arn().unwrap())
        .protocol(ProtocolEnum::Tcp)
        .default_actions(forward(&tcp_tg))
        .send()
        .await
        .unwrap();
    let m = &out.listeners()[0];
    assert_eq!(
        (
            m.ssl_policy(),
            m.certificates().len(),
            m.alpn_policy().len()
        ),
        (None, 0, 0)
    );

    // An application load balancer behind a network load balancer.
    let web = alb(&env, "web").await;
    let http_tg = target_group(&env, "http", ProtocolEnum::Http, 8080).await;
    let web_listener = listener(&env, &web, ProtocolEnum::Http, 80, &http_tg).await;
    let (code, _, _) = expect_err!(
        c.create_target_group()
            .name("albs-udp")
            .target_type(TargetTypeEnum::Alb)
            .protocol(ProtocolEnum::Udp)
            .port(80)
            .vpc_id(&env.vpc)
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    let albs = c
        .create_target_group()
        .name("albs")
        .target_type(TargetTypeEnum::Alb)
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id(&env.vpc)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let (code, _, _) = expect_err!(
        c.register_targets()
            .target_group_arn(&albs)
            .targets(target(&net, 80))
            .send()
            .await
    );
    assert_eq!(code, "InvalidTarget");
    c.register_targets()
        .target_group_arn(&albs)
        .targets(target(&web, 80))
        .send()
        .await
        .unwrap();
    listener(&env, &net, ProtocolEnum::Tcp, 80, &albs).await;
    assert_eq!(health(&env, &albs).await[0].2, "healthy");
    let (code, message, _) =
        expect_err!(c.delete_listener().listener_arn(&web_listener).send().await);
    assert_eq!(code, "ResourceInUse");
    assert_eq!(
        message,
        format!("Listener port '80' is in use by registered target '{web}' and cannot be removed.")
    );
    let (code, _, _) = expect_err!(
        c.delete_load_balancer()
            .load_balancer_arn(&web)
            .send()
            .await
    );
    assert_eq!(code, "ResourceInUse");

    // Anomaly detection is reported for application load balancer groups when asked for.
    let node = instance(&env, 'a').await;
    c.register_targets()
        .target_group_arn(&http_tg)
        .targets(target(&node, 8080))
        .send()
        .await
        .unwrap();
    let out = c
        .describe_target_health()
        .target_group_arn(&http_tg)
        .include(elbv2::types::DescribeTargetHealthInputIncludeEnum::Anomaly)
        .send()
        .await
        .unwrap();
    let d = &out.target_health_descriptions()[0];
    assert_eq!(
        d.anomaly_detection().unwrap().result().unwrap().as_str(),
        "normal"
    );
    assert_eq!(d.health_check_port(), Some("8080"));
}

/// A terminated instance is in an invalid state while EC2 still lists it, then leaves the group.
#[tokio::test]
async fn terminated_instances_leave_their_groups() {
    let emu = Emulator::builder()
        .seed(1)
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    let env = env_made(emu, Waiting::Real, true).await;
    let c = &env.elb;
    let node = instance(&env, 'a').await;
    let lb = nlb(&env, "short", &['a']).await;
    let tg = target_group(&env, "short", ProtocolEnum::Tcp, 80).await;
    listener(&env, &lb, ProtocolEnum::Tcp, 80, &tg).await;
    c.register_targets()
        .target_group_arn(&tg)
        .targets(target(&node, 80))
        .send()
        .await
        .unwrap();
    assert_eq!(health(&env, &tg).await[0].2, "healthy");
    env.ec2
        .terminate_instances()
        .instance_ids(&node)
        .send()
        .await
        .unwrap();
    let out = c
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    let h = out.target_health_descriptions()[0].target_health().unwrap();
    assert_eq!(
        (
            h.state().unwrap().as_str(),
            h.reason().unwrap().as_str(),
            h.description()
        ),
        (
            "unused",
            "Target.InvalidState",
            Some("Target is in the terminated state")
        )
    );
    env.emu.advance(Duration::from_secs(3601));
    assert!(health(&env, &tg).await.is_empty());
    let (code, _, _) = expect_err!(
        c.describe_target_health()
            .target_group_arn(&tg)
            .targets(target(&node, 80))
            .send()
            .await
    );
    assert_eq!(code, "InvalidTarget");
}

#[tokio::test]
async fn target_group_quota_is_three_thousand() {
    let env = env().await;
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let c = env.elb.clone();
        let vpc = env.vpc.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..3000).step_by(8) {
                c.create_target_group()
                    .name(format!("g{i}"))
                    .protocol(ProtocolEnum::Tcp)
                    .port(80)
                    .vpc_id(&vpc)
                    .send()
                    .await
                    .expect("create target group");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (code, _, _) = expect_err!(
        env.elb
            .create_target_group()
            .name("one-too-many")
            .protocol(ProtocolEnum::Tcp)
            .port(80)
            .vpc_id(&env.vpc)
            .send()
            .await
    );
    assert_eq!(code, "TooManyTargetGroups");
}
