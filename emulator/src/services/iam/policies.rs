//! Managed policies: CreatePolicy, GetPolicy, DeletePolicy. The account starts with AWS's
//! `AdministratorAccess` and the node policies (`controlplane`, `etcd`, `worker`) as customer
//! managed policies, plus those of the configuration.

use crate::auth::directory::{new_id, Directory, ManagedPolicy, NewPolicy};
use crate::protocol::constraints::Constraints;
use crate::protocol::xml::Xml;
use crate::protocol::{AwsResult, Output};
use crate::services::{Call, Handler};

use super::role_policies::policy_arn;
use super::{
    date, document, identity_document, is_policy_path, name, render_tags, tags, POLICY_PATH_PATTERN,
};

pub fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "CreatePolicy" => create_policy,
        "GetPolicy" => get_policy,
        "DeletePolicy" => delete_policy,
        _ => return None,
    })
}

/// The members of a `Policy` structure. CreatePolicy's answer carries no description; GetPolicy's does.
fn render_policy(x: &mut Xml, dir: &Directory, p: &ManagedPolicy, with_description: bool) {
    x.leaf("PolicyName", &p.name)
        .leaf("PolicyId", &p.id)
        .leaf("Arn", &p.arn)
        .leaf("Path", &p.path)
        .leaf("DefaultVersionId", "v1")
        .num("AttachmentCount", dir.attachment_count(&p.arn))
        .num("PermissionsBoundaryUsageCount", 0)
        .bool("IsAttachable", true);
    if with_description {
        x.leaf_opt("Description", p.description.as_deref());
    }
    x.leaf("CreateDate", date(p.created_ms))
        .leaf("UpdateDate", date(p.updated_ms));
    render_tags(x, &p.tags);
}

fn create_policy(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let policy_name = p.required("PolicyName")?;
    let text = p.required("PolicyDocument")?;
    let policy_path = p.str("Path");
    let desc = p.str("Description");
    let mut c = Constraints::new();
    let tags = tags(&p, &mut c)?;
    call.params()?.finish()?;
    name(&mut c, "policyName", Some(policy_name), 128);
    document(&mut c, "policyDocument", Some(text));
    c.length("path", policy_path, 1, 512)
        .pattern("path", policy_path, POLICY_PATH_PATTERN, is_policy_path)
        .length("description", desc, 0, 1000);
    c.check()?;
    let document = identity_document(text)?;
    let id = new_id(&call.world.ids, "ANPA");
    let mut dir = call.identities.directory_mut();
    let created = dir.create_policy(
        NewPolicy {
            name: policy_name.to_string(),
            path: policy_path.unwrap_or("/").to_string(),
            document,
            description: desc.map(str::to_string),
            tags,
        },
        id,
        call.now_ms,
    )?;
    let arn = created.arn.clone();
    let dir = &*dir;
    let policy = dir.policy(&arn)?;
    let mut x = Xml::new();
    x.node("Policy", |x| render_policy(x, dir, policy, false));
    Ok(Output::Xml(x.into_string()))
}

fn the_arn<'a>(call: &Call<'a>) -> AwsResult<&'a str> {
    let arn = call.root()?.required("PolicyArn")?;
    call.params()?.finish()?;
    policy_arn(&mut Constraints::new(), arn)?;
    Ok(arn)
}

fn get_policy(call: &Call<'_>) -> AwsResult<Output> {
    let arn = the_arn(call)?;
    let dir = call.identities.directory();
    let policy = dir.policy(arn)?;
    let mut x = Xml::new();
    x.node("Policy", |x| render_policy(x, &dir, policy, true));
    Ok(Output::Xml(x.into_string()))
}

fn delete_policy(call: &Call<'_>) -> AwsResult<Output> {
    let arn = the_arn(call)?;
    call.identities.directory_mut().delete_policy(arn)?;
    Ok(Output::XmlEmpty)
}
