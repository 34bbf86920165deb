//! The account's IAM entities (roles, managed policies, instance profiles) and the rules that bind
//! them: a role in an instance profile cannot be deleted, a profile holds one role, a service-linked
//! role is only AWS's to change, names are unique without regard to case, and AWS's quotas.
//!
//! One [`Directory`] lives in [`super::identities::Identities`] behind one lock, so that a rule
//! spanning entities holds under concurrent calls. The IAM handlers decode requests and render
//! answers; every rule about these entities, and its AWS error, is here.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::principal::{unique_tail, ID_ALPHABET};
use crate::iam::{Policy, PolicyDocument};
use crate::protocol::AwsError;
use crate::state::ids::IdGen;

/// AWS's default quotas (IAM and STS quotas page), with the wording of its `LimitExceeded`.
pub mod quota {
    pub const ROLES_PER_ACCOUNT: usize = 1000;
    pub const INSTANCE_PROFILES_PER_ACCOUNT: usize = 1000;
    pub const POLICIES_PER_ACCOUNT: usize = 1500;
    pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
    /// Characters of a trust policy, whitespace not counted.
    pub const TRUST_POLICY_SIZE: usize = 2048;
    /// Characters of all inline policies of a role together, whitespace not counted.
    pub const INLINE_POLICY_SIZE_PER_ROLE: usize = 10240;
    /// Characters of one managed policy, whitespace not counted.
    pub const MANAGED_POLICY_SIZE: usize = 6144;
    pub const ROLES_PER_INSTANCE_PROFILE: usize = 1;
}

/// The default `MaxSessionDuration` of a role, in seconds.
pub const DEFAULT_MAX_SESSION_SECS: i64 = 3600;

/// A policy document as it was given (IAM answers with this text, URL-encoded) and compiled.
/// A snapshot keeps the text alone and compiles it again when read back: as an identity policy,
/// or as a resource policy where the field says `with = "trust_document"`.
#[derive(Debug, Clone)]
pub struct Document {
    pub text: String,
    pub parsed: Arc<PolicyDocument>,
}

impl serde::Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Document {
    /// An identity policy's text (inline and managed policies).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = PolicyDocument::parse(&text)
            .map_err(|e| serde::de::Error::custom(format!("policy document: {e}")))?;
        Ok(Document::new(text, parsed))
    }
}

/// A role's trust policy in a snapshot: compiled as the resource policy it is.
mod trust_document {
    use super::{Document, PolicyDocument};
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(doc: &Document, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&doc.text)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Document, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = PolicyDocument::parse_resource_policy(&text)
            .map_err(|e| serde::de::Error::custom(format!("trust policy: {e}")))?;
        Ok(Document::new(text, parsed))
    }
}

impl Document {
    pub fn new(text: impl Into<String>, parsed: PolicyDocument) -> Document {
        Document {
            text: text.into(),
            parsed: Arc::new(parsed),
        }
    }

    /// The size IAM's quotas count: the characters that are not whitespace.
    pub fn size(&self) -> usize {
        self.text.chars().filter(|c| !c.is_whitespace()).count()
    }
}

/// An IAM role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    /// `AROA` + 17 characters.
    pub id: String,
    pub arn: String,
    pub created_ms: i64,
    /// The trust policy: who may assume the role.
    #[serde(with = "trust_document")]
    pub trust: Document,
    pub description: Option<String>,
    pub max_session_secs: i64,
    pub tags: Vec<(String, String)>,
    /// Inline policies (PutRolePolicy) by name; IAM lists them in name order.
    pub inline: BTreeMap<String, Document>,
    /// ARNs of the attached managed policies, in attach order.
    pub attached: Vec<String>,
    /// Made by CreateServiceLinkedRole: only AWS may change or delete it.
    pub service_linked: bool,
    /// When and in which region a session of the role was last made (GetRole's `RoleLastUsed`).
    pub last_used: Option<(i64, String)>,
}

