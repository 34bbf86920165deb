//! The instance metadata service (IMDS), one loopback listener per instance.
//!
//! An SDK finds IMDS at one address (`AWS_EC2_METADATA_SERVICE_ENDPOINT`), and one host here runs
//! many instances, so each instance gets its own listener, opened on first request
//! (`GET /_awsemu/imds/INSTANCE_ID` or [`endpoint`]). What it serves follows AWS: IMDSv2 tokens
//! (`PUT /latest/api/token` with a TTL header, then token-bearing GETs), IMDSv1 when the
//! instance's `HttpTokens` is `optional`, the metadata tree, the instance identity document, and
//! temporary credentials of the instance profile's role — registered with the identities, so a
//! process that knows only its metadata endpoint acts as its node's role and is held to it.
//!
//! Answers are computed per request from the current state: a stopped or terminated instance, a
//! reset, or a changed profile shows at once.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::identities::{ProfileSessionError, INSTANCE_SESSION_SECS};
use crate::instance::Instance;
use crate::services::ec2::model::InstanceState;
use crate::state;

const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// Longest token life AWS allows (six hours).
const MAX_TOKEN_TTL: i64 = 21_600;

/// The metadata listeners and tokens of one emulator (role credentials are issued and cached by
/// `Identities::instance_profile_credentials`).
#[derive(Debug)]
pub struct Imds {
    /// Instance id -> its listener's address (an async lock: binding happens under it).
    endpoints: tokio::sync::Mutex<HashMap<String, SocketAddr>>,
    /// Token -> (instance id, expiry on the virtual clock in ms).
    tokens: Mutex<HashMap<String, (String, i64)>>,
    /// Flipped to `true` when the emulator stops: every listener closes.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Default for Imds {
    fn default() -> Self {
        Imds {
            endpoints: Default::default(),
            tokens: Default::default(),
            stop: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Imds {
    /// Closes every metadata listener (the emulator is stopping).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

/// The metadata endpoint of `instance_id` (`http://127.0.0.1:PORT`), opening its listener on first
/// use. Fails when no such instance exists.
pub async fn endpoint(instance: &Arc<Instance>, instance_id: &str) -> Result<String, String> {
    if instance
        .current()
        .world
        .region_of_instance(instance_id)
        .is_none()
    {
        return Err(format!("no instance {instance_id}"));
    }
    let mut endpoints = instance.imds.endpoints.lock().await;
    if let Some(addr) = endpoints.get(instance_id) {
        return Ok(format!("http://{addr}"));
    }
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("cannot open a metadata listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    endpoints.insert(instance_id.to_string(), addr);
    tokio::spawn(serve(listener, instance.clone(), instance_id.to_string()));
    Ok(format!("http://{addr}"))
}

async fn serve(listener: TcpListener, instance: Arc<Instance>, instance_id: String) {
    let mut stop = instance.imds.stop.subscribe();
    if *stop.borrow() {
        return;
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (instance, id) = (instance.clone(), instance_id.clone());
                let mut stop = stop.clone();
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let answer = answer(&instance, &id, req.method().as_str(), req.uri().path(), req.headers());
                    async move { Ok::<_, Infallible>(answer) }
                });
                tokio::spawn(async move {
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = stop.changed() => {}
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.into())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    r
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the metadata service of one instance knows, read under the region lock and released.
struct Facts {
    region: &'static str,
    account: String,
    id: String,
    image_id: String,
    instance_type: String,
    zone: String,
    zone_id: String,
    private_ip: String,
    private_dns: String,
    mac: String,
    eni: String,
    subnet_id: String,
    subnet_cidr: String,
    vpc_id: String,
    vpc_cidr: String,
    group_ids: Vec<String>,
    group_names: Vec<String>,
    reservation_id: String,
    launch_ms: i64,
    architecture: String,
    ami_launch_index: i64,
    state: InstanceState,
    http_tokens: String,
    http_endpoint: String,
    profile: Option<(String, String)>,
    /// (key pair name, public key line) of the launch's key pair.
    public_key: Option<(String, String)>,
    /// The public IPv4 address it holds, if any.
    public_ip: Option<String>,
}

fn facts(instance: &Instance, id: &str) -> Option<Facts> {
    let g = instance.current();
    let lock = g.world.region_of_instance(id)?;
    let r = state::read(&lock);
    let i = r.instances.get(id)?;
    let subnet = r.subnets.get(&i.subnet_id);
    let zone_id = subnet.map(|s| s.zone_id.clone()).unwrap_or_default();
    let groups: Vec<(String, String)> = i
        .security_groups
        .iter()
        .map(|g| {
            let name = r.security_groups.get(g).map(|sg| sg.name.clone());
            (g.clone(), name.unwrap_or_default())
        })
        .collect();
    Some(Facts {
        region: r.region.name,
        account: instance.config.account_id.clone(),
        id: i.id.clone(),
        image_id: i.image_id.clone(),
        instance_type: i.instance_type.clone(),
        zone: i.zone.clone(),
        zone_id,
        private_ip: i.private_ip.clone(),
        private_dns: i.private_dns.clone(),
        mac: i.mac.clone(),
        eni: i.network_interface_id.clone(),
        subnet_id: i.subnet_id.clone(),
        subnet_cidr: subnet.map(|s| s.cidr.clone()).unwrap_or_default(),
        vpc_id: i.vpc_id.clone(),
        vpc_cidr: r
            .vpcs
            .get(&i.vpc_id)
            .map(|v| v.cidr.clone())
            .unwrap_or_default(),
        group_ids: groups.iter().map(|(id, _)| id.clone()).collect(),
        group_names: groups.into_iter().map(|(_, n)| n).collect(),
        reservation_id: i.reservation_id.clone(),
        launch_ms: i.launch_ms,
        architecture: i.architecture.clone(),
        ami_launch_index: i.ami_launch_index,
        state: i.state.at(instance.clock.now_ms()),
        http_tokens: i.http_tokens.clone(),
        http_endpoint: i.http_endpoint.clone(),
        profile: i.iam_instance_profile.clone(),
        public_key: i.key_name.clone().zip(i.public_key.clone()),
        public_ip: i.public_ip.clone(),
    })
}

/// The role an instance profile ARN carries now, from IAM.
fn profile_role(instance: &Instance, profile_arn: &str) -> Option<String> {
    let g = instance.current();
    let dir = g.identities.directory();
    let profile = dir.profile_by_arn(profile_arn)?;
    dir.profile_role(profile).map(|r| r.name.clone())
}

fn iso(ms: i64) -> String {
    crate::timefmt::format_iso8601(ms.div_euclid(1000))
}

/// Every leaf of the metadata tree, by path under `/latest/`.
fn tree(f: &Facts, role: Option<&str>) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        t.insert(k.to_string(), v);
    };
    put("meta-data/ami-id", f.image_id.clone());
    put("meta-data/ami-launch-index", f.ami_launch_index.to_string());
    put("meta-data/hostname", f.private_dns.clone());
    put("meta-data/instance-id", f.id.clone());
    put("meta-data/instance-type", f.instance_type.clone());
    put("meta-data/local-hostname", f.private_dns.clone());
    put("meta-data/local-ipv4", f.private_ip.clone());
    put("meta-data/mac", f.mac.clone());
    put("meta-data/reservation-id", f.reservation_id.clone());
    put("meta-data/security-groups", f.group_names.join("\n"));
    put("meta-data/placement/availability-zone", f.zone.clone());
    put(
        "meta-data/placement/availability-zone-id",
        f.zone_id.clone(),
    );
    put("meta-data/placement/region", f.region.to_string());
    put("meta-data/services/domain", "amazonaws.com".into());
    put("meta-data/services/partition", "aws".into());
    let nic = format!("meta-data/network/interfaces/macs/{}/", f.mac);
    for (k, v) in [
        ("device-number", "0".to_string()),
        ("interface-id", f.eni.clone()),
        ("local-hostname", f.private_dns.clone()),
        ("local-ipv4s", f.private_ip.clone()),
        ("mac", f.mac.clone()),
        ("owner-id", f.account.clone()),
        ("security-group-ids", f.group_ids.join("\n")),
        ("security-groups", f.group_names.join("\n")),
        ("subnet-id", f.subnet_id.clone()),
        ("subnet-ipv4-cidr-block", f.subnet_cidr.clone()),
        ("vpc-id", f.vpc_id.clone()),
        ("vpc-ipv4-cidr-block", f.vpc_cidr.clone()),
        ("vpc-ipv4-cidr-blocks", f.vpc_cidr.clone()),
    ] {
        put(&format!("{nic}{k}"), v);
    }
    // The launch's key, as `public-keys/0/openssh-key`; its directory lists as `0=NAME` (see
    // [`answer`]).
    if let Some(ip) = &f.public_ip {
        let dns = crate::services::ec2::instances::network::public_dns_name(f.region, ip);
        put("meta-data/public-ipv4", ip.clone());
        put("meta-data/public-hostname", dns);
        put(&format!("{nic}public-ipv4s"), ip.clone());
    }
    if let Some((_, line)) = &f.public_key {
        put("meta-data/public-keys/0/openssh-key", line.clone());
    }
    if let (Some((arn, id)), Some(role)) = (&f.profile, role) {
        put(
            "meta-data/iam/info",
            serde_json::to_string_pretty(&json!({
                "Code": "Success",
                "LastUpdated": iso(f.launch_ms),
                "InstanceProfileArn": arn,
                "InstanceProfileId": id,
            }))
            .unwrap_or_default(),
        );
        // Filled in on request: issuing credentials registers them.
        put(
            &format!("meta-data/iam/security-credentials/{role}"),
            String::new(),
        );
    }
    put(
        "dynamic/instance-identity/document",
        serde_json::to_string_pretty(&json!({
            "accountId": f.account,
            "architecture": f.architecture,
            "availabilityZone": f.zone,
            "billingProducts": null,
            "devpayProductCodes": null,
            "marketplaceProductCodes": null,
            "imageId": f.image_id,
            "instanceId": f.id,
            "instanceType": f.instance_type,
            "kernelId": null,
            "pendingTime": iso(f.launch_ms),
            "privateIp": f.private_ip,
            "ramdiskId": null,
            "region": f.region,
            "version": "2017-09-30",
        }))
        .unwrap_or_default(),
    );
    t
}

/// The names directly under `dir` (with a trailing `/` for directories), as IMDS lists them.
fn listing(t: &BTreeMap<String, String>, dir: &str) -> Option<String> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut names: Vec<String> = Vec::new();
    for k in t.keys().filter(|k| k.starts_with(&prefix)) {
        let rest = &k[prefix.len()..];
        let name = match rest.split_once('/') {
            Some((d, _)) => format!("{d}/"),
            None => rest.to_string(),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    (!names.is_empty()).then(|| names.join("\n"))
}

/// Answers one metadata request of instance `instance_id`.
pub fn answer(
    instance: &Instance,
    instance_id: &str,
    method: &str,
    path: &str,
    headers: &HeaderMap,
) -> Response<Full<Bytes>> {
    let Some(f) = facts(instance, instance_id) else {
        return text(StatusCode::NOT_FOUND, "instance not found");
    };
    if f.http_endpoint == "disabled" || f.state == InstanceState::Terminated {
        return text(StatusCode::FORBIDDEN, "Forbidden");
    }
    let now = instance.clock.now_ms();
    if path == "/latest/api/token" {
        if method != "PUT" {
            return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        // AWS refuses token requests that went through a proxy.
        if headers.contains_key("x-forwarded-for") {
            return text(StatusCode::FORBIDDEN, "Forbidden");
        }
        let ttl = header(headers, TOKEN_TTL_HEADER).and_then(|v| v.trim().parse::<i64>().ok());
        let Some(ttl) = ttl.filter(|t| (1..=MAX_TOKEN_TTL).contains(t)) else {
            return text(StatusCode::BAD_REQUEST, "Bad Request");
        };
        let token = format!(
            "AQAEA{}",
            instance.current().world.ids.hex(48).to_ascii_uppercase()
        );
        if let Ok(mut tokens) = instance.imds.tokens.lock() {
            tokens.retain(|_, (_, exp)| *exp > now);
            tokens.insert(token.clone(), (instance_id.to_string(), now + ttl * 1000));
        }
        let mut r = text(StatusCode::OK, token);
        if let Ok(v) = http::HeaderValue::from_str(&ttl.to_string()) {
            r.headers_mut().insert(TOKEN_TTL_HEADER, v);
        }
        return r;
    }
    if method != "GET" && method != "HEAD" {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    match header(headers, TOKEN_HEADER) {
        Some(token) => {
            let valid = instance.imds.tokens.lock().ok().is_some_and(|t| {
                t.get(token)
                    .is_some_and(|(id, exp)| id == instance_id && *exp > now)
            });
            if !valid {
                return text(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
        }
        None if f.http_tokens == "required" => {
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        None => {}
    }
    let Some(rest) = path.strip_prefix("/latest") else {
        return match path {
            "/" => text(StatusCode::OK, "latest"),
            _ => text(StatusCode::NOT_FOUND, "Not Found"),
        };
    };
    let key = rest.trim_start_matches('/').trim_end_matches('/');
    let role = f
        .profile
        .as_ref()
        .and_then(|(arn, _)| profile_role(instance, arn));
    let t = tree(&f, role.as_deref());
    if let (Some(role), Some((arn, _))) = (&role, &f.profile) {
        let credentials_key = format!("meta-data/iam/security-credentials/{role}");
        if key == credentials_key || key == "meta-data/iam/info" {
            let g = instance.current();
            let issued =
                g.identities
                    .instance_profile_credentials(arn, &f.id, now, f.region, &g.world.ids);
            let body = match (issued, key == credentials_key) {
                (Ok(session), true) => {
                    let c = &session.credential;
                    let expires_ms = c.expires_at.unwrap_or_default() * 1000;
                    json!({
                        "Code": "Success",
                        "LastUpdated": iso(expires_ms - INSTANCE_SESSION_SECS * 1000),
                        "Type": "AWS-HMAC",
                        "AccessKeyId": c.access_key_id,
                        "SecretAccessKey": c.secret_access_key,
                        "Token": c.session_token,
                        "Expiration": iso(expires_ms),
                    })
                }
                (Ok(_), false) => json!({
                    "Code": "Success",
                    "LastUpdated": iso(f.launch_ms),
                    "InstanceProfileArn": arn,
                    "InstanceProfileId": f.profile.as_ref().map(|p| p.1.clone()),
                }),
                (Err(ProfileSessionError::TrustDenied { role_arn }), false) => json!({
                    "Code": "AssumeRoleUnauthorizedAccess",
                    "Message": format!("EC2 cannot assume the role {role_arn}. Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#troubleshoot_roles_roles-ec2."),
                    "LastUpdated": iso(now),
                }),
                // No credentials: no role, no profile any more, or a role EC2 may not assume.
                (Err(_), _) => return text(StatusCode::NOT_FOUND, "Not Found"),
            };
            return text(
                StatusCode::OK,
                serde_json::to_string_pretty(&body).unwrap_or_default(),
            );
        }
    }
    if let Some(v) = t.get(key) {
        return text(StatusCode::OK, v.clone());
    }
    if let (Some((name, _)), "meta-data/public-keys") = (&f.public_key, key) {
        return text(StatusCode::OK, format!("0={name}"));
    }
    match listing(&t, key) {
        Some(l) => text(StatusCode::OK, l),
        None => text(StatusCode::NOT_FOUND, "Not Found"),
    }
}
