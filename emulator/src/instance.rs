//! One emulator instance and the way every request takes through it:
//! route → authenticate (SigV4) → look up the action → authorize (IAM) → faults → handler → render.
//!
//! [`Instance::handle`] is a plain synchronous function from a [`RawRequest`] to a [`RawResponse`]:
//! the HTTP server only moves bytes, and a test can drive the whole pipeline without a socket.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use base64::Engine;
use http::HeaderMap;

use crate::audit::{is_ownership_tag, Audit, AuthCheck};
use crate::auth::identities::Identities;
use crate::auth::principal::Principal;
use crate::auth::sigv4::{self, RequestParts, SigError, SignatureInfo};
use crate::clock::{Clock, ClockMode};
use crate::config::{Config, IamMode};
use crate::faults::Faults;
use crate::iam::{self, Decision, Evaluation, RequestContext};
use crate::protocol::render::{self, Rendered};
use crate::protocol::route::{self, Input, Routed};
use crate::protocol::validate;
use crate::protocol::{AwsError, Protocol, ServiceId};
use crate::recorder::{Recorder, Trace};
use crate::services::{self, authz, Authorization, Call, Lookup};
use crate::snapshot::{Picture, Snapshot};
use crate::state::World;

/// A request as the HTTP layer received it.
#[derive(Debug)]
pub struct RawRequest {
    pub method: String,
    /// The raw, still percent-encoded path.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    pub remote: SocketAddr,
    /// Set when the body was over the size limit and not read.
    pub body_too_large: bool,
}

/// An answer for the HTTP layer.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub request_id: String,
    /// Extra headers (the JSON services' `x-amzn-ErrorType`).
    pub error_type: Option<String>,
    /// The error code of a failed call (for the call log).
    pub error_code: Option<String>,
    /// Injected latency: the server waits this long (asynchronously) before writing the answer.
    pub delay_ms: u64,
}

/// The parts of an instance that reset replaces.
#[derive(Debug)]
pub struct Generation {
    pub world: World,
    pub identities: Identities,
    pub audit: Audit,
}

/// One emulator: configuration, clock, and the current generation of state.
#[derive(Debug)]
pub struct Instance {
    pub config: Config,
    pub clock: Clock,
    pub faults: Faults,
    /// The metadata service's listeners, tokens and issued credentials.
    pub imds: crate::imds::Imds,
    /// Every answered call: the bounded log scenarios read, and `--record`'s file.
    pub calls: Recorder,
    /// The scenario `serve --scenario` loaded, whose final expectations
    /// `/_awsemu/scenario/verify` checks.
    pub scenario: std::sync::OnceLock<Arc<crate::scenario::Loaded>>,
    /// What `POST /_awsemu/snapshots` took (kept across reset and restore).
    pub snapshots: crate::snapshot::Store,
    current: RwLock<Arc<Generation>>,
}

/// What authentication yields: who is calling, from which region.
struct Caller {
    principal: Arc<Principal>,
    region: String,
    /// The authorizations settled for this call, in order (for the audit and the call log).
    checks: std::cell::RefCell<Vec<AuthCheck>>,
}

impl Caller {
    fn new(principal: Arc<Principal>, region: String) -> Caller {
        Caller {
            principal,
            region,
            checks: Default::default(),
        }
    }
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

impl Instance {
    /// Builds an instance; fails when the configuration or a policy document is invalid.
    pub fn new(config: Config) -> Result<Instance, String> {
        config.validate()?;
        let clock = match config.manual_clock_start_ms {
            Some(start) => Clock::manual(start),
            None => Clock::real(),
        };
        let generation = Self::fresh(&config, clock.now_ms())?;
        let faults = Faults::new(config.seed);
        faults.reset_to(&config.faults)?;
        Ok(Instance {
            config,
            clock,
            faults,
            imds: Default::default(),
            calls: Recorder::default(),
            scenario: Default::default(),
            snapshots: Default::default(),
            current: RwLock::new(Arc::new(generation)),
        })
    }

