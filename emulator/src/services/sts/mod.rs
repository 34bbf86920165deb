//! STS (awsQuery `2011-06-15`): who is calling, what an EC2 denial's encoded message says, and
//! temporary credentials for role sessions ([`assume_role`]).

pub mod assume_role;

use base64::Engine;

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On};
use crate::services::Call;

/// The actions of STS. AssumeRole is authorized on the role it assumes.
pub const ACTIONS: &[&[Action]] = &[&[
    Action::new("GetCallerIdentity", get_caller_identity),
    Action::new("AssumeRole", assume_role::assume_role).on(&[On::Arn("RoleArn")]),
    Action::new("DecodeAuthorizationMessage", decode_authorization_message),
]];

/// Always allowed, whatever the policies say (the pipeline skips IAM for it, as AWS does).
fn get_caller_identity(call: &Call<'_>) -> AwsResult<Output> {
    call.params()?.finish()?;
    let p = call.principal;
    let mut w = call.writer();
    w.str("UserId", &p.user_id)
        .str("Account", &p.account)
        .str("Arn", &p.arn);
    w.finish()
}

/// Turns the "Encoded authorization failure message" of an EC2 `UnauthorizedOperation` back into
/// the decision's JSON (see `instance::encode_authorization_message`).
fn decode_authorization_message(call: &Call<'_>) -> AwsResult<Output> {
    let encoded = call.root()?.required("EncodedMessage")?.to_string();
    call.params()?.finish()?;
    let invalid = || {
        AwsError::bad_request(
            "InvalidAuthorizationMessageException",
            "The message is invalid or has expired.",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if !json.is_object() || json.get("context").is_none() {
        return Err(invalid());
    }
    let mut w = call.writer();
    w.str("DecodedMessage", json.to_string());
    w.finish()
}
