//! Glob matching as IAM does it: `*` matches any run of characters (including none), `?` matches
//! exactly one character, everything else matches itself.
//!
//! The matcher is the classic iterative one with a single backtrack point (the most recent `*`),
//! which runs in O(pattern × text) at worst. A recursive matcher would be exponential on patterns
//! such as `*a*a*a*a*b`, and policy text is user input, so that is not an option on the request path.
//!
//! Patterns are compiled once (at policy load) into a [`Pattern`], which recognises the shapes
//! that dominate real policies (`*`, a literal, `prefix*`) and matches them without the general
//! loop; nothing here allocates while matching.

/// One element of a compiled glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Atom {
    /// A character that must match itself (compared case-insensitively if the pattern says so).
    Char(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Any,
}

/// Splits glob text into atoms; `*` and `?` are wildcards.
pub(crate) fn atoms(pattern: &str) -> impl Iterator<Item = Atom> + '_ {
    pattern.chars().map(|c| match c {
        '*' => Atom::Any,
        '?' => Atom::One,
        c => Atom::Char(c),
    })
}

/// Character equality, optionally ignoring case. ASCII takes the cheap path; other characters
/// compare their full lowercase mappings (which may be several characters) without allocating.
#[inline]
pub(crate) fn char_eq(a: char, b: char, case_insensitive: bool) -> bool {
    if a == b {
        return true;
    }
    if !case_insensitive {
        return false;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(&b);
    }
    a.to_lowercase().eq(b.to_lowercase())
}

/// If `text` starts with `prefix` (char by char, optionally ignoring case), the rest of `text`.
pub(crate) fn strip_prefix<'t>(
    text: &'t str,
    prefix: &str,
    case_insensitive: bool,
) -> Option<&'t str> {
    if !case_insensitive {
        return text.strip_prefix(prefix);
    }
    let mut rest = text.char_indices();
    for p in prefix.chars() {
        match rest.next() {
            Some((_, t)) if char_eq(p, t, true) => {}
            _ => return None,
        }
    }
    let used = rest.next().map_or(text.len(), |(i, _)| i);
    text.get(used..)
}

/// Whole-string equality, optionally ignoring case (char by char, as [`char_eq`] defines it).
pub(crate) fn str_eq(a: &str, b: &str, case_insensitive: bool) -> bool {
    if !case_insensitive {
        return a == b;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    strip_prefix(a, b, true).is_some_and(str::is_empty)
}

/// Random access to a glob's atoms: a compiled `[Atom]`, or raw pattern text decoded in place
/// (so that [`matches`] needs no compiled form). `atom_at(i)` is the atom at position `i` and
/// the position after it.
trait Atoms {
    fn atom_at(&self, i: usize) -> Option<(Atom, usize)>;
}

impl Atoms for [Atom] {
    #[inline]
    fn atom_at(&self, i: usize) -> Option<(Atom, usize)> {
        self.get(i).map(|a| (*a, i + 1))
    }
}

impl Atoms for str {
    #[inline]
    fn atom_at(&self, i: usize) -> Option<(Atom, usize)> {
        let c = self.get(i..)?.chars().next()?;
        let atom = match c {
            '*' => Atom::Any,
            '?' => Atom::One,
            c => Atom::Char(c),
        };
        Some((atom, i + c.len_utf8()))
    }
}

/// The matcher proper: does the whole of `text` match `pattern`?
fn glob_match<P: Atoms + ?Sized>(pattern: &P, text: &str, case_insensitive: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // After a `*`: the pattern position just past it, and the text position it is currently
    // assumed to stretch to. On a mismatch the star absorbs one more character and matching
    // resumes there.
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = text.get(ti..).and_then(|rest| rest.chars().next()) {
        match pattern.atom_at(pi) {
            Some((Atom::Any, next)) => {
                star = Some((next, ti));
                pi = next;
                continue;
            }
            Some((Atom::One, next)) => {
                pi = next;
                ti += c.len_utf8();
                continue;
            }
            Some((Atom::Char(p), next)) if char_eq(p, c, case_insensitive) => {
                pi = next;
                ti += c.len_utf8();
                continue;
            }
            _ => {}
        }
        let Some((after_star, star_end)) = star else {
            return false;
        };
        let Some(absorbed) = text.get(star_end..).and_then(|rest| rest.chars().next()) else {
            return false;
        };
        let resume = star_end + absorbed.len_utf8();
        star = Some((after_star, resume));
        pi = after_star;
        ti = resume;
    }
    // The text is used up; what is left of the pattern must be stars.
    while let Some((atom, next)) = pattern.atom_at(pi) {
        if atom != Atom::Any {
            return false;
        }
        pi = next;
    }
    true
}

/// Matches a sequence of atoms against the whole of `text`.
pub(crate) fn match_atoms(pattern: &[Atom], text: &str, case_insensitive: bool) -> bool {
    glob_match(pattern, text, case_insensitive)
}

/// Does `text` match the glob `pattern` (`*` any run, `?` one character)?
///
/// Works on the pattern text directly and does not allocate; policies precompile into
/// [`Pattern`] instead, which adds fast paths for the common shapes.
pub fn matches(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    glob_match(pattern, text, case_insensitive)
}

/// A glob compiled for repeated matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    shape: Shape,
    case_insensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// `*` (or `**`...): matches everything.
    Anything,
    /// No wildcards.
    Literal(String),
    /// Literal text followed by a single trailing `*`, e.g. `ec2:Describe*`.
    Prefix(String),
    /// Anything else.
    Glob(Vec<Atom>),
}

