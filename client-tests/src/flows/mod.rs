//! Cloud-provider flows: faithful ports of the call sequences kubernetes/cloud-provider-aws
//! (`pkg/providers/v1`) and the EBS CSI driver (`pkg/cloud`) make, over aws-sdk-rust, for replay.
//!
//! A flow makes the same calls, in the same order, with the same parameters, and fails with the
//! same error text as the Go code it ports, so that a scenario reproduces a field failure. They
//! are written for replay, not production: no caches, no informers, one sync per call.
//!
//! # Layout
//! - [`context`] holds [`FlowContext`] (clients of one principal, region, cluster id, VPC, the sleeper)
//!   and [`FlowError`].
//! - [`api`] is how one AWS call is made: the provider's retryer (standard SDK retries plus its
//!   cross-request RequestLimitExceeded delay) and the Go SDK's error text.
//! - [`tagging`] has the cluster tags (`kubernetes.io/cluster/<id>` owned|shared, legacy tag).
//! - [`network`] holds EC2 helpers shared by the load-balancer flows: subnet discovery, security groups
//!   and their ingress rules, instances.
//! - [`wait`] is apimachinery's exponential back-off on the flow's sleeper.
//! - [`classic_elb`], [`nlb`], [`volumes`] and [`routes`] are the flows, [`service`] their Service.
//!
//! [`run`] is the registry a scenario runner calls: a flow by name with JSON (or YAML) inputs.

pub mod api;
pub mod classic_elb;
pub mod context;
pub mod network;
pub mod nlb;
pub mod routes;
pub mod service;
pub mod tagging;
pub mod volumes;
pub mod wait;

pub use context::{FlowContext, FlowError};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Every flow name [`run`] knows.
pub const NAMES: &[&str] = &[
    "classic-elb.ensure",
    "classic-elb.update",
    "classic-elb.delete",
    "nlb.ensure",
    "nlb.update",
    "nlb.delete",
    "volume.create",
    "volume.attach",
    "volume.detach",
    "volume.delete",
    "volume.resize",
    "route.create",
    "route.delete",
    "route.list",
];

fn input<T: DeserializeOwned>(name: &str, inputs: serde_json::Value) -> Result<T, FlowError> {
    serde_json::from_value(inputs)
        .map_err(|e| FlowError::input(format!("invalid inputs for flow {name}: {e}")))
}

fn output<T: Serialize>(out: T) -> Result<serde_json::Value, FlowError> {
    serde_json::to_value(out).map_err(|e| FlowError::input(format!("unserializable result: {e}")))
}

/// Runs the flow `name` with `inputs` (deserialized into that flow's input type) and returns its
/// result as JSON. An unknown name or bad inputs are a [`FlowError`] without an AWS code.
pub async fn run(
    name: &str,
    ctx: &FlowContext,
    inputs: serde_json::Value,
) -> Result<serde_json::Value, FlowError> {
    match name {
        "classic-elb.ensure" => output(classic_elb::ensure(ctx, &input(name, inputs)?).await?),
        "classic-elb.update" => output(classic_elb::update(ctx, &input(name, inputs)?).await?),
        "classic-elb.delete" => output(classic_elb::delete(ctx, &input(name, inputs)?).await?),
        "nlb.ensure" => output(nlb::ensure(ctx, &input(name, inputs)?).await?),
        "nlb.update" => output(nlb::update(ctx, &input(name, inputs)?).await?),
        "nlb.delete" => output(nlb::delete(ctx, &input(name, inputs)?).await?),
        "volume.create" => output(volumes::create(ctx, &input(name, inputs)?).await?),
        "volume.attach" => output(volumes::attach(ctx, &input(name, inputs)?).await?),
        "volume.detach" => output(volumes::detach(ctx, &input(name, inputs)?).await?),
        "volume.delete" => output(volumes::delete(ctx, &input(name, inputs)?).await?),
        "volume.resize" => output(volumes::resize(ctx, &input(name, inputs)?).await?),
        "route.create" => output(routes::create(ctx, &input(name, inputs)?).await?),
        "route.delete" => output(routes::delete(ctx, &input(name, inputs)?).await?),
        "route.list" => output(routes::list(ctx, &input(name, inputs)?).await?),
        _ => Err(FlowError::input(format!(
            "unknown flow {name:?}; known flows: {}",
            NAMES.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    /// A scenario runner may spawn flows on other tasks: their futures must be `Send`.
    #[allow(dead_code)]
    fn flows_can_be_spawned(ctx: &super::FlowContext) {
        fn send<T: Send>(_: &T) {}
        send(&super::run("route.list", ctx, serde_json::Value::Null));
    }
}
