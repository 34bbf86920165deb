//! KMS (awsJson1_1, `TrentService.<Op>`): keys and their state machine ([`keys`]), aliases
//! ([`aliases`]), who may use a key ([`access`]), and the key check other services make when they
//! encrypt with a key ([`encryption_key`], used by EC2 CreateVolume and RunInstances, and ECR).
//!
//! Key references come in four forms (key id, key ARN, `alias/name`, alias ARN); [`resolve`] is
//! the one place that turns any of them into a key or AWS's NotFound answer. The predefined
//! `alias/aws/<service>` aliases get their AWS managed key on first use, as AWS creates them.

pub mod access;
pub mod aliases;
pub mod keys;
pub mod model;

use std::sync::{Arc, RwLock};

use crate::protocol::{AwsError, AwsResult};
use crate::services::action::{Action, Request};
use crate::services::Call;
use crate::state::write;

use model::{Alias, Key, KeyManager, KeyState, KmsRegion};

/// The KMS actions, by family. CreateAlias is authorized on the alias and on its target key,
/// DeleteAlias on the alias, the key operations on the key (ListAliases' KeyId only filters).
pub const ACTIONS: &[&[Action]] = &[keys::ACTIONS, aliases::ACTIONS];

/// The ARN of a key or alias reference (key id, key ARN, `alias/name` or alias ARN).
fn reference_arn(reference: &str, r: &Request<'_>) -> String {
    let (region, account) = (r.region, r.account);
    if reference.starts_with("arn:") {
        reference.to_string()
    } else if reference.starts_with("alias/") {
        format!("arn:aws:kms:{region}:{account}:{reference}")
    } else {
        format!("arn:aws:kms:{region}:{account}:key/{reference}")
    }
}

/// The key `KeyId` refers to.
pub fn on_key(r: &Request<'_>, out: &mut Vec<String>) {
    out.extend(r.value("KeyId").map(|k| reference_arn(k, r)));
}

/// The alias `AliasName` names.
pub fn on_alias(r: &Request<'_>, out: &mut Vec<String>) {
    out.extend(r.value("AliasName").map(|a| reference_arn(a, r)));
}

/// The key CreateAlias points the alias at.
pub fn on_target_key(r: &Request<'_>, out: &mut Vec<String>) {
    out.extend(r.value("TargetKeyId").map(|k| reference_arn(k, r)));
}

/// The aliases AWS predefines in every account and region for its managed keys. They are listed
/// without a target until a service first uses one; then the AWS managed key is created.
pub const PREDEFINED_ALIASES: &[&str] = &[
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/ecr",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
];

/// The KMS state of the call's region.
pub fn region(call: &Call<'_>) -> AwsResult<Arc<RwLock<KmsRegion>>> {
    call.world.kms(call.region).ok_or_else(AwsError::internal)
}

pub fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("NotFoundException", message)
}

/// `KMSInvalidStateException` "<key ARN> is pending deletion." (EnableKey, DisableKey,
/// CreateAlias and a second ScheduleKeyDeletion on a key pending deletion).
pub fn pending_deletion(key: &Key) -> AwsError {
    AwsError::bad_request(
        "KMSInvalidStateException",
        format!("{} is pending deletion.", key.arn),
    )
}

/// The ARN of alias `name` (`alias/…`) in the call's region.
pub fn alias_arn(call: &Call<'_>, name: &str) -> String {
    format!("arn:aws:kms:{}:{}:{name}", call.region, call.account)
}

/// The ARN of key `id` in the call's region.
pub fn key_arn(call: &Call<'_>, id: &str) -> String {
    format!("arn:aws:kms:{}:{}:key/{id}", call.region, call.account)
}

/// A KMS key id: a lower-case UUID, or `mrk-` and 32 hex digits.
pub fn well_formed_key_id(id: &str) -> bool {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = id.strip_prefix("mrk-") {
        return rest.len() == 32 && hex(rest);
    }
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && hex(g))
}

/// Which forms of reference an action takes: most key operations take only a key id or key ARN;
/// DescribeKey (and services that encrypt) also take an alias name or alias ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    KeyOnly,
    KeyOrAlias,
}

