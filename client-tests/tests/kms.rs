//! KMS through aws-sdk-kms: keys, aliases, the key state machine (disable, enable, scheduled
//! deletion and its end on the virtual clock), AWS managed keys, every error code KMS answers
//! here; and the EBS side through aws-sdk-ec2: an encrypted volume with an unusable key shows
//! `creating` and then disappears, one with a usable key becomes `available` with the key's ARN;
//! a key the caller may not use (key policy and IAM policies, as KMS combines them) is as
//! unusable, for CreateVolume and for RunInstances (the instance terminates on launch).

use std::time::Duration;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, InstanceStateName, Placement, VolumeState,
};
use aws_sdk_kms::primitives::DateTime;
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, KeyUsageType, Tag};
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, expect_err, kms, ClientOptions};

const ACCOUNT: &str = "123456789012";
const START_MS: i64 = 1_800_000_000_000;

fn arn_prefix() -> String {
    format!("arn:aws:kms:us-east-1:{ACCOUNT}:")
}

async fn manual() -> Emulator {
    Emulator::builder()
        .seed(7)
        .manual_clock(START_MS)
        .start()
        .await
        .expect("the emulator starts")
}

async fn new_key(c: &aws_sdk_kms::Client) -> (String, String) {
    let m = c.create_key().send().await.unwrap().key_metadata.unwrap();
    (m.key_id, m.arn.unwrap())
}

#[tokio::test]
async fn create_key_and_describe_it_by_every_kind_of_reference() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let out = c
        .create_key()
        .description("etcd backups")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("infra")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let m = out.key_metadata().unwrap();
    let id = m.key_id().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(m.arn(), Some(format!("{}key/{id}", arn_prefix()).as_str()));
    assert_eq!(m.aws_account_id(), Some(ACCOUNT));
    assert_eq!(m.description(), Some("etcd backups"));
    assert!(m.enabled());
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(m.multi_region(), Some(false));
    assert_eq!(m.creation_date(), Some(&DateTime::from_millis(START_MS)));
    assert_eq!(
        m.encryption_algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["SYMMETRIC_DEFAULT"]
    );
    assert!(m.deletion_date().is_none());

    c.create_alias()
        .alias_name("alias/etcd")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let arn = m.arn().unwrap().to_string();
    for reference in [
        id.clone(),
        arn.clone(),
        "alias/etcd".to_string(),
        format!("{}alias/etcd", arn_prefix()),
    ] {
        let d = c.describe_key().key_id(&reference).send().await.unwrap();
        let d = d.key_metadata().unwrap();
        assert_eq!(d.key_id(), id, "{reference}");
        assert_eq!(d.arn(), Some(arn.as_str()), "{reference}");
    }

    // Other key shapes: an asymmetric signing key, an HMAC key, a multi-Region key.
    let rsa = c
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let rsa = rsa.key_metadata().unwrap();
    assert!(rsa
        .signing_algorithms()
        .iter()
        .any(|a| a.as_str() == "RSASSA_PSS_SHA_256"));
    assert!(rsa.encryption_algorithms().is_empty());
    let hmac = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hmac.key_metadata().unwrap().mac_algorithms()[0].as_str(),
        "HMAC_SHA_256"
    );
    let mrk = c.create_key().multi_region(true).send().await.unwrap();
    let mrk = mrk.key_metadata().unwrap();
    assert!(mrk.key_id().starts_with("mrk-") && mrk.key_id().len() == 36);
    assert_eq!(mrk.multi_region(), Some(true));

    let keys = c.list_keys().send().await.unwrap();
    assert_eq!(keys.keys().len(), 4);
    assert!(!keys.truncated());
    assert!(keys
        .keys()
        .iter()
        .any(|k| k.key_id() == Some(id.as_str()) && k.key_arn() == Some(arn.as_str())));
    let first = c.list_keys().limit(3).send().await.unwrap();
    assert_eq!(first.keys().len(), 3);
    assert!(first.truncated());
    let rest = c
        .list_keys()
        .marker(first.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.keys().len(), 1);
    assert!(!rest.truncated() && rest.next_marker().is_none());
    let (code, _, status) = expect_err!(c.list_keys().marker("garbage").send().await);
    assert_eq!((code.as_str(), status), ("InvalidMarkerException", 400));
    let (code, msg, _) = expect_err!(c.list_keys().limit(0).send().await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("at 'limit'"), "{msg}");
}

