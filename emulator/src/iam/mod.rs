//! IAM policy documents and their evaluation.
//!
//! Every request the emulator serves is authorised here, with AWS semantics: identity policies
//! ([`evaluate`]) and resource/trust policies ([`evaluate_resource_policy`]), explicit Deny over
//! Allow over implicit deny, the documented condition operators, policy variables and
//! principals. Policies are validated and compiled when loaded; anything the evaluator does not
//! understand is rejected then, with a message naming it, because silently ignoring part of a
//! policy changes what it permits.
//!
//! - [`wildcard`]: `*`/`?` globs, linear-time matcher.
//! - [`policy`]: documents, statements, parsing and validation.
//! - [`condition`]: condition operators.
//! - [`context`]: what a request offers the policies.
//! - [`evaluate`](mod@evaluate): the decision.
//! - [`builtin`]: `AdministratorAccess` and the node policies.

pub mod builtin;
mod cidr;
pub mod condition;
pub mod context;
pub mod evaluate;
pub mod policy;
pub mod principal;
pub(crate) mod strict_json;
mod variables;
pub mod wildcard;

#[cfg(test)]
mod proptests;

pub use builtin::{admin, controlplane, etcd, worker};
pub use condition::{Condition, SetOperator};
pub use context::{normalize_key, RequestContext};
pub use evaluate::{
    evaluate, evaluate_resource_policy, explain, Decision, Evaluation, Policy, StatementRef,
};
pub use policy::{Effect, PolicyDocument, PolicyError, PolicyKind, Statement, Version};
pub use principal::{Caller, PrincipalSpec};
pub use wildcard::Pattern;
