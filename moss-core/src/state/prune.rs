//! Removing old states, their archived trees, and the packages and store
//! assets no remaining state needs.
//!
//! Order matters for crash safety: state rows go first, then trees, then
//! packages, then assets; whatever a crash leaves behind is garbage the next
//! prune collects (archive folders without a state row included).

use std::collections::HashSet;
use std::fs;

use super::{io_err, remove_tree, StateError};
use crate::db::Database;
use crate::installation::Installation;
use crate::store::{ModeVariants, Store};

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub states: Vec<i64>,
    pub trees: usize,
    /// Bytes of files whose last link went with the removed trees.
    pub tree_bytes: u64,
    pub packages: usize,
    pub assets: usize,
    pub asset_bytes: u64,
    pub variants: usize,
    pub variant_bytes: u64,
}

/// Keeps the active state and the newest `keep - 1` others.
pub fn prune(
    inst: &Installation,
    db: &mut Database,
    store: &Store,
    variants: &ModeVariants,
    keep: usize,
) -> Result<PruneReport, StateError> {
    let mut report = PruneReport::default();
    let active = db.active_state()?;
    let mut others: Vec<i64> = db
        .state_ids()?
        .into_iter()
        .filter(|id| Some(*id) != active)
        .collect();
    others.sort_unstable_by(|a, b| b.cmp(a));
    let doomed: Vec<i64> = others.into_iter().skip(keep.saturating_sub(1)).collect();
    db.remove_states(&doomed)?;
    report.states = doomed;

    // Archived trees of states that no longer exist.
    let remaining: HashSet<i64> = db.state_ids()?.into_iter().collect();
    let states_dir = inst.states_dir();
    for entry in fs::read_dir(&states_dir).map_err(io_err("listing", &states_dir))? {
        let entry = entry.map_err(io_err("listing", &states_dir))?;
        let Ok(id) = entry.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        if remaining.contains(&id) {
            continue;
        }
        report.tree_bytes += last_link_bytes(&entry.path());
        remove_tree(&entry.path()).map_err(io_err("removing", &entry.path()))?;
        report.trees += 1;
    }

    // Packages no state selects, then assets no package refers to.
    let selected = db.selected_packages()?;
    let unused: Vec<String> = db
        .package_ids()?
        .into_iter()
        .filter(|id| !selected.contains(id))
        .collect();
    db.remove_packages(&unused)?;
    report.packages = unused.len();
    let referenced = db.referenced_digests()?;
    let assets = store
        .list()
        .map_err(|e| StateError::Inconsistent(crate::util::with_causes(&e)))?;
    for (digest, _) in assets {
        if !referenced.contains(&digest) {
            report.asset_bytes += store
                .remove(digest)
                .map_err(|e| StateError::Inconsistent(crate::util::with_causes(&e)))?;
            report.assets += 1;
        }
    }
    let dir = inst.mode_variants_dir();
    let (files, bytes) = variants
        .prune_unlinked()
        .map_err(io_err("pruning mode variants in", &dir))?;
    report.variants = files;
    report.variant_bytes = bytes;
    Ok(report)
}

/// Bytes of the regular files in a tree that nothing else links.
fn last_link_bytes(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.nlink() == 1)
        .map(|m| m.len())
        .sum()
}
