//! Least privilege from a run: the smallest identity policy that allows exactly the calls a role
//! (or user) made, read off the authorizations IAM settled for them ([`AuthCheck`]s, from the
//! running server's [`Audit`] or a `--record` file's call records).
//!
//! How a policy is made, per holder ([`arn::holder_of`]: a role for all its sessions):
//! 1. each check's resource becomes the ARN pattern AWS authorizes the action on
//!    ([`arn::pattern`]): the resource type's wildcard, or the exact ARN of what users name; an
//!    action ever checked on `*` (Describe calls) gets `*`;
//! 2. for each action and pattern, a `StringEquals` condition on every ownership tag
//!    ([`crate::audit::is_ownership_tag`]) that all its checked resources carried
//!    (`aws:ResourceTag/kubernetes.io/cluster/<id>`), that all its requests asked for
//!    (`aws:RequestTag/…`), and, when every check was the tagging half of a tag-on-create call,
//!    `ec2:CreateAction` / `elasticloadbalancing:CreateAction`;
//! 3. actions of one service with the same resources and condition share a statement.
//!
//! Then the policy is checked with the emulator's own evaluator against every check it came from;
//! one it would not allow (a narrowing this module got wrong) gets an exact statement of its own
//! and is counted in [`Suggestion::uncovered`], so a suggestion never denies a call it saw.

pub mod arn;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::audit::{Audit, AuthCheck};
use crate::iam::{self, wildcard, Decision, PolicyDocument, RequestContext};
use crate::recorder::CallRecord;
pub use arn::Holder;

/// `StringEquals` keys and the values each may take.
type Condition = BTreeMap<String, BTreeSet<String>>;

/// One statement of a suggested policy (always `Allow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
    pub condition: Condition,
}

impl Statement {
    /// As IAM's policy grammar writes it; one-element lists as plain strings.
    pub fn to_json(&self) -> Value {
        let one_or_list = |set: &BTreeSet<String>| match set.len() {
            1 => json!(set.iter().next()),
            _ => json!(set),
        };
        let mut s = Map::new();
        s.insert("Sid".into(), json!(self.sid));
        s.insert("Effect".into(), json!("Allow"));
        s.insert("Action".into(), one_or_list(&self.actions));
        s.insert("Resource".into(), one_or_list(&self.resources));
        if !self.condition.is_empty() {
            let keys: Map<String, Value> = (self.condition.iter())
                .map(|(k, v)| (k.clone(), one_or_list(v)))
                .collect();
            s.insert("Condition".into(), json!({ "StringEquals": keys }));
        }
        Value::Object(s)
    }
}

/// The suggested policy of one holder.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub holder: Holder,
    /// The distinct authorizations it rests on.
    pub checks: usize,
    /// How many of them the policies in force refused (allowed anyway under `--iam audit`).
    pub denied: usize,
    pub statements: Vec<Statement>,
    /// Checks the narrowed statements failed to allow, given exact statements instead (0 unless
    /// this module has a bug; the tests hold it to 0).
    pub uncovered: usize,
    /// Set by [`Suggestion::compare`].
    pub compared: Option<Comparison>,
}

/// A suggestion set beside a policy the holder has or is told to use (the documented
/// controlplane policy): what it allows that the calls never used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub name: String,
    /// The action patterns of its `Allow` statements, as written, without repeats.
    pub allows: Vec<String>,
    /// Those no call used: the permissions the flows did not need.
    pub unused: Vec<String>,
    /// Actions the calls used that none of its `Allow` patterns names.
    pub missing: Vec<String>,
}

impl Suggestion {
    /// The policy document.
    pub fn document(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": self.statements.iter().map(Statement::to_json).collect::<Vec<_>>(),
        })
    }

    /// Every action the policy allows.
    pub fn actions(&self) -> BTreeSet<&str> {
        (self.statements.iter())
            .flat_map(|s| s.actions.iter().map(String::as_str))
            .collect()
    }

    /// Compares with the policy document `text` (any identity policy; only its `Allow` statements'
    /// `Action` lists are compared — `NotAction` ones cannot be listed).
    pub fn compare(&mut self, name: &str, text: &str) -> Result<(), String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("{name}: not a JSON policy: {e}"))?;
        let statements = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            s @ Value::Object(_) => vec![s.clone()],
            _ => return Err(format!("{name}: the policy has no Statement")),
        };
        let mut allows: Vec<String> = Vec::new();
        for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
            let listed = match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => (a.iter())
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            for a in listed {
                if !allows.contains(&a) {
                    allows.push(a);
                }
            }
        }
        let used = self.actions();
        let matched = |pattern: &str, action: &str| wildcard::matches(pattern, action, true);
        self.compared = Some(Comparison {
            name: name.to_string(),
            unused: (allows.iter())
                .filter(|p| !used.iter().any(|a| matched(p, a)))
                .cloned()
                .collect(),
            missing: (used.iter())
                .filter(|a| !allows.iter().any(|p| matched(p, a)))
                .map(|a| a.to_string())
                .collect(),
            allows,
        });
        Ok(())
    }
}

