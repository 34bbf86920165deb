//! Spot Instance requests made by RunInstances with `InstanceMarketOptions.MarketType=spot` (how
//! rancher/machine's amazonec2 driver asks for Spot nodes): DescribeSpotInstanceRequests and
//! CancelSpotInstanceRequests. Capacity is always there, so a request is fulfilled with its
//! instance at once; its state and status are derived from that instance when observed:
//! `active`/`fulfilled` while it lives, `closed`/`instance-terminated-by-user` once it is
//! terminated, `cancelled` (and `request-canceled-and-instance-running` while the instance still
//! runs: cancelling does not terminate it) after CancelSpotInstanceRequests. One-time requests
//! only; RequestSpotInstances (the older API) is not emulated.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::tags::{self, TAG_FILTERS};
use crate::state::{read, write};

use super::common;
use super::instances::terminated_at;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, InstanceState, SpotRequest};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "DescribeSpotInstanceRequests",
        describe_spot_instance_requests,
    ),
    Action::new("CancelSpotInstanceRequests", cancel_spot_instance_requests)
        .on(&[On::Ids("SpotInstanceRequestId")]),
];

/// Spot Instance requests (`sir-` and 8 hex digits, as AWS's look).
pub const SPOT_REQUEST: Kind = Kind {
    prefix: "sir",
    arn_type: "spot-instances-request",
    not_found: Some(NotFound {
        code: "InvalidSpotInstanceRequestID.NotFound",
        message: "The spot instance request ID '{id}' does not exist",
    }),
    malformed: Some("InvalidSpotInstanceRequestID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.spot_requests.get(id).map(|s| &s.tags),
        get_mut: |r, id| r.spot_requests.get_mut(id).map(|s| &mut s.tags),
    }),
    ..Kind::BASE
};

/// What RunInstances' `InstanceMarketOptions` asks for, checked.
#[derive(Debug, Clone)]
pub struct SpotOptions {
    /// `None`: up to the on-demand price (an empty `MaxPrice`, as the driver sends by default).
    pub max_price: Option<String>,
    pub interruption: String,
    pub valid_until_ms: Option<i64>,
}

/// Reads `InstanceMarketOptions`; `None` for an on-demand launch.
pub fn options(p: &Scope<'_>) -> AwsResult<Option<SpotOptions>> {
    let m = p.nested("InstanceMarketOptions");
    let market = m.str("MarketType");
    let s = m.nested("SpotOptions");
    let max_price = s.str("MaxPrice").filter(|v| !v.is_empty());
    let kind = s.str("SpotInstanceType").unwrap_or("one-time");
    let block = s.int("BlockDurationMinutes")?;
    let valid_until = s.str("ValidUntil");
    let interruption = s.str("InstanceInterruptionBehavior").unwrap_or("terminate");
    match market {
        None => return Ok(None),
        Some("spot") => {}
        Some("capacity-block") => {
            return Err(AwsError::invalid_value(
                "awsemu does not model Capacity Blocks: use MarketType spot",
            ))
        }
        Some(other) => {
            return Err(AwsError::invalid_value(format!(
                "Value ({other}) for parameter marketType is invalid. Valid values: spot, capacity-block"
            )))
        }
    }
    if let Some(price) = max_price {
        if !price.parse::<f64>().is_ok_and(|v| v > 0.0) {
            return Err(AwsError::invalid_value(format!(
                "Value ({price}) for parameter maxPrice is invalid. It must be a positive number."
            )));
        }
    }
    match kind {
        "one-time" => {}
        "persistent" => {
            return Err(AwsError::invalid_value(
                "awsemu models one-time Spot requests only: SpotInstanceType persistent is not emulated",
            ))
        }
        other => {
            return Err(AwsError::invalid_value(format!(
                "Value ({other}) for parameter spotInstanceType is invalid. Valid values: one-time, persistent"
            )))
        }
    }
    if block.is_some() {
        // Spot blocks (defined duration) are no longer offered.
        return Err(AwsError::invalid_value(
            "The parameter BlockDurationMinutes is not supported: Spot Instances with a defined duration are no longer available.",
        ));
    }
    if interruption != "terminate" {
        return Err(AwsError::invalid_combination(format!(
            "The instance interruption behavior '{interruption}' is only supported for persistent Spot requests."
        )));
    }
    let valid_until_ms = match valid_until {
        None => None,
        Some(t) => Some(
            crate::timefmt::parse_iso8601(t)
                .map(|s| s * 1000)
                .ok_or_else(|| {
                    AwsError::invalid_value(format!(
                        "Value ({t}) for parameter validUntil is invalid."
                    ))
                })?,
        ),
    };
    Ok(Some(SpotOptions {
        max_price: max_price.map(str::to_string),
        interruption: interruption.to_string(),
        valid_until_ms,
    }))
}

/// The state, status code and message, and when the status last changed, as observed at `now`.
fn observed(
    region: &Ec2Region,
    s: &SpotRequest,
    now: i64,
) -> (&'static str, &'static str, &'static str, i64) {
    let instance = region.instances.get(&s.instance_id);
    let ended = instance
        .and_then(terminated_at)
        .filter(|t| *t <= now)
        .or(instance.is_none().then_some(s.create_ms));
    let live = instance.is_some_and(|i| i.state.at(now) != InstanceState::Terminated);
    match (s.cancelled_ms, live) {
        (Some(at), true) => (
            "cancelled",
            "request-canceled-and-instance-running",
            "Spot Instance request is canceled, but the Spot Instance is still running.",
            at,
        ),
        (Some(at), false) => (
            "cancelled",
            "instance-terminated-by-user",
            "Spot Instance terminated due to user-initiated termination.",
            at.max(ended.unwrap_or(at)),
        ),
        (None, true) => (
            "active",
            "fulfilled",
            "Your spot request is fulfilled.",
            s.create_ms,
        ),
        (None, false) => (
            "closed",
            "instance-terminated-by-user",
            "Spot Instance terminated due to user-initiated termination.",
            ended.unwrap_or(s.create_ms),
        ),
    }
}

