//! EC2 (query protocol `2016-11-15`). One file per resource family, each with its own
//! [`ACTIONS`](crate::services::action::Action) table and the [`kind::Kind`]s of the resources it
//! serves; [`model`] holds the resources of a region.

pub mod account_attributes;
pub mod common;
pub mod fast_restores;
pub mod gateways;
pub mod images;
pub mod instances;
pub mod key_material;
pub mod key_pairs;
pub mod kind;
pub mod launch_template_data;
pub mod launch_templates;
pub mod model;
pub mod referenced;
pub mod regions;
pub mod route_tables;
pub mod security_groups;
pub mod snapshots;
pub mod spot_requests;
pub mod tags;
pub mod volume_attachments;
pub mod volume_modifications;
pub mod volume_tokens;
pub mod volumes;
pub mod vpcs;

use super::action::Action;
use kind::Kind;

/// The EC2 actions, by resource family.
pub const ACTIONS: &[&[Action]] = &[
    regions::ACTIONS,
    account_attributes::ACTIONS,
    vpcs::ACTIONS,
    gateways::ACTIONS,
    route_tables::ACTIONS,
    security_groups::ACTIONS,
    instances::ACTIONS,
    key_pairs::ACTIONS,
    images::ACTIONS,
    launch_templates::ACTIONS,
    spot_requests::ACTIONS,
    volumes::ACTIONS,
    snapshots::ACTIONS,
    fast_restores::ACTIONS,
    volume_attachments::ACTIONS,
    volume_modifications::ACTIONS,
    tags::ACTIONS,
    UNEMULATED,
];

/// Real creates awsemu does not emulate, authorized as AWS does before `NotImplemented`.
const UNEMULATED: &[Action] = &[Action::unemulated("CreateNetworkInterface")
    .on(&[super::action::On::Created(&referenced::NETWORK_INTERFACE)])
    .tags(super::action::TagsIn::Specifications)];

/// Every EC2 resource kind: what an id's prefix says (its ARN, its NotFound answer, where its tags
/// are) and which `TagSpecification` types a request may name.
pub const KINDS: &[&Kind] = &[
    &instances::INSTANCE,
    &volumes::VOLUME,
    &security_groups::SECURITY_GROUP,
    &vpcs::SUBNET,
    &vpcs::VPC,
    &route_tables::ROUTE_TABLE,
    &gateways::INTERNET_GATEWAY,
    &referenced::NETWORK_INTERFACE,
    &snapshots::SNAPSHOT,
    &referenced::IMAGE,
    &key_pairs::KEY_PAIR,
    &spot_requests::SPOT_REQUEST,
    &referenced::SECURITY_GROUP_RULE,
    &launch_templates::LAUNCH_TEMPLATE,
    &referenced::ELASTIC_IP,
    &referenced::NAT_GATEWAY,
    &referenced::PREFIX_LIST,
];
