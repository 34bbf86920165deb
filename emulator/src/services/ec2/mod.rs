//! EC2 (query protocol `2016-11-15`). One file per resource family, each with its own
//! `handler(action)` table; [`model`] holds the resources of a region.

pub mod common;
pub mod gateways;
pub mod images;
pub mod instances;
pub mod model;
pub mod regions;
pub mod route_tables;
pub mod security_groups;
pub mod tags;
pub mod volume_attachments;
pub mod volume_modifications;
pub mod volume_tokens;
pub mod volumes;
pub mod vpcs;

use super::Handler;

/// The handler of an EC2 action, if emulated.
pub fn handler(action: &str) -> Option<Handler> {
    regions::handler(action)
        .or_else(|| vpcs::handler(action))
        .or_else(|| gateways::handler(action))
        .or_else(|| route_tables::handler(action))
        .or_else(|| security_groups::handler(action))
        .or_else(|| instances::handler(action))
        .or_else(|| images::handler(action))
        .or_else(|| volumes::handler(action))
        .or_else(|| tags::handler(action))
}
