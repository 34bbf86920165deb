//! Who is calling: the identity a verified access key stands for.

/// The kind of identity, which decides the caller ARN's shape and where its policies come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user with its own attached policies.
    User,
    /// A session of an IAM role: its policies are the role's, looked up at each call so that a
    /// policy change applies at once, as in AWS.
    AssumedRole { role: String, session: String },
}

/// A caller, as the request context of IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A stable 17-character upper-case id tail derived from a name, so ids do not change between runs.
fn unique_tail(seed: &str) -> String {
    // FNV-1a, then base32-ish letters/digits: only needs to be stable and distinct per name.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..17)
        .map(|i| {
            let v = h.rotate_left(i * 7) ^ u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            ALPHABET[(v % 32) as usize] as char
        })
        .collect()
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

    pub fn role_session(account: &str, role: &str, session: &str) -> Principal {
        let role_arn = format!("arn:aws:iam::{account}:role/{role}");
        Principal {
            name: role.to_string(),
            account: account.to_string(),
            kind: PrincipalKind::AssumedRole {
                role: role.to_string(),
                session: session.to_string(),
            },
            arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            user_id: format!("AROA{}:{session}", unique_tail(&role_arn)),
            principal_arn: role_arn,
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
        let u = Principal::user("123456789012", "admin");
        assert_eq!(u.arn, "arn:aws:iam::123456789012:user/admin");
        assert_eq!(u, Principal::user("123456789012", "admin"));
    }
}
