//! Soak (a benchmark, not a timed test): `awsemu serve` as its own process, driven by many
//! keep-alive connections at once for a while with mixed signed reads and writes whose
//! operations net to zero resources. It checks what a long CI run depends on:
//!
//! - no answer is a 5xx, and every answer is the one expected (no connection dropped);
//! - no write is lost: each create is visible to the Describe call that follows it, each delete
//!   makes the next Describe answer NotFound, and at the end nothing the soak made is left;
//! - the server's resident memory and open file descriptors are flat: the highest value after
//!   the first quarter is within a margin of the value at the first quarter.
//!
//! ```sh
//! scripts/soak                      # 200 connections, 60 s
//! ./target/release/examples/soak --connections 200 --seconds 60
//! ```
//! Exits 1 when any check fails, after printing the figures.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{arg, read_response, rss_mib, signed_post_to, spawn_server};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Growth allowed after the first quarter: allocator arenas and the call log's bounded ring
/// settle there; a leak of a record a request grows past it within a minute.
const RSS_MARGIN: f64 = 1.10;
const RSS_SLACK_MIB: f64 = 4.0;
/// Descriptors beyond the 200 connections and the listener that may come and go (a reconnect).
const FD_SLACK: usize = 2;

/// What all connections count.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    server_errors: AtomicU64,
    unexpected: AtomicU64,
    lost_writes: AtomicU64,
    dropped: AtomicU64,
    cycles: AtomicU64,
    /// The first few surprises, for the report.
    notes: Mutex<Vec<String>>,
}

impl Counts {
    fn note(&self, what: String) {
        if let Ok(mut n) = self.notes.lock() {
            if n.len() < 10 {
                n.push(what);
            }
        }
    }
}

/// One keep-alive connection: signs, sends and reads one request at a time.
struct Conn {
    addr: SocketAddr,
    stream: TcpStream,
    buf: Vec<u8>,
    counts: Arc<Counts>,
}

