//! Configuration of one emulator: from CLI flags, the `--config` file, or the embedding builder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::identities::IdentityConfig;

/// How IAM decisions are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum IamMode {
    /// Deny what the policies do not allow, as AWS does.
    #[default]
    Enforce,
    /// Allow everything, but log and count each call that would be denied, so a user can discover
    /// the policy a flow needs (`/_awsemu/audit`).
    Audit,
    /// Accept any credentials with any signature and act as admin (for tools that sign with
    /// arbitrary keys, as LocalStack and moto allow).
    Off,
}

/// The default account id.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The default region of unsigned requests.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The default per-region instance quota.
pub const DEFAULT_INSTANCE_LIMIT: usize = 1000;
/// Largest request body accepted: past it the request is refused unread.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// Everything that shapes one emulator instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub account_id: String,
    /// The region of requests that name none (unsigned ones).
    pub default_region: String,
    pub iam: IamMode,
    pub identities: IdentityConfig,
    /// Where relative policy file paths in `identities` are resolved.
    pub base_dir: Option<PathBuf>,
    /// Seed of every generated id and random choice.
    pub seed: u64,
    /// Opt-in regions this account has enabled.
    pub opt_in_regions: Vec<String>,
    pub max_body_bytes: usize,
    /// How long state transitions take.
    pub timing: crate::state::timing::Timing,
    /// Minimum time between two ModifyVolume calls on one volume (AWS: six hours).
    pub volume_modification_cooldown_secs: i64,
    /// Running instances the account may have per region before RunInstances answers
    /// `InstanceLimitExceeded`, as an AWS account's quota does.
    pub instance_limit: usize,
    /// Load balancers allowed per region and kind (classic, application, network, gateway);
    /// `None` keeps AWS's default quotas (20 classic, 50 application, 50 network, 100 gateway).
    pub load_balancer_limit: Option<usize>,
    /// `Some(start)`: a manual clock at `start` ms since the epoch; `None`: wall-clock time.
    pub manual_clock_start_ms: Option<i64>,
    /// Faults in force from the start and again after each reset (see [`crate::faults`]).
    pub faults: Vec<crate::faults::FaultSpec>,
    /// Connection limits: header and idle timeouts, concurrent connections, head size.
    pub limits: crate::server::limits::Limits,
    /// Reachable from other hosts (bound to a non-loopback address): the admin endpoints then
    /// want a request signed with an admin principal's keys (see [`crate::exposure`]). Set by
    /// `serve --bind` and [`crate::EmulatorBuilder::start_on`] for a non-loopback address.
    pub exposed: bool,
    /// `serve --state-file`: restored at start when it exists, written at shutdown and on
    /// `POST /_awsemu/snapshot` (see [`crate::snapshot`]).
    pub state_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            account_id: DEFAULT_ACCOUNT.to_string(),
            default_region: DEFAULT_REGION.to_string(),
            iam: IamMode::Enforce,
            identities: IdentityConfig::default(),
            base_dir: None,
            seed: 0,
            opt_in_regions: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            manual_clock_start_ms: None,
            timing: Default::default(),
            volume_modification_cooldown_secs: 6 * 3600,
            instance_limit: DEFAULT_INSTANCE_LIMIT,
            load_balancer_limit: None,
            faults: Vec::new(),
            limits: Default::default(),
            exposed: false,
            state_file: None,
        }
    }
}

/// The `--config` file (JSON). Every field is optional; the identity fields are those of
/// [`IdentityConfig`] (`replace_defaults`, `policies`, `roles`, `principals`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FileConfig {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub iam: Option<IamMode>,
    pub seed: Option<u64>,
    pub timing: Option<crate::state::timing::Timing>,
    pub volume_modification_cooldown_secs: Option<i64>,
    pub instance_limit: Option<usize>,
    pub load_balancer_limit: Option<usize>,
    #[serde(default)]
    pub opt_in_regions: Vec<String>,
    /// Fault entries (rules, `throttle`, `consistency`) applied at start and on reset.
    #[serde(default)]
    pub faults: Vec<crate::faults::FaultSpec>,
    pub max_body_bytes: Option<usize>,
    pub header_read_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    /// Relative to the config file's folder.
    pub state_file: Option<PathBuf>,
    #[serde(flatten)]
    pub identities: IdentityConfig,
}

