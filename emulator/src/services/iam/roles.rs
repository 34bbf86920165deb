//! Roles: CreateRole (with its trust policy), GetRole, ListRoles, UpdateRole,
//! UpdateAssumeRolePolicy, DeleteRole.

use crate::auth::directory::{new_id, NewRole, DEFAULT_MAX_SESSION_SECS};
use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsResult, Output};
use crate::services::action::{Action, Named, On};
use crate::services::Call;

use super::{
    check_trust_principals, document, is_description, name, page, path, render_role,
    render_truncation, tags, trust_document, RoleView, DESCRIPTION_PATTERN,
};

/// The actions of this family, each on the role it names.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateRole", create_role).on(&[On::NewName(&ROLE, "RoleName")]),
    Action::new("GetRole", get_role).on(ON_ROLE),
    Action::new("ListRoles", list_roles),
    Action::new("UpdateRole", update_role).on(ON_ROLE),
    Action::new("UpdateAssumeRolePolicy", update_assume_role_policy).on(ON_ROLE),
    Action::new("DeleteRole", delete_role).on(ON_ROLE),
];

/// A role by name: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
pub const ROLE: Named = Named {
    service: "iam",
    regional: false,
    resource: "role",
};

/// An action on the role `RoleName` names.
pub const ON_ROLE: &[On] = &[On::Name(&ROLE, "RoleName")];

fn description(c: &mut Constraints, value: Option<&str>) {
    c.length("description", value, 0, 1000).pattern(
        "description",
        value,
        DESCRIPTION_PATTERN,
        is_description,
    );
}

fn create_role(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role_name = p.required("RoleName")?;
    let trust = p.required("AssumeRolePolicyDocument")?;
    let role_path = p.str("Path");
    let desc = p.str("Description");
    let max = p.int("MaxSessionDuration")?;
    // Console sign-in sessions: no API call depends on them.
    let signin = p.int("MaxSigninSessionDuration")?;
    let boundary = p.str("PermissionsBoundary");
    let mut c = Constraints::new();
    let tags = tags(&p, &mut c)?;
    call.params()?.finish()?;
    name(&mut c, "roleName", Some(role_name), 64);
    document(&mut c, "assumeRolePolicyDocument", Some(trust));
    path(&mut c, "path", role_path);
    description(&mut c, desc);
    c.range("maxSessionDuration", max, 3600, 43200)
        .range("maxSigninSessionDuration", signin, 3600, 7_776_000)
        .length("permissionsBoundary", boundary, 20, 2048);
    c.check()?;
    if boundary.is_some() {
        // A boundary narrows what the role may do; accepting one without enforcing it would let
        // sessions do more than AWS allows, so it is refused openly.
        return Err(crate::protocol::AwsError::not_emulated(
            "iam",
            "CreateRole with PermissionsBoundary",
        ));
    }
    let trust_text = trust;
    let trust = trust_document(trust_text)?;
    check_trust_principals(call.identities, trust_text)?;
    let id = new_id(&call.world.ids, "AROA");
    let mut dir = call.identities.directory_mut();
    let role = dir.create_role(
        NewRole {
            name: role_name.to_string(),
            path: role_path.unwrap_or("/").to_string(),
            trust,
            description: desc.map(str::to_string),
            max_session_secs: max.unwrap_or(DEFAULT_MAX_SESSION_SECS),
            tags,
            service_linked: false,
        },
        id,
        call.now_ms,
    )?;
    let mut w = call.writer();
    w.structure("Role", |w| render_role(w, role, RoleView::Created));
    w.finish()
}

fn role_name(call: &Call<'_>) -> AwsResult<String> {
    let n = call.root()?.required("RoleName")?.to_string();
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(&n), 64);
    c.check()?;
    Ok(n)
}

fn get_role(call: &Call<'_>) -> AwsResult<Output> {
    let n = role_name(call)?;
    let dir = call.identities.directory();
    let role = dir.role(&n)?;
    let mut w = call.writer();
    w.structure("Role", |w| render_role(w, role, RoleView::Full));
    w.finish()
}

/// `PathPrefix`: `/` followed by printable ASCII.
fn path_prefix(c: &mut Constraints, value: Option<&str>) {
    c.length("pathPrefix", value, 1, 512).pattern(
        "pathPrefix",
        value,
        r"\u002F[\u0021-\u007F]*",
        |v| v.starts_with('/') && v.bytes().all(|b| (0x21..=0x7f).contains(&b)),
    );
}

fn list_roles(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let prefix = p.str("PathPrefix");
    let mut c = Constraints::new();
    path_prefix(&mut c, prefix);
    let dir = call.identities.directory();
    let roles: Vec<_> = dir
        .roles()
        .filter(|r| r.path.starts_with(prefix.unwrap_or("/")))
        .collect();
    let (roles, next) = page(&p, &mut c, roles)?;
    call.params()?.finish()?;
    let mut w = call.writer();
    w.list("Roles", roles, |w, r| render_role(w, r, RoleView::Listed));
    render_truncation(&mut w, next);
    w.finish()
}

fn update_role(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let n = p.required("RoleName")?;
    let desc = p.str("Description");
    let max = p.int("MaxSessionDuration")?;
    let signin = p.int("MaxSigninSessionDuration")?;
    let _reset_signin = p.bool("ResetMaxSigninSessionDuration")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(n), 64);
    description(&mut c, desc);
    c.range("maxSessionDuration", max, 3600, 43200).range(
        "maxSigninSessionDuration",
        signin,
        3600,
        7_776_000,
    );
    c.check()?;
    call.identities.directory_mut().update_role(n, desc, max)?;
    call.writer().finish()
}

fn update_assume_role_policy(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let n = p.required("RoleName")?;
    let text = p.required("PolicyDocument")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(n), 64);
    document(&mut c, "policyDocument", Some(text));
    c.check()?;
    let trust = trust_document(text)?;
    check_trust_principals(call.identities, text)?;
    call.identities.directory_mut().set_trust(n, trust)?;
    Ok(Output::XmlEmpty)
}

fn delete_role(call: &Call<'_>) -> AwsResult<Output> {
    let n = role_name(call)?;
    call.identities.directory_mut().delete_role(&n)?;
    Ok(Output::XmlEmpty)
}
