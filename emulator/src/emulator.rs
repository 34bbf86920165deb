//! Embedding: start an isolated emulator inside a test, talk to it over loopback HTTP, drop it.
//!
//! ```no_run
//! # async fn demo() {
//! let emu = awsemu::Emulator::builder().seed(7).start().await.unwrap();
//! let creds = emu.credentials("worker").unwrap();
//! println!("{} {} {}", emu.endpoint(), creds.access_key_id, emu.region());
//! emu.shutdown().await;
//! # }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::identities::IdentityConfig;
use crate::config::{Config, FileConfig, IamMode};
use crate::faults::{FaultSpec, Faults};
use crate::instance::Instance;
use crate::snapshot::Snapshot;

/// Builds an [`Emulator`].
#[derive(Debug, Default, Clone)]
pub struct EmulatorBuilder {
    config: Config,
    from: Option<Snapshot>,
}

/// Access keys for one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl EmulatorBuilder {
    pub fn account_id(mut self, account: impl Into<String>) -> Self {
        self.config.account_id = account.into();
        self
    }

    /// The region of unsigned requests and the one [`Emulator::region`] reports.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.default_region = region.into();
        self
    }

    pub fn iam(mut self, mode: IamMode) -> Self {
        self.config.iam = mode;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    pub fn identities(mut self, identities: IdentityConfig) -> Self {
        self.config.identities = identities;
        self
    }

    pub fn opt_in_region(mut self, region: impl Into<String>) -> Self {
        self.config.opt_in_regions.push(region.into());
        self
    }

    /// How long state transitions take (`instant` by default).
    pub fn timing(mut self, timing: crate::state::timing::Timing) -> Self {
        self.config.timing = timing;
        self
    }

    /// Minimum time between two ModifyVolume calls on one volume (AWS: six hours).
    pub fn volume_modification_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.volume_modification_cooldown_secs = cooldown.as_secs() as i64;
        self
    }

    /// Live instances allowed per region before RunInstances answers `InstanceLimitExceeded`.
    pub fn instance_limit(mut self, limit: usize) -> Self {
        self.config.instance_limit = limit;
        self
    }

    /// Load balancers allowed per region and kind, instead of AWS's default quotas.
    pub fn load_balancer_limit(mut self, limit: usize) -> Self {
        self.config.load_balancer_limit = Some(limit);
        self
    }

    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// Time a client has to send a whole request, head and body (default 10 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.limits.header_read_timeout = timeout;
        self
    }

    /// Time a keep-alive connection may wait for its next request (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.limits.idle_timeout = timeout;
        self
    }

    /// Connections served at once; more wait until one closes (default 1024).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.limits.max_connections = n;
        self
    }

    /// Largest request head (request line and headers) in bytes; larger gets 431 (default 64 KiB).
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.config.limits.max_header_bytes = bytes;
        self
    }

    /// Most headers in one request; more gets 431 (default 100).
    pub fn max_headers(mut self, n: usize) -> Self {
        self.config.limits.max_headers = n;
        self
    }

    /// Treats the server as reachable from other hosts even on a loopback address: the admin
    /// endpoints want admin-signed requests (see [`crate::exposure`]). A non-loopback
    /// [`EmulatorBuilder::start_on`] address sets it anyway.
    pub fn exposed(mut self, exposed: bool) -> Self {
        self.config.exposed = exposed;
        self
    }

    /// A clock that stands still until [`Emulator::advance`] moves it, starting at `start_ms`.
    pub fn manual_clock(mut self, start_ms: i64) -> Self {
        self.config.manual_clock_start_ms = Some(start_ms);
        self
    }

    /// Starts with this fault entry in force (a [`crate::faults::FaultRule`], a
    /// [`crate::faults::ThrottleSpec`] or a [`crate::faults::ConsistencySpec`]); like the config
    /// file's `faults`, it survives reset.
    pub fn fault(mut self, spec: impl Into<FaultSpec>) -> Self {
        self.config.faults.push(spec.into());
        self
    }

    /// Starts with these fault entries in force.
    pub fn faults(mut self, specs: impl IntoIterator<Item = FaultSpec>) -> Self {
        self.config.faults.extend(specs);
        self
    }

    /// Applies a `--config` file.
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Result<Self, String> {
        let path = path.as_ref();
        FileConfig::load(path)?.apply(&mut self.config, Some(path));
        Ok(self)
    }

    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Starts from a snapshot's world ([`Emulator::snapshot`]) instead of a fresh one: its
    /// resources, ids, clock, IAM entities, faults and audit. Its account is taken, and a manual
    /// clock if it had one; the rest of the configuration is this builder's. Each emulator gets
    /// its own copy, so any number can start from one snapshot without seeing each other.
    pub fn from_snapshot(mut self, snapshot: &Snapshot) -> Self {
        self.from = Some(snapshot.clone());
        self
    }

    /// Starts on `127.0.0.1` with a free port.
    pub async fn start(self) -> Result<Emulator, String> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on the given address.
    pub async fn start_on(mut self, addr: SocketAddr) -> Result<Emulator, String> {
        self.config.exposed |= !addr.ip().is_loopback();
        if let Some(s) = &self.from {
            self.config.account_id = s.account_id().to_string();
            if s.picture().manual_clock && self.config.manual_clock_start_ms.is_none() {
                self.config.manual_clock_start_ms = Some(s.clock_ms());
            }
        }
        let instance = Arc::new(Instance::new(self.config)?);
        if let Some(s) = &self.from {
            instance.restore(s)?;
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot bind {addr}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::server::serve(
            listener,
            instance.clone(),
            async move {
                let _ = rx.await;
            },
        ));
        Ok(Emulator {
            addr,
            instance,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server; [`Emulator::shutdown`] also waits for it.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    instance: Arc<Instance>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url` / `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default region.
    pub fn region(&self) -> &str {
        &self.instance.config.default_region
    }

    pub fn account_id(&self) -> &str {
        &self.instance.config.account_id
    }

    /// The access keys of a principal by name (`admin`, `controlplane`, `etcd`, `worker`, or one
    /// from the config).
    pub fn credentials(&self, principal: &str) -> Option<Credentials> {
        self.instance
            .current()
            .identities
            .key_of(principal)
            .map(|c| Credentials {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
            })
    }

    /// The metadata service endpoint of an instance (`http://127.0.0.1:PORT`), for
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`; its listener opens on first use.
    pub async fn imds_endpoint(&self, instance_id: &str) -> Result<String, String> {
        crate::imds::endpoint(&self.instance, instance_id).await
    }

    /// Moves the virtual clock forward.
    pub fn advance(&self, by: Duration) {
        self.instance.clock.advance(by);
    }

    /// The faults in force: [`Faults::list`] shows them with what is left of their counts.
    pub fn faults(&self) -> &Faults {
        &self.instance.faults
    }

    /// Adds a fault entry live (reset clears it). Panics on an invalid entry: a test wrote it.
    pub fn inject(&self, spec: impl Into<FaultSpec>) {
        if let Err(e) = self.instance.faults.add(spec) {
            panic!("invalid fault: {e}");
        }
    }

    /// Removes every fault entry, the configured ones too (until the next reset).
    pub fn clear_faults(&self) {
        self.instance.faults.clear();
    }

    /// Back to the initial world.
    pub fn reset(&self) -> Result<(), String> {
        self.instance.reset()
    }

    /// The whole emulator now: resources, ids, clock, IAM entities, faults, audit (see
    /// [`crate::snapshot`]). Restore it here or start other emulators from it
    /// ([`EmulatorBuilder::from_snapshot`]); [`Snapshot::write_file`] keeps it on disk.
    pub fn snapshot(&self) -> Snapshot {
        self.instance.snapshot()
    }

    /// Back to a snapshot's world: from here on the emulator answers as it did when the snapshot
    /// was taken (same ids next, same clock).
    pub fn restore(&self, snapshot: &Snapshot) -> Result<(), String> {
        self.instance.restore(snapshot)
    }

    /// The instance behind the server, for direct inspection in tests.
    pub fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
