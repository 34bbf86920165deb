//! Reading fields out of an answer: a path of element names into the XML of the query services,
//! or into the JSON of KMS and ECR.
//!
//! A path is `/`-separated names, each optionally indexed from 0 (`item[1]`). In XML the path
//! matches wherever it ends — `volumeId`, `attachmentSet/item/state` — and the elements it
//! matches are counted in document order; the first gives the value. In JSON the path starts at
//! the top object (`KeyMetadata/KeyState`, `repositories[0]/repositoryName`), a leading `/` makes
//! it a JSON pointer, and a path that ends at an array counts its items.

use serde_json::Value;

/// One XML element: its local name, its own text, its children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first element called `name` at or below this one, depth first.
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The text of the child element called `name` (empty when there is none).
    pub fn child_text(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map_or("", |c| c.text.as_str())
    }

    /// The children of the first element called `list` below this one (`item`s or `member`s).
    pub fn items(&self, list: &str) -> &[Node] {
        self.find(list).map_or(&[], |l| l.children.as_slice())
    }
}

/// An answer body, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Xml(Node),
    Json(Value),
    Text(String),
}

struct Segment<'p> {
    name: &'p str,
    index: Option<usize>,
}

fn segments(path: &str) -> Result<Vec<Segment<'_>>, String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('[') {
            None => Ok(Segment {
                name: s,
                index: None,
            }),
            Some((name, rest)) => {
                let n = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("bad index in path segment '{s}'"))?;
                Ok(Segment {
                    name,
                    index: Some(n),
                })
            }
        })
        .collect()
}

impl Body {
    pub fn parse(text: &str) -> Body {
        let t = text.trim_start();
        if t.starts_with('{') {
            if let Ok(v) = serde_json::from_str(t) {
                return Body::Json(v);
            }
        }
        if t.starts_with('<') {
            if let Some(n) = parse_xml(t) {
                return Body::Xml(n);
            }
        }
        Body::Text(text.to_string())
    }

    /// The text of the first match (JSON scalars as text; objects and arrays as JSON).
    pub fn text(&self, path: &str) -> Option<String> {
        self.lookup(path).ok().and_then(|(first, _)| first)
    }

    /// How many elements the path matches (JSON: the items of an array it ends at).
    pub fn count(&self, path: &str) -> Result<usize, String> {
        self.lookup(path).map(|(_, n)| n)
    }

    fn lookup(&self, path: &str) -> Result<(Option<String>, usize), String> {
        match self {
            Body::Xml(root) => {
                let segs = segments(path)?;
                if segs.is_empty() {
                    return Err("empty path".into());
                }
                let mut found = Vec::new();
                let mut chain = Vec::new();
                xml_matches(root, 0, &segs, &mut chain, &mut found);
                let n = found.len();
                Ok((found.into_iter().next(), n))
            }
            Body::Json(v) => {
                let hit = if path.starts_with('/') {
                    v.pointer(path)
                } else {
                    let mut cur = Some(v);
                    for s in segments(path)? {
                        cur = cur.and_then(|c| match s.name.parse::<usize>() {
                            Ok(i) if c.is_array() => c.get(i),
                            _ => c.get(s.name),
                        });
                        if let Some(i) = s.index {
                            cur = cur.and_then(|c| c.get(i));
                        }
                    }
                    cur
                };
                Ok(match hit {
                    None | Some(Value::Null) => (None, 0),
                    Some(Value::Array(a)) => (Some(Value::Array(a.clone()).to_string()), a.len()),
                    Some(Value::String(s)) => (Some(s.clone()), 1),
                    Some(other) => (Some(other.to_string()), 1),
                })
            }
            Body::Text(_) => Ok((None, 0)),
        }
    }
}

/// Walks the tree; `chain` holds (name, index among same-named siblings) from the root down.
fn xml_matches<'n>(
    node: &'n Node,
    index: usize,
    segs: &[Segment<'_>],
    chain: &mut Vec<(&'n str, usize)>,
    found: &mut Vec<String>,
) {
    chain.push((node.name.as_str(), index));
    if chain.len() >= segs.len() {
        let tail = &chain[chain.len() - segs.len()..];
        if tail
            .iter()
            .zip(segs)
            .all(|((n, i), s)| *n == s.name && s.index.is_none_or(|want| want == *i))
        {
            found.push(node.text.clone());
        }
    }
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    for c in &node.children {
        let n = seen.entry(c.name.as_str()).or_insert(0);
        let i = *n;
        *n += 1;
        xml_matches(c, i, segs, chain, found);
    }
    chain.pop();
}

fn parse_xml(text: &str) -> Option<Node> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Default::default()
            }),
            Event::Empty(e) => {
                let n = Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Default::default()
                };
                stack.last_mut()?.children.push(n);
            }
            Event::Text(t) => {
                let s = t.unescape().ok()?;
                stack.last_mut()?.text.push_str(s.trim());
            }
            Event::CData(c) => {
                stack
                    .last_mut()?
                    .text
                    .push_str(&String::from_utf8_lossy(&c));
            }
            Event::End(_) => {
                let n = stack.pop()?;
                stack.last_mut()?.children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut doc = stack.pop()?;
    if !stack.is_empty() || doc.children.len() != 1 {
        return None;
    }
    doc.children.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_json_paths() {
        let b = Body::parse(
            "<?xml version=\"1.0\"?><R xmlns=\"x\"><volumeSet><item><volumeId>vol-1</volumeId>\
             <attachmentSet><item><state>attached</state></item></attachmentSet></item>\
             <item><volumeId>vol-2</volumeId><attachmentSet/></item></volumeSet></R>",
        );
        assert_eq!(b.text("volumeId").as_deref(), Some("vol-1"));
        assert_eq!(
            b.text("volumeSet/item[1]/volumeId").as_deref(),
            Some("vol-2")
        );
        assert_eq!(b.count("volumeSet/item").unwrap(), 2);
        assert_eq!(
            b.text("attachmentSet/item/state").as_deref(),
            Some("attached")
        );
        assert_eq!(b.count("nothing").unwrap(), 0);
        let j = Body::parse(
            r#"{"KeyMetadata":{"KeyState":"Disabled"},"Keys":[{"KeyId":"k1"},{"KeyId":"k2"}]}"#,
        );
        assert_eq!(j.text("KeyMetadata/KeyState").as_deref(), Some("Disabled"));
        assert_eq!(j.text("Keys[1]/KeyId").as_deref(), Some("k2"));
        assert_eq!(j.text("/Keys/0/KeyId").as_deref(), Some("k1"));
        assert_eq!(j.count("Keys").unwrap(), 2);
        assert!(j.count("Keys[x]").is_err());
    }
}
