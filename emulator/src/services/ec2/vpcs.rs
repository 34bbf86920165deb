//! VPCs and subnets: CreateVpc, DescribeVpcs, DeleteVpc, CreateSubnet, DescribeSubnets,
//! DeleteSubnet, and the CIDR arithmetic the network family shares ([`cidr`]).
//!
//! A VPC is born with its main route table and its `default` security group, and dies with them;
//! anything else inside it (subnets, an attached gateway, other groups or route tables) is a
//! dependency that makes DeleteVpc refuse, as AWS does.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::{self, filters, tags};

use super::common;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, InstanceState, Subnet, Vpc};

/// The actions of this family. (A subnet is authorized as `subnet/*` alone, not on its VPC.)
pub const ACTIONS: &[Action] = &[
    Action::new("CreateVpc", create_vpc)
        .on(&[On::Created(&VPC)])
        .tags(TagsIn::Specifications),
    Action::new("DescribeVpcs", describe_vpcs),
    Action::new("DeleteVpc", delete_vpc).on(&[On::Id("VpcId")]),
    Action::new("CreateSubnet", create_subnet)
        .on(&[On::Created(&SUBNET)])
        .tags(TagsIn::Specifications),
    Action::new("DescribeSubnets", describe_subnets),
    Action::new("DeleteSubnet", delete_subnet).on(&[On::Id("SubnetId")]),
];

pub const VPC: Kind = Kind {
    prefix: "vpc",
    arn_type: "vpc",
    not_found: Some(NotFound {
        code: "InvalidVpcID.NotFound",
        message: "The vpc ID '{id}' does not exist",
    }),
    malformed: Some("InvalidVpcID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.vpcs.get(id).map(|v| &v.tags),
        get_mut: |r, id| r.vpcs.get_mut(id).map(|v| &mut v.tags),
    }),
    ..Kind::BASE
};

pub const SUBNET: Kind = Kind {
    prefix: "subnet",
    arn_type: "subnet",
    not_found: Some(NotFound {
        code: "InvalidSubnetID.NotFound",
        message: "The subnet ID '{id}' does not exist",
    }),
    malformed: Some("InvalidSubnetID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.subnets.get(id).map(|s| &s.tags),
        get_mut: |r, id| r.subnets.get_mut(id).map(|s| &mut s.tags),
    }),
    ..Kind::BASE
};

/// AWS's default quota of VPCs per region.
pub const MAX_VPCS: usize = 5;

