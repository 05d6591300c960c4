//! One thing wrong with a recipe, positioned in the recipe file.

use std::ops::Range;

/// A recipe problem: what is wrong, where (byte span in the recipe file), and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// Stable machine-readable code, e.g. `recipe::unknown-key`.
    pub code: &'static str,
    pub message: String,
    pub span: Range<usize>,
    /// Short text shown under the offending token.
    pub label: String,
    /// The name the author most likely meant, if any.
    pub suggestion: Option<String>,
    /// Advice shown as `help:`.
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>, span: Range<usize>) -> Self {
        Problem {
            code,
            message: message.into(),
            span,
            label: String::from("here"),
            suggestion: None,
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Records `suggestion` and phrases the help as "did you mean …?".
    pub fn suggest(mut self, suggestion: Option<&str>) -> Self {
        if let Some(name) = suggestion {
            self.help = Some(format!("did you mean `{name}`?"));
            self.suggestion = Some(name.to_string());
        }
        self
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_is_one_based() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 99), (3, 2));
    }
}
