//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, and the escapes `${*}`, `${?}`,
//! `${$}` for literal wildcard characters. Only policies with `Version: 2012-10-17` have them; in
//! older policies `${...}` is plain text.
//!
//! A value with variables is parsed once into parts. At evaluation each variable stands for the
//! first value of its context key; a key missing from the request makes the value match nothing.
//! Substituted text is always literal: a request value containing `*` cannot widen a pattern.

use super::context::{normalize_key, RequestContext};
use super::wildcard::{self, Atom, Pattern};

/// One piece of a value that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Policy text; in glob contexts its `*` and `?` are wildcards.
    Text(String),
    /// A character from `${*}`, `${?}` or `${$}`: always literal.
    Escaped(char),
    /// A context key, normalised.
    Var(String),
}

/// Splits `text` into parts. `allow_variables` is false for 2008-10-17 policies.
fn parse_parts(text: &str, allow_variables: bool) -> Result<Vec<Part>, String> {
    if !allow_variables {
        return Ok(vec![Part::Text(text.to_owned())]);
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unterminated policy variable in \"{text}\""));
        };
        let inner = &after[..end];
        parts.push(match inner {
            "*" => Part::Escaped('*'),
            "?" => Part::Escaped('?'),
            "$" => Part::Escaped('$'),
            _ if inner.contains(',') || inner.contains('\'') => {
                return Err(format!(
                "unsupported policy variable \"${{{inner}}}\" (default values are not supported)"
            ))
            }
            _ if is_key_name(inner) => Part::Var(normalize_key(inner)),
            _ => return Err(format!("unsupported policy variable \"${{{inner}}}\"")),
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(parts)
}

/// A condition key name: `prefix:name`, both parts non-empty, no spaces or braces.
pub(crate) fn is_key_name(s: &str) -> bool {
    let Some((prefix, name)) = s.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && !name.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | '$'))
}

/// A value compared for equality (`StringEquals` and friends), possibly with variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal {
    parts: Vec<Part>,
}

impl Literal {
    pub(crate) fn parse(text: &str, allow_variables: bool) -> Result<Literal, String> {
        Ok(Literal {
            parts: parse_parts(text, allow_variables)?,
        })
    }

