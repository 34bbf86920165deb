//! Entry points for the coverage-guided fuzz targets (`fuzz/`, run by `scripts/fuzz`) and for
//! the regression tests of what they found (`tests/fuzz_regressions.rs`).
//!
//! Each function takes the fuzzer's bytes, drives one parser the way a request or a file reaches
//! it, and panics only when an invariant breaks: a parser that panics, an error that is not a
//! 4xx answer, a round trip that changes the value, a signature we made that we refuse. The
//! input formats are line-based so the seed corpora stay readable; `seeds` writes them from the
//! project's own scenarios, policies and the calls their worlds make.
//!
//! Not part of the API: hidden from the docs, and nothing else in the crate uses it.

use std::net::SocketAddr;
use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::auth::identities::DEFAULT_PRINCIPALS;
use crate::auth::principal::Principal;
use crate::auth::sigv4::{self, RequestParts, SigError};
use crate::config::{Config, IamMode, DEFAULT_REGION};
use crate::iam::{self, Caller, Decision, Policy, PolicyDocument, RequestContext};
use crate::instance::{Instance, RawRequest, RawResponse};
use crate::protocol::json::JsonInput;
use crate::protocol::params::{decode_form, Params};
use crate::protocol::route::{self, Input};
use crate::protocol::{validate, Protocol, ServiceId};
use crate::scenario::Scenario;

/// The targets, by the name `scripts/fuzz` and the fixture folders use.
pub const TARGETS: [&str; 7] = [
    "query",
    "json",
    "sigv4_header",
    "sigv4_presigned",
    "policy",
    "strict_json",
    "scenario",
];

/// Runs the target called `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "query" => query(data),
        "json" => json(data),
        "sigv4_header" => sigv4_header(data),
        "sigv4_presigned" => sigv4_presigned(data),
        "policy" => policy(data),
        "strict_json" => strict_json(data),
        "scenario" => scenario(data),
        _ => return false,
    }
    true
}

/// A fixed wall-clock-free start for the fuzzing instance, so ids and states repeat run to run.
const START_MS: i64 = 1_700_000_000_000;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The configuration of the emulator the request targets go through: IAM enforced, a manual
/// clock, every opt-in region enabled (so a seed made from any scenario's calls replays).
pub fn fuzz_config() -> Config {
    Config {
        iam: IamMode::Enforce,
        manual_clock_start_ms: Some(START_MS),
        opt_in_regions: crate::state::regions::REGIONS
            .iter()
            .filter(|r| r.opt_in)
            .map(|r| r.name.to_string())
            .collect(),
        ..Config::default()
    }
}

/// The emulator every request target goes through. It is reset before each input, so an
/// input's answers do not depend on the inputs before it.
fn instance() -> &'static Instance {
    static INSTANCE: OnceLock<Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| match Instance::new(fuzz_config()) {
        Ok(i) => i,
        Err(e) => panic!("the fuzzing instance does not start: {e}"),
    })
}

/// The most requests one input makes: enough to build a small world and act on it.
const MAX_REQUESTS: usize = 48;

/// A fresh world for the next input.
fn reset() {
    if let Err(e) = instance().reset() {
        panic!("reset failed: {e}");
    }
}

/// Splits off the first line (without its `\n`); the rest may be empty.
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    }
}

/// The keys of a built-in principal named by the input (`admin`, `controlplane`, `etcd`,
/// `worker`); anything else sends the request unsigned.
/// The line may add a region after a space (`worker eu-west-1`); the default region else.
pub fn keys_of(line: &[u8]) -> Option<Signer> {
    let text = std::str::from_utf8(line).ok()?;
    let (name, region) = text.split_once(' ').unwrap_or((text, DEFAULT_REGION));
    // A region a client could put in a header (visible ASCII); anything else is not a request.
    let region = if !region.is_empty() && region.bytes().all(|b| b.is_ascii_graphic()) {
        region
    } else {
        DEFAULT_REGION
    };
    DEFAULT_PRINCIPALS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, akid, secret, _)| Signer {
            akid,
            secret,
            region: region.to_string(),
        })
}

