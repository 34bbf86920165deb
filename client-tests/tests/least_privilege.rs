//! Least privilege from a run, proven with the cloud provider's own flows: the classic ELB, NLB
//! and EBS volume scenarios run once as a role with no policy under `iam: audit`; the policy
//! `awsemu` suggests from that run is given to the role; the flows pass under `iam: enforce`; and
//! taking any one action out of the policy makes a flow fail. The documented controlplane policy's
//! unused actions for these flows are printed (the "unneeded permissions" users are told to trim).

use std::path::{Path, PathBuf};

use awsemu::least_privilege::{self, Suggestion};
use awsemu::scenario::{self, model::Role, Report, Scenario};
use awsemu::IamMode;
use serde_json::Value;

/// The scenarios of the proof, and the principals whose steps the new role takes over.
const FLOWS: [&str; 3] = [
    "classic-elb-lifecycle.yaml",
    "nlb-lifecycle.yaml",
    "ebs-csi-volume-lifecycle.yaml",
];
const TAKEN_OVER: [&str; 2] = ["provider", "controlplane"];
const ROLE: &str = "least-privilege";

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// `file` with the provider's and controlplane's steps (and the expectations about them) made by
/// the role [`ROLE`], which has `policy` or none, under `iam`.
fn as_role(file: &str, policy: Option<&Value>, iam: IamMode) -> (Scenario, Option<PathBuf>) {
    let (mut s, dir) = scenario::load_file(&scenarios_dir().join(file)).expect(file);
    s.iam = iam;
    let mut role = Role::default();
    if let Some(p) = policy {
        role.policies.insert("suggested".into(), p.clone());
    }
    s.world.roles.insert(ROLE.into(), role);
    let take = |who: &mut Option<String>| {
        if who.as_deref().is_some_and(|w| TAKEN_OVER.contains(&w)) {
            *who = Some(ROLE.into());
        }
    };
    s.steps.iter_mut().for_each(|st| take(&mut st.principal));
    s.expect.calls.iter_mut().for_each(|c| take(&mut c.by));
    (s, dir)
}

async fn run_flows(policy: Option<&Value>, iam: IamMode) -> Vec<Report> {
    let mut reports = Vec::new();
    for file in FLOWS {
        let (s, dir) = as_role(file, policy, iam);
        let flows = client_tests::scenarios::run_flow;
        reports.push(scenario::run(&s, dir.as_deref(), Some(&flows), &mut |_| {}).await);
    }
    reports
}

fn suggested(reports: &[Report]) -> Suggestion {
    let uses = (reports.iter()).flat_map(|r| {
        r.authorizations
            .iter()
            .map(|(caller, c)| (caller.as_str(), c))
    });
    let mut all = least_privilege::finish(
        least_privilege::suggest(uses),
        &[ROLE.into()],
        Some("controlplane"),
    )
    .expect("suggestion");
    assert_eq!(all.len(), 1, "one suggestion for {ROLE}");
    all.remove(0)
}

fn failed(reports: &[Report]) -> Vec<String> {
    (reports.iter())
        .filter(|r| !r.passed)
        .map(|r| format!("{}:\n{}", r.name, r.text))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suggested_policy_is_enough_and_every_action_in_it_is_needed() {
    // 1. No policy, audit: everything the flows do is recorded and allowed anyway.
    let audited = run_flows(None, IamMode::Audit).await;
    assert!(failed(&audited).is_empty(), "{:#?}", failed(&audited));
    let suggestion = suggested(&audited);
    assert_eq!(suggestion.uncovered, 0);
    assert!(
        suggestion.denied > 0,
        "the empty role was refused something"
    );
    let text = least_privilege::to_text(std::slice::from_ref(&suggestion));
    println!("{text}");
    let policy = suggestion.document();
    let actions: Vec<String> = suggestion.actions().into_iter().map(String::from).collect();
    for needed in [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
        "ec2:CreateVolume",
        "ec2:AttachVolume",
        "ec2:DescribeInstances",
    ] {
        assert!(
            actions.iter().any(|a| a == needed),
            "{needed} missing from\n{text}"
        );
    }
    // Narrowed: the volume actions name volumes, and some statement conditions on the cluster tag.
    let statements = policy["Statement"].as_array().unwrap();
    assert!(
        statements
            .iter()
            .any(|s| s["Resource"].to_string().contains(":volume/*")),
        "{text}"
    );
    assert!(
        text.contains("aws:ResourceTag/kubernetes.io/cluster/demo"),
        "{text}"
    );
    // The unneeded permissions of the documented policy for these flows.
    let compared = suggestion.compared.as_ref().unwrap();
    assert!(!compared.unused.is_empty(), "{text}");
    assert!(compared.unused.iter().all(|a| !actions.contains(a)));
    println!(
        "controlplane's actions unused by these flows ({}): {}",
        compared.unused.len(),
        compared.unused.join(", ")
    );

    // 2. The suggested policy, enforced: every flow passes.
    let enforced = run_flows(Some(&policy), IamMode::Enforce).await;
    assert!(
        failed(&enforced).is_empty(),
        "{:#?}\n{text}",
        failed(&enforced)
    );
    // The same calls were made, and none was refused.
    let again = suggested(&enforced);
    assert_eq!(again.denied, 0);
    assert_eq!(again.actions(), suggestion.actions());

    // 3. Without any one of its actions, some flow fails.
    for action in &actions {
        let mut trimmed = policy.clone();
        for st in trimmed["Statement"].as_array_mut().unwrap() {
            let kept: Vec<Value> = match &st["Action"] {
                Value::Array(a) => a.iter().filter(|x| *x != action).cloned().collect(),
                one => vec![one.clone()]
                    .into_iter()
                    .filter(|x| x != action)
                    .collect(),
            };
            st["Action"] = Value::Array(kept);
        }
        trimmed["Statement"]
            .as_array_mut()
            .unwrap()
            .retain(|st| st["Action"].as_array().is_some_and(|a| !a.is_empty()));
        let reports = run_flows(Some(&trimmed), IamMode::Enforce).await;
        assert!(
            !failed(&reports).is_empty(),
            "every flow still passes without {action}"
        );
    }
}
