//! Pod-CIDR routes: `CreateRoute`, `DeleteRoute` and `ListRoutes` of aws_routes.go.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{AttributeBooleanValue, Instance, RouteState, RouteTable};
use serde::{Deserialize, Serialize};

use super::api::{call, EC2};
use super::context::{FlowContext, FlowError};
use super::network::{describe_instances, filter, tagging};
use super::tagging::ec2_pairs;

/// A route the route controller asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInput {
    /// The cluster name the controller passes (it names routes `<cluster>-<cidr>`).
    #[serde(default)]
    pub cluster_name: String,
    /// The node: its private DNS name (the provider's node name).
    #[serde(default)]
    pub target_node: String,
    pub destination_cidr: String,
    /// `RouteTableID` from the cloud config; else the one cluster-tagged table.
    #[serde(default)]
    pub route_table_id: Option<String>,
}

/// `ListRoutes` input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInput {
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub route_table_id: Option<String>,
}

/// One `cloudprovider.Route`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub name: String,
    /// The node name (private DNS name), empty for a blackhole.
    pub target_node: String,
    pub destination_cidr: String,
    pub blackhole: bool,
}

/// What create/delete did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteResult {
    pub route_table_id: String,
    pub instance_id: Option<String>,
}

/// `findRouteTable`: the configured table, else the one table with the cluster tag.
async fn find_route_table(
    ctx: &FlowContext,
    cluster_name: &str,
    configured: Option<&str>,
) -> Result<RouteTable, FlowError> {
    let tables: Vec<RouteTable> = match configured {
        Some(id) => call(ctx, EC2, "DescribeRouteTables", || {
            ctx.ec2
                .describe_route_tables()
                .filters(filter("route-table-id", &[id]))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?
        .route_tables()
        .to_vec(),
        None => {
            let t = tagging(ctx);
            call(ctx, EC2, "DescribeRouteTables", || {
                ctx.ec2.describe_route_tables().send()
            })
            .await
            .map_err(|e| FlowError::api(&e))?
            .route_tables()
            .iter()
            .filter(|r| t.has_cluster_tag(ec2_pairs(r.tags())))
            .cloned()
            .collect()
        }
    };
    match tables.len() {
        0 => Err(FlowError::msg(format!(
            "unable to find route table for AWS cluster: {cluster_name}"
        ))),
        1 => Ok(tables.into_iter().next().unwrap_or_else(|| unreachable!())),
        _ => Err(FlowError::msg(format!(
            "found multiple matching AWS route tables for AWS cluster: {cluster_name}"
        ))),
    }
}

/// The provider's "alive" instance states (`aliveFilter`).
const ALIVE: &[&str] = &["pending", "running", "shutting-down", "stopping", "stopped"];

/// `findInstanceByNodeName` / `getInstanceByNodeName` for a node named by its private DNS name
/// (the node-name cache is empty in a fresh provider, so it filters).
pub async fn instance_by_node_name(ctx: &FlowContext, node: &str) -> Result<Instance, FlowError> {
    let found = describe_instances(
        ctx,
        vec![
            filter("private-dns-name", &[node]),
            filter("instance-state-name", ALIVE),
        ],
    )
    .await
    .map_err(|e| FlowError::api(&e))?;
    match found.len() {
        0 => Err(FlowError::msg("instance not found")),
        1 => Ok(found.into_iter().next().unwrap_or_else(|| unreachable!())),
        _ => Err(FlowError::msg(format!(
            "multiple instances found for name: {node}"
        ))),
    }
}

/// `CreateRoute`: find the node's instance, turn its source/dest check off, replace a
/// blackholed route for the CIDR, create the route to the instance.
pub async fn create(ctx: &FlowContext, input: &RouteInput) -> Result<RouteResult, FlowError> {
    let instance = instance_by_node_name(ctx, &input.target_node).await?;
    let instance_id = instance.instance_id().unwrap_or("").to_string();
    call(ctx, EC2, "ModifyInstanceAttribute", || {
        ctx.ec2
            .modify_instance_attribute()
            .instance_id(&instance_id)
            .source_dest_check(AttributeBooleanValue::builder().value(false).build())
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            &format!("error configuring source-dest-check on instance {instance_id}: "),
            true,
            "",
        )
    })?;
    let table = find_route_table(ctx, &input.cluster_name, input.route_table_id.as_deref()).await?;
    let table_id = table.route_table_id().unwrap_or("").to_string();
    let blackholed = table.routes().iter().any(|r| {
        r.destination_cidr_block() == Some(input.destination_cidr.as_str())
            && r.state() == Some(&RouteState::Blackhole)
    });
    if blackholed {
        call(ctx, EC2, "DeleteRoute", || {
            ctx.ec2
                .delete_route()
                .destination_cidr_block(&input.destination_cidr)
                .route_table_id(&table_id)
                .send()
        })
        .await
        .map_err(|e| {
            FlowError::wrap(
                &e,
                &format!(
                    "error deleting blackholed AWS route ({}): ",
                    input.destination_cidr
                ),
                true,
                "",
            )
        })?;
    }
    call(ctx, EC2, "CreateRoute", || {
        ctx.ec2
            .create_route()
            .destination_cidr_block(&input.destination_cidr)
            .instance_id(&instance_id)
            .route_table_id(&table_id)
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            &format!("error creating AWS route ({}): ", input.destination_cidr),
            true,
            "",
        )
    })?;
    Ok(RouteResult {
        route_table_id: table_id,
        instance_id: Some(instance_id),
    })
}

