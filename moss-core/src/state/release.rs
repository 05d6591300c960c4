//! The files every state's tree carries besides its packages' files, as the
//! original moss writes them: `usr/lib/os-release` (from the tree's
//! `usr/lib/os-info.json`, or a placeholder naming the missing file) and
//! `usr/lib/system-model.kdl` (the root's active repositories and the
//! packages the state selects explicitly). Like `usr/.stateID` they are
//! written read-only (see [`crate::tree::WRITE_BITS`]), by a rename over any
//! older copy.
//!
//! Where a package ships one of these paths itself, its file is kept and
//! none is generated.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kdl::{KdlDocument, KdlNode};
use serde_json::Value;

use super::{io_err, StateError};
use crate::repo::kdl::{repository_node, InactiveKey};
use crate::repo::RepoConfig;
use crate::tree::Tree;

/// The generated os-release, relative to `usr`.
pub const OS_RELEASE: &str = "lib/os-release";
/// The generated system model, relative to `usr`.
pub const SYSTEM_MODEL: &str = "lib/system-model.kdl";
/// Where a tree's vendor describes the system, relative to `usr`.
const OS_INFO: &str = "lib/os-info.json";
/// The mode of the generated files (and of `.stateID`).
pub const GENERATED_MODE: u32 = 0o444;

/// The original's placeholder when `os-info.json` is missing or unreadable,
/// byte for byte (its continuation lines are indented in its source).
const UNBRANDED: &str = "NAME=\"Unbranded OS\"
                VERSION=\"no-os-info.json\"
                ID=\"unbranded-os\"
                VERSION_CODENAME=no-os-info.json
                VERSION_ID=\"no-os-info.json\"
                PRETTY_NAME=\"Unbranded OS no-os-info.json - I forgot to add os-info.json\"
                HOME_URL=\"https://github.com/AerynOS/os-info\"
                BUG_REPORT_URL=\"https://.com\"";

/// A value in double quotes with inner quotes escaped (the original's rule).
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

/// The os-release text for the tree `usr`.
pub fn os_release(usr: &Path) -> String {
    fs::read(usr.join(OS_INFO))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|info| from_os_info(&info))
        .unwrap_or_else(|| UNBRANDED.to_string())
}

/// os-release from an os-info document: identity and version, then the
/// websites by their scope, then extra fields sorted by key.
fn from_os_info(info: &Value) -> Option<String> {
    let text = |v: &Value, path: &[&str]| -> Option<String> {
        path.iter()
            .try_fold(v, |v, k| v.get(k))?
            .as_str()
            .map(str::to_string)
    };
    let identity = |k| text(info, &["metadata", "identity", k]);
    let version = |k| text(info, &["metadata", "version", k]);
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        out.push_str(key);
        out.push('=');
        out.push_str(&quoted(value));
        out.push('\n');
    };
    line("NAME", &identity("name")?);
    line("ID", &identity("id")?);
    line("VERSION_ID", &version("short")?);
    line("VERSION", &version("full")?);
    line("PRETTY_NAME", &identity("display")?);
    if let Some(like) = identity("id_like") {
        line("ID_LIKE", &like);
    }
    let mut urls: BTreeMap<&str, String> = BTreeMap::new();
    let mut extra: BTreeMap<String, String> = BTreeMap::new();
    if let Some(sites) = info
        .get("resources")
        .and_then(|r| r.get("websites"))
        .and_then(Value::as_object)
    {
        // In key order, so that the last of two sites of one scope wins
        // the same way on every run.
        let sites: BTreeMap<&String, &Value> = sites.iter().collect();
        for site in sites.values() {
            let (Some(url), Some(scope)) = (text(site, &["url"]), text(site, &["scope"])) else {
                continue;
            };
            match scope.as_str() {
                "home" => drop(urls.insert("HOME_URL", url)),
                "documentation" => drop(urls.insert("DOCUMENTATION_URL", url)),
                "support" => drop(urls.insert("SUPPORT_URL", url)),
                "bug-tracker" => drop(urls.insert("BUG_REPORT_URL", url)),
                "privacy-policy" => drop(extra.insert("PRIVACY_POLICY_URL".into(), url)),
                "terms-of-service" => drop(extra.insert("TERMS_OF_SERVICE_URL".into(), url)),
                "security-policy" => drop(extra.insert("SECURITY_POLICY_URL".into(), url)),
                _ => {}
            }
        }
    }
    if let Some(email) = text(info, &["security_contact", "email"]) {
        extra.insert("SECURITY_CONTACT".into(), email);
    }
    for key in [
        "HOME_URL",
        "DOCUMENTATION_URL",
        "SUPPORT_URL",
        "BUG_REPORT_URL",
    ] {
        if let Some(url) = urls.get(key) {
            line(key, url);
        }
    }
    for (key, value) in &extra {
        line(key, value);
    }
    Some(out)
}

