//! What the install phase left in the install root, checked before packaging
//! so that a build cannot come out empty or silently incomplete.
//!
//! Upstream boulder drops everything outside `/usr` without a word and
//! ships `/usr/local` like any other path. Here:
//!
//! * an install root holding nothing is an error (the install step wrote
//!   somewhere else, or nothing at all);
//! * a file (anything but a directory) outside `/usr` is an error: stones
//!   cannot hold it, so the package would lack it;
//! * a file under `/usr/local` is an error: it is the default prefix of
//!   build systems that were not told `%(prefix)`;
//! * an empty directory outside `/usr` is only a warning (install rules
//!   often create `/var/lib/<name>` or `/etc/<name>`; they are dropped).
//!
//! Each error names the files and the usual fix.

use std::fmt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// At most this many paths are named in a message; the rest are counted.
const SHOWN: usize = 12;

/// Why the install root cannot become packages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}\nhelp: {}", self.what(), self.help())]
pub enum InstallProblem {
    /// Nothing at all was installed into the install root.
    Empty,
    /// Files a stone cannot (or should not) ship.
    Misplaced {
        /// Files outside `/usr`, sorted.
        outside: Vec<String>,
        /// Files under `/usr/local`, sorted.
        local: Vec<String>,
    },
}

impl InstallProblem {
    /// What is wrong, with the files named.
    pub fn what(&self) -> String {
        match self {
            InstallProblem::Empty => {
                "the install phase installed nothing: the install root is empty".to_string()
            }
            InstallProblem::Misplaced { outside, local } => {
                let mut text = String::new();
                if !outside.is_empty() {
                    text.push_str(&format!(
                        "{} installed file(s) outside /usr, where a stone cannot hold them:\n{}",
                        outside.len(),
                        listing(outside)
                    ));
                }
                if !local.is_empty() {
                    text.push_str(&format!(
                        "{} installed file(s) under /usr/local, the prefix a build system uses \
                         when it is not given one:\n{}",
                        local.len(),
                        listing(local)
                    ));
                }
                text.trim_end().to_string()
            }
        }
    }

    /// The usual fix.
    pub fn help(&self) -> String {
        match self {
            InstallProblem::Empty => "install into the install root, not the build root: \
                `%make_install`, or `make install DESTDIR=\"%(installroot)\"`, or \
                `install -Dm00755 prog \"%(installroot)%(bindir)/prog\"`"
                .to_string(),
            InstallProblem::Misplaced { outside, .. } => {
                let mut text = "install under /usr: give the build system the prefix \
                    (`--prefix=%(prefix)`, `-DCMAKE_INSTALL_PREFIX=%(prefix)`, \
                    `PREFIX=%(prefix)` for a plain Makefile; the %configure, %cmake and %meson \
                    actions do) and install into `DESTDIR=\"%(installroot)\"`"
                    .to_string();
                if outside.iter().any(|p| p.starts_with("/etc/")) {
                    text.push_str(
                        "; a stateless system ships configuration defaults under \
                         %(vendordir) (/usr/share/defaults), not /etc",
                    );
                }
                text
            }
        }
    }
}

fn listing(paths: &[String]) -> String {
    let mut text = String::new();
    for path in paths.iter().take(SHOWN) {
        text.push_str(&format!("  {path}\n"));
    }
    if paths.len() > SHOWN {
        text.push_str(&format!("  … and {} more\n", paths.len() - SHOWN));
    }
    text
}

/// The install root passed the check; what it dropped is worth a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Empty directories outside `/usr`, which are not packaged.
    pub dropped_directories: Vec<String>,
}

/// Why the install root could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the install tree at {}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where an install-root path belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Usr,
    UsrLocal,
    Outside,
}

fn place(path: &str) -> Place {
    if path == "/usr/local" || path.starts_with("/usr/local/") {
        Place::UsrLocal
    } else if path == "/usr" || path.starts_with("/usr/") {
        Place::Usr
    } else {
        Place::Outside
    }
}

