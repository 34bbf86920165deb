//! Group tags: CreateOrUpdateTags, DescribeTags and DeleteTags, and the checks the `Tags` of
//! CreateAutoScalingGroup share with them.
//!
//! A tag belongs to a group (`ResourceType` `auto-scaling-group`, `ResourceId` the group's name)
//! and may propagate to the instances the group launches from then on; changing a group's tags
//! does not touch instances already running, as in AWS.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::Call;

use super::model::{Group, GroupTag};
use super::{check_string, read_filters, validation, with_region, Records};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateOrUpdateTags", create_or_update_tags),
    Action::new("DescribeTags", describe_tags),
    Action::new("DeleteTags", delete_tags),
];

/// The one resource type Auto Scaling tags.
pub const RESOURCE_TYPE: &str = "auto-scaling-group";

/// AWS's limit of tags per group.
pub const MAX_TAGS: usize = 50;

/// One `Tags.member.N` as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInput {
    pub key: String,
    pub value: Option<String>,
    pub propagate_at_launch: Option<bool>,
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
}

/// Reads `Tags.member.N` and checks each against the shape: a key of 1 to 128 characters not
/// starting with `aws:`, a value of at most 256.
pub fn parse(p: &Scope<'_>) -> AwsResult<Vec<TagInput>> {
    let mut out = Vec::new();
    for (i, t) in p.structs("Tags")?.iter().enumerate() {
        let at = |member: &str| format!("tags.{}.member.{member}", i + 1);
        let key = t.required("Key")?.to_string();
        check_string(&key, &at("key"), 1, 128)?;
        let value = t.str("Value").map(str::to_string);
        if let Some(v) = &value {
            check_string(v, &at("value"), 0, 256)?;
        }
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(validation(format!(
                "Tag key '{key}' is invalid: tag keys starting with 'aws:' are reserved for internal use"
            )));
        }
        out.push(TagInput {
            key,
            value,
            propagate_at_launch: t.bool("PropagateAtLaunch")?,
            resource_id: t.str("ResourceId").map(str::to_string),
            resource_type: t.str("ResourceType").map(str::to_string),
        });
    }
    Ok(out)
}

/// A resource type other than `auto-scaling-group` is refused.
fn check_type(t: &TagInput) -> AwsResult<()> {
    match t.resource_type.as_deref() {
        Some(rt) if rt != RESOURCE_TYPE => Err(validation(format!(
            "Invalid resource type '{rt}': the only supported value is {RESOURCE_TYPE}"
        ))),
        _ => Ok(()),
    }
}

/// CreateOrUpdateTags and DeleteTags need both the resource id and type of every tag; AWS names
/// every incomplete one.
fn check_complete(tags: &[TagInput]) -> AwsResult<()> {
    let incomplete: Vec<String> = tags
        .iter()
        .filter(|t| t.resource_id.is_none() || t.resource_type.is_none())
        .map(|t| {
            let mut parts = vec![format!("Key:{}", t.key)];
            if let Some(v) = &t.value {
                parts.push(format!("Value:{v}"));
            }
            if let Some(p) = t.propagate_at_launch {
                parts.push(format!("PropagateAtLaunch:{p}"));
            }
            parts.push(format!(
                "ResourceId:{}",
                t.resource_id.as_deref().unwrap_or("null")
            ));
            parts.push(format!(
                "ResourceType:{}",
                t.resource_type.as_deref().unwrap_or("null")
            ));
            format!("Tag - '{}' , ", parts.join(","))
        })
        .collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    Err(validation(format!(
        "Incomplete tags information for these tags. {}",
        incomplete.concat()
    )))
}

/// The tags CreateAutoScalingGroup gives its new group (a tag's resource, when named, must be
/// the group).
pub fn for_new_group(
    name: &str,
    tags: &[TagInput],
) -> AwsResult<std::collections::BTreeMap<String, GroupTag>> {
    let mut out = std::collections::BTreeMap::new();
    for t in tags {
        check_type(t)?;
        if let Some(id) = t.resource_id.as_deref().filter(|id| *id != name) {
            return Err(validation(format!(
                "The tag's ResourceId '{id}' does not name the group being created ({name})"
            )));
        }
        out.insert(t.key.clone(), to_group_tag(t));
    }
    check_limit(out.len())?;
    Ok(out)
}

fn to_group_tag(t: &TagInput) -> GroupTag {
    GroupTag {
        value: t.value.clone().unwrap_or_default(),
        propagate_at_launch: t.propagate_at_launch.unwrap_or(false),
    }
}

fn check_limit(n: usize) -> AwsResult<()> {
    if n > MAX_TAGS {
        return Err(AwsError::bad_request(
            "LimitExceeded",
            format!("The number of tags on an Auto Scaling group cannot exceed {MAX_TAGS}."),
        ));
    }
    Ok(())
}

/// The CreateOrUpdateTags/DeleteTags answer for a group that does not exist.
fn tag_group_not_found(name: &str) -> AwsError {
    validation(format!(
        "AutoScalingGroup not found - AutoScaling Group {name} not found"
    ))
}