impl Conn {
    async fn open(addr: SocketAddr, counts: Arc<Counts>) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Conn {
            addr,
            stream,
            buf: Vec::new(),
            counts,
        }
    }

    /// Sends one call; a dropped connection is counted and reopened (the call is not retried:
    /// its outcome is unknown, so the cycle it belongs to is abandoned).
    async fn call(&mut self, service: &str, body: &str) -> Option<(u16, String)> {
        let req = signed_post_to(self.addr, "test", service, body.as_bytes());
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        let answer = match self.stream.write_all(&req).await {
            Ok(()) => read_response(&mut self.stream, &mut self.buf).await,
            Err(_) => None,
        };
        let Some((status, bytes)) = answer else {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            self.counts.note(format!("connection dropped on {body}"));
            self.stream = TcpStream::connect(self.addr).await.expect("reconnect");
            self.buf.clear();
            return None;
        };
        if status >= 500 {
            self.counts.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        Some((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A call that must answer `status` (and, for an error, carry `code`): anything else is
    /// counted as unexpected, or as a lost write when `lost` says the answer shows one.
    async fn expect(
        &mut self,
        service: &str,
        body: &str,
        status: u16,
        code: Option<&str>,
        lost: bool,
    ) -> Option<String> {
        let (got, text) = self.call(service, body).await?;
        let code_ok = code.is_none_or(|c| text.contains(&format!("<Code>{c}</Code>")));
        if got == status && code_ok {
            return Some(text);
        }
        let counter = if lost {
            &self.counts.lost_writes
        } else {
            &self.counts.unexpected
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let head: String = text.chars().take(300).collect();
        self.counts.note(format!(
            "{body} -> {got} (wanted {status} {code:?}): {head}"
        ));
        None
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    Some(&text[from..from + text[from..].find(end)?])
}

/// Create, see, tag, delete and no longer see one volume.
async fn volume_cycle(c: &mut Conn, tag: &str) -> Option<()> {
    let created = c
        .expect(
            "ec2",
            &format!(
                "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=1\
                 &TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=soak\
                 &TagSpecification.1.Tag.1.Value={tag}"
            ),
            200,
            None,
            false,
        )
        .await?;
    let id = between(&created, "<volumeId>", "</volumeId>")?.to_string();
    let describe = format!("Action=DescribeVolumes&Version=2016-11-15&VolumeId.1={id}");
    let seen = c.expect("ec2", &describe, 200, None, true).await?;
    if !seen.contains(&id) {
        c.counts.lost_writes.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    c.expect(
        "ec2",
        &format!("Action=CreateTags&Version=2016-11-15&ResourceId.1={id}&Tag.1.Key=stage&Tag.1.Value=tagged"),
        200,
        None,
        false,
    )
    .await?;
    c.expect(
        "ec2",
        &format!("Action=DeleteVolume&Version=2016-11-15&VolumeId={id}"),
        200,
        None,
        false,
    )
    .await?;
    c.expect("ec2", &describe, 400, Some("InvalidVolume.NotFound"), true)
        .await?;
    Some(())
}

/// Create a security group, open a port, see it, delete it, no longer see it.
async fn group_cycle(c: &mut Conn, name: &str) -> Option<()> {
    let created = c
        .expect(
            "ec2",
            &format!("Action=CreateSecurityGroup&Version=2016-11-15&GroupName={name}&GroupDescription=soak"),
            200,
            None,
            false,
        )
        .await?;
    let id = between(&created, "<groupId>", "</groupId>")?.to_string();
    c.expect(
        "ec2",
        &format!(
            "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId={id}\
             &IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443\
             &IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"
        ),
        200,
        None,
        false,
    )
    .await?;
    let describe = format!("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={id}");
    let seen = c.expect("ec2", &describe, 200, None, true).await?;
    if !seen.contains("10.0.0.0/8") {
        c.counts.lost_writes.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    c.expect(
        "ec2",
        &format!("Action=DeleteSecurityGroup&Version=2016-11-15&GroupId={id}"),
        200,
        None,
        false,
    )
    .await?;
    c.expect("ec2", &describe, 400, Some("InvalidGroup.NotFound"), true)
        .await?;
    Some(())
}

/// Create, see, delete and no longer see an ELBv2 target group.
async fn target_group_cycle(c: &mut Conn, name: &str, vpc: &str) -> Option<()> {
    let created = c
        .expect(
            "elasticloadbalancing",
            &format!("Action=CreateTargetGroup&Version=2015-12-01&Name={name}&Protocol=TCP&Port=80&VpcId={vpc}"),
            200,
            None,
            false,
        )
        .await?;
    let arn = between(&created, "<TargetGroupArn>", "</TargetGroupArn>")?.to_string();
    let describe = format!("Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1={name}");
    let seen = c
        .expect("elasticloadbalancing", &describe, 200, None, true)
        .await?;
    if !seen.contains(&arn) {
        c.counts.lost_writes.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    c.expect(
        "elasticloadbalancing",
        &format!("Action=DeleteTargetGroup&Version=2015-12-01&TargetGroupArn={arn}"),
        200,
        None,
        false,
    )
    .await?;
    c.expect(
        "elasticloadbalancing",
        &describe,
        400,
        Some("TargetGroupNotFound"),
        true,
    )
    .await?;
    Some(())
}

/// Reads that touch the whole region.
async fn reads(c: &mut Conn) -> Option<()> {
    for body in [
        "Action=DescribeRegions&Version=2016-11-15",
        "Action=DescribeSubnets&Version=2016-11-15",
        "Action=DescribeInstances&Version=2016-11-15",
    ] {
        c.expect("ec2", body, 200, None, false).await?;
    }
    Some(())
}

async fn connection(
    n: usize,
    addr: SocketAddr,
    vpc: Arc<String>,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) {
    let mut c = Conn::open(addr, counts.clone()).await;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("soak-{n}-{i}");
        let done = match i % 4 {
            0 => volume_cycle(&mut c, &name).await,
            1 => group_cycle(&mut c, &name).await,
            2 => target_group_cycle(&mut c, &name, &vpc).await,
            _ => reads(&mut c).await,
        };
        if done.is_some() {
            counts.cycles.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
    }
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// What is left of the soak's resources: volumes tagged `soak`, groups and target groups named
/// `soak-*`.
async fn leftovers(c: &mut Conn) -> Vec<String> {
    let mut left = Vec::new();
    let checks = [
        ("ec2", "Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=tag-key&Filter.1.Value.1=soak", "<volumeId>"),
        ("ec2", "Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-name&Filter.1.Value.1=soak-*", "<groupId>"),
        ("elasticloadbalancing", "Action=DescribeTargetGroups&Version=2015-12-01", "<TargetGroupName>soak-"),
    ];
    for (service, body, marker) in checks {
        match c.call(service, body).await {
            Some((200, text)) => {
                left.extend(text.matches(marker).map(|_| format!("{service}: {marker}")))
            }
            other => left.push(format!("{body} -> {:?}", other.map(|(s, _)| s))),
        }
    }
    left
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let connections: usize = arg(&args, "--connections", "200").parse().unwrap_or(200);
    let seconds: u64 = arg(&args, "--seconds", "60").parse().unwrap_or(60);
    let (mut child, addr, _) = spawn_server(&[]);
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (samples, left) = rt.block_on(async {
        let mut probe = Conn::open(addr, Arc::new(Counts::default())).await;
        let vpcs = probe
            .call("ec2", "Action=DescribeVpcs&Version=2016-11-15")
            .await
            .expect("DescribeVpcs");
        let vpc = Arc::new(
            between(&vpcs.1, "<vpcId>", "</vpcId>")
                .expect("a VPC")
                .to_string(),
        );
        let tasks: Vec<_> = (0..connections)
            .map(|n| {
                tokio::spawn(connection(
                    n,
                    addr,
                    vpc.clone(),
                    counts.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        // Memory and descriptors once a second.
        let started = Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            samples.push((started.elapsed().as_secs_f64(), rss_mib(pid), open_fds(pid)));
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        // A fresh connection: the probe's has been idle past the server's idle timeout.
        let mut last = Conn::open(addr, Arc::new(Counts::default())).await;
        (samples, leftovers(&mut last).await)
    });
    let _ = child.kill();
    let _ = child.wait();

    let quarter = samples.len() / 4;
    let (q_rss, q_fds) = samples
        .get(quarter.saturating_sub(1))
        .map_or((0.0, 0), |s| (s.1, s.2));
    let later = &samples[quarter.min(samples.len())..];
    let max_rss = later.iter().map(|s| s.1).fold(q_rss, f64::max);
    let max_fds = later.iter().map(|s| s.2).max().unwrap_or(q_fds).max(q_fds);
    let (end_rss, end_fds) = samples.last().map_or((0.0, 0), |s| (s.1, s.2));
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let requests = get(&counts.requests);
    println!(
        "soak: {connections} connections, {seconds} s: {requests} requests ({:.0}/s), {} cycles",
        requests as f64 / seconds as f64,
        get(&counts.cycles)
    );
    println!(
        "answers: 5xx {}, unexpected {}, lost writes {}, dropped connections {}; left over: {}",
        get(&counts.server_errors),
        get(&counts.unexpected),
        get(&counts.lost_writes),
        get(&counts.dropped),
        left.len()
    );
    println!(
        "server RSS MiB: first quarter {q_rss:.1}, highest after {max_rss:.1}, end {end_rss:.1}; open fds: first quarter {q_fds}, highest after {max_fds}, end {end_fds}"
    );
    let series: Vec<String> = samples
        .iter()
        .step_by((samples.len() / 12).max(1))
        .map(|(t, rss, fds)| format!("{t:.0}s {rss:.1}MiB {fds}fd"))
        .collect();
    println!("samples: {}", series.join(", "));
    for n in counts.notes.lock().map(|n| n.clone()).unwrap_or_default() {
        println!("  note: {n}");
    }
    for l in &left {
        println!("  left: {l}");
    }
    let flat = max_rss <= q_rss * RSS_MARGIN + RSS_SLACK_MIB && max_fds <= q_fds + FD_SLACK;
    let ok = get(&counts.server_errors) == 0
        && get(&counts.unexpected) == 0
        && get(&counts.lost_writes) == 0
        && get(&counts.dropped) == 0
        && left.is_empty()
        && flat;
    println!("{}", if ok { "PASS" } else { "FAIL" });
    std::process::exit(if ok { 0 } else { 1 });
}
