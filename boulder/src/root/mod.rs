//! Ephemeral build roots made from the shared cache.
//!
//! A root is resolved from a profile (its repositories and base package set)
//! plus what the recipe asks for, then blitted once from the shared store
//! into `CACHE/roots/<key>`, where the key is a blake3 hash of the resolved
//! package set. Since the sandbox keeps a root's `/usr` (and `/` itself)
//! read-only, a root never changes and every later build with the same set
//! reuses it: a warm "root ready" costs a resolution, a few mounts and a
//! clone. Everything a build writes lives in its own [`BuildDirs`].
//!
//! ```no_run
//! use boulder::root::{self, BuildDirs, Cache, RootRequest};
//! let cache = Cache::open(None)?;
//! let req = RootRequest { profile: "host".into(), packages: vec!["binary(make)".into()], networking: false };
//! let prepared = root::prepare(&cache, &req)?;
//! let dirs = BuildDirs::create(&cache, "hello")?;
//! let status = root::sandbox(&prepared, &dirs, false).run(["/usr/bin/make", "--version"]);
//! # Ok::<(), root::RootError>(())
//! ```

mod blit;
mod builddirs;
mod cache;
mod error;
pub mod import;
mod lock;
mod memo;
pub mod profile;
mod progress;
pub mod prune;
pub mod repo;
pub(crate) mod resolve;
mod skeleton;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moss_core::sandbox::Sandbox;

pub use builddirs::BuildDirs;
pub use cache::{default_cache_dir, default_profiles_dir, Cache};
pub use error::RootError;
pub use lock::FileLock;
pub use profile::{Profile, DEFAULT_PROFILE};
pub use progress::{ImportProgress, Silent};

/// What a build root must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRequest {
    /// Profile name (`host` unless configured otherwise).
    pub profile: String,
    /// Recipe builddeps, checkdeps and action dependencies: `kind(name)` or names.
    pub packages: Vec<String>,
    /// Whether the build will have the host's network (does not change the root).
    pub networking: bool,
}

/// Where the time of [`prepare`] went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RootTimings {
    /// Loading the profile and repository indexes and resolving the set.
    pub resolve: Duration,
    /// Host import or index downloads (zero when everything was there).
    pub import: Duration,
    /// Caching stones and blitting (zero when the root was reused).
    pub blit: Duration,
}

impl RootTimings {
    pub fn total(&self) -> Duration {
        self.resolve + self.import + self.blit
    }
}

/// A root ready to be entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRoot {
    /// `CACHE/roots/<key>`.
    pub path: PathBuf,
    /// blake3 (hex, 32 digits) of the resolved package set.
    pub key: String,
    pub timings: RootTimings,
    /// `name-version` of every package in the root, sorted.
    pub packages: Vec<String>,
    /// True when an existing root was reused.
    pub reused: bool,
    /// The profile's `environment`, set in every sandbox over this root.
    pub environment: Vec<(String, String)>,
    /// A shared lock on the root, held while this value (or a clone) lives:
    /// `boulder cache prune` skips a root that anyone holds.
    pub in_use: RootInUse,
}

