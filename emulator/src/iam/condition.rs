//! The `Condition` element: operators parsed and their values compiled at policy load.
//!
//! Semantics, following the IAM documentation:
//! - operators in a block, and keys under one operator, are ANDed; the values for one key are ORed;
//! - a negated operator (`StringNotEquals`, `NotIpAddress`, ...) holds for a request value when
//!   *none* of the policy values matches it;
//! - key absent from the request: positive operators are false, negated ones true, `...IfExists`
//!   true, `ForAllValues:` true, `ForAnyValue:` false;
//! - a multi-valued key without a set operator: a positive operator holds if any request value
//!   matches; a negated one if no request value matches;
//! - a request value that does not parse as the operator's type (a number, a date, an address)
//!   matches no policy value.
//!
//! Anything not understood is an error at load, never ignored: ignoring a condition on an Allow
//! widens it, ignoring one on a Deny narrows it, and both fail open.

use super::cidr::Cidr;
use super::context::{normalize_key, RequestContext};
use super::variables::{is_key_name, Glob, Literal};
use crate::timefmt::parse_iso8601;
use serde_json::Value;
use std::net::IpAddr;

/// How a condition treats a multi-valued request key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    /// No prefix.
    Single,
    /// `ForAnyValue:`: some request value satisfies the operator.
    ForAnyValue,
    /// `ForAllValues:`: every request value satisfies the operator.
    ForAllValues,
}

/// Ordering comparisons for `Numeric*` and `Date*`: `request <op> policy value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// The operator family and its compiled policy values.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// `StringEquals`, `StringEqualsIgnoreCase` and their negations.
    Equals {
        case_insensitive: bool,
        values: Vec<Literal>,
    },
    /// `StringLike`, `Arn*` and their negations: case-sensitive globs.
    Like(Vec<Glob>),
    Numeric {
        cmp: Cmp,
        values: Vec<f64>,
    },
    Date {
        cmp: Cmp,
        values: Vec<i64>,
    },
    Bool(Vec<bool>),
    /// Base64 text compared as written.
    Binary(Vec<String>),
    Ip(Vec<Cidr>),
    /// `Null`: `true` means "the key is absent".
    Null(Vec<bool>),
}

/// The base operators, before `IfExists` and set prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Equals { case_insensitive: bool },
    Like,
    Arn,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Null,
}

