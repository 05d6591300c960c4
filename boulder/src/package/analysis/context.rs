//! What a handler sees of one file, and what it can decide.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::options::AnalysisOptions;
use super::AnalysisWarning;
use crate::package::entry::CollectedEntry;
use crate::package::relation::Relation;

/// A handler's verdict on a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not decided: ask the next handler.
    Next,
    /// Ship the file; later handlers are skipped.
    Include,
    /// Do not ship the file.
    Ignore,
}

/// One file going through the handler chain.
pub struct FileContext<'a> {
    pub entry: &'a CollectedEntry,
    /// The file's location on disk.
    pub on_disk: PathBuf,
    pub install_root: &'a Path,
    pub options: &'a AnalysisOptions,
    /// Providers of the package the file belongs to.
    pub provides: &'a mut BTreeSet<Relation>,
    /// Dependencies of the package the file belongs to.
    pub depends: &'a mut BTreeSet<Relation>,
    /// Install-tree paths of files a handler created, to collect and analyse.
    pub generated: Vec<String>,
    /// Set when a handler rewrote the file (its digest must be recomputed).
    pub modified: bool,
    pub warnings: &'a mut Vec<AnalysisWarning>,
}

impl FileContext<'_> {
    pub fn path(&self) -> &str {
        &self.entry.path
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(AnalysisWarning {
            path: self.entry.path.clone(),
            message: message.into(),
        });
    }
}
