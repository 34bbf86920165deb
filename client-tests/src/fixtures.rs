//! EC2 set-up steps many tests share: a VPC, a subnet, a security group, the default VPC and its
//! subnet in a zone, an instance waited into `running`. Each panics with the call's error, as a
//! test set-up step should.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{Filter, Placement};
use aws_sdk_ec2::Client;

/// An image every region of the emulator knows.
pub const AMI: &str = "ami-0123456789abcdef0";

/// An EC2 filter with one value.
pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

pub async fn create_vpc(c: &Client, cidr: &str) -> String {
    c.create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .expect("create vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string()
}

pub async fn create_subnet(c: &Client, vpc: &str, cidr: &str, zone: &str) -> String {
    c.create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(zone)
        .send()
        .await
        .expect("create subnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string()
}

pub async fn create_group(c: &Client, vpc: &str, name: &str) -> String {
    c.create_security_group()
        .group_name(name)
        .description("test group")
        .vpc_id(vpc)
        .send()
        .await
        .expect("create group")
        .group_id()
        .expect("group id")
        .to_string()
}

/// The id of the default VPC.
pub async fn default_vpc(c: &Client) -> String {
    let out = c
        .describe_vpcs()
        .filters(filter("is-default", "true"))
        .send()
        .await
        .expect("describe vpcs");
    out.vpcs()[0].vpc_id().expect("vpc id").to_string()
}

/// The default subnet of `zone`.
pub async fn default_subnet(c: &Client, zone: &str) -> String {
    let out = c
        .describe_subnets()
        .filters(filter("availability-zone", zone))
        .filters(filter("default-for-az", "true"))
        .send()
        .await
        .expect("describe subnets");
    out.subnets()[0].subnet_id().expect("subnet id").to_string()
}

/// One instance of [`AMI`] in `zone`, waited into `running`.
pub async fn run_instance(c: &Client, zone: &str) -> String {
    let out = c
        .run_instances()
        .image_id(AMI)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone(zone).build())
        .send()
        .await
        .expect("run instance");
    let id = out.instances()[0]
        .instance_id()
        .expect("instance id")
        .to_string();
    c.wait_until_instance_running()
        .instance_ids(&id)
        .wait(Duration::from_secs(600))
        .await
        .expect("running");
    id
}

/// The ids of every volume DescribeVolumes lists.
pub async fn volume_ids(c: &Client) -> Vec<String> {
    c.describe_volumes()
        .send()
        .await
        .expect("describe volumes")
        .volumes()
        .iter()
        .filter_map(|v| v.volume_id().map(str::to_string))
        .collect()
}
