//! What the fuzzers (`scripts/fuzz`, `fuzz/`) found, kept as regression tests, and their seeds.
//!
//! Every crash or hang a fuzz target found is a file under `tests/fixtures/fuzz/TARGET/`; each
//! must now pass its target's checks (`awsemu::fuzzing`): no panic, errors that are 4xx
//! answers, round trips that hold. The request targets' inputs are also sent over HTTP to a real
//! server, signed as the principal each names: every answer is a clean one (a 4xx at worst, or
//! `NotImplemented`), never a 500 or a dropped connection. The committed seeds (`fuzz/seeds/`)
//! pass too, so the targets cannot drift from the inputs they start from.

mod common;

use std::path::{Path, PathBuf};

use awsemu::auth::sigv4::{self, RequestParts};
use awsemu::fuzzing;
use awsemu::protocol::route::{self, Input};
use awsemu::protocol::ServiceId;
use awsemu::Emulator;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    out.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
    out.sort();
    out
}

fn fixtures(target: &str) -> Vec<PathBuf> {
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz")
            .join(target),
    )
}

fn seeds(target: &str) -> Vec<PathBuf> {
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds")
            .join(target),
    )
}

/// Runs `target` on each file, naming the file that fails.
fn run_all(target: &str, inputs: &[PathBuf]) {
    for path in inputs {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzzing::run(target, &data));
        match outcome {
            Ok(known) => assert!(known, "no fuzz target {target}"),
            Err(_) => panic!("{target} fails on {}", path.display()),
        }
    }
}

#[test]
fn every_finding_passes_its_target() {
    let mut n = 0;
    for target in fuzzing::TARGETS {
        let found = fixtures(target);
        n += found.len();
        run_all(target, &found);
    }
    assert!(n > 0, "no fixtures under tests/fixtures/fuzz");
}

#[test]
fn the_committed_seeds_pass_their_targets() {
    for target in fuzzing::TARGETS {
        run_all(target, &seeds(target));
    }
}

/// Sends one request of a query or JSON input over HTTP, signed as its principal line says.
async fn send(
    addr: std::net::SocketAddr,
    [who, second, body]: [&[u8]; 3],
    json: bool,
) -> common::Answer {
    // The second line is the URL query string (query) or the X-Amz-Target (JSON).
    let second = String::from_utf8_lossy(second).into_owned();
    let mut headers: Vec<(String, String)> = vec![("host".into(), addr.to_string())];
    let service = if json {
        headers.push(("content-type".into(), "application/x-amz-json-1.1".into()));
        headers.push(("x-amz-target".into(), second.clone()));
        ServiceId::from_target(&second).map(|(s, _)| s)
    } else {
        headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ));
        match route::route(None, None, second.as_bytes(), body, true) {
            Ok(r) => matches!(r.input, Input::Query(_)).then_some(r.service),
            Err(_) => None,
        }
    };
    let url_query = if json { String::new() } else { second };
    if let (Some(signer), Some(service)) = (fuzzing::keys_of(who), service) {
        let mut map = http::HeaderMap::new();
        for (k, v) in &headers {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                map.insert(k, v);
            }
        }
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: &url_query,
            headers: &map,
            body,
        };
        headers.extend(sigv4::sign(
            &parts,
            signer.akid,
            signer.secret,
            None,
            &signer.region,
            service.signing_name(),
            awsemu::timefmt::now_unix(),
        ));
    }
    let target = if url_query.is_empty() {
        "/".to_string()
    } else {
        format!("/?{url_query}")
    };
    common::send(addr, "POST", &target, &headers, body).await
}

async fn over_http(target: &str, json: bool) {
    let emu = Emulator::builder()
        .config(fuzzing::fuzz_config())
        .start()
        .await
        .unwrap();
    for path in fixtures(target) {
        emu.reset().unwrap();
        let data = std::fs::read(&path).unwrap();
        for request in fuzzing::requests(&data) {
            let answer = send(emu.addr(), request, json).await;
            assert!(
                (200..500).contains(&answer.status) || answer.code() == "NotImplemented",
                "{}: {} {}",
                path.display(),
                answer.status,
                answer.body
            );
        }
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn query_findings_get_clean_answers_over_http() {
    over_http("query", false).await;
}

#[tokio::test]
async fn json_findings_get_clean_answers_over_http() {
    over_http("json", true).await;
}

/// Found by `sigv4_presigned`: a 16-byte `X-Amz-Date` whose bytes are not all ASCII (here
/// percent-encoded in a presigned URL, or raw in the header) made the date parser slice inside
/// a character and panic; it is now `IncompleteSignature`, and the server goes on serving.
#[tokio::test]
async fn non_ascii_signature_dates_are_refused_over_http() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let presigned = "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=test%2F20231%C3%A91%2Fus-east-1%2Fsts%2Faws4_request\
        &X-Amz-Date=20231%C3%A91T221721Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
    let answer = common::send(addr, "GET", presigned, &[], b"").await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "IncompleteSignature"),
        "{}",
        answer.body
    );
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let headers = [
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        ),
        ("x-amz-date".to_string(), "20231\u{e9}1T221721Z".to_string()),
        (
            "authorization".to_string(),
            "AWS4-HMAC-SHA256 Credential=test/20231114/us-east-1/sts/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
                .to_string(),
        ),
    ];
    let answer = common::send(addr, "POST", "/", &headers, body).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "IncompleteSignature"),
        "{}",
        answer.body
    );
    let ok = common::post_form(
        addr,
        "test",
        "test",
        "sts",
        std::str::from_utf8(body).unwrap(),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    emu.shutdown().await;
}