    /// Is `text` equal to this value with its variables substituted? Walks the parts against the
    /// text, so it does not build the substituted string.
    pub(crate) fn matches(&self, ctx: &RequestContext, text: &str, case_insensitive: bool) -> bool {
        let mut rest = text;
        for part in &self.parts {
            let piece: &str = match part {
                Part::Text(t) => t,
                Part::Escaped(c) => {
                    let mut buf = [0u8; 4];
                    let piece: &str = c.encode_utf8(&mut buf);
                    match wildcard::strip_prefix(rest, piece, case_insensitive) {
                        Some(r) => {
                            rest = r;
                            continue;
                        }
                        None => return false,
                    }
                }
                Part::Var(key) => match ctx.first_normalized(key) {
                    Some(v) => v,
                    None => return false,
                },
            };
            match wildcard::strip_prefix(rest, piece, case_insensitive) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

/// A glob value (`Resource`, `StringLike`, `ArnLike`), possibly with variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// No variables: compiled once.
    Static(Pattern),
    /// Variables: substituted and matched per request (this allocates, but only for such values).
    Dynamic {
        parts: Vec<Part>,
        case_insensitive: bool,
    },
}

impl Glob {
    pub(crate) fn parse(
        text: &str,
        allow_variables: bool,
        case_insensitive: bool,
    ) -> Result<Glob, String> {
        let parts = parse_parts(text, allow_variables)?;
        if parts.iter().any(|p| matches!(p, Part::Var(_))) {
            return Ok(Glob::Dynamic {
                parts,
                case_insensitive,
            });
        }
        let mut atoms = Vec::new();
        for part in &parts {
            match part {
                Part::Text(t) => atoms.extend(wildcard::atoms(t)),
                Part::Escaped(c) => atoms.push(Atom::Char(*c)),
                Part::Var(_) => {}
            }
        }
        Ok(Glob::Static(Pattern::from_atoms(atoms, case_insensitive)))
    }

    /// Does `text` match this glob with its variables substituted?
    pub(crate) fn matches(&self, ctx: &RequestContext, text: &str) -> bool {
        match self {
            Glob::Static(p) => p.is_match(text),
            Glob::Dynamic {
                parts,
                case_insensitive,
            } => {
                let mut atoms = Vec::new();
                for part in parts {
                    match part {
                        Part::Text(t) => atoms.extend(wildcard::atoms(t)),
                        Part::Escaped(c) => atoms.push(Atom::Char(*c)),
                        Part::Var(key) => match ctx.first_normalized(key) {
                            Some(v) => atoms.extend(v.chars().map(Atom::Char)),
                            None => return false,
                        },
                    }
                }
                wildcard::match_atoms(&atoms, text, *case_insensitive)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("iam:GetUser", "*")
            .with("aws:username", "alice")
            .with("aws:PrincipalTag/team", "a*b")
    }

    #[test]
    fn parses_variables_and_escapes() {
        assert_eq!(
            parse_parts("arn:${aws:username}/${*}${?}${$}x", true).unwrap(),
            vec![
                Part::Text("arn:".into()),
                Part::Var("aws:username".into()),
                Part::Text("/".into()),
                Part::Escaped('*'),
                Part::Escaped('?'),
                Part::Escaped('$'),
                Part::Text("x".into()),
            ]
        );
        assert_eq!(
            parse_parts("${aws:username}", false).unwrap(),
            vec![Part::Text("${aws:username}".into())]
        );
        assert_eq!(
            parse_parts("$ {x} $", true).unwrap(),
            vec![Part::Text("$ {x} $".into())]
        );
    }

    #[test]
    fn rejects_malformed_variables() {
        assert!(parse_parts("a${aws:username", true)
            .unwrap_err()
            .contains("unterminated"));
        assert!(parse_parts("${aws:username, 'x'}", true)
            .unwrap_err()
            .contains("default"));
        assert!(parse_parts("${}", true)
            .unwrap_err()
            .contains("unsupported policy variable"));
        assert!(parse_parts("${username}", true).is_err());
    }

    #[test]
    fn literal_substitutes_first_value() {
        let lit = Literal::parse("home/${aws:username}", true).unwrap();
        assert!(lit.matches(&ctx(), "home/alice", false));
        assert!(!lit.matches(&ctx(), "home/alicex", false));
        assert!(!lit.matches(&ctx(), "home/bob", false));
        assert!(lit.matches(&ctx(), "HOME/ALICE", true));
        let absent = RequestContext::new("iam:GetUser", "*");
        assert!(!lit.matches(&absent, "home/", false));
        assert!(!lit.matches(&absent, "home/${aws:username}", false));
        let esc = Literal::parse("a${*}", true).unwrap();
        assert!(esc.matches(&ctx(), "a*", false));
        assert!(!esc.matches(&ctx(), "ab", false));
    }

    #[test]
    fn glob_variables_are_literal_text() {
        let g = Glob::parse("arn:aws:iam::1:user/${aws:username}/*", true, false).unwrap();
        assert!(matches!(g, Glob::Dynamic { .. }));
        assert!(g.matches(&ctx(), "arn:aws:iam::1:user/alice/key"));
        assert!(!g.matches(&ctx(), "arn:aws:iam::1:user/bob/key"));
        // The tag value contains '*', which must not act as a wildcard.
        let tag = Glob::parse("${aws:PrincipalTag/team}", true, false).unwrap();
        assert!(tag.matches(&ctx(), "a*b"));
        assert!(!tag.matches(&ctx(), "axxb"));
        assert!(!g.matches(&RequestContext::new("x:y", "*"), "arn:aws:iam::1:user//key"));
    }

    #[test]
    fn glob_escapes_are_literal_wildcards() {
        let g = Glob::parse("a${*}b*", true, false).unwrap();
        assert!(matches!(g, Glob::Static(_)));
        assert!(g.matches(&ctx(), "a*bzzz"));
        assert!(!g.matches(&ctx(), "axbzzz"));
        assert!(Glob::parse("*", true, false)
            .unwrap()
            .matches(&ctx(), "anything"));
        let star = Glob::parse("${*}", true, false).unwrap();
        assert!(star.matches(&ctx(), "*"));
        assert!(!star.matches(&ctx(), "x"));
    }
}
