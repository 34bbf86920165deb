//! A small XML writer for response bodies, and the EC2 / awsQuery envelopes around them.
//!
//! Handlers write only their result members (`<regionInfo><item>…`); the envelope with the namespace,
//! the request id and the `…Result` wrapper is added by [`ec2_success`] / [`query_success`], so no
//! handler can get it wrong. Text is escaped with quick-xml's escaper.

use quick_xml::escape::escape;

use super::service::ServiceId;

/// An XML fragment under construction.
#[derive(Debug, Default, Clone)]
pub struct Xml {
    buf: String,
}

impl Xml {
    pub fn new() -> Self {
        Xml {
            buf: String::with_capacity(512),
        }
    }

    /// `<tag>` … `</tag>` around whatever `body` writes.
    pub fn node(&mut self, tag: &str, body: impl FnOnce(&mut Xml)) -> &mut Self {
        self.open(tag);
        body(self);
        self.close(tag);
        self
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// `<tag>text</tag>`, escaped.
    pub fn leaf(&mut self, tag: &str, text: impl AsRef<str>) -> &mut Self {
        self.open(tag);
        self.buf.push_str(&escape(text.as_ref()));
        self.close(tag)
    }

    /// A leaf only when there is a value: AWS omits absent members rather than writing them empty.
    pub fn leaf_opt<T: AsRef<str>>(&mut self, tag: &str, text: Option<T>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(tag, t);
        }
        self
    }

    /// `<tag>true</tag>` / `false`.
    pub fn bool(&mut self, tag: &str, v: bool) -> &mut Self {
        self.leaf(tag, if v { "true" } else { "false" })
    }

    /// `<tag>n</tag>`.
    pub fn num(&mut self, tag: &str, v: impl std::fmt::Display) -> &mut Self {
        self.leaf(tag, v.to_string())
    }

    /// A list: `<tag><item>…</item>…</tag>` (EC2 uses `item`, awsQuery `member`).
    pub fn list<I, T>(
        &mut self,
        tag: &str,
        item_tag: &str,
        items: I,
        mut each: impl FnMut(&mut Xml, T),
    ) -> &mut Self
    where
        I: IntoIterator<Item = T>,
    {
        self.open(tag);
        for item in items {
            self.open(item_tag);
            each(self, item);
            self.close(item_tag);
        }
        self.close(tag)
    }

    /// An awsQuery list of strings: `<tag><member>a</member>…</tag>`.
    pub fn members<I, T>(&mut self, tag: &str, items: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.open(tag);
        for item in items {
            self.leaf("member", item);
        }
        self.close(tag)
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn into_string(self) -> String {
        self.buf
    }
}

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// `<ActionResponse xmlns=…><requestId>…</requestId>BODY</ActionResponse>`.
pub fn ec2_success(action: &str, request_id: &str, body: &str) -> String {
    let ns = ServiceId::Ec2.xml_namespace();
    format!(
        "{DECL}\n<{action}Response xmlns=\"{ns}\"><requestId>{request_id}</requestId>{body}</{action}Response>"
    )
}

/// `<ActionResponse xmlns=…><ActionResult>BODY</ActionResult><ResponseMetadata>…</ActionResponse>`.
/// The result element is the model's `resultWrapper`: present whenever the operation has an
/// output shape, even one without members (`<DeleteLoadBalancerResult/>`), absent otherwise.
pub fn query_success(service: ServiceId, action: &str, request_id: &str, body: &str) -> String {
    let ns = service.xml_namespace();
    let wrapper = crate::model::op(service, action).and_then(|o| o.result_wrapper());
    let result = match wrapper {
        Some(w) => format!("<{w}>{body}</{w}>"),
        None => body.to_string(),
    };
    format!(
        "{DECL}\n<{action}Response xmlns=\"{ns}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// EC2's error envelope.
pub fn ec2_error(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "{DECL}\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
        escape(code),
        escape(message)
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
        escape(code),
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_builds_lists() {
        let mut x = Xml::new();
        x.list("regionInfo", "item", ["a<b", "c&d"], |x, r| {
            x.leaf("regionName", r);
        });
        assert_eq!(
            x.as_str(),
            "<regionInfo><item><regionName>a&lt;b</regionName></item><item><regionName>c&amp;d</regionName></item></regionInfo>"
        );
    }

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
