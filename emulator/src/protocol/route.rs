//! Which service and action a request is for (DESIGN.md: credential-scope service first, then `Version`
//! to tell the two ELB APIs apart, then `X-Amz-Target` for the JSON services; unsigned requests by
//! `Action`/`Version`/`X-Amz-Target`), and its decoded input.

use super::error::{AwsError, AwsResult};
use super::json::JsonInput;
use super::params::Params;
use super::service::{Protocol, ServiceId};

/// The decoded input of a request, in its protocol's form.
#[derive(Debug)]
pub enum Input {
    Query(Params),
    Json(JsonInput),
}

/// A request tied to a service and action.
#[derive(Debug)]
pub struct Routed {
    pub service: ServiceId,
    pub action: String,
    pub input: Input,
}

/// A routing failure, with the service when it is known (so the error takes that service's envelope).
#[derive(Debug)]
pub struct RouteError {
    pub service: Option<ServiceId>,
    pub error: AwsError,
}

fn fail<T>(service: Option<ServiceId>, error: AwsError) -> Result<T, RouteError> {
    Err(RouteError { service, error })
}

/// The service a SigV4 signing name stands for; ELB needs the `Version` to choose.
fn by_signing_name(name: &str, version: Option<&str>) -> AwsResult<Option<ServiceId>> {
    Ok(match name {
        "ec2" => Some(ServiceId::Ec2),
        "autoscaling" => Some(ServiceId::Autoscaling),
        "iam" => Some(ServiceId::Iam),
        "sts" => Some(ServiceId::Sts),
        "kms" => Some(ServiceId::Kms),
        "ecr" | "api.ecr" => Some(ServiceId::Ecr),
        "elasticloadbalancing" => match version {
            Some("2012-06-01") => Some(ServiceId::Elb),
            Some("2015-12-01") => Some(ServiceId::Elbv2),
            Some(v) => {
                return Err(AwsError::bad_request(
                    "InvalidParameterValue",
                    format!("Unsupported elasticloadbalancing API version '{v}': use 2012-06-01 (classic) or 2015-12-01 (v2)"),
                ))
            }
            None => {
                return Err(AwsError::bad_request(
                    "MissingParameter",
                    "The request must contain the parameter Version",
                ))
            }
        },
        _ => None,
    })
}

/// The service a request is for judging by its headers alone (for answers given before the body is
/// read, such as a body over the size limit). Both ELB APIs share one envelope shape, so the
/// classic one stands for either.
pub fn service_hint(scope_service: Option<&str>, target: Option<&str>) -> Option<ServiceId> {
    if let Some((service, _)) = target.and_then(ServiceId::from_target) {
        return Some(service);
    }
    match scope_service? {
        "elasticloadbalancing" => Some(ServiceId::Elb),
        name => by_signing_name(name, None).ok().flatten(),
    }
}

/// Routes a request. `scope_service` is the service named in the SigV4 credential scope, if signed.
pub fn route(
    scope_service: Option<&str>,
    target: Option<&str>,
    raw_query: &[u8],
    body: &[u8],
    body_is_form: bool,
) -> Result<Routed, RouteError> {
    if let Some(target) = target {
        let Some((service, op)) = ServiceId::from_target(target) else {
            return fail(
                None,
                AwsError::bad_request(
                    "UnknownOperationException",
                    format!("Unknown X-Amz-Target '{target}'"),
                ),
            );
        };
        let input = JsonInput::parse(body).map_err(|e| RouteError {
            service: Some(service),
            error: e,
        })?;
        return Ok(Routed {
            service,
            action: op.to_string(),
            input: Input::Json(input),
        });
    }
    // Query protocols: the parameters may be in the URL, the form body, or both.
    let form = if body_is_form || body.is_empty() {
        body
    } else {
        b""
    };
    let hint = service_hint(scope_service, None);
    let params = match Params::decode(raw_query, form, Protocol::AwsQuery) {
        Ok(p) => p,
        Err(e) => return fail(hint, e),
    };
    let version = params.peek("Version");
    let service = match scope_service {
        Some(name) => match by_signing_name(name, version) {
            Ok(Some(s)) => s,
            Ok(None) => {
                return fail(
                    None,
                    AwsError::bad_request("UnknownService", format!("awsemu does not serve the service '{name}'")),
                )
            }
            Err(e) => return fail(None, e),
        },
        None => match version.and_then(ServiceId::from_version) {
            Some(s) => s,
            None if !body.is_empty() && !body_is_form => {
                return fail(
                    None,
                    AwsError::bad_request(
                        "UnknownOperationException",
                        "A JSON request needs an X-Amz-Target header naming the operation",
                    ),
                )
            }
            None => {
                return fail(
                    None,
                    AwsError::bad_request(
                        "MissingAction",
                        "Cannot tell which service this request is for: sign it with SigV4, or send Action and Version (or X-Amz-Target)",
                    ),
                )
            }
        },
    };
    let Some(action) = params.peek("Action").map(str::to_string) else {
        return fail(
            Some(service),
            AwsError::bad_request(
                "MissingAction",
                "The request is missing an action or a required parameter.",
            ),
        );
    };
    // Re-tag the parameters with the service's own dialect (list style, error wording).
    let params = params.with_protocol(service.protocol());
    Ok(Routed {
        service,
        action,
        input: Input::Query(params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(scope: Option<&str>, target: Option<&str>, q: &str, body: &str) -> Routed {
        route(scope, target, q.as_bytes(), body.as_bytes(), true).unwrap()
    }

    #[test]
    fn routes_by_scope_version_and_target() {
        let r = ok(
            Some("ec2"),
            None,
            "",
            "Action=DescribeRegions&Version=2016-11-15",
        );
        assert_eq!(
            (r.service, r.action.as_str()),
            (ServiceId::Ec2, "DescribeRegions")
        );
        let r = ok(
            Some("elasticloadbalancing"),
            None,
            "Action=DescribeLoadBalancers&Version=2015-12-01",
            "",
        );
        assert_eq!(r.service, ServiceId::Elbv2);
        let r = ok(
            Some("elasticloadbalancing"),
            None,
            "",
            "Action=DescribeLoadBalancers&Version=2012-06-01",
        );
        assert_eq!(r.service, ServiceId::Elb);
        let r = ok(
            None,
            None,
            "Action=GetCallerIdentity&Version=2011-06-15",
            "",
        );
        assert_eq!(r.service, ServiceId::Sts);
        let r = ok(
            Some("kms"),
            Some("TrentService.DescribeKey"),
            "",
            r#"{"KeyId":"k"}"#,
        );
        assert_eq!(
            (r.service, r.action.as_str()),
            (ServiceId::Kms, "DescribeKey")
        );
    }

    #[test]
    fn unroutable_requests_get_clear_errors() {
        let e = route(None, None, b"", b"", true).unwrap_err();
        assert_eq!(e.error.status, 400);
        let e = route(Some("elasticloadbalancing"), None, b"Action=X", b"", true).unwrap_err();
        assert_eq!(e.error.code, "MissingParameter");
        let e = route(Some("ec2"), None, b"Version=2016-11-15", b"", true).unwrap_err();
        assert_eq!(
            (e.service, e.error.code.as_ref()),
            (Some(ServiceId::Ec2), "MissingAction")
        );
        let e = route(Some("s3"), None, b"Action=X", b"", true).unwrap_err();
        assert_eq!(e.error.code, "UnknownService");
        let e = route(Some("kms"), Some("Bogus.X"), b"", b"{}", false).unwrap_err();
        assert_eq!(e.error.code, "UnknownOperationException");
    }
}