/// Checks the tree below `install_root` (symlinks are not followed).
pub fn check(install_root: &Path) -> Result<Result<Checked, InstallProblem>, ReadError> {
    let mut anything = false;
    let mut outside = Vec::new();
    let mut local = Vec::new();
    let mut checked = Checked::default();
    for item in WalkDir::new(install_root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
    {
        let item = item.map_err(|error| ReadError {
            path: error.path().unwrap_or(install_root).to_path_buf(),
            source: error.into(),
        })?;
        anything = true;
        let relative = item
            .path()
            .strip_prefix(install_root)
            .unwrap_or(item.path());
        let path = format!("/{}", relative.to_string_lossy());
        let is_dir = item.file_type().is_dir();
        match (place(&path), is_dir) {
            (Place::Usr, _) => {}
            (Place::UsrLocal, false) => local.push(path),
            (Place::Outside, false) => outside.push(path),
            (Place::UsrLocal | Place::Outside, true) => {
                let empty = std::fs::read_dir(item.path())
                    .map_err(|source| ReadError {
                        path: item.path().to_path_buf(),
                        source,
                    })?
                    .next()
                    .is_none();
                if empty && place(&path) == Place::Outside {
                    checked.dropped_directories.push(path);
                } else if empty {
                    local.push(format!("{path}/"));
                }
            }
        }
    }
    if !anything {
        return Ok(Err(InstallProblem::Empty));
    }
    if !outside.is_empty() || !local.is_empty() {
        return Ok(Err(InstallProblem::Misplaced { outside, local }));
    }
    Ok(Ok(checked))
}

/// The warning for packages of the recipe that no installed path matched.
pub struct UnmatchedPackages<'a>(pub &'a [String]);

impl fmt::Display for UnmatchedPackages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(|n| format!("`{n}`")).collect();
        write!(
            f,
            "package(s) {} of the recipe got no file: their `paths` matched nothing that was \
             installed (or an earlier-listed rule took the files), so no stone is written for them",
            names.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str], dirs: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        for dir in dirs {
            std::fs::create_dir_all(root.path().join(dir)).expect("dir");
        }
        for file in files {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, "x").expect("file");
        }
        root
    }

    #[test]
    fn an_empty_install_root_is_refused_with_the_fix() {
        let root = tree(&[], &[]);
        let problem = check(root.path()).expect("read").expect_err("refused");
        assert_eq!(problem, InstallProblem::Empty);
        assert!(problem.to_string().contains("%(installroot)"), "{problem}");
    }

    #[test]
    fn files_outside_usr_and_under_usr_local_are_named_with_the_fix() {
        let root = tree(
            &[
                "usr/bin/ok",
                "opt/app/bin/app",
                "etc/app.conf",
                "usr/local/bin/app",
            ],
            &[],
        );
        let problem = check(root.path()).expect("read").expect_err("refused");
        let InstallProblem::Misplaced { outside, local } = &problem else {
            panic!("{problem:?}");
        };
        assert_eq!(outside, &["/etc/app.conf", "/opt/app/bin/app"]);
        assert_eq!(local, &["/usr/local/bin/app"]);
        let text = problem.to_string();
        for needle in [
            "/opt/app/bin/app",
            "/usr/local/bin/app",
            "PREFIX=%(prefix)",
            "DESTDIR",
            "defaults",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
    }

    #[test]
    fn empty_directories_outside_usr_are_dropped_with_a_warning() {
        let root = tree(&["usr/bin/ok"], &["var/lib/app", "usr/share/empty"]);
        let checked = check(root.path()).expect("read").expect("accepted");
        assert_eq!(checked.dropped_directories, ["/var/lib/app"]);
    }

    #[test]
    fn long_lists_are_cut_and_counted() {
        let names: Vec<String> = (0..20).map(|i| format!("opt/f{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let root = tree(&refs, &[]);
        let text = check(root.path())
            .expect("read")
            .expect_err("refused")
            .to_string();
        assert!(text.contains("/opt/f11"), "{text}");
        assert!(!text.contains("/opt/f12"), "{text}");
        assert!(text.contains("and 8 more"), "{text}");
    }
}