#[tokio::test]
async fn describe_key_errors_say_what_aws_says() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let missing = "0f0e0d0c-0b0a-4909-8807-060504030201";
    let cases = [
        (
            missing.to_string(),
            format!("Key '{}key/{missing}' does not exist", arn_prefix()),
        ),
        (
            format!("{}key/{missing}", arn_prefix()),
            format!("Key '{}key/{missing}' does not exist", arn_prefix()),
        ),
        (
            "fake-key-id".to_string(),
            "Invalid keyId 'fake-key-id'".to_string(),
        ),
        (
            "134f2428cec14b25a1ae9048164dba47".to_string(),
            "Invalid keyId '134f2428cec14b25a1ae9048164dba47'".to_string(),
        ),
        (
            "alias/nothing".to_string(),
            format!("Alias {}alias/nothing is not found.", arn_prefix()),
        ),
        (
            format!("arn:aws:kms:us-west-2:{ACCOUNT}:key/{missing}"),
            "Invalid arn us-west-2".to_string(),
        ),
    ];
    for (reference, want) in cases {
        let (code, msg, status) = expect_err!(c.describe_key().key_id(&reference).send().await);
        assert_eq!(
            (code.as_str(), msg.as_str(), status),
            ("NotFoundException", want.as_str(), 400),
            "{reference}"
        );
    }
    let (code, _, _) = expect_err!(c.describe_key().key_id("arn:aws:s3:::bucket").send().await);
    assert_eq!(code, "InvalidArnException");
    let (code, msg, _) = expect_err!(c.describe_key().send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        msg.contains("'keyId'") && msg.contains("must not be null"),
        "{msg}"
    );
    // A key of another region is not found in this one.
    let (id, _) = new_key(&c).await;
    let west = client_tests::kms_with(
        &emu,
        &client_tests::ClientOptions::principal(&emu, "admin").region("us-west-2"),
    );
    let (code, msg, _) = expect_err!(west.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        msg,
        format!("Key 'arn:aws:kms:us-west-2:{ACCOUNT}:key/{id}' does not exist")
    );
}

#[tokio::test]
async fn create_key_validates_its_input() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let (code, msg, _) = expect_err!(c.create_key().key_spec(KeySpec::Rsa2048).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        msg,
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    );
    let (code, msg, _) = expect_err!(
        c.create_key()
            .key_spec(KeySpec::Hmac256)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .send()
            .await
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        msg,
        "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_256"
    );
    let (code, msg, _) = expect_err!(
        c.create_key()
            .key_usage(KeyUsageType::from("RANDOM"))
            .send()
            .await
    );
    assert_eq!(code, "ValidationException");
    assert!(
        msg.starts_with("1 validation error detected: Value 'RANDOM' at 'keyUsage'"),
        "{msg}"
    );
    let tag = |k: &str| Tag::builder().tag_key(k).tag_value("v").build().unwrap();
    let (code, msg, _) = expect_err!(c.create_key().tags(tag("aws:x")).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("TagException", "Tags beginning with aws: are reserved")
    );
    let (code, msg, _) = expect_err!(c.create_key().tags(tag("a")).tags(tag("a")).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("TagException", "Duplicate tag keys")
    );
    let (code, _, _) = expect_err!(c.create_key().policy("{\"Statement\": 5}").send().await);
    assert_eq!(code, "MalformedPolicyDocumentException");
    // The lockout safety check: a policy that would not let the caller manage the key.
    let someone_else = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/someone-else"},"Action":"kms:*","Resource":"*"}]}"#;
    let (code, msg, _) = expect_err!(c.create_key().policy(someone_else).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "MalformedPolicyDocumentException",
            "The new key policy will not allow you to update the key policy in the future."
        )
    );
    c.create_key()
        .policy(someone_else)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .expect("the check can be bypassed");
    let account_wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;
    c.create_key().policy(account_wide).send().await.unwrap();
    let (code, _, status) = expect_err!(c.create_key().description("x".repeat(8193)).send().await);
    assert_eq!((code.as_str(), status), ("ValidationException", 400));
    assert_eq!(
        c.list_keys().send().await.unwrap().keys().len(),
        2,
        "only the two accepted keys were made"
    );
}

