//! One API call made by a scenario: `service:Action` names, parameters from YAML (flattened to the
//! query form for the query services, a JSON body for KMS and ECR), and the answer read back.

use serde_json::{Map, Value};

use super::response::Body;
use crate::instance::Instance;
use crate::protocol::json::JsonInput;
use crate::protocol::params::ListStyle;
use crate::protocol::route::Input;
use crate::protocol::{Params, Protocol, ServiceId};

/// Parses `ec2:CreateVolume`. The service is awsemu's short name (`ec2`, `elb`, `elbv2`,
/// `autoscaling`, `iam`, `sts`, `kms`, `ecr`); `elasticloadbalancing` means the classic API.
pub fn parse_call_name(name: &str) -> Result<(ServiceId, String), String> {
    let (svc, action) = name
        .split_once(':')
        .ok_or_else(|| format!("'{name}' is not service:Action"))?;
    let service = match svc {
        "elasticloadbalancing" => ServiceId::Elb,
        s => ServiceId::ALL
            .into_iter()
            .find(|id| id.name() == s)
            .ok_or_else(|| {
                format!("unknown service '{s}' (ec2, elb, elbv2, autoscaling, iam, sts, kms, ecr)")
            })?,
    };
    if action.is_empty() || !action.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("'{action}' is not an action name"));
    }
    Ok((service, action.to_string()))
}

/// Flattens YAML parameters to query pairs: maps join keys with `.`, lists number their items
/// from 1 (`Name.N` for EC2, `Name.member.N` for the awsQuery services); a key that already is a
/// flat name (`InstanceId.1`) is taken as written.
pub fn flatten(params: &Value, style: ListStyle) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    match params {
        Value::Null => {}
        Value::Object(_) => walk("", params, style, &mut out),
        _ => return Err("params must be a map".into()),
    }
    Ok(out)
}

