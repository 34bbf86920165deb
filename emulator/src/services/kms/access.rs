//! Who may use a KMS key, as KMS decides it: the key policy first, the caller's IAM policies only
//! where the key policy hands the decision to them; and the requests EBS makes with the caller's
//! permissions when it encrypts a volume ([`ebs_requests`]).
//!
//! KMS differs from most services here: an identity policy alone never opens a key. A key policy
//! statement whose principal is the account (`arn:aws:iam::ACCOUNT:root`, as in the default key
//! policy) gives nothing by itself; it lets the account's IAM policies decide. A statement naming
//! the caller, its role, or any AWS principal (`"AWS": "*"`, as AWS managed keys do with
//! `kms:ViaService` and `kms:CallerAccount` conditions) allows on its own. An explicit Deny in
//! either kind of policy wins. Both are evaluated by [`crate::iam`]; this module only combines
//! the two decisions. Grants are not emulated.

use crate::iam::{
    evaluate, evaluate_resource_policy, Caller, Decision, Policy, PolicyDocument, RequestContext,
};
use crate::protocol::AwsError;

/// Why KMS refuses a request, in the words of its `AccessDeniedException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No key policy statement allows the caller, nor the account (which would defer to IAM).
    NoKeyPolicyAllow,
    KeyPolicyDeny,
    /// The key policy defers to IAM, and no identity policy allows the action.
    NoIdentityAllow,
    IdentityDeny,
}

impl Refusal {
    /// KMS's `AccessDeniedException` for `caller_arn` doing `action` on `key_arn`.
    pub fn error(self, caller_arn: &str, action: &str, key_arn: &str) -> AwsError {
        let why = match self {
            Refusal::NoKeyPolicyAllow => {
                format!("because no resource-based policy allows the {action} action")
            }
            Refusal::KeyPolicyDeny => "with an explicit deny in a resource-based policy".into(),
            Refusal::NoIdentityAllow => {
                format!("because no identity-based policy allows the {action} action")
            }
            Refusal::IdentityDeny => "with an explicit deny in an identity-based policy".into(),
        };
        AwsError::bad_request(
            "AccessDeniedException",
            format!("User: {caller_arn} is not authorized to perform: {action} on resource: {key_arn} {why}"),
        )
    }
}

/// KMS's decision on `ctx` (action, key ARN, condition keys) for the caller `caller_arn` of
/// `account`, whose identity policies are `identity`, on a key whose policy is `key_policy`.
pub fn decide(
    key_policy: &PolicyDocument,
    identity: &[Policy],
    caller_arn: &str,
    account: &str,
    ctx: &RequestContext,
) -> Result<(), Refusal> {
    let by_key = evaluate_resource_policy(
        key_policy,
        &Caller::Aws {
            arn: caller_arn,
            account,
        },
        ctx,
    );
    if by_key.decision == Decision::ExplicitDeny {
        return Err(Refusal::KeyPolicyDeny);
    }
    let by_iam = evaluate(identity, ctx);
    if by_iam.decision == Decision::ExplicitDeny {
        return Err(Refusal::IdentityDeny);
    }
    if !by_key.is_allowed() {
        return Err(Refusal::NoKeyPolicyAllow);
    }
    // Allowed by the key policy: on its own when a statement applies to the caller without
    // counting account principals (the caller's ARN, its role, `*`), else only through the
    // account, which leaves the decision to IAM. (A `NotPrincipal` Deny naming the account would
    // read as applying here and send the decision to IAM: the conservative side.)
    let direct = evaluate_resource_policy(
        key_policy,
        &Caller::Aws {
            arn: caller_arn,
            account: "",
        },
        ctx,
    )
    .is_allowed();
    if direct || by_iam.is_allowed() {
        Ok(())
    } else {
        Err(Refusal::NoIdentityAllow)
    }
}

/// The KMS requests EBS makes with the caller's permissions (forward access) when it creates an
/// encrypted volume: it describes the key, creates a grant for the EC2 infrastructure to decrypt
/// the volume's data key later (`kms:GrantIsForAWSResource`, constrained to the volume's
/// encryption context), generates the data key, and decrypts it. Each comes with the condition
/// keys KMS sets for it; the caller's own request context (`base`: principal keys, time, region)
/// is shared, except `aws:SourceIp`, which is EBS's and not the caller's, so absent.
pub fn ebs_requests(
    base: &RequestContext,
    region: &str,
    account: &str,
    volume_id: &str,
    key_tags: &[(String, String)],
) -> Vec<RequestContext> {
    let mut out = Vec::new();
    for action in EBS_ACTIONS {
        let mut ctx = base.clone();
        ctx.action = action.to_string();
        ctx.set("aws:SourceIp", Vec::new());
        ctx.set("aws:ViaAWSService", vec!["true".into()]);
        ctx.set(
            "kms:ViaService",
            vec![format!("ec2.{region}.amazonaws.com")],
        );
        ctx.set("kms:CallerAccount", vec![account.to_string()]);
        for (k, v) in key_tags {
            ctx.set(&format!("aws:ResourceTag/{k}"), vec![v.clone()]);
        }
        if *action != "kms:DescribeKey" {
            ctx.set("kms:EncryptionContextKeys", vec![EBS_CONTEXT_KEY.into()]);
            ctx.set(
                &format!("kms:EncryptionContext:{EBS_CONTEXT_KEY}"),
                vec![volume_id.to_string()],
            );
        }
        if *action == "kms:CreateGrant" {
            ctx.set("kms:GrantIsForAWSResource", vec!["true".into()]);
            ctx.set("kms:GrantOperations", vec!["Decrypt".into()]);
            ctx.set(
                "kms:GrantConstraintType",
                vec!["EncryptionContextSubset".into()],
            );
        }
        out.push(ctx);
    }
    out
}

