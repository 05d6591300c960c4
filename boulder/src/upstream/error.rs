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

    #[error(
        "upstream {url}: hash mismatch: the sha256 in {} belongs to the file previously fetched \
         from {previous_url}\n  recipe sha256:   {expected}\n  fetched sha256:  {actual}\n\
         the URL changed but the hash did not; if the new file is trusted, put its sha256 in the \
         recipe (`boulder recipe update` does both)",
        hash_at.as_deref().unwrap_or("the recipe")
    )]
    StaleHash {
        url: String,
        /// The recipe's hash: that of the file fetched from `previous_url`.
        expected: String,
        /// The hash of what `url` served.
        actual: String,
        previous_url: String,
        /// Where the hash is written (`stone.yaml:12`), when known.
        hash_at: Option<String>,
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
    /// Names where the recipe writes each stale hash: `at(url)` gives the
    /// place (`stone.yaml:12`) of the upstream with that URL.
    pub fn locate_hashes(self, at: &dyn Fn(&str) -> Option<String>) -> UpstreamError {
        match self {
            UpstreamError::StaleHash {
                url,
                expected,
                actual,
                previous_url,
                hash_at,
            } => UpstreamError::StaleHash {
                hash_at: hash_at.or_else(|| at(&url)),
                url,
                expected,
                actual,
                previous_url,
            },
            UpstreamError::Several(errors) => {
                UpstreamError::Several(errors.into_iter().map(|e| e.locate_hashes(at)).collect())
            }
            other => other,
        }
    }

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
