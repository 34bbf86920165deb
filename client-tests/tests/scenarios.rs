//! Scenario files: every example in `scenarios/` passes; the same file and seed give the same
//! report; failures report the first difference and the call log around it; the world is built
//! through the real API (checked here with the SDK); faults, flow steps, `serve --scenario`'s
//! verification endpoint, and recordings replayed as scenarios. And the `scenario` binary (flows
//! included) on the whole `scenarios/` directory as a CI job runs it: every example passes, its
//! JUnit XML (read back with quick-xml) has a suite per file and a case per step and expectation,
//! the JSON document agrees; on awsemu's failing fixtures it fails in the same places.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_ec2::types::{Filter, InstanceStateName, VolumeAttachmentState};
use awsemu::config::Config;
use awsemu::scenario::{self, FlowFailure, FlowFuture, FlowRequest, Scenario};
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, elb, elbv2, expect_err, iam, kms, ClientOptions};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../../emulator/tests/support/junit.rs"]
mod junit;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

async fn run_text(s: &Scenario, dir: Option<&Path>) -> scenario::Report {
    scenario::run(s, dir, None, &mut |_| {}).await
}

/// The report says each of `wants` (the whole report is shown when it does not).
fn says(report: &scenario::Report, wants: &[&str]) {
    for want in wants {
        assert!(
            report.text.contains(want),
            "missing: {want}\n{}",
            report.text
        );
    }
}

/// A scratch folder of this test process.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("awsemu-scen-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

