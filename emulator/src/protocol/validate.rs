//! The input check AWS's front ends make before an operation runs, from the service model: every
//! member present is of its shape's type and within its enum, length, range and pattern; every
//! required member is present.
//!
//! Each protocol answers as AWS does:
//! - awsQuery (ELB, ELBv2, Auto Scaling, IAM, STS): one `ValidationError` listing every violation,
//!   `2 validation errors detected: Value 'x' at 'tags.1.member.key' failed to satisfy
//!   constraint: Member must have length less than or equal to 128; Value null at …`;
//! - awsJson1_1 (KMS, ECR): the same text as `ValidationException`;
//! - EC2, whose front end checks only presence and type: `MissingParameter` (`The request must
//!   contain the parameter X`) and `InvalidParameterValue` for a value of the wrong type; EC2's
//!   enum and length rules are its handlers' (they answer with their own codes).
//!
//! Unknown parameters are not this check's concern: the handlers' `Params::finish` refuses them.
//! Where a service checks a member itself and answers in its own words, that member is listed in
//! [`SERVICE_CHECKED`] and the service's answer wins.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

use super::error::{AwsError, AwsResult};
use super::json::{lower_first, JsonInput};
use super::params::Params;
use super::service::{Protocol, ServiceId};
use crate::model::{self, Kind, Member, ServiceModel, Shape};

/// Members whose rules the service checks itself, in its own words (shape, member): the model's
/// generic message would hide the answer AWS really gives.
const SERVICE_CHECKED: &[(ServiceId, &str, &str)] = &[];

/// ECR checks its members' patterns itself and answers `InvalidParameterException` ("Invalid
/// parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression
/// …'"), while lengths, ranges and enums get Coral's `ValidationException`.
fn service_checks_patterns(service: ServiceId) -> bool {
    service == ServiceId::Ecr
}

/// Checks the input of `service`'s `action` against its model.
pub fn query(service: ServiceId, action: &str, params: &Params) -> AwsResult<()> {
    let model = model::of(service);
    let Some(input) = model.op(action).and_then(|o| o.input) else {
        return Ok(());
    };
    let mut v = Violations::new(service, model);
    v.structure(model.shape(input), "", params);
    v.answer()
}

/// Checks a JSON input against its model.
pub fn json(service: ServiceId, action: &str, input: &JsonInput) -> AwsResult<()> {
    let model = model::of(service);
    let Some(shape) = model.op(action).and_then(|o| o.input) else {
        return Ok(());
    };
    let mut v = Violations::new(service, model);
    v.json_structure(model.shape(shape), "", &input.body);
    v.answer()
}

struct Violations {
    service: ServiceId,
    model: &'static ServiceModel,
    /// Coral's violation texts, in member order.
    found: Vec<String>,
    /// EC2's first error (its front end answers one at a time).
    ec2: Option<AwsError>,
}

impl Violations {
    fn new(service: ServiceId, model: &'static ServiceModel) -> Self {
        Violations {
            service,
            model,
            found: Vec::new(),
            ec2: None,
        }
    }

    fn ec2(&self) -> bool {
        self.service.protocol() == Protocol::Ec2Query
    }

    fn answer(self) -> AwsResult<()> {
        if let Some(e) = self.ec2 {
            return Err(e);
        }
        if self.found.is_empty() {
            return Ok(());
        }
        let n = self.found.len();
        let head = if n == 1 {
            "1 validation error detected".to_string()
        } else {
            format!("{n} validation errors detected")
        };
        let code = match self.service.protocol() {
            Protocol::AwsJson => "ValidationException",
            _ => "ValidationError",
        };
        Err(AwsError::bad_request(
            code,
            format!("{head}: {}", self.found.join("; ")),
        ))
    }

    fn service_checked(&self, shape: &Shape, m: &Member) -> bool {
        SERVICE_CHECKED
            .iter()
            .any(|(s, sh, mm)| *s == self.service && *sh == shape.name() && *mm == m.name())
    }

    fn violate(&mut self, shown: &str, path: &str, rule: String) {
        self.found.push(format!(
            "Value {shown} at '{path}' failed to satisfy constraint: Member {rule}"
        ));
    }

    // ---- query protocols ----

