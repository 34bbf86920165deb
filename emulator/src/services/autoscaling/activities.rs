//! Scaling activities: what a group did to its instances and why, in AWS's wording
//! (`Description` "Launching a new EC2 instance: i-…", a `Cause` that starts with the call that
//! changed the group), and DescribeScalingActivities, newest first. An activity's status follows
//! its instance on the virtual clock: a launch is `PreInService` while the instance is pending,
//! then `Successful`; a termination `InProgress` until the instance has terminated.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsResult, Output};
use crate::services::action::Action;
use crate::services::ec2::instances::terminated_at;
use crate::services::ec2::model::{Ec2Region, InstanceState};
use crate::services::Call;

use super::model::{Activity, ActivityKind, Group};
use super::{check_string, read_filters, validation, with_region, Records};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[Action::new(
    "DescribeScalingActivities",
    describe_scaling_activities,
)];

/// How many activities a region keeps (the oldest go first); AWS keeps six weeks' worth.
const KEPT: usize = 5000;

/// A cause's timestamp: `2024-01-31T12:00:00Z`.
pub fn at(ms: i64) -> String {
    let full = crate::timefmt::format_iso8601(ms.div_euclid(1000));
    format!("{}Z", full.get(..19).unwrap_or(&full))
}

/// `{"Subnet ID":"subnet-…","Availability Zone":"us-east-1a"}`.
pub fn details(subnet: &str, zone: &str) -> String {
    format!(r#"{{"Subnet ID":"{subnet}","Availability Zone":"{zone}"}}"#)
}

/// What an activity records, beside its group and time.
pub struct New {
    pub kind: ActivityKind,
    pub instance_id: Option<String>,
    pub description: String,
    pub cause: String,
    pub status_message: Option<String>,
    pub details: String,
}

/// Records an activity of `group`; returns its id.
pub fn record(region: &mut Ec2Region, call: &Call<'_>, group: &Group, new: New) -> String {
    let New {
        kind,
        instance_id,
        description,
        cause,
        status_message,
        details,
    } = new;
    let list = &mut region.autoscaling.activities;
    if kind == ActivityKind::FailedLaunch {
        // A launch that keeps failing is one failed activity until something else happens.
        if let Some(last) = list.iter().rev().find(|a| a.group == group.name) {
            if last.kind == kind && last.status_message == status_message {
                return last.id.clone();
            }
        }
    }
    let id = call.world.ids.request_id();
    list.push(Activity {
        id: id.clone(),
        group: group.name.clone(),
        group_arn: group.arn.clone(),
        kind,
        instance_id,
        description,
        cause,
        start_ms: call.now_ms,
        status_message,
        details,
    });
    if list.len() > KEPT {
        let extra = list.len() - KEPT;
        list.drain(..extra);
    }
    id
}

/// (StatusCode, Progress, EndTime) of an activity now.
fn status(region: &Ec2Region, a: &Activity, call: &Call<'_>) -> (&'static str, i64, Option<i64>) {
    let now = call.now_ms;
    let instance = a
        .instance_id
        .as_ref()
        .and_then(|id| region.instances.get(id));
    match a.kind {
        ActivityKind::FailedLaunch => ("Failed", 100, Some(a.start_ms)),
        ActivityKind::Launch => match instance.map(|i| i.state.at(now)) {
            Some(InstanceState::Pending) => ("PreInService", 30, None),
            _ => {
                let end = a
                    .start_ms
                    .saturating_add(call.world.durations.instance_start)
                    .min(now);
                ("Successful", 100, Some(end))
            }
        },
        ActivityKind::Terminate => match instance {
            Some(i) if i.state.at(now) != InstanceState::Terminated => ("InProgress", 50, None),
            Some(i) => (
                "Successful",
                100,
                Some(terminated_at(i).unwrap_or(a.start_ms)),
            ),
            None => ("Successful", 100, Some(a.start_ms)),
        },
    }
}

/// The members of an `Activity`.
pub fn render(w: &mut Writer, region: &Ec2Region, a: &Activity, call: &Call<'_>) {
    let (code, progress, end) = status(region, a, call);
    w.str("ActivityId", &a.id)
        .str("AutoScalingGroupName", &a.group)
        .str("Description", &a.description)
        .str("Cause", &a.cause)
        .time("StartTime", a.start_ms)
        .time_opt("EndTime", end)
        .str("StatusCode", code)
        .str_opt("StatusMessage", a.status_message.as_deref())
        .int("Progress", progress)
        .str("Details", &a.details)
        .str("AutoScalingGroupARN", &a.group_arn);
}

fn describe_scaling_activities(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("ActivityIds")?;
    let group = p.str("AutoScalingGroupName");
    let include_deleted = p.bool("IncludeDeletedGroups")?.unwrap_or(false);
    let _ = p.bool("IncludeManagedResources")?;
    let filters = read_filters(&p, &["StatusCode"])?;
    let records = Records::read(&p)?;
    call.params()?.finish()?;
    if let Some(g) = group {
        check_string(g, "autoScalingGroupName", 1, 255)?;
    }
    if ids.len() > 50 {
        return Err(validation(format!(
            "1 validation error detected: Value '[{}]' at 'activityIds' failed to satisfy constraint: Member must have length less than or equal to 50",
            ids.join(", ")
        )));
    }
    with_region(call, |region| {
        let list: Vec<&Activity> = region
            .autoscaling
            .activities
            .iter()
            .rev()
            .filter(|a| ids.is_empty() || ids.contains(&a.id.as_str()))
            .filter(|a| group.is_none_or(|g| a.group == g))
            .filter(|a| include_deleted || region.autoscaling.groups.contains_key(&a.group))
            .filter(|a| {
                filters
                    .iter()
                    .all(|(_, values)| values.iter().any(|v| v == status(region, a, call).0))
            })
            .collect();
        let (page, next) = records.apply_within(list, 100, 100)?;
        let mut w = call.writer();
        w.list("Activities", page, |w, a| render(w, region, a, call));
        w.str_opt("NextToken", next);
        w.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_times_and_details() {
        assert_eq!(at(1_706_702_400_123), "2024-01-31T12:00:00Z");
        assert_eq!(
            details("subnet-1", "us-east-1a"),
            r#"{"Subnet ID":"subnet-1","Availability Zone":"us-east-1a"}"#
        );
    }
}