async fn http_get(endpoint: &str, path: &str) -> (u16, serde_json::Value) {
    let addr: SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn every_example_scenario_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    // Each file is also its own test below, so a failure names its file.
    let this = include_str!("scenarios.rs");
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            this.contains(&format!("\"{name}\"")),
            "scenarios/{name} has no example! test of its own"
        );
    }
    let mut failed = Vec::new();
    for f in &files {
        let report = client_tests::scenarios::run_file(f, &mut |_| {})
            .await
            .expect("the example parses");
        if !report.passed {
            failed.push(report.text);
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Each example also as its own test, so a failure names its file.
macro_rules! example {
    ($test:ident, $file:literal) => {
        #[tokio::test]
        async fn $test() {
            let report =
                client_tests::scenarios::run_file(&scenarios_dir().join($file), &mut |_| {})
                    .await
                    .expect("parses");
            assert!(report.passed, "{}", report.text);
        }
    };
}

example!(example_ebs_attach_detach, "ebs-attach-detach.yaml");
example!(example_worker_etcd_readonly, "worker-etcd-readonly.yaml");
example!(
    example_encrypted_volume_kms_disabled,
    "encrypted-volume-kms-disabled.yaml"
);
example!(example_ecr_credentials, "ecr-credentials.yaml");
example!(example_pod_cidr_routes, "pod-cidr-routes.yaml");
example!(
    example_controlplane_policy_gaps,
    "controlplane-policy-gaps.yaml"
);
example!(example_classic_elb_lifecycle, "classic-elb-lifecycle.yaml");
example!(
    example_multiple_tagged_security_groups,
    "multiple-tagged-security-groups.yaml"
);
example!(example_nlb_lifecycle, "nlb-lifecycle.yaml");
example!(
    example_throttled_describe_instances,
    "throttled-describe-instances.yaml"
);
example!(
    example_security_group_eventual_consistency,
    "security-group-eventual-consistency.yaml"
);
example!(
    example_owned_versus_shared_on_delete,
    "owned-versus-shared-on-delete.yaml"
);
example!(
    example_ebs_csi_volume_lifecycle,
    "ebs-csi-volume-lifecycle.yaml"
);
example!(
    example_controlplane_policy_gaps_flows,
    "controlplane-policy-gaps-flows.yaml"
);
example!(
    example_provider_in_the_wrong_region,
    "provider-in-the-wrong-region.yaml"
);
example!(example_nlb_target_health, "nlb-target-health.yaml");
example!(
    example_ebs_csi_snapshot_restore,
    "ebs-csi-snapshot-restore.yaml"
);

#[tokio::test]
async fn a_flow_scenario_gives_the_same_report_twice() {
    let file = scenarios_dir().join("classic-elb-lifecycle.yaml");
    let mut runs = Vec::new();
    for _ in 0..2 {
        let report = client_tests::scenarios::run_file(&file, &mut |_| {})
            .await
            .expect("parses");
        assert!(report.passed, "{}", report.text);
        runs.push(report.text);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn the_same_file_and_seed_give_the_same_ids_and_report() {
    let (mut s, dir) =
        scenario::load_file(&scenarios_dir().join("ebs-attach-detach.yaml")).unwrap();
    let a = run_text(&s, dir.as_deref()).await;
    let b = run_text(&s, dir.as_deref()).await;
    assert!(a.passed, "{}", a.text);
    assert_eq!(a.text, b.text);
    // The ids in the world are those of the seed.
    let ids = |seed: u64| async move {
        let (mut s, dir) =
            scenario::load_file(&scenarios_dir().join("ebs-attach-detach.yaml")).unwrap();
        s.seed = seed;
        let inst = awsemu::instance::Instance::new(scenario::runner::config(&s, Config::default()))
            .unwrap();
        let loaded = scenario::prepare(&inst, &s, dir.as_deref()).unwrap();
        let syms = loaded.symbols.lock().unwrap().clone();
        syms.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    let first = ids(42).await;
    assert_eq!(first, ids(42).await);
    assert_ne!(first, ids(43).await);
    assert!(first.iter().any(|l| l.starts_with("volume.data=vol-")));
    s.seed = 43;
    let c = run_text(&s, dir.as_deref()).await;
    assert!(c.passed, "{}", c.text);
    assert_ne!(a.text, c.text, "another seed gives other ids");
}

const SMALL_WORLD: &str = r#"
world:
  vpcs:
    main: {cidr: 10.0.0.0/16}
  subnets:
    a: {vpc: main, cidr: 10.0.1.0/24, zone: us-east-1a}
  instances:
    node: {subnet: a}
  volumes:
    data: {zone: us-east-1a}
"#;

#[tokio::test]
async fn a_failing_step_reports_the_first_difference_and_the_log_around_it() {
    let text = format!(
        "name: wrong\nseed: 3\n{SMALL_WORLD}\nsteps:\n\
         \x20 - call: ec2:AttachVolume\n    as: controlplane\n    params: {{VolumeId: \"${{volume.data}}\", InstanceId: \"${{instance.node}}\", Device: /dev/xvdf}}\n\
         \x20 - call: ec2:DescribeVolumes\n    params: {{VolumeId: [\"${{volume.data}}\"]}}\n    expect: {{error: VolumeInUse}}\n\
         \x20 - advance: 1m\n"
    );
    let s = Scenario::parse(&text).unwrap();
    let mut lines = Vec::new();
    let report = scenario::run(&s, None, None, &mut |l| lines.push(l.to_string())).await;
    assert!(!report.passed);
    assert_eq!(
        lines.join("\n") + "\n",
        report.text,
        "the sink saw every line"
    );
    let t = &report.text;
    assert!(
        t.contains("PASS step 1: call ec2:AttachVolume as controlplane"),
        "{t}"
    );
    assert!(t.contains("FAIL step 2: call ec2:DescribeVolumes"), "{t}");
    assert!(
        t.contains("first difference: expected error VolumeInUse, got 200 ok"),
        "{t}"
    );
    assert!(t.contains("call log around it:"), "{t}");
    assert!(t.contains("controlplane ec2:AttachVolume 200 ok"), "{t}");
    assert!(t.contains("admin ec2:DescribeVolumes 200 ok"), "{t}");
    assert!(
        t.contains("1 later steps and the final expectations were not run"),
        "{t}"
    );
    assert!(t.ends_with("result: FAIL\n"), "{t}");

    // A final expectation that does not hold.
    let text = format!(
        "name: wrong-state\n{SMALL_WORLD}\nexpect:\n  state:\n    - {{resources: volumes, filters: {{status: available}}, count: 5}}\n  calls:\n    - {{action: \"ec2:*\", min: 1}}\n"
    );
    let report = run_text(&Scenario::parse(&text).unwrap(), None).await;
    assert!(!report.passed);
    says(&report, &["FAIL expect state: 5 volumes where status=available\n  first difference: expected 5, found 1"]);
    assert!(
        report
            .text
            .contains("FAIL expect calls: ec2:* : at least 1\n  first difference: called 0 times")
            || report.text.contains(
                "FAIL expect calls: ec2:*: at least 1\n  first difference: called 0 times"
            ),
        "{}",
        report.text
    );

    // A world that cannot be built names the resource and the answer.
    let bad = "name: bad\nworld:\n  vpcs:\n    main: {cidr: 10.0.0.0/16}\n  subnets:\n    a: {vpc: main, cidr: 192.168.0.0/24, zone: us-east-1a}\n";
    let report = run_text(&Scenario::parse(bad).unwrap(), None).await;
    assert!(!report.passed);
    says(
        &report,
        &["error: world: subnets.a: ec2:CreateSubnet answered 400 InvalidSubnet.Range"],
    );
    let bad =
        "name: bad\nworld:\n  subnets:\n    a: {vpc: nope, cidr: 10.0.0.0/24, zone: us-east-1a}\n";
    let report = run_text(&Scenario::parse(bad).unwrap(), None).await;
    says(&report, &["subnets.a: no vpc called 'nope'"]);
    // A misspelt symbol is found without running anything.
    let bad = "name: bad\nsteps:\n  - call: ec2:DescribeVolumes\n    params: {VolumeId: [\"${volume.nope}\"]}\n";
    let e = Scenario::parse(bad).unwrap_err();
    assert_eq!(e, "steps[0]: unknown symbol ${volume.nope}");
    let bad = "name: bad\nsteps:\n  - call: ec2:DescribeVolumes\n    as: nobody\n";
    let report = run_text(&Scenario::parse(bad).unwrap(), None).await;
    says(&report, &["no principal or IAM role called 'nobody'"]);
}

#[tokio::test]
async fn the_world_is_built_through_the_api_as_described() {
    let dir = scratch("world");
    std::fs::write(
        dir.join("read-volumes.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVolumes","Resource":"*"}]}"#,
    )
    .unwrap();
    let text = r#"
name: world-tour
seed: 9
cluster: {id: tour, tag: shared}
world:
  policies:
    read-tags: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:DescribeTags", Resource: "*"}]}
  roles:
    node:
      policies:
        volumes: read-volumes.json
        tags: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:CreateTags", Resource: "*"}]}
      managed: [read-tags]
  kms_keys:
    ebs: {description: for volumes, alias: alias/ebs}
    gone: {state: pending_deletion}
  ecr_repositories:
    app: {}
  vpcs:
    main: {cidr: 10.1.0.0/16, tags: {Name: main}}
  internet_gateways:
    gw: {vpc: main}
  subnets:
    public: {vpc: main, cidr: 10.1.1.0/24, zone: us-east-1a, role: elb}
    private: {vpc: main, cidr: 10.1.2.0/24, zone: us-east-1b, cluster: false}
  route_tables:
    public:
      vpc: main
      routes: [{destination: 0.0.0.0/0, gateway: gw}]
      subnets: [public]
  security_groups:
    lb: {vpc: main, description: load balancer}
    nodes:
      vpc: main
      ingress:
        - {protocol: tcp, from: 30000, to: 32767, groups: [lb]}
        - {protocol: tcp, port: 22, cidrs: [10.1.0.0/16]}
  instances:
    a: {subnet: public, role: node, security_groups: [nodes], tags: {Name: a}}
    b: {subnet: public, state: stopped, profile: worker}
  volumes:
    data: {zone: us-east-1a, size: 30, kms_key: ebs, attach: {instance: a, device: /dev/xvdf}, cluster: true}
  load_balancers:
    web:
      subnets: [public]
      security_groups: [lb]
      listeners: [{protocol: TCP, port: 80, instance_port: 30080}]
      instances: [a]
      cluster: true
    nlb:
      type: network
      name: tour-nlb
      subnets: [public]
      listeners: [{protocol: TCP, port: 443, target_group: tg}]
      cluster: true
  target_groups:
    tg:
      vpc: main
      protocol: TCP
      port: 30080
      targets: [{instance: a}]
"#;
    let s = Scenario::parse(text).unwrap();
    let emu = Emulator::builder()
        .config(scenario::runner::config(&s, Config::default()))
        .start()
        .await
        .unwrap();
    let loaded = scenario::prepare(emu.instance(), &s, Some(&dir)).expect("the world builds");
    let sym = loaded.symbols.lock().unwrap().clone();
    let built: std::collections::BTreeSet<String> =
        sym.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(
        built,
        scenario::world::declared_symbols(&s),
        "check knows the loader's symbols"
    );
    let id = |k: &str| {
        sym.get(k)
            .unwrap_or_else(|| panic!("no symbol {k}"))
            .to_string()
    };
    let c = ec2(&emu, "admin");
    let cluster_tag = "kubernetes.io/cluster/tour";

    let vpc = c
        .describe_vpcs()
        .vpc_ids(id("vpc.main"))
        .send()
        .await
        .unwrap();
    let vpc = &vpc.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.1.0.0/16"));
    assert!(vpc.tags().iter().any(|t| t.key() == Some("Name")));
    assert!(
        !vpc.tags().iter().any(|t| t.key() == Some(cluster_tag)),
        "VPCs opt in"
    );

    let subnets = c
        .describe_subnets()
        .filters(
            Filter::builder()
                .name(format!("tag:{cluster_tag}"))
                .values("shared")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tagged: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id())
        .collect();
    assert_eq!(
        tagged,
        vec![id("subnet.public").as_str()],
        "private said cluster: false"
    );
    assert!(subnets.subnets()[0]
        .tags()
        .iter()
        .any(|t| t.key() == Some("kubernetes.io/role/elb") && t.value() == Some("1")));

    let igw = c
        .describe_internet_gateways()
        .internet_gateway_ids(id("igw.gw"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        igw.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(id("vpc.main").as_str())
    );
    let rt = c
        .describe_route_tables()
        .route_table_ids(id("rtb.public"))
        .send()
        .await
        .unwrap();
    let rt = &rt.route_tables()[0];
    assert!(rt
        .routes()
        .iter()
        .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
            && r.gateway_id() == Some(id("igw.gw").as_str())));
    assert_eq!(
        rt.associations()[0].subnet_id(),
        Some(id("subnet.public").as_str())
    );

    let sg = c
        .describe_security_groups()
        .group_ids(id("sg.nodes"))
        .send()
        .await
        .unwrap();
    let sg = &sg.security_groups()[0];
    assert_eq!(sg.group_name(), Some("nodes"));
    let perms = sg.ip_permissions();
    assert_eq!(perms.len(), 2, "{perms:?}");
    assert!(perms.iter().any(|p| p.from_port() == Some(30000)
        && p.to_port() == Some(32767)
        && p.user_id_group_pairs()[0].group_id() == Some(id("sg.lb").as_str())));
    assert!(perms
        .iter()
        .any(|p| p.from_port() == Some(22) && p.ip_ranges()[0].cidr_ip() == Some("10.1.0.0/16")));
    assert!(sg
        .tags()
        .iter()
        .any(|t| t.key() == Some(cluster_tag) && t.value() == Some("shared")));

    let out = c
        .describe_instances()
        .instance_ids(id("instance.a"))
        .instance_ids(id("instance.b"))
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    let a = instances
        .iter()
        .find(|i| i.instance_id() == Some(id("instance.a").as_str()))
        .unwrap();
    let b = instances
        .iter()
        .find(|i| i.instance_id() == Some(id("instance.b").as_str()))
        .unwrap();
    assert_eq!(
        a.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(
        b.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Stopped)
    );
    assert_eq!(
        a.iam_instance_profile().and_then(|p| p.arn()),
        Some(id("profile.node").as_str())
    );
    assert!(b
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .unwrap()
        .ends_with("instance-profile/worker"));
    assert_eq!(
        a.security_groups()[0].group_id(),
        Some(id("sg.nodes").as_str())
    );
    assert_eq!(
        a.placement().and_then(|p| p.availability_zone()),
        Some("us-east-1a")
    );
    assert!(a.tags().iter().any(|t| t.key() == Some(cluster_tag)));
    assert!(a
        .tags()
        .iter()
        .any(|t| t.key() == Some("Name") && t.value() == Some("a")));

    let v = c
        .describe_volumes()
        .volume_ids(id("volume.data"))
        .send()
        .await
        .unwrap();
    let v = &v.volumes()[0];
    assert_eq!(v.size(), Some(30));
    assert_eq!(v.encrypted(), Some(true));
    assert_eq!(v.kms_key_id(), Some(id("kms.ebs.arn").as_str()));
    assert_eq!(
        v.attachments()[0].instance_id(),
        Some(id("instance.a").as_str())
    );
    assert_eq!(v.attachments()[0].device(), Some("/dev/xvdf"));
    assert_eq!(
        v.attachments()[0].state(),
        Some(&VolumeAttachmentState::Attached)
    );

    let lbs = elb(&emu, "admin")
        .describe_load_balancers()
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancer_descriptions()[0];
    assert_eq!(lb.dns_name(), Some(id("lb.web.dns").as_str()));
    assert_eq!(
        lb.instances()[0].instance_id(),
        Some(id("instance.a").as_str())
    );
    assert_eq!(lb.security_groups(), [id("sg.lb")]);
    assert_eq!(
        lb.listener_descriptions()[0]
            .listener()
            .map(|l| l.instance_port()),
        Some(30080)
    );
    let tags = elb(&emu, "admin")
        .describe_tags()
        .load_balancer_names("web")
        .send()
        .await
        .unwrap();
    assert!(tags.tag_descriptions()[0]
        .tags()
        .iter()
        .any(|t| t.key() == cluster_tag));

    let health = elbv2(&emu, "admin")
        .describe_target_health()
        .target_group_arn(id("tg.tg"))
        .send()
        .await
        .unwrap();
    let t = health.target_health_descriptions()[0].target().unwrap();
    assert_eq!(t.id(), Some(id("instance.a").as_str()));
    assert_eq!(t.port(), Some(30080));

    let v2 = elbv2(&emu, "admin");
    let nlb = v2
        .describe_load_balancers()
        .names("tour-nlb")
        .send()
        .await
        .unwrap();
    let nlb = &nlb.load_balancers()[0];
    assert_eq!(nlb.load_balancer_arn(), Some(id("lb.nlb.arn").as_str()));
    assert_eq!(nlb.dns_name(), Some(id("lb.nlb.dns").as_str()));
    assert_eq!(id("lb.nlb"), "tour-nlb");
    assert_eq!(nlb.r#type().map(|t| t.as_str()), Some("network"));
    let listeners = v2
        .describe_listeners()
        .load_balancer_arn(id("lb.nlb.arn"))
        .send()
        .await
        .unwrap();
    let l = &listeners.listeners()[0];
    assert_eq!(l.listener_arn(), Some(id("lb.nlb.listener.443").as_str()));
    assert_eq!(l.port(), Some(443));
    assert_eq!(
        l.default_actions()[0].target_group_arn(),
        Some(id("tg.tg").as_str())
    );
    let tags = v2
        .describe_tags()
        .resource_arns(id("lb.nlb.arn"))
        .send()
        .await
        .unwrap();
    assert!(tags.tag_descriptions()[0]
        .tags()
        .iter()
        .any(|t| t.key() == Some(cluster_tag)));

    let pol = iam(&emu, "admin")
        .get_role_policy()
        .role_name("node")
        .policy_name("volumes")
        .send()
        .await
        .unwrap();
    assert!(pol.policy_document().contains("DescribeVolumes"));
    let attached = iam(&emu, "admin")
        .list_attached_role_policies()
        .role_name("node")
        .send()
        .await
        .unwrap();
    let attached: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(attached, [id("policy.read-tags").as_str()]);
    assert!(id("policy.read-tags").ends_with(":policy/read-tags"));
    let key = kms(&emu, "admin")
        .describe_key()
        .key_id("alias/ebs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().map(|m| m.key_id()),
        Some(id("kms.ebs").as_str())
    );
    let gone = kms(&emu, "admin")
        .describe_key()
        .key_id(id("kms.gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        gone.key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let repos = client_tests::ecr(&emu, "admin")
        .describe_repositories()
        .send()
        .await
        .unwrap();
    assert_eq!(repos.repositories()[0].repository_name(), Some("app"));
    assert_eq!(
        repos.repositories()[0].repository_uri(),
        Some(id("ecr.app.uri").as_str())
    );
}

#[tokio::test]
async fn scenario_faults_hit_the_steps_not_the_world() {
    let text = format!(
        "name: faults\n{SMALL_WORLD}\nfaults:\n  - action: \"ec2:CreateVolume\"\n    times: 1\n    error: {{code: RequestLimitExceeded, message: Request limit exceeded., status: 503}}\n\
         steps:\n  - call: ec2:CreateVolume\n    as: controlplane\n    params: {{AvailabilityZone: us-east-1a, Size: 5}}\n    expect: {{error: RequestLimitExceeded, status: 503, message: limit}}\n\
         \x20 - call: ec2:CreateVolume\n    as: controlplane\n    params: {{AvailabilityZone: us-east-1a, Size: 5}}\n    expect: {{fields: {{size: 5}}}}\n\
         expect:\n  calls:\n    - {{action: \"ec2:CreateVolume\", outcome: RequestLimitExceeded, count: 1}}\n    - {{action: \"ec2:CreateVolume\", outcome: ok, count: 1}}\n"
    );
    let report = run_text(&Scenario::parse(&text).unwrap(), None).await;
    assert!(report.passed, "{}", report.text);
    assert!(report
        .text
        .contains("controlplane ec2:CreateVolume 503 RequestLimitExceeded"));
    let e = Scenario::parse(
        "name: x\nfaults:\n  - {action: \"ec2:X\", error: {code: A, status: 200}}\n",
    )
    .unwrap_err();
    assert!(e.contains("faults[0]") && e.contains("status"), "{e}");
}

/// Latency under a scenario's manual clock is virtual time: the call's answer comes that much
/// later on the clock (in-process and over HTTP alike), and no wall time passes.
#[tokio::test]
async fn latency_faults_move_the_virtual_clock() {
    let text = "name: slow\nfaults:\n  - {action: \"ec2:DescribeVpcs\", latency_ms: 30000, times: 1}\nsteps:\n  - call: ec2:DescribeVpcs\n  - call: ec2:DescribeVpcs\n";
    let started = std::time::Instant::now();
    let report = run_text(&Scenario::parse(text).unwrap(), None).await;
    assert!(report.passed, "{}", report.text);
    says(
        &report,
        &[
            "t+30000ms #1 admin ec2:DescribeVpcs 200 ok",
            "t+30000ms #2 admin ec2:DescribeVpcs 200 ok",
        ],
    );

    let cfg = Config {
        manual_clock_start_ms: Some(scenario::runner::SCENARIO_EPOCH_MS),
        ..Config::default()
    };
    let emu = Emulator::builder().config(cfg).start().await.unwrap();
    emu.inject(awsemu::faults::FaultRule::new("ec2:DescribeVpcs").latency_ms(45_000));
    ec2(&emu, "admin").describe_vpcs().send().await.unwrap();
    assert_eq!(
        emu.instance().clock.now_ms(),
        scenario::runner::SCENARIO_EPOCH_MS + 45_000
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A flow runner for the test: `make-volume` creates a volume with the SDK as the step's principal.
fn test_flows<'a>(req: FlowRequest<'a>) -> FlowFuture<'a> {
    Box::pin(async move {
        match req.flow {
            "make-volume" => {
                let zone = req.inputs["zone"]
                    .as_str()
                    .unwrap_or("us-east-1a")
                    .to_string();
                let c = ec2_with(
                    req.emulator,
                    &ClientOptions::principal(req.emulator, req.principal),
                );
                match c
                    .create_volume()
                    .availability_zone(zone)
                    .size(4)
                    .send()
                    .await
                {
                    Ok(out) => {
                        Ok(json!({"volume_id": out.volume_id(), "principal": req.principal}))
                    }
                    Err(e) => {
                        let (code, message, _) = client_tests::error_parts(&e);
                        Err(FlowFailure { code, message })
                    }
                }
            }
            other => Err(FlowFailure {
                code: "UnknownFlow".into(),
                message: format!("no flow {other}"),
            }),
        }
    })
}

#[tokio::test]
async fn flow_steps_go_to_the_runner_and_are_checked_like_calls() {
    let text = r#"
name: flows
steps:
  - flow: make-volume
    as: controlplane
    inputs: {zone: us-east-1b}
    expect: {fields: {principal: controlplane}}
    capture: {volume.made: volume_id}
  - call: ec2:DescribeVolumes
    params: {VolumeId: ["${volume.made}"]}
    expect: {fields: {availabilityZone: us-east-1b}}
  - flow: make-volume
    as: worker
    expect: {error: UnauthorizedOperation, message: "ec2:CreateVolume"}
expect:
  calls:
    - {action: "ec2:CreateVolume", by: worker, count: 1}
    - {action: "ec2:CreateVolume", by: controlplane, outcome: ok, count: 1}
"#;
    let s = Scenario::parse(text).unwrap();
    assert!(s.has_flows());
    let report = scenario::run(&s, None, Some(&test_flows), &mut |_| {}).await;
    assert!(report.passed, "{}", report.text);
    says(&report, &["PASS step 1: flow make-volume as controlplane"]);

    let report = run_text(&s, None).await;
    assert!(!report.passed);
    says(
        &report,
        &["flow 'make-volume' needs a flow runner: awsemu cannot run cloud-provider flows itself"],
    );
}

#[tokio::test]
async fn served_scenarios_verify_on_demand() {
    let text = format!(
        "name: served\n{SMALL_WORLD}\nexpect:\n  state:\n    - {{resources: volumes, count: 3}}\n  calls:\n    - {{action: \"ec2:CreateVolume\", by: controlplane, min: 1}}\n"
    );
    let s = Scenario::parse(&text).unwrap();
    let emu = Emulator::builder()
        .config(scenario::runner::config(&s, Config::default()))
        .start()
        .await
        .unwrap();
    let (status, body) = http_get(&emu.endpoint(), "/_awsemu/scenario/verify").await;
    assert_eq!(status, 404, "{body}");
    let loaded = scenario::prepare(emu.instance(), &s, None).unwrap();
    emu.instance()
        .scenario
        .set(std::sync::Arc::new(loaded))
        .unwrap();
    let (status, body) = http_get(&emu.endpoint(), "/_awsemu/scenario/verify").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["passed"], false);
    assert_eq!(body["scenario"], "served");
    assert_eq!(body["checks"][0]["difference"], "expected 3, found 2");
    assert_eq!(body["checks"][1]["difference"], "called 0 times");
    ec2(&emu, "controlplane")
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap();
    let (status, body) = http_get(&emu.endpoint(), "/_awsemu/scenario/verify").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["passed"], true);
    // Verifying again does not count the verification's own calls.
    let (status, _) = http_get(&emu.endpoint(), "/_awsemu/scenario/verify").await;
    assert_eq!(status, 200);
    let (status, calls) = http_get(&emu.endpoint(), "/_awsemu/calls").await;
    assert_eq!(status, 200);
    assert!(calls
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["principal"] == "controlplane" && r["action"] == "ec2:CreateVolume"));
}

#[tokio::test]
async fn a_recording_replays_as_a_scenario() {
    let dir = scratch("record");
    let path = dir.join("calls.jsonl");
    let cfg = Config {
        seed: 5,
        manual_clock_start_ms: Some(scenario::runner::SCENARIO_EPOCH_MS),
        ..Config::default()
    };
    let emu = Emulator::builder().config(cfg).start().await.unwrap();
    emu.instance().calls.record_to(&path).unwrap();
    let admin = ec2(&emu, "admin");
    let vpc = admin
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    admin
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        ec2(&emu, "worker")
            .create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .send()
            .await
    );
    assert_eq!(code, "UnauthorizedOperation");
    kms(&emu, "admin")
        .create_key()
        .description("recorded")
        .send()
        .await
        .unwrap();
    let west = ClientOptions::principal(&emu, "admin").region("eu-west-1");
    ec2_with(&emu, &west)
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    drop(emu);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("Signature") && !text.contains("X-Amz-") && !text.contains("Credential"),
        "{text}"
    );
    let records = awsemu::recorder::read_recording(&text).unwrap();
    assert_eq!(records.len(), 5, "{text}");
    assert_eq!(records[0].region, "us-east-1");
    assert_eq!(records[4].region, "eu-west-1");
    assert_eq!(records[0].principal, "admin");
    assert_eq!(records[0].action, "ec2:CreateVpc");
    assert_eq!(records[0].params, json!({"CidrBlock": "10.0.0.0/16"}));
    assert_eq!(records[1].params["VpcId"], json!(vpc_id));
    assert_eq!(records[2].principal, "worker");
    assert_eq!(records[2].status, 403);
    assert_eq!(records[2].error.as_deref(), Some("UnauthorizedOperation"));
    assert!(records[2].principal_arn.contains("assumed-role/worker/"));
    assert_eq!(records[3].service, "kms");
    assert_eq!(records[3].params, json!({"Description": "recorded"}));
    assert!(records.windows(2).all(|w| w[0].seq < w[1].seq));

    let s = scenario::recording::scenario_from(&records, "replay", 5, "us-east-1");
    let yaml = scenario::recording::to_yaml(&s).unwrap();
    let parsed = Scenario::parse(&yaml).expect("the written scenario parses");
    assert_eq!(parsed, s);
    assert_eq!(parsed.steps[2].call.as_deref(), Some("ec2:CreateVolume"));
    assert_eq!(parsed.steps[2].principal.as_deref(), Some("worker"));
    assert_eq!(parsed.steps[2].region, None);
    assert_eq!(parsed.steps[4].region.as_deref(), Some("eu-west-1"));
    assert_eq!(parsed.world.regions, ["eu-west-1"]);
    let report = run_text(&parsed, None).await;
    assert!(report.passed, "{}\n{yaml}", report.text);
    says(&report, &["ec2:CreateVpc 200 ok in eu-west-1"]);
}

/// A world across regions: each resource is made in its VPC's (or its own, or its zone's)
/// region, an opt-in region named in `world.regions` is enabled, and steps and final
/// expectations look in the region they name.
#[tokio::test]
async fn a_world_spans_regions_and_steps_name_theirs() {
    let s = Scenario::parse(
        r#"
name: regions
seed: 3
world:
  regions: [eu-west-1, af-south-1]
  kms_keys:
    cape: {region: af-south-1, description: in Cape Town}
  ecr_repositories:
    app: {region: af-south-1}
  vpcs:
    east: {cidr: 10.1.0.0/16}
    west: {cidr: 10.2.0.0/16, region: eu-west-1}
  subnets:
    w: {vpc: west, cidr: 10.2.1.0/24, zone: eu-west-1b}
  security_groups:
    web: {vpc: west, tags: {team: web}}
  instances:
    node: {subnet: w, security_groups: [web]}
  volumes:
    data: {zone: eu-west-1b, attach: {instance: node, device: /dev/xvdf}}
steps:
  - call: ec2:DescribeInstances
    region: eu-west-1
    params: {InstanceId: ["${instance.node}"]}
    expect:
      fields:
        placement/availabilityZone: eu-west-1b
        groupSet/item/groupId: "${sg.web}"
  - call: ec2:DescribeInstances
    params: {InstanceId: ["${instance.node}"]}
    expect: {error: InvalidInstanceID.NotFound}
  - call: kms:DescribeKey
    region: af-south-1
    params: {KeyId: "${kms.cape}"}
    expect: {fields: {KeyMetadata/Arn: "${kms.cape.arn}"}}
  - call: kms:DescribeKey
    params: {KeyId: "${kms.cape}"}
    expect: {error: NotFoundException}
  - call: ecr:DescribeRepositories
    region: af-south-1
    expect: {fields: {"repositories[0]/repositoryUri": "${ecr.app.uri}"}}
expect:
  state:
    - resources: vpcs
      region: eu-west-1
      filters: {cidr: 10.2.0.0/16}
      count: 1
    - resources: vpcs
      filters: {cidr: 10.2.0.0/16}
      count: 0
    - resources: volumes
      region: eu-west-1
      filters: {attachment.status: attached, attachment.device: /dev/xvdf}
      count: 1
    - tags: "${sg.web}"
      region: eu-west-1
      has: {team: web}
  calls:
    - action: "ec2:DescribeInstances"
      region: eu-west-1
      outcome: ok
      count: 1
    - action: "ec2:DescribeInstances"
      region: us-east-1
      count: 1
    - action: "kms:*"
      region: af-south-1
      count: 1
"#,
    )
    .unwrap();
    let report = run_text(&s, None).await;
    assert!(report.passed, "{}", report.text);
    assert!(
        report
            .text
            .starts_with("scenario regions (seed 3, regions us-east-1, eu-west-1, af-south-1)"),
        "{}",
        report.text
    );
    says(&report, &["kms:DescribeKey 200 ok in af-south-1"]);
}

/// `rules:` and `targets:` read a group's rules and a load balancer's targets as sets, and a
/// wrong expectation names what differs.
#[tokio::test]
async fn rules_and_targets_are_checked_as_sets() {
    let world = r#"
name: sets
seed: 4
world:
  vpcs:
    main: {cidr: 10.1.0.0/16}
  internet_gateways:
    gw: {vpc: main}
  subnets:
    a: {vpc: main, cidr: 10.1.1.0/24, zone: us-east-1a}
  route_tables:
    public: {vpc: main, routes: [{destination: 0.0.0.0/0, gateway: gw}], subnets: [a]}
  security_groups:
    lb: {vpc: main}
    nodes:
      vpc: main
      ingress:
        - {protocol: tcp, from: 30000, to: 32767, groups: [lb]}
        - {protocol: tcp, port: 22, cidrs: [10.1.0.0/16, 10.9.0.0/16]}
  instances:
    a: {subnet: a, security_groups: [nodes]}
    b: {subnet: a, security_groups: [nodes]}
  load_balancers:
    web:
      subnets: [a]
      listeners: [{protocol: TCP, port: 80, instance_port: 30080}]
      instances: [a, b]
  target_groups:
    tg: {vpc: main, protocol: TCP, port: 30080, targets: [{instance: b}]}
expect:
  state:
"#;
    let good = r#"
    - rules: "${sg.nodes}"
      ingress:
        - {protocol: "6", from: 30000, to: 32767, groups: ["${sg.lb}"]}
        - {protocol: tcp, port: 22, cidrs: [10.9.0.0/16]}
        - {protocol: tcp}
      egress: [{protocol: "-1", cidrs: [0.0.0.0/0]}]
      count: 3
    - {rules: "${sg.lb}", count: 0}
    - targets: web
      instances: ["${instance.b}", "${instance.a}"]
      health: InService
    - targets: "${tg.tg}"
      instances: ["${instance.b}"]
      count: 1
"#;
    let report = run_text(&Scenario::parse(&format!("{world}{good}")).unwrap(), None).await;
    assert!(report.passed, "{}", report.text);
    says(&report, &["PASS expect state: targets of web"]);

    let bad = r#"
    - rules: "${sg.nodes}"
      ingress: [{protocol: udp, port: 22, cidrs: [10.1.0.0/16]}]
    - {rules: "${sg.nodes}", count: 2}
    - targets: web
      instances: ["${instance.a}"]
    - {targets: "${tg.tg}", health: healthy}
    - {rules: sg-0000000000000000f, count: 0}
"#;
    let report = run_text(&Scenario::parse(&format!("{world}{bad}")).unwrap(), None).await;
    assert!(!report.passed);
    says(
        &report,
        &[
            "first difference: no ingress rule udp 22 from 10.1.0.0/16",
            "first difference: expected 2 ingress rules, found 3",
            "missing [], not expected [\"i-",
            "is unused, not healthy",
            "InvalidGroup.NotFound",
        ],
    );
}

// The `scenario` binary's reports.

const SCENARIO_BIN: &str = env!("CARGO_BIN_EXE_scenario");

fn scenario(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(SCENARIO_BIN)
        .args(args)
        .output()
        .expect("run scenario");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn the_scenario_binary_passes_every_example_as_junit_and_json() {
    let dir = repo_root().join("scenarios");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "yaml" || x == "yml")
        })
        .count();
    let xml_file = scratch("examples").join("junit.xml");
    let (code, out, err) = scenario(&[
        dir.to_str().unwrap(),
        "--format",
        "junit",
        "--output",
        xml_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{files} scenarios: {files} passed, 0 failed")),
        "the text summary on stdout: {out}"
    );
    let report = junit::parse(&std::fs::read_to_string(&xml_file).unwrap());
    report.assert_counts_hold();
    assert_eq!(report.suites.len(), files);
    for attr in ["failures", "errors", "skipped"] {
        assert_eq!(report.count(attr), 0, "{attr}");
    }

    let (code, json, err) = scenario(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(doc["passed"], true);
    for s in doc["scenarios"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let suite = report.suite(name);
        let steps = s["steps"].as_array().unwrap();
        let expectations = s["expectations"].as_array().unwrap();
        assert_eq!(
            suite.cases.len(),
            steps.len() + expectations.len(),
            "{name}"
        );
        for (item, case) in steps.iter().chain(expectations).zip(&suite.cases) {
            assert_eq!(item["name"], case.name());
            assert_eq!(item["outcome"], "passed");
        }
    }
}

#[test]
fn the_scenario_binary_fails_the_failing_fixtures_in_the_same_places() {
    let mixed = repo_root().join("emulator/tests/fixtures/reports/mixed");
    let (code, xml, err) = scenario(&[mixed.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(code, 1, "{err}");
    let report = junit::parse(&xml);
    report.assert_counts_hold();
    assert_eq!(
        (report.count("failures"), report.count("errors")),
        (1 + 1, 1)
    );
    let failed = report
        .suite("failing-expectation")
        .case("expect state: ec2:DescribeVpcs as admin");
    assert_eq!(failed.kind(), Some("failure"));
    assert!(failed.message().unwrap().contains(r#"got 'a <b> & "c"'"#));
}
