//! The EC2 network family through aws-sdk-ec2: the account shape, VPCs and subnets, internet
//! gateways, route tables and routes, security groups and their rules, with AWS's errors.

use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, RouteState, Tag,
    TagSpecification, UserIdGroupPair,
};
use aws_sdk_ec2::Client;
use client_tests::fixtures::{create_group, create_subnet, create_vpc, default_vpc, filter, AMI};
use client_tests::{ec2, ec2_with, expect_err, start, ClientOptions};

fn tags(rtype: ResourceType, key: &str, value: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(rtype)
        .tags(Tag::builder().key(key).value(value).build())
        .build()
}

fn tcp(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

fn from_group(port: i32, group: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        .build()
}

async fn run_in(c: &Client, subnet: &str, groups: &[&str]) -> String {
    let mut req = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet);
    for g in groups {
        req = req.security_group_ids(*g);
    }
    let out = req.send().await.expect("run instances");
    out.instances()[0].instance_id().unwrap().to_string()
}

async fn terminate(c: &Client, id: &str) {
    c.terminate_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap();
    // Instant timing: the next observation sees it terminated.
    c.describe_instances()
        .instance_ids(id)
        .send()
        .await
        .unwrap();
}

async fn check_account_shape(c: &Client, zones: usize) -> String {
    let vpcs = c.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let vpc = &vpcs.vpcs()[0];
    let vpc_id = vpc.vpc_id().unwrap().to_string();
    assert_eq!(vpc.cidr_block(), Some("172.31.0.0/16"));
    assert_eq!(vpc.is_default(), Some(true));
    assert_eq!(vpc.owner_id(), Some("123456789012"));
    assert_eq!(
        vpc.cidr_block_association_set()[0].cidr_block(),
        Some("172.31.0.0/16")
    );

    let subnets = c
        .describe_subnets()
        .filters(filter("vpc-id", &vpc_id))
        .filters(filter("default-for-az", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), zones);
    let mut seen_zones: Vec<&str> = Vec::new();
    for s in subnets.subnets() {
        assert!(s.cidr_block().unwrap().ends_with("/20"), "{s:?}");
        assert_eq!(s.available_ip_address_count(), Some(4096 - 5));
        assert_eq!(s.map_public_ip_on_launch(), Some(true));
        assert!(s.availability_zone_id().is_some());
        seen_zones.push(s.availability_zone().unwrap());
    }
    seen_zones.sort();
    seen_zones.dedup();
    assert_eq!(seen_zones.len(), zones, "one default subnet per zone");

    let igws = c
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let igw = igws.internet_gateways()[0]
        .internet_gateway_id()
        .unwrap()
        .to_string();

    let tables = c
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc_id))
        .filters(filter("association.main", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(tables.route_tables().len(), 1);
    let main = &tables.route_tables()[0];
    assert!(main.associations()[0].main().unwrap());
    let routes: Vec<(Option<&str>, Option<&str>, Option<&RouteState>)> = main
        .routes()
        .iter()
        .map(|r| (r.destination_cidr_block(), r.gateway_id(), r.state()))
        .collect();
    assert_eq!(
        routes,
        vec![
            (
                Some("172.31.0.0/16"),
                Some("local"),
                Some(&RouteState::Active)
            ),
            (
                Some("0.0.0.0/0"),
                Some(igw.as_str()),
                Some(&RouteState::Active)
            ),
        ]
    );

    let groups = c
        .describe_security_groups()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 1);
    let g = &groups.security_groups()[0];
    assert_eq!(g.group_name(), Some("default"));
    let ingress = &g.ip_permissions()[0];
    assert_eq!(ingress.ip_protocol(), Some("-1"));
    assert_eq!(
        ingress.user_id_group_pairs()[0].group_id(),
        g.group_id(),
        "the default group admits itself"
    );
    let egress = &g.ip_permissions_egress()[0];
    assert_eq!(egress.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
    vpc_id
}

#[tokio::test]
async fn every_region_starts_with_the_default_vpc_shape() {
    let emu = start().await;
    let east = ec2(&emu, "admin");
    let east_vpc = check_account_shape(&east, 6).await;
    let west = ec2_with(
        &emu,
        &ClientOptions::principal(&emu, "admin").region("eu-west-1"),
    );
    let west_vpc = check_account_shape(&west, 3).await;
    assert_ne!(east_vpc, west_vpc);

    // Resources live in their region: another region's id is not found.
    let (code, msg, status) = expect_err!(west.describe_vpcs().vpc_ids(&east_vpc).send().await);
    assert_eq!((code.as_str(), status), ("InvalidVpcID.NotFound", 400));
    assert_eq!(msg, format!("The vpc ID '{east_vpc}' does not exist"));
    let east_group = east
        .describe_security_groups()
        .group_names("default")
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    let (code, msg, _) = expect_err!(
        west.describe_security_groups()
            .group_ids(&east_group)
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.NotFound");
    assert_eq!(
        msg,
        format!("The security group '{east_group}' does not exist")
    );
}

#[tokio::test]
async fn vpc_lifecycle_with_its_dependencies() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let out = c
        .create_vpc()
        .cidr_block("10.0.7.0/16")
        .tag_specifications(tags(ResourceType::Vpc, "Name", "blue"))
        .send()
        .await
        .unwrap();
    let vpc = out.vpc().unwrap();
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"), "canonical form");
    assert_eq!(vpc.is_default(), Some(false));
    assert_eq!(vpc.tags()[0].value(), Some("blue"));
    let vpc_id = vpc.vpc_id().unwrap().to_string();
    let tagged = c
        .describe_vpcs()
        .filters(filter("tag:Name", "blue"))
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.vpcs().len(), 1);

    // Born with a main route table (local route only) and a default group.
    let tables = c
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert_eq!(tables.route_tables().len(), 1);
    assert_eq!(tables.route_tables()[0].routes().len(), 1);
    assert_eq!(
        tables.route_tables()[0].routes()[0].destination_cidr_block(),
        Some("10.0.0.0/16")
    );
    let groups = c
        .describe_security_groups()
        .filters(filter("vpc-id", &vpc_id))
        .filters(filter("group-name", "default"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 1);

    let dependency = |r: Result<_, _>| {
        let (code, msg, _) = expect_err!(r);
        assert_eq!(code, "DependencyViolation");
        assert_eq!(
            msg,
            format!("The vpc '{vpc_id}' has dependencies and cannot be deleted.")
        );
    };

    let subnet = create_subnet(&c, &vpc_id, "10.0.1.0/24", "us-east-1a").await;
    dependency(c.delete_vpc().vpc_id(&vpc_id).send().await.map(|_| ()));
    c.delete_subnet().subnet_id(&subnet).send().await.unwrap();

    let igw = c
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    c.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    dependency(c.delete_vpc().vpc_id(&vpc_id).send().await.map(|_| ()));
    c.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();

    let sg = create_group(&c, &vpc_id, "web").await;
    dependency(c.delete_vpc().vpc_id(&vpc_id).send().await.map(|_| ()));
    c.delete_security_group()
        .group_id(&sg)
        .send()
        .await
        .unwrap();

    let rtb = c
        .create_route_table()
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    dependency(c.delete_vpc().vpc_id(&vpc_id).send().await.map(|_| ()));
    c.delete_route_table()
        .route_table_id(&rtb)
        .send()
        .await
        .unwrap();

    c.delete_vpc().vpc_id(&vpc_id).send().await.unwrap();
    let left = c
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert!(left.route_tables().is_empty(), "main table goes with it");
    let left = c
        .describe_security_groups()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    assert!(
        left.security_groups().is_empty(),
        "default group goes with it"
    );
    let (code, _, _) = expect_err!(c.delete_vpc().vpc_id(&vpc_id).send().await);
    assert_eq!(code, "InvalidVpcID.NotFound");
}

#[tokio::test]
async fn create_vpc_refuses_bad_blocks_and_the_sixth_vpc() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let (code, msg, _) = expect_err!(c.create_vpc().cidr_block("10.0.0.0/8").send().await);
    assert_eq!(code, "InvalidVpc.Range");
    assert_eq!(msg, "The CIDR '10.0.0.0/8' is invalid.");
    let (code, msg, _) = expect_err!(c.create_vpc().cidr_block("10.0.0/16").send().await);
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.contains("10.0.0/16"), "{msg}");
    let (code, _, _) = expect_err!(c.describe_vpcs().vpc_ids("vpc-zz").send().await);
    assert_eq!(code, "InvalidVpcID.Malformed");
    let (code, _, _) = expect_err!(c.describe_vpcs().filters(filter("bogus", "x")).send().await);
    assert_eq!(code, "InvalidParameterValue");
    for i in 0..4 {
        create_vpc(&c, &format!("10.{i}.0.0/16")).await;
    }
    let (code, _, _) = expect_err!(c.create_vpc().cidr_block("10.9.0.0/16").send().await);
    assert_eq!(code, "VpcLimitExceeded");
    let page = c.describe_vpcs().max_results(5).send().await.unwrap();
    assert_eq!(page.vpcs().len(), 5);
    assert!(page.next_token().is_none());
}

