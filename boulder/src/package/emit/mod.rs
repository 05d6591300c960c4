//! Emission: the analysed packages become `.stone` files and the two build
//! manifests, as the original writes them.
//!
//! * one `<name>-<version>-<release>-<build_release>-<arch>.stone` per
//!   package with at least one file ([`stone`]);
//! * `manifest.<arch>.bin`, a BuildManifest stone, and
//!   `manifest.<arch>.jsonc`, its human-readable twin ([`manifest`]).
//!
//! Output is reproducible: packages, files, relations and manifest entries
//! are written in a fixed order, stones carry no timestamps, and every
//! written file gets `SOURCE_DATE_EPOCH` ([`epoch`]) as its modification time.

pub mod epoch;
pub mod git_head;
pub mod manifest;
pub(crate) mod stone;
pub(crate) mod verify;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use moss_core::stone::{StoneError, WriteOptions};
use thiserror::Error;

use super::analysis::AnalysedPackage;

/// What the recipe says about its source, for every package's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceInfo {
    pub name: String,
    pub version: String,
    pub release: u64,
    pub homepage: String,
    pub licenses: Vec<String>,
    /// The recipe's root `builddeps` then `checkdeps`, as written.
    pub build_deps: Vec<String>,
}

/// What the recipe (or a template) says about one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageInfo {
    pub summary: String,
    pub description: String,
    /// `rundeps` as written (after macro expansion), for the jsonc manifest.
    pub rundeps: Vec<String>,
    /// `rundeps-exclude` regexes.
    pub rundeps_exclude: Vec<String>,
}

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    /// The directory that receives the stones and manifests.
    pub output_dir: PathBuf,
    /// Where the packages' files are on disk (`/usr/bin/x` is
    /// `<install_root>/usr/bin/x`).
    pub install_root: PathBuf,
    /// `-b/--build-release`, 1 by default.
    pub build_release: u64,
    /// The architecture string (`x86_64`).
    pub architecture: String,
    /// The modification time given to every written file.
    pub source_date_epoch: i64,
    pub write: WriteOptions,
    /// Write the manifests (off when verifying against a given manifest).
    pub manifests: bool,
}

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// One per package, in package name order.
    pub stones: Vec<EmittedStone>,
    /// `manifest.<arch>.bin` and `manifest.<arch>.jsonc`, when written.
    pub manifests: Option<(PathBuf, PathBuf)>,
}

/// One written stone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedStone {
    pub package: String,
    pub path: PathBuf,
    pub size: u64,
    pub files: usize,
}

/// Why emission failed.
#[derive(Debug, Error)]
pub enum EmitError {
    #[error("the stone of this package cannot be named")]
    Name(#[from] moss_core::name::NameError),
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the stone of package `{package}`")]
    Stone {
        package: String,
        #[source]
        source: Box<StoneError>,
    },
    #[error("package `{package}`: `{text}` is not a valid relation")]
    Relation {
        package: String,
        text: String,
        #[source]
        source: Box<StoneError>,
    },
    #[error("package `{package}` has the path {path} outside /usr; stones only hold /usr")]
    OutsideUsr { package: String, path: String },
    #[error("cannot read the manifest {} to compare with", path.display())]
    ReadManifest {
        path: PathBuf,
        #[source]
        source: Box<StoneError>,
    },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> EmitError + '_ {
    move |source| EmitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes every package's stone and (unless turned off) the manifests.
/// `info` gives each package's summary, description and rundeps; a package
/// without an entry gets empty ones.
pub fn emit(
    source: &SourceInfo,
    packages: &[AnalysedPackage],
    info: &BTreeMap<String, PackageInfo>,
    options: &EmitOptions,
) -> Result<Emitted, EmitError> {
    std::fs::create_dir_all(&options.output_dir).map_err(io_error(&options.output_dir))?;
    let default_info = PackageInfo::default();
    let mut sorted: Vec<&AnalysedPackage> = packages.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut stones = Vec::new();
    for package in sorted.iter().filter(|p| !p.files.is_empty()) {
        let package_info = info.get(&package.name).unwrap_or(&default_info);
        stones.push(stone::write(source, package, package_info, options)?);
    }
    let manifests = if options.manifests {
        let packages: Vec<&AnalysedPackage> = sorted
            .iter()
            .copied()
            .filter(|p| !p.files.is_empty())
            .collect();
        Some(manifest::write(source, &packages, info, options)?)
    } else {
        None
    };
    Ok(Emitted { stones, manifests })
}

/// Sets the modification time of `path` to `epoch` (clamped at 0).
pub(crate) fn set_mtime(path: &Path, epoch: i64) -> Result<(), EmitError> {
    let seconds = u64::try_from(epoch).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .map_err(io_error(path))?;
    file.set_modified(time).map_err(io_error(path))
}
