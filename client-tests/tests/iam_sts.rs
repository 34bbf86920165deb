//! IAM and STS through aws-sdk-iam and aws-sdk-sts: roles and their trust policies, inline and
//! managed policies, instance profiles, service-linked roles, AssumeRole and its temporary
//! credentials (held to the role's policies, expiring on the virtual clock), and instance profiles
//! on EC2 instances. Every error code, status and message the emulator gives here is asserted.

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification};
use aws_sdk_iam::types::Tag;
use awsemu::Emulator;
use client_tests::{
    ec2, ec2_with, expect_err, iam, iam_with, kms_with, sts, sts_with, ClientOptions,
};

const ACCOUNT: &str = "123456789012";
const AMI: &str = "ami-0123456789abcdef0";
/// The start of the manual clock of the tests that look at dates: 2023-11-14T22:13:20Z.
const START_MS: i64 = 1_700_000_000_000;

/// A trust policy that lets any principal of the account assume the role (given an identity
/// policy that allows `sts:AssumeRole` on it).
const ACCOUNT_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const EC2_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
const WORKER_POLICY: &str = include_str!("../../emulator/policies/worker.json");

async fn manual() -> Emulator {
    Emulator::builder()
        .seed(1)
        .manual_clock(START_MS)
        .start()
        .await
        .expect("the emulator starts")
}

/// Percent-decoding, to read the URL-encoded policy documents IAM answers with.
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// Client options signing with temporary credentials from AssumeRole.
fn session_opts(emu: &Emulator, c: &aws_sdk_sts::types::Credentials) -> ClientOptions {
    let mut o = ClientOptions::keys(emu, c.access_key_id(), c.secret_access_key());
    o.session_token = Some(c.session_token().to_string());
    o
}

async fn create_role(c: &aws_sdk_iam::Client, name: &str, trust: &str) -> aws_sdk_iam::types::Role {
    c.create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("create role")
        .role()
        .cloned()
        .expect("a role")
}

async fn assume(
    emu: &Emulator,
    as_principal: &str,
    role: &str,
    session: &str,
) -> aws_sdk_sts::types::Credentials {
    sts(emu, as_principal)
        .assume_role()
        .role_arn(role_arn(role))
        .role_session_name(session)
        .send()
        .await
        .expect("assume role")
        .credentials()
        .cloned()
        .expect("credentials")
}

#[tokio::test]
async fn built_in_roles_are_iam_roles_with_profiles_of_the_same_name() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    let worker_id = sts(&emu, "worker")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .user_id()
        .unwrap()
        .to_string();
    for name in ["controlplane", "etcd", "worker"] {
        let role = c
            .get_role()
            .role_name(name)
            .send()
            .await
            .unwrap()
            .role()
            .cloned()
            .unwrap();
        assert_eq!(role.role_name(), name);
        assert_eq!(role.path(), "/");
        assert_eq!(role.arn(), role_arn(name));
        assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
        assert_eq!(role.max_session_duration(), Some(3600));
        let trust = role.assume_role_policy_document().unwrap();
        assert!(
            trust.starts_with("%7B%22Version%22%3A%222012-10-17%22"),
            "{trust}"
        );
        assert!(url_decode(trust).contains(r#""Service":"ec2.amazonaws.com""#));
        if name == "worker" {
            assert_eq!(worker_id, format!("{}:awsemu", role.role_id()));
        }
        let attached = c
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap();
        assert_eq!(attached.attached_policies().len(), 1);
        assert_eq!(attached.attached_policies()[0].policy_name(), Some(name));
        assert_eq!(
            attached.attached_policies()[0].policy_arn(),
            Some(format!("arn:aws:iam::{ACCOUNT}:policy/{name}").as_str())
        );
        assert!(!attached.is_truncated());
        let profile = c
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .unwrap()
            .instance_profile()
            .cloned()
            .unwrap();
        assert_eq!(
            profile.arn(),
            format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}")
        );
        assert!(profile.instance_profile_id().starts_with("AIPA"));
        assert_eq!(profile.instance_profile_id().len(), 21);
        assert_eq!(profile.roles().len(), 1);
        assert_eq!(profile.roles()[0].role_id(), role.role_id());
    }
    let admin = c
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap()
        .policy()
        .cloned()
        .unwrap();
    assert_eq!(admin.policy_id(), Some("ANPAIWMBCKSKIEE64ZLYK"));
    assert_eq!(admin.attachment_count(), Some(0));
}

