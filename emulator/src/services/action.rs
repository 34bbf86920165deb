//! What awsemu knows about one action, declared once, next to its handler.
//!
//! Every handler file ends its imports with a table, `pub const ACTIONS: &[Action]`, one entry per
//! action it serves:
//!
//! ```ignore
//! pub const ACTIONS: &[Action] = &[
//!     Action::new("CreateVolume", create_volume)
//!         .on(&[On::Created(&VOLUME), On::Id("SnapshotId")])
//!         .tags(TagsIn::Specifications),
//!     Action::new("DescribeVolumes", describe_volumes),
//!     Action::new("DeleteVolume", delete_volume).on(&[On::Id("VolumeId")]),
//! ];
//! ```
//!
//! [`super::lookup`] finds the handler there, [`super::authz`] reads the resources the action is
//! authorized on (`on`), the request members that carry tags (`tags`, for `aws:RequestTag/…`,
//! `aws:TagKeys` and tag on create) and, for the load balancer creates, the ARN of what it makes
//! (`creates`), and `/_awsemu/operations` lists the actions that have a handler. An EC2 resource
//! kind (id prefix, ARN type, NotFound and Malformed answers, taggable) is declared once as a
//! [`crate::services::ec2::kind::Kind`], next to its handlers.

use crate::protocol::route::Input;

use super::Handler;

/// One action: its handler and what authorizing it needs. Adding an action is one declaration
/// here and one handler; nothing else lists actions. The declaration names request members by
/// their wire names (`InstanceId`, `LoadBalancerNames.member`), as the request carries them.
#[derive(Clone, Copy)]
pub struct Action {
    /// The model's operation name (`CreateVolume`).
    pub name: &'static str,
    /// `None`: a real action awsemu authorizes as AWS does, then answers `NotImplemented`
    /// (declared only where the authorization is worth keeping exact).
    pub handler: Option<Handler>,
    /// The resources the action is authorized on, in order; none: `*` (most Describe calls).
    pub on: &'static [On],
    /// Which request members carry tags.
    pub tags: TagsIn,
    /// The ARN pattern of what the call makes, when tagging it at creation needs the service's
    /// tagging action too (ELBv2: `elasticloadbalancing:AddTags`). EC2 creates need no entry:
    /// their `TagSpecification` names the types they tag.
    pub creates: Option<Creates>,
}

impl Action {
    /// An emulated action authorized on `*`, carrying no tags.
    pub const fn new(name: &'static str, handler: Handler) -> Self {
        Action {
            name,
            handler: Some(handler),
            on: &[],
            tags: TagsIn::None,
            creates: None,
        }
    }

    /// A real action awsemu does not emulate, declared so that it is authorized as AWS does
    /// before it answers `NotImplemented`.
    pub const fn unemulated(name: &'static str) -> Self {
        Action {
            name,
            handler: None,
            on: &[],
            tags: TagsIn::None,
            creates: None,
        }
    }

    /// Authorized on these resources (instead of `*`).
    pub const fn on(self, on: &'static [On]) -> Self {
        Action { on, ..self }
    }

    /// Its request tags are in these members.
    pub const fn tags(self, tags: TagsIn) -> Self {
        Action { tags, ..self }
    }

    /// Tagging what it makes needs `creates`' authorization.
    pub const fn creates(self, creates: Creates) -> Self {
        Action {
            creates: Some(creates),
            ..self
        }
    }
}