/// A managed policy: customer managed (`arn:aws:iam::ACCOUNT:policy/…`) or AWS managed
/// (`arn:aws:iam::aws:policy/…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    /// `ANPA` + 17 characters.
    pub id: String,
    pub arn: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub document: Document,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl ManagedPolicy {
    pub fn aws_managed(&self) -> bool {
        self.arn.starts_with("arn:aws:iam::aws:")
    }
}

/// An instance profile: the container EC2 passes a role to an instance in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    /// `AIPA` + 17 characters.
    pub id: String,
    pub arn: String,
    pub created_ms: i64,
    /// Names of the roles in the profile (at most one).
    pub roles: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// What CreateRole (or the start-up configuration) asks for.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub trust: Document,
    pub description: Option<String>,
    pub max_session_secs: i64,
    pub tags: Vec<(String, String)>,
    pub service_linked: bool,
}

/// What CreatePolicy asks for.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub name: String,
    pub path: String,
    pub document: Document,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// The IAM entities of one account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Directory {
    account: String,
    /// By lower-cased name: IAM names are unique without regard to case.
    roles: BTreeMap<String, Role>,
    /// By ARN.
    policies: BTreeMap<String, ManagedPolicy>,
    /// By lower-cased name.
    profiles: BTreeMap<String, InstanceProfile>,
}

