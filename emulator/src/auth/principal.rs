//! Who is calling: the identity a verified access key stands for.

/// The kind of identity, which decides the caller ARN's shape and where its policies come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PrincipalKind {
    /// An IAM user with its own attached policies.
    User,
    /// A session of an IAM role: its policies are the role's, looked up at each call so that a
    /// policy change applies at once, as in AWS.
    AssumedRole { role: String, session: String },
}

/// A caller, as the request context of IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// The friendly name used in logs and reports (`worker`, `admin`).
    pub name: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// The caller ARN AWS reports in errors and GetCallerIdentity:
    /// `arn:aws:iam::ACCT:user/NAME` or `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `aws:PrincipalArn`: the user ARN, or for a role session the role's ARN.
    pub principal_arn: String,
    /// The unique id GetCallerIdentity reports (`AIDA…`, or `AROA…:SESSION`).
    pub user_id: String,
}

/// The alphabet of IAM unique ids after their four-letter prefix.
pub const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A stable 17-character upper-case id tail derived from a name, so ids of entities that exist
/// from the start (built-in roles, their profiles and policies) do not change between runs.
pub fn unique_tail(seed: &str) -> String {
    // FNV-1a, then base32-ish letters/digits: only needs to be stable and distinct per name.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..17)
        .map(|i| {
            let v = h.rotate_left(i * 7) ^ u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            ID_ALPHABET[(v % 32) as usize] as char
        })
        .collect()
}

/// The unique id of the role with this ARN when it exists from the start (`AROA` + tail).
pub fn stable_role_id(role_arn: &str) -> String {
    format!("AROA{}", unique_tail(role_arn))
}

impl Principal {
    pub fn user(account: &str, name: &str) -> Principal {
        let arn = format!("arn:aws:iam::{account}:user/{name}");
        Principal {
            name: name.to_string(),
            account: account.to_string(),
            kind: PrincipalKind::User,
            principal_arn: arn.clone(),
            user_id: format!("AIDA{}", unique_tail(&arn)),
            arn,
        }
    }

    /// A session of a role that exists from the start (path `/`, stable id).
    pub fn role_session(account: &str, role: &str, session: &str) -> Principal {
        let role_arn = format!("arn:aws:iam::{account}:role/{role}");
        let role_id = stable_role_id(&role_arn);
        Principal::assumed_role(account, role, &role_arn, &role_id, session)
    }

    /// A session of any role: the session ARN drops the role's path, as AWS's does, while
    /// `aws:PrincipalArn` keeps it; the user id is `ROLEID:SESSION`.
    pub fn assumed_role(
        account: &str,
        role: &str,
        role_arn: &str,
        role_id: &str,
        session: &str,
    ) -> Principal {
        Principal {
            name: role.to_string(),
            account: account.to_string(),
            kind: PrincipalKind::AssumedRole {
                role: role.to_string(),
                session: session.to_string(),
            },
            arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            user_id: format!("{role_id}:{session}"),
            principal_arn: role_arn.to_string(),
        }
    }

    /// The unique id of the role behind a role session (`AROA…`), from the user id.
    pub fn role_id(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::AssumedRole { .. } => self.user_id.split_once(':').map(|(id, _)| id),
            PrincipalKind::User => None,
        }
    }

    /// The role behind a role session.
    pub fn role(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::AssumedRole { role, .. } => Some(role),
            PrincipalKind::User => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_have_aws_shapes() {
        let p = Principal::role_session("123456789012", "worker", "i-0abc");
        assert_eq!(
            p.arn,
            "arn:aws:sts::123456789012:assumed-role/worker/i-0abc"
        );
        assert_eq!(p.principal_arn, "arn:aws:iam::123456789012:role/worker");
        assert!(p.user_id.starts_with("AROA") && p.user_id.ends_with(":i-0abc"));
        assert_eq!(p.user_id.len(), 4 + 17 + 1 + 6);
        assert_eq!(p.role_id(), Some(&p.user_id[..21]));
        let q = Principal::assumed_role(
            "123456789012",
            "node",
            "arn:aws:iam::123456789012:role/kube/node",
            "AROAEXAMPLEEXAMPLE123",
            "s1",
        );
        assert_eq!(q.arn, "arn:aws:sts::123456789012:assumed-role/node/s1");
        assert_eq!(q.principal_arn, "arn:aws:iam::123456789012:role/kube/node");
        assert_eq!(q.user_id, "AROAEXAMPLEEXAMPLE123:s1");
        let u = Principal::user("123456789012", "admin");
        assert_eq!(u.arn, "arn:aws:iam::123456789012:user/admin");
        assert_eq!(u, Principal::user("123456789012", "admin"));
    }
}
