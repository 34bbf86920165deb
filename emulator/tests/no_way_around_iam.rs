//! Attempts to get past SigV4 or IAM, over real signed HTTP: repeated or conflicting
//! Authorization headers, a header signature together with a presigned query, `Action` in both
//! the query string and the body, a body changed after signing, a request outside the clock
//! window, a session whose role lost its policies or was deleted (and made again under the same
//! name), one session's key with another's token. Each is refused with AWS's error and changes
//! nothing: the world's dump (`GET /_awsemu/state`) or an IAM read is the same before and after.

mod common;
#[path = "support/signed.rs"]
mod signed;

use std::net::SocketAddr;
use std::time::Duration;

use awsemu::auth::sigv4;
use awsemu::Emulator;
use common::{post_form, send, Answer};
use signed::{signed_headers, Signer};

const ADMIN: Signer = Signer::long_lived("test", "test");
const WORKER: Signer = Signer::long_lived("worker", "worker");
const CREATE_VOLUME: &str =
    "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=1";
const REGIONS: &str = "Action=DescribeRegions&Version=2016-11-15";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const EC2_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

fn now() -> i64 {
    awsemu::timefmt::now_unix()
}

/// A signed form POST to `/` (`query` in the URL, `body` in the body).
async fn post(
    addr: SocketAddr,
    signer: &Signer<'_>,
    service: &str,
    query: &str,
    body: &str,
    at: i64,
) -> Answer {
    let h = signed_headers(
        addr,
        "POST",
        "/",
        query,
        body.as_bytes(),
        signer,
        service,
        at,
    );
    send(addr, "POST", &target(query), &h, body.as_bytes()).await
}

fn target(query: &str) -> String {
    if query.is_empty() {
        "/".into()
    } else {
        format!("/?{query}")
    }
}

