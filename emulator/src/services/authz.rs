//! The resources an action is authorized against, as the service authorization reference lists
//! them: `ec2:CreateVolume` on `arn:aws:ec2:REGION:ACCOUNT:volume/*`, `ec2:AttachVolume` on the
//! instance and the volume, a classic load balancer by its name, and so on. Actions that AWS does
//! not scope to a resource (most Describe calls) are checked against `*`.

use crate::protocol::route::Input;
use crate::protocol::{Params, ServiceId};
use crate::state::tags::Tags;
use crate::state::{read, World};

/// The EC2 resource type of an id, by its prefix.
pub fn ec2_resource_type(id: &str) -> Option<&'static str> {
    let prefix = id.split_once('-')?.0;
    Some(match prefix {
        "i" => "instance",
        "vol" => "volume",
        "sg" => "security-group",
        "subnet" => "subnet",
        "vpc" => "vpc",
        "rtb" => "route-table",
        "igw" => "internet-gateway",
        "eni" => "network-interface",
        "snap" => "snapshot",
        "ami" => "image",
        "key" => "key-pair",
        _ => return None,
    })
}

/// The ARN of an EC2 resource id (images have no account in theirs).
pub fn ec2_arn(region: &str, account: &str, id: &str) -> String {
    match ec2_resource_type(id) {
        Some("image") => format!("arn:aws:ec2:{region}::image/{id}"),
        Some(t) => format!("arn:aws:ec2:{region}:{account}:{t}/{id}"),
        None => format!("arn:aws:ec2:{region}:{account}:{id}"),
    }
}

/// The resource type an EC2 create action makes (checked against `TYPE/*`).
fn ec2_created_type(action: &str) -> Option<&'static str> {
    Some(match action {
        "CreateVolume" => "volume",
        "CreateSecurityGroup" => "security-group",
        "CreateVpc" => "vpc",
        "CreateSubnet" => "subnet",
        "CreateRouteTable" => "route-table",
        "CreateInternetGateway" => "internet-gateway",
        "CreateNetworkInterface" => "network-interface",
        "CreateSnapshot" => "snapshot",
        _ => return None,
    })
}

/// The ARN of a KMS key or alias reference (key id, key ARN, `alias/name` or alias ARN).
fn kms_arn(reference: &str, region: &str, account: &str) -> String {
    if reference.starts_with("arn:") {
        reference.to_string()
    } else if reference.starts_with("alias/") {
        format!("arn:aws:kms:{region}:{account}:{reference}")
    } else {
        format!("arn:aws:kms:{region}:{account}:key/{reference}")
    }
}

/// The parameters of an EC2 action that name the resources it acts on.
const EC2_ID_PARAMS: &[&str] = &[
    "InstanceId",
    "VolumeId",
    "GroupId",
    "SubnetId",
    "VpcId",
    "RouteTableId",
    "InternetGatewayId",
    "NetworkInterfaceId",
];

