//! Tags of classic load balancers: AddTags, RemoveTags, DescribeTags (and the `Tags` of
//! CreateLoadBalancer).

use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::{Action, On, TagsIn};
use crate::services::{ec2::common, Call};
use crate::state::{self, tags::Tags};

use super::{find, find_mut, validation};

/// The actions of this family: AddTags and RemoveTags act on each load balancer they name.
pub const ACTIONS: &[Action] = &[
    Action::new("AddTags", add_tags)
        .on(EACH_LOAD_BALANCER)
        .tags(TagsIn::Set("Tags.member")),
    // Removals name keys only (`Tags.member.N.Key`).
    Action::new("RemoveTags", remove_tags)
        .on(EACH_LOAD_BALANCER)
        .tags(TagsIn::Removed("Tags.member")),
    Action::new("DescribeTags", describe_tags),
];

const EACH_LOAD_BALANCER: &[On] = &[On::Names(&super::LOAD_BALANCER, "LoadBalancerNames.member")];

/// Tags per load balancer (AWS's documented limit).
const MAX_TAGS: usize = 50;

fn valid_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// Reads `Tags.member.N.{Key, Value}` and checks AWS's rules for them.
pub fn parse(p: &Scope<'_>) -> AwsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in p.structs("Tags")? {
        let key = t.required("Key")?;
        let value = t.str("Value").unwrap_or("");
        if key.is_empty() || key.chars().count() > 128 || !valid_chars(key) {
            return Err(validation(format!(
                "1 validation error detected: Value '{key}' at 'tags.member.key' failed to satisfy constraint: Member must have length less than or equal to 128 and match ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$"
            )));
        }
        if value.chars().count() > 256 || !valid_chars(value) {
            return Err(validation(format!(
                "1 validation error detected: Value '{value}' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and match ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(validation(format!(
                "Tag key '{key}' is invalid: keys starting with 'aws:' are reserved for internal use"
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

/// Adds or overwrites tags, refusing to pass the per-load-balancer limit.
pub fn apply(target: &mut Tags, tags: &[(String, String)]) -> AwsResult<()> {
    let added = tags.iter().filter(|(k, _)| !target.contains_key(k)).count();
    if target.len() + added > MAX_TAGS {
        return Err(AwsError::bad_request(
            "TooManyTags",
            "The quota for the number of tags that can be assigned to a load balancer has been reached",
        ));
    }
    for (k, v) in tags {
        target.insert(k.clone(), v.clone());
    }
    Ok(())
}

fn names<'a>(p: &Scope<'a>, max: usize) -> AwsResult<Vec<&'a str>> {
    let names = p.required_strings("LoadBalancerNames")?;
    if names.is_empty() || names.len() > max {
        return Err(validation(format!(
            "1 validation error detected: Value at 'loadBalancerNames' failed to satisfy constraint: Member must have length between 1 and {max}"
        )));
    }
    Ok(names)
}

fn add_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lbs = names(&p, 20)?;
    let new = parse(&p)?;
    p.required_structs("Tags")?;
    call.params()?.finish()?;
    if new.is_empty() {
        return Err(validation(
            "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    // Check every load balancer first: a failed call changes nothing.
    for n in &lbs {
        let mut t = find(&r, n)?.tags.clone();
        apply(&mut t, &new)?;
    }
    for n in &lbs {
        apply(&mut find_mut(&mut r, n)?.tags, &new)?;
    }
    call.writer().finish()
}

fn remove_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lbs = names(&p, 20)?;
    let mut keys = Vec::new();
    for t in p.required_structs("Tags")? {
        keys.push(t.required("Key")?.to_string());
    }
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    for n in &lbs {
        find(&r, n)?;
    }
    for n in &lbs {
        let lb = find_mut(&mut r, n)?;
        for k in &keys {
            lb.tags.remove(k);
        }
    }
    call.writer().finish()
}

fn describe_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lbs = names(&p, 20)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    let mut found = Vec::new();
    for n in &lbs {
        found.push(find(&r, n)?);
    }
    let mut w = call.writer();
    w.list("TagDescriptions", found, |w, lb| {
        w.str("LoadBalancerName", &lb.name);
        w.list("Tags", &lb.tags, |w, (k, v)| {
            w.str("Key", k).str("Value", v);
        });
    });
    w.finish()
}
