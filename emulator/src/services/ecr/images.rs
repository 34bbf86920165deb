//! ECR images: PutImage, ListImages, DescribeImages, BatchGetImage, BatchDeleteImage.
//!
//! An image is its manifest, known by the sha256 of the manifest's exact bytes. PutImage checks
//! that everything the manifest references is in the repository (layers and config for an image
//! manifest, images for a manifest list or index) and applies the repository's tag mutability.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::protocol::json::{check_range, Obj};
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::{read, write};

use super::model::{sha256_digest, Image, Repository};
use super::ON_REPOSITORY;
use super::{invalid_parameter, page, region, valid_digest, Target};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("PutImage", put_image).on(ON_REPOSITORY),
    Action::new("ListImages", list_images).on(ON_REPOSITORY),
    Action::new("BatchGetImage", batch_get_image).on(ON_REPOSITORY),
    Action::new("BatchDeleteImage", batch_delete_image).on(ON_REPOSITORY),
    Action::new("DescribeImages", describe_images).on(ON_REPOSITORY),
];

const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The manifest media types ECR stores.
const MEDIA_TYPES: &[&str] = &[
    DOCKER_V1,
    DOCKER_V1_SIGNED,
    DOCKER_V2,
    DOCKER_LIST,
    OCI_MANIFEST,
    OCI_INDEX,
];

fn invalid_manifest(rule: &str) -> AwsError {
    invalid_parameter("ImageManifest", rule)
}

/// What a manifest references: blobs (layers and config, with their media types) or images.
#[derive(Debug, Default)]
struct References {
    /// (digest, media type) of each layer and the config blob.
    blobs: Vec<(String, Option<String>)>,
    images: Vec<String>,
}

/// The digest members of a list of descriptors (`layers`, `manifests`, `fsLayers`).
fn descriptors(
    manifest: &Value,
    list: &str,
    digest_member: &str,
) -> AwsResult<Vec<(String, Option<String>)>> {
    let Some(items) = manifest.get(list) else {
        return Ok(Vec::new());
    };
    let items = items
        .as_array()
        .ok_or_else(|| invalid_manifest(&format!("'{list}' must be a list")))?;
    items
        .iter()
        .map(|d| {
            let digest = d
                .get(digest_member)
                .and_then(Value::as_str)
                .filter(|s| valid_digest(s))
                .ok_or_else(|| {
                    invalid_manifest(&format!(
                        "every entry of '{list}' needs a valid '{digest_member}'"
                    ))
                })?;
            let media = d
                .get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok((digest.to_string(), media))
        })
        .collect()
}

/// The media type of a manifest and what it references.
fn inspect(manifest: &Value, given_type: Option<&str>) -> AwsResult<(String, References)> {
    let declared = manifest.get("mediaType").and_then(Value::as_str);
    let inferred = if manifest.get("manifests").is_some() {
        Some(OCI_INDEX)
    } else if manifest.get("schemaVersion").and_then(Value::as_i64) == Some(1) {
        Some(if manifest.get("signatures").is_some() {
            DOCKER_V1_SIGNED
        } else {
            DOCKER_V1
        })
    } else if manifest.get("config").is_some() {
        Some(OCI_MANIFEST)
    } else {
        None
    };
    let media_type = match (given_type, declared) {
        (Some(g), Some(d)) if g != d => {
            return Err(invalid_parameter(
                "imageManifestMediaType",
                "the mediaType of the manifest does not match imageManifestMediaType",
            ))
        }
        (Some(g), _) => g,
        (None, Some(d)) => d,
        (None, None) => inferred.ok_or_else(|| {
            invalid_parameter(
                "imageManifestMediaType",
                "image manifest media type not provided in manifest or parameter",
            )
        })?,
    };
    if !MEDIA_TYPES.contains(&media_type) {
        return Err(invalid_parameter(
            "imageManifestMediaType",
            &format!("Unsupported manifest media type: {media_type}"),
        ));
    }
    let mut refs = References::default();
    match media_type {
        DOCKER_LIST | OCI_INDEX => {
            refs.images = descriptors(manifest, "manifests", "digest")?
                .into_iter()
                .map(|(d, _)| d)
                .collect();
        }
        DOCKER_V1 | DOCKER_V1_SIGNED => {
            refs.blobs = descriptors(manifest, "fsLayers", "blobSum")?;
        }
        _ => {
            let config = manifest
                .get("config")
                .ok_or_else(|| invalid_manifest("an image manifest needs a 'config'"))?;
            let config_digest = config
                .get("digest")
                .and_then(Value::as_str)
                .filter(|s| valid_digest(s))
                .ok_or_else(|| invalid_manifest("the config needs a valid 'digest'"))?;
            let config_type = config
                .get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string);
            refs.blobs.push((config_digest.to_string(), config_type));
            refs.blobs
                .extend(descriptors(manifest, "layers", "digest")?);
        }
    }
    Ok((media_type.to_string(), refs))
}