async fn state(addr: SocketAddr) -> serde_json::Value {
    let a = send(addr, "GET", "/_awsemu/state", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

fn refused(a: &Answer, status: u16, code: &str) {
    assert_eq!((a.status, a.code().as_str()), (status, code), "{}", a.body);
}

fn xml_value(body: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no {tag} in {body}"))
        + open.len();
    body[start..start + body[start..].find('<').unwrap()].to_string()
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An IAM call as admin that must succeed.
async fn iam(addr: SocketAddr, params: &str) -> Answer {
    let body = format!("{params}&Version=2010-05-08");
    let a = post(addr, &ADMIN, "iam", "", &body, now()).await;
    assert_eq!(a.status, 200, "{params}: {}", a.body);
    a
}

/// Temporary credentials of a session of `role`, assumed by admin.
struct Session {
    key: String,
    secret: String,
    token: String,
}

impl Session {
    fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.key,
            secret: &self.secret,
            token: Some(&self.token),
        }
    }
}

async fn assume(addr: SocketAddr, role: &str, session: &str) -> Session {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/{role}&RoleSessionName={session}"
    );
    let a = post(addr, &ADMIN, "sts", "", &body, now()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    Session {
        key: xml_value(&a.body, "AccessKeyId"),
        secret: xml_value(&a.body, "SecretAccessKey"),
        token: xml_value(&a.body, "SessionToken"),
    }
}

async fn make_role(addr: SocketAddr, name: &str) {
    iam(
        addr,
        &format!(
            "Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={}",
            encode(TRUST)
        ),
    )
    .await;
}

#[tokio::test]
async fn repeated_or_conflicting_signature_headers_are_refused() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let before = state(addr).await;
    // Admin may CreateVolume, worker may not; each signature is valid on its own.
    let admin = signed_headers(
        addr,
        "POST",
        "/",
        "",
        CREATE_VOLUME.as_bytes(),
        &ADMIN,
        "ec2",
        now(),
    );
    let worker = signed_headers(
        addr,
        "POST",
        "/",
        "",
        CREATE_VOLUME.as_bytes(),
        &WORKER,
        "ec2",
        now(),
    );
    let auth = |h: &[(String, String)]| {
        h.iter()
            .find(|(k, _)| k == "authorization")
            .cloned()
            .unwrap()
    };
    for second in [auth(&worker), auth(&admin)] {
        let mut h = admin.clone();
        h.push(second);
        let a = send(addr, "POST", "/", &h, CREATE_VOLUME.as_bytes()).await;
        refused(&a, 400, "IncompleteSignature");
        assert!(
            a.body.contains("exactly one authorization header"),
            "{}",
            a.body
        );
    }
    // A second X-Amz-Date or X-Amz-Security-Token header: the same.
    for (name, extra) in [
        ("x-amz-date", vec!["20300101T000000Z"]),
        ("x-amz-security-token", vec!["one", "two"]),
    ] {
        let mut h = admin.clone();
        h.extend(extra.into_iter().map(|v| (name.to_string(), v.to_string())));
        let a = send(addr, "POST", "/", &h, CREATE_VOLUME.as_bytes()).await;
        refused(&a, 400, "IncompleteSignature");
    }
    // The same in STS's (query protocol) envelope.
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let mut h = signed_headers(addr, "POST", "/", "", body.as_bytes(), &ADMIN, "sts", now());
    h.push(auth(&signed_headers(
        addr,
        "POST",
        "/",
        "",
        body.as_bytes(),
        &WORKER,
        "sts",
        now(),
    )));
    refused(
        &send(addr, "POST", "/", &h, body.as_bytes()).await,
        400,
        "IncompleteSignature",
    );
    assert_eq!(state(addr).await, before);
    // Alone, the admin signature is good.
    let a = send(addr, "POST", "/", &admin, CREATE_VOLUME.as_bytes()).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn a_header_signature_with_a_presigned_query_is_refused() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let before = state(addr).await;
    // The worker's presigned DescribeRegions URL, with an admin Authorization header signed over
    // that very URL (so each signature is valid on its own): which principal is calling?
    let q = sigv4::presign(
        "GET",
        &addr.to_string(),
        "/",
        REGIONS,
        "worker",
        "worker",
        None,
        "us-east-1",
        "ec2",
        now(),
        300,
    );
    let query = format!("{REGIONS}&{q}");
    let h = signed_headers(addr, "GET", "/", &query, b"", &ADMIN, "ec2", now());
    let a = send(addr, "GET", &target(&query), &h, b"").await;
    refused(&a, 400, "IncompleteSignature");
    assert!(
        a.body.contains("Only one auth mechanism allowed"),
        "{}",
        a.body
    );
    // A header-signed GET whose query also carries a (made-up) signature parameter.
    let query = format!("{REGIONS}&X-Amz-Signature=00");
    let h = signed_headers(addr, "GET", "/", &query, b"", &ADMIN, "ec2", now());
    let a = send(addr, "GET", &target(&query), &h, b"").await;
    refused(&a, 400, "IncompleteSignature");
    assert_eq!(state(addr).await, before);
    // The presigned URL alone still works.
    let a = send(addr, "GET", &target(&format!("{REGIONS}&{q}")), &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn an_action_in_both_the_query_and_the_body_is_refused() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let before = state(addr).await;
    // Signed over both, by admin: which one is meant is ambiguous, so neither runs.
    let a = post(addr, &ADMIN, "ec2", REGIONS, CREATE_VOLUME, now()).await;
    refused(&a, 400, "MalformedQueryString");
    assert!(a.body.contains("Action"), "{}", a.body);
    // The same for the worker, whose policy allows the query's action but not the body's.
    let a = post(addr, &WORKER, "ec2", REGIONS, CREATE_VOLUME, now()).await;
    refused(&a, 400, "MalformedQueryString");
    // A Version that names another service's API in one of the two: refused too.
    let a = post(
        addr,
        &ADMIN,
        "elasticloadbalancing",
        "Version=2012-06-01",
        "Action=DescribeLoadBalancers&Version=2015-12-01",
        now(),
    )
    .await;
    refused(&a, 400, "MalformedQueryString");
    assert_eq!(state(addr).await, before);
    // The same action in both places is no conflict.
    let a = post(
        addr,
        &WORKER,
        "ec2",
        "Action=DescribeRegions",
        REGIONS,
        now(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let before = state(addr).await;
    let h = signed_headers(
        addr,
        "POST",
        "/",
        "",
        CREATE_VOLUME.as_bytes(),
        &ADMIN,
        "ec2",
        now(),
    );
    let changed = CREATE_VOLUME.replace("Size=1", "Size=9");
    refused(
        &send(addr, "POST", "/", &h, changed.as_bytes()).await,
        401,
        "AuthFailure",
    );
    // Signed as a harmless call, sent as a harmful one.
    let h = signed_headers(
        addr,
        "POST",
        "/",
        "",
        REGIONS.as_bytes(),
        &ADMIN,
        "ec2",
        now(),
    );
    refused(
        &send(addr, "POST", "/", &h, CREATE_VOLUME.as_bytes()).await,
        401,
        "AuthFailure",
    );
    assert_eq!(state(addr).await, before);
    // IAM (query protocol): SignatureDoesNotMatch, and no role made.
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName=sneaky&AssumeRolePolicyDocument={}",
        encode(TRUST)
    );
    let h = signed_headers(addr, "POST", "/", "", body.as_bytes(), &ADMIN, "iam", now());
    let changed = body.replace("sneaky", "sneakz");
    refused(
        &send(addr, "POST", "/", &h, changed.as_bytes()).await,
        403,
        "SignatureDoesNotMatch",
    );
    for name in ["sneaky", "sneakz"] {
        let a = post(
            addr,
            &ADMIN,
            "iam",
            "",
            &format!("Action=GetRole&Version=2010-05-08&RoleName={name}"),
            now(),
        )
        .await;
        refused(&a, 404, "NoSuchEntity");
    }
}

/// Outside S3, AWS hashes the body whatever `x-amz-content-sha256` claims. A request signed as
/// `UNSIGNED-PAYLOAD` (which would let its body change after signing) is refused, with its own
/// body or another, and so is one whose claimed hash is not its body's.
#[tokio::test]
async fn a_payload_claim_does_not_stand_for_the_body() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    let before = state(addr).await;
    let claimed = |claim: &str, signed_body: &str| -> Vec<(String, String)> {
        let mut map = http::HeaderMap::new();
        map.insert("host", addr.to_string().parse().unwrap());
        map.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        map.insert("x-amz-content-sha256", claim.parse().unwrap());
        let parts = sigv4::RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &map,
            body: signed_body.as_bytes(),
        };
        let mut h: Vec<(String, String)> = map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        h.extend(sigv4::sign(
            &parts,
            "test",
            "test",
            None,
            "us-east-1",
            "ec2",
            now(),
        ));
        h
    };
    let wrong_hash = "0".repeat(64);
    for claim in ["UNSIGNED-PAYLOAD", wrong_hash.as_str()] {
        let h = claimed(claim, CREATE_VOLUME);
        for body in [
            CREATE_VOLUME.to_string(),
            CREATE_VOLUME.replace("Size=1", "Size=9"),
        ] {
            refused(
                &send(addr, "POST", "/", &h, body.as_bytes()).await,
                401,
                "AuthFailure",
            );
        }
    }
    assert_eq!(state(addr).await, before);
}

