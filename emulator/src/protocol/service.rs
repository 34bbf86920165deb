//! The services awsemu answers for, and the wire facts that tell them apart (DESIGN.md, "Wire facts").

use std::fmt;

/// The three wire protocols of the services we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// EC2's own query dialect: `Name.N` lists, `<item>` in responses, `<Response><Errors>` errors.
    Ec2Query,
    /// awsQuery: `Name.member.N` lists, `<member>` in responses, `<ErrorResponse>` errors.
    AwsQuery,
    /// awsJson1_1: `X-Amz-Target` picks the operation, JSON in and out.
    AwsJson,
}

/// One AWS API. The two ELB APIs are separate services here although they share a signing name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceId {
    Ec2,
    Elb,
    Elbv2,
    Autoscaling,
    Iam,
    Sts,
    Kms,
    Ecr,
}

impl ServiceId {
    pub const ALL: [ServiceId; 8] = [
        ServiceId::Ec2,
        ServiceId::Elb,
        ServiceId::Elbv2,
        ServiceId::Autoscaling,
        ServiceId::Iam,
        ServiceId::Sts,
        ServiceId::Kms,
        ServiceId::Ecr,
    ];

    /// Our short name, as in botocore's data folders and in logs.
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::Ec2 => "ec2",
            ServiceId::Elb => "elb",
            ServiceId::Elbv2 => "elbv2",
            ServiceId::Autoscaling => "autoscaling",
            ServiceId::Iam => "iam",
            ServiceId::Sts => "sts",
            ServiceId::Kms => "kms",
            ServiceId::Ecr => "ecr",
        }
    }

    /// The prefix of this service's actions in IAM policies (`elasticloadbalancing:` for both ELB APIs).
    pub fn iam_prefix(self) -> &'static str {
        match self {
            ServiceId::Elb | ServiceId::Elbv2 => "elasticloadbalancing",
            other => other.name(),
        }
    }

    /// The SigV4 signing name clients put in the credential scope.
    pub fn signing_name(self) -> &'static str {
        self.iam_prefix()
    }

    pub fn protocol(self) -> Protocol {
        match self {
            ServiceId::Ec2 => Protocol::Ec2Query,
            ServiceId::Kms | ServiceId::Ecr => Protocol::AwsJson,
            _ => Protocol::AwsQuery,
        }
    }

    /// The `Version` parameter of the query APIs.
    pub fn api_version(self) -> &'static str {
        match self {
            ServiceId::Ec2 => "2016-11-15",
            ServiceId::Elb => "2012-06-01",
            ServiceId::Elbv2 => "2015-12-01",
            ServiceId::Autoscaling => "2011-01-01",
            ServiceId::Iam => "2010-05-08",
            ServiceId::Sts => "2011-06-15",
            ServiceId::Kms => "2014-11-01",
            ServiceId::Ecr => "2015-09-21",
        }
    }

    /// The XML namespace of responses (query services only).
    pub fn xml_namespace(self) -> &'static str {
        match self {
            ServiceId::Ec2 => "http://ec2.amazonaws.com/doc/2016-11-15/",
            ServiceId::Elb => "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
            ServiceId::Elbv2 => "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
            ServiceId::Autoscaling => "http://autoscaling.amazonaws.com/doc/2011-01-01/",
            ServiceId::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            ServiceId::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            ServiceId::Kms | ServiceId::Ecr => "",
        }
    }

    /// The `X-Amz-Target` prefix of the JSON services.
    pub fn json_target_prefix(self) -> Option<&'static str> {
        match self {
            ServiceId::Kms => Some("TrentService"),
            ServiceId::Ecr => Some("AmazonEC2ContainerRegistry_V20150921"),
            _ => None,
        }
    }

    /// Services that are global in AWS: their ARNs carry no region.
    pub fn is_global(self) -> bool {
        matches!(self, ServiceId::Iam)
    }

    /// The query service whose `Version` this is.
    pub fn from_version(version: &str) -> Option<ServiceId> {
        Self::ALL
            .into_iter()
            .find(|s| s.protocol() != Protocol::AwsJson && s.api_version() == version)
    }

    /// The JSON service an `X-Amz-Target` names, with the operation after the dot.
    pub fn from_target(target: &str) -> Option<(ServiceId, &str)> {
        let (prefix, op) = target.split_once('.')?;
        Self::ALL
            .into_iter()
            .find(|s| s.json_target_prefix() == Some(prefix))
            .map(|s| (s, op))
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_targets_pick_services() {
        assert_eq!(ServiceId::from_version("2012-06-01"), Some(ServiceId::Elb));
        assert_eq!(
            ServiceId::from_version("2015-12-01"),
            Some(ServiceId::Elbv2)
        );
        assert_eq!(ServiceId::from_version("2016-11-15"), Some(ServiceId::Ec2));
        assert_eq!(ServiceId::from_version("2014-11-01"), None);
        assert_eq!(
            ServiceId::from_target("TrentService.DescribeKey"),
            Some((ServiceId::Kms, "DescribeKey"))
        );
        assert_eq!(ServiceId::from_target("Nope.DescribeKey"), None);
        assert_eq!(ServiceId::Elbv2.iam_prefix(), "elasticloadbalancing");
    }
}
