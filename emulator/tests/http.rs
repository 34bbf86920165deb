//! The server through raw HTTP: what no SDK sends. Bad input gets the protocol's 4xx with nothing
//! changed and the server keeps serving; unsigned, GET and presigned requests; time skew; session
//! tokens; the admin endpoints.

mod common;

use awsemu::auth::principal::Principal;
use awsemu::auth::sigv4;
use awsemu::Emulator;
use common::{post_form, send, signed_form_headers};

const REGIONS: &str = "Action=DescribeRegions&Version=2016-11-15";

async fn emu() -> Emulator {
    Emulator::builder().seed(3).start().await.unwrap()
}

async fn still_serving(emu: &Emulator) {
    let a = post_form(emu.addr(), "worker", "worker", "ec2", REGIONS).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn request_ids_match_in_body_and_header() {
    let emu = emu().await;
    let a = post_form(emu.addr(), "worker", "worker", "ec2", REGIONS).await;
    assert_eq!(a.status, 200);
    let id = a.header("x-amzn-requestid").unwrap().to_string();
    assert!(
        a.body.contains(&format!("<requestId>{id}</requestId>")),
        "{}",
        a.body
    );
    assert!(a
        .body
        .contains(r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">"#));
    let b = post_form(
        emu.addr(),
        "worker",
        "worker",
        "sts",
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    let id = b.header("x-amzn-requestid").unwrap().to_string();
    assert!(
        b.body.contains(&format!("<RequestId>{id}</RequestId>")),
        "{}",
        b.body
    );
}

#[tokio::test]
async fn bad_encodings_are_400s_in_the_services_envelope() {
    let emu = emu().await;
    for body in [
        "Action=DescribeRegions&Version=2016-11-15&RegionName.1=%zz",
        "Action=DescribeRegions&Version=2016-11-15&RegionName.1=%C3%28",
    ] {
        let a = post_form(emu.addr(), "worker", "worker", "ec2", body).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert_eq!(a.code(), "MalformedQueryString");
        assert!(a.body.contains("<Response><Errors><Error>"), "{}", a.body);
    }
    // Raw invalid UTF-8 bytes in the body.
    let body = b"Action=DescribeRegions&Version=2016-11-15&RegionName.1=\xff\xfe";
    let headers = signed_form_headers(
        emu.addr(),
        body,
        "worker",
        "worker",
        None,
        "us-east-1",
        "ec2",
        awsemu::timefmt::now_unix(),
    );
    let a = send(emu.addr(), "POST", "/", &headers, body).await;
    assert_eq!(a.status, 400, "{}", a.body);
    still_serving(&emu).await;
}

#[tokio::test]
async fn unknown_parameters_and_wrong_types_are_refused() {
    let emu = emu().await;
    let a = post_form(
        emu.addr(),
        "worker",
        "worker",
        "ec2",
        "Action=DescribeRegions&Version=2016-11-15&Colour=blue",
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "UnknownParameter"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Colour"));
    let a = post_form(
        emu.addr(),
        "worker",
        "worker",
        "ec2",
        "Action=DescribeRegions&Version=2016-11-15&AllRegions=perhaps",
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "InvalidParameterValue"),
        "{}",
        a.body
    );
    let a = post_form(
        emu.addr(),
        "worker",
        "worker",
        "ec2",
        "Action=DescribeUnicorns&Version=2016-11-15",
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "InvalidAction"),
        "{}",
        a.body
    );
    still_serving(&emu).await;
}

/// The model's shape rules, checked before the handler: every violation in one Coral message, and
/// nothing made. An operation awsemu does not emulate is checked too (then answered NotImplemented).
#[tokio::test]
async fn the_models_rules_are_checked_before_the_operation() {
    let emu = emu().await;
    let tag = "k".repeat(129);
    let body = format!(
        "Action=CreateLoadBalancer&Version=2015-12-01&Name=x&Type=classic&Tags.member.1.Key={tag}"
    );
    let a = post_form(emu.addr(), "test", "test", "elasticloadbalancing", &body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "ValidationError"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("2 validation errors detected: "),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("Member must satisfy enum value set: [application, network, gateway]"),
        "{}",
        a.body
    );
    assert!(a.body.contains("tags.1.member.key"), "{}", a.body);
    let list = "Action=DescribeLoadBalancers&Version=2015-12-01";
    let a = post_form(emu.addr(), "test", "test", "elasticloadbalancing", list).await;
    assert!(
        !a.body.contains("<LoadBalancerName>"),
        "nothing was made: {}",
        a.body
    );
    // Not emulated, still checked: ModifyIpPools needs its load balancer.
    let a = post_form(
        emu.addr(),
        "test",
        "test",
        "elasticloadbalancing",
        "Action=ModifyIpPools&Version=2015-12-01",
    )
    .await;
    assert_eq!(a.code(), "ValidationError", "{}", a.body);
    // EC2: presence and type only.
    let a = post_form(
        emu.addr(),
        "test",
        "test",
        "ec2",
        "Action=AttachVolume&Version=2016-11-15&Device=/dev/xvdf&InstanceId=i-1",
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "MissingParameter"),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("The request must contain the parameter VolumeId"),
        "{}",
        a.body
    );
    still_serving(&emu).await;
}

#[tokio::test]
async fn huge_requests_are_refused_cleanly() {
    let emu = Emulator::builder()
        .max_body_bytes(64 * 1024)
        .start()
        .await
        .unwrap();
    let big = format!("{REGIONS}&Pad={}", "x".repeat(100 * 1024));
    let a = post_form(emu.addr(), "worker", "worker", "ec2", &big).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (413, "RequestEntityTooLarge"),
        "{}",
        a.body
    );
    still_serving(&emu).await;

    // Tens of thousands of parameters: decoded, then refused as unknown.
    let emu = self::emu().await;
    let many: String = (0..50_000).map(|i| format!("&P{i}=v")).collect();
    let a = post_form(
        emu.addr(),
        "worker",
        "worker",
        "ec2",
        &format!("{REGIONS}{many}"),
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "UnknownParameter"));
    // More than the parameter limit: refused before decoding finishes.
    let too_many: String = (0..120_000).map(|i| format!("&P{i}=v")).collect();
    let a = post_form(
        emu.addr(),
        "worker",
        "worker",
        "ec2",
        &format!("{REGIONS}{too_many}"),
    )
    .await;
    assert_eq!((a.status, a.code().as_str()), (400, "MalformedQueryString"));
    still_serving(&emu).await;
}

