//! Where a group's instances come from: a launch configuration, a launch template
//! (`LaunchTemplate`) or a mixed instances policy (`MixedInstancesPolicy`), exactly one of them.
//! [`read`] decodes the request's choice, [`check`] holds it against the region (the template and
//! version exist, it names an image, its groups fit the group's VPCs), and [`plan`] turns the
//! group's source into what one launch needs, resolving `$Latest` / `$Default` at each launch as
//! AWS does.

use crate::auth::identities::Identities;
use crate::protocol::writer::Writer;
use crate::protocol::{AwsResult, Scope};
use crate::services::ec2::images;
use crate::services::ec2::instances::devices::{self, Device};
use crate::services::ec2::instances::run::{
    template_devices, TEMPLATE_ID_TAG, TEMPLATE_VERSION_TAG,
};
use crate::services::ec2::launch_templates::{self, Resolved};
use crate::services::ec2::model::Ec2Region;
use crate::state::tags::Tags;

use super::launch_configurations::{
    ec2_devices, groups_in_vpc, profile, resolve_profile, security_group_ids,
};
use super::model::{Distribution, Group, MixedPolicy, Override, TemplateSpec};
use super::{check_string, validation};

/// A template as a request names it: (id, name, version), before it is looked up.
#[derive(Debug, Clone, Default)]
pub struct Named<'a> {
    pub id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub version: Option<&'a str>,
}

/// The launch source a Create or Update request gives.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    Configuration(&'a str),
    Template(Named<'a>),
    Mixed {
        template: Named<'a>,
        overrides: Vec<(Option<&'a str>, Option<&'a str>, Option<Named<'a>>)>,
        distribution: Distribution,
    },
}

/// AWS's answer to a request with no launch source, or more than one.
pub const ONE_SOURCE: &str = "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.";

fn named<'a>(p: &Scope<'a>, path: &str) -> AwsResult<Named<'a>> {
    let n = Named {
        id: p.str("LaunchTemplateId"),
        name: p.str("LaunchTemplateName"),
        version: p.str("Version"),
    };
    for (member, v) in [
        ("launchTemplateId", n.id),
        ("launchTemplateName", n.name),
        ("version", n.version),
    ] {
        if let Some(v) = v {
            check_string(v, &format!("{path}.{member}"), 1, 255)?;
        }
    }
    Ok(n)
}

/// The launch source of a request, `None` when it gives none (an Update keeps the group's). More
/// than one is refused.
pub fn read<'a>(p: &Scope<'a>) -> AwsResult<Option<Source<'a>>> {
    let mut found = Vec::new();
    if let Some(lc) = p.str("LaunchConfigurationName") {
        found.push(Source::Configuration(lc));
    }
    if p.has("LaunchTemplate") {
        found.push(Source::Template(named(
            &p.nested("LaunchTemplate"),
            "launchTemplate",
        )?));
    }
    if p.has("MixedInstancesPolicy") {
        let m = p.nested("MixedInstancesPolicy");
        let lt = m.nested("LaunchTemplate");
        let template = named(
            &lt.nested("LaunchTemplateSpecification"),
            "mixedInstancesPolicy.launchTemplate.launchTemplateSpecification",
        )?;
        let mut overrides = Vec::new();
        for (i, o) in lt.structs("Overrides")?.iter().enumerate() {
            let own = if o.has("LaunchTemplateSpecification") {
                Some(named(
                    &o.nested("LaunchTemplateSpecification"),
                    &format!(
                        "mixedInstancesPolicy.launchTemplate.overrides.{}.member.launchTemplateSpecification",
                        i + 1
                    ),
                )?)
            } else {
                None
            };
            overrides.push((o.str("InstanceType"), o.str("WeightedCapacity"), own));
        }
        let d = m.nested("InstancesDistribution");
        let distribution = Distribution {
            on_demand_allocation_strategy: d.str("OnDemandAllocationStrategy").map(str::to_string),
            on_demand_base_capacity: d.int("OnDemandBaseCapacity")?,
            on_demand_percentage_above_base_capacity: d
                .int("OnDemandPercentageAboveBaseCapacity")?,
            spot_allocation_strategy: d.str("SpotAllocationStrategy").map(str::to_string),
            spot_instance_pools: d.int("SpotInstancePools")?,
            spot_max_price: d.str("SpotMaxPrice").map(str::to_string),
        };
        found.push(Source::Mixed {
            template,
            overrides,
            distribution,
        });
    }
    if found.len() > 1 {
        return Err(validation(ONE_SOURCE));
    }
    Ok(found.pop())
}

