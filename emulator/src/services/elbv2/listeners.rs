//! Listeners: CreateListener (idempotent for identical settings, `DuplicateListener` otherwise),
//! DescribeListeners (by load balancer or ARN, paged), ModifyListener (changes only what is given;
//! leaving HTTPS or TLS drops the certificates and policy) and DeleteListener (with its rules).
//!
//! Protocols are per load balancer type: HTTP/HTTPS on application load balancers; TCP, TLS,
//! UDP, TCP_UDP, QUIC, TCP_QUIC on network load balancers; none on gateway load balancers, which
//! listen on every port.

use crate::protocol::{AwsError, AwsResult, Output, Scope, Writer};
use crate::services::action::{self as decl, Request, TagsIn};
use crate::services::ec2::common;
use crate::services::Call;
use crate::state::paging::Page;
use crate::state::{read, write};

use super::actions::{self, Of};
use super::arn::{self, Kind};
use super::errors::{self, check_enum, check_range, validation};
use super::health_checks::PROTOCOLS;
use super::model::{Action, Elbv2, LbType, Listener, LoadBalancer};
use super::tags;
use super::{tagged_at, ON_LISTENER, ON_LOAD_BALANCER};

/// The actions of this family, authorized as AWS does.
pub const ACTIONS: &[decl::Action] = &[
    decl::Action::new("CreateListener", create_listener)
        .on(ON_LOAD_BALANCER)
        .tags(TagsIn::Set("Tags.member"))
        .creates(tagged_at(new_listener)),
    decl::Action::new("DescribeListeners", describe_listeners).on(ON_LOAD_BALANCER),
    decl::Action::new("ModifyListener", modify_listener).on(ON_LISTENER),
    decl::Action::new("DeleteListener", delete_listener).on(ON_LISTENER),
];

/// What CreateListener makes: `listener/app/NAME/ID/*`.
fn new_listener(r: &Request<'_>) -> Option<String> {
    r.value("LoadBalancerArn").map(|lb| arn::listener(lb, "*"))
}

/// AWS's quota of listeners per load balancer.
pub const MAX_LISTENERS: usize = 50;

/// The policy an HTTPS or TLS listener gets when none is named.
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// The predefined security policies of application and network load balancers.
const SSL_POLICIES: &[&str] = &[
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
];

const ALPN_POLICIES: &[&str] = &[
    "HTTP1Only",
    "HTTP2Only",
    "HTTP2Optional",
    "HTTP2Preferred",
    "None",
];

/// The listener protocols of a load balancer type, in the order AWS lists them.
fn protocols_of(kind: LbType) -> &'static [&'static str] {
    match kind {
        LbType::Application => &["HTTPS", "HTTP"],
        LbType::Network => &["TCP_UDP", "QUIC", "UDP", "TLS", "TCP", "TCP_QUIC"],
        LbType::Gateway => &[],
    }
}

fn secure(protocol: Option<&str>) -> bool {
    matches!(protocol, Some("HTTPS" | "TLS"))
}

/// What CreateListener / ModifyListener were given.
struct Input {
    port: Option<i64>,
    protocol: Option<String>,
    ssl_policy: Option<String>,
    certificates: Option<Vec<String>>,
    actions: Option<Vec<Action>>,
    alpn_policy: Option<Vec<String>>,
}

