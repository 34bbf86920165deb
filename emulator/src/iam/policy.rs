//! Policy documents: parsing, validation and the per-statement match.
//!
//! Parsing is strict on purpose. An element, operator or value we do not understand is an error
//! naming it and its statement, because the alternative, ignoring it, changes what the policy
//! means, and in a permission system that usually means allowing more than the author intended.
//! Everything the evaluator needs (lower-cased action globs, compiled resource globs, parsed
//! condition values) is prepared here so that evaluation does no parsing and, for policies
//! without variables, no allocation.

use super::condition::{self, Condition};
use super::context::RequestContext;
pub use super::principal::Caller;
use super::principal::PrincipalSpec;
use super::strict_json;
use super::variables::Glob;
use super::wildcard::Pattern;
use serde_json::{Map, Value};
use std::fmt;

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// The policy language version. Only 2012-10-17 has policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Whether a document is attached to an identity or to a resource (trust policies included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Resource,
}

/// A parsed, validated and precompiled policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    kind: PolicyKind,
    version: Version,
    id: Option<String>,
    statements: Vec<Statement>,
}

/// A list of globs, or the negation of one (`NotAction`, `NotResource`).
#[derive(Debug, Clone)]
struct Globs<T> {
    negated: bool,
    patterns: Vec<T>,
}

/// One statement, compiled.
#[derive(Debug, Clone)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<PrincipalSpec>,
    actions: Globs<Pattern>,
    /// `None`: a resource-policy statement without `Resource`, which covers the resource it is
    /// attached to, whatever that is.
    resources: Option<Globs<Glob>>,
    conditions: Vec<Condition>,
}

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl PolicyDocument {
    /// Parses an identity policy (attached to a user, group or role). `Principal` and
    /// `NotPrincipal` are rejected: the principal is whoever the policy is attached to.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        parse_document(text, PolicyKind::Identity)
    }

    /// Parses a resource policy or role trust policy: every statement must name its principals
    /// with `Principal` or `NotPrincipal`; `Resource` may be omitted.
    pub fn parse_resource_policy(text: &str) -> Result<PolicyDocument, PolicyError> {
        parse_document(text, PolicyKind::Resource)
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// A document with no statements: it allows nothing. Used when a built-in fails to load.
    pub(crate) fn empty() -> PolicyDocument {
        PolicyDocument {
            kind: PolicyKind::Identity,
            version: Version::V2012_10_17,
            id: None,
            statements: Vec::new(),
        }
    }
}

impl Statement {
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The statement's `Principal`/`NotPrincipal`; always `None` in identity policies.
    pub fn principal(&self) -> Option<&PrincipalSpec> {
        self.principal.as_ref()
    }

    /// Does the statement cover this request: action, resource and every condition?
    /// (Principals are checked by the resource-policy evaluator, which knows the caller.)
    pub fn matches_request(&self, ctx: &RequestContext) -> bool {
        self.matches_action(&ctx.action)
            && self.matches_resource(ctx)
            && self.conditions.iter().all(|c| c.holds(ctx))
    }

    fn matches_action(&self, action: &str) -> bool {
        self.actions.patterns.iter().any(|p| p.is_match(action)) != self.actions.negated
    }

    fn matches_resource(&self, ctx: &RequestContext) -> bool {
        match &self.resources {
            None => true,
            Some(r) => r.patterns.iter().any(|g| g.matches(ctx, &ctx.resource)) != r.negated,
        }
    }
}

/// `statement 2 (Sid "X")`, or `statement 2` without a Sid: where error messages point.
pub(crate) fn statement_label(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("statement {index} (Sid {sid:?})"),
        None => format!("statement {index}"),
    }
}