/// The suggestions for every caller of `uses` (caller ARN and a check it made), one per holder,
/// sorted by holder ARN.
pub fn suggest<'a>(uses: impl IntoIterator<Item = (&'a str, &'a AuthCheck)>) -> Vec<Suggestion> {
    let mut by_holder: BTreeMap<Holder, BTreeSet<&AuthCheck>> = BTreeMap::new();
    for (caller, check) in uses {
        // A resource policy's refusal is not the caller's policy's to fix.
        if !check.by_resource_policy {
            by_holder
                .entry(arn::holder_of(caller))
                .or_default()
                .insert(check);
        }
    }
    by_holder
        .into_iter()
        .map(|(holder, checks)| {
            let checks: Vec<&AuthCheck> = checks.into_iter().collect();
            let mut statements = statements_for(&checks);
            let uncovered = cover_the_rest(&mut statements, &checks);
            // The same check allowed once and denied once is one authorization here.
            let distinct: BTreeSet<(&str, &str)> = (checks.iter())
                .map(|c| (c.action.as_str(), c.resource.as_str()))
                .collect();
            let denied: BTreeSet<(&str, &str)> = (checks.iter())
                .filter(|c| !c.allowed)
                .map(|c| (c.action.as_str(), c.resource.as_str()))
                .collect();
            Suggestion {
                holder,
                checks: distinct.len(),
                denied: denied.len(),
                statements,
                uncovered,
                compared: None,
            }
        })
        .collect()
}

/// The suggestions from a running emulator's audit.
pub fn from_audit(audit: &Audit) -> Vec<Suggestion> {
    let all = audit.checks();
    suggest(all.iter().map(|(caller, c, _)| (caller.as_str(), c)))
}

/// The suggestions from call records (a `--record` file, a scenario's steps).
pub fn from_records(records: &[CallRecord]) -> Vec<Suggestion> {
    suggest(records.iter().flat_map(|r| {
        r.authorizations
            .iter()
            .map(|c| (r.principal_arn.as_str(), c))
    }))
}

/// The narrowest statement that allows `check` alone: what the console shows beside a denied call.
pub fn allowing_statement(check: &AuthCheck) -> Value {
    let mut s = statements_for(&[check]);
    match s.pop() {
        Some(mut st) => {
            st.sid = "AllowThisCall".into();
            st.to_json()
        }
        None => Value::Null,
    }
}

/// The suggestions whose holder is named (role or user name, or ARN) in `names`; all when empty.
pub fn select(all: Vec<Suggestion>, names: &[String]) -> Vec<Suggestion> {
    if names.is_empty() {
        return all;
    }
    (all.into_iter())
        .filter(|s| {
            names
                .iter()
                .any(|n| *n == s.holder.name || *n == s.holder.arn)
        })
        .collect()
}

/// The policy `spec` names for a comparison: a built-in policy (`controlplane`, `etcd`, `worker`)
/// or a JSON file. Returns its name and text.
pub fn policy_named(spec: &str) -> Result<(String, String), String> {
    if let Some(text) = iam::builtin::source(spec) {
        return Ok((spec.to_string(), text.to_string()));
    }
    std::fs::read_to_string(spec)
        .map(|t| (spec.to_string(), t))
        .map_err(|e| format!("--compare {spec}: not a built-in policy (controlplane, etcd, worker), and cannot read it as a file: {e}"))
}

/// The suggestions for the holders `principals` names (all when empty), each compared with the
/// policy `compare` names ([`policy_named`]) when one is given.
pub fn finish(
    all: Vec<Suggestion>,
    principals: &[String],
    compare: Option<&str>,
) -> Result<Vec<Suggestion>, String> {
    let mut chosen = select(all, principals);
    if let Some(spec) = compare {
        let (name, text) = policy_named(spec)?;
        for s in &mut chosen {
            s.compare(&name, &text)?;
        }
    }
    Ok(chosen)
}

fn service_of(action: &str) -> &str {
    action.split(':').next().unwrap_or(action)
}

