//! Recipe problems as miette diagnostics pointing into the recipe file.

use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use super::problem::{line_column, Problem};

/// A [`Problem`] together with the recipe file it is about, ready to render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", problem.message)]
pub struct RecipeDiagnostic {
    pub problem: Problem,
    /// The recipe file as named on the command line.
    pub file: String,
    named_source: NamedSource<Arc<String>>,
    /// 1-based line and column of the problem's start.
    pub line: usize,
    pub column: usize,
}

impl RecipeDiagnostic {
    pub fn new(name: &str, text: Arc<String>, problem: Problem) -> Self {
        let (line, column) = line_column(&text, problem.span.start);
        RecipeDiagnostic {
            problem,
            file: name.to_string(),
            named_source: NamedSource::new(name, text).with_language("yaml"),
            line,
            column,
        }
    }
}

impl Diagnostic for RecipeDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.problem.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.named_source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = &self.problem.span;
        let label = LabeledSpan::new(
            Some(self.problem.label.clone()),
            span.start,
            span.end.saturating_sub(span.start),
        );
        Some(Box::new(std::iter::once(label)))
    }
}
