//! EC2 launch templates: CreateLaunchTemplate, CreateLaunchTemplateVersion (a `SourceVersion`'s
//! data with the given members replacing its own), DescribeLaunchTemplates,
//! DescribeLaunchTemplateVersions, ModifyLaunchTemplate (`SetDefaultVersion`),
//! DeleteLaunchTemplateVersions (a success and a failure list, as AWS answers: the default version
//! is never deleted) and DeleteLaunchTemplate; and [`resolve`], which RunInstances and Auto Scaling
//! groups launch through (`$Latest`, `$Default` or a number).
//!
//! A template keeps every version it has; `LatestVersionNumber` only grows (a deleted version's
//! number is not given again), as in AWS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::tags::{self, Tags, TAG_FILTERS};
use crate::state::{read, write};

use super::common::{self, timestamp};
use super::kind::{Kind, NotFound, TagsOf};
use super::launch_template_data::{self, TemplateData};
use super::model::Ec2Region;

/// The actions of this family. Those that name one template are authorized on it when it is
/// named by id (`launch-template/lt-…`), as the Service Authorization Reference lists.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateLaunchTemplate", create_launch_template)
        .on(&[On::Created(&LAUNCH_TEMPLATE)])
        .tags(TagsIn::Specifications),
    Action::new(
        "CreateLaunchTemplateVersion",
        create_launch_template_version,
    )
    .on(&[On::Id("LaunchTemplateId")]),
    Action::new("DescribeLaunchTemplates", describe_launch_templates),
    Action::new(
        "DescribeLaunchTemplateVersions",
        describe_launch_template_versions,
    ),
    Action::new("ModifyLaunchTemplate", modify_launch_template).on(ON_TEMPLATE),
    Action::new(
        "DeleteLaunchTemplateVersions",
        delete_launch_template_versions,
    )
    .on(ON_TEMPLATE),
    Action::new("DeleteLaunchTemplate", delete_launch_template).on(ON_TEMPLATE),
];

/// The template a request names, by id or by name.
const ON_TEMPLATE: &[On] = &[
    On::Id("LaunchTemplateId"),
    On::Name(&BY_NAME, "LaunchTemplateName"),
];

/// A template named by name, as a declaration sees it (`…:launch-template-name/NAME`): the
/// pipeline puts the template's ARN in its place ([`arn_of_named`]) before policies see it.
pub const BY_NAME: crate::services::action::Named = crate::services::action::Named {
    service: "ec2",
    regional: true,
    resource: "launch-template-name",
};

/// The ARN policies see for a resource that names a template by name: the template's
/// (`launch-template/lt-…`), or every template's when the region has none of that name (the
/// handler answers NotFound). Other resources pass unchanged. Takes the region's read lock.
pub fn arn_of_named(world: &crate::state::World, resource: &str) -> String {
    let Some((head, name)) = resource.split_once(":launch-template-name/") else {
        return resource.to_string();
    };
    let id = head
        .split(':')
        .nth(3)
        .and_then(|region| world.ec2(region))
        .and_then(|lock| {
            let region = read(&lock);
            let found = region
                .launch_templates
                .values()
                .find(|t| t.name == name)
                .map(|t| t.id.clone());
            found
        });
    format!("{head}:launch-template/{}", id.as_deref().unwrap_or("*"))
}

/// Launch templates (`lt-…`).
pub const LAUNCH_TEMPLATE: Kind = Kind {
    prefix: "lt",
    arn_type: "launch-template",
    not_found: Some(NotFound {
        code: "InvalidLaunchTemplateId.NotFound",
        message: "The specified launch template, with template ID {id}, does not exist.",
    }),
    malformed: Some("InvalidLaunchTemplateId.Malformed"),
    tags: Some(TagsOf {
        get: |r, id| r.launch_templates.get(id).map(|t| &t.tags),
        get_mut: |r, id| r.launch_templates.get_mut(id).map(|t| &mut t.tags),
    }),
    ..Kind::BASE
};