fn parse_document(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
    let value = strict_json::parse(text)
        .map_err(|e| PolicyError::new(format!("policy is not valid JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(PolicyError::new("policy must be a JSON object"));
    };
    if let Some(unknown) = top.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(PolicyError::new(format!(
            "unsupported top-level element \"{unknown}\""
        )));
    }
    let version = match top.get("Version") {
        None => Version::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
        Some(Value::String(v)) => {
            return Err(PolicyError::new(format!(
                "unsupported Version \"{v}\" (expected \"2012-10-17\" or \"2008-10-17\")"
            )))
        }
        Some(_) => return Err(PolicyError::new("Version must be a string")),
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(PolicyError::new("Id must be a string")),
    };
    let raw: Vec<&Value> = match top.get("Statement") {
        None => return Err(PolicyError::new("policy has no Statement")),
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PolicyError::new("Statement is an empty list"))
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(_) => {
            return Err(PolicyError::new(
                "Statement must be an object or a list of objects",
            ))
        }
    };
    let statements = raw
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_statement(i, v, version, kind))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument {
        kind,
        version,
        id,
        statements,
    })
}

fn parse_statement(
    index: usize,
    value: &Value,
    version: Version,
    kind: PolicyKind,
) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return Err(PolicyError::new(format!(
            "statement {index} must be an object"
        )));
    };
    let sid = match map.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(PolicyError::new(format!(
                "Sid must be a string in statement {index}"
            )))
        }
    };
    let label = statement_label(index, sid.as_deref());
    let fail = |msg: String| PolicyError::new(format!("{msg} in {label}"));

    if let Some(unknown) = map
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(fail(format!("unsupported element \"{unknown}\"")));
    }

    let effect = match map.get("Effect") {
        None => return Err(fail("missing Effect".into())),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => {
            return Err(fail(format!(
                "unsupported Effect \"{e}\" (expected \"Allow\" or \"Deny\")"
            )))
        }
        Some(_) => {
            return Err(fail(
                "Effect must be the string \"Allow\" or \"Deny\"".into(),
            ))
        }
    };

    let principal = match (
        kind,
        one_of(map, "Principal", "NotPrincipal").map_err(&fail)?,
    ) {
        (PolicyKind::Identity, Some((name, _, _))) => {
            return Err(fail(format!("{name} is not allowed in an identity policy")))
        }
        (PolicyKind::Identity, None) => None,
        (PolicyKind::Resource, None) => {
            return Err(fail(
                "missing Principal or NotPrincipal (required in a resource policy)".into(),
            ))
        }
        (PolicyKind::Resource, Some((_, v, negated))) => {
            Some(PrincipalSpec::parse(v, negated).map_err(&fail)?)
        }
    };

    let Some((action_name, action_value, negated)) =
        one_of(map, "Action", "NotAction").map_err(&fail)?
    else {
        return Err(fail("missing Action or NotAction".into()));
    };
    let actions = Globs {
        negated,
        patterns: string_list(action_name, action_value)
            .and_then(|list| list.into_iter().map(parse_action).collect())
            .map_err(&fail)?,
    };

    let variables = version == Version::V2012_10_17;
    let resources = match one_of(map, "Resource", "NotResource").map_err(&fail)? {
        None if kind == PolicyKind::Identity => {
            return Err(fail("missing Resource or NotResource".into()))
        }
        None => None,
        Some((name, v, negated)) => Some(Globs {
            negated,
            patterns: string_list(name, v)
                .and_then(|list| {
                    list.into_iter()
                        .map(|r| parse_resource(r, variables))
                        .collect()
                })
                .map_err(&fail)?,
        }),
    };

    let conditions = match map.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, variables).map_err(&fail)?,
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

/// At most one of two mutually exclusive elements: `(name, value, is_the_negated_one)`.
fn one_of<'m>(
    map: &'m Map<String, Value>,
    positive: &'static str,
    negated: &'static str,
) -> Result<Option<(&'static str, &'m Value, bool)>, String> {
    match (map.get(positive), map.get(negated)) {
        (Some(_), Some(_)) => Err(format!("{positive} and {negated} cannot both be present")),
        (Some(v), None) => Ok(Some((positive, v, false))),
        (None, Some(v)) => Ok(Some((negated, v, true))),
        (None, None) => Ok(None),
    }
}

