//! GetAuthorizationToken: the `docker login` credentials of a registry.
//!
//! The token is base64 of `AWS:<password>`, valid for 12 hours. The password has the shape of
//! AWS's (base64 of a JSON document with a payload, a data key and the expiration); its random
//! parts come from the emulator's seeded id generator, so a replayed run hands out the same tokens.

use base64::Engine;
use serde_json::json;

use crate::protocol::json::{check_range, validation};
use crate::protocol::{AwsResult, Output};
use crate::services::action::Action;
use crate::services::Call;

use super::registry_host;

/// The handler of the authorization action, if it is it.
/// The actions of this family.
pub const ACTIONS: &[Action] = &[Action::new(
    "GetAuthorizationToken",
    get_authorization_token,
)];

/// How long a token is valid: 12 hours.
pub const TOKEN_LIFETIME_MS: i64 = 12 * 3_600_000;

fn get_authorization_token(call: &Call<'_>) -> AwsResult<Output> {
    let j = call.json()?.root();
    let registries = match j.strings("registryIds")? {
        Some(ids) => {
            check_range(
                "registryIds",
                &format!("{ids:?}"),
                "length",
                ids.len() as i64,
                1,
                10,
            )?;
            for id in &ids {
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(validation(format!(
                        "Value '{id}' at 'registryIds' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{{12}}"
                    )));
                }
            }
            ids.into_iter().map(str::to_string).collect()
        }
        None => vec![call.account.to_string()],
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let expires = call.now_ms + TOKEN_LIFETIME_MS;
    let mut w = call.writer();
    w.list("authorizationData", &registries, |w, registry| {
        let password = b64.encode(
            json!({
                "payload": b64.encode(call.world.ids.hex(256)),
                "datakey": b64.encode(call.world.ids.hex(128)),
                "version": "2",
                "type": "DATA_KEY",
                "expiration": expires / 1000,
            })
            .to_string(),
        );
        w.str("authorizationToken", b64.encode(format!("AWS:{password}")))
            .time("expiresAt", expires)
            .str(
                "proxyEndpoint",
                format!("https://{}", registry_host(call, registry)),
            );
    });
    w.finish()
}