#[tokio::test]
async fn create_get_update_and_delete_roles() {
    let emu = manual().await;
    let c = iam(&emu, "admin");
    let created = c
        .create_role()
        .role_name("Node-Role")
        .path("/kube/")
        .description("nodes of the cluster")
        .max_session_duration(7200)
        .assume_role_policy_document(ACCOUNT_TRUST)
        .tags(Tag::builder().key("team").value("k8s").build().unwrap())
        .send()
        .await
        .unwrap()
        .role()
        .cloned()
        .unwrap();
    assert_eq!(
        created.arn(),
        "arn:aws:iam::123456789012:role/kube/Node-Role"
    );
    assert_eq!(created.path(), "/kube/");
    assert!(created.role_id().starts_with("AROA") && created.role_id().len() == 21);
    assert!(created.role_id()[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(created.create_date().secs(), START_MS / 1000);
    assert_eq!(
        url_decode(created.assume_role_policy_document().unwrap()),
        ACCOUNT_TRUST
    );
    assert_eq!(created.tags().len(), 1);

    // Names are unique and looked up without regard to case.
    let got = c
        .get_role()
        .role_name("node-role")
        .send()
        .await
        .unwrap()
        .role()
        .cloned()
        .unwrap();
    assert_eq!(got.role_name(), "Node-Role");
    assert_eq!(got.role_id(), created.role_id());
    assert_eq!(got.description(), Some("nodes of the cluster"));
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.tags()[0].key(), "team");
    assert_eq!(got.role_last_used().and_then(|u| u.region()), None);
    let (code, msg, status) = expect_err!(
        c.create_role()
            .role_name("NODE-ROLE")
            .assume_role_policy_document(ACCOUNT_TRUST)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "EntityAlreadyExists",
            "Role with name NODE-ROLE already exists.",
            409
        )
    );
    let (code, msg, status) = expect_err!(c.get_role().role_name("ghost").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "NoSuchEntity",
            "The role with name ghost cannot be found.",
            404
        )
    );
    let (code, msg, status) = expect_err!(c.delete_role().role_name("ghost").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404), "{msg}");

    // The model's constraints, all reported at once.
    let (code, msg, status) = expect_err!(
        c.create_role()
            .role_name("bad name")
            .path("kube")
            .max_session_duration(100)
            .assume_role_policy_document(ACCOUNT_TRUST)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    // Violations are listed in the model's member order (CreateRoleRequest: Path, RoleName, …).
    assert_eq!(
        msg,
        "3 validation errors detected: Value 'kube' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
    );

    // Trust policies go through the policy parser, plus IAM's assume-role rules.
    let (code, msg, status) = expect_err!(
        c.create_role()
            .role_name("r1")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"}}"#)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "MalformedPolicyDocument",
            "Has prohibited field Resource",
            400
        )
    );
    let (code, msg, _) = expect_err!(
        c.create_role()
            .role_name("r1")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ec2:RunInstances"}}"#)
            .send()
            .await
    );
    assert_eq!(code, "MalformedPolicyDocument");
    assert_eq!(
        msg,
        "AssumeRole policy may only specify STS AssumeRole actions."
    );
    let (code, msg, _) = expect_err!(
        c.create_role()
            .role_name("r1")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#)
            .send()
            .await
    );
    assert_eq!(code, "MalformedPolicyDocument");
    assert!(msg.contains("Principal"), "{msg}");
    let (code, _, _) = expect_err!(
        c.create_role()
            .role_name("r1")
            .assume_role_policy_document("{not json")
            .send()
            .await
    );
    assert_eq!(code, "MalformedPolicyDocument");
    let (code, _, _) = expect_err!(c.get_role().role_name("r1").send().await);
    assert_eq!(
        code, "NoSuchEntity",
        "refused creations leave nothing behind"
    );

    // UpdateRole and UpdateAssumeRolePolicy.
    c.update_role()
        .role_name("Node-Role")
        .description("updated")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    let new_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    c.update_assume_role_policy()
        .role_name("Node-Role")
        .policy_document(new_trust)
        .send()
        .await
        .unwrap();
    let got = c.get_role().role_name("Node-Role").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.description(), Some("updated"));
    assert_eq!(got.max_session_duration(), Some(43200));
    assert_eq!(
        url_decode(got.assume_role_policy_document().unwrap()),
        new_trust
    );

    let listed = c.list_roles().path_prefix("/kube/").send().await.unwrap();
    assert_eq!(listed.roles().len(), 1);
    assert_eq!(listed.roles()[0].role_name(), "Node-Role");
    let all = c.list_roles().send().await.unwrap();
    assert_eq!(all.roles().len(), 4);
    let page = c.list_roles().max_items(3).send().await.unwrap();
    assert!(page.is_truncated());
    let rest = c
        .list_roles()
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.roles().len() + rest.roles().len(), 4);
    assert!(!rest.is_truncated());

    c.delete_role().role_name("Node-Role").send().await.unwrap();
    let (code, _, _) = expect_err!(c.get_role().role_name("Node-Role").send().await);
    assert_eq!(code, "NoSuchEntity");
}