/// Reads and checks the `Tags` of CreateOrUpdateTags and DeleteTags.
fn read_request(call: &Call<'_>) -> AwsResult<Vec<TagInput>> {
    let p = call.root()?;
    let tags = parse(&p)?;
    call.params()?.finish()?;
    if tags.is_empty() {
        return Err(validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        ));
    }
    check_complete(&tags)?;
    for t in &tags {
        check_type(t)?;
    }
    Ok(tags)
}

/// The groups a request's tags name, checked to exist and not be on their way out.
fn check_groups(
    groups: &std::collections::BTreeMap<String, Group>,
    tags: &[TagInput],
) -> AwsResult<()> {
    for t in tags {
        let id = t.resource_id.as_deref().unwrap_or_default();
        match groups.get(id) {
            None => return Err(tag_group_not_found(id)),
            Some(g) if g.deleting => {
                return Err(validation(
                    "The AutoScaling group may not be modified while it is pending delete",
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub fn create_or_update_tags(call: &Call<'_>) -> AwsResult<Output> {
    let tags = read_request(call)?;
    with_region(call, |region| {
        let groups = &mut region.autoscaling.groups;
        check_groups(groups, &tags)?;
        // Check every group's limit before writing any tag: a refused call changes nothing.
        let mut after: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
            std::collections::BTreeMap::new();
        for t in &tags {
            let id = t.resource_id.as_deref().unwrap_or_default();
            let keys = after.entry(id).or_insert_with(|| {
                groups
                    .get(id)
                    .map(|g| g.tags.keys().map(String::as_str).collect())
                    .unwrap_or_default()
            });
            keys.insert(&t.key);
        }
        for keys in after.values() {
            check_limit(keys.len())?;
        }
        for t in &tags {
            if let Some(g) = groups.get_mut(t.resource_id.as_deref().unwrap_or_default()) {
                g.tags.insert(t.key.clone(), to_group_tag(t));
            }
        }
        Ok(Output::XmlEmpty)
    })
}

pub fn delete_tags(call: &Call<'_>) -> AwsResult<Output> {
    let tags = read_request(call)?;
    with_region(call, |region| {
        let groups = &mut region.autoscaling.groups;
        check_groups(groups, &tags)?;
        for t in &tags {
            if let Some(g) = groups.get_mut(t.resource_id.as_deref().unwrap_or_default()) {
                g.tags.remove(&t.key);
            }
        }
        Ok(Output::XmlEmpty)
    })
}

/// The filter names DescribeTags knows.
const FILTERS: &[&str] = &["auto-scaling-group", "key", "value", "propagate-at-launch"];

pub fn describe_tags(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let filters = read_filters(&p, FILTERS)?;
    let _ = p.bool("IncludeManagedResources")?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    with_region(call, |region| {
        let mut list: Vec<(&str, &str, &GroupTag)> = Vec::new();
        for g in region.autoscaling.groups.values() {
            for (k, t) in &g.tags {
                let matches = filters.iter().all(|(name, values)| {
                    let v = match name.as_str() {
                        "auto-scaling-group" => g.name.clone(),
                        "key" => k.clone(),
                        "value" => t.value.clone(),
                        _ => t.propagate_at_launch.to_string(),
                    };
                    values.contains(&v)
                });
                if matches {
                    list.push((&g.name, k, t));
                }
            }
        }
        let (page, next) = records.apply(list)?;
        let mut w = call.writer();
        w.list("Tags", page, |w, (group, key, tag)| {
            render(w, group, key, tag);
        })
        .str_opt("NextToken", next);
        w.finish()
    })
}

/// One `TagDescription`.
pub fn render(w: &mut Writer, group: &str, key: &str, tag: &GroupTag) {
    w.str("ResourceId", group)
        .str("ResourceType", RESOURCE_TYPE)
        .str("Key", key)
        .str("Value", &tag.value)
        .bool("PropagateAtLaunch", tag.propagate_at_launch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, id: Option<&str>, rt: Option<&str>) -> TagInput {
        TagInput {
            key: key.into(),
            value: Some("v".into()),
            propagate_at_launch: Some(true),
            resource_id: id.map(str::to_string),
            resource_type: rt.map(str::to_string),
        }
    }

    #[test]
    fn incomplete_tags_are_named() {
        let e = check_complete(&[tag("Lab", Some("asg"), None)]).unwrap_err();
        assert_eq!(
            e.message,
            "Incomplete tags information for these tags. Tag - 'Key:Lab,Value:v,PropagateAtLaunch:true,ResourceId:asg,ResourceType:null' , "
        );
        assert!(check_complete(&[tag("Lab", Some("asg"), Some(RESOURCE_TYPE))]).is_ok());
        assert!(check_type(&tag("k", None, Some("instance"))).is_err());
    }

    #[test]
    fn new_group_tags_and_limit() {
        let many: Vec<TagInput> = (0..51).map(|i| tag(&format!("k{i}"), None, None)).collect();
        assert_eq!(for_new_group("g", &many).unwrap_err().code, "LimitExceeded");
        let t = for_new_group("g", &many[..2]).unwrap();
        assert!(t["k0"].propagate_at_launch);
        assert!(for_new_group("g", &[tag("k", Some("other"), None)]).is_err());
    }
}
