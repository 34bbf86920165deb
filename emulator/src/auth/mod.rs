//! SigV4 verification and the credentials -> principal mapping.
pub mod sigv4;
