//! The instance metadata service: IMDSv2 tokens and IMDSv1, the metadata tree against what
//! DescribeInstances says, the identity document, and role credentials from the instance profile
//! that are held to the role's policies — through raw HTTP and aws-config's own IMDS client.

use std::net::SocketAddr;
use std::time::Duration;

use aws_config::imds;
use aws_sdk_ec2::types::{
    HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest, Placement,
};
use awsemu::Emulator;
use client_tests::{ec2, ec2_with, ecr_with, expect_err, ClientOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AMI: &str = "ami-0123456789abcdef0";

/// One HTTP/1.1 request on a fresh connection: (status, lower-case headers, body).
async fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let addr: SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: 0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

async fn token(endpoint: &str) -> String {
    let (status, _, body) = http(
        endpoint,
        "PUT",
        "/latest/api/token",
        &[("x-aws-ec2-metadata-token-ttl-seconds", "300")],
    )
    .await;
    assert_eq!(status, 200);
    body
}

async fn get(endpoint: &str, token: &str, path: &str) -> (u16, String) {
    let (status, _, body) = http(
        endpoint,
        "GET",
        path,
        &[("x-aws-ec2-metadata-token", token)],
    )
    .await;
    (status, body)
}

async fn run(
    c: &aws_sdk_ec2::Client,
    profile: Option<&str>,
    tokens: Option<HttpTokensState>,
) -> String {
    let mut req = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1b").build());
    if let Some(p) = profile {
        req = req.iam_instance_profile(IamInstanceProfileSpecification::builder().name(p).build());
    }
    if let Some(t) = tokens {
        req = req.metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(t)
                .build(),
        );
    }
    req.send().await.expect("run").instances()[0]
        .instance_id()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn admin_endpoint_opens_one_listener_per_instance() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let a = run(&c, None, None).await;
    let b = run(&c, None, None).await;
    let (status, _, body) = http(&emu.endpoint(), "GET", &format!("/_awsemu/imds/{a}"), &[]).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ea = v["endpoint"].as_str().unwrap().to_string();
    assert!(ea.starts_with("http://127.0.0.1:"));
    assert_eq!(
        emu.imds_endpoint(&a).await.unwrap(),
        ea,
        "the same listener again"
    );
    let eb = emu.imds_endpoint(&b).await.unwrap();
    assert_ne!(ea, eb);
    let t = token(&eb).await;
    assert_eq!(
        get(&eb, &t, "/latest/meta-data/instance-id").await,
        (200, b.clone())
    );
    let (status, _, _) = http(
        &emu.endpoint(),
        "GET",
        "/_awsemu/imds/i-0123456789abcdef0",
        &[],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tokens_follow_imdsv2() {
    let emu = Emulator::builder()
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    let c = ec2(&emu, "admin");
    let optional = run(&c, None, Some(HttpTokensState::Optional)).await;
    let required = run(&c, None, Some(HttpTokensState::Required)).await;
    let e = emu.imds_endpoint(&required).await.unwrap();
    let put = |headers: &'static [(&'static str, &'static str)]| {
        let e = e.clone();
        async move { http(&e, "PUT", "/latest/api/token", headers).await.0 }
    };
    assert_eq!(put(&[]).await, 400, "the TTL header is required");
    assert_eq!(
        put(&[("x-aws-ec2-metadata-token-ttl-seconds", "0")]).await,
        400
    );
    assert_eq!(
        put(&[("x-aws-ec2-metadata-token-ttl-seconds", "21601")]).await,
        400
    );
    assert_eq!(
        put(&[
            ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
            ("x-forwarded-for", "10.0.0.1")
        ])
        .await,
        403,
        "tokens are not handed out through proxies"
    );
    let (status, headers, t) = http(
        &e,
        "PUT",
        "/latest/api/token",
        &[("x-aws-ec2-metadata-token-ttl-seconds", "60")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "x-aws-ec2-metadata-token-ttl-seconds" && v == "60"));
    assert_eq!(get(&e, &t, "/latest/meta-data/instance-id").await.0, 200);
    assert_eq!(
        get(&e, "bogus", "/latest/meta-data/instance-id").await.0,
        401
    );
    let (status, _, _) = http(&e, "GET", "/latest/meta-data/instance-id", &[]).await;
    assert_eq!(status, 401, "HttpTokens=required refuses IMDSv1");
    // A token is for its own instance only, and only for its TTL (virtual clock).
    let other = emu.imds_endpoint(&optional).await.unwrap();
    assert_eq!(
        get(&other, &t, "/latest/meta-data/instance-id").await.0,
        401
    );
    emu.advance(Duration::from_secs(61));
    assert_eq!(get(&e, &t, "/latest/meta-data/instance-id").await.0, 401);
    // IMDSv1 where allowed.
    let (status, _, body) = http(&other, "GET", "/latest/meta-data/instance-id", &[]).await;
    assert_eq!((status, body), (200, optional));
}

#[tokio::test]
async fn metadata_matches_describe_instances() {
    let emu = client_tests::start().await;
    let c = ec2(&emu, "admin");
    let id = run(&c, None, None).await;
    let described = c
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let i = described.reservations()[0].instances()[0].clone();
    let e = emu.imds_endpoint(&id).await.unwrap();
    let t = token(&e).await;
    let md = |p: &'static str| {
        let (e, t) = (e.clone(), t.clone());
        async move {
            let (status, body) = get(&e, &t, &format!("/latest/meta-data/{p}")).await;
            assert_eq!(status, 200, "{p}");
            body
        }
    };
    assert_eq!(md("instance-id").await, id);
    assert_eq!(md("placement/availability-zone").await, "us-east-1b");
    assert_eq!(md("placement/region").await, "us-east-1");
    assert_eq!(md("local-hostname").await, i.private_dns_name().unwrap());
    assert_eq!(md("local-ipv4").await, i.private_ip_address().unwrap());
    assert_eq!(
        md("instance-type").await,
        i.instance_type().unwrap().as_str()
    );
    let mac = md("mac").await;
    let nic = &i.network_interfaces()[0];
    assert_eq!(Some(mac.as_str()), nic.mac_address());
    assert_eq!(md("network/interfaces/macs/").await, format!("{mac}/"));
    let nic_path = |k: &str| format!("/latest/meta-data/network/interfaces/macs/{mac}/{k}");
    assert_eq!(
        get(&e, &t, &nic_path("vpc-id")).await.1,
        i.vpc_id().unwrap()
    );
    assert_eq!(
        get(&e, &t, &nic_path("subnet-id")).await.1,
        i.subnet_id().unwrap()
    );
    assert_eq!(
        get(&e, &t, &nic_path("security-group-ids")).await.1,
        i.security_groups()[0].group_id().unwrap()
    );
    let listing = md("").await;
    for entry in ["instance-id", "placement/", "network/", "local-ipv4"] {
        assert!(listing.lines().any(|l| l == entry), "{entry} in {listing}");
    }
    let (status, doc) = get(&e, &t, "/latest/dynamic/instance-identity/document").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["instanceId"], id.as_str());
    assert_eq!(doc["accountId"], emu.account_id());
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["availabilityZone"], "us-east-1b");
    assert_eq!(doc["imageId"], AMI);
    assert_eq!(doc["privateIp"], i.private_ip_address().unwrap());
    // No instance profile: no iam/ branch.
    assert_eq!(get(&e, &t, "/latest/meta-data/iam/info").await.0, 404);
    assert_eq!(get(&e, &t, "/latest/meta-data/no-such-thing").await.0, 404);

    // aws-config's own IMDS client (the one the SDK's credential chain uses) reads it too.
    let client = imds::Client::builder()
        .endpoint(&e)
        .unwrap()
        .configure(
            &aws_config::provider_config::ProviderConfig::without_region()
                .with_http_client(aws_smithy_http_client::Builder::new().build_http()),
        )
        .build();
    let got = client.get("/latest/meta-data/instance-id").await.unwrap();
    assert_eq!(got.as_ref(), id);
}