/// A base URI as a URL parser prints it: a bare host gets its `/`.
fn normalized_base(uri: &str) -> String {
    match uri.split_once("://") {
        Some((_, rest)) if !rest.contains('/') => format!("{uri}/"),
        _ => uri.to_string(),
    }
}

/// The system model of a state: the active repositories, and the names of
/// the packages it selects explicitly (sorted), laid out by the `kdl`
/// crate's formatter as the original's is.
pub fn system_model(repos: &BTreeMap<String, RepoConfig>, packages: &BTreeSet<String>) -> String {
    let mut doc = KdlDocument::new();
    let mut repositories = KdlNode::new("repositories");
    for (id, config) in repos.iter().filter(|(_, c)| c.active) {
        let mut config = config.clone();
        if let Some(root) = config.root.as_mut() {
            root.base_uri = normalized_base(&root.base_uri);
        }
        repositories
            .ensure_children()
            .nodes_mut()
            .push(repository_node(id, &config, InactiveKey::Enabled));
    }
    let mut names = KdlNode::new("packages");
    for name in packages {
        names
            .ensure_children()
            .nodes_mut()
            .push(KdlNode::new(name.as_str()));
    }
    doc.nodes_mut().push(repositories);
    doc.nodes_mut().push(names);
    doc.autoformat();
    doc.to_string()
}

/// Runs `f` with `dir` writable for its owner, putting a read-only mode back.
fn in_writable_dir<T>(
    dir: &Path,
    f: impl FnOnce() -> Result<T, StateError>,
) -> Result<T, StateError> {
    let mode = fs::symlink_metadata(dir)
        .map_err(io_err("reading", dir))?
        .permissions()
        .mode()
        & 0o7777;
    let locked = mode & 0o300 != 0o300;
    if locked {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))
            .map_err(io_err("opening up", dir))?;
    }
    let result = f();
    if locked {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(io_err("closing", dir))?;
    }
    result
}

/// Writes `contents` to `usr/<rel>` read-only, replacing any older file by
/// a rename. A read-only parent directory is opened up for the moment.
pub fn write_read_only(usr: &Path, rel: &str, contents: &str) -> Result<(), StateError> {
    let path = usr.join(rel);
    let dir = path.parent().unwrap_or(usr);
    match fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(io_err("creating", dir)(e))
        }
        _ => {}
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    in_writable_dir(dir, || {
        let result = (|| {
            let _ = fs::remove_file(&tmp);
            fs::write(&tmp, contents).map_err(io_err("writing", &tmp))?;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(GENERATED_MODE))
                .map_err(io_err("setting the mode of", &tmp))?;
            fs::rename(&tmp, &path).map_err(io_err("renaming into place", &path))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    })
}

/// Whether `rel` (relative to `usr`) is a generated file of a state of
/// `tree`, or the `lib` directory made only to hold one.
pub fn is_generated(tree: &Tree, rel: &str) -> bool {
    match rel {
        OS_RELEASE | SYSTEM_MODEL | "lib" => tree.find(rel).is_none(),
        _ => false,
    }
}

