//! Connection limits over real sockets, with tiny configured timeouts: a client that never
//! finishes its request head is cut off, an idle keep-alive connection is closed, a request that
//! takes longer than both timeouts to serve is not, past the connection cap new connections wait
//! for a slot, and an oversized head gets 431. The server keeps serving after each.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use awsemu::faults::FaultRule;
use awsemu::Emulator;
use common::{post_form, signed_form_headers};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REGIONS: &str = "Action=DescribeRegions&Version=2016-11-15";
/// The configured timeouts under test.
const TIMEOUT: Duration = Duration::from_millis(200);
/// How long a test waits for something that must happen (far above the timeouts; only a broken
/// server takes it).
const PATIENCE: Duration = Duration::from_secs(10);

async fn still_serving(addr: SocketAddr) {
    let a = post_form(addr, "worker", "worker", "ec2", REGIONS).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// A signed DescribeRegions request for a keep-alive connection.
fn keep_alive_request(addr: SocketAddr) -> Vec<u8> {
    let headers = signed_form_headers(
        addr,
        REGIONS.as_bytes(),
        "worker",
        "worker",
        None,
        "us-east-1",
        "ec2",
        awsemu::timefmt::now_unix(),
    );
    let mut head = format!("POST / HTTP/1.1\r\ncontent-length: {}\r\n", REGIONS.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(REGIONS.as_bytes());
    out
}

/// Reads one answer (head and `content-length` body) off a keep-alive connection: its status.
async fn read_answer(stream: &mut TcpStream) -> u16 {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.expect("read body");
                assert!(n > 0, "connection closed mid-answer");
                buf.extend_from_slice(&chunk[..n]);
            }
            return head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        }
        let n = stream.read(&mut chunk).await.expect("read head");
        assert!(n > 0, "connection closed before an answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits for the server to close `stream`: true when it did (EOF or reset) within PATIENCE.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // An error answer before closing is fine too.
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_head_is_cut_off() {
    let emu = Emulator::builder()
        .header_read_timeout(TIMEOUT)
        .start()
        .await
        .unwrap();
    // Half a head, then silence.
    let started = Instant::now();
    let mut slow = TcpStream::connect(emu.addr()).await.unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-")
        .await
        .unwrap();
    assert!(closed_by_server(&mut slow).await, "half a head was kept");
    assert!(started.elapsed() >= TIMEOUT, "{:?}", started.elapsed());

    // Nothing at all after connecting: the same timeout, not the idle one.
    let mut silent = TcpStream::connect(emu.addr()).await.unwrap();
    assert!(
        closed_by_server(&mut silent).await,
        "a silent client was kept"
    );

    // A trickle of bytes does not restart the clock: the whole head has the timeout.
    let started = Instant::now();
    let mut trickle = TcpStream::connect(emu.addr()).await.unwrap();
    let mut cut = false;
    while started.elapsed() < PATIENCE {
        if trickle.write_all(b"x").await.is_err() {
            cut = true;
            break;
        }
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(20), trickle.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut = true;
                break;
            }
            _ => {}
        }
    }
    assert!(cut, "a trickling head was kept for {PATIENCE:?}");

    // A whole head, then half the body it announced: the same timeout.
    let started = Instant::now();
    let mut half = TcpStream::connect(emu.addr()).await.unwrap();
    half.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .unwrap();
    assert!(closed_by_server(&mut half).await, "half a body was kept");
    assert!(started.elapsed() >= TIMEOUT, "{:?}", started.elapsed());
    still_serving(emu.addr()).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() {
    let emu = Emulator::builder()
        .header_read_timeout(TIMEOUT)
        .idle_timeout(TIMEOUT)
        .start()
        .await
        .unwrap();
    let mut conn = TcpStream::connect(emu.addr()).await.unwrap();
    // Two requests back to back on one connection: keep-alive works. The idle time starts when
    // the server answers, after the last request was sent.
    let mut idle_from = Instant::now();
    for _ in 0..2 {
        idle_from = Instant::now();
        conn.write_all(&keep_alive_request(emu.addr()))
            .await
            .unwrap();
        assert_eq!(read_answer(&mut conn).await, 200);
    }
    assert!(
        closed_by_server(&mut conn).await,
        "an idle connection was kept"
    );
    assert!(idle_from.elapsed() >= TIMEOUT, "{:?}", idle_from.elapsed());

    // A request whose answer takes twice the timeouts is answered: no timeout runs while the
    // server works on a request.
    emu.inject(FaultRule::new("ec2:DescribeRegions").latency_ms(2 * TIMEOUT.as_millis() as u64));
    let mut conn = TcpStream::connect(emu.addr()).await.unwrap();
    conn.write_all(&keep_alive_request(emu.addr()))
        .await
        .unwrap();
    assert_eq!(read_answer(&mut conn).await, 200);
    still_serving(emu.addr()).await;
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_for_a_slot() {
    let emu = Emulator::builder()
        .max_connections(2)
        .start()
        .await
        .unwrap();
    let addr = emu.addr();
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    for conn in [&mut first, &mut second] {
        conn.write_all(&keep_alive_request(addr)).await.unwrap();
        assert_eq!(read_answer(conn).await, 200);
    }
    // The third connection is made (the kernel's backlog holds it) but not served while both
    // slots are taken.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(&keep_alive_request(addr)).await.unwrap();
    let waited = tokio::time::timeout(TIMEOUT, read_answer(&mut third)).await;
    assert!(
        waited.is_err(),
        "a third connection was served over a cap of 2"
    );
    // One closes: the waiting one is served, and so are new ones after it.
    drop(first);
    let status = tokio::time::timeout(PATIENCE, read_answer(&mut third))
        .await
        .expect("the waiting connection was never served");
    assert_eq!(status, 200);
    drop(third);
    still_serving(addr).await;
    second.write_all(&keep_alive_request(addr)).await.unwrap();
    assert_eq!(read_answer(&mut second).await, 200);
}

#[tokio::test]
async fn an_oversized_head_gets_431() {
    let emu = Emulator::builder()
        .max_header_bytes(4096)
        .max_headers(20)
        .start()
        .await
        .unwrap();
    let addr = emu.addr();
    let long = format!(
        "GET /_awsemu/health HTTP/1.1\r\nhost: {addr}\r\nx-big: {}\r\n\r\n",
        "a".repeat(8192)
    );
    let many = format!(
        "GET /_awsemu/health HTTP/1.1\r\nhost: {addr}\r\n{}\r\n",
        (0..30)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    for head in [long, many] {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, conn.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 431"),
            "{}",
            &text[..text.len().min(200)]
        );
    }
    // Just under the limits is served.
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let fits = format!(
        "GET /_awsemu/health HTTP/1.1\r\nhost: {addr}\r\nx-big: {}\r\n\r\n",
        "a".repeat(2048)
    );
    conn.write_all(fits.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut conn).await, 200);
    still_serving(addr).await;
}

#[test]
fn limits_are_serve_flags_and_config_keys() {
    let config = awsemu::config::FileConfig::parse(
        r#"{"header_read_timeout_ms": 250, "idle_timeout_ms": 500, "max_connections": 8,
            "max_header_bytes": 2048, "max_headers": 12, "max_body_bytes": 1000}"#,
    )
    .unwrap();
    let mut c = awsemu::Config::default();
    config.apply(&mut c, None);
    assert_eq!(c.limits.header_read_timeout, Duration::from_millis(250));
    assert_eq!(c.limits.idle_timeout, Duration::from_millis(500));
    assert_eq!(
        (
            c.limits.max_connections,
            c.limits.max_header_bytes,
            c.limits.max_headers
        ),
        (8, 2048, 12)
    );
    assert_eq!(c.max_body_bytes, 1000);
    c.limits.max_connections = 0;
    assert!(c.validate().unwrap_err().contains("max connections"));
}