#[tokio::test]
async fn subnets_ranges_conflicts_zones_filters_and_addresses() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = create_vpc(&c, "10.1.0.0/16").await;
    let out = c
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.1.0.0/24")
        .availability_zone("us-east-1b")
        .tag_specifications(tags(ResourceType::Subnet, "kubernetes.io/role/elb", "1"))
        .send()
        .await
        .unwrap();
    let s = out.subnet().unwrap();
    let subnet = s.subnet_id().unwrap().to_string();
    assert_eq!(s.available_ip_address_count(), Some(251));
    assert_eq!(s.availability_zone_id(), Some("use1-az2"));
    assert_eq!(s.default_for_az(), Some(false));
    assert_eq!(s.tags().len(), 1);

    let (code, msg, _) = expect_err!(
        c.create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.2.0.0/24")
            .availability_zone("us-east-1a")
            .send()
            .await
    );
    assert_eq!(code, "InvalidSubnet.Range");
    assert_eq!(msg, "The CIDR '10.2.0.0/24' is invalid.");
    let (code, _, _) = expect_err!(
        c.create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.1.5.0/29")
            .availability_zone("us-east-1a")
            .send()
            .await
    );
    assert_eq!(code, "InvalidSubnet.Range", "/29 is too small");
    let (code, msg, _) = expect_err!(
        c.create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.1.0.128/25")
            .availability_zone("us-east-1a")
            .send()
            .await
    );
    assert_eq!(code, "InvalidSubnet.Conflict");
    assert_eq!(
        msg,
        "The CIDR '10.1.0.128/25' conflicts with another subnet"
    );
    let (code, msg, _) = expect_err!(
        c.create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.1.9.0/24")
            .availability_zone("us-east-1z")
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(
        msg.starts_with("Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: us-east-1a, "),
        "{msg}"
    );
    let (code, _, _) = expect_err!(
        c.create_subnet()
            .vpc_id("vpc-0000000000000dead")
            .cidr_block("10.1.9.0/24")
            .send()
            .await
    );
    assert_eq!(code, "InvalidVpcID.NotFound");

    let other = create_subnet(&c, &vpc, "10.1.1.0/24", "us-east-1c").await;
    for (name, value, expect) in [
        ("subnet-id", subnet.as_str(), vec![subnet.as_str()]),
        ("availability-zone", "us-east-1c", vec![other.as_str()]),
        ("cidr-block", "10.1.0.0/24", vec![subnet.as_str()]),
        ("tag:kubernetes.io/role/elb", "1", vec![subnet.as_str()]),
        ("tag-key", "kubernetes.io/role/*", vec![subnet.as_str()]),
        ("state", "available", vec![subnet.as_str(), other.as_str()]),
        (
            "default-for-az",
            "false",
            vec![subnet.as_str(), other.as_str()],
        ),
    ] {
        let out = c
            .describe_subnets()
            .filters(filter("vpc-id", &vpc))
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        let mut got: Vec<&str> = out.subnets().iter().filter_map(|s| s.subnet_id()).collect();
        let mut expect = expect.clone();
        got.sort();
        expect.sort();
        assert_eq!(got, expect, "{name}={value}");
    }
    let (code, msg, _) = expect_err!(
        c.describe_subnets()
            .subnet_ids("subnet-0000000000000beef")
            .send()
            .await
    );
    assert_eq!(code, "InvalidSubnetID.NotFound");
    assert_eq!(
        msg,
        "The subnet ID 'subnet-0000000000000beef' does not exist"
    );

    // An instance uses an address and holds the subnet until it terminates.
    let instance = run_in(&c, &subnet, &[]).await;
    let count = c
        .describe_subnets()
        .subnet_ids(&subnet)
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .available_ip_address_count();
    assert_eq!(count, Some(250));
    let (code, msg, _) = expect_err!(c.delete_subnet().subnet_id(&subnet).send().await);
    assert_eq!(code, "DependencyViolation");
    assert_eq!(
        msg,
        format!("The subnet '{subnet}' has dependencies and cannot be deleted.")
    );
    terminate(&c, &instance).await;
    c.delete_subnet().subnet_id(&subnet).send().await.unwrap();
    let (code, _, _) = expect_err!(c.delete_subnet().subnet_id("subnet-x").send().await);
    assert_eq!(code, "InvalidSubnetID.Malformed");
}