/// The members of an `ImageIdentifier`: the digest when known, the tag when there is one.
fn image_id(w: &mut Writer, digest: Option<&str>, tag: Option<&str>) {
    w.str_opt("imageDigest", digest).str_opt("imageTag", tag);
}

/// The members of the `Image` structure of PutImage and BatchGetImage.
fn render_image(w: &mut Writer, repo: &Repository, image: &Image, tag: Option<&str>) {
    w.str("registryId", &repo.registry_id)
        .str("repositoryName", &repo.name)
        .structure("imageId", |w| image_id(w, Some(&image.digest), tag))
        .str("imageManifest", &image.manifest)
        .str("imageManifestMediaType", &image.media_type);
}

fn put_image(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let manifest_text = j.required("imageManifest")?;
    let given_type = j.str("imageManifestMediaType")?;
    let tag = j.str("imageTag")?;
    let given_digest = j.str("imageDigest")?;
    check_range(
        "imageManifest",
        "<manifest>",
        "length",
        manifest_text.chars().count() as i64,
        1,
        4_194_304,
    )?;
    if let Some(t) = tag {
        check_range("imageTag", t, "length", t.chars().count() as i64, 1, 300)?;
    }
    let manifest: Value = serde_json::from_str(manifest_text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid_manifest("Invalid JSON syntax"))?;
    let (media_type, refs) = inspect(&manifest, given_type)?;
    let digest = sha256_digest(manifest_text.as_bytes());
    if let Some(d) = given_digest {
        if d != digest {
            return Err(AwsError::bad_request(
                "ImageDigestDoesNotMatchException",
                format!(
                    "Provided image digest '{d}' does not match the calculated digest '{digest}'"
                ),
            ));
        }
    }

    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let missing_layers: Vec<&str> = refs
        .blobs
        .iter()
        .map(|(d, _)| d.as_str())
        .filter(|d| !repo.layers.contains_key(*d))
        .collect();
    if !missing_layers.is_empty() {
        return Err(AwsError::bad_request(
            "LayersNotFoundException",
            format!(
                "Layers with digests '[{}]' required for pushing image into repository with name '{}' in the registry with id '{}' do not exist",
                missing_layers.join(", "),
                repo.name,
                repo.registry_id
            ),
        ));
    }
    let missing_images: Vec<&str> = refs
        .images
        .iter()
        .map(String::as_str)
        .filter(|d| !repo.images.contains_key(*d))
        .collect();
    if !missing_images.is_empty() {
        return Err(AwsError::bad_request(
            "ReferencedImagesNotFoundException",
            format!(
                "Images with digests '[{}]' referenced by the manifest list do not exist in the repository with name '{}' in the registry with id '{}'",
                missing_images.join(", "),
                repo.name,
                repo.registry_id
            ),
        ));
    }
    if let Some(existing) = repo.images.get(&digest) {
        let already = match tag {
            Some(t) => existing.tags.contains(t),
            None => true,
        };
        if already {
            return Err(AwsError::bad_request(
                "ImageAlreadyExistsException",
                match tag {
                    Some(t) => format!(
                        "Image with digest '{digest}' and tag '{t}' already exists in the repository with name '{}' in registry with id '{}'",
                        repo.name, repo.registry_id
                    ),
                    None => format!(
                        "Image with digest '{digest}' already exists in the repository with name '{}' in registry with id '{}'",
                        repo.name, repo.registry_id
                    ),
                },
            ));
        }
    }
    if let Some(t) = tag {
        if let Some(old) = repo.image_tags.get(t) {
            if *old != digest && repo.tag_mutability == "IMMUTABLE" {
                return Err(AwsError::bad_request(
                    "ImageTagAlreadyExistsException",
                    format!(
                        "The image tag '{t}' already exists in the '{}' repository and cannot be overwritten because the repository is immutable.",
                        repo.name
                    ),
                ));
            }
        }
    }

    // Valid: record it.
    for (d, media) in &refs.blobs {
        if let (Some(layer), Some(m)) = (repo.layers.get_mut(d), media) {
            layer.media_type.get_or_insert_with(|| m.clone());
        }
    }
    if let Some(t) = tag {
        if let Some(old) = repo.image_tags.insert(t.to_string(), digest.clone()) {
            if let Some(img) = repo.images.get_mut(&old) {
                img.tags.remove(t);
            }
        }
    }
    let image = repo.images.entry(digest.clone()).or_insert_with(|| Image {
        digest: digest.clone(),
        manifest: manifest_text.to_string(),
        media_type,
        pushed_ms: call.now_ms,
        tags: BTreeSet::new(),
        references: refs
            .blobs
            .iter()
            .map(|(d, _)| d.clone())
            .chain(refs.images.iter().cloned())
            .collect(),
    });
    if let Some(t) = tag {
        image.tags.insert(t.to_string());
    }
    let image = image.clone();
    let mut w = call.writer();
    w.structure("image", |w| render_image(w, repo, &image, tag));
    w.finish()
}