/// The resources `service`'s `action` is authorized against for this input. Never empty.
pub fn resources(
    service: ServiceId,
    action: &str,
    input: &Input,
    account: &str,
    region: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    match (service, input) {
        (ServiceId::Ec2, Input::Query(p)) if !action.starts_with("Describe") => {
            if action == "RunInstances" {
                // RunInstances is authorized against everything it uses and makes, as AWS does.
                for t in ["instance", "network-interface", "volume"] {
                    out.push(format!("arn:aws:ec2:{region}:{account}:{t}/*"));
                }
                for name in ["ImageId", "SubnetId", "KeyName"] {
                    if let Some(v) = p.peek(name) {
                        let arn = match name {
                            "KeyName" => format!("arn:aws:ec2:{region}:{account}:key-pair/{v}"),
                            _ => ec2_arn(region, account, v),
                        };
                        out.push(arn);
                    }
                }
                for prefix in ["SecurityGroupId.", "SecurityGroupIds."] {
                    out.extend(numbered(p, prefix).map(|id| ec2_arn(region, account, id)));
                }
            } else if let Some(t) = ec2_created_type(action) {
                out.push(format!("arn:aws:ec2:{region}:{account}:{t}/*"));
                // CreateVolume from a snapshot is authorized on that snapshot too.
                if let Some(snapshot) = p.peek("SnapshotId") {
                    out.push(ec2_arn(region, account, snapshot));
                }
            } else {
                for name in EC2_ID_PARAMS {
                    // `peek`: authorization must not mark parameters as read for the handler.
                    if let Some(id) = p.peek(name) {
                        out.push(ec2_arn(region, account, id));
                    }
                    // Lists (`InstanceId.1`, … of Start/Stop/TerminateInstances): each one.
                    let list = format!("{name}.");
                    out.extend(numbered(p, &list).map(|id| ec2_arn(region, account, id)));
                }
                if action == "CreateTags" || action == "DeleteTags" {
                    out.extend(numbered(p, "ResourceId.").map(|id| ec2_arn(region, account, id)));
                }
            }
        }
        // Classic Describe calls are not scoped to a resource; the others act on the load
        // balancers they name (AddTags and RemoveTags on a list of them).
        (ServiceId::Elb, Input::Query(p)) if !action.starts_with("Describe") => {
            let arn = |name: &str| {
                format!("arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{name}")
            };
            if let Some(name) = p.peek("LoadBalancerName") {
                out.push(arn(name));
            }
            out.extend(numbered(p, "LoadBalancerNames.member.").map(arn));
        }
        (ServiceId::Elbv2, Input::Query(p)) => {
            for name in ["LoadBalancerArn", "TargetGroupArn", "ListenerArn"] {
                if let Some(arn) = p.peek(name) {
                    out.push(arn.to_string());
                }
            }
            // AddTags and RemoveTags act on each resource they name.
            if action == "AddTags" || action == "RemoveTags" {
                out.extend(numbered(p, "ResourceArns.member.").map(str::to_string));
            }
        }
        (ServiceId::Iam, Input::Query(p)) => {
            // Roles and profiles are named without their path here; the pipeline puts the path
            // of an existing one back (`Identities::with_path`). Create calls carry theirs.
            let created_path = p.peek("Path").unwrap_or("/");
            match action {
                "CreateServiceLinkedRole" => {
                    if let Some(service) = p.peek("AWSServiceName") {
                        out.push(super::iam::service_linked::resource(
                            account,
                            service,
                            p.peek("CustomSuffix"),
                        ));
                    }
                }
                "CreatePolicy" => {
                    if let Some(name) = p.peek("PolicyName") {
                        out.push(format!("arn:aws:iam::{account}:policy{created_path}{name}"));
                    }
                }
                "GetPolicy" | "DeletePolicy" => {
                    if let Some(arn) = p.peek("PolicyArn") {
                        out.push(arn.to_string());
                    }
                }
                "CreateInstanceProfile"
                | "GetInstanceProfile"
                | "DeleteInstanceProfile"
                | "AddRoleToInstanceProfile"
                | "RemoveRoleFromInstanceProfile" => {
                    if let Some(name) = p.peek("InstanceProfileName") {
                        let path = if action == "CreateInstanceProfile" {
                            created_path
                        } else {
                            "/"
                        };
                        out.push(format!(
                            "arn:aws:iam::{account}:instance-profile{path}{name}"
                        ));
                    }
                }
                _ => {
                    if let Some(role) = p.peek("RoleName") {
                        let path = if action == "CreateRole" {
                            created_path
                        } else {
                            "/"
                        };
                        out.push(format!("arn:aws:iam::{account}:role{path}{role}"));
                    }
                }
            }
        }
        (ServiceId::Sts, Input::Query(p)) if action == "AssumeRole" => {
            if let Some(arn) = p.peek("RoleArn") {
                out.push(arn.to_string());
            }
        }
        (ServiceId::Kms, Input::Json(j)) => {
            // CreateAlias is authorized on the alias and on its target key, DeleteAlias on the
            // alias, the key operations on the key (ListAliases' KeyId only filters).
            if let Ok(Some(alias)) = j.str("AliasName") {
                out.push(kms_arn(alias, region, account));
            }
            let key = match action {
                "ListAliases" => None,
                "CreateAlias" => j.str("TargetKeyId").ok().flatten(),
                _ => j.str("KeyId").ok().flatten(),
            };
            if let Some(key) = key {
                out.push(kms_arn(key, region, account));
            }
        }
        (ServiceId::Ecr, Input::Json(j)) => {
            // The repository (in the named registry, else the caller's); DescribeRepositories
            // with names is checked against each repository it names.
            let registry = j.str("registryId").ok().flatten().unwrap_or(account);
            let root = j.root();
            let mut names: Vec<&str> = root
                .strings("repositoryNames")
                .ok()
                .flatten()
                .unwrap_or_default();
            if let Ok(Some(repo)) = j.str("repositoryName") {
                names.push(repo);
            }
            for repo in names {
                out.push(format!("arn:aws:ecr:{region}:{registry}:repository/{repo}"));
            }
        }
        _ => {}
    }
    if out.is_empty() {
        out.push("*".to_string());
    }
    out
}