/// Resolves a key reference against the region's state to the key's id.
///
/// Errors, as AWS words them: `Invalid keyId '<value>'` for something that is not a key id (or an
/// alias where only keys are taken), `Key '<key ARN>' does not exist`, `Alias <alias ARN> is not
/// found.`, `Invalid arn <region>` for a key ARN of another region. A predefined
/// `alias/aws/<service>` creates its AWS managed key when `Accepts::KeyOrAlias`.
pub fn resolve(
    call: &Call<'_>,
    region: &mut KmsRegion,
    reference: &str,
    accepts: Accepts,
) -> AwsResult<String> {
    let invalid_key_id = || not_found(format!("Invalid keyId '{reference}'"));
    let alias_name: Option<String>;
    let key_id: String;
    if let Some(rest) = reference.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:RESOURCE
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [_partition, service, arn_region, account, resource] = parts.as_slice() else {
            return Err(AwsError::bad_request(
                "InvalidArnException",
                format!("ARN {reference} is not a valid KMS key or alias ARN"),
            ));
        };
        if *service != "kms" || !(resource.starts_with("key/") || resource.starts_with("alias/")) {
            return Err(AwsError::bad_request(
                "InvalidArnException",
                format!("ARN {reference} is not a valid KMS key or alias ARN"),
            ));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            if *arn_region != call.region {
                return Err(not_found(format!("Invalid arn {arn_region}")));
            }
            if *account != call.account {
                return Err(not_found(format!("Key '{reference}' does not exist")));
            }
            alias_name = None;
            key_id = id.to_string();
        } else {
            if accepts == Accepts::KeyOnly {
                return Err(invalid_key_id());
            }
            if *arn_region != call.region || *account != call.account {
                return Err(not_found(format!("Alias {reference} is not found.")));
            }
            alias_name = Some(resource.to_string());
            key_id = String::new();
        }
    } else if reference.starts_with("alias/") {
        if accepts == Accepts::KeyOnly {
            return Err(invalid_key_id());
        }
        alias_name = Some(reference.to_string());
        key_id = String::new();
    } else {
        alias_name = None;
        key_id = reference.to_string();
    }
    if let Some(name) = alias_name {
        if let Some(a) = region.aliases.get(&name) {
            return Ok(a.target_key_id.clone());
        }
        if PREDEFINED_ALIASES.contains(&name.as_str()) {
            return Ok(create_managed_key(call, region, &name));
        }
        return Err(not_found(format!(
            "Alias {} is not found.",
            alias_arn(call, &name)
        )));
    }
    if !well_formed_key_id(&key_id) {
        return Err(invalid_key_id());
    }
    if !region.keys.contains_key(&key_id) {
        return Err(not_found(format!(
            "Key '{}' does not exist",
            key_arn(call, &key_id)
        )));
    }
    Ok(key_id)
}

/// Creates the AWS managed key behind predefined alias `name` (`alias/aws/<service>`), with the
/// alias pointing at it, and returns its id.
fn create_managed_key(call: &Call<'_>, region: &mut KmsRegion, name: &str) -> String {
    let service = name.trim_start_matches("alias/aws/");
    let id = call.world.ids.request_id();
    let now = call.now_ms;
    let description = match service {
        "ebs" => {
            "Default key that protects my EBS volumes when no other key is defined".to_string()
        }
        other => {
            format!("Default key that protects my {other} resources when no other key is defined")
        }
    };
    let key = Key {
        arn: key_arn(call, &id),
        id: id.clone(),
        account: call.account.to_string(),
        created_ms: now,
        description,
        usage: "ENCRYPT_DECRYPT".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        manager: KeyManager::Aws,
        state: KeyState::Enabled,
        deletion_ms: None,
        multi_region: false,
        policy: keys::managed_policy(call.account, call.region, service),
        tags: Vec::new(),
    };
    region.keys.insert(id.clone(), key);
    region.aliases.insert(
        name.to_string(),
        Alias {
            name: name.to_string(),
            target_key_id: id.clone(),
            created_ms: now,
            updated_ms: now,
        },
    );
    id
}

/// What a service that encrypts with a KMS key finds when it checks the key (EBS CreateVolume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionKey {
    /// The key's ARN when the reference resolved, else the reference as given.
    pub shown: String,
    /// Whether the key can be used: it exists here, is enabled and is a symmetric encryption key.
    pub usable: bool,
    /// The resolved key's policy document and tags, copied out of the KMS state so that the
    /// caller's permissions can be evaluated later without the KMS lock.
    policy: Option<String>,
    tags: Vec<(String, String)>,
}

