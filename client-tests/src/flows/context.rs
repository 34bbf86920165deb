//! What every flow runs with, and how it fails.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_async::rt::sleep::AsyncSleep;
use awsemu::Emulator;

use super::api::{ApiError, Backoff};
use crate::{ClientOptions, Waiting};

/// The clients of one principal and the cluster settings the provider reads from its config and
/// its own instance's metadata (region, VPC, cluster id).
#[derive(Debug, Clone)]
pub struct FlowContext {
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancing::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub region: String,
    /// `KubernetesClusterID`: the `<id>` of `kubernetes.io/cluster/<id>`.
    pub cluster_id: String,
    /// The VPC the provider runs in (it reads it from its instance's metadata).
    pub vpc_id: String,
    /// How the flows' own polls and back-offs pass: `Waiting::AdvanceClock` makes a manual-clock
    /// emulator finish 10 minutes of polling instantly.
    pub waiting: Waiting,
    /// Virtual time the flows have slept, the "now" of the provider's cross-request delay so
    /// that its decay is deterministic.
    slept: Arc<Mutex<Duration>>,
    /// The provider's per-region cross-request RequestLimitExceeded delay, shared by its EC2,
    /// ELB and ELBv2 clients as in aws_sdk.go.
    pub(crate) backoff: Arc<Mutex<Backoff>>,
    /// The standard retryer's retry quota (aws-sdk-go-v2 `retry.NewStandard`: 500 tokens).
    pub(crate) retry_tokens: Arc<Mutex<u32>>,
}

impl FlowContext {
    /// Clients for the principal `name` of `emu`, with the SDK's own retries off: the flows retry
    /// as the provider does (see [`super::api`]).
    pub fn new(
        emu: &Emulator,
        principal: &str,
        cluster_id: &str,
        vpc_id: &str,
        waiting: Waiting,
    ) -> FlowContext {
        let opts = ClientOptions::principal(emu, principal).waiting(waiting);
        FlowContext::with_options(emu, &opts, cluster_id, vpc_id)
    }

    /// Clients built from explicit options (other keys, another region).
    pub fn with_options(
        emu: &Emulator,
        opts: &ClientOptions,
        cluster_id: &str,
        vpc_id: &str,
    ) -> FlowContext {
        FlowContext {
            ec2: crate::ec2_with(emu, opts),
            elb: crate::elb_with(emu, opts),
            elbv2: crate::elbv2_with(emu, opts),
            region: opts.region.clone(),
            cluster_id: cluster_id.to_string(),
            vpc_id: vpc_id.to_string(),
            waiting: opts.waiting.clone(),
            slept: Arc::new(Mutex::new(Duration::ZERO)),
            backoff: Arc::new(Mutex::new(Backoff::new())),
            retry_tokens: Arc::new(Mutex::new(super::api::RETRY_QUOTA)),
        }
    }

    /// Sleeps as the provider's `time.Sleep` / `wait.Poll` would, through [`Waiting`].
    pub async fn sleep(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        if let Ok(mut s) = self.slept.lock() {
            *s += d;
        }
        self.waiting.sleep(d).await;
    }

    /// The flows' virtual "now": time slept so far.
    pub fn now(&self) -> Duration {
        self.slept.lock().map(|s| *s).unwrap_or_default()
    }
}

/// A flow's failure: the provider's error text, and the AWS error code underneath, if any.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowError {
    /// The text the provider's Go code would return (`err.Error()`).
    pub message: String,
    /// The AWS error code of the call that failed, when an AWS call failed.
    pub code: Option<String>,
    /// That call's HTTP status.
    pub status: Option<u16>,
}

impl FlowError {
    /// A failure of the provider's own logic (no AWS call failed).
    pub fn msg(message: impl Into<String>) -> FlowError {
        FlowError {
            message: message.into(),
            code: None,
            status: None,
        }
    }

    /// Bad inputs to the flow itself.
    pub fn input(message: impl Into<String>) -> FlowError {
        FlowError::msg(message)
    }

    /// An AWS call failed and the provider returns its error as is.
    pub fn api(e: &ApiError) -> FlowError {
        FlowError {
            message: e.to_string(),
            code: e.code.clone(),
            status: Some(e.status),
        }
    }

    /// An AWS call failed and the provider wraps it: `format` holds one `{}` for the error, and
    /// `quoted` says whether Go formats it with `%q` (else `%v`/`%w`).
    pub fn wrap(e: &ApiError, prefix: &str, quoted: bool, suffix: &str) -> FlowError {
        let inner = if quoted {
            go_quote(&e.to_string())
        } else {
            e.to_string()
        };
        FlowError {
            message: format!("{prefix}{inner}{suffix}"),
            code: e.code.clone(),
            status: Some(e.status),
        }
    }
}

impl FlowError {
    /// This message, carrying `e`'s code and status.
    pub fn with(self, e: &ApiError) -> FlowError {
        FlowError {
            code: e.code.clone(),
            status: Some(e.status),
            ..self
        }
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FlowError {}

/// Go's `%q` of a string: double-quoted with Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
