//! CreateTags, DeleteTags and DescribeTags over every taggable EC2 resource of the region.

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::tags::{self, Tags};
use crate::state::{read, write};

use super::common;

/// The actions of this family: CreateTags and DeleteTags act on each resource they name.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateTags", create_tags)
        .on(&[On::Ids("ResourceId")])
        .tags(TagsIn::Set("Tag")),
    // A key without a value deletes the tag whatever its value; with one, only if it has it.
    Action::new("DeleteTags", delete_tags)
        .on(&[On::Ids("ResourceId")])
        .tags(TagsIn::Removed("Tag")),
    Action::new("DescribeTags", describe_tags),
];

fn create_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("ResourceId")?;
    let new = tags::parse_list(&p, "Tag")?;
    call.params()?.finish()?;
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter resourceIdSet",
        ));
    }
    if new.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter tagSet",
        ));
    }
    tags::validate(&new)?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    // Check every resource and the limit first: a refused call tags nothing.
    for id in &ids {
        let mut trial: Tags = region
            .tags_mut(id)
            .ok_or_else(|| common::not_found(id))?
            .clone();
        tags::apply(&mut trial, &new)?;
    }
    for id in &ids {
        if let Some(t) = region.tags_mut(id) {
            tags::apply(t, &new)?;
        }
        if super::kind::of(id).is_some_and(|k| k.prefix == super::instances::INSTANCE.prefix) {
            region.index_instance_tags(id);
        }
    }
    // The model gives CreateTags and DeleteTags no output.
    Ok(Output::XmlEmpty)
}

fn delete_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("ResourceId")?;
    // A tag without Value deletes the key whatever its value; with one, only on a match.
    let mut which: Vec<(String, Option<String>)> = Vec::new();
    for t in p.structs("Tag")? {
        which.push((
            t.required("Key")?.to_string(),
            t.str("Value").map(str::to_string),
        ));
    }
    call.params()?.finish()?;
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter resourceIdSet",
        ));
    }
    if which
        .iter()
        .any(|(k, _)| k.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(AwsError::invalid_value(
            "Tag keys starting with 'aws:' are reserved for internal use",
        ));
    }
    let lock = common::region(call)?;
    let mut region = write(&lock);
    for id in &ids {
        region.tags_mut(id).ok_or_else(|| common::not_found(id))?;
    }
    for id in &ids {
        if let Some(t) = region.tags_mut(id) {
            if which.is_empty() {
                t.clear();
            }
            for (k, v) in &which {
                if v.as_ref().is_none_or(|v| t.get(k) == Some(v)) {
                    t.remove(k);
                }
            }
        }
    }
    // The model gives CreateTags and DeleteTags no output.
    Ok(Output::XmlEmpty)
}

fn describe_matches(f: &Filter, id: &str, rtype: &str, key: &str, value: &str, all: &Tags) -> bool {
    if f.name.starts_with("tag:") {
        return tags::filter_matches(f, all).unwrap_or(false);
    }
    match f.name.as_str() {
        "resource-id" => f.matches(id),
        "resource-type" => f.matches(rtype),
        "key" | "tag-key" => f.matches(key),
        "value" | "tag-value" => f.matches(value),
        _ => false,
    }
}

fn describe_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let filters = filters::parse(
        &p,
        &[
            "resource-id",
            "resource-type",
            "key",
            "value",
            "tag:",
            "tag-key",
            "tag-value",
        ],
    )?;
    let page = Page::read(&p)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let region = read(&lock);
    let mut rows: Vec<(String, &'static str, String, String)> = Vec::new();
    let (now, d) = (call.now_ms, call.world.durations);
    for (id, rtype, all) in region.all_tags() {
        // Instances gone from DescribeInstances are gone from DescribeTags too.
        if rtype == "instance"
            && !region
                .instances
                .get(id)
                .is_some_and(|i| super::instances::visible(i, now, &d))
        {
            continue;
        }
        for (k, v) in all {
            if filters
                .iter()
                .all(|f| describe_matches(f, id, rtype, k, v, all))
            {
                rows.push((id.to_string(), rtype, k.clone(), v.clone()));
            }
        }
    }
    let (page, next) = page.apply(rows)?;
    let mut w = call.writer();
    w.list("Tags", page, |w, (id, rtype, k, v)| {
        w.str("ResourceId", id)
            .str("ResourceType", rtype)
            .str("Key", k)
            .str("Value", v);
    });
    w.str_opt("NextToken", next);
    w.finish()
}
