//! Typed errors; each names the upstream's URL so it can be shown as is.

use std::path::PathBuf;

use thiserror::Error;

/// Why an upstream could not be fetched, verified or extracted.
#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("upstream {url}: {reason}")]
    Invalid { url: String, reason: String },

    #[error("upstream {url}: unsupported URL scheme `{scheme}` (use http://, https://, file:// or a local path)")]
    UnsupportedScheme { url: String, scheme: String },

    #[error(
        "upstream {url}: hash mismatch\n  expected sha256: {expected}\n  actual sha256:   {actual}\n\
         the download was discarded; if the new file is trusted, put the actual hash in the recipe"
    )]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
    },

    #[error("upstream {url}: the server answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },

    #[error("upstream {url}: download failed: {reason}")]
    Download { url: String, reason: String },

    #[error("upstream {url}: cannot {action} {}: {error}", path.display())]
    Io {
        url: String,
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("upstream {url}: `{name}` is not an archive boulder can unpack (tar, tar.gz, tar.xz, tar.zst, tar.bz2, tar.lz or zip); set `unpack: false` to use it as a plain file")]
    UnknownFormat { url: String, name: String },

    #[error("upstream {url}: archive `{name}` is corrupt: {reason}")]
    CorruptArchive {
        url: String,
        name: String,
        reason: String,
    },

    #[error("upstream {url}: refusing archive entry `{entry}`: {reason}")]
    UnsafeEntry {
        url: String,
        entry: String,
        reason: String,
    },

    #[error("git upstream {url}: `git {command}` failed: {detail}")]
    Git {
        url: String,
        command: String,
        detail: String,
    },

    #[error("git upstream {url}: ref `{git_ref}` does not exist in the repository")]
    GitRefNotFound { url: String, git_ref: String },

    #[error("{} upstreams failed:\n{}", .0.len(), list(.0))]
    Several(Vec<UpstreamError>),
}

impl UpstreamError {
    /// Combine the failures of several upstreams: one stays itself.
    pub(crate) fn combine(mut errors: Vec<UpstreamError>) -> Option<UpstreamError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(UpstreamError::Several(errors)),
        }
    }
}

fn list(errors: &[UpstreamError]) -> String {
    errors
        .iter()
        .map(|e| format!("- {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}