/// `prefix1`, `prefix2`, ... up to the first gap, read with `peek` (authorization must not mark
/// parameters as read for the handler).
fn numbered<'p>(p: &'p Params, prefix: &'p str) -> impl Iterator<Item = &'p str> + 'p {
    (1..).map_while(move |i| p.peek(&format!("{prefix}{i}")))
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

/// The tags a request carries, which IAM sees as `aws:RequestTag/KEY` and `aws:TagKeys`:
/// EC2's `TagSpecification.N.Tag.M` (every create action), `Tag.N` of CreateTags/DeleteTags,
/// ELB/ELBv2's `Tags.member.N` (CreateLoadBalancer, CreateTargetGroup, CreateListener,
/// CreateRule, AddTags) and the keys RemoveTags names.
pub fn request_tags(service: ServiceId, action: &str, input: &Input) -> Vec<RequestTag> {
    let Input::Query(p) = input else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut list = |prefix: &str, resource_type: Option<&str>| {
        for i in 1.. {
            let Some(key) = p.peek(&format!("{prefix}{i}.Key")) else {
                break;
            };
            out.push(RequestTag {
                resource_type: resource_type.map(str::to_string),
                key: key.to_string(),
                value: p.peek(&format!("{prefix}{i}.Value")).map(str::to_string),
            });
        }
    };
    match service {
        ServiceId::Ec2 if action == "CreateTags" || action == "DeleteTags" => list("Tag.", None),
        ServiceId::Ec2 => {
            for n in 1.. {
                let spec = format!("TagSpecification.{n}.");
                let rtype = p.peek(&format!("{spec}ResourceType"));
                if rtype.is_none() && p.peek(&format!("{spec}Tag.1.Key")).is_none() {
                    break;
                }
                list(&format!("{spec}Tag."), Some(rtype.unwrap_or("")));
            }
        }
        ServiceId::Elb | ServiceId::Elbv2
            if matches!(
                action,
                "CreateLoadBalancer"
                    | "CreateTargetGroup"
                    | "CreateListener"
                    | "CreateRule"
                    | "AddTags"
            ) =>
        {
            list("Tags.member.", None)
        }
        // Removals name keys only: classic ELB's `Tags.member.N.Key`, ELBv2's `TagKeys.member.N`.
        ServiceId::Elb if action == "RemoveTags" => list("Tags.member.", None),
        ServiceId::Elbv2 if action == "RemoveTags" => {
            out.extend(numbered(p, "TagKeys.member.").map(|key| RequestTag {
                resource_type: None,
                key: key.to_string(),
                value: None,
            }));
        }
        _ => {}
    }
    // A tag set without a value gets the empty value; a removal's key stays without one (EC2's
    // DeleteTags with a value removes the tag only if it has that value: it keeps the value).
    if action != "DeleteTags" && action != "RemoveTags" {
        for t in &mut out {
            t.value.get_or_insert_with(String::new);
        }
    }
    out
}

