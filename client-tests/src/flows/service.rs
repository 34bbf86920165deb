//! The Kubernetes Service a load-balancer flow reconciles: the fields the provider reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-type";
pub const INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";
pub const PROXY_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol";
pub const ACCESS_LOG_EMIT_INTERVAL: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-emit-interval";
pub const ACCESS_LOG_ENABLED: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-enabled";
pub const ACCESS_LOG_BUCKET: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-name";
pub const ACCESS_LOG_PREFIX: &str =
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-prefix";
pub const DRAINING_ENABLED: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled";
pub const DRAINING_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout";
pub const IDLE_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout";
pub const CROSS_ZONE: &str =
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";
pub const EXTRA_SECURITY_GROUPS: &str =
    "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups";
pub const SECURITY_GROUPS: &str = "service.beta.kubernetes.io/aws-load-balancer-security-groups";
pub const ADDITIONAL_TAGS: &str =
    "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags";
pub const HC_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol";
pub const HC_PORT: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port";
pub const HC_PATH: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path";
pub const HC_HEALTHY: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold";
pub const HC_UNHEALTHY: &str =
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold";
pub const HC_TIMEOUT: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout";
pub const HC_INTERVAL: &str = "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval";
pub const BE_PROTOCOL: &str = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol";
pub const SSL_CERT: &str = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert";
pub const SSL_PORTS: &str = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports";
pub const SSL_NEGOTIATION_POLICY: &str =
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy";
pub const SUBNETS: &str = "service.beta.kubernetes.io/aws-load-balancer-subnets";
pub const SOURCE_RANGES: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";
/// `defaultHealthCheckPort` / `defaultHealthCheckPath`.
pub const TRAFFIC_PORT: &str = "traffic-port";
pub const HEALTHZ: &str = "/healthz";

/// One `spec.ports[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    #[serde(default)]
    pub name: String,
    pub port: i32,
    pub node_port: i32,
    /// `TCP` (default), `UDP`.
    #[serde(default = "tcp")]
    pub protocol: String,
}

fn tcp() -> String {
    "TCP".into()
}

/// A Service of type LoadBalancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    #[serde(default = "default_namespace")]
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub ports: Vec<ServicePort>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `Cluster` (default) or `Local`.
    #[serde(default)]
    pub external_traffic_policy: Option<String>,
    #[serde(default)]
    pub health_check_node_port: Option<i32>,
    #[serde(default)]
    pub load_balancer_source_ranges: Vec<String>,
}

fn default_namespace() -> String {
    "default".into()
}

/// A flow's inputs: the Service and the instance ids of the nodes it targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerInput {
    pub service: ServiceSpec,
    #[serde(default)]
    pub nodes: Vec<String>,
}

/// What ensure returns: the Service's `status.loadBalancer` plus what a test wants to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerStatus {
    pub name: String,
    pub hostname: String,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

impl ServiceSpec {
    /// `cloudprovider.DefaultLoadBalancerName`: `a` + the UID without dashes, cut to 32.
    pub fn load_balancer_name(&self) -> String {
        let mut name: String = format!("a{}", self.uid.replace('-', ""));
        name.truncate(32);
        name
    }

    /// `namespace/name`, as `types.NamespacedName` prints.
    pub fn namespaced_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn annotation(&self, key: &str) -> Option<&String> {
        self.annotations.get(key)
    }

    /// `isNLB`.
    pub fn is_nlb(&self) -> bool {
        self.annotation(TYPE).map(String::as_str) == Some("nlb")
    }

    /// The internal annotation: anything but empty or `false`.
    pub fn internal(&self) -> bool {
        matches!(self.annotation(INTERNAL), Some(v) if !v.is_empty() && v != "false")
    }

    /// `servicehelpers.GetLoadBalancerSourceRanges`: the spec's ranges, else the annotation's,
    /// else everywhere.
    pub fn source_ranges(&self) -> Result<Vec<String>, String> {
        let raw: Vec<String> = if !self.load_balancer_source_ranges.is_empty() {
            self.load_balancer_source_ranges
                .iter()
                .map(|s| s.trim().to_string())
                .collect()
        } else {
            match self.annotation(SOURCE_RANGES).map(|s| s.trim()) {
                Some(s) if !s.is_empty() => s.split(',').map(|s| s.trim().to_string()).collect(),
                _ => vec!["0.0.0.0/0".to_string()],
            }
        };
        let mut out: Vec<String> = Vec::new();
        for r in raw {
            if !r.contains('/') {
                return Err(format!(
                    "service.Spec.LoadBalancerSourceRanges: {r:?} is not a valid IP range"
                ));
            }
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out.sort();
        Ok(out)
    }

    /// `servicehelpers.GetServiceHealthCheckPathPort`: `/healthz` and the node port for Local.
    pub fn health_check_path_port(&self) -> Option<(String, i32)> {
        match (
            self.external_traffic_policy.as_deref(),
            self.health_check_node_port,
        ) {
            (Some("Local"), Some(port)) if port != 0 => Some((HEALTHZ.to_string(), port)),
            _ => None,
        }
    }

    /// `getPortSets` of the ssl-ports annotation: whether `port` gets the certificate (no
    /// annotation, empty or `*`: every port).
    pub fn is_ssl_port(&self, port: &ServicePort) -> bool {
        match self.annotation(SSL_PORTS).map(String::as_str) {
            None | Some("") | Some("*") => true,
            Some(list) => list.split(',').any(|item| match item.parse::<i32>() {
                Ok(n) => n == port.port,
                Err(_) => item == port.name.to_lowercase() || item == port.name,
            }),
        }
    }

    /// `getSGListFromAnnotation`.
    pub fn sg_list(&self, key: &str) -> Vec<String> {
        self.annotation(key)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}
