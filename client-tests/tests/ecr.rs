//! ECR through aws-sdk-ecr: repositories, the push flow (layer check, upload, image manifest),
//! the pull flow (image by tag or digest, layer download URL), tag mutability, repository
//! policies, registry login tokens, and every error those answer.

use aws_sdk_ecr::primitives::{Blob, DateTime};
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageIdentifier, ImageTagMutability,
    LayerAvailability, LayerFailureCode, ListImagesFilter, Tag, TagStatus,
};
use awsemu::Emulator;
use base64::Engine;
use client_tests::{ecr, expect_err, kms};

const ACCOUNT: &str = "123456789012";
const START_MS: i64 = 1_800_000_000_000;
const LAYER_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const CONFIG_TYPE: &str = "application/vnd.docker.container.image.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";

async fn start(seed: u64) -> Emulator {
    Emulator::builder()
        .seed(seed)
        .manual_clock(START_MS)
        .start()
        .await
        .expect("the emulator starts")
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

async fn repo(c: &aws_sdk_ecr::Client, name: &str) {
    c.create_repository()
        .repository_name(name)
        .send()
        .await
        .expect("create repository");
}

/// Uploads `bytes` as one layer and returns its digest.
async fn upload(c: &aws_sdk_ecr::Client, repo: &str, bytes: &[u8]) -> String {
    let init = c
        .initiate_layer_upload()
        .repository_name(repo)
        .send()
        .await
        .unwrap();
    let id = init.upload_id().unwrap().to_string();
    let part = c
        .upload_layer_part()
        .repository_name(repo)
        .upload_id(&id)
        .part_first_byte(0)
        .part_last_byte(bytes.len() as i64 - 1)
        .layer_part_blob(Blob::new(bytes.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(part.last_byte_received(), Some(bytes.len() as i64 - 1));
    let digest = sha256(bytes);
    let done = c
        .complete_layer_upload()
        .repository_name(repo)
        .upload_id(&id)
        .layer_digests(&digest)
        .send()
        .await
        .unwrap();
    assert_eq!(done.layer_digest(), Some(digest.as_str()));
    assert_eq!(done.upload_id(), Some(id.as_str()));
    digest
}

/// A docker v2 image manifest of a config blob and layers.
fn manifest(config: &str, layers: &[(&str, usize)]) -> String {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "size": 7, "digest": config},
        "layers": layers.iter().map(|(d, size)| serde_json::json!({"mediaType": LAYER_TYPE, "size": size, "digest": d})).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Pushes a small image (one config blob, one layer) tagged `tag`; returns (manifest digest, layer digest).
async fn push(c: &aws_sdk_ecr::Client, repo: &str, tag: &str, content: &[u8]) -> (String, String) {
    let config = upload(c, repo, &[content, b"-config"].concat()).await;
    let layer = upload(c, repo, content).await;
    let m = manifest(&config, &[(&layer, content.len())]);
    let out = c
        .put_image()
        .repository_name(repo)
        .image_manifest(&m)
        .image_tag(tag)
        .send()
        .await
        .unwrap();
    let image = out.image().unwrap();
    let digest = image
        .image_id()
        .unwrap()
        .image_digest()
        .unwrap()
        .to_string();
    assert_eq!(
        digest,
        sha256(m.as_bytes()),
        "the digest is the sha256 of the manifest bytes"
    );
    (digest, layer)
}

#[tokio::test]
async fn repositories_create_describe_page_delete() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    let out = c
        .create_repository()
        .repository_name("project-a/nginx-web-app")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .tags(Tag::builder().key("team").value("web").build().unwrap())
        .send()
        .await
        .unwrap();
    let r = out.repository().unwrap();
    assert_eq!(
        r.repository_arn(),
        Some(
            format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/project-a/nginx-web-app").as_str()
        )
    );
    assert_eq!(
        r.repository_uri(),
        Some(format!("{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/project-a/nginx-web-app").as_str())
    );
    assert_eq!(r.registry_id(), Some(ACCOUNT));
    assert_eq!(r.created_at(), Some(&DateTime::from_millis(START_MS)));
    assert_eq!(
        r.image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );
    assert_eq!(
        r.image_scanning_configuration().map(|s| s.scan_on_push()),
        Some(false)
    );
    assert_eq!(
        r.encryption_configuration()
            .map(|e| e.encryption_type().clone()),
        Some(EncryptionType::Aes256)
    );

    let (code, msg, status) = expect_err!(
        c.create_repository()
            .repository_name("project-a/nginx-web-app")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str(), status),
        (
            "RepositoryAlreadyExistsException",
            format!("The repository with name 'project-a/nginx-web-app' already exists in the registry with id '{ACCOUNT}'").as_str(),
            400
        )
    );
    for (bad, want) in [
        ("Upper", "InvalidParameterException"),
        ("a..b", "InvalidParameterException"),
        ("trailing/", "InvalidParameterException"),
        ("a", "ValidationException"),
    ] {
        let (code, msg, _) = expect_err!(c.create_repository().repository_name(bad).send().await);
        assert_eq!(code, want, "{bad}: {msg}");
    }
    let many: Vec<Tag> = (0..51)
        .map(|i| {
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap()
        })
        .collect();
    let (code, _, _) = expect_err!(
        c.create_repository()
            .repository_name("tagged")
            .set_tags(Some(many))
            .send()
            .await
    );
    assert_eq!(code, "TooManyTagsException");

    for name in ["b-repo", "c-repo", "d-repo"] {
        repo(&c, name).await;
    }
    let all = c.describe_repositories().send().await.unwrap();
    assert_eq!(all.repositories().len(), 4);
    assert!(all.next_token().is_none());
    let page = c
        .describe_repositories()
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.repositories().len(), 3);
    let rest = c
        .describe_repositories()
        .max_results(3)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.repositories().len(), 1);
    assert!(rest.next_token().is_none());
    let one = c
        .describe_repositories()
        .repository_names("c-repo")
        .send()
        .await
        .unwrap();
    assert_eq!(one.repositories()[0].repository_name(), Some("c-repo"));
    let (code, msg, _) = expect_err!(
        c.describe_repositories()
            .repository_names("c-repo")
            .repository_names("nope")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "RepositoryNotFoundException",
            format!("The repository with name 'nope' does not exist in the registry with id '{ACCOUNT}'").as_str()
        )
    );
    let (code, _, _) = expect_err!(
        c.describe_repositories()
            .repository_names("c-repo")
            .max_results(1)
            .send()
            .await
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _, _) = expect_err!(c.describe_repositories().next_token("bogus").send().await);
    assert_eq!(code, "InvalidParameterException");
    let (code, _, _) = expect_err!(c.describe_repositories().max_results(0).send().await);
    assert_eq!(code, "ValidationException");

    let deleted = c
        .delete_repository()
        .repository_name("b-repo")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.repository().unwrap().repository_name(),
        Some("b-repo")
    );
    let (code, _, _) = expect_err!(c.delete_repository().repository_name("b-repo").send().await);
    assert_eq!(code, "RepositoryNotFoundException");
    // Another registry's repository is never found here.
    let (code, msg, _) = expect_err!(
        c.describe_repositories()
            .registry_id("210987654321")
            .repository_names("c-repo")
            .send()
            .await
    );
    assert_eq!(code, "RepositoryNotFoundException");
    assert!(msg.contains("'210987654321'"), "{msg}");
}