    /// A new generation; IAM entities that exist from the start are dated `now_ms`.
    fn fresh(config: &Config, now_ms: i64) -> Result<Generation, String> {
        Ok(Generation {
            world: World::new(config),
            identities: Identities::build(
                &config.account_id,
                &config.identities,
                config.base_dir.as_deref(),
                now_ms,
            )?,
            audit: Audit::default(),
        })
    }

    /// The current generation of state.
    pub fn current(&self) -> Arc<Generation> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Back to the initial world: resources, identities changed through the API, the audit report.
    pub fn reset(&self) -> Result<(), String> {
        let fresh = Arc::new(Self::fresh(&self.config, self.clock.now_ms())?);
        // Live faults go; the configured ones come back with fresh counts and buckets.
        self.faults.reset_to(&self.config.faults)?;
        match self.current.write() {
            Ok(mut g) => *g = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// The whole emulator now (see [`crate::snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        let g = self.current();
        Snapshot::new(Picture {
            account_id: self.config.account_id.clone(),
            clock_ms: self.clock.now_ms(),
            manual_clock: self.clock.mode() == ClockMode::Manual,
            world: g.world.save(),
            identities: g.identities.save(),
            faults: self.faults.save(),
            audit: g.audit.checks(),
        })
    }

    /// Puts a snapshot's world, faults and clock in place, as reset puts a fresh world: the
    /// generation is swapped whole, so a request sees the old world or the new one. Refused with
    /// nothing changed when the snapshot is of another account or does not load.
    pub fn restore(&self, snapshot: &Snapshot) -> Result<(), String> {
        let p = snapshot.picture();
        if p.account_id != self.config.account_id {
            return Err(format!(
                "the snapshot is of account {}, this emulator's is {}",
                p.account_id, self.config.account_id
            ));
        }
        let mut identities = Identities::build(
            &self.config.account_id,
            &self.config.identities,
            self.config.base_dir.as_deref(),
            p.clock_ms,
        )?;
        identities.load(&p.identities)?;
        let restored = Arc::new(Generation {
            world: World::load(&self.config, &p.world)?,
            identities,
            audit: Audit::from_checks(&p.audit),
        });
        // Faults and clock change under the generation's write lock, so no request starts
        // between them and the world swap and sees the new clock with the old world.
        let mut current = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.faults.load(&p.faults)?;
        self.clock.set_ms(p.clock_ms);
        *current = restored;
        Ok(())
    }

    /// Serves one AWS API request, and logs it.
    pub fn handle(&self, req: &RawRequest) -> RawResponse {
        let started = Instant::now();
        let mut trace = Trace::default();
        let mut response = self.handle_traced(req, &mut trace);
        trace.latency_ms = response.delay_ms;
        response.delay_ms = self.virtual_latency(response.delay_ms);
        trace.served_us = micros(started);
        self.log_call(trace, &response);
        response
    }

    /// Injected latency under a manual clock is virtual time: the clock moves on by it and no
    /// wall time passes (a scenario's report shows it, deterministically); under a real clock
    /// it is left for the server to sleep. Returns the wall-clock delay still to wait.
    fn virtual_latency(&self, delay_ms: u64) -> u64 {
        if delay_ms > 0 && self.clock.mode() == ClockMode::Manual {
            self.clock
                .advance(std::time::Duration::from_millis(delay_ms));
            return 0;
        }
        delay_ms
    }

    /// Answers one call from inside the emulator — the scenario world loader and `call:` steps —
    /// without HTTP or SigV4: as the principal called `principal` (whose first long-lived key's
    /// identity is used), in `region` (`None`: the default region). Authorization, faults,
    /// handler, rendering and the call log are those of [`Instance::handle`].
    pub fn call(
        &self,
        service: ServiceId,
        action: &str,
        input: Input,
        principal: &str,
        region: Option<&str>,
    ) -> Result<RawResponse, String> {
        let started = Instant::now();
        let region = region.unwrap_or(&self.config.default_region).to_string();
        if !self.config.region_enabled(&region) {
            return Err(format!(
                "region '{region}' is not a known region enabled for this account"
            ));
        }
        let generation = self.current();
        let principal = Self::principal_named(&generation, principal)?;
        let request_id = generation.world.ids.request_id();
        let routed = Routed {
            service,
            action: action.to_string(),
            input,
        };
        let mut trace = Trace {
            service: Some(service),
            action: action.to_string(),
            principal_arn: Some(principal.arn.clone()),
            principal: Some(principal.name.clone()),
            region: Some(region.clone()),
            params: crate::recorder::params_of(&routed.input),
            ..Default::default()
        };
        let caller = Caller::new(principal, region);
        let remote = SocketAddr::from(([127, 0, 0, 1], 0));
        // Injected latency of an in-process call: virtual time under a manual clock, else dropped
        // (there is no answer to hold back).
        let mut delay_ms = 0;
        let response = match self.dispatch(
            &generation,
            &routed,
            &caller,
            &remote,
            &request_id,
            &mut delay_ms,
        ) {
            Ok(output) => {
                let r = render::success(service, action, &request_id, output);
                RawResponse {
                    status: r.status,
                    content_type: r.content_type,
                    body: r.body,
                    request_id,
                    error_type: None,
                    error_code: None,
                    delay_ms: 0,
                }
            }
            Err(e) => self.answer_error(
                Some(service),
                &e,
                request_id,
                action,
                &caller.principal.arn,
                started,
            ),
        };
        self.virtual_latency(delay_ms);
        trace.latency_ms = delay_ms;
        trace.served_us = micros(started);
        Self::keep_checks(&generation, &caller, &mut trace);
        self.log_call(trace, &response);
        Ok(response)
    }

    /// The principal a name stands for in [`Instance::call`]: one with a long-lived key
    /// (`admin`, `controlplane`, a configured principal), else a session of the IAM role of that
    /// name (`awsemu` session), as if the role had been assumed.
    fn principal_named(generation: &Generation, name: &str) -> Result<Arc<Principal>, String> {
        if let Some(cred) = generation.identities.key_of(name) {
            return Ok(cred.principal.clone());
        }
        let dir = generation.identities.directory();
        match dir.role(name) {
            Ok(r) => Ok(Arc::new(Principal::assumed_role(
                generation.identities.account(),
                &r.name,
                &r.arn,
                &r.id,
                crate::auth::identities::DEFAULT_SESSION,
            ))),
            Err(_) => Err(format!("no principal or IAM role called '{name}'")),
        }
    }

    /// The call's settled authorizations go to the audit (counted per caller) and to its record.
    fn keep_checks(generation: &Generation, caller: &Caller, trace: &mut Trace) {
        let checks = caller.checks.take();
        for c in &checks {
            generation.audit.record(&caller.principal.arn, c);
        }
        trace.checks = checks;
    }

    fn log_call(&self, mut trace: Trace, response: &RawResponse) {
        trace.error = response.error_code.clone();
        self.calls.record(
            trace,
            self.clock.now_ms(),
            response.status,
            &response.request_id,
        );
    }

    fn handle_traced(&self, req: &RawRequest, trace: &mut Trace) -> RawResponse {
        let started = Instant::now();
        let generation = self.current();
        let request_id = generation.world.ids.request_id();
        let parts = RequestParts {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers: &req.headers,
            body: &req.body,
        };
        let signature = sigv4::extract(&parts);
        let scope_service = match &signature {
            Ok(Some(info)) => Some(info.service.as_str()),
            _ => None,
        };
        // A target that is not ASCII is still a target (one naming no operation), so the
        // service it names answers in its own envelope rather than the request being taken
        // for a query-protocol one.
        let target = req
            .headers
            .get("x-amz-target")
            .map(|v| String::from_utf8_lossy(v.as_bytes()));
        let target = target.as_deref();
        let body_is_form = header(&req.headers, "content-type").is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if req.body_too_large {
            let err = AwsError::new(
                "RequestEntityTooLarge",
                format!(
                    "Request body is larger than {} bytes",
                    self.config.max_body_bytes
                ),
                413,
            );
            let service = route::service_hint(scope_service, target);
            return self.answer_error(service, &err, request_id, "-", "-", started);
        }
        let routed = match route::route(
            scope_service,
            target,
            req.query.as_bytes(),
            &req.body,
            body_is_form,
        ) {
            Ok(r) => r,
            Err(e) => return self.answer_error(e.service, &e.error, request_id, "-", "-", started),
        };
        let service = routed.service;
        trace.service = Some(service);
        trace.action = routed.action.clone();
        trace.params = crate::recorder::params_of(&routed.input);
        let caller = match self.authenticate(&generation, service, &parts, signature) {
            Ok(c) => c,
            Err(e) => {
                return self.answer_error(
                    Some(service),
                    &e,
                    request_id,
                    &routed.action,
                    "-",
                    started,
                )
            }
        };
        let principal_arn = caller.principal.arn.clone();
        trace.principal_arn = Some(principal_arn.clone());
        trace.principal = Some(caller.principal.name.clone());
        trace.region = Some(caller.region.clone());
        let mut delay_ms = 0;
        let result = self.dispatch(
            &generation,
            &routed,
            &caller,
            &req.remote,
            &request_id,
            &mut delay_ms,
        );
        Self::keep_checks(&generation, &caller, trace);
        let rendered = match result {
            Ok(output) => render::success(service, &routed.action, &request_id, output),
            Err(e) => {
                let mut answer = self.answer_error(
                    Some(service),
                    &e,
                    request_id,
                    &routed.action,
                    &principal_arn,
                    started,
                );
                answer.delay_ms = delay_ms;
                return answer;
            }
        };
        log_request(
            service,
            &routed.action,
            &principal_arn,
            rendered.status,
            started,
        );
        RawResponse {
            status: rendered.status,
            content_type: rendered.content_type,
            body: rendered.body,
            request_id,
            error_type: None,
            error_code: None,
            delay_ms,
        }
    }

    fn answer_error(
        &self,
        service: Option<ServiceId>,
        err: &AwsError,
        request_id: String,
        action: &str,
        principal: &str,
        started: Instant,
    ) -> RawResponse {
        let Rendered {
            status,
            content_type,
            body,
        } = render::error(service, err, &request_id);
        if let Some(s) = service {
            log_request(s, action, principal, status, started);
        }
        let json = service.is_some_and(|s| s.protocol() == Protocol::AwsJson);
        RawResponse {
            status,
            content_type,
            body,
            request_id,
            error_type: json.then(|| err.code.to_string()),
            error_code: Some(err.code.to_string()),
            delay_ms: 0,
        }
    }

    /// SigV4: who is calling. With `--iam off` anyone is admin, signed or not.
    fn authenticate(
        &self,
        generation: &Generation,
        service: ServiceId,
        parts: &RequestParts<'_>,
        signature: Result<Option<SignatureInfo>, SigError>,
    ) -> Result<Caller, AwsError> {
        if self.config.iam == IamMode::Off {
            let region = match &signature {
                Ok(Some(info)) if self.config.region_enabled(&info.region) => info.region.clone(),
                _ => self.config.default_region.clone(),
            };
            return Ok(Caller::new(
                Arc::new(Principal::user(&self.config.account_id, "admin")),
                region,
            ));
        }
        let proto = service.protocol();
        let info = match signature {
            Ok(Some(info)) => info,
            Ok(None) => {
                return Err(AwsError::new(
                    "MissingAuthenticationToken",
                    "Request is missing Authentication Token",
                    403,
                ))
            }
            Err(e) => return Err(sig_error(proto, e)),
        };
        let Some(cred) = generation.identities.credential(&info.access_key_id) else {
            return Err(unknown_key(proto));
        };
        if !self.config.region_enabled(&info.region) {
            return Err(unknown_key(proto));
        }
        if info.service != service.signing_name()
            && !(service == ServiceId::Ecr && info.service == "api.ecr")
        {
            return Err(sig_error(
                proto,
                SigError::Scope(format!(
                    "Credential should be scoped to correct service: '{}'.",
                    service.signing_name()
                )),
            ));
        }
        sigv4::check_time(&info, crate::timefmt::now_unix()).map_err(|e| sig_error(proto, e))?;
        if cred.session_token.as_deref() != info.session_token.as_deref() {
            return Err(unknown_key(proto));
        }
        sigv4::verify(parts, &info, &cred.secret_access_key).map_err(|e| sig_error(proto, e))?;
        if let Some(expiry) = cred.expires_at {
            if self.clock.now_secs() >= expiry {
                return Err(match proto {
                    Protocol::Ec2Query => {
                        AwsError::bad_request("RequestExpired", "Request has expired.")
                    }
                    // STS, IAM, ELB, autoscaling: 403, as AWS answers them.
                    Protocol::AwsQuery => AwsError::new(
                        "ExpiredToken",
                        "The security token included in the request is expired",
                        403,
                    ),
                    Protocol::AwsJson => AwsError::bad_request(
                        "ExpiredTokenException",
                        "The security token included in the request is expired",
                    ),
                });
            }
        }
        Ok(Caller::new(cred.principal.clone(), info.region))
    }

    fn dispatch(
        &self,
        generation: &Generation,
        routed: &Routed,
        caller: &Caller,
        remote: &SocketAddr,
        request_id: &str,
        delay_ms: &mut u64,
    ) -> Result<crate::protocol::Output, AwsError> {
        let service = routed.service;
        let action = routed.action.as_str();
        let declared = match services::lookup(service, action) {
            Lookup::Declared(a) => Some(a),
            Lookup::NotEmulated => None,
            Lookup::Unknown => {
                return Err(match service.protocol() {
                    Protocol::AwsJson => AwsError::bad_request(
                        "UnknownOperationException",
                        format!("Unknown operation {action}"),
                    ),
                    _ => AwsError::invalid_action(action),
                })
            }
        };
        // EC2's DryRun: authorize, then answer whether the call would have succeeded.
        let dry_run = match (&routed.input, service) {
            (Input::Query(p), ServiceId::Ec2) => p.root().bool("DryRun")?.unwrap_or(false),
            _ => false,
        };
        let iam_action = format!("{}:{action}", service.iam_prefix());
        self.authorize(generation, routed, declared, caller, remote, &iam_action)?;
        // The model's shape rules, as AWS's front end checks them before the operation runs.
        match &routed.input {
            Input::Query(p) => validate::query(service, action, p)?,
            Input::Json(j) => validate::json(service, action, j)?,
        }
        if dry_run {
            return Err(AwsError::new(
                "DryRunOperation",
                "Request would have succeeded, but DryRun flag is set.",
                412,
            ));
        }
        let Some(handler) = declared.and_then(|a| a.handler) else {
            return Err(AwsError::not_emulated(service.iam_prefix(), action));
        };
        // Faults: after authorization (a denied call stays denied), before the handler (a faulted
        // call changes nothing).
        let now_ms = self.clock.now_ms();
        let fault = self.faults.decide_for(
            routed,
            declared,
            &caller.principal,
            &self.config.account_id,
            &caller.region,
            now_ms,
        );
        *delay_ms = fault.latency_ms;
        if let Some(e) = fault.error {
            return Err(e);
        }
        Faults::check_named(routed, &generation.world.hidden, &caller.region, now_ms)?;
        let also = |check: Authorization<'_>| match check {
            Authorization::Identity { action, resource } => self.authorize_one(
                generation,
                service,
                caller,
                remote,
                &Check::new(action, resource),
            ),
            Authorization::Refused {
                action,
                resource,
                error,
            } => match self.config.iam {
                IamMode::Off => Ok(()),
                IamMode::Audit | IamMode::Enforce => {
                    caller.checks.borrow_mut().push(AuthCheck {
                        by_resource_policy: true,
                        ..AuthCheck::new(action, resource, false)
                    });
                    if self.config.iam == IamMode::Enforce {
                        return Err(error);
                    }
                    tracing::warn!(principal = %caller.principal.arn, action, resource, "audit: would be denied by a resource policy");
                    Ok(())
                }
            },
        };
        let call = Call {
            service,
            action,
            account: &self.config.account_id,
            region: &caller.region,
            principal: &caller.principal,
            request_id,
            now_ms,
            world: &generation.world,
            input: &routed.input,
            identities: &generation.identities,
            remote: *remote,
            authorizer: &also,
            created: Default::default(),
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if fault.panic {
                panic!("injected panic fault in {iam_action}");
            }
            handler(&call)
        }));
        match outcome {
            Ok(result) => {
                if result.is_ok() {
                    let hidden = &generation.world.hidden;
                    let ids = call.created.take();
                    self.faults
                        .created(&iam_action, &ids, hidden, &caller.region, now_ms);
                }
                result
            }
            Err(_) => {
                tracing::error!(%service, action, "handler panicked; answered InternalError");
                Err(AwsError::internal())
            }
        }
    }

    /// IAM: every resource the action touches must be allowed. In audit mode a denial is recorded
    /// and the call goes on.
    fn authorize(
        &self,
        generation: &Generation,
        routed: &Routed,
        declared: Option<&services::Action>,
        caller: &Caller,
        remote: &SocketAddr,
        iam_action: &str,
    ) -> Result<(), AwsError> {
        // AWS answers GetCallerIdentity whatever the policies say.
        if self.config.iam == IamMode::Off || iam_action == "sts:GetCallerIdentity" {
            return Ok(());
        }
        let resources = authz::resources_of(
            declared,
            &routed.input,
            &self.config.account_id,
            &caller.region,
        );
        let tags = authz::request_tags_of(declared, &routed.input);
        for resource in resources {
            // IAM names roles and profiles without their path; policies see the full ARN.
            let resource = match routed.service {
                ServiceId::Iam => generation.identities.with_path(&resource),
                // A launch template named by name: policies see its ARN.
                ServiceId::Ec2 => {
                    services::ec2::launch_templates::arn_of_named(&generation.world, &resource)
                }
                _ => resource,
            };
            let check = Check {
                tags: tags.iter().collect(),
                ..Check::new(iam_action, &resource)
            };
            self.authorize_one(generation, routed.service, caller, remote, &check)?;
        }
        // Tag on create: tagging what the call makes needs the service's tagging action too.
        for extra in authz::tag_on_create_of(
            declared,
            &routed.input,
            &tags,
            &self.config.account_id,
            &caller.region,
        ) {
            let check = Check {
                action: extra.action,
                resource: &extra.resource,
                tags: tags
                    .iter()
                    .filter(|t| {
                        extra.resource_type.is_none() || t.resource_type == extra.resource_type
                    })
                    .collect(),
                create_action: Some((extra.create_action_key, &routed.action)),
            };
            self.authorize_one(generation, routed.service, caller, remote, &check)?;
        }
        Ok(())
    }

    /// One `(action, resource)` against the caller's policies, with the keys of `check`. In audit
    /// mode a denial is recorded and the call goes on; with IAM off everything is allowed.
    fn authorize_one(
        &self,
        generation: &Generation,
        service: ServiceId,
        caller: &Caller,
        remote: &SocketAddr,
        check: &Check<'_>,
    ) -> Result<(), AwsError> {
        let (iam_action, resource) = (check.action, check.resource);
        if self.config.iam == IamMode::Off {
            return Ok(());
        }
        let principal = &caller.principal;
        let policies = generation.identities.policies_for(principal);
        let now = self.clock.now_secs();
        let mut ctx = request_context(iam_action, resource, principal, &caller.region, remote, now);
        ctx.add_request_tags(
            check
                .tags
                .iter()
                .map(|t| (t.key.as_str(), t.value.as_deref())),
        );
        if let Some((key, create_action)) = check.create_action {
            ctx.set(key, vec![create_action.to_string()]);
        }
        // The read lock is taken and released inside; nothing is held while evaluating.
        let resource_tags = authz::resource_tags(&generation.world, resource);
        if let Some((service, tags)) = &resource_tags {
            ctx.add_resource_tags(service, tags);
        }
        let eval = iam::evaluate(&policies, &ctx);
        let allowed = matches!(eval.decision, Decision::Allow);
        caller
            .checks
            .borrow_mut()
            .push(auth_check(check, resource_tags.as_ref(), allowed));
        if allowed {
            return Ok(());
        }
        if self.config.iam == IamMode::Audit {
            tracing::warn!(principal = %principal.arn, action = iam_action, resource, "audit: would be denied");
            return Ok(());
        }
        Err(denied(
            service.protocol(),
            principal,
            iam_action,
            resource,
            &eval,
            &ctx,
        ))
    }
}

