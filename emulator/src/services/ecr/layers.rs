//! ECR layers: the push side (BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
//! CompleteLayerUpload) and the pull side (GetDownloadUrlForLayer).
//!
//! An upload keeps a running sha256 of the parts it received, not the bytes, so a big layer costs
//! no memory; CompleteLayerUpload compares that digest with the one the client names. Parts must
//! come in order, and every part but the last must be at least 5 MiB, as ECR requires.

use sha2::Digest;

use crate::protocol::json::check_range;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::{read, write};

use super::model::{hex_digest, Layer, Upload};
use super::ON_REPOSITORY;
use super::{invalid_parameter, region, valid_digest, Target};

/// The handler of a layer action, if it is one.
/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "BatchCheckLayerAvailability",
        batch_check_layer_availability,
    )
    .on(ON_REPOSITORY),
    Action::new("GetDownloadUrlForLayer", get_download_url_for_layer).on(ON_REPOSITORY),
    Action::new("InitiateLayerUpload", initiate_layer_upload).on(ON_REPOSITORY),
    Action::new("UploadLayerPart", upload_layer_part).on(ON_REPOSITORY),
    Action::new("CompleteLayerUpload", complete_layer_upload).on(ON_REPOSITORY),
];

/// The part size ECR asks for (InitiateLayerUpload's `partSize`).
const PART_SIZE: i64 = 10 * 1024 * 1024;
/// The smallest part but the last.
const MIN_PART: i64 = 5 * 1024 * 1024;

fn batch_check_layer_availability(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let digests = j
        .strings("layerDigests")?
        .ok_or_else(|| crate::protocol::json::missing("layerDigests"))?;
    check_range(
        "layerDigests",
        &format!("<{} digests>", digests.len()),
        "length",
        digests.len() as i64,
        1,
        100,
    )?;
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    let mut layers = Vec::new();
    // (digest, failure code, reason)
    let mut failures: Vec<(&str, &str, &str)> = Vec::new();
    for d in digests {
        if d.is_empty() {
            failures.push((d, "MissingLayerDigest", "The layer digest is missing"));
        } else if !valid_digest(d) {
            failures.push((d, "InvalidLayerDigest", "Invalid layer digest"));
        } else if let Some(layer) = repo.layers.get(d) {
            layers.push((d, layer));
        } else {
            failures.push((d, "MissingLayerDigest", "Could not find layer"));
        }
    }
    let mut w = call.writer();
    w.list("layers", layers, |w, (digest, layer)| {
        w.str("layerDigest", digest)
            .str("layerAvailability", "AVAILABLE")
            .int("layerSize", layer.size)
            .str_opt("mediaType", layer.media_type.as_deref());
    })
    .list("failures", failures, |w, (digest, code, reason)| {
        w.str("layerDigest", digest)
            .str("failureCode", code)
            .str("failureReason", reason);
    });
    w.finish()
}

/// A presigned-looking URL of the layer's blob. Nothing serves it: the registry protocol is not
/// emulated, only the API that hands out URLs.
fn download_url(call: &Call<'_>, registry: &str, digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!(
        "https://prod-{region}-starport-layer-bucket.s3.{region}.amazonaws.com/{registry}/sha256/{hex}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600",
        region = call.region
    )
}

fn get_download_url_for_layer(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let digest = j.required("layerDigest")?;
    if !valid_digest(digest) {
        return Err(invalid_parameter(
            "layerDigest",
            "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
        ));
    }
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    if !repo.layers.contains_key(digest) {
        return Err(AwsError::bad_request(
            "LayersNotFoundException",
            format!(
                "The layer with digest '{digest}' does not exist in the repository with name '{}' in the registry with id '{}'",
                repo.name, repo.registry_id
            ),
        ));
    }
    if !repo.layer_referenced(digest) {
        return Err(AwsError::bad_request(
            "LayerInaccessibleException",
            format!(
                "The layer with digest '{digest}' is not associated with an image in the repository with name '{}' in the registry with id '{}'",
                repo.name, repo.registry_id
            ),
        ));
    }
    let mut w = call.writer();
    w.str("downloadUrl", download_url(call, &repo.registry_id, digest))
        .str("layerDigest", digest);
    w.finish()
}

fn initiate_layer_upload(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let id = call.world.ids.request_id();
    repo.uploads.insert(id.clone(), Upload::new(id.clone()));
    let mut w = call.writer();
    w.str("uploadId", id).int("partSize", PART_SIZE);
    w.finish()
}

