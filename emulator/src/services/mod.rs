//! The AWS services, one folder each, and the lookup of an action's declaration.
//!
//! Each handler file declares its actions ([`action::Action`]: the handler, what it is authorized
//! on, which members carry tags); each service lists its files' tables (`ACTIONS`). A handler is a
//! plain function of a [`Call`]: it decodes its input, calls `Params::finish`, then reads or
//! changes state and returns its [`Output`]. Authorization, faults and rendering happen around it,
//! in `instance`.

pub mod action;
pub mod authz;
pub mod autoscaling;
pub mod ec2;
pub mod ecr;
pub mod elb;
pub mod elbv2;
pub mod iam;
pub mod kms;
pub mod sts;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::OnceLock;

use crate::auth::identities::Identities;
use crate::auth::principal::Principal;
use crate::protocol::json::JsonInput;
use crate::protocol::route::Input;
use crate::protocol::{AwsError, AwsResult, Output, Params, Scope, ServiceId, Writer};
use crate::state::World;

pub use action::Action;

/// Everything a handler may use about one request.
pub struct Call<'a> {
    pub service: ServiceId,
    pub action: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub principal: &'a Principal,
    pub request_id: &'a str,
    /// Virtual time of the request, ms since the epoch.
    pub now_ms: i64,
    pub world: &'a World,
    pub input: &'a Input,
    /// The account's identities and IAM entities: the IAM and STS handlers change them,
    /// RunInstances reads instance profiles.
    pub identities: &'a Identities,
    /// Where the request came from (`aws:SourceIp` when a trust policy is evaluated).
    pub remote: SocketAddr,
    /// Settles a further authorization the handler meets, under the emulator's IAM mode, as the
    /// pipeline settles the action itself (see [`Authorization`]).
    pub authorizer: &'a dyn Fn(Authorization<'_>) -> AwsResult<()>,
    /// The ids of what the handler made ([`Call::created`]), which the pipeline reads after it
    /// (eventual-consistency faults hide them).
    pub created: RefCell<Vec<String>>,
}

/// An authorization decision a handler needs beyond the action's own, which the pipeline checked.
#[derive(Debug)]
pub enum Authorization<'x> {
    /// The caller's identity policies must allow `action` on `resource`: RunInstances and
    /// AddRoleToInstanceProfile need `iam:PassRole` on the role they pass.
    Identity { action: &'x str, resource: &'x str },
    /// A resource policy the handler evaluated (a role's trust policy; a KMS key policy with the
    /// caller's IAM policies, for the requests EBS makes on the caller's behalf) refuses the
    /// request with `error`. With `--iam off` the call goes on; in audit mode it is recorded and
    /// goes on. (EBS does not fail its call on `Err`: the volume it would make fails instead.)
    Refused {
        action: &'x str,
        resource: &'x str,
        error: AwsError,
    },
}

impl<'a> Call<'a> {
    /// The query parameters (EC2 and awsQuery services).
    pub fn params(&self) -> AwsResult<&'a Params> {
        match self.input {
            Input::Query(p) => Ok(p),
            Input::Json(_) => Err(AwsError::internal()),
        }
    }

    /// The top-level parameter scope.
    pub fn root(&self) -> AwsResult<Scope<'a>> {
        Ok(self.params()?.root())
    }

    /// Requires the caller's policies to allow `action` on `resource` (under the IAM mode).
    pub fn authorize(&self, action: &str, resource: &str) -> AwsResult<()> {
        (self.authorizer)(Authorization::Identity { action, resource })
    }

    /// A refusal by a resource policy, answered as the IAM mode says (`Err(error)` when enforcing).
    pub fn refused(&self, action: &str, resource: &str, error: AwsError) -> AwsResult<()> {
        (self.authorizer)(Authorization::Refused {
            action,
            resource,
            error,
        })
    }

    /// The writer of this action's answer, on its output shape: handlers name the model's
    /// members and the writer puts them on the wire (see [`Writer`]). An action whose model has no
    /// output gets a writer that accepts no member.
    pub fn writer(&self) -> Writer {
        Writer::for_output(self.service, self.action)
            .unwrap_or_else(|| Writer::new(self.service, &crate::model::NO_MEMBERS))
    }

    /// Tells the pipeline the handler made (or, answering a repeated idempotent request, answers
    /// again with) the resource `id`: a consistency fault on the action hides it from the next
    /// calls (see [`crate::faults::consistency`]).
    pub fn created(&self, id: &str) {
        self.created.borrow_mut().push(id.to_string());
    }

    /// The JSON input (awsJson services).
    pub fn json(&self) -> AwsResult<&'a JsonInput> {
        match self.input {
            Input::Json(j) => Ok(j),
            Input::Query(_) => Err(AwsError::internal()),
        }
    }
}

