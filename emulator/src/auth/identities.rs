//! The identities one emulator knows: access keys, the users and role sessions they stand for, and
//! the policies of each.
//!
//! Built from [`IdentityConfig`] at start and at reset. Roles hold their policies here and role
//! sessions look them up at each call, so the IAM service (and a config file) can change what a
//! role may do and every session of it follows at once, as in AWS.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use super::principal::{Principal, PrincipalKind};
use crate::iam::{builtin, Policy, PolicyDocument};

/// One access key and whom it stands for.
#[derive(Debug, Clone)]
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

/// All identities of one emulator.
#[derive(Debug)]
pub struct Identities {
    account: String,
    roles: DashMap<String, Vec<Policy>>,
    users: DashMap<String, Vec<Policy>>,
    credentials: DashMap<String, Arc<Credential>>,
}

impl Identities {
    /// Builds the identities a config describes. Fails with a message naming the bad policy or
    /// reference; a policy with an unsupported element is refused here, never ignored.
    pub fn build(
        account: &str,
        config: &IdentityConfig,
        base_dir: Option<&Path>,
    ) -> Result<Identities, String> {
        let mut policies: BTreeMap<String, Policy> = [
            builtin::admin(),
            builtin::controlplane(),
            builtin::etcd(),
            builtin::worker(),
        ]
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
        for (name, source) in &config.policies {
            let text = match source {
                PolicySource::Inline(v) => v.to_string(),
                PolicySource::File(path) => {
                    let full = base_dir
                        .map(|d| d.join(path))
                        .unwrap_or_else(|| path.into());
                    std::fs::read_to_string(&full).map_err(|e| {
                        format!("policy '{name}': cannot read {}: {e}", full.display())
                    })?
                }
            };
            let document =
                PolicyDocument::parse(&text).map_err(|e| format!("policy '{name}': {e}"))?;
            policies.insert(
                name.clone(),
                Policy {
                    name: name.clone(),
                    document: Arc::new(document),
                },
            );
        }
        let resolve = |names: &[String], whose: &str| -> Result<Vec<Policy>, String> {
            names
                .iter()
                .map(|n| {
                    policies
                        .get(n)
                        .cloned()
                        .ok_or_else(|| format!("{whose} names unknown policy '{n}'"))
                })
                .collect()
        };
        let ids = Identities {
            account: account.to_string(),
            roles: DashMap::new(),
            users: DashMap::new(),
            credentials: DashMap::new(),
        };
        if !config.replace_defaults {
            for (name, key, secret, role) in DEFAULT_PRINCIPALS {
                match role {
                    Some(role) => {
                        ids.roles
                            .insert(role.to_string(), vec![policies[role].clone()]);
                        ids.add_key(
                            key,
                            secret,
                            None,
                            None,
                            Principal::role_session(account, role, DEFAULT_SESSION),
                        );
                    }
                    None => {
                        ids.users.insert(
                            name.to_string(),
                            vec![policies["AdministratorAccess"].clone()],
                        );
                        ids.add_key(key, secret, None, None, Principal::user(account, name));
                    }
                }
            }
        }
        for (role, names) in &config.roles {
            ids.roles
                .insert(role.clone(), resolve(names, &format!("role '{role}'"))?);
        }
        for p in &config.principals {
            let principal = match &p.role {
                Some(role) => {
                    if !p.policies.is_empty() {
                        return Err(format!(
                            "principal '{}': give either a role or policies, not both",
                            p.name
                        ));
                    }
                    if !ids.roles.contains_key(role) {
                        return Err(format!(
                            "principal '{}' names unknown role '{role}'",
                            p.name
                        ));
                    }
                    Principal::role_session(account, role, &p.name)
                }
                None => {
                    ids.users.insert(
                        p.name.clone(),
                        resolve(&p.policies, &format!("principal '{}'", p.name))?,
                    );
                    Principal::user(account, &p.name)
                }
            };
            ids.add_key(
                &p.access_key_id,
                &p.secret_access_key,
                None,
                None,
                principal,
            );
        }
        Ok(ids)
    }

    pub fn account(&self) -> &str {
        &self.account
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

    /// The policies in force for a principal right now.
    pub fn policies_for(&self, principal: &Principal) -> Vec<Policy> {
        let (map, key) = match &principal.kind {
            PrincipalKind::AssumedRole { role, .. } => (&self.roles, role),
            PrincipalKind::User => (&self.users, &principal.name),
        };
        map.get(key).map(|p| p.clone()).unwrap_or_default()
    }

    /// Names of the policies of a principal, for reports.
    pub fn policy_names(&self, principal: &Principal) -> Vec<String> {
        self.policies_for(principal)
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Replaces a role's policies (the IAM service and tests use this).
    pub fn set_role_policies(&self, role: &str, policies: Vec<Policy>) {
        self.roles.insert(role.to_string(), policies);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_table() {
        let ids = Identities::build("123456789012", &IdentityConfig::default(), None).unwrap();
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
        let ids = Identities::build("111122223333", &config, None).unwrap();
        assert!(ids.credential("test").is_none());
        let ci = ids.credential("AKIACI").unwrap();
        assert_eq!(
            ci.principal.arn,
            "arn:aws:sts::111122223333:assumed-role/ci/ci-bot"
        );
        assert_eq!(ids.policy_names(&ci.principal), vec!["read", "worker"]);
        assert_eq!(
            ids.policy_names(&ids.credential("AKIAALICE").unwrap().principal),
            vec!["AdministratorAccess"]
        );
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let bad = |v: serde_json::Value| {
            let c: IdentityConfig = serde_json::from_value(v).unwrap();
            Identities::build("123456789012", &c, None).unwrap_err()
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