fn upload_not_found(target: &Target<'_>, id: &str) -> AwsError {
    AwsError::bad_request(
        "UploadNotFoundException",
        format!(
            "Upload with id '{id}' is not found in the repository with name '{}' in the registry with id '{}'",
            target.name, target.registry
        ),
    )
}

fn check_upload_id(id: &str) -> AwsResult<()> {
    if uuid::Uuid::parse_str(id).is_err() || id.len() != 36 {
        return Err(invalid_parameter(
            "uploadId",
            "must satisfy regular expression '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'",
        ));
    }
    Ok(())
}

fn upload_layer_part(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let upload_id = j.required("uploadId")?;
    let first = j
        .int("partFirstByte")?
        .ok_or_else(|| crate::protocol::json::missing("partFirstByte"))?;
    let last = j
        .int("partLastByte")?
        .ok_or_else(|| crate::protocol::json::missing("partLastByte"))?;
    let blob = j
        .blob("layerPartBlob")?
        .ok_or_else(|| crate::protocol::json::missing("layerPartBlob"))?;
    check_upload_id(upload_id)?;
    check_range(
        "partFirstByte",
        &first.to_string(),
        "value",
        first,
        0,
        i64::MAX,
    )?;
    check_range(
        "partLastByte",
        &last.to_string(),
        "value",
        last,
        0,
        i64::MAX,
    )?;
    check_range(
        "layerPartBlob",
        "<blob>",
        "length",
        blob.len() as i64,
        0,
        20_971_520,
    )?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let upload = repo
        .uploads
        .get_mut(upload_id)
        .ok_or_else(|| upload_not_found(&target, upload_id))?;
    let size = blob.len() as i64;
    let invalid_part = |why: &str| {
        AwsError::bad_request(
            "InvalidLayerPartException",
            format!(
                "{why} (upload '{upload_id}', last valid byte received: {})",
                upload.received - 1
            ),
        )
    };
    if first != upload.received {
        return Err(invalid_part(&format!(
            "The part's first byte {first} is not the byte after the last byte received"
        )));
    }
    if size == 0 || last != first + size - 1 {
        return Err(invalid_part(&format!(
            "The part from byte {first} to byte {last} does not match the {size} bytes sent"
        )));
    }
    upload.hasher.update(&blob);
    upload.received += size;
    upload.parts.push(size);
    let mut w = call.writer();
    w.str("registryId", &target.registry)
        .str("repositoryName", target.name)
        .str("uploadId", upload_id)
        .int("lastByteReceived", last);
    w.finish()
}

fn complete_layer_upload(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let upload_id = j.required("uploadId")?;
    let digests = j
        .strings("layerDigests")?
        .ok_or_else(|| crate::protocol::json::missing("layerDigests"))?;
    check_upload_id(upload_id)?;
    check_range(
        "layerDigests",
        &format!("<{} digests>", digests.len()),
        "length",
        digests.len() as i64,
        1,
        100,
    )?;
    for d in &digests {
        if !valid_digest(d) {
            return Err(invalid_parameter(
                "layerDigests",
                "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
            ));
        }
    }
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let upload = repo
        .uploads
        .get(upload_id)
        .ok_or_else(|| upload_not_found(&target, upload_id))?;
    if upload.parts.is_empty() {
        return Err(AwsError::bad_request(
            "EmptyUploadException",
            format!("No layer parts were uploaded for the upload with id '{upload_id}'"),
        ));
    }
    if upload.parts[..upload.parts.len() - 1]
        .iter()
        .any(|&p| p < MIN_PART)
    {
        return Err(AwsError::bad_request(
            "LayerPartTooSmallException",
            "Layer parts must be at least 5 MiB in size, except the last part",
        ));
    }
    let computed = hex_digest(upload.hasher.clone().finalize().as_slice());
    let size = upload.received;
    if !digests.iter().any(|d| *d == computed) {
        return Err(AwsError::bad_request(
            "InvalidLayerException",
            format!(
                "The calculated digest '{computed}' of the uploaded layer does not match the provided digest '{}'",
                digests.join(", ")
            ),
        ));
    }
    if repo.layers.contains_key(&computed) {
        return Err(AwsError::bad_request(
            "LayerAlreadyExistsException",
            format!(
                "The layer with digest '{computed}' already exists in the repository with name '{}' in the registry with id '{}'",
                target.name, target.registry
            ),
        ));
    }
    repo.uploads.remove(upload_id);
    repo.layers.insert(
        computed.clone(),
        Layer {
            digest: computed.clone(),
            size,
            media_type: None,
        },
    );
    let mut w = call.writer();
    w.str("registryId", &target.registry)
        .str("repositoryName", target.name)
        .str("uploadId", upload_id)
        .str("layerDigest", computed);
    w.finish()
}
