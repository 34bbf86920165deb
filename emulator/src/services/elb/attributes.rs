//! DescribeLoadBalancerAttributes and ModifyLoadBalancerAttributes, with AWS's defaults for a new
//! load balancer (cross-zone off, connection draining off/300 s, idle timeout 60 s, access log off,
//! desync mitigation `defensive`).

use crate::protocol::{AwsError, AwsResult, Output, Writer};
use crate::services::action::Action;
use crate::services::{ec2::common, Call};
use crate::state;

use super::model::Attributes;
use super::{bounded, find, find_mut, invalid_configuration, validation, ON_LOAD_BALANCER};

/// The actions of this family.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "DescribeLoadBalancerAttributes",
        describe_load_balancer_attributes,
    ),
    Action::new(
        "ModifyLoadBalancerAttributes",
        modify_load_balancer_attributes,
    )
    .on(ON_LOAD_BALANCER),
];

/// The additional attributes classic ELB knows, with their allowed values.
const ADDITIONAL: &[(&str, &[&str])] = &[(
    "elb.http.desyncmitigationmode",
    &["monitor", "defensive", "strictest"],
)];

/// The `LoadBalancerAttributes` member of both answers.
fn render(w: &mut Writer, a: &Attributes) {
    w.structure("LoadBalancerAttributes", |w| {
        w.structure("CrossZoneLoadBalancing", |w| {
            w.bool("Enabled", a.cross_zone);
        });
        w.structure("AccessLog", |w| {
            w.bool("Enabled", a.access_log.enabled);
            if a.access_log.enabled {
                w.str_opt("S3BucketName", a.access_log.s3_bucket_name.as_ref())
                    .int("EmitInterval", a.access_log.emit_interval)
                    .str_opt("S3BucketPrefix", a.access_log.s3_bucket_prefix.as_ref());
            }
        });
        w.structure("ConnectionDraining", |w| {
            w.bool("Enabled", a.connection_draining)
                .int("Timeout", a.connection_draining_timeout);
        });
        w.structure("ConnectionSettings", |w| {
            w.int("IdleTimeout", a.idle_timeout);
        });
        w.list("AdditionalAttributes", &a.additional, |w, (k, v)| {
            w.str("Key", k).str("Value", v);
        });
    });
}

fn describe_load_balancer_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let r = state::read(&lock);
    let lb = find(&r, name)?;
    let mut w = call.writer();
    render(&mut w, &lb.attributes);
    w.finish()
}

/// Applies the blocks that were sent over the current attributes; members a block leaves out
/// keep their values (cloud-provider sends `Enabled` alone).
fn modify_load_balancer_attributes(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("LoadBalancerName")?;
    if !p.has("LoadBalancerAttributes") {
        p.required("LoadBalancerAttributes")?;
    }
    let a = p.nested("LoadBalancerAttributes");
    let cz = a.nested("CrossZoneLoadBalancing");
    let cross_zone = if a.has("CrossZoneLoadBalancing") {
        cz.required("Enabled")?;
        cz.bool("Enabled")?
    } else {
        None
    };
    let al = a.nested("AccessLog");
    let access_log = if a.has("AccessLog") {
        al.required("Enabled")?;
        Some((
            al.bool("Enabled")?.unwrap_or(false),
            al.str("S3BucketName"),
            al.int("EmitInterval")?,
            al.str("S3BucketPrefix"),
        ))
    } else {
        None
    };
    let cd = a.nested("ConnectionDraining");
    let draining = if a.has("ConnectionDraining") {
        cd.required("Enabled")?;
        Some((
            cd.bool("Enabled")?.unwrap_or(false),
            bounded(
                &cd,
                "Timeout",
                "loadBalancerAttributes.connectionDraining.timeout",
                1,
                3600,
            )?,
        ))
    } else {
        None
    };
    let cs = a.nested("ConnectionSettings");
    let idle = if a.has("ConnectionSettings") {
        cs.required("IdleTimeout")?;
        bounded(
            &cs,
            "IdleTimeout",
            "loadBalancerAttributes.connectionSettings.idleTimeout",
            1,
            3600,
        )?
    } else {
        None
    };
    let mut additional = Vec::new();
    for m in a.structs("AdditionalAttributes")? {
        additional.push((m.str("Key").unwrap_or(""), m.str("Value").unwrap_or("")));
    }
    call.params()?.finish()?;
    if additional.len() > 10 {
        return Err(validation(
            "1 validation error detected: Value at 'loadBalancerAttributes.additionalAttributes' failed to satisfy constraint: Member must have length less than or equal to 10",
        ));
    }
    for (k, v) in &additional {
        match ADDITIONAL.iter().find(|(key, _)| key == k) {
            None => {
                return Err(AwsError::bad_request(
                    "LoadBalancerAttributeNotFound",
                    format!("The specified load balancer attribute does not exist: {k}"),
                ))
            }
            Some((_, values)) if !values.contains(v) => {
                return Err(invalid_configuration(format!(
                    "Invalid value '{v}' for attribute {k}. Valid values are: {}",
                    values.join(", ")
                )))
            }
            Some(_) => {}
        }
    }
    if let Some((_, _, Some(interval), _)) = access_log {
        if interval != 5 && interval != 60 {
            return Err(validation(format!(
                "Invalid EmitInterval {interval}: access logs are published every 5 or 60 minutes."
            )));
        }
    }
    let lock = common::region(call)?;
    let mut r = state::write(&lock);
    let lb = find_mut(&mut r, name)?;
    let mut next = lb.attributes.clone();
    if let Some(v) = cross_zone {
        next.cross_zone = v;
    }
    if let Some((enabled, bucket, interval, prefix)) = access_log {
        next.access_log.enabled = enabled;
        if let Some(b) = bucket {
            next.access_log.s3_bucket_name = Some(b.to_string()).filter(|b| !b.is_empty());
        }
        if let Some(i) = interval {
            next.access_log.emit_interval = i;
        }
        if let Some(p) = prefix {
            next.access_log.s3_bucket_prefix = Some(p.to_string()).filter(|p| !p.is_empty());
        }
        if enabled && next.access_log.s3_bucket_name.is_none() {
            return Err(invalid_configuration(
                "The S3BucketName must be specified when access logging is enabled.",
            ));
        }
    }
    if let Some((enabled, timeout)) = draining {
        next.connection_draining = enabled;
        if let Some(t) = timeout {
            next.connection_draining_timeout = t;
        }
    }
    if let Some(t) = idle {
        next.idle_timeout = t;
    }
    for (k, v) in additional {
        next.additional.insert(k.to_string(), v.to_string());
    }
    lb.attributes = next;
    let mut w = call.writer();
    w.str("LoadBalancerName", &lb.name);
    render(&mut w, &lb.attributes);
    w.finish()
}
