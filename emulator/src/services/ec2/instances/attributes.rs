//! ModifyInstanceAttribute and DescribeInstanceAttribute: one attribute per call, in either of
//! AWS's two request forms (`SourceDestCheck.Value=false`, or the older
//! `Attribute=sourceDestCheck&Value=false`).

use crate::protocol::writer::Writer;
use crate::protocol::{AwsError, AwsResult, Output, Scope};
use crate::services::Call;
use crate::state::{read, write};

use super::super::common;
use super::super::model::{AttachState, InstanceState};
use super::describe::{render_block_devices, View};
use super::{check_ids, settle};

/// One change of ModifyInstanceAttribute.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    SourceDestCheck(bool),
    InstanceType(String),
    Groups(Vec<String>),
    DisableApiTermination(bool),
    ShutdownBehavior(String),
    EbsOptimized(bool),
    UserData(String),
    /// (device name, DeleteOnTermination) per mapping.
    DeleteOnTermination(Vec<(String, bool)>),
}

fn parse_bool(attribute: &str, v: &str) -> AwsResult<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AwsError::invalid_value(format!(
            "Value ({v}) for parameter {attribute} is invalid. Expected: 'true' or 'false'."
        ))),
    }
}

/// The old form: an attribute name and one string value.
fn old_form(attribute: &str, value: &str) -> AwsResult<Change> {
    Ok(match attribute {
        "sourceDestCheck" => Change::SourceDestCheck(parse_bool(attribute, value)?),
        "instanceType" => Change::InstanceType(value.to_string()),
        "groupSet" => Change::Groups(vec![value.to_string()]),
        "disableApiTermination" => Change::DisableApiTermination(parse_bool(attribute, value)?),
        "instanceInitiatedShutdownBehavior" => Change::ShutdownBehavior(value.to_string()),
        "ebsOptimized" => Change::EbsOptimized(parse_bool(attribute, value)?),
        "userData" => Change::UserData(value.to_string()),
        other => {
            return Err(AwsError::invalid_value(format!(
                "Value ({other}) for parameter attribute is invalid. Unknown attribute."
            )))
        }
    })
}

/// Every change the request names, in whichever form.
fn changes(p: &Scope<'_>) -> AwsResult<Vec<Change>> {
    let mut out = Vec::new();
    match (p.str("Attribute"), p.str("Value")) {
        (Some(a), Some(v)) => out.push(old_form(a, v)?),
        (Some(a), None) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                format!("The request must contain the parameter value (for attribute {a})"),
            ))
        }
        (None, Some(_)) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter attribute",
            ))
        }
        (None, None) => {}
    }
    if let Some(v) = p.nested("SourceDestCheck").bool("Value")? {
        out.push(Change::SourceDestCheck(v));
    }
    if let Some(v) = p.nested("InstanceType").str("Value") {
        out.push(Change::InstanceType(v.to_string()));
    }
    let groups = p.strings("GroupId")?;
    if !groups.is_empty() {
        out.push(Change::Groups(
            groups.into_iter().map(str::to_string).collect(),
        ));
    }
    if let Some(v) = p.nested("DisableApiTermination").bool("Value")? {
        out.push(Change::DisableApiTermination(v));
    }
    if let Some(v) = p.nested("InstanceInitiatedShutdownBehavior").str("Value") {
        out.push(Change::ShutdownBehavior(v.to_string()));
    }
    if let Some(v) = p.nested("EbsOptimized").bool("Value")? {
        out.push(Change::EbsOptimized(v));
    }
    if let Some(v) = p.nested("UserData").str("Value") {
        out.push(Change::UserData(v.to_string()));
    }
    let mut mappings = Vec::new();
    for m in p.structs("BlockDeviceMapping")? {
        let device = m.required("DeviceName")?.to_string();
        let ebs = m.nested("Ebs");
        let _volume = ebs.str("VolumeId");
        let dot = ebs.bool("DeleteOnTermination")?.unwrap_or(true);
        mappings.push((device, dot));
    }
    if !mappings.is_empty() {
        out.push(Change::DeleteOnTermination(mappings));
    }
    Ok(out)
}

