//! DescribeRegions and DescribeAvailabilityZones: the account's geography.

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::filters;
use crate::state::regions::{self, Region, REGIONS};

/// The actions of this family: the account's geography is not a resource (`*`).
pub const ACTIONS: &[Action] = &[
    Action::new("DescribeRegions", describe_regions),
    Action::new("DescribeAvailabilityZones", describe_availability_zones),
];

const OPT_IN_NOT_REQUIRED: &str = "opt-in-not-required";

fn opt_in_status(call: &Call<'_>, r: &Region) -> &'static str {
    if !r.opt_in {
        OPT_IN_NOT_REQUIRED
    } else if call.world.enabled_opt_in(r.name) {
        "opted-in"
    } else {
        "not-opted-in"
    }
}

pub fn describe_regions(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("RegionName")?;
    let all = p.bool("AllRegions")?.unwrap_or(false);
    let filters = filters::parse(&p, &["endpoint", "opt-in-status", "region-name"])?;
    call.params()?.finish()?;
    for n in &names {
        if regions::region(n).is_none() {
            return Err(AwsError::invalid_value(format!("Invalid region: {n}")));
        }
    }
    let mut w = call.writer();
    w.list(
        "Regions",
        REGIONS.iter().filter(|r| {
            let status = opt_in_status(call, r);
            let listed = if names.is_empty() {
                all || status != "not-opted-in"
            } else {
                names.contains(&r.name)
            };
            let endpoint = r.ec2_endpoint();
            listed
                && filters::all_match(&filters, |f| match f {
                    "endpoint" => vec![endpoint.as_str()],
                    "opt-in-status" => vec![status],
                    _ => vec![r.name],
                })
        }),
        |w, r| {
            w.str("RegionName", r.name)
                .str("Endpoint", r.ec2_endpoint())
                .str("OptInStatus", opt_in_status(call, r));
        },
    );
    w.finish()
}

pub fn describe_availability_zones(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("ZoneName")?;
    let ids = p.strings("ZoneId")?;
    let _all = p.bool("AllAvailabilityZones")?;
    let filters = filters::parse(
        &p,
        &[
            "group-name",
            "message",
            "opt-in-status",
            "region-name",
            "state",
            "zone-id",
            "zone-name",
            "zone-type",
            "parent-zone-id",
            "parent-zone-name",
            "group-long-name",
        ],
    )?;
    call.params()?.finish()?;
    let region = regions::region(call.region).ok_or_else(AwsError::internal)?;
    let zones = region.zones();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !zones.iter().any(|z| z.name == **n))
        .chain(ids.iter().filter(|i| !zones.iter().any(|z| z.id == **i)))
        .copied()
        .collect();
    if !unknown.is_empty() {
        return Err(AwsError::invalid_value(format!(
            "Invalid availability zone: [{}]",
            unknown.join(", ")
        )));
    }
    let mut w = call.writer();
    w.list(
        "AvailabilityZones",
        zones.iter().filter(|z| {
            let wanted = (names.is_empty() && ids.is_empty())
                || names.contains(&z.name.as_str())
                || ids.contains(&z.id.as_str());
            wanted
                && filters::all_match(&filters, |f| match f {
                    "group-name" | "region-name" => vec![z.region],
                    "opt-in-status" => vec![OPT_IN_NOT_REQUIRED],
                    "state" => vec!["available"],
                    "zone-id" => vec![z.id.as_str()],
                    "zone-name" => vec![z.name.as_str()],
                    "zone-type" => vec!["availability-zone"],
                    "group-long-name" => vec![region.description],
                    _ => vec![],
                })
        }),
        |w, z| {
            w.str("ZoneName", &z.name)
                .str("ZoneId", &z.id)
                .str("State", "available")
                .str("RegionName", z.region)
                .str("GroupName", z.region)
                .str("GroupLongName", region.description)
                .str("NetworkBorderGroup", z.region)
                .str("OptInStatus", OPT_IN_NOT_REQUIRED)
                .str("ZoneType", "availability-zone")
                .list("Messages", [(); 0], |_, _| {});
        },
    );
    w.finish()
}