/// Steps 1–3 of the module's description.
fn statements_for(checks: &[&AuthCheck]) -> Vec<Statement> {
    let on_any: BTreeSet<&str> = (checks.iter())
        .filter(|c| c.resource == "*")
        .map(|c| c.action.as_str())
        .collect();
    let mut by_pattern: BTreeMap<(&str, String), Vec<&AuthCheck>> = BTreeMap::new();
    for c in checks {
        let pattern = if on_any.contains(c.action.as_str()) {
            "*".to_string()
        } else {
            arn::pattern(&c.resource)
        };
        by_pattern
            .entry((c.action.as_str(), pattern))
            .or_default()
            .push(c);
    }
    let mut actions_of: BTreeMap<(&str, Condition, String), BTreeSet<String>> = BTreeMap::new();
    for ((action, pattern), cs) in by_pattern {
        let condition = condition_of(action, &pattern, &cs);
        actions_of
            .entry((service_of(action), condition, pattern))
            .or_default()
            .insert(action.to_string());
    }
    let mut patterns_of: BTreeMap<(&str, Condition, BTreeSet<String>), BTreeSet<String>> =
        BTreeMap::new();
    for ((service, condition, pattern), actions) in actions_of {
        patterns_of
            .entry((service, condition, actions))
            .or_default()
            .insert(pattern);
    }
    let mut sids = BTreeSet::new();
    (patterns_of.into_iter())
        .map(|((service, condition, actions), resources)| Statement {
            sid: unique(&mut sids, sid(service, &resources, &condition)),
            actions,
            resources,
            condition,
        })
        .collect()
}

/// The `StringEquals` condition every check of `action` on `pattern` satisfied.
fn condition_of(action: &str, pattern: &str, checks: &[&AuthCheck]) -> Condition {
    let mut condition = Condition::new();
    if pattern != "*" {
        for (key, values) in common(checks, |c| &c.resource_tags) {
            condition.insert(format!("aws:ResourceTag/{key}"), values);
        }
    }
    for (key, values) in common(checks, |c| &c.request_tags) {
        condition.insert(format!("aws:RequestTag/{key}"), values);
    }
    let creating: Option<BTreeSet<String>> =
        (checks.iter()).map(|c| c.create_action.clone()).collect();
    if let Some(creating) = creating {
        condition.insert(format!("{}:CreateAction", service_of(action)), creating);
    }
    condition
}

/// The tag keys every check's `tags` has, with every value seen.
fn common<'c>(
    checks: &[&'c AuthCheck],
    tags: impl Fn(&'c AuthCheck) -> &'c BTreeMap<String, String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let Some(first) = checks.first() else {
        return BTreeMap::new();
    };
    (tags(first).keys())
        .filter_map(|key| {
            let values: Option<BTreeSet<String>> =
                (checks.iter()).map(|c| tags(c).get(key).cloned()).collect();
            Some((key.clone(), values?))
        })
        .collect()
}

/// A readable statement id: the service, the resource types, what the condition narrows on
/// (`Ec2VolumeInstanceOfCluster`, `ElbAnyResource`).
fn sid(service: &str, resources: &BTreeSet<String>, condition: &Condition) -> String {
    let camel = |s: &str| -> String {
        s.split(['-', '/', '_', '.'])
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect()
    };
    let mut out = match service {
        "elasticloadbalancing" => "Elb".to_string(),
        "autoscaling" => "AutoScaling".to_string(),
        s => camel(s),
    };
    let types: BTreeSet<&str> = resources.iter().map(|r| arn::resource_type(r)).collect();
    if types.contains("*") {
        out.push_str("AnyResource");
    } else {
        for t in types.iter().take(3) {
            out.push_str(&camel(t));
        }
        if types.len() > 3 {
            out.push_str("AndMore");
        }
    }
    let has = |prefix: &str| condition.keys().any(|k| k.starts_with(prefix));
    if has("aws:ResourceTag/") {
        out.push_str("OfCluster");
    }
    if has("aws:RequestTag/") {
        out.push_str("TaggedForCluster");
    }
    if condition.keys().any(|k| k.ends_with(":CreateAction")) {
        out.push_str("OnCreate");
    }
    out
}

fn unique(taken: &mut BTreeSet<String>, sid: String) -> String {
    let mut candidate = sid.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{sid}{n}");
        n += 1;
    }
    candidate
}

