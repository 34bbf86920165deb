//! An EC2 resource kind, declared once next to its handlers (`VOLUME` in `volumes.rs`, …; the
//! kinds awsemu only refers to in [`super::referenced`]) and listed in [`super::KINDS`]: its id
//! prefix, ARN type, NotFound and Malformed answers, whether a `TagSpecification` may name it,
//! and where the region keeps its tags.

use crate::protocol::{AwsError, AwsResult};
use crate::state::tags::Tags;

use super::model::Ec2Region;

/// One EC2 resource kind.
#[derive(Clone, Copy)]
pub struct Kind {
    /// The id's prefix, before its `-`: `vol`.
    pub prefix: &'static str,
    /// The ARN's resource type, which is also the `TagSpecification`'s `ResourceType` and
    /// DescribeTags' `resource-type`: `volume`.
    pub arn_type: &'static str,
    /// Whether the ARN names the account (an image's has none: `arn:aws:ec2:R::image/ami-…`).
    pub in_account: bool,
    /// The answer for an id of this kind that the region does not have; `None`: awsemu answers
    /// `InvalidID` (kinds it keeps no state for, whose answers it does not know).
    pub not_found: Option<NotFound>,
    /// `<Type>.Malformed` for an id of the wrong form (`InvalidVolumeID.Malformed`); `None` for
    /// kinds whose ids awsemu never checks.
    pub malformed: Option<&'static str>,
    /// A `TagSpecification` may name it (and tagging it at creation needs `ec2:CreateTags`).
    pub taggable: bool,
    /// Where the region keeps this kind's tags (CreateTags, DeleteTags, `ec2:ResourceTag/…`).
    pub tags: Option<TagsOf>,
}

/// A kind's NotFound answer: its code and message, `{id}` standing for the id.
#[derive(Debug, Clone, Copy)]
pub struct NotFound {
    pub code: &'static str,
    pub message: &'static str,
}

/// A kind's tags in the region's state.
#[derive(Clone, Copy)]
pub struct TagsOf {
    pub get: for<'r> fn(&'r Ec2Region, &str) -> Option<&'r Tags>,
    pub get_mut: for<'r> fn(&'r mut Ec2Region, &str) -> Option<&'r mut Tags>,
}

impl Kind {
    /// The fields most kinds share; a declaration names the rest.
    pub const BASE: Kind = Kind {
        prefix: "",
        arn_type: "",
        in_account: true,
        not_found: None,
        malformed: None,
        taggable: true,
        tags: None,
    };

    /// Refuses an id that cannot be of this kind with AWS's `<Type>.Malformed` answer:
    /// `Invalid id: "vol-xyz" (expecting "vol-...")`.
    pub fn check(&self, id: &str) -> AwsResult<()> {
        super::common::check_id(id, self.prefix, self.malformed.unwrap_or("InvalidID"))
    }

    /// The answer for an id of this kind the region does not have.
    pub fn not_found(&self, id: &str) -> AwsError {
        match self.not_found {
            Some(n) => AwsError::bad_request(n.code, n.message.replace("{id}", id)),
            None => invalid_id(id),
        }
    }

    /// The ARN of the resource `id`.
    pub fn arn(&self, region: &str, account: &str, id: &str) -> String {
        let account = if self.in_account { account } else { "" };
        format!("arn:aws:ec2:{region}:{account}:{}/{id}", self.arn_type)
    }

    /// Every resource of this kind, as a create call is authorized on: `…:volume/*`.
    pub fn pattern(&self, region: &str, account: &str) -> String {
        self.arn(region, account, "*")
    }
}

/// `InvalidID`: an id of no kind awsemu knows an answer for.
pub fn invalid_id(id: &str) -> AwsError {
    AwsError::bad_request("InvalidID", format!("The ID '{id}' is not valid"))
}

/// The kind of an EC2 id, by its prefix.
pub fn of(id: &str) -> Option<&'static Kind> {
    let prefix = id.split_once('-')?.0;
    super::KINDS.iter().copied().find(|k| k.prefix == prefix)
}

/// The kind whose ARN type (and `TagSpecification` resource type) is `arn_type`.
pub fn by_type(arn_type: &str) -> Option<&'static Kind> {
    super::KINDS
        .iter()
        .copied()
        .find(|k| k.arn_type == arn_type)
}

/// The ARN of an EC2 id: by its kind, or without a type when the prefix is of no kind.
pub fn arn(region: &str, account: &str, id: &str) -> String {
    match of(id) {
        Some(k) => k.arn(region, account, id),
        None => format!("arn:aws:ec2:{region}:{account}:{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_declared_once() {
        let kinds = super::super::KINDS;
        for (i, k) in kinds.iter().enumerate() {
            assert!(!k.prefix.is_empty() && !k.arn_type.is_empty());
            assert!(
                kinds[..i]
                    .iter()
                    .all(|o| o.prefix != k.prefix && o.arn_type != k.arn_type),
                "{} declared twice",
                k.arn_type
            );
            assert!(
                k.malformed.is_none_or(|m| m.ends_with(".Malformed")),
                "{}",
                k.arn_type
            );
            assert!(k.not_found.is_none_or(|n| n.message.contains("{id}")));
            // What the region keeps tags for can be tagged.
            assert!(k.tags.is_none() || k.taggable, "{}", k.arn_type);
        }
    }

    #[test]
    fn arns_and_answers_by_id() {
        assert_eq!(arn("r", "1", "vol-1"), "arn:aws:ec2:r:1:volume/vol-1");
        assert_eq!(arn("r", "1", "ami-1"), "arn:aws:ec2:r::image/ami-1");
        assert_eq!(arn("r", "1", "key-1"), "arn:aws:ec2:r:1:key-pair/key-1");
        assert_eq!(arn("r", "1", "bogus"), "arn:aws:ec2:r:1:bogus");
        assert_eq!(of("sg-1").map(|k| k.arn_type), Some("security-group"));
        assert_eq!(by_type("route-table").map(|k| k.prefix), Some("rtb"));
        let e = of("vol-1").unwrap().not_found("vol-1");
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "InvalidVolume.NotFound",
                "The volume 'vol-1' does not exist."
            )
        );
        let e = of("ami-1").unwrap().not_found("ami-1");
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            ("InvalidID", "The ID 'ami-1' is not valid")
        );
        // One answer per kind, wherever the id is met (a handler, CreateTags, a consistency
        // fault): AWS words most without a full stop.
        let answer = |id: &str| {
            let e = super::super::common::not_found(id);
            (e.code.to_string(), e.message)
        };
        assert_eq!(
            answer("sg-1"),
            (
                "InvalidGroup.NotFound".into(),
                "The security group 'sg-1' does not exist".into()
            )
        );
        assert_eq!(
            answer("snap-1"),
            (
                "InvalidSnapshot.NotFound".into(),
                "The snapshot 'snap-1' does not exist.".into()
            )
        );
        assert_eq!(answer("eni-1").0, "InvalidNetworkInterfaceID.NotFound");
        assert_eq!(answer("nope-1").0, "InvalidID");
        // Kinds awsemu only tags at creation still have their documented ARN types.
        assert_eq!(
            arn("r", "1", "sgr-1"),
            "arn:aws:ec2:r:1:security-group-rule/sgr-1"
        );
        assert_eq!(arn("r", "1", "nat-1"), "arn:aws:ec2:r:1:natgateway/nat-1");
        let e = of("subnet-x").unwrap().check("subnet-x").unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "InvalidSubnetID.Malformed",
                "Invalid id: \"subnet-x\" (expecting \"subnet-...\")"
            )
        );
    }
}