/// One version of a template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub number: i64,
    pub description: Option<String>,
    pub create_ms: i64,
    pub created_by: String,
    pub data: TemplateData,
    pub client_token: Option<String>,
}

/// A launch template and its versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub create_ms: i64,
    /// The ARN of the principal that created it.
    pub created_by: String,
    pub default_version: i64,
    pub latest_version: i64,
    pub versions: BTreeMap<i64, TemplateVersion>,
    pub tags: Tags,
    pub client_token: Option<String>,
}

/// `InvalidLaunchTemplateName.NotFoundException` for one named template.
fn name_not_found(name: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidLaunchTemplateName.NotFoundException",
        format!("The specified launch template, with template name {name}, does not exist."),
    )
}

/// The answer for a version a template does not have.
pub fn version_not_found(template_id: &str, version: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidLaunchTemplateId.VersionNotFound",
        format!(
            "The specified launch template version does not exist: version {version} of launch template {template_id}."
        ),
    )
}

/// AWS's rule for template names: 3 to 128 of letters, digits and `( ) . - / _`.
fn check_name(name: &str) -> AwsResult<()> {
    let ok = (3..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "().-/_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "InvalidLaunchTemplateName.MalformedException",
            "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'",
        ))
    }
}

/// The template named by id or by name (exactly one of them).
pub fn find<'r>(
    region: &'r Ec2Region,
    id: Option<&str>,
    name: Option<&str>,
) -> AwsResult<&'r LaunchTemplate> {
    match (id, name) {
        (Some(_), Some(_)) => Err(AwsError::invalid_combination(
            "Both a launch template ID and a launch template name were specified. Specify only one of them.",
        )),
        (None, None) => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter LaunchTemplateName or LaunchTemplateId",
        )),
        (Some(id), None) => {
            LAUNCH_TEMPLATE.check(id)?;
            region
                .launch_templates
                .get(id)
                .ok_or_else(|| LAUNCH_TEMPLATE.not_found(id))
        }
        (None, Some(name)) => region
            .launch_templates
            .values()
            .find(|t| t.name == name)
            .ok_or_else(|| name_not_found(name)),
    }
}

/// The version number `version` stands for: `$Latest`, `$Default` or an existing number.
pub fn version_number(t: &LaunchTemplate, version: &str) -> AwsResult<i64> {
    let n = match version {
        "$Latest" => t.latest_version,
        "$Default" => t.default_version,
        other => other
            .parse::<i64>()
            .map_err(|_| version_not_found(&t.id, other))?,
    };
    if t.versions.contains_key(&n) {
        Ok(n)
    } else {
        Err(version_not_found(&t.id, version))
    }
}

/// What a launch uses: the template (id, name) and the version's number and data.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub data: TemplateData,
}

/// The template version a launch names (`Version` defaults to `$Default`).
pub fn resolve(
    region: &Ec2Region,
    id: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
) -> AwsResult<Resolved> {
    let t = find(region, id, name)?;
    let n = version_number(t, version.unwrap_or("$Default"))?;
    let data = t
        .versions
        .get(&n)
        .map(|v| v.data.clone())
        .ok_or_else(AwsError::internal)?;
    Ok(Resolved {
        id: t.id.clone(),
        name: t.name.clone(),
        version: n,
        data,
    })
}

/// The members of a `LaunchTemplate`.
fn render_template(w: &mut Writer, t: &LaunchTemplate) {
    w.str("LaunchTemplateId", &t.id)
        .str("LaunchTemplateName", &t.name)
        .time("CreateTime", t.create_ms)
        .str("CreatedBy", &t.created_by)
        .int("DefaultVersionNumber", t.default_version)
        .int("LatestVersionNumber", t.latest_version);
    common::write_tags(w, &t.tags);
}

/// The members of a `LaunchTemplateVersion`.
fn render_version(w: &mut Writer, t: &LaunchTemplate, v: &TemplateVersion) {
    w.str("LaunchTemplateId", &t.id)
        .str("LaunchTemplateName", &t.name)
        .int("VersionNumber", v.number)
        .str_opt("VersionDescription", v.description.as_deref())
        .time("CreateTime", v.create_ms)
        .str("CreatedBy", &v.created_by)
        .bool("DefaultVersion", v.number == t.default_version)
        .structure("LaunchTemplateData", |w| {
            launch_template_data::render(w, &v.data)
        });
}

