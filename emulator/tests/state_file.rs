//! `awsemu serve --state-file`: the world comes back after a restart (SIGTERM writes the file);
//! `kill -9` while the file is being written again and again never leaves a file that fails to
//! load, nor loses what a finished write saved; a file of another format version, a damaged one
//! and a foreign one are refused at start with a message naming the problem; the config file's
//! `state_file` key.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_awsemu");

/// A fresh folder of this test's own.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("awsemu-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// `awsemu serve --port 0 --iam off ARGS`, once it prints its address.
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0", "--iam", "off", "--seed", "5"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let addr = lines
            .find_map(|l| {
                l.split("listening on http://")
                    .nth(1)
                    .map(|a| a.trim().to_string())
            })
            .expect("the banner names the address");
        // Keep reading the banner so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr }
    }

    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(&self.addr, method, path, body)
    }

    fn ec2(&self, body: &str) -> String {
        let (status, text) = self.http("POST", "/", body);
        assert_eq!(status, 200, "{text}");
        text
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    try_http(addr, method, path, body).expect("an answer")
}

/// One request on a fresh connection; `None` when the server is gone.
fn try_http(addr: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((status, body.to_string()))
}

/// The distinct values of `<tag>` in an answer, in order of first appearance.
fn ids<'a>(body: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let mut out: Vec<&str> = Vec::new();
    for id in body
        .split(&open)
        .skip(1)
        .filter_map(|s| s.split('<').next())
    {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

const CREATE_VOLUME: &str =
    "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=10";
const VOLUMES: &str = "Action=DescribeVolumes&Version=2016-11-15";

#[test]
fn the_world_comes_back_after_a_restart() {
    let dir = folder("restart");
    let file = dir.join("world.json");
    let f = file.to_str().unwrap();
    let a = Server::start(&["--state-file", f]);
    let made = a.ec2(CREATE_VOLUME);
    let first = ids(&made, "volumeId")[0].to_string();
    assert!(a.stop().success());
    assert!(file.exists(), "SIGTERM writes the state file");
    let saved = std::fs::read(&file).unwrap();

    let b = Server::start(&["--state-file", f]);
    assert_eq!(ids(&b.ec2(VOLUMES), "volumeId"), [first.as_str()]);
    let second = ids(&b.ec2(CREATE_VOLUME), "volumeId")[0].to_string();
    assert_ne!(second, first);
    assert!(b.stop().success());

    // From the same file again: the same next volume (ids go on from where the file left them).
    std::fs::write(&file, &saved).unwrap();
    let c = Server::start(&["--state-file", f]);
    assert_eq!(ids(&c.ec2(VOLUMES), "volumeId"), [first.as_str()]);
    assert_eq!(ids(&c.ec2(CREATE_VOLUME), "volumeId"), [second.as_str()]);
    // POST /_awsemu/snapshot writes it now.
    let (status, v) = c.http("POST", "/_awsemu/snapshot", "");
    assert_eq!(status, 200, "{v}");
    let snapshot = awsemu::Snapshot::read_file(&file).unwrap();
    assert_eq!(snapshot.counts(), (0, 2));
    assert!(c.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kill_9_while_writing_never_leaves_a_file_that_fails_to_load() {
    let dir = folder("kill9");
    let file = dir.join("world.json");
    let f = file.to_str().unwrap();
    // A world big enough that a write takes a while: 400 instances with their root volumes.
    let s = Server::start(&["--state-file", f]);
    s.ec2("Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&MinCount=400&MaxCount=400");
    let mut volumes = ids(&s.ec2(VOLUMES), "volumeId").len();
    assert_eq!(volumes, 400);
    let mut server = Some(s);
    let mut cut_short = 0;
    for round in 0..3 {
        let s = server.take().unwrap();
        // Something new, then writes over and over until the process is killed mid-way.
        s.ec2(CREATE_VOLUME);
        volumes += 1;
        let written = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (addr, written, stop) = (s.addr.clone(), written.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match try_http(&addr, "POST", "/_awsemu/snapshot", "") {
                            Some((200, _)) => {
                                written.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => break,
                        }
                    }
                })
            })
            .collect();
        while written.load(Ordering::Relaxed) < 3 + round {
            std::thread::yield_now();
        }
        // Then kill -9 the moment a write is under way (its temporary file exists).
        while temporaries(&dir) == 0 {
            std::thread::yield_now();
        }
        let mut child = s.child;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.join();
        }
        let snapshot =
            awsemu::Snapshot::read_file(&file).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(snapshot.counts(), (400, volumes), "round {round}");
        cut_short += temporaries(&dir);
        let next = Server::start(&["--state-file", f]);
        assert_eq!(ids(&next.ec2(VOLUMES), "volumeId").len(), volumes);
        assert_eq!(
            temporaries(&dir),
            0,
            "a start removes what dead writes left"
        );
        server = Some(next);
    }
    assert!(server.map(Server::stop).is_some_and(|s| s.success()));
    // Writes cut short leave their temporary files behind (never a half-written state file).
    eprintln!("{cut_short} of 3 kills cut a write short");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Temporary files of state file writes in `dir`.
