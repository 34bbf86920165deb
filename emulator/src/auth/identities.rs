//! The identities one emulator knows: access keys, the users and role sessions they stand for, the
//! account's IAM entities ([`Directory`]: roles, managed policies, instance profiles) and the
//! temporary credentials STS and the metadata service hand out.
//!
//! This is the single source of truth for who may do what. Built from [`IdentityConfig`] at start
//! and at reset. Role sessions look their role's policies up at each call, so the IAM service (and
//! a config file) can change what a role may do and every session of it follows at once, as in
//! AWS; a session of a deleted role (or of an older role of the same name) holds no policy.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use super::directory::{
    self, Directory, Document, ManagedPolicy, NewRole, DEFAULT_MAX_SESSION_SECS,
};
use super::principal::{Principal, PrincipalKind};
use crate::iam::{
    builtin, evaluate_resource_policy, Caller, Policy, PolicyDocument, RequestContext,
};
use crate::protocol::AwsError;
use crate::state::ids::IdGen;

/// One access key and whom it stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Temporary credentials (STS, instance metadata) carry a token that must come with each request.
    pub session_token: Option<String>,
    /// Unix seconds after which temporary credentials answer `ExpiredToken`.
    pub expires_at: Option<i64>,
    pub principal: Arc<Principal>,
}

/// Where a policy document comes from in a config file: inline JSON, or a path to a JSON file
/// (relative to the config file).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PolicySource {
    File(String),
    Inline(serde_json::Value),
}

/// One access key in a config file: a session of `role`, or a user holding `policies`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub policies: Vec<String>,
}

/// The identity part of the config file (`--config`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Drop the built-in principals (admin, controlplane, etcd, worker) and their keys.
    #[serde(default)]
    pub replace_defaults: bool,
    /// Named policy documents. The built-in names `AdministratorAccess`, `controlplane`, `etcd` and
    /// `worker` are always there (unless redefined here).
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySource>,
    /// Role name -> names of its policies.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub principals: Vec<PrincipalConfig>,
}

/// The built-in principals: (name, access key id, secret, role or None for the admin user).
pub const DEFAULT_PRINCIPALS: [(&str, &str, &str, Option<&str>); 4] = [
    ("admin", "test", "test", None),
    (
        "controlplane",
        "controlplane",
        "controlplane",
        Some("controlplane"),
    ),
    ("etcd", "etcd", "etcd", Some("etcd")),
    ("worker", "worker", "worker", Some("worker")),
];

/// The session name of the built-in role keys.
pub const DEFAULT_SESSION: &str = "awsemu";

/// The trust policy of the roles that exist from the start: EC2 may assume them for the instances
/// they are passed to, as the node roles of the cloud provider's documentation are set up.
pub const EC2_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The ARN of AWS's own `AdministratorAccess` managed policy, and its real id.
pub const ADMINISTRATOR_ACCESS_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const ADMINISTRATOR_ACCESS_ID: &str = "ANPAIWMBCKSKIEE64ZLYK";

/// How long instance-profile credentials last (AWS rotates them well before; six hours is what
/// instances are observed to get).
pub const INSTANCE_SESSION_SECS: i64 = 6 * 3600;

/// An instance-profile session is replaced when it has less than this left: AWS makes new
/// credentials available at least five minutes before the old ones expire.
const INSTANCE_SESSION_RENEW_SECS: i64 = 5 * 60;

/// The service principal EC2 assumes instance-profile roles as.
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";

/// All identities of one emulator.
#[derive(Debug)]
pub struct Identities {
    account: String,
    /// Roles, managed policies and instance profiles, behind one lock (see [`directory`]).
    directory: RwLock<Directory>,
    /// IAM users (only from the configuration: there is no IAM user API) and their policies.
    users: DashMap<String, Vec<Policy>>,
    credentials: DashMap<String, Arc<Credential>>,
    /// Instance-profile sessions by (profile ARN, instance id): the metadata service asks often,
    /// and AWS hands an instance the same credentials until they are close to expiry.
    instance_sessions: DashMap<(String, String), Arc<Credential>>,
}

