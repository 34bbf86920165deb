//! The resources an action is authorized against, as the service authorization reference lists
//! them: `ec2:CreateVolume` on `arn:aws:ec2:REGION:ACCOUNT:volume/*`, `ec2:AttachVolume` on the
//! instance and the volume, a classic load balancer by its name, and so on. Each action declares
//! them next to its handler ([`Action`]'s `on`, `tags` and `creates`); this module reads a
//! request through those declarations. Actions that AWS does not scope to a resource (most
//! Describe calls) and undeclared ones are checked against `*`.

use crate::protocol::route::Input;
use crate::protocol::ServiceId;
use crate::state::tags::Tags;
use crate::state::{read, World};

use super::action::{Action, On, Request, TagsIn};
use super::ec2::kind;

/// The resources `service`'s `action` is authorized against for this input. Never empty.
pub fn resources(
    service: ServiceId,
    action: &str,
    input: &Input,
    account: &str,
    region: &str,
) -> Vec<String> {
    resources_of(super::declared(service, action), input, account, region)
}

/// The resources a declared action is authorized against for this input, in the order of its
/// declaration; `*` when it names none (or is not declared). Never empty.
pub fn resources_of(
    action: Option<&Action>,
    input: &Input,
    account: &str,
    region: &str,
) -> Vec<String> {
    let r = Request {
        input,
        account,
        region,
    };
    let mut out = Vec::new();
    for on in action.map_or(&[][..], |a| a.on) {
        match *on {
            On::Created(k) => out.push(k.pattern(region, account)),
            On::Id(name) => out.extend(r.value(name).map(|id| kind::arn(region, account, id))),
            On::Ids(name) => out.extend(
                r.values(name)
                    .into_iter()
                    .map(|id| kind::arn(region, account, id)),
            ),
            On::Arn(name) => out.extend(r.value(name).map(str::to_string)),
            On::Arns(name) => out.extend(r.values(name).into_iter().map(str::to_string)),
            On::Name(named, name) => out.extend(r.value(name).map(|n| named.arn(&r, "/", n))),
            On::Names(named, name) => {
                out.extend(r.values(name).into_iter().map(|n| named.arn(&r, "/", n)))
            }
            On::NewName(named, name) => {
                let path = r.value("Path").unwrap_or("/");
                out.extend(r.value(name).map(|n| named.arn(&r, path, n)));
            }
            On::Custom(f) => f(&r, &mut out),
        }
    }
    if out.is_empty() {
        out.push("*".to_string());
    }
    out
}

/// One tag a request asks for: its resource type (an EC2 `TagSpecification`'s `ResourceType`;
/// `None` for the tags of CreateTags, DeleteTags and the load balancer calls), key and value
/// (`None`: DeleteTags naming a key without a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTag {
    pub resource_type: Option<String>,
    pub key: String,
    pub value: Option<String>,
}

/// The tags `service`'s `action` carries in this input (see [`request_tags_of`]).
pub fn request_tags(service: ServiceId, action: &str, input: &Input) -> Vec<RequestTag> {
    request_tags_of(super::declared(service, action), input)
}

/// The tags a request carries, which IAM sees as `aws:RequestTag/KEY` and `aws:TagKeys`, where
/// the action's declaration says they are ([`TagsIn`]).
pub fn request_tags_of(action: Option<&Action>, input: &Input) -> Vec<RequestTag> {
    let (Some(action), Input::Query(p)) = (action, input) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut list = |prefix: &str, resource_type: Option<&str>| {
        for i in 1.. {
            let Some(key) = p.peek(&format!("{prefix}.{i}.Key")) else {
                break;
            };
            out.push(RequestTag {
                resource_type: resource_type.map(str::to_string),
                key: key.to_string(),
                value: p.peek(&format!("{prefix}.{i}.Value")).map(str::to_string),
            });
        }
    };
    match action.tags {
        TagsIn::None => {}
        TagsIn::Specifications => {
            for n in 1.. {
                let spec = format!("TagSpecification.{n}.");
                let rtype = p.peek(&format!("{spec}ResourceType"));
                if rtype.is_none() && p.peek(&format!("{spec}Tag.1.Key")).is_none() {
                    break;
                }
                list(&format!("{spec}Tag"), Some(rtype.unwrap_or("")));
            }
        }
        TagsIn::Set(prefix) | TagsIn::Removed(prefix) => list(prefix, None),
        TagsIn::RemovedKeys(prefix) => {
            out.extend(
                (1..)
                    .map_while(|i| p.peek(&format!("{prefix}.{i}")))
                    .map(|key| RequestTag {
                        resource_type: None,
                        key: key.to_string(),
                        value: None,
                    }),
            );
        }
    }
    // A tag set without a value gets the empty value; a removal's key stays without one (EC2's
    // DeleteTags with a value removes the tag only if it has that value: it keeps the value).
    if matches!(action.tags, TagsIn::Specifications | TagsIn::Set(_)) {
        for t in &mut out {
            t.value.get_or_insert_with(String::new);
        }
    }
    out
}

