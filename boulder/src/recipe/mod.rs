//! `stone.yaml` recipes: a span-keeping loader, the typed model, and validation that
//! reports every problem of a recipe at once, positioned at the exact file line and column.
//!
//! Entry points: [`load`] reads and validates one file; [`parse`] does the same for text.
//! [`check`] adds the up-front macro validation of every phase of every target.

pub mod check;
pub mod diagnostic;
mod discover;
pub mod model;
mod parse;
pub mod problem;
pub mod reference;
mod restricted;
pub mod schema;
pub mod yaml;

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
    #[error("cannot read recipe {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("recipe {path} is not valid UTF-8")]
    NotUtf8 { path: PathBuf },
}

/// Reads and parses the recipe at `path` (structural validation only).
pub fn load(path: &Path) -> Result<LoadedRecipe, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let (recipe, problems) = parse(&text);
    Ok(LoadedRecipe {
        path: path.to_path_buf(),
        text: Arc::new(text),
        recipe,
        problems,
    })
}