fn read_input(p: &Scope<'_>, actions_required: bool) -> AwsResult<Input> {
    let port = p.int("Port")?;
    check_range("port", port, 1, 65535)?;
    let protocol = p.str("Protocol");
    if let Some(v) = protocol {
        check_enum("protocol", v, PROTOCOLS)?;
    }
    let ssl_policy = p.str("SslPolicy").map(str::to_string);
    let certificates = if p.has("Certificates") {
        let mut out = Vec::new();
        for c in p.structs("Certificates")? {
            let _is_default = c.bool("IsDefault")?;
            out.push(c.str("CertificateArn").unwrap_or("").to_string());
        }
        Some(out)
    } else {
        None
    };
    let actions = if actions_required {
        Some(actions::parse(
            &p.required_structs("DefaultActions")?,
            Of::Listener,
        )?)
    } else if p.has("DefaultActions") {
        Some(actions::parse(&p.structs("DefaultActions")?, Of::Listener)?)
    } else {
        None
    };
    let alpn_policy = if p.has("AlpnPolicy") {
        Some(
            p.strings("AlpnPolicy")?
                .into_iter()
                .map(str::to_string)
                .collect(),
        )
    } else {
        None
    };
    let mtls = p.nested("MutualAuthentication");
    let mode = mtls.str("Mode");
    let trust_store = mtls.str("TrustStoreArn");
    let ignore_expiry = mtls.bool("IgnoreClientCertificateExpiry")?;
    let advertise = mtls.str("AdvertiseTrustStoreCaNames");
    if mode.is_some_and(|m| m != "off")
        || trust_store.is_some()
        || ignore_expiry.is_some()
        || advertise.is_some()
    {
        return Err(AwsError::not_emulated(
            "elasticloadbalancing",
            "mutual TLS authentication on listeners",
        ));
    }
    Ok(Input {
        port,
        protocol: protocol.map(str::to_string),
        ssl_policy,
        certificates,
        actions,
        alpn_policy,
    })
}

/// Whether a string is an ACM or IAM server certificate ARN (certificates are not emulated, so any
/// well-formed one is taken as existing).
fn certificate_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "acm", region, account, resource] => {
            partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && resource.starts_with("certificate/")
                && resource.len() > "certificate/".len()
        }
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && account.len() == 12
                && resource.starts_with("server-certificate/")
        }
        _ => false,
    }
}

/// Checks the protocol-level settings of a listener of load balancer `lb`.
fn check_settings(l: &Listener, lb: &LoadBalancer) -> AwsResult<()> {
    let allowed = protocols_of(lb.kind);
    if lb.kind == LbType::Gateway {
        if l.protocol.is_some() || l.port.is_some() {
            return Err(validation(
                "A protocol and port cannot be specified for listeners of a Gateway Load Balancer",
            ));
        }
    } else {
        let protocol = l
            .protocol
            .as_deref()
            .ok_or_else(|| validation("A listener protocol must be specified"))?;
        if !allowed.contains(&protocol) {
            return Err(validation(format!(
                "Listener protocol '{protocol}' must be one of '{}'",
                allowed.join(", ")
            )));
        }
        if l.port.is_none() {
            return Err(validation("A listener port must be specified"));
        }
    }
    let protocol = l.protocol.as_deref().unwrap_or("");
    if secure(l.protocol.as_deref()) {
        match l.certificates.as_slice() {
            [] => {
                return Err(validation(format!(
                    "A certificate must be specified for {protocol} listeners"
                )))
            }
            [one] => {
                if !certificate_arn(one) {
                    return Err(AwsError::bad_request(
                        "CertificateNotFound",
                        format!("Certificate '{one}' not found"),
                    ));
                }
            }
            _ => {
                return Err(AwsError::bad_request(
                    "TooManyCertificates",
                    "Only one default certificate can be specified for a listener",
                ))
            }
        }
        if let Some(policy) = l.ssl_policy.as_deref() {
            if !SSL_POLICIES.contains(&policy) {
                return Err(AwsError::bad_request(
                    "SSLPolicyNotFound",
                    format!("SSL policy '{policy}' not found"),
                ));
            }
        }
    } else {
        if !l.certificates.is_empty() {
            return Err(validation(format!(
                "A certificate cannot be specified for {protocol} listeners"
            )));
        }
        if l.ssl_policy.is_some() {
            return Err(validation(format!(
                "An SSL policy cannot be specified for {protocol} listeners"
            )));
        }
    }
    if !l.alpn_policy.is_empty() {
        if protocol != "TLS" {
            return Err(validation(
                "An ALPN policy can be specified only for TLS listeners",
            ));
        }
        match l.alpn_policy.as_slice() {
            [one] if ALPN_POLICIES.contains(&one.as_str()) => {}
            [one] => {
                return Err(AwsError::bad_request(
                    "ALPNPolicyNotFound",
                    format!("ALPN policy '{one}' not found"),
                ))
            }
            _ => return Err(validation("Only one ALPN policy can be specified")),
        }
    }
    Ok(())
}

