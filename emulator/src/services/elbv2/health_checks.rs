//! Target group health checks: AWS's per-protocol defaults (CreateTargetGroup's documented
//! table), the changes ModifyTargetGroup makes, and the rules a configuration must follow.

use crate::protocol::{AwsResult, Scope};

use super::errors::{check_enum, check_length, check_range, validation};
use super::model::{HealthCheck, TargetGroupConfig};

/// Protocols a target group (and a health check) may name.
pub const PROTOCOLS: &[&str] = &[
    "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC",
];

/// The health check members of CreateTargetGroup / ModifyTargetGroup, as given.
#[derive(Debug, Clone, Default)]
pub struct HealthInput {
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub enabled: Option<bool>,
    pub path: Option<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub healthy_threshold: Option<i64>,
    pub unhealthy_threshold: Option<i64>,
    pub matcher_http: Option<String>,
    pub matcher_grpc: Option<String>,
}

impl HealthInput {
    /// Reads the members and checks them against the model (enum, ranges, path length).
    pub fn read(p: &Scope<'_>) -> AwsResult<HealthInput> {
        let protocol = p.str("HealthCheckProtocol");
        if let Some(v) = protocol {
            check_enum("healthCheckProtocol", v, PROTOCOLS)?;
        }
        let path = p.str("HealthCheckPath");
        if let Some(v) = path {
            check_length("healthCheckPath", v, 1, 1024)?;
        }
        let interval = p.int("HealthCheckIntervalSeconds")?;
        check_range("healthCheckIntervalSeconds", interval, 5, 300)?;
        let timeout = p.int("HealthCheckTimeoutSeconds")?;
        check_range("healthCheckTimeoutSeconds", timeout, 2, 120)?;
        let healthy = p.int("HealthyThresholdCount")?;
        check_range("healthyThresholdCount", healthy, 2, 10)?;
        let unhealthy = p.int("UnhealthyThresholdCount")?;
        check_range("unhealthyThresholdCount", unhealthy, 2, 10)?;
        let matcher = p.nested("Matcher");
        Ok(HealthInput {
            protocol: protocol.map(str::to_string),
            port: p.str("HealthCheckPort").map(str::to_string),
            enabled: p.bool("HealthCheckEnabled")?,
            path: path.map(str::to_string),
            interval,
            timeout,
            healthy_threshold: healthy,
            unhealthy_threshold: unhealthy,
            matcher_http: matcher.str("HttpCode").map(str::to_string),
            matcher_grpc: matcher.str("GrpcCode").map(str::to_string),
        })
    }
}

fn is_http(protocol: Option<&str>) -> bool {
    matches!(protocol, Some("HTTP" | "HTTPS"))
}

fn is_grpc(c: &TargetGroupConfig) -> bool {
    c.protocol_version.as_deref() == Some("GRPC")
}

fn default_path(c: &TargetGroupConfig) -> &'static str {
    if is_grpc(c) {
        "/AWS.ALB/healthcheck"
    } else {
        "/"
    }
}

/// The success codes AWS sets when none are given: `200` for application load balancers and
/// Lambda, `200-399` for network and gateway load balancers, gRPC code `12`.
fn default_matcher(c: &TargetGroupConfig) -> (Option<String>, Option<String>) {
    if is_grpc(c) {
        return (None, Some("12".into()));
    }
    let code = match c.protocol.as_deref() {
        None | Some("HTTP" | "HTTPS") => "200",
        _ => "200-399",
    };
    (Some(code.into()), None)
}

/// A new target group's health check: the input over AWS's defaults for the group's protocol and
/// target type (`c.health` is not read).
pub fn for_new_group(c: &TargetGroupConfig, input: HealthInput) -> HealthCheck {
    let lambda = c.target_type == "lambda";
    let tg_protocol = c.protocol.as_deref();
    let protocol = if lambda {
        input.protocol
    } else {
        Some(
            input
                .protocol
                .unwrap_or_else(|| if is_http(tg_protocol) { "HTTP" } else { "TCP" }.to_string()),
        )
    };
    let checks_http = lambda || is_http(protocol.as_deref());
    let port = if lambda {
        input.port
    } else {
        Some(input.port.unwrap_or_else(|| {
            if tg_protocol == Some("GENEVE") {
                "80"
            } else {
                "traffic-port"
            }
            .to_string()
        }))
    };
    let (http, grpc) =
        if checks_http && input.matcher_http.is_none() && input.matcher_grpc.is_none() {
            default_matcher(c)
        } else {
            (input.matcher_http, input.matcher_grpc)
        };
    let (interval, timeout, unhealthy) = match (lambda, tg_protocol) {
        (true, _) => (35, 30, 5),
        (_, Some("GENEVE")) => (10, 5, 2),
        (_, Some("HTTP")) => (30, 6, 2),
        _ => (30, 10, 2),
    };
    HealthCheck {
        protocol,
        port,
        enabled: input.enabled.unwrap_or(!lambda),
        path: input
            .path
            .or_else(|| checks_http.then(|| default_path(c).to_string())),
        interval: input.interval.unwrap_or(interval),
        timeout: input.timeout.unwrap_or(timeout),
        healthy_threshold: input.healthy_threshold.unwrap_or(5),
        unhealthy_threshold: input.unhealthy_threshold.unwrap_or(unhealthy),
        matcher_http: http,
        matcher_grpc: grpc,
    }
}

