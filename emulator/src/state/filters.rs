//! EC2 `Filter.N.Name` / `Filter.N.Value.M` filters: parsed once per request, matched per resource.
//!
//! Values are matched as AWS does: exact, with `*` and `?` wildcards; several values of one filter
//! are OR-ed, several filters AND-ed. A filter name the resource type does not know is refused with
//! AWS's `InvalidParameterValue`, never ignored (ignoring would return too much, silently).

use crate::iam::wildcard;
use crate::protocol::{AwsError, AwsResult, Scope};

/// One filter of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// Reads `Filter.N` from a request, refusing names not in `known` (a name ending in `:` is a prefix,
/// as in `tag:`).
pub fn parse(scope: &Scope<'_>, known: &[&str]) -> AwsResult<Vec<Filter>> {
    let mut out = Vec::new();
    for f in scope.structs("Filter")? {
        let name = f.required("Name")?.to_string();
        let ok = known.iter().any(|k| {
            if k.ends_with(':') {
                name.starts_with(k) && name.len() > k.len()
            } else {
                *k == name
            }
        });
        if !ok {
            return Err(AwsError::invalid_value(format!(
                "The filter '{name}' is invalid"
            )));
        }
        let values: Vec<String> = f
            .strings("Value")?
            .into_iter()
            .map(str::to_string)
            .collect();
        out.push(Filter { name, values });
    }
    Ok(out)
}

impl Filter {
    /// Whether any of the resource's values for this filter matches any filter value.
    pub fn matches_any<'v>(&self, resource_values: impl IntoIterator<Item = &'v str>) -> bool {
        resource_values.into_iter().any(|rv| {
            self.values
                .iter()
                .any(|fv| wildcard::matches(fv, rv, false))
        })
    }

    pub fn matches(&self, resource_value: &str) -> bool {
        self.matches_any([resource_value])
    }
}

/// True when every filter accepts the resource; `values_of(name)` gives the resource's values for a filter name.
pub fn all_match<'v>(filters: &[Filter], mut values_of: impl FnMut(&str) -> Vec<&'v str>) -> bool {
    filters.iter().all(|f| f.matches_any(values_of(&f.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Params, Protocol};

    #[test]
    fn parses_checks_names_and_matches_wildcards() {
        let p = Params::decode(
            b"Filter.1.Name=region-name&Filter.1.Value.1=us-*&Filter.1.Value.2=eu-west-1&Filter.2.Name=tag:Name&Filter.2.Value.1=x",
            b"",
            Protocol::Ec2Query,
        )
        .unwrap();
        let f = parse(&p.root(), &["region-name", "tag:"]).unwrap();
        assert_eq!(f.len(), 2);
        assert!(
            f[0].matches("us-east-2") && f[0].matches("eu-west-1") && !f[0].matches("eu-west-2")
        );
        let p = Params::decode(
            b"Filter.1.Name=bogus&Filter.1.Value.1=x",
            b"",
            Protocol::Ec2Query,
        )
        .unwrap();
        let e = parse(&p.root(), &["region-name", "tag:"]).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(e.message.contains("'bogus'"));
        assert!(all_match(&[], |_| vec![]));
    }
}