/// `VersionDescription`: at most 255 characters.
fn description<'a>(p: &Scope<'a>) -> AwsResult<Option<&'a str>> {
    let d = p.str("VersionDescription");
    if let Some(d) = d.filter(|d| d.chars().count() > 255) {
        return Err(AwsError::invalid_value(format!(
            "Value ({d}) for parameter versionDescription is invalid. It must be at most 255 characters long."
        )));
    }
    Ok(d)
}

fn missing_data() -> AwsError {
    AwsError::bad_request(
        "MissingParameter",
        "The request must contain the parameter LaunchTemplateData",
    )
}

fn create_launch_template(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LaunchTemplateName")?;
    let description = description(&p)?;
    let data = launch_template_data::parse(&p.nested("LaunchTemplateData"))?;
    let token = p.str("ClientToken");
    let mut specs = tags::from_specifications(&p, &["launch-template"])?;
    call.params()?.finish()?;
    let token = common::client_token(token)?;
    check_name(name)?;
    if data.is_empty() {
        return Err(missing_data());
    }
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    if let Some(token) = token {
        if let Some(t) = region
            .launch_templates
            .values()
            .find(|t| t.client_token.as_deref() == Some(token))
        {
            if t.name != name {
                return Err(AwsError::bad_request(
                    "IdempotentParameterMismatch",
                    "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
                ));
            }
            let mut w = call.writer();
            w.structure("LaunchTemplate", |w| render_template(w, t));
            return w.finish();
        }
    }
    if region.launch_templates.values().any(|t| t.name == name) {
        return Err(AwsError::bad_request(
            "InvalidLaunchTemplateName.AlreadyExistsException",
            format!("Launch template name already in use: {name}"),
        ));
    }
    let id = call.world.ids.resource_id("lt");
    let created_by = call.principal.arn.clone();
    let version = TemplateVersion {
        number: 1,
        description: description.map(str::to_string),
        create_ms: now,
        created_by: created_by.clone(),
        data,
        client_token: token.map(str::to_string),
    };
    let t = LaunchTemplate {
        id: id.clone(),
        name: name.to_string(),
        create_ms: now,
        created_by,
        default_version: 1,
        latest_version: 1,
        versions: [(1, version)].into(),
        tags: specs.remove("launch-template").unwrap_or_default(),
        client_token: token.map(str::to_string),
    };
    let mut w = call.writer();
    w.structure("LaunchTemplate", |w| render_template(w, &t));
    call.created(&id);
    region.launch_templates.insert(id, t);
    w.finish()
}

fn create_launch_template_version(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.str("LaunchTemplateId");
    let name = p.str("LaunchTemplateName");
    let source = p.str("SourceVersion");
    let description = description(&p)?;
    let given = launch_template_data::parse(&p.nested("LaunchTemplateData"))?;
    let token = p.str("ClientToken");
    let _resolve_alias = p.bool("ResolveAlias")?;
    call.params()?.finish()?;
    let token = common::client_token(token)?;
    if given.is_empty() && source.is_none() {
        return Err(missing_data());
    }
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let t = find(&region, id, name)?;
    if let Some(v) = token.and_then(|tok| {
        t.versions
            .values()
            .find(|v| v.client_token.as_deref() == Some(tok))
    }) {
        let mut w = call.writer();
        w.structure("LaunchTemplateVersion", |w| render_version(w, t, v));
        return w.finish();
    }
    let data = match source {
        Some(s) => {
            let n = version_number(t, s)?;
            let base = t.versions.get(&n).ok_or_else(AwsError::internal)?;
            base.data.overlaid(given)
        }
        None => given,
    };
    let tid = t.id.clone();
    let Some(t) = region.launch_templates.get_mut(&tid) else {
        return Err(AwsError::internal());
    };
    let number = t.latest_version + 1;
    let version = TemplateVersion {
        number,
        description: description.map(str::to_string),
        create_ms: now,
        created_by: call.principal.arn.clone(),
        data,
        client_token: token.map(str::to_string),
    };
    t.latest_version = number;
    t.versions.insert(number, version);
    let t = &*t;
    let mut w = call.writer();
    if let Some(v) = t.versions.get(&number) {
        w.structure("LaunchTemplateVersion", |w| render_version(w, t, v));
    }
    w.finish()
}

