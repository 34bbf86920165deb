use super::*;

const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/provider/awsemu";
const VOLUMES: &str = "arn:aws:ec2:us-east-1:123456789012:volume/*";
const CLUSTER: &str = "kubernetes.io/cluster/demo";

fn check(action: &str, resource: &str) -> AuthCheck {
    AuthCheck::new(action, resource, false)
}

fn owned(mut c: AuthCheck) -> AuthCheck {
    c.resource_tags.insert(CLUSTER.into(), "owned".into());
    c
}

/// The checks of a CSI-style volume flow: create with the cluster tag (and its tag-on-create
/// check), describe, attach to a cluster instance, delete.
fn volume_flow() -> Vec<AuthCheck> {
    let mut create = check("ec2:CreateVolume", VOLUMES);
    create.request_tags.insert(CLUSTER.into(), "owned".into());
    let mut tag = create.clone();
    tag.action = "ec2:CreateTags".into();
    tag.create_action = Some("CreateVolume".into());
    let vol = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1";
    let inst = "arn:aws:ec2:us-east-1:123456789012:instance/i-1";
    vec![
        create,
        tag,
        check("ec2:DescribeVolumes", "*"),
        owned(check("ec2:AttachVolume", vol)),
        owned(check("ec2:AttachVolume", inst)),
        owned(check("ec2:DeleteVolume", vol)),
    ]
}

