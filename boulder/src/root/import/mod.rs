//! `boulder profile import-host`: packs the host's toolchain and base tools
//! (the dpkg closure of [`SEEDS`]) as one stone per Debian package into the
//! local repository `CACHE/repos/host/`, with a `stone.index`. A package is
//! repacked only when its version or files changed since the last import.

mod dpkg;
mod files;
pub mod lookup;
pub mod ondemand;
mod pack;
pub mod suggest;

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
pub const SEEDS: [&str; 29] = [
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
    /// Packages imported on demand, with the requests that brought them in.
    #[serde(default)]
    wanted: BTreeMap<String, Wanted>,
    /// sha256 of the index this state was written with: a state that does
    /// not match the index on disk (an import killed between writing the
    /// two) makes the next build import again.
    #[serde(default)]
    index_sha256: String,
}

/// Why a package was imported on demand, and the links it gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    /// The requests (`binary(cmake)`) it satisfies; the stone provides them.
    pub reasons: std::collections::BTreeSet<String>,
    /// `/usr`-relative link → target, for names the host only has versioned.
    #[serde(default)]
    pub links: BTreeMap<String, String>,
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
    let wanted = read_state(&dir).map(|s| s.wanted).unwrap_or_default();
    import_locked(cache, &dir, Path::new("/"), &wanted)
}

fn read_state(dir: &Path) -> Option<State> {
    fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<State>(&b).ok())
        .filter(|s| s.format == FORMAT)
}

/// The packages imported on demand so far (from the import state).
pub fn imported_on_demand(cache: &Cache) -> BTreeMap<String, Wanted> {
    read_state(&host_repo_dir(cache))
        .map(|s| s.wanted)
        .unwrap_or_default()
}

fn current_seeds() -> Vec<String> {
    SEEDS.iter().map(|s| s.to_string()).collect()
}

/// Whether the import in `dir` was made by this boulder's format and
/// seeds, and its state agrees with its index.
fn made_from_current_seeds(dir: &Path) -> bool {
    read_state(dir).is_some_and(|s| {
        s.seeds == current_seeds()
            && sha256_file(&dir.join("stone.index")).is_ok_and(|h| h == s.index_sha256)
    })
}

fn fingerprint(
    pkg: &dpkg::DpkgPackage,
    deps: &[String],
    files: &[files::FileEntry],
    wanted: Option<&Wanted>,
) -> String {
    let mut h = blake3::Hasher::new();
    h.update(
        format!(
            "{FORMAT}\n{}\n{}\n{:?}\n{:?}\n{:?}\n",
            pkg.name, pkg.version, deps, pkg.provides, wanted
        )
        .as_bytes(),
    );
    for f in files {
        h.update(format!("{}\t{}\t{:?}\n", f.path, f.host.display(), f.kind).as_bytes());
    }
    h.finalize().to_hex()[..32].to_string()
}

/// One package of an import: what its stone is made of, and the stone the
/// index already names for it, if that is still right.
struct PackPlan<'a> {
    name: String,
    pkg: &'a dpkg::DpkgPackage,
    files: &'a [files::FileEntry],
    deps: Vec<String>,
    extra: Vec<String>,
    print: String,
    uri: String,
    stone_path: PathBuf,
    old: Option<moss_core::stone::Meta>,
}

/// Packs every planned package that has no stone yet, several at a time
/// (compression and hashing are the cost); `None` for the reused ones.
fn pack_all(
    plans: &[PackPlan<'_>],
    progress: &dyn super::ImportProgress,
) -> Vec<Option<Result<moss_core::stone::Meta, RootError>>> {
    let todo: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].old.is_none())
        .collect();
    for plan in plans.iter().filter(|p| p.old.is_some()) {
        progress.package(&plan.name, false);
    }
    let workers = moss_core::util::available_cpus().clamp(1, 4);
    let packed = moss_core::util::map_ordered(&todo, workers, |&i| {
        let result = pack_one(&plans[i], progress);
        progress.package(&plans[i].name, true);
        result
    });
    let mut results: Vec<Option<Result<moss_core::stone::Meta, RootError>>> =
        plans.iter().map(|_| None).collect();
    for (&i, result) in todo.iter().zip(packed) {
        results[i] = Some(result);
    }
    results
}

