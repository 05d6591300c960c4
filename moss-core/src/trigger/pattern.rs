//! Trigger path patterns: fnmatch-style globs with named captures.
//!
//! `?` matches one character, `*` a run of characters without `/`, `**`
//! anything (including `/`), `(name:subpattern)` captures what `subpattern`
//! matched under `name`. Everything else is literal; unlike the original,
//! regex metacharacters in literal text (`+`, `[`, `{`, `.`) stay literal.

use std::collections::BTreeMap;

use regex::Regex;

use super::TriggerError;

/// A compiled path pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
    captures: Vec<String>,
}

/// Captured values by name.
pub type Captures = BTreeMap<String, String>;

impl Pattern {
    pub fn new(source: &str) -> Result<Self, TriggerError> {
        let bad = |why: &str| TriggerError::Pattern {
            pattern: source.to_string(),
            why: why.to_string(),
        };
        let mut regex = String::from("^");
        let mut captures: Vec<String> = Vec::new();
        let mut open = false;
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    regex.push_str(".*");
                }
                '*' => regex.push_str("[^/]*"),
                '?' => regex.push('.'),
                '(' => {
                    if open {
                        return Err(bad("captures cannot be nested"));
                    }
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some(':') => break,
                            Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' => name.push(ch),
                            _ => return Err(bad("a capture must start with `(name:`")),
                        }
                    }
                    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                        return Err(bad(
                            "a capture name must be a word not starting with a digit",
                        ));
                    }
                    if captures.contains(&name) {
                        return Err(bad(&format!("capture `{name}` appears twice")));
                    }
                    regex.push_str(&format!("(?P<{name}>"));
                    captures.push(name);
                    open = true;
                }
                ')' if open => {
                    regex.push(')');
                    open = false;
                }
                other => regex.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
            }
        }
        if open {
            return Err(bad("unclosed capture"));
        }
        regex.push('$');
        let regex = Regex::new(&regex).map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            source: source.to_string(),
            regex,
            captures,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Names of the captures, in order of appearance.
    pub fn capture_names(&self) -> &[String] {
        &self.captures
    }

    /// The captures when `path` matches the whole pattern.
    pub fn matches(&self, path: &str) -> Option<Captures> {
        let found = self.regex.captures(path)?;
        Some(
            self.captures
                .iter()
                .map(|name| {
                    let value = found.name(name).map_or("", |m| m.as_str());
                    (name.clone(), value.to_string())
                })
                .collect(),
        )
    }
}

/// The names of the `$(var)` references in `text`.
pub fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("$(") {
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// `text` with every `$(var)` replaced by its captured value. Unknown
/// names are left as written (loading already refused them).
pub fn substitute(text: &str, captures: &Captures) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                match captures.get(&after[..end]) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(pairs: &[(&str, &str)]) -> Captures {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn capture_matches_one_component() {
        let p = Pattern::new("/usr/lib/modules/(version:*)/kernel").unwrap();
        assert_eq!(
            p.matches("/usr/lib/modules/6.1.2-1.lts/kernel"),
            Some(caps(&[("version", "6.1.2-1.lts")]))
        );
        assert_eq!(p.matches("/usr/lib/modules/a/b/kernel"), None);
        assert_eq!(p.matches("/usr/lib/modules/6.1/kernel/x"), None);
        assert_eq!(p.capture_names(), ["version"]);
    }

    #[test]
    fn double_star_crosses_directories_and_question_is_one_char() {
        let p = Pattern::new("/usr/share/(dir:**)/x?.conf").unwrap();
        assert_eq!(
            p.matches("/usr/share/a/b/c/x1.conf"),
            Some(caps(&[("dir", "a/b/c")]))
        );
        assert_eq!(p.matches("/usr/share/a/x12.conf"), None);
    }

    #[test]
    fn literal_text_is_not_a_regex() {
        let p = Pattern::new("/usr/lib/g++[1].so").unwrap();
        assert!(p.matches("/usr/lib/g++[1].so").is_some());
        assert!(p.matches("/usr/lib/gg1Xso").is_none());
        let dot = Pattern::new("/usr/a.b").unwrap();
        assert!(dot.matches("/usr/aXb").is_none());
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "/usr/(x:*",
            "/usr/(:*)",
            "/usr/(a:(b:*))",
            "/usr/(a:*)/(a:*)",
            "/usr/(1x:*)",
            "/usr/(a b:*)",
        ] {
            assert!(Pattern::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn substitution_replaces_known_names_only() {
        let c = caps(&[("version", "6.1")]);
        assert_eq!(substitute("-a $(version)", &c), "-a 6.1");
        assert_eq!(substitute("$(version)$(version)", &c), "6.16.1");
        assert_eq!(substitute("$(other) $(", &c), "$(other) $(");
        assert_eq!(references("x $(a) $(b)c $(d"), ["a", "b"]);
    }
}
