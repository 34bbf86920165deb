//! ELBv2 ARNs, in AWS's forms:
//!
//! - `arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/16HEX` (`net`, `gwy`)
//! - `…:targetgroup/NAME/16HEX`
//! - `…:listener/app/LBNAME/LBHEX/16HEX`
//! - `…:listener-rule/app/LBNAME/LBHEX/LISTENERHEX/16HEX`
//!
//! A string without the shape is a `ValidationError` ("'x' is not a valid load balancer ARN"); a
//! well-formed ARN of nothing (another region, a deleted resource) is the kind's NotFound.

use crate::protocol::AwsResult;

use super::errors;
use super::model::LbType;

/// The resource kinds an ELBv2 ARN can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LoadBalancer,
    TargetGroup,
    Listener,
    Rule,
}

impl Kind {
    /// How AWS names the kind in its messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::LoadBalancer => "load balancer",
            Kind::TargetGroup => "target group",
            Kind::Listener => "listener",
            Kind::Rule => "listener rule",
        }
    }
}

fn prefix(region: &str, account: &str) -> String {
    format!("arn:aws:elasticloadbalancing:{region}:{account}")
}

pub fn load_balancer(region: &str, account: &str, kind: LbType, name: &str, id: &str) -> String {
    format!(
        "{}:loadbalancer/{}/{name}/{id}",
        prefix(region, account),
        kind.arn_segment()
    )
}

pub fn target_group(region: &str, account: &str, name: &str, id: &str) -> String {
    format!("{}:targetgroup/{name}/{id}", prefix(region, account))
}

/// A listener's ARN: its load balancer's, under `listener/`, plus the listener's own id.
pub fn listener(lb_arn: &str, id: &str) -> String {
    format!(
        "{}/{id}",
        lb_arn.replacen(":loadbalancer/", ":listener/", 1)
    )
}

/// A listener rule's ARN: its listener's, under `listener-rule/`, plus the rule's own id.
pub fn rule(listener_arn: &str, id: &str) -> String {
    format!(
        "{}/{id}",
        listener_arn.replacen(":listener/", ":listener-rule/", 1)
    )
}

/// The ARN of a listener's default rule. Its id is a hash of the listener's ARN rather than one
/// drawn from the seeded generator, so that adding rules did not shift the ids every seeded run
/// had made before (and a listener needs nothing stored to know its default rule).
pub fn default_rule(listener_arn: &str) -> String {
    // FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in listener_arn.bytes().chain(*b"/default") {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    rule(listener_arn, &format!("{h:016x}"))
}

/// The kind of a well-formed ELBv2 ARN, or `None` when the string is not one.
pub fn kind_of(arn: &str) -> Option<Kind> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *scheme != "arn"
        || !partition.starts_with("aws")
        || *service != "elasticloadbalancing"
        || region.is_empty()
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let segments: Vec<&str> = resource.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let typed =
        |n: usize| segments.len() == n && matches!(segments.get(1), Some(&"app" | &"net" | &"gwy"));
    match segments.first() {
        Some(&"loadbalancer") if typed(4) => Some(Kind::LoadBalancer),
        Some(&"targetgroup") if segments.len() == 3 => Some(Kind::TargetGroup),
        Some(&"listener") if typed(5) => Some(Kind::Listener),
        Some(&"listener-rule") if typed(6) => Some(Kind::Rule),
        _ => None,
    }
}

/// Refuses a string that is not an ARN of `kind`.
pub fn check(kind: Kind, arn: &str) -> AwsResult<()> {
    if kind_of(arn) == Some(kind) {
        Ok(())
    } else {
        Err(errors::invalid_arn(kind.noun(), arn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_kinds() {
        let lb = load_balancer(
            "us-east-1",
            "123456789012",
            LbType::Network,
            "a",
            "d77f22f8721a127c",
        );
        assert_eq!(
            lb,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/a/d77f22f8721a127c"
        );
        assert_eq!(kind_of(&lb), Some(Kind::LoadBalancer));
        let l = listener(&lb, "f2f7dc8efc522ab2");
        assert_eq!(
            l,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/d77f22f8721a127c/f2f7dc8efc522ab2"
        );
        assert_eq!(kind_of(&l), Some(Kind::Listener));
        let tg = target_group("us-east-1", "123456789012", "t", "73e2d6bc24d8a067");
        assert_eq!(kind_of(&tg), Some(Kind::TargetGroup));
        assert_eq!(kind_of("ec2-spot-converter"), None);
        assert_eq!(
            kind_of("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/xyz/a/b"),
            None
        );
        assert_eq!(
            check(Kind::TargetGroup, "nope").unwrap_err().message,
            "'nope' is not a valid target group ARN"
        );
        assert!(check(Kind::TargetGroup, &lb).is_err());
        let d = default_rule(&l);
        assert_eq!(kind_of(&d), Some(Kind::Rule));
        assert!(d.starts_with(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/net/a/d77f22f8721a127c/f2f7dc8efc522ab2/"
        ));
        assert_eq!(
            d,
            default_rule(&l),
            "the same listener, the same default rule"
        );
        assert_ne!(d, default_rule(&listener(&lb, "f2f7dc8efc522ab3")));
    }
}
