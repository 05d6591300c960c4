//! Finishing or undoing a transaction a crash interrupted.
//!
//! The journal in the state database says which state was on its way in and
//! which was live before. `ROOT/usr/.stateID` says which tree is live now:
//! the swap is one `renameat2`, so it is exactly one of the two. If the new
//! tree is live, the remaining steps (archive the old tree, record the new
//! state as active) are finished; otherwise everything the transaction made
//! is removed and the old state stays.

use std::fs;

use super::{io_err, read_state_id, remove_tree, StateError};
use crate::db::{Database, Journal};
use crate::installation::Installation;
use crate::store::Store;

/// What recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing was interrupted.
    Clean,
    /// The interrupted transaction's new state was live; it was completed.
    Finished(Journal),
    /// The swap had not happened; the transaction was undone.
    RolledBack(Journal),
}

/// Brings the root to a consistent state. Call with the root lock held.
pub fn recover(
    inst: &Installation,
    db: &mut Database,
    store: &Store,
) -> Result<Recovery, StateError> {
    store
        .recover_temporaries()
        .map_err(|e| StateError::Inconsistent(crate::util::with_causes(&e)))?;
    let staging = inst.staging_dir();
    let Some(journal) = db.journal()? else {
        remove_tree(&staging).map_err(io_err("removing", &staging))?;
        return Ok(Recovery::Clean);
    };
    let live = read_state_id(&inst.usr())?;
    let source = if journal.new_state_created {
        staging.join("usr")
    } else {
        inst.archive_dir(journal.new_state).join("usr")
    };
    let outcome = if live == Some(journal.new_state) {
        // The swap happened: `source` holds the old tree, if it was not archived yet.
        if fs::symlink_metadata(&source).is_ok() {
            let held = read_state_id(&source)?;
            match journal.old_state {
                Some(old) if held == Some(old) => {
                    let archive = inst.archive_dir(old);
                    remove_tree(&archive).map_err(io_err("removing", &archive))?;
                    fs::create_dir_all(&archive).map_err(io_err("creating", &archive))?;
                    let to = archive.join("usr");
                    fs::rename(&source, &to).map_err(io_err("archiving", &to))?;
                }
                _ if journal.new_state_created => {
                    remove_tree(&source).map_err(io_err("removing", &source))?
                }
                _ => {}
            }
        }
        if !journal.new_state_created {
            let _ = fs::remove_dir(inst.archive_dir(journal.new_state));
        }
        db.commit_journal(&journal)?;
        Recovery::Finished(journal)
    } else if live == journal.old_state {
        db.abort_journal(&journal)?;
        Recovery::RolledBack(journal)
    } else {
        return Err(StateError::Inconsistent(format!(
            "an interrupted transaction moved from state {:?} to {}, but the live tree is state {:?}",
            journal.old_state, journal.new_state, live
        )));
    };
    remove_tree(&staging).map_err(io_err("removing", &staging))?;
    Ok(outcome)
}
