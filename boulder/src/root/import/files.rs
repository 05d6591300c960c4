//! Turning dpkg's file lists into `/usr` layouts: merged-`/usr` paths move
//! under `/usr`, diverted files are taken from where they were diverted to,
//! `/etc/alternatives` links are resolved to their final file, a `/usr`
//! link to a file in `/etc` carries that file, and a path two packages list
//! goes to the first by name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::dpkg::{self, Diversion};

/// Directories that merged-`/usr` systems link into `/usr`.
const MERGED: [&str; 6] = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"];

/// A host path as a path relative to `/usr` (`/bin/sh` → `bin/sh`), or
/// `None` for paths outside `/usr` (`/etc`, `/var`, …).
pub fn usr_relative(path: &str) -> Option<String> {
    let trimmed = path.trim_start_matches('/');
    if let Some(rest) = trimmed.strip_prefix("usr/") {
        return (!rest.is_empty()).then(|| rest.to_string());
    }
    let first = trimmed.split('/').next()?;
    (MERGED.contains(&first) && trimmed.len() > first.len()).then(|| trimmed.to_string())
}

/// One file of a package to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to `/usr`.
    pub path: String,
    /// Where it is on the host.
    pub host: PathBuf,
    pub kind: FileKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// Permission bits (set-id bits dropped: nothing in a root may gain privileges).
    Regular {
        mode: u32,
        size: u64,
        mtime: (i64, i64),
    },
    Symlink {
        target: String,
    },
}

fn regular(meta: &fs::Metadata) -> FileKind {
    FileKind::Regular {
        mode: meta.mode() & 0o777,
        size: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    }
}

/// Reads one listed path; directories and special files give `None`.
fn read_entry(host_root: &Path, path: String, host: PathBuf) -> Option<FileEntry> {
    let meta = fs::symlink_metadata(&host).ok()?;
    let kind = if meta.file_type().is_symlink() {
        let target = fs::read_link(&host).ok()?.to_str()?.to_string();
        if target.starts_with("/etc/alternatives/") {
            FileKind::Symlink {
                target: dpkg::resolve_alternative(&target)?,
            }
        } else if let Some(in_etc) = target.strip_prefix("/etc/") {
            // Debian makes some /usr files configurable by linking them to
            // a conffile (docbook-xml's `dbgenent.mod` →
            // /etc/sgml/docbook-xml/…). A root keeps only /usr, so the file
            // the link names is imported in the link's place.
            let file = host_root.join("etc").join(in_etc);
            match fs::metadata(&file) {
                Ok(m) if m.is_file() => {
                    return Some(FileEntry {
                        path,
                        host: file,
                        kind: regular(&m),
                    })
                }
                _ => FileKind::Symlink { target },
            }
        } else {
            FileKind::Symlink { target }
        }
    } else if meta.is_file() {
        regular(&meta)
    } else {
        return None;
    };
    Some(FileEntry { path, host, kind })
}

