//! ECR repositories: CreateRepository, DescribeRepositories, DeleteRepository.

use std::collections::BTreeMap;

use crate::protocol::json::{check_range, Obj};
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::{read, write};

use super::model::Repository;
use super::ON_REPOSITORY;
use super::{check_name, invalid_parameter, page, region, registry_host, Target};

/// The handler of a repository action, if it is one.
/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateRepository", create_repository).on(ON_REPOSITORY),
    Action::new("DescribeRepositories", describe_repositories).on(ON_REPOSITORY),
    Action::new("DeleteRepository", delete_repository).on(ON_REPOSITORY),
];

/// The members of the `Repository` structure of the answers.
pub fn render(w: &mut Writer, r: &Repository) {
    w.str("repositoryArn", &r.arn)
        .str("registryId", &r.registry_id)
        .str("repositoryName", &r.name)
        .str("repositoryUri", &r.uri)
        .time("createdAt", r.created_ms)
        .str("imageTagMutability", &r.tag_mutability)
        .structure("imageScanningConfiguration", |w| {
            w.bool("scanOnPush", r.scan_on_push);
        })
        .structure("encryptionConfiguration", |w| {
            w.str("encryptionType", &r.encryption_type)
                .str_opt("kmsKey", r.kms_key.as_deref());
        });
}

/// ECR tags (`Key`/`Value`), with ECR's limits: 50 tags, keys 1–128 and values 0–256 characters,
/// no `aws:` prefix.
fn read_tags(tags: Vec<Obj<'_>>) -> AwsResult<Vec<(String, String)>> {
    if tags.len() > 50 {
        return Err(AwsError::bad_request(
            "TooManyTagsException",
            "The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.",
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags {
        let key = t.required("Key")?;
        let value = t.required("Value")?;
        let klen = key.chars().count();
        if klen == 0 || klen > 128 || value.chars().count() > 256 {
            return Err(AwsError::bad_request(
                "InvalidTagParameterException",
                "Tag keys can have a maximum character length of 128 characters, and tag values can have a maximum length of 256 characters.",
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(AwsError::bad_request(
                "InvalidTagParameterException",
                "Tag keys beginning with 'aws:' are reserved.",
            ));
        }
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value.to_string(),
            None => out.push((key.to_string(), value.to_string())),
        }
    }
    Ok(out)
}

fn create_repository(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let tags = read_tags(j.objects("tags")?.unwrap_or_default())?;
    let mutability = j.str("imageTagMutability")?.unwrap_or("MUTABLE");
    let exclusions = j.objects("imageTagMutabilityExclusionFilters")?;
    let scan_on_push = match j.object("imageScanningConfiguration")? {
        Some(c) => c.bool("scanOnPush")?.unwrap_or(false),
        None => false,
    };
    let (encryption_type, kms_key) = match j.object("encryptionConfiguration")? {
        Some(c) => (
            c.required("encryptionType")?.to_string(),
            c.str("kmsKey")?.map(str::to_string),
        ),
        None => ("AES256".to_string(), None),
    };

    match mutability {
        "MUTABLE" | "IMMUTABLE" => {}
        "MUTABLE_WITH_EXCLUSION" | "IMMUTABLE_WITH_EXCLUSION" => {
            return Err(AwsError::not_emulated(
                "ecr",
                "CreateRepository with image tag mutability exclusion filters",
            ))
        }
        other => {
            return Err(invalid_parameter(
                "imageTagMutability",
                &format!("Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION] (got {other})"),
            ))
        }
    }
    if exclusions.is_some() {
        return Err(invalid_parameter(
            "imageTagMutabilityExclusionFilters",
            "exclusion filters need imageTagMutability MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION",
        ));
    }
    let kms_key = match encryption_type.as_str() {
        "AES256" if kms_key.is_some() => {
            return Err(invalid_parameter(
                "encryptionConfiguration",
                "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE",
            ))
        }
        "AES256" => None,
        "KMS" | "KMS_DSSE" => {
            if let Some(k) = &kms_key {
                check_range("kmsKey", k, "length", k.chars().count() as i64, 1, 2048)?;
            }
            // The KMS lock is taken and released here, before the ECR lock.
            let key =
                crate::services::kms::encryption_key(call, kms_key.as_deref(), "alias/aws/ecr")?;
            if !key.usable {
                return Err(AwsError::bad_request(
                    "KmsException",
                    format!("The KMS key {} is not usable: it does not exist, is not enabled or is not a symmetric encryption key", key.shown),
                ));
            }
            Some(key.shown)
        }
        other => {
            return Err(invalid_parameter(
                "encryptionConfiguration.encryptionType",
                &format!(
                    "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE] (got {other})"
                ),
            ))
        }
    };
    if target.registry != call.account {
        return Err(invalid_parameter(
            "registryId",
            "A repository can only be created in the registry of the caller's account",
        ));
    }

    let lock = region(call)?;
    let mut r = write(&lock);
    if r.repositories.contains_key(target.name) {
        return Err(AwsError::bad_request(
            "RepositoryAlreadyExistsException",
            format!(
                "The repository with name '{}' already exists in the registry with id '{}'",
                target.name, target.registry
            ),
        ));
    }
    let repo = Repository {
        name: target.name.to_string(),
        arn: format!(
            "arn:aws:ecr:{}:{}:repository/{}",
            call.region, target.registry, target.name
        ),
        uri: format!("{}/{}", registry_host(call, &target.registry), target.name),
        registry_id: target.registry.clone(),
        created_ms: call.now_ms,
        tag_mutability: mutability.to_string(),
        scan_on_push,
        encryption_type,
        kms_key,
        tags,
        policy: None,
        images: BTreeMap::new(),
        image_tags: BTreeMap::new(),
        layers: BTreeMap::new(),
        uploads: BTreeMap::new(),
    };
    let mut w = call.writer();
    w.structure("repository", |w| render(w, &repo));
    r.repositories.insert(repo.name.clone(), repo);
    w.finish()
}

fn describe_repositories(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let registry = super::registry_id(call, j.str("registryId")?)?;
    let names = j.strings("repositoryNames")?;
    let token = j.str("nextToken")?;
    let max = j.int("maxResults")?;
    if let Some(names) = &names {
        check_range(
            "repositoryNames",
            &format!("{names:?}"),
            "length",
            names.len() as i64,
            1,
            100,
        )?;
        for n in names {
            check_name(n)?;
        }
        if max.is_some() || token.is_some() {
            return Err(invalid_parameter(
                "maxResults",
                "maxResults and nextToken cannot be used when repositoryNames are specified",
            ));
        }
    }
    let lock = region(call)?;
    let r = read(&lock);
    let repos: Vec<&Repository> = match &names {
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                let target = Target {
                    name: n,
                    registry: registry.clone(),
                };
                out.push(target.find(call, &r)?);
            }
            out
        }
        None if registry != call.account => Vec::new(),
        None => r.repositories.values().collect(),
    };
    let (repos, next) = page(repos, max, token)?;
    let mut w = call.writer();
    w.list("repositories", repos, render)
        .str_opt("nextToken", next);
    w.finish()
}

fn delete_repository(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let force = j.bool("force")?.unwrap_or(false);
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find(call, &r)?;
    if !repo.images.is_empty() && !force {
        return Err(AwsError::bad_request(
            "RepositoryNotEmptyException",
            format!(
                "The repository with name '{}' in registry with id '{}' cannot be deleted because it still contains images",
                target.name, target.registry
            ),
        ));
    }
    let mut w = call.writer();
    w.structure("repository", |w| render(w, repo));
    r.repositories.remove(target.name);
    w.finish()
}