/// The actions of [`ebs_requests`], in the order EBS makes them.
pub const EBS_ACTIONS: &[&str] = &[
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:Decrypt",
];

/// The encryption context key EBS binds a volume's data key to; its value is the volume id.
pub const EBS_CONTEXT_KEY: &str = "aws:ebs:id";

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/k";
    const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/csi/s";

    fn key_policy(text: &str) -> PolicyDocument {
        PolicyDocument::parse_resource_policy(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn identity(text: &str) -> Vec<Policy> {
        vec![Policy::new(
            "p",
            PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}")),
        )]
    }

    fn requests() -> Vec<RequestContext> {
        let base = RequestContext::new("ec2:CreateVolume", KEY).with("aws:SourceIp", "10.0.0.1");
        ebs_requests(
            &base,
            "us-east-1",
            ACCOUNT,
            "vol-1",
            &[("team".into(), "storage".into())],
        )
    }

    fn all(key: &PolicyDocument, iam: &[Policy]) -> Vec<Result<(), Refusal>> {
        requests()
            .iter()
            .map(|ctx| decide(key, iam, SESSION, ACCOUNT, ctx))
            .collect()
    }

    const ROOT: &str = r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}"#;

    #[test]
    fn the_account_principal_defers_to_iam() {
        let key = key_policy(ROOT);
        assert!(all(&key, &[])
            .iter()
            .all(|r| *r == Err(Refusal::NoIdentityAllow)));
        let csi = identity(
            r#"{"Statement": [
                {"Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": "*",
                 "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"}]}"#,
        );
        assert!(all(&key, &csi).iter().all(Result::is_ok));
        let deny = identity(
            r#"{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"}]}"#,
        );
        assert_eq!(all(&key, &deny)[1], Err(Refusal::IdentityDeny));
        assert!(all(&key, &deny)[2].is_ok());
    }

    #[test]
    fn a_key_policy_naming_the_role_allows_without_iam() {
        let key = key_policy(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/csi"}, "Action": "kms:*", "Resource": "*"}]}"#,
        );
        assert!(all(&key, &[]).iter().all(Result::is_ok));
        let other = key_policy(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/other"}, "Action": "kms:*", "Resource": "*"}]}"#,
        );
        let admin =
            identity(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#);
        assert!(all(&other, &admin)
            .iter()
            .all(|r| *r == Err(Refusal::NoKeyPolicyAllow)));
    }

    #[test]
    fn the_aws_managed_key_policy_allows_any_principal_through_ec2() {
        let key = key_policy(&super::super::keys::managed_policy(
            ACCOUNT,
            "us-east-1",
            "ebs",
        ));
        assert!(all(&key, &[]).iter().all(Result::is_ok));
        // Another region's EC2, or a direct call, is not EBS.
        let base = RequestContext::new("kms:Decrypt", KEY);
        let west = ebs_requests(&base, "us-west-2", ACCOUNT, "vol-1", &[]);
        assert_eq!(
            decide(&key, &[], SESSION, ACCOUNT, &west[3]),
            Err(Refusal::NoKeyPolicyAllow)
        );
    }

    #[test]
    fn condition_keys_of_each_request() {
        let r = requests();
        assert_eq!(
            r.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(),
            EBS_ACTIONS
        );
        let one = |i: usize, k: &str| r[i].get(k).and_then(|v| v.first()).cloned();
        for (i, _) in EBS_ACTIONS.iter().enumerate() {
            assert_eq!(
                one(i, "kms:ViaService").as_deref(),
                Some("ec2.us-east-1.amazonaws.com")
            );
            assert_eq!(one(i, "kms:CallerAccount").as_deref(), Some(ACCOUNT));
            assert_eq!(one(i, "aws:ResourceTag/team").as_deref(), Some("storage"));
            assert_eq!(one(i, "aws:SourceIp"), None);
        }
        assert_eq!(one(0, "kms:EncryptionContextKeys"), None);
        assert_eq!(one(1, "kms:GrantIsForAWSResource").as_deref(), Some("true"));
        assert_eq!(one(1, "kms:GrantOperations").as_deref(), Some("Decrypt"));
        assert_eq!(one(2, "kms:GrantIsForAWSResource"), None);
        assert_eq!(
            one(3, "kms:EncryptionContext:aws:ebs:id").as_deref(),
            Some("vol-1")
        );
        let err = Refusal::NoIdentityAllow.error(SESSION, "kms:CreateGrant", KEY);
        assert_eq!(err.code, "AccessDeniedException");
        assert_eq!(
            err.message,
            format!("User: {SESSION} is not authorized to perform: kms:CreateGrant on resource: {KEY} because no identity-based policy allows the kms:CreateGrant action")
        );
    }
}
