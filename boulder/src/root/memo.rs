//! Remembered resolutions: which root a request resolved to.
//!
//! Reading the repository indexes (decompressing every package's metadata)
//! and resolving costs a few milliseconds on every build although the answer
//! depends only on what goes into it: the indexes' bytes, the profile's
//! repositories, links and files, and the requests. [`Memo`] names those
//! inputs by a blake3 hash and remembers the root key they gave under
//! `CACHE/resolutions/<hash>`, so a build whose inputs are unchanged finds
//! its root without reading an index. Any change to an index (a host
//! import, a download) or to the request is another hash, which resolves
//! afresh; a remembered root that is gone (pruned) is made again the same
//! way.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::profile::Profile;
use super::repo::IndexOnDisk;
use super::{skeleton, Cache};

/// Bumped whenever the resolution of the same inputs may change (the
/// resolver's rules, the root key's form).
const MEMO_VERSION: u32 = 1;

/// The inputs of one resolution, by their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    path: PathBuf,
}

impl Memo {
    /// The memo of resolving `requests` from `indexes` under `profile`;
    /// `None` when an index cannot be read (the full path reports it).
    pub fn of(
        cache: &Cache,
        profile: &Profile,
        indexes: &[IndexOnDisk],
        requests: &[String],
    ) -> Option<Self> {
        let mut hasher = blake3::Hasher::new();
        hasher.update(
            format!(
                "boulder resolution {MEMO_VERSION} {} {}\n",
                env!("CARGO_PKG_VERSION"),
                skeleton::SKELETON_VERSION
            )
            .as_bytes(),
        );
        hasher.update(format!("profile\0{}\n", profile.name).as_bytes());
        for index in indexes {
            let bytes = fs::read(&index.path).ok()?;
            hasher.update(format!("repo\0{:?}\0{}\0", index.spec, bytes.len()).as_bytes());
            hasher.update(&bytes);
            hasher.update(b"\n");
        }
        for request in requests {
            hasher.update(format!("request\0{request}\n").as_bytes());
        }
        for (link, target) in &profile.links {
            hasher.update(format!("link\0{link}\0{target}\n").as_bytes());
        }
        for (file, content) in &profile.files {
            hasher.update(format!("file\0{file}\0{}\0{content}\0", content.len()).as_bytes());
        }
        let name = hasher.finalize().to_hex()[..32].to_string();
        Some(Self {
            path: resolutions_dir(cache).join(name),
        })
    }

    /// The root key remembered for these inputs.
    pub fn recall(&self) -> Option<String> {
        let text = fs::read_to_string(&self.path).ok()?;
        let key = text.trim();
        let well_formed = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
        well_formed.then(|| key.to_string())
    }

    /// Remembers `key` for these inputs. Best effort: a failure only costs
    /// the next build a resolution.
    pub fn remember(&self, key: &str) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        if fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(mut scratch) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if writeln!(scratch, "{key}").is_ok() {
            let _ = scratch.persist(&self.path);
        }
    }
}

/// Drops the remembered resolutions whose root is gone (a prune removed
/// it); best effort. A later build with those inputs resolves afresh anyway.
pub fn forget_missing_roots(cache: &Cache) {
    let Ok(entries) = fs::read_dir(resolutions_dir(cache)) else {
        return;
    };
    let roots = cache.roots_dir();
    for entry in entries.flatten() {
        let memo = Memo { path: entry.path() };
        let gone = memo.recall().is_none_or(|key| !roots.join(key).is_dir());
        if gone {
            let _ = fs::remove_file(&memo.path);
        }
    }
}

fn resolutions_dir(cache: &Cache) -> PathBuf {
    cache.dir().join("resolutions")
}

/// `name-version` of every package of the root `key`, sorted, from the list
/// written beside the root when it was made; `None` when there is none.
pub fn root_packages(roots_dir: &Path, key: &str) -> Option<Vec<String>> {
    let text = fs::read_to_string(roots_dir.join(format!("{key}.packages"))).ok()?;
    let mut packages: Vec<String> = text
        .lines()
        .filter_map(|line| line.split('\t').next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    packages.sort();
    Some(packages)
}
