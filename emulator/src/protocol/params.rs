//! Decoding of query-protocol parameters: a form body and/or URL query string, flattened.
//!
//! EC2 flattens lists as `InstanceId.1` and structures as `Filter.1.Value.2`; awsQuery as
//! `Listeners.member.1.InstancePort` and maps as `Attributes.entry.1.key`. [`Params`] holds the decoded
//! pairs and hands out typed values through [`Scope`]s, so a handler reads `p.strings("InstanceId")` without
//! knowing which dialect the service speaks. Every key a handler reads is marked; [`Params::finish`] then
//! rejects the keys nobody read, as AWS rejects parameters it does not know, *before* any state changes.

use std::cell::Cell;
use std::collections::BTreeMap;

use super::error::{AwsError, AwsResult};
use super::service::Protocol;

/// More pairs than any real request carries; past it the request is refused rather than decoded.
pub const MAX_PARAMS: usize = 100_000;

/// How lists are flattened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStyle {
    /// `Name.1`, `Name.2` (EC2).
    Flat,
    /// `Name.member.1` (awsQuery).
    Member,
}

#[derive(Debug)]
struct Entry {
    value: String,
    used: Cell<bool>,
}

/// The decoded parameters of one query-protocol request.
#[derive(Debug)]
pub struct Params {
    entries: BTreeMap<String, Entry>,
    protocol: Protocol,
}

/// Parameters every query request may carry that no handler reads: the action itself and the
/// signature-version-2 and presigning leftovers.
fn is_envelope_key(key: &str) -> bool {
    matches!(
        key,
        "Action"
            | "Version"
            | "AWSAccessKeyId"
            | "Signature"
            | "SignatureMethod"
            | "SignatureVersion"
            | "Timestamp"
            | "Expires"
            | "SecurityToken"
    ) || key.starts_with("X-Amz-")
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("MalformedQueryString", message)
}

/// Percent-decodes one form component (`+` is a space), refusing bad escapes and non-UTF-8 results.
pub fn decode_component(raw: &[u8]) -> AwsResult<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_val);
                let lo = raw.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        let end = raw.len().min(i + 3);
                        return Err(malformed(format!(
                            "Malformed percent-encoding '{}' in the request",
                            String::from_utf8_lossy(&raw[i..end])
                        )));
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed("The request parameters are not valid UTF-8"))
}

/// Splits `a=1&b=2` into decoded pairs, appending to `out`.
pub fn decode_form(raw: &[u8], out: &mut Vec<(String, String)>) -> AwsResult<()> {
    for part in raw.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        if out.len() >= MAX_PARAMS {
            return Err(malformed(format!(
                "The request has more than {MAX_PARAMS} parameters"
            )));
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        out.push((decode_component(k)?, decode_component(v)?));
    }
    Ok(())
}

impl Params {
    /// Builds from decoded pairs. A key given twice keeps its last value.
    pub fn from_pairs(pairs: Vec<(String, String)>, protocol: Protocol) -> Params {
        let entries = pairs
            .into_iter()
            .map(|(k, v)| {
                let entry = Entry {
                    value: v,
                    used: Cell::new(false),
                };
                (k, entry)
            })
            .collect();
        Params { entries, protocol }
    }

    /// Decodes a form body and a URL query string together (the body wins on a clash). `Action`
    /// or `Version` given twice with different values is refused: which operation (and service)
    /// a request is must not depend on which copy a reader takes.
    pub fn decode(query: &[u8], body: &[u8], protocol: Protocol) -> AwsResult<Params> {
        let mut pairs = Vec::new();
        decode_form(query, &mut pairs)?;
        decode_form(body, &mut pairs)?;
        for key in ["Action", "Version"] {
            let mut values = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
            if let Some(first) = values.next() {
                if let Some(other) = values.find(|v| *v != first) {
                    return Err(malformed(format!(
                        "The parameter {key} is given more than once, with different values ('{first}' and '{other}')"
                    )));
                }
            }
        }
        Ok(Self::from_pairs(pairs, protocol))
    }

