//! KMS keys: CreateKey, DescribeKey, ListKeys and the key state machine (EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion).
//!
//! States: `Enabled` ⇄ `Disabled` (Enable/DisableKey); either → `PendingDeletion` with a 7–30 day
//! window (ScheduleKeyDeletion), back to `Disabled` by CancelKeyDeletion, and gone when the window
//! ends on the virtual clock. A key pending deletion refuses Enable/DisableKey, CreateAlias and a
//! second ScheduleKeyDeletion with `KMSInvalidStateException`.

use serde_json::json;

use crate::protocol::json::{check_range, validation, Obj};
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::write;

use super::model::{Key, KeyManager, KeyState, KmsRegion};
use super::{key_arn, pending_deletion, region, resolve, Accepts};

/// The handler of a key action, if it is one.
/// The actions of this family, each on the key it names.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateKey", create_key),
    Action::new("DescribeKey", describe_key).on(ON_KEY),
    Action::new("ListKeys", list_keys),
    Action::new("EnableKey", enable_key).on(ON_KEY),
    Action::new("DisableKey", disable_key).on(ON_KEY),
    Action::new("ScheduleKeyDeletion", schedule_key_deletion).on(ON_KEY),
    Action::new("CancelKeyDeletion", cancel_key_deletion).on(ON_KEY),
];

const ON_KEY: &[On] = &[On::Custom(super::on_key)];

/// AWS's default key policy: the account's root may do everything with the key (IAM policies
/// then decide for its principals).
pub fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The key policy of the AWS managed key of `service` (`alias/aws/<service>`), as AWS writes it
/// for `aws/ebs` (`auto-ebs-2`): every principal of the account may use the key through the
/// service in this region (no IAM permission needed), and the account may read its metadata.
/// EBS calls KMS through EC2's endpoint (`ec2.<region>.amazonaws.com`); the other services are
/// assumed to use their own name.
pub fn managed_policy(account: &str, region: &str, service: &str) -> String {
    let via = match service {
        "ebs" => "ec2",
        other => other,
    };
    json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{service}-2"),
        "Statement": [
            {
                "Sid": format!("Allow access through {} for all principals in the account that are authorized to use {}", service.to_ascii_uppercase(), service.to_ascii_uppercase()),
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey"
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": format!("{via}.{region}.amazonaws.com")
                    }
                }
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    })
    .to_string()
}

const KEY_USAGES: &[&str] = &[
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
];

const KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
];

fn enum_violation(field: &str, value: &str, set: &[&str]) -> AwsError {
    validation(format!(
        "Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        set.join(", ")
    ))
}

/// The usages a key spec allows (for the specs awsemu emulates).
fn usages_for(spec: &str) -> Option<&'static [&'static str]> {
    Some(match spec {
        "SYMMETRIC_DEFAULT" => &["ENCRYPT_DECRYPT"],
        "RSA_2048" | "RSA_3072" | "RSA_4096" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
        "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" => &["SIGN_VERIFY", "KEY_AGREEMENT"],
        "ECC_SECG_P256K1" => &["SIGN_VERIFY"],
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => &["GENERATE_VERIFY_MAC"],
        _ => return None,
    })
}

/// The algorithm lists DescribeKey shows for a spec and usage: (member name, algorithms).
fn algorithms(spec: &str, usage: &str) -> (&'static str, Vec<&'static str>) {
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => ("EncryptionAlgorithms", vec!["SYMMETRIC_DEFAULT"]),
        (s, "ENCRYPT_DECRYPT") if s.starts_with("RSA") => (
            "EncryptionAlgorithms",
            vec!["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
        ),
        (s, "SIGN_VERIFY") if s.starts_with("RSA") => (
            "SigningAlgorithms",
            vec![
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
            ],
        ),
        (_, "KEY_AGREEMENT") => ("KeyAgreementAlgorithms", vec!["ECDH"]),
        ("ECC_NIST_P384", _) => ("SigningAlgorithms", vec!["ECDSA_SHA_384"]),
        ("ECC_NIST_P521", _) => ("SigningAlgorithms", vec!["ECDSA_SHA_512"]),
        (s, _) if s.starts_with("ECC") => ("SigningAlgorithms", vec!["ECDSA_SHA_256"]),
        (s, _) => (
            "MacAlgorithms",
            vec![match s {
                "HMAC_224" => "HMAC_SHA_224",
                "HMAC_384" => "HMAC_SHA_384",
                "HMAC_512" => "HMAC_SHA_512",
                _ => "HMAC_SHA_256",
            }],
        ),
    }
}

