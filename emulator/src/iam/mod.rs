//! IAM policy documents and their evaluation.

pub mod wildcard;
