//! Repositories behind a root index, as AerynOS publishes them:
//! `<base-uri>/<channel>/moss-root-index.json` names, for each stream and
//! tag, a history and its format; the index of a history is
//! `<base-uri>/<channel>/history/<history>/<arch>/stone.index`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::config::RootIndexSource;
use super::error::RepoError;
use crate::fetch;
use crate::fetch::uri::Location;

#[derive(Debug, Deserialize)]
struct RootIndex {
    #[serde(default)]
    streams: BTreeMap<String, Pointer>,
    #[serde(default)]
    tags: BTreeMap<String, Pointer>,
    #[serde(default)]
    history: BTreeMap<String, History>,
}

#[derive(Debug, Deserialize)]
struct Pointer {
    format: String,
    history: String,
}

#[derive(Debug, Deserialize)]
struct History {
    format: String,
}

/// Index formats this moss reads.
const FORMATS: [&str; 2] = ["legacy", "v0"];

/// Fetches the root index (into `scratch`, a file of the repository's cache)
/// and returns the index location `source.version` names today.
pub fn resolve(
    repo: &str,
    source: &RootIndexSource,
    root: &Path,
    scratch: &Path,
) -> Result<Location, RepoError> {
    let bad = |reason: String| RepoError::Config {
        path: scratch.to_path_buf(),
        reason: format!("repository {repo}: {reason}"),
    };
    let channel = format!(
        "{}/{}",
        source.base_uri.trim_end_matches('/'),
        source.channel
    );
    let url = format!("{channel}/moss-root-index.json");
    fetch::fetch_file(&Location::parse(&url, root), scratch).map_err(|e| RepoError::Fetch {
        repo: repo.to_string(),
        source: e,
    })?;
    let body = fs::read(scratch).map_err(RepoError::io("reading", scratch))?;
    let index: RootIndex = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("{url} is not a root index: {e}")))?;
    let (format, history) = match source.version.split_once('/') {
        Some(("stream", id)) => index
            .streams
            .get(id)
            .map(|p| (p.format.as_str(), p.history.as_str())),
        Some(("tag", id)) => index
            .tags
            .get(id)
            .map(|p| (p.format.as_str(), p.history.as_str())),
        Some(("history", id)) => index.history.get(id).map(|h| (h.format.as_str(), id)),
        _ => {
            return Err(bad(format!(
                "version `{}` is not stream/…, tag/… or history/…",
                source.version
            )))
        }
    }
    .ok_or_else(|| bad(format!("{url} has no `{}`", source.version)))?;
    if !FORMATS.contains(&format) {
        return Err(bad(format!("unsupported repository format `{format}`")));
    }
    let index_url = format!("{channel}/history/{history}/{}/stone.index", source.arch);
    Ok(Location::parse_index(&index_url, root))
}