/// What a snapshot keeps of the identities: the IAM entities (as the API left them) and the
/// temporary credentials handed out. Users and long-lived keys come from the configuration, so a
/// restore builds them from it as a start does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentitiesState {
    pub directory: Directory,
    /// STS and metadata-service credentials, by access key id.
    pub temporary: Vec<Credential>,
    /// The metadata service's cached sessions: (profile ARN, instance id, access key id).
    pub instance_sessions: Vec<(String, String, String)>,
}

/// Temporary credentials of a role session, as STS and the metadata service hand them out.
#[derive(Debug, Clone)]
pub struct RoleSession {
    pub role_name: String,
    pub role_arn: String,
    pub credential: Arc<Credential>,
}

/// Why an instance profile yields no credentials (the metadata service answers each differently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSessionError {
    /// No instance profile has this ARN (any more).
    NoSuchProfile,
    /// The profile holds no role.
    NoRole,
    /// The role's trust policy does not let `ec2.amazonaws.com` assume it
    /// (the metadata service's `AssumeRoleUnauthorizedAccess`).
    TrustDenied { role_arn: String },
}

/// Reads a named policy's text from a config source.
fn policy_text(
    name: &str,
    source: &PolicySource,
    base_dir: Option<&Path>,
) -> Result<String, String> {
    match source {
        PolicySource::Inline(v) => Ok(v.to_string()),
        PolicySource::File(path) => {
            let full = base_dir
                .map(|d| d.join(path))
                .unwrap_or_else(|| path.into());
            std::fs::read_to_string(&full)
                .map_err(|e| format!("policy '{name}': cannot read {}: {e}", full.display()))
        }
    }
}

/// A customer managed policy that exists from the start (`arn:aws:iam::ACCOUNT:policy/NAME`).
fn start_policy(account: &str, name: &str, document: Document, now_ms: i64) -> ManagedPolicy {
    let arn = format!("arn:aws:iam::{account}:policy/{name}");
    ManagedPolicy {
        name: name.to_string(),
        path: "/".to_string(),
        id: directory::stable_id("ANPA", &arn),
        arn,
        created_ms: now_ms,
        updated_ms: now_ms,
        document,
        description: None,
        tags: Vec::new(),
    }
}

/// The document of a built-in policy: its text and the shared compiled form.
fn builtin_document(policy: &Policy) -> Document {
    Document {
        text: builtin::source(&policy.name)
            .unwrap_or_default()
            .to_string(),
        parsed: policy.document.clone(),
    }
}

/// Characters of a temporary access key or secret, drawn from the seeded generator.
fn draw(ids: &IdGen, alphabet: &[u8], n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut bits = 0u64;
    let mut left = 0;
    let width = alphabet.len().next_power_of_two().trailing_zeros();
    while out.len() < n {
        if left < width {
            bits = ids.next_u64();
            left = 64;
        }
        let v = (bits & ((1 << width) - 1)) as usize;
        bits >>= width;
        left -= width;
        out.push(alphabet[v % alphabet.len()] as char);
    }
    out
}

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new temporary key: `ASIA` + 16 characters, a 40-character secret, and an opaque session
/// token shaped like AWS's (base64 that starts `IQoJb3JpZ2luX2Vj`).
fn temporary_key(ids: &IdGen) -> (String, String, String) {
    let key = format!("ASIA{}", draw(ids, KEY_ALPHABET, 16));
    let secret = draw(ids, BASE64, 40);
    let token = format!("IQoJb3JpZ2luX2VjE{}", draw(ids, BASE64, 300));
    (key, secret, token)
}