fn render(w: &mut Writer, region: &Ec2Region, s: &SpotRequest, now: i64) {
    let (state, code, message, at) = observed(region, s, now);
    w.time("CreateTime", s.create_ms)
        .str("InstanceId", &s.instance_id)
        .structure("LaunchSpecification", |w| {
            w.str("ImageId", &s.image_id)
                .str_opt("KeyName", s.key_name.as_deref())
                .str_unlisted("InstanceType", &s.instance_type)
                .structure("Placement", |w| {
                    w.str("AvailabilityZone", &s.zone);
                })
                .str("SubnetId", &s.subnet_id)
                .structure("Monitoring", |w| {
                    w.bool("Enabled", false);
                });
        })
        .str("LaunchedAvailabilityZone", &s.zone)
        .str("LaunchedAvailabilityZoneId", &s.zone_id)
        .str("ProductDescription", "Linux/UNIX")
        .str("SpotInstanceRequestId", &s.id)
        .str_opt("SpotPrice", s.max_price.as_deref())
        .str("State", state)
        .structure("Status", |w| {
            w.str("Code", code)
                .str("Message", message)
                .time("UpdateTime", at);
        });
    common::write_tags(w, &s.tags);
    w.str("Type", "one-time")
        .time("ValidFrom", s.create_ms)
        .time_opt("ValidUntil", s.valid_until_ms)
        .str("InstanceInterruptionBehavior", &s.interruption);
}

const FILTERS: &[&str] = &[
    "spot-instance-request-id",
    "state",
    "status-code",
    "instance-id",
    "type",
    "product-description",
    "launched-availability-zone",
    "launch.image-id",
    "launch.instance-type",
    "launch.key-name",
    TAG_FILTERS[0],
    TAG_FILTERS[1],
    TAG_FILTERS[2],
];

fn matches(f: &Filter, region: &Ec2Region, s: &SpotRequest, now: i64) -> bool {
    if let Some(m) = tags::filter_matches(f, &s.tags) {
        return m;
    }
    let (state, code, _, _) = observed(region, s, now);
    match f.name.as_str() {
        "spot-instance-request-id" => f.matches(&s.id),
        "state" => f.matches(state),
        "status-code" => f.matches(code),
        "instance-id" => f.matches(&s.instance_id),
        "type" => f.matches("one-time"),
        "product-description" => f.matches("Linux/UNIX"),
        "launched-availability-zone" => f.matches(&s.zone),
        "launch.image-id" => f.matches(&s.image_id),
        "launch.instance-type" => f.matches(&s.instance_type),
        "launch.key-name" => s.key_name.as_deref().is_some_and(|k| f.matches(k)),
        _ => false,
    }
}

/// Refuses ids that are malformed or unknown, as AWS does for the whole call.
fn check_ids(region: &Ec2Region, ids: &[&str]) -> AwsResult<()> {
    for id in ids {
        SPOT_REQUEST.check(id)?;
        if !region.spot_requests.contains_key(*id) {
            return Err(SPOT_REQUEST.not_found(id));
        }
    }
    Ok(())
}

fn describe_spot_instance_requests(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("SpotInstanceRequestId")?;
    let filters = filters::parse(&p, FILTERS)?;
    let page = Page::read(&p)?.at_most(1000);
    call.params()?.finish()?;
    page.not_with_ids(&ids, "spotInstanceRequestIds")?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let region = read(&lock);
    check_ids(&region, &ids)?;
    let unseen = common::unseen(call, &SPOT_REQUEST);
    common::check_visible(&unseen, &ids)?;
    let found: Vec<&SpotRequest> = region
        .spot_requests
        .values()
        .filter(|s| ids.is_empty() || ids.contains(&s.id.as_str()))
        .filter(|s| unseen.listed(&s.id))
        .filter(|s| filters.iter().all(|f| matches(f, &region, s, now)))
        .collect();
    let (found, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("SpotInstanceRequests", found, |w, s| {
        render(w, &region, s, now)
    });
    w.str_opt("NextToken", next);
    w.finish()
}

fn cancel_spot_instance_requests(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("SpotInstanceRequestId")?;
    call.params()?.finish()?;
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter SpotInstanceRequestId",
        ));
    }
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    check_ids(&region, &ids)?;
    let mut answered = Vec::new();
    for id in &ids {
        let (state, ..) = match region.spot_requests.get(*id) {
            Some(s) => observed(&region, s, now),
            None => return Err(AwsError::internal()),
        };
        // A closed request stays closed; an active one is cancelled (its instance runs on).
        if state == "active" {
            if let Some(s) = region.spot_requests.get_mut(*id) {
                s.cancelled_ms = Some(now);
            }
        }
        let shown = if state == "closed" {
            "closed"
        } else {
            "cancelled"
        };
        answered.push((id.to_string(), shown));
    }
    let mut w = call.writer();
    w.list(
        "CancelledSpotInstanceRequests",
        answered,
        |w, (id, state)| {
            w.str("SpotInstanceRequestId", id).str("State", state);
        },
    );
    w.finish()
}