#[tokio::test]
async fn aliases_list_filter_page_and_delete() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let (a, a_arn) = new_key(&c).await;
    let (b, _) = new_key(&c).await;
    for (name, key) in [
        ("alias/app-1", &a),
        ("alias/app-2", &a_arn),
        ("alias/other", &b),
    ] {
        c.create_alias()
            .alias_name(name)
            .target_key_id(key.as_str())
            .send()
            .await
            .unwrap();
    }
    let all = c.list_aliases().send().await.unwrap();
    let names: Vec<&str> = all
        .aliases()
        .iter()
        .filter_map(|x| x.alias_name())
        .collect();
    assert!(names.contains(&"alias/app-1") && names.contains(&"alias/other"));
    // The predefined AWS aliases are there without a target until first used.
    let ebs = all
        .aliases()
        .iter()
        .find(|x| x.alias_name() == Some("alias/aws/ebs"))
        .expect("alias/aws/ebs is predefined");
    assert!(ebs.target_key_id().is_none());
    assert_eq!(
        ebs.alias_arn(),
        Some(format!("{}alias/aws/ebs", arn_prefix()).as_str())
    );
    let app = all
        .aliases()
        .iter()
        .find(|x| x.alias_name() == Some("alias/app-2"))
        .unwrap();
    assert_eq!(
        app.target_key_id(),
        Some(a.as_str()),
        "a key ARN target is stored as the key id"
    );
    assert_eq!(app.creation_date(), Some(&DateTime::from_millis(START_MS)));

    let of_a = c.list_aliases().key_id(&a).send().await.unwrap();
    assert_eq!(
        of_a.aliases()
            .iter()
            .filter_map(|x| x.alias_name())
            .collect::<Vec<_>>(),
        vec!["alias/app-1", "alias/app-2"]
    );
    let page = c.list_aliases().limit(2).send().await.unwrap();
    assert_eq!(page.aliases().len(), 2);
    assert!(page.truncated());
    let next = c
        .list_aliases()
        .limit(2)
        .marker(page.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(
        page.aliases()[0].alias_name(),
        next.aliases()[0].alias_name()
    );

    c.delete_alias()
        .alias_name("alias/app-1")
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(c.delete_alias().alias_name("alias/app-1").send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        msg,
        format!("Alias {}alias/app-1 is not found.", arn_prefix())
    );
    let (code, _, _) = expect_err!(c.describe_key().key_id("alias/app-1").send().await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn create_alias_errors() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let (id, _) = new_key(&c).await;
    c.create_alias()
        .alias_name("alias/taken")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let try_alias = |name: &str, target: &str| {
        c.create_alias()
            .alias_name(name)
            .target_key_id(target)
            .send()
    };
    let (code, msg, status) = expect_err!(try_alias("alias/taken", &id).await);
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "AlreadyExistsException",
            format!(
                "An alias with the name {}alias/taken already exists",
                arn_prefix()
            )
            .as_str(),
            400
        )
    );
    let (code, msg, _) = expect_err!(try_alias("taken2", &id).await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        msg,
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
    );
    let (code, msg, _) = expect_err!(try_alias("alias/has space", &id).await);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("regular expression pattern"), "{msg}");
    let (code, _, _) = expect_err!(try_alias("alias/aws/mine", &id).await);
    assert_eq!(code, "NotAuthorizedException");
    let (code, msg, _) = expect_err!(try_alias("alias/x", "alias/taken").await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("NotFoundException", "Invalid keyId 'alias/taken'")
    );
    let missing = "0f0e0d0c-0b0a-4909-8807-060504030201";
    let (code, msg, _) = expect_err!(try_alias("alias/x", missing).await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        msg,
        format!("Key '{}key/{missing}' does not exist", arn_prefix())
    );
    let (code, _, _) = expect_err!(c.create_alias().alias_name("alias/x").send().await);
    assert_eq!(code, "ValidationException");
    // None of the refused calls made an alias.
    let names: Vec<String> = c
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name().map(str::to_string))
        .filter(|n| !n.starts_with("alias/aws/"))
        .collect();
    assert_eq!(names, vec!["alias/taken"]);
}

