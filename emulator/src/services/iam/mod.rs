//! IAM (awsQuery `2010-05-08`): roles, their inline and managed policies, instance profiles and
//! service-linked roles. One file per family; the entities and their rules live in
//! [`crate::auth::directory`], so that role sessions are held to exactly what these calls set.
//!
//! What every family shares is here: the model's input constraints (names, paths, documents,
//! tags), policy documents checked by the same parser the evaluator uses
//! (`MalformedPolicyDocument` with its message), URL-encoded documents in answers, dates, and
//! `Marker`/`MaxItems` paging.

pub mod instance_profiles;
pub mod policies;
pub mod role_policies;
pub mod roles;
pub mod service_linked;

use crate::auth::directory::{Document, Role};
use crate::auth::identities::Identities;
use crate::iam::PolicyDocument;
use crate::protocol::constraints::Constraints;
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Scope};
use crate::state::paging;

use super::action::Action;

/// The IAM actions, by family. Roles and instance profiles are authorized by name at path `/`;
/// the pipeline puts back the path of an existing one (`Identities::with_path`).
pub const ACTIONS: &[&[Action]] = &[
    roles::ACTIONS,
    role_policies::ACTIONS,
    policies::ACTIONS,
    instance_profiles::ACTIONS,
    service_linked::ACTIONS,
];

/// `[\w+=,.@-]+`: role, policy, instance profile and inline policy names.
pub const NAME_PATTERN: &str = r"[\w+=,.@-]+";

pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// The path pattern of roles and instance profiles: `/` or `/…/` of printable ASCII.
pub const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";

pub fn is_path(s: &str) -> bool {
    s == "/"
        || (s.len() >= 3
            && s.starts_with('/')
            && s.ends_with('/')
            && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
}

/// The path pattern of managed policies.
pub const POLICY_PATH_PATTERN: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";

pub fn is_policy_path(s: &str) -> bool {
    let Some(inner) = s.strip_suffix('/') else {
        return false;
    };
    inner.is_empty()
        || (inner.starts_with('/')
            && inner[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".,+@=_-".contains(&b))
            }))
}

/// Policy documents: tab, line breaks and Latin-1.
pub const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";

pub fn is_document_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
}

/// Role descriptions.
pub const DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";

pub fn is_description(s: &str) -> bool {
    s.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'))
}

/// Checks a name member (`roleName`, `policyName`, …) of length `1..=max`.
pub fn name(c: &mut Constraints, member: &str, value: Option<&str>, max: usize) {
    c.length(member, value, 1, max)
        .pattern(member, value, NAME_PATTERN, is_name);
}

/// Checks a role or instance profile path.
pub fn path(c: &mut Constraints, member: &str, value: Option<&str>) {
    c.length(member, value, 1, 512)
        .pattern(member, value, PATH_PATTERN, is_path);
}

/// Checks a policy document member's length and characters.
pub fn document(c: &mut Constraints, member: &str, value: Option<&str>) {
    c.length(member, value, 1, 131_072)
        .pattern(member, value, DOCUMENT_PATTERN, is_document_text);
}

fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("MalformedPolicyDocument", message)
}

/// An identity policy (inline or managed) through the evaluator's parser.
pub fn identity_document(text: &str) -> AwsResult<Document> {
    let parsed = PolicyDocument::parse(text).map_err(|e| malformed(e.message))?;
    Ok(Document::new(text, parsed))
}

