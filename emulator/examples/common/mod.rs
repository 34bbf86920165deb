//! What the examples share: spawning `awsemu serve`, signing form POSTs, a keep-alive HTTP/1.1
//! reader, and the server process's CPU time and memory from `/proc`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Instant;

use awsemu::auth::sigv4::{self, RequestParts};
use tokio::io::AsyncReadExt;

pub fn arg(args: &[String], name: &str, default: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| w[1].clone())
        .unwrap_or_else(|| default.to_string())
}

pub fn binary() -> std::path::PathBuf {
    let me = std::env::current_exe().expect("current exe");
    // target/release/examples/bench -> target/release/awsemu
    me.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("awsemu"))
        .expect("binary path")
}

/// Spawns `awsemu serve --port 0` and returns it with the address it printed; callers kill and wait.
#[allow(clippy::zombie_processes)]
pub fn spawn_server(extra: &[&str]) -> (std::process::Child, SocketAddr, Instant) {
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(["serve", "--port", "0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn awsemu (build it with cargo build --release -p awsemu first)");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("awsemu exited before printing its address");
        }
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr: SocketAddr = rest.trim().parse().expect("address");
            // Keep draining stdout in the background so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return (child, addr, started);
        }
    }
}

/// The bytes of one SigV4-signed form POST to `service` (the credential scope routes it).
pub fn signed_post_to(addr: SocketAddr, key: &str, service: &str, body: &[u8]) -> Vec<u8> {
    let mut map = http::HeaderMap::new();
    map.insert("host", addr.to_string().parse().expect("host"));
    map.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .expect("ct"),
    );
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &map,
        body,
    };
    let mut req = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded; charset=utf-8\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in sigv4::sign(
        &parts,
        key,
        key,
        None,
        "us-east-1",
        service,
        awsemu::timefmt::now_unix(),
    ) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one HTTP/1.1 response with a content-length; returns its status and its bytes.
pub async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(u16, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).ok()?;
            let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 16384];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((status, buf.drain(..total).collect()));
        }
        let mut chunk = [0u8; 16384];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// CPU time the process has used (user + system), in µs: the server's cost per request, which
/// contention for the cores changes far less than the requests a second it reaches.
pub fn cpu_us(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) close with ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, the 12th and 13th after the name; clock
    // ticks are 100 a second on Linux.
    (ticks(11) + ticks(12)) * 10_000.0
}

pub fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