    fn structure(&mut self, shape: &'static Shape, prefix: &str, params: &Params) {
        // One key buffer for all members: this runs on every request.
        let mut key = String::with_capacity(prefix.len() + 32);
        for m in shape.members() {
            key.clear();
            key.push_str(prefix);
            key.push_str(m.query());
            let value = params.peek(&key);
            let present = value.is_some() || {
                key.push('.');
                let nested = params.under(&key).next().is_some();
                key.pop();
                nested
            };
            if !present {
                if m.required {
                    self.missing(&key);
                }
                continue;
            }
            if self.service_checked(shape, m) {
                continue;
            }
            self.value(self.model.shape(m.shape), &key, value, params);
        }
    }

    fn missing(&mut self, key: &str) {
        if self.ec2() {
            self.ec2.get_or_insert_with(|| {
                AwsError::bad_request(
                    "MissingParameter",
                    format!("The request must contain the parameter {key}"),
                )
            });
        } else {
            self.violate("null", &query_path(key), "must not be null".into());
        }
    }

    fn value(&mut self, shape: &'static Shape, key: &str, value: Option<&str>, params: &Params) {
        match shape.kind {
            Kind::Structure => self.structure(shape, &format!("{key}."), params),
            Kind::List => self.list(shape, key, value, params),
            Kind::Map => self.map(shape, key, params),
            _ => {
                if let Some(v) = value {
                    self.scalar(shape, key, v);
                }
            }
        }
    }

    /// The entries of a list: `Key.N` (EC2, flattened lists) or `Key.member.N` (awsQuery); an
    /// awsQuery `Key=` with nothing under it is an empty list.
    fn list(&mut self, shape: &'static Shape, key: &str, value: Option<&str>, params: &Params) {
        let base = if self.ec2() || shape.flattened {
            format!("{key}.")
        } else {
            format!("{key}.{}.", shape.item_name())
        };
        let indices: BTreeSet<&str> = params
            .under(&base)
            .filter_map(|(k, _)| k[base.len()..].split('.').next())
            .collect();
        if indices.is_empty() && value.is_none() {
            return;
        }
        let item = self.model.shape(shape.item);
        if !self.ec2() {
            let items: Vec<&str> = indices
                .iter()
                .map(|i| params.peek(&format!("{base}{i}")).unwrap_or(""))
                .collect();
            let shown = format!("'[{}]'", items.join(", "));
            self.length(shape, &shown, &query_path(key), indices.len());
        }
        for i in indices {
            let k = format!("{base}{i}");
            let v = params.peek(&k);
            self.value(item, &k, v, params);
        }
    }

    fn map(&mut self, shape: &'static Shape, key: &str, params: &Params) {
        let base = if shape.flattened {
            format!("{key}.")
        } else {
            format!("{key}.entry.")
        };
        let indices: BTreeSet<&str> = params
            .under(&base)
            .filter_map(|(k, _)| k[base.len()..].split('.').next())
            .collect();
        if !self.ec2() {
            self.length(shape, "'{…}'", &query_path(key), indices.len());
        }
        let (ks, vs) = (self.model.shape(shape.item), self.model.shape(shape.value));
        for i in indices {
            let k = format!("{base}{i}.{}", shape.item_name());
            let v = format!("{base}{i}.{}", shape.value_name());
            let kv = params.peek(&k);
            self.value(ks, &k, kv, params);
            let vv = params.peek(&v);
            self.value(vs, &v, vv, params);
        }
    }

