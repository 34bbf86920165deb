//! The `awsemu` binary: `serve` prints its endpoint and credentials and stops cleanly on SIGTERM;
//! `policy check` decides and names the deciding statement.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_awsemu");

fn policy_check(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["policy", "check"])
        .args(args)
        .output()
        .expect("run awsemu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn policy_check_allows_denies_and_refuses_bad_documents() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let worker = format!("{dir}/policies/worker.json");
    let (code, out) = policy_check(&["--policy", &worker, "--action", "ec2:DescribeInstances"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("allow"), "{out}");
    assert!(out.contains("statement 0"), "{out}");
    let (code, out) = policy_check(&[
        "--policy",
        &worker,
        "--action",
        "ec2:CreateVolume",
        "--resource",
        "arn:aws:ec2:us-east-1:123456789012:volume/*",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("deny"), "{out}");

    let tmp = std::env::temp_dir().join(format!("awsemu-cli-test-{}.json", std::process::id()));
    std::fs::write(
        &tmp,
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Regional","Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}},
            {"Sid":"NoDelete","Effect":"Deny","Action":"ec2:Delete*","Resource":"*"}]}"#,
    )
    .unwrap();
    let p = tmp.to_str().unwrap();
    let (code, out) = policy_check(&[
        "--policy",
        p,
        "--action",
        "ec2:CreateVolume",
        "--context",
        "aws:RequestedRegion=eu-west-1",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Regional"), "{out}");
    let (code, _) = policy_check(&[
        "--policy",
        p,
        "--action",
        "ec2:CreateVolume",
        "--context",
        "aws:RequestedRegion=us-east-1",
    ]);
    assert_eq!(code, 1);
    let (code, out) = policy_check(&[
        "--policy",
        p,
        "--action",
        "ec2:DeleteVolume",
        "--context",
        "aws:RequestedRegion=eu-west-1",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("NoDelete"), "{out}");

    std::fs::write(&tmp, r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringMatches":{"a:b":"c"}}}}"#).unwrap();
    let (code, out) = policy_check(&["--policy", p, "--action", "ec2:CreateVolume"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("StringMatches"), "{out}");
    let _ = std::fs::remove_file(&tmp);
}

#[test]
fn serve_prints_endpoint_and_credentials_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--account-id", "111122223333"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("export"))
        .collect();
    let text = lines.join("\n");
    assert!(text.contains("listening on http://127.0.0.1:"), "{text}");
    assert!(text.contains("account 111122223333"), "{text}");
    for row in [
        "admin          test",
        "controlplane   controlplane",
        "etcd           etcd",
        "worker         worker",
    ] {
        assert!(text.contains(row), "missing '{row}' in\n{text}");
    }
    let addr = text
        .split("listening on http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).expect("serving");
    use std::io::{Read, Write};
    write!(
        s,
        "GET /_awsemu/health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn serve_refuses_a_config_with_a_bad_fault_by_name() {
    let tmp = std::env::temp_dir().join(format!("awsemu-cli-faults-{}.json", std::process::id()));
    std::fs::write(
        &tmp,
        r#"{"faults": [{"throttle": {"service": "ec2", "buckets": {"describe": {"capacity": 1, "refill_per_second": 1}}}}]}"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--config"])
        .arg(&tmp)
        .output()
        .expect("run awsemu");
    std::fs::remove_file(&tmp).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown throttle bucket 'describe'") && err.contains("non_mutating"),
        "{err}"
    );
}