/// A string or a non-empty list of strings.
fn string_list<'v>(element: &str, value: &'v Value) -> Result<Vec<&'v str>, String> {
    let bad = || format!("{element} must be a string or a non-empty list of strings");
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if items.is_empty() => Err(format!("{element} is an empty list")),
        Value::Array(items) => items.iter().map(|v| v.as_str().ok_or_else(bad)).collect(),
        _ => Err(bad()),
    }
}

/// `*` or `service:Action` (either part may hold wildcards). Matched case-insensitively.
fn parse_action(action: &str) -> Result<Pattern, String> {
    let valid = action == "*"
        || action.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty()
                && !name.is_empty()
                && !name.contains(':')
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '?'))
                && !name.chars().any(char::is_whitespace)
        });
    if !valid {
        return Err(format!(
            "invalid action \"{action}\" (expected \"service:ActionName\" or \"*\")"
        ));
    }
    Ok(Pattern::new(action, true))
}

/// `*` or an ARN (glob, possibly with policy variables). Matched case-sensitively. Anything
/// else (a bare instance id, say) could never match, which would silently disable a Deny.
fn parse_resource(resource: &str, variables: bool) -> Result<Glob, String> {
    if resource != "*" && !resource.starts_with("arn:") {
        return Err(format!(
            "invalid resource \"{resource}\" (expected an ARN or \"*\")"
        ));
    }
    Glob::parse(resource, variables, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PolicyDocument {
        PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: &str) -> String {
        PolicyDocument::parse(text).unwrap_err().message
    }

    fn matches(doc: &PolicyDocument, action: &str, resource: &str) -> bool {
        doc.statements()[0].matches_request(&RequestContext::new(action, resource))
    }

    #[test]
    fn statement_as_object_and_as_list() {
        let single = parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}"#,
        );
        assert_eq!(single.statements().len(), 1);
        let list = parse(
            r#"{"Version": "2012-10-17", "Id": "p", "Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": ["*"]},
                {"Effect": "Deny", "Action": "ec2:DeleteVolume", "Resource": "*"}]}"#,
        );
        assert_eq!(list.statements().len(), 2);
        assert_eq!(list.id(), Some("p"));
        assert_eq!(list.statements()[0].sid(), Some("A"));
        assert_eq!(list.statements()[1].effect(), Effect::Deny);
        assert_eq!(list.version(), Version::V2012_10_17);
    }

    #[test]
    fn version_defaults_to_2008() {
        let doc = parse(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#);
        assert_eq!(doc.version(), Version::V2008_10_17);
        let old = parse(
            r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        );
        assert_eq!(old.version(), Version::V2008_10_17);
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards() {
        let doc = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": ["EC2:describe*", "s3:Get?bject"], "Resource": "*"}}"#,
        );
        assert!(matches(&doc, "ec2:DescribeInstances", "*"));
        assert!(matches(&doc, "S3:GETOBJECT", "*"));
        assert!(!matches(&doc, "ec2:CreateVolume", "*"));
        assert!(!matches(&doc, "s3:GetObjects", "*"));
    }

    #[test]
    fn resources_match_case_sensitively() {
        let doc = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:ec2:*:*:volume/vol-*"}}"#,
        );
        assert!(matches(
            &doc,
            "ec2:AttachVolume",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
        ));
        assert!(!matches(
            &doc,
            "ec2:AttachVolume",
            "arn:aws:ec2:us-east-1:123456789012:Volume/vol-1"
        ));
        assert!(!matches(
            &doc,
            "ec2:AttachVolume",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        ));
    }

    #[test]
    fn not_action_and_not_resource() {
        let doc = parse(
            r#"{"Statement": {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}}"#,
        );
        assert!(matches(&doc, "ec2:RunInstances", "*"));
        assert!(!matches(&doc, "iam:CreateUser", "*"));
        assert!(!matches(&doc, "STS:AssumeRole", "*"));
        let doc = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "NotResource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"]}}"#,
        );
        assert!(matches(&doc, "s3:GetObject", "arn:aws:s3:::public/x"));
        assert!(!matches(&doc, "s3:GetObject", "arn:aws:s3:::secret/x"));
        assert!(!matches(&doc, "s3:GetObject", "arn:aws:s3:::secret"));
    }

    #[test]
    fn resource_variables() {
        let doc = parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:*AccessKey*",
                "Resource": "arn:aws:iam::123456789012:user/${aws:username}"}}"#,
        );
        let st = &doc.statements()[0];
        let arn = "arn:aws:iam::123456789012:user/alice";
        assert!(st.matches_request(
            &RequestContext::new("iam:CreateAccessKey", arn).with("aws:username", "alice")
        ));
        assert!(!st.matches_request(
            &RequestContext::new("iam:CreateAccessKey", arn).with("aws:username", "bob")
        ));
        // The variable's key is absent: the entry matches nothing.
        assert!(!st.matches_request(&RequestContext::new("iam:CreateAccessKey", arn)));
        // Absent variable in NotResource: that entry excludes nothing.
        let not = parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*",
                "NotResource": "arn:aws:s3:::home/${aws:username}/*"}}"#,
        );
        assert!(not.statements()[0].matches_request(&RequestContext::new(
            "s3:GetObject",
            "arn:aws:s3:::home/alice/x"
        )));
        assert!(!not.statements()[0].matches_request(
            &RequestContext::new("s3:GetObject", "arn:aws:s3:::home/alice/x")
                .with("aws:username", "alice")
        ));
        // Escapes.
        let esc = parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${*}${?}${$}"}}"#,
        );
        assert!(matches(&esc, "s3:GetObject", "arn:aws:s3:::b/*?$"));
        assert!(!matches(&esc, "s3:GetObject", "arn:aws:s3:::b/xy$"));
        // 2008-10-17: no variables, the text is literal.
        let old = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:username}"}}"#,
        );
        assert!(matches(
            &old,
            "s3:GetObject",
            "arn:aws:s3:::${aws:username}"
        ));
    }

    #[test]
    fn conditions_are_anded_into_the_match() {
        let doc = parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}, "Bool": {"aws:SecureTransport": true}}}}"#,
        );
        let st = &doc.statements()[0];
        let base = RequestContext::new("ec2:RunInstances", "*");
        assert!(st.matches_request(
            &base
                .clone()
                .with("aws:RequestedRegion", "us-east-1")
                .with("aws:SecureTransport", "true")
        ));
        assert!(!st.matches_request(&base.clone().with("aws:RequestedRegion", "us-east-1")));
        assert!(!st.matches_request(
            &base
                .with("aws:RequestedRegion", "eu-west-1")
                .with("aws:SecureTransport", "true")
        ));
        assert_eq!(st.conditions().len(), 2);
    }

    #[test]
    fn resource_policies() {
        let doc = PolicyDocument::parse_resource_policy(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}}"#,
        )
        .unwrap();
        assert_eq!(doc.kind(), PolicyKind::Resource);
        assert!(doc.statements()[0].principal().is_some());
        // No Resource in a resource policy: any resource.
        assert!(matches(
            &doc,
            "sts:AssumeRole",
            "arn:aws:iam::123456789012:role/node"
        ));
        let e = PolicyDocument::parse_resource_policy(
            r#"{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "missing Principal or NotPrincipal (required in a resource policy) in statement 0"
        );
        let e = PolicyDocument::parse_resource_policy(
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "sts:AssumeRole"}}"#,
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("Principal and NotPrincipal cannot both be present"),
            "{e}"
        );
        let e = PolicyDocument::parse_resource_policy(
            r#"{"Statement": {"Sid": "T", "Effect": "Allow", "Principal": {"AWS": "root"}, "Action": "sts:AssumeRole"}}"#,
        )
        .unwrap_err();
        assert!(
            e.message.contains("invalid AWS principal \"root\"")
                && e.message.ends_with("in statement 0 (Sid \"T\")"),
            "{e}"
        );
    }

    #[test]
    fn rejects_with_named_element_and_statement() {
        let stmt = |body: &str| {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}}, {body}]}}"#
            )
        };
        assert_eq!(
            err(&stmt(
                r#"{"Sid": "X", "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringMatches": {"a:b": "c"}}}"#
            )),
            "unsupported condition operator \"StringMatches\" in statement 1 (Sid \"X\")"
        );
        assert_eq!(
            err(&stmt(
                r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Principle": "*"}"#
            )),
            "unsupported element \"Principle\" in statement 1"
        );
        assert_eq!(
            err(&stmt(
                r#"{"Effect": "allow", "Action": "*", "Resource": "*"}"#
            )),
            "unsupported Effect \"allow\" (expected \"Allow\" or \"Deny\") in statement 1"
        );
        assert!(
            err(&stmt(r#"{"Effect": 1, "Action": "*", "Resource": "*"}"#))
                .starts_with("Effect must be the string")
        );
        assert_eq!(
            err(&stmt(r#"{"Action": "*", "Resource": "*"}"#)),
            "missing Effect in statement 1"
        );
        assert_eq!(
            err(&stmt(r#"{"Effect": "Allow", "Resource": "*"}"#)),
            "missing Action or NotAction in statement 1"
        );
        assert_eq!(
            err(&stmt(r#"{"Effect": "Allow", "Action": "*"}"#)),
            "missing Resource or NotResource in statement 1"
        );
        assert_eq!(
            err(&stmt(
                r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#
            )),
            "Action is an empty list in statement 1"
        );
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": [1], "Resource": "*"}"#
        ))
        .starts_with("Action must be a string"));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}"#
        ))
        .starts_with("Action and NotAction cannot both be present"));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}"#
        ))
        .starts_with("Resource and NotResource cannot both be present"));
        assert_eq!(
            err(&stmt(
                r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#
            )),
            "Principal is not allowed in an identity policy in statement 1"
        );
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "*", "Resource": "*"}"#
        ))
        .starts_with("NotPrincipal is not allowed"));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "CreateVolume", "Resource": "*"}"#
        ))
        .starts_with("invalid action \"CreateVolume\""));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "ec2:", "Resource": "*"}"#
        ))
        .starts_with("invalid action"));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "*", "Resource": "vol-123"}"#
        ))
        .starts_with("invalid resource \"vol-123\""));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:username"}"#
        ))
        .starts_with("unterminated"));
        assert!(err(&stmt(
            r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}"#
        ))
        .starts_with("Condition must be an object"));
        assert_eq!(
            err(&stmt(
                r#"{"Sid": 5, "Effect": "Allow", "Action": "*", "Resource": "*"}"#
            )),
            "Sid must be a string in statement 1"
        );
        assert_eq!(err(&stmt(r#""Allow""#)), "statement 1 must be an object");
    }

    #[test]
    fn rejects_bad_documents() {
        assert!(err("").starts_with("policy is not valid JSON"));
        assert!(err("{").starts_with("policy is not valid JSON"));
        assert_eq!(err("[]"), "policy must be a JSON object");
        assert_eq!(
            err(r#"{"Version": "2012-10-17"}"#),
            "policy has no Statement"
        );
        assert_eq!(err(r#"{"Statement": []}"#), "Statement is an empty list");
        assert!(err(r#"{"Statement": "x"}"#).starts_with("Statement must be"));
        assert_eq!(
            err(r#"{"Version": "2012-10-17", "Statment": [], "Statement": []}"#),
            "unsupported top-level element \"Statment\""
        );
        assert!(err(r#"{"Version": "2013-01-01", "Statement": []}"#)
            .starts_with("unsupported Version \"2013-01-01\""));
        assert_eq!(
            err(r#"{"Version": 2012, "Statement": []}"#),
            "Version must be a string"
        );
        assert_eq!(err(r#"{"Id": 1, "Statement": []}"#), "Id must be a string");
        let dup = err(
            r#"{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        );
        assert!(dup.contains("duplicate key \"Effect\""), "{dup}");
    }

    #[test]
    fn error_is_a_std_error() {
        let e: Box<dyn std::error::Error> = Box::new(PolicyDocument::parse("[]").unwrap_err());
        assert_eq!(e.to_string(), "policy must be a JSON object");
    }
}