#[tokio::test]
async fn key_state_machine_and_deletion_on_the_virtual_clock() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    let (id, arn) = new_key(&c).await;
    c.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let state = |m: &aws_sdk_kms::types::KeyMetadata| (m.enabled(), m.key_state().cloned());
    c.disable_key().key_id(&id).send().await.unwrap();
    c.disable_key().key_id(&id).send().await.unwrap();
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        state(d.key_metadata().unwrap()),
        (false, Some(KeyState::Disabled))
    );
    c.enable_key().key_id(&arn).send().await.unwrap();
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        state(d.key_metadata().unwrap()),
        (true, Some(KeyState::Enabled))
    );
    // Key operations take a key id or key ARN, not an alias.
    let (code, msg, _) = expect_err!(c.disable_key().key_id("alias/doomed").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("NotFoundException", "Invalid keyId 'alias/doomed'")
    );

    // The window: 7 to 30 days.
    for (days, fragment) in [
        (5, "PendingWindowInDays must be between 7 and 30"),
        (31, "PendingWindowInDays must be between 7 and 30"),
        (400, "Member must have value less than or equal to 365"),
    ] {
        let (code, msg, _) = expect_err!(
            c.schedule_key_deletion()
                .key_id(&id)
                .pending_window_in_days(days)
                .send()
                .await
        );
        assert_eq!(code, "ValidationException", "{days}");
        assert!(msg.contains(fragment), "{days}: {msg}");
    }
    let s = c.schedule_key_deletion().key_id(&id).send().await.unwrap();
    assert_eq!(s.key_id(), Some(arn.as_str()));
    assert_eq!(s.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(s.pending_window_in_days(), Some(30));
    assert_eq!(
        s.deletion_date(),
        Some(&DateTime::from_millis(START_MS + 30 * 86_400_000))
    );
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    let m = d.key_metadata().unwrap();
    assert_eq!(state(m), (false, Some(KeyState::PendingDeletion)));
    assert_eq!(m.deletion_date(), s.deletion_date());

    let pending = format!("{arn} is pending deletion.");
    for (what, result) in [
        (
            "enable",
            c.enable_key()
                .key_id(&id)
                .send()
                .await
                .err()
                .map(|e| client_tests::error_parts(&e)),
        ),
        (
            "disable",
            c.disable_key()
                .key_id(&id)
                .send()
                .await
                .err()
                .map(|e| client_tests::error_parts(&e)),
        ),
        (
            "schedule again",
            c.schedule_key_deletion()
                .key_id(&id)
                .send()
                .await
                .err()
                .map(|e| client_tests::error_parts(&e)),
        ),
        (
            "alias",
            c.create_alias()
                .alias_name("alias/late")
                .target_key_id(&id)
                .send()
                .await
                .err()
                .map(|e| client_tests::error_parts(&e)),
        ),
    ] {
        let (code, msg, status) = result.unwrap_or_else(|| panic!("{what} succeeded"));
        assert_eq!(
            (code.as_str(), msg.as_str(), status),
            ("KMSInvalidStateException", pending.as_str(), 400),
            "{what}"
        );
    }

    // Cancelling leaves the key disabled; scheduling again with the shortest window, then the
    // window passes: the key and its aliases are gone.
    let cancelled = c.cancel_key_deletion().key_id(&id).send().await.unwrap();
    assert_eq!(cancelled.key_id(), Some(arn.as_str()));
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        state(d.key_metadata().unwrap()),
        (false, Some(KeyState::Disabled))
    );
    assert!(d.key_metadata().unwrap().deletion_date().is_none());
    let (code, _, _) = expect_err!(c.cancel_key_deletion().key_id(&id).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    emu.advance(Duration::from_secs(7 * 86_400 - 1));
    assert!(c.describe_key().key_id(&id).send().await.is_ok(), "not yet");
    emu.advance(Duration::from_secs(1));
    let (code, msg, _) = expect_err!(c.describe_key().key_id(&id).send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "NotFoundException",
            format!("Key '{arn}' does not exist").as_str()
        )
    );
    let (code, _, _) = expect_err!(c.describe_key().key_id("alias/doomed").send().await);
    assert_eq!(code, "NotFoundException");
    assert!(c.list_keys().send().await.unwrap().keys().is_empty());
}

#[tokio::test]
async fn aws_managed_keys_are_made_on_first_use_and_cannot_be_managed() {
    let emu = manual().await;
    let c = kms(&emu, "admin");
    assert!(c.list_keys().send().await.unwrap().keys().is_empty());
    let d = c
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .unwrap();
    let m = d.key_metadata().unwrap();
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    let again = c
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.key_metadata().unwrap().key_id(),
        m.key_id(),
        "created once"
    );
    let listed = c.list_aliases().key_id(m.key_id()).send().await.unwrap();
    assert_eq!(listed.aliases()[0].alias_name(), Some("alias/aws/ebs"));
    assert_eq!(listed.aliases()[0].target_key_id(), Some(m.key_id()));
    let (code, msg, _) = expect_err!(c.disable_key().key_id(m.key_id()).send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(msg.contains("kms:DisableKey"), "{msg}");
    let (code, _, _) = expect_err!(c.schedule_key_deletion().key_id(m.key_id()).send().await);
    assert_eq!(code, "AccessDeniedException");
    let (code, _, _) = expect_err!(c.delete_alias().alias_name("alias/aws/ebs").send().await);
    assert_eq!(code, "NotAuthorizedException");
}

#[tokio::test]
async fn the_worker_role_may_not_manage_keys() {
    let emu = manual().await;
    let (code, msg, status) = expect_err!(kms(&emu, "worker").create_key().send().await);
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert!(msg.contains("kms:CreateKey"), "{msg}");
}

// --- EBS and KMS together ---

async fn encrypted_volume(
    c: &aws_sdk_ec2::Client,
    key: Option<&str>,
) -> aws_sdk_ec2::operation::create_volume::CreateVolumeOutput {
    c.create_volume()
        .availability_zone("us-east-1a")
        .size(10)
        .encrypted(true)
        .set_kms_key_id(key.map(str::to_string))
        .send()
        .await
        .expect("CreateVolume answers even when the key is unusable")
}