/// IPv4 and IPv6 CIDR blocks: parsing to canonical form, containment and overlap.
pub mod cidr {
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// An IPv4 block, host bits cleared (AWS canonicalises `10.0.0.7/16` to `10.0.0.0/16`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct V4 {
        pub addr: u32,
        pub len: u8,
    }

    fn prefix_len(s: &str, max: u8) -> Option<u8> {
        if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u8>().ok().filter(|n| *n <= max)
    }

    impl V4 {
        /// `a.b.c.d/n`, strictly (no leading zeros, no missing parts).
        pub fn parse(s: &str) -> Option<V4> {
            let (addr, len) = s.split_once('/')?;
            let addr: Ipv4Addr = addr.parse().ok()?;
            let len = prefix_len(len, 32)?;
            Some(V4 {
                addr: u32::from(addr) & Self::mask(len),
                len,
            })
        }

        fn mask(len: u8) -> u32 {
            if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            }
        }

        /// Number of addresses.
        pub fn size(&self) -> u64 {
            1u64 << (32 - u32::from(self.len))
        }

        /// Whether `other` lies wholly inside this block.
        pub fn contains(&self, other: &V4) -> bool {
            other.len >= self.len && other.addr & Self::mask(self.len) == self.addr
        }

        /// Whether the two blocks share an address (one then contains the other).
        pub fn overlaps(&self, other: &V4) -> bool {
            self.contains(other) || other.contains(self)
        }
    }

    impl std::fmt::Display for V4 {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.len)
        }
    }

    /// The canonical form of an IPv4 block, if `s` is one.
    pub fn canonical_v4(s: &str) -> Option<String> {
        V4::parse(s).map(|c| c.to_string())
    }

    /// The canonical form of an IPv6 block (`2001:DB8::1/32` -> `2001:db8::/32`), if `s` is one.
    pub fn canonical_v6(s: &str) -> Option<String> {
        let (addr, len) = s.split_once('/')?;
        let addr: Ipv6Addr = addr.parse().ok()?;
        let len = prefix_len(len, 128)?;
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        };
        Some(format!("{}/{len}", Ipv6Addr::from(u128::from(addr) & mask)))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_canonicalises_and_compares() {
            let vpc = V4::parse("10.0.0.0/16").unwrap();
            assert_eq!(V4::parse("10.0.7.9/16").unwrap(), vpc);
            assert_eq!(vpc.size(), 65536);
            let sub = V4::parse("10.0.1.0/24").unwrap();
            assert!(vpc.contains(&sub) && !sub.contains(&vpc));
            assert!(sub.overlaps(&vpc) && vpc.overlaps(&sub));
            assert!(!sub.overlaps(&V4::parse("10.0.2.0/24").unwrap()));
            assert!(!vpc.contains(&V4::parse("10.1.0.0/24").unwrap()));
            assert!(V4::parse("0.0.0.0/0").unwrap().contains(&vpc));
            for bad in [
                "10.0.0.0",
                "10.0.0/16",
                "10.0.0.0/33",
                "10.0.0.0/+8",
                "x/8",
                "010.0.0.0/8",
            ] {
                assert!(V4::parse(bad).is_none(), "{bad}");
            }
            assert_eq!(canonical_v4("100.68.0.18/18").unwrap(), "100.68.0.0/18");
            assert_eq!(canonical_v6("2001:DB8::1/32").unwrap(), "2001:db8::/32");
            assert_eq!(canonical_v6("::/0").unwrap(), "::/0");
            assert!(canonical_v6("2001:db8::/129").is_none());
            assert!(canonical_v6("10.0.0.0/8").is_none());
        }
    }
}

/// Checks a VPC id's form and that the region has it.
pub fn check_vpc(r: &Ec2Region, id: &str) -> AwsResult<()> {
    VPC.check(id)?;
    if r.vpcs.contains_key(id) {
        Ok(())
    } else {
        Err(VPC.not_found(id))
    }
}

/// Checks a subnet id's form and that the region has it.
pub fn check_subnet(r: &Ec2Region, id: &str) -> AwsResult<()> {
    SUBNET.check(id)?;
    if r.subnets.contains_key(id) {
        Ok(())
    } else {
        Err(SUBNET.not_found(id))
    }
}

/// The `cidrBlock` value error AWS gives for something that is not a CIDR block.
fn bad_cidr(value: &str) -> AwsError {
    AwsError::invalid_value(format!(
        "Value ({value}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
    ))
}

pub use crate::state::paging::Page;

/// The association id of a VPC's primary CIDR, derived from the VPC id (one per VPC, stable).
fn cidr_association_id(vpc_id: &str) -> String {
    format!("vpc-cidr-assoc-{}", vpc_id.trim_start_matches("vpc-"))
}

fn render_vpc(w: &mut Writer, call: &Call<'_>, v: &Vpc, state: &str) {
    w.str("VpcId", &v.id)
        .str("OwnerId", call.account)
        .str("State", state)
        .str("CidrBlock", &v.cidr)
        .str("DhcpOptionsId", &v.dhcp_options_id)
        .str("InstanceTenancy", "default")
        .bool("IsDefault", v.is_default)
        .list("CidrBlockAssociationSet", [v], |w, v| {
            w.str("AssociationId", cidr_association_id(&v.id))
                .str("CidrBlock", &v.cidr)
                .structure("CidrBlockState", |w| {
                    w.str("State", "associated");
                });
        });
    common::write_tags(w, &v.tags);
}

