//! `Principal` / `NotPrincipal` in resource and trust policies, and matching them against the caller.
//!
//! Supported forms: `"*"`, and an object with `AWS` (`"*"`, a 12-digit account id, or an IAM/STS
//! ARN), `Service` (`ec2.amazonaws.com`) and `Federated` entries, each a string or a list.
//! AWS does not allow wildcards inside principal ARNs, and neither do we.

use serde_json::Value;

/// Who is making the request, as resource-policy evaluation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// An IAM user, role, assumed-role session or account root.
    Aws { arn: &'a str, account: &'a str },
    /// An AWS service acting on its own behalf, e.g. `ec2.amazonaws.com`.
    Service(&'a str),
}

/// One entry of a `Principal` element, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `"Principal": "*"`: everyone, services included.
    Everyone,
    /// `{"AWS": "*"}`: any AWS identity.
    AnyAws,
    /// `{"AWS": "123456789012"}` or `arn:aws:iam::123456789012:root`: every identity of the account.
    Account(String),
    /// A role: the role itself and all its assumed-role sessions.
    Role {
        arn: String,
        partition: String,
        account: String,
        name: String,
    },
    /// Any other IAM/STS ARN (user, assumed-role session, federated user): exact match.
    Arn(String),
    Service(String),
    /// Accepted so trust policies for web identity parse; no [`Caller`] is federated yet, so these
    /// never match.
    Federated(String),
}

/// A statement's `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    negated: bool,
    entries: Vec<Entry>,
}

impl PrincipalSpec {
    /// Parses the value of `Principal` (`negated == false`) or `NotPrincipal`.
    pub(crate) fn parse(value: &Value, negated: bool) -> Result<PrincipalSpec, String> {
        let element = if negated { "NotPrincipal" } else { "Principal" };
        let entries = match value {
            Value::String(s) if s == "*" => vec![Entry::Everyone],
            Value::Object(map) if !map.is_empty() => {
                let mut entries = Vec::new();
                for (kind, v) in map {
                    let items = strings(v).ok_or_else(|| {
                        format!(
                            "{element} \"{kind}\" must be a string or a non-empty list of strings"
                        )
                    })?;
                    for item in items {
                        entries
                            .push(parse_entry(kind, item).map_err(|e| format!("{element}: {e}"))?);
                    }
                }
                entries
            }
            _ => {
                return Err(format!(
                    "{element} must be \"*\" or an object with AWS, Service or Federated entries"
                ))
            }
        };
        Ok(PrincipalSpec { negated, entries })
    }

    /// Does the statement apply to this caller? For `NotPrincipal`: the caller matches no entry.
    pub fn applies_to(&self, caller: &Caller) -> bool {
        self.entries.iter().any(|e| e.matches(caller)) != self.negated
    }
}

fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn parse_entry(kind: &str, value: &str) -> Result<Entry, String> {
    match kind {
        "AWS" => parse_aws(value),
        "Service" => {
            if value.is_empty() || value.contains(['*', '?']) || value.contains(char::is_whitespace)
            {
                Err(format!("invalid service principal \"{value}\""))
            } else {
                Ok(Entry::Service(value.to_ascii_lowercase()))
            }
        }
        "Federated" => {
            if value.is_empty() || value.contains(['*', '?']) {
                Err(format!("invalid federated principal \"{value}\""))
            } else {
                Ok(Entry::Federated(value.to_string()))
            }
        }
        other => Err(format!("unsupported principal type \"{other}\"")),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_aws(value: &str) -> Result<Entry, String> {
    if value == "*" {
        return Ok(Entry::AnyAws);
    }
    if is_account_id(value) {
        return Ok(Entry::Account(value.to_string()));
    }
    let invalid = || {
        format!("invalid AWS principal \"{value}\" (expected \"*\", an account id or an IAM ARN)")
    };
    if value.contains(['*', '?']) {
        return Err(invalid());
    }
    let arn = Arn::parse(value).ok_or_else(invalid)?;
    if !is_account_id(arn.account) || !arn.region.is_empty() {
        return Err(invalid());
    }
    match (arn.service, arn.resource) {
        ("iam", "root") => Ok(Entry::Account(arn.account.to_string())),
        ("iam", r) if r.starts_with("role/") => {
            let name = r.rsplit('/').next().unwrap_or_default();
            if name.is_empty() {
                return Err(invalid());
            }
            Ok(Entry::Role {
                arn: value.to_string(),
                partition: arn.partition.to_string(),
                account: arn.account.to_string(),
                name: name.to_string(),
            })
        }
        ("iam", r) if r.starts_with("user/") || r.starts_with("federated-user/") => {
            Ok(Entry::Arn(value.to_string()))
        }
        ("sts", r) if r.starts_with("assumed-role/") || r.starts_with("federated-user/") => {
            Ok(Entry::Arn(value.to_string()))
        }
        _ => Err(invalid()),
    }
}

/// The six colon-separated parts of an ARN; the resource part keeps any further colons.
struct Arn<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> Arn<'a> {
    fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }
}

