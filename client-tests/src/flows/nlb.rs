//! placeholder
use super::context::{FlowContext, FlowError};
use super::service::{LoadBalancerInput, LoadBalancerStatus};
pub async fn ensure(_ctx: &FlowContext, _i: &LoadBalancerInput) -> Result<LoadBalancerStatus, FlowError> { Err(FlowError::msg("todo")) }
pub async fn update(_ctx: &FlowContext, _i: &LoadBalancerInput) -> Result<LoadBalancerStatus, FlowError> { Err(FlowError::msg("todo")) }
pub async fn delete(_ctx: &FlowContext, _i: &LoadBalancerInput) -> Result<LoadBalancerStatus, FlowError> { Err(FlowError::msg("todo")) }
