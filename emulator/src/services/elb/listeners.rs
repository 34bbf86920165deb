//! Listeners: parsing and AWS's rules for them, CreateLoadBalancerListeners and
//! DeleteLoadBalancerListeners.

use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::action::Action;
use crate::services::{ec2::common, Call};
use crate::state;

use super::model::{Listener, LoadBalancer};
use super::{
    find_mut, invalid_configuration, policies, required_bounded, validation, ON_LOAD_BALANCER,
};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "CreateLoadBalancerListeners",
        create_load_balancer_listeners,
    )
    .on(ON_LOAD_BALANCER),
    Action::new(
        "DeleteLoadBalancerListeners",
        delete_load_balancer_listeners,
    )
    .on(ON_LOAD_BALANCER),
];

const PROTOCOLS: [&str; 4] = ["HTTP", "HTTPS", "TCP", "SSL"];

fn secure(protocol: &str) -> bool {
    protocol == "HTTPS" || protocol == "SSL"
}

/// Whether the protocol works at layer 7 (HTTP/HTTPS) rather than 4 (TCP/SSL).
fn layer7(protocol: &str) -> bool {
    protocol == "HTTP" || protocol == "HTTPS"
}

/// A protocol name in any case, upper-cased; unknown names are refused.
fn protocol(v: &str) -> AwsResult<String> {
    let up = v.to_ascii_uppercase();
    if !PROTOCOLS.contains(&up.as_str()) {
        return Err(AwsError::bad_request(
            "UnsupportedProtocol",
            format!(
                "Protocol '{v}' is not supported. Valid protocols are HTTP, HTTPS, TCP and SSL."
            ),
        ));
    }
    Ok(up)
}

/// The ports a classic load balancer in a VPC may listen on.
fn allowed_front_port(port: i64) -> bool {
    matches!(port, 25 | 80 | 443 | 465 | 587) || (1024..=65535).contains(&port)
}

/// Reads and checks the listener list `name` (`Listeners.member.N`). Protocols are stored upper
/// case, as AWS answers them; an omitted instance protocol is the front end's layer, unencrypted.
pub fn parse(p: &Scope<'_>, name: &str, account: &str) -> AwsResult<Vec<Listener>> {
    let mut out: Vec<Listener> = Vec::new();
    for m in p.required_structs(name)? {
        let proto = protocol(m.required("Protocol")?)?;
        let lb_port = required_bounded(&m, "LoadBalancerPort", "loadBalancerPort", 1, 65535)?;
        let instance_port = required_bounded(&m, "InstancePort", "instancePort", 1, 65535)?;
        let instance_protocol = match m.str("InstanceProtocol") {
            Some(v) => protocol(v)?,
            None => if layer7(&proto) { "HTTP" } else { "TCP" }.to_string(),
        };
        let cert = m.str("SSLCertificateId").filter(|c| !c.is_empty());
        if !allowed_front_port(lb_port) {
            return Err(validation(format!(
                "LoadBalancerPort {lb_port} is invalid. Valid LoadBalancerPort are: 25, 80, 443, 465, 587, or 1024~65535."
            )));
        }
        if layer7(&proto) != layer7(&instance_protocol) {
            return Err(invalid_configuration(format!(
                "Listener protocol '{proto}' and instance protocol '{instance_protocol}' are not compatible: HTTP and HTTPS listeners forward to HTTP or HTTPS, TCP and SSL listeners to TCP or SSL."
            )));
        }
        let ssl_certificate_id = if secure(&proto) {
            let Some(cert) = cert else {
                return Err(validation(
                    "SSLCertificateId is required for listeners with protocol HTTPS or SSL",
                ));
            };
            check_certificate(cert, account)?;
            Some(cert.to_string())
        } else {
            None
        };
        let listener = Listener {
            protocol: proto,
            load_balancer_port: lb_port,
            instance_protocol,
            instance_port,
            ssl_certificate_id,
            policy_names: Vec::new(),
        };
        if let Some(prev) = out.iter().find(|l| l.load_balancer_port == lb_port) {
            if !same(prev, &listener) {
                return Err(duplicate(None, lb_port));
            }
            continue;
        }
        out.push(listener);
    }
    Ok(out)
}