#[tokio::test]
async fn requests_outside_the_clock_window_are_refused() {
    // The window is ±15 minutes of wall-clock time (what clients sign with), whatever the
    // virtual clock says: it stands a day ahead here, and a request signed now still passes.
    let emu = Emulator::builder()
        .manual_clock(now() * 1000)
        .start()
        .await
        .unwrap();
    emu.advance(Duration::from_secs(86_400));
    let addr = emu.addr();
    let before = state(addr).await;
    for skew in [-16 * 60, 16 * 60] {
        let a = post(addr, &ADMIN, "ec2", "", CREATE_VOLUME, now() + skew).await;
        refused(&a, 400, "RequestExpired");
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let a = post(addr, &ADMIN, "sts", "", body, now() + skew).await;
        refused(&a, 403, "SignatureDoesNotMatch");
    }
    // A presigned URL past its X-Amz-Expires.
    let q = sigv4::presign(
        "GET",
        &addr.to_string(),
        "/",
        CREATE_VOLUME,
        "test",
        "test",
        None,
        "us-east-1",
        "ec2",
        now() - 120,
        60,
    );
    let a = send(
        addr,
        "GET",
        &target(&format!("{CREATE_VOLUME}&{q}")),
        &[],
        b"",
    )
    .await;
    refused(&a, 400, "RequestExpired");
    assert_eq!(state(addr).await, before);
    let a = post(addr, &ADMIN, "ec2", "", REGIONS, now() - 14 * 60).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn a_session_follows_its_role_losing_policies_and_being_deleted() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    make_role(addr, "ops").await;
    iam(
        addr,
        &format!(
            "Action=PutRolePolicy&RoleName=ops&PolicyName=ec2all&PolicyDocument={}",
            encode(EC2_ALL)
        ),
    )
    .await;
    let s = assume(addr, "ops", "s1").await;
    let a = post(addr, &s.signer(), "ec2", "", CREATE_VOLUME, now()).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // The inline policy goes: the session's next call is denied, and makes nothing.
    iam(
        addr,
        "Action=DeleteRolePolicy&RoleName=ops&PolicyName=ec2all",
    )
    .await;
    let before = state(addr).await;
    let a = post(addr, &s.signer(), "ec2", "", CREATE_VOLUME, now()).await;
    refused(&a, 403, "UnauthorizedOperation");
    assert_eq!(state(addr).await, before);

    // A managed policy attached, then detached: the same.
    let created = iam(
        addr,
        &format!(
            "Action=CreatePolicy&PolicyName=ec2all&PolicyDocument={}",
            encode(EC2_ALL)
        ),
    )
    .await;
    let arn = xml_value(&created.body, "Arn");
    iam(
        addr,
        &format!("Action=AttachRolePolicy&RoleName=ops&PolicyArn={arn}"),
    )
    .await;
    let a = post(addr, &s.signer(), "ec2", "", REGIONS, now()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    iam(
        addr,
        &format!("Action=DetachRolePolicy&RoleName=ops&PolicyArn={arn}"),
    )
    .await;
    refused(
        &post(addr, &s.signer(), "ec2", "", CREATE_VOLUME, now()).await,
        403,
        "UnauthorizedOperation",
    );
    assert_eq!(state(addr).await, before);

    // The role is deleted, and made again under the same name with the policy back: the old
    // session belonged to the old role (another role id) and gets nothing.
    iam(addr, "Action=DeleteRole&RoleName=ops").await;
    refused(
        &post(addr, &s.signer(), "ec2", "", CREATE_VOLUME, now()).await,
        403,
        "UnauthorizedOperation",
    );
    make_role(addr, "ops").await;
    iam(
        addr,
        &format!("Action=AttachRolePolicy&RoleName=ops&PolicyArn={arn}"),
    )
    .await;
    refused(
        &post(addr, &s.signer(), "ec2", "", CREATE_VOLUME, now()).await,
        403,
        "UnauthorizedOperation",
    );
    let a = post(
        addr,
        &s.signer(),
        "iam",
        "",
        "Action=CreateRole&Version=2010-05-08&RoleName=x&AssumeRolePolicyDocument=%7B%7D",
        now(),
    )
    .await;
    refused(&a, 403, "AccessDenied");
    assert_eq!(state(addr).await, before);
    // A new session of the new role may.
    let fresh = assume(addr, "ops", "s2").await;
    let a = post(addr, &fresh.signer(), "ec2", "", CREATE_VOLUME, now()).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn one_sessions_key_with_anothers_token_is_refused() {
    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    make_role(addr, "ops").await;
    iam(
        addr,
        &format!(
            "Action=PutRolePolicy&RoleName=ops&PolicyName=ec2all&PolicyDocument={}",
            encode(EC2_ALL)
        ),
    )
    .await;
    let one = assume(addr, "ops", "one").await;
    let two = assume(addr, "ops", "two").await;
    let before = state(addr).await;
    for (key, secret, token) in [
        (&one.key, &one.secret, Some(two.token.as_str())),
        (&two.key, &two.secret, Some(one.token.as_str())),
        (&one.key, &one.secret, None),
        // A long-lived key with a session's token.
        (
            &"test".to_string(),
            &"test".to_string(),
            Some(one.token.as_str()),
        ),
    ] {
        let signer = Signer { key, secret, token };
        refused(
            &post(addr, &signer, "ec2", "", CREATE_VOLUME, now()).await,
            401,
            "AuthFailure",
        );
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        refused(
            &post(addr, &signer, "sts", "", body, now()).await,
            403,
            "InvalidClientTokenId",
        );
    }
    assert_eq!(state(addr).await, before);
    // Each with its own token is fine.
    let a = post(addr, &one.signer(), "ec2", "", CREATE_VOLUME, now()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The plain worker keys are unchanged by all this.
    let a = post_form(addr, "worker", "worker", "ec2", REGIONS).await;
    assert_eq!(a.status, 200, "{}", a.body);
}
