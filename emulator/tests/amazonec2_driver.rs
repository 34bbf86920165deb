//! Key pairs, account attributes, reboots, public addresses and Spot requests over real signed
//! HTTP, and the rancher/machine amazonec2 driver's whole create → restart → remove sequence,
//! each request with the parameters the driver's SDK (aws-sdk-go v1's EC2 query serializer) puts
//! on the wire: empty `IamInstanceProfile.Name` and `UserData`, `Ipv6AddressCount=0`, the image's
//! block device mapping sent back, the egress rule a new group already has.

mod common;
#[path = "support/xml.rs"]
mod xml;

use awsemu::Emulator;
use base64::Engine as _;
use common::{post_form, Answer};

/// `ssh-keygen -t rsa -b 2048`: what the driver's `ssh.GenerateSSHKey` writes to `id_rsa.pub`.
const RSA_PUB: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCnbKAWwrmcH6wc827CyBy8JKluQUe/TPPKJwfYCbIXoaws8K517wcidgzrlRJqSOvsh8gCFcEKB9GtHhRP/m1YYJpgugBMyRmfpf7f7v38vbzUiiBSiuLnRVA1FtuUTHU4QMhIbJd3gdwhZeNLQjGZGQQ/iiIDXdTuHNWjxXJ+KfLO5KPzK1XrrMbO7Bi7netoxsG+QzzhsvsTupWYaEfj0Wz6TpxFA0w8BBzLAKT9otwgjb9LySFPPLTUcX/yvuB1SnJ26tf8UVrNyTKUCnlIKVzs5/MmF9j+oYDK8uO+tYtjL9mUnEiBCKnT1JoeL1IaJdkgMKRmgUJeQft3i5hF rsa@awsemu";
/// `openssl pkey -pubin -outform DER | openssl md5 -c` of it, as the EC2 user guide verifies.
const RSA_MD5: &str = "47:28:f8:05:72:7e:e5:21:71:89:b9:06:19:b1:22:ba";

async fn start() -> Emulator {
    Emulator::builder().seed(11).start().await.unwrap()
}

/// Percent-encodes a form value (RFC 3986 unreserved characters stay).
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One EC2 call signed as `key`, with `params` in order.
async fn call(emu: &Emulator, key: &str, action: &str, params: &[(&str, &str)]) -> Answer {
    let mut body = format!("Action={action}&Version=2016-11-15");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", enc(v)));
    }
    post_form(emu.addr(), key, key, "ec2", &body).await
}

/// A call that must succeed; its parsed answer.
async fn ok(emu: &Emulator, action: &str, params: &[(&str, &str)]) -> xml::Node {
    let a = call(emu, "test", action, params).await;
    assert_eq!(a.status, 200, "{action}: {}", a.body);
    xml::parse(&a.body).unwrap()
}

