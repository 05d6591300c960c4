//! The repositories of a root: one model, read from the original moss's two
//! forms, YAML (`*.yaml`) and KDL (`*.kdl`, see [`super::kdl`]). Each file
//! maps repository ids to `{description, uri | base-uri…, priority, active}`.
//!
//! Read, later files overriding earlier ones: `usr/share/moss/repo.{yaml,kdl}`,
//! `usr/share/moss/repo.d/*`, `etc/moss/repo.{yaml,kdl}`, `etc/moss/repo.d/*`
//! (all under the root, each folder in name order; where a `.yaml` and a
//! `.kdl` file share a stem the KDL one is read, as the original does).
//! `moss repo add` writes `etc/moss/repo.d/<id>.<form>` in the form the root
//! already uses (KDL when any repository file of the root is KDL, YAML
//! otherwise); `moss repo remove` deletes that file, or records
//! `active: false` over a repository defined elsewhere.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::RepoError;
use crate::fetch::part_path;

/// The channel of a root index when none is given.
pub const DEFAULT_CHANNEL: &str = "main";
/// The architecture of a root index when none is given.
pub const DEFAULT_ARCH: &str = "x86_64";

/// A repository found through a root index
/// (`<base-uri>/<channel>/moss-root-index.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootIndexSource {
    pub base_uri: String,
    pub channel: String,
    /// `stream/<x>`, `tag/<x>` or `history/<x>`.
    pub version: String,
    pub arch: String,
}

/// One configured repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoConfig {
    pub description: String,
    /// The index: `https://…/stone.index`, `file:///…/stone.index` or a path.
    /// Empty when the repository is found through `root`.
    pub uri: String,
    /// Set instead of `uri` for a repository behind a root index.
    pub root: Option<RootIndexSource>,
    /// Larger wins.
    pub priority: u64,
    pub active: bool,
}

impl RepoConfig {
    /// A repository with a direct index.
    pub fn direct(description: String, uri: String, priority: u64) -> Self {
        Self {
            description,
            uri,
            root: None,
            priority,
            active: true,
        }
    }

    /// What identifies where the index comes from (for caches and listings).
    pub fn source(&self) -> String {
        match &self.root {
            None => self.uri.clone(),
            Some(r) => format!("{}-{}-{}-{}", r.base_uri, r.channel, r.version, r.arch),
        }
    }
}

/// A repository and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub id: String,
    pub config: RepoConfig,
}

/// The YAML shape of a repository (field names as the original's).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct YamlRepo {
    #[serde(default)]
    description: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    base_uri: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    arch: Option<String>,
    priority: u64,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl YamlRepo {
    fn into_config(self, id: &str) -> Result<RepoConfig, String> {
        let root = match (&self.uri, self.base_uri) {
            (Some(_), None) => None,
            (None, Some(base_uri)) => Some(RootIndexSource {
                base_uri,
                channel: self.channel.unwrap_or_else(|| DEFAULT_CHANNEL.into()),
                version: self.version.ok_or_else(|| {
                    format!("repository {id}: a `base-uri` repository needs a `version`")
                })?,
                arch: self.arch.unwrap_or_else(|| DEFAULT_ARCH.into()),
            }),
            (None, None) => return Err(format!("repository {id}: needs `uri` or `base-uri`")),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "repository {id}: `uri` and `base-uri` exclude each other"
                ))
            }
        };
        Ok(RepoConfig {
            description: self.description,
            uri: self.uri.unwrap_or_default(),
            root,
            priority: self.priority,
            active: self.active,
        })
    }

    /// The YAML text of a file holding this repository alone. Every string is quoted, so
    /// any id, URI or description reads back as written.
    fn encode(&self, id: &str) -> String {
        let quote = crate::yaml::quote;
        let mut out = format!(
            "{}:\n  description: {}\n",
            quote(id),
            quote(&self.description)
        );
        let optional = [
            ("uri", &self.uri),
            ("base-uri", &self.base_uri),
            ("channel", &self.channel),
            ("version", &self.version),
            ("arch", &self.arch),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                out.push_str(&format!("  {key}: {}\n", quote(value)));
            }
        }
        out.push_str(&format!(
            "  priority: {}\n  active: {}\n",
            self.priority, self.active
        ));
        out
    }

    fn from_config(c: &RepoConfig) -> Self {
        let r = c.root.as_ref();
        Self {
            description: c.description.clone(),
            uri: r.is_none().then(|| c.uri.clone()),
            base_uri: r.map(|r| r.base_uri.clone()),
            channel: r.map(|r| r.channel.clone()),
            version: r.map(|r| r.version.clone()),
            arch: r.map(|r| r.arch.clone()),
            priority: c.priority,
            active: c.active,
        }
    }
}

/// The two forms of a repository file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Yaml,
    Kdl,
}