/// A shared `flock` on `CACHE/locks/root-<key>.lock`; prune takes it
/// exclusively (without waiting) before removing the root.
#[derive(Debug, Clone)]
pub struct RootInUse(#[allow(dead_code)] Arc<FileLock>);

/// Holding the lock says nothing about the root itself.
impl PartialEq for RootInUse {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RootInUse {}

/// Resolves, and blits when no root of that set exists yet.
pub fn prepare(cache: &Cache, req: &RootRequest) -> Result<PreparedRoot, RootError> {
    prepare_with(cache, req, &[])
}

/// [`prepare`] with `extra` repositories beside the profile's (a local
/// repository of what `boulder build --repo` made, for instance); their
/// priorities weigh as the profile's do.
pub fn prepare_with(
    cache: &Cache,
    req: &RootRequest,
    extra: &[profile::RepositorySpec],
) -> Result<PreparedRoot, RootError> {
    let started = Instant::now();
    let mut profile = Profile::load(cache, &req.profile)?;
    profile.repositories.extend(extra.iter().cloned());
    let opened = Instant::now();
    let indexes = repo::ensure_all(cache, &profile)?;
    let mut requests = profile.packages.clone();
    requests.extend(req.packages.iter().cloned());
    let asked = profile.with_implied(requests);
    let imports_from_host = profile
        .repositories
        .iter()
        .any(|r| r.import.as_deref() == Some("host"));
    let mut requests = if imports_from_host {
        import::ondemand::as_imported_names(cache, asked.clone())
    } else {
        asked.clone()
    };
    // The same indexes and requests resolved before: reuse that root
    // without reading an index.
    let memo = memo::Memo::of(cache, &profile, &indexes, &requests);
    if let Some(prepared) = memo
        .as_ref()
        .and_then(|memo| reuse_remembered(cache, memo, &profile, started))
    {
        return Ok(prepared);
    }
    let mut repos = repo::read_all(indexes)?;
    // An import changes the index the memo hashed: that resolution is not
    // remembered under it.
    let mut memo = memo;
    if imports_from_host && import::ondemand::import_missing(cache, &repos, &requests)?.is_some() {
        memo = None;
        repos = repo::open_all(cache, &profile)?;
        requests = import::ondemand::as_imported_names(cache, asked);
    }
    let import = opened.elapsed();

    let resolving = Instant::now();
    let picked = resolve::resolve(&repos, &profile.name, &requests)?;
    let mut ids: Vec<(String, String)> = picked
        .iter()
        .map(|p| {
            let meta = &repos[p.repo].packages[p.package];
            let id = repo::package_id(meta).to_string();
            (format!("{}-{}", meta.name, meta.version), id)
        })
        .collect();
    ids.sort();
    let mut hasher = blake3::Hasher::new();
    hasher.update(format!("boulder root {}\n", skeleton::SKELETON_VERSION).as_bytes());
    for (name, id) in &ids {
        hasher.update(format!("{name}\0{id}\n").as_bytes());
    }
    for (link, target) in &profile.links {
        hasher.update(format!("link\0{link}\0{target}\n").as_bytes());
    }
    for (file, content) in &profile.files {
        hasher.update(format!("file\0{file}\0{content}\0").as_bytes());
    }
    let key = hasher.finalize().to_hex()[..32].to_string();
    let path = cache.roots_dir().join(&key);
    let resolve = (opened - started) + resolving.elapsed();

    let blitting = Instant::now();
    let lock_path = cache.lock_path(&format!("root-{key}"));
    let mut reused = true;
    // The shared lock is taken before looking, so a prune can never remove
    // the root between the look and its use. Blitting needs the lock
    // exclusively; afterwards the loop takes it shared again (a prune that
    // slips in between only makes it blit once more).
    let in_use = loop {
        let shared = FileLock::shared(&lock_path)?;
        if path.is_dir() {
            break shared;
        }
        drop(shared);
        let _lock = FileLock::exclusive(&lock_path)?;
        // Pruning must not delete store assets this blit is about to link.
        let _no_prune = FileLock::shared(&cache.lock_path("prune"))?;
        if !path.is_dir() {
            reused = false;
            blit::make_root(cache, &repos, &picked, &profile, &path)?;
            let manifest = cache.roots_dir().join(format!("{key}.packages"));
            let text: String = ids.iter().map(|(n, id)| format!("{n}\t{id}\n")).collect();
            fs::write(&manifest, text).map_err(RootError::io("writing", &manifest))?;
        }
    };
    prune::mark_used(cache, &key);
    if let Some(memo) = &memo {
        memo.remember(&key);
    }
    let blit = if reused {
        Duration::ZERO
    } else {
        blitting.elapsed()
    };
    Ok(PreparedRoot {
        path,
        key,
        timings: RootTimings {
            resolve,
            import,
            blit,
        },
        packages: ids.into_iter().map(|(n, _)| n).collect(),
        reused,
        environment: profile.environment.clone().into_iter().collect(),
        in_use: RootInUse(Arc::new(in_use)),
    })
}

/// The root `memo` remembers, when it still exists, held shared as
/// [`prepare_with`] holds it.
fn reuse_remembered(
    cache: &Cache,
    memo: &memo::Memo,
    profile: &Profile,
    started: Instant,
) -> Option<PreparedRoot> {
    let key = memo.recall()?;
    let roots = cache.roots_dir();
    let path = roots.join(&key);
    let in_use = FileLock::shared(&cache.lock_path(&format!("root-{key}"))).ok()?;
    if !path.is_dir() {
        return None;
    }
    let packages = memo::root_packages(&roots, &key)?;
    prune::mark_used(cache, &key);
    Some(PreparedRoot {
        path,
        key,
        timings: RootTimings {
            resolve: started.elapsed(),
            import: Duration::ZERO,
            blit: Duration::ZERO,
        },
        packages,
        reused: true,
        environment: profile.environment.clone().into_iter().collect(),
        in_use: RootInUse(Arc::new(in_use)),
    })
}

/// The environment a build (or `boulder chroot`) starts from.
pub const BUILD_PATH: &str = "/usr/bin:/usr/sbin";

/// A sandbox over `root` with the build's directories mounted writable at
/// `/mason/{build,install,artefacts,ccache}`, working in `/mason/build`, a
/// cleared environment (PATH, HOME, TERM, LANG), hostname `boulder`.
pub fn sandbox(root: &PreparedRoot, dirs: &BuildDirs, networking: bool) -> Sandbox {
    let mut sandbox = Sandbox::new(&root.path)
        .hostname("boulder")
        .networking(networking)
        .bind_rw(&dirs.mason, "/mason")
        .workdir("/mason/build")
        .env_clear()
        .env("PATH", BUILD_PATH)
        .env("HOME", "/mason/build")
        .env("LANG", "C.UTF-8")
        .env("USER", "root");
    if let Some(term) = std::env::var_os("TERM") {
        sandbox = sandbox.env("TERM", term);
    }
    for (name, value) in &root.environment {
        sandbox = sandbox.env(name, value);
    }
    sandbox
}
