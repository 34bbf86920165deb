//! The decision: explicit Deny beats Allow, Allow beats the implicit deny.
//!
//! This runs for every request, so it only walks precompiled statements, stops at the first
//! matching Deny, skips further Allow statements once one has matched, and builds the
//! [`StatementRef`] (the only allocation) once, for the deciding statement.

use super::context::RequestContext;
use super::policy::{statement_label, Effect, PolicyDocument, Statement};
pub use super::principal::Caller;
use std::fmt;
use std::sync::Arc;

/// A named policy attached to a principal.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub document: Arc<PolicyDocument>,
}

impl Policy {
    pub fn new(name: impl Into<String>, document: PolicyDocument) -> Policy {
        Policy {
            name: name.into(),
            document: Arc::new(document),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// Which statement decided, for logs, error messages and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub policy: String,
    /// Position in the policy's statement list, from 0.
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "policy {:?}, {}",
            self.policy,
            statement_label(self.index, self.sid.as_deref())
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The statement that decided; `None` for an implicit deny.
    pub statement: Option<StatementRef>,
}

impl Evaluation {
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    fn implicit_deny() -> Evaluation {
        Evaluation {
            decision: Decision::ImplicitDeny,
            statement: None,
        }
    }
}

fn statement_ref(policy: &str, index: usize, st: &Statement) -> StatementRef {
    StatementRef {
        policy: policy.to_string(),
        index,
        sid: st.sid().map(str::to_string),
    }
}

/// The core loop over `(policy name, document)` pairs. `applies` adds what the caller knows
/// beyond the request (the principal, for resource policies).
fn decide<'p>(
    policies: impl Iterator<Item = (&'p str, &'p PolicyDocument)>,
    ctx: &RequestContext,
    applies: impl Fn(&Statement) -> bool,
) -> Evaluation {
    let mut allow: Option<(&str, usize, &Statement)> = None;
    for (name, doc) in policies {
        for (index, st) in doc.statements().iter().enumerate() {
            if st.effect() == Effect::Allow && allow.is_some() {
                continue;
            }
            if !st.matches_request(ctx) || !applies(st) {
                continue;
            }
            match st.effect() {
                Effect::Deny => {
                    return Evaluation {
                        decision: Decision::ExplicitDeny,
                        statement: Some(statement_ref(name, index, st)),
                    }
                }
                Effect::Allow => allow = Some((name, index, st)),
            }
        }
    }
    match allow {
        Some((name, index, st)) => Evaluation {
            decision: Decision::Allow,
            statement: Some(statement_ref(name, index, st)),
        },
        None => Evaluation::implicit_deny(),
    }
}

/// Evaluates the identity policies attached to a principal.
///
/// Identity policies have no `Principal`. Should a resource-policy document be passed here
/// anyway, its statements are read conservatively, since the caller is unknown: an Allow that
/// names principals allows nothing, a Deny that names principals denies everyone.
pub fn evaluate(policies: &[Policy], ctx: &RequestContext) -> Evaluation {
    decide(
        policies
            .iter()
            .map(|p| (p.name.as_str(), p.document.as_ref())),
        ctx,
        |st| st.principal().is_none() || st.effect() == Effect::Deny,
    )
}

/// Evaluates a resource policy (e.g. a role trust policy for `sts:AssumeRole`): does it allow
/// `caller` to perform `ctx.action` on `ctx.resource`? The deciding statement is reported under
/// the document's `Id`, or as "resource policy".
///
/// A statement without a principal (only possible in a document parsed as an identity policy)
/// is read conservatively: it never allows, and it denies everyone.
pub fn evaluate_resource_policy(
    doc: &PolicyDocument,
    caller: &Caller,
    ctx: &RequestContext,
) -> Evaluation {
    let name = doc.id().unwrap_or("resource policy");
    decide(std::iter::once((name, doc)), ctx, |st| {
        match st.principal() {
            Some(p) => p.applies_to(caller),
            None => st.effect() == Effect::Deny,
        }
    })
}

/// One line for humans (the CLI, logs): the decision and the statement behind it.
pub fn explain(eval: &Evaluation) -> String {
    match (eval.decision, &eval.statement) {
        (Decision::Allow, Some(st)) => format!("allow: {st}"),
        (Decision::Allow, None) => "allow".to_string(),
        (Decision::ExplicitDeny, Some(st)) => format!("deny: explicit deny by {st}"),
        (Decision::ExplicitDeny, None) => "deny: explicit deny".to_string(),
        (Decision::ImplicitDeny, _) => {
            "deny: no statement allows the action (implicit deny)".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, text: &str) -> Policy {
        Policy::new(
            name,
            PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}")),
        )
    }

    fn ctx(action: &str) -> RequestContext {
        RequestContext::new(action, "*")
    }

    #[test]
    fn no_policies_is_implicit_deny() {
        let e = evaluate(&[], &ctx("ec2:DescribeInstances"));
        assert_eq!(e, Evaluation::implicit_deny());
        assert_eq!(
            explain(&e),
            "deny: no statement allows the action (implicit deny)"
        );
    }

    #[test]
    fn allow_reports_the_first_allowing_statement() {
        let p = policy(
            "worker",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ec2:CreateVolume", "Resource": "*"},
                {"Sid": "AllowDescribe", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
                {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}"#,
        );
        let e = evaluate(&[p], &ctx("ec2:DescribeInstances"));
        assert!(e.is_allowed());
        let st = e.statement.as_ref().unwrap();
        assert_eq!(
            (st.policy.as_str(), st.index, st.sid.as_deref()),
            ("worker", 1, Some("AllowDescribe"))
        );
        assert_eq!(
            st.to_string(),
            r#"policy "worker", statement 1 (Sid "AllowDescribe")"#
        );
        assert_eq!(
            explain(&e),
            r#"allow: policy "worker", statement 1 (Sid "AllowDescribe")"#
        );
    }

    #[test]
    fn explicit_deny_beats_allow_across_policies() {
        let allow = policy(
            "admin",
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        );
        let deny = policy(
            "guard",
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "ec2:Delete*", "Resource": "*"}]}"#,
        );
        let policies = [allow, deny];
        let e = evaluate(&policies, &ctx("ec2:DeleteVolume"));
        assert_eq!(e.decision, Decision::ExplicitDeny);
        assert_eq!(
            explain(&e),
            r#"deny: explicit deny by policy "guard", statement 1"#
        );
        assert!(evaluate(&policies, &ctx("ec2:CreateVolume")).is_allowed());
    }

    #[test]
    fn deny_with_unmet_condition_does_not_apply() {
        let p = policy(
            "p",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#,
        );
        let policies = [p];
        assert!(evaluate(
            &policies,
            &ctx("ec2:RunInstances").with("aws:SourceIp", "10.1.2.3")
        )
        .is_allowed());
        assert_eq!(
            evaluate(
                &policies,
                &ctx("ec2:RunInstances").with("aws:SourceIp", "192.0.2.1")
            )
            .decision,
            Decision::ExplicitDeny
        );
        // Key absent: NotIpAddress holds, so the Deny applies.
        assert_eq!(
            evaluate(&policies, &ctx("ec2:RunInstances")).decision,
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn resource_policy_principals() {
        let trust = PolicyDocument::parse_resource_policy(
            r#"{"Version": "2012-10-17", "Id": "node-trust", "Statement": [
                {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
                {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:user/mallory"}, "Action": "*"}]}"#,
        )
        .unwrap();
        let assume = ctx("sts:AssumeRole");
        let e = evaluate_resource_policy(&trust, &Caller::Service("ec2.amazonaws.com"), &assume);
        assert!(e.is_allowed());
        assert_eq!(
            explain(&e),
            r#"allow: policy "node-trust", statement 0 (Sid "Ec2")"#
        );
        let alice = Caller::Aws {
            arn: "arn:aws:iam::123456789012:user/alice",
            account: "123456789012",
        };
        assert!(evaluate_resource_policy(&trust, &alice, &assume).is_allowed());
        let mallory = Caller::Aws {
            arn: "arn:aws:iam::123456789012:user/mallory",
            account: "123456789012",
        };
        assert_eq!(
            evaluate_resource_policy(&trust, &mallory, &assume).decision,
            Decision::ExplicitDeny
        );
        let stranger = Caller::Aws {
            arn: "arn:aws:iam::999999999999:user/x",
            account: "999999999999",
        };
        assert_eq!(
            evaluate_resource_policy(&trust, &stranger, &assume).decision,
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate_resource_policy(&trust, &Caller::Service("lambda.amazonaws.com"), &assume)
                .decision,
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate_resource_policy(
                &trust,
                &Caller::Service("ec2.amazonaws.com"),
                &ctx("sts:TagSession")
            )
            .decision,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn not_principal_deny() {
        let doc = PolicyDocument::parse_resource_policy(
            r#"{"Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},
                {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/node"}, "Action": "kms:Decrypt"}]}"#,
        )
        .unwrap();
        let node = Caller::Aws {
            arn: "arn:aws:sts::123456789012:assumed-role/node/i-1",
            account: "123456789012",
        };
        let other = Caller::Aws {
            arn: "arn:aws:iam::123456789012:user/bob",
            account: "123456789012",
        };
        let decrypt = ctx("kms:Decrypt");
        let e = evaluate_resource_policy(&doc, &node, &decrypt);
        assert!(e.is_allowed());
        assert_eq!(
            explain(&e),
            r#"allow: policy "resource policy", statement 0"#
        );
        assert_eq!(
            evaluate_resource_policy(&doc, &other, &decrypt).decision,
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn mixed_up_document_kinds_fail_closed() {
        let resource = PolicyDocument::parse_resource_policy(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "ec2:*"},
                {"Effect": "Deny", "Principal": {"AWS": "999999999999"}, "Action": "ec2:Delete*"}]}"#,
        )
        .unwrap();
        let as_identity = [Policy::new("r", resource)];
        assert_eq!(
            evaluate(&as_identity, &ctx("ec2:RunInstances")).decision,
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&as_identity, &ctx("ec2:DeleteVolume")).decision,
            Decision::ExplicitDeny
        );
        let identity = PolicyDocument::parse(
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}"#,
        )
        .unwrap();
        let caller = Caller::Service("ec2.amazonaws.com");
        assert_eq!(
            evaluate_resource_policy(&identity, &caller, &ctx("ec2:RunInstances")).decision,
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate_resource_policy(&identity, &caller, &ctx("iam:GetRole")).decision,
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn explain_forms() {
        let by = StatementRef {
            policy: "controlplane".into(),
            index: 0,
            sid: None,
        };
        let allow = Evaluation {
            decision: Decision::Allow,
            statement: Some(by.clone()),
        };
        assert_eq!(
            explain(&allow),
            r#"allow: policy "controlplane", statement 0"#
        );
        let deny = Evaluation {
            decision: Decision::ExplicitDeny,
            statement: Some(by),
        };
        assert_eq!(
            explain(&deny),
            r#"deny: explicit deny by policy "controlplane", statement 0"#
        );
    }
}
