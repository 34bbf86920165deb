//! Route tables and routes: CreateRouteTable, DeleteRouteTable, AssociateRouteTable,
//! DisassociateRouteTable, DescribeRouteTables, CreateRoute, ReplaceRoute, DeleteRoute.
//!
//! A route's state is derived when it is described, not stored: a route to a gateway that is no
//! longer attached, or to an instance that has terminated, renders `blackhole`, as AWS shows it.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::{self, filters, tags};

use super::common;
use super::gateways::check_gateway;
use super::instances::INSTANCE;
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{
    Association, Ec2Region, Instance, InstanceState, Route, RouteTable, RouteTarget,
};
use super::referenced::NETWORK_INTERFACE;
use super::vpcs::{self, bool_str, cidr, Page};

/// The actions of this family. A route is authorized on its table and on the instance or
/// network interface it points at.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateRouteTable", create_route_table)
        .on(&[On::Created(&ROUTE_TABLE)])
        .tags(TagsIn::Specifications),
    Action::new("DeleteRouteTable", delete_route_table).on(&[On::Id("RouteTableId")]),
    Action::new("AssociateRouteTable", associate_route_table)
        .on(&[On::Id("SubnetId"), On::Id("RouteTableId")]),
    Action::new("DisassociateRouteTable", disassociate_route_table),
    Action::new("DescribeRouteTables", describe_route_tables),
    Action::new("CreateRoute", create_route).on(ROUTE),
    Action::new("ReplaceRoute", replace_route).on(ROUTE),
    Action::new("DeleteRoute", delete_route).on(&[On::Id("RouteTableId")]),
];

const ROUTE: &[On] = &[
    On::Id("InstanceId"),
    On::Id("RouteTableId"),
    On::Id("NetworkInterfaceId"),
];

pub const ROUTE_TABLE: Kind = Kind {
    prefix: "rtb",
    arn_type: "route-table",
    not_found: Some(NotFound {
        code: "InvalidRouteTableID.NotFound",
        message: "The routeTable ID '{id}' does not exist",
    }),
    malformed: Some("InvalidRouteTableID.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.route_tables.get(id).map(|t| &t.tags),
        get_mut: |r, id| r.route_tables.get_mut(id).map(|t| &mut t.tags),
    }),
    ..Kind::BASE
};

/// Checks a route table id's form and that the region has it.
pub fn check_table(r: &Ec2Region, id: &str) -> AwsResult<()> {
    ROUTE_TABLE.check(id)?;
    if r.route_tables.contains_key(id) {
        Ok(())
    } else {
        Err(ROUTE_TABLE.not_found(id))
    }
}

/// The instance that holds a network interface (every instance has one primary interface).
fn interface_owner<'r>(r: &'r Ec2Region, eni: &str) -> Option<&'r Instance> {
    r.instances.values().find(|i| i.network_interface_id == eni)
}

/// Whether the route's target can carry traffic now.
fn route_state(r: &Ec2Region, table: &RouteTable, route: &Route, now_ms: i64) -> &'static str {
    let alive = |i: &Instance| i.state.at(now_ms) != InstanceState::Terminated;
    let active = match &route.target {
        RouteTarget::Local => true,
        RouteTarget::Gateway(g) => r
            .internet_gateways
            .get(g)
            .is_some_and(|g| g.vpc_id.as_deref() == Some(table.vpc_id.as_str())),
        RouteTarget::Instance(i) => r.instances.get(i).is_some_and(alive),
        RouteTarget::NetworkInterface(n) => interface_owner(r, n).is_some_and(alive),
    };
    if active {
        "active"
    } else {
        "blackhole"
    }
}

fn render_association(w: &mut Writer, table_id: &str, a: &Association) {
    w.str("RouteTableAssociationId", &a.id)
        .str("RouteTableId", table_id)
        .str_opt("SubnetId", a.subnet_id.as_ref())
        .bool("Main", a.main)
        .structure("AssociationState", |w| {
            w.str("State", "associated");
        });
}

