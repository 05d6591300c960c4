//! Typed errors of fetching.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{label}: the download from {from} has sha256 {actual}, but the repository index says {expected}; it was refused")]
    HashMismatch {
        label: String,
        from: String,
        expected: String,
        actual: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("downloading {url} failed: {reason}")]
    Transfer { url: String, reason: String },
    #[error("{url} sent more than the {expected} bytes the index announces")]
    TooLarge { url: String, expected: u64 },
    #[error("{label}: {reason}")]
    Local { label: String, reason: String },
    #[error("{op} {path} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cancelled after another download failed")]
    Cancelled,
}

impl FetchError {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        FetchError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
