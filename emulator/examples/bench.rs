//! Benchmarks (not timed tests): start-up of `awsemu serve`, `Emulator::start()`, and signed
//! DescribeRegions throughput from a loopback load generator.
//!
//! ```sh
//! cargo build --release -p awsemu --bin awsemu --example bench
//! ./target/release/examples/bench startup   # spawn `awsemu serve --port 0` until its first answer
//! ./target/release/examples/bench embed     # Emulator::builder().start()
//! ./target/release/examples/bench load --seconds 10 --connections 64
//! ./target/release/examples/bench ec2 --count 10000   # memory, then tag-filtered DescribeInstances
//! ```
//! `load` starts `awsemu serve` as its own process (or uses `--endpoint`) and drives it with
//! keep-alive connections from a one-thread runtime; each request carries a SigV4 signature
//! the server verifies in full. Each figure also gives the server's CPU time per request, read
//! from `/proc`, which moves less than requests a second when other work shares the cores.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{arg, cpu_us, read_response, rss_mib, signed_post_to, spawn_server};
use tokio::io::AsyncWriteExt;

fn signed_request(addr: SocketAddr, key: &str) -> Vec<u8> {
    signed_post(addr, key, b"Action=DescribeRegions&Version=2016-11-15")
}

/// The bytes of one SigV4-signed EC2 form POST.
fn signed_post(addr: SocketAddr, key: &str, body: &[u8]) -> Vec<u8> {
    signed_post_to(addr, key, "ec2", body)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn startup(runs: usize) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let (mut child, addr, started) = spawn_server(&[]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let req = signed_request(addr, "worker");
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.write_all(&req).await.expect("write");
            let mut buf = Vec::new();
            assert_eq!(
                read_response(&mut s, &mut buf).await.map(|(s, _)| s),
                Some(200)
            );
        });
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "startup (spawn awsemu serve -> first signed DescribeRegions answered), {runs} runs: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );
}