/// The `filter` of ListImages and DescribeImages: the tag status (`TAGGED`, `UNTAGGED`, `ANY`),
/// and whether only archived images were asked for (none exist: archiving is not emulated).
fn read_filter(j: &Obj<'_>) -> AwsResult<(String, bool)> {
    let (tag_status, image_status) = match j.object("filter")? {
        Some(f) => (f.str("tagStatus")?, f.str("imageStatus")?),
        None => (None, None),
    };
    let tag_status = tag_status.unwrap_or("ANY");
    if !["TAGGED", "UNTAGGED", "ANY"].contains(&tag_status) {
        return Err(invalid_parameter(
            "filter.tagStatus",
            "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]",
        ));
    }
    if let Some(s) = image_status {
        if !["ACTIVE", "ARCHIVED", "ACTIVATING", "ANY"].contains(&s) {
            return Err(invalid_parameter(
                "filter.imageStatus",
                "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]",
            ));
        }
    }
    let archived_only = image_status.is_some_and(|s| s == "ARCHIVED" || s == "ACTIVATING");
    Ok((tag_status.to_string(), archived_only))
}

/// Whether an image passes a tag status filter.
fn tag_status_matches(image: &Image, tag_status: &str) -> bool {
    match tag_status {
        "TAGGED" => !image.tags.is_empty(),
        "UNTAGGED" => image.tags.is_empty(),
        _ => true,
    }
}

fn list_images(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let token = j.str("nextToken")?;
    let max = j.int("maxResults")?;
    let (tag_status, archived_only) = read_filter(&j)?;
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    // (digest, tag): an untagged image once, a tagged one once per tag.
    let mut ids: Vec<(&str, Option<&str>)> = Vec::new();
    for image in repo
        .images
        .values()
        .filter(|i| !archived_only && tag_status_matches(i, &tag_status))
    {
        if image.tags.is_empty() {
            ids.push((&image.digest, None));
        }
        for t in &image.tags {
            ids.push((&image.digest, Some(t)));
        }
    }
    let (ids, next) = page(ids, max, token)?;
    let mut w = call.writer();
    w.list("imageIds", ids, |w, (digest, tag)| {
        image_id(w, Some(digest), tag)
    })
    .str_opt("nextToken", next);
    w.finish()
}