impl Form {
    fn of(path: &Path) -> Option<Form> {
        match path.extension()?.to_str()? {
            "yaml" | "yml" => Some(Form::Yaml),
            "kdl" => Some(Form::Kdl),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Form::Yaml => "yaml",
            Form::Kdl => "kdl",
        }
    }
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

/// Reads one repository file of either form.
pub fn parse_file(path: &Path) -> Result<BTreeMap<String, RepoConfig>, RepoError> {
    let text = fs::read_to_string(path).map_err(RepoError::io("reading", path))?;
    let bad = |reason: String| RepoError::Config {
        path: path.to_path_buf(),
        reason,
    };
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    match Form::of(path) {
        Some(Form::Kdl) => super::kdl::parse(&text).map_err(bad),
        _ => {
            let map: BTreeMap<String, YamlRepo> =
                crate::yaml::from_str(&text).map_err(|e| bad(e.to_string()))?;
            map.into_iter()
                .map(|(id, y)| y.into_config(&id).map(|c| (id, c)))
                .collect::<Result<_, _>>()
                .map_err(bad)
        }
    }
}

/// Reads every repository of the root (inactive ones included), by id.
pub fn load(root: &Path) -> Result<BTreeMap<String, RepoConfig>, RepoError> {
    let mut out = BTreeMap::new();
    for file in config_files(root)? {
        for (id, config) in parse_file(&file)? {
            out.insert(sanitize_id(&id), config);
        }
    }
    Ok(out)
}

/// The form `repo add` writes in this root: KDL once any repository file
/// of the root is KDL (a root the original moss set up), YAML otherwise.
pub fn root_form(root: &Path) -> Result<Form, RepoError> {
    let kdl = config_files(root)?
        .iter()
        .any(|f| Form::of(f) == Some(Form::Kdl));
    Ok(if kdl { Form::Kdl } else { Form::Yaml })
}

/// The file `repo add` writes for `id` in the given form.
pub fn own_file(root: &Path, id: &str, form: Form) -> PathBuf {
    root.join("etc/moss/repo.d")
        .join(format!("{id}.{}", form.extension()))
}

/// The root's own files for `id` (either form) that exist.
pub fn own_files(root: &Path, id: &str) -> Vec<PathBuf> {
    [Form::Yaml, Form::Kdl]
        .into_iter()
        .map(|f| own_file(root, id, f))
        .filter(|p| p.is_file())
        .collect()
}

/// The text of a file holding `id` alone.
pub fn encode(id: &str, config: &RepoConfig, form: Form) -> Result<String, String> {
    match form {
        Form::Kdl => {
            let mut map = BTreeMap::new();
            map.insert(id.to_string(), config.clone());
            Ok(super::kdl::encode(&map))
        }
        Form::Yaml => Ok(YamlRepo::from_config(config).encode(id)),
    }
}

/// Writes `etc/moss/repo.d/<id>.<form>` atomically, in the root's form; an
/// own file of the other form for `id` is removed (it would shadow or be
/// shadowed by the new one).
pub fn save(root: &Path, id: &str, config: &RepoConfig) -> Result<PathBuf, RepoError> {
    let form = root_form(root)?;
    let path = own_file(root, id, form);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(RepoError::io("creating", dir))?;
    }
    let text = encode(id, config, form).map_err(|reason| RepoError::Config {
        path: path.clone(),
        reason,
    })?;
    let part = part_path(&path);
    fs::write(&part, text).map_err(RepoError::io("writing", &part))?;
    fs::rename(&part, &path).map_err(RepoError::io("renaming into place", &path))?;
    for other in own_files(root, id) {
        if other != path {
            fs::remove_file(&other).map_err(RepoError::io("removing", &other))?;
        }
    }
    Ok(path)
}

/// Keeps, among files of one folder, the KDL file where a YAML file has the
/// same stem; sorted by name.
fn prefer_kdl(mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    files.sort();
    let kdl_stems: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter(|f| Form::of(f) == Some(Form::Kdl))
        .map(|f| f.with_extension(""))
        .collect();
    files.retain(|f| Form::of(f) == Some(Form::Kdl) || !kdl_stems.contains(&f.with_extension("")));
    files
}

fn config_files(root: &Path) -> Result<Vec<PathBuf>, RepoError> {
    let mut files = Vec::new();
    for base in ["usr/share/moss", "etc/moss"] {
        let singles = ["repo.yaml", "repo.kdl"]
            .iter()
            .map(|n| root.join(base).join(n))
            .filter(|p| p.is_file())
            .collect();
        files.extend(prefer_kdl(singles));
        let dir = root.join(base).join("repo.d");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RepoError::io("listing", &dir)(e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry.map_err(RepoError::io("listing", &dir))?.path();
            if Form::of(&path).is_some() && path.is_file() {
                found.push(path);
            }
        }
        files.extend(prefer_kdl(found));
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

#[cfg(test)]
mod form_tests {
    use super::*;

    #[test]
    fn kdl_wins_over_yaml_of_the_same_stem_and_sets_the_form() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("etc/moss/repo.d");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("a.yaml"), "a:\n  uri: file:///yaml\n  priority: 1\n").unwrap();
        assert_eq!(root_form(tmp.path()).unwrap(), Form::Yaml);
        fs::write(
            d.join("a.kdl"),
            "a {\n    uri \"file:///kdl\"\n    priority 2\n}\n",
        )
        .unwrap();
        let cfg = load(tmp.path()).unwrap();
        assert_eq!(cfg["a"].uri, "file:///kdl");
        assert_eq!(root_form(tmp.path()).unwrap(), Form::Kdl);
        let b = RepoConfig::direct("b".into(), "file:///b".into(), 3);
        let path = save(tmp.path(), "b", &b).unwrap();
        assert!(path.ends_with("b.kdl"));
        assert_eq!(load(tmp.path()).unwrap()["b"], b);
    }
}
