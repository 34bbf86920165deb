//! The call log: every answered API call, kept in a bounded in-memory log on the [`Instance`]
//! (scenario expectations and reports read it) and, with `awsemu serve --record FILE`, written as
//! JSON lines that `awsemu scenario from-recording` turns into a scenario.
//!
//! A record holds what a reader needs to understand or replay a call — virtual time, who, what,
//! with which parameters, and how it ended — and never a signature or a secret: envelope and
//! signature parameters are left out and parameters that carry secrets are redacted.
//!
//! [`Instance`]: crate::instance::Instance

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::AuthCheck;
use crate::protocol::route::Input;
use crate::protocol::ServiceId;

/// How many records the in-memory log keeps; older ones are dropped first.
pub const LOG_CAPACITY: usize = 10_000;

/// What replaces a redacted parameter's value.
pub const REDACTED: &str = "<redacted>";

/// Longest parameter value kept whole: above it (ECR layer parts, not policies or user data) the
/// value is replaced by a note of its size, so the bounded log stays bounded in bytes too.
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

fn kept(key: &str, value: &str) -> String {
    if is_secret(key) {
        REDACTED.to_string()
    } else if value.len() > MAX_VALUE_BYTES {
        format!("<omitted: {} bytes>", value.len())
    } else {
        value.to_string()
    }
}

/// One answered call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Position in this emulator's log, from 1.
    pub seq: u64,
    /// Virtual time of the answer, ms since the epoch.
    pub time_ms: i64,
    /// The caller's ARN (`-` when authentication failed).
    pub principal_arn: String,
    /// The caller's friendly name (`worker`, `admin`; `-` when unauthenticated).
    pub principal: String,
    /// The region the call was made in (its signature's scope); empty when unauthenticated and
    /// in recordings made before regions were logged.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// awsemu's short service name: `ec2`, `elb`, `elbv2`, `autoscaling`, `iam`, `sts`, `kms`, `ecr`.
    pub service: String,
    /// The IAM action name, `ec2:CreateVolume` (both ELB APIs are `elasticloadbalancing:`).
    pub action: String,
    /// The parameters: flattened query pairs, or the JSON body.
    pub params: Value,
    pub status: u16,
    /// The error code, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub request_id: String,
    /// Latency a fault injected, ms: virtual time under a manual clock (the clock moved on by it),
    /// a real wait under the real clock. Deterministic, unlike the time spent serving, which only
    /// the in-memory log keeps ([`Recorder::timed`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: u64,
    /// What IAM was asked for the call, in order: each action on each resource, allowed or not
    /// (none with `--iam off`, or when authentication failed). `awsemu policy suggest --record`
    /// reads them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizations: Vec<AuthCheck>,
}

impl CallRecord {
    /// `service:Action` in awsemu's short service name (`elbv2:CreateLoadBalancer`): what a
    /// `call:` step names to replay it.
    pub fn call_name(&self) -> String {
        let op = self.action.rsplit(':').next().unwrap_or_default();
        format!("{}:{op}", self.service)
    }