/// The health check after ModifyTargetGroup: given members replace the current ones; a switch to
/// a TCP check drops the path and matcher, a switch to HTTP(S) brings their defaults back.
pub fn modified(c: &TargetGroupConfig, input: HealthInput) -> HealthCheck {
    let mut h = c.health.clone();
    if let Some(p) = input.protocol {
        h.protocol = Some(p);
    }
    let checks_http = c.target_type == "lambda" || is_http(h.protocol.as_deref());
    if checks_http {
        if h.path.is_none() {
            h.path = Some(default_path(c).to_string());
        }
        if h.matcher_http.is_none() && h.matcher_grpc.is_none() {
            (h.matcher_http, h.matcher_grpc) = default_matcher(c);
        }
    } else {
        h.path = None;
        h.matcher_http = None;
        h.matcher_grpc = None;
    }
    if let Some(v) = input.port {
        h.port = Some(v);
    }
    if let Some(v) = input.enabled {
        h.enabled = v;
    }
    if let Some(v) = input.path {
        h.path = Some(v);
    }
    if let Some(v) = input.interval {
        h.interval = v;
    }
    if let Some(v) = input.timeout {
        h.timeout = v;
    }
    if let Some(v) = input.healthy_threshold {
        h.healthy_threshold = v;
    }
    if let Some(v) = input.unhealthy_threshold {
        h.unhealthy_threshold = v;
    }
    if input.matcher_http.is_some() || input.matcher_grpc.is_some() {
        h.matcher_http = input.matcher_http;
        h.matcher_grpc = input.matcher_grpc;
    }
    h
}

/// Whether a matcher's codes (`200`, `200,202`, `200-299`) all lie in `lo..=hi`.
fn codes_within(codes: &str, lo: i64, hi: i64) -> bool {
    let ok = |s: &str| s.parse::<i64>().is_ok_and(|n| n >= lo && n <= hi);
    !codes.is_empty()
        && codes.split(',').all(|part| match part.split_once('-') {
            Some((a, b)) => ok(a) && ok(b) && a.parse::<i64>().ok() <= b.parse::<i64>().ok(),
            None => ok(part),
        })
}

