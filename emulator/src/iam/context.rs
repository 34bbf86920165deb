//! The request context: what is being done (action), to what (resource), and the condition keys
//! the server knows about the request (`aws:SourceIp`, `aws:username`, `ec2:ResourceTag/Name`, ...).

use std::collections::HashMap;

/// Normalises a condition key name for lookup.
///
/// AWS compares key names case-insensitively, except the part after the first `/`, which in every
/// key that has one (`aws:ResourceTag/Name`, `aws:RequestTag/Name`, `ec2:ResourceTag/Name`,
/// `aws:PrincipalTag/team`, ...) is a tag key, and tag keys are case-sensitive.
pub fn normalize_key(key: &str) -> String {
    match key.split_once('/') {
        Some((name, tag)) => format!("{}/{}", name.to_ascii_lowercase(), tag),
        None => key.to_ascii_lowercase(),
    }
}

/// Everything an IAM policy can look at in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `service:ActionName`, e.g. `ec2:CreateVolume`.
    pub action: String,
    /// The resource ARN, or `*` for actions that do not act on a specific resource.
    pub resource: String,
    /// Condition keys by normalised name ([`normalize_key`]); keys may be multi-valued.
    keys: HashMap<String, Vec<String>>,
}

impl RequestContext {
    /// A context with no condition keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        RequestContext {
            action: action.into(),
            resource: resource.into(),
            keys: HashMap::new(),
        }
    }

    /// Adds one value to `key` (builder style); calling it twice makes the key multi-valued.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.keys
            .entry(normalize_key(key))
            .or_default()
            .push(value.into());
        self
    }

    /// Replaces all values of `key`. An empty list counts as absent for every operator.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(normalize_key(key), values);
    }

    /// The tags a request asks for: `aws:RequestTag/KEY` = value for each tag that has a value,
    /// and every key, once, in the multi-valued `aws:TagKeys` (what `ForAllValues:` and
    /// `ForAnyValue:` conditions test). Nothing is added for an empty list, so a condition on
    /// either key sees it absent.
    pub fn add_request_tags<'t>(
        &mut self,
        tags: impl IntoIterator<Item = (&'t str, Option<&'t str>)>,
    ) {
        let mut keys: Vec<String> = Vec::new();
        for (key, value) in tags {
            if let Some(value) = value {
                self.set(&format!("aws:RequestTag/{key}"), vec![value.to_string()]);
            }
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
        if !keys.is_empty() {
            self.set("aws:TagKeys", keys);
        }
    }

    /// The current tags of the resource acted on: `aws:ResourceTag/KEY` and the service's own
    /// `SERVICE:ResourceTag/KEY` (`ec2:`, `elasticloadbalancing:`), which AWS sets alike.
    pub fn add_resource_tags<'t>(
        &mut self,
        service: &str,
        tags: impl IntoIterator<Item = (&'t String, &'t String)>,
    ) {
        for (key, value) in tags {
            self.set(&format!("aws:ResourceTag/{key}"), vec![value.clone()]);
            self.set(&format!("{service}:ResourceTag/{key}"), vec![value.clone()]);
        }
    }

    /// Every key (normalised) with its values, sorted by key: for reports and the encoded
    /// authorization message.
    pub fn keys(&self) -> Vec<(&str, &[String])> {
        let mut all: Vec<(&str, &[String])> = self
            .keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        all.sort_unstable_by_key(|(k, _)| *k);
        all
    }

    /// The values of `key`, looked up with AWS's case rules.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_normalized(&normalize_key(key))
    }

    /// Lookup by an already-normalised key: the evaluator normalises at policy load so that the
    /// request path does not allocate.
    pub(crate) fn get_normalized(&self, key: &str) -> Option<&[String]> {
        self.keys.get(key).map(Vec::as_slice)
    }

    /// The first value of an already-normalised key: what a policy variable `${key}` stands for.
    pub(crate) fn first_normalized(&self, key: &str) -> Option<&str> {
        self.get_normalized(key)?.first().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_case_insensitive() {
        let ctx = RequestContext::new("ec2:RunInstances", "*").with("aws:SourceIp", "10.0.0.1");
        assert_eq!(ctx.get("AWS:sourceip"), Some(&["10.0.0.1".to_string()][..]));
        assert_eq!(ctx.get("aws:SourceIp"), ctx.get("aws:sourceip"));
    }

    #[test]
    fn tag_keys_are_case_sensitive() {
        let ctx = RequestContext::new("ec2:CreateTags", "*").with("aws:RequestTag/Name", "web");
        assert!(ctx.get("AWS:requesttag/Name").is_some());
        assert!(ctx.get("aws:RequestTag/name").is_none());
        assert_eq!(
            normalize_key("EC2:ResourceTag/Owner/Sub"),
            "ec2:resourcetag/Owner/Sub"
        );
    }

    #[test]
    fn request_tags() {
        let mut ctx = RequestContext::new("ec2:CreateVolume", "*");
        ctx.add_request_tags([("Name", Some("a")), ("env", Some("")), ("Name", Some("b"))]);
        assert_eq!(ctx.get("aws:RequestTag/Name"), Some(&["b".to_string()][..]));
        assert_eq!(ctx.get("aws:RequestTag/env"), Some(&[String::new()][..]));
        assert_eq!(
            ctx.get("aws:TagKeys"),
            Some(&["Name".to_string(), "env".to_string()][..])
        );
        // DeleteTags naming a key alone: the key, no value.
        let mut ctx = RequestContext::new("ec2:DeleteTags", "*");
        ctx.add_request_tags([("team", None)]);
        assert_eq!(ctx.get("aws:RequestTag/team"), None);
        assert_eq!(ctx.get("aws:TagKeys"), Some(&["team".to_string()][..]));
        // No tags: both keys absent.
        let mut ctx = RequestContext::new("ec2:CreateVolume", "*");
        ctx.add_request_tags([]);
        assert_eq!(ctx.get("aws:TagKeys"), None);
    }

    #[test]
    fn resource_tags() {
        let tags: std::collections::BTreeMap<String, String> =
            [("ebs.csi.aws.com/cluster".to_string(), "true".to_string())].into();
        let mut ctx = RequestContext::new("ec2:DeleteVolume", "arn:aws:ec2:r:1:volume/vol-1");
        ctx.add_resource_tags("ec2", &tags);
        assert_eq!(
            ctx.get("ec2:ResourceTag/ebs.csi.aws.com/cluster"),
            Some(&["true".to_string()][..])
        );
        assert_eq!(
            ctx.get("aws:ResourceTag/ebs.csi.aws.com/cluster"),
            Some(&["true".to_string()][..])
        );
        assert_eq!(
            ctx.get("elasticloadbalancing:ResourceTag/ebs.csi.aws.com/cluster"),
            None
        );
    }

    #[test]
    fn multi_valued_keys() {
        let mut ctx = RequestContext::new("ec2:CreateTags", "*")
            .with("aws:TagKeys", "a")
            .with("aws:TagKeys", "b");
        assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(2));
        ctx.set("aws:TagKeys", vec!["c".into()]);
        assert_eq!(ctx.get("aws:TagKeys"), Some(&["c".to_string()][..]));
        assert_eq!(ctx.first_normalized("aws:tagkeys"), Some("c"));
        assert_eq!(ctx.get("aws:Missing"), None);
    }
}