#[tokio::test]
async fn kms_encrypted_repositories_check_their_key() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    let k = kms(&emu, "admin");
    let kms_config = |key: Option<&str>| {
        EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::Kms)
            .set_kms_key(key.map(str::to_string))
            .build()
            .unwrap()
    };
    let out = c
        .create_repository()
        .repository_name("default-key")
        .encryption_configuration(kms_config(None))
        .send()
        .await
        .unwrap();
    let managed = k
        .describe_key()
        .key_id("alias/aws/ecr")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.repository()
            .unwrap()
            .encryption_configuration()
            .unwrap()
            .kms_key(),
        managed.key_metadata().unwrap().arn()
    );
    let key = k.create_key().send().await.unwrap().key_metadata.unwrap();
    let out = c
        .create_repository()
        .repository_name("own-key")
        .encryption_configuration(kms_config(Some(&key.key_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.repository()
            .unwrap()
            .encryption_configuration()
            .unwrap()
            .kms_key(),
        key.arn()
    );
    k.disable_key().key_id(&key.key_id).send().await.unwrap();
    let (code, _, status) = expect_err!(
        c.create_repository()
            .repository_name("disabled-key")
            .encryption_configuration(kms_config(Some(&key.key_id)))
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("KmsException", 400));
    let (code, _, _) = expect_err!(
        c.describe_repositories()
            .repository_names("disabled-key")
            .send()
            .await
    );
    assert_eq!(
        code, "RepositoryNotFoundException",
        "a refused create makes nothing"
    );
}

#[tokio::test]
async fn push_then_pull_an_image() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    repo(&c, "app").await;
    let content = b"layer bytes";
    let layer_digest = sha256(content);
    // Before the push: the layer is missing.
    let check = c
        .batch_check_layer_availability()
        .repository_name("app")
        .layer_digests(&layer_digest)
        .layer_digests("not-a-digest")
        .send()
        .await
        .unwrap();
    assert!(check.layers().is_empty());
    assert_eq!(check.failures().len(), 2);
    assert_eq!(
        check.failures()[0].failure_code(),
        Some(&LayerFailureCode::MissingLayerDigest)
    );
    assert_eq!(
        check.failures()[1].failure_code(),
        Some(&LayerFailureCode::InvalidLayerDigest)
    );

    let init = c
        .initiate_layer_upload()
        .repository_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(init.part_size(), Some(10 * 1024 * 1024));
    assert!(uuid_like(init.upload_id().unwrap()));

    let (digest, layer) = push(&c, "app", "v1", content).await;
    assert_eq!(layer, layer_digest);
    let check = c
        .batch_check_layer_availability()
        .repository_name("app")
        .layer_digests(&layer)
        .send()
        .await
        .unwrap();
    let l = &check.layers()[0];
    assert_eq!(l.layer_availability(), Some(&LayerAvailability::Available));
    assert_eq!(l.layer_size(), Some(content.len() as i64));
    assert_eq!(l.media_type(), Some(LAYER_TYPE));

    let listed = c.list_images().repository_name("app").send().await.unwrap();
    assert_eq!(listed.image_ids().len(), 1);
    assert_eq!(listed.image_ids()[0].image_tag(), Some("v1"));
    assert_eq!(listed.image_ids()[0].image_digest(), Some(digest.as_str()));

    let got = c
        .batch_get_image()
        .repository_name("app")
        .image_ids(ImageIdentifier::builder().image_tag("v1").build())
        .image_ids(ImageIdentifier::builder().image_digest(&digest).build())
        .image_ids(ImageIdentifier::builder().image_tag("nope").build())
        .image_ids(ImageIdentifier::builder().build())
        .image_ids(ImageIdentifier::builder().image_digest("sha256:zz").build())
        .send()
        .await
        .unwrap();
    assert_eq!(got.images().len(), 2);
    let by_tag = &got.images()[0];
    assert_eq!(by_tag.image_id().unwrap().image_tag(), Some("v1"));
    assert_eq!(
        by_tag.image_id().unwrap().image_digest(),
        Some(digest.as_str())
    );
    assert_eq!(by_tag.image_manifest_media_type(), Some(MANIFEST_TYPE));
    assert_eq!(sha256(by_tag.image_manifest().unwrap().as_bytes()), digest);
    let failures: Vec<(&str, &str)> = got
        .failures()
        .iter()
        .map(|f| {
            (
                f.failure_code().map(|c| c.as_str()).unwrap_or(""),
                f.failure_reason().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            ("ImageNotFound", "Requested image not found"),
            ("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"),
            ("InvalidImageDigest", "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"),
        ]
    );
    assert_eq!(
        got.failures()[0].image_id().unwrap().image_tag(),
        Some("nope")
    );

    let url = c
        .get_download_url_for_layer()
        .repository_name("app")
        .layer_digest(&layer)
        .send()
        .await
        .unwrap();
    assert_eq!(url.layer_digest(), Some(layer.as_str()));
    assert!(url.download_url().unwrap().starts_with("https://"));

    // A layer that no image references cannot be downloaded; an unknown one does not exist.
    let orphan = upload(&c, "app", b"orphan").await;
    let (code, _, status) = expect_err!(
        c.get_download_url_for_layer()
            .repository_name("app")
            .layer_digest(&orphan)
            .send()
            .await
    );
    assert_eq!((code.as_str(), status), ("LayerInaccessibleException", 400));
    let (code, _, _) = expect_err!(
        c.get_download_url_for_layer()
            .repository_name("app")
            .layer_digest(sha256(b"never"))
            .send()
            .await
    );
    assert_eq!(code, "LayersNotFoundException");
    let (code, _, _) = expect_err!(
        c.get_download_url_for_layer()
            .repository_name("missing")
            .layer_digest(&layer)
            .send()
            .await
    );
    assert_eq!(code, "RepositoryNotFoundException");
    // The worker role can pull (its policy allows the read actions).
    let w = ecr(&emu, "worker");
    let pulled = w
        .batch_get_image()
        .repository_name("app")
        .image_ids(ImageIdentifier::builder().image_tag("v1").build())
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.images().len(), 1);
    let (code, _, _) = expect_err!(w.create_repository().repository_name("nope").send().await);
    assert_eq!(code, "AccessDeniedException");
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == vec![8, 4, 4, 4, 12]
}