const TEMPLATE_FILTERS: &[&str] = &[
    "create-time",
    "launch-template-name",
    TAG_FILTERS[0],
    TAG_FILTERS[1],
    TAG_FILTERS[2],
];

fn template_matches(f: &Filter, t: &LaunchTemplate) -> bool {
    if let Some(m) = tags::filter_matches(f, &t.tags) {
        return m;
    }
    match f.name.as_str() {
        "create-time" => f.matches(&timestamp(t.create_ms)),
        "launch-template-name" => f.matches(&t.name),
        _ => false,
    }
}

/// AWS's answer when a listed id or name is not the region's.
fn some_not_found(code: &'static str) -> AwsError {
    AwsError::bad_request(
        code,
        "At least one of the launch templates specified in the request does not exist.",
    )
}

fn describe_launch_templates(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("LaunchTemplateId")?;
    let names = p.strings("LaunchTemplateName")?;
    let filters = filters::parse(&p, TEMPLATE_FILTERS)?;
    let page = Page::read(&p)?.between(1, 200);
    let _managed = p.bool("IncludeManagedResources")?;
    call.params()?.finish()?;
    if page.limited() && (!ids.is_empty() || !names.is_empty()) {
        return Err(AwsError::invalid_combination(
            "The parameter LaunchTemplateIds or LaunchTemplateNames cannot be used with the parameter MaxResults",
        ));
    }
    let lock = common::region(call)?;
    let region = read(&lock);
    for id in &ids {
        LAUNCH_TEMPLATE.check(id)?;
        if !region.launch_templates.contains_key(*id) {
            return Err(some_not_found("InvalidLaunchTemplateId.NotFound"));
        }
    }
    for name in &names {
        if !region.launch_templates.values().any(|t| t.name == *name) {
            return Err(some_not_found(
                "InvalidLaunchTemplateName.NotFoundException",
            ));
        }
    }
    let mut matched: Vec<&LaunchTemplate> = region
        .launch_templates
        .values()
        .filter(|t| ids.is_empty() || ids.contains(&t.id.as_str()))
        .filter(|t| names.is_empty() || names.contains(&t.name.as_str()))
        .filter(|t| filters.iter().all(|f| template_matches(f, t)))
        .collect();
    matched.sort_by(|a, b| (a.create_ms, &a.id).cmp(&(b.create_ms, &b.id)));
    let (page, next) = page.apply(matched)?;
    let mut w = call.writer();
    w.list("LaunchTemplates", page, render_template);
    w.str_opt("NextToken", next);
    w.finish()
}

const VERSION_FILTERS: &[&str] = &[
    "create-time",
    "ebs-optimized",
    "http-endpoint",
    "http-put-response-hop-limit",
    "http-tokens",
    "iam-instance-profile",
    "image-id",
    "instance-type",
    "is-default-version",
    "kernel-id",
    "ram-disk-id",
];

fn version_matches(f: &Filter, t: &LaunchTemplate, v: &TemplateVersion) -> bool {
    let d = &v.data;
    let bool_str = |b: bool| if b { "true" } else { "false" }.to_string();
    let m = d.metadata_options.as_ref();
    let value: Option<String> = match f.name.as_str() {
        "create-time" => Some(timestamp(v.create_ms)),
        "ebs-optimized" => d.ebs_optimized.map(bool_str),
        "http-endpoint" => m.and_then(|m| m.http_endpoint.clone()),
        "http-put-response-hop-limit" => m
            .and_then(|m| m.http_put_response_hop_limit)
            .map(|h| h.to_string()),
        "http-tokens" => m.and_then(|m| m.http_tokens.clone()),
        "iam-instance-profile" => d
            .iam_instance_profile
            .as_ref()
            .and_then(|p| p.arn.clone().or_else(|| p.name.clone())),
        "image-id" => d.image_id.clone(),
        "instance-type" => d.instance_type.clone(),
        "is-default-version" => Some(bool_str(v.number == t.default_version)),
        "kernel-id" => d.kernel_id.clone(),
        "ram-disk-id" => d.ram_disk_id.clone(),
        _ => None,
    };
    value.is_some_and(|val| f.matches(&val))
}

