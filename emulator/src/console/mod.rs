//! The console: `GET /_awsemu/ui`, one page served from the binary (HTML, CSS and script in one
//! file, no build step, nothing fetched from elsewhere), and `GET /_awsemu/ui/data`, the JSON it
//! polls every two seconds: resources per region and service, the call log with filters, denied
//! calls with the statement that would allow each, and the faults with their counters.
//!
//! The page only reads: it changes nothing, so it needs no more trust than `GET /_awsemu/state`.

pub mod resources;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

use crate::instance::Instance;
use crate::recorder::CallRecord;

/// The page.
const PAGE: &str = include_str!("page.html");

/// How many of the latest calls the page gets; the log itself keeps
/// [`crate::recorder::LOG_CAPACITY`].
pub const CALLS_SHOWN: usize = 500;

/// `GET /_awsemu/ui`: the page. It runs inline script and styles and talks to this server only,
/// which its content security policy says, so nothing injected into a resource name could run.
pub fn page() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    *r.status_mut() = StatusCode::OK;
    r
}

/// `GET /_awsemu/ui/data`: everything the page shows, newest calls first.
pub fn data(instance: &Instance) -> Value {
    let generation = instance.current();
    let now_ms = instance.clock.now_ms();
    let groups = resources::groups(
        &generation.world.dump(),
        &generation.identities.directory(),
        now_ms,
    );
    let calls: Vec<Value> = (instance.calls.timed(CALLS_SHOWN).into_iter())
        .map(|(r, served_us)| call_json(&r, served_us))
        .collect();
    json!({
        "now_ms": now_ms,
        "account_id": instance.config.account_id,
        "iam": instance.config.iam,
        "calls_total": instance.calls.last_seq(),
        "resources": groups,
        "calls": calls,
        "faults": crate::admin::faults_listing(instance),
    })
}

/// One call as the page lists it. `denied` holds each authorization the caller's policies
/// refused (under `--iam audit` the call went on: `status` says which), with the narrowest
/// statement that would have allowed it — none when a resource policy refused (a role's trust
/// policy, a key policy), which no identity policy can change.
fn call_json(r: &CallRecord, served_us: u64) -> Value {
    let denied: Vec<Value> = (r.authorizations.iter())
        .filter(|c| !c.allowed)
        .map(|c| {
            json!({
                "action": c.action,
                "resource": c.resource,
                "by_resource_policy": c.by_resource_policy,
                "statement": if c.by_resource_policy { Value::Null }
                    else { crate::least_privilege::allowing_statement(c) },
            })
        })
        .collect();
    json!({
        "seq": r.seq,
        "time_ms": r.time_ms,
        "principal": r.principal,
        "principal_arn": r.principal_arn,
        "region": r.region,
        "service": r.service,
        "action": r.action,
        "status": r.status,
        "error": r.error,
        "request_id": r.request_id,
        "latency_ms": r.latency_ms,
        "served_us": served_us,
        "params": r.params,
        "denied": denied,
    })
}
