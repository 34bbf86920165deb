//! SigV4 verification and the credentials -> principal mapping.
