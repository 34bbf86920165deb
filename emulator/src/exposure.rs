//! Who may call the admin endpoints (`/_awsemu/*`, `/moto-api/*`), which sit outside IAM and can
//! read or reset the whole world.
//!
//! On loopback (the default) they answer unsigned requests from loopback callers, which tests
//! and harnesses rely on. A server bound to another address ([`crate::Config::exposed`]) can be
//! reached by anyone on the network, so there every admin request must be SigV4-signed with the
//! keys of a principal whose policies allow `awsemu:Admin` on `*` (the built-in `admin`, whose
//! policy allows `*`), whatever address it comes from: a proxy or a tunnel may make a remote
//! caller look local. The check is here once, for [`crate::admin::route`] and
//! [`crate::admin::imds`].

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

use crate::auth::sigv4::{self, RequestParts};
use crate::iam::{self, Decision, RequestContext};
use crate::instance::{Instance, RawRequest};

/// The IAM action an admin request is authorized as.
pub const ADMIN_ACTION: &str = "awsemu:Admin";

/// The warning `serve` prints (stderr) when it listens on a non-loopback address.
pub fn warning(addr: SocketAddr) -> String {
    format!(
        "awsemu: WARNING: listening on {addr}, which is not a loopback address: anyone who can \
         reach it can call the emulated APIs with the keys printed below. The admin endpoints \
         (/_awsemu/*, /moto-api/*) now require requests signed (SigV4) with an admin principal's \
         keys, e.g. curl --aws-sigv4 aws:amz:us-east-1:awsemu --user KEY:SECRET."
    )
}

/// `Ok` when `req` may use the admin endpoints; otherwise the 403 to answer, as JSON.
#[allow(clippy::result_large_err)]
pub fn admit(instance: &Instance, req: &RawRequest) -> Result<(), Response<Full<Bytes>>> {
    if !instance.config.exposed {
        return if req.remote.ip().is_loopback() {
            Ok(())
        } else {
            Err(forbidden(
                "AccessDenied",
                "admin endpoints answer loopback callers only".into(),
            ))
        };
    }
    admin_signed(instance, req).map_err(|(code, message)| forbidden(code, message))
}

/// Verifies the request's SigV4 signature and that its principal is an administrator.
fn admin_signed(instance: &Instance, req: &RawRequest) -> Result<(), (&'static str, String)> {
    let parts = RequestParts {
        method: &req.method,
        path: &req.path,
        query: &req.query,
        headers: &req.headers,
        body: &req.body,
    };
    let info = match sigv4::extract(&parts) {
        Ok(Some(info)) => info,
        Ok(None) => {
            return Err((
                "MissingAuthenticationToken",
                "this server is exposed beyond loopback: admin endpoints require a request \
                 signed (SigV4) with an admin principal's keys"
                    .into(),
            ))
        }
        Err(e) => return Err((e.code(), e.to_string())),
    };
    let generation = instance.current();
    let unknown = || {
        (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.".to_string(),
        )
    };
    let cred = generation
        .identities
        .credential(&info.access_key_id)
        .ok_or_else(unknown)?;
    if cred.session_token.as_deref() != info.session_token.as_deref() {
        return Err(unknown());
    }
    sigv4::check_time(&info, crate::timefmt::now_unix()).map_err(|e| (e.code(), e.to_string()))?;
    sigv4::verify(&parts, &info, &cred.secret_access_key).map_err(|e| (e.code(), e.to_string()))?;
    if cred
        .expires_at
        .is_some_and(|at| instance.clock.now_secs() >= at)
    {
        return Err((
            "ExpiredToken",
            "The security token included in the request is expired".into(),
        ));
    }
    let principal = &cred.principal;
    let policies = generation.identities.policies_for(principal);
    let eval = iam::evaluate(&policies, &RequestContext::new(ADMIN_ACTION, "*"));
    if matches!(eval.decision, Decision::Allow) {
        return Ok(());
    }
    Err((
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: {ADMIN_ACTION} (the admin endpoints of an \
             exposed server want an admin principal)",
            principal.arn
        ),
    ))
}

fn forbidden(code: &str, message: String) -> Response<Full<Bytes>> {
    let body = json!({"error": message, "code": code}).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}
