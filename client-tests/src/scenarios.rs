//! Scenario files with cloud-provider flows: the [`awsemu::scenario::FlowRunner`] that runs a
//! `flow:` step with [`crate::flows::run`], and [`run_file`], which the `scenario` command and the
//! per-file tests use.
//!
//! A flow acts as the step's `as:` principal: one with keys (`admin`, `controlplane`, a configured
//! principal), or else a session of the IAM role of that name (a role from the scenario's world),
//! issued as STS would. Its waits advance the scenario's virtual clock, so a provider poll of ten
//! minutes takes no wall time. Inputs may name the VPC the provider is configured for
//! (`vpc: ${vpc.main}`); without one, the account's default VPC of the step's region.

use std::path::Path;

use awsemu::scenario::{self, FlowFailure, FlowFuture, FlowRequest, Report};
use awsemu::Emulator;
use serde_json::Value;

use crate::flows::{self, FlowContext};
use crate::{ClientOptions, Waiting};

/// The cluster id flows use when the scenario names none (the provider's default name).
const DEFAULT_CLUSTER: &str = "kubernetes";

/// Keys for the principal `name`: its own, or a fresh session of the IAM role `name`.
fn options(emu: &Emulator, name: &str) -> Result<ClientOptions, FlowFailure> {
    if emu.credentials(name).is_some() {
        return Ok(ClientOptions::principal(emu, name));
    }
    let instance = emu.instance();
    let g = instance.current();
    let session = g
        .identities
        .issue_role_session(
            name,
            "scenario",
            3600,
            instance.clock.now_ms(),
            emu.region(),
            &g.world.ids,
        )
        .map_err(|e| FlowFailure {
            code: "UnknownPrincipal".into(),
            message: format!("no principal or role named {name}: {}", e.message),
        })?;
    let c = &session.credential;
    let mut opts = ClientOptions::keys(emu, &c.access_key_id, &c.secret_access_key);
    opts.session_token = c.session_token.clone();
    Ok(opts)
}

/// The default VPC of `region`, read from the emulator's state: a lookup of the runner's own is
/// not a call of the flow, so it stays out of the call log.
fn default_vpc(emu: &Emulator, region: &str) -> Result<String, FlowFailure> {
    let g = emu.instance().current();
    let vpc = g.world.ec2(region).and_then(|lock| {
        let r = awsemu::state::read(&lock);
        (r.vpcs.values().find(|v| v.is_default)).map(|v| v.id.clone())
    });
    vpc.ok_or_else(|| FlowFailure {
        code: "InvalidInput".into(),
        message: format!("region {region} has no default VPC; give inputs.vpc"),
    })
}

/// Runs one `flow:` step.
pub fn run_flow(req: FlowRequest<'_>) -> FlowFuture<'_> {
    Box::pin(async move {
        let mut inputs = req.inputs;
        let vpc = match inputs.as_object_mut().and_then(|o| o.remove("vpc")) {
            Some(Value::String(v)) => v,
            Some(other) => {
                return Err(FlowFailure {
                    code: "InvalidInput".into(),
                    message: format!("inputs.vpc must be a VPC id, not {other}"),
                })
            }
            None => default_vpc(req.emulator, req.region)?,
        };
        let opts = options(req.emulator, req.principal)?
            .region(req.region)
            .waiting(Waiting::AdvanceClock(req.emulator.instance().clone()));
        let ctx = FlowContext::with_options(
            req.emulator,
            &opts,
            req.cluster_id.unwrap_or(DEFAULT_CLUSTER),
            &vpc,
        );
        flows::run(req.flow, &ctx, inputs)
            .await
            .map_err(|e| FlowFailure {
                code: e.code.unwrap_or_else(|| "FlowError".into()),
                message: e.message,
            })
    })
}

/// Loads and runs a scenario file with the flows; each report line also goes to `sink` as it is
/// written. A file that does not load is an `Err` naming what is wrong.
pub async fn run_file(path: &Path, sink: &mut dyn FnMut(&str)) -> Result<Report, String> {
    let (s, dir) = scenario::load_file(path)?;
    Ok(scenario::run(&s, dir.as_deref(), Some(&run_flow), sink).await)
}
