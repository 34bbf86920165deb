//! Running several scenario files in one command and reporting them for people (each text report,
//! then a summary table) or for CI systems (one JSON document, or JUnit XML as Jenkins, GitLab and
//! GitHub read it). `awsemu scenario run` and client-tests' `scenario` binary (which adds the
//! cloud-provider flows) are both this module.
//!
//! Each file runs in isolation, on its own fresh emulator, as a single file does. The JSON report
//! is the same from run to run (virtual time only, unless `--wall-time` asks); the text summary
//! and JUnit's `time` attributes carry wall time, which CI systems show per test.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, FromArgMatches, ValueEnum};
use serde_json::{json, Value};

use crate::least_privilege;

use super::runner::{load_file, run, FlowRunner, Item, Outcome, Report};

/// How the reports are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Each scenario's readable report; a summary table after them when several ran.
    #[default]
    Text,
    /// One JSON document: per scenario its steps and expectations with outcome and message.
    Json,
    /// JUnit XML: a test suite per scenario, a test case per step and per final expectation.
    Junit,
}

/// The arguments of `scenario run`: what runs, and how it is reported.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Scenario files, or directories whose *.yaml and *.yml files run in name order
    /// (subdirectories are not entered).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE; stdout then shows the text reports as they are made.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Add wall-clock milliseconds (`wall_ms`) to the JSON report, which otherwise repeats byte
    /// for byte.
    #[arg(long)]
    pub wall_time: bool,
    /// After the runs, print each role's least-privilege policy for the steps' calls, all files
    /// together (as `awsemu policy suggest` does; run the steps as a role with no policy under
    /// `iam: audit` to see all they need). In the JSON report: `suggested_policies`.
    #[arg(long)]
    pub suggest_policy: bool,
    /// With --suggest-policy: only this role or user (repeatable).
    #[arg(
        long = "suggest-principal",
        value_name = "NAME",
        requires = "suggest_policy"
    )]
    pub suggest_principals: Vec<String>,
    /// With --suggest-policy: list what this policy (controlplane, etcd, worker, or a JSON file)
    /// allows that the steps never used.
    #[arg(long, value_name = "POLICY", requires = "suggest_policy")]
    pub suggest_compare: Option<String>,
}

/// Parses the command line of a program that only runs scenarios (client-tests' `scenario`).
pub fn parse_args(program: &'static str, about: &'static str) -> RunArgs {
    // After augment_args, which sets the about of `RunArgs`' own doc comment.
    let cmd = RunArgs::augment_args(clap::Command::new(program)).about(about);
    let matches = cmd.get_matches();
    RunArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// One file of a batch: its report, or why it could not be read or parsed.
#[derive(Debug, Clone)]
pub struct Ran {
    pub file: PathBuf,
    pub result: Result<Report, String>,
}

impl Ran {
    /// The scenario's name, or the file's path when it did not load.
    pub fn name(&self) -> String {
        match &self.result {
            Ok(r) => r.name.clone(),
            Err(_) => self.file.display().to_string(),
        }
    }
}

/// The files `paths` name, in order: a file as given, a directory's `*.yaml` and `*.yml` files
/// sorted by name. A directory that cannot be read, or holds no scenario file, is an `Err`.
pub fn scenario_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, String)>> {
    let mut files = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(Ok(p.clone()));
            continue;
        }
        let entries = match std::fs::read_dir(p) {
            Ok(e) => e,
            Err(e) => {
                files.push(Err((
                    p.clone(),
                    format!("cannot read {}: {e}", p.display()),
                )));
                continue;
            }
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file())
            .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        found.sort();
        if found.is_empty() {
            let why = format!("{}: no *.yaml or *.yml files", p.display());
            files.push(Err((p.clone(), why)));
        }
        files.extend(found.into_iter().map(Ok));
    }
    files
}

