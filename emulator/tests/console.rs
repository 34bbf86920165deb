//! The console page (`GET /_awsemu/ui`) and its data, against a real server holding a small world:
//! a tagged volume, an instance, a classic load balancer, a call IAM denied and a fault that has
//! fired. The data endpoint is checked over HTTP; the page itself in headless Chromium (Debian's
//! `chromium`, installed by `scripts/test`), whose rendered DOM must show the resources, the denied
//! call with the statement that would allow it, the fault with its counters, the injected latency,
//! and a filter given in the address.
//!
//! Without a browser the page test says so and passes, unless `AWSEMU_REQUIRE_BROWSER` is set (as
//! `scripts/test` sets it), so CI cannot skip it silently. `AWSEMU_CONSOLE_SCREENSHOT=FILE` also
//! saves a screenshot of the page (README's `docs/console.png` is made so).

mod common;

use std::path::PathBuf;
use std::process::Command;

use awsemu::faults::FaultSpec;
use awsemu::Emulator;
use common::{post_form, send};
use serde_json::Value;

/// The world: what every check below looks for. Returns the created volume's and instance's ids.
async fn small_world(emu: &Emulator) -> (String, String) {
    let addr = emu.addr();
    let ec2 = |body: &'static str| post_form(addr, "test", "test", "ec2", body);
    let v = ec2("Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=10\
        &TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=Name\
        &TagSpecification.1.Tag.1.Value=pgdata&TagSpecification.1.Tag.2.Key=kubernetes.io/cluster/demo\
        &TagSpecification.1.Tag.2.Value=owned")
    .await;
    assert_eq!(v.status, 200, "{}", v.body);
    let volume = between(&v.body, "<volumeId>", "</volumeId>");
    let i = ec2(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-0abcdef1234567890\
        &InstanceType=t3.micro&MinCount=1&MaxCount=1",
    )
    .await;
    assert_eq!(i.status, 200, "{}", i.body);
    let instance = between(&i.body, "<instanceId>", "</instanceId>");
    let lb = post_form(
        addr,
        "test",
        "test",
        "elasticloadbalancing",
        "Action=CreateLoadBalancer&Version=2012-06-01&LoadBalancerName=web\
        &Listeners.member.1.Protocol=TCP&Listeners.member.1.LoadBalancerPort=80\
        &Listeners.member.1.InstancePort=30080&AvailabilityZones.member.1=us-east-1a",
    )
    .await;
    assert_eq!(lb.status, 200, "{}", lb.body);
    // A worker node may not create volumes: denied, and nothing made.
    let denied = post_form(
        addr,
        "worker",
        "worker",
        "ec2",
        "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=5",
    )
    .await;
    assert_eq!(denied.code(), "UnauthorizedOperation");
    // A fault that lets one call through, then fails the next three with 30 ms of latency: after
    // two calls it has seen two, fired once, two to go.
    let fault: FaultSpec = serde_json::from_str(
        r#"{"action": "ec2:DescribeVolumes", "after": 1, "times": 3, "latency_ms": 30,
            "error": {"code": "RequestLimitExceeded", "message": "Request limit exceeded.", "status": 503}}"#,
    )
    .unwrap();
    emu.inject(fault);
    for expected in [200, 503] {
        let a = ec2("Action=DescribeVolumes&Version=2016-11-15").await;
        assert_eq!(a.status, expected, "{}", a.body);
    }
    (volume, instance)
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect(start) + start.len();
    text[from..from + text[from..].find(end).expect(end)].to_string()
}

