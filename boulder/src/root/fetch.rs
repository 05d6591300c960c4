//! Downloads of remote indexes and stones, through moss-core's fetcher
//! (HTTP or local paths, written to a `.part` file, then renamed).

use std::fs;
use std::path::{Path, PathBuf};

use moss_core::fetch::fetch_file;
use moss_core::fetch::uri::Location;

use super::RootError;

fn location(url: &str) -> Location {
    match url.strip_prefix("file://") {
        Some(path) => Location::Local(PathBuf::from(path)),
        None => Location::Http(url.to_string()),
    }
}

/// The body of `url` as bytes (small documents: root indexes).
pub fn get_bytes(repo: &str, url: &str) -> Result<Vec<u8>, RootError> {
    let dir = tempfile::tempdir().map_err(RootError::io("creating", std::env::temp_dir()))?;
    let target = dir.path().join("body");
    download(repo, url, &target)?;
    fs::read(&target).map_err(RootError::io("reading", &target))
}

/// Downloads `url` to `target` atomically.
pub fn download(repo: &str, url: &str, target: &Path) -> Result<(), RootError> {
    fetch_file(&location(url), target)
        .map(drop)
        .map_err(|e| RootError::Repository {
            repo: repo.to_string(),
            message: format!("fetching {url}: {e}"),
        })
}