const FILE_KEYS: &[&str] = &[
    "account_id",
    "region",
    "iam",
    "seed",
    "timing",
    "volume_modification_cooldown_secs",
    "instance_limit",
    "load_balancer_limit",
    "opt_in_regions",
    "faults",
    "max_body_bytes",
    "header_read_timeout_ms",
    "idle_timeout_ms",
    "max_connections",
    "max_header_bytes",
    "max_headers",
    "state_file",
    "replace_defaults",
    "policies",
    "roles",
    "principals",
];

impl FileConfig {
    /// Parses a config file's text. Unknown keys are refused by name (serde's flatten cannot).
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("config is not valid JSON: {e}"))?;
        let Some(obj) = value.as_object() else {
            return Err("config must be a JSON object".into());
        };
        if let Some(k) = obj.keys().find(|k| !FILE_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown config key '{k}' (known: {})",
                FILE_KEYS.join(", ")
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("config: {e}"))
    }

    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Lays the file's settings over `config`.
    pub fn apply(self, config: &mut Config, path: Option<&Path>) {
        if let Some(a) = self.account_id {
            config.account_id = a;
        }
        if let Some(r) = self.region {
            config.default_region = r;
        }
        if let Some(i) = self.iam {
            config.iam = i;
        }
        if let Some(s) = self.seed {
            config.seed = s;
        }
        if let Some(t) = self.timing {
            config.timing = t;
        }
        if let Some(c) = self.volume_modification_cooldown_secs {
            config.volume_modification_cooldown_secs = c;
        }
        if let Some(n) = self.instance_limit {
            config.instance_limit = n;
        }
        if let Some(n) = self.load_balancer_limit {
            config.load_balancer_limit = Some(n);
        }
        if let Some(n) = self.max_body_bytes {
            config.max_body_bytes = n;
        }
        let limits = &mut config.limits;
        if let Some(ms) = self.header_read_timeout_ms {
            limits.header_read_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = self.idle_timeout_ms {
            limits.idle_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(n) = self.max_connections {
            limits.max_connections = n;
        }
        if let Some(n) = self.max_header_bytes {
            limits.max_header_bytes = n;
        }
        if let Some(n) = self.max_headers {
            limits.max_headers = n;
        }
        if let Some(f) = self.state_file {
            let dir = path
                .and_then(Path::parent)
                .filter(|d| !d.as_os_str().is_empty());
            config.state_file = Some(match dir {
                Some(d) if f.is_relative() => d.join(f),
                _ => f,
            });
        }
        config.opt_in_regions.extend(self.opt_in_regions);
        config.faults.extend(self.faults);
        config.identities = self.identities;
        config.base_dir = path.and_then(Path::parent).map(Path::to_path_buf);
    }
}

impl Config {
    /// Checks what the types cannot: a 12-digit account, known regions.
    pub fn validate(&self) -> Result<(), String> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "account id '{}' must be 12 digits",
                self.account_id
            ));
        }
        for r in std::iter::once(&self.default_region).chain(&self.opt_in_regions) {
            if crate::state::regions::region(r).is_none() {
                return Err(format!("unknown region '{r}'"));
            }
        }
        self.limits.validate()
    }

    /// Whether calls to `region` are served (known, and enabled if opt-in).
    pub fn region_enabled(&self, region: &str) -> bool {
        crate::state::regions::region(region)
            .is_some_and(|r| !r.opt_in || self.opt_in_regions.iter().any(|o| o == region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_config_refuses_unknown_keys_and_applies() {
        assert!(FileConfig::parse(r#"{"acount_id": "1"}"#)
            .unwrap_err()
            .contains("acount_id"));
        let f = FileConfig::parse(r#"{"account_id": "111122223333", "iam": "audit", "opt_in_regions": ["af-south-1"], "replace_defaults": true}"#).unwrap();
        let mut c = Config::default();
        f.apply(&mut c, None);
        assert_eq!(c.account_id, "111122223333");
        assert_eq!(c.iam, IamMode::Audit);
        assert!(c.identities.replace_defaults);
        assert!(c.region_enabled("af-south-1"));
        assert!(!Config::default().region_enabled("af-south-1"));
        assert!(Config::default().region_enabled("eu-west-1"));
        c.validate().unwrap();
        c.account_id = "12".into();
        assert!(c.validate().is_err());
    }
}