/// A call that must fail with `code`; its message.
async fn fails(
    emu: &Emulator,
    key: &str,
    action: &str,
    params: &[(&str, &str)],
    code: &str,
) -> String {
    let a = call(emu, key, action, params).await;
    assert_eq!(a.code(), code, "{action}: {}", a.body);
    xml::parse(&a.body).unwrap().path(&["Errors", "Error"])[0].text_of("Message")
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn key_names(emu: &Emulator) -> Vec<String> {
    let r = ok(emu, "DescribeKeyPairs", &[]).await;
    r.path(&["keySet", "item"])
        .iter()
        .map(|k| k.text_of("keyName"))
        .collect()
}

#[tokio::test]
async fn key_pairs_import_create_describe_delete() {
    let emu = start().await;
    let material = b64(RSA_PUB);
    let r = ok(
        &emu,
        "ImportKeyPair",
        &[("KeyName", "k1"), ("PublicKeyMaterial", &material)],
    )
    .await;
    assert_eq!(r.text_of("keyFingerprint"), RSA_MD5);
    let id = r.text_of("keyPairId");
    assert!(id.starts_with("key-") && id.len() == 21, "{id}");

    // Errors, each changing nothing.
    let m = fails(
        &emu,
        "test",
        "ImportKeyPair",
        &[("KeyName", "k1"), ("PublicKeyMaterial", &material)],
        "InvalidKeyPair.Duplicate",
    )
    .await;
    assert_eq!(m, "The keypair 'k1' already exists.");
    let m = fails(
        &emu,
        "test",
        "ImportKeyPair",
        &[
            ("KeyName", "k2"),
            ("PublicKeyMaterial", &b64("ssh-rsa bm90IGEga2V5")),
        ],
        "InvalidKey.Format",
    )
    .await;
    assert_eq!(m, "Key is not in valid OpenSSH public key format");
    fails(
        &emu,
        "test",
        "ImportKeyPair",
        &[("KeyName", "k2"), ("PublicKeyMaterial", "%%%")],
        "InvalidKey.Format",
    )
    .await;
    fails(
        &emu,
        "test",
        "CreateKeyPair",
        &[("KeyName", "k1")],
        "InvalidKeyPair.Duplicate",
    )
    .await;
    fails(
        &emu,
        "test",
        "CreateKeyPair",
        &[("KeyName", "k3"), ("KeyType", "dsa")],
        "InvalidParameterValue",
    )
    .await;
    fails(
        &emu,
        "test",
        "CreateKeyPair",
        &[("KeyName", &"x".repeat(256))],
        "InvalidParameterValue",
    )
    .await;
    fails(
        &emu,
        "test",
        "CreateKeyPair",
        &[
            ("KeyName", "k3"),
            ("TagSpecification.1.ResourceType", "volume"),
            ("TagSpecification.1.Tag.1.Key", "a"),
        ],
        "InvalidParameterValue",
    )
    .await;
    assert_eq!(key_names(&emu).await, ["k1"]);

    // The worker role has no key pair permissions: denied with AWS's message, nothing made.
    let m = fails(
        &emu,
        "worker",
        "CreateKeyPair",
        &[("KeyName", "w")],
        "UnauthorizedOperation",
    )
    .await;
    assert!(
        m.contains("assumed-role/worker/awsemu is not authorized to perform: ec2:CreateKeyPair on resource: arn:aws:ec2:us-east-1:123456789012:key-pair/w"),
        "{m}"
    );
    fails(
        &emu,
        "worker",
        "DeleteKeyPair",
        &[("KeyName", "k1")],
        "UnauthorizedOperation",
    )
    .await;
    assert_eq!(key_names(&emu).await, ["k1"]);

    let made = ok(
        &emu,
        "CreateKeyPair",
        &[
            ("KeyName", "k0"),
            ("KeyType", "ed25519"),
            ("TagSpecification.1.ResourceType", "key-pair"),
            ("TagSpecification.1.Tag.1.Key", "team"),
            ("TagSpecification.1.Tag.1.Value", "a"),
        ],
    )
    .await;
    assert!(made
        .text_of("keyMaterial")
        .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    assert!(made.text_of("keyFingerprint").ends_with('='));
    // Listed by name; CreateTags and DescribeTags reach key pairs by id.
    assert_eq!(key_names(&emu).await, ["k0", "k1"]);
    ok(
        &emu,
        "CreateTags",
        &[
            ("ResourceId.1", &id),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "b"),
        ],
    )
    .await;
    let r = ok(
        &emu,
        "DescribeKeyPairs",
        &[("Filter.1.Name", "tag:team"), ("Filter.1.Value.1", "b")],
    )
    .await;
    assert_eq!(r.path(&["keySet", "item"]).len(), 1);
    let r = ok(
        &emu,
        "DescribeTags",
        &[
            ("Filter.1.Name", "resource-type"),
            ("Filter.1.Value.1", "key-pair"),
        ],
    )
    .await;
    assert_eq!(r.path(&["tagSet", "item"]).len(), 2);
    fails(
        &emu,
        "test",
        "DescribeKeyPairs",
        &[("KeyName.1", "k1"), ("KeyName.2", "gone")],
        "InvalidKeyPair.NotFound",
    )
    .await;
    fails(
        &emu,
        "test",
        "DescribeKeyPairs",
        &[("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")],
        "InvalidParameterValue",
    )
    .await;

    // DeleteKeyPair: a missing name is no error; a missing id is.
    let r = ok(&emu, "DeleteKeyPair", &[("KeyName", "never-made")]).await;
    assert_eq!(r.text_of("return"), "true");
    let r = ok(&emu, "DeleteKeyPair", &[("KeyPairId", &id)]).await;
    assert_eq!(r.text_of("keyPairId"), id);
    fails(
        &emu,
        "test",
        "DeleteKeyPair",
        &[("KeyPairId", &id)],
        "InvalidKeyPair.NotFound",
    )
    .await;
    fails(&emu, "test", "DeleteKeyPair", &[], "MissingParameter").await;
    assert_eq!(key_names(&emu).await, ["k0"]);
}

/// Created keys come from the seed: two emulators with the same seed, sent the same calls, make
/// the same keys; another seed makes others.
#[tokio::test]
async fn created_keys_follow_the_seed() {
    let mut made = Vec::new();
    for seed in [5, 5, 6] {
        let emu = Emulator::builder().seed(seed).start().await.unwrap();
        let mut keys = Vec::new();
        for (name, key_type) in [("a", "rsa"), ("b", "ed25519")] {
            let r = ok(
                &emu,
                "CreateKeyPair",
                &[("KeyName", name), ("KeyType", key_type)],
            )
            .await;
            keys.push((r.text_of("keyMaterial"), r.text_of("keyFingerprint")));
        }
        made.push(keys);
    }
    assert_eq!(made[0], made[1]);
    assert_ne!(made[0][0], made[2][0]);
    assert_ne!(made[0][1], made[2][1]);
}

#[tokio::test]
async fn account_attributes_and_reboots() {
    let emu = start().await;
    let r = ok(
        &emu,
        "DescribeAccountAttributes",
        &[
            ("AttributeName.1", "supported-platforms"),
            ("AttributeName.2", "default-vpc"),
        ],
    )
    .await;
    let items = r.path(&["accountAttributeSet", "item"]);
    let names: Vec<String> = items.iter().map(|i| i.text_of("attributeName")).collect();
    assert_eq!(names, ["supported-platforms", "default-vpc"]);
    let vpc = items[1].path(&["attributeValueSet", "item"])[0].text_of("attributeValue");
    let vpcs = ok(
        &emu,
        "DescribeVpcs",
        &[
            ("Filter.1.Name", "is-default"),
            ("Filter.1.Value.1", "true"),
        ],
    )
    .await;
    assert_eq!(vpcs.path(&["vpcSet", "item"])[0].text_of("vpcId"), vpc);
    // Without its default VPC the account answers `none`.
    let subnets = ok(
        &emu,
        "DescribeSubnets",
        &[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", &vpc)],
    )
    .await;
    for s in subnets.path(&["subnetSet", "item"]) {
        ok(
            &emu,
            "DeleteSubnet",
            &[("SubnetId", &s.text_of("subnetId"))],
        )
        .await;
    }
    let igws = ok(&emu, "DescribeInternetGateways", &[]).await;
    for g in igws.path(&["internetGatewaySet", "item"]) {
        let gid = g.text_of("internetGatewayId");
        ok(
            &emu,
            "DetachInternetGateway",
            &[("InternetGatewayId", &gid), ("VpcId", &vpc)],
        )
        .await;
        ok(
            &emu,
            "DeleteInternetGateway",
            &[("InternetGatewayId", &gid)],
        )
        .await;
    }
    ok(&emu, "DeleteVpc", &[("VpcId", &vpc)]).await;
    let r = ok(
        &emu,
        "DescribeAccountAttributes",
        &[("AttributeName.1", "default-vpc")],
    )
    .await;
    assert_eq!(
        r.path(&["accountAttributeSet", "item", "attributeValueSet", "item"])[0]
            .text_of("attributeValue"),
        "none"
    );

    // Reboots keep the instance running; a stopped or terminated one cannot be rebooted.
    let emu = start().await;
    let r = ok(
        &emu,
        "RunInstances",
        &[
            ("ImageId", "ami-0123456789abcdef0"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
        ],
    )
    .await;
    let id = r.path(&["instancesSet", "item"])[0].text_of("instanceId");
    let ids = [("InstanceId.1", id.as_str())];
    ok(&emu, "DescribeInstances", &ids).await; // running
    ok(&emu, "RebootInstances", &ids).await;
    let d = ok(&emu, "DescribeInstances", &ids).await;
    assert_eq!(
        d.path(&[
            "reservationSet",
            "item",
            "instancesSet",
            "item",
            "instanceState"
        ])[0]
            .text_of("name"),
        "running"
    );
    fails(
        &emu,
        "test",
        "RebootInstances",
        &[("InstanceId.1", "i-0123456789abcdef0")],
        "InvalidInstanceID.NotFound",
    )
    .await;
    fails(
        &emu,
        "worker",
        "RebootInstances",
        &ids,
        "UnauthorizedOperation",
    )
    .await;
    ok(&emu, "StopInstances", &ids).await;
    let m = fails(
        &emu,
        "test",
        "RebootInstances",
        &ids,
        "IncorrectInstanceState",
    )
    .await;
    assert_eq!(
        m,
        format!("The instance '{id}' is not in a state from which it can be rebooted.")
    );
}

/// The instance as DescribeInstances shows it.
async fn instance(emu: &Emulator, id: &str) -> xml::Node {
    let d = ok(emu, "DescribeInstances", &[("InstanceId.1", id)]).await;
    d.path(&["reservationSet", "item", "instancesSet", "item"])[0].clone()
}

/// rancher/machine's drivers/amazonec2: SetConfigFromFlags (default VPC), PreCreateCheck (subnet,
/// AMI), Create (key pair, security group, instance, wait for its address and `running`),
/// Restart, Stop, Start, then Remove (terminate, read the instance's key name, delete the pair).
#[tokio::test]
async fn the_amazonec2_drivers_create_and_remove_sequence() {
    let emu = start().await;
    let zone = "us-east-1a";

    // getDefaultVPCId
    let r = ok(&emu, "DescribeAccountAttributes", &[]).await;
    let vpc = r
        .path(&["accountAttributeSet", "item"])
        .into_iter()
        .find(|a| a.text_of("attributeName") == "default-vpc")
        .map(|a| a.path(&["attributeValueSet", "item"])[0].text_of("attributeValue"))
        .unwrap();
    assert!(vpc.starts_with("vpc-"), "{vpc}");

    // checkSubnet, then checkAMI
    let r = ok(
        &emu,
        "DescribeSubnets",
        &[
            ("Filter.1.Name", "availability-zone"),
            ("Filter.1.Value.1", zone),
            ("Filter.2.Name", "vpc-id"),
            ("Filter.2.Value.1", &vpc),
        ],
    )
    .await;
    let subnet = r.path(&["subnetSet", "item"])[0].clone();
    assert_eq!(subnet.text_of("defaultForAz"), "true");
    let subnet = subnet.text_of("subnetId");
    let images = ok(&emu, "DescribeImages", &[("Owner.1", "amazon")]).await;
    let ami = images.path(&["imagesSet", "item"])[0].text_of("imageId");
    let r = ok(&emu, "DescribeImages", &[("ImageId.1", &ami)]).await;
    let image = r.path(&["imagesSet", "item"])[0].clone();
    let root = image.text_of("rootDeviceName");
    let ebs = image.path(&["blockDeviceMapping", "item", "ebs"])[0].clone();

    // createKeyPair: ImportKeyPair of the generated id_rsa.pub as MACHINE-xxxxx
    let key_name = "rancher-node-1-qwxyz";
    let r = ok(
        &emu,
        "ImportKeyPair",
        &[
            ("KeyName", key_name),
            ("PublicKeyMaterial", &b64(&format!("{RSA_PUB}\n"))),
        ],
    )
    .await;
    assert_eq!(r.text_of("keyFingerprint"), RSA_MD5);

    // configureSecurityGroups: look for rancher-nodes, make it, tag it, wait for it, open ports
    let sg_filter = [
        ("Filter.1.Name", "group-name"),
        ("Filter.1.Value.1", "rancher-nodes"),
        ("Filter.2.Name", "vpc-id"),
        ("Filter.2.Value.1", vpc.as_str()),
    ];
    let r = ok(&emu, "DescribeSecurityGroups", &sg_filter).await;
    assert!(r.path(&["securityGroupInfo", "item"]).is_empty());
    let r = ok(
        &emu,
        "CreateSecurityGroup",
        &[
            ("GroupName", "rancher-nodes"),
            ("GroupDescription", "Rancher Nodes"),
            ("VpcId", &vpc),
        ],
    )
    .await;
    let sg = r.text_of("groupId");
    ok(
        &emu,
        "CreateTags",
        &[
            ("ResourceId.1", &sg),
            ("Tag.1.Key", "rancher-nodes"),
            ("Tag.1.Value", "v2.9.0"),
        ],
    )
    .await;
    let r = ok(&emu, "DescribeSecurityGroups", &[("GroupId.1", &sg)]).await;
    assert_eq!(r.path(&["securityGroupInfo", "item"]).len(), 1);
    ok(
        &emu,
        "AuthorizeSecurityGroupIngress",
        &[
            ("GroupId", &sg),
            ("IpPermissions.1.FromPort", "22"),
            ("IpPermissions.1.IpProtocol", "tcp"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
            ("IpPermissions.1.IpRanges.1.Description", "Rancher Nodes"),
            ("IpPermissions.1.ToPort", "22"),
            ("IpPermissions.2.FromPort", "22"),
            ("IpPermissions.2.IpProtocol", "tcp"),
            ("IpPermissions.2.Ipv6Ranges.1.CidrIpv6", "::/0"),
            ("IpPermissions.2.Ipv6Ranges.1.Description", "Rancher Nodes"),
            ("IpPermissions.2.ToPort", "22"),
            ("IpPermissions.3.FromPort", "2379"),
            ("IpPermissions.3.Groups.1.Description", "Rancher Nodes"),
            ("IpPermissions.3.Groups.1.GroupId", &sg),
            ("IpPermissions.3.IpProtocol", "tcp"),
            ("IpPermissions.3.ToPort", "2380"),
        ],
    )
    .await;
    // The driver made the group struct itself, without its default egress rule, so it asks for
    // it again and moves on when the answer says "already exists".
    let m = fails(
        &emu,
        "test",
        "AuthorizeSecurityGroupEgress",
        &[
            ("GroupId", &sg),
            ("IpPermissions.1.IpProtocol", "-1"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
            ("IpPermissions.2.IpProtocol", "-1"),
            ("IpPermissions.2.Ipv6Ranges.1.CidrIpv6", "::/0"),
        ],
        "InvalidPermission.Duplicate",
    )
    .await;
    assert!(m.contains("already exists"), "{m}");

    // RunInstances as the driver builds it (on-demand), the image's mapping sent back with the
    // root resized and DeleteOnTermination/Encrypted set.
    let size = "16";
    let launch = [
        ("BlockDeviceMapping.1.DeviceName", root.as_str()),
        ("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true"),
        ("BlockDeviceMapping.1.Ebs.Encrypted", "false"),
        ("BlockDeviceMapping.1.Ebs.Iops", &ebs.text_of("iops")),
        (
            "BlockDeviceMapping.1.Ebs.SnapshotId",
            &ebs.text_of("snapshotId"),
        ),
        (
            "BlockDeviceMapping.1.Ebs.Throughput",
            &ebs.text_of("throughput"),
        ),
        ("BlockDeviceMapping.1.Ebs.VolumeSize", size),
        ("BlockDeviceMapping.1.Ebs.VolumeType", "gp3"),
        ("EbsOptimized", "false"),
        ("IamInstanceProfile.Name", ""),
        ("ImageId", &ami),
        ("InstanceType", "t3a.medium"),
        ("KeyName", key_name),
        ("MaxCount", "1"),
        ("MinCount", "1"),
        ("Monitoring.Enabled", "false"),
        ("NetworkInterface.1.AssociatePublicIpAddress", "true"),
        ("NetworkInterface.1.DeviceIndex", "0"),
        ("NetworkInterface.1.Ipv6AddressCount", "0"),
        ("NetworkInterface.1.PrimaryIpv6", "false"),
        ("NetworkInterface.1.SecurityGroupId.1", &sg),
        ("NetworkInterface.1.SubnetId", &subnet),
        ("Placement.AvailabilityZone", zone),
        ("TagSpecification.1.ResourceType", "instance"),
        ("TagSpecification.1.Tag.1.Key", "Name"),
        ("TagSpecification.1.Tag.1.Value", "rancher-node-1"),
        ("UserData", ""),
    ];
    // Not before its key pair exists: a wrong name is InvalidKeyPair.NotFound.
    let mut wrong = launch;
    wrong[12] = ("KeyName", "rancher-node-1-zzzzz");
    let m = fails(
        &emu,
        "test",
        "RunInstances",
        &wrong,
        "InvalidKeyPair.NotFound",
    )
    .await;
    assert_eq!(m, "The key pair 'rancher-node-1-zzzzz' does not exist");
    let r = ok(&emu, "RunInstances", &launch).await;
    let i = r.path(&["instancesSet", "item"])[0].clone();
    let id = i.text_of("instanceId");
    assert_eq!(i.text_of("keyName"), key_name);
    assert!(!i.text_of("privateIpAddress").is_empty());

    // instanceIpAvailable, then waitForInstance: a public address and `running`.
    let d = instance(&emu, &id).await;
    let public = d.text_of("ipAddress");
    assert!(public.starts_with("54."), "public address {public:?}");
    assert_eq!(
        d.text_of("dnsName"),
        format!("ec2-{}.compute-1.amazonaws.com", public.replace('.', "-"))
    );
    assert_eq!(d.path(&["instanceState"])[0].text_of("name"), "running");
    assert_eq!(d.text_of("keyName"), key_name);
    let vols = d.path(&["blockDeviceMapping", "item", "ebs"]);
    assert_eq!(vols.len(), 1);
    // The node's metadata serves the imported key under the pair's name.
    let imds = emu.imds_endpoint(&id).await.unwrap();
    let imds_addr: std::net::SocketAddr = imds.trim_start_matches("http://").parse().unwrap();
    let token = common::send(
        imds_addr,
        "PUT",
        "/latest/api/token",
        &[("x-aws-ec2-metadata-token-ttl-seconds".into(), "60".into())],
        b"",
    )
    .await
    .body;
    let get = |path: &'static str| {
        let token = token.clone();
        async move {
            common::send(
                imds_addr,
                "GET",
                path,
                &[("x-aws-ec2-metadata-token".into(), token)],
                b"",
            )
            .await
        }
    };
    assert_eq!(
        get("/latest/meta-data/public-keys/").await.body,
        format!("0={key_name}")
    );
    let line = get("/latest/meta-data/public-keys/0/openssh-key")
        .await
        .body;
    let mut words = RSA_PUB.split_whitespace();
    assert_eq!(
        line,
        format!(
            "{} {} {key_name}",
            words.next().unwrap(),
            words.next().unwrap()
        )
    );
    assert_eq!(get("/latest/meta-data/public-ipv4").await.body, public);

    // Restart, Stop (Force=false), Start: a new public address after the stop.
    ok(&emu, "RebootInstances", &[("InstanceId.1", &id)]).await;
    ok(
        &emu,
        "StopInstances",
        &[("Force", "false"), ("InstanceId.1", &id)],
    )
    .await;
    let d = instance(&emu, &id).await;
    assert_eq!(d.path(&["instanceState"])[0].text_of("name"), "stopped");
    assert_eq!(d.text_of("ipAddress"), "", "released on stop");
    ok(&emu, "StartInstances", &[("InstanceId.1", &id)]).await;
    let d = instance(&emu, &id).await;
    assert_eq!(d.path(&["instanceState"])[0].text_of("name"), "running");
    assert!(d.text_of("ipAddress").starts_with("54.") && d.text_of("ipAddress") != public);

    // Remove: terminate, then delete the key pair the instance names.
    let r = ok(&emu, "TerminateInstances", &[("InstanceId.1", &id)]).await;
    assert_eq!(
        r.path(&["instancesSet", "item", "currentState"])[0].text_of("name"),
        "shutting-down"
    );
    let d = instance(&emu, &id).await;
    assert_eq!(d.path(&["instanceState"])[0].text_of("name"), "terminated");
    let named = d.text_of("keyName");
    assert_eq!(named, key_name);
    let r = ok(&emu, "DeleteKeyPair", &[("KeyName", &named)]).await;
    assert_eq!(r.text_of("return"), "true");
    assert!(key_names(&emu).await.is_empty());
    // A second Remove (the driver retries on errors) succeeds too.
    ok(&emu, "TerminateInstances", &[("InstanceId.1", &id)]).await;
    ok(&emu, "DeleteKeyPair", &[("KeyName", &named)]).await;
}

/// The driver's Spot path (`--amazonec2-request-spot-instance`, with `--amazonec2-tags`):
/// RunInstances with `InstanceMarketOptions`, the SDK's `SpotInstanceRequestFulfilled` waiter
/// (DescribeSpotInstanceRequests until `fulfilled`), the request's instance, tags put on the
/// instance, its volumes and its network interface once running, and on Remove
/// TerminateInstances then CancelSpotInstanceRequests. The on-demand path's tag specifications
/// (instance, volume, network-interface) are accepted too.
#[tokio::test]
async fn the_amazonec2_drivers_spot_sequence_and_tags() {
    let emu = start().await;
    ok(
        &emu,
        "ImportKeyPair",
        &[
            ("KeyName", "spot-node-abcde"),
            ("PublicKeyMaterial", &b64(RSA_PUB)),
        ],
    )
    .await;
    let r = ok(
        &emu,
        "RunInstances",
        &[
            ("ImageId", "ami-0123456789abcdef0"),
            ("InstanceMarketOptions.MarketType", "spot"),
            ("InstanceMarketOptions.SpotOptions.MaxPrice", ""),
            (
                "InstanceMarketOptions.SpotOptions.SpotInstanceType",
                "one-time",
            ),
            ("KeyName", "spot-node-abcde"),
            ("MaxCount", "1"),
            ("MinCount", "1"),
            ("NetworkInterface.1.AssociatePublicIpAddress", "true"),
            ("NetworkInterface.1.DeviceIndex", "0"),
            ("NetworkInterface.1.Ipv6AddressCount", "0"),
            ("NetworkInterface.1.PrimaryIpv6", "false"),
            ("Placement.AvailabilityZone", "us-east-1b"),
            ("IamInstanceProfile.Name", ""),
            ("UserData", ""),
        ],
    )
    .await;
    let launched = r.path(&["instancesSet", "item"])[0].clone();
    let sir = launched.text_of("spotInstanceRequestId");
    assert!(sir.starts_with("sir-") && sir.len() == 12, "{sir}");
    assert_eq!(launched.text_of("instanceLifecycle"), "spot");

    // The waiter, then the instance id.
    let r = ok(
        &emu,
        "DescribeSpotInstanceRequests",
        &[("SpotInstanceRequestId.1", &sir)],
    )
    .await;
    let s = r.path(&["spotInstanceRequestSet", "item"])[0].clone();
    assert_eq!(s.path(&["status"])[0].text_of("code"), "fulfilled");
    assert_eq!(s.text_of("state"), "active");
    let id = s.text_of("instanceId");
    assert_eq!(id, launched.text_of("instanceId"));
    let d = instance(&emu, &id).await;
    assert_eq!(d.path(&["instanceState"])[0].text_of("name"), "running");
    assert!(!d.text_of("ipAddress").is_empty());

    // configureTags: the instance, its volumes and its network interface.
    let vol = d.path(&["blockDeviceMapping", "item", "ebs"])[0].text_of("volumeId");
    let eni = d.path(&["networkInterfaceSet", "item"])[0].text_of("networkInterfaceId");
    ok(
        &emu,
        "CreateTags",
        &[
            ("ResourceId.1", &id),
            ("ResourceId.2", &vol),
            ("ResourceId.3", &eni),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
            ("Tag.2.Key", "Name"),
            ("Tag.2.Value", "spot-node"),
        ],
    )
    .await;
    let r = ok(
        &emu,
        "DescribeTags",
        &[("Filter.1.Name", "key"), ("Filter.1.Value.1", "env")],
    )
    .await;
    let mut tagged: Vec<String> = r
        .path(&["tagSet", "item"])
        .iter()
        .map(|t| t.text_of("resourceType"))
        .collect();
    tagged.sort();
    assert_eq!(tagged, ["instance", "network-interface", "volume"]);
    // Stop is Kill/Stop's call: a one-time Spot instance cannot stop.
    fails(
        &emu,
        "test",
        "StopInstances",
        &[("Force", "true"), ("InstanceId.1", &id)],
        "UnsupportedOperation",
    )
    .await;

    // Remove: terminate, then cancel the request (already closed by then).
    ok(&emu, "TerminateInstances", &[("InstanceId.1", &id)]).await;
    instance(&emu, &id).await; // terminated
    let r = ok(
        &emu,
        "CancelSpotInstanceRequests",
        &[("SpotInstanceRequestId.1", &sir)],
    )
    .await;
    assert_eq!(
        r.path(&["spotInstanceRequestSet", "item"])[0].text_of("state"),
        "closed"
    );
    let r = ok(
        &emu,
        "DescribeSpotInstanceRequests",
        &[("SpotInstanceRequestId.1", &sir)],
    )
    .await;
    let s = r.path(&["spotInstanceRequestSet", "item"])[0].clone();
    assert_eq!(
        (s.text_of("state"), s.path(&["status"])[0].text_of("code")),
        (
            "closed".to_string(),
            "instance-terminated-by-user".to_string()
        )
    );
    fails(
        &emu,
        "test",
        "DescribeSpotInstanceRequests",
        &[("SpotInstanceRequestId.1", "sir-00000000")],
        "InvalidSpotInstanceRequestID.NotFound",
    )
    .await;
    fails(
        &emu,
        "test",
        "RunInstances",
        &[
            ("ImageId", "ami-0123456789abcdef0"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("InstanceMarketOptions.MarketType", "spot"),
            ("InstanceMarketOptions.SpotOptions.MaxPrice", "cheap"),
        ],
        "InvalidParameterValue",
    )
    .await;

    // On demand with --amazonec2-tags: tag specifications for the instance, its volume and its
    // network interface.
    let mut spec = Vec::new();
    for (n, kind) in ["instance", "volume", "network-interface"]
        .iter()
        .enumerate()
    {
        spec.push((
            format!("TagSpecification.{}.ResourceType", n + 1),
            kind.to_string(),
        ));
        spec.push((
            format!("TagSpecification.{}.Tag.1.Key", n + 1),
            "env".to_string(),
        ));
        spec.push((
            format!("TagSpecification.{}.Tag.1.Value", n + 1),
            "dev".to_string(),
        ));
    }
    let mut params: Vec<(&str, &str)> = vec![
        ("ImageId", "ami-0123456789abcdef0"),
        ("MinCount", "1"),
        ("MaxCount", "1"),
    ];
    params.extend(spec.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = ok(&emu, "RunInstances", &params).await;
    let id = r.path(&["instancesSet", "item"])[0].text_of("instanceId");
    let d = instance(&emu, &id).await;
    let eni = d.path(&["networkInterfaceSet", "item"])[0].text_of("networkInterfaceId");
    let r = ok(
        &emu,
        "DescribeTags",
        &[("Filter.1.Name", "resource-id"), ("Filter.1.Value.1", &eni)],
    )
    .await;
    assert_eq!(r.path(&["tagSet", "item"])[0].text_of("value"), "dev");
}
