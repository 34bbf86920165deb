//! The provider's cluster tagging (tags.go): which resources belong to the cluster and how it
//! tags what it creates.

use std::collections::BTreeMap;

/// `TagNameKubernetesClusterPrefix`.
pub const CLUSTER_PREFIX: &str = "kubernetes.io/cluster/";
/// `TagNameKubernetesClusterLegacy`.
pub const LEGACY_CLUSTER: &str = "KubernetesCluster";
/// `TagNameSubnetPublicELB` / `TagNameSubnetInternalELB`.
pub const ROLE_ELB: &str = "kubernetes.io/role/elb";
pub const ROLE_INTERNAL_ELB: &str = "kubernetes.io/role/internal-elb";
/// `TagNameKubernetesService`.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
pub const OWNED: &str = "owned";
pub const SHARED: &str = "shared";

/// `awsTagging` for one cluster id.
#[derive(Debug, Clone)]
pub struct Tagging<'a> {
    pub cluster_id: &'a str,
}

impl<'a> Tagging<'a> {
    pub fn new(cluster_id: &'a str) -> Self {
        Tagging { cluster_id }
    }

    pub fn cluster_tag_key(&self) -> String {
        format!("{CLUSTER_PREFIX}{}", self.cluster_id)
    }

    /// `hasClusterTag`: the cluster tag with any value, or the legacy tag naming this cluster.
    /// Without a cluster id, everything belongs.
    pub fn has_cluster_tag<'t>(&self, tags: impl IntoIterator<Item = (&'t str, &'t str)>) -> bool {
        if self.cluster_id.is_empty() {
            return true;
        }
        let key = self.cluster_tag_key();
        tags.into_iter()
            .any(|(k, v)| (k == LEGACY_CLUSTER && v == self.cluster_id) || k == key)
    }

    /// `hasNoClusterPrefixTag`: no `kubernetes.io/cluster/…` tag at all (a subnet shared by
    /// every cluster).
    pub fn has_no_cluster_prefix_tag<'t>(
        &self,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> bool {
        !tags.into_iter().any(|(k, _)| k.starts_with(CLUSTER_PREFIX))
    }

    /// `hasClusterTagOwned`: the cluster tag (or legacy tag) with the value `owned`.
    pub fn has_cluster_tag_owned<'t>(
        &self,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> bool {
        if self.cluster_id.is_empty() {
            return false;
        }
        let key = self.cluster_tag_key();
        tags.into_iter()
            .any(|(k, v)| (k == key && v == OWNED) || (k == LEGACY_CLUSTER && v == self.cluster_id))
    }

    /// `buildTags`: the additional tags plus the cluster tag with `lifecycle` (the legacy tag is
    /// only written by clusters configured with it, which the flows are not).
    pub fn build_tags(
        &self,
        lifecycle: &str,
        additional: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut tags = additional.clone();
        if !self.cluster_id.is_empty() {
            tags.insert(self.cluster_tag_key(), lifecycle.to_string());
        }
        tags
    }
}

/// Key/value pairs of EC2 tags.
pub fn ec2_pairs(tags: &[aws_sdk_ec2::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")))
}

/// `getKeyValuePropertiesFromAnnotation`: `k1=v1,k2=v2` (a key without `=` gets an empty value).
pub fn key_values(annotation: Option<&String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(raw) = annotation else {
        return out;
    };
    for item in raw.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        // Go: strings.Split(tag, "="); "k=v" (extra parts dropped), "k=" or "k".
        let mut parts = item.split('=');
        let key = parts.next().unwrap_or("");
        if key.is_empty() {
            continue;
        }
        out.insert(key.to_string(), parts.next().unwrap_or("").to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_split_as_the_provider_does() {
        let raw = " a=1, b= ,c,=d, e=f=g ".to_string();
        let got = key_values(Some(&raw));
        let want: BTreeMap<String, String> = [("a", "1"), ("b", ""), ("c", ""), ("e", "f")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        assert!(key_values(None).is_empty());
    }

    #[test]
    fn cluster_tags_owned_shared_and_legacy() {
        let t = Tagging::new("c1");
        let owned = [("kubernetes.io/cluster/c1", "owned")];
        let shared = [("kubernetes.io/cluster/c1", "shared")];
        let legacy = [("KubernetesCluster", "c1")];
        let other = [("kubernetes.io/cluster/c2", "owned")];
        assert!(t.has_cluster_tag(owned) && t.has_cluster_tag_owned(owned));
        assert!(t.has_cluster_tag(shared) && !t.has_cluster_tag_owned(shared));
        assert!(t.has_cluster_tag(legacy) && t.has_cluster_tag_owned(legacy));
        assert!(!t.has_cluster_tag(other) && !t.has_no_cluster_prefix_tag(other));
        assert!(t.has_no_cluster_prefix_tag([("Name", "x")]));
    }
}
