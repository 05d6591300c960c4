//! Downloads of remote indexes and stones (to a `.part` file, then renamed).
//! Swap for the repository module's fetcher once moss-core has one.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use super::RootError;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(120)))
        .http_status_as_error(true)
        .user_agent(concat!("boulder/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn repo_err(repo: &str, message: String) -> RootError {
    RootError::Repository {
        repo: repo.to_string(),
        message,
    }
}

/// The body of `url` as bytes (small documents: root indexes).
pub fn get_bytes(repo: &str, url: &str) -> Result<Vec<u8>, RootError> {
    let mut body = Vec::new();
    open(repo, url)?
        .read_to_end(&mut body)
        .map_err(|e| repo_err(repo, format!("reading {url}: {e}")))?;
    Ok(body)
}

/// Downloads `url` to `target` atomically.
pub fn download(repo: &str, url: &str, target: &Path) -> Result<(), RootError> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
    }
    let part = target.with_extension(format!("part.{}", std::process::id()));
    let result = (|| -> Result<(), RootError> {
        let mut reader = open(repo, url)?;
        let mut out = File::create(&part).map_err(RootError::io("creating", &part))?;
        io::copy(&mut reader, &mut out)
            .map_err(|e| repo_err(repo, format!("downloading {url}: {e}")))?;
        out.flush().map_err(RootError::io("writing", &part))?;
        fs::rename(&part, target).map_err(RootError::io("renaming into place", target))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn open(repo: &str, url: &str) -> Result<Box<dyn Read + Send>, RootError> {
    if let Some(path) = url.strip_prefix("file://") {
        let file = File::open(path).map_err(RootError::io("opening", path))?;
        return Ok(Box::new(file));
    }
    match agent().get(url).call() {
        Ok(response) => Ok(Box::new(response.into_body().into_reader())),
        Err(e) => Err(repo_err(repo, format!("fetching {url}: {e}"))),
    }
}
