//! The resources an action is authorized against, as the service authorization reference lists
//! them: `ec2:CreateVolume` on `arn:aws:ec2:REGION:ACCOUNT:volume/*`, `ec2:AttachVolume` on the
//! instance and the volume, a classic load balancer by its name, and so on. Actions that AWS does
//! not scope to a resource (most Describe calls) are checked against `*`.

use crate::protocol::route::Input;
use crate::protocol::ServiceId;

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
                    for i in 1.. {
                        match p.peek(&format!("{prefix}{i}")) {
                            Some(id) => out.push(ec2_arn(region, account, id)),
                            None => break,
                        }
                    }
                }
            } else if let Some(t) = ec2_created_type(action) {
                out.push(format!("arn:aws:ec2:{region}:{account}:{t}/*"));
            } else {
                for name in EC2_ID_PARAMS {
                    // `peek`: authorization must not mark parameters as read for the handler.
                    if let Some(id) = p.peek(name) {
                        out.push(ec2_arn(region, account, id));
                    }
                    // Lists (`InstanceId.1`, … of Start/Stop/TerminateInstances): each one.
                    for i in 1.. {
                        match p.peek(&format!("{name}.{i}")) {
                            Some(id) => out.push(ec2_arn(region, account, id)),
                            None => break,
                        }
                    }
                }
                if action == "CreateTags" || action == "DeleteTags" {
                    for i in 1.. {
                        match p.peek(&format!("ResourceId.{i}")) {
                            Some(id) => out.push(ec2_arn(region, account, id)),
                            None => break,
                        }
                    }
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
            for i in 1.. {
                match p.peek(&format!("LoadBalancerNames.member.{i}")) {
                    Some(name) => out.push(arn(name)),
                    None => break,
                }
            }
        }
        (ServiceId::Elbv2, Input::Query(p)) => {
            for name in ["LoadBalancerArn", "TargetGroupArn", "ListenerArn"] {
                if let Some(arn) = p.peek(name) {
                    out.push(arn.to_string());
                }
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
}
