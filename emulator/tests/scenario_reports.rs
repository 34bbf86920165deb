//! `awsemu scenario run` on several files and directories, as CI systems run it: exit statuses
//! (0 all passed, 1 one failed, 2 a file that does not load, the others still run), the text
//! summary table, one JSON document that repeats byte for byte, and JUnit XML whose counts,
//! failures and escaping a real XML parser reads back. The fixtures in `tests/fixtures/reports/`
//! fail on purpose: a final expectation (with a difference XML must escape), a step, a world
//! that cannot be built, and a file that does not parse.

use std::path::{Path, PathBuf};

#[path = "support/junit.rs"]
mod junit;

#[path = "support/cli.rs"]
mod cli;
use cli::awsemu;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/reports/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("awsemu-reports-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The difference the failing expectation fixture reports: quotes, `<`, `>` and `&` to escape.
const ESCAPED_DIFFERENCE: &str =
    r#"field vpcSet/item/tagSet/item/value: expected 'a <b> & 'c'', got 'a <b> & "c"'"#;

#[test]
fn junit_has_a_suite_per_scenario_a_case_per_step_and_expectation_and_right_counts() {
    let (code, xml, err) = awsemu(&["scenario", "run", &fixture("mixed"), "--format", "junit"]);
    assert_eq!(code, 1, "{err}\n{xml}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    let report = junit::parse(&xml);
    report.assert_counts_hold();
    let names: Vec<&str> = report.suites.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "passing",
            "failing-expectation",
            "failing-step",
            "world-error"
        ],
        "the directory's files in name order"
    );
    for s in &report.suites {
        for c in &s.cases {
            assert_eq!(c.attrs["classname"], s.name(), "{:?}", c.attrs);
            assert!(c.attrs["time"].parse::<f64>().is_ok(), "{:?}", c.attrs);
        }
    }
    assert_eq!((report.count("tests"), report.count("failures")), (15, 2));
    assert_eq!((report.count("errors"), report.count("skipped")), (1, 4));

    let passing = report.suite("passing");
    let cases: Vec<&str> = passing.cases.iter().map(|c| c.name()).collect();
    assert_eq!(
        cases,
        [
            "step 1: advance 5s",
            "step 2: call ec2:DescribeVpcs",
            "expect state: 1 vpcs",
            "expect calls: ec2:DescribeVpcs: 1 times"
        ]
    );
    assert!(passing.cases.iter().all(|c| c.result.is_none()));
    assert!(passing.system_out.ends_with("result: PASS\n"));

    // The failing expectation: its case holds the failure, the difference as the message (read
    // back unescaped, exactly) and its report lines as the text; the others pass.
    let s = report.suite("failing-expectation");
    assert_eq!(s.count("failures"), 1);
    let failed = s.case("expect state: ec2:DescribeVpcs as admin");
    assert_eq!(failed.kind(), Some("failure"));
    assert_eq!(failed.message(), Some(ESCAPED_DIFFERENCE));
    assert_eq!(
        failed.text(),
        format!(
            "FAIL expect state: ec2:DescribeVpcs as admin\n  first difference: {ESCAPED_DIFFERENCE}\n"
        )
    );
    assert!(s.case("expect state: 2 vpcs").result.is_none());
    assert!(
        s.system_out.contains(ESCAPED_DIFFERENCE),
        "{}",
        s.system_out
    );

    // The failing step: the failure with the call log; what comes after it is skipped.
    let s = report.suite("failing-step");
    let step = s.case("step 2: call ec2:DescribeVolumes");
    assert_eq!(step.kind(), Some("failure"));
    assert!(
        step.message()
            .unwrap()
            .starts_with("expected success, got 400 InvalidVolume.NotFound"),
        "{step:?}"
    );
    assert!(step.text().contains("call log around it:"), "{step:?}");
    assert!(step.text().contains("#2 admin ec2:DescribeVolumes 400"));
    for name in [
        "step 3: advance 1s",
        "expect state #1",
        "expect calls: ec2:*: at least 1",
    ] {
        let c = s.case(name);
        assert_eq!(c.kind(), Some("skipped"), "{c:?}");
        assert_eq!(c.message(), Some("an earlier step failed"));
    }

    // A world that cannot be built: an error, not a failure, and the steps skipped.
    let s = report.suite("world-error");
    let world = s.case("world");
    assert_eq!(world.kind(), Some("error"));
    assert!(
        world.message().unwrap().contains("InvalidSubnet.Range"),
        "{world:?}"
    );
    assert_eq!(
        s.case("step 1: call ec2:DescribeSubnets").kind(),
        Some("skipped")
    );
}

