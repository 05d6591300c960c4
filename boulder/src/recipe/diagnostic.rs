//! Recipe problems as miette diagnostics pointing into the recipe file.
//!
//! A diagnostic carries a clipped snippet of the recipe, not the whole file: the
//! offending line (at most [`WINDOW`] bytes of it on either side of the problem) and
//! its short neighbours. Rendering then costs the same for the first problem of a
//! file as for the hundred-thousandth, and a line of any length renders (miette's
//! renderer cannot pad past column 65,535).

use std::ops::Range;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, Severity as MietteSeverity,
    SourceCode, SourceSpan, SpanContents,
};

use super::problem::{LineIndex, Problem, Severity, Strictness};

/// Bytes of a long line shown on either side of the problem.
pub const WINDOW: usize = 160;

/// A [`Problem`] together with the recipe file it is about, ready to render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", problem.message)]
pub struct RecipeDiagnostic {
    pub problem: Problem,
    /// The recipe file as named on the command line.
    pub file: String,
    /// 1-based line and column of the problem's start.
    pub line: usize,
    pub column: usize,
    /// Whether it is shown as an error (else a warning).
    pub is_error: bool,
    snippet: Snippet,
    /// The problem's span inside the snippet.
    label: Range<usize>,
}

impl RecipeDiagnostic {
    /// A diagnostic for one problem; for many problems of one file use
    /// [`RecipeDiagnostic::with_index`] with one shared index.
    pub fn new(name: &str, text: Arc<String>, problem: Problem) -> Self {
        Self::with_index(name, &LineIndex::new(&text), problem, Strictness::Strict)
    }

    /// A diagnostic positioned with `index`, an error or a warning under `strictness`.
    pub fn with_index(
        name: &str,
        index: &LineIndex<'_>,
        problem: Problem,
        strictness: Strictness,
    ) -> Self {
        let (line, column) = index.line_column(problem.span.start);
        let (snippet, label) = Snippet::around(name, index, &problem.span, line);
        RecipeDiagnostic {
            is_error: problem.is_error(strictness),
            problem,
            file: name.to_string(),
            line,
            column,
            snippet,
            label,
        }
    }

    /// One line for a warning list: `file:line:column: message (help)`.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.problem.message
        );
        if let Some(help) = self.help() {
            text.push_str(&format!(" ({})", help.to_string().replace('\n', "; ")));
        }
        text
    }
}

impl Diagnostic for RecipeDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.problem.code))
    }

    fn severity(&self) -> Option<MietteSeverity> {
        Some(if self.is_error {
            MietteSeverity::Error
        } else {
            MietteSeverity::Warning
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = self.problem.help.as_ref();
        match (self.problem.severity, self.is_error) {
            (Severity::Tolerated, false) => Some(Box::new(format!(
                "{}upstream boulder accepts this, so the build goes on; `--strict` refuses it",
                help.map_or(String::new(), |h| format!("{h}\n"))
            ))),
            _ => help.map(|h| Box::new(h) as Box<dyn std::fmt::Display>),
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.snippet)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new(
            Some(self.problem.label.clone()),
            self.label.start,
            self.label.end - self.label.start,
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// A few lines of the recipe around a problem, clipped, that know where they are in
/// the file.
#[derive(Debug, Clone)]
struct Snippet {
    name: String,
    text: String,
    /// 0-based file line of the snippet's first line.
    first_line: usize,
    /// 0-based snippet line of the problem, and how many bytes its shown text is
    /// shifted right against the file (clipped bytes minus the `…` shown).
    focus: usize,
    shift: usize,
}

impl Snippet {
    fn around(
        name: &str,
        index: &LineIndex<'_>,
        span: &Range<usize>,
        line: usize,
    ) -> (Snippet, Range<usize>) {
        let text = index.text();
        let whole = index.line_range(line);
        let start = index.clamp(span.start).clamp(whole.start, whole.end);
        // Clip the left only when that hides more than the `…` marker takes.
        let from = if start - whole.start > WINDOW + 8 {
            index.clamp(start - WINDOW)
        } else {
            whole.start
        };
        let to = index.clamp((start + WINDOW).min(whole.end));
        let mut snippet = String::new();
        let mut focus = 0;
        let mut first_line = line - 1;
        let clipped = from > whole.start || to < whole.end;
        if !clipped && line > 1 {
            let before = index.line_range(line - 1);
            if before.len() <= WINDOW {
                snippet.push_str(&text[before]);
                snippet.push('\n');
                focus = 1;
                first_line -= 1;
            }
        }
        let mut shift = 0;
        if from > whole.start {
            snippet.push('…');
            // miette counts columns in bytes: those skipped, less the marker's.
            shift = from - whole.start - '…'.len_utf8();
        }
        let label_start = snippet.len() + (start - from);
        snippet.push_str(&text[from..to]);
        let end = index.clamp(span.end).clamp(start, to);
        let label = label_start..label_start + (end - start);
        if to < whole.end {
            snippet.push('…');
        }
        if !clipped {
            let after = index.line_range(line + 1);
            if line < index.line_count() && after.len() <= WINDOW {
                snippet.push('\n');
                snippet.push_str(&text[after]);
            }
        }
        (
            Snippet {
                name: name.to_string(),
                text: snippet,
                first_line,
                focus,
                shift,
            },
            label,
        )
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = <str as SourceCode>::read_span(
            &self.text,
            span,
            context_lines_before,
            context_lines_after,
        )?;
        let column = if inner.line() == self.focus {
            inner.column() + self.shift
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every offset of lines around and far beyond the window, with multi-byte
    /// characters at the clip points: no panic, and the header names the file
    /// line and the byte column miette counts.
    #[test]
    fn clipped_snippets_keep_exact_positions() {
        for length in [0, 1, WINDOW - 1, WINDOW + 9, 2 * WINDOW + 3, 70_000] {
            let line: String = (0..length).map(|i| ['a', 'é', '€', 'z'][i % 4]).collect();
            let text = Arc::new(format!("first: 1\n{line}\nlast: 2\n"));
            let index = LineIndex::new(&text);
            let start = "first: 1\n".len();
            let step = (line.len() / 50).max(1);
            let mut offset = start;
            while offset <= start + line.len() {
                if text.is_char_boundary(offset) {
                    let end = (offset + 3).min(start + line.len());
                    let problem = Problem::new("recipe::test", "test", offset..end);
                    let diagnostic = RecipeDiagnostic::with_index(
                        "stone.yaml",
                        &index,
                        problem,
                        Strictness::Strict,
                    );
                    let shown = format!("{:?}", miette::Report::new(diagnostic.clone()));
                    let header = format!("[stone.yaml:2:{}]", offset - start + 1);
                    assert!(shown.contains(&header), "{length} {offset}: {shown}");
                    assert!(
                        shown.len() < 4 * WINDOW + 2_000,
                        "{length}: {} bytes",
                        shown.len()
                    );
                    assert_eq!(diagnostic.line, 2);
                }
                offset += step;
            }
        }
    }
}
