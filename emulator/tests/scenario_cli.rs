//! The scenario commands of the `awsemu` binary: `scenario check` and `scenario run` with their
//! exit statuses, `serve --scenario` answering `/_awsemu/scenario/verify` and printing the verdict
//! at shutdown, `serve --record` writing JSON lines that `scenario from-recording` turns into a
//! scenario that `scenario run` replays.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

#[path = "support/cli.rs"]
mod cli;
use cli::{awsemu, BIN};

fn example(name: &str) -> String {
    format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("awsemu-scencli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `awsemu serve` with `args`; returns the child and its address (from the banner).
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut addr = None;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_string);
        }
        if line.starts_with("export") {
            break;
        }
        line.clear();
    }
    // Keep reading the rest of stdout in the background so the child never blocks on it.
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = reader.read_to_string(&mut s);
        s
    });
    REST.with(|r| r.borrow_mut().push(rest));
    (child, addr.expect("the banner names the address"))
}

thread_local! {
    static REST: std::cell::RefCell<Vec<std::thread::JoinHandle<String>>> = Default::default();
}

fn stop(mut child: Child) -> (i32, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code().unwrap_or(-1);
    let out = REST
        .with(|r| r.borrow_mut().pop())
        .map(|h| h.join().unwrap_or_default());
    (code, out.unwrap_or_default())
}

fn http(addr: &str, method: &str, path: &str, body: &str, headers: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("serving");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn check_and_run_answer_with_their_exit_status() {
    let (code, out, err) = awsemu(&["scenario", "check", &example("ebs-attach-detach.yaml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ebs-attach-detach: ok"), "{out}");
    let (code, out, err) = awsemu(&["scenario", "run", &example("worker-etcd-readonly.yaml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("PASS step 2: call ec2:CreateVolume as worker"),
        "{out}"
    );
    assert!(out.ends_with("result: PASS\n"), "{out}");
    let (_, again, _) = awsemu(&["scenario", "run", &example("worker-etcd-readonly.yaml")]);
    assert_eq!(out, again, "the same report twice");

    let dir = scratch("run");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\nsteps:\n  - call: ec2:DescribeVpcs\n    expectt: {ok: true}\n",
    )
    .unwrap();
    let (code, _, err) = awsemu(&["scenario", "check", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("expectt") && err.contains("line 4"), "{err}");
    let failing = dir.join("failing.yaml");
    std::fs::write(
        &failing,
        "name: failing\nsteps:\n  - call: ec2:DescribeVolumes\n    params: {VolumeId: [vol-0123456789abcdef0]}\n",
    )
    .unwrap();
    let (code, out, _) = awsemu(&["scenario", "run", failing.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("first difference: expected success, got 400 InvalidVolume.NotFound"),
        "{out}"
    );
}

#[test]
fn serve_scenario_verifies_on_demand_and_at_shutdown() {
    let dir = scratch("serve");
    let file = dir.join("served.yaml");
    std::fs::write(
        &file,
        "name: served\nseed: 4\nworld:\n  kms_keys:\n    k: {description: served}\nexpect:\n  state:\n    - {resources: kms-keys, count: 2}\n",
    )
    .unwrap();
    let (child, addr) = serve(&["--scenario", file.to_str().unwrap()]);
    let (status, body) = http(&addr, "GET", "/_awsemu/scenario/verify", "", "");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("expected 2, found 1"), "{body}");
    let (code, out) = stop(child);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL expect state: 2 kms-keys"), "{out}");
    assert!(out.contains("result: FAIL"), "{out}");

    let (child, addr) = serve(&["--scenario", file.to_str().unwrap(), "--iam", "off"]);
    let (status, body) = http(
        &addr,
        "POST",
        "/",
        "{}",
        "x-amz-target: TrentService.CreateKey\r\ncontent-type: application/x-amz-json-1.1\r\n",
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&addr, "GET", "/_awsemu/scenario/verify", "", "");
    assert_eq!(status, 200, "{body}");
    let (code, out) = stop(child);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("result: PASS"), "{out}");
}

#[test]
fn a_served_recording_becomes_a_scenario_that_replays() {
    let dir = scratch("record");
    let rec = dir.join("calls.jsonl");
    let (child, addr) = serve(&[
        "--record",
        rec.to_str().unwrap(),
        "--iam",
        "off",
        "--seed",
        "8",
    ]);
    let (status, body) = http(
        &addr,
        "POST",
        "/",
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
        "content-type: application/x-www-form-urlencoded\r\n",
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = http(
        &addr,
        "POST",
        "/",
        "Action=DescribeVolumes&Version=2016-11-15&VolumeId.1=vol-0123456789abcdef0",
        "content-type: application/x-www-form-urlencoded\r\n",
    );
    assert_eq!(status, 400);
    let (code, _) = stop(child);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(r#""action":"ec2:CreateVpc""#), "{text}");
    assert!(
        text.contains(r#""error":"InvalidVolume.NotFound""#),
        "{text}"
    );

    let out_file = dir.join("replay.yaml");
    let (code, out, err) = awsemu(&[
        "scenario",
        "from-recording",
        rec.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
        "--seed",
        "8",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(2 calls)"), "{out}");
    let yaml = std::fs::read_to_string(&out_file).unwrap();
    assert!(yaml.contains("name: replay"), "{yaml}");
    assert!(yaml.contains("call: ec2:CreateVpc"), "{yaml}");
    assert!(yaml.contains("error: InvalidVolume.NotFound"), "{yaml}");
    let (code, out, err) = awsemu(&["scenario", "run", out_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}\n{yaml}");
}
