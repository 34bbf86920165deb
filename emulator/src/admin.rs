//! Control endpoints under `/_awsemu/` (outside IAM; who may call them: [`crate::exposure`]):
//! health, reset, a state dump, the audit report, the call log, a scenario's verification,
//! instances' metadata endpoints, the console page (`ui`, [`crate::console`]), the injected
//! faults (`GET` lists them with their counts and the throttle buckets, `POST` adds one entry or
//! a list, `DELETE` clears them) and snapshots (`/_awsemu/snapshots`, and `POST
//! /_awsemu/snapshot` for the state file, [`crate::snapshot`]). `POST /moto-api/reset` is an
//! alias of reset, so test suites written for moto's server mode run against awsemu by changing
//! only their endpoint.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

use crate::instance::{Instance, RawRequest};

/// The admin prefix.
pub const PREFIX: &str = "/_awsemu/";

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET /_awsemu/imds/INSTANCE_ID`: the instance's metadata endpoint, its listener opened on
/// first use (see [`crate::imds`]).
pub async fn imds(
    instance: &std::sync::Arc<Instance>,
    req: &RawRequest,
    id: &str,
) -> Response<Full<Bytes>> {
    if let Err(refused) = crate::exposure::admit(instance, req) {
        return refused;
    }
    if req.method != "GET" {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{} is not allowed on {}", req.method, req.path)}),
        );
    }
    match crate::imds::endpoint(instance, id).await {
        Ok(endpoint) => json_response(StatusCode::OK, json!({ "endpoint": endpoint })),
        Err(e) => json_response(StatusCode::NOT_FOUND, json!({ "error": e })),
    }
}

/// Answers an admin request, or `None` when the request is for the AWS APIs.
pub fn route(instance: &Instance, req: &RawRequest) -> Option<Response<Full<Bytes>>> {
    let path = req.path.as_str();
    let is_moto_reset = path == "/moto-api/reset";
    let sub = path.strip_prefix(PREFIX);
    if sub.is_none() && !is_moto_reset {
        return None;
    }
    if let Err(refused) = crate::exposure::admit(instance, req) {
        return Some(refused);
    }
    let method = req.method.as_str();
    let sub = if is_moto_reset {
        "reset"
    } else {
        sub.unwrap_or("")
    };
    if let Some(answer) = snapshots(instance, method, sub) {
        return Some(answer);
    }
    Some(match (method, sub) {
        ("GET", "health") => {
            let g = instance.current();
            json_response(
                StatusCode::OK,
                json!({
                    "status": "ok",
                    "version": env!("CARGO_PKG_VERSION"),
                    "account_id": instance.config.account_id,
                    "iam": instance.config.iam,
                    "principals": g.identities.long_lived_keys().iter().map(|c| c.principal.name.clone()).collect::<Vec<_>>(),
                }),
            )
        }
        ("POST", "reset") => match instance.reset() {
            Ok(()) => json_response(StatusCode::OK, json!({"reset": true})),
            Err(e) => json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e})),
        },
        ("GET", "state") => json_response(StatusCode::OK, instance.current().world.dump()),
        ("GET", "audit") => {
            let g = instance.current();
            json_response(
                StatusCode::OK,
                json!({
                    "mode": instance.config.iam,
                    "would_be_denied": g.audit.report(),
                    "needed_actions": g.audit.needed_actions(),
                }),
            )
        }
        ("GET", "authorizations") => json_response(
            StatusCode::OK,
            json!(instance
                .current()
                .audit
                .checks()
                .into_iter()
                .map(|(caller, check, count)| json!({"caller": caller, "count": count, "check": check}))
                .collect::<Vec<_>>()),
        ),
        ("GET", "policy/suggest") => policy_suggest(instance, &req.query),
        ("GET", "scenario/verify") => scenario_verify(instance),
        ("GET", "operations") => json_response(StatusCode::OK, crate::services::emulated_json()),
        ("GET", "calls") => json_response(StatusCode::OK, json!(instance.calls.records())),
        ("GET", "ui") => crate::console::page(),
        ("GET", "ui/data") => json_response(StatusCode::OK, crate::console::data(instance)),
        ("GET", "faults") => json_response(StatusCode::OK, faults_listing(instance)),
        ("POST", "faults") => {
            let added = std::str::from_utf8(&req.body)
                .map_err(|_| "body is not UTF-8".to_string())
                .and_then(crate::faults::FaultSpec::parse_list)
                .and_then(|specs| {
                    let n = specs.len();
                    specs
                        .into_iter()
                        .try_for_each(|s| instance.faults.add(s))
                        .map(|()| n)
                });
            match added {
                Ok(n) => json_response(StatusCode::OK, json!({"added": n})),
                Err(e) => json_response(StatusCode::BAD_REQUEST, json!({"error": e})),
            }
        }
        ("DELETE", "faults") => {
            instance.faults.clear();
            json_response(StatusCode::OK, json!({"cleared": true}))
        }
        (
            _,
            "health" | "reset" | "state" | "audit" | "scenario/verify" | "calls" | "faults"
            | "operations" | "authorizations" | "policy/suggest" | "ui" | "ui/data",
        ) => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not allowed on {path}")}),
        ),
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no admin endpoint {path}"), "endpoints": ["GET /_awsemu/health", "GET /_awsemu/imds/INSTANCE_ID", "POST /_awsemu/reset", "GET /_awsemu/state", "GET /_awsemu/audit", "GET /_awsemu/authorizations", "GET /_awsemu/policy/suggest?principal=NAME&compare=POLICY", "GET /_awsemu/calls", "GET /_awsemu/ui", "GET /_awsemu/ui/data", "GET /_awsemu/operations", "GET /_awsemu/scenario/verify", "GET|POST|DELETE /_awsemu/faults", "GET|POST /_awsemu/snapshots", "POST /_awsemu/snapshots/ID/restore", "DELETE /_awsemu/snapshots/ID", "POST /_awsemu/snapshot", "POST /moto-api/reset"]}),
        ),
    })
}

/// The faults in force with their counts and buckets, and what consistency faults hide right
/// now (part of the world: reset clears it). `GET /_awsemu/faults` and the console show it.
pub fn faults_listing(instance: &Instance) -> serde_json::Value {
    let mut listing = serde_json::to_value(instance.faults.list()).unwrap_or_default();
    listing["hidden"] =
        serde_json::to_value(instance.current().world.hidden.list()).unwrap_or_default();
    listing
}

/// `GET /_awsemu/policy/suggest`: the least-privilege policy of each caller so far
/// ([`crate::least_privilege`]); `principal=` (repeatable) picks holders, `compare=` names a built-in
/// policy to list the unused actions of.
fn policy_suggest(instance: &Instance, query: &str) -> Response<Full<Bytes>> {
    let mut pairs = Vec::new();
    if crate::protocol::params::decode_form(query.as_bytes(), &mut pairs).is_err() {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "the query string is not percent-encoded pairs"}),
        );
    }
    let principals: Vec<String> = (pairs.iter())
        .filter(|(k, _)| k == "principal")
        .map(|(_, v)| v.clone())
        .collect();
    let compare = pairs.iter().find(|(k, _)| k == "compare").map(|(_, v)| v);
    if compare.is_some_and(|c| crate::iam::builtin::source(c).is_none()) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "compare= names a built-in policy: controlplane, etcd or worker"}),
        );
    }
    let all = crate::least_privilege::from_audit(&instance.current().audit);
    match crate::least_privilege::finish(all, &principals, compare.map(String::as_str)) {
        Ok(s) => json_response(StatusCode::OK, crate::least_privilege::to_json(&s)),
        Err(e) => json_response(StatusCode::BAD_REQUEST, json!({ "error": e })),
    }
}

/// `GET /_awsemu/scenario/verify`: the final expectations of the scenario `serve --scenario`
/// loaded, checked now: 200 when they hold, 409 when one does not, 404 without a scenario.
fn scenario_verify(instance: &Instance) -> Response<Full<Bytes>> {
    let Some(loaded) = instance.scenario.get() else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": "no scenario is loaded (start with awsemu serve --scenario FILE)"}),
        );
    };
    let verdict = crate::scenario::verify(instance, loaded);
    let status = if verdict.passed {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    json_response(status, verdict.to_json(&loaded.scenario.name))
}

/// The snapshot endpoints ([`crate::snapshot`]), or `None` for another path:
/// `POST /_awsemu/snapshots` keeps the world and answers its id, `GET /_awsemu/snapshots` lists
/// them, `POST /_awsemu/snapshots/ID/restore` puts one back, `DELETE /_awsemu/snapshots/ID`
/// forgets one, and `POST /_awsemu/snapshot` writes
/// the `--state-file`.
fn snapshots(instance: &Instance, method: &str, sub: &str) -> Option<Response<Full<Bytes>>> {
    let not_allowed = || {
        json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not allowed on {PREFIX}{sub}")}),
        )
    };
    let summary = |id: &str, s: &crate::snapshot::Snapshot| {
        let (instances, volumes) = s.counts();
        json!({
            "id": id,
            "clock_ms": s.clock_ms(),
            "time": crate::timefmt::format_iso8601(s.clock_ms().div_euclid(1000)),
            "instances": instances,
            "volumes": volumes,
        })
    };
    Some(match (method, sub) {
        ("POST", "snapshots") => {
            let snapshot = instance.snapshot();
            let id = instance.snapshots.keep(snapshot.clone());
            json_response(StatusCode::OK, summary(&id, &snapshot))
        }
        ("GET", "snapshots") => json_response(
            StatusCode::OK,
            json!({"snapshots": instance.snapshots.list().iter().map(|(id, s)| summary(id, s)).collect::<Vec<_>>()}),
        ),
        ("POST", "snapshot") => {
            let Some(path) = &instance.config.state_file else {
                return Some(json_response(
                    StatusCode::CONFLICT,
                    json!({"error": "no state file: start with awsemu serve --state-file PATH"}),
                ));
            };
            let snapshot = instance.snapshot();
            match instance.snapshots.write_file(&snapshot, path) {
                Ok(bytes) => json_response(
                    StatusCode::OK,
                    json!({"written": path.display().to_string(), "bytes": bytes, "clock_ms": snapshot.clock_ms()}),
                ),
                Err(e) => json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e})),
            }
        }
        (_, "snapshots" | "snapshot") => not_allowed(),
        _ => {
            let rest = sub.strip_prefix("snapshots/")?;
            let unknown = |id: &str| {
                json_response(
                    StatusCode::NOT_FOUND,
                    json!({"error": format!("no snapshot {id} (GET {PREFIX}snapshots lists them)")}),
                )
            };
            if !rest.contains('/') {
                // DELETE /_awsemu/snapshots/ID: a kept world's memory back.
                if method != "DELETE" {
                    return Some(not_allowed());
                }
                return Some(match instance.snapshots.forget(rest) {
                    true => json_response(StatusCode::OK, json!({"deleted": rest})),
                    false => unknown(rest),
                });
            }
            let id = rest.strip_suffix("/restore")?;
            if method != "POST" {
                return Some(not_allowed());
            }
            let Some(snapshot) = instance.snapshots.get(id) else {
                return Some(unknown(id));
            };
            match instance.restore(&snapshot) {
                Ok(()) => json_response(
                    StatusCode::OK,
                    json!({"restored": id, "clock_ms": snapshot.clock_ms()}),
                ),
                Err(e) => json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e})),
            }
        }
    })
}