#[tokio::test]
async fn inline_and_managed_role_policies() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    create_role(&c, "app", ACCOUNT_TRUST).await;
    let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"ec2:Describe*\", \"Resource\": \"*\"}]\n}";
    c.put_role_policy()
        .role_name("app")
        .policy_name("describe")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let got = c
        .get_role_policy()
        .role_name("app")
        .policy_name("describe")
        .send()
        .await
        .unwrap();
    assert_eq!(got.role_name(), "app");
    assert_eq!(got.policy_name(), "describe");
    assert!(got
        .policy_document()
        .starts_with("%7B%0A%20%20%22Version%22"));
    assert_eq!(url_decode(got.policy_document()), doc);
    let names = c
        .list_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["describe".to_string()]);
    let (code, msg, status) = expect_err!(
        c.get_role_policy()
            .role_name("app")
            .policy_name("nope")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "NoSuchEntity",
            "The role policy with name nope cannot be found.",
            404
        )
    );
    let (code, msg, _) = expect_err!(
        c.put_role_policy()
            .role_name("ghost")
            .policy_name("p")
            .policy_document(EC2_ALL)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("NoSuchEntity", "The role with name ghost cannot be found.")
    );
    let (code, msg, status) = expect_err!(
        c.put_role_policy()
            .role_name("app")
            .policy_name("p")
            .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ec2:*","Resource":"*"}}"#)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("MalformedPolicyDocument", 400));
    assert!(msg.contains("Principal"), "{msg}");

    // Managed policies.
    let policy = c
        .create_policy()
        .policy_name("ec2-all")
        .path("/team/")
        .description("everything EC2")
        .policy_document(EC2_ALL)
        .send()
        .await
        .unwrap()
        .policy()
        .cloned()
        .unwrap();
    let arn = policy.arn().unwrap().to_string();
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/team/ec2-all");
    assert!(policy.policy_id().unwrap().starts_with("ANPA"));
    assert_eq!(policy.policy_id().unwrap().len(), 21);
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert_eq!(policy.attachment_count(), Some(0));
    assert!(policy.is_attachable());
    assert_eq!(policy.description(), None, "CreatePolicy does not echo it");
    let (code, msg, status) = expect_err!(
        c.create_policy()
            .policy_name("EC2-ALL")
            .policy_document(EC2_ALL)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "EntityAlreadyExists",
            "A policy called EC2-ALL already exists. Duplicate names are not allowed.",
            409
        )
    );
    let (code, msg, _) = expect_err!(
        c.create_policy()
            .policy_name("bogus")
            .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Bogus":1}}"#)
            .send()
            .await
    );
    assert_eq!(code, "MalformedPolicyDocument");
    assert!(msg.contains("Bogus"), "{msg}");

    c.attach_role_policy()
        .role_name("app")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    c.attach_role_policy()
        .role_name("app")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    // Attaching again changes nothing.
    c.attach_role_policy()
        .role_name("app")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let attached = c
        .list_attached_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|p| p.policy_name().unwrap())
        .collect();
    assert_eq!(names, ["ec2-all", "AdministratorAccess"]);
    let team = c
        .list_attached_role_policies()
        .role_name("app")
        .path_prefix("/team/")
        .send()
        .await
        .unwrap();
    assert_eq!(team.attached_policies().len(), 1);
    let first = c
        .list_attached_role_policies()
        .role_name("app")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    let second = c
        .list_attached_role_policies()
        .role_name("app")
        .max_items(1)
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.attached_policies()[0].policy_name(),
        Some("AdministratorAccess")
    );
    assert!(!second.is_truncated());
    let (code, _, _) = expect_err!(
        c.list_attached_role_policies()
            .role_name("ghost")
            .send()
            .await
    );
    assert_eq!(code, "NoSuchEntity");
    let got = c.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().attachment_count(), Some(1));
    assert_eq!(got.policy().unwrap().description(), Some("everything EC2"));

    let missing = "arn:aws:iam::123456789012:policy/missing";
    let (code, msg, status) = expect_err!(
        c.attach_role_policy()
            .role_name("app")
            .policy_arn(missing)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "NoSuchEntity",
            "Policy arn:aws:iam::123456789012:policy/missing does not exist or is not attachable.",
            404
        )
    );
    let (code, msg, status) = expect_err!(
        c.attach_role_policy()
            .role_name("app")
            .policy_arn("arn:aws:iam::123456789012:user/someone")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "InvalidInput",
            "ARN arn:aws:iam::123456789012:user/someone is not valid.",
            400
        )
    );
    let (code, msg, _) = expect_err!(
        c.attach_role_policy()
            .role_name("app")
            .policy_arn("AdminAccess")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert_eq!(msg, "1 validation error detected: Value 'AdminAccess' at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20");

    // DeleteRole refuses while anything is left, in AWS's order and words.
    let (code, msg, status) = expect_err!(c.delete_role().role_name("app").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
            409
        )
    );
    let (code, msg, _) = expect_err!(c.delete_policy().policy_arn(&arn).send().await);
    assert_eq!(code, "DeleteConflict", "{msg}");
    for p in [arn.as_str(), "arn:aws:iam::aws:policy/AdministratorAccess"] {
        c.detach_role_policy()
            .role_name("app")
            .policy_arn(p)
            .send()
            .await
            .unwrap();
    }
    let (code, msg, status) = expect_err!(
        c.detach_role_policy()
            .role_name("app")
            .policy_arn(&arn)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "NoSuchEntity",
            "Policy arn:aws:iam::123456789012:policy/team/ec2-all was not found.",
            404
        )
    );
    let (code, msg, _) = expect_err!(c.delete_role().role_name("app").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "DeleteConflict",
            "Cannot delete entity, must delete policies first."
        )
    );
    c.delete_role_policy()
        .role_name("app")
        .policy_name("describe")
        .send()
        .await
        .unwrap();
    c.delete_role().role_name("app").send().await.unwrap();
    c.delete_policy().policy_arn(&arn).send().await.unwrap();
    let (code, msg, status) = expect_err!(c.get_policy().policy_arn(&arn).send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404), "{msg}");
}

