//! ECR repository policies: SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy.
//!
//! A repository policy is a resource policy: SetRepositoryPolicy parses it with the same strict
//! parser the IAM evaluator uses (every statement must name its principals), and refuses what does
//! not parse with ECR's "Invalid repository policy provided".

use crate::iam::PolicyDocument;
use crate::protocol::json::check_range;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;
use crate::state::{read, write};

use super::model::Repository;
use super::ON_REPOSITORY;
use super::{invalid_parameter, region, Target};

/// The handler of a repository policy action, if it is one.
/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("SetRepositoryPolicy", set_repository_policy).on(ON_REPOSITORY),
    Action::new("GetRepositoryPolicy", get_repository_policy).on(ON_REPOSITORY),
    Action::new("DeleteRepositoryPolicy", delete_repository_policy).on(ON_REPOSITORY),
];

fn policy_not_found(repo: &Repository) -> AwsError {
    AwsError::bad_request(
        "RepositoryPolicyNotFoundException",
        format!(
            "Repository policy does not exist for the repository with name '{}' in the registry with id '{}'",
            repo.name, repo.registry_id
        ),
    )
}

/// The answer of the three policy actions: the repository and its (set, current or deleted)
/// policy.
fn answer(call: &Call<'_>, repo: &Repository, policy: &str) -> AwsResult<Output> {
    let mut w = call.writer();
    w.str("registryId", &repo.registry_id)
        .str("repositoryName", &repo.name)
        .str("policyText", policy);
    w.finish()
}

fn set_repository_policy(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let text = j.required("policyText")?;
    // `force` only matters for policies that would lock the caller out, which ECR detects from
    // its own evaluation; awsemu accepts it and sets the policy either way.
    let _force = j.bool("force")?;
    check_range(
        "policyText",
        "<policy>",
        "length",
        text.chars().count() as i64,
        0,
        10_240,
    )?;
    if let Err(e) = PolicyDocument::parse_resource_policy(text) {
        tracing::debug!(error = %e, "repository policy refused");
        return Err(invalid_parameter(
            "PolicyText",
            "Invalid repository policy provided",
        ));
    }
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    repo.policy = Some(text.to_string());
    answer(call, repo, text)
}

fn get_repository_policy(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let lock = region(call)?;
    let r = read(&lock);
    let repo = target.find(call, &r)?;
    let policy = repo
        .policy
        .as_deref()
        .ok_or_else(|| policy_not_found(repo))?;
    answer(call, repo, policy)
}

fn delete_repository_policy(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let target = Target::read(call, &j)?;
    let lock = region(call)?;
    let mut r = write(&lock);
    let repo = target.find_mut(call, &mut r)?;
    let policy = repo.policy.take().ok_or_else(|| policy_not_found(repo))?;
    answer(call, repo, &policy)
}