#[tokio::test]
async fn encrypted_volumes_with_unusable_keys_show_creating_then_disappear() {
    let emu = manual().await;
    let k = kms(&emu, "admin");
    let e = ec2(&emu, "admin");
    let (disabled, disabled_arn) = new_key(&k).await;
    k.disable_key().key_id(&disabled).send().await.unwrap();
    let (doomed, _) = new_key(&k).await;
    k.schedule_key_deletion()
        .key_id(&doomed)
        .send()
        .await
        .unwrap();
    let asym = k
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    k.create_alias()
        .alias_name("alias/off")
        .target_key_id(&disabled)
        .send()
        .await
        .unwrap();
    let missing = "0f0e0d0c-0b0a-4909-8807-060504030201".to_string();
    let references = [
        disabled.clone(),
        disabled_arn.clone(),
        "alias/off".to_string(),
        doomed,
        asym,
        missing.clone(),
        "alias/no-such-alias".to_string(),
        "my-fake-kms-key-asdf".to_string(),
    ];
    for reference in &references {
        let v = encrypted_volume(&e, Some(reference)).await;
        assert_eq!(v.state(), Some(&VolumeState::Creating), "{reference}");
        assert_eq!(v.encrypted(), Some(true));
        let id = v.volume_id().unwrap();
        let (code, msg, status) = expect_err!(e.describe_volumes().volume_ids(id).send().await);
        assert_eq!(
            (code.as_str(), msg.as_str(), status),
            (
                "InvalidVolume.NotFound",
                format!("The volume '{id}' does not exist.").as_str(),
                400
            ),
            "{reference}"
        );
        assert!(
            !client_tests::fixtures::volume_ids(&e)
                .await
                .contains(&id.to_string()),
            "{reference}"
        );
    }
    // The answer shows the key ARN when the reference resolved, else the reference as given.
    let v = encrypted_volume(&e, Some("alias/off")).await;
    assert_eq!(v.kms_key_id(), Some(disabled_arn.as_str()));
    let v = encrypted_volume(&e, Some(&missing)).await;
    assert_eq!(v.kms_key_id(), Some(missing.as_str()));
}

#[tokio::test]
async fn a_failing_volume_stays_creating_while_creation_lasts() {
    let emu = Emulator::builder()
        .seed(3)
        .timing(Timing::Realistic)
        .manual_clock(START_MS)
        .start()
        .await
        .unwrap();
    let k = kms(&emu, "admin");
    let e = ec2(&emu, "admin");
    let (key, _) = new_key(&k).await;
    k.disable_key().key_id(&key).send().await.unwrap();
    let bad = encrypted_volume(&e, Some(&key)).await;
    let bad = bad.volume_id().unwrap().to_string();
    k.enable_key().key_id(&key).send().await.unwrap();
    let good = encrypted_volume(&e, Some(&key)).await;
    let good = good.volume_id().unwrap().to_string();
    let seen = e.describe_volumes().volume_ids(&bad).send().await.unwrap();
    assert_eq!(seen.volumes()[0].state(), Some(&VolumeState::Creating));
    emu.advance(Duration::from_secs(60));
    let (code, _, _) = expect_err!(e.describe_volumes().volume_ids(&bad).send().await);
    assert_eq!(code, "InvalidVolume.NotFound");
    let ok = e.describe_volumes().volume_ids(&good).send().await.unwrap();
    assert_eq!(ok.volumes()[0].state(), Some(&VolumeState::Available));
    assert_eq!(client_tests::fixtures::volume_ids(&e).await, vec![good]);
    // Re-enabling the key does not bring the failed volume back.
    let (code, _, _) = expect_err!(e.delete_volume().volume_id(&bad).send().await);
    assert_eq!(code, "InvalidVolume.NotFound");
}

#[tokio::test]
async fn encrypted_volumes_with_usable_keys_become_available_with_the_key_arn() {
    let emu = manual().await;
    let k = kms(&emu, "admin");
    let e = ec2(&emu, "admin");
    let (id, arn) = new_key(&k).await;
    k.create_alias()
        .alias_name("alias/ebs-data")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    for reference in [
        id.clone(),
        arn.clone(),
        "alias/ebs-data".to_string(),
        format!("{}alias/ebs-data", arn_prefix()),
    ] {
        let v = encrypted_volume(&e, Some(&reference)).await;
        assert_eq!(v.state(), Some(&VolumeState::Creating));
        assert_eq!(v.kms_key_id(), Some(arn.as_str()), "{reference}");
        let vid = v.volume_id().unwrap();
        let d = e.describe_volumes().volume_ids(vid).send().await.unwrap();
        let vol = &d.volumes()[0];
        assert_eq!(vol.state(), Some(&VolumeState::Available), "{reference}");
        assert_eq!(vol.kms_key_id(), Some(arn.as_str()));
        assert_eq!(vol.encrypted(), Some(true));
    }
    // Without a key id, EBS uses (and creates) the AWS managed key alias/aws/ebs.
    let v = encrypted_volume(&e, None).await;
    let managed = k
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .unwrap();
    let managed = managed.key_metadata().unwrap();
    assert_eq!(v.kms_key_id(), managed.arn());
    assert_eq!(managed.key_manager(), Some(&KeyManagerType::Aws));
    let d = e
        .describe_volumes()
        .volume_ids(v.volume_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.volumes()[0].state(), Some(&VolumeState::Available));
    // The same managed key the next time.
    let v2 = encrypted_volume(&e, Some("alias/aws/ebs")).await;
    assert_eq!(v2.kms_key_id(), managed.arn());
    // Unencrypted volumes carry no key.
    let plain = e
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap();
    assert!(plain.kms_key_id().is_none());
    assert_eq!(plain.encrypted(), Some(false));
}

