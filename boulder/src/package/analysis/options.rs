//! What analysis is told by the recipe and the build.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::debug_split::Tools;

/// Settings of one package, from its recipe block (or the recipe root for the
/// main package) and the templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageSettings {
    /// Extra dependencies, `name` or `kind(name)`.
    pub rundeps: Vec<String>,
    /// Regexes; a dependency whose `kind(name)` text matches is dropped.
    pub rundeps_exclude: Vec<String>,
    /// Regexes; a provider whose `kind(name)` text matches is dropped.
    pub provides_exclude: Vec<String>,
    /// Conflicts, `name` or `kind(name)`.
    pub conflicts: Vec<String>,
}

/// Options for [`analyse`](super::analyse).
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Split debug info of ELF files with a build-id (recipe `debug`).
    pub debug: bool,
    /// Strip ELF files (recipe `strip`).
    pub strip: bool,
    /// Drop libtool `.la` files from `/usr/lib` and `/usr/lib32` (recipe `lastrip`).
    pub lastrip: bool,
    /// The programs that split and strip.
    pub tools: Tools,
    /// The build root's own filesystem, where libraries named by run paths and
    /// 32-bit `.pc` files may also be found (`/` inside the build sandbox).
    pub system_root: PathBuf,
    /// Settings per package name; a package without an entry has none.
    pub packages: BTreeMap<String, PackageSettings>,
    /// Turn a dependency that another package of this build provides into
    /// `name(<that package>)`. Off by default: the original keeps such
    /// dependencies as they are (`soname(...)`, …) and lets moss resolve them,
    /// so manifests stay identical to the original's.
    pub name_sibling_providers: bool,
}

impl Default for AnalysisOptions {
    /// The recipe defaults: debug split, strip and `.la` removal on, GNU tools.
    fn default() -> Self {
        Self {
            debug: true,
            strip: true,
            lastrip: true,
            tools: Tools::gnu(),
            system_root: PathBuf::from("/"),
            packages: BTreeMap::new(),
            name_sibling_providers: false,
        }
    }
}
