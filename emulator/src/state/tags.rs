//! Resource tags: parsing (`TagSpecification.N`, `Tag.N`), AWS's limits and the tag filters
//! (`tag:KEY`, `tag-key`, `tag-value`) every EC2 Describe call accepts. EC2 answers write a
//! resource's tags with [`write_tags`](crate::services::ec2::common::write_tags).

use std::collections::BTreeMap;

use crate::protocol::{AwsError, AwsResult, Scope};

use super::filters::Filter;

/// Tags of one resource, ordered by key for stable output.
pub type Tags = BTreeMap<String, String>;

/// AWS's limit of user tags per resource.
pub const MAX_TAGS: usize = 50;

/// Reads `Tag.N.Key` / `Tag.N.Value` under `scope` (the list name differs by action).
pub fn parse_list(scope: &Scope<'_>, list: &str) -> AwsResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for t in scope.structs(list)? {
        let key = t.required("Key")?.to_string();
        let value = t.str("Value").unwrap_or("").to_string();
        out.push((key, value));
    }
    Ok(out)
}

/// Checks keys and values as AWS does before any tag is written.
pub fn validate(tags: &[(String, String)]) -> AwsResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(AwsError::invalid_value(format!(
                "Tag key must be between 1 and 128 characters long: '{k}'"
            )));
        }
        if v.chars().count() > 256 {
            return Err(AwsError::invalid_value(format!(
                "Tag value for key '{k}' must be at most 256 characters long"
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(AwsError::invalid_value(
                "Tag keys starting with 'aws:' are reserved for internal use",
            ));
        }
    }
    Ok(())
}

/// Applies tags to a resource's set, refusing to pass AWS's per-resource limit.
pub fn apply(target: &mut Tags, tags: &[(String, String)]) -> AwsResult<()> {
    let added = tags.iter().filter(|(k, _)| !target.contains_key(k)).count();
    if target.len() + added > MAX_TAGS {
        return Err(AwsError::bad_request(
            "TagLimitExceeded",
            format!("The maximum number of tags per resource ({MAX_TAGS}) has been exceeded"),
        ));
    }
    for (k, v) in tags {
        target.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// The tags a create action's `TagSpecification.N` gives to resources of `resource_type`.
/// A specification for a type the action does not create is refused, as AWS does.
pub fn from_specifications(
    scope: &Scope<'_>,
    allowed_types: &[&str],
) -> AwsResult<BTreeMap<String, Tags>> {
    let mut out: BTreeMap<String, Tags> = BTreeMap::new();
    for spec in scope.structs("TagSpecification")? {
        let rtype = spec.required("ResourceType")?.to_string();
        if !allowed_types.contains(&rtype.as_str()) {
            return Err(AwsError::invalid_value(format!(
                "'{rtype}' is not a valid taggable resource type for this operation."
            )));
        }
        let tags = parse_list(&spec, "Tag")?;
        validate(&tags)?;
        apply(out.entry(rtype).or_default(), &tags)?;
    }
    Ok(out)
}

/// Whether a tag filter (`tag:KEY`, `tag-key`, `tag-value`) accepts these tags; `None` when the
/// filter is not a tag filter.
pub fn filter_matches(f: &Filter, tags: &Tags) -> Option<bool> {
    if let Some(key) = f.name.strip_prefix("tag:") {
        return Some(tags.get(key).is_some_and(|v| f.matches(v)));
    }
    match f.name.as_str() {
        "tag-key" => Some(f.matches_any(tags.keys().map(String::as_str))),
        "tag-value" => Some(f.matches_any(tags.values().map(String::as_str))),
        _ => None,
    }
}

/// The tag filter names, for `filters::parse`'s list of known names.
pub const TAG_FILTERS: [&str; 3] = ["tag:", "tag-key", "tag-value"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_reserved_prefix() {
        assert!(validate(&[("aws:x".into(), "v".into())]).is_err());
        assert!(validate(&[("".into(), "v".into())]).is_err());
        let mut t = Tags::new();
        let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
        apply(&mut t, &fifty).unwrap();
        apply(&mut t, &[("k1".into(), "changed".into())]).unwrap();
        assert_eq!(
            apply(&mut t, &[("k50".into(), "v".into())])
                .unwrap_err()
                .code,
            "TagLimitExceeded"
        );
    }

    #[test]
    fn tag_filters() {
        let tags: Tags = [("kubernetes.io/cluster/c1".to_string(), "owned".to_string())].into();
        let f = |name: &str, v: &str| Filter {
            name: name.into(),
            values: vec![v.into()],
        };
        assert_eq!(
            filter_matches(&f("tag:kubernetes.io/cluster/c1", "owned"), &tags),
            Some(true)
        );
        assert_eq!(
            filter_matches(&f("tag:kubernetes.io/cluster/c1", "shared"), &tags),
            Some(false)
        );
        assert_eq!(
            filter_matches(&f("tag-key", "kubernetes.io/cluster/*"), &tags),
            Some(true)
        );
        assert_eq!(filter_matches(&f("vpc-id", "x"), &tags), None);
    }
}
