//! Auto Scaling (awsQuery `2011-01-01`): launch configurations ([`launch_configurations`]), groups
//! ([`groups`]) that launch from a launch configuration or an EC2 launch template
//! ([`launch_source`]) and keep their desired capacity of real EC2 instances ([`capacity`],
//! [`instances`]) with their scaling activities ([`activities`]), group tags
//! ([`tags`]), and the load balancers and target groups a group registers its instances with
//! ([`traffic`] for the registrations, [`traffic_sources`] for the Attach/Detach/Describe
//! actions). [`model`] holds the state, inside the region's EC2 state.
//!
//! Every handler decodes its input, then locks the region and first lets the groups catch up with
//! what happened to their instances since the last call ([`capacity::reconcile`]): instances that
//! terminated leave, unhealthy ones are replaced, groups being deleted go once empty. AWS does this
//! in the background; here it happens at the next Auto Scaling call, on the virtual clock.

pub mod activities;
pub mod capacity;
pub mod groups;
pub mod instances;
pub mod launch_configurations;
pub mod launch_source;
pub mod model;
pub mod tags;
pub mod traffic;
pub mod traffic_sources;

use crate::protocol::{AwsError, AwsResult, Scope};
use crate::services::ec2::common;
use crate::services::ec2::model::Ec2Region;
use crate::state::{paging, write};

use super::action::Action;
use super::Call;

/// The Auto Scaling actions, by family. None is scoped to a resource here (`*`).
pub const ACTIONS: &[&[Action]] = &[
    launch_configurations::ACTIONS,
    groups::ACTIONS,
    instances::ACTIONS,
    activities::ACTIONS,
    tags::ACTIONS,
    traffic_sources::ACTIONS,
];

/// Runs `f` on the call's region, locked, after the groups have caught up with their instances.
pub fn with_region<T>(
    call: &Call<'_>,
    f: impl FnOnce(&mut Ec2Region) -> AwsResult<T>,
) -> AwsResult<T> {
    let lock = common::region(call)?;
    let mut region = write(&lock);
    capacity::reconcile(&mut region, call);
    f(&mut region)
}

/// `ValidationError`, Auto Scaling's code for nearly every refusal.
pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationError", message)
}

/// The request validator's wording for one broken constraint, e.g. `1 validation error detected:
/// Value '' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length
/// greater than or equal to 1`.
pub fn constraint(value: impl std::fmt::Display, path: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {rule}"
    ))
}

/// The pattern of the model's `XmlString` shapes: no control characters but tab, CR and LF.
const XML_STRING_PATTERN: &str = r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*";

/// Checks a string member against its shape: `min..=max` characters of `XmlString`.
pub fn check_string(value: &str, path: &str, min: usize, max: usize) -> AwsResult<()> {
    let len = value.chars().count();
    if len < min {
        return Err(constraint(
            value,
            path,
            &format!("have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(constraint(
            value,
            path,
            &format!("have length less than or equal to {max}"),
        ));
    }
    if value
        .chars()
        .any(|c| c < '\u{20}' && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(constraint(
            value,
            path,
            &format!("satisfy regular expression pattern: {XML_STRING_PATTERN}"),
        ));
    }
    Ok(())
}

/// A required name member (`AutoScalingGroupName`, `LaunchConfigurationName`): 1 to 255 characters.
pub fn required_name<'a>(p: &Scope<'a>, member: &str) -> AwsResult<&'a str> {
    let name = p.required(member)?;
    check_string(name, &lower_first(member), 1, 255)?;
    Ok(name)
}

/// `AutoScalingGroupName` -> `autoScalingGroupName`, as the validator names members.
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The ARN of a group or launch configuration: `arn:aws:autoscaling:REGION:ACCOUNT:KIND:UUID:KINDName/NAME`.
pub fn arn(call: &Call<'_>, kind: &str, name: &str) -> String {
    let uuid = call.world.ids.request_id();
    format!(
        "arn:aws:autoscaling:{}:{}:{kind}:{uuid}:{kind}Name/{name}",
        call.region, call.account
    )
}

/// The group's not-found answer for Update and Delete.
pub fn group_not_found(name: &str) -> AwsError {
    validation(format!(
        "AutoScalingGroup name not found - AutoScalingGroup '{name}' not found"
    ))
}

/// `MaxRecords` / `NextToken` of the Describe calls: 1 to 100 records a page, 50 by default.
pub struct Records<'a> {
    max: Option<i64>,
    token: Option<&'a str>,
}