#[tokio::test]
async fn role_credentials_are_held_to_the_role() {
    let emu = Emulator::builder()
        .manual_clock(1_800_000_000_000)
        .start()
        .await
        .unwrap();
    let admin = ec2(&emu, "admin");
    let id = run(&admin, Some("worker"), None).await;
    let e = emu.imds_endpoint(&id).await.unwrap();
    let t = token(&e).await;
    let (status, info) = get(&e, &t, "/latest/meta-data/iam/info").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["Code"], "Success");
    assert_eq!(
        info["InstanceProfileArn"],
        format!("arn:aws:iam::{}:instance-profile/worker", emu.account_id())
    );
    assert_eq!(
        get(&e, &t, "/latest/meta-data/iam/security-credentials/").await,
        (200, "worker".to_string())
    );
    let (status, creds) = get(&e, &t, "/latest/meta-data/iam/security-credentials/worker").await;
    assert_eq!(status, 200);
    let creds: serde_json::Value = serde_json::from_str(&creds).unwrap();
    assert_eq!(creds["Code"], "Success");
    assert_eq!(creds["Type"], "AWS-HMAC");
    let key = creds["AccessKeyId"].as_str().unwrap().to_string();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    assert!(creds["Expiration"].as_str().unwrap().ends_with('Z'));

    let opts = |c: &serde_json::Value| ClientOptions {
        access_key_id: c["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: c["SecretAccessKey"].as_str().unwrap().to_string(),
        session_token: c["Token"].as_str().map(str::to_string),
        ..ClientOptions::principal(&emu, "admin")
    };
    let node = ec2_with(&emu, &opts(&creds));
    node.describe_instances()
        .send()
        .await
        .expect("the worker policy allows DescribeInstances");
    let (code, msg, status) = expect_err!(
        node.create_volume()
            .availability_zone("us-east-1b")
            .size(1)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403));
    assert!(
        msg.contains(&format!(
            "arn:aws:sts::{}:assumed-role/worker/{id}",
            emu.account_id()
        )),
        "{msg}"
    );

    // The kubelet on a worker pulls images: GetAuthorizationToken is allowed.
    let token_out = ecr_with(&emu, &opts(&creds))
        .get_authorization_token()
        .send()
        .await
        .expect("the worker policy allows ecr:GetAuthorizationToken");
    assert_eq!(token_out.authorization_data().len(), 1);

    // The same credentials until five minutes before they expire (six hours), then new ones; the
    // old ones stay valid until their expiry, as AWS documents.
    let again = get(&e, &t, "/latest/meta-data/iam/security-credentials/worker")
        .await
        .1;
    assert!(again.contains(&key));
    emu.advance(Duration::from_secs(3 * 3600));
    let t = token(&e).await;
    let same = get(&e, &t, "/latest/meta-data/iam/security-credentials/worker")
        .await
        .1;
    assert!(same.contains(&key), "no rotation three hours in");
    emu.advance(Duration::from_secs(3 * 3600 - 240));
    let t = token(&e).await;
    let rotated: serde_json::Value = serde_json::from_str(
        &get(&e, &t, "/latest/meta-data/iam/security-credentials/worker")
            .await
            .1,
    )
    .unwrap();
    assert_ne!(rotated["AccessKeyId"], creds["AccessKeyId"]);
    node.describe_instances().send().await.unwrap();
    // After their six hours the first ones are refused.
    emu.advance(Duration::from_secs(300));
    let (code, _, _) = expect_err!(node.describe_instances().send().await);
    assert_eq!(code, "RequestExpired");
}