/// The members of the `ImageDetail` of DescribeImages. The size is the sum of the manifest's
/// layer sizes, as ECR reports the compressed size of an image.
fn detail(w: &mut Writer, repo: &Repository, image: &Image) {
    let manifest: Value = serde_json::from_str(&image.manifest).unwrap_or_default();
    w.str("registryId", &repo.registry_id)
        .str("repositoryName", &repo.name)
        .str("imageDigest", &image.digest);
    if !image.tags.is_empty() {
        w.strs("imageTags", &image.tags);
    }
    if let Some(layers) = manifest.get("layers").and_then(Value::as_array) {
        let size: i64 = layers
            .iter()
            .filter_map(|l| l.get("size").and_then(Value::as_i64))
            .sum();
        w.int("imageSizeInBytes", size);
    }
    w.time("imagePushedAt", image.pushed_ms)
        .str("imageManifestMediaType", &image.media_type)
        .str_opt(
            "artifactMediaType",
            manifest
                .get("config")
                .and_then(|c| c.get("mediaType"))
                .and_then(Value::as_str),
        )
        .str("imageStatus", "ACTIVE");
}

fn describe_images(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let token = j.str("nextToken")?;
    let max = j.int("maxResults")?;
    let (tag_status, archived_only) = read_filter(&j)?;
    let ids = match j.objects("imageIds")? {
        Some(_) => Some(read_image_ids(&j)?),
        None => None,
    };
    if ids.is_some() && (max.is_some() || token.is_some()) {
        return Err(invalid_parameter(
            "maxResults",
            "maxResults and nextToken cannot be used when imageIds are specified",
        ));
    }
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    let details: Vec<&Image> = match ids {
        Some(ids) => {
            let mut out: Vec<&Image> = Vec::new();
            let mut seen = BTreeSet::new();
            for (digest, tag) in &ids {
                match look_up(repo, digest.as_deref(), tag.as_deref()) {
                    Lookup::Found(image) => {
                        if seen.insert(image.digest.clone()) {
                            out.push(image);
                        }
                    }
                    Lookup::Failed(..) => {
                        return Err(AwsError::bad_request(
                            "ImageNotFoundException",
                            format!(
                                "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist within the repository with name '{}' in the registry with id '{}'",
                                digest.as_deref().unwrap_or("null"),
                                tag.as_deref().unwrap_or("null"),
                                repo.name,
                                repo.registry_id
                            ),
                        ))
                    }
                }
            }
            out
        }
        None => repo
            .images
            .values()
            .filter(|i| !archived_only && tag_status_matches(i, &tag_status))
            .collect(),
    };
    let (details, next) = page(details, max, token)?;
    let mut w = call.writer();
    w.list("imageDetails", details, |w, image| detail(w, repo, image))
        .str_opt("nextToken", next);
    w.finish()
}

/// One requested image id, checked as the batch calls check them.
enum Lookup<'r> {
    Found(&'r Image),
    Failed(&'static str, &'static str),
}

fn requested_id(id: &Obj<'_>) -> AwsResult<(Option<String>, Option<String>)> {
    Ok((
        id.str("imageDigest")?.map(str::to_string),
        id.str("imageTag")?.map(str::to_string),
    ))
}

fn look_up<'r>(repo: &'r Repository, digest: Option<&str>, tag: Option<&str>) -> Lookup<'r> {
    if digest.is_none() && tag.is_none() {
        return Lookup::Failed(
            "MissingDigestAndTag",
            "Invalid request parameters: both tag and digest cannot be null",
        );
    }
    if let Some(d) = digest {
        if !valid_digest(d) {
            return Lookup::Failed(
                "InvalidImageDigest",
                "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
            );
        }
    }
    if let Some(t) = tag {
        if t.is_empty() || t.chars().count() > 300 {
            return Lookup::Failed(
                "InvalidImageTag",
                "Invalid request parameters: invalid image tag",
            );
        }
    }
    let by_tag = tag.and_then(|t| repo.image_tags.get(t));
    let found = match (digest, by_tag) {
        (Some(d), Some(tagged)) if d != tagged => {
            return Lookup::Failed(
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: given tag does not map to the given digest",
            )
        }
        (Some(d), _) if tag.is_none() || by_tag.is_some() => repo.images.get(d),
        (None, Some(tagged)) => repo.images.get(tagged),
        _ => None,
    };
    match found {
        Some(i) => Lookup::Found(i),
        None => Lookup::Failed("ImageNotFound", "Requested image not found"),
    }
}