fn one(checks: &[AuthCheck]) -> Suggestion {
    let mut all = suggest(checks.iter().map(|c| (ROLE, c)));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn allowed(s: &Suggestion, c: &AuthCheck) -> bool {
    let doc = PolicyDocument::parse(&s.document().to_string()).expect("suggested policy parses");
    let policy = iam::Policy::new("s", doc);
    iam::evaluate(&[policy], &context(c)).decision == Decision::Allow
}

#[test]
fn a_volume_flow_gets_narrowed_statements() {
    let s = one(&volume_flow());
    assert_eq!(s.holder.arn, "arn:aws:iam::123456789012:role/provider");
    assert_eq!(s.uncovered, 0);
    let doc = s.document();
    let statements = doc["Statement"].as_array().unwrap();
    let find = |action: &str| {
        statements
            .iter()
            .find(|st| {
                st["Action"] == action
                    || st["Action"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .unwrap_or_else(|| panic!("no statement for {action}: {doc:#}"))
    };
    assert_eq!(find("ec2:DescribeVolumes")["Resource"], "*");
    assert!(find("ec2:DescribeVolumes").get("Condition").is_none());
    let create = find("ec2:CreateVolume");
    assert_eq!(create["Resource"], VOLUMES);
    assert_eq!(
        create["Condition"]["StringEquals"][format!("aws:RequestTag/{CLUSTER}")],
        "owned"
    );
    let tag = find("ec2:CreateTags");
    assert_eq!(
        tag["Condition"]["StringEquals"]["ec2:CreateAction"],
        "CreateVolume"
    );
    // Attach and delete: both on cluster-owned resources; attach also on the instance.
    let on = |action: &str| -> Vec<&Value> {
        statements
            .iter()
            .filter(|st| {
                st["Action"] == action
                    || st["Action"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .collect()
    };
    let attach = on("ec2:AttachVolume");
    assert_eq!(attach.len(), 2, "{doc:#}");
    for st in &attach {
        assert_eq!(
            st["Condition"]["StringEquals"][format!("aws:ResourceTag/{CLUSTER}")],
            "owned"
        );
    }
    assert_eq!(
        attach[0]["Resource"],
        "arn:aws:ec2:us-east-1:123456789012:instance/*"
    );
    assert_eq!(attach[0]["Sid"], "Ec2InstanceOfCluster");
    assert_eq!(attach[1]["Resource"], VOLUMES);
    assert_eq!(
        attach[1]["Action"],
        json!(["ec2:AttachVolume", "ec2:DeleteVolume"])
    );
    assert_eq!(
        find("ec2:DeleteVolume")["Condition"]["StringEquals"][format!("aws:ResourceTag/{CLUSTER}")],
        "owned"
    );
    for c in volume_flow() {
        assert!(allowed(&s, &c), "{c:?} not allowed by {doc:#}");
    }
    // Nothing else: another action, an untagged volume, another cluster's volume.
    let vol = "arn:aws:ec2:us-east-1:123456789012:volume/vol-2";
    assert!(!allowed(&s, &check("ec2:ModifyVolume", vol)));
    assert!(!allowed(&s, &check("ec2:DeleteVolume", vol)));
    let mut other = check("ec2:DeleteVolume", vol);
    other
        .resource_tags
        .insert("kubernetes.io/cluster/other".into(), "owned".into());
    assert!(!allowed(&s, &other));
    assert!(!allowed(&s, &check("ec2:CreateVolume", VOLUMES)));
}

#[test]
fn one_untagged_resource_drops_the_condition_and_values_are_collected() {
    let vol = |n: u32| format!("arn:aws:ec2:us-east-1:123456789012:volume/vol-{n}");
    let mut shared = check("ec2:DeleteVolume", &vol(2));
    shared.resource_tags.insert(CLUSTER.into(), "shared".into());
    let s = one(&[owned(check("ec2:DeleteVolume", &vol(1))), shared.clone()]);
    assert_eq!(
        s.document()["Statement"][0]["Condition"]["StringEquals"]
            [format!("aws:ResourceTag/{CLUSTER}")],
        json!(["owned", "shared"])
    );
    let s = one(&[shared, check("ec2:DeleteVolume", &vol(3))]);
    assert!(s.document()["Statement"][0].get("Condition").is_none());
    assert_eq!(s.uncovered, 0);
}

#[test]
fn sessions_of_one_role_share_a_policy_and_resource_policies_are_left_out() {
    let a = check("ec2:DescribeInstances", "*");
    let mut trust = check("sts:AssumeRole", "arn:aws:iam::123456789012:role/x");
    trust.by_resource_policy = true;
    let all = suggest([
        (ROLE, &a),
        ("arn:aws:sts::123456789012:assumed-role/provider/other", &a),
        ("arn:aws:iam::123456789012:user/ci", &trust),
        ("arn:aws:iam::123456789012:user/ci", &a),
    ]);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].holder.name, "provider");
    assert_eq!(all[0].checks, 1);
    assert_eq!(all[1].holder.name, "ci");
    assert_eq!(all[1].actions(), ["ec2:DescribeInstances"].into());
    assert_eq!(select(all, &["ci".into()]).len(), 1);
}

#[test]
fn the_same_input_gives_the_same_document() {
    let mut flow = volume_flow();
    let a = to_text(&[one(&flow)]);
    flow.reverse();
    assert_eq!(to_text(&[one(&flow)]), a);
}

#[test]
fn comparison_with_the_controlplane_policy() {
    let mut s = one(&volume_flow());
    let text = crate::iam::builtin::source("controlplane").unwrap();
    s.compare("controlplane", text).unwrap();
    let c = s.compared.as_ref().unwrap();
    assert!(c.allows.len() > 40, "{}", c.allows.len());
    assert!(c
        .unused
        .contains(&"elasticloadbalancing:CreateLoadBalancer".to_string()));
    assert!(!c.unused.contains(&"ec2:AttachVolume".to_string()));
    assert_eq!(c.allows.len() - c.unused.len(), 5 - c.missing.len());
    let text = to_text(std::slice::from_ref(&s));
    assert!(
        text.contains("# compared with controlplane: it allows"),
        "{text}"
    );
    assert!(s.compare("x", "{}").is_err());
}

#[test]
fn a_denied_call_gets_its_own_statement() {
    let st = allowing_statement(&owned(check(
        "ec2:DetachVolume",
        "arn:aws:ec2:us-east-1:123456789012:volume/vol-9",
    )));
    assert_eq!(st["Action"], "ec2:DetachVolume");
    assert_eq!(st["Resource"], VOLUMES);
    assert_eq!(
        st["Condition"]["StringEquals"][format!("aws:ResourceTag/{CLUSTER}")],
        "owned"
    );
}

#[test]
fn the_text_form_is_the_same_policy() {
    let s = one(&volume_flow());
    let text = policy_text(&s.statements);
    let parsed: Value = serde_json::from_str(&text).expect(&text);
    assert_eq!(parsed, s.document());
    assert!(
        text.find("\"Sid\"").unwrap() < text.find("\"Effect\"").unwrap(),
        "{text}"
    );
    let empty: Value = serde_json::from_str(&policy_text(&[])).unwrap();
    assert_eq!(empty["Statement"], json!([]));
}