#[tokio::test]
async fn layer_upload_errors() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    repo(&c, "up").await;
    let start_upload = || async {
        c.initiate_layer_upload()
            .repository_name("up")
            .send()
            .await
            .unwrap()
            .upload_id
            .unwrap()
    };
    let part = |id: &str, first: i64, bytes: &[u8]| {
        c.upload_layer_part()
            .repository_name("up")
            .upload_id(id)
            .part_first_byte(first)
            .part_last_byte(first + bytes.len() as i64 - 1)
            .layer_part_blob(Blob::new(bytes.to_vec()))
            .send()
    };
    let complete = |id: &str, digest: &str| {
        c.complete_layer_upload()
            .repository_name("up")
            .upload_id(id)
            .layer_digests(digest)
            .send()
    };
    let unknown = "0f0e0d0c-0b0a-4909-8807-060504030201";
    let (code, _, _) = expect_err!(part(unknown, 0, b"x").await);
    assert_eq!(code, "UploadNotFoundException");
    let (code, _, _) = expect_err!(part("not-an-upload-id", 0, b"x").await);
    assert_eq!(code, "InvalidParameterException");
    let (code, _, _) = expect_err!(complete(unknown, &sha256(b"x")).await);
    assert_eq!(code, "UploadNotFoundException");

    let id = start_upload().await;
    let (code, _, _) = expect_err!(complete(&id, &sha256(b"")).await);
    assert_eq!(code, "EmptyUploadException");
    let (code, _, _) = expect_err!(part(&id, 5, b"abc").await);
    assert_eq!(
        code, "InvalidLayerPartException",
        "parts must be consecutive"
    );
    part(&id, 0, b"abc").await.unwrap();
    let (code, _, _) = expect_err!(part(&id, 0, b"abc").await);
    assert_eq!(
        code, "InvalidLayerPartException",
        "a part cannot be sent twice"
    );
    let (code, _, _) = expect_err!(
        c.upload_layer_part()
            .repository_name("up")
            .upload_id(&id)
            .part_first_byte(3)
            .part_last_byte(10)
            .layer_part_blob(Blob::new(b"de".to_vec()))
            .send()
            .await
    );
    assert_eq!(
        code, "InvalidLayerPartException",
        "the byte range must match the blob"
    );
    part(&id, 3, b"def").await.unwrap();
    // Two parts, the first under 5 MiB.
    let (code, _, _) = expect_err!(complete(&id, &sha256(b"abcdef")).await);
    assert_eq!(code, "LayerPartTooSmallException");

    let id = start_upload().await;
    part(&id, 0, b"abcdef").await.unwrap();
    let (code, msg, _) = expect_err!(complete(&id, &sha256(b"something else")).await);
    assert_eq!(code, "InvalidLayerException", "{msg}");
    let (code, _, _) = expect_err!(complete(&id, "sha256:nothex").await);
    assert_eq!(code, "InvalidParameterException");
    complete(&id, &sha256(b"abcdef")).await.unwrap();
    let (code, _, _) = expect_err!(complete(&id, &sha256(b"abcdef")).await);
    assert_eq!(
        code, "UploadNotFoundException",
        "a completed upload is gone"
    );

    let again = start_upload().await;
    part(&again, 0, b"abcdef").await.unwrap();
    let (code, _, _) = expect_err!(complete(&again, &sha256(b"abcdef")).await);
    assert_eq!(code, "LayerAlreadyExistsException");
    let (code, _, _) = expect_err!(
        c.initiate_layer_upload()
            .repository_name("nope")
            .send()
            .await
    );
    assert_eq!(code, "RepositoryNotFoundException");
}

