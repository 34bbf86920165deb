//! Rule conditions: read from `Conditions.member.N` in either form AWS takes (the legacy `Field`
//! plus `Values`, for host-header and path-pattern only, or the field's `*Config` structure),
//! held to AWS's per-rule limits and written back as AWS describes them: host-header and
//! path-pattern show both the legacy `Values` and their config; the other fields their config.
//!
//! Application load balancer rules take every field; network load balancer rules (dual-stack
//! load balancers only) take one `source-ip` condition with `IpAddressType`.

use crate::protocol::{AwsResult, Scope, Writer};

use super::errors::{check_enum, check_length, validation};
use super::model::{Condition, LbType, QueryPair};

const FIELDS: &[&str] = &[
    "host-header",
    "path-pattern",
    "http-header",
    "http-request-method",
    "query-string",
    "source-ip",
];

/// The fields a rule may hold once at most; `http-header` and `query-string` may repeat.
const ONCE: &[&str] = &[
    "host-header",
    "path-pattern",
    "http-request-method",
    "source-ip",
];

/// "Condition values per rule" and "Condition wildcards per rule" in AWS's quotas (neither can
/// be raised).
pub const MAX_VALUES: usize = 5;
pub const MAX_WILDCARDS: usize = 5;

/// The `*Config` member of each field.
fn config_of(field: &str) -> &'static str {
    match field {
        "host-header" => "HostHeaderConfig",
        "path-pattern" => "PathPatternConfig",
        "http-header" => "HttpHeaderConfig",
        "http-request-method" => "HttpRequestMethodConfig",
        "query-string" => "QueryStringConfig",
        _ => "SourceIpConfig",
    }
}

fn owned(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(str::to_string).collect()
}

/// Reads and checks the conditions of a rule (what its load balancer's type allows is
/// [`check_for`]'s, once the load balancer is known).
pub fn parse(items: &[Scope<'_>]) -> AwsResult<Vec<Condition>> {
    let mut out: Vec<Condition> = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let path = |m: &str| format!("conditions.member.{}.{m}", i + 1);
        let field = c
            .str("Field")
            .ok_or_else(|| validation("A condition field must be specified"))?;
        check_length(&path("field"), field, 0, 64)?;
        if !FIELDS.contains(&field) {
            return Err(validation(format!(
                "Condition field '{field}' must be one of '[{}]'",
                FIELDS.join(", ")
            )));
        }
        let legacy = c.strings("Values")?;
        let legacy_regex = c.strings("RegexValues")?;
        for other in FIELDS.iter().filter(|f| **f != field) {
            if c.has(config_of(other)) {
                return Err(validation(format!(
                    "A '{}' cannot be specified for a condition of field '{field}'",
                    config_of(other)
                )));
            }
        }
        let cfg = c.nested(config_of(field));
        let legacy_allowed = matches!(field, "host-header" | "path-pattern");
        if !legacy.is_empty() && !legacy_allowed {
            return Err(validation(format!(
                "Values cannot be specified for a condition of field '{field}'; use '{}'",
                config_of(field)
            )));
        }
        if !legacy_regex.is_empty()
            && !matches!(field, "host-header" | "path-pattern" | "http-header")
        {
            return Err(validation(format!(
                "RegexValues cannot be specified for a condition of field '{field}'"
            )));
        }
        let mut cond = Condition {
            field: field.to_string(),
            values: Vec::new(),
            regex_values: Vec::new(),
            header_name: None,
            query: Vec::new(),
            ip_address_type: None,
        };
        match field {
            "query-string" => {
                for (j, q) in cfg.structs("Values")?.iter().enumerate() {
                    let value = q.str("Value").ok_or_else(|| {
                        validation("A query string condition value must be specified")
                    })?;
                    let key = q.str("Key");
                    let at =
                        |m: &str| path(&format!("queryStringConfig.values.member.{}.{m}", j + 1));
                    if let Some(k) = key {
                        check_length(&at("key"), k, 1, 128)?;
                    }
                    check_length(&at("value"), value, 1, 128)?;
                    cond.query.push(QueryPair {
                        key: key.map(str::to_string),
                        value: value.to_string(),
                    });
                }
            }
            _ => {
                let values = cfg.strings("Values")?;
                let regex = if field == "http-request-method" || field == "source-ip" {
                    Vec::new()
                } else {
                    cfg.strings("RegexValues")?
                };
                // Both forms may come together (a rule copied from DescribeRules): they must agree.
                let pick =
                    |config: Vec<&str>, top: &[&str], what: &str| -> AwsResult<Vec<String>> {
                        match (config.is_empty(), top.is_empty()) {
                            (_, true) => Ok(owned(config)),
                            (true, false) => Ok(owned(top.to_vec())),
                            (false, false) if config == top => Ok(owned(config)),
                            _ => Err(validation(format!(
                                "{what} and '{}' cannot both be specified with different values",
                                config_of(field)
                            ))),
                        }
                    };
                cond.values = pick(values, &legacy, "Values")?;
                cond.regex_values = pick(regex, &legacy_regex, "RegexValues")?;
                if field == "http-header" {
                    let name = cfg.str("HttpHeaderName").ok_or_else(|| {
                        validation(
                            "An HTTP header name must be specified for an 'http-header' condition",
                        )
                    })?;
                    check_header_name(name)?;
                    cond.header_name = Some(name.to_string());
                }
                if field == "source-ip" {
                    if let Some(t) = cfg.str("IpAddressType") {
                        check_enum(&path("sourceIpConfig.ipAddressType"), t, &["ipv4", "ipv6"])?;
                        cond.ip_address_type = Some(t.to_string());
                    }
                }
            }
        }
        check_values(&cond)?;
        if ONCE.contains(&field) && out.iter().any(|o| o.field == field) {
            return Err(validation(format!(
                "A rule can contain only one '{field}' condition"
            )));
        }
        out.push(cond);
    }
    if out.is_empty() {
        return Err(validation("At least one condition must be specified"));
    }
    let values: usize = out.iter().map(value_count).sum();
    if values > MAX_VALUES {
        return Err(validation(format!(
            "A rule can only have '{MAX_VALUES}' condition values"
        )));
    }
    let wildcards: usize = out.iter().map(wildcard_count).sum();
    if wildcards > MAX_WILDCARDS {
        return Err(validation(format!(
            "A rule can only have '{MAX_WILDCARDS}' wildcards"
        )));
    }
    Ok(out)
}