/// The members of the `KeyMetadata` structure of DescribeKey and CreateKey.
pub fn metadata(w: &mut Writer, k: &Key) {
    w.str("AWSAccountId", &k.account)
        .str("KeyId", &k.id)
        .str("Arn", &k.arn)
        .time("CreationDate", k.created_ms)
        .bool("Enabled", k.state == KeyState::Enabled)
        .str("Description", &k.description)
        .str("KeyUsage", &k.usage)
        .str("KeyState", k.state.name())
        .time_opt("DeletionDate", k.deletion_ms)
        .str("Origin", "AWS_KMS")
        .str("KeyManager", k.manager.name())
        .str("CustomerMasterKeySpec", &k.spec)
        .str("KeySpec", &k.spec);
    let (member, algs) = algorithms(&k.spec, &k.usage);
    w.strs(member, algs).bool("MultiRegion", k.multi_region);
    if k.multi_region {
        w.structure("MultiRegionConfiguration", |w| {
            w.str("MultiRegionKeyType", "PRIMARY")
                .structure("PrimaryKey", |w| {
                    w.str("Arn", &k.arn)
                        .str("Region", k.arn.split(':').nth(3).unwrap_or_default());
                })
                .list("ReplicaKeys", Vec::<()>::new(), |_, _| {});
        });
    }
}

