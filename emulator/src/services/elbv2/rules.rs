//! Listener rules: CreateRule, DescribeRules (by listener or ARN, paged; each listener's default
//! rule last, `IsDefault`, priority `default`, no conditions and the listener's default actions),
//! ModifyRule (replaces what is given; `ResetTransforms` drops the transforms), DeleteRule and
//! SetRulePriorities (all or nothing). The default rule is the listener itself: it cannot be
//! deleted, modified or moved (`OperationNotPermitted`); its ARN comes from the listener's.
//!
//! Rules live on application load balancer listeners and, since AWS added them for dual-stack
//! network load balancers, on those load balancers' TCP, UDP, TCP_UDP and TLS listeners (one
//! `source-ip` condition by `IpAddressType`, forward actions, no transforms). Other listeners
//! answer `UnsupportedProtocol`.

use crate::protocol::{AwsError, AwsResult, Output, Writer};
use crate::services::action::{self as decl, On, Request, TagsIn};
use crate::services::ec2::common;
use crate::services::Call;
use crate::state::paging::Page;
use crate::state::tags::Tags;
use crate::state::{read, write};

use super::actions::{self, Of};
use super::arn::{self, Kind};
use super::errors::{self, check_range, invalid_configuration, validation};
use super::model::{Elbv2, LbType, Listener, LoadBalancer, Rule};
use super::{conditions, tags, transforms};
use super::{tagged_at, ON_LISTENER};

/// The actions of this family: CreateRule is authorized on the listener, the others on each
/// rule they name (the Service Authorization Reference's `listener-rule` resource).
pub const ACTIONS: &[decl::Action] = &[
    decl::Action::new("CreateRule", create_rule)
        .on(ON_LISTENER)
        .tags(TagsIn::Set("Tags.member"))
        .creates(tagged_at(new_rule)),
    decl::Action::new("DescribeRules", describe_rules),
    decl::Action::new("ModifyRule", modify_rule).on(ON_RULE),
    decl::Action::new("DeleteRule", delete_rule).on(ON_RULE),
    decl::Action::new("SetRulePriorities", set_rule_priorities).on(&[On::Custom(prioritized)]),
];

const ON_RULE: &[On] = &[On::Arn("RuleArn")];

/// What CreateRule makes: `listener-rule/app/NAME/ID/LISTENER/*`.
fn new_rule(r: &Request<'_>) -> Option<String> {
    r.value("ListenerArn").map(|l| arn::rule(l, "*"))
}

/// The rules SetRulePriorities moves: `RulePriorities.member.N.RuleArn`.
fn prioritized(r: &Request<'_>, out: &mut Vec<String>) {
    for i in 1.. {
        match r.value(&format!("RulePriorities.member.{i}.RuleArn")) {
            Some(a) => out.push(a.to_string()),
            None => break,
        }
    }
}

/// AWS's quota of rules per load balancer, default rules not counted.
pub const MAX_RULES: usize = 100;

fn rule_not_found() -> AwsError {
    AwsError::bad_request("RuleNotFound", "One or more rules not found")
}

fn default_rule_refused(what: &str) -> AwsError {
    AwsError::bad_request(
        "OperationNotPermitted",
        format!("Default rules cannot be {what}"),
    )
}

fn priority_in_use(priority: i64) -> AwsError {
    AwsError::bad_request(
        "PriorityInUse",
        format!("Priority '{priority}' is currently in use"),
    )
}

/// The listener whose default rule `rule_arn` names, when it does.
pub fn default_of<'a>(e: &'a Elbv2, rule_arn: &str) -> Option<&'a Listener> {
    let (head, _) = rule_arn.rsplit_once('/')?;
    let listener_arn = head.replacen(":listener-rule/", ":listener/", 1);
    e.listeners
        .get(&listener_arn)
        .filter(|l| arn::default_rule(&l.arn) == rule_arn)
}

/// The tags of the rule an ARN names (a default rule's are kept on its listener).
pub fn tags_of<'a>(e: &'a Elbv2, rule_arn: &str) -> Option<&'a Tags> {
    match e.rules.get(rule_arn) {
        Some(r) => Some(&r.tags),
        None => default_of(e, rule_arn).map(|l| &l.default_rule_tags),
    }
}