impl Identities {
    /// Builds the identities a config describes; entities that exist from the start are dated
    /// `now_ms`. Fails with a message naming the bad policy or reference; a policy with an
    /// unsupported element is refused here, never ignored.
    pub fn build(
        account: &str,
        config: &IdentityConfig,
        base_dir: Option<&Path>,
        now_ms: i64,
    ) -> Result<Identities, String> {
        let mut dir = Directory::new(account);
        // Named policies: AWS's AdministratorAccess and the node policies, then the config's,
        // which replace a built-in of the same name. `named` maps a name to the policy's ARN.
        let mut named: BTreeMap<String, String> = BTreeMap::new();
        let admin = builtin::admin();
        dir.insert_policy(ManagedPolicy {
            name: admin.name.clone(),
            path: "/".to_string(),
            id: ADMINISTRATOR_ACCESS_ID.to_string(),
            arn: ADMINISTRATOR_ACCESS_ARN.to_string(),
            created_ms: now_ms,
            updated_ms: now_ms,
            document: builtin_document(&admin),
            description: Some("Provides full access to AWS services and resources.".to_string()),
            tags: Vec::new(),
        });
        named.insert(admin.name.clone(), ADMINISTRATOR_ACCESS_ARN.to_string());
        for p in [builtin::controlplane(), builtin::etcd(), builtin::worker()] {
            let mp = start_policy(account, &p.name, builtin_document(&p), now_ms);
            named.insert(p.name.clone(), mp.arn.clone());
            dir.insert_policy(mp);
        }
        for (name, source) in &config.policies {
            let text = policy_text(name, source, base_dir)?;
            let parsed =
                PolicyDocument::parse(&text).map_err(|e| format!("policy '{name}': {e}"))?;
            let mp = start_policy(account, name, Document::new(text, parsed), now_ms);
            named.insert(name.clone(), mp.arn.clone());
            dir.insert_policy(mp);
        }
        let resolve = |names: &[String], whose: &str| -> Result<Vec<String>, String> {
            names
                .iter()
                .map(|n| {
                    named
                        .get(n)
                        .cloned()
                        .ok_or_else(|| format!("{whose} names unknown policy '{n}'"))
                })
                .collect()
        };
        let trust = Document::new(
            EC2_TRUST_POLICY,
            PolicyDocument::parse_resource_policy(EC2_TRUST_POLICY)
                .map_err(|e| format!("built-in trust policy: {e}"))?,
        );
        // A role of the start-up world with its managed policies and, as the console makes for EC2
        // roles, an instance profile of the same name holding it.
        let start_role =
            |dir: &mut Directory, role: &str, arns: Vec<String>| -> Result<(), String> {
                if !dir.has_role(role) {
                    let arn = format!("arn:aws:iam::{account}:role/{role}");
                    let new = NewRole {
                        name: role.to_string(),
                        path: "/".to_string(),
                        trust: trust.clone(),
                        description: None,
                        max_session_secs: DEFAULT_MAX_SESSION_SECS,
                        tags: Vec::new(),
                        service_linked: false,
                    };
                    dir.create_role(new, super::principal::stable_role_id(&arn), now_ms)
                        .map_err(|e| format!("role '{role}': {}", e.message))?;
                }
                let current: Vec<String> = dir
                    .role(role)
                    .map(|r| r.attached.clone())
                    .unwrap_or_default();
                for arn in current {
                    let _ = dir.detach_role_policy(role, &arn);
                }
                for arn in arns {
                    dir.attach_role_policy(role, &arn)
                        .map_err(|e| format!("role '{role}': {}", e.message))?;
                }
                if dir.profile(role).is_err() {
                    let arn = format!("arn:aws:iam::{account}:instance-profile/{role}");
                    dir.create_profile(
                        role,
                        "/",
                        Vec::new(),
                        directory::stable_id("AIPA", &arn),
                        now_ms,
                    )
                    .map_err(|e| format!("instance profile '{role}': {}", e.message))?;
                    dir.add_role_to_profile(role, role)
                        .map_err(|e| format!("instance profile '{role}': {}", e.message))?;
                }
                Ok(())
            };
        let users: DashMap<String, Vec<Policy>> = DashMap::new();
        let mut keys: Vec<(String, String, Principal)> = Vec::new();
        if !config.replace_defaults {
            for (name, key, secret, role) in DEFAULT_PRINCIPALS {
                match role {
                    Some(role) => {
                        start_role(&mut dir, role, resolve(&[role.to_string()], role)?)?;
                        keys.push((
                            key.into(),
                            secret.into(),
                            Principal::role_session(account, role, DEFAULT_SESSION),
                        ));
                    }
                    None => {
                        users.insert(name.to_string(), vec![admin.clone()]);
                        keys.push((key.into(), secret.into(), Principal::user(account, name)));
                    }
                }
            }
        }
        for (role, names) in &config.roles {
            start_role(&mut dir, role, resolve(names, &format!("role '{role}'"))?)?;
        }
        let policies_of = |dir: &Directory, arns: Vec<String>| -> Vec<Policy> {
            arns.iter()
                .filter_map(|a| dir.policy(a).ok())
                .map(|p| Policy {
                    name: p.name.clone(),
                    document: p.document.parsed.clone(),
                })
                .collect()
        };
        for p in &config.principals {
            let principal = match &p.role {
                Some(role) => {
                    if !p.policies.is_empty() {
                        return Err(format!(
                            "principal '{}': give either a role or policies, not both",
                            p.name
                        ));
                    }
                    let Ok(r) = dir.role(role) else {
                        return Err(format!(
                            "principal '{}' names unknown role '{role}'",
                            p.name
                        ));
                    };
                    Principal::assumed_role(account, &r.name, &r.arn, &r.id, &p.name)
                }
                None => {
                    let arns = resolve(&p.policies, &format!("principal '{}'", p.name))?;
                    users.insert(p.name.clone(), policies_of(&dir, arns));
                    Principal::user(account, &p.name)
                }
            };
            keys.push((
                p.access_key_id.clone(),
                p.secret_access_key.clone(),
                principal,
            ));
        }
        let ids = Identities {
            account: account.to_string(),
            directory: RwLock::new(dir),
            users,
            credentials: DashMap::new(),
            instance_sessions: DashMap::new(),
        };
        for (key, secret, principal) in keys {
            ids.add_key(&key, &secret, None, None, principal);
        }
        Ok(ids)
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The entities and temporary credentials, for a snapshot.
    pub fn save(&self) -> IdentitiesState {
        let mut temporary: Vec<Credential> = (self.credentials.iter())
            .filter(|c| c.session_token.is_some())
            .map(|c| Credential::clone(&c))
            .collect();
        temporary.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        let mut instance_sessions: Vec<(String, String, String)> = (self.instance_sessions.iter())
            .map(|e| {
                let (profile, instance) = e.key().clone();
                (profile, instance, e.value().access_key_id.clone())
            })
            .collect();
        instance_sessions.sort();
        IdentitiesState {
            directory: self.directory().clone(),
            temporary,
            instance_sessions,
        }
    }

    /// Puts a snapshot's entities and temporary credentials in place of those built from the
    /// configuration (a snapshot of another account is refused).
    pub fn load(&mut self, saved: &IdentitiesState) -> Result<(), String> {
        if saved.directory.account() != self.account {
            return Err(format!(
                "its IAM entities are of account {}, this emulator's is {}",
                saved.directory.account(),
                self.account
            ));
        }
        *crate::state::write(&self.directory) = saved.directory.clone();
        for c in &saved.temporary {
            self.credentials
                .insert(c.access_key_id.clone(), Arc::new(c.clone()));
        }
        for (profile, instance, key) in &saved.instance_sessions {
            if let Some(c) = self.credential(key) {
                self.instance_sessions
                    .insert((profile.clone(), instance.clone()), c);
            }
        }
        Ok(())
    }

    /// The IAM entities, to read. Do not hold the guard across `.await` or while calling back into
    /// `Identities` methods that take the lock.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        crate::state::read(&self.directory)
    }