/// KMS tags (`TagKey`/`TagValue`), validated as CreateKey and TagResource do.
fn read_tags(tags: Vec<Obj<'_>>) -> AwsResult<Vec<(String, String)>> {
    if tags.len() > 50 {
        return Err(AwsError::bad_request("TagException", "Too many tags"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let key = t.required("TagKey")?;
        let value = t.required("TagValue")?;
        let n = i + 1;
        check_range(
            &format!("tags.{n}.member.tagKey"),
            key,
            "length",
            key.chars().count() as i64,
            1,
            128,
        )?;
        check_range(
            &format!("tags.{n}.member.tagValue"),
            value,
            "length",
            value.chars().count() as i64,
            0,
            256,
        )?;
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(AwsError::bad_request(
                "TagException",
                "Tags beginning with aws: are reserved",
            ));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(AwsError::bad_request("TagException", "Duplicate tag keys"));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn create_key(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let policy = j.str("Policy")?;
    let description = j.str("Description")?.unwrap_or("");
    let usage = j.str("KeyUsage")?;
    let spec = j.str("KeySpec")?.or(j.str("CustomerMasterKeySpec")?);
    let origin = j.str("Origin")?.unwrap_or("AWS_KMS");
    let custom_key_store = j.str("CustomKeyStoreId")?;
    let bypass = j.bool("BypassPolicyLockoutSafetyCheck")?.unwrap_or(false);
    let tags = j.objects("Tags")?.unwrap_or_default();
    let multi_region = j.bool("MultiRegion")?.unwrap_or(false);
    let _xks = j.str("XksKeyId")?;

    check_range(
        "description",
        description,
        "length",
        description.chars().count() as i64,
        0,
        8192,
    )?;
    if let Some(u) = usage {
        if !KEY_USAGES.contains(&u) {
            return Err(enum_violation("keyUsage", u, KEY_USAGES));
        }
    }
    if let Some(s) = spec {
        if !KEY_SPECS.contains(&s) {
            return Err(enum_violation("keySpec", s, KEY_SPECS));
        }
    }
    if origin != "AWS_KMS" || custom_key_store.is_some() {
        return Err(AwsError::not_emulated(
            "kms",
            "CreateKey with imported, CloudHSM or external key material",
        ));
    }
    let spec = spec.unwrap_or("SYMMETRIC_DEFAULT");
    let usage = match usage {
        Some(u) => u,
        None if spec == "SYMMETRIC_DEFAULT" => "ENCRYPT_DECRYPT",
        None => {
            return Err(AwsError::bad_request(
                "ValidationException",
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
            ))
        }
    };
    let Some(allowed) = usages_for(spec) else {
        return Err(AwsError::not_emulated(
            "kms",
            &format!("CreateKey with KeySpec {spec}"),
        ));
    };
    if !allowed.contains(&usage) {
        return Err(AwsError::bad_request(
            "ValidationException",
            format!("KeyUsage {usage} is not compatible with KeySpec {spec}"),
        ));
    }
    let tags = read_tags(tags)?;
    let policy = match policy {
        Some(text) => {
            let doc = crate::iam::PolicyDocument::parse_resource_policy(text).map_err(|e| {
                AwsError::bad_request(
                    "MalformedPolicyDocumentException",
                    format!("The key policy is not valid: {}", e.message),
                )
            })?;
            if !bypass && !lets_caller_manage(call, &doc) {
                return Err(AwsError::bad_request(
                    "MalformedPolicyDocumentException",
                    "The new key policy will not allow you to update the key policy in the future.",
                ));
            }
            text.to_string()
        }
        None => default_policy(call.account),
    };

    let id = if multi_region {
        format!("mrk-{}", call.world.ids.hex(32))
    } else {
        call.world.ids.request_id()
    };
    let key = Key {
        arn: key_arn(call, &id),
        id: id.clone(),
        account: call.account.to_string(),
        created_ms: call.now_ms,
        description: description.to_string(),
        usage: usage.to_string(),
        spec: spec.to_string(),
        manager: KeyManager::Customer,
        state: KeyState::Enabled,
        deletion_ms: None,
        multi_region,
        policy,
        tags,
    };
    let mut w = call.writer();
    w.structure("KeyMetadata", |w| metadata(w, &key));
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    r.keys.insert(id, key);
    w.finish()
}

/// KMS's policy lockout safety check: the new key policy must let the caller call PutKeyPolicy on
/// the key later (a statement for the account, `arn:aws:iam::ACCOUNT:root`, covers every identity
/// of the account and so the caller).
fn lets_caller_manage(call: &Call<'_>, doc: &crate::iam::PolicyDocument) -> bool {
    use crate::iam::{evaluate_resource_policy, Caller, RequestContext};
    let resource = format!("arn:aws:kms:{}:{}:key/*", call.region, call.account);
    let ctx = RequestContext::new("kms:PutKeyPolicy", &resource);
    let caller = Caller::Aws {
        arn: &call.principal.arn,
        account: call.account,
    };
    evaluate_resource_policy(doc, &caller, &ctx).is_allowed()
}

fn describe_key(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let key_ref = j.required("KeyId")?;
    let _grant_tokens = j.strings("GrantTokens")?;
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    let id = resolve(call, &mut r, key_ref, Accepts::KeyOrAlias)?;
    let key = r.keys.get(&id).ok_or_else(AwsError::internal)?;
    let mut w = call.writer();
    w.structure("KeyMetadata", |w| metadata(w, key));
    w.finish()
}

/// `Limit`/`Marker` paging of the KMS list calls: `Truncated`, and `NextMarker` when truncated.
pub fn page<T>(
    items: Vec<T>,
    limit: Option<i64>,
    marker: Option<&str>,
) -> AwsResult<(Vec<T>, Option<String>)> {
    if let Some(l) = limit {
        check_range("limit", &l.to_string(), "value", l, 1, 1000)?;
    }
    if let Some(m) = marker {
        check_range("marker", m, "length", m.len() as i64, 1, 1024)?;
    }
    // AWS's default page is 100 items.
    crate::state::paging::page(items, Some(limit.unwrap_or(100)), marker, (1, 1000))
        .map_err(|_| AwsError::bad_request("InvalidMarkerException", "Invalid marker"))
}

fn list_keys(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let limit = j.int("Limit")?;
    let marker = j.str("Marker")?;
    let _owners = j.strings("ResourceOwners")?;
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    let keys: Vec<&Key> = r.keys.values().collect();
    let (keys, next) = page(keys, limit, marker)?;
    let mut w = call.writer();
    w.list("Keys", keys, |w, k| {
        w.str("KeyId", &k.id).str("KeyArn", &k.arn);
    })
    .bool("Truncated", next.is_some())
    .str_opt("NextMarker", next);
    w.finish()
}

/// The key `KeyId` names (key id or key ARN) with the region settled, for the state changes.
fn changing<'r>(
    call: &Call<'_>,
    r: &'r mut KmsRegion,
    key_ref: &str,
    action: &str,
) -> AwsResult<&'r mut Key> {
    r.settle(call.now_ms);
    let id = resolve(call, r, key_ref, Accepts::KeyOnly)?;
    let key = r.keys.get_mut(&id).ok_or_else(AwsError::internal)?;
    if key.manager == KeyManager::Aws {
        // The key policy of an AWS managed key allows its service to use it, never to manage it.
        return Err(AwsError::bad_request(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: kms:{action} on resource: {} because no resource-based policy allows the kms:{action} action",
                call.principal.arn, key.arn
            ),
        ));
    }
    Ok(key)
}

fn set_enabled(call: &Call<'_>, action: &str, enabled: bool) -> AwsResult<Output> {
    let key_ref = call.json()?.required("KeyId")?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let key = changing(call, &mut r, key_ref, action)?;
    if key.state == KeyState::PendingDeletion {
        return Err(pending_deletion(key));
    }
    key.state = if enabled {
        KeyState::Enabled
    } else {
        KeyState::Disabled
    };
    call.writer().finish()
}

fn enable_key(call: &Call<'_>) -> AwsResult<Output> {
    set_enabled(call, "EnableKey", true)
}

fn disable_key(call: &Call<'_>) -> AwsResult<Output> {
    set_enabled(call, "DisableKey", false)
}

const DAY_MS: i64 = 86_400_000;

fn schedule_key_deletion(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let key_ref = j.required("KeyId")?;
    let window = j.int("PendingWindowInDays")?;
    if let Some(w) = window {
        check_range("pendingWindowInDays", &w.to_string(), "value", w, 1, 365)?;
        if !(7..=30).contains(&w) {
            return Err(AwsError::bad_request(
                "ValidationException",
                "PendingWindowInDays must be between 7 and 30",
            ));
        }
    }
    let window = window.unwrap_or(30);
    let lock = region(call)?;
    let mut r = write(&lock);
    let key = changing(call, &mut r, key_ref, "ScheduleKeyDeletion")?;
    if key.state == KeyState::PendingDeletion {
        return Err(pending_deletion(key));
    }
    let at = call.now_ms + window * DAY_MS;
    key.state = KeyState::PendingDeletion;
    key.deletion_ms = Some(at);
    let mut w = call.writer();
    w.str("KeyId", &key.arn)
        .time("DeletionDate", at)
        .str("KeyState", KeyState::PendingDeletion.name())
        .int("PendingWindowInDays", window);
    w.finish()
}

/// Cancels a scheduled deletion: the key comes back `Disabled`, as AWS leaves it.
fn cancel_key_deletion(call: &Call<'_>) -> AwsResult<Output> {
    let key_ref = call.json()?.required("KeyId")?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let key = changing(call, &mut r, key_ref, "CancelKeyDeletion")?;
    if key.state != KeyState::PendingDeletion {
        return Err(AwsError::bad_request(
            "KMSInvalidStateException",
            format!("{} is not pending deletion.", key.arn),
        ));
    }
    key.state = KeyState::Disabled;
    key.deletion_ms = None;
    let mut w = call.writer();
    w.str("KeyId", &key.arn);
    w.finish()
}