pub fn tags_of_mut<'a>(e: &'a mut Elbv2, rule_arn: &str) -> Option<&'a mut Tags> {
    if e.rules.contains_key(rule_arn) {
        return e.rules.get_mut(rule_arn).map(|r| &mut r.tags);
    }
    let listener = default_of(e, rule_arn)?.arn.clone();
    e.listeners
        .get_mut(&listener)
        .map(|l| &mut l.default_rule_tags)
}

/// A rule as DescribeRules shows it.
#[derive(Clone, Copy)]
enum View<'a> {
    Default(&'a Listener),
    Custom(&'a Rule),
}

fn find<'a>(e: &'a Elbv2, rule_arn: &str) -> Option<View<'a>> {
    match e.rules.get(rule_arn) {
        Some(r) => Some(View::Custom(r)),
        None => default_of(e, rule_arn).map(View::Default),
    }
}

/// Refuses listeners that cannot have rules.
fn check_supported(lb: &LoadBalancer, listener: &Listener) -> AwsResult<()> {
    let protocol = listener.protocol.as_deref().unwrap_or("");
    match lb.kind {
        LbType::Application => Ok(()),
        LbType::Network if matches!(protocol, "TCP" | "UDP" | "TCP_UDP" | "TLS") => {
            if lb.ip_address_type.starts_with("dualstack") {
                Ok(())
            } else {
                Err(invalid_configuration(
                    "Listener rules are supported only on dual-stack Network Load Balancers",
                ))
            }
        }
        _ => Err(AwsError::bad_request(
            "UnsupportedProtocol",
            format!("Listener rules are not supported for listeners of protocol '{protocol}' on a {} load balancer", lb.kind.name()),
        )),
    }
}

/// The load balancer and listener of a rule.
fn owners<'a>(e: &'a Elbv2, listener_arn: &str) -> AwsResult<(&'a LoadBalancer, &'a Listener)> {
    let l = e
        .listeners
        .get(listener_arn)
        .ok_or_else(errors::listener_not_found)?;
    let lb = e
        .load_balancers
        .get(&l.load_balancer_arn)
        .ok_or_else(AwsError::internal)?;
    Ok((lb, l))
}

/// Checks a rule's contents against its load balancer: conditions and transforms its type
/// allows, actions on target groups it can use.
fn check_rule(e: &Elbv2, lb: &LoadBalancer, l: &Listener, rule: &Rule) -> AwsResult<()> {
    conditions::check_for(&rule.conditions, lb.kind)?;
    if lb.kind != LbType::Application && !rule.transforms.is_empty() {
        return Err(validation(
            "Transforms are supported only for Application Load Balancer rules",
        ));
    }
    actions::check_against(e, lb, l.protocol.as_deref(), &rule.actions, Of::Rule)
}

pub fn create_rule(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let listener_arn = p.required("ListenerArn")?;
    let priority_given = p.int("Priority")?;
    check_range("priority", priority_given, 1, 50_000)?;
    let conditions = conditions::parse(&p.required_structs("Conditions")?)?;
    let actions = actions::parse(&p.required_structs("Actions")?, Of::Rule)?;
    let transforms = transforms::parse(&p.structs("Transforms")?)?;
    let new_tags = tags::parse(&p.structs("Tags")?)?;
    call.params()?.finish()?;
    let priority = priority_given
        .ok_or_else(|| errors::constraint("priority", "null", "Member must not be null"))?;
    arn::check(Kind::Listener, listener_arn)?;
    let tag_set = tags::initial(&new_tags, Kind::Rule)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let e = &r.elbv2;
    let (lb, l) = owners(e, listener_arn)?;
    check_supported(lb, l)?;
    let rule = Rule {
        arn: String::new(),
        listener_arn: listener_arn.to_string(),
        priority,
        conditions,
        actions,
        transforms,
        seq: 0,
        tags: tag_set,
    };
    check_rule(e, lb, l, &rule)?;
    if e.rules_of(listener_arn)
        .iter()
        .any(|o| o.priority == priority)
    {
        return Err(priority_in_use(priority));
    }
    let on_lb = e
        .rules
        .values()
        .filter(|o| {
            e.listeners
                .get(&o.listener_arn)
                .is_some_and(|ol| ol.load_balancer_arn == lb.arn)
        })
        .count();
    if on_lb >= MAX_RULES {
        return Err(AwsError::bad_request(
            "TooManyRules",
            format!(
                "A load balancer can have at most {MAX_RULES} rules, default rules not counted"
            ),
        ));
    }
    let rule = Rule {
        arn: arn::rule(listener_arn, &call.world.ids.hex(16)),
        seq: r.elbv2.next_seq(),
        ..rule
    };
    let mut w = call.writer();
    w.list("Rules", [View::Custom(&rule)], render);
    r.elbv2.rules.insert(rule.arn.clone(), rule);
    r.elbv2.refresh_usage(now);
    w.finish()
}

