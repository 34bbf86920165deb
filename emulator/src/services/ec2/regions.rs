//! DescribeRegions and DescribeAvailabilityZones: the account's geography.

use crate::protocol::xml::Xml;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::Call;
use crate::state::filters;
use crate::state::regions::{self, Region, REGIONS};

/// The handler of an action of this family, if it is one.
pub fn handler(action: &str) -> Option<crate::services::Handler> {
    Some(match action {
        "DescribeRegions" => describe_regions,
        "DescribeAvailabilityZones" => describe_availability_zones,
        _ => return None,
    })
}

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
    let mut x = Xml::new();
    x.list(
        "regionInfo",
        "item",
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
        |x, r| {
            x.leaf("regionName", r.name)
                .leaf("regionEndpoint", r.ec2_endpoint())
                .leaf("optInStatus", opt_in_status(call, r));
        },
    );
    Ok(Output::Xml(x.into_string()))
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
    let mut x = Xml::new();
    x.list(
        "availabilityZoneInfo",
        "item",
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
        |x, z| {
            x.leaf("zoneName", &z.name)
                .leaf("zoneId", &z.id)
                .leaf("zoneState", "available")
                .leaf("regionName", z.region)
                .leaf("groupName", z.region)
                .leaf("groupLongName", region.description)
                .leaf("networkBorderGroup", z.region)
                .leaf("optInStatus", OPT_IN_NOT_REQUIRED)
                .leaf("zoneType", "availability-zone")
                .node("messageSet", |_| {});
        },
    );
    Ok(Output::Xml(x.into_string()))
}