#[tokio::test]
async fn unsigned_and_unroutable_requests() {
    let emu = emu().await;
    let a = send(emu.addr(), "GET", &format!("/?{REGIONS}"), &[], b"").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "MissingAuthenticationToken"),
        "{}",
        a.body
    );
    let a = send(emu.addr(), "POST", "/", &[], b"hello").await;
    assert_eq!(a.status, 400, "{}", a.body);
    let a = send(emu.addr(), "GET", "/", &[], b"").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "MissingAction"),
        "{}",
        a.body
    );
    let json = [
        (
            "x-amz-target".to_string(),
            "TrentService.ListKeys".to_string(),
        ),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
    ];
    let a = send(emu.addr(), "POST", "/", &json, b"{}").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "MissingAuthenticationToken"),
        "{}",
        a.body
    );
    assert_eq!(a.header("content-type"), Some("application/x-amz-json-1.1"));
    still_serving(&emu).await;
}

#[tokio::test]
async fn get_with_signed_headers_and_presigned_urls() {
    let emu = emu().await;
    let addr = emu.addr();
    let mut map = http::HeaderMap::new();
    map.insert("host", addr.to_string().parse().unwrap());
    let parts = sigv4::RequestParts {
        method: "GET",
        path: "/",
        query: REGIONS,
        headers: &map,
        body: b"",
    };
    let mut headers = vec![("host".to_string(), addr.to_string())];
    headers.extend(sigv4::sign(
        &parts,
        "etcd",
        "etcd",
        None,
        "us-east-1",
        "ec2",
        awsemu::timefmt::now_unix(),
    ));
    let a = send(addr, "GET", &format!("/?{REGIONS}"), &headers, b"").await;
    assert_eq!(a.status, 200, "{}", a.body);

    let q = sigv4::presign(
        "GET",
        &addr.to_string(),
        "/",
        REGIONS,
        "etcd",
        "etcd",
        None,
        "us-east-1",
        "ec2",
        awsemu::timefmt::now_unix(),
        300,
    );
    let a = send(addr, "GET", &format!("/?{REGIONS}&{q}"), &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // A presigned URL past its expiry is refused.
    let q = sigv4::presign(
        "GET",
        &addr.to_string(),
        "/",
        REGIONS,
        "etcd",
        "etcd",
        None,
        "us-east-1",
        "ec2",
        awsemu::timefmt::now_unix() - 600,
        300,
    );
    let a = send(addr, "GET", &format!("/?{REGIONS}&{q}"), &[], b"").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "RequestExpired"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn clock_skew_is_refused_per_protocol() {
    let emu = emu().await;
    let addr = emu.addr();
    let old = awsemu::timefmt::now_unix() - 20 * 60;
    let h = signed_form_headers(
        addr,
        REGIONS.as_bytes(),
        "worker",
        "worker",
        None,
        "us-east-1",
        "ec2",
        old,
    );
    let a = send(addr, "POST", "/", &h, REGIONS.as_bytes()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "RequestExpired"),
        "{}",
        a.body
    );
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let h = signed_form_headers(
        addr,
        body.as_bytes(),
        "worker",
        "worker",
        None,
        "us-east-1",
        "sts",
        old + 40 * 60,
    );
    let a = send(addr, "POST", "/", &h, body.as_bytes()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "SignatureDoesNotMatch"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Signature not yet current"), "{}", a.body);
}

#[tokio::test]
async fn temporary_credentials_need_their_token_and_expire() {
    let emu = Emulator::builder()
        .manual_clock(1_900_000_000_000)
        .start()
        .await
        .unwrap();
    let addr = emu.addr();
    let g = emu.instance().current();
    let expiry = emu.instance().clock.now_secs() + 3600;
    g.identities.add_key(
        "ASIATEMP",
        "tempsecret",
        Some("token-1".into()),
        Some(expiry),
        Principal::role_session("123456789012", "worker", "i-0123"),
    );
    let now = awsemu::timefmt::now_unix();
    let with = signed_form_headers(
        addr,
        REGIONS.as_bytes(),
        "ASIATEMP",
        "tempsecret",
        Some("token-1"),
        "us-east-1",
        "ec2",
        now,
    );
    assert_eq!(
        send(addr, "POST", "/", &with, REGIONS.as_bytes())
            .await
            .status,
        200
    );
    let without = signed_form_headers(
        addr,
        REGIONS.as_bytes(),
        "ASIATEMP",
        "tempsecret",
        None,
        "us-east-1",
        "ec2",
        now,
    );
    assert_eq!(
        send(addr, "POST", "/", &without, REGIONS.as_bytes())
            .await
            .code(),
        "AuthFailure"
    );
    let wrong = signed_form_headers(
        addr,
        REGIONS.as_bytes(),
        "ASIATEMP",
        "tempsecret",
        Some("token-2"),
        "us-east-1",
        "ec2",
        now,
    );
    assert_eq!(
        send(addr, "POST", "/", &wrong, REGIONS.as_bytes())
            .await
            .code(),
        "AuthFailure"
    );
    emu.advance(std::time::Duration::from_secs(3601));
    let a = send(addr, "POST", "/", &with, REGIONS.as_bytes()).await;
    assert_eq!(a.code(), "RequestExpired", "{}", a.body);
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let h = signed_form_headers(
        addr,
        body.as_bytes(),
        "ASIATEMP",
        "tempsecret",
        Some("token-1"),
        "us-east-1",
        "sts",
        now,
    );
    assert_eq!(
        send(addr, "POST", "/", &h, body.as_bytes()).await.code(),
        "ExpiredToken"
    );
}

#[tokio::test]
async fn admin_endpoints() {
    let emu = emu().await;
    let addr = emu.addr();
    let a = send(addr, "GET", "/_awsemu/health", &[], b"").await;
    assert_eq!(a.status, 200);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["account_id"], "123456789012");
    assert_eq!(
        send(addr, "GET", "/_awsemu/state", &[], b"").await.status,
        200
    );
    let a = send(addr, "GET", "/_awsemu/audit", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        send(addr, "POST", "/_awsemu/reset", &[], b"").await.status,
        200
    );
    assert_eq!(
        send(addr, "POST", "/moto-api/reset", &[], b"").await.status,
        200
    );
    assert_eq!(
        send(addr, "GET", "/_awsemu/reset", &[], b"").await.status,
        405
    );
    assert_eq!(
        send(addr, "GET", "/_awsemu/nope", &[], b"").await.status,
        404
    );
    still_serving(&emu).await;
}

#[tokio::test]
async fn caller_identity_and_decoding_a_denial() {
    let emu = emu().await;
    let addr = emu.addr();
    let who = post_form(
        addr,
        "worker",
        "worker",
        "sts",
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(who.status, 200, "{}", who.body);
    assert!(
        who.body
            .contains("<Arn>arn:aws:sts::123456789012:assumed-role/worker/awsemu</Arn>"),
        "{}",
        who.body
    );
    assert!(
        who.body.contains("<Account>123456789012</Account>"),
        "{}",
        who.body
    );
    assert!(who.body.contains("<UserId>AROA"), "{}", who.body);

    let denied = post_form(
        addr,
        "worker",
        "worker",
        "ec2",
        "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=1",
    )
    .await;
    assert_eq!(denied.code(), "UnauthorizedOperation");
    let encoded = denied
        .body
        .split("Encoded authorization failure message: ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let body =
        format!("Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage={encoded}");
    // The worker policy does not allow sts:DecodeAuthorizationMessage; admin may.
    let a = post_form(addr, "worker", "worker", "sts", &body).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "AccessDenied"),
        "{}",
        a.body
    );
    let a = post_form(addr, "test", "test", "sts", &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let decoded = a
        .body
        .split("<DecodedMessage>")
        .nth(1)
        .unwrap()
        .split("</DecodedMessage>")
        .next()
        .unwrap()
        .replace("&quot;", "\"");
    let v: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["context"]["action"], "ec2:CreateVolume");
    assert_eq!(
        v["context"]["resource"],
        "arn:aws:ec2:us-east-1:123456789012:volume/*"
    );
    assert_eq!(
        v["context"]["principal"]["arn"],
        "arn:aws:sts::123456789012:assumed-role/worker/awsemu"
    );
    let a = post_form(
        addr,
        "test",
        "test",
        "sts",
        "Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage=not-a-message",
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "InvalidAuthorizationMessageException"),
        "{}",
        a.body
    );
}
