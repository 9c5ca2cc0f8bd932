//! Shell-style patterns for image references, user and group names, namespaces, runtime classes
//! and service accounts: `*` matches any run of characters (slashes and colons included), `?`
//! exactly one character, `\` makes the next character literal. A pattern matches the whole
//! string, never a part of it.

use serde::de::{self, Deserializer};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("an empty pattern matches nothing".to_string());
        }
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => {
                    if tokens.last() == Some(&Token::AnyRun) {
                        continue;
                    }
                    Token::AnyRun
                }
                '?' => Token::AnyOne,
                '\\' => match chars.next() {
                    Some(escaped) => Token::Literal(escaped),
                    None => {
                        return Err(format!("pattern \"{pattern}\" ends with a lone backslash"))
                    }
                },
                other => Token::Literal(other),
            });
        }
        Ok(Glob {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Linear-time matching with one backtrack point (the last `*`), so no pattern can make a
    /// request slow.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(Token::AnyOne) => {
                    t += 1;
                    p += 1;
                }
                Some(Token::Literal(c)) if *c == text[t] => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::AnyRun)
    }
}

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Glob::new(&s).map_err(|e| de::Error::custom(format!("invalid pattern: {e}")))
    }
}

/// A pattern that matches `name` alone: `*`, `?` and `\` are escaped.
pub fn literal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

crate::json_text::from_text_by_serde!(Glob);

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn whole_string_matching() {
        assert!(m("registry.k8s.io/*", "registry.k8s.io/pause:3.9"));
        assert!(m("*/pause:*", "registry.k8s.io/pause:3.9"));
        assert!(!m("registry.k8s.io/*", "evil.io/registry.k8s.io/x"));
        assert!(!m("nginx", "nginx:latest"));
        assert!(m("nginx", "nginx"));
        assert!(m("nginx:1.2?", "nginx:1.25"));
        assert!(!m("nginx:1.2?", "nginx:1.2"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYbc"));
        assert!(!m("a*b*c", "aXXbYYb"));
        assert!(m(r"a\*", "a*"));
        assert!(!m(r"a\*", "ab"));
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new("abc\\").is_err());
    }

    #[test]
    fn many_stars_stay_fast() {
        let g = Glob::new(&"a*".repeat(50)).unwrap();
        assert!(!g.matches(&"a".repeat(40)));
        assert!(g.matches(&"a".repeat(60)));
    }
}
