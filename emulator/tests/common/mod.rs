//! A minimal HTTP/1.1 client over a TCP stream, for tests that must send what no SDK would send
//! (bad encodings, huge bodies, unsigned or presigned requests), plus SigV4 signing with the
//! emulator's own signer.

#![allow(dead_code)]

use std::net::SocketAddr;

use awsemu::auth::sigv4::{self, RequestParts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `<Code>` (or JSON `__type`) of an error answer.
    pub fn code(&self) -> String {
        if let Some(i) = self.body.find("<Code>") {
            let rest = &self.body[i + 6..];
            return rest[..rest.find("</Code>").unwrap_or(0)].to_string();
        }
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["__type"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Sends one request on a fresh connection and reads the whole answer.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k == "host") {
        head.push_str(&format!("host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The headers of a SigV4-signed form POST to `/`.
#[allow(clippy::too_many_arguments)]
pub fn signed_form_headers(
    addr: SocketAddr,
    body: &[u8],
    key: &str,
    secret: &str,
    token: Option<&str>,
    region: &str,
    service: &str,
    unix_time: i64,
) -> Vec<(String, String)> {
    let mut map = http::HeaderMap::new();
    map.insert("host", addr.to_string().parse().unwrap());
    map.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &map,
        body,
    };
    let mut out = vec![
        ("host".to_string(), addr.to_string()),
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        ),
    ];
    out.extend(sigv4::sign(
        &parts, key, secret, token, region, service, unix_time,
    ));
    out
}

/// Signs and sends a form POST as `key`/`secret` now.
pub async fn post_form(
    addr: SocketAddr,
    key: &str,
    secret: &str,
    service: &str,
    body: &str,
) -> Answer {
    let headers = signed_form_headers(
        addr,
        body.as_bytes(),
        key,
        secret,
        None,
        "us-east-1",
        service,
        awsemu::timefmt::now_unix(),
    );
    send(addr, "POST", "/", &headers, body.as_bytes()).await
}