#[tokio::test]
async fn put_image_rules_and_tag_mutability() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    repo(&c, "mutable").await;
    let (d1, _) = push(&c, "mutable", "latest", b"one").await;
    let put = |repo: &str, manifest: &str, tag: Option<&str>| {
        c.put_image()
            .repository_name(repo)
            .image_manifest(manifest)
            .set_image_tag(tag.map(str::to_string))
            .send()
    };
    // Same manifest, same tag: nothing changed.
    let m1 = c
        .batch_get_image()
        .repository_name("mutable")
        .image_ids(ImageIdentifier::builder().image_digest(&d1).build())
        .send()
        .await
        .unwrap()
        .images()[0]
        .image_manifest()
        .unwrap()
        .to_string();
    let (code, msg, _) = expect_err!(put("mutable", &m1, Some("latest")).await);
    assert_eq!(code, "ImageAlreadyExistsException");
    assert_eq!(
        msg,
        format!("Image with digest '{d1}' and tag 'latest' already exists in the repository with name 'mutable' in registry with id '{ACCOUNT}'")
    );
    // Another tag on the same image.
    put("mutable", &m1, Some("stable")).await.unwrap();
    // Moving `latest` to a new image leaves the old one with `stable` only.
    let (d2, _) = push(&c, "mutable", "latest", b"two").await;
    let ids = c
        .list_images()
        .repository_name("mutable")
        .send()
        .await
        .unwrap();
    let mut pairs: Vec<(String, String)> = ids
        .image_ids()
        .iter()
        .map(|i| {
            (
                i.image_tag().unwrap_or("").to_string(),
                i.image_digest().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("latest".to_string(), d2.clone()),
            ("stable".to_string(), d1.clone())
        ]
    );
    // Untagged images and the tag filter.
    let c3 = upload(&c, "mutable", b"three-config").await;
    let l3 = upload(&c, "mutable", b"three").await;
    let m3 = manifest(&c3, &[(&l3, 5)]);
    let untagged = put("mutable", &m3, None).await.unwrap();
    assert!(untagged
        .image()
        .unwrap()
        .image_id()
        .unwrap()
        .image_tag()
        .is_none());
    let only_untagged = c
        .list_images()
        .repository_name("mutable")
        .filter(
            ListImagesFilter::builder()
                .tag_status(TagStatus::Untagged)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(only_untagged.image_ids().len(), 1);
    assert_eq!(
        only_untagged.image_ids()[0].image_digest(),
        Some(sha256(m3.as_bytes()).as_str())
    );
    let tagged = c
        .list_images()
        .repository_name("mutable")
        .filter(
            ListImagesFilter::builder()
                .tag_status(TagStatus::Tagged)
                .build(),
        )
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.image_ids().len(), 1);
    assert!(tagged.next_token().is_some());

    // DescribeImages: details of all images, or of the ones asked for.
    let all = c
        .describe_images()
        .repository_name("mutable")
        .send()
        .await
        .unwrap();
    assert_eq!(all.image_details().len(), 3);
    let one = c
        .describe_images()
        .repository_name("mutable")
        .image_ids(ImageIdentifier::builder().image_tag("stable").build())
        .send()
        .await
        .unwrap();
    let d = &one.image_details()[0];
    assert_eq!(d.image_digest(), Some(d1.as_str()));
    assert_eq!(d.image_tags(), ["stable"]);
    assert_eq!(
        d.image_size_in_bytes(),
        Some(3),
        "the layer sizes of the manifest"
    );
    assert_eq!(d.image_manifest_media_type(), Some(MANIFEST_TYPE));
    assert_eq!(d.artifact_media_type(), Some(CONFIG_TYPE));
    assert_eq!(d.image_pushed_at(), Some(&DateTime::from_millis(START_MS)));
    let untagged_only = c
        .describe_images()
        .repository_name("mutable")
        .filter(
            aws_sdk_ecr::types::DescribeImagesFilter::builder()
                .tag_status(TagStatus::Untagged)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(untagged_only.image_details().len(), 1);
    assert!(untagged_only.image_details()[0].image_tags().is_empty());
    let (code, msg, _) = expect_err!(
        c.describe_images()
            .repository_name("mutable")
            .image_ids(ImageIdentifier::builder().image_tag("gone").build())
            .send()
            .await
    );
    assert_eq!(code, "ImageNotFoundException");
    assert_eq!(
        msg,
        format!("The image with imageId {{imageDigest:'null', imageTag:'gone'}} does not exist within the repository with name 'mutable' in the registry with id '{ACCOUNT}'")
    );

    // Errors.
    let missing_layer = sha256(b"never uploaded");
    let (code, msg, _) =
        expect_err!(put("mutable", &manifest(&c3, &[(&missing_layer, 1)]), Some("x")).await);
    assert_eq!(code, "LayersNotFoundException");
    assert!(msg.contains(&missing_layer), "{msg}");
    let (code, msg, _) = expect_err!(put("mutable", "{not json", Some("x")).await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InvalidParameterException",
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        )
    );
    let (code, _, _) = expect_err!(put("mutable", r#"{"schemaVersion": 2}"#, Some("x")).await);
    assert_eq!(code, "InvalidParameterException");
    let (code, _, _) = expect_err!(
        c.put_image()
            .repository_name("mutable")
            .image_manifest(&m1)
            .image_tag("y")
            .image_digest(sha256(b"other"))
            .send()
            .await
    );
    assert_eq!(code, "ImageDigestDoesNotMatchException");
    let (code, _, _) = expect_err!(put("nope", &m1, Some("x")).await);
    assert_eq!(code, "RepositoryNotFoundException");

    // A manifest list must reference images of the repository.
    let list = |digests: &[&str]| {
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "manifests": digests.iter().map(|d| serde_json::json!({"mediaType": MANIFEST_TYPE, "size": 1, "digest": d, "platform": {"architecture": "amd64", "os": "linux"}})).collect::<Vec<_>>(),
        })
        .to_string()
    };
    let (code, _, _) =
        expect_err!(put("mutable", &list(&[&d1, &missing_layer]), Some("multi")).await);
    assert_eq!(code, "ReferencedImagesNotFoundException");
    put("mutable", &list(&[&d1, &d2]), Some("multi"))
        .await
        .unwrap();
    let del = c
        .batch_delete_image()
        .repository_name("mutable")
        .image_ids(ImageIdentifier::builder().image_digest(&d1).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        del.failures()[0].failure_code().map(|c| c.as_str()),
        Some("ImageReferencedByManifestList")
    );

    // Immutable tags cannot move.
    c.create_repository()
        .repository_name("immutable")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .send()
        .await
        .unwrap();
    push(&c, "immutable", "v1", b"one").await;
    let c2 = upload(&c, "immutable", b"two-config").await;
    let l2 = upload(&c, "immutable", b"two").await;
    let (code, msg, _) =
        expect_err!(put("immutable", &manifest(&c2, &[(&l2, 3)]), Some("v1")).await);
    assert_eq!(code, "ImageTagAlreadyExistsException");
    assert_eq!(
        msg,
        "The image tag 'v1' already exists in the 'immutable' repository and cannot be overwritten because the repository is immutable."
    );
}