#[tokio::test]
async fn the_data_holds_resources_calls_denials_and_faults() {
    let emu = Emulator::builder().seed(7).start().await.unwrap();
    let (volume, instance) = small_world(&emu).await;
    let a = send(emu.addr(), "GET", "/_awsemu/ui/data", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let d: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(d["iam"], "enforce");
    assert_eq!(d["calls_total"], 6);

    let group = |service: &str, kind: &str| {
        d["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["service"] == service && g["kind"] == kind)
            .unwrap_or_else(|| panic!("no {service} {kind} in {}", d["resources"]))
            .clone()
    };
    let volumes = group("ec2", "volumes");
    // The instance's root volume and ours.
    assert_eq!(volumes["count"], 2);
    let ours = (volumes["items"].as_array().unwrap().iter())
        .find(|i| i["id"] == volume.as_str())
        .unwrap();
    assert_eq!(ours["state"], "available");
    assert_eq!(
        ours["summary"],
        "size_gib=10 · volume_type=gp2 · zone=us-east-1a · Name=pgdata"
    );
    let root = (volumes["items"].as_array().unwrap().iter())
        .find(|i| i["id"] != volume.as_str())
        .unwrap();
    assert_eq!(root["state"], "in-use");
    assert_eq!(
        group("ec2", "instances")["items"][0]["id"],
        instance.as_str()
    );
    assert_eq!(group("elb", "load_balancers")["items"][0]["id"], "web");
    assert_eq!(group("iam", "roles")["count"], 3);

    // Newest first; the denied call carries the statement that would allow it.
    let calls = d["calls"].as_array().unwrap();
    let seqs: Vec<u64> = calls.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);
    let denied = &calls[2];
    assert_eq!(denied["principal"], "worker");
    assert_eq!(denied["error"], "UnauthorizedOperation");
    assert_eq!(
        denied["denied"][0]["statement"],
        serde_json::json!({"Sid": "AllowThisCall", "Effect": "Allow", "Action": "ec2:CreateVolume",
            "Resource": "arn:aws:ec2:us-east-1:123456789012:volume/*"})
    );
    assert_eq!(calls[0]["latency_ms"], 30);
    assert_eq!(calls[0]["error"], "RequestLimitExceeded");
    assert_eq!(calls[1]["latency_ms"], 0);
    assert!(calls.iter().all(|c| c["served_us"].as_u64().unwrap() > 0));
    assert!(calls
        .iter()
        .filter(|c| c["seq"] != 4)
        .all(|c| c["denied"] == serde_json::json!([])));

    let rule = &d["faults"]["rules"][0];
    assert_eq!(
        (&rule["seen"], &rule["fired"], &rule["remaining"]),
        (&2.into(), &1.into(), &2.into())
    );

    // The call log's records carry the injected latency (deterministic) but not the serving time.
    let log = send(emu.addr(), "GET", "/_awsemu/calls", &[], b"").await;
    let log: Value = serde_json::from_str(&log.body).unwrap();
    assert_eq!(log[5]["latency_ms"], 30);
    assert!(log[4].get("latency_ms").is_none() && log[5].get("served_us").is_none());
}

#[tokio::test]
async fn the_page_is_one_self_contained_document() {
    let emu = Emulator::builder().start().await.unwrap();
    let a = send(emu.addr(), "GET", "/_awsemu/ui", &[], b"").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = a.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    // Nothing is fetched from elsewhere: no script or style source, no absolute URL.
    assert!(
        !a.body.contains("src=") && !a.body.contains("http://") && !a.body.contains("https://")
    );
    let wrong = send(emu.addr(), "POST", "/_awsemu/ui", &[], b"").await;
    assert_eq!(wrong.status, 405);
}

/// Debian's Chromium (or `AWSEMU_CHROMIUM`), when installed.
fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AWSEMU_CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `url` with `args` until the page has been idle for its virtual time
/// budget (the page's first fetch and a refresh), in a profile of its own.
fn chromium(browser: &PathBuf, url: &str, args: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "awsemu-console-{}-{}",
        std::process::id(),
        args.len()
    ));
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The opening tags of the elements of class `class` with their text, one string each.
fn elements<'a>(dom: &'a str, class: &str) -> Vec<&'a str> {
    let marker = format!("class=\"{class}\"");
    dom.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &dom[i..];
            // To the end of the element's row or block: enough for its cells.
            let end = ["</tr>", "</div>\n", "</pre></div>"]
                .iter()
                .filter_map(|e| rest.find(e))
                .min()
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_world() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("AWSEMU_REQUIRE_BROWSER").is_none(),
            "AWSEMU_REQUIRE_BROWSER is set but no chromium was found on PATH"
        );
        eprintln!("console page test skipped: no chromium on PATH (scripts/test installs it)");
        return;
    };
    let emu = Emulator::builder().seed(7).start().await.unwrap();
    let (volume, instance) = small_world(&emu).await;
    let url = format!("{}/_awsemu/ui", emu.endpoint());

    let page = url.clone();
    let b = browser.clone();
    let dom = tokio::task::spawn_blocking(move || chromium(&b, &page, &["--dump-dom"]))
        .await
        .unwrap();
    // Resources per region and service, the created ones among them.
    let resources = elements(&dom, "resource");
    let row = |id: &str| {
        (resources.iter())
            .find(|r| r.contains(&format!("data-id=\"{id}\"")))
            .unwrap_or_else(|| panic!("no resource row {id} in {dom}"))
            .to_string()
    };
    assert!(row(&volume).contains("Name=pgdata") && row(&volume).contains("available"));
    assert!(row(&instance).contains("instance_type=t3.micro"));
    assert!(row("web").contains("scheme=internet-facing"));
    assert!(
        dom.contains("us-east-1 · elb · load_balancers (1)"),
        "{dom}"
    );
    assert!(dom.contains("global · iam · roles (3)"));
    // The denied call, with the statement that would allow it.
    let denials = elements(&dom, "denial");
    assert_eq!(denials.len(), 1, "{dom}");
    for needle in [
        "data-seq=\"4\"",
        "worker",
        "ec2:CreateVolume",
        "403 UnauthorizedOperation",
        "\"Sid\": \"AllowThisCall\"",
        "\"Resource\": \"arn:aws:ec2:us-east-1:123456789012:volume/*\"",
    ] {
        assert!(
            denials[0].contains(needle),
            "{needle} not in {}",
            denials[0]
        );
    }
    // The fault with its counters: seen 2, fired 1, 2 to go.
    let faults = elements(&dom, "fault");
    assert_eq!(faults.len(), 1, "{dom}");
    let cells: Vec<&str> = faults[0]
        .split("<td")
        .skip(1)
        .map(|c| {
            c.split_once('>')
                .map_or("", |(_, t)| t.trim_end_matches("</td>"))
        })
        .collect();
    assert_eq!(
        cells,
        [
            "ec2:DescribeVolumes",
            "any",
            "RequestLimitExceeded",
            "30 ms",
            "2",
            "1",
            "2",
            "live"
        ]
    );
    // The call log: every call, newest first, the faulted one with its injected latency.
    let calls = elements(&dom, "call");
    assert_eq!(calls.len(), 6, "{dom}");
    assert!(calls[0].contains("data-seq=\"6\"") && calls[0].contains("30 ms injected + "));
    assert!(calls[0].contains("503 RequestLimitExceeded"));

    // A filter in the address: only the denied call is listed.
    let b = browser.clone();
    let filtered = format!("{url}#f-outcome=denied");
    let dom = tokio::task::spawn_blocking(move || chromium(&b, &filtered, &["--dump-dom"]))
        .await
        .unwrap();
    let calls = elements(&dom, "call");
    assert_eq!(calls.len(), 1, "{dom}");
    assert!(calls[0].contains("data-seq=\"4\""));

    if let Some(shot) = std::env::var_os("AWSEMU_CONSOLE_SCREENSHOT") {
        let arg = format!("--screenshot={}", PathBuf::from(shot).display());
        tokio::task::spawn_blocking(move || {
            chromium(&browser, &url, &["--window-size=1280,1000", &arg])
        })
        .await
        .unwrap();
    }
}