impl Entry {
    fn matches(&self, caller: &Caller) -> bool {
        match (self, caller) {
            (Entry::Everyone, _) => true,
            (Entry::AnyAws, Caller::Aws { .. }) => true,
            (Entry::Account(acct), Caller::Aws { account, .. }) => acct == account,
            (
                Entry::Role {
                    arn,
                    partition,
                    account,
                    name,
                },
                Caller::Aws {
                    arn: caller_arn, ..
                },
            ) => {
                if arn == caller_arn {
                    return true;
                }
                // arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION (no role path).
                let Some(session) = Arn::parse(caller_arn) else {
                    return false;
                };
                let Some(rest) = session.resource.strip_prefix("assumed-role/") else {
                    return false;
                };
                session.service == "sts"
                    && session.partition == partition
                    && session.account == account
                    && rest
                        .split_once('/')
                        .is_some_and(|(role, s)| role == name && !s.is_empty())
            }
            (
                Entry::Arn(arn),
                Caller::Aws {
                    arn: caller_arn, ..
                },
            ) => arn == caller_arn,
            (Entry::Service(name), Caller::Service(service)) => name.eq_ignore_ascii_case(service),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::123456789012:role/kube/node";

    fn spec(v: Value) -> PrincipalSpec {
        PrincipalSpec::parse(&v, false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn aws<'a>(arn: &'a str, account: &'a str) -> Caller<'a> {
        Caller::Aws { arn, account }
    }

    #[test]
    fn star_matches_everyone() {
        let s = spec(json!("*"));
        assert!(s.applies_to(&aws(ROLE, "123456789012")));
        assert!(s.applies_to(&Caller::Service("ec2.amazonaws.com")));
        let any_aws = spec(json!({"AWS": "*"}));
        assert!(any_aws.applies_to(&aws(ROLE, "123456789012")));
        assert!(!any_aws.applies_to(&Caller::Service("ec2.amazonaws.com")));
    }

    #[test]
    fn account_matches_all_its_principals() {
        for form in ["123456789012", "arn:aws:iam::123456789012:root"] {
            let s = spec(json!({"AWS": form}));
            assert!(s.applies_to(&aws(ROLE, "123456789012")), "{form}");
            assert!(s.applies_to(&aws("arn:aws:iam::123456789012:user/alice", "123456789012")));
            assert!(!s.applies_to(&aws("arn:aws:iam::999999999999:user/alice", "999999999999")));
            assert!(!s.applies_to(&Caller::Service("ec2.amazonaws.com")));
        }
    }

    #[test]
    fn role_matches_itself_and_its_sessions() {
        let s = spec(json!({"AWS": [ROLE]}));
        assert!(s.applies_to(&aws(ROLE, "123456789012")));
        assert!(s.applies_to(&aws(
            "arn:aws:sts::123456789012:assumed-role/node/i-0abc",
            "123456789012"
        )));
        assert!(!s.applies_to(&aws(
            "arn:aws:sts::123456789012:assumed-role/other/i-0abc",
            "123456789012"
        )));
        assert!(!s.applies_to(&aws(
            "arn:aws:sts::999999999999:assumed-role/node/i-0abc",
            "999999999999"
        )));
        assert!(!s.applies_to(&aws(
            "arn:aws:sts::123456789012:assumed-role/node/",
            "123456789012"
        )));
        assert!(!s.applies_to(&aws(
            "arn:aws-cn:sts::123456789012:assumed-role/node/s",
            "123456789012"
        )));
        assert!(!s.applies_to(&aws("arn:aws:iam::123456789012:user/node", "123456789012")));
    }

    #[test]
    fn users_and_sessions_match_exactly() {
        let s = spec(json!({"AWS": "arn:aws:iam::123456789012:user/alice"}));
        assert!(s.applies_to(&aws("arn:aws:iam::123456789012:user/alice", "123456789012")));
        assert!(!s.applies_to(&aws("arn:aws:iam::123456789012:user/bob", "123456789012")));
        let session = spec(json!({"AWS": "arn:aws:sts::123456789012:assumed-role/node/s1"}));
        assert!(session.applies_to(&aws(
            "arn:aws:sts::123456789012:assumed-role/node/s1",
            "123456789012"
        )));
        assert!(!session.applies_to(&aws(
            "arn:aws:sts::123456789012:assumed-role/node/s2",
            "123456789012"
        )));
    }

    #[test]
    fn service_principals() {
        let s = spec(json!({"Service": ["ec2.amazonaws.com", "eks.amazonaws.com"]}));
        assert!(s.applies_to(&Caller::Service("ec2.amazonaws.com")));
        assert!(s.applies_to(&Caller::Service("EKS.amazonaws.com")));
        assert!(!s.applies_to(&Caller::Service("lambda.amazonaws.com")));
        assert!(!s.applies_to(&aws(ROLE, "123456789012")));
        let fed = spec(json!({"Federated": "arn:aws:iam::123456789012:oidc-provider/example.com"}));
        assert!(!fed.applies_to(&aws(ROLE, "123456789012")));
    }

    #[test]
    fn not_principal_inverts() {
        let s = PrincipalSpec::parse(&json!({"AWS": "123456789012"}), true).unwrap();
        assert!(!s.applies_to(&aws(ROLE, "123456789012")));
        assert!(s.applies_to(&aws("arn:aws:iam::999999999999:user/x", "999999999999")));
        assert!(s.applies_to(&Caller::Service("ec2.amazonaws.com")));
    }

    #[test]
    fn rejections() {
        let err = |v: Value| PrincipalSpec::parse(&v, false).unwrap_err();
        assert!(err(json!("arn:aws:iam::123456789012:root")).contains("must be \"*\" or an object"));
        assert!(err(json!({})).contains("must be"));
        assert!(err(json!({"CanonicalUser": "abc"}))
            .contains("unsupported principal type \"CanonicalUser\""));
        assert!(err(json!({"AWS": []})).contains("non-empty list"));
        assert!(err(json!({"AWS": 123456789012u64})).contains("must be a string"));
        assert!(err(json!({"AWS": "arn:aws:iam::123456789012:role/*"}))
            .contains("invalid AWS principal"));
        assert!(err(json!({"AWS": "12345"})).contains("invalid AWS principal"));
        assert!(err(json!({"AWS": "arn:aws:s3:::bucket"})).contains("invalid AWS principal"));
        assert!(
            err(json!({"AWS": "arn:aws:iam::123456789012:group/admins"}))
                .contains("invalid AWS principal")
        );
        assert!(err(json!({"Service": "*"})).contains("invalid service principal"));
        assert!(PrincipalSpec::parse(&json!(7), true)
            .unwrap_err()
            .starts_with("NotPrincipal"));
    }
}