fn render(w: &mut Writer, call: &Call<'_>, r: &Ec2Region, t: &RouteTable) {
    w.str("RouteTableId", &t.id)
        .str("VpcId", &t.vpc_id)
        .str("OwnerId", call.account)
        .list("Routes", &t.routes, |w, route| {
            let dest = if route.destination.contains(':') {
                "DestinationIpv6CidrBlock"
            } else {
                "DestinationCidrBlock"
            };
            w.str(dest, &route.destination);
            match &route.target {
                RouteTarget::Local => {
                    w.str("GatewayId", "local");
                }
                RouteTarget::Gateway(g) => {
                    w.str("GatewayId", g);
                }
                RouteTarget::Instance(i) => {
                    w.str("InstanceId", i).str("InstanceOwnerId", call.account);
                    if let Some(inst) = r.instances.get(i) {
                        w.str("NetworkInterfaceId", &inst.network_interface_id);
                    }
                }
                RouteTarget::NetworkInterface(n) => {
                    if let Some(inst) = interface_owner(r, n) {
                        w.str("InstanceId", &inst.id)
                            .str("InstanceOwnerId", call.account);
                    }
                    w.str("NetworkInterfaceId", n);
                }
            }
            w.str("State", route_state(r, t, route, call.now_ms))
                .str("Origin", route.origin);
        })
        .list("Associations", &t.associations, |w, a| {
            render_association(w, &t.id, a)
        })
        .list("PropagatingVgws", [(); 0], |_, _| {});
    // AWS sends a route table's tag set even when empty (`Tags: []` in its recordings).
    common::write_tag_list(w, &t.tags);
}

pub fn create_route_table(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let vpc_id = p.required("VpcId")?;
    let client_token = p.str("ClientToken");
    let mut specs = tags::from_specifications(&p, &["route-table"])?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    vpcs::check_vpc(&r, vpc_id)?;
    let mut t = r.new_route_table(vpc_id, &call.world.ids, false);
    t.tags = specs.remove("route-table").unwrap_or_default();
    r.route_tables.insert(t.id.clone(), t.clone());
    let mut w = call.writer();
    w.structure("RouteTable", |w| render(w, call, &r, &t));
    w.str_opt("ClientToken", client_token);
    w.finish()
}

pub fn delete_route_table(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("RouteTableId")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_table(&r, id)?;
    if r.route_tables
        .get(id)
        .is_some_and(|t| !t.associations.is_empty())
    {
        return Err(AwsError::dependency_violation(format!(
            "The routeTable '{id}' has dependencies and cannot be deleted."
        )));
    }
    r.route_tables.remove(id);
    common::done(call)
}

pub fn associate_route_table(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let table_id = p.required("RouteTableId")?;
    let subnet_id = p.required("SubnetId")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_table(&r, table_id)?;
    vpcs::check_subnet(&r, subnet_id)?;
    let same_network = r.route_tables.get(table_id).map(|t| &t.vpc_id)
        == r.subnets.get(subnet_id).map(|s| &s.vpc_id);
    if !same_network {
        return Err(AwsError::invalid_value(format!(
            "Route table {table_id} and subnet {subnet_id} belong to different networks"
        )));
    }
    let taken = r.route_tables.values().any(|t| {
        t.associations
            .iter()
            .any(|a| a.subnet_id.as_deref() == Some(subnet_id))
    });
    if taken {
        return Err(AwsError::bad_request(
            "Resource.AlreadyAssociated",
            format!("the specified association for route table {table_id} conflicts with an existing association"),
        ));
    }
    let id = call.world.ids.resource_id("rtbassoc");
    if let Some(t) = r.route_tables.get_mut(table_id) {
        t.associations.push(Association {
            id: id.clone(),
            subnet_id: Some(subnet_id.to_string()),
            main: false,
        });
    }
    let mut w = call.writer();
    w.str("AssociationId", id)
        .structure("AssociationState", |w| {
            w.str("State", "associated");
        });
    w.finish()
}

pub fn disassociate_route_table(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("AssociationId")?;
    call.params()?.finish()?;
    common::check_id(id, "rtbassoc", "InvalidAssociationID.Malformed")?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let Some(table) = r
        .route_tables
        .values_mut()
        .find(|t| t.associations.iter().any(|a| a.id == id))
    else {
        return Err(AwsError::bad_request(
            "InvalidAssociationID.NotFound",
            format!("The association ID '{id}' does not exist"),
        ));
    };
    if table.associations.iter().any(|a| a.id == id && a.main) {
        return Err(AwsError::invalid_value(format!(
            "cannot disassociate the main route table association {id}"
        )));
    }
    table.associations.retain(|a| a.id != id);
    common::done(call)
}

