//! Wire formats: which service a request is for, its parameters, and how answers and errors are written.
//!
//! Everything here is a plain function over plain data (bytes in, bytes out), so each piece is
//! tested alone; `server` only strings them together.

pub mod constraints;
pub mod error;
pub mod json;
pub mod params;
pub mod render;
pub mod route;
pub mod service;
pub mod validate;
pub mod writer;
pub mod xml;

pub use error::{AwsError, AwsResult};
pub use params::{Params, Scope};
pub use render::Output;
pub use service::{Protocol, ServiceId};
pub use writer::Writer;