#[tokio::test]
async fn instance_profiles_hold_one_role() {
    let emu = manual().await;
    let c = iam(&emu, "admin");
    let role = create_role(&c, "node", ACCOUNT_TRUST).await;
    let created = c
        .create_instance_profile()
        .instance_profile_name("nodes")
        .path("/k8s/")
        .send()
        .await
        .unwrap()
        .instance_profile()
        .cloned()
        .unwrap();
    assert_eq!(
        created.arn(),
        "arn:aws:iam::123456789012:instance-profile/k8s/nodes"
    );
    assert_eq!(created.path(), "/k8s/");
    assert!(created.instance_profile_id().starts_with("AIPA"));
    assert_eq!(created.create_date().secs(), START_MS / 1000);
    assert!(created.roles().is_empty());
    let (code, msg, status) = expect_err!(
        c.create_instance_profile()
            .instance_profile_name("NODES")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "EntityAlreadyExists",
            "Instance Profile NODES already exists.",
            409
        )
    );

    c.add_role_to_instance_profile()
        .instance_profile_name("nodes")
        .role_name("node")
        .send()
        .await
        .unwrap();
    let got = c
        .get_instance_profile()
        .instance_profile_name("nodes")
        .send()
        .await
        .unwrap()
        .instance_profile()
        .cloned()
        .unwrap();
    assert_eq!(got.instance_profile_id(), created.instance_profile_id());
    assert_eq!(got.roles().len(), 1);
    assert_eq!(got.roles()[0].role_id(), role.role_id());
    assert_eq!(
        url_decode(got.roles()[0].assume_role_policy_document().unwrap()),
        ACCOUNT_TRUST
    );
    let (code, msg, status) = expect_err!(
        c.add_role_to_instance_profile()
            .instance_profile_name("nodes")
            .role_name("worker")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "LimitExceeded",
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
            409
        )
    );
    let (code, msg, status) = expect_err!(
        c.add_role_to_instance_profile()
            .instance_profile_name("ghost")
            .role_name("node")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "NoSuchEntity",
            "Instance Profile ghost cannot be found.",
            404
        )
    );
    let (code, msg, _) = expect_err!(
        c.get_instance_profile()
            .instance_profile_name("ghost")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("NoSuchEntity", "Instance Profile ghost cannot be found.")
    );
    let for_role = c
        .list_instance_profiles_for_role()
        .role_name("node")
        .send()
        .await
        .unwrap();
    assert_eq!(for_role.instance_profiles().len(), 1);
    let listed = c
        .list_instance_profiles()
        .path_prefix("/k8s/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.instance_profiles().len(), 1);

    let (code, msg, status) = expect_err!(c.delete_role().role_name("node").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "DeleteConflict",
            "Cannot delete entity, must remove roles from instance profile first.",
            409
        )
    );
    let (code, msg, _) = expect_err!(
        c.delete_instance_profile()
            .instance_profile_name("nodes")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "DeleteConflict",
            "Cannot delete entity, must remove roles from instance profile first."
        )
    );
    c.remove_role_from_instance_profile()
        .instance_profile_name("nodes")
        .role_name("node")
        .send()
        .await
        .unwrap();
    c.delete_instance_profile()
        .instance_profile_name("nodes")
        .send()
        .await
        .unwrap();
    c.delete_role().role_name("node").send().await.unwrap();
}