pub fn describe_route_tables(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let wanted = p.strings("RouteTableId")?;
    let mut known = vec![
        "association.route-table-association-id",
        "association.route-table-id",
        "association.subnet-id",
        "association.main",
        "owner-id",
        "route-table-id",
        "route.destination-cidr-block",
        "route.destination-ipv6-cidr-block",
        "route.gateway-id",
        "route.instance-id",
        "route.network-interface-id",
        "route.origin",
        "route.state",
        "vpc-id",
    ];
    known.extend(tags::TAG_FILTERS);
    let filters = filters::parse(&p, &known)?;
    let paging = Page::read(&p)?.at_most(100);
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    for id in &wanted {
        check_table(&r, id)?;
    }
    let found: Vec<&RouteTable> = r
        .route_tables
        .values()
        .filter(|t| wanted.is_empty() || wanted.contains(&t.id.as_str()))
        .filter(|t| {
            filters.iter().all(|f| {
                tags::filter_matches(f, &t.tags).unwrap_or_else(|| {
                    f.matches_any(
                        table_values(call, &r, t, &f.name)
                            .iter()
                            .map(String::as_str),
                    )
                })
            })
        })
        .collect();
    let (items, next) = paging.apply(found)?;
    let mut w = call.writer();
    w.list("RouteTables", items, |w, t| render(w, call, &r, t));
    w.str_opt("NextToken", next);
    w.finish()
}

/// A table's values for one (non-tag) filter.
fn table_values(call: &Call<'_>, r: &Ec2Region, t: &RouteTable, name: &str) -> Vec<String> {
    let assoc = |f: fn(&Association) -> Option<String>| -> Vec<String> {
        t.associations.iter().filter_map(f).collect()
    };
    let routes = |f: &dyn Fn(&Route) -> Option<String>| -> Vec<String> {
        t.routes.iter().filter_map(f).collect()
    };
    match name {
        "association.route-table-association-id" => assoc(|a| Some(a.id.clone())),
        "association.route-table-id" => t.associations.iter().map(|_| t.id.clone()).collect(),
        "association.subnet-id" => assoc(|a| a.subnet_id.clone()),
        "association.main" => assoc(|a| Some(bool_str(a.main).to_string())),
        "owner-id" => vec![call.account.to_string()],
        "route-table-id" => vec![t.id.clone()],
        "route.destination-cidr-block" => {
            routes(&|rt| (!rt.destination.contains(':')).then(|| rt.destination.clone()))
        }
        "route.destination-ipv6-cidr-block" => {
            routes(&|rt| rt.destination.contains(':').then(|| rt.destination.clone()))
        }
        "route.gateway-id" => routes(&|rt| match &rt.target {
            RouteTarget::Local => Some("local".into()),
            RouteTarget::Gateway(g) => Some(g.clone()),
            _ => None,
        }),
        "route.instance-id" => routes(&|rt| match &rt.target {
            RouteTarget::Instance(i) => Some(i.clone()),
            RouteTarget::NetworkInterface(n) => interface_owner(r, n).map(|i| i.id.clone()),
            _ => None,
        }),
        "route.network-interface-id" => routes(&|rt| match &rt.target {
            RouteTarget::NetworkInterface(n) => Some(n.clone()),
            RouteTarget::Instance(i) => r.instances.get(i).map(|i| i.network_interface_id.clone()),
            _ => None,
        }),
        "route.origin" => routes(&|rt| Some(rt.origin.to_string())),
        "route.state" => routes(&|rt| Some(route_state(r, t, rt, call.now_ms).to_string())),
        _ => vec![t.vpc_id.clone()],
    }
}

/// The input of CreateRoute / ReplaceRoute: table, canonical destination and target (target
/// existence is checked under the lock).
struct RouteInput<'a> {
    table: &'a str,
    destination: String,
    target: RouteTarget,
}

/// The destination of a route request: exactly one of the IPv4 and IPv6 blocks.
fn destination(p: &Scope<'_>) -> AwsResult<String> {
    match (p.str("DestinationCidrBlock"), p.str("DestinationIpv6CidrBlock")) {
        (Some(v4), None) => cidr::canonical_v4(v4).ok_or_else(|| {
            AwsError::invalid_value(format!(
                "Value ({v4}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block."
            ))
        }),
        (None, Some(v6)) => cidr::canonical_v6(v6).ok_or_else(|| {
            AwsError::invalid_value(format!(
                "Value ({v6}) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block."
            ))
        }),
        (Some(_), Some(_)) => Err(AwsError::invalid_combination(
            "Only one of destinationCidrBlock and destinationIpv6CidrBlock may be specified",
        )),
        (None, None) => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock",
        )),
    }
}

