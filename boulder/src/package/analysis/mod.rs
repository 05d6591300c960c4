//! Analysis: every collected path goes through a chain of handlers, in the
//! original's order, until one includes or ignores it:
//!
//! 1. `blocked` — ignore paths outside `/usr` and (with `lastrip`) `.la` files;
//! 2. `binary` — `binary(x)` / `sysbinary(x)` providers;
//! 3. `elf` — `soname()`/`interpreter()` relations, debug split, strip; includes;
//! 4. `pkgconfig` — `pkgconfig()`/`pkgconfig32()` providers and dependencies;
//! 5. `python` — `python()` providers;
//! 6. `cmake` — `cmake()` providers;
//! 7. anything still undecided is included.
//!
//! Files a handler creates (split debug info) are collected by the same rules
//! and analysed after the walked files. Rewritten files are re-read at the
//! end, so every digest describes the bytes that ship.

mod binary;
mod blocked;
mod cmake;
mod context;
pub mod debug_split;
mod elf;
pub mod elf_info;
mod finish;
mod options;
mod pc_file;
mod pkgconfig;
mod python;

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::PathBuf;

use thiserror::Error;

use super::collect::{CollectError, Collection};
use super::entry::CollectedEntry;
use super::relation::{Kind, Relation, RelationError};
use context::{Decision, FileContext};
pub use debug_split::Tools;
pub use options::{AnalysisOptions, PackageSettings};

/// One package ready to be written as a stone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysedPackage {
    pub name: String,
    /// Shipped entries in analysis order, with the digests of their final bytes.
    pub files: Vec<CollectedEntry>,
    /// `kind(name)` dependencies, sorted.
    pub depends: BTreeSet<String>,
    /// `kind(name)` providers, sorted.
    pub provides: BTreeSet<String>,
    /// `kind(name)` conflicts, sorted.
    pub conflicts: BTreeSet<String>,
}

/// Something analysis could not do for one file; the file still ships as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisWarning {
    pub path: String,
    pub message: String,
}

/// The analysed packages (non-empty ones, sorted by name) and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub packages: Vec<AnalysedPackage>,
    pub warnings: Vec<AnalysisWarning>,
}

/// Why analysis stopped.
#[derive(Debug, Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error("package `{package}`: bad relation")]
    BadRelation {
        package: String,
        #[source]
        source: RelationError,
    },
    #[error("package `{package}`: `{pattern}` is not a valid regex")]
    BadRegex {
        package: String,
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("cannot re-read {} after it was rewritten", path.display())]
    Reread {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Default)]
struct Bucket {
    files: Vec<CollectedEntry>,
    provides: BTreeSet<Relation>,
    depends: BTreeSet<Relation>,
}

/// Runs the handler chain over `collection` and returns the final packages.
pub fn analyse(
    mut collection: Collection,
    options: &AnalysisOptions,
) -> Result<Analysis, AnalysisError> {
    let mut queue: VecDeque<(String, CollectedEntry)> = collection
        .take_packages()
        .into_iter()
        .flat_map(|(name, entries)| entries.into_iter().map(move |e| (name.clone(), e)))
        .collect();
    let mut buckets: BTreeMap<String, Bucket> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut rewritten_inodes = HashSet::new();

    while let Some((package, entry)) = queue.pop_front() {
        let bucket = buckets.entry(package).or_default();
        let mut file = FileContext {
            entry: &entry,
            on_disk: collection.on_disk(&entry.path),
            install_root: collection.install_root(),
            options,
            provides: &mut bucket.provides,
            depends: &mut bucket.depends,
            generated: Vec::new(),
            modified: false,
            warnings: &mut warnings,
        };
        let decision = run_chain(&mut file);
        let (generated, modified) = (file.generated, file.modified);
        if modified {
            rewritten_inodes.insert(entry.inode);
        }
        if decision == Decision::Include {
            bucket.files.push(entry);
        }
        for path in generated {
            if !collection.contains(&path) {
                queue.push_back(collection.add(path)?);
            }
        }
    }

    buckets.retain(|_, bucket| !bucket.files.is_empty());
    let siblings = options
        .name_sibling_providers
        .then(|| provider_owners(&buckets));
    let mut packages = Vec::new();
    for (name, mut bucket) in buckets {
        if let Some(owners) = &siblings {
            bucket.depends = name_siblings(&name, bucket.depends, &bucket.provides, owners);
        }
        let mut files = bucket.files;
        for file in files.iter_mut() {
            if file.is_regular() && rewritten_inodes.contains(&file.inode) {
                let on_disk = collection.on_disk(&file.path);
                *file = CollectedEntry::read(&on_disk, file.path.clone()).map_err(|source| {
                    AnalysisError::Reread {
                        path: on_disk,
                        source,
                    }
                })?;
            }
        }
        let settings = options.packages.get(&name).cloned().unwrap_or_default();
        let finish::FinalRelations {
            depends,
            provides,
            conflicts,
        } = finish::relations(&name, &settings, bucket.depends, bucket.provides)?;
        packages.push(AnalysedPackage {
            name,
            files,
            depends,
            provides,
            conflicts,
        });
    }
    Ok(Analysis { packages, warnings })
}

/// Which package provides each provider (the first by name when several do).
fn provider_owners(buckets: &BTreeMap<String, Bucket>) -> BTreeMap<Relation, String> {
    let mut owners = BTreeMap::new();
    for (name, bucket) in buckets {
        for provider in &bucket.provides {
            owners
                .entry(provider.clone())
                .or_insert_with(|| name.clone());
        }
    }
    owners
}

/// Replaces dependencies that a sibling package provides with `name(sibling)`.
fn name_siblings(
    package: &str,
    depends: BTreeSet<Relation>,
    own: &BTreeSet<Relation>,
    owners: &BTreeMap<Relation, String>,
) -> BTreeSet<Relation> {
    depends
        .into_iter()
        .filter(|dep| !own.contains(dep))
        .map(|dep| match owners.get(&dep) {
            Some(owner) if owner != package => Relation::new(Kind::Name, owner.clone()),
            _ => dep,
        })
        .collect()
}

/// Providers of one file that is already installed elsewhere (the host
/// import): the same handler chain without debug split, strip or `.la`
/// removal, so the file is only read. `path` is where it will live
/// (`/usr/bin/gcc`), `on_disk` where it is now; `digest`, when the caller
/// already hashed a regular file's content, spares hashing it again.
pub fn installed_file_providers(
    on_disk: &std::path::Path,
    path: &str,
    digest: Option<u128>,
) -> std::io::Result<BTreeSet<Relation>> {
    let entry = CollectedEntry::read_hashed(on_disk, path.to_string(), digest)?;
    let options = AnalysisOptions {
        debug: false,
        strip: false,
        lastrip: false,
        ..AnalysisOptions::default()
    };
    let (mut provides, mut depends, mut warnings) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    let mut file = FileContext {
        entry: &entry,
        on_disk: on_disk.to_path_buf(),
        install_root: std::path::Path::new("/"),
        options: &options,
        provides: &mut provides,
        depends: &mut depends,
        generated: Vec::new(),
        modified: false,
        warnings: &mut warnings,
    };
    run_chain(&mut file);
    Ok(provides)
}

fn run_chain(file: &mut FileContext) -> Decision {
    let handlers: [fn(&mut FileContext) -> Decision; 6] = [
        blocked::handle,
        binary::handle,
        elf::handle,
        pkgconfig::handle,
        python::handle,
        cmake::handle,
    ];
    for handler in handlers {
        match handler(file) {
            Decision::Next => continue,
            decided => return decided,
        }
    }
    Decision::Include
}