#[test]
fn json_is_one_document_with_each_outcome_and_repeats_byte_for_byte() {
    let args = ["scenario", "run", &fixture("mixed"), "--format", "json"];
    let (code, out, err) = awsemu(&args);
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["passed"], false);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"scenarios": 4, "passed": 1, "failed": 3, "not_loaded": 0})
    );
    let scenarios = doc["scenarios"].as_array().unwrap();
    let outcomes = |i: usize, part: &str| -> Vec<String> {
        (scenarios[i][part].as_array().unwrap().iter())
            .map(|x| x["outcome"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(scenarios[0]["name"], "passing");
    assert_eq!(scenarios[0]["passed"], true);
    assert_eq!(scenarios[0]["virtual_ms"], 5000);
    assert!(scenarios[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("mixed/a-passing.yaml"));
    assert_eq!(outcomes(0, "steps"), ["passed", "passed"]);
    assert_eq!(
        scenarios[1]["expectations"][1],
        serde_json::json!({
            "name": "expect state: ec2:DescribeVpcs as admin",
            "outcome": "failed",
            "message": ESCAPED_DIFFERENCE,
            "virtual_ms": 0,
        })
    );
    assert_eq!(outcomes(2, "steps"), ["passed", "failed", "skipped"]);
    assert_eq!(outcomes(2, "expectations"), ["skipped", "skipped"]);
    assert_eq!(scenarios[3]["passed"], false);
    assert!(scenarios[3]["error"]
        .as_str()
        .unwrap()
        .contains("InvalidSubnet.Range"));
    assert!(scenarios[3]["report"]
        .as_str()
        .unwrap()
        .ends_with("result: FAIL\n"));
    assert!(!out.contains("wall_ms"), "no wall time unless asked");

    let (_, again, _) = awsemu(&args);
    assert_eq!(out, again, "the same document twice");
    let (_, timed, _) = awsemu(&[
        "scenario",
        "run",
        &fixture("mixed"),
        "--format",
        "json",
        "--wall-time",
    ]);
    let timed: serde_json::Value = serde_json::from_str(&timed).unwrap();
    assert!(timed["scenarios"][0]["wall_ms"].is_f64(), "{timed}");
    assert!(timed["scenarios"][0]["steps"][0]["wall_ms"].is_f64());
}

#[test]
fn a_file_that_does_not_load_exits_2_and_the_others_still_run() {
    let passing = fixture("mixed/a-passing.yaml");
    let broken = fixture("broken.yaml");
    let failing = fixture("mixed/c-failing-step.yaml");
    let (code, out, err) = awsemu(&["scenario", "run", &passing, &broken, &failing]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("broken.yaml") && err.contains("expectt"),
        "{err}"
    );
    assert!(out.contains("scenario passing (seed 1"), "{out}");
    assert!(out.contains("scenario failing-step"), "{out}");
    // The summary table after the reports.
    let table = &out[out.rfind("\nscenario ").unwrap() + 1..];
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "scenario",
            "result",
            "steps",
            "expectations",
            "virtual",
            "ms",
            "wall",
            "ms"
        ]
    );
    assert_eq!(rows[1][..5], ["passing", "PASS", "2/2", "2/2", "5000"]);
    assert_eq!(rows[2][1..], ["ERROR", "-", "-", "-", "-"]);
    assert!(rows[2][0].ends_with("broken.yaml"));
    assert_eq!(rows[3][..5], ["failing-step", "FAIL", "1/3", "0/2", "0"]);
    assert!(rows[3][5].parse::<f64>().is_ok(), "wall ms: {table}");
    assert_eq!(
        rows[4].join(" "),
        "3 scenarios: 1 passed, 1 failed, 1 not loaded"
    );

    // JUnit: the file that does not load is a suite with one case in error.
    let dir = scratch("broken");
    let xml_file = dir.join("report.xml");
    let (code, out, _) = awsemu(&[
        "scenario",
        "run",
        &passing,
        &broken,
        "--format",
        "junit",
        "--output",
        xml_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        out.contains("scenario passing") && out.contains("1 not loaded"),
        "with --output, stdout shows the text reports: {out}"
    );
    let report = junit::parse(&std::fs::read_to_string(&xml_file).unwrap());
    report.assert_counts_hold();
    assert_eq!(report.suites.len(), 2);
    let load = &report.suites[1];
    assert!(load.name().ends_with("broken.yaml"));
    assert_eq!(load.case("load").kind(), Some("error"));
    assert!(load.case("load").message().unwrap().contains("expectt"));

    // A directory with no scenario file in it is an error too.
    let empty = scratch("empty");
    let (code, _, err) = awsemu(&["scenario", "run", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no *.yaml or *.yml files"), "{err}");
}

#[test]
fn the_examples_directory_runs_every_file_and_fails_only_for_want_of_a_flow_runner() {
    let dir = scenarios_dir();
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    let xml_file = scratch("examples").join("examples.xml");
    let (code, out, err) = awsemu(&[
        "scenario",
        "run",
        dir.to_str().unwrap(),
        "--format",
        "junit",
        "-o",
        xml_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "the flow scenarios fail under awsemu alone: {err}");
    assert!(
        out.contains(&format!("{} scenarios: ", files.len())),
        "{out}"
    );
    let report = junit::parse(&std::fs::read_to_string(&xml_file).unwrap());
    report.assert_counts_hold();
    assert_eq!(report.suites.len(), files.len());
    assert_eq!(report.count("errors"), 0);
    for f in &files {
        let (scenario, _) = awsemu::scenario::load_file(f).unwrap();
        let s = scenario.name.as_str();
        let suite = report.suite(s);
        if scenario.has_flows() {
            assert_eq!(suite.count("failures"), 1, "{s}");
            let failed = suite.cases.iter().find(|c| c.kind() == Some("failure"));
            assert!(
                failed
                    .unwrap()
                    .message()
                    .unwrap()
                    .contains("needs a flow runner"),
                "{s}: {failed:?}"
            );
        } else {
            assert_eq!(suite.count("failures"), 0, "{s}: {}", suite.system_out);
            assert_eq!(suite.count("skipped"), 0, "{s}");
        }
    }
}