    /// One line for reports: `#3 t+0ms worker ec2:CreateVolume 403 UnauthorizedOperation`.
    pub fn summary(&self) -> String {
        format!(
            "#{} {} {} {} {}",
            self.seq,
            self.principal,
            self.call_name(),
            self.status,
            self.error.as_deref().unwrap_or("ok")
        )
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether a parameter name carries a secret (passwords, secret keys, plaintext for KMS).
fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "privatekey",
        "plaintext",
        "sessiontoken",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(text) => Value::String(kept(k, text)),
                        _ if is_secret(k) => Value::String(REDACTED.into()),
                        other => redact_json(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

/// The parameters of a decoded input as the log keeps them.
pub fn params_of(input: &Input) -> Value {
    match input {
        Input::Query(p) => {
            let mut m = Map::new();
            for (k, v) in p.pairs() {
                m.insert(k.to_string(), Value::String(kept(k, v)));
            }
            Value::Object(m)
        }
        Input::Json(j) => redact_json(&Value::Object(j.body.clone())),
    }
}

/// What the pipeline knows of a call when it answers (filled as the request goes through).
#[derive(Debug, Default)]
pub struct Trace {
    pub service: Option<ServiceId>,
    pub action: String,
    pub principal_arn: Option<String>,
    pub principal: Option<String>,
    pub region: Option<String>,
    pub params: Value,
    pub error: Option<String>,
    /// The authorizations settled for the call.
    pub checks: Vec<AuthCheck>,
    /// Latency a fault injected, ms.
    pub latency_ms: u64,
    /// Wall-clock time spent serving, µs (kept in memory only: it differs from run to run).
    pub served_us: u64,
}

/// The bounded log and the optional JSON-lines file.
#[derive(Debug, Default)]
pub struct Recorder {
    /// The records, and the last sequence number given out: one lock, so the log and the file
    /// are in sequence order however calls interleave.
    log: Mutex<Log>,
    file: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
}

#[derive(Debug, Default)]
struct Log {
    last_seq: u64,
    records: VecDeque<CallRecord>,
    /// Wall-clock µs each record's call took to serve, in step with `records`.
    served_us: VecDeque<u64>,
}

impl Recorder {
    /// Also write every record to `path` as JSON lines (the file is truncated).
    pub fn record_to(&self, path: &Path) -> Result<(), String> {
        let f = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        if let Ok(mut slot) = self.file.lock() {
            *slot = Some(std::io::BufWriter::new(f));
        }
        Ok(())
    }

    /// Logs one answered call. Calls routing could not tie to a service are not logged: they have
    /// no action to expect or replay.
    pub fn record(&self, trace: Trace, time_ms: i64, status: u16, request_id: &str) {
        let Some(service) = trace.service else {
            return;
        };
        let Ok(mut log) = self.log.lock() else {
            return;
        };
        log.last_seq += 1;
        let record = CallRecord {
            seq: log.last_seq,
            time_ms,
            principal_arn: trace.principal_arn.unwrap_or_else(|| "-".into()),
            principal: trace.principal.unwrap_or_else(|| "-".into()),
            region: trace.region.unwrap_or_default(),
            service: service.name().to_string(),
            action: format!("{}:{}", service.iam_prefix(), trace.action),
            params: trace.params,
            status,
            error: trace.error,
            request_id: request_id.to_string(),
            latency_ms: trace.latency_ms,
            authorizations: trace.checks,
        };
        if let Ok(mut file) = self.file.lock() {
            if let Some(w) = file.as_mut() {
                if let Ok(line) = serde_json::to_string(&record) {
                    // Flushed per line, so a server stopped at any moment leaves whole records.
                    let _ = writeln!(w, "{line}").and_then(|_| w.flush());
                }
            }
        }
        if log.records.len() == LOG_CAPACITY {
            log.records.pop_front();
            log.served_us.pop_front();
        }
        log.records.push_back(record);
        log.served_us.push_back(trace.served_us);
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> Vec<CallRecord> {
        match self.log.lock() {
            Ok(l) => l.records.iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The last `n` records, newest first, each with the wall-clock µs it took to serve (the
    /// console shows them; nothing that must repeat between runs reads them).
    pub fn timed(&self, n: usize) -> Vec<(CallRecord, u64)> {
        match self.log.lock() {
            Ok(l) => (l.records.iter().rev())
                .zip(l.served_us.iter().rev())
                .take(n)
                .map(|(r, us)| (r.clone(), *us))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The records after sequence number `seq` (0: all).
    pub fn since(&self, seq: u64) -> Vec<CallRecord> {
        match self.log.lock() {
            Ok(l) => l.records.iter().filter(|r| r.seq > seq).cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The last sequence number given out.
    pub fn last_seq(&self) -> u64 {
        self.log.lock().map(|l| l.last_seq).unwrap_or(0)
    }
}

/// Reads a JSON-lines recording.
pub fn read_recording(text: &str) -> Result<Vec<CallRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("line {}: not a call record: {e}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Params, Protocol};

    #[test]
    fn secrets_and_envelope_keys_stay_out_and_the_log_is_bounded() {
        let p = Params::from_pairs(
            vec![
                ("Action".into(), "CreateLoginProfile".into()),
                ("X-Amz-Signature".into(), "abc".into()),
                ("UserName".into(), "bob".into()),
                ("Password".into(), "hunter2".into()),
            ],
            Protocol::AwsQuery,
        );
        let v = params_of(&Input::Query(p));
        assert_eq!(
            v,
            serde_json::json!({"UserName": "bob", "Password": REDACTED})
        );
        let mut body = serde_json::Map::new();
        body.insert(
            "layerPartBlob".into(),
            Value::String("x".repeat(MAX_VALUE_BYTES + 1)),
        );
        body.insert("Plaintext".into(), Value::String("c2VjcmV0".into()));
        body.insert("repositoryName".into(), Value::String("app".into()));
        let v = params_of(&Input::Json(crate::protocol::json::JsonInput { body }));
        assert_eq!(
            v,
            serde_json::json!({"layerPartBlob": format!("<omitted: {} bytes>", MAX_VALUE_BYTES + 1),
                "Plaintext": REDACTED, "repositoryName": "app"})
        );
        let r = Recorder::default();
        for _ in 0..LOG_CAPACITY + 5 {
            let t = Trace {
                service: Some(ServiceId::Ec2),
                action: "DescribeVpcs".into(),
                ..Default::default()
            };
            r.record(t, 0, 200, "rid");
        }
        r.record(Trace::default(), 0, 400, "rid");
        let recs = r.records();
        assert_eq!(recs.len(), LOG_CAPACITY);
        assert_eq!(recs[0].seq, 6);
        assert_eq!(r.last_seq(), LOG_CAPACITY as u64 + 5);
        assert_eq!(recs[0].action, "ec2:DescribeVpcs");
        assert_eq!(recs[0].call_name(), "ec2:DescribeVpcs");
        let line = serde_json::to_string(&recs[0]).unwrap();
        assert_eq!(read_recording(&line).unwrap()[0], recs[0]);
        assert!(read_recording("{").unwrap_err().contains("line 1"));
    }
}