// --- Who may use a key for EBS: the key policy and the caller's IAM policies ---

const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// EC2 without any KMS permission.
const EC2_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

/// The KMS statements the EBS CSI driver documents for a customer managed key.
const CSI_KMS: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*",
     "Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}},
    {"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}"#;

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// An EC2 client signing as a session of a new role `name` with the given inline policies.
async fn role_session(
    emu: &Emulator,
    name: &str,
    policies: &[(&str, &str)],
) -> aws_sdk_ec2::Client {
    let i = client_tests::iam(emu, "admin");
    i.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST_ACCOUNT)
        .send()
        .await
        .expect("create role");
    for (policy, doc) in policies {
        put_policy(emu, name, policy, doc).await;
    }
    let c = client_tests::sts(emu, "admin")
        .assume_role()
        .role_arn(role_arn(name))
        .role_session_name("ebs")
        .send()
        .await
        .expect("assume role")
        .credentials
        .expect("credentials");
    let mut o = ClientOptions::keys(emu, c.access_key_id(), c.secret_access_key());
    o.session_token = Some(c.session_token().to_string());
    ec2_with(emu, &o)
}

async fn put_policy(emu: &Emulator, role: &str, policy: &str, doc: &str) {
    client_tests::iam(emu, "admin")
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(doc)
        .send()
        .await
        .expect("put role policy");
}

/// Creates an encrypted volume (answered `creating`) and tells what DescribeVolumes sees of it
/// next: its state, or the error code.
async fn fate(c: &aws_sdk_ec2::Client, key: Option<&str>) -> Result<VolumeState, String> {
    let v = encrypted_volume(c, key).await;
    assert_eq!(v.state(), Some(&VolumeState::Creating));
    let id = v.volume_id().unwrap();
    match c.describe_volumes().volume_ids(id).send().await {
        Ok(d) => Ok(d.volumes()[0].state().cloned().unwrap()),
        Err(e) => {
            let (code, msg, _) = client_tests::error_parts(&e);
            assert_eq!(msg, format!("The volume '{id}' does not exist."));
            Err(code)
        }
    }
}

/// What [`fate`] answers for a volume that disappeared.
fn lost() -> Result<VolumeState, String> {
    Err("InvalidVolume.NotFound".to_string())
}

async fn key_with_policy(k: &aws_sdk_kms::Client, policy: &str) -> (String, String) {
    let m = k
        .create_key()
        .policy(policy)
        .send()
        .await
        .expect("create key with a policy")
        .key_metadata
        .unwrap();
    (m.key_id, m.arn.unwrap())
}

/// A key policy that gives the admin user the key and `extra` statements, with no statement for
/// the account: IAM policies do not count for this key.
fn key_policy_without_root(extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"Admin","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/admin"}},"Action":"kms:*","Resource":"*"}}{extra}]}}"#
    )
}

