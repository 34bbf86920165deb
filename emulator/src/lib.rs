//! awsemu: an emulator of the AWS APIs that the Kubernetes AWS cloud provider uses.
//!
//! # Layout
//! (filled in as modules land)

pub mod auth;
pub mod iam;
pub mod timefmt;
