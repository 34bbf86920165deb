//! The `scenario` binary (flows included) on the whole `scenarios/` directory, as a CI job runs
//! it: every example passes, the JUnit XML read back with quick-xml has a suite per file and a
//! case per step and expectation, the JSON document agrees with it; and on awsemu's failing
//! fixtures it exits 1 with the failures in the same places as `awsemu scenario run`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../emulator/tests/support/junit.rs"]
mod junit;

const BIN: &str = env!("CARGO_BIN_EXE_scenario");

fn scenario(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run scenario");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("awsemu-screports-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_example_passes_as_junit_and_json() {
    let dir = root().join("scenarios");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "yaml" || x == "yml")
        })
        .count();
    let xml_file = scratch("examples").join("junit.xml");
    let (code, out, err) = scenario(&[
        dir.to_str().unwrap(),
        "--format",
        "junit",
        "--output",
        xml_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{files} scenarios: {files} passed, 0 failed")),
        "the text summary on stdout: {out}"
    );
    let report = junit::parse(&std::fs::read_to_string(&xml_file).unwrap());
    report.assert_counts_hold();
    assert_eq!(report.suites.len(), files);
    for attr in ["failures", "errors", "skipped"] {
        assert_eq!(report.count(attr), 0, "{attr}");
    }

    let (code, json, err) = scenario(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(doc["passed"], true);
    for s in doc["scenarios"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let suite = report.suite(name);
        let steps = s["steps"].as_array().unwrap();
        let expectations = s["expectations"].as_array().unwrap();
        assert_eq!(
            suite.cases.len(),
            steps.len() + expectations.len(),
            "{name}"
        );
        for (item, case) in steps.iter().chain(expectations).zip(&suite.cases) {
            assert_eq!(item["name"], case.name());
            assert_eq!(item["outcome"], "passed");
        }
    }
}

#[test]
fn failing_fixtures_fail_in_the_same_places() {
    let mixed = root().join("emulator/tests/fixtures/reports/mixed");
    let (code, xml, err) = scenario(&[mixed.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(code, 1, "{err}");
    let report = junit::parse(&xml);
    report.assert_counts_hold();
    assert_eq!(
        (report.count("failures"), report.count("errors")),
        (1 + 1, 1)
    );
    let failed = report
        .suite("failing-expectation")
        .case("expect state: ec2:DescribeVpcs as admin");
    assert_eq!(failed.kind(), Some("failure"));
    assert!(failed.message().unwrap().contains(r#"got 'a <b> & "c"'"#));
}