impl<'a> Records<'a> {
    pub fn read(p: &Scope<'a>) -> AwsResult<Records<'a>> {
        Ok(Records {
            max: p.int("MaxRecords")?,
            token: p.str("NextToken"),
        })
    }

    /// One page of the sorted `items` and the token of the next (50 a page by default, at most 100).
    pub fn apply<T>(&self, items: Vec<T>) -> AwsResult<(Vec<T>, Option<String>)> {
        self.apply_within(items, 50, 100)
    }

    /// The same with the action's own default and largest page (DescribeLoadBalancers: 100 and
    /// 100; DescribeTrafficSources: at most 50).
    pub fn apply_within<T>(
        &self,
        items: Vec<T>,
        default: i64,
        largest: i64,
    ) -> AwsResult<(Vec<T>, Option<String>)> {
        let max = self.max.unwrap_or(default);
        if max < 1 {
            return Err(constraint(
                max,
                "maxRecords",
                "have value greater than or equal to 1",
            ));
        }
        if max > largest {
            return Err(constraint(
                max,
                "maxRecords",
                &format!("have value less than or equal to {largest}"),
            ));
        }
        paging::page(items, Some(max), self.token, (1, largest)).map_err(|_| {
            AwsError::bad_request("InvalidNextToken", "The token provided is not valid.")
        })
    }
}

/// `Filters.member.N` of the Describe calls: (name, values), filters of one name merged into one
/// (AWS ORs the values of filters that share a name rather than ANDing them).
pub fn read_filters(p: &Scope<'_>, known: &[&str]) -> AwsResult<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for f in p.structs("Filters")? {
        let name = f.str("Name").unwrap_or("").to_string();
        let values: Vec<String> = f
            .strings("Values")?
            .into_iter()
            .map(str::to_string)
            .collect();
        let ok = known.iter().any(|k| match k.strip_suffix(':') {
            Some(prefix) => name.len() > k.len() && name.starts_with(prefix),
            None => *k == name,
        });
        if !ok {
            let allowed: Vec<String> = known
                .iter()
                .map(|k| {
                    if k.ends_with(':') {
                        format!("{k}<key>")
                    } else {
                        k.to_string()
                    }
                })
                .collect();
            return Err(validation(format!(
                "Filter type {name} is not correct. Allowed Filter types are: {}",
                allowed.join(" ")
            )));
        }
        if values.len() > 1000 {
            return Err(validation(format!(
                "The filter {name} has {} values; the maximum is 1000",
                values.len()
            )));
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => existing.extend(values),
            None => out.push((name, values)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Params, Protocol};

    #[test]
    fn strings_are_checked_against_their_shape() {
        assert!(check_string("web", "autoScalingGroupName", 1, 255).is_ok());
        let e = check_string("", "autoScalingGroupName", 1, 255).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(e.message, "1 validation error detected: Value '' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1");
        let long = "x".repeat(256);
        assert!(check_string(&long, "n", 1, 255)
            .unwrap_err()
            .message
            .contains("less than or equal to 255"));
        assert!(check_string("a\u{1}b", "n", 1, 255)
            .unwrap_err()
            .message
            .contains("regular expression pattern"));
        assert!(check_string("tab\tok", "n", 1, 255).is_ok());
    }

    #[test]
    fn filters_of_one_name_merge_and_unknown_names_are_refused() {
        let p = Params::decode(
            b"Filters.member.1.Name=key&Filters.member.1.Values.member.1=a&Filters.member.2.Name=key&Filters.member.2.Values.member.1=b&Filters.member.3.Name=tag:Env&Filters.member.3.Values.member.1=x",
            b"",
            Protocol::AwsQuery,
        )
        .unwrap();
        let f = read_filters(&p.root(), &["key", "tag:"]).unwrap();
        assert_eq!(
            f,
            vec![
                ("key".to_string(), vec!["a".to_string(), "b".to_string()]),
                ("tag:Env".to_string(), vec!["x".to_string()])
            ]
        );
        let p = Params::decode(
            b"Filters.member.1.Name=bogus&Filters.member.1.Values.member.1=a",
            b"",
            Protocol::AwsQuery,
        )
        .unwrap();
        let e = read_filters(&p.root(), &["key", "tag:"]).unwrap_err();
        assert_eq!(
            e.message,
            "Filter type bogus is not correct. Allowed Filter types are: key tag:<key>"
        );
    }

    #[test]
    fn records_pages_and_bounds() {
        let p = Params::decode(b"MaxRecords=2", b"", Protocol::AwsQuery).unwrap();
        let r = Records::read(&p.root()).unwrap();
        let (page, next) = r.apply(vec![1, 2, 3]).unwrap();
        assert_eq!(page, vec![1, 2]);
        let token = next.unwrap();
        let q = format!("MaxRecords=2&NextToken={token}");
        let p = Params::decode(q.as_bytes(), b"", Protocol::AwsQuery).unwrap();
        let (page, next) = Records::read(&p.root())
            .unwrap()
            .apply(vec![1, 2, 3])
            .unwrap();
        assert_eq!((page, next), (vec![3], None));
        let p = Params::decode(b"MaxRecords=101", b"", Protocol::AwsQuery).unwrap();
        let e = Records::read(&p.root())
            .unwrap()
            .apply(vec![1])
            .unwrap_err();
        assert_eq!(e.code, "ValidationError");
        let p = Params::decode(b"NextToken=garbage", b"", Protocol::AwsQuery).unwrap();
        let e = Records::read(&p.root())
            .unwrap()
            .apply(vec![1])
            .unwrap_err();
        assert_eq!(e.code, "InvalidNextToken");
    }
}