/// A certificate is named by an IAM server certificate or ACM certificate ARN of this account.
/// awsemu has no certificate store, so any such ARN is accepted.
fn check_certificate(cert: &str, account: &str) -> AwsResult<()> {
    let iam = format!("arn:aws:iam::{account}:server-certificate/");
    let acm =
        cert.starts_with("arn:aws:acm:") && cert.contains(&format!(":{account}:certificate/"));
    if cert.starts_with(&iam) && cert.len() > iam.len() || acm {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "CertificateNotFound",
            format!("Server Certificate not found for the key: {cert}"),
        ))
    }
}

/// Whether two listeners on a port are the same (policies aside).
pub fn same(a: &Listener, b: &Listener) -> bool {
    a.protocol == b.protocol
        && a.load_balancer_port == b.load_balancer_port
        && a.instance_protocol == b.instance_protocol
        && a.instance_port == b.instance_port
        && a.ssl_certificate_id == b.ssl_certificate_id
}

fn duplicate(lb: Option<&str>, port: i64) -> AwsError {
    let name = lb.map(|n| format!(" for {n}")).unwrap_or_default();
    AwsError::bad_request(
        "DuplicateListener",
        format!("A listener already exists{name} with LoadBalancerPort {port}, but with a different InstancePort, Protocol, or SSLCertificateId"),
    )
}

/// Listeners that share an instance port must agree on whether the back end is encrypted.
fn check_backend_security(listeners: &[Listener]) -> AwsResult<()> {
    for a in listeners {
        for b in listeners {
            if a.instance_port == b.instance_port
                && secure(&a.instance_protocol) != secure(&b.instance_protocol)
            {
                return Err(invalid_configuration(format!(
                    "InstancePort {} is used with both secure and insecure instance protocols ({} and {})",
                    a.instance_port, a.instance_protocol, b.instance_protocol
                )));
            }
        }
    }
    Ok(())
}

/// Adds `new` listeners to `lb` (after [`check_additions`]): a secure listener without a policy
/// gets AWS's default SSL negotiation policy, created on the load balancer as AWS does.
pub fn add(lb: &mut LoadBalancer, new: Vec<Listener>) {
    for mut l in new {
        if lb
            .listeners
            .iter()
            .any(|e| e.load_balancer_port == l.load_balancer_port)
        {
            continue;
        }
        if secure(&l.protocol) {
            let policy = policies::ensure_default_ssl_policy(lb);
            l.policy_names = vec![policy];
        }
        lb.listeners.push(l);
    }
    lb.listeners.sort_by_key(|l| l.load_balancer_port);
}

/// Checks that `new` listeners can join `lb`: a port already in use must carry the same listener.
pub fn check_additions(lb: &LoadBalancer, new: &[Listener]) -> AwsResult<()> {
    for l in new {
        if let Some(e) = lb
            .listeners
            .iter()
            .find(|e| e.load_balancer_port == l.load_balancer_port)
        {
            if !same(e, l) {
                return Err(duplicate(Some(&lb.name), l.load_balancer_port));
            }
        }
    }
    let mut all: Vec<Listener> = lb.listeners.clone();
    all.extend(new.iter().cloned());
    check_backend_security(&all)
}

/// Checks a new load balancer's listener set.
pub fn check_set(listeners: &[Listener]) -> AwsResult<()> {
    if listeners.is_empty() {
        return Err(validation("Listeners cannot be empty"));
    }
    check_backend_security(listeners)
}

fn create_load_balancer_listeners(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let new = parse(&p, "Listeners", call.account)?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    check_additions(lb, &new)?;
    add(lb, new);
    call.writer().finish()
}

fn delete_load_balancer_listeners(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    let mut ports = Vec::new();
    for v in p.required_strings("LoadBalancerPorts")? {
        ports.push(v.trim().parse::<i64>().map_err(|_| {
            validation(format!(
                "1 validation error detected: Value '{v}' at 'loadBalancerPorts' failed to satisfy constraint: Member must be of type Integer"
            ))
        })?);
    }
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    lb.listeners
        .retain(|l| !ports.contains(&l.load_balancer_port));
    call.writer().finish()
}