pub fn describe_rules(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let listener_arn = p.str("ListenerArn");
    let arns = p.strings("RuleArns")?;
    let page = Page::read_marker(&p)?;
    call.params()?.finish()?;
    match (listener_arn, arns.is_empty()) {
        (None, true) => {
            return Err(validation(
                "You must specify either listener ARNs or rule ARNs",
            ))
        }
        (Some(_), false) => {
            return Err(validation(
                "Listener ARNs and rule ARNs cannot be specified at the same time",
            ))
        }
        _ => {}
    }
    if let Some(a) = listener_arn {
        arn::check(Kind::Listener, a)?;
    }
    for a in &arns {
        arn::check(Kind::Rule, a)?;
    }
    let lock = common::region(call)?;
    let r = read(&lock);
    let e = &r.elbv2;
    let found: Vec<View<'_>> = match listener_arn {
        Some(a) => {
            let l = e.listeners.get(a).ok_or_else(errors::listener_not_found)?;
            let mut v: Vec<View<'_>> = e.rules_of(a).into_iter().map(View::Custom).collect();
            v.push(View::Default(l));
            v
        }
        None => {
            let mut v = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            for a in &arns {
                let view = find(e, a).ok_or_else(rule_not_found)?;
                if !seen.contains(a) {
                    seen.push(a);
                    v.push(view);
                }
            }
            v
        }
    };
    let (shown, next) = page.apply(found)?;
    let mut w = call.writer();
    w.list("Rules", shown, render);
    w.str_opt("NextMarker", next);
    w.finish()
}

pub fn modify_rule(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let rule_arn = p.required("RuleArn")?;
    // An empty list means "unchanged", as AWS reads it (the SDKs send nothing for one).
    let new_conditions = match p.structs("Conditions")? {
        c if c.is_empty() => None,
        c => Some(conditions::parse(&c)?),
    };
    let new_actions = match p.structs("Actions")? {
        a if a.is_empty() => None,
        a => Some(actions::parse(&a, Of::Rule)?),
    };
    let new_transforms = match p.structs("Transforms")? {
        t if t.is_empty() => None,
        t => Some(transforms::parse(&t)?),
    };
    let reset = p.bool("ResetTransforms")?.unwrap_or(false);
    call.params()?.finish()?;
    arn::check(Kind::Rule, rule_arn)?;
    if reset && new_transforms.is_some() {
        return Err(validation(
            "Transforms and ResetTransforms cannot be specified at the same time",
        ));
    }
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let e = &r.elbv2;
    let current = match find(e, rule_arn).ok_or_else(rule_not_found)? {
        View::Custom(rule) => rule,
        View::Default(_) => return Err(default_rule_refused("modified")),
    };
    let mut next = current.clone();
    if let Some(c) = new_conditions {
        next.conditions = c;
    }
    if let Some(a) = new_actions {
        next.actions = a;
    }
    if let Some(t) = new_transforms {
        next.transforms = t;
    }
    if reset {
        next.transforms.clear();
    }
    let (lb, l) = owners(e, &next.listener_arn)?;
    check_rule(e, lb, l, &next)?;
    let mut w = call.writer();
    w.list("Rules", [View::Custom(&next)], render);
    r.elbv2.rules.insert(next.arn.clone(), next);
    r.elbv2.refresh_usage(now);
    w.finish()
}

