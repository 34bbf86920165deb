//! Listener default actions and rule actions: `forward` (one target group by ARN, or weighted
//! groups in a `ForwardConfig`), `redirect` and `fixed-response` (application load balancers),
//! read from `DefaultActions.member.N` or `Actions.member.N`, checked against the load balancer
//! and listener protocol, and written back as AWS describes them (a forward always shows its
//! `ForwardConfig` too).
//!
//! The authenticating actions (`authenticate-oidc`, `authenticate-cognito`, `jwt-validation`)
//! need identity providers awsemu does not have, so they are answered as not emulated.

use crate::protocol::{AwsError, AwsResult, Scope, Writer};

use super::arn::{self, Kind};
use super::errors::{self, check_enum, check_length, check_range, constraint, validation};
use super::model::{Action, ActionKind, Elbv2, LbType, LoadBalancer, WeightedGroup};

const ACTION_TYPES: &[&str] = &[
    "forward",
    "authenticate-oidc",
    "authenticate-cognito",
    "redirect",
    "fixed-response",
    "jwt-validation",
];

/// Target groups one forward action may name.
const MAX_FORWARD_GROUPS: usize = 5;

fn invalid_action(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidLoadBalancerAction", message)
}

/// Which list the actions came in: a listener's `DefaultActions` or a rule's `Actions`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Of {
    Listener,
    Rule,
}

impl Of {
    /// The list's path in validation messages.
    fn path(self) -> &'static str {
        match self {
            Of::Listener => "defaultActions",
            Of::Rule => "actions",
        }
    }

    /// The member that carries the list in answers.
    fn member(self) -> &'static str {
        match self {
            Of::Listener => "DefaultActions",
            Of::Rule => "Actions",
        }
    }
}