    /// The same parameters, read in another protocol's dialect (routing decodes before it knows the service).
    pub fn with_protocol(mut self, protocol: Protocol) -> Params {
        self.protocol = protocol;
        self
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub fn style(&self) -> ListStyle {
        match self.protocol {
            Protocol::Ec2Query => ListStyle::Flat,
            _ => ListStyle::Member,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A raw look-up that does not mark the key used: for routing (`Action`, `Version`).
    pub fn peek(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|e| e.value.as_str())
    }

    /// Every parameter a handler may read (envelope and signature keys left out), in key order,
    /// without marking any used: what the call log records and what faults match values against.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .filter(|(k, _)| !is_envelope_key(k))
            .map(|(k, e)| (k.as_str(), e.value.as_str()))
    }

    /// The keys under `prefix` (which ends in `.`) with their values, in key order, without
    /// marking any used: the model's validator walks them.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.range(prefix)
            .map(|(k, e)| (k.as_str(), e.value.as_str()))
    }

    /// The top-level scope, where handlers start reading.
    pub fn root(&self) -> Scope<'_> {
        Scope {
            params: self,
            prefix: String::new(),
        }
    }

    /// Refuses the request if it carries a parameter no handler read. Call after decoding the input
    /// and before touching state, so an unknown parameter changes nothing.
    pub fn finish(&self) -> AwsResult<()> {
        match self
            .entries
            .iter()
            .find(|(k, e)| !e.used.get() && !is_envelope_key(k))
        {
            None => Ok(()),
            Some((k, _)) => Err(AwsError::bad_request(
                "UnknownParameter",
                format!("The parameter {k} is not recognized"),
            )),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|e| {
            e.used.set(true);
            e.value.as_str()
        })
    }

    /// Every key that starts with `prefix`, in key order.
    fn range<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
        self.entries
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    fn missing(&self, key: &str) -> AwsError {
        match self.protocol {
            Protocol::Ec2Query => AwsError::bad_request(
                "MissingParameter",
                format!("The request must contain the parameter {key}"),
            ),
            _ => AwsError::bad_request(
                "ValidationError",
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    lower_camel(key)
                ),
            ),
        }
    }

    fn wrong_type(&self, key: &str, value: &str, expected: &str) -> AwsError {
        match self.protocol {
            Protocol::Ec2Query => AwsError::invalid_value(format!(
                "Value ({value}) for parameter {key} is invalid. Expected: '{expected}'."
            )),
            _ => AwsError::bad_request(
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: Member must be of type {expected}",
                    lower_camel(key)
                ),
            ),
        }
    }
}

