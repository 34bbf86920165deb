//! ELBv2 listener rules over real HTTP: paging with the default rule, AWS's per-rule limits,
//! priorities (PriorityInUse, all-or-nothing SetRulePriorities), the default rule's refusals,
//! target groups in use through a rule, listeners and load balancers taking their rules with
//! them, tags on rules, an IAM denial, and aws-load-balancer-controller's own sequence.

mod common;
#[path = "support/xml.rs"]
mod xml;

use std::net::SocketAddr;

use awsemu::Emulator;
use common::{post_form, send, Answer};
use xml::Node;

const V2: &str = "Version=2015-12-01";

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Action=A&Version=…&k1=v1&…`, values encoded.
fn body(action: &str, params: &[(&str, &str)]) -> String {
    let mut b = format!("Action={action}&{V2}");
    for (k, v) in params {
        b.push_str(&format!("&{k}={}", enc(v)));
    }
    b
}

async fn v2_as(addr: SocketAddr, key: &str, action: &str, params: &[(&str, &str)]) -> Answer {
    post_form(
        addr,
        key,
        key,
        "elasticloadbalancing",
        &body(action, params),
    )
    .await
}

async fn v2(addr: SocketAddr, action: &str, params: &[(&str, &str)]) -> Answer {
    v2_as(addr, "test", action, params).await
}

/// [`v2`] with owned parameters.
async fn v2_owned(addr: SocketAddr, action: &str, params: Vec<(String, String)>) -> Answer {
    let p: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    v2(addr, action, &p).await
}

/// The `<ActionResult>` of a successful answer.
fn result(a: &Answer, action: &str) -> Node {
    assert_eq!(a.status, 200, "{action}: {}", a.body);
    let root = xml::parse(&a.body).unwrap();
    root.child(&format!("{action}Result"))
        .cloned()
        .unwrap_or_else(|| panic!("no result in {}", a.body))
}

async fn ok(addr: SocketAddr, action: &str, params: &[(&str, &str)]) -> Node {
    result(&v2(addr, action, params).await, action)
}

fn refused(a: &Answer, code: &str) {
    assert_eq!((a.status, a.code().as_str()), (400, code), "{}", a.body);
}

/// The rules of an answer, as (ARN, priority, IsDefault).
fn rules(n: &Node) -> Vec<(String, String, bool)> {
    n.path(&["Rules", "member"])
        .into_iter()
        .map(|r| {
            (
                r.text_of("RuleArn"),
                r.text_of("Priority"),
                r.text_of("IsDefault") == "true",
            )
        })
        .collect()
}

/// The region's ELBv2 state, from `GET /_awsemu/state`.
async fn elbv2_state(addr: SocketAddr) -> serde_json::Value {
    let a = send(addr, "GET", "/_awsemu/state", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    v["ec2"]["us-east-1"]["elbv2"].clone()
}

struct World {
    emu: Emulator,
    vpc: String,
    subnets: Vec<String>,
    lb: String,
    tg: String,
    listener: String,
}

impl World {
    fn addr(&self) -> SocketAddr {
        self.emu.addr()
    }

    async fn target_group(&self, name: &str) -> String {
        let n = ok(
            self.addr(),
            "CreateTargetGroup",
            &[
                ("Name", name),
                ("Protocol", "HTTP"),
                ("Port", "80"),
                ("VpcId", &self.vpc),
            ],
        )
        .await;
        n.path(&["TargetGroups", "member"])[0].text_of("TargetGroupArn")
    }

    async fn create_rule(&self, priority: i64, host: &str, tg: &str) -> Answer {
        let p = priority.to_string();
        v2(
            self.addr(),
            "CreateRule",
            &[
                ("ListenerArn", &self.listener),
                ("Priority", &p),
                ("Conditions.member.1.Field", "host-header"),
                ("Conditions.member.1.HostHeaderConfig.Values.member.1", host),
                ("Actions.member.1.Type", "forward"),
                ("Actions.member.1.TargetGroupArn", tg),
            ],
        )
        .await
    }

    async fn rule(&self, priority: i64, host: &str) -> String {
        let a = self.create_rule(priority, host, &self.tg).await;
        rules(&result(&a, "CreateRule"))[0].0.clone()
    }

    async fn listed(&self) -> Vec<(String, String, bool)> {
        rules(
            &ok(
                self.addr(),
                "DescribeRules",
                &[("ListenerArn", &self.listener)],
            )
            .await,
        )
    }
}

async fn world() -> World {
    let emu = Emulator::builder().seed(7).start().await.unwrap();
    let addr = emu.addr();
    let a = post_form(
        addr,
        "test",
        "test",
        "ec2",
        "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true",
    )
    .await;
    let root = xml::parse(&a.body).unwrap();
    let items = root.path(&["subnetSet", "item"]);
    let mut subnets: Vec<(String, String)> = items
        .iter()
        .map(|s| (s.text_of("availabilityZone"), s.text_of("subnetId")))
        .collect();
    subnets.sort();
    let vpc = items[0].text_of("vpcId");
    let subnets: Vec<String> = subnets.into_iter().map(|(_, s)| s).take(2).collect();
    let lb = ok(
        addr,
        "CreateLoadBalancer",
        &[
            ("Name", "web"),
            ("Type", "application"),
            ("Subnets.member.1", &subnets[0]),
            ("Subnets.member.2", &subnets[1]),
        ],
    )
    .await
    .path(&["LoadBalancers", "member"])[0]
        .text_of("LoadBalancerArn");
    let mut w = World {
        emu,
        vpc,
        subnets,
        lb,
        tg: String::new(),
        listener: String::new(),
    };
    w.tg = w.target_group("default").await;
    w.listener = ok(
        addr,
        "CreateListener",
        &[
            ("LoadBalancerArn", &w.lb),
            ("Protocol", "HTTP"),
            ("Port", "80"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &w.tg),
        ],
    )
    .await
    .path(&["Listeners", "member"])[0]
        .text_of("ListenerArn");
    w
}

#[tokio::test]
async fn rules_page_with_the_default_rule_last() {
    let w = world().await;
    let mut made = Vec::new();
    for (i, p) in [30, 10, 50, 20, 40].into_iter().enumerate() {
        made.push((p, w.rule(p, &format!("h{i}.example.com")).await));
    }
    made.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("ListenerArn", w.listener.as_str()), ("PageSize", "2")];
        if let Some(m) = &marker {
            params.push(("Marker", m));
        }
        let n = ok(w.addr(), "DescribeRules", &params).await;
        let page = rules(&n);
        assert!(page.len() <= 2);
        seen.extend(page);
        match n.text_of("NextMarker") {
            m if m.is_empty() => break,
            m => marker = Some(m),
        }
    }
    let priorities: Vec<&str> = seen.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(priorities, ["10", "20", "30", "40", "50", "default"]);
    let (default_arn, _, is_default) = seen.last().unwrap().clone();
    assert!(is_default && seen[..5].iter().all(|r| !r.2));
    assert!(default_arn.starts_with(&w.listener.replace(":listener/", ":listener-rule/")));
    // The default rule's ARN is the listener's, stable across calls; it shows the listener's
    // default actions and no conditions.
    let d = ok(
        w.addr(),
        "DescribeRules",
        &[("RuleArns.member.1", &default_arn)],
    )
    .await;
    let member = &d.path(&["Rules", "member"])[0];
    assert_eq!(member.path(&["Conditions", "member"]).len(), 0);
    assert_eq!(
        member.path(&["Actions", "member"])[0].text_of("TargetGroupArn"),
        w.tg
    );
    // Both selectors, or neither: ValidationError; a bad page size too.
    refused(
        &v2(
            w.addr(),
            "DescribeRules",
            &[
                ("ListenerArn", &w.listener),
                ("RuleArns.member.1", &made[0].1),
            ],
        )
        .await,
        "ValidationError",
    );
    refused(&v2(w.addr(), "DescribeRules", &[]).await, "ValidationError");
    refused(
        &v2(
            w.addr(),
            "DescribeRules",
            &[("ListenerArn", &w.listener), ("PageSize", "401")],
        )
        .await,
        "ValidationError",
    );
}

#[tokio::test]
async fn priorities_are_unique_and_set_all_or_nothing() {
    let w = world().await;
    let a = w.rule(1, "a.example.com").await;
    let b = w.rule(2, "b.example.com").await;
    refused(
        &w.create_rule(2, "c.example.com", &w.tg).await,
        "PriorityInUse",
    );
    refused(
        &w.create_rule(50_001, "c.example.com", &w.tg).await,
        "ValidationError",
    );
    let before = w.listed().await;
    assert_eq!(before.len(), 3, "nothing made on error");
    let set = |pairs: Vec<(&str, &str)>| {
        let mut params: Vec<(String, String)> = Vec::new();
        for (i, (arn, p)) in pairs.into_iter().enumerate() {
            params.push((
                format!("RulePriorities.member.{}.RuleArn", i + 1),
                arn.into(),
            ));
            params.push((
                format!("RulePriorities.member.{}.Priority", i + 1),
                p.into(),
            ));
        }
        params
    };
    let addr = w.addr();
    let send = |params| v2_owned(addr, "SetRulePriorities", params);
    // Moving one rule onto another's priority, two rules onto one, the default rule, a rule
    // twice, a rule that does not exist: refused, and nothing moves.
    refused(&send(set(vec![(&a, "2")])).await, "PriorityInUse");
    refused(
        &send(set(vec![(&a, "7"), (&b, "7")])).await,
        "PriorityInUse",
    );
    let default_arn = before[2].0.clone();
    refused(
        &send(set(vec![(&a, "5"), (&default_arn, "6")])).await,
        "OperationNotPermitted",
    );
    refused(
        &send(set(vec![(&a, "5"), (&a, "6")])).await,
        "ValidationError",
    );
    let gone = format!(
        "{}/0123456789abcdef",
        w.listener.replace(":listener/", ":listener-rule/")
    );
    refused(
        &send(set(vec![(&a, "5"), (&gone, "6")])).await,
        "RuleNotFound",
    );
    assert_eq!(w.listed().await, before);
    // A swap in one request is fine: only the order after it counts.
    let swapped = result(
        &send(set(vec![(&a, "2"), (&b, "1")])).await,
        "SetRulePriorities",
    );
    assert_eq!(rules(&swapped).len(), 2);
    let order: Vec<(String, String)> = w
        .listed()
        .await
        .into_iter()
        .map(|(arn, p, _)| (arn, p))
        .collect();
    assert_eq!(
        order,
        [
            (b.clone(), "1".to_string()),
            (a.clone(), "2".to_string()),
            (default_arn.clone(), "default".to_string())
        ]
    );
    // The default rule cannot go.
    refused(
        &v2(w.addr(), "DeleteRule", &[("RuleArn", &default_arn)]).await,
        "OperationNotPermitted",
    );
    refused(
        &v2(
            w.addr(),
            "ModifyRule",
            &[
                ("RuleArn", &default_arn),
                ("Actions.member.1.Type", "forward"),
                ("Actions.member.1.TargetGroupArn", &w.tg),
            ],
        )
        .await,
        "OperationNotPermitted",
    );
    refused(
        &v2(w.addr(), "DeleteRule", &[("RuleArn", &gone)]).await,
        "RuleNotFound",
    );
}

#[tokio::test]
async fn per_rule_limits_are_aws_quotas() {
    let w = world().await;
    let addr = w.addr();
    let l = w.listener.clone();
    let base = |extra: Vec<(String, String)>| {
        let mut p: Vec<(String, String)> = vec![
            ("ListenerArn".into(), l.clone()),
            ("Priority".into(), "1".into()),
            ("Actions.member.1.Type".into(), "fixed-response".into()),
            (
                "Actions.member.1.FixedResponseConfig.StatusCode".into(),
                "404".into(),
            ),
        ];
        p.extend(extra);
        p
    };
    let send = |params| v2_owned(addr, "CreateRule", params);
    let hosts = |n: usize, pattern: &str| -> Vec<(String, String)> {
        let mut v = vec![(
            "Conditions.member.1.Field".to_string(),
            "host-header".to_string(),
        )];
        for i in 1..=n {
            v.push((
                format!("Conditions.member.1.HostHeaderConfig.Values.member.{i}"),
                pattern.replace('N', &i.to_string()),
            ));
        }
        v
    };
    // Five values are the quota; six are refused.
    refused(
        &send(base(hosts(6, "hN.example.com"))).await,
        "ValidationError",
    );
    // Six wildcards in five values are refused too.
    let mut wild = hosts(5, "*.hN.example.com");
    wild[1].1 = "*.*.example.com".into();
    refused(&send(base(wild)).await, "ValidationError");
    // One host-header condition per rule; a value of the wrong shape; legacy Values on a field
    // that only takes its config; a bad CIDR; no conditions at all.
    let mut twice = hosts(1, "a.example.com");
    twice.push(("Conditions.member.2.Field".into(), "host-header".into()));
    twice.push((
        "Conditions.member.2.Values.member.1".into(),
        "b.example.com".into(),
    ));
    refused(&send(base(twice)).await, "ValidationError");
    refused(&send(base(hosts(1, "no_dots"))).await, "ValidationError");
    refused(
        &send(base(vec![
            (
                "Conditions.member.1.Field".into(),
                "http-request-method".into(),
            ),
            ("Conditions.member.1.Values.member.1".into(), "GET".into()),
        ]))
        .await,
        "ValidationError",
    );
    refused(
        &send(base(vec![
            ("Conditions.member.1.Field".into(), "source-ip".into()),
            (
                "Conditions.member.1.SourceIpConfig.Values.member.1".into(),
                "10.0.0.0/40".into(),
            ),
        ]))
        .await,
        "ValidationError",
    );
    refused(
        &send(base(vec![("Conditions".into(), "".into())])).await,
        "ValidationError",
    );
    assert_eq!(w.listed().await.len(), 1, "nothing made");
    // Five values pass, in the legacy form and its config together when they agree.
    let mut five = hosts(5, "hN.example.com");
    five.push((
        "Conditions.member.1.Values.member.1".into(),
        "h1.example.com".into(),
    ));
    refused(&send(base(five)).await, "ValidationError");
    let n = result(&send(base(hosts(5, "hN.example.com"))).await, "CreateRule");
    let c = &n.path(&["Rules", "member", "Conditions", "member"])[0];
    assert_eq!(c.path(&["Values", "member"]).len(), 5);
    assert_eq!(c.path(&["HostHeaderConfig", "Values", "member"]).len(), 5);
    // 100 rules per load balancer, default rules not counted.
    for p in 2..=100 {
        let a = w.create_rule(p, "x.example.com", &w.tg).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    refused(
        &w.create_rule(101, "x.example.com", &w.tg).await,
        "TooManyRules",
    );
}

#[tokio::test]
async fn a_rule_keeps_its_target_group_in_use() {
    let w = world().await;
    let api = w.target_group("api").await;
    let r = result(
        &w.create_rule(5, "api.example.com", &api).await,
        "CreateRule",
    );
    let rule = rules(&r)[0].0.clone();
    let tg = ok(
        w.addr(),
        "DescribeTargetGroups",
        &[("TargetGroupArns.member.1", &api)],
    )
    .await;
    let lbs: Vec<String> = tg
        .path(&["TargetGroups", "member", "LoadBalancerArns", "member"])
        .into_iter()
        .map(|n| n.text.clone())
        .collect();
    assert_eq!(lbs, std::slice::from_ref(&w.lb));
    refused(
        &v2(w.addr(), "DeleteTargetGroup", &[("TargetGroupArn", &api)]).await,
        "ResourceInUse",
    );
    // Another load balancer cannot forward to it.
    let other = ok(
        w.addr(),
        "CreateLoadBalancer",
        &[
            ("Name", "other"),
            ("Type", "application"),
            ("Subnets.member.1", &w.subnets[0]),
            ("Subnets.member.2", &w.subnets[1]),
        ],
    )
    .await
    .path(&["LoadBalancers", "member"])[0]
        .text_of("LoadBalancerArn");
    refused(
        &v2(
            w.addr(),
            "CreateListener",
            &[
                ("LoadBalancerArn", &other),
                ("Protocol", "HTTP"),
                ("Port", "80"),
                ("DefaultActions.member.1.Type", "forward"),
                ("DefaultActions.member.1.TargetGroupArn", &api),
            ],
        )
        .await,
        "TargetGroupAssociationLimit",
    );
    // A target registered in it is health checked (a group no one forwards to shows `unused`).
    let state = elbv2_state(w.addr()).await;
    let groups = &state["target_groups"];
    assert!(groups[&api]["in_use_since_ms"].is_i64(), "{groups}");
    ok(w.addr(), "DeleteRule", &[("RuleArn", &rule)]).await;
    let state = elbv2_state(w.addr()).await;
    assert!(state["target_groups"][&api]["in_use_since_ms"].is_null());
    ok(w.addr(), "DeleteTargetGroup", &[("TargetGroupArn", &api)]).await;
}

#[tokio::test]
async fn listeners_and_load_balancers_take_their_rules() {
    let w = world().await;
    let a = w.rule(1, "a.example.com").await;
    ok(w.addr(), "DeleteListener", &[("ListenerArn", &w.listener)]).await;
    refused(
        &v2(w.addr(), "DescribeRules", &[("RuleArns.member.1", &a)]).await,
        "RuleNotFound",
    );
    refused(
        &v2(w.addr(), "DescribeRules", &[("ListenerArn", &w.listener)]).await,
        "ListenerNotFound",
    );
    // Through the load balancer's deletion too.
    let l2 = ok(
        w.addr(),
        "CreateListener",
        &[
            ("LoadBalancerArn", &w.lb),
            ("Protocol", "HTTP"),
            ("Port", "8080"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &w.tg),
        ],
    )
    .await
    .path(&["Listeners", "member"])[0]
        .text_of("ListenerArn");
    let w2 = World { listener: l2, ..w };
    w2.rule(1, "b.example.com").await;
    let state = elbv2_state(w2.addr()).await;
    assert_eq!(state["rules"].as_object().unwrap().len(), 1);
    ok(
        w2.addr(),
        "DeleteLoadBalancer",
        &[("LoadBalancerArn", &w2.lb)],
    )
    .await;
    let state = elbv2_state(w2.addr()).await;
    assert!(state["rules"].as_object().unwrap().is_empty());
    ok(
        w2.addr(),
        "DeleteTargetGroup",
        &[("TargetGroupArn", &w2.tg)],
    )
    .await;
}

#[tokio::test]
async fn rules_and_default_rules_carry_tags() {
    let w = world().await;
    let r = result(
        &v2(
            w.addr(),
            "CreateRule",
            &[
                ("ListenerArn", &w.listener),
                ("Priority", "3"),
                ("Conditions.member.1.Field", "path-pattern"),
                ("Conditions.member.1.Values.member.1", "/x/*"),
                ("Actions.member.1.Type", "forward"),
                ("Actions.member.1.TargetGroupArn", &w.tg),
                ("Tags.member.1.Key", "elbv2.k8s.aws/cluster"),
                ("Tags.member.1.Value", "c1"),
            ],
        )
        .await,
        "CreateRule",
    );
    let rule = rules(&r)[0].0.clone();
    let default_arn = w.listed().await[1].0.clone();
    ok(
        w.addr(),
        "AddTags",
        &[
            ("ResourceArns.member.1", &rule),
            ("ResourceArns.member.2", &default_arn),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "web"),
        ],
    )
    .await;
    ok(
        w.addr(),
        "RemoveTags",
        &[
            ("ResourceArns.member.1", &rule),
            ("TagKeys.member.1", "team"),
        ],
    )
    .await;
    let d = ok(
        w.addr(),
        "DescribeTags",
        &[
            ("ResourceArns.member.1", &rule),
            ("ResourceArns.member.2", &default_arn),
        ],
    )
    .await;
    let tags: Vec<(String, Vec<String>)> = d
        .path(&["TagDescriptions", "member"])
        .into_iter()
        .map(|t| {
            (
                t.text_of("ResourceArn"),
                t.path(&["Tags", "member"])
                    .into_iter()
                    .map(|k| format!("{}={}", k.text_of("Key"), k.text_of("Value")))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            (rule.clone(), vec!["elbv2.k8s.aws/cluster=c1".to_string()]),
            (default_arn, vec!["team=web".to_string()])
        ]
    );
    ok(w.addr(), "DeleteRule", &[("RuleArn", &rule)]).await;
    refused(
        &v2(
            w.addr(),
            "DescribeTags",
            &[("ResourceArns.member.1", &rule)],
        )
        .await,
        "RuleNotFound",
    );
}

#[tokio::test]
async fn a_worker_may_not_change_rules() {
    let w = world().await;
    let rule = w.rule(1, "a.example.com").await;
    let a = v2_as(w.addr(), "worker", "DeleteRule", &[("RuleArn", &rule)]).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "AccessDenied"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains(&format!(
            "User: arn:aws:sts::123456789012:assumed-role/worker/awsemu is not authorized to perform: elasticloadbalancing:DeleteRule on resource: {rule}"
        )),
        "{}",
        a.body
    );
    let a = v2_as(
        w.addr(),
        "worker",
        "SetRulePriorities",
        &[
            ("RulePriorities.member.1.RuleArn", &rule),
            ("RulePriorities.member.1.Priority", "9"),
        ],
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(
        a.body.contains(&format!("on resource: {rule}")),
        "{}",
        a.body
    );
    assert_eq!(w.listed().await[0].1, "1", "nothing changed");
}

#[tokio::test]
async fn rules_only_on_listeners_that_take_them() {
    let w = world().await;
    let nlb = ok(
        w.addr(),
        "CreateLoadBalancer",
        &[
            ("Name", "net"),
            ("Type", "network"),
            ("Subnets.member.1", &w.subnets[0]),
        ],
    )
    .await
    .path(&["LoadBalancers", "member"])[0]
        .text_of("LoadBalancerArn");
    let tcp = ok(
        w.addr(),
        "CreateTargetGroup",
        &[
            ("Name", "tcp"),
            ("Protocol", "TCP"),
            ("Port", "80"),
            ("VpcId", &w.vpc),
        ],
    )
    .await
    .path(&["TargetGroups", "member"])[0]
        .text_of("TargetGroupArn");
    let listener = ok(
        w.addr(),
        "CreateListener",
        &[
            ("LoadBalancerArn", &nlb),
            ("Protocol", "TCP"),
            ("Port", "80"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &tcp),
        ],
    )
    .await
    .path(&["Listeners", "member"])[0]
        .text_of("ListenerArn");
    // An IPv4-only network load balancer has no rules, but lists its default rule.
    let a = v2(
        w.addr(),
        "CreateRule",
        &[
            ("ListenerArn", &listener),
            ("Priority", "1"),
            ("Conditions.member.1.Field", "source-ip"),
            ("Conditions.member.1.SourceIpConfig.IpAddressType", "ipv6"),
            ("Actions.member.1.Type", "forward"),
            ("Actions.member.1.TargetGroupArn", &tcp),
        ],
    )
    .await;
    refused(&a, "InvalidConfigurationRequest");
    let listed = rules(&ok(w.addr(), "DescribeRules", &[("ListenerArn", &listener)]).await);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].2);
    // An application load balancer's rule takes no IpAddressType.
    let a = v2(
        w.addr(),
        "CreateRule",
        &[
            ("ListenerArn", &w.listener),
            ("Priority", "1"),
            ("Conditions.member.1.Field", "source-ip"),
            ("Conditions.member.1.SourceIpConfig.IpAddressType", "ipv6"),
            ("Actions.member.1.Type", "forward"),
            ("Actions.member.1.TargetGroupArn", &w.tg),
        ],
    )
    .await;
    refused(&a, "ValidationError");
}

/// What aws-load-balancer-controller's listener rule synthesizer sends: it creates the rules an
/// Ingress asks for, reads them back (tags of every rule, the default one included), modifies
/// one in place with `ResetTransforms`, moves the rules it keeps with one SetRulePriorities that
/// also pushes the ones it no longer wants to 50000 and downward, and deletes those.
#[tokio::test]
async fn the_controllers_sequence() {
    let w = world().await;
    let addr = w.addr();
    let svc = w.target_group("svc").await;
    let create = |priority: &'static str, path: &'static str, transform: bool| {
        let l = w.listener.clone();
        let svc = svc.clone();
        async move {
            let mut p: Vec<(&str, String)> = vec![
                ("ListenerArn", l),
                ("Priority", priority.into()),
                ("Conditions.member.1.Field", "path-pattern".into()),
                (
                    "Conditions.member.1.PathPatternConfig.Values.member.1",
                    path.into(),
                ),
                ("Actions.member.1.Type", "forward".into()),
                (
                    "Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn",
                    svc,
                ),
                ("Tags.member.1.Key", "ingress.k8s.aws/stack".into()),
                ("Tags.member.1.Value", "ns/app".into()),
            ];
            if transform {
                p.push(("Transforms.member.1.Type", "url-rewrite".into()));
                p.push((
                    "Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Regex",
                    "^/old/(.*)$".into(),
                ));
                p.push((
                    "Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Replace",
                    "/new/$1".into(),
                ));
            }
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            rules(&result(&v2(addr, "CreateRule", &p).await, "CreateRule"))[0]
                .0
                .clone()
        }
    };
    let r1 = create("1", "/a/*", false).await;
    let r2 = create("2", "/old/*", true).await;
    let r3 = create("3", "/c/*", false).await;
    let listed = ok(addr, "DescribeRules", &[("ListenerArn", &w.listener)]).await;
    let members = listed.path(&["Rules", "member"]);
    assert_eq!(members.len(), 4);
    let transforms = members[1].path(&[
        "Transforms",
        "member",
        "UrlRewriteConfig",
        "Rewrites",
        "member",
    ]);
    assert_eq!(
        (
            transforms[0].text_of("Regex"),
            transforms[0].text_of("Replace")
        ),
        ("^/old/(.*)$".to_string(), "/new/$1".to_string())
    );
    // The forward is described with its ForwardConfig (what the controller compares).
    let fwd = &members[0].path(&["Actions", "member"])[0];
    assert_eq!(
        fwd.path(&["ForwardConfig", "TargetGroups", "member"])[0].text_of("TargetGroupArn"),
        svc
    );
    let mut tag_params: Vec<(String, String)> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        tag_params.push((
            format!("ResourceArns.member.{}", i + 1),
            m.text_of("RuleArn"),
        ));
    }
    let tp: Vec<(&str, &str)> = tag_params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        ok(addr, "DescribeTags", &tp)
            .await
            .path(&["TagDescriptions", "member"])
            .len(),
        4
    );
    // Priority 2 keeps its place with new settings and no transforms.
    let m = ok(
        addr,
        "ModifyRule",
        &[
            ("RuleArn", &r2),
            ("Conditions.member.1.Field", "path-pattern"),
            (
                "Conditions.member.1.PathPatternConfig.Values.member.1",
                "/b/*",
            ),
            ("Actions.member.1.Type", "forward"),
            (
                "Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn",
                &svc,
            ),
            ("ResetTransforms", "true"),
        ],
    )
    .await;
    let modified = &m.path(&["Rules", "member"])[0];
    assert!(modified.child("Transforms").is_none(), "{modified:?}");
    assert_eq!(modified.text_of("Priority"), "2");
    refused(
        &v2(
            addr,
            "ModifyRule",
            &[
                ("RuleArn", &r2),
                ("ResetTransforms", "true"),
                ("Transforms.member.1.Type", "url-rewrite"),
                (
                    "Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Regex",
                    "a",
                ),
                (
                    "Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Replace",
                    "b",
                ),
            ],
        )
        .await,
        "ValidationError",
    );
    // The Ingress now wants /c/* first: r3 moves to 1, r1 (unmatched) goes to 50000.
    let s = ok(
        addr,
        "SetRulePriorities",
        &[
            ("RulePriorities.member.1.RuleArn", &r1),
            ("RulePriorities.member.1.Priority", "50000"),
            ("RulePriorities.member.2.RuleArn", &r3),
            ("RulePriorities.member.2.Priority", "1"),
        ],
    )
    .await;
    assert_eq!(rules(&s).len(), 2);
    let order: Vec<String> = w.listed().await.into_iter().map(|r| r.1).collect();
    assert_eq!(order, ["1", "2", "50000", "default"]);
    ok(addr, "DeleteRule", &[("RuleArn", &r1)]).await;
    let left: Vec<String> = w.listed().await.into_iter().map(|r| r.0).collect();
    assert_eq!(left.len(), 3);
    assert_eq!(&left[..2], [r3, r2]);
}
