//! Where an index or a package lives: a local path (plain or `file://`) or
//! an `http(s)://` URL, and joining `PackageURI`s onto the index's location.

use std::path::{Path, PathBuf};

/// A parsed repository or package location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Http(String),
}

impl Location {
    /// Parses a repository URI. A folder (or a URI not ending in `.index`)
    /// means `<it>/stone.index`. Relative local paths are made absolute
    /// against `cwd`.
    pub fn parse_index(uri: &str, cwd: &Path) -> Location {
        let loc = Self::parse(uri, cwd);
        let names_index = |s: &str| s.trim_end_matches('/').ends_with(".index");
        match loc {
            Location::Http(url) if !names_index(&url) => {
                Location::Http(format!("{}/stone.index", url.trim_end_matches('/')))
            }
            Location::Local(path) if path.is_dir() || !names_index(&path.to_string_lossy()) => {
                Location::Local(path.join("stone.index"))
            }
            other => other,
        }
    }

    /// Parses any location.
    pub fn parse(uri: &str, cwd: &Path) -> Location {
        let lower = uri.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Location::Http(uri.to_string());
        }
        let path = uri.strip_prefix("file://").unwrap_or(uri);
        Location::Local(cwd.join(path))
    }

    /// The canonical text stored in the configuration.
    pub fn to_uri(&self) -> String {
        match self {
            Location::Http(url) => url.clone(),
            Location::Local(path) => format!("file://{}", path.display()),
        }
    }

    /// Resolves `relative` (a `PackageURI`) against this index location, as
    /// a URL join does: relative to the index's folder, `..` allowed.
    /// Absolute URLs are taken as they are.
    pub fn join(&self, relative: &str) -> Location {
        let lower = relative.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Location::Http(relative.to_string());
        }
        if let Some(path) = relative.strip_prefix("file://") {
            return Location::Local(PathBuf::from(path));
        }
        match self {
            Location::Local(index) => {
                let base = index.parent().unwrap_or(Path::new("/"));
                Location::Local(normalize(&base.join(relative)))
            }
            Location::Http(url) => Location::Http(join_url(url, relative)),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_uri())
    }
}

/// Drops `.` and resolves `..` lexically (the stone may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn join_url(base: &str, relative: &str) -> String {
    // Split `scheme://authority` from the path; drop query and fragment.
    let base = base.split(['?', '#']).next().unwrap_or(base);
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let (origin, path) = base.split_at(path_start);
    if let Some(abs) = relative.strip_prefix('/') {
        return format!("{origin}/{abs}");
    }
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if !path.ends_with('/') {
        segments.pop(); // the index file name
    }
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    format!("{origin}/{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_joins() {
        let index = Location::parse_index("http://127.0.0.1:8080/repo/x86_64/", Path::new("/"));
        assert_eq!(
            index,
            Location::Http("http://127.0.0.1:8080/repo/x86_64/stone.index".into())
        );
        assert_eq!(
            index.join("a/b.stone"),
            Location::Http("http://127.0.0.1:8080/repo/x86_64/a/b.stone".into())
        );
        assert_eq!(
            index.join("../../pool/b.stone"),
            Location::Http("http://127.0.0.1:8080/pool/b.stone".into())
        );
        assert_eq!(
            index.join("/abs/c.stone"),
            Location::Http("http://127.0.0.1:8080/abs/c.stone".into())
        );
    }

    /// Where joining by concatenation (`<index folder>/<PackageURI>`), which
    /// boulder's build roots once did, gives another URL than a URL join.
    #[test]
    fn joins_where_concatenation_differs() {
        let index = Location::Http("http://h/r/x86_64/stone.index".into());
        let cases = [
            ("../pool/a.stone", "http://h/r/pool/a.stone"),
            ("/pool/a.stone", "http://h/pool/a.stone"),
            ("./a.stone", "http://h/r/x86_64/a.stone"),
            ("a//b.stone", "http://h/r/x86_64/a/b.stone"),
            ("../../../../a.stone", "http://h/a.stone"),
        ];
        for (relative, joined) in cases {
            assert_eq!(
                index.join(relative),
                Location::Http(joined.into()),
                "{relative}"
            );
        }
        // A query may hold slashes; it is not part of the folder.
        let signed = Location::Http("http://h/r/stone.index?dir=a/b".into());
        assert_eq!(
            signed.join("x.stone"),
            Location::Http("http://h/r/x.stone".into())
        );
        // Absolute URLs and file URIs are taken as they are.
        assert_eq!(
            index.join("HTTPS://mirror/x.stone"),
            Location::Http("HTTPS://mirror/x.stone".into())
        );
        assert_eq!(
            index.join("file:///srv/x.stone"),
            Location::Local("/srv/x.stone".into())
        );
    }

    #[test]
    fn local_paths_and_file_uris() {
        let cwd = Path::new("/work");
        let a = Location::parse_index("file:///srv/repo/stone.index", cwd);
        assert_eq!(a, Location::Local("/srv/repo/stone.index".into()));
        assert_eq!(
            a.join("../pool/x.stone"),
            Location::Local("/srv/pool/x.stone".into())
        );
        let b = Location::parse_index("repo", cwd);
        assert_eq!(b, Location::Local("/work/repo/stone.index".into()));
        assert_eq!(b.to_uri(), "file:///work/repo/stone.index");
    }
}
