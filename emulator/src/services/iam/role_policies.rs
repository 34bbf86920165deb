//! What a role may do: inline policies (PutRolePolicy, GetRolePolicy, ListRolePolicies,
//! DeleteRolePolicy) and attached managed policies (AttachRolePolicy, DetachRolePolicy,
//! ListAttachedRolePolicies). Sessions of the role see every change at their next call.

use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;

use super::roles::ON_ROLE;
use super::{
    document, identity_document, is_policy_path, name, page, render_truncation, url_encode,
    POLICY_PATH_PATTERN,
};

/// The actions of this family, each on the role (not on the policy it attaches).
pub const ACTIONS: &[Action] = &[
    Action::new("PutRolePolicy", put_role_policy).on(ON_ROLE),
    Action::new("GetRolePolicy", get_role_policy).on(ON_ROLE),
    Action::new("ListRolePolicies", list_role_policies).on(ON_ROLE),
    Action::new("DeleteRolePolicy", delete_role_policy).on(ON_ROLE),
    Action::new("AttachRolePolicy", attach_role_policy).on(ON_ROLE),
    Action::new("DetachRolePolicy", detach_role_policy).on(ON_ROLE),
    Action::new("ListAttachedRolePolicies", list_attached_role_policies).on(ON_ROLE),
];

/// A managed policy ARN: the model's length, then IAM's own check of its form
/// (`arn:aws:iam::ACCOUNT-or-aws:policy/…`).
pub fn policy_arn(c: &mut Constraints, value: &str) -> AwsResult<()> {
    c.length("policyArn", Some(value), 20, 2048);
    c.check()?;
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && (*account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
            && resource.strip_prefix("policy/").is_some_and(|n| !n.is_empty() && !n.ends_with('/')));
    if !ok {
        return Err(AwsError::bad_request(
            "InvalidInput",
            format!("ARN {value} is not valid."),
        ));
    }
    Ok(())
}

fn put_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let policy = p.required("PolicyName")?;
    let text = p.required("PolicyDocument")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    name(&mut c, "policyName", Some(policy), 128);
    document(&mut c, "policyDocument", Some(text));
    c.check()?;
    let doc = identity_document(text)?;
    call.identities
        .directory_mut()
        .put_role_policy(role, policy, doc)?;
    Ok(Output::XmlEmpty)
}

fn role_and_policy<'a>(call: &Call<'a>) -> AwsResult<(&'a str, &'a str)> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let policy = p.required("PolicyName")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    name(&mut c, "policyName", Some(policy), 128);
    c.check()?;
    Ok((role, policy))
}

fn get_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let (role, policy) = role_and_policy(call)?;
    let dir = call.identities.directory();
    let (r, doc) = dir.role_policy(role, policy)?;
    let mut w = call.writer();
    w.str("RoleName", &r.name)
        .str("PolicyName", policy)
        .str("PolicyDocument", url_encode(&doc.text));
    w.finish()
}

fn delete_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let (role, policy) = role_and_policy(call)?;
    call.identities
        .directory_mut()
        .delete_role_policy(role, policy)?;
    Ok(Output::XmlEmpty)
}

fn list_role_policies(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    let dir = call.identities.directory();
    let names: Vec<String> = match dir.role(role) {
        Ok(r) => r.inline.keys().cloned().collect(),
        Err(e) => {
            c.check()?;
            return Err(e);
        }
    };
    let (names, next) = page(&p, &mut c, names)?;
    call.params()?.finish()?;
    let mut w = call.writer();
    w.strs("PolicyNames", &names);
    render_truncation(&mut w, next);
    w.finish()
}

fn role_and_arn<'a>(call: &Call<'a>) -> AwsResult<(&'a str, &'a str)> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let arn = p.required("PolicyArn")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    policy_arn(&mut c, arn)?;
    Ok((role, arn))
}

fn attach_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let (role, arn) = role_and_arn(call)?;
    call.identities
        .directory_mut()
        .attach_role_policy(role, arn)?;
    Ok(Output::XmlEmpty)
}

fn detach_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let (role, arn) = role_and_arn(call)?;
    call.identities
        .directory_mut()
        .detach_role_policy(role, arn)?;
    Ok(Output::XmlEmpty)
}

fn list_attached_role_policies(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let prefix = p.str("PathPrefix");
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    c.length("pathPrefix", prefix, 1, 512).pattern(
        "pathPrefix",
        prefix,
        POLICY_PATH_PATTERN,
        is_policy_path,
    );
    let dir = call.identities.directory();
    let attached: Vec<(String, String)> = match dir.role(role) {
        Ok(r) => dir
            .attached_policies(r)
            .into_iter()
            .filter(|mp| mp.path.starts_with(prefix.unwrap_or("/")))
            .map(|mp| (mp.name.clone(), mp.arn.clone()))
            .collect(),
        Err(e) => {
            c.check()?;
            return Err(e);
        }
    };
    let (attached, next) = page(&p, &mut c, attached)?;
    call.params()?.finish()?;
    let mut w = call.writer();
    w.list("AttachedPolicies", attached, |w, (n, a)| {
        w.str("PolicyName", n).str("PolicyArn", a);
    });
    render_truncation(&mut w, next);
    w.finish()
}