/// One extra authorization of a call that tags what it creates ("tag on create").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOnCreate {
    /// `ec2:CreateTags` or `elasticloadbalancing:AddTags`.
    pub action: &'static str,
    /// The condition key naming the create call: `ec2:CreateAction`,
    /// `elasticloadbalancing:CreateAction`.
    pub create_action_key: &'static str,
    /// The resources made, as a pattern (their ids are not known before the call).
    pub resource: String,
    /// The EC2 resource type whose tags this check is about; `None`: all the request's tags.
    pub resource_type: Option<String>,
}

/// The tag-on-create checks of `service`'s `action` (see [`tag_on_create_of`]).
pub fn tag_on_create(
    service: ServiceId,
    action: &str,
    input: &Input,
    tags: &[RequestTag],
    account: &str,
    region: &str,
) -> Vec<TagOnCreate> {
    tag_on_create_of(
        super::declared(service, action),
        input,
        tags,
        account,
        region,
    )
}

/// Tag on create. An EC2 call that tags what it creates (`TagSpecification`) is authorized,
/// beyond its own action, for `ec2:CreateTags` on each tagged resource type that can be tagged
/// (`arn:aws:ec2:R:A:TYPE/*`) with `ec2:CreateAction` naming the call (EC2 guide, "Grant
/// permission to tag resources during creation"); an unknown type is left to the handler. A call
/// whose declaration says what it `creates` is authorized, when it carries tags, for that tagging
/// action on the new resource's pattern (ELBv2). Once per resource, in order of appearance.
pub fn tag_on_create_of(
    action: Option<&Action>,
    input: &Input,
    tags: &[RequestTag],
    account: &str,
    region: &str,
) -> Vec<TagOnCreate> {
    let Some(action) = action else {
        return Vec::new();
    };
    let mut out: Vec<TagOnCreate> = Vec::new();
    if action.tags == TagsIn::Specifications {
        for t in tags {
            let Some(k) = t.resource_type.as_deref().and_then(kind::by_type) else {
                continue;
            };
            if !k.taggable
                || out
                    .iter()
                    .any(|c| c.resource_type.as_deref() == Some(k.arn_type))
            {
                continue;
            }
            out.push(TagOnCreate {
                action: "ec2:CreateTags",
                create_action_key: "ec2:CreateAction",
                resource: k.pattern(region, account),
                resource_type: Some(k.arn_type.to_string()),
            });
        }
    }
    if let Some(creates) = action.creates.filter(|_| !tags.is_empty()) {
        let r = Request {
            input,
            account,
            region,
        };
        out.extend((creates.arn)(&r).map(|resource| TagOnCreate {
            action: creates.tag_action,
            create_action_key: creates.create_action_key,
            resource,
            resource_type: None,
        }));
    }
    out
}