/// Runs every scenario `args` names and writes the report; the exit status is 0 when all passed,
/// 1 when one failed, 2 when a file did not load (the others still run) or the report could not
/// be written. `program` prefixes messages on stderr.
pub async fn run_all(args: &RunArgs, flows: Option<&dyn FlowRunner>, program: &str) -> ExitCode {
    // Text reports stream to stdout unless stdout carries a JSON or JUnit document.
    let stream = args.format == Format::Text || args.output.is_some();
    let mut ran = Vec::new();
    for entry in scenario_files(&args.paths) {
        let (file, loaded) = match entry {
            Ok(f) => {
                let l = load_file(&f);
                (f, l)
            }
            Err((f, why)) => (f, Err(why)),
        };
        let result = match loaded {
            Ok((s, dir)) => {
                if stream && ran.iter().any(|r: &Ran| r.result.is_ok()) {
                    println!();
                }
                let mut sink = |line: &str| {
                    if stream {
                        println!("{line}");
                    }
                };
                Ok(run(&s, dir.as_deref(), flows, &mut sink).await)
            }
            Err(e) => {
                eprintln!("{program}: {e}");
                Err(e)
            }
        };
        ran.push(Ran { file, result });
    }
    let table = if ran.len() > 1 {
        summary(&ran)
    } else {
        String::new()
    };
    if stream && !table.is_empty() {
        print!("\n{table}");
    }
    let suggested = match suggestions(args, &ran) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{program}: {e}");
            return ExitCode::from(2);
        }
    };
    let document = match args.format {
        Format::Text => {
            let reports: Vec<&str> = (ran.iter())
                .filter_map(|r| r.result.as_ref().ok().map(|r| r.text.as_str()))
                .collect();
            let mut text = reports.join("\n");
            if !table.is_empty() {
                text.push('\n');
                text.push_str(&table);
            }
            text
        }
        Format::Json => {
            let mut report = json_report(&ran, args.wall_time);
            if let Some(s) = &suggested {
                report["suggested_policies"] = least_privilege::to_json(s)["principals"].take();
            }
            let mut j = serde_json::to_string_pretty(&report).unwrap_or_default();
            j.push('\n');
            j
        }
        Format::Junit => junit(&ran),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &document) {
                eprintln!("{program}: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
        None if args.format != Format::Text => print!("{document}"),
        None => {}
    }
    if let Some(s) = suggested.filter(|_| args.format != Format::Json || args.output.is_some()) {
        // On stderr when stdout carries the JUnit document, so that it stays one XML document.
        let text = least_privilege::to_text(&s);
        if args.format == Format::Junit && args.output.is_none() {
            eprint!("\n{text}");
        } else {
            print!("\n{text}");
        }
    }
    exit_code(&ran)
}

/// With `--suggest-policy`, the policies of the steps' callers across every file that ran.
fn suggestions(
    args: &RunArgs,
    ran: &[Ran],
) -> Result<Option<Vec<least_privilege::Suggestion>>, String> {
    if !args.suggest_policy {
        return Ok(None);
    }
    let uses = (ran.iter())
        .filter_map(|r| r.result.as_ref().ok())
        .flat_map(|r| {
            r.authorizations
                .iter()
                .map(|(caller, c)| (caller.as_str(), c))
        });
    least_privilege::finish(
        least_privilege::suggest(uses),
        &args.suggest_principals,
        args.suggest_compare.as_deref(),
    )
    .map(Some)
}

