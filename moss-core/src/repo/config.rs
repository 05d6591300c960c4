//! The repositories of a root, kept in YAML as the original moss reads them:
//! each file maps repository ids to `{description, uri, priority, active}`.
//!
//! Read, later files overriding earlier ones: `usr/share/moss/repo.yaml`,
//! `usr/share/moss/repo.d/*.yaml`, `etc/moss/repo.yaml`, `etc/moss/repo.d/*.yaml`
//! (all under the root). `moss repo add` writes `etc/moss/repo.d/<id>.yaml`;
//! `moss repo remove` deletes that file, or records `active: false` over a
//! repository defined elsewhere (e.g. by the vendor under `usr/share`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::RepoError;
use super::index::part_path;

/// One configured repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RepoConfig {
    #[serde(default)]
    pub description: String,
    /// The index: `https://…/stone.index`, `file:///…/stone.index` or a path.
    pub uri: String,
    /// Larger wins.
    pub priority: u64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A repository and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub id: String,
    pub config: RepoConfig,
}

/// Sanitises an id as the original does: anything but ASCII alphanumerics
/// and `-` becomes `_`.
pub fn sanitize_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads every repository of the root (inactive ones included), by id.
pub fn load(root: &Path) -> Result<BTreeMap<String, RepoConfig>, RepoError> {
    let mut out = BTreeMap::new();
    for file in config_files(root)? {
        let text = fs::read_to_string(&file).map_err(RepoError::io("reading", &file))?;
        if text.trim().is_empty() {
            continue;
        }
        let map: BTreeMap<String, RepoConfig> =
            serde_yaml::from_str(&text).map_err(|e| RepoError::Config {
                path: file.clone(),
                reason: e.to_string(),
            })?;
        for (id, config) in map {
            out.insert(sanitize_id(&id), config);
        }
    }
    Ok(out)
}

/// The file `repo add` writes for `id`.
pub fn own_file(root: &Path, id: &str) -> PathBuf {
    root.join("etc/moss/repo.d").join(format!("{id}.yaml"))
}

/// Writes `etc/moss/repo.d/<id>.yaml` atomically.
pub fn save(root: &Path, id: &str, config: &RepoConfig) -> Result<PathBuf, RepoError> {
    let path = own_file(root, id);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(RepoError::io("creating", dir))?;
    }
    let mut map = BTreeMap::new();
    map.insert(id.to_string(), config.clone());
    let text = serde_yaml::to_string(&map).map_err(|e| RepoError::Config {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let part = part_path(&path);
    fs::write(&part, text).map_err(RepoError::io("writing", &part))?;
    fs::rename(&part, &path).map_err(RepoError::io("renaming into place", &path))?;
    Ok(path)
}

fn config_files(root: &Path) -> Result<Vec<PathBuf>, RepoError> {
    let mut files = Vec::new();
    for base in ["usr/share/moss", "etc/moss"] {
        let single = root.join(base).join("repo.yaml");
        if single.is_file() {
            files.push(single);
        }
        let dir = root.join(base).join("repo.d");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RepoError::io("listing", &dir)(e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry.map_err(RepoError::io("listing", &dir))?.path();
            let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if yaml && path.is_file() {
                found.push(path);
            }
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sanitized() {
        assert_eq!(sanitize_id("my repo.v2"), "my_repo_v2");
        assert_eq!(sanitize_id("volatile-x86"), "volatile-x86");
    }

    #[test]
    fn later_files_override_and_defaults_apply() {
        let tmp = tempfile::tempdir().unwrap();
        let vendor = tmp.path().join("usr/share/moss");
        fs::create_dir_all(&vendor).unwrap();
        fs::write(
            vendor.join("repo.yaml"),
            "volatile:\n  description: AerynOS\n  uri: https://example.invalid/stone.index\n  priority: 0\n",
        )
        .unwrap();
        let mut cfg = load(tmp.path()).unwrap();
        assert!(cfg["volatile"].active);
        let mut over = cfg.remove("volatile").unwrap();
        over.active = false;
        save(tmp.path(), "volatile", &over).unwrap();
        let cfg = load(tmp.path()).unwrap();
        assert!(!cfg["volatile"].active);
        assert_eq!(cfg["volatile"].description, "AerynOS");
    }
}