#[tokio::test]
async fn internet_gateways_attach_once_and_filter() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = create_vpc(&c, "10.3.0.0/16").await;
    let out = c
        .create_internet_gateway()
        .tag_specifications(tags(ResourceType::InternetGateway, "team", "net"))
        .send()
        .await
        .unwrap();
    let g = out.internet_gateway().unwrap();
    assert!(g.attachments().is_empty());
    assert_eq!(g.tags()[0].key(), Some("team"));
    let igw = g.internet_gateway_id().unwrap().to_string();
    c.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();

    // One VPC per gateway, one gateway per VPC.
    let other_vpc = create_vpc(&c, "10.4.0.0/16").await;
    let (code, msg, _) = expect_err!(
        c.attach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(&other_vpc)
            .send()
            .await
    );
    assert_eq!(code, "Resource.AlreadyAssociated");
    assert!(msg.contains(&igw) && msg.contains(&vpc), "{msg}");
    let second = c
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    let (code, _, _) = expect_err!(
        c.attach_internet_gateway()
            .internet_gateway_id(&second)
            .vpc_id(&vpc)
            .send()
            .await
    );
    assert_eq!(code, "Resource.AlreadyAssociated");

    for (name, value) in [
        ("attachment.vpc-id", vpc.as_str()),
        ("internet-gateway-id", igw.as_str()),
        ("tag:team", "net"),
    ] {
        let out = c
            .describe_internet_gateways()
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        let ids: Vec<&str> = out
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id())
            .collect();
        assert_eq!(ids, vec![igw.as_str()], "{name}");
    }
    let described = c
        .describe_internet_gateways()
        .internet_gateway_ids(&igw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(vpc.as_str())
    );
    let (code, msg, _) = expect_err!(
        c.describe_internet_gateways()
            .internet_gateway_ids("igw-0000000000000abcd")
            .send()
            .await
    );
    assert_eq!(code, "InvalidInternetGatewayID.NotFound");
    assert_eq!(
        msg,
        "The internetGateway ID 'igw-0000000000000abcd' does not exist"
    );
    let (code, _, _) = expect_err!(
        c.delete_internet_gateway()
            .internet_gateway_id(&igw)
            .send()
            .await
    );
    assert_eq!(code, "DependencyViolation");
    let (code, _, _) = expect_err!(
        c.detach_internet_gateway()
            .internet_gateway_id(&second)
            .vpc_id(&vpc)
            .send()
            .await
    );
    assert_eq!(code, "Gateway.NotAttached");
    c.delete_internet_gateway()
        .internet_gateway_id(&second)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn route_tables_associations_and_routes() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = create_vpc(&c, "10.5.0.0/16").await;
    let subnet = create_subnet(&c, &vpc, "10.5.1.0/24", "us-east-1a").await;
    let out = c
        .create_route_table()
        .vpc_id(&vpc)
        .tag_specifications(tags(
            ResourceType::RouteTable,
            "kubernetes.io/cluster/c1",
            "owned",
        ))
        .send()
        .await
        .unwrap();
    let t = out.route_table().unwrap();
    let rtb = t.route_table_id().unwrap().to_string();
    assert!(t.associations().is_empty());
    assert_eq!(t.routes()[0].gateway_id(), Some("local"));

    let assoc = c
        .associate_route_table()
        .route_table_id(&rtb)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    let assoc_id = assoc.association_id().unwrap().to_string();
    assert!(assoc_id.starts_with("rtbassoc-"));
    let (code, _, _) = expect_err!(
        c.associate_route_table()
            .route_table_id(&rtb)
            .subnet_id(&subnet)
            .send()
            .await
    );
    assert_eq!(
        code, "Resource.AlreadyAssociated",
        "a subnet has one association"
    );

    for (name, value) in [
        ("association.subnet-id", subnet.as_str()),
        ("association.main", "false"),
        ("route-table-id", rtb.as_str()),
        ("tag:kubernetes.io/cluster/c1", "owned"),
    ] {
        let out = c
            .describe_route_tables()
            .filters(filter("vpc-id", &vpc))
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        let ids: Vec<&str> = out
            .route_tables()
            .iter()
            .filter_map(|t| t.route_table_id())
            .collect();
        assert_eq!(ids, vec![rtb.as_str()], "{name}={value}");
    }
    let (code, _, _) = expect_err!(c.describe_route_tables().max_results(101).send().await);
    assert_eq!(
        code, "InvalidParameterValue",
        "DescribeRouteTables pages by 100 at most"
    );
    let described = c
        .describe_route_tables()
        .route_table_ids(&rtb)
        .send()
        .await
        .unwrap();
    let a = &described.route_tables()[0].associations()[0];
    assert_eq!(a.subnet_id(), Some(subnet.as_str()));
    assert_eq!(a.main(), Some(false));

    // Routes to a gateway: it must be attached to the table's VPC.
    let igw = c
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    let (code, _, _) = expect_err!(
        c.create_route()
            .route_table_id(&rtb)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&igw)
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    c.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    c.create_route()
        .route_table_id(&rtb)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.create_route()
            .route_table_id(&rtb)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&igw)
            .send()
            .await
    );
    assert_eq!(code, "RouteAlreadyExists");
    assert_eq!(msg, "The route identified by 0.0.0.0/0 already exists.");
    let (code, _, _) = expect_err!(
        c.create_route()
            .route_table_id(&rtb)
            .destination_cidr_block("192.168.0.0/16")
            .gateway_id("igw-0000000000000abcd")
            .send()
            .await
    );
    assert_eq!(code, "InvalidInternetGatewayID.NotFound");
    let (code, _, _) = expect_err!(
        c.create_route()
            .route_table_id(&rtb)
            .destination_cidr_block("192.168.0.0/16")
            .instance_id("i-0000000000000abcd")
            .send()
            .await
    );
    assert_eq!(code, "InvalidInstanceID.NotFound");
    let (code, _, _) = expect_err!(
        c.create_route()
            .route_table_id("rtb-0000000000000abcd")
            .destination_cidr_block("192.168.0.0/16")
            .gateway_id(&igw)
            .send()
            .await
    );
    assert_eq!(code, "InvalidRouteTableID.NotFound");

    // Routes to an instance (the cloud provider's pod CIDR routes) and to its interface.
    let instance = run_in(&c, &subnet, &[]).await;
    c.create_route()
        .route_table_id(&rtb)
        .destination_cidr_block("100.64.1.0/24")
        .instance_id(&instance)
        .send()
        .await
        .unwrap();
    let eni = c
        .describe_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .network_interfaces()
        .first()
        .and_then(|n| n.network_interface_id())
        .map(str::to_string)
        .expect("the instance has a network interface");
    c.create_route()
        .route_table_id(&rtb)
        .destination_cidr_block("100.64.2.0/24")
        .network_interface_id(&eni)
        .send()
        .await
        .unwrap();
    let route_state =
        |out: &aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput,
         dest: &str| {
            out.route_tables()[0]
                .routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some(dest))
                .and_then(|r| r.state().cloned())
        };
    let out = c
        .describe_route_tables()
        .route_table_ids(&rtb)
        .send()
        .await
        .unwrap();
    assert_eq!(route_state(&out, "100.64.1.0/24"), Some(RouteState::Active));
    let by_instance = c
        .describe_route_tables()
        .filters(filter("route.instance-id", &instance))
        .send()
        .await
        .unwrap();
    assert_eq!(by_instance.route_tables().len(), 1);
    terminate(&c, &instance).await;
    let out = c
        .describe_route_tables()
        .route_table_ids(&rtb)
        .send()
        .await
        .unwrap();
    assert_eq!(
        route_state(&out, "100.64.1.0/24"),
        Some(RouteState::Blackhole)
    );
    assert_eq!(
        route_state(&out, "100.64.2.0/24"),
        Some(RouteState::Blackhole)
    );

    // Replace and delete.
    c.replace_route()
        .route_table_id(&rtb)
        .destination_cidr_block("100.64.1.0/24")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    let out = c
        .describe_route_tables()
        .route_table_ids(&rtb)
        .send()
        .await
        .unwrap();
    assert_eq!(route_state(&out, "100.64.1.0/24"), Some(RouteState::Active));
    c.delete_route()
        .route_table_id(&rtb)
        .destination_cidr_block("100.64.1.0/24")
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.delete_route()
            .route_table_id(&rtb)
            .destination_cidr_block("100.64.1.0/24")
            .send()
            .await
    );
    assert_eq!(code, "InvalidRoute.NotFound");
    assert!(msg.contains("100.64.1.0/24") && msg.contains(&rtb), "{msg}");
    let (code, _, _) = expect_err!(
        c.delete_route()
            .route_table_id(&rtb)
            .destination_cidr_block("10.5.0.0/16")
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue", "the local route stays");

    // A detached gateway turns its routes into blackholes.
    c.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let out = c
        .describe_route_tables()
        .route_table_ids(&rtb)
        .filters(filter("route.state", "blackhole"))
        .send()
        .await
        .unwrap();
    assert_eq!(route_state(&out, "0.0.0.0/0"), Some(RouteState::Blackhole));

    let (code, _, _) = expect_err!(c.delete_route_table().route_table_id(&rtb).send().await);
    assert_eq!(code, "DependencyViolation");
    c.disassociate_route_table()
        .association_id(&assoc_id)
        .send()
        .await
        .unwrap();
    c.delete_route_table()
        .route_table_id(&rtb)
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(c.describe_route_tables().route_table_ids(&rtb).send().await);
    assert_eq!(code, "InvalidRouteTableID.NotFound");
    assert_eq!(msg, format!("The routeTable ID '{rtb}' does not exist"));
}