#[tokio::test]
async fn a_customer_managed_key_needs_the_callers_kms_permissions_under_the_default_key_policy() {
    let emu = manual().await;
    let k = kms(&emu, "admin");
    let (key, arn) = new_key(&k).await;
    let c = role_session(&emu, "csi", &[("ec2", EC2_ONLY)]).await;
    // ec2:CreateVolume is allowed, so the call answers; EBS then cannot use the key.
    assert_eq!(fate(&c, Some(&key)).await, lost());
    assert_eq!(fate(&c, Some(&arn)).await, lost());
    // The AWS managed key needs no KMS permission: its key policy lets every principal of the
    // account use it through EC2.
    assert_eq!(fate(&c, None).await, Ok(VolumeState::Available));
    assert_eq!(
        fate(&c, Some("alias/aws/ebs")).await,
        Ok(VolumeState::Available)
    );
    // The default key policy hands the decision to IAM: the CSI driver's KMS statements do it.
    put_policy(&emu, "csi", "kms", CSI_KMS).await;
    assert_eq!(fate(&c, Some(&key)).await, Ok(VolumeState::Available));
    // Every request EBS makes counts: without kms:CreateGrant the volume is lost again.
    put_policy(
        &emu,
        "csi",
        "kms",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}"#,
    )
    .await;
    assert_eq!(fate(&c, Some(&key)).await, lost());
    // EBS calls KMS through EC2 in the volume's region, for the caller's account, with a grant
    // for an AWS resource bound to the volume's id: conditions on those hold.
    let via = |region: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:CreateGrant","kms:Decrypt","kms:GenerateDataKeyWithoutPlaintext","kms:DescribeKey"],"Resource":"{arn}",
            "Condition":{{"StringEquals":{{"kms:ViaService":"ec2.{region}.amazonaws.com","kms:CallerAccount":"{ACCOUNT}"}},
              "StringLikeIfExists":{{"kms:EncryptionContext:aws:ebs:id":"vol-*"}},
              "ForAllValues:StringEquals":{{"kms:GrantOperations":["Decrypt"]}},
              "BoolIfExists":{{"kms:GrantIsForAWSResource":"true"}}}}}}]}}"#
        )
    };
    put_policy(&emu, "csi", "kms", &via("us-east-1")).await;
    assert_eq!(fate(&c, Some(&key)).await, Ok(VolumeState::Available));
    put_policy(&emu, "csi", "kms", &via("us-west-2")).await;
    assert_eq!(fate(&c, Some(&key)).await, lost());
    // An explicit deny wins, even for the AWS managed key.
    put_policy(&emu, "csi", "kms", CSI_KMS).await;
    put_policy(
        &emu,
        "csi",
        "no-grants",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:CreateGrant","Resource":"*"}]}"#,
    )
    .await;
    assert_eq!(fate(&c, Some(&key)).await, lost());
    assert_eq!(fate(&c, None).await, lost());
    // The volumes that were lost are not listed.
    assert_eq!(client_tests::fixtures::volume_ids(&c).await.len(), 4);
}

#[tokio::test]
async fn the_key_policy_decides_when_it_does_not_defer_to_iam() {
    let emu = manual().await;
    let k = kms(&emu, "admin");
    // No statement for the account and none for the role: IAM permissions do not help.
    let (closed, _) = key_with_policy(&k, &key_policy_without_root("")).await;
    // The role named in the key policy, with the actions EBS needs.
    let naming_role = format!(
        r#",{{"Sid":"Ebs","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":["kms:CreateGrant","kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}}"#,
        role_arn("csi")
    );
    let (open, _) = key_with_policy(&k, &key_policy_without_root(&naming_role)).await;
    // The key policy denies the role outright: a deny in a key policy beats IAM's allow.
    let denying = format!(
        r#",{{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Sid":"NoCsi","Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:CreateGrant","Resource":"*"}}"#,
        role_arn("csi")
    );
    let (denied, _) = key_with_policy(&k, &key_policy_without_root(&denying)).await;
    let c = role_session(&emu, "csi", &[("ec2", EC2_ONLY), ("kms", CSI_KMS)]).await;
    assert_eq!(fate(&c, Some(&closed)).await, lost());
    assert_eq!(fate(&c, Some(&open)).await, Ok(VolumeState::Available));
    assert_eq!(fate(&c, Some(&denied)).await, lost());
    // Naming the role is enough without any IAM permission for KMS.
    let bare = role_session(&emu, "csi-bare", &[("ec2", EC2_ONLY)]).await;
    let naming_bare = format!(
        r#",{{"Sid":"Ebs","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":["kms:CreateGrant","kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}}"#,
        role_arn("csi-bare")
    );
    let (for_bare, _) = key_with_policy(&k, &key_policy_without_root(&naming_bare)).await;
    assert_eq!(
        fate(&bare, Some(&for_bare)).await,
        Ok(VolumeState::Available)
    );
    assert_eq!(fate(&bare, Some(&open)).await, lost());
    // The admin user, named in every key policy above, keeps its volumes.
    let admin = ec2(&emu, "admin");
    assert_eq!(
        fate(&admin, Some(&closed)).await,
        Ok(VolumeState::Available)
    );
}

#[tokio::test]
async fn the_built_in_controlplane_role_may_not_use_a_customer_managed_key() {
    let emu = manual().await;
    let (key, _) = new_key(&kms(&emu, "admin")).await;
    let cp = ec2(&emu, "controlplane");
    // Its documented policy has kms:DescribeKey only.
    assert_eq!(fate(&cp, Some(&key)).await, lost());
    assert_eq!(fate(&cp, None).await, Ok(VolumeState::Available));
}