pub fn modify_instance_attribute(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("InstanceId")?;
    let mut list = changes(&p)?;
    call.params()?.finish()?;
    let change = match list.len() {
        0 => return Err(AwsError::invalid_combination("No attributes specified.")),
        1 => list.remove(0),
        _ => {
            return Err(AwsError::invalid_combination(
                "Fields for multiple attribute types specified",
            ))
        }
    };
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    settle(&mut region, now, &d);
    check_ids(&region, &[id], now, &d)?;
    let instance = region.instances.get(id).ok_or_else(AwsError::internal)?;
    let state = instance.state.state;
    if state == InstanceState::Terminated {
        return Err(AwsError::bad_request(
            "IncorrectInstanceState",
            format!(
                "The instance '{id}' is not in a state from which its attributes can be modified."
            ),
        ));
    }
    match &change {
        Change::InstanceType(t) => {
            if state != InstanceState::Stopped {
                return Err(AwsError::bad_request(
                    "IncorrectInstanceState",
                    format!("The instance '{id}' is not in the 'stopped' state."),
                ));
            }
            if t.split_once('.')
                .is_none_or(|(f, s)| f.is_empty() || s.is_empty())
            {
                return Err(AwsError::invalid_value(format!(
                    "Invalid value '{t}' for InstanceType."
                )));
            }
        }
        Change::Groups(groups) => {
            for g in groups {
                super::super::security_groups::SECURITY_GROUP.check(g)?;
                let in_vpc = region.security_groups.get(g).map(|sg| &sg.vpc_id);
                if in_vpc != Some(&instance.vpc_id) {
                    return Err(AwsError::bad_request(
                        "InvalidGroup.NotFound",
                        format!(
                            "The security group '{g}' does not exist in VPC '{}'",
                            instance.vpc_id
                        ),
                    ));
                }
            }
        }
        Change::ShutdownBehavior(b) if !matches!(b.as_str(), "stop" | "terminate") => {
            return Err(AwsError::invalid_value(format!(
                "Value ({b}) for parameter instanceInitiatedShutdownBehavior is invalid."
            )));
        }
        Change::DeleteOnTermination(mappings) => {
            for (device, _) in mappings {
                let attached = region.volumes.values().any(|v| {
                    v.attachment.as_ref().is_some_and(|a| {
                        a.instance_id == id
                            && a.device == *device
                            && a.state.at(now) != AttachState::Detached
                    })
                });
                if !attached {
                    return Err(AwsError::bad_request(
                        "InvalidInstanceAttributeValue",
                        format!("No device is currently mapped at {device}"),
                    ));
                }
            }
        }
        _ => {}
    }
    if let Change::DeleteOnTermination(mappings) = &change {
        for v in region.volumes.values_mut() {
            if let Some(a) = v.attachment.as_mut().filter(|a| a.instance_id == id) {
                if let Some((_, dot)) = mappings.iter().find(|(dev, _)| *dev == a.device) {
                    a.delete_on_termination = *dot;
                }
            }
        }
    }
    let Some(i) = region.instances.get_mut(id) else {
        return Err(AwsError::internal());
    };
    match change {
        Change::SourceDestCheck(v) => i.source_dest_check = v,
        Change::InstanceType(t) => i.instance_type = t,
        Change::Groups(g) => i.security_groups = g,
        Change::DisableApiTermination(v) => i.disable_api_termination = v,
        Change::ShutdownBehavior(b) => i.shutdown_behavior = b,
        Change::EbsOptimized(v) => i.ebs_optimized = v,
        Change::UserData(u) => i.user_data = Some(u),
        Change::DeleteOnTermination(_) => {}
    }
    common::done(call)
}