#[tokio::test]
async fn service_linked_role_for_elb() {
    let emu = client_tests::start().await;
    // The control-plane policy allows iam:CreateServiceLinkedRole.
    let cp = iam(&emu, "controlplane");
    let role = cp
        .create_service_linked_role()
        .aws_service_name("elasticloadbalancing.amazonaws.com")
        .send()
        .await
        .unwrap()
        .role()
        .cloned()
        .unwrap();
    assert_eq!(role.role_name(), "AWSServiceRoleForElasticLoadBalancing");
    assert_eq!(
        role.path(),
        "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    );
    assert_eq!(
        role.arn(),
        "arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
    );
    assert!(url_decode(role.assume_role_policy_document().unwrap())
        .contains(r#""Service":"elasticloadbalancing.amazonaws.com""#));
    let (code, msg, status) = expect_err!(
        cp.create_service_linked_role()
            .aws_service_name("elasticloadbalancing.amazonaws.com")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "InvalidInput",
            "Service role name AWSServiceRoleForElasticLoadBalancing has been taken in this account, please try a different suffix.",
            400
        )
    );
    let (code, msg, _) = expect_err!(
        cp.create_service_linked_role()
            .aws_service_name("elasticloadbalancing.amazonaws.com")
            .custom_suffix("blue")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InvalidInput",
            "Custom suffix is not allowed for elasticloadbalancing.amazonaws.com"
        )
    );
    // The worker policy does not allow it.
    let (code, msg, status) = expect_err!(
        iam(&emu, "worker")
            .create_service_linked_role()
            .aws_service_name("elasticloadbalancing.amazonaws.com")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(msg, "User: arn:aws:sts::123456789012:assumed-role/worker/awsemu is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing because no identity-based policy allows the iam:CreateServiceLinkedRole action");

    let admin = iam(&emu, "admin");
    let scaled = admin
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .custom_suffix("blue")
        .send()
        .await
        .unwrap();
    assert_eq!(
        scaled.role().unwrap().role_name(),
        "AWSServiceRoleForAutoScaling_blue"
    );
    // Only AWS may change or delete a service-linked role.
    let (code, msg, status) = expect_err!(
        admin
            .delete_role()
            .role_name("AWSServiceRoleForElasticLoadBalancing")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "UnmodifiableEntity",
            "Cannot perform the operation on the protected role 'AWSServiceRoleForElasticLoadBalancing' - this role is only modifiable by AWS",
            400
        )
    );
    let (code, _, _) = expect_err!(
        admin
            .attach_role_policy()
            .role_name("AWSServiceRoleForElasticLoadBalancing")
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await
    );
    assert_eq!(code, "UnmodifiableEntity");
    // IAM policies see the role's full ARN, path included.
    let got = iam(&emu, "controlplane")
        .get_role()
        .role_name("AWSServiceRoleForElasticLoadBalancing")
        .send()
        .await;
    let (_, msg, _) = expect_err!(got);
    assert!(msg.contains("on resource: arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"), "{msg}");
}

#[tokio::test]
async fn assume_role_yields_sessions_held_to_the_role() {
    let emu = manual().await;
    let c = iam(&emu, "admin");
    let role = create_role(&c, "app", ACCOUNT_TRUST).await;
    c.attach_role_policy()
        .role_name("app")
        .policy_arn("arn:aws:iam::123456789012:policy/worker")
        .send()
        .await
        .unwrap();
    let out = sts(&emu, "admin")
        .assume_role()
        .role_arn(role.arn())
        .role_session_name("deploy@ci")
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.access_key_id().len(), 20);
    assert!(creds.access_key_id()[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(creds.session_token().len() > 100);
    assert_eq!(creds.expiration().secs(), START_MS / 1000 + 3600);
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/app/deploy@ci"
    );
    assert_eq!(
        user.assumed_role_id(),
        format!("{}:deploy@ci", role.role_id())
    );

    let opts = session_opts(&emu, creds);
    let me = sts_with(&emu, &opts)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some(ACCOUNT));

    // Held to the role's policies: the worker policy allows DescribeInstances only.
    let e = ec2_with(&emu, &opts);
    e.describe_instances().send().await.unwrap();
    let (code, msg, status) = expect_err!(
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert!(msg.contains("User: arn:aws:sts::123456789012:assumed-role/app/deploy@ci is not authorized to perform: ec2:CreateVolume"), "{msg}");

    // The role's policies are looked up at each call: detach, and the session loses them.
    c.detach_role_policy()
        .role_name("app")
        .policy_arn("arn:aws:iam::123456789012:policy/worker")
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(e.describe_instances().send().await);
    assert_eq!(code, "UnauthorizedOperation");
    c.put_role_policy()
        .role_name("app")
        .policy_name("ec2")
        .policy_document(EC2_ALL)
        .send()
        .await
        .unwrap();
    e.create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap();

    // GetRole notes the last use.
    let got = c.get_role().role_name("app").send().await.unwrap();
    let used = got.role().unwrap().role_last_used().unwrap();
    assert_eq!(used.region(), Some("us-east-1"));
    assert_eq!(used.last_used_date().unwrap().secs(), START_MS / 1000);

    // A deleted role's sessions hold nothing, even when a role of that name comes back.
    c.delete_role_policy()
        .role_name("app")
        .policy_name("ec2")
        .send()
        .await
        .unwrap();
    c.delete_role().role_name("app").send().await.unwrap();
    create_role(&c, "app", ACCOUNT_TRUST).await;
    c.put_role_policy()
        .role_name("app")
        .policy_name("ec2")
        .policy_document(EC2_ALL)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(e.describe_instances().send().await);
    assert_eq!(code, "UnauthorizedOperation");
}

/// The same request by the built-in worker and by a session of a role made with the documented
/// worker policy: the same answer, the principal aside.
#[tokio::test]
async fn a_role_with_the_worker_policy_behaves_like_the_built_in_worker() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    create_role(&c, "my-worker", ACCOUNT_TRUST).await;
    c.put_role_policy()
        .role_name("my-worker")
        .policy_name("worker")
        .policy_document(WORKER_POLICY)
        .send()
        .await
        .unwrap();
    let creds = assume(&emu, "admin", "my-worker", "node-1").await;
    let mine = session_opts(&emu, &creds);
    let builtin = ClientOptions::principal(&emu, "worker");
    let me = "arn:aws:sts::123456789012:assumed-role/my-worker/node-1";
    let them = "arn:aws:sts::123456789012:assumed-role/worker/awsemu";

    /// (code, status, message without the encoded part and with the principal replaced).
    fn answer<T, E>(
        r: Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::http::Response,
            >,
        >,
        principal: &str,
    ) -> (String, u16, String)
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
    {
        match r {
            Ok(_) => ("ok".into(), 200, String::new()),
            Err(e) => {
                let (code, msg, status) = client_tests::error_parts(&e);
                let msg = msg
                    .split(" Encoded authorization failure message:")
                    .next()
                    .unwrap_or_default()
                    .replace(principal, "PRINCIPAL");
                (code, status, msg)
            }
        }
    }

    let run = |opts: ClientOptions, principal: &'static str| {
        let emu = &emu;
        async move {
            let e = ec2_with(emu, &opts);
            let k = kms_with(emu, &opts);
            let i = iam_with(emu, &opts);
            vec![
                answer(e.describe_instances().send().await, principal),
                answer(e.describe_regions().send().await, principal),
                answer(e.describe_availability_zones().send().await, principal),
                answer(
                    e.create_volume()
                        .availability_zone("us-east-1a")
                        .size(1)
                        .send()
                        .await,
                    principal,
                ),
                answer(
                    e.terminate_instances()
                        .instance_ids("i-0123456789abcdef0")
                        .send()
                        .await,
                    principal,
                ),
                answer(k.describe_key().key_id("alias/x").send().await, principal),
                answer(i.get_role().role_name("worker").send().await, principal),
            ]
        }
    };
    let a = run(mine.clone(), me).await;
    let b = run(builtin.clone(), them).await;
    assert_eq!(a, b);
    assert_eq!(a[0].0, "ok");
    assert_eq!(a[1].0, "ok");
    assert_eq!(a[2].0, "UnauthorizedOperation");
    assert_eq!(a[6].0, "AccessDenied");
    assert!(a[3]
        .2
        .contains("PRINCIPAL is not authorized to perform: ec2:CreateVolume"));
}