#[tokio::test]
async fn security_group_rules_authorize_describe_and_revoke() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = default_vpc(&c).await;
    let out = c
        .create_security_group()
        .group_name("k8s-elb")
        .description("load balancer")
        .tag_specifications(tags(
            ResourceType::SecurityGroup,
            "kubernetes.io/cluster/c1",
            "owned",
        ))
        .send()
        .await
        .unwrap();
    let elb = out.group_id().unwrap().to_string();
    assert_eq!(out.tags().len(), 1);
    let nodes = create_group(&c, &vpc, "k8s-nodes").await;

    let described = c
        .describe_security_groups()
        .group_ids(&elb)
        .send()
        .await
        .unwrap();
    let g = &described.security_groups()[0];
    assert_eq!(
        g.vpc_id(),
        Some(vpc.as_str()),
        "the default VPC when none is given"
    );
    assert!(g.ip_permissions().is_empty());
    assert_eq!(
        g.ip_permissions_egress()[0].ip_ranges()[0].cidr_ip(),
        Some("0.0.0.0/0"),
        "new groups may send anywhere"
    );

    let out = c
        .authorize_security_group_ingress()
        .group_id(&elb)
        .ip_permissions(tcp(443, "0.0.0.0/0"))
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("10.0.0.9/8")
                        .description("inside")
                        .build(),
                )
                .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                .prefix_list_ids(
                    PrefixListId::builder()
                        .prefix_list_id("pl-12345678")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.r#return(), Some(true));
    assert_eq!(out.security_group_rules().len(), 4);
    assert!(out.security_group_rules()[0]
        .security_group_rule_id()
        .unwrap()
        .starts_with("sgr-"));
    c.authorize_security_group_ingress()
        .group_id(&nodes)
        .ip_permissions(from_group(30080, &elb))
        .send()
        .await
        .unwrap();
    // The older flat form, and a source group by name.
    c.authorize_security_group_ingress()
        .group_name("k8s-nodes")
        .ip_protocol("udp")
        .from_port(53)
        .to_port(53)
        .cidr_ip("172.31.0.0/16")
        .send()
        .await
        .unwrap();
    c.authorize_security_group_ingress()
        .group_id(&nodes)
        .source_security_group_name("k8s-nodes")
        .send()
        .await
        .unwrap();

    let (code, msg, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(tcp(443, "0.0.0.0/0"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidPermission.Duplicate");
    assert!(msg.contains("0.0.0.0/0") && msg.contains("443"), "{msg}");
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(tcp(443, "10.0.0.0/8"))
            .ip_permissions(tcp(443, "10.0.0.0/8"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidPermission.Duplicate", "twice in one request");
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("bogus")
                    .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(90)
                    .to_port(80)
                    .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue", "from port above to port");
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(tcp(8080, "10.0.0.0/33"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, msg, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(8080)
                    .to_port(8080)
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip("10.0.0.0/8")
                            .description("<b>")
                            .build()
                    )
                    .build()
            )
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(msg.starts_with("Invalid rule description."), "{msg}");
    // A refused request added nothing.
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(tcp(8443, "10.0.0.0/8"))
            .ip_permissions(tcp(443, "0.0.0.0/0"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidPermission.Duplicate");

    let described = c
        .describe_security_groups()
        .group_ids(&elb)
        .send()
        .await
        .unwrap();
    let perms = described.security_groups()[0].ip_permissions();
    assert_eq!(perms.len(), 2, "{perms:?}");
    let http = perms.iter().find(|p| p.from_port() == Some(80)).unwrap();
    assert_eq!(
        http.ip_ranges()[0].cidr_ip(),
        Some("10.0.0.0/8"),
        "canonical CIDR"
    );
    assert_eq!(http.ip_ranges()[0].description(), Some("inside"));
    assert_eq!(http.ipv6_ranges()[0].cidr_ipv6(), Some("::/0"));
    assert_eq!(
        http.prefix_list_ids()[0].prefix_list_id(),
        Some("pl-12345678")
    );

    // Filters over rules.
    let ids =
        |out: aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput| {
            let mut v: Vec<String> = out
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect();
            v.sort();
            v
        };
    let referencing = c
        .describe_security_groups()
        .filters(filter("ip-permission.group-id", &elb))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(referencing), vec![nodes.clone()]);
    for (name, value, expect) in [
        ("ip-permission.cidr", "10.0.0.0/8", &elb),
        ("ip-permission.from-port", "30080", &nodes),
        ("ip-permission.to-port", "443", &elb),
        ("ip-permission.protocol", "udp", &nodes),
        ("ip-permission.ipv6-cidr", "::/0", &elb),
        ("group-name", "k8s-elb", &elb),
        ("description", "load balancer", &elb),
        ("tag:kubernetes.io/cluster/c1", "owned", &elb),
        ("tag-key", "kubernetes.io/cluster/*", &elb),
    ] {
        let out = c
            .describe_security_groups()
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        assert_eq!(ids(out), vec![expect.clone()], "{name}={value}");
    }
    let egress_all = c
        .describe_security_groups()
        .filters(filter("egress.ip-permission.cidr", "0.0.0.0/0"))
        .filters(filter("vpc-id", &vpc))
        .send()
        .await
        .unwrap();
    assert_eq!(egress_all.security_groups().len(), 3);

    // Egress rules.
    c.revoke_security_group_egress()
        .group_id(&elb)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = c
        .authorize_security_group_egress()
        .group_id(&elb)
        .ip_permissions(from_group(30080, &nodes))
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_group_rules()[0].is_egress(), Some(true));
    let egress = c
        .describe_security_groups()
        .filters(filter("egress.ip-permission.group-id", &nodes))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(egress), vec![elb.clone()]);

    // Revoke.
    c.revoke_security_group_ingress()
        .group_id(&elb)
        .ip_permissions(tcp(443, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(
        c.revoke_security_group_ingress()
            .group_id(&elb)
            .ip_permissions(tcp(443, "0.0.0.0/0"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidPermission.NotFound");
    assert_eq!(
        msg,
        "The specified rule does not exist in this security group."
    );

    // Revoke by rule id, as AuthorizeSecurityGroupIngress returned it.
    let out = c
        .authorize_security_group_ingress()
        .group_id(&elb)
        .ip_permissions(tcp(9000, "192.168.0.0/16"))
        .send()
        .await
        .unwrap();
    let rule = out.security_group_rules()[0]
        .security_group_rule_id()
        .unwrap()
        .to_string();
    c.revoke_security_group_ingress()
        .group_id(&elb)
        .security_group_rule_ids(&rule)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(
        c.revoke_security_group_ingress()
            .group_id(&elb)
            .security_group_rule_ids(&rule)
            .send()
            .await
    );
    assert_eq!(code, "InvalidSecurityGroupRuleId.NotFound");

    // AWS's quota of 60 rules per direction.
    let many = (1..=60).fold(
        c.authorize_security_group_ingress().group_id(&nodes),
        |req, i| req.ip_permissions(tcp(10000 + i, "10.0.0.0/8")),
    );
    let (code, _, _) = expect_err!(many.send().await);
    assert_eq!(code, "RulesPerSecurityGroupLimitExceeded");
    let (code, _, _) = expect_err!(
        c.authorize_security_group_ingress()
            .group_id("sg-nope")
            .ip_permissions(tcp(443, "0.0.0.0/0"))
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroupId.Malformed");
}

#[tokio::test]
async fn security_group_creation_and_deletion_rules() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = default_vpc(&c).await;
    let a = create_group(&c, &vpc, "a").await;
    let (code, msg, _) = expect_err!(
        c.create_security_group()
            .group_name("a")
            .description("again")
            .vpc_id(&vpc)
            .send()
            .await
    );
    assert_eq!(code, "InvalidGroup.Duplicate");
    assert_eq!(
        msg,
        format!("The security group 'a' already exists for VPC '{vpc}'")
    );
    let (code, _, _) = expect_err!(
        c.create_security_group()
            .group_name("sg-123")
            .description("looks like an id")
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterValue");
    // The same name is fine in another VPC.
    let other_vpc = create_vpc(&c, "10.6.0.0/16").await;
    create_group(&c, &other_vpc, "a").await;

    // The default group cannot be deleted.
    let (code, _, _) = expect_err!(c.delete_security_group().group_name("default").send().await);
    assert_eq!(code, "CannotDelete");

    // A rule of another group holds it.
    let b = create_group(&c, &vpc, "b").await;
    c.authorize_security_group_ingress()
        .group_id(&b)
        .ip_permissions(from_group(22, &a))
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(c.delete_security_group().group_id(&a).send().await);
    assert_eq!(code, "DependencyViolation");
    assert_eq!(msg, format!("resource {a} has a dependent object"));
    c.revoke_security_group_ingress()
        .group_id(&b)
        .ip_permissions(from_group(22, &a))
        .send()
        .await
        .unwrap();

    // So does an instance until it terminates.
    let subnet = c
        .describe_subnets()
        .filters(filter("default-for-az", "true"))
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_string();
    let instance = run_in(&c, &subnet, &[&a]).await;
    let (code, _, _) = expect_err!(c.delete_security_group().group_id(&a).send().await);
    assert_eq!(code, "DependencyViolation");
    terminate(&c, &instance).await;
    let out = c.delete_security_group().group_id(&a).send().await.unwrap();
    assert_eq!(out.group_id(), Some(a.as_str()));

    let (code, msg, _) = expect_err!(c.delete_security_group().group_id(&a).send().await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert_eq!(msg, format!("The security group '{a}' does not exist"));
    let (code, _, _) = expect_err!(c.delete_security_group().group_id("sg-123").send().await);
    assert_eq!(code, "InvalidGroupId.Malformed");
    c.delete_security_group()
        .group_name("b")
        .send()
        .await
        .unwrap();
    let (code, msg, _) = expect_err!(c.describe_security_groups().group_names("b").send().await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(msg.contains("default VPC"), "{msg}");
}

#[tokio::test]
async fn security_groups_page() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = default_vpc(&c).await;
    for i in 0..11 {
        create_group(&c, &vpc, &format!("g{i}")).await;
    }
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let out = c
            .describe_security_groups()
            .max_results(5)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(out.security_groups().len() <= 5);
        seen.extend(
            out.security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((total, seen.len()), (12, 12));
}

#[tokio::test]
async fn concurrent_creates_of_one_name_let_exactly_one_win() {
    let emu = start().await;
    let c = ec2(&emu, "admin");
    let vpc = default_vpc(&c).await;
    let calls = (0..16).map(|_| {
        let c = c.clone();
        let vpc = vpc.clone();
        tokio::spawn(async move {
            c.create_security_group()
                .group_name("race")
                .description("race")
                .vpc_id(vpc)
                .send()
                .await
        })
    });
    let mut won = 0;
    let mut duplicates = 0;
    for handle in calls.collect::<Vec<_>>() {
        match handle.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => {
                let (code, _, _) = client_tests::error_parts(&e);
                assert_eq!(code, "InvalidGroup.Duplicate");
                duplicates += 1;
            }
        }
    }
    assert_eq!((won, duplicates), (1, 15));
    let out = c
        .describe_security_groups()
        .filters(filter("group-name", "race"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_groups().len(), 1);
}
