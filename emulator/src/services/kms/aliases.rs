//! KMS aliases: CreateAlias, ListAliases, DeleteAlias.
//!
//! An alias name is `alias/` and a name of `[a-zA-Z0-9:/_-]`; `alias/aws/` is reserved for AWS
//! managed keys, whose predefined aliases ListAliases shows without a target until first used.

use crate::protocol::json::{check_range, validation};
use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;
use crate::state::write;

use super::keys::page;
use super::model::{Alias, KeyState};
use super::{alias_arn, not_found, pending_deletion, region, resolve, Accepts, PREDEFINED_ALIASES};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateAlias", create_alias).on(&[
        On::Custom(super::on_alias),
        On::Custom(super::on_target_key),
    ]),
    Action::new("ListAliases", list_aliases),
    Action::new("DeleteAlias", delete_alias).on(&[On::Custom(super::on_alias)]),
];

/// Checks an `AliasName` as CreateAlias and DeleteAlias do: the model's length and pattern
/// (Coral `ValidationException`), then KMS's own `alias/` prefix rule.
fn check_alias_name(name: &str) -> AwsResult<()> {
    check_range(
        "aliasName",
        name,
        "length",
        name.chars().count() as i64,
        1,
        256,
    )?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b))
    {
        return Err(validation(format!(
            "Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )));
    }
    if !name.starts_with("alias/") {
        return Err(AwsError::bad_request(
            "ValidationException",
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name == "alias/" {
        return Err(AwsError::bad_request(
            "InvalidAliasNameException",
            "Alias name must have a name after the prefix \"alias/\"",
        ));
    }
    Ok(())
}

fn create_alias(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let name = j.required("AliasName")?;
    let target = j.required("TargetKeyId")?;
    check_alias_name(name)?;
    if name.starts_with("alias/aws/") {
        return Err(AwsError::bad_request(
            "NotAuthorizedException",
            "Alias names that begin with alias/aws/ are reserved for AWS managed keys",
        ));
    }
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    if r.aliases.contains_key(name) {
        return Err(AwsError::bad_request(
            "AlreadyExistsException",
            format!(
                "An alias with the name {} already exists",
                alias_arn(call, name)
            ),
        ));
    }
    let id = resolve(call, &mut r, target, Accepts::KeyOnly)?;
    let key = r.keys.get(&id).ok_or_else(AwsError::internal)?;
    if key.state == KeyState::PendingDeletion {
        return Err(pending_deletion(key));
    }
    r.aliases.insert(
        name.to_string(),
        Alias {
            name: name.to_string(),
            target_key_id: id,
            created_ms: call.now_ms,
            updated_ms: call.now_ms,
        },
    );
    call.writer().finish()
}

/// The members of one `AliasListEntry`; a predefined alias not yet used has no target.
fn entry(w: &mut Writer, call: &Call<'_>, name: &str, alias: Option<&Alias>) {
    w.str("AliasName", name)
        .str("AliasArn", alias_arn(call, name));
    if let Some(a) = alias {
        w.str("TargetKeyId", &a.target_key_id)
            .time("CreationDate", a.created_ms)
            .time("LastUpdatedDate", a.updated_ms);
    }
}

fn list_aliases(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let key_ref = j.str("KeyId")?;
    let limit = j.int("Limit")?;
    let marker = j.str("Marker")?;
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    let key_id = match key_ref {
        Some(k) => Some(resolve(call, &mut r, k, Accepts::KeyOnly)?),
        None => None,
    };
    let mut names: Vec<&str> = r.aliases.keys().map(String::as_str).collect();
    if key_id.is_none() {
        names.extend(PREDEFINED_ALIASES.iter().copied());
        names.sort_unstable();
        names.dedup();
    }
    let entries: Vec<(&str, Option<&Alias>)> = names
        .into_iter()
        .filter_map(|name| {
            let alias = r.aliases.get(name);
            match (&key_id, alias) {
                (Some(id), Some(a)) if a.target_key_id != *id => None,
                (Some(_), None) => None,
                _ => Some((name, alias)),
            }
        })
        .collect();
    let (entries, next) = page(entries, limit, marker)?;
    let mut w = call.writer();
    w.list("Aliases", entries, |w, (name, alias)| {
        entry(w, call, name, alias)
    })
    .bool("Truncated", next.is_some())
    .str_opt("NextMarker", next);
    w.finish()
}

fn delete_alias(call: &Call<'_>) -> AwsResult<Output> {
    let name = call.json()?.required("AliasName")?;
    check_alias_name(name)?;
    if name.starts_with("alias/aws/") {
        return Err(AwsError::bad_request(
            "NotAuthorizedException",
            "Alias names that begin with alias/aws/ are reserved for AWS managed keys",
        ));
    }
    let lock = region(call)?;
    let mut r = write(&lock);
    r.settle(call.now_ms);
    if r.aliases.remove(name).is_none() {
        return Err(not_found(format!(
            "Alias {} is not found.",
            alias_arn(call, name)
        )));
    }
    call.writer().finish()
}
