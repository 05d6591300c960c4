//! `stone.yaml` recipes: a span-keeping loader, the typed model, and validation that
//! reports every problem of a recipe at once, positioned at the exact file line and column.
//!
//! Entry points: [`load`] reads and validates one file; [`parse`] does the same for text.
//! [`check`] adds the up-front macro validation of every phase of every target.

pub mod check;
pub(crate) mod diagnostic;
mod discover;
pub(crate) mod edit;
pub(crate) mod model;
mod parse;
pub mod problem;
pub mod reference;
pub(crate) mod restricted;
pub mod schema;
pub(crate) mod stages;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use discover::{discover, DiscoverError};
pub use model::{Phase, Recipe, Script, Spanned, Target};
pub use problem::Problem;

/// The architecture boulder builds for natively.
pub const HOST_ARCH: &str = if cfg!(target_arch = "aarch64") {
    "aarch64"
} else if cfg!(target_arch = "riscv64") {
    "riscv64"
} else if cfg!(target_arch = "x86") {
    "x86"
} else {
    "x86_64"
};

/// Parses recipe text into a recipe and the list of every structural problem found.
pub fn parse(text: &str) -> (Recipe, Vec<Problem>) {
    parse::parse(text)
}

/// A recipe file read from disk, with its text kept for diagnostics.
#[derive(Debug, Clone)]
pub struct LoadedRecipe {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub recipe: Recipe,
    pub problems: Vec<Problem>,
}

/// Reading a recipe file failed before it could be parsed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read recipe {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("recipe {path} is not valid UTF-8")]
    NotUtf8 { path: PathBuf },
}

/// Reads and parses the recipe at `path` (structural validation only).
pub fn load(path: &Path) -> Result<LoadedRecipe, LoadError> {
    let text = read_text(path)?;
    let (recipe, problems) = parse(&text);
    Ok(LoadedRecipe {
        path: path.to_path_buf(),
        text: Arc::new(text),
        recipe,
        problems,
    })
}

/// The text of the recipe file at `path`, unparsed.
pub(crate) fn read_text(path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// The fuzz target body: parses and checks arbitrary bytes as a recipe, and verifies that
/// every reported span lies inside the text. Errors are expected; panics are bugs.
pub fn fuzz_check(data: &[u8]) {
    static ENGINE: std::sync::OnceLock<Option<check::Engine>> = std::sync::OnceLock::new();
    let text = String::from_utf8_lossy(data).into_owned();
    let engine = ENGINE.get_or_init(|| check::Engine::embedded().ok());
    let problems = match engine {
        Some(engine) => {
            let report = engine.check_text(Path::new("fuzz.yaml"), Arc::new(text.clone()));
            // Rendering every diagnostic (clipped snippets of any line) must not panic.
            for diagnostic in report.diagnostics() {
                let _ = format!("{:?}", miette::Report::new(diagnostic));
            }
            report.problems
        }
        None => parse(&text).1,
    };
    for problem in &problems {
        assert!(
            problem.span.start <= problem.span.end && problem.span.end <= text.len(),
            "span {:?} outside the text ({} bytes): {}",
            problem.span,
            text.len(),
            problem.message
        );
        let _ = problem::line_column(&text, problem.span.start);
    }
}