/// Checks a target group's health check against its protocol and target type, as AWS does.
pub fn check(c: &TargetGroupConfig) -> AwsResult<()> {
    let h = &c.health;
    let tg_protocol = c.protocol.as_deref().unwrap_or("");
    let lambda = c.target_type == "lambda";
    if let Some(p) = h.protocol.as_deref() {
        let allowed: &[&str] = if is_http(c.protocol.as_deref()) || lambda {
            &["HTTP", "HTTPS"]
        } else {
            &["HTTP", "HTTPS", "TCP"]
        };
        if !allowed.contains(&p) {
            return Err(validation(if lambda {
                format!("Health check protocol '{p}' is not supported for target groups with target type 'lambda'")
            } else {
                format!("Health check protocol '{p}' is not supported for target groups with the '{tg_protocol}' protocol")
            }));
        }
    }
    if let Some(port) = h.port.as_deref() {
        let numeric = port.parse::<i64>().is_ok_and(|n| (1..=65535).contains(&n));
        if port != "traffic-port" && !numeric {
            return Err(validation(format!(
                "Health check port '{port}' must be 'traffic-port' or a port number between 1 and 65535"
            )));
        }
    }
    if !h.enabled && !lambda {
        return Err(validation(format!(
            "Health checks cannot be disabled for target groups with target type '{}'",
            c.target_type
        )));
    }
    let checks_http = lambda || is_http(h.protocol.as_deref());
    if let Some(path) = h.path.as_deref() {
        if !checks_http {
            return Err(validation(
                "A health check path can be specified only for HTTP and HTTPS health checks",
            ));
        }
        if !path.starts_with('/') {
            return Err(validation(format!(
                "Health check path '{path}' must begin with a '/' character"
            )));
        }
    }
    // Application load balancer groups need the timeout below the interval; the others allow it
    // equal (a TCP group's default timeout of 10 with an interval of 10 is fine).
    let strict = lambda || is_http(c.protocol.as_deref());
    if strict && h.timeout >= h.interval {
        return Err(validation(format!(
            "Health check timeout '{}' must be smaller than the interval '{}'",
            h.timeout, h.interval
        )));
    }
    if !strict && h.timeout > h.interval {
        return Err(validation(format!(
            "Health check timeout '{}' must be smaller than or equal to the interval '{}'",
            h.timeout, h.interval
        )));
    }
    if !checks_http && (h.matcher_http.is_some() || h.matcher_grpc.is_some()) {
        return Err(validation(
            "A health check matcher can be specified only for HTTP and HTTPS health checks",
        ));
    }
    if let Some(codes) = h.matcher_http.as_deref() {
        let (lo, hi) = match c.protocol.as_deref() {
            None | Some("HTTP" | "HTTPS") => (200, 499),
            Some("GENEVE") => (200, 399),
            _ => (200, 599),
        };
        if is_grpc(c) || !codes_within(codes, lo, hi) {
            return Err(validation(format!(
                "Health check matcher HTTP code '{codes}' must be within '{lo}-{hi}'"
            )));
        }
    }
    if let Some(codes) = h.matcher_grpc.as_deref() {
        if !is_grpc(c) || !codes_within(codes, 0, 99) {
            return Err(validation(format!(
                "Health check matcher gRPC code '{codes}' must be within '0-99' and needs protocol version 'GRPC'"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(protocol: Option<&str>, target_type: &str) -> TargetGroupConfig {
        TargetGroupConfig {
            protocol: protocol.map(str::to_string),
            port: Some(80),
            vpc_id: Some("vpc-1".into()),
            protocol_version: None,
            target_type: target_type.into(),
            ip_address_type: Some("ipv4".into()),
            target_control_port: None,
            health: HealthCheck::default(),
        }
    }

    #[test]
    fn defaults_per_protocol() {
        let mut c = config(Some("HTTP"), "instance");
        let h = for_new_group(&c, HealthInput::default());
        assert_eq!(
            (h.protocol.as_deref(), h.timeout, h.interval),
            (Some("HTTP"), 6, 30)
        );
        assert_eq!(h.path.as_deref(), Some("/"));
        assert_eq!(h.matcher_http.as_deref(), Some("200"));
        c.protocol = Some("TCP".into());
        let h = for_new_group(&c, HealthInput::default());
        assert_eq!((h.protocol.as_deref(), h.timeout), (Some("TCP"), 10));
        assert_eq!((h.path, h.matcher_http), (None, None));
        c.protocol = Some("GENEVE".into());
        let h = for_new_group(&c, HealthInput::default());
        assert_eq!(
            (h.port.as_deref(), h.interval, h.timeout),
            (Some("80"), 10, 5)
        );
    }

    #[test]
    fn tcp_group_with_http_check_every_ten_seconds_is_accepted() {
        let mut c = config(Some("TCP"), "instance");
        c.health = for_new_group(
            &c,
            HealthInput {
                protocol: Some("HTTP".into()),
                path: Some("/healthz".into()),
                interval: Some(10),
                ..Default::default()
            },
        );
        assert_eq!(c.health.timeout, 10);
        assert_eq!(c.health.matcher_http.as_deref(), Some("200-399"));
        check(&c).unwrap();
        c.protocol = Some("HTTP".into());
        assert!(check(&c)
            .unwrap_err()
            .message
            .contains("must be smaller than the interval '10'"));
    }

    #[test]
    fn switching_to_tcp_drops_the_path() {
        let mut c = config(Some("TCP"), "instance");
        c.health = for_new_group(
            &c,
            HealthInput {
                protocol: Some("HTTP".into()),
                ..Default::default()
            },
        );
        let h = modified(
            &c,
            HealthInput {
                protocol: Some("TCP".into()),
                ..Default::default()
            },
        );
        assert_eq!(h.path, None);
        assert!(codes_within("200-299,301", 200, 499));
        assert!(!codes_within("600", 200, 599));
    }
}
