//! The `awsemu` command: `serve` the emulator, run and convert `scenario` files, `policy check` a
//! policy document offline, `policy suggest` the least-privilege policy of a run.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use awsemu::config::{Config, FileConfig, IamMode};
use awsemu::iam::{self, PolicyDocument, RequestContext};
use awsemu::instance::Instance;
use awsemu::scenario;
use awsemu::server::limits;

/// An emulator of the AWS APIs the Kubernetes AWS cloud provider uses: EC2, ELB, ELBv2,
/// autoscaling, IAM, STS, KMS and ECR on one loopback endpoint, with SigV4 and real IAM policies.
#[derive(Parser, Debug)]
#[command(name = "awsemu", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve every emulated AWS API on one HTTP endpoint until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Work with IAM policy documents.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run, check and write scenario files (see scenarios/README.md).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
}

#[derive(Subcommand, Debug)]
enum ScenarioCommand {
    /// Replay scenarios (without flow steps), each on a fresh emulator, and report them as text,
    /// JSON or JUnit XML; exit 0 when all pass, 1 when one fails, 2 when a file does not load.
    Run(scenario::batch::RunArgs),
    /// Validate a scenario file without running it.
    Check { file: PathBuf },
    /// Turn a recording (`serve --record`) into a scenario that replays its calls.
    FromRecording {
        recording: PathBuf,
        /// Where to write the scenario (YAML).
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// The scenario's name (default: the output file's stem).
        #[arg(long)]
        name: Option<String>,
        /// The seed the recorded emulator ran with, so a replay gets the same ids.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value = awsemu::config::DEFAULT_REGION)]
        region: String,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on. Any non-loopback address exposes the emulator to the network: a
    /// warning is printed, and the admin endpoints then want admin-signed requests.
    #[arg(long, default_value = "127.0.0.1", env = "AWSEMU_BIND")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free port (printed at start).
    #[arg(long, default_value_t = 4566, env = "AWSEMU_PORT")]
    port: u16,
    /// The 12-digit account id every resource lives in.
    #[arg(long, env = "AWSEMU_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Region of requests that do not name one (unsigned requests).
    #[arg(long, env = "AWSEMU_REGION")]
    region: Option<String>,
    /// JSON config file: principals, roles, policy documents, account, seed (see README).
    #[arg(long, env = "AWSEMU_CONFIG")]
    config: Option<PathBuf>,
    /// enforce: deny what policies do not allow; audit: allow but report would-be denials at
    /// /_awsemu/audit; off: accept any credentials and signature, acting as admin.
    #[arg(long, value_enum, env = "AWSEMU_IAM")]
    iam: Option<IamMode>,
    /// Seed for generated ids, so runs repeat exactly.
    #[arg(long, env = "AWSEMU_SEED")]
    seed: Option<u64>,
    /// How long state transitions take: instant (deterministic; the next observation sees the end
    /// state), fast (tens of milliseconds), realistic (AWS-like seconds).
    #[arg(long, value_enum, env = "AWSEMU_TIMING")]
    timing: Option<awsemu::state::timing::Timing>,
    /// Enable an opt-in region (repeatable), e.g. af-south-1.
    #[arg(long = "opt-in-region")]
    opt_in_regions: Vec<String>,
    /// Live instances allowed per region before RunInstances answers InstanceLimitExceeded.
    #[arg(long, default_value_t = awsemu::config::DEFAULT_INSTANCE_LIMIT)]
    instance_limit: usize,
    /// Load balancers allowed per region and kind (default: AWS's quotas, 20 classic, 50 ALB/NLB).
    #[arg(long)]
    load_balancer_limit: Option<usize>,
    /// Largest request body accepted, in bytes [default: 10485760].
    #[arg(long)]
    max_body_bytes: Option<usize>,
    /// Time a client has to send a whole request (head and body) before the connection is
    /// closed (200ms, 10s, 2m) [default: 10s].
    #[arg(long, value_parser = limits::parse_duration)]
    header_read_timeout: Option<Duration>,
    /// Time a keep-alive connection may wait for its next request before it is closed
    /// [default: 60s].
    #[arg(long, value_parser = limits::parse_duration)]
    idle_timeout: Option<Duration>,
    /// Connections served at once; more wait until one closes [default: 1024].
    #[arg(long)]
    max_connections: Option<usize>,
    /// Largest request head (request line and headers) in bytes; larger gets 431 [default: 65536].
    #[arg(long)]
    max_header_bytes: Option<usize>,
    /// Most headers in one request; more gets 431 [default: 100].
    #[arg(long)]
    max_headers: Option<usize>,
    /// Load a scenario's world and faults (its seed, region, timing and IAM mode apply), answer
    /// GET /_awsemu/scenario/verify with its final expectations, and check them at shutdown.
    #[arg(long, env = "AWSEMU_SCENARIO")]
    scenario: Option<PathBuf>,
    /// Write every answered call to this file as JSON lines (see `scenario from-recording`).
    #[arg(long, env = "AWSEMU_RECORD")]
    record: Option<PathBuf>,
    /// Keep the world in this file: restored at start when it exists (a file of another format
    /// version, or a damaged one, is refused), written atomically at shutdown (SIGTERM, Ctrl-C)
    /// and on POST /_awsemu/snapshot.
    #[arg(long, env = "AWSEMU_STATE_FILE")]
    state_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Evaluate one request against a policy document and print allow or deny with the deciding statement.
    Check(CheckArgs),
    /// Print, per role or user, the smallest policy that allows exactly the calls it made: from a
    /// running server (run it with --iam audit and an empty role to see everything a flow needs)
    /// or a --record file.
    Suggest(SuggestArgs),
}

#[derive(Args, Debug)]
struct SuggestArgs {
    /// A running awsemu (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:4566).
    #[arg(long, conflicts_with = "record")]
    endpoint: Option<String>,
    /// A recording made by `awsemu serve --record FILE`, instead of a running server.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Only this role or user (name or ARN; repeatable).
    #[arg(long = "principal", value_name = "NAME")]
    principals: Vec<String>,
    /// List what this policy allows that the calls never used: controlplane, etcd, worker, or a
    /// JSON file.
    #[arg(long, value_name = "POLICY")]
    compare: Option<String>,
    /// text: a commented policy document per holder; json: one document for programs.
    #[arg(long, value_enum, default_value_t = SuggestFormat::Text)]
    format: SuggestFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum SuggestFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The identity policy document (JSON).
    #[arg(long)]
    policy: PathBuf,
    /// The action, e.g. ec2:CreateVolume.
    #[arg(long)]
    action: String,
    /// The resource ARN.
    #[arg(long, default_value = "*")]
    resource: String,
    /// A request-context key and value, e.g. aws:RequestedRegion=us-east-1 (repeatable; repeat a key for several values).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Policy(PolicyCommand::Check(args)) => policy_check(args),
        Command::Policy(PolicyCommand::Suggest(args)) => policy_suggest(args),
        Command::Scenario(cmd) => scenario_command(cmd),
    }
}

