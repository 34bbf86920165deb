//! DescribeAccountAttributes: what the account may do in the region. Node drivers read
//! `default-vpc` from it to find where to launch (rancher/machine's amazonec2 driver does so
//! before anything else).

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::read;

use super::common;

/// The actions of this family.
pub const ACTIONS: &[Action] = &[Action::new(
    "DescribeAccountAttributes",
    describe_account_attributes,
)];

/// The attributes AWS answers, in AWS's order (API reference, DescribeAccountAttributes).
const NAMES: &[&str] = &[
    "vpc-max-security-groups-per-interface",
    "max-instances",
    "supported-platforms",
    "default-vpc",
    "max-elastic-ips",
    "vpc-max-elastic-ips",
];

fn describe_account_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let wanted = p.strings("AttributeName")?;
    call.params()?.finish()?;
    if let Some(bad) = wanted.iter().find(|n| !NAMES.contains(n)) {
        return Err(AwsError::invalid_value(format!(
            "Value ({bad}) for parameter attributeName is invalid. Valid values: {}",
            NAMES.join(", ")
        )));
    }
    let default_vpc = {
        let lock = common::region(call)?;
        let region = read(&lock);
        // "none" once the default VPC is deleted, as AWS answers.
        Some(region.default_vpc_id.clone())
            .filter(|id| region.vpcs.contains_key(id))
            .unwrap_or_else(|| "none".to_string())
    };
    let values = |name: &str| -> Vec<String> {
        match name {
            "vpc-max-security-groups-per-interface" => vec!["5".into()],
            "max-instances" => vec![call.world.instance_limit.to_string()],
            // EC2-Classic is retired: every account is VPC only.
            "supported-platforms" => vec!["VPC".into()],
            "default-vpc" => vec![default_vpc.clone()],
            _ => vec!["5".into()],
        }
    };
    let shown: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| wanted.is_empty() || wanted.contains(n))
        .collect();
    let mut w = call.writer();
    w.list("AccountAttributes", shown, |w, name| {
        w.str("AttributeName", name);
        w.list("AttributeValues", values(name), |w, v| {
            w.str("AttributeValue", v);
        });
    });
    w.finish()
}