fn route_input<'a>(call: &Call<'a>) -> AwsResult<RouteInput<'a>> {
    let p = call.root()?;
    let table = p.required("RouteTableId")?;
    let destination = destination(&p)?;
    let targets: Vec<RouteTarget> = [
        p.str("GatewayId")
            .map(|g| RouteTarget::Gateway(g.to_string())),
        p.str("InstanceId")
            .map(|i| RouteTarget::Instance(i.to_string())),
        p.str("NetworkInterfaceId")
            .map(|n| RouteTarget::NetworkInterface(n.to_string())),
    ]
    .into_iter()
    .flatten()
    .collect();
    call.params()?.finish()?;
    let mut targets = targets.into_iter();
    match (targets.next(), targets.next()) {
        (Some(target), None) => Ok(RouteInput {
            table,
            destination,
            target,
        }),
        (None, _) => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain exactly one of gatewayId, instanceId or networkInterfaceId",
        )),
        (Some(_), Some(_)) => Err(AwsError::invalid_combination(
            "More than one target specified",
        )),
    }
}

/// Checks that the target exists in the region and is in the table's VPC.
fn check_target(r: &Ec2Region, table: &str, target: &RouteTarget) -> AwsResult<()> {
    let vpc = r
        .route_tables
        .get(table)
        .map(|t| t.vpc_id.as_str())
        .unwrap_or_default();
    let (noun, id, target_vpc) = match target {
        RouteTarget::Local => return Ok(()),
        RouteTarget::Gateway(g) => {
            check_gateway(r, g)?;
            (
                "network gateway",
                g,
                r.internet_gateways.get(g).and_then(|g| g.vpc_id.as_deref()),
            )
        }
        RouteTarget::Instance(i) => {
            INSTANCE.check(i)?;
            let inst = r.instances.get(i).ok_or_else(|| INSTANCE.not_found(i))?;
            ("instance", i, Some(inst.vpc_id.as_str()))
        }
        RouteTarget::NetworkInterface(n) => {
            NETWORK_INTERFACE.check(n)?;
            let inst = interface_owner(r, n).ok_or_else(|| NETWORK_INTERFACE.not_found(n))?;
            ("network interface", n, Some(inst.vpc_id.as_str()))
        }
    };
    if target_vpc != Some(vpc) {
        return Err(AwsError::invalid_value(format!(
            "route table {table} and {noun} {id} belong to different networks"
        )));
    }
    Ok(())
}

fn no_route(table: &str, destination: &str) -> AwsError {
    let kind = if destination.contains(':') {
        "destination-ipv6-cidr-block"
    } else {
        "destination-cidr-block"
    };
    AwsError::bad_request(
        "InvalidRoute.NotFound",
        format!("no route with {kind} {destination} in route table {table}"),
    )
}

pub fn create_route(call: &Call<'_>) -> AwsResult<Output> {
    let input = route_input(call)?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_table(&r, input.table)?;
    check_target(&r, input.table, &input.target)?;
    let Some(t) = r.route_tables.get_mut(input.table) else {
        return Err(AwsError::internal());
    };
    if t.routes
        .iter()
        .any(|rt| rt.destination == input.destination)
    {
        return Err(AwsError::bad_request(
            "RouteAlreadyExists",
            format!(
                "The route identified by {} already exists.",
                input.destination
            ),
        ));
    }
    t.routes.push(Route {
        destination: input.destination,
        target: input.target,
        origin: "CreateRoute",
    });
    common::done(call)
}

pub fn replace_route(call: &Call<'_>) -> AwsResult<Output> {
    let input = route_input(call)?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_table(&r, input.table)?;
    check_target(&r, input.table, &input.target)?;
    let Some(t) = r.route_tables.get_mut(input.table) else {
        return Err(AwsError::internal());
    };
    let Some(route) = t
        .routes
        .iter_mut()
        .find(|rt| rt.destination == input.destination)
    else {
        return Err(no_route(input.table, &input.destination));
    };
    if route.target == RouteTarget::Local {
        return Err(AwsError::invalid_value(format!(
            "cannot replace local route {} in route table {}",
            input.destination, input.table
        )));
    }
    route.target = input.target;
    route.origin = "CreateRoute";
    common::done(call)
}

pub fn delete_route(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let table = p.required("RouteTableId")?;
    let destination = destination(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    check_table(&r, table)?;
    let Some(t) = r.route_tables.get_mut(table) else {
        return Err(AwsError::internal());
    };
    match t.routes.iter().position(|rt| rt.destination == destination) {
        None => Err(no_route(table, &destination)),
        Some(i) if t.routes[i].target == RouteTarget::Local => Err(AwsError::invalid_value(
            format!("cannot remove local route {destination} in route table {table}"),
        )),
        Some(i) => {
            t.routes.remove(i);
            common::done(call)
        }
    }
}
