//! The HTTP side: a hyper 1 listener on one port for every service, graceful shutdown, and the
//! hand-off of each request to [`Instance::handle`] or the admin routes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::admin;
use crate::instance::{Instance, RawRequest, RawResponse};

pub mod limits;

use limits::{Phases, Watched};

/// How long shutdown waits for in-flight requests before closing connections anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` completes, then lets in-flight requests finish. At most
/// `max_connections` connections are served at once: past that the server stops accepting, so
/// new connections wait in the kernel's listen backlog (never an fd-exhaustion spin).
pub async fn serve(
    listener: TcpListener,
    instance: Arc<Instance>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let limits = instance.config.limits;
    // HTTP/1.1 only: every AWS SDK and CLI speaks it to a plain-HTTP endpoint. hyper's own
    // header timeout is off: [`limits::watchdog`] times heads and idle connections apart.
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let phases = Phases::new();
                let instance = instance.clone();
                let service_phases = phases.clone();
                let service = service_fn(move |req| {
                    let instance = instance.clone();
                    let phases = service_phases.clone();
                    async move {
                        let response = handle(instance, req, remote, &phases).await;
                        phases.request_ended();
                        Ok::<_, Infallible>(response)
                    }
                });
                let io = TokioIo::new(Watched::new(stream, phases.clone()));
                let conn = builder.serve_connection(io, service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    // The slot is given back when this task ends, whichever way.
                    let _slot = slot;
                    tokio::select! {
                        ended = conn => if let Err(e) = ended {
                            tracing::trace!(error = %e, "connection ended with an error");
                        },
                        why = limits::watchdog(phases, limits) => {
                            // Dropping the connection closes the socket.
                            tracing::debug!(%remote, why, "connection closed");
                        }
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    instance.imds.stop();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}");
    }
}

/// Reads the body (the header timeout runs on until it is in: a client trickling its body is
/// cut off like one trickling its head), then answers.
async fn handle(
    instance: Arc<Instance>,
    req: Request<Incoming>,
    remote: SocketAddr,
    phases: &Phases,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let limit = instance.config.max_body_bytes;
    let declared_too_large = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit);
    let (body, body_too_large) = if declared_too_large {
        (Bytes::new(), true)
    } else {
        match Limited::new(body, limit).collect().await {
            Ok(collected) => (collected.to_bytes(), false),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => (Bytes::new(), true),
            Err(e) => {
                tracing::debug!(error = %e, "could not read request body");
                return plain(StatusCode::BAD_REQUEST, "could not read the request body");
            }
        }
    };
    phases.request_started();
    let raw = RawRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
        remote,
        body_too_large,
    };
    if let Some(id) = raw.path.strip_prefix("/_awsemu/imds/") {
        return admin::imds(&instance, &raw, id).await;
    }
    if let Some(resp) = admin::route(&instance, &raw) {
        return resp;
    }
    // The pipeline is synchronous and short; run it in place (no guard crosses an await).
    let answer = instance.handle(&raw);
    if answer.delay_ms > 0 {
        // Injected latency: an async sleep, so other requests go on meanwhile.
        tokio::time::sleep(Duration::from_millis(answer.delay_ms)).await;
    }
    to_response(answer)
}

fn to_response(r: RawResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(r.status)
        .header(http::header::CONTENT_TYPE, r.content_type)
        .header("x-amzn-RequestId", &r.request_id)
        .header("x-amz-request-id", &r.request_id);
    if let Some(t) = &r.error_type {
        builder = builder.header("x-amzn-ErrorType", t);
    }
    builder
        .body(Full::new(Bytes::from(r.body)))
        .unwrap_or_else(|_| {
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the response",
            )
        })
}

/// A bare text answer for requests that never reached any protocol.
pub fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}