/// Who signs a request, in which region.
pub struct Signer {
    pub akid: &'static str,
    pub secret: &'static str,
    pub region: String,
}

/// Sends one request through the whole pipeline (signed by `keys` for `service`, if any) and
/// checks the answer: never a 5xx but `NotImplemented` (an action awsemu does not emulate), and
/// a body in the service's envelope that parses.
fn through_pipeline(
    mut req: RawRequest,
    keys: Option<Signer>,
    service: Option<ServiceId>,
) -> RawResponse {
    let instance = instance();
    if let (
        Some(Signer {
            akid,
            secret,
            region,
        }),
        Some(service),
    ) = (keys, service)
    {
        let signed = sigv4::sign(
            &RequestParts {
                method: &req.method,
                path: &req.path,
                query: &req.query,
                headers: &req.headers,
                body: &req.body,
            },
            akid,
            secret,
            None,
            &region,
            service.signing_name(),
            crate::timefmt::now_unix(),
        );
        for (name, value) in signed {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                (Ok(n), Ok(v)) => {
                    req.headers.insert(n, v);
                }
                _ => panic!("the signer made an invalid header {name}: {value}"),
            }
        }
    }
    let response = instance.handle(&req);
    assert!(
        response.status < 500 || response.error_code.as_deref() == Some("NotImplemented"),
        "a {} answer ({:?}) to {req:?}: {}",
        response.status,
        response.error_code,
        response.body
    );
    check_envelope(&response);
    response
}

/// The answer's body is well-formed JSON or XML, as its content type says.
fn check_envelope(response: &RawResponse) {
    if response.content_type.contains("json") {
        if let Err(e) = serde_json::from_str::<Value>(&response.body) {
            panic!("the JSON answer does not parse ({e}): {}", response.body);
        }
        return;
    }
    let mut reader = quick_xml::Reader::from_str(&response.body);
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the XML answer does not parse ({e}): {}", response.body),
        }
    }
    assert_eq!(depth, 0, "unbalanced XML answer: {}", response.body);
}

fn request(query: &[u8], headers: HeaderMap, body: &[u8]) -> RawRequest {
    RawRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::from_utf8_lossy(query).into_owned(),
        headers,
        body: bytes::Bytes::copy_from_slice(body),
        remote: SocketAddr::from(([127, 0, 0, 1], 40000)),
        body_too_large: false,
    }
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(n, v);
        }
    }
    h
}

/// Percent-encodes one form component so that [`decode_form`] gives back exactly `s`.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The pairs as a form body.
pub fn encode_form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    parts.join("&")
}

/// Splits an input into requests of three lines each (the last may be short), at most
/// [`MAX_REQUESTS`].
pub fn requests(data: &[u8]) -> Vec<[&[u8]; 3]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && out.len() < MAX_REQUESTS {
        let (a, r) = line(rest);
        let (b, r) = line(r);
        let (c, r) = line(r);
        out.push([a, b, c]);
        rest = r;
    }
    out
}

/// The query protocol. Input: requests of three lines each — a principal's name (and region),
/// the URL query string, the form body — made in turn on one fresh world. Checks, for each: a
/// decoding error is a 400 `MalformedQueryString`; decoded pairs re-encode and decode to the
/// same pairs; routing and the model's input check fail only with 4xx errors; the request,
/// signed as that principal, gets a clean answer from the whole pipeline.
pub fn query(data: &[u8]) {
    reset();
    for [who, query, body] in requests(data) {
        query_one(who, query, body);
    }
}

