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
//!
//! A browser is a loopback caller too: any web page it shows can send requests to
//! `127.0.0.1:4566`. Two checks keep such pages out ([`browser_check`]): a request carrying an
//! `Origin` other than the server's own (a cross-site form or fetch) is refused, and on loopback
//! the `Host` must name a loopback host, so a page whose own name was made to resolve to
//! 127.0.0.1 (DNS rebinding, which makes it look same-origin) cannot read or reset the world.

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
    browser_check(req, instance.config.exposed)
        .map_err(|message| forbidden("AccessDenied", message))?;
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

/// Refuses what only a web page on another site would send: an `Origin` that is not this server's
/// own `Host`, and (on loopback) a `Host` that is not a loopback name. Clients that are not
/// browsers send no `Origin`, and name the server as they reach it (`127.0.0.1`, `localhost`).
fn browser_check(req: &RawRequest, exposed: bool) -> Result<(), String> {
    let header = |name| {
        req.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let host = header(http::header::HOST);
    if let Some(origin) = header(http::header::ORIGIN) {
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        let same = match (authority, host.as_deref()) {
            (Some(a), Some(h)) => a.eq_ignore_ascii_case(h),
            _ => false,
        };
        if !same {
            return Err(format!(
                "admin endpoints refuse requests from another origin ({origin}): a web page \
                 cannot read or change the emulator"
            ));
        }
    }
    if !exposed {
        if let Some(host) = host.filter(|h| !is_loopback_name(h)) {
            return Err(format!(
                "admin endpoints of a loopback server answer requests for a loopback host \
                 (localhost, 127.0.0.1, [::1]), not for '{host}'"
            ));
        }
    }
    Ok(())
}

/// `localhost`, `*.localhost` or a loopback address, with or without a port.
fn is_loopback_name(authority: &str) -> bool {
    let name = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => match authority.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => authority,
        },
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