#[tokio::test]
async fn audit_mode_records_the_kms_requests_ebs_could_not_make_and_keeps_the_volume() {
    let emu = Emulator::builder()
        .seed(7)
        .manual_clock(START_MS)
        .iam(awsemu::IamMode::Audit)
        .start()
        .await
        .unwrap();
    let (key, arn) = new_key(&kms(&emu, "admin")).await;
    let c = role_session(&emu, "csi", &[("ec2", EC2_ONLY)]).await;
    assert_eq!(fate(&c, Some(&key)).await, Ok(VolumeState::Available));
    let report = emu.instance().current().audit.report();
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/csi/ebs");
    let kms_rows: Vec<(&str, &str, &str)> = report
        .iter()
        .filter(|r| r.action.starts_with("kms:"))
        .map(|r| (r.principal.as_str(), r.action.as_str(), r.resource.as_str()))
        .collect();
    assert_eq!(
        kms_rows,
        vec![
            (session.as_str(), "kms:CreateGrant", arn.as_str()),
            (session.as_str(), "kms:Decrypt", arn.as_str()),
            (session.as_str(), "kms:DescribeKey", arn.as_str()),
            (
                session.as_str(),
                "kms:GenerateDataKeyWithoutPlaintext",
                arn.as_str()
            ),
        ]
    );
    // The AWS managed key is allowed by its own policy: nothing more is recorded.
    assert_eq!(fate(&c, None).await, Ok(VolumeState::Available));
    assert_eq!(emu.instance().current().audit.report().len(), report.len());
}

#[tokio::test]
async fn with_iam_off_every_key_is_usable_whatever_its_policy() {
    let emu = Emulator::builder()
        .seed(7)
        .manual_clock(START_MS)
        .iam(awsemu::IamMode::Off)
        .start()
        .await
        .unwrap();
    let k = kms(&emu, "admin");
    let nobody = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        role_arn("someone-else")
    );
    let key = k
        .create_key()
        .policy(nobody)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    assert_eq!(
        fate(&ec2(&emu, "admin"), Some(&key)).await,
        Ok(VolumeState::Available)
    );
}

async fn launch_encrypted(c: &aws_sdk_ec2::Client, key: &str) -> String {
    let out = c
        .run_instances()
        .image_id(client_tests::fixtures::AMI)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1a").build())
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdf")
                .ebs(
                    EbsBlockDevice::builder()
                        .volume_size(10)
                        .encrypted(true)
                        .kms_key_id(key)
                        .delete_on_termination(false)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("RunInstances answers whatever the key");
    let i = &out.instances()[0];
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Pending)
    );
    i.instance_id().unwrap().to_string()
}

async fn instance(c: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::Instance {
    c.describe_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .clone()
}

async fn volumes_of(c: &aws_sdk_ec2::Client, id: &str) -> Vec<aws_sdk_ec2::types::Volume> {
    c.describe_volumes()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.instance-id")
                .values(id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .volumes()
        .to_vec()
}

#[tokio::test]
async fn an_instance_whose_encrypted_volume_ebs_cannot_create_terminates_on_launch() {
    let emu = manual().await;
    let k = kms(&emu, "admin");
    let (key, arn) = new_key(&k).await;
    let c = role_session(&emu, "launcher", &[("ec2", EC2_ONLY)]).await;
    let failed = launch_encrypted(&c, &key).await;
    emu.advance(Duration::from_secs(120));
    let i = instance(&c, &failed).await;
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Terminated)
    );
    let reason = i.state_reason().unwrap();
    assert_eq!(
        (reason.code(), reason.message()),
        (
            Some("Server.InternalError"),
            Some("Client.InternalError: Client error on launch")
        )
    );
    let by_reason = c
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("state-reason-code")
                .values("Server.InternalError")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_reason.reservations().len(), 1);
    // The encrypted volume was never made, even with DeleteOnTermination off; the root went with
    // the instance.
    assert!(volumes_of(&c, &failed).await.is_empty());
    assert!(client_tests::fixtures::volume_ids(&c).await.is_empty());

    // With the KMS permissions the same launch runs, the volume showing the key's ARN.
    put_policy(&emu, "launcher", "kms", CSI_KMS).await;
    let ok = launch_encrypted(&c, &key).await;
    emu.advance(Duration::from_secs(120));
    let i = instance(&c, &ok).await;
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    assert!(i.state_reason().is_none());
    let vols = volumes_of(&c, &ok).await;
    let data = vols
        .iter()
        .find(|v| v.attachments()[0].device() == Some("/dev/sdf"))
        .expect("the data volume");
    assert_eq!(data.encrypted(), Some(true));
    assert_eq!(data.kms_key_id(), Some(arn.as_str()));
    assert_eq!(data.state(), Some(&VolumeState::InUse));

    // A key in the wrong state fails the launch with its own reason, whoever launches.
    k.disable_key().key_id(&key).send().await.unwrap();
    let admin = ec2(&emu, "admin");
    let off = launch_encrypted(&admin, &key).await;
    emu.advance(Duration::from_secs(120));
    let i = instance(&admin, &off).await;
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Terminated)
    );
    let reason = i.state_reason().unwrap();
    assert_eq!(
        (reason.code(), reason.message()),
        (
            Some("Server.InternalError"),
            Some(
                "Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state"
            )
        )
    );
}