fn query_one(who: &[u8], query: &[u8], body: &[u8]) {
    for raw in [query, body] {
        let mut pairs = Vec::new();
        match decode_form(raw, &mut pairs) {
            Err(e) => {
                assert_eq!(
                    (e.status, e.code.as_ref()),
                    (400, "MalformedQueryString"),
                    "{e}"
                );
            }
            Ok(()) => {
                let again = encode_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let mut back = Vec::new();
                if let Err(e) = decode_form(again.as_bytes(), &mut back) {
                    panic!("re-encoded pairs do not decode ({e}): {again}");
                }
                assert_eq!(pairs, back, "round trip through {again}");
            }
        }
    }
    match Params::decode(query, body, Protocol::AwsQuery) {
        Err(e) => assert_eq!(e.status, 400, "{e}"),
        Ok(p) => {
            let pairs: Vec<(String, String)> = p
                .pairs()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let again = encode_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let reread = Params::decode(b"", again.as_bytes(), Protocol::AwsQuery);
            match reread {
                Ok(r) => {
                    let back: Vec<(String, String)> = r
                        .pairs()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    assert_eq!(pairs, back, "parameters round trip through {again}");
                }
                Err(e) => panic!("re-encoded parameters do not decode ({e}): {again}"),
            }
        }
    }
    let service = match route::route(None, None, query, body, true) {
        Err(e) => {
            assert!((400..500).contains(&e.error.status), "{}", e.error);
            None
        }
        Ok(routed) => {
            if let Input::Query(p) = &routed.input {
                if let Err(e) = validate::query(routed.service, &routed.action, p) {
                    assert!((400..500).contains(&e.status), "{e}");
                }
            }
            Some(routed.service)
        }
    };
    let headers = header_map(&[
        ("host", "localhost"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ]);
    through_pipeline(request(query, headers, body), keys_of(who), service);
}

/// The JSON protocol (KMS, ECR). Input: requests of three lines each — a principal's name (and
/// region), the `X-Amz-Target`, the body — made in turn on one fresh world. Checks, for each: a
/// body that does not parse is a 400 `SerializationException`; a parsed body serializes and
/// parses back to itself; the model's check fails only with 4xx; the whole pipeline answers
/// cleanly, in JSON.
pub fn json(data: &[u8]) {
    reset();
    for [who, target, body] in requests(data) {
        json_one(who, target, body);
    }
}

fn json_one(who: &[u8], target: &[u8], body: &[u8]) {
    let target = String::from_utf8_lossy(target).into_owned();
    match JsonInput::parse(body) {
        Err(e) => assert_eq!(
            (e.status, e.code.as_ref()),
            (400, "SerializationException"),
            "{e}"
        ),
        Ok(input) => {
            let text = match serde_json::to_vec(&input.body) {
                Ok(t) => t,
                Err(e) => panic!("a parsed body does not serialize: {e}"),
            };
            match JsonInput::parse(&text) {
                Ok(back) => assert_eq!(back.body, input.body, "round trip"),
                Err(e) => panic!("a serialized body does not parse: {e}"),
            }
            if let Some((service, op)) = ServiceId::from_target(&target) {
                if let Err(e) = validate::json(service, op, &input) {
                    assert!((400..500).contains(&e.status), "{e}");
                }
            }
        }
    }
    let headers = header_map(&[
        ("host", "localhost"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", &target),
    ]);
    // A target no HTTP header can carry is not sent: the request is then a query-protocol one.
    let service = if headers.contains_key("x-amz-target") {
        ServiceId::from_target(&target).map(|(s, _)| s)
    } else {
        None
    };
    let response = through_pipeline(request(b"", headers, body), keys_of(who), service);
    if service.is_some() {
        assert!(
            response.content_type.contains("json"),
            "a JSON service answered {}",
            response.content_type
        );
    }
}

/// A request from text: `METHOD PATH[?QUERY]`, a line; header lines `name: value` up to an
/// empty line; the body. Lines that are not valid headers are skipped.
fn parse_http(data: &[u8]) -> (String, String, String, HeaderMap, Vec<u8>) {
    let (first, mut rest) = line(data);
    let first = String::from_utf8_lossy(first);
    let (method, target) = first.split_once(' ').unwrap_or(("GET", &first));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    loop {
        let (l, next) = line(rest);
        rest = next;
        if l.is_empty() {
            break;
        }
        let Some(colon) = l.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = l[colon + 1..].strip_prefix(b" ").unwrap_or(&l[colon + 1..]);
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(&l[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(n, v);
        }
        if rest.is_empty() {
            break;
        }
    }
    (
        method.to_string(),
        path.to_string(),
        query.to_string(),
        headers,
        rest.to_vec(),
    )
}

/// Every way a signature can fail maps to a 4xx answer in each protocol.
fn check_sig_error(e: &SigError) {
    assert!(!e.to_string().is_empty());
    assert!(matches!(
        e.code(),
        "IncompleteSignature" | "SignatureDoesNotMatch"
    ));
}

/// The SigV4 `Authorization` header. Input: a request as text (see [`parse_http`]). Checks:
/// reading the signature fails only with a [`SigError`]; one it reads names `host` among
/// lowercase signed headers, and verifying it (right or wrong) and checking its time do not
/// panic. Then the round trip: the same request without signature headers, signed by our
/// signer, is read back with our scope and verifies — with our secret only.
pub fn sigv4_header(data: &[u8]) {
    let (method, path, query, mut headers, body) = parse_http(data);
    let parts = RequestParts {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    match sigv4::extract(&parts) {
        Err(e) => check_sig_error(&e),
        Ok(None) => {}
        Ok(Some(info)) => {
            assert!(info.signed_headers.iter().any(|h| h == "host"));
            assert!(info
                .signed_headers
                .iter()
                .all(|h| !h.bytes().any(|b| b.is_ascii_uppercase())));
            if let Err(e) = sigv4::verify(&parts, &info, SECRET) {
                check_sig_error(&e);
            }
            for now in [info.timestamp, 0, i64::MAX, i64::MIN] {
                if let Err(e) = sigv4::check_time(&info, now) {
                    check_sig_error(&e);
                }
            }
        }
    }
    // The round trip: only for a request whose query carries no presigned signature. A payload
    // claim is dropped too: the verifier hashes the body whatever the claim says.
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ] {
        headers.remove(name);
    }
    if !headers.contains_key("host") {
        headers.insert("host", HeaderValue::from_static("localhost"));
    }
    let unsigned = RequestParts {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    if !matches!(sigv4::extract(&unsigned), Ok(None)) {
        return;
    }
    let now = 1_440_938_160;
    let token = (body.len() % 2 == 1).then_some("session-token/x+y=");
    let added = sigv4::sign(
        &unsigned,
        "AKIDFUZZ",
        SECRET,
        token,
        "us-east-1",
        "ec2",
        now,
    );
    let mut signed_headers = headers.clone();
    for (name, value) in &added {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                signed_headers.insert(n, v);
            }
            _ => panic!("the signer made an invalid header {name}: {value}"),
        }
    }
    let signed = RequestParts {
        headers: &signed_headers,
        ..unsigned
    };
    let info = match sigv4::extract(&signed) {
        Ok(Some(info)) => info,
        other => panic!("our own signature does not read back: {other:?}"),
    };
    assert_eq!(
        (
            info.access_key_id.as_str(),
            info.region.as_str(),
            info.service.as_str(),
            info.timestamp,
            info.session_token.as_deref(),
            info.presigned_expires,
        ),
        ("AKIDFUZZ", "us-east-1", "ec2", now, token, None)
    );
    if let Err(e) = sigv4::verify(&signed, &info, SECRET) {
        panic!("our own signature does not verify: {e:?}");
    }
    assert!(
        sigv4::verify(&signed, &info, "another secret").is_err(),
        "a signature verifies with the wrong secret"
    );
    assert!(sigv4::check_time(&info, now).is_ok());
    assert!(sigv4::check_time(&info, now + 16 * 60).is_err());
}

/// Presigned URLs. Input: `METHOD PATH[?QUERY]`, a line; optionally `host`, a line. Checks:
/// reading the query's signature fails only with a [`SigError`], and one it reads is presigned
/// with `host` signed. Round trip: the URL without any `X-Amz-` parameter, presigned by our
/// presigner, reads back with our scope and expiry, verifies with our secret only, and is
/// within its time from the signing time to its expiry and not after.
pub fn sigv4_presigned(data: &[u8]) {
    let (first, rest) = line(data);
    let first = String::from_utf8_lossy(first);
    let (method, target) = first.split_once(' ').unwrap_or(("GET", &first));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (host, _) = line(rest);
    let host = match std::str::from_utf8(host) {
        Ok(h) if !h.is_empty() && HeaderValue::from_str(h).is_ok() => h,
        _ => "localhost",
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(host) {
        headers.insert("host", v);
    }
    let parts = RequestParts {
        method,
        path,
        query,
        headers: &headers,
        body: b"",
    };
    match sigv4::extract(&parts) {
        Err(e) => check_sig_error(&e),
        Ok(None) => {}
        Ok(Some(info)) => {
            assert!(
                info.is_presigned(),
                "a query signature that is not presigned"
            );
            assert!(info.signed_headers.iter().any(|h| h == "host"));
            if let Err(e) = sigv4::verify(&parts, &info, SECRET) {
                check_sig_error(&e);
            }
            for now in [info.timestamp, 0, i64::MAX, i64::MIN] {
                if let Err(e) = sigv4::check_time(&info, now) {
                    check_sig_error(&e);
                }
            }
        }
    }
    // The round trip, on the URL's own parameters (those that are not signature parameters).
    let own: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.contains("X-Amz-") && !p.contains('%'))
        .collect();
    let own = own.join("&");
    let now = 1_440_938_160;
    let expires = (data.len() as i64 * 977) % 604_800 + 1;
    let token = (data.len() % 2 == 1).then_some("session/token+=");
    let auth = sigv4::presign(
        method,
        host,
        path,
        &own,
        "AKIDFUZZ",
        SECRET,
        token,
        "eu-west-1",
        "sts",
        now,
        expires,
    );
    let full = if own.is_empty() {
        auth
    } else {
        format!("{own}&{auth}")
    };
    let signed = RequestParts {
        query: &full,
        ..parts
    };
    let info = match sigv4::extract(&signed) {
        Ok(Some(info)) => info,
        other => panic!("our own presigned URL does not read back: {other:?} ({full})"),
    };
    assert_eq!(
        (
            info.access_key_id.as_str(),
            info.region.as_str(),
            info.service.as_str(),
            info.timestamp,
            info.session_token.as_deref(),
            info.presigned_expires,
        ),
        ("AKIDFUZZ", "eu-west-1", "sts", now, token, Some(expires))
    );
    if let Err(e) = sigv4::verify(&signed, &info, SECRET) {
        panic!("our own presigned URL does not verify: {e:?} ({full})");
    }
    assert!(
        sigv4::verify(&signed, &info, "another secret").is_err(),
        "a presigned URL verifies with the wrong secret"
    );
    assert!(sigv4::check_time(&info, now).is_ok());
    assert!(sigv4::check_time(&info, now + expires).is_ok());
    assert!(sigv4::check_time(&info, now + expires + 1).is_err());
}

/// The contexts a parsed policy is evaluated against: common actions and resources, with the
/// condition keys AWS sets and some tags.
fn contexts() -> Vec<RequestContext> {
    let admin = Principal::user(crate::config::DEFAULT_ACCOUNT, "admin");
    let remote = SocketAddr::from(([10, 1, 2, 3], 5555));
    let base = |action: &str, resource: &str| {
        crate::instance::request_context(
            action,
            resource,
            &admin,
            "us-east-1",
            &remote,
            START_MS / 1000,
        )
    };
    let mut tagged = base(
        "ec2:CreateTags",
        "arn:aws:ec2:us-east-1:000000000000:volume/vol-1",
    );
    tagged.add_request_tags([("kubernetes.io/cluster/k", Some("owned")), ("Name", None)]);
    let owner = ("kubernetes.io/cluster/k".to_string(), "owned".to_string());
    tagged.add_resource_tags("ec2", [(&owner.0, &owner.1)]);
    vec![
        base("ec2:DescribeInstances", "*"),
        base("iam:PassRole", "arn:aws:iam::000000000000:role/path/r"),
        base("sts:AssumeRole", "arn:aws:iam::000000000000:role/r"),
        tagged,
    ]
}

fn decisions(doc: &PolicyDocument, contexts: &[RequestContext]) -> Vec<Decision> {
    let policies = [Policy::new("fuzz", doc.clone())];
    let callers = [
        Caller::Aws {
            arn: "arn:aws:iam::000000000000:user/admin",
            account: "000000000000",
        },
        Caller::Service("ec2.amazonaws.com"),
    ];
    let mut out = Vec::new();
    for ctx in contexts {
        out.push(iam::evaluate(&policies, ctx).decision);
        for caller in &callers {
            out.push(iam::evaluate_resource_policy(doc, caller, ctx).decision);
        }
    }
    out
}

/// Policy documents, as an identity and as a resource policy. Checks: a bad document is a
/// [`crate::iam::PolicyError`] with a message; a good one, re-serialized (no whitespace, keys
/// reordered), parses to a document that decides every context the same way.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let contexts = contexts();
    for kind in [iam::PolicyKind::Identity, iam::PolicyKind::Resource] {
        let parse = |t: &str| match kind {
            iam::PolicyKind::Identity => PolicyDocument::parse(t),
            iam::PolicyKind::Resource => PolicyDocument::parse_resource_policy(t),
        };
        match parse(text) {
            Err(e) => assert!(!e.message.is_empty()),
            Ok(doc) => {
                assert_eq!(doc.kind(), kind);
                assert!(!doc.statements().is_empty());
                let value = match crate::iam::strict_json::parse(text) {
                    Ok(v) => v,
                    Err(e) => panic!("a policy parsed whose JSON does not: {e}"),
                };
                let again = value.to_string();
                let back = match parse(&again) {
                    Ok(b) => b,
                    Err(e) => panic!("a policy re-serialized does not parse ({e}): {again}"),
                };
                assert_eq!(back.statements().len(), doc.statements().len());
                assert_eq!((back.version(), back.id()), (doc.version(), doc.id()));
                assert_eq!(
                    decisions(&doc, &contexts),
                    decisions(&back, &contexts),
                    "{again}"
                );
            }
        }
    }
}

/// The duplicate-rejecting JSON reader behind policies. Checks: what it accepts `serde_json`
/// accepts, as the same value; what `serde_json` accepts and it refuses has a duplicate key.
pub fn strict_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let strict = crate::iam::strict_json::parse(text);
    let loose = serde_json::from_str::<Value>(text);
    match (strict, loose) {
        (Ok(s), Ok(l)) => assert_eq!(s, l),
        (Ok(s), Err(e)) => panic!("strict accepts what serde_json refuses ({e}): {s}"),
        (Err(e), Ok(_)) => assert!(
            e.to_string().contains("duplicate key"),
            "strict refuses valid JSON: {e}"
        ),
        (Err(_), Err(_)) => {}
    }
}