/// What IAM would see of `check` for the conditions a suggestion writes.
fn context(check: &AuthCheck) -> RequestContext {
    let service = service_of(&check.action);
    let mut ctx = RequestContext::new(check.action.as_str(), check.resource.as_str());
    ctx.add_resource_tags(service, &check.resource_tags);
    ctx.add_request_tags((check.request_tags.iter()).map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    if let Some(a) = &check.create_action {
        ctx.set(&format!("{service}:CreateAction"), vec![a.clone()]);
    }
    ctx
}

/// Evaluates the statements against every check; each one they do not allow gets an exact
/// statement. Returns how many did.
fn cover_the_rest(statements: &mut Vec<Statement>, checks: &[&AuthCheck]) -> usize {
    let document = json!({
        "Version": "2012-10-17",
        "Statement": statements.iter().map(Statement::to_json).collect::<Vec<_>>(),
    });
    let policy = match PolicyDocument::parse(&document.to_string()) {
        Ok(d) => iam::Policy {
            name: "suggested".into(),
            document: Arc::new(d),
        },
        Err(e) => {
            tracing::error!(error = %e, "a suggested policy does not parse");
            statements.clear();
            return cover(statements, checks);
        }
    };
    let missed: Vec<&AuthCheck> = (checks.iter())
        .filter(|c| {
            iam::evaluate(std::slice::from_ref(&policy), &context(c)).decision != Decision::Allow
        })
        .copied()
        .collect();
    cover(statements, &missed)
}

fn cover(statements: &mut Vec<Statement>, missed: &[&AuthCheck]) -> usize {
    let mut sids: BTreeSet<String> = statements.iter().map(|s| s.sid.clone()).collect();
    for c in missed {
        statements.push(Statement {
            sid: unique(&mut sids, "Exact".into()),
            actions: [c.action.clone()].into(),
            resources: [c.resource.clone()].into(),
            condition: Condition::new(),
        });
    }
    missed.len()
}

/// The suggestions as text: per holder a comment line, the policy document, the comparison.
pub fn to_text(suggestions: &[Suggestion]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if suggestions.is_empty() {
        out.push_str("# no authorizations to suggest a policy from (IAM off, or no calls yet)\n");
    }
    for s in suggestions {
        let _ = writeln!(
            out,
            "# {} {} ({}): {} actions in {} statements, from {} authorizations ({} refused by the policies in force)",
            s.holder.kind,
            s.holder.name,
            s.holder.arn,
            s.actions().len(),
            s.statements.len(),
            s.checks,
            s.denied,
        );
        out.push_str(&policy_text(&s.statements));
        if let Some(c) = &s.compared {
            let _ = writeln!(
                out,
                "# compared with {}: it allows {} actions; these calls used {}; {} unused:",
                c.name,
                c.allows.len(),
                c.allows.len() - c.unused.len(),
                c.unused.len(),
            );
            for a in &c.unused {
                let _ = writeln!(out, "#   {a}");
            }
            if !c.missing.is_empty() {
                let _ = writeln!(
                    out,
                    "# and the calls needed {} it does not allow: {}",
                    c.missing.len(),
                    c.missing.join(", ")
                );
            }
        }
    }
    out
}

/// A policy document as people write it: `Sid`, `Effect`, `Action`, `Resource`, `Condition` in
/// that order (a JSON map's own order is alphabetical), lists one entry a line.
fn policy_text(statements: &[Statement]) -> String {
    use std::fmt::Write as _;
    let q = |s: &str| Value::from(s).to_string();
    let list = |set: &BTreeSet<String>, indent: &str| -> String {
        match set.len() {
            1 => q(set.iter().next().map(String::as_str).unwrap_or_default()),
            _ => {
                let items: Vec<String> =
                    set.iter().map(|v| format!("{indent}  {}", q(v))).collect();
                format!("[\n{}\n{indent}]", items.join(",\n"))
            }
        }
    };
    let mut out = String::from("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [");
    for (i, st) in statements.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let ind = "      ";
        let _ = write!(
            out,
            "{sep}\n    {{\n{ind}\"Sid\": {},\n{ind}\"Effect\": \"Allow\",\n{ind}\"Action\": {},\n{ind}\"Resource\": {}",
            q(&st.sid),
            list(&st.actions, ind),
            list(&st.resources, ind),
        );
        if !st.condition.is_empty() {
            let keys: Vec<String> = (st.condition.iter())
                .map(|(k, v)| format!("{ind}    {}: {}", q(k), list(v, &format!("{ind}    "))))
                .collect();
            let _ = write!(
                out,
                ",\n{ind}\"Condition\": {{\n{ind}  \"StringEquals\": {{\n{}\n{ind}  }}\n{ind}}}",
                keys.join(",\n")
            );
        }
        out.push_str("\n    }");
    }
    out.push_str("\n  ]\n}\n");
    out
}

/// The suggestions as one JSON document.
pub fn to_json(suggestions: &[Suggestion]) -> Value {
    json!({
        "principals": suggestions.iter().map(|s| {
            let mut v = json!({
                "principal": s.holder.arn,
                "kind": s.holder.kind,
                "name": s.holder.name,
                "authorizations": s.checks,
                "refused": s.denied,
                "actions": s.actions(),
                "policy": s.document(),
            });
            if let Some(c) = &s.compared {
                v["compared"] = json!({
                    "name": c.name, "allows": c.allows, "unused": c.unused, "missing": c.missing,
                });
            }
            v
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests;
