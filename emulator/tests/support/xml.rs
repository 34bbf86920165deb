//! A small XML tree for reading AWS query-protocol answers in tests (quick-xml underneath, so a
//! badly escaped answer fails to parse instead of being read loosely).

#![allow(dead_code)]

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children called `name`.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a path of child names (`["volumeSet", "item"]`), every match at each step.
    pub fn path<'a>(&'a self, names: &[&str]) -> Vec<&'a Node> {
        let mut at = vec![self];
        for name in names {
            at = (at.into_iter())
                .flat_map(|n| n.children.iter().filter(|c| c.name == *name))
                .collect();
        }
        at
    }

    /// The text of the first child called `name` (empty when absent).
    pub fn text_of(&self, name: &str) -> String {
        self.child(name).map(|c| c.text.clone()).unwrap_or_default()
    }
}

/// The document's root element.
pub fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().map_err(|e| format!("{e}: {xml}"))? {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                ..Default::default()
            }),
            Event::Empty(e) => {
                let node = Node {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    ..Default::default()
                };
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("{e}: {xml}"))?;
                stack.last_mut().ok_or("unbalanced")?.text.push_str(&text);
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced")?;
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut top = stack.pop().ok_or("empty")?;
    if !stack.is_empty() || top.children.len() != 1 {
        return Err(format!("not one root element: {xml}"));
    }
    Ok(top.children.remove(0))
}