/// A role trust policy: a resource policy whose statements name principals, carry no
/// `Resource`, and only grant STS actions, as IAM requires of an assume-role policy.
pub fn trust_document(text: &str) -> AwsResult<Document> {
    let parsed = PolicyDocument::parse_resource_policy(text).map_err(|e| malformed(e.message))?;
    // The evaluator's parser accepted it, so it is JSON with a `Statement` of objects.
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
    let statements: Vec<&serde_json::Value> = match json.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for st in statements {
        for field in ["Resource", "NotResource"] {
            if st.get(field).is_some() {
                return Err(malformed(format!("Has prohibited field {field}")));
            }
        }
        let actions: Vec<&str> = match st.get("Action").or_else(|| st.get("NotAction")) {
            Some(serde_json::Value::String(a)) => vec![a.as_str()],
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        if actions
            .iter()
            .any(|a| !a.to_ascii_lowercase().starts_with("sts:"))
        {
            return Err(malformed(
                "AssumeRole policy may only specify STS AssumeRole actions.",
            ));
        }
    }
    Ok(Document::new(text, parsed))
}

/// IAM refuses a trust policy naming a role or user of the account that does not exist
/// (`Invalid principal in policy: "AWS":"ARN"`); principals of other accounts are not checked, as
/// this emulator knows only its own.
pub fn check_trust_principals(identities: &Identities, text: &str) -> AwsResult<()> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(());
    };
    let statements: Vec<&serde_json::Value> = match json.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let own = format!("arn:aws:iam::{}:", identities.account());
    for st in statements {
        for element in ["Principal", "NotPrincipal"] {
            let aws = match st.get(element).and_then(|p| p.get("AWS")) {
                Some(serde_json::Value::String(a)) => vec![a.as_str()],
                Some(serde_json::Value::Array(items)) => {
                    items.iter().filter_map(serde_json::Value::as_str).collect()
                }
                _ => Vec::new(),
            };
            for arn in aws {
                let Some(resource) = arn.strip_prefix(&own) else {
                    continue;
                };
                let exists = match resource.split_once('/') {
                    Some(("role", _)) => identities.directory().role_by_arn(arn).is_some(),
                    Some(("user", rest)) => {
                        identities.has_user(rest.rsplit('/').next().unwrap_or(rest))
                    }
                    _ => true,
                };
                if !exists {
                    return Err(malformed(format!(
                        "Invalid principal in policy: \"AWS\":\"{arn}\""
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Percent-encoding of a policy document, as IAM returns them: everything but RFC 3986's
/// unreserved characters is escaped, UTF-8 byte by byte.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Tags.member.N.{Key,Value}`, checked as IAM checks them: at most 50, keys 1–128 and values
/// 0–256 characters of the model's alphabet, no key twice (keys compare without case).
pub fn tags(p: &Scope<'_>, c: &mut Constraints) -> AwsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let list = p.structs("Tags")?;
    for (i, t) in list.iter().enumerate() {
        let key = t.required("Key")?;
        let value = t.required("Value")?;
        let n = i + 1;
        let tag_char =
            |ch: char| ch.is_alphanumeric() || ch.is_whitespace() || "_.:/=+-@".contains(ch);
        c.length(&format!("tags.{n}.member.key"), Some(key), 1, 128)
            .pattern(
                &format!("tags.{n}.member.key"),
                Some(key),
                r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
                |v| v.chars().all(tag_char),
            )
            .length(&format!("tags.{n}.member.value"), Some(value), 0, 256)
            .pattern(
                &format!("tags.{n}.member.value"),
                Some(value),
                r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
                |v| v.chars().all(tag_char),
            );
        out.push((key.to_string(), value.to_string()));
    }
    if out.len() > 50 {
        return Err(AwsError::new(
            "LimitExceeded",
            "The number of tags has reached the maximum limit.",
            409,
        ));
    }
    let mut keys: Vec<String> = out.iter().map(|(k, _)| k.to_lowercase()).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(AwsError::bad_request(
            "InvalidInput",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    Ok(out)
}

/// `<Tags><member><Key/><Value/></member>…</Tags>`, omitted when there are none.
pub fn render_tags(w: &mut Writer, tags: &[(String, String)]) {
    if tags.is_empty() {
        return;
    }
    w.list("Tags", tags, |w, (k, v)| {
        w.str("Key", k).str("Value", v);
    });
}

/// Which members of a `Role` an answer carries: AWS's answers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleView {
    /// CreateRole, CreateServiceLinkedRole, and the roles inside an instance profile.
    Created,
    /// GetRole: everything, `RoleLastUsed` included.
    Full,
    /// ListRoles: no tags, no last use.
    Listed,
}

/// The members of a `Role` structure.
pub fn render_role(w: &mut Writer, r: &Role, view: RoleView) {
    w.str("Path", &r.path)
        .str("RoleName", &r.name)
        .str("RoleId", &r.id)
        .str("Arn", &r.arn)
        .time("CreateDate", r.created_ms)
        .str("AssumeRolePolicyDocument", url_encode(&r.trust.text))
        .str_opt("Description", r.description.as_deref());
    if view != RoleView::Created {
        w.int("MaxSessionDuration", r.max_session_secs);
    }
    if view != RoleView::Listed {
        render_tags(w, &r.tags);
    }
    if view == RoleView::Full {
        // AWS sends the element even for a role never used.
        w.structure("RoleLastUsed", |w| {
            if let Some((ms, region)) = &r.last_used {
                w.time("LastUsedDate", *ms).str("Region", region);
            }
        });
    }
}

/// `Marker`/`MaxItems` (1–1000, default 100) over a sorted list: the page, and the marker of the
/// next one (answered with `IsTruncated`).
pub fn page<T>(
    p: &Scope<'_>,
    c: &mut Constraints,
    items: Vec<T>,
) -> AwsResult<(Vec<T>, Option<String>)> {
    let max = p.int("MaxItems")?;
    let marker = p.str("Marker");
    c.range("maxItems", max, 1, 1000)
        .length("marker", marker, 1, 320);
    c.check()?;
    paging::page(items, Some(max.unwrap_or(100)), marker, (1, 1000))
        .map_err(|e| AwsError::bad_request("ValidationError", e.message.replace("token", "marker")))
}

/// `<IsTruncated>` and, when there is more, `<Marker>`.
pub fn render_truncation(w: &mut Writer, next: Option<String>) {
    w.bool("IsTruncated", next.is_some())
        .str_opt("Marker", next);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        for ok in ["worker", "a+b=c,d.e@f-g_h", "X"] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ä"] {
            assert!(!is_name(bad), "{bad}");
        }
        for ok in ["/", "/a/", "/a/b/", "///"] {
            assert!(is_path(ok), "{ok}");
        }
        for bad in ["", "a", "/a", "a/", "//", "/a b/"] {
            assert!(!is_path(bad), "{bad}");
        }
        for ok in ["/", "/a/", "/a/b-c/"] {
            assert!(is_policy_path(ok), "{ok}");
        }
        for bad in ["", "//", "/a", "/a b/", "/a//b/"] {
            assert!(!is_policy_path(bad), "{bad}");
        }
        assert!(is_document_text("{\"a\":\"é\"}\n"));
        assert!(!is_document_text("{\"a\":\"€\"}"));
        assert!(is_description(""));
        assert!(!is_description("\u{7f}"));
    }

    #[test]
    fn documents_are_url_encoded_as_iam_answers() {
        assert_eq!(
            url_encode(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
        assert_eq!(url_encode("a~b_c.d-é"), "a~b_c.d-%C3%A9");
        // IAM dates: to the second, without fractions.
        assert_eq!(
            crate::protocol::writer::timestamp(crate::protocol::ServiceId::Iam, 1_700_000_000_123),
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn trust_documents() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
        assert!(trust_document(ok).is_ok());
        let with_resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"}}"#;
        let e = trust_document(with_resource).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            ("MalformedPolicyDocument", "Has prohibited field Resource")
        );
        let other_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ec2:RunInstances"}}"#;
        assert_eq!(
            trust_document(other_action).unwrap_err().message,
            "AssumeRole policy may only specify STS AssumeRole actions."
        );
        let no_principal =
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#;
        assert_eq!(
            trust_document(no_principal).unwrap_err().code,
            "MalformedPolicyDocument"
        );
        assert_eq!(
            identity_document("{").unwrap_err().code,
            "MalformedPolicyDocument"
        );
    }
}
