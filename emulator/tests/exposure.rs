//! Exposure: on a server reachable beyond loopback the admin endpoints want a request signed with
//! an admin principal's keys; on loopback (the default) they answer unsigned callers as before.
//!
//! An exposed server is made two ways: on 127.0.0.1 with the builder's `exposed(true)` (what a
//! non-loopback bind sets), which shows the signed/unsigned difference deterministically from a
//! loopback client; and by really binding 0.0.0.0 (the embedding API and `serve --bind`), reached
//! through 127.0.0.1, which shows that a loopback caller of an exposed server gets no pass.

mod common;
#[path = "support/signed.rs"]
mod signed;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use awsemu::Emulator;
use common::{post_form, send, Answer};
use signed::{signed_headers, Signer};

const ADMIN: Signer = Signer::long_lived("test", "test");
const WORKER: Signer = Signer::long_lived("worker", "worker");

/// An admin request signed by `signer` (any service name in the scope will do; curl's
/// `--aws-sigv4 aws:amz:REGION:awsemu` uses `awsemu`).
async fn admin_call(addr: SocketAddr, method: &str, path: &str, signer: &Signer<'_>) -> Answer {
    let h = signed_headers(
        addr,
        method,
        path,
        "",
        b"",
        signer,
        "awsemu",
        awsemu::timefmt::now_unix(),
    );
    send(addr, method, path, &h, b"").await
}

