//! Load balancer policies: the policy types AWS offers, its predefined SSL security policies,
//! CreateLoadBalancerPolicy, DeleteLoadBalancerPolicy, DescribeLoadBalancerPolicies,
//! DescribeLoadBalancerPolicyTypes and the two Set…Policies… calls.
//!
//! Creating a policy that exists with the same type and attributes succeeds and changes nothing:
//! cloud-provider-aws re-creates its proxy-protocol policy on every sync of a load balancer.

use crate::protocol::{AwsError, AwsResult, Output, Writer};
use crate::services::action::Action;
use crate::services::{ec2::common, Call};
use crate::state;

use super::model::{LoadBalancer, Policy};
use super::{
    find, find_mut, invalid_configuration, required_bounded, validation, ON_LOAD_BALANCER,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new("CreateLoadBalancerPolicy", create_load_balancer_policy).on(ON_LOAD_BALANCER),
    Action::new("DeleteLoadBalancerPolicy", delete_load_balancer_policy).on(ON_LOAD_BALANCER),
    Action::new(
        "DescribeLoadBalancerPolicies",
        describe_load_balancer_policies,
    ),
    Action::new(
        "DescribeLoadBalancerPolicyTypes",
        describe_load_balancer_policy_types,
    ),
    Action::new(
        "SetLoadBalancerPoliciesForBackendServer",
        set_policies_for_backend_server,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "SetLoadBalancerPoliciesOfListener",
        set_policies_of_listener,
    )
    .on(ON_LOAD_BALANCER),
];

/// The security policy a secure listener gets when none is set, as AWS documents.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// Policies per load balancer.
const MAX_POLICIES: usize = 98;

const PROTOCOLS: [&str; 4] = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"];

const CIPHERS: [&str; 19] = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES128-SHA256",
    "AES128-SHA",
    "AES256-GCM-SHA384",
    "AES256-SHA256",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// AWS's predefined security policies: (name, protocols, ciphers by index into [`CIPHERS`]).
const SECURITY_POLICIES: &[(&str, &[&str], &[usize])] = &[
    (
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        &["TLSv1.2"],
        &[0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 15, 16],
    ),
    (
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        &["TLSv1.1", "TLSv1.2"],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
    ),
    (
        "ELBSecurityPolicy-2016-08",
        &["TLSv1", "TLSv1.1", "TLSv1.2"],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
    ),
    (
        "ELBSecurityPolicy-2015-05",
        &["TLSv1", "TLSv1.1", "TLSv1.2"],
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
        ],
    ),
];

/// The full attribute list of a predefined security policy, as DescribeLoadBalancerPolicies
/// shows it: every protocol and cipher, `true` or `false`.
fn security_policy_attributes(name: &str) -> Option<Vec<(String, String)>> {
    let (_, protocols, ciphers) = SECURITY_POLICIES.iter().find(|(n, _, _)| *n == name)?;
    let mut out = Vec::new();
    for p in PROTOCOLS {
        out.push((format!("Protocol-{p}"), protocols.contains(&p).to_string()));
    }
    out.push(("Server-Defined-Cipher-Order".into(), "true".into()));
    for (i, c) in CIPHERS.iter().enumerate() {
        out.push((c.to_string(), ciphers.contains(&i).to_string()));
    }
    Some(out)
}

/// One attribute of a policy type: name, type, cardinality, description.
type AttributeType = (&'static str, &'static str, &'static str, &'static str);

/// The policy types of classic ELB.
struct PolicyType {
    name: &'static str,
    description: &'static str,
    attributes: &'static [AttributeType],
    /// Where it may be set: `backend`, `listener`, or neither (only inside another policy).
    on_backend: bool,
    on_listener: bool,
}

