//! `boulder profile import-host`: packs the host's toolchain and base tools
//! (the dpkg closure of [`SEEDS`]) as one stone per Debian package into the
//! local repository `CACHE/repos/host/`, with a `stone.index`. A package is
//! repacked only when its version or files changed since the last import.

pub(crate) mod arch;
mod dpkg;
mod files;
pub(crate) mod lookup;
pub mod ondemand;
mod pack;
pub(crate) mod suggest;

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
const FORMAT: u32 = 2;

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
    /// dpkg's database when the import read it ([`dpkg_stamp`]): a build
    /// that finds another brings the import up to date first, so a root
    /// holds what the host has installed now (upgrades repacked, removed
    /// packages gone).
    #[serde(default)]
    dpkg_status: String,
    /// Stones only the previous index named, kept until the next import: a
    /// build that read that index just before this import still finds them.
    #[serde(default)]
    previous: Vec<String>,
}

/// A stamp of dpkg's `status` file (device, inode, size, mtime). dpkg and
/// apt replace the file on every change, so another stamp means the
/// installed packages may differ.
fn dpkg_stamp(admin: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(admin.join("status"))
        .map(|m| {
            format!(
                "{}:{}:{}:{}.{:09}",
                m.dev(),
                m.ino(),
                m.len(),
                m.mtime(),
                m.mtime_nsec()
            )
        })
        .unwrap_or_default()
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
    arch::supported()?;
    let dir = host_repo_dir(cache);
    let index = dir.join("stone.index");
    let _lock = FileLock::exclusive(&cache.lock_path("import-host"))?;
    if !refresh
        && index.is_file()
        && made_from_current_seeds(&dir)
        && host_unchanged(&dir, &dpkg::admin_dir())
    {
        return Ok(ImportReport {
            index,
            ..ImportReport::default()
        });
    }
    // What was imported on demand stays wanted across a format change.
    let wanted = read_any_state(&dir).map(|s| s.wanted).unwrap_or_default();
    import_locked(cache, &dir, Path::new("/"), &wanted)
}

/// The import state, whichever boulder wrote it.
fn read_any_state(dir: &Path) -> Option<State> {
    fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<State>(&b).ok())
}

/// The import state, if this boulder's packing made it.
fn read_state(dir: &Path) -> Option<State> {
    read_any_state(dir).filter(|s| s.format == FORMAT)
}

/// The packages imported on demand so far (from the import state).
pub fn imported_on_demand(cache: &Cache) -> BTreeMap<String, Wanted> {
    read_state(&host_repo_dir(cache))
        .map(|s| s.wanted)
        .unwrap_or_default()
}

/// Whether dpkg's database is as the import in `dir` found it.
fn host_unchanged(dir: &Path, admin: &Path) -> bool {
    read_state(dir).is_some_and(|s| s.dpkg_status == dpkg_stamp(admin))
}