fn code(a: &Answer) -> String {
    serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Makes a volume as admin, so a reset would visibly drop something.
async fn make_volume(addr: SocketAddr) {
    let a = post_form(
        addr,
        "test",
        "test",
        "ec2",
        "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=1",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

async fn volumes(addr: SocketAddr) -> usize {
    let a = post_form(
        addr,
        "test",
        "test",
        "ec2",
        "Action=DescribeVolumes&Version=2016-11-15",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body.matches("<volumeId>").count()
}

#[tokio::test]
async fn an_exposed_server_wants_admin_signed_admin_requests() {
    let emu = Emulator::builder().exposed(true).start().await.unwrap();
    let addr = emu.addr();
    make_volume(addr).await;

    // Unsigned: refused, even from loopback, on every admin path and on moto's alias.
    for (method, path) in [
        ("GET", "/_awsemu/health"),
        ("GET", "/_awsemu/state"),
        ("POST", "/_awsemu/reset"),
        ("POST", "/moto-api/reset"),
        ("DELETE", "/_awsemu/faults"),
        ("GET", "/_awsemu/imds/i-00000000000000000"),
        ("GET", "/_awsemu/nope"),
    ] {
        let a = send(addr, method, path, &[], b"").await;
        assert_eq!(a.status, 403, "{method} {path}: {}", a.body);
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(code(&a), "MissingAuthenticationToken", "{}", a.body);
    }
    // Signed by a principal that is not an administrator, or with a wrong secret, or an
    // unknown key: refused too.
    let a = admin_call(addr, "POST", "/_awsemu/reset", &WORKER).await;
    assert_eq!(
        (a.status, code(&a).as_str()),
        (403, "AccessDenied"),
        "{}",
        a.body
    );
    assert!(a.body.contains("awsemu:Admin"), "{}", a.body);
    let a = admin_call(
        addr,
        "POST",
        "/_awsemu/reset",
        &Signer::long_lived("test", "x"),
    )
    .await;
    assert_eq!(
        (a.status, code(&a).as_str()),
        (403, "SignatureDoesNotMatch"),
        "{}",
        a.body
    );
    let a = admin_call(
        addr,
        "POST",
        "/_awsemu/reset",
        &Signer::long_lived("AKIANOBODY", "x"),
    )
    .await;
    assert_eq!(
        (a.status, code(&a).as_str()),
        (403, "InvalidClientTokenId"),
        "{}",
        a.body
    );
    // None of that reset anything.
    assert_eq!(volumes(addr).await, 1);

    // Admin-signed: served.
    let a = admin_call(addr, "GET", "/_awsemu/health", &ADMIN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = admin_call(addr, "GET", "/_awsemu/state", &ADMIN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = admin_call(addr, "POST", "/moto-api/reset", &ADMIN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(volumes(addr).await, 0);
}

#[tokio::test]
async fn a_loopback_server_keeps_answering_unsigned_admin_requests() {
    let emu = Emulator::builder().start().await.unwrap();
    assert!(!emu.instance().config.exposed);
    let a = send(emu.addr(), "GET", "/_awsemu/health", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // A signature does no harm there.
    let a = admin_call(emu.addr(), "GET", "/_awsemu/health", &ADMIN).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// A web page the user's browser shows can send to loopback too. Its cross-site requests carry an
/// `Origin` that is not the server's; a page whose name was made to resolve to 127.0.0.1 (DNS
/// rebinding) sends its own name as `Host`. Both are refused, and nothing changes.
#[tokio::test]
async fn a_loopback_server_refuses_what_web_pages_send() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    make_volume(addr).await;
    let h = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let port = addr.port();
    let refused = [
        h(&[("origin", "https://evil.example".into())]),
        h(&[("origin", "null".into())]),
        h(&[("origin", format!("http://127.0.0.1:{}", port + 1))]),
        h(&[("host", format!("evil.example:{port}"))]),
        h(&[
            ("host", format!("evil.example:{port}")),
            ("origin", format!("http://evil.example:{port}")),
        ]),
        h(&[("host", "127.0.0.1.evil.example".into())]),
    ];
    for headers in &refused {
        for (method, path) in [
            ("POST", "/_awsemu/reset"),
            ("GET", "/_awsemu/state"),
            ("GET", "/_awsemu/ui/data"),
        ] {
            let a = send(addr, method, path, headers, b"").await;
            assert_eq!(
                (a.status, code(&a).as_str()),
                (403, "AccessDenied"),
                "{method} {path} {headers:?}: {}",
                a.body
            );
        }
    }
    assert_eq!(volumes(addr).await, 1, "a refused reset changed nothing");
    // Browsers on the console's own page, and clients naming the server as they reach it.
    let allowed = [
        h(&[("host", format!("localhost:{port}"))]),
        h(&[("host", format!("[::1]:{port}"))]),
        h(&[("host", format!("app.localhost:{port}"))]),
        h(&[("origin", format!("http://{addr}"))]),
        h(&[
            ("host", format!("localhost:{port}")),
            ("origin", format!("http://localhost:{port}")),
        ]),
    ];
    for headers in &allowed {
        let a = send(addr, "GET", "/_awsemu/health", headers, b"").await;
        assert_eq!(a.status, 200, "{headers:?}: {}", a.body);
    }
    // The AWS APIs are signed, so the check is the admin endpoints' alone.
    let a = post_form(
        addr,
        "test",
        "test",
        "ec2",
        "Action=DescribeRegions&Version=2016-11-15",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn binding_every_address_exposes_the_server() {
    let emu = Emulator::builder()
        .start_on(SocketAddr::from(([0, 0, 0, 0], 0)))
        .await
        .unwrap();
    assert!(emu.instance().config.exposed);
    let local = SocketAddr::from(([127, 0, 0, 1], emu.addr().port()));
    let a = send(local, "POST", "/_awsemu/reset", &[], b"").await;
    assert_eq!(
        (a.status, code(&a).as_str()),
        (403, "MissingAuthenticationToken")
    );
    let a = admin_call(local, "POST", "/_awsemu/reset", &ADMIN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The AWS APIs are unchanged: signed as always.
    let a = post_form(
        local,
        "worker",
        "worker",
        "ec2",
        "Action=DescribeRegions&Version=2016-11-15",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn serve_warns_when_bound_beyond_loopback() {
    const BIN: &str = env!("CARGO_BIN_EXE_awsemu");
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "0.0.0.0", "--port", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().unwrap();
    let banner: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("export"))
        .collect();
    let banner = banner.join("\n");
    let port = banner
        .split("listening on http://0.0.0.0:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in\n{banner}"))
        .to_string();
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("serving");
    use std::io::Write;
    write!(
        s,
        "GET /_awsemu/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        err.contains("WARNING: listening on 0.0.0.0:") && err.contains("admin principal"),
        "{err}"
    );

    // Limits that would serve nobody are refused at start, by name (limits.rs tests the rest).
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--max-connections", "0"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("max connections"), "{err}");
}