fn temporaries(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .count()
}

/// `awsemu serve --state-file FILE` with FILE holding `bytes`: exit code and stderr.
fn refused(dir: &Path, bytes: &[u8]) -> (i32, String) {
    let file = dir.join("bad.json");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--state-file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn another_version_a_damaged_file_and_a_foreign_one_are_refused_at_start() {
    let dir = folder("refused");
    let good = dir.join("good.json");
    let s = Server::start(&["--state-file", good.to_str().unwrap()]);
    s.ec2(CREATE_VOLUME);
    assert!(s.stop().success());
    let bytes = std::fs::read(&good).unwrap();
    let newline = bytes.iter().position(|b| *b == b'\n').unwrap();
    let body = &bytes[newline + 1..];

    let header = String::from_utf8_lossy(&bytes[..newline]).into_owned();
    let mut other_version = header
        .replace("\"version\":1", "\"version\":2")
        .into_bytes();
    other_version.push(b'\n');
    other_version.extend_from_slice(body);
    let truncated = &bytes[..bytes.len() - 100];
    let mut flipped = bytes.clone();
    let at = newline + 1 + body.len() / 2;
    flipped[at] = b'}';
    let junk = vec![b'x'; body.len()];
    let mut bad_json = format!(
        "{{\"format\":\"awsemu-state\",\"version\":1,\"body_bytes\":{},\"checksum\":\"{}\"}}\n",
        junk.len(),
        awsemu::snapshot::checksum(&junk)
    )
    .into_bytes();
    bad_json.extend_from_slice(&junk);
    for (what, bytes, says) in [
        (
            "another version",
            &other_version[..],
            "state format version 2 is not the version this awsemu",
        ),
        ("truncated", truncated, "damaged: the header announces"),
        (
            "a byte changed",
            &flipped[..],
            "damaged: the state's checksum is",
        ),
        (
            "not JSON",
            &bad_json[..],
            "damaged: expected value at line 1 column 1",
        ),
        ("empty", b"", "not an awsemu state file"),
        (
            "foreign",
            b"{\"volumes\": []}\n",
            "not an awsemu state file",
        ),
    ] {
        let (code, stderr) = refused(&dir, bytes);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(stderr.contains("bad.json"), "{what}: {stderr}");
        assert!(stderr.contains(says), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_config_file_names_the_state_file_relative_to_itself() {
    let dir = folder("config");
    let config = dir.join("awsemu.json");
    std::fs::write(&config, r#"{"state_file": "kept.json"}"#).unwrap();
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    s.ec2(CREATE_VOLUME);
    assert!(s.stop().success());
    let snapshot = awsemu::Snapshot::read_file(&dir.join("kept.json")).unwrap();
    assert_eq!(snapshot.counts(), (0, 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scenario_starts_from_a_state_file() {
    let dir = folder("scenario");
    let file = dir.join("world.json");
    let s = Server::start(&["--state-file", file.to_str().unwrap()]);
    let volume = ids(&s.ec2(CREATE_VOLUME), "volumeId")[0].to_string();
    assert!(s.stop().success());
    let scenario = dir.join("from-state.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: from-state
world:
  state: world.json
  volumes:
    more: {{zone: us-east-1b, size: 5}}
steps:
  - name: the saved volume is there
    call: ec2:DescribeVolumes
    params: {{VolumeId: [{volume}]}}
    expect:
      fields: {{volumeSet/item/size: \"10\"}}
expect:
  state:
    - resources: volumes
      count: 2
"
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["scenario", "run", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");

    // A state file that does not load fails the scenario's world, by name.
    std::fs::write(&file, "not a state file").unwrap();
    let out = Command::new(BIN)
        .args(["scenario", "run", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("world.json: not an awsemu state file"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