/// Reads and checks the items of `DefaultActions` or `Actions` without looking at state.
pub fn parse(items: &[Scope<'_>], of: Of) -> AwsResult<Vec<Action>> {
    let mut out = Vec::new();
    for (i, a) in items.iter().enumerate() {
        let field = |m: &str| format!("{}.member.{}.{m}", of.path(), i + 1);
        let kind = a.required("Type")?;
        check_enum(&field("type"), kind, ACTION_TYPES)?;
        let order = a.int("Order")?;
        check_range(&field("order"), order, 1, 50_000)?;
        let arn_given = a.str("TargetGroupArn");
        let forward = a.nested("ForwardConfig");
        let mut weighted = Vec::new();
        for (j, g) in forward.structs("TargetGroups")?.iter().enumerate() {
            let weight = g.int("Weight")?;
            check_range(
                &field(&format!(
                    "forwardConfig.targetGroups.member.{}.weight",
                    j + 1
                )),
                weight,
                0,
                999,
            )?;
            weighted.push(WeightedGroup {
                arn: g.str("TargetGroupArn").unwrap_or("").to_string(),
                weight,
            });
        }
        let sticky = forward.nested("TargetGroupStickinessConfig");
        let sticky_enabled = sticky.bool("Enabled")?;
        let sticky_duration = sticky.int("DurationSeconds")?;
        check_range(
            &field("forwardConfig.targetGroupStickinessConfig.durationSeconds"),
            sticky_duration,
            1,
            604_800,
        )?;
        let redirect = a.nested("RedirectConfig");
        let has_redirect = a.has("RedirectConfig");
        let redirect_fields = [
            redirect.str("Protocol"),
            redirect.str("Port"),
            redirect.str("Host"),
            redirect.str("Path"),
            redirect.str("Query"),
        ];
        let redirect_status = redirect.str("StatusCode");
        let fixed = a.nested("FixedResponseConfig");
        let has_fixed = a.has("FixedResponseConfig");
        let fixed_body = fixed.str("MessageBody");
        let fixed_status = fixed.str("StatusCode");
        let fixed_type = fixed.str("ContentType");
        let action = match kind {
            "forward" => {
                let groups = match (arn_given, weighted.is_empty()) {
                    (None, true) => return Err(validation("A target group ARN must be specified")),
                    (Some(a), true) => vec![WeightedGroup {
                        arn: a.to_string(),
                        weight: None,
                    }],
                    (Some(a), false) => {
                        if weighted.len() != 1 || weighted.iter().any(|g| g.arn != a) {
                            return Err(validation(
                                "You cannot specify a target group ARN and a forward configuration with other target groups",
                            ));
                        }
                        weighted
                    }
                    (None, false) => weighted,
                };
                if groups.len() > MAX_FORWARD_GROUPS {
                    return Err(AwsError::bad_request(
                        "TooManyTargetGroups",
                        format!(
                            "A forward action can name at most {MAX_FORWARD_GROUPS} target groups"
                        ),
                    ));
                }
                for g in &groups {
                    arn::check(Kind::TargetGroup, &g.arn)?;
                }
                ActionKind::Forward {
                    groups,
                    stickiness: sticky_enabled.map(|e| (e, sticky_duration)),
                }
            }
            "redirect" => {
                if !has_redirect {
                    return Err(validation(
                        "A redirect configuration must be specified for an action of type 'redirect'",
                    ));
                }
                let status = redirect_status.ok_or_else(|| {
                    constraint(
                        &field("redirectConfig.statusCode"),
                        "null",
                        "Member must not be null",
                    )
                })?;
                check_enum(
                    &field("redirectConfig.statusCode"),
                    status,
                    &["HTTP_301", "HTTP_302"],
                )?;
                let [protocol, port, host, path, query] = redirect_fields;
                if let Some(pr) = protocol {
                    if !matches!(pr, "HTTP" | "HTTPS" | "#{protocol}") {
                        return Err(constraint(
                            &field("redirectConfig.protocol"),
                            pr,
                            r"Member must satisfy regular expression pattern: ^(HTTPS?|#\{protocol\})$",
                        ));
                    }
                }
                for (name, value, lo) in [("host", host, 1), ("path", path, 1), ("query", query, 0)]
                {
                    if let Some(v) = value {
                        check_length(&field(&format!("redirectConfig.{name}")), v, lo, 128)?;
                    }
                }
                if let Some(pa) = path {
                    if !pa.starts_with('/') {
                        return Err(invalid_action("The redirect path must start with a '/'"));
                    }
                }
                ActionKind::Redirect {
                    protocol: Some(protocol.unwrap_or("#{protocol}").to_string()),
                    port: Some(port.unwrap_or("#{port}").to_string()),
                    host: Some(host.unwrap_or("#{host}").to_string()),
                    path: Some(path.unwrap_or("/#{path}").to_string()),
                    query: Some(query.unwrap_or("#{query}").to_string()),
                    status_code: status.to_string(),
                }
            }
            "fixed-response" => {
                if !has_fixed {
                    return Err(validation(
                        "A fixed response configuration must be specified for an action of type 'fixed-response'",
                    ));
                }
                let status = fixed_status.ok_or_else(|| {
                    constraint(
                        &field("fixedResponseConfig.statusCode"),
                        "null",
                        "Member must not be null",
                    )
                })?;
                let b = status.as_bytes();
                let status_ok = b.len() == 3
                    && matches!(b.first(), Some(b'2' | b'4' | b'5'))
                    && b.iter().all(u8::is_ascii_digit);
                if !status_ok {
                    return Err(constraint(
                        &field("fixedResponseConfig.statusCode"),
                        status,
                        r"Member must satisfy regular expression pattern: ^(2|4|5)\d\d$",
                    ));
                }
                if let Some(body) = fixed_body {
                    check_length(&field("fixedResponseConfig.messageBody"), body, 0, 1024)?;
                }
                if let Some(t) = fixed_type {
                    const TYPES: &[&str] = &[
                        "text/plain",
                        "text/css",
                        "text/html",
                        "application/javascript",
                        "application/json",
                    ];
                    if !TYPES.contains(&t) {
                        return Err(invalid_action(format!(
                            "The content type '{t}' is not supported; use one of {}",
                            TYPES.join(", ")
                        )));
                    }
                }
                ActionKind::FixedResponse {
                    message_body: fixed_body.map(str::to_string),
                    status_code: status.to_string(),
                    content_type: fixed_type.map(str::to_string),
                }
            }
            other => {
                return Err(AwsError::not_emulated(
                    "elasticloadbalancing",
                    &format!("{other} actions"),
                ))
            }
        };
        out.push(Action {
            kind: action,
            order,
        });
    }
    if out.len() > 1 {
        let whose = match of {
            Of::Listener => "A listener's default actions",
            Of::Rule => "A rule's actions",
        };
        return Err(invalid_action(format!(
            "{whose} can hold only one forward, redirect or fixed-response action"
        )));
    }
    Ok(out)
}

/// Which target group protocols a listener protocol can forward to.
fn compatible(listener_protocol: Option<&str>, group_protocol: Option<&str>) -> bool {
    matches!(
        (listener_protocol, group_protocol),
        (Some("HTTP" | "HTTPS"), None | Some("HTTP" | "HTTPS"))
            | (Some("TCP"), Some("TCP" | "TCP_UDP"))
            | (Some("TLS"), Some("TCP" | "TLS"))
            | (Some("UDP"), Some("UDP" | "TCP_UDP"))
            | (Some("TCP_UDP"), Some("TCP_UDP"))
            | (Some("QUIC"), Some("QUIC" | "TCP_QUIC"))
            | (Some("TCP_QUIC"), Some("TCP_QUIC"))
            | (None, Some("GENEVE"))
    )
}

/// Checks actions against the state: the load balancer's type, the target groups (they exist,
/// share its VPC, speak a compatible protocol and serve no other load balancer).
pub fn check_against(
    e: &Elbv2,
    lb: &LoadBalancer,
    listener_protocol: Option<&str>,
    actions: &[Action],
    of: Of,
) -> AwsResult<()> {
    if actions.is_empty() {
        return Err(validation(match of {
            Of::Listener => "At least one default action must be specified",
            Of::Rule => "At least one action must be specified",
        }));
    }
    for a in actions {
        let kind = match &a.kind {
            ActionKind::Forward { .. } => "forward",
            ActionKind::Redirect { .. } => "redirect",
            ActionKind::FixedResponse { .. } => "fixed-response",
        };
        if lb.kind != LbType::Application && kind != "forward" {
            return Err(invalid_action(format!(
                "The action type '{kind}' is not valid with {} load balancer",
                lb.kind.name()
            )));
        }
        let groups: Vec<&str> = a.target_groups().collect();
        if lb.kind != LbType::Application && groups.len() > 1 {
            return Err(invalid_action(format!(
                "A {} load balancer can forward to only one target group",
                lb.kind.name()
            )));
        }
        for g in groups {
            let tg = e
                .target_groups
                .get(g)
                .ok_or_else(|| errors::target_group_not_found(g))?;
            if tg.config.vpc_id.as_deref().is_some_and(|v| v != lb.vpc_id) {
                return Err(errors::invalid_configuration(format!(
                    "Target group '{g}' is not in the VPC '{}' of the load balancer",
                    lb.vpc_id
                )));
            }
            let lambda_ok = tg.config.target_type != "lambda" || lb.kind == LbType::Application;
            if !lambda_ok || !compatible(listener_protocol, tg.config.protocol.as_deref()) {
                return Err(AwsError::bad_request(
                    "IncompatibleProtocols",
                    format!("The listener and the following target groups have incompatible protocols: {g}"),
                ));
            }
            if e.load_balancers_of(g).iter().any(|other| *other != lb.arn) {
                return Err(AwsError::bad_request(
                    "TargetGroupAssociationLimit",
                    format!("The following target groups cannot be associated with more than one load balancer: {g}"),
                ));
            }
        }
    }
    Ok(())
}

/// The `DefaultActions` member of a `Listener`, or the `Actions` of a `Rule`.
pub fn render(w: &mut Writer, actions: &[Action], of: Of) {
    w.list(of.member(), actions, |w, a| match &a.kind {
        ActionKind::Forward { groups, stickiness } => {
            w.str("Type", "forward");
            if let [one] = groups.as_slice() {
                w.str("TargetGroupArn", &one.arn);
            }
            w.int_opt("Order", a.order);
            w.structure("ForwardConfig", |w| {
                w.list("TargetGroups", groups, |w, g| {
                    w.str("TargetGroupArn", &g.arn)
                        .int("Weight", g.weight.unwrap_or(1));
                });
                w.structure("TargetGroupStickinessConfig", |w| {
                    let (enabled, duration) = stickiness.unwrap_or((false, None));
                    w.bool("Enabled", enabled)
                        .int_opt("DurationSeconds", duration);
                });
            });
        }
        ActionKind::Redirect {
            protocol,
            port,
            host,
            path,
            query,
            status_code,
        } => {
            w.str("Type", "redirect").int_opt("Order", a.order);
            w.structure("RedirectConfig", |w| {
                w.str_opt("Protocol", protocol.as_deref())
                    .str_opt("Port", port.as_deref())
                    .str_opt("Host", host.as_deref())
                    .str_opt("Path", path.as_deref())
                    .str_opt("Query", query.as_deref())
                    .str("StatusCode", status_code);
            });
        }
        ActionKind::FixedResponse {
            message_body,
            status_code,
            content_type,
        } => {
            w.str("Type", "fixed-response").int_opt("Order", a.order);
            w.structure("FixedResponseConfig", |w| {
                w.str_opt("MessageBody", message_body.as_deref())
                    .str("StatusCode", status_code)
                    .str_opt("ContentType", content_type.as_deref());
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::compatible;

    #[test]
    fn protocol_matrix() {
        assert!(compatible(Some("TCP"), Some("TCP")));
        assert!(compatible(Some("TLS"), Some("TCP")));
        assert!(!compatible(Some("TCP"), Some("UDP")));
        assert!(!compatible(Some("TCP_UDP"), Some("TCP")));
        assert!(compatible(Some("HTTPS"), Some("HTTP")));
        assert!(compatible(Some("HTTP"), None));
        assert!(!compatible(Some("HTTP"), Some("TCP")));
        assert!(compatible(None, Some("GENEVE")));
    }
}