#[tokio::test]
async fn assume_role_refusals_and_validation() {
    let emu = client_tests::start().await;
    let admin = sts(&emu, "admin");
    // The built-in roles trust EC2 only.
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("worker"))
            .role_session_name("me")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/worker",
            403
        )
    );
    // A role that does not exist is refused in the same words.
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("ghost"))
            .role_session_name("me")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ghost",
            403
        )
    );
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:saml-provider/x")
            .role_session_name("me")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        ("ValidationError", "Request ARN is invalid", 400)
    );
    // The caller's own policies are checked first: the worker may not call sts:AssumeRole.
    let c = iam(&emu, "admin");
    create_role(&c, "open", ACCOUNT_TRUST).await;
    let (code, msg, status) = expect_err!(
        sts(&emu, "worker")
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("me")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(msg, "User: arn:aws:sts::123456789012:assumed-role/worker/awsemu is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/open because no identity-based policy allows the sts:AssumeRole action");

    // Validation, all at once.
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("a b")
            .duration_seconds(600)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("ValidationError", 400));
    assert_eq!(msg, "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
    let (code, msg, _) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("x")
            .send()
            .await
    );
    assert_eq!(code, "ValidationError");
    assert!(
        msg.contains("Member must have length greater than or equal to 2"),
        "{msg}"
    );
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("me")
            .duration_seconds(7200)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            400
        )
    );
    c.update_role()
        .role_name("open")
        .max_session_duration(14400)
        .send()
        .await
        .unwrap();
    let long = admin
        .assume_role()
        .role_arn(role_arn("open"))
        .role_session_name("me")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    // Role chaining: a session of a role assuming a role gets at most an hour.
    c.put_role_policy()
        .role_name("open")
        .policy_name("assume")
        .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#)
        .send()
        .await
        .unwrap();
    let chained = sts_with(&emu, &session_opts(&emu, long.credentials().unwrap()));
    let (code, msg, _) = expect_err!(
        chained
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("again")
            .duration_seconds(7200)
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    );
    let again = chained
        .assume_role()
        .role_arn(role_arn("open"))
        .role_session_name("again")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/open/again"
    );

    // Session policies are refused openly rather than ignored.
    let (code, msg, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("open"))
            .role_session_name("me")
            .policy(EC2_ALL)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("NotImplemented", 501));
    assert!(msg.contains("Policy"), "{msg}");
}

