//! One AWS call as the provider makes it: the retry behaviour of its SDK clients and the text of
//! the errors it sees.
//!
//! The provider builds every client (EC2, ELB, ELBv2) with aws-sdk-go-v2's standard retryer
//! (`retry.NewStandard()` wrapped in its `customRetryer`) and two middlewares around the retry
//! loop (aws_sdk.go, retry_handler.go):
//! - `delayPreSign`: before each operation, a delay that grows with the fraction of recent
//!   operations that ended in `RequestLimitExceeded` (the per-region `CrossRequestRetryDelay`:
//!   counts decay by 0.8 every 20 s, delay = 60 s × error fraction once it reaches 10 %, in
//!   whole seconds);
//! - `delayAfterRetry`: when an operation finally fails with `RequestLimitExceeded`, it counts one
//!   error.
//!
//! The standard retryer makes at most 3 attempts, retries throttling and transient errors
//! (HTTP 500/502/503/504, connection failures) after an exponential back-off of up to 2^n s
//! (its jitter is fixed here at its maximum so replays are deterministic), and pays for each
//! retry from a 500-token quota (5 per retry, refunded on success, +1 per first-try success).

use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::context::FlowContext;

/// aws-sdk-go-v2 `retry.DefaultMaxAttempts`.
pub const MAX_ATTEMPTS: u32 = 3;
/// aws-sdk-go-v2 `retry.DefaultRetryRateTokens`.
pub const RETRY_QUOTA: u32 = 500;
/// aws-sdk-go-v2 `retry.DefaultRetryCost`.
const RETRY_COST: u32 = 5;
/// aws-sdk-go-v2 `retry.DefaultNoRetryIncrement`.
const NO_RETRY_INCREMENT: u32 = 1;

/// aws-sdk-go-v2 `retry.DefaultThrottleErrorCodes`.
const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];
/// aws-sdk-go-v2 `retry.DefaultRetryableErrorCodes`.
const TRANSIENT_CODES: &[&str] = &["RequestTimeout", "RequestTimeoutException"];
/// aws-sdk-go-v2 `retry.DefaultRetryableHTTPStatusCodes`.
const TRANSIENT_STATUSES: &[u16] = &[500, 502, 503, 504];

/// The SDK service ids aws-sdk-go-v2 puts in its error text.
pub const EC2: &str = "EC2";
pub const ELB: &str = "Elastic Load Balancing";
pub const ELBV2: &str = "Elastic Load Balancing v2";

/// A failed AWS call, printed as aws-sdk-go-v2 prints an `*smithy.OperationError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub service: &'static str,
    pub operation: &'static str,
    pub status: u16,
    pub request_id: String,
    /// `None` when no answer came (connection failure).
    pub code: Option<String>,
    pub message: String,
    /// Set when the retryer gave up on a retryable error after this many attempts.
    pub exhausted: Option<u32>,
}

impl ApiError {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "operation error {}: {}, ", self.service, self.operation)?;
        if let Some(n) = self.exhausted {
            write!(f, "exceeded maximum number of attempts, {n}, ")?;
        }
        match &self.code {
            Some(code) => write!(
                f,
                "https response error StatusCode: {}, RequestID: {}, api error {}: {}",
                self.status, self.request_id, code, self.message
            ),
            None => f.write_str(&self.message),
        }
    }
}

/// The provider's `Backoff` (retry_handler.go), on the flows' virtual clock.
#[derive(Debug, Clone)]
pub struct Backoff {
    count_errors_request_limit: f32,
    count_requests: f32,
    last_decay: u64,
}

const DECAY_INTERVAL_SECONDS: u64 = 20;
const DECAY_FRACTION: f64 = 0.8;
const MAX_DELAY: Duration = Duration::from_secs(60);

impl Backoff {
    pub fn new() -> Backoff {
        Backoff {
            count_errors_request_limit: 0.0,
            count_requests: 4.0,
            last_decay: 0,
        }
    }

    /// `ComputeDelayForRequest`: counts the request and returns the delay to insert before it.
    pub fn compute_delay(&mut self, now: Duration) -> Duration {
        let now = now.as_secs();
        let delta = now.saturating_sub(self.last_decay);
        if delta > DECAY_INTERVAL_SECONDS {
            let intervals = delta as f64 / DECAY_INTERVAL_SECONDS as f64;
            let decay = DECAY_FRACTION.powf(intervals) as f32;
            self.count_errors_request_limit *= decay;
            self.count_requests *= decay;
            self.last_decay = now;
        }
        self.count_requests += 1.0;
        let fraction = if self.count_requests > 0.5 {
            self.count_errors_request_limit / self.count_requests
        } else {
            0.0
        };
        if fraction < 0.1 {
            return Duration::ZERO;
        }
        let delay = MAX_DELAY.as_secs_f32() * fraction;
        Duration::from_secs(delay as u64)
    }

