//! Rule transforms: a `host-header-rewrite` and a `url-rewrite` at most, each a list of
//! rewrites (`Regex`, `Replace`, up to 1024 characters each), stored and written back as given.
//! Application load balancer rules only.

use crate::protocol::{AwsResult, Scope, Writer};

use super::errors::{check_enum, check_length, validation};
use super::model::Transform;

const TYPES: &[&str] = &["host-header-rewrite", "url-rewrite"];

/// The `*Config` member of each transform type.
fn config_of(kind: &str) -> &'static str {
    if kind == "host-header-rewrite" {
        "HostHeaderRewriteConfig"
    } else {
        "UrlRewriteConfig"
    }
}

/// Reads and checks the items of `Transforms`.
pub fn parse(items: &[Scope<'_>]) -> AwsResult<Vec<Transform>> {
    let mut out: Vec<Transform> = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let path = |m: &str| format!("transforms.member.{}.{m}", i + 1);
        let kind = t.required("Type")?;
        check_enum(&path("type"), kind, TYPES)?;
        let other = TYPES.iter().find(|k| **k != kind).copied().unwrap_or("");
        if t.has(config_of(other)) {
            return Err(validation(format!(
                "A '{}' cannot be specified for a transform of type '{kind}'",
                config_of(other)
            )));
        }
        if out.iter().any(|o| o.kind == kind) {
            return Err(validation(format!(
                "A rule can contain only one '{kind}' transform"
            )));
        }
        let cfg = t.nested(config_of(kind));
        let mut rewrites = Vec::new();
        for (j, r) in cfg.structs("Rewrites")?.iter().enumerate() {
            let at = |m: &str| {
                path(&format!(
                    "{}.rewrites.member.{}.{m}",
                    lower_first(config_of(kind)),
                    j + 1
                ))
            };
            let regex = r.required("Regex")?;
            let replace = r.required("Replace")?;
            check_length(&at("regex"), regex, 1, 1024)?;
            check_length(&at("replace"), replace, 0, 1024)?;
            rewrites.push((regex.to_string(), replace.to_string()));
        }
        if rewrites.is_empty() {
            return Err(validation(format!(
                "A transform of type '{kind}' must have a rewrite in its '{}'",
                config_of(kind)
            )));
        }
        out.push(Transform {
            kind: kind.to_string(),
            rewrites,
        });
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The `Transforms` member of a `Rule` (left out when the rule has none).
pub fn render(w: &mut Writer, transforms: &[Transform]) {
    if transforms.is_empty() {
        return;
    }
    w.list("Transforms", transforms, |w, t| {
        w.str("Type", &t.kind);
        w.structure(config_of(&t.kind), |w| {
            w.list("Rewrites", &t.rewrites, |w, (regex, replace)| {
                w.str("Regex", regex).str("Replace", replace);
            });
        });
    });
}