/// What a load balancer type allows: application load balancers every field but source-ip's
/// `IpAddressType`; network load balancers one source-ip condition with `IpAddressType` alone.
pub fn check_for(conditions: &[Condition], lb: LbType) -> AwsResult<()> {
    for c in conditions {
        match lb {
            LbType::Application => {
                if c.ip_address_type.is_some() {
                    return Err(validation(
                        "An IP address type can be specified in a source IP condition only for Network Load Balancer rules",
                    ));
                }
            }
            _ => {
                if c.field != "source-ip" {
                    return Err(validation(format!(
                        "Condition field '{}' is not supported for Network Load Balancer rules; only 'source-ip' is",
                        c.field
                    )));
                }
                if c.ip_address_type.is_none() || !c.values.is_empty() {
                    return Err(validation(
                        "A source IP condition of a Network Load Balancer rule takes an IP address type and no values",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// How many condition values a condition counts for (each query pair is one).
fn value_count(c: &Condition) -> usize {
    c.values.len() + c.regex_values.len() + c.query.len()
}

fn wildcard_count(c: &Condition) -> usize {
    let count = |s: &str| s.chars().filter(|ch| matches!(ch, '*' | '?')).count();
    match c.field.as_str() {
        "host-header" | "path-pattern" | "http-header" => c.values.iter().map(|v| count(v)).sum(),
        "query-string" => c
            .query
            .iter()
            .map(|q| count(&q.value) + q.key.as_deref().map_or(0, count))
            .sum(),
        _ => 0,
    }
}

/// RFC 7230's token characters.
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn check_header_name(name: &str) -> AwsResult<()> {
    if name.is_empty() || name.chars().count() > 40 || !name.chars().all(token_char) {
        return Err(validation(format!(
            "The HTTP header name '{name}' is not valid: use up to 40 characters allowed by RFC 7230"
        )));
    }
    if name.eq_ignore_ascii_case("host") {
        return Err(validation(
            "An HTTP header condition cannot match the host header; use a host header condition",
        ));
    }
    Ok(())
}

/// Each value's length and alphabet, per field.
fn check_values(c: &Condition) -> AwsResult<()> {
    let field = c.field.as_str();
    let empty = c.values.is_empty() && c.regex_values.is_empty() && c.query.is_empty();
    if empty && c.ip_address_type.is_none() {
        return Err(validation(format!(
            "A condition of field '{field}' must have at least one value"
        )));
    }
    for r in &c.regex_values {
        if r.is_empty() || r.chars().count() > 128 {
            return Err(validation(format!(
                "The regular expression '{r}' must be 1 to 128 characters long"
            )));
        }
    }
    for v in &c.values {
        let too_long = v.is_empty() || v.chars().count() > 128;
        let bad = match field {
            "host-header" => {
                too_long
                    || !v
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "-.*?".contains(ch))
                    || !host_shape(v)
            }
            "path-pattern" => {
                too_long
                    || !v
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(ch))
            }
            "http-header" => too_long,
            "http-request-method" => {
                v.is_empty()
                    || v.chars().count() > 40
                    || !v
                        .chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch == '-' || ch == '_')
            }
            "source-ip" => !cidr(v),
            _ => false,
        };
        if bad {
            return Err(validation(format!(
                "The value '{v}' is not valid for a condition of field '{field}'"
            )));
        }
    }
    Ok(())
}

/// A host name pattern has a `.`, and only letters (or wildcards) after the last one.
fn host_shape(v: &str) -> bool {
    match v.rsplit_once('.') {
        Some((_, last)) => {
            !last.is_empty()
                && last
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '*' || c == '?')
        }
        None => false,
    }
}

/// An IPv4 or IPv6 CIDR block.
fn cidr(v: &str) -> bool {
    let Some((addr, len)) = v.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => len <= 32,
        Ok(std::net::IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

/// The `Conditions` member of a `Rule`.
pub fn render(w: &mut Writer, conditions: &[Condition]) {
    w.list("Conditions", conditions, |w, c| {
        w.str("Field", &c.field);
        let legacy = matches!(c.field.as_str(), "host-header" | "path-pattern");
        if legacy && !c.values.is_empty() {
            w.strs("Values", &c.values);
        }
        if !c.regex_values.is_empty() {
            w.strs("RegexValues", &c.regex_values);
        }
        w.structure(config_of(&c.field), |w| match c.field.as_str() {
            "query-string" => {
                w.list("Values", &c.query, |w, q| {
                    w.str_opt("Key", q.key.as_deref()).str("Value", &q.value);
                });
            }
            field => {
                w.str_opt("HttpHeaderName", c.header_name.as_deref());
                if !c.values.is_empty() || field != "source-ip" {
                    w.strs("Values", &c.values);
                }
                if !c.regex_values.is_empty() {
                    w.strs("RegexValues", &c.regex_values);
                }
                w.str_opt("IpAddressType", c.ip_address_type.as_deref());
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_values() {
        assert!(host_shape("*.example.com"));
        assert!(host_shape("www.example.co?"));
        assert!(!host_shape("localhost"));
        assert!(!host_shape("example.c0m"));
        assert!(cidr("10.0.0.0/8"));
        assert!(cidr("2001:db8::/32"));
        assert!(!cidr("10.0.0.0/33"));
        assert!(!cidr("10.0.0.0"));
        assert!(check_header_name("X-Forwarded-For").is_ok());
        assert!(check_header_name("Host").is_err());
        assert!(check_header_name("bad header").is_err());
    }

    #[test]
    fn wildcards_count_across_forms() {
        let c = Condition {
            field: "path-pattern".into(),
            values: vec!["/a/*".into(), "/b?/*".into()],
            regex_values: vec![],
            header_name: None,
            query: vec![],
            ip_address_type: None,
        };
        assert_eq!(wildcard_count(&c), 3);
        assert_eq!(value_count(&c), 2);
    }
}