/// Whether another listener of the load balancer takes the same port (a gateway load balancer
/// has room for one listener).
fn port_taken<'a>(e: &'a Elbv2, l: &Listener) -> Option<&'a Listener> {
    e.listeners_of(&l.load_balancer_arn)
        .into_iter()
        .find(|o| o.arn != l.arn && o.port == l.port)
}

pub fn create_listener(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.required("LoadBalancerArn")?;
    let input = read_input(&p, true)?;
    let new_tags = tags::parse(&p.structs("Tags")?)?;
    call.params()?.finish()?;
    arn::check(Kind::LoadBalancer, lb_arn)?;
    let tag_set = tags::initial(&new_tags, Kind::Listener)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let e = &r.elbv2;
    let lb = e
        .load_balancers
        .get(lb_arn)
        .ok_or_else(errors::load_balancer_not_found)?;
    let protocol = input.protocol;
    let listener = Listener {
        arn: String::new(),
        load_balancer_arn: lb_arn.to_string(),
        port: input.port,
        ssl_policy: if secure(protocol.as_deref()) {
            Some(
                input
                    .ssl_policy
                    .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string()),
            )
        } else {
            input.ssl_policy
        },
        protocol,
        certificates: input.certificates.unwrap_or_default(),
        actions: input.actions.unwrap_or_default(),
        alpn_policy: input.alpn_policy.unwrap_or_default(),
        seq: 0,
        tags: tag_set,
        default_rule_tags: Default::default(),
    };
    check_settings(&listener, lb)?;
    actions::check_against(
        e,
        lb,
        listener.protocol.as_deref(),
        &listener.actions,
        Of::Listener,
    )?;
    if let Some(existing) = port_taken(e, &listener) {
        let same = existing.protocol == listener.protocol
            && existing.ssl_policy == listener.ssl_policy
            && existing.certificates == listener.certificates
            && existing.actions == listener.actions
            && existing.alpn_policy == listener.alpn_policy;
        if !same {
            return Err(AwsError::bad_request(
                "DuplicateListener",
                format!("A listener already exists on this port for this load balancer '{lb_arn}'"),
            ));
        }
        let mut w = call.writer();
        w.list("Listeners", [existing], render);
        return w.finish();
    }
    if e.listeners_of(lb_arn).len() >= MAX_LISTENERS {
        return Err(AwsError::bad_request(
            "TooManyListeners",
            format!("A load balancer can have at most {MAX_LISTENERS} listeners"),
        ));
    }
    let listener = Listener {
        arn: arn::listener(lb_arn, &call.world.ids.hex(16)),
        seq: r.elbv2.next_seq(),
        ..listener
    };
    let mut w = call.writer();
    w.list("Listeners", [&listener], render);
    r.elbv2.listeners.insert(listener.arn.clone(), listener);
    r.elbv2.refresh_usage(now);
    w.finish()
}

