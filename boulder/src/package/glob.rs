//! Path globs with the semantics the original collector relies on.
//!
//! The original matches collection rules with the defaults of Rust's `glob`
//! crate: `*` and `?` also match `/`, a leading `.` needs no literal match,
//! matching is case-sensitive and there is no backslash escape (`[*]` matches a
//! literal `*`). `**` must be a whole path component: `a/**/b` matches `a/b`,
//! `a/x/b` and `a/x/y/b`; a trailing `/**` matches everything below.
//! Alternation (`{a,b}`) does not exist there, so `{` and `}` are literal here
//! too. That is why this is not `globset`, whose `{a,b}` and `**` rules differ.
//!
//! Matching is a dynamic programme over (token, character), so it is linear in
//! `pattern × path` and has no exponential backtracking.

use thiserror::Error;

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

/// Why a pattern is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GlobError {
    #[error(
        "glob `{pattern}`: `**` must be a whole path component (like `a/**/b`), at column {column}"
    )]
    RecursiveNotComponent { pattern: String, column: usize },
    #[error(
        "glob `{pattern}`: the character class opened at column {column} is never closed with `]`"
    )]
    UnclosedClass { pattern: String, column: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    /// Any sequence of characters, `/` included.
    AnySequence,
    /// `**/`: nothing, or any sequence that ends with `/`.
    AnyDirectories,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '?' => {
                    tokens.push(Token::AnyChar);
                    i += 1;
                }
                '*' if chars.get(i + 1) == Some(&'*') => {
                    let starts_component = i == 0 || chars[i - 1] == '/';
                    let after = chars.get(i + 2);
                    if !starts_component || !matches!(after, None | Some('/')) {
                        return Err(GlobError::RecursiveNotComponent {
                            pattern: pattern.to_string(),
                            column: i + 1,
                        });
                    }
                    if after.is_some() {
                        tokens.push(Token::AnyDirectories);
                        i += 3;
                    } else {
                        tokens.push(Token::AnySequence);
                        i += 2;
                    }
                }
                '*' => {
                    // Consecutive stars add nothing.
                    if tokens.last() != Some(&Token::AnySequence) {
                        tokens.push(Token::AnySequence);
                    }
                    i += 1;
                }
                '[' => {
                    let (class, next) =
                        parse_class(&chars, i).ok_or_else(|| GlobError::UnclosedClass {
                            pattern: pattern.to_string(),
                            column: i + 1,
                        })?;
                    tokens.push(class);
                    i = next;
                }
                c => {
                    tokens.push(Token::Literal(c));
                    i += 1;
                }
            }
        }
        Ok(Self {
            source: pattern.to_string(),
            tokens,
        })
    }

    /// Whether the whole of `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        let n = text.len();
        // `next[j]`: tokens after the current one match `text[j..]`.
        let mut next = vec![false; n + 1];
        next[n] = true;
        let mut current = vec![false; n + 1];
        for token in self.tokens.iter().rev() {
            // `dir_tail`: some `k >= j` has `text[k] == '/'` and `next[k + 1]`.
            let mut dir_tail = false;
            for j in (0..=n).rev() {
                current[j] = match token {
                    Token::AnySequence => next[j] || (j < n && current[j + 1]),
                    Token::AnyDirectories => {
                        if j < n && text[j] == '/' && next[j + 1] {
                            dir_tail = true;
                        }
                        next[j] || dir_tail
                    }
                    Token::AnyChar => j < n && next[j + 1],
                    Token::Literal(c) => j < n && text[j] == *c && next[j + 1],
                    Token::Class { negated, ranges } => {
                        j < n
                            && next[j + 1]
                            && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&text[j]))
                                != *negated
                    }
                };
            }
            std::mem::swap(&mut next, &mut current);
        }
        next[0]
    }
}

/// Parses `[...]` starting at `open`; returns the token and the index after `]`.
fn parse_class(chars: &[char], open: usize) -> Option<(Token, usize)> {
    let mut i = open + 1;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    // A `]` right after the opening (or after `!`) is a literal member.
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&end| end != ']') {
            let end = chars[i + 2];
            ranges.push((c, end));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern)
            .expect("valid test pattern")
            .matches(path)
    }

    #[test]
    fn star_crosses_slashes_and_dots() {
        assert!(m("*", "/usr/lib/libfoo.so.1"));
        assert!(m("/usr/lib/*.a", "/usr/lib/sub/dir/libx.a"));
        assert!(m("/usr/lib/lib*.so", "/usr/lib/libgreet.so"));
        assert!(!m("/usr/lib/lib*.so", "/usr/lib/libgreet.so.1"));
        assert!(m("/usr/lib32/lib*.so.*", "/usr/lib32/libgreet.so.1"));
        assert!(m("/usr/*/.hidden", "/usr/share/.hidden"));
    }

    #[test]
    fn question_mark_and_classes() {
        assert!(m("/usr/lib/qt?/examples", "/usr/lib/qt6/examples"));
        assert!(m("/usr/share/man/man[1-8]", "/usr/share/man/man3"));
        assert!(!m("/usr/share/man/man[1-8]", "/usr/share/man/man9"));
        assert!(m("/usr/share/man/man[!1-8]", "/usr/share/man/man9"));
        assert!(m("a[]]b", "a]b"));
        assert!(m("a[*]b", "a*b"));
        assert!(!m("a[*]b", "axb"));
        assert!(m("a?b", "a/b"));
    }

    #[test]
    fn recursive_components() {
        assert!(m("/usr/**/b", "/usr/b"));
        assert!(m("/usr/**/b", "/usr/x/y/b"));
        assert!(!m("/usr/**/b", "/usr/xb"));
        assert!(m("/usr/include/**", "/usr/include/greet/greet.h"));
        assert!(m("**", "/anything/at/all"));
        assert!(m("**/x.pc", "/usr/lib/pkgconfig/x.pc"));
    }

    #[test]
    fn literal_braces_and_case() {
        assert!(m("/usr/{a,b}", "/usr/{a,b}"));
        assert!(!m("/usr/{a,b}", "/usr/a"));
        assert!(!m("/usr/Bin", "/usr/bin"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(matches!(
            Glob::new("/usr/a**"),
            Err(GlobError::RecursiveNotComponent { column: 7, .. })
        ));
        assert!(matches!(
            Glob::new("/usr/**b"),
            Err(GlobError::RecursiveNotComponent { .. })
        ));
        assert!(matches!(
            Glob::new("/usr/[ab"),
            Err(GlobError::UnclosedClass { column: 6, .. })
        ));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(40);
        let path = "a".repeat(39);
        assert!(!m(&pattern, &path));
        assert!(m(&pattern, &"a".repeat(40)));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(pattern in "[a-c*?\\[\\]!/-]{0,12}", path in "[a-c/]{0,12}") {
            if let Ok(glob) = Glob::new(&pattern) {
                let _ = glob.matches(&path);
            }
        }

        #[test]
        fn literal_patterns_match_only_themselves(a in "[a-z/.]{0,10}", b in "[a-z/.]{0,10}") {
            let glob = Glob::new(&a).expect("no special characters");
            proptest::prop_assert_eq!(glob.matches(&b), a == b);
        }
    }
}
