//! k8s apimachinery's `wait.ExponentialBackoff`, on the flow's sleeper.

use std::time::Duration;

use super::context::{FlowContext, FlowError};

/// `wait.Backoff` of k8s apimachinery: run, then sleep `duration` (× `factor` each time), at
/// most `steps` runs; `timed out waiting for the condition` after the last.
pub struct Backoff {
    pub duration: Duration,
    pub factor: f64,
    pub steps: u32,
}

/// `wait.ErrWaitTimeout`'s text.
pub const WAIT_TIMEOUT: &str = "timed out waiting for the condition";

/// What one run of the condition found.
pub enum Poll<T> {
    Done(T),
    Again,
}

/// Runs `condition` until done, sleeping between runs; `timed out waiting for the condition`
/// after `steps` runs.
pub async fn exponential_backoff<T, F, Fut>(
    ctx: &FlowContext,
    backoff: &Backoff,
    mut condition: F,
) -> Result<T, FlowError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Poll<T>, FlowError>>,
{
    let mut delay = backoff.duration;
    for step in 0..backoff.steps {
        if let Poll::Done(v) = condition().await? {
            return Ok(v);
        }
        if step + 1 == backoff.steps {
            break;
        }
        ctx.sleep(delay).await;
        delay = delay.mul_f64(backoff.factor);
    }
    Err(FlowError::msg(WAIT_TIMEOUT))
}
