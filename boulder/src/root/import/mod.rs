//! `boulder profile import-host`: packs the host's toolchain and base tools
//! (the dpkg closure of [`SEEDS`]) as one stone per Debian package into the
//! local repository `CACHE/repos/host/`, with a `stone.index`. A package is
//! repacked only when its version or files changed since the last import.

mod dpkg;
mod files;
mod pack;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::lock::FileLock;
use super::repo::{self, read_index, sha256_file};
use super::{Cache, RootError};

pub use files::usr_relative;

/// The packages whose closure is imported: what the issue names, what the
/// example recipes and the sandbox tests use (`ps`), and the awk Debian
/// installs by default.
pub const SEEDS: [&str; 31] = [
    "build-essential",
    "bash",
    "dash",
    "coreutils",
    "findutils",
    "grep",
    "sed",
    "gawk",
    "mawk",
    "diffutils",
    "patch",
    "tar",
    "gzip",
    "xz-utils",
    "bzip2",
    "make",
    "pkg-config",
    "file",
    "util-linux",
    "procps",
    "binutils",
    "gcc",
    "g++",
    "libc6-dev",
    // Terminal descriptions, so readline and less behave in a breakpoint shell.
    "ncurses-base",
    // The C.UTF-8 locale the phase prologue selects (/usr/lib/locale/C.utf8).
    "libc-bin",
    // What %configure, %reconfigure and %autogen bring into a root, as upstream's
    // macros declare (binary(autoconf), binary(automake), binary(autopoint)).
    "autoconf",
    "automake",
    "autopoint",
    // The 32-bit toolchain of emul32 builds (the profile's `emul32-packages`);
    // left out when the host does not have it installed.
    "gcc-multilib",
    "g++-multilib",
];

/// Bump when packing changes, so every package is repacked once.
const FORMAT: u32 = 1;

/// What the last import packed (format, seeds, fingerprints), beside the index.
const STATE_FILE: &str = "import-state.json";

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub packages: usize,
    pub repacked: Vec<String>,
    /// Seeds the host does not have.
    pub missing: Vec<String>,
    pub elapsed: Duration,
    pub index: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    format: u32,
    /// The seeds the import started from. A cache imported by a boulder
    /// with other seeds is imported again when next needed (only what
    /// changed is packed), so a profile that names a new base package
    /// resolves after an upgrade. Missing in state files of older imports.
    #[serde(default)]
    seeds: Vec<String>,
    /// Package name → fingerprint of what was packed.
    packages: BTreeMap<String, String>,
}

/// The host repository's directory.
pub fn host_repo_dir(cache: &Cache) -> PathBuf {
    cache.repos_dir().join("host")
}

/// Imports (or refreshes) the host repository. Without `refresh`, an
/// existing index is left as it is (this is what a build does); with it,
/// changed packages are repacked.
pub fn import_host(cache: &Cache, refresh: bool) -> Result<ImportReport, RootError> {
    let dir = host_repo_dir(cache);
    let index = dir.join("stone.index");
    let _lock = FileLock::exclusive(&cache.lock_path("import-host"))?;
    if !refresh && index.is_file() && made_from_current_seeds(&dir) {
        return Ok(ImportReport {
            index,
            ..ImportReport::default()
        });
    }
    import_locked(cache, &dir, Path::new("/"))
}

fn current_seeds() -> Vec<String> {
    SEEDS.iter().map(|s| s.to_string()).collect()
}

/// Whether the import in `dir` was made by this boulder's format and seeds.
fn made_from_current_seeds(dir: &Path) -> bool {
    fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<State>(&b).ok())
        .is_some_and(|s| s.format == FORMAT && s.seeds == current_seeds())
}

fn fingerprint(pkg: &dpkg::DpkgPackage, deps: &[String], files: &[files::FileEntry]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(
        format!(
            "{FORMAT}\n{}\n{}\n{:?}\n{:?}\n",
            pkg.name, pkg.version, deps, pkg.provides
        )
        .as_bytes(),
    );
    for f in files {
        h.update(format!("{}\t{}\t{:?}\n", f.path, f.host.display(), f.kind).as_bytes());
    }
    h.finalize().to_hex()[..32].to_string()
}

