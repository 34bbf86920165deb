//! Pieces every EC2 handler uses: the region's state, id checks, timestamps.

use std::sync::{Arc, RwLock};

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::Call;
use crate::state::tags::Tags;

use super::model::Ec2Region;

/// The EC2 state of the call's region.
pub fn region(call: &Call<'_>) -> AwsResult<Arc<RwLock<Ec2Region>>> {
    call.world.ec2(call.region).ok_or_else(AwsError::internal)
}

/// Whether `id` has AWS's shape: `prefix-` and 8 or 17 lower-case hex digits.
pub fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Refuses a malformed id with AWS's `<Type>.Malformed` answer, e.g.
/// `InvalidVolumeID.Malformed` "Invalid id: "vol-xyz" (expecting "vol-...")". Resource ids are
/// checked through their [`Kind::check`](super::kind::Kind::check); this form is for the ids of
/// parts of resources (route table associations).
pub fn check_id(id: &str, prefix: &str, code: &'static str) -> AwsResult<()> {
    if well_formed(id, prefix) {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            code,
            format!("Invalid id: \"{id}\" (expecting \"{prefix}-...\")"),
        ))
    }
}

/// The longest client token EC2 takes: "a unique, case-sensitive string of up to 64 ASCII
/// characters" (EC2 developer guide, "Ensuring idempotency").
pub const MAX_CLIENT_TOKEN: usize = 64;

/// A request's client token, checked: `None` when none (or an empty one) is given. A longer one is
/// `InvalidParameterValue` "Client token must be less than or equal to 64 characters", as EC2
/// answered CreateVolume [kubernetes-sigs/aws-ebs-csi-driver#1038].
pub fn client_token(token: Option<&str>) -> AwsResult<Option<&str>> {
    match token {
        Some(t) if t.chars().count() > MAX_CLIENT_TOKEN => Err(AwsError::invalid_value(format!(
            "Client token must be less than or equal to {MAX_CLIENT_TOKEN} characters"
        ))),
        Some("") | None => Ok(None),
        Some(t) => Ok(Some(t)),
    }
}

/// The NotFound answer for an id of any EC2 resource kind, by its prefix (CreateTags and others
/// that take ids of several kinds); `InvalidID` for an id of no kind awsemu answers for.
pub fn not_found(id: &str) -> AwsError {
    match super::kind::of(id) {
        Some(kind) => kind.not_found(id),
        None => super::kind::invalid_id(id),
    }
}

/// Eventual consistency: the resources of `kind` this Describe call may not see yet (see
/// [`crate::faults::consistency`]). Call once per Describe, after the input is read: it counts the
/// call against each hidden resource of that kind. A hidden id named in the request answers
/// [`not_found`]; lists skip what [`Unseen::listed`] refuses.
///
/// [`Unseen::listed`]: crate::faults::consistency::Unseen::listed
pub fn unseen(call: &Call<'_>, kind: &super::kind::Kind) -> crate::faults::consistency::Unseen {
    call.world
        .hidden
        .unseen(call.region, kind.prefix, call.now_ms)
}

/// Refuses a Describe that names a resource not yet visible, with the kind's NotFound answer.
pub fn check_visible<S: AsRef<str>>(
    unseen: &crate::faults::consistency::Unseen,
    ids: &[S],
) -> AwsResult<()> {
    match unseen.first_named(ids) {
        Some(id) => Err(not_found(id)),
        None => Ok(()),
    }
}

/// An EC2 timestamp (`2024-01-31T23:59:59.000Z`) from virtual milliseconds.
pub fn timestamp(ms: i64) -> String {
    crate::timefmt::format_iso8601(ms.div_euclid(1000))
}

/// A resource's `Tags`; AWS omits an empty tag set (route tables and a few others send it empty:
/// their writers call `w.list("Tags", ..)` themselves).
pub fn write_tags(w: &mut Writer, tags: &Tags) {
    if !tags.is_empty() {
        write_tag_list(w, tags);
    }
}

/// A resource's `Tags`, written even when empty.
pub fn write_tag_list(w: &mut Writer, tags: &Tags) {
    w.list("Tags", tags, |w, (k, v)| {
        w.str("Key", k).str("Value", v);
    });
}

/// The answer of an action with nothing else to say: `<return>true</return>` when the model's
/// output has `Return` (CreateRoute, DeleteSecurityGroup); when the model gives the action no
/// output (DeleteVpc, AttachInternetGateway) the envelope writes AWS's `<return>true</return>`.
pub fn done(call: &Call<'_>) -> AwsResult<Output> {
    match Writer::for_output(call.service, call.action) {
        Some(mut w) => {
            w.bool("Return", true);
            w.finish()
        }
        None => Ok(Output::XmlEmpty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(well_formed("vol-0123456789abcdef0", "vol"));
        assert!(well_formed("i-12345678", "i"));
        assert!(!well_formed("vol-0123456789ABCDEF0", "vol"));
        assert!(!well_formed("vol-123", "vol"));
        assert!(!well_formed("i-0123456789abcdef0", "vol"));
        assert_eq!(
            check_id("vol-x", "vol", "InvalidVolumeID.Malformed")
                .unwrap_err()
                .code,
            "InvalidVolumeID.Malformed"
        );
    }
}