/// One authorization: the action and resource, and what it adds to the global keys: the
/// request's tags (`aws:RequestTag/KEY`, `aws:TagKeys`) and, for the `ec2:CreateTags` check of a
/// tag-on-create call, `ec2:CreateAction` or `elasticloadbalancing:CreateAction` (key, action).
/// (The resource's own tags are read when it is checked.)
struct Check<'a> {
    action: &'a str,
    resource: &'a str,
    tags: Vec<&'a authz::RequestTag>,
    create_action: Option<(&'a str, &'a str)>,
}

impl<'a> Check<'a> {
    fn new(action: &'a str, resource: &'a str) -> Self {
        Check {
            action,
            resource,
            tags: Vec::new(),
            create_action: None,
        }
    }
}

/// What the audit and the call log keep of one settled authorization: the check, and of the tags
/// only the ownership ones a least-privilege condition may test.
fn auth_check(
    check: &Check<'_>,
    resource_tags: Option<&(&'static str, crate::state::tags::Tags)>,
    allowed: bool,
) -> AuthCheck {
    let owned = |k: &&String| is_ownership_tag(k);
    AuthCheck {
        resource_tags: resource_tags
            .map(|(_, tags)| {
                (tags.iter().filter(|(k, _)| owned(k)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        request_tags: (check.tags.iter())
            .filter(|t| is_ownership_tag(&t.key))
            .filter_map(|t| Some((t.key.clone(), t.value.clone()?)))
            .collect(),
        create_action: check.create_action.map(|(_, a)| a.to_string()),
        ..AuthCheck::new(check.action, check.resource, allowed)
    }
}

/// The request context IAM conditions see: the global keys AWS sets on every call.
pub fn request_context(
    action: &str,
    resource: &str,
    principal: &Principal,
    region: &str,
    remote: &SocketAddr,
    now_secs: i64,
) -> RequestContext {
    let mut ctx = RequestContext::new(action, resource)
        .with("aws:RequestedRegion", region)
        .with("aws:PrincipalArn", principal.principal_arn.as_str())
        .with("aws:PrincipalAccount", principal.account.as_str())
        .with("aws:userid", principal.user_id.as_str())
        .with("aws:SourceIp", remote.ip().to_string())
        .with(
            "aws:CurrentTime",
            crate::timefmt::format_iso8601(now_secs).replace(".000", ""),
        )
        .with("aws:EpochTime", now_secs.to_string())
        .with("aws:SecureTransport", "false");
    match principal.role() {
        Some(_) => ctx = ctx.with("aws:PrincipalType", "AssumedRole"),
        None => {
            ctx = ctx
                .with("aws:PrincipalType", "User")
                .with("aws:username", principal.name.as_str())
        }
    }
    ctx
}

/// AWS's denial, in the protocol's words. EC2 appends an encoded authorization message that
/// `sts:DecodeAuthorizationMessage` turns back into the decision's details.
fn denied(
    proto: Protocol,
    principal: &Principal,
    action: &str,
    resource: &str,
    eval: &Evaluation,
    ctx: &RequestContext,
) -> AwsError {
    let on = if resource == "*" {
        String::new()
    } else {
        format!(" on resource: {resource}")
    };
    let why = match eval.decision {
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_string(),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    let sentence = format!(
        "User: {} is not authorized to perform: {action}{on} {why}",
        principal.arn
    );
    match proto {
        Protocol::Ec2Query => AwsError::new(
            "UnauthorizedOperation",
            format!(
                "You are not authorized to perform this operation. {sentence}. Encoded authorization failure message: {}",
                encode_authorization_message(principal, action, resource, eval, ctx)
            ),
            403,
        ),
        Protocol::AwsQuery => AwsError::new("AccessDenied", sentence, 403),
        Protocol::AwsJson => AwsError::new("AccessDeniedException", sentence, 400),
    }
}

/// The decoded form of AWS's authorization message, base64url-encoded (AWS encrypts it; we only
/// encode, and `sts:DecodeAuthorizationMessage` decodes).
pub fn encode_authorization_message(
    principal: &Principal,
    action: &str,
    resource: &str,
    eval: &Evaluation,
    ctx: &RequestContext,
) -> String {
    let matched: Vec<serde_json::Value> = eval
        .statement
        .iter()
        .map(|s| serde_json::json!({"statementId": s.sid, "policy": s.policy, "index": s.index, "effect": "DENY"}))
        .collect();
    let conditions: Vec<serde_json::Value> = ctx
        .keys()
        .into_iter()
        .map(|(k, v)| serde_json::json!({"key": k, "values": {"items": v.iter().map(|x| serde_json::json!({"value": x})).collect::<Vec<_>>()}}))
        .collect();
    let doc = serde_json::json!({
        "allowed": false,
        "explicitDeny": matches!(eval.decision, Decision::ExplicitDeny),
        "matchedStatements": {"items": matched},
        "failures": {"items": []},
        "context": {
            "principal": {"id": principal.user_id, "arn": principal.arn},
            "action": action,
            "resource": resource,
            "conditions": {"items": conditions},
        }
    });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An access key we do not know (or a token that does not belong to it).
fn unknown_key(proto: Protocol) -> AwsError {
    match proto {
        Protocol::Ec2Query => AwsError::new(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
            401,
        ),
        Protocol::AwsQuery => AwsError::new("InvalidClientTokenId", INVALID_TOKEN, 403),
        Protocol::AwsJson => AwsError::new("UnrecognizedClientException", INVALID_TOKEN, 400),
    }
}

/// A signature problem, in each protocol's words.
fn sig_error(proto: Protocol, e: SigError) -> AwsError {
    match e {
        SigError::Incomplete(m) => AwsError::bad_request("IncompleteSignature", m),
        SigError::UnsupportedAlgorithm(a) => {
            AwsError::bad_request("IncompleteSignature", format!("Unsupported AWS 'algorithm': '{a}'"))
        }
        SigError::Expired { message } => match proto {
            Protocol::Ec2Query => AwsError::bad_request("RequestExpired", format!("Request has expired. {message}")),
            Protocol::AwsQuery => AwsError::new("SignatureDoesNotMatch", message, 403),
            Protocol::AwsJson => AwsError::bad_request("InvalidSignatureException", message),
        },
        SigError::Scope(message) => match proto {
            Protocol::Ec2Query => AwsError::new("AuthFailure", message, 401),
            Protocol::AwsQuery => AwsError::new("SignatureDoesNotMatch", message, 403),
            Protocol::AwsJson => AwsError::bad_request("InvalidSignatureException", message),
        },
        SigError::Mismatch { canonical_request, string_to_sign } => match proto {
            Protocol::Ec2Query => AwsError::new("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
            Protocol::AwsQuery => AwsError::new(
                "SignatureDoesNotMatch",
                format!("{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"),
                403,
            ),
            Protocol::AwsJson => AwsError::bad_request("InvalidSignatureException", SIGNATURE_MISMATCH),
        },
    }
}

fn log_request(service: ServiceId, action: &str, principal: &str, status: u16, started: Instant) {
    tracing::debug!(
        service = service.name(),
        action,
        principal,
        status,
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
}

/// Wall-clock µs since `started`, for the in-memory call log.
fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}
