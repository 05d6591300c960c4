//! Typed errors of repository handling.

use std::io;
use std::path::PathBuf;

use crate::stone::StoneError;

/// Everything that can go wrong indexing, configuring or refreshing a repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{op} {path} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the stone {path}")]
    Stone {
        path: PathBuf,
        #[source]
        source: StoneError,
    },
    #[error("{path} is a {found} stone, expected a {expected} stone")]
    WrongType {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("two files with the same release of {name} ({release}): {first} and {second}")]
    DuplicateRelease {
        name: String,
        release: u64,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("no repository is named {0}")]
    UnknownRepository(String),
    #[error("repository {repo}: fetching its index failed")]
    Fetch {
        repo: String,
        #[source]
        source: crate::fetch::FetchError,
    },
    #[error("repository cache {path}: {reason}")]
    Cache { path: PathBuf, reason: String },
    #[error("repository configuration {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: package {name} lacks {field}, which every index entry needs")]
    IncompleteEntry {
        path: PathBuf,
        name: String,
        field: &'static str,
    },
    #[error("{path}: an index entry cannot be used")]
    UnsafeName {
        path: PathBuf,
        #[source]
        source: crate::name::NameError,
    },
    #[error("{path}: package {name} has the hash `{hash}`, not 64 hexadecimal digits")]
    BadHash {
        path: PathBuf,
        name: String,
        hash: String,
    },
}

impl RepoError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| RepoError::Io { op, path, source }
    }
}
