//! IAM policy documents and their evaluation.

mod cidr;
pub mod context;
mod variables;
pub mod wildcard;
