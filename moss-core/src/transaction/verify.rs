//! `verify`: the store's assets against their digests, and the live tree
//! against the active state in the database.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::{Engine, EngineError};
use crate::installation::STATE_ID_FILE;
use crate::state::{read_state_id, release, remove_tree};
use crate::store::{Digest, STORE_MODE};
use crate::tree::{NodeKind, PackageLayouts, Tree};

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyIssue {
    CorruptAsset(Digest),
    /// A store asset lost its canonical mode (a hardlink in some tree was chmod-ed).
    AssetMode {
        digest: Digest,
        mode: u32,
    },
    /// A mode variant has the wrong mode or content; it is rebuilt on repair.
    BadVariant(std::path::PathBuf),
    MissingAsset(Digest),
    StateMismatch {
        database: Option<i64>,
        live: Option<i64>,
    },
    Missing(String),
    WrongType(String),
    WrongMode {
        path: String,
        expected: u32,
        actual: u32,
    },
    WrongContent(String),
    WrongLink(String),
    Unexpected(String),
    /// A file moss may not read (e.g. a mode without read permission, as an
    /// unprivileged owner): neither known good nor damaged, never repaired.
    Unreadable {
        path: String,
        reason: String,
    },
}

impl fmt::Display for VerifyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyIssue::CorruptAsset(d) => {
                write!(f, "store asset {d:032x} does not match its digest")
            }
            VerifyIssue::AssetMode { digest, mode } => {
                write!(
                    f,
                    "store asset {digest:032x} has mode {mode:o}, expected {STORE_MODE:o}"
                )
            }
            VerifyIssue::BadVariant(p) => write!(f, "mode variant {} is damaged", p.display()),
            VerifyIssue::MissingAsset(d) => write!(f, "store asset {d:032x} is missing"),
            VerifyIssue::StateMismatch { database, live } => write!(
                f,
                "the database says state {database:?} is active but /usr holds {live:?}"
            ),
            VerifyIssue::Missing(p) => write!(f, "/usr/{p} is missing"),
            VerifyIssue::WrongType(p) => write!(f, "/usr/{p} has the wrong file type"),
            VerifyIssue::WrongMode {
                path,
                expected,
                actual,
            } => write!(f, "/usr/{path} has mode {actual:o}, expected {expected:o}"),
            VerifyIssue::WrongContent(p) => write!(f, "/usr/{p} has the wrong content"),
            VerifyIssue::WrongLink(p) => write!(f, "/usr/{p} points to the wrong target"),
            VerifyIssue::Unexpected(p) => write!(f, "/usr/{p} belongs to no package"),
            VerifyIssue::Unreadable { path, reason } => write!(
                f,
                "cannot read {path} ({reason}): not checked; run verify as a user that can read it"
            ),
        }
    }
}

/// What `verify` checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub assets: usize,
    pub entries: usize,
    pub issues: Vec<VerifyIssue>,
    /// Whether a repair ran.
    pub repaired: bool,
    /// After a repair: what a second check still finds (what the repair
    /// could not fix, unreadable files included). Empty without a repair.
    pub remaining: Vec<VerifyIssue>,
}

fn hash_file(path: &std::path::Path) -> std::io::Result<Digest> {
    let mut file = fs::File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.digest128());
        }
        hasher.update(&buf[..n]);
    }
}

/// Whether the file at `path` holds `digest`: `Ok(false)` when it is
/// damaged or gone, an issue when it cannot be read.
fn holds(path: &std::path::Path, digest: Digest, shown: &str) -> Result<bool, VerifyIssue> {
    match hash_file(path) {
        Ok(actual) => Ok(actual == digest),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(VerifyIssue::Unreadable {
            path: shown.to_string(),
            reason: e.to_string(),
        }),
    }
}

