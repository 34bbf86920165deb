//! ECR (awsJson1_1, `AmazonEC2ContainerRegistry_V20150921.<Op>`): repositories
//! ([`repositories`]), images ([`images`]), layer uploads and downloads ([`layers`]), repository
//! policies ([`policies`]) and registry login ([`auth`]).
//!
//! Every repository action names its repository the same way (`repositoryName`, optional
//! `registryId`); [`Target`] reads and checks both once, and [`Target::find`] answers AWS's
//! `RepositoryNotFoundException`.

pub mod auth;
pub mod images;
pub mod layers;
pub mod model;
pub mod policies;
pub mod repositories;

use std::sync::{Arc, RwLock};

use crate::protocol::json::{check_range, Obj};
use crate::protocol::{AwsError, AwsResult};
use crate::services::action::{Action, On, Request};
use crate::services::Call;

use model::{EcrRegion, Repository};

/// The ECR actions, by family.
pub const ACTIONS: &[&[Action]] = &[
    repositories::ACTIONS,
    images::ACTIONS,
    layers::ACTIONS,
    policies::ACTIONS,
    auth::ACTIONS,
];

/// An action on the repositories it names: `repositoryName`, or DescribeRepositories'
/// `repositoryNames`, each in the named registry (`registryId`), else the caller's.
pub const ON_REPOSITORY: &[On] = &[On::Custom(on_repositories)];

fn on_repositories(r: &Request<'_>, out: &mut Vec<String>) {
    let registry = r.value("registryId").unwrap_or(r.account);
    let mut names = r.values("repositoryNames");
    names.extend(r.value("repositoryName"));
    for repo in names {
        out.push(format!(
            "arn:aws:ecr:{}:{registry}:repository/{repo}",
            r.region
        ));
    }
}

/// The ECR state of the call's region.
pub fn region(call: &Call<'_>) -> AwsResult<Arc<RwLock<EcrRegion>>> {
    call.world.ecr(call.region).ok_or_else(AwsError::internal)
}

/// `InvalidParameterException` with ECR's "Invalid parameter at '<member>' failed to satisfy
/// constraint: '<rule>'" wording.
pub fn invalid_parameter(member: &str, rule: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidParameterException",
        format!("Invalid parameter at '{member}' failed to satisfy constraint: '{rule}'"),
    )
}

/// The model's repository name pattern, as AWS quotes it.
const NAME_PATTERN: &str =
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*";

/// Whether `name` matches the repository name pattern: `/`-separated components of lower-case
/// letters and digits, joined inside a component by `.`, `_`, `__` or a run of `-`.
pub fn valid_name(name: &str) -> bool {
    name.split('/').all(|component| {
        let bytes = component.as_bytes();
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.first().is_none_or(|b| !alnum(b)) || bytes.last().is_none_or(|b| !alnum(b)) {
            return false;
        }
        // Every run of separators must be one of the allowed ones.
        let mut run = String::new();
        for &b in bytes {
            if alnum(&b) {
                if !(run.is_empty()
                    || run == "."
                    || run == "_"
                    || run == "__"
                    || run.bytes().all(|c| c == b'-'))
                {
                    return false;
                }
                run.clear();
            } else if b == b'.' || b == b'_' || b == b'-' {
                run.push(b as char);
            } else {
                return false;
            }
        }
        true
    })
}

/// Checks a repository name: the model's length (Coral `ValidationException`), then its pattern
/// (ECR's `InvalidParameterException`).
pub fn check_name(name: &str) -> AwsResult<()> {
    check_range(
        "repositoryName",
        name,
        "length",
        name.chars().count() as i64,
        2,
        256,
    )?;
    if !valid_name(name) {
        return Err(invalid_parameter(
            "repositoryName",
            &format!("must satisfy regular expression '{NAME_PATTERN}'"),
        ));
    }
    Ok(())
}

/// Checks an optional `registryId` against the model (12 digits); the registry it names, or the
/// caller's account.
pub fn registry_id(call: &Call<'_>, given: Option<&str>) -> AwsResult<String> {
    match given {
        None => Ok(call.account.to_string()),
        Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => Ok(id.to_string()),
        Some(id) => Err(crate::protocol::json::validation(format!(
            "Value '{id}' at 'registryId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{{12}}"
        ))),
    }
}

/// The repository an action names: `repositoryName` and the registry (`registryId` or the caller's).
pub struct Target<'a> {
    pub name: &'a str,
    pub registry: String,
}

impl<'a> Target<'a> {
    /// Reads and checks `repositoryName` and `registryId`.
    pub fn read(call: &Call<'_>, j: &Obj<'a>) -> AwsResult<Target<'a>> {
        let name = j.required("repositoryName")?;
        let registry = registry_id(call, j.str("registryId")?)?;
        check_name(name)?;
        Ok(Target { name, registry })
    }

    pub fn not_found(&self) -> AwsError {
        AwsError::bad_request(
            "RepositoryNotFoundException",
            format!(
                "The repository with name '{}' does not exist in the registry with id '{}'",
                self.name, self.registry
            ),
        )
    }

    /// The repository, or `RepositoryNotFoundException` (a repository of another registry is
    /// never found: this emulator holds one account).
    pub fn find<'r>(&self, call: &Call<'_>, r: &'r EcrRegion) -> AwsResult<&'r Repository> {
        r.repositories
            .get(self.name)
            .filter(|_| self.registry == call.account)
            .ok_or_else(|| self.not_found())
    }

    pub fn find_mut<'r>(
        &self,
        call: &Call<'_>,
        r: &'r mut EcrRegion,
    ) -> AwsResult<&'r mut Repository> {
        if self.registry != call.account {
            return Err(self.not_found());
        }
        r.repositories
            .get_mut(self.name)
            .ok_or_else(|| self.not_found())
    }
}

/// A layer or image digest as the model allows it (`algorithm:hex`), and as ECR stores them
/// (`sha256:` and 64 hex digits).
pub fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The registry host of the caller's account in the call's region.
pub fn registry_host(call: &Call<'_>, registry: &str) -> String {
    format!("{registry}.dkr.ecr.{}.amazonaws.com", call.region)
}

/// `maxResults`/`nextToken` paging of the ECR list calls: 1–1000 per page, 100 when not given.
pub fn page<T>(
    items: Vec<T>,
    max: Option<i64>,
    token: Option<&str>,
) -> AwsResult<(Vec<T>, Option<String>)> {
    if let Some(m) = max {
        check_range("maxResults", &m.to_string(), "value", m, 1, 1000)?;
    }
    crate::state::paging::page(items, Some(max.unwrap_or(100)), token, (1, 1000))
        .map_err(|_| invalid_parameter("nextToken", "Invalid NextToken"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in [
            "nginx",
            "project-a/nginx-web-app",
            "a.b",
            "a__b",
            "a---b",
            "k8s/pause/v3",
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "Nginx", "-a", "a-", "a..b", "a___b", "a/", "/a", "a//b", "a b", "a._b",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(check_name("a").unwrap_err().code, "ValidationException");
        assert_eq!(
            check_name("UPPER").unwrap_err().code,
            "InvalidParameterException"
        );
        assert!(valid_digest(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ));
        assert!(!valid_digest("sha256:xyz"));
    }
}
