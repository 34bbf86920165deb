//! Concurrency against a model: random programs of operations on volumes, instances, security
//! groups, load balancers, target groups, listeners and routes run from several tasks at once
//! against one real server (signed HTTP, a two-thread runtime, so requests truly overlap), on
//! resources the tasks share. Each operation may succeed or fail — races decide — but after
//! every run what Describe calls show must hold together:
//!
//! - every successful create is listed exactly once, every successful delete is gone;
//! - a volume is attached to at most one instance, and never to a terminated one;
//! - each live instance's block-device mappings are exactly the volumes attached to it;
//! - no security group rule names a deleted group, no target registration an instance that
//!   never existed, no listener a deleted target group; listeners go with their load balancer;
//! - a route to an instance is `active` while it lives and `blackhole` once it is terminated.
//!
//! Programs are drawn afresh each run (`PROPTEST_RNG_SEED=N` repeats one); a failure prints the
//! program, shrunk. `MODEL_TRACE=1` (with `--nocapture`) prints every refused call.

mod common;
#[path = "support/xml.rs"]
mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use awsemu::Emulator;
use common::post_form;
use proptest::prelude::*;
use xml::Node;

/// The operations, on resources picked by index among those created so far (modulo their
/// number; none yet: the operation is skipped).
#[derive(Debug, Clone)]
enum Op {
    CreateVolume,
    DeleteVolume(usize),
    AttachVolume(usize, usize, u8),
    DetachVolume(usize),
    RunInstance,
    TerminateInstance(usize),
    CreateGroup,
    DeleteGroup(usize),
    AuthorizeFromGroup(usize, usize),
    CreateTargetGroup,
    DeleteTargetGroup(usize),
    RegisterTarget(usize, usize),
    CreateLoadBalancer,
    DeleteLoadBalancer(usize),
    CreateListener(usize, usize),
    CreateRoute(usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..8;
    prop_oneof![
        3 => Just(Op::CreateVolume),
        1 => i().prop_map(Op::DeleteVolume),
        3 => (i(), i(), 0u8..6).prop_map(|(v, n, d)| Op::AttachVolume(v, n, d)),
        2 => i().prop_map(Op::DetachVolume),
        2 => Just(Op::RunInstance),
        1 => i().prop_map(Op::TerminateInstance),
        2 => Just(Op::CreateGroup),
        1 => i().prop_map(Op::DeleteGroup),
        2 => (i(), i()).prop_map(|(a, b)| Op::AuthorizeFromGroup(a, b)),
        2 => Just(Op::CreateTargetGroup),
        1 => i().prop_map(Op::DeleteTargetGroup),
        2 => (i(), i()).prop_map(|(t, n)| Op::RegisterTarget(t, n)),
        1 => Just(Op::CreateLoadBalancer),
        1 => i().prop_map(Op::DeleteLoadBalancer),
        2 => (i(), i()).prop_map(|(l, t)| Op::CreateListener(l, t)),
        1 => (i(), 0u8..4).prop_map(|(n, c)| Op::CreateRoute(n, c)),
    ]
}

/// Several lanes, each a sequence of operations run in order by one task.
fn program() -> impl Strategy<Value = Vec<Vec<Op>>> {
    proptest::collection::vec(proptest::collection::vec(op(), 4..16), 3..7)
}

/// What the tasks made and removed, as the server's answers said.
#[derive(Debug, Default)]
struct Ledger {
    volumes: Vec<String>,
    instances: Vec<String>,
    groups: Vec<String>,
    target_groups: Vec<String>,
    load_balancers: Vec<String>,
    deleted: BTreeSet<String>,
    terminated: BTreeSet<String>,
}

impl Ledger {
    fn pick(list: &[String], i: usize) -> Option<String> {
        (!list.is_empty()).then(|| list[i % list.len()].clone())
    }
}

/// The world every lane works in.
struct World {
    addr: SocketAddr,
    subnet: String,
    vpc: String,
    route_table: String,
    ledger: Mutex<Ledger>,
    names: AtomicU64,
}

impl World {
    fn name(&self, kind: &str) -> String {
        format!("{kind}-{}", self.names.fetch_add(1, Ordering::Relaxed))
    }