#[tokio::test]
async fn trust_policy_conditions_see_the_external_id_and_principals() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    create_role(
        &c,
        "partner",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}]}"#,
    )
    .await;
    let admin = sts(&emu, "admin");
    let (code, _, status) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("partner"))
            .role_session_name("me")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _, _) = expect_err!(
        admin
            .assume_role()
            .role_arn(role_arn("partner"))
            .role_session_name("me")
            .external_id("wrong")
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    admin
        .assume_role()
        .role_arn(role_arn("partner"))
        .role_session_name("me")
        .external_id("s3cret")
        .send()
        .await
        .unwrap();
    // Only the named user is trusted: a session of another role is refused by the trust policy
    // even though its own policies allow everything.
    create_role(&c, "helper", ACCOUNT_TRUST).await;
    c.attach_role_policy()
        .role_name("helper")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    let helper = assume(&emu, "admin", "helper", "h1").await;
    let (code, msg, _) = expect_err!(
        sts_with(&emu, &session_opts(&emu, &helper))
            .assume_role()
            .role_arn(role_arn("partner"))
            .role_session_name("me")
            .external_id("s3cret")
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(msg, "User: arn:aws:sts::123456789012:assumed-role/helper/h1 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/partner");
}

#[tokio::test]
async fn temporary_credentials_expire_on_the_virtual_clock() {
    let emu = manual().await;
    create_role(&iam(&emu, "admin"), "short", ACCOUNT_TRUST).await;
    let creds = sts(&emu, "admin")
        .assume_role()
        .role_arn(role_arn("short"))
        .role_session_name("brief")
        .duration_seconds(900)
        .send()
        .await
        .unwrap()
        .credentials()
        .cloned()
        .unwrap();
    assert_eq!(creds.expiration().secs(), START_MS / 1000 + 900);
    let opts = session_opts(&emu, &creds);
    let s = sts_with(&emu, &opts);
    s.get_caller_identity().send().await.unwrap();
    emu.advance(Duration::from_secs(899));
    s.get_caller_identity().send().await.unwrap();
    emu.advance(Duration::from_secs(1));
    let (code, msg, status) = expect_err!(s.get_caller_identity().send().await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "ExpiredToken",
            "The security token included in the request is expired",
            403
        )
    );
    let (code, msg, status) = expect_err!(iam_with(&emu, &opts).list_roles().send().await);
    assert_eq!((code.as_str(), status), ("ExpiredToken", 403), "{msg}");
    let (code, _, status) = expect_err!(kms_with(&emu, &opts).list_keys().send().await);
    assert_eq!((code.as_str(), status), ("ExpiredTokenException", 400));
    let (code, _, _) = expect_err!(ec2_with(&emu, &opts).describe_regions().send().await);
    assert_eq!(code, "RequestExpired");
    // A token that is not the key's is an unknown key, not an expired one.
    let mut wrong = opts.clone();
    wrong.session_token = Some("IQoJb3JpZ2luX2VjEnot-the-token".into());
    let (code, _, status) = expect_err!(sts_with(&emu, &wrong).get_caller_identity().send().await);
    assert_eq!((code.as_str(), status), ("InvalidClientTokenId", 403));
}

#[tokio::test]
async fn run_instances_attaches_stored_instance_profiles() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    let e = ec2(&emu, "admin");
    let worker = c
        .get_instance_profile()
        .instance_profile_name("worker")
        .send()
        .await
        .unwrap()
        .instance_profile()
        .cloned()
        .unwrap();
    let spec = |name: Option<&str>, arn: Option<&str>| {
        IamInstanceProfileSpecification::builder()
            .set_name(name.map(str::to_string))
            .set_arn(arn.map(str::to_string))
            .build()
    };
    let run = |p: IamInstanceProfileSpecification| {
        e.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(p)
            .send()
    };
    let by_name = run(spec(Some("WORKER"), None)).await.unwrap();
    let profile = by_name.instances()[0].iam_instance_profile().unwrap();
    assert_eq!(profile.arn(), Some(worker.arn()));
    assert_eq!(profile.id(), Some(worker.instance_profile_id()));

    c.create_instance_profile()
        .instance_profile_name("nodes")
        .path("/k8s/")
        .send()
        .await
        .unwrap();
    let nodes_arn = "arn:aws:iam::123456789012:instance-profile/k8s/nodes";
    let by_arn = run(spec(None, Some(nodes_arn))).await.unwrap();
    let id = by_arn.instances()[0].instance_id().unwrap().to_string();
    let described = e
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let shown = described.reservations()[0].instances()[0]
        .iam_instance_profile()
        .unwrap();
    assert_eq!(shown.arn(), Some(nodes_arn));
    assert!(shown.id().unwrap().starts_with("AIPA"));
    let filtered = e
        .describe_instances()
        .filters(
            Filter::builder()
                .name("iam-instance-profile.arn")
                .values(nodes_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.reservations().len(), 1);
    assert_eq!(
        filtered.reservations()[0].instances()[0].instance_id(),
        Some(id.as_str())
    );

    let (code, msg, status) = expect_err!(run(spec(Some("ghost"), None)).await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "InvalidParameterValue",
            "Value (ghost) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            400
        )
    );
    let ghost = "arn:aws:iam::123456789012:instance-profile/ghost";
    let (code, msg, _) = expect_err!(run(spec(None, Some(ghost))).await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InvalidParameterValue",
            "Value (arn:aws:iam::123456789012:instance-profile/ghost) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
        )
    );
    // The ARN must be the profile's own, path included.
    let (code, _, _) = expect_err!(
        run(spec(
            None,
            Some("arn:aws:iam::123456789012:instance-profile/nodes")
        ))
        .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, msg, _) = expect_err!(run(spec(Some("worker"), Some(worker.arn()))).await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InvalidParameterCombination",
            "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'"
        )
    );
}

