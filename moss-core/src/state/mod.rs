//! States on disk: which state a `usr` tree holds (`usr/.stateID`), the
//! atomic swap of a tree with `ROOT/usr`, archiving, recovery of an
//! interrupted transaction, and pruning.

mod prune;
mod recovery;
pub mod release;
mod swap;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use prune::{prune, PruneReport};
pub use recovery::{recover, Recovery};
pub use swap::{exchange_or_rename, remove_tree};

use crate::db::DbError;
use crate::installation::STATE_ID_FILE;

/// Errors while moving trees between states.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{op} {path} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the root is inconsistent: {0}")]
    Inconsistent(String),
}

pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The state a `usr` tree belongs to; `None` when the tree or its marker is absent.
pub fn read_state_id(usr: &Path) -> Result<Option<i64>, StateError> {
    let path = usr.join(STATE_ID_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map(Some).map_err(|_| {
            StateError::Inconsistent(format!(
                "{} holds {:?}, not a state id",
                path.display(),
                text
            ))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("reading", &path)(e)),
    }
}

/// Marks a tree as belonging to `state`: the bare decimal id without a
/// newline, as the original moss writes it (and parses it: a trailing
/// newline makes it see no state at all). Reading accepts either form.
/// Written read-only, by a rename over an older marker.
pub fn write_state_id(usr: &Path, state: i64) -> Result<(), StateError> {
    release::write_read_only(usr, STATE_ID_FILE, &state.to_string())
}