fn embed(runs: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut times = Vec::new();
    rt.block_on(async {
        for _ in 0..runs {
            let t = Instant::now();
            let emu = awsemu::Emulator::builder().start().await.expect("start");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            emu.shutdown().await;
        }
    });
    times.sort_by(f64::total_cmp);
    println!(
        "Emulator::start(), {runs} runs: median {:.3} ms, p95 {:.3} ms, max {:.3} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );
}

/// One request on a fresh connection; the answer's status and body.
async fn call(addr: SocketAddr, req: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(req).await.expect("write");
    let mut buf = Vec::new();
    let (status, msg) = read_response(&mut s, &mut buf).await.unwrap_or_default();
    (status, String::from_utf8_lossy(&msg).into_owned())
}

/// Drives `req` for `seconds` and returns (answered, elapsed, server CPU µs per request).
fn measure(
    rt: &tokio::runtime::Runtime,
    pid: Option<u32>,
    addr: SocketAddr,
    req: Vec<u8>,
    seconds: u64,
    connections: usize,
) -> (u64, Duration, f64) {
    let before = pid.map(cpu_us).unwrap_or(0.0);
    let (n, elapsed) = rt.block_on(drive(addr, Arc::new(req), seconds, connections));
    let used = pid.map(cpu_us).unwrap_or(0.0) - before;
    (n, elapsed, used / (n.max(1) as f64))
}

/// 10,000 instances and 10,000 volumes in one region: memory, then DescribeInstances with a tag
/// filter under load.
fn ec2(seconds: u64, connections: usize, count: usize) {
    let limit = (count * 2).to_string();
    let (mut child, addr, _) = spawn_server(&["--instance-limit", &limit]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let before = rss_mib(child.id());
    let first_instance = rt.block_on(async {
        let per_call = 500;
        let mut first = String::new();
        for batch in 0..count.div_ceil(per_call) {
            let n = per_call.min(count - batch * per_call);
            let body = format!(
                "Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&MinCount={n}&MaxCount={n}&Placement.AvailabilityZone=us-east-1{}&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=batch&TagSpecification.1.Tag.1.Value=b{batch}",
                // The default subnets are /20s (4091 addresses): spread over the six zones.
                ["a", "b", "c", "d", "e", "f"][batch % 6]
            );
            let (status, text) = call(addr, &signed_post(addr, "test", body.as_bytes())).await;
            assert_eq!(status, 200, "{text}");
            if first.is_empty() {
                first = text.split("<instanceId>").nth(1).and_then(|t| t.split('<').next()).unwrap_or("").to_string();
            }
        }
        for i in 0..count {
            let body = format!("Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size={}", 1 + i % 100);
            let (status, text) = call(addr, &signed_post(addr, "test", body.as_bytes())).await;
            assert_eq!(status, 200, "{text}");
        }
        let body = format!("Action=CreateTags&Version=2016-11-15&ResourceId.1={first}&Tag.1.Key=Name&Tag.1.Value=node-0");
        let (status, text) = call(addr, &signed_post(addr, "test", body.as_bytes())).await;
        assert_eq!(status, 200, "{text}");
        first
    });
    let after = rss_mib(child.id());
    println!("memory: {count} instances (each with its root volume) and {count} volumes: RSS {after:.1} MiB (empty server {before:.1} MiB)");
    for (what, body) in [
        (format!("one instance ({first_instance}) by tag:Name"), "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=node-0"),
        ("500 instances by tag:batch".to_string(), "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Abatch&Filter.1.Value.1=b7"),
        ("a first page of 100 (MaxResults, no filter)".to_string(), "Action=DescribeInstances&Version=2016-11-15&MaxResults=100"),
    ] {
        let req = signed_post(addr, "test", body.as_bytes());
        let (n, elapsed, cpu) = measure(&rt, Some(child.id()), addr, req, seconds, connections);
        println!(
            "DescribeInstances over {count} instances, {what}: {n} answered 200 in {:.2} s = {:.0} requests/s; server CPU {cpu:.1} µs/request",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `count` classic and `count` network load balancers, then DescribeLoadBalancers over each: one
/// by name, and the first page of all (AWS's default page size, 400).
fn elb(seconds: u64, connections: usize, count: usize) {
    let limit = count.to_string();
    let (mut child, addr, _) = spawn_server(&["--load-balancer-limit", &limit]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for i in 0..count {
            let body = format!(
                "Action=CreateLoadBalancer&Version=2012-06-01&LoadBalancerName=lb-{i}&Listeners.member.1.Protocol=TCP&Listeners.member.1.LoadBalancerPort=80&Listeners.member.1.InstancePort={}&AvailabilityZones.member.1=us-east-1a&AvailabilityZones.member.2=us-east-1b&Tags.member.1.Key=kubernetes.io%2Fcluster%2Fbench&Tags.member.1.Value=owned",
                30000 + i
            );
            let req = signed_post_to(addr, "test", "elasticloadbalancing", body.as_bytes());
            let (status, text) = call(addr, &req).await;
            assert_eq!(status, 200, "{text}");
        }
    });
    rt.block_on(async {
        for i in 0..count {
            let body = format!(
                "Action=CreateLoadBalancer&Version=2015-12-01&Name=nlb-{i}&Type=network&Subnets.member.1={}",
                default_subnet(addr).await
            );
            let req = signed_post_to(addr, "test", "elasticloadbalancing", body.as_bytes());
            let (status, text) = call(addr, &req).await;
            assert_eq!(status, 200, "{text}");
        }
    });
    let rss = rss_mib(child.id());
    println!("memory: {count} classic and {count} network load balancers: RSS {rss:.1} MiB");
    for (what, body) in [
        (
            "one by name".to_string(),
            format!(
                "Action=DescribeLoadBalancers&Version=2012-06-01&LoadBalancerNames.member.1=lb-{}",
                count / 2
            ),
        ),
        (
            format!("all (first page of {})", count.min(400)),
            "Action=DescribeLoadBalancers&Version=2012-06-01".to_string(),
        ),
    ] {
        let req = signed_post_to(addr, "test", "elasticloadbalancing", body.as_bytes());
        let (n, elapsed, cpu) = measure(&rt, Some(child.id()), addr, req, seconds, connections);
        println!(
            "DescribeLoadBalancers (classic) over {count} load balancers, {what}: {n} answered 200 in {:.2} s = {:.0} requests/s; server CPU {cpu:.1} µs/request",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64()
        );
    }
    for (what, body) in [
        (
            "one by name".to_string(),
            format!(
                "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=nlb-{}",
                count / 2
            ),
        ),
        (
            format!("all (first page of {})", count.min(400)),
            "Action=DescribeLoadBalancers&Version=2015-12-01".to_string(),
        ),
    ] {
        let req = signed_post_to(addr, "test", "elasticloadbalancing", body.as_bytes());
        let (n, elapsed, cpu) = measure(&rt, Some(child.id()), addr, req, seconds, connections);
        println!(
            "DescribeLoadBalancers (v2) over {count} network load balancers, {what}: {n} answered 200 in {:.2} s = {:.0} requests/s; server CPU {cpu:.1} µs/request",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The id of one default subnet (us-east-1a), read from DescribeSubnets.
async fn default_subnet(addr: SocketAddr) -> String {
    let body = "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1a";
    let (_, text) = call(addr, &signed_post(addr, "test", body.as_bytes())).await;
    text.split("<subnetId>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap_or_default()
        .to_string()
}

/// Replays one request on `connections` keep-alive connections for `seconds`; (count of 200s, elapsed).
async fn drive(
    addr: SocketAddr,
    req: Arc<Vec<u8>>,
    seconds: u64,
    connections: usize,
) -> (u64, Duration) {
    let ok = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (req, ok) = (req.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let _ = s.set_nodelay(true);
            let mut buf = Vec::with_capacity(8192);
            while Instant::now() < deadline {
                if s.write_all(&req).await.is_err() {
                    return;
                }
                if matches!(read_response(&mut s, &mut buf).await, Some((200, _))) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    (ok.load(Ordering::Relaxed), started.elapsed())
}

fn load(seconds: u64, connections: usize, endpoint: Option<SocketAddr>) {
    let (child, addr) = match endpoint {
        Some(a) => (None, a),
        None => {
            let (c, a, _) = spawn_server(&[]);
            (Some(c), a)
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pid = child.as_ref().map(|c| c.id());
    let req = signed_request(addr, "worker");
    let (n, elapsed, cpu) = measure(&rt, pid, addr, req, seconds, connections);
    println!(
        "load: {n} signed DescribeRegions answered 200 in {:.2} s over {connections} keep-alive connections = {:.0} requests/s; server CPU {cpu:.1} µs/request",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("startup") => startup(arg(&args, "--runs", "20").parse().unwrap_or(20)),
        Some("embed") => embed(arg(&args, "--runs", "200").parse().unwrap_or(200)),
        Some("ec2") => ec2(
            arg(&args, "--seconds", "10").parse().unwrap_or(10),
            arg(&args, "--connections", "32").parse().unwrap_or(32),
            arg(&args, "--count", "10000").parse().unwrap_or(10_000),
        ),
        Some("elb") => elb(
            arg(&args, "--seconds", "10").parse().unwrap_or(10),
            arg(&args, "--connections", "32").parse().unwrap_or(32),
            arg(&args, "--count", "500").parse().unwrap_or(500),
        ),
        Some("load") => load(
            arg(&args, "--seconds", "10").parse().unwrap_or(10),
            arg(&args, "--connections", "64").parse().unwrap_or(64),
            args.windows(2).find(|w| w[0] == "--endpoint").and_then(|w| w[1].parse().ok()),
        ),
        _ => eprintln!(
            "usage: bench startup [--runs N] | embed [--runs N] | load [--seconds S] [--connections C] [--endpoint ADDR] | ec2 [--count N] [--seconds S] [--connections C] | elb [--count N] [--seconds S] [--connections C]"
        ),
    }
}