/// An `ImageFailure` of the batch calls: the id as requested, a code and a reason.
struct Failure<'a> {
    digest: Option<&'a str>,
    tag: Option<&'a str>,
    code: &'static str,
    reason: &'static str,
}

fn failure<'a>(
    digest: Option<&'a str>,
    tag: Option<&'a str>,
    code: &'static str,
    reason: &'static str,
) -> Failure<'a> {
    Failure {
        digest,
        tag,
        code,
        reason,
    }
}

fn write_failures(w: &mut Writer, failures: Vec<Failure<'_>>) {
    w.list("failures", failures, |w, f| {
        w.structure("imageId", |w| image_id(w, f.digest, f.tag))
            .str("failureCode", f.code)
            .str("failureReason", f.reason);
    });
}

fn read_image_ids<'a>(j: &Obj<'a>) -> AwsResult<Vec<(Option<String>, Option<String>)>> {
    let ids = j
        .objects("imageIds")?
        .ok_or_else(|| crate::protocol::json::missing("imageIds"))?;
    check_range(
        "imageIds",
        &format!("<{} ids>", ids.len()),
        "length",
        ids.len() as i64,
        1,
        100,
    )?;
    ids.iter().map(requested_id).collect()
}

fn batch_get_image(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let ids = read_image_ids(&j)?;
    if let Some(types) = j.strings("acceptedMediaTypes")? {
        check_range(
            "acceptedMediaTypes",
            &format!("{types:?}"),
            "length",
            types.len() as i64,
            1,
            100,
        )?;
    }
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    let mut images = Vec::new();
    let mut failures = Vec::new();
    for (digest, tag) in &ids {
        match look_up(repo, digest.as_deref(), tag.as_deref()) {
            Lookup::Found(image) => images.push((image, tag.as_deref())),
            Lookup::Failed(code, reason) => {
                failures.push(failure(digest.as_deref(), tag.as_deref(), code, reason))
            }
        }
    }
    let mut w = call.writer();
    w.list("images", images, |w, (image, tag)| {
        render_image(w, repo, image, tag)
    });
    write_failures(&mut w, failures);
    w.finish()
}

/// Deletes images by digest (the image and all its tags) or by tag (the tag; the image goes with
/// its last tag). An image a manifest list references cannot be deleted.
fn batch_delete_image(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let ids = read_image_ids(&j)?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for (digest, tag) in &ids {
        let image = match look_up(repo, digest.as_deref(), tag.as_deref()) {
            Lookup::Found(image) => image.clone(),
            Lookup::Failed(code, reason) => {
                failures.push(failure(digest.as_deref(), tag.as_deref(), code, reason));
                continue;
            }
        };
        let whole = tag.is_none() || image.tags.len() <= 1;
        if whole
            && repo
                .images
                .values()
                .any(|i| i.references.contains(&image.digest))
        {
            failures.push(failure(
                digest.as_deref(),
                tag.as_deref(),
                "ImageReferencedByManifestList",
                "Requested image is referenced by a manifest list",
            ));
            continue;
        }
        match (tag, whole) {
            (Some(t), false) => {
                repo.image_tags.remove(t);
                if let Some(i) = repo.images.get_mut(&image.digest) {
                    i.tags.remove(t);
                }
                deleted.push((image.digest.clone(), Some(t.clone())));
            }
            _ => {
                for t in &image.tags {
                    repo.image_tags.remove(t);
                    deleted.push((image.digest.clone(), Some(t.clone())));
                }
                if image.tags.is_empty() {
                    deleted.push((image.digest.clone(), None));
                }
                repo.images.remove(&image.digest);
            }
        }
    }
    let mut w = call.writer();
    w.list("imageIds", deleted, |w, (digest, tag)| {
        image_id(w, Some(&digest), tag.as_deref())
    });
    write_failures(&mut w, failures);
    w.finish()
}
