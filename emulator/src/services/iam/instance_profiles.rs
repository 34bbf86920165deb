//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! ListInstanceProfilesForRole, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! DeleteInstanceProfile. EC2's RunInstances attaches them; the metadata service hands out
//! sessions of the role they hold.

use crate::auth::directory::{new_id, Directory, InstanceProfile};
use crate::protocol::constraints::Constraints;
use crate::protocol::writer::Writer;
use crate::protocol::{AwsResult, Output};
use crate::services::action::{Action, Named, On};
use crate::services::Call;

use super::{name, page, path, render_role, render_tags, render_truncation, tags, RoleView};

/// The actions of this family, each on the profile it names (Add/RemoveRoleToInstanceProfile
/// too, not on the role); ListInstanceProfilesForRole on the role.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateInstanceProfile", create_instance_profile)
        .on(&[On::NewName(&INSTANCE_PROFILE, "InstanceProfileName")]),
    Action::new("GetInstanceProfile", get_instance_profile).on(ON_PROFILE),
    Action::new("ListInstanceProfiles", list_instance_profiles),
    Action::new(
        "ListInstanceProfilesForRole",
        list_instance_profiles_for_role,
    )
    .on(super::roles::ON_ROLE),
    Action::new("AddRoleToInstanceProfile", add_role_to_instance_profile).on(ON_PROFILE),
    Action::new(
        "RemoveRoleFromInstanceProfile",
        remove_role_from_instance_profile,
    )
    .on(ON_PROFILE),
    Action::new("DeleteInstanceProfile", delete_instance_profile).on(ON_PROFILE),
];

/// An instance profile by name: `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
pub const INSTANCE_PROFILE: Named = Named {
    service: "iam",
    regional: false,
    resource: "instance-profile",
};

const ON_PROFILE: &[On] = &[On::Name(&INSTANCE_PROFILE, "InstanceProfileName")];

/// The members of an `InstanceProfile`; its roles carry their URL-encoded trust policy.
fn render_profile(w: &mut Writer, dir: &Directory, p: &InstanceProfile, with_tags: bool) {
    w.str("Path", &p.path)
        .str("InstanceProfileName", &p.name)
        .str("InstanceProfileId", &p.id)
        .str("Arn", &p.arn)
        .time("CreateDate", p.created_ms);
    let roles = p.roles.iter().filter_map(|r| dir.role(r).ok());
    w.list("Roles", roles, |w, r| render_role(w, r, RoleView::Created));
    if with_tags {
        render_tags(w, &p.tags);
    }
}

fn create_instance_profile(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let profile = p.required("InstanceProfileName")?;
    let profile_path = p.str("Path");
    let mut c = Constraints::new();
    let tags = tags(&p, &mut c)?;
    call.params()?.finish()?;
    name(&mut c, "instanceProfileName", Some(profile), 128);
    path(&mut c, "path", profile_path);
    c.check()?;
    let id = new_id(&call.world.ids, "AIPA");
    let mut dir = call.identities.directory_mut();
    let arn = dir
        .create_profile(profile, profile_path.unwrap_or("/"), tags, id, call.now_ms)?
        .arn
        .clone();
    let dir = &*dir;
    let created = dir
        .profile_by_arn(&arn)
        .ok_or_else(crate::protocol::AwsError::internal)?;
    let mut w = call.writer();
    w.structure("InstanceProfile", |w| render_profile(w, dir, created, true));
    w.finish()
}

fn profile_name(call: &Call<'_>) -> AwsResult<String> {
    let n = call.root()?.required("InstanceProfileName")?.to_string();
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "instanceProfileName", Some(&n), 128);
    c.check()?;
    Ok(n)
}

fn get_instance_profile(call: &Call<'_>) -> AwsResult<Output> {
    let n = profile_name(call)?;
    let dir = call.identities.directory();
    let profile = dir.profile(&n)?;
    let mut w = call.writer();
    w.structure("InstanceProfile", |w| {
        render_profile(w, &dir, profile, true)
    });
    w.finish()
}

/// ListInstanceProfiles and ListInstanceProfilesForRole answer alike (profiles without tags).
fn render_list(
    call: &Call<'_>,
    dir: &Directory,
    profiles: Vec<&InstanceProfile>,
    next: Option<String>,
) -> AwsResult<Output> {
    let mut w = call.writer();
    w.list("InstanceProfiles", profiles, |w, p| {
        render_profile(w, dir, p, false)
    });
    render_truncation(&mut w, next);
    w.finish()
}

fn list_instance_profiles(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let prefix = p.str("PathPrefix");
    let mut c = Constraints::new();
    c.length("pathPrefix", prefix, 1, 512).pattern(
        "pathPrefix",
        prefix,
        r"\u002F[\u0021-\u007F]*",
        |v| v.starts_with('/') && v.bytes().all(|b| (0x21..=0x7f).contains(&b)),
    );
    let dir = call.identities.directory();
    let all: Vec<&InstanceProfile> = dir
        .profiles()
        .filter(|p| p.path.starts_with(prefix.unwrap_or("/")))
        .collect();
    let (profiles, next) = page(&p, &mut c, all)?;
    call.params()?.finish()?;
    render_list(call, &dir, profiles, next)
}

fn list_instance_profiles_for_role(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role = p.required("RoleName")?;
    let mut c = Constraints::new();
    name(&mut c, "roleName", Some(role), 64);
    let dir = call.identities.directory();
    if let Err(e) = dir.role(role) {
        c.check()?;
        return Err(e);
    }
    let (profiles, next) = page(&p, &mut c, dir.profiles_of_role(role))?;
    call.params()?.finish()?;
    render_list(call, &dir, profiles, next)
}

fn profile_and_role<'a>(call: &Call<'a>) -> AwsResult<(&'a str, &'a str)> {
    let p = call.root()?;
    let profile = p.required("InstanceProfileName")?;
    let role = p.required("RoleName")?;
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "instanceProfileName", Some(profile), 128);
    name(&mut c, "roleName", Some(role), 64);
    c.check()?;
    Ok((profile, role))
}

/// Putting a role in a profile passes it to EC2, so the caller also needs `iam:PassRole` on it.
fn add_role_to_instance_profile(call: &Call<'_>) -> AwsResult<Output> {
    let (profile, role) = profile_and_role(call)?;
    let role_arn = {
        let dir = call.identities.directory();
        dir.profile(profile)?;
        dir.role(role)?.arn.clone()
    };
    call.authorize("iam:PassRole", &role_arn)?;
    call.identities
        .directory_mut()
        .add_role_to_profile(profile, role)?;
    Ok(Output::XmlEmpty)
}

fn remove_role_from_instance_profile(call: &Call<'_>) -> AwsResult<Output> {
    let (profile, role) = profile_and_role(call)?;
    call.identities
        .directory_mut()
        .remove_role_from_profile(profile, role)?;
    Ok(Output::XmlEmpty)
}

fn delete_instance_profile(call: &Call<'_>) -> AwsResult<Output> {
    let n = profile_name(call)?;
    call.identities.directory_mut().delete_profile(&n)?;
    Ok(Output::XmlEmpty)
}