/// Maps an operator name without prefix or `IfExists` to (kind, negated).
fn base_operator(name: &str) -> Option<(Kind, bool)> {
    use Kind::*;
    let case_sensitive = Equals {
        case_insensitive: false,
    };
    let ignore_case = Equals {
        case_insensitive: true,
    };
    Some(match name {
        "StringEquals" => (case_sensitive, false),
        "StringNotEquals" => (case_sensitive, true),
        "StringEqualsIgnoreCase" => (ignore_case, false),
        "StringNotEqualsIgnoreCase" => (ignore_case, true),
        "StringLike" => (Like, false),
        "StringNotLike" => (Like, true),
        // ArnEquals accepts wildcards exactly like ArnLike does in AWS.
        "ArnEquals" | "ArnLike" => (Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Arn, true),
        "NumericEquals" => (Numeric(Cmp::Eq), false),
        "NumericNotEquals" => (Numeric(Cmp::Eq), true),
        "NumericLessThan" => (Numeric(Cmp::Lt), false),
        "NumericLessThanEquals" => (Numeric(Cmp::Le), false),
        "NumericGreaterThan" => (Numeric(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (Numeric(Cmp::Ge), false),
        "DateEquals" => (Date(Cmp::Eq), false),
        "DateNotEquals" => (Date(Cmp::Eq), true),
        "DateLessThan" => (Date(Cmp::Lt), false),
        "DateLessThanEquals" => (Date(Cmp::Le), false),
        "DateGreaterThan" => (Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (Date(Cmp::Ge), false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (Binary, false),
        "IpAddress" => (Ip, false),
        "NotIpAddress" => (Ip, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

/// One `"Operator": {"key": values}` pair, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: String,
    key: String,
    normalized_key: String,
    set: SetOperator,
    if_exists: bool,
    negated: bool,
    test: Test,
}

/// Parses a whole `Condition` element. Errors are message fragments; the caller says which
/// statement they belong to.
pub(crate) fn parse_block(block: &Value, allow_variables: bool) -> Result<Vec<Condition>, String> {
    let Value::Object(operators) = block else {
        return Err(format!(
            "Condition must be an object, not {}",
            json_type(block)
        ));
    };
    let mut out = Vec::new();
    for (operator, keys) in operators {
        let (set, kind, negated, if_exists) = parse_operator(operator)?;
        let Value::Object(keys) = keys else {
            return Err(format!(
                "condition operator \"{operator}\" must map to an object of keys, not {}",
                json_type(keys)
            ));
        };
        if keys.is_empty() {
            return Err(format!("condition operator \"{operator}\" has no keys"));
        }
        for (key, values) in keys {
            if !is_key_name(key) {
                return Err(format!(
                    "invalid condition key \"{key}\" under \"{operator}\""
                ));
            }
            let texts = value_texts(values).map_err(|what| {
                format!("condition values for \"{key}\" under \"{operator}\" {what}")
            })?;
            let test = compile(kind, &texts, allow_variables)
                .map_err(|what| format!("{what} for \"{key}\" under \"{operator}\""))?;
            out.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                normalized_key: normalize_key(key),
                set,
                if_exists,
                negated,
                test,
            });
        }
    }
    Ok(out)
}

fn parse_operator(name: &str) -> Result<(SetOperator, Kind, bool, bool), String> {
    let unsupported = || format!("unsupported condition operator \"{name}\"");
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (SetOperator::ForAnyValue, rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (SetOperator::ForAllValues, rest)
    } else {
        (SetOperator::Single, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let (kind, negated) = base_operator(base).ok_or_else(unsupported)?;
    if kind == Kind::Null && (if_exists || set != SetOperator::Single) {
        // Null already tests presence; with IfExists or a set prefix it has no documented meaning.
        return Err(unsupported());
    }
    Ok((set, kind, negated, if_exists))
}

/// The string forms of a condition value or list: strings as written, numbers and booleans as
/// JSON prints them.
fn value_texts(values: &Value) -> Result<Vec<String>, String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let bad = || "must be strings, numbers or booleans".to_string();
    match values {
        Value::Array(items) if items.is_empty() => Err("are an empty list".to_string()),
        Value::Array(items) => items.iter().map(|v| scalar(v).ok_or_else(bad)).collect(),
        v => scalar(v).map(|s| vec![s]).ok_or_else(bad),
    }
}

fn compile(kind: Kind, texts: &[String], allow_variables: bool) -> Result<Test, String> {
    fn each<T>(texts: &[String], f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
        texts.iter().map(|t| f(t)).collect()
    }
    Ok(match kind {
        Kind::Equals { case_insensitive } => Test::Equals {
            case_insensitive,
            values: each(texts, |t| Literal::parse(t, allow_variables))?,
        },
        Kind::Like | Kind::Arn => {
            Test::Like(each(texts, |t| Glob::parse(t, allow_variables, false))?)
        }
        Kind::Numeric(cmp) => Test::Numeric {
            cmp,
            values: each(texts, |t| {
                parse_number(t).ok_or_else(|| format!("invalid number \"{t}\""))
            })?,
        },
        Kind::Date(cmp) => Test::Date {
            cmp,
            values: each(texts, |t| {
                parse_date(t).ok_or_else(|| format!("invalid date \"{t}\""))
            })?,
        },
        Kind::Bool => Test::Bool(each(texts, |t| {
            parse_bool(t).ok_or_else(|| format!("invalid boolean \"{t}\""))
        })?),
        Kind::Binary => Test::Binary(each(texts, |t| {
            if is_base64(t) {
                Ok(t.to_string())
            } else {
                Err(format!("invalid base64 value \"{t}\""))
            }
        })?),
        Kind::Ip => Test::Ip(each(texts, |t| {
            Cidr::parse(t).ok_or_else(|| format!("invalid IP address or CIDR block \"{t}\""))
        })?),
        Kind::Null => Test::Null(each(texts, |t| {
            parse_bool(t)
                .ok_or_else(|| format!("invalid Null value \"{t}\" (expected true or false)"))
        })?),
    })
}

/// A decimal number: optional `-`, digits, optional fraction. Stricter than `f64::from_str`,
/// which would also take `inf`, `NaN` and `1e400`.
fn parse_number(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// ISO 8601 (see [`parse_iso8601`]) or whole epoch seconds.
fn parse_date(s: &str) -> Option<i64> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    parse_iso8601(s)
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Condition {
    /// The operator as written in the policy, e.g. `ForAnyValue:StringLikeIfExists`.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// The condition key as written in the policy.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Does the condition hold for this request?
    pub fn holds(&self, ctx: &RequestContext) -> bool {
        let values = ctx
            .get_normalized(&self.normalized_key)
            .filter(|v| !v.is_empty());
        if let Test::Null(expected) = &self.test {
            let absent = values.is_none();
            return expected.contains(&absent);
        }
        let Some(values) = values else {
            return self.if_exists
                || match self.set {
                    SetOperator::ForAllValues => true,
                    SetOperator::ForAnyValue => false,
                    SetOperator::Single => self.negated,
                };
        };
        let satisfied = |v: &String| self.any_policy_value_matches(ctx, v) != self.negated;
        match self.set {
            SetOperator::ForAllValues => values.iter().all(satisfied),
            SetOperator::ForAnyValue => values.iter().any(satisfied),
            // Positive: some request value matches. Negated: no request value matches any
            // policy value, i.e. every request value satisfies the negated operator.
            SetOperator::Single if self.negated => values.iter().all(satisfied),
            SetOperator::Single => values.iter().any(satisfied),
        }
    }

    /// The positive sense of the operator: does any policy value match this request value?
    fn any_policy_value_matches(&self, ctx: &RequestContext, v: &str) -> bool {
        match &self.test {
            Test::Equals {
                case_insensitive,
                values,
            } => values.iter().any(|p| p.matches(ctx, v, *case_insensitive)),
            Test::Like(globs) => globs.iter().any(|g| g.matches(ctx, v)),
            Test::Numeric { cmp, values } => {
                parse_number(v).is_some_and(|r| values.iter().any(|p| cmp.holds(r, *p)))
            }
            Test::Date { cmp, values } => {
                parse_date(v).is_some_and(|r| values.iter().any(|p| cmp.holds(r, *p)))
            }
            Test::Bool(values) => parse_bool(v).is_some_and(|r| values.contains(&r)),
            Test::Binary(values) => values.iter().any(|p| p == v),
            Test::Ip(blocks) => v
                .parse::<IpAddr>()
                .is_ok_and(|addr| blocks.iter().any(|b| b.contains(addr))),
            Test::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(v: Value) -> Vec<Condition> {
        parse_block(&v, true).unwrap_or_else(|e| panic!("{e}"))
    }

    fn holds(v: Value, ctx: &RequestContext) -> bool {
        block(v).iter().all(|c| c.holds(ctx))
    }

    fn ctx() -> RequestContext {
        RequestContext::new("ec2:RunInstances", "*")
    }

    #[test]
    fn string_equals_and_negation() {
        let c = ctx().with("aws:RequestedRegion", "us-east-1");
        assert!(holds(
            json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
            &c
        ));
        assert!(holds(
            json!({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}),
            &c
        ));
        assert!(!holds(
            json!({"StringEquals": {"aws:RequestedRegion": "US-EAST-1"}}),
            &c
        ));
        assert!(!holds(
            json!({"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}),
            &c
        ));
        // Negated with several values: none may match (NOR).
        assert!(!holds(
            json!({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}),
            &c
        ));
        assert!(holds(
            json!({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "ap-south-1"]}}),
            &c
        ));
    }

    #[test]
    fn string_ignore_case() {
        let c = ctx().with("aws:RequestedRegion", "us-east-1");
        assert!(holds(
            json!({"StringEqualsIgnoreCase": {"aws:RequestedRegion": "US-East-1"}}),
            &c
        ));
        assert!(!holds(
            json!({"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": "US-East-1"}}),
            &c
        ));
        assert!(holds(
            json!({"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": "eu-west-1"}}),
            &c
        ));
    }

    #[test]
    fn string_like() {
        let c = ctx().with("ec2:ResourceTag/Name", "web-01");
        assert!(holds(
            json!({"StringLike": {"ec2:ResourceTag/Name": "web-*"}}),
            &c
        ));
        assert!(holds(
            json!({"StringLike": {"ec2:ResourceTag/Name": "web-0?"}}),
            &c
        ));
        assert!(!holds(
            json!({"StringLike": {"ec2:ResourceTag/Name": "WEB-*"}}),
            &c
        ));
        assert!(!holds(
            json!({"StringNotLike": {"ec2:ResourceTag/Name": ["db-*", "web-*"]}}),
            &c
        ));
        assert!(holds(
            json!({"StringNotLike": {"ec2:ResourceTag/Name": "db-*"}}),
            &c
        ));
    }

    #[test]
    fn string_equals_is_literal() {
        let c = ctx().with("aws:username", "a*");
        assert!(holds(json!({"StringEquals": {"aws:username": "a*"}}), &c));
        assert!(!holds(json!({"StringEquals": {"aws:username": "a?"}}), &c));
    }

    #[test]
    fn key_names_case_insensitive_tag_keys_not() {
        let c = ctx()
            .with("aws:SourceIp", "10.0.0.1")
            .with("aws:ResourceTag/Name", "x");
        assert!(holds(
            json!({"IpAddress": {"AWS:sourceip": "10.0.0.0/8"}}),
            &c
        ));
        assert!(holds(
            json!({"StringEquals": {"AWS:RESOURCETAG/Name": "x"}}),
            &c
        ));
        assert!(!holds(
            json!({"StringEquals": {"aws:ResourceTag/NAME": "x"}}),
            &c
        ));
    }

    #[test]
    fn arn_operators() {
        let c = ctx().with("aws:SourceArn", "arn:aws:iam::123456789012:role/node");
        for op in ["ArnEquals", "ArnLike"] {
            assert!(holds(
                json!({op: {"aws:SourceArn": "arn:aws:iam::123456789012:role/*"}}),
                &c
            ));
            assert!(!holds(
                json!({op: {"aws:SourceArn": "arn:aws:iam::999999999999:role/*"}}),
                &c
            ));
            assert!(!holds(
                json!({op: {"aws:SourceArn": "arn:aws:iam::123456789012:ROLE/*"}}),
                &c
            ));
        }
        for op in ["ArnNotEquals", "ArnNotLike"] {
            assert!(!holds(
                json!({op: {"aws:SourceArn": "arn:aws:iam::123456789012:role/*"}}),
                &c
            ));
            assert!(holds(
                json!({op: {"aws:SourceArn": "arn:aws:iam::999999999999:*"}}),
                &c
            ));
        }
    }

    #[test]
    fn numeric_operators() {
        let c = ctx().with("ec2:VolumeSize", "100");
        let cases = [
            ("NumericEquals", "100", true),
            ("NumericEquals", "100.0", true),
            ("NumericEquals", "99", false),
            ("NumericNotEquals", "99", true),
            ("NumericNotEquals", "100", false),
            ("NumericLessThan", "101", true),
            ("NumericLessThan", "100", false),
            ("NumericLessThanEquals", "100", true),
            ("NumericLessThanEquals", "99", false),
            ("NumericGreaterThan", "99", true),
            ("NumericGreaterThan", "100", false),
            ("NumericGreaterThanEquals", "100", true),
            ("NumericGreaterThanEquals", "101", false),
        ];
        for (op, v, want) in cases {
            assert_eq!(
                holds(json!({op: {"ec2:VolumeSize": v}}), &c),
                want,
                "{op} {v}"
            );
        }
        // JSON numbers compare by value.
        assert!(holds(json!({"NumericEquals": {"ec2:VolumeSize": 100}}), &c));
        assert!(holds(
            json!({"NumericLessThan": {"ec2:VolumeSize": 100.5}}),
            &c
        ));
    }

    #[test]
    fn unparseable_request_values_match_nothing() {
        let c = ctx()
            .with("ec2:VolumeSize", "big")
            .with("aws:CurrentTime", "soon")
            .with("aws:SourceIp", "nowhere");
        assert!(!holds(
            json!({"NumericLessThan": {"ec2:VolumeSize": "1000"}}),
            &c
        ));
        assert!(!holds(
            json!({"NumericGreaterThanEquals": {"ec2:VolumeSize": "0"}}),
            &c
        ));
        assert!(holds(
            json!({"NumericNotEquals": {"ec2:VolumeSize": "1"}}),
            &c
        ));
        assert!(!holds(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2000-01-01"}}),
            &c
        ));
        assert!(!holds(
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            &c
        ));
        assert!(holds(
            json!({"NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            &c
        ));
    }

    #[test]
    fn date_operators() {
        let c = ctx().with("aws:CurrentTime", "2024-06-01T12:00:00Z");
        assert!(holds(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}),
            &c
        ));
        assert!(!holds(
            json!({"DateLessThan": {"aws:CurrentTime": "2024-01-01"}}),
            &c
        ));
        assert!(holds(
            json!({"DateLessThanEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}),
            &c
        ));
        assert!(holds(
            json!({"DateGreaterThanEquals": {"aws:CurrentTime": "2024-06-01T14:00:00+02:00"}}),
            &c
        ));
        assert!(holds(
            json!({"DateEquals": {"aws:CurrentTime": "2024-06-01T12:00:00.000Z"}}),
            &c
        ));
        assert!(holds(
            json!({"DateNotEquals": {"aws:CurrentTime": "2024-06-01T12:00:01Z"}}),
            &c
        ));
        assert!(!holds(
            json!({"DateNotEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}),
            &c
        ));
        // Epoch seconds on either side.
        let epoch = ctx().with("aws:EpochTime", "1717243200");
        assert!(holds(
            json!({"DateEquals": {"aws:EpochTime": "2024-06-01T12:00:00Z"}}),
            &epoch
        ));
        assert!(holds(
            json!({"DateLessThan": {"aws:CurrentTime": 1717243201}}),
            &c
        ));
    }

    #[test]
    fn bool_and_binary() {
        let c = ctx()
            .with("aws:SecureTransport", "true")
            .with("x:Blob", "QUJD");
        assert!(holds(json!({"Bool": {"aws:SecureTransport": "true"}}), &c));
        assert!(holds(json!({"Bool": {"aws:SecureTransport": true}}), &c));
        assert!(!holds(
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            &c
        ));
        assert!(!holds(
            json!({"Bool": {"aws:SecureTransport": false}}),
            &ctx().with("aws:SecureTransport", "yes")
        ));
        assert!(holds(json!({"BinaryEquals": {"x:Blob": "QUJD"}}), &c));
        assert!(!holds(json!({"BinaryEquals": {"x:Blob": "QUJE"}}), &c));
    }

    #[test]
    fn ip_operators() {
        let c = ctx().with("aws:SourceIp", "203.0.113.7");
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            &c
        ));
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.7"]}}),
            &c
        ));
        assert!(!holds(
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &c
        ));
        assert!(holds(
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &c
        ));
        assert!(!holds(
            json!({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.0.0/8"]}}),
            &c
        ));
        let v6 = ctx().with("aws:SourceIp", "2001:db8::1");
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}),
            &v6
        ));
        assert!(!holds(
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            &v6
        ));
    }

    #[test]
    fn absent_keys() {
        let c = ctx();
        assert!(!holds(json!({"StringEquals": {"aws:username": "x"}}), &c));
        assert!(!holds(json!({"StringLike": {"aws:username": "*"}}), &c));
        assert!(!holds(json!({"NumericLessThan": {"x:n": "1"}}), &c));
        assert!(!holds(
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            &c
        ));
        assert!(!holds(
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            &c
        ));
        assert!(holds(json!({"StringNotEquals": {"aws:username": "x"}}), &c));
        assert!(holds(json!({"StringNotLike": {"aws:username": "*"}}), &c));
        assert!(holds(json!({"ArnNotLike": {"aws:SourceArn": "*"}}), &c));
        assert!(holds(json!({"NumericNotEquals": {"x:n": "1"}}), &c));
        assert!(holds(
            json!({"DateNotEquals": {"aws:CurrentTime": "2024-01-01"}}),
            &c
        ));
        assert!(holds(
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &c
        ));
        // An empty value list counts as absent.
        let mut empty = ctx();
        empty.set("aws:username", vec![]);
        assert!(!holds(json!({"StringLike": {"aws:username": "*"}}), &empty));
        assert!(holds(json!({"Null": {"aws:username": "true"}}), &empty));
    }

    #[test]
    fn if_exists() {
        let absent = ctx();
        let present = ctx().with("ec2:InstanceType", "t3.large");
        let rule = json!({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}});
        assert!(holds(rule.clone(), &absent));
        assert!(!holds(rule, &present));
        assert!(holds(
            json!({"StringLikeIfExists": {"ec2:InstanceType": "t3.*"}}),
            &present
        ));
        assert!(holds(
            json!({"NumericLessThanIfExists": {"x:n": "3"}}),
            &absent
        ));
        assert!(holds(
            json!({"NotIpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}),
            &absent
        ));
        assert!(holds(
            json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}}),
            &absent
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}}),
            &ctx().with("aws:TagKeys", "b")
        ));
    }

    #[test]
    fn null_operator() {
        let present = ctx().with("aws:TagKeys", "a");
        assert!(holds(json!({"Null": {"aws:TagKeys": "true"}}), &ctx()));
        assert!(!holds(json!({"Null": {"aws:TagKeys": "true"}}), &present));
        assert!(holds(json!({"Null": {"aws:TagKeys": false}}), &present));
        assert!(!holds(json!({"Null": {"aws:TagKeys": "false"}}), &ctx()));
    }

    #[test]
    fn set_operators() {
        let tags = ctx()
            .with("aws:TagKeys", "env")
            .with("aws:TagKeys", "owner");
        let only_env = ctx().with("aws:TagKeys", "env");
        let allowed = json!(["env", "owner", "team"]);
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": allowed}}),
            &tags
        ));
        assert!(!holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
            &tags
        ));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
            &only_env
        ));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
            &ctx()
        ));
        assert!(holds(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "x"]}}),
            &tags
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}}),
            &tags
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}}),
            &ctx()
        ));
        // Negated with set operators: per request value, "matches none of the policy values".
        assert!(holds(
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            &tags
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            &only_env
        ));
        assert!(!holds(
            json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            &tags
        ));
        assert!(holds(
            json!({"ForAllValues:StringNotLike": {"aws:TagKeys": ["aws:*"]}}),
            &tags
        ));
        assert!(holds(
            json!({"ForAllValues:StringNotLike": {"aws:TagKeys": ["aws:*"]}}),
            &ctx()
        ));
        // No set operator on a multi-valued key: positive is any-match, negated is no-match.
        assert!(holds(
            json!({"StringEquals": {"aws:TagKeys": "owner"}}),
            &tags
        ));
        assert!(!holds(
            json!({"StringNotEquals": {"aws:TagKeys": "owner"}}),
            &tags
        ));
        assert!(holds(
            json!({"StringNotEquals": {"aws:TagKeys": "team"}}),
            &tags
        ));
        // Set prefixes work on other operator families too.
        let ips = ctx().with("x:Ips", "10.0.0.1").with("x:Ips", "192.168.0.1");
        assert!(holds(
            json!({"ForAnyValue:IpAddress": {"x:Ips": "192.168.0.0/16"}}),
            &ips
        ));
        assert!(!holds(
            json!({"ForAllValues:IpAddress": {"x:Ips": "192.168.0.0/16"}}),
            &ips
        ));
        let nums = ctx().with("x:N", "1").with("x:N", "5");
        assert!(holds(
            json!({"ForAllValues:NumericLessThan": {"x:N": 10}}),
            &nums
        ));
        assert!(!holds(
            json!({"ForAllValues:NumericLessThan": {"x:N": 3}}),
            &nums
        ));
    }

    #[test]
    fn and_or_structure() {
        let c = ctx()
            .with("aws:RequestedRegion", "us-east-1")
            .with("aws:username", "alice");
        // Two keys under one operator: AND.
        assert!(!holds(
            json!({"StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:username": "bob"}}),
            &c
        ));
        assert!(holds(
            json!({"StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:username": "alice"}}),
            &c
        ));
        // Two operators: AND.
        assert!(!holds(
            json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}, "StringLike": {"aws:username": "b*"}}),
            &c
        ));
    }

    #[test]
    fn variables_in_condition_values() {
        let c = ctx()
            .with("aws:username", "alice")
            .with("aws:ResourceTag/owner", "alice");
        assert!(holds(
            json!({"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}),
            &c
        ));
        assert!(holds(
            json!({"StringLike": {"aws:ResourceTag/owner": "${aws:username}*"}}),
            &c
        ));
        assert!(holds(
            json!({"ArnLike": {"x:Arn": "arn:aws:iam::1:user/${aws:username}"}}),
            &ctx()
                .with("x:Arn", "arn:aws:iam::1:user/alice")
                .with("aws:username", "alice")
        ));
        // The variable's key is absent: the value matches nothing.
        let anon = ctx().with("aws:ResourceTag/owner", "alice");
        assert!(!holds(
            json!({"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}),
            &anon
        ));
        assert!(holds(
            json!({"StringNotEquals": {"aws:ResourceTag/owner": "${aws:username}"}}),
            &anon
        ));
        // 2008-10-17 policies have no variables.
        let old = parse_block(
            &json!({"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}),
            false,
        )
        .unwrap();
        assert!(!old[0].holds(&c));
        assert!(old[0].holds(&ctx().with("aws:ResourceTag/owner", "${aws:username}")));
    }

    #[test]
    fn rejections() {
        let err = |v: Value| parse_block(&v, true).unwrap_err();
        assert_eq!(
            err(json!({"StringMatches": {"a:b": "x"}})),
            "unsupported condition operator \"StringMatches\""
        );
        assert!(err(json!({"ForSomeValues:StringEquals": {"a:b": "x"}}))
            .contains("ForSomeValues:StringEquals"));
        assert!(err(json!({"NullIfExists": {"a:b": "true"}})).contains("\"NullIfExists\""));
        assert!(err(json!({"ForAnyValue:Null": {"a:b": "true"}}))
            .contains("unsupported condition operator"));
        assert!(err(json!({"stringequals": {"a:b": "x"}})).contains("unsupported"));
        assert!(err(json!({"StringEquals": {}})).contains("has no keys"));
        assert!(err(json!({"StringEquals": "a:b"})).contains("must map to an object"));
        assert!(err(json!({"StringEquals": {"a:b": []}})).contains("empty list"));
        assert!(
            err(json!({"StringEquals": {"a:b": null}})).contains("strings, numbers or booleans")
        );
        assert!(err(json!({"StringEquals": {"a:b": [{"x": 1}]}}))
            .contains("strings, numbers or booleans"));
        assert!(err(json!({"StringEquals": {"nocolon": "x"}})).contains("invalid condition key"));
        assert!(err(json!({"NumericEquals": {"a:b": "ten"}})).contains("invalid number \"ten\""));
        assert!(err(json!({"NumericEquals": {"a:b": "NaN"}})).contains("invalid number"));
        assert!(err(json!({"DateLessThan": {"a:b": "tomorrow"}})).contains("invalid date"));
        assert!(err(json!({"Bool": {"a:b": "yes"}})).contains("invalid boolean"));
        assert!(err(json!({"Null": {"a:b": "maybe"}})).contains("invalid Null value"));
        assert!(err(json!({"IpAddress": {"a:b": "10.0.0.0/40"}})).contains("invalid IP address"));
        assert!(err(json!({"BinaryEquals": {"a:b": "not base64!"}})).contains("invalid base64"));
        assert!(err(json!({"StringEquals": {"a:b": "${aws:username"}})).contains("unterminated"));
        assert!(err(json!(["StringEquals"])).contains("Condition must be an object"));
    }

    #[test]
    fn number_syntax() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        for bad in ["", "-", "1.", ".5", "1e3", "inf", "NaN", "+1", " 1"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