    fn scalar(&mut self, shape: &'static Shape, key: &str, v: &str) {
        let typed = match shape.kind {
            Kind::Integer | Kind::Long => v.trim().parse::<i64>().map(|n| n as f64).ok(),
            Kind::Double | Kind::Float => v.trim().parse::<f64>().ok(),
            Kind::Boolean => {
                (v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")).then_some(0.0)
            }
            Kind::Timestamp => (crate::timefmt::parse_iso8601(v).is_some()
                || v.parse::<f64>().is_ok())
            .then_some(0.0),
            _ => Some(0.0),
        };
        let Some(n) = typed else {
            self.wrong_type(key, v, shape.kind);
            return;
        };
        if self.ec2() {
            return;
        }
        let path = query_path(key);
        let shown = format!("'{v}'");
        match shape.kind {
            Kind::String => self.string(shape, &shown, &path, v),
            Kind::Integer | Kind::Long | Kind::Double | Kind::Float => {
                self.range(shape, &shown, &path, n)
            }
            _ => {}
        }
    }

    fn wrong_type(&mut self, key: &str, v: &str, kind: Kind) {
        let expected = match kind {
            Kind::Integer | Kind::Long => "Integer",
            Kind::Double | Kind::Float => "Double",
            Kind::Boolean => "Boolean",
            Kind::Timestamp => "Timestamp",
            _ => "String",
        };
        if self.ec2() {
            self.ec2.get_or_insert_with(|| {
                AwsError::invalid_value(format!(
                    "Value ({v}) for parameter {key} is invalid. Expected: '{expected}'."
                ))
            });
        } else {
            self.violate(
                &format!("'{v}'"),
                &query_path(key),
                format!("must be of type {expected}"),
            );
        }
    }

    // ---- the rules, shared by both input forms ----

    fn string(&mut self, shape: &Shape, shown: &str, path: &str, v: &str) {
        if shape.is_enum() && !shape.enums().any(|e| e == v) {
            let values: Vec<&str> = shape.enums().collect();
            self.violate(
                shown,
                path,
                format!("must satisfy enum value set: [{}]", values.join(", ")),
            );
            return;
        }
        self.length(shape, shown, path, v.chars().count());
        if let Some(p) = shape
            .pattern()
            .filter(|_| !service_checks_patterns(self.service))
        {
            if !matches(p, v) {
                self.violate(
                    shown,
                    path,
                    format!("must satisfy regular expression pattern: {p}"),
                );
            }
        }
    }

    fn length(&mut self, shape: &Shape, shown: &str, path: &str, n: usize) {
        self.bounds(shape, shown, path, n as f64, "length");
    }

    fn range(&mut self, shape: &Shape, shown: &str, path: &str, n: f64) {
        self.bounds(shape, shown, path, n, "value");
    }

    /// The model's `min`/`max` of a length or a value (`what`), in Coral's words.
    fn bounds(&mut self, shape: &Shape, shown: &str, path: &str, n: f64, what: &str) {
        if let Some(min) = shape.min.filter(|m| n < *m) {
            let rule = format!("must have {what} greater than or equal to {}", bound(min));
            self.violate(shown, path, rule);
        } else if let Some(max) = shape.max.filter(|m| n > *m) {
            let rule = format!("must have {what} less than or equal to {}", bound(max));
            self.violate(shown, path, rule);
        }
    }

    // ---- JSON ----

    fn json_structure(
        &mut self,
        shape: &'static Shape,
        prefix: &str,
        obj: &serde_json::Map<String, Value>,
    ) {
        for m in shape.members() {
            let path = format!("{prefix}{}", lower_first(m.name()));
            match obj.get(m.name()) {
                None | Some(Value::Null) => {
                    if m.required {
                        self.violate("null", &path, "must not be null".into());
                    }
                }
                Some(_) if self.service_checked(shape, m) => {}
                Some(v) => self.json_value(self.model.shape(m.shape), &path, v),
            }
        }
    }

    /// A JSON value of the wrong JSON type is left to the handler's getters, which answer the
    /// deserializer's `SerializationException` as AWS does.
    fn json_value(&mut self, shape: &'static Shape, path: &str, v: &Value) {
        match (shape.kind, v) {
            (Kind::Structure, Value::Object(o)) => {
                self.json_structure(shape, &format!("{path}."), o)
            }
            (Kind::List, Value::Array(items)) => {
                let shown = format!("'{v}'");
                self.length(shape, &shown, path, items.len());
                let item = self.model.shape(shape.item);
                for (i, x) in items.iter().enumerate() {
                    self.json_value(item, &format!("{path}.{}.member", i + 1), x);
                }
            }
            (Kind::Map, Value::Object(o)) => {
                self.length(shape, "'{…}'", path, o.len());
                let value = self.model.shape(shape.value);
                for (k, x) in o {
                    self.json_value(value, &format!("{path}.{k}"), x);
                }
            }
            (Kind::String, Value::String(s)) => self.string(shape, &format!("'{s}'"), path, s),
            (Kind::Integer | Kind::Long | Kind::Double | Kind::Float, Value::Number(n)) => {
                if let Some(f) = n.as_f64() {
                    self.range(shape, &format!("'{n}'"), path, f);
                }
            }
            _ => {}
        }
    }
}

/// `Tags.member.1.Key` → `tags.1.member.key`, as Coral's messages spell paths (the entry's
/// number before `member`).
fn query_path(key: &str) -> String {
    let mut segs: Vec<String> = key.split('.').map(lower_first).collect();
    for i in 1..segs.len() {
        if segs[i - 1] == "member" && segs[i].bytes().all(|b| b.is_ascii_digit()) {
            segs.swap(i - 1, i);
        }
    }
    segs.join(".")
}

/// A bound as the messages write it: `128`, or `0.001`.
fn bound(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// Compiled model patterns, each matched against the whole value as AWS does. A pattern this
/// engine cannot read (Java-only syntax) is not checked rather than guessed at.
static PATTERNS: LazyLock<Mutex<HashMap<&'static str, Option<regex_lite::Regex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn matches(pattern: &'static str, v: &str) -> bool {
    let mut cache = match PATTERNS.lock() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    };
    let re = cache
        .entry(pattern)
        .or_insert_with(|| regex_lite::Regex::new(&format!("^(?:{pattern})$")).ok());
    match re {
        Some(re) => re.is_match(v),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)], p: Protocol) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            p,
        )
    }

    #[test]
    fn query_violations_are_counted_and_joined() {
        let p = params(
            &[
                ("ResourceArns.member.1", "arn"),
                ("Tags.member.1.Key", &"k".repeat(129)),
            ],
            Protocol::AwsQuery,
        );
        let e = query(ServiceId::Elbv2, "AddTags", &p).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(
            e.message
                .starts_with("1 validation error detected: Value '"),
            "{}",
            e.message
        );
        assert!(e.message.contains("at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"), "{}", e.message);
        let p = params(&[("Tags.member.1.Key", "")], Protocol::AwsQuery);
        let e = query(ServiceId::Elbv2, "AddTags", &p).unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected: "),
            "{}",
            e.message
        );
        assert!(e.message.contains("Value null at 'resourceArns' failed to satisfy constraint: Member must not be null; "), "{}", e.message);
    }

    #[test]
    fn enums_ranges_and_empty_lists() {
        let p = params(
            &[
                ("Name", "x"),
                ("Type", "classic"),
                ("IpAddressType", "ipv4"),
            ],
            Protocol::AwsQuery,
        );
        let e = query(ServiceId::Elbv2, "CreateLoadBalancer", &p).unwrap_err();
        assert!(e.message.contains("Value 'classic' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network, gateway]"), "{}", e.message);
        // An empty list (`Name=`) counts its entries: a tag list has at least one.
        let p = params(
            &[("ResourceArns.member.1", "a"), ("Tags", "")],
            Protocol::AwsQuery,
        );
        let e = query(ServiceId::Elbv2, "AddTags", &p).unwrap_err();
        assert!(e.message.contains("Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{}", e.message);
        let p = params(&[("LoadBalancerName", "x")], Protocol::AwsQuery);
        let e = query(ServiceId::Elb, "CreateLoadBalancer", &p).unwrap_err();
        assert!(
            e.message.contains(
                "Value null at 'listeners' failed to satisfy constraint: Member must not be null"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn ec2_checks_presence_and_type_only() {
        let p = params(&[("Size", "ten")], Protocol::Ec2Query);
        let e = query(ServiceId::Ec2, "CreateVolume", &p).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(
            e.message
                .contains("Value (ten) for parameter Size is invalid"),
            "{}",
            e.message
        );
        let p = params(&[], Protocol::Ec2Query);
        let e = query(ServiceId::Ec2, "AttachVolume", &p).unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        let p = params(
            &[("Filter.1.Name", "x"), ("Filter.1.Value.1", "y")],
            Protocol::Ec2Query,
        );
        assert!(query(ServiceId::Ec2, "DescribeInstances", &p).is_ok());
    }

    #[test]
    fn json_inputs_follow_the_same_rules() {
        // The model allows 1 to 365 days (KMS itself then asks for 7 to 30: its handler's rule).
        let j = JsonInput::parse(br#"{"KeyId":"k","PendingWindowInDays":0}"#).unwrap();
        let e = json(ServiceId::Kms, "ScheduleKeyDeletion", &j).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains("Value '0' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 1"), "{}", e.message);
        let j = JsonInput::parse(b"{}").unwrap();
        let e = json(ServiceId::Kms, "DescribeKey", &j).unwrap_err();
        assert!(e.message.contains("Value null at 'keyId'"), "{}", e.message);
    }

    #[test]
    fn patterns_match_whole_values() {
        assert!(matches("[\\w+=,.@-]+", "a.b@c"));
        assert!(!matches("[\\w+=,.@-]+", "a b"));
    }
}
