//! The input type: one upstream as the recipe describes it.

use std::path::{Component, Path, PathBuf};

use super::UpstreamError;

/// One entry of a recipe's `upstreams:` list, in the form the fetcher needs.
///
/// Defaults follow the original boulder: an archive is unpacked unless
/// `unpack` is false, with one leading directory stripped unless `stripdirs`
/// says otherwise, into `unpackdir` or else a directory named like the file
/// (`rename` or the last URL segment). A git upstream is cloned into
/// `clonedir` or else a directory named like the last URL segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// A file fetched by URL (`http://`, `https://`, `file://` or a local
    /// path) and verified by its sha256.
    Archive {
        url: String,
        /// Expected sha256 of the file, hex.
        hash: String,
        /// Store and refer to the file under this name.
        rename: Option<String>,
        /// Unpack the archive (true) or just place the file (false).
        unpack: bool,
        /// Target directory, relative to the build directory.
        unpackdir: Option<PathBuf>,
        /// Leading path components dropped from every entry (default 1).
        stripdirs: Option<u8>,
    },
    /// A git repository at an exact ref (commit, tag or branch).
    Git {
        url: String,
        git_ref: String,
        /// Target directory, relative to the build directory.
        clonedir: Option<PathBuf>,
    },
}

impl Upstream {
    /// An archive with every property at its default.
    pub fn archive(url: impl Into<String>, hash: impl Into<String>) -> Self {
        Upstream::Archive {
            url: url.into(),
            hash: hash.into(),
            rename: None,
            unpack: true,
            unpackdir: None,
            stripdirs: None,
        }
    }

    /// A git upstream with the default clone directory.
    pub fn git(url: impl Into<String>, git_ref: impl Into<String>) -> Self {
        Upstream::Git {
            url: url.into(),
            git_ref: git_ref.into(),
            clonedir: None,
        }
    }

    /// The URL, as written in the recipe.
    pub fn url(&self) -> &str {
        match self {
            Upstream::Archive { url, .. } | Upstream::Git { url, .. } => url,
        }
    }

    /// The file name an archive is stored and shared under: `rename` or the
    /// last URL segment. For git, the default clone directory name.
    pub fn name(&self) -> Result<String, UpstreamError> {
        let explicit = match self {
            Upstream::Archive { rename, .. } => rename.as_deref(),
            Upstream::Git { .. } => None,
        };
        let name = match explicit {
            Some(name) => name.to_string(),
            None => last_url_segment(self.url()),
        };
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(UpstreamError::Invalid {
                url: self.url().to_string(),
                reason: format!(
                    "cannot derive a file name from `{name}`; give the upstream a `rename`"
                ),
            });
        }
        Ok(name)
    }

    /// Where the upstream lands, relative to the build directory.
    pub fn target_dir(&self) -> Result<PathBuf, UpstreamError> {
        let explicit = match self {
            Upstream::Archive { unpackdir, .. } => unpackdir.as_deref(),
            Upstream::Git { clonedir, .. } => clonedir.as_deref(),
        };
        let dir = match explicit {
            Some(dir) => dir.to_path_buf(),
            None => PathBuf::from(self.name()?),
        };
        check_relative(self.url(), &dir)?;
        Ok(dir)
    }
}

/// The last non-empty path segment of a URL or path, without query/fragment.
fn last_url_segment(url: &str) -> String {
    // With a scheme, the first segment is the host, never a file name.
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or("")
        .to_string()
}

/// A recipe-given directory must stay inside the build directory.
fn check_relative(url: &str, dir: &Path) -> Result<(), UpstreamError> {
    let bad = dir.as_os_str().is_empty()
        || dir
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if bad {
        return Err(UpstreamError::Invalid {
            url: url.to_string(),
            reason: format!(
                "target directory `{}` must be a relative path without `..`",
                dir.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_url_or_rename() {
        let up = Upstream::archive("https://h/a/b/foo-1.0.tar.xz?x=1", "00");
        assert_eq!(up.name().unwrap(), "foo-1.0.tar.xz");
        assert_eq!(up.target_dir().unwrap(), PathBuf::from("foo-1.0.tar.xz"));
        let git = Upstream::git("https://h/org/repo.git/", "v1");
        assert_eq!(git.name().unwrap(), "repo.git");
        let renamed = Upstream::Archive {
            url: "https://h/download".into(),
            hash: "00".into(),
            rename: Some("x.tar.gz".into()),
            unpack: true,
            unpackdir: Some("src/x".into()),
            stripdirs: None,
        };
        assert_eq!(renamed.name().unwrap(), "x.tar.gz");
        assert_eq!(renamed.target_dir().unwrap(), PathBuf::from("src/x"));
    }

    #[test]
    fn escaping_directories_are_refused() {
        let up = Upstream::Git {
            url: "file:///r".into(),
            git_ref: "main".into(),
            clonedir: Some("../out".into()),
        };
        assert!(up.target_dir().is_err());
        let slash = Upstream::archive("https://h/", "00");
        assert!(slash.name().is_err());
    }
}