/// AWS's answer for a template (or version) a group cannot use.
fn not_usable(what: String) -> crate::protocol::AwsError {
    validation(format!(
        "You must use a valid fully-formed launch template. {what}"
    ))
}

/// Looks a named template up: the stored spec (version as given, `$Default` when none) and the
/// version's data now.
fn lookup(region: &Ec2Region, n: &Named<'_>) -> AwsResult<(TemplateSpec, Resolved)> {
    let described = match (n.id, n.name) {
        (Some(id), _) => format!("template ID {id}"),
        (None, Some(name)) => format!("template name {name}"),
        (None, None) => {
            return Err(validation(
                "Valid requests must contain either launchTemplateId or LaunchTemplateName",
            ))
        }
    };
    if n.id.is_some() && n.name.is_some() {
        return Err(validation(
            "Valid requests must contain either launchTemplateId or LaunchTemplateName, not both",
        ));
    }
    let missing = || {
        not_usable(format!(
            "The specified launch template, with {described}, does not exist."
        ))
    };
    let t = launch_templates::find(region, n.id, n.name).map_err(|_| missing())?;
    let version = n.version.unwrap_or("$Default");
    let resolved = launch_templates::resolve(region, Some(&t.id), None, Some(version))
        .map_err(|_| {
            not_usable(format!(
                "The specified launch template, with {described}, version {version}, does not exist."
            ))
        })?;
    if resolved.data.image_id.is_none() {
        return Err(not_usable(format!(
            "The launch template {} version {} does not specify an image ID.",
            resolved.id, resolved.version
        )));
    }
    let spec = TemplateSpec {
        id: t.id.clone(),
        name: t.name.clone(),
        version: version.to_string(),
    };
    Ok((spec, resolved))
}

/// What a group's source is once checked: how the group stores it.
pub enum Checked {
    Configuration(String),
    Template(TemplateSpec),
    Mixed(MixedPolicy),
}

/// Checks a requested source against the region: the launch configuration or templates exist,
/// the versions resolve, each names an image.
pub fn check(region: &Ec2Region, source: &Source<'_>) -> AwsResult<Checked> {
    Ok(match source {
        Source::Configuration(name) => {
            if !region.autoscaling.launch_configurations.contains_key(*name) {
                return Err(validation(format!(
                    "Launch configuration name not found - Launch configuration {name} not found"
                )));
            }
            Checked::Configuration(name.to_string())
        }
        Source::Template(n) => Checked::Template(lookup(region, n)?.0),
        Source::Mixed {
            template,
            overrides,
            distribution,
        } => {
            let launch_template = lookup(region, template)?.0;
            let mut out = Vec::new();
            for (instance_type, weight, own) in overrides {
                let own = match own {
                    Some(n) => Some(lookup(region, n)?.0),
                    None => None,
                };
                if let Some(t) = instance_type
                    .filter(|t| !crate::services::ec2::instances::run::valid_instance_type(t))
                {
                    return Err(validation(format!("Invalid instance type: {t}")));
                }
                out.push(Override {
                    instance_type: instance_type.map(str::to_string),
                    weighted_capacity: weight.map(str::to_string),
                    launch_template: own,
                });
            }
            Checked::Mixed(MixedPolicy {
                launch_template,
                overrides: out,
                distribution: distribution.clone(),
            })
        }
    })
}