/// Node credentials for a fresh instance with the given profile, through its metadata service.
async fn node_options(emu: &Emulator, profile: &str) -> ClientOptions {
    let id = run(&ec2(emu, "admin"), Some(profile), None).await;
    let e = emu.imds_endpoint(&id).await.unwrap();
    let t = token(&e).await;
    let path = format!("/latest/meta-data/iam/security-credentials/{profile}");
    let c: serde_json::Value = serde_json::from_str(&get(&e, &t, &path).await.1).unwrap();
    ClientOptions {
        access_key_id: c["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: c["SecretAccessKey"].as_str().unwrap().to_string(),
        session_token: c["Token"].as_str().map(str::to_string),
        ..ClientOptions::principal(emu, "admin")
    }
}

#[tokio::test]
async fn controlplane_node_may_not_pull_from_ecr() {
    let emu = client_tests::start().await;
    let node = node_options(&emu, "controlplane").await;
    // The documented controlplane policy has no ECR actions.
    let (code, msg, status) =
        expect_err!(ecr_with(&emu, &node).get_authorization_token().send().await);
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 400));
    assert!(msg.contains("assumed-role/controlplane/i-"), "{msg}");
    assert!(msg.contains("ecr:GetAuthorizationToken"), "{msg}");
    // It may create volumes, which a worker may not.
    ec2_with(&emu, &node)
        .create_volume()
        .availability_zone("us-east-1b")
        .size(1)
        .send()
        .await
        .expect("the controlplane policy allows CreateVolume");
}

#[tokio::test]
async fn a_role_that_does_not_trust_ec2_gets_no_credentials() {
    let emu = client_tests::start().await;
    let iam = client_tests::iam(&emu, "admin");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        emu.account_id()
    );
    iam.create_role()
        .role_name("not-for-ec2")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("not-for-ec2")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("not-for-ec2")
        .role_name("not-for-ec2")
        .send()
        .await
        .unwrap();
    let id = run(&ec2(&emu, "admin"), Some("not-for-ec2"), None).await;
    let e = emu.imds_endpoint(&id).await.unwrap();
    let t = token(&e).await;
    let (status, info) = get(&e, &t, "/latest/meta-data/iam/info").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["Code"], "AssumeRoleUnauthorizedAccess");
    assert_eq!(
        get(
            &e,
            &t,
            "/latest/meta-data/iam/security-credentials/not-for-ec2"
        )
        .await
        .0,
        404
    );
}
