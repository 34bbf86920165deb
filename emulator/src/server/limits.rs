//! Connection limits: how long a client may take to send a request (head and body), how long a keep-alive
//! connection may sit idle, how many connections are served at once, and how large a request
//! head may be. Without them a client that opens a connection and never finishes its headers
//! holds a socket (and a task) forever, and a few hundred such clients exhaust file descriptors.
//!
//! hyper's own `header_read_timeout` runs from the end of one answer to the end of the next head,
//! so it cannot tell a slow head from an idle keep-alive connection; the two are timed here
//! instead, by [`Watched`] (which sees bytes arrive) and [`Phases`] (which the service marks when
//! a request is in and when it is answered), and enforced by [`watchdog`], which ends the
//! connection. The same timeout covers the body, which the service reads itself.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Default time a client has to send a whole request, head and body (from connecting, or from
/// its first byte after an idle keep-alive pause).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a keep-alive connection may wait for its next request. Longer than the SDKs'
/// own pool idle times (the AWS SDKs drop idle connections after 20-90 s), so an SDK rarely
/// sends on a connection the server is closing.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of connections served at once; past it, new connections wait in the listen
/// backlog until one ends.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default largest request head (request line and headers) in bytes; past it, 431.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Default largest number of headers in one request (hyper's default); past it, 431.
pub const DEFAULT_MAX_HEADERS: usize = 100;

/// The connection limits of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
        }
    }
}

impl Limits {
    /// Refuses limits that would make the server unusable (a zero cap serves nobody; a zero
    /// timeout cuts every connection).
    pub fn validate(&self) -> Result<(), String> {
        if self.max_connections == 0 || self.max_connections > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(format!(
                "max connections must be between 1 and {}",
                tokio::sync::Semaphore::MAX_PERMITS
            ));
        }
        if self.header_read_timeout.is_zero() || self.idle_timeout.is_zero() {
            return Err("connection timeouts must be longer than zero".into());
        }
        if self.max_header_bytes < 1024 {
            return Err("max header bytes must be at least 1024".into());
        }
        if self.max_headers == 0 {
            return Err("max headers must be at least 1".into());
        }
        Ok(())
    }
}

/// Parses a duration flag: `200ms`, `10s`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 200ms, 10s, 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("'{text}': unknown unit '{unit}' (use ms, s or m)")),
    }
}

/// Where a connection is in its life, as the watchdog sees it.
const HEAD: u8 = 0;
const BUSY: u8 = 1;
const IDLE: u8 = 2;

/// One connection's phase and when it began (ms since the connection was accepted), shared by
/// the stream wrapper, the service and the watchdog.
#[derive(Debug)]
pub struct Phases {
    start: Instant,
    phase: AtomicU8,
    since_ms: AtomicU64,
}

impl Phases {
    /// A new connection is reading its first head from the moment it is accepted: a client that
    /// connects and sends nothing gets the header timeout, not the idle one.
    pub fn new() -> Arc<Phases> {
        Arc::new(Phases {
            start: Instant::now(),
            phase: AtomicU8::new(HEAD),
            since_ms: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The request (head and body) is in: no timeout applies until it is answered (a handler
    /// with injected latency may take long).
    pub fn request_started(&self) {
        self.phase.store(BUSY, Ordering::Release);
    }

    /// The service answered: the connection is idle until the client's next byte.
    pub fn request_ended(&self) {
        self.since_ms.store(self.now_ms(), Ordering::Release);
        self.phase.store(IDLE, Ordering::Release);
    }

    /// Bytes arrived: an idle connection starts a new head.
    fn on_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.phase.store(HEAD, Ordering::Release);
        }
    }

    /// Bytes left: an answer still being written keeps an idle connection alive.
    fn on_write(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE {
            self.since_ms.store(self.now_ms(), Ordering::Release);
        }
    }
}

/// Ends when the connection has overstayed: its request took longer than the header timeout, or it
/// sat idle longer than the idle timeout. The caller drops the connection then, which closes
/// the socket. While a request is being served it only wakes once per timeout to look again.
pub async fn watchdog(phases: Arc<Phases>, limits: Limits) -> &'static str {
    loop {
        let phase = phases.phase.load(Ordering::Acquire);
        let since = Duration::from_millis(phases.since_ms.load(Ordering::Acquire));
        let (limit, why) = match phase {
            HEAD => (
                limits.header_read_timeout,
                "request head not received in time",
            ),
            IDLE => (limits.idle_timeout, "idle keep-alive connection timed out"),
            _ => {
                tokio::time::sleep(limits.header_read_timeout.min(limits.idle_timeout)).await;
                continue;
            }
        };
        let deadline = phases.start + since + limit;
        if Instant::now() >= deadline {
            return why;
        }
        tokio::time::sleep_until(deadline).await;
        // Loop: the phase may have moved on meanwhile, which moves the deadline.
    }
}

/// A stream that tells [`Phases`] when bytes come and go.
pub struct Watched<S> {
    inner: S,
    phases: Arc<Phases>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, phases: Arc<Phases>) -> Self {
        Watched { inner, phases }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.phases.on_read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.phases.on_write();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.phases.on_write();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn unusable_limits_are_refused() {
        Limits::default().validate().unwrap();
        for bad in [
            Limits {
                max_connections: 0,
                ..Limits::default()
            },
            Limits {
                idle_timeout: Duration::ZERO,
                ..Limits::default()
            },
            Limits {
                max_header_bytes: 10,
                ..Limits::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