pub fn delete_rule(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let rule_arn = p.required("RuleArn")?;
    call.params()?.finish()?;
    arn::check(Kind::Rule, rule_arn)?;
    let now = call.now_ms;
    let lock = common::region(call)?;
    let mut r = write(&lock);
    match find(&r.elbv2, rule_arn).ok_or_else(rule_not_found)? {
        View::Default(_) => return Err(default_rule_refused("deleted")),
        View::Custom(_) => {}
    }
    r.elbv2.rules.remove(rule_arn);
    r.elbv2.refresh_usage(now);
    call.writer().finish()
}

pub fn set_rule_priorities(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let mut pairs: Vec<(&str, i64)> = Vec::new();
    for (i, pair) in p.required_structs("RulePriorities")?.iter().enumerate() {
        let field = |m: &str| format!("rulePriorities.member.{}.{m}", i + 1);
        let priority = pair.int("Priority")?;
        check_range(&field("priority"), priority, 1, 50_000)?;
        let rule_arn = pair.str("RuleArn");
        pairs.push((rule_arn.unwrap_or(""), priority.unwrap_or(0)));
    }
    call.params()?.finish()?;
    for (i, (a, priority)) in pairs.iter().enumerate() {
        if a.is_empty() {
            return Err(validation("A rule ARN must be specified"));
        }
        if *priority == 0 {
            return Err(validation("A rule priority must be specified"));
        }
        arn::check(Kind::Rule, a)?;
        if pairs[..i].iter().any(|(b, _)| b == a) {
            return Err(validation(format!(
                "Rule '{a}' is specified more than once"
            )));
        }
    }
    let lock = common::region(call)?;
    let mut r = write(&lock);
    let e = &r.elbv2;
    for (a, _) in &pairs {
        match find(e, a).ok_or_else(rule_not_found)? {
            View::Default(_) => return Err(default_rule_refused("reprioritized")),
            View::Custom(_) => {}
        }
    }
    // The order after the whole request: no two rules of a listener may share a priority.
    let after = |rule: &Rule| {
        pairs
            .iter()
            .find(|(a, _)| *a == rule.arn)
            .map_or(rule.priority, |(_, p)| *p)
    };
    for (a, priority) in &pairs {
        let Some(moved) = e.rules.get(*a) else {
            return Err(rule_not_found());
        };
        let clash = e
            .rules_of(&moved.listener_arn)
            .into_iter()
            .any(|o| o.arn != moved.arn && after(o) == *priority);
        if clash {
            return Err(priority_in_use(*priority));
        }
    }
    for (a, priority) in &pairs {
        if let Some(rule) = r.elbv2.rules.get_mut(*a) {
            rule.priority = *priority;
        }
    }
    let e = &r.elbv2;
    let mut moved: Vec<&Rule> = pairs.iter().filter_map(|(a, _)| e.rules.get(*a)).collect();
    moved.sort_by_key(|rule| (rule.listener_arn.clone(), rule.priority));
    let mut w = call.writer();
    w.list("Rules", moved.into_iter().map(View::Custom), render);
    w.finish()
}

/// The members of a `Rule`.
fn render(w: &mut Writer, v: View<'_>) {
    match v {
        View::Default(l) => {
            w.str("RuleArn", arn::default_rule(&l.arn))
                .str("Priority", "default");
            conditions::render(w, &[]);
            actions::render(w, &l.actions, Of::Rule);
            w.bool("IsDefault", true);
        }
        View::Custom(rule) => {
            w.str("RuleArn", &rule.arn)
                .str("Priority", rule.priority.to_string());
            conditions::render(w, &rule.conditions);
            actions::render(w, &rule.actions, Of::Rule);
            w.bool("IsDefault", false);
            transforms::render(w, &rule.transforms);
        }
    }
}
