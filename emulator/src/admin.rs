//! Control endpoints under `/_awsemu/` (outside IAM, loopback callers only): health, reset, the call log, a scenario's verification, a state
//! dump and the audit report. `POST /moto-api/reset` is an alias of reset, so test suites written
//! for moto's server mode run against awsemu by changing only their endpoint.

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
    if !req.remote.ip().is_loopback() {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"error": "admin endpoints answer loopback callers only"}),
        );
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
    if !req.remote.ip().is_loopback() {
        return Some(json_response(
            StatusCode::FORBIDDEN,
            json!({"error": "admin endpoints answer loopback callers only"}),
        ));
    }
    let method = req.method.as_str();
    let sub = if is_moto_reset {
        "reset"
    } else {
        sub.unwrap_or("")
    };
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
        ("GET", "scenario/verify") => scenario_verify(instance),
        ("GET", "calls") => json_response(StatusCode::OK, json!(instance.calls.records())),
        (_, "health" | "reset" | "state" | "audit" | "scenario/verify" | "calls") => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not allowed on {path}")}),
        ),
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no admin endpoint {path}"), "endpoints": ["GET /_awsemu/health", "GET /_awsemu/imds/INSTANCE_ID", "POST /_awsemu/reset", "GET /_awsemu/state", "GET /_awsemu/audit", "GET /_awsemu/calls", "GET /_awsemu/scenario/verify", "POST /moto-api/reset"]}),
        ),
    })
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