/// `DeleteRoute`.
pub async fn delete(ctx: &FlowContext, input: &RouteInput) -> Result<RouteResult, FlowError> {
    let table = find_route_table(ctx, &input.cluster_name, input.route_table_id.as_deref()).await?;
    let table_id = table.route_table_id().unwrap_or("").to_string();
    call(ctx, EC2, "DeleteRoute", || {
        ctx.ec2
            .delete_route()
            .destination_cidr_block(&input.destination_cidr)
            .route_table_id(&table_id)
            .send()
    })
    .await
    .map_err(|e| {
        FlowError::wrap(
            &e,
            &format!("error deleting AWS route ({}): ", input.destination_cidr),
            true,
            "",
        )
    })?;
    Ok(RouteResult {
        route_table_id: table_id,
        instance_id: None,
    })
}

/// `ListRoutes`: the table's routes to cluster instances (named by private DNS name) and its
/// blackholes.
pub async fn list(ctx: &FlowContext, input: &ListInput) -> Result<Vec<Route>, FlowError> {
    let table = find_route_table(ctx, &input.cluster_name, input.route_table_id.as_deref()).await?;
    let ids: Vec<&str> = table
        .routes()
        .iter()
        .filter_map(|r| r.instance_id())
        .filter(|id| !id.is_empty())
        .collect();
    // getInstancesByIDs (the describe-instance batcher: by id, no cluster-tag filter).
    let instances: BTreeMap<String, Instance> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        let out = call(ctx, EC2, "DescribeInstances", || {
            ctx.ec2
                .describe_instances()
                .set_instance_ids(Some(ids.clone()))
                .send()
        })
        .await
        .map_err(|e| FlowError::api(&e))?;
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| !i.instance_id().unwrap_or("").is_empty())
            .map(|i| (i.instance_id().unwrap_or("").to_string(), i.clone()))
            .collect()
    };
    let mut routes = Vec::new();
    for r in table.routes() {
        let Some(cidr) = r.destination_cidr_block().filter(|c| !c.is_empty()) else {
            continue;
        };
        let name = format!("{}-{cidr}", input.cluster_name);
        if r.state() == Some(&RouteState::Blackhole) {
            routes.push(Route {
                name,
                target_node: String::new(),
                destination_cidr: cidr.to_string(),
                blackhole: true,
            });
            continue;
        }
        if let Some(instance) = r.instance_id().and_then(|id| instances.get(id)) {
            routes.push(Route {
                name,
                target_node: instance.private_dns_name().unwrap_or("").to_string(),
                destination_cidr: cidr.to_string(),
                blackhole: false,
            });
        }
    }
    Ok(routes)
}