impl Engine {
    /// Checks the store and the live tree; with `repair`, rebuilds the live
    /// tree from the database and drops corrupt assets.
    pub fn verify(&mut self, repair: bool) -> Result<VerifyReport, EngineError> {
        let mut report = VerifyReport::default();
        let referenced = self.db.referenced_digests()?;
        let assets = self
            .store
            .list()
            .map_err(|e| crate::state::StateError::Inconsistent(crate::util::with_causes(&e)))?;
        let mut good: HashMap<(u64, u64), Digest> = HashMap::new();
        let mut present = HashSet::new();
        for (digest, _) in &assets {
            present.insert(*digest);
            let path = self.store.path(*digest);
            let shown = format!("store asset {digest:032x}");
            let good_content = match holds(&path, *digest, &shown) {
                Ok(good) => good,
                Err(issue) => {
                    report.issues.push(issue);
                    continue;
                }
            };
            if good_content {
                if let Ok(meta) = fs::metadata(&path) {
                    good.insert((meta.dev(), meta.ino()), *digest);
                    let mode = meta.permissions().mode() & 0o7777;
                    if mode != STORE_MODE {
                        report.issues.push(VerifyIssue::AssetMode {
                            digest: *digest,
                            mode,
                        });
                    }
                }
            } else {
                report.issues.push(VerifyIssue::CorruptAsset(*digest));
            }
        }
        report.assets = assets.len();
        for (path, perm, digest) in self.variants.list() {
            let mode = fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777);
            let content = holds(&path, digest, &path.display().to_string());
            match (mode.ok() == Some(perm), content) {
                (true, Ok(true)) => {}
                (true, Err(issue)) => report.issues.push(issue),
                _ => report.issues.push(VerifyIssue::BadVariant(path)),
            }
        }
        let mut missing: Vec<Digest> = referenced.difference(&present).copied().collect();
        missing.sort_unstable();
        report
            .issues
            .extend(missing.into_iter().map(VerifyIssue::MissingAsset));