pub fn describe_listeners(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let lb_arn = p.str("LoadBalancerArn");
    let arns = p.strings("ListenerArns")?;
    let page = Page::read_marker(&p)?;
    call.params()?.finish()?;
    match (lb_arn, arns.is_empty()) {
        (None, true) => {
            return Err(validation(
                "You must specify either listener ARNs or a load balancer ARN",
            ))
        }
        (Some(_), false) => {
            return Err(validation(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time",
            ))
        }
        _ => {}
    }
    if let Some(a) = lb_arn {
        arn::check(Kind::LoadBalancer, a)?;
    }
    for a in &arns {
        arn::check(Kind::Listener, a)?;
    }
    let lock = common::region(call)?;
    let r = read(&lock);
    let e = &r.elbv2;
    let found: Vec<&Listener> = match lb_arn {
        Some(a) => {
            if !e.load_balancers.contains_key(a) {
                return Err(errors::load_balancer_not_found());
            }
            e.listeners_of(a)
        }
        None => {
            if arns.iter().any(|a| !e.listeners.contains_key(*a)) {
                return Err(errors::listener_not_found());
            }
            let mut v: Vec<&Listener> = e
                .listeners
                .values()
                .filter(|l| arns.contains(&l.arn.as_str()))
                .collect();
            v.sort_by_key(|l| l.seq);
            v
        }
    };
    let (shown, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("Listeners", shown, render);
    w.str_opt("NextMarker", next);
    w.finish()
}

pub fn modify_listener(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let listener_arn = p.required("ListenerArn")?;
    let input = read_input(&p, false)?;
    call.params()?.finish()?;
    arn::check(Kind::Listener, listener_arn)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let e = &r.elbv2;
    let current = e
        .listeners
        .get(listener_arn)
        .ok_or_else(errors::listener_not_found)?;
    let lb = e
        .load_balancers
        .get(&current.load_balancer_arn)
        .ok_or_else(AwsError::internal)?;
    let mut next = current.clone();
    if let Some(port) = input.port {
        next.port = Some(port);
    }
    if let Some(protocol) = input.protocol {
        next.protocol = Some(protocol);
    }
    if secure(next.protocol.as_deref()) {
        if let Some(policy) = input.ssl_policy {
            next.ssl_policy = Some(policy);
        }
        if next.ssl_policy.is_none() {
            next.ssl_policy = Some(DEFAULT_SSL_POLICY.to_string());
        }
        if let Some(certs) = input.certificates {
            next.certificates = certs;
        }
    } else {
        // Leaving HTTPS or TLS drops what only a secure listener has.
        next.ssl_policy = input.ssl_policy;
        next.certificates = input.certificates.unwrap_or_default();
        if next.protocol.as_deref() != Some("TLS") {
            next.alpn_policy.clear();
        }
    }
    if let Some(alpn) = input.alpn_policy {
        next.alpn_policy = alpn;
    }
    if let Some(actions) = input.actions {
        next.actions = actions;
    }
    check_settings(&next, lb)?;
    actions::check_against(e, lb, next.protocol.as_deref(), &next.actions, Of::Listener)?;
    if port_taken(e, &next).is_some() {
        return Err(validation(format!(
            "Listener port '{}' is already in use",
            next.port.unwrap_or_default()
        )));
    }
    let mut w = call.writer();
    w.list("Listeners", [&next], render);
    r.elbv2.listeners.insert(next.arn.clone(), next);
    r.elbv2.refresh_usage(now);
    w.finish()
}

pub fn delete_listener(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let listener_arn = p.required("ListenerArn")?;
    call.params()?.finish()?;
    arn::check(Kind::Listener, listener_arn)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let l = r
        .elbv2
        .listeners
        .get(listener_arn)
        .ok_or_else(errors::listener_not_found)?;
    // An application load balancer registered with a network load balancer's `alb` target group
    // cannot lose the listener that target port points at.
    let in_use = r.elbv2.target_groups.values().find_map(|tg| {
        tg.targets
            .iter()
            .find(|t| {
                t.id == l.load_balancer_arn && t.present(now) && t.port.or(tg.config.port) == l.port
            })
            .map(|_| tg.arn.clone())
    });
    if in_use.is_some() {
        return Err(AwsError::bad_request(
            "ResourceInUse",
            format!(
                "Listener port '{}' is in use by registered target '{}' and cannot be removed.",
                l.port.unwrap_or_default(),
                l.load_balancer_arn
            ),
        ));
    }
    r.elbv2.listeners.remove(listener_arn);
    r.elbv2
        .rules
        .retain(|_, rule| rule.listener_arn != listener_arn);
    r.elbv2.refresh_usage(now);
    call.writer().finish()
}

/// The members of a `Listener`.
pub fn render(w: &mut Writer, l: &Listener) {
    w.str("ListenerArn", &l.arn)
        .str("LoadBalancerArn", &l.load_balancer_arn)
        .int_opt("Port", l.port)
        .str_opt("Protocol", l.protocol.as_deref());
    if !l.certificates.is_empty() {
        w.list("Certificates", &l.certificates, |w, c| {
            w.str("CertificateArn", c);
        });
    }
    w.str_opt("SslPolicy", l.ssl_policy.as_deref());
    actions::render(w, &l.actions, Of::Listener);
    if !l.alpn_policy.is_empty() {
        w.strs("AlpnPolicy", &l.alpn_policy);
    }
}
