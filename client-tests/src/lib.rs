//! Builds aws-sdk-rust clients against an awsemu instance, as the cloud provider would build them
//! against AWS: static credentials of one principal, the emulator's endpoint, plain HTTP.
//!
//! Retries are off so that a test sees exactly the answer the emulator gave; tests of retry
//! behaviour turn them back on with [`ClientOptions`].

pub mod fixtures;
pub mod flows;
pub mod scenarios;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, Sleep};
use aws_smithy_types::retry::RetryConfig;
use awsemu::instance::Instance;
use awsemu::Emulator;

/// How the SDK's own waiting (waiter delays, retry back-off) passes.
#[derive(Debug, Clone)]
pub enum Waiting {
    /// Real sleeps, as in production.
    Real,
    /// Real sleeps divided by this factor: a 15 s waiter delay takes 15 s / N, so waiting logic
    /// runs against `--timing fast` in little wall time.
    Scaled(u32),
    /// No sleeping at all: each sleep that elapses advances the emulator's virtual clock by its
    /// duration instead. With a manual clock this makes a waiter under `realistic` timing finish
    /// at once, deterministically. See [`VirtualSleep`] for which sleeps count.
    AdvanceClock(Arc<Instance>),
}

impl AsyncSleep for Waiting {
    fn sleep(&self, duration: Duration) -> Sleep {
        match self {
            Waiting::Real => Sleep::new(tokio::time::sleep(duration)),
            Waiting::Scaled(n) => Sleep::new(tokio::time::sleep(duration / (*n).max(1))),
            Waiting::AdvanceClock(instance) => Sleep::new(VirtualSleep {
                instance: instance.clone(),
                duration,
                yielded: false,
            }),
        }
    }
}

/// A sleep of `Waiting::AdvanceClock`: it moves the emulator's clock by its duration when it
/// elapses, not when it is created.
///
/// The SDK creates sleeps it never awaits. The identity cache makes a load timeout of
/// 2 × 3.1 s (its pessimistic bound over the default connect timeout) for every call and races it
/// against the credentials with `aws_smithy_async::future::timeout::Timeout`; with cached or
/// static credentials the sleep is never polled. Charging the clock on creation moved a flow's
/// virtual time 6.2 s per SDK call. Here the first poll only yields (and wakes itself at once) and
/// the second poll advances the clock and finishes: `Timeout` polls its value before its sleep, so
/// a raced value that is ready, or becomes ready after one yield, wins and the dropped sleep costs
/// nothing. A waiter delay or retry back-off, awaited alone, elapses and is charged in full.
/// Sleeps awaited concurrently are each charged (their durations add up, they do not overlap).
struct VirtualSleep {
    instance: Arc<Instance>,
    duration: Duration,
    yielded: bool,
}

impl std::future::Future for VirtualSleep {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        self.instance.clock.advance(self.duration);
        std::task::Poll::Ready(())
    }
}

/// Who signs, and how the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
    pub retry: RetryConfig,
    pub waiting: Waiting,
}

impl ClientOptions {
    /// The built-in or configured principal `name` (`admin`, `controlplane`, `etcd`, `worker`).
    pub fn principal(emu: &Emulator, name: &str) -> ClientOptions {
        let c = emu
            .credentials(name)
            .unwrap_or_else(|| panic!("the emulator has no principal named {name}"));
        ClientOptions {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
            region: emu.region().to_string(),
            retry: RetryConfig::disabled(),
            waiting: Waiting::Real,
        }
    }

    /// Arbitrary keys (for authentication failure tests).
    pub fn keys(emu: &Emulator, access_key_id: &str, secret_access_key: &str) -> ClientOptions {
        ClientOptions {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            region: emu.region().to_string(),
            retry: RetryConfig::disabled(),
            waiting: Waiting::Real,
        }
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    pub fn waiting(mut self, waiting: Waiting) -> Self {
        self.waiting = waiting;
        self
    }

    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            self.session_token.clone(),
            None,
            "awsemu-client-tests",
        )
    }
}

