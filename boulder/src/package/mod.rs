//! Packaging: splitting an install tree into packages and analysing them.
//!
//! The build calls two functions:
//!
//! ```text
//! let rules = Rules::in_recipe_order(&templates, &main_paths, &subpackages)?;
//! let collection = collect(install_root, rules)?;          // who owns which path
//! let analysis = analyse(collection, &AnalysisOptions { .. })?; // relations, split, strip
//! for warning in &analysis.warnings { /* show: file shipped as is, with why */ }
//! for package in analysis.packages { /* write a stone */ }
//! ```
//!
//! Each [`AnalysedPackage`] has its shipped entries in analysis order (walk
//! order, then generated debug files) with final digests, and sorted
//! `kind(name)` sets of depends, provides and conflicts. Only packages with at
//! least one shipped entry are returned, sorted by name.
//!
//! * [`collect()`] walks the install tree (sorted by file name, directories
//!   after their contents, plain `040755` non-empty directories left out) and
//!   gives each path to the package of the highest-priority matching rule
//!   ([`Rules`]: later-added rules win; recipe subpackages beat the main
//!   package's `paths`, which beat the templates of [`default_templates`]).
//! * [`analyse()`] runs the handler chain described in [`analysis`]: it adds
//!   `binary()`, `sysbinary()`, `soname()`, `interpreter()`, `pkgconfig()`,
//!   `pkgconfig32()`, `cmake()` and `python()` relations, splits debug info into
//!   `/usr/lib/debug/.build-id/` (collected into `-dbginfo` by the rules),
//!   strips ELF files, drops dependencies a package satisfies itself, and
//!   applies `rundeps`, `rundeps-exclude`, `provides-exclude` and `conflicts`
//!   from each package's [`PackageSettings`].
//!
//! Analysis rewrites ELF files in place with the configured [`Tools`], so it
//! runs where the install tree lives (inside the build sandbox).

pub mod analysis;
pub(crate) mod collect;
pub mod emit;
pub mod entry;
pub(crate) mod glob;
pub(crate) mod relation;
pub(crate) mod rules;
pub(crate) mod templates;

pub use analysis::{
    analyse, AnalysedPackage, Analysis, AnalysisError, AnalysisOptions, AnalysisWarning,
    PackageSettings, Tools,
};
pub use collect::{collect, CollectError, Collection};
pub use entry::CollectedEntry;
pub use relation::{Kind, Relation};
pub use rules::{PackagePaths, Rules};
pub use templates::{default_templates, Template};
