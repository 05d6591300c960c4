//! Edits of a recipe's text at the spans the parser recorded, so that
//! comments, layout and every untouched byte stay as they were.

use std::ops::Range;

/// Replacements of byte ranges of one text.
#[derive(Debug, Default, Clone)]
pub struct TextEdits {
    edits: Vec<(Range<usize>, String)>,
}

impl TextEdits {
    pub fn new() -> Self {
        TextEdits::default()
    }

    /// Replace `span` with `text`. Spans must not overlap.
    pub fn replace(&mut self, span: Range<usize>, text: impl Into<String>) {
        self.edits.push((span, text.into()));
    }

    /// `source` with every replacement made.
    pub fn apply(&self, source: &str) -> String {
        let mut edits: Vec<&(Range<usize>, String)> = self.edits.iter().collect();
        edits.sort_by_key(|(span, _)| span.start);
        let mut out = String::with_capacity(source.len());
        let mut at = 0;
        for (span, text) in edits {
            let start = span.start.clamp(at, source.len());
            out.push_str(&source[at..start]);
            out.push_str(text);
            at = span.end.clamp(start, source.len());
        }
        out.push_str(&source[at..]);
        out
    }
}

/// `value` written as a YAML scalar in the style of `original` (the source
/// text of the scalar it replaces): the same quotes, or plain when plain
/// stays a string that reads back as `value`, or double quotes otherwise.
pub fn scalar_like(original: &str, value: &str) -> String {
    let original = original.trim();
    if original.starts_with('\'') {
        return format!("'{}'", value.replace('\'', "''"));
    }
    if original.starts_with('"') || !plain_is_safe(value) {
        return double_quoted(value);
    }
    value.to_string()
}

/// `value` in double quotes, escaped.
pub fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `value` written plain reads back as the same string (not a
/// number, boolean or null, and no character YAML gives a meaning).
fn plain_is_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if value.ends_with(char::is_whitespace)
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || value.contains('\n')
    {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let special = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | ".inf" | ".nan"
    );
    !special
        && value.parse::<f64>().is_err()
        && !value.starts_with("0x")
        && !value.starts_with("0o")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_replace_only_their_spans() {
        let text = "a: 1 # one\nb: x\n";
        let mut edits = TextEdits::new();
        edits.replace(14..15, "yy");
        edits.replace(3..4, "2");
        assert_eq!(edits.apply(text), "a: 2 # one\nb: yy\n");
    }

    #[test]
    fn scalars_keep_their_quoting_and_stay_strings() {
        assert_eq!(scalar_like("\"1.0\"", "1.1"), "\"1.1\"");
        assert_eq!(scalar_like("'1.0'", "it's"), "'it''s'");
        assert_eq!(scalar_like("1.0.1", "1.0.2"), "1.0.2");
        assert_eq!(scalar_like("1.0.1", "1.10"), "\"1.10\"");
        assert_eq!(scalar_like("v1", "yes"), "\"yes\"");
        assert_eq!(scalar_like("x", "a: b"), "\"a: b\"");
    }
}