/// Packs one package and completes its index fields.
fn pack_one(
    plan: &PackPlan<'_>,
    progress: &dyn super::ImportProgress,
) -> Result<moss_core::stone::Meta, RootError> {
    let (mut meta, skipped) = pack::pack(
        plan.pkg,
        plan.files,
        &plan.deps,
        &plan.extra,
        &plan.stone_path,
    )?;
    for path in skipped {
        progress.warn(&format!(
            "{}: /usr/{path} is not readable; left out",
            plan.name
        ));
    }
    let size = fs::metadata(&plan.stone_path)
        .map_err(RootError::io("reading", &plan.stone_path))?
        .len();
    meta.package_uri = Some(plan.uri.clone());
    meta.package_hash = Some(sha256_file(&plan.stone_path)?);
    meta.package_size = Some(size);
    Ok(meta)
}

/// Imports the closure of the seeds and of the `wanted` packages. Call with
/// the `import-host` lock held.
fn import_locked(
    cache: &Cache,
    dir: &Path,
    host_root: &Path,
    wanted: &BTreeMap<String, Wanted>,
) -> Result<ImportReport, RootError> {
    let installed = dpkg::installed()?;
    import_from(cache, dir, host_root, &installed, wanted)
}

fn import_from(
    cache: &Cache,
    dir: &Path,
    host_root: &Path,
    installed: &BTreeMap<String, dpkg::DpkgPackage>,
    wanted: &BTreeMap<String, Wanted>,
) -> Result<ImportReport, RootError> {
    let started = Instant::now();
    let progress = cache.progress();
    let admin = dpkg::admin_dir();
    let mut seeds: Vec<&str> = SEEDS.to_vec();
    // A package imported on demand and since removed from the host is dropped.
    seeds.extend(
        wanted
            .keys()
            .filter(|k| installed.contains_key(*k))
            .map(String::as_str),
    );
    let (chosen, missing) = dpkg::closure(installed, &seeds);
    for seed in &missing {
        progress.warn(&format!("{seed} is not installed on this host; skipped"));
    }
    let mut lists = BTreeMap::new();
    for name in &chosen {
        lists.insert(name.clone(), dpkg::file_list(&admin, &installed[name])?);
    }
    let mut layouts = files::layouts(
        host_root,
        &lists,
        &dpkg::diversions(&admin),
        &dpkg::alternatives(&admin),
    );
    for (name, want) in wanted {
        if let Some(files) = layouts.get_mut(name) {
            files::add_links(files, &want.links);
        }
    }

    let stones = dir.join("stones");
    fs::create_dir_all(&stones).map_err(RootError::io("creating", &stones))?;
    let state_path = dir.join(STATE_FILE);
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
        wanted: wanted
            .iter()
            .filter(|(k, _)| chosen.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        index_sha256: String::new(),
    };
    // What each package needs: its stone is reused when the index names the
    // file its fingerprint gives, else it is packed (below, in parallel).
    let mut plans = Vec::with_capacity(chosen.len());
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
        let want = wanted.get(name);
        let print = fingerprint(pkg, &deps, files, want);
        let file_name = format!("{name}-{print}.stone");
        let stone_path = stones.join(&file_name);
        let uri = format!("stones/{file_name}");
        let old = old_metas
            .get(name)
            .filter(|m| m.package_uri.as_deref() == Some(uri.as_str()) && stone_path.is_file())
            .filter(|m| m.package_hash.is_some())
            .cloned();
        let extra: Vec<String> = want
            .map(|w| w.reasons.iter().cloned().collect())
            .unwrap_or_default();
        plans.push(PackPlan {
            name: name.clone(),
            pkg,
            files,
            deps,
            extra,
            print,
            uri,
            stone_path,
            old,
        });
    }
    let packed = pack_all(&plans, progress);
    let mut metas = Vec::with_capacity(plans.len());
    let mut repacked = Vec::new();
    for (plan, result) in plans.into_iter().zip(packed) {
        let meta = match (plan.old, result) {
            (Some(meta), _) => meta,
            (None, Some(result)) => {
                repacked.push(plan.name.clone());
                result?
            }
            (None, None) => unreachable!("every package without a stone is packed"),
        };
        state.packages.insert(plan.name, plan.print);
        metas.push(meta);
    }
    repo::write_index(&index_path, &metas)?;
    state.index_sha256 = sha256_file(&index_path)?;
    let json = serde_json::to_vec_pretty(&state).map_err(|e| RootError::Import(e.to_string()))?;
    let tmp = state_path.with_extension("json.tmp");
    fs::write(&tmp, json).map_err(RootError::io("writing", &tmp))?;
    fs::rename(&tmp, &state_path).map_err(RootError::io("renaming into place", &state_path))?;
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