        let active = self.db.active_state()?;
        let usr = self.inst.usr();
        let live = read_state_id(&usr)?;
        let tree = self.active_tree(active)?;
        if live != active {
            report.issues.push(VerifyIssue::StateMismatch {
                database: active,
                live,
            });
        }
        if let Some(tree) = &tree {
            report.entries = tree.len();
            self.compare_tree(tree, &good, &mut report.issues);
        }
        // Everything but lost content can be fixed by blitting the tree again.
        let tree_broken = report.issues.iter().any(|i| {
            !matches!(
                i,
                VerifyIssue::CorruptAsset(_)
                    | VerifyIssue::MissingAsset(_)
                    | VerifyIssue::Unreadable { .. }
            )
        });
        let fixable = report
            .issues
            .iter()
            .any(|i| !matches!(i, VerifyIssue::Unreadable { .. }));
        if repair && fixable {
            for issue in &report.issues {
                let io_err = |path: std::path::PathBuf| {
                    move |source| EngineError::Io {
                        op: "repairing",
                        path,
                        source,
                    }
                };
                match issue {
                    VerifyIssue::CorruptAsset(d) => {
                        self.store.remove(*d).map_err(|e| {
                            crate::state::StateError::Inconsistent(crate::util::with_causes(&e))
                        })?;
                    }
                    VerifyIssue::AssetMode { digest, .. } => {
                        // Restoring the store's own canonical mode, not a tree's.
                        let path = self.store.path(*digest);
                        fs::set_permissions(&path, fs::Permissions::from_mode(STORE_MODE))
                            .map_err(io_err(path))?;
                    }
                    VerifyIssue::BadVariant(path) => {
                        fs::remove_file(path).map_err(io_err(path.clone()))?;
                    }
                    _ => {}
                }
            }
            if let (true, Some(tree), Some(old)) = (tree_broken, &tree, active) {
                let selections = self.state(old)?.selections;
                // A full blit: an archived tree may be as damaged as the live one.
                self.commit_tree("Repair", tree, &selections, live.or(active), None)?;
                // The damaged tree must not come back through `state activate`.
                let archive = self.inst.archive_dir(live.unwrap_or(old));
                remove_tree(&archive).map_err(|source| EngineError::Io {
                    op: "removing",
                    path: archive.clone(),
                    source,
                })?;
            }
            report.repaired = true;
            // Say only what the repair achieved: check again.
            report.remaining = self.verify(false)?.issues;
        } else if repair {
            report.remaining = report.issues.clone();
        }
        Ok(report)
    }

    fn active_tree(&self, active: Option<i64>) -> Result<Option<Tree>, EngineError> {
        let Some(active) = active else {
            return Ok(None);
        };
        let state = self.state(active)?;
        let mut metas = Vec::new();
        let mut layouts = Vec::new();
        for sel in &state.selections {
            metas.push(self.cached_meta(&sel.package_id)?);
            layouts.push(self.db.layouts(&sel.package_id)?);
        }
        let packages: Vec<PackageLayouts<'_>> = metas
            .iter()
            .zip(&layouts)
            .map(|(meta, layouts)| super::package_layouts(meta, layouts))
            .collect();
        Ok(Some(Tree::build(&packages)?))
    }

    fn compare_tree(
        &self,
        tree: &Tree,
        good: &HashMap<(u64, u64), Digest>,
        issues: &mut Vec<VerifyIssue>,
    ) {
        let usr = self.inst.usr();
        let mut expected_names: HashSet<&str> = HashSet::new();
        for node in tree.nodes() {
            expected_names.insert(&node.path);
            let path = usr.join(&*node.path);
            let p = || node.path.to_string();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                if !matches!(node.kind, NodeKind::Special { .. }) {
                    issues.push(VerifyIssue::Missing(p()));
                }
                continue;
            };
            let ft = meta.file_type();
            let mode = meta.permissions().mode() & 0o7777;
            match &node.kind {
                NodeKind::Directory { mode: want, .. } => {
                    if !ft.is_dir() {
                        issues.push(VerifyIssue::WrongType(p()));
                    } else if mode != *want {
                        issues.push(VerifyIssue::WrongMode {
                            path: p(),
                            expected: *want,
                            actual: mode,
                        });
                    }
                }
                NodeKind::File { digest, mode: want } => {
                    if !ft.is_file() {
                        issues.push(VerifyIssue::WrongType(p()));
                        continue;
                    }
                    if mode != *want {
                        issues.push(VerifyIssue::WrongMode {
                            path: p(),
                            expected: *want,
                            actual: mode,
                        });
                    }
                    let same_inode = good.get(&(meta.dev(), meta.ino())) == Some(digest);
                    if !same_inode {
                        match holds(&path, *digest, &format!("/usr/{}", node.path)) {
                            Ok(true) => {}
                            Ok(false) => issues.push(VerifyIssue::WrongContent(p())),
                            Err(issue) => issues.push(issue),
                        }
                    }
                }
                NodeKind::Symlink { target } => match fs::read_link(&path) {
                    Ok(t) if t.as_os_str() == std::ffi::OsStr::new(&**target) => {}
                    Ok(_) => issues.push(VerifyIssue::WrongLink(p())),
                    Err(_) => issues.push(VerifyIssue::WrongType(p())),
                },
                NodeKind::Special { .. } => {}
            }
        }
        for entry in walkdir::WalkDir::new(&usr)
            .min_depth(1)
            .into_iter()
            .flatten()
        {
            let Ok(rel) = entry.path().strip_prefix(&usr) else {
                continue;
            };
            let rel = rel.to_string_lossy();
            if rel == STATE_ID_FILE || release::is_generated(tree, &rel) {
                continue;
            }
            if !expected_names.contains(rel.as_ref()) {
                issues.push(VerifyIssue::Unexpected(rel.into_owned()));
            }
        }
    }
}