/// A handler of one action.
pub type Handler = fn(&Call<'_>) -> AwsResult<Output>;

/// What the service tables say of an action name.
#[derive(Clone, Copy)]
pub enum Lookup {
    /// Declared here; emulated when it has a handler.
    Declared(&'static Action),
    /// A real action of the service that awsemu does not declare (nor emulate): authorized on
    /// `*`, then `NotImplemented`.
    NotEmulated,
    /// Not an action of this service at all.
    Unknown,
}

/// Every declaration table of `service`, by resource family.
fn tables(service: ServiceId) -> &'static [&'static [Action]] {
    match service {
        ServiceId::Ec2 => ec2::ACTIONS,
        ServiceId::Elb => elb::ACTIONS,
        ServiceId::Elbv2 => elbv2::ACTIONS,
        ServiceId::Iam => iam::ACTIONS,
        ServiceId::Sts => sts::ACTIONS,
        ServiceId::Kms => kms::ACTIONS,
        ServiceId::Ecr => ecr::ACTIONS,
        ServiceId::Autoscaling => autoscaling::ACTIONS,
    }
}

/// The declaration of `service`'s `action`, if any. On every request's path: one hash lookup in
/// a per-service map built on first use (FNV-1a: action names are short and not chosen to
/// collide; SipHash's protection against that costs more than the rest of the lookup).
pub fn declared(service: ServiceId, action: &str) -> Option<&'static Action> {
    type Index = HashMap<&'static str, &'static Action, BuildHasherDefault<Fnv>>;
    static INDEX: OnceLock<Vec<Index>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        ServiceId::ALL
            .iter()
            .map(|s| {
                let mut m = Index::default();
                for a in tables(*s).iter().flat_map(|t| t.iter()) {
                    m.insert(a.name, a);
                }
                m
            })
            .collect()
    });
    let i = ServiceId::ALL.iter().position(|s| *s == service)?;
    index.get(i)?.get(action).copied()
}

/// FNV-1a, for the action index.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Finds the declaration of `service`'s `action`.
pub fn lookup(service: ServiceId, action: &str) -> Lookup {
    match declared(service, action) {
        Some(a) => Lookup::Declared(a),
        None if crate::model::op(service, action).is_some() => Lookup::NotEmulated,
        None => Lookup::Unknown,
    }
}

/// The operations `service` emulates, in the model's order: every real operation with a handler.
pub fn emulated(service: ServiceId) -> Vec<&'static str> {
    crate::model::of(service)
        .ops
        .iter()
        .filter(|o| declared(service, o.name()).is_some_and(|a| a.handler.is_some()))
        .map(|o| o.name())
        .collect()
}

/// `GET /_awsemu/operations`: per service, the emulated operations and how many the model has.
pub fn emulated_json() -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for s in ServiceId::ALL {
        out.insert(
            s.name().to_string(),
            serde_json::json!({
                "emulated": emulated(s),
                "model_operations": crate::model::of(s).ops.len(),
            }),
        );
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_action_is_a_real_operation_declared_once() {
        for s in ServiceId::ALL {
            let all: Vec<&Action> = tables(s).iter().flat_map(|t| t.iter()).collect();
            for (i, a) in all.iter().enumerate() {
                assert!(
                    crate::model::op(s, a.name).is_some(),
                    "{s}:{} is not an operation of the model",
                    a.name
                );
                assert!(
                    all[..i].iter().all(|o| o.name != a.name),
                    "{s}:{} is declared twice",
                    a.name
                );
                assert!(std::ptr::eq(declared(s, a.name).unwrap(), *a));
            }
        }
        assert!(declared(ServiceId::Ec2, "CreateVolume").is_some_and(|a| a.handler.is_some()));
        assert!(matches!(
            lookup(ServiceId::Ec2, "CreateSnapshots"),
            Lookup::NotEmulated
        ));
        assert!(matches!(lookup(ServiceId::Ec2, "Bogus"), Lookup::Unknown));
        // Declared for their authorization only, not emulated.
        assert!(!emulated(ServiceId::Ec2).contains(&"CreateNetworkInterface"));
        assert!(emulated(ServiceId::Ec2).contains(&"CreateSnapshot"));
        assert!(emulated(ServiceId::Elbv2).contains(&"CreateRule"));
    }

    #[test]
    fn every_handler_is_a_real_operation() {
        // Derived from the model and the declaration tables, so it cannot drift from either.
        let n: usize = ServiceId::ALL.iter().map(|s| emulated(*s).len()).sum();
        assert!(n > 150, "{n}");
        assert!(emulated(ServiceId::Elb).contains(&"DeleteLoadBalancer"));
    }
}
