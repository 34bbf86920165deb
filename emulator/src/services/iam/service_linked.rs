//! CreateServiceLinkedRole: the role a service uses on the account's behalf, with the name AWS
//! gives it, under `/aws-service-role/SERVICE/`, trusted by that service alone, and only AWS's to
//! change. The cloud provider's control plane may create the ELB one.

use crate::auth::directory::{new_id, NewRole, DEFAULT_MAX_SESSION_SECS};
use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, Request};
use crate::services::Call;

use super::{is_description, name, render_role, trust_document, RoleView, DESCRIPTION_PATTERN};

/// The actions of this family.
pub const ACTIONS: &[Action] =
    &[
        Action::new("CreateServiceLinkedRole", create_service_linked_role)
            .on(&[On::Custom(on_service_role)]),
    ];

/// CreateServiceLinkedRole is authorized on the role it makes, whose name the service gives.
fn on_service_role(r: &Request<'_>, out: &mut Vec<String>) {
    if let Some(service) = r.value("AWSServiceName") {
        out.push(resource(r.account, service, r.value("CustomSuffix")));
    }
}

/// The services whose service-linked roles awsemu knows: (service principal, role name, whether
/// a `CustomSuffix` is allowed).
const SERVICES: &[(&str, &str, bool)] = &[
    (
        "elasticloadbalancing.amazonaws.com",
        "AWSServiceRoleForElasticLoadBalancing",
        false,
    ),
    (
        "autoscaling.amazonaws.com",
        "AWSServiceRoleForAutoScaling",
        true,
    ),
    ("spot.amazonaws.com", "AWSServiceRoleForEC2Spot", false),
    ("eks.amazonaws.com", "AWSServiceRoleForAmazonEKS", false),
    (
        "eks-nodegroup.amazonaws.com",
        "AWSServiceRoleForAmazonEKSNodegroup",
        false,
    ),
    (
        "replication.ecr.amazonaws.com",
        "AWSServiceRoleForECRReplication",
        false,
    ),
];

fn known(service: &str) -> Option<(&'static str, bool)> {
    SERVICES
        .iter()
        .find(|(s, _, _)| *s == service)
        .map(|(_, role, suffix)| (*role, *suffix))
}

/// The role name for `service` with an optional custom suffix (`NAME_SUFFIX`).
fn role_name(service: &str, suffix: Option<&str>) -> Option<String> {
    let (base, _) = known(service)?;
    Some(match suffix {
        Some(s) => format!("{base}_{s}"),
        None => base.to_string(),
    })
}

/// The ARN `iam:CreateServiceLinkedRole` is authorized against: the role it would make.
pub fn resource(account: &str, service: &str, suffix: Option<&str>) -> String {
    let name = role_name(service, suffix).unwrap_or_else(|| "*".to_string());
    format!("arn:aws:iam::{account}:role/aws-service-role/{service}/{name}")
}

fn create_service_linked_role(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let service = p.required("AWSServiceName")?;
    let desc = p.str("Description");
    let suffix = p.str("CustomSuffix");
    call.params()?.finish()?;
    let mut c = Constraints::new();
    name(&mut c, "aWSServiceName", Some(service), 128);
    c.length("description", desc, 0, 1000).pattern(
        "description",
        desc,
        DESCRIPTION_PATTERN,
        is_description,
    );
    name(&mut c, "customSuffix", suffix, 64);
    c.check()?;
    let Some((_, suffix_allowed)) = known(service) else {
        return Err(AwsError::bad_request(
            "InvalidInput",
            format!(
                "awsemu does not know the service-linked role of {service}; known services: {}",
                SERVICES.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    if suffix.is_some() && !suffix_allowed {
        return Err(AwsError::bad_request(
            "InvalidInput",
            format!("Custom suffix is not allowed for {service}"),
        ));
    }
    let role = role_name(service, suffix).ok_or_else(AwsError::internal)?;
    let trust_text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let trust = trust_document(&trust_text)?;
    let id = new_id(&call.world.ids, "AROA");
    let mut dir = call.identities.directory_mut();
    if dir.has_role(&role) {
        return Err(AwsError::bad_request(
            "InvalidInput",
            format!(
                "Service role name {role} has been taken in this account, please try a different suffix."
            ),
        ));
    }
    let created = dir.create_role(
        NewRole {
            name: role,
            path: format!("/aws-service-role/{service}/"),
            trust,
            description: desc.map(str::to_string),
            max_session_secs: DEFAULT_MAX_SESSION_SECS,
            tags: Vec::new(),
            service_linked: true,
        },
        id,
        call.now_ms,
    )?;
    let mut w = call.writer();
    w.structure("Role", |w| render_role(w, created, RoleView::Created));
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_resources() {
        assert_eq!(
            resource("123456789012", "elasticloadbalancing.amazonaws.com", None),
            "arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
        );
        assert_eq!(
            role_name("autoscaling.amazonaws.com", Some("blue")).as_deref(),
            Some("AWSServiceRoleForAutoScaling_blue")
        );
        assert_eq!(role_name("nope.amazonaws.com", None), None);
    }
}