/// Flags over the config file over `config` (the defaults, or a scenario's settings).
fn build_config(args: &ServeArgs, mut config: Config) -> Result<Config, String> {
    if let Some(path) = &args.config {
        FileConfig::load(path)?.apply(&mut config, Some(path));
    }
    if let Some(a) = &args.account_id {
        config.account_id = a.clone();
    }
    if let Some(r) = &args.region {
        config.default_region = r.clone();
    }
    if let Some(i) = args.iam {
        config.iam = i;
    }
    if let Some(s) = args.seed {
        config.seed = s;
    }
    if let Some(t) = args.timing {
        config.timing = t;
    }
    config
        .opt_in_regions
        .extend(args.opt_in_regions.iter().cloned());
    if let Some(n) = args.max_body_bytes {
        config.max_body_bytes = n;
    }
    let limits = &mut config.limits;
    if let Some(t) = args.header_read_timeout {
        limits.header_read_timeout = t;
    }
    if let Some(t) = args.idle_timeout {
        limits.idle_timeout = t;
    }
    if let Some(n) = args.max_connections {
        limits.max_connections = n;
    }
    if let Some(n) = args.max_header_bytes {
        limits.max_header_bytes = n;
    }
    if let Some(n) = args.max_headers {
        limits.max_headers = n;
    }
    if let Some(f) = &args.state_file {
        config.state_file = Some(f.clone());
    }
    config.exposed = !args.bind.is_loopback();
    config.instance_limit = args.instance_limit;
    if args.load_balancer_limit.is_some() {
        config.load_balancer_limit = args.load_balancer_limit;
    }
    Ok(config)
}