impl EncryptionKey {
    /// Whether EBS can encrypt volume `volume_id` with this key for the caller: the key is usable,
    /// and the key policy with the caller's IAM policies allows every request EBS makes with the
    /// caller's permissions ([`access::ebs_requests`]). A refusal is settled by the IAM mode as
    /// the pipeline settles a resource policy's ([`Call::refused`]): enforced, the key is not
    /// usable (and the refusal is logged); in audit mode each refused action is recorded and the
    /// key is usable; with IAM off nothing is refused.
    ///
    /// Takes no KMS or EC2 lock itself (only the identities' read lock), so an EC2 handler may
    /// call it while holding its region's lock.
    pub fn usable_by_ebs(&self, call: &Call<'_>, volume_id: &str) -> bool {
        if !self.usable {
            return false;
        }
        let parsed = self
            .policy
            .as_deref()
            .map(crate::iam::PolicyDocument::parse_resource_policy);
        let Some(Ok(key_policy)) = parsed else {
            // A stored key policy was validated when it was set; none at all means no key.
            return false;
        };
        let principal = call.principal;
        let identity = call.identities.policies_for(principal);
        let base = crate::instance::request_context(
            "kms:DescribeKey",
            &self.shown,
            principal,
            call.region,
            &call.remote,
            call.now_ms.div_euclid(1000),
        );
        let mut allowed = true;
        for ctx in access::ebs_requests(&base, call.region, call.account, volume_id, &self.tags) {
            let Err(refusal) =
                access::decide(&key_policy, &identity, &principal.arn, call.account, &ctx)
            else {
                continue;
            };
            let error = refusal.error(&principal.arn, &ctx.action, &self.shown);
            let message = error.message.clone();
            if call.refused(&ctx.action, &self.shown, error).is_err() {
                tracing::info!(volume_id, %message, "EBS cannot use the KMS key for the caller; the volume will not be created");
                allowed = false;
            }
        }
        allowed
    }
}

/// Checks the key a service would encrypt with: `reference` as given (any of the four forms), or
/// the AWS managed key of `default_alias` (e.g. `alias/aws/ebs`) when none is given, created on
/// first use. Takes and releases the region's KMS lock; the caller must hold no other lock.
///
/// AWS checks such keys asynchronously, so nothing here is an error: a missing, disabled,
/// pending-deletion, asymmetric or even malformed key is reported as not usable and the caller
/// lets its resource fail later, as EBS does.
pub fn encryption_key(
    call: &Call<'_>,
    reference: Option<&str>,
    default_alias: &str,
) -> AwsResult<EncryptionKey> {
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    let wanted = reference.unwrap_or(default_alias);
    let found = resolve(call, &mut r, wanted, Accepts::KeyOrAlias)
        .ok()
        .and_then(|id| r.keys.get(&id));
    Ok(match found {
        Some(k) => EncryptionKey {
            shown: k.arn.clone(),
            usable: k.usable_for_encryption(),
            policy: Some(k.policy.clone()),
            tags: k.tags.clone(),
        },
        None => EncryptionKey {
            shown: wanted.to_string(),
            usable: false,
            policy: None,
            tags: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_shapes() {
        assert!(well_formed_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(well_formed_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!well_formed_key_id("134f2428cec14b25a1ae9048164dba47"));
        assert!(!well_formed_key_id("fake-key-id"));
        assert!(!well_formed_key_id("mrk-fake-key-id"));
        assert!(!well_formed_key_id("1234abcd-12ab-34cd-56ef-1234567890ag"));
    }

    /// CreateAlias is authorized on the alias and its target key, DeleteAlias on the alias, the
    /// key operations on the key; ListAliases' KeyId only filters.
    #[test]
    fn authorized_resources() {
        use crate::protocol::json::JsonInput;
        use crate::protocol::route::Input;
        use crate::protocol::ServiceId;
        use crate::services::authz::resources;
        let input = |body: &str| Input::Json(JsonInput::parse(body.as_bytes()).unwrap());
        let r =
            |action: &str, body: &str| resources(ServiceId::Kms, action, &input(body), "1", "r");
        assert_eq!(
            r(
                "CreateAlias",
                r#"{"AliasName":"alias/a","TargetKeyId":"k"}"#
            ),
            vec!["arn:aws:kms:r:1:alias/a", "arn:aws:kms:r:1:key/k"]
        );
        assert_eq!(
            r("DeleteAlias", r#"{"AliasName":"alias/a"}"#),
            vec!["arn:aws:kms:r:1:alias/a"]
        );
        assert_eq!(r("ListAliases", r#"{"KeyId":"k"}"#), vec!["*"]);
        assert_eq!(
            r("DisableKey", r#"{"KeyId":"arn:aws:kms:r:1:key/k"}"#),
            vec!["arn:aws:kms:r:1:key/k"]
        );
        let ecr = |body: &str| {
            resources(
                ServiceId::Ecr,
                "DescribeRepositories",
                &input(body),
                "1",
                "r",
            )
        };
        assert_eq!(
            ecr(r#"{"repositoryNames":["a","b/c"],"registryId":"2"}"#),
            vec![
                "arn:aws:ecr:r:2:repository/a",
                "arn:aws:ecr:r:2:repository/b/c"
            ]
        );
        assert_eq!(ecr("{}"), vec!["*"]);
    }
}
