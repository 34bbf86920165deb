//! awsemu: an emulator of the AWS APIs that the Kubernetes AWS cloud provider uses, with SigV4
//! verification and real IAM policy evaluation on every call.
//!
//! # Layout
//!
//! A request's way through, one module per step:
//!
//! - [`server`]: the hyper listener on one port for every service; reads the (bounded) body, hands
//!   admin paths to [`admin`] and everything else to [`instance`].
//! - [`instance`]: one emulator's pipeline: route, authenticate, look up the action, authorize,
//!   faults, handler, render. A plain synchronous function, testable without a socket.
//! - [`model`]: AWS's service models as generated tables (operations, shapes, wire names,
//!   constraints), from which requests are checked and answers written.
//! - [`protocol`]: the wire: which service a request is for ([`protocol::route`]), flattened query
//!   parameters ([`protocol::params`]), JSON input, the model's input check
//!   ([`protocol::validate`]), the model-driven answer [`protocol::Writer`] and each protocol's
//!   envelopes.
//! - [`auth`]: SigV4 ([`auth::sigv4`]), the identities and their keys ([`auth::identities`]), the
//!   account's IAM roles, managed policies and instance profiles ([`auth::directory`]), the
//!   [`auth::principal::Principal`] a key stands for.
//! - [`iam`]: policy documents and the evaluator (explicit deny > allow > implicit deny).
//! - [`services`]: one folder per AWS service, one file per resource family. Each file declares
//!   its actions once ([`services::action::Action`]: handler, the resources it is authorized on,
//!   the members that carry tags, what it creates), and each EC2 resource kind once
//!   ([`services::ec2::kind::Kind`]: prefix, ARN type, NotFound/Malformed answers, taggable);
//!   adding an action is one declaration and one handler. [`services::authz`] reads a request
//!   through the declaration; an action the model does not know gets `InvalidAction`.
//! - [`state`]: the world (resources per account and region), seedable ids, EC2 filters, regions.
//! - [`clock`]: the virtual clock state transitions derive from; [`faults`]: injected errors and
//!   latency, AWS's token-bucket throttling, eventual consistency of created resources;
//!   [`imds`]: the instance metadata service, one loopback listener per instance;
//!   [`audit`]: every authorization IAM settled, per caller (the would-be-denied report of
//!   `--iam audit`); [`least_privilege`]: the smallest policy that allows what a role did.
//! - [`recorder`]: the call log every answered call goes to (bounded, in memory; JSON lines with
//!   `serve --record`); [`instance::Instance::call`] makes one call from inside, without HTTP.
//! - [`snapshot`]: the whole emulator as one value and the state file's format: `serve
//!   --state-file`, `/_awsemu/snapshots`, [`Emulator::snapshot`] and
//!   [`EmulatorBuilder::from_snapshot`].
//! - [`scenario`]: scenario files — world, faults, steps, expectations — their runner, and the
//!   text, JSON and JUnit reports of many files.
//! - [`emulator`]: the embedding API: [`Emulator::builder`] … `start().await` in a test.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod console;
pub mod emulator;
pub mod exposure;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod iam;
pub mod imds;
pub mod instance;
pub mod least_privilege;
pub mod model;
pub mod protocol;
pub mod recorder;
pub mod scenario;
pub mod server;
pub mod services;
pub mod snapshot;
pub mod state;
pub mod timefmt;

pub use config::{Config, IamMode};
pub use emulator::{Credentials, Emulator, EmulatorBuilder};
pub use snapshot::Snapshot;
