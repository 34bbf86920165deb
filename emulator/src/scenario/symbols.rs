//! Symbolic names: `${subnet.a}`, `${instance.worker-1}` stand for the ids the world loader (or a
//! step's `capture:`) got, anywhere in a later string.

use std::collections::BTreeMap;

use serde_json::Value;

/// Symbol -> value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Symbols {
    map: BTreeMap<String, String>,
}

impl Symbols {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.map.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// Every symbol, in name order (for reports).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Replaces every `${name}` in `text`; an unknown name is an error that lists the near ones.
    pub fn resolve(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed '${{' in '{text}'"))?;
            let name = after[..end].trim();
            match self.map.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    let kind = name.split('.').next().unwrap_or_default();
                    let near: Vec<&str> = self
                        .map
                        .keys()
                        .filter(|k| k.starts_with(kind))
                        .map(String::as_str)
                        .collect();
                    return Err(format!(
                        "unknown symbol ${{{name}}}{}",
                        if near.is_empty() {
                            String::new()
                        } else {
                            format!(" (known: {})", near.join(", "))
                        }
                    ));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The names a text refers to as `${name}`.
    pub fn names_in(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            out.push(after[..end].trim());
            rest = &after[end + 1..];
        }
        out
    }

    /// The names every string (keys included) inside a JSON value refers to.
    pub fn names_in_value(v: &Value) -> Vec<&str> {
        match v {
            Value::String(s) => Self::names_in(s),
            Value::Array(a) => a.iter().flat_map(Self::names_in_value).collect(),
            Value::Object(m) => m
                .iter()
                .flat_map(|(k, x)| Self::names_in(k).into_iter().chain(Self::names_in_value(x)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Resolves every string (keys included) inside a JSON value.
    pub fn resolve_value(&self, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(self.resolve(s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.resolve_value(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((self.resolve(k)?, self.resolve_value(x)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_names_unknown_symbols() {
        let mut s = Symbols::default();
        s.set("subnet.a", "subnet-1");
        s.set("vpc.main", "vpc-9");
        assert_eq!(
            s.resolve("x ${subnet.a} ${ vpc.main }").unwrap(),
            "x subnet-1 vpc-9"
        );
        let e = s.resolve("${subnet.b}").unwrap_err();
        assert!(e.contains("subnet.b") && e.contains("subnet.a"), "{e}");
        assert!(s.resolve("${oops").is_err());
        let v = s
            .resolve_value(&serde_json::json!({"SubnetId": "${subnet.a}", "L": ["${vpc.main}"]}))
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"SubnetId": "subnet-1", "L": ["vpc-9"]})
        );
    }
}