fn import_locked(cache: &Cache, dir: &Path, host_root: &Path) -> Result<ImportReport, RootError> {
    let started = Instant::now();
    let progress = cache.progress();
    let admin = dpkg::admin_dir();
    let installed = dpkg::installed()?;
    let (chosen, missing) = dpkg::closure(&installed, &SEEDS);
    for seed in &missing {
        progress.warn(&format!("{seed} is not installed on this host; skipped"));
    }
    let mut lists = BTreeMap::new();
    for name in &chosen {
        lists.insert(name.clone(), dpkg::file_list(&admin, &installed[name])?);
    }
    let layouts = files::layouts(
        host_root,
        &lists,
        &dpkg::diversions(&admin),
        &dpkg::alternatives(&admin),
    );

    let stones = dir.join("stones");
    fs::create_dir_all(&stones).map_err(RootError::io("creating", &stones))?;
    let state_path = dir.join(STATE_FILE);
    let old_state: State = fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|s: &State| s.format == FORMAT)
        .unwrap_or_default();
    let index_path = dir.join("stone.index");
    let old_metas: BTreeMap<String, moss_core::stone::Meta> = read_index(&index_path)
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect();

    progress.start(chosen.len());
    let mut state = State {
        format: FORMAT,
        seeds: current_seeds(),
        packages: BTreeMap::new(),
    };
    let mut metas = Vec::new();
    let mut repacked = Vec::new();
    for name in &chosen {
        let pkg = &installed[name];
        let files = layouts.get(name).map(Vec::as_slice).unwrap_or_default();
        // Dependencies on packages outside the closure were not chosen (an
        // alternative was), so only chosen ones are kept.
        let deps: Vec<String> = pkg
            .depends
            .iter()
            .filter_map(|group| group.iter().find(|alt| chosen.contains(*alt)).cloned())
            .filter(|d| d != name)
            .collect();
        let print = fingerprint(pkg, &deps, files);
        let file_name = format!("{name}-{print}.stone");
        let stone_path = stones.join(&file_name);
        let reusable = old_state.packages.get(name) == Some(&print) && stone_path.is_file();
        let mut meta = match (reusable, old_metas.get(name)) {
            (true, Some(meta)) => meta.clone(),
            _ => {
                let (meta, skipped) = pack::pack(pkg, files, &deps, &stone_path)?;
                for path in skipped {
                    progress.warn(&format!("{name}: /usr/{path} is not readable; left out"));
                }
                repacked.push(name.clone());
                meta
            }
        };
        if !reusable || meta.package_hash.is_none() {
            let size = fs::metadata(&stone_path)
                .map_err(RootError::io("reading", &stone_path))?
                .len();
            meta.package_uri = Some(format!("stones/{file_name}"));
            meta.package_hash = Some(sha256_file(&stone_path)?);
            meta.package_size = Some(size);
        }
        progress.package(name, !reusable);
        state.packages.insert(name.clone(), print);
        metas.push(meta);
    }
    repo::write_index(&index_path, &metas)?;
    let json = serde_json::to_vec_pretty(&state).map_err(|e| RootError::Import(e.to_string()))?;
    fs::write(&state_path, json).map_err(RootError::io("writing", &state_path))?;
    // Stones no package refers to any more.
    let keep: std::collections::HashSet<String> = metas
        .iter()
        .filter_map(|m| m.package_uri.as_deref())
        .filter_map(|u| u.strip_prefix("stones/"))
        .map(str::to_string)
        .collect();
    if let Ok(entries) = fs::read_dir(&stones) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    progress.finish(repacked.len(), chosen.len());
    Ok(ImportReport {
        packages: chosen.len(),
        repacked,
        missing,
        elapsed: started.elapsed(),
        index: index_path,
    })
}