/// Packages of the last import that can keep their stones without their
/// files being listed and read again, with their fingerprints: dpkg's
/// database is as that import found it (so no package was installed,
/// upgraded or removed since), the state belongs to the index, the stone is
/// there, and the package is wanted for the same requests. Empty otherwise.
fn unchanged_packages(
    dir: &Path,
    index: &Path,
    dpkg_status: &str,
    old_metas: &BTreeMap<String, moss_core::stone::Meta>,
    wanted: &BTreeMap<String, Wanted>,
) -> BTreeMap<String, String> {
    let Some(state) = read_state(dir) else {
        return BTreeMap::new();
    };
    if state.dpkg_status.is_empty()
        || state.dpkg_status != dpkg_status
        || sha256_file(index).ok().as_deref() != Some(state.index_sha256.as_str())
    {
        return BTreeMap::new();
    }
    state
        .packages
        .into_iter()
        .filter(|(name, print)| {
            let stone = format!("stones/{name}-{print}.stone");
            old_metas.get(name).is_some_and(|m| {
                m.package_uri.as_deref() == Some(stone.as_str())
                    && m.package_hash.is_some()
                    && dir.join(&stone).is_file()
            }) && state.wanted.get(name) == wanted.get(name)
        })
        .collect()
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
    // Taken before the file lists are read: a change made while this import
    // runs gives another stamp, and the next build imports again.
    let dpkg_status = dpkg_stamp(&admin);
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
    let stones = dir.join("stones");
    fs::create_dir_all(&stones).map_err(RootError::io("creating", &stones))?;
    let state_path = dir.join(STATE_FILE);
    let index_path = dir.join("stone.index");
    let old_metas: BTreeMap<String, moss_core::stone::Meta> = read_index(&index_path)
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect();
    // Dependencies on packages outside the closure were not chosen (an
    // alternative was), so only chosen ones are kept.
    let deps_of = |name: &String| -> Vec<String> {
        installed[name]
            .depends
            .iter()
            .filter_map(|group| group.iter().find(|alt| chosen.contains(*alt)).cloned())
            .filter(|d| d != name)
            .collect()
    };
    let unchanged = unchanged_packages(dir, &index_path, &dpkg_status, &old_metas, wanted)
        .into_iter()
        .filter(|(name, _)| chosen.contains(name))
        .filter(|(name, _)| {
            let deps = deps_of(name);
            old_metas[name]
                .depends
                .iter()
                .map(|d| d.name.as_str())
                .eq(deps.iter().map(String::as_str))
        })
        .collect::<BTreeMap<String, String>>();
    let mut lists = BTreeMap::new();
    for name in &chosen {
        lists.insert(name.clone(), dpkg::file_list(&admin, &installed[name])?);
    }
    let skip: std::collections::HashSet<&str> = unchanged.keys().map(String::as_str).collect();
    let mut layouts = files::layouts(
        host_root,
        &lists,
        &dpkg::diversions(&admin),
        &dpkg::alternatives(&admin),
        &skip,
    );
    for (name, want) in wanted {
        if let Some(files) = layouts.get_mut(name) {
            files::add_links(files, &want.links);
        }
    }

    let gone: Vec<&str> = old_metas
        .keys()
        .filter(|name| !chosen.contains(*name))
        .map(String::as_str)
        .collect();
    if !gone.is_empty() {
        progress.warn(&format!(
            "no longer installed on this host, so no longer in its repository: {}",
            gone.join(", ")
        ));
    }
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
        dpkg_status,
        previous: Vec::new(),
    };
    // What each package needs: its stone is reused when the index names the
    // file its fingerprint gives, else it is packed (below, in parallel).
    let mut plans = Vec::with_capacity(chosen.len());
    for name in &chosen {
        let pkg = &installed[name];
        let files = layouts.get(name).map(Vec::as_slice).unwrap_or_default();
        let deps = deps_of(name);
        let want = wanted.get(name);
        let print = match unchanged.get(name) {
            Some(print) => print.clone(),
            None => fingerprint(pkg, &deps, files, want),
        };
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
    let stone_name = |m: &moss_core::stone::Meta| {
        m.package_uri
            .as_deref()
            .and_then(|u| u.strip_prefix("stones/"))
            .map(str::to_string)
    };
    let named: std::collections::HashSet<String> = metas.iter().filter_map(stone_name).collect();
    state.previous = old_metas
        .values()
        .filter_map(stone_name)
        .filter(|s| !named.contains(s))
        .collect();
    state.previous.sort();
    repo::write_index(&index_path, &metas)?;
    state.index_sha256 = sha256_file(&index_path)?;
    let json = serde_json::to_vec_pretty(&state).map_err(|e| RootError::Import(e.to_string()))?;
    let tmp = state_path.with_extension("json.tmp");
    fs::write(&tmp, json).map_err(RootError::io("writing", &tmp))?;
    fs::rename(&tmp, &state_path).map_err(RootError::io("renaming into place", &state_path))?;
    // Stones neither this index nor the previous one names.
    if let Ok(entries) = fs::read_dir(&stones) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) && !state.previous.contains(&name) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_dpkg_status_means_the_host_changed() {
        let admin = tempfile::tempdir().expect("tempdir");
        let repo = tempfile::tempdir().expect("tempdir");
        let status = admin.path().join("status");
        fs::write(&status, "Package: hello\nStatus: install ok installed\n").expect("status");
        let state = State {
            format: FORMAT,
            dpkg_status: dpkg_stamp(admin.path()),
            ..State::default()
        };
        fs::write(
            repo.path().join(STATE_FILE),
            serde_json::to_vec(&state).expect("json"),
        )
        .expect("state");
        assert!(host_unchanged(repo.path(), admin.path()));
        // As dpkg writes it: a new file renamed over the old one.
        let new = admin.path().join("status-new");
        fs::write(&new, "Package: hello\nStatus: purge ok not-installed\n").expect("status");
        fs::rename(&new, &status).expect("rename");
        assert!(!host_unchanged(repo.path(), admin.path()));
        // An import made by an older boulder has no stamp: it is brought up to date.
        let mut old = state;
        old.dpkg_status = String::new();
        fs::write(
            repo.path().join(STATE_FILE),
            serde_json::to_vec(&old).expect("json"),
        )
        .expect("state");
        assert!(!host_unchanged(repo.path(), admin.path()));
    }
}
