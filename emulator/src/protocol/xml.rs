//! The EC2 / awsQuery envelopes around response bodies, and their error answers.
//!
//! Handlers write only their result members, through [`super::writer::Writer`]; the envelope with
//! the namespace, the request id and the `…Result` wrapper is added by [`ec2_success`] /
//! [`query_success`], so no handler can get it wrong. Error text is escaped as answers are
//! ([`super::writer::escape_into`]).

use super::service::ServiceId;

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// `<ActionResponse xmlns=…><requestId>…</requestId>BODY</ActionResponse>`.
pub fn ec2_success(action: &str, request_id: &str, body: &str) -> String {
    let ns = ServiceId::Ec2.xml_namespace();
    let mut out = String::with_capacity(body.len() + 2 * action.len() + ns.len() + 160);
    for piece in [
        DECL,
        "\n<",
        action,
        "Response xmlns=\"",
        ns,
        "\"><requestId>",
        request_id,
        "</requestId>",
        body,
        "</",
        action,
        "Response>",
    ] {
        out.push_str(piece);
    }
    out
}

/// `<ActionResponse xmlns=…><ActionResult>BODY</ActionResult><ResponseMetadata>…</ActionResponse>`.
/// The result element is the model's `resultWrapper`: present whenever the operation has an
/// output shape, even one without members (`<DeleteLoadBalancerResult/>`), absent otherwise.
/// Written in one allocation: the body is copied once.
pub fn query_success(service: ServiceId, action: &str, request_id: &str, body: &str) -> String {
    let ns = service.xml_namespace();
    let wrapper = crate::model::op(service, action).and_then(|o| o.result_wrapper());
    let w = wrapper.unwrap_or("");
    let mut out = String::with_capacity(body.len() + 2 * (action.len() + w.len()) + ns.len() + 200);
    for piece in [DECL, "\n<", action, "Response xmlns=\"", ns, "\">"] {
        out.push_str(piece);
    }
    match wrapper {
        Some(w) => {
            for piece in ["<", w, ">", body, "</", w, ">"] {
                out.push_str(piece);
            }
        }
        None => out.push_str(body),
    }
    for piece in [
        "<ResponseMetadata><RequestId>",
        request_id,
        "</RequestId></ResponseMetadata></",
        action,
        "Response>",
    ] {
        out.push_str(piece);
    }
    out
}

fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    super::writer::escape_into(&mut out, text);
    out
}

/// EC2's error envelope.
pub fn ec2_error(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "{DECL}\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
        escaped(code),
        escaped(message)
    )
}

/// awsQuery's error envelope.
pub fn query_error(
    service: ServiceId,
    fault: &str,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let ns = service.xml_namespace();
    format!(
        "{DECL}\n<ErrorResponse xmlns=\"{ns}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escaped(code),
        escaped(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let s = ec2_success("DescribeRegions", "rid", "<x/>");
        assert!(s.contains(r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>rid</requestId><x/>"#));
        let s = query_success(ServiceId::Sts, "GetCallerIdentity", "rid", "<Arn>a</Arn>");
        assert!(s.contains("<GetCallerIdentityResult><Arn>a</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId>"));
        let s = query_error(ServiceId::Elb, "Sender", "AccessDenied", "no <way>", "rid");
        assert!(s.contains("<Code>AccessDenied</Code><Message>no &lt;way&gt;</Message>"));
        let s = ec2_error("AuthFailure", "m", "rid");
        assert!(s.contains("<Response><Errors><Error><Code>AuthFailure</Code>"));
    }
}
