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
            if let Some(role) = p.peek("RoleName") {
                out.push(format!("arn:aws:iam::{account}:role/{role}"));
            }
        }
        (ServiceId::Kms, Input::Json(j)) => {
            if let Ok(Some(key)) = j.str("KeyId") {
                out.push(if key.starts_with("arn:") {
                    key.to_string()
                } else if key.starts_with("alias/") {
                    format!("arn:aws:kms:{region}:{account}:{key}")
                } else {
                    format!("arn:aws:kms:{region}:{account}:key/{key}")
                });
            }
        }
        (ServiceId::Ecr, Input::Json(j)) => {
            if let Ok(Some(repo)) = j.str("repositoryName") {
                out.push(format!("arn:aws:ecr:{region}:{account}:repository/{repo}"));
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
}