/// A resource an action is authorized on. Parameters are read with `peek`: authorization must
/// not mark them as read for the handler's check of unknown parameters.
#[derive(Clone, Copy)]
pub enum On {
    /// What the call makes, by its kind's pattern: `arn:aws:ec2:R:A:volume/*`.
    Created(&'static crate::services::ec2::kind::Kind),
    /// The EC2 resource whose id is in this parameter, by the id's kind: `VolumeId=vol-1` →
    /// `arn:aws:ec2:R:A:volume/vol-1`.
    Id(&'static str),
    /// Each EC2 id of a list, `InstanceId.1`, `InstanceId.2`, … (named without `.N`).
    Ids(&'static str),
    /// The ARN given whole in this parameter (`LoadBalancerArn`, `RoleArn`).
    Arn(&'static str),
    /// Each ARN of a list, `ResourceArns.member.N` (named without `.N`).
    Arns(&'static str),
    /// A resource named by this parameter, at path `/`: a classic load balancer
    /// (`loadbalancer/NAME`), an IAM role or instance profile (the pipeline puts back the path
    /// of an existing one).
    Name(&'static Named, &'static str),
    /// Each name of a list (`LoadBalancerNames.member`, named without `.N`).
    Names(&'static Named, &'static str),
    /// A resource the call makes, named by this parameter, at the request's `Path` (`/` when
    /// none): CreateRole, CreatePolicy, CreateInstanceProfile.
    NewName(&'static Named, &'static str),
    /// The escape hatch, for the few irregular actions (KMS key references, ECR repositories,
    /// service-linked roles): pushes the ARNs the request names.
    Custom(fn(&Request<'_>, &mut Vec<String>)),
}

/// A resource family whose ARN ends in its name: `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE` then
/// the path and the name (`loadbalancer/web`, `role/k8s/node`).
#[derive(Debug, Clone, Copy)]
pub struct Named {
    pub service: &'static str,
    /// IAM's ARNs have no region.
    pub regional: bool,
    pub resource: &'static str,
}

impl Named {
    /// The ARN of `name` at `path` (which starts and ends with `/`).
    pub fn arn(&self, r: &Request<'_>, path: &str, name: &str) -> String {
        let region = if self.regional { r.region } else { "" };
        format!(
            "arn:aws:{}:{region}:{}:{}{path}{name}",
            self.service, r.account, self.resource
        )
    }
}

/// Which request members carry the tags IAM sees as `aws:RequestTag/KEY` and `aws:TagKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagsIn {
    None,
    /// EC2's `TagSpecification.N.ResourceType` and `.Tag.M.Key/Value`; tagging at creation is
    /// authorized for `ec2:CreateTags` on each tagged type (tag on create).
    Specifications,
    /// Tags set, `PREFIX.N.Key` and `.Value` (a missing value is the empty one): EC2 CreateTags'
    /// `Tag`, the load balancers' `Tags.member`.
    Set(&'static str),
    /// Tags removed, `PREFIX.N.Key` with an optional value (none: whatever the value): EC2
    /// DeleteTags' `Tag`, classic ELB RemoveTags' `Tags.member`.
    Removed(&'static str),
    /// Tag keys removed, `PREFIX.N`: ELBv2 RemoveTags' `TagKeys.member`.
    RemovedKeys(&'static str),
}

/// Tag on create for a service that checks its tagging action on the new resource.
#[derive(Clone, Copy)]
pub struct Creates {
    /// `elasticloadbalancing:AddTags`.
    pub tag_action: &'static str,
    /// The condition key naming the create call: `elasticloadbalancing:CreateAction`.
    pub create_action_key: &'static str,
    /// The new resource's ARN as a pattern (its id is not known before the call), from the
    /// request; `None`: nothing to check (the handler refuses the request).
    pub arn: fn(&Request<'_>) -> Option<String>,
}

/// What a declaration reads a request through: its input, the account and the region.
pub struct Request<'a> {
    pub input: &'a Input,
    pub account: &'a str,
    pub region: &'a str,
}

impl<'a> Request<'a> {
    /// A query parameter, or a string member of a JSON input.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        match self.input {
            Input::Query(p) => p.peek(name),
            Input::Json(j) => j.str(name).ok().flatten(),
        }
    }

    /// `PREFIX.1`, `PREFIX.2`, … up to the first gap (query), or the strings of a JSON list.
    pub fn values(&self, prefix: &str) -> Vec<&'a str> {
        match self.input {
            Input::Query(p) => (1..)
                .map_while(|i| p.peek(&format!("{prefix}.{i}")))
                .collect(),
            Input::Json(j) => j.root().strings(prefix).ok().flatten().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::JsonInput;
    use crate::protocol::{Params, Protocol};
    use crate::services::authz::resources_of;
    use crate::services::ec2::volumes::VOLUME;

    fn query(q: &str) -> Input {
        Input::Query(Params::decode(q.as_bytes(), b"", Protocol::Ec2Query).unwrap())
    }

    fn on(on: &'static [On], input: &Input) -> Vec<String> {
        let a = Action::unemulated("X").on(on);
        resources_of(Some(&a), input, "1", "r")
    }

    const ROLE: Named = Named {
        service: "iam",
        regional: false,
        resource: "role",
    };
    const LB: Named = Named {
        service: "elasticloadbalancing",
        regional: true,
        resource: "loadbalancer",
    };

    #[test]
    fn each_form_of_resource() {
        let q = query(
            "VolumeId=vol-1&InstanceId.1=i-1&InstanceId.2=i-2&InstanceId.4=i-4&Arn=arn:x\
             &ResourceArns.member.1=arn:a&ResourceArns.member.2=arn:b&RoleName=n&Path=/k/\
             &LoadBalancerNames.member.1=a&LoadBalancerNames.member.2=b&ImageId=ami-1&X=what-1",
        );
        assert_eq!(on(&[], &q), ["*"]);
        assert_eq!(
            on(&[On::Created(&VOLUME)], &q),
            ["arn:aws:ec2:r:1:volume/*"]
        );
        assert_eq!(
            on(&[On::Id("VolumeId")], &q),
            ["arn:aws:ec2:r:1:volume/vol-1"]
        );
        assert_eq!(on(&[On::Id("ImageId")], &q), ["arn:aws:ec2:r::image/ami-1"]);
        // An id of no known kind keeps its place without a type.
        assert_eq!(on(&[On::Id("X")], &q), ["arn:aws:ec2:r:1:what-1"]);
        assert_eq!(
            on(&[On::Ids("InstanceId")], &q),
            [
                "arn:aws:ec2:r:1:instance/i-1",
                "arn:aws:ec2:r:1:instance/i-2"
            ],
            "up to the first gap"
        );
        assert_eq!(on(&[On::Arn("Arn")], &q), ["arn:x"]);
        assert_eq!(
            on(&[On::Arns("ResourceArns.member")], &q),
            ["arn:a", "arn:b"]
        );
        assert_eq!(
            on(&[On::Name(&ROLE, "RoleName")], &q),
            ["arn:aws:iam::1:role/n"]
        );
        assert_eq!(
            on(&[On::NewName(&ROLE, "RoleName")], &q),
            ["arn:aws:iam::1:role/k/n"]
        );
        assert_eq!(
            on(&[On::Names(&LB, "LoadBalancerNames.member")], &q),
            [
                "arn:aws:elasticloadbalancing:r:1:loadbalancer/a",
                "arn:aws:elasticloadbalancing:r:1:loadbalancer/b"
            ]
        );
        fn custom(r: &Request<'_>, out: &mut Vec<String>) {
            out.push(format!(
                "{}:{}:{}",
                r.account,
                r.region,
                r.value("RoleName").unwrap_or("")
            ));
        }
        assert_eq!(on(&[On::Custom(custom)], &q), ["1:r:n"]);
        // In order, each form adding its own; absent members add nothing.
        assert_eq!(
            on(
                &[
                    On::Id("SnapshotId"),
                    On::Created(&VOLUME),
                    On::Id("VolumeId")
                ],
                &q
            ),
            ["arn:aws:ec2:r:1:volume/*", "arn:aws:ec2:r:1:volume/vol-1"]
        );
        assert_eq!(on(&[On::Id("SnapshotId"), On::Ids("GroupId")], &q), ["*"]);
        // NewName without a Path: at `/`.
        assert_eq!(
            on(&[On::NewName(&ROLE, "RoleName")], &query("RoleName=n")),
            ["arn:aws:iam::1:role/n"]
        );
        // JSON inputs: string members and lists.
        let j = Input::Json(JsonInput::parse(br#"{"Arn":"arn:j","Names":["a","b"]}"#).unwrap());
        assert_eq!(on(&[On::Arn("Arn")], &j), ["arn:j"]);
        assert_eq!(on(&[On::Arns("Names")], &j), ["a", "b"]);
    }

    #[test]
    fn unemulated_actions_have_no_handler() {
        let a = Action::unemulated("CreateRule");
        assert!(a.handler.is_none() && a.on.is_empty() && a.tags == TagsIn::None);
        assert!(a.creates.is_none());
    }
}