#[tokio::test]
async fn passing_a_role_needs_iam_pass_role() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    create_role(&c, "launcher", ACCOUNT_TRUST).await;
    c.put_role_policy()
        .role_name("launcher")
        .policy_name("launch")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","iam:CreateInstanceProfile","iam:AddRoleToInstanceProfile"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let creds = assume(&emu, "admin", "launcher", "l1").await;
    let opts = session_opts(&emu, &creds);
    let e = ec2_with(&emu, &opts);
    let launch = |name: &str| {
        e.run_instances()
            .image_id(AMI)
            .min_count(1)
            .max_count(1)
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(name)
                    .build(),
            )
            .send()
    };
    let (code, msg, status) = expect_err!(launch("worker").await);
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert!(msg.starts_with("You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/launcher/l1 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/worker because no identity-based policy allows the iam:PassRole action. Encoded authorization failure message: "), "{msg}");
    assert!(e
        .describe_instances()
        .send()
        .await
        .unwrap()
        .reservations()
        .is_empty());

    let i = iam_with(&emu, &opts);
    i.create_instance_profile()
        .instance_profile_name("mine")
        .send()
        .await
        .unwrap();
    let (code, msg, status) = expect_err!(
        i.add_role_to_instance_profile()
            .instance_profile_name("mine")
            .role_name("worker")
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(msg, "User: arn:aws:sts::123456789012:assumed-role/launcher/l1 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/worker because no identity-based policy allows the iam:PassRole action");
    // A profile without a role passes nothing.
    launch("mine").await.unwrap();

    c.put_role_policy()
        .role_name("launcher")
        .policy_name("pass")
        .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/worker"}}"#)
        .send()
        .await
        .unwrap();
    launch("worker").await.unwrap();
}

#[tokio::test]
async fn reset_forgets_what_the_api_made() {
    let emu = client_tests::start().await;
    let c = iam(&emu, "admin");
    create_role(&c, "temp", ACCOUNT_TRUST).await;
    let creds = assume(&emu, "admin", "temp", "s1").await;
    emu.reset().unwrap();
    let (code, _, _) = expect_err!(c.get_role().role_name("temp").send().await);
    assert_eq!(code, "NoSuchEntity");
    c.get_role().role_name("worker").send().await.unwrap();
    let (code, _, _) = expect_err!(
        sts_with(&emu, &session_opts(&emu, &creds))
            .get_caller_identity()
            .send()
            .await
    );
    assert_eq!(code, "InvalidClientTokenId");
}

#[tokio::test]
async fn audit_mode_records_trust_and_pass_role_refusals() {
    let emu = Emulator::builder()
        .seed(1)
        .iam(awsemu::IamMode::Audit)
        .start()
        .await
        .unwrap();
    // The worker role trusts EC2 only: the admin's AssumeRole goes through and is recorded.
    let out = sts(&emu, "admin")
        .assume_role()
        .role_arn(role_arn("worker"))
        .role_session_name("audited")
        .send()
        .await
        .unwrap();
    let opts = session_opts(&emu, out.credentials().unwrap());
    // The worker policy lacks ec2:RunInstances and iam:PassRole: both recorded, the launch made.
    ec2_with(&emu, &opts)
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name("worker")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let report = emu.instance().current().audit.report();
    let seen: Vec<(String, String, String)> = report
        .iter()
        .map(|r| (r.principal.clone(), r.action.clone(), r.resource.clone()))
        .collect();
    assert!(
        seen.contains(&(
            "arn:aws:iam::123456789012:user/admin".into(),
            "sts:AssumeRole".into(),
            role_arn("worker")
        )),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(
            "arn:aws:sts::123456789012:assumed-role/worker/audited".into(),
            "iam:PassRole".into(),
            role_arn("worker")
        )),
        "{seen:?}"
    );
    // A role that does not exist cannot be assumed in any mode.
    let (code, _, _) = expect_err!(
        sts(&emu, "admin")
            .assume_role()
            .role_arn(role_arn("ghost"))
            .role_session_name("audited")
            .send()
            .await
    );
    assert_eq!(code, "AccessDenied");
}