/// `MinVersion` / `MaxVersion`: a version number.
fn bound(t: &LaunchTemplate, v: Option<&str>) -> AwsResult<Option<i64>> {
    v.map(|s| s.parse::<i64>().map_err(|_| version_not_found(&t.id, s)))
        .transpose()
}

fn describe_launch_template_versions(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.str("LaunchTemplateId");
    let name = p.str("LaunchTemplateName");
    let versions = p.strings("LaunchTemplateVersion")?;
    let min = p.str("MinVersion");
    let max = p.str("MaxVersion");
    let filters = filters::parse(&p, VERSION_FILTERS)?;
    let page = Page::read(&p)?.between(1, 200);
    let _resolve_alias = p.bool("ResolveAlias")?;
    let _managed = p.bool("IncludeManagedResources")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let region = read(&lock);
    // Without a template, only the aliases can be asked for: each template's `$Latest` or
    // `$Default` version.
    let templates: Vec<&LaunchTemplate> = if id.is_none() && name.is_none() {
        if let Some(v) = versions
            .iter()
            .find(|v| !matches!(**v, "$Latest" | "$Default"))
        {
            return Err(AwsError::invalid_combination(format!(
                "Version {v} requires a launch template: only $Latest and $Default may be given without LaunchTemplateId or LaunchTemplateName"
            )));
        }
        let mut all: Vec<&LaunchTemplate> = region.launch_templates.values().collect();
        all.sort_by(|a, b| (a.create_ms, &a.id).cmp(&(b.create_ms, &b.id)));
        all
    } else {
        vec![find(&region, id, name)?]
    };
    let mut matched: Vec<(&LaunchTemplate, &TemplateVersion)> = Vec::new();
    for t in templates {
        let (lo, hi) = (bound(t, min)?, bound(t, max)?);
        let wanted: Option<Vec<i64>> = if versions.is_empty() {
            None
        } else {
            Some(
                versions
                    .iter()
                    .map(|v| version_number(t, v))
                    .collect::<AwsResult<Vec<i64>>>()?,
            )
        };
        // Newest first, as AWS lists them.
        for v in t.versions.values().rev() {
            if wanted.as_ref().is_some_and(|w| !w.contains(&v.number))
                || lo.is_some_and(|lo| v.number < lo)
                || hi.is_some_and(|hi| v.number > hi)
            {
                continue;
            }
            if filters.iter().all(|f| version_matches(f, t, v)) {
                matched.push((t, v));
            }
        }
    }
    let (page, next) = page.apply(matched)?;
    let mut w = call.writer();
    w.list("LaunchTemplateVersions", page, |w, (t, v)| {
        render_version(w, t, v)
    });
    w.str_opt("NextToken", next);
    w.finish()
}

fn modify_launch_template(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.str("LaunchTemplateId");
    let name = p.str("LaunchTemplateName");
    let default = p.str("SetDefaultVersion");
    let _token = common::client_token(p.str("ClientToken"))?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let t = find(&region, id, name)?;
    let n = match default {
        Some(v) => Some(version_number(t, v)?),
        None => None,
    };
    let tid = t.id.clone();
    let Some(t) = region.launch_templates.get_mut(&tid) else {
        return Err(AwsError::internal());
    };
    if let Some(n) = n {
        t.default_version = n;
    }
    let mut w = call.writer();
    w.structure("LaunchTemplate", |w| render_template(w, t));
    w.finish()
}