pub fn describe_instance_attribute(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let id = p.required("InstanceId")?;
    let attribute = p.required("Attribute")?;
    call.params()?.finish()?;
    const KNOWN: &[&str] = &[
        "instanceType",
        "kernel",
        "ramdisk",
        "userData",
        "disableApiTermination",
        "instanceInitiatedShutdownBehavior",
        "rootDeviceName",
        "blockDeviceMapping",
        "productCodes",
        "sourceDestCheck",
        "groupSet",
        "ebsOptimized",
        "sriovNetSupport",
        "enaSupport",
        "enclaveOptions",
        "disableApiStop",
    ];
    if !KNOWN.contains(&attribute) {
        return Err(AwsError::invalid_value(format!(
            "Value ({attribute}) for parameter attribute is invalid. Unknown attribute."
        )));
    }
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let region = read(&lock);
    check_ids(&region, &[id], now, &d)?;
    let i = region.instances.get(id).ok_or_else(AwsError::internal)?;
    let view = View::new(&region, i, i.state.at(now), now);
    let mut w = call.writer();
    w.str("InstanceId", id);
    // An `AttributeValue` / `AttributeBooleanValue` member: the value under `value`.
    let value = |w: &mut Writer, member: &str, v: &str| {
        w.structure(member, |w| {
            w.str("Value", v);
        });
    };
    let flag = |w: &mut Writer, member: &str, v: bool| {
        w.structure(member, |w| {
            w.bool("Value", v);
        });
    };
    match attribute {
        "instanceType" => value(&mut w, "InstanceType", &i.instance_type),
        "userData" => match &i.user_data {
            Some(u) => value(&mut w, "UserData", u),
            None => {
                w.structure("UserData", |_| {});
            }
        },
        "disableApiTermination" => flag(&mut w, "DisableApiTermination", i.disable_api_termination),
        "instanceInitiatedShutdownBehavior" => value(
            &mut w,
            "InstanceInitiatedShutdownBehavior",
            &i.shutdown_behavior,
        ),
        "rootDeviceName" => value(&mut w, "RootDeviceName", &i.root_device_name),
        "blockDeviceMapping" => render_block_devices(&mut w, &view.volumes),
        "sourceDestCheck" => flag(&mut w, "SourceDestCheck", i.source_dest_check),
        "groupSet" => {
            w.list("Groups", view.groups(&region), |w, (gid, name)| {
                w.str("GroupId", gid).str("GroupName", name);
            });
        }
        "ebsOptimized" => flag(&mut w, "EbsOptimized", i.ebs_optimized),
        "enaSupport" => flag(&mut w, "EnaSupport", true),
        "disableApiStop" => flag(&mut w, "DisableApiStop", false),
        "enclaveOptions" => {
            w.structure("EnclaveOptions", |w| {
                w.bool("Enabled", false);
            });
        }
        "sriovNetSupport" => value(&mut w, "SriovNetSupport", "simple"),
        // HVM instances have no kernel or ramdisk; public images carry no product codes.
        "kernel" => {
            w.structure("KernelId", |_| {});
        }
        "ramdisk" => {
            w.structure("RamdiskId", |_| {});
        }
        "productCodes" => {
            w.list("ProductCodes", Vec::<()>::new(), |_, _| {});
        }
        // KNOWN holds no other attribute.
        _ => return Err(AwsError::internal()),
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_form_values() {
        assert_eq!(
            old_form("sourceDestCheck", "False").unwrap(),
            Change::SourceDestCheck(false)
        );
        assert_eq!(
            old_form("instanceType", "m5.large").unwrap(),
            Change::InstanceType("m5.large".into())
        );
        assert!(old_form("sourceDestCheck", "maybe").is_err());
        assert_eq!(
            old_form("bogus", "x").unwrap_err().code,
            "InvalidParameterValue"
        );
    }
}
