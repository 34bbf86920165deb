//! The EC2 resource kinds awsemu keeps no state of their own for but meets in requests: ids it
//! checks (RunInstances' image, a route's network interface), ARNs it authorizes
//! (RunInstances makes network interfaces) and `TagSpecification` types. A network interface is
//! its instance's primary one: the instance keeps its tags.

use super::kind::{Kind, NotFound};

pub const IMAGE: Kind = Kind {
    prefix: "ami",
    arn_type: "image",
    // Images belong to no account in their ARN: `arn:aws:ec2:R::image/ami-…`.
    in_account: false,
    malformed: Some("InvalidAMIID.Malformed"),
    ..Kind::BASE
};

/// Network interfaces: each instance's primary one, whose tags the instance keeps.
pub const NETWORK_INTERFACE: Kind = Kind {
    prefix: "eni",
    arn_type: "network-interface",
    not_found: Some(NotFound {
        code: "InvalidNetworkInterfaceID.NotFound",
        message: "The networkInterface ID '{id}' does not exist",
    }),
    malformed: Some("InvalidNetworkInterfaceID.Malformed"),
    tags: Some(super::kind::TagsOf {
        get: |r, id| {
            (r.instances.values())
                .find(|i| i.network_interface_id == id)
                .map(|i| &i.interface_tags)
        },
        get_mut: |r, id| {
            (r.instances.values_mut())
                .find(|i| i.network_interface_id == id)
                .map(|i| &mut i.interface_tags)
        },
    }),
    ..Kind::BASE
};

pub const ELASTIC_IP: Kind = Kind {
    prefix: "eipalloc",
    arn_type: "elastic-ip",
    ..Kind::BASE
};

pub const NAT_GATEWAY: Kind = Kind {
    prefix: "nat",
    arn_type: "natgateway",
    ..Kind::BASE
};

/// Managed prefix lists, which security group rules name; not taggable at creation here.
pub const PREFIX_LIST: Kind = Kind {
    prefix: "pl",
    arn_type: "prefix-list",
    malformed: Some("InvalidPrefixListID.Malformed"),
    taggable: false,
    ..Kind::BASE
};

/// Security group rules (`sgr-…`), which Authorize calls may tag as they make them.
pub const SECURITY_GROUP_RULE: Kind = Kind {
    prefix: "sgr",
    arn_type: "security-group-rule",
    ..Kind::BASE
};