    /// The IAM entities, to change (the IAM handlers, after validating their input).
    pub fn directory_mut(&self) -> RwLockWriteGuard<'_, Directory> {
        crate::state::write(&self.directory)
    }

    /// Registers an access key (also used by STS and the metadata service for temporary keys).
    pub fn add_key(
        &self,
        access_key_id: &str,
        secret: &str,
        session_token: Option<String>,
        expires_at: Option<i64>,
        principal: Principal,
    ) -> Arc<Credential> {
        let cred = Arc::new(Credential {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret.to_string(),
            session_token,
            expires_at,
            principal: Arc::new(principal),
        });
        self.credentials
            .insert(access_key_id.to_string(), cred.clone());
        cred
    }

    pub fn credential(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        self.credentials.get(access_key_id).map(|c| c.clone())
    }

    /// The first long-lived key of the principal called `name` (for the embedding API and the banner).
    pub fn key_of(&self, name: &str) -> Option<Arc<Credential>> {
        let mut found: Vec<Arc<Credential>> = self
            .credentials
            .iter()
            .filter(|c| c.principal.name == name && c.session_token.is_none())
            .map(|c| c.clone())
            .collect();
        found.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        found.into_iter().next()
    }

    /// Every long-lived key, sorted by principal name then key, for the start-up table.
    pub fn long_lived_keys(&self) -> Vec<Arc<Credential>> {
        let mut all: Vec<Arc<Credential>> = self
            .credentials
            .iter()
            .filter(|c| c.session_token.is_none())
            .map(|c| c.clone())
            .collect();
        all.sort_by(|a, b| {
            (a.principal.name.as_str(), a.access_key_id.as_str())
                .cmp(&(b.principal.name.as_str(), b.access_key_id.as_str()))
        });
        all
    }

    /// The policies in force for a principal right now. A role session gets its role's inline and
    /// attached policies, if the role still exists and is the one the session was made for.
    pub fn policies_for(&self, principal: &Principal) -> Vec<Policy> {
        match &principal.kind {
            PrincipalKind::AssumedRole { role, .. } => {
                let dir = self.directory();
                match dir.role(role) {
                    Ok(r) if principal.role_id() == Some(r.id.as_str()) => dir.role_policies(r),
                    _ => Vec::new(),
                }
            }
            PrincipalKind::User => self
                .users
                .get(&principal.name)
                .map(|p| p.clone())
                .unwrap_or_default(),
        }
    }

    /// Names of the policies of a principal, for reports.
    pub fn policy_names(&self, principal: &Principal) -> Vec<String> {
        self.policies_for(principal)
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.directory().has_role(role)
    }

    /// Whether an IAM user of this name exists (users come from the configuration only).
    pub fn has_user(&self, name: &str) -> bool {
        self.users.contains_key(name)
    }

    /// An IAM resource ARN as the authorizer must see it: `role/NAME` and `instance-profile/NAME`
    /// (what a request names) become the entity's full ARN, path included, when it exists.
    pub fn with_path(&self, resource: &str) -> String {
        let prefix = format!("arn:aws:iam::{}:", self.account);
        let Some(rest) = resource.strip_prefix(&prefix) else {
            return resource.to_string();
        };
        let dir = self.directory();
        let found = match rest.split_once('/') {
            Some(("role", name)) if !name.contains('/') => {
                dir.role(name).ok().map(|r| r.arn.clone())
            }
            Some(("instance-profile", name)) if !name.contains('/') => {
                dir.profile(name).ok().map(|p| p.arn.clone())
            }
            _ => None,
        };
        found.unwrap_or_else(|| resource.to_string())
    }

    /// Issues temporary credentials for a session of `role_name` (STS AssumeRole, after its checks):
    /// `ASIA…` key, secret, token, valid `duration_secs` from `now_ms` on the virtual clock. Notes
    /// the use on the role.
    pub fn issue_role_session(
        &self,
        role_name: &str,
        session: &str,
        duration_secs: i64,
        now_ms: i64,
        region: &str,
        ids: &IdGen,
    ) -> Result<RoleSession, AwsError> {
        let (principal, role_name, role_arn) = {
            let dir = self.directory();
            let r = dir.role(role_name)?;
            (
                Principal::assumed_role(&self.account, &r.name, &r.arn, &r.id, session),
                r.name.clone(),
                r.arn.clone(),
            )
        };
        let (key, secret, token) = temporary_key(ids);
        let expires = now_ms.div_euclid(1000) + duration_secs;
        let credential = self.add_key(&key, &secret, Some(token), Some(expires), principal);
        self.directory_mut().record_use(&role_name, now_ms, region);
        Ok(RoleSession {
            role_name,
            role_arn,
            credential,
        })
    }

    /// The credentials the metadata service of `instance_id` hands out for the instance profile
    /// it was launched with: a session of the profile's role named after the instance
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-…`), held to the role's policies like any other.
    ///
    /// EC2 assumes the role as `ec2.amazonaws.com`, so the role's trust policy must allow that
    /// service. The same credentials come back until they are within five minutes of expiry (or
    /// the profile's role changes); they last [`INSTANCE_SESSION_SECS`] on the virtual clock.
    pub fn instance_profile_credentials(
        &self,
        profile_arn: &str,
        instance_id: &str,
        now_ms: i64,
        region: &str,
        ids: &IdGen,
    ) -> Result<RoleSession, ProfileSessionError> {
        let (role_name, role_arn, role_id) = {
            let dir = self.directory();
            let profile = dir
                .profile_by_arn(profile_arn)
                .ok_or(ProfileSessionError::NoSuchProfile)?;
            let role = dir
                .profile_role(profile)
                .ok_or(ProfileSessionError::NoRole)?;
            let ctx = RequestContext::new("sts:AssumeRole", role.arn.as_str());
            let trusted =
                evaluate_resource_policy(&role.trust.parsed, &Caller::Service(EC2_SERVICE), &ctx);
            if !trusted.is_allowed() {
                return Err(ProfileSessionError::TrustDenied {
                    role_arn: role.arn.clone(),
                });
            }
            (role.name.clone(), role.arn.clone(), role.id.clone())
        };
        let now = now_ms.div_euclid(1000);
        let cache_key = (profile_arn.to_string(), instance_id.to_string());
        if let Some(c) = self.instance_sessions.get(&cache_key) {
            let fresh = c
                .expires_at
                .is_some_and(|e| e - now > INSTANCE_SESSION_RENEW_SECS);
            if fresh && c.principal.role_id() == Some(role_id.as_str()) {
                return Ok(RoleSession {
                    role_name,
                    role_arn,
                    credential: c.clone(),
                });
            }
        }
        let session = self
            .issue_role_session(
                &role_name,
                instance_id,
                INSTANCE_SESSION_SECS,
                now_ms,
                region,
                ids,
            )
            .map_err(|_| ProfileSessionError::NoRole)?;
        self.instance_sessions
            .insert(cache_key, session.credential.clone());
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_table() {
        let ids = Identities::build("123456789012", &IdentityConfig::default(), None, 0).unwrap();
        let admin = ids.credential("test").unwrap();
        assert_eq!(admin.secret_access_key, "test");
        assert_eq!(admin.principal.arn, "arn:aws:iam::123456789012:user/admin");
        for role in ["controlplane", "etcd", "worker"] {
            let c = ids.credential(role).unwrap();
            assert_eq!(c.secret_access_key, role);
            assert_eq!(c.principal.role(), Some(role));
            assert_eq!(ids.policy_names(&c.principal), vec![role.to_string()]);
        }
        assert_eq!(ids.long_lived_keys().len(), 4);
        let dir = ids.directory();
        for role in ["controlplane", "etcd", "worker"] {
            let r = dir.role(role).unwrap();
            assert_eq!(r.arn, format!("arn:aws:iam::123456789012:role/{role}"));
            assert_eq!(
                Some(r.id.as_str()),
                ids.credential(role).unwrap().principal.role_id()
            );
            assert_eq!(
                r.attached,
                vec![format!("arn:aws:iam::123456789012:policy/{role}")]
            );
            let p = dir.profile(role).unwrap();
            assert_eq!(p.roles, vec![role.to_string()]);
            assert!(p.id.starts_with("AIPA") && p.id.len() == 21);
        }
        assert_eq!(
            dir.policy(ADMINISTRATOR_ACCESS_ARN).unwrap().id,
            "ANPAIWMBCKSKIEE64ZLYK"
        );
    }

    /// Makes a role with a fresh id (each call draws from a new seed).
    fn ec2_trust_role(ids: &Identities, name: &str, path: &str, trust: &str) {
        static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(9);
        let seed = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let doc = Document::new(trust, PolicyDocument::parse_resource_policy(trust).unwrap());
        ids.directory_mut()
            .create_role(
                NewRole {
                    name: name.into(),
                    path: path.into(),
                    trust: doc,
                    description: None,
                    max_session_secs: 3600,
                    tags: Vec::new(),
                    service_linked: false,
                },
                directory::new_id(&IdGen::new(seed), "AROA"),
                0,
            )
            .unwrap();
    }

    #[test]
    fn role_sessions_follow_their_role_and_only_that_role() {
        let ids = Identities::build("123456789012", &IdentityConfig::default(), None, 0).unwrap();
        let gen = IdGen::new(3);
        ec2_trust_role(&ids, "app", "/team/", EC2_TRUST_POLICY);
        let s = ids
            .issue_role_session("app", "s1", 900, 10_000, "us-east-1", &gen)
            .unwrap();
        let c = &s.credential;
        assert!(c.access_key_id.starts_with("ASIA") && c.access_key_id.len() == 20);
        assert_eq!(c.secret_access_key.len(), 40);
        assert!(c
            .session_token
            .as_deref()
            .unwrap()
            .starts_with("IQoJb3JpZ2luX2Vj"));
        assert_eq!(c.expires_at, Some(10 + 900));
        assert_eq!(
            c.principal.arn,
            "arn:aws:sts::123456789012:assumed-role/app/s1"
        );
        assert_eq!(
            c.principal.principal_arn,
            "arn:aws:iam::123456789012:role/team/app"
        );
        assert!(ids.policy_names(&c.principal).is_empty());
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#;
        ids.directory_mut()
            .put_role_policy(
                "app",
                "ec2",
                Document::new(text, PolicyDocument::parse(text).unwrap()),
            )
            .unwrap();
        assert_eq!(ids.policy_names(&c.principal), vec!["ec2"]);
        assert!(ids.directory().role("app").unwrap().last_used.is_some());
        // Deleted and made again: the old session does not inherit the new role.
        ids.directory_mut()
            .delete_role_policy("app", "ec2")
            .unwrap();
        ids.directory_mut().delete_role("app").unwrap();
        assert!(ids.policy_names(&c.principal).is_empty());
        ec2_trust_role(&ids, "app", "/", EC2_TRUST_POLICY);
        ids.directory_mut()
            .put_role_policy(
                "app",
                "ec2",
                Document::new(text, PolicyDocument::parse(text).unwrap()),
            )
            .unwrap();
        assert!(ids.policy_names(&c.principal).is_empty());
        assert_eq!(
            ids.with_path("arn:aws:iam::123456789012:role/worker"),
            "arn:aws:iam::123456789012:role/worker"
        );
        ec2_trust_role(&ids, "deep", "/a/b/", EC2_TRUST_POLICY);
        assert_eq!(
            ids.with_path("arn:aws:iam::123456789012:role/deep"),
            "arn:aws:iam::123456789012:role/a/b/deep"
        );
        assert_eq!(ids.with_path("*"), "*");
    }

    #[test]
    fn instance_profile_credentials_for_the_metadata_service() {
        let ids = Identities::build("123456789012", &IdentityConfig::default(), None, 0).unwrap();
        let gen = IdGen::new(4);
        let worker = "arn:aws:iam::123456789012:instance-profile/worker";
        let start = 1_700_000_000_000;
        let a = ids
            .instance_profile_credentials(worker, "i-0abc", start, "us-east-1", &gen)
            .unwrap();
        assert_eq!(a.role_name, "worker");
        assert_eq!(
            a.credential.principal.arn,
            "arn:aws:sts::123456789012:assumed-role/worker/i-0abc"
        );
        // Held to the worker policy, like the built-in worker key.
        assert_eq!(ids.policy_names(&a.credential.principal), vec!["worker"]);
        assert_eq!(
            a.credential.expires_at,
            Some(start / 1000 + INSTANCE_SESSION_SECS)
        );
        // Asked again: the same credentials, until five minutes before expiry.
        let b = ids
            .instance_profile_credentials(worker, "i-0abc", start + 3_600_000, "us-east-1", &gen)
            .unwrap();
        assert_eq!(a.credential.access_key_id, b.credential.access_key_id);
        let late = start + (INSTANCE_SESSION_SECS - 200) * 1000;
        let c = ids
            .instance_profile_credentials(worker, "i-0abc", late, "us-east-1", &gen)
            .unwrap();
        assert_ne!(a.credential.access_key_id, c.credential.access_key_id);
        let other = ids
            .instance_profile_credentials(worker, "i-0def", start, "us-east-1", &gen)
            .unwrap();
        assert_ne!(other.credential.access_key_id, a.credential.access_key_id);
        assert_eq!(
            ids.instance_profile_credentials(
                "arn:aws:iam::123456789012:instance-profile/ghost",
                "i-0abc",
                start,
                "us-east-1",
                &gen
            )
            .unwrap_err(),
            ProfileSessionError::NoSuchProfile
        );
        ids.directory_mut()
            .create_profile("empty", "/", Vec::new(), "AIPAEMPTY".into(), 0)
            .unwrap();
        assert_eq!(
            ids.instance_profile_credentials(
                "arn:aws:iam::123456789012:instance-profile/empty",
                "i-0abc",
                start,
                "us-east-1",
                &gen
            )
            .unwrap_err(),
            ProfileSessionError::NoRole
        );
        ec2_trust_role(
            &ids,
            "lambda-only",
            "/",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        {
            let mut dir = ids.directory_mut();
            dir.create_profile("lp", "/", Vec::new(), "AIPALP".into(), 0)
                .unwrap();
            dir.add_role_to_profile("lp", "lambda-only").unwrap();
        }
        assert_eq!(
            ids.instance_profile_credentials(
                "arn:aws:iam::123456789012:instance-profile/lp",
                "i-0abc",
                start,
                "us-east-1",
                &gen
            )
            .unwrap_err(),
            ProfileSessionError::TrustDenied {
                role_arn: "arn:aws:iam::123456789012:role/lambda-only".into()
            }
        );
    }

    #[test]
    fn config_adds_roles_and_users_and_can_replace_defaults() {
        let config: IdentityConfig = serde_json::from_value(serde_json::json!({
            "replace_defaults": true,
            "policies": {"read": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}}},
            "roles": {"ci": ["read", "worker"]},
            "principals": [
                {"name": "ci-bot", "access_key_id": "AKIACI", "secret_access_key": "s", "role": "ci"},
                {"name": "alice", "access_key_id": "AKIAALICE", "secret_access_key": "s", "policies": ["AdministratorAccess"]}
            ]
        }))
        .unwrap();
        let ids = Identities::build("111122223333", &config, None, 0).unwrap();
        assert!(ids.credential("test").is_none());
        let ci = ids.credential("AKIACI").unwrap();
        assert_eq!(
            ci.principal.arn,
            "arn:aws:sts::111122223333:assumed-role/ci/ci-bot"
        );
        assert_eq!(ids.policy_names(&ci.principal), vec!["read", "worker"]);
        // Config roles are roles of the account, with an instance profile of the same name.
        assert_eq!(ids.directory().profile("ci").unwrap().roles, vec!["ci"]);
        assert!(ids.directory().role("worker").is_err());
        assert_eq!(
            ids.policy_names(&ids.credential("AKIAALICE").unwrap().principal),
            vec!["AdministratorAccess"]
        );
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let bad = |v: serde_json::Value| {
            let c: IdentityConfig = serde_json::from_value(v).unwrap();
            Identities::build("123456789012", &c, None, 0).unwrap_err()
        };
        let e = bad(
            serde_json::json!({"policies": {"p": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Bogus": 1}}}}),
        );
        assert!(e.contains("policy 'p'") && e.contains("Bogus"), "{e}");
        let e = bad(serde_json::json!({"roles": {"r": ["nope"]}}));
        assert!(e.contains("unknown policy 'nope'"), "{e}");
        let e = bad(
            serde_json::json!({"principals": [{"name": "x", "access_key_id": "a", "secret_access_key": "b", "role": "ghost"}]}),
        );
        assert!(e.contains("unknown role 'ghost'"), "{e}");
    }
}
