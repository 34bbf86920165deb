//! Running a scenario: an emulator configured from the file (seed, region, timing, IAM mode, a
//! manual clock), the world built, faults added, each step made and checked, then the final
//! expectations — with a readable report written line by line to a sink.
//!
//! The report holds no wall-clock time and no port, only virtual time and seeded ids, so the same
//! file and seed give a byte-identical report. Beside the text, a [`Report`] holds each step and
//! final expectation as an [`Item`] (outcome, message, its lines of the text), which the JSON and
//! JUnit reports of [`super::batch`] are written from.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::audit::AuthCheck;

use super::calls::{self, Answer};
use super::expect;
use super::faults::fault_rules;
use super::model::{parse_duration, Scenario, Step};
use super::response::Body;
use super::symbols::Symbols;
use super::world;
use crate::config::Config;
use crate::instance::Instance;
use crate::recorder::CallRecord;
use crate::Emulator;

/// Where every scenario's virtual clock starts: 2024-01-01T00:00:00Z.
pub const SCENARIO_EPOCH_MS: i64 = 1_704_067_200_000;

/// How many log records before a failing step's own calls the report shows.
const LOG_CONTEXT: usize = 5;

/// A flow step handed to the caller's runner.
pub struct FlowRequest<'a> {
    pub flow: &'a str,
    /// The principal the flow acts as (`as:`, default admin).
    pub principal: &'a str,
    /// The step's `inputs`, symbols resolved.
    pub inputs: Value,
    /// The region the flow acts in (`region:`, default the scenario's).
    pub region: &'a str,
    /// The running emulator (endpoint, credentials of each principal).
    pub emulator: &'a Emulator,
    pub symbols: &'a Symbols,
    /// The scenario's cluster id (`cluster.id`), which the provider's flows tag and look for.
    pub cluster_id: Option<&'a str>,
}

/// Why a flow failed: the AWS error code it met (or the flow's own), and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFailure {
    pub code: String,
    pub message: String,
}

pub type FlowFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, FlowFailure>> + Send + 'a>>;

/// Runs cloud-provider flows for `flow:` steps (client-tests implements it with `flows::run`).
pub trait FlowRunner: Sync {
    fn run<'a>(&'a self, request: FlowRequest<'a>) -> FlowFuture<'a>;
}

impl<F> FlowRunner for F
where
    F: for<'a> Fn(FlowRequest<'a>) -> FlowFuture<'a> + Sync,
{
    fn run<'a>(&'a self, request: FlowRequest<'a>) -> FlowFuture<'a> {
        self(request)
    }
}

/// A scenario whose world is built: what the final expectations need.
#[derive(Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    pub symbols: Mutex<Symbols>,
    /// The last call-log entry of the world build: call expectations count what came after.
    pub world_seq: u64,
    /// How many calls building the world took.
    pub world_calls: u64,
}

/// The outcome of the final expectations.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub passed: bool,
    /// (what was checked, the difference when it failed)
    pub checks: Vec<(String, Option<String>)>,
}

