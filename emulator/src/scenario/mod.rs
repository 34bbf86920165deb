//! Scenarios: a world, faults, steps and expectations in one YAML file, replayed the same way
//! every time (`scenarios/README.md` documents the format).
//!
//! - [`model`]: the file, as serde reads it; [`symbols`]: `${subnet.a}` names for generated ids.
//! - [`world`]: builds the world through the emulator's own pipeline, as admin.
//! - [`faults`]: the scenario's fault list as the emulator's fault rules.
//! - [`calls`]: one `service:Action` call from YAML parameters; [`response`]: paths into answers.
//! - [`expect`]: step, state and call-log expectations ([`membership`]: a group's rules and a
//!   load balancer's targets as sets); [`recording`]: a recording to a scenario.
//! - [`runner`]: [`run`] a scenario and write its report; flows go to a [`FlowRunner`] the caller
//!   gives (client-tests implements it; awsemu alone cannot run flows).
//! - [`batch`]: several files in one command, reported as text with a summary table, JSON or
//!   JUnit XML.

pub mod batch;
pub mod calls;
pub mod expect;
pub mod faults;
pub mod membership;
pub mod model;
pub mod recording;
pub mod response;
pub mod runner;
pub mod symbols;
pub mod world;

pub use model::Scenario;
pub use runner::{
    load_file, prepare, run, verify, FlowFailure, FlowFuture, FlowRequest, FlowRunner, Item,
    Loaded, Outcome, Report, Verdict,
};