#[tokio::test]
async fn deleting_images_and_repositories() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    repo(&c, "full").await;
    let (digest, _) = push(&c, "full", "v1", b"content").await;
    let (code, msg, _) = expect_err!(c.delete_repository().repository_name("full").send().await);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "RepositoryNotEmptyException",
            format!("The repository with name 'full' in registry with id '{ACCOUNT}' cannot be deleted because it still contains images").as_str()
        )
    );
    // Deleting the last tag deletes the image.
    let del = c
        .batch_delete_image()
        .repository_name("full")
        .image_ids(ImageIdentifier::builder().image_tag("v1").build())
        .image_ids(ImageIdentifier::builder().image_tag("v1").build())
        .send()
        .await
        .unwrap();
    assert_eq!(del.image_ids().len(), 1);
    assert_eq!(del.image_ids()[0].image_digest(), Some(digest.as_str()));
    assert_eq!(
        del.failures()[0].failure_code().map(|c| c.as_str()),
        Some("ImageNotFound")
    );
    assert!(c
        .list_images()
        .repository_name("full")
        .send()
        .await
        .unwrap()
        .image_ids()
        .is_empty());
    c.delete_repository()
        .repository_name("full")
        .send()
        .await
        .unwrap();

    repo(&c, "forced").await;
    push(&c, "forced", "v1", b"content").await;
    c.delete_repository()
        .repository_name("forced")
        .force(true)
        .send()
        .await
        .unwrap();
    let (code, _, _) = expect_err!(c.list_images().repository_name("forced").send().await);
    assert_eq!(code, "RepositoryNotFoundException");
}

