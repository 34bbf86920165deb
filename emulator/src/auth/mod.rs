//! SigV4 verification and the credentials -> principal mapping.

pub mod directory;
pub mod identities;
pub mod principal;
pub mod sigv4;
