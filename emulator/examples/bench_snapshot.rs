//! Benchmark (not a timed test) of snapshots: a world of 10,000 instances (each with its root
//! volume) and 10,000 more volumes, then, in milliseconds, the median of a few runs of:
//! `emu.snapshot()`, `emu.restore(&snapshot)`, `Emulator::builder().from_snapshot(&s).start()`,
//! encoding and writing the state file (atomically, fsync included), reading it back, and
//! `awsemu serve --state-file` from spawn to its first answer.
//!
//! ```sh
//! scripts/bench-snapshot            # builds in release and runs this
//! ./target/release/examples/bench_snapshot --count 10000 --runs 5
//! ```

mod common;

use std::io::{Read, Write};
use std::time::Instant;

use awsemu::protocol::ServiceId;
use awsemu::{Emulator, Snapshot};
use serde_json::json;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    common::arg(args, name, "").parse().unwrap_or(default)
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// Runs `f` `runs` times; the median wall time in ms.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), last.expect("at least one run"))
}

fn call(emu: &Emulator, action: &str, params: serde_json::Value) {
    let a = awsemu::scenario::calls::call(
        emu.instance(),
        ServiceId::Ec2,
        action,
        &params,
        "admin",
        None,
    )
    .expect("call");
    assert_eq!(a.status, 200, "{action}: {a:?}");
}

/// `awsemu serve --state-file PATH` from spawn until it answers `/_awsemu/health`.
fn serve_from(path: &std::path::Path, count: usize) -> f64 {
    let limit = (count * 2).to_string();
    let file = path.to_string_lossy().into_owned();
    let (mut child, addr, started) =
        common::spawn_server(&["--instance-limit", &limit, "--state-file", &file]);
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /_awsemu/health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Not SIGTERM: that would write the file again.
    let _ = child.kill();
    let _ = child.wait();
    ms
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count = arg(&args, "--count", 10_000);
    let runs = arg(&args, "--runs", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let emu = Emulator::builder()
            .seed(1)
            .instance_limit(count * 2)
            .start()
            .await
            .expect("start");
        let built = Instant::now();
        let per_call = 500;
        for batch in 0..count.div_ceil(per_call) {
            let n = per_call.min(count - batch * per_call);
            // The default subnets are /20s: spread the instances over the six zones.
            let zone = format!("us-east-1{}", ["a", "b", "c", "d", "e", "f"][batch % 6]);
            call(&emu, "RunInstances", json!({
                "ImageId": "ami-0123456789abcdef0", "MinCount": n, "MaxCount": n,
                "Placement": {"AvailabilityZone": zone},
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "batch", "Value": format!("b{batch}")}]}],
            }));
        }
        for i in 0..count {
            call(&emu, "CreateVolume", json!({"AvailabilityZone": "us-east-1a", "Size": 1 + i % 100}));
        }
        let snapshot = emu.snapshot();
        let (instances, volumes) = snapshot.counts();
        println!(
            "world: {instances} instances, {volumes} volumes (built in {:.0} ms); medians of {runs} runs:",
            built.elapsed().as_secs_f64() * 1000.0
        );

        let (ms, _) = time(runs, || emu.snapshot());
        println!("  emu.snapshot()                              {ms:8.1} ms");
        let (ms, _) = time(runs, || emu.restore(&snapshot).expect("restore"));
        println!("  emu.restore(&snapshot)                      {ms:8.1} ms");
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let fork = Emulator::builder()
                .instance_limit(count * 2)
                .from_snapshot(&snapshot)
                .start()
                .await
                .expect("from_snapshot");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            fork.shutdown().await;
        }
        println!("  Emulator::builder().from_snapshot().start() {:8.1} ms", median(times));

        let dir = std::env::temp_dir().join(format!("awsemu-bench-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("world.json");
        let (ms, bytes) = time(runs, || snapshot.to_bytes().expect("encode"));
        println!(
            "  encode (Snapshot::to_bytes)                 {ms:8.1} ms   ({:.1} MiB)",
            bytes.len() as f64 / 1048576.0
        );
        let (ms, _) = time(runs, || snapshot.write_file(&path).expect("write"));
        println!("  write the state file (encode, fsync, rename) {ms:7.1} ms");
        let (ms, _) = time(runs, || Snapshot::read_file(&path).expect("read"));
        println!("  read the state file (Snapshot::read_file)   {ms:8.1} ms");
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(serve_from(&path, count));
        }
        println!("  awsemu serve --state-file, to first answer  {:8.1} ms", median(times));
        let _ = std::fs::remove_dir_all(&dir);
        emu.shutdown().await;
    });
}