impl Pattern {
    /// Compiles glob text (`*` and `?` are wildcards).
    pub fn new(pattern: &str, case_insensitive: bool) -> Pattern {
        Pattern::from_atoms(atoms(pattern).collect(), case_insensitive)
    }

    /// Compiles atoms; escaped wildcards (policy variables `${*}`, `${?}`) arrive here as
    /// [`Atom::Char`], which is why literal shapes are rebuilt from atoms rather than from text.
    pub(crate) fn from_atoms(atoms: Vec<Atom>, case_insensitive: bool) -> Pattern {
        let literal = |atoms: &[Atom]| -> Option<String> {
            atoms
                .iter()
                .map(|a| match a {
                    Atom::Char(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        let shape = if !atoms.is_empty() && atoms.iter().all(|a| *a == Atom::Any) {
            Shape::Anything
        } else if let Some(text) = literal(&atoms) {
            Shape::Literal(text)
        } else if let Some((Atom::Any, head)) = atoms.split_last() {
            match literal(head) {
                Some(text) => Shape::Prefix(text),
                None => Shape::Glob(atoms),
            }
        } else {
            Shape::Glob(atoms)
        };
        Pattern {
            shape,
            case_insensitive,
        }
    }

    /// Does the whole of `text` match?
    #[inline]
    pub fn is_match(&self, text: &str) -> bool {
        let ci = self.case_insensitive;
        match &self.shape {
            Shape::Anything => true,
            Shape::Literal(lit) => str_eq(lit, text, ci),
            Shape::Prefix(prefix) => strip_prefix(text, prefix, ci).is_some(),
            Shape::Glob(atoms) => match_atoms(atoms, text, ci),
        }
    }

    /// True for a pattern that matches every string (`*`).
    pub fn matches_everything(&self) -> bool {
        self.shape == Shape::Anything
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn literals_and_wildcards() {
        assert!(matches("abc", "abc", false));
        assert!(!matches("abc", "abcd", false));
        assert!(!matches("abc", "ab", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches("a*c", "ac", false));
        assert!(matches("a*c", "abbbc", false));
        assert!(!matches("a*c", "abbbd", false));
        assert!(matches("*", "", false));
        assert!(matches("", "", false));
        assert!(!matches("", "a", false));
        assert!(matches("**", "anything", false));
        assert!(matches("*?", "x", false));
        assert!(!matches("*?", "", false));
        assert!(matches("ec2:Describe*", "ec2:DescribeInstances", false));
        assert!(!matches("ec2:Describe*", "ec2:CreateVolume", false));
        assert!(matches("*Volume", "ec2:CreateVolume", false));
        assert!(matches("a*b*c", "aXbYc", false));
        assert!(!matches("a*b*c", "aXcYb", false));
    }

    #[test]
    fn case_folding() {
        assert!(matches("EC2:describe*", "ec2:DescribeInstances", true));
        assert!(!matches("EC2:describe*", "ec2:DescribeInstances", false));
        assert!(matches("ÄB?", "äbc", true));
        assert!(!matches("ÄB?", "äbc", false));
        assert!(str_eq("Straße", "STRAßE", true));
    }

    #[test]
    fn multibyte_text_counts_characters_not_bytes() {
        assert!(matches("a?c", "aéc", false));
        assert!(matches("??", "日本", false));
        assert!(!matches("???", "日本", false));
        assert!(matches("*本", "日本", false));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = format!("{}b", "*a".repeat(40));
        let text = "a".repeat(5000);
        let start = std::time::Instant::now();
        assert!(!matches(&pattern, &text, false));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn shapes() {
        assert!(Pattern::new("*", false).matches_everything());
        assert!(Pattern::new("***", false).matches_everything());
        assert_eq!(
            Pattern::new("ec2:*", true).shape,
            Shape::Prefix("ec2:".into())
        );
        assert_eq!(
            Pattern::new("abc", true).shape,
            Shape::Literal("abc".into())
        );
        assert!(matches!(Pattern::new("a*b", true).shape, Shape::Glob(_)));
        // An escaped star is a literal character, not a wildcard.
        let escaped = Pattern::from_atoms(vec![Atom::Char('a'), Atom::Char('*')], false);
        assert!(escaped.is_match("a*"));
        assert!(!escaped.is_match("ab"));
    }

    /// The obvious exponential matcher, trusted because it is short.
    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_reference(p in "[ab*?]{0,8}", t in "[ab]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(matches(&p, &t, false), reference(&pc, &tc), "pattern {:?} text {:?}", p, t);
        }

        #[test]
        fn case_insensitive_agrees_with_lowercased_reference(p in "[aAbB*?]{0,8}", t in "[aAbB]{0,10}") {
            let pc: Vec<char> = p.to_lowercase().chars().collect();
            let tc: Vec<char> = t.to_lowercase().chars().collect();
            prop_assert_eq!(matches(&p, &t, true), reference(&pc, &tc));
        }

        /// The compiled form, fast paths included, agrees with matching the raw text.
        #[test]
        fn compiled_agrees_with_raw(p in "[aAb*?]{0,6}", t in "[aAb]{0,8}", ci in any::<bool>()) {
            prop_assert_eq!(Pattern::new(&p, ci).is_match(&t), matches(&p, &t, ci));
        }
    }
}
