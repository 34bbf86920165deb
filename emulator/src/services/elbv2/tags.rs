//! Tags on load balancers, target groups, listeners and listener rules (default rules too): the `Tags.member.N` of the create calls,
//! AddTags, RemoveTags and DescribeTags (up to 20 ARNs each), with AWS's limits (50 per
//! resource, keys 1–128 and values 0–256 characters of its tag alphabet, `aws:` reserved).

use crate::protocol::{AwsError, AwsResult, Output, Scope, Writer};
use crate::services::action::{Action, On, TagsIn};
use crate::services::ec2::common;
use crate::services::Call;
use crate::state::tags::{Tags, MAX_TAGS};
use crate::state::{read, write};

use super::arn::{self, Kind};
use super::errors::{self, check_count, check_length, constraint};
use super::model::Elbv2;

/// The actions of this family: AddTags and RemoveTags act on each resource they name.
pub const ACTIONS: &[Action] = &[
    Action::new("AddTags", add_tags)
        .on(EACH_RESOURCE)
        .tags(TagsIn::Set("Tags.member")),
    // Removals name keys only: `TagKeys.member.N`.
    Action::new("RemoveTags", remove_tags)
        .on(EACH_RESOURCE)
        .tags(TagsIn::RemovedKeys("TagKeys.member")),
    Action::new("DescribeTags", describe_tags),
];

const EACH_RESOURCE: &[On] = &[On::Arns("ResourceArns.member")];

/// Whether a character is in AWS's tag alphabet `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Reads the items of a `Tags.member.N.{Key,Value}` list and checks them as AWS does before
/// anything is written.
pub fn parse(items: &[Scope<'_>]) -> AwsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let n = i + 1;
        let key = t.required("Key")?;
        let value = t.str("Value").unwrap_or("");
        let field = |m: &str| format!("tags.member.{n}.{m}");
        check_length(&field("key"), key, 1, 128)?;
        check_length(&field("value"), value, 0, 256)?;
        for (name, v) in [("key", key), ("value", value)] {
            if !v.chars().all(tag_char) {
                return Err(constraint(
                    &field(name),
                    v,
                    r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
                ));
            }
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(errors::validation(format!(
                "Tag key '{key}' is not valid: keys that start with 'aws:' are reserved for AWS use"
            )));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(AwsError::bad_request(
                "DuplicateTagKeys",
                format!("Tag key was specified more than once: {key}"),
            ));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Refuses tags that would take a resource past AWS's limit.
pub fn check_room(current: &Tags, adding: &[(String, String)], kind: Kind) -> AwsResult<()> {
    let new_keys = adding
        .iter()
        .filter(|(k, _)| !current.contains_key(k))
        .count();
    if current.len() + new_keys > MAX_TAGS {
        return Err(AwsError::bad_request(
            "TooManyTags",
            format!(
                "The quota for the number of tags that can be assigned to a {} has been reached",
                kind.noun()
            ),
        ));
    }
    Ok(())
}

/// Tags of a create call, as the new resource's tag set.
pub fn initial(tags: &[(String, String)], kind: Kind) -> AwsResult<Tags> {
    let empty = Tags::new();
    check_room(&empty, tags, kind)?;
    Ok(tags.iter().cloned().collect())
}

/// The tags of the resource an ARN names, or the kind's NotFound answer.
fn find<'a>(e: &'a Elbv2, resource: &str) -> AwsResult<(&'a Tags, Kind)> {
    let kind = arn::kind_of(resource).ok_or_else(|| errors::invalid_arn("resource", resource))?;
    let tags = match kind {
        Kind::LoadBalancer => e.load_balancers.get(resource).map(|r| &r.tags),
        Kind::TargetGroup => e.target_groups.get(resource).map(|r| &r.tags),
        Kind::Listener => e.listeners.get(resource).map(|r| &r.tags),
        Kind::Rule => super::rules::tags_of(e, resource),
    };
    tags.map(|t| (t, kind)).ok_or_else(|| not_found(kind))
}

fn find_mut<'a>(e: &'a mut Elbv2, resource: &str) -> Option<&'a mut Tags> {
    match arn::kind_of(resource)? {
        Kind::LoadBalancer => e.load_balancers.get_mut(resource).map(|r| &mut r.tags),
        Kind::TargetGroup => e.target_groups.get_mut(resource).map(|r| &mut r.tags),
        Kind::Listener => e.listeners.get_mut(resource).map(|r| &mut r.tags),
        Kind::Rule => super::rules::tags_of_mut(e, resource),
    }
}

fn not_found(kind: Kind) -> AwsError {
    match kind {
        Kind::LoadBalancer => errors::load_balancer_not_found(),
        Kind::TargetGroup => errors::target_groups_not_found(),
        Kind::Listener => errors::listener_not_found(),
        Kind::Rule => AwsError::bad_request("RuleNotFound", "One or more rules not found"),
    }
}

/// `ResourceArns.member.N`: required, at most 20.
fn resource_arns<'a>(p: &Scope<'a>) -> AwsResult<Vec<&'a str>> {
    let arns = p.required_strings("ResourceArns")?;
    check_count("resourceArns", &arns, 20)?;
    Ok(arns)
}

pub fn add_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let arns = resource_arns(&p)?;
    let tags = parse(&p.required_structs("Tags")?)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    for a in &arns {
        let (current, kind) = find(&r.elbv2, a)?;
        check_room(current, &tags, kind)?;
    }
    for a in &arns {
        if let Some(t) = find_mut(&mut r.elbv2, a) {
            t.extend(tags.iter().cloned());
        }
    }
    call.writer().finish()
}

pub fn remove_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let arns = resource_arns(&p)?;
    let keys = p.required_strings("TagKeys")?;
    for (i, k) in keys.iter().enumerate() {
        check_length(&format!("tagKeys.member.{}", i + 1), k, 1, 128)?;
    }
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    for a in &arns {
        find(&r.elbv2, a)?;
    }
    for a in &arns {
        if let Some(t) = find_mut(&mut r.elbv2, a) {
            for k in &keys {
                t.remove(*k);
            }
        }
    }
    call.writer().finish()
}

pub fn describe_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let arns = resource_arns(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = read(&lock);
    let mut found = Vec::new();
    for a in &arns {
        found.push((*a, find(&r.elbv2, a)?.0));
    }
    let mut w = call.writer();
    w.list("TagDescriptions", found, |w, (a, tags)| {
        w.str("ResourceArn", a);
        render(w, tags);
    });
    w.finish()
}

/// The `Tags` member of a `TagDescription`.
pub fn render(w: &mut Writer, tags: &Tags) {
    w.list("Tags", tags, |w, (k, v)| {
        w.str("Key", k).str("Value", v);
    });
}
