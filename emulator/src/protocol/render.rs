//! Turning a handler's result or an [`AwsError`] into the status, content type and body of the
//! service's own protocol.

use super::error::{AwsError, Fault};
use super::service::{Protocol, ServiceId};
use super::xml;

/// What a handler produces; the envelope is added here.
#[derive(Debug, Clone)]
pub enum Output {
    /// The members of the result, as written by [`super::writer::Writer`] (EC2: directly in the
    /// response element; awsQuery: inside `<ActionResult>`).
    Xml(String),
    /// An answer without members: awsQuery still writes the operation's `<ActionResult/>` when
    /// the model gives it an output shape (botocore's parser requires it), and nothing otherwise.
    XmlEmpty,
    /// An awsJson1_1 answer already written by [`super::writer::Writer`].
    JsonText(String),
}

/// A rendered answer, ready for the HTTP layer.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

pub const XML_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A successful answer of `service`'s `action`.
/// Takes the output by value: a JSON answer is already its body and moves over uncopied.
pub fn success(service: ServiceId, action: &str, request_id: &str, output: Output) -> Rendered {
    let (content_type, body) = match (service.protocol(), output) {
        (_, Output::JsonText(t)) => (JSON_CONTENT_TYPE, t),
        (Protocol::Ec2Query, Output::Xml(b)) => {
            (XML_CONTENT_TYPE, xml::ec2_success(action, request_id, &b))
        }
        (Protocol::Ec2Query, Output::XmlEmpty) => {
            // EC2 answers `<return>true</return>` for the actions its model gives no output
            // (DeleteVpc, CreateTags, AttachInternetGateway…); SDKs ignore it, AWS sends it.
            let body = match crate::model::op(service, action) {
                Some(op) if op.output.is_none() => "<return>true</return>",
                _ => "",
            };
            (XML_CONTENT_TYPE, xml::ec2_success(action, request_id, body))
        }
        (_, Output::Xml(b)) => (
            XML_CONTENT_TYPE,
            xml::query_success(service, action, request_id, &b),
        ),
        (_, Output::XmlEmpty) => (
            XML_CONTENT_TYPE,
            xml::query_success(service, action, request_id, ""),
        ),
    };
    Rendered {
        status: 200,
        content_type,
        body,
    }
}

/// An error in `service`'s envelope; `None` when the request could not be tied to any service.
pub fn error(service: Option<ServiceId>, err: &AwsError, request_id: &str) -> Rendered {
    let fault = match err.fault() {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    let (content_type, body) = match service {
        Some(s) if s.protocol() == Protocol::Ec2Query => {
            (XML_CONTENT_TYPE, xml::ec2_error(&err.code, &err.message, request_id))
        }
        Some(s) if s.protocol() == Protocol::AwsJson => (
            JSON_CONTENT_TYPE,
            serde_json::json!({"__type": err.code, "message": err.message}).to_string(),
        ),
        Some(s) => (XML_CONTENT_TYPE, xml::query_error(s, fault, &err.code, &err.message, request_id)),
        None => (
            XML_CONTENT_TYPE,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                quick_xml::escape::escape(err.code.as_ref()),
                quick_xml::escape::escape(&err.message)
            ),
        ),
    };
    Rendered {
        status: err.status,
        content_type,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_take_each_services_envelope() {
        let e = AwsError::new("AccessDeniedException", "no", 400);
        let r = error(Some(ServiceId::Kms), &e, "rid");
        assert_eq!(r.content_type, JSON_CONTENT_TYPE);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["__type"], "AccessDeniedException");
        let r = error(Some(ServiceId::Ec2), &AwsError::internal(), "rid");
        assert_eq!(r.status, 500);
        assert!(r.body.contains("<Code>InternalError</Code>"));
        let r = error(Some(ServiceId::Elbv2), &AwsError::internal(), "rid");
        assert!(r.body.contains("<Type>Receiver</Type>"));
        let r = error(None, &AwsError::bad_request("X", "y"), "rid");
        assert!(r.body.contains("<Code>X</Code>"));
    }

    #[test]
    fn ec2_actions_without_output_answer_return_true() {
        let r = success(ServiceId::Ec2, "DeleteVpc", "rid", Output::XmlEmpty);
        assert!(r
            .body
            .contains("<requestId>rid</requestId><return>true</return></DeleteVpcResponse>"));
    }

    #[test]
    fn query_results_follow_the_model() {
        // No output shape: no result element.
        let r = success(ServiceId::Iam, "DeleteRole", "rid", Output::XmlEmpty);
        assert!(!r.body.contains("DeleteRoleResult"));
        assert!(r.body.contains("<RequestId>rid</RequestId>"));
        // An output shape without members: the element is there, empty (botocore needs it).
        let r = success(
            ServiceId::Elb,
            "DeleteLoadBalancer",
            "rid",
            Output::XmlEmpty,
        );
        assert!(r
            .body
            .contains("<DeleteLoadBalancerResult></DeleteLoadBalancerResult>"));
        let r = success(ServiceId::Iam, "UpdateRole", "rid", Output::XmlEmpty);
        assert!(r.body.contains("<UpdateRoleResult></UpdateRoleResult>"));
    }
}