impl Verdict {
    /// The JSON `/_awsemu/scenario/verify` answers.
    pub fn to_json(&self, name: &str) -> Value {
        json!({
            "scenario": name,
            "passed": self.passed,
            "checks": self.checks.iter().map(|(what, diff)| json!({
                "check": what, "passed": diff.is_none(), "difference": diff,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub name: String,
    pub passed: bool,
    pub text: String,
    /// Why the run could not start (the emulator or the world): then no step ran.
    pub error: Option<String>,
    /// One per step of the file, in order; those after a failing step are skipped.
    pub steps: Vec<Item>,
    /// One per final expectation (`state` ones, then `calls` ones); skipped when a step failed.
    pub expectations: Vec<Item>,
    /// Where the virtual clock ended, from the scenario's epoch.
    pub virtual_ms: i64,
    /// Wall time of the whole run; kept out of `text`, which must repeat byte for byte.
    pub wall: Duration,
    /// What IAM was asked during the steps (not the world's building), by caller ARN: what
    /// `--suggest-policy` makes policies from.
    pub authorizations: Vec<(String, AuthCheck)>,
}

/// How a step or a final expectation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run: an earlier step failed, or the world could not be built.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One step or final expectation of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its line of the text report after PASS/FAIL: `step 2: call ec2:AttachVolume as worker`,
    /// `expect state: 2 volumes`. A skipped state expectation, never described, is `expect state #N`.
    pub title: String,
    pub outcome: Outcome,
    /// The first difference of a failure, or why it was skipped.
    pub message: Option<String>,
    /// Its lines of the text report (a failing step's call log included); empty when skipped.
    pub text: String,
    /// Virtual time it took.
    pub virtual_ms: i64,
    /// Wall time it took (never in `text`).
    pub wall: Duration,
}

impl Item {
    fn skipped(title: String, why: &str) -> Item {
        Item {
            title,
            outcome: Outcome::Skipped,
            message: Some(why.to_string()),
            text: String::new(),
            virtual_ms: 0,
            wall: Duration::ZERO,
        }
    }
}

/// What a run collects beside its text.
#[derive(Default)]
struct Items {
    steps: Vec<Item>,
    expectations: Vec<Item>,
    virtual_ms: i64,
    /// Whether the final expectations were checked (every step passed).
    verified: bool,
    /// The steps' authorizations, by caller ARN.
    authorizations: Vec<(String, AuthCheck)>,
}

/// Reads and parses a scenario file; also returns its folder (policy files are relative to it).
pub fn load_file(path: &Path) -> Result<(Scenario, Option<PathBuf>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let s = Scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((s, path.parent().map(Path::to_path_buf)))
}

/// The emulator configuration a scenario asks for (on top of `base`).
pub fn config(s: &Scenario, mut base: Config) -> Config {
    base.seed = s.seed;
    base.default_region = s.region.clone();
    for r in s.regions() {
        let opt_in = crate::state::regions::region(r).is_some_and(|d| d.opt_in);
        if opt_in && !base.opt_in_regions.iter().any(|o| o == r) {
            base.opt_in_regions.push(r.to_string());
        }
    }
    base.timing = s.timing;
    base.iam = s.iam;
    base.manual_clock_start_ms = Some(SCENARIO_EPOCH_MS);
    base
}

/// Builds the world and adds the faults (after the world, so they hit only the steps' calls).
pub fn prepare(
    instance: &Instance,
    s: &Scenario,
    base_dir: Option<&Path>,
) -> Result<Loaded, String> {
    let before = instance.calls.last_seq();
    if let Some(state) = &s.world.state {
        let path = base_dir
            .map(|d| d.join(state))
            .unwrap_or_else(|| state.into());
        crate::snapshot::Snapshot::read_file(&path)
            .and_then(|snapshot| instance.restore(&snapshot))
            .map_err(|e| format!("world: {e}"))?;
    }
    let symbols = world::build(instance, s, base_dir)?;
    for spec in fault_rules(&s.faults)? {
        instance.faults.add(spec)?;
    }
    let world_seq = instance.calls.last_seq();
    Ok(Loaded {
        scenario: s.clone(),
        symbols: Mutex::new(symbols),
        world_seq,
        world_calls: world_seq - before,
    })
}

fn symbols_of(loaded: &Loaded) -> Symbols {
    match loaded.symbols.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// Checks the final expectations now.
pub fn verify(instance: &Instance, loaded: &Loaded) -> Verdict {
    let checks: Vec<_> = verify_timed(instance, loaded)
        .into_iter()
        .map(|(what, diff, _)| (what, diff))
        .collect();
    Verdict {
        passed: checks.iter().all(|(_, d)| d.is_none()),
        checks,
    }
}

/// The final expectations, each with the wall time its check took (JUnit shows it).
fn verify_timed(instance: &Instance, loaded: &Loaded) -> Vec<(String, Option<String>, Duration)> {
    let symbols = symbols_of(loaded);
    // The state checks' own admin calls come after this and are not the scenario's.
    let horizon = instance.calls.last_seq();
    let mut checks = Vec::new();
    for e in &loaded.scenario.expect.state {
        let started = Instant::now();
        let (what, diff) = match expect::check_state(instance, e, &symbols) {
            Ok(d) => (format!("state: {d}"), None),
            Err((d, why)) => (format!("state: {d}"), Some(why)),
        };
        checks.push((what, diff, started.elapsed()));
    }
    let records: Vec<CallRecord> = instance
        .calls
        .since(loaded.world_seq)
        .into_iter()
        .filter(|r| r.seq <= horizon)
        .collect();
    for e in &loaded.scenario.expect.calls {
        let started = Instant::now();
        let (what, diff) = match expect::check_calls(e, &records) {
            Ok(d) => (format!("calls: {d}"), None),
            Err((d, why)) => (format!("calls: {d}"), Some(why)),
        };
        checks.push((what, diff, started.elapsed()));
    }
    checks
}

/// The final expectations of `s` as skipped items: a state check is described only when it
/// runs (its description resolves symbols), a call fact's description needs no state.
fn skipped_expectations(s: &Scenario, why: &str) -> Vec<Item> {
    let state = (s.expect.state.iter().enumerate())
        .map(|(i, _)| Item::skipped(format!("expect state #{}", i + 1), why));
    let calls = s.expect.calls.iter().map(|e| {
        let desc = match expect::check_calls(e, &[]) {
            Ok(d) | Err((d, _)) => d,
        };
        Item::skipped(format!("expect calls: {desc}"), why)
    });
    state.chain(calls).collect()
}

struct Out<'s> {
    text: String,
    sink: &'s mut dyn FnMut(&str),
}

impl Out<'_> {
    fn line(&mut self, l: impl AsRef<str>) {
        let l = l.as_ref();
        self.text.push_str(l);
        self.text.push('\n');
        (self.sink)(l);
    }
}

/// One call of the log in a report; its region is named when it is not the scenario's.
fn record_line(r: &CallRecord, region: &str) -> String {
    let elsewhere = if r.region.is_empty() || r.region == region {
        String::new()
    } else {
        format!(" in {}", r.region)
    };
    format!(
        "      t+{}ms {}{elsewhere}",
        r.time_ms - SCENARIO_EPOCH_MS,
        r.summary()
    )
}

/// Runs a scenario and reports. `flows` runs `flow:` steps; without it a flow step fails with a
/// message that says so. Each report line also goes to `sink` as it is written.
pub async fn run(
    s: &Scenario,
    base_dir: Option<&Path>,
    flows: Option<&dyn FlowRunner>,
    sink: &mut dyn FnMut(&str),
) -> Report {
    let mut out = Out {
        text: String::new(),
        sink,
    };
    let regions = s.regions();
    out.line(format!(
        "scenario {} (seed {}, region{} {})",
        s.name,
        s.seed,
        if regions.len() > 1 { "s" } else { "" },
        regions.join(", ")
    ));
    if !s.description.is_empty() {
        out.line(format!("  {}", s.description.trim()));
    }
    let started = Instant::now();
    let mut items = Items::default();
    let (passed, error) = match run_inner(s, base_dir, flows, &mut out, &mut items).await {
        Ok(passed) => (passed, None),
        Err(e) => {
            out.line(format!("error: {e}"));
            (false, Some(e))
        }
    };
    out.line(format!("result: {}", if passed { "PASS" } else { "FAIL" }));
    // Whatever did not run, after a failing step or a world that could not be built.
    let why = if error.is_some() {
        "the world could not be built"
    } else {
        "an earlier step failed"
    };
    for (i, step) in s.steps.iter().enumerate().skip(items.steps.len()) {
        items.steps.push(Item::skipped(step_title(i, step), why));
    }
    if !items.verified {
        items.expectations = skipped_expectations(s, why);
    }
    Report {
        name: s.name.clone(),
        passed,
        text: out.text,
        error,
        steps: items.steps,
        expectations: items.expectations,
        virtual_ms: items.virtual_ms,
        wall: started.elapsed(),
        authorizations: items.authorizations,
    }
}

async fn run_inner(
    s: &Scenario,
    base_dir: Option<&Path>,
    flows: Option<&dyn FlowRunner>,
    out: &mut Out<'_>,
    items: &mut Items,
) -> Result<bool, String> {
    let cfg = config(s, Config::default());
    // Flows speak HTTP through the SDK: they need a listening emulator; raw calls do not.
    let emulator = if s.has_flows() && flows.is_some() {
        Some(Emulator::builder().config(cfg.clone()).start().await?)
    } else {
        None
    };
    let instance: Arc<Instance> = match &emulator {
        Some(e) => e.instance().clone(),
        None => Arc::new(Instance::new(cfg)?),
    };
    let loaded = prepare(&instance, s, base_dir)?;
    let settled = instance.clock.now_ms() - SCENARIO_EPOCH_MS;
    items.virtual_ms = settled;
    out.line(if settled > 0 {
        format!(
            "world: built with {} calls, settled at t+{settled}ms",
            loaded.world_calls
        )
    } else {
        format!("world: built with {} calls", loaded.world_calls)
    });
    for (i, step) in s.steps.iter().enumerate() {
        let seq_before = instance.calls.last_seq();
        let (started, clock_before) = (Instant::now(), instance.clock.now_ms());
        let outcome = run_step(&instance, emulator.as_ref(), &loaded, step, flows).await;
        let mut item = Item {
            title: step_title(i, step),
            outcome: Outcome::Passed,
            message: None,
            text: String::new(),
            virtual_ms: instance.clock.now_ms() - clock_before,
            wall: started.elapsed(),
        };
        items.virtual_ms = instance.clock.now_ms() - SCENARIO_EPOCH_MS;
        let title = item.title.clone();
        let made = instance.calls.since(seq_before);
        for r in &made {
            (items.authorizations).extend(
                r.authorizations
                    .iter()
                    .map(|c| (r.principal_arn.clone(), c.clone())),
            );
        }
        let text_from = out.text.len();
        match outcome {
            Ok(()) => {
                out.line(format!("PASS {title}"));
                made.iter()
                    .for_each(|r| out.line(record_line(r, &s.region)));
                item.text = out.text[text_from..].to_string();
                items.steps.push(item);
            }
            Err(why) => {
                item.outcome = Outcome::Failed;
                item.message = Some(why.clone());
                out.line(format!("FAIL {title}"));
                out.line(format!("  first difference: {why}"));
                out.line("  call log around it:");
                let all = instance
                    .calls
                    .since(loaded.world_seq.saturating_sub(LOG_CONTEXT as u64));
                let earlier: Vec<&CallRecord> =
                    all.iter().filter(|r| r.seq <= seq_before).collect();
                let skip = earlier.len().saturating_sub(LOG_CONTEXT);
                earlier
                    .into_iter()
                    .skip(skip)
                    .for_each(|r| out.line(record_line(r, &s.region)));
                out.line("    this step:");
                made.iter()
                    .for_each(|r| out.line(record_line(r, &s.region)));
                out.line(format!(
                    "  {} later steps and the final expectations were not run",
                    s.steps.len() - i - 1
                ));
                item.text = out.text[text_from..].to_string();
                items.steps.push(item);
                return Ok(false);
            }
        }
    }
    items.virtual_ms = instance.clock.now_ms() - SCENARIO_EPOCH_MS;
    items.verified = true;
    let mut passed = true;
    for (what, diff, wall) in verify_timed(&instance, &loaded) {
        let text_from = out.text.len();
        match &diff {
            None => out.line(format!("PASS expect {what}")),
            Some(d) => {
                passed = false;
                out.line(format!("FAIL expect {what}"));
                out.line(format!("  first difference: {d}"));
            }
        }
        items.expectations.push(Item {
            title: format!("expect {what}"),
            outcome: if diff.is_some() {
                Outcome::Failed
            } else {
                Outcome::Passed
            },
            message: diff,
            text: out.text[text_from..].to_string(),
            virtual_ms: 0,
            wall,
        });
    }
    if let Some(e) = emulator {
        e.shutdown().await;
    }
    Ok(passed)
}

fn step_title(i: usize, step: &Step) -> String {
    let what = if let Some(c) = &step.call {
        format!("call {c}")
    } else if let Some(f) = &step.flow {
        format!("flow {f}")
    } else {
        format!("advance {}", step.advance.as_deref().unwrap_or_default())
    };
    let who = step
        .principal
        .as_deref()
        .map(|p| format!(" as {p}"))
        .unwrap_or_default();
    let name = step
        .name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!("step {}: {what}{who}{name}", i + 1)
}

async fn run_step(
    instance: &Instance,
    emulator: Option<&Emulator>,
    loaded: &Loaded,
    step: &Step,
    flows: Option<&dyn FlowRunner>,
) -> Result<(), String> {
    let symbols = symbols_of(loaded);
    let principal = step.principal.as_deref().unwrap_or("admin");
    let answer = if let Some(a) = &step.advance {
        instance
            .clock
            .advance(std::time::Duration::from_millis(parse_duration(a)? as u64));
        return Ok(());
    } else if let Some(c) = &step.call {
        let (service, action) = calls::parse_call_name(c)?;
        let params = symbols.resolve_value(step.params.as_ref().unwrap_or(&Value::Null))?;
        calls::call(
            instance,
            service,
            &action,
            &params,
            principal,
            step.region.as_deref(),
        )?
    } else {
        let flow = step.flow.as_deref().unwrap_or_default();
        let (Some(runner), Some(emulator)) = (flows, emulator) else {
            return Err(format!(
                "flow '{flow}' needs a flow runner: awsemu cannot run cloud-provider flows itself; run this scenario from client-tests (awsemu::scenario::run with client_tests::flows::run)"
            ));
        };
        let inputs = symbols.resolve_value(step.inputs.as_ref().unwrap_or(&Value::Null))?;
        let request = FlowRequest {
            flow,
            principal,
            inputs,
            region: loaded.scenario.region_or_default(step.region.as_deref()),
            emulator,
            symbols: &symbols,
            cluster_id: loaded.scenario.cluster.as_ref().map(|c| c.id.as_str()),
        };
        match runner.run(request).await {
            Ok(v) => Answer {
                status: 200,
                error: None,
                message: None,
                body: Body::Json(v),
                request_id: String::new(),
            },
            Err(f) => Answer {
                status: 400,
                error: Some(f.code),
                message: Some(f.message),
                body: Body::Json(Value::Null),
                request_id: String::new(),
            },
        }
    };
    expect::check_answer(step.expect.as_ref(), &answer, &symbols)?;
    if !step.capture.is_empty() {
        let mut captured = Vec::new();
        for (name, path) in &step.capture {
            let v = answer
                .body
                .text(path)
                .ok_or_else(|| format!("capture {name}: the answer has no {path}"))?;
            captured.push((name.clone(), v));
        }
        if let Ok(mut s) = loaded.symbols.lock() {
            captured.into_iter().for_each(|(k, v)| s.set(k, v));
        }
    }
    Ok(())
}
