//! EC2 route_tables.

use crate::services::Handler;

/// The handler of an action of this family, if it is one.
pub fn handler(action: &str) -> Option<Handler> {
    let _ = action;
    None
}
