//! One thing wrong with a recipe, positioned in the recipe file.

use std::ops::Range;

/// How a problem weighs: what `recipe check`, `build` and `recipe expand` do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// The recipe cannot be used: refused everywhere.
    #[default]
    Error,
    /// A mistake that upstream boulder silently accepts (an unknown key it ignores):
    /// an error for `recipe check` and for `--strict`, a warning for `build` and
    /// `recipe expand`, which go on as upstream would.
    Tolerated,
    /// Worth saying, never a reason to refuse (a package defined twice, merged).
    Warning,
}

/// Which problems refuse a recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// `recipe check`, `build --strict`: every mistake is an error.
    Strict,
    /// `build`, `recipe expand`: what upstream accepts is only warned about.
    Lenient,
}

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
    pub severity: Severity,
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
            severity: Severity::Error,
        }
    }

    /// Marks the problem as one upstream boulder accepts (see [`Severity::Tolerated`]).
    pub fn tolerated(mut self) -> Self {
        self.severity = Severity::Tolerated;
        self
    }

    /// Marks the problem as a warning only.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Whether this problem refuses the recipe under `strictness`.
    pub fn is_error(&self, strictness: Strictness) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Tolerated => strictness == Strictness::Strict,
            Severity::Warning => false,
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

/// Line and column lookups for many offsets of one text: the line starts are found once,
/// each lookup is a binary search, and columns of offsets given in ascending order on the
/// same line are counted on from the previous one, so diagnostics for any number of
/// problems (even on one very long line) cost time linear in the text and their count.
#[derive(Debug)]
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
    /// The last lookup: (byte offset, 1-based column).
    last: std::cell::Cell<(usize, usize)>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            text,
            starts,
            last: std::cell::Cell::new((0, 1)),
        }
    }

    pub fn text(&self) -> &'t str {
        self.text
    }

    /// `offset` moved back onto a character boundary inside the text.
    pub fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// How many lines the text has (a final line break starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of 1-based line `line`, without its line break.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line.clamp(1, self.starts.len()) - 1];
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        start..end.max(start)
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.starts.partition_point(|start| *start <= offset)
    }

    /// 1-based line and column (in characters) of byte `offset`, as [`line_column`].
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.starts.partition_point(|start| *start <= offset);
        let line_start = self.starts[line - 1];
        let (last_offset, last_column) = self.last.get();
        let column = if last_offset >= line_start && last_offset <= offset {
            last_column + self.text[last_offset..offset].chars().count()
        } else {
            self.text[line_start..offset].chars().count() + 1
        };
        self.last.set((offset, column));
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_line_column() {
        let text = "ab\ncdé\nf\n\nxyz";
        let index = LineIndex::new(text);
        for offset in [0, 1, 3, 5, 4, 8, 9, 10, 12, 2, 99] {
            assert_eq!(
                index.line_column(offset),
                line_column(text, offset),
                "{offset}"
            );
        }
        assert_eq!(&text[index.line_range(2)], "cdé");
        assert_eq!(&text[index.line_range(4)], "");
        assert_eq!(&text[index.line_range(5)], "xyz");
    }

    #[test]
    fn line_column_is_one_based() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 99), (3, 2));
    }
}