/// `Listeners.member.1.InstancePort` -> `listeners.member.1.instancePort`, as AWS's validation messages spell paths.
fn lower_camel(key: &str) -> String {
    key.split('.')
        .map(|seg| {
            let mut c = seg.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A view of the parameters under a prefix: the whole request, or one element of a list of structures.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    params: &'a Params,
    prefix: String,
}

impl<'a> Scope<'a> {
    fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    /// The full parameter name of `name` here, for error messages.
    pub fn path(&self, name: &str) -> String {
        self.key(name)
    }

    /// An optional string.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.params.get(&self.key(name))
    }

    /// A required string: `MissingParameter` (EC2) or `ValidationError` (others) when absent.
    pub fn required(&self, name: &str) -> AwsResult<&'a str> {
        let key = self.key(name);
        self.params
            .get(&key)
            .ok_or_else(|| self.params.missing(&key))
    }

    /// An optional integer.
    pub fn int(&self, name: &str) -> AwsResult<Option<i64>> {
        let key = self.key(name);
        match self.params.get(&key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| self.params.wrong_type(&key, v, "Integer")),
        }
    }

    /// An optional boolean (`true`/`false`, any case).
    pub fn bool(&self, name: &str) -> AwsResult<Option<bool>> {
        let key = self.key(name);
        match self.params.get(&key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(self.params.wrong_type(&key, v, "Boolean")),
        }
    }

    /// Whether anything under `name` was sent (the value itself, or list/structure members).
    pub fn has(&self, name: &str) -> bool {
        let key = self.key(name);
        let nested = format!("{key}.");
        self.params.entries.contains_key(&key) || self.params.range(&nested).next().is_some()
    }

    /// The base key of a list's elements: `Name` (EC2) or `Name.member` (awsQuery). An empty awsQuery
    /// list arrives as `Name=`; reading the list marks that used too.
    fn list_base(&self, name: &str) -> String {
        let key = self.key(name);
        match self.params.style() {
            ListStyle::Flat => key,
            ListStyle::Member => {
                if let Some(e) = self.params.entries.get(&key) {
                    if e.value.is_empty() {
                        e.used.set(true);
                    }
                }
                format!("{key}.member")
            }
        }
    }

    /// The element indices of the list at `base`, in numeric order. A non-numeric index is refused.
    fn indices(&self, base: &str) -> AwsResult<Vec<u32>> {
        let prefix = format!("{base}.");
        let mut idx: Vec<u32> = Vec::new();
        for (k, _) in self.params.range(&prefix) {
            let rest = &k[prefix.len()..];
            let seg = rest.split('.').next().unwrap_or("");
            match seg.parse::<u32>() {
                Ok(n) if n > 0 && !seg.starts_with('+') => {
                    if idx.last() != Some(&n) {
                        idx.push(n);
                    }
                }
                _ => {
                    return Err(AwsError::bad_request(
                        "UnknownParameter",
                        format!("The parameter {k} is not recognized"),
                    ))
                }
            }
        }
        idx.sort_unstable();
        idx.dedup();
        Ok(idx)
    }

    /// A list of strings: `InstanceId.1…` or `SecurityGroups.member.1…`.
    pub fn strings(&self, name: &str) -> AwsResult<Vec<&'a str>> {
        let base = self.list_base(name);
        let mut out = Vec::new();
        for n in self.indices(&base)? {
            let key = format!("{base}.{n}");
            match self.params.get(&key) {
                Some(v) => out.push(v),
                // `Name.1.Sub` without `Name.1`: a list of strings has no members.
                None => {
                    return Err(AwsError::bad_request(
                        "UnknownParameter",
                        format!("The parameter {key} is not a string list element"),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// A required list of strings: absent (not even `Name=`) is the protocol's missing-parameter
    /// error; an empty list sent as `Name=` is accepted.
    pub fn required_strings(&self, name: &str) -> AwsResult<Vec<&'a str>> {
        if !self.has(name) {
            return Err(self.params.missing(&self.key(name)));
        }
        self.strings(name)
    }

    /// A required list of structures, as [`Scope::required_strings`].
    pub fn required_structs(&self, name: &str) -> AwsResult<Vec<Scope<'a>>> {
        if !self.has(name) {
            return Err(self.params.missing(&self.key(name)));
        }
        self.structs(name)
    }

    /// A list of structures, each as its own scope: `Filter.1.Name`, `Listeners.member.1.Protocol`.
    pub fn structs(&self, name: &str) -> AwsResult<Vec<Scope<'a>>> {
        let base = self.list_base(name);
        Ok(self
            .indices(&base)?
            .into_iter()
            .map(|n| Scope {
                params: self.params,
                prefix: format!("{base}.{n}."),
            })
            .collect())
    }

    /// A nested structure that is not in a list: `Placement.AvailabilityZone`.
    pub fn nested(&self, name: &str) -> Scope<'a> {
        Scope {
            params: self.params,
            prefix: format!("{}.", self.key(name)),
        }
    }

    /// An awsQuery map: `Name.entry.N.key` / `Name.entry.N.value` (key and value member names vary by API).
    pub fn map(
        &self,
        name: &str,
        key_name: &str,
        value_name: &str,
    ) -> AwsResult<Vec<(&'a str, &'a str)>> {
        let base = format!("{}.entry", self.key(name));
        let mut out = Vec::new();
        for n in self.indices(&base)? {
            let entry = Scope {
                params: self.params,
                prefix: format!("{base}.{n}."),
            };
            out.push((
                entry.required(key_name)?,
                entry.str(value_name).unwrap_or(""),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec2(q: &str) -> Params {
        Params::decode(q.as_bytes(), b"", Protocol::Ec2Query).unwrap()
    }

    #[test]
    fn decodes_percent_and_plus() {
        let p = ec2("Action=X&Name=a%20b+c%2Bd&Empty=&Bare");
        let r = p.root();
        assert_eq!(r.str("Name"), Some("a b c+d"));
        assert_eq!(r.str("Empty"), Some(""));
        assert_eq!(r.str("Bare"), Some(""));
        assert_eq!(p.peek("Action"), Some("X"));
    }

    #[test]
    fn refuses_bad_escapes_and_utf8() {
        for bad in ["a=%zz", "a=%4", "a=%", "%ff%fe=1", "a=%C3%28"] {
            let err = Params::decode(bad.as_bytes(), b"", Protocol::Ec2Query).unwrap_err();
            assert_eq!(err.code, "MalformedQueryString", "{bad}");
            assert_eq!(err.status, 400);
        }
    }

    #[test]
    fn ec2_lists_and_structures() {
        let p = ec2("InstanceId.2=i-b&InstanceId.1=i-a&InstanceId.10=i-c&Filter.1.Name=tag%3AName&Filter.1.Value.1=x&Filter.1.Value.2=y&Filter.2.Name=vpc-id&Filter.2.Value.1=v");
        let r = p.root();
        assert_eq!(r.strings("InstanceId").unwrap(), vec!["i-a", "i-b", "i-c"]);
        let filters = r.structs("Filter").unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].required("Name").unwrap(), "tag:Name");
        assert_eq!(filters[0].strings("Value").unwrap(), vec!["x", "y"]);
        assert_eq!(filters[1].required("Name").unwrap(), "vpc-id");
        assert_eq!(filters[1].strings("Value").unwrap(), vec!["v"]);
        p.finish().unwrap();
    }

    #[test]
    fn aws_query_members_and_maps() {
        let p = Params::decode(
            b"Listeners.member.1.InstancePort=80&Listeners.member.1.Protocol=TCP&Subnets=&Attributes.entry.1.key=k&Attributes.entry.1.value=v",
            b"",
            Protocol::AwsQuery,
        )
        .unwrap();
        let r = p.root();
        let l = r.structs("Listeners").unwrap();
        assert_eq!(l[0].int("InstancePort").unwrap(), Some(80));
        assert_eq!(l[0].str("Protocol"), Some("TCP"));
        assert!(r.strings("Subnets").unwrap().is_empty());
        assert_eq!(
            r.map("Attributes", "key", "value").unwrap(),
            vec![("k", "v")]
        );
        p.finish().unwrap();
    }

    #[test]
    fn typed_errors_per_protocol() {
        let p = ec2("MaxResults=ten&DryRun=maybe");
        let r = p.root();
        assert_eq!(
            r.int("MaxResults").unwrap_err().code,
            "InvalidParameterValue"
        );
        assert_eq!(r.bool("DryRun").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(r.required("Size").unwrap_err().code, "MissingParameter");
        let q = Params::decode(b"", b"", Protocol::AwsQuery).unwrap();
        let err = q.root().required("LoadBalancerName").unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert!(
            err.message.contains("'loadBalancerName'"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_parameters_are_refused_and_envelope_keys_are_not() {
        let p = ec2(
            "Action=DescribeRegions&Version=2016-11-15&X-Amz-Date=1&Bogus=1&RegionName.1=us-east-1",
        );
        p.root().strings("RegionName").unwrap();
        let err = p.finish().unwrap_err();
        assert_eq!(err.code, "UnknownParameter");
        assert!(err.message.contains("Bogus"));
        let p = ec2("InstanceId.x=1");
        assert_eq!(
            p.root().strings("InstanceId").unwrap_err().code,
            "UnknownParameter"
        );
    }

    mod roundtrip {
        use super::super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        /// A generated request shape: strings, string lists, and lists of nested structures.
        #[derive(Debug, Clone, PartialEq)]
        enum Field {
            Str(String),
            Strs(Vec<String>),
            Structs(Vec<BTreeMap<String, Field>>),
        }

        fn field(depth: u32) -> BoxedStrategy<Field> {
            let leaf = prop_oneof![
                any::<String>().prop_map(Field::Str),
                prop::collection::vec(any::<String>(), 0..4).prop_map(Field::Strs),
            ];
            if depth == 0 {
                return leaf.boxed();
            }
            prop_oneof![
                2 => leaf,
                1 => prop::collection::vec(structure(depth - 1), 0..3).prop_map(Field::Structs),
            ]
            .boxed()
        }

        fn structure(depth: u32) -> BoxedStrategy<BTreeMap<String, Field>> {
            prop::collection::btree_map("[A-Z][a-z]{0,5}", field(depth), 0..4).boxed()
        }

        fn enc(s: &str) -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        }

        fn flatten(
            prefix: &str,
            s: &BTreeMap<String, Field>,
            style: ListStyle,
            out: &mut Vec<String>,
        ) {
            let list = |name: &str| match style {
                ListStyle::Flat => format!("{prefix}{name}"),
                ListStyle::Member => format!("{prefix}{name}.member"),
            };
            for (name, f) in s {
                match f {
                    Field::Str(v) => {
                        out.push(format!("{}={}", enc(&format!("{prefix}{name}")), enc(v)))
                    }
                    Field::Strs(vs) => {
                        if vs.is_empty() && style == ListStyle::Member {
                            out.push(format!("{}=", enc(&format!("{prefix}{name}"))));
                        }
                        for (i, v) in vs.iter().enumerate() {
                            out.push(format!(
                                "{}={}",
                                enc(&format!("{}.{}", list(name), i + 1)),
                                enc(v)
                            ));
                        }
                    }
                    Field::Structs(items) => {
                        for (i, item) in items.iter().enumerate() {
                            flatten(&format!("{}.{}.", list(name), i + 1), item, style, out);
                        }
                    }
                }
            }
        }

        /// Reads back what the shape says is there; empty structures and lists vanish in the flat
        /// form (as on the wire), so they are compared after the same normalisation.
        fn read(
            scope: &Scope<'_>,
            shape: &BTreeMap<String, Field>,
            style: ListStyle,
        ) -> BTreeMap<String, Field> {
            shape
                .iter()
                .map(|(name, f)| {
                    let v = match f {
                        Field::Str(_) => {
                            Field::Str(scope.str(name).unwrap_or("<missing>").to_string())
                        }
                        Field::Strs(_) => Field::Strs(
                            scope
                                .strings(name)
                                .unwrap()
                                .into_iter()
                                .map(str::to_string)
                                .collect(),
                        ),
                        Field::Structs(items) => {
                            let got = scope.structs(name).unwrap();
                            let nonempty: Vec<&BTreeMap<String, Field>> =
                                items.iter().filter(|i| !vanishes(i, style)).collect();
                            assert_eq!(got.len(), nonempty.len(), "structures under {name}");
                            Field::Structs(
                                got.iter()
                                    .zip(nonempty)
                                    .map(|(g, shape)| read(g, shape, style))
                                    .collect(),
                            )
                        }
                    };
                    (name.clone(), v)
                })
                .collect()
        }

        /// A structure with nothing that reaches the wire.
        /// (awsQuery sends an empty list as `Name=`, so there it does reach the wire.)
        fn vanishes(s: &BTreeMap<String, Field>, style: ListStyle) -> bool {
            s.values().all(|f| match f {
                Field::Str(_) => false,
                Field::Strs(v) => v.is_empty() && style == ListStyle::Flat,
                Field::Structs(items) => items.iter().all(|i| vanishes(i, style)),
            })
        }

        fn normalise(s: &BTreeMap<String, Field>, style: ListStyle) -> BTreeMap<String, Field> {
            s.iter()
                .map(|(k, f)| {
                    let f = match f {
                        Field::Structs(items) => Field::Structs(
                            items
                                .iter()
                                .filter(|i| !vanishes(i, style))
                                .map(|i| normalise(i, style))
                                .collect(),
                        ),
                        other => other.clone(),
                    };
                    (k.clone(), f)
                })
                .collect()
        }

        proptest! {
            #[test]
            fn nested_structures_round_trip(shape in structure(2), member in any::<bool>()) {
                let (style, protocol) = if member { (ListStyle::Member, Protocol::AwsQuery) } else { (ListStyle::Flat, Protocol::Ec2Query) };
                let mut pairs = Vec::new();
                flatten("", &shape, style, &mut pairs);
                let body = pairs.join("&");
                let p = Params::decode(b"", body.as_bytes(), protocol).unwrap();
                let got = read(&p.root(), &shape, style);
                prop_assert_eq!(got, normalise(&shape, style));
                prop_assert!(p.finish().is_ok());
            }

            #[test]
            fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..200)) {
                if let Ok(p) = Params::decode(&raw, &raw, Protocol::Ec2Query) {
                    let r = p.root();
                    let _ = r.strings("A");
                    let _ = r.structs("Filter");
                    let _ = r.int("B");
                    let _ = p.finish();
                }
            }
        }
    }

    #[test]
    fn too_many_parameters_are_refused() {
        let body: String = (0..=MAX_PARAMS).map(|i| format!("K{i}=v&")).collect();
        let err = Params::decode(b"", body.as_bytes(), Protocol::Ec2Query).unwrap_err();
        assert_eq!(err.status, 400);
    }
}
