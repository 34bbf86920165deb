//! A JUnit XML reader for the tests of `scenario run --format junit`: the suites, their declared
//! counts, and each test case with what it holds (`failure`, `error` or `skipped`), read with
//! quick-xml so escaping mistakes fail to parse or show up in the values.

#![allow(dead_code)]

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

#[derive(Debug, Default)]
pub struct Case {
    pub attrs: BTreeMap<String, String>,
    /// `failure`, `error` or `skipped`, with its attributes and text.
    pub result: Option<(String, BTreeMap<String, String>, String)>,
}

impl Case {
    pub fn name(&self) -> &str {
        &self.attrs["name"]
    }
    pub fn kind(&self) -> Option<&str> {
        self.result.as_ref().map(|(k, _, _)| k.as_str())
    }
    pub fn message(&self) -> Option<&str> {
        self.result
            .as_ref()
            .and_then(|(_, a, _)| a.get("message").map(String::as_str))
    }
    pub fn text(&self) -> &str {
        self.result.as_ref().map_or("", |(_, _, t)| t.as_str())
    }
}

#[derive(Debug, Default)]
pub struct Suite {
    pub attrs: BTreeMap<String, String>,
    pub cases: Vec<Case>,
    pub system_out: String,
}

impl Suite {
    pub fn name(&self) -> &str {
        &self.attrs["name"]
    }
    pub fn count(&self, attr: &str) -> usize {
        self.attrs[attr].parse().expect("a count")
    }
    /// How many cases hold `kind` (`failure`, `error`, `skipped`).
    pub fn holding(&self, kind: &str) -> usize {
        self.cases.iter().filter(|c| c.kind() == Some(kind)).count()
    }
    pub fn case(&self, name: &str) -> &Case {
        (self.cases.iter().find(|c| c.name() == name))
            .unwrap_or_else(|| panic!("no test case {name} in {}", self.name()))
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub attrs: BTreeMap<String, String>,
    pub suites: Vec<Suite>,
}

impl Report {
    pub fn count(&self, attr: &str) -> usize {
        self.attrs[attr].parse().expect("a count")
    }
    pub fn suite(&self, name: &str) -> &Suite {
        (self.suites.iter().find(|s| s.name() == name))
            .unwrap_or_else(|| panic!("no test suite {name}"))
    }
    /// Every declared count (`tests`, `failures`, `errors`, `skipped`) of the report and of each
    /// suite is what its elements hold.
    pub fn assert_counts_hold(&self) {
        for s in &self.suites {
            assert_eq!(s.count("tests"), s.cases.len(), "tests of {}", s.name());
            for (attr, kind) in [
                ("failures", "failure"),
                ("errors", "error"),
                ("skipped", "skipped"),
            ] {
                assert_eq!(s.count(attr), s.holding(kind), "{attr} of {}", s.name());
            }
        }
        for attr in ["tests", "failures", "errors", "skipped"] {
            let sum: usize = self.suites.iter().map(|s| s.count(attr)).sum();
            assert_eq!(self.count(attr), sum, "{attr} of <testsuites>");
        }
    }
}

fn attrs(e: &BytesStart<'_>) -> BTreeMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.expect("a well-formed attribute");
            (
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                a.unescape_value().expect("escaped value").into_owned(),
            )
        })
        .collect()
}

/// Parses a JUnit document; panics (naming the position) when it is not well-formed XML.
pub fn parse(xml: &str) -> Report {
    let mut reader = Reader::from_str(xml);
    let mut report = Report::default();
    // The element whose text is being read: a case's result, or a suite's system-out.
    let mut in_text: Option<&'static str> = None;
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit XML at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let opens = matches!(event, Event::Start(_));
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match name.as_str() {
                    "testsuites" => {
                        roots += 1;
                        report.attrs = attrs(e);
                    }
                    "testsuite" => report.suites.push(Suite {
                        attrs: attrs(e),
                        ..Default::default()
                    }),
                    "testcase" => {
                        let suite = report.suites.last_mut().expect("a case inside a suite");
                        suite.cases.push(Case {
                            attrs: attrs(e),
                            result: None,
                        });
                    }
                    "failure" | "error" | "skipped" => {
                        let suite = report.suites.last_mut().expect("inside a suite");
                        let case = suite.cases.last_mut().expect("inside a case");
                        assert!(case.result.is_none(), "two results in {:?}", case.attrs);
                        case.result = Some((name.clone(), attrs(e), String::new()));
                        in_text = opens.then_some("result");
                    }
                    "system-out" => in_text = opens.then_some("system-out"),
                    other => panic!("unexpected element <{other}>"),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().expect("escaped text").into_owned();
                if let Some(suite) = report.suites.last_mut() {
                    match in_text {
                        Some("result") => {
                            if let Some((_, _, body)) =
                                suite.cases.last_mut().and_then(|c| c.result.as_mut())
                            {
                                body.push_str(&text);
                            }
                        }
                        Some(_) => suite.system_out.push_str(&text),
                        None => {}
                    }
                }
            }
            Event::End(_) => in_text = None,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(roots, 1, "one <testsuites>");
    report
}
