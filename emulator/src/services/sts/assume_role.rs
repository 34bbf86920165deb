//! AssumeRole: temporary credentials for a session of a role, when the caller may have them.
//!
//! Two checks, as in AWS: the caller's own policies must allow `sts:AssumeRole` on the role ARN
//! (the pipeline does this before the handler runs, against `RoleArn`), and the role's trust
//! policy must allow the caller (here, through the same resource-policy evaluator, with the
//! request's global keys plus `sts:ExternalId` and `sts:RoleSessionName`). A role that does not
//! exist is refused in the same words as an untrusting one, so that callers cannot probe for roles.
//!
//! The credentials (`ASIA…`, secret, token) are registered with the identities, expire on the
//! virtual clock (`ExpiredToken` after), and act as `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`
//! held to the role's policies as they are at each call.

use crate::iam::{evaluate_resource_policy, Caller};
use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::iam::is_name;
use crate::services::Call;

/// Sessions made by a role session (role chaining) last at most an hour.
const CHAINED_MAX_SECS: i64 = 3600;
const DEFAULT_DURATION_SECS: i64 = 3600;

/// The members awsemu refuses rather than ignores: each changes what the session may do
/// (session policies and tags narrow or extend it, MFA and contexts gate it), so accepting one
/// without enforcing it would hand out more than AWS does.
const UNSUPPORTED: &[&str] = &[
    "Policy",
    "PolicyArns",
    "Tags",
    "TransitiveTagKeys",
    "SerialNumber",
    "TokenCode",
    "SourceIdentity",
    "ProvidedContexts",
];

fn refused(role_arn: &str, caller_arn: &str) -> AwsError {
    AwsError::new(
        "AccessDenied",
        format!("User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        403,
    )
}

/// Whether `RoleArn` names a role at all: an ARN whose resource is `role/…`. Anything else is
/// `ValidationError` "Request ARN is invalid"; a role ARN that names no role of this account is
/// refused like an untrusting role.
fn names_a_role(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":role/")
}

pub fn assume_role(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let role_arn = p.required("RoleArn")?;
    let session = p.required("RoleSessionName")?;
    let duration = p.int("DurationSeconds")?;
    let external_id = p.str("ExternalId");
    let min_token = p.int("MinimumSessionTokenSize")?;
    if let Some(name) = UNSUPPORTED.iter().find(|n| p.has(n)) {
        return Err(AwsError::not_emulated(
            "sts",
            &format!("AssumeRole with {name}"),
        ));
    }
    call.params()?.finish()?;
    let mut c = Constraints::new();
    c.length("roleArn", Some(role_arn), 20, 2048)
        .length("roleSessionName", Some(session), 2, 64)
        .pattern("roleSessionName", Some(session), r"[\w+=,.@-]*", is_name)
        .range("durationSeconds", duration, 900, 43200)
        .length("externalId", external_id, 2, 1224)
        .pattern("externalId", external_id, r"[\w+=,.@:\/-]*", |v| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
        })
        .range("minimumSessionTokenSize", min_token, 0, 4096);
    c.check()?;
    if !names_a_role(role_arn) {
        return Err(AwsError::bad_request(
            "ValidationError",
            "Request ARN is invalid",
        ));
    }
    let caller = call.principal;
    let (role_name, max_session) = {
        let dir = call.identities.directory();
        let Some(role) = dir.role_by_arn(role_arn) else {
            // Nothing to assume, whatever the IAM mode.
            return Err(refused(role_arn, &caller.arn));
        };
        let mut ctx = crate::instance::request_context(
            "sts:AssumeRole",
            role_arn,
            caller,
            call.region,
            &call.remote,
            call.now_ms.div_euclid(1000),
        )
        .with("sts:RoleSessionName", session);
        if let Some(e) = external_id {
            ctx = ctx.with("sts:ExternalId", e);
        }
        let who = Caller::Aws {
            arn: &caller.arn,
            account: &caller.account,
        };
        if !evaluate_resource_policy(&role.trust.parsed, &who, &ctx).is_allowed() {
            call.refused("sts:AssumeRole", role_arn, refused(role_arn, &caller.arn))?;
        }
        (role.name.clone(), role.max_session_secs)
    };
    let duration = duration.unwrap_or(DEFAULT_DURATION_SECS);
    if caller.role().is_some() && duration > CHAINED_MAX_SECS {
        return Err(AwsError::bad_request(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > max_session {
        return Err(AwsError::bad_request(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let issued = call.identities.issue_role_session(
        &role_name,
        session,
        duration,
        call.now_ms,
        call.region,
        &call.world.ids,
    )?;
    let cred = &issued.credential;
    // A role session always expires; a credential without an expiry here would be a bug.
    let expires_ms = cred
        .expires_at
        .ok_or_else(AwsError::internal)?
        .saturating_mul(1000);
    let mut w = call.writer();
    w.structure("Credentials", |w| {
        w.str("AccessKeyId", &cred.access_key_id)
            .str("SecretAccessKey", &cred.secret_access_key)
            .str_opt("SessionToken", cred.session_token.as_deref())
            .time("Expiration", expires_ms);
    })
    .structure("AssumedRoleUser", |w| {
        w.str("AssumedRoleId", &cred.principal.user_id)
            .str("Arn", &cred.principal.arn);
    });
    w.finish()
}