/// One constructor per SDK: each crate has its own `Config` type with the same builder methods.
macro_rules! client_fn {
    ($(#[$doc:meta])* $name:ident, $sdk:ident) => {
        $(#[$doc])*
        pub fn $name(emu: &Emulator, opts: &ClientOptions) -> $sdk::Client {
            let config = $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new(opts.region.clone()))
                .endpoint_url(emu.endpoint())
                .credentials_provider(opts.credentials())
                .retry_config(opts.retry.clone())
                .sleep_impl(SharedAsyncSleep::new(opts.waiting.clone()))
                // No SDK timeouts: they run on the sleep above, so under `Waiting::Scaled` a
                // 3.1 s connect timeout would be 31 ms and under `AdvanceClock` it would fire at
                // once (and move the emulator's clock). The emulator is on loopback.
                .timeout_config(aws_smithy_types::timeout::TimeoutConfig::disabled())
                // Stalled-stream protection polls on that sleep too: under `AdvanceClock` it would
                // move the emulator's clock by a varying amount on every call.
                .stalled_stream_protection(
                    aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
                )
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .build();
            $sdk::Client::from_conf(config)
        }
    };
}

client_fn!(
    /// An EC2 client.
    ec2_with, aws_sdk_ec2
);
client_fn!(
    /// A classic ELB client.
    elb_with, aws_sdk_elasticloadbalancing
);
client_fn!(
    /// An ELBv2 client.
    elbv2_with, aws_sdk_elasticloadbalancingv2
);
client_fn!(
    /// A KMS client.
    kms_with, aws_sdk_kms
);
client_fn!(
    /// An ECR client.
    ecr_with, aws_sdk_ecr
);
client_fn!(
    /// An Auto Scaling client.
    autoscaling_with, aws_sdk_autoscaling
);
client_fn!(
    /// An IAM client.
    iam_with, aws_sdk_iam
);
client_fn!(
    /// An STS client.
    sts_with, aws_sdk_sts
);

/// An EC2 client for a principal by name.
pub fn ec2(emu: &Emulator, principal: &str) -> aws_sdk_ec2::Client {
    ec2_with(emu, &ClientOptions::principal(emu, principal))
}

/// A classic ELB client for a principal by name.
pub fn elb(emu: &Emulator, principal: &str) -> aws_sdk_elasticloadbalancing::Client {
    elb_with(emu, &ClientOptions::principal(emu, principal))
}

/// An ELBv2 client for a principal by name.
pub fn elbv2(emu: &Emulator, principal: &str) -> aws_sdk_elasticloadbalancingv2::Client {
    elbv2_with(emu, &ClientOptions::principal(emu, principal))
}

/// A KMS client for a principal by name.
pub fn kms(emu: &Emulator, principal: &str) -> aws_sdk_kms::Client {
    kms_with(emu, &ClientOptions::principal(emu, principal))
}

/// An ECR client for a principal by name.
pub fn ecr(emu: &Emulator, principal: &str) -> aws_sdk_ecr::Client {
    ecr_with(emu, &ClientOptions::principal(emu, principal))
}

/// An Auto Scaling client for a principal by name.
pub fn autoscaling(emu: &Emulator, principal: &str) -> aws_sdk_autoscaling::Client {
    autoscaling_with(emu, &ClientOptions::principal(emu, principal))
}

/// An IAM client for a principal by name.
pub fn iam(emu: &Emulator, principal: &str) -> aws_sdk_iam::Client {
    iam_with(emu, &ClientOptions::principal(emu, principal))
}

/// An STS client for a principal by name.
pub fn sts(emu: &Emulator, principal: &str) -> aws_sdk_sts::Client {
    sts_with(emu, &ClientOptions::principal(emu, principal))
}

/// Starts an emulator with defaults and a fixed seed.
pub async fn start() -> Emulator {
    Emulator::builder()
        .seed(1)
        .start()
        .await
        .expect("the emulator starts")
}

/// The code, message and HTTP status of a failed SDK call, for assertions.
pub fn error_parts<E>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> (String, String, u16)
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    (
        err.code().unwrap_or("<no code>").to_string(),
        err.message().unwrap_or("").to_string(),
        status,
    )
}

/// Unwraps an expected failure into (code, message, status); panics with the answer when the call succeeded.
#[macro_export]
macro_rules! expect_err {
    ($call:expr) => {
        match $call {
            Ok(out) => panic!("expected an error, got {:?}", out),
            Err(e) => $crate::error_parts(&e),
        }
    };
}
