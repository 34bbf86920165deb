//! KMS through aws-sdk-kms: keys, aliases, the key state machine (disable, enable, scheduled
//! deletion and its end on the virtual clock), AWS managed keys, every error code KMS answers
//! here; and the EBS side through aws-sdk-ec2: an encrypted volume with an unusable key shows
//! `creating` and then disappears, one with a usable key becomes `available` with the key's ARN.

use std::time::Duration;

use aws_sdk_ec2::types::VolumeState;
use aws_sdk_kms::primitives::DateTime;
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, KeyUsageType, Tag};
use awsemu::state::timing::Timing;
use awsemu::Emulator;
use client_tests::{ec2, expect_err, kms};

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

async fn listed(c: &aws_sdk_ec2::Client) -> Vec<String> {
    c.describe_volumes()
        .send()
        .await
        .unwrap()
        .volumes()
        .iter()
        .filter_map(|v| v.volume_id().map(str::to_string))
        .collect()
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
        assert!(!listed(&e).await.contains(&id.to_string()), "{reference}");
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
    assert_eq!(listed(&e).await, vec![good]);
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