/// Everything one launch of the group needs, owned (the group's source resolved now).
pub struct Plan {
    pub image_id: String,
    pub instance_type: String,
    pub key_name: Option<String>,
    /// Security groups as the source gives them (ids, or names), resolved per VPC at launch.
    pub security_groups: Vec<String>,
    pub profile: Option<(String, String)>,
    pub devices: Vec<Device>,
    pub user_data: Option<String>,
    pub monitoring: bool,
    pub ebs_optimized: bool,
    pub tenancy: String,
    pub metadata: (Option<String>, Option<i64>, Option<String>),
    /// Tags the source adds to instances and to volumes (a template's, and its id and version).
    pub instance_tags: Tags,
    pub volume_tags: Tags,
    pub launch_configuration: Option<String>,
    /// The template and version number the instance is launched from.
    pub launch_template: Option<TemplateSpec>,
    /// `launch template` or `launch configuration`, for error messages.
    pub noun: &'static str,
}

impl Plan {
    /// The ids of the plan's security groups in VPC `vpc_id`.
    pub fn groups(&self, region: &Ec2Region, vpc_id: &str) -> AwsResult<Vec<String>> {
        groups_in_vpc(region, &self.security_groups, vpc_id, self.noun)
    }
}

/// The plan of a template version, with `instance_type` overriding the template's.
fn template_plan(
    region_name: &str,
    identities: &Identities,
    spec: &TemplateSpec,
    r: Resolved,
    instance_type: Option<&str>,
) -> AwsResult<Plan> {
    let d = &r.data;
    let image_id = d.image_id.clone().unwrap_or_default();
    let image = images::find(region_name, &image_id);
    let devices =
        devices::plan(&template_devices(d)?, image.as_ref()).map_err(|e| validation(e.message))?;
    let eni = d
        .network_interfaces
        .as_ref()
        .and_then(|l| l.iter().find(|n| n.device_index.unwrap_or(0) == 0));
    let mut security_groups: Vec<String> = d.security_group_ids.clone().unwrap_or_default();
    security_groups.extend(d.security_groups.clone().unwrap_or_default());
    if let Some(eni) = eni {
        security_groups.extend(eni.groups.iter().cloned());
    }
    let profile = d
        .iam_instance_profile
        .as_ref()
        .and_then(|p| p.arn.as_deref().or(p.name.as_deref()))
        .and_then(|given| resolve_profile(identities, given));
    let tags_of = |rtype: &str| -> Tags { d.tags_for(rtype).into_iter().collect() };
    let mut instance_tags = tags_of("instance");
    instance_tags.insert(TEMPLATE_ID_TAG.to_string(), r.id.clone());
    instance_tags.insert(TEMPLATE_VERSION_TAG.to_string(), r.version.to_string());
    let m = d.metadata_options.clone().unwrap_or_default();
    Ok(Plan {
        instance_type: instance_type
            .map(str::to_string)
            .or_else(|| d.instance_type.clone())
            .unwrap_or_else(|| "m1.small".to_string()),
        image_id,
        key_name: d.key_name.clone(),
        security_groups,
        profile,
        devices,
        user_data: d.user_data.clone(),
        monitoring: d.monitoring.unwrap_or(false),
        ebs_optimized: d.ebs_optimized.unwrap_or(false),
        tenancy: d
            .placement
            .as_ref()
            .and_then(|p| p.tenancy.clone())
            .unwrap_or_else(|| "default".to_string()),
        metadata: (
            m.http_tokens,
            m.http_put_response_hop_limit,
            m.http_endpoint,
        ),
        instance_tags,
        volume_tags: tags_of("volume"),
        launch_configuration: None,
        launch_template: Some(TemplateSpec {
            id: r.id.clone(),
            name: spec.name.clone(),
            version: r.version.to_string(),
        }),
        noun: "launch template",
    })
}

