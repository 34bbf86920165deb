//! aws-sdk-rust's default credential chain, unchanged, finds a node's role through
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` alone. Its own test binary: it sets process environment
//! variables, which no other test may race with.

use aws_config::BehaviorVersion;
use aws_sdk_ec2::types::{IamInstanceProfileSpecification, Placement};
use client_tests::{ec2, expect_err};

#[tokio::test]
async fn default_chain_uses_the_metadata_endpoint() {
    let emu = client_tests::start().await;
    let admin = ec2(&emu, "admin");
    let id = admin
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone("us-east-1a").build())
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name("worker")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let imds = emu.imds_endpoint(&id).await.unwrap();
    // Only the metadata endpoint: no keys, no profile files.
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        std::env::remove_var(k);
    }
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/awsemu/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/awsemu/credentials",
    );
    std::env::set_var("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds);
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(emu.endpoint())
        .load()
        .await;
    let node = aws_sdk_ec2::Client::new(&shared);
    let out = node
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("a worker node may describe instances");
    assert_eq!(
        out.reservations()[0].instances()[0].instance_id(),
        Some(id.as_str())
    );
    let (code, msg, _) = expect_err!(
        node.create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .send()
            .await
    );
    assert_eq!(code, "UnauthorizedOperation");
    assert!(msg.contains(&format!("assumed-role/worker/{id}")), "{msg}");
}