/// Writes the generated files of a state of `tree` into `usr`.
pub fn write(usr: &Path, tree: &Tree, model: &str) -> Result<(), StateError> {
    // Never through a symlink a package placed at `lib`.
    if tree
        .find("lib")
        .is_some_and(|n| !matches!(n.kind, crate::tree::NodeKind::Directory { .. }))
    {
        return Ok(());
    }
    if tree.find(OS_RELEASE).is_none() {
        write_read_only(usr, OS_RELEASE, &os_release(usr))?;
    }
    if tree.find(SYSTEM_MODEL).is_none() {
        write_read_only(usr, SYSTEM_MODEL, model)?;
    }
    Ok(())
}

/// Removes the generated files of a state of `tree` from `usr`, leaving
/// exactly the tree (before it is patched into another state's).
pub fn remove(usr: &Path, tree: &Tree) -> Result<(), StateError> {
    let lib = usr.join("lib");
    if fs::symlink_metadata(&lib).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
        return Ok(());
    }
    in_writable_dir(&lib, || {
        for rel in [OS_RELEASE, SYSTEM_MODEL] {
            if tree.find(rel).is_some() {
                continue;
            }
            let path = usr.join(rel);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(io_err("removing", &path)(e))
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    if tree.find("lib").is_none() {
        let _ = fs::remove_dir(usr.join("lib"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_from_os_info_and_placeholder() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(os_release(tmp.path()).starts_with("NAME=\"Unbranded OS\"\n    "));
        fs::create_dir_all(tmp.path().join("lib")).unwrap();
        fs::write(
            tmp.path().join(OS_INFO),
            r#"{"metadata": {"identity": {"name": "AerynOS", "id": "aerynos",
                "display": "AerynOS \"Test\"", "id_like": "linux"},
                "version": {"short": "0.25.1", "full": "0.25.1 (x)"}},
               "resources": {"websites": {
                 "b": {"url": "https://bugs.example", "display_name": "b", "scope": "bug-tracker"},
                 "a": {"url": "https://example", "display_name": "a", "scope": "home"},
                 "p": {"url": "https://example/privacy", "display_name": "p", "scope": "privacy-policy"}}},
               "security_contact": {"email": "sec@example"}}"#,
        )
        .unwrap();
        assert_eq!(
            os_release(tmp.path()),
            "NAME=\"AerynOS\"\nID=\"aerynos\"\nVERSION_ID=\"0.25.1\"\nVERSION=\"0.25.1 (x)\"\n\
             PRETTY_NAME=\"AerynOS \\\"Test\\\"\"\nID_LIKE=\"linux\"\nHOME_URL=\"https://example\"\n\
             BUG_REPORT_URL=\"https://bugs.example\"\nPRIVACY_POLICY_URL=\"https://example/privacy\"\n\
             SECURITY_CONTACT=\"sec@example\"\n"
        );
    }

    #[test]
    fn system_model_matches_the_original_layout() {
        assert_eq!(
            system_model(&BTreeMap::new(), &BTreeSet::new()),
            "repositories\npackages\n"
        );
        let mut repos = BTreeMap::new();
        repos.insert(
            "bar".to_string(),
            RepoConfig {
                description: "testing".into(),
                uri: String::new(),
                root: Some(crate::repo::config::RootIndexSource {
                    base_uri: "https://test.dev".into(),
                    channel: "testing".into(),
                    version: "tag/test-this".into(),
                    arch: "x86_64".into(),
                }),
                priority: 10,
                active: true,
            },
        );
        repos.insert(
            "off".to_string(),
            RepoConfig {
                active: false,
                ..RepoConfig::direct("off".into(), "file:///off".into(), 1)
            },
        );
        repos.insert(
            "local".to_string(),
            RepoConfig::direct("local repo".into(), "file:///srv/stone.index".into(), 2),
        );
        let packages: BTreeSet<String> = ["xyz", "abc"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            system_model(&repos, &packages),
            "repositories {\n    bar {\n        description testing\n        base-uri \"https://test.dev/\"\n        channel testing\n        version \"tag/test-this\"\n        priority 10\n    }\n    local {\n        description \"local repo\"\n        uri \"file:///srv/stone.index\"\n        priority 2\n    }\n}\npackages {\n    abc\n    xyz\n}\n"
        );
    }
}
