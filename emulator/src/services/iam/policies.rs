//! Managed policies: CreatePolicy, GetPolicy, DeletePolicy. The account starts with AWS's
//! `AdministratorAccess` and the node policies (`controlplane`, `etcd`, `worker`) as customer
//! managed policies, plus those of the configuration.

use crate::auth::directory::{new_id, Directory, ManagedPolicy, NewPolicy};
use crate::protocol::constraints::Constraints;
use crate::protocol::writer::Writer;
use crate::protocol::{AwsResult, Output};
use crate::services::action::{Action, Named, On};
use crate::services::Call;

use super::role_policies::policy_arn;
use super::{
    document, identity_document, is_policy_path, name, render_tags, tags, POLICY_PATH_PATTERN,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreatePolicy", create_policy).on(&[On::NewName(&POLICY, "PolicyName")]),
    Action::new("GetPolicy", get_policy).on(&[On::Arn("PolicyArn")]),
    Action::new("DeletePolicy", delete_policy).on(&[On::Arn("PolicyArn")]),
];

/// A managed policy by name: `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
pub const POLICY: Named = Named {
    service: "iam",
    regional: false,
    resource: "policy",
};

/// The members of a `Policy` structure. CreatePolicy's answer carries no description; GetPolicy's does.
fn render_policy(w: &mut Writer, dir: &Directory, p: &ManagedPolicy, with_description: bool) {
    w.str("PolicyName", &p.name)
        .str("PolicyId", &p.id)
        .str("Arn", &p.arn)
        .str("Path", &p.path)
        .str("DefaultVersionId", "v1")
        .int("AttachmentCount", dir.attachment_count(&p.arn) as i64)
        .int("PermissionsBoundaryUsageCount", 0)
        .bool("IsAttachable", true);
    if with_description {
        w.str_opt("Description", p.description.as_deref());
    }
    w.time("CreateDate", p.created_ms)
        .time("UpdateDate", p.updated_ms);
    render_tags(w, &p.tags);
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
    let mut w = call.writer();
    w.structure("Policy", |w| render_policy(w, dir, policy, false));
    w.finish()
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
    let mut w = call.writer();
    w.structure("Policy", |w| render_policy(w, &dir, policy, true));
    w.finish()
}

fn delete_policy(call: &Call<'_>) -> AwsResult<Output> {
    let arn = the_arn(call)?;
    call.identities.directory_mut().delete_policy(arn)?;
    Ok(Output::XmlEmpty)
}