/// The current tags of the resource an ARN names, as IAM's `aws:ResourceTag/KEY` sees them, and the
/// service prefix of the service-specific key (`ec2:ResourceTag/KEY`,
/// `elasticloadbalancing:ResourceTag/KEY`). `None` for wildcard ARNs (create actions), unknown
/// resources and services whose resources carry no tags here. Takes the region's read lock and
/// releases it before returning, so a caller must hold no region lock (the handlers' own further
/// authorizations, `Call::authorize`, are on IAM roles, which take none).
pub fn resource_tags(world: &World, resource: &str) -> Option<(&'static str, Tags)> {
    let mut parts = resource.splitn(6, ':');
    let (Some("arn"), Some(_), Some(service), Some(region), Some(_), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if rest.ends_with('*') {
        return None;
    }
    let lock = match service {
        "ec2" | "elasticloadbalancing" => world.ec2(region)?,
        _ => return None,
    };
    let state = read(&lock);
    let tags = match service {
        "ec2" => ("ec2", state.tags(rest.rsplit('/').next()?)?.clone()),
        _ => {
            let elbv2 = &state.elbv2;
            let tags = if let Some(lb) = elbv2.load_balancers.get(resource) {
                &lb.tags
            } else if let Some(tg) = elbv2.target_groups.get(resource) {
                &tg.tags
            } else if let Some(l) = elbv2.listeners.get(resource) {
                &l.tags
            } else {
                // A classic load balancer: `loadbalancer/NAME`.
                let name = rest.strip_prefix("loadbalancer/")?;
                &state.elb.load_balancers.get(name)?.tags
            };
            ("elasticloadbalancing", tags.clone())
        }
    };
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Params, Protocol};

    fn ec2(q: &str) -> Input {
        Input::Query(Params::decode(q.as_bytes(), b"", Protocol::Ec2Query).unwrap())
    }

    #[test]
    fn ec2_resources() {
        let r = resources(
            ServiceId::Ec2,
            "CreateVolume",
            &ec2("Size=1"),
            "123456789012",
            "us-east-1",
        );
        assert_eq!(r, vec!["arn:aws:ec2:us-east-1:123456789012:volume/*"]);
        let r = resources(
            ServiceId::Ec2,
            "AttachVolume",
            &ec2("InstanceId=i-1&VolumeId=vol-2"),
            "1",
            "r",
        );
        assert_eq!(
            r,
            vec![
                "arn:aws:ec2:r:1:instance/i-1",
                "arn:aws:ec2:r:1:volume/vol-2"
            ]
        );
        let r = resources(
            ServiceId::Ec2,
            "RunInstances",
            &ec2("ImageId=ami-1&SubnetId=subnet-2&SecurityGroupId.1=sg-3"),
            "1",
            "r",
        );
        assert_eq!(
            r,
            vec![
                "arn:aws:ec2:r:1:instance/*",
                "arn:aws:ec2:r:1:network-interface/*",
                "arn:aws:ec2:r:1:volume/*",
                "arn:aws:ec2:r::image/ami-1",
                "arn:aws:ec2:r:1:subnet/subnet-2",
                "arn:aws:ec2:r:1:security-group/sg-3"
            ]
        );
        // A launch from a template is authorized on the template too.
        let r = resources(
            ServiceId::Ec2,
            "RunInstances",
            &ec2("LaunchTemplate.LaunchTemplateId=lt-4&LaunchTemplate.Version=2"),
            "1",
            "r",
        );
        assert_eq!(
            r.last().map(String::as_str),
            Some("arn:aws:ec2:r:1:launch-template/lt-4")
        );
        let r = resources(
            ServiceId::Ec2,
            "DescribeInstances",
            &ec2("InstanceId.1=i-1"),
            "1",
            "r",
        );
        assert_eq!(r, vec!["*"]);
        let r = resources(
            ServiceId::Ec2,
            "TerminateInstances",
            &ec2("InstanceId.1=i-1&InstanceId.2=i-2"),
            "1",
            "r",
        );
        assert_eq!(
            r,
            vec![
                "arn:aws:ec2:r:1:instance/i-1",
                "arn:aws:ec2:r:1:instance/i-2"
            ]
        );
        let r = resources(
            ServiceId::Ec2,
            "CreateTags",
            &ec2("ResourceId.1=sg-1&ResourceId.2=ami-2"),
            "1",
            "r",
        );
        assert_eq!(
            r,
            vec![
                "arn:aws:ec2:r:1:security-group/sg-1",
                "arn:aws:ec2:r::image/ami-2"
            ]
        );
    }

    fn query(q: &str) -> Input {
        Input::Query(Params::decode(q.as_bytes(), b"", Protocol::AwsQuery).unwrap())
    }

    #[test]
    fn iam_and_sts_resources() {
        let r = |service, action, q: &str| resources(service, action, &query(q), "1", "r");
        assert_eq!(
            r(ServiceId::Iam, "CreateRole", "RoleName=n&Path=/k/"),
            vec!["arn:aws:iam::1:role/k/n"]
        );
        assert_eq!(
            r(ServiceId::Iam, "GetRole", "RoleName=n"),
            vec!["arn:aws:iam::1:role/n"]
        );
        assert_eq!(
            r(
                ServiceId::Iam,
                "AddRoleToInstanceProfile",
                "RoleName=n&InstanceProfileName=p"
            ),
            vec!["arn:aws:iam::1:instance-profile/p"]
        );
        assert_eq!(
            r(ServiceId::Iam, "CreatePolicy", "PolicyName=p"),
            vec!["arn:aws:iam::1:policy/p"]
        );
        assert_eq!(
            r(ServiceId::Iam, "CreateServiceLinkedRole", "AWSServiceName=elasticloadbalancing.amazonaws.com"),
            vec!["arn:aws:iam::1:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"]
        );
        assert_eq!(
            r(
                ServiceId::Sts,
                "AssumeRole",
                "RoleArn=arn:aws:iam::1:role/x&RoleSessionName=s"
            ),
            vec!["arn:aws:iam::1:role/x"]
        );
        assert_eq!(r(ServiceId::Sts, "GetCallerIdentity", ""), vec!["*"]);
    }

    fn tag(rtype: Option<&str>, key: &str, value: Option<&str>) -> RequestTag {
        RequestTag {
            resource_type: rtype.map(str::to_string),
            key: key.to_string(),
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn ec2_request_tags() {
        let q = ec2("Size=1&TagSpecification.1.ResourceType=volume\
            &TagSpecification.1.Tag.1.Key=ebs.csi.aws.com%2Fcluster&TagSpecification.1.Tag.1.Value=true\
            &TagSpecification.1.Tag.2.Key=empty\
            &TagSpecification.2.ResourceType=snapshot&TagSpecification.2.Tag.1.Key=k&TagSpecification.2.Tag.1.Value=v");
        let tags = request_tags(ServiceId::Ec2, "CreateVolume", &q);
        assert_eq!(
            tags,
            vec![
                tag(Some("volume"), "ebs.csi.aws.com/cluster", Some("true")),
                tag(Some("volume"), "empty", Some("")),
                tag(Some("snapshot"), "k", Some("v")),
            ]
        );
        let checks: Vec<(String, Option<String>)> =
            tag_on_create(ServiceId::Ec2, "CreateVolume", &q, &tags, "1", "r")
                .into_iter()
                .map(|c| {
                    assert_eq!(
                        (c.action, c.create_action_key),
                        ("ec2:CreateTags", "ec2:CreateAction")
                    );
                    (c.resource, c.resource_type)
                })
                .collect();
        assert_eq!(
            checks,
            vec![
                (
                    "arn:aws:ec2:r:1:volume/*".to_string(),
                    Some("volume".to_string())
                ),
                (
                    "arn:aws:ec2:r::snapshot/*".to_string(),
                    Some("snapshot".to_string())
                ),
            ]
        );
        // A specification without tags asks for no tagging; an unknown type is left to the handler.
        let q = ec2("TagSpecification.1.ResourceType=volume&TagSpecification.2.ResourceType=bogus&TagSpecification.2.Tag.1.Key=a");
        let tags = request_tags(ServiceId::Ec2, "CreateVolume", &q);
        assert_eq!(tags, vec![tag(Some("bogus"), "a", Some(""))]);
        assert!(tag_on_create(ServiceId::Ec2, "CreateVolume", &q, &tags, "1", "r").is_empty());
        // CreateTags: its own `Tag.N`, no tag-on-create check.
        let q = ec2("ResourceId.1=vol-1&Tag.1.Key=a&Tag.1.Value=b&Tag.2.Key=c");
        let tags = request_tags(ServiceId::Ec2, "CreateTags", &q);
        assert_eq!(
            tags,
            vec![tag(None, "a", Some("b")), tag(None, "c", Some(""))]
        );
        assert!(tag_on_create(ServiceId::Ec2, "CreateTags", &q, &tags, "1", "r").is_empty());
        // DeleteTags: a key without a value deletes whatever the value, and has no value here.
        let q = ec2("ResourceId.1=vol-1&Tag.1.Key=a&Tag.2.Key=c&Tag.2.Value=d");
        assert_eq!(
            request_tags(ServiceId::Ec2, "DeleteTags", &q),
            vec![tag(None, "a", None), tag(None, "c", Some("d"))]
        );
        assert!(
            request_tags(ServiceId::Ec2, "DescribeVolumes", &ec2("VolumeId.1=vol-1")).is_empty()
        );
    }

    #[test]
    fn load_balancer_request_tags() {
        let q = query("Name=tg&Tags.member.1.Key=elbv2.k8s.aws%2Fcluster&Tags.member.1.Value=c1");
        assert_eq!(
            request_tags(ServiceId::Elbv2, "CreateTargetGroup", &q),
            vec![tag(None, "elbv2.k8s.aws/cluster", Some("c1"))]
        );
        let tags = request_tags(ServiceId::Elbv2, "CreateTargetGroup", &q);
        assert_eq!(
            tag_on_create(ServiceId::Elbv2, "CreateTargetGroup", &q, &tags, "1", "r"),
            vec![TagOnCreate {
                action: "elasticloadbalancing:AddTags",
                create_action_key: "elasticloadbalancing:CreateAction",
                resource: "arn:aws:elasticloadbalancing:r:1:targetgroup/tg/*".to_string(),
                resource_type: None,
            }]
        );
        // Untagged: no tagging to authorize.
        assert!(tag_on_create(ServiceId::Elbv2, "CreateTargetGroup", &q, &[], "1", "r").is_empty());
        let on = |action: &str, q: &str| {
            let q = query(q);
            let tags = request_tags(ServiceId::Elbv2, action, &q);
            tag_on_create(ServiceId::Elbv2, action, &q, &tags, "1", "r")
                .into_iter()
                .map(|c| c.resource)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            on(
                "CreateLoadBalancer",
                "Name=n&Type=network&Tags.member.1.Key=k"
            ),
            vec!["arn:aws:elasticloadbalancing:r:1:loadbalancer/net/n/*"]
        );
        assert_eq!(
            on("CreateLoadBalancer", "Name=n&Tags.member.1.Key=k"),
            vec!["arn:aws:elasticloadbalancing:r:1:loadbalancer/app/n/*"]
        );
        assert_eq!(
            on(
                "CreateListener",
                "LoadBalancerArn=arn:aws:elasticloadbalancing:r:1:loadbalancer/app/n/ab&Tags.member.1.Key=k"
            ),
            vec!["arn:aws:elasticloadbalancing:r:1:listener/app/n/ab/*"]
        );
        assert_eq!(
            on(
                "CreateRule",
                "ListenerArn=arn:aws:elasticloadbalancing:r:1:listener/app/n/ab/cd&Tags.member.1.Key=k"
            ),
            vec!["arn:aws:elasticloadbalancing:r:1:listener-rule/app/n/ab/cd/*"]
        );
        assert!(on(
            "CreateLoadBalancer",
            "Name=n&Type=bogus&Tags.member.1.Key=k"
        )
        .is_empty());
        assert!(on("AddTags", "ResourceArns.member.1=x&Tags.member.1.Key=k").is_empty());
        // RemoveTags: keys without values.
        assert_eq!(
            request_tags(
                ServiceId::Elbv2,
                "RemoveTags",
                &query("ResourceArns.member.1=x&TagKeys.member.1=a&TagKeys.member.2=b")
            ),
            vec![tag(None, "a", None), tag(None, "b", None)]
        );
        assert_eq!(
            request_tags(
                ServiceId::Elb,
                "RemoveTags",
                &query("LoadBalancerNames.member.1=x&Tags.member.1.Key=a")
            ),
            vec![tag(None, "a", None)]
        );
        assert!(request_tags(ServiceId::Elbv2, "DescribeTargetGroups", &q).is_empty());
        let q = query("LoadBalancerNames.member.1=a&Tags.member.1.Key=k");
        assert_eq!(
            request_tags(ServiceId::Elb, "AddTags", &q),
            vec![tag(None, "k", Some(""))]
        );
        // SetRulePriorities is authorized on each rule it moves.
        let q = query(
            "RulePriorities.member.1.RuleArn=arn:r:1&RulePriorities.member.1.Priority=1&RulePriorities.member.2.RuleArn=arn:r:2",
        );
        assert_eq!(
            resources(ServiceId::Elbv2, "SetRulePriorities", &q, "1", "r"),
            vec!["arn:r:1", "arn:r:2"]
        );
        let q = query(
            "ResourceArns.member.1=arn:x:1&ResourceArns.member.2=arn:x:2&Tags.member.1.Key=k",
        );
        assert_eq!(
            resources(ServiceId::Elbv2, "AddTags", &q, "1", "r"),
            vec!["arn:x:1", "arn:x:2"]
        );
    }

    #[test]
    fn tag_on_create_covers_every_taggable_kind() {
        // The types a `TagSpecification` may name, as the EC2 kinds declare them.
        let mut taggable: Vec<&str> = crate::services::ec2::KINDS
            .iter()
            .filter(|k| k.taggable)
            .map(|k| k.arn_type)
            .collect();
        taggable.sort_unstable();
        assert_eq!(
            taggable,
            [
                "elastic-ip",
                "image",
                "instance",
                "internet-gateway",
                "key-pair",
                "launch-template",
                "natgateway",
                "network-interface",
                "route-table",
                "security-group",
                "security-group-rule",
                "snapshot",
                "spot-instances-request",
                "subnet",
                "volume",
                "vpc"
            ]
        );
        // An image's pattern has no account; a kind that cannot be tagged gets no check.
        let q = ec2(
            "TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key=a\
            &TagSpecification.2.ResourceType=prefix-list&TagSpecification.2.Tag.1.Key=b\
            &TagSpecification.3.ResourceType=image&TagSpecification.3.Tag.1.Key=c",
        );
        let tags = request_tags(ServiceId::Ec2, "CreateVolume", &q);
        assert_eq!(tags.len(), 3);
        let checks = tag_on_create(ServiceId::Ec2, "CreateVolume", &q, &tags, "1", "r");
        assert_eq!(
            checks
                .iter()
                .map(|c| c.resource.as_str())
                .collect::<Vec<_>>(),
            ["arn:aws:ec2:r::image/*"],
            "once per type"
        );
        // An action whose declaration names no tags carries none, whatever the request holds.
        assert!(request_tags(ServiceId::Ec2, "DescribeVolumes", &q).is_empty());
        // Undeclared actions: `*`, no tags.
        assert_eq!(
            resources(
                ServiceId::Ec2,
                "DescribeAddresses",
                &ec2("PublicIp.1=54.1.2.3"),
                "1",
                "r"
            ),
            ["*"]
        );
    }

    #[test]
    fn create_volume_from_snapshot() {
        let r = resources(
            ServiceId::Ec2,
            "CreateVolume",
            &ec2("Size=1&SnapshotId=snap-1"),
            "1",
            "r",
        );
        assert_eq!(
            r,
            vec!["arn:aws:ec2:r:1:volume/*", "arn:aws:ec2:r::snapshot/snap-1"]
        );
    }

    #[test]
    fn resource_tags_of_arns() {
        let world = World::new(&crate::config::Config::default());
        let lock = world.ec2("us-east-1").unwrap();
        let vpc = {
            let mut r = crate::state::write(&lock);
            let vpc = r.default_vpc_id.clone();
            r.tags_mut(&vpc)
                .unwrap()
                .insert("team".to_string(), "a".to_string());
            vpc
        };
        let (service, tags) =
            resource_tags(&world, &format!("arn:aws:ec2:us-east-1:1:vpc/{vpc}")).unwrap();
        assert_eq!(service, "ec2");
        assert_eq!(tags.get("team").map(String::as_str), Some("a"));
        assert!(resource_tags(&world, "arn:aws:ec2:us-east-1:1:volume/*").is_none());
        assert!(resource_tags(&world, "arn:aws:ec2:us-east-1:1:volume/vol-0").is_none());
        assert!(resource_tags(&world, "arn:aws:iam::1:role/x").is_none());
        assert!(resource_tags(&world, "*").is_none());
    }
}