const POLICY_TYPES: &[PolicyType] = &[
    PolicyType {
        name: "ProxyProtocolPolicyType",
        description: "Policy that controls whether to include the IP address and port of the originating request for TCP messages. This policy operates on TCP listeners only.",
        attributes: &[("ProxyProtocol", "Boolean", "ONE", "")],
        on_backend: true,
        on_listener: false,
    },
    PolicyType {
        name: "PublicKeyPolicyType",
        description: "Policy containing a list of public keys to accept when authenticating the back-end server(s). This policy cannot be applied directly to back-end servers or listeners but must be part of a BackendServerAuthenticationPolicyType.",
        attributes: &[("PublicKey", "String", "ONE", "")],
        on_backend: false,
        on_listener: false,
    },
    PolicyType {
        name: "BackendServerAuthenticationPolicyType",
        description: "Policy that controls authentication to back-end server(s) and contains one or more policies, such as an instance of a PublicKeyPolicyType. This policy can be associated only with back-end servers that are using HTTPS/SSL.",
        attributes: &[("PublicKeyPolicyName", "PolicyName", "ONE_OR_MORE", "")],
        on_backend: true,
        on_listener: false,
    },
    PolicyType {
        name: "AppCookieStickinessPolicyType",
        description: "Stickiness policy with session lifetimes controlled by the lifetime of the application-generated cookie. This policy can be associated only with HTTP/HTTPS listeners.",
        attributes: &[("CookieName", "String", "ONE", "")],
        on_backend: false,
        on_listener: true,
    },
    PolicyType {
        name: "LBCookieStickinessPolicyType",
        description: "Stickiness policy with session lifetimes controlled by the browser (user-agent) or a specified expiration period. This policy can be associated only with HTTP/HTTPS listeners.",
        attributes: &[("CookieExpirationPeriod", "Long", "ZERO_OR_ONE", "")],
        on_backend: false,
        on_listener: true,
    },
    PolicyType {
        name: "SSLNegotiationPolicyType",
        description: "Listener policy that defines the ciphers and protocols that will be accepted by the load balancer. This policy can be associated only with HTTPS/SSL listeners.",
        attributes: &[
            ("Reference-Security-Policy", "String", "ZERO_OR_ONE", "The name of a predefined security policy whose protocols and ciphers to use."),
            ("Protocol-SSLv3", "Boolean", "ZERO_OR_ONE", ""),
            ("Protocol-TLSv1", "Boolean", "ZERO_OR_ONE", ""),
            ("Protocol-TLSv1.1", "Boolean", "ZERO_OR_ONE", ""),
            ("Protocol-TLSv1.2", "Boolean", "ZERO_OR_ONE", ""),
            ("Server-Defined-Cipher-Order", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES128-GCM-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES128-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES128-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES128-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES128-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES256-GCM-SHA384", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES256-GCM-SHA384", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES256-SHA384", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES256-SHA384", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-RSA-AES256-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("ECDHE-ECDSA-AES256-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("AES128-GCM-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("AES128-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("AES128-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("AES256-GCM-SHA384", "Boolean", "ZERO_OR_ONE", ""),
            ("AES256-SHA256", "Boolean", "ZERO_OR_ONE", ""),
            ("AES256-SHA", "Boolean", "ZERO_OR_ONE", ""),
            ("DES-CBC3-SHA", "Boolean", "ZERO_OR_ONE", ""),
        ],
        on_backend: false,
        on_listener: true,
    },
];

fn policy_type(name: &str) -> Option<&'static PolicyType> {
    POLICY_TYPES.iter().find(|t| t.name == name)
}

fn policy_not_found(name: &str, lb: Option<&str>) -> AwsError {
    let on = lb
        .map(|l| format!(" for load balancer {l}"))
        .unwrap_or_default();
    AwsError::bad_request(
        "PolicyNotFound",
        format!("There is no policy with name {name}{on}"),
    )
}

/// Checks a new policy's attributes against its type and expands a `Reference-Security-Policy`
/// into the referenced policy's protocols and ciphers, as AWS stores it.
fn check_attributes(
    t: &PolicyType,
    attrs: Vec<(String, String)>,
) -> AwsResult<Vec<(String, String)>> {
    for (k, v) in &attrs {
        let Some((_, kind, _, _)) = t.attributes.iter().find(|(n, _, _, _)| n == k) else {
            return Err(invalid_configuration(format!(
                "Attribute '{k}' is not valid for policy type {}",
                t.name
            )));
        };
        let ok = match *kind {
            "Boolean" => v == "true" || v == "false",
            "Long" => v.parse::<i64>().is_ok(),
            _ => true,
        };
        if !ok {
            return Err(invalid_configuration(format!(
                "Invalid value '{v}' for attribute '{k}' of type {kind}"
            )));
        }
    }
    for (name, _, cardinality, _) in t.attributes {
        let count = attrs.iter().filter(|(k, _)| k == name).count();
        if cardinality.starts_with("ONE") && count == 0 {
            return Err(invalid_configuration(format!(
                "Policy type {} requires the attribute '{name}'",
                t.name
            )));
        }
        let at_most_one = cardinality.ends_with("ONE") && !cardinality.contains("MORE");
        if at_most_one && count > 1 {
            return Err(invalid_configuration(format!(
                "Attribute '{name}' may be given at most once"
            )));
        }
    }
    if let Some((_, reference)) = attrs.iter().find(|(k, _)| k == "Reference-Security-Policy") {
        let Some(expanded) = security_policy_attributes(reference) else {
            return Err(validation(format!(
                "Invalid Reference Security Policy: {reference}. Use DescribeLoadBalancerPolicies API to list valid security policies."
            )));
        };
        let mut out = vec![("Reference-Security-Policy".to_string(), reference.clone())];
        out.extend(expanded);
        return Ok(out);
    }
    Ok(attrs)
}

/// Adds AWS's default SSL negotiation policy to the load balancer if missing; returns its name.
pub fn ensure_default_ssl_policy(lb: &mut LoadBalancer) -> String {
    if lb.policy(DEFAULT_SSL_POLICY).is_none() {
        let mut attributes = vec![(
            "Reference-Security-Policy".to_string(),
            DEFAULT_SSL_POLICY.to_string(),
        )];
        attributes.extend(security_policy_attributes(DEFAULT_SSL_POLICY).unwrap_or_default());
        lb.policies.push(Policy {
            name: DEFAULT_SSL_POLICY.into(),
            type_name: "SSLNegotiationPolicyType".into(),
            attributes,
        });
    }
    DEFAULT_SSL_POLICY.into()
}

/// The `Policies` member of a LoadBalancerDescription.
pub fn describe_in_load_balancer(w: &mut Writer, lb: &LoadBalancer) {
    let of_type = |t: &'static str| lb.policies.iter().filter(move |p| p.type_name == t);
    let attr = |p: &Policy, k: &str| {
        p.attributes
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    w.structure("Policies", |w| {
        w.list(
            "AppCookieStickinessPolicies",
            of_type("AppCookieStickinessPolicyType"),
            |w, p| {
                w.str("PolicyName", &p.name)
                    .str_opt("CookieName", attr(p, "CookieName"));
            },
        );
        w.list(
            "LBCookieStickinessPolicies",
            of_type("LBCookieStickinessPolicyType"),
            |w, p| {
                w.str("PolicyName", &p.name).int_opt(
                    "CookieExpirationPeriod",
                    attr(p, "CookieExpirationPeriod").and_then(|v| v.parse().ok()),
                );
            },
        );
        w.strs(
            "OtherPolicies",
            lb.policies
                .iter()
                .filter(|p| !p.type_name.ends_with("CookieStickinessPolicyType"))
                .map(|p| p.name.as_str()),
        );
    });
}

fn create_load_balancer_policy(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let policy_name = p.required("PolicyName")?;
    let type_name = p.required("PolicyTypeName")?;
    let mut attrs = Vec::new();
    for a in p.structs("PolicyAttributes")? {
        attrs.push((
            a.str("AttributeName").unwrap_or("").to_string(),
            a.str("AttributeValue").unwrap_or("").to_string(),
        ));
    }
    call.params()?.finish()?;
    let t = policy_type(type_name).ok_or_else(|| {
        AwsError::bad_request(
            "PolicyTypeNotFound",
            format!("There is no policy type with name {type_name}"),
        )
    })?;
    let attributes = check_attributes(t, attrs)?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    if let Some(existing) = lb.policy(policy_name) {
        if existing.type_name == type_name && existing.attributes == attributes {
            return call.writer().finish();
        }
        return Err(AwsError::bad_request(
            "DuplicatePolicyName",
            format!("Policy {policy_name} already exists for load balancer {name} with a different type or attributes"),
        ));
    }
    if lb.policies.len() >= MAX_POLICIES {
        return Err(AwsError::bad_request(
            "TooManyPolicies",
            format!(
                "The quota of {MAX_POLICIES} policies for load balancer {name} has been reached"
            ),
        ));
    }
    lb.policies.push(Policy {
        name: policy_name.to_string(),
        type_name: type_name.to_string(),
        attributes,
    });
    call.writer().finish()
}

fn delete_load_balancer_policy(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let policy_name = p.required("PolicyName")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    let in_use = lb
        .listeners
        .iter()
        .any(|l| l.policy_names.iter().any(|n| n == policy_name))
        || lb
            .backend_policies
            .values()
            .any(|v| v.iter().any(|n| n == policy_name));
    if in_use {
        return Err(invalid_configuration(format!(
            "Policy {policy_name} is in use by a listener or back-end server of load balancer {name} and cannot be deleted"
        )));
    }
    lb.policies.retain(|p| p.name != policy_name);
    call.writer().finish()
}

fn describe_load_balancer_policies(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.str("LoadBalancerName");
    let names = p.strings("PolicyNames")?;
    call.params()?.finish()?;
    let policies: Vec<Policy> = match name {
        Some(lb_name) => {
            let lock = common::region(call)?;
            let r = state::read(&lock);
            let lb = find(&r, lb_name)?;
            let mut out = Vec::new();
            for n in &names {
                out.push(
                    lb.policy(n)
                        .cloned()
                        .ok_or_else(|| policy_not_found(n, Some(lb_name)))?,
                );
            }
            if names.is_empty() {
                out = lb.policies.clone();
            }
            out
        }
        None => {
            let predefined = |n: &str| {
                security_policy_attributes(n).map(|attributes| Policy {
                    name: n.to_string(),
                    type_name: "SSLNegotiationPolicyType".into(),
                    attributes,
                })
            };
            if names.is_empty() {
                SECURITY_POLICIES
                    .iter()
                    .filter_map(|(n, _, _)| predefined(n))
                    .collect()
            } else {
                let mut out = Vec::new();
                for n in &names {
                    out.push(predefined(n).ok_or_else(|| policy_not_found(n, None))?);
                }
                out
            }
        }
    };
    let mut w = call.writer();
    w.list("PolicyDescriptions", &policies, |w, p| {
        w.str("PolicyName", &p.name)
            .str("PolicyTypeName", &p.type_name)
            .list("PolicyAttributeDescriptions", &p.attributes, |w, (k, v)| {
                w.str("AttributeName", k).str("AttributeValue", v);
            });
    });
    w.finish()
}

fn describe_load_balancer_policy_types(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("PolicyTypeNames")?;
    call.params()?.finish()?;
    let mut types: Vec<&PolicyType> = Vec::new();
    for n in &names {
        types.push(policy_type(n).ok_or_else(|| {
            AwsError::bad_request(
                "PolicyTypeNotFound",
                format!("There is no policy type with name {n}"),
            )
        })?);
    }
    if names.is_empty() {
        types.extend(POLICY_TYPES.iter());
    }
    let mut w = call.writer();
    w.list("PolicyTypeDescriptions", types, |w, t| {
        w.str("PolicyTypeName", t.name)
            .str("Description", t.description)
            .list(
                "PolicyAttributeTypeDescriptions",
                t.attributes,
                |w, (name, kind, cardinality, description)| {
                    w.str("AttributeName", name).str("AttributeType", kind);
                    if !description.is_empty() {
                        w.str("Description", description);
                    }
                    w.str("Cardinality", cardinality);
                },
            );
    });
    w.finish()
}

/// Checks that each named policy exists on `lb` and may go where it is being set.
fn check_placement(lb: &LoadBalancer, names: &[&str], on_listener: bool) -> AwsResult<()> {
    for n in names {
        let policy = lb
            .policy(n)
            .ok_or_else(|| policy_not_found(n, Some(&lb.name)))?;
        let t = policy_type(&policy.type_name);
        let allowed = t.is_some_and(|t| {
            if on_listener {
                t.on_listener
            } else {
                t.on_backend
            }
        });
        if !allowed {
            let place = if on_listener {
                "a listener"
            } else {
                "a back-end server"
            };
            return Err(invalid_configuration(format!(
                "Policy {n} of type {} cannot be set on {place}",
                policy.type_name
            )));
        }
    }
    Ok(())
}

/// Replaces the policies of an instance port; an empty list clears them (cloud-provider does
/// that for ports that lost their listener).
fn set_policies_for_backend_server(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let port = required_bounded(&p, "InstancePort", "instancePort", 1, 65535)?;
    let names = p.required_strings("PolicyNames")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    check_placement(lb, &names, false)?;
    if names.is_empty() {
        lb.backend_policies.remove(&port);
    } else {
        lb.backend_policies
            .insert(port, names.iter().map(|n| n.to_string()).collect());
    }
    call.writer().finish()
}

fn set_policies_of_listener(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let port = required_bounded(&p, "LoadBalancerPort", "loadBalancerPort", 1, 65535)?;
    let names = p.required_strings("PolicyNames")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    let listener = lb
        .listeners
        .iter()
        .find(|l| l.load_balancer_port == port)
        .ok_or_else(|| {
            AwsError::bad_request(
                "ListenerNotFound",
                format!("There is no listener configured for LoadBalancerPort {port} on load balancer {name}"),
            )
        })?;
    check_placement(lb, &names, true)?;
    let secure = listener.protocol == "HTTPS" || listener.protocol == "SSL";
    for n in &names {
        let t = lb.policy(n).map(|p| p.type_name.as_str()).unwrap_or("");
        let fits = match t {
            "SSLNegotiationPolicyType" => secure,
            _ => listener.protocol == "HTTP" || listener.protocol == "HTTPS",
        };
        if !fits {
            return Err(invalid_configuration(format!(
                "Policy {n} of type {t} cannot be set on a listener with protocol {}",
                listener.protocol
            )));
        }
    }
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    if let Some(l) = lb
        .listeners
        .iter_mut()
        .find(|l| l.load_balancer_port == port)
    {
        l.policy_names = names;
    }
    call.writer().finish()
}