pub fn create_vpc(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let cidr_text = p.required("CidrBlock")?;
    let tenancy = p.str("InstanceTenancy").unwrap_or("default");
    let mut specs = tags::from_specifications(&p, &["vpc"])?;
    call.params()?.finish()?;
    let block = cidr::V4::parse(cidr_text).ok_or_else(|| bad_cidr(cidr_text))?;
    if !(16..=28).contains(&block.len) {
        return Err(AwsError::bad_request(
            "InvalidVpc.Range",
            format!("The CIDR '{cidr_text}' is invalid."),
        ));
    }
    if tenancy != "default" {
        return Err(AwsError::invalid_value(format!(
            "Value ({tenancy}) for parameter instanceTenancy is invalid. awsemu emulates default tenancy only."
        )));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    if r.vpcs.len() >= MAX_VPCS {
        return Err(AwsError::bad_request(
            "VpcLimitExceeded",
            "The maximum number of VPCs has been reached.",
        ));
    }
    let ids = &call.world.ids;
    let dhcp = r
        .vpcs
        .get(&r.default_vpc_id)
        .map(|v| v.dhcp_options_id.clone())
        .unwrap_or_else(|| ids.resource_id("dopt"));
    let vpc = Vpc {
        id: ids.resource_id("vpc"),
        cidr: block.to_string(),
        is_default: false,
        dhcp_options_id: dhcp,
        tags: specs.remove("vpc").unwrap_or_default(),
    };
    r.vpcs.insert(vpc.id.clone(), vpc.clone());
    let main = r.new_route_table(&vpc.id, ids, true);
    r.route_tables.insert(main.id.clone(), main);
    let sg = r.new_default_group(&vpc.id, ids);
    r.security_groups.insert(sg.id.clone(), sg);
    let mut w = call.writer();
    w.structure("Vpc", |w| render_vpc(w, call, &vpc, "pending"));
    w.finish()
}

pub fn describe_vpcs(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let wanted = p.strings("VpcId")?;
    let mut known = vec![
        "vpc-id",
        "cidr",
        "cidr-block-association.cidr-block",
        "cidr-block-association.association-id",
        "cidr-block-association.state",
        "dhcp-options-id",
        "is-default",
        "owner-id",
        "state",
    ];
    known.extend(tags::TAG_FILTERS);
    let filters = filters::parse(&p, &known)?;
    let paging = Page::read(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    for id in &wanted {
        check_vpc(&r, id)?;
    }
    let found: Vec<&Vpc> = r
        .vpcs
        .values()
        .filter(|v| wanted.is_empty() || wanted.contains(&v.id.as_str()))
        .filter(|v| {
            let assoc = cidr_association_id(&v.id);
            filters.iter().all(|f| {
                tags::filter_matches(f, &v.tags).unwrap_or_else(|| {
                    f.matches(match f.name.as_str() {
                        "vpc-id" => &v.id,
                        "cidr" | "cidr-block-association.cidr-block" => &v.cidr,
                        "cidr-block-association.association-id" => &assoc,
                        "cidr-block-association.state" => "associated",
                        "dhcp-options-id" => &v.dhcp_options_id,
                        "is-default" => bool_str(v.is_default),
                        "owner-id" => call.account,
                        _ => "available",
                    })
                })
            })
        })
        .collect();
    let (items, next) = paging.apply(found)?;
    let mut w = call.writer();
    w.list("Vpcs", items, |w, v| render_vpc(w, call, v, "available"));
    w.str_opt("NextToken", next);
    w.finish()
}

pub fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

pub fn delete_vpc(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("VpcId")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_vpc(&r, id)?;
    let in_vpc = |vpc: &str| vpc == id;
    let busy = r.subnets.values().any(|s| in_vpc(&s.vpc_id))
        || r.internet_gateways
            .values()
            .any(|g| g.vpc_id.as_deref() == Some(id))
        || r.security_groups
            .values()
            .any(|g| in_vpc(&g.vpc_id) && g.name != "default")
        || r.route_tables
            .values()
            .any(|t| in_vpc(&t.vpc_id) && !t.associations.iter().any(|a| a.main));
    if busy {
        return Err(AwsError::dependency_violation(format!(
            "The vpc '{id}' has dependencies and cannot be deleted."
        )));
    }
    r.route_tables.retain(|_, t| t.vpc_id != id);
    r.security_groups.retain(|_, g| g.vpc_id != id);
    r.vpcs.remove(id);
    common::done(call)
}

/// Instances that hold an address in the subnet (terminated ones have given theirs back).
fn used_addresses(r: &Ec2Region, subnet_id: &str, now_ms: i64) -> usize {
    r.instances
        .values()
        .filter(|i| i.subnet_id == subnet_id && i.state.at(now_ms) != InstanceState::Terminated)
        .count()
}

/// AWS reserves five addresses of every subnet (network, router, DNS, future use, broadcast).
fn available_addresses(r: &Ec2Region, s: &Subnet, now_ms: i64) -> u64 {
    let size = cidr::V4::parse(&s.cidr).map(|c| c.size()).unwrap_or(0);
    size.saturating_sub(5)
        .saturating_sub(used_addresses(r, &s.id, now_ms) as u64)
}

fn render_subnet(w: &mut Writer, call: &Call<'_>, r: &Ec2Region, s: &Subnet) {
    w.str("SubnetId", &s.id)
        .str(
            "SubnetArn",
            format!(
                "arn:aws:ec2:{}:{}:subnet/{}",
                call.region, call.account, s.id
            ),
        )
        .str("State", "available")
        .str("OwnerId", call.account)
        .str("VpcId", &s.vpc_id)
        .str("CidrBlock", &s.cidr)
        .list("Ipv6CidrBlockAssociationSet", [(); 0], |_, _| {})
        .int(
            "AvailableIpAddressCount",
            i64::try_from(available_addresses(r, s, call.now_ms)).unwrap_or(i64::MAX),
        )
        .str("AvailabilityZone", &s.zone)
        .str("AvailabilityZoneId", &s.zone_id)
        .bool("DefaultForAz", s.default_for_az)
        .bool("MapPublicIpOnLaunch", s.map_public_ip_on_launch)
        .bool("MapCustomerOwnedIpOnLaunch", false)
        .bool("AssignIpv6AddressOnCreation", false)
        .bool("Ipv6Native", false)
        .bool("EnableDns64", false)
        .structure("PrivateDnsNameOptionsOnLaunch", |w| {
            w.str("HostnameType", "ip-name")
                .bool("EnableResourceNameDnsARecord", false)
                .bool("EnableResourceNameDnsAAAARecord", false);
        });
    common::write_tags(w, &s.tags);
}

pub fn create_subnet(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let vpc_id = p.required("VpcId")?;
    let cidr_text = p.required("CidrBlock")?;
    let zone_name = p.str("AvailabilityZone");
    let zone_id = p.str("AvailabilityZoneId");
    let mut specs = tags::from_specifications(&p, &["subnet"])?;
    call.params()?.finish()?;
    let block = cidr::V4::parse(cidr_text).ok_or_else(|| bad_cidr(cidr_text))?;
    let region = call_region(call)?;
    let zones = region.zones();
    let zone = match (zone_name, zone_id) {
        (Some(_), Some(_)) => {
            return Err(AwsError::invalid_combination(
                "Only one of availabilityZone or availabilityZoneId may be specified",
            ))
        }
        (Some(n), None) => zones.iter().find(|z| z.name == n).ok_or_else(|| {
            let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
            AwsError::invalid_value(format!(
                "Value ({n}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
                names.join(", ")
            ))
        })?,
        (None, Some(i)) => zones.iter().find(|z| z.id == i).ok_or_else(|| {
            let ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
            AwsError::invalid_value(format!(
                "Value ({i}) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zone ids: {}.",
                ids.join(", ")
            ))
        })?,
        (None, None) => zones.first().ok_or_else(AwsError::internal)?,
    };
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_vpc(&r, vpc_id)?;
    let vpc_block = r
        .vpcs
        .get(vpc_id)
        .and_then(|v| cidr::V4::parse(&v.cidr))
        .ok_or_else(AwsError::internal)?;
    if !(16..=28).contains(&block.len) || !vpc_block.contains(&block) {
        return Err(AwsError::bad_request(
            "InvalidSubnet.Range",
            format!("The CIDR '{cidr_text}' is invalid."),
        ));
    }
    let conflict = r.subnets.values().any(|s| {
        s.vpc_id == vpc_id && cidr::V4::parse(&s.cidr).is_some_and(|c| c.overlaps(&block))
    });
    if conflict {
        return Err(AwsError::bad_request(
            "InvalidSubnet.Conflict",
            format!("The CIDR '{cidr_text}' conflicts with another subnet"),
        ));
    }
    let subnet = Subnet {
        id: call.world.ids.resource_id("subnet"),
        vpc_id: vpc_id.to_string(),
        cidr: block.to_string(),
        zone: zone.name.clone(),
        zone_id: zone.id.clone(),
        default_for_az: false,
        map_public_ip_on_launch: false,
        tags: specs.remove("subnet").unwrap_or_default(),
    };
    r.subnets.insert(subnet.id.clone(), subnet.clone());
    call.created(&subnet.id);
    let mut w = call.writer();
    w.structure("Subnet", |w| render_subnet(w, call, &r, &subnet));
    w.finish()
}

fn call_region(call: &Call<'_>) -> AwsResult<&'static crate::state::regions::Region> {
    crate::state::regions::region(call.region).ok_or_else(AwsError::internal)
}

pub fn describe_subnets(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let wanted = p.strings("SubnetId")?;
    let mut known = vec![
        "availability-zone",
        "availability-zone-id",
        "availabilityZone",
        "available-ip-address-count",
        "cidr",
        "cidr-block",
        "cidrBlock",
        "default-for-az",
        "defaultForAz",
        "map-public-ip-on-launch",
        "owner-id",
        "state",
        "subnet-arn",
        "subnet-id",
        "vpc-id",
    ];
    known.extend(tags::TAG_FILTERS);
    let filters = filters::parse(&p, &known)?;
    let paging = Page::read(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    for id in &wanted {
        check_subnet(&r, id)?;
    }
    let unseen = common::unseen(call, &SUBNET);
    common::check_visible(&unseen, &wanted)?;
    let found: Vec<&Subnet> = r
        .subnets
        .values()
        .filter(|s| wanted.is_empty() || wanted.contains(&s.id.as_str()))
        .filter(|s| unseen.listed(&s.id))
        .filter(|s| {
            let count = available_addresses(&r, s, call.now_ms).to_string();
            let arn = format!(
                "arn:aws:ec2:{}:{}:subnet/{}",
                call.region, call.account, s.id
            );
            filters.iter().all(|f| {
                tags::filter_matches(f, &s.tags).unwrap_or_else(|| {
                    f.matches(match f.name.as_str() {
                        "availability-zone" | "availabilityZone" => &s.zone,
                        "availability-zone-id" => &s.zone_id,
                        "available-ip-address-count" => &count,
                        "cidr" | "cidr-block" | "cidrBlock" => &s.cidr,
                        "default-for-az" | "defaultForAz" => bool_str(s.default_for_az),
                        "map-public-ip-on-launch" => bool_str(s.map_public_ip_on_launch),
                        "owner-id" => call.account,
                        "subnet-arn" => &arn,
                        "subnet-id" => &s.id,
                        "vpc-id" => &s.vpc_id,
                        _ => "available",
                    })
                })
            })
        })
        .collect();
    let (items, next) = paging.apply(found)?;
    let mut w = call.writer();
    w.list("Subnets", items, |w, s| render_subnet(w, call, &r, s));
    w.str_opt("NextToken", next);
    w.finish()
}

pub fn delete_subnet(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("SubnetId")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_subnet(&r, id)?;
    if used_addresses(&r, id, call.now_ms) > 0 || r.elb.uses_subnet(id) || r.elbv2.uses_subnet(id) {
        return Err(AwsError::dependency_violation(format!(
            "The subnet '{id}' has dependencies and cannot be deleted."
        )));
    }
    r.subnets.remove(id);
    // The subnet's route table association goes with it.
    for t in r.route_tables.values_mut() {
        t.associations
            .retain(|a| a.subnet_id.as_deref() != Some(id));
    }
    common::done(call)
}
