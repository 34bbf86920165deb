//! SigV4 headers for any method, path and query (the common helpers sign form POSTs to `/`),
//! with the emulator's own signer.

#![allow(dead_code)]

use std::net::SocketAddr;

use awsemu::auth::sigv4::{self, RequestParts};

/// Who signs: access key, secret, session token.
pub struct Signer<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
}

impl<'a> Signer<'a> {
    pub const fn long_lived(key: &'a str, secret: &'a str) -> Self {
        Signer {
            key,
            secret,
            token: None,
        }
    }
}

/// The headers of a request to `path?query` signed now by `signer` for `service` in us-east-1:
/// `host`, `content-type` (a form body when `body` is not empty), `x-amz-date`,
/// `authorization` and the token's header.
#[allow(clippy::too_many_arguments)]
pub fn signed_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    signer: &Signer<'_>,
    service: &str,
    unix_time: i64,
) -> Vec<(String, String)> {
    let mut out = vec![("host".to_string(), addr.to_string())];
    if !body.is_empty() {
        out.push((
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        ));
    }
    let mut map = http::HeaderMap::new();
    for (k, v) in &out {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let parts = RequestParts {
        method,
        path,
        query,
        headers: &map,
        body,
    };
    out.extend(sigv4::sign(
        &parts,
        signer.key,
        signer.secret,
        signer.token,
        "us-east-1",
        service,
        unix_time,
    ));
    out
}