/// Scenario files. Checks: a bad file is an error message; a good one written back as YAML (as
/// `scenario record` writes scenarios) parses to the same scenario.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(text) {
        Err(e) => assert!(!e.is_empty()),
        Ok(s) => {
            let yaml = match crate::scenario::recording::to_yaml(&s) {
                Ok(y) => y,
                Err(e) => panic!("a parsed scenario does not serialize: {e}"),
            };
            match Scenario::parse(&yaml) {
                Ok(back) => assert_eq!(back, s, "round trip through:\n{yaml}"),
                Err(e) => panic!("a written scenario does not parse ({e}):\n{yaml}"),
            }
        }
    }
}

/// One seed input: its target, its file name, its bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// Seed inputs for every target, from the project's own files under `root` (the repository):
/// scenario files, the node policies, and — replayed through an emulator — every call the
/// scenarios' worlds make, as query or JSON requests and signed as headers and presigned URLs.
pub fn seeds(root: &std::path::Path) -> Result<Vec<Seed>, String> {
    let mut out: Vec<Seed> = Vec::new();
    let read_dir = |dir: &std::path::Path| -> Result<Vec<std::path::PathBuf>, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        Ok(files)
    };
    for path in read_dir(&root.join("emulator/policies"))? {
        let text = std::fs::read(&path).map_err(|e| e.to_string())?;
        let name = file_name(&path);
        out.push(("policy", name.clone(), text.clone()));
        out.push(("strict_json", name, text));
    }
    if let Some(text) = crate::iam::builtin::source("AdministratorAccess") {
        out.push((
            "policy",
            "AdministratorAccess".into(),
            text.as_bytes().to_vec(),
        ));
    }
    for path in read_dir(&root.join("scenarios"))? {
        let name = file_name(&path);
        if !name.ends_with(".yaml") {
            if name.ends_with(".json") {
                out.push((
                    "strict_json",
                    name,
                    std::fs::read(&path).unwrap_or_default(),
                ));
            }
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        out.push(("scenario", name.clone(), text.clone().into_bytes()));
        let s = Scenario::parse(&text).map_err(|e| format!("{name}: {e}"))?;
        // The world as the fuzzing instance would build it: same seed, so the same ids.
        let config = Config {
            default_region: s.region.clone(),
            ..fuzz_config()
        };
        let instance = Instance::new(config)?;
        crate::scenario::prepare(&instance, &s, path.parent())?;
        let stem = name.trim_end_matches(".yaml").to_string();
        let (mut world_query, mut world_json) = (String::new(), String::new());
        for (n, record) in instance.calls.records().iter().enumerate() {
            let Some(service) = ServiceId::ALL
                .into_iter()
                .find(|id| id.name() == record.service)
            else {
                continue;
            };
            let action = match record.action.split_once(':') {
                Some((_, a)) => a.to_string(),
                None => record.action.clone(),
            };
            let Ok(input) = crate::scenario::calls::input(service, &action, &record.params) else {
                continue;
            };
            let who = match DEFAULT_PRINCIPALS.iter().find(|p| p.0 == record.principal) {
                Some(p) => format!("{} {}", p.0, record.region),
                None => format!("admin {}", record.region),
            };
            let tag = format!("{stem}-{n:03}-{action}");
            match input {
                Input::Query(p) => {
                    let mut pairs = vec![
                        ("Action", action.as_str()),
                        ("Version", service.api_version()),
                    ];
                    pairs.extend(p.pairs());
                    let body = encode_form(pairs);
                    let one = format!("{who}\n\n{body}\n");
                    if n < MAX_REQUESTS {
                        world_query.push_str(&one);
                    }
                    out.push(("query", tag.clone(), one.into_bytes()));
                    out.push((
                        "sigv4_header",
                        tag.clone(),
                        signed_text(service, &body).into_bytes(),
                    ));
                    let presigned = sigv4::presign(
                        "GET",
                        "localhost",
                        "/",
                        &body,
                        "AKIDEXAMPLE",
                        SECRET,
                        None,
                        &record.region,
                        service.signing_name(),
                        START_MS / 1000,
                        900,
                    );
                    out.push((
                        "sigv4_presigned",
                        tag,
                        format!("GET /?{body}&{presigned}\nlocalhost\n").into_bytes(),
                    ));
                }
                Input::Json(j) => {
                    let target = match service.json_target_prefix() {
                        Some(prefix) => format!("{prefix}.{action}"),
                        None => continue,
                    };
                    let body = serde_json::to_string(&j.body).map_err(|e| e.to_string())?;
                    let one = format!("{who}\n{target}\n{body}\n");
                    world_json.push_str(&one);
                    out.push(("json", tag.clone(), one.into_bytes()));
                    out.push(("strict_json", tag, body.into_bytes()));
                }
            }
        }
        if !world_query.is_empty() {
            out.push(("query", format!("{stem}-world"), world_query.into_bytes()));
        }
        if !world_json.is_empty() {
            out.push(("json", format!("{stem}-world"), world_json.into_bytes()));
        }
    }
    Ok(out)
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A form POST signed with the Authorization header, as [`sigv4_header`] reads requests.
fn signed_text(service: ServiceId, body: &str) -> String {
    let headers = header_map(&[
        ("host", "localhost"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ]);
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: body.as_bytes(),
    };
    let added = sigv4::sign(
        &parts,
        "AKIDEXAMPLE",
        SECRET,
        None,
        "us-east-1",
        service.signing_name(),
        START_MS / 1000,
    );
    let mut text = String::from("POST /\n");
    for (k, v) in headers.iter() {
        text.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("")));
    }
    for (k, v) in added {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push('\n');
    text.push_str(body);
    text
}
