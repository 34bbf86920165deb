//! IAM policy documents and their evaluation.

mod cidr;
pub mod condition;
pub mod context;
pub mod policy;
pub mod principal;
mod strict_json;
mod variables;
pub mod wildcard;
