//! Internet gateways: create, attach (one gateway per VPC, one VPC per gateway), detach, delete,
//! describe. Routes point at gateways; a route to a detached or deleted gateway is a blackhole.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::{self, filters, tags};

use super::common;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, InternetGateway};
use super::vpcs::{self, Page};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateInternetGateway", create_internet_gateway)
        .on(&[On::Created(&INTERNET_GATEWAY)])
        .tags(TagsIn::Specifications),
    Action::new("AttachInternetGateway", attach_internet_gateway)
        .on(&[On::Id("VpcId"), On::Id("InternetGatewayId")]),
    Action::new("DetachInternetGateway", detach_internet_gateway)
        .on(&[On::Id("VpcId"), On::Id("InternetGatewayId")]),
    Action::new("DeleteInternetGateway", delete_internet_gateway)
        .on(&[On::Id("InternetGatewayId")]),
    Action::new("DescribeInternetGateways", describe_internet_gateways),
];

pub const INTERNET_GATEWAY: Kind = Kind {
    prefix: "igw",
    arn_type: "internet-gateway",
    not_found: Some(NotFound {
        code: "InvalidInternetGatewayID.NotFound",
        message: "The internetGateway ID '{id}' does not exist",
    }),
    malformed: Some("InvalidInternetGatewayID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.internet_gateways.get(id).map(|g| &g.tags),
        get_mut: |r, id| r.internet_gateways.get_mut(id).map(|g| &mut g.tags),
    }),
    ..Kind::BASE
};

/// Checks a gateway id's form and that the region has it.
pub fn check_gateway(r: &Ec2Region, id: &str) -> AwsResult<()> {
    INTERNET_GATEWAY.check(id)?;
    if r.internet_gateways.contains_key(id) {
        Ok(())
    } else {
        Err(INTERNET_GATEWAY.not_found(id))
    }
}

fn render(w: &mut Writer, call: &Call<'_>, g: &InternetGateway) {
    w.str("InternetGatewayId", &g.id)
        .str("OwnerId", call.account)
        .list("Attachments", g.vpc_id.iter(), |w, vpc| {
            // AWS answers `available`, a value botocore's AttachmentStatus lacks.
            w.str("VpcId", vpc).str_unlisted("State", "available");
        });
    common::write_tags(w, &g.tags);
}

pub fn create_internet_gateway(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let mut specs = tags::from_specifications(&p, &["internet-gateway"])?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let g = InternetGateway {
        id: call.world.ids.resource_id("igw"),
        vpc_id: None,
        tags: specs.remove("internet-gateway").unwrap_or_default(),
    };
    r.internet_gateways.insert(g.id.clone(), g.clone());
    let mut w = call.writer();
    w.structure("InternetGateway", |w| render(w, call, &g));
    w.finish()
}

/// Reads `InternetGatewayId` and `VpcId`, checks both exist.
fn gateway_and_vpc<'a>(call: &Call<'a>) -> AwsResult<(&'a str, &'a str)> {
    let p = call.root()?;
    let igw = p.required("InternetGatewayId")?;
    let vpc = p.required("VpcId")?;
    call.params()?.finish()?;
    Ok((igw, vpc))
}

pub fn attach_internet_gateway(call: &Call<'_>) -> AwsResult<Output> {
    let (igw, vpc) = gateway_and_vpc(call)?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_gateway(&r, igw)?;
    vpcs::check_vpc(&r, vpc)?;
    if let Some(current) = r.internet_gateways.get(igw).and_then(|g| g.vpc_id.as_ref()) {
        return Err(AwsError::bad_request(
            "Resource.AlreadyAssociated",
            format!("resource {igw} is already attached to network {current}"),
        ));
    }
    if r.internet_gateways
        .values()
        .any(|g| g.vpc_id.as_deref() == Some(vpc))
    {
        return Err(AwsError::bad_request(
            "Resource.AlreadyAssociated",
            format!("Network {vpc} already has an internet gateway attached"),
        ));
    }
    if let Some(g) = r.internet_gateways.get_mut(igw) {
        g.vpc_id = Some(vpc.to_string());
    }
    common::done(call)
}

pub fn detach_internet_gateway(call: &Call<'_>) -> AwsResult<Output> {
    let (igw, vpc) = gateway_and_vpc(call)?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_gateway(&r, igw)?;
    vpcs::check_vpc(&r, vpc)?;
    match r.internet_gateways.get_mut(igw) {
        Some(g) if g.vpc_id.as_deref() == Some(vpc) => g.vpc_id = None,
        _ => {
            return Err(AwsError::bad_request(
                "Gateway.NotAttached",
                format!("resource {igw} is not attached to network {vpc}"),
            ))
        }
    }
    common::done(call)
}

pub fn delete_internet_gateway(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let igw = p.required("InternetGatewayId")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_gateway(&r, igw)?;
    if r.internet_gateways
        .get(igw)
        .is_some_and(|g| g.vpc_id.is_some())
    {
        return Err(AwsError::dependency_violation(format!(
            "The internetGateway '{igw}' has dependencies and cannot be deleted."
        )));
    }
    r.internet_gateways.remove(igw);
    common::done(call)
}

pub fn describe_internet_gateways(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let wanted = p.strings("InternetGatewayId")?;
    let mut known = vec![
        "attachment.state",
        "attachment.vpc-id",
        "internet-gateway-id",
        "owner-id",
    ];
    known.extend(tags::TAG_FILTERS);
    let filters = filters::parse(&p, &known)?;
    let paging = Page::read(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    for id in &wanted {
        check_gateway(&r, id)?;
    }
    let found: Vec<&InternetGateway> = r
        .internet_gateways
        .values()
        .filter(|g| wanted.is_empty() || wanted.contains(&g.id.as_str()))
        .filter(|g| {
            filters.iter().all(|f| {
                tags::filter_matches(f, &g.tags).unwrap_or_else(|| match f.name.as_str() {
                    "attachment.state" => g.vpc_id.is_some() && f.matches("available"),
                    "attachment.vpc-id" => f.matches_any(g.vpc_id.as_deref()),
                    "internet-gateway-id" => f.matches(&g.id),
                    _ => f.matches(call.account),
                })
            })
        })
        .collect();
    let (items, next) = paging.apply(found)?;
    let mut w = call.writer();
    w.list("InternetGateways", items, |w, g| render(w, call, g));
    w.str_opt("NextToken", next);
    w.finish()
}