fn serve(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let scenario = match args
        .scenario
        .as_deref()
        .map(scenario::load_file)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("awsemu: {e}");
            return ExitCode::from(2);
        }
    };
    // A scenario's seed, region, timing and IAM mode, under the config file and flags; the clock
    // stays real for outside clients (a manual clock would never move).
    let base = match &scenario {
        Some((s, _)) => {
            let mut c = scenario::runner::config(s, Config::default());
            c.manual_clock_start_ms = None;
            c
        }
        None => Config::default(),
    };
    let config = build_config(&args, base);
    let instance = match config.and_then(Instance::new) {
        Ok(i) => Arc::new(i),
        Err(e) => {
            eprintln!("awsemu: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.record {
        if let Err(e) = instance.calls.record_to(path) {
            eprintln!("awsemu: {e}");
            return ExitCode::from(2);
        }
    }
    if let Some((s, dir)) = &scenario {
        match scenario::prepare(&instance, s, dir.as_deref()) {
            Ok(loaded) => {
                let _ = instance.scenario.set(Arc::new(loaded));
            }
            Err(e) => {
                eprintln!("awsemu: scenario {}: {e}", s.name);
                return ExitCode::from(2);
            }
        }
    }
    // The state file, when there is one, carries on the world it saved (over a scenario's).
    if let Some(path) = instance.config.state_file.clone() {
        awsemu::snapshot::remove_stale_temporaries(&path);
        if path.exists() {
            let restored = awsemu::Snapshot::read_file(&path).and_then(|s| {
                instance
                    .restore(&s)
                    .map_err(|e| format!("state file {}: {e}", path.display()))
            });
            if let Err(e) = restored {
                eprintln!("awsemu: {e}");
                return ExitCode::from(2);
            }
            tracing::info!(path = %path.display(), "restored the state file");
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("awsemu: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let addr = SocketAddr::new(args.bind, args.port);
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("awsemu: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let local = listener.local_addr().unwrap_or(addr);
        if instance.config.exposed {
            eprintln!("{}", awsemu::exposure::warning(local));
        }
        let shutdown = shutdown_signal();
        print_banner(&instance, local);
        awsemu::server::serve(listener, instance.clone(), shutdown).await;
        tracing::info!("awsemu stopped");
        if let Some(path) = &instance.config.state_file {
            let snapshot = instance.snapshot();
            match instance.snapshots.write_file(&snapshot, path) {
                Ok(bytes) => tracing::info!(path = %path.display(), bytes, "wrote the state file"),
                Err(e) => {
                    eprintln!("awsemu: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        match instance.scenario.get() {
            Some(loaded) => print_verdict(&instance, loaded),
            None => ExitCode::SUCCESS,
        }
    })
}

fn print_banner(instance: &Instance, addr: SocketAddr) {
    use std::io::Write;
    let g = instance.current();
    let mut out = String::new();
    out.push_str(&format!(
        "awsemu {} listening on http://{addr}\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&format!(
        "account {}  default region {}  iam {:?}\n\n",
        instance.config.account_id, instance.config.default_region, instance.config.iam
    ));
    out.push_str(&format!(
        "{:<14} {:<20} {:<20} {}\n",
        "principal", "access key id", "secret access key", "policies"
    ));
    for c in g.identities.long_lived_keys() {
        out.push_str(&format!(
            "{:<14} {:<20} {:<20} {}\n",
            c.principal.name,
            c.access_key_id,
            c.secret_access_key,
            g.identities.policy_names(&c.principal).join(", ")
        ));
    }
    out.push_str(&format!("\nexport AWS_ENDPOINT_URL=http://{addr}\n"));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: called before the banner, a signal sent as soon as the banner is read
/// still shuts down cleanly (and writes the state file) instead of killing the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        let _ = s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        let _ = s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = int => {},
                _ = term => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

fn policy_check(args: CheckArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.policy) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("awsemu: cannot read {}: {e}", args.policy.display());
            return ExitCode::from(2);
        }
    };
    let document = match PolicyDocument::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("awsemu: {}: {e}", args.policy.display());
            return ExitCode::from(2);
        }
    };
    let name = args
        .policy
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into());
    let mut ctx = RequestContext::new(args.action.as_str(), args.resource.as_str());
    for kv in &args.context {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("awsemu: --context wants KEY=VALUE, got '{kv}'");
            return ExitCode::from(2);
        };
        ctx = ctx.with(k, v);
    }
    let policies = [iam::Policy {
        name,
        document: Arc::new(document),
    }];
    let eval = iam::evaluate(&policies, &ctx);
    println!("{}", iam::explain(&eval));
    match eval.decision {
        iam::Decision::Allow => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

fn policy_suggest(args: SuggestArgs) -> ExitCode {
    use awsemu::least_privilege as lp;
    let all = match &args.record {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|t| awsemu::recorder::read_recording(&t))
            .map(|records| lp::from_records(&records)),
        None => {
            let endpoint = (args.endpoint.clone())
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
                .unwrap_or_else(|| "http://127.0.0.1:4566".into());
            http_get(&endpoint, "/_awsemu/authorizations").and_then(|body| {
                let listed: Vec<serde_json::Value> = serde_json::from_str(&body).map_err(|e| {
                    format!("{endpoint} did not answer a list of authorizations: {e}")
                })?;
                let uses: Vec<(String, awsemu::audit::AuthCheck)> = (listed.into_iter())
                    .map(|v| {
                        let caller = v["caller"].as_str().unwrap_or_default().to_string();
                        serde_json::from_value(v["check"].clone()).map(|c| (caller, c))
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("{endpoint}: an authorization did not parse: {e}"))?;
                Ok(lp::suggest(uses.iter().map(|(c, a)| (c.as_str(), a))))
            })
        }
    };
    match all.and_then(|all| lp::finish(all, &args.principals, args.compare.as_deref())) {
        Ok(chosen) => {
            match args.format {
                SuggestFormat::Text => print!("{}", lp::to_text(&chosen)),
                SuggestFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&lp::to_json(&chosen)).unwrap_or_default()
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("awsemu: {e}");
            ExitCode::from(2)
        }
    }
}

/// A GET of `path` on a plain-HTTP endpoint (`http://host:port`), for the admin endpoints of a
/// local server: one request, `Connection: close`, the body of a 200 answer.
fn http_get(endpoint: &str, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("{endpoint}: only http:// endpoints are supported"))?
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority)
        .map_err(|e| format!("cannot connect to {endpoint}: {e}"))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{endpoint}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("{endpoint}: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{endpoint}: not an HTTP answer"))?;
    let status = head.split(' ').nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("{endpoint}{path} answered {status}: {body}"));
    }
    Ok(body.to_string())
}