    fn pick(&self, f: impl FnOnce(&Ledger) -> Option<String>) -> Option<String> {
        f(&self.ledger.lock().unwrap())
    }

    fn note(&self, f: impl FnOnce(&mut Ledger)) {
        f(&mut self.ledger.lock().unwrap())
    }

    /// Calls as admin; returns the parsed answer when it succeeded. Failures are the races'
    /// business, but never a 5xx.
    async fn call(&self, service: &str, body: &str) -> Option<Node> {
        let a = post_form(self.addr, "test", "test", service, body).await;
        assert!(a.status < 500, "{body} -> {}: {}", a.status, a.body);
        if std::env::var_os("MODEL_TRACE").is_some() && a.status != 200 {
            eprintln!("{body} -> {} {}", a.status, a.code());
        }
        (a.status == 200).then(|| xml::parse(&a.body).expect("answer parses"))
    }

    async fn ec2(&self, body: &str) -> Option<Node> {
        self.call("ec2", &format!("Version=2016-11-15&{body}"))
            .await
    }

    async fn elbv2(&self, body: &str) -> Option<Node> {
        self.call(
            "elasticloadbalancing",
            &format!("Version=2015-12-01&{body}"),
        )
        .await
    }
}

fn text(n: &Node, path: &[&str]) -> String {
    n.path(path)
        .first()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

/// Runs one operation: `None` when it had nothing to work on, else whether it succeeded.
async fn run_op(w: &World, op: &Op) -> Option<bool> {
    let volume = |i| w.pick(|l| Ledger::pick(&l.volumes, i));
    let instance = |i| w.pick(|l| Ledger::pick(&l.instances, i));
    let group = |i| w.pick(|l| Ledger::pick(&l.groups, i));
    let target_group = |i| w.pick(|l| Ledger::pick(&l.target_groups, i));
    let balancer = |i| w.pick(|l| Ledger::pick(&l.load_balancers, i));
    let deleted = |id: String| {
        w.note(|l| {
            l.deleted.insert(id);
        })
    };
    let answer = match *op {
        Op::CreateVolume => {
            let a = w
                .ec2("Action=CreateVolume&AvailabilityZone=us-east-1a&Size=1")
                .await;
            a.inspect(|a| w.note(|l| l.volumes.push(a.text_of("volumeId"))))
        }
        Op::DeleteVolume(v) => {
            let v = volume(v)?;
            let a = w.ec2(&format!("Action=DeleteVolume&VolumeId={v}")).await;
            a.inspect(|_| deleted(v))
        }
        Op::AttachVolume(v, n, d) => {
            let (v, n) = (volume(v)?, instance(n)?);
            let device = format!("/dev/sd{}", (b'f' + d) as char);
            w.ec2(&format!(
                "Action=AttachVolume&VolumeId={v}&InstanceId={n}&Device={device}"
            ))
            .await
        }
        Op::DetachVolume(v) => {
            let v = volume(v)?;
            w.ec2(&format!("Action=DetachVolume&VolumeId={v}")).await
        }
        Op::RunInstance => {
            let a = w
                .ec2(&format!(
                    "Action=RunInstances&ImageId=ami-0abcdef1234567890&InstanceType=t3.micro\
                     &MinCount=1&MaxCount=1&SubnetId={}",
                    w.subnet
                ))
                .await;
            a.inspect(|a| {
                let id = text(a, &["instancesSet", "item", "instanceId"]);
                w.note(|l| l.instances.push(id));
            })
        }
        Op::TerminateInstance(n) => {
            let n = instance(n)?;
            let a = w
                .ec2(&format!("Action=TerminateInstances&InstanceId.1={n}"))
                .await;
            a.inspect(|_| {
                w.note(|l| {
                    l.terminated.insert(n);
                })
            })
        }
        Op::CreateGroup => {
            let name = w.name("group");
            let a = w
                .ec2(&format!(
                    "Action=CreateSecurityGroup&GroupName={name}&GroupDescription=model&VpcId={}",
                    w.vpc
                ))
                .await;
            a.inspect(|a| w.note(|l| l.groups.push(a.text_of("groupId"))))
        }
        Op::DeleteGroup(g) => {
            let g = group(g)?;
            let a = w
                .ec2(&format!("Action=DeleteSecurityGroup&GroupId={g}"))
                .await;
            a.inspect(|_| deleted(g))
        }
        Op::AuthorizeFromGroup(to, from) => {
            let (to, from) = (group(to)?, group(from)?);
            w.ec2(&format!(
                "Action=AuthorizeSecurityGroupIngress&GroupId={to}&IpPermissions.1.IpProtocol=tcp\
                 &IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443\
                 &IpPermissions.1.Groups.1.GroupId={from}"
            ))
            .await
        }
        Op::CreateTargetGroup => {
            let name = w.name("tg");
            let a = w
                .elbv2(&format!(
                    "Action=CreateTargetGroup&Name={name}&Protocol=TCP&Port=80&VpcId={}",
                    w.vpc
                ))
                .await;
            a.inspect(|a| {
                let arn = text(
                    a,
                    &[
                        "CreateTargetGroupResult",
                        "TargetGroups",
                        "member",
                        "TargetGroupArn",
                    ],
                );
                w.note(|l| l.target_groups.push(arn));
            })
        }
        Op::DeleteTargetGroup(t) => {
            let t = target_group(t)?;
            let a = w
                .elbv2(&format!("Action=DeleteTargetGroup&TargetGroupArn={t}"))
                .await;
            a.inspect(|_| deleted(t))
        }
        Op::RegisterTarget(t, n) => {
            let (t, n) = (target_group(t)?, instance(n)?);
            w.elbv2(&format!(
                "Action=RegisterTargets&TargetGroupArn={t}&Targets.member.1.Id={n}"
            ))
            .await
        }
        Op::CreateLoadBalancer => {
            let name = w.name("lb");
            let a = w
                .elbv2(&format!(
                    "Action=CreateLoadBalancer&Name={name}&Type=network&Subnets.member.1={}",
                    w.subnet
                ))
                .await;
            a.inspect(|a| {
                let arn = text(
                    a,
                    &[
                        "CreateLoadBalancerResult",
                        "LoadBalancers",
                        "member",
                        "LoadBalancerArn",
                    ],
                );
                w.note(|l| l.load_balancers.push(arn));
            })
        }
        Op::DeleteLoadBalancer(b) => {
            let b = balancer(b)?;
            let a = w
                .elbv2(&format!("Action=DeleteLoadBalancer&LoadBalancerArn={b}"))
                .await;
            a.inspect(|_| deleted(b))
        }
        Op::CreateListener(b, t) => {
            let (b, t) = (balancer(b)?, target_group(t)?);
            let port = 1000 + w.names.fetch_add(1, Ordering::Relaxed);
            w.elbv2(&format!(
                "Action=CreateListener&LoadBalancerArn={b}&Protocol=TCP&Port={port}\
                 &DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={t}"
            ))
            .await
        }
        Op::CreateRoute(n, c) => {
            let n = instance(n)?;
            w.ec2(&format!(
                "Action=CreateRoute&RouteTableId={}&DestinationCidrBlock=10.{c}.0.0/16&InstanceId={n}",
                w.route_table
            ))
            .await
        }
    };
    Some(answer.is_some())
}

/// Every id listed at `path` in the answer to `body`, with how many times.
async fn listed(w: &World, service: &str, body: &str, path: &[&str]) -> BTreeMap<String, usize> {
    let a = w.call(service, body).await.expect(body);
    let mut out = BTreeMap::new();
    for n in a.path(path) {
        *out.entry(n.text.clone()).or_insert(0) += 1;
    }
    out
}

/// The checks after a run.
async fn check(w: &World) {
    let l = std::mem::take(&mut *w.ledger.lock().unwrap());
    let once = |listed: &BTreeMap<String, usize>, made: &[String], kind: &str| {
        for id in made {
            let n = listed.get(id).copied().unwrap_or(0);
            let want = usize::from(!l.deleted.contains(id));
            assert_eq!(
                n,
                want,
                "{kind} {id} listed {n} times, deleted: {}",
                l.deleted.contains(id)
            );
        }
    };

    // Volumes: listed once unless deleted; attached to at most one live instance.
    let volumes = w.ec2("Action=DescribeVolumes").await.unwrap();
    let items = volumes.path(&["volumeSet", "item"]);
    let ids: BTreeMap<String, usize> = items.iter().fold(BTreeMap::new(), |mut m, v| {
        *m.entry(v.text_of("volumeId")).or_insert(0) += 1;
        m
    });
    once(&ids, &l.volumes, "volume");
    let mut attached: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for v in &items {
        let atts = v.path(&["attachmentSet", "item"]);
        assert!(
            atts.len() <= 1,
            "volume attached {} times: {v:?}",
            atts.len()
        );
        for a in atts {
            let inst = a.text_of("instanceId");
            assert!(
                !l.terminated.contains(&inst),
                "volume {} attached to terminated {inst}",
                v.text_of("volumeId")
            );
            attached
                .entry(inst)
                .or_default()
                .insert((a.text_of("device"), v.text_of("volumeId")));
        }
    }

    // Instances: listed once (terminated ones stay listed, terminated); their block devices are
    // exactly the volumes attached to them.
    let instances = w.ec2("Action=DescribeInstances").await.unwrap();
    let items = instances.path(&["reservationSet", "item", "instancesSet", "item"]);
    let mut instance_ids: BTreeMap<String, usize> = BTreeMap::new();
    for i in &items {
        let id = i.text_of("instanceId");
        *instance_ids.entry(id.clone()).or_insert(0) += 1;
        let state = text(i, &["instanceState", "name"]);
        if l.terminated.contains(&id) {
            assert_eq!(state, "terminated", "{id}");
            assert!(
                i.path(&["blockDeviceMapping", "item"]).is_empty(),
                "terminated {id} keeps devices"
            );
            continue;
        }
        let devices: BTreeSet<(String, String)> = i
            .path(&["blockDeviceMapping", "item"])
            .into_iter()
            .map(|d| (d.text_of("deviceName"), text(d, &["ebs", "volumeId"])))
            .collect();
        assert_eq!(
            devices,
            attached.remove(&id).unwrap_or_default(),
            "devices of {id}"
        );
    }
    assert!(
        attached.is_empty(),
        "attachments to unlisted instances: {attached:?}"
    );
    for id in &l.instances {
        assert_eq!(instance_ids.get(id), Some(&1), "instance {id}");
    }

    // Security groups: listed once unless deleted; no rule names a group that is gone.
    let groups = w.ec2("Action=DescribeSecurityGroups").await.unwrap();
    let items = groups.path(&["securityGroupInfo", "item"]);
    let ids: BTreeMap<String, usize> = items.iter().fold(BTreeMap::new(), |mut m, g| {
        *m.entry(g.text_of("groupId")).or_insert(0) += 1;
        m
    });
    once(&ids, &l.groups, "security group");
    for g in &items {
        for pair in g.path(&["ipPermissions", "item", "groups", "item"]) {
            let named = pair.text_of("groupId");
            assert!(
                ids.contains_key(&named),
                "{} has a rule from deleted {named}",
                g.text_of("groupId")
            );
        }
    }

    // Target groups and load balancers: listed once unless deleted.
    let tgs = listed(
        w,
        "elasticloadbalancing",
        "Action=DescribeTargetGroups&Version=2015-12-01",
        &[
            "DescribeTargetGroupsResult",
            "TargetGroups",
            "member",
            "TargetGroupArn",
        ],
    )
    .await;
    once(&tgs, &l.target_groups, "target group");
    let lbs = listed(
        w,
        "elasticloadbalancing",
        "Action=DescribeLoadBalancers&Version=2015-12-01",
        &[
            "DescribeLoadBalancersResult",
            "LoadBalancers",
            "member",
            "LoadBalancerArn",
        ],
    )
    .await;
    once(&lbs, &l.load_balancers, "load balancer");

    // Registrations name instances that exist (or existed: terminated ones are `unused`).
    for tg in tgs.keys() {
        let health = w
            .elbv2(&format!("Action=DescribeTargetHealth&TargetGroupArn={tg}"))
            .await
            .expect("target health");
        for t in health.path(&[
            "DescribeTargetHealthResult",
            "TargetHealthDescriptions",
            "member",
        ]) {
            let id = text(t, &["Target", "Id"]);
            assert!(
                instance_ids.contains_key(&id),
                "{tg} registers unknown {id}"
            );
        }
    }
    // Listeners forward to target groups that exist; a deleted balancer has none.
    for lb in &l.load_balancers {
        let a = post_form(
            w.addr,
            "test",
            "test",
            "elasticloadbalancing",
            &format!("Action=DescribeListeners&Version=2015-12-01&LoadBalancerArn={lb}"),
        )
        .await;
        if l.deleted.contains(lb) {
            assert_eq!(a.code(), "LoadBalancerNotFound", "{lb}: {}", a.body);
            continue;
        }
        assert_eq!(a.status, 200, "{}", a.body);
        let a = xml::parse(&a.body).unwrap();
        for action in a.path(&[
            "DescribeListenersResult",
            "Listeners",
            "member",
            "DefaultActions",
            "member",
        ]) {
            let tg = action.text_of("TargetGroupArn");
            assert!(tgs.contains_key(&tg), "{lb} forwards to deleted {tg}");
        }
    }

    // Routes to instances: active while the instance lives, blackhole once it is terminated.
    let tables = w
        .ec2(&format!(
            "Action=DescribeRouteTables&RouteTableId.1={}",
            w.route_table
        ))
        .await
        .unwrap();
    for r in tables.path(&["routeTableSet", "item", "routeSet", "item"]) {
        let inst = r.text_of("instanceId");
        if inst.is_empty() {
            continue;
        }
        let want = if l.terminated.contains(&inst) {
            "blackhole"
        } else {
            "active"
        };
        assert_eq!(r.text_of("state"), want, "route to {inst}");
    }
}

/// Starts an emulator and the world its lanes share.
async fn world(seed: u64) -> (Emulator, Arc<World>) {
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let addr = emu.addr();
    let probe = |body: &'static str| post_form(addr, "test", "test", "ec2", body);
    let subnets = probe(
        "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1a",
    )
    .await;
    let subnets = xml::parse(&subnets.body).unwrap();
    let tables = xml::parse(
        &probe("Action=DescribeRouteTables&Version=2016-11-15")
            .await
            .body,
    )
    .unwrap();
    let world = Arc::new(World {
        addr,
        subnet: text(&subnets, &["subnetSet", "item", "subnetId"]),
        vpc: text(&subnets, &["subnetSet", "item", "vpcId"]),
        route_table: text(&tables, &["routeTableSet", "item", "routeTableId"]),
        ledger: Mutex::default(),
        names: AtomicU64::new(0),
    });
    (emu, world)
}

async fn run_program(lanes: Vec<Vec<Op>>, seed: u64) {
    let (_emu, world) = world(seed).await;
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let w = world.clone();
            tokio::spawn(async move {
                for op in &lane {
                    run_op(&w, op).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("lane");
    }
    check(&world).await;
}

/// Every operation the programs use can succeed: the generator's requests are well formed, so
/// what the random runs refuse, races refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_succeeds_in_a_sequence_that_allows_it() {
    use Op::*;
    let (_emu, w) = world(1).await;
    let steps = [
        CreateVolume,
        RunInstance,
        AttachVolume(0, 0, 0),
        CreateGroup,
        CreateGroup,
        AuthorizeFromGroup(0, 1),
        CreateTargetGroup,
        RegisterTarget(0, 0),
        CreateLoadBalancer,
        CreateListener(0, 0),
        CreateRoute(0, 1),
        DetachVolume(0),
        DeleteLoadBalancer(0),
        DeleteTargetGroup(0),
        DeleteGroup(0),
        DeleteGroup(1),
        DeleteVolume(0),
        TerminateInstance(0),
    ];
    for op in &steps {
        assert_eq!(run_op(&w, op).await, Some(true), "{op:?}");
    }
    check(&w).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_programs_keep_the_world_consistent(lanes in program(), seed in 0u64..1000) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_program(lanes, seed));
    }
}