/// The files of each package (keyed by package name), after diversions,
/// deduplication and alternatives. The packages in `known` keep their
/// stones: their paths are claimed, but not read, and they get no files.
pub fn layouts(
    host_root: &Path,
    lists: &BTreeMap<String, Vec<String>>,
    diversions: &HashMap<String, Diversion>,
    alternatives: &[(String, String)],
    known: &HashSet<&str>,
) -> BTreeMap<String, Vec<FileEntry>> {
    let mut claimed: HashSet<String> = HashSet::new();
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut out: BTreeMap<String, Vec<FileEntry>> = BTreeMap::new();
    for (package, list) in lists {
        let files = out.entry(package.clone()).or_default();
        for listed in list {
            let on_host = match diversions.get(listed) {
                Some(d) if d.by.as_deref() != Some(package.as_str()) => d.to.clone(),
                _ => listed.clone(),
            };
            let Some(path) = usr_relative(&on_host) else {
                continue;
            };
            if claimed.contains(&path) {
                continue;
            }
            if known.contains(package.as_str()) {
                claimed.insert(path.clone());
                owner.insert(path, package.clone());
                continue;
            }
            let host = host_root.join(on_host.trim_start_matches('/'));
            if let Some(entry) = read_entry(host_root, path.clone(), host) {
                claimed.insert(path.clone());
                owner.insert(path, package.clone());
                files.push(entry);
            }
        }
    }
    // An alternatives link belongs with the package of the file it means.
    for (link, target) in alternatives {
        let (Some(link_path), Some(target_path)) = (usr_relative(link), usr_relative(target))
        else {
            continue;
        };
        let Some(package) = owner.get(&target_path) else {
            continue;
        };
        if claimed.insert(link_path.clone()) && !known.contains(package.as_str()) {
            if let Some(files) = out.get_mut(package) {
                files.push(FileEntry {
                    path: link_path,
                    host: host_root.join(link.trim_start_matches('/')),
                    kind: FileKind::Symlink {
                        target: format!("/usr/{target_path}"),
                    },
                });
            }
        }
    }
    for files in out.values_mut() {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    out
}

/// Adds links the host does not have (`bin/clang-cpp` → `clang-cpp-14`),
/// unless the package already has a file at that path.
pub fn add_links(files: &mut Vec<FileEntry>, links: &BTreeMap<String, String>) {
    for (path, target) in links {
        if files.iter().any(|f| &f.path == path) {
            continue;
        }
        files.push(FileEntry {
            path: path.clone(),
            host: PathBuf::new(),
            kind: FileKind::Symlink {
                target: target.clone(),
            },
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_usr_paths_move_under_usr() {
        assert_eq!(usr_relative("/bin/sh").as_deref(), Some("bin/sh"));
        assert_eq!(usr_relative("/usr/bin/gcc").as_deref(), Some("bin/gcc"));
        assert_eq!(
            usr_relative("/lib64/ld-linux-x86-64.so.2").as_deref(),
            Some("lib64/ld-linux-x86-64.so.2")
        );
        assert_eq!(usr_relative("/etc/passwd"), None);
        assert_eq!(usr_relative("/usr"), None);
        assert_eq!(usr_relative("/bin"), None);
        assert_eq!(usr_relative("/."), None);
    }

    #[test]
    fn first_package_wins_and_alternatives_follow_their_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Host files live under usr/ of the temp dir; lists name them absolutely.
        let usr = dir.path().join("usr/bin");
        fs::create_dir_all(&usr).expect("mkdir");
        fs::write(usr.join("mawk"), b"awk").expect("write");
        std::os::unix::fs::symlink("mawk", usr.join("awk")).expect("symlink");
        let (mawk, awk) = ("/usr/bin/mawk".to_string(), "/usr/bin/awk".to_string());
        let lists: BTreeMap<String, Vec<String>> = [
            ("a".to_string(), vec![mawk.clone()]),
            ("b".to_string(), vec![mawk.clone()]),
        ]
        .into_iter()
        .collect();
        let out = layouts(
            dir.path(),
            &lists,
            &HashMap::new(),
            &[(awk.clone(), mawk.clone())],
            &HashSet::new(),
        );
        assert_eq!(out["a"].len(), 2, "{:?}", out["a"]);
        assert!(out["b"].is_empty());
        let link = out["a"].iter().find(|e| e.path == "bin/awk").expect("link");
        assert_eq!(link.host, usr.join("awk"));
        assert!(matches!(&link.kind, FileKind::Symlink { target } if target == "/usr/bin/mawk"));
        // A package that keeps its stone still claims its paths, unread.
        let known: HashSet<&str> = ["a"].into_iter().collect();
        let out = layouts(
            dir.path(),
            &lists,
            &HashMap::new(),
            &[(awk.clone(), mawk.clone())],
            &known,
        );
        assert!(out["a"].is_empty() && out["b"].is_empty(), "{out:?}");
    }

    #[test]
    fn a_usr_link_to_a_conffile_carries_the_conffile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dtd = dir.path().join("usr/share/xml/docbook/4.3");
        let etc = dir.path().join("etc/sgml/docbook-xml/4.3");
        fs::create_dir_all(&dtd).expect("mkdir");
        fs::create_dir_all(&etc).expect("mkdir");
        fs::write(etc.join("dbgenent.mod"), b"<!-- entities -->").expect("write");
        std::os::unix::fs::symlink(
            "/etc/sgml/docbook-xml/4.3/dbgenent.mod",
            dtd.join("dbgenent.mod"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink("/etc/sgml/missing", dtd.join("dangling")).expect("symlink");
        let lists: BTreeMap<String, Vec<String>> = [(
            "docbook-xml".to_string(),
            vec![
                "/usr/share/xml/docbook/4.3/dbgenent.mod".to_string(),
                "/usr/share/xml/docbook/4.3/dangling".to_string(),
            ],
        )]
        .into_iter()
        .collect();
        let out = layouts(dir.path(), &lists, &HashMap::new(), &[], &HashSet::new());
        let files = &out["docbook-xml"];
        let module = files
            .iter()
            .find(|e| e.path == "share/xml/docbook/4.3/dbgenent.mod")
            .expect("module");
        assert_eq!(module.host, etc.join("dbgenent.mod"));
        assert!(matches!(module.kind, FileKind::Regular { size: 17, .. }));
        // A link to an /etc file the host does not have stays a link.
        let dangling = files
            .iter()
            .find(|e| e.path == "share/xml/docbook/4.3/dangling")
            .expect("dangling");
        assert!(
            matches!(&dangling.kind, FileKind::Symlink { target } if target == "/etc/sgml/missing")
        );
    }
}