/// The final expectations of a served scenario, at shutdown.
fn print_verdict(instance: &Instance, loaded: &scenario::Loaded) -> ExitCode {
    let verdict = scenario::verify(instance, loaded);
    println!("scenario {}: final expectations", loaded.scenario.name);
    for (what, diff) in &verdict.checks {
        match diff {
            None => println!("PASS expect {what}"),
            Some(d) => println!("FAIL expect {what}\n  first difference: {d}"),
        }
    }
    println!("result: {}", if verdict.passed { "PASS" } else { "FAIL" });
    if verdict.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn scenario_command(cmd: ScenarioCommand) -> ExitCode {
    match cmd {
        ScenarioCommand::Check { file } => match scenario::load_file(&file) {
            Ok((s, _)) => {
                println!("{}: ok ({} steps)", s.name, s.steps.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("awsemu: {e}");
                ExitCode::from(2)
            }
        },
        ScenarioCommand::Run(args) => {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("awsemu: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(scenario::batch::run_all(&args, None, "awsemu"))
        }
        ScenarioCommand::FromRecording {
            recording,
            output,
            name,
            seed,
            region,
        } => {
            let result = std::fs::read_to_string(&recording)
                .map_err(|e| format!("cannot read {}: {e}", recording.display()))
                .and_then(|t| {
                    awsemu::recorder::read_recording(&t)
                        .map_err(|e| format!("{}: {e}", recording.display()))
                })
                .and_then(|records| {
                    let name = name.unwrap_or_else(|| {
                        output
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_else(|| "recording".into())
                    });
                    let s = scenario::recording::scenario_from(&records, &name, seed, &region);
                    scenario::recording::to_yaml(&s).map(|y| (y, records.len()))
                })
                .and_then(|(yaml, n)| {
                    std::fs::write(&output, yaml)
                        .map_err(|e| format!("cannot write {}: {e}", output.display()))
                        .map(|_| n)
                });
            match result {
                Ok(n) => {
                    println!("wrote {} ({n} calls)", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("awsemu: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