/// An IAM id: the four-letter kind prefix (`AROA`, `AIPA`, `ANPA`) and 17 characters drawn from
/// the seeded generator.
pub fn new_id(ids: &IdGen, prefix: &str) -> String {
    let mut out = String::with_capacity(21);
    out.push_str(prefix);
    let mut bits = ids.next_u64();
    for i in 0..17 {
        if i == 12 {
            bits = ids.next_u64();
        }
        out.push(ID_ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    out
}

/// The id of an entity that exists from the start: derived from its ARN, so it is the same in every run.
pub fn stable_id(prefix: &str, arn: &str) -> String {
    format!("{prefix}{}", unique_tail(arn))
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn no_such_role(name: &str) -> AwsError {
    AwsError::new(
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
        404,
    )
}

fn no_such_profile(name: &str) -> AwsError {
    AwsError::new(
        "NoSuchEntity",
        format!("Instance Profile {name} cannot be found."),
        404,
    )
}

fn limit(what: &str, n: usize) -> AwsError {
    AwsError::new(
        "LimitExceeded",
        format!("Cannot exceed quota for {what}: {n}"),
        409,
    )
}

fn conflict(message: &str) -> AwsError {
    AwsError::new("DeleteConflict", message, 409)
}

fn protected(role: &Role) -> AwsResultUnit {
    if role.service_linked {
        return Err(AwsError::bad_request(
            "UnmodifiableEntity",
            format!(
                "Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS",
                role.name
            ),
        ));
    }
    Ok(())
}

type AwsResultUnit = Result<(), AwsError>;

impl Directory {
    pub fn new(account: &str) -> Directory {
        Directory {
            account: account.to_string(),
            ..Directory::default()
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    // ---- roles ----

    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        self.roles.get(&key(name)).ok_or_else(|| no_such_role(name))
    }

    fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        self.roles
            .get_mut(&key(name))
            .ok_or_else(|| no_such_role(name))
    }

    pub fn has_role(&self, name: &str) -> bool {
        self.roles.contains_key(&key(name))
    }

    /// Every role, in name order.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// Every managed policy the account holds or uses, in ARN order.
    pub fn policies(&self) -> impl Iterator<Item = &ManagedPolicy> {
        self.policies.values()
    }

    /// The role an ARN names, when it exists with exactly that ARN (path included).
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        let name = arn.rsplit('/').next()?;
        self.roles.get(&key(name)).filter(|r| r.arn == arn)
    }

    /// CreateRole: `EntityAlreadyExists` for a taken name (whatever its case or path).
    pub fn create_role(
        &mut self,
        new: NewRole,
        id: String,
        now_ms: i64,
    ) -> Result<&Role, AwsError> {
        let k = key(&new.name);
        if self.roles.contains_key(&k) {
            return Err(AwsError::new(
                "EntityAlreadyExists",
                format!("Role with name {} already exists.", new.name),
                409,
            ));
        }
        if self.roles.len() >= quota::ROLES_PER_ACCOUNT {
            return Err(limit("RolesPerAccount", quota::ROLES_PER_ACCOUNT));
        }
        check_trust_size(&new.trust)?;
        let arn = format!("arn:aws:iam::{}:role{}{}", self.account, new.path, new.name);
        let role = Role {
            name: new.name,
            path: new.path,
            id,
            arn,
            created_ms: now_ms,
            trust: new.trust,
            description: new.description,
            max_session_secs: new.max_session_secs,
            tags: new.tags,
            inline: BTreeMap::new(),
            attached: Vec::new(),
            service_linked: new.service_linked,
            last_used: None,
        };
        Ok(self.roles.entry(k).or_insert(role))
    }

    /// DeleteRole: only a role that is in no instance profile and has no policies left.
    pub fn delete_role(&mut self, name: &str) -> AwsResultUnit {
        let role = self.role(name)?;
        protected(role)?;
        let k = key(name);
        if self
            .profiles
            .values()
            .any(|p| p.roles.iter().any(|r| key(r) == k))
        {
            return Err(conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        if !role.attached.is_empty() {
            return Err(conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !role.inline.is_empty() {
            return Err(conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        self.roles.remove(&k);
        Ok(())
    }

    /// UpdateAssumeRolePolicy: a new trust policy, within its size quota.
    pub fn set_trust(&mut self, name: &str, trust: Document) -> AwsResultUnit {
        let r = self.role_mut(name)?;
        protected(r)?;
        check_trust_size(&trust)?;
        r.trust = trust;
        Ok(())
    }

    /// UpdateRole: the description and the longest session, each when given.
    pub fn update_role(
        &mut self,
        name: &str,
        description: Option<&str>,
        max_session_secs: Option<i64>,
    ) -> AwsResultUnit {
        let r = self.role_mut(name)?;
        protected(r)?;
        if let Some(d) = description {
            r.description = Some(d.to_string());
        }
        if let Some(m) = max_session_secs {
            r.max_session_secs = m;
        }
        Ok(())
    }

    /// The policies in force for sessions of a role: its inline policies, then its managed ones.
    pub fn role_policies(&self, role: &Role) -> Vec<Policy> {
        let inline = role.inline.iter().map(|(name, d)| Policy {
            name: name.clone(),
            document: d.parsed.clone(),
        });
        let managed = role.attached.iter().filter_map(|arn| {
            self.policies.get(arn).map(|p| Policy {
                name: p.name.clone(),
                document: p.document.parsed.clone(),
            })
        });
        inline.chain(managed).collect()
    }

    /// Notes a new session of the role (GetRole's `RoleLastUsed`).
    pub fn record_use(&mut self, name: &str, now_ms: i64, region: &str) {
        if let Some(r) = self.roles.get_mut(&key(name)) {
            r.last_used = Some((now_ms, region.to_string()));
        }
    }

    // ---- inline policies ----

    /// PutRolePolicy: adds or replaces an inline policy, within the role's size quota.
    pub fn put_role_policy(&mut self, role: &str, policy: &str, doc: Document) -> AwsResultUnit {
        let r = self.role_mut(role)?;
        protected(r)?;
        let others: usize = r
            .inline
            .iter()
            .filter(|(n, _)| n.as_str() != policy)
            .map(|(_, d)| d.size())
            .sum();
        if others + doc.size() > quota::INLINE_POLICY_SIZE_PER_ROLE {
            return Err(AwsError::new(
                "LimitExceeded",
                format!(
                    "Maximum policy size of {} bytes exceeded for role {}",
                    quota::INLINE_POLICY_SIZE_PER_ROLE,
                    r.name
                ),
                409,
            ));
        }
        r.inline.insert(policy.to_string(), doc);
        Ok(())
    }

    /// GetRolePolicy.
    pub fn role_policy(&self, role: &str, policy: &str) -> Result<(&Role, &Document), AwsError> {
        let r = self.role(role)?;
        let d = r
            .inline
            .get(policy)
            .ok_or_else(|| no_such_role_policy(policy))?;
        Ok((r, d))
    }

    /// DeleteRolePolicy.
    pub fn delete_role_policy(&mut self, role: &str, policy: &str) -> AwsResultUnit {
        let r = self.role_mut(role)?;
        protected(r)?;
        r.inline
            .remove(policy)
            .map(|_| ())
            .ok_or_else(|| no_such_role_policy(policy))
    }

    // ---- managed policies ----

    pub fn policy(&self, arn: &str) -> Result<&ManagedPolicy, AwsError> {
        self.policies.get(arn).ok_or_else(|| {
            AwsError::new("NoSuchEntity", format!("Policy {arn} was not found."), 404)
        })
    }

    /// The customer managed policy of this name, whatever its path (names are unique in an account).
    pub fn customer_policy_named(&self, name: &str) -> Option<&ManagedPolicy> {
        let k = key(name);
        self.policies
            .values()
            .find(|p| !p.aws_managed() && key(&p.name) == k)
    }

    /// CreatePolicy.
    pub fn create_policy(
        &mut self,
        new: NewPolicy,
        id: String,
        now_ms: i64,
    ) -> Result<&ManagedPolicy, AwsError> {
        if self.customer_policy_named(&new.name).is_some() {
            return Err(AwsError::new(
                "EntityAlreadyExists",
                format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    new.name
                ),
                409,
            ));
        }
        let customer = self.policies.values().filter(|p| !p.aws_managed()).count();
        if customer >= quota::POLICIES_PER_ACCOUNT {
            return Err(limit("PoliciesPerAccount", quota::POLICIES_PER_ACCOUNT));
        }
        if new.document.size() > quota::MANAGED_POLICY_SIZE {
            return Err(limit("PolicySize", quota::MANAGED_POLICY_SIZE));
        }
        let arn = format!(
            "arn:aws:iam::{}:policy{}{}",
            self.account, new.path, new.name
        );
        Ok(self.insert_policy(ManagedPolicy {
            name: new.name,
            path: new.path,
            id,
            arn,
            created_ms: now_ms,
            updated_ms: now_ms,
            document: new.document,
            description: new.description,
            tags: new.tags,
        }))
    }

    /// Adds (or replaces) a managed policy as it is: the start-up configuration's and AWS's own.
    pub fn insert_policy(&mut self, p: ManagedPolicy) -> &ManagedPolicy {
        let arn = p.arn.clone();
        self.policies.insert(arn.clone(), p);
        &self.policies[&arn]
    }

    /// How many roles a managed policy is attached to.
    pub fn attachment_count(&self, arn: &str) -> usize {
        self.roles
            .values()
            .filter(|r| r.attached.iter().any(|a| a == arn))
            .count()
    }

    /// DeletePolicy: only a policy attached to nothing, and never an AWS managed one.
    pub fn delete_policy(&mut self, arn: &str) -> AwsResultUnit {
        let p = self.policy(arn)?;
        if p.aws_managed() {
            return Err(AwsError::bad_request(
                "InvalidInput",
                format!("ARN {arn} is not valid."),
            ));
        }
        if self.attachment_count(arn) > 0 {
            return Err(conflict("Cannot delete a policy attached to entities."));
        }
        self.policies.remove(arn);
        Ok(())
    }

    /// AttachRolePolicy: attaching an attached policy again changes nothing, as in AWS.
    pub fn attach_role_policy(&mut self, role: &str, arn: &str) -> AwsResultUnit {
        protected(self.role(role)?)?;
        if !self.policies.contains_key(arn) {
            return Err(AwsError::new(
                "NoSuchEntity",
                format!("Policy {arn} does not exist or is not attachable."),
                404,
            ));
        }
        let r = self.role_mut(role)?;
        if r.attached.iter().any(|a| a == arn) {
            return Ok(());
        }
        if r.attached.len() >= quota::MANAGED_POLICIES_PER_ROLE {
            return Err(limit("PoliciesPerRole", quota::MANAGED_POLICIES_PER_ROLE));
        }
        r.attached.push(arn.to_string());
        Ok(())
    }

    /// DetachRolePolicy.
    pub fn detach_role_policy(&mut self, role: &str, arn: &str) -> AwsResultUnit {
        let r = self.role_mut(role)?;
        protected(r)?;
        let before = r.attached.len();
        r.attached.retain(|a| a != arn);
        if r.attached.len() == before {
            return Err(AwsError::new(
                "NoSuchEntity",
                format!("Policy {arn} was not found."),
                404,
            ));
        }
        Ok(())
    }

    /// The managed policies attached to a role, in attach order: (name, ARN, path).
    pub fn attached_policies(&self, role: &Role) -> Vec<&ManagedPolicy> {
        role.attached
            .iter()
            .filter_map(|arn| self.policies.get(arn))
            .collect()
    }

    // ---- instance profiles ----

    pub fn profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        self.profiles
            .get(&key(name))
            .ok_or_else(|| no_such_profile(name))
    }

    /// The instance profile an ARN names, when it exists with exactly that ARN (path included).
    pub fn profile_by_arn(&self, arn: &str) -> Option<&InstanceProfile> {
        let name = arn.rsplit('/').next()?;
        self.profiles.get(&key(name)).filter(|p| p.arn == arn)
    }

    /// Every instance profile, in name order.
    pub fn profiles(&self) -> impl Iterator<Item = &InstanceProfile> {
        self.profiles.values()
    }

    /// The instance profiles that hold a role.
    pub fn profiles_of_role(&self, role: &str) -> Vec<&InstanceProfile> {
        let k = key(role);
        self.profiles
            .values()
            .filter(|p| p.roles.iter().any(|r| key(r) == k))
            .collect()
    }

    /// CreateInstanceProfile.
    pub fn create_profile(
        &mut self,
        name: &str,
        path: &str,
        tags: Vec<(String, String)>,
        id: String,
        now_ms: i64,
    ) -> Result<&InstanceProfile, AwsError> {
        let k = key(name);
        if self.profiles.contains_key(&k) {
            return Err(AwsError::new(
                "EntityAlreadyExists",
                format!("Instance Profile {name} already exists."),
                409,
            ));
        }
        if self.profiles.len() >= quota::INSTANCE_PROFILES_PER_ACCOUNT {
            return Err(limit(
                "InstanceProfilesPerAccount",
                quota::INSTANCE_PROFILES_PER_ACCOUNT,
            ));
        }
        let arn = format!("arn:aws:iam::{}:instance-profile{path}{name}", self.account);
        let profile = InstanceProfile {
            name: name.to_string(),
            path: path.to_string(),
            id,
            arn,
            created_ms: now_ms,
            roles: Vec::new(),
            tags,
        };
        Ok(self.profiles.entry(k).or_insert(profile))
    }

    /// DeleteInstanceProfile: only an empty one.
    pub fn delete_profile(&mut self, name: &str) -> AwsResultUnit {
        let p = self.profile(name)?;
        if !p.roles.is_empty() {
            return Err(conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        self.profiles.remove(&key(name));
        Ok(())
    }

    /// AddRoleToInstanceProfile: a profile holds one role.
    pub fn add_role_to_profile(&mut self, profile: &str, role: &str) -> AwsResultUnit {
        let role_name = self.role(role)?.name.clone();
        let p = self
            .profiles
            .get_mut(&key(profile))
            .ok_or_else(|| no_such_profile(profile))?;
        if p.roles.len() >= quota::ROLES_PER_INSTANCE_PROFILE {
            return Err(limit(
                "InstanceSessionsPerInstanceProfile",
                quota::ROLES_PER_INSTANCE_PROFILE,
            ));
        }
        p.roles.push(role_name);
        Ok(())
    }

    /// RemoveRoleFromInstanceProfile.
    pub fn remove_role_from_profile(&mut self, profile: &str, role: &str) -> AwsResultUnit {
        self.role(role)?;
        let p = self
            .profiles
            .get_mut(&key(profile))
            .ok_or_else(|| no_such_profile(profile))?;
        let k = key(role);
        let before = p.roles.len();
        p.roles.retain(|r| key(r) != k);
        if p.roles.len() == before {
            return Err(no_such_role(role));
        }
        Ok(())
    }

    /// The role an instance profile carries, if any.
    pub fn profile_role(&self, profile: &InstanceProfile) -> Option<&Role> {
        profile.roles.first().and_then(|r| self.roles.get(&key(r)))
    }
}

fn no_such_role_policy(policy: &str) -> AwsError {
    AwsError::new(
        "NoSuchEntity",
        format!("The role policy with name {policy} cannot be found."),
        404,
    )
}

fn check_trust_size(trust: &Document) -> AwsResultUnit {
    if trust.size() > quota::TRUST_POLICY_SIZE {
        return Err(limit("ACLSizePerRole", quota::TRUST_POLICY_SIZE));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    const ALLOW: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}"#;

    fn trust() -> Document {
        Document::new(TRUST, PolicyDocument::parse_resource_policy(TRUST).unwrap())
    }

    fn allow() -> Document {
        Document::new(ALLOW, PolicyDocument::parse(ALLOW).unwrap())
    }

    fn role(name: &str, path: &str) -> NewRole {
        NewRole {
            name: name.into(),
            path: path.into(),
            trust: trust(),
            description: None,
            max_session_secs: DEFAULT_MAX_SESSION_SECS,
            tags: Vec::new(),
            service_linked: false,
        }
    }

    fn dir() -> Directory {
        Directory::new("123456789012")
    }

    #[test]
    fn ids_have_aws_shapes() {
        let ids = IdGen::new(1);
        let a = new_id(&ids, "AROA");
        assert_eq!(a.len(), 21);
        assert!(a.starts_with("AROA"));
        assert!(a[4..].bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_ne!(a, new_id(&ids, "AROA"));
        assert_eq!(new_id(&IdGen::new(1), "AROA"), a);
        let s = stable_id("AIPA", "arn:aws:iam::1:instance-profile/x");
        assert_eq!(s.len(), 21);
        assert_eq!(s, stable_id("AIPA", "arn:aws:iam::1:instance-profile/x"));
    }

    #[test]
    fn role_names_are_unique_without_regard_to_case() {
        let mut d = dir();
        let r = d
            .create_role(role("Node", "/kube/"), "AROA1".into(), 5)
            .unwrap();
        assert_eq!(r.arn, "arn:aws:iam::123456789012:role/kube/Node");
        let e = d
            .create_role(role("node", "/"), "AROA2".into(), 5)
            .unwrap_err();
        assert_eq!((e.code.as_ref(), e.status), ("EntityAlreadyExists", 409));
        assert_eq!(e.message, "Role with name node already exists.");
        assert_eq!(d.role("NODE").unwrap().name, "Node");
        assert!(d
            .role_by_arn("arn:aws:iam::123456789012:role/kube/Node")
            .is_some());
        assert!(d
            .role_by_arn("arn:aws:iam::123456789012:role/Node")
            .is_none());
        let e = d.role("ghost").unwrap_err();
        assert_eq!(e.message, "The role with name ghost cannot be found.");
        assert_eq!(e.status, 404);
    }

    #[test]
    fn delete_role_needs_it_empty_and_out_of_profiles() {
        let mut d = dir();
        d.create_role(role("r", "/"), "AROA1".into(), 0).unwrap();
        d.create_profile("p", "/", Vec::new(), "AIPA1".into(), 0)
            .unwrap();
        d.add_role_to_profile("p", "r").unwrap();
        let e = d.add_role_to_profile("p", "r").unwrap_err();
        assert_eq!(
            e.message,
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
        );
        assert_eq!(
            d.delete_role("r").unwrap_err().message,
            "Cannot delete entity, must remove roles from instance profile first."
        );
        assert_eq!(d.delete_profile("p").unwrap_err().code, "DeleteConflict");
        d.remove_role_from_profile("p", "r").unwrap();
        d.insert_policy(ManagedPolicy {
            name: "read".into(),
            path: "/".into(),
            id: "ANPA1".into(),
            arn: "arn:aws:iam::123456789012:policy/read".into(),
            created_ms: 0,
            updated_ms: 0,
            document: allow(),
            description: None,
            tags: Vec::new(),
        });
        d.attach_role_policy("r", "arn:aws:iam::123456789012:policy/read")
            .unwrap();
        d.attach_role_policy("r", "arn:aws:iam::123456789012:policy/read")
            .unwrap();
        assert_eq!(d.role("r").unwrap().attached.len(), 1);
        assert_eq!(
            d.attachment_count("arn:aws:iam::123456789012:policy/read"),
            1
        );
        assert_eq!(
            d.delete_role("r").unwrap_err().message,
            "Cannot delete entity, must detach all policies first."
        );
        d.detach_role_policy("r", "arn:aws:iam::123456789012:policy/read")
            .unwrap();
        d.put_role_policy("r", "inline", allow()).unwrap();
        let names: Vec<String> = d
            .role_policies(d.role("r").unwrap())
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, vec!["inline"]);
        assert_eq!(
            d.delete_role("r").unwrap_err().message,
            "Cannot delete entity, must delete policies first."
        );
        d.delete_role_policy("r", "inline").unwrap();
        d.delete_role("r").unwrap();
        d.delete_profile("p").unwrap();
        assert!(d.profile("p").is_err());
    }

    #[test]
    fn service_linked_roles_are_protected() {
        let mut d = dir();
        let mut new = role("AWSServiceRoleForX", "/aws-service-role/x.amazonaws.com/");
        new.service_linked = true;
        d.create_role(new, "AROA1".into(), 0).unwrap();
        for e in [
            d.delete_role("AWSServiceRoleForX").unwrap_err(),
            d.put_role_policy("AWSServiceRoleForX", "p", allow())
                .unwrap_err(),
        ] {
            assert_eq!(e.code, "UnmodifiableEntity");
            assert_eq!(e.message, "Cannot perform the operation on the protected role 'AWSServiceRoleForX' - this role is only modifiable by AWS");
        }
    }

    #[test]
    fn quotas() {
        let mut d = dir();
        d.create_role(role("r", "/"), "AROA1".into(), 0).unwrap();
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Sid":"{}","Effect":"Allow","Action":"*","Resource":"*"}}}}"#,
            "a".repeat(10_200)
        );
        let doc = Document::new(big.clone(), PolicyDocument::parse(&big).unwrap());
        let e = d.put_role_policy("r", "p", doc).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "LimitExceeded",
                "Maximum policy size of 10240 bytes exceeded for role r"
            )
        );
        for i in 0..quota::MANAGED_POLICIES_PER_ROLE + 1 {
            let arn = format!("arn:aws:iam::123456789012:policy/p{i}");
            d.insert_policy(ManagedPolicy {
                name: format!("p{i}"),
                path: "/".into(),
                id: format!("ANPA{i}"),
                arn: arn.clone(),
                created_ms: 0,
                updated_ms: 0,
                document: allow(),
                description: None,
                tags: Vec::new(),
            });
            let r = d.attach_role_policy("r", &arn);
            if i < quota::MANAGED_POLICIES_PER_ROLE {
                r.unwrap();
            } else {
                assert_eq!(
                    r.unwrap_err().message,
                    "Cannot exceed quota for PoliciesPerRole: 10"
                );
            }
        }
    }
}