    /// `ReportError`: one more operation ended in RequestLimitExceeded.
    pub fn report_error(&mut self) {
        self.count_errors_request_limit += 1.0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

fn parts<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    service: &'static str,
    operation: &'static str,
) -> ApiError {
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    let request_id = err
        .meta()
        .extra("aws_request_id")
        .unwrap_or_default()
        .to_string();
    match err.code() {
        Some(code) => ApiError {
            service,
            operation,
            status,
            request_id,
            code: Some(code.to_string()),
            message: err.message().unwrap_or("").to_string(),
            exhausted: None,
        },
        None => ApiError {
            service,
            operation,
            status,
            request_id,
            code: None,
            message: dispatch_text(err),
            exhausted: None,
        },
    }
}

/// The text of a call that got no AWS answer (connection, timeout, construction).
fn dispatch_text<E>(err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> String {
    match err {
        SdkError::ConstructionFailure(_) => "failed to construct the request".into(),
        SdkError::TimeoutError(_) => "request timed out".into(),
        SdkError::DispatchFailure(d) => format!("https response error: dispatch failure: {d:?}"),
        SdkError::ResponseError(_) => "failed to read the response".into(),
        SdkError::ServiceError(_) => "service error without a code".into(),
        _ => "unknown SDK error".into(),
    }
}

fn retryable(e: &ApiError) -> bool {
    match &e.code {
        None => true,
        Some(code) => {
            THROTTLE_CODES.contains(&code.as_str())
                || TRANSIENT_CODES.contains(&code.as_str())
                || TRANSIENT_STATUSES.contains(&e.status)
        }
    }
}

/// aws-sdk-go-v2 `ExponentialJitterBackoff.BackoffDelay` with its random factor at 1.
fn backoff_delay(attempt: u32) -> Duration {
    Duration::from_secs((1u64 << attempt.min(30)).min(20))
}

/// Makes one AWS operation as the provider's clients do: cross-request delay, up to three
/// attempts with back-off through the flow's sleeper, and the Go SDK's error text.
pub async fn call<T, E, F, Fut>(
    ctx: &FlowContext,
    service: &'static str,
    operation: &'static str,
    mut send: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
    E: ProvideErrorMetadata,
{
    let delay = ctx
        .backoff
        .lock()
        .map(|mut b| b.compute_delay(ctx.now()))
        .unwrap_or_default();
    ctx.sleep(delay).await;

    let mut attempt = 1;
    let mut paid = false;
    let result = loop {
        match send().await {
            Ok(out) => {
                if let Ok(mut tokens) = ctx.retry_tokens.lock() {
                    let refund = if paid { RETRY_COST } else { NO_RETRY_INCREMENT };
                    *tokens = (*tokens + refund).min(RETRY_QUOTA);
                }
                break Ok(out);
            }
            Err(err) => {
                let mut e = parts(&err, service, operation);
                if !retryable(&e) {
                    break Err(e);
                }
                if attempt >= MAX_ATTEMPTS {
                    e.exhausted = Some(attempt);
                    break Err(e);
                }
                let granted = ctx
                    .retry_tokens
                    .lock()
                    .map(|mut tokens| {
                        if *tokens >= RETRY_COST {
                            *tokens -= RETRY_COST;
                            Ok(())
                        } else {
                            Err(*tokens)
                        }
                    })
                    .unwrap_or(Ok(()));
                if let Err(available) = granted {
                    let mut e = e;
                    e.message = format!(
                        "failed to get rate limit token, retry quota exceeded, {available} available, {RETRY_COST} requested"
                    );
                    e.code = None;
                    break Err(e);
                }
                paid = true;
                ctx.sleep(backoff_delay(attempt)).await;
                attempt += 1;
            }
        }
    };
    if let Err(e) = &result {
        if e.is("RequestLimitExceeded") {
            if let Ok(mut b) = ctx.backoff.lock() {
                b.report_error();
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_request_delay_grows_with_throttled_operations_and_decays() {
        let mut b = Backoff::new();
        assert_eq!(b.compute_delay(Duration::ZERO), Duration::ZERO);
        b.report_error();
        // 1 error / 6 requests = 0.166 → 60 s × 0.166 = 10 s.
        assert_eq!(b.compute_delay(Duration::ZERO), Duration::from_secs(10));
        // A minute later the counts have decayed by 0.8^3 and the new request dilutes them: 0.51 / 4.04 → 7 s.
        assert_eq!(
            b.compute_delay(Duration::from_secs(61)),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn back_off_doubles_up_to_twenty_seconds() {
        assert_eq!(backoff_delay(1), Duration::from_secs(2));
        assert_eq!(backoff_delay(2), Duration::from_secs(4));
        assert_eq!(backoff_delay(5), Duration::from_secs(20));
    }
}
