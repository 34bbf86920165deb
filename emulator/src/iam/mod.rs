//! IAM policy documents and their evaluation.

mod cidr;
pub mod condition;
pub mod context;
pub mod principal;
mod variables;
pub mod wildcard;
