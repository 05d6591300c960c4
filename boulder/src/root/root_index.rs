//! AerynOS root indexes: `<base-uri>/<channel>/moss-root-index.json` maps a
//! stream or tag to a history, whose index is
//! `<base-uri>/<channel>/history/<history>/<arch>/stone.index`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::profile::RepositorySpec;
use super::{fetch, RootError};

#[derive(Debug, Deserialize)]
struct RootIndex {
    #[serde(default)]
    streams: BTreeMap<String, Entry>,
    #[serde(default)]
    tags: BTreeMap<String, Entry>,
    #[serde(default)]
    history: BTreeMap<String, HistoryEntry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    format: String,
    history: String,
}

#[derive(Debug, Deserialize)]
struct HistoryEntry {
    format: String,
}

const FORMATS: [&str; 2] = ["legacy", "v0"];

/// The index URL that `spec`'s version names today.
pub fn resolve(spec: &RepositorySpec) -> Result<String, RootError> {
    let err = |message: String| RootError::Repository {
        repo: spec.name.clone(),
        message,
    };
    let base = spec
        .base_uri
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let channel_url = format!("{base}/{}", spec.channel);
    let url = format!("{channel_url}/moss-root-index.json");
    let body = fetch::get_bytes(&spec.name, &url)?;
    let index: RootIndex = serde_json::from_slice(&body)
        .map_err(|e| err(format!("{url} is not a root index: {e}")))?;
    let version = spec.version.as_deref().unwrap_or_default();
    let (format, history) = match version.split_once('/') {
        Some(("stream", id)) => index
            .streams
            .get(id)
            .map(|e| (e.format.clone(), e.history.clone())),
        Some(("tag", id)) => index
            .tags
            .get(id)
            .map(|e| (e.format.clone(), e.history.clone())),
        Some(("history", id)) => index
            .history
            .get(id)
            .map(|e| (e.format.clone(), id.to_string())),
        _ => {
            return Err(err(format!(
                "version `{version}` is not stream/…, tag/… or history/…"
            )))
        }
    }
    .ok_or_else(|| err(format!("{url} has no `{version}`")))?;
    if !FORMATS.contains(&format.as_str()) {
        return Err(err(format!("unsupported repository format `{format}`")));
    }
    Ok(format!(
        "{channel_url}/history/{history}/{}/stone.index",
        spec.arch
    ))
}
