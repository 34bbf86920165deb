//! Property tests across the module: deny always wins, and parsing never panics.
//! (The wildcard matcher's agreement with a reference matcher lives in `wildcard.rs`.)

use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Actions and resources drawn from small sets so that generated statements often overlap.
fn action() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "*",
        "ec2:*",
        "ec2:Describe*",
        "ec2:CreateVolume",
        "EC2:createvolume",
        "ec2:?reateVolume",
        "iam:*",
        "s3:GetObject",
    ])
    .prop_map(str::to_string)
}

fn resource() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "*",
        "arn:aws:ec2:*:*:volume/*",
        "arn:aws:ec2:us-east-1:123456789012:volume/vol-1",
        "arn:aws:s3:::bucket/*",
        "arn:aws:iam::123456789012:user/${aws:username}",
    ])
    .prop_map(str::to_string)
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(vec![
        json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
        json!({"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"Null": {"aws:username": "true"}}),
        json!({"ForAllValues:StringLike": {"aws:TagKeys": "k*"}}),
    ]))
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(action(), 1..3),
        any::<bool>(),
        prop::collection::vec(resource(), 1..3),
        condition(),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, condition)| {
                let mut st = serde_json::Map::new();
                st.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                st.insert(
                    (if not_action { "NotAction" } else { "Action" }).into(),
                    json!(actions),
                );
                st.insert(
                    (if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    })
                    .into(),
                    json!(resources),
                );
                if let Some(c) = condition {
                    st.insert("Condition".into(), c);
                }
                Value::Object(st)
            },
        )
}

fn request() -> impl Strategy<Value = RequestContext> {
    (
        prop::sample::select(vec![
            "ec2:CreateVolume",
            "ec2:DescribeInstances",
            "iam:CreateUser",
            "s3:GetObject",
        ]),
        prop::sample::select(vec![
            "*",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-1",
            "arn:aws:s3:::bucket/key",
            "arn:aws:iam::123456789012:user/alice",
        ]),
        prop::option::of(prop::sample::select(vec!["us-east-1", "eu-west-1"])),
        prop::option::of(prop::sample::select(vec!["10.1.1.1", "192.0.2.1"])),
        prop::option::of(Just("alice")),
        prop::collection::vec(prop::sample::select(vec!["k1", "other"]), 0..3),
    )
        .prop_map(|(action, resource, region, ip, user, tags)| {
            let mut ctx = RequestContext::new(action, resource);
            if let Some(r) = region {
                ctx = ctx.with("aws:RequestedRegion", r);
            }
            if let Some(ip) = ip {
                ctx = ctx.with("aws:SourceIp", ip);
            }
            if let Some(u) = user {
                ctx = ctx.with("aws:username", u);
            }
            for t in tags {
                ctx = ctx.with("aws:TagKeys", t);
            }
            ctx
        })
}

/// Arbitrary JSON, biased towards policy-shaped keys and values so that the parser gets past
/// its first checks.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Principal",
        "NotPrincipal",
        "Sid",
        "Id",
        "AWS",
        "Service",
        "StringLike",
        "ForAllValues:StringEquals",
        "NumericLessThanIfExists",
        "IpAddress",
        "DateGreaterThan",
        "Null",
        "aws:SourceIp",
        "x",
    ])
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "2012-10-17",
            "Allow",
            "Deny",
            "*",
            "ec2:*",
            "arn:aws:s3:::b/${aws:username}",
            "${",
            "10.0.0.0/8",
            "2024-01-01T00:00:00Z",
            "123456789012",
            "arn:aws:iam::123456789012:role/r",
            "true",
            "1.5",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// However the other statements look, one Deny that covers the request decides it.
    #[test]
    fn explicit_deny_always_wins(
        others in prop::collection::vec(statement(), 0..6),
        deny_at in any::<prop::sample::Index>(),
        ctx in request(),
    ) {
        let deny = json!({"Sid": "Guard", "Effect": "Deny", "Action": ctx.action.clone(), "Resource": ctx.resource.clone()});
        let mut statements = others;
        let at = deny_at.index(statements.len() + 1);
        statements.insert(at, deny);
        let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        let doc = PolicyDocument::parse(&text).map_err(|e| TestCaseError::fail(e.message))?;
        let policies = [builtin::admin(), Policy::new("generated", doc), builtin::controlplane()];
        let eval = evaluate(&policies, &ctx);
        prop_assert_eq!(eval.decision, Decision::ExplicitDeny);
        prop_assert!(eval.statement.is_some_and(|s| s.policy == "generated"));
    }

    /// Without any Deny, the decision is Allow exactly when some statement matches.
    #[test]
    fn allow_iff_some_statement_matches(
        allows in prop::collection::vec(statement(), 1..6),
        ctx in request(),
    ) {
        let allows: Vec<Value> = allows
            .into_iter()
            .map(|mut s| { s["Effect"] = json!("Allow"); s })
            .collect();
        let text = json!({"Version": "2012-10-17", "Statement": allows}).to_string();
        let doc = PolicyDocument::parse(&text).map_err(|e| TestCaseError::fail(e.message))?;
        let any = doc.statements().iter().any(|s| s.matches_request(&ctx));
        let eval = evaluate(&[Policy::new("p", doc)], &ctx);
        prop_assert_eq!(eval.is_allowed(), any);
        prop_assert_eq!(eval.decision == Decision::ImplicitDeny, !any);
    }

    #[test]
    fn parse_never_panics_on_json(v in json_value()) {
        let text = v.to_string();
        let _ = PolicyDocument::parse(&text);
        let _ = PolicyDocument::parse_resource_policy(&text);
        let wrapped = json!({"Version": "2012-10-17", "Statement": v}).to_string();
        if let Ok(doc) = PolicyDocument::parse(&wrapped) {
            // Whatever parsed must also evaluate without panicking.
            let ctx = RequestContext::new("ec2:CreateVolume", "*").with("aws:SourceIp", "10.0.0.1");
            let _ = evaluate(&[Policy::new("p", doc)], &ctx);
        }
    }

    #[test]
    fn parse_never_panics_on_strings(s in ".{0,200}") {
        let _ = PolicyDocument::parse(&s);
        let _ = PolicyDocument::parse_resource_policy(&s);
    }

    #[test]
    fn parse_never_panics_on_policy_like_text(s in r#"[{}\[\]":,$* a-zA-Z0-9]{0,120}"#) {
        let _ = PolicyDocument::parse(&s);
    }
}
