//! The ECR state of one region: repositories, each with its images (by manifest digest), its
//! tags, its layers and its layer uploads in progress.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An image: one manifest, known by the sha256 of its exact bytes, with zero or more tags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:` and 64 lower-case hex digits.
    pub digest: String,
    pub manifest: String,
    pub media_type: String,
    pub pushed_ms: i64,
    pub tags: BTreeSet<String>,
    /// The layer and config blobs (image manifests) or the images (manifest lists) it references.
    pub references: Vec<String>,
}

/// A layer blob that an upload completed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    pub digest: String,
    pub size: i64,
    /// Learnt from the first manifest that references the layer.
    pub media_type: Option<String>,
}

/// A layer upload in progress: the running digest of what was received, not the bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    #[serde(skip)]
    pub hasher: Sha256,
    /// Bytes received so far (the next part must start here).
    pub received: i64,
    /// The size of each part, in order (all but the last must be at least 5 MiB).
    pub parts: Vec<i64>,
}

impl Upload {
    pub fn new(id: String) -> Upload {
        Upload {
            id,
            hasher: Sha256::new(),
            received: 0,
            parts: Vec::new(),
        }
    }
}

/// A repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub uri: String,
    pub registry_id: String,
    pub created_ms: i64,
    /// `MUTABLE` or `IMMUTABLE`.
    pub tag_mutability: String,
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`, and the key for the KMS ones.
    pub encryption_type: String,
    pub kms_key: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The repository policy text, as given.
    pub policy: Option<String>,
    /// By digest.
    pub images: BTreeMap<String, Image>,
    /// Tag -> digest.
    pub image_tags: BTreeMap<String, String>,
    /// By digest.
    pub layers: BTreeMap<String, Layer>,
    /// By upload id. Not restored from a snapshot: an upload's running SHA-256 state cannot be
    /// written out, so an upload in progress when the snapshot was taken answers
    /// `UploadNotFoundException` after a restore (the client starts it again).
    #[serde(skip_deserializing)]
    pub uploads: BTreeMap<String, Upload>,
}

impl Repository {
    /// Whether an image references layer `digest` (only such layers can be downloaded).
    pub fn layer_referenced(&self, digest: &str) -> bool {
        self.images
            .values()
            .any(|i| i.references.iter().any(|r| r == digest))
    }
}

/// All ECR resources of one region, by repository name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EcrRegion {
    pub repositories: BTreeMap<String, Repository>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    hex_digest(Sha256::digest(bytes).as_slice())
}

/// `sha256:<hex>` of a finished hash.
pub fn hex_digest(hash: &[u8]) -> String {
    let mut s = String::with_capacity(7 + hash.len() * 2);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_of_the_bytes() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut u = Upload::new("u".into());
        u.hasher.update(b"ab");
        u.hasher.update(b"c");
        assert_eq!(
            hex_digest(u.hasher.finalize().as_slice()),
            sha256_digest(b"abc")
        );
    }
}