fn walk(prefix: &str, v: &Value, style: ListStyle, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Null => {}
        Value::Object(m) => m.iter().for_each(|(k, v)| walk(&join(k), v, style, out)),
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                let key = match style {
                    ListStyle::Flat => join(&(i + 1).to_string()),
                    ListStyle::Member => join(&format!("member.{}", i + 1)),
                };
                walk(&key, item, style, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Flattens YAML parameters named as the SDKs and `--cli-input-json` name them — the model's
/// member names (`VolumeIds: [...]`, `Filters: [{Name, Values}]`) — onto the wire through the
/// input shape of `service`'s `action`: each member's query name, lists as `Name.N` (EC2) or
/// `Name.member.N`, maps as `Name.entry.N.key`/`value`, an empty awsQuery list as `Name=`. A key
/// that names no member (a wire name such as `VolumeId`, or a flat `InstanceId.1`) is taken as
/// written, as [`flatten`] does.
pub fn flatten_named(
    service: ServiceId,
    action: &str,
    params: &Value,
) -> Result<Vec<(String, String)>, String> {
    let model = crate::model::of(service);
    let shape = model
        .op(action)
        .and_then(|o| o.input)
        .map(|i| model.shape(i));
    let style = match service.protocol() {
        Protocol::Ec2Query => ListStyle::Flat,
        _ => ListStyle::Member,
    };
    let mut out = Vec::new();
    match params {
        Value::Null => {}
        Value::Object(_) => walk_named(model, shape, "", params, style, &mut out),
        _ => return Err("params must be a map".into()),
    }
    Ok(out)
}

fn walk_named(
    model: &'static crate::model::ServiceModel,
    shape: Option<&'static crate::model::Shape>,
    prefix: &str,
    v: &Value,
    style: ListStyle,
    out: &mut Vec<(String, String)>,
) {
    use crate::model::Kind;
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let Some(shape) = shape else {
        return walk(prefix, v, style, out);
    };
    match (shape.kind, v) {
        (Kind::Structure, Value::Object(m)) => {
            for (k, x) in m {
                match shape
                    .members()
                    .iter()
                    .find(|mm| mm.name() == k || mm.query() == k)
                {
                    Some(mm) => walk_named(
                        model,
                        Some(model.shape(mm.shape)),
                        &join(mm.query()),
                        x,
                        style,
                        out,
                    ),
                    None => walk(&join(k), x, style, out),
                }
            }
        }
        (Kind::Map, Value::Object(m)) => {
            for (i, (k, x)) in m.iter().enumerate() {
                let entry = if shape.flattened {
                    join(&(i + 1).to_string())
                } else {
                    join(&format!("entry.{}", i + 1))
                };
                out.push((format!("{entry}.{}", shape.item_name()), k.clone()));
                let value = model.shape(shape.value);
                let key = format!("{entry}.{}", shape.value_name());
                walk_named(model, Some(value), &key, x, style, out);
            }
        }
        (Kind::List, Value::Array(a)) => {
            if a.is_empty() && style == ListStyle::Member {
                out.push((prefix.to_string(), String::new()));
            }
            let item = model.shape(shape.item);
            for (i, x) in a.iter().enumerate() {
                let key = if style == ListStyle::Flat || shape.flattened {
                    join(&(i + 1).to_string())
                } else {
                    join(&format!("{}.{}", shape.item_name(), i + 1))
                };
                walk_named(model, Some(item), &key, x, style, out);
            }
        }
        _ => walk(prefix, v, style, out),
    }
}

/// The decoded input of a call of `action` with these parameters (named as the model names
/// members, or by their wire names).
pub fn input(service: ServiceId, action: &str, params: &Value) -> Result<Input, String> {
    match service.protocol() {
        Protocol::AwsJson => match params {
            Value::Null => Ok(Input::Json(JsonInput::default())),
            Value::Object(m) => Ok(Input::Json(JsonInput { body: m.clone() })),
            _ => Err("params must be a map".into()),
        },
        proto => Ok(Input::Query(Params::from_pairs(
            flatten_named(service, action, params)?,
            proto,
        ))),
    }
}

/// An answer as a scenario reads it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub error: Option<String>,
    pub message: Option<String>,
    pub body: Body,
    pub request_id: String,
}

impl Answer {
    /// `200 ok` or `400 InvalidVolume.ZoneMismatch: message`.
    pub fn outcome(&self) -> String {
        match &self.error {
            None => format!("{} ok", self.status),
            Some(code) => format!(
                "{} {code}: {}",
                self.status,
                self.message.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Makes one call through the instance's pipeline as `principal`, in `region` (`None`: the
/// scenario's region).
pub fn call(
    instance: &Instance,
    service: ServiceId,
    action: &str,
    params: &Value,
    principal: &str,
    region: Option<&str>,
) -> Result<Answer, String> {
    let input = input(service, action, params)?;
    let r = instance.call(service, action, input, principal, region)?;
    let body = Body::parse(&r.body);
    let message = r.error_code.as_ref().and_then(|_| {
        ["Error/Message", "message", "Message"]
            .iter()
            .find_map(|p| body.text(p))
    });
    Ok(Answer {
        status: r.status,
        error: r.error_code,
        message,
        body,
        request_id: r.request_id,
    })
}

/// A parameter map from pairs, for the world loader.
pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<String, Value>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_flattening() {
        assert_eq!(
            parse_call_name("elbv2:CreateListener").unwrap().0,
            ServiceId::Elbv2
        );
        assert_eq!(
            parse_call_name("elasticloadbalancing:X").unwrap().0,
            ServiceId::Elb
        );
        assert!(parse_call_name("s3:GetObject")
            .unwrap_err()
            .contains("unknown service"));
        assert!(parse_call_name("DescribeVpcs").is_err());
        let p = json!({"Filter": [{"Name": "zone", "Value": ["a", "b"]}], "InstanceId.1": "i-1", "DryRun": false});
        let mut flat = flatten(&p, ListStyle::Flat).unwrap();
        flat.sort();
        assert_eq!(
            flat,
            vec![
                ("DryRun".to_string(), "false".to_string()),
                ("Filter.1.Name".into(), "zone".into()),
                ("Filter.1.Value.1".into(), "a".into()),
                ("Filter.1.Value.2".into(), "b".into()),
                ("InstanceId.1".into(), "i-1".into()),
            ]
        );
        let flat = flatten(
            &json!({"Subnets": ["s"], "Listeners": [{"InstancePort": 80}]}),
            ListStyle::Member,
        )
        .unwrap();
        assert!(flat.contains(&("Subnets.member.1".into(), "s".into())));
        assert!(flat.contains(&("Listeners.member.1.InstancePort".into(), "80".into())));
        assert!(flatten(&json!([1]), ListStyle::Flat).is_err());
    }

    #[test]
    fn model_names_go_on_the_wire() {
        let flat = |svc, action, p: Value| {
            let mut f = flatten_named(svc, action, &p).unwrap();
            f.sort();
            f
        };
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            flat(
                ServiceId::Ec2,
                "DescribeVolumes",
                json!({"VolumeIds": ["vol-1", "vol-2"], "Filters": [{"Name": "status", "Values": ["available"]}]})
            ),
            vec![
                pair("Filter.1.Name", "status"),
                pair("Filter.1.Value.1", "available"),
                pair("VolumeId.1", "vol-1"),
                pair("VolumeId.2", "vol-2"),
            ]
        );
        // Wire names stay accepted.
        assert_eq!(
            flat(
                ServiceId::Ec2,
                "DescribeVolumes",
                json!({"VolumeId": ["vol-1"]})
            ),
            vec![pair("VolumeId.1", "vol-1")]
        );
        assert_eq!(
            flat(
                ServiceId::Elb,
                "ModifyLoadBalancerAttributes",
                json!({"LoadBalancerName": "a", "LoadBalancerAttributes": {"AdditionalAttributes": [{"Key": "k", "Value": "v"}]}})
            ),
            vec![
                pair(
                    "LoadBalancerAttributes.AdditionalAttributes.member.1.Key",
                    "k"
                ),
                pair(
                    "LoadBalancerAttributes.AdditionalAttributes.member.1.Value",
                    "v"
                ),
                pair("LoadBalancerName", "a"),
            ]
        );
        assert_eq!(
            flat(
                ServiceId::Elbv2,
                "AddTags",
                json!({"ResourceArns": ["a"], "Tags": []})
            ),
            vec![pair("ResourceArns.member.1", "a"), pair("Tags", "")]
        );
    }
}
