//! `/_awsemu/faults` through raw HTTP: list, add one entry or a list, refuse bad bodies with a
//! message, clear; reset keeps configured entries only.

mod common;

use awsemu::faults::FaultRule;
use awsemu::Emulator;
use common::{post_form, send};
use serde_json::Value;

const REGIONS: &str = "Action=DescribeRegions&Version=2016-11-15";
const VPCS: &str = "Action=DescribeVpcs&Version=2016-11-15";

async fn list(emu: &Emulator) -> Value {
    let a = send(emu.addr(), "GET", "/_awsemu/faults", &[], b"").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("content-type"), Some("application/json"));
    serde_json::from_str(&a.body).unwrap()
}

async fn post(emu: &Emulator, body: &str) -> (u16, Value) {
    let a = send(emu.addr(), "POST", "/_awsemu/faults", &[], body.as_bytes()).await;
    (a.status, serde_json::from_str(&a.body).unwrap())
}

#[tokio::test]
async fn add_list_and_clear_faults() {
    let emu = Emulator::builder()
        .seed(3)
        .fault(FaultRule::new("ec2:DescribeVpcs").latency_ms(1))
        .start()
        .await
        .unwrap();
    let v = list(&emu).await;
    assert_eq!(v["rules"][0]["origin"], "config");
    assert_eq!(v["rules"][0]["latency_ms"], 1);

    let (status, v) = post(
        &emu,
        r#"{"action": "ec2:DescribeRegions", "error": {"code": "Unavailable", "message": "down", "status": 503}, "times": 2}"#,
    )
    .await;
    assert_eq!((status, &v["added"]), (200, &Value::from(1)));
    let a = post_form(emu.addr(), "worker", "worker", "ec2", REGIONS).await;
    assert_eq!((a.status, a.code()), (503, "Unavailable".to_string()));
    assert!(a.body.contains("<Message>down</Message>"), "{}", a.body);
    let v = list(&emu).await;
    let rule = &v["rules"][1];
    assert_eq!(
        (
            &rule["remaining"],
            &rule["seen"],
            &rule["fired"],
            &rule["origin"]
        ),
        (
            &Value::from(1),
            &Value::from(1),
            &Value::from(1),
            &Value::from("live")
        )
    );

    let (status, v) = post(
        &emu,
        r#"[{"throttle": {"service": "ec2", "buckets": {"non_mutating": {"capacity": 1, "refill_per_second": 0}}}},
            {"consistency": {"action": "ec2:CreateVolume", "calls": 1, "mode": "invisible"}}]"#,
    )
    .await;
    assert_eq!((status, &v["added"]), (200, &Value::from(2)));
    let a = post_form(emu.addr(), "test", "test", "ec2", VPCS).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = post_form(emu.addr(), "test", "test", "ec2", VPCS).await;
    assert_eq!(
        (a.status, a.code()),
        (503, "RequestLimitExceeded".to_string())
    );
    let v = list(&emu).await;
    assert_eq!(v["throttle"][0]["service"], "ec2");
    assert_eq!(v["throttle"][0]["origin"], "live");
    assert_eq!(v["buckets"][0]["category"], "non_mutating");
    assert_eq!(v["buckets"][0]["tokens"], 0.0);
    assert_eq!(v["consistency"][0]["mode"], "invisible");
    assert_eq!(v["hidden"], Value::Array(vec![]));
    let a = post_form(
        emu.addr(),
        "test",
        "test",
        "ec2",
        "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=1",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let v = list(&emu).await;
    assert_eq!(v["hidden"][0]["mode"], "invisible");
    assert_eq!(v["hidden"][0]["calls_left"], 1);
    assert!(v["hidden"][0]["id"].as_str().unwrap().starts_with("vol-"));

    let a = send(emu.addr(), "DELETE", "/_awsemu/faults", &[], b"").await;
    assert_eq!(a.status, 200);
    let v = list(&emu).await;
    assert_eq!(v["rules"], Value::Array(vec![]));
    assert_eq!(v["throttle"], Value::Array(vec![]));
    let a = post_form(emu.addr(), "test", "test", "ec2", VPCS).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // Reset brings the configured entry back and drops live ones.
    post(&emu, r#"{"action": "ec2:*", "latency_ms": 1}"#).await;
    assert_eq!(
        send(emu.addr(), "POST", "/_awsemu/reset", &[], b"")
            .await
            .status,
        200
    );
    let v = list(&emu).await;
    assert_eq!(v["rules"].as_array().unwrap().len(), 1);
    assert_eq!(v["rules"][0]["action"], "ec2:DescribeVpcs");
}

#[tokio::test]
async fn bad_bodies_are_refused_with_a_message_and_add_nothing() {
    let emu = Emulator::builder().seed(3).start().await.unwrap();
    for (body, says) in [
        ("not json", "not valid JSON"),
        (r#"{"action": "ec2:X"}"#, "no effect"),
        (
            r#"{"action": "ec2:X", "latency": 5}"#,
            "unknown field `latency`",
        ),
        (
            r#"{"action": "DescribeRegions", "latency_ms": 5}"#,
            "service:Action",
        ),
        (
            r#"{"action": "ec2:X", "latency_ms": 5, "probability": 2}"#,
            "0-1",
        ),
        (
            r#"{"action": "ec2:X", "error": {"code": "X", "status": 302}}"#,
            "400-599",
        ),
        (
            r#"[{"action": "ec2:X", "latency_ms": 5}, {"throttle": {"service": "ec2", "buckets": {"describe": {"capacity": 1, "refill_per_second": 1}}}}]"#,
            "entry 2",
        ),
        (
            r#"{"consistency": {"action": "ec2:CreateVolume", "calls": 1, "ms": 1}}"#,
            "exactly one",
        ),
        (r#"7"#, "must be an object"),
    ] {
        let (status, v) = post(&emu, body).await;
        assert_eq!(status, 400, "{body}");
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains(says), "{body}: {msg}");
    }
    let v = list(&emu).await;
    assert_eq!(v["rules"], Value::Array(vec![]));
    let a = send(emu.addr(), "PUT", "/_awsemu/faults", &[], b"").await;
    assert_eq!(a.status, 405);
}