/// The EC2 resource types a `TagSpecification` may name (the ARN resource type is the same word).
const EC2_TAGGABLE_TYPES: &[&str] = &[
    "instance",
    "volume",
    "security-group",
    "security-group-rule",
    "vpc",
    "subnet",
    "route-table",
    "internet-gateway",
    "network-interface",
    "snapshot",
    "key-pair",
    "launch-template",
    "image",
    "elastic-ip",
    "natgateway",
];

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

/// Tag on create. An EC2 call that tags what it creates (`TagSpecification`) is authorized,
/// beyond its own action, for `ec2:CreateTags` on each tagged resource type
/// (`arn:aws:ec2:R:A:TYPE/*`) with `ec2:CreateAction` naming the call (EC2 guide, "Grant
/// permission to tag resources during creation"). An ELBv2 create call with `Tags` is authorized
/// for `elasticloadbalancing:AddTags` with `elasticloadbalancing:CreateAction` ("ELB API
/// permissions to tag resources during creation"); AWS checks the new resource's ARN, which is not
/// known before the call here, so the check is on its pattern (`targetgroup/NAME/*`, ...).
/// Once per resource, in order of appearance.
pub fn tag_on_create(
    service: ServiceId,
    action: &str,
    input: &Input,
    tags: &[RequestTag],
    account: &str,
    region: &str,
) -> Vec<TagOnCreate> {
    let mut out: Vec<TagOnCreate> = Vec::new();
    match (service, input) {
        (ServiceId::Ec2, _) if action != "CreateTags" && action != "DeleteTags" => {
            for t in tags {
                let Some(rtype) = t.resource_type.as_deref() else {
                    continue;
                };
                if !EC2_TAGGABLE_TYPES.contains(&rtype)
                    || out
                        .iter()
                        .any(|c| c.resource_type.as_deref() == Some(rtype))
                {
                    continue;
                }
                let resource = match rtype {
                    "image" => format!("arn:aws:ec2:{region}::image/*"),
                    _ => format!("arn:aws:ec2:{region}:{account}:{rtype}/*"),
                };
                out.push(TagOnCreate {
                    action: "ec2:CreateTags",
                    create_action_key: "ec2:CreateAction",
                    resource,
                    resource_type: Some(rtype.to_string()),
                });
            }
        }
        (ServiceId::Elbv2, Input::Query(p)) if !tags.is_empty() => {
            use super::elbv2::{arn, model::LbType};
            let resource = match action {
                "CreateLoadBalancer" => p.peek("Name").and_then(|name| {
                    let kind = LbType::parse(p.peek("Type").unwrap_or("application"))?;
                    Some(arn::load_balancer(region, account, kind, name, "*"))
                }),
                "CreateTargetGroup" => p
                    .peek("Name")
                    .map(|name| arn::target_group(region, account, name, "*")),
                "CreateListener" => p.peek("LoadBalancerArn").map(|lb| arn::listener(lb, "*")),
                "CreateRule" => p
                    .peek("ListenerArn")
                    .map(|l| format!("{}/*", l.replacen(":listener/", ":listener-rule/", 1))),
                _ => None,
            };
            out.extend(resource.map(|resource| TagOnCreate {
                action: "elasticloadbalancing:AddTags",
                create_action_key: "elasticloadbalancing:CreateAction",
                resource,
                resource_type: None,
            }));
        }
        _ => {}
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
                    "arn:aws:ec2:r:1:snapshot/*".to_string(),
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
        let q = query(
            "ResourceArns.member.1=arn:x:1&ResourceArns.member.2=arn:x:2&Tags.member.1.Key=k",
        );
        assert_eq!(
            resources(ServiceId::Elbv2, "AddTags", &q, "1", "r"),
            vec!["arn:x:1", "arn:x:2"]
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
            vec![
                "arn:aws:ec2:r:1:volume/*",
                "arn:aws:ec2:r:1:snapshot/snap-1"
            ]
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