#[tokio::test]
async fn repository_policies() {
    let emu = start(1).await;
    let c = ecr(&emu, "admin");
    repo(&c, "shared").await;
    let missing = format!(
        "Repository policy does not exist for the repository with name 'shared' in the registry with id '{ACCOUNT}'"
    );
    let (code, msg, _) = expect_err!(
        c.get_repository_policy()
            .repository_name("shared")
            .send()
            .await
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("RepositoryPolicyNotFoundException", missing.as_str())
    );
    let invalid = "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'";
    for bad in [
        "not json",
        // A resource policy must name its principals.
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
    ] {
        let (code, msg, _) = expect_err!(
            c.set_repository_policy()
                .repository_name("shared")
                .policy_text(bad)
                .send()
                .await
        );
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("InvalidParameterException", invalid),
            "{bad}"
        );
    }
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"pull","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}}]}}"#
    );
    let set = c
        .set_repository_policy()
        .repository_name("shared")
        .policy_text(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(set.policy_text(), Some(policy.as_str()));
    assert_eq!(set.registry_id(), Some(ACCOUNT));
    let got = c
        .get_repository_policy()
        .repository_name("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy_text(), Some(policy.as_str()));
    assert_eq!(got.repository_name(), Some("shared"));
    let deleted = c
        .delete_repository_policy()
        .repository_name("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.policy_text(), Some(policy.as_str()));
    let (code, _, _) = expect_err!(
        c.delete_repository_policy()
            .repository_name("shared")
            .send()
            .await
    );
    assert_eq!(code, "RepositoryPolicyNotFoundException");
    let (code, _, _) = expect_err!(
        c.set_repository_policy()
            .repository_name("nope")
            .policy_text(&policy)
            .send()
            .await
    );
    assert_eq!(code, "RepositoryNotFoundException");
}

#[tokio::test]
#[allow(deprecated)] // registryIds is deprecated in the model, but still answered per registry
async fn authorization_tokens_are_docker_logins_valid_for_twelve_hours() {
    let emu = start(5).await;
    // The worker role is allowed to log in (the cloud provider's credential provider does this).
    let c = ecr(&emu, "worker");
    let out = c.get_authorization_token().send().await.unwrap();
    let data = &out.authorization_data()[0];
    assert_eq!(out.authorization_data().len(), 1);
    assert_eq!(
        data.proxy_endpoint(),
        Some(format!("https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com").as_str())
    );
    assert_eq!(
        data.expires_at(),
        Some(&DateTime::from_millis(START_MS + 12 * 3_600_000))
    );
    let token = data.authorization_token().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    let decoded = String::from_utf8(decoded).unwrap();
    let (user, password) = decoded.split_once(':').unwrap();
    assert_eq!(user, "AWS");
    assert!(password.len() > 100, "{password}");
    // Deterministic for a seed: a fresh emulator with the same seed hands out the same token.
    let twin = start(5).await;
    let twin_token = ecr(&twin, "worker")
        .get_authorization_token()
        .send()
        .await
        .unwrap()
        .authorization_data()[0]
        .authorization_token()
        .unwrap()
        .to_string();
    assert_eq!(twin_token, token);
    // One entry per registry asked for.
    let two = ecr(&emu, "admin")
        .get_authorization_token()
        .registry_ids(ACCOUNT)
        .registry_ids("210987654321")
        .send()
        .await
        .unwrap();
    assert_eq!(two.authorization_data().len(), 2);
    assert_eq!(
        two.authorization_data()[1].proxy_endpoint(),
        Some("https://210987654321.dkr.ecr.us-east-1.amazonaws.com")
    );
    let (code, _, _) = expect_err!(
        ecr(&emu, "admin")
            .get_authorization_token()
            .registry_ids("12")
            .send()
            .await
    );
    assert_eq!(code, "ValidationException");
}