/// What the group's next instance is launched from, resolved now.
pub fn plan(
    region: &Ec2Region,
    group: &Group,
    region_name: &str,
    identities: &Identities,
) -> AwsResult<Plan> {
    let resolve = |spec: &TemplateSpec| {
        launch_templates::resolve(region, Some(&spec.id), None, Some(&spec.version))
    };
    if let Some(spec) = &group.launch_template {
        return template_plan(region_name, identities, spec, resolve(spec)?, None);
    }
    if let Some(m) = &group.mixed_instances_policy {
        // On demand, `prioritized`: the first override is launched (with its own template, if
        // it names one).
        let first = m.overrides.first();
        let spec = first
            .and_then(|o| o.launch_template.as_ref())
            .unwrap_or(&m.launch_template);
        let instance_type = first.and_then(|o| o.instance_type.as_deref());
        return template_plan(region_name, identities, spec, resolve(spec)?, instance_type);
    }
    let name = group.launch_configuration.as_deref().unwrap_or_default();
    let lc = region
        .autoscaling
        .launch_configurations
        .get(name)
        .ok_or_else(|| validation(format!("Launch configuration {name} not found")))?;
    let image = images::find(region_name, &lc.image_id);
    let devices =
        devices::plan(&ec2_devices(lc), image.as_ref()).map_err(|e| validation(e.message))?;
    let m = lc.metadata_options.clone().unwrap_or_default();
    Ok(Plan {
        image_id: lc.image_id.clone(),
        instance_type: lc.instance_type.clone(),
        key_name: lc.key_name.clone(),
        security_groups: lc.security_groups.clone(),
        profile: profile(lc, identities),
        devices,
        user_data: lc.user_data.clone(),
        monitoring: lc.monitoring,
        ebs_optimized: lc.ebs_optimized,
        tenancy: lc
            .placement_tenancy
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        metadata: (
            m.http_tokens,
            m.http_put_response_hop_limit,
            m.http_endpoint,
        ),
        instance_tags: Tags::new(),
        volume_tags: Tags::new(),
        launch_configuration: Some(lc.name.clone()),
        launch_template: None,
        noun: "launch configuration",
    })
}

/// Checks that the source's security groups fit every VPC the group launches into.
pub fn check_groups_fit(
    region: &Ec2Region,
    group: &Group,
    region_name: &str,
    identities: &Identities,
    vpcs: &[String],
) -> AwsResult<()> {
    if let Some(lc) = group
        .launch_configuration
        .as_deref()
        .and_then(|n| region.autoscaling.launch_configurations.get(n))
    {
        for vpc in vpcs {
            security_group_ids(region, lc, vpc)?;
        }
        return Ok(());
    }
    let plan = plan(region, group, region_name, identities)?;
    for vpc in vpcs {
        plan.groups(region, vpc)?;
    }
    Ok(())
}

/// A `LaunchTemplateSpecification`'s members.
pub fn render_spec(w: &mut Writer, s: &TemplateSpec) {
    w.str("LaunchTemplateId", &s.id)
        .str("LaunchTemplateName", &s.name)
        .str("Version", &s.version);
}

/// A group's `MixedInstancesPolicy`, with AWS's defaults for what was not given.
pub fn render_mixed(w: &mut Writer, m: &MixedPolicy) {
    w.structure("LaunchTemplate", |w| {
        w.structure("LaunchTemplateSpecification", |w| {
            render_spec(w, &m.launch_template)
        });
        w.list("Overrides", &m.overrides, |w, o| {
            w.str_opt("InstanceType", o.instance_type.as_deref())
                .str_opt("WeightedCapacity", o.weighted_capacity.as_deref());
            if let Some(s) = &o.launch_template {
                w.structure("LaunchTemplateSpecification", |w| render_spec(w, s));
            }
        });
    });
    let d = &m.distribution;
    w.structure("InstancesDistribution", |w| {
        w.str(
            "OnDemandAllocationStrategy",
            d.on_demand_allocation_strategy
                .as_deref()
                .unwrap_or("prioritized"),
        )
        .int(
            "OnDemandBaseCapacity",
            d.on_demand_base_capacity.unwrap_or(0),
        )
        .int(
            "OnDemandPercentageAboveBaseCapacity",
            d.on_demand_percentage_above_base_capacity.unwrap_or(100),
        )
        .str(
            "SpotAllocationStrategy",
            d.spot_allocation_strategy
                .as_deref()
                .unwrap_or("lowest-price"),
        )
        .int("SpotInstancePools", d.spot_instance_pools.unwrap_or(2))
        .str_opt("SpotMaxPrice", d.spot_max_price.as_deref());
    });
}
