//! Volatile path patterns: `*` matches within one path component, `**`
//! matches any number of components.

/// A compiled path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.trim_matches('/').to_string(),
        }
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// True when `path` matches the pattern.
    pub fn matches(&self, path: &str) -> bool {
        let pat: Vec<&str> = self.pattern.split('/').collect();
        let comps: Vec<&str> = path.split('/').collect();
        match_components(&pat, &comps)
    }
}

fn match_components(pat: &[&str], comps: &[&str]) -> bool {
    match pat.split_first() {
        None => comps.is_empty(),
        Some((&"**", rest)) => (0..=comps.len()).any(|i| match_components(rest, &comps[i..])),
        Some((p, rest)) => match comps.split_first() {
            Some((c, crest)) => {
                match_segment(p.as_bytes(), c.as_bytes()) && match_components(rest, crest)
            }
            None => false,
        },
    }
}

fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| match_segment(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && match_segment(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && match_segment(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_double_stars() {
        assert!(Glob::new("**/RECORD").matches("lib/x-1.dist-info/RECORD"));
        assert!(Glob::new("**/*.pyc").matches("a/__pycache__/b.cpython-39.pyc"));
        assert!(!Glob::new("*.pyc").matches("a/b.pyc"));
        assert!(Glob::new("lib/**").matches("lib/a/b"));
        assert!(!Glob::new("lib/*/c").matches("lib/a/b/c"));
    }
}