/// Why one version of a DeleteLaunchTemplateVersions request was not deleted.
struct Refusal {
    number: i64,
    code: &'static str,
    message: &'static str,
}

fn delete_launch_template_versions(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.str("LaunchTemplateId");
    let name = p.str("LaunchTemplateName");
    let versions = p.required_strings("LaunchTemplateVersion")?;
    call.params()?.finish()?;
    if versions.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter LaunchTemplateVersion",
        ));
    }
    if versions.len() > 200 {
        return Err(AwsError::invalid_value(
            "You can delete up to 200 launch template versions in a single request.",
        ));
    }
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let t = find(&region, id, name)?;
    let (tid, tname, default) = (t.id.clone(), t.name.clone(), t.default_version);
    let mut deleted: Vec<i64> = Vec::new();
    let mut refused: Vec<Refusal> = Vec::new();
    let Some(t) = region.launch_templates.get_mut(&tid) else {
        return Err(AwsError::internal());
    };
    for v in versions {
        // A version that is not a number is reported with number 0, as AWS leaves it unset.
        let number = v.parse::<i64>().unwrap_or(0);
        if number == default && t.versions.contains_key(&number) {
            refused.push(Refusal {
                number,
                code: "unexpectedError",
                message: "Cannot delete the default version of a launch template: set another version as the default first, or delete the launch template.",
            });
        } else if t.versions.remove(&number).is_some() {
            deleted.push(number);
        } else {
            refused.push(Refusal {
                number,
                code: "launchTemplateVersionDoesNotExist",
                message: "The launch template version does not exist.",
            });
        }
    }
    let mut w = call.writer();
    w.list(
        "SuccessfullyDeletedLaunchTemplateVersions",
        &deleted,
        |w, n| {
            w.str("LaunchTemplateId", &tid)
                .str("LaunchTemplateName", &tname)
                .int("VersionNumber", *n);
        },
    );
    w.list(
        "UnsuccessfullyDeletedLaunchTemplateVersions",
        &refused,
        |w, r| {
            w.str("LaunchTemplateId", &tid)
                .str("LaunchTemplateName", &tname)
                .int("VersionNumber", r.number)
                .structure("ResponseError", |w| {
                    w.str("Code", r.code).str("Message", r.message);
                });
        },
    );
    w.finish()
}

fn delete_launch_template(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.str("LaunchTemplateId");
    let name = p.str("LaunchTemplateName");
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let tid = find(&region, id, name)?.id.clone();
    let Some(t) = region.launch_templates.remove(&tid) else {
        return Err(AwsError::internal());
    };
    let mut w = call.writer();
    w.structure("LaunchTemplate", |w| render_template(w, &t));
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> LaunchTemplate {
        let v = |n| TemplateVersion {
            number: n,
            description: None,
            create_ms: 0,
            created_by: String::new(),
            data: TemplateData::default(),
            client_token: None,
        };
        LaunchTemplate {
            id: "lt-0123456789abcdef0".into(),
            name: "web".into(),
            create_ms: 0,
            created_by: String::new(),
            default_version: 1,
            latest_version: 3,
            versions: [(1, v(1)), (3, v(3))].into(),
            tags: Tags::new(),
            client_token: None,
        }
    }

    #[test]
    fn versions_by_alias_and_number() {
        let t = template();
        assert_eq!(version_number(&t, "$Latest").unwrap(), 3);
        assert_eq!(version_number(&t, "$Default").unwrap(), 1);
        assert_eq!(version_number(&t, "3").unwrap(), 3);
        for missing in ["2", "9", "latest", ""] {
            assert_eq!(
                version_number(&t, missing).unwrap_err().code,
                "InvalidLaunchTemplateId.VersionNotFound",
                "{missing}"
            );
        }
    }

    #[test]
    fn names() {
        assert!(check_name("web-(1)/a_b.c").is_ok());
        for bad in ["ab", "has space", &"x".repeat(129)] {
            assert_eq!(
                check_name(bad).unwrap_err().code,
                "InvalidLaunchTemplateName.MalformedException"
            );
        }
    }
}