/// 2 when a file did not load, else 1 when a scenario failed, else 0.
pub fn exit_code(ran: &[Ran]) -> ExitCode {
    if ran.iter().any(|r| r.result.is_err()) {
        ExitCode::from(2)
    } else if ran
        .iter()
        .any(|r| r.result.as_ref().is_ok_and(|r| !r.passed))
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn passed_of(items: &[Item]) -> String {
    let passed = items
        .iter()
        .filter(|i| i.outcome == Outcome::Passed)
        .count();
    format!("{passed}/{}", items.len())
}

fn wall_ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The text summary: a row per file (steps and expectations as passed/total), then the totals
/// and the files that did not load.
pub fn summary(ran: &[Ran]) -> String {
    let header = [
        "scenario",
        "result",
        "steps",
        "expectations",
        "virtual ms",
        "wall ms",
    ];
    let mut rows = vec![header.map(str::to_string).to_vec()];
    for r in ran {
        rows.push(match &r.result {
            Ok(rep) => vec![
                rep.name.clone(),
                if rep.passed { "PASS" } else { "FAIL" }.to_string(),
                passed_of(&rep.steps),
                passed_of(&rep.expectations),
                rep.virtual_ms.to_string(),
                wall_ms(rep.wall),
            ],
            Err(_) => {
                let mut row = vec![r.name(), "ERROR".to_string()];
                row.extend(std::iter::repeat_n("-".to_string(), 4));
                row
            }
        });
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = (row.iter().zip(&widths).enumerate())
            .map(|(c, (cell, w))| {
                // Names and results read left-aligned, numbers right-aligned.
                if c < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let count = |f: &dyn Fn(&Ran) -> bool| ran.iter().filter(|r| f(r)).count();
    let passed = count(&|r| r.result.as_ref().is_ok_and(|r| r.passed));
    let failed = count(&|r| r.result.as_ref().is_ok_and(|r| !r.passed));
    let errors = count(&|r| r.result.is_err());
    let _ = write!(
        out,
        "{} scenarios: {passed} passed, {failed} failed",
        ran.len()
    );
    if errors > 0 {
        let _ = write!(out, ", {errors} not loaded");
    }
    out.push('\n');
    for r in ran {
        if let Err(e) = &r.result {
            let _ = writeln!(out, "  not loaded: {e}");
        }
    }
    out
}

fn item_json(i: &Item, wall: bool) -> Value {
    let mut v = json!({
        "name": i.title,
        "outcome": i.outcome.as_str(),
        "message": i.message,
        "virtual_ms": i.virtual_ms,
    });
    if wall {
        v["wall_ms"] = json!(i.wall.as_secs_f64() * 1000.0);
    }
    v
}

/// The JSON report: `passed`, `summary` counts, and per scenario its name, file, outcome, error,
/// steps and expectations (each `name`, `outcome` passed | failed | skipped, `message`) and the
/// text report.
pub fn json_report(ran: &[Ran], wall: bool) -> Value {
    let scenarios: Vec<Value> = ran
        .iter()
        .map(|r| {
            let file = r.file.display().to_string();
            match &r.result {
                Ok(rep) => {
                    let mut v = json!({
                        "name": rep.name,
                        "file": file,
                        "passed": rep.passed,
                        "error": rep.error,
                        "virtual_ms": rep.virtual_ms,
                        "steps": rep.steps.iter().map(|i| item_json(i, wall)).collect::<Vec<_>>(),
                        "expectations": rep.expectations.iter().map(|i| item_json(i, wall)).collect::<Vec<_>>(),
                        "report": rep.text,
                    });
                    if wall {
                        v["wall_ms"] = json!(rep.wall.as_secs_f64() * 1000.0);
                    }
                    v
                }
                Err(e) => json!({
                    "name": Value::Null,
                    "file": file,
                    "passed": false,
                    "error": e,
                    "steps": [],
                    "expectations": [],
                }),
            }
        })
        .collect();
    let passed = ran
        .iter()
        .filter(|r| r.result.as_ref().is_ok_and(|r| r.passed));
    let errors = ran.iter().filter(|r| r.result.is_err()).count();
    let passed = passed.count();
    json!({
        "passed": passed == ran.len(),
        "summary": {
            "scenarios": ran.len(),
            "passed": passed,
            "failed": ran.len() - passed - errors,
            "not_loaded": errors,
        },
        "scenarios": scenarios,
    })
}

/// XML-escapes `s` for an attribute value (`attr`) or element text. Characters XML 1.0 cannot
/// carry at all (most control characters) become U+FFFD; in attributes, line breaks and tabs are
/// written as character references so parsers keep them instead of normalising them to spaces.
pub fn xml_escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// A test case: `<failure>`, `<error>` or `<skipped>` inside it when it did not pass.
struct Case<'a> {
    name: &'a str,
    kind: &'static str,
    outcome: Outcome,
    message: Option<&'a str>,
    body: &'a str,
    /// `<error>` rather than `<failure>`: it could not run at all.
    error: bool,
    wall: Duration,
}

fn write_case(out: &mut String, classname: &str, file: &str, c: &Case<'_>) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{}\"",
        xml_escape(c.name, true),
        xml_escape(classname, true),
        xml_escape(file, true),
        seconds(c.wall)
    );
    let message = xml_escape(c.message.unwrap_or_default(), true);
    match (c.outcome, c.error) {
        (_, true) => {
            let _ = write!(
                out,
                ">\n      <error message=\"{message}\" type=\"{}\">{}</error>\n    </testcase>\n",
                c.kind,
                xml_escape(c.body, false)
            );
        }
        (Outcome::Passed, _) => out.push_str("/>\n"),
        (Outcome::Failed, _) => {
            let _ = write!(
                out,
                ">\n      <failure message=\"{message}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                c.kind,
                xml_escape(c.body, false)
            );
        }
        (Outcome::Skipped, _) => {
            let _ = write!(
                out,
                ">\n      <skipped message=\"{message}\"/>\n    </testcase>\n"
            );
        }
    }
}

/// The test cases of one file: its steps and final expectations, and a `world` case in error
/// when the world could not be built, or a `load` case in error when the file did not load.
fn cases<'a>(r: &'a Ran, report_text: &'a str) -> Vec<Case<'a>> {
    let rep = match &r.result {
        Err(e) => {
            return vec![Case {
                name: "load",
                kind: "load",
                outcome: Outcome::Failed,
                message: Some(e),
                body: e,
                error: true,
                wall: Duration::ZERO,
            }]
        }
        Ok(rep) => rep,
    };
    let mut cases = Vec::new();
    if let Some(e) = &rep.error {
        cases.push(Case {
            name: "world",
            kind: "world",
            outcome: Outcome::Failed,
            message: Some(e),
            body: report_text,
            error: true,
            wall: rep.wall,
        });
    }
    let items = (rep.steps.iter().map(|i| ("step", i)))
        .chain(rep.expectations.iter().map(|i| ("expectation", i)));
    for (kind, i) in items {
        cases.push(Case {
            name: &i.title,
            kind,
            outcome: i.outcome,
            message: i.message.as_deref(),
            body: &i.text,
            error: false,
            wall: i.wall,
        });
    }
    cases
}

/// The JUnit XML report: `<testsuites>` with a `<testsuite>` per file (named after the
/// scenario), a `<testcase>` per step and final expectation (classname: the scenario), failures
/// carrying the first difference as `message` and the item's report lines as text, the whole
/// report as the suite's `<system-out>`.
pub fn junit(ran: &[Ran]) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut total = Duration::ZERO;
    for r in ran {
        let text = r.result.as_ref().map(|r| r.text.as_str()).unwrap_or("");
        let cs = cases(r, text);
        let failed = cs
            .iter()
            .filter(|c| !c.error && c.outcome == Outcome::Failed)
            .count();
        let errored = cs.iter().filter(|c| c.error).count();
        let skip = cs
            .iter()
            .filter(|c| !c.error && c.outcome == Outcome::Skipped)
            .count();
        let wall = r.result.as_ref().map(|r| r.wall).unwrap_or_default();
        (tests, failures, errors, skipped) = (
            tests + cs.len(),
            failures + failed,
            errors + errored,
            skipped + skip,
        );
        total += wall;
        let name = r.name();
        let file = r.file.display().to_string();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"{errored}\" skipped=\"{skip}\" time=\"{}\">",
            xml_escape(&name, true),
            cs.len(),
            seconds(wall)
        );
        for c in &cs {
            write_case(&mut suites, &name, &file, c);
        }
        if !text.is_empty() {
            let _ = writeln!(
                suites,
                "    <system-out>{}</system-out>",
                xml_escape(text, false)
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"awsemu scenarios\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\">\n{suites}</testsuites>\n",
        seconds(total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_and_line_breaks_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            xml_escape("a<b & 'c' \"d\">\n\te\u{1}", true),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;&#10;&#9;e\u{FFFD}"
        );
        assert_eq!(xml_escape("x < y\n\"q\"", false), "x &lt; y\n\"q\"");
    }
}
